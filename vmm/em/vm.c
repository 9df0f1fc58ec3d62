/*
 * vm.c - building and tearing down a VM, and the glue that makes one
 * machine out of the modules:
 *
 *   - PDM's host callbacks: the PIC's INTR pin, the local APIC's NMIs,
 *     power-off and reset requests from devices, logging - all land in EM;
 *   - the one guest-physical map: an MMIO range registered with IOM (by a
 *     device through PDM, or directly) is also mapped as a PGM MMIO range
 *     (IOM's mmio listener), so the engine leaves it unmapped; an MMIO exit
 *     goes to pgm_phys_read/write, which finds the range and calls back
 *     into iom_mmio_read/write. ROM writes and unassigned addresses are
 *     handled by PGM on the same path;
 *   - device DMA (struct pdm_phys_ops) is PGM: RAM and ROM only, never MMIO.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "em_internal.h"
#include "hostmem.h"
#include "iom/iom.h"
#include "pdm.h"
#include "platform/platform.h"
#include "tm/tm.h"

/* ---- logging (em_log.c): what the guest causes is rate-limited ------- */

static void iom_log(void *ctx, const char *msg)
{
    em_log_guest(ctx, "iom", VM_LOG_INFO, "%s", msg);
}

/* ---- PDM host callbacks (called with the device lock held) --------------- */

static bool on_vcpu_thread(struct vm *vm)
{
    return vm->vcpu.thread_started && pthread_equal(pthread_self(), vm->vcpu.thread);
}

static void host_cpu_set_intr(void *ctx, int level)
{
    struct vm *vm = ctx;
    int old = __atomic_exchange_n(&vm->intr_level, level, __ATOMIC_SEQ_CST);
    if (!level || old)
        return;
    /* A device op on the vCPU thread under hm comes from an exit: the loop
     * looks at the pin before the next run. Under rem it may come from
     * inside the run (MMIO is dispatched inline, e.g. a local APIC TPR or
     * EOI write): end the run there, as the CPU would take the interrupt at
     * the next instruction boundary. From elsewhere, wake or kick the vCPU. */
    if (!on_vcpu_thread(vm))
        em_kick(vm);
    else if (vm->vcpu.ops->engine != VM_ENGINE_HM) /* rem, or rem under raw */
        vm->vcpu.ops->kick(&vm->vcpu);
}

/* The local APIC's NMI output (ICR, LINT0/LINT1 in NMI mode, I/O APIC
 * NMI entries): latched for the vCPU loop, which hands it to the engine
 * before the next run (em_run.c). An edge, not a level: NMIs that arrive
 * before the loop took the last one merge into one, as on the NMI pin. */
static void host_cpu_nmi(void *ctx, unsigned cpu)
{
    struct vm *vm = ctx;
    if (cpu != 0)
        return;
    __atomic_store_n(&vm->nmi_pending, 1, __ATOMIC_SEQ_CST);
    /* as for INTR: under rem the APIC's ICR write is MMIO inside the run */
    if (!on_vcpu_thread(vm))
        em_kick(vm);
    else if (vm->vcpu.ops->engine != VM_ENGINE_HM)
        vm->vcpu.ops->kick(&vm->vcpu);
}

/* CPUM holds the MSR; under hm it is pulled with the segment registers on
 * every exit, so on the vCPU thread (the APIC's MMIO) it is current. */
static uint64_t host_cpu_apic_base(void *ctx, unsigned cpu)
{
    struct vm *vm = ctx;
    return cpu == 0 ? __atomic_load_n(&vm->vcpu.cpu.ctx.msr.apic_base, __ATOMIC_RELAXED) : 0;
}

static void host_power_off(void *ctx, const char *who, int exit_code)
{
    if (exit_code >= 0)
        em_stop(ctx, VM_STATE_POWERED_OFF, VM_STOP_GUEST_POWER_OFF, exit_code, CAP_OK,
                "guest powered off through %s (exit code %d)", who, exit_code);
    else
        em_stop(ctx, VM_STATE_POWERED_OFF, VM_STOP_GUEST_POWER_OFF, -1, CAP_OK,
                "guest powered off through %s", who);
}

static void host_reset(void *ctx, const char *who)
{
    em_log_guest(ctx, EM_COMPONENT, VM_LOG_INFO, "reset requested by %s", who);
    em_request(ctx, EM_REQ_RESET);
}

