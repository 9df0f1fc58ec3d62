/*
 * service/imachine.c - IMachine and IInternalMachineControl: the methods of
 * every machine object (imachine.h), the registered machine (machine.h) and
 * a session's copy (session_machine.h) alike. Getters read the object's own
 * working settings (obj.cfg); the state, the lock and the extra data always
 * come from the machine (obj.machine). Methods that are more than an
 * attribute dispatch to the part that owns them: saving and locking to the
 * session machine, registering to the registry, launching to vmlaunch.c,
 * the file to machine.c.
 *
 * Setter rules (the IDL's IMachine description): a setter works only on a
 * mutable object — a primary that is not registered, or the session copy
 * while its session holds the write lock — and fails with
 * CAP_E_INVALID_OBJECT_STATE otherwise; settings a running VM cannot change
 * (memory, CPUs, engine) fail with CAP_E_INVALID_VM_STATE while the machine
 * is not at rest. Values are checked here, before anything changes,
 * against this build's limits (vmm/platform/platform_limits.h, the ones
 * ISystemProperties publishes and the VM process enforces), each refusal
 * naming the limit and why. Memory beyond the host's physical RAM is
 * accepted (the host may grow, the VM process refuses it unless forced).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capsule/mem.h>
#include <capsule/object.h>
#include <capsule/uuid.h>

#include "cpuprofile.h"
#include "errinfo.h"
#include "guestos.h"
#include "imachine.h"
#include "netadapter.h"
#include "platform/platform_limits.h"
#include "registry.h"
#include "serialport.h"
#include "session_machine.h"
#include "storage.h"
#include "vmlaunch.h"
#include "vrdeserver.h"

#define IFACE "IMachine"

static struct machine_obj *impl(IMachine *iface)
{
    return machine_obj_from_IMachine(iface);
}

static const struct cap_qi_entry machine_qi[] = {
    CAP_QI_ENTRY(IID_IMachine, struct machine_obj, IMachine_iface),
    CAP_QI_ENTRY(IID_IInternalMachineControl, struct machine_obj, IInternalMachineControl_iface),
    CAP_QI_END,
};

static cap_result m_QueryInterface(IMachine *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(impl(self), machine_qi, iid, out);
}

static uint32_t m_AddRef(IMachine *self)
{
    return cap_refcnt_inc(&impl(self)->ref);
}

static uint32_t m_Release(IMachine *self)
{
    struct machine_obj *m = impl(self);
    uint32_t n = cap_refcnt_dec(&m->ref);
    if (n)
        return n;
    if (m->kind == MACHINE_SESSION)
        session_machine_destroy(session_machine_of(m));
    else
        machine_destroy(m->machine);
    return 0;
}

/* ---- access checks ----------------------------------------------------------- */

/* Locks; fails (unlocked) if m is an inaccessible primary. */
static cap_result begin_get(struct machine_obj *m)
{
    svc_core_lock(m->core);
    struct machine *p = m->machine;
    if (m->kind == MACHINE_PRIMARY && !p->accessible) {
        char id[CAP_UUID_BUFSIZE];
        cap_result rc =
            cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, IFACE,
                          "the machine {%s} is inaccessible: %s", cap_uuid_format(&p->id, id),
                          p->access_error.message ? p->access_error.message : "");
        svc_core_unlock(m->core);
        return rc;
    }
    return CAP_OK;
}

enum { SET_ANY = 0, SET_STOPPED = 1 };

/* Locks; fails (unlocked) unless m is mutable (and at rest if asked). */
static cap_result begin_set(struct machine_obj *m, int flags)
{
    svc_core_lock(m->core);
    cap_result rc = CAP_OK;
    if (!machine_obj_mutable_locked(m))
        rc = cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, IFACE,
                           m->kind == MACHINE_PRIMARY && m->machine->registered
                               ? "the machine '%s' is registered: lock it with a write-lock "
                                 "session and change the session's machine"
                               : "the machine '%s' is not mutable (its session was unlocked)",
                           m->cfg.name);
    else if ((flags & SET_STOPPED) && !machine_state_at_rest(m->machine->state))
        rc = cap_error_set(CAP_E_INVALID_VM_STATE, SVC_COMPONENT, IFACE,
                           "the machine '%s' is running; this setting cannot change until it is "
                           "powered off",
                           m->cfg.name);
    if (CAP_FAILED(rc))
        svc_core_unlock(m->core);
    return rc;
}

static cap_result end_set(struct machine_obj *m)
{
    m->modified = 1;
    svc_core_unlock(m->core);
    return CAP_OK;
}

