/*
 * service/session_machine.c - the session machine and the machine's
 * session lock (session_machine.h).
 *
 * The lock ends by one of three doors, all leading to end_lock_locked():
 *  - the session's unlockMachine calls onSessionEnd on the copy's control;
 *  - the holder's process dies: capsule-svc's IPC disconnect callback calls
 *    svc_client_disconnected(), which finds the locks of that connection (or
 *    whose holder no longer answers) and calls session_holder_died();
 *  - the service shuts down (svc_uninit), telling the session to let go.
 *
 * The VM-type lock is taken by capsule-vm, which launchVMProcess spawned
 * (vmlaunch.c): while the machine is Starting only that process (the
 * machine's launch_pid) may take it.
 *
 * Calls to the session (a client object, maybe over IPC) are made without
 * the service lock held; the lock is reserved first and undone if the call
 * fails.
 */
#include <string.h>

#include <capsule/mem.h>
#include <capsule/object.h>
#include <capsule/uuid.h>

#include "registry.h"
#include "session_machine.h"

#define IFACE "IMachine"

struct lock_refs {
    ISession *holder;
    IInternalSessionControl *ctl;
    struct session_machine *sm;
};

static void drop_refs(struct lock_refs *r)
{
    if (r->ctl)
        IInternalSessionControl_Release(r->ctl);
    if (r->holder)
        ISession_Release(r->holder);
    if (r->sm)
        machine_obj_release(&r->sm->obj);
    memset(r, 0, sizeof(*r));
}

struct session_machine *session_machine_of(struct machine_obj *o)
{
    return o->kind == MACHINE_SESSION ? CAP_CONTAINER_OF(o, struct session_machine, obj) : NULL;
}

void session_machine_destroy(struct session_machine *sm)
{
    struct machine *p = sm->obj.machine;
    machine_obj_fini(&sm->obj);
    cap_free(sm);
    machine_release(p);
}

/* A session copy of p (p locked by the caller). */
static cap_result session_machine_create(struct machine *p, struct session_machine **out)
{
    *out = NULL;
    struct session_machine *sm = cap_alloc_zero(sizeof(*sm));
    if (!sm)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    machine_obj_init(&sm->obj, p->obj.core, MACHINE_SESSION);
    sm->obj.machine = p;
    machine_addref(p);
    cap_result rc = machine_cfg_copy(&sm->obj.cfg, &p->obj.cfg);
    if (CAP_SUCCEEDED(rc))
        rc = machine_cfg_copy(&sm->obj.saved, &p->obj.cfg);
    if (CAP_FAILED(rc)) {
        machine_obj_release(&sm->obj);
        return rc;
    }
    *out = sm;
    return CAP_OK;
}

int machine_obj_mutable_locked(struct machine_obj *o)
{
    struct machine *p = o->machine;
    if (o->core->uninited)
        return 0;
    if (o->kind == MACHINE_PRIMARY)
        return !p->registered && p->accessible;
    return p->session && &p->session->obj == o &&
           (p->lock_type == LockType_Write || p->lock_type == LockType_VM);
}

cap_result machine_obj_part_begin(struct machine_obj *o, int write, const char *iface)
{
    cap_result rc;
    svc_core_lock(o->core);
    if (o->kind == MACHINE_PRIMARY && !o->machine->accessible)
        rc = cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, iface,
                           "the machine is inaccessible");
    else if (write && !machine_obj_mutable_locked(o))
        rc = cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, iface,
                           "the machine is not mutable: lock it with a write-lock session and "
                           "change the session's machine");
    else
        return CAP_OK;
    svc_core_unlock(o->core);
    return rc;
}

void machine_obj_part_end(struct machine_obj *o, int changed)
{
    if (changed)
        o->modified = 1;
    svc_core_unlock(o->core);
}

/* ---- ending a lock ------------------------------------------------------------ */

