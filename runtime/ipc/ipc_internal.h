/*
 * ipc_internal.h - what the files of runtime/ipc share (internal).
 *
 *   wire.c       frames (header encode/decode, a pure function), byte
 *                buffers and readers, a u64-keyed hash map
 *   marshal.c    values <-> bytes, driven only by the typelib
 *   conn.c       a connection: life cycle, sending, calls, the read role
 *   reader.c     the read role's loop: frames in, replies to their callers
 *   workers.c    a connection's service threads: parked readers, requests
 *   objects.c    handles: objects we export, proxies of objects we import
 *   server.c     listener, peer checks, connection list (capsule/ipc.h)
 *   client.c     capsule/client.h; home.c: the CAPSULE_HOME layout
 *
 * Wire format (little-endian). Every message is one frame:
 *
 *   u32 magic 'CAPI' | u8 version | u8 type | u16 flags (0) |
 *   u64 request id   | u32 payload length   | u32 reserved (0) | payload
 *
 *   REQUEST  u64 handle | iid[16] | u32 slot | u16 n_params | in values
 *   QI       u64 handle (0: the root) | iid[16]
 *   REPLY    i32 result | success: out+return values of the method (for QI
 *            one interface value) | failure: str message, str component,
 *            str iface
 *   RELEASE  u64 handle | u32 count          (request id 0, no reply)
 *   CLOSE    i32 result | str reason          (request id 0, no reply): the
 *            sender closes the connection next and says why (a server
 *            refusing a connection past its caps, or closing a stalled one)
 *
 * Values in param order, for the params of the direction being sent:
 * boolean/octet 1 byte, short 2, long/enum 4, long long 8, double 8 (IEEE
 * bits), uuid 16, string u32 (0 = NULL, else length+1) + bytes without NUL,
 * array u32 count + elements, interface u8 kind (0 NULL, 1 sender's object,
 * 2 receiver's own object) + u64 handle + iid[16].
 */
#ifndef CAP_IPC_INTERNAL_H
#define CAP_IPC_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <capsule/capsule.h>
#include <capsule/errorinfo.h>
#include <capsule/object.h>
#include <capsule/uuid.h>
#include <capsule/ipc.h>
#include <capsule/typelib.h>
#include <capsule/xptcall.h>

#include "transport.h"

#define IPC_COMP "capsule-ipc"

/* --- frames (wire.c) --- */
#define IPC_MAGIC 0x49504143u /* "CAPI" */
#define IPC_VERSION 1u
#define IPC_HDR_SIZE 24u

enum ipc_msg_type {
    IPC_MSG_REQUEST = 1,
    IPC_MSG_REPLY = 2,
    IPC_MSG_QI = 3,
    IPC_MSG_RELEASE = 4,
    IPC_MSG_CLOSE = 5,
    IPC_MSG_MAX_ = 5,
};

enum ipc_iface_kind {
    IPC_IFACE_NULL = 0,
    IPC_IFACE_SENDER = 1,   /* an object of the sender: the receiver imports it */
    IPC_IFACE_RECEIVER = 2, /* the receiver's own object coming back */
};

struct ipc_frame {
    uint8_t type;
    uint16_t flags;
    uint64_t req_id;
    uint32_t length;
    const uint8_t *payload; /* inside the decoded buffer */
};

/*
 * Decodes the frame at the start of buf[0..len). Pure: no allocation, no
 * state. CAP_OK: *f is filled and the frame is IPC_HDR_SIZE + f->length
 * bytes long. CAP_E_IPC_TRUNCATED: more bytes are needed (len too short for
 * the header or the payload). CAP_E_IPC_TOO_BIG: length > max_payload.
 * CAP_E_IPC_PROTOCOL: bad magic, version, type, flags or reserved. Failures
 * other than TRUNCATED set error info saying what is wrong.
 */
cap_result ipc_frame_decode(const uint8_t *buf, size_t len, uint32_t max_payload,
                            struct ipc_frame *f);

/* A growable byte buffer; any failed append sets `oom` and later ones are
 * ignored, so a message is built without checking every put. */
struct ipc_buf {
    uint8_t *data;
    size_t len, cap;
    int oom;
    int borrowed; /* data is caller storage (ipc_buf_init_on): never freed */
};
void ipc_buf_init(struct ipc_buf *b);        /* reserves room for the header */
/* Like ipc_buf_init, but starts in `storage` (n bytes, e.g. on the stack) and
 * moves to the heap only if the message outgrows it. */