static cap_result bad_text(const char *what)
{
    return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                         "the %s is not valid UTF-8 text (or holds control characters)", what);
}

/* ---- getters ---------------------------------------------------------------- */

#define STR_GETTER(name, field)                                                                    \
    static cap_result m_Get##name(IMachine *self, char **out)                                      \
    {                                                                                              \
        struct machine_obj *m = impl(self);                                                        \
        cap_result rc = begin_get(m);                                                              \
        if (CAP_FAILED(rc))                                                                        \
            return rc;                                                                             \
        rc = svc_return_str(m->cfg.field, out);                                                    \
        svc_core_unlock(m->core);                                                                  \
        return rc;                                                                                 \
    }
#define VAL_GETTER(name, type, expr)                                                               \
    static cap_result m_Get##name(IMachine *self, type *out)                                       \
    {                                                                                              \
        struct machine_obj *m = impl(self);                                                        \
        if (!out)                                                                                  \
            return CAP_E_POINTER;                                                                  \
        cap_result rc = begin_get(m);                                                              \
        if (CAP_FAILED(rc))                                                                        \
            return rc;                                                                             \
        *out = (expr);                                                                             \
        svc_core_unlock(m->core);                                                                  \
        return CAP_OK;                                                                             \
    }
/* Getters that also work on inaccessible machines. */
#define SHARED_GETTER(name, type, expr)                                                            \
    static cap_result m_Get##name(IMachine *self, type *out)                                       \
    {                                                                                              \
        struct machine_obj *m = impl(self);                                                        \
        if (!out)                                                                                  \
            return CAP_E_POINTER;                                                                  \
        svc_core_lock(m->core);                                                                    \
        struct machine *sh = m->machine;                                                           \
        (void)sh;                                                                                  \
        *out = (expr);                                                                             \
        svc_core_unlock(m->core);                                                                  \
        return CAP_OK;                                                                             \
    }

STR_GETTER(Name, name)
STR_GETTER(Description, description)
STR_GETTER(OsTypeId, os_type)
STR_GETTER(Kernel, kernel)
STR_GETTER(Initrd, initrd)
STR_GETTER(Cmdline, cmdline)
STR_GETTER(CpuProfile, cpu_profile)
VAL_GETTER(MemorySize, uint32_t, m->cfg.memory)
VAL_GETTER(CpuCount, uint32_t, m->cfg.cpus)
VAL_GETTER(Engine, ExecutionEngine, m->cfg.engine)
VAL_GETTER(DebugExitEnabled, cap_bool, m->cfg.debug_exit)
VAL_GETTER(FirmwareType, FirmwareType, m->cfg.firmware)
VAL_GETTER(GraphicsControllerType, GraphicsControllerType, m->cfg.graphics)
VAL_GETTER(SettingsModified, cap_bool, machine_obj_mutable_locked(m) && m->modified)
VAL_GETTER(LastStateChange, int64_t, m->machine->last_state_change)

static cap_result m_GetAbortReason(IMachine *self, char **out)
{
    struct machine_obj *m = impl(self);
    cap_result rc = begin_get(m);
    if (CAP_FAILED(rc))
        return rc;
    const char *why = machine_abort_reason_locked(m->machine);
    rc = svc_return_str(why ? why : "", out);
    svc_core_unlock(m->core);
    return rc;
}
VAL_GETTER(SessionPID, uint32_t, m->machine->holder ? m->machine->holder_pid : 0)
SHARED_GETTER(Id, cap_uuid, sh->id)
SHARED_GETTER(State, MachineState, sh->state)
SHARED_GETTER(SessionState, SessionState, sh->session_state)

static cap_result m_GetAccessible(IMachine *self, cap_bool *out)
{
    struct machine_obj *m = impl(self);
    if (!out)
        return CAP_E_POINTER;
    svc_core_lock(m->core);
    struct machine *sh = m->machine;
    machine_refresh_locked(sh);
    *out = sh->accessible ? CAP_TRUE : CAP_FALSE;
    svc_core_unlock(m->core);
    return CAP_OK;
}

static cap_result m_GetAccessError(IMachine *self, IErrorInfo **out)
{
    struct machine_obj *m = impl(self);
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    svc_core_lock(m->core);
    struct machine *sh = m->machine;
    machine_refresh_locked(sh);
    cap_result rc = sh->accessible ? CAP_OK : errinfo_create(&sh->access_error, out);
    svc_core_unlock(m->core);
    return rc;
}

