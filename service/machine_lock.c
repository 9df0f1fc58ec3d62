/*
 * service/machine_lock.c - sessions and machine state: lockMachine,
 * launchVMProcess, the IInternalMachineControl a session calls back, and
 * the death of a session's holder.
 *
 * A write lock (LockType Write or VM) binds a client's ISession to a new
 * SESSION copy of the machine: the primary records the holder (its session,
 * the session's IInternalSessionControl, its pid and IPC connection) and the
 * copy; the session gets the copy and the copy's control. The lock ends by
 * one of three doors, all leading to end_lock_locked():
 *  - the session's unlockMachine calls onSessionEnd on the copy's control;
 *  - the holder's process dies: capsule-svc's IPC disconnect callback calls
 *    svc_client_disconnected(), which finds the locks of that connection (or
 *    whose holder no longer answers) and calls machine_holder_died();
 *  - the service shuts down (svc_uninit), telling the session to let go.
 * A lock that ends while its machine is not at rest (the VM process died
 * without powering off) leaves the machine Aborted, never in between.
 *
 * The VM-type lock is taken by capsule-vm, which launchVMProcess spawned
 * (vmlaunch.c): while the machine is Starting only that process may take
 * it. A Shared lock of a machine whose VM process holds it binds the
 * session with that process's console (assignRemoteMachine).
 *
 * Calls to the session (a client object, maybe over IPC) are made without
 * svc->lock held; the lock is reserved first and undone if the call fails.
 */
#include <string.h>
#include <unistd.h>

#include <capsule/mem.h>
#include <capsule/object.h>
#include <capsule/uuid.h>

#include "svc_internal.h"

#define IFACE "IMachine"

struct lock_refs {
    ISession *holder;
    IInternalSessionControl *ctl;
    struct machine *sm;
};

static void drop_refs(struct lock_refs *r)
{
    if (r->ctl)
        IInternalSessionControl_Release(r->ctl);
    if (r->holder)
        ISession_Release(r->holder);
    machine_release(r->sm);
    memset(r, 0, sizeof(*r));
}

static int at_rest(MachineState s)
{
    return s == MachineState_PoweredOff || s == MachineState_Saved || s == MachineState_Aborted;
}

int machine_set_state_locked(struct machine *p, MachineState s)
{
    if (p->state == s)
        return 0;
    p->state = s;
    p->last_state_change = svc_now_ms();
    if (at_rest(s) && p->accessible && p->ever_saved) {
        cap_result rc = machine_write_locked(p, NULL);
        if (CAP_FAILED(rc))
            svc_log("cannot record the state of %s: %s", p->path,
                    cap_error_peek_message() ? cap_error_peek_message() : "?");
    }
    return 1;
}

/* Ends p's write lock (svc->lock held): the references to drop go to *r;
 * returns nonzero if the machine state changed (to Aborted). */
static int end_lock_locked(struct machine *p, struct lock_refs *r)
{
    r->holder = p->holder;
    r->ctl = p->holder_ctl;
    r->sm = p->session_machine;
    p->holder = NULL;
    p->holder_ctl = NULL;
    p->session_machine = NULL;
    p->holder_pid = 0;
    p->holder_conn = 0;
    p->lock_type = LockType_Null;
    p->session_state = SessionState_Unlocked;
    return at_rest(p->state) ? 0 : machine_set_state_locked(p, MachineState_Aborted);
}

static void fire_unlocked(struct machine *p, int state_changed, MachineState s)
{
    struct event_source *es = svc_events(p->svc);
    if (state_changed)
        events_machine_state(es, &p->id, s);
    events_session_state(es, &p->id, SessionState_Unlocked);
}

void machine_end_lock_locked(struct machine *p, IInternalSessionControl **ctl, ISession **holder)
{
    struct lock_refs r = {0};
    end_lock_locked(p, &r);
    if (ctl) {
        *ctl = r.ctl;
        r.ctl = NULL;
    }
    if (holder) {
        *holder = r.holder;
        r.holder = NULL;
    }
    drop_refs(&r);
}

void machine_holder_died(struct machine *p)
{
    struct lock_refs r = {0};
    svc_lock(p->svc);
    if (!p->holder) {
        svc_unlock(p->svc);
        return;
    }
    svc_log("the process holding machine %s (pid %u) is gone; releasing its lock", p->path,
            (unsigned)p->holder_pid);
    int changed = end_lock_locked(p, &r);
    MachineState s = p->state;
    svc_unlock(p->svc);
    drop_refs(&r);
    fire_unlocked(p, changed, s);
}

