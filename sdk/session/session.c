/*
 * sdk/session/session.c - the Session class: ISession and the internal
 * IInternalSessionControl through which capsule-svc drives it.
 *
 * A session object lives in the client's process. The client passes it to
 * IMachine's lockMachine (or launchVMProcess); the service then calls
 * assignMachine with the machine the session is to show (for a write lock,
 * the mutable session copy) and the IInternalMachineControl to call when the
 * session ends. unlockMachine calls that control's onSessionEnd and lets go
 * of the machine. The service keeps a reference to the session while it is
 * locked; when the client process dies, IPC drops the connection and the
 * service releases the lock itself (see service/session_machine.c).
 *
 * A session bound to a running VM (Remote, after launchVMProcess; Shared,
 * lockMachine of a running machine) is bound with assignRemoteMachine and
 * gets the VM's console with it: a proxy, through capsule-svc, to the
 * IConsole object inside capsule-vm. The VM process's own session is not
 * this class (capsule-vm implements it beside its console), so this one's
 * remoteConsole is always NULL.
 *
 * Calls out (to the service) are made without the session's mutex held.
 */
#include <pthread.h>
#include <unistd.h>

#include <capsule/capsule.h>
#include <capsule/component.h>
#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/object.h>

#include "session_binding.h"

#define COMPONENT "capsule-session"

struct session {
    ISession ISession_iface;
    IInternalSessionControl IInternalSessionControl_iface;
    cap_refcnt ref;
    pthread_mutex_t lock;
    struct session_binding b; /* state, type, machine, control */
    IConsole *console;        /* strong, while bound to a running VM */
};

static struct session *impl(ISession *iface)
{
    return CAP_CONTAINER_OF(iface, struct session, ISession_iface);
}

static struct session *impl_ctl(IInternalSessionControl *iface)
{
    return CAP_CONTAINER_OF(iface, struct session, IInternalSessionControl_iface);
}

static const struct cap_qi_entry session_qi[] = {
    CAP_QI_ENTRY(IID_ISession, struct session, ISession_iface),
    CAP_QI_ENTRY(IID_IInternalSessionControl, struct session, IInternalSessionControl_iface),
    CAP_QI_END,
};

static cap_result s_QueryInterface(ISession *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(impl(self), session_qi, iid, out);
}

static uint32_t s_AddRef(ISession *self)
{
    return cap_refcnt_inc(&impl(self)->ref);
}

static uint32_t s_Release(ISession *self)
{
    struct session *s = impl(self);
    uint32_t n = cap_refcnt_dec(&s->ref);
    if (n == 0) {
        session_binding_drop(s->b.machine, s->b.control);
        if (s->console)
            IConsole_Release(s->console);
        pthread_mutex_destroy(&s->lock);
        cap_free(s);
    }
    return n;
}

static cap_result s_GetState(ISession *self, SessionState *out)
{
    return session_binding_get_state(&impl(self)->b, &impl(self)->lock, out);
}

static cap_result s_GetType(ISession *self, SessionType *out)
{
    return session_binding_get_type(&impl(self)->b, &impl(self)->lock, out);
}

static cap_result unlocked_error(void)
{
    return cap_error_set(CAP_E_INVALID_SESSION_STATE, COMPONENT, "ISession",
                         "the session is not locked to a machine");
}

static cap_result s_GetMachine(ISession *self, IMachine **out)
{
    struct session *s = impl(self);
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    pthread_mutex_lock(&s->lock);
    if (s->b.machine) {
        *out = s->b.machine;
        IMachine_AddRef(*out);
    }
    pthread_mutex_unlock(&s->lock);
    return *out ? CAP_OK : unlocked_error();
}

static cap_result s_GetConsole(ISession *self, IConsole **out)
{
    struct session *s = impl(self);
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    pthread_mutex_lock(&s->lock);
    int locked = s->b.state == SessionState_Locked;
    if (locked && s->console) {
        *out = s->console;
        IConsole_AddRef(*out);
    }
    pthread_mutex_unlock(&s->lock);
    /* NULL (and success) for a session of a machine without a VM process. */
    return locked ? CAP_OK : unlocked_error();
}

/* Takes the session's machine, control and console (mutex held) and
 * unlocks it. */
static void detach_locked(struct session *s, IMachine **m, IInternalMachineControl **c,
                          IConsole **con)
{
    session_binding_take(&s->b, m, c);
    *con = s->console;
    s->console = NULL;
}

/* Releases what detach_locked took (mutex not held). */
static void drop(IMachine *m, IInternalMachineControl *c, IConsole *con)
{
    session_binding_drop(m, c);
    if (con)
        IConsole_Release(con);
}

static cap_result s_UnlockMachine(ISession *self)
{
    struct session *s = impl(self);
    IMachine *m = NULL;
    IInternalMachineControl *c = NULL;
    IConsole *con = NULL;
    pthread_mutex_lock(&s->lock);
    if (s->b.state != SessionState_Locked) {
        pthread_mutex_unlock(&s->lock);
        return unlocked_error();
    }
    s->b.state = SessionState_Unlocking;
    c = s->b.control;
    IInternalMachineControl_AddRef(c);
    pthread_mutex_unlock(&s->lock);
    /* The service drops the lock (and unsaved changes); a failure (the
     * service is gone) still leaves this session unlocked. */
    cap_result rc = IInternalMachineControl_OnSessionEnd(c, self);
    IInternalMachineControl_Release(c);
    pthread_mutex_lock(&s->lock);
    detach_locked(s, &m, &c, &con);
    pthread_mutex_unlock(&s->lock);
    drop(m, c, con);
    return rc == CAP_E_SERVICE_UNAVAILABLE ? CAP_OK : rc;
}

