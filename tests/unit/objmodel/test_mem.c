/*
 * test_mem.c - the mem and uuid topics: allocation, strings, arrays of every
 * element type, element sizes; UUID round trips and every malformed form.
 */
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/result.h>
#include <capsule/uuid.h>

#include "objmodel_test.h"

/* ---- mem ---------------------------------------------------------------- */

START_TEST(alloc_zero_is_unique)
{
    void *a = cap_alloc(0), *b = cap_alloc(0), *c = cap_alloc_zero(0);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_ne(a, b);
    void *d = cap_realloc(a, 0);
    ck_assert_ptr_nonnull(d);
    cap_free(d);
    cap_free(b);
    cap_free(c);
    cap_free(NULL);
}
END_TEST

START_TEST(alloc_zeroed)
{
    unsigned char *p = cap_alloc_zero(64);
    ck_assert_ptr_nonnull(p);
    for (int i = 0; i < 64; i++)
        ck_assert_int_eq(p[i], 0);
    p = cap_realloc(p, 4096);
    ck_assert_ptr_nonnull(p);
    cap_free(p);
}
END_TEST

START_TEST(strings)
{
    ck_assert_ptr_null(cap_str_dup(NULL));
    ck_assert_ptr_null(cap_str_ndup(NULL, 3));
    char *s = cap_str_dup("hello");
    ck_assert_str_eq(s, "hello");
    cap_str_free(s);
    s = cap_str_ndup("hello", 3);
    ck_assert_str_eq(s, "hel");
    cap_str_free(s);
    s = cap_str_ndup("hi", 10);
    ck_assert_str_eq(s, "hi");
    cap_str_free(s);
    s = cap_str_printf("%s-%d", "vm", 42);
    ck_assert_str_eq(s, "vm-42");
    cap_str_free(s);
    s = cap_str_printf("%s", "");
    ck_assert_str_eq(s, "");
    cap_str_free(s);
    cap_str_free(NULL);
}
END_TEST

START_TEST(type_sizes)
{
    ck_assert_uint_eq(cap_tl_type_size(CAP_TLT_VOID), 0);
    ck_assert_uint_eq(cap_tl_type_size(CAP_TLT_BOOL), sizeof(cap_bool));
    ck_assert_uint_eq(cap_tl_type_size(CAP_TLT_OCTET), 1);
    ck_assert_uint_eq(cap_tl_type_size(CAP_TLT_SHORT), 2);
    ck_assert_uint_eq(cap_tl_type_size(CAP_TLT_USHORT), 2);
    ck_assert_uint_eq(cap_tl_type_size(CAP_TLT_LONG), 4);
    ck_assert_uint_eq(cap_tl_type_size(CAP_TLT_ULONG), 4);
    ck_assert_uint_eq(cap_tl_type_size(CAP_TLT_LONGLONG), 8);
    ck_assert_uint_eq(cap_tl_type_size(CAP_TLT_ULONGLONG), 8);
    ck_assert_uint_eq(cap_tl_type_size(CAP_TLT_DOUBLE), sizeof(double));
    ck_assert_uint_eq(cap_tl_type_size(CAP_TLT_STRING), sizeof(char *));
    ck_assert_uint_eq(cap_tl_type_size(CAP_TLT_UUID), sizeof(cap_uuid));
    ck_assert_uint_eq(cap_tl_type_size(CAP_TLT_ENUM), sizeof(int32_t));
    ck_assert_uint_eq(cap_tl_type_size(CAP_TLT_IFACE), sizeof(void *));
    ck_assert_uint_eq(cap_tl_type_size(CAP_TLT_COUNT_), 0);
    ck_assert_uint_eq(cap_tl_type_size(200), 0);
}
END_TEST

START_TEST(array_free_every_type)
{
    /* Scalars: just the block. */
    for (uint8_t t = CAP_TLT_BOOL; t < CAP_TLT_COUNT_; t++) {
        if (t == CAP_TLT_STRING || t == CAP_TLT_IFACE)
            continue;
        void *a = cap_alloc_zero(3 * cap_tl_type_size(t));
        cap_array_free(t, 3, a);
    }
    /* Strings: each element freed (ASan would report a leak otherwise). */
    char **s = cap_alloc(3 * sizeof(*s));
    s[0] = cap_str_dup("a");
    s[1] = NULL;
    s[2] = cap_str_dup("c");
    cap_array_free(CAP_TLT_STRING, 3, s);
    /* Interfaces: each element Released, NULLs skipped. */
    int destroyed = 0;
    ICounter *o1, *o2;
    ck_assert_int_eq(sample_create(&destroyed, &o1), CAP_OK);
    ck_assert_int_eq(sample_create(&destroyed, &o2), CAP_OK);
    ICounter **p = cap_alloc(3 * sizeof(*p));
    p[0] = o1;
    p[1] = NULL;
    p[2] = o2;
    cap_array_free(CAP_TLT_IFACE, 3, p);
    ck_assert_int_eq(destroyed, 2);
    cap_array_free(CAP_TLT_STRING, 0, NULL);
}
END_TEST

TCase *tcase_mem(void)
{
    TCase *tc = tcase_create("mem");
    tcase_add_test(tc, alloc_zero_is_unique);
    tcase_add_test(tc, alloc_zeroed);
    tcase_add_test(tc, strings);
    tcase_add_test(tc, type_sizes);
    tcase_add_test(tc, array_free_every_type);
    return tc;
}