static cap_result session_unlocked(ISession *session)
{
    SessionState ss = SessionState_Null;
    if (!session)
        return cap_error_set(CAP_E_POINTER, SVC_COMPONENT, IFACE, "NULL session");
    cap_result rc = ISession_GetState(session, &ss);
    if (CAP_FAILED(rc))
        return rc;
    if (ss != SessionState_Unlocked)
        return cap_error_set(CAP_E_INVALID_SESSION_STATE, SVC_COMPONENT, IFACE,
                             "the session is already bound to a machine; unlock it first");
    return CAP_OK;
}

static cap_result lock_checks_locked(struct machine *p, LockType type, uint32_t pid)
{
    if (!p->registered || !p->accessible)
        return cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, IFACE,
                             p->registered ? "the machine is inaccessible"
                                           : "the machine is not registered");
    if (type == LockType_Shared && !p->holder)
        return cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, IFACE,
                             "a shared lock needs a machine locked by another session (a "
                             "running VM); '%s' is not locked", p->cfg.name);
    if (type == LockType_VM && vmlaunch_may_lock_locked(p, pid))
        return CAP_OK;
    if (type != LockType_Shared && (p->holder || p->launch || !at_rest(p->state)))
        return cap_error_set(CAP_E_OBJECT_IN_USE, SVC_COMPONENT, IFACE,
                             "the machine '%s' is locked by another session (pid %u)",
                             p->cfg.name, (unsigned)p->holder_pid);
    return CAP_OK;
}

cap_result machine_lock(struct machine *m, ISession *session, LockType type)
{
    struct machine *p = machine_shared(m);
    IInternalSessionControl *ctl = NULL;
    struct machine *sm = NULL;
    uint32_t pid = 0;
    if (type != LockType_Write && type != LockType_Shared && type != LockType_VM)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE, "invalid lock type %d",
                             (int)type);
    cap_result rc = session_unlocked(session);
    if (CAP_FAILED(rc))
        return rc;
    if (CAP_FAILED(CAP_QI(session, &IID_IInternalSessionControl, &ctl)))
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "the session is not a Session object (no IInternalSessionControl)");
    IInternalSessionControl_GetPid(ctl, &pid);
    svc_lock(p->svc);
    rc = lock_checks_locked(p, type, pid);
    if (CAP_SUCCEEDED(rc) && type != LockType_Shared)
        rc = machine_create_session(p, &sm);
    if (CAP_FAILED(rc)) {
        svc_unlock(p->svc);
        IInternalSessionControl_Release(ctl);
        return rc;
    }
    IMachine *give = &p->IMachine_iface;
    IInternalMachineControl *control = &p->IInternalMachineControl_iface;
    SessionType stype = SessionType_Shared;
    if (sm) {
        p->holder = session;
        ISession_AddRef(session);
        p->holder_ctl = ctl;
        IInternalSessionControl_AddRef(ctl);
        p->session_machine = sm;
        p->holder_pid = pid;
        p->holder_conn = svc_current_conn(p->svc);
        p->lock_type = type;
        p->session_state = SessionState_Locked;
        give = &sm->IMachine_iface;
        control = &sm->IInternalMachineControl_iface;
        stype = SessionType_WriteLock;
    }
    svc_unlock(p->svc);
    if (sm) {
        rc = IInternalSessionControl_AssignMachine(ctl, give, stype, control);
    } else {
        /* Shared: with the console of the VM process, if one holds the lock. */
        IConsole *console = NULL;
        vmlaunch_holder_console(p, &console);
        rc = IInternalSessionControl_AssignRemoteMachine(ctl, give, stype, control, console);
        if (console)
            IConsole_Release(console);
    }
    IInternalSessionControl_Release(ctl);
    if (CAP_FAILED(rc) && sm) {
        struct lock_refs r = {0};
        struct cap_error_info ei;
        cap_error_take(&ei);
        svc_lock(p->svc);
        if (p->session_machine == sm)
            end_lock_locked(p, &r);
        svc_unlock(p->svc);
        drop_refs(&r);
        cap_error_set_info(&ei);
        cap_error_info_clear(&ei);
        return rc;
    }
    if (sm)
        events_session_state(svc_events(p->svc), &p->id, SessionState_Locked);
    return rc;
}

