/*
 * tests/unit/em/test_em.c - EM without KVM: engine choice (and the engine
 * per CPU mode under auto), the lifecycle table, names and parsing, the
 * statistics report, and vm_create's errors (bad arguments, raw not
 * available, no /dev/kvm: hm fails, rem and auto run).
 */
#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "em/em.h"
#include "stam/stam.h"

START_TEST(engine_choice)
{
    struct em_engine_choice c;
    struct em_host_probe p = {.native_cpl0 = CAP_TRUE, .hm_usable = CAP_TRUE};
    /* no measurements: the CPU flags decide */
    ck_assert_int_eq(em_choose_engine(VM_ENGINE_AUTO, &p, &c), CAP_OK);
    ck_assert_int_eq(c.engine, VM_ENGINE_HM);
    ck_assert_ptr_nonnull(strstr(c.why, "VT-x/AMD-V present"));
    p.native_cpl0 = CAP_FALSE;
    ck_assert_int_eq(em_choose_engine(VM_ENGINE_AUTO, &p, &c), CAP_OK);
    ck_assert_int_eq(c.engine, VM_ENGINE_REM);
    ck_assert_ptr_nonnull(strstr(c.why, "not measured"));
    /* measured: the faster one, whatever the flags say */
    p.hm_ns_per_insn = 520.0, p.rem_ns_per_insn = 28.5;
    ck_assert_int_eq(em_choose_engine(VM_ENGINE_AUTO, &p, &c), CAP_OK);
    ck_assert_int_eq(c.engine, VM_ENGINE_REM);
    ck_assert_ptr_nonnull(strstr(c.why, "520.0 ns/insn under hm and 28.5 ns/insn under rem"));
    p.native_cpl0 = CAP_TRUE;
    ck_assert_int_eq(em_choose_engine(VM_ENGINE_AUTO, &p, &c), CAP_OK);
    ck_assert_int_eq(c.engine, VM_ENGINE_REM);
    p.hm_ns_per_insn = 0.4;
    ck_assert_int_eq(em_choose_engine(VM_ENGINE_AUTO, &p, &c), CAP_OK);
    ck_assert_int_eq(c.engine, VM_ENGINE_HM);
    ck_assert_ptr_nonnull(strstr(c.why, "hm is faster"));
    /* hm's guest would see another CPUID than the profile's: rem, however
     * fast hm is; asked for by name, hm all the same */
    p.hm_cpuid_other = CAP_TRUE;
    snprintf(p.hm_cpuid, sizeof(p.hm_cpuid), "leaf 7 ebx 0xf1bf03ab (policy: 0x00000002)");
    ck_assert_int_eq(em_choose_engine(VM_ENGINE_AUTO, &p, &c), CAP_OK);
    ck_assert_int_eq(c.engine, VM_ENGINE_REM);
    ck_assert_ptr_nonnull(strstr(c.why, "0.4 ns/insn under hm and 28.5 ns/insn under rem: rem, "
                                        "as hm would not show the guest the CPU profile's CPUID"));
    p.hm_ns_per_insn = 0;
    ck_assert_int_eq(em_choose_engine(VM_ENGINE_AUTO, &p, &c), CAP_OK);
    ck_assert_int_eq(c.engine, VM_ENGINE_REM);
    ck_assert_ptr_nonnull(strstr(c.why, "not measured"));
    ck_assert_ptr_nonnull(strstr(c.why, "hm would not show the guest the CPU profile's CPUID"));
    p.hm_ns_per_insn = 0.4;
    ck_assert_int_eq(em_choose_engine(VM_ENGINE_HM, &p, &c), CAP_OK);
    ck_assert_int_eq(c.engine, VM_ENGINE_HM);
    p.hm_cpuid_other = CAP_FALSE;
    /* no hm at all: rem, saying why */
    struct em_host_probe none = {.hm_error = "no /dev/kvm"};
    ck_assert_int_eq(em_choose_engine(VM_ENGINE_AUTO, &none, &c), CAP_OK);
    ck_assert_int_eq(c.engine, VM_ENGINE_REM);
    ck_assert_ptr_nonnull(strstr(c.why, "no /dev/kvm"));
    /* asked for: taken as asked */
    ck_assert_int_eq(em_choose_engine(VM_ENGINE_HM, &p, &c), CAP_OK);
    ck_assert_int_eq(c.engine, VM_ENGINE_HM);
    ck_assert_int_eq(em_choose_engine(VM_ENGINE_REM, &p, &c), CAP_OK);
    ck_assert_int_eq(c.engine, VM_ENGINE_REM);
    ck_assert_int_eq(em_choose_engine(VM_ENGINE_RAW, &p, &c), CAP_OK);
    ck_assert_int_eq(c.engine, VM_ENGINE_RAW);
    /* auto never picks raw yet, even where hm is not usable */
    ck_assert_int_eq(em_choose_engine(VM_ENGINE_AUTO, &none, &c), CAP_OK);
    ck_assert_int_eq(c.engine, VM_ENGINE_REM);
}
END_TEST

