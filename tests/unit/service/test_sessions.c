/*
 * tests/unit/service/test_sessions.c - locking: the CLI's modifyvm flow
 * (write lock, change, saveSettings, unlock), lock conflicts, unsaved
 * changes dropped at unlock, the VM lock reporting state, a session holder
 * dying (the machine ends Aborted, never stuck), launchVMProcess refusing.
 */
#include <string.h>

#include "svc_test.h"

START_TEST(test_modifyvm_flow)
{
    IMachine *m = make_machine("modify");
    ISession *s = new_session(), *s2 = new_session();
    IMachine *sm = NULL;
    SessionState ss;
    ck_assert_int_eq(ISession_GetMachine(s, &sm), CAP_E_INVALID_SESSION_STATE);
    ck_assert_int_eq(ISession_UnlockMachine(s), CAP_E_INVALID_SESSION_STATE);
    ck_assert_int_eq(IMachine_LockMachine(m, s, LockType_Null), CAP_E_INVALIDARG);
    ck_assert_int_eq(IMachine_LockMachine(m, s, LockType_Shared), CAP_E_INVALID_OBJECT_STATE);
    ck_assert_int_eq(IMachine_LockMachine(m, s, LockType_Write), CAP_OK);
    ck_assert_int_eq(IMachine_LockMachine(m, s, LockType_Write), CAP_E_INVALID_SESSION_STATE);
    ck_assert_int_eq(IMachine_LockMachine(m, s2, LockType_Write), CAP_E_OBJECT_IN_USE);
    ck_assert_int_eq(IMachine_GetSessionState(m, &ss), CAP_OK);
    ck_assert_int_eq(ss, SessionState_Locked);
    uint32_t pid = 0;
    IMachine_GetSessionPID(m, &pid);
    ck_assert_uint_eq(pid, (uint32_t)getpid());
    SessionType type;
    ISession_GetType(s, &type);
    ck_assert_int_eq(type, SessionType_WriteLock);
    ck_assert_int_eq(ISession_GetMachine(s, &sm), CAP_OK);
    ck_assert_int_eq(IMachine_SetMemorySize(sm, 2048), CAP_OK);
    ck_assert_int_eq(IMachine_SetEngine(sm, ExecutionEngine_Hm), CAP_OK);
    ck_assert_int_eq(IMachine_SetName(sm, "modified"), CAP_OK);
    ISerialPort *port = NULL;
    ck_assert_int_eq(IMachine_GetSerialPort(sm, 0, &port), CAP_OK);
    ck_assert_int_eq(ISerialPort_SetEnabled(port, CAP_TRUE), CAP_OK);
    ISerialPort_Release(port);
    /* The registered object still shows the saved values. */
    uint32_t mem = 0;
    IMachine_GetMemorySize(m, &mem);
    ck_assert_uint_ne(mem, 2048);
    ck_assert_int_eq(IMachine_Unregister(m), CAP_E_OBJECT_IN_USE);
    ck_assert_int_eq(IMachine_SaveSettings(sm), CAP_OK);
    IMachine_GetMemorySize(m, &mem);
    ck_assert_uint_eq(mem, 2048);
    /* Unsaved changes are dropped at unlock. */
    ck_assert_int_eq(IMachine_SetMemorySize(sm, 777), CAP_OK);
    ck_assert_int_eq(ISession_UnlockMachine(s), CAP_OK);
    ck_assert_int_eq(IMachine_SetMemorySize(sm, 888), CAP_E_INVALID_OBJECT_STATE);
    IMachine_Release(sm);
    IMachine_GetMemorySize(m, &mem);
    ck_assert_uint_eq(mem, 2048);
    ck_assert_int_eq(IMachine_GetSessionState(m, &ss), CAP_OK);
    ck_assert_int_eq(ss, SessionState_Unlocked);
    ISession_GetState(s, &ss);
    ck_assert_int_eq(ss, SessionState_Unlocked);
    /* The session can be used again; the second session now gets it. */
    ck_assert_int_eq(IMachine_LockMachine(m, s2, LockType_Write), CAP_OK);
    ck_assert_int_eq(ISession_UnlockMachine(s2), CAP_OK);
    IMachine_Release(m);
    svc_restart();
    ck_assert_int_eq(ICapsule_FindMachine(capsule, "modified", &m), CAP_OK);
    ExecutionEngine e;
    IMachine_GetEngine(m, &e);
    ck_assert_int_eq(e, ExecutionEngine_Hm);
    IMachine_GetMemorySize(m, &mem);
    ck_assert_uint_eq(mem, 2048);
    IMachine_Release(m);
    ISession_Release(s);
    ISession_Release(s2);
}
END_TEST

