/*
 * service/events.c - IEventSource and the passive IEventListener.
 *
 * The source keeps one record per registered listener: the listener (a
 * strong reference; for an active one usually a proxy to a client object),
 * the event types it wants, the client that registered it (for the log),
 * and a bounded queue of events not yet handed over. Listeners are matched
 * by identity (QueryInterface to ISupports), so the proxy a client passes
 * again finds its record.
 *
 * Delivery never waits for a listener. fireEvent only queues the event on
 * every interested record and returns: a passive listener takes it with
 * getEvent; an active one is called by its own delivery thread (started
 * when its queue becomes non-empty, ended when it runs dry), one event at
 * a time in queue order, so each listener sees events in the order they
 * were fired and a slow or stalled client delays nobody but itself. The
 * callers that fire (modifyvm's saveSettings, createvm, a VM's state
 * change) therefore never wait on a client, whatever lock they hold.
 *
 * Bounds (each drop is logged with the client's connection and pid):
 *  - an active listener whose handleEvent has not returned after
 *    CAPSULE_SVC_LISTENER_TIMEOUT ms (default LISTENER_TIMEOUT_MS) is
 *    dropped by the source's watchdog thread: unregistered and its queue
 *    freed. Its delivery thread stays in the call until the client answers
 *    or its connection ends (the IPC call has no deadline), then ends;
 *  - a queue that would grow past CAPSULE_SVC_LISTENER_QUEUE events
 *    (default QUEUE_MAX) drops its listener, active or passive, rather than
 *    events: a listener that misses events silently would be wrong without
 *    knowing it, one that is dropped learns it from its next getEvent;
 *  - a passive listener that has not polled for PASSIVE_TIMEOUT_MS is
 *    dropped at the next fire; an active one whose client is gone (its call
 *    fails with an IPC disconnect) at once.
 *
 * Records are shared by the list and the delivery thread (refs, under the
 * lock); a dropped record is unlinked and marked at once, and what it holds
 * (the listener, queued events) is released outside the lock.
 *
 * A getEvent that waits (even forever) for a client that dies meanwhile
 * must end: the IPC connection's teardown, which releases the client's
 * handles, waits for the calls running for it. With a caller_gone hook
 * (capsule-svc's) the wait is cut into GONE_POLL_MS slices, checking it.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <capsule/ipc.h>
#include <capsule/mem.h>
#include <capsule/object.h>

#include "events.h"
#include "util.h"

#define PASSIVE_TIMEOUT_MS 60000
#define LISTENER_TIMEOUT_MS 5000 /* an active listener's handleEvent, at most */
#define QUEUE_MAX 10000 /* events waiting for one listener, at most */
#define GONE_POLL_MS 200 /* how often a waiting getEvent checks its caller */
#define SHUTDOWN_WAIT_MS 1000 /* how long shutdown waits for delivery threads */

struct listener {
    struct listener *next;   /* the source's list, or a dead list once dropped */
    IEventListener *l;       /* strong; released when dropped */
    ISupports *ident;        /* strong; identity */
    EventType *types;
    uint32_t n_types;
    int active;              /* set at register */
    uint64_t conn_id;        /* the registering client, set at register (0: in-process) */
    int32_t pid;
    IEvent **queue;          /* ring of strong refs; untouched once dropped */
    uint32_t q_head, q_len, q_cap;
    int64_t last_poll;       /* passive: monotonic ms */
    int waiters;             /* passive: getEvent calls waiting */
    /* Under es->lock: */
    int refs;                /* the list's (until dropped) + the delivery thread's */
    int dropped;             /* unlinked; no new call starts */
    int worker;              /* active: a delivery thread runs for it */
    int in_call;             /* active: handleEvent is running */
    int64_t call_start;      /* monotonic ms, while in_call */
};

