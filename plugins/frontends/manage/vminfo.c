/*
 * plugins/frontends/manage/vminfo.c - a machine's settings and state as
 * `capsule showvminfo` and `capsule list vms --long` print them.
 *
 * Reads everything first into a struct vminfo (so that a failing call
 * prints an error and no half listing), then prints it for people
 * ("Name:            demo", VBoxManage's layout) or for scripts: one
 * key="value" line per item, numbers unquoted, values escaped as opts.h
 * describes. The machine-readable keys, in order:
 *
 *   name description ostype UUID CfgFile LogFldr memory cpus cpu-profile
 *   engine kernel initrd cmdline debugexit firmware boot1 boot2 boot3 boot4
 *   graphicscontroller ("vga" or "none", VBoxManage's words)
 *   uart1 uartmode1 [uart2 uartmode2 ...] vrde vrdeport vrdeaddress
 *   vrdeauthtype [vrdeactiveport] nic1 [nictype1 macaddress1 cableconnected1
 *   [nictrace1 nictracefile1] Forwarding(0)...] ... nic4 (vminfo_net.c)
 *   storagecontrollername0
 *   storagecontrollertype0 storagecontrollerinstance0
 *   storagecontrollermaxportcount0 storagecontrollerportcount0
 *   storagecontrollerbootable0 [... for each controller N] then for each
 *   controller, port and device "NAME-PORT-DEVICE" (the medium's path,
 *   "emptydrive" for an empty DVD drive, "none" for a free slot) and, for a
 *   medium, "NAME-ImageUUID-PORT-DEVICE" - VBoxManage's keys - then
 *   VMState VMStateChangeTime [VMStateAbortReason] SessionState
 *   SessionName SessionPID
 *
 * VMStateAbortReason (why an aborted VM aborted) is there only when the
 * machine is aborted and the reason is known.
 *
 * vrde is "on" or "off", vrdeport the remote display server's TCP port
 * setting (0: a free one), vrdeaddress its address ("" for 127.0.0.1),
 * vrdeauthtype "null" or "vnc" (a VNC password is set; never printed);
 * vrdeactiveport, while the VM runs with the server on, the port it
 * listens on (IConsole's VRDEServerPort).
 *
 * uartN is "0xIOBASE,IRQ" (e.g. "0x03f8,4") or "off"; uartmodeN is
 * "disconnected", "file,PATH" or "server,PATH". VMState is one of poweroff,
 * starting, running, paused, stopping, saved, aborted, stuck, saving,
 * restoring. An inaccessible machine prints name="<inaccessible>", UUID,
 * CfgFile, VMState, SessionState and AccessError (the reason) only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/mem.h>
#include <capsule/uuid.h>

#include "manage.h"
#include "netargs.h"

#define MAX_UARTS 8
#define MAX_CTLS  8
#define MAX_ATTS  64
#define N_BOOT    4

struct ctl_info {
    char *name;
    StorageBus bus;
    StorageControllerType type;
    uint32_t instance, max_ports, port_count, max_devices;
    cap_bool bootable;
};

struct att_info {
    char *controller, *location; /* location NULL: an empty drive */
    int32_t port, device;
    DeviceType type;
    cap_uuid medium;
};

struct uart_info {
    cap_bool enabled;
    uint16_t io_base;
    uint32_t irq;
    PortMode mode;
    char *path;
};

/* The remote display server: settings, and the running VM's port. */
struct vrde_info {
    cap_bool enabled;
    char *ports, *address;
    int has_password;
    int32_t active_port; /* 0: off or not running */
};

/* Everything showvminfo prints; strings owned (cap_str_free). */
struct vminfo {
    cap_bool accessible;
    char *access_error;
    cap_uuid id;
    char *name, *description, *ostype, *cfg, *log_folder, *kernel, *initrd, *cmdline;
    char *session_name, *cpu_profile;
    char *abort_reason; /* IMachine's abortReason while Aborted, else NULL */
    char *ostype_text;  /* the type's description for people (VBoxManage's Guest OS) */
    uint32_t memory, cpus, session_pid, n_uarts;
    ExecutionEngine engine;
    cap_bool debug_exit;
    MachineState state;
    int64_t state_change;
    SessionState session_state;
    struct uart_info uarts[MAX_UARTS];
    FirmwareType firmware;
    GraphicsControllerType graphics;
    DeviceType boot[N_BOOT];
    struct ctl_info ctls[MAX_CTLS];
    uint32_t n_ctls;
    struct att_info atts[MAX_ATTS];
    uint32_t n_atts;
    struct vrde_info vrde;
    struct cli_nic_info nics[CLI_NIC_SLOTS];
    uint32_t n_nics;
};

