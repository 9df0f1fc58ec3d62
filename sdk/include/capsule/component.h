/*
 * capsule/component.h - what a component shared object exports.
 *
 * A component is a shared object in a components folder plus a manifest
 * beside it (see capsule/registry.h for the manifest format). The registry
 * reads the manifests at start-up and loads a component's shared object only
 * when one of its classes is first created. The shared object exports ONE
 * symbol, CAP_COMPONENT_ENTRY_SYMBOL, a function returning a constant
 * `struct cap_component` table; nothing else is looked up, and nothing runs
 * at load time (no constructors): the table is the registration.
 *
 *     static const struct cap_component_class classes[] = {
 *         {&CLSID_Host, "@capsule.org/host;1", "Host", host_create},
 *     };
 *     static const struct cap_component component = {
 *         .abi = CAP_COMPONENT_ABI, .name = "host",
 *         .n_classes = 1, .classes = classes,
 *     };
 *     CAP_COMPONENT_DEFINE(component)
 *
 * The loader checks that `abi` is CAP_COMPONENT_ABI and that the table
 * names the same component and exactly the same classes (CID, contract ID,
 * name) as the manifest; any difference makes every class of the component
 * fail with CAP_E_BAD_COMPONENT.
 */
#ifndef CAPSULE_COMPONENT_H
#define CAPSULE_COMPONENT_H

#include <capsule/typelib.h>
#include <capsule/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct cap_registry;

/* Version of struct cap_component; a manifest's abi="" must match it too. */
#define CAP_COMPONENT_ABI 1u

#define CAP_COMPONENT_ENTRY_SYMBOL "capsule_component_entry"

/*
 * A factory: creates a new object and returns its `iid` interface in *out
 * (AddRef'ed; the caller owns that reference). `ctx` is the context given at
 * registration (in-process classes) or the one the component's init
 * returned (components). `reg` is the registry the request came through, so
 * the object can create its own collaborators without any global. On failure
 * *out is NULL and error info says why.
 */
typedef cap_result (*cap_create_fn)(struct cap_registry *reg, void *ctx, const cap_uuid *iid,
                                    void **out);

struct cap_component_class {
    const cap_uuid *clsid;
    const char *contract; /* "@capsule.org/host;1" */
    const char *name;     /* "Host" */
    cap_create_fn create;
};

struct cap_component {
    uint32_t abi; /* CAP_COMPONENT_ABI; always the first field */
    const char *name;
    uint32_t n_classes;
    const struct cap_component_class *classes;
    /* Optional: called once after loading, before the first create; *ctx is
     * handed to every create and to shutdown. A failure fails the load. */
    cap_result (*init)(struct cap_registry *reg, void **ctx);
    /* Optional: called once before unloading (registry destroy). */
    void (*shutdown)(void *ctx);
    /* Optional: typelibs registered after init and unregistered before
     * unloading. */
    uint32_t n_typelibs;
    const struct cap_typelib *const *typelibs;
};

typedef const struct cap_component *(*cap_component_entry_fn)(void);

/* Defines the entry symbol returning `table` (a struct cap_component). */
#define CAP_COMPONENT_DEFINE(table)                                                                \
    CAP_EXPORT const struct cap_component *capsule_component_entry(void);                          \
    CAP_EXPORT const struct cap_component *capsule_component_entry(void)                           \
    {                                                                                              \
        return &(table);                                                                           \
    }

#ifdef __cplusplus
}
#endif

#endif /* CAPSULE_COMPONENT_H */
