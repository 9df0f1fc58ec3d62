/*
 * runtime/vd/vdi.c - VirtualBox Disk Images (VDI 1.1), dynamic and fixed.
 *
 * Layout (all little-endian): a 64-byte pre-header text ("<<< ... >>>\n"),
 * the signature 0xBEDA107F and version 1.1 at byte 64, then the header
 * proper from byte 72 (its size, image type, offsets of the block map and
 * of the data, legacy geometry, disk size, block size, block counts and
 * four UUIDs). The block map is one 32-bit entry per block of the disk:
 * the index of the block's data in the data area (data at offset_data +
 * index x block_size), or FREE/ZERO for a block that reads as zeros. A
 * dynamic image appends blocks in allocation order; a fixed one has every
 * block allocated at create (entry i = i).
 *
 * Allocation order (the crash-safety contract of capsule/vd.h): a new
 * block's data is written at the end of the image at once and its map
 * entry set in memory (reads see it), but its metadata waits, like data in
 * a disk's volatile write cache, for the next flush (or for
 * VDI_PENDING_MAX new blocks): the data of every pending block is synced,
 * then for each, in allocation order, the header's allocated count is
 * raised and then the map entry written (one write of both when they share
 * the first page, which a killed process cannot tear). One sync covers
 * many blocks. A kill before the count leaves the data as a leak past the
 * count; a kill between the two leaves the count one above the map
 * (repaired at the next read-write open); the map on disk never names a
 * block whose data is not on disk.
 *
 * Reads and writes of allocated blocks look the map up without a lock
 * (entries only ever go from unallocated to allocated, stored atomically
 * after the metadata is on disk); allocation is serialised by `lock`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capsule/uuid.h>

#include "vd_internal.h"

#define VDI_TEXT            "<<< Capsule VM Virtual Disk Image >>>\n"
#define VDI_SIGNATURE       0xBEDA107Fu
#define VDI_VERSION_1_1     0x00010001u
#define VDI_HEADER_SIZE_MIN 384u /* the 1.1 header without the LCHS geometry */
#define VDI_HEADER_SIZE     400u /* what VirtualBox writes (with it) */
#define VDI_TYPE_NORMAL     1u   /* dynamic */
#define VDI_TYPE_FIXED      2u
#define VDI_BLOCK_FREE      0xFFFFFFFFu
#define VDI_BLOCK_ZERO      0xFFFFFFFEu /* discarded: reads as zeros */
#define VDI_MAX_BLOCKS      (1u << 27)
#define VDI_MAX_BLOCK_SIZE  (64u << 20)
#define VDI_DATA_ALIGN      (1u << 20)
#define VDI_PAGE            4096u /* the unit a killed process's write cannot tear */
#define VDI_PENDING_MAX     32u   /* new blocks whose metadata waits for a flush */

/* Byte offsets of the header fields from the start of the file. */
enum {
    OFF_SIGNATURE = 64,
    OFF_VERSION = 68,
    OFF_HEADER_SIZE = 72,
    OFF_IMAGE_TYPE = 76,
    OFF_IMAGE_FLAGS = 80,
    OFF_DESCRIPTION = 84,
    OFF_OFFSET_BMAP = 340,
    OFF_OFFSET_DATA = 344,
    OFF_CYLINDERS = 348,
    OFF_HEADS = 352,
    OFF_SECTORS = 356,
    OFF_SECTOR_SIZE = 360,
    OFF_DISK_SIZE = 368,
    OFF_BLOCK_SIZE = 376,
    OFF_BLOCK_EXTRA = 380,
    OFF_BLOCKS = 384,
    OFF_BLOCKS_ALLOCATED = 388,
    OFF_UUID_IMAGE = 392,
    OFF_UUID_MODIFY = 408,
    OFF_UUID_LINK = 424,
    OFF_UUID_PARENT = 440,
    OFF_LCHS_SECTOR_SIZE = 468,
    HEADER_BYTES = 512,
};

