/*
 * vmproc.c - the VM process: the machine's devices (a data table plus
 * --device), building the VM through EM, loading the boot image with
 * vmm/loader (again after every reset) or the BIOS image (--firmware bios:
 * the reset vector, again at every reset), running the
 * frontend beside the VM and mapping the way it ended to an exit status.
 */
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <capsule/errorinfo.h>
#include <capsule/registry.h>

#include "cpum/cpum_profile.h"
#include "display/display.h"
#include "em/em.h"
#include "loader/loader.h"
#include "pdm.h"
#include "platform/platform.h"
#include "platform/platform_tables.h"
#include "vmproc.h"
#include "vmproc_frontends.h"
#include "vmproc_fwtables.h"
#include "vmproc_inputfeed.h"
#include "vmproc_screenshot.h"
#include "vmproc_vrde.h"

#define MAX_DEVICES PLATFORM_MAX_DEVICES

/*
 * The machine's devices are vmm/platform's device table (platform.h: what
 * a PC has, each device's typed configuration from the machine's layout);
 * capsule-vm adds what only it knows (the serial backend, the boot files,
 * the firmware's fw_cfg files), leaves out what --no-device names, and
 * applies --device NAME[,key=value...]: with the name of a single default
 * row present it changes that row's keys (its values win), any other adds
 * an instance. The command line's text becomes typed values here, the one
 * edge (pdm_cfg_parse).
 */
struct vmproc {
    struct vmproc_opts opts;
    struct cap_registry *registry;
    struct vm *vm;
    const struct vm_frontend *frontend;
    void *fe_state;
    struct fe_display *display; /* the VM's display hub: after vm_create, before vm_destroy */
    struct vm_frontend_env fe_env;
    struct inputfeed *feed; /* --input-feed, while the VM runs */
    /* the machine: layout and device table (values point into opts,
     * dev_text, sercon_text, fwt) and the table as PDM takes it */
    struct platform plat;
    struct pdm_dev_config devs[MAX_DEVICES];
    char *dev_text[VMPROC_MAX_EXTRA_DEVICES];
    size_t ndevs;
    struct loader_info boot;
    char sercon_text[48];       /* fw_cfg's etc/sercon-port (firmware bios) */
    struct vmproc_fwtables fwt; /* ACPI + SMBIOS for fw_cfg (bios), the UUID */
    char engine_reason[256];
    struct pdm_drive_config drives[VMPROC_MAX_DRIVES]; /* from opts.drives */
    struct pdm_nic_config nics[VMPROC_MAX_NICS];       /* from opts.nics */
    struct pdm_net_hostfwd fwd[VMPROC_MAX_NICS][VMPROC_MAX_HOSTFWD];
    uint64_t log_bytes;       /* VMM log bytes so far (atomic: any VM thread) */
    uint64_t log_dropped;     /* lines dropped past opts.log_max (atomic) */
    struct vmproc_vrde *vrde; /* the remote display server: after the hub, before it goes */
};

static bool if_bus(const struct vmproc_opts *o, const char *bus)
{
    for (unsigned i = 0; i < o->n_drives; i++)
        if (!strcmp(o->drives[i].bus, bus))
            return true;
    return false;
}
static bool if_ide(const struct vmproc_opts *o)
{
    return if_bus(o, "ide");
}
static bool if_sata(const struct vmproc_opts *o)
{
    return if_bus(o, "sata");
}
static bool if_virtio(const struct vmproc_opts *o)
{
    return if_bus(o, "virtio");
}

/* Devices capsule-vm adds after the platform's rows for options only it
 * has - the storage controllers of --drive, e.g. {"piix3ide", if_ide} -, a
 * single row each, in this order; --no-device may name them too. */
static const struct frontend_row {
    const char *device;
    bool (*when)(const struct vmproc_opts *o);
} frontend_rows[] = {
    /* The PIIX3 IDE controller, with --drive if=ide (its drives are PDM
     * block-layer drives on LUN port * 2 + device) */
    {"piix3ide", if_ide},
    /* The AHCI SATA controller (ICH9, 00:0d.0), with --drive if=sata (LUN = port) */
    {"ahci", if_sata},
    /* virtio-blk, with --drive if=virtio: one PCI function per drive, the
     * drive on LUN port */
    {"virtioblk", if_virtio},
    {NULL, NULL}, /* the end */
};

