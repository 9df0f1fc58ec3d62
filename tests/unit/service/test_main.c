/*
 * tests/unit/service/test_main.c - the service suite and its fixture: each
 * test gets its own CAPSULE_HOME (mkdtemp) and its own service object, as
 * capsule-svc would create it, with a registry reading BUILD/lib/components.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <capsule/uuid.h>

#include "svc_test.h"

char test_home[256];
struct cap_registry *test_reg;
struct svc *test_svc;
ICapsule *capsule;

static void start(void)
{
    ck_assert_int_eq(svc_create(test_home, test_reg, &test_svc), CAP_OK);
    capsule = svc_icapsule(test_svc);
}

static void stop(void)
{
    svc_uninit(test_svc);
    svc_release(test_svc);
    test_svc = NULL;
    capsule = NULL;
}

void svc_setup(void)
{
    char *dir = NULL;
    snprintf(test_home, sizeof(test_home), "/tmp/capsule-svc-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(test_home));
    ck_assert_int_eq(cap_exe_relative_path("../lib/components", &dir), CAP_OK);
    ck_assert_int_eq(cap_registry_create(&test_reg), CAP_OK);
    ck_assert_int_eq(cap_registry_load_manifests(test_reg, dir), CAP_OK);
    cap_str_free(dir);
    start();
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

void svc_teardown(void)
{
    if (test_svc)
        stop();
    cap_registry_destroy(test_reg);
    test_reg = NULL;
    nftw(test_home, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void svc_restart(void)
{
    stop();
    start();
}

IMachine *make_machine(const char *name)
{
    IMachine *m = NULL;
    cap_uuid nil = {{0}};
    ck_assert_int_eq(ICapsule_CreateMachine(capsule, "", name, "Linux_64", &nil, CAP_FALSE, &m),
                     CAP_OK);
    ck_assert_int_eq(IMachine_SaveSettings(m), CAP_OK);
    ck_assert_int_eq(ICapsule_RegisterMachine(capsule, m), CAP_OK);
    return m;
}

ISession *new_session(void)
{
    ISession *s = NULL;
    ck_assert_int_eq(cap_registry_create_instance_by_contract(test_reg, CAP_CONTRACT_Session,
                                                              &IID_ISession, (void **)&s),
                     CAP_OK);
    return s;
}

void test_machine_file(struct machine_file *mf)
{
    memset(mf, 0, sizeof(*mf));
    ck_assert_int_eq(machine_cfg_init(&mf->cfg), CAP_OK);
    ck_assert_int_eq(cap_uuid_generate(&mf->id), CAP_OK);
    cap_str_free(mf->cfg.name);
    mf->cfg.name = cap_str_dup("x");
}

char *test_format(const struct machine_file *mf)
{
    size_t len;
    char *text = settings_format_machine(mf, &len);
    ck_assert_ptr_nonnull(text);
    return text;
}

char *read_file(const char *path, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    if (CAP_FAILED(settings_slurp(path, &buf, &n)))
        return NULL;
    if (len)
        *len = n;
    return buf;
}

void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

char *get_str(cap_result (*fn)(IMachine *, char **), IMachine *m)
{
    char *s = NULL;
    ck_assert_int_eq(fn(m, &s), CAP_OK);
    return s;
}

int main(void)
{
    Suite *s = suite_create("service");
    suite_add_tcase(s, tcase_settings());
    suite_add_tcase(s, tcase_machines());
    suite_add_tcase(s, tcase_sessions());
    suite_add_tcase(s, tcase_events());
    suite_add_tcase(s, tcase_listeners());
    suite_add_tcase(s, tcase_cpuprofiles());
    suite_add_tcase(s, tcase_limits());
    suite_add_tcase(s, tcase_media());
    suite_add_tcase(s, tcase_storage());
    suite_add_tcase(s, tcase_vrde());
    suite_add_tcase(s, tcase_net());
    suite_add_tcase(s, tcase_graphics());
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
