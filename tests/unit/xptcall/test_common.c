/*
 * test_common.c - helpers of the xptcall suite: typelib lookups, the
 * forwarding proxy, and check_all_types(), which calls every method of
 * IAllTypes through the generated inline helpers. Running check_all_types()
 * on the real object, on a proxy of it and on a proxy of a proxy shows that
 * every type survives the closure -> handler -> invoke round trip.
 */
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/uuid.h>

#include "xpt_test.h"

uint32_t slot_of(const struct cap_tl_iface *tl, const char *name)
{
    for (uint32_t i = 0; i < cap_tl_iface_slots(tl); i++)
        if (strcmp(cap_tl_method_at(tl, i)->name, name) == 0)
            return i;
    ck_abort_msg("no method %s in %s", name, tl->name);
    return 0;
}

void check_error_info(cap_result rc, const char *component, const char *iface,
                      const char *message_part)
{
    struct cap_error_info info;
    ck_assert_int_eq(cap_error_take(&info), CAP_OK);
    ck_assert_int_eq(info.result, rc);
    ck_assert_ptr_nonnull(info.message);
    ck_assert_msg(strstr(info.message, message_part), "message '%s' lacks '%s'", info.message,
                  message_part);
    if (component)
        ck_assert_str_eq(info.component, component);
    if (iface)
        ck_assert_str_eq(info.iface, iface);
    cap_error_info_clear(&info);
}

/* ---- the forwarding proxy ------------------------------------------------- */

static uint32_t n_calls, n_live;

static cap_result forward_call(void *ctx, const struct cap_tl_iface *tl, uint32_t slot,
                               const struct cap_tl_method *method, struct cap_xpt_value *values)
{
    __atomic_add_fetch(&n_calls, 1, __ATOMIC_RELAXED);
    return cap_xpt_invoke(ctx, tl, slot, values, method->n_params);
}

static void forward_destroy(void *ctx)
{
    CAP_RELEASE(ctx);
    __atomic_sub_fetch(&n_live, 1, __ATOMIC_RELAXED);
}

const struct cap_proxy_handler forward_handler = {
    .call = forward_call,
    .destroy = forward_destroy,
};

ISupports *forward_proxy(const struct cap_tl_iface *tl, void *target)
{
    ISupports *p = NULL;
    CAP_ADDREF(target);
    cap_result rc = cap_proxy_create(tl, &forward_handler, target, &p);
    ck_assert_int_eq(rc, CAP_OK);
    __atomic_add_fetch(&n_live, 1, __ATOMIC_RELAXED);
    return p;
}

uint32_t forward_calls(void)
{
    return __atomic_load_n(&n_calls, __ATOMIC_RELAXED);
}

uint32_t forward_live(void)
{
    return __atomic_load_n(&n_live, __ATOMIC_RELAXED);
}

/* ---- every method through the helpers -------------------------------------- */