struct vdi_state {
    pthread_mutex_t lock; /* serialises allocation */
    uint32_t *map;        /* host-order copy of the block map; entries read atomically */
    uint32_t blocks;      /* entries in the map */
    uint32_t block_size;
    uint32_t allocated; /* the header's count (under lock) */
    uint32_t mapped;    /* entries naming a block (under lock) */
    uint64_t off_map, off_data;
    uint32_t pending[VDI_PENDING_MAX]; /* blocks whose map entry is not yet on disk */
    unsigned npending;                 /* (under lock), in allocation order */
    bool broken; /* a commit failed: pending is left over; no allocation until one succeeds */
};

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static bool is_allocated(uint32_t entry)
{
    return entry != VDI_BLOCK_FREE && entry != VDI_BLOCK_ZERO;
}

static bool is_null(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* VirtualBox's on-disk UUID order <-> RFC 4122 order (the same swap both
 * ways: the first three fields change endianness). */
static void swap_uuid(uint8_t *to, const uint8_t *from)
{
    static const uint8_t order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    for (int i = 0; i < 16; i++)
        to[i] = from[order[i]];
}

bool vdi_probe(const uint8_t *buf, size_t len)
{
    return len >= OFF_VERSION + 4 && get32(buf + OFF_SIGNATURE) == VDI_SIGNATURE;
}

/* ---- opening: the header ---- */

#define BAD(...) vd_fail(CAP_E_INVALIDARG, d->path, "not a usable VDI image: " __VA_ARGS__)

/* Checks the header's fields against each other and the file size. */
static cap_result check_header(struct vd_disk *d, const uint8_t *h, uint64_t file_size)
{
    uint32_t version = get32(h + OFF_VERSION), hsize = get32(h + OFF_HEADER_SIZE);
    uint32_t type = get32(h + OFF_IMAGE_TYPE), bs = get32(h + OFF_BLOCK_SIZE);
    uint32_t blocks = get32(h + OFF_BLOCKS), allocated = get32(h + OFF_BLOCKS_ALLOCATED);
    uint64_t off_map = get32(h + OFF_OFFSET_BMAP), off_data = get32(h + OFF_OFFSET_DATA);
    uint64_t disk_size = get64(h + OFF_DISK_SIZE);

    if (get32(h + OFF_SIGNATURE) != VDI_SIGNATURE)
        return BAD("no VDI signature");
    if (version != VDI_VERSION_1_1)
        return vd_fail(CAP_E_INVALIDARG, d->path, "unsupported VDI version %u.%u (only 1.1)",
                       version >> 16, version & 0xffff);
    if (hsize < VDI_HEADER_SIZE_MIN || hsize > HEADER_BYTES - OFF_HEADER_SIZE)
        return BAD("header size %u (expected %u..%u)", hsize, VDI_HEADER_SIZE_MIN,
                   HEADER_BYTES - OFF_HEADER_SIZE);
    if (type != VDI_TYPE_NORMAL && type != VDI_TYPE_FIXED)
        return vd_fail(CAP_E_INVALIDARG, d->path,
                       "unsupported VDI image type %u (only 1 dynamic and 2 fixed)", type);
    if (!is_null(h + OFF_UUID_LINK, 16) || !is_null(h + OFF_UUID_PARENT, 16))
        return vd_fail(CAP_E_INVALIDARG, d->path,
                       "differencing VDI images (with a parent) are not supported");
    if (get32(h + OFF_SECTOR_SIZE) != VD_SECTOR_SIZE)
        return BAD("sector size %u (expected %u)", get32(h + OFF_SECTOR_SIZE), VD_SECTOR_SIZE);
    if (bs < VD_SECTOR_SIZE || bs > VDI_MAX_BLOCK_SIZE || (bs & (bs - 1)))
        return BAD("block size %u (a power of two from %u to %u)", bs, VD_SECTOR_SIZE,
                   VDI_MAX_BLOCK_SIZE);
    if (get32(h + OFF_BLOCK_EXTRA) != 0)
        return vd_fail(CAP_E_INVALIDARG, d->path, "unsupported VDI block extra data (%u bytes)",
                       get32(h + OFF_BLOCK_EXTRA));
    if (blocks > VDI_MAX_BLOCKS)
        return BAD("%u blocks (at most %u)", blocks, VDI_MAX_BLOCKS);
    if (disk_size > (uint64_t)blocks * bs)
        return BAD("disk size %llu larger than its %u blocks of %u bytes",
                   (unsigned long long)disk_size, blocks, bs);
    if (allocated > blocks)
        return BAD("%u blocks allocated of %u", allocated, blocks);
    if (off_map % VD_SECTOR_SIZE || off_map < OFF_HEADER_SIZE + hsize)
        return BAD("block map offset %llu (a sector boundary after the header)",
                   (unsigned long long)off_map);
    if (off_data % VD_SECTOR_SIZE || off_data < off_map + (uint64_t)blocks * 4)
        return BAD("data offset %llu (a sector boundary after the block map)",
                   (unsigned long long)off_data);
    if (off_map + (uint64_t)blocks * 4 > file_size)
        return BAD("block map (%u entries at %llu) past the end of the file (%llu bytes)", blocks,
                   (unsigned long long)off_map, (unsigned long long)file_size);
    return CAP_OK;
}