static void host_set_a20(void *ctx, bool enabled)
{
    /* The engines run with A20 on; a guest turning it off is only logged. */
    if (!enabled)
        em_log_guest(ctx, EM_COMPONENT, VM_LOG_WARN, "guest disabled A20: not emulated (stays on)");
}

static void host_log(void *ctx, const char *who, enum pdm_log_level level, const char *msg)
{
    em_log_guest(ctx, who, (enum vm_log_level)level, "%s", msg);
}

/* RAM-backed BARs (a framebuffer): the device's memory as PGM RAM with
 * dirty tracking; the engines learn of it through PGM's listeners (rem
 * flushes its TLB, hm adds a KVM slot with the dirty log). */
static cap_result host_map_ram(void *ctx, uint64_t gpa, uint64_t size, void *hva, const char *name)
{
    struct vm *vm = ctx;
    return pgm_map_ram_external(vm->pgm, gpa, size, hva, PGM_RAM_TRACK_DIRTY, name);
}

static void host_unmap_ram(void *ctx, uint64_t gpa)
{
    struct vm *vm = ctx;
    pgm_unmap(vm->pgm, gpa);
}

static cap_result host_dirty_collect(void *ctx, uint64_t gpa, uint64_t *bitmap, uint64_t npages)
{
    struct vm *vm = ctx;
    return pgm_dirty_collect(vm->pgm, gpa, bitmap, npages);
}

static const struct pdm_host_ops vm_host_ops = {
    .cpu_set_intr = host_cpu_set_intr,
    .power_off = host_power_off,
    .reset = host_reset,
    .set_a20 = host_set_a20,
    .log = host_log,
    .cpu_nmi = host_cpu_nmi,
    .cpu_apic_base = host_cpu_apic_base,
    .map_ram = host_map_ram,
    .unmap_ram = host_unmap_ram,
    .dirty_collect = host_dirty_collect,
};

/* ---- the one map: IOM MMIO ranges are PGM MMIO ranges -------------------- */

struct mmio_hook { /* PGM's opaque for a range: the VM and the range base */
    struct vm *vm;
    uint64_t base;
};

static cap_result pgm_to_iom(struct mmio_hook *h, uint64_t off, void *data, unsigned size,
                             bool write)
{
    uint64_t addr = h->base + off;
    if (size != 1 && size != 2 && size != 4 && size != 8) { /* odd pieces: byte by byte */
        for (unsigned i = 0; i < size; i++) {
            cap_result rc = pgm_to_iom(h, off + i, (uint8_t *)data + i, 1, write);
            if (CAP_FAILED(rc))
                return rc;
        }
        return CAP_OK;
    }
    uint64_t v = 0;
    if (write) {
        memcpy(&v, data, size);
        return iom_mmio_write(h->vm->iom, addr, size, v);
    }
    cap_result rc = iom_mmio_read(h->vm->iom, addr, size, &v);
    memcpy(data, &v, size);
    return rc;
}

/* rem (and rem stepping in for hm) reaches MMIO inline, in the middle of a
 * run, not through an exit: run the expired timers first here too, so the
 * guest never reads device state older than the clock it reads with RDTSC
 * (a guest preempted past a deadline would otherwise see, e.g., a local
 * APIC IRR without the timer's vector). The MMIO exit path polled already;
 * a second poll finds nothing due and costs no lock. */
static cap_result mmio_read(void *opaque, uint64_t off, void *data, unsigned size)
{
    struct vm *vm = ((struct mmio_hook *)opaque)->vm;
    vm->cnt.mmio_ops++;
    em_poll_timers(vm, 0);
    return pgm_to_iom(opaque, off, data, size, false);
}

/* A write may arm a device timer (local APIC TMICT) in the middle of a rem
 * run, after the loop armed the kick timer for the old deadline: bring the
 * kick forward, or rem would run on to the end of its slice past the new
 * deadline. */
static cap_result mmio_write(void *opaque, uint64_t off, const void *data, unsigned size)
{
    struct vm *vm = ((struct mmio_hook *)opaque)->vm;
    vm->cnt.mmio_ops++;
    em_poll_timers(vm, 0);
    cap_result rc = pgm_to_iom(opaque, off, (void *)data, size, true);
    if (on_vcpu_thread(vm))
        em_kick_timer_arm(vm, &vm->vcpu);
    return rc;
}

static const struct pgm_mmio_ops vm_mmio_ops = {.read = mmio_read, .write = mmio_write};

