/*
 * hwaccm_probe.c - does the guest's CPUID return the policy's? Asked once
 * per process (hwaccm_cpuid_faithful, hwaccm.h).
 *
 * hwaccm_create hands the hypervisor the policy's CPUID table, and the
 * hypervisor is trusted to make the guest's CPUID instruction return it:
 * VT-x and AMD-V intercept CPUID, KVM answers from the table, and WHP exits
 * to the engine, which answers from CPUM. KVM's PVM backend takes the table
 * and still lets the guest see a host-derived CPUID. Nothing in the API
 * tells, so a throw-away VM runs CPUID and looks: the engine's own path
 * (hwaccm_create, hwaccm_vcpu_create, hwaccm_vcpu_run) with the policy a
 * host-profile VM gets, a 2 MiB identity-mapped page holding
 * `cpuid; out 0x80, al; jmp back`, and the registers at the OUT exit,
 * first at 64-bit CPL3 (what PVM runs natively) and then at CPL0. Plain C
 * over hwaccm.h, so every backend is probed the same way.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "hwaccm_internal.h"

#define PROBE_RAM  (2u << 20)
#define PROBE_PML4 0x10000u /* then the PDPT, the PD and the TSS, a page each */
#define PROBE_CODE 0x20000u
#define PROBE_PORT 0x80u

/* l: cpuid; out 0x80, al; jmp l */
static const uint8_t probe_code[] = {0x0f, 0xa2, 0xe6, PROBE_PORT, 0xeb, 0xfa};

/* The registers compared, and the bits the hypervisor keeps in step with
 * the guest's state rather than the table (KVM: kvm_update_cpuid_runtime). */
static const struct probe_reg {
    uint32_t leaf;
    unsigned reg; /* 0..3: eax..edx */
    uint32_t dynamic;
} compared[] = {
    {1, 0, 0},                      /* the signature */
    {1, 2, (1u << 27) | (1u << 3)}, /* OSXSAVE (CR4), MONITOR (MISC_ENABLE) */
    {1, 3, 1u << 9},                /* APIC (IA32_APIC_BASE.EN) */
    {7, 1, 0},                      /* SMEP, SMAP, ... */
    {7, 2, 1u << 4},                /* OSPKE (CR4) */
    {0x80000001u, 2, 0},            /* SVM, ... */
    {0x80000001u, 3, 0},            /* RDTSCP, ... */
};
#define N_COMPARED (sizeof(compared) / sizeof(compared[0]))

static const char *const reg_name[4] = {"eax", "ebx", "ecx", "edx"};

struct probe {
    struct cpum_policy policy;
    struct cpum_cpu cpu;
    struct pgm *pgm;
    struct hwaccm *hm;
    struct hwaccm_vcpu *hv;
};

/* 64-bit mode at `cpl` on the identity-mapped first 2 MiB (a user page,
 * so CPL3 may fetch it; IOPL 3, so the OUT exits rather than faults). */
static void enter_long_mode(struct cpum_cpu *cpu, unsigned cpl)
{
    struct cpum_ctx *c = &cpu->ctx;
    uint16_t rpl = (uint16_t)cpl, dpl = (uint16_t)(cpl << 5);
    c->seg[CPUM_CS] = (struct cpum_seg){.sel = (uint16_t)((cpl ? 0x30 : 0x08) | rpl),
                                        .limit = 0xffffffffu,
                                        .attr = (uint16_t)(0x209b | dpl)};
    for (unsigned r = 0; r < CPUM_SREG_COUNT; r++)
        if (r != CPUM_CS)
            c->seg[r] = (struct cpum_seg){.sel = (uint16_t)((cpl ? 0x28 : 0x10) | rpl),
                                          .limit = 0xffffffffu,
                                          .attr = (uint16_t)(0xc093 | dpl)};
    c->tr =
        (struct cpum_seg){.sel = 0x40, .base = PROBE_PML4 + 0x3000, .limit = 0x67, .attr = 0x8b};
    c->ldtr = (struct cpum_seg){.attr = 0};
    c->cr0 = CR0_PG | CR0_WP | CR0_NE | CR0_ET | CR0_MP | CR0_PE;
    c->cr3 = PROBE_PML4;
    c->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    c->msr.efer = EFER_LME | EFER_LMA | EFER_NXE;
    c->rflags = 0x2 | (3ull << RFLAGS_IOPL_SHIFT);
    c->gpr[CPUM_RSP] = PROBE_RAM - 16;
    cpum_mark_dirty(cpu, CPUM_STATE_ALL);
}