START_TEST(test_holder_died)
{
    IMachine *m = make_machine("crashy");
    ISession *s = new_session();
    IMachine *sm = NULL;
    IInternalMachineControl *ctl = NULL;
    ck_assert_int_eq(IMachine_LockMachine(m, s, LockType_VM), CAP_OK);
    ck_assert_int_eq(ISession_GetMachine(s, &sm), CAP_OK);
    ck_assert_int_eq(CAP_QI(sm, &IID_IInternalMachineControl, &ctl), CAP_OK);
    ck_assert_int_eq(IInternalMachineControl_UpdateState(ctl, MachineState_Null),
                     CAP_E_INVALIDARG);
    ck_assert_int_eq(IInternalMachineControl_UpdateState(ctl, MachineState_Starting), CAP_OK);
    ck_assert_int_eq(IInternalMachineControl_UpdateState(ctl, MachineState_Running), CAP_OK);
    MachineState st;
    IMachine_GetState(m, &st);
    ck_assert_int_eq(st, MachineState_Running);
    ck_assert(svc_busy(test_svc));
    /* Running: settings a VM cannot change are refused. */
    ck_assert_int_eq(IMachine_SetMemorySize(sm, 64), CAP_E_INVALID_VM_STATE);
    ck_assert_int_eq(IMachine_SetDescription(sm, "ok while running"), CAP_OK);
    ck_assert_int_eq(IMachine_Unregister(m), CAP_E_OBJECT_IN_USE);
    ck_assert_int_eq(IMachine_SetExtraData(m, "k", "v"), CAP_OK);
    /* The holder dies. */
    session_holder_died(machine_from_foreign(m));
    IMachine_GetState(m, &st);
    ck_assert_int_eq(st, MachineState_Aborted);
    char *why = NULL; /* and says why */
    ck_assert_int_eq(IMachine_GetAbortReason(m, &why), CAP_OK);
    ck_assert_ptr_nonnull(strstr(why, "ended without powering the VM off"));
    cap_str_free(why);
    SessionState ss;
    IMachine_GetSessionState(m, &ss);
    ck_assert_int_eq(ss, SessionState_Unlocked);
    ck_assert(!svc_busy(test_svc));
    ck_assert_int_eq(IInternalMachineControl_UpdateState(ctl, MachineState_Running),
                     CAP_E_INVALID_OBJECT_STATE);
    IInternalMachineControl_Release(ctl);
    IMachine_Release(sm);
    /* Aborted is kept across a restart; the machine can be locked again. */
    ISession_Release(s);
    IMachine_Release(m);
    svc_restart();
    ck_assert_int_eq(ICapsule_FindMachine(capsule, "crashy", &m), CAP_OK);
    IMachine_GetState(m, &st);
    ck_assert_int_eq(st, MachineState_Aborted);
    s = new_session();
    ck_assert_int_eq(IMachine_LockMachine(m, s, LockType_Write), CAP_OK);
    ck_assert_int_eq(ISession_UnlockMachine(s), CAP_OK);
    ISession_Release(s);
    IMachine_Release(m);
}
END_TEST

/* IMachine's abortReason: set by the VM lock's holder (setAbortReason),
 * shown only while Aborted, saved with the state, cleared by a new start. */