struct event_source {
    IEventSource IEventSource_iface;
    cap_refcnt ref;
    pthread_mutex_t lock;
    pthread_cond_t cond;      /* getEvent waiters; delivery threads ending */
    pthread_cond_t reap_cv;   /* the watchdog: a call started, or stop */
    struct listener *listeners;
    uint32_t timeout_ms;      /* set at create (environment) or by the tests */
    uint32_t queue_max;
    uint32_t n_workers;       /* delivery threads running */
    uint32_t n_dropped;       /* listeners dropped by a bound (tests) */
    int reaper_started, stopping;
    pthread_t reaper;
    int (*caller_gone)(void); /* set before serving (event_source_set_caller_gone) */
    int (*peer)(uint64_t *conn_id, int32_t *pid); /* likewise */
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* CLOCK_MONOTONIC now + ms, for pthread_cond_timedwait on es's conds. */
static struct timespec ms_from_now(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static int ts_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static struct event_source *impl(IEventSource *iface)
{
    return CAP_CONTAINER_OF(iface, struct event_source, IEventSource_iface);
}

/* ---- the passive listener object ----------------------------------------- */

struct plistener {
    IEventListener IEventListener_iface;
    cap_refcnt ref;
};

static struct plistener *pl_impl(IEventListener *iface)
{
    return CAP_CONTAINER_OF(iface, struct plistener, IEventListener_iface);
}

static const struct cap_qi_entry pl_qi[] = {
    CAP_QI_ENTRY(IID_IEventListener, struct plistener, IEventListener_iface),
    CAP_QI_END,
};

static cap_result pl_QueryInterface(IEventListener *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(pl_impl(self), pl_qi, iid, out);
}

static uint32_t pl_AddRef(IEventListener *self)
{
    return cap_refcnt_inc(&pl_impl(self)->ref);
}

static uint32_t pl_Release(IEventListener *self)
{
    struct plistener *p = pl_impl(self);
    uint32_t n = cap_refcnt_dec(&p->ref);
    if (n == 0)
        cap_free(p);
    return n;
}

static cap_result pl_HandleEvent(IEventListener *self, IEvent *event)
{
    return CAP_OK; /* passive: events are fetched with getEvent */
}

static const struct IEventListenerVtbl pl_vtbl = {
    .QueryInterface = pl_QueryInterface,
    .AddRef = pl_AddRef,
    .Release = pl_Release,
    .HandleEvent = pl_HandleEvent,
};

/* ---- listener records ----------------------------------------------------- */

/* Frees what a record holds besides its memory: queued events, the
 * listener, its identity. Outside es->lock (Release of a proxy talks to
 * the client); the record is unlinked and no thread touches these. */
static void record_clear(struct listener *r)
{
    for (uint32_t i = 0; i < r->q_len; i++)
        IEvent_Release(r->queue[(r->q_head + i) % r->q_cap]);
    r->q_len = 0;
    cap_free(r->queue);
    r->queue = NULL;
    cap_free(r->types);
    r->types = NULL;
    if (r->ident)
        ISupports_Release(r->ident);
    r->ident = NULL;
    if (r->l)
        IEventListener_Release(r->l);
    r->l = NULL;
}

/* Drops one reference to r (es->lock held); nonzero if it was the last,
 * and the caller then frees r (cap_free) after unlocking. */
static int record_unref_locked(struct listener *r)
{
    return --r->refs == 0;
}

/* Finishes records dropped under the lock (lock NOT held). */
static void dead_free(struct event_source *es, struct listener *dead)
{
    while (dead) {
        struct listener *r = dead;
        dead = r->next;
        record_clear(r);
        pthread_mutex_lock(&es->lock);
        int last = record_unref_locked(r);
        pthread_mutex_unlock(&es->lock);
        if (last)
            cap_free(r);
    }
}

/* The record of listener l (lock held), or NULL. */
static struct listener *find_locked(struct event_source *es, ISupports *ident)
{
    for (struct listener *r = es->listeners; r; r = r->next)
        if (r->ident == ident)
            return r;
    return NULL;
}

/* Unlinks r, marks it dropped and puts it on *dead for dead_free (lock
 * held). `why` (may be NULL: an unregister) is logged with the client. */
static void drop_locked(struct event_source *es, struct listener *r, struct listener **dead,
                        const char *why)
{
    for (struct listener **pp = &es->listeners; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    r->dropped = 1;
    r->next = *dead;
    *dead = r;
    pthread_cond_broadcast(&es->cond); /* a waiting getEvent sees it gone */
    if (why) {
        es->n_dropped++;
        svc_log("dropped %s event listener of connection %" PRIu64 " (pid %d): %s",
                r->active ? "an active" : "a passive", r->conn_id, (int)r->pid, why);
    }
}

static ISupports *identity(IEventListener *l)
{
    ISupports *id = NULL;
    if (!l || CAP_FAILED(CAP_QI(l, &IID_ISupports, &id)))
        return NULL;
    return id;
}

static int wants(const struct listener *r, EventType t)
{
    for (uint32_t i = 0; i < r->n_types; i++) {
        EventType w = r->types[i];
        if (w == t || w == EventType_Any)
            return 1;
        if (w == EventType_MachineEvent && t >= EventType_OnMachineStateChanged &&
            t <= EventType_OnSessionStateChanged)
            return 1;
    }
    return 0;
}

/* Appends e to r's queue (lock held): 0, or -1 when the queue is at
 * `max` or memory is short. */
static int enqueue(struct listener *r, IEvent *e, uint32_t max)
{
    if (r->q_len >= max)
        return -1;
    if (r->q_len == r->q_cap) {
        uint32_t cap = r->q_cap ? r->q_cap * 2 : 16;
        if (cap > max)
            cap = max;
        IEvent **q = cap_alloc(cap * sizeof(*q));
        if (!q)
            return -1;
        for (uint32_t i = 0; i < r->q_len; i++)
            q[i] = r->queue[(r->q_head + i) % r->q_cap];
        cap_free(r->queue);
        r->queue = q;
        r->q_cap = cap;
        r->q_head = 0;
    }
    IEvent_AddRef(e);
    r->queue[(r->q_head + r->q_len) % r->q_cap] = e;
    r->q_len++;
    return 0;
}

static IEvent *dequeue(struct listener *r)
{
    IEvent *e = r->queue[r->q_head];
    r->q_head = (r->q_head + 1) % r->q_cap;
    r->q_len--;
    return e;
}

static uint32_t es_Release(IEventSource *self);

/* ---- active delivery -------------------------------------------------------- */

/*
 * The watchdog: drops every active listener whose handleEvent has run for
 * longer than the bound, then sleeps until the next call in flight would
 * reach it (or a call starts). One per source, started with the first call.
 */
static void *reaper_main(void *arg)
{
    struct event_source *es = arg;
    pthread_mutex_lock(&es->lock);
    while (!es->stopping) {
        struct listener *dead = NULL;
        int64_t now = mono_ms(), next = INT64_MAX;
        for (struct listener *r = es->listeners, *nx; r; r = nx) {
            nx = r->next;
            if (!r->in_call)
                continue;
            int64_t due = r->call_start + es->timeout_ms;
            if (now >= due) {
                char why[96];
                snprintf(why, sizeof(why), "handleEvent did not return within %u ms",
                         es->timeout_ms);
                drop_locked(es, r, &dead, why);
            } else if (due < next) {
                next = due;
            }
        }
        if (dead) {
            pthread_mutex_unlock(&es->lock);
            dead_free(es, dead);
            pthread_mutex_lock(&es->lock);
            continue;
        }
        if (next == INT64_MAX) {
            pthread_cond_wait(&es->reap_cv, &es->lock);
        } else {
            struct timespec until = ms_from_now(next - now);
            pthread_cond_timedwait(&es->reap_cv, &es->lock, &until);
        }
    }
    pthread_mutex_unlock(&es->lock);
    return NULL;
}

/* Stops and joins the watchdog (not from the watchdog itself). */
static void reaper_stop(struct event_source *es)
{
    pthread_mutex_lock(&es->lock);
    es->stopping = 1;
    int started = es->reaper_started;
    es->reaper_started = 0;
    pthread_cond_broadcast(&es->reap_cv);
    pthread_mutex_unlock(&es->lock);
    if (!started)
        return;
    if (pthread_equal(es->reaper, pthread_self()))
        pthread_detach(es->reaper); /* its last event released the source */
    else
        pthread_join(es->reaper, NULL);
}

struct delivery {
    struct event_source *es; /* a reference */
    struct listener *r;      /* a reference (r->refs) */
};

/*
 * A listener's delivery thread: calls handleEvent for each queued event in
 * order, without the lock, until the queue is empty or the listener is
 * dropped. Owns a reference to the record and to the source.
 */
static void *deliver_main(void *arg)
{
    struct delivery d = *(struct delivery *)arg;
    struct event_source *es = d.es;
    struct listener *r = d.r, *dead = NULL;
    cap_free(arg);
    pthread_mutex_lock(&es->lock);
    while (!r->dropped && r->q_len) {
        IEvent *e = dequeue(r);
        IEventListener *l = r->l;
        IEventListener_AddRef(l);
        r->in_call = 1;
        r->call_start = mono_ms();
        if (!es->reaper_started && !es->stopping &&
            pthread_create(&es->reaper, NULL, reaper_main, es) == 0)
            es->reaper_started = 1;
        pthread_cond_broadcast(&es->reap_cv);
        pthread_mutex_unlock(&es->lock);
        cap_result rc = IEventListener_HandleEvent(l, e);
        pthread_mutex_lock(&es->lock);
        r->in_call = 0;
        if ((rc == CAP_E_IPC_DISCONNECTED || rc == CAP_E_SERVICE_UNAVAILABLE) && !r->dropped)
            drop_locked(es, r, &dead, "its client is gone");
        pthread_mutex_unlock(&es->lock);
        IEventListener_Release(l);
        IEvent_Release(e);
        dead_free(es, dead);
        dead = NULL;
        pthread_mutex_lock(&es->lock);
    }
    r->worker = 0;
    int last = record_unref_locked(r);
    es->n_workers--;
    pthread_cond_broadcast(&es->cond);
    pthread_mutex_unlock(&es->lock);
    if (last)
        cap_free(r);
    es_Release(&es->IEventSource_iface);
    return NULL;
}

/* Makes sure a delivery thread runs for active r, which has queued events
 * (lock held). 0, or -1 if no thread can be started. */
static int deliver_start_locked(struct event_source *es, struct listener *r)
{
    if (r->worker)
        return 0;
    struct delivery *d = cap_alloc(sizeof(*d));
    if (!d)
        return -1;
    d->es = es;
    d->r = r;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    cap_refcnt_inc(&es->ref);
    r->refs++;
    r->worker = 1;
    es->n_workers++;
    int err = pthread_create(&t, &a, deliver_main, d);
    pthread_attr_destroy(&a);
    if (err) {
        cap_refcnt_dec(&es->ref); /* not the last: the caller holds one */
        r->refs--;
        r->worker = 0;
        es->n_workers--;
        cap_free(d);
        return -1;
    }
    return 0;
}

/* ---- IEventSource ----------------------------------------------------------- */

static const struct cap_qi_entry es_qi[] = {
    CAP_QI_ENTRY(IID_IEventSource, struct event_source, IEventSource_iface),
    CAP_QI_END,
};

static cap_result es_QueryInterface(IEventSource *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(impl(self), es_qi, iid, out);
}

static uint32_t es_AddRef(IEventSource *self)
{
    return cap_refcnt_inc(&impl(self)->ref);
}

static uint32_t es_Release(IEventSource *self)
{
    struct event_source *es = impl(self);
    uint32_t n = cap_refcnt_dec(&es->ref);
    if (n == 0) {
        /* No delivery thread runs (each holds a reference). */
        reaper_stop(es);
        struct listener *dead = NULL;
        pthread_mutex_lock(&es->lock);
        while (es->listeners)
            drop_locked(es, es->listeners, &dead, NULL);
        pthread_mutex_unlock(&es->lock);
        dead_free(es, dead);
        pthread_cond_destroy(&es->cond);
        pthread_cond_destroy(&es->reap_cv);
        pthread_mutex_destroy(&es->lock);
        cap_free(es);
    }
    return n;
}

static cap_result es_CreateListener(IEventSource *self, IEventListener **out)
{
    if (!out)
        return CAP_E_POINTER;
    struct plistener *p = cap_alloc_zero(sizeof(*p));
    if (!p)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    p->IEventListener_iface.vtbl = &pl_vtbl;
    cap_refcnt_init(&p->ref, 1);
    *out = &p->IEventListener_iface;
    return CAP_OK;
}

static cap_result es_RegisterListener(IEventSource *self, IEventListener *l, uint32_t n,
                                      const EventType *types, cap_bool active)
{
    struct event_source *es = impl(self);
    if (!l)
        return cap_error_set(CAP_E_POINTER, SVC_COMPONENT, "IEventSource", "NULL listener");
    if (!n || !types)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, "IEventSource",
                             "no event types given for the listener");
    for (uint32_t i = 0; i < n; i++)
        if (types[i] == EventType_Invalid)
            return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, "IEventSource",
                                 "event type Invalid in the listener's filter");
    struct listener *r = cap_alloc_zero(sizeof(*r));
    if (!r || !(r->types = cap_alloc(n * sizeof(EventType)))) {
        cap_free(r);
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    }
    memcpy(r->types, types, n * sizeof(EventType));
    r->n_types = n;
    r->active = active != 0;
    r->last_poll = mono_ms();
    r->refs = 1;
    if (es->peer && !es->peer(&r->conn_id, &r->pid))
        r->conn_id = 0, r->pid = 0;
    r->ident = identity(l);
    if (!r->ident) {
        record_clear(r);
        cap_free(r);
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, "IEventSource",
                             "the listener does not answer QueryInterface(ISupports)");
    }
    r->l = l;
    IEventListener_AddRef(l);
    pthread_mutex_lock(&es->lock);
    if (find_locked(es, r->ident)) {
        pthread_mutex_unlock(&es->lock);
        record_clear(r);
        cap_free(r);
        return cap_error_set(CAP_E_OBJECT_EXISTS, SVC_COMPONENT, "IEventSource",
                             "the listener is already registered");
    }
    r->next = es->listeners;
    es->listeners = r;
    pthread_mutex_unlock(&es->lock);
    return CAP_OK;
}