static bool frontend_row_known(const char *device)
{
    for (const struct frontend_row *r = frontend_rows; r->device; r++)
        if (!strcmp(r->device, device))
            return true;
    return false;
}

/* The default devices' names for a message: the platform's, then ours. */
static void default_names(char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s", platform_device_names());
    for (const struct frontend_row *r = frontend_rows; r->device && n >= 0 && (size_t)n < len; r++)
        n += snprintf(buf + n, len - (size_t)n, ", %s", r->device);
}

static bool is_disabled(const struct vmproc_opts *o, const char *device)
{
    for (unsigned i = 0; i < o->n_disabled_devices; i++)
        if (!strcmp(o->disabled_devices[i], device))
            return true;
    return false;
}

/* Sets `v` in the row of `device` if the machine has one. */
static cap_result set_value(struct vmproc *p, const char *device, struct pdm_cfg_value v)
{
    struct platform_device *d = platform_device_find(&p->plat, device);
    char msg[160];
    if (d && CAP_FAILED(platform_device_set(d, v, msg, sizeof(msg))))
        return cap_error_set(CAP_E_INVALIDARG, "capsule-vm", NULL, "%s", msg);
    return CAP_OK;
}

/* What capsule-vm's options add to the platform's rows. */
static cap_result frontend_values(struct vmproc *p)
{
    const struct vmproc_opts *o = &p->opts;
    struct pdm_cfg_value v[16];
    const char *dev[16];
    size_t n = 0;
#define ADD(d, val) (dev[n] = (d), v[n++] = (val))
    ADD("serial", PDM_CFG_I("iobase", o->serial_iobase));
    ADD("serial", PDM_CFG_I("irq", o->serial_irq));
    if (o->serial)
        ADD("serial", PDM_CFG_S("backend", o->serial));
    if (o->kernel)
        ADD("fwcfg", PDM_CFG_S("kernel", o->kernel));
    if (o->initrd)
        ADD("fwcfg", PDM_CFG_S("initrd", o->initrd));
    if (o->append)
        ADD("fwcfg", PDM_CFG_S("cmdline", o->append));
    if (vmproc_opts_bios(o)) {
        ADD("rtc", PDM_CFG_S("boot_order", o->boot_order));
        /* SeaBIOS's console on COM1 (sercon) so POST and the boot menu show
         * on serial before there is a display */
        snprintf(p->sercon_text, sizeof(p->sercon_text), "name=etc/sercon-port,u16=0x%x",
                 (unsigned)o->serial_iobase);
        if (o->serial && strcmp(o->serial, "none"))
            ADD("fwcfg", PDM_CFG_S("file0", p->sercon_text));
        /* as QEMU without -boot reboot-timeout: no retry after "No bootable
         * device." (SeaBIOS's default would reset the VM every 60 s) */
        ADD("fwcfg", PDM_CFG_S("file1", "name=etc/boot-fail-wait,u32=0xffffffff"));
    }
#undef ADD
    cap_result rc = CAP_OK;
    for (size_t i = 0; CAP_SUCCEEDED(rc) && i < n; i++)
        rc = set_value(p, dev[i], v[i]);
    /* vmm/platform's ACPI tables with their loader script, and SMBIOS */
    static const char *const keys[VMPROC_FWTABLE_FILES][2] = {{"file2.name", "file2.data"},
                                                              {"file3.name", "file3.data"},
                                                              {"file4.name", "file4.data"},
                                                              {"file5.name", "file5.data"},
                                                              {"file6.name", "file6.data"}};
    for (unsigned i = 0; CAP_SUCCEEDED(rc) && i < p->fwt.n; i++) {
        const struct platform_file *f = &p->fwt.files[i];
        rc = set_value(p, "fwcfg", PDM_CFG_S(keys[i][0], f->name));
        if (CAP_SUCCEEDED(rc))
            rc = set_value(p, "fwcfg", PDM_CFG_BYTES(keys[i][1], f->data, f->len));
    }
    return rc;
}

