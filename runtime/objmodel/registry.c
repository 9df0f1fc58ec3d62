/*
 * registry.c - the class registry: CIDs and contract IDs to factories
 * (capsule/registry.h).
 *
 * A registry is a plain object with its own lock; there is no hidden global
 * one (the optional default registry at the end of this file exists only
 * between an explicit init and shutdown). Classes are kept in a flat array,
 * searched linearly: a process knows tens of classes, not thousands, and
 * creation is dominated by the factory anyway. Classes of components start
 * without a factory; the first creation loads the component (component.c)
 * which fills the factories in. Manifests are read by manifest.c.
 */
#include <stdio.h>
#include <string.h>

#include <capsule/mem.h>
#include <capsule/registry.h>
#include <capsule/uuid.h>

#include "objmodel_internal.h"

/* ---- construction ------------------------------------------------------- */

CAP_EXPORT cap_result cap_registry_create(struct cap_registry **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    struct cap_registry *reg = cap_alloc_zero(sizeof(*reg));
    if (!reg)
        return cap_error_set(CAP_E_OUTOFMEMORY, OBJMODEL_COMPONENT, NULL, "out of memory");
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    int err = pthread_mutex_init(&reg->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    if (err) {
        cap_free(reg);
        return cap_error_set(CAP_E_FAIL, OBJMODEL_COMPONENT, NULL, "cannot create a mutex");
    }
    *out = reg;
    return CAP_OK;
}

struct reg_class *reg_class_new(const cap_uuid *clsid, const char *contract, const char *name,
                                cap_create_fn create, void *ctx, struct reg_component *comp)
{
    struct reg_class *cls = cap_alloc_zero(sizeof(*cls));
    if (!cls)
        return NULL;
    cls->clsid = *clsid;
    cls->contract = cap_str_dup(contract);
    cls->name = cap_str_dup(name);
    cls->create = create;
    cls->ctx = ctx;
    cls->comp = comp;
    if ((contract && !cls->contract) || (name && !cls->name)) {
        reg_class_free(cls);
        return NULL;
    }
    return cls;
}

void reg_class_free(struct reg_class *cls)
{
    if (!cls)
        return;
    cap_str_free(cls->contract);
    cap_str_free(cls->name);
    cap_free(cls);
}

CAP_EXPORT void cap_registry_destroy(struct cap_registry *reg)
{
    if (!reg)
        return;
    /* Services first: their code may live in a component about to go. */
    for (size_t i = 0; i < reg->n_classes; i++) {
        ISupports *svc = reg->classes[i]->service;
        reg->classes[i]->service = NULL;
        if (svc)
            ISupports_Release(svc);
    }
    for (struct reg_component *c = reg->loaded; c; c = c->next_loaded)
        component_unload(c);
    for (size_t i = 0; i < reg->n_classes; i++)
        reg_class_free(reg->classes[i]);
    for (size_t i = 0; i < reg->n_comps; i++)
        component_free(reg->comps[i]);
    cap_free(reg->classes);
    cap_free(reg->comps);
    pthread_mutex_destroy(&reg->lock);
    cap_free(reg);
}

/* ---- the class table ---------------------------------------------------- */

static struct reg_class *find_by_cid(struct cap_registry *reg, const cap_uuid *clsid)
{
    for (size_t i = 0; i < reg->n_classes; i++)
        if (cap_uuid_equal(&reg->classes[i]->clsid, clsid))
            return reg->classes[i];
    return NULL;
}

static struct reg_class *find_by_contract(struct cap_registry *reg, const char *contract)
{
    for (size_t i = 0; i < reg->n_classes; i++)
        if (reg->classes[i]->contract && strcmp(reg->classes[i]->contract, contract) == 0)
            return reg->classes[i];
    return NULL;
}

const char *registry_describe(const struct reg_class *cls)
{
    static _Thread_local char buf[320];
    char cid[CAP_UUID_BUFSIZE];
    snprintf(buf, sizeof(buf), "class '%.80s' {%s} (%.160s)", cls->name ? cls->name : "?",
             cap_uuid_format(&cls->clsid, cid), cls->contract ? cls->contract : "no contract");
    return buf;
}

cap_result registry_check_free(struct cap_registry *reg, const cap_uuid *clsid,
                               const char *contract)
{
    struct reg_class *old = find_by_cid(reg, clsid);
    if (old) {
        char cid[CAP_UUID_BUFSIZE];
        return cap_error_set(CAP_E_ALREADY_REGISTERED, OBJMODEL_COMPONENT, NULL,
                             "CID {%s} is already registered by %s", cap_uuid_format(clsid, cid),
                             registry_describe(old));
    }
    old = contract ? find_by_contract(reg, contract) : NULL;
    if (old)
        return cap_error_set(CAP_E_ALREADY_REGISTERED, OBJMODEL_COMPONENT, NULL,
                             "contract ID '%s' is already registered by %s", contract,
                             registry_describe(old));
    return CAP_OK;
}

static int grow(void **array, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 1;
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need)
        ncap *= 2;
    void *n = cap_realloc(*array, ncap * elem);
    if (!n)
        return 0;
    *array = n;
    *cap = ncap;
    return 1;
}

