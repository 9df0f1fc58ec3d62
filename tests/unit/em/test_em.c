/*
 * tests/unit/em/test_em.c - EM without KVM: engine choice, the lifecycle
 * table, names and parsing, the statistics report, and vm_create's errors
 * (bad arguments, raw not available, no /dev/kvm: hm fails, rem and auto run).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "em/em.h"

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
    ck_assert_int_eq(em_choose_engine(VM_ENGINE_RAW, &p, &c), VMM_E_ENGINE_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "'raw'"));
    cap_error_clear();
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

START_TEST(stats_report)
{
    struct em_stats s = {0};
    s.exits[1] = 7; /* VMM_EXIT_IO */
    s.runs = 8;
    s.engine_ns = 80000;
    s.uptime_ns = 1000000;
    s.irqs_injected = 3;
    s.halts = 2;
    s.halt_ns = 500000;
    struct em_port_stat ports[] = {{0x3f8, 6}, {0xf4, 1}};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    em_stats_print(&s, ports, 2, f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "irqs injected                3"));
    ck_assert_ptr_nonnull(strstr(buf, "io                            7"));
    ck_assert_ptr_nonnull(strstr(buf, "0x03f8                        6"));
    ck_assert_ptr_nonnull(strstr(buf, "time halted 0.500 ms"));
    ck_assert_ptr_nonnull(strstr(buf, "mean run                 10.00 us"));
    ck_assert_ptr_null(strstr(buf, "stepped by rem"));
    ck_assert_ptr_null(strstr(buf, "nmis injected")); /* only when there were some */
    ck_assert_ptr_null(strstr(buf, "rem blocks"));
    free(buf);
    s.rem_ns = 2000000;
    s.rem_insns = 70000000;
    s.rem_steps = 3;
    s.rem_step_ops[0] = (struct em_step_stat){"lsl", 2};
    s.rem_step_ops[1] = (struct em_step_stat){"stmxcsr", 1};
    s.rem_blocks = 1234;
    s.rem_flushes = 2;
    s.rem_translations = 99;
    s.rem_links = 40;
    s.nmis_injected = 2;
    f = open_memstream(&buf, &len);
    em_stats_print(&s, ports, 2, f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "rem instructions      70000000   35000.0 MIPS while in rem"));
    ck_assert_ptr_nonnull(strstr(buf, "instructions stepped by rem for hm 3: lsl 2 stmxcsr 1"));
    ck_assert_ptr_nonnull(strstr(buf, "nmis injected                2"));
    ck_assert_ptr_nonnull(strstr(buf, "rem blocks                1234   built, 2 cache flushes; JIT: "
                                      "99 translated, 40 exits chained"));
    free(buf);
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
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "until SMP"));
    c = base_cfg();
    c.ram_bytes = 12345;
    ck_assert_int_eq(vm_create(&c, &vm), CAP_E_INVALIDARG);
    c = base_cfg();
    c.engine = VM_ENGINE_RAW;
    ck_assert_int_eq(vm_create(&c, &vm), VMM_E_ENGINE_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "not available yet"));
    /* no /dev/kvm: hm is a clear error, nothing leaked (ASan checks) ... */
    setenv("CAPSULE_KVM_DEVICE", "/nonexistent/kvm", 1);
    c = base_cfg();
    ck_assert_int_eq(vm_create(&c, &vm), VMM_E_NO_KVM);
    ck_assert_ptr_nonnull(cap_error_peek_message());
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
    tcase_add_test(tc, state_table);
    tcase_add_test(tc, stats_report);
    tcase_add_test(tc, create_errors);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
