/*
 * test_bad.c - one case per class of bad IDL (files in bad/): capsule-idlc
 * must exit 1, print "FILE:LINE: message" for every error and nothing
 * else, and leave the output directory empty. Also the usage errors (exit 2)
 * and input/output failures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idlc_test.h"

struct bad_case {
    const char *file; /* under bad/ */
    unsigned line;    /* of the (first) expected error */
    const char *msg;  /* a substring of its message */
    int n_errors;     /* lines on stderr */
};

static const struct bad_case cases[] = {
    {"malformed.xidl", 9, "malformed XML: mismatched tag", 1},
    {"unknown_element.xidl", 9, "unknown element <property>", 1},
    {"misplaced_element.xidl", 7, "<param> is not allowed in <library>", 1},
    {"unknown_attribute.xidl", 9, "unknown attribute 'static' on <method>", 1},
    {"missing_attribute.xidl", 7, "<interface> is missing required attribute 'uuid'", 1},
    {"missing_extends.xidl", 7, "missing required attribute 'extends'", 1},
    {"bad_uuid.xidl", 7, "bad uuid '11111111-2222-3333-4444-00000000000g'", 1},
    {"bad_number.xidl", 7, "bad number '0x1FFFFFFFF'", 1},
    {"bad_version.xidl", 2, "bad version '1'", 1},
    {"bad_name.xidl", 7, "bad name 'Bad-Name' on <enum>", 1},
    {"reserved_name.xidl", 11, "bad name 'class' on <param> (reserved", 1},
    {"unknown_type.xidl", 9, "unknown type 'Frobnicator'", 1},
    {"shadow_name.xidl", 11, "param 'IFoo' has the name of interface 'IFoo' (line 7)", 1},
    {"dup_global.xidl", 10, "duplicate name 'IFoo' (already declared as interface at line 7)", 1},
    {"dup_member.xidl", 13, "duplicate member 'size' (inherited from IFoo, line 9)", 1},
    {"dup_slot.xidl", 10, "member 'setSize' makes the C slot SetSize, as does 'size'", 1},
    {"dup_builtin_slot.xidl", 9, "duplicate member 'release' (inherited from ISupports", 1},
    {"dup_param.xidl", 12, "duplicate param 'x' (first declared at line 11)", 1},
    {"count_clash.xidl", 12, "param 'itemsCount' clashes with the count argument", 1},
    {"dup_const.xidl", 10, "duplicate const 'A' (first declared at line 9)", 1},
    {"empty_enum.xidl", 7, "enum 'E' has no <const>", 1},
    {"dup_uuid.xidl", 10, "duplicate uuid 11111111-2222-3333-4444-000000000001", 1},
    {"missing_desc.xidl", 9, "<method> 'm' has no <desc>", 1},
    {"empty_desc.xidl", 9, "<attribute> 'a' has no <desc>", 1},
    {"unknown_base.xidl", 7, "unknown base interface 'IMissing'", 1},
    {"cyclic_extends.xidl", 7, "cyclic extends: 'IFoo'", 1},
    {"return_not_last.xidl", 11, "the return param must be the last param", 1},
    {"two_returns.xidl", 12, "more than one return param (the first is 'r')", 1},
    {"bad_dir.xidl", 11, "bad dir 'inout' (expected in, out or return)", 1},
    {"class_unknown_iface.xidl", 7, "class 'Thing': unknown interface 'IThing'", 1},
    {"builtin_not_isupports.xidl", 7, "interface 'IFoo' cannot be builtin", 1},
    {"missing_library.xidl", 1, "missing <library>", 1},
    {"multiple_errors.xidl", 7, "<interface> 'IFoo' has no <desc>", 3},
};
#define N_CASES ((int)(sizeof(cases) / sizeof(cases[0])))

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* True if some line of err starts with prefix and contains msg. */
static int has_error(const char *err, const char *prefix, const char *msg)
{
    for (const char *l = err; *l;) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        char *line = strndup(l, len);
        int hit = strncmp(line, prefix, strlen(prefix)) == 0 && strstr(line, msg);
        free(line);
        if (hit)
            return 1;
        l += len + (nl ? 1 : 0);
    }
    return 0;
}