cap_result registry_reserve(struct cap_registry *reg, size_t n_classes, size_t n_comps)
{
    if (!grow((void **)&reg->classes, &reg->cap_classes, reg->n_classes + n_classes,
              sizeof(*reg->classes)) ||
        !grow((void **)&reg->comps, &reg->cap_comps, reg->n_comps + n_comps, sizeof(*reg->comps)))
        return cap_error_set(CAP_E_OUTOFMEMORY, OBJMODEL_COMPONENT, NULL, "out of memory");
    return CAP_OK;
}

CAP_EXPORT cap_result cap_registry_register_class(struct cap_registry *reg, const cap_uuid *clsid,
                                                  const char *contract, const char *name,
                                                  cap_create_fn create, void *ctx)
{
    if (!reg || !clsid || !create)
        return cap_error_set(CAP_E_POINTER, OBJMODEL_COMPONENT, NULL,
                             "cap_registry_register_class: NULL registry, CID or factory");
    pthread_mutex_lock(&reg->lock);
    struct reg_class *cls = NULL;
    cap_result rc = registry_check_free(reg, clsid, contract);
    if (CAP_FAILED(rc))
        goto out;
    rc = registry_reserve(reg, 1, 0);
    if (CAP_FAILED(rc))
        goto out;
    cls = reg_class_new(clsid, contract, name, create, ctx, NULL);
    if (!cls) {
        rc = cap_error_set(CAP_E_OUTOFMEMORY, OBJMODEL_COMPONENT, NULL, "out of memory");
        goto out;
    }
    reg->classes[reg->n_classes++] = cls;
out:
    pthread_mutex_unlock(&reg->lock);
    return rc;
}

/* ---- creation ----------------------------------------------------------- */

/* What to create: a CID or a contract ID, and whether as a service. */
struct create_req {
    const cap_uuid *clsid;
    const char *contract;
    int service;
};

static cap_result not_registered(const struct create_req *req)
{
    char cid[CAP_UUID_BUFSIZE];
    if (req->contract)
        return cap_error_set(CAP_E_CLASS_NOT_REGISTERED, OBJMODEL_COMPONENT, NULL,
                             "no class registered for contract ID '%s'", req->contract);
    return cap_error_set(CAP_E_CLASS_NOT_REGISTERED, OBJMODEL_COMPONENT, NULL,
                         "no class registered with CID {%s}", cap_uuid_format(req->clsid, cid));
}

static cap_result no_interface(const struct reg_class *cls, const cap_uuid *iid)
{
    char buf[CAP_UUID_BUFSIZE];
    const struct cap_tl_iface *tl = cap_typelib_find_iface(iid);
    return cap_error_set(CAP_E_NOINTERFACE, OBJMODEL_COMPONENT, NULL,
                         "%s does not implement interface %s {%s}", registry_describe(cls),
                         tl ? tl->name : "(unknown)", cap_uuid_format(iid, buf));
}

