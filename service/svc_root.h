/*
 * service/svc_root.h - the root object of one service (struct svc behind
 * ICapsule): what capsule.c (the ICapsule interface) and svc.c (creating,
 * loading, shutting down, the hooks of svc.h) share, and nothing else
 * includes. It owns the core (core.h) and the registry (registry.h).
 *
 * Layer: the top of service/.
 */
#ifndef CAPSULE_SVC_ROOT_H
#define CAPSULE_SVC_ROOT_H

#include <capsule/object.h>
#include <capsule/registry.h>

#include "core.h"
#include "registry.h"
#include "svc.h"

struct svc {
    ICapsule ICapsule_iface;
    cap_refcnt ref;
    struct svc_core core;           /* its root is this object */
    struct registry registry;       /* machines, capsule.xml */
    struct cap_registry *reg;       /* [create] borrowed: the Host component */
    struct svc_ipc_stats ipc_stats; /* set before serving, cleared after (svc.h) */
};

struct svc *svc_from_ICapsule(ICapsule *iface);
/* The bare root object (capsule.c): refcount 1, core initialised for home
 * (lock, home; no events, empty registry). */
cap_result svc_create_object(const char *home, struct svc **out);

#endif /* CAPSULE_SVC_ROOT_H */
