/*
 * service/events.c - IEventSource and the passive IEventListener.
 *
 * The source keeps one record per registered listener: the listener (a
 * strong reference; for an active one usually a proxy to a client object),
 * the event types it wants, and for a passive one a queue of events waiting
 * for getEvent. Listeners are matched by identity (QueryInterface to
 * ISupports), so the proxy a client passes again finds its record.
 *
 * Delivery: fireEvent queues the event for interested passive listeners
 * and calls handleEvent of interested active ones without the source's
 * lock held, one event at a time (deliver_lock), so each listener sees
 * events in the order they were fired. An active listener whose client is
 * gone (its call fails with an IPC disconnect) is dropped; a passive one
 * that has not polled for PASSIVE_TIMEOUT_MS is dropped at the next fire.
 *
 * A getEvent that waits (even forever) for a client that dies meanwhile
 * must end: the IPC connection's teardown, which releases the client's
 * handles, waits for the calls running for it. With a caller_gone hook
 * (capsule-svc's) the wait is cut into GONE_POLL_MS slices, checking it.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <capsule/ipc.h>
#include <capsule/mem.h>
#include <capsule/object.h>

#include "svc_internal.h"

#define PASSIVE_TIMEOUT_MS 60000
#define QUEUE_MAX 10000 /* a passive listener's queue never grows past this */
#define GONE_POLL_MS 200 /* how often a waiting getEvent checks its caller */

struct listener {
    struct listener *next;
    IEventListener *l;  /* strong */
    ISupports *ident;   /* strong; identity */
    EventType *types;
    uint32_t n_types;
    int active;
    IEvent **queue;
    uint32_t q_head, q_len, q_cap;
    int64_t last_poll;  /* monotonic ms */
    int waiters;
};

