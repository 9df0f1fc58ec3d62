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
#include "em/em.h"
#include "loader/loader.h"
#include "pdm.h"
#include "vmproc.h"
#include "vmproc_frontends.h"
#include "vmproc_fwtables.h"

#define MAX_DEVICES (16 + VMPROC_MAX_EXTRA_DEVICES)
#define MAX_KV      16

/*
 * The default devices of a VM - what a PC has - in construction order (the
 * PIC first: devices raise IRQs from construct on). A row whose `when` is
 * false for the options, or that --no-device names, is left out; `config`
 * fills the row's key/values from the options (RAM size, CPUs, boot files),
 * so the devices describe the same machine the loader's e820 map does.
 * --device NAME[,key=value...] with the name of a `single` row present
 * changes that row's keys (its values win); any other --device adds an
 * instance.
 */
struct devspec {
    const char *device;
    bool (*when)(const struct vmproc_opts *o);
    size_t (*config)(const struct vmproc_opts *o, struct pdm_cfg_kv *kv);
    bool single; /* one per machine: --device NAME edits the default row */
};

static bool always(const struct vmproc_opts *o)
{
    return true;
}
static bool if_debug_exit(const struct vmproc_opts *o)
{
    return o->debug_exit;
}
static bool if_serial(const struct vmproc_opts *o)
{
    return o->serial != NULL;
}
static bool if_bios(const struct vmproc_opts *o)
{
    return vmproc_opts_bios(o);
}
static bool has_drive_on(const struct vmproc_opts *o, const char *bus)
{
    for (unsigned i = 0; i < o->n_drives; i++)
        if (!strcmp(o->drives[i].bus, bus))
            return true;
    return false;
}
static bool if_ide(const struct vmproc_opts *o)
{
    return has_drive_on(o, "ide");
}
static bool if_sata(const struct vmproc_opts *o)
{
    return has_drive_on(o, "sata");
}

/* The numbers as text live in struct vmproc (serial_text, num_text). */
static size_t serial_config(const struct vmproc_opts *o, struct pdm_cfg_kv *kv);
static size_t rtc_config(const struct vmproc_opts *o, struct pdm_cfg_kv *kv);
static size_t fwcfg_config(const struct vmproc_opts *o, struct pdm_cfg_kv *kv);

static size_t debugexit_config(const struct vmproc_opts *o, struct pdm_cfg_kv *kv)
{
    kv[0] = (struct pdm_cfg_kv){"iobase", "0xf4"};
    return 1;
}

static const struct devspec default_devices[] = {
    {"pic", always, NULL, true},
    {"pit", always, NULL, true},
    {"serial", if_serial, serial_config, false},
    {"port80", always, NULL, true},
    {"rtc", always, rtc_config, true},
    {"i8042", always, NULL, true},
    {"fwcfg", always, fwcfg_config, true},
    {"apic", always, NULL, true},
    {"ioapic", always, NULL, true},
    {"debugexit", if_debug_exit, debugexit_config, true},
    /* Always: the loader's ACPI tables (Linux boots) point at its ports, and
     * it is how `poweroff` ends the VM. --no-device acpipm also drops them. */
    {"acpipm", always, NULL, true},
    /* The PCI bus with the i440FX host bridge (configuration mechanism #1 at
     * 0xCF8/0xCFC) and the reset control register at 0xCF9. */
    {"pci", always, NULL, true},
    /* The HPET at 0xFED00000; the loader's ACPI HPET table describes it
     * (--no-device hpet drops both). */
    {"hpet", always, NULL, true},
    /* SeaBIOS's debug log (port 0x402) into the VM's log: where POST got */
    {"debugcon", if_bios, NULL, true},
    /* The PIIX3 IDE controller, with --drive if=ide (its drives are PDM
     * block-layer drives on LUN port * 2 + device) */
    {"piix3ide", if_ide, NULL, true},
    /* The AHCI SATA controller (ICH9, 00:0d.0), with --drive if=sata (LUN = port) */
    {"ahci", if_sata, NULL, true},
};
#define N_DEFAULT_DEVICES (sizeof(default_devices) / sizeof(default_devices[0]))

