/*
 * tests/unit/vmproc/test_console.c - the VM process's session/console
 * object (plugins/frontends/vmproc/console.c, debugger.c) and its progress
 * (done_progress.c) without a service: a fake IMachine and a fake
 * IInternalMachineControl stand for what capsule-svc hands to
 * assignMachine and record what the console reports. The session state
 * machine, one identity for the four interfaces, the state errors of every
 * IConsole call and the debugger's refusals while no VM runs, then a VM of
 * a few bytes under rem driven through the console: pause, resume, reset,
 * powerDown, guest power-off, the service going away.
 */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/object.h>
#include <capsule/uuid.h>

#include "console_input.h"
#include "managed.h"
#include "pdmdev.h"
#include "vmproc_test.h"

#define ck_error(expr, code, part)                                                                 \
    do {                                                                                           \
        cap_result rc_ = (expr);                                                                   \
        ck_assert_msg(rc_ == (code), "%s: 0x%x, want 0x%x", #expr, (unsigned)rc_,                  \
                      (unsigned)(code));                                                           \
        const char *m_ = cap_error_peek_message();                                                 \
        ck_assert_msg(m_ && strstr(m_, (part)), "%s: message '%s' lacks '%s'", #expr,              \
                      m_ ? m_ : "(none)", (part));                                                 \
        cap_error_clear();                                                                         \
    } while (0)

/* ---- fakes of the service's objects ----------------------------------------------------- */

struct fake_machine {
    IMachine IMachine_iface;
    cap_refcnt ref;
};

static cap_result fm_qi(IMachine *self, const cap_uuid *iid, void **out)
{
    *out = NULL;
    if (!cap_uuid_equal(iid, &IID_IMachine) && !cap_uuid_equal(iid, &IID_ISupports))
        return CAP_E_NOINTERFACE;
    *out = self;
    IMachine_AddRef(self);
    return CAP_OK;
}

static uint32_t fm_addref(IMachine *self)
{
    return cap_refcnt_inc(&CAP_CONTAINER_OF(self, struct fake_machine, IMachine_iface)->ref);
}

/* The test owns the object; the count only shows the console's balance. */
static uint32_t fm_release(IMachine *self)
{
    return cap_refcnt_dec(&CAP_CONTAINER_OF(self, struct fake_machine, IMachine_iface)->ref);
}

static const struct IMachineVtbl fake_machine_vtbl = {
    .QueryInterface = fm_qi, .AddRef = fm_addref, .Release = fm_release};

#define MAX_REPORTS 32

struct fake_control {
    IInternalMachineControl iface;
    cap_refcnt ref;
    pthread_mutex_t lock;
    MachineState reports[MAX_REPORTS];
    unsigned n_reports, session_ends, power_ups;
    ISession *ended;
    cap_result power_up_result;
    char power_up_message[128];
    char abort_reason[256]; /* the last setAbortReason */
};

static struct fake_control *fc_impl(IInternalMachineControl *i)
{
    return CAP_CONTAINER_OF(i, struct fake_control, iface);
}

static cap_result fc_qi(IInternalMachineControl *self, const cap_uuid *iid, void **out)
{
    *out = NULL;
    return CAP_E_NOINTERFACE;
}

static uint32_t fc_addref(IInternalMachineControl *self)
{
    return cap_refcnt_inc(&fc_impl(self)->ref);
}

static uint32_t fc_release(IInternalMachineControl *self)
{
    return cap_refcnt_dec(&fc_impl(self)->ref);
}

static cap_result fc_session_end(IInternalMachineControl *self, ISession *session)
{
    struct fake_control *f = fc_impl(self);
    pthread_mutex_lock(&f->lock);
    f->session_ends++;
    f->ended = session;
    pthread_mutex_unlock(&f->lock);
    return CAP_OK;
}

static cap_result fc_update_state(IInternalMachineControl *self, MachineState s)
{
    struct fake_control *f = fc_impl(self);
    pthread_mutex_lock(&f->lock);
    if (f->n_reports < MAX_REPORTS)
        f->reports[f->n_reports++] = s;
    pthread_mutex_unlock(&f->lock);
    return CAP_OK;
}

static cap_result fc_set_abort_reason(IInternalMachineControl *self, const char *reason)
{
    struct fake_control *f = fc_impl(self);
    pthread_mutex_lock(&f->lock);
    snprintf(f->abort_reason, sizeof(f->abort_reason), "%s", reason ? reason : "(null)");
    pthread_mutex_unlock(&f->lock);
    return CAP_OK;
}

static cap_result fc_end_power_up(IInternalMachineControl *self, int32_t result, const char *msg)
{
    struct fake_control *f = fc_impl(self);
    pthread_mutex_lock(&f->lock);
    f->power_ups++;
    f->power_up_result = result;
    snprintf(f->power_up_message, sizeof(f->power_up_message), "%s", msg ? msg : "(null)");
    pthread_mutex_unlock(&f->lock);
    return CAP_OK;
}

static const struct IInternalMachineControlVtbl fake_control_vtbl = {
    .QueryInterface = fc_qi,
    .AddRef = fc_addref,
    .Release = fc_release,
    .OnSessionEnd = fc_session_end,
    .UpdateState = fc_update_state,
    .SetAbortReason = fc_set_abort_reason,
    .EndPowerUp = fc_end_power_up,
};

/* One console with its fakes, the console assigned (locked) if asked. */
struct fx {
    struct console *c;
    ISession *s;
    IInternalSessionControl *ctl;
    IConsole *con;
    IMachineDebugger *dbg;
    struct fake_machine m;
    struct fake_control fc;
    char *dir, *kernel;
};

static void fx_up(struct fx *f, int assign)
{
    memset(f, 0, sizeof(*f));
    f->m.IMachine_iface.vtbl = &fake_machine_vtbl;
    cap_refcnt_init(&f->m.ref, 1);
    f->fc.iface.vtbl = &fake_control_vtbl;
    cap_refcnt_init(&f->fc.ref, 1);
    pthread_mutex_init(&f->fc.lock, NULL);
    ck_assert_int_eq(console_create(&f->c), CAP_OK);
    f->s = console_session(f->c);
    ck_assert_int_eq(ISession_QueryInterface(f->s, &IID_IInternalSessionControl, (void **)&f->ctl),
                     CAP_OK);
    ck_assert_int_eq(ISession_GetConsole(f->s, &f->con), CAP_OK);
    ck_assert_int_eq(IConsole_GetDebugger(f->con, &f->dbg), CAP_OK);
    if (assign)
        ck_assert_int_eq(IInternalSessionControl_AssignMachine(f->ctl, &f->m.IMachine_iface,
                                                               SessionType_WriteLock, &f->fc.iface),
                         CAP_OK);
}

