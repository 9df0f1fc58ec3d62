/*
 * tests/unit/vd/test_hostile.c - VDI images with bad fields: each one
 * fails to open with CAP_E_INVALIDARG and a message naming what is wrong;
 * the crash leftovers (a leaked block, a count above the map) are handled.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capsule/result.h>

#include "vd_test.h"

/* Header field offsets (the VDI 1.1 layout; see runtime/vd/vdi.c). */
enum {
    H_VERSION = 68,
    H_HEADER_SIZE = 72,
    H_TYPE = 76,
    H_OFF_MAP = 340,
    H_OFF_DATA = 344,
    H_SECTOR_SIZE = 360,
    H_DISK_SIZE = 368,
    H_BLOCK_SIZE = 376,
    H_BLOCK_EXTRA = 380,
    H_BLOCKS = 384,
    H_ALLOCATED = 388,
    H_UUID_PARENT = 440,
    MAP = 512,
};

static void poke32(const char *path, off_t off, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    int fd = open(path, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, b, 4, off), 4);
    close(fd);
}

static uint32_t peek32(const char *path, off_t off)
{
    uint8_t b[4];
    int fd = open(path, O_RDONLY);
    ck_assert_int_eq(pread(fd, b, 4, off), 4);
    close(fd);
    return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

/* A 4 MiB dynamic image with blocks 0 and 2 written (data blocks 0, 1). */
static const char *good_image(void)
{
    static char path[512];
    struct vd_disk *d;
    uint8_t *buf = malloc(MIB);
    snprintf(path, sizeof path, "%s", scratch("h.vdi"));
    unlink(path);
    ck_assert_int_eq(vd_create(path, VD_FORMAT_VDI, 4 * MIB, VD_VARIANT_DYNAMIC, &d), CAP_OK);
    pattern(buf, MIB, 1, 0);
    ck_assert_int_eq(vd_write(d, 0, buf, MIB), CAP_OK);
    pattern(buf, MIB, 1, 2 * MIB);
    ck_assert_int_eq(vd_write(d, 2 * MIB, buf, MIB), CAP_OK);
    vd_close(d);
    free(buf);
    return path;
}

static void expect_bad(const char *path, const char *words)
{
    struct vd_disk *d = NULL;
    ck_assert_int_eq(vd_open(path, VD_FORMAT_VDI, VD_OPEN_READWRITE, &d), CAP_E_INVALIDARG);
    ck_assert_ptr_null(d);
    const char *m = take_message();
    ck_assert_msg(strstr(m, words), "message '%s' lacks '%s'", m, words);
}

static const struct {
    int off;
    uint32_t value;
    const char *words;
} bad_fields[] = {
    {H_VERSION, 0x00010000, "version 1.0"},
    {H_HEADER_SIZE, 12, "header size"},
    {H_HEADER_SIZE, 0xFFFFFFFF, "header size"},
    {H_TYPE, 4, "image type 4"},
    {H_TYPE, 3, "image type 3"},
    {H_UUID_PARENT, 0x1234, "differencing"},
    {H_SECTOR_SIZE, 4096, "sector size"},
    {H_BLOCK_SIZE, 0, "block size"},
    {H_BLOCK_SIZE, 3 * 512, "block size"},
    {H_BLOCK_SIZE, 0x80000000u, "block size"},
    {H_BLOCK_EXTRA, 512, "extra"},
    {H_BLOCKS, 0xFFFFFFFF, "blocks"},
    {H_BLOCKS, 1, "disk size"},
    {H_BLOCKS, 1u << 20, "data offset"},
    {H_DISK_SIZE + 4, 1, "disk size"},
    {H_ALLOCATED, 5, "allocated of 4"},
    {H_ALLOCATED, 1, "past the 1 allocated"},
    {H_OFF_MAP, 100, "block map offset"},
    {H_OFF_MAP, 0, "block map offset"},
    {H_OFF_MAP, 0xFFFFFE00, "data offset"},
    {H_OFF_DATA, 513, "data offset"},
    {H_OFF_DATA, 0xFFFFFE00, "past the end of the file"},
    {MAP + 4, 0, "named twice"},
    {MAP + 4, 7, "past the 2 allocated"},
};

START_TEST(bad_field)
{
    const char *p = good_image();
    poke32(p, bad_fields[_i].off, bad_fields[_i].value);
    expect_bad(p, bad_fields[_i].words);
}
END_TEST

START_TEST(truncated_files)
{
    const char *p = good_image();
    ck_assert_int_eq(truncate(p, MIB + MIB / 2), 0); /* data block 1 cut */
    expect_bad(p, "truncated");
    ck_assert_int_eq(truncate(p, 520), 0); /* the map cut */
    expect_bad(p, "block map");
    ck_assert_int_eq(truncate(p, 100), 0);
    expect_bad(p, "100 bytes");
    /* probed: the signature makes it a (bad) VDI, never a RAW disk */
    struct vd_disk *d = NULL;
    ck_assert_int_eq(vd_open(p, VD_FORMAT_AUTO, VD_OPEN_READONLY, &d), CAP_E_INVALIDARG);
}
END_TEST

/* What a kill between the header count and the map entry leaves: the
 * count one above the map. A read-only open works as is; a read-write open
 * lowers the count; the next block reuses the leaked space and reads back
 * zeros where it was not written. */
START_TEST(count_above_map_repaired)
{
    const char *p = good_image();
    struct vd_disk *d;
    uint8_t *buf = malloc(MIB);
    int fd = open(p, O_WRONLY);
    memset(buf, 0xEE, MIB);
    ck_assert_int_eq(pwrite(fd, buf, MIB, 3 * MIB), MIB); /* leaked data block 2 */
    close(fd);
    poke32(p, H_ALLOCATED, 3);
    ck_assert_int_eq(vd_open(p, VD_FORMAT_VDI, VD_OPEN_READONLY, &d), CAP_OK);
    vd_close(d);
    ck_assert_uint_eq(peek32(p, H_ALLOCATED), 3);
    ck_assert_int_eq(vd_open(p, VD_FORMAT_VDI, VD_OPEN_READWRITE, &d), CAP_OK);
    ck_assert_uint_eq(peek32(p, H_ALLOCATED), 2);
    pattern(buf, 512, 9, 3 * MIB + 4096);
    ck_assert_int_eq(vd_write(d, 3 * MIB + 4096, buf, 512), CAP_OK);
    ck_assert_uint_eq(peek32(p, H_ALLOCATED), 2); /* metadata waits for the flush */
    ck_assert_int_eq(vd_flush(d), CAP_OK);
    ck_assert_uint_eq(peek32(p, H_ALLOCATED), 3);
    ck_assert_uint_eq(peek32(p, MAP + 12), 2);
    ck_assert_int_eq(vd_read(d, 3 * MIB, buf, MIB), CAP_OK);
    ck_assert(all_bytes(buf, 4096, 0));
    ck_assert(all_bytes(buf + 4096 + 512, MIB - 4096 - 512, 0));
    ck_assert(has_pattern(buf + 4096, 512, 9, 3 * MIB + 4096));
    ck_assert_int_eq(vd_read(d, 2 * MIB, buf, MIB), CAP_OK);
    ck_assert(has_pattern(buf, MIB, 1, 2 * MIB));
    vd_close(d);
    free(buf);
}
END_TEST

/* Images of more than 896 blocks keep the count and far map entries in
 * different pages: both still end up written. */
START_TEST(far_map_entry)
{
    const char *p = scratch("big.vdi");
    struct vd_disk *d;
    uint8_t buf[512];
    ck_assert_int_eq(vd_create(p, VD_FORMAT_VDI, 2048ull * MIB, VD_VARIANT_DYNAMIC, &d), CAP_OK);
    pattern(buf, sizeof buf, 5, 2000ull * MIB);
    ck_assert_int_eq(vd_write(d, 2000ull * MIB, buf, sizeof buf), CAP_OK);
    vd_close(d); /* writes the pending metadata */
    ck_assert_uint_eq(peek32(p, H_ALLOCATED), 1);
    ck_assert_uint_eq(peek32(p, MAP + 4 * 2000), 0);
    ck_assert_int_eq(vd_open(p, VD_FORMAT_AUTO, VD_OPEN_READONLY, &d), CAP_OK);
    memset(buf, 0, sizeof buf);
    ck_assert_int_eq(vd_read(d, 2000ull * MIB, buf, sizeof buf), CAP_OK);
    ck_assert(has_pattern(buf, sizeof buf, 5, 2000ull * MIB));
    vd_close(d);
}
END_TEST

/* Without a flush, new blocks' metadata goes to disk 32 blocks at a time;
 * the rest at vd_flush. */
START_TEST(metadata_batches)
{
    const char *p = scratch("batch.vdi");
    struct vd_disk *d;
    uint8_t buf[512];
    ck_assert_int_eq(vd_create(p, VD_FORMAT_VDI, 40 * MIB, VD_VARIANT_DYNAMIC, &d), CAP_OK);
    for (uint32_t b = 0; b < 40; b++) {
        pattern(buf, sizeof buf, b, (uint64_t)b * MIB);
        ck_assert_int_eq(vd_write(d, (uint64_t)(39 - b) * MIB, buf, sizeof buf), CAP_OK);
    }
    ck_assert_uint_eq(peek32(p, H_ALLOCATED), 32);
    ck_assert_uint_eq(peek32(p, MAP + 4 * 39), 0);
    ck_assert_uint_eq(peek32(p, MAP + 4 * 8), 31);
    ck_assert_uint_eq(peek32(p, MAP + 4 * 7), 0xFFFFFFFF);
    ck_assert_int_eq(vd_flush(d), CAP_OK);
    ck_assert_uint_eq(peek32(p, H_ALLOCATED), 40);
    ck_assert_uint_eq(peek32(p, MAP + 4 * 0), 39);
    vd_close(d);
}
END_TEST

/* The image's descriptor in this process (the one open on `path`). */
static int image_fd(const char *path)
{
    char link[64], target[4096];
    for (int fd = 3; fd < 1024; fd++) {
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n > 0 && (target[n] = '\0', !strcmp(target, path)))
            return fd;
    }
    return -1;
}

