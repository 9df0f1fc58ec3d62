/*
 * test_component.c - the component topic: loading a real component shared
 * object lazily through its manifest, its typelib registered while it is
 * loaded, services, factory failures with the component's own result code,
 * unloading at registry destroy (shutdown runs, the library is unmapped,
 * its typelib is gone), the default registry, and every way loading fails:
 * missing library, missing entry symbol, ABI mismatch, a table that does
 * not match its manifest, a failing init.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/registry.h>
#include <capsule/result.h>
#include <capsule/typelib.h>
#include <capsule/uuid.h>

#include "objmodel_test.h"

/* BUILD/tests/<name>, found relative to this test program. */
static char *tests_dir(const char *name)
{
    char *dir = NULL;
    ck_assert_int_eq(cap_exe_relative_path(name, &dir), CAP_OK);
    return dir;
}

/* 1 if a shared object whose path contains `name` is mapped. */
static int is_mapped(const char *name)
{
    FILE *f = fopen("/proc/self/maps", "r");
    ck_assert_ptr_nonnull(f);
    char line[4096];
    int found = 0;
    while (!found && fgets(line, sizeof(line), f))
        found = strstr(line, name) != NULL;
    fclose(f);
    return found;
}

static struct cap_registry *registry_on(const char *folder)
{
    struct cap_registry *reg = NULL;
    char *dir = tests_dir(folder);
    ck_assert_int_eq(cap_registry_create(&reg), CAP_OK);
    ck_assert_msg(cap_registry_load_manifests(reg, dir) == CAP_OK, "%s", take_message());
    cap_free(dir);
    return reg;
}

START_TEST(exe_relative_path)
{
    char *p = tests_dir("components");
    size_t len = strlen(p);
    ck_assert_str_eq(p + len - strlen("/components"), "/components");
    ck_assert_ptr_nonnull(strstr(p, "/tests/"));
    cap_free(p);
    ck_assert_int_eq(cap_exe_relative_path(NULL, &p), CAP_E_POINTER);
    cap_error_clear();
}
END_TEST

START_TEST(load_lazily_and_create)
{
    struct cap_registry *reg = registry_on("components");
    ck_assert_msg(!is_mapped("libtestcomp.so"), "loaded before the first create");
    ICounter *c = NULL;
    ck_assert_msg(cap_registry_create_instance_by_contract(reg, TESTCOMP_COUNTER_CONTRACT,
                                                           &IID_ICounter, (void **)&c) == CAP_OK,
                  "%s", take_message());
    ck_assert(is_mapped("libtestcomp.so"));
    ck_assert_int_eq(c->vtbl->Add(c, 40), CAP_OK);
    ck_assert_int_eq(c->vtbl->Add(c, 2), CAP_OK);
    int32_t v = 0;
    ck_assert_int_eq(c->vtbl->GetValue(c, &v), CAP_OK);
    ck_assert_int_eq(v, 42);
    /* By CID too, and QI rules hold for component objects as well. */
    cap_uuid cid;
    ck_assert_int_eq(cap_uuid_parse(TESTCOMP_COUNTER_CID, &cid), CAP_OK);
    ISupports *s = NULL;
    ck_assert_int_eq(cap_registry_create_instance(reg, &cid, &IID_ISupports, (void **)&s), CAP_OK);
    void *out = (void *)1;
    ck_assert_int_eq(CAP_QI(s, &IID_INamed, &out), CAP_E_NOINTERFACE);
    ck_assert_ptr_null(out);
    CAP_RELEASE(s);
    CAP_RELEASE(c);
    cap_registry_destroy(reg);
    ck_assert(!is_mapped("libtestcomp.so"));
}
END_TEST

START_TEST(typelib_lives_with_component)
{
    ck_assert_str_eq(cap_result_name(TESTCOMP_E_BROKEN), "unknown result");
    struct cap_registry *reg = registry_on("components");
    ck_assert_ptr_null(cap_typelib_find_iface_by_name("ITestHooks"));
    void *out = (void *)1;
    ck_assert_int_eq(cap_registry_create_instance_by_contract(reg, TESTCOMP_FAILING_CONTRACT,
                                                              &IID_ICounter, &out),
                     TESTCOMP_E_BROKEN);
    ck_assert_ptr_null(out);
    ck_assert_str_eq(take_message(), "the Failing class always fails");
    /* Loaded: its typelib names its result code and interface. */
    ck_assert_str_eq(cap_result_name(TESTCOMP_E_BROKEN), "TESTCOMP_E_BROKEN");
    const struct cap_tl_iface *tl = cap_typelib_find_iface(&IID_ITestHooks);
    ck_assert_ptr_nonnull(tl);
    ck_assert_str_eq(tl->name, "ITestHooks");
    ck_assert_str_eq(cap_tl_method_at(tl, 3)->name, "SetShutdownFlag");
    cap_registry_destroy(reg);
    ck_assert_str_eq(cap_result_name(TESTCOMP_E_BROKEN), "unknown result");
    ck_assert_ptr_null(cap_typelib_find_iface(&IID_ITestHooks));
}
END_TEST

