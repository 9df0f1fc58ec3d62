/*
 * server.c - the listening side (capsule/ipc.h): accept, peer checks, the
 * caps on connections, the list of live connections, and the callbacks
 * capsule-svc builds its idle timeout and session bookkeeping on.
 *
 * Threads: one accept thread; each accepted connection runs its own
 * (detached) reader and workers (conn.c). The server counts live readers so
 * that stop() can wait for every connection's teardown, which is where the
 * handles a client held are released and `disconnected` is called.
 *
 * Caps: the accept thread alone adds connections, so it checks the total
 * and per-uid counts and then adds without a race; a connection past a cap
 * is told why (a CLOSE message) and closed. Every tick (a fraction of the
 * frame timeout) the accept thread also closes connections whose partial
 * frame is older than the timeout. When accept() fails for want of
 * descriptors or memory, it logs once per episode, backs off (10 ms
 * doubling to 1 s: the pending connection keeps the listener readable, so
 * retrying at once would spin) and logs again when accepting works.
 */
#include <errno.h>
#include <stdarg.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/result.h>

#include "ipc_internal.h"

struct srv_node {
    struct ipc_conn *c; /* a reference */
    struct srv_node *next;
};

/* Repeated failures of one kind, logged once per episode (accept thread). */
struct srv_episode {
    cap_result kind; /* CAP_OK: none going on */
    uint32_t count;
    int64_t last_log_ms;
};

struct cap_ipc_server {
    struct ipc_listener *l;
    ISupports *root;
    struct cap_ipc_server_callbacks cb;
    void *cb_ctx;
    uint32_t max_frame;
    uint32_t max_conns, max_per_uid, frame_timeout_ms; /* fixed at create */
    struct ipc_budget *budget;                          /* fixed at create */
    pthread_mutex_t lock;
    pthread_cond_t cv;
    struct srv_node *conns;
    uint32_t n_live; /* readers not yet torn down */
    pthread_t acceptor;
    int started, stopped;
    /* accept thread only */
    struct srv_episode accept_fail, refusals;
    int backoff_ms;
};

static uint64_t next_conn_id = 1;

uint64_t ipc_new_conn_id(void);
uint64_t ipc_new_conn_id(void)
{
    return __atomic_fetch_add(&next_conn_id, 1, __ATOMIC_RELAXED);
}

static void srv_log(void *ctx, const char *msg)
{
    struct cap_ipc_server *s = ctx;
    if (s->cb.log)
        s->cb.log(s->cb_ctx, msg);
    else
        fprintf(stderr, "capsule-%s\n", msg);
}

static void srv_logf(struct cap_ipc_server *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void srv_logf(struct cap_ipc_server *s, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    srv_log(s, msg);
}

static void srv_conn_ended(void *ctx, struct ipc_conn *c)
{
    struct cap_ipc_server *s = ctx;
    pthread_mutex_lock(&s->lock);
    for (struct srv_node **pp = &s->conns; *pp; pp = &(*pp)->next)
        if ((*pp)->c == c) {
            struct srv_node *n = *pp;
            *pp = n->next;
            cap_free(n);
            break;
        }
    pthread_mutex_unlock(&s->lock);
    if (s->cb.disconnected)
        s->cb.disconnected(s->cb_ctx, ipc_conn_peer(c));
    ipc_conn_unref(c); /* the list's */
    pthread_mutex_lock(&s->lock);
    s->n_live--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->lock);
}

/* Logs how many refusals were not logged one by one, once their second is
 * over (accept thread). */
static void flush_refusals(struct cap_ipc_server *s, int64_t now)
{
    struct srv_episode *e = &s->refusals;
    if (e->count > 1 && now - e->last_log_ms >= 1000)
        srv_logf(s, "ipc: %u more connections refused (same reasons) in the second after that",
                 e->count - 1);
    if (now - e->last_log_ms >= 1000)
        e->count = 0;
}

/* Tells a connection that will not be served why (CLOSE; rc 0: tell
 * nothing, a stranger), logs it (at most once a second for a run of
 * refusals) and closes it. */
