/*
 * reader.c - a connection's reader thread: frames in, requests out.
 *
 * Reads the stream into a buffer, cuts it into frames with
 * ipc_frame_decode(), and handles each frame completely before the next:
 * requests are decoded (target handle, interface, slot, argument count,
 * every in value) and queued for a worker; replies are decoded into the
 * waiting call; releases drop handle counts. Anything malformed ends the
 * connection with one logged line naming the problem; the peer's other
 * connections and the process are untouched.
 */
#include <stdio.h>
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/result.h>

#include "ipc_internal.h"

static cap_result proto(const char *what)
{
    return cap_error_set(CAP_E_IPC_PROTOCOL, IPC_COMP, NULL, "%s", what);
}

static cap_result on_request(struct ipc_conn *c, const struct ipc_frame *f, struct ipc_rd *r)
{
    uint64_t handle;
    cap_uuid iid;
    uint32_t slot;
    uint16_t n;
    if (!ipc_rd_u64(r, &handle) || !ipc_rd_bytes(r, &iid, 16) || !ipc_rd_u32(r, &slot) ||
        !ipc_rd_u16(r, &n))
        return proto("truncated request header");
    const struct cap_tl_iface *tl = cap_typelib_find_iface(&iid);
    if (!tl)
        return proto("request names an unknown interface");
    const struct cap_tl_method *m = cap_tl_method_at(tl, slot);
    if (!m || (m->flags & CAP_TLM_BUILTIN))
        return cap_error_set(CAP_E_IPC_PROTOCOL, IPC_COMP, tl->name,
                             "request for %s slot %u, which is not callable", tl->name, slot);
    if (n != m->n_params)
        return cap_error_set(CAP_E_IPC_PROTOCOL, IPC_COMP, tl->name,
                             "request for %s::%s with %u params (it has %u)", tl->name, m->name, n,
                             m->n_params);
    struct ipc_job *j = cap_alloc_zero(sizeof(*j));
    if (!j)
        return CAP_E_OUTOFMEMORY;
    j->type = IPC_MSG_REQUEST;
    j->req_id = f->req_id;
    j->tl = tl;
    j->m = m;
    j->slot = slot;
    cap_result rc = ipc_export_lookup(c, handle, tl, &j->obj);
    if (CAP_FAILED(rc))
        goto fail;
    j->v = cap_alloc_zero(sizeof(*j->v) * (m->n_params ? m->n_params : 1));
    if (!j->v) {
        rc = CAP_E_OUTOFMEMORY;
        goto fail;
    }
    rc = ipc_decode_values(r, tl, m, j->v, IPC_DIR_IN, &ipc_conn_iface_ops, c);
    if (CAP_SUCCEEDED(rc) && ipc_rd_left(r) != 0)
        rc = cap_error_set(CAP_E_IPC_PROTOCOL, IPC_COMP, tl->name,
                           "request for %s::%s has %zu trailing bytes", tl->name, m->name,
                           ipc_rd_left(r));
    if (CAP_FAILED(rc))
        goto fail;
    return ipc_conn_enqueue(c, j);
fail:
    if (j->v) {
        cap_xpt_values_clear(m, j->v, CAP_XPT_CLEAR_IN);
        cap_free(j->v);
    }
    if (j->obj)
        CAP_RELEASE(j->obj);
    cap_free(j);
    return rc;
}

