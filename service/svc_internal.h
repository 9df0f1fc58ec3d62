/*
 * service/svc_internal.h - what the files of service/ share.
 *
 * Locking: one recursive mutex per service (svc->lock) guards the machine
 * list, the global settings and every machine's data; objects take it
 * through their svc pointer. It is never held while calling out of the
 * service's own objects (a session or event listener may live in a client
 * process, reached over IPC), so events are fired and sessions told after
 * it is dropped. Progress objects and the event source have their own
 * locks, taken after (never before) svc->lock.
 *
 * Ownership: the svc holds its registered machines; every machine holds
 * its svc; a write-locked primary machine holds its session machine and
 * that holds the primary. svc_uninit() and the end of each lock break these
 * cycles.
 */
#ifndef CAPSULE_SVC_INTERNAL_H
#define CAPSULE_SVC_INTERNAL_H

#include <pthread.h>
#include <sys/types.h>

#include <capsule/capsule.h>
#include <capsule/errorinfo.h>
#include <capsule/object.h>
#include <capsule/registry.h>

#include "settings.h"
#include "svc.h"

#define SVC_COMPONENT "capsule-svc"
#define SVC_VERSION "1.0.0"

/* Limits reported by ISystemProperties and enforced by the setters. */
#define SVC_MIN_RAM 1u
#define SVC_MAX_RAM (1024u * 1024u)
#define SVC_MIN_CPUS 1u
#define SVC_MAX_CPUS 256u
#define SVC_DEFAULT_FRONTEND "headless"

struct event_source;
struct machine;

struct svc {
    ICapsule ICapsule_iface;
    cap_refcnt ref;
    pthread_mutex_t lock; /* recursive */
    struct cap_registry *reg;
    char *home;
    char *global_path;
    struct global_file global; /* sysprops and extra data; machines rebuilt on save */
    struct machine **machines; /* registered, in order; strong refs */
    uint32_t n_machines;
    struct event_source *events; /* strong ref */
    int uninited;
    uint64_t (*conn_hook)(void); /* the IPC connection of the current call */
    struct svc_ipc_stats ipc_stats; /* set before serving, cleared after (svc.h) */
};

/* The IPC connection id of the call being served, 0 if none/in-process. */
uint64_t svc_current_conn(struct svc *svc);

void svc_lock(struct svc *svc);
void svc_unlock(struct svc *svc);
struct svc *svc_from_ICapsule(ICapsule *iface);

/* The bare ICapsule object (capsule.c), refcount 1, lock initialised. */
cap_result svc_create_object(struct svc **out);
/* Appends m to the registry (takes a reference, marks it registered). */
cap_result svc_add_machine_locked(struct svc *svc, struct machine *m);

/* Writes the global file from the current state; CAP_E_FILE_ERROR. */
cap_result svc_save_global_locked(struct svc *svc);
/* The registered machine with this id, or NULL (borrowed). */
struct machine *svc_find_id_locked(struct svc *svc, const cap_uuid *id);
/* The registered machine whose settings file is `path`, or NULL (borrowed). */
struct machine *svc_find_path_locked(struct svc *svc, const char *path);
/* The longest file name (bytes) a machine's folder may hold (POSIX NAME_MAX
 * of the usual file systems). */
#define SVC_NAME_MAX ((size_t)255)
/* Removes folders of the default machine folder that only a create or a
 * delete of this service cut short can have left: not a registered
 * machine's, holding nothing but NAME.capsule.tmp files of ours and an
 * empty Logs. Logged; anything else is left alone. Called at start. */
void svc_sweep_orphans_locked(struct svc *svc);
/* Nonzero if a registered accessible machine other than `except` has name. */
int svc_name_taken_locked(struct svc *svc, const char *name, const struct machine *except);
/* The default machine folder, absolute (cap_str_free). */
char *svc_machine_folder_locked(struct svc *svc);
struct event_source *svc_events(struct svc *svc);

