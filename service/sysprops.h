/*
 * service/sysprops.h - ISystemProperties (sysprops.c): this build's limits
 * and the global defaults kept in capsule.xml (the registry's global
 * settings).
 *
 * Layer: above the registry; used by the root object.
 */
#ifndef CAPSULE_SVC_SYSPROPS_H
#define CAPSULE_SVC_SYSPROPS_H

#include "core.h"

struct registry;

/* A new ISystemProperties of this service (refcount 1, the caller's). */
cap_result sysprops_create(struct svc_core *core, ISystemProperties **out);
/* serviceIdleTimeout in ms (0 = never): CAPSULE_SVC_IDLE_TIMEOUT, else the
 * global setting. Takes the service lock itself. */
uint32_t sysprops_idle_timeout(struct registry *r);

#endif /* CAPSULE_SVC_SYSPROPS_H */
