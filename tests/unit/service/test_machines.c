/*
 * tests/unit/service/test_machines.c - ICapsule and IMachine: create,
 * register, find, modify, save, reload, unregister, delete; the rules of
 * every setter; guest OS types, system properties, extra data; the IPC
 * diagnostics (clientCount, objectHandleCount).
 */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capsule/uuid.h>

#include "svc_test.h"

START_TEST(test_lifecycle)
{
    IMachine *m = NULL;
    cap_uuid nil = {{0}}, id;
    char *path = NULL;
    ck_assert_int_eq(ICapsule_ComposeMachineFilename(capsule, "de/mo", "", &path), CAP_OK);
    char want[600];
    snprintf(want, sizeof(want), "%s/Machines/de_mo/de_mo.capsule", test_home);
    ck_assert_str_eq(path, want);
    cap_str_free(path);
    ck_assert_int_eq(ICapsule_CreateMachine(capsule, "", "", "", &nil, CAP_FALSE, &m),
                     CAP_E_INVALIDARG);
    ck_assert_int_eq(ICapsule_CreateMachine(capsule, "", "x", "NoSuchOS", &nil, CAP_FALSE, &m),
                     CAP_E_OBJECT_NOT_FOUND);
    ck_assert_int_eq(ICapsule_CreateMachine(capsule, "rel/x.capsule", "x", "", &nil, CAP_FALSE,
                                            &m), CAP_E_INVALIDARG);
    ck_assert_int_eq(ICapsule_CreateMachine(capsule, "", "demo", "Linux_64", &nil, CAP_FALSE, &m),
                     CAP_OK);
    uint32_t mem = 0;
    ck_assert_int_eq(IMachine_GetMemorySize(m, &mem), CAP_OK);
    ck_assert_uint_eq(mem, 512); /* Linux_64's recommendation */
    char *cmd = get_str(m->vtbl->GetCmdline, m);
    ck_assert_str_eq(cmd, "console=ttyS0");
    cap_str_free(cmd);
    /* New machines are mutable before registration. */
    ck_assert_int_eq(IMachine_SetMemorySize(m, 256), CAP_OK);
    ck_assert_int_eq(IMachine_SetCpuCount(m, 1), CAP_OK);
    char kernel[300];
    snprintf(kernel, sizeof(kernel), "%s/vmlinuz", test_home);
    write_file(kernel, "kernel");
    ck_assert_int_eq(IMachine_SetKernel(m, kernel), CAP_OK);
    ck_assert_int_eq(IMachine_SetDescription(m, "a\nb"), CAP_OK);
    ck_assert_int_eq(ICapsule_RegisterMachine(capsule, m), CAP_OK);
    ck_assert_int_eq(ICapsule_RegisterMachine(capsule, m), CAP_E_INVALID_OBJECT_STATE);
    ck_assert_int_eq(IMachine_GetId(m, &id), CAP_OK);
    path = get_str(m->vtbl->GetSettingsFilePath, m);
    ck_assert_int_eq(access(path, F_OK), 0);
    /* Registered: setters refuse. */
    ck_assert_int_eq(IMachine_SetMemorySize(m, 128), CAP_E_INVALID_OBJECT_STATE);
    /* A second machine with the same name cannot register. */
    IMachine *dup = NULL;
    char other[600];
    snprintf(other, sizeof(other), "%s/other/demo.capsule", test_home);
    ck_assert_int_eq(ICapsule_CreateMachine(capsule, other, "demo", "", &nil, CAP_FALSE, &dup),
                     CAP_OK);
    ck_assert_int_eq(ICapsule_RegisterMachine(capsule, dup), CAP_E_OBJECT_EXISTS);
    ck_assert_int_eq(IMachine_SetName(dup, "demo"), CAP_E_OBJECT_EXISTS);
    IMachine_Release(dup);
    /* Existing file without forceOverwrite. */
    ck_assert_int_eq(ICapsule_CreateMachine(capsule, path, "other", "", &nil, CAP_FALSE, &dup),
                     CAP_E_OBJECT_EXISTS);
    IMachine_Release(m);

    /* Reload from disk. */
    svc_restart();
    IMachine *f = NULL;
    char ids[CAP_UUID_BUFSIZE], braces[CAP_UUID_BUFSIZE + 2];
    cap_uuid_format(&id, ids);
    snprintf(braces, sizeof(braces), "{%s}", ids);
    ck_assert_int_eq(ICapsule_FindMachine(capsule, "nope", &f), CAP_E_OBJECT_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "'nope'"));
    ck_assert_int_eq(ICapsule_FindMachine(capsule, braces, &f), CAP_OK);
    IMachine_Release(f);
    ck_assert_int_eq(ICapsule_FindMachine(capsule, "demo", &f), CAP_OK);
    ck_assert_int_eq(IMachine_GetMemorySize(f, &mem), CAP_OK);
    ck_assert_uint_eq(mem, 256);
    char *d = get_str(f->vtbl->GetDescription, f);
    ck_assert_str_eq(d, "a\nb");
    cap_str_free(d);
    MachineState st;
    ck_assert_int_eq(IMachine_GetState(f, &st), CAP_OK);
    ck_assert_int_eq(st, MachineState_PoweredOff);

    /* Unregister, then delete. */
    ck_assert_int_eq(IMachine_DeleteConfig(f, &(IProgress *){NULL}), CAP_E_INVALID_OBJECT_STATE);
    ck_assert_int_eq(IMachine_Unregister(f), CAP_OK);
    ck_assert_int_eq(IMachine_Unregister(f), CAP_E_INVALID_OBJECT_STATE);
    ck_assert_int_eq(ICapsule_FindMachine(capsule, "demo", &dup), CAP_E_OBJECT_NOT_FOUND);
    ck_assert_int_eq(access(path, F_OK), 0); /* files stay until deleteConfig */
    IProgress *p = NULL;
    ck_assert_int_eq(IMachine_DeleteConfig(f, &p), CAP_OK);
    ck_assert_int_eq(IProgress_WaitForCompletion(p, 10000), CAP_OK);
    int32_t rc = -1;
    ck_assert_int_eq(IProgress_GetResultCode(p, &rc), CAP_OK);
    ck_assert_int_eq(rc, CAP_OK);
    ck_assert_int_eq(access(path, F_OK), -1);
    IProgress_Release(p);
    IMachine_Release(f);
    svc_restart();
    uint32_t n = 9;
    IMachine **list = NULL;
    ck_assert_int_eq(ICapsule_GetMachines(capsule, &n, &list), CAP_OK);
    ck_assert_uint_eq(n, 0);
    cap_free(list);
    cap_str_free(path);
}
END_TEST

