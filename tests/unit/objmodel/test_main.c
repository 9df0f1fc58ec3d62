/*
 * test_main.c - the objmodel suite: one Check suite, one test case per topic
 * (mem, uuid, errorinfo, result, typelib, qi, refcount, registry,
 * component, manifest). Each test runs in its own forked process, so a
 * leak or crash in one is reported against that test alone.
 */
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "objmodel_test.h"

const char *take_message(void)
{
    static char buf[4096];
    struct cap_error_info info;
    buf[0] = '\0';
    if (cap_error_take(&info) == 0 && info.message) {
        strncpy(buf, info.message, sizeof(buf) - 1);
        buf[sizeof(buf) - 1] = '\0';
    }
    cap_error_info_clear(&info);
    return buf;
}

int main(void)
{
    Suite *s = suite_create("objmodel");
    suite_add_tcase(s, tcase_mem());
    suite_add_tcase(s, tcase_uuid());
    suite_add_tcase(s, tcase_errorinfo());
    suite_add_tcase(s, tcase_result());
    suite_add_tcase(s, tcase_typelib());
    suite_add_tcase(s, tcase_qi());
    suite_add_tcase(s, tcase_refcount());
    suite_add_tcase(s, tcase_registry());
    suite_add_tcase(s, tcase_component());
    suite_add_tcase(s, tcase_manifest());
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
