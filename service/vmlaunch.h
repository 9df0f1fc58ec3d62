/*
 * service/vmlaunch.h - launching a machine's VM process (IMachine's
 * launchVMProcess) and its report back (IInternalMachineControl's
 * endPowerUp); vmlaunch.c describes the managed flow.
 *
 * Layer: above the session machine (a VM process that dies holding its
 * lock ends it through session_holder_died); below the objects. Takes the
 * service lock itself; calls sessions without it.
 */
#ifndef CAPSULE_SVC_VMLAUNCH_H
#define CAPSULE_SVC_VMLAUNCH_H

#include "machine.h"

/* launchVMProcess of machine p for `session` (unlocked) with frontend
 * `type` ("" or NULL: the default) and environment changes env
 * ("NAME=VALUE" sets, "NAME" removes): claims the machine (Starting),
 * spawns capsule-vm and returns the launch progress in *out. */
cap_result vmlaunch_start(struct machine *p, ISession *session, const char *type, uint32_t n_env,
                          char *const *env, IProgress **out);
/* IInternalMachineControl's endPowerUp on machine object m (the VM
 * process's session machine). */
cap_result vmlaunch_end_power_up(struct machine_obj *m, cap_result result, const char *message);

#endif /* CAPSULE_SVC_VMLAUNCH_H */
