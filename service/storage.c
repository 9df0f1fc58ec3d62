/*
 * service/storage.c - IStorageController, IMediumAttachment and the
 * storage operations of IMachine (storage.h has the rules).
 */
#include <pthread.h>
#include <string.h>

#include <capsule/mem.h>
#include <capsule/object.h>
#include <capsule/uuid.h>

#include "imedium.h"
#include "registry.h"
#include "session_machine.h"
#include "storage.h"

#define IFACE "IMachine"

static cap_result oom(void)
{
    return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
}

/* ---- IStorageController: a view on (machine object, name) ------------------- */

struct storagectl {
    IStorageController IStorageController_iface;
    cap_refcnt ref;
    struct machine_obj *m; /* strong */
    char *name;
};

static struct storagectl *sc_impl(IStorageController *iface)
{
    return CAP_CONTAINER_OF(iface, struct storagectl, IStorageController_iface);
}

static const struct cap_qi_entry sc_qi[] = {
    CAP_QI_ENTRY(IID_IStorageController, struct storagectl, IStorageController_iface),
    CAP_QI_END,
};

static cap_result sc_QueryInterface(IStorageController *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(sc_impl(self), sc_qi, iid, out);
}

static uint32_t sc_AddRef(IStorageController *self)
{
    return cap_refcnt_inc(&sc_impl(self)->ref);
}

static uint32_t sc_Release(IStorageController *self)
{
    struct storagectl *p = sc_impl(self);
    uint32_t n = cap_refcnt_dec(&p->ref);
    if (n == 0) {
        machine_obj_release(p->m);
        cap_str_free(p->name);
        cap_free(p);
    }
    return n;
}

/* Locks and returns the controller (NULL: error set, unlocked). */
static struct storage_ctl_cfg *sc_begin(struct storagectl *p, int write, cap_result *rc)
{
    svc_core_lock(p->m->core);
    struct storage_ctl_cfg *k = settings_find_ctl(&p->m->cfg, p->name);
    if (p->m->kind == MACHINE_PRIMARY && !p->m->machine->accessible)
        *rc = cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, "IStorageController",
                            "the machine is inaccessible");
    else if (!k)
        *rc = cap_error_set(CAP_E_OBJECT_NOT_FOUND, SVC_COMPONENT, "IStorageController",
                            "the machine '%s' has no storage controller '%s' any more",
                            p->m->cfg.name, p->name);
    else if (write && !machine_obj_mutable_locked(p->m))
        *rc = cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, "IStorageController",
                            "the machine is not mutable: lock it with a write-lock session and "
                            "change the session's machine");
    else if (write && !machine_state_at_rest(p->m->machine->state))
        *rc = cap_error_set(CAP_E_INVALID_VM_STATE, SVC_COMPONENT, "IStorageController",
                            "the machine '%s' is running; its storage controllers cannot change "
                            "until it is powered off",
                            p->m->cfg.name);
    else
        return k;
    svc_core_unlock(p->m->core);
    return NULL;
}

static void sc_end(struct storagectl *p, int changed)
{
    if (changed)
        p->m->modified = 1;
    svc_core_unlock(p->m->core);
}

static cap_result sc_GetName(IStorageController *self, char **out)
{
    return svc_return_str(sc_impl(self)->name, out);
}

/* The controller's number among the machine's controllers of its type. */
static uint32_t instance_of(const struct machine_cfg *c, const struct storage_ctl_cfg *k)
{
    uint32_t n = 0;
    for (const struct storage_ctl_cfg *e = c->ctls; e < k; e++)
        n += e->type == k->type;
    return n;
}

#define SC_GETTER(name, type, expr)                                                                \
    static cap_result sc_Get##name(IStorageController *self, type *out)                            \
    {                                                                                              \
        struct storagectl *p = sc_impl(self);                                                      \
        cap_result rc;                                                                             \
        if (!out)                                                                                  \
            return CAP_E_POINTER;                                                                  \
        struct storage_ctl_cfg *k = sc_begin(p, 0, &rc);                                           \
        if (!k)                                                                                    \
            return rc;                                                                             \
        *out = (expr);                                                                             \
        sc_end(p, 0);                                                                              \
        return CAP_OK;                                                                             \
    }

