/*
 * conn.c - one connection: life cycle, sending, calls, and the read role.
 *
 * Leader/follower. At most one thread at a time holds the connection's
 * read role (c->rd_busy) and with it the receive buffer: it reads frames and
 * handles each completely before the next (reader.c), so handles are
 * resolved in the order the peer sent them and a RELEASE can never overtake
 * an earlier message that still names the handle. Who reads:
 *
 *  - A calling thread (ipc_conn_call) takes the role itself if nobody holds
 *    it, sends its request and reads until its own reply is there: no other
 *    thread is woken on the way (the socket is disarmed in the wait set for
 *    as long as it reads). Frames that are not its reply are dispatched on
 *    the way: other callers' replies are decoded into their values and they
 *    are woken; requests are queued for the service threads (workers.c), so
 *    a thread waiting for a reply still has the peer's nested calls (an
 *    IEventListener called back during the call) served.
 *  - A caller that finds the role taken waits on its own condition variable
 *    until its reply has been delivered or the role is handed to it.
 *  - Otherwise the socket is armed and the connection's idle service
 *    threads park in the transport's wait set; bytes arriving wake exactly
 *    one of them, which takes the role. When it reads a request it lets go
 *    of the role first and then runs the request itself, so no handoff to
 *    another thread lies between a request and its reply.
 *
 * Letting go of the role (ipc_conn_release_role_locked) hands it to a
 * waiting caller if there is one, else to a service thread if a whole frame
 * is still buffered, else arms the socket, making sure a service thread is
 * parked (starting one if needed) so that a request arriving while every
 * other thread is busy is still read.
 *
 * When the stream ends or breaks (peer exit, a malformed frame, close),
 * ipc_conn_kill marks the connection dead, wakes every waiting call with the
 * "unavailable" error and stops the service threads; the master service
 * thread joins the others, releases every handle the peer held and tells
 * the owner (workers.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <capsule/capsule.h>
#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/result.h>

#include "ipc_internal.h"

void ipc_conn_log(struct ipc_conn *c, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(msg, sizeof(msg), "ipc: connection %llu (pid %d uid %u): ",
                     (unsigned long long)c->peer.conn_id, (int)c->peer.pid, c->peer.uid);
    if (n > 0 && (size_t)n < sizeof(msg))
        vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
    va_end(ap);
    if (c->owner.log)
        c->owner.log(c->owner.ctx, msg);
    else
        fprintf(stderr, "capsule-%s\n", msg);
}

cap_result ipc_conn_dead_error(struct ipc_conn *c)
{
    pthread_mutex_lock(&c->lock);
    const char *why = c->dead_reason ? c->dead_reason : "closed";
    cap_result rc;
    if (c->is_server)
        rc = cap_error_set(CAP_E_IPC_DISCONNECTED, IPC_COMP, NULL,
                           "the client (pid %d) is gone: %s", (int)c->peer.pid, why);
    else
        rc = cap_error_set(CAP_E_SERVICE_UNAVAILABLE, IPC_COMP, NULL,
                           "the connection to the Capsule service (pid %d) is closed: %s",
                           (int)c->peer.pid, why);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

static void mark_dead_locked(struct ipc_conn *c, const char *reason)
{
    if (!c->dead) {
        c->dead = 1;
        c->dead_reason = cap_str_dup(reason);
    }
    /* Wake every waiting call; each takes the error itself. */
    for (struct ipc_pending *p = c->pending; p; p = p->next) {
        p->done = 1;
        p->rc = c->is_server ? CAP_E_IPC_DISCONNECTED : CAP_E_SERVICE_UNAVAILABLE;
        pthread_cond_signal(&p->cv);
    }
    c->pending = NULL;
}

void ipc_conn_kill(struct ipc_conn *c, const char *reason)
{
    pthread_mutex_lock(&c->lock);
    mark_dead_locked(c, reason);
    int was = c->stopping;
    c->stopping = 1;
    c->armed = 0;
    pthread_mutex_unlock(&c->lock);
    ipc_transport_shutdown(c->t);
    if (!was) /* every parked service thread wakes (each passes one on) */
        ipc_transport_kick(c->t, 1u << 20);
}

