/*
 * service/event_types.c - the event objects: IEvent and the interfaces
 * derived from it (IMachineEvent, IMachineStateChangedEvent, ...).
 *
 * One struct serves every event type. Its one interface member carries the
 * vtable of the event's most derived interface; since a derived interface's
 * vtable starts with its base's slots, that one member answers
 * QueryInterface for every interface up the chain (IEvent, IMachineEvent,
 * the concrete one), listed in a per-type table. The thin wrappers below
 * only exist to give each vtable slot its exact C type.
 *
 * The events_* helpers at the end build one of the service's events and
 * fire it at its event source (events.c), which queues it and returns.
 *
 * The events of this version are not waitable: setProcessed does nothing
 * and waitProcessed returns true at once.
 */
#include <capsule/mem.h>
#include <capsule/object.h>
#include <pthread.h>

#include "events.h"
#include "util.h"

struct event {
    IEvent IEvent_iface; /* vtbl of the most derived interface */
    cap_refcnt ref;
    EventType type;
    IEventSource *source; /* strong */
    cap_uuid machine_id;
    int32_t state;
    cap_bool registered;
    char *key, *value;
    int32_t device;
    cap_uuid medium_id;
};

static struct event *impl(void *iface)
{
    return CAP_CONTAINER_OF((IEvent *)iface, struct event, IEvent_iface);
}

#define QI_TABLE(name, ...)                                                                        \
    static const struct cap_qi_entry name[] = {__VA_ARGS__ CAP_QI_END};
#define E(iid) CAP_QI_ENTRY(iid, struct event, IEvent_iface),

QI_TABLE(qi_state, E(IID_IMachineStateChangedEvent) E(IID_IMachineEvent) E(IID_IEvent))
QI_TABLE(qi_data, E(IID_IMachineDataChangedEvent) E(IID_IMachineEvent) E(IID_IEvent))
QI_TABLE(qi_reg, E(IID_IMachineRegisteredEvent) E(IID_IMachineEvent) E(IID_IEvent))
QI_TABLE(qi_session, E(IID_ISessionStateChangedEvent) E(IID_IMachineEvent) E(IID_IEvent))
QI_TABLE(qi_extra, E(IID_IExtraDataChangedEvent) E(IID_IEvent))
QI_TABLE(qi_medium, E(IID_IMediumChangedEvent) E(IID_IMachineEvent) E(IID_IEvent))

static cap_result ev_qi(void *self, const cap_uuid *iid, void **out)
{
    struct event *e = impl(self);
    const struct cap_qi_entry *t = qi_state;
    switch (e->type) {
    case EventType_OnMachineDataChanged: t = qi_data; break;
    case EventType_OnMachineRegistered: t = qi_reg; break;
    case EventType_OnSessionStateChanged: t = qi_session; break;
    case EventType_OnExtraDataChanged: t = qi_extra; break;
    case EventType_OnMediumChanged:
        t = qi_medium;
        break;
    default: break;
    }
    return cap_qi_table(e, t, iid, out);
}

static uint32_t ev_addref(void *self)
{
    return cap_refcnt_inc(&impl(self)->ref);
}

static uint32_t ev_release(void *self)
{
    struct event *e = impl(self);
    uint32_t n = cap_refcnt_dec(&e->ref);
    if (n == 0) {
        if (e->source)
            IEventSource_Release(e->source);
        cap_str_free(e->key);
        cap_str_free(e->value);
        cap_free(e);
    }
    return n;
}

static cap_result ev_type(void *self, EventType *out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = impl(self)->type;
    return CAP_OK;
}

static cap_result ev_source(void *self, IEventSource **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = impl(self)->source;
    IEventSource_AddRef(*out);
    return CAP_OK;
}

static cap_result ev_waitable(void *self, cap_bool *out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = CAP_FALSE;
    return CAP_OK;
}

static cap_result ev_set_processed(void *self)
{
    return CAP_OK;
}

static cap_result ev_wait_processed(void *self, int32_t timeout, cap_bool *out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = CAP_TRUE;
    return CAP_OK;
}

static cap_result ev_machine_id(void *self, cap_uuid *out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = impl(self)->machine_id;
    return CAP_OK;
}

/* The IEvent slots for interface T, as functions named pfx_*. */
#define EVENT_BASE(T, pfx)                                                                         \
    static cap_result pfx##_qi(T *s, const cap_uuid *i, void **o) { return ev_qi(s, i, o); }       \
    static uint32_t pfx##_addref(T *s) { return ev_addref(s); }                                    \
    static uint32_t pfx##_release(T *s) { return ev_release(s); }                                  \
    static cap_result pfx##_type(T *s, EventType *o) { return ev_type(s, o); }                     \
    static cap_result pfx##_source(T *s, IEventSource **o) { return ev_source(s, o); }             \
    static cap_result pfx##_waitable(T *s, cap_bool *o) { return ev_waitable(s, o); }              \
    static cap_result pfx##_setp(T *s) { return ev_set_processed(s); }                             \
    static cap_result pfx##_waitp(T *s, int32_t t, cap_bool *o) { return ev_wait_processed(s, t, o); }
#define EVENT_MACHINE(T, pfx)                                                                      \
    EVENT_BASE(T, pfx)                                                                             \
    static cap_result pfx##_mid(T *s, cap_uuid *o) { return ev_machine_id(s, o); }
#define BASE_SLOTS(pfx)                                                                            \
    .QueryInterface = pfx##_qi, .AddRef = pfx##_addref, .Release = pfx##_release,                  \
    .GetType = pfx##_type, .GetSource = pfx##_source, .GetWaitable = pfx##_waitable,               \
    .SetProcessed = pfx##_setp, .WaitProcessed = pfx##_waitp
