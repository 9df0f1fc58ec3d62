/* tests/unit/web/test_web.h - the suites of capsule-web's unit tests. */
#ifndef TEST_WEB_H
#define TEST_WEB_H

#include <check.h>

Suite *json_suite(void);
Suite *session_suite(void);
Suite *openapi_suite(void);

#endif