SC_GETTER(Bus, StorageBus, k->bus)
SC_GETTER(ControllerType, StorageControllerType, k->type)
SC_GETTER(Instance, uint32_t, instance_of(&p->m->cfg, k))
SC_GETTER(MaxPortCount, uint32_t, settings_bus_max_ports(k->bus))
SC_GETTER(MaxDevicesPerPortCount, uint32_t, settings_bus_max_devices(k->bus))
SC_GETTER(PortCount, uint32_t, k->port_count)
SC_GETTER(Bootable, cap_bool, k->bootable)

static cap_result sc_SetControllerType(IStorageController *self, StorageControllerType v)
{
    struct storagectl *p = sc_impl(self);
    cap_result rc;
    struct storage_ctl_cfg *k = sc_begin(p, 1, &rc);
    if (!k)
        return rc;
    if (v != settings_bus_default_type(k->bus)) {
        rc = cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, "IStorageController",
                           "the %s controller '%s' can only be of type %s in this build",
                           settings_bus_name(k->bus), k->name,
                           settings_ctl_type_name(settings_bus_default_type(k->bus)));
        sc_end(p, 0);
        return rc;
    }
    sc_end(p, 0);
    return CAP_OK;
}

static cap_result sc_SetPortCount(IStorageController *self, uint32_t v)
{
    struct storagectl *p = sc_impl(self);
    cap_result rc;
    struct storage_ctl_cfg *k = sc_begin(p, 1, &rc);
    if (!k)
        return rc;
    uint32_t max = settings_bus_max_ports(k->bus);
    uint32_t min = k->bus == StorageBus_IDE ? max : 1;
    rc = CAP_OK;
    if (v < min || v > max)
        rc = cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, "IStorageController",
                           "port count %u: the %s controller '%s' has %s%u ports", (unsigned)v,
                           settings_bus_name(k->bus), k->name, min == max ? "" : "1 to ",
                           (unsigned)max);
    for (uint32_t i = 0; CAP_SUCCEEDED(rc) && i < p->m->cfg.n_atts; i++) {
        const struct attachment_cfg *a = &p->m->cfg.atts[i];
        if (!strcmp(a->controller, k->name) && (uint32_t)a->port >= v)
            rc = cap_error_set(CAP_E_OBJECT_IN_USE, SVC_COMPONENT, "IStorageController",
                               "port %d of '%s' holds a drive: detach it before lowering the "
                               "port count to %u",
                               (int)a->port, k->name, (unsigned)v);
    }
    if (CAP_SUCCEEDED(rc))
        k->port_count = v;
    sc_end(p, CAP_SUCCEEDED(rc));
    return rc;
}

static const struct IStorageControllerVtbl sc_vtbl = {
    .QueryInterface = sc_QueryInterface,
    .AddRef = sc_AddRef,
    .Release = sc_Release,
    .GetName = sc_GetName,
    .GetBus = sc_GetBus,
    .GetControllerType = sc_GetControllerType,
    .SetControllerType = sc_SetControllerType,
    .GetInstance = sc_GetInstance,
    .GetMaxPortCount = sc_GetMaxPortCount,
    .GetMaxDevicesPerPortCount = sc_GetMaxDevicesPerPortCount,
    .GetPortCount = sc_GetPortCount,
    .SetPortCount = sc_SetPortCount,
    .GetBootable = sc_GetBootable,
};

cap_result storagectl_create(struct machine_obj *m, const char *name, IStorageController **out)
{
    *out = NULL;
    struct storagectl *p = cap_alloc_zero(sizeof(*p));
    if (!p || !(p->name = cap_str_dup(name))) {
        cap_free(p);
        return oom();
    }
    p->IStorageController_iface.vtbl = &sc_vtbl;
    cap_refcnt_init(&p->ref, 1);
    p->m = m;
    machine_obj_addref(m);
    *out = &p->IStorageController_iface;
    return CAP_OK;
}

/* ---- IMediumAttachment: a copy ------------------------------------------------ */