static void vminfo_free(struct vminfo *v)
{
    char **strs[] = {&v->access_error, &v->name,         &v->description, &v->ostype,
                     &v->cfg,          &v->log_folder,   &v->kernel,      &v->initrd,
                     &v->cmdline,      &v->session_name, &v->cpu_profile, &v->ostype_text,
                     &v->abort_reason, &v->vrde.ports,   &v->vrde.address};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        cap_str_free(*strs[i]);
        *strs[i] = NULL;
    }
    for (uint32_t i = 0; i < v->n_uarts; i++)
        cap_str_free(v->uarts[i].path);
    cli_nics_free(v->nics, v->n_nics);
    for (uint32_t i = 0; i < v->n_ctls; i++)
        cap_str_free(v->ctls[i].name);
    for (uint32_t i = 0; i < v->n_atts; i++) {
        cap_str_free(v->atts[i].controller);
        cap_str_free(v->atts[i].location);
    }
}

static cap_result read_controllers(IMachine *m, struct vminfo *v)
{
    uint32_t n = 0;
    IStorageController **list = NULL;
    cap_result rc = IMachine_GetStorageControllers(m, &n, &list);
    for (uint32_t i = 0; i < n && i < MAX_CTLS && CAP_SUCCEEDED(rc); i++) {
        struct ctl_info *c = &v->ctls[i];
        IStorageController *k = list[i];
        v->n_ctls = i + 1;
        rc = IStorageController_GetName(k, &c->name);
        if (CAP_SUCCEEDED(rc))
            rc = IStorageController_GetBus(k, &c->bus);
        if (CAP_SUCCEEDED(rc))
            rc = IStorageController_GetControllerType(k, &c->type);
        if (CAP_SUCCEEDED(rc))
            rc = IStorageController_GetInstance(k, &c->instance);
        if (CAP_SUCCEEDED(rc))
            rc = IStorageController_GetMaxPortCount(k, &c->max_ports);
        if (CAP_SUCCEEDED(rc))
            rc = IStorageController_GetMaxDevicesPerPortCount(k, &c->max_devices);
        if (CAP_SUCCEEDED(rc))
            rc = IStorageController_GetPortCount(k, &c->port_count);
        if (CAP_SUCCEEDED(rc))
            rc = IStorageController_GetBootable(k, &c->bootable);
    }
    cli_release_array(n, list);
    return rc;
}

static cap_result read_attachments(IMachine *m, struct vminfo *v)
{
    uint32_t n = 0;
    IMediumAttachment **list = NULL;
    cap_result rc = IMachine_GetMediumAttachments(m, &n, &list);
    for (uint32_t i = 0; i < n && i < MAX_ATTS && CAP_SUCCEEDED(rc); i++) {
        struct att_info *a = &v->atts[i];
        IMedium *md = NULL;
        v->n_atts = i + 1;
        rc = IMediumAttachment_GetController(list[i], &a->controller);
        if (CAP_SUCCEEDED(rc))
            rc = IMediumAttachment_GetPort(list[i], &a->port);
        if (CAP_SUCCEEDED(rc))
            rc = IMediumAttachment_GetDevice(list[i], &a->device);
        if (CAP_SUCCEEDED(rc))
            rc = IMediumAttachment_GetType(list[i], &a->type);
        if (CAP_SUCCEEDED(rc))
            rc = IMediumAttachment_GetMedium(list[i], &md);
        if (CAP_SUCCEEDED(rc) && md)
            rc = IMedium_GetLocation(md, &a->location);
        if (CAP_SUCCEEDED(rc) && md)
            rc = IMedium_GetId(md, &a->medium);
        cli_release(md);
    }
    cli_release_array(n, list);
    return rc;
}

