/*
 * service/medium.h - a medium as the service keeps it (struct medium): a
 * hard disk (VDI, RAW) or DVD (ISO) image the media registry lists, with
 * what its image file says of itself. The image is read through the disk
 * image library (capsule/vd.h) only; nothing here keeps it open.
 *
 * The IMedium methods live above the registry (imedium.c), which puts its
 * vtable into the core (core.medium_vtbl); this part creates the objects
 * without knowing it, as machine.c does for machines.
 *
 * Layer: above core.h and settings.h, below the registry. Every *_locked
 * function expects the service lock held; the fields marked [lock] are
 * guarded by it.
 */
#ifndef CAPSULE_SVC_MEDIUM_H
#define CAPSULE_SVC_MEDIUM_H

#include <capsule/capsule.h>
#include <capsule/object.h>
#include <capsule/vd.h>

#include "core.h"
#include "settings.h"

struct medium {
    IMedium IMedium_iface;
    cap_refcnt ref;
    struct svc_core *core; /* [create] held (svc_core_hold) */
    cap_uuid id;           /* [lock] null until the image is created or read */
    char *location;        /* [create] absolute */
    enum vd_format format; /* [create] RAW, ISO or VDI */
    DeviceType type;       /* [create] HardDisk or DVD */
    MediumState state;     /* [lock] */
    MediumVariant variant; /* [lock] as the image says */
    uint64_t logical_size; /* [lock] bytes the guest sees */
    uint64_t size;         /* [lock] bytes allocated on the host */
    cap_bool read_only;    /* [create] */
    char *last_error;      /* [lock] why Inaccessible; "" otherwise */
    int registered;        /* [lock] in the registry's media list */
    int busy;              /* [lock] a background job (create, delete, clone) uses it */
};

/* A new medium object (refcount 1, the caller's) for `location`, state
 * NotCreated, no properties read. CAP_E_OUTOFMEMORY. */
cap_result medium_create(struct svc_core *core, const char *location, enum vd_format format,
                         DeviceType type, struct medium **out);

/* Opens the image read-only (through vd.h) and takes its properties: size,
 * variant, and (ids_from_image and a VDI) its UUID. On success the state
 * is Created and last_error empty; on failure Inaccessible with the
 * library's message in last_error, and its result code returned (error
 * info set). */
cap_result medium_probe_locked(struct medium *m, int ids_from_image);

/* For a Created or Inaccessible medium no job uses: a file that has gone
 * or become unreadable makes it Inaccessible (errno text in last_error);
 * an Inaccessible one whose file is back is probed again. */
void medium_refresh_locked(struct medium *m);

/* The file name part of the location. */
const char *medium_name(const struct medium *m);

/* "VDI", "RAW", "ISO". */
const char *medium_format_name(const struct medium *m);

void medium_addref(struct medium *m);
/* Returns the count left (0: freed). NULL is fine. */
uint32_t medium_release(struct medium *m);

#endif /* CAPSULE_SVC_MEDIUM_H */
