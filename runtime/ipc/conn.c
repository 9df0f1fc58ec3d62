/*
 * conn.c - one connection: the reader thread, worker threads, calls.
 *
 * The reader thread owns the receiving side. It decodes every frame
 * completely (request arguments included) before it reads the next one, so
 * handles are resolved in the order the peer sent them: a RELEASE can never
 * overtake an earlier message that still names the handle. Replies are
 * decoded straight into the waiting caller's values and the caller is woken
 * through its own condition variable (request ids match them up, so any
 * number of threads may call at once).
 *
 * Requests go to worker threads, started on demand: whenever more requests
 * are queued than workers are idle, a new worker starts (up to
 * CAP_IPC_MAX_WORKERS). A call that calls back (service -> client listener
 * -> service ...) therefore always finds a free worker on each side, without
 * routing nested requests to the waiting thread. Workers stay for the life
 * of the connection.
 *
 * When the stream ends or breaks (peer exit, a malformed frame, close) the
 * reader tears down: the connection is marked dead, waiting calls are woken
 * with the "unavailable" error, workers are joined, every handle the peer
 * held is released, and the owner is told.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <capsule/capsule.h>
#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/result.h>

#include "ipc_internal.h"

static __thread const struct cap_ipc_peer *tls_peer;

CAP_EXPORT cap_result cap_ipc_current_peer(struct cap_ipc_peer *out)
{
    if (!out)
        return CAP_E_POINTER;
    if (!tls_peer) {
        memset(out, 0, sizeof(*out));
        return CAP_FALSE_RESULT;
    }
    *out = *tls_peer;
    return CAP_OK;
}

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

void ipc_conn_mark_dead_locked(struct ipc_conn *c, const char *reason)
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
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->wlock, NULL);
    pthread_cond_init(&c->job_cv, NULL);
    c->next_export = 1;
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
    pthread_cond_destroy(&c->job_cv);
    cap_free(c);
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
    pthread_mutex_lock(&c->lock);
    ipc_conn_mark_dead_locked(c, "closed by this side");
    pthread_mutex_unlock(&c->lock);
    ipc_transport_shutdown(c->t);
}

cap_result ipc_conn_send(struct ipc_conn *c, struct ipc_buf *b, uint8_t type, uint64_t req_id)
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
    if (CAP_FAILED(rc)) {
        pthread_mutex_lock(&c->lock);
        ipc_conn_mark_dead_locked(c, cap_error_peek_message() ? cap_error_peek_message()
                                                              : "send failed");
        pthread_mutex_unlock(&c->lock);
        ipc_transport_shutdown(c->t);
        return ipc_conn_dead_error(c);
    }
    return CAP_OK;
}

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
    pthread_mutex_unlock(&c->lock);

    cap_result rc = ipc_conn_send(c, b, type, p.id);
    pthread_mutex_lock(&c->lock);
    if (CAP_FAILED(rc) && !p.done) { /* not woken: unlink ourselves */
        for (struct ipc_pending **pp = &c->pending; *pp; pp = &(*pp)->next)
            if (*pp == &p) {
                *pp = p.next;
                break;
            }
        pthread_mutex_unlock(&c->lock);
        pthread_cond_destroy(&p.cv);
        return rc; /* error info set by the send */
    }
    while (!p.done)
        pthread_cond_wait(&p.cv, &c->lock);
    pthread_mutex_unlock(&c->lock);
    pthread_cond_destroy(&p.cv);

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

/* --- workers --- */

static void job_free(struct ipc_job *j)
{
    if (j->v) {
        cap_xpt_values_clear(j->m, j->v, CAP_XPT_CLEAR_ALL);
        cap_free(j->v);
    }
    if (j->obj)
        CAP_RELEASE(j->obj);
    cap_free(j);
}

static void reply_failure(struct ipc_buf *b, cap_result rc, const char *iface)
{
    struct cap_error_info info;
    b->len = IPC_HDR_SIZE;
    b->oom = 0;
    ipc_buf_u32(b, (uint32_t)rc);
    if (cap_error_take(&info) == CAP_OK && info.result == rc) {
        ipc_buf_str(b, info.message ? info.message : "");
        ipc_buf_str(b, info.component);
        ipc_buf_str(b, info.iface ? info.iface : iface);
    } else {
        char *msg = cap_str_printf("%s failed (%s)", iface ? iface : "call", cap_result_name(rc));
        ipc_buf_str(b, msg ? msg : "call failed");
        ipc_buf_str(b, NULL);
        ipc_buf_str(b, iface);
        cap_str_free(msg);
    }
    cap_error_info_clear(&info);
}

