/*
 * test_main.c - the capsule-idlc test program: golden outputs, one case per
 * class of bad IDL, and the generated typelib of golden.xidl compiled in and
 * inspected from C.
 */
#include <stdlib.h>

#include "idlc_test.h"

int main(void)
{
    SRunner *sr = srunner_create(golden_suite());

    srunner_add_suite(sr, bad_suite());
    srunner_add_suite(sr, typelib_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
