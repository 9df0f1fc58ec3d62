/*
 * component.c - loading and unloading component shared objects (NSPR).
 *
 * The registry calls component_load() the first time a class of a
 * component is created. Loading is where untrusted code meets the registry,
 * so it checks everything before any of the component's code besides its
 * entry function runs: the entry symbol exists, its table has our ABI
 * version, and the table names the same component and the same classes as
 * the manifest that advertised them. Only then is init called, typelibs
 * registered and factories filled in. Any failure leaves the component
 * unloaded; the next creation tries again.
 *
 * Unloading happens only when the registry is destroyed, in reverse load
 * order (a component loaded later may use one loaded earlier).
 */
#include <stdio.h>
#include <string.h>

#include <prerror.h>
#include <prlink.h>

#include <capsule/mem.h>
#include <capsule/uuid.h>
#include <capsule/xptcall.h>

#include "objmodel_internal.h"

static cap_result load_error(struct reg_component *comp, cap_result rc, const char *what)
{
    return cap_error_set(rc, OBJMODEL_COMPONENT, NULL, "component '%s' (%s:%d, %s): %s", comp->name,
                         comp->manifest, comp->line, comp->path, what);
}

/* The NSPR error text of the last failure, in a buffer of `size`. */
static const char *nspr_error(char *buf, size_t size)
{
    PRInt32 len = PR_GetErrorTextLength();
    if (len <= 0 || (size_t)len >= size)
        snprintf(buf, size, "NSPR error %d (OS error %d)", (int)PR_GetError(),
                 (int)PR_GetOSError());
    else
        PR_GetErrorText(buf);
    return buf;
}

static int str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* The entry-table class matching a manifest class exactly, or NULL. */
static const struct cap_component_class *table_class(const struct cap_component *entry,
                                                     const struct reg_class *cls)
{
    for (uint32_t i = 0; i < entry->n_classes; i++) {
        const struct cap_component_class *c = &entry->classes[i];
        if (c->clsid && cap_uuid_equal(c->clsid, &cls->clsid) &&
            str_eq(c->contract, cls->contract) && str_eq(c->name, cls->name) && c->create)
            return c;
    }
    return NULL;
}

/* Checks the entry table against the manifest's view of the component. */
static cap_result check_table(struct cap_registry *reg, struct reg_component *comp,
                              const struct cap_component *entry)
{
    char msg[400];
    if (entry->abi != CAP_COMPONENT_ABI) {
        snprintf(msg, sizeof(msg), "entry table has ABI version %u, this runtime needs %u",
                 entry->abi, CAP_COMPONENT_ABI);
        return load_error(comp, CAP_E_BAD_COMPONENT, msg);
    }
    if (!str_eq(entry->name, comp->name)) {
        snprintf(msg, sizeof(msg), "entry table names component '%.100s', the manifest '%.100s'",
                 entry->name ? entry->name : "(null)", comp->name);
        return load_error(comp, CAP_E_BAD_COMPONENT, msg);
    }
    if (entry->n_classes && !entry->classes)
        return load_error(comp, CAP_E_BAD_COMPONENT, "entry table has no class array");
    uint32_t n_manifest = 0;
    for (size_t i = 0; i < reg->n_classes; i++) {
        const struct reg_class *cls = reg->classes[i];
        if (cls->comp != comp)
            continue;
        n_manifest++;
        if (!table_class(entry, cls)) {
            snprintf(msg, sizeof(msg), "entry table lacks %s (or its factory)",
                     registry_describe(cls));
            return load_error(comp, CAP_E_BAD_COMPONENT, msg);
        }
    }
    if (n_manifest != entry->n_classes) {
        snprintf(msg, sizeof(msg), "entry table has %u classes, the manifest %u", entry->n_classes,
                 n_manifest);
        return load_error(comp, CAP_E_BAD_COMPONENT, msg);
    }
    return CAP_OK;
}