static cap_result iom_mapped(void *ctx, uint64_t base, uint64_t size, const char *desc)
{
    struct vm *vm = ctx;
    struct mmio_hook *h = malloc(sizeof(*h));
    if (!h)
        return cap_error_set(CAP_E_OUTOFMEMORY, VMM_COMPONENT, NULL, "em: out of memory");
    *h = (struct mmio_hook){.vm = vm, .base = base};
    cap_result rc = pgm_map_mmio(vm->pgm, base, size, &vm_mmio_ops, h, desc);
    if (CAP_FAILED(rc))
        free(h);
    return rc;
}

static void iom_unmapped(void *ctx, uint64_t base)
{
    struct vm *vm = ctx;
    const struct pgm_range *r = pgm_find(vm->pgm, base);
    if (!r || r->kind != PGM_RANGE_MMIO || r->gpa != base || r->ops != &vm_mmio_ops)
        return;
    void *h = r->opaque;
    pgm_unmap(vm->pgm, base);
    free(h);
}

/* ---- DMA: PGM's RAM and ROM ---------------------------------------------- */

static cap_result dma(struct vm *vm, uint64_t gpa, void *buf, size_t len, bool write)
{
    while (len) {
        const struct pgm_range *r = pgm_find(vm->pgm, gpa);
        if (!r || r->kind == PGM_RANGE_MMIO)
            return CAP_E_INVALIDARG;
        size_t n = (size_t)(r->gpa + r->size - gpa);
        if (n > len)
            n = len;
        uint8_t *hva = r->hva + (gpa - r->gpa);
        if (!write)
            memcpy(buf, hva, n);
        else if (r->kind == PGM_RANGE_RAM)
            memcpy(hva, buf, n); /* a DMA write to ROM is dropped, as on the bus */
        if (write && r->dirty)
            pgm_dirty_mark(vm->pgm, gpa, n);
        buf = (uint8_t *)buf + n;
        gpa += n;
        len -= n;
    }
    return CAP_OK;
}

static cap_result dma_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    return dma(ctx, gpa, buf, len, false);
}

static cap_result dma_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
    return dma(ctx, gpa, (void *)buf, len, true);
}

static const struct pdm_phys_ops vm_phys_ops = {.read = dma_read, .write = dma_write};

/* ---- create / destroy ---------------------------------------------------- */

/* `auto` measures first (em_probe.c); hm and rem are taken as asked. */
static cap_result pick_engine(struct vm *vm)
{
    struct em_host_probe p;
    struct em_engine_choice ch;
    if (vm->cfg.engine == VM_ENGINE_AUTO) {
        em_probe_host(&p);
    } else {
        memset(&p, 0, sizeof(p));
        p.native_cpl0 = hwaccm_host_runs_cpl0_natively(p.host, sizeof(p.host));
        p.hm_usable = CAP_TRUE;
        if (vm->cfg.engine == VM_ENGINE_HM)
            p.hm_cpuid_other = !hwaccm_cpuid_faithful(p.hm_cpuid, sizeof(p.hm_cpuid));
    }
    cap_result rc = em_choose_engine(vm->cfg.engine, &p, &ch);
    if (CAP_FAILED(rc))
        return rc;
    vm->engine = ch.engine;
    /* auto on a host whose KVM emulates guest kernel code (rem picked) may
     * still run user code natively: create_engines tries raw (auto_raw) */
    bool raw_possible = vm->cfg.engine == VM_ENGINE_AUTO && ch.engine == VM_ENGINE_REM &&
                        p.hm_usable && p.rem_ns_per_insn > 0;
    vm->vcpu.raw_adaptive = raw_possible && !p.hm_cpuid_other;
    vm->vcpu.raw_rem_ns = p.rem_ns_per_insn;
    vm->vcpu.ops = ch.engine == VM_ENGINE_REM   ? &em_rem_ops
                   : ch.engine == VM_ENGINE_RAW ? &em_raw_ops
                                                : &em_hm_ops;
    vm->vcpu.mode = EM_MODE_COUNT; /* the first turn notes and logs the mode (em_mode.c) */
    vm->vcpu.want = ch.engine;
    /* KVM without VT-x/AMD-V (the PVM backend) reports an interrupt window
     * for a guest spinning in CPL0 only at the host's next tick (~1 ms);
     * rem reports it before the next instruction. */
    vm->slow_irq_window = ch.engine == VM_ENGINE_HM && !p.native_cpl0;
    em_log(vm, EM_COMPONENT, VM_LOG_INFO, "engine %s (asked: %s): %s [%s]", vm_engine_name(ch.engine),
           vm_engine_name(vm->cfg.engine), ch.why, p.host);
    /* The guest would see features the profile lacks, and might use them
     * where the host cannot run them (tests/guests/run.sh reads this line). */
    if (ch.engine == VM_ENGINE_HM && p.hm_cpuid_other)
        em_log(vm, EM_COMPONENT, VM_LOG_WARN,
               "hm: this host's hypervisor does not show the guest the CPU profile's CPUID (%s)",
               p.hm_cpuid);
    /* Native user code reads CPUID natively (or as KVM answers it: the
     * probe's "at CPL3" view) and picks its routines by it (glibc's SSSE3,
     * AVX2 string functions); under auto rem runs whole stretches of the
     * same processes, so it must not meet code chosen for another CPU. */
    if (raw_possible && p.hm_cpuid_other)
        em_log(vm, EM_COMPONENT, VM_LOG_INFO,
               "auto: raw not used: user code under raw would see another CPUID than the "
               "profile's (the auto probe's line says what), and rem, which runs user code too "
               "under auto, cannot run what the guest would pick by it");
    if (vm->cfg.engine == VM_ENGINE_AUTO)
        em_log(vm, EM_COMPONENT, VM_LOG_INFO,
               "auto probe: hm %s, %.1f ns/insn under hm, %.1f ns/insn under rem (%.2f ms)%s%s",
               p.hm_usable ? "usable" : "not usable", p.hm_ns_per_insn, p.rem_ns_per_insn,
               p.probe_ns / 1e6, p.hm_cpuid_other ? "; under hm " : "",
               p.hm_cpuid_other ? p.hm_cpuid : "");
    return CAP_OK;
}