START_TEST(service_and_unload)
{
    struct cap_registry *reg = registry_on("components");
    ITestHooks *h1 = NULL, *h2 = NULL;
    ck_assert_int_eq(cap_registry_get_service_by_contract(reg, TESTCOMP_HOOKS_CONTRACT,
                                                          &IID_ITestHooks, (void **)&h1),
                     CAP_OK);
    ck_assert_int_eq(cap_registry_get_service_by_contract(reg, TESTCOMP_HOOKS_CONTRACT,
                                                          &IID_ITestHooks, (void **)&h2),
                     CAP_OK);
    ck_assert_ptr_eq(h1, h2);
    ICounter *c = NULL;
    ck_assert_int_eq(cap_registry_create_instance_by_contract(reg, TESTCOMP_COUNTER_CONTRACT,
                                                              &IID_ICounter, (void **)&c),
                     CAP_OK);
    uint32_t live = 0;
    ck_assert_int_eq(h1->vtbl->GetLiveObjects(h1, &live), CAP_OK);
    ck_assert_uint_eq(live, 2); /* the service and the counter */
    CAP_RELEASE(c);
    ck_assert_int_eq(h1->vtbl->GetLiveObjects(h1, &live), CAP_OK);
    ck_assert_uint_eq(live, 1);
    int shut_down = 0;
    ck_assert_int_eq(h1->vtbl->SetShutdownFlag(h1, &shut_down), CAP_OK);
    CAP_RELEASE(h1);
    CAP_RELEASE(h2);
    ck_assert_int_eq(shut_down, 0);
    ck_assert(is_mapped("libtestcomp.so"));
    /* Destroy releases the service, then shuts the component down and
     * unloads it. */
    cap_registry_destroy(reg);
    ck_assert_int_eq(shut_down, 1);
    ck_assert(!is_mapped("libtestcomp.so"));
}
END_TEST

START_TEST(two_registries_share_nothing)
{
    struct cap_registry *a = registry_on("components");
    struct cap_registry *b = registry_on("components");
    ITestHooks *ha = NULL, *hb = NULL;
    ck_assert_int_eq(cap_registry_get_service_by_contract(a, TESTCOMP_HOOKS_CONTRACT,
                                                          &IID_ITestHooks, (void **)&ha),
                     CAP_OK);
    ck_assert_int_eq(cap_registry_get_service_by_contract(b, TESTCOMP_HOOKS_CONTRACT,
                                                          &IID_ITestHooks, (void **)&hb),
                     CAP_OK);
    ck_assert_ptr_ne(ha, hb);
    CAP_RELEASE(ha);
    CAP_RELEASE(hb);
    cap_registry_destroy(a);
    /* b's component is still loaded and usable. */
    ck_assert(is_mapped("libtestcomp.so"));
    ICounter *c = NULL;
    ck_assert_int_eq(cap_registry_create_instance_by_contract(b, TESTCOMP_COUNTER_CONTRACT,
                                                              &IID_ICounter, (void **)&c),
                     CAP_OK);
    CAP_RELEASE(c);
    ck_assert_str_eq(cap_result_name(TESTCOMP_E_BROKEN), "TESTCOMP_E_BROKEN");
    cap_registry_destroy(b);
    ck_assert(!is_mapped("libtestcomp.so"));
}
END_TEST

START_TEST(default_registry)
{
    ck_assert_ptr_null(cap_registry_default());
    cap_registry_shutdown_default(); /* harmless without init */
    ck_assert_int_eq(cap_registry_init_default("/nonexistent/components"), CAP_E_IO);
    ck_assert_ptr_nonnull(strstr(take_message(), "/nonexistent/components"));
    ck_assert_ptr_null(cap_registry_default());
    char *dir = tests_dir("components");
    ck_assert_int_eq(cap_registry_init_default(dir), CAP_OK);
    ck_assert_int_eq(cap_registry_init_default(dir), CAP_E_ALREADY_REGISTERED);
    cap_error_clear();
    cap_free(dir);
    struct cap_registry *reg = cap_registry_default();
    ck_assert_ptr_nonnull(reg);
    ICounter *c = NULL;
    ck_assert_int_eq(cap_registry_create_instance_by_contract(reg, TESTCOMP_COUNTER_CONTRACT,
                                                              &IID_ICounter, (void **)&c),
                     CAP_OK);
    CAP_RELEASE(c);
    cap_registry_shutdown_default();
    ck_assert_ptr_null(cap_registry_default());
    ck_assert(!is_mapped("libtestcomp.so"));
}
END_TEST

