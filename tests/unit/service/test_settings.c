/*
 * tests/unit/service/test_settings.c - the settings files: round trips with
 * awkward text, errors naming FILE:LINE, the atomic write keeping -prev, and
 * corrupted machine files making machines inaccessible without being touched.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capsule/uuid.h>

#include "svc_test.h"

START_TEST(test_roundtrip)
{
    struct machine_file mf = {0}, back;
    ck_assert_int_eq(machine_cfg_init(&mf.cfg), CAP_OK);
    ck_assert_int_eq(cap_uuid_generate(&mf.id), CAP_OK);
    cap_str_free(mf.cfg.name);
    mf.cfg.name = cap_str_dup("a \"quoted\" <name> & 'more'");
    cap_str_free(mf.cfg.description);
    mf.cfg.description = cap_str_dup("line one\nline two\twith tab\r\n& <b>ünïcödé</b>");
    cap_str_free(mf.cfg.cmdline);
    mf.cfg.cmdline = cap_str_dup("console=ttyS0  quiet\tx=\"1\"");
    mf.cfg.memory = 777;
    mf.cfg.cpus = 3;
    mf.cfg.engine = ExecutionEngine_Rem;
    mf.cfg.serial[1].enabled = CAP_TRUE;
    mf.cfg.serial[1].mode = PortMode_Server;
    cap_str_free(mf.cfg.serial[1].path);
    mf.cfg.serial[1].path = cap_str_dup("/tmp/s ock");
    mf.state = MachineState_Aborted;
    mf.last_state_change = 1234567890123LL;
    mf.abort_reason = cap_str_dup("triple fault at 0010:00100007 (\"IDTR\" <limit> & 0)");
    ck_assert_int_eq(kv_set(&mf.extra, "k<1>", "v\n\"2\""), CAP_OK);
    size_t len;
    char *text = settings_format_machine(&mf, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert_int_eq(settings_parse_machine("x.capsule", text, len, &back), CAP_OK);
    ck_assert(cap_uuid_equal(&back.id, &mf.id));
    ck_assert_str_eq(back.cfg.name, mf.cfg.name);
    ck_assert_str_eq(back.cfg.description, mf.cfg.description);
    ck_assert_str_eq(back.cfg.cmdline, mf.cfg.cmdline);
    ck_assert_uint_eq(back.cfg.memory, 777);
    ck_assert_uint_eq(back.cfg.cpus, 3);
    ck_assert_int_eq(back.cfg.engine, ExecutionEngine_Rem);
    ck_assert(back.cfg.serial[1].enabled);
    ck_assert_int_eq(back.cfg.serial[1].mode, PortMode_Server);
    ck_assert_str_eq(back.cfg.serial[1].path, "/tmp/s ock");
    ck_assert_uint_eq(back.cfg.serial[2].io_base, 0x3e8);
    ck_assert_int_eq(back.state, MachineState_Aborted);
    ck_assert(back.last_state_change == 1234567890123LL);
    ck_assert_str_eq(back.abort_reason, mf.abort_reason);
    ck_assert_str_eq(kv_get(&back.extra, "k<1>"), "v\n\"2\"");
    cap_free(text);
    machine_file_clear(&back);
    /* The reason is only written while the state is Aborted. */
    mf.state = MachineState_PoweredOff;
    text = settings_format_machine(&mf, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_null(strstr(text, "abortReason"));
    cap_free(text);
    machine_file_clear(&mf);
}
END_TEST

static void expect_error(const char *text, const char *needle)
{
    struct machine_file mf;
    ck_assert_int_eq(settings_parse_machine("m.capsule", text, strlen(text), &mf),
                     CAP_E_XML_ERROR);
    const char *msg = cap_error_peek_message();
    ck_assert_ptr_nonnull(msg);
    ck_assert_msg(strstr(msg, needle), "message '%s' lacks '%s'", msg, needle);
}