static uint64_t rem_tsc(void *ctx)
{
    return tm_tsc(((struct vm *)ctx)->tm);
}

static void rem_set_tsc(void *ctx, uint64_t value)
{
    tm_set_tsc(((struct vm *)ctx)->tm, value);
}

/*
 * auto where it picked rem but KVM works: raw for the user stretches that
 * pay (em_raw.c), if raw's context passes its probe and measured its costs.
 * Anything failing leaves rem alone in charge, said in the log.
 */
static void auto_raw(struct vm *vm)
{
    struct em_vcpu *v = &vm->vcpu;
    struct raw_costs c = {0};
    cap_result rc = raw_create(vm->pgm, &vm->policy, &vm->raw);
    if (CAP_SUCCEEDED(rc))
        rc = raw_vcpu_create(vm->raw, &v->cpu, &v->xv);
    if (CAP_SUCCEEDED(rc))
        raw_vcpu_costs(v->xv, &c);
    if (CAP_FAILED(rc) || !c.round_trip_ns || c.ns_per_insn <= 0) {
        const char *m = cap_error_peek_message();
        em_log(vm, EM_COMPONENT, VM_LOG_INFO, "auto: raw not used: %s",
               CAP_FAILED(rc) ? (m ? m : vmm_result_name(rc)) : "its cost probe failed");
        cap_error_clear();
        raw_vcpu_destroy(v->xv);
        raw_destroy(vm->raw);
        v->xv = NULL;
        vm->raw = NULL;
        v->raw_adaptive = false;
        return;
    }
    v->raw_rt_ns = c.round_trip_ns;
    v->raw_speedup = v->raw_rem_ns / c.ns_per_insn;
    vm->engine = v->want = VM_ENGINE_RAW;
    v->ops = &em_raw_ops;
    em_log(vm, EM_COMPONENT, VM_LOG_INFO,
           "auto: raw for 64-bit user stretches that pay: a round trip %.1f us, user code %.2f "
           "ns/insn native vs %.1f under rem (%.1fx): a stretch pays from ~%.0f us of native "
           "user code; the rest in rem",
           c.round_trip_ns / 1e3, c.ns_per_insn, v->raw_rem_ns, v->raw_speedup,
           v->raw_speedup > 1 ? c.round_trip_ns / 1e3 / (v->raw_speedup - 1) : 0.0);
}

/* rem always (the engine, hm's helper for what the host cannot emulate,
 * or raw's for everything but 64-bit user code); hm and raw only when
 * they are the engine (or auto_raw's), so rem needs no /dev/kvm. */
