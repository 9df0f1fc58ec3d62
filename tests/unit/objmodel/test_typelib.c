/*
 * test_typelib.c - the result and typelib topics: names of builtin and
 * typelib-declared result codes; method lookup by slot through inheritance,
 * is-a, and registry lookups by IID and name over a small hand-written
 * typelib (ICounter, and ICounter2 extending it).
 */
#include <string.h>

#include <capsule/result.h>
#include <capsule/typelib.h>
#include <capsule/uuid.h>

#include "objmodel_test.h"

/* {6f1f7a52-8b8e-4f0c-9a43-1f0f1c2d3e04} */
static const cap_uuid IID_ICounter2 = {{0x6f, 0x1f, 0x7a, 0x52, 0x8b, 0x8e, 0x4f, 0x0c, 0x9a, 0x43,
                                        0x1f, 0x0f, 0x1c, 0x2d, 0x3e, 0x04}};

static const struct cap_tl_param add_params[] = {
    {.name = "delta", .type = CAP_TLT_LONG, .dir = CAP_TLD_IN},
};
static const struct cap_tl_param value_params[] = {
    {.name = "value", .type = CAP_TLT_LONG, .dir = CAP_TLD_RETURN},
};
static const struct cap_tl_method counter_methods[] = {
    {.name = "Add", .idl_name = "add", .n_params = 1, .params = add_params},
    {.name = "getValue",
     .idl_name = "value",
     .kind = CAP_TLM_GETTER,
     .n_params = 1,
     .params = value_params},
};
static const struct cap_tl_iface tl_ICounter = {
    .name = "ICounter",
    .iid = &IID_ICounter,
    .base = &cap_tl_ISupports,
    .first_own = 3,
    .n_own = 2,
    .own = counter_methods,
};
static const struct cap_tl_method counter2_methods[] = {
    {.name = "Reset", .idl_name = "reset"},
};
static const struct cap_tl_iface tl_ICounter2 = {
    .name = "ICounter2",
    .iid = &IID_ICounter2,
    .base = &tl_ICounter,
    .first_own = 5,
    .n_own = 1,
    .own = counter2_methods,
};
static const struct cap_tl_iface *const test_ifaces[] = {&cap_tl_ISupports, &tl_ICounter,
                                                         &tl_ICounter2};
static const struct cap_tl_result test_results[] = {
    {"CAP_E_TEST_ONE", (cap_result)0x80BB7E01},
    {"CAP_E_TEST_TWO", (cap_result)0x80BB7E02},
};
/* Two typelibs, so that each test case sees a registration of its own even
 * when the cases share a process (CK_FORK=no). */
static const struct cap_typelib test_typelib = {
    .name = "objmodeltest",
    .version_major = 1,
    .n_ifaces = 3,
    .ifaces = test_ifaces,
};
static const struct cap_typelib results_typelib = {
    .name = "objmodeltestresults",
    .version_major = 1,
    .n_results = 2,
    .results = test_results,
};

/* ---- result ------------------------------------------------------------- */

START_TEST(builtin_names)
{
    ck_assert_str_eq(cap_result_name(CAP_OK), "CAP_OK");
    ck_assert_str_eq(cap_result_name(CAP_FALSE_RESULT), "CAP_FALSE_RESULT");
    ck_assert_str_eq(cap_result_name(CAP_E_NOINTERFACE), "CAP_E_NOINTERFACE");
    ck_assert_str_eq(cap_result_name(CAP_E_TIMEOUT), "CAP_E_TIMEOUT");
    ck_assert_str_eq(cap_result_name(CAP_E_CLASS_NOT_REGISTERED), "CAP_E_CLASS_NOT_REGISTERED");
    ck_assert_str_eq(cap_result_name(CAP_E_ALREADY_REGISTERED), "CAP_E_ALREADY_REGISTERED");
    ck_assert_str_eq(cap_result_name((cap_result)0x8000FFFF), "unknown result");
    ck_assert_str_eq(cap_result_name(12345), "unknown result");
}
END_TEST

START_TEST(typelib_names)
{
    ck_assert_str_eq(cap_result_name((cap_result)0x80BB7E01), "unknown result");
    ck_assert_int_eq(cap_typelib_register(&results_typelib), CAP_OK);
    ck_assert_str_eq(cap_result_name((cap_result)0x80BB7E01), "CAP_E_TEST_ONE");
    ck_assert_str_eq(cap_result_name((cap_result)0x80BB7E02), "CAP_E_TEST_TWO");
    ck_assert_str_eq(cap_result_name((cap_result)0x80BB7E03), "unknown result");
}
END_TEST

TCase *tcase_result(void)
{
    TCase *tc = tcase_create("result");
    tcase_add_test(tc, builtin_names);
    tcase_add_test(tc, typelib_names);
    return tc;
}

/* ---- typelib ------------------------------------------------------------ */

