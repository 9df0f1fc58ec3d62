/*
 * tests/unit/service/test_limits.c - the machine limits come from one
 * definition (vmm/platform/platform_limits.h): ISystemProperties publishes
 * them, IMachine's setters refuse what this build cannot run with the limit
 * and why (vCPUs, the raw engine, a boot file that is not there), and the
 * settings reader still loads older files that hold more.
 */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform/platform_limits.h"
#include "svc_test.h"

static IMachine *new_machine(const char *name)
{
    IMachine *m = NULL;
    cap_uuid nil = {{0}};
    ck_assert_int_eq(ICapsule_CreateMachine(capsule, "", name, "", &nil, CAP_FALSE, &m), CAP_OK);
    return m;
}

/* The last error's message contains `part`. */
static void ck_message(const char *part)
{
    const char *msg = cap_error_peek_message();
    ck_assert_msg(msg && strstr(msg, part), "message '%s' lacks '%s'", msg ? msg : "(none)", part);
    cap_error_clear();
}

START_TEST(test_sysprops_publish_the_platform)
{
    ISystemProperties *sp = NULL;
    uint32_t v = 0;
    ck_assert_int_eq(ICapsule_GetSystemProperties(capsule, &sp), CAP_OK);
    ck_assert_int_eq(ISystemProperties_GetMinGuestRAM(sp, &v), CAP_OK);
    ck_assert_uint_eq(v, PLATFORM_MIN_RAM_MB);
    ck_assert_int_eq(ISystemProperties_GetMaxGuestRAM(sp, &v), CAP_OK);
    ck_assert_uint_eq(v, PLATFORM_MAX_RAM_MB);
    ck_assert_int_eq(ISystemProperties_GetMinGuestCPUCount(sp, &v), CAP_OK);
    ck_assert_uint_eq(v, PLATFORM_MIN_CPUS);
    ck_assert_int_eq(ISystemProperties_GetMaxGuestCPUCount(sp, &v), CAP_OK);
    ck_assert_uint_eq(v, PLATFORM_MAX_CPUS);
    /* the values themselves: 36-bit guest addresses less the 512 MiB hole,
     * one vCPU until SMP */
    ck_assert_uint_eq(PLATFORM_MAX_RAM_MB, 65024);
    ck_assert_uint_eq(PLATFORM_MAX_CPUS, 1);
    uint32_t n = 0;
    ExecutionEngine *engines = NULL;
    ck_assert_int_eq(ISystemProperties_GetSupportedEngines(sp, &n, &engines), CAP_OK);
    ck_assert_uint_eq(n, 4);
    for (uint32_t i = 0; i < n; i++)
        ck_assert_ptr_null(platform_engine_missing((unsigned)engines[i]));
    ck_assert_int_eq(engines[0], ExecutionEngine_Auto);
    ck_assert_int_eq(engines[1], ExecutionEngine_Hm);
    ck_assert_int_eq(engines[2], ExecutionEngine_Rem);
    ck_assert_int_eq(engines[3], ExecutionEngine_Raw);
    cap_free(engines);
    ISystemProperties_Release(sp);
}
END_TEST

