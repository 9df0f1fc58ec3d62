/*
 * tests/unit/service/test_events.c - the event source (passive and active
 * listeners, filters, order, a waiting getEvent whose caller is gone) and
 * IProgress (waiting across threads).
 */
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <capsule/ipc.h> /* CAP_E_IPC_DISCONNECTED */
#include <capsule/object.h>
#include <capsule/uuid.h>

#include "svc_test.h"

static IEvent *next_event(IEventSource *es, IEventListener *l, EventType want)
{
    IEvent *e = NULL;
    ck_assert_int_eq(IEventSource_GetEvent(es, l, 1000, &e), CAP_OK);
    ck_assert_ptr_nonnull(e);
    EventType t;
    IEvent_GetType(e, &t);
    ck_assert_int_eq(t, want);
    ck_assert_int_eq(IEventSource_EventProcessed(es, l, e), CAP_OK);
    return e;
}

START_TEST(test_passive)
{
    IEventSource *es = NULL;
    IEventListener *l = NULL;
    ck_assert_int_eq(ICapsule_GetEventSource(capsule, &es), CAP_OK);
    ck_assert_int_eq(IEventSource_CreateListener(es, &l), CAP_OK);
    EventType any[] = {EventType_Any};
    ck_assert_int_eq(IEventSource_RegisterListener(es, l, 0, any, CAP_FALSE), CAP_E_INVALIDARG);
    ck_assert_int_eq(IEventSource_RegisterListener(es, l, 1, any, CAP_FALSE), CAP_OK);
    ck_assert_int_eq(IEventSource_RegisterListener(es, l, 1, any, CAP_FALSE), CAP_E_OBJECT_EXISTS);
    IEvent *e = NULL;
    ck_assert_int_eq(IEventSource_GetEvent(es, l, 0, &e), CAP_OK);
    ck_assert_ptr_null(e);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(IEventSource_GetEvent(es, l, 100, &e), CAP_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_ptr_null(e);
    ck_assert_int_ge((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000, 90);

    IMachine *m = make_machine("ev");
    cap_uuid id, got;
    IMachine_GetId(m, &id);
    e = next_event(es, l, EventType_OnMachineRegistered);
    IMachineRegisteredEvent *re = NULL;
    ck_assert_int_eq(CAP_QI(e, &IID_IMachineRegisteredEvent, &re), CAP_OK);
    cap_bool reg = CAP_FALSE;
    IMachineRegisteredEvent_GetRegistered(re, &reg);
    ck_assert(reg);
    IMachineRegisteredEvent_GetMachineId(re, &got);
    ck_assert(cap_uuid_equal(&got, &id));
    IMachineRegisteredEvent_Release(re);
    IMachineEvent *me = NULL;
    ck_assert_int_eq(CAP_QI(e, &IID_IMachineEvent, &me), CAP_OK);
    IMachineEvent_Release(me);
    IExtraDataChangedEvent *xe = NULL;
    ck_assert_int_eq(CAP_QI(e, &IID_IExtraDataChangedEvent, &xe), CAP_E_NOINTERFACE);
    IEvent_Release(e);

    /* modify: session locked, data changed, session unlocked, in order. */
    ISession *s = new_session();
    IMachine *sm = NULL;
    IMachine_LockMachine(m, s, LockType_Write);
    ISession_GetMachine(s, &sm);
    ck_assert_int_eq(IMachine_SetMemorySize(sm, 96), CAP_OK);
    IMachine_SaveSettings(sm);
    ISession_UnlockMachine(s);
    IMachine_Release(sm);
    ISession_Release(s);
    e = next_event(es, l, EventType_OnSessionStateChanged);
    ISessionStateChangedEvent *se = NULL;
    CAP_QI(e, &IID_ISessionStateChangedEvent, &se);
    SessionState ss;
    ISessionStateChangedEvent_GetState(se, &ss);
    ck_assert_int_eq(ss, SessionState_Locked);
    ISessionStateChangedEvent_Release(se);
    IEvent_Release(e);
    IEvent_Release(next_event(es, l, EventType_OnMachineDataChanged));
    IEvent_Release(next_event(es, l, EventType_OnSessionStateChanged));

    ck_assert_int_eq(ICapsule_SetExtraData(capsule, "k", "v"), CAP_OK);
    e = next_event(es, l, EventType_OnExtraDataChanged);
    CAP_QI(e, &IID_IExtraDataChangedEvent, &xe);
    char *key = NULL;
    IExtraDataChangedEvent_GetKey(xe, &key);
    ck_assert_str_eq(key, "k");
    cap_str_free(key);
    IExtraDataChangedEvent_GetMachineId(xe, &got);
    ck_assert(cap_uuid_is_null(&got));
    IExtraDataChangedEvent_Release(xe);
    IEvent_Release(e);

    ck_assert_int_eq(IEventSource_UnregisterListener(es, l), CAP_OK);
    ck_assert_int_eq(IEventSource_UnregisterListener(es, l), CAP_E_OBJECT_NOT_FOUND);
    ck_assert_int_eq(IEventSource_GetEvent(es, l, 0, &e), CAP_E_OBJECT_NOT_FOUND);
    IEventListener_Release(l);
    IEventSource_Release(es);
    IMachine_Release(m);
}
END_TEST

/* An active listener implemented by the test. */
struct counter {
    IEventListener IEventListener_iface;
    cap_refcnt ref;
    int n;
    MachineState last;
};

static struct counter *counter_impl(IEventListener *i)
{
    return CAP_CONTAINER_OF(i, struct counter, IEventListener_iface);
}

static const struct cap_qi_entry counter_qi[] = {
    CAP_QI_ENTRY(IID_IEventListener, struct counter, IEventListener_iface),
    CAP_QI_END,
};

static cap_result cnt_qi(IEventListener *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(counter_impl(self), counter_qi, iid, out);
}

static uint32_t cnt_addref(IEventListener *self)
{
    return cap_refcnt_inc(&counter_impl(self)->ref);
}

static uint32_t cnt_release(IEventListener *self)
{
    return cap_refcnt_dec(&counter_impl(self)->ref); /* lives on the stack */
}

static cap_result cnt_handle(IEventListener *self, IEvent *e)
{
    struct counter *c = counter_impl(self);
    IMachineStateChangedEvent *sc = NULL;
    ck_assert_int_eq(CAP_QI(e, &IID_IMachineStateChangedEvent, &sc), CAP_OK);
    IMachineStateChangedEvent_GetState(sc, &c->last);
    IMachineStateChangedEvent_Release(sc);
    __atomic_add_fetch(&c->n, 1, __ATOMIC_RELEASE);
    return CAP_OK;
}

/* Waits (at most 5 s) until c has seen n events. */
static void wait_count(struct counter *c, int n)
{
    for (int i = 0; i < 2500 && __atomic_load_n(&c->n, __ATOMIC_ACQUIRE) < n; i++)
        usleep(2000);
    ck_assert_int_eq(__atomic_load_n(&c->n, __ATOMIC_ACQUIRE), n);
}

static const struct IEventListenerVtbl cnt_vtbl = {
    .QueryInterface = cnt_qi, .AddRef = cnt_addref, .Release = cnt_release,
    .HandleEvent = cnt_handle,
};

START_TEST(test_active)
{
    struct counter c = {.IEventListener_iface.vtbl = &cnt_vtbl};
    cap_refcnt_init(&c.ref, 1);
    IEventSource *es = NULL;
    ICapsule_GetEventSource(capsule, &es);
    EventType types[] = {EventType_OnMachineStateChanged};
    ck_assert_int_eq(IEventSource_RegisterListener(es, &c.IEventListener_iface, 1, types,
                                                   CAP_TRUE), CAP_OK);
    IEvent *e = NULL;
    ck_assert_int_eq(IEventSource_GetEvent(es, &c.IEventListener_iface, 0, &e), CAP_E_INVALIDARG);
    IMachine *m = make_machine("active"); /* registered event: filtered out */
    ck_assert_int_eq(c.n, 0);
    ISession *s = new_session();
    IMachine_LockMachine(m, s, LockType_VM);
    IMachine *sm = NULL;
    ISession_GetMachine(s, &sm);
    IInternalMachineControl *ctl = NULL;
    CAP_QI(sm, &IID_IInternalMachineControl, &ctl);
    /* Delivered by the listener's own thread, in order, soon. */
    IInternalMachineControl_UpdateState(ctl, MachineState_Running);
    wait_count(&c, 1);
    ck_assert_int_eq(c.last, MachineState_Running);
    IInternalMachineControl_UpdateState(ctl, MachineState_PoweredOff);
    wait_count(&c, 2);
    ck_assert_int_eq(c.last, MachineState_PoweredOff);
    ISession_UnlockMachine(s);
    for (int i = 0; i < 2500 && event_source_delivery_threads(svc_events(test_svc)); i++)
        usleep(2000);
    ck_assert_int_eq(IEventSource_UnregisterListener(es, &c.IEventListener_iface), CAP_OK);
    ck_assert_uint_eq(cap_refcnt_get(&c.ref), 1);
    IInternalMachineControl_Release(ctl);
    IMachine_Release(sm);
    ISession_Release(s);
    IMachine_Release(m);
    IEventSource_Release(es);
}
END_TEST

static void *finish_later(void *arg)
{
    struct progress *p = arg;
    usleep(50000);
    progress_next_op(p, "second");
    usleep(50000);
    struct cap_error_info ei = {.result = CAP_E_VM_ERROR, .message = (char *)"it broke"};
    progress_complete(p, CAP_E_VM_ERROR, &ei);
    return NULL;
}

START_TEST(test_progress)
{
    struct progress *p = NULL;
    ck_assert_int_eq(progress_create("Testing", NULL, CAP_TRUE, 2, "first", &p), CAP_OK);
    IProgress *ip = progress_iface(p);
    cap_bool done = CAP_TRUE;
    int32_t rc = 0;
    IProgress_GetCompleted(ip, &done);
    ck_assert(!done);
    ck_assert_int_eq(IProgress_GetResultCode(ip, &rc), CAP_E_INVALID_OBJECT_STATE);
    ck_assert_int_eq(IProgress_WaitForCompletion(ip, 0), CAP_OK);
    ck_assert_int_eq(IProgress_WaitForOperationCompletion(ip, 2, 0), CAP_E_INVALIDARG);
    pthread_t t;
    pthread_create(&t, NULL, finish_later, p);
    ck_assert_int_eq(IProgress_WaitForOperationCompletion(ip, 0, 5000), CAP_OK);
    uint32_t op = 0;
    IProgress_GetOperation(ip, &op);
    ck_assert_uint_ge(op, 1);
    ck_assert_int_eq(IProgress_WaitForCompletion(ip, -1), CAP_OK);
    pthread_join(t, NULL);
    IProgress_GetCompleted(ip, &done);
    ck_assert(done);
    ck_assert_int_eq(IProgress_GetResultCode(ip, &rc), CAP_OK);
    ck_assert_int_eq(rc, CAP_E_VM_ERROR);
    IErrorInfo *ei = NULL;
    ck_assert_int_eq(IProgress_GetErrorInfo(ip, &ei), CAP_OK);
    char *msg = NULL;
    IErrorInfo_GetMessage(ei, &msg);
    ck_assert_str_eq(msg, "it broke");
    cap_str_free(msg);
    IErrorInfo_Release(ei);
    uint32_t pct = 0;
    IProgress_GetPercent(ip, &pct);
    ck_assert_uint_eq(pct, 100);
    ck_assert_int_eq(IProgress_Cancel(ip), CAP_OK); /* completed: nothing */
    progress_release(p);
    /* Cancel of a cancelable one. */
    ck_assert_int_eq(progress_create("c", NULL, CAP_FALSE, 1, "x", &p), CAP_OK);
    ck_assert_int_eq(IProgress_Cancel(progress_iface(p)), CAP_E_INVALID_OBJECT_STATE);
    progress_complete(p, CAP_E_ABORT, NULL);
    cap_bool canceled = CAP_FALSE;
    IProgress_GetCanceled(progress_iface(p), &canceled);
    ck_assert(canceled);
    progress_release(p);
}
END_TEST

static volatile int caller_gone_flag;
static int caller_gone(void)
{
    return caller_gone_flag;
}

static void *gone_later(void *arg)
{
    usleep(100000);
    caller_gone_flag = 1;
    return NULL;
}

/* A getEvent waiting forever ends once its caller is gone (capsule-svc's
 * hook says so when the client's connection ends), so the IPC teardown
 * that releases the dead client's handles is not held up. */
START_TEST(test_caller_gone)
{
    IEventSource *es = NULL;
    IEventListener *l = NULL;
    IEvent *e = NULL;
    EventType any = EventType_Any;
    ck_assert_int_eq(ICapsule_GetEventSource(capsule, &es), CAP_OK);
    ck_assert_int_eq(IEventSource_CreateListener(es, &l), CAP_OK);
    ck_assert_int_eq(IEventSource_RegisterListener(es, l, 1, &any, CAP_FALSE), CAP_OK);
    caller_gone_flag = 0;
    svc_set_caller_gone_hook(test_svc, caller_gone);
    ck_assert_int_eq(IEventSource_GetEvent(es, l, 50, &e), CAP_OK); /* times out as before */
    ck_assert_ptr_null(e);
    pthread_t t;
    pthread_create(&t, NULL, gone_later, NULL);
    ck_assert_int_eq(IEventSource_GetEvent(es, l, -1, &e), CAP_E_IPC_DISCONNECTED);
    ck_assert_ptr_null(e);
    pthread_join(t, NULL);
    svc_set_caller_gone_hook(test_svc, NULL);
    ck_assert_int_eq(IEventSource_UnregisterListener(es, l), CAP_OK);
    IEventListener_Release(l);
    IEventSource_Release(es);
}
END_TEST

TCase *tcase_events(void)
{
    TCase *tc = tcase_create("events");
    tcase_add_checked_fixture(tc, svc_setup, svc_teardown);
    tcase_add_test(tc, test_passive);
    tcase_add_test(tc, test_active);
    tcase_add_test(tc, test_progress);
    tcase_add_test(tc, test_caller_gone);
    return tc;
}