/* The engine per CPU mode (em_engine_for_mode, pure), every combination. */
START_TEST(mode_policy)
{
    static const enum em_cpu_mode modes[] = {EM_MODE_REAL, EM_MODE_V86, EM_MODE_PROTECTED,
                                             EM_MODE_LONG};
    for (unsigned i = 0; i < 4; i++) {
        enum em_cpu_mode m = modes[i];
        bool low = m == EM_MODE_REAL || m == EM_MODE_V86;
        /* auto with hm picked: rem takes real and virtual-8086 mode */
        ck_assert_int_eq(em_engine_for_mode(VM_ENGINE_AUTO, VM_ENGINE_HM, m),
                         low ? VM_ENGINE_REM : VM_ENGINE_HM);
        /* auto with rem picked, and engines asked for by name: one engine throughout */
        ck_assert_int_eq(em_engine_for_mode(VM_ENGINE_AUTO, VM_ENGINE_REM, m), VM_ENGINE_REM);
        ck_assert_int_eq(em_engine_for_mode(VM_ENGINE_HM, VM_ENGINE_HM, m), VM_ENGINE_HM);
        ck_assert_int_eq(em_engine_for_mode(VM_ENGINE_REM, VM_ENGINE_REM, m), VM_ENGINE_REM);
    }
    ck_assert_str_eq(em_cpu_mode_name(EM_MODE_REAL), "real mode");
    ck_assert_str_eq(em_cpu_mode_name(EM_MODE_V86), "virtual-8086 mode");
    ck_assert_str_eq(em_cpu_mode_name(EM_MODE_PROTECTED), "protected mode");
    ck_assert_str_eq(em_cpu_mode_name(EM_MODE_LONG), "long mode");
    ck_assert_str_eq(em_cpu_mode_name(EM_MODE_COUNT), "?");
}
END_TEST

/* The mode of a context: CR0.PE, RFLAGS.VM, EFER.LMA. */
START_TEST(mode_of_context)
{
    struct cpum_ctx c;
    memset(&c, 0, sizeof(c));
    ck_assert_int_eq(em_cpu_mode_of(&c), EM_MODE_REAL);
    c.rflags = 1u << 17; /* VM without PE: still real mode */
    ck_assert_int_eq(em_cpu_mode_of(&c), EM_MODE_REAL);
    c.cr0 = CR0_PE;
    ck_assert_int_eq(em_cpu_mode_of(&c), EM_MODE_V86);
    c.rflags = 0x2;
    ck_assert_int_eq(em_cpu_mode_of(&c), EM_MODE_PROTECTED);
    c.msr.efer = EFER_LMA; /* compatibility mode too: CS.L is not looked at */
    ck_assert_int_eq(em_cpu_mode_of(&c), EM_MODE_LONG);
    c.seg[CPUM_CS].attr |= CPUM_SEG_L;
    ck_assert_int_eq(em_cpu_mode_of(&c), EM_MODE_LONG);
}
END_TEST