static cap_result create_engines(struct vm *vm)
{
    struct rem_callbacks cb = {.rdtsc = rem_tsc, .wrtsc = rem_set_tsc, .opaque = vm};
    cap_result rc = rem_create(vm->pgm, &vm->policy, &cb, &vm->rem);
    if (CAP_SUCCEEDED(rc))
        rc = rem_vcpu_create(vm->rem, &vm->vcpu.cpu, &vm->vcpu.rv);
    if (CAP_SUCCEEDED(rc))
        rc = rem_vcpu_register_stats(vm->vcpu.rv, vm->stam);
    if (CAP_SUCCEEDED(rc) && vm->engine == VM_ENGINE_HM)
        rc = hwaccm_create(vm->pgm, &vm->policy, &vm->hm);
    if (CAP_SUCCEEDED(rc) && vm->engine == VM_ENGINE_HM)
        rc = hwaccm_vcpu_create(vm->hm, &vm->vcpu.cpu, &vm->vcpu.hv);
    if (CAP_SUCCEEDED(rc) && vm->vcpu.raw_adaptive)
        auto_raw(vm);
    else if (CAP_SUCCEEDED(rc) && vm->engine == VM_ENGINE_RAW)
        rc = raw_create(vm->pgm, &vm->policy, &vm->raw);
    if (CAP_SUCCEEDED(rc) && vm->engine == VM_ENGINE_RAW && !vm->vcpu.xv)
        rc = raw_vcpu_create(vm->raw, &vm->vcpu.cpu, &vm->vcpu.xv);
    if (CAP_SUCCEEDED(rc) && vm->vcpu.xv)
        rc = raw_vcpu_register_stats(vm->vcpu.xv, vm->stam);
    if (CAP_SUCCEEDED(rc) && vm->raw) {
        em_log(vm, EM_COMPONENT, VM_LOG_INFO,
               "raw: the native user context passed its probe; 64-bit user code runs in KVM%s, "
               "the rest in rem",
               vm->vcpu.raw_adaptive ? " where it pays (auto)" : "");
        char why[480];
        if (!vm->vcpu.raw_adaptive && !hwaccm_cpuid_faithful(why, sizeof(why)))
            em_log(vm, EM_COMPONENT, VM_LOG_WARN,
                   "raw: user code sees another CPUID than the profile's (%s): an instruction it "
                   "picked by it that rem lacks fails (#UD) when rem executes it again after a "
                   "fault (a page fault in an SSSE3 or AVX routine)",
                   why);
        /* one guest clock: rem's TSC (TM) at the rate user code reads in KVM */
        uint64_t hz = raw_vcpu_tsc_hz(vm->vcpu.xv);
        if (hz && hz != tm_tsc_hz(vm->tm)) {
            tm_set_tsc_hz(vm->tm, hz);
            em_log(vm, EM_COMPONENT, VM_LOG_INFO,
                   "raw: KVM cannot scale the TSC here: the guest TSC runs at the host's %.3f "
                   "GHz under raw (CPUID leaves 0x15/0x16 in rem still say %.3f GHz)",
                   hz / 1e9, CPUM_TSC_HZ / 1e9);
        }
    }
    if (CAP_SUCCEEDED(rc) && vm->hm && hwaccm_msr_note(vm->hm))
        em_log(vm, EM_COMPONENT, VM_LOG_WARN, "hm: %s", hwaccm_msr_note(vm->hm));
    return rc;
}

