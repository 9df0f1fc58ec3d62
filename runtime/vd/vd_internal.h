/*
 * runtime/vd/vd_internal.h - what the format backends share with the
 * front (vd.c): the open disk, the backend ops table and the helpers for
 * errors and whole-buffer file I/O.
 *
 * vd.c checks every public call's arguments (alignment, range, read-only)
 * before it reaches a backend, so a backend's read/write see only whole
 * sectors inside the disk.
 */
#ifndef VD_INTERNAL_H
#define VD_INTERNAL_H

#include <capsule/errorinfo.h>
#include <capsule/result.h>
#include <capsule/vd.h>

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define VD_COMPONENT "vd"

struct vdi_state; /* vdi.c */

struct vd_ops {
    cap_result (*read)(struct vd_disk *d, uint64_t off, void *buf, size_t len);
    cap_result (*write)(struct vd_disk *d, uint64_t off, const void *buf, size_t len);
    cap_result (*allocated)(struct vd_disk *d, uint64_t *bytes);
    cap_result (*flush)(struct vd_disk *d); /* before the fdatasync; may be NULL */
    void (*close)(struct vd_disk *d);       /* frees the backend state; may be half-built */
};

struct vd_disk {
    /* set at open, constant afterwards */
    char *path;
    int fd;
    enum vd_format format;
    enum vd_variant variant;
    bool readonly;
    uint64_t size; /* guest-visible bytes, whole sectors */
    const struct vd_ops *ops;
    cap_uuid uuid;         /* VDI's image UUID; null for RAW and ISO */
    struct vdi_state *vdi; /* VDI only */
};

extern const struct vd_ops vd_raw_ops;
extern const struct vd_ops vd_vdi_ops;

/* Fail with error info naming the disk's file: "PATH: MESSAGE". */
cap_result vd_fail(cap_result rc, const char *path, const char *fmt, ...) CAP_PRINTF(3, 4);
/* The same for a failed system call: "PATH: WHAT: strerror(errno)";
 * CAP_E_ACCESSDENIED for EACCES/EPERM/EROFS, else CAP_E_IO. */
cap_result vd_fail_errno(const char *path, const char *what);

/* pread/pwrite until done; a short read (end of file) or write is CAP_E_IO
 * with error info. */
cap_result vd_pread_all(int fd, const char *path, void *buf, size_t len, uint64_t off);
cap_result vd_pwrite_all(int fd, const char *path, const void *buf, size_t len, uint64_t off);

/* vdi.c: whether the first bytes of a file are a VDI header (signature). */
bool vdi_probe(const uint8_t *buf, size_t len);
/* vdi.c: reads and checks the header and block map of d->fd, fills
 * d->size, d->variant and d->vdi; repairs the allocated count when
 * read-write. */
cap_result vdi_open(struct vd_disk *d);
/* vdi.c: writes a new image's header and block map to d->fd (empty, just
 * created) and opens it as vdi_open does. */
cap_result vdi_create(struct vd_disk *d, uint64_t size, enum vd_variant variant);

#endif /* VD_INTERNAL_H */