void ipc_buf_init_on(struct ipc_buf *b, void *storage, size_t n);
void ipc_buf_free(struct ipc_buf *b);
void ipc_buf_put(struct ipc_buf *b, const void *p, size_t n);
void ipc_buf_u8(struct ipc_buf *b, uint8_t v);
void ipc_buf_u16(struct ipc_buf *b, uint16_t v);
void ipc_buf_u32(struct ipc_buf *b, uint32_t v);
void ipc_buf_u64(struct ipc_buf *b, uint64_t v);
void ipc_buf_str(struct ipc_buf *b, const char *s);
/* Writes the frame header into the reserved room. */
void ipc_buf_finish(struct ipc_buf *b, uint8_t type, uint64_t req_id);

/* A bounds-checked reader; every get fails once past the end. */
struct ipc_rd {
    const uint8_t *p;
    size_t len, pos;
};
int ipc_rd_u8(struct ipc_rd *r, uint8_t *v);
int ipc_rd_u16(struct ipc_rd *r, uint16_t *v);
int ipc_rd_u32(struct ipc_rd *r, uint32_t *v);
int ipc_rd_u64(struct ipc_rd *r, uint64_t *v);
int ipc_rd_bytes(struct ipc_rd *r, void *out, size_t n);
/* A string value: *out NULL or a cap_alloc'ed copy. Fails (0) on short
 * input, an embedded NUL or allocation failure (*oom set). */
int ipc_rd_str(struct ipc_rd *r, char **out, int *oom);
static inline size_t ipc_rd_left(const struct ipc_rd *r)
{
    return r->len - r->pos;
}

/* u64 -> pointer hash map (keys never 0). */
struct ipc_map {
    struct ipc_map_ent *slots;
    uint32_t cap, count;
};
struct ipc_map_ent {
    uint64_t key; /* 0: empty, UINT64_MAX: deleted */
    void *val;
};
void *ipc_map_get(const struct ipc_map *m, uint64_t key);
int ipc_map_put(struct ipc_map *m, uint64_t key, void *val); /* 0 on OOM */
void *ipc_map_del(struct ipc_map *m, uint64_t key);
void ipc_map_free(struct ipc_map *m);
/* Iteration: i from 0; returns 0 at the end. */
int ipc_map_next(const struct ipc_map *m, uint32_t *i, uint64_t *key, void **val);

/* --- marshaling (marshal.c) --- */

/* How interface values are turned into handles and back; marshal.c only
 * reads and writes the bytes. */
struct ipc_iface_ops {
    /* Writes the wire form of `obj` (not NULL) of interface `tl`. */
    cap_result (*encode)(void *ctx, struct ipc_buf *b, void *obj, const struct cap_tl_iface *tl);
    /* Turns a decoded (kind, handle, tl) into an AddRef'ed pointer of
     * interface `tl`; fails (error info) for an unknown handle. */
    cap_result (*decode)(void *ctx, uint8_t kind, uint64_t handle, const struct cap_tl_iface *tl,
                         void **out);
};

/* Directions to encode/decode. */
#define IPC_DIR_IN 0x1u
#define IPC_DIR_OUT 0x2u /* out and return */

cap_result ipc_encode_values(struct ipc_buf *b, const struct cap_tl_iface *tl,
                             const struct cap_tl_method *m, const struct cap_xpt_value *v,
                             unsigned dirs, const struct ipc_iface_ops *ops, void *ctx);
/* Decodes into v (zeroed for those params first). On failure frees what it
 * decoded (values of `dirs` are zero again) and sets error info naming the
 * method and param (CAP_E_IPC_PROTOCOL, CAP_E_OUTOFMEMORY, or the decode
 * hook's failure). */
cap_result ipc_decode_values(struct ipc_rd *r, const struct cap_tl_iface *tl,
                             const struct cap_tl_method *m, struct cap_xpt_value *v, unsigned dirs,
                             const struct ipc_iface_ops *ops, void *ctx);

/* --- connections (conn.c, objects.c) --- */
struct ipc_conn;

/* The proxy handler every IPC proxy uses (objects.c). */
extern const struct cap_proxy_handler ipc_proxy_handler;
extern const struct ipc_iface_ops ipc_conn_iface_ops; /* ctx: struct ipc_conn * */

/*
 * The receive-buffer budget of a server (server.c creates it, its
 * connections share it): bytes of each connection's buffer above
 * CAP_IPC_CONN_BUFFER_ALLOWANCE are charged here before they are
 * allocated, and given back when the buffer shrinks or is freed.
 * Reference-counted, since a connection may outlive its server.
 */
