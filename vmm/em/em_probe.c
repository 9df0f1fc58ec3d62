/*
 * em_probe.c - what `auto` measures before it picks an engine.
 *
 * The CPU flags say whether the host has VT-x/AMD-V, but not what its
 * hypervisor does with guest kernel code: KVM's PVM backend, for one, has
 * no VT-x and emulates every CPL0 instruction in the host kernel (~1000x
 * slower than native), and another host may differ again. So EM times the
 * same small 32-bit CPL0 loop (`dec ecx; jnz`, then OUT to leave) under a
 * throw-away hm VM and under rem, each with a short and a long count; the
 * difference cancels the cost of entering and leaving the engine and leaves
 * the cost of one guest kernel instruction in each. The best of a few runs
 * counts (first runs fault pages in). About 400 instructions per timed run:
 * well under a millisecond under hm even where it emulates.
 */
#include <string.h>
#include <time.h>

#include <capsule/errorinfo.h>

#include "em_internal.h"
#include "loader/loader.h"

#define PROBE_RAM (2u << 20)
#define PROBE_LONG 201u /* loop count of the long run; the short one is 1 */
#define PROBE_TRIES 3

/* l: dec ecx; jnz l; out 0x80, al; jmp $ (never reached: the OUT exits) */
static const uint8_t probe_code[] = {0x49, 0x75, 0xfd, 0xe6, 0x80, 0xeb, 0xfe};

struct probe_vm {
    struct pgm *pgm;
    struct cpum_policy policy;
    struct cpum_cpu cpu;
    uint64_t entry;
};

typedef cap_result (*probe_run_fn)(void *engine, struct cpum_cpu *cpu, struct vmm_exit *x);

static cap_result run_hm(void *e, struct cpum_cpu *cpu, struct vmm_exit *x)
{
    (void)cpu;
    return hwaccm_vcpu_run(e, x);
}

static cap_result run_rem(void *e, struct cpum_cpu *cpu, struct vmm_exit *x)
{
    (void)cpu;
    return rem_vcpu_run(e, 100000, x);
}

/* Best time (ns) of PROBE_TRIES runs of the loop with `count` iterations,
 * 0 on failure (the run did not end at the OUT). */
static uint64_t time_loop(struct probe_vm *p, void *engine, probe_run_fn run, uint32_t count)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < PROBE_TRIES; i++) {
        struct vmm_exit x;
        p->cpu.ctx.gpr[CPUM_RCX] = count;
        p->cpu.ctx.rip = p->entry;
        cpum_mark_dirty(&p->cpu, CPUM_STATE_GPRS);
        uint64_t t0 = em_now_ns();
        cap_result rc = run(engine, &p->cpu, &x);
        uint64_t dt = em_now_ns() - t0;
        if (CAP_FAILED(rc) || x.reason != VMM_EXIT_IO || x.io.port != 0x80)
            return 0;
        if (dt < best)
            best = dt;
    }
    return best;
}

/* ns per instruction of the loop (2 instructions per iteration), 0 on failure. */
static double measure(struct probe_vm *p, void *engine, probe_run_fn run)
{
    if (!time_loop(p, engine, run, 1)) /* warm up: page faults, first entry */
        return 0;
    uint64_t t_short = time_loop(p, engine, run, 1);
    uint64_t t_long = time_loop(p, engine, run, PROBE_LONG);
    if (!t_short || !t_long)
        return 0;
    double d = (double)t_long - (double)t_short;
    if (d < 1)
        d = 1; /* faster than the clock can tell */
    return d / (2.0 * (PROBE_LONG - 1));
}

static cap_result probe_vm_init(struct probe_vm *p)
{
    /* The host profile as hm would run it (vm.c: create_modules). */
    cap_result rc = hwaccm_policy_init(&p->policy, 1, NULL);
    if (CAP_SUCCEEDED(rc))
        rc = pgm_create(&p->pgm);
    if (CAP_SUCCEEDED(rc))
        rc = pgm_map_ram(p->pgm, 0, PROBE_RAM, "probe");
    if (CAP_FAILED(rc))
        return rc;
    cpum_cpu_init(&p->cpu, &p->policy, 0);
    struct loader_params lp = {.kernel_buf = probe_code, .kernel_len = sizeof(probe_code),
                               .format = LOADER_FLAT, .entry = LOADER_ENTRY_PROTECTED};
    rc = loader_load(p->pgm, &p->cpu, &lp, NULL);
    p->entry = p->cpu.ctx.rip;
    return rc;
}

static void probe_hm(struct probe_vm *p, struct em_host_probe *out)
{
    struct hwaccm *hm = NULL;
    struct hwaccm_vcpu *hv = NULL;
    cap_result rc = hwaccm_create(p->pgm, &p->policy, &hm);
    if (CAP_SUCCEEDED(rc))
        rc = hwaccm_vcpu_create(hm, &p->cpu, &hv);
    if (CAP_FAILED(rc)) {
        const char *m = cap_error_peek_message();
        snprintf(out->hm_error, sizeof(out->hm_error), "%s", m ? m : vmm_result_name(rc));
        cap_error_clear();
    } else {
        out->hm_usable = CAP_TRUE;
        out->hm_cpuid_other = !hwaccm_cpuid_faithful(out->hm_cpuid, sizeof(out->hm_cpuid));
        out->hm_ns_per_insn = measure(p, hv, run_hm);
        if (!out->hm_ns_per_insn)
            snprintf(out->hm_error, sizeof(out->hm_error), "the hm probe loop did not run");
    }
    hwaccm_vcpu_destroy(hv);
    hwaccm_destroy(hm);
}

static void probe_rem(struct probe_vm *p, struct em_host_probe *out)
{
    struct rem *rem = NULL;
    struct rem_vcpu *rv = NULL;
    cpum_reset(&p->cpu, CPUM_RESET_POWER_ON); /* the same start, whatever hm left */
    struct loader_params lp = {.kernel_buf = probe_code, .kernel_len = sizeof(probe_code),
                               .format = LOADER_FLAT, .entry = LOADER_ENTRY_PROTECTED};
    cap_result rc = loader_load(p->pgm, &p->cpu, &lp, NULL);
    if (CAP_SUCCEEDED(rc))
        rc = rem_create(p->pgm, &p->policy, NULL, &rem);
    if (CAP_SUCCEEDED(rc))
        rc = rem_vcpu_create(rem, &p->cpu, &rv);
    if (CAP_SUCCEEDED(rc))
        out->rem_ns_per_insn = measure(p, rv, run_rem);
    cap_error_clear();
    rem_vcpu_destroy(rv);
    rem_destroy(rem);
}

void em_probe_host(struct em_host_probe *out)
{
    memset(out, 0, sizeof(*out));
    uint64_t t0 = em_now_ns();
    out->native_cpl0 = hwaccm_host_runs_cpl0_natively(out->host, sizeof(out->host));
    struct probe_vm p;
    memset(&p, 0, sizeof(p));
    cap_result rc = probe_vm_init(&p);
    if (CAP_SUCCEEDED(rc)) {
        probe_hm(&p, out);
        probe_rem(&p, out);
    } else {
        const char *m = cap_error_peek_message();
        snprintf(out->hm_error, sizeof(out->hm_error), "no probe VM: %s", m ? m : "?");
        cap_error_clear();
    }
    pgm_destroy(p.pgm);
    out->probe_ns = em_now_ns() - t0;
}