/* "NAME[,key=value...]" (copied into p->dev_text) -> a row or its edits. */
static cap_result parse_device(struct vmproc *p, const char *spec, size_t i)
{
    char *s = strdup(spec);
    if (!s)
        return cap_error_set(CAP_E_OUTOFMEMORY, "capsule-vm", NULL, "out of memory");
    p->dev_text[i] = s;
    /* strsep, not strtok: ",irq=3" has an empty name and "a=1,,b=2" an
     * empty pair, which strtok would skip */
    char *rest = s, *tok = strsep(&rest, ",");
    if (!*tok)
        return cap_error_set(CAP_E_INVALIDARG, "capsule-vm", NULL, "--device '%s': no device name",
                             spec);
    struct platform_device *d = platform_device_find(&p->plat, tok);
    if (!d || !d->single)
        d = platform_device_add(&p->plat, tok);
    if (!d)
        return cap_error_set(CAP_E_INVALIDARG, "capsule-vm", NULL,
                             "--device '%s': more than %u devices", spec, MAX_DEVICES);
    while ((tok = strsep(&rest, ","))) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok)
            return cap_error_set(CAP_E_INVALIDARG, "capsule-vm", NULL,
                                 "--device '%s': '%s' is not key=value", spec, tok);
        *eq = '\0';
        struct pdm_cfg_value v;
        char msg[160];
        cap_result rc = pdm_cfg_parse(d->name, tok, eq + 1, &v);
        if (CAP_FAILED(rc))
            return cap_error_set(rc, "capsule-vm", NULL, "--device '%s': %s", spec,
                                 cap_error_peek_message());
        if (CAP_FAILED(platform_device_set(d, v, msg, sizeof(msg))))
            return cap_error_set(CAP_E_INVALIDARG, "capsule-vm", NULL, "--device '%s': %s", spec,
                                 msg);
    }
    return CAP_OK;
}

static bool graphics_is(const struct vmproc_opts *o, const char *g)
{
    return o->graphics && !strcmp(o->graphics, g);
}

/* Whether the machine's VGA starts in text mode (the platform's direct-boot
 * VGA, not one --device vga added raw): the loader tells Linux so. */
static bool vga_text(struct vmproc *p)
{
    struct platform_device *d = platform_device_find(&p->plat, "vga");
    const struct pdm_cfg_value *v = d ? platform_device_get(d, "textmode") : NULL;
    return v && v->type == PDM_CFG_BOOL && v->u.b;
}

/* The device plugin of a --nic's model (vmproc_nic.c's names). */
static const char *nic_device(const struct vmproc_nic *n)
{
    return strcmp(n->model, "virtio") == 0 ? "virtionet" : "e1000";
}

