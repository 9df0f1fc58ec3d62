/*
 * workers.c - a connection's service threads: parked readers that run the
 * requests they read.
 *
 * Every connection has a master service thread (started by
 * ipc_conn_start) and up to CAP_IPC_MAX_WORKERS more, started on demand and
 * kept for the life of the connection. An idle service thread parks in the
 * transport's wait set (ipc_transport_wait). It wakes for one of two
 * reasons:
 *  - the armed socket became readable: it takes the read role (conn.c),
 *    reads what is there, and if that was a request it lets go of the role
 *    (arming the socket again, so that another parked thread reads the next
 *    request) and runs the request itself, then sends the reply. On the
 *    common path one thread reads a request, runs it and answers: no handoff.
 *  - a kick: a request that a calling thread read while waiting for its own
 *    reply is queued, or the role was handed over with a whole frame still
 *    buffered; the kicked thread takes that work.
 *
 * Requests therefore always find a thread (up to CAP_IPC_MAX_WORKERS): a
 * new one starts whenever queued work outnumbers the idle threads, or when
 * the socket is armed and no idle thread would notice. That is what lets
 * nested call chains (service -> client listener -> service ...) proceed on
 * both sides.
 *
 * When the connection is killed (conn.c) every service thread leaves its
 * loop once its current request returns; the master joins the others,
 * releases every handle the peer held and tells the owner.
 */
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/result.h>

#include "ipc_internal.h"

static __thread const struct cap_ipc_peer *tls_peer;
static __thread struct ipc_conn *tls_conn; /* the connection tls_peer is of */

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

CAP_EXPORT int cap_ipc_current_peer_gone(void)
{
    return tls_conn && ipc_conn_is_dead(tls_conn);
}