static cap_result probe_create(struct probe *p)
{
    /* user, writable: the PML4 and PDPT entries, then one 2 MiB page at 0 */
    const uint64_t tables[3] = {(PROBE_PML4 + 0x1000) | 7, (PROBE_PML4 + 0x2000) | 7, 0x80 | 7};
    cap_result rc = hwaccm_policy_init(&p->policy, 1, NULL);
    if (CAP_SUCCEEDED(rc))
        rc = pgm_create(&p->pgm);
    if (CAP_SUCCEEDED(rc))
        rc = pgm_map_ram(p->pgm, 0, PROBE_RAM, "cpuid-probe");
    for (unsigned i = 0; CAP_SUCCEEDED(rc) && i < 3; i++)
        rc = pgm_phys_write(p->pgm, PROBE_PML4 + 0x1000 * i, &tables[i], sizeof(tables[i]));
    if (CAP_SUCCEEDED(rc))
        rc = pgm_phys_write(p->pgm, PROBE_CODE, probe_code, sizeof(probe_code));
    if (CAP_FAILED(rc))
        return rc;
    cpum_cpu_init(&p->cpu, &p->policy, 0);
    rc = hwaccm_create(p->pgm, &p->policy, &p->hm);
    if (CAP_SUCCEEDED(rc))
        rc = hwaccm_vcpu_create(p->hm, &p->cpu, &p->hv);
    return rc;
}

static void probe_destroy(struct probe *p)
{
    hwaccm_vcpu_destroy(p->hv);
    hwaccm_destroy(p->hm);
    pgm_destroy(p->pgm);
}

/* The guest's CPUID `leaf`.0 into out[]; CAP_FALSE (with `err`) when the
 * run did not end at the probe's OUT. */
static cap_bool guest_cpuid(struct probe *p, uint32_t leaf, uint32_t out[4], char *err, size_t len)
{
    struct cpum_ctx *c = &p->cpu.ctx;
    struct vmm_exit x;
    c->gpr[CPUM_RAX] = leaf;
    c->gpr[CPUM_RCX] = 0;
    c->rip = PROBE_CODE;
    cpum_mark_dirty(&p->cpu, CPUM_STATE_GPRS);
    /* a signal to this thread ends a run early: the next one goes on */
    cap_result rc = CAP_OK;
    x.reason = VMM_EXIT_INTERRUPTED;
    for (int tries = 0; CAP_SUCCEEDED(rc) && x.reason == VMM_EXIT_INTERRUPTED && tries < 3; tries++)
        rc = hwaccm_vcpu_run(p->hv, &x);
    if (CAP_FAILED(rc)) {
        const char *m = cap_error_peek_message();
        snprintf(err, len, "running CPUID %#x: %s", leaf, m ? m : vmm_result_name(rc));
        cap_error_clear();
        return CAP_FALSE;
    }
    if (x.reason != VMM_EXIT_IO || x.io.port != PROBE_PORT) {
        snprintf(err, len, "CPUID %#x ended in exit %s at rip 0x%llx, not at the OUT", leaf,
                 vmm_exit_name(x.reason), (unsigned long long)c->rip);
        return CAP_FALSE;
    }
    out[0] = (uint32_t)c->gpr[CPUM_RAX], out[1] = (uint32_t)c->gpr[CPUM_RBX];
    out[2] = (uint32_t)c->gpr[CPUM_RCX], out[3] = (uint32_t)c->gpr[CPUM_RDX];
    return CAP_TRUE;
}

