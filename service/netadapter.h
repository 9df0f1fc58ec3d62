/*
 * service/netadapter.h - INetworkAdapter and INATEngine (netadapter.c):
 * views on one network adapter slot of a machine object's settings
 * (struct nic_cfg), mutable exactly when the machine object is
 * (machine_obj_mutable_locked), as ISerialPort.
 *
 * Layer: above the session machine (for the mutable check) and the
 * registry (a generated MAC is unique among the registered machines);
 * below imachine.c, which hands the adapters out.
 */
#ifndef CAPSULE_SVC_NETADAPTER_H
#define CAPSULE_SVC_NETADAPTER_H

#include "machine.h"

/* The adapter object of m's slot (m held). CAP_E_INVALIDARG for a slot
 * not below SETTINGS_NIC_SLOTS, CAP_E_OUTOFMEMORY. */
cap_result netadapter_create(struct machine_obj *m, uint32_t slot, INetworkAdapter **out);

#endif /* CAPSULE_SVC_NETADAPTER_H */
