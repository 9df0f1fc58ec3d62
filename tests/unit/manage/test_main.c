/*
 * tests/unit/manage/test_main.c - runs the capsule CLI's unit suites: its
 * parsing module (test_opts.c), its declarative arguments (test_args.c)
 * and the input actions' arguments (test_inputargs.c).
 */
#include <check.h>
#include <stdlib.h>

Suite *opts_suite(void);
Suite *args_suite(void);
Suite *inputargs_suite(void);
Suite *netargs_suite(void);

int main(void)
{
    SRunner *sr = srunner_create(opts_suite());
    srunner_add_suite(sr, args_suite());
    srunner_add_suite(sr, inputargs_suite());
    srunner_add_suite(sr, netargs_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