START_TEST(test_parse_errors)
{
    const char *head = "<CapsuleMachine version=\"1\">\n";
    char buf[1024];
    expect_error("<CapsuleMachine version=\"1\">\n<Machine", "m.capsule:2:");
    expect_error("<CapsuleMachine version=\"99\"/>", "m.capsule:1: format version 99");
    snprintf(buf, sizeof(buf), "%s<Machine uuid=\"nope\" name=\"x\"/></CapsuleMachine>", head);
    expect_error(buf, "m.capsule:2: attribute 'uuid'");
    snprintf(buf, sizeof(buf),
             "%s<Machine uuid=\"6b0a5c3e-3a1c-4c6f-9d55-0b0b0b0b0b0b\" name=\"x\">\n\n"
             "<Hardware memory=\"0\"/></Machine></CapsuleMachine>", head);
    expect_error(buf, "m.capsule:4: attribute 'memory'");
    snprintf(buf, sizeof(buf),
             "%s<Machine uuid=\"6b0a5c3e-3a1c-4c6f-9d55-0b0b0b0b0b0b\" name=\"x\">\n"
             "<Bogus/></Machine></CapsuleMachine>", head);
    expect_error(buf, "m.capsule:3: unknown element <Bogus>");
    expect_error("<!DOCTYPE x [<!ENTITY a \"b\">]><CapsuleMachine version=\"1\"/>", "DOCTYPE");
    expect_error("", "m.capsule:1:");
}
END_TEST

START_TEST(test_atomic_prev)
{
    char path[512], prev[600], tmp[600];
    snprintf(path, sizeof(path), "%s/file.xml", test_home);
    snprintf(prev, sizeof(prev), "%s-prev", path);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    ck_assert_int_eq(settings_write_atomic(path, "one", 3), CAP_OK);
    ck_assert_int_eq(access(prev, F_OK), -1);
    ck_assert_int_eq(settings_write_atomic(path, "two", 3), CAP_OK);
    char *a = read_file(path, NULL), *b = read_file(prev, NULL);
    ck_assert_str_eq(a, "two");
    ck_assert_str_eq(b, "one");
    ck_assert_int_eq(access(tmp, F_OK), -1);
    cap_free(a);
    cap_free(b);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    /* A folder that does not exist: error naming the file, nothing changed. */
    snprintf(path, sizeof(path), "%s/nope/file.xml", test_home);
    ck_assert_int_eq(settings_write_atomic(path, "x", 1), CAP_E_FILE_ERROR);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "nope/file.xml"));
}
END_TEST

START_TEST(test_machine_file_prev)
{
    IMachine *m = make_machine("prevtest");
    char *path = get_str(m->vtbl->GetSettingsFilePath, m);
    char prev[600];
    snprintf(prev, sizeof(prev), "%s-prev", path);
    size_t n1;
    char *before = read_file(path, &n1);
    ISession *s = new_session();
    IMachine *sm = NULL;
    ck_assert_int_eq(IMachine_LockMachine(m, s, LockType_Write), CAP_OK);
    ck_assert_int_eq(ISession_GetMachine(s, &sm), CAP_OK);
    ck_assert_int_eq(IMachine_SetMemorySize(sm, 1000), CAP_OK);
    ck_assert_int_eq(IMachine_SaveSettings(sm), CAP_OK);
    ck_assert_int_eq(ISession_UnlockMachine(s), CAP_OK);
    char *kept = read_file(prev, NULL), *now = read_file(path, NULL);
    ck_assert_str_eq(kept, before);
    ck_assert_ptr_nonnull(strstr(now, "memory=\"1000\""));
    cap_free(kept);
    cap_free(now);
    cap_free(before);
    cap_str_free(path);
    IMachine_Release(sm);
    ISession_Release(s);
    IMachine_Release(m);
}
END_TEST