/* Releases everything; the fakes must be back to the test's one reference. */
static void fx_down(struct fx *f)
{
    IMachineDebugger_Release(f->dbg);
    IConsole_Release(f->con);
    IInternalSessionControl_Release(f->ctl);
    console_release(f->c);
    ck_assert_uint_eq(f->m.ref.value, 1);
    ck_assert_uint_eq(f->fc.ref.value, 1);
    pthread_mutex_destroy(&f->fc.lock);
    free(f->kernel);
    if (f->dir)
        vt_rmdir(f->dir);
}

static SessionState session_state(struct fx *f)
{
    SessionState st = SessionState_Null;
    ck_assert_int_eq(ISession_GetState(f->s, &st), CAP_OK);
    return st;
}

static MachineState machine_state(struct fx *f)
{
    MachineState st = MachineState_Null;
    ck_assert_int_eq(IConsole_GetState(f->con, &st), CAP_OK);
    return st;
}

/* Asserts the reports so far, as a list ending in MachineState_Null. */
static void expect_reports(struct fx *f, const MachineState *want)
{
    pthread_mutex_lock(&f->fc.lock);
    unsigned n = 0;
    while (want[n] != MachineState_Null)
        n++;
    ck_assert_msg(f->fc.n_reports == n, "%u reports, want %u (first %d)", f->fc.n_reports, n,
                  f->fc.n_reports ? (int)f->fc.reports[0] : -1);
    for (unsigned i = 0; i < n; i++)
        ck_assert_msg(f->fc.reports[i] == want[i], "report %u: %d, want %d", i,
                      (int)f->fc.reports[i], (int)want[i]);
    pthread_mutex_unlock(&f->fc.lock);
}

#define REPORTS(f, ...) expect_reports((f), (const MachineState[]){__VA_ARGS__, MachineState_Null})
#define NO_REPORTS(f) expect_reports((f), (const MachineState[]){MachineState_Null})

/* Powers the console's VM up with `guest` under rem. */
static void fx_power_up(struct fx *f, const uint8_t *guest, size_t len)
{
    f->dir = vt_tmpdir();
    f->kernel = vt_write_file(f->dir, "guest.bin", guest, len);
    struct vmproc_opts o;
    vt_opts(&o, f->kernel, "none");
    cap_result rc = console_power_up(f->c, &o);
    ck_assert_msg(CAP_SUCCEEDED(rc), "power up: %s", cap_error_peek_message());
}

/* ---- the session, no service ---------------------------------------------------------- */

START_TEST(test_session_unlocked)
{
    struct fx f;
    fx_up(&f, 0);
    ck_assert_int_eq(session_state(&f), SessionState_Unlocked);
    SessionType t = SessionType_Shared;
    ck_assert_int_eq(ISession_GetType(f.s, &t), CAP_OK);
    ck_assert_int_eq(t, SessionType_Null);
    IMachine *m = (IMachine *)1;
    ck_error(ISession_GetMachine(f.s, &m), CAP_E_INVALID_SESSION_STATE, "not locked to a machine");
    ck_assert_ptr_null(m);
    ck_assert_ptr_null(console_machine(f.c));
    ck_error(ISession_UnlockMachine(f.s), CAP_E_INVALID_SESSION_STATE,
             "ends when its VM powers off");
    ck_assert_int_eq(ISession_GetState(f.s, NULL), CAP_E_POINTER);
    ck_assert_int_eq(ISession_GetType(f.s, NULL), CAP_E_POINTER);
    ck_assert_int_eq(ISession_GetMachine(f.s, NULL), CAP_E_POINTER);
    ck_assert_int_eq(ISession_GetConsole(f.s, NULL), CAP_E_POINTER);
    uint32_t pid = 0;
    ck_assert_int_eq(IInternalSessionControl_GetPid(f.ctl, &pid), CAP_OK);
    ck_assert_uint_eq(pid, (uint32_t)getpid());
    IConsole *rc = NULL;
    ck_assert_int_eq(IInternalSessionControl_GetRemoteConsole(f.ctl, &rc), CAP_OK);
    ck_assert_ptr_eq(rc, f.con);
    IConsole_Release(rc);
    /* finishing a console that never got a machine reports nothing */
    console_finish(f.c, MachineState_PoweredOff);
    console_end_power_up(f.c, CAP_E_FAIL, "x");
    NO_REPORTS(&f);
    fx_down(&f);
}
END_TEST

START_TEST(test_identity)
{
    struct fx f;
    fx_up(&f, 0);
    IDisplay *disp = NULL;
    IKeyboard *kbd = NULL;
    IMouse *mouse = NULL;
    ck_assert_int_eq(IConsole_GetDisplay(f.con, &disp), CAP_OK);
    ck_assert_int_eq(IConsole_GetKeyboard(f.con, &kbd), CAP_OK);
    ck_assert_int_eq(IConsole_GetMouse(f.con, &mouse), CAP_OK);
    IDisplay_Release(disp); /* fx_up's references keep the object */
    IKeyboard_Release(kbd);
    IMouse_Release(mouse);
    const cap_uuid *iids[] = {&IID_ISession, &IID_IInternalSessionControl,
                              &IID_IConsole, &IID_IMachineDebugger,
                              &IID_IDisplay, &IID_IKeyboard,
                              &IID_IMouse};
    void *ifaces[] = {f.s, f.ctl, f.con, f.dbg, disp, kbd, mouse};
    for (size_t i = 0; i < 7; i++)
        for (size_t j = 0; j < 7; j++) {
            void *out = NULL;
            ck_assert_int_eq(ISession_QueryInterface((ISession *)ifaces[i], iids[j], &out),
                             CAP_OK);
            ck_assert_ptr_eq(out, ifaces[j]);
            ISession_Release((ISession *)ifaces[i]);
        }
    void *out = (void *)1;
    ck_assert_int_eq(IConsole_QueryInterface(f.con, &IID_IProgress, &out), CAP_E_NOINTERFACE);
    ck_assert_ptr_null(out);
    /* one count for all four */
    ck_assert_uint_eq(ISession_AddRef(f.s), 5);
    ck_assert_uint_eq(IMachineDebugger_AddRef(f.dbg), 6);
    ck_assert_uint_eq(IConsole_Release(f.con), 5);
    ck_assert_uint_eq(IInternalSessionControl_Release(f.ctl), 4); /* back to fx_up's four */
    fx_down(&f);
}
END_TEST

