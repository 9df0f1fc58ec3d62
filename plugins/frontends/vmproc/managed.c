/*
 * managed.c - `capsule-vm --startvm UUID --home HOME [--type FRONTEND]
 * [--drive SPEC]...` (--drive as in the standalone mode, vmproc_drive.c):
 * the VM process capsule-svc spawns for launchVMProcess (managed.h has the
 * whole flow). Its stdout/stderr are the machine's Logs/capsule-vm.log.
 *
 * If capsule-svc goes away while the VM runs, the VM powers off (a watch
 * thread, below): an uncontrollable VM the service no longer knows about
 * would otherwise run on, and could be started a second time.
 *
 * Exit statuses: as vmproc_run once the VM ran; VMPROC_EXIT_FAILURE when
 * it could not (the service's launch progress carries the message);
 * VMPROC_EXIT_USAGE for bad arguments.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <capsule/client.h>
#include <capsule/errorinfo.h>
#include <capsule/mem.h>

#include "cpum/cpum_profile.h"
#include "managed.h"
#include "serial_server.h"

/* The settings the VM is built from; strings owned (cap_str_free). */
struct settings {
    struct vmproc_opts opts;
    /* --drive from the command line (the service passes the machine's
     * storage attachments this way); the strings are argv's */
    struct vmproc_drive drives[VMPROC_MAX_DRIVES];
    unsigned n_drives;
    char *kernel, *initrd, *cmdline, *cpu_profile, *serial_path, *serial_spec, *name;
    char *vrde_ports, *vrde_address, *vrde_password; /* the VRDE server's properties */
    unsigned nic_slot[VMPROC_MAX_NICS];              /* the enabled adapters' slots */
    struct serial_server *server; /* uartmode server: the socket clients connect to */
    int argc;                     /* the firmware, boot and drive options */
    char **argv;                  /* (managed_build_args), which opts points into */
};

static void settings_clear(struct settings *s)
{
    cap_str_free(s->kernel);
    cap_str_free(s->initrd);
    cap_str_free(s->cmdline);
    cap_str_free(s->cpu_profile);
    cap_str_free(s->name);
    cap_str_free(s->serial_path);
    free(s->serial_spec);
    cap_str_free(s->vrde_ports);
    cap_str_free(s->vrde_address);
    if (s->vrde_password)
        memset(s->vrde_password, 0, strlen(s->vrde_password));
    cap_str_free(s->vrde_password);
    serial_server_destroy(s->server);
    managed_args_free(s->argc, s->argv);
    memset(s, 0, sizeof(*s));
}

static char *empty_is_null(char *s)
{
    if (s && !*s) {
        cap_str_free(s);
        return NULL;
    }
    return s;
}

static cap_result read_serial(IMachine *m, struct settings *s)
{
    ISerialPort *sp = NULL;
    cap_bool enabled = CAP_FALSE;
    PortMode mode = PortMode_Disconnected;
    uint32_t irq = 4;
    cap_result rc = IMachine_GetSerialPort(m, 0, &sp);
    if (CAP_SUCCEEDED(rc))
        rc = ISerialPort_GetEnabled(sp, &enabled);
    if (CAP_SUCCEEDED(rc) && enabled) {
        rc = ISerialPort_GetIoBase(sp, &s->opts.serial_iobase);
        if (CAP_SUCCEEDED(rc))
            rc = ISerialPort_GetIrq(sp, &irq);
        if (CAP_SUCCEEDED(rc))
            rc = ISerialPort_GetHostMode(sp, &mode);
        if (CAP_SUCCEEDED(rc))
            rc = ISerialPort_GetPath(sp, &s->serial_path);
    }
    if (sp)
        ISerialPort_Release(sp);
    if (CAP_FAILED(rc) || !enabled) {
        s->opts.serial = NULL; /* no COM1 */
        return rc;
    }
    s->opts.serial_irq = irq;
    const char *path = s->serial_path ? s->serial_path : "";
    if (mode == PortMode_Disconnected) {
        s->opts.serial = "none";
    } else if (mode == PortMode_File) {
        if (asprintf(&s->serial_spec, "file:%s", path) < 0)
            return CAP_E_OUTOFMEMORY;
        s->opts.serial = s->serial_spec;
    } else if (mode == PortMode_Server) {
        rc = serial_server_create(path, &s->server);
        if (CAP_FAILED(rc))
            return rc;
        s->opts.serial = serial_server_device_spec(s->server);
    } else {
        return cap_error_set(CAP_E_INVALIDARG, "capsule-vm", NULL,
                             "serial port 1: unknown host mode %d", (int)mode);
    }
    return CAP_OK;
}

