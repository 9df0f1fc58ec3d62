/*
 * test_main.c - the xptcall suite: dynamic calls (cap_xpt_invoke) of every
 * IDL type and direction, their misuse, and dynamic proxies, all against
 * the IAllTypes test library compiled by capsule-idlc.
 *
 * Runs without fork so that ASan's leak check covers every test at exit.
 */
#include <stdlib.h>

#include <capsule/typelib.h>

#include "xpt_test.h"

int main(void)
{
    Suite *s = suite_create("xptcall");
    suite_add_tcase(s, tcase_invoke());
    suite_add_tcase(s, tcase_invoke_misuse());
    suite_add_tcase(s, tcase_proxy());
    suite_add_tcase(s, tcase_proxy_threads());

    if (CAP_FAILED(cap_typelib_register(&captest_typelib)))
        return EXIT_FAILURE;
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    cap_xpt_shutdown();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
