/*
 * service/capsule.c - ICapsule: the root object of capsule-svc.
 *
 * Finding, creating, opening and registering machines, and the way to every
 * other object (host, system properties, guest OS types, event source),
 * and the IPC diagnostics the service's main program provides.
 * The state behind it is the registry (registry.c: machine list, global
 * settings); creating and shutting down the service is svc.c; this file is
 * the interface.
 */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capsule/mem.h>
#include <capsule/object.h>
#include <capsule/uuid.h>

#include "guestos.h"
#include "imachine.h"
#include "imedium.h"
#include "registry.h"
#include "svc_root.h"
#include "sysprops.h"

#define IFACE "ICapsule"

struct svc *svc_from_ICapsule(ICapsule *iface)
{
    return CAP_CONTAINER_OF(iface, struct svc, ICapsule_iface);
}

static struct svc *impl(ICapsule *iface)
{
    return svc_from_ICapsule(iface);
}

static const struct cap_qi_entry svc_qi[] = {
    CAP_QI_ENTRY(IID_ICapsule, struct svc, ICapsule_iface),
    CAP_QI_END,
};

static cap_result c_QueryInterface(ICapsule *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(impl(self), svc_qi, iid, out);
}

static uint32_t c_AddRef(ICapsule *self)
{
    return cap_refcnt_inc(&impl(self)->ref);
}

static uint32_t c_Release(ICapsule *self)
{
    struct svc *svc = impl(self);
    uint32_t n = cap_refcnt_dec(&svc->ref);
    if (n)
        return n;
    registry_fini(&svc->registry);
    svc_core_fini(&svc->core);
    cap_free(svc);
    return 0;
}

static cap_result c_GetVersion(ICapsule *self, char **out)
{
    return svc_return_str(SVC_VERSION, out);
}

static cap_result c_GetRevision(ICapsule *self, uint32_t *out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = 0;
    return CAP_OK;
}

static cap_result c_GetHomeFolder(ICapsule *self, char **out)
{
    return svc_return_str(impl(self)->core.home, out);
}

static cap_result c_GetSettingsFilePath(ICapsule *self, char **out)
{
    return svc_return_str(impl(self)->registry.path, out);
}

static cap_result c_GetHost(ICapsule *self, IHost **out)
{
    struct svc *svc = impl(self);
    struct cap_registry *reg = svc->reg ? svc->reg : cap_registry_default();
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    if (!reg)
        return cap_error_set(CAP_E_UNEXPECTED, SVC_COMPONENT, IFACE, "the service has no registry");
    return cap_registry_create_instance_by_contract(reg, CAP_CONTRACT_Host, &IID_IHost,
                                                    (void **)out);
}

static cap_result c_GetSystemProperties(ICapsule *self, ISystemProperties **out)
{
    if (!out)
        return CAP_E_POINTER;
    return sysprops_create(&impl(self)->core, out);
}

static cap_result c_GetMachines(ICapsule *self, uint32_t *n, IMachine ***out)
{
    struct svc *svc = impl(self);
    if (!n || !out)
        return CAP_E_POINTER;
    *n = 0;
    svc_core_lock(&svc->core);
    struct registry *r = &svc->registry;
    *out = cap_alloc_zero((r->n_machines ? r->n_machines : 1) * sizeof(IMachine *));
    if (!*out) {
        svc_core_unlock(&svc->core);
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    }
    for (uint32_t i = 0; i < r->n_machines; i++) {
        machine_refresh_locked(r->machines[i]);
        (*out)[i] = &r->machines[i]->obj.IMachine_iface;
        machine_addref(r->machines[i]);
    }
    *n = r->n_machines;
    svc_core_unlock(&svc->core);
    return CAP_OK;
}

static cap_result c_GetGuestOSTypes(ICapsule *self, uint32_t *n, IGuestOSType ***out)
{
    return guestos_list(n, out);
}

static cap_result c_GetEventSource(ICapsule *self, IEventSource **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = event_source_iface(impl(self)->core.events);
    IEventSource_AddRef(*out);
    return CAP_OK;
}