cap_result machine_launch(struct machine *m, ISession *session, const char *type,
                          uint32_t n_env, char *const *env, IProgress **progress)
{
    struct machine *p = machine_shared(m);
    cap_result rc = session_unlocked(session);
    if (CAP_FAILED(rc))
        return rc;
    svc_lock(p->svc);
    if (!p->registered || !p->accessible)
        rc = cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, IFACE,
                           p->registered ? "the machine is inaccessible"
                                         : "the machine is not registered");
    else if (p->holder || p->launch)
        rc = cap_error_set(CAP_E_OBJECT_IN_USE, SVC_COMPONENT, IFACE,
                           "the machine '%s' is locked by another session", p->cfg.name);
    else if (!at_rest(p->state))
        rc = cap_error_set(CAP_E_INVALID_VM_STATE, SVC_COMPONENT, IFACE,
                           "the machine '%s' is already running", p->cfg.name);
    svc_unlock(p->svc);
    if (CAP_FAILED(rc))
        return rc;
    if (!type || !*type)
        type = SVC_DEFAULT_FRONTEND;
    if (strcmp(type, "headless"))
        return cap_error_set(CAP_E_NOT_SUPPORTED, SVC_COMPONENT, IFACE,
                             "no frontend '%s' in this build (known: headless)", type);
    return vmlaunch_start(p, session, type, n_env, env, progress);
}

/* ---- IInternalMachineControl -------------------------------------------------- */

static struct machine *impl_ctl(IInternalMachineControl *iface)
{
    return CAP_CONTAINER_OF(iface, struct machine, IInternalMachineControl_iface);
}

static cap_result ctl_QueryInterface(IInternalMachineControl *self, const cap_uuid *iid,
                                     void **out)
{
    return IMachine_QueryInterface(&impl_ctl(self)->IMachine_iface, iid, out);
}

static uint32_t ctl_AddRef(IInternalMachineControl *self)
{
    return IMachine_AddRef(&impl_ctl(self)->IMachine_iface);
}

static uint32_t ctl_Release(IInternalMachineControl *self)
{
    return IMachine_Release(&impl_ctl(self)->IMachine_iface);
}

static cap_result ctl_OnSessionEnd(IInternalMachineControl *self, ISession *session)
{
    struct machine *m = impl_ctl(self);
    if (m->kind == MACHINE_PRIMARY)
        return CAP_OK; /* a shared session: the service keeps nothing for it */
    struct machine *p = m->primary;
    struct lock_refs r = {0};
    svc_lock(p->svc);
    if (p->session_machine != m) {
        svc_unlock(p->svc);
        return CAP_OK;
    }
    int changed = end_lock_locked(p, &r);
    MachineState s = p->state;
    svc_unlock(p->svc);
    drop_refs(&r);
    fire_unlocked(p, changed, s);
    return CAP_OK;
}

static cap_result ctl_UpdateState(IInternalMachineControl *self, MachineState state)
{
    struct machine *m = impl_ctl(self);
    if (state <= MachineState_Null || state > MachineState_Restoring)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, "IInternalMachineControl",
                             "invalid machine state %d", (int)state);
    if (m->kind == MACHINE_PRIMARY)
        return cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT,
                             "IInternalMachineControl", "a shared session cannot set the state");
    struct machine *p = m->primary;
    svc_lock(p->svc);
    if (p->session_machine != m) {
        svc_unlock(p->svc);
        return cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT,
                             "IInternalMachineControl", "the session no longer holds the lock");
    }
    int changed = machine_set_state_locked(p, state);
    svc_unlock(p->svc);
    if (changed)
        events_machine_state(svc_events(p->svc), &p->id, state);
    return CAP_OK;
}

static cap_result ctl_EndPowerUp(IInternalMachineControl *self, int32_t result,
                                 const char *message)
{
    return vmlaunch_end_power_up(impl_ctl(self), result, message);
}

const struct IInternalMachineControlVtbl machine_control_vtbl = {
    .QueryInterface = ctl_QueryInterface,
    .AddRef = ctl_AddRef,
    .Release = ctl_Release,
    .OnSessionEnd = ctl_OnSessionEnd,
    .UpdateState = ctl_UpdateState,
    .EndPowerUp = ctl_EndPowerUp,
};