/* The firmware, the boot order, the graphics controller and the storage. */
static cap_result read_storage(IMachine *m, struct vminfo *v, const char **what)
{
    *what = "IMachine";
    cap_result rc = IMachine_GetFirmwareType(m, &v->firmware);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetGraphicsControllerType(m, &v->graphics);
    for (uint32_t i = 0; i < N_BOOT && CAP_SUCCEEDED(rc); i++)
        rc = IMachine_GetBootOrder(m, i + 1, &v->boot[i]);
    if (CAP_SUCCEEDED(rc)) {
        *what = "IStorageController";
        rc = read_controllers(m, v);
    }
    if (CAP_SUCCEEDED(rc)) {
        *what = "IMediumAttachment";
        rc = read_attachments(m, v);
    }
    return rc;
}

static const struct att_info *find_att(const struct vminfo *v, const char *ctl, int32_t port,
                                       int32_t device)
{
    for (uint32_t i = 0; i < v->n_atts; i++)
        if (!strcmp(v->atts[i].controller, ctl) && v->atts[i].port == port &&
            v->atts[i].device == device)
            return &v->atts[i];
    return NULL;
}

static const char *firmware_name(FirmwareType f)
{
    return f == FirmwareType_BIOS ? "BIOS" : f == FirmwareType_EFI ? "EFI" : "None";
}

static const char *graphics_name(GraphicsControllerType g)
{
    return g == GraphicsControllerType_VGA ? "vga" : "none";
}

static const char *ctl_type_name(StorageControllerType t)
{
    switch (t) {
    case StorageControllerType_PIIX3:
        return "PIIX3";
    case StorageControllerType_IntelAhci:
        return "IntelAhci";
    case StorageControllerType_VirtIO:
        return "VirtIO";
    default:
        return "unknown";
    }
}

static cap_result read_uarts(IMachine *m, struct vminfo *v)
{
    uint32_t n = 0;
    ISerialPort **ports = NULL;
    cap_result rc = IMachine_GetSerialPorts(m, &n, &ports);
    if (CAP_FAILED(rc))
        return rc;
    for (uint32_t i = 0; i < n && i < MAX_UARTS && CAP_SUCCEEDED(rc); i++) {
        struct uart_info *u = &v->uarts[i];
        v->n_uarts = i + 1;
        rc = ISerialPort_GetEnabled(ports[i], &u->enabled);
        if (CAP_SUCCEEDED(rc))
            rc = ISerialPort_GetIoBase(ports[i], &u->io_base);
        if (CAP_SUCCEEDED(rc))
            rc = ISerialPort_GetIrq(ports[i], &u->irq);
        if (CAP_SUCCEEDED(rc))
            rc = ISerialPort_GetHostMode(ports[i], &u->mode);
        if (CAP_SUCCEEDED(rc))
            rc = ISerialPort_GetPath(ports[i], &u->path);
    }
    cli_release_array(n, ports);
    return rc;
}

/* The attributes every machine has, accessible or not. */
static cap_result read_common(IMachine *m, struct vminfo *v)
{
    cap_result rc = IMachine_GetAccessible(m, &v->accessible);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetId(m, &v->id);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetSettingsFilePath(m, &v->cfg);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetState(m, &v->state);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetSessionState(m, &v->session_state);
    /* Of an inaccessible machine the API gives only the attributes above. */
    if (CAP_SUCCEEDED(rc) && v->accessible)
        rc = IMachine_GetLastStateChange(m, &v->state_change);
    if (CAP_SUCCEEDED(rc) && !v->accessible) {
        IErrorInfo *ei = NULL;
        if (CAP_SUCCEEDED(IMachine_GetAccessError(m, &ei)) && ei) {
            IErrorInfo_GetMessage(ei, &v->access_error);
            cli_release(ei);
        }
    }
    return rc;
}

/* The description of the machine's OS type ("Linux (64-bit)"), or its ID
 * when the service knows no such type (a settings file from elsewhere). */
static void read_ostype_text(ICapsule *root, struct vminfo *v)
{
    IGuestOSType *t = NULL;
    if (CAP_FAILED(ICapsule_GetGuestOSType(root, v->ostype, &t)) ||
        CAP_FAILED(IGuestOSType_GetDescription(t, &v->ostype_text)) || !v->ostype_text ||
        !*v->ostype_text) {
        cap_str_free(v->ostype_text);
        v->ostype_text = cap_str_dup(v->ostype);
    }
    cap_error_clear();
    if (t)
        IGuestOSType_Release(t);
}