START_TEST(test_assign_machine)
{
    struct fx f;
    fx_up(&f, 0);
    ck_error(IInternalSessionControl_AssignMachine(f.ctl, NULL, SessionType_WriteLock, &f.fc.iface),
             CAP_E_POINTER, "NULL machine or control");
    ck_error(IInternalSessionControl_AssignMachine(f.ctl, &f.m.IMachine_iface,
                                                   SessionType_WriteLock, NULL),
             CAP_E_POINTER, "NULL machine or control");
    ck_assert_int_eq(session_state(&f), SessionState_Unlocked);
    ck_assert_int_eq(IInternalSessionControl_AssignMachine(f.ctl, &f.m.IMachine_iface,
                                                           SessionType_WriteLock, &f.fc.iface),
                     CAP_OK);
    ck_assert_int_eq(session_state(&f), SessionState_Locked);
    SessionType t = SessionType_Null;
    ck_assert_int_eq(ISession_GetType(f.s, &t), CAP_OK);
    ck_assert_int_eq(t, SessionType_WriteLock);
    IMachine *m = NULL;
    ck_assert_int_eq(ISession_GetMachine(f.s, &m), CAP_OK);
    ck_assert_ptr_eq(m, &f.m.IMachine_iface);
    IMachine_Release(m);
    ck_assert_int_eq(IConsole_GetMachine(f.con, &m), CAP_OK);
    ck_assert_ptr_eq(m, &f.m.IMachine_iface);
    IMachine_Release(m);
    m = console_machine(f.c);
    ck_assert_ptr_eq(m, &f.m.IMachine_iface);
    IMachine_Release(m);
    ck_assert_uint_eq(f.m.ref.value, 2);  /* the console's */
    ck_assert_uint_eq(f.fc.ref.value, 2);
    ck_error(IInternalSessionControl_AssignMachine(f.ctl, &f.m.IMachine_iface,
                                                   SessionType_WriteLock, &f.fc.iface),
             CAP_E_INVALID_SESSION_STATE, "already locked");
    ck_error(IInternalSessionControl_AssignRemoteMachine(f.ctl, &f.m.IMachine_iface,
                                                         SessionType_Remote, &f.fc.iface, f.con),
             CAP_E_INVALID_SESSION_STATE, "cannot share another one");
    /* the service lets go (shutdown): unlocked, references returned */
    ck_assert_int_eq(IInternalSessionControl_Uninitialize(f.ctl), CAP_OK);
    ck_assert_int_eq(session_state(&f), SessionState_Unlocked);
    ck_assert_uint_eq(f.m.ref.value, 1);
    ck_assert_uint_eq(f.fc.ref.value, 1);
    NO_REPORTS(&f);
    fx_down(&f);
}
END_TEST

/* console_finish reports the final state and ends the lock, once. */
START_TEST(test_finish_once)
{
    struct fx f;
    fx_up(&f, 1);
    console_finish(f.c, MachineState_Aborted);
    REPORTS(&f, MachineState_Aborted);
    ck_assert_uint_eq(f.fc.session_ends, 1);
    ck_assert_ptr_eq(f.fc.ended, f.s);
    ck_assert_int_eq(session_state(&f), SessionState_Unlocked);
    ck_assert_int_eq(machine_state(&f), MachineState_Aborted);
    console_finish(f.c, MachineState_PoweredOff);
    REPORTS(&f, MachineState_Aborted);
    ck_assert_uint_eq(f.fc.session_ends, 1);
    /* a finished VM process's session cannot be locked again */
    ck_error(IInternalSessionControl_AssignMachine(f.ctl, &f.m.IMachine_iface,
                                                   SessionType_WriteLock, &f.fc.iface),
             CAP_E_INVALID_SESSION_STATE, "the VM process's session has ended");
    fx_down(&f);
}
END_TEST

START_TEST(test_end_power_up)
{
    struct fx f;
    fx_up(&f, 1);
    console_end_power_up(f.c, CAP_OK, "");
    ck_assert_uint_eq(f.fc.power_ups, 1);
    ck_assert_int_eq(f.fc.power_up_result, CAP_OK);
    ck_assert_int_eq(session_state(&f), SessionState_Locked);
    fx_down(&f);

    /* a failure: the service ended the lock with it, nothing more is said */
    fx_up(&f, 1);
    console_end_power_up(f.c, CAP_E_FILE_ERROR, "cannot read the kernel");
    ck_assert_uint_eq(f.fc.power_ups, 1);
    ck_assert_int_eq(f.fc.power_up_result, CAP_E_FILE_ERROR);
    ck_assert_str_eq(f.fc.power_up_message, "cannot read the kernel");
    ck_assert_int_eq(session_state(&f), SessionState_Unlocked);
    console_finish(f.c, MachineState_PoweredOff);
    NO_REPORTS(&f);
    ck_assert_uint_eq(f.fc.session_ends, 0);
    fx_down(&f);
}
END_TEST

/* ---- IConsole and IMachineDebugger with no VM ------------------------------------------------ */