static cap_result m_GetSettingsFilePath(IMachine *self, char **out)
{
    struct machine_obj *m = impl(self);
    svc_core_lock(m->core);
    cap_result rc = svc_return_str(m->machine->path, out);
    svc_core_unlock(m->core);
    return rc;
}

static cap_result m_GetLogFolder(IMachine *self, char **out)
{
    struct machine_obj *m = impl(self);
    cap_result rc = begin_get(m);
    if (CAP_FAILED(rc))
        return rc;
    char *f = machine_log_folder(m->machine);
    svc_core_unlock(m->core);
    rc = svc_return_str(f, out);
    cap_str_free(f);
    return rc;
}

static cap_result m_GetSessionName(IMachine *self, char **out)
{
    /* The frontend of the VM process launchVMProcess started, while it runs. */
    struct machine_obj *m = impl(self);
    svc_core_lock(m->core);
    cap_result rc = svc_return_str(m->machine->frontend, out);
    svc_core_unlock(m->core);
    return rc;
}

static cap_result m_GetSerialPorts(IMachine *self, uint32_t *n, ISerialPort ***out)
{
    struct machine_obj *m = impl(self);
    if (!n || !out)
        return CAP_E_POINTER;
    *n = 0;
    *out = NULL;
    cap_result rc = begin_get(m);
    if (CAP_FAILED(rc))
        return rc;
    svc_core_unlock(m->core);
    ISerialPort **ports = cap_alloc_zero(SETTINGS_SERIAL_SLOTS * sizeof(*ports));
    if (!ports)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    for (uint32_t i = 0; i < SETTINGS_SERIAL_SLOTS; i++)
        if (CAP_FAILED(rc = serialport_create(m, i, &ports[i]))) {
            cap_array_free(CAP_TLT_IFACE, i, ports);
            return rc;
        }
    *n = SETTINGS_SERIAL_SLOTS;
    *out = ports;
    return CAP_OK;
}

/* begin_get's check alone, for the getters of the machine's part objects. */
static cap_result readable(struct machine_obj *m)
{
    cap_result rc = begin_get(m);
    if (CAP_SUCCEEDED(rc))
        svc_core_unlock(m->core);
    return rc;
}

static cap_result m_GetSerialPort(IMachine *self, uint32_t slot, ISerialPort **out)
{
    struct machine_obj *m = impl(self);
    if (!out)
        return CAP_E_POINTER;
    cap_result rc = readable(m);
    return CAP_FAILED(rc) ? rc : serialport_create(m, slot, out);
}

static cap_result m_GetNetworkAdapter(IMachine *self, uint32_t slot, INetworkAdapter **out)
{
    struct machine_obj *m = impl(self);
    if (!out)
        return CAP_E_POINTER;
    cap_result rc = readable(m);
    return CAP_FAILED(rc) ? rc : netadapter_create(m, slot, out);
}

static cap_result m_GetVRDEServer(IMachine *self, IVRDEServer **out)
{
    struct machine_obj *m = impl(self);
    if (!out)
        return CAP_E_POINTER;
    cap_result rc = readable(m);
    return CAP_FAILED(rc) ? rc : vrdeserver_create(m, out);
}

static cap_result m_GetExtraDataKeys(IMachine *self, uint32_t *n, char ***out)
{
    struct machine_obj *m = impl(self);
    if (!n || !out)
        return CAP_E_POINTER;
    *n = 0;
    *out = NULL;
    cap_result rc = begin_get(m);
    if (CAP_FAILED(rc))
        return rc;
    struct kv_list *l = &m->machine->extra;
    char **keys = cap_alloc_zero((l->n ? l->n : 1) * sizeof(char *));
    for (uint32_t i = 0; keys && i < l->n; i++)
        if (!(keys[i] = cap_str_dup(l->keys[i]))) {
            cap_array_free(CAP_TLT_STRING, i, keys);
            keys = NULL;
        }
    if (keys) {
        *n = l->n;
        *out = keys;
    }
    svc_core_unlock(m->core);
    return keys ? CAP_OK : cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
}

/* ---- setters ---------------------------------------------------------------- */

static cap_result set_str(struct machine_obj *m, char **field, const char *v)
{
    char *copy = cap_str_dup(v);
    if (!copy) {
        svc_core_unlock(m->core);
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    }
    cap_str_free(*field);
    *field = copy;
    return end_set(m);
}