static cap_result on_qi(struct ipc_conn *c, const struct ipc_frame *f, struct ipc_rd *r)
{
    struct ipc_job *j = cap_alloc_zero(sizeof(*j));
    if (!j)
        return CAP_E_OUTOFMEMORY;
    j->type = IPC_MSG_QI;
    j->req_id = f->req_id;
    if (!ipc_rd_u64(r, &j->handle) || !ipc_rd_bytes(r, &j->iid, 16) || ipc_rd_left(r)) {
        cap_free(j);
        return proto("malformed QueryInterface request");
    }
    if (j->handle != 0) { /* checked again by the worker; this catches hostile ids early */
        pthread_mutex_lock(&c->lock);
        int known = ipc_map_get(&c->exp_by_id, j->handle) != NULL;
        pthread_mutex_unlock(&c->lock);
        if (!known) {
            cap_result rc = cap_error_set(CAP_E_IPC_BAD_HANDLE, IPC_COMP, NULL,
                                          "QueryInterface on unknown handle %llu",
                                          (unsigned long long)j->handle);
            cap_free(j);
            return rc;
        }
    }
    return ipc_conn_enqueue(c, j);
}

static struct ipc_pending *take_pending(struct ipc_conn *c, uint64_t id)
{
    pthread_mutex_lock(&c->lock);
    struct ipc_pending *p = NULL;
    for (struct ipc_pending **pp = &c->pending; *pp; pp = &(*pp)->next)
        if ((*pp)->id == id) {
            p = *pp;
            *pp = p->next;
            break;
        }
    pthread_mutex_unlock(&c->lock);
    return p;
}

static void complete(struct ipc_conn *c, struct ipc_pending *p, cap_result rc)
{
    pthread_mutex_lock(&c->lock);
    p->rc = rc;
    p->done = 1;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&c->lock);
}

static cap_result on_reply(struct ipc_conn *c, const struct ipc_frame *f, struct ipc_rd *r)
{
    uint32_t u;
    if (!ipc_rd_u32(r, &u))
        return proto("truncated reply");
    struct ipc_pending *p = take_pending(c, f->req_id);
    if (!p)
        return cap_error_set(CAP_E_IPC_PROTOCOL, IPC_COMP, NULL, "reply to unknown request %llu",
                             (unsigned long long)f->req_id);
    cap_result rc = (cap_result)u, drc = CAP_OK;
    if (CAP_SUCCEEDED(rc)) {
        drc = ipc_decode_values(r, p->tl, p->m, p->v, IPC_DIR_OUT, &ipc_conn_iface_ops, c);
        if (CAP_SUCCEEDED(drc) && ipc_rd_left(r)) {
            cap_xpt_values_clear(p->m, p->v, CAP_XPT_CLEAR_OUT);
            drc = proto("reply has trailing bytes");
        }
    } else {
        int oom = 0;
        if (!ipc_rd_str(r, &p->err.message, &oom) || !ipc_rd_str(r, &p->err.component, &oom) ||
            !ipc_rd_str(r, &p->err.iface, &oom) || ipc_rd_left(r))
            drc = proto("malformed error reply");
        if (!p->err.message)
            p->err.message = cap_str_dup("call failed");
    }
    if (CAP_FAILED(drc)) {
        /* the caller gets the protocol error; the connection ends */
        cap_error_info_clear(&p->err);
        p->err.message = cap_str_dup(cap_error_peek_message() ? cap_error_peek_message()
                                                              : "malformed reply");
        p->err.component = cap_str_dup(IPC_COMP);
        complete(c, p, drc);
        return drc;
    }
    complete(c, p, rc);
    return CAP_OK;
}

static cap_result on_release(struct ipc_conn *c, struct ipc_rd *r)
{
    uint64_t h;
    uint32_t n;
    if (!ipc_rd_u64(r, &h) || !ipc_rd_u32(r, &n) || ipc_rd_left(r) || n == 0)
        return proto("malformed release");
    return ipc_export_release(c, h, n);
}

static cap_result on_frame(struct ipc_conn *c, const struct ipc_frame *f)
{
    struct ipc_rd r = {f->payload, f->length, 0};
    switch (f->type) {
    case IPC_MSG_REQUEST:
        return on_request(c, f, &r);
    case IPC_MSG_QI:
        return on_qi(c, f, &r);
    case IPC_MSG_REPLY:
        return on_reply(c, f, &r);
    case IPC_MSG_RELEASE:
        return on_release(c, &r);
    default:
        return proto("unknown frame type");
    }
}

