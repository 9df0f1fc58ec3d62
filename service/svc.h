/*
 * service/svc.h - the API implementation hosted by capsule-svc, as a library
 * (BUILD/lib/libcapsule-svc.a) linked by the capsule-svc program and by the
 * unit tests, which run the same objects in-process.
 *
 * struct svc is the root object (ICapsule) of one CAPSULE_HOME: it owns the
 * registered machines, the global settings file, the event source and the
 * system properties. Create it once per home; the objects it hands out may
 * outlive it until svc_uninit(), which releases every lock and reference it
 * holds (breaking the parent/child reference cycles) — call svc_uninit()
 * before the last release, as VirtualBox's Main does with uninit().
 *
 * Threads: every function may be called from any thread.
 */
#ifndef CAPSULE_SVC_H
#define CAPSULE_SVC_H

#include <capsule/capsule.h>
#include <capsule/registry.h>

struct svc;

/*
 * Loads HOME/capsule.xml (creating nothing if it is missing) and every
 * machine it lists; machines whose files cannot be read are kept as
 * inaccessible. `reg` (borrowed, must outlive the svc) gives the Host
 * component. Errors: CAP_E_XML_ERROR / CAP_E_FILE_ERROR when the global
 * file exists but cannot be read (the service must then not start, so that
 * the file is not overwritten), CAP_E_OUTOFMEMORY.
 */
cap_result svc_create(const char *home, struct cap_registry *reg, struct svc **out);

/* The root object (borrowed; AddRef it to keep it). */
ICapsule *svc_icapsule(struct svc *svc);

/* Drops every session lock (telling the sessions), every listener, every
 * registered machine. Idempotent. Calls on objects afterwards fail with
 * CAP_E_INVALID_OBJECT_STATE where they need the service. */
void svc_uninit(struct svc *svc);

/* ICapsule_Release of the root. NULL is fine. */
void svc_release(struct svc *svc);

/*
 * The client of IPC connection `conn_id` is gone: every machine lock it
 * held is released as if its session holder died (see
 * session_holder_died in session_machine.h). Also checks every other lock's
 * holder (a call on a dead client's session fails at once).
 */
void svc_client_disconnected(struct svc *svc, uint64_t conn_id);

/* Sets how the service learns the IPC connection of the call it serves
 * (capsule-svc passes a wrapper of cap_ipc_current_peer); NULL: none. */
void svc_set_conn_hook(struct svc *svc, uint64_t (*hook)(void));

/* Sets how the service learns who the client of the call it serves is
 * (connection id and pid; returns 0 when the call is not a client's), to
 * name it in log lines (a dropped event listener). capsule-svc passes a
 * wrapper of cap_ipc_current_peer; NULL: none. Set it before serving. */
void svc_set_peer_hook(struct svc *svc, int (*hook)(uint64_t *conn_id, int32_t *pid));

/*
 * The IPC server's bookkeeping behind ICapsule's clientCount and
 * objectHandleCount (diagnostics for leak checks). capsule-svc points it at
 * cap_ipc_server_connection_count and cap_ipc_server_handle_count of the
 * server it owns; the library itself does not link the IPC runtime, and
 * without stats (in-process, the unit tests) both attributes read 0.
 */
struct cap_ipc_server;
struct svc_ipc_stats {
    uint32_t (*connection_count)(struct cap_ipc_server *srv);
    uint32_t (*handle_count)(struct cap_ipc_server *srv);
    struct cap_ipc_server *srv; /* borrowed */
};

/* Copies *stats (NULL: none). Not synchronised with the calls that read
 * it: set it before the server starts serving and clear it only after
 * cap_ipc_server_stop() (no call can be running then), so the server is
 * never used after it is destroyed. */
void svc_set_ipc_stats(struct svc *svc, const struct svc_ipc_stats *stats);

/*
 * Sets how a call that waits learns that its caller is gone (capsule-svc
 * passes cap_ipc_current_peer_gone); NULL: never. IEventSource's getEvent
 * polls it while it waits, so that a client killed during the wait does not
 * keep the call, and with it the release of the client's handles, alive.
 * Set it before the server starts serving.
 */
void svc_set_caller_gone_hook(struct svc *svc, int (*hook)(void));

/* Nonzero while any machine is locked by a VM process or not at rest, or
 * a medium job (creating, cloning, deleting an image) runs. */
int svc_busy(struct svc *svc);

/* The service's event source (borrowed; for the tests' bounds checks). */
struct event_source *svc_events(struct svc *svc);

/* ISystemProperties' serviceIdleTimeout (ms, 0 = never). */
uint32_t svc_idle_timeout(struct svc *svc);

#endif /* CAPSULE_SVC_H */
