/*
 * capsule/registry.h - the registry: class IDs and contract IDs to factories.
 *
 * A registry maps each class, known by its class ID (CID) and its contract
 * ID ("@capsule.org/session;1"), to a factory. Classes come from two places:
 *  - in-process classes, registered by the program with
 *    cap_registry_register_class();
 *  - components: shared objects described by manifests in a components
 *    folder, read by cap_registry_load_manifests(). A component's shared
 *    object is loaded (NSPR) on the first creation of one of its classes and
 *    unloaded when the registry is destroyed.
 *
 * There is no hidden global registry: a program creates one, or sets up the
 * optional default registry explicitly with cap_registry_init_default() and
 * tears it down with cap_registry_shutdown_default().
 *
 * Manifest format (one component per file, named *.manifest):
 *
 *     <component name="host" library="libhost.so" abi="1">
 *       <class name="Host" cid="0b7e...-..." contract="@capsule.org/host;1"/>
 *     </component>
 *
 * `library` is a file name in the manifest's folder (no '/'); `abi` must be
 * CAP_COMPONENT_ABI (capsule/component.h); at least one <class>; every
 * attribute shown is required and no other element or attribute is allowed.
 * A bad manifest is reported as "FILE:LINE: message" and skipped.
 *
 * Threads: every function may be called from any thread, except that
 * cap_registry_destroy() must not race with other calls on the same
 * registry. Factories run without the registry's lock held, except those of
 * services, which run under it (a service's constructor may use the registry
 * from its own thread but must not wait on another thread that does).
 */
#ifndef CAPSULE_REGISTRY_H
#define CAPSULE_REGISTRY_H

#include <capsule/component.h>
#include <capsule/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct cap_registry;

/* Creates an empty registry. CAP_OK or CAP_E_OUTOFMEMORY. */
cap_result cap_registry_create(struct cap_registry **out);

/*
 * Releases the service instances the registry holds, then for each loaded
 * component (in reverse load order) calls its shutdown, unregisters its
 * typelibs and unloads its shared object, and frees the registry. Objects
 * created from a component that are still alive at this point are the
 * caller's bug: their code is unmapped, and any call on them crashes.
 * Release every object first. NULL is fine.
 */
void cap_registry_destroy(struct cap_registry *reg);

/*
 * Registers an in-process class. `contract` and `name` are copied and may be
 * NULL (a class without a contract ID is found by CID only); `ctx` is passed
 * to every call of `create`. CAP_E_ALREADY_REGISTERED (with error info) if
 * the CID or the contract ID is taken; CAP_E_POINTER if clsid or create is
 * NULL.
 */
cap_result cap_registry_register_class(struct cap_registry *reg, const cap_uuid *clsid,
                                       const char *contract, const char *name, cap_create_fn create,
                                       void *ctx);

/*
 * Reads every *.manifest in `dir` (in name order) and registers the classes
 * they describe (their libraries are not loaded yet). Returns CAP_OK; or
 * CAP_E_BAD_MANIFEST if one or more manifests were bad: those were skipped,
 * the good ones registered, and the error info lists one "FILE:LINE:
 * message" per problem; or CAP_E_IO if the folder cannot be read.
 */
cap_result cap_registry_load_manifests(struct cap_registry *reg, const char *dir);

/*
 * Creates a new instance of a class and returns its `iid` interface in *out
 * (the caller owns the reference). Loads the class's component first if
 * needed. Errors (with error info): CAP_E_CLASS_NOT_REGISTERED naming the
 * CID or contract; CAP_E_COMPONENT_LOAD (shared object or entry symbol
 * missing, init failed); CAP_E_BAD_COMPONENT (wrong ABI, table does not
 * match its manifest); CAP_E_NOINTERFACE; whatever the factory returns.
 * *out is NULL on failure.
 */
cap_result cap_registry_create_instance(struct cap_registry *reg, const cap_uuid *clsid,
                                        const cap_uuid *iid, void **out);
cap_result cap_registry_create_instance_by_contract(struct cap_registry *reg, const char *contract,
                                                    const cap_uuid *iid, void **out);

/*
 * Like create_instance, but the first call creates the class's one instance
 * (a service) and the registry keeps a reference to it until it is
 * destroyed; every call returns (a new reference to) that same object.
 */
cap_result cap_registry_get_service(struct cap_registry *reg, const cap_uuid *clsid,
                                    const cap_uuid *iid, void **out);
cap_result cap_registry_get_service_by_contract(struct cap_registry *reg, const char *contract,
                                                const cap_uuid *iid, void **out);

/*
 * "<folder of the running executable>/<rel>", found through /proc/self/exe,
 * e.g. rel "../lib/components" for a program in BUILD/bin. Free *out with
 * cap_str_free. CAP_E_IO if the executable's path cannot be read.
 */
cap_result cap_exe_relative_path(const char *rel, char **out);

/*
 * The optional process-wide default registry. init creates it and loads the
 * manifests of `dir` (NULL: cap_exe_relative_path("../lib/components")).
 * Returns CAP_OK; CAP_E_BAD_MANIFEST if some manifests were skipped (the
 * default registry IS set up); CAP_E_ALREADY_REGISTERED if it already
 * exists; other failures set nothing up. shutdown destroys it (harmless if
 * there is none); call it once every object is released, before exit.
 * cap_registry_default() returns it, or NULL before init / after shutdown.
 */
cap_result cap_registry_init_default(const char *dir);
struct cap_registry *cap_registry_default(void);
void cap_registry_shutdown_default(void);

#ifdef __cplusplus
}
#endif

#endif /* CAPSULE_REGISTRY_H */