/* Every stderr line is "PATH:LINE: message". */
static void assert_all_located(const char *err, const char *path)
{
    for (const char *l = err; *l;) {
        ck_assert_msg(strncmp(l, path, strlen(path)) == 0 && l[strlen(path)] == ':',
                      "stray stderr line: %s", l);
        const char *nl = strchr(l, '\n');
        l = nl ? nl + 1 : l + strlen(l);
    }
}

START_TEST(bad_idl)
{
    const struct bad_case *c = &cases[_i];
    char *rel = NULL, *path, *dir = make_temp_dir(), *prefix = NULL;
    struct idlc_run r;

    ck_assert_int_ge(asprintf(&rel, "bad/%s", c->file), 0);
    path = src_path(rel);
    idlc_run(&r, (const char *const[]){"--out", dir, path, NULL});
    ck_assert_int_ge(asprintf(&prefix, "%s:%u: ", path, c->line), 0);
    ck_assert_msg(r.status == 1, "%s: exit %d, stderr:\n%s", c->file, r.status, r.err);
    ck_assert_msg(has_error(r.err, prefix, c->msg), "%s: expected '%s%s' in:\n%s", c->file, prefix,
                  c->msg, r.err);
    ck_assert_msg(count_lines(r.err) == c->n_errors, "%s: expected %d errors, got:\n%s", c->file,
                  c->n_errors, r.err);
    assert_all_located(r.err, path);
    ck_assert_str_eq(r.out, "");
    ck_assert_int_eq(dir_entries(dir), 0);
    idlc_run_free(&r);
    rm_tree(dir);
    free(dir);
    free(prefix);
    free(path);
    free(rel);
}
END_TEST

START_TEST(multiple_errors_all_reported)
{
    char *path = src_path("bad/multiple_errors.xidl"), *dir = make_temp_dir(), *p = NULL;
    struct idlc_run r;

    idlc_run(&r, (const char *const[]){"--out", dir, path, NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_int_ge(asprintf(&p, "%s:10: ", path), 0);
    ck_assert(has_error(r.err, p, "unknown type 'Nope'"));
    free(p);
    ck_assert_int_ge(asprintf(&p, "%s:13: ", path), 0);
    ck_assert(has_error(r.err, p, "bad number 'twelve'"));
    free(p);
    ck_assert_int_eq(dir_entries(dir), 0);
    idlc_run_free(&r);
    rm_tree(dir);
    free(dir);
    free(path);
}
END_TEST

START_TEST(usage_errors)
{
    char *golden = src_path("golden.xidl");
    const char *const *bad_args[] = {
        (const char *const[]){NULL},
        (const char *const[]){"--frobnicate", golden, NULL},
        (const char *const[]){golden, golden, NULL},
        (const char *const[]){golden, "--out", NULL},
    };
    struct idlc_run r;

    for (size_t i = 0; i < sizeof(bad_args) / sizeof(bad_args[0]); i++) {
        idlc_run(&r, bad_args[i]);
        ck_assert_msg(r.status == 2, "case %zu: exit %d", i, r.status);
        ck_assert_str_ne(r.err, "");
        idlc_run_free(&r);
    }
    idlc_run(&r, (const char *const[]){"--help", NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "usage: capsule-idlc [--out DIR] FILE.xidl"));
    idlc_run_free(&r);
    free(golden);
}
END_TEST

START_TEST(missing_input)
{
    char *dir = make_temp_dir();
    struct idlc_run r;

    idlc_run(&r, (const char *const[]){"--out", dir, "/nonexistent/x.xidl", NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "/nonexistent/x.xidl: cannot read"));
    ck_assert_int_eq(dir_entries(dir), 0);
    idlc_run_free(&r);
    rm_tree(dir);
    free(dir);
}
END_TEST

Suite *bad_suite(void)
{
    Suite *s = suite_create("bad");
    TCase *tc = tcase_create("bad_idl");

    tcase_add_loop_test(tc, bad_idl, 0, N_CASES);
    tcase_add_test(tc, multiple_errors_all_reported);
    suite_add_tcase(s, tc);
    tc = tcase_create("cli");
    tcase_add_test(tc, usage_errors);
    tcase_add_test(tc, missing_input);
    suite_add_tcase(s, tc);
    return s;
}
