/*
 * tests/unit/host/test_host.c - the Host component (service/host).
 *
 * Creates Host through a registry reading BUILD/lib/components, exactly as
 * capsule-svc and the SDK demo do, and checks each IHost attribute against
 * what the test reads from the OS itself.
 */
#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <capsule/capsule.h>
#include <capsule/mem.h>
#include <capsule/registry.h>

static struct cap_registry *reg;
static IHost *host;

static void setup(void)
{
    char *dir = NULL;
    ck_assert_int_eq(cap_exe_relative_path("../lib/components", &dir), CAP_OK);
    ck_assert_int_eq(cap_registry_create(&reg), CAP_OK);
    ck_assert_int_eq(cap_registry_load_manifests(reg, dir), CAP_OK);
    cap_str_free(dir);
    ck_assert_int_eq(cap_registry_create_instance_by_contract(reg, CAP_CONTRACT_Host, &IID_IHost,
                                                              (void **)&host),
                     CAP_OK);
}

static void teardown(void)
{
    if (host)
        IHost_Release(host);
    host = NULL;
    cap_registry_destroy(reg);
    reg = NULL;
}

START_TEST(test_cpu)
{
    uint32_t n = 0, mhz = 0;
    char *desc = NULL;
    ck_assert_int_eq(IHost_GetProcessorCount(host, &n), CAP_OK);
    ck_assert_uint_eq(n, (uint32_t)sysconf(_SC_NPROCESSORS_ONLN));
    ck_assert_int_eq(IHost_GetProcessorDescription(host, &desc), CAP_OK);
    ck_assert_ptr_nonnull(desc);
    ck_assert_int_eq(IHost_GetProcessorSpeed(host, &mhz), CAP_OK);
    ck_assert_uint_lt(mhz, 100000);
    cap_str_free(desc);
}
END_TEST

START_TEST(test_memory)
{
    uint32_t total = 0, avail = 0;
    ck_assert_int_eq(IHost_GetMemorySize(host, &total), CAP_OK);
    ck_assert_int_eq(IHost_GetMemoryAvailable(host, &avail), CAP_OK);
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    ck_assert_uint_eq(total, (uint32_t)((unsigned long long)pages * psz / (1024 * 1024)));
    ck_assert_uint_gt(avail, 0);
    ck_assert_uint_le(avail, total);
}
END_TEST

START_TEST(test_os)
{
    char *name = NULL, *ver = NULL;
    struct utsname u;
    ck_assert_int_eq(uname(&u), 0);
    ck_assert_int_eq(IHost_GetOperatingSystem(host, &name), CAP_OK);
    ck_assert_int_eq(IHost_GetOsVersion(host, &ver), CAP_OK);
    ck_assert_str_eq(name, u.sysname);
    ck_assert_str_eq(ver, u.release);
    cap_str_free(name);
    cap_str_free(ver);
}
END_TEST

START_TEST(test_driver)
{
    HostDriverKind kind = HostDriverKind_Null;
    cap_bool avail = 2;
    char *status = NULL;
    ck_assert_int_eq(IHost_GetHostDriver(host, &kind), CAP_OK);
    ck_assert_int_eq(kind, HostDriverKind_Kvm);
    ck_assert_int_eq(IHost_GetHostDriverAvailable(host, &avail), CAP_OK);
    ck_assert_int_eq(IHost_GetHostDriverStatus(host, &status), CAP_OK);
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    ck_assert_int_eq(avail, fd >= 0);
    ck_assert_ptr_nonnull(strstr(status, fd >= 0 ? "KVM API 12" : "/dev/kvm: "));
    if (fd >= 0)
        close(fd);
    cap_str_free(status);
}
END_TEST

START_TEST(test_time)
{
    int64_t ms = 0;
    int16_t off = 0;
    ck_assert_int_eq(IHost_GetUtcTime(host, &ms), CAP_OK);
    ck_assert_int_eq(IHost_GetUtcOffset(host, &off), CAP_OK);
    int64_t now = (int64_t)time(NULL) * 1000;
    ck_assert_int_lt(llabs(ms - now), 5000);
    ck_assert_int_le(abs(off), 14 * 60);
}
END_TEST

START_TEST(test_null_out)
{
    ck_assert_int_eq(IHost_GetProcessorCount(host, NULL), CAP_E_POINTER);
    ck_assert_int_eq(IHost_GetOsVersion(host, NULL), CAP_E_POINTER);
}
END_TEST

START_TEST(test_qi)
{
    ISupports *unk = NULL;
    void *none = (void *)1;
    ck_assert_int_eq(IHost_QueryInterface(host, &IID_ISupports, (void **)&unk), CAP_OK);
    ck_assert_ptr_eq(unk, host);
    ISupports_Release(unk);
    ck_assert_int_eq(IHost_QueryInterface(host, &IID_IMachine, &none), CAP_E_NOINTERFACE);
    ck_assert_ptr_null(none);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("host");
    TCase *tc = tcase_create("host");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_cpu);
    tcase_add_test(tc, test_memory);
    tcase_add_test(tc, test_os);
    tcase_add_test(tc, test_driver);
    tcase_add_test(tc, test_time);
    tcase_add_test(tc, test_null_out);
    tcase_add_test(tc, test_qi);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