static cap_result not_registered(void)
{
    return cap_error_set(CAP_E_OBJECT_NOT_FOUND, SVC_COMPONENT, "IEventSource",
                         "the listener is not registered (or was dropped: see the service log)");
}

/* No handleEvent starts for l once this returns; one already running (on
 * l's delivery thread) is not waited for: the listener may be the caller,
 * unregistering from inside its own handleEvent. */
static cap_result es_UnregisterListener(IEventSource *self, IEventListener *l)
{
    struct event_source *es = impl(self);
    ISupports *id = identity(l);
    if (!id)
        return not_registered();
    struct listener *dead = NULL;
    pthread_mutex_lock(&es->lock);
    struct listener *r = find_locked(es, id);
    if (r)
        drop_locked(es, r, &dead, NULL);
    pthread_mutex_unlock(&es->lock);
    ISupports_Release(id);
    if (!r)
        return not_registered();
    dead_free(es, dead);
    return CAP_OK;
}

static void drop_idle_locked(struct event_source *es, struct listener **dead)
{
    int64_t now = mono_ms();
    for (struct listener *r = es->listeners, *nx; r; r = nx) {
        nx = r->next;
        if (!r->active && !r->waiters && now - r->last_poll > PASSIVE_TIMEOUT_MS)
            drop_locked(es, r, dead, "no getEvent for 60 s");
    }
}

