/*
 * test_invoke.c - cap_xpt_invoke(): every type in every direction through
 * struct cap_xpt_value, inherited slots, QueryInterface, failures with their
 * error info, and every kind of misuse (which must fail cleanly with error
 * info and never reach the object).
 */
#include <stdio.h>
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/uuid.h>

#include "xpt_test.h"

#define TL (&cap_tl_IAllTypes)

/* Invokes `name` on o with the given values; returns the method's result. */
static cap_result call(IAllTypes *o, const char *name, struct cap_xpt_value *v, uint32_t n)
{
    return cap_xpt_invoke(o, TL, slot_of(TL, name), v, n);
}

/* One scalar echo: method, its type, an input and the expected `b`. */
struct scalar_case {
    const char *method;
    uint8_t type;
    struct cap_xpt_value a, b;
};

static const struct scalar_case scalar_cases[] = {
    {"echoBool", CAP_TLT_BOOL, {.b = 1}, {.b = 0}},
    {"echoOctet", CAP_TLT_OCTET, {.u8 = 0x0f}, {.u8 = 0xf0}},
    {"echoShort", CAP_TLT_SHORT, {.i16 = -2}, {.i16 = 1}},
    {"echoUShort", CAP_TLT_USHORT, {.u16 = 0x1234}, {.u16 = 0xedcb}},
    {"echoLong", CAP_TLT_LONG, {.i32 = -1000000}, {.i32 = 999999}},
    {"echoULong", CAP_TLT_ULONG, {.u32 = 0x80000000u}, {.u32 = 0x7fffffffu}},
    {"echoLongLong", CAP_TLT_LONGLONG, {.i64 = INT64_MIN}, {.i64 = INT64_MAX}},
    {"echoULongLong", CAP_TLT_ULONGLONG, {.u64 = 1}, {.u64 = UINT64_MAX - 1}},
    {"echoDouble", CAP_TLT_DOUBLE, {.d = -0.125}, {.d = 0.25}},
    {"echoColor", CAP_TLT_ENUM, {.enm = Color_Green}, {.enm = Color_Blue}},
};

START_TEST(invoke_scalars)
{
    IAllTypes *o = alltypes_new();
    for (size_t i = 0; i < sizeof(scalar_cases) / sizeof(scalar_cases[0]); i++) {
        const struct scalar_case *c = &scalar_cases[i];
        size_t size = cap_tl_type_size(c->type);
        struct cap_xpt_value v[3];
        memset(v, 0x5a, sizeof(v)); /* out values must be zeroed by the call */
        v[0] = c->a;
        ck_assert_int_eq(call(o, c->method, v, 3), CAP_OK);
        ck_assert_msg(memcmp(&v[1], &c->b, size) == 0, "%s: b", c->method);
        ck_assert_msg(memcmp(&v[2], &c->a, size) == 0, "%s: r", c->method);

        /* The array variant, against the scalar one element by element. */
        char name[64];
        snprintf(name, sizeof(name), "%sArray", c->method);
        uint8_t items[3 * 8];
        const struct cap_xpt_value *src[3] = {&c->a, &c->b, &scalar_cases[0].a};
        for (int k = 0; k < 3; k++)
            memcpy(items + k * size, src[k], size);
        struct cap_xpt_value av[3] = {{.arr = {3, items}}};
        ck_assert_int_eq(call(o, name, av, 3), CAP_OK);
        ck_assert_uint_eq(av[1].arr.count, 3);
        ck_assert_uint_eq(av[2].arr.count, 3);
        ck_assert(memcmp(av[2].arr.items, items, 3 * size) == 0);
        for (int k = 0; k < 3; k++) {
            struct cap_xpt_value sv[3] = {};
            memcpy(&sv[0], items + (2 - k) * size, size);
            ck_assert_int_eq(call(o, c->method, sv, 3), CAP_OK);
            ck_assert_msg(memcmp((uint8_t *)av[1].arr.items + k * size, &sv[1], size) == 0,
                          "%s[%d]", name, k);
        }
        cap_xpt_values_clear(cap_tl_method_at(TL, slot_of(TL, name)), av, CAP_XPT_CLEAR_OUT);
        ck_assert_ptr_null(av[1].arr.items);
    }
    CAP_RELEASE(o);
    ck_assert_uint_eq(alltypes_live(), 0);
}
END_TEST

