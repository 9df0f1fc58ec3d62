/*
 * test_registry.c - the registry topic, in-process classes only: creation
 * by CID and contract ID, the context handed to factories, unknown classes
 * and interfaces reported with error info, duplicates refused, factory
 * failures passed on, services created once and released at destroy.
 */
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/registry.h>
#include <capsule/result.h>
#include <capsule/uuid.h>

#include "objmodel_test.h"

#define SAMPLE_CID      "11111111-2222-4333-8444-555555555555"
#define SAMPLE_CONTRACT "@capsule.org/test/sample;1"
#define FAILING_CID     "11111111-2222-4333-8444-666666666666"

struct factory_ctx {
    int calls;
    int destroyed;
    struct cap_registry *seen_reg;
};

static cap_result sample_factory(struct cap_registry *reg, void *ctx, const cap_uuid *iid,
                                 void **out)
{
    struct factory_ctx *f = ctx;
    f->calls++;
    f->seen_reg = reg;
    ICounter *c;
    cap_result rc = sample_create(&f->destroyed, &c);
    if (CAP_FAILED(rc))
        return rc;
    rc = CAP_QI(c, iid, out);
    CAP_RELEASE(c);
    return rc;
}

static cap_result failing_factory(struct cap_registry *reg, void *ctx, const cap_uuid *iid,
                                  void **out)
{
    *out = NULL;
    return cap_error_set(CAP_E_ACCESSDENIED, "objmodel-test", NULL, "this factory refuses");
}

static cap_uuid cid(const char *s)
{
    cap_uuid u;
    ck_assert_int_eq(cap_uuid_parse(s, &u), CAP_OK);
    return u;
}

static struct cap_registry *new_registry(struct factory_ctx *f)
{
    struct cap_registry *reg = NULL;
    ck_assert_int_eq(cap_registry_create(&reg), CAP_OK);
    cap_uuid c = cid(SAMPLE_CID);
    ck_assert_int_eq(
        cap_registry_register_class(reg, &c, SAMPLE_CONTRACT, "Sample", sample_factory, f), CAP_OK);
    c = cid(FAILING_CID);
    ck_assert_int_eq(cap_registry_register_class(reg, &c, NULL, "Failing", failing_factory, NULL),
                     CAP_OK);
    return reg;
}

START_TEST(create_by_cid_and_contract)
{
    struct factory_ctx f = {0};
    struct cap_registry *reg = new_registry(&f);
    cap_uuid c = cid(SAMPLE_CID);
    ICounter *a = NULL;
    INamed *b = NULL;
    ck_assert_int_eq(cap_registry_create_instance(reg, &c, &IID_ICounter, (void **)&a), CAP_OK);
    ck_assert_int_eq(
        cap_registry_create_instance_by_contract(reg, SAMPLE_CONTRACT, &IID_INamed, (void **)&b),
        CAP_OK);
    ck_assert_int_eq(f.calls, 2);
    ck_assert_ptr_eq(f.seen_reg, reg);
    /* Two instances, not one. */
    ICounter *bc = NULL;
    CAP_QI(b, &IID_ICounter, &bc);
    ck_assert_ptr_ne(bc, a);
    CAP_RELEASE(bc);
    a->vtbl->Add(a, 3);
    CAP_RELEASE(a);
    CAP_RELEASE(b);
    ck_assert_int_eq(f.destroyed, 2);
    cap_registry_destroy(reg);
}
END_TEST

START_TEST(not_registered)
{
    struct factory_ctx f = {0};
    struct cap_registry *reg = new_registry(&f);
    void *out = (void *)1;
    ck_assert_int_eq(
        cap_registry_create_instance_by_contract(reg, "@capsule.org/nope;1", &IID_ICounter, &out),
        CAP_E_CLASS_NOT_REGISTERED);
    ck_assert_ptr_null(out);
    ck_assert_ptr_nonnull(strstr(take_message(), "'@capsule.org/nope;1'"));
    cap_uuid c = cid("99999999-2222-4333-8444-555555555555");
    out = (void *)1;
    ck_assert_int_eq(cap_registry_create_instance(reg, &c, &IID_ICounter, &out),
                     CAP_E_CLASS_NOT_REGISTERED);
    ck_assert_ptr_null(out);
    ck_assert_ptr_nonnull(strstr(take_message(), "99999999-2222-4333-8444-555555555555"));
    ck_assert_int_eq(cap_registry_get_service_by_contract(reg, "@x;1", &IID_ICounter, &out),
                     CAP_E_CLASS_NOT_REGISTERED);
    ck_assert_int_eq(cap_registry_create_instance(reg, NULL, &IID_ICounter, &out), CAP_E_POINTER);
    ck_assert_int_eq(cap_registry_create_instance(NULL, &c, &IID_ICounter, &out), CAP_E_POINTER);
    ck_assert_int_eq(cap_registry_create_instance(reg, &c, NULL, &out), CAP_E_POINTER);
    ck_assert_int_eq(cap_registry_create_instance(reg, &c, &IID_ICounter, NULL), CAP_E_POINTER);
    cap_error_clear();
    cap_registry_destroy(reg);
}
END_TEST

START_TEST(no_interface)
{
    struct factory_ctx f = {0};
    struct cap_registry *reg = new_registry(&f);
    void *out = (void *)1;
    ck_assert_int_eq(
        cap_registry_create_instance_by_contract(reg, SAMPLE_CONTRACT, &IID_INobody, &out),
        CAP_E_NOINTERFACE);
    ck_assert_ptr_null(out);
    const char *msg = take_message();
    ck_assert_ptr_nonnull(strstr(msg, "'Sample'"));
    ck_assert_ptr_nonnull(strstr(msg, "does not implement"));
    ck_assert_int_eq(f.destroyed, f.calls); /* nothing leaked by the failed create */
    cap_registry_destroy(reg);
}
END_TEST