/* Reads the map and checks every entry: below the allocated count, unique,
 * its data inside the file. Counts the mapped entries and finds the
 * highest. */
static cap_result load_map(struct vd_disk *d, struct vdi_state *s, uint64_t file_size,
                           uint32_t *max_plus1)
{
    size_t bytes = (size_t)s->blocks * 4;
    uint8_t *raw = malloc(bytes ? bytes : 1);
    uint8_t *seen = calloc((s->blocks + 7) / 8 + 1, 1);
    cap_result rc = CAP_OK;
    s->map = malloc(bytes ? bytes : 1);
    if (!raw || !seen || !s->map) {
        rc = cap_error_set(CAP_E_OUTOFMEMORY, VD_COMPONENT, NULL, "out of memory");
        goto out;
    }
    if ((rc = vd_pread_all(d->fd, d->path, raw, bytes, s->off_map)) != CAP_OK)
        goto out;
    *max_plus1 = 0;
    for (uint32_t i = 0; i < s->blocks; i++) {
        uint32_t e = get32(raw + 4 * (size_t)i);
        s->map[i] = e;
        if (!is_allocated(e))
            continue;
        if (e >= s->allocated) {
            rc =
                BAD("block map entry %u names block %u, past the %u allocated", i, e, s->allocated);
            goto out;
        }
        if (seen[e / 8] & (1u << (e % 8))) {
            rc = BAD("block %u named twice in the block map (again by entry %u)", e, i);
            goto out;
        }
        seen[e / 8] |= (uint8_t)(1u << (e % 8));
        s->mapped++;
        if (e + 1 > *max_plus1)
            *max_plus1 = e + 1;
    }
    if (*max_plus1 && s->off_data + (uint64_t)*max_plus1 * s->block_size > file_size)
        rc = BAD("block data past the end of the file (%llu bytes): truncated image?",
                 (unsigned long long)file_size);
out:
    free(raw);
    free(seen);
    return rc;
}

/* A count one (or more) above a map that names exactly blocks 0..mapped-1
 * is what a kill between the count and the entry leaves: the blocks past
 * are leaks. Lowering the count makes the image consistent again (their
 * space is reused, each new block being written whole). */
static cap_result repair_count(struct vd_disk *d, struct vdi_state *s, uint32_t max_plus1)
{
    uint8_t b[4];
    cap_result rc;
    if (d->readonly || s->allocated == s->mapped || max_plus1 != s->mapped)
        return CAP_OK;
    put32(b, s->mapped);
    if ((rc = vd_pwrite_all(d->fd, d->path, b, 4, OFF_BLOCKS_ALLOCATED)) != CAP_OK)
        return rc;
    if (fdatasync(d->fd) < 0)
        return vd_fail_errno(d->path, "sync");
    s->allocated = s->mapped;
    return CAP_OK;
}