static cap_result create_modules(struct vm *vm)
{
    /* The host profile under hm shows what the hypervisor offers of the
     * host's optional features; a named profile that needs more is refused
     * by hwaccm_create. */
    cap_result rc = vm->engine == VM_ENGINE_HM
                        ? hwaccm_policy_init(&vm->policy, vm->cfg.ncpus, vm->cfg.cpu_profile)
                        : cpum_policy_init(&vm->policy, vm->cfg.ncpus, vm->cfg.cpu_profile);
    if (CAP_SUCCEEDED(rc))
        rc = pgm_create(&vm->pgm);
    /* A PC's layout (vmm/platform): the 32-bit MMIO hole (APICs, ROM, PCI)
     * and the legacy VGA window stay free. */
    uint64_t below = platform_ram_below_4g(vm->cfg.ram_bytes);
    struct platform_range ram[3];
    unsigned n_ram = platform_ram_ranges(vm->cfg.ram_bytes, ram);
    for (unsigned i = 0; CAP_SUCCEEDED(rc) && i < n_ram; i++)
        rc = pgm_map_ram(vm->pgm, ram[i].addr, ram[i].size, ram[i].name);
    if (CAP_SUCCEEDED(rc))
        em_log(vm, EM_COMPONENT, VM_LOG_INFO,
               "RAM %llu MiB mapped (%llu MiB below 4 GiB, %llu MiB from 4 GiB; backed on first "
               "touch), host RAM %llu MiB%s",
               (unsigned long long)(vm->cfg.ram_bytes >> 20), (unsigned long long)(below >> 20),
               (unsigned long long)((vm->cfg.ram_bytes - below) >> 20),
               (unsigned long long)(hostmem_host_ram() >> 20),
               vm->cfg.ram_bytes > hostmem_host_ram() ? " (more than the host has: forced)" : "");
    if (CAP_SUCCEEDED(rc))
        rc = iom_create(iom_log, vm, &vm->iom);
    if (CAP_SUCCEEDED(rc))
        rc = iom_register_stats(vm->iom, vm->stam);
    if (CAP_SUCCEEDED(rc))
        rc = tm_create(NULL, &vm->tm);
    if (CAP_FAILED(rc))
        return rc;
    struct iom_mmio_listener l = {.mapped = iom_mapped, .unmapped = iom_unmapped, .ctx = vm};
    iom_set_mmio_listener(vm->iom, &l);
    cpum_cpu_init(&vm->vcpu.cpu, &vm->policy, 0);
    rc = create_engines(vm);
    if (CAP_FAILED(rc))
        return rc;
    struct pdm_create_info pi = {
        .registry = vm->cfg.registry,
        .iom = vm->iom,
        .tm = vm->tm,
        .host = &vm_host_ops,
        .host_ctx = vm,
        .phys = &vm_phys_ops,
        .phys_ctx = vm,
        .stam = vm->stam,
    };
    rc = pdm_create(&pi, &vm->pdm);
    for (size_t i = 0; CAP_SUCCEEDED(rc) && i < vm->cfg.n_drives; i++)
        rc = pdm_add_drive(vm->pdm, &vm->cfg.drives[i]);
    for (size_t i = 0; CAP_SUCCEEDED(rc) && i < vm->cfg.n_nics; i++)
        rc = pdm_add_nic(vm->pdm, &vm->cfg.nics[i]);
    if (CAP_SUCCEEDED(rc) && vm->cfg.n_devices)
        rc = pdm_instantiate(vm->pdm, vm->cfg.devices, vm->cfg.n_devices);
    if (CAP_SUCCEEDED(rc))
        rc = pdm_check_drives(vm->pdm);
    if (CAP_SUCCEEDED(rc))
        rc = pdm_check_nics(vm->pdm);
    return rc;
}