START_TEST(test_corrupt_inaccessible)
{
    IMachine *m = make_machine("fragile");
    cap_uuid id;
    ck_assert_int_eq(IMachine_GetId(m, &id), CAP_OK);
    char *path = get_str(m->vtbl->GetSettingsFilePath, m);
    char *good = read_file(path, NULL);
    IMachine_Release(m);
    const char *bad = "<CapsuleMachine version=\"1\">\n  <Machine uuid=\"oops\n";
    write_file(path, bad);
    svc_restart();

    uint32_t n = 0;
    IMachine **list = NULL;
    ck_assert_int_eq(ICapsule_GetMachines(capsule, &n, &list), CAP_OK);
    ck_assert_uint_eq(n, 1);
    cap_bool acc = CAP_TRUE;
    ck_assert_int_eq(IMachine_GetAccessible(list[0], &acc), CAP_OK);
    ck_assert(!acc);
    IErrorInfo *ei = NULL;
    ck_assert_int_eq(IMachine_GetAccessError(list[0], &ei), CAP_OK);
    ck_assert_ptr_nonnull(ei);
    int32_t code;
    char *msg = NULL;
    IErrorInfo_GetResultCode(ei, &code);
    IErrorInfo_GetMessage(ei, &msg);
    ck_assert_int_eq(code, CAP_E_XML_ERROR);
    ck_assert_msg(strstr(msg, path) && strstr(msg, ":2:"), "message: %s", msg);
    cap_str_free(msg);
    IErrorInfo_Release(ei);
    /* Only a few things work; the name does not, the id does. */
    char *name = NULL;
    ck_assert_int_eq(IMachine_GetName(list[0], &name), CAP_E_INVALID_OBJECT_STATE);
    cap_uuid got;
    ck_assert_int_eq(IMachine_GetId(list[0], &got), CAP_OK);
    ck_assert(cap_uuid_equal(&got, &id));
    IMachine *found = NULL;
    char ids[CAP_UUID_BUFSIZE];
    ck_assert_int_eq(ICapsule_FindMachine(capsule, "fragile", &found), CAP_E_OBJECT_NOT_FOUND);
    ck_assert_int_eq(ICapsule_FindMachine(capsule, cap_uuid_format(&id, ids), &found), CAP_OK);
    IMachine_Release(found);
    ISession *s = new_session();
    ck_assert_int_eq(IMachine_LockMachine(list[0], s, LockType_Write),
                     CAP_E_INVALID_OBJECT_STATE);
    ck_assert_int_eq(IMachine_SetExtraData(list[0], "k", "v"), CAP_E_INVALID_OBJECT_STATE);
    /* Other writes (global file) do not touch it. */
    ck_assert_int_eq(ICapsule_SetExtraData(capsule, "g", "1"), CAP_OK);
    size_t len;
    char *now = read_file(path, &len);
    ck_assert_uint_eq(len, strlen(bad));
    ck_assert_str_eq(now, bad);
    cap_free(now);

    /* Repaired: accessible again without a restart. */
    write_file(path, good);
    ck_assert_int_eq(IMachine_GetAccessible(list[0], &acc), CAP_OK);
    ck_assert(acc);
    name = get_str(list[0]->vtbl->GetName, list[0]);
    ck_assert_str_eq(name, "fragile");
    cap_str_free(name);
    ck_assert_int_eq(IMachine_LockMachine(list[0], s, LockType_Write), CAP_OK);
    ck_assert_int_eq(ISession_UnlockMachine(s), CAP_OK);
    ISession_Release(s);
    cap_array_free(CAP_TLT_IFACE, n, list);
    cap_free(good);
    cap_str_free(path);
}
END_TEST

START_TEST(test_missing_file_unregister)
{
    IMachine *m = make_machine("gone");
    char *path = get_str(m->vtbl->GetSettingsFilePath, m);
    IMachine_Release(m);
    ck_assert_int_eq(unlink(path), 0);
    svc_restart();
    uint32_t n = 0;
    IMachine **list = NULL;
    ck_assert_int_eq(ICapsule_GetMachines(capsule, &n, &list), CAP_OK);
    ck_assert_uint_eq(n, 1);
    cap_bool acc = CAP_TRUE;
    IMachine_GetAccessible(list[0], &acc);
    ck_assert(!acc);
    ck_assert_int_eq(IMachine_Unregister(list[0]), CAP_OK);
    cap_array_free(CAP_TLT_IFACE, n, list);
    svc_restart();
    ck_assert_int_eq(ICapsule_GetMachines(capsule, &n, &list), CAP_OK);
    ck_assert_uint_eq(n, 0);
    cap_free(list);
    cap_str_free(path);
}
END_TEST

