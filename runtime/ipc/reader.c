/*
 * reader.c - the read role (conn.c): frames in, replies and requests out.
 *
 * Whoever holds a connection's read role runs ipc_lead_read(): it reads the
 * stream into the connection's buffer, cuts it into frames with
 * ipc_frame_decode(), and handles each frame completely before the next:
 * requests are decoded (target handle, interface, slot, argument count,
 * every in value) and either kept for the service thread that read them
 * (which runs them itself once it has let go of the role) or, when a caller
 * reads, queued for the service threads; replies are decoded into the
 * waiting call; releases drop handle counts (the last Release of a real
 * object waits until the role is let go); a CLOSE ends the connection with
 * the peer's reason. Anything malformed ends the connection with one logged
 * line naming the problem; the peer's other connections and the process
 * are untouched.
 *
 * The buffer: it starts at CAP_IPC_CONN_BUFFER_ALLOWANCE bytes and grows
 * (doubling, never past the frame being read) only when it is full and the
 * frame needs more, so a frame's declared size is never reserved before its
 * bytes arrive; growth above the allowance is charged to the server's
 * budget first, and a frame that would overrun it closes the connection.
 * Once the buffer is empty again it shrinks back to the allowance. While
 * part of a frame is buffered, c->partial_since says since when (the
 * server closes connections that leave a frame incomplete too long).
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

/* The typelib entry of iid, through the connection's small cache (the
 * registry walks every typelib). Read role only. */
static const struct cap_tl_iface *find_iface(struct ipc_conn *c, const cap_uuid *iid)
{
    unsigned k = (iid->b[0] ^ iid->b[5] ^ iid->b[15]) % IPC_IID_CACHE;
    if (c->iid_cache[k].tl && cap_uuid_equal(&c->iid_cache[k].iid, iid))
        return c->iid_cache[k].tl;
    const struct cap_tl_iface *tl = cap_typelib_find_iface(iid);
    if (tl) {
        c->iid_cache[k].iid = *iid;
        c->iid_cache[k].tl = tl;
    }
    return tl;
}

/* A job for the request just decoded: in L's storage when a service thread
 * will run it itself, else on the heap. */
static struct ipc_job *job_new(struct ipc_lead *L, uint32_t n_values)
{
    if (!L->self && !L->job) {
        struct ipc_job *j = &L->job_store;
        memset(j, 0, sizeof(*j));
        j->inline_storage = 1;
        if (n_values <= IPC_JOB_INLINE_VALUES) {
            memset(L->v_store, 0, sizeof(L->v_store));
            j->v = L->v_store;
            j->inline_values = 1;
        }
        return j;
    }
    return cap_alloc_zero(sizeof(struct ipc_job));
}

/* Hands a decoded job on: kept by a service thread, queued if a caller reads. */
static cap_result job_out(struct ipc_conn *c, struct ipc_lead *L, struct ipc_job *j)
{
    if (j->inline_storage) {
        L->job = j;
        return CAP_OK;
    }
    pthread_mutex_lock(&c->lock);
    ipc_conn_enqueue_locked(c, j);
    pthread_mutex_unlock(&c->lock);
    return CAP_OK;
}

static cap_result on_request(struct ipc_conn *c, const struct ipc_frame *f, struct ipc_rd *r,
                             struct ipc_lead *L)
{
    uint64_t handle;
    cap_uuid iid;
    uint32_t slot;
    uint16_t n;
    if (!ipc_rd_u64(r, &handle) || !ipc_rd_bytes(r, &iid, 16) || !ipc_rd_u32(r, &slot) ||
        !ipc_rd_u16(r, &n))
        return proto("truncated request header");
    const struct cap_tl_iface *tl = find_iface(c, &iid);
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
    struct ipc_job *j = job_new(L, m->n_params);
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
    if (!j->v)
        j->v = cap_alloc_zero(sizeof(*j->v) * (m->n_params ? m->n_params : 1));
    if (!j->v) {
        rc = CAP_E_OUTOFMEMORY;
        goto fail;
    }
    rc = ipc_decode_values(r, tl, m, j->v, IPC_DIR_IN, &ipc_conn_iface_ops, c);
    if (CAP_SUCCEEDED(rc) && ipc_rd_left(r) != 0) {
        cap_xpt_values_clear(m, j->v, CAP_XPT_CLEAR_IN);
        rc = cap_error_set(CAP_E_IPC_PROTOCOL, IPC_COMP, tl->name,
                           "request for %s::%s has %zu trailing bytes", tl->name, m->name,
                           ipc_rd_left(r));
    }
    if (CAP_FAILED(rc))
        goto fail;
    return job_out(c, L, j);
fail:
    /* the value decoder left nothing behind on failure */
    j->m = NULL;
    ipc_job_free(j);
    return rc;
}