static cap_result c_GetExtraDataKeys(ICapsule *self, uint32_t *n, char ***out)
{
    struct svc *svc = impl(self);
    if (!n || !out)
        return CAP_E_POINTER;
    *n = 0;
    svc_core_lock(&svc->core);
    struct kv_list *l = &svc->registry.global.extra;
    char **keys = cap_alloc_zero((l->n ? l->n : 1) * sizeof(char *));
    for (uint32_t i = 0; keys && i < l->n; i++)
        if (!(keys[i] = cap_str_dup(l->keys[i]))) {
            cap_array_free(CAP_TLT_STRING, i, keys);
            keys = NULL;
        }
    if (keys)
        *n = l->n;
    svc_core_unlock(&svc->core);
    *out = keys;
    return keys ? CAP_OK : cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
}

static cap_result compose(struct svc *svc, const char *name, const char *base, char **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    if (!name || !*name)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "the machine name must not be empty");
    if (base && *base && base[0] != '/')
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "the base folder '%s' is not absolute", base);
    char *safe = NULL;
    cap_result rc = machine_file_name(name, IFACE, &safe);
    if (CAP_FAILED(rc))
        return rc;
    char *folder = NULL;
    if (!base || !*base) {
        svc_core_lock(&svc->core);
        folder = registry_machine_folder_locked(&svc->registry);
        svc_core_unlock(&svc->core);
    }
    *out = cap_str_printf("%s/%s/%s.capsule", folder ? folder : base, safe, safe);
    cap_str_free(folder);
    cap_str_free(safe);
    return *out ? CAP_OK : cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
}

/* Diagnostics: what the IPC server (if any) reports; see svc_set_ipc_stats. */
static cap_result c_GetClientCount(ICapsule *self, uint32_t *out)
{
    const struct svc_ipc_stats *st = &impl(self)->ipc_stats;
    if (!out)
        return CAP_E_POINTER;
    *out = st->connection_count ? st->connection_count(st->srv) : 0;
    return CAP_OK;
}

static cap_result c_GetObjectHandleCount(ICapsule *self, uint32_t *out)
{
    const struct svc_ipc_stats *st = &impl(self)->ipc_stats;
    if (!out)
        return CAP_E_POINTER;
    *out = st->handle_count ? st->handle_count(st->srv) : 0;
    return CAP_OK;
}

static cap_result c_ComposeMachineFilename(ICapsule *self, const char *name, const char *base,
                                           char **out)
{
    return compose(impl(self), name, base, out);
}

static cap_result c_CreateMachine(ICapsule *self, const char *file, const char *name,
                                  const char *os, const cap_uuid *id, cap_bool force,
                                  IMachine **out)
{
    struct svc *svc = impl(self);
    char *path = NULL;
    cap_uuid nil = {{0}};
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    if (!name || !*name || !settings_text_ok(name) || strpbrk(name, "\t\r\n"))
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "the machine name must be non-empty UTF-8 text on one line");
    if (os && *os && !guestos_lookup(os))
        return cap_error_set(CAP_E_OBJECT_NOT_FOUND, SVC_COMPONENT, IFACE,
                             "no guest OS type '%s' (see `capsule list ostypes`)", os);
    if (file && *file && file[0] != '/')
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "the settings file '%s' is not an absolute path", file);
    if (file && *file && !settings_text_ok(file))
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "the settings file path is not valid UTF-8");
    cap_result rc = (file && *file) ? ((path = cap_str_dup(file)) ? CAP_OK : CAP_E_OUTOFMEMORY)
                                    : compose(svc, name, "", &path);
    if (CAP_FAILED(rc))
        return rc;
    svc_core_lock(&svc->core);
    if (!force && access(path, F_OK) == 0)
        rc = cap_error_set(CAP_E_OBJECT_EXISTS, SVC_COMPONENT, IFACE,
                           "the settings file '%s' already exists%s", path,
                           registry_find_path_locked(&svc->registry, path)
                               ? ""
                               : " (no machine registered from it: `capsule registervm` it, or "
                                 "remove it)");
    else if (id && !cap_uuid_is_null(id) && registry_find_id_locked(&svc->registry, id))
        rc = cap_error_set(CAP_E_OBJECT_EXISTS, SVC_COMPONENT, IFACE,
                           "a machine with this UUID is already registered");
    svc_core_unlock(&svc->core);
    struct machine *m = NULL;
    if (CAP_SUCCEEDED(rc))
        rc = machine_create_new(&svc->core, path, name, os, id ? id : &nil, force, &m);
    cap_str_free(path);
    if (CAP_SUCCEEDED(rc)) {
        svc_core_lock(&svc->core);
        registry_new_mac_locked(&svc->registry, NULL, m->obj.cfg.nic[0].mac);
        memcpy(m->obj.saved.nic[0].mac, m->obj.cfg.nic[0].mac, sizeof(m->obj.saved.nic[0].mac));
        svc_core_unlock(&svc->core);
    }
    if (CAP_SUCCEEDED(rc))
        *out = &m->obj.IMachine_iface;
    return rc;
}