START_TEST(test_bad_global_refused)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/capsule.xml", test_home);
    svc_uninit(test_svc);
    svc_release(test_svc);
    test_svc = NULL;
    write_file(path, "<CapsuleGlobal version=\"1\"><Junk/></CapsuleGlobal>");
    struct svc *s = NULL;
    ck_assert_int_eq(svc_create(test_home, test_reg, &s), CAP_E_XML_ERROR);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "capsule.xml:1:"));
    char *still = read_file(path, NULL);
    ck_assert_str_eq(still, "<CapsuleGlobal version=\"1\"><Junk/></CapsuleGlobal>");
    cap_free(still);
}
END_TEST

/* The machine's access error message after a restart (cap_str_free). */
static char *access_error(void)
{
    svc_restart();
    uint32_t n = 0;
    IMachine **list = NULL;
    ck_assert_int_eq(ICapsule_GetMachines(capsule, &n, &list), CAP_OK);
    ck_assert_uint_eq(n, 1);
    cap_bool acc = CAP_TRUE;
    ck_assert_int_eq(IMachine_GetAccessible(list[0], &acc), CAP_OK);
    char *msg = NULL;
    if (!acc) {
        IErrorInfo *ei = NULL;
        ck_assert_int_eq(IMachine_GetAccessError(list[0], &ei), CAP_OK);
        int32_t code = 0;
        IErrorInfo_GetResultCode(ei, &code);
        ck_assert_int_eq(code, CAP_E_ACCESSDENIED);
        IErrorInfo_GetMessage(ei, &msg);
        IErrorInfo_Release(ei);
    }
    cap_array_free(CAP_TLT_IFACE, n, list);
    return msg;
}

/* ssh's rule for settings (issue 19 item 5): a machine file or capsule.xml
 * writable by group or others, or owned by another user, is refused. */
START_TEST(test_settings_owner_mode)
{
    IMachine *m = make_machine("planted");
    char *path = get_str(m->vtbl->GetSettingsFilePath, m);
    IMachine_Release(m);

    ck_assert_int_eq(chmod(path, 0666), 0);
    char *msg = access_error();
    ck_assert_msg(msg && strstr(msg, path) && strstr(msg, "writable by others"), "message: %s",
                  msg ? msg : "(accessible)");
    cap_str_free(msg);
    ck_assert_int_eq(chmod(path, 0620), 0);
    msg = access_error();
    ck_assert_msg(msg && strstr(msg, "writable by its group"), "message: %s",
                  msg ? msg : "(accessible)");
    cap_str_free(msg);
    ck_assert_int_eq(chmod(path, 0600), 0);
    msg = access_error();
    ck_assert_msg(!msg, "accessible again: %s", msg ? msg : "");
    if (geteuid() == 0) { /* another owner: only root can give a file away */
        ck_assert_int_eq(chown(path, 65534, (gid_t)-1), 0);
        msg = access_error();
        ck_assert_msg(msg && strstr(msg, "owned by uid 65534"), "message: %s",
                      msg ? msg : "(accessible)");
        cap_str_free(msg);
        ck_assert_int_eq(chown(path, 0, (gid_t)-1), 0);
    }

    /* the global file: the service refuses to start, naming it */
    char gpath[512];
    snprintf(gpath, sizeof(gpath), "%s/capsule.xml", test_home);
    svc_uninit(test_svc);
    svc_release(test_svc);
    test_svc = NULL;
    ck_assert_int_eq(chmod(gpath, 0602), 0);
    struct svc *s = NULL;
    ck_assert_int_eq(svc_create(test_home, test_reg, &s), CAP_E_ACCESSDENIED);
    ck_assert_msg(strstr(cap_error_peek_message(), "capsule.xml") &&
                      strstr(cap_error_peek_message(), "writable by others"),
                  "message: %s", cap_error_peek_message());
    ck_assert_int_eq(chmod(gpath, 0600), 0);
    cap_str_free(path);
}
END_TEST

