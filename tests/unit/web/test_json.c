/*
 * tests/unit/web/test_json.c - capsule-web's JSON (plugins/frontends/web/
 * json.c): the parser's values, numbers, strings and refusals, and the
 * writer's escaping, checked by reading its output back.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_web.h"
#include "web.h"

static struct wj *parse(const char *text)
{
    char err[128];
    return wj_parse(text, strlen(text), err, sizeof(err));
}

/* The parser's message for text, which must be refused. */
static const char *refused(const char *text)
{
    static char err[128];
    struct wj *v = wj_parse(text, strlen(text), err, sizeof(err));
    ck_assert_msg(v == NULL, "'%s' was accepted", text);
    return err;
}

START_TEST(test_values)
{
    struct wj *v = parse(" {\"b\":true,\"n\":null,\"a\":[1,\"x\",{}],\"f\":false} ");
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(v->type, WJ_OBJ);
    ck_assert_uint_eq(v->n, 4);
    ck_assert_str_eq(v->keys[0], "b"); /* members keep their order */
    ck_assert_str_eq(v->keys[3], "f");
    ck_assert_int_eq(wj_get(v, "b")->b, 1);
    ck_assert_int_eq(wj_get(v, "f")->b, 0);
    ck_assert_int_eq(wj_get(v, "n")->type, WJ_NULL);
    const struct wj *a = wj_get(v, "a");
    ck_assert_int_eq(a->type, WJ_ARR);
    ck_assert_uint_eq(a->n, 3);
    ck_assert_str_eq(a->items[1]->str, "x");
    ck_assert_int_eq(a->items[2]->type, WJ_OBJ);
    ck_assert_ptr_null(wj_get(v, "missing"));
    ck_assert_ptr_null(wj_get(a, "b")); /* not an object */
    wj_free(v);
    ck_assert_str_eq(wj_type_name(WJ_STR), "string");
}
END_TEST

START_TEST(test_numbers)
{
    struct wj *v = parse("[-9223372036854775808, 18446744073709551615, 9223372036854775808, "
                         "1.5, 1e3, 0, -0, 18446744073709551616]");
    ck_assert_ptr_nonnull(v);
    struct wj **n = v->items;
    ck_assert(n[0]->is_int && n[0]->i == INT64_MIN && !n[0]->is_uint);
    ck_assert(n[1]->is_uint && n[1]->u == UINT64_MAX && !n[1]->is_int);
    ck_assert(n[2]->is_uint && !n[2]->is_int);
    ck_assert(!n[3]->is_int && n[3]->num == 1.5);
    ck_assert(!n[4]->is_int && n[4]->num == 1000.0); /* an exponent is not an integer */
    ck_assert(n[5]->is_int && n[5]->i == 0 && n[5]->is_uint);
    ck_assert(n[6]->is_int && n[6]->i == 0);
    ck_assert(!n[7]->is_int && !n[7]->is_uint); /* beyond 2^64-1: only a double */
    wj_free(v);
    refused("01");
    refused("1.");
    refused("-");
    refused("1e");
    refused("+1");
}
END_TEST

START_TEST(test_strings)
{
    struct wj *v =
        parse("[\"a\\\"b\\\\c\\/\\n\\t\", \"\\u00e9\", \"\\ud83d\\ude00\", \"\xc3\xa9\"]");
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v->items[0]->str, "a\"b\\c/\n\t");
    ck_assert_str_eq(v->items[1]->str, "\xc3\xa9");
    ck_assert_str_eq(v->items[2]->str, "\xf0\x9f\x98\x80");
    ck_assert_str_eq(v->items[3]->str, "\xc3\xa9");
    wj_free(v);
    ck_assert_ptr_nonnull(strstr(refused("\"\\u0000\""), "NUL"));
    ck_assert_ptr_nonnull(strstr(refused("\"\\ud83d\""), "surrogate"));
    ck_assert_ptr_nonnull(strstr(refused("\"\\ude00\""), "surrogate"));
    ck_assert_ptr_nonnull(strstr(refused("\"a\nb\""), "control character"));
    ck_assert_ptr_nonnull(strstr(refused("\"\xc3\""), "UTF-8"));
    ck_assert_ptr_nonnull(strstr(refused("\"\xed\xa0\x80\""), "UTF-8")); /* an encoded surrogate */
    ck_assert_ptr_nonnull(strstr(refused("\"\xc0\xaf\""), "UTF-8"));     /* overlong */
    ck_assert_ptr_nonnull(strstr(refused("\"\\x\""), "bad escape"));
    ck_assert_ptr_nonnull(strstr(refused("\"abc"), "unterminated"));
}
END_TEST