static cap_result c_OpenMachine(ICapsule *self, const char *file, IMachine **out)
{
    struct svc *svc = impl(self);
    if (!file || !out)
        return CAP_E_POINTER;
    *out = NULL;
    char *path = file[0] == '/' ? cap_str_dup(file) : cap_str_printf("%s/%s", svc->core.home, file);
    if (!path)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    struct machine *m = NULL;
    cap_uuid nil = {{0}};
    cap_result rc = machine_create_from_file(&svc->core, path, &nil, 0, &m);
    cap_str_free(path);
    if (CAP_SUCCEEDED(rc))
        *out = &m->obj.IMachine_iface;
    return rc;
}

static cap_result c_RegisterMachine(ICapsule *self, IMachine *machine)
{
    struct svc *svc = impl(self);
    struct machine *m = machine_from_foreign(machine);
    if (!m || m->obj.core != &svc->core)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "the machine does not come from this service (createMachine or "
                             "openMachine)");
    cap_result rc = CAP_OK;
    char id[CAP_UUID_BUFSIZE];
    svc_core_lock(&svc->core);
    if (svc->core.uninited)
        rc = cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, IFACE,
                           "the service is shutting down");
    else if (m->registered)
        rc = cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, IFACE,
                           "the machine '%s' is already registered", m->obj.cfg.name);
    else if (!m->accessible)
        rc = cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, IFACE,
                           "the machine is inaccessible");
    else if (registry_find_id_locked(&svc->registry, &m->id))
        rc = cap_error_set(CAP_E_OBJECT_EXISTS, SVC_COMPONENT, IFACE,
                           "a machine with UUID {%s} is already registered",
                           cap_uuid_format(&m->id, id));
    else if (registry_name_taken_locked(&svc->registry, m->obj.cfg.name, m))
        rc = cap_error_set(CAP_E_OBJECT_EXISTS, SVC_COMPONENT, IFACE,
                           "a machine named '%s' is already registered", m->obj.cfg.name);
    if (CAP_SUCCEEDED(rc) && (m->obj.modified || !m->ever_saved))
        rc = IMachine_SaveSettings(&m->obj.IMachine_iface); /* recursive lock */
    if (CAP_SUCCEEDED(rc))
        rc = registry_add_locked(&svc->registry, m);
    svc_core_unlock(&svc->core);
    if (CAP_SUCCEEDED(rc))
        events_machine_registered(svc->core.events, &m->id, 1);
    return rc;
}

static cap_result c_FindMachine(ICapsule *self, const char *what, IMachine **out)
{
    struct svc *svc = impl(self);
    if (!what || !out)
        return CAP_E_POINTER;
    *out = NULL;
    cap_uuid id;
    int is_id = CAP_SUCCEEDED(cap_uuid_parse(what, &id));
    if (!is_id)
        cap_error_clear();
    struct machine *found = NULL;
    svc_core_lock(&svc->core);
    if (is_id)
        found = registry_find_id_locked(&svc->registry, &id);
    if (!found)
        found = registry_find_name_locked(&svc->registry, what);
    if (found) {
        machine_addref(found);
        *out = &found->obj.IMachine_iface;
    }
    svc_core_unlock(&svc->core);
    return found ? CAP_OK
                 : cap_error_set(CAP_E_OBJECT_NOT_FOUND, SVC_COMPONENT, IFACE,
                                 "no registered machine is called '%s'", what);
}

static cap_result c_GetMachineStates(ICapsule *self, uint32_t n, IMachine *const *machines,
                                     uint32_t *n_out, MachineState **out)
{
    if (!n_out || !out || (n && !machines))
        return CAP_E_POINTER;
    *n_out = 0;
    *out = cap_alloc_zero((n ? n : 1) * sizeof(MachineState));
    if (!*out)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        cap_result rc = machines[i] ? IMachine_GetState(machines[i], &(*out)[i]) : CAP_E_POINTER;
        if (CAP_FAILED(rc)) {
            cap_free(*out);
            *out = NULL;
            return rc;
        }
    }
    *n_out = n;
    return CAP_OK;
}

static cap_result c_GetGuestOSType(ICapsule *self, const char *id, IGuestOSType **out)
{
    return guestos_get(id, out);
}

