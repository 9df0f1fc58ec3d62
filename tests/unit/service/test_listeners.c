/*
 * tests/unit/service/test_listeners.c - event delivery that never waits for
 * a listener (issue 19 item 2): firing returns at once whatever a listener
 * does, each listener sees its events in order, a listener stalled in
 * handleEvent past the bound is dropped while the others go on, a queue
 * past its bound drops its listener (passive or active), and a listener may
 * unregister itself from inside handleEvent.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <capsule/object.h>

#include "svc_test.h"

#define N_ORDER 200

/* An active listener implemented by the test: records the keys of the
 * extra-data events it gets; with `stall` set its first call waits until
 * the test opens the gate; with `self_unregister` it unregisters itself. */
struct rec {
    IEventListener IEventListener_iface;
    cap_refcnt ref;
    pthread_mutex_t lock;
    pthread_cond_t cv;
    int stall, gate_open, in_call, self_unregister, slow_us;
    IEventSource *es; /* for self_unregister (borrowed) */
    int n;
    char keys[N_ORDER][8];
};

static struct rec *rec_impl(IEventListener *i)
{
    return CAP_CONTAINER_OF(i, struct rec, IEventListener_iface);
}

static const struct cap_qi_entry rec_qi_tab[] = {
    CAP_QI_ENTRY(IID_IEventListener, struct rec, IEventListener_iface),
    CAP_QI_END,
};

static cap_result rec_qi(IEventListener *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(rec_impl(self), rec_qi_tab, iid, out);
}

static uint32_t rec_addref(IEventListener *self)
{
    return cap_refcnt_inc(&rec_impl(self)->ref);
}

static uint32_t rec_release(IEventListener *self)
{
    return cap_refcnt_dec(&rec_impl(self)->ref); /* lives in the test */
}

static cap_result rec_handle(IEventListener *self, IEvent *e)
{
    struct rec *r = rec_impl(self);
    IExtraDataChangedEvent *xe = NULL;
    char *key = NULL;
    if (CAP_SUCCEEDED(CAP_QI(e, &IID_IExtraDataChangedEvent, &xe))) {
        IExtraDataChangedEvent_GetKey(xe, &key);
        IExtraDataChangedEvent_Release(xe);
    }
    if (r->slow_us)
        usleep((useconds_t)r->slow_us);
    pthread_mutex_lock(&r->lock);
    r->in_call = 1;
    pthread_cond_broadcast(&r->cv);
    while (r->stall && !r->gate_open)
        pthread_cond_wait(&r->cv, &r->lock);
    if (r->n < N_ORDER && key)
        snprintf(r->keys[r->n], sizeof(r->keys[0]), "%s", key);
    r->n++;
    r->in_call = 0;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->lock);
    cap_str_free(key);
    if (r->self_unregister)
        ck_assert_int_eq(IEventSource_UnregisterListener(r->es, self), CAP_OK);
    return CAP_OK;
}

static const struct IEventListenerVtbl rec_vtbl = {
    .QueryInterface = rec_qi, .AddRef = rec_addref, .Release = rec_release,
    .HandleEvent = rec_handle,
};

static void rec_init(struct rec *r)
{
    memset(r, 0, sizeof(*r));
    r->IEventListener_iface.vtbl = &rec_vtbl;
    cap_refcnt_init(&r->ref, 1);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cv, NULL);
}

static void rec_open_gate(struct rec *r)
{
    pthread_mutex_lock(&r->lock);
    r->gate_open = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->lock);
}

static int rec_count(struct rec *r)
{
    pthread_mutex_lock(&r->lock);
    int n = r->n;
    pthread_mutex_unlock(&r->lock);
    return n;
}

