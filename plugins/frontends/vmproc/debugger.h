/*
 * plugins/frontends/vmproc/debugger.h - IMachineDebugger of the VM
 * process (debugger.c): the engine in use and why, the VM's statistics
 * (getStats, resetStats); the rest says it is not available yet.
 *
 * The debugger is an interface of its owner's object (the console,
 * console.c): it shares the owner's identity and reference count and
 * reaches the VM only through the owner's hooks, so that debugger.c
 * depends on nothing of the console and the console owns the debugger
 * (one way: console.c -> debugger.c).
 */
#ifndef PLUGINS_FRONTENDS_VMPROC_DEBUGGER_H
#define PLUGINS_FRONTENDS_VMPROC_DEBUGGER_H

#include <capsule/capsule.h>

#include "vmproc.h"

struct debugger;

/* What the owner gives the debugger; each hook gets the debugger it was
 * given to (the owner finds itself with CAP_CONTAINER_OF). */
struct debugger_owner {
    /* ISupports of the owner's object. */
    cap_result (*query_interface)(struct debugger *d, const cap_uuid *iid, void **out);
    uint32_t (*add_ref)(struct debugger *d);
    uint32_t (*release)(struct debugger *d);
    /* The VM while it runs, is paused or stuck, else NULL. It stays valid
     * as long as the owner's object lives (the caller holds a reference:
     * it is in a method of the object). */
    struct vmproc *(*running_vm)(struct debugger *d);
};

/* Embedded in the owner's object; debugger_init before first use. */
struct debugger {
    IMachineDebugger IMachineDebugger_iface;
    const struct debugger_owner *owner;
};

void debugger_init(struct debugger *d, const struct debugger_owner *owner);

#endif /* PLUGINS_FRONTENDS_VMPROC_DEBUGGER_H */
