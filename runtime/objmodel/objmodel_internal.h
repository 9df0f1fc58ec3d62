/*
 * objmodel_internal.h - helpers shared by the files of runtime/objmodel.
 *
 * Nothing here is exported from libcapsule-rt.so. The registry is split in
 * four files: registry.c (the class table, creation, services),
 * registry_default.c (the optional default registry), manifest.c (reading
 * *.manifest files with expat) and component.c (loading and unloading
 * component shared objects with NSPR); they share the structures below.
 */
#ifndef OBJMODEL_INTERNAL_H
#define OBJMODEL_INTERNAL_H

#include <pthread.h>

#include <capsule/component.h>
#include <capsule/errorinfo.h>
#include <capsule/registry.h>
#include <capsule/result.h>
#include <capsule/supports.h>
#include <capsule/typelib.h>

/* The component name used in error info raised by this module. */
#define OBJMODEL_COMPONENT "objmodel"

/* typelib.c: the name of a <result> code of a registered typelib, or NULL. */
const char *typelib_result_name(cap_result rc);

/* typelib.c: drops one registration of `lib` (registrations are counted);
 * used before a component's shared object is unloaded. */
void typelib_unregister(const struct cap_typelib *lib);

/* A component described by a manifest; lives as long as its registry. */
struct reg_component {
    char *name;                        /* manifest: component name */
    char *path;                        /* the shared object's full path */
    char *manifest;                    /* manifest path, for messages */
    int line;                          /* line of <component> in the manifest */
    struct PRLibrary *lib;             /* NULL until loaded */
    const struct cap_component *entry; /* set once loaded and checked */
    void *ctx;                         /* from entry->init */
    uint32_t n_typelibs_registered;
    int loading;                       /* set while init runs */
    struct reg_component *next_loaded; /* load order, newest first */
};

/* One class: in-process (comp NULL) or from a component. */
struct reg_class {
    cap_uuid clsid;
    char *contract;       /* may be NULL */
    char *name;           /* may be NULL */
    cap_create_fn create; /* in-process: set; component: set once loaded */
    void *ctx;
    struct reg_component *comp;
    ISupports *service; /* the service instance, once created */
};

struct cap_registry {
    pthread_mutex_t lock; /* recursive: a factory may call back in */
    struct reg_class **classes;
    size_t n_classes, cap_classes;
    struct reg_component **comps; /* every manifest-described component */
    size_t n_comps, cap_comps;
    struct reg_component *loaded; /* newest first */
};

/* registry.c: a new class record (strings copied); NULL if out of memory. */
struct reg_class *reg_class_new(const cap_uuid *clsid, const char *contract, const char *name,
                                cap_create_fn create, void *ctx, struct reg_component *comp);
void reg_class_free(struct reg_class *cls);

/* registry.c: CAP_OK if neither the CID nor the contract ID (may be NULL) is
 * taken; else CAP_E_ALREADY_REGISTERED with error info. reg->lock held. */
cap_result registry_check_free(struct cap_registry *reg, const cap_uuid *clsid,
                               const char *contract);

/* registry.c: makes room for `n_classes` more classes and `n_comps` more
 * components, so that the pushes that follow cannot fail. reg->lock held. */
cap_result registry_reserve(struct cap_registry *reg, size_t n_classes, size_t n_comps);

/* registry.c: "class NAME {CID} (CONTRACT)" for messages; static buffer
 * per thread. */
const char *registry_describe(const struct reg_class *cls);

/* component.c: loads and checks comp's shared object, runs init, fills in
 * the create functions of its classes (reg->lock held). Idempotent. */
cap_result component_load(struct cap_registry *reg, struct reg_component *comp);

/* component.c: shutdown, unregister typelibs, unload (reg->lock not needed:
 * the registry is being destroyed). */
void component_unload(struct reg_component *comp);
void component_free(struct reg_component *comp);

#endif /* OBJMODEL_INTERNAL_H */