START_TEST(test_refusals)
{
    ck_assert_str_eq(refused("{\"a\":1} x"), "offset 8: text after the value");
    ck_assert_str_eq(refused(""), "offset 0: expected a value");
    ck_assert_str_eq(refused("{\"a\":"), "offset 5: expected a value");
    ck_assert_ptr_nonnull(strstr(refused("[1,]"), "unexpected character"));
    ck_assert_ptr_nonnull(strstr(refused("{\"a\" 1}"), "expected ':'"));
    ck_assert_ptr_nonnull(strstr(refused("{a:1}"), "member name"));
    ck_assert_ptr_nonnull(strstr(refused("[1 2]"), "expected ',' or ']'"));
    ck_assert_ptr_nonnull(strstr(refused("tru"), "unexpected character"));
    ck_assert_ptr_nonnull(strstr(refused(".5"), "unexpected character"));
    /* Depth: 64 nested arrays parse, 65 do not. */
    char deep[2 * (WJ_MAX_DEPTH + 2) + 1];
    for (int depth = WJ_MAX_DEPTH; depth <= WJ_MAX_DEPTH + 1; depth++) {
        memset(deep, '[', (size_t)depth);
        memset(deep + depth, ']', (size_t)depth);
        deep[2 * depth] = 0;
        char err[128];
        struct wj *v = wj_parse(deep, strlen(deep), err, sizeof(err));
        if (depth == WJ_MAX_DEPTH)
            ck_assert_msg(v != NULL, "depth %d: %s", depth, err);
        else
            ck_assert_ptr_nonnull(strstr(err, "nested too deeply"));
        wj_free(v);
    }
}
END_TEST

START_TEST(test_write)
{
    struct wbuf b = {0};
    wb_puts(&b, "[");
    wb_str(&b, "q\"b\\n\n<a>&\x01\x7f");
    wb_puts(&b, ",");
    wb_str(&b, "bad\xff\xc3(end");
    wb_puts(&b, ",");
    wb_str(&b, NULL);
    wb_printf(&b, ",%d]", 42);
    char *text = wb_take(&b);
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_null(b.p);
    ck_assert_str_eq(text, "[\"q\\\"b\\\\n\\n\\u003ca\\u003e\\u0026\\u0001\\u007f\","
                           "\"bad\\ufffd\\ufffd(end\",null,42]");
    /* What it writes reads back. */
    struct wj *v = parse(text);
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v->items[0]->str, "q\"b\\n\n<a>&\x01\x7f");
    ck_assert_str_eq(v->items[1]->str, "bad\xef\xbf\xbd\xef\xbf\xbd(end");
    ck_assert_int_eq(v->items[2]->type, WJ_NULL);
    wj_free(v);
    free(text);
    text = wb_take(&b); /* an empty buffer gives "" */
    ck_assert_str_eq(text, "");
    free(text);
}
END_TEST

Suite *json_suite(void)
{
    Suite *s = suite_create("web-json");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, test_values);
    tcase_add_test(tc, test_numbers);
    tcase_add_test(tc, test_strings);
    tcase_add_test(tc, test_refusals);
    suite_add_tcase(s, tc);
    tc = tcase_create("write");
    tcase_add_test(tc, test_write);
    suite_add_tcase(s, tc);
    return s;
}