START_TEST(test_setters_hold_the_limits)
{
    IMachine *m = new_machine("limits");
    uint32_t v = 0;
    ck_assert_int_eq(IMachine_SetMemorySize(m, PLATFORM_MAX_RAM_MB), CAP_OK);
    ck_assert_int_eq(IMachine_SetMemorySize(m, PLATFORM_MAX_RAM_MB + 1), CAP_E_INVALIDARG);
    ck_message("is not between 1 and 65024 MB (the most a guest's 36-bit physical addresses");
    ck_assert_int_eq(IMachine_SetMemorySize(m, 1048576), CAP_E_INVALIDARG); /* the old bound */
    ck_assert_int_eq(IMachine_GetMemorySize(m, &v), CAP_OK);
    ck_assert_uint_eq(v, PLATFORM_MAX_RAM_MB);
    ck_assert_int_eq(IMachine_SetCpuCount(m, PLATFORM_MAX_CPUS), CAP_OK);
    ck_assert_int_eq(IMachine_SetCpuCount(m, 2), CAP_E_INVALIDARG);
    ck_message("CPU count 2 is more than 1: this build runs 1 vCPU per machine until SMP");
    ck_assert_int_eq(IMachine_SetCpuCount(m, PLATFORM_MAX_CPUS_ARCH), CAP_E_INVALIDARG);
    ck_assert_int_eq(IMachine_SetCpuCount(m, 0), CAP_E_INVALIDARG);
    ck_message("at least 1 vCPU");
    ck_assert_int_eq(IMachine_GetCpuCount(m, &v), CAP_OK);
    ck_assert_uint_eq(v, 1);
    ck_assert_int_eq(IMachine_SetEngine(m, ExecutionEngine_Rem), CAP_OK);
    ck_assert_int_eq(IMachine_SetEngine(m, ExecutionEngine_Raw), CAP_OK); /* Linux: vmm/raw */
    ck_assert_int_eq(IMachine_SetEngine(m, ExecutionEngine_Rem), CAP_OK);
    ck_assert_int_eq(IMachine_SetEngine(m, (ExecutionEngine)PLATFORM_ENGINE_COUNT),
                     CAP_E_INVALIDARG);
    ExecutionEngine e;
    ck_assert_int_eq(IMachine_GetEngine(m, &e), CAP_OK);
    ck_assert_int_eq(e, ExecutionEngine_Rem);
    IMachine_Release(m);
}
END_TEST

/* What createMachine takes from a guest OS type is a machine this build
 * runs. */
START_TEST(test_guest_os_recommendations_fit)
{
    uint32_t n = 0, ram = 0, cpus = 0;
    IGuestOSType **types = NULL;
    ck_assert_int_eq(ICapsule_GetGuestOSTypes(capsule, &n, &types), CAP_OK);
    ck_assert_uint_gt(n, 0);
    for (uint32_t i = 0; i < n; i++) {
        ck_assert_int_eq(IGuestOSType_GetRecommendedRAM(types[i], &ram), CAP_OK);
        ck_assert_int_eq(IGuestOSType_GetRecommendedCPUCount(types[i], &cpus), CAP_OK);
        ck_assert(ram >= PLATFORM_MIN_RAM_MB && ram <= PLATFORM_MAX_RAM_MB);
        ck_assert(cpus >= PLATFORM_MIN_CPUS && cpus <= PLATFORM_MAX_CPUS);
    }
    cap_array_free(CAP_TLT_IFACE, n, types);
}
END_TEST

/* More memory than the host has is the VM process's refusal (unless
 * forced) and the CLI's warning, not the service's: the host may grow. */
START_TEST(test_memory_beyond_the_host_is_accepted)
{
    IHost *h = NULL;
    uint32_t host_mb = 0;
    ck_assert_int_eq(ICapsule_GetHost(capsule, &h), CAP_OK);
    ck_assert_int_eq(IHost_GetMemorySize(h, &host_mb), CAP_OK);
    IHost_Release(h);
    if (host_mb + 1 > PLATFORM_MAX_RAM_MB)
        return; /* a host this big: nothing beyond it to set */
    IMachine *m = new_machine("bighost");
    ck_assert_int_eq(IMachine_SetMemorySize(m, host_mb + 1), CAP_OK);
    IMachine_Release(m);
}
END_TEST