static int stalled_in_call(struct rec *r)
{
    pthread_mutex_lock(&r->lock);
    int in = r->in_call;
    pthread_mutex_unlock(&r->lock);
    return in;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls cond (an expression) for up to ms; the test fails past that. */
#define WAIT_FOR(cond, ms)                                                                         \
    do {                                                                                           \
        int64_t until_ = now_ms() + (ms);                                                          \
        while (!(cond) && now_ms() < until_)                                                       \
            usleep(2000);                                                                          \
        ck_assert_msg((cond), "timed out waiting for " #cond);                                     \
    } while (0)

static void fire_key(int i)
{
    char key[8];
    snprintf(key, sizeof(key), "%d", i);
    events_extra_data(svc_events(test_svc), NULL, key, "v");
}

static IEventSource *source(void)
{
    IEventSource *es = NULL;
    ck_assert_int_eq(ICapsule_GetEventSource(capsule, &es), CAP_OK);
    return es;
}

static void reg(IEventSource *es, IEventListener *l, cap_bool active)
{
    EventType any = EventType_Any;
    ck_assert_int_eq(IEventSource_RegisterListener(es, l, 1, &any, active), CAP_OK);
}

/* Asynchronous delivery keeps each listener's order, a slow one included. */
START_TEST(test_order)
{
    IEventSource *es = source();
    struct rec fast, slow;
    rec_init(&fast);
    rec_init(&slow);
    slow.slow_us = 500;
    reg(es, &fast.IEventListener_iface, CAP_TRUE);
    reg(es, &slow.IEventListener_iface, CAP_TRUE);
    for (int i = 0; i < N_ORDER; i++)
        fire_key(i);
    WAIT_FOR(rec_count(&fast) == N_ORDER && rec_count(&slow) == N_ORDER, 10000);
    for (int i = 0; i < N_ORDER; i++) {
        char want[8];
        snprintf(want, sizeof(want), "%d", i);
        ck_assert_str_eq(fast.keys[i], want);
        ck_assert_str_eq(slow.keys[i], want);
    }
    ck_assert_int_eq(IEventSource_UnregisterListener(es, &fast.IEventListener_iface), CAP_OK);
    ck_assert_int_eq(IEventSource_UnregisterListener(es, &slow.IEventListener_iface), CAP_OK);
    WAIT_FOR(event_source_delivery_threads(svc_events(test_svc)) == 0, 5000);
    ck_assert_uint_eq(cap_refcnt_get(&fast.ref), 1);
    ck_assert_uint_eq(cap_refcnt_get(&slow.ref), 1);
    IEventSource_Release(es);
}
END_TEST

/* A listener stalled in handleEvent: firing does not wait, the others get
 * every event in order, and the stalled one is dropped after the bound. */
START_TEST(test_stalled)
{
    struct event_source *src = svc_events(test_svc);
    event_source_set_limits(src, 300, 0);
    IEventSource *es = source();
    struct rec stalled, other;
    rec_init(&stalled);
    rec_init(&other);
    stalled.stall = 1;
    reg(es, &stalled.IEventListener_iface, CAP_TRUE);
    reg(es, &other.IEventListener_iface, CAP_TRUE);
    int64_t t0 = now_ms();
    fire_key(0);
    WAIT_FOR(stalled_in_call(&stalled), 2000);
    for (int i = 1; i < 10; i++)
        fire_key(i);
    ck_assert_int_lt(now_ms() - t0, 200); /* nothing waited for the stalled one */
    WAIT_FOR(rec_count(&other) == 10, 2000);
    ck_assert_str_eq(other.keys[9], "9");
    ck_assert_uint_eq(event_source_listener_count(src), 2); /* not yet: within the bound */
    WAIT_FOR(event_source_dropped_count(src) == 1, 3000);
    ck_assert_int_ge(now_ms() - t0, 290);
    ck_assert_uint_eq(event_source_listener_count(src), 1);
    ck_assert_int_eq(IEventSource_UnregisterListener(es, &stalled.IEventListener_iface),
                     CAP_E_OBJECT_NOT_FOUND);
    fire_key(10); /* the others still get events; the dropped one no more */
    WAIT_FOR(rec_count(&other) == 11, 2000);
    rec_open_gate(&stalled);
    WAIT_FOR(event_source_delivery_threads(src) == 0, 5000);
    ck_assert_int_eq(rec_count(&stalled), 1);
    ck_assert_uint_eq(cap_refcnt_get(&stalled.ref), 1); /* the source let go */
    ck_assert_int_eq(IEventSource_UnregisterListener(es, &other.IEventListener_iface), CAP_OK);
    IEventSource_Release(es);
}
END_TEST

/* Queues are bounded: a passive listener that does not poll and an active
 * one that does not answer are dropped once their queue is full. */
START_TEST(test_queue_bound)
{
    struct event_source *src = svc_events(test_svc);
    event_source_set_limits(src, 60000, 4);
    IEventSource *es = source();
    IEventListener *pl = NULL;
    ck_assert_int_eq(IEventSource_CreateListener(es, &pl), CAP_OK);
    reg(es, pl, CAP_FALSE);
    struct rec stalled;
    rec_init(&stalled);
    stalled.stall = 1;
    reg(es, &stalled.IEventListener_iface, CAP_TRUE);
    fire_key(0);
    WAIT_FOR(stalled_in_call(&stalled), 2000);
    for (int i = 1; i < 4; i++)
        fire_key(i);
    ck_assert_uint_eq(event_source_listener_count(src), 2);
    ck_assert_uint_eq(event_source_dropped_count(src), 0);
    fire_key(4); /* passive: a 5th waiting event; active: 1 in the call, 4 queued */
    ck_assert_uint_eq(event_source_dropped_count(src), 1);
    ck_assert_uint_eq(event_source_listener_count(src), 1);
    fire_key(5); /* active: a 5th queued event */
    ck_assert_uint_eq(event_source_dropped_count(src), 2);
    ck_assert_uint_eq(event_source_listener_count(src), 0);
    IEvent *e = NULL;
    ck_assert_int_eq(IEventSource_GetEvent(es, pl, 0, &e), CAP_E_OBJECT_NOT_FOUND);
    rec_open_gate(&stalled);
    WAIT_FOR(event_source_delivery_threads(src) == 0, 5000);
    ck_assert_int_eq(rec_count(&stalled), 1); /* the queued ones were freed, not delivered */
    IEventListener_Release(pl);
    IEventSource_Release(es);
}
END_TEST

/* A listener may unregister itself from inside handleEvent. */
START_TEST(test_self_unregister)
{
    IEventSource *es = source();
    struct rec r;
    rec_init(&r);
    r.self_unregister = 1;
    r.es = es;
    reg(es, &r.IEventListener_iface, CAP_TRUE);
    fire_key(0);
    fire_key(1);
    WAIT_FOR(event_source_delivery_threads(svc_events(test_svc)) == 0, 2000);
    ck_assert_int_eq(rec_count(&r), 1);
    ck_assert_uint_eq(event_source_listener_count(svc_events(test_svc)), 0);
    ck_assert_uint_eq(cap_refcnt_get(&r.ref), 1);
    IEventSource_Release(es);
}
END_TEST

TCase *tcase_listeners(void)
{
    TCase *tc = tcase_create("listeners");
    tcase_add_checked_fixture(tc, svc_setup, svc_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_order);
    tcase_add_test(tc, test_stalled);
    tcase_add_test(tc, test_queue_bound);
    tcase_add_test(tc, test_self_unregister);
    return tc;
}