/* The port the running VM's server listens on, through its console (a
 * shared session); 0 when that cannot be had (the VM just stopped). */
static int32_t vrde_active_port(IMachine *m)
{
    ISession *s = NULL;
    IConsole *c = NULL;
    int32_t port = 0;
    if (CAP_FAILED(cli_session_create(&s)))
        return 0;
    if (CAP_SUCCEEDED(IMachine_LockMachine(m, s, LockType_Shared))) {
        if (CAP_SUCCEEDED(ISession_GetConsole(s, &c)) && c &&
            CAP_FAILED(IConsole_GetVRDEServerPort(c, &port)))
            port = 0;
        cli_release(c);
        ISession_UnlockMachine(s);
    }
    ISession_Release(s);
    cap_error_clear();
    return port;
}

static cap_result read_vrde(IMachine *m, struct vminfo *v)
{
    IVRDEServer *srv = NULL;
    char *password = NULL;
    cap_result rc = IMachine_GetVRDEServer(m, &srv);
    if (CAP_SUCCEEDED(rc))
        rc = IVRDEServer_GetEnabled(srv, &v->vrde.enabled);
    if (CAP_SUCCEEDED(rc))
        rc = IVRDEServer_GetVRDEProperty(srv, "TCP/Ports", &v->vrde.ports);
    if (CAP_SUCCEEDED(rc))
        rc = IVRDEServer_GetVRDEProperty(srv, "TCP/Address", &v->vrde.address);
    if (CAP_SUCCEEDED(rc))
        rc = IVRDEServer_GetVRDEProperty(srv, "VNCPassword", &password);
    v->vrde.has_password = password && *password;
    cap_str_free(password);
    cli_release(srv);
    if (CAP_SUCCEEDED(rc) && (v->state == MachineState_Running || v->state == MachineState_Paused ||
                              v->state == MachineState_Stuck))
        v->vrde.active_port = vrde_active_port(m);
    return rc;
}

static cap_result read_vminfo(ICapsule *root, IMachine *m, struct vminfo *v, const char **what)
{
    *what = "IMachine";
    cap_result rc = read_common(m, v);
    if (CAP_FAILED(rc) || !v->accessible)
        return rc;
    rc = IMachine_GetName(m, &v->name);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetDescription(m, &v->description);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetOsTypeId(m, &v->ostype);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetLogFolder(m, &v->log_folder);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetMemorySize(m, &v->memory);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetCpuCount(m, &v->cpus);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetCpuProfile(m, &v->cpu_profile);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetEngine(m, &v->engine);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetKernel(m, &v->kernel);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetInitrd(m, &v->initrd);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetCmdline(m, &v->cmdline);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetDebugExitEnabled(m, &v->debug_exit);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetSessionName(m, &v->session_name);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetSessionPID(m, &v->session_pid);
    if (CAP_SUCCEEDED(rc) && v->state == MachineState_Aborted)
        rc = IMachine_GetAbortReason(m, &v->abort_reason);
    if (CAP_SUCCEEDED(rc)) {
        *what = "ISerialPort";
        rc = read_uarts(m, v);
    }
    if (CAP_SUCCEEDED(rc)) {
        *what = "IVRDEServer";
        rc = read_vrde(m, v);
    }
    if (CAP_SUCCEEDED(rc)) {
        *what = "INetworkAdapter";
        rc = cli_nics_read(m, v->nics, &v->n_nics);
    }
    if (CAP_SUCCEEDED(rc))
        rc = read_storage(m, v, what);
    if (CAP_SUCCEEDED(rc))
        read_ostype_text(root, v);
    return rc;
}

static const char *session_state_name(SessionState s)
{
    switch (s) {
    case SessionState_Unlocked:
        return "unlocked";
    case SessionState_Locked:
        return "locked";
    case SessionState_Spawning:
        return "spawning";
    case SessionState_Unlocking:
        return "unlocking";
    default:
        return "null";
    }
}

/* ---- machine-readable ---------------------------------------------------- */