START_TEST(invoke_strings_uuids)
{
    IAllTypes *o = alltypes_new();
    struct cap_xpt_value v[3] = {{.cstr = "abc\xe2\x82\xac"}};
    ck_assert_int_eq(call(o, "echoString", v, 3), CAP_OK);
    ck_assert_str_eq(v[1].str, "\xac\x82\xe2"
                               "cba");
    ck_assert_str_eq(v[2].str, "abc\xe2\x82\xac");
    ck_assert_ptr_ne(v[2].str, v[0].str);
    cap_xpt_values_clear(cap_tl_method_at(TL, slot_of(TL, "echoString")), v, CAP_XPT_CLEAR_OUT);

    v[0].cstr = NULL;
    ck_assert_int_eq(call(o, "echoString", v, 3), CAP_OK);
    ck_assert_ptr_null(v[1].str);
    ck_assert_ptr_null(v[2].str);

    const char *strs[2] = {"left", "right"};
    struct cap_xpt_value sa[3] = {{.arr = {2, (void *)strs}}};
    ck_assert_int_eq(call(o, "echoStringArray", sa, 3), CAP_OK);
    ck_assert_str_eq(((char **)sa[1].arr.items)[0], "thgir");
    ck_assert_str_eq(((char **)sa[2].arr.items)[1], "right");
    cap_xpt_values_clear(cap_tl_method_at(TL, slot_of(TL, "echoStringArray")), sa,
                         CAP_XPT_CLEAR_OUT);

    struct cap_xpt_value u[3] = {{.uuid = alltypes_id}};
    cap_uuid rev;
    alltypes_reverse_uuid(&alltypes_id, &rev);
    ck_assert_int_eq(call(o, "echoUuid", u, 3), CAP_OK);
    ck_assert(cap_uuid_equal(&u[1].uuid, &rev));
    ck_assert(cap_uuid_equal(&u[2].uuid, &alltypes_id));

    cap_uuid ids[2] = {alltypes_id, rev};
    struct cap_xpt_value ua[3] = {{.arr = {2, ids}}};
    ck_assert_int_eq(call(o, "echoUuidArray", ua, 3), CAP_OK);
    ck_assert(cap_uuid_equal(&((cap_uuid *)ua[1].arr.items)[0], &alltypes_id));
    ck_assert(cap_uuid_equal(&((cap_uuid *)ua[2].arr.items)[0], &alltypes_id));
    cap_xpt_values_clear(cap_tl_method_at(TL, slot_of(TL, "echoUuidArray")), ua, CAP_XPT_CLEAR_OUT);
    CAP_RELEASE(o);
}
END_TEST