/* Ends p's write lock (lock held): the references to drop go to *r;
 * returns nonzero if the machine state changed (to Aborted). */
static int end_lock_locked(struct machine *p, struct lock_refs *r)
{
    uint32_t pid = p->holder_pid;
    int vm = p->lock_type == LockType_VM;
    r->holder = p->holder;
    r->ctl = p->holder_ctl;
    r->sm = p->session;
    p->holder = NULL;
    p->holder_ctl = NULL;
    p->session = NULL;
    p->holder_pid = 0;
    p->holder_conn = 0;
    p->lock_type = LockType_Null;
    p->session_state = SessionState_Unlocked;
    if (!p->launch)
        p->frontend[0] = '\0';
    if (machine_state_at_rest(p->state))
        return 0;
    int changed = machine_set_state_locked(p, MachineState_Aborted);
    char *why = cap_str_printf(vm ? "the VM process (pid %u) ended without powering the VM off"
                                  : "the session holding it (pid %u) ended while it ran",
                               (unsigned)pid);
    machine_set_abort_reason_locked(p, why ? why : "its session ended while it ran");
    cap_str_free(why);
    return changed;
}

static void fire_unlocked(struct machine *p, int state_changed, MachineState s)
{
    struct event_source *es = p->obj.core->events;
    if (state_changed)
        events_machine_state(es, &p->id, s);
    events_session_state(es, &p->id, SessionState_Unlocked);
}

int session_end_lock_locked(struct machine *p, IInternalSessionControl **ctl, ISession **holder)
{
    struct lock_refs r = {0};
    int changed = end_lock_locked(p, &r);
    if (ctl) {
        *ctl = r.ctl;
        r.ctl = NULL;
    }
    if (holder) {
        *holder = r.holder;
        r.holder = NULL;
    }
    drop_refs(&r);
    return changed;
}

void session_holder_died(struct machine *p)
{
    struct lock_refs r = {0};
    svc_core_lock(p->obj.core);
    if (!p->holder) {
        svc_core_unlock(p->obj.core);
        return;
    }
    svc_log("the process holding machine %s (pid %u) is gone; releasing its lock", p->path,
            (unsigned)p->holder_pid);
    int changed = end_lock_locked(p, &r);
    MachineState s = p->state;
    svc_core_unlock(p->obj.core);
    drop_refs(&r);
    fire_unlocked(p, changed, s);
}

cap_result session_holder_console(struct machine *p, IConsole **out)
{
    *out = NULL;
    IInternalSessionControl *ctl = NULL;
    svc_core_lock(p->obj.core);
    if (p->holder_ctl && p->lock_type == LockType_VM) {
        ctl = p->holder_ctl;
        IInternalSessionControl_AddRef(ctl);
    }
    svc_core_unlock(p->obj.core);
    if (!ctl)
        return CAP_OK;
    cap_result rc = IInternalSessionControl_GetRemoteConsole(ctl, out);
    IInternalSessionControl_Release(ctl);
    return rc;
}

/* ---- lockMachine -------------------------------------------------------------- */

cap_result session_check_unlocked(ISession *session)
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

/* Whether the VM process of p's pending launch is `pid` (it may then take
 * the VM lock of the Starting machine). */
static int launched_by_us(struct machine *p, uint32_t pid)
{
    return p->launch && p->launch_pid == (pid_t)pid && p->state == MachineState_Starting &&
           !p->holder;
}

static cap_result lock_checks_locked(struct machine *p, LockType type, uint32_t pid)
{
    if (!p->registered || !p->accessible)
        return cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, IFACE,
                             p->registered ? "the machine is inaccessible"
                                           : "the machine is not registered");
    if (type == LockType_Shared && !p->holder)
        return cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, IFACE,
                             p->launch ? "the machine '%s' is still starting"
                                       : "the machine '%s' is not running",
                             p->obj.cfg.name);
    if (type == LockType_VM && launched_by_us(p, pid))
        return CAP_OK;
    if (type != LockType_Shared && (p->holder || p->launch || !machine_state_at_rest(p->state)))
        return machine_busy_error(p, CAP_E_OBJECT_IN_USE);
    return CAP_OK;
}