struct vmproc {
    struct vmproc_opts opts;
    struct cap_registry *registry;
    struct vm *vm;
    const struct vm_frontend *frontend;
    void *fe_state;
    /* the device configuration handed to PDM (strings point into dev_text) */
    struct pdm_dev_config devs[MAX_DEVICES];
    struct pdm_cfg_kv kv[MAX_DEVICES][MAX_KV];
    char *dev_text[VMPROC_MAX_EXTRA_DEVICES];
    size_t ndevs;
    struct loader_info boot;
    char serial_text[2][16]; /* COM1's iobase and irq as strings */
    char num_text[3][24];    /* RAM size, RAM below 4 GiB, CPUs as strings */
    char sercon_text[48];    /* fw_cfg's etc/sercon-port (firmware bios) */
    struct vmproc_fwtables fwt; /* ACPI + SMBIOS for fw_cfg (bios), the UUID */
    char engine_reason[256];
    struct pdm_drive_config drives[VMPROC_MAX_DRIVES]; /* from opts.drives */
    uint64_t log_bytes;   /* VMM log bytes so far (atomic: any VM thread) */
    uint64_t log_dropped; /* lines dropped past opts.log_max (atomic) */
};

static struct vmproc *vmproc_of_opts(const struct vmproc_opts *o);

static size_t serial_config(const struct vmproc_opts *o, struct pdm_cfg_kv *kv)
{
    struct vmproc *p = vmproc_of_opts(o);
    snprintf(p->serial_text[0], sizeof(p->serial_text[0]), "0x%x", (unsigned)o->serial_iobase);
    snprintf(p->serial_text[1], sizeof(p->serial_text[1]), "%u", o->serial_irq);
    kv[0] = (struct pdm_cfg_kv){"iobase", p->serial_text[0]};
    kv[1] = (struct pdm_cfg_kv){"irq", p->serial_text[1]};
    kv[2] = (struct pdm_cfg_kv){"backend", o->serial};
    return 3;
}

static struct vmproc *vmproc_of_opts(const struct vmproc_opts *o)
{
    /* the config functions get &p->opts (build_device_list) */
    return (struct vmproc *)((char *)o - offsetof(struct vmproc, opts));
}

/* EM maps the RAM below and above 4 GiB (vm_ram_below_4g) and the loader's
 * e820 (and multiboot map) lists those ranges: CMOS must say the same. */
static size_t rtc_config(const struct vmproc_opts *o, struct pdm_cfg_kv *kv)
{
    struct vmproc *p = vmproc_of_opts(o);
    uint64_t ram = o->memory_mb << 20, below = vm_ram_below_4g(ram);
    snprintf(p->num_text[0], sizeof(p->num_text[0]), "%llu", (unsigned long long)ram);
    snprintf(p->num_text[1], sizeof(p->num_text[1]), "%llu", (unsigned long long)below);
    kv[0] = (struct pdm_cfg_kv){"ram_size", p->num_text[0]};
    kv[1] = (struct pdm_cfg_kv){"ram_below_4g", p->num_text[1]};
    if (!vmproc_opts_bios(o))
        return 2;
    kv[2] = (struct pdm_cfg_kv){"boot_order", o->boot_order};
    return 3;
}

static size_t fwcfg_config(const struct vmproc_opts *o, struct pdm_cfg_kv *kv)
{
    struct vmproc *p = vmproc_of_opts(o);
    size_t n = 0;
    snprintf(p->num_text[0], sizeof(p->num_text[0]), "%llu",
             (unsigned long long)(o->memory_mb << 20));
    snprintf(p->num_text[2], sizeof(p->num_text[2]), "%u", o->cpus);
    kv[n++] = (struct pdm_cfg_kv){"ram_size", p->num_text[0]};
    kv[n++] = (struct pdm_cfg_kv){"cpus", p->num_text[2]};
    if (o->kernel)
        kv[n++] = (struct pdm_cfg_kv){"kernel", o->kernel};
    if (o->initrd)
        kv[n++] = (struct pdm_cfg_kv){"initrd", o->initrd};
    if (o->append)
        kv[n++] = (struct pdm_cfg_kv){"cmdline", o->append};
    if (vmproc_opts_bios(o)) {
        /* SeaBIOS: its memory map, and its console on COM1 (sercon) so POST
         * and the boot menu show on serial before there is a display */
        snprintf(p->num_text[1], sizeof(p->num_text[1]), "%llu",
                 (unsigned long long)vm_ram_below_4g(o->memory_mb << 20));
        kv[n++] = (struct pdm_cfg_kv){"ram_below_4g", p->num_text[1]};
        kv[n++] = (struct pdm_cfg_kv){"e820", "true"};
        snprintf(p->sercon_text, sizeof(p->sercon_text), "name=etc/sercon-port,u16=0x%x",
                 (unsigned)o->serial_iobase);
        if (o->serial && strcmp(o->serial, "none"))
            kv[n++] = (struct pdm_cfg_kv){"file0", p->sercon_text};
        /* as QEMU without -boot reboot-timeout: no retry after "No bootable
         * device." (SeaBIOS's default would reset the VM every 60 s) */
        kv[n++] = (struct pdm_cfg_kv){"file1", "name=etc/boot-fail-wait,u32=0xffffffff"};
        /* vmm/platform's ACPI tables with their loader script, and SMBIOS */
        static const char *const keys[VMPROC_FWTABLE_FILES] = {"file2", "file3", "file4", "file5",
                                                               "file6"};
        for (unsigned i = 0; i < p->fwt.n; i++)
            kv[n++] = (struct pdm_cfg_kv){keys[i], p->fwt.spec[i]};
    }
    return n;
}