/* ---- machines (machine*.c) --------------------------------------------- */

enum machine_kind {
    MACHINE_PRIMARY, /* the one object per machine the service keeps */
    MACHINE_SESSION, /* the mutable copy a write-lock session edits */
};

struct machine {
    IMachine IMachine_iface;
    IInternalMachineControl IInternalMachineControl_iface;
    cap_refcnt ref;
    struct svc *svc;         /* strong; set at create */
    enum machine_kind kind;  /* set at create */
    struct machine *primary; /* SESSION: strong ref to the primary */
    cap_uuid id;             /* set at create / load */
    char *path;              /* settings file (absolute) */
    struct machine_cfg cfg;  /* working copy of the settings */
    struct machine_cfg saved;/* PRIMARY: as last saved; SESSION: as at lock time */
    int modified;
    /* PRIMARY only from here. */
    struct kv_list extra;
    int registered;
    int ever_saved;          /* the file was written (or read) by us */
    int force_overwrite;     /* createMachine's flag, until the first save */
    int accessible;
    struct cap_error_info access_error; /* when !accessible */
    dev_t file_dev;          /* identity of the file as last read/written */
    ino_t file_ino;
    off_t file_size;
    struct timespec file_mtime;
    MachineState state;
    int64_t last_state_change;
    SessionState session_state;
    LockType lock_type;
    ISession *holder;                      /* strong, while locked */
    IInternalSessionControl *holder_ctl;   /* strong, while locked */
    struct machine *session_machine;       /* strong, while locked */
    uint64_t holder_conn;                  /* IPC connection id, 0 in-process */
    uint32_t holder_pid;
    struct launch *launch;                 /* launchVMProcess pending (vmlaunch.c) */
};

struct machine *machine_from_IMachine(IMachine *iface);
/* Checks that iface is one of our machine objects (vtable compare). */
struct machine *machine_from_foreign(IMachine *iface);

/* A zeroed machine of `kind` bound to svc (refcount 1); NULL if out of
 * memory. */
struct machine *machine_alloc(struct svc *svc, enum machine_kind kind);
/* IMachine methods of machine_io.c. */
cap_result machine_SaveSettings(IMachine *self);
cap_result machine_DiscardSettings(IMachine *self);
cap_result machine_Unregister(IMachine *self);
cap_result machine_DeleteConfig(IMachine *self, IProgress **progress);
cap_result machine_GetExtraData(IMachine *self, const char *key, char **value);
cap_result machine_SetExtraData(IMachine *self, const char *key, const char *value);
/* A new primary machine (refcount 1), not registered, mutable. */
cap_result machine_create_new(struct svc *svc, const char *path, const char *name,
                              const char *os_type, const cap_uuid *id, int force,
                              struct machine **out);
/* A primary machine for `path`: read now; with `keep_inaccessible` a file
 * that cannot be read gives an inaccessible machine with id `id` instead of
 * an error (loading the registry). */
cap_result machine_create_from_file(struct svc *svc, const char *path, const cap_uuid *id,
                                    int keep_inaccessible, struct machine **out);
/* A session copy of primary p (locked). */
cap_result machine_create_session(struct machine *p, struct machine **out);

void machine_addref(struct machine *m);
void machine_release(struct machine *m);

/* Reads the file again if it changed on disk (or the machine is
 * inaccessible) and the machine is not locked. */
void machine_refresh_locked(struct machine *m);
/* Writes p's file from `cfg` (NULL: p->saved) + extra + state. */
cap_result machine_write_locked(struct machine *p, const struct machine_cfg *cfg);
/* The machine whose shared state (state, lock, extra data) m shows. */
struct machine *machine_shared(struct machine *m);
/* Nonzero if m's setters work now. */
int machine_mutable_locked(struct machine *m);

/* Sets the state, persists rest states, returns nonzero if it changed
 * (fire the event after unlocking). */