START_TEST(duplicates_refused)
{
    struct factory_ctx f = {0};
    struct cap_registry *reg = new_registry(&f);
    cap_uuid c = cid(SAMPLE_CID);
    ck_assert_int_eq(cap_registry_register_class(reg, &c, "@other;1", "X", sample_factory, &f),
                     CAP_E_ALREADY_REGISTERED);
    ck_assert_ptr_nonnull(strstr(take_message(), SAMPLE_CID));
    c = cid("abcdefab-2222-4333-8444-555555555555");
    ck_assert_int_eq(cap_registry_register_class(reg, &c, SAMPLE_CONTRACT, "X", sample_factory, &f),
                     CAP_E_ALREADY_REGISTERED);
    ck_assert_ptr_nonnull(strstr(take_message(), SAMPLE_CONTRACT));
    ck_assert_int_eq(cap_registry_register_class(reg, &c, NULL, NULL, NULL, NULL), CAP_E_POINTER);
    ck_assert_int_eq(cap_registry_register_class(reg, NULL, NULL, NULL, sample_factory, NULL),
                     CAP_E_POINTER);
    cap_error_clear();
    cap_registry_destroy(reg);
}
END_TEST

START_TEST(factory_failure)
{
    struct cap_registry *reg = new_registry(&(struct factory_ctx){0});
    cap_uuid c = cid(FAILING_CID);
    void *out = (void *)1;
    ck_assert_int_eq(cap_registry_create_instance(reg, &c, &IID_ICounter, &out),
                     CAP_E_ACCESSDENIED);
    ck_assert_ptr_null(out);
    ck_assert_str_eq(take_message(), "this factory refuses");
    ck_assert_int_eq(cap_registry_get_service(reg, &c, &IID_ICounter, &out), CAP_E_ACCESSDENIED);
    ck_assert_ptr_null(out);
    cap_error_clear();
    cap_registry_destroy(reg);
}
END_TEST

START_TEST(services_are_singletons)
{
    struct factory_ctx f = {0};
    struct cap_registry *reg = new_registry(&f);
    cap_uuid c = cid(SAMPLE_CID);
    ICounter *a = NULL, *b = NULL;
    INamed *n = NULL;
    ck_assert_int_eq(cap_registry_get_service(reg, &c, &IID_ICounter, (void **)&a), CAP_OK);
    ck_assert_int_eq(
        cap_registry_get_service_by_contract(reg, SAMPLE_CONTRACT, &IID_ICounter, (void **)&b),
        CAP_OK);
    ck_assert_int_eq(
        cap_registry_get_service_by_contract(reg, SAMPLE_CONTRACT, &IID_INamed, (void **)&n),
        CAP_OK);
    ck_assert_ptr_eq(a, b);
    ck_assert_int_eq(f.calls, 1);
    void *out = (void *)1;
    ck_assert_int_eq(cap_registry_get_service(reg, &c, &IID_INobody, &out), CAP_E_NOINTERFACE);
    ck_assert_ptr_null(out);
    cap_error_clear();
    /* A service and a plain instance of the same class are different. */
    ICounter *inst = NULL;
    ck_assert_int_eq(cap_registry_create_instance(reg, &c, &IID_ICounter, (void **)&inst), CAP_OK);
    ck_assert_ptr_ne(inst, a);
    CAP_RELEASE(inst);
    CAP_RELEASE(a);
    CAP_RELEASE(b);
    CAP_RELEASE(n);
    ck_assert_int_eq(f.destroyed, 1); /* only `inst`: the registry holds the service */
    cap_registry_destroy(reg);
    ck_assert_int_eq(f.destroyed, 2);
}
END_TEST

static cap_result nested_factory(struct cap_registry *reg, void *ctx, const cap_uuid *iid,
                                 void **out)
{
    /* A factory may use the registry it was called through (a service's
     * factory runs under the registry's lock). */
    return cap_registry_create_instance_by_contract(reg, SAMPLE_CONTRACT, iid, out);
}

START_TEST(factory_uses_registry)
{
    struct factory_ctx f = {0};
    struct cap_registry *reg = new_registry(&f);
    cap_uuid c = cid("abcdefab-2222-4333-8444-555555555555");
    ck_assert_int_eq(cap_registry_register_class(reg, &c, "@capsule.org/test/nested;1", "Nested",
                                                 nested_factory, NULL),
                     CAP_OK);
    ICounter *a = NULL;
    ck_assert_int_eq(cap_registry_get_service_by_contract(reg, "@capsule.org/test/nested;1",
                                                          &IID_ICounter, (void **)&a),
                     CAP_OK);
    CAP_RELEASE(a);
    ck_assert_int_eq(f.calls, 1);
    cap_registry_destroy(reg);
    ck_assert_int_eq(f.destroyed, 1);
}
END_TEST

START_TEST(destroy_null)
{
    cap_registry_destroy(NULL);
    ck_assert_int_eq(cap_registry_create(NULL), CAP_E_POINTER);
}
END_TEST

TCase *tcase_registry(void)
{
    TCase *tc = tcase_create("registry");
    tcase_add_test(tc, create_by_cid_and_contract);
    tcase_add_test(tc, not_registered);
    tcase_add_test(tc, no_interface);
    tcase_add_test(tc, duplicates_refused);
    tcase_add_test(tc, factory_failure);
    tcase_add_test(tc, services_are_singletons);
    tcase_add_test(tc, factory_uses_registry);
    tcase_add_test(tc, destroy_null);
    return tc;
}