static cap_result c_GetExtraData(ICapsule *self, const char *key, char **value)
{
    struct svc *svc = impl(self);
    if (!key)
        return CAP_E_POINTER;
    svc_core_lock(&svc->core);
    cap_result rc = svc_return_str(kv_get(&svc->registry.global.extra, key), value);
    svc_core_unlock(&svc->core);
    return rc;
}

static cap_result c_SetExtraData(ICapsule *self, const char *key, const char *value)
{
    struct svc *svc = impl(self);
    if (!key || !*key || !settings_text_ok(key))
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "the extra data key must be non-empty UTF-8 text");
    if (!value)
        value = "";
    if (!settings_text_ok(value))
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "the extra data value is not valid UTF-8 text");
    struct kv_list old = {0};
    svc_core_lock(&svc->core);
    cap_result rc = kv_copy(&old, &svc->registry.global.extra);
    if (CAP_SUCCEEDED(rc))
        rc = kv_set(&svc->registry.global.extra, key, value);
    if (CAP_SUCCEEDED(rc)) {
        rc = registry_save_locked(&svc->registry);
        if (CAP_FAILED(rc)) {
            kv_clear(&svc->registry.global.extra);
            svc->registry.global.extra = old;
            memset(&old, 0, sizeof(old));
        }
    }
    svc_core_unlock(&svc->core);
    kv_clear(&old);
    if (CAP_SUCCEEDED(rc))
        events_extra_data(svc->core.events, NULL, key, value);
    return rc;
}

static cap_result c_GetHardDisks(ICapsule *self, uint32_t *n, IMedium ***out)
{
    return imedium_list(&impl(self)->core, DeviceType_HardDisk, n, out);
}

static cap_result c_GetDvdImages(ICapsule *self, uint32_t *n, IMedium ***out)
{
    return imedium_list(&impl(self)->core, DeviceType_DVD, n, out);
}

static cap_result c_CreateMedium(ICapsule *self, const char *format, const char *location,
                                 AccessMode access, DeviceType type, IMedium **out)
{
    return imedium_create(&impl(self)->core, format, location, access, type, out);
}

static cap_result c_OpenMedium(ICapsule *self, const char *location, DeviceType type,
                               AccessMode access, IMedium **out)
{
    return imedium_open(&impl(self)->core, location, type, access, out);
}

static cap_result c_FindMedium(ICapsule *self, const char *location, DeviceType type, IMedium **out)
{
    return imedium_find(&impl(self)->core, location, type, out);
}

static const struct ICapsuleVtbl capsule_vtbl = {
    .QueryInterface = c_QueryInterface,
    .AddRef = c_AddRef,
    .Release = c_Release,
    .GetVersion = c_GetVersion,
    .GetRevision = c_GetRevision,
    .GetHomeFolder = c_GetHomeFolder,
    .GetSettingsFilePath = c_GetSettingsFilePath,
    .GetHost = c_GetHost,
    .GetSystemProperties = c_GetSystemProperties,
    .GetMachines = c_GetMachines,
    .GetGuestOSTypes = c_GetGuestOSTypes,
    .GetEventSource = c_GetEventSource,
    .GetExtraDataKeys = c_GetExtraDataKeys,
    .GetClientCount = c_GetClientCount,
    .GetObjectHandleCount = c_GetObjectHandleCount,
    .ComposeMachineFilename = c_ComposeMachineFilename,
    .CreateMachine = c_CreateMachine,
    .OpenMachine = c_OpenMachine,
    .RegisterMachine = c_RegisterMachine,
    .FindMachine = c_FindMachine,
    .GetMachineStates = c_GetMachineStates,
    .GetGuestOSType = c_GetGuestOSType,
    .GetExtraData = c_GetExtraData,
    .SetExtraData = c_SetExtraData,
    .GetHardDisks = c_GetHardDisks,
    .GetDvdImages = c_GetDvdImages,
    .CreateMedium = c_CreateMedium,
    .OpenMedium = c_OpenMedium,
    .FindMedium = c_FindMedium,
};

cap_result svc_create_object(const char *home, struct svc **out)
{
    struct svc *svc = cap_alloc_zero(sizeof(*svc));
    *out = NULL;
    if (!svc)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    svc->ICapsule_iface.vtbl = &capsule_vtbl;
    cap_refcnt_init(&svc->ref, 1);
    *out = svc;
    return svc_core_init(&svc->core, &svc->ICapsule_iface, home);
}