int machine_set_state_locked(struct machine *p, MachineState s);

/*
 * The process holding p's lock died (or its connection ended) without
 * unlocking: the lock is released, unsaved changes are dropped, and a
 * machine that was not at rest becomes Aborted. Fires the events. Takes
 * and drops svc->lock itself; p is a primary machine.
 */
void machine_holder_died(struct machine *p);

/* Ends p's lock (svc->lock held); returns the holder's control (a
 * reference the caller releases after unlocking) through *ctl if wanted. */
void machine_end_lock_locked(struct machine *p, IInternalSessionControl **ctl, ISession **holder);

cap_result machine_lock(struct machine *m, ISession *session, LockType type);
cap_result machine_launch(struct machine *m, ISession *session, const char *type,
                          uint32_t n_env, char *const *env, IProgress **progress);

/* ---- VM processes (vmlaunch.c) ----------------------------------------- */

/* Spawns capsule-vm for primary p (checked by the caller: session unlocked,
 * type known) and returns the launch progress; see vmlaunch.c. */
cap_result vmlaunch_start(struct machine *p, ISession *session, const char *type,
                          uint32_t n_env, char *const *env, IProgress **out);
/* Nonzero if process `pid` is the VM process p's pending launch spawned
 * (it may then take the VM lock of a Starting machine). svc->lock held. */
int vmlaunch_may_lock_locked(struct machine *p, uint32_t pid);
/* The console of the VM process holding p's VM lock (a new reference), or
 * NULL when none. Takes svc->lock itself; calls out without it. */
cap_result vmlaunch_holder_console(struct machine *p, IConsole **out);
/* IInternalMachineControl's endPowerUp on session machine m. */
cap_result vmlaunch_end_power_up(struct machine *m, cap_result result, const char *message);

extern const struct IInternalMachineControlVtbl machine_control_vtbl;

/* ---- other objects ----------------------------------------------------- */

cap_result serialport_create(struct machine *m, uint32_t slot, ISerialPort **out);
cap_result sysprops_create(struct svc *svc, ISystemProperties **out);

struct guestos_info {
    const char *id, *family, *description;
    cap_bool is64;
    uint32_t ram, cpus;
    const char *cmdline;
};
/* Case-insensitive lookup; NULL if unknown. */
const struct guestos_info *guestos_lookup(const char *id);
cap_result guestos_get(const char *id, IGuestOSType **out);
cap_result guestos_list(uint32_t *n, IGuestOSType ***out);

/* CPU profiles (cpuprofile.c), from the VMM's table (libcpum-profile.a).
 * cpuprofile_canonical: the table's spelling of `name`, matched without
 * regard to case (NULL or "" give the default, "host"), or NULL when this
 * build has no such profile; the string lives as long as the process.
 * cpuprofile_unknown: CAP_E_INVALIDARG with a message naming `name` and
 * the known profiles (error info for interface `iface`).
 * cpuprofile_list: ISystemProperties' cpuProfiles, the default first. */
const char *cpuprofile_canonical(const char *name);
cap_result cpuprofile_unknown(const char *name, const char *iface);
cap_result cpuprofile_list(uint32_t *n, ICPUProfile ***out);

/* An IErrorInfo holding a copy of *ei. */
cap_result errinfo_create(const struct cap_error_info *ei, IErrorInfo **out);
/* Moves the thread's error info into *ei, or fills in (rc, msg) if none. */
void errinfo_take(cap_result rc, struct cap_error_info *ei);

/* ---- progress (progress.c) --------------------------------------------- */

struct progress;
cap_result progress_create(const char *description, ISupports *initiator, cap_bool cancelable,
                           uint32_t n_ops, const char *first_op, struct progress **out);
