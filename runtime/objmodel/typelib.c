/*
 * typelib.c - the builtin ISupports table and the process's typelib set
 * (capsule/typelib.h).
 *
 * Typelibs are constant tables written by capsule-idlc (or by hand, for
 * tests). This file keeps the list of registered ones so that dynamic calls,
 * proxies, IPC and cap_result_name() can find an interface by IID or name
 * and a result code's name without knowing any IDL. The list is
 * process-wide by contract (a typelib describes types, not state), guarded
 * by one mutex; registrations are counted so that a component that
 * registered a typelib can drop it before its shared object is unloaded
 * without removing a registration someone else made.
 */
#include <string.h>

#include <capsule/mem.h>
#include <capsule/supports.h>
#include <capsule/typelib.h>
#include <capsule/uuid.h>

#include "objmodel_internal.h"

/* ---- ISupports ---------------------------------------------------------- */

static const struct cap_tl_param qi_params[] = {
    {.name = "iid", .type = CAP_TLT_UUID, .dir = CAP_TLD_IN},
    {.name = "out", .type = CAP_TLT_IFACE, .dir = CAP_TLD_RETURN, .iface = &cap_tl_ISupports},
};

static const struct cap_tl_param count_params[] = {
    {.name = "count", .type = CAP_TLT_ULONG, .dir = CAP_TLD_RETURN},
};

static const struct cap_tl_method isupports_methods[] = {
    {.name = "QueryInterface",
     .idl_name = "QueryInterface",
     .kind = CAP_TLM_METHOD,
     .n_params = 2,
     .params = qi_params},
    {.name = "AddRef",
     .idl_name = "AddRef",
     .kind = CAP_TLM_METHOD,
     .flags = CAP_TLM_BUILTIN,
     .n_params = 1,
     .params = count_params},
    {.name = "Release",
     .idl_name = "Release",
     .kind = CAP_TLM_METHOD,
     .flags = CAP_TLM_BUILTIN,
     .n_params = 1,
     .params = count_params},
};

CAP_EXPORT const struct cap_tl_iface cap_tl_ISupports = {
    .name = "ISupports",
    .iid = &IID_ISupports,
    .base = NULL,
    .first_own = 0,
    .n_own = 3,
    .own = isupports_methods,
};

/* ---- table walks -------------------------------------------------------- */

/* Bound on inheritance depth, so a malformed hand-written table with a
 * cycle in `base` cannot loop forever. */
#define MAX_IFACE_DEPTH 64

CAP_EXPORT const struct cap_tl_method *cap_tl_method_at(const struct cap_tl_iface *tl,
                                                        uint32_t index)
{
    for (int depth = 0; tl && depth < MAX_IFACE_DEPTH; depth++, tl = tl->base) {
        if (index >= (uint32_t)tl->first_own + tl->n_own)
            return NULL;
        if (index >= tl->first_own)
            return &tl->own[index - tl->first_own];
    }
    return NULL;
}

CAP_EXPORT int cap_tl_iface_is_a(const struct cap_tl_iface *tl, const cap_uuid *iid)
{
    if (!iid)
        return 0;
    for (int depth = 0; tl && depth < MAX_IFACE_DEPTH; depth++, tl = tl->base)
        if (tl->iid && cap_uuid_equal(tl->iid, iid))
            return 1;
    return 0;
}

/* ---- the registered set ------------------------------------------------- */

struct tl_entry {
    const struct cap_typelib *lib;
    uint32_t count;
};

static pthread_mutex_t tl_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tl_entry *tl_entries;
static size_t tl_n, tl_cap;

CAP_EXPORT cap_result cap_typelib_register(const struct cap_typelib *lib)
{
    if (!lib)
        return CAP_E_POINTER;
    cap_result rc = CAP_OK;
    pthread_mutex_lock(&tl_lock);
    for (size_t i = 0; i < tl_n; i++) {
        if (tl_entries[i].lib == lib) {
            tl_entries[i].count++;
            goto out;
        }
    }
    if (tl_n == tl_cap) {
        size_t ncap = tl_cap ? tl_cap * 2 : 8;
        struct tl_entry *n = cap_realloc(tl_entries, ncap * sizeof(*n));
        if (!n) {
            rc = CAP_E_OUTOFMEMORY;
            goto out;
        }
        tl_entries = n;
        tl_cap = ncap;
    }
    tl_entries[tl_n++] = (struct tl_entry){lib, 1};
out:
    pthread_mutex_unlock(&tl_lock);
    return rc;
}

void typelib_unregister(const struct cap_typelib *lib)
{
    pthread_mutex_lock(&tl_lock);
    for (size_t i = 0; i < tl_n; i++) {
        if (tl_entries[i].lib != lib)
            continue;
        if (--tl_entries[i].count == 0) {
            memmove(&tl_entries[i], &tl_entries[i + 1], (tl_n - i - 1) * sizeof(*tl_entries));
            tl_n--;
        }
        break;
    }
    if (tl_n == 0) {
        /* Nothing left: give the memory back so leak checkers see none. */
        cap_free(tl_entries);
        tl_entries = NULL;
        tl_cap = 0;
    }
    pthread_mutex_unlock(&tl_lock);
}

/* Calls match(iface, key) on every interface of every registered typelib,
 * newest registration first; returns the first match. */
static const struct cap_tl_iface *
find_iface(int (*match)(const struct cap_tl_iface *, const void *), const void *key)
{
    if (match(&cap_tl_ISupports, key))
        return &cap_tl_ISupports;
    const struct cap_tl_iface *hit = NULL;
    pthread_mutex_lock(&tl_lock);
    for (size_t i = tl_n; i-- > 0 && !hit;) {
        const struct cap_typelib *lib = tl_entries[i].lib;
        for (uint32_t j = 0; j < lib->n_ifaces && !hit; j++)
            if (lib->ifaces[j] && match(lib->ifaces[j], key))
                hit = lib->ifaces[j];
    }
    pthread_mutex_unlock(&tl_lock);
    return hit;
}

static int match_iid(const struct cap_tl_iface *tl, const void *key)
{
    return tl->iid && cap_uuid_equal(tl->iid, key);
}

static int match_name(const struct cap_tl_iface *tl, const void *key)
{
    return tl->name && strcmp(tl->name, key) == 0;
}

CAP_EXPORT const struct cap_tl_iface *cap_typelib_find_iface(const cap_uuid *iid)
{
    return iid ? find_iface(match_iid, iid) : NULL;
}

CAP_EXPORT const struct cap_tl_iface *cap_typelib_find_iface_by_name(const char *name)
{
    return name ? find_iface(match_name, name) : NULL;
}

const char *typelib_result_name(cap_result rc)
{
    const char *name = NULL;
    pthread_mutex_lock(&tl_lock);
    for (size_t i = tl_n; i-- > 0 && !name;) {
        const struct cap_typelib *lib = tl_entries[i].lib;
        for (uint32_t j = 0; j < lib->n_results && !name; j++)
            if (lib->results[j].value == rc)
                name = lib->results[j].name;
    }
    pthread_mutex_unlock(&tl_lock);
    return name;
}