static cap_result build_device_list(struct vmproc *p)
{
    const struct vmproc_opts *o = &p->opts;
    char names[512];
    for (unsigned i = 0; i < o->n_disabled_devices; i++)
        if (!platform_device_known(o->disabled_devices[i]) &&
            !frontend_row_known(o->disabled_devices[i])) {
            default_names(names, sizeof(names));
            return cap_error_set(CAP_E_INVALIDARG, "capsule-vm", NULL,
                                 "--no-device %s: not a default device (%s)",
                                 o->disabled_devices[i], names);
        }
    cap_result rc =
        vmproc_fwtables_build(o, !is_disabled(o, "acpipm"), !is_disabled(o, "hpet"), &p->fwt);
    if (CAP_FAILED(rc))
        return rc;
    struct platform_config pc = {
        .ram_bytes = o->memory_mb << 20,
        .firmware = vmproc_opts_bios(o) ? PLATFORM_FW_BIOS : PLATFORM_FW_NONE,
        .cpus = o->cpus,
        .devices = (o->serial ? PLATFORM_DEV_SERIAL : 0) |
                   (o->debug_exit ? PLATFORM_DEV_DEBUGEXIT : 0) |
                   (graphics_is(o, "vga") ? PLATFORM_DEV_VGA : 0),
    };
    char msg[256];
    if (CAP_FAILED(platform_init(&pc, &p->plat, msg, sizeof(msg))))
        return cap_error_set(CAP_E_INVALIDARG, "capsule-vm", NULL, "the machine: %s", msg);
    /* --nic: the adapters at their fixed slots, before the devices taking
     * the first free one; each its own default MAC whatever its model */
    for (unsigned i = 0; CAP_SUCCEEDED(rc) && i < o->n_nics; i++) {
        struct vmproc_nic *n = &p->opts.nics[i];
        struct platform_device *d = platform_device_add(&p->plat, nic_device(n));
        if (!d)
            return cap_error_set(CAP_E_INVALIDARG, "capsule-vm", NULL,
                                 "--nic: more than %u devices", MAX_DEVICES);
        if (!n->mac[0])
            snprintf(n->mac, sizeof(n->mac), "52:54:00:12:34:%02x", 0x56 + i);
        rc = platform_device_set(d, PDM_CFG_I("devfn", PLATFORM_NIC_DEVFN(i)), msg, sizeof(msg));
        if (CAP_SUCCEEDED(rc))
            rc = platform_device_set(d, PDM_CFG_B("link", n->link), msg, sizeof(msg));
        if (CAP_SUCCEEDED(rc))
            rc = platform_device_set(d, PDM_CFG_S("mac", n->mac), msg, sizeof(msg));
        if (CAP_FAILED(rc))
            return cap_error_set(CAP_E_INVALIDARG, "capsule-vm", NULL, "--nic: %s", msg);
    }
    for (const struct frontend_row *r = frontend_rows; r->device; r++) {
        struct platform_device *d = r->when(o) ? platform_device_add(&p->plat, r->device) : NULL;
        if (d)
            d->single = true;
    }
    rc = frontend_values(p);
    if (graphics_is(o, "none")) {
        platform_device_remove(&p->plat, "vga");
        platform_device_remove(&p->plat, "virtioinput");
    }
    for (unsigned i = 0; i < o->n_disabled_devices; i++)
        platform_device_remove(&p->plat, o->disabled_devices[i]);
    for (unsigned i = 0; CAP_SUCCEEDED(rc) && i < o->n_extra_devices; i++)
        rc = parse_device(p, o->extra_devices[i], i);
    if (CAP_FAILED(rc))
        return rc;
    platform_pdm_config(&p->plat, p->devs);
    p->ndevs = p->plat.n_devices;
    return CAP_OK;
}

/* --drive -> the block layer's drives (the controllers' LUNs). */
static void build_drive_list(struct vmproc *p)
{
    for (unsigned i = 0; i < p->opts.n_drives; i++) {
        const struct vmproc_drive *d = &p->opts.drives[i];
        bool virtio = !strcmp(d->bus, "virtio"), sata = !strcmp(d->bus, "sata");
        p->drives[i] = (struct pdm_drive_config){
            /* the controllers of vmproc_drive.c */
            .device = virtio ? "virtioblk"
                      : sata ? "ahci"
                             : "piix3ide",
            .lun = virtio || sata ? d->port : d->port * 2 + d->device,
            .kind = d->cdrom ? PDM_BLK_CDROM : PDM_BLK_DISK,
            .path = d->file,
            .format = d->format,
            .readonly = d->readonly,
        };
    }
}

/* --nic -> PDM's network attachments: the adapter of the i-th is the
 * instance of its model's device counting the earlier --nic of that model. */
static void build_nic_list(struct vmproc *p)
{
    for (unsigned i = 0; i < p->opts.n_nics; i++) {
        const struct vmproc_nic *n = &p->opts.nics[i];
        unsigned instance = 0;
        for (unsigned j = 0; j < i; j++)
            instance += !strcmp(nic_device(&p->opts.nics[j]), nic_device(n));
        for (unsigned j = 0; j < n->n_fwd; j++)
            p->fwd[i][j] = (struct pdm_net_hostfwd){.udp = n->fwd[j].udp,
                                                    .host_addr = n->fwd[j].host_addr,
                                                    .host_port = n->fwd[j].host_port,
                                                    .guest_addr = n->fwd[j].guest_addr,
                                                    .guest_port = n->fwd[j].guest_port};
        p->nics[i] = (struct pdm_nic_config){
            .device = nic_device(n),
            .instance = instance,
            .backend = n->attachment,
            .hostfwd = p->fwd[i],
            .n_hostfwd = n->n_fwd,
            .trace = n->trace,
        };
    }
}