START_TEST(engine_parse)
{
    enum vm_engine e;
    ck_assert_int_eq(vm_engine_parse("auto", &e), CAP_OK);
    ck_assert_int_eq(e, VM_ENGINE_AUTO);
    ck_assert_int_eq(vm_engine_parse("HM", &e), CAP_OK);
    ck_assert_int_eq(e, VM_ENGINE_HM);
    ck_assert_int_eq(vm_engine_parse("rem", &e), CAP_OK);
    ck_assert_int_eq(vm_engine_parse("qemu", &e), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "unknown engine 'qemu'"));
    cap_error_clear();
    ck_assert_str_eq(vm_engine_name(VM_ENGINE_RAW), "raw");
}
END_TEST

START_TEST(state_table)
{
    ck_assert(vm_state_allows(VM_STATE_CREATED, VM_ACT_START));
    ck_assert(!vm_state_allows(VM_STATE_CREATED, VM_ACT_PAUSE));
    ck_assert(!vm_state_allows(VM_STATE_CREATED, VM_ACT_POWER_OFF));
    ck_assert(vm_state_allows(VM_STATE_RUNNING, VM_ACT_PAUSE));
    ck_assert(!vm_state_allows(VM_STATE_RUNNING, VM_ACT_RESUME));
    ck_assert(!vm_state_allows(VM_STATE_RUNNING, VM_ACT_START));
    ck_assert(vm_state_allows(VM_STATE_RUNNING, VM_ACT_RESET));
    ck_assert(vm_state_allows(VM_STATE_RUNNING, VM_ACT_POWER_OFF));
    ck_assert(vm_state_allows(VM_STATE_PAUSED, VM_ACT_RESUME));
    ck_assert(vm_state_allows(VM_STATE_PAUSED, VM_ACT_POWER_OFF));
    ck_assert(!vm_state_allows(VM_STATE_PAUSED, VM_ACT_PAUSE));
    for (int a = VM_ACT_START; a <= VM_ACT_POWER_OFF; a++) {
        ck_assert(!vm_state_allows(VM_STATE_POWERED_OFF, a));
        ck_assert(!vm_state_allows(VM_STATE_ABORTED, a));
    }
    ck_assert_str_eq(vm_state_name(VM_STATE_POWERED_OFF), "powered-off");
    ck_assert_str_eq(vm_state_name(VM_STATE_ABORTED), "aborted");
    ck_assert_str_eq(vm_stop_reason_name(VM_STOP_TRIPLE_FAULT), "triple fault");
}
END_TEST

/* The summary reads the registry by path: the counters of a fake VM. */
struct fake_counters {
    uint64_t uptime, runs, engine, hm, rem, insns, steps, irqs, windows, lsl, stmxcsr, ud2;
    struct stam_profile halt;
};

#define F(p, field, u)                                                                             \
    {                                                                                              \
        .path = p, .type = STAM_COUNTER, .unit = u,                                                \
        .offset = offsetof(struct fake_counters, field)                                            \
    }
static const struct stam_def fake_defs[] = {
    F("/EM/UptimeNs", uptime, STAM_UNIT_NS),
    F("/EM/Runs", runs, STAM_UNIT_COUNT),
    F("/EM/EngineNs", engine, STAM_UNIT_NS),
    F("/EM/HmNs", hm, STAM_UNIT_NS),
    F("/EM/RemNs", rem, STAM_UNIT_NS),
    F("/EM/IrqsInjected", irqs, STAM_UNIT_COUNT),
    F("/EM/IrqWindows", windows, STAM_UNIT_COUNT),
    {.path = "/EM/Halt",
     .type = STAM_PROFILE,
     .unit = STAM_UNIT_NS,
     .offset = offsetof(struct fake_counters, halt)},
};

