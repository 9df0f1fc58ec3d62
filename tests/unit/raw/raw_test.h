/* raw_test.h - shared by the raw test files. */
#ifndef RAW_TEST_H
#define RAW_TEST_H
#include <check.h>

TCase *tcase_hyp(void);
TCase *tcase_engine(void);
/* Whether the KVM part runs (tests/lib/testskip.h's answer, taken in main). */
extern int raw_test_kvm;

#endif