START_TEST(test_boot_files_must_exist)
{
    IMachine *m = new_machine("bootfiles");
    char path[512], missing[512];
    snprintf(path, sizeof(path), "%s/kernel.bin", test_home);
    snprintf(missing, sizeof(missing), "%s/no-such-kernel", test_home);
    write_file(path, "payload");
    ck_assert_int_eq(IMachine_SetKernel(m, path), CAP_OK);
    ck_assert_int_eq(IMachine_SetKernel(m, missing), CAP_E_FILE_ERROR);
    ck_message("cannot use the kernel '");
    ck_assert_int_eq(IMachine_SetKernel(m, missing), CAP_E_FILE_ERROR);
    ck_message("no-such-kernel': No such file or directory");
    ck_assert_int_eq(IMachine_SetInitrd(m, missing), CAP_E_FILE_ERROR);
    ck_message("cannot use the initrd '");
    ck_assert_int_eq(IMachine_SetKernel(m, test_home), CAP_E_INVALIDARG);
    ck_message("is not a regular file (a directory)");
    char *k = get_str(m->vtbl->GetKernel, m);
    ck_assert_str_eq(k, path); /* refusals changed nothing */
    cap_str_free(k);
    /* a file this user cannot read (root reads everything: not checkable) */
    if (geteuid() != 0) {
        ck_assert_int_eq(chmod(path, 0), 0);
        ck_assert_int_eq(IMachine_SetInitrd(m, path), CAP_E_FILE_ERROR);
        ck_message("Permission denied");
    }
    ck_assert_int_eq(IMachine_SetKernel(m, ""), CAP_OK); /* none */
    IMachine_Release(m);
}
END_TEST

/* A file an earlier build wrote (4 CPUs, 1 TiB, raw) still loads: the
 * machine stays accessible (tests/integration/machine_limits.sh fixes it
 * with modifyvm); powering it up is the VM process's refusal. */
START_TEST(test_older_files_still_load)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/old.capsule", test_home);
    write_file(path, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<CapsuleMachine version=\"1\">\n"
                     "  <Machine uuid=\"1b0a5c3e-3a1c-4c6f-9d55-0b0b0b0b0b0b\" name=\"old\">\n"
                     "    <Hardware memory=\"1048576\" cpus=\"256\" engine=\"raw\"/>\n"
                     "  </Machine>\n"
                     "</CapsuleMachine>\n");
    IMachine *m = NULL;
    ck_assert_int_eq(ICapsule_OpenMachine(capsule, path, &m), CAP_OK);
    ck_assert_int_eq(ICapsule_RegisterMachine(capsule, m), CAP_OK);
    uint32_t v = 0;
    ck_assert_int_eq(IMachine_GetCpuCount(m, &v), CAP_OK);
    ck_assert_uint_eq(v, 256);
    ck_assert_int_eq(IMachine_GetMemorySize(m, &v), CAP_OK);
    ck_assert_uint_eq(v, 1048576);
    ExecutionEngine e;
    ck_assert_int_eq(IMachine_GetEngine(m, &e), CAP_OK);
    ck_assert_int_eq(e, ExecutionEngine_Raw);
    IMachine_Release(m);
    /* only a value no machine can have is an error */
    struct machine_file mf;
    const char *bad = "<CapsuleMachine version=\"1\"><Machine "
                      "uuid=\"1b0a5c3e-3a1c-4c6f-9d55-0b0b0b0b0b0c\" name=\"x\">"
                      "<Hardware cpus=\"0\"/></Machine></CapsuleMachine>";
    ck_assert_int_eq(settings_parse_machine("bad.capsule", bad, strlen(bad), &mf), CAP_E_XML_ERROR);
    cap_error_clear();
}
END_TEST

TCase *tcase_limits(void)
{
    TCase *tc = tcase_create("limits");
    tcase_add_checked_fixture(tc, svc_setup, svc_teardown);
    tcase_add_test(tc, test_sysprops_publish_the_platform);
    tcase_add_test(tc, test_setters_hold_the_limits);
    tcase_add_test(tc, test_guest_os_recommendations_fit);
    tcase_add_test(tc, test_memory_beyond_the_host_is_accepted);
    tcase_add_test(tc, test_boot_files_must_exist);
    tcase_add_test(tc, test_older_files_still_load);
    return tc;
}