static void refuse(struct cap_ipc_server *s, struct ipc_transport *t, const struct ipc_cred *cr,
                   cap_result rc, const char *reason)
{
    uint8_t room[512];
    struct ipc_buf b;
    ipc_buf_init_on(&b, room, sizeof(room));
    ipc_close_msg(&b, rc, reason);
    if (!b.oom && rc != CAP_OK)
        ipc_send_nowait(t, b.data, b.len); /* a fresh socket: it fits */
    ipc_buf_free(&b);
    ipc_transport_close(t);
    struct srv_episode *e = &s->refusals;
    int64_t now = ipc_now_ms();
    if (e->count && now - e->last_log_ms < 1000) {
        e->count++;
        return;
    }
    flush_refusals(s, now);
    srv_logf(s, "ipc: refused a connection from pid %d uid %u: %s", (int)cr->pid, cr->uid,
             reason);
    e->count = 1;
    e->last_log_ms = now;
}

/* Why a connection of `uid` is over a cap, or NULL. */
static const char *over_cap(struct cap_ipc_server *s, uint32_t uid, char *buf, size_t n)
{
    /* live ones, as cap_ipc_server_connection_count says: one that ended
     * is on its way out (its teardown is joined, not waited for here) */
    pthread_mutex_lock(&s->lock);
    uint32_t total = 0, mine = 0;
    for (struct srv_node *p = s->conns; p; p = p->next)
        if (!ipc_conn_is_dead(p->c)) {
            total++;
            mine += ipc_conn_peer(p->c)->uid == uid;
        }
    pthread_mutex_unlock(&s->lock);
    if (s->max_conns != CAP_IPC_UNLIMITED && total >= s->max_conns)
        snprintf(buf, n, "too many connections to the service (%u open, the limit is %u; "
                 "CAPSULE_SVC_MAX_CONNECTIONS)", total, s->max_conns);
    else if (s->max_per_uid != CAP_IPC_UNLIMITED && mine >= s->max_per_uid)
        snprintf(buf, n, "too many connections from uid %u (%u open, the limit is %u; "
                 "CAPSULE_SVC_MAX_CONNECTIONS_PER_UID)", uid, mine, s->max_per_uid);
    else
        return NULL;
    return buf;
}

static void accept_one(struct cap_ipc_server *s, struct ipc_transport *t, const struct ipc_cred *cr)
{
    struct cap_ipc_peer peer = {ipc_new_conn_id(), cr->pid, cr->uid};
    char why[300];
    if (cr->uid != geteuid()) {
        snprintf(why, sizeof(why), "uid %u may not connect (the service runs as uid %u)",
                 cr->uid, (unsigned)geteuid());
        refuse(s, t, cr, CAP_OK, why); /* another uid learns nothing */
        return;
    }
    if (over_cap(s, cr->uid, why, sizeof(why))) {
        refuse(s, t, cr, CAP_E_IPC_PEER_REFUSED, why);
        return;
    }
    struct ipc_conn_owner owner = {srv_log, srv_conn_ended, s, s->budget};
    struct ipc_conn *c = NULL;
    struct srv_node *n = cap_alloc_zero(sizeof(*n));
    cap_result rc = n ? ipc_conn_create(t, &peer, 1, s->root, s->max_frame, &owner, &c)
                      : CAP_E_OUTOFMEMORY;
    if (CAP_FAILED(rc)) {
        const char *m = cap_error_peek_message();
        snprintf(why, sizeof(why), "%s",
                 rc == IPC_E_NO_FDS ? (m ? m : "out of file descriptors")
                                    : rc == CAP_E_OUTOFMEMORY ? "out of memory"
                                                              : (m ? m : "cannot set it up"));
        cap_error_clear();
        cap_free(n);
        refuse(s, t, cr, rc == IPC_E_NO_FDS ? CAP_E_IPC_PEER_REFUSED : rc, why);
        return;
    }
    n->c = c;
    pthread_mutex_lock(&s->lock);
    n->next = s->conns;
    s->conns = n;
    s->n_live++;
    pthread_mutex_unlock(&s->lock);
    if (s->cb.connected)
        s->cb.connected(s->cb_ctx, &peer);
    if (CAP_FAILED(ipc_conn_start(c, 1))) {
        srv_logf(s, "ipc: cannot start a thread for pid %d; closing its connection", (int)cr->pid);
        cap_error_clear();
        ipc_conn_kill(c, "the service cannot start a thread for it");
        srv_conn_ended(s, c); /* as if it ended at once */
    }
}