static char *abort_reason(IMachine *m)
{
    char *why = NULL;
    ck_assert_int_eq(IMachine_GetAbortReason(m, &why), CAP_OK);
    return why;
}

static IInternalMachineControl *lock_vm(IMachine *m, ISession *s)
{
    IMachine *sm = NULL;
    IInternalMachineControl *ctl = NULL;
    ck_assert_int_eq(IMachine_LockMachine(m, s, LockType_VM), CAP_OK);
    ck_assert_int_eq(ISession_GetMachine(s, &sm), CAP_OK);
    ck_assert_int_eq(CAP_QI(sm, &IID_IInternalMachineControl, &ctl), CAP_OK);
    IMachine_Release(sm);
    return ctl;
}

START_TEST(test_abort_reason)
{
    IMachine *m = make_machine("reasons");
    ISession *s = new_session();
    IInternalMachineControl *ctl = lock_vm(m, s);
    ck_assert_int_eq(IInternalMachineControl_UpdateState(ctl, MachineState_Starting), CAP_OK);
    ck_assert_int_eq(IInternalMachineControl_UpdateState(ctl, MachineState_Running), CAP_OK);
    ck_assert_int_eq(IInternalMachineControl_SetAbortReason(ctl, ""), CAP_E_INVALIDARG);
    ck_assert_int_eq(IInternalMachineControl_SetAbortReason(ctl, "triple fault at 0010:1"), CAP_OK);
    char *why = abort_reason(m); /* not Aborted yet: nothing to show */
    ck_assert_str_eq(why, "");
    cap_str_free(why);
    ck_assert_int_eq(IInternalMachineControl_UpdateState(ctl, MachineState_Aborted), CAP_OK);
    why = abort_reason(m);
    ck_assert_str_eq(why, "triple fault at 0010:1");
    cap_str_free(why);
    ck_assert_int_eq(ISession_UnlockMachine(s), CAP_OK);
    ck_assert_int_eq(IInternalMachineControl_SetAbortReason(ctl, "late"),
                     CAP_E_INVALID_OBJECT_STATE);
    IInternalMachineControl_Release(ctl);
    /* Only the holder of a VM lock reports one. */
    IMachine *sm = NULL;
    ck_assert_int_eq(IMachine_LockMachine(m, s, LockType_Write), CAP_OK);
    ck_assert_int_eq(ISession_GetMachine(s, &sm), CAP_OK);
    ck_assert_int_eq(CAP_QI(sm, &IID_IInternalMachineControl, &ctl), CAP_OK);
    ck_assert_int_eq(IInternalMachineControl_SetAbortReason(ctl, "no"), CAP_E_INVALID_OBJECT_STATE);
    IInternalMachineControl_Release(ctl);
    IMachine_Release(sm);
    ck_assert_int_eq(ISession_UnlockMachine(s), CAP_OK);
    /* Saved with the state: a new service still knows it. */
    IMachine_Release(m);
    svc_restart();
    ck_assert_int_eq(ICapsule_FindMachine(capsule, "reasons", &m), CAP_OK);
    why = abort_reason(m);
    ck_assert_str_eq(why, "triple fault at 0010:1");
    cap_str_free(why);
    /* The next start clears it. */
    ctl = lock_vm(m, s);
    ck_assert_int_eq(IInternalMachineControl_UpdateState(ctl, MachineState_Starting), CAP_OK);
    ck_assert_int_eq(IInternalMachineControl_UpdateState(ctl, MachineState_PoweredOff), CAP_OK);
    why = abort_reason(m);
    ck_assert_str_eq(why, "");
    cap_str_free(why);
    ck_assert_int_eq(ISession_UnlockMachine(s), CAP_OK);
    IInternalMachineControl_Release(ctl);
    ISession_Release(s);
    IMachine_Release(m);
}
END_TEST

/* A session whose process "dies": answers like a dead IPC peer. */
static int fake_dead;
static uint64_t fake_conn = 0;
static uint64_t conn_hook(void)
{
    return fake_conn;
}

