/*
 * service/session_machine.h - the session machine: the mutable copy of a
 * machine that a write-lock session (LockType Write, or VM for the VM
 * process) edits, and the machine's session lock itself - taking it
 * (lockMachine), ending it (the session's unlock, the death of its holder,
 * the service's shutdown), the state the VM process reports through it,
 * and committing the copy's settings to the machine (saveSettings).
 *
 * A write lock binds a client's ISession to a new session machine: the
 * machine records the holder (its session, the session's
 * IInternalSessionControl, its pid and IPC connection) and the copy; the
 * session gets the copy and the copy's control. A Shared lock binds the
 * machine itself, with the console of the VM process that holds the VM
 * lock, if any. A lock that ends while its machine is not at rest (the VM
 * process died without powering off) leaves the machine Aborted.
 *
 * Layer: above machine.h and registry.h; below VM launching and the
 * objects. Calls to sessions (client objects, maybe over IPC) are made
 * without the service lock; the *_locked functions expect it held.
 */
#ifndef CAPSULE_SVC_SESSION_MACHINE_H
#define CAPSULE_SVC_SESSION_MACHINE_H

#include "machine.h"

struct session_machine {
    /* kind MACHINE_SESSION; obj.machine is the machine (strong); obj.cfg
     * the working copy, obj.saved as at lock time or last commit. */
    struct machine_obj obj;
};

/* The session machine of an object, or NULL for a primary. */
struct session_machine *session_machine_of(struct machine_obj *o);
/* Frees a session machine (its last Release, imachine.c). */
void session_machine_destroy(struct session_machine *sm);

/* Nonzero if o's setters work now: a machine that is not registered (and
 * accessible), or a session machine whose lock is still held. */
int machine_obj_mutable_locked(struct machine_obj *o);

/* For the objects that are views on part of a machine's settings
 * (ISerialPort, IVRDEServer): locks o's core and returns CAP_OK, or leaves
 * it unlocked and returns CAP_E_INVALID_OBJECT_STATE (error info naming
 * `iface`) when the machine is inaccessible or, for a write, not mutable.
 * machine_obj_part_end unlocks, marking the settings modified if `changed`. */
cap_result machine_obj_part_begin(struct machine_obj *o, int write, const char *iface);
void machine_obj_part_end(struct machine_obj *o, int changed);

/* lockMachine of machine p (any of its objects) for `session`. */
cap_result session_machine_lock(struct machine *p, ISession *session, LockType type);
/* CAP_OK when `session` is an unlocked session (else a message saying so). */
cap_result session_check_unlocked(ISession *session);

/* saveSettings / discardSettings of a session machine (lock held). Sets
 * *fire when a machine-data event is due. */
cap_result session_machine_commit_locked(struct session_machine *sm, int *fire);
cap_result session_machine_discard_locked(struct session_machine *sm);

/* IInternalMachineControl's onSessionEnd, updateState and setAbortReason
 * on object o. */
cap_result session_machine_on_end(struct machine_obj *o);
cap_result session_machine_update_state(struct machine_obj *o, MachineState state);
cap_result session_machine_set_abort_reason(struct machine_obj *o, const char *reason);

/* Ends p's lock (lock held): the holder's control and session go to *ctl
 * and *holder if wanted (release them after unlocking; tell the session
 * first if the service shuts down). Returns nonzero if the machine state
 * changed (to Aborted: it was not at rest). */
int session_end_lock_locked(struct machine *p, IInternalSessionControl **ctl, ISession **holder);
/*
 * The process holding p's lock died (or its connection ended) without
 * unlocking: the lock is released, unsaved changes are dropped, and a
 * machine that was not at rest becomes Aborted. Fires the events. Takes
 * and drops the service lock itself.
 */
void session_holder_died(struct machine *p);
/* The console of the VM process holding p's VM lock (a new reference), or
 * NULL when none. Takes the service lock itself; calls out without it. */
cap_result session_holder_console(struct machine *p, IConsole **out);

#endif /* CAPSULE_SVC_SESSION_MACHINE_H */