struct attachment {
    IMediumAttachment IMediumAttachment_iface;
    cap_refcnt ref;
    struct attachment_cfg a; /* controller owned */
    struct medium *medium;   /* strong, or NULL */
};

static struct attachment *at_impl(IMediumAttachment *iface)
{
    return CAP_CONTAINER_OF(iface, struct attachment, IMediumAttachment_iface);
}

static const struct cap_qi_entry at_qi[] = {
    CAP_QI_ENTRY(IID_IMediumAttachment, struct attachment, IMediumAttachment_iface),
    CAP_QI_END,
};

static cap_result at_QueryInterface(IMediumAttachment *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(at_impl(self), at_qi, iid, out);
}

static uint32_t at_AddRef(IMediumAttachment *self)
{
    return cap_refcnt_inc(&at_impl(self)->ref);
}

static uint32_t at_Release(IMediumAttachment *self)
{
    struct attachment *p = at_impl(self);
    uint32_t n = cap_refcnt_dec(&p->ref);
    if (n == 0) {
        medium_release(p->medium);
        cap_str_free(p->a.controller);
        cap_free(p);
    }
    return n;
}

static cap_result at_GetController(IMediumAttachment *self, char **out)
{
    return svc_return_str(at_impl(self)->a.controller, out);
}

#define AT_GETTER(name, type, expr)                                                                \
    static cap_result at_Get##name(IMediumAttachment *self, type *out)                             \
    {                                                                                              \
        if (!out)                                                                                  \
            return CAP_E_POINTER;                                                                  \
        *out = (expr);                                                                             \
        return CAP_OK;                                                                             \
    }

AT_GETTER(Port, int32_t, at_impl(self)->a.port)
AT_GETTER(Device, int32_t, at_impl(self)->a.device)
AT_GETTER(Type, DeviceType, at_impl(self)->a.type)
AT_GETTER(Passthrough, cap_bool, CAP_FALSE)

static cap_result at_GetMedium(IMediumAttachment *self, IMedium **out)
{
    struct attachment *p = at_impl(self);
    if (!out)
        return CAP_E_POINTER;
    *out = p->medium ? &p->medium->IMedium_iface : NULL;
    if (p->medium)
        medium_addref(p->medium);
    return CAP_OK;
}

static const struct IMediumAttachmentVtbl at_vtbl = {
    .QueryInterface = at_QueryInterface,
    .AddRef = at_AddRef,
    .Release = at_Release,
    .GetController = at_GetController,
    .GetPort = at_GetPort,
    .GetDevice = at_GetDevice,
    .GetType = at_GetType,
    .GetMedium = at_GetMedium,
    .GetPassthrough = at_GetPassthrough,
};

/* Lock held: a copy of a, its medium resolved through the registry. */
static cap_result attachment_create_locked(struct svc_core *core, const struct attachment_cfg *a,
                                           IMediumAttachment **out)
{
    struct attachment *p = cap_alloc_zero(sizeof(*p));
    if (!p || !(p->a.controller = cap_str_dup(a->controller))) {
        cap_free(p);
        return oom();
    }
    p->IMediumAttachment_iface.vtbl = &at_vtbl;
    cap_refcnt_init(&p->ref, 1);
    p->a.port = a->port;
    p->a.device = a->device;
    p->a.type = a->type;
    p->a.medium = a->medium;
    p->medium = cap_uuid_is_null(&a->medium)
                    ? NULL
                    : registry_find_medium_id_locked(core->registry, &a->medium, DeviceType_Null);
    if (p->medium)
        medium_addref(p->medium);
    *out = &p->IMediumAttachment_iface;
    return CAP_OK;
}

/* ---- the lists -------------------------------------------------------------------- */

static cap_result begin_read(struct machine_obj *m)
{
    svc_core_lock(m->core);
    if (m->kind == MACHINE_PRIMARY && !m->machine->accessible) {
        svc_core_unlock(m->core);
        return cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, IFACE,
                             "the machine is inaccessible");
    }
    return CAP_OK;
}

