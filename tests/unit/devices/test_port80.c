/*
 * tests/unit/devices/test_port80.c - the POST code port, and PDM's saved
 * state and reset paths through it: the SSM stream (vmm/ssm) with the
 * device's named fields, a field missing from an older stream, a unit of
 * a newer version, a stream without the device, units this VM lacks.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <capsule/errorinfo.h>

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

static char path[64];

static void expect_msg(const char *what)
{
    const char *m = cap_error_peek_message();
    ck_assert_msg(m && strstr(m, what), "message '%s' lacks '%s'", m ? m : "(none)", what);
}

/* Saves the devices into `path`, with a unit of the caller's (NULL: none). */
static void save(void (*extra)(struct ssm_writer *w))
{
    struct ssm_writer *w;
    snprintf(path, sizeof path, "/tmp/port80-%d.sav", (int)getpid());
    ck_assert_int_eq(ssm_writer_create(path, "test_port80", &w), CAP_OK);
    ck_assert_int_eq(pdm_save_units(h.pdm, w), CAP_OK);
    if (extra)
        extra(w);
    ck_assert_int_eq(ssm_writer_commit(w, NULL), CAP_OK);
}

static cap_result load(struct ssm_reader **out)
{
    ck_assert_int_eq(ssm_open(path, out), CAP_OK);
    unlink(path);
    return pdm_load_units(h.pdm, *out);
}

START_TEST(test_save_load)
{
    struct ssm_reader *r;
    h_out(&h, 0x80, 1, 0x55);
    save(NULL);
    h_out(&h, 0x80, 1, 0x66);
    ck_assert_int_eq(load(&r), CAP_OK);
    ck_assert_uint_eq(h_in(&h, 0x80, 1), 0x55);
    struct ssm_unit *u;
    ck_assert_int_eq(ssm_find_unit(r, "port80", 0, &u), CAP_OK);
    ck_assert(ssm_has_field(u, "last") && ssm_has_field(u, "seen"));
    ck_assert_uint_eq(ssm_unit_version(u), 1);
    ck_assert_int_eq(ssm_check_all_used(r), CAP_OK);
    ssm_close(r);
    /* The same code again is not logged: "seen" came back. */
    h_out(&h, 0x80, 1, 0x55);
    ck_assert(h_logged(&h, "port800: POST code 0x66\n"));
    ck_assert(!h_logged(&h, "POST code 0x66\nport800: POST code 0x55"));
}
END_TEST

/* A stream from a build whose port80 saved only "last", beside a unit of
 * a device this VM lacks. */
static void older(struct ssm_writer *w)
{
    ck_assert_int_eq(ssm_begin_unit(w, "e1000", 0, 1), CAP_OK);
    ck_assert_int_eq(ssm_end_unit(w), CAP_OK);
}

static void stream_of(unsigned version, bool with_seen, void (*extra)(struct ssm_writer *w))
{
    struct ssm_writer *w;
    snprintf(path, sizeof path, "/tmp/port80-%d.sav", (int)getpid());
    ck_assert_int_eq(ssm_writer_create(path, "older", &w), CAP_OK);
    ck_assert_int_eq(ssm_begin_unit(w, "port80", 0, version), CAP_OK);
    ssm_put_u8(w, "last", 0x42);
    if (with_seen)
        ssm_put_bool(w, "seen", true);
    ck_assert_int_eq(ssm_end_unit(w), CAP_OK);
    if (extra)
        extra(w);
    ck_assert_int_eq(ssm_writer_commit(w, NULL), CAP_OK);
}

START_TEST(test_compat)
{
    struct ssm_reader *r;
    stream_of(1, false, older);
    ck_assert_int_eq(load(&r), CAP_OK);
    ck_assert_uint_eq(h_in(&h, 0x80, 1), 0x42);
    h_out(&h, 0x80, 1, 0x42); /* "seen" defaulted to true: not logged again */
    ck_assert(!h_logged(&h, "POST code 0x42"));
    h_out(&h, 0x80, 1, 0x43);
    ck_assert(h_logged(&h, "POST code 0x43"));
    ck_assert_int_eq(ssm_check_all_used(r), VMM_E_SSM_UNKNOWN_UNIT);
    expect_msg("'e1000' 0");
    ssm_close(r);

    stream_of(2, true, NULL);
    ck_assert_int_eq(load(&r), VMM_E_SSM_VERSION);
    expect_msg("port800: loading saved state failed: saved state: unit 'port80' 0 has version 2, "
               "this build reads 1..1");
    ssm_close(r);

    snprintf(path, sizeof path, "/tmp/port80-%d.sav", (int)getpid());
    struct ssm_writer *w;
    ck_assert_int_eq(ssm_writer_create(path, "empty", &w), CAP_OK);
    ck_assert_int_eq(ssm_writer_commit(w, NULL), CAP_OK);
    ck_assert_int_eq(load(&r), VMM_E_SSM_NOT_FOUND);
    expect_msg("port800: the saved state has no unit 'port80' 0 for this device");
    ssm_close(r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dev-port80");
    TCase *tc = tcase_create("port80");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_post_codes);
    tcase_add_test(tc, test_save_load);
    tcase_add_test(tc, test_compat);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