static void print_mr_uart(const struct uart_info *u, uint32_t slot)
{
    char key[32], val[32];
    char *mode = NULL;
    snprintf(key, sizeof(key), "uart%" PRIu32, slot + 1);
    if (u->enabled)
        snprintf(val, sizeof(val), "0x%04x,%" PRIu32, u->io_base, u->irq);
    cli_mr_print_str(stdout, key, u->enabled ? val : "off");
    snprintf(key, sizeof(key), "uartmode%" PRIu32, slot + 1);
    if (u->mode == PortMode_Disconnected)
        mode = cap_str_dup("disconnected");
    else
        mode = cap_str_printf("%s,%s", cli_portmode_name(u->mode), u->path ? u->path : "");
    cli_mr_print_str(stdout, key, mode);
    cap_str_free(mode);
}

/* VBoxManage's --bootN words. */
static const char *boot_word(DeviceType t)
{
    return t == DeviceType_HardDisk ? "disk" : t == DeviceType_DVD ? "dvd" : "none";
}

/* A "KEY"="value" line with the key always quoted, as VBoxManage prints
 * its storage slot keys ("SATA-0-0"): cli_mr_str quotes and escapes both
 * halves the same way. */
static void print_mr_quoted(const char *key, const char *value)
{
    char *k = cli_mr_str("k", key), *v = cli_mr_str("v", value);
    if (k && v)
        printf("%s=%s\n", k + 2, v + 2);
    cap_str_free(k);
    cap_str_free(v);
}

static void print_mr_storage(const struct vminfo *v)
{
    char key[128], val[16];
    for (uint32_t i = 0; i < v->n_ctls; i++) {
        const struct ctl_info *c = &v->ctls[i];
#define MR(fmt, value)                                                                             \
    (snprintf(key, sizeof(key), "storagecontroller" fmt "%" PRIu32, i),                            \
     cli_mr_print_str(stdout, key, value))
#define MRN(fmt, num) (snprintf(val, sizeof(val), "%" PRIu32, (uint32_t)(num)), MR(fmt, val))
        MR("name", c->name);
        MR("type", ctl_type_name(c->type));
        MRN("instance", c->instance);
        MRN("maxportcount", c->max_ports);
        MRN("portcount", c->port_count);
        MR("bootable", c->bootable ? "on" : "off");
#undef MRN
#undef MR
    }
    for (uint32_t i = 0; i < v->n_ctls; i++) {
        const struct ctl_info *c = &v->ctls[i];
        for (int32_t port = 0; (uint32_t)port < c->port_count; port++)
            for (int32_t dev = 0; (uint32_t)dev < c->max_devices; dev++) {
                const struct att_info *a = find_att(v, c->name, port, dev);
                snprintf(key, sizeof(key), "%s-%d-%d", c->name, (int)port, (int)dev);
                print_mr_quoted(key, !a ? "none" : a->location ? a->location : "emptydrive");
                if (a && a->location) {
                    char ubuf[CAP_UUID_BUFSIZE];
                    snprintf(key, sizeof(key), "%s-ImageUUID-%d-%d", c->name, (int)port, (int)dev);
                    print_mr_quoted(key, cap_uuid_format(&a->medium, ubuf));
                }
            }
    }
}