static cap_result load_image(struct vmproc *p, struct vm *vm)
{
    if (vmproc_opts_bios(&p->opts)) {
        struct loader_params fw = {.kernel_path = p->opts.bios_image};
        return loader_load_firmware(vm_pgm(vm), vm_cpu(vm, 0), &fw, &p->boot);
    }
    struct loader_params lp = {
        .kernel_path = p->opts.kernel,
        .initrd_path = p->opts.initrd,
        .cmdline = p->opts.append,
        .format = LOADER_UNKNOWN,
        .flat_fallback = CAP_TRUE,
        .cpus = p->opts.cpus,
        .no_acpi = is_disabled(&p->opts, "acpipm"),
        .no_hpet = is_disabled(&p->opts, "hpet"),
        .uuid = p->fwt.uuid,
        .vga_text = vga_text(p),
    };
    return loader_load(vm_pgm(vm), vm_cpu(vm, 0), &lp, &p->boot);
}

static cap_result reset_hook(void *ctx, struct vm *vm)
{
    return load_image(ctx, vm);
}

/* The VMM's log lines go to stderr (in the managed mode: the machine's
 * capsule-vm.log). Guest-triggered lines are rate-limited in EM already;
 * this is the second fence: past opts.log_max bytes lines are dropped, the
 * first drop is said and the count is given at the end (errors always
 * pass: they end the VM). */
static void vm_log(void *ctx, const char *who, enum vm_log_level level, const char *msg)
{
    struct vmproc *p = ctx;
    if (p && !strcmp(who, "em") && !strncmp(msg, "engine ", 7) && !p->engine_reason[0])
        snprintf(p->engine_reason, sizeof(p->engine_reason), "%s", msg);
    if (level > VM_LOG_INFO)
        return;
    char line[1024];
    int n = snprintf(line, sizeof(line), "capsule-vm: %s: %s\n", who, msg);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line))
        n = (int)strlen(line);
    if (p && p->opts.log_max && level != VM_LOG_ERROR) {
        uint64_t before = __atomic_fetch_add(&p->log_bytes, (uint64_t)n, __ATOMIC_RELAXED);
        if (before + (uint64_t)n > p->opts.log_max) {
            if (__atomic_fetch_add(&p->log_dropped, 1, __ATOMIC_RELAXED) == 0)
                fprintf(stderr,
                        "capsule-vm: log: this log reached its bound of %llu bytes: further VM "
                        "log lines are dropped (their count follows at the end)\n",
                        (unsigned long long)p->opts.log_max);
            return;
        }
    }
    fputs(line, stderr);
}

static cap_result open_registry(struct vmproc *p)
{
    char *dir = NULL;
    cap_result rc = cap_registry_create(&p->registry);
    if (CAP_SUCCEEDED(rc))
        rc = cap_exe_relative_path("../lib/components", &dir);
    if (CAP_SUCCEEDED(rc))
        rc = cap_registry_load_manifests(p->registry, dir);
    free(dir);
    return rc;
}