/* An echo of a plain value: b as given, r the input. */
#define CHECK_ECHO(Meth, T, in, expect_b)                                                          \
    do {                                                                                           \
        T b_, r_;                                                                                  \
        ck_assert_int_eq(IAllTypes_##Meth(o, (in), &b_, &r_), CAP_OK);                             \
        T eb_ = (expect_b), in_ = (in);                                                            \
        ck_assert_msg(memcmp(&b_, &eb_, sizeof(T)) == 0, #Meth ": b differs");                     \
        ck_assert_msg(memcmp(&r_, &in_, sizeof(T)) == 0, #Meth ": r differs");                     \
    } while (0)

/* The array echo of a plain value type, checked against the scalar echo. */
#define CHECK_ECHO_ARRAY(Meth, T, v0, v1, v2)                                                      \
    do {                                                                                           \
        T in_[3] = {v0, v1, v2};                                                                   \
        uint32_t bn_ = 99, rn_ = 99;                                                               \
        T *b_ = NULL, *r_ = NULL;                                                                  \
        ck_assert_int_eq(IAllTypes_##Meth##Array(o, 3, in_, &bn_, &b_, &rn_, &r_), CAP_OK);        \
        ck_assert_uint_eq(bn_, 3);                                                                 \
        ck_assert_uint_eq(rn_, 3);                                                                 \
        for (int i_ = 0; i_ < 3; i_++) {                                                           \
            T eb_, er_;                                                                            \
            ck_assert_int_eq(IAllTypes_##Meth(o, in_[2 - i_], &eb_, &er_), CAP_OK);                \
            ck_assert_msg(memcmp(&b_[i_], &eb_, sizeof(T)) == 0, #Meth "Array: b[%d]", i_);        \
            ck_assert_msg(memcmp(&r_[i_], &in_[i_], sizeof(T)) == 0, #Meth "Array: r[%d]", i_);    \
        }                                                                                          \
        cap_free(b_);                                                                              \
        cap_free(r_);                                                                              \
        ck_assert_int_eq(IAllTypes_##Meth##Array(o, 0, NULL, &bn_, &b_, &rn_, &r_), CAP_OK);       \
        ck_assert_uint_eq(bn_, 0);                                                                 \
        ck_assert_uint_eq(rn_, 0);                                                                 \
        cap_free(b_);                                                                              \
        cap_free(r_);                                                                              \
    } while (0)

static void check_scalars(IAllTypes *o)
{
    CHECK_ECHO(EchoBool, cap_bool, CAP_TRUE, CAP_FALSE);
    CHECK_ECHO(EchoBool, cap_bool, CAP_FALSE, CAP_TRUE);
    CHECK_ECHO(EchoOctet, uint8_t, 0xa5, 0x5a);
    CHECK_ECHO(EchoShort, int16_t, -12345, 12344);
    CHECK_ECHO(EchoUShort, uint16_t, 0xfffe, 1);
    CHECK_ECHO(EchoLong, int32_t, INT32_MIN + 5, INT32_MAX - 5);
    CHECK_ECHO(EchoULong, uint32_t, 0xdeadbeefu, 0x21524110u);
    CHECK_ECHO(EchoLongLong, int64_t, -0x123456789abcdef0LL, 0x123456789abcdeefLL);
    CHECK_ECHO(EchoULongLong, uint64_t, 0xfedcba9876543210ULL, 0x0123456789abcdefULL);
    CHECK_ECHO(EchoDouble, double, 3.25, -6.5);
    CHECK_ECHO(EchoDouble, double, -1e300, 2e300);
    CHECK_ECHO(EchoColor, Color, Color_Blue, Color_Big);
    CHECK_ECHO(EchoColor, Color, Color_Big, Color_Red);

    CHECK_ECHO_ARRAY(EchoBool, cap_bool, CAP_TRUE, CAP_FALSE, CAP_TRUE);
    CHECK_ECHO_ARRAY(EchoOctet, uint8_t, 0, 0x80, 0xff);
    CHECK_ECHO_ARRAY(EchoShort, int16_t, INT16_MIN, -1, 7);
    CHECK_ECHO_ARRAY(EchoUShort, uint16_t, 0, 0x8000, 0xffff);
    CHECK_ECHO_ARRAY(EchoLong, int32_t, INT32_MIN, 0, INT32_MAX);
    CHECK_ECHO_ARRAY(EchoULong, uint32_t, 1, 0x80000000u, 0xffffffffu);
    CHECK_ECHO_ARRAY(EchoLongLong, int64_t, INT64_MIN, -2, INT64_MAX);
    CHECK_ECHO_ARRAY(EchoULongLong, uint64_t, 3, 1ULL << 63, UINT64_MAX);
    CHECK_ECHO_ARRAY(EchoDouble, double, 0.5, -0.0, 1e-310);
    CHECK_ECHO_ARRAY(EchoColor, Color, Color_Red, Color_Blue, Color_Big);
}

static void check_strings(IAllTypes *o)
{
    static const char *const cases[][2] = {
        {"h\xc3\xa9llo", "oll\xa9\xc3h"}, {"", ""}, {"x", "x"}, {NULL, NULL}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *b = (char *)1, *r = (char *)1;
        ck_assert_int_eq(IAllTypes_EchoString(o, cases[i][0], &b, &r), CAP_OK);
        if (cases[i][0]) {
            ck_assert_str_eq(b, cases[i][1]);
            ck_assert_str_eq(r, cases[i][0]);
        } else {
            ck_assert_ptr_null(b);
            ck_assert_ptr_null(r);
        }
        cap_str_free(b);
        cap_str_free(r);
    }

    char *const in[3] = {"one", NULL, "three"};
    uint32_t bn = 0, rn = 0;
    char **b = NULL, **r = NULL;
    ck_assert_int_eq(IAllTypes_EchoStringArray(o, 3, in, &bn, &b, &rn, &r), CAP_OK);
    ck_assert_uint_eq(bn, 3);
    ck_assert_uint_eq(rn, 3);
    ck_assert_str_eq(b[0], "eerht");
    ck_assert_ptr_null(b[1]);
    ck_assert_str_eq(b[2], "eno");
    ck_assert_str_eq(r[0], "one");
    ck_assert_ptr_null(r[1]);
    ck_assert_str_eq(r[2], "three");
    cap_array_free(CAP_TLT_STRING, bn, b);
    cap_array_free(CAP_TLT_STRING, rn, r);
    ck_assert_int_eq(IAllTypes_EchoStringArray(o, 0, NULL, &bn, &b, &rn, &r), CAP_OK);
    ck_assert_uint_eq(bn + rn, 0);
    cap_array_free(CAP_TLT_STRING, bn, b);
    cap_array_free(CAP_TLT_STRING, rn, r);
}

static void check_uuids(IAllTypes *o)
{
    cap_uuid a, b, r, e;
    for (int i = 0; i < 16; i++)
        a.b[i] = (uint8_t)(i * 17 + 1);
    alltypes_reverse_uuid(&a, &e);
    ck_assert_int_eq(IAllTypes_EchoUuid(o, &a, &b, &r), CAP_OK);
    ck_assert(cap_uuid_equal(&b, &e));
    ck_assert(cap_uuid_equal(&r, &a));

    cap_uuid in[2] = {a, alltypes_id};
    uint32_t bn, rn;
    cap_uuid *bb, *rr;
    ck_assert_int_eq(IAllTypes_EchoUuidArray(o, 2, in, &bn, &bb, &rn, &rr), CAP_OK);
    ck_assert_uint_eq(bn, 2);
    ck_assert_uint_eq(rn, 2);
    alltypes_reverse_uuid(&in[1], &e);
    ck_assert(cap_uuid_equal(&bb[0], &e));
    alltypes_reverse_uuid(&in[0], &e);
    ck_assert(cap_uuid_equal(&bb[1], &e));
    ck_assert(cap_uuid_equal(&rr[0], &in[0]) && cap_uuid_equal(&rr[1], &in[1]));
    cap_free(bb);
    cap_free(rr);
}

static void check_ifaces(IAllTypes *o)
{
    IAllTypesBase *self = (IAllTypesBase *)o, *b = NULL, *r = NULL;
    ck_assert_int_eq(IAllTypes_EchoIface(o, self, &b, &r), CAP_OK);
    ck_assert_ptr_eq(b, self);
    ck_assert_ptr_eq(r, self);
    CAP_RELEASE(b);
    CAP_RELEASE(r);
    ck_assert_int_eq(IAllTypes_EchoIface(o, NULL, &b, &r), CAP_OK);
    ck_assert_ptr_null(b);
    ck_assert_ptr_null(r);

    IAllTypes *other = alltypes_new();
    IAllTypesBase *in[3] = {self, NULL, (IAllTypesBase *)other};
    uint32_t bn, rn;
    IAllTypesBase **bb, **rr;
    ck_assert_int_eq(IAllTypes_EchoIfaceArray(o, 3, in, &bn, &bb, &rn, &rr), CAP_OK);
    ck_assert_uint_eq(bn, 3);
    ck_assert_uint_eq(rn, 3);
    ck_assert_ptr_eq(bb[0], other);
    ck_assert_ptr_null(bb[1]);
    ck_assert_ptr_eq(bb[2], self);
    ck_assert_ptr_eq(rr[0], self);
    ck_assert_ptr_eq(rr[2], other);
    ck_assert_uint_eq(alltypes_refs(other), 3);
    cap_array_free(CAP_TLT_IFACE, bn, bb);
    cap_array_free(CAP_TLT_IFACE, rn, rr);
    ck_assert_uint_eq(alltypes_refs(other), 1);
    CAP_RELEASE(other);

    ISupports *same = NULL;
    ck_assert_int_eq(IAllTypes_AnyObject(o, (ISupports *)o, &same), CAP_OK);
    ck_assert_ptr_eq(same, o);
    CAP_RELEASE(same);

    void *q = NULL;
    ck_assert_int_eq(IAllTypes_QueryInterface(o, &IID_IAllTypesBase, &q), CAP_OK);
    ck_assert_ptr_eq(q, o);
    CAP_RELEASE(q);
    q = (void *)1;
    ck_assert_int_eq(IAllTypes_QueryInterface(o, &alltypes_id, &q), CAP_E_NOINTERFACE);
    ck_assert_ptr_null(q);
}

static void check_members(IAllTypes *o)
{
    char *name = NULL;
    ck_assert_int_eq(IAllTypes_SetName(o, "capsule"), CAP_OK);
    ck_assert_int_eq(IAllTypes_GetName(o, &name), CAP_OK);
    ck_assert_str_eq(name, "capsule");
    cap_str_free(name);
    cap_uuid id;
    ck_assert_int_eq(IAllTypes_GetId(o, &id), CAP_OK);
    ck_assert(cap_uuid_equal(&id, &alltypes_id));
    int32_t v = 0;
    ck_assert_int_eq(IAllTypes_SetCounter(o, -77), CAP_OK);
    ck_assert_int_eq(IAllTypes_GetCounter(o, &v), CAP_OK);
    ck_assert_int_eq(v, -77);
    Color c = Color_Red;
    ck_assert_int_eq(IAllTypes_GetColor(o, &c), CAP_OK);
    ck_assert_int_eq(c, Color_Green);
    ck_assert_int_eq(IAllTypes_Ping(o, 41, &v), CAP_OK);
    ck_assert_int_eq(v, 42);
    ck_assert_int_eq(IAllTypesBase_Ping((IAllTypesBase *)o, -1, &v), CAP_OK);
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(IAllTypes_Nothing(o), CAP_OK);
}

static void check_mixed(IAllTypes *o)
{
    cap_uuid u = {{9}};
    const int32_t arr[4] = {1, 2, 3, -100};
    double dsum = 0;
    int64_t isum = 0;
    char *summary = NULL;
    uint32_t count = 0;
    ck_assert_int_eq(IAllTypes_Mixed(o, 200, 0.5, -3, 1.5, &dsum, 100000, 2.5, 1LL << 40, 3.5,
                                     "sum", 4.5, &u, 5.5, CAP_TRUE, &isum, 6.5, Color_Blue, 7.5,
                                     8.5, 9.5, 65535, 4, arr, &summary, &count),
                     CAP_OK);
    ck_assert_double_eq(dsum, 0.5 + 1.5 + 2.5 + 3.5 + 4.5 + 5.5 + 6.5 + 7.5 + 8.5 + 9.5 - 94);
    ck_assert_int_eq(isum, 200 - 3 + 100000 + (1LL << 40) + 65535 + 1 - 5 + 9 - 94);
    ck_assert_str_eq(summary, "sum/4");
    ck_assert_uint_eq(count, 4);
    cap_str_free(summary);
}

static void check_failure(IAllTypes *o)
{
    char *leftover = (char *)1;
    cap_error_clear();
    ck_assert_int_eq(IAllTypes_Fail(o, CAPTEST_E_CUSTOM, "it broke", &leftover), CAPTEST_E_CUSTOM);
    ck_assert_ptr_null(leftover);
    check_error_info(CAPTEST_E_CUSTOM, "alltypes", "IAllTypes", "it broke");
}

void check_all_types(IAllTypes *o)
{
    check_scalars(o);
    check_strings(o);
    check_uuids(o);
    check_ifaces(o);
    check_members(o);
    check_mixed(o);
    check_failure(o);
}
