/*
 * runtime/vd/vd.c - the front of the virtual disk layer (capsule/vd.h):
 * opening and creating images, the argument checks every I/O call passes
 * before a backend sees it, locking, error helpers, and the RAW/ISO backend
 * (a plain file: the simplest format needs no file of its own).
 *
 * The VDI backend lives in vdi.c behind the same ops table.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capsule/uuid.h>

#include "vd_internal.h"

cap_result vd_fail(cap_result rc, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cap_error_set(rc, VD_COMPONENT, NULL, "%s: %s", path ? path : "(disk)", msg);
}

cap_result vd_fail_errno(const char *path, const char *what)
{
    int e = errno;
    cap_result rc = (e == EACCES || e == EPERM || e == EROFS) ? CAP_E_ACCESSDENIED : CAP_E_IO;
    return vd_fail(rc, path, "%s: %s", what, strerror(e));
}

cap_result vd_pread_all(int fd, const char *path, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return vd_fail_errno(path, "read");
        if (n == 0)
            return vd_fail(CAP_E_IO, path, "read at %llu: unexpected end of file",
                           (unsigned long long)off);
        p += n, len -= (size_t)n, off += (uint64_t)n;
    }
    return CAP_OK;
}

cap_result vd_pwrite_all(int fd, const char *path, const void *buf, size_t len, uint64_t off)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? vd_fail_errno(path, "write")
                         : vd_fail(CAP_E_IO, path, "write at %llu: nothing written",
                                   (unsigned long long)off);
        p += n, len -= (size_t)n, off += (uint64_t)n;
    }
    return CAP_OK;
}

/* ---- RAW and ISO ---- */

static cap_result raw_read(struct vd_disk *d, uint64_t off, void *buf, size_t len)
{
    return vd_pread_all(d->fd, d->path, buf, len, off);
}

static cap_result raw_write(struct vd_disk *d, uint64_t off, const void *buf, size_t len)
{
    return vd_pwrite_all(d->fd, d->path, buf, len, off);
}

static cap_result raw_allocated(struct vd_disk *d, uint64_t *bytes)
{
    struct stat st;
    if (fstat(d->fd, &st) < 0)
        return vd_fail_errno(d->path, "stat");
    *bytes = (uint64_t)st.st_blocks * 512;
    return CAP_OK;
}

static void raw_close(struct vd_disk *d)
{
}

const struct vd_ops vd_raw_ops = {
    .read = raw_read,
    .write = raw_write,
    .allocated = raw_allocated,
    .close = raw_close,
};

/* ---- open, create, close ---- */

static cap_result disk_new(const char *path, struct vd_disk **out)
{
    struct vd_disk *d = calloc(1, sizeof *d);
    if (d)
        d->path = strdup(path);
    if (!d || !d->path) {
        free(d);
        return cap_error_set(CAP_E_OUTOFMEMORY, VD_COMPONENT, NULL, "out of memory");
    }
    d->fd = -1;
    *out = d;
    return CAP_OK;
}

