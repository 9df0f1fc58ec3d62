/*
 * objmodel_test.h - the test cases of the objmodel suite, one per topic,
 * and the sample object several of them share.
 */
#ifndef OBJMODEL_TEST_H
#define OBJMODEL_TEST_H

#include <check.h>

#include "testifaces.h"

TCase *tcase_mem(void);
TCase *tcase_uuid(void);
TCase *tcase_errorinfo(void);
TCase *tcase_result(void);
TCase *tcase_typelib(void);
TCase *tcase_qi(void);
TCase *tcase_refcount(void);
TCase *tcase_registry(void);
TCase *tcase_component(void);
TCase *tcase_manifest(void);

/*
 * sample.c: an object implementing ICounter (primary) and INamed. Created
 * with a count of 1. *destroyed (if not NULL) is incremented when it dies.
 */
struct sample;
cap_result sample_create(int *destroyed, ICounter **out);
uint32_t sample_refcount(ICounter *iface);

/* Returns the error info message of the calling thread (copied into a
 * static buffer) and clears it; "" if none. */
const char *take_message(void);

#endif /* OBJMODEL_TEST_H */