static cap_result m_SetName(IMachine *self, const char *v)
{
    struct machine_obj *m = impl(self);
    if (!v || !*v)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE, "the name must not be empty");
    if (!settings_text_ok(v) || strpbrk(v, "\t\r\n"))
        return bad_text("name");
    cap_result rc = begin_set(m, SET_ANY);
    if (CAP_FAILED(rc))
        return rc;
    if (registry_name_taken_locked(m->core->registry, v, m->machine)) {
        svc_core_unlock(m->core);
        return cap_error_set(CAP_E_OBJECT_EXISTS, SVC_COMPONENT, IFACE,
                             "a machine named '%s' is already registered", v);
    }
    return set_str(m, &m->cfg.name, v);
}

static cap_result m_SetDescription(IMachine *self, const char *v)
{
    struct machine_obj *m = impl(self);
    if (!v || !settings_text_ok(v))
        return bad_text("description");
    cap_result rc = begin_set(m, SET_ANY);
    return CAP_FAILED(rc) ? rc : set_str(m, &m->cfg.description, v);
}

static cap_result m_SetOsTypeId(IMachine *self, const char *v)
{
    struct machine_obj *m = impl(self);
    const struct guestos_info *os = guestos_lookup(v);
    if (!os)
        return cap_error_set(CAP_E_OBJECT_NOT_FOUND, SVC_COMPONENT, IFACE,
                             "no guest OS type '%s' (see `capsule list ostypes`)", v ? v : "");
    cap_result rc = begin_set(m, SET_ANY);
    return CAP_FAILED(rc) ? rc : set_str(m, &m->cfg.os_type, os->id);
}

/* A boot file ("" for none) must be there when set, as VirtualBox refuses
 * a medium that does not exist: an absolute path to a regular file this
 * service (running as the user who starts the VM) can read. Checked
 * without opening it (a FIFO would block the VM process's open). The VM
 * process checks again at power-up: the file may go away in between. */
static cap_result check_path(const char *v, const char *what)
{
    if (!v || !settings_text_ok(v) || strpbrk(v, "\r\n"))
        return bad_text(what);
    if (!*v)
        return CAP_OK;
    if (v[0] != '/')
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "the %s path '%s' is not absolute", what, v);
    struct stat st;
    if (stat(v, &st) != 0 || (S_ISREG(st.st_mode) && access(v, R_OK) != 0))
        return cap_error_set(CAP_E_FILE_ERROR, SVC_COMPONENT, IFACE, "cannot use the %s '%s': %s",
                             what, v, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "the %s path '%s' is not a regular file (%s)", what, v,
                             S_ISFIFO(st.st_mode)  ? "a FIFO"
                             : S_ISDIR(st.st_mode) ? "a directory"
                                                   : "a device");
    return CAP_OK;
}

/* A boot file setter: the file must be usable now (check_path). */
static cap_result set_boot_file(struct machine_obj *m, char **field, const char *v,
                                const char *what)
{
    cap_result rc = check_path(v, what);
    if (CAP_SUCCEEDED(rc))
        rc = begin_set(m, SET_STOPPED);
    return CAP_FAILED(rc) ? rc : set_str(m, field, v);
}

static cap_result m_SetKernel(IMachine *self, const char *v)
{
    struct machine_obj *m = impl(self);
    return set_boot_file(m, &m->cfg.kernel, v, "kernel");
}

static cap_result m_SetInitrd(IMachine *self, const char *v)
{
    struct machine_obj *m = impl(self);
    return set_boot_file(m, &m->cfg.initrd, v, "initrd");
}

static cap_result m_SetCmdline(IMachine *self, const char *v)
{
    struct machine_obj *m = impl(self);
    if (!v || !settings_text_ok(v))
        return bad_text("kernel command line");
    if (strlen(v) > SETTINGS_CMDLINE_MAX)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "the kernel command line has %zu bytes; at most %u are allowed",
                             strlen(v), SETTINGS_CMDLINE_MAX);
    cap_result rc = begin_set(m, SET_STOPPED);
    return CAP_FAILED(rc) ? rc : set_str(m, &m->cfg.cmdline, v);
}

static cap_result m_SetMemorySize(IMachine *self, uint32_t v)
{
    struct machine_obj *m = impl(self);
    if (v < PLATFORM_MIN_RAM_MB || v > PLATFORM_MAX_RAM_MB)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "memory size %u MB is not between %u and %u MB (the most a guest's "
                             "%u-bit physical addresses reach)",
                             (unsigned)v, PLATFORM_MIN_RAM_MB, PLATFORM_MAX_RAM_MB,
                             PLATFORM_GUEST_PHYS_BITS);
    cap_result rc = begin_set(m, SET_STOPPED);
    if (CAP_FAILED(rc))
        return rc;
    m->cfg.memory = v;
    return end_set(m);
}