struct ipc_budget {
    cap_refcnt ref;
    uint64_t limit; /* fixed at create */
    uint64_t used;  /* atomic */
};
struct ipc_budget *ipc_budget_new(uint64_t limit); /* NULL on OOM */
void ipc_budget_ref(struct ipc_budget *b);
void ipc_budget_unref(struct ipc_budget *b); /* NULL is fine */
/* Charges n bytes; 0 (nothing charged) if that would pass the limit. */
int ipc_budget_charge(struct ipc_budget *b, uint64_t n);
void ipc_budget_uncharge(struct ipc_budget *b, uint64_t n);
uint64_t ipc_budget_used(struct ipc_budget *b);

/* Writes a CLOSE message (result, reason) into b (ipc_buf_init'ed). */
void ipc_close_msg(struct ipc_buf *b, cap_result rc, const char *reason);

/* Hooks a server gives its connections. */
struct ipc_conn_owner {
    void (*log)(void *ctx, const char *msg);
    void (*ended)(void *ctx, struct ipc_conn *c); /* reader thread, after teardown */
    void *ctx;
    struct ipc_budget *budget; /* NULL: unbounded (clients); the connection takes a reference */
};

cap_result ipc_conn_create(struct ipc_transport *t, const struct cap_ipc_peer *peer, int is_server,
                           ISupports *root, uint32_t max_frame, const struct ipc_conn_owner *owner,
                           struct ipc_conn **out);
cap_result ipc_conn_start(struct ipc_conn *c, int detached);
void ipc_conn_ref(struct ipc_conn *c);
void ipc_conn_unref(struct ipc_conn *c);
void ipc_conn_shutdown(struct ipc_conn *c); /* wakes the reader: the connection ends */
void ipc_conn_join(struct ipc_conn *c);     /* joins a non-detached reader */
const struct cap_ipc_peer *ipc_conn_peer(struct ipc_conn *c);
uint32_t ipc_conn_export_count(struct ipc_conn *c);
int ipc_conn_is_dead(struct ipc_conn *c);
/* Since when (CLOCK_MONOTONIC ms) the connection holds part of a frame;
 * 0 if none. Any thread. */
int64_t ipc_conn_partial_since(struct ipc_conn *c);
/* Ends the connection telling the peer why first (a CLOSE message, sent
 * only if it fits without blocking), then logs and kills it. Any thread. */
void ipc_conn_close_with(struct ipc_conn *c, cap_result rc, const char *reason);
/* Frees the receive buffer of a connection that ended, unless a thread
 * still holds the read role (then the last reference frees it). */