static cap_result on_qi(struct ipc_conn *c, const struct ipc_frame *f, struct ipc_rd *r,
                        struct ipc_lead *L)
{
    struct ipc_job *j = job_new(L, 0);
    if (!j)
        return CAP_E_OUTOFMEMORY;
    j->type = IPC_MSG_QI;
    j->req_id = f->req_id;
    j->v = NULL;
    j->inline_values = 0;
    if (!ipc_rd_u64(r, &j->handle) || !ipc_rd_bytes(r, &j->iid, 16) || ipc_rd_left(r)) {
        ipc_job_free(j);
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
            ipc_job_free(j);
            return rc;
        }
    }
    return job_out(c, L, j);
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

static void complete(struct ipc_conn *c, struct ipc_lead *L, struct ipc_pending *p, cap_result rc)
{
    pthread_mutex_lock(&c->lock);
    p->rc = rc;
    p->done = 1;
    if (p == L->self)
        L->self_done = 1; /* our own reply: nobody to wake */
    else
        pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&c->lock);
}

static cap_result on_reply(struct ipc_conn *c, const struct ipc_frame *f, struct ipc_rd *r,
                           struct ipc_lead *L)
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
        complete(c, L, p, drc);
        return drc;
    }
    complete(c, L, p, rc);
    return CAP_OK;
}

static cap_result on_release(struct ipc_conn *c, struct ipc_rd *r, struct ipc_lead *L)
{
    uint64_t h;
    uint32_t n;
    if (!ipc_rd_u64(r, &h) || !ipc_rd_u32(r, &n) || ipc_rd_left(r) || n == 0)
        return proto("malformed release");
    return ipc_export_release(c, h, n, &L->dead);
}

/* The peer says why it closes: the connection ends with that reason. */
static cap_result on_close(struct ipc_conn *c, struct ipc_rd *r)
{
    uint32_t u;
    char *why = NULL;
    int oom = 0;
    if (!ipc_rd_u32(r, &u) || !ipc_rd_str(r, &why, &oom) || ipc_rd_left(r))
        return proto("malformed close message");
    char *reason = cap_str_printf("the %s closed it: %s", c->is_server ? "client" : "service",
                                  why ? why : "no reason given");
    ipc_conn_kill(c, reason ? reason : "closed by the peer");
    cap_str_free(reason);
    cap_str_free(why);
    return CAP_FALSE_RESULT; /* nothing more to read */
}

static cap_result on_frame(struct ipc_conn *c, const struct ipc_frame *f, struct ipc_lead *L)
{
    struct ipc_rd r = {f->payload, f->length, 0};
    switch (f->type) {
    case IPC_MSG_REQUEST:
        return on_request(c, f, &r, L);
    case IPC_MSG_QI:
        return on_qi(c, f, &r, L);
    case IPC_MSG_REPLY:
        return on_reply(c, f, &r, L);
    case IPC_MSG_RELEASE:
        return on_release(c, &r, L);
    case IPC_MSG_CLOSE:
        return on_close(c, &r);
    default:
        return proto("unknown frame type");
    }
}

static uint64_t charge_of(size_t cap)
{
    return cap > CAP_IPC_CONN_BUFFER_ALLOWANCE ? cap - CAP_IPC_CONN_BUFFER_ALLOWANCE : 0;
}

/* Resizes the buffer to cap bytes (>= the bytes it holds, which start at
 * 0), charging or refunding the budget. CAP_E_OUTOFMEMORY, or
 * CAP_E_IPC_TOO_BIG when the budget has no room (error info says which). */
static cap_result resize(struct ipc_conn *c, size_t cap)
{
    struct ipc_budget *b = c->owner.budget;
    uint64_t want = charge_of(cap);
    if (b && want > c->rcharged && !ipc_budget_charge(b, want - c->rcharged))
        return cap_error_set(CAP_E_IPC_TOO_BIG, IPC_COMP, NULL,
                             "the service's receive-buffer budget is exhausted (%llu of %llu "
                             "bytes in use; this frame needs %llu more)",
                             (unsigned long long)ipc_budget_used(b),
                             (unsigned long long)b->limit,
                             (unsigned long long)(want - c->rcharged));
    uint8_t *nb = cap_realloc(c->rbuf, cap);
    if (!nb) {
        if (b && want > c->rcharged)
            ipc_budget_uncharge(b, want - c->rcharged);
        return cap_error_set(CAP_E_OUTOFMEMORY, IPC_COMP, NULL,
                             "out of memory for a %zu-byte receive buffer", cap);
    }
    if (b && want < c->rcharged)
        ipc_budget_uncharge(b, c->rcharged - want);
    c->rcharged = want;
    c->rbuf = nb;
    c->rcap = cap;
    return CAP_OK;
}

