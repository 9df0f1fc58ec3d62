/*
 * service/machine.h - a machine as the service keeps it: the one object per
 * machine (registered, or created/opened and not registered yet), its
 * settings as last saved, its settings file, its state, and who holds its
 * lock. Reading, re-reading, writing and deleting the settings file is
 * here (machine.c); the settings themselves are plain data (settings.h).
 * The mutable copy a write-lock session edits is session_machine.h; the
 * IMachine methods that serve both are imachine.c.
 *
 * Layer: above core.h and settings.h; below the registry, the session
 * machine, VM launching and the objects. Every function here expects the
 * service lock (core->lock) held unless it says otherwise.
 *
 * Field legend: [create] set when the object is made and never changed;
 * [lock] changed under the service lock; [holder] set and cleared with the
 * machine's session lock (session_machine.c); [launch] by vmlaunch.c.
 */
#ifndef CAPSULE_SVC_MACHINE_H
#define CAPSULE_SVC_MACHINE_H

#include <sys/types.h>
#include <time.h>

#include <capsule/capsule.h>
#include <capsule/errorinfo.h>
#include <capsule/object.h>

#include "core.h"
#include "progress.h"
#include "settings.h"

enum machine_kind {
    MACHINE_PRIMARY, /* struct machine: the one object the service keeps */
    MACHINE_SESSION, /* struct session_machine: a write-lock session's copy */
};

struct machine;

/*
 * What every IMachine object of the service is: its interfaces, its kind,
 * and the settings its getters read and its setters change. A primary's
 * `cfg` is the machine's settings (mutable only before registration); a
 * session machine's `cfg` is its own working copy.
 */
struct machine_obj {
    IMachine IMachine_iface;                               /* [create] */
    IInternalMachineControl IInternalMachineControl_iface; /* [create] */
    cap_refcnt ref;
    enum machine_kind kind;   /* [create] */
    struct svc_core *core;    /* [create] its root held */
    struct machine *machine;  /* [create] the machine: itself (PRIMARY) or strong (SESSION) */
    struct machine_cfg cfg;   /* [lock] working settings */
    struct machine_cfg saved; /* [lock] as last saved (PRIMARY) / as at lock time (SESSION) */
    int modified;             /* [lock] cfg differs from what was saved */
};

struct session_machine; /* session_machine.h */
struct launch;          /* vmlaunch.c */

struct machine {
    struct machine_obj obj;             /* kind MACHINE_PRIMARY, obj.machine == this */
    cap_uuid id;                        /* [create] (or as the file says, at load) */
    char *path;                         /* [create] settings file (absolute) */
    struct kv_list extra;               /* [lock] extra data, written at once */
    int registered;                     /* [lock] in the registry (registry.c) */
    int ever_saved;                     /* [lock] the file was written (or read) by us */
    int force_overwrite;                /* [lock] createMachine's flag, until the first save */
    int accessible;                     /* [lock] */
    struct cap_error_info access_error; /* [lock] when !accessible */
    dev_t file_dev;                     /* [lock] identity of the file as last read/written */
    ino_t file_ino;
    off_t file_size;
    struct timespec file_mtime;
    MachineState state;        /* [lock] machine_set_state_locked */
    int64_t last_state_change; /* [lock] */
    char *abort_reason;        /* [lock] why it aborted (NULL: none), saved with the state */
    /* The session lock (session_machine.c). */
    SessionState session_state;          /* [holder] (Spawning: [launch]) */
    LockType lock_type;                  /* [holder] */
    ISession *holder;                    /* [holder] strong, while locked */
    IInternalSessionControl *holder_ctl; /* [holder] strong, while locked */
    struct session_machine *session;     /* [holder] strong, while write-locked */
    uint64_t holder_conn;                /* [holder] IPC connection id, 0 in-process */
    uint32_t holder_pid;                 /* [holder] */
    /* A launchVMProcess in flight (vmlaunch.c). */
    struct launch *launch; /* [launch] */
    pid_t launch_pid;      /* [launch] the VM process it spawned, 0 before */
    /* The frontend of the VM process launchVMProcess started ("headless"),
     * "" when none runs (or the VM process was not launched by us). Set by
     * the launch, cleared when its VM lock ends or the launch fails. */
    char frontend[32]; /* [launch] */
};

/* Nonzero for PoweredOff, Saved and Aborted. */
int machine_state_at_rest(MachineState s);

/* What keeps m from being locked, started or unregistered, in words a user
 * reads after "the machine 'NAME' is ": "running (frontend headless, pid
 * 4242)", "starting (pid 4242)", "being changed by another session (pid
 * 4242)"; NULL when nothing does, or out of memory (cap_str_free). *running
 * (may be NULL) is set to nonzero when a VM process runs or starts (powering
 * it off is the way out). Lock held. */
