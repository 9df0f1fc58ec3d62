/*
 * capsule/vd.h - virtual disk images (runtime/vd, libcapsule-vd.so).
 *
 * One interface over the image formats a disk or DVD drive can use, for
 * both the service (creating media, reading their properties) and the VM
 * process (the storage devices' block layer). Nothing here knows the VMM.
 *
 * Formats:
 *  - RAW: a plain file; any size (a whole number of sectors), created
 *    sparse. Bytes past the last whole sector of an odd-sized file are not
 *    addressable.
 *  - ISO: a raw file opened read-only (always); its 2048-byte sector is a
 *    property for the DVD drive (vd_sector_size), I/O is still in 512-byte
 *    units here.
 *  - VDI: VirtualBox's format, version 1.1, "normal" (dynamic: 1 MiB blocks
 *    appended as they are first written; unwritten blocks read as zeros)
 *    or "fixed" (all blocks preallocated). Images made by VirtualBox and
 *    qemu-img open; images made here pass `qemu-img check`. Differencing
 *    images (a parent or link UUID) are refused.
 *
 * Crash safety (dynamic VDI): a write to an unallocated block puts the
 * block's data at the end of the image at once; the block's metadata (the
 * header's allocated count, then its block-map entry) follows at the next
 * vd_flush (or after 32 new blocks, or at vd_close), after the data of all
 * new blocks is synced (fdatasync). So a process killed at any point
 * leaves the image consistent: written and flushed data is there, a new
 * block written since the last flush may read as zeros (like a disk's
 * volatile write cache) and its space is leaked past the last counted
 * block. When the header count and the block-map entry share a page
 * (images up to 896 MiB) both change in one write, which a killed process
 * cannot tear, and `qemu-img check` finds no errors at any kill point; a
 * header that counts one block more than the map names (a kill between
 * the two writes of a larger image) is repaired on the next read-write
 * open. Overwrites of allocated blocks (and RAW writes) are durable after
 * vd_flush.
 *
 * Hostile images: every header field is checked before it is used (block
 * map and data inside the file, block map entries below the allocated
 * count and unique, sizes that cannot overflow); a bad image fails to open
 * with CAP_E_INVALIDARG and a message naming the field. No input image can
 * crash the library (fuzzed: `scons fuzz-vdi_fuzz`).
 *
 * Locking: an image opened read-write holds an exclusive flock(2); a
 * read-only open a shared one. A second open that conflicts fails with
 * CAP_E_ACCESSDENIED ("in use by another process").
 *
 * Threads: a struct vd_disk may be used from several threads at once
 * (reads and writes run in parallel; block allocation is serialised).
 * vd_close must not race with other calls on the same disk.
 *
 * Errors: every failing call returns a cap_result and sets error info
 * (component "vd") with a message naming the file: CAP_E_INVALIDARG (bad
 * argument, unaligned or out-of-range I/O, bad or unsupported image),
 * CAP_E_POINTER, CAP_E_ACCESSDENIED (read-only image written, permission,
 * lock), CAP_E_IO (host I/O error, errno in the message),
 * CAP_E_OUTOFMEMORY.
 */
#ifndef CAPSULE_VD_H
#define CAPSULE_VD_H

#include <capsule/types.h>

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VD_SECTOR_SIZE     512u           /* unit of every offset and length */
#define VD_ISO_SECTOR_SIZE 2048u          /* what a DVD drive reports for ISO */
#define VD_VDI_BLOCK_SIZE  (1024u * 1024) /* block size of images created here */

enum vd_format {
    VD_FORMAT_AUTO = 0, /* vd_open: probe (VDI signature, else RAW) */
    VD_FORMAT_RAW,
    VD_FORMAT_ISO,
    VD_FORMAT_VDI,
};

enum vd_variant {
    VD_VARIANT_DYNAMIC = 0, /* VDI: blocks allocated on first write; RAW: sparse */
    VD_VARIANT_FIXED,       /* every byte allocated at create */
};

#define VD_OPEN_READONLY  0x0u
#define VD_OPEN_READWRITE 0x1u

struct vd_disk;

/*
 * Opens an existing image. `format` AUTO probes (a VDI signature means VDI,
 * anything else RAW; ISO is never guessed, name it); ISO is always opened
 * read-only whatever `flags` say. On success *out owns the open file
 * (vd_close). A read-write open of a dynamic VDI may repair the header's
 * allocated count (see "Crash safety").
 */
cap_result vd_open(const char *path, enum vd_format format, unsigned flags, struct vd_disk **out);

/*
 * Creates a new image of `size` bytes (a multiple of VD_SECTOR_SIZE, not
 * 0) and opens it read-write. Refuses to replace an existing file
 * (CAP_E_ACCESSDENIED, "exists"). ISO cannot be created (CAP_E_INVALIDARG).
 * A VDI gets random image and modification UUIDs. `out` may be NULL
 * (create and close). On failure the half-made file is removed.
 */
cap_result vd_create(const char *path, enum vd_format format, uint64_t size,
                     enum vd_variant variant, struct vd_disk **out);

/*
 * Reads or writes `len` bytes at byte `offset`; both multiples of
 * VD_SECTOR_SIZE and the range inside vd_size(). A short transfer is an
 * error (CAP_E_IO), never a partial success. Writing a read-only disk:
 * CAP_E_ACCESSDENIED.
 */
cap_result vd_read(struct vd_disk *d, uint64_t offset, void *buf, size_t len);
cap_result vd_write(struct vd_disk *d, uint64_t offset, const void *buf, size_t len);

/* Makes every completed write durable: VDI metadata of new blocks written
 * (after their data is synced), then fdatasync. */
cap_result vd_flush(struct vd_disk *d);

/* The disk's size in bytes as the guest sees it (whole sectors). */
uint64_t vd_size(const struct vd_disk *d);

/* Host bytes the image holds for guest data (st_blocks for RAW and ISO;
 * allocated blocks x block size for VDI). */
cap_result vd_allocated(struct vd_disk *d, uint64_t *bytes);

enum vd_format vd_get_format(const struct vd_disk *d);
enum vd_variant vd_get_variant(const struct vd_disk *d);
bool vd_is_readonly(const struct vd_disk *d);

/* The image's UUID (VDI: the header's image UUID, which VirtualBox uses
 * as the medium's ID; in cap_uuid's RFC 4122 order). RAW and ISO images
 * have none: CAP_FALSE_RESULT and a null *out. */
cap_result vd_get_uuid(const struct vd_disk *d, cap_uuid *out);

/* The sector size a drive reports: VD_ISO_SECTOR_SIZE for ISO, else
 * VD_SECTOR_SIZE. */
uint32_t vd_sector_size(const struct vd_disk *d);

/* Closes the image. Pending VDI metadata is written (as vd_flush would,
 * without the final sync; its errors are not reported here: call vd_flush
 * first to know the writes are durable). NULL is fine. */
void vd_close(struct vd_disk *d);

/* "RAW", "ISO", "VDI" ("auto" for AUTO); and back, case-insensitive
 * (CAP_E_INVALIDARG with error info for an unknown name). */
const char *vd_format_name(enum vd_format format);
cap_result vd_format_from_name(const char *name, enum vd_format *out);

#ifdef __cplusplus
}
#endif

#endif /* CAPSULE_VD_H */
