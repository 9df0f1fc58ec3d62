/*
 * tests/unit/devices/test_debugexit.c - the debug-exit port: QEMU
 * isa-debug-exit semantics, config handling.
 */
#include <check.h>
#include <stdlib.h>

#include "harness.h"

static struct harness h;

static void setup(void)
{
    h_setup(&h);
}

static void teardown(void)
{
    h_teardown(&h);
}

START_TEST(test_write_powers_off)
{
    ck_assert_int_eq(h_add(&h, "debugexit", NULL, 0), CAP_OK);
    ck_assert_uint_eq(h_in(&h, 0xf4, 1), 0);
    ck_assert_int_eq(h.power_offs, 0);
    h_out(&h, 0xf4, 1, 0x10);
    ck_assert_int_eq(h.power_offs, 1);
    ck_assert_int_eq(h.exit_code, 0x21);
    h_out(&h, 0xf4, 4, 0);
    ck_assert_int_eq(h.exit_code, 1);
    h_out(&h, 0xf6, 2, 0x31); /* any size, any port of the range */
    ck_assert_int_eq(h.exit_code, 0x63);
    ck_assert(h_logged(&h, "exit code"));
}
END_TEST

START_TEST(test_config)
{
    struct pdm_cfg_kv kv[] = {{"iobase", "0x501"}, {"iosize", "2"}};
    ck_assert_int_eq(h_add(&h, "debugexit", kv, 2), CAP_OK);
    h_out(&h, 0xf4, 1, 1); /* unclaimed now */
    ck_assert_int_eq(h.power_offs, 0);
    h_out(&h, 0x503, 1, 1); /* past iosize */
    ck_assert_int_eq(h.power_offs, 0);
    h_out(&h, 0x502, 1, 3);
    ck_assert_int_eq(h.exit_code, 7);
}
END_TEST

START_TEST(test_disabled)
{
    struct pdm_cfg_kv kv[] = {{"enabled", "false"}};
    ck_assert_int_eq(h_add(&h, "debugexit", kv, 1), CAP_OK);
    h_out(&h, 0xf4, 1, 1);
    ck_assert_int_eq(h.power_offs, 0);
    ck_assert_uint_eq(h_in(&h, 0xf4, 1), 0xff);
}
END_TEST

START_TEST(test_bad_config)
{
    struct pdm_cfg_kv bad_size[] = {{"iosize", "3"}};
    ck_assert_int_eq(h_add(&h, "debugexit", bad_size, 1), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "iosize"));
    struct pdm_cfg_kv typo[] = {{"iobsae", "0x10"}};
    ck_assert_int_eq(h_add(&h, "debugexit", typo, 1), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "unknown config key 'iobsae'"));
    struct pdm_cfg_kv notbool[] = {{"enabled", "maybe"}};
    ck_assert_int_eq(h_add(&h, "debugexit", notbool, 1), CAP_E_INVALIDARG);
    /* Nothing half-built stays behind: the port is free again. */
    ck_assert(!iom_io_claimed(h.iom, 0xf4));
    ck_assert_int_eq(h_add(&h, "debugexit", NULL, 0), CAP_OK);
    /* One instance only. */
    ck_assert_int_eq(h_add(&h, "debugexit", NULL, 0), CAP_E_INVALIDARG);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dev-debugexit");
    TCase *tc = tcase_create("debugexit");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_write_powers_off);
    tcase_add_test(tc, test_config);
    tcase_add_test(tc, test_disabled);
    tcase_add_test(tc, test_bad_config);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