/* The remote display server's settings (IVRDEServer): the password comes
 * over this connection, never on a command line. */
static cap_result read_vrde(IMachine *m, struct settings *s)
{
    IVRDEServer *srv = NULL;
    cap_bool enabled = CAP_FALSE;
    cap_result rc = IMachine_GetVRDEServer(m, &srv);
    if (CAP_SUCCEEDED(rc))
        rc = IVRDEServer_GetEnabled(srv, &enabled);
    if (CAP_SUCCEEDED(rc))
        rc = IVRDEServer_GetVRDEProperty(srv, "TCP/Ports", &s->vrde_ports);
    if (CAP_SUCCEEDED(rc))
        rc = IVRDEServer_GetVRDEProperty(srv, "TCP/Address", &s->vrde_address);
    if (CAP_SUCCEEDED(rc))
        rc = IVRDEServer_GetVRDEProperty(srv, "VNCPassword", &s->vrde_password);
    if (srv)
        IVRDEServer_Release(srv);
    if (CAP_FAILED(rc))
        return rc;
    char *end;
    long port = strtol(s->vrde_ports, &end, 10);
    if (*end || port < 0 || port > 65535)
        return cap_error_set(CAP_E_INVALIDARG, "capsule-vm", NULL,
                             "the machine's VRDE port '%s' is not a port number", s->vrde_ports);
    s->opts.vrde = enabled != CAP_FALSE;
    s->opts.vrde_cfg.port = (unsigned)port;
    s->opts.vrde_cfg.address = *s->vrde_address ? s->vrde_address : NULL;
    s->opts.vrde_cfg.password = *s->vrde_password ? s->vrde_password : NULL;
    return CAP_OK;
}

/* ---- the machine's firmware and drives as options (managed.h) ------------------ */

static cap_result args_oom(void)
{
    return cap_error_set(CAP_E_OUTOFMEMORY, "capsule-vm", NULL, "out of memory");
}

void managed_args_free(int argc, char **argv)
{
    for (int i = 0; argv && i < argc; i++)
        free(argv[i]);
    free(argv);
}

/* Appends a copy of each string (NULL ends the list). */
static bool push(int *argc, char ***argv, int *cap, const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) {
        if (*argc + 2 > *cap) {
            int ncap = *cap ? *cap * 2 : 16;
            char **n = realloc(*argv, (size_t)ncap * sizeof(char *));
            if (!n) {
                va_end(ap);
                return false;
            }
            *argv = n;
            *cap = ncap;
        }
        if (!((*argv)[*argc] = strdup(a))) {
            va_end(ap);
            return false;
        }
        (*argv)[++*argc] = NULL;
    }
    va_end(ap);
    return true;
}

/* The boot order's devices as --boot's list ("dvd,disk"), each once. */
static void boot_list(const DeviceType boot[4], char *buf, size_t size)
{
    bool disk = false, dvd = false;
    buf[0] = '\0';
    for (unsigned i = 0; i < 4; i++) {
        bool *seen = boot[i] == DeviceType_HardDisk ? &disk
                     : boot[i] == DeviceType_DVD    ? &dvd
                                                    : NULL;
        if (!seen || *seen)
            continue;
        *seen = true;
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, "%s%s", len ? "," : "",
                 boot[i] == DeviceType_HardDisk ? "disk" : "dvd");
    }
}

