/*
 * tests/unit/manage/test_main.c - runs the capsule CLI's unit suite.
 */
#include <check.h>
#include <stdlib.h>

Suite *opts_suite(void);

int main(void)
{
    SRunner *sr = srunner_create(opts_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