/* Queues the event for every interested listener and returns: active ones
 * get it from their delivery thread. `timeout` is not used (nothing is
 * waited for); *delivered is true once the event is queued. */
static cap_result es_FireEvent(IEventSource *self, IEvent *event, int32_t timeout,
                               cap_bool *delivered)
{
    struct event_source *es = impl(self);
    EventType type = EventType_Invalid;
    (void)timeout;
    if (!event || CAP_FAILED(IEvent_GetType(event, &type)))
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, "IEventSource", "bad event");
    struct listener *dead = NULL;
    pthread_mutex_lock(&es->lock);
    drop_idle_locked(es, &dead);
    for (struct listener *r = es->listeners, *nx; r; r = nx) {
        nx = r->next;
        if (!wants(r, type))
            continue;
        if (enqueue(r, event, es->queue_max) < 0) {
            char why[96];
            if (r->q_len >= es->queue_max)
                snprintf(why, sizeof(why), "its queue is full (%u events waiting)", r->q_len);
            else
                snprintf(why, sizeof(why), "out of memory for its queue");
            drop_locked(es, r, &dead, why);
        } else if (r->active && deliver_start_locked(es, r) < 0) {
            drop_locked(es, r, &dead, "cannot start its delivery thread");
        }
    }
    pthread_cond_broadcast(&es->cond);
    pthread_mutex_unlock(&es->lock);
    dead_free(es, dead);
    if (delivered)
        *delivered = CAP_TRUE;
    return CAP_OK;
}

