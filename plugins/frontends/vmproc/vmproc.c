/*
 * vmproc.c - the VM process: the machine's devices (a data table plus
 * --device), building the VM through EM, loading the boot image with
 * vmm/loader (again after every reset: there is no firmware), running the
 * frontend beside the VM and mapping the way it ended to an exit status.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <capsule/errorinfo.h>
#include <capsule/registry.h>

#include "em/em.h"
#include "loader/loader.h"
#include "pdm.h"
#include "vmproc.h"
#include "vmproc_frontends.h"

#define MAX_DEVICES (8 + VMPROC_MAX_EXTRA_DEVICES)
#define MAX_KV 8

/*
 * The default devices of a standalone VM, in construction order (the PIC
 * first: devices raise IRQs from construct on). A row whose `when` is false
 * for the options is left out; `config` fills the row's key/values. New
 * devices with a fixed place (rtc, i8042, fw_cfg, the APICs) are one row
 * each; anything else comes with --device NAME[,key=value...].
 */
struct devspec {
    const char *device;
    bool (*when)(const struct vmproc_opts *o);
    size_t (*config)(const struct vmproc_opts *o, struct pdm_cfg_kv *kv);
};

static bool always(const struct vmproc_opts *o) { return true; }
static bool if_debug_exit(const struct vmproc_opts *o) { return o->debug_exit; }

static size_t serial_config(const struct vmproc_opts *o, struct pdm_cfg_kv *kv)
{
    kv[0] = (struct pdm_cfg_kv){"iobase", "0x3f8"};
    kv[1] = (struct pdm_cfg_kv){"irq", "4"};
    kv[2] = (struct pdm_cfg_kv){"backend", o->serial};
    return 3;
}

static size_t debugexit_config(const struct vmproc_opts *o, struct pdm_cfg_kv *kv)
{
    kv[0] = (struct pdm_cfg_kv){"iobase", "0xf4"};
    return 1;
}

static const struct devspec default_devices[] = {
    {"pic", always, NULL},
    {"pit", always, NULL},
    {"serial", always, serial_config},
    {"port80", always, NULL},
    {"debugexit", if_debug_exit, debugexit_config},
};

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
};

/* "NAME[,key=value...]" (copied into p->dev_text) -> one device row. */
static cap_result parse_device(struct vmproc *p, const char *spec, size_t i)
{
    char *s = strdup(spec);
    if (!s)
        return cap_error_set(CAP_E_OUTOFMEMORY, "capsule-vm", NULL, "out of memory");
    p->dev_text[i] = s;
    struct pdm_dev_config *d = &p->devs[p->ndevs];
    char *save = NULL, *tok = strtok_r(s, ",", &save);
    if (!tok || !*tok)
        return cap_error_set(CAP_E_INVALIDARG, "capsule-vm", NULL,
                             "--device '%s': no device name", spec);
    d->device = tok;
    d->kv = p->kv[p->ndevs];
    while ((tok = strtok_r(NULL, ",", &save))) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok || d->n_kv == MAX_KV)
            return cap_error_set(CAP_E_INVALIDARG, "capsule-vm", NULL,
                                 "--device '%s': '%s' is not key=value (at most %d)", spec, tok,
                                 MAX_KV);
        *eq = '\0';
        p->kv[p->ndevs][d->n_kv++] = (struct pdm_cfg_kv){tok, eq + 1};
    }
    p->ndevs++;
    return CAP_OK;
}

static cap_result build_device_list(struct vmproc *p)
{
    for (size_t i = 0; i < sizeof(default_devices) / sizeof(default_devices[0]); i++) {
        const struct devspec *s = &default_devices[i];
        if (!s->when(&p->opts))
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

static cap_result load_image(struct vmproc *p, struct vm *vm)
{
    struct loader_params lp = {
        .kernel_path = p->opts.kernel,
        .initrd_path = p->opts.initrd,
        .cmdline = p->opts.append,
        .format = LOADER_UNKNOWN,
        .flat_fallback = CAP_TRUE,
    };
    return loader_load(vm_pgm(vm), vm_cpu(vm, 0), &lp, &p->boot);
}

static cap_result reset_hook(void *ctx, struct vm *vm)
{
    return load_image(ctx, vm);
}

static void vm_log(void *ctx, const char *who, enum vm_log_level level, const char *msg)
{
    if (level <= VM_LOG_INFO)
        fprintf(stderr, "capsule-vm: %s: %s\n", who, msg);
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
    cap_result rc = p->frontend ? CAP_OK
                                : cap_error_set(CAP_E_INVALIDARG, "capsule-vm", NULL,
                                                "unknown frontend '%s' (try headless)", o->frontend);
    if (CAP_SUCCEEDED(rc))
        rc = build_device_list(p);
    if (CAP_SUCCEEDED(rc))
        rc = open_registry(p);
    if (CAP_FAILED(rc))
        goto fail;
    struct vm_config cfg = {
        .ram_bytes = o->memory_mb << 20, .ncpus = o->cpus, .engine = o->engine,
        .devices = p->devs, .n_devices = p->ndevs, .registry = p->registry,
        .log = vm_log, .reset_hook = reset_hook, .reset_ctx = p,
    };
    rc = vm_create(&cfg, &p->vm);
    if (CAP_SUCCEEDED(rc))
        rc = load_image(p, p->vm);
    if (CAP_FAILED(rc))
        goto fail;
    fprintf(stderr, "capsule-vm: loaded %s: %s\n", o->kernel, p->boot.description);
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
    if (si.reason == VM_STOP_GUEST_POWER_OFF && si.exit_code >= 0)
        return si.exit_code & 0xff;
    return 0;
}

int vmproc_run(struct vmproc *p)
{
    cap_result rc = p->frontend->attach(p->vm, &p->fe_state);
    if (CAP_SUCCEEDED(rc))
        rc = vm_start(p->vm);
    if (CAP_FAILED(rc)) {
        const char *msg = cap_error_peek_message();
        fprintf(stderr, "capsule-vm: cannot start: %s\n", msg ? msg : "unknown error");
        return VMPROC_EXIT_FAILURE;
    }
    enum vm_state st = vm_wait(p->vm, -1);
    p->frontend->detach(p->fe_state);
    p->fe_state = NULL;
    if (p->opts.stats) {
        struct em_stats s;
        vm_get_stats(p->vm, &s);
        vm_print_stats(p->vm, stderr);
        if (p->opts.start_ns && s.first_run_ns)
            fprintf(stderr, "start to first guest entry %9.3f ms (from main())\n",
                    (s.first_run_ns - p->opts.start_ns) / 1e6);
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
    free(p);
}