cap_result managed_build_args(const struct managed_boot *b, const struct managed_drive *d,
                              unsigned n, int *argc, char ***argv)
{
    int cap = 0;
    bool ok;
    char list[32];
    *argc = 0;
    *argv = NULL;
    boot_list(b->boot, list, sizeof(list));
    if (b->bios && !*list)
        return cap_error_set(CAP_E_INVALIDARG, "capsule-vm", NULL,
                             "the machine's boot order is empty: the BIOS has nothing to boot "
                             "from (capsule modifyvm VM --boot1 disk|dvd)");
    if (!b->bios && (!b->kernel || !*b->kernel))
        return cap_error_set(CAP_E_FILE_ERROR, "capsule-vm", NULL,
                             "the machine has no kernel to boot (capsule modifyvm VM --kernel "
                             "FILE, or --firmware bios to boot from its drives)");
    ok = push(argc, argv, &cap, "capsule-vm", NULL);
    if (b->bios) {
        ok = ok && push(argc, argv, &cap, "--firmware", "bios", "--boot", list, NULL);
    } else {
        ok = ok && push(argc, argv, &cap, "--kernel", b->kernel, NULL);
        if (ok && b->initrd && *b->initrd)
            ok = push(argc, argv, &cap, "--initrd", b->initrd, NULL);
        if (ok && b->append && *b->append)
            ok = push(argc, argv, &cap, "--append", b->append, NULL);
    }
    ok = ok && push(argc, argv, &cap, "--graphics", b->vga ? "vga" : "none", NULL);
    for (unsigned i = 0; ok && i < n; i++) {
        char *spec = NULL;
        if (asprintf(&spec, "if=%s,port=%d,device=%d,media=%s%s%s%s%s%s", d[i].bus, (int)d[i].port,
                     (int)d[i].device, d[i].cdrom ? "cdrom" : "disk",
                     d[i].readonly && !d[i].cdrom ? ",readonly=on" : "",
                     d[i].format && d[i].file ? ",format=" : "",
                     d[i].format && d[i].file ? d[i].format : "", d[i].file ? ",file=" : "",
                     d[i].file ? d[i].file : "") < 0)
            spec = NULL;
        ok = spec && push(argc, argv, &cap, "--drive", spec, NULL);
        free(spec);
    }
    if (!ok) {
        managed_args_free(*argc, *argv);
        *argc = 0;
        *argv = NULL;
        return args_oom();
    }
    return CAP_OK;
}

static void drives_free(struct managed_drive *d, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        free((char *)d[i].format);
        cap_str_free((char *)d[i].file);
    }
    free(d);
}

