/*
 * tests/unit/web/test_main.c - runs capsule-web's unit suites: JSON, the
 * session table, the OpenAPI document.
 */
#include <stdlib.h>

#include "test_web.h"

int main(void)
{
    SRunner *sr = srunner_create(json_suite());
    srunner_add_suite(sr, session_suite());
    srunner_add_suite(sr, openapi_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