cap_result vm_create(const struct vm_config *cfg, struct vm **out)
{
    *out = NULL;
    if (!cfg->ram_bytes || (cfg->ram_bytes & PGM_PAGE_MASK))
        return cap_error_set(CAP_E_INVALIDARG, VMM_COMPONENT, NULL,
                             "em: RAM size %llu is not a positive multiple of 4 KiB",
                             (unsigned long long)cfg->ram_bytes);
    if (cfg->ram_bytes > (uint64_t)PLATFORM_MAX_RAM_MB << 20)
        return cap_error_set(CAP_E_INVALIDARG, VMM_COMPONENT, NULL,
                             "em: guest RAM of %llu MiB is more than the %u MiB a guest can "
                             "address here (%u-bit physical addresses, less the MMIO hole "
                             "below 4 GiB)",
                             (unsigned long long)(cfg->ram_bytes >> 20), PLATFORM_MAX_RAM_MB,
                             PLATFORM_GUEST_PHYS_BITS);
    uint64_t host_ram = hostmem_host_ram();
    if (host_ram && cfg->ram_bytes > host_ram && !cfg->ram_beyond_host)
        return cap_error_set(CAP_E_INVALIDARG, VMM_COMPONENT, NULL,
                             "em: guest RAM of %llu MiB is more than this host's physical memory "
                             "(%llu MiB): the guest could drive the host out of memory; refused "
                             "unless lowered (capsule modifyvm VM --memory MB) or forced "
                             "(capsule-vm --force-memory; for startvm, CAPSULE_FORCE_MEMORY=1 "
                             "in capsule-svc's environment)",
                             (unsigned long long)(cfg->ram_bytes >> 20),
                             (unsigned long long)(host_ram >> 20));
    if (cfg->ncpus < PLATFORM_MIN_CPUS || cfg->ncpus > PLATFORM_MAX_CPUS)
        return cap_error_set(CAP_E_INVALIDARG, VMM_COMPONENT, NULL, "em: %u vCPUs asked for: %s",
                             cfg->ncpus, PLATFORM_CPUS_WHY);
    struct vm *vm = calloc(1, sizeof(*vm));
    if (!vm)
        return cap_error_set(CAP_E_OUTOFMEMORY, VMM_COMPONENT, NULL, "em: out of memory");
    vm->cfg = *cfg;
    vm->name = strdup(cfg->name && *cfg->name ? cfg->name : "capsule-vm");
    vm->cfg.name = NULL; /* borrowed from the caller: vm->name is the copy */
    vm->state = VM_STATE_CREATED;
    vm->stop.exit_code = -1;
    em_log_limit_init(&vm->log_limit);
    pthread_mutex_init(&vm->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&vm->cond, &ca);
    pthread_condattr_destroy(&ca);
    cap_result rc =
        vm->name ? stam_create(&vm->stam)
                 : cap_error_set(CAP_E_OUTOFMEMORY, VMM_COMPONENT, NULL, "em: out of memory");
    if (CAP_SUCCEEDED(rc))
        rc = em_stats_register(vm);
    if (CAP_SUCCEEDED(rc))
        rc = pick_engine(vm);
    if (CAP_SUCCEEDED(rc))
        rc = create_modules(vm);
    if (CAP_FAILED(rc)) {
        struct cap_error_info saved = {0};
        cap_error_take(&saved); /* teardown must not replace the reason */
        vm_destroy(vm);
        cap_error_set_info(&saved);
        cap_error_info_clear(&saved);
        return rc;
    }
    *out = vm;
    return CAP_OK;
}

void vm_destroy(struct vm *vm)
{
    if (!vm)
        return;
    if (vm->vcpu.thread_started) {
        vm_power_off(vm);
        vm_wait(vm, -1);
        pthread_join(vm->vcpu.thread, NULL);
        vm->vcpu.thread_started = false;
    }
    pdm_destroy(vm->pdm);     /* devices first: they deregister from IOM/TM */
    hwaccm_vcpu_destroy(vm->vcpu.hv);
    hwaccm_destroy(vm->hm);
    raw_vcpu_destroy(vm->vcpu.xv);
    raw_destroy(vm->raw);
    rem_vcpu_destroy(vm->vcpu.rv);
    rem_destroy(vm->rem);
    if (vm->iom) {
        iom_set_mmio_listener(vm->iom, NULL);
        iom_destroy(vm->iom);
    }
    tm_destroy(vm->tm);
    if (vm->pgm) { /* free the hooks of MMIO ranges still mapped */
        for (unsigned i = 0; i < pgm_range_count(vm->pgm); i++) {
            const struct pgm_range *r = pgm_range_at(vm->pgm, i);
            if (r->kind == PGM_RANGE_MMIO && r->ops == &vm_mmio_ops)
                free(r->opaque);
        }
        pgm_destroy(vm->pgm);
    }
    em_log_flush_suppressed(vm);
    em_log_limit_destroy(&vm->log_limit);
    pthread_cond_destroy(&vm->cond);
    pthread_mutex_destroy(&vm->lock);
    stam_destroy(vm->stam); /* after rem_vcpu_destroy deregistered /REM/ */
    free(vm->ports);
    free(vm->step_counts);
    free(vm->name);
    free(vm);
}

struct pgm *vm_pgm(struct vm *vm) { return vm->pgm; }
struct pdm *vm_pdm(struct vm *vm) { return vm->pdm; }
struct iom *vm_iom(struct vm *vm) { return vm->iom; }
struct tm_clock *vm_tm(struct vm *vm) { return vm->tm; }
enum vm_engine vm_get_engine(struct vm *vm) { return vm->engine; }
const char *vm_name(struct vm *vm)
{
    return vm->name;
}

struct cpum_cpu *vm_cpu(struct vm *vm, unsigned id)
{
    return id == 0 ? &vm->vcpu.cpu : NULL;
}