void ipc_job_free(struct ipc_job *j)
{
    if (j->v) {
        if (j->m)
            cap_xpt_values_clear(j->m, j->v, CAP_XPT_CLEAR_ALL);
        if (!j->inline_values)
            cap_free(j->v);
    }
    if (j->obj)
        CAP_RELEASE(j->obj);
    if (!j->inline_storage)
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

/* Runs a request and sends its reply (nothing if the connection ended). */
static void run_job(struct ipc_conn *c, struct ipc_job *j)
{
    pthread_mutex_lock(&c->lock);
    int dead = c->dead;
    pthread_mutex_unlock(&c->lock);
    if (!dead) {
        uint8_t room[512]; /* most replies fit: no allocation per call */
        struct ipc_buf b;
        ipc_buf_init_on(&b, room, sizeof(room));
        if (j->type == IPC_MSG_REQUEST)
            run_request(c, j, &b);
        else
            run_qi(c, j, &b);
        ipc_conn_send(c, &b, IPC_MSG_REPLY, j->req_id);
        ipc_buf_free(&b);
    }
    ipc_job_free(j);
    cap_error_clear();
}

static void *worker_main(void *arg);

/* Starts one more service thread; 0 if none can start. c->lock held. */
static int spawn_locked(struct ipc_conn *c)
{
    if (c->stopping || c->n_threads >= CAP_IPC_MAX_WORKERS)
        return 0;
    if (pthread_create(&c->workers[c->n_threads], NULL, worker_main, c) != 0)
        return 0; /* the work waits for a thread that is busy now */
    c->n_threads++;
    c->n_starting++;
    return 1;
}

void ipc_conn_wake_service_locked(struct ipc_conn *c)
{
    if (c->stopping)
        return;
    /* each piece of work needs a kicked or starting thread */
    uint32_t work = c->n_queued + (c->rd_handoff ? 1u : 0u);
    while (c->n_kicks + c->n_starting < work) {
        if (c->n_parked > c->n_kicks) {
            c->n_kicks++;
            ipc_transport_kick(c->t, 1);
        } else if (!spawn_locked(c)) {
            return;
        }
    }
    /* an armed socket needs a thread that stays parked */
    if (c->armed && c->n_parked + c->n_starting <= work)
        spawn_locked(c);
}

void ipc_conn_enqueue_locked(struct ipc_conn *c, struct ipc_job *j)
{
    j->next = NULL;
    if (c->jq_tail)
        c->jq_tail->next = j;
    else
        c->jq_head = j;
    c->jq_tail = j;
    c->n_queued++;
    ipc_conn_wake_service_locked(c);
}

/* One stint in the read role; the role is held on entry. `handed`: the
 * role was handed over with a frame buffered (do not touch the socket). */
static void serve_read(struct ipc_conn *c, int handed)
{
    struct ipc_lead L;
    memset(&L, 0, sizeof(L));
    L.did_recv = handed;
    ipc_lead_read(c, &L);
    pthread_mutex_lock(&c->lock);
    ipc_conn_release_role_locked(c);
    pthread_mutex_unlock(&c->lock);
    ipc_exports_free(L.dead);
    if (L.job)
        run_job(c, L.job);
}

static void service_loop(struct ipc_conn *c, int starting)
{
    pthread_mutex_lock(&c->lock);
    if (starting)
        c->n_starting--;
    for (;;) {
        if (c->stopping)
            break;
        if (c->jq_head) {
            struct ipc_job *j = c->jq_head;
            c->jq_head = j->next;
            if (!c->jq_head)
                c->jq_tail = NULL;
            c->n_queued--;
            pthread_mutex_unlock(&c->lock);
            run_job(c, j);
            pthread_mutex_lock(&c->lock);
            continue;
        }
        if (c->rd_handoff) {
            c->rd_handoff = 0; /* rd_busy stays set: the role is ours */
            pthread_mutex_unlock(&c->lock);
            serve_read(c, 1);
            pthread_mutex_lock(&c->lock);
            continue;
        }
        c->n_parked++;
        pthread_mutex_unlock(&c->lock);
        int w = ipc_transport_wait(c->t);
        pthread_mutex_lock(&c->lock);
        c->n_parked--;
        if ((w & IPC_WAKE_KICK) && c->n_kicks)
            c->n_kicks--;
        if ((w & IPC_WAKE_DATA) && c->armed && !c->rd_busy && !c->stopping) {
            c->armed = 0; /* the one-shot event disarmed the socket */
            c->rd_busy = 1;
            pthread_mutex_unlock(&c->lock);
            serve_read(c, 0);
            pthread_mutex_lock(&c->lock);
        }
    }
    pthread_mutex_unlock(&c->lock);
    ipc_transport_kick(c->t, 1); /* pass the stop on to the next parked thread */
}

static void *worker_main(void *arg)
{
    struct ipc_conn *c = arg;
    tls_peer = &c->peer;
    tls_conn = c;
    service_loop(c, 1);
    tls_peer = NULL;
    tls_conn = NULL;
    return NULL;
}

void *ipc_master_main(void *arg)
{
    struct ipc_conn *c = arg;
    tls_peer = &c->peer;
    tls_conn = c;
    service_loop(c, 0);
    pthread_mutex_lock(&c->lock);
    uint32_t n = c->n_threads; /* no new thread starts once stopping */
    pthread_mutex_unlock(&c->lock);
    for (uint32_t i = 0; i < n; i++)
        pthread_join(c->workers[i], NULL);
    while (c->jq_head) { /* requests that never ran */
        struct ipc_job *j = c->jq_head;
        c->jq_head = j->next;
        ipc_job_free(j);
    }
    c->jq_tail = NULL;
    ipc_exports_release_all(c);
    ipc_conn_drop_rbuf(c); /* its budget is free for others now, not at the last unref */
    if (c->owner.ended)
        c->owner.ended(c->owner.ctx, c);
    tls_peer = NULL;
    tls_conn = NULL;
    ipc_conn_unref(c);
    return NULL;
}