static char *summary(struct stam *st)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    em_stats_print(st, f);
    fclose(f);
    return buf;
}

START_TEST(stats_report)
{
    struct fake_counters c = {.uptime = 1000000,
                              .runs = 8,
                              .engine = 80000,
                              .irqs = 3,
                              .halt = {.count = 2, .total_ns = 500000}};
    struct stam *st = NULL;
    ck_assert_int_eq(stam_create(&st), CAP_OK);
    ck_assert_int_eq(
        stam_register_table(st, fake_defs, sizeof(fake_defs) / sizeof(fake_defs[0]), &c), CAP_OK);
    char *buf = summary(st);
    ck_assert_ptr_nonnull(strstr(buf, "== EM statistics\n"));
    ck_assert_ptr_nonnull(strstr(buf, "irqs injected                3"));
    ck_assert_ptr_nonnull(strstr(buf, "halts                        2   time halted 0.500 ms"));
    ck_assert_ptr_nonnull(strstr(buf, "mean run                 10.00 us"));
    ck_assert_ptr_nonnull(
        strstr(buf, "engine runs                  8   time in engine 0.080 ms (8.0%)"));
    ck_assert_ptr_null(strstr(buf, "stepped by rem"));
    ck_assert_ptr_null(strstr(buf, "rem instructions")); /* rem not registered */
    ck_assert_ptr_null(strstr(buf, "mode entries"));     /* nor the modes */
    free(buf);
    c.rem = 2000000;
    c.insns = 70000000;
    c.steps = 4;
    c.lsl = 2;
    c.stmxcsr = 1;
    c.ud2 = 1;
    ck_assert_int_eq(stam_register_counterf(st, &c.insns, STAM_UNIT_INSNS, "", "/REM/Insns"),
                     CAP_OK);
    ck_assert_int_eq(stam_register_counterf(st, &c.steps, STAM_UNIT_INSNS, "", "/EM/RemSteps"),
                     CAP_OK);
    ck_assert_int_eq(
        stam_register_counterf(st, &c.stmxcsr, STAM_UNIT_INSNS, "", "/EM/Steps/stmxcsr"), CAP_OK);
    ck_assert_int_eq(stam_register_counterf(st, &c.lsl, STAM_UNIT_INSNS, "", "/EM/Steps/lsl"),
                     CAP_OK);
    ck_assert_int_eq(stam_register_counterf(st, &c.ud2, STAM_UNIT_INSNS, "", "/EM/Steps/ud2"),
                     CAP_OK);
    uint64_t real = 5, prot = 4, sw = 7;
    ck_assert_int_eq(stam_register_counterf(st, &real, STAM_UNIT_COUNT, "", "/EM/Modes/Real"),
                     CAP_OK);
    ck_assert_int_eq(stam_register_counterf(st, &prot, STAM_UNIT_COUNT, "", "/EM/Modes/Protected"),
                     CAP_OK);
    ck_assert_int_eq(stam_register_counterf(st, &sw, STAM_UNIT_COUNT, "", "/EM/EngineSwitches"),
                     CAP_OK);
    buf = summary(st);
    ck_assert_ptr_nonnull(
        strstr(buf, "rem instructions      70000000   35000.0 MIPS while in rem"));
    ck_assert_ptr_nonnull(
        strstr(buf, "mode entries      real 5, v86 0, protected 4, long 0; engine switches 7\n"));
    /* busiest first, ties in path order */
    ck_assert_ptr_nonnull(
        strstr(buf, "instructions stepped by rem for hm 4: lsl 2 stmxcsr 1 ud2 1\n"));
    free(buf);
    stam_destroy(st);
}
END_TEST