START_TEST(test_console_no_vm)
{
    struct fx f;
    fx_up(&f, 1);
    ck_assert_int_eq(machine_state(&f), MachineState_Starting);
    IProgress *p = (IProgress *)1;
    ck_error(IConsole_PowerUp(f.con, &p), CAP_E_INVALID_VM_STATE,
             "cannot power up a VM that is starting");
    ck_assert_ptr_null(p);
    p = (IProgress *)1;
    ck_error(IConsole_PowerDown(f.con, &p), CAP_E_INVALID_VM_STATE,
             "cannot power off a VM that is starting");
    ck_assert_ptr_null(p);
    ck_error(IConsole_Pause(f.con), CAP_E_INVALID_VM_STATE, "cannot pause a VM that is starting");
    ck_error(IConsole_Resume(f.con), CAP_E_INVALID_VM_STATE, "cannot resume a VM that is starting");
    ck_error(IConsole_Reset(f.con), CAP_E_INVALID_VM_STATE, "cannot reset a VM that is starting");
    p = (IProgress *)1;
    ck_error(IConsole_SaveState(f.con, &p), CAP_E_INVALID_VM_STATE,
             "cannot save a VM that is starting");
    ck_assert_ptr_null(p);
    ck_error(IConsole_DiscardSavedState(f.con, CAP_TRUE), CAP_E_INVALID_VM_STATE,
             "cannot discard the saved state of a VM that is starting");
    ck_error(IInternalSessionControl_OnMediumChange(f.ctl, StorageBus_IDE, 1, 0, "", CAP_FALSE),
             CAP_E_INVALID_VM_STATE, "cannot change a medium of a VM that is starting");
    ck_error(IInternalSessionControl_OnMediumChange(f.ctl, StorageBus_Null, 1, 0, "", CAP_FALSE),
             CAP_E_INVALIDARG, "no drive slot");
    ck_assert_int_eq(IConsole_PowerUp(f.con, NULL), CAP_E_POINTER);
    ck_assert_int_eq(IConsole_PowerDown(f.con, NULL), CAP_E_POINTER);
    ck_assert_int_eq(IConsole_SaveState(f.con, NULL), CAP_E_POINTER);
    ck_assert_int_eq(IConsole_GetState(f.con, NULL), CAP_E_POINTER);
    ck_assert_int_eq(IConsole_GetDebugger(f.con, NULL), CAP_E_POINTER);
    ck_assert_int_eq(IConsole_GetDisplay(f.con, NULL), CAP_E_POINTER);
    IDisplay *disp = NULL;
    ck_assert_int_eq(IConsole_GetDisplay(f.con, &disp), CAP_OK);
    uint32_t w = 1, h = 1, bpp = 1, n = 1;
    int32_t x = 1, y = 1;
    uint8_t *bytes = (uint8_t *)1;
    ck_error(IDisplay_GetScreenResolution(disp, 0, &w, &h, &bpp, &x, &y), CAP_E_INVALID_VM_STATE,
             "cannot read the screen of a VM that is starting");
    ck_assert_uint_eq(w, 0);
    ck_error(IDisplay_TakeScreenShotToArray(disp, 0, 720, 400, BitmapFormat_PNG, &n, &bytes),
             CAP_E_INVALID_VM_STATE, "cannot read the screen of a VM that is starting");
    ck_assert_ptr_null(bytes);
    ck_error(IDisplay_TakeScreenShotToArray(disp, 0, 720, 400, (BitmapFormat)7, &n, &bytes),
             CAP_E_INVALIDARG, "neither BGRA nor PNG");
    ck_assert_int_eq(IDisplay_GetScreenResolution(disp, 0, NULL, &h, &bpp, &x, &y), CAP_E_POINTER);
    IDisplay_Release(disp);
    /* after the end the words follow the state */
    console_finish(f.c, MachineState_PoweredOff);
    ck_error(IConsole_Pause(f.con), CAP_E_INVALID_VM_STATE, "cannot pause a VM that is poweroff");
    ck_error(IConsole_PowerDown(f.con, &p), CAP_E_INVALID_VM_STATE,
             "cannot power off a VM that is poweroff");
    REPORTS(&f, MachineState_PoweredOff);
    /* with no VM, the service going away is nothing to act on */
    console_service_lost(f.c);
    fx_down(&f);
}
END_TEST

START_TEST(test_debugger_no_vm)
{
    struct fx f;
    fx_up(&f, 1);
    ExecutionEngine e;
    char *text = (char *)1;
    ck_error(IMachineDebugger_GetExecutionEngine(f.dbg, &e), CAP_E_INVALID_VM_STATE,
             "not running, paused or stuck");
    ck_error(IMachineDebugger_GetExecutionEngineReason(f.dbg, &text), CAP_E_INVALID_VM_STATE,
             "not running");
    text = (char *)1;
    ck_error(IMachineDebugger_GetStats(f.dbg, "", CAP_FALSE, &text), CAP_E_INVALID_VM_STATE,
             "not running");
    ck_assert_ptr_null(text);
    double rate = 0;
    ck_assert_int_eq(IMachineDebugger_GetVirtualTimeRate(f.dbg, &rate), CAP_OK);
    ck_assert(rate == 1.0);
    ck_error(IMachineDebugger_SetVirtualTimeRate(f.dbg, 1000), CAP_E_INVALIDARG,
             "between 0.01 and 100");
    ck_error(IMachineDebugger_SetVirtualTimeRate(f.dbg, 0), CAP_E_INVALIDARG, "between");
    ck_error(IMachineDebugger_SetVirtualTimeRate(f.dbg, 2), CAP_E_NOT_SUPPORTED, "not available");
    uint64_t vt;
    ck_error(IMachineDebugger_GetVirtualTime(f.dbg, &vt), CAP_E_NOT_SUPPORTED, "virtual clock");
    ck_error(IMachineDebugger_ResetStats(f.dbg, ""), CAP_E_INVALID_VM_STATE, "not running");
    uint32_t n1, n2;
    char **names, **values, *value;
    uint8_t *bytes;
    ck_error(IMachineDebugger_GetRegisters(f.dbg, 0, &n1, &names, &n2, &values),
             CAP_E_NOT_SUPPORTED, "registers");
    ck_error(IMachineDebugger_GetRegister(f.dbg, 0, "rip", &value), CAP_E_NOT_SUPPORTED,
             "registers");
    ck_error(IMachineDebugger_ReadPhysicalMemory(f.dbg, 0, 16, &n1, &bytes), CAP_E_NOT_SUPPORTED,
             "guest memory");
    ck_error(IMachineDebugger_WritePhysicalMemory(f.dbg, 0, 1, (const uint8_t *)"x"),
             CAP_E_NOT_SUPPORTED, "guest memory");
    ck_error(IMachineDebugger_ReadVirtualMemory(f.dbg, 0, 0, 16, &n1, &bytes),
             CAP_E_NOT_SUPPORTED, "guest memory");
    ck_error(IMachineDebugger_Info(f.dbg, "cpum", "", &text), CAP_E_NOT_SUPPORTED, "reports");
    ck_assert_int_eq(IMachineDebugger_GetExecutionEngine(f.dbg, NULL), CAP_E_POINTER);
    ck_assert_int_eq(IMachineDebugger_GetStats(f.dbg, "", CAP_FALSE, NULL), CAP_E_POINTER);
    fx_down(&f);
}
END_TEST

