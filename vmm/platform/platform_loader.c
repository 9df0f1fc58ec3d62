/*
 * vmm/platform/platform_loader.c - runs a BIOS linker/loader script
 * ("etc/table-loader") over files already placed at fixed guest-physical
 * addresses: what a firmware does after its ALLOCATEs, for a boot with no
 * firmware (vmm/loader's direct kernel boot). Entry layout (little-endian,
 * 128 bytes each; SeaBIOS's romfile_loader.h):
 *
 *   0   u32 command
 *   ALLOCATE:     4 file[56], 60 u32 align, 64 u8 zone
 *   ADD_POINTER:  4 dest_file[56], 60 src_file[56], 116 u32 offset, 120 u8 size
 *   ADD_CHECKSUM: 4 file[56], 60 u32 offset, 64 u32 start, 68 u32 length
 *
 * The script is input like any other: every name must be NUL-terminated
 * within its field, every offset and range inside its file, and a file
 * must be allocated before a command uses it. Unlike SeaBIOS (which skips
 * what it does not know), an unknown command is an error: the only
 * scripts run here are the platform's own, and a wrong one should fail
 * its test.
 */
#include <string.h>

#include "platform/platform_internal.h"

#define NAME_MAX_ PLATFORM_FILE_NAME_MAX

static struct platform_placed *find(const uint8_t *name, struct platform_placed *files, unsigned n,
                                    const bool *allocated)
{
    if (!memchr(name, 0, NAME_MAX_))
        return NULL;
    for (unsigned i = 0; i < n; i++)
        if (allocated[i] && !strcmp((const char *)name, files[i].name))
            return &files[i];
    return NULL;
}

static cap_result allocate(const uint8_t *e, struct platform_placed *files, unsigned n,
                           bool *allocated, char *msg, size_t msglen, size_t idx)
{
    uint32_t align = (uint32_t)plat_get(e + 60, 4);
    if (!memchr(e + 4, 0, NAME_MAX_))
        return plat_fail(msg, msglen, CAP_E_INVALIDARG,
                         "table loader entry %zu: file name without a NUL", idx);
    if (align & (align - 1))
        return plat_fail(msg, msglen, CAP_E_INVALIDARG,
                         "table loader entry %zu: alignment %u is not a power of two", idx, align);
    if (e[64] != PLATFORM_ZONE_HIGH && e[64] != PLATFORM_ZONE_FSEG)
        return plat_fail(msg, msglen, CAP_E_INVALIDARG, "table loader entry %zu: zone %u", idx,
                         e[64]);
    for (unsigned i = 0; i < n; i++) {
        if (strcmp((const char *)e + 4, files[i].name))
            continue;
        if (align && files[i].gpa % align)
            return plat_fail(msg, msglen, CAP_E_INVALIDARG,
                             "table loader entry %zu: '%s' at %#llx is not %u-byte aligned", idx,
                             files[i].name, (unsigned long long)files[i].gpa, align);
        allocated[i] = true;
        return CAP_OK;
    }
    return plat_fail(msg, msglen, CAP_E_INVALIDARG,
                     "table loader entry %zu: no file '%s' was placed", idx, (const char *)e + 4);
}

static cap_result add_pointer(const uint8_t *e, struct platform_placed *files, unsigned n,
                              const bool *allocated, char *msg, size_t msglen, size_t idx)
{
    struct platform_placed *dst = find(e + 4, files, n, allocated);
    struct platform_placed *src = find(e + 60, files, n, allocated);
    uint32_t off = (uint32_t)plat_get(e + 116, 4);
    uint8_t size = e[120];
    if (!dst || !src)
        return plat_fail(msg, msglen, CAP_E_INVALIDARG,
                         "table loader entry %zu: ADD_POINTER names a file not allocated", idx);
    if ((size != 1 && size != 2 && size != 4 && size != 8) || off > dst->len ||
        dst->len - off < size)
        return plat_fail(msg, msglen, CAP_E_INVALIDARG,
                         "table loader entry %zu: a %u-byte pointer at %u is outside '%s' (%zu "
                         "bytes) or of a bad size",
                         idx, size, off, dst->name, dst->len);
    uint64_t v = plat_get(dst->data + off, size), sum = v + src->gpa;
    if (sum < v || (size < 8 && sum >> (8 * size)))
        return plat_fail(msg, msglen, CAP_E_INVALIDARG,
                         "table loader entry %zu: '%s' at %#llx does not fit the %u-byte pointer "
                         "at %u of '%s'",
                         idx, src->name, (unsigned long long)src->gpa, size, off, dst->name);
    plat_put(dst->data + off, sum, size);
    return CAP_OK;
}

static cap_result add_checksum(const uint8_t *e, struct platform_placed *files, unsigned n,
                               const bool *allocated, char *msg, size_t msglen, size_t idx)
{
    struct platform_placed *f = find(e + 4, files, n, allocated);
    uint32_t off = (uint32_t)plat_get(e + 60, 4), start = (uint32_t)plat_get(e + 64, 4),
             len = (uint32_t)plat_get(e + 68, 4);
    if (!f)
        return plat_fail(msg, msglen, CAP_E_INVALIDARG,
                         "table loader entry %zu: ADD_CHECKSUM names a file not allocated", idx);
    if (off >= f->len || start > f->len || f->len - start < len)
        return plat_fail(msg, msglen, CAP_E_INVALIDARG,
                         "table loader entry %zu: checksum at %u over [%u, +%u) is outside '%s' "
                         "(%zu bytes)",
                         idx, off, start, len, f->name, f->len);
    f->data[off] = (uint8_t)(f->data[off] + platform_checksum(f->data + start, len));
    return CAP_OK;
}

cap_result platform_loader_run(const uint8_t *script, size_t len, struct platform_placed *files,
                               unsigned nfiles, char *msg, size_t msglen)
{
    bool allocated[32] = {false};
    if (nfiles > 32)
        return plat_fail(msg, msglen, CAP_E_INVALIDARG, "more than 32 files for the table loader");
    if (len % PLATFORM_LOADER_ENTRY)
        return plat_fail(msg, msglen, CAP_E_INVALIDARG,
                         "table loader: %zu bytes is not a whole number of %u-byte entries", len,
                         PLATFORM_LOADER_ENTRY);
    for (size_t i = 0; i < len / PLATFORM_LOADER_ENTRY; i++) {
        const uint8_t *e = script + i * PLATFORM_LOADER_ENTRY;
        uint32_t cmd = (uint32_t)plat_get(e, 4);
        cap_result rc;
        switch (cmd) {
        case PLATFORM_LOADER_ALLOCATE:
            rc = allocate(e, files, nfiles, allocated, msg, msglen, i);
            break;
        case PLATFORM_LOADER_ADD_POINTER:
            rc = add_pointer(e, files, nfiles, allocated, msg, msglen, i);
            break;
        case PLATFORM_LOADER_ADD_CHECKSUM:
            rc = add_checksum(e, files, nfiles, allocated, msg, msglen, i);
            break;
        default:
            rc = plat_fail(msg, msglen, CAP_E_INVALIDARG, "table loader entry %zu: command %u", i,
                           cmd);
            break;
        }
        if (CAP_FAILED(rc))
            return rc;
    }
    return CAP_OK;
}
