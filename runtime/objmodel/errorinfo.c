/*
 * errorinfo.c - the per-thread error info slot (capsule/errorinfo.h).
 *
 * Each thread that ever sets error info gets one heap record, found through
 * a pthread key. The key's destructor frees the record when the thread
 * exits, so threads that fail and exit without fetching their error info
 * leak nothing (LeakSanitizer checks this in the tests). The key itself is
 * created once per process on first use; it is the only process-wide state
 * here and holds no data of its own.
 *
 * The main thread's record is not freed by the destructor at exit(); it
 * stays reachable through the key, and a program that wants a clean slate
 * calls cap_error_clear().
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/result.h>

#include "objmodel_internal.h"

struct error_slot {
    int set; /* 0: no error info */
    struct cap_error_info info;
};

static pthread_key_t slot_key;
static pthread_once_t slot_once = PTHREAD_ONCE_INIT;
static int slot_key_ok;

static void slot_destroy(void *p)
{
    struct error_slot *slot = p;
    cap_error_info_clear(&slot->info);
    cap_free(slot);
}

static void slot_key_create(void)
{
    slot_key_ok = pthread_key_create(&slot_key, slot_destroy) == 0;
}

/* The calling thread's slot; created if `create`. NULL if there is none or
 * memory ran out. */
static struct error_slot *slot_get(int create)
{
    pthread_once(&slot_once, slot_key_create);
    if (!slot_key_ok)
        return NULL;
    struct error_slot *slot = pthread_getspecific(slot_key);
    if (slot || !create)
        return slot;
    slot = cap_alloc_zero(sizeof(*slot));
    if (slot && pthread_setspecific(slot_key, slot) != 0) {
        cap_free(slot);
        slot = NULL;
    }
    return slot;
}

CAP_EXPORT void cap_error_info_clear(struct cap_error_info *info)
{
    if (!info)
        return;
    cap_str_free(info->message);
    cap_str_free(info->component);
    cap_str_free(info->iface);
    memset(info, 0, sizeof(*info));
}

CAP_EXPORT void cap_error_clear(void)
{
    struct error_slot *slot = slot_get(0);
    if (!slot)
        return;
    /* Free the record itself too, so a thread that clears leaves nothing. */
    pthread_setspecific(slot_key, NULL);
    slot_destroy(slot);
}

/* Installs an already-allocated record, taking ownership of its strings. */
static void slot_install(struct cap_error_info *info)
{
    struct error_slot *slot = slot_get(1);
    if (!slot) {
        cap_error_info_clear(info);
        return;
    }
    cap_error_info_clear(&slot->info);
    slot->info = *info;
    slot->set = 1;
}

CAP_EXPORT cap_result cap_error_set(cap_result rc, const char *component, const char *iface,
                                    const char *fmt, ...)
{
    struct cap_error_info info = {.result = rc};
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len >= 0 && (info.message = cap_alloc((size_t)len + 1)) != NULL) {
        va_start(ap, fmt);
        vsnprintf(info.message, (size_t)len + 1, fmt, ap);
        va_end(ap);
    }
    info.component = cap_str_dup(component);
    info.iface = cap_str_dup(iface);
    slot_install(&info);
    return rc;
}

CAP_EXPORT cap_result cap_error_set_info(const struct cap_error_info *in)
{
    if (!in)
        return CAP_E_POINTER;
    struct cap_error_info info = {
        .result = in->result,
        .message = cap_str_dup(in->message),
        .component = cap_str_dup(in->component),
        .iface = cap_str_dup(in->iface),
    };
    if ((in->message && !info.message) || (in->component && !info.component) ||
        (in->iface && !info.iface)) {
        cap_error_info_clear(&info);
        return CAP_E_OUTOFMEMORY;
    }
    slot_install(&info);
    return CAP_OK;
}

CAP_EXPORT cap_result cap_error_take(struct cap_error_info *out)
{
    if (!out)
        return CAP_E_POINTER;
    memset(out, 0, sizeof(*out));
    struct error_slot *slot = slot_get(0);
    if (!slot || !slot->set)
        return CAP_FALSE_RESULT;
    *out = slot->info;
    memset(&slot->info, 0, sizeof(slot->info));
    pthread_setspecific(slot_key, NULL);
    cap_free(slot);
    return CAP_OK;
}

CAP_EXPORT const char *cap_error_peek_message(void)
{
    struct error_slot *slot = slot_get(0);
    return slot && slot->set ? slot->info.message : NULL;
}