/* The guest's value of each compared register at `cpl`; CAP_FALSE with
 * `err` when the probe could not run there. */
static cap_bool probe_at(struct probe *p, unsigned cpl, uint32_t seen[N_COMPARED], char *err,
                         size_t len)
{
    enter_long_mode(&p->cpu, cpl);
    for (unsigned i = 0; i < N_COMPARED; i++) {
        uint32_t r[4];
        if (!guest_cpuid(p, compared[i].leaf, r, err, len))
            return CAP_FALSE;
        seen[i] = r[compared[i].reg];
    }
    return CAP_TRUE;
}

/* Appends "leaf L reg 0xSEEN (policy: 0xWANT)" for each register whose
 * guest value differs from the policy's; returns how many did. */
static unsigned describe(const struct cpum_policy *policy, const uint32_t seen[N_COMPARED],
                         char *buf, size_t len)
{
    unsigned n = 0;
    size_t at = strlen(buf);
    for (unsigned i = 0; i < N_COMPARED; i++) {
        uint32_t want[4];
        cpum_cpuid(policy, 0, compared[i].leaf, 0, want);
        uint32_t w = want[compared[i].reg] & ~compared[i].dynamic;
        uint32_t s = seen[i] & ~compared[i].dynamic;
        if (s == w)
            continue;
        if (at < len)
            at +=
                (size_t)snprintf(buf + at, len - at, "%sleaf %x %s 0x%08x (policy: 0x%08x)",
                                 n ? ", " : "", compared[i].leaf, reg_name[compared[i].reg], s, w);
        n++;
    }
    return n;
}

static struct {
    cap_bool faithful;
    char why[480];
} answer;
static pthread_once_t answer_once = PTHREAD_ONCE_INIT;

static void probe_once(void)
{
    struct probe p;
    uint32_t seen[2][N_COMPARED];
    char err[192] = "";
    memset(&p, 0, sizeof(p));
    answer.faithful = CAP_TRUE;
    if (CAP_FAILED(probe_create(&p))) {
        const char *m = cap_error_peek_message();
        snprintf(answer.why, sizeof(answer.why), "not probed: %s", m ? m : "no probe VM");
        cap_error_clear();
        probe_destroy(&p);
        return;
    }
    cap_bool ran3 = probe_at(&p, 3, seen[0], err, sizeof(err));
    cap_bool ran0 = ran3 && probe_at(&p, 0, seen[1], err, sizeof(err));
    char d3[400] = "", d0[400] = "";
    unsigned n3 = ran3 ? describe(&p.policy, seen[0], d3, sizeof(d3)) : 0;
    unsigned n0 = ran0 ? describe(&p.policy, seen[1], d0, sizeof(d0)) : 0;
    const char *at0 = !ran0 ? "not probed" : n0 ? d0 : "the policy's";
    answer.faithful = !n3 && !n0;
    if (!ran3)
        snprintf(answer.why, sizeof(answer.why), "not probed: %s", err);
    else if (answer.faithful)
        snprintf(answer.why, sizeof(answer.why),
                 "the guest's CPUID leaves 1, 7.0 and 0x80000001 are the policy's at CPL3%s%s%s",
                 ran0 ? " and CPL0" : " (CPL0 not probed: ", ran0 ? "" : err, ran0 ? "" : ")");
    else if (n3 && n0 && !strcmp(d3, d0))
        snprintf(answer.why, sizeof(answer.why), "at CPL3 and CPL0 the guest's CPUID shows %s", d3);
    else
        snprintf(answer.why, sizeof(answer.why), "the guest's CPUID shows at CPL3 %s; at CPL0 %s",
                 n3 ? d3 : "the policy's", at0);
    probe_destroy(&p);
}

cap_bool hwaccm_cpuid_faithful(char *why, size_t len)
{
    pthread_once(&answer_once, probe_once);
    if (why && len)
        snprintf(why, len, "%s", answer.why);
    return answer.faithful;
}
