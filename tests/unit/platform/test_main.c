/*
 * test_main.c - vmm/platform's suite: the AML encoder, the ACPI tables and
 * their loader script, the script runner, SMBIOS, the layout and device
 * table (platform.h).
 */
#include <stdlib.h>

#include "platform_test.h"

int main(void)
{
    Suite *s = suite_create("platform");
    suite_add_tcase(s, tcase_aml());
    suite_add_tcase(s, tcase_acpi());
    suite_add_tcase(s, tcase_loader());
    suite_add_tcase(s, tcase_smbios());
    suite_add_tcase(s, tcase_layout());
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