START_TEST(invoke_ifaces)
{
    IAllTypes *o = alltypes_new(), *x = alltypes_new();
    struct cap_xpt_value v[3] = {{.iface = x}};
    ck_assert_int_eq(call(o, "echoIface", v, 3), CAP_OK);
    ck_assert_ptr_eq(v[1].iface, x);
    ck_assert_ptr_eq(v[2].iface, x);
    ck_assert_uint_eq(alltypes_refs(x), 3);
    cap_xpt_values_clear(cap_tl_method_at(TL, slot_of(TL, "echoIface")), v, CAP_XPT_CLEAR_OUT);
    ck_assert_uint_eq(alltypes_refs(x), 1);

    void *objs[2] = {NULL, x};
    struct cap_xpt_value a[3] = {{.arr = {2, objs}}};
    ck_assert_int_eq(call(o, "echoIfaceArray", a, 3), CAP_OK);
    ck_assert_ptr_eq(((void **)a[1].arr.items)[0], x);
    ck_assert_ptr_null(((void **)a[1].arr.items)[1]);
    ck_assert_uint_eq(alltypes_refs(x), 3);
    cap_xpt_values_clear(cap_tl_method_at(TL, slot_of(TL, "echoIfaceArray")), a, CAP_XPT_CLEAR_OUT);
    ck_assert_uint_eq(alltypes_refs(x), 1);

    /* QueryInterface is the one builtin slot that may be invoked. */
    struct cap_xpt_value q[2] = {{.uuid = IID_IAllTypesBase}};
    ck_assert_int_eq(cap_xpt_invoke(x, TL, 0, q, 2), CAP_OK);
    ck_assert_ptr_eq(q[1].iface, x);
    cap_xpt_value_clear(&cap_tl_method_at(TL, 0)->params[1], &q[1]);
    q[0].uuid = alltypes_id;
    ck_assert_int_eq(cap_xpt_invoke(x, TL, 0, q, 2), CAP_E_NOINTERFACE);
    ck_assert_ptr_null(q[1].iface);

    struct cap_xpt_value any[2] = {{.iface = o}};
    ck_assert_int_eq(call(o, "anyObject", any, 2), CAP_OK);
    ck_assert_ptr_eq(any[1].iface, o);
    CAP_RELEASE(any[1].iface);
    CAP_RELEASE(x);
    CAP_RELEASE(o);
    ck_assert_uint_eq(alltypes_live(), 0);
}
END_TEST

START_TEST(invoke_members_and_bases)
{
    IAllTypes *o = alltypes_new();
    struct cap_xpt_value v = {.cstr = "named"};
    ck_assert_int_eq(call(o, "setName", &v, 1), CAP_OK);
    ck_assert_int_eq(call(o, "getName", &v, 1), CAP_OK);
    ck_assert_str_eq(v.str, "named");
    cap_str_free(v.str);
    ck_assert_int_eq(call(o, "getColor", &v, 1), CAP_OK);
    ck_assert_int_eq(v.enm, Color_Green);
    ck_assert_int_eq(call(o, "nothing", NULL, 0), CAP_OK);

    /* An inherited slot through the base's table and the derived one. */
    const struct cap_tl_iface *base = &cap_tl_IAllTypesBase;
    struct cap_xpt_value p[2] = {{.i32 = 9}};
    ck_assert_int_eq(cap_xpt_invoke(o, base, slot_of(base, "ping"), p, 2), CAP_OK);
    ck_assert_int_eq(p[1].i32, 10);
    ck_assert_uint_eq(slot_of(base, "ping"), slot_of(TL, "ping"));
    ck_assert_int_eq(call(o, "ping", p, 2), CAP_OK);
    ck_assert_int_eq(p[1].i32, 10);
    ck_assert_int_eq(call(o, "getId", &v, 1), CAP_OK);
    ck_assert(cap_uuid_equal(&v.uuid, &alltypes_id));

    /* More arguments than any register convention holds. */
    cap_uuid u = {{3}};
    int32_t arr[2] = {10, 20};
    struct cap_xpt_value m[24] = {
        {.u8 = 1},  {.d = 0.5},         {.i16 = 2}, {.d = 0.25}, {},
        {.i32 = 3}, {.d = 0.125},       {.i64 = 4}, {.d = 1},    {.cstr = "m"},
        {.d = 2},   {.uuid = u},        {.d = 4},   {.b = 1},    {},
        {.d = 8},   {.enm = Color_Red}, {.d = 16},  {.d = 32},   {.d = 64},
        {.u16 = 5}, {.arr = {2, arr}},
    };
    ck_assert_int_eq(call(o, "mixed", m, 24), CAP_OK);
    ck_assert_double_eq(m[4].d, 0.5 + 0.25 + 0.125 + 1 + 2 + 4 + 8 + 16 + 32 + 64 + 30);
    ck_assert_int_eq(m[14].i64, 1 + 2 + 3 + 4 + 5 + 1 + 1 + 3 + 30);
    ck_assert_str_eq(m[22].str, "m/2");
    ck_assert_uint_eq(m[23].u32, 2);
    cap_xpt_values_clear(cap_tl_method_at(TL, slot_of(TL, "mixed")), m, CAP_XPT_CLEAR_OUT);
    CAP_RELEASE(o);
}
END_TEST

