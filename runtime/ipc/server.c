/*
 * server.c - the listening side (capsule/ipc.h): accept, peer checks, the
 * list of live connections, and the callbacks capsule-svc builds its idle
 * timeout and session bookkeeping on.
 *
 * Threads: one accept thread; each accepted connection runs its own
 * (detached) reader and workers (conn.c). The server counts live readers so
 * that stop() can wait for every connection's teardown, which is where the
 * handles a client held are released and `disconnected` is called.
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

struct cap_ipc_server {
    struct ipc_listener *l;
    ISupports *root;
    struct cap_ipc_server_callbacks cb;
    void *cb_ctx;
    uint32_t max_frame;
    pthread_mutex_t lock;
    pthread_cond_t cv;
    struct srv_node *conns;
    uint32_t n_live; /* readers not yet torn down */
    pthread_t acceptor;
    int started, stopped;
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

static void accept_one(struct cap_ipc_server *s, struct ipc_transport *t, const struct ipc_cred *cr)
{
    struct cap_ipc_peer peer = {ipc_new_conn_id(), cr->pid, cr->uid};
    if (cr->uid != geteuid()) {
        srv_logf(s, "ipc: refused a connection from pid %d uid %u (the service runs as uid %u)",
                 (int)cr->pid, cr->uid, (unsigned)geteuid());
        ipc_transport_close(t);
        return;
    }
    struct ipc_conn_owner owner = {srv_log, srv_conn_ended, s};
    struct ipc_conn *c = NULL;
    struct srv_node *n = cap_alloc_zero(sizeof(*n));
    if (!n || CAP_FAILED(ipc_conn_create(t, &peer, 1, s->root, s->max_frame, &owner, &c))) {
        srv_logf(s, "ipc: out of memory accepting pid %d", (int)cr->pid);
        cap_free(n);
        ipc_transport_close(t);
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
        srv_logf(s, "ipc: cannot start a reader for pid %d", (int)cr->pid);
        srv_conn_ended(s, c); /* as if it ended at once */
    }
}

static void *accept_main(void *arg)
{
    struct cap_ipc_server *s = arg;
    for (;;) {
        struct ipc_transport *t = NULL;
        struct ipc_cred cr;
        cap_result rc = ipc_accept(s->l, &t, &cr);
        if (rc == CAP_E_ABORT)
            break;
        if (CAP_FAILED(rc)) {
            const char *m = cap_error_peek_message();
            if (m)
                srv_logf(s, "ipc: %s", m);
            cap_error_clear();
            struct timespec ts = {0, 10 * 1000 * 1000}; /* EMFILE and friends: no spin */
            nanosleep(&ts, NULL);
            continue;
        }
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
