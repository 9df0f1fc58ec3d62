/*
 * tests/unit/devices/test_port80.c - the POST code port, and PDM's saved
 * state and reset paths through it.
 */
#include <check.h>
#include <stdlib.h>

#include "harness.h"

static struct harness h;

static void setup(void)
{
    h_setup(&h);
    ck_assert_int_eq(h_add(&h, "port80", NULL, 0), CAP_OK);
}

static void teardown(void)
{
    h_teardown(&h);
}

START_TEST(test_post_codes)
{
    h_out(&h, 0x80, 1, 0x12);
    ck_assert_uint_eq(h_in(&h, 0x80, 1), 0x12);
    h_out(&h, 0x80, 1, 0x12);
    h_out(&h, 0x80, 1, 0x34);
    ck_assert(h_logged(&h, "port800: POST code 0x12\nport800: POST code 0x34\n"));
    pdm_reset(h.pdm);
    ck_assert_uint_eq(h_in(&h, 0x80, 1), 0);
}
END_TEST

START_TEST(test_save_load)
{
    void *buf = NULL;
    size_t len = 0;
    h_out(&h, 0x80, 1, 0x55);
    ck_assert_int_eq(pdm_save(h.pdm, &buf, &len), CAP_OK);
    h_out(&h, 0x80, 1, 0x66);
    ck_assert_int_eq(pdm_load(h.pdm, buf, len), CAP_OK);
    ck_assert_uint_eq(h_in(&h, 0x80, 1), 0x55);
    ck_assert_int_eq(pdm_load(h.pdm, buf, len - 1), CAP_E_INVALIDARG); /* truncated */
    free(buf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dev-port80");
    TCase *tc = tcase_create("port80");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_post_codes);
    tcase_add_test(tc, test_save_load);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