START_TEST(invoke_failure)
{
    IAllTypes *o = alltypes_new();
    struct cap_xpt_value v[3] = {{.i32 = CAPTEST_E_CUSTOM}, {.cstr = "disk on fire"}};
    v[2].str = (char *)"garbage"; /* must come back NULL */
    ck_assert_int_eq(call(o, "fail", v, 3), CAPTEST_E_CUSTOM);
    ck_assert_ptr_null(v[2].str);
    check_error_info(CAPTEST_E_CUSTOM, "alltypes", "IAllTypes", "disk on fire");
    CAP_RELEASE(o);
}
END_TEST

START_TEST(invoke_all_through_helpers)
{
    /* The baseline for the proxy tests: the real object, called directly. */
    IAllTypes *o = alltypes_new();
    check_all_types(o);
    ck_assert_uint_eq(alltypes_refs(o), 1);
    CAP_RELEASE(o);
}
END_TEST

/*
 * A hand-written table with more C arguments than cap_xpt_invoke() keeps on
 * its stack (34 longs and a return), and the function it describes.
 */
#define WIDE_N 34
static const cap_uuid iid_wide = {{0x31, 0xde}};
static struct cap_tl_param wide_params[WIDE_N + 1];
static const struct cap_tl_method wide_methods[] = {
    {.name = "sum", .idl_name = "sum", .n_params = WIDE_N + 1, .params = wide_params}};
static const struct cap_tl_iface wide_iface = {.name = "IWide",
                                               .iid = &iid_wide,
                                               .base = &cap_tl_ISupports,
                                               .first_own = 3,
                                               .n_own = 1,
                                               .own = wide_methods};

static cap_result wide_sum(void *self, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4,
                           int32_t a5, int32_t a6, int32_t a7, int32_t a8, int32_t a9, int32_t a10,
                           int32_t a11, int32_t a12, int32_t a13, int32_t a14, int32_t a15,
                           int32_t a16, int32_t a17, int32_t a18, int32_t a19, int32_t a20,
                           int32_t a21, int32_t a22, int32_t a23, int32_t a24, int32_t a25,
                           int32_t a26, int32_t a27, int32_t a28, int32_t a29, int32_t a30,
                           int32_t a31, int32_t a32, int32_t a33, int64_t *r)
{
    *r = (int64_t)a0 * 1 + (int64_t)a1 * 2 + (int64_t)a2 * 3 + (int64_t)a3 * 4 + (int64_t)a4 * 5 +
         (int64_t)a5 * 6 + (int64_t)a6 * 7 + (int64_t)a7 * 8 + (int64_t)a8 * 9 + (int64_t)a9 * 10 +
         (int64_t)a10 * 11 + (int64_t)a11 * 12 + (int64_t)a12 * 13 + (int64_t)a13 * 14 +
         (int64_t)a14 * 15 + (int64_t)a15 * 16 + (int64_t)a16 * 17 + (int64_t)a17 * 18 +
         (int64_t)a18 * 19 + (int64_t)a19 * 20 + (int64_t)a20 * 21 + (int64_t)a21 * 22 +
         (int64_t)a22 * 23 + (int64_t)a23 * 24 + (int64_t)a24 * 25 + (int64_t)a25 * 26 +
         (int64_t)a26 * 27 + (int64_t)a27 * 28 + (int64_t)a28 * 29 + (int64_t)a29 * 30 +
         (int64_t)a30 * 31 + (int64_t)a31 * 32 + (int64_t)a32 * 33 + (int64_t)a33 * 34;
    return CAP_OK;
}

