/*
 * service/core.h - the small state every part of the service shares, one
 * per service (CAPSULE_HOME): the service lock, the home folder, the event
 * source, the IPC connection of the call being served, and handles to the
 * parts above (set once by svc_create, never changed). It depends on
 * nothing of the service but util.h and events.h; every other part
 * includes it.
 *
 * Locking: `lock` (recursive) guards the registry (machine list, global
 * settings) and every machine's data. It is never held while calling out
 * of the service's own objects (a session or event listener may live in a
 * client process, reached over IPC), so events are fired and sessions told
 * after it is dropped. Progress objects and the event source have their own
 * locks, taken after (never before) this one.
 *
 * Lifetime: the core is embedded in the root object (ICapsule, svc.c) and
 * lives as long as it; an object that keeps a core pointer holds the root
 * (svc_core_hold / svc_core_drop). Parent/child reference cycles (root ->
 * registered machines -> root) are broken by svc_uninit.
 */
#ifndef CAPSULE_SVC_CORE_H
#define CAPSULE_SVC_CORE_H

#include <pthread.h>

#include <capsule/capsule.h>

#include "events.h"
#include "util.h"

struct registry; /* registry.h: the machines (and, later, media) and capsule.xml */

struct svc_core {
    ICapsule *root;              /* the object this core lives in (set at create) */
    pthread_mutex_t lock;        /* recursive; see above */
    char *home;                  /* CAPSULE_HOME, absolute (set at create) */
    struct event_source *events; /* strong (set at create) */
    struct registry *registry;   /* the root's (set at create) */
    /* How machine objects are built: the IMachine and
     * IInternalMachineControl vtables (imachine.c), set at create, so that
     * the lower parts that create machines do not depend on the object
     * layer. */
    const struct IMachineVtbl *machine_vtbl;
    const struct IInternalMachineControlVtbl *control_vtbl;
    const struct IMediumVtbl *medium_vtbl; /* imedium.c's, for medium.c */
    uint64_t (*conn_hook)(void);           /* the IPC connection of the current call */
    int uninited;                          /* under lock: svc_uninit ran */
    uint32_t media_jobs;                   /* under lock: media jobs running (imedium.c) */
};

/* Initialises the lock and copies home; CAP_E_OUTOFMEMORY. */
cap_result svc_core_init(struct svc_core *c, ICapsule *root, const char *home);
/* Frees what init made (accepts a zeroed or half-initialised core). */
void svc_core_fini(struct svc_core *c);

void svc_core_lock(struct svc_core *c);
void svc_core_unlock(struct svc_core *c);
/* The IPC connection id of the call being served, 0 if none/in-process. */
uint64_t svc_core_current_conn(struct svc_core *c);
/* Keeps c (its root) alive / lets it go. */
void svc_core_hold(struct svc_core *c);
void svc_core_drop(struct svc_core *c);

#endif /* CAPSULE_SVC_CORE_H */
