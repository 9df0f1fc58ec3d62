/*
 * tests/unit/manage/test_inputargs.c - the arguments of controlvm's
 * keyboard and display actions (plugins/frontends/manage/inputargs.c) and
 * the rest-of-the-line positional they come in (args.c's CLI_POS_REST):
 * hex scancodes, words joined for keyboardputstring, pieces of a long
 * text, setvideomodehint's W H BPP [DISPLAY [ENABLED [X Y]]].
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include <capsule/mem.h>

#include "args.h"
#include "inputargs.h"
#include "test_manage.h"

#define ARGV(...) ((char *[]){__VA_ARGS__, NULL})

START_TEST(test_scancodes)
{
    int32_t c[8];
    ck_assert_int_eq(cli_parse_scancodes(5, ARGV("1e", "9E", "0xe0", "0X4b", "f"), c), CAP_OK);
    ck_assert_int_eq(c[0], 0x1e);
    ck_assert_int_eq(c[1], 0x9e);
    ck_assert_int_eq(c[2], 0xe0);
    ck_assert_int_eq(c[3], 0x4b);
    ck_assert_int_eq(c[4], 0x0f);
    ck_assert_usage_error(cli_parse_scancodes(0, ARGV(NULL), c), "scancodes (HEX...) are missing");
    /* A bad byte names its argument and what it is. */
    ck_assert_usage_error(cli_parse_scancodes(3, ARGV("1e", "9e", "zz"), c),
                          "argument 3 ('zz') is not a scancode");
    ck_assert_usage_error(cli_parse_scancodes(1, ARGV("100"), c), "argument 1 ('100')");
    ck_assert_usage_error(cli_parse_scancodes(1, ARGV(""), c), "argument 1 ('')");
    ck_assert_usage_error(cli_parse_scancodes(1, ARGV("0x"), c), "00 to ff");
    ck_assert_usage_error(cli_parse_scancodes(2, ARGV("1e", "-1"), c), "argument 2 ('-1')");
}
END_TEST

START_TEST(test_words_and_pieces)
{
    char *s = cli_join_words(2, ARGV("Hello,", "World!"));
    ck_assert_str_eq(s, "Hello, World!");
    cap_str_free(s);
    s = cli_join_words(1, ARGV("one"));
    ck_assert_str_eq(s, "one");
    cap_str_free(s);
    s = cli_join_words(3, ARGV("", "a", ""));
    ck_assert_str_eq(s, " a ");
    cap_str_free(s);
    s = cli_join_words(0, ARGV(NULL));
    ck_assert_str_eq(s, "");
    cap_str_free(s);
    /* Pieces: all of a short text; a long one cut at max, never inside a
     * UTF-8 character. */
    ck_assert_uint_eq(cli_text_piece("abc", 3), 3);
    ck_assert_uint_eq(cli_text_piece("abcdef", 4), 4);
    ck_assert_uint_eq(cli_text_piece("", 4), 0);
    ck_assert_uint_eq(cli_text_piece("ab\xc3\xa9z", 3), 2); /* "é" starts at 2 */
    ck_assert_uint_eq(cli_text_piece("ab\xc3\xa9z", 4), 4);
}
END_TEST

