/*
 * capsule/ipc.h - objects across processes (runtime/ipc, libcapsule-ipc.so).
 *
 * A connection joins two processes over a local socket. Either side may
 * pass interface pointers to the other; what arrives is a proxy (made from
 * the typelib, capsule/xptcall.h) whose calls travel as requests and are
 * invoked on the real object by the owning side. Nothing here knows any
 * particular interface: every method of every registered typelib
 * (cap_typelib_register) marshals the same way.
 *
 * Two roles share one implementation:
 *  - the server (capsule-svc): cap_ipc_server_create() listens on a socket
 *    path and hands its root object to every client that asks; it runs on
 *    its own threads (one accept thread, and per connection a master
 *    service thread plus more started on demand; see "Threads" below).
 *  - the client: cap_ipc_connect() to a socket path, cap_ipc_conn_get_root().
 *    Ordinary programs use capsule/client.h, which adds CAPSULE_HOME and
 *    starting the service on top of this.
 *
 * Object identity and lifetime: an object passed to the peer becomes one
 * handle per (connection, object identity) with a count of the references
 * the peer holds; the peer keeps one proxy per (handle, interface) while it
 * is alive and sends a release when its last proxy goes. QueryInterface on a
 * proxy goes to the owner. A proxy passed back to its owner arrives as the
 * real object. When a connection ends (peer exit, crash, close) every handle
 * the peer held is released at once, and every call through a proxy of that
 * connection fails at once (pending ones are woken) with
 * CAP_E_SERVICE_UNAVAILABLE (client side) or CAP_E_IPC_DISCONNECTED (server
 * side, calling back into a client that is gone), with error info.
 *
 * Threads (leader/follower): at most one thread at a time reads a
 * connection. A thread making a call reads its own reply from the socket
 * when no other thread is reading; otherwise it sleeps until the reader
 * hands it its reply or the read role. Idle service threads of the
 * connection wait for the socket; the one that reads a request lets another
 * take over the reading and runs the request itself, so neither side hands
 * a call to another thread on the common path.
 *
 * Calls back: while a thread waits for a reply, the peer may call objects of
 * the waiting side (an IEventListener, an ISession). Whoever is reading
 * queues such requests for the connection's service threads (never the
 * waiting caller's own thread); they are started on demand (whenever a
 * request is queued and none is idle, up to CAP_IPC_MAX_WORKERS per
 * connection), so nested call chains do not deadlock up to that depth.
 * Methods invoked for the peer always run on service threads, where
 * cap_ipc_current_peer() works.
 *
 * Errors: a call failing on the owning side returns the same result code in
 * the caller, and the caller's thread gets the same error info (message,
 * component, interface). IPC's own failures use the codes below.
 *
 * Peer checks (server): the socket is created 0600 in a folder that must be
 * 0700 and owned by the service's uid; every accepted connection is checked
 * with SO_PEERCRED and closed (logged) unless its uid is the server's. A
 * malformed, truncated, oversized or hostile frame closes that one
 * connection with a logged error.
 *
 * Resource caps (server): connections are bounded in total and per uid; a
 * connection past either cap is refused (logged, and told why in a CLOSE
 * message, so its first call fails with CAP_E_SERVICE_UNAVAILABLE and that
 * reason). A connection's receive buffer grows as bytes arrive (a frame's
 * declared size is never reserved up front) and every byte above a small
 * per-connection allowance counts against one budget for the whole server;
 * a connection whose frame would overrun it is closed (logged). A
 * connection that has begun a frame and not completed it within the frame
 * timeout is closed (logged); one with nothing buffered may stay idle.
 * When accept() fails for want of file descriptors or memory the server
 * logs that once per episode and backs off instead of spinning.
 *
 * Every function is thread-safe unless said otherwise.
 */
#ifndef CAPSULE_IPC_H
#define CAPSULE_IPC_H

#include <capsule/supports.h>
#include <capsule/typelib.h>
#include <capsule/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* IPC result codes (range 0x8002_00xx, capsule/result.h). The API's
 * CAP_E_SERVICE_UNAVAILABLE (capsule.h) is what a client sees for a dead or
 * unreachable service. */
#define CAP_E_IPC_PROTOCOL     ((cap_result)0x80020001) /* malformed or hostile message */
#define CAP_E_IPC_TOO_BIG      ((cap_result)0x80020002) /* frame above the size limit */
#define CAP_E_IPC_BAD_HANDLE   ((cap_result)0x80020003) /* unknown remote object handle */
#define CAP_E_IPC_PEER_REFUSED ((cap_result)0x80020004) /* peer uid not allowed */
#define CAP_E_IPC_DISCONNECTED ((cap_result)0x80020005) /* the peer (a client) is gone */
#define CAP_E_IPC_TRUNCATED    ((cap_result)0x80020006) /* frame incomplete (need more bytes) */