struct event_source {
    IEventSource IEventSource_iface;
    cap_refcnt ref;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_mutex_t deliver_lock;
    struct listener *listeners;
    int (*caller_gone)(void); /* set before serving (event_source_set_caller_gone) */
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* CLOCK_MONOTONIC now + ms, for pthread_cond_timedwait on es->cond. */
static struct timespec ms_from_now(int32_t ms)
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

static void record_free(struct listener *r)
{
    for (uint32_t i = 0; i < r->q_len; i++)
        IEvent_Release(r->queue[(r->q_head + i) % r->q_cap]);
    cap_free(r->queue);
    cap_free(r->types);
    if (r->ident)
        ISupports_Release(r->ident);
    if (r->l)
        IEventListener_Release(r->l);
    cap_free(r);
}

/* The record of listener l (lock held), or NULL. */
static struct listener *find_locked(struct event_source *es, ISupports *ident)
{
    for (struct listener *r = es->listeners; r; r = r->next)
        if (r->ident == ident)
            return r;
    return NULL;
}

static void unlink_locked(struct event_source *es, struct listener *r)
{
    for (struct listener **pp = &es->listeners; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            return;
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

static int enqueue(struct listener *r, IEvent *e)
{
    if (r->q_len == r->q_cap) {
        if (r->q_cap >= QUEUE_MAX)
            return -1;
        uint32_t cap = r->q_cap ? r->q_cap * 2 : 16;
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
        while (es->listeners) {
            struct listener *r = es->listeners;
            es->listeners = r->next;
            record_free(r);
        }
        pthread_cond_destroy(&es->cond);
        pthread_mutex_destroy(&es->lock);
        pthread_mutex_destroy(&es->deliver_lock);
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
    r->ident = identity(l);
    if (!r->ident) {
        record_free(r);
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, "IEventSource",
                             "the listener does not answer QueryInterface(ISupports)");
    }
    r->l = l;
    IEventListener_AddRef(l);
    pthread_mutex_lock(&es->lock);
    if (find_locked(es, r->ident)) {
        pthread_mutex_unlock(&es->lock);
        record_free(r);
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
                         "the listener is not registered (or was dropped after %d s without "
                         "getEvent)", PASSIVE_TIMEOUT_MS / 1000);
}

static cap_result es_UnregisterListener(IEventSource *self, IEventListener *l)
{
    struct event_source *es = impl(self);
    ISupports *id = identity(l);
    if (!id)
        return not_registered();
    /* deliver_lock: once this returns, handleEvent is not running for l. */
    pthread_mutex_lock(&es->deliver_lock);
    pthread_mutex_lock(&es->lock);
    struct listener *r = find_locked(es, id);
    if (r)
        unlink_locked(es, r);
    pthread_cond_broadcast(&es->cond);
    pthread_mutex_unlock(&es->lock);
    pthread_mutex_unlock(&es->deliver_lock);
    ISupports_Release(id);
    if (!r)
        return not_registered();
    record_free(r);
    return CAP_OK;
}

static void drop_idle_locked(struct event_source *es, struct listener **dead)
{
    int64_t now = mono_ms();
    for (struct listener **pp = &es->listeners; *pp;) {
        struct listener *r = *pp;
        if (!r->active && !r->waiters && now - r->last_poll > PASSIVE_TIMEOUT_MS) {
            *pp = r->next;
            r->next = *dead;
            *dead = r;
        } else {
            pp = &r->next;
        }
    }
}

static cap_result es_FireEvent(IEventSource *self, IEvent *event, int32_t timeout,
                               cap_bool *delivered)
{
    struct event_source *es = impl(self);
    EventType type = EventType_Invalid;
    if (!event || CAP_FAILED(IEvent_GetType(event, &type)))
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, "IEventSource", "bad event");
    struct listener *dead = NULL;
    IEventListener **active = NULL;
    uint32_t n_active = 0, cap = 0;
    pthread_mutex_lock(&es->deliver_lock);
    pthread_mutex_lock(&es->lock);
    drop_idle_locked(es, &dead);
    for (struct listener *r = es->listeners; r; r = r->next) {
        if (!wants(r, type))
            continue;
        if (!r->active) {
            if (enqueue(r, event) < 0)
                svc_log("event queue of a passive listener is full; event dropped");
            continue;
        }
        if (n_active == cap) {
            cap = cap ? cap * 2 : 8;
            IEventListener **a = cap_realloc(active, cap * sizeof(*a));
            if (!a)
                break;
            active = a;
        }
        active[n_active++] = r->l;
        IEventListener_AddRef(r->l);
    }
    pthread_cond_broadcast(&es->cond);
    pthread_mutex_unlock(&es->lock);
    for (uint32_t i = 0; i < n_active; i++) {
        cap_result rc = IEventListener_HandleEvent(active[i], event);
        if (rc == CAP_E_IPC_DISCONNECTED || rc == CAP_E_SERVICE_UNAVAILABLE) {
            ISupports *id = identity(active[i]);
            pthread_mutex_lock(&es->lock);
            struct listener *r = id ? find_locked(es, id) : NULL;
            if (r) {
                unlink_locked(es, r);
                r->next = dead;
                dead = r;
            }
            pthread_mutex_unlock(&es->lock);
            if (id)
                ISupports_Release(id);
            svc_log("dropped an event listener whose client is gone");
        }
        IEventListener_Release(active[i]);
    }
    pthread_mutex_unlock(&es->deliver_lock);
    cap_free(active);
    while (dead) {
        struct listener *r = dead;
        dead = r->next;
        record_free(r);
    }
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
            *out = r->queue[r->q_head];
            r->q_head = (r->q_head + 1) % r->q_cap;
            r->q_len--;
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

cap_result event_source_create(struct event_source **out)
{
    struct event_source *es = cap_alloc_zero(sizeof(*es));
    *out = NULL;
    if (!es)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    es->IEventSource_iface.vtbl = &es_vtbl;
    cap_refcnt_init(&es->ref, 1);
    pthread_mutex_init(&es->lock, NULL);
    pthread_mutex_init(&es->deliver_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&es->cond, &ca);
    pthread_condattr_destroy(&ca);
    *out = es;
    return CAP_OK;
}

void event_source_set_caller_gone(struct event_source *es, int (*hook)(void))
{
    es->caller_gone = hook;
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

void event_source_shutdown(struct event_source *es)
{
    pthread_mutex_lock(&es->deliver_lock);
    pthread_mutex_lock(&es->lock);
    struct listener *all = es->listeners;
    es->listeners = NULL;
    pthread_cond_broadcast(&es->cond);
    pthread_mutex_unlock(&es->lock);
    pthread_mutex_unlock(&es->deliver_lock);
    while (all) {
        struct listener *r = all;
        all = r->next;
        record_free(r);
    }
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

void events_fire(struct event_source *es, EventType type, const struct event_args *args)
{
    IEvent *e = NULL;
    if (!es)
        return;
    if (CAP_FAILED(event_create(&es->IEventSource_iface, type, args, &e))) {
        svc_log("cannot create an event of type %d", (int)type);
        return;
    }
    es_FireEvent(&es->IEventSource_iface, e, 0, NULL);
    IEvent_Release(e);
}

void events_machine_state(struct event_source *es, const cap_uuid *id, MachineState s)
{
    struct event_args a = {.machine_id = *id, .state = s};
    events_fire(es, EventType_OnMachineStateChanged, &a);
}

void events_session_state(struct event_source *es, const cap_uuid *id, SessionState s)
{
    struct event_args a = {.machine_id = *id, .state = s};
    events_fire(es, EventType_OnSessionStateChanged, &a);
}

void events_machine_data(struct event_source *es, const cap_uuid *id)
{
    struct event_args a = {.machine_id = *id};
    events_fire(es, EventType_OnMachineDataChanged, &a);
}

void events_machine_registered(struct event_source *es, const cap_uuid *id, int registered)
{
    struct event_args a = {.machine_id = *id, .registered = registered ? CAP_TRUE : CAP_FALSE};
    events_fire(es, EventType_OnMachineRegistered, &a);
}

void events_extra_data(struct event_source *es, const cap_uuid *id, const char *key,
                       const char *value)
{
    struct event_args a = {.key = key, .value = value};
    if (id)
        a.machine_id = *id;
    events_fire(es, EventType_OnExtraDataChanged, &a);
}
