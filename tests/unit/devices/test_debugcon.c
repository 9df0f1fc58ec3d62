/*
 * tests/unit/devices/test_debugcon.c - the debug console port: the
 * readback value firmware probes for, guest text into the log line by
 * line, config.
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
}

static void teardown(void)
{
    h_teardown(&h);
}

static void puts_port(uint16_t port, const char *s)
{
    while (*s)
        h_out(&h, port, 1, (uint8_t)*s++);
}

START_TEST(test_readback_and_lines)
{
    ck_assert_int_eq(h_add(&h, "debugcon", NULL, 0), CAP_OK);
    ck_assert_uint_eq(h_in(&h, 0x402, 1), 0xe9); /* SeaBIOS's probe */
    puts_port(0x402, "SeaBIOS (version x)\r");
    ck_assert(!h_logged(&h, "SeaBIOS")); /* not before the newline */
    puts_port(0x402, "\nsecond\x01 line\n");
    ck_assert(h_logged(&h, "SeaBIOS (version x)"));
    ck_assert(h_logged(&h, "second line")); /* control characters dropped */
    h_out(&h, 0x402, 2, 'a' | '\n' << 8);   /* a wider write: bytes in order */
    ck_assert(h_logged(&h, "a"));
}
END_TEST

START_TEST(test_long_line_in_pieces)
{
    ck_assert_int_eq(h_add(&h, "debugcon", NULL, 0), CAP_OK);
    for (int i = 0; i < 250; i++)
        h_out(&h, 0x402, 1, 'x');
    char piece[201];
    memset(piece, 'x', 200);
    piece[200] = '\0';
    ck_assert(h_logged(&h, piece));
}
END_TEST

START_TEST(test_config)
{
    struct pdm_cfg_kv kv[] = {{"iobase", "0xe9"}, {"readback", "0x12"}};
    ck_assert_int_eq(h_add(&h, "debugcon", kv, 2), CAP_OK);
    ck_assert_uint_eq(h_in(&h, 0x402, 1), 0xff); /* unclaimed now */
    ck_assert_uint_eq(h_in(&h, 0xe9, 1), 0x12);
}
END_TEST

START_TEST(test_to_file)
{
    char path[] = "/tmp/capsule-debugcon-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    struct pdm_cfg_kv kv[] = {{"path", path}};
    ck_assert_int_eq(h_add(&h, "debugcon", kv, 1), CAP_OK);
    puts_port(0x402, "one\r\ntwo\x01\n");
    ck_assert(!h_logged(&h, "one"));
    char buf[32] = {0};
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    unlink(path);
    ck_assert_uint_eq(n, 10);
    ck_assert_mem_eq(buf, "one\r\ntwo\x01\n", 10); /* as written */
}
END_TEST

START_TEST(test_bad_config)
{
    struct pdm_cfg_kv bad[] = {{"readback", "256"}};
    ck_assert_int_ne(h_add(&h, "debugcon", bad, 1), CAP_OK);
    struct pdm_cfg_kv nodir[] = {{"path", "/nonexistent/dir/log"}};
    ck_assert_int_eq(h_add(&h, "debugcon", nodir, 1), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "/nonexistent/dir/log"));
    ck_assert_uint_eq(h_in(&h, 0x402, 1), 0xff);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dev-debugcon");
    TCase *tc = tcase_create("debugcon");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_readback_and_lines);
    tcase_add_test(tc, test_long_line_in_pieces);
    tcase_add_test(tc, test_config);
    tcase_add_test(tc, test_bad_config);
    tcase_add_test(tc, test_to_file);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