static cap_result disk_lock(struct vd_disk *d)
{
    if (flock(d->fd, (d->readonly ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0)
        return CAP_OK;
    if (errno == EWOULDBLOCK)
        return vd_fail(CAP_E_ACCESSDENIED, d->path, "in use by another process");
    return vd_fail_errno(d->path, "lock");
}

static cap_result raw_open(struct vd_disk *d)
{
    struct stat st;
    if (fstat(d->fd, &st) < 0)
        return vd_fail_errno(d->path, "stat");
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
        return vd_fail(CAP_E_INVALIDARG, d->path, "not a regular file or block device");
    if (S_ISBLK(st.st_mode)) {
        off_t end = lseek(d->fd, 0, SEEK_END);
        if (end < 0)
            return vd_fail_errno(d->path, "seek");
        d->size = (uint64_t)end;
    } else {
        d->size = (uint64_t)st.st_size;
    }
    d->size -= d->size % VD_SECTOR_SIZE;
    d->ops = &vd_raw_ops;
    d->variant = VD_VARIANT_DYNAMIC;
    return CAP_OK;
}

/* Picks the format of an opened file: VDI if its signature is there. */
static cap_result probe(struct vd_disk *d)
{
    uint8_t head[512];
    ssize_t n = pread(d->fd, head, sizeof head, 0);
    if (n < 0)
        return vd_fail_errno(d->path, "read");
    d->format = vdi_probe(head, (size_t)n) ? VD_FORMAT_VDI : VD_FORMAT_RAW;
    return CAP_OK;
}

CAP_EXPORT cap_result vd_open(const char *path, enum vd_format format, unsigned flags,
                              struct vd_disk **out)
{
    struct vd_disk *d = NULL;
    cap_result rc;
    if (!path || !out)
        return cap_error_set(CAP_E_POINTER, VD_COMPONENT, NULL, "vd_open: NULL argument");
    *out = NULL;
    if (format > VD_FORMAT_VDI || (flags & ~VD_OPEN_READWRITE))
        return vd_fail(CAP_E_INVALIDARG, path, "bad format %d or flags 0x%x", (int)format, flags);
    if ((rc = disk_new(path, &d)) != CAP_OK)
        return rc;
    d->readonly = !(flags & VD_OPEN_READWRITE) || format == VD_FORMAT_ISO;
    d->format = format;
    d->fd = open(path, (d->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (d->fd < 0) {
        rc = vd_fail_errno(path, "open");
        goto fail;
    }
    if ((rc = disk_lock(d)) != CAP_OK)
        goto fail;
    if (d->format == VD_FORMAT_AUTO && (rc = probe(d)) != CAP_OK)
        goto fail;
    rc = d->format == VD_FORMAT_VDI ? vdi_open(d) : raw_open(d);
    if (rc != CAP_OK)
        goto fail;
    *out = d;
    return CAP_OK;
fail:
    vd_close(d);
    return rc;
}

static cap_result create_file(struct vd_disk *d, uint64_t size, enum vd_variant variant)
{
    if (d->format == VD_FORMAT_VDI)
        return vdi_create(d, size, variant);
    if (ftruncate(d->fd, (off_t)size) < 0)
        return vd_fail_errno(d->path, "set size");
    if (variant == VD_VARIANT_FIXED && fallocate(d->fd, 0, 0, (off_t)size) < 0 &&
        errno != EOPNOTSUPP)
        return vd_fail_errno(d->path, "allocate");
    return raw_open(d);
}

CAP_EXPORT cap_result vd_create(const char *path, enum vd_format format, uint64_t size,
                                enum vd_variant variant, struct vd_disk **out)
{
    struct vd_disk *d = NULL;
    cap_result rc;
    if (!path)
        return cap_error_set(CAP_E_POINTER, VD_COMPONENT, NULL, "vd_create: NULL path");
    if (out)
        *out = NULL;
    if (format != VD_FORMAT_RAW && format != VD_FORMAT_VDI)
        return vd_fail(CAP_E_INVALIDARG, path, "cannot create images of format %s",
                       vd_format_name(format));
    if (variant != VD_VARIANT_DYNAMIC && variant != VD_VARIANT_FIXED)
        return vd_fail(CAP_E_INVALIDARG, path, "bad variant %d", (int)variant);
    if (size == 0 || size % VD_SECTOR_SIZE || size > (uint64_t)INT64_MAX / 2)
        return vd_fail(CAP_E_INVALIDARG, path,
                       "size %llu is not a positive multiple of %u bytes in range",
                       (unsigned long long)size, VD_SECTOR_SIZE);
    if ((rc = disk_new(path, &d)) != CAP_OK)
        return rc;
    d->format = format;
    d->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (d->fd < 0) {
        rc = errno == EEXIST ? vd_fail(CAP_E_ACCESSDENIED, path, "exists")
                             : vd_fail_errno(path, "create");
        vd_close(d);
        return rc;
    }
    if ((rc = disk_lock(d)) != CAP_OK || (rc = create_file(d, size, variant)) != CAP_OK ||
        (rc = vd_flush(d)) != CAP_OK) {
        unlink(path);
        vd_close(d);
        return rc;
    }
    d->variant = variant;
    if (out)
        *out = d;
    else
        vd_close(d);
    return CAP_OK;
}

CAP_EXPORT void vd_close(struct vd_disk *d)
{
    if (!d)
        return;
    if (d->ops)
        d->ops->close(d);
    if (d->fd >= 0)
        close(d->fd);
    free(d->path);
    free(d);
}

/* ---- I/O ---- */

static cap_result check_io(struct vd_disk *d, uint64_t off, const void *buf, size_t len,
                           const char *what)
{
    if (!d || !buf)
        return cap_error_set(CAP_E_POINTER, VD_COMPONENT, NULL, "vd_%s: NULL argument", what);
    if (off % VD_SECTOR_SIZE || len % VD_SECTOR_SIZE)
        return vd_fail(CAP_E_INVALIDARG, d->path, "%s at %llu of %zu bytes: not in whole sectors",
                       what, (unsigned long long)off, len);
    if (off > d->size || len > d->size - off)
        return vd_fail(CAP_E_INVALIDARG, d->path,
                       "%s at %llu of %zu bytes: past the end of the disk (%llu bytes)", what,
                       (unsigned long long)off, len, (unsigned long long)d->size);
    return CAP_OK;
}

CAP_EXPORT cap_result vd_read(struct vd_disk *d, uint64_t offset, void *buf, size_t len)
{
    cap_result rc = check_io(d, offset, buf, len, "read");
    if (rc != CAP_OK || len == 0)
        return rc;
    return d->ops->read(d, offset, buf, len);
}

CAP_EXPORT cap_result vd_write(struct vd_disk *d, uint64_t offset, const void *buf, size_t len)
{
    cap_result rc = check_io(d, offset, buf, len, "write");
    if (rc != CAP_OK)
        return rc;
    if (d->readonly)
        return vd_fail(CAP_E_ACCESSDENIED, d->path, "write: the disk is read-only");
    if (len == 0)
        return CAP_OK;
    return d->ops->write(d, offset, buf, len);
}

CAP_EXPORT cap_result vd_flush(struct vd_disk *d)
{
    if (!d)
        return cap_error_set(CAP_E_POINTER, VD_COMPONENT, NULL, "vd_flush: NULL disk");
    if (d->readonly)
        return CAP_OK;
    if (d->ops && d->ops->flush) {
        cap_result rc = d->ops->flush(d);
        if (rc != CAP_OK)
            return rc;
    }
    if (fdatasync(d->fd) < 0)
        return vd_fail_errno(d->path, "sync");
    return CAP_OK;
}

/* ---- properties ---- */

CAP_EXPORT uint64_t vd_size(const struct vd_disk *d)
{
    return d ? d->size : 0;
}

CAP_EXPORT cap_result vd_allocated(struct vd_disk *d, uint64_t *bytes)
{
    if (!d || !bytes)
        return cap_error_set(CAP_E_POINTER, VD_COMPONENT, NULL, "vd_allocated: NULL argument");
    return d->ops->allocated(d, bytes);
}

CAP_EXPORT enum vd_format vd_get_format(const struct vd_disk *d)
{
    return d ? d->format : VD_FORMAT_AUTO;
}

CAP_EXPORT enum vd_variant vd_get_variant(const struct vd_disk *d)
{
    return d ? d->variant : VD_VARIANT_DYNAMIC;
}

CAP_EXPORT bool vd_is_readonly(const struct vd_disk *d)
{
    return !d || d->readonly;
}

CAP_EXPORT cap_result vd_get_uuid(const struct vd_disk *d, cap_uuid *out)
{
    if (!d || !out)
        return cap_error_set(CAP_E_POINTER, VD_COMPONENT, NULL, "vd_get_uuid: NULL argument");
    *out = d->uuid;
    return cap_uuid_is_null(&d->uuid) ? CAP_FALSE_RESULT : CAP_OK;
}

CAP_EXPORT uint32_t vd_sector_size(const struct vd_disk *d)
{
    return d && d->format == VD_FORMAT_ISO ? VD_ISO_SECTOR_SIZE : VD_SECTOR_SIZE;
}

static const char *const format_names[] = {
    [VD_FORMAT_AUTO] = "auto",
    [VD_FORMAT_RAW] = "RAW",
    [VD_FORMAT_ISO] = "ISO",
    [VD_FORMAT_VDI] = "VDI",
};

CAP_EXPORT const char *vd_format_name(enum vd_format format)
{
    if ((unsigned)format < sizeof format_names / sizeof format_names[0])
        return format_names[format];
    return "unknown";
}

CAP_EXPORT cap_result vd_format_from_name(const char *name, enum vd_format *out)
{
    if (!name || !out)
        return cap_error_set(CAP_E_POINTER, VD_COMPONENT, NULL, "NULL format name");
    for (unsigned i = 0; i < sizeof format_names / sizeof format_names[0]; i++) {
        if (strcasecmp(name, format_names[i]) == 0) {
            *out = (enum vd_format)i;
            return CAP_OK;
        }
    }
    return cap_error_set(CAP_E_INVALIDARG, VD_COMPONENT, NULL,
                         "unknown disk format '%s' (RAW, ISO or VDI)", name);
}