/* A metadata write that fails (the image's descriptor swapped for a
 * read-only one under it): that flush and every later one fail, and no new
 * block is taken, until a flush writes the metadata after all; then the
 * block's data is in the image for good. A later flush must never report
 * success while a new block's map entry is not on disk. */
START_TEST(failed_metadata_write_retried)
{
    const char *p = scratch("fail.vdi");
    char path[4096];
    struct vd_disk *d;
    uint8_t buf[512];
    ck_assert_int_eq(vd_create(p, VD_FORMAT_VDI, 8 * MIB, VD_VARIANT_DYNAMIC, &d), CAP_OK);
    ck_assert_ptr_nonnull(realpath(p, path));
    pattern(buf, sizeof buf, 7, 3 * MIB);
    ck_assert_int_eq(vd_write(d, 3 * MIB, buf, sizeof buf), CAP_OK);
    int fd = image_fd(path), keep = dup(fd), ro = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_ge(ro, 0);
    ck_assert_int_eq(dup2(ro, fd), fd);
    ck_assert_int_eq(vd_flush(d), CAP_E_IO);
    take_message();
    ck_assert_int_eq(vd_flush(d), CAP_E_IO); /* still not on disk */
    take_message();
    ck_assert_int_eq(vd_write(d, 5 * MIB, buf, sizeof buf), CAP_E_IO); /* no new block */
    take_message();
    ck_assert_uint_eq(peek32(p, H_ALLOCATED), 0);
    ck_assert_int_eq(dup2(keep, fd), fd); /* the host's trouble is over */
    close(keep);
    close(ro);
    ck_assert_int_eq(vd_flush(d), CAP_OK);
    ck_assert_uint_eq(peek32(p, H_ALLOCATED), 1);
    ck_assert_uint_eq(peek32(p, MAP + 12), 0);
    pattern(buf, sizeof buf, 8, 5 * MIB); /* and new blocks again */
    ck_assert_int_eq(vd_write(d, 5 * MIB, buf, sizeof buf), CAP_OK);
    vd_close(d);
    ck_assert_int_eq(vd_open(p, VD_FORMAT_VDI, VD_OPEN_READONLY, &d), CAP_OK);
    ck_assert_int_eq(vd_read(d, 3 * MIB, buf, sizeof buf), CAP_OK);
    ck_assert(has_pattern(buf, sizeof buf, 7, 3 * MIB));
    ck_assert_int_eq(vd_read(d, 5 * MIB, buf, sizeof buf), CAP_OK);
    ck_assert(has_pattern(buf, sizeof buf, 8, 5 * MIB));
    vd_close(d);
}
END_TEST

TCase *tcase_hostile(void)
{
    TCase *tc = tcase_create("hostile");
    tcase_add_loop_test(tc, bad_field, 0, sizeof bad_fields / sizeof bad_fields[0]);
    tcase_add_test(tc, truncated_files);
    tcase_add_test(tc, count_above_map_repaired);
    tcase_add_test(tc, far_map_entry);
    tcase_add_test(tc, metadata_batches);
    tcase_add_test(tc, failed_metadata_write_retried);
    return tc;
}