START_TEST(test_client_disconnected)
{
    IMachine *a = make_machine("a"), *b = make_machine("b");
    ISession *sa = new_session(), *sb = new_session();
    svc_set_conn_hook(test_svc, conn_hook);
    fake_conn = 41;
    ck_assert_int_eq(IMachine_LockMachine(a, sa, LockType_VM), CAP_OK);
    fake_conn = 42;
    ck_assert_int_eq(IMachine_LockMachine(b, sb, LockType_Write), CAP_OK);
    IMachine *sm = NULL;
    IInternalMachineControl *ctl = NULL;
    ISession_GetMachine(sa, &sm);
    CAP_QI(sm, &IID_IInternalMachineControl, &ctl);
    IInternalMachineControl_UpdateState(ctl, MachineState_Paused);
    (void)fake_dead;
    /* Connection 41 ends: only machine a is released (and Aborted). */
    svc_client_disconnected(test_svc, 41);
    MachineState st;
    SessionState ss;
    IMachine_GetState(a, &st);
    ck_assert_int_eq(st, MachineState_Aborted);
    IMachine_GetSessionState(a, &ss);
    ck_assert_int_eq(ss, SessionState_Unlocked);
    IMachine_GetSessionState(b, &ss);
    ck_assert_int_eq(ss, SessionState_Locked);
    IMachine_GetState(b, &st);
    ck_assert_int_eq(st, MachineState_PoweredOff);
    /* The dead session's own unlock later is harmless. */
    ck_assert_int_eq(ISession_UnlockMachine(sa), CAP_OK);
    ck_assert_int_eq(ISession_UnlockMachine(sb), CAP_OK);
    svc_set_conn_hook(test_svc, NULL);
    IInternalMachineControl_Release(ctl);
    IMachine_Release(sm);
    ISession_Release(sa);
    ISession_Release(sb);
    IMachine_Release(a);
    IMachine_Release(b);
}
END_TEST

START_TEST(test_launch_not_available)
{
    IMachine *m = make_machine("launch");
    ISession *s = new_session();
    IProgress *p = NULL;
    ck_assert_int_eq(IMachine_LaunchVMProcess(m, s, "headless", 0, NULL, &p), CAP_E_NOT_SUPPORTED);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "capsule-vm"));
    ck_assert_int_eq(IMachine_LaunchVMProcess(m, s, "bogus", 0, NULL, &p), CAP_E_NOT_SUPPORTED);
    ISession *s2 = new_session();
    ck_assert_int_eq(IMachine_LockMachine(m, s2, LockType_Write), CAP_OK);
    ck_assert_int_eq(IMachine_LaunchVMProcess(m, s, "", 0, NULL, &p), CAP_E_OBJECT_IN_USE);
    ck_assert_int_eq(IMachine_LaunchVMProcess(m, s2, "", 0, NULL, &p),
                     CAP_E_INVALID_SESSION_STATE);
    IConsole *c = (IConsole *)1;
    ck_assert_int_eq(ISession_GetConsole(s2, &c), CAP_OK);
    ck_assert_ptr_null(c);
    /* svc_uninit tells the session to let go. */
    svc_uninit(test_svc);
    SessionState ss;
    ISession_GetState(s2, &ss);
    ck_assert_int_eq(ss, SessionState_Unlocked);
    ISession_Release(s);
    ISession_Release(s2);
    IMachine_Release(m);
}
END_TEST

TCase *tcase_sessions(void)
{
    TCase *tc = tcase_create("sessions");
    tcase_add_checked_fixture(tc, svc_setup, svc_teardown);
    tcase_add_test(tc, test_modifyvm_flow);
    tcase_add_test(tc, test_holder_died);
    tcase_add_test(tc, test_abort_reason);
    tcase_add_test(tc, test_client_disconnected);
    tcase_add_test(tc, test_launch_not_available);
    return tc;
}