static cap_result m_SetCpuCount(IMachine *self, uint32_t v)
{
    struct machine_obj *m = impl(self);
    if (v < PLATFORM_MIN_CPUS)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "CPU count %u: a machine has at least %u vCPU", (unsigned)v,
                             PLATFORM_MIN_CPUS);
    if (v > PLATFORM_MAX_CPUS)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "CPU count %u is more than %u: %s", (unsigned)v, PLATFORM_MAX_CPUS,
                             PLATFORM_CPUS_WHY);
    cap_result rc = begin_set(m, SET_STOPPED);
    if (CAP_FAILED(rc))
        return rc;
    m->cfg.cpus = v;
    return end_set(m);
}

static cap_result m_SetEngine(IMachine *self, ExecutionEngine v)
{
    struct machine_obj *m = impl(self);
    if ((unsigned)v >= PLATFORM_ENGINE_COUNT)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE, "unknown engine %d", (int)v);
    const char *missing = platform_engine_missing((unsigned)v);
    if (missing) {
        char have[64] = "";
        for (unsigned e = 0, len = 0; e < PLATFORM_ENGINE_COUNT; e++)
            if (!platform_engine_missing(e))
                len += (unsigned)snprintf(have + len, sizeof(have) - len, "%s%s", len ? ", " : "",
                                          settings_engine_name((ExecutionEngine)e));
        return cap_error_set(CAP_E_NOT_SUPPORTED, SVC_COMPONENT, IFACE,
                             "engine %s: %s (this build has %s)", settings_engine_name(v), missing,
                             have);
    }
    cap_result rc = begin_set(m, SET_STOPPED);
    if (CAP_FAILED(rc))
        return rc;
    m->cfg.engine = v;
    return end_set(m);
}

/* Stored in the table's spelling; "" restores the default. */
static cap_result m_SetCpuProfile(IMachine *self, const char *v)
{
    struct machine_obj *m = impl(self);
    const char *name = cpuprofile_canonical(v);
    if (!name)
        return cpuprofile_unknown(v, IFACE);
    cap_result rc = begin_set(m, SET_STOPPED);
    return CAP_FAILED(rc) ? rc : set_str(m, &m->cfg.cpu_profile, name);
}

static cap_result m_SetDebugExitEnabled(IMachine *self, cap_bool v)
{
    struct machine_obj *m = impl(self);
    cap_result rc = begin_set(m, SET_STOPPED);
    if (CAP_FAILED(rc))
        return rc;
    m->cfg.debug_exit = v ? CAP_TRUE : CAP_FALSE;
    return end_set(m);
}

static cap_result m_SetFirmwareType(IMachine *self, FirmwareType v)
{
    struct machine_obj *m = impl(self);
    if (v == FirmwareType_EFI)
        return cap_error_set(CAP_E_NOT_SUPPORTED, SVC_COMPONENT, IFACE,
                             "EFI firmware is not in this build yet (bios or none)");
    if (v != FirmwareType_None && v != FirmwareType_BIOS)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE, "unknown firmware type %u",
                             (unsigned)v);
    cap_result rc = begin_set(m, SET_STOPPED);
    if (CAP_FAILED(rc))
        return rc;
    m->cfg.firmware = v;
    return end_set(m);
}

static cap_result m_SetGraphicsControllerType(IMachine *self, GraphicsControllerType v)
{
    struct machine_obj *m = impl(self);
    if (v != GraphicsControllerType_Null && v != GraphicsControllerType_VGA)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "unknown graphics controller type %u (this build has VGA and Null)",
                             (unsigned)v);
    cap_result rc = begin_set(m, SET_STOPPED);
    if (CAP_FAILED(rc))
        return rc;
    m->cfg.graphics = v;
    return end_set(m);
}

static cap_result check_boot_position(uint32_t position)
{
    if (position < 1 || position > SETTINGS_BOOT_SLOTS)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "boot position %u is not 1 to %u", (unsigned)position,
                             SETTINGS_BOOT_SLOTS);
    return CAP_OK;
}

static cap_result m_SetBootOrder(IMachine *self, uint32_t position, DeviceType device)
{
    struct machine_obj *m = impl(self);
    cap_result rc = check_boot_position(position);
    if (CAP_SUCCEEDED(rc) && device != DeviceType_Null && device != DeviceType_HardDisk &&
        device != DeviceType_DVD)
        rc = cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                           "boot device %u: the firmware boots from a hard disk or a DVD (or "
                           "Null for none)",
                           (unsigned)device);
    if (CAP_SUCCEEDED(rc))
        rc = begin_set(m, SET_STOPPED);
    if (CAP_FAILED(rc))
        return rc;
    m->cfg.boot[position - 1] = device;
    return end_set(m);
}

