/*
 * test_main.c - the raw suite: the hypervisor area and the raw root
 * (pure), and the engine on the real /dev/kvm. Without a usable /dev/kvm
 * the KVM tests are skipped, counted and said so (tests/lib/testskip.h:
 * "SKIP: raw (on KVM): ..."); the "no native context" error test runs
 * everywhere.
 */
#include <stdlib.h>

#include "raw_test.h"
#include "testskip.h"

int raw_test_kvm;

int main(void)
{
    int need = test_need_kvm("raw (on KVM)");
    if (need < 0)
        return EXIT_FAILURE;
    raw_test_kvm = need;
    Suite *s = suite_create("raw");
    suite_add_tcase(s, tcase_hyp());
    suite_add_tcase(s, tcase_engine());
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
