/*
 * test_msr.c - guest RDMSR/WRMSR under hm give what CPUM's rules give
 * (cpum_msr.c, the rules rem applies): the guest sees one CPU under both
 * engines. A flat 32-bit CPL0 guest (emulated by this host's KVM) runs one
 * WRMSR or RDMSR per case with a #GP handler in its IDT; each outcome (#GP
 * or not, the value read back) is compared with cpum_msr_read/write on a
 * copy of the same context. The MSRs hm routes to CPUM (hwaccm_kvm_msr.c)
 * come back as VMM_EXIT_MSR and are answered the way EM answers them
 * (em_engine.c): CPUM decides, #GP goes back through the exit.
 */
#include <stdio.h>
#include <string.h>

#include "hwaccm_test.h"

/* Guest layout: code, the handlers, IDT, GDT, stack. */
#define CODE_WRMSR    0x1000u /* wrmsr; hlt */
#define CODE_RDMSR    0x1010u /* rdmsr; hlt */
#define HANDLER_GP    0x1100u /* hlt */
#define HANDLER_OTHER 0x1200u /* hlt */
#define IDT_BASE      0x2000u
#define GDT_BASE      0x3000u
#define STACK_TOP     0x8000u

static void teardown(void)
{
    tvm_destroy();
}

static void put(uint64_t gpa, const void *p, size_t n)
{
    ck_assert_int_eq(pgm_phys_write(vm.pgm, gpa, p, n), CAP_OK);
}

/* The tests' usual VM with the code above, at CODE_WRMSR in flat 32-bit
 * protected mode with an IDT. */
static void msr_vm(void)
{
    tvm_create(1 << 20);
    tvm_vcpu();
    static const uint8_t wr[] = {0x0f, 0x30, 0xf4}, rd[] = {0x0f, 0x32, 0xf4}, hlt = 0xf4;
    put(CODE_WRMSR, wr, sizeof(wr));
    put(CODE_RDMSR, rd, sizeof(rd));
    put(HANDLER_GP, &hlt, 1);
    put(HANDLER_OTHER, &hlt, 1);
    for (unsigned v = 0; v < 32; v++) {
        uint32_t h = v == 13 ? HANDLER_GP : HANDLER_OTHER;
        uint64_t gate = (h & 0xffffull) | 0x08ull << 16 | 0x8e00ull << 32 |
                        (uint64_t)(h >> 16) << 48; /* 32-bit interrupt gate, DPL0 */
        put(IDT_BASE + 8 * v, &gate, 8);
    }
    static const uint64_t gdt[] = {0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull};
    put(GDT_BASE, gdt, sizeof(gdt));
    tvm_flat32(CODE_WRMSR);
    vm.cpu.ctx.gdtr = (struct cpum_dtr){.base = GDT_BASE, .limit = sizeof(gdt) - 1};
    vm.cpu.ctx.idtr = (struct cpum_dtr){.base = IDT_BASE, .limit = 32 * 8 - 1};
}

/* What EM does with VMM_EXIT_MSR (em_engine.c em_hm_msr). */
static void answer_msr(void)
{
    ck_assert_int_eq(hwaccm_vcpu_import(vm.vcpu, CPUM_STATE_MSRS), CAP_OK);
    const struct vmm_exit *x = &vm.exit;
    cap_result rc = x->msr.write ? cpum_msr_write(&vm.cpu, x->msr.index, *x->msr.data)
                                 : cpum_msr_read(&vm.cpu, x->msr.index, x->msr.data);
    ck_assert(rc == CAP_OK || rc == VMM_XCPT_GP);
    *x->msr.gp = rc == VMM_XCPT_GP;
}

/* Runs one RDMSR/WRMSR; returns CAP_OK, or VMM_XCPT_GP for #GP(0). Counts
 * the accesses that left KVM for CPUM in *routed. */