static cap_result m_GetBootOrder(IMachine *self, uint32_t position, DeviceType *out)
{
    struct machine_obj *m = impl(self);
    if (!out)
        return CAP_E_POINTER;
    cap_result rc = check_boot_position(position);
    if (CAP_SUCCEEDED(rc))
        rc = begin_get(m);
    if (CAP_FAILED(rc))
        return rc;
    *out = m->cfg.boot[position - 1];
    svc_core_unlock(m->core);
    return CAP_OK;
}

/* ---- storage (storage.c) ------------------------------------------------------------- */

static cap_result m_GetStorageControllers(IMachine *self, uint32_t *n, IStorageController ***out)
{
    return storage_controllers(impl(self), n, out);
}

static cap_result m_GetMediumAttachments(IMachine *self, uint32_t *n, IMediumAttachment ***out)
{
    return storage_attachments(impl(self), n, out);
}

/* Ends a storage change: kept (rc succeeded) or refused. */
static cap_result end_storage(struct machine_obj *m, cap_result rc)
{
    if (CAP_SUCCEEDED(rc))
        return end_set(m);
    svc_core_unlock(m->core);
    return rc;
}

static cap_result m_AddStorageController(IMachine *self, const char *name, StorageBus bus,
                                         IStorageController **out)
{
    struct machine_obj *m = impl(self);
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    cap_result rc = storage_check_new_ctl(name, bus);
    if (CAP_SUCCEEDED(rc))
        rc = begin_set(m, SET_STOPPED);
    if (CAP_FAILED(rc))
        return rc;
    rc = end_storage(m, storage_add_ctl_locked(m, name, bus));
    return CAP_FAILED(rc) ? rc : storagectl_create(m, name, out);
}

static cap_result m_RemoveStorageController(IMachine *self, const char *name)
{
    struct machine_obj *m = impl(self);
    cap_result rc = begin_set(m, SET_STOPPED);
    return CAP_FAILED(rc) ? rc : end_storage(m, storage_remove_ctl_locked(m, name));
}

static cap_result m_GetStorageControllerByName(IMachine *self, const char *name,
                                               IStorageController **out)
{
    struct machine_obj *m = impl(self);
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    cap_result rc = begin_get(m);
    if (CAP_FAILED(rc))
        return rc;
    int found = name && settings_find_ctl(&m->cfg, name);
    svc_core_unlock(m->core);
    if (!found)
        return cap_error_set(CAP_E_OBJECT_NOT_FOUND, SVC_COMPONENT, IFACE,
                             "the machine '%s' has no storage controller '%s'", m->cfg.name,
                             name ? name : "");
    return storagectl_create(m, name, out);
}

static cap_result m_SetStorageControllerBootable(IMachine *self, const char *name, cap_bool on)
{
    struct machine_obj *m = impl(self);
    cap_result rc = begin_set(m, SET_STOPPED);
    return CAP_FAILED(rc) ? rc : end_storage(m, storage_set_bootable_locked(m, name, on));
}

static cap_result m_AttachDevice(IMachine *self, const char *name, int32_t port, int32_t device,
                                 DeviceType type, IMedium *medium)
{
    struct machine_obj *m = impl(self);
    cap_result rc = begin_set(m, SET_STOPPED);
    return CAP_FAILED(rc)
               ? rc
               : end_storage(m, storage_attach_locked(m, name, port, device, type, medium));
}

static cap_result m_DetachDevice(IMachine *self, const char *name, int32_t port, int32_t device)
{
    struct machine_obj *m = impl(self);
    cap_result rc = begin_set(m, SET_STOPPED);
    return CAP_FAILED(rc) ? rc : end_storage(m, storage_detach_locked(m, name, port, device));
}

static cap_result m_MountMedium(IMachine *self, const char *name, int32_t port, int32_t device,
                                IMedium *medium, cap_bool force)
{
    struct machine_obj *m = impl(self);
    /* A running machine (seen through a Shared session's machine): the VM
     * changes, then the settings (storage.c). */
    svc_core_lock(m->core);
    int hot = !machine_obj_mutable_locked(m) && m->kind == MACHINE_PRIMARY &&
              m->machine->registered && !machine_state_at_rest(m->machine->state);
    svc_core_unlock(m->core);
    if (hot)
        return storage_hot_mount(m, name, port, device, medium, force);
    cap_result rc = begin_set(m, SET_ANY);
    return CAP_FAILED(rc) ? rc
                          : end_storage(m, storage_mount_locked(m, name, port, device, medium));
}