cap_result vdi_open(struct vd_disk *d)
{
    uint8_t h[HEADER_BYTES];
    struct stat st;
    struct vdi_state *s;
    uint32_t max_plus1 = 0;
    cap_result rc;

    d->ops = &vd_vdi_ops;
    if (fstat(d->fd, &st) < 0)
        return vd_fail_errno(d->path, "stat");
    if ((uint64_t)st.st_size < HEADER_BYTES)
        return BAD("only %llu bytes long", (unsigned long long)st.st_size);
    if ((rc = vd_pread_all(d->fd, d->path, h, sizeof h, 0)) != CAP_OK)
        return rc;
    if ((rc = check_header(d, h, (uint64_t)st.st_size)) != CAP_OK)
        return rc;
    if (!(s = d->vdi = calloc(1, sizeof *s)))
        return cap_error_set(CAP_E_OUTOFMEMORY, VD_COMPONENT, NULL, "out of memory");
    pthread_mutex_init(&s->lock, NULL);
    s->blocks = get32(h + OFF_BLOCKS);
    s->block_size = get32(h + OFF_BLOCK_SIZE);
    s->allocated = get32(h + OFF_BLOCKS_ALLOCATED);
    s->off_map = get32(h + OFF_OFFSET_BMAP);
    s->off_data = get32(h + OFF_OFFSET_DATA);
    if ((rc = load_map(d, s, (uint64_t)st.st_size, &max_plus1)) != CAP_OK)
        return rc;
    if ((rc = repair_count(d, s, max_plus1)) != CAP_OK)
        return rc;
    swap_uuid(d->uuid.b, h + OFF_UUID_IMAGE);
    d->size = get64(h + OFF_DISK_SIZE) & ~(uint64_t)(VD_SECTOR_SIZE - 1);
    d->variant =
        get32(h + OFF_IMAGE_TYPE) == VDI_TYPE_FIXED ? VD_VARIANT_FIXED : VD_VARIANT_DYNAMIC;
    return CAP_OK;
}

/* ---- creating ---- */

/* A random UUID in VirtualBox's on-disk order (the first three fields
 * little-endian). */
static cap_result new_uuid(uint8_t *out)
{
    cap_uuid u;
    cap_result rc = cap_uuid_generate(&u);
    if (rc == CAP_OK)
        swap_uuid(out, u.b);
    return rc;
}

static cap_result fill_header(uint8_t *h, uint64_t size, uint32_t blocks, enum vd_variant v,
                              uint64_t off_data)
{
    cap_result rc;
    memcpy(h, VDI_TEXT, sizeof VDI_TEXT - 1);
    put32(h + OFF_SIGNATURE, VDI_SIGNATURE);
    put32(h + OFF_VERSION, VDI_VERSION_1_1);
    put32(h + OFF_HEADER_SIZE, VDI_HEADER_SIZE);
    put32(h + OFF_IMAGE_TYPE, v == VD_VARIANT_FIXED ? VDI_TYPE_FIXED : VDI_TYPE_NORMAL);
    put32(h + OFF_OFFSET_BMAP, HEADER_BYTES);
    put32(h + OFF_OFFSET_DATA, (uint32_t)off_data);
    put32(h + OFF_SECTOR_SIZE, VD_SECTOR_SIZE);
    put64(h + OFF_DISK_SIZE, size);
    put32(h + OFF_BLOCK_SIZE, VD_VDI_BLOCK_SIZE);
    put32(h + OFF_BLOCKS, blocks);
    put32(h + OFF_BLOCKS_ALLOCATED, v == VD_VARIANT_FIXED ? blocks : 0);
    put32(h + OFF_LCHS_SECTOR_SIZE, VD_SECTOR_SIZE);
    if ((rc = new_uuid(h + OFF_UUID_IMAGE)) != CAP_OK)
        return rc;
    return new_uuid(h + OFF_UUID_MODIFY);
}

cap_result vdi_create(struct vd_disk *d, uint64_t size, enum vd_variant variant)
{
    uint64_t blocks = (size + VD_VDI_BLOCK_SIZE - 1) / VD_VDI_BLOCK_SIZE;
    uint64_t off_data, meta;
    uint8_t *buf;
    cap_result rc;

    if (blocks > VDI_MAX_BLOCKS)
        return vd_fail(CAP_E_INVALIDARG, d->path, "%llu bytes is too big for a VDI image",
                       (unsigned long long)size);
    meta = HEADER_BYTES + blocks * 4;
    off_data = (meta + VDI_DATA_ALIGN - 1) / VDI_DATA_ALIGN * VDI_DATA_ALIGN;
    meta = (meta + VD_SECTOR_SIZE - 1) / VD_SECTOR_SIZE * VD_SECTOR_SIZE;
    if (!(buf = calloc(1, meta)))
        return cap_error_set(CAP_E_OUTOFMEMORY, VD_COMPONENT, NULL, "out of memory");
    rc = fill_header(buf, size, (uint32_t)blocks, variant, off_data);
    for (uint32_t i = 0; i < blocks; i++)
        put32(buf + HEADER_BYTES + 4 * (size_t)i, variant == VD_VARIANT_FIXED ? i : VDI_BLOCK_FREE);
    if (rc == CAP_OK)
        rc = vd_pwrite_all(d->fd, d->path, buf, meta, 0);
    free(buf);
    if (rc != CAP_OK)
        return rc;
    if (variant == VD_VARIANT_FIXED) {
        uint64_t end = off_data + blocks * VD_VDI_BLOCK_SIZE;
        if (ftruncate(d->fd, (off_t)end) < 0)
            return vd_fail_errno(d->path, "set size");
        if (fallocate(d->fd, 0, (off_t)off_data, (off_t)(end - off_data)) < 0 &&
            errno != EOPNOTSUPP)
            return vd_fail_errno(d->path, "allocate");
    }
    return vdi_open(d);
}