static cap_result es_GetEvent(IEventSource *self, IEventListener *l, int32_t timeout,
                              IEvent **out)
{
    struct event_source *es = impl(self);
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    ISupports *id = identity(l);
    if (!id)
        return not_registered();
    struct timespec deadline = ms_from_now(timeout > 0 ? timeout : 0);
    cap_result rc = CAP_OK;
    pthread_mutex_lock(&es->lock);
    for (;;) {
        if (es->caller_gone && es->caller_gone()) {
            rc = cap_error_set(CAP_E_IPC_DISCONNECTED, SVC_COMPONENT, "IEventSource",
                               "getEvent abandoned: the caller is gone");
            break;
        }
        struct listener *r = find_locked(es, id);
        if (!r) {
            rc = not_registered();
            break;
        }
        if (r->active) {
            rc = cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, "IEventSource",
                               "getEvent called for an active listener");
            break;
        }
        r->last_poll = mono_ms();
        if (r->q_len) {
            *out = dequeue(r);
            break;
        }
        if (timeout == 0)
            break;
        r->waiters++;
        int w;
        if (es->caller_gone) { /* wake now and then to check the caller */
            struct timespec slice = ms_from_now(GONE_POLL_MS);
            int last = timeout > 0 && ts_before(&deadline, &slice);
            w = pthread_cond_timedwait(&es->cond, &es->lock, last ? &deadline : &slice);
            if (w == ETIMEDOUT && !last)
                w = 0; /* a slice ended, not the wait */
        } else {
            w = timeout < 0 ? pthread_cond_wait(&es->cond, &es->lock)
                            : pthread_cond_timedwait(&es->cond, &es->lock, &deadline);
        }
        /* r may be gone (unregistered) after the wait: look it up again. */
        struct listener *again = find_locked(es, id);
        if (again == r)
            r->waiters--;
        if (w == ETIMEDOUT) {
            timeout = 0;
            if (again)
                again->last_poll = mono_ms();
        }
    }
    pthread_mutex_unlock(&es->lock);
    ISupports_Release(id);
    return rc;
}