/* Closes every connection whose partial frame is older than the timeout. */
static void reap_stalled(struct cap_ipc_server *s)
{
    if (s->frame_timeout_ms == CAP_IPC_UNLIMITED)
        return;
    int64_t now = ipc_now_ms();
    struct ipc_conn *stalled[64];
    uint32_t n = 0;
    pthread_mutex_lock(&s->lock);
    for (struct srv_node *p = s->conns; p && n < 64; p = p->next) {
        int64_t since = ipc_conn_partial_since(p->c);
        if (since && now - since > (int64_t)s->frame_timeout_ms && !ipc_conn_is_dead(p->c)) {
            ipc_conn_ref(p->c);
            stalled[n++] = p->c;
        }
    }
    pthread_mutex_unlock(&s->lock);
    char why[200];
    snprintf(why, sizeof(why), "a frame was left incomplete for more than %u ms "
             "(CAPSULE_SVC_FRAME_TIMEOUT)", s->frame_timeout_ms);
    for (uint32_t i = 0; i < n; i++) {
        ipc_conn_close_with(stalled[i], CAP_E_TIMEOUT, why);
        ipc_conn_unref(stalled[i]);
    }
}

/* accept() failed with rc: log once per episode, then back off (unless
 * the connection was taken and refused: the backlog got shorter). */
static void accept_failed(struct cap_ipc_server *s, cap_result rc, int backoff)
{
    struct srv_episode *e = &s->accept_fail;
    const char *m = cap_error_peek_message();
    int64_t now = ipc_now_ms();
    if (e->kind != rc || now - e->last_log_ms >= 10000) {
        const char *what = rc == IPC_E_NO_FDS       ? "out of file descriptors"
                           : rc == CAP_E_OUTOFMEMORY ? "out of memory"
                                                     : "failing";
        srv_logf(s, "ipc: cannot accept connections: %s; %s", m ? m : what,
                 e->count > 1 ? "still backing off" : "backing off until it works again");
        e->last_log_ms = now;
        if (e->kind != rc)
            e->count = 0;
    }
    e->kind = rc;
    e->count++;
    cap_error_clear();
    if (!backoff)
        return;
    s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : 10;
    if (s->backoff_ms > 1000)
        s->backoff_ms = 1000;
    ipc_listener_pause(s->l, s->backoff_ms);
}

static void accept_worked(struct cap_ipc_server *s)
{
    if (s->accept_fail.kind != CAP_OK)
        srv_logf(s, "ipc: accepting connections again (%u failed attempts before)",
                 s->accept_fail.count);
    s->accept_fail.kind = CAP_OK;
    s->accept_fail.count = 0;
    s->backoff_ms = 0;
}

static void *accept_main(void *arg)
{
    struct cap_ipc_server *s = arg;
    /* the partial-frame check runs a few times per timeout, at least 4x a second */
    int tick = -1;
    if (s->frame_timeout_ms != CAP_IPC_UNLIMITED)
        tick = s->frame_timeout_ms / 4 < 250 ? (int)(s->frame_timeout_ms / 4) + 1 : 250;
    for (;;) {
        struct ipc_transport *t = NULL;
        struct ipc_cred cr;
        cap_result rc = ipc_accept(s->l, tick, &t, &cr);
        if (rc == CAP_E_ABORT)
            break;
        reap_stalled(s);
        flush_refusals(s, ipc_now_ms());
        if (rc == CAP_FALSE_RESULT)
            continue;
        if (CAP_FAILED(rc) && t) { /* taken only to be told: out of fds */
            refuse(s, t, &cr, cr.uid == geteuid() ? CAP_E_IPC_PEER_REFUSED : CAP_OK,
                   "the service is out of file descriptors; try again later");
            accept_failed(s, rc, 0);
            continue;
        }
        if (CAP_FAILED(rc)) {
            accept_failed(s, rc, 1);
            continue;
        }
        accept_worked(s);
        accept_one(s, t, &cr);
    }
    return NULL;
}

static cap_result check_dir(const char *path)
{
    char *copy = cap_str_dup(path);
    if (!copy)
        return CAP_E_OUTOFMEMORY;
    const char *dir = dirname(copy);
    struct stat st;
    cap_result rc = CAP_OK;
    if (stat(dir, &st) != 0)
        rc = cap_error_set(CAP_E_IO, IPC_COMP, NULL, "socket folder '%s': %s", dir, strerror(errno));
    else if (st.st_uid != geteuid() || (st.st_mode & 077) != 0)
        rc = cap_error_set(CAP_E_ACCESSDENIED, IPC_COMP, NULL,
                           "socket folder '%s' must be owned by uid %u and mode 0700 (it is uid "
                           "%u, mode %03o)",
                           dir, (unsigned)geteuid(), (unsigned)st.st_uid,
                           (unsigned)(st.st_mode & 0777));
    cap_free(copy);
    return rc;
}