/* ---- I/O ---- */

static uint32_t map_get(struct vdi_state *s, uint32_t i)
{
    return __atomic_load_n(&s->map[i], __ATOMIC_ACQUIRE);
}

/* Writes the count idx + 1 and map entry `bi` = idx (see the file
 * comment). */
static cap_result write_metadata(struct vd_disk *d, struct vdi_state *s, uint32_t bi, uint32_t idx)
{
    uint64_t entry = s->off_map + 4 * (uint64_t)bi;
    uint8_t b[VDI_PAGE];
    cap_result rc;
    if (entry + 4 <= VDI_PAGE) {
        /* count and entry in one write: [count, entry], the bytes between
         * as they are (read back: the header's UUIDs, earlier entries) */
        size_t n = (size_t)(entry + 4 - OFF_BLOCKS_ALLOCATED);
        if ((rc = vd_pread_all(d->fd, d->path, b, n, OFF_BLOCKS_ALLOCATED)) != CAP_OK)
            return rc;
        put32(b, idx + 1);
        put32(b + n - 4, idx);
        return vd_pwrite_all(d->fd, d->path, b, n, OFF_BLOCKS_ALLOCATED);
    }
    put32(b, idx + 1);
    if ((rc = vd_pwrite_all(d->fd, d->path, b, 4, OFF_BLOCKS_ALLOCATED)) != CAP_OK)
        return rc;
    put32(b, idx);
    return vd_pwrite_all(d->fd, d->path, b, 4, entry);
}

/* Syncs the data of the pending new blocks, then writes their metadata in
 * allocation order. Called with the lock held. When a write fails, the
 * blocks from that one on stay pending (in order) and every commit (each
 * flush, the close) tries them again and fails until they are written: a
 * flush never reports success while a new block's map entry is not on
 * disk. Meanwhile no block is allocated (its metadata would overtake). */
static cap_result commit_pending(struct vd_disk *d, struct vdi_state *s)
{
    cap_result rc = CAP_OK;
    unsigned done = 0;
    if (!s->npending)
        return CAP_OK;
    if (fdatasync(d->fd) < 0)
        rc = vd_fail_errno(d->path, "sync");
    while (rc == CAP_OK && done < s->npending) {
        rc = write_metadata(d, s, s->pending[done], s->map[s->pending[done]]);
        if (rc == CAP_OK)
            done++;
    }
    memmove(s->pending, s->pending + done, (s->npending - done) * sizeof s->pending[0]);
    s->npending -= done;
    s->broken = s->npending != 0;
    return rc;
}

/* Puts `len` bytes at `in` within new block data at `boff`: into a file
 * that ends before the block, only the bytes themselves (the rest is a
 * hole, zeros); over leaked bytes of an earlier crash, the whole block. */
static cap_result write_new_block(struct vd_disk *d, uint64_t boff, uint32_t in, const void *buf,
                                  size_t len)
{
    uint32_t bs = d->vdi->block_size;
    struct stat st;
    cap_result rc;
    if (fstat(d->fd, &st) < 0)
        return vd_fail_errno(d->path, "stat");
    if ((uint64_t)st.st_size <= boff || (in == 0 && len == bs)) {
        if ((rc = vd_pwrite_all(d->fd, d->path, buf, len, boff + in)) != CAP_OK)
            return rc;
        if ((uint64_t)st.st_size < boff + bs && ftruncate(d->fd, (off_t)(boff + bs)) < 0)
            return vd_fail_errno(d->path, "extend");
        return CAP_OK;
    }
    uint8_t *whole = calloc(1, bs);
    if (!whole)
        return cap_error_set(CAP_E_OUTOFMEMORY, VD_COMPONENT, NULL, "out of memory");
    memcpy(whole + in, buf, len);
    rc = vd_pwrite_all(d->fd, d->path, whole, bs, boff);
    free(whole);
    return rc;
}