static cap_result es_EventProcessed(IEventSource *self, IEventListener *l, IEvent *event)
{
    struct event_source *es = impl(self);
    ISupports *id = identity(l);
    pthread_mutex_lock(&es->lock);
    struct listener *r = id ? find_locked(es, id) : NULL;
    pthread_mutex_unlock(&es->lock);
    if (id)
        ISupports_Release(id);
    return r ? CAP_OK : not_registered();
}

static const struct IEventSourceVtbl es_vtbl = {
    .QueryInterface = es_QueryInterface,
    .AddRef = es_AddRef,
    .Release = es_Release,
    .CreateListener = es_CreateListener,
    .RegisterListener = es_RegisterListener,
    .UnregisterListener = es_UnregisterListener,
    .FireEvent = es_FireEvent,
    .GetEvent = es_GetEvent,
    .EventProcessed = es_EventProcessed,
};

static uint32_t env_or(const char *name, uint32_t dflt)
{
    uint32_t v;
    return svc_env_u32(name, &v) && v ? v : dflt;
}

cap_result event_source_create(struct event_source **out)
{
    struct event_source *es = cap_alloc_zero(sizeof(*es));
    *out = NULL;
    if (!es)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    es->IEventSource_iface.vtbl = &es_vtbl;
    cap_refcnt_init(&es->ref, 1);
    es->timeout_ms = env_or("CAPSULE_SVC_LISTENER_TIMEOUT", LISTENER_TIMEOUT_MS);
    es->queue_max = env_or("CAPSULE_SVC_LISTENER_QUEUE", QUEUE_MAX);
    pthread_mutex_init(&es->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&es->cond, &ca);
    pthread_cond_init(&es->reap_cv, &ca);
    pthread_condattr_destroy(&ca);
    *out = es;
    return CAP_OK;
}