cap_result session_machine_lock(struct machine *p, ISession *session, LockType type)
{
    struct svc_core *core = p->obj.core;
    IInternalSessionControl *ctl = NULL;
    struct session_machine *sm = NULL;
    uint32_t pid = 0;
    if (type != LockType_Write && type != LockType_Shared && type != LockType_VM)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE, "invalid lock type %d",
                             (int)type);
    cap_result rc = session_check_unlocked(session);
    if (CAP_FAILED(rc))
        return rc;
    if (CAP_FAILED(CAP_QI(session, &IID_IInternalSessionControl, &ctl)))
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "the session is not a Session object (no IInternalSessionControl)");
    IInternalSessionControl_GetPid(ctl, &pid);
    svc_core_lock(core);
    rc = lock_checks_locked(p, type, pid);
    if (CAP_SUCCEEDED(rc) && type != LockType_Shared)
        rc = session_machine_create(p, &sm);
    if (CAP_FAILED(rc)) {
        svc_core_unlock(core);
        IInternalSessionControl_Release(ctl);
        return rc;
    }
    IMachine *give = &p->obj.IMachine_iface;
    IInternalMachineControl *control = &p->obj.IInternalMachineControl_iface;
    SessionType stype = SessionType_Shared;
    if (sm) {
        p->holder = session;
        ISession_AddRef(session);
        p->holder_ctl = ctl;
        IInternalSessionControl_AddRef(ctl);
        p->session = sm;
        p->holder_pid = pid;
        p->holder_conn = svc_core_current_conn(core);
        p->lock_type = type;
        p->session_state = SessionState_Locked;
        give = &sm->obj.IMachine_iface;
        control = &sm->obj.IInternalMachineControl_iface;
        stype = SessionType_WriteLock;
    }
    svc_core_unlock(core);
    if (sm) {
        rc = IInternalSessionControl_AssignMachine(ctl, give, stype, control);
    } else {
        /* Shared: with the console of the VM process, if one holds the lock. */
        IConsole *console = NULL;
        session_holder_console(p, &console);
        rc = IInternalSessionControl_AssignRemoteMachine(ctl, give, stype, control, console);
        if (console)
            IConsole_Release(console);
    }
    IInternalSessionControl_Release(ctl);
    if (CAP_FAILED(rc) && sm) {
        struct lock_refs r = {0};
        struct cap_error_info ei;
        cap_error_take(&ei);
        svc_core_lock(core);
        if (p->session == sm)
            end_lock_locked(p, &r);
        svc_core_unlock(core);
        drop_refs(&r);
        cap_error_set_info(&ei);
        cap_error_info_clear(&ei);
        return rc;
    }
    if (sm)
        events_session_state(core->events, &p->id, SessionState_Locked);
    return rc;
}

/* ---- saveSettings / discardSettings -------------------------------------------- */