/* ---- done_progress ---------------------------------------------------------------------------- */

START_TEST(test_done_progress)
{
    IProgress *p = NULL, *q = NULL;
    ck_assert_int_eq(done_progress_create("Powering off the VM", &p), CAP_OK);
    ck_assert_int_eq(done_progress_create(NULL, &q), CAP_OK);
    cap_bool b = CAP_FALSE;
    uint32_t u = 0;
    int32_t i = -1;
    ck_assert_int_eq(IProgress_GetCompleted(p, &b), CAP_OK);
    ck_assert(b);
    ck_assert_int_eq(IProgress_GetCanceled(p, &b), CAP_OK);
    ck_assert(!b);
    ck_assert_int_eq(IProgress_GetCancelable(p, &b), CAP_OK);
    ck_assert(!b);
    ck_assert_int_eq(IProgress_GetPercent(p, &u), CAP_OK);
    ck_assert_uint_eq(u, 100);
    ck_assert_int_eq(IProgress_GetOperationPercent(p, &u), CAP_OK);
    ck_assert_uint_eq(u, 100);
    ck_assert_int_eq(IProgress_GetOperationCount(p, &u), CAP_OK);
    ck_assert_uint_eq(u, 1);
    ck_assert_int_eq(IProgress_GetOperation(p, &u), CAP_OK);
    ck_assert_uint_eq(u, 0);
    ck_assert_int_eq(IProgress_GetResultCode(p, &i), CAP_OK);
    ck_assert_int_eq(i, CAP_OK);
    ck_assert_int_eq(IProgress_GetTimeRemaining(p, &i), CAP_OK);
    ck_assert_int_eq(i, 0);
    IErrorInfo *ei = (IErrorInfo *)1;
    ck_assert_int_eq(IProgress_GetErrorInfo(p, &ei), CAP_OK);
    ck_assert_ptr_null(ei);
    ISupports *init = (ISupports *)1;
    ck_assert_int_eq(IProgress_GetInitiator(p, &init), CAP_OK);
    ck_assert_ptr_null(init);
    char *s = NULL;
    ck_assert_int_eq(IProgress_GetDescription(p, &s), CAP_OK);
    ck_assert_str_eq(s, "Powering off the VM");
    cap_str_free(s);
    ck_assert_int_eq(IProgress_GetOperationDescription(p, &s), CAP_OK);
    ck_assert_str_eq(s, "Powering off the VM");
    cap_str_free(s);
    ck_assert_int_eq(IProgress_GetDescription(q, &s), CAP_OK);
    ck_assert_str_eq(s, "");
    cap_str_free(s);
    cap_uuid a, b2, nil;
    memset(&nil, 0, sizeof(nil));
    ck_assert_int_eq(IProgress_GetId(p, &a), CAP_OK);
    ck_assert_int_eq(IProgress_GetId(q, &b2), CAP_OK);
    ck_assert(!cap_uuid_equal(&a, &b2));
    ck_assert(!cap_uuid_equal(&a, &nil));
    /* waits return at once; there is one operation; no cancel */
    ck_assert_int_eq(IProgress_WaitForCompletion(p, -1), CAP_OK);
    ck_assert_int_eq(IProgress_WaitForOperationCompletion(p, 0, -1), CAP_OK);
    ck_error(IProgress_WaitForOperationCompletion(p, 1, 0), CAP_E_INVALIDARG, "1 operation");
    ck_error(IProgress_Cancel(p), CAP_E_INVALID_OBJECT_STATE, "cannot be canceled");
    ck_assert_int_eq(IProgress_GetPercent(p, NULL), CAP_E_POINTER);
    ck_assert_int_eq(IProgress_GetDescription(p, NULL), CAP_E_POINTER);
    /* identity and the count console_linger reads */
    void *out = NULL;
    ck_assert_int_eq(IProgress_QueryInterface(p, &IID_IProgress, &out), CAP_OK);
    ck_assert_ptr_eq(out, p);
    ck_assert_uint_eq(done_progress_refs(p), 2);
    IProgress_Release(p);
    ck_assert_uint_eq(done_progress_refs(p), 1);
    out = (void *)1;
    ck_assert_int_eq(IProgress_QueryInterface(p, &IID_IConsole, &out), CAP_E_NOINTERFACE);
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(IProgress_AddRef(p), 2);
    ck_assert_uint_eq(IProgress_Release(p), 1);
    ck_assert_uint_eq(IProgress_Release(p), 0);
    ck_assert_uint_eq(IProgress_Release(q), 0);
}
END_TEST

/* IKeyboard and IMouse (console_input.c) without a VM: arguments are
 * checked first, then the state. */