#define MACHINE_SLOTS(pfx) BASE_SLOTS(pfx), .GetMachineId = pfx##_mid

/* clang-format off */
EVENT_MACHINE(IMachineStateChangedEvent, msc)
EVENT_MACHINE(IMachineDataChangedEvent, mdc)
EVENT_MACHINE(IMachineRegisteredEvent, mre)
EVENT_MACHINE(ISessionStateChangedEvent, ssc)
EVENT_BASE(IExtraDataChangedEvent, edc)
EVENT_MACHINE(IMediumChangedEvent, mch)
/* clang-format on */

static cap_result msc_state(IMachineStateChangedEvent *s, MachineState *o)
{
    if (!o)
        return CAP_E_POINTER;
    *o = (MachineState)impl(s)->state;
    return CAP_OK;
}

static cap_result ssc_state(ISessionStateChangedEvent *s, SessionState *o)
{
    if (!o)
        return CAP_E_POINTER;
    *o = (SessionState)impl(s)->state;
    return CAP_OK;
}

static cap_result mre_registered(IMachineRegisteredEvent *s, cap_bool *o)
{
    if (!o)
        return CAP_E_POINTER;
    *o = impl(s)->registered;
    return CAP_OK;
}

static cap_result edc_mid(IExtraDataChangedEvent *s, cap_uuid *o)
{
    return ev_machine_id(s, o);
}

static cap_result edc_key(IExtraDataChangedEvent *s, char **o)
{
    return svc_return_str(impl(s)->key, o);
}

static cap_result edc_value(IExtraDataChangedEvent *s, char **o)
{
    return svc_return_str(impl(s)->value, o);
}

static cap_result mch_controller(IMediumChangedEvent *s, char **o)
{
    return svc_return_str(impl(s)->key, o);
}

static cap_result mch_port(IMediumChangedEvent *s, int32_t *o)
{
    if (!o)
        return CAP_E_POINTER;
    *o = impl(s)->state;
    return CAP_OK;
}

static cap_result mch_device(IMediumChangedEvent *s, int32_t *o)
{
    if (!o)
        return CAP_E_POINTER;
    *o = impl(s)->device;
    return CAP_OK;
}

static cap_result mch_medium(IMediumChangedEvent *s, cap_uuid *o)
{
    if (!o)
        return CAP_E_POINTER;
    *o = impl(s)->medium_id;
    return CAP_OK;
}

static const struct IMachineStateChangedEventVtbl msc_vtbl = {MACHINE_SLOTS(msc),
                                                             .GetState = msc_state};
static const struct IMachineDataChangedEventVtbl mdc_vtbl = {MACHINE_SLOTS(mdc)};
static const struct IMachineRegisteredEventVtbl mre_vtbl = {MACHINE_SLOTS(mre),
                                                           .GetRegistered = mre_registered};
static const struct ISessionStateChangedEventVtbl ssc_vtbl = {MACHINE_SLOTS(ssc),
                                                             .GetState = ssc_state};
static const struct IExtraDataChangedEventVtbl edc_vtbl = {
    BASE_SLOTS(edc), .GetMachineId = edc_mid, .GetKey = edc_key, .GetValue = edc_value};

static const struct IMediumChangedEventVtbl mch_vtbl = {
    MACHINE_SLOTS(mch), .GetController = mch_controller, .GetPort = mch_port,
    .GetDevice = mch_device, .GetMediumId = mch_medium};

cap_result event_create(IEventSource *source, EventType type, const struct event_args *args,
                        IEvent **out)
{
    const void *vtbl;
    *out = NULL;
    switch (type) {
    case EventType_OnMachineStateChanged: vtbl = &msc_vtbl; break;
    case EventType_OnMachineDataChanged: vtbl = &mdc_vtbl; break;
    case EventType_OnMachineRegistered: vtbl = &mre_vtbl; break;
    case EventType_OnSessionStateChanged: vtbl = &ssc_vtbl; break;
    case EventType_OnExtraDataChanged: vtbl = &edc_vtbl; break;
    case EventType_OnMediumChanged:
        vtbl = &mch_vtbl;
        break;
    default:
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, "IEventSource",
                             "no event type %d", (int)type);
    }
    struct event *e = cap_alloc_zero(sizeof(*e));
    if (!e)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    e->IEvent_iface.vtbl = vtbl;
    cap_refcnt_init(&e->ref, 1);
    e->type = type;
    e->source = source;
    IEventSource_AddRef(source);
    e->machine_id = args->machine_id;
    e->state = args->state;
    e->registered = args->registered;
    e->device = args->device;
    e->medium_id = args->medium_id;
    e->key = cap_str_dup(args->key ? args->key : "");
    e->value = cap_str_dup(args->value ? args->value : "");
    if (!e->key || !e->value) {
        ev_release(e);
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    }
    *out = &e->IEvent_iface;
    return CAP_OK;
}

/* ---- firing the service's events (events.h) ---------------------- */

void events_fire(struct event_source *es, EventType type, const struct event_args *args)
{
    IEvent *e = NULL;
    if (!es)
        return;
    if (CAP_FAILED(event_create(event_source_iface(es), type, args, &e))) {
        svc_log("cannot create an event of type %d", (int)type);
        return;
    }
    IEventSource_FireEvent(event_source_iface(es), e, 0, NULL);
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

void events_medium_changed(struct event_source *es, const cap_uuid *id, const char *ctl,
                           int32_t port, int32_t device, const cap_uuid *medium)
{
    struct event_args a = {
        .machine_id = *id, .state = port, .device = device, .key = ctl, .medium_id = *medium};
    events_fire(es, EventType_OnMediumChanged, &a);
}