void ipc_conn_drop_rbuf(struct ipc_conn *c);
int64_t ipc_now_ms(void);
void ipc_conn_log(struct ipc_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A call to the peer: sends type (REQUEST or QI) with payload b and waits
 * for the reply, decoding out values into v (method m of tl). */
cap_result ipc_conn_call(struct ipc_conn *c, struct ipc_buf *b, uint8_t type,
                         const struct cap_tl_iface *tl, const struct cap_tl_method *m,
                         struct cap_xpt_value *v);
cap_result ipc_conn_send(struct ipc_conn *c, struct ipc_buf *b, uint8_t type, uint64_t req_id);
cap_result ipc_conn_dead_error(struct ipc_conn *c);

/* objects.c, used by conn.c; conn lock NOT held unless said. */
struct ipc_export;
struct ipc_objects; /* per-connection tables, inside struct ipc_conn */
cap_result ipc_export_lookup(struct ipc_conn *c, uint64_t handle, const struct cap_tl_iface *tl,
                             void **out);
/* Drops `count` references the peer returned. An export that reaches 0 is
 * unlinked and put on *dead instead of being freed, so that the real
 * object's Release (user code, which may call through IPC) runs only once
 * the caller has let go of the read role (ipc_exports_free). */
cap_result ipc_export_release(struct ipc_conn *c, uint64_t handle, uint32_t count,
                              struct ipc_export **dead);
void ipc_exports_free(struct ipc_export *dead);
void ipc_exports_release_all(struct ipc_conn *c);
/* A remote QI through conn c on `handle` (0: root) for `iid`. */
cap_result ipc_remote_qi(struct ipc_conn *c, uint64_t handle, const cap_uuid *iid, void **out);

/* A call waiting for its reply (on the caller's stack). */
struct ipc_pending {
    uint64_t id;
    const struct cap_tl_iface *tl;
    const struct cap_tl_method *m;
    struct cap_xpt_value *v;
    int done;                  /* the reply (or the connection's end) arrived */
    int lead;                  /* this caller holds the read role */
    cap_result rc;
    struct cap_error_info err; /* set when rc failed and info came along */
    pthread_cond_t cv;         /* signalled on done and on being handed the role */
    struct ipc_pending *next;
};

/* Inline room for the in values of a request run by the thread that read
 * it (no allocation on that path). */
#define IPC_JOB_INLINE_VALUES 8u

/* A decoded request: run by the service thread that read it, or queued. */
struct ipc_job {
    uint8_t type; /* IPC_MSG_REQUEST or IPC_MSG_QI */
    uint8_t inline_storage; /* the job lives in a struct ipc_lead */
    uint8_t inline_values;  /* ... and so do its values */
    uint64_t req_id;
    void *obj; /* REQUEST: AddRef'ed target */
    const struct cap_tl_iface *tl;
    const struct cap_tl_method *m;
    uint32_t slot;
    struct cap_xpt_value *v; /* REQUEST: decoded in values (owned) */
    uint64_t handle;          /* QI */
    cap_uuid iid;             /* QI */
    struct ipc_job *next;
};

/* What one stint in the read role produced (reader.c fills it in). */
struct ipc_lead {
    struct ipc_pending *self; /* a caller reading for its own reply; NULL: a service thread */
    int self_done;            /* self's reply has been decoded */
    int did_recv;             /* service thread: it read the socket once */
    struct ipc_job *job;      /* service thread: a request it will run itself */
    struct ipc_export *dead;  /* exports to free once the role is let go */
    struct ipc_job job_store;
    struct cap_xpt_value v_store[IPC_JOB_INLINE_VALUES];
};

#define IPC_IID_CACHE 8u /* per-connection iid -> typelib cache (read role only) */

struct ipc_conn {
    cap_refcnt ref;              /* master thread, owner, each import */
    int is_server;               /* fixed at create */
    struct ipc_transport *t;     /* freed with the connection */
    struct cap_ipc_peer peer;    /* fixed at create */
    ISupports *root;             /* server side only; AddRef'ed */
    uint32_t max_frame;
    struct ipc_conn_owner owner;
    pthread_mutex_t wlock;       /* one writer at a time */
    pthread_mutex_t lock;        /* everything below unless said */
    int dead;                    /* set once, by ipc_conn_kill */
    char *dead_reason;
    uint64_t next_req;
    struct ipc_pending *pending;
    /* objects.c */
    struct ipc_map exp_by_id, exp_by_ident, imports;
    uint64_t next_export;
    /* the read role (conn.c): at most one thread reads at a time */
    int rd_busy;                 /* someone holds the role */
    int rd_handoff;              /* ... given to whichever service thread comes first */
    int armed;                   /* the socket wakes a parked service thread */
    /* owned by the role holder, no lock: the receive buffer and the cache */
    uint8_t *rbuf;
    size_t rcap, rstart, rend;
    uint64_t rcharged;           /* bytes of rcap charged to owner.budget */
    int64_t partial_since;       /* atomic; ms when the buffered partial frame began, 0: none */
    struct {
        cap_uuid iid;
        const struct cap_tl_iface *tl;
    } iid_cache[IPC_IID_CACHE];
    /* service threads (workers.c) */
    struct ipc_job *jq_head, *jq_tail;
    uint32_t n_queued;  /* requests in the queue */
    uint32_t n_parked;  /* threads in (or entering) ipc_transport_wait */
    uint32_t n_kicks;   /* kicks written and not yet taken */
    uint32_t n_starting, n_threads; /* threads started, not yet looping; all workers */
    int stopping;
    pthread_t workers[CAP_IPC_MAX_WORKERS];
    pthread_t master;
    int detached, started;
};

/* --- conn.c --- */

/* Ends the connection (first reason wins): marks it dead, wakes pending
 * calls with the "unavailable" error, stops the service threads and shuts
 * the transport down. Any thread, c->lock NOT held. */
void ipc_conn_kill(struct ipc_conn *c, const char *reason);

/* Lets go of the read role (c->lock held): hands it to a waiting caller,
 * else to a service thread if a whole frame is buffered, else arms the
 * socket so that a parked service thread wakes when bytes arrive. */
void ipc_conn_release_role_locked(struct ipc_conn *c);

/* --- reader.c --- */

/* Runs the read role until: L->self is done (a caller), or a service
 * thread has a request to run (L->job) or nothing more to read without
 * blocking, or the connection ended. The role is still held on return. */
void ipc_lead_read(struct ipc_conn *c, struct ipc_lead *L);

/* --- workers.c --- */

/* Queues a request read by a caller for the service threads (c->lock held). */
void ipc_conn_enqueue_locked(struct ipc_conn *c, struct ipc_job *j);
/* Makes sure a service thread will act on queued work or a handed-off
 * role, or that one is parked while the socket is armed (c->lock held). */
void ipc_conn_wake_service_locked(struct ipc_conn *c);
void ipc_job_free(struct ipc_job *j);
/* Starts the master service thread (ipc_conn_start). */
void *ipc_master_main(void *arg);

#endif /* CAP_IPC_INTERNAL_H */
