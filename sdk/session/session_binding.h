/*
 * sdk/session/session_binding.h - what a session object holds while
 * capsule-svc has it locked to a machine: the state, the lock type, the
 * machine it shows and the control it reports to. Two classes implement
 * ISession + IInternalSessionControl - the Session component of client
 * processes (session.c) and the VM process's console
 * (plugins/frontends/vmproc/console.c) - and share these transitions
 * (assignMachine binds; unlock, uninitialize and the VM's end unbind).
 *
 * Header-only (static inline): the two live in different binaries (a
 * component .so and capsule-vm) and this is all they share. The caller
 * holds its own mutex around session_binding_assign / _take and calls
 * session_binding_drop after letting go of it (a Release may call out of
 * the process); the getters take the mutex themselves.
 */
#ifndef SDK_SESSION_BINDING_H
#define SDK_SESSION_BINDING_H

#include <pthread.h>

#include <capsule/capsule.h>
#include <capsule/errorinfo.h>

struct session_binding {
    SessionState state;               /* Unlocked until assign, Locked until take */
    SessionType type;                 /* SessionType_Null unless bound */
    IMachine *machine;                /* strong while bound */
    IInternalMachineControl *control; /* strong while bound */
};

static inline void session_binding_init(struct session_binding *b)
{
    b->state = SessionState_Unlocked;
    b->type = SessionType_Null;
    b->machine = NULL;
    b->control = NULL;
}

/* ISession's state and type (the type is Null unless Locked), read under
 * the owner's `lock`. */
static inline cap_result session_binding_get_state(struct session_binding *b, pthread_mutex_t *lock,
                                                   SessionState *out)
{
    if (!out)
        return CAP_E_POINTER;
    pthread_mutex_lock(lock);
    *out = b->state;
    pthread_mutex_unlock(lock);
    return CAP_OK;
}

static inline cap_result session_binding_get_type(struct session_binding *b, pthread_mutex_t *lock,
                                                  SessionType *out)
{
    if (!out)
        return CAP_E_POINTER;
    pthread_mutex_lock(lock);
    *out = b->state == SessionState_Locked ? b->type : SessionType_Null;
    pthread_mutex_unlock(lock);
    return CAP_OK;
}

/* assignMachine's checks and binding (caller's mutex held): references on
 * machine and control; Locked with `type`. `component` names the error's
 * source. */
static inline cap_result session_binding_assign(struct session_binding *b, const char *component,
                                                IMachine *machine, SessionType type,
                                                IInternalMachineControl *control)
{
    if (!machine || !control)
        return cap_error_set(CAP_E_POINTER, component, "IInternalSessionControl",
                             "NULL machine or control");
    if (b->state != SessionState_Unlocked)
        return cap_error_set(CAP_E_INVALID_SESSION_STATE, component, "IInternalSessionControl",
                             "the session is already locked");
    b->machine = machine;
    IMachine_AddRef(machine);
    b->control = control;
    IInternalMachineControl_AddRef(control);
    b->type = type;
    b->state = SessionState_Locked;
    return CAP_OK;
}

/* Unbinds (caller's mutex held): the references move to *m and *c (NULL
 * if there were none), the binding is Unlocked. */
static inline void session_binding_take(struct session_binding *b, IMachine **m,
                                        IInternalMachineControl **c)
{
    *m = b->machine;
    *c = b->control;
    session_binding_init(b);
}

/* Releases what session_binding_take returned (no mutex held). */
static inline void session_binding_drop(IMachine *m, IInternalMachineControl *c)
{
    if (m)
        IMachine_Release(m);
    if (c)
        IInternalMachineControl_Release(c);
}

#endif /* SDK_SESSION_BINDING_H */