START_TEST(test_input_no_vm)
{
    struct fx f;
    fx_up(&f, 1);
    IKeyboard *k = NULL;
    IMouse *m = NULL;
    ck_assert_int_eq(IConsole_GetKeyboard(f.con, &k), CAP_OK);
    ck_assert_int_eq(IConsole_GetMouse(f.con, &m), CAP_OK);
    ck_assert_int_eq(IConsole_GetKeyboard(f.con, NULL), CAP_E_POINTER);
    ck_assert_int_eq(IConsole_GetMouse(f.con, NULL), CAP_E_POINTER);
    int32_t codes[] = {0x1e, 0x9e, 256};
    uint32_t stored = 7;
    ck_error(IKeyboard_PutScancodes(k, 2, codes, &stored), CAP_E_INVALID_VM_STATE,
             "cannot type into a VM that is starting");
    ck_assert_uint_eq(stored, 0);
    ck_error(IKeyboard_PutScancodes(k, 3, codes, &stored), CAP_E_INVALIDARG,
             "scancode 2 is 256: a scancode is a byte");
    ck_error(IKeyboard_PutScancodes(k, 4097, codes, &stored), CAP_E_INVALIDARG,
             "4097 scancodes in one call: at most 4096");
    ck_assert_int_eq(IKeyboard_PutScancodes(k, 2, codes, NULL), CAP_E_POINTER);
    ck_error(IKeyboard_PutScancode(k, -1), CAP_E_INVALIDARG, "is -1");
    ck_error(IKeyboard_PutScancode(k, 0x1c), CAP_E_INVALID_VM_STATE, "cannot type into");
    ck_error(IKeyboard_PutString(k, "ok"), CAP_E_INVALID_VM_STATE, "cannot type into");
    ck_error(IKeyboard_PutString(k, "d\xc3\xa9j\xc3\xa0"), CAP_E_INVALIDARG,
             "character 2 of the text (byte 0xc3) is typed by no key");
    char *big = malloc(1026);
    memset(big, 'a', 1025);
    big[1025] = '\0';
    ck_error(IKeyboard_PutString(k, big), CAP_E_INVALIDARG, "1025 characters: at most 1024");
    free(big);
    ck_assert_int_eq(IKeyboard_PutString(k, NULL), CAP_E_POINTER);
    ck_error(IKeyboard_PutCAD(k), CAP_E_INVALID_VM_STATE, "cannot type into");
    ck_error(IKeyboard_ReleaseKeys(k), CAP_E_INVALID_VM_STATE, "cannot type into");
    cap_bool yes = CAP_TRUE;
    ck_error(IMouse_GetRelativeSupported(m, &yes), CAP_E_INVALID_VM_STATE,
             "cannot ask about the mouse of a VM that is starting");
    ck_assert_int_eq(yes, CAP_FALSE);
    ck_assert_int_eq(IMouse_GetAbsoluteSupported(m, NULL), CAP_E_POINTER);
    ck_error(IMouse_PutMouseEvent(m, 1, 1, 0, 0, MouseButtonState_LeftButton),
             CAP_E_INVALID_VM_STATE, "cannot move the mouse of a VM that is starting");
    ck_error(IMouse_PutMouseEvent(m, 1, 1, 0, 0, 0x20), CAP_E_INVALIDARG, "buttonState 0x20");
    ck_error(IMouse_PutMouseEvent(m, 1, 1, 0, -1, 0), CAP_E_NOT_SUPPORTED, "no horizontal wheel");
    ck_error(IMouse_PutMouseEventAbsolute(m, 1, 1, 0, 0, 0), CAP_E_INVALID_VM_STATE,
             "cannot move the mouse of");
    IDisplay *disp = NULL;
    ck_assert_int_eq(IConsole_GetDisplay(f.con, &disp), CAP_OK);
    ck_error(IDisplay_SetVideoModeHint(disp, 0, CAP_TRUE, CAP_FALSE, 0, 0, 800, 600, 32),
             CAP_E_INVALID_VM_STATE, "cannot read the screen of a VM that is starting");
    ck_error(IDisplay_InvalidateAndUpdate(disp), CAP_E_INVALID_VM_STATE, "cannot read the screen");
    IDisplay_Release(disp);
    IMouse_Release(m);
    IKeyboard_Release(k);
    fx_down(&f);
}
END_TEST

/* IMouse's pixels on the tablet's axis. */
START_TEST(test_input_to_abs)
{
    ck_assert_uint_eq(console_input_to_abs(1, 800), 0);
    ck_assert_uint_eq(console_input_to_abs(800, 800), PDM_MOUSE_ABS_MAX);
    ck_assert_uint_eq(console_input_to_abs(2, 3), (PDM_MOUSE_ABS_MAX + 1) / 2); /* the middle */
    ck_assert_uint_eq(console_input_to_abs(400, 800), 0x3feb); /* 399 * 0x7fff / 799, rounded */
    ck_assert_uint_eq(console_input_to_abs(0, 800), 0);        /* beyond: the edges */
    ck_assert_uint_eq(console_input_to_abs(INT32_MIN, 800), 0);
    ck_assert_uint_eq(console_input_to_abs(801, 800), PDM_MOUSE_ABS_MAX);
    ck_assert_uint_eq(console_input_to_abs(INT32_MAX, 800), PDM_MOUSE_ABS_MAX);
    ck_assert_uint_eq(console_input_to_abs(1, 1), 0); /* a screen of one pixel */
    ck_assert_uint_eq(console_input_to_abs(5, 0), 0); /* or none */
}
END_TEST

/* ---- a VM behind the console ---------------------------------------------------------------- */