START_TEST(test_open_register)
{
    IMachine *m = make_machine("portable");
    char *path = get_str(m->vtbl->GetSettingsFilePath, m);
    ck_assert_int_eq(IMachine_Unregister(m), CAP_OK);
    IMachine_Release(m);
    IMachine *o = NULL;
    ck_assert_int_eq(ICapsule_OpenMachine(capsule, "/nonexistent/x.capsule", &o),
                     CAP_E_FILE_ERROR);
    ck_assert_int_eq(ICapsule_OpenMachine(capsule, path, &o), CAP_OK);
    ck_assert_int_eq(ICapsule_RegisterMachine(capsule, o), CAP_OK);
    char *name = get_str(o->vtbl->GetName, o);
    ck_assert_str_eq(name, "portable");
    cap_str_free(name);
    IMachine_Release(o);
    cap_str_free(path);
}
END_TEST

START_TEST(test_setter_rules)
{
    IMachine *m = NULL;
    cap_uuid nil = {{0}};
    ck_assert_int_eq(ICapsule_CreateMachine(capsule, "", "rules", "", &nil, CAP_FALSE, &m),
                     CAP_OK);
    ck_assert_int_eq(IMachine_SetMemorySize(m, 0), CAP_E_INVALIDARG);
    ck_assert_int_eq(IMachine_SetCpuCount(m, 0), CAP_E_INVALIDARG);
    ck_assert_int_eq(IMachine_SetEngine(m, (ExecutionEngine)9), CAP_E_INVALIDARG);
    /* the platform's limits: test_limits.c */
    ck_assert_int_eq(IMachine_SetName(m, ""), CAP_E_INVALIDARG);
    ck_assert_int_eq(IMachine_SetName(m, "bad\xff"), CAP_E_INVALIDARG);
    ck_assert_int_eq(IMachine_SetDescription(m, "bell\a"), CAP_E_INVALIDARG);
    ck_assert_int_eq(IMachine_SetOsTypeId(m, "Nope"), CAP_E_OBJECT_NOT_FOUND);
    ck_assert_int_eq(IMachine_SetOsTypeId(m, "linux_64"), CAP_OK);
    char *os = get_str(m->vtbl->GetOsTypeId, m);
    ck_assert_str_eq(os, "Linux_64");
    cap_str_free(os);
    ck_assert_int_eq(IMachine_SetKernel(m, "relative"), CAP_E_INVALIDARG);
    char big[SETTINGS_CMDLINE_MAX + 2];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    ck_assert_int_eq(IMachine_SetCmdline(m, big), CAP_E_INVALIDARG);
    big[SETTINGS_CMDLINE_MAX] = 0;
    ck_assert_int_eq(IMachine_SetCmdline(m, big), CAP_OK);
    /* Serial ports. */
    ISerialPort *p0 = NULL, *p1 = NULL;
    ck_assert_int_eq(IMachine_GetSerialPort(m, 4, &p0), CAP_E_INVALIDARG);
    ck_assert_int_eq(IMachine_GetSerialPort(m, 0, &p0), CAP_OK);
    ck_assert_int_eq(IMachine_GetSerialPort(m, 1, &p1), CAP_OK);
    ck_assert_int_eq(ISerialPort_SetIrq(p0, 16), CAP_E_INVALIDARG);
    ck_assert_int_eq(ISerialPort_SetIoBase(p0, 0x3f9), CAP_E_INVALIDARG);
    ck_assert_int_eq(ISerialPort_SetPath(p0, "rel"), CAP_E_INVALIDARG);
    ck_assert_int_eq(ISerialPort_SetEnabled(p0, CAP_TRUE), CAP_OK);
    ck_assert_int_eq(ISerialPort_SetHostMode(p0, PortMode_File), CAP_OK);
    /* File mode without a path: saveSettings refuses. */
    ck_assert_int_eq(IMachine_SaveSettings(m), CAP_E_INVALIDARG);
    ck_assert_int_eq(ISerialPort_SetPath(p0, "/tmp/serial.log"), CAP_OK);
    ck_assert_int_eq(ISerialPort_SetEnabled(p1, CAP_TRUE), CAP_OK);
    ck_assert_int_eq(ISerialPort_SetIoBase(p1, 0x3f8), CAP_OK);
    ck_assert_int_eq(IMachine_SaveSettings(m), CAP_E_INVALIDARG); /* overlap */
    ck_assert_int_eq(ISerialPort_SetIoBase(p1, 0x2f8), CAP_OK);
    ck_assert_int_eq(IMachine_SaveSettings(m), CAP_OK);
    cap_bool mod = CAP_TRUE;
    ck_assert_int_eq(IMachine_GetSettingsModified(m, &mod), CAP_OK);
    ck_assert(!mod);
    /* discardSettings returns to the last save. */
    ck_assert_int_eq(IMachine_SetMemorySize(m, 99), CAP_OK);
    ck_assert_int_eq(IMachine_GetSettingsModified(m, &mod), CAP_OK);
    ck_assert(mod);
    ck_assert_int_eq(IMachine_DiscardSettings(m), CAP_OK);
    uint32_t mem;
    IMachine_GetMemorySize(m, &mem);
    ck_assert_uint_ne(mem, 99);
    ck_assert_int_eq(ICapsule_RegisterMachine(capsule, m), CAP_OK);
    ck_assert_int_eq(ISerialPort_SetIrq(p0, 3), CAP_E_INVALID_OBJECT_STATE);
    ck_assert_int_eq(IMachine_DiscardSettings(m), CAP_E_INVALID_OBJECT_STATE);
    ck_assert_int_eq(IMachine_SaveSettings(m), CAP_E_INVALID_OBJECT_STATE);
    ISerialPort_Release(p0);
    ISerialPort_Release(p1);
    IMachine_Release(m);
}
END_TEST