START_TEST(isupports_table)
{
    const struct cap_tl_iface *tl = &cap_tl_ISupports;
    ck_assert_str_eq(tl->name, "ISupports");
    ck_assert(cap_uuid_equal(tl->iid, &IID_ISupports));
    ck_assert_ptr_null(tl->base);
    ck_assert_uint_eq(cap_tl_iface_slots(tl), CAP_ISUPPORTS_SLOTS);
    const struct cap_tl_method *qi = cap_tl_method_at(tl, 0);
    ck_assert_str_eq(qi->name, "QueryInterface");
    ck_assert_uint_eq(qi->flags & CAP_TLM_BUILTIN, 0);
    ck_assert_uint_eq(qi->n_params, 2);
    ck_assert_int_eq(qi->params[0].type, CAP_TLT_UUID);
    ck_assert_int_eq(qi->params[0].dir, CAP_TLD_IN);
    ck_assert_int_eq(qi->params[1].type, CAP_TLT_IFACE);
    ck_assert_int_eq(qi->params[1].dir, CAP_TLD_RETURN);
    ck_assert_ptr_eq(qi->params[1].iface, &cap_tl_ISupports);
    for (uint32_t i = 1; i <= 2; i++) {
        const struct cap_tl_method *m = cap_tl_method_at(tl, i);
        ck_assert_str_eq(m->name, i == 1 ? "AddRef" : "Release");
        ck_assert_uint_eq(m->flags & CAP_TLM_BUILTIN, CAP_TLM_BUILTIN);
        ck_assert_uint_eq(m->n_params, 1);
        ck_assert_int_eq(m->params[0].type, CAP_TLT_ULONG);
        ck_assert_int_eq(m->params[0].dir, CAP_TLD_RETURN);
    }
    ck_assert_ptr_null(cap_tl_method_at(tl, 3));
}
END_TEST

START_TEST(method_at_walks_bases)
{
    ck_assert_str_eq(cap_tl_method_at(&tl_ICounter2, 0)->name, "QueryInterface");
    ck_assert_str_eq(cap_tl_method_at(&tl_ICounter2, 2)->name, "Release");
    ck_assert_str_eq(cap_tl_method_at(&tl_ICounter2, 3)->name, "Add");
    ck_assert_str_eq(cap_tl_method_at(&tl_ICounter2, 4)->name, "getValue");
    ck_assert_str_eq(cap_tl_method_at(&tl_ICounter2, 5)->name, "Reset");
    ck_assert_ptr_null(cap_tl_method_at(&tl_ICounter2, 6));
    ck_assert_ptr_null(cap_tl_method_at(&tl_ICounter, 5));
    ck_assert_ptr_null(cap_tl_method_at(&tl_ICounter, UINT32_MAX));
    ck_assert_ptr_null(cap_tl_method_at(NULL, 0));
    ck_assert_uint_eq(cap_tl_iface_slots(&tl_ICounter2), 6);
}
END_TEST

START_TEST(is_a)
{
    ck_assert(cap_tl_iface_is_a(&tl_ICounter2, &IID_ICounter2));
    ck_assert(cap_tl_iface_is_a(&tl_ICounter2, &IID_ICounter));
    ck_assert(cap_tl_iface_is_a(&tl_ICounter2, &IID_ISupports));
    ck_assert(!cap_tl_iface_is_a(&tl_ICounter, &IID_ICounter2));
    ck_assert(!cap_tl_iface_is_a(&tl_ICounter, &IID_INamed));
    ck_assert(cap_tl_iface_is_a(&cap_tl_ISupports, &IID_ISupports));
    ck_assert(!cap_tl_iface_is_a(&tl_ICounter, NULL));
}
END_TEST

START_TEST(find_registered)
{
    ck_assert_ptr_eq(cap_typelib_find_iface(&IID_ISupports), &cap_tl_ISupports);
    ck_assert_ptr_eq(cap_typelib_find_iface_by_name("ISupports"), &cap_tl_ISupports);
    ck_assert_ptr_null(cap_typelib_find_iface(&IID_ICounter));
    ck_assert_ptr_null(cap_typelib_find_iface_by_name("ICounter"));
    ck_assert_int_eq(cap_typelib_register(&test_typelib), CAP_OK);
    ck_assert_int_eq(cap_typelib_register(&test_typelib), CAP_OK); /* harmless */
    ck_assert_ptr_eq(cap_typelib_find_iface(&IID_ICounter), &tl_ICounter);
    ck_assert_ptr_eq(cap_typelib_find_iface(&IID_ICounter2), &tl_ICounter2);
    ck_assert_ptr_eq(cap_typelib_find_iface_by_name("ICounter2"), &tl_ICounter2);
    ck_assert_ptr_null(cap_typelib_find_iface(&IID_INobody));
    ck_assert_ptr_null(cap_typelib_find_iface_by_name("INobody"));
    ck_assert_ptr_null(cap_typelib_find_iface(NULL));
    ck_assert_ptr_null(cap_typelib_find_iface_by_name(NULL));
    ck_assert_int_eq(cap_typelib_register(NULL), CAP_E_POINTER);
}
END_TEST

TCase *tcase_typelib(void)
{
    TCase *tc = tcase_create("typelib");
    tcase_add_test(tc, isupports_table);
    tcase_add_test(tc, method_at_walks_bases);
    tcase_add_test(tc, is_a);
    tcase_add_test(tc, find_registered);
    return tc;
}