START_TEST(test_console_drives_vm)
{
    struct fx f;
    fx_up(&f, 1);
    fx_power_up(&f, vt_guest_spin, vt_guest_spin_len);
    REPORTS(&f, MachineState_Running);
    ck_assert_int_eq(machine_state(&f), MachineState_Running);
    /* a running VM without that drive (dvd_hotplug.sh changes a real one) */
    ck_error(IInternalSessionControl_OnMediumChange(f.ctl, StorageBus_IDE, 1, 0, "", CAP_FALSE),
             CAP_E_INVALIDARG, "the VM has no drive on ide port 1 device 0");
    /* ... and without a display (a kernel, no BIOS: no vga); screenshot.sh
     * reads a real one */
    IDisplay *disp = NULL;
    ck_assert_int_eq(IConsole_GetDisplay(f.con, &disp), CAP_OK);
    uint32_t w = 1, h = 1, bpp = 1;
    int32_t x = 1, y = 1;
    ck_error(IDisplay_GetScreenResolution(disp, 0, &w, &h, &bpp, &x, &y), CAP_E_NOT_SUPPORTED,
             "the machine has no display");
    ck_error(IDisplay_GetScreenResolution(disp, 1, &w, &h, &bpp, &x, &y), CAP_E_INVALIDARG,
             "no screen 1");
    ck_error(IDisplay_SetVideoModeHint(disp, 0, CAP_TRUE, CAP_FALSE, 0, 0, 800, 600, 32),
             CAP_E_NOT_SUPPORTED, "the machine has no display");
    ck_error(IDisplay_InvalidateAndUpdate(disp), CAP_E_NOT_SUPPORTED, "no display");
    IDisplay_Release(disp);
    /* Its keyboard and mouse (the i8042; this guest reads neither, input.sh
     * has one that does): what fits the controller is taken, the mouse
     * is there and takes events, there is no tablet. */
    IKeyboard *k = NULL;
    IMouse *m = NULL;
    ck_assert_int_eq(IConsole_GetKeyboard(f.con, &k), CAP_OK);
    ck_assert_int_eq(IConsole_GetMouse(f.con, &m), CAP_OK);
    int32_t codes[] = {0x1e, 0x9e};
    uint32_t stored = 0;
    ck_assert_int_eq(IKeyboard_PutScancodes(k, 2, codes, &stored), CAP_OK);
    ck_assert_uint_eq(stored, 2);
    ck_assert_int_eq(IKeyboard_PutString(k, "Hi"), CAP_OK); /* 8 bytes in all: 13 fit unread */
    cap_bool yes = CAP_FALSE;
    ck_assert_int_eq(IMouse_GetRelativeSupported(m, &yes), CAP_OK);
    ck_assert_int_eq(yes, CAP_TRUE);
    ck_assert_int_eq(IMouse_GetAbsoluteSupported(m, &yes), CAP_OK);
    ck_assert_int_eq(yes, CAP_FALSE);
    ck_assert_int_eq(IMouse_PutMouseEvent(m, 3, -4, 1, 0, MouseButtonState_WheelUp), CAP_OK);
    ck_error(IMouse_PutMouseEventAbsolute(m, 10, 10, 0, 0, 0), CAP_E_NOT_SUPPORTED,
             "no absolute pointing device (no tablet)");

    ExecutionEngine e = ExecutionEngine_Auto;
    ck_assert_int_eq(IMachineDebugger_GetExecutionEngine(f.dbg, &e), CAP_OK);
    ck_assert_int_eq(e, ExecutionEngine_Rem);
    char *text = NULL;
    ck_assert_int_eq(IMachineDebugger_GetExecutionEngineReason(f.dbg, &text), CAP_OK);
    ck_assert_msg(strstr(text, "engine rem"), "reason '%s'", text);
    cap_str_free(text);
    /* the VM's registry (vmm/stam), as getStats's IDL says */
    ck_assert_int_eq(IMachineDebugger_GetStats(f.dbg, "/EM/Resets", CAP_FALSE, &text), CAP_OK);
    ck_assert_str_eq(text, "/EM/Resets 0 count\n");
    cap_str_free(text);
    ck_assert_int_eq(
        IMachineDebugger_GetStats(f.dbg, "/EM/Halt|/EM/Re*|/REM/Insns", CAP_TRUE, &text), CAP_OK);
    ck_assert_msg(strstr(text, "/EM/Halt 0 ns (0 times, 0 ns each)\tHLT waits") &&
                      strstr(text, "/EM/RemNs ") && strstr(text, "/REM/Insns ") &&
                      strstr(text, "/EM/Resets 0 count\tVM resets\n") && !strstr(text, "/EM/Runs"),
                  "stats '%s'", text);
    cap_str_free(text);
    ck_assert_int_eq(IMachineDebugger_GetStats(f.dbg, "", CAP_FALSE, &text), CAP_OK);
    ck_assert_msg(strstr(text, "/EM/EngineNs ") && strstr(text, "/EM/UptimeNs ") &&
                      strstr(text, "/EM/Exits/io ") && strstr(text, "/REM/JIT/BlocksTranslated ") &&
                      strstr(text, " ns\n"),
                  "stats '%s'", text);
    cap_str_free(text);
    /* resetStats: counters matching the pattern read 0 from then on */
    ck_assert_int_eq(IMachineDebugger_ResetStats(f.dbg, "/EM/Runs"), CAP_OK);
    ck_assert_int_eq(IMachineDebugger_GetStats(f.dbg, "/EM/Runs|/EM/UptimeNs", CAP_FALSE, &text),
                     CAP_OK);
    unsigned long long runs = ~0ull, up = 0;
    ck_assert_msg(sscanf(text, "/EM/Runs %llu count\n/EM/UptimeNs %llu ns", &runs, &up) == 2,
                  "stats '%s'", text);
    ck_assert_uint_lt(runs, 1000); /* a few slices since the reset, not the whole run */
    ck_assert_uint_gt(up, 0);      /* not reset: not matched */
    cap_str_free(text);

    ck_assert_int_eq(IConsole_Pause(f.con), CAP_OK);
    ck_assert_int_eq(machine_state(&f), MachineState_Paused);
    ck_error(IConsole_Pause(f.con), CAP_E_INVALID_VM_STATE, "cannot pause a VM that is paused");
    ck_assert_int_eq(IMachineDebugger_GetExecutionEngine(f.dbg, &e), CAP_OK); /* paused is fine */
    ck_error(IKeyboard_PutScancodes(k, 2, codes, &stored), CAP_E_INVALID_VM_STATE,
             "cannot type into a VM that is paused");
    ck_assert_int_eq(IMouse_PutMouseEvent(m, 1, 1, 0, 0, 0), CAP_OK); /* the mouse coalesces */
    IMouse_Release(m);
    IKeyboard_Release(k);
    ck_assert_int_eq(IConsole_Resume(f.con), CAP_OK);
    ck_error(IConsole_Resume(f.con), CAP_E_INVALID_VM_STATE, "cannot resume a VM that is running");
    ck_assert_int_eq(IConsole_Reset(f.con), CAP_OK);
    IProgress *p = (IProgress *)1;
    ck_error(IConsole_SaveState(f.con, &p), CAP_E_NOT_SUPPORTED, "saved-state module");
    ck_error(IConsole_PowerUp(f.con, &p), CAP_E_INVALID_VM_STATE,
             "cannot power up a VM that is running");
    REPORTS(&f, MachineState_Running, MachineState_Paused, MachineState_Running);

    ck_assert_int_eq(IConsole_PowerDown(f.con, &p), CAP_OK);
    ck_assert_ptr_nonnull(p);
    cap_bool done = CAP_FALSE;
    ck_assert_int_eq(IProgress_GetCompleted(p, &done), CAP_OK);
    ck_assert(done);
    REPORTS(&f, MachineState_Running, MachineState_Paused, MachineState_Running,
            MachineState_Stopping, MachineState_PoweredOff);
    ck_assert_uint_eq(f.fc.session_ends, 1);
    ck_assert_int_eq(session_state(&f), SessionState_Unlocked);
    ck_assert_int_eq(machine_state(&f), MachineState_PoweredOff);
    ck_error(IMachineDebugger_GetStats(f.dbg, "", CAP_FALSE, &text), CAP_E_INVALID_VM_STATE,
             "not running");
    /* the main thread, woken by the end of the VM: status 0, nothing more said */
    ck_assert_int_eq(console_run_until_off(f.c), 0);
    ck_assert_uint_eq(f.fc.n_reports, 5);
    ck_assert_uint_eq(f.fc.session_ends, 1);

    /* console_linger waits while the client holds powerDown's progress */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    console_linger(f.c, 100);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    ck_assert_int_ge(ms, 90);
    IProgress_Release(p);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    console_linger(f.c, 5000);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    ck_assert_int_lt(ms, 1000);
    fx_down(&f);
}
END_TEST