/* Largest frame payload accepted by default (bytes). */
#define CAP_IPC_DEFAULT_MAX_FRAME (16u * 1024u * 1024u)
/* Most worker threads one connection runs at once (nesting depth bound). */
#define CAP_IPC_MAX_WORKERS 32u
/* Server caps by default (struct cap_ipc_server_options; capsule-svc reads
 * CAPSULE_SVC_MAX_CONNECTIONS, CAPSULE_SVC_MAX_CONNECTIONS_PER_UID,
 * CAPSULE_SVC_MAX_BUFFERED and CAPSULE_SVC_FRAME_TIMEOUT). */
#define CAP_IPC_DEFAULT_MAX_CONNECTIONS 512u
#define CAP_IPC_DEFAULT_MAX_CONNECTIONS_PER_UID 256u
#define CAP_IPC_DEFAULT_MAX_BUFFERED (2u * CAP_IPC_DEFAULT_MAX_FRAME + 1024u * 1024u)
#define CAP_IPC_DEFAULT_FRAME_TIMEOUT_MS 30000u
/* Receive-buffer bytes each connection may hold outside the budget. */
#define CAP_IPC_CONN_BUFFER_ALLOWANCE (64u * 1024u)
/* An option value meaning "no limit". */
#define CAP_IPC_UNLIMITED UINT32_MAX

struct cap_ipc_server;
struct cap_ipc_conn;

/* Who is on the other end of a connection. conn_id is unique within the
 * process for its life (never reused), so a server may remember it (e.g. as
 * the holder of a session) and match it in the disconnected callback. */
struct cap_ipc_peer {
    uint64_t conn_id;
    int32_t pid;
    uint32_t uid;
};

/* Callbacks of a server. Each is optional; they run on the server's
 * threads (never with an IPC lock held) and must not call
 * cap_ipc_server_stop/destroy. */
struct cap_ipc_server_callbacks {
    /* A client passed the peer check. */
    void (*connected)(void *ctx, const struct cap_ipc_peer *peer);
    /* A client's connection ended; every handle it held has been released
     * already (its handle count is 0). Called once per connected(). */
    void (*disconnected)(void *ctx, const struct cap_ipc_peer *peer);
    /* A line for the service's log (refused peers, bad frames, ...);
     * NULL: written to stderr. */
    void (*log)(void *ctx, const char *message);
};

struct cap_ipc_server_options {
    /* Required. The Unix socket path; its folder must exist, be owned by
     * this uid and be 0700. A stale socket file there is replaced (the
     * caller holds the service lock that makes that safe); the file is
     * removed again by cap_ipc_server_destroy(). */
    const char *socket_path;
    /* Required. The root object (AddRef'ed by the server, Released at
     * destroy), whatever interface of it; clients get it with
     * cap_ipc_conn_get_root() / cap_client_get_root(), through
     * QueryInterface. */
    ISupports *root;
    const struct cap_ipc_server_callbacks *callbacks; /* may be NULL */
    void *callback_ctx;
    uint32_t max_frame; /* 0: CAP_IPC_DEFAULT_MAX_FRAME */
    /* Caps ("Resource caps" above); 0: the default, CAP_IPC_UNLIMITED: none. */
    uint32_t max_connections;         /* live connections in all */
    uint32_t max_connections_per_uid; /* live connections of one peer uid */
    uint32_t max_buffered;            /* receive-buffer bytes above the allowances, all
                                       * connections together; at least max_frame + a
                                       * header (raised to that) */
    uint32_t frame_timeout_ms;        /* a begun frame must be complete within this */
};

/*
 * Creates a server listening on opts->socket_path; no thread runs and no
 * connection is accepted until cap_ipc_server_start(). Errors (with error
 * info): CAP_E_POINTER, CAP_E_ACCESSDENIED (folder not 0700/not ours),
 * CAP_E_IO (bind/listen), CAP_E_OUTOFMEMORY. *out NULL on failure.
 */
CAP_EXPORT cap_result cap_ipc_server_create(const struct cap_ipc_server_options *opts,
                                            struct cap_ipc_server **out);

/* Starts the accept thread; returns at once. CAP_E_UNEXPECTED if already
 * started, CAP_E_FAIL if a thread cannot be created. */
CAP_EXPORT cap_result cap_ipc_server_start(struct cap_ipc_server *srv);

/*
 * Stops accepting, closes every connection (releasing every handle its
 * client held, calling disconnected for each) and joins every server thread.
 * Blocks until calls running on worker threads return. Idempotent. Must not
 * be called from a server thread (a callback or a method invoked by a
 * client); call it from the thread that waits for the service to end.
 */
CAP_EXPORT void cap_ipc_server_stop(struct cap_ipc_server *srv);