CAP_EXPORT cap_result cap_ipc_server_create(const struct cap_ipc_server_options *opts,
                                            struct cap_ipc_server **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    if (!opts || !opts->socket_path || !opts->root)
        return cap_error_set(CAP_E_POINTER, IPC_COMP, NULL, "server needs a socket path and a root");
    cap_result rc = check_dir(opts->socket_path);
    if (CAP_FAILED(rc))
        return rc;
    struct cap_ipc_server *s = cap_alloc_zero(sizeof(*s));
    if (!s)
        return CAP_E_OUTOFMEMORY;
    rc = ipc_listen(opts->socket_path, &s->l);
    if (CAP_FAILED(rc)) {
        cap_free(s);
        return rc;
    }
    s->root = opts->root;
    CAP_ADDREF(s->root);
    if (opts->callbacks)
        s->cb = *opts->callbacks;
    s->cb_ctx = opts->callback_ctx;
    s->max_frame = opts->max_frame ? opts->max_frame : CAP_IPC_DEFAULT_MAX_FRAME;
    s->max_conns = opts->max_connections ? opts->max_connections : CAP_IPC_DEFAULT_MAX_CONNECTIONS;
    s->max_per_uid = opts->max_connections_per_uid ? opts->max_connections_per_uid
                                                   : CAP_IPC_DEFAULT_MAX_CONNECTIONS_PER_UID;
    s->frame_timeout_ms = opts->frame_timeout_ms ? opts->frame_timeout_ms
                                                 : CAP_IPC_DEFAULT_FRAME_TIMEOUT_MS;
    /* one frame of the largest size must always fit */
    uint64_t budget = opts->max_buffered ? opts->max_buffered : CAP_IPC_DEFAULT_MAX_BUFFERED;
    uint64_t floor = (uint64_t)s->max_frame + IPC_HDR_SIZE;
    if (budget < floor)
        budget = floor;
    if (opts->max_buffered == CAP_IPC_UNLIMITED)
        budget = UINT64_MAX / 2;
    s->budget = ipc_budget_new(budget);
    if (!s->budget) {
        ipc_listener_close(s->l);
        CAP_RELEASE(s->root);
        cap_free(s);
        return CAP_E_OUTOFMEMORY;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cv, NULL);
    *out = s;
    return CAP_OK;
}

CAP_EXPORT cap_result cap_ipc_server_start(struct cap_ipc_server *s)
{
    if (!s)
        return CAP_E_POINTER;
    if (s->started || s->stopped)
        return cap_error_set(CAP_E_UNEXPECTED, IPC_COMP, NULL, "server already started");
    if (pthread_create(&s->acceptor, NULL, accept_main, s) != 0)
        return cap_error_set(CAP_E_FAIL, IPC_COMP, NULL, "cannot start the accept thread");
    s->started = 1;
    return CAP_OK;
}

CAP_EXPORT void cap_ipc_server_stop(struct cap_ipc_server *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    int was = s->stopped;
    s->stopped = 1;
    pthread_mutex_unlock(&s->lock);
    if (was)
        return;
    ipc_listener_wake(s->l);
    if (s->started)
        pthread_join(s->acceptor, NULL);
    pthread_mutex_lock(&s->lock);
    for (struct srv_node *n = s->conns; n; n = n->next)
        ipc_conn_shutdown(n->c);
    while (s->n_live)
        pthread_cond_wait(&s->cv, &s->lock);
    pthread_mutex_unlock(&s->lock);
}

CAP_EXPORT void cap_ipc_server_destroy(struct cap_ipc_server *s)
{
    if (!s)
        return;
    cap_ipc_server_stop(s);
    ipc_listener_close(s->l);
    CAP_RELEASE(s->root);
    ipc_budget_unref(s->budget);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cv);
    cap_free(s);
}

CAP_EXPORT uint32_t cap_ipc_server_connection_count(struct cap_ipc_server *s)
{
    if (!s)
        return 0;
    pthread_mutex_lock(&s->lock);
    uint32_t n = 0;
    for (struct srv_node *p = s->conns; p; p = p->next)
        n += !ipc_conn_is_dead(p->c);
    pthread_mutex_unlock(&s->lock);
    return n;
}