void event_source_set_caller_gone(struct event_source *es, int (*hook)(void))
{
    es->caller_gone = hook;
}

void event_source_set_peer_hook(struct event_source *es,
                                int (*hook)(uint64_t *conn_id, int32_t *pid))
{
    es->peer = hook;
}

void event_source_set_limits(struct event_source *es, uint32_t timeout_ms, uint32_t queue_max)
{
    pthread_mutex_lock(&es->lock);
    if (timeout_ms)
        es->timeout_ms = timeout_ms;
    if (queue_max)
        es->queue_max = queue_max;
    pthread_cond_broadcast(&es->reap_cv);
    pthread_mutex_unlock(&es->lock);
}

IEventSource *event_source_iface(struct event_source *es)
{
    return &es->IEventSource_iface;
}

void event_source_release(struct event_source *es)
{
    if (es)
        es_Release(&es->IEventSource_iface);
}

/* Drops every listener, stops the watchdog and waits a little for the
 * delivery threads to end (one stuck in a call to a client ends when the
 * client answers or its connection is closed). */
void event_source_shutdown(struct event_source *es)
{
    struct listener *dead = NULL;
    pthread_mutex_lock(&es->lock);
    while (es->listeners)
        drop_locked(es, es->listeners, &dead, NULL);
    pthread_mutex_unlock(&es->lock);
    dead_free(es, dead);
    reaper_stop(es);
    struct timespec until = ms_from_now(SHUTDOWN_WAIT_MS);
    pthread_mutex_lock(&es->lock);
    while (es->n_workers && pthread_cond_timedwait(&es->cond, &es->lock, &until) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&es->lock);
}

uint32_t event_source_listener_count(struct event_source *es)
{
    uint32_t n = 0;
    pthread_mutex_lock(&es->lock);
    for (struct listener *r = es->listeners; r; r = r->next)
        n++;
    pthread_mutex_unlock(&es->lock);
    return n;
}

uint32_t event_source_dropped_count(struct event_source *es)
{
    pthread_mutex_lock(&es->lock);
    uint32_t n = es->n_dropped;
    pthread_mutex_unlock(&es->lock);
    return n;
}

uint32_t event_source_delivery_threads(struct event_source *es)
{
    pthread_mutex_lock(&es->lock);
    uint32_t n = es->n_workers;
    pthread_mutex_unlock(&es->lock);
    return n;
}
