/*
 * service/imachine.h - the IMachine and IInternalMachineControl methods of
 * every machine object (imachine.c). The vtables reach the lower parts
 * through the core (svc_core's machine_vtbl / control_vtbl), so that the
 * parts that create machine objects need not include this header.
 *
 * Layer: the object layer, above machine, registry, session machine,
 * vmlaunch and serial ports; used by the root object (svc.c, capsule.c).
 */
#ifndef CAPSULE_SVC_IMACHINE_H
#define CAPSULE_SVC_IMACHINE_H

#include "machine.h"

extern const struct IMachineVtbl imachine_vtbl;
extern const struct IInternalMachineControlVtbl imachine_control_vtbl;

/* The registered-or-new machine behind iface if it is one of ours (vtable
 * compare; a session's copy gives NULL), else NULL. */
struct machine *machine_from_foreign(IMachine *iface);

#endif /* CAPSULE_SVC_IMACHINE_H */