static void print_mr(const struct vminfo *v)
{
    char ubuf[CAP_UUID_BUFSIZE], tbuf[48];
    cap_uuid_format(&v->id, ubuf);
    cli_format_time(v->state_change, 0, tbuf, sizeof(tbuf));
    if (!v->accessible) {
        cli_mr_print_str(stdout, "name", "<inaccessible>");
        cli_mr_print_str(stdout, "UUID", ubuf);
        cli_mr_print_str(stdout, "CfgFile", v->cfg);
        cli_mr_print_str(stdout, "VMState", cli_state_name(v->state));
        cli_mr_print_str(stdout, "SessionState", session_state_name(v->session_state));
        cli_mr_print_str(stdout, "AccessError", v->access_error);
        return;
    }
    cli_mr_print_str(stdout, "name", v->name);
    cli_mr_print_str(stdout, "description", v->description);
    cli_mr_print_str(stdout, "ostype", v->ostype);
    cli_mr_print_str(stdout, "UUID", ubuf);
    cli_mr_print_str(stdout, "CfgFile", v->cfg);
    cli_mr_print_str(stdout, "LogFldr", v->log_folder);
    cli_mr_print_num(stdout, "memory", v->memory);
    cli_mr_print_num(stdout, "cpus", v->cpus);
    cli_mr_print_str(stdout, "cpu-profile", v->cpu_profile);
    cli_mr_print_str(stdout, "engine", cli_engine_name(v->engine));
    cli_mr_print_str(stdout, "kernel", v->kernel);
    cli_mr_print_str(stdout, "initrd", v->initrd);
    cli_mr_print_str(stdout, "cmdline", v->cmdline);
    cli_mr_print_str(stdout, "debugexit", v->debug_exit ? "on" : "off");
    cli_mr_print_str(stdout, "firmware", firmware_name(v->firmware));
    for (uint32_t i = 0; i < N_BOOT; i++) {
        char key[8];
        snprintf(key, sizeof(key), "boot%" PRIu32, i + 1);
        cli_mr_print_str(stdout, key, boot_word(v->boot[i]));
    }
    cli_mr_print_str(stdout, "graphicscontroller", graphics_name(v->graphics));
    for (uint32_t i = 0; i < v->n_uarts; i++)
        print_mr_uart(&v->uarts[i], i);
    cli_mr_print_str(stdout, "vrde", v->vrde.enabled ? "on" : "off");
    cli_mr_print_num(stdout, "vrdeport", strtol(v->vrde.ports, NULL, 10));
    cli_mr_print_str(stdout, "vrdeaddress", v->vrde.address);
    cli_mr_print_str(stdout, "vrdeauthtype", v->vrde.has_password ? "vnc" : "null");
    if (v->vrde.active_port > 0)
        cli_mr_print_num(stdout, "vrdeactiveport", (uint32_t)v->vrde.active_port);
    cli_nics_print_mr(v->nics, v->n_nics);
    print_mr_storage(v);
    cli_mr_print_str(stdout, "VMState", cli_state_name(v->state));
    cli_mr_print_str(stdout, "VMStateChangeTime", tbuf);
    if (v->abort_reason && *v->abort_reason)
        cli_mr_print_str(stdout, "VMStateAbortReason", v->abort_reason);
    cli_mr_print_str(stdout, "SessionState", session_state_name(v->session_state));
    cli_mr_print_str(stdout, "SessionName", v->session_name);
    cli_mr_print_num(stdout, "SessionPID", v->session_pid);
}

/* ---- for people ----------------------------------------------------------- */

#define ROW(label, ...) (printf("%-17s", label ":"), printf(__VA_ARGS__), putchar('\n'))

static const char *or_none(const char *s)
{
    return s && *s ? s : "<none>";
}

static void print_human_uart(const struct uart_info *u, uint32_t slot)
{
    char label[24];
    snprintf(label, sizeof(label), "UART %" PRIu32 ":", slot + 1);
    printf("%-17s", label);
    if (!u->enabled) {
        printf("disabled\n");
        return;
    }
    printf("I/O base: 0x%04x, IRQ: %" PRIu32 ", ", u->io_base, u->irq);
    switch (u->mode) {
    case PortMode_File:
        printf("attached to file '%s'\n", u->path ? u->path : "");
        break;
    case PortMode_Server:
        printf("server on socket '%s'\n", u->path ? u->path : "");
        break;
    default:
        printf("disconnected\n");
        break;
    }
}

/* VBoxManage's "Boot Device N:" words. */
static const char *boot_text(DeviceType t)
{
    return t == DeviceType_HardDisk ? "HardDisk" : t == DeviceType_DVD ? "DVD" : "Not Assigned";
}

static void print_human_storage(const struct vminfo *v)
{
    char label[96], ubuf[CAP_UUID_BUFSIZE];
    for (uint32_t i = 0; i < v->n_ctls; i++) {
        const struct ctl_info *c = &v->ctls[i];
#define CROW(what, ...)                                                                            \
    (snprintf(label, sizeof(label), "Storage Controller %s (%" PRIu32 "):", what, i),              \
     printf("%-40s", label), printf(__VA_ARGS__), putchar('\n'))
        CROW("Name", "%s", c->name);
        CROW("Type", "%s", ctl_type_name(c->type));
        CROW("Instance Number", "%" PRIu32, c->instance);
        CROW("Max Port Count", "%" PRIu32, c->max_ports);
        CROW("Port Count", "%" PRIu32, c->port_count);
        CROW("Bootable", "%s", c->bootable ? "on" : "off");
#undef CROW
    }
    for (uint32_t i = 0; i < v->n_ctls; i++)
        for (uint32_t slot = 0; slot < v->ctls[i].port_count * v->ctls[i].max_devices; slot++) {
            const struct att_info *a =
                find_att(v, v->ctls[i].name, (int32_t)(slot / v->ctls[i].max_devices),
                         (int32_t)(slot % v->ctls[i].max_devices));
            if (!a)
                continue;
            snprintf(label, sizeof(label), "%s (%d, %d):", a->controller, (int)a->port,
                     (int)a->device);
            if (a->location)
                printf("%-40s%s (UUID: %s)%s\n", label, a->location,
                       cap_uuid_format(&a->medium, ubuf),
                       a->type == DeviceType_DVD ? " (DVD)" : "");
            else
                printf("%-40sEmpty\n", label);
        }
}