/* One object per controller (attachments 0) or per drive (1), in order. */
static cap_result list_objects(struct machine_obj *m, int attachments, uint32_t *n, void ***out)
{
    if (!n || !out)
        return CAP_E_POINTER;
    *n = 0;
    *out = NULL;
    cap_result rc = begin_read(m);
    if (CAP_FAILED(rc))
        return rc;
    uint32_t count = attachments ? m->cfg.n_atts : m->cfg.n_ctls;
    void **list = cap_alloc_zero((count ? count : 1) * sizeof(*list));
    for (uint32_t i = 0; list && i < count && CAP_SUCCEEDED(rc); i++) {
        rc =
            attachments
                ? attachment_create_locked(m->core, &m->cfg.atts[i], (IMediumAttachment **)&list[i])
                : storagectl_create(m, m->cfg.ctls[i].name, (IStorageController **)&list[i]);
        if (CAP_FAILED(rc))
            count = i;
    }
    svc_core_unlock(m->core);
    if (!list || CAP_FAILED(rc)) {
        if (list)
            cap_array_free(CAP_TLT_IFACE, count, list);
        return oom();
    }
    *n = count;
    *out = list;
    return CAP_OK;
}

cap_result storage_controllers(struct machine_obj *m, uint32_t *n, IStorageController ***out)
{
    return list_objects(m, 0, n, (void ***)out);
}

cap_result storage_attachments(struct machine_obj *m, uint32_t *n, IMediumAttachment ***out)
{
    return list_objects(m, 1, n, (void ***)out);
}

/* ---- the operations ------------------------------------------------------------------ */

cap_result storage_check_new_ctl(const char *name, StorageBus bus)
{
    if (!name || !*name || strlen(name) > SETTINGS_CTL_NAME_MAX || !settings_text_ok(name) ||
        strpbrk(name, "\t\r\n"))
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "a storage controller name is 1 to %u bytes of text on one line",
                             SETTINGS_CTL_NAME_MAX);
    if (!settings_bus_max_ports(bus))
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "unknown storage bus %u (IDE, SATA or VirtIO)", (unsigned)bus);
    return CAP_OK;
}

static cap_result no_ctl(struct machine_obj *m, const char *name)
{
    return cap_error_set(CAP_E_OBJECT_NOT_FOUND, SVC_COMPONENT, IFACE,
                         "the machine '%s' has no storage controller '%s'", m->cfg.name,
                         name ? name : "");
}

cap_result storage_add_ctl_locked(struct machine_obj *m, const char *name, StorageBus bus)
{
    if (settings_find_ctl(&m->cfg, name))
        return cap_error_set(CAP_E_OBJECT_EXISTS, SVC_COMPONENT, IFACE,
                             "the machine '%s' already has a storage controller '%s'", m->cfg.name,
                             name);
    if (m->cfg.n_ctls >= SETTINGS_MAX_CONTROLLERS)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "the machine '%s' has %u storage controllers, the most it may have",
                             m->cfg.name, SETTINGS_MAX_CONTROLLERS);
    return settings_add_ctl(&m->cfg, name, bus);
}

cap_result storage_remove_ctl_locked(struct machine_obj *m, const char *name)
{
    struct storage_ctl_cfg *k = name ? settings_find_ctl(&m->cfg, name) : NULL;
    if (!k)
        return no_ctl(m, name);
    for (uint32_t i = m->cfg.n_atts; i-- > 0;)
        if (!strcmp(m->cfg.atts[i].controller, name))
            settings_remove_att(&m->cfg, i);
    settings_remove_ctl(&m->cfg, (uint32_t)(k - m->cfg.ctls));
    return CAP_OK;
}

cap_result storage_set_bootable_locked(struct machine_obj *m, const char *name, cap_bool on)
{
    struct storage_ctl_cfg *k = name ? settings_find_ctl(&m->cfg, name) : NULL;
    if (!k)
        return no_ctl(m, name);
    k->bootable = on ? CAP_TRUE : CAP_FALSE;
    return CAP_OK;
}