static cap_result guest_msr(cap_bool write, uint32_t msr, uint64_t *value, unsigned *routed)
{
    struct cpum_ctx *c = &vm.cpu.ctx;
    c->rip = write ? CODE_WRMSR : CODE_RDMSR;
    c->gpr[CPUM_RCX] = msr;
    c->gpr[CPUM_RAX] = write ? (uint32_t)*value : 0;
    c->gpr[CPUM_RDX] = write ? *value >> 32 : 0;
    c->gpr[CPUM_RSP] = STACK_TOP;
    c->rflags = 0x2;
    cpum_mark_dirty(&vm.cpu, CPUM_STATE_GPRS);
    for (;;) {
        cap_result rc = hwaccm_vcpu_run(vm.vcpu, &vm.exit);
        ck_assert_msg(rc == CAP_OK, "run: %s", take_message());
        if (vm.exit.reason != VMM_EXIT_MSR)
            break;
        ck_assert_uint_eq(vm.exit.msr.index, msr);
        ck_assert_int_eq(vm.exit.msr.write, write);
        if (write)
            ck_assert_uint_eq(*vm.exit.msr.data, *value);
        answer_msr();
        (*routed)++;
    }
    ck_assert_msg(vm.exit.reason == VMM_EXIT_HLT, "MSR 0x%x: exit %s", msr,
                  vmm_exit_name(vm.exit.reason));
    if (c->rip == HANDLER_GP + 1) {
        uint32_t err;
        ck_assert_int_eq(pgm_phys_read(vm.pgm, STACK_TOP - 16, &err, 4), CAP_OK);
        ck_assert_uint_eq(err, 0);
        return VMM_XCPT_GP;
    }
    ck_assert_msg(c->rip == (write ? CODE_WRMSR : CODE_RDMSR) + 3,
                  "MSR 0x%x: stopped at 0x%llx (another exception?)", msr,
                  (unsigned long long)c->rip);
    if (!write)
        *value = (c->gpr[CPUM_RDX] & 0xffffffffu) << 32 | (c->gpr[CPUM_RAX] & 0xffffffffu);
    return CAP_OK;
}

/* A copy of the vCPU's context that only CPUM's rules change: what rem
 * would hold after the same accesses. */
static struct cpum_cpu reference(void)
{
    ck_assert_int_eq(hwaccm_vcpu_import(vm.vcpu, CPUM_STATE_ALL), CAP_OK);
    struct cpum_cpu ref = vm.cpu;
    return ref;
}

struct msr_case {
    cap_bool write;
    uint32_t msr;
    uint64_t value;
};

/* Writes and reads where a KVM without routing answers differently from
 * CPUM (measured on this project's host), and some where they agree. */