START_TEST(test_video_hint_values)
{
    struct cli_video_hint h;
    ck_assert_int_eq(cli_parse_video_hint(3, ARGV("1024", "768", "32"), &h), CAP_OK);
    ck_assert_uint_eq(h.width, 1024);
    ck_assert_uint_eq(h.height, 768);
    ck_assert_uint_eq(h.bpp, 32);
    ck_assert_uint_eq(h.display, 0);
    ck_assert_int_eq(h.enabled, 1);
    ck_assert_int_eq(h.change_origin, 0);
    ck_assert_int_eq(cli_parse_video_hint(7, ARGV("800", "600", "16", "0", "no", "-10", "20"), &h),
                     CAP_OK);
    ck_assert_uint_eq(h.bpp, 16);
    ck_assert_int_eq(h.enabled, 0);
    ck_assert_int_eq(h.change_origin, 1);
    ck_assert_int_eq(h.x, -10);
    ck_assert_int_eq(h.y, 20);
    ck_assert_int_eq(cli_parse_video_hint(5, ARGV("800", "600", "24", "1", "on"), &h), CAP_OK);
    ck_assert_uint_eq(h.display, 1);
    ck_assert_int_eq(h.enabled, 1);

    ck_assert_usage_error(cli_parse_video_hint(0, ARGV(NULL), &h), "the width is missing");
    ck_assert_usage_error(cli_parse_video_hint(2, ARGV("1", "2"), &h), "the depth is missing");
    ck_assert_usage_error(cli_parse_video_hint(3, ARGV("wide", "600", "32"), &h),
                          "setvideomodehint W: 'wide' is not a number");
    ck_assert_usage_error(cli_parse_video_hint(3, ARGV("800", "0", "32"), &h),
                          "setvideomodehint H: '0'");
    ck_assert_usage_error(cli_parse_video_hint(3, ARGV("800", "600", "12"), &h),
                          "'12' is not a depth (8, 15, 16, 24 or 32)");
    ck_assert_usage_error(cli_parse_video_hint(5, ARGV("800", "600", "32", "0", "maybe"), &h),
                          "ENABLED: expected on or off, not 'maybe'");
    ck_assert_usage_error(cli_parse_video_hint(6, ARGV("800", "600", "32", "0", "yes", "5"), &h),
                          "needs X and Y, '5' is alone");
    ck_assert_usage_error(
        cli_parse_video_hint(7, ARGV("800", "600", "32", "0", "yes", "5", "y"), &h),
        "setvideomodehint Y: 'y' is not a position");
    ck_assert_usage_error(
        cli_parse_video_hint(8, ARGV("800", "600", "32", "0", "yes", "5", "6", "7"), &h),
        "unexpected argument '7'");
}
END_TEST

/* CLI_POS_REST: everything from its place on, options or not. */
struct r_args {
    const char *vm;
    int flag;
    struct cli_rest rest;
};

static const struct cli_arg r_table[] = {
    CLI_POS("VM", struct r_args, vm, "no VM!", NULL),
    CLI_FLAG("--flag", struct r_args, flag, NULL),
    CLI_POS_REST("ARG...", struct r_args, rest, "the rest"),
    CLI_ARGS_END,
};

START_TEST(test_rest)
{
    struct r_args a;
    memset(&a, 0, sizeof(a));
    char **v = ARGV("--flag", "vm", "a", "--flag", "-x", "b");
    ck_assert_int_eq(cli_args_parse(r_table, 6, v, &a, NULL), CAP_OK);
    ck_assert_str_eq(a.vm, "vm");
    ck_assert_int_eq(a.flag, 1);
    ck_assert_int_eq(a.rest.n, 4);
    ck_assert_ptr_eq(a.rest.v, v + 2);
    ck_assert_str_eq(a.rest.v[1], "--flag");
    ck_assert_str_eq(a.rest.v[3], "b");
    memset(&a, 0, sizeof(a));
    ck_assert_int_eq(cli_args_parse(r_table, 1, ARGV("vm"), &a, NULL), CAP_OK);
    ck_assert_int_eq(a.rest.n, 0);
    /* after "--", the rest starts at the first word past it */
    memset(&a, 0, sizeof(a));
    /* the words outlive the check: a.rest points into them */
    char **w = ARGV("vm", "--", "-x");
    ck_assert_int_eq(cli_args_parse(r_table, 3, w, &a, NULL), CAP_OK);
    ck_assert_int_eq(a.rest.n, 1);
    ck_assert_str_eq(a.rest.v[0], "-x");
    /* the synopsis shows it as optional */
    char buf[256] = "";
    FILE *f = fmemopen(buf, sizeof(buf), "w");
    cli_args_synopsis(f, "cmd", r_table);
    fclose(f);
    ck_assert_msg(strstr(buf, "[ARG...]") != NULL, "synopsis: %s", buf);
}
END_TEST

Suite *inputargs_suite(void);
Suite *inputargs_suite(void)
{
    Suite *s = suite_create("manage-inputargs");
    TCase *tc = tcase_create("inputargs");
    tcase_add_test(tc, test_scancodes);
    tcase_add_test(tc, test_words_and_pieces);
    tcase_add_test(tc, test_video_hint_values);
    tcase_add_test(tc, test_rest);
    suite_add_tcase(s, tc);
    return s;
}