cap_result ipc_conn_create(struct ipc_transport *t, const struct cap_ipc_peer *peer, int is_server,
                           ISupports *root, uint32_t max_frame, const struct ipc_conn_owner *owner,
                           struct ipc_conn **out)
{
    struct ipc_conn *c = cap_alloc_zero(sizeof(*c));
    *out = NULL;
    if (!c)
        return CAP_E_OUTOFMEMORY;
    cap_refcnt_init(&c->ref, 1);
    c->is_server = is_server;
    c->t = t;
    c->peer = *peer;
    c->root = root;
    if (root)
        CAP_ADDREF(root);
    c->max_frame = max_frame ? max_frame : CAP_IPC_DEFAULT_MAX_FRAME;
    if (owner)
        c->owner = *owner;
    if (c->owner.budget)
        ipc_budget_ref(c->owner.budget);
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->wlock, NULL);
    c->next_export = 1;
    c->rcap = CAP_IPC_CONN_BUFFER_ALLOWANCE;
    c->rbuf = cap_alloc(c->rcap);
    cap_result rc = c->rbuf ? ipc_transport_wait_init(t) : CAP_E_OUTOFMEMORY;
    if (CAP_FAILED(rc)) {
        c->t = NULL; /* the caller still owns it on failure */
        ipc_conn_unref(c);
        return rc;
    }
    *out = c;
    return CAP_OK;
}

void ipc_conn_ref(struct ipc_conn *c)
{
    cap_refcnt_inc(&c->ref);
}

void ipc_conn_unref(struct ipc_conn *c)
{
    if (!c || cap_refcnt_dec(&c->ref) != 0)
        return;
    ipc_exports_release_all(c); /* only late stragglers remain here */
    if (c->root)
        CAP_RELEASE(c->root);
    ipc_transport_close(c->t);
    ipc_map_free(&c->exp_by_id);
    ipc_map_free(&c->exp_by_ident);
    ipc_map_free(&c->imports);
    cap_free(c->dead_reason);
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->wlock);
    cap_free(c->rbuf);
    if (c->owner.budget) {
        ipc_budget_uncharge(c->owner.budget, c->rcharged);
        ipc_budget_unref(c->owner.budget);
    }
    cap_free(c);
}

int64_t ipc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ipc_conn_partial_since(struct ipc_conn *c)
{
    return __atomic_load_n(&c->partial_since, __ATOMIC_RELAXED);
}

void ipc_conn_close_with(struct ipc_conn *c, cap_result rc, const char *reason)
{
    uint8_t room[512];
    struct ipc_buf b;
    ipc_buf_init_on(&b, room, sizeof(room));
    ipc_close_msg(&b, rc, reason);
    if (!b.oom && pthread_mutex_trylock(&c->wlock) == 0) { /* never wait behind a stuck send */
        ipc_send_nowait(c->t, b.data, b.len);
        pthread_mutex_unlock(&c->wlock);
    }
    ipc_buf_free(&b);
    ipc_conn_log(c, "%s; closing the connection", reason);
    ipc_conn_kill(c, reason);
}

void ipc_conn_drop_rbuf(struct ipc_conn *c)
{
    pthread_mutex_lock(&c->lock);
    int free_it = c->dead && !c->rd_busy;
    if (free_it)
        c->rd_busy = 1; /* for good: nobody reads a dead connection */
    pthread_mutex_unlock(&c->lock);
    if (!free_it)
        return;
    cap_free(c->rbuf);
    c->rbuf = NULL;
    c->rcap = c->rstart = c->rend = 0;
    __atomic_store_n(&c->partial_since, 0, __ATOMIC_RELAXED);
    if (c->owner.budget)
        ipc_budget_uncharge(c->owner.budget, c->rcharged);
    c->rcharged = 0;
}

const struct cap_ipc_peer *ipc_conn_peer(struct ipc_conn *c)
{
    return &c->peer;
}