static void teardown(struct ipc_conn *c, const char *reason)
{
    pthread_mutex_lock(&c->lock);
    ipc_conn_mark_dead_locked(c, reason);
    c->stopping = 1;
    pthread_cond_broadcast(&c->job_cv);
    uint32_t n = c->n_threads;
    pthread_mutex_unlock(&c->lock);
    ipc_transport_shutdown(c->t);
    for (uint32_t i = 0; i < n; i++) /* no new worker starts once stopping */
        pthread_join(c->workers[i], NULL);
    ipc_exports_release_all(c);
    if (c->owner.ended)
        c->owner.ended(c->owner.ctx, c);
}

static void *reader_main(void *arg)
{
    struct ipc_conn *c = arg;
    size_t cap = 64 * 1024, start = 0, end = 0;
    uint8_t *buf = cap_alloc(cap);
    char reason[512] = "the peer closed the connection";
    int logged = 0;

    while (buf) {
        struct ipc_frame f;
        cap_result rc = ipc_frame_decode(buf + start, end - start, c->max_frame, &f);
        if (rc == CAP_OK) {
            rc = on_frame(c, &f);
            start += IPC_HDR_SIZE + f.length;
            if (CAP_SUCCEEDED(rc))
                continue;
        }
        if (rc != CAP_E_IPC_TRUNCATED) {
            snprintf(reason, sizeof(reason), "bad message from the peer: %s",
                     cap_error_peek_message() ? cap_error_peek_message() : cap_result_name(rc));
            ipc_conn_log(c, "%s; closing the connection", reason);
            logged = 1;
            break;
        }
        /* need more bytes: make room for the whole frame, then read */
        size_t need = IPC_HDR_SIZE;
        if (end - start >= IPC_HDR_SIZE)
            need += (size_t)buf[start + 16] | (size_t)buf[start + 17] << 8 |
                    (size_t)buf[start + 18] << 16 | (size_t)buf[start + 19] << 24;
        if (start > 0) {
            memmove(buf, buf + start, end - start);
            end -= start;
            start = 0;
        }
        if (need > cap) {
            uint8_t *nb = cap_realloc(buf, need);
            if (!nb) {
                snprintf(reason, sizeof(reason), "out of memory for a %zu-byte frame", need);
                break;
            }
            buf = nb;
            cap = need;
        }
        size_t got = 0;
        rc = ipc_recv_some(c->t, buf + end, cap - end, &got);
        if (CAP_FAILED(rc) || got == 0) {
            if (end > start && !c->dead) {
                snprintf(reason, sizeof(reason), "the peer closed the connection mid-frame");
                ipc_conn_log(c, "%s", reason);
                logged = 1;
            }
            break;
        }
        end += got;
    }
    (void)logged;
    cap_free(buf);
    teardown(c, reason);
    ipc_conn_unref(c);
    return NULL;
}

cap_result ipc_conn_start(struct ipc_conn *c, int detached)
{
    pthread_attr_t a;
    pthread_attr_init(&a);
    if (detached)
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    c->detached = detached;
    /* A detached reader may finish and drop the last reference before
     * pthread_create returns (a peer that hangs up at once), so nothing of
     * c is touched after it in that case; a joinable one is kept alive by
     * the caller, who joins it. */
    c->started = 1;
    ipc_conn_ref(c); /* the reader's */
    pthread_t tid;
    int e = pthread_create(&tid, &a, reader_main, c);
    pthread_attr_destroy(&a);
    if (e) {
        c->started = 0;
        ipc_conn_unref(c);
        return cap_error_set(CAP_E_FAIL, IPC_COMP, NULL, "cannot start a reader thread");
    }
    if (!detached)
        c->reader = tid;
    return CAP_OK;
}

void ipc_conn_join(struct ipc_conn *c)
{
    if (c->started && !c->detached)
        pthread_join(c->reader, NULL);
    c->started = 0;
}