/* ---- uuid --------------------------------------------------------------- */

START_TEST(uuid_round_trip)
{
    static const char *const texts[] = {
        "00000000-0000-0000-c000-000000000046",
        "01234567-89ab-cdef-0123-456789abcdef",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
        "00000000-0000-0000-0000-000000000000",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        cap_uuid u;
        char buf[CAP_UUID_BUFSIZE];
        ck_assert_int_eq(cap_uuid_parse(texts[i], &u), CAP_OK);
        ck_assert_str_eq(cap_uuid_format(&u, buf), texts[i]);
    }
    cap_uuid a, b;
    ck_assert_int_eq(cap_uuid_parse("{01234567-89AB-CDEF-0123-456789ABCDEF}", &a), CAP_OK);
    ck_assert_int_eq(cap_uuid_parse("01234567-89ab-cdef-0123-456789abcdef", &b), CAP_OK);
    ck_assert(cap_uuid_equal(&a, &b));
    ck_assert_int_eq(a.b[0], 0x01);
    ck_assert_int_eq(a.b[15], 0xef);
    ck_assert_int_eq(cap_uuid_parse(CAP_IID_ISUPPORTS_STR, &a), CAP_OK);
    ck_assert(cap_uuid_equal(&a, &IID_ISupports));
    ck_assert(!cap_uuid_is_null(&a));
    ck_assert(cap_uuid_is_null(NULL));
}
END_TEST

static const char *const bad_uuids[] = {
    "",
    "0",
    "01234567-89ab-cdef-0123-456789abcde",    /* one short */
    "01234567-89ab-cdef-0123-456789abcdef0",  /* one long */
    "01234567-89ab-cdef-0123-456789abcdeg",   /* not hex */
    "0123456789ab-cdef-0123-456789abcdef00",  /* dash misplaced */
    "01234567_89ab-cdef-0123-456789abcdef",   /* wrong separator */
    "01234567-89ab-cdef-0123_456789abcdef",   /* wrong last separator */
    " 01234567-89ab-cdef-0123-456789abcde",   /* leading space */
    "01234567-89ab-cdef-0123-456789abcde ",   /* trailing space */
    "{01234567-89ab-cdef-0123-456789abcdef",  /* no closing brace */
    "01234567-89ab-cdef-0123-456789abcdef}",  /* no opening brace */
    "{01234567-89ab-cdef-0123-456789abcdef)", /* wrong closing brace */
    "{01234567-89ab-cdef-0123-456789abcde}",  /* braced, short */
    "{{01234567-89ab-cdef-0123-456789abcdef}}",
    "0x234567-89ab-cdef-0123-456789abcdef",
    "01234567-89ab-cdef-0123-456789abcd\xc3\xa9", /* UTF-8 in place of hex */
    "+1234567-89ab-cdef-0123-456789abcdef",
    "01234567-89ab-cdef-0123-45678\0abcdef", /* embedded NUL: too short */
};

START_TEST(uuid_malformed)
{
    const char *text = bad_uuids[_i];
    cap_uuid u;
    memset(&u, 0xaa, sizeof(u));
    cap_error_clear();
    ck_assert_int_eq(cap_uuid_parse(text, &u), CAP_E_INVALIDARG);
    ck_assert(cap_uuid_is_null(&u));
    struct cap_error_info info;
    ck_assert_int_eq(cap_error_take(&info), CAP_OK);
    ck_assert_int_eq(info.result, CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(info.message, "malformed UUID"));
    ck_assert_str_eq(info.component, "objmodel");
    cap_error_info_clear(&info);
}
END_TEST

START_TEST(uuid_null_args)
{
    cap_uuid u;
    ck_assert_int_eq(cap_uuid_parse(NULL, &u), CAP_E_POINTER);
    ck_assert_int_eq(cap_uuid_parse(CAP_IID_ISUPPORTS_STR, NULL), CAP_E_POINTER);
    cap_error_clear();
}
END_TEST

START_TEST(uuid_generate_v4)
{
    cap_uuid a, b;
    ck_assert_int_eq(cap_uuid_generate(&a), CAP_OK);
    ck_assert_int_eq(cap_uuid_generate(&b), CAP_OK);
    ck_assert(!cap_uuid_equal(&a, &b));
    ck_assert_int_eq(a.b[6] >> 4, 4);
    ck_assert_int_eq(a.b[8] & 0xc0, 0x80);
    char buf[CAP_UUID_BUFSIZE];
    cap_uuid c;
    ck_assert_int_eq(cap_uuid_parse(cap_uuid_format(&a, buf), &c), CAP_OK);
    ck_assert(cap_uuid_equal(&a, &c));
    ck_assert_int_eq(buf[14], '4');
}
END_TEST

TCase *tcase_uuid(void)
{
    TCase *tc = tcase_create("uuid");
    tcase_add_test(tc, uuid_round_trip);
    tcase_add_loop_test(tc, uuid_malformed, 0, sizeof(bad_uuids) / sizeof(bad_uuids[0]));
    tcase_add_test(tc, uuid_null_args);
    tcase_add_test(tc, uuid_generate_v4);
    return tc;
}