static const struct ISessionVtbl session_vtbl = {
    .QueryInterface = s_QueryInterface,
    .AddRef = s_AddRef,
    .Release = s_Release,
    .GetState = s_GetState,
    .GetType = s_GetType,
    .GetMachine = s_GetMachine,
    .GetConsole = s_GetConsole,
    .UnlockMachine = s_UnlockMachine,
};

/* ---- IInternalSessionControl ---------------------------------------------------- */

static cap_result c_QueryInterface(IInternalSessionControl *self, const cap_uuid *iid, void **out)
{
    return s_QueryInterface(&impl_ctl(self)->ISession_iface, iid, out);
}

static uint32_t c_AddRef(IInternalSessionControl *self)
{
    return s_AddRef(&impl_ctl(self)->ISession_iface);
}

static uint32_t c_Release(IInternalSessionControl *self)
{
    return s_Release(&impl_ctl(self)->ISession_iface);
}

static cap_result c_GetPid(IInternalSessionControl *self, uint32_t *out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = (uint32_t)getpid();
    return CAP_OK;
}

static cap_result bind(struct session *s, IMachine *machine, SessionType type,
                       IInternalMachineControl *control, IConsole *console)
{
    pthread_mutex_lock(&s->lock);
    cap_result rc = session_binding_assign(&s->b, COMPONENT, machine, type, control);
    if (CAP_SUCCEEDED(rc)) {
        s->console = console;
        if (console)
            IConsole_AddRef(console);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static cap_result c_AssignMachine(IInternalSessionControl *self, IMachine *machine,
                                  SessionType type, IInternalMachineControl *control)
{
    return bind(impl_ctl(self), machine, type, control, NULL);
}

static cap_result c_AssignRemoteMachine(IInternalSessionControl *self, IMachine *machine,
                                        SessionType type, IInternalMachineControl *control,
                                        IConsole *console)
{
    return bind(impl_ctl(self), machine, type, control, console);
}

static cap_result c_GetRemoteConsole(IInternalSessionControl *self, IConsole **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = NULL; /* only a VM process's session has a console of its own */
    return CAP_OK;
}

static cap_result c_OnMediumChange(IInternalSessionControl *self, StorageBus bus, int32_t port,
                                   int32_t device, const char *location, cap_bool force)
{
    return cap_error_set(CAP_E_INVALID_SESSION_STATE, COMPONENT, "IInternalSessionControl",
                         "this session runs no VM: only a VM process changes a drive's medium");
}

static cap_result c_Uninitialize(IInternalSessionControl *self)
{
    struct session *s = impl_ctl(self);
    IMachine *m = NULL;
    IInternalMachineControl *c = NULL;
    IConsole *con = NULL;
    pthread_mutex_lock(&s->lock);
    if (s->b.state == SessionState_Locked)
        detach_locked(s, &m, &c, &con);
    pthread_mutex_unlock(&s->lock);
    drop(m, c, con);
    return CAP_OK;
}

static const struct IInternalSessionControlVtbl control_vtbl = {
    .QueryInterface = c_QueryInterface,
    .AddRef = c_AddRef,
    .Release = c_Release,
    .GetPid = c_GetPid,
    .AssignMachine = c_AssignMachine,
    .Uninitialize = c_Uninitialize,
    .GetRemoteConsole = c_GetRemoteConsole,
    .AssignRemoteMachine = c_AssignRemoteMachine,
    .OnMediumChange = c_OnMediumChange,
};

static cap_result session_create(struct cap_registry *reg, void *ctx, const cap_uuid *iid,
                                 void **out)
{
    *out = NULL;
    struct session *s = cap_alloc_zero(sizeof(*s));
    if (!s)
        return cap_error_set(CAP_E_OUTOFMEMORY, COMPONENT, "ISession", "out of memory");
    s->ISession_iface.vtbl = &session_vtbl;
    s->IInternalSessionControl_iface.vtbl = &control_vtbl;
    cap_refcnt_init(&s->ref, 1);
    pthread_mutex_init(&s->lock, NULL);
    session_binding_init(&s->b);
    cap_result rc = s_QueryInterface(&s->ISession_iface, iid, out);
    s_Release(&s->ISession_iface);
    return rc;
}

static const struct cap_typelib *const session_typelibs[] = {&capsule_typelib};

static const struct cap_component_class session_classes[] = {
    {&CLSID_Session, CAP_CONTRACT_Session, "Session", session_create},
};

static const struct cap_component session_component = {
    .abi = CAP_COMPONENT_ABI,
    .name = "session",
    .n_classes = 1,
    .classes = session_classes,
    .n_typelibs = 1,
    .typelibs = session_typelibs,
};

CAP_COMPONENT_DEFINE(session_component)