enum { N_THREADS = 8, N_CREATES = 500 };

struct conc_arg {
    struct cap_registry *reg;
    pthread_barrier_t *barrier;
    ITestHooks *service;
    int failures;
};

static void *concurrent_thread(void *p)
{
    struct conc_arg *a = p;
    pthread_barrier_wait(a->barrier);
    /* The first of these loads the component; the racing ones wait. */
    if (CAP_FAILED(cap_registry_get_service_by_contract(a->reg, TESTCOMP_HOOKS_CONTRACT,
                                                        &IID_ITestHooks, (void **)&a->service)))
        a->failures++;
    for (int i = 0; i < N_CREATES; i++) {
        ICounter *c = NULL;
        if (CAP_FAILED(cap_registry_create_instance_by_contract(a->reg, TESTCOMP_COUNTER_CONTRACT,
                                                                &IID_ICounter, (void **)&c)))
            a->failures++;
        else
            CAP_RELEASE(c);
    }
    return NULL;
}

START_TEST(concurrent_first_use)
{
    struct cap_registry *reg = registry_on("components");
    pthread_t th[N_THREADS];
    struct conc_arg args[N_THREADS];
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, N_THREADS);
    for (int i = 0; i < N_THREADS; i++) {
        args[i] = (struct conc_arg){.reg = reg, .barrier = &barrier};
        ck_assert_int_eq(pthread_create(&th[i], NULL, concurrent_thread, &args[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&barrier);
    uint32_t live = 0;
    for (int i = 0; i < N_THREADS; i++) {
        ck_assert_int_eq(args[i].failures, 0);
        ck_assert_ptr_eq(args[i].service, args[0].service); /* one service */
    }
    args[0].service->vtbl->GetLiveObjects(args[0].service, &live);
    ck_assert_uint_eq(live, 1);
    for (int i = 0; i < N_THREADS; i++)
        CAP_RELEASE(args[i].service);
    cap_registry_destroy(reg);
}
END_TEST

/* ---- components that fail to load --------------------------------------- */

static const struct {
    const char *name;
    cap_result rc;
    const char *message; /* must appear in the error info */
} broken[] = {
    {"missing", CAP_E_COMPONENT_LOAD, "libmissing.so"},
    {"noentry", CAP_E_COMPONENT_LOAD, "does not export capsule_component_entry"},
    {"badabi", CAP_E_BAD_COMPONENT, "ABI version 99"},
    {"mismatch", CAP_E_BAD_COMPONENT, "lacks class 'Thing'"},
    {"initfail", CAP_E_COMPONENT_LOAD, "init refuses to start"},
};

START_TEST(broken_component)
{
    struct cap_registry *reg = registry_on("badcomps");
    char contract[128], manifest[64], lib[64];
    snprintf(contract, sizeof(contract), "@capsule.org/test/%s;1", broken[_i].name);
    snprintf(manifest, sizeof(manifest), "%s.manifest:3", broken[_i].name);
    snprintf(lib, sizeof(lib), "lib%s.so", broken[_i].name);
    /* Twice: a failed load is not remembered as loaded. */
    for (int round = 0; round < 2; round++) {
        void *out = (void *)1;
        ck_assert_int_eq(
            cap_registry_create_instance_by_contract(reg, contract, &IID_ISupports, &out),
            broken[_i].rc);
        ck_assert_ptr_null(out);
        struct cap_error_info info;
        ck_assert_int_eq(cap_error_take(&info), CAP_OK);
        ck_assert_int_eq(info.result, broken[_i].rc);
        ck_assert_msg(strstr(info.message, broken[_i].message), "message: %s", info.message);
        ck_assert_msg(strstr(info.message, manifest), "message: %s", info.message);
        cap_error_info_clear(&info);
        ck_assert_msg(!is_mapped(lib), "%s stays mapped after a failed load", lib);
    }
    cap_registry_destroy(reg);
}
END_TEST

TCase *tcase_component(void)
{
    TCase *tc = tcase_create("component");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, exe_relative_path);
    tcase_add_test(tc, load_lazily_and_create);
    tcase_add_test(tc, typelib_lives_with_component);
    tcase_add_test(tc, service_and_unload);
    tcase_add_test(tc, two_registries_share_nothing);
    tcase_add_test(tc, default_registry);
    tcase_add_test(tc, concurrent_first_use);
    tcase_add_loop_test(tc, broken_component, 0, sizeof(broken) / sizeof(broken[0]));
    return tc;
}