/* The ways a VM behind the console ends, each run by the main thread's
 * console_run_until_off: the status, what the service heard, and the
 * state after. Uninitialize (the service's shutdown) drops the control
 * first, so nothing is reported to it and the lock is not ended twice. */
enum end_how { END_GUEST, END_SERVICE_LOST, END_UNINITIALIZE };

static const uint8_t guest_ud2[] = {0x0f, 0x0b}; /* triple fault: IDT limit 0 */

static const struct {
    const char *name;
    const uint8_t *guest;
    const size_t *len;
    enum end_how how;
    int status;
    MachineState reports[3], final;
    unsigned session_ends;
    const char *abort_reason; /* the start of what setAbortReason said ("": not called) */
} vm_ends[] = {
    /* clang-format off */
    {"debug-exit", vt_guest_hello, &vt_guest_hello_len, END_GUEST, 85,
     {MachineState_Running, MachineState_PoweredOff}, MachineState_PoweredOff, 1, ""},
    {"triple fault", guest_ud2, NULL, END_GUEST, VMPROC_EXIT_ABORTED,
     {MachineState_Running, MachineState_Aborted}, MachineState_Aborted, 1, "triple fault at "},
    {"service lost", vt_guest_spin, &vt_guest_spin_len, END_SERVICE_LOST, 0,
     {MachineState_Running, MachineState_PoweredOff}, MachineState_PoweredOff, 1, ""},
    {"uninitialize", vt_guest_spin, &vt_guest_spin_len, END_UNINITIALIZE, 0,
     {MachineState_Running}, MachineState_PoweredOff, 0, ""},
    /* clang-format on */
};

START_TEST(test_vm_ends)
{
    struct fx f;
    fx_up(&f, 1);
    fx_power_up(&f, vm_ends[_i].guest, vm_ends[_i].len ? *vm_ends[_i].len : sizeof(guest_ud2));
    if (vm_ends[_i].how == END_SERVICE_LOST)
        console_service_lost(f.c);
    if (vm_ends[_i].how == END_UNINITIALIZE)
        ck_assert_int_eq(IInternalSessionControl_Uninitialize(f.ctl), CAP_OK);
    ck_assert_msg(console_run_until_off(f.c) == vm_ends[_i].status, "%s", vm_ends[_i].name);
    expect_reports(&f, vm_ends[_i].reports);
    ck_assert_int_eq(machine_state(&f), vm_ends[_i].final);
    ck_assert_uint_eq(f.fc.session_ends, vm_ends[_i].session_ends);
    const char *why = vm_ends[_i].abort_reason;
    ck_assert_msg(*why ? !strncmp(f.fc.abort_reason, why, strlen(why)) : !*f.fc.abort_reason,
                  "%s: abort reason '%s'", vm_ends[_i].name, f.fc.abort_reason);
    ck_assert_int_eq(session_state(&f), SessionState_Unlocked);
    IProgress *p = NULL;
    ck_error(IConsole_PowerDown(f.con, &p), CAP_E_INVALID_VM_STATE, "cannot power off");
    fx_down(&f);
}
END_TEST

START_TEST(test_power_up_fails)
{
    struct fx f;
    fx_up(&f, 1);
    struct vmproc_opts o;
    vt_opts(&o, "/nonexistent-vmproc-dir/kernel", "none");
    cap_result rc = console_power_up(f.c, &o);
    ck_assert(CAP_FAILED(rc));
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "/nonexistent-vmproc-dir/kernel"));
    cap_error_clear();
    NO_REPORTS(&f);
    ck_assert_int_eq(machine_state(&f), MachineState_Starting);
    ExecutionEngine e;
    ck_error(IMachineDebugger_GetExecutionEngine(f.dbg, &e), CAP_E_INVALID_VM_STATE, "not running");
    IProgress *p = NULL;
    ck_error(IConsole_PowerDown(f.con, &p), CAP_E_INVALID_VM_STATE, "that is starting");
    fx_down(&f);
}
END_TEST

Suite *console_suite(void)
{
    Suite *s = suite_create("console");
    VT_CASE(s, "session", 0, test_session_unlocked, test_identity, test_assign_machine,
            test_finish_once, test_end_power_up);
    VT_CASE(s, "no_vm", 0, test_console_no_vm, test_debugger_no_vm, test_input_no_vm,
            test_input_to_abs, test_done_progress);
    VT_CASE(s, "vm", VT_TIMEOUT, test_console_drives_vm, test_power_up_fails);
    TCase *tc = tcase_create("vm_ends");
    tcase_set_timeout(tc, VT_TIMEOUT);
    tcase_add_loop_test(tc, test_vm_ends, 0, sizeof(vm_ends) / sizeof(vm_ends[0]));
    suite_add_tcase(s, tc);
    return s;
}