/* More mnemonics than the summary names: the least busy are summed. */
START_TEST(stats_report_many_steps)
{
    uint64_t steps = 0, n[12];
    struct stam *st = NULL;
    ck_assert_int_eq(stam_create(&st), CAP_OK);
    ck_assert_int_eq(stam_register_counterf(st, &steps, STAM_UNIT_INSNS, "", "/EM/RemSteps"),
                     CAP_OK);
    for (unsigned i = 0; i < 12; i++) {
        n[i] = i + 1;
        steps += n[i];
        ck_assert_int_eq(
            stam_register_counterf(st, &n[i], STAM_UNIT_INSNS, "", "/EM/Steps/m%02u", i), CAP_OK);
    }
    char *buf = summary(st);
    ck_assert_msg(strstr(buf, "instructions stepped by rem for hm 78: m11 12 m10 11 m09 10 m08 9 "
                              "m07 8 m06 7 m05 6 m04 5 (other) 10\n"),
                  "%s", buf);
    free(buf);
    stam_destroy(st);
}
END_TEST

static struct vm_config base_cfg(void)
{
    return (struct vm_config){.ram_bytes = 1 << 20, .ncpus = 1, .engine = VM_ENGINE_HM};
}

START_TEST(create_errors)
{
    struct vm *vm = (struct vm *)1;
    struct vm_config c = base_cfg();
    c.ncpus = 2;
    ck_assert_int_eq(vm_create(&c, &vm), CAP_E_INVALIDARG);
    ck_assert_ptr_null(vm);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), PLATFORM_CPUS_WHY));
    c.ncpus = 0;
    ck_assert_int_eq(vm_create(&c, &vm), CAP_E_INVALIDARG);
    c = base_cfg();
    c.ram_bytes = 12345;
    ck_assert_int_eq(vm_create(&c, &vm), CAP_E_INVALIDARG);
    /* beyond what the guest can address: refused even when forced */
    c.ram_bytes = ((uint64_t)PLATFORM_MAX_RAM_MB + 1) << 20;
    c.ram_beyond_host = true;
    ck_assert_int_eq(vm_create(&c, &vm), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(),
                                 "more than the 65024 MiB a guest can address here (36-bit"));
    /* no /dev/kvm: hm is a clear error, nothing leaked (ASan checks) ... */
    setenv("CAPSULE_KVM_DEVICE", "/nonexistent/kvm", 1);
    c = base_cfg();
    ck_assert_int_eq(vm_create(&c, &vm), VMM_E_NO_KVM);
    ck_assert_ptr_nonnull(cap_error_peek_message());
    cap_error_clear();
    /* ... so is raw, which has no native context then */
    c.engine = VM_ENGINE_RAW;
    ck_assert_int_eq(vm_create(&c, &vm), VMM_E_ENGINE_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "raw: no native context on this host"));
    cap_error_clear();
    /* ... while rem needs none, and auto falls back to it */
    c.engine = VM_ENGINE_REM;
    ck_assert_int_eq(vm_create(&c, &vm), CAP_OK);
    ck_assert_int_eq(vm_get_engine(vm), VM_ENGINE_REM);
    vm_destroy(vm);
    c.engine = VM_ENGINE_AUTO;
    ck_assert_int_eq(vm_create(&c, &vm), CAP_OK);
    ck_assert_int_eq(vm_get_engine(vm), VM_ENGINE_REM);
    vm_destroy(vm);
    unsetenv("CAPSULE_KVM_DEVICE");
    cap_error_clear();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("em");
    TCase *tc = tcase_create("em");
    tcase_add_test(tc, engine_choice);
    tcase_add_test(tc, engine_parse);
    tcase_add_test(tc, mode_policy);
    tcase_add_test(tc, mode_of_context);
    tcase_add_test(tc, state_table);
    tcase_add_test(tc, stats_report);
    tcase_add_test(tc, stats_report_many_steps);
    tcase_add_test(tc, create_errors);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