/* The controller and slot for an operation (error set when NULL). */
static struct storage_ctl_cfg *slot_ctl(struct machine_obj *m, const char *ctl, int32_t port,
                                        int32_t device, cap_result *rc)
{
    char why[160];
    struct storage_ctl_cfg *k = ctl ? settings_find_ctl(&m->cfg, ctl) : NULL;
    if (!k)
        *rc = no_ctl(m, ctl);
    else if (settings_slot_problem(k, port, device, why, sizeof(why)))
        *rc = cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE, "%s", why);
    else
        return k;
    return NULL;
}

/* The medium behind iface, registered now if it exists but is not yet
 * (NULL iface: *out NULL). */
static cap_result resolve_medium_locked(struct svc_core *core, IMedium *iface, struct medium **out)
{
    *out = NULL;
    if (!iface)
        return CAP_OK;
    struct medium *md = medium_from_foreign(iface);
    if (!md || md->core != core)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "the medium is not one of this service's (openMedium)");
    if (md->busy)
        return cap_error_set(CAP_E_OBJECT_IN_USE, SVC_COMPONENT, IFACE,
                             "the medium '%s' is in use by an operation in progress", md->location);
    if (!md->registered) {
        if (md->state != MediumState_Created || cap_uuid_is_null(&md->id))
            return cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, IFACE,
                                 "the medium '%s' has no storage yet (createBaseStorage)",
                                 md->location);
        cap_result rc = registry_add_medium_locked(core->registry, md);
        if (CAP_FAILED(rc))
            return rc;
    }
    *out = md;
    return CAP_OK;
}

/* Whether medium md may go into m's drives: not yet attached to m (other
 * than at `self`), and not write-locked by another machine's VM. */
static cap_result check_medium_locked(struct machine_obj *m, struct medium *md,
                                      const struct attachment_cfg *self)
{
    for (uint32_t i = 0; i < m->cfg.n_atts; i++) {
        const struct attachment_cfg *a = &m->cfg.atts[i];
        if (a != self && cap_uuid_equal(&a->medium, &md->id))
            return cap_error_set(CAP_E_OBJECT_EXISTS, SVC_COMPONENT, IFACE,
                                 "the medium '%s' is already attached to '%s' (%s port %d "
                                 "device %d)",
                                 md->location, m->cfg.name, a->controller, (int)a->port,
                                 (int)a->device);
    }
    return registry_check_disk_free_locked(m->core->registry, md, m->machine);
}

static const char *type_word(DeviceType t)
{
    return t == DeviceType_DVD ? "DVD image" : "hard disk";
}

cap_result storage_attach_locked(struct machine_obj *m, const char *ctl, int32_t port,
                                 int32_t device, DeviceType type, IMedium *medium)
{
    cap_result rc = CAP_OK;
    struct medium *md = NULL;
    if (type != DeviceType_HardDisk && type != DeviceType_DVD)
        return cap_error_set(type == DeviceType_Floppy ? CAP_E_NOT_SUPPORTED : CAP_E_INVALIDARG,
                             SVC_COMPONENT, IFACE,
                             "device type %u: only hard disks and DVD drives can be attached",
                             (unsigned)type);
    if (!slot_ctl(m, ctl, port, device, &rc))
        return rc;
    if (settings_find_att(&m->cfg, ctl, port, device))
        return cap_error_set(CAP_E_OBJECT_EXISTS, SVC_COMPONENT, IFACE,
                             "%s port %d device %d of '%s' already holds a drive: detach it "
                             "first",
                             ctl, (int)port, (int)device, m->cfg.name);
    if (m->cfg.n_atts >= SETTINGS_MAX_ATTACHMENTS)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "the machine '%s' has %u drives, the most it may have", m->cfg.name,
                             SETTINGS_MAX_ATTACHMENTS);
    if (!medium && type == DeviceType_HardDisk)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "a hard disk drive needs a medium (only a DVD drive can be empty)");
    if (medium && medium_from_foreign(medium) && medium_from_foreign(medium)->type != type)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "the medium '%s' is a %s, not a %s",
                             medium_from_foreign(medium)->location,
                             type_word(medium_from_foreign(medium)->type), type_word(type));
    if (CAP_FAILED(rc = resolve_medium_locked(m->core, medium, &md)))
        return rc;
    if (md && CAP_FAILED(rc = check_medium_locked(m, md, NULL)))
        return rc;
    struct attachment_cfg a = {
        .controller = (char *)ctl, .port = port, .device = device, .type = type};
    if (md)
        a.medium = md->id;
    return settings_add_att(&m->cfg, &a);
}

