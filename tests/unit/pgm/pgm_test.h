/* pgm_test.h - shared by the PGM test files. */
#ifndef PGM_TEST_H
#define PGM_TEST_H
#include <check.h>

TCase *tcase_map(void);
TCase *tcase_phys(void);
TCase *tcase_walk(void);
const char *take_message(void);

#endif