cap_result vmproc_create(const struct vmproc_opts *o, struct vmproc **out)
{
    *out = NULL;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    if (o->screenshot)
        sigaddset(&set, SIGUSR1); /* for the main thread only: vmproc_screenshot_wait */
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    struct vmproc *p = calloc(1, sizeof(*p));
    if (!p)
        return cap_error_set(CAP_E_OUTOFMEMORY, "capsule-vm", NULL, "out of memory");
    p->opts = *o;
    p->frontend = vmproc_find_frontend(o->frontend);
    char names[64];
    cap_result rc = p->frontend ? CAP_OK
                                : cap_error_set(CAP_E_INVALIDARG, "capsule-vm", NULL,
                                                "unknown frontend '%s' (known: %s)", o->frontend,
                                                vmproc_frontend_names(names, sizeof(names)));
    if (CAP_SUCCEEDED(rc))
        rc = build_device_list(p);
    build_drive_list(p);
    build_nic_list(p);
    if (CAP_SUCCEEDED(rc))
        rc = open_registry(p);
    if (CAP_FAILED(rc))
        goto fail;
    struct vm_config cfg = {
        .name = o->name,
        .ram_bytes = o->memory_mb << 20,
        .ram_beyond_host = o->force_memory,
        .ncpus = o->cpus,
        .engine = o->engine,
        .cpu_profile = o->cpu_profile,
        .devices = p->devs,
        .n_devices = p->ndevs,
        .drives = p->drives,
        .n_drives = o->n_drives,
        .nics = p->nics,
        .n_nics = o->n_nics,
        .registry = p->registry,
        .log = vm_log,
        .log_ctx = p,
        .reset_hook = reset_hook,
        .reset_ctx = p,
    };
    rc = vm_create(&cfg, &p->vm);
    if (CAP_SUCCEEDED(rc))
        rc = fe_display_create(p->vm, FE_DISPLAY_HZ_DEFAULT, &p->display);
    if (CAP_SUCCEEDED(rc))
        rc = load_image(p, p->vm);
    if (CAP_FAILED(rc))
        goto fail;
    fprintf(stderr, "capsule-vm: loaded %s: %s\n", vmproc_opts_bios(o) ? o->bios_image : o->kernel,
            p->boot.description);
    if (o->restore) {
        rc = vm_restore_state(p->vm, o->restore);
        if (CAP_FAILED(rc)) {
            const char *why = cap_error_peek_message();
            rc = cap_error_set(rc, "capsule-vm", NULL, "--restore '%s': %s", o->restore,
                               why ? why : vmm_result_name(rc));
            goto fail;
        }
        fprintf(stderr, "capsule-vm: restored the saved state %s\n", o->restore);
    }
    /* vm_create refused any other profile; some CPUs pad their brand */
    const struct cpum_profile *prof = cpum_profile_find(o->cpu_profile);
    if (prof) {
        int n = (int)strlen(prof->brand);
        while (n > 0 && prof->brand[n - 1] == ' ')
            n--;
        fprintf(stderr, "capsule-vm: CPU profile %s: %s, %.*s\n", prof->name,
                cpum_vendor_string(prof->vendor), n, prof->brand);
    }
    rc = vmproc_vrde_create(p->vm, p->display, &o->vrde_cfg, o->vrde_password_file, &p->vrde);
    if (CAP_FAILED(rc))
        goto fail;
    *out = p;
    return CAP_OK;
fail:;
    struct cap_error_info saved = {0};
    cap_error_take(&saved);
    vmproc_destroy(p);
    cap_error_set_info(&saved);
    cap_error_info_clear(&saved);
    return rc;
}

static int exit_status(struct vmproc *p, enum vm_state st)
{
    struct vm_stop_info si;
    vm_get_stop_info(p->vm, &si);
    if (st == VM_STATE_ABORTED) {
        fprintf(stderr, "capsule-vm: aborted: %s\n", si.message);
        return VMPROC_EXIT_ABORTED;
    }
    /* the device's code is (V<<1)|1 already: odd, never one of ours */
    if (si.reason == VM_STOP_GUEST_POWER_OFF && si.exit_code >= 0)
        return (si.exit_code & 0xff) | 1;
    return VMPROC_EXIT_OK;
}

cap_result vmproc_start(struct vmproc *p)
{
    cap_result rc = CAP_OK;
    /* the remote display first: its clients see the guest from power-on */
    if (p->opts.vrde)
        rc = vmproc_vrde_enable(p->vrde, true);
    p->fe_env = (struct vm_frontend_env){.vm = p->vm, .display = p->display};
    if (CAP_SUCCEEDED(rc))
        rc = p->frontend->attach(&p->fe_env, &p->fe_state);
    if (CAP_SUCCEEDED(rc))
        rc = vm_start(p->vm);
    if (CAP_SUCCEEDED(rc) && p->opts.input_feed)
        rc = vmproc_inputfeed_start(p->vm, p->opts.input_feed, &p->feed);
    return rc;
}

const char *vmproc_engine_reason(struct vmproc *p)
{
    return p->engine_reason;
}

int vmproc_run(struct vmproc *p)
{
    cap_result rc = vmproc_start(p);
    if (CAP_FAILED(rc)) {
        const char *msg = cap_error_peek_message();
        fprintf(stderr, "capsule-vm: cannot start: %s\n", msg ? msg : "unknown error");
        return VMPROC_EXIT_FAILURE;
    }
    return vmproc_finish(p, NULL);
}

