/*
 * service/serialport.h - ISerialPort (serialport.c): a view on one UART
 * slot of a machine object's working settings, mutable exactly when the
 * machine object is (machine_obj_mutable_locked).
 *
 * Layer: above the session machine (for the mutable check); below
 * imachine.c, which hands the ports out.
 */
#ifndef CAPSULE_SVC_SERIALPORT_H
#define CAPSULE_SVC_SERIALPORT_H

#include "machine.h"

/* A port object for slot `slot` of m (m held); CAP_E_INVALIDARG for a
 * slot past SETTINGS_SERIAL_SLOTS. */
cap_result serialport_create(struct machine_obj *m, uint32_t slot, ISerialPort **out);

#endif /* CAPSULE_SVC_SERIALPORT_H */