/* One attachment of the machine as a drive. */
static cap_result read_drive(IMachine *m, IMediumAttachment *at, struct managed_drive *d)
{
    char *ctl = NULL, *fmt = NULL;
    IStorageController *k = NULL;
    IMedium *md = NULL;
    StorageBus bus = StorageBus_Null;
    DeviceType type = DeviceType_Null;
    cap_bool ro = CAP_FALSE;
    cap_result rc = IMediumAttachment_GetController(at, &ctl);
    if (CAP_SUCCEEDED(rc))
        rc = IMediumAttachment_GetPort(at, &d->port);
    if (CAP_SUCCEEDED(rc))
        rc = IMediumAttachment_GetDevice(at, &d->device);
    if (CAP_SUCCEEDED(rc))
        rc = IMediumAttachment_GetType(at, &type);
    if (CAP_SUCCEEDED(rc))
        rc = IMediumAttachment_GetMedium(at, &md);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetStorageControllerByName(m, ctl, &k);
    if (CAP_SUCCEEDED(rc))
        rc = IStorageController_GetBus(k, &bus);
    if (CAP_SUCCEEDED(rc) && md)
        rc = IMedium_GetLocation(md, (char **)&d->file);
    if (CAP_SUCCEEDED(rc) && md)
        rc = IMedium_GetReadOnly(md, &ro);
    if (CAP_SUCCEEDED(rc) && md)
        rc = IMedium_GetFormat(md, &fmt);
    d->cdrom = type == DeviceType_DVD;
    d->readonly = ro;
    d->bus = bus == StorageBus_IDE ? "ide" : bus == StorageBus_SATA ? "sata" : "virtio";
    if (fmt) {
        char *lower = strdup(fmt);
        for (char *p = lower; p && *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        d->format = lower;
    }
    if (CAP_SUCCEEDED(rc) && !md && !d->cdrom)
        rc = cap_error_set(CAP_E_FILE_ERROR, "capsule-vm", NULL,
                           "the hard disk at %s port %d device %d has no medium (was it closed?)",
                           ctl ? ctl : "?", (int)d->port, (int)d->device);
    cap_str_free(fmt);
    cap_str_free(ctl);
    if (k)
        IStorageController_Release(k);
    if (md)
        IMedium_Release(md);
    return rc;
}

/* The firmware, boot order, graphics controller and drives of m as options (s->argc/argv),
 * parsed into s->opts by the standalone parser (drives added to any
 * already there), and said in the log. */
static cap_result read_boot_args(IMachine *m, struct settings *s)
{
    struct managed_boot b = {.kernel = s->kernel, .initrd = s->initrd, .append = s->cmdline};
    FirmwareType fw = FirmwareType_None;
    GraphicsControllerType gfx = GraphicsControllerType_VGA;
    uint32_t n = 0;
    IMediumAttachment **atts = NULL;
    struct managed_drive *d = NULL;
    cap_result rc = IMachine_GetFirmwareType(m, &fw);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetGraphicsControllerType(m, &gfx);
    for (uint32_t i = 0; i < 4 && CAP_SUCCEEDED(rc); i++)
        rc = IMachine_GetBootOrder(m, i + 1, &b.boot[i]);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetMediumAttachments(m, &n, &atts);
    if (CAP_SUCCEEDED(rc) && !(d = calloc(n ? n : 1, sizeof(*d))))
        rc = args_oom();
    for (uint32_t i = 0; i < n && CAP_SUCCEEDED(rc); i++)
        rc = read_drive(m, atts[i], &d[i]);
    for (uint32_t i = 0; i < n; i++)
        IMediumAttachment_Release(atts[i]);
    cap_free(atts);
    b.bios = fw == FirmwareType_BIOS;
    b.vga = gfx == GraphicsControllerType_VGA;
    if (CAP_SUCCEEDED(rc))
        rc = managed_build_args(&b, d, n, &s->argc, &s->argv);
    if (CAP_SUCCEEDED(rc))
        rc = managed_read_nics(m, &s->argc, &s->argv, s->nic_slot);
    drives_free(d, n);
    if (CAP_FAILED(rc))
        return rc;
    fprintf(stderr, "capsule-vm: the machine's boot, drives and adapters as options:");
    for (int i = 1; i < s->argc; i++)
        fprintf(stderr, " %s", s->argv[i]);
    fprintf(stderr, "\n");
    char *msg = NULL;
    size_t len = 0;
    FILE *err = open_memstream(&msg, &len);
    if (!err)
        return args_oom();
    /* The options say the boot files (none under BIOS); the parser checks
     * a serial spec, which may be NULL here (no COM1): kept aside. */
    const char *serial = s->opts.serial;
    s->opts.kernel = s->opts.initrd = s->opts.append = NULL;
    s->opts.serial = "none";
    int r = vmproc_parse_args(s->argc, s->argv, &s->opts, err, err);
    s->opts.serial = serial;
    memcpy(s->opts.nic_slot, s->nic_slot, sizeof(s->nic_slot));
    fclose(err);
    if (r != 0) {
        while (len && msg[len - 1] == '\n')
            msg[--len] = '\0';
        const char *text = len ? msg : "the machine's boot settings are refused";
        if (!strncmp(text, "capsule-vm: ", 12))
            text += 12; /* the launch progress names the component */
        rc = cap_error_set(CAP_E_INVALIDARG, "capsule-vm", NULL, "%s", text);
    }
    free(msg);
    return rc;
}

static cap_result read_settings(IMachine *m, const char *type, struct settings *s)
{
    uint32_t mem = 0, cpus = 1;
    ExecutionEngine engine = ExecutionEngine_Auto;
    cap_bool dbgexit = CAP_FALSE;
    vmproc_opts_init(&s->opts);
    cap_result rc = IMachine_GetMemorySize(m, &mem);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetCpuCount(m, &cpus);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetEngine(m, &engine);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetKernel(m, &s->kernel);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetInitrd(m, &s->initrd);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetCmdline(m, &s->cmdline);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetCpuProfile(m, &s->cpu_profile);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetDebugExitEnabled(m, &dbgexit);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetName(m, &s->name);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetId(m, &s->opts.machine_uuid);
    s->opts.has_machine_uuid = CAP_SUCCEEDED(rc);
    if (CAP_SUCCEEDED(rc))
        rc = read_serial(m, s);
    if (CAP_SUCCEEDED(rc))
        rc = read_vrde(m, s);
    if (CAP_FAILED(rc))
        return rc;
    static const enum vm_engine engines[] = {[ExecutionEngine_Auto] = VM_ENGINE_AUTO,
                                             [ExecutionEngine_Hm] = VM_ENGINE_HM,
                                             [ExecutionEngine_Rem] = VM_ENGINE_REM,
                                             [ExecutionEngine_Raw] = VM_ENGINE_RAW};
    s->opts.memory_mb = mem;
    s->opts.cpus = cpus;
    s->opts.engine = (unsigned)engine < 4 ? engines[engine] : VM_ENGINE_AUTO;
    s->opts.debug_exit = dbgexit;
    s->opts.frontend = type;
    s->opts.name = s->name;
    s->initrd = empty_is_null(s->initrd);
    s->cmdline = empty_is_null(s->cmdline);
    s->opts.kernel = s->kernel;
    s->opts.initrd = s->initrd;
    s->opts.append = s->cmdline;
    s->opts.cpu_profile = s->cpu_profile;
    memcpy(s->opts.drives, s->drives, sizeof(s->drives));
    s->opts.n_drives = s->n_drives;
    /* A settings file may name a profile this build lacks (IMachine's
     * cpuProfile): say which and how to fix it, before building anything. */
    if (!cpum_profile_find(s->cpu_profile)) {
        char names[256];
        return cap_error_set(CAP_E_INVALIDARG, "capsule-vm", NULL,
                             "the machine's CPU profile '%s' is unknown to this build (known: "
                             "%s; capsule modifyvm VM --cpu-profile NAME)",
                             s->cpu_profile ? s->cpu_profile : "",
                             cpum_profile_names(names, sizeof(names)));
    }
    /* The firmware, boot order and drives, as capsule-vm's own options. */
    rc = read_boot_args(m, s);
    if (CAP_FAILED(rc))
        return rc;
    if (s->opts.kernel && access(s->opts.kernel, R_OK) != 0)
        return cap_error_set(CAP_E_FILE_ERROR, "capsule-vm", NULL,
                             "cannot read the kernel '%s': %s", s->opts.kernel, strerror(errno));
    if (s->opts.initrd && access(s->opts.initrd, R_OK) != 0)
        return cap_error_set(CAP_E_FILE_ERROR, "capsule-vm", NULL,
                             "cannot read the initrd '%s': %s", s->opts.initrd, strerror(errno));
    return CAP_OK;
}

/* The API code a power-up failure is reported with (IConsole's powerUp). */
static cap_result api_code(cap_result rc)
{
    switch (rc) {
    case VMM_E_NO_KVM:
    case VMM_E_KVM_API:
    case VMM_E_HOSTDRV:
    case VMM_E_CPUID_UNSUPPORTED:
        return CAP_E_HOST_ERROR;
    case VMM_E_LOADER_BAD_IMAGE:
    case VMM_E_LOADER_NO_ROOM:
    case CAP_E_FILE_ERROR:
        return CAP_E_FILE_ERROR;
    case VMM_E_ENGINE_UNAVAILABLE:
    case CAP_E_NOT_SUPPORTED:
        return CAP_E_NOT_SUPPORTED;
    default:
        return CAP_E_VM_ERROR;
    }
}

static int usage(const char *msg)
{
    fprintf(stderr,
            "capsule-vm: %s\nusage: capsule-vm --startvm UUID --home HOME "
            "[--type headless|sdl|gui] [--drive SPEC]...\n",
            msg);
    return VMPROC_EXIT_USAGE;
}

/* ---- the service watch --------------------------------------------------------- */

/* While the VM runs, a thread looks at the service connection every
 * WATCH_MS: if capsule-svc ends (crash, kill), nobody can control the VM
 * any more and a restarted service would believe the machine off and let
 * it start twice, so the VM powers off (console_service_lost). */
#define WATCH_MS 100

struct watch {
    struct cap_client *client;
    struct console *c;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stop;
};

static void *watch_thread(void *arg)
{
    struct watch *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->stop) {
        if (!cap_client_alive(w->client)) {
            pthread_mutex_unlock(&w->lock);
            console_service_lost(w->c);
            return NULL;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += WATCH_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&w->cond, &w->lock, &ts);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* Runs the VM to its end under the watch (without it if the thread cannot start). */
static int run_watched(struct cap_client *client, struct console *c)
{
    struct watch w = {.client = client, .c = c};
    pthread_mutex_init(&w.lock, NULL);
    pthread_cond_init(&w.cond, NULL);
    pthread_t t;
    int watching = pthread_create(&t, NULL, watch_thread, &w) == 0;
    if (!watching)
        fprintf(stderr, "capsule-vm: cannot watch the service connection; running unwatched\n");
    int status = console_run_until_off(c);
    if (watching) {
        pthread_mutex_lock(&w.lock);
        w.stop = 1;
        pthread_cond_signal(&w.cond);
        pthread_mutex_unlock(&w.lock);
        pthread_join(t, NULL);
    }
    pthread_cond_destroy(&w.cond);
    pthread_mutex_destroy(&w.lock);
    return status;
}

/* Locks the machine, builds and starts the VM, reports the outcome. */
static int run(struct cap_client *client, ICapsule *root, const char *id, const char *type,
               struct settings *set)
{
    IMachine *m = NULL, *sm = NULL;
    struct console *c = NULL;
    int status = VMPROC_EXIT_FAILURE, locked = 0;
    cap_result rc = ICapsule_FindMachine(root, id, &m);
    if (CAP_SUCCEEDED(rc))
        rc = console_create(&c);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_LockMachine(m, console_session(c), LockType_VM);
    if (CAP_FAILED(rc)) {
        const char *msg = cap_error_peek_message();
        fprintf(stderr, "capsule-vm: cannot lock machine %s: %s\n", id, msg ? msg : "?");
        goto out;
    }
    locked = 1;
    sm = console_machine(c);
    rc = sm ? read_settings(sm, type, set) : CAP_E_UNEXPECTED;
    if (CAP_SUCCEEDED(rc))
        rc = console_power_up(c, &set->opts);
    if (CAP_FAILED(rc)) {
        const char *msg = cap_error_peek_message();
        char *text =
            cap_str_printf("%s (%s)", msg ? msg : "cannot power the VM up", vmm_result_name(rc));
        fprintf(stderr, "capsule-vm: %s\n", text ? text : "cannot power the VM up");
        console_end_power_up(c, api_code(rc), text ? text : "cannot power the VM up");
        cap_str_free(text);
        goto out;
    }
    fprintf(stderr, "capsule-vm: the VM runs\n");
    console_end_power_up(c, CAP_OK, "");
    status = run_watched(client, c);
    fprintf(stderr, "capsule-vm: the VM is off (exit status %d)\n", status);
    /* Let a client waiting on powerDown's progress read its result. */
    console_linger(c, 5000);
out:
    if (locked)
        console_finish(c, MachineState_PoweredOff); /* no-op if done */
    if (sm)
        IMachine_Release(sm);
    if (m)
        IMachine_Release(m);
    console_release(c); /* may live on in IPC handles until the connection closes */
    return status;
}

int vmproc_managed_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"startvm", required_argument, NULL, 's'},
        {"home", required_argument, NULL, 'h'},
        {"type", required_argument, NULL, 't'},
        {"drive", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    struct settings set = {0};
    struct vmproc_opts drives; /* only its drive list is used */
    vmproc_opts_init(&drives);
    const char *id = NULL, *home = NULL, *type = "headless";
    int o;
    opterr = 0;
    while ((o = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (o) {
        case 's':
            id = optarg;
            break;
        case 'h':
            home = optarg;
            break;
        case 't':
            type = optarg;
            break;
        case 'd':
            if (vmproc_add_drive(&drives, optarg, stderr))
                return VMPROC_EXIT_USAGE;
            break;
        default:
            return usage("unknown or incomplete option in managed mode");
        }
    }
    if (optind < argc)
        return usage("unexpected argument");
    if (!id || !*id)
        return usage("--startvm needs the machine's UUID or name");
    fprintf(stderr, "capsule-vm: managed mode: machine %s, home %s, frontend %s, pid %d\n", id,
            home ? home : "(default)", type, (int)getpid());
    struct cap_client_options copts = {.home = home, .no_autostart = 1};
    struct cap_client *client = NULL;
    ICapsule *root = NULL;
    memcpy(set.drives, drives.drives, sizeof(set.drives));
    set.n_drives = drives.n_drives;
    cap_result rc = cap_client_connect(&copts, &client);
    if (CAP_SUCCEEDED(rc))
        rc = cap_client_get_root(client, &root);
    int status = VMPROC_EXIT_FAILURE;
    if (CAP_FAILED(rc)) {
        const char *msg = cap_error_peek_message();
        fprintf(stderr, "capsule-vm: cannot reach the service: %s\n", msg ? msg : "?");
    } else {
        status = run(client, root, id, type, &set);
    }
    if (root)
        ICapsule_Release(root);
    cap_client_close(client); /* the console and its VM go with the last handle */
    settings_clear(&set);     /* after the VM, which borrows the strings */
    return status;
}