START_TEST(test_extra_and_props)
{
    IMachine *m = make_machine("extra");
    ck_assert_int_eq(IMachine_SetExtraData(m, "", "x"), CAP_E_INVALIDARG);
    ck_assert_int_eq(IMachine_SetExtraData(m, "gui/x", "a&b<c>\"d\""), CAP_OK);
    ck_assert_int_eq(ICapsule_SetExtraData(capsule, "global/k", "v"), CAP_OK);
    IMachine_Release(m);
    svc_restart();
    ck_assert_int_eq(ICapsule_FindMachine(capsule, "extra", &m), CAP_OK);
    char *v = NULL;
    ck_assert_int_eq(IMachine_GetExtraData(m, "gui/x", &v), CAP_OK);
    ck_assert_str_eq(v, "a&b<c>\"d\"");
    cap_str_free(v);
    ck_assert_int_eq(IMachine_GetExtraData(m, "unset", &v), CAP_OK);
    ck_assert_str_eq(v, "");
    cap_str_free(v);
    ck_assert_int_eq(ICapsule_GetExtraData(capsule, "global/k", &v), CAP_OK);
    ck_assert_str_eq(v, "v");
    cap_str_free(v);
    ck_assert_int_eq(IMachine_SetExtraData(m, "gui/x", ""), CAP_OK);
    uint32_t n = 9;
    char **keys = NULL;
    ck_assert_int_eq(IMachine_GetExtraDataKeys(m, &n, &keys), CAP_OK);
    ck_assert_uint_eq(n, 0);
    cap_array_free(CAP_TLT_STRING, n, keys);
    IMachine_Release(m);

    ISystemProperties *sp = NULL;
    ck_assert_int_eq(ICapsule_GetSystemProperties(capsule, &sp), CAP_OK);
    uint32_t t = 0;
    unsetenv("CAPSULE_SVC_IDLE_TIMEOUT");
    ck_assert_int_eq(ISystemProperties_GetServiceIdleTimeout(sp, &t), CAP_OK);
    ck_assert_uint_eq(t, 5000);
    ck_assert_int_eq(ISystemProperties_SetServiceIdleTimeout(sp, 1234), CAP_OK);
    ck_assert_int_eq(ISystemProperties_SetLogHistoryCount(sp, 101), CAP_E_INVALIDARG);
    char *fe = NULL;
    ck_assert_int_eq(ISystemProperties_GetDefaultFrontend(sp, &fe), CAP_OK);
    ck_assert_str_eq(fe, "headless");
    cap_str_free(fe);
    ISystemProperties_Release(sp);
    svc_restart();
    ck_assert_uint_eq(svc_idle_timeout(test_svc), 1234);
    setenv("CAPSULE_SVC_IDLE_TIMEOUT", "77", 1);
    ck_assert_uint_eq(svc_idle_timeout(test_svc), 77);
    /* Not a uint32: the setting stands. */
    static const char *const bad[] = {"", "12x", "-", "4294967296", " 5"};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        setenv("CAPSULE_SVC_IDLE_TIMEOUT", bad[i], 1);
        ck_assert_uint_eq(svc_idle_timeout(test_svc), 1234);
    }
    setenv("CAPSULE_SVC_IDLE_TIMEOUT", "4294967295", 1);
    ck_assert_uint_eq(svc_idle_timeout(test_svc), 4294967295u);
    unsetenv("CAPSULE_SVC_IDLE_TIMEOUT");

    IGuestOSType **types = NULL;
    ck_assert_int_eq(ICapsule_GetGuestOSTypes(capsule, &n, &types), CAP_OK);
    ck_assert_uint_ge(n, 3);
    cap_array_free(CAP_TLT_IFACE, n, types);
    IGuestOSType *gt = NULL;
    ck_assert_int_eq(ICapsule_GetGuestOSType(capsule, "LINUX_64", &gt), CAP_OK);
    cap_bool b64 = CAP_FALSE;
    IGuestOSType_GetIs64Bit(gt, &b64);
    ck_assert(b64);
    IGuestOSType_Release(gt);
    IHost *h = NULL;
    ck_assert_int_eq(ICapsule_GetHost(capsule, &h), CAP_OK);
    uint32_t cpus = 0;
    ck_assert_int_eq(IHost_GetProcessorCount(h, &cpus), CAP_OK);
    ck_assert_uint_gt(cpus, 0);
    IHost_Release(h);
}
END_TEST