/* svc_rotate_log: the log history (logHistoryCount). */
START_TEST(test_log_rotation)
{
    char *path = cap_str_printf("%s/x.log", test_home);
    char name[512];
    write_file(path, "run3");
    for (unsigned i = 1; i <= 4; i++) { /* older runs; .4 is beyond keep 3 */
        static const char *const text[] = {NULL, "run2", "run1", "run0", "old"};
        snprintf(name, sizeof(name), "%s.%u", path, i);
        write_file(name, text[i]);
    }
    svc_rotate_log(path, 3);
    ck_assert_int_eq(access(path, F_OK), -1);
    static const char *const want[] = {NULL, "run3", "run2", "run1"};
    for (unsigned i = 1; i <= 3; i++) {
        snprintf(name, sizeof(name), "%s.%u", path, i);
        char *t = read_file(name, NULL);
        ck_assert_ptr_nonnull(t);
        ck_assert_str_eq(t, want[i]);
        cap_free(t);
    }
    snprintf(name, sizeof(name), "%s.4", path);
    ck_assert_int_eq(access(name, F_OK), -1); /* beyond the count: deleted */
    /* A lower count drops the older ones; a first run (no log yet) works. */
    svc_rotate_log(path, 1);
    snprintf(name, sizeof(name), "%s.2", path);
    ck_assert_int_eq(access(name, F_OK), -1);
    snprintf(name, sizeof(name), "%s.1", path);
    char *t = read_file(name, NULL);
    ck_assert_str_eq(t, "run3"); /* .1 moved nowhere: no current log to take its place */
    cap_free(t);
    write_file(path, "run4");
    svc_rotate_log(path, 1);
    t = read_file(name, NULL);
    ck_assert_str_eq(t, "run4");
    cap_free(t);
    /* 0 keeps nothing. */
    write_file(path, "run5");
    svc_rotate_log(path, 0);
    ck_assert_int_eq(access(path, F_OK), -1);
    ck_assert_int_eq(access(name, F_OK), -1);
    cap_str_free(path);
}
END_TEST

/* svc_log past its bound while the service runs: the log becomes .1 and a
 * new one (0600) takes stderr and says why (issue 19, item 3). */
START_TEST(test_log_rotation_running)
{
    char *path = cap_str_printf("%s/run.log", test_home);
    char name[512];
    int saved = dup(STDERR_FILENO);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    ck_assert_int_ge(fd, 0);
    dup2(fd, STDERR_FILENO);
    close(fd);
    svc_log_set_file(path, 2, 1000);
    for (int i = 0; i < 100; i++) /* ~75 bytes a line: 7 rotations */
        svc_log("line %03d of a busy service", i);
    svc_log_set_file(NULL, 0, 0);
    dup2(saved, STDERR_FILENO);
    close(saved);
    size_t len = 0;
    char *t = read_file(path, &len);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_le(len, 1100);
    ck_assert_ptr_nonnull(strstr(t, "log rotated while running"));
    snprintf(name, sizeof(name), "%s.1", path);
    char *t1 = read_file(name, NULL);
    ck_assert_ptr_nonnull(t1); /* the last line is in the log or the one before */
    ck_assert(strstr(t, "line 099 of a busy service") || strstr(t1, "line 099 of a busy service"));
    cap_free(t1);
    cap_free(t);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    for (unsigned i = 1; i <= 2; i++) {
        snprintf(name, sizeof(name), "%s.%u", path, i);
        ck_assert_int_eq(stat(name, &st), 0);
        ck_assert_uint_le((uint64_t)st.st_size, 1100);
    }
    snprintf(name, sizeof(name), "%s.3", path);
    ck_assert_int_eq(access(name, F_OK), -1); /* logHistoryCount 2 */
    cap_str_free(path);
}
END_TEST

TCase *tcase_settings(void)
{
    TCase *tc = tcase_create("settings");
    tcase_add_checked_fixture(tc, svc_setup, svc_teardown);
    tcase_add_test(tc, test_roundtrip);
    tcase_add_test(tc, test_parse_errors);
    tcase_add_test(tc, test_atomic_prev);
    tcase_add_test(tc, test_machine_file_prev);
    tcase_add_test(tc, test_corrupt_inaccessible);
    tcase_add_test(tc, test_missing_file_unregister);
    tcase_add_test(tc, test_bad_global_refused);
    tcase_add_test(tc, test_log_rotation);
    tcase_add_test(tc, test_log_rotation_running);
    tcase_add_test(tc, test_settings_owner_mode);
    return tc;
}