cap_result session_machine_commit_locked(struct session_machine *sm, int *fire)
{
    struct machine_obj *m = &sm->obj;
    struct machine *p = m->machine;
    cap_result rc;
    *fire = 0;
    if (!m->modified && p->ever_saved)
        return CAP_OK;
    if (CAP_FAILED(rc = machine_cfg_check(&m->cfg)))
        return rc;
    if (registry_name_taken_locked(m->core->registry, m->cfg.name, p))
        return cap_error_set(CAP_E_OBJECT_EXISTS, SVC_COMPONENT, IFACE,
                             "a machine named '%s' is already registered", m->cfg.name);
    /* A new name renames the machine's folder and file with it, while no
     * VM process runs (it keeps files of the folder open). */
    int moved = 0;
    const char *old = p->obj.cfg.name, *name = m->cfg.name;
    if (strcmp(old, name) && p->lock_type != LockType_VM && machine_state_at_rest(p->state) &&
        CAP_FAILED(rc = machine_move_files_locked(p, old, name, &moved)))
        return rc;
    rc = machine_write_locked(p, &m->cfg);
    if (CAP_SUCCEEDED(rc) && moved)
        rc = registry_save_locked(m->core->registry);
    if (CAP_FAILED(rc)) {
        if (moved) { /* back where capsule.xml says it is, as it was */
            struct cap_error_info ei;
            cap_error_take(&ei);
            int back = 0;
            if (CAP_SUCCEEDED(machine_move_files_locked(p, name, old, &back)))
                machine_write_locked(p, NULL);
            cap_error_set_info(&ei);
            cap_error_info_clear(&ei);
        }
        return rc;
    }
    if (CAP_FAILED(rc = machine_cfg_copy(&m->saved, &m->cfg)) ||
        CAP_FAILED(rc = machine_cfg_copy(&p->obj.cfg, &m->cfg)) ||
        CAP_FAILED(rc = machine_cfg_copy(&p->obj.saved, &m->cfg)))
        return rc;
    m->modified = 0;
    p->force_overwrite = 0;
    *fire = p->registered;
    return CAP_OK;
}

cap_result session_machine_discard_locked(struct session_machine *sm)
{
    cap_result rc = machine_cfg_copy(&sm->obj.cfg, &sm->obj.saved);
    if (CAP_SUCCEEDED(rc))
        sm->obj.modified = !sm->obj.machine->ever_saved;
    return rc;
}

/* ---- IInternalMachineControl ---------------------------------------------------- */

cap_result session_machine_on_end(struct machine_obj *o)
{
    if (o->kind == MACHINE_PRIMARY)
        return CAP_OK; /* a shared session: the service keeps nothing for it */
    struct machine *p = o->machine;
    struct lock_refs r = {0};
    svc_core_lock(o->core);
    if (!p->session || &p->session->obj != o) {
        svc_core_unlock(o->core);
        return CAP_OK;
    }
    int changed = end_lock_locked(p, &r);
    MachineState s = p->state;
    svc_core_unlock(o->core);
    drop_refs(&r);
    fire_unlocked(p, changed, s);
    return CAP_OK;
}

cap_result session_machine_update_state(struct machine_obj *o, MachineState state)
{
    const char *ci = "IInternalMachineControl";
    if (state <= MachineState_Null || state > MachineState_Restoring)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, ci, "invalid machine state %d",
                             (int)state);
    if (o->kind == MACHINE_PRIMARY)
        return cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, ci,
                             "a shared session cannot set the state");
    struct machine *p = o->machine;
    svc_core_lock(o->core);
    if (!p->session || &p->session->obj != o) {
        svc_core_unlock(o->core);
        return cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, ci,
                             "the session no longer holds the lock");
    }
    int changed = machine_set_state_locked(p, state);
    svc_core_unlock(o->core);
    if (changed)
        events_machine_state(o->core->events, &p->id, state);
    return CAP_OK;
}

cap_result session_machine_set_abort_reason(struct machine_obj *o, const char *reason)
{
    const char *ci = "IInternalMachineControl";
    if (!reason || !*reason || !settings_text_ok(reason))
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, ci,
                             "the abort reason must be non-empty UTF-8 text");
    if (o->kind == MACHINE_PRIMARY)
        return cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, ci,
                             "only the VM process's session reports why the VM aborted");
    struct machine *p = o->machine;
    svc_core_lock(o->core);
    if (!p->session || &p->session->obj != o || p->lock_type != LockType_VM) {
        svc_core_unlock(o->core);
        return cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, ci,
                             "the session no longer holds the machine's VM lock");
    }
    machine_set_abort_reason_locked(p, reason);
    svc_core_unlock(o->core);
    return CAP_OK;
}
