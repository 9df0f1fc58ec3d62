/*
 * service/events.h - the service's event source (events.c: IEventSource,
 * listeners, delivery with bounds) and the events it fires (event_types.c).
 * Bottom layer: depends only on util.h; every upper part fires through
 * the events_* helpers after dropping the service lock.
 *
 * Threads: any. The event source has its own lock, taken after (never
 * before) the service lock; the events_* helpers must be called without
 * the service lock (a listener may live in a client process).
 */
#ifndef CAPSULE_SVC_EVENTS_H
#define CAPSULE_SVC_EVENTS_H

#include <capsule/capsule.h>

struct event_source;

cap_result event_source_create(struct event_source **out);
IEventSource *event_source_iface(struct event_source *es);
void event_source_release(struct event_source *es);
/* Drops every listener (service shutdown). */
void event_source_shutdown(struct event_source *es);
/* See svc_set_caller_gone_hook (svc.h); set before serving. */
void event_source_set_caller_gone(struct event_source *es, int (*hook)(void));
/* See svc_set_peer_hook (svc.h); set before serving. */
void event_source_set_peer_hook(struct event_source *es,
                                int (*hook)(uint64_t *conn_id, int32_t *pid));
/* Overrides the bounds read from the environment at create
 * (CAPSULE_SVC_LISTENER_TIMEOUT ms, CAPSULE_SVC_LISTENER_QUEUE events);
 * 0 keeps one. For the tests; any thread. */
void event_source_set_limits(struct event_source *es, uint32_t timeout_ms, uint32_t queue_max);
/* Number of registered listeners (tests). */
uint32_t event_source_listener_count(struct event_source *es);
/* Listeners dropped by a bound (timeout, full queue, idle, client gone). */
uint32_t event_source_dropped_count(struct event_source *es);
/* Delivery threads running (tests). */
uint32_t event_source_delivery_threads(struct event_source *es);

struct event_args {
    cap_uuid machine_id;
    int32_t state;  /* MachineState or SessionState; a medium change's port */
    int32_t device; /* a medium change's device */
    cap_bool registered;
    const char *key, *value; /* a medium change's controller in key */
    cap_uuid medium_id;      /* a medium change's medium (null: ejected) */
};
cap_result event_create(IEventSource *source, EventType type, const struct event_args *args,
                        IEvent **out);
/* Builds and fires one event; failures are logged, never returned. */
void events_fire(struct event_source *es, EventType type, const struct event_args *args);
void events_machine_state(struct event_source *es, const cap_uuid *id, MachineState s);
void events_session_state(struct event_source *es, const cap_uuid *id, SessionState s);
void events_machine_data(struct event_source *es, const cap_uuid *id);
void events_machine_registered(struct event_source *es, const cap_uuid *id, int registered);
/* A running VM's DVD drive (ctl, port, device) holds medium `medium` now
 * (the null UUID: empty). */
void events_medium_changed(struct event_source *es, const cap_uuid *id, const char *ctl,
                           int32_t port, int32_t device, const cap_uuid *medium);
void events_extra_data(struct event_source *es, const cap_uuid *id, const char *key,
                       const char *value);

#endif /* CAPSULE_SVC_EVENTS_H */