/* Stand-ins for the IPC server's counters (capsule-svc passes the real ones). */
static char fake_srv_byte; /* only its address matters */
#define fake_srv ((struct cap_ipc_server *)&fake_srv_byte)
static uint32_t fake_connections(struct cap_ipc_server *srv)
{
    return srv == fake_srv ? 3 : 1000;
}
static uint32_t fake_handles(struct cap_ipc_server *srv)
{
    return srv == fake_srv ? 42 : 1000;
}

/* clientCount and objectHandleCount: 0 in-process, else what the server says. */
START_TEST(test_ipc_diagnostics)
{
    uint32_t clients = 9, handles = 9;
    ck_assert_int_eq(ICapsule_GetClientCount(capsule, &clients), CAP_OK);
    ck_assert_int_eq(ICapsule_GetObjectHandleCount(capsule, &handles), CAP_OK);
    ck_assert_uint_eq(clients, 0);
    ck_assert_uint_eq(handles, 0);
    ck_assert_int_eq(ICapsule_GetClientCount(capsule, NULL), CAP_E_POINTER);
    ck_assert_int_eq(ICapsule_GetObjectHandleCount(capsule, NULL), CAP_E_POINTER);

    const struct svc_ipc_stats stats = {
        .connection_count = fake_connections,
        .handle_count = fake_handles,
        .srv = fake_srv,
    };
    svc_set_ipc_stats(test_svc, &stats);
    ck_assert_int_eq(ICapsule_GetClientCount(capsule, &clients), CAP_OK);
    ck_assert_int_eq(ICapsule_GetObjectHandleCount(capsule, &handles), CAP_OK);
    ck_assert_uint_eq(clients, 3);
    ck_assert_uint_eq(handles, 42);
    svc_set_ipc_stats(test_svc, NULL);
    ck_assert_int_eq(ICapsule_GetObjectHandleCount(capsule, &handles), CAP_OK);
    ck_assert_uint_eq(handles, 0);
}
END_TEST