int ipc_conn_is_dead(struct ipc_conn *c)
{
    pthread_mutex_lock(&c->lock);
    int d = c->dead;
    pthread_mutex_unlock(&c->lock);
    return d;
}

void ipc_conn_shutdown(struct ipc_conn *c)
{
    ipc_conn_kill(c, "closed by this side");
}

/* Sends one frame; on failure the error and nothing else (the caller
 * decides whether the connection ends). CAP_E_IPC_DISCONNECTED: the peer
 * has closed its end. */
static cap_result send_frame(struct ipc_conn *c, struct ipc_buf *b, uint8_t type, uint64_t req_id)
{
    if (b->oom)
        return cap_error_set(CAP_E_OUTOFMEMORY, IPC_COMP, NULL, "out of memory building a message");
    if (b->len - IPC_HDR_SIZE > c->max_frame)
        return cap_error_set(CAP_E_IPC_TOO_BIG, IPC_COMP, NULL,
                             "message of %zu bytes exceeds the limit of %u", b->len - IPC_HDR_SIZE,
                             c->max_frame);
    ipc_buf_finish(b, type, req_id);
    pthread_mutex_lock(&c->wlock);
    cap_result rc = ipc_send_all(c->t, b->data, b->len);
    pthread_mutex_unlock(&c->wlock);
    return rc;
}

cap_result ipc_conn_send(struct ipc_conn *c, struct ipc_buf *b, uint8_t type, uint64_t req_id)
{
    cap_result rc = send_frame(c, b, type, req_id);
    if (CAP_FAILED(rc) && rc != CAP_E_OUTOFMEMORY && rc != CAP_E_IPC_TOO_BIG) {
        ipc_conn_kill(c, cap_error_peek_message() ? cap_error_peek_message() : "send failed");
        return ipc_conn_dead_error(c);
    }
    return rc;
}

/* --- the read role --- */

/* A whole frame (or a header that can only fail) is in the receive buffer;
 * the caller holds the role or c->lock with the role handed over. */
static int frame_buffered(const struct ipc_conn *c)
{
    size_t have = c->rend - c->rstart;
    if (have < IPC_HDR_SIZE)
        return 0;
    const uint8_t *h = c->rbuf + c->rstart;
    size_t len = (size_t)h[16] | (size_t)h[17] << 8 | (size_t)h[18] << 16 | (size_t)h[19] << 24;
    return have - IPC_HDR_SIZE >= len || len > c->max_frame;
}

void ipc_conn_release_role_locked(struct ipc_conn *c)
{
    c->rd_busy = 0;
    if (c->dead || c->stopping)
        return; /* nobody reads a dead connection */
    for (struct ipc_pending *p = c->pending; p; p = p->next)
        if (!p->done && !p->lead) { /* a waiting caller reads on */
            p->lead = 1;
            c->rd_busy = 1;
            pthread_cond_signal(&p->cv);
            return;
        }
    if (frame_buffered(c)) {
        c->rd_busy = 1;
        c->rd_handoff = 1;
    } else {
        c->armed = 1;
        ipc_transport_arm(c->t, 1);
    }
    ipc_conn_wake_service_locked(c);
}

/* --- calls --- */

cap_result ipc_conn_call(struct ipc_conn *c, struct ipc_buf *b, uint8_t type,
                         const struct cap_tl_iface *tl, const struct cap_tl_method *m,
                         struct cap_xpt_value *v)
{
    struct ipc_pending p;
    memset(&p, 0, sizeof(p));
    p.tl = tl;
    p.m = m;
    p.v = v;
    pthread_cond_init(&p.cv, NULL);
    pthread_mutex_lock(&c->lock);
    if (c->dead) {
        pthread_mutex_unlock(&c->lock);
        pthread_cond_destroy(&p.cv);
        return ipc_conn_dead_error(c);
    }
    p.id = ++c->next_req;
    p.next = c->pending;
    c->pending = &p;
    if (!c->rd_busy) { /* nobody reads: we read our own reply */
        c->rd_busy = 1;
        p.lead = 1;
        if (c->armed) {
            c->armed = 0;
            ipc_transport_arm(c->t, 0);
        }
    }
    pthread_mutex_unlock(&c->lock);