static cap_result m_GetMedium(IMachine *self, const char *name, int32_t port, int32_t device,
                              IMedium **out)
{
    struct machine_obj *m = impl(self);
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    cap_result rc = begin_get(m);
    if (CAP_FAILED(rc))
        return rc;
    rc = storage_get_medium_locked(m, name, port, device, out);
    svc_core_unlock(m->core);
    return rc;
}

/* ---- methods of the other parts ----------------------------------------------------- */

static cap_result m_LockMachine(IMachine *self, ISession *session, LockType type)
{
    return session_machine_lock(impl(self)->machine, session, type);
}

static cap_result m_LaunchVMProcess(IMachine *self, ISession *session, const char *type,
                                    uint32_t n_env, char *const *env, IProgress **progress)
{
    if (!progress)
        return CAP_E_POINTER;
    *progress = NULL;
    return vmlaunch_start(impl(self)->machine, session, type, n_env, env, progress);
}

static cap_result not_mutable(struct machine_obj *m)
{
    return cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, IFACE,
                         "the machine '%s' is not mutable: lock it with a write-lock session and "
                         "use the session's machine",
                         m->cfg.name);
}

static cap_result m_SaveSettings(IMachine *self)
{
    struct machine_obj *m = impl(self);
    struct session_machine *sm = session_machine_of(m);
    int fire = 0;
    svc_core_lock(m->core);
    cap_result rc = !machine_obj_mutable_locked(m)
                        ? not_mutable(m)
                        : registry_check_attached_locked(m->core->registry, &m->cfg);
    if (CAP_SUCCEEDED(rc))
        rc = sm ? session_machine_commit_locked(sm, &fire) : machine_save_locked(m->machine, &fire);
    svc_core_unlock(m->core);
    if (fire)
        events_machine_data(m->core->events, &m->machine->id);
    return rc;
}

static cap_result m_DiscardSettings(IMachine *self)
{
    struct machine_obj *m = impl(self);
    struct session_machine *sm = session_machine_of(m);
    svc_core_lock(m->core);
    cap_result rc = CAP_OK;
    if (!machine_obj_mutable_locked(m))
        rc = not_mutable(m);
    else if (sm)
        rc = session_machine_discard_locked(sm);
    else if (CAP_SUCCEEDED(rc = machine_cfg_copy(&m->cfg, &m->saved)))
        m->modified = !m->machine->ever_saved;
    svc_core_unlock(m->core);
    return rc;
}

static cap_result m_Unregister(IMachine *self)
{
    struct machine_obj *m = impl(self);
    struct machine *dropped = NULL;
    svc_core_lock(m->core);
    cap_result rc = registry_remove_locked(m->core->registry, m->machine, &dropped);
    svc_core_unlock(m->core);
    if (CAP_SUCCEEDED(rc))
        events_machine_registered(m->core->events, &m->machine->id, 0);
    machine_release(dropped); /* the registry's reference */
    return rc;
}

static cap_result m_DeleteConfig(IMachine *self, IProgress **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    return machine_delete_files(impl(self)->machine, out);
}

static cap_result m_GetExtraData(IMachine *self, const char *key, char **value)
{
    return machine_get_extra(impl(self)->machine, key, value);
}

static cap_result m_SetExtraData(IMachine *self, const char *key, const char *value)
{
    return machine_set_extra(impl(self)->machine, key, value);
}