/* Makes room to read more of the frame at rstart, `need` bytes in all:
 * moves it to the front, and grows a full buffer towards need. */
static cap_result make_room(struct ipc_conn *c, size_t need)
{
    if (c->rstart > 0) {
        memmove(c->rbuf, c->rbuf + c->rstart, c->rend - c->rstart);
        c->rend -= c->rstart;
        c->rstart = 0;
    }
    if (c->rend < c->rcap)
        return CAP_OK;
    size_t cap = c->rcap < CAP_IPC_CONN_BUFFER_ALLOWANCE ? CAP_IPC_CONN_BUFFER_ALLOWANCE
                                                         : c->rcap * 2;
    if (cap > need)
        cap = need;
    return resize(c, cap);
}

/* The buffer was emptied: back to the allowance, and no partial frame. */
static void buffer_emptied(struct ipc_conn *c)
{
    c->rstart = c->rend = 0;
    if (__atomic_load_n(&c->partial_since, __ATOMIC_RELAXED))
        __atomic_store_n(&c->partial_since, 0, __ATOMIC_RELAXED);
    if (c->rcap > CAP_IPC_CONN_BUFFER_ALLOWANCE) {
        cap_error_clear();
        if (CAP_FAILED(resize(c, CAP_IPC_CONN_BUFFER_ALLOWANCE)))
            cap_error_clear(); /* shrinking cannot really fail; keep the big one */
    }
}

void ipc_lead_read(struct ipc_conn *c, struct ipc_lead *L)
{
    char reason[512];
    for (;;) {
        struct ipc_frame f;
        cap_result rc = ipc_frame_decode(c->rbuf + c->rstart, c->rend - c->rstart, c->max_frame, &f);
        if (rc == CAP_OK) {
            rc = on_frame(c, &f, L);
            c->rstart += IPC_HDR_SIZE + f.length;
            if (c->rstart == c->rend)
                buffer_emptied(c);
            else if (__atomic_load_n(&c->partial_since, __ATOMIC_RELAXED))
                __atomic_store_n(&c->partial_since, 0, __ATOMIC_RELAXED); /* that frame is done */
            if (CAP_FAILED(rc))
                goto bad;
            if (L->self_done || L->job || rc == CAP_FALSE_RESULT)
                return;
            continue;
        }
        if (rc != CAP_E_IPC_TRUNCATED)
            goto bad;
        /* part of a frame is here: since when (the clock is read only then) */
        if (c->rend > c->rstart && !__atomic_load_n(&c->partial_since, __ATOMIC_RELAXED))
            __atomic_store_n(&c->partial_since, ipc_now_ms(), __ATOMIC_RELAXED);
        if (!L->self && L->did_recv)
            return; /* a service thread reads only what woke it, never waits */
        /* need more bytes: make room for them (not the whole frame), then read */
        size_t need = IPC_HDR_SIZE;
        if (c->rend - c->rstart >= IPC_HDR_SIZE) {
            const uint8_t *h = c->rbuf + c->rstart;
            need += (size_t)h[16] | (size_t)h[17] << 8 | (size_t)h[18] << 16 |
                    (size_t)h[19] << 24;
        }
        rc = make_room(c, need);
        if (CAP_FAILED(rc)) {
            snprintf(reason, sizeof(reason), "%s", cap_error_peek_message());
            cap_error_clear();
            if (c->is_server)
                ipc_conn_close_with(c, rc, reason);
            else {
                ipc_conn_log(c, "%s; closing the connection", reason);
                ipc_conn_kill(c, reason);
            }
            return;
        }
        size_t got = 0;
        if (L->self) {
            rc = ipc_recv_some(c->t, c->rbuf + c->rend, c->rcap - c->rend, &got);
        } else {
            rc = ipc_recv_nowait(c->t, c->rbuf + c->rend, c->rcap - c->rend, &got);
            if (rc == CAP_FALSE_RESULT)
                return; /* woken for bytes a caller has read meanwhile */
        }
        L->did_recv = 1;
        if (CAP_FAILED(rc) || got == 0) {
            snprintf(reason, sizeof(reason), "the peer closed the connection");
            if (c->rend > c->rstart && !ipc_conn_is_dead(c)) {
                snprintf(reason, sizeof(reason), "the peer closed the connection mid-frame");
                ipc_conn_log(c, "%s", reason);
            }
            cap_error_clear();
            ipc_conn_kill(c, reason);
            return;
        }
        c->rend += got;
    }
bad:
    snprintf(reason, sizeof(reason), "bad message from the peer: %s",
             cap_error_peek_message() ? cap_error_peek_message() : "malformed frame");
    ipc_conn_log(c, "%s; closing the connection", reason);
    cap_error_clear();
    ipc_conn_kill(c, reason);
}