CAP_EXPORT uint64_t cap_ipc_server_buffered_bytes(struct cap_ipc_server *s)
{
    return s ? ipc_budget_used(s->budget) : 0;
}

CAP_EXPORT uint32_t cap_ipc_server_handle_count(struct cap_ipc_server *s)
{
    if (!s)
        return 0;
    pthread_mutex_lock(&s->lock);
    uint32_t n = 0;
    for (struct srv_node *p = s->conns; p; p = p->next)
        n += ipc_conn_export_count(p->c);
    pthread_mutex_unlock(&s->lock);
    return n;
}

CAP_EXPORT cap_result cap_ipc_server_conn_handle_count(struct cap_ipc_server *s, uint64_t conn_id,
                                                       uint32_t *out)
{
    if (!s || !out)
        return CAP_E_POINTER;
    *out = 0;
    cap_result rc = CAP_E_INVALIDARG;
    pthread_mutex_lock(&s->lock);
    for (struct srv_node *p = s->conns; p; p = p->next)
        if (ipc_conn_peer(p->c)->conn_id == conn_id) {
            *out = ipc_conn_export_count(p->c);
            rc = CAP_OK;
        }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* --- client connections (capsule/ipc.h, client side) --- */

struct cap_ipc_conn {
    struct ipc_conn *c;
};

CAP_EXPORT cap_result cap_ipc_connect(const char *socket_path, struct cap_ipc_conn **out)
{
    if (!out || !socket_path)
        return CAP_E_POINTER;
    *out = NULL;
    struct ipc_transport *t = NULL;
    int refused = 0;
    cap_result rc = ipc_connect_path(socket_path, &t, &refused);
    if (CAP_FAILED(rc))
        return cap_error_set(CAP_E_SERVICE_UNAVAILABLE, IPC_COMP, NULL, "%s",
                             cap_error_peek_message() ? cap_error_peek_message() : "connect failed");
    struct ipc_cred cr;
    rc = ipc_transport_cred(t, &cr);
    if (CAP_SUCCEEDED(rc) && cr.uid != geteuid())
        rc = cap_error_set(CAP_E_ACCESSDENIED, IPC_COMP, NULL,
                           "the service at '%s' runs as uid %u, not %u", socket_path, cr.uid,
                           (unsigned)geteuid());
    struct cap_ipc_conn *cc = NULL;
    if (CAP_SUCCEEDED(rc)) {
        cc = cap_alloc_zero(sizeof(*cc));
        rc = cc ? CAP_OK : CAP_E_OUTOFMEMORY;
    }
    if (CAP_FAILED(rc)) {
        ipc_transport_close(t);
        cap_free(cc);
        return rc;
    }
    struct cap_ipc_peer peer = {ipc_new_conn_id(), cr.pid, cr.uid};
    rc = ipc_conn_create(t, &peer, 0, NULL, 0, NULL, &cc->c);
    if (CAP_FAILED(rc)) {
        ipc_transport_close(t);
        cap_free(cc);
        return rc;
    }
    rc = ipc_conn_start(cc->c, 0);
    if (CAP_FAILED(rc)) {
        ipc_conn_unref(cc->c);
        cap_free(cc);
        return rc;
    }
    *out = cc;
    return CAP_OK;
}

CAP_EXPORT cap_result cap_ipc_conn_get_root(struct cap_ipc_conn *c, const cap_uuid *iid, void **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    if (!c || !iid)
        return CAP_E_POINTER;
    return ipc_remote_qi(c->c, 0, iid, out);
}

CAP_EXPORT uint32_t cap_ipc_conn_handle_count(struct cap_ipc_conn *c)
{
    return c ? ipc_conn_export_count(c->c) : 0;
}

CAP_EXPORT void cap_ipc_conn_peer(struct cap_ipc_conn *c, struct cap_ipc_peer *out)
{
    *out = *ipc_conn_peer(c->c);
}

CAP_EXPORT int cap_ipc_conn_alive(struct cap_ipc_conn *c)
{
    return c && !ipc_conn_is_dead(c->c);
}

CAP_EXPORT void cap_ipc_conn_close(struct cap_ipc_conn *c)
{
    if (!c)
        return;
    ipc_conn_shutdown(c->c);
    ipc_conn_join(c->c);
    ipc_conn_unref(c->c);
    cap_free(c);
}