static bool is_disabled(const struct vmproc_opts *o, const char *device)
{
    for (unsigned i = 0; i < o->n_disabled_devices; i++)
        if (!strcmp(o->disabled_devices[i], device))
            return true;
    return false;
}

/* The default row for `name` already in p->devs if it is a single one. */
static struct pdm_dev_config *find_single(struct vmproc *p, const char *name, size_t *row)
{
    for (size_t i = 0; i < N_DEFAULT_DEVICES; i++)
        if (default_devices[i].single && !strcmp(default_devices[i].device, name))
            for (size_t r = 0; r < p->ndevs; r++)
                if (!strcmp(p->devs[r].device, name)) {
                    *row = r;
                    return &p->devs[r];
                }
    return NULL;
}

/* Sets key=value in row r (replacing a default value). */
static cap_result set_kv(struct vmproc *p, size_t r, const char *spec, char *key, char *value)
{
    struct pdm_dev_config *d = &p->devs[r];
    for (size_t k = 0; k < d->n_kv; k++)
        if (!strcmp(p->kv[r][k].key, key)) {
            p->kv[r][k].value = value;
            return CAP_OK;
        }
    if (d->n_kv == MAX_KV)
        return cap_error_set(CAP_E_INVALIDARG, "capsule-vm", NULL,
                             "--device '%s': more than %d keys", spec, MAX_KV);
    p->kv[r][d->n_kv++] = (struct pdm_cfg_kv){key, value};
    return CAP_OK;
}

/* "NAME[,key=value...]" (copied into p->dev_text) -> one device row. */
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
    size_t r = p->ndevs;
    struct pdm_dev_config *d = find_single(p, tok, &r);
    if (!d) {
        d = &p->devs[p->ndevs++];
        d->device = tok;
        d->kv = p->kv[r];
    }
    while ((tok = strsep(&rest, ","))) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok)
            return cap_error_set(CAP_E_INVALIDARG, "capsule-vm", NULL,
                                 "--device '%s': '%s' is not key=value", spec, tok);
        *eq = '\0';
        cap_result rc = set_kv(p, r, spec, tok, eq + 1);
        if (CAP_FAILED(rc))
            return rc;
    }
    return CAP_OK;
}

static cap_result build_device_list(struct vmproc *p)
{
    cap_result frc = vmproc_fwtables_build(&p->opts, !is_disabled(&p->opts, "acpipm"),
                                           !is_disabled(&p->opts, "hpet"), &p->fwt);
    if (CAP_FAILED(frc))
        return frc;
    for (unsigned i = 0; i < p->opts.n_disabled_devices; i++) {
        size_t j = 0;
        while (j < N_DEFAULT_DEVICES &&
               strcmp(default_devices[j].device, p->opts.disabled_devices[i]))
            j++;
        if (j == N_DEFAULT_DEVICES)
            return cap_error_set(CAP_E_INVALIDARG, "capsule-vm", NULL,
                                 "--no-device %s: not a default device (pic, pit, serial, port80, "
                                 "rtc, i8042, fwcfg, apic, ioapic, debugexit, acpipm, pci, hpet, "
                                 "debugcon, piix3ide, ahci)",
                                 p->opts.disabled_devices[i]);
    }
    for (size_t i = 0; i < N_DEFAULT_DEVICES; i++) {
        const struct devspec *s = &default_devices[i];
        if (!s->when(&p->opts) || is_disabled(&p->opts, s->device))
            continue;
        struct pdm_dev_config *d = &p->devs[p->ndevs];
        d->device = s->device;
        d->kv = p->kv[p->ndevs];
        d->n_kv = s->config ? s->config(&p->opts, p->kv[p->ndevs]) : 0;
        p->ndevs++;
    }
    for (unsigned i = 0; i < p->opts.n_extra_devices; i++) {
        cap_result rc = parse_device(p, p->opts.extra_devices[i], i);
        if (CAP_FAILED(rc))
            return rc;
    }
    return CAP_OK;
}