IProgress *progress_iface(struct progress *p);
void progress_release(struct progress *p);
void progress_next_op(struct progress *p, const char *description);
void progress_set_op_percent(struct progress *p, uint32_t percent);
int progress_cancel_requested(struct progress *p);
/* Completes with rc; ei (may be NULL) is copied for errorInfo. */
void progress_complete(struct progress *p, cap_result rc, const struct cap_error_info *ei);

/* ---- events (events.c, event_types.c) ---------------------------------- */

cap_result event_source_create(struct event_source **out);
IEventSource *event_source_iface(struct event_source *es);
void event_source_release(struct event_source *es);
/* Drops every listener (service shutdown). */
void event_source_shutdown(struct event_source *es);
/* See svc_set_caller_gone_hook (svc.h); set before serving. */
void event_source_set_caller_gone(struct event_source *es, int (*hook)(void));
/* See svc_set_peer_hook (svc.h); set before serving. */
void event_source_set_peer_hook(struct event_source *es,
                                int (*hook)(uint64_t *conn_id, int32_t *pid));
/* Overrides the bounds read from the environment at create
 * (CAPSULE_SVC_LISTENER_TIMEOUT ms, CAPSULE_SVC_LISTENER_QUEUE events);
 * 0 keeps one. For the tests; any thread. */
void event_source_set_limits(struct event_source *es, uint32_t timeout_ms, uint32_t queue_max);
/* Number of registered listeners (tests). */
uint32_t event_source_listener_count(struct event_source *es);
/* Listeners dropped by a bound (timeout, full queue, idle, client gone). */
uint32_t event_source_dropped_count(struct event_source *es);
/* Delivery threads running (tests). */
uint32_t event_source_delivery_threads(struct event_source *es);

struct event_args {
    cap_uuid machine_id;
    int32_t state;     /* MachineState or SessionState */
    cap_bool registered;
    const char *key, *value;
};
cap_result event_create(IEventSource *source, EventType type, const struct event_args *args,
                        IEvent **out);
/* Builds and fires one event; failures are logged, never returned. */
void events_fire(struct event_source *es, EventType type, const struct event_args *args);
void events_machine_state(struct event_source *es, const cap_uuid *id, MachineState s);
void events_session_state(struct event_source *es, const cap_uuid *id, SessionState s);
void events_machine_data(struct event_source *es, const cap_uuid *id);
void events_machine_registered(struct event_source *es, const cap_uuid *id, int registered);
void events_extra_data(struct event_source *es, const cap_uuid *id, const char *key,
                       const char *value);

/* ---- misc --------------------------------------------------------------- */

/* A line to the service log (stderr, which capsule-svc points at the log). */
void svc_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* svc_log's file when stderr is the service log at `path`: past
 * `max_bytes` (0: never) it is rotated while the service runs, keeping
 * `keep` old ones (svc_rotate_log). Main thread, before other threads. */
#define SVC_LOG_MAX_DEFAULT ((uint64_t)8 << 20) /* CAPSULE_SVC_LOG_MAX overrides */
void svc_log_set_file(const char *path, unsigned keep, uint64_t max_bytes);
/* logHistoryCount changed while running. Any thread. */
void svc_log_set_history(unsigned keep);
int64_t svc_now_ms(void);
/* A decimal uint32 from environment variable `name` into *out: 1, or 0 (and
 * *out untouched) when it is unset, empty or not such a number. */
int svc_env_u32(const char *name, uint32_t *out);
cap_result svc_return_str(const char *s, char **out);
/* Before a new log starts at `path`: path becomes path.1, path.1 path.2 ...
 * up to path.KEEP; older ones are deleted (keep 0: path itself is). */
#define SVC_LOG_HISTORY_MAX 100u /* ISystemProperties' logHistoryCount's maximum */
void svc_rotate_log(const char *path, unsigned keep);
/* mkdir -p for the folder that will hold `file`; CAP_E_FILE_ERROR. */
cap_result svc_make_parent_dirs(const char *file);

#endif /* CAPSULE_SVC_INTERNAL_H */