/* Runs a factory and enforces its contract on the result. */
static cap_result run_factory(struct cap_registry *reg, const struct reg_class *cls,
                              cap_create_fn create, void *ctx, const cap_uuid *iid, void **out)
{
    cap_result rc = create(reg, ctx, iid, out);
    if (CAP_FAILED(rc)) {
        *out = NULL; /* a factory that left something behind broke its contract */
        return rc == CAP_E_NOINTERFACE ? no_interface(cls, iid) : rc;
    }
    if (!*out)
        return cap_error_set(CAP_E_UNEXPECTED, OBJMODEL_COMPONENT, NULL,
                             "the factory of %s succeeded without returning an object",
                             registry_describe(cls));
    return rc;
}

/* The service path: reg->lock held on entry, released on return. */
static cap_result get_service_locked(struct cap_registry *reg, struct reg_class *cls,
                                     const cap_uuid *iid, void **out)
{
    cap_result rc = CAP_OK;
    if (!cls->service) {
        void *svc = NULL;
        rc = run_factory(reg, cls, cls->create, cls->ctx, &IID_ISupports, &svc);
        if (CAP_FAILED(rc))
            goto out;
        cls->service = svc;
    }
    rc = ISupports_QueryInterface(cls->service, iid, out);
    if (CAP_FAILED(rc))
        rc = no_interface(cls, iid);
out:
    pthread_mutex_unlock(&reg->lock);
    return rc;
}

static cap_result create_common(struct cap_registry *reg, const struct create_req *req,
                                const cap_uuid *iid, void **out)
{
    if (!out)
        return cap_error_set(CAP_E_POINTER, OBJMODEL_COMPONENT, NULL, "NULL out pointer");
    *out = NULL;
    if (!reg || !iid || (!req->clsid && !req->contract))
        return cap_error_set(CAP_E_POINTER, OBJMODEL_COMPONENT, NULL,
                             "NULL registry, class or interface ID");
    pthread_mutex_lock(&reg->lock);
    struct reg_class *cls =
        req->contract ? find_by_contract(reg, req->contract) : find_by_cid(reg, req->clsid);
    if (!cls) {
        pthread_mutex_unlock(&reg->lock);
        return not_registered(req);
    }
    if (!cls->create) {
        cap_result rc = component_load(reg, cls->comp);
        if (CAP_FAILED(rc)) {
            pthread_mutex_unlock(&reg->lock);
            return rc;
        }
    }
    if (req->service)
        return get_service_locked(reg, cls, iid, out);
    cap_create_fn create = cls->create;
    void *ctx = cls->ctx;
    pthread_mutex_unlock(&reg->lock);
    /* cls stays valid: classes are only removed when the registry dies. */
    return run_factory(reg, cls, create, ctx, iid, out);
}

CAP_EXPORT cap_result cap_registry_create_instance(struct cap_registry *reg, const cap_uuid *clsid,
                                                   const cap_uuid *iid, void **out)
{
    struct create_req req = {.clsid = clsid};
    return create_common(reg, &req, iid, out);
}

CAP_EXPORT cap_result cap_registry_create_instance_by_contract(struct cap_registry *reg,
                                                               const char *contract,
                                                               const cap_uuid *iid, void **out)
{
    struct create_req req = {.contract = contract};
    return create_common(reg, &req, iid, out);
}

CAP_EXPORT cap_result cap_registry_get_service(struct cap_registry *reg, const cap_uuid *clsid,
                                               const cap_uuid *iid, void **out)
{
    struct create_req req = {.clsid = clsid, .service = 1};
    return create_common(reg, &req, iid, out);
}

CAP_EXPORT cap_result cap_registry_get_service_by_contract(struct cap_registry *reg,
                                                           const char *contract,
                                                           const cap_uuid *iid, void **out)
{
    struct create_req req = {.contract = contract, .service = 1};
    return create_common(reg, &req, iid, out);
}