/* Writes into block `bi`, allocating it if it is still unallocated. */
static cap_result write_allocating(struct vd_disk *d, uint32_t bi, uint32_t in, const void *buf,
                                   size_t len)
{
    struct vdi_state *s = d->vdi;
    cap_result rc;
    uint32_t e;
    pthread_mutex_lock(&s->lock);
    e = s->map[bi];
    if (is_allocated(e)) { /* another thread got there first */
        pthread_mutex_unlock(&s->lock);
        return vd_pwrite_all(d->fd, d->path, buf, len,
                             s->off_data + (uint64_t)e * s->block_size + in);
    }
    if (s->broken) {
        rc = vd_fail(CAP_E_IO, d->path,
                     "the block map could not be written (a flush tries again); no new blocks");
    } else if (s->allocated >= s->blocks) {
        rc = vd_fail(CAP_E_IO, d->path, "no free block index (the image has leaked blocks)");
    } else {
        uint64_t boff = s->off_data + (uint64_t)s->allocated * s->block_size;
        rc = write_new_block(d, boff, in, buf, len);
        if (rc == CAP_OK) {
            __atomic_store_n(&s->map[bi], s->allocated, __ATOMIC_RELEASE);
            s->allocated++;
            s->mapped++;
            s->pending[s->npending++] = bi;
            if (s->npending == VDI_PENDING_MAX)
                rc = commit_pending(d, s);
        }
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static cap_result vdi_read(struct vd_disk *d, uint64_t off, void *buf, size_t len)
{
    struct vdi_state *s = d->vdi;
    uint8_t *p = buf;
    while (len > 0) {
        uint32_t bi = (uint32_t)(off / s->block_size), in = (uint32_t)(off % s->block_size);
        size_t n = s->block_size - in < len ? s->block_size - in : len;
        uint32_t e = map_get(s, bi);
        if (!is_allocated(e)) {
            memset(p, 0, n);
        } else {
            cap_result rc =
                vd_pread_all(d->fd, d->path, p, n, s->off_data + (uint64_t)e * s->block_size + in);
            if (rc != CAP_OK)
                return rc;
        }
        p += n, off += n, len -= n;
    }
    return CAP_OK;
}

static cap_result vdi_write(struct vd_disk *d, uint64_t off, const void *buf, size_t len)
{
    struct vdi_state *s = d->vdi;
    const uint8_t *p = buf;
    while (len > 0) {
        uint32_t bi = (uint32_t)(off / s->block_size), in = (uint32_t)(off % s->block_size);
        size_t n = s->block_size - in < len ? s->block_size - in : len;
        uint32_t e = map_get(s, bi);
        cap_result rc = is_allocated(e)
                            ? vd_pwrite_all(d->fd, d->path, p, n,
                                            s->off_data + (uint64_t)e * s->block_size + in)
                            : write_allocating(d, bi, in, p, n);
        if (rc != CAP_OK)
            return rc;
        p += n, off += n, len -= n;
    }
    return CAP_OK;
}

static cap_result vdi_allocated(struct vd_disk *d, uint64_t *bytes)
{
    pthread_mutex_lock(&d->vdi->lock);
    *bytes = (uint64_t)d->vdi->mapped * d->vdi->block_size;
    pthread_mutex_unlock(&d->vdi->lock);
    return CAP_OK;
}

static cap_result vdi_flush(struct vd_disk *d)
{
    pthread_mutex_lock(&d->vdi->lock);
    cap_result rc = commit_pending(d, d->vdi);
    pthread_mutex_unlock(&d->vdi->lock);
    return rc;
}

static void vdi_close(struct vd_disk *d)
{
    if (!d->vdi)
        return;
    if (!d->readonly)
        commit_pending(d, d->vdi); /* errors: reported by vd_flush, not here */
    pthread_mutex_destroy(&d->vdi->lock);
    free(d->vdi->map);
    free(d->vdi);
    d->vdi = NULL;
}

const struct vd_ops vd_vdi_ops = {
    .read = vdi_read,
    .write = vdi_write,
    .allocated = vdi_allocated,
    .flush = vdi_flush,
    .close = vdi_close,
};