static const struct msr_case cases[] = {
    {CAP_TRUE, MSR_IA32_MISC_ENABLE, 1ull << 50}, /* reserved bit */
    {CAP_TRUE, MSR_IA32_MISC_ENABLE, 1ull << 22}, /* limit CPUID maxval: fixed by the policy */
    {CAP_TRUE, MSR_IA32_MISC_ENABLE, 0},          /* fast strings off */
    {CAP_FALSE, MSR_IA32_MISC_ENABLE, 0},
    {CAP_TRUE, MSR_IA32_MISC_ENABLE, 1}, /* and on */
    {CAP_FALSE, MSR_IA32_MISC_ENABLE, 0},
    {CAP_FALSE, MSR_IA32_BIOS_SIGN_ID, 0},
    {CAP_TRUE, MSR_IA32_BIOS_SIGN_ID, 0},
    {CAP_FALSE, MSR_IA32_MCG_CAP, 0},
    {CAP_TRUE, MSR_IA32_MCG_CAP, 0},
    {CAP_FALSE, MSR_IA32_MCG_STATUS, 0},
    {CAP_TRUE, MSR_IA32_MCG_STATUS, 1},
    {CAP_TRUE, MSR_IA32_MCG_STATUS, 0},
    {CAP_FALSE, MSR_IA32_MCG_CTL, 0},
    {CAP_FALSE, MSR_IA32_MC0_CTL, 0},
    {CAP_FALSE, MSR_IA32_MC0_CTL + 3, 0}, /* MC0_MISC */
    {CAP_TRUE, MSR_IA32_MC0_CTL + 1, 0},  /* MC0_STATUS */
    {CAP_TRUE, MSR_IA32_SYSENTER_CS, 0x12345678},
    {CAP_FALSE, MSR_IA32_SYSENTER_CS, 0},
    {CAP_TRUE, MSR_IA32_SYSENTER_ESP, 0x0000800000000000ull}, /* not canonical */
    {CAP_FALSE, MSR_IA32_SYSENTER_ESP, 0},
    {CAP_TRUE, MSR_IA32_SYSENTER_EIP, 0xffff800000001000ull},
    {CAP_FALSE, MSR_IA32_SYSENTER_EIP, 0},
    {CAP_TRUE, MSR_IA32_APIC_BASE, APIC_BASE_DEFAULT | APIC_BASE_ENABLE}, /* BSP cleared */
    {CAP_FALSE, MSR_IA32_APIC_BASE, 0},
    {CAP_TRUE, MSR_IA32_APIC_BASE, APIC_BASE_DEFAULT | APIC_BASE_ENABLE | APIC_BASE_BSP | 1u << 10},
    {CAP_FALSE, MSR_IA32_APIC_BASE, 0},
    {CAP_TRUE, MSR_IA32_PAT, 0x0007040600070406ull | 2}, /* type 2: reserved */
    {CAP_TRUE, MSR_SFMASK, 0x1234567800000300ull},
    {CAP_FALSE, MSR_SFMASK, 0},
    {CAP_TRUE, MSR_IA32_PAT, 0x0007040600070406ull},
    {CAP_FALSE, MSR_IA32_PAT, 0},
    {CAP_TRUE, MSR_STAR, 0x0023001000000000ull},
    {CAP_FALSE, MSR_STAR, 0},
    {CAP_TRUE, MSR_LSTAR, 0x0000800000000000ull},
    {CAP_TRUE, MSR_CSTAR, 0xffff7fffffffffffull},
    {CAP_TRUE, MSR_KERNEL_GS_BASE, 0xffff800000002000ull},
    {CAP_FALSE, MSR_KERNEL_GS_BASE, 0},
    {CAP_TRUE, MSR_EFER, 1ull << 12}, /* SVME: not in the policy */
    {CAP_TRUE, MSR_IA32_TSC_ADJUST, 1ull << 20},
    {CAP_FALSE, MSR_IA32_TSC_ADJUST, 0},
    {CAP_FALSE, MSR_TSC_AUX, 0},
    {CAP_TRUE, MSR_TSC_AUX, 1ull << 40},
    {CAP_FALSE, MSR_AMD_SYSCFG, 0},
    {CAP_FALSE, MSR_AMD_HWCR, 0},
    {CAP_TRUE, MSR_AMD_HWCR, 1ull << 30},
    {CAP_FALSE, MSR_AMD_HWCR, 0},
    {CAP_FALSE, MSR_AMD_NB_CFG, 0},
    {CAP_TRUE, MSR_AMD_NB_CFG, 1ull << 46},
    {CAP_FALSE, MSR_AMD_NB_CFG, 0},
    {CAP_FALSE, MSR_AMD_DE_CFG, 0},
    {CAP_TRUE, MSR_AMD_DE_CFG, 1ull << 1},
    {CAP_FALSE, MSR_AMD_DE_CFG, 0},
};

START_TEST(msrs_follow_the_policy)
{
    msr_vm();
    unsigned routed = 0, differ = 0;
    struct cpum_cpu ref = reference();
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct msr_case *k = &cases[i];
        uint64_t want = k->value, got = k->value;
        cap_result rc_ref =
            k->write ? cpum_msr_write(&ref, k->msr, want) : cpum_msr_read(&ref, k->msr, &want);
        cap_result rc = guest_msr(k->write, k->msr, &got, &routed);
        cap_bool same = rc == rc_ref && (k->write || rc != CAP_OK || got == want);
        if (!same) {
            differ++;
            printf("hwaccm: %s MSR 0x%x value 0x%llx: hm %s 0x%llx, CPUM %s 0x%llx\n",
                   k->write ? "WRMSR" : "RDMSR", k->msr, (unsigned long long)k->value,
                   rc == CAP_OK ? "ok" : "#GP", (unsigned long long)got,
                   rc_ref == CAP_OK ? "ok" : "#GP", (unsigned long long)want);
        }
    }
    printf("hwaccm: MSR cases: %u, %u answered by CPUM through VMM_EXIT_MSR, %u differ\n",
           (unsigned)(sizeof(cases) / sizeof(cases[0])), routed, differ);
    ck_assert_uint_eq(differ, 0);
    /* And the context hm hands back holds what CPUM's rules left (the TSC
     * moves on its own). */
    ck_assert_int_eq(hwaccm_vcpu_import(vm.vcpu, CPUM_STATE_ALL), CAP_OK);
    struct cpum_msrs got = vm.cpu.ctx.msr, want = ref.ctx.msr;
    got.tsc = want.tsc = 0;
    ck_assert_mem_eq(&got, &want, sizeof(got));
    ck_assert_mem_eq(&vm.cpu.ctx.amd, &ref.ctx.amd, sizeof(ref.ctx.amd));
}
END_TEST