    cap_result rc = send_frame(c, b, type, p.id);
    if (rc == CAP_E_IPC_DISCONNECTED) {
        /* The peer hung up; what it sent before (a CLOSE saying why, say a
         * server refusing this connection) is still to be read, and the
         * stream's end follows it: the read role ends the connection with
         * that reason and wakes this call like any other. */
        cap_error_clear();
        rc = CAP_OK;
    } else if (CAP_FAILED(rc) && rc != CAP_E_OUTOFMEMORY && rc != CAP_E_IPC_TOO_BIG) {
        ipc_conn_kill(c, cap_error_peek_message() ? cap_error_peek_message() : "send failed");
        rc = ipc_conn_dead_error(c);
    }
    struct ipc_lead lead = {.self = &p};
    pthread_mutex_lock(&c->lock);
    if (CAP_FAILED(rc)) {
        if (!p.done) /* not woken: unlink ourselves */
            for (struct ipc_pending **pp = &c->pending; *pp; pp = &(*pp)->next)
                if (*pp == &p) {
                    *pp = p.next;
                    break;
                }
        if (p.lead) {
            p.lead = 0;
            ipc_conn_release_role_locked(c);
        }
        pthread_mutex_unlock(&c->lock);
        pthread_cond_destroy(&p.cv);
        return rc; /* error info set by the send */
    }
    for (;;) {
        while (!p.done && !p.lead)
            pthread_cond_wait(&p.cv, &c->lock);
        if (p.done)
            break;
        pthread_mutex_unlock(&c->lock);
        ipc_lead_read(c, &lead); /* returns once p is done or the connection ended */
        pthread_mutex_lock(&c->lock);
    }
    if (p.lead) {
        p.lead = 0;
        ipc_conn_release_role_locked(c);
    }
    pthread_mutex_unlock(&c->lock);
    pthread_cond_destroy(&p.cv);
    ipc_exports_free(lead.dead);

    rc = p.rc;
    if (CAP_FAILED(rc) && p.err.message) { /* the peer's error info */
        p.err.result = rc;
        cap_error_set_info(&p.err);
    } else if (rc == CAP_E_SERVICE_UNAVAILABLE || rc == CAP_E_IPC_DISCONNECTED) {
        rc = ipc_conn_dead_error(c); /* woken by the teardown */
    } else if (CAP_FAILED(rc)) {
        cap_error_set(rc, IPC_COMP, tl ? tl->name : NULL, "%s::%s failed (%s)",
                      tl ? tl->name : "?", m ? m->name : "?", cap_result_name(rc));
    }
    cap_error_info_clear(&p.err);
    return rc;
}

cap_result ipc_conn_start(struct ipc_conn *c, int detached)
{
    pthread_attr_t a;
    pthread_attr_init(&a);
    if (detached)
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    c->detached = detached;
    ipc_conn_ref(c); /* the master's */
    pthread_mutex_lock(&c->lock);
    c->armed = 1; /* from here on the master (or a caller) reads */
    ipc_transport_arm(c->t, 1);
    pthread_mutex_unlock(&c->lock);
    /* A detached connection may end and be freed by its master before
     * pthread_create returns: nothing of c is written after it starts. */
    pthread_t detached_master;
    c->started = 1;
    int e = pthread_create(detached ? &detached_master : &c->master, &a, ipc_master_main, c);
    pthread_attr_destroy(&a);
    if (e) {
        c->started = 0;
        ipc_conn_unref(c);
        return cap_error_set(CAP_E_FAIL, IPC_COMP, NULL, "cannot start a connection thread");
    }
    return CAP_OK;
}

void ipc_conn_join(struct ipc_conn *c)
{
    if (c->started && !c->detached)
        pthread_join(c->master, NULL);
    c->started = 0;
}