char *machine_busy_text_locked(const struct machine *m, int *running);
/* Sets and returns error `rc` saying what stands in the way of locking or
 * unregistering m and the way out ("the machine 'NAME' is running
 * (frontend headless, pid 4242); power it off first"). Lock held. */
cap_result machine_busy_error(const struct machine *m, cap_result rc);

/* The machine a machine object shows (itself, or a session copy's). */
static inline struct machine *machine_of(struct machine_obj *o)
{
    return o->machine;
}
struct machine_obj *machine_obj_from_IMachine(IMachine *iface);
void machine_obj_addref(struct machine_obj *o);
void machine_obj_release(struct machine_obj *o); /* NULL is fine */
void machine_addref(struct machine *m);
void machine_release(struct machine *m); /* NULL is fine */

/* Fills the common part of a new object (refcount 1, core held, vtables
 * from the core). */
void machine_obj_init(struct machine_obj *o, struct svc_core *core, enum machine_kind kind);
/* Frees the common part (the object's last Release). */
void machine_obj_fini(struct machine_obj *o);
/* Frees a primary machine (its last Release, imachine.c). */
void machine_destroy(struct machine *m);

/* A new machine (refcount 1), not registered, mutable, not yet written;
 * its network adapter 1 enabled on NAT without a MAC address, which the
 * caller gives (registry_new_mac_locked) in both cfg and saved. Any lock
 * state. */
cap_result machine_create_new(struct svc_core *core, const char *path, const char *name,
                              const char *os_type, const cap_uuid *id, int force,
                              struct machine **out);
/* A machine for `path`, read now; with `keep_inaccessible` a file that
 * cannot be read gives an inaccessible machine with id `id` instead of an
 * error (loading the registry). */
cap_result machine_create_from_file(struct svc_core *core, const char *path, const cap_uuid *id,
                                    int keep_inaccessible, struct machine **out);

/* Reads the file again if it changed on disk (or the machine is
 * inaccessible) and the machine is registered and not locked. */
void machine_refresh_locked(struct machine *m);
/* Writes m's file from `cfg` (NULL: m->obj.saved) + extra + state; never
 * for an inaccessible machine. Makes the folder with the first file (and
 * removes it again if that write fails). CAP_E_FILE_ERROR. */
cap_result machine_write_locked(struct machine *m, const struct machine_cfg *cfg);
/* saveSettings of an unregistered machine (the only time its own cfg is
 * mutable): refuses to overwrite a file it did not write (unless forced).
 * Sets *fire when a machine-data event is due. */
cap_result machine_save_locked(struct machine *m, int *fire);

/* Sets the state, persists rest states, returns nonzero if it changed
 * (fire the event after unlocking). */
int machine_set_state_locked(struct machine *m, MachineState s);

/* Records why m became (or is about to become) Aborted - IMachine's
 * abortReason - and writes it with the state; the next Starting state
 * clears it. Lock held; failures are logged. */
void machine_set_abort_reason_locked(struct machine *m, const char *reason);
/* The recorded abort reason while m is Aborted, else NULL (borrowed; lock
 * held). */
const char *machine_abort_reason_locked(const struct machine *m);

/* Extra data (getExtraData / setExtraData): written at once if the
 * machine has a file. Take the service lock themselves. */
cap_result machine_get_extra(struct machine *m, const char *key, char **value);
cap_result machine_set_extra(struct machine *m, const char *key, const char *value);

/* deleteConfig: removes the settings file (and its -prev/.tmp), the
 * logs, and the folder if that leaves it empty, on a thread; *out is the
 * progress. m must not be registered. Takes the service lock itself. */
cap_result machine_delete_files(struct machine *m, IProgress **out);

/* The file-system form of a machine name, what its folder and settings
 * file are called (FOLDER/NAME/NAME.capsule): '/', control characters and
 * the characters other systems refuse become '_'. CAP_E_INVALIDARG (error
 * info for `iface`) when NAME.capsule-prev.tmp would not fit in a file
 * name. *out: cap_str_free. */
cap_result machine_file_name(const char *name, const char *iface, char **out);

/* The machine was renamed from old_name to new_name: when its folder and
 * settings file are named after old_name (FOLDER/OLD/OLD.capsule), both
 * are renamed (FOLDER/NEW/NEW.capsule, the previous version and the logs
 * with them) and m->path follows; *moved says whether they were. Nothing
 * changes when they are named otherwise. Called again with the names
 * swapped, it moves them back. CAP_E_OBJECT_EXISTS when FOLDER/NEW exists,
 * CAP_E_FILE_ERROR when a rename fails (everything is then as before). */
cap_result machine_move_files_locked(struct machine *m, const char *old_name, const char *new_name,
                                     int *moved);

/* The machine's log folder (FOLDER/Logs), cap_str_free; NULL: no memory. */
char *machine_log_folder(const struct machine *m);

#endif /* CAPSULE_SVC_MACHINE_H */