START_TEST(misc_enable_reserved_bit_is_gp)
{
    msr_vm();
    unsigned routed = 0;
    uint64_t v = 1ull << 50;
    ck_assert_int_eq(guest_msr(CAP_TRUE, MSR_IA32_MISC_ENABLE, &v, &routed), VMM_XCPT_GP);
    ck_assert_uint_eq(routed, 1);
    v = 0; /* fast strings off: lands, in KVM and in the context */
    ck_assert_int_eq(guest_msr(CAP_TRUE, MSR_IA32_MISC_ENABLE, &v, &routed), CAP_OK);
    ck_assert_int_eq(guest_msr(CAP_FALSE, MSR_IA32_MISC_ENABLE, &v, &routed), CAP_OK);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(hwaccm_vcpu_import(vm.vcpu, CPUM_STATE_MSRS), CAP_OK);
    ck_assert_uint_eq(vm.cpu.ctx.msr.misc_enable, 0);
    v = 1;
    ck_assert_int_eq(guest_msr(CAP_TRUE, MSR_IA32_MISC_ENABLE, &v, &routed), CAP_OK);
    ck_assert_int_eq(guest_msr(CAP_FALSE, MSR_IA32_MISC_ENABLE, &v, &routed), CAP_OK);
    ck_assert_uint_eq(v, 1);
    ck_assert_uint_eq(routed, 3); /* the writes; reads stay with KVM */
    /* What routing costs: a WRMSR CPUM answers against one KVM answers. */
    enum { N = 200 };
    double t0 = now_us();
    for (unsigned i = 0; i < N; i++) {
        v = i & 1;
        guest_msr(CAP_TRUE, MSR_IA32_MISC_ENABLE, &v, &routed);
    }
    double t_routed = (now_us() - t0) / N;
    t0 = now_us();
    for (unsigned i = 0; i < N; i++) {
        v = (uint64_t)i << 32;
        guest_msr(CAP_TRUE, MSR_STAR, &v, &routed);
    }
    double t_kvm = (now_us() - t0) / N;
    ck_assert_uint_eq(routed, 3 + N);
    printf("hwaccm: WRMSR round trip (guest at CPL0 emulated here): %.1f us routed to CPUM, "
           "%.1f us in KVM\n",
           t_routed, t_kvm);
}
END_TEST

int msr_routing_usable(char *why, size_t n)
{
    struct cpum_policy policy;
    struct pgm *pgm = NULL;
    struct hwaccm *hm = NULL;
    const char *note = NULL;
    /* A VM that cannot be created is the cases' failure to report, not a skip. */
    if (hwaccm_policy_init(&policy, 1, NULL) == CAP_OK && pgm_create(&pgm) == CAP_OK &&
        hwaccm_create(pgm, &policy, &hm) == CAP_OK)
        note = hwaccm_msr_note(hm);
    snprintf(why, n, "%s", note ? note : "");
    take_message();
    hwaccm_destroy(hm);
    pgm_destroy(pgm);
    return note == NULL;
}

TCase *tcase_msr(void)
{
    TCase *tc = tcase_create("msr");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, misc_enable_reserved_bit_is_gp);
    tcase_add_test(tc, msrs_follow_the_policy);
    return tc;
}