/* --drive -> the block layer's drives (the controllers' LUNs). */
static void build_drive_list(struct vmproc *p)
{
    for (unsigned i = 0; i < p->opts.n_drives; i++) {
        const struct vmproc_drive *d = &p->opts.drives[i];
        p->drives[i] = (struct pdm_drive_config){
            .device = !strcmp(d->bus, "sata") ? "ahci" : "piix3ide",
            .lun = !strcmp(d->bus, "sata") ? d->port : d->port * 2 + d->device,
            .kind = d->cdrom ? PDM_BLK_CDROM : PDM_BLK_DISK,
            .path = d->file,
            .format = d->format,
            .readonly = d->readonly,
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
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    struct vmproc *p = calloc(1, sizeof(*p));
    if (!p)
        return cap_error_set(CAP_E_OUTOFMEMORY, "capsule-vm", NULL, "out of memory");
    p->opts = *o;
    p->frontend = vmproc_find_frontend(o->frontend);
    cap_result rc = p->frontend
                        ? CAP_OK
                        : cap_error_set(CAP_E_INVALIDARG, "capsule-vm", NULL,
                                        "unknown frontend '%s' (try headless)", o->frontend);
    if (CAP_SUCCEEDED(rc))
        rc = build_device_list(p);
    build_drive_list(p);
    if (CAP_SUCCEEDED(rc))
        rc = open_registry(p);
    if (CAP_FAILED(rc))
        goto fail;
    struct vm_config cfg = {
        .ram_bytes = o->memory_mb << 20,
        .ram_beyond_host = o->force_memory,
        .ncpus = o->cpus,
        .engine = o->engine,
        .cpu_profile = o->cpu_profile,
        .devices = p->devs,
        .n_devices = p->ndevs,
        .drives = p->drives,
        .n_drives = o->n_drives,
        .registry = p->registry,
        .log = vm_log,
        .log_ctx = p,
        .reset_hook = reset_hook,
        .reset_ctx = p,
    };
    rc = vm_create(&cfg, &p->vm);
    if (CAP_SUCCEEDED(rc))
        rc = load_image(p, p->vm);
    if (CAP_FAILED(rc))
        goto fail;
    fprintf(stderr, "capsule-vm: loaded %s: %s\n", vmproc_opts_bios(o) ? o->bios_image : o->kernel,
            p->boot.description);
    /* vm_create refused any other profile; some CPUs pad their brand */
    const struct cpum_profile *prof = cpum_profile_find(o->cpu_profile);
    if (prof) {
        int n = (int)strlen(prof->brand);
        while (n > 0 && prof->brand[n - 1] == ' ')
            n--;
        fprintf(stderr, "capsule-vm: CPU profile %s: %s, %.*s\n", prof->name,
                cpum_vendor_string(prof->vendor), n, prof->brand);
    }
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
    cap_result rc = p->frontend->attach(p->vm, &p->fe_state);
    if (CAP_SUCCEEDED(rc))
        rc = vm_start(p->vm);
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
    enum vm_state st = vm_wait(p->vm, -1);
    if (state)
        *state = st;
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

void vmproc_destroy(struct vmproc *p)
{
    if (!p)
        return;
    if (p->fe_state)
        p->frontend->detach(p->fe_state);
    vm_destroy(p->vm);
    cap_registry_destroy(p->registry);
    for (unsigned i = 0; i < VMPROC_MAX_EXTRA_DEVICES; i++)
        free(p->dev_text[i]);
    vmproc_fwtables_free(&p->fwt);
    free(p);
}