const struct IMachineVtbl imachine_vtbl = {
    .QueryInterface = m_QueryInterface,
    .AddRef = m_AddRef,
    .Release = m_Release,
    .GetAccessible = m_GetAccessible,
    .GetAccessError = m_GetAccessError,
    .GetId = m_GetId,
    .GetName = m_GetName,
    .SetName = m_SetName,
    .GetDescription = m_GetDescription,
    .SetDescription = m_SetDescription,
    .GetOsTypeId = m_GetOsTypeId,
    .SetOsTypeId = m_SetOsTypeId,
    .GetMemorySize = m_GetMemorySize,
    .SetMemorySize = m_SetMemorySize,
    .GetCpuCount = m_GetCpuCount,
    .SetCpuCount = m_SetCpuCount,
    .GetEngine = m_GetEngine,
    .SetEngine = m_SetEngine,
    .GetKernel = m_GetKernel,
    .SetKernel = m_SetKernel,
    .GetInitrd = m_GetInitrd,
    .SetInitrd = m_SetInitrd,
    .GetCmdline = m_GetCmdline,
    .SetCmdline = m_SetCmdline,
    .GetDebugExitEnabled = m_GetDebugExitEnabled,
    .SetDebugExitEnabled = m_SetDebugExitEnabled,
    .GetSerialPorts = m_GetSerialPorts,
    .GetSettingsFilePath = m_GetSettingsFilePath,
    .GetSettingsModified = m_GetSettingsModified,
    .GetLogFolder = m_GetLogFolder,
    .GetState = m_GetState,
    .GetLastStateChange = m_GetLastStateChange,
    .GetAbortReason = m_GetAbortReason,
    .GetSessionState = m_GetSessionState,
    .GetSessionName = m_GetSessionName,
    .GetSessionPID = m_GetSessionPID,
    .GetExtraDataKeys = m_GetExtraDataKeys,
    .GetSerialPort = m_GetSerialPort,
    .GetVRDEServer = m_GetVRDEServer,
    .GetNetworkAdapter = m_GetNetworkAdapter,
    .LockMachine = m_LockMachine,
    .LaunchVMProcess = m_LaunchVMProcess,
    .SaveSettings = m_SaveSettings,
    .DiscardSettings = m_DiscardSettings,
    .Unregister = m_Unregister,
    .DeleteConfig = m_DeleteConfig,
    .GetExtraData = m_GetExtraData,
    .SetExtraData = m_SetExtraData,
    .GetCpuProfile = m_GetCpuProfile,
    .SetCpuProfile = m_SetCpuProfile,
    .GetFirmwareType = m_GetFirmwareType,
    .SetFirmwareType = m_SetFirmwareType,
    .GetGraphicsControllerType = m_GetGraphicsControllerType,
    .SetGraphicsControllerType = m_SetGraphicsControllerType,
    .GetStorageControllers = m_GetStorageControllers,
    .GetMediumAttachments = m_GetMediumAttachments,
    .AddStorageController = m_AddStorageController,
    .RemoveStorageController = m_RemoveStorageController,
    .GetStorageControllerByName = m_GetStorageControllerByName,
    .SetStorageControllerBootable = m_SetStorageControllerBootable,
    .AttachDevice = m_AttachDevice,
    .DetachDevice = m_DetachDevice,
    .MountMedium = m_MountMedium,
    .GetMedium = m_GetMedium,
    .SetBootOrder = m_SetBootOrder,
    .GetBootOrder = m_GetBootOrder,
};

struct machine *machine_from_foreign(IMachine *iface)
{
    if (!iface || iface->vtbl != &imachine_vtbl)
        return NULL;
    struct machine_obj *o = impl(iface);
    return o->kind == MACHINE_PRIMARY ? o->machine : NULL;
}

/* ---- IInternalMachineControl ---------------------------------------------------- */

static struct machine_obj *impl_ctl(IInternalMachineControl *iface)
{
    return CAP_CONTAINER_OF(iface, struct machine_obj, IInternalMachineControl_iface);
}

static cap_result ctl_QueryInterface(IInternalMachineControl *self, const cap_uuid *iid, void **out)
{
    return IMachine_QueryInterface(&impl_ctl(self)->IMachine_iface, iid, out);
}

static uint32_t ctl_AddRef(IInternalMachineControl *self)
{
    return IMachine_AddRef(&impl_ctl(self)->IMachine_iface);
}

static uint32_t ctl_Release(IInternalMachineControl *self)
{
    return IMachine_Release(&impl_ctl(self)->IMachine_iface);
}

static cap_result ctl_OnSessionEnd(IInternalMachineControl *self, ISession *session)
{
    return session_machine_on_end(impl_ctl(self));
}

static cap_result ctl_UpdateState(IInternalMachineControl *self, MachineState state)
{
    return session_machine_update_state(impl_ctl(self), state);
}

static cap_result ctl_SetAbortReason(IInternalMachineControl *self, const char *reason)
{
    return session_machine_set_abort_reason(impl_ctl(self), reason);
}

static cap_result ctl_EndPowerUp(IInternalMachineControl *self, int32_t result, const char *message)
{
    return vmlaunch_end_power_up(impl_ctl(self), result, message);
}

const struct IInternalMachineControlVtbl imachine_control_vtbl = {
    .QueryInterface = ctl_QueryInterface,
    .AddRef = ctl_AddRef,
    .Release = ctl_Release,
    .OnSessionEnd = ctl_OnSessionEnd,
    .UpdateState = ctl_UpdateState,
    .SetAbortReason = ctl_SetAbortReason,
    .EndPowerUp = ctl_EndPowerUp,
};