static struct attachment_cfg *find_att(struct machine_obj *m, const char *ctl, int32_t port,
                                       int32_t device, cap_result *rc)
{
    if (!slot_ctl(m, ctl, port, device, rc))
        return NULL;
    struct attachment_cfg *a = settings_find_att(&m->cfg, ctl, port, device);
    if (!a)
        *rc = cap_error_set(CAP_E_OBJECT_NOT_FOUND, SVC_COMPONENT, IFACE,
                            "no drive is attached at %s port %d device %d of '%s'", ctl, (int)port,
                            (int)device, m->cfg.name);
    return a;
}

cap_result storage_detach_locked(struct machine_obj *m, const char *ctl, int32_t port,
                                 int32_t device)
{
    cap_result rc = CAP_OK;
    struct attachment_cfg *a = find_att(m, ctl, port, device, &rc);
    if (a)
        settings_remove_att(&m->cfg, (uint32_t)(a - m->cfg.atts));
    return rc;
}

cap_result storage_mount_locked(struct machine_obj *m, const char *ctl, int32_t port,
                                int32_t device, IMedium *medium)
{
    cap_result rc = CAP_OK;
    struct medium *md = NULL;
    struct attachment_cfg *a = find_att(m, ctl, port, device, &rc);
    if (!a)
        return rc;
    if (a->type != DeviceType_DVD)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "%s port %d device %d of '%s' is a hard disk drive: media are "
                             "mounted in DVD drives (attachDevice changes a disk)",
                             ctl, (int)port, (int)device, m->cfg.name);
    if (medium && medium_from_foreign(medium) &&
        medium_from_foreign(medium)->type != DeviceType_DVD)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "the medium '%s' is a hard disk, not a DVD image",
                             medium_from_foreign(medium)->location);
    if (CAP_FAILED(rc = resolve_medium_locked(m->core, medium, &md)) ||
        (md && CAP_FAILED(rc = check_medium_locked(m, md, a))))
        return rc;
    memset(&a->medium, 0, sizeof(a->medium));
    if (md)
        a->medium = md->id;
    return CAP_OK;
}

cap_result storage_get_medium_locked(struct machine_obj *m, const char *ctl, int32_t port,
                                     int32_t device, IMedium **out)
{
    cap_result rc = CAP_OK;
    *out = NULL;
    struct attachment_cfg *a = find_att(m, ctl, port, device, &rc);
    if (!a || cap_uuid_is_null(&a->medium))
        return rc;
    struct medium *md =
        registry_find_medium_id_locked(m->core->registry, &a->medium, DeviceType_Null);
    if (md) {
        medium_addref(md);
        *out = &md->IMedium_iface;
    }
    return CAP_OK;
}

/* ---- a running VM's DVD drive ------------------------------------------------------ */

/* One hot change at a time: the VM's drive and the settings change in the
 * same order for every caller. */
static pthread_mutex_t hot_lock = PTHREAD_MUTEX_INITIALIZER;

/* Sets slot (ctl, port, device) of cfg to `id` if cfg has that drive. */
static void set_slot_medium(struct machine_cfg *cfg, const char *ctl, int32_t port, int32_t device,
                            const cap_uuid *id)
{
    struct attachment_cfg *a = settings_find_att(cfg, ctl, port, device);
    if (a)
        a->medium = *id;
}

/* The checks of a hot change (lock held): the VM runs, the slot is a DVD
 * drive, the medium may go there. Gives the new medium's id and file
 * (strdup'ed; NULL to eject), the bus and the VM's session control. */