static void print_human(const struct vminfo *v)
{
    char ubuf[CAP_UUID_BUFSIZE], tbuf[48];
    cap_uuid_format(&v->id, ubuf);
    cli_format_time(v->state_change, 0, tbuf, sizeof(tbuf));
    if (!v->accessible) {
        ROW("Name", "<inaccessible!>");
        ROW("UUID", "%s", ubuf);
        ROW("Config file", "%s", v->cfg);
        ROW("State", "%s", cli_state_text(v->state));
        printf("Access error details:\n    %s\n", or_none(v->access_error));
        return;
    }
    ROW("Name", "%s", v->name);
    ROW("Guest OS", "%s", v->ostype_text ? v->ostype_text : v->ostype);
    ROW("UUID", "%s", ubuf);
    ROW("Config file", "%s", v->cfg);
    ROW("Log folder", "%s", v->log_folder);
    ROW("Memory size", "%" PRIu32 "MB", v->memory);
    ROW("Number of CPUs", "%" PRIu32, v->cpus);
    ROW("CPU profile", "%s", v->cpu_profile);
    ROW("Engine", "%s", cli_engine_name(v->engine));
    ROW("Kernel", "%s", or_none(v->kernel));
    ROW("Initrd", "%s", or_none(v->initrd));
    ROW("Kernel cmdline", "\"%s\"", v->cmdline ? v->cmdline : "");
    ROW("Debug exit", "%s", v->debug_exit ? "enabled" : "disabled");
    ROW("Firmware", "%s", firmware_name(v->firmware));
    for (uint32_t i = 0; i < N_BOOT; i++) {
        char label[24];
        snprintf(label, sizeof(label), "Boot Device %" PRIu32 ":", i + 1);
        printf("%-17s%s\n", label, boot_text(v->boot[i]));
    }
    printf("Graphics Controller: %s\n", graphics_name(v->graphics)); /* wider than ROW */
    ROW("State", "%s (since %s)", cli_state_text(v->state), tbuf);
    if (v->abort_reason && *v->abort_reason)
        ROW("Abort reason", "%s", v->abort_reason);
    ROW("Session state", "%s", session_state_name(v->session_state));
    if (v->session_name && *v->session_name)
        ROW("Session name", "%s (pid %" PRIu32 ")", v->session_name, v->session_pid);
    for (uint32_t i = 0; i < v->n_uarts; i++)
        print_human_uart(&v->uarts[i], i);
    if (v->vrde.enabled)
        ROW("VRDE", "enabled (Address %s, Ports %s, Authentication: %s)",
            *v->vrde.address ? v->vrde.address : "127.0.0.1", v->vrde.ports,
            v->vrde.has_password ? "VNC password" : "none");
    else
        ROW("VRDE", "disabled");
    if (v->vrde.active_port > 0)
        ROW("VRDE port", "%d", (int)v->vrde.active_port);
    cli_nics_print_human(v->nics, v->n_nics);
    print_human_storage(v);
    printf("Description:\n%s\n", v->description && *v->description ? v->description : "<none>");
}

/* ---- the entry point ------------------------------------------------------ */

cap_result cli_show_vm(ICapsule *root, IMachine *m, int machinereadable, const char **what)
{
    struct vminfo v;
    memset(&v, 0, sizeof(v));
    cap_result rc = read_vminfo(root, m, &v, what);
    if (CAP_SUCCEEDED(rc) && machinereadable)
        print_mr(&v);
    else if (CAP_SUCCEEDED(rc))
        print_human(&v);
    vminfo_free(&v);
    return rc;
}