static void run_request(struct ipc_conn *c, struct ipc_job *j, struct ipc_buf *b)
{
    cap_error_clear();
    cap_result rc = cap_xpt_invoke(j->obj, j->tl, j->slot, j->v, j->m->n_params);
    ipc_buf_u32(b, (uint32_t)rc);
    if (CAP_SUCCEEDED(rc)) {
        cap_result erc = ipc_encode_values(b, j->tl, j->m, j->v, IPC_DIR_OUT, &ipc_conn_iface_ops, c);
        if (CAP_FAILED(erc))
            reply_failure(b, erc, j->tl->name);
    } else {
        reply_failure(b, rc, j->tl->name);
    }
}

static void run_qi(struct ipc_conn *c, struct ipc_job *j, struct ipc_buf *b)
{
    void *obj = NULL, *res = NULL;
    const struct cap_tl_iface *tl = cap_typelib_find_iface(&j->iid);
    cap_result rc;
    cap_error_clear();
    if (j->handle == 0) {
        obj = c->root;
        rc = obj ? CAP_OK : CAP_E_NOINTERFACE;
        if (obj)
            CAP_ADDREF(obj);
    } else {
        rc = ipc_export_lookup(c, j->handle, &cap_tl_ISupports, &obj);
    }
    if (CAP_SUCCEEDED(rc))
        rc = tl ? CAP_QI(obj, &j->iid, &res) : CAP_E_NOINTERFACE;
    ipc_buf_u32(b, (uint32_t)rc);
    if (CAP_SUCCEEDED(rc)) {
        struct cap_tl_param prm = {"result", CAP_TLT_IFACE, CAP_TLD_RETURN, 0, NULL, tl};
        struct cap_tl_method qm = {"QueryInterface", "queryInterface", CAP_TLM_METHOD, 0, 1, &prm};
        struct cap_xpt_value v = {.iface = res};
        cap_result erc = ipc_encode_values(b, tl, &qm, &v, IPC_DIR_OUT, &ipc_conn_iface_ops, c);
        if (CAP_FAILED(erc))
            reply_failure(b, erc, tl->name);
    } else {
        reply_failure(b, rc, tl ? tl->name : NULL);
    }
    if (res)
        CAP_RELEASE(res);
    if (obj)
        CAP_RELEASE(obj);
}

static void *worker_main(void *arg)
{
    struct ipc_conn *c = arg;
    struct ipc_buf b;
    tls_peer = &c->peer;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        while (!c->jq_head && !c->stopping) {
            c->n_idle++;
            pthread_cond_wait(&c->job_cv, &c->lock);
            c->n_idle--;
        }
        struct ipc_job *j = c->jq_head;
        if (!j)
            break;
        c->jq_head = j->next;
        if (!c->jq_head)
            c->jq_tail = NULL;
        c->n_queued--;
        int dead = c->dead;
        pthread_mutex_unlock(&c->lock);
        if (!dead) {
            ipc_buf_init(&b);
            if (j->type == IPC_MSG_REQUEST)
                run_request(c, j, &b);
            else
                run_qi(c, j, &b);
            ipc_conn_send(c, &b, IPC_MSG_REPLY, j->req_id);
            ipc_buf_free(&b);
        }
        job_free(j);
        cap_error_clear();
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    tls_peer = NULL;
    return NULL;
}

cap_result ipc_conn_enqueue(struct ipc_conn *c, struct ipc_job *j)
{
    pthread_mutex_lock(&c->lock);
    if (c->jq_tail)
        c->jq_tail->next = j;
    else
        c->jq_head = j;
    c->jq_tail = j;
    c->n_queued++;
    if (c->n_queued > c->n_idle && c->n_threads < CAP_IPC_MAX_WORKERS) {
        if (pthread_create(&c->workers[c->n_threads], NULL, worker_main, c) == 0)
            c->n_threads++;
        else if (c->n_threads == 0)
            ipc_conn_log(c, "cannot start a worker thread; requests wait");
    }
    pthread_cond_signal(&c->job_cv);
    pthread_mutex_unlock(&c->lock);
    return CAP_OK;
}
