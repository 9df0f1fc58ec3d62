/*
 * service/imedium.h - the IMedium methods (imedium.c) and the media side of
 * ICapsule (createMedium, openMedium, findMedium, hardDisks, dvdImages),
 * which the root object's capsule.c calls. The vtable reaches medium.c
 * through the core (svc_core's medium_vtbl).
 *
 * Background work (createBaseStorage, deleteStorage, cloneTo) runs on a
 * thread of its own and reports through an IProgress (progress.h); the
 * medium is marked busy meanwhile, so that it cannot be closed or used by
 * another job. Image files are made, read and removed through vd.h (and
 * unlink) only, never under the service lock.
 *
 * Layer: the object layer, above medium and registry; used by the root.
 */
#ifndef CAPSULE_SVC_IMEDIUM_H
#define CAPSULE_SVC_IMEDIUM_H

#include "medium.h"

extern const struct IMediumVtbl imedium_vtbl;

/* The medium behind iface if it is one of ours (vtable compare), else NULL. */
struct medium *medium_from_foreign(IMedium *iface);

/* ICapsule's hardDisks (HardDisk) and dvdImages (DVD). */
cap_result imedium_list(struct svc_core *core, DeviceType type, uint32_t *n, IMedium ***out);
/* ICapsule's createMedium, openMedium and findMedium (see capsule.xidl). */
cap_result imedium_create(struct svc_core *core, const char *format, const char *location,
                          AccessMode access, DeviceType type, IMedium **out);
cap_result imedium_open(struct svc_core *core, const char *location, DeviceType type,
                        AccessMode access, IMedium **out);
cap_result imedium_find(struct svc_core *core, const char *what, DeviceType type, IMedium **out);

#endif /* CAPSULE_SVC_IMEDIUM_H */
