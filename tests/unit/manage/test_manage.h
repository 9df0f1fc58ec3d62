/*
 * tests/unit/manage/test_manage.h - what the CLI's unit suites share.
 */
#ifndef CAPSULE_TEST_MANAGE_H
#define CAPSULE_TEST_MANAGE_H

#include <check.h>
#include <string.h>

#include <capsule/errorinfo.h>

/* Asserts that rc is CAP_E_INVALIDARG with a message containing `part`. */
#define ck_assert_usage_error(rc, part)                                                            \
    do {                                                                                           \
        ck_assert_int_eq((rc), CAP_E_INVALIDARG);                                                  \
        const char *m_ = cap_error_peek_message();                                                 \
        ck_assert_ptr_nonnull(m_);                                                                 \
        ck_assert_msg(strstr(m_, (part)) != NULL, "message '%s' lacks '%s'", m_, (part));          \
        cap_error_clear();                                                                         \
    } while (0)

#endif /* CAPSULE_TEST_MANAGE_H */