/* Renames m (registered) to `name` through a write-lock session. */
static cap_result rename_machine(IMachine *m, const char *name)
{
    ISession *s = new_session();
    IMachine *sm = NULL;
    ck_assert_int_eq(IMachine_LockMachine(m, s, LockType_Write), CAP_OK);
    ck_assert_int_eq(ISession_GetMachine(s, &sm), CAP_OK);
    cap_result rc = IMachine_SetName(sm, name);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_SaveSettings(sm);
    IMachine_Release(sm);
    ck_assert_int_eq(ISession_UnlockMachine(s), CAP_OK);
    ISession_Release(s);
    return rc;
}

START_TEST(test_rename_moves_files)
{
    char old_dir[600], new_dir[600], logs[700], want[700];
    snprintf(old_dir, sizeof(old_dir), "%s/Machines/tiny", test_home);
    snprintf(new_dir, sizeof(new_dir), "%s/Machines/tiny2", test_home);
    IMachine *m = make_machine("tiny");
    snprintf(logs, sizeof(logs), "%s/Logs", old_dir);
    ck_assert_int_eq(mkdir(logs, 0700), 0);
    snprintf(logs, sizeof(logs), "%s/Logs/capsule-vm.log", old_dir);
    write_file(logs, "a log\n");
    ck_assert_int_eq(rename_machine(m, "tiny2"), CAP_OK);
    /* The folder, the settings file and the logs follow the name. */
    ck_assert_int_ne(access(old_dir, F_OK), 0);
    snprintf(want, sizeof(want), "%s/tiny2.capsule", new_dir);
    char *path = get_str(m->vtbl->GetSettingsFilePath, m);
    ck_assert_str_eq(path, want);
    ck_assert_int_eq(access(want, F_OK), 0);
    cap_str_free(path);
    snprintf(want, sizeof(want), "%s/Logs/capsule-vm.log", new_dir);
    ck_assert_int_eq(access(want, F_OK), 0);
    /* The old name is free for a new machine. */
    IMachine *again = make_machine("tiny");
    IMachine_Release(again);
    /* A name whose folder exists is refused; nothing moves. */
    ck_assert_int_eq(rename_machine(m, "tiny"), CAP_E_OBJECT_EXISTS); /* registered */
    snprintf(want, sizeof(want), "%s/Machines/tiny3", test_home);
    ck_assert_int_eq(mkdir(want, 0700), 0);
    ck_assert_int_eq(rename_machine(m, "tiny3"), CAP_E_OBJECT_EXISTS);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "exists"));
    snprintf(want, sizeof(want), "%s/tiny2.capsule", new_dir);
    ck_assert_int_eq(access(want, F_OK), 0);
    IMachine_Release(m);
    /* capsule.xml lists the new place: a restarted service finds it. */
    svc_restart();
    IMachine *f = NULL;
    ck_assert_int_eq(ICapsule_FindMachine(capsule, "tiny2", &f), CAP_OK);
    path = get_str(f->vtbl->GetSettingsFilePath, f);
    ck_assert_str_eq(path, want);
    cap_str_free(path);
    IMachine_Release(f);
}
END_TEST

TCase *tcase_machines(void)
{
    TCase *tc = tcase_create("machines");
    tcase_add_checked_fixture(tc, svc_setup, svc_teardown);
    tcase_add_test(tc, test_lifecycle);
    tcase_add_test(tc, test_open_register);
    tcase_add_test(tc, test_setter_rules);
    tcase_add_test(tc, test_extra_and_props);
    tcase_add_test(tc, test_ipc_diagnostics);
    tcase_add_test(tc, test_rename_moves_files);
    return tc;
}