/* Runs init and registers the typelibs; undoes both on failure. */
static cap_result start_component(struct cap_registry *reg, struct reg_component *comp,
                                  const struct cap_component *entry)
{
    cap_result rc = CAP_OK;
    comp->loading = 1;
    if (entry->init)
        rc = entry->init(reg, &comp->ctx);
    comp->loading = 0;
    if (CAP_FAILED(rc)) {
        char msg[512];
        const char *why = cap_error_peek_message();
        snprintf(msg, sizeof(msg), "init failed with %s%s%.400s", cap_result_name(rc),
                 why ? ": " : "", why ? why : "");
        comp->ctx = NULL;
        return load_error(comp, CAP_E_COMPONENT_LOAD, msg);
    }
    for (uint32_t i = 0; i < entry->n_typelibs; i++) {
        rc = entry->typelibs ? cap_typelib_register(entry->typelibs[i]) : CAP_E_POINTER;
        if (CAP_FAILED(rc)) {
            while (i-- > 0)
                typelib_unregister(entry->typelibs[i]);
            if (entry->shutdown)
                entry->shutdown(comp->ctx);
            comp->ctx = NULL;
            return load_error(comp, CAP_E_BAD_COMPONENT, "cannot register its typelibs");
        }
    }
    comp->n_typelibs_registered = entry->n_typelibs;
    return CAP_OK;
}

cap_result component_load(struct cap_registry *reg, struct reg_component *comp)
{
    char buf[512];
    if (comp->entry)
        return CAP_OK;
    if (comp->loading)
        return load_error(comp, CAP_E_UNEXPECTED,
                          "a class was created during the component's init");
    PRLibSpec spec = {.type = PR_LibSpec_Pathname};
    spec.value.pathname = comp->path;
    PRLibrary *lib = PR_LoadLibraryWithFlags(spec, PR_LD_NOW | PR_LD_LOCAL);
    if (!lib)
        return load_error(comp, CAP_E_COMPONENT_LOAD, nspr_error(buf, sizeof(buf)));
    cap_result rc;
    cap_component_entry_fn fn =
        (cap_component_entry_fn)PR_FindFunctionSymbol(lib, CAP_COMPONENT_ENTRY_SYMBOL);
    const struct cap_component *entry = fn ? fn() : NULL;
    if (!fn) {
        rc = load_error(comp, CAP_E_COMPONENT_LOAD,
                        "the library does not export " CAP_COMPONENT_ENTRY_SYMBOL);
        goto fail;
    }
    if (!entry) {
        rc = load_error(comp, CAP_E_BAD_COMPONENT, CAP_COMPONENT_ENTRY_SYMBOL " returned NULL");
        goto fail;
    }
    if (CAP_FAILED(rc = check_table(reg, comp, entry)) ||
        CAP_FAILED(rc = start_component(reg, comp, entry)))
        goto fail;
    for (size_t i = 0; i < reg->n_classes; i++) {
        struct reg_class *cls = reg->classes[i];
        if (cls->comp == comp) {
            cls->create = table_class(entry, cls)->create;
            cls->ctx = comp->ctx;
        }
    }
    comp->lib = lib;
    comp->entry = entry;
    comp->next_loaded = reg->loaded;
    reg->loaded = comp;
    return CAP_OK;
fail:
    PR_UnloadLibrary(lib);
    return rc;
}

void component_unload(struct reg_component *comp)
{
    if (!comp->entry)
        return;
    if (comp->entry->shutdown)
        comp->entry->shutdown(comp->ctx);
    /* The tables are about to be unmapped: drop every cache keyed on them. */
    for (uint32_t i = comp->n_typelibs_registered; i-- > 0;) {
        cap_xpt_forget_typelib(comp->entry->typelibs[i]);
        typelib_unregister(comp->entry->typelibs[i]);
    }
    comp->n_typelibs_registered = 0;
    comp->entry = NULL;
    comp->ctx = NULL;
    PR_UnloadLibrary(comp->lib);
    comp->lib = NULL;
}

void component_free(struct reg_component *comp)
{
    if (!comp)
        return;
    cap_str_free(comp->name);
    cap_str_free(comp->path);
    cap_str_free(comp->manifest);
    cap_free(comp);
}
