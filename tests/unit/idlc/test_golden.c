/*
 * test_golden.c - capsule-idlc on golden.xidl must write exactly the five
 * checked-in files of golden/, byte for byte, and nothing else.
 *
 * When the compiler's output changes on purpose, regenerate the expected
 * files and review the diff:
 *     build/bin/capsule-idlc --out tests/unit/idlc/golden tests/unit/idlc/golden.xidl
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "idlc_test.h"

static const char *const outputs[] = {"golden.h", "golden_typelib.c", "golden.i", "golden.md",
                                      "golden_doc.json"};
#define N_OUTPUTS (sizeof(outputs) / sizeof(outputs[0]))

/* Compares a generated file with its expected twin, naming the first diff. */
static void assert_same_file(const char *dir, const char *name)
{
    char *got_path = NULL, *exp_rel = NULL, *exp_path;
    size_t got_len = 0, exp_len = 0;

    ck_assert_int_ge(asprintf(&got_path, "%s/%s", dir, name), 0);
    ck_assert_int_ge(asprintf(&exp_rel, "golden/%s", name), 0);
    exp_path = src_path(exp_rel);
    char *got = read_text(got_path, &got_len);
    char *exp = read_text(exp_path, &exp_len);
    ck_assert_msg(got != NULL, "%s was not written", got_path);
    ck_assert_msg(exp != NULL, "%s is missing", exp_path);
    size_t i = 0, line = 1;
    while (i < got_len && i < exp_len && got[i] == exp[i])
        line += got[i++] == '\n';
    ck_assert_msg(got_len == exp_len && i == got_len,
                  "%s differs from %s at line %zu (regenerate golden/ if intended)", got_path,
                  exp_path, line);
    free(got);
    free(exp);
    free(exp_path);
    free(exp_rel);
    free(got_path);
}

START_TEST(golden_outputs)
{
    char *dir = make_temp_dir(), *input = src_path("golden.xidl");
    struct idlc_run r;

    idlc_run(&r, (const char *const[]){"--out", dir, input, NULL});
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_assert_str_eq(r.err, "");
    ck_assert_int_eq(dir_entries(dir), (int)N_OUTPUTS);
    for (size_t i = 0; i < N_OUTPUTS; i++)
        assert_same_file(dir, outputs[i]);
    idlc_run_free(&r);

    /* A second run replaces the files and leaves no temporary behind. */
    idlc_run(&r, (const char *const[]){"--out", dir, input, NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_int_eq(dir_entries(dir), (int)N_OUTPUTS);
    assert_same_file(dir, "golden.h");
    idlc_run_free(&r);
    rm_tree(dir);
    free(dir);
    free(input);
}
END_TEST

START_TEST(creates_out_dir)
{
    char *dir = make_temp_dir(), *input = src_path("golden.xidl"), *sub = NULL;
    struct idlc_run r;

    ck_assert_int_ge(asprintf(&sub, "%s/a/b", dir), 0);
    idlc_run(&r, (const char *const[]){"--out", sub, input, NULL});
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_assert_int_eq(dir_entries(sub), (int)N_OUTPUTS);
    idlc_run_free(&r);
    rm_tree(dir);
    free(dir);
    free(sub);
    free(input);
}
END_TEST

/* An output name taken by a directory: nothing at all may be written. */
START_TEST(unwritable_output)
{
    char *dir = make_temp_dir(), *input = src_path("golden.xidl"), *blocker = NULL;
    struct idlc_run r;

    ck_assert_int_ge(asprintf(&blocker, "%s/golden.md", dir), 0);
    ck_assert_int_eq(mkdir(blocker, 0755), 0);
    idlc_run(&r, (const char *const[]){"--out", dir, input, NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "golden.md"));
    ck_assert_int_eq(dir_entries(dir), 1); /* only the blocker */
    idlc_run_free(&r);

    /* An output "directory" that is a file. */
    char *file = NULL;
    ck_assert_int_ge(asprintf(&file, "%s/golden.md/f", dir), 0);
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    idlc_run(&r, (const char *const[]){"--out", file, input, NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_int_eq(dir_entries(blocker), 1);
    idlc_run_free(&r);
    rm_tree(dir);
    free(file);
    free(dir);
    free(blocker);
    free(input);
}
END_TEST

/* The SWIG file is valid input for swig (skipped where swig is missing). */
START_TEST(swig_accepts_interface)
{
    char *dir = make_temp_dir(), *iface = src_path("golden/golden.i"), *cmd = NULL;

    if (system("command -v swig >/dev/null 2>&1") != 0) {
        fprintf(stderr, "idlc: swig not installed, SWIG check skipped\n");
    } else {
        ck_assert_int_ge(asprintf(&cmd, "swig -python -o %s/golden_wrap.c %s 2>&1", dir, iface), 0);
        ck_assert_msg(system(cmd) == 0, "swig failed: %s", cmd);
    }
    rm_tree(dir);
    free(cmd);
    free(dir);
    free(iface);
}
END_TEST

Suite *golden_suite(void)
{
    Suite *s = suite_create("golden");
    TCase *tc = tcase_create("outputs");

    tcase_add_test(tc, golden_outputs);
    tcase_add_test(tc, creates_out_dir);
    tcase_add_test(tc, unwritable_output);
    tcase_add_test(tc, swig_accepts_interface);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    return s;
}