static cap_result hot_prepare_locked(struct machine_obj *m, const char *ctl, int32_t port,
                                     int32_t device, IMedium *medium, cap_uuid *id, char **path,
                                     StorageBus *bus, IInternalSessionControl **hctl)
{
    struct machine *p = m->machine;
    if ((p->state != MachineState_Running && p->state != MachineState_Paused) ||
        p->lock_type != LockType_VM || !p->session || !p->holder_ctl)
        return cap_error_set(CAP_E_INVALID_VM_STATE, SVC_COMPONENT, IFACE,
                             "the machine '%s' is not running: change its drives with a "
                             "write-lock session (storageattach)",
                             m->cfg.name);
    struct machine_obj *vm = &p->session->obj;
    cap_result rc = CAP_OK;
    struct attachment_cfg *a = find_att(vm, ctl, port, device, &rc);
    if (!a)
        return rc;
    if (a->type != DeviceType_DVD)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "hot-plugging a hard disk is not supported: %s port %d device %d "
                             "of the running machine '%s' is a hard disk drive (only a DVD "
                             "drive's medium changes while the VM runs)",
                             ctl, (int)port, (int)device, m->cfg.name);
    /* The usual rules, tried on the VM's copy and undone: the VM changes
     * first, the settings after. */
    cap_uuid old = a->medium;
    rc = storage_mount_locked(vm, ctl, port, device, medium);
    a = settings_find_att(&vm->cfg, ctl, port, device);
    *id = a->medium;
    a->medium = old;
    if (CAP_FAILED(rc))
        return rc;
    *path = NULL;
    if (!cap_uuid_is_null(id)) {
        struct medium *md = registry_find_medium_id_locked(m->core->registry, id, DeviceType_DVD);
        if (!md || !(*path = cap_str_dup(md->location)))
            return md ? oom()
                      : cap_error_set(CAP_E_OBJECT_NOT_FOUND, SVC_COMPONENT, IFACE,
                                      "the medium is not registered");
    }
    *bus = settings_find_ctl(&vm->cfg, ctl)->bus;
    *hctl = p->holder_ctl;
    IInternalSessionControl_AddRef(*hctl);
    return CAP_OK;
}

cap_result storage_hot_mount(struct machine_obj *m, const char *ctl, int32_t port, int32_t device,
                             IMedium *medium, cap_bool force)
{
    struct machine *p = m->machine;
    cap_uuid id;
    char *path = NULL;
    StorageBus bus = StorageBus_Null;
    IInternalSessionControl *hctl = NULL;
    pthread_mutex_lock(&hot_lock);
    svc_core_lock(m->core);
    cap_result rc = hot_prepare_locked(m, ctl, port, device, medium, &id, &path, &bus, &hctl);
    svc_core_unlock(m->core);
    if (CAP_SUCCEEDED(rc))
        rc = IInternalSessionControl_OnMediumChange(hctl, bus, port, device, path ? path : "",
                                                    force);
    if (hctl)
        IInternalSessionControl_Release(hctl);
    cap_str_free(path);
    if (CAP_FAILED(rc)) {
        pthread_mutex_unlock(&hot_lock);
        return rc;
    }
    /* The guest has it: the machine's settings say so, and its file. */
    svc_core_lock(m->core);
    if (p->session) {
        set_slot_medium(&p->session->obj.cfg, ctl, port, device, &id);
        set_slot_medium(&p->session->obj.saved, ctl, port, device, &id);
    }
    set_slot_medium(&p->obj.cfg, ctl, port, device, &id);
    set_slot_medium(&p->obj.saved, ctl, port, device, &id);
    rc = machine_write_locked(p, NULL);
    if (CAP_FAILED(rc)) {
        char *why = cap_str_dup(cap_error_peek_message());
        rc = cap_error_set(rc, SVC_COMPONENT, IFACE,
                           "the running VM of '%s' has the new medium, but its settings file "
                           "could not be written: %s",
                           m->cfg.name, why ? why : "?");
        cap_str_free(why);
    }
    svc_core_unlock(m->core);
    pthread_mutex_unlock(&hot_lock);
    events_medium_changed(m->core->events, &p->id, ctl, port, device, &id);
    if (CAP_SUCCEEDED(rc))
        events_machine_data(m->core->events, &p->id);
    return rc;
}