int vmproc_finish(struct vmproc *p, enum vm_state *state)
{
    enum vm_state st =
        p->opts.screenshot ? vmproc_screenshot_wait(p->vm, p->opts.screenshot) : vm_wait(p->vm, -1);
    if (state)
        *state = st;
    vmproc_vrde_enable(p->vrde, false);
    vmproc_inputfeed_stop(p->feed);
    p->feed = NULL;
    p->frontend->detach(p->fe_state);
    p->fe_state = NULL;
    uint64_t dropped = __atomic_load_n(&p->log_dropped, __ATOMIC_RELAXED);
    if (dropped)
        fprintf(stderr,
                "capsule-vm: log: %llu lines were dropped past the log's bound of %llu bytes\n",
                (unsigned long long)dropped, (unsigned long long)p->opts.log_max);
    if (p->opts.stats) {
        uint64_t first_run = vm_first_run_ns(p->vm);
        vm_print_stats(p->vm, stderr);
        if (p->opts.start_ns && first_run)
            fprintf(stderr, "start to first guest entry %9.3f ms (from main())\n",
                    (first_run - p->opts.start_ns) / 1e6);
    }
    return exit_status(p, st);
}

struct vm *vmproc_vm(struct vmproc *p)
{
    return p->vm;
}

struct fe_display *vmproc_display(struct vmproc *p)
{
    return p->display;
}

struct vmproc_vrde *vmproc_vrde(struct vmproc *p)
{
    return p->vrde;
}

cap_result vmproc_set_medium(struct vmproc *p, const char *bus, unsigned port, unsigned device,
                             const char *path, bool force)
{
    for (unsigned i = 0; i < p->opts.n_drives; i++) {
        const struct vmproc_drive *d = &p->opts.drives[i];
        if (!strcmp(d->bus, bus) && d->port == port && d->device == device)
            return pdm_drive_set_medium(vm_pdm(p->vm), p->drives[i].device, p->drives[i].instance,
                                        p->drives[i].lun, path, NULL, force);
    }
    return cap_error_set(CAP_E_INVALIDARG, "capsule-vm", NULL,
                         "the VM has no drive on %s port %u device %u", bus, port, device);
}

/* The index in opts.nics of machine slot `slot`, or -1 (error info set). */
static int nic_index(struct vmproc *p, unsigned slot)
{
    for (unsigned i = 0; i < p->opts.n_nics; i++)
        if (p->opts.nic_slot[i] == slot)
            return (int)i;
    cap_error_set(CAP_E_INVALIDARG, "capsule-vm", NULL,
                  "the VM has no network adapter %u (it was not enabled at power-up)", slot + 1);
    return -1;
}

cap_result vmproc_nic_set_link(struct vmproc *p, unsigned slot, bool up)
{
    int i = nic_index(p, slot);
    if (i < 0)
        return CAP_E_INVALIDARG;
    return pdm_net_set_link(vm_pdm(p->vm), p->nics[i].device, p->nics[i].instance, up);
}

cap_result vmproc_nic_hostfwd(struct vmproc *p, unsigned slot, const struct vmproc_hostfwd *f,
                              bool add)
{
    int i = nic_index(p, slot);
    if (i < 0)
        return CAP_E_INVALIDARG;
    struct pdm_net_hostfwd h = {.udp = f->udp,
                                .host_addr = f->host_addr,
                                .host_port = f->host_port,
                                .guest_addr = f->guest_addr,
                                .guest_port = f->guest_port};
    return pdm_net_hostfwd(vm_pdm(p->vm), p->nics[i].device, p->nics[i].instance, &h, add);
}

void vmproc_destroy(struct vmproc *p)
{
    if (!p)
        return;
    vmproc_vrde_destroy(p->vrde);
    vmproc_inputfeed_stop(p->feed);
    if (p->fe_state)
        p->frontend->detach(p->fe_state);
    fe_display_destroy(p->display);
    vm_destroy(p->vm);
    cap_registry_destroy(p->registry);
    for (unsigned i = 0; i < VMPROC_MAX_EXTRA_DEVICES; i++)
        free(p->dev_text[i]);
    vmproc_fwtables_free(&p->fwt);
    free(p);
}
