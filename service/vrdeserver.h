/*
 * service/vrdeserver.h - IVRDEServer (vrdeserver.c): a view on a machine
 * object's remote display settings (struct vrde_cfg), mutable exactly when
 * the machine object is (machine_obj_mutable_locked), as ISerialPort.
 *
 * Layer: above the session machine (for the mutable check); below
 * imachine.c, which hands it out.
 */
#ifndef CAPSULE_SVC_VRDESERVER_H
#define CAPSULE_SVC_VRDESERVER_H

#include "machine.h"

/* The server object of m (m held). CAP_E_OUTOFMEMORY. */
cap_result vrdeserver_create(struct machine_obj *m, IVRDEServer **out);

#endif /* CAPSULE_SVC_VRDESERVER_H */