static void *const wide_vtbl[4] = {NULL, NULL, NULL, (void *)wide_sum};
static struct {
    void *const *vtbl;
} wide_obj = {wide_vtbl};

START_TEST(invoke_wide)
{
    struct cap_xpt_value v[WIDE_N + 1] = {};
    int64_t expect = 0;
    for (int i = 0; i < WIDE_N; i++) {
        wide_params[i] = (struct cap_tl_param){.name = "a", .type = CAP_TLT_LONG};
        v[i].i32 = (i % 2 ? -1 : 1) * (i + 1000);
        expect += (int64_t)v[i].i32 * (i + 1);
    }
    wide_params[WIDE_N] =
        (struct cap_tl_param){.name = "r", .type = CAP_TLT_LONGLONG, .dir = CAP_TLD_RETURN};
    ck_assert_int_eq(cap_xpt_invoke(&wide_obj, &wide_iface, 3, v, WIDE_N + 1), CAP_OK);
    ck_assert_int_eq(v[WIDE_N].i64, expect);
}
END_TEST

TCase *tcase_invoke(void)
{
    TCase *tc = tcase_create("invoke");
    tcase_add_test(tc, invoke_scalars);
    tcase_add_test(tc, invoke_strings_uuids);
    tcase_add_test(tc, invoke_ifaces);
    tcase_add_test(tc, invoke_members_and_bases);
    tcase_add_test(tc, invoke_failure);
    tcase_add_test(tc, invoke_all_through_helpers);
    tcase_add_test(tc, invoke_wide);
    return tc;
}

/* ---- misuse ------------------------------------------------------------------ */

START_TEST(misuse_slots_and_counts)
{
    IAllTypes *o = alltypes_new();
    struct cap_xpt_value v[3] = {};
    uint32_t n = cap_tl_iface_slots(TL);

    ck_assert_int_eq(cap_xpt_invoke(o, TL, n, v, 3), CAP_E_BAD_METHOD_INDEX);
    check_error_info(CAP_E_BAD_METHOD_INDEX, "objmodel", "IAllTypes", "does not exist");
    ck_assert_int_eq(cap_xpt_invoke(o, TL, 1, v, 1), CAP_E_BAD_METHOD_INDEX);
    check_error_info(CAP_E_BAD_METHOD_INDEX, NULL, "IAllTypes", "AddRef");
    ck_assert_int_eq(cap_xpt_invoke(o, TL, 2, v, 1), CAP_E_BAD_METHOD_INDEX);
    check_error_info(CAP_E_BAD_METHOD_INDEX, NULL, NULL, "Release");
    ck_assert_int_eq(call(o, "echoLong", v, 2), CAP_E_INVALIDARG);
    check_error_info(CAP_E_INVALIDARG, NULL, NULL, "echoLong takes 3 params");
    ck_assert_int_eq(call(o, "echoLong", NULL, 3), CAP_E_POINTER);
    check_error_info(CAP_E_POINTER, NULL, NULL, "echoLong");
    ck_assert_int_eq(cap_xpt_invoke(NULL, TL, 3, v, 3), CAP_E_POINTER);
    check_error_info(CAP_E_POINTER, NULL, NULL, "without an object");
    ck_assert_int_eq(cap_xpt_invoke(o, NULL, 3, v, 3), CAP_E_POINTER);
    check_error_info(CAP_E_POINTER, NULL, NULL, "interface table");

    /* An in array claiming items it does not have; outs still zeroed. */
    v[0].arr.count = 5;
    v[0].arr.items = NULL;
    v[1].arr.count = 7;
    ck_assert_int_eq(call(o, "echoLongArray", v, 3), CAP_E_POINTER);
    check_error_info(CAP_E_POINTER, NULL, NULL, "'a' has 5 items");
    ck_assert_uint_eq(v[1].arr.count, 0);
    ck_assert_uint_eq(alltypes_refs(o), 1);
    CAP_RELEASE(o);
}
END_TEST