/* Stops (if needed), removes the socket file, releases the root, frees.
 * NULL is fine. */
CAP_EXPORT void cap_ipc_server_destroy(struct cap_ipc_server *srv);

/* Number of live client connections. */
CAP_EXPORT uint32_t cap_ipc_server_connection_count(struct cap_ipc_server *srv);

/* Receive-buffer bytes counted against max_buffered right now. */
CAP_EXPORT uint64_t cap_ipc_server_buffered_bytes(struct cap_ipc_server *srv);

/* Handles (exported objects) held by all clients together. */
CAP_EXPORT uint32_t cap_ipc_server_handle_count(struct cap_ipc_server *srv);

/* Handles held by the client of one connection; CAP_E_INVALIDARG (no error
 * info) if no live connection has that id. */
CAP_EXPORT cap_result cap_ipc_server_conn_handle_count(struct cap_ipc_server *srv,
                                                       uint64_t conn_id, uint32_t *out);

/*
 * Inside a method invoked for a peer (on an IPC worker thread): fills *out
 * with that peer and returns CAP_OK. Elsewhere returns CAP_FALSE_RESULT and
 * zeroes *out. Lets a service tie state (a locked session) to a client.
 */
CAP_EXPORT cap_result cap_ipc_current_peer(struct cap_ipc_peer *out);

/*
 * Inside a method invoked for a peer: nonzero once that peer's connection
 * has ended (the client closed it or died, or the server is stopping);
 * 0 elsewhere. A connection's teardown, which releases every handle its
 * client held, waits for the methods running for it; a method that may
 * wait long (a blocking getEvent) polls this and gives up, so that a dead
 * client's handles do not outlive it.
 */
CAP_EXPORT int cap_ipc_current_peer_gone(void);

/* --- client side ------------------------------------------------------ */

/*
 * Connects to the server on `socket_path`. Errors (with error info):
 * CAP_E_SERVICE_UNAVAILABLE (nothing answers: no socket, refused),
 * CAP_E_IO, CAP_E_OUTOFMEMORY. The connection runs a reader thread and
 * worker threads for calls the server makes back.
 */
CAP_EXPORT cap_result cap_ipc_connect(const char *socket_path, struct cap_ipc_conn **out);

/* The server's root object as interface `iid` (a new reference to a
 * proxy). CAP_E_NOINTERFACE if the root lacks it; CAP_E_SERVICE_UNAVAILABLE
 * if the connection is gone. */
CAP_EXPORT cap_result cap_ipc_conn_get_root(struct cap_ipc_conn *c, const cap_uuid *iid,
                                            void **out);

/* Objects of this process the server currently holds through `c`. */
CAP_EXPORT uint32_t cap_ipc_conn_handle_count(struct cap_ipc_conn *c);

/* The peer of `c` (the server's pid and uid). */
CAP_EXPORT void cap_ipc_conn_peer(struct cap_ipc_conn *c, struct cap_ipc_peer *out);

/* Nonzero while the connection is up. */
CAP_EXPORT int cap_ipc_conn_alive(struct cap_ipc_conn *c);

/*
 * Closes the connection: pending and later calls through its proxies fail
 * with CAP_E_SERVICE_UNAVAILABLE; objects the server held are released.
 * Joins the connection's threads, so must not be called from a method the
 * server invoked through `c`. Proxies may outlive it (they only fail).
 * NULL is fine.
 */
CAP_EXPORT void cap_ipc_conn_close(struct cap_ipc_conn *c);

/* --- CAPSULE_HOME layout (capsule/client.h) ----------------------------- */

/* Paths of a CAPSULE_HOME, all owned by the struct. */
struct cap_ipc_home {
    char *home;       /* HOME */
    char *run_dir;    /* HOME/run (0700) */
    char *socket;     /* HOME/run/svc.sock */
    char *svc_lock;   /* HOME/run/svc.lock */
    char *spawn_lock; /* HOME/run/spawn.lock */
    char *log_dir;    /* HOME/logs */
    char *log_file;   /* HOME/logs/svc.log */
};

/*
 * Resolves the home (`home`, else $CAPSULE_HOME, else $HOME/.capsule), and
 * creates HOME, HOME/run (0700) and HOME/logs if missing. Refuses a run
 * folder owned by another uid or accessible to group/other with
 * CAP_E_ACCESSDENIED. CAP_E_IO when a folder cannot be made. Free with
 * cap_ipc_home_clear() (also after a failure).
 */
CAP_EXPORT cap_result cap_ipc_home_prepare(const char *home, struct cap_ipc_home *out);
CAP_EXPORT void cap_ipc_home_clear(struct cap_ipc_home *h);

#ifdef __cplusplus
}
#endif

#endif /* CAPSULE_IPC_H */