/* Hand-written broken tables: a dynamic call must refuse them by name. */
static const cap_uuid iid_bad = {{0xba, 0xd0}};
static const struct cap_tl_param bad_type_params[] = {{.name = "x", .type = 99}};
static const struct cap_tl_method bad_type_methods[] = {
    {.name = "broken", .idl_name = "broken", .n_params = 1, .params = bad_type_params}};
static const struct cap_tl_iface bad_type_iface = {.name = "IBadType",
                                                   .iid = &iid_bad,
                                                   .base = &cap_tl_ISupports,
                                                   .first_own = 3,
                                                   .n_own = 1,
                                                   .own = bad_type_methods};
static const struct cap_tl_iface bad_root_iface = {.name = "IBadRoot",
                                                   .iid = &iid_bad,
                                                   .base = NULL,
                                                   .first_own = 0,
                                                   .n_own = 1,
                                                   .own = bad_type_methods};
static const struct cap_tl_iface bad_slots_iface = {.name = "IBadSlots",
                                                    .iid = &iid_bad,
                                                    .base = &cap_tl_ISupports,
                                                    .first_own = 5,
                                                    .n_own = 1,
                                                    .own = bad_type_methods};

START_TEST(misuse_bad_tables)
{
    IAllTypes *o = alltypes_new();
    struct cap_xpt_value v[1] = {};
    ISupports *p = (ISupports *)1;

    ck_assert_int_eq(cap_xpt_invoke(o, &bad_type_iface, 3, v, 1), CAP_E_NO_TYPEINFO);
    check_error_info(CAP_E_NO_TYPEINFO, "objmodel", "IBadType", "IBadType::broken: param 1 (x)");
    ck_assert_int_eq(cap_proxy_create(&bad_type_iface, &forward_handler, o, &p), CAP_E_NO_TYPEINFO);
    ck_assert_ptr_null(p);
    cap_error_clear();
    ck_assert_int_eq(cap_xpt_invoke(o, &bad_root_iface, 0, v, 1), CAP_E_NO_TYPEINFO);
    check_error_info(CAP_E_NO_TYPEINFO, NULL, NULL, "does not derive from ISupports");
    ck_assert_int_eq(cap_xpt_invoke(o, &bad_slots_iface, 5, v, 1), CAP_E_NO_TYPEINFO);
    check_error_info(CAP_E_NO_TYPEINFO, NULL, NULL, "base chain is inconsistent");
    ck_assert_uint_eq(alltypes_refs(o), 1);
    CAP_RELEASE(o);
}
END_TEST

START_TEST(misuse_forget_and_rebuild)
{
    /* Dropping a typelib's cache entries and using it again rebuilds them. */
    IAllTypes *o = alltypes_new();
    struct cap_xpt_value p[2] = {{.i32 = 1}};
    ck_assert_int_eq(call(o, "ping", p, 2), CAP_OK);
    cap_xpt_forget_typelib(&captest_typelib);
    cap_xpt_forget_typelib(NULL);
    ck_assert_int_eq(call(o, "ping", p, 2), CAP_OK);
    ck_assert_int_eq(p[1].i32, 2);
    CAP_RELEASE(o);
}
END_TEST

TCase *tcase_invoke_misuse(void)
{
    TCase *tc = tcase_create("invoke_misuse");
    tcase_add_test(tc, misuse_slots_and_counts);
    tcase_add_test(tc, misuse_bad_tables);
    tcase_add_test(tc, misuse_forget_and_rebuild);
    return tc;
}
