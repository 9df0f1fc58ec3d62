/*
 * tests/unit/vd/test_formats.c - round trips for RAW, ISO and VDI (dynamic
 * and fixed), probing, properties and the argument checks.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capsule/result.h>

#include "vd_test.h"

/* Writes a pattern at a few awkward places (first sector, across a block
 * boundary, a middle piece, the last sector), closes, reopens with the
 * format probed, and reads everything back (zeros elsewhere). */
static void round_trip(const char *path, enum vd_format fmt, enum vd_variant v, uint64_t size)
{
    static const struct {
        uint64_t off;
        size_t len;
    } w[] = {{0, 512}, {MIB - 4096, 8192}, {3 * MIB + 512, 3 * 512}, {5 * MIB, 2 * MIB}};
    struct vd_disk *d;
    uint8_t *buf = malloc(size);
    ck_assert_int_eq(vd_create(path, fmt, size, v, &d), CAP_OK);
    ck_assert_uint_eq(vd_size(d), size);
    ck_assert_int_eq(vd_get_format(d), fmt);
    ck_assert_int_eq(vd_get_variant(d), v);
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
        pattern(buf, w[i].len, 7, w[i].off);
        ck_assert_int_eq(vd_write(d, w[i].off, buf, w[i].len), CAP_OK);
    }
    pattern(buf, 512, 7, size - 512);
    ck_assert_int_eq(vd_write(d, size - 512, buf, 512), CAP_OK);
    ck_assert_int_eq(vd_flush(d), CAP_OK);
    vd_close(d);

    ck_assert_int_eq(vd_open(path, VD_FORMAT_AUTO, VD_OPEN_READONLY, &d), CAP_OK);
    ck_assert_int_eq(vd_get_format(d), fmt);
    ck_assert_uint_eq(vd_size(d), size);
    ck_assert(vd_is_readonly(d));
    ck_assert_int_eq(vd_read(d, 0, buf, size), CAP_OK);
    uint8_t *want = calloc(1, size);
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        pattern(want + w[i].off, w[i].len, 7, w[i].off);
    pattern(want + size - 512, 512, 7, size - 512);
    ck_assert(memcmp(buf, want, size) == 0);
    vd_close(d);
    free(want);
    free(buf);
}

/* vd_allocated of the image at path, whose variant must be `want`. */
static uint64_t allocated_bytes(const char *path, enum vd_variant want)
{
    struct vd_disk *d;
    uint64_t a;
    ck_assert_int_eq(vd_open(path, VD_FORMAT_AUTO, VD_OPEN_READWRITE, &d), CAP_OK);
    ck_assert_int_eq(vd_get_variant(d), want);
    ck_assert_int_eq(vd_allocated(d, &a), CAP_OK);
    vd_close(d);
    return a;
}

START_TEST(raw_round_trip)
{
    round_trip(scratch("a.raw"), VD_FORMAT_RAW, VD_VARIANT_DYNAMIC, 10 * MIB + 512);
    struct stat st;
    ck_assert_int_eq(stat(scratch("a.raw"), &st), 0);
    ck_assert_int_lt(st.st_blocks * 512, 6 * MIB); /* sparse */
}
END_TEST

START_TEST(raw_fixed_allocates)
{
    struct vd_disk *d;
    uint64_t a;
    ck_assert_int_eq(vd_create(scratch("f.raw"), VD_FORMAT_RAW, 4 * MIB, VD_VARIANT_FIXED, &d),
                     CAP_OK);
    ck_assert_int_eq(vd_allocated(d, &a), CAP_OK);
    ck_assert_uint_ge(a, 4 * MIB);
    vd_close(d);
}
END_TEST

START_TEST(vdi_dynamic_round_trip)
{
    const char *p = scratch("d.vdi");
    round_trip(p, VD_FORMAT_VDI, VD_VARIANT_DYNAMIC, 20 * MIB + 512);
    /* blocks 0, 1, 3, 5, 6 and the last (20) */
    ck_assert_uint_eq(allocated_bytes(p, VD_VARIANT_DYNAMIC), 6 * MIB);
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_int_le(st.st_size, 8 * MIB); /* header, map and six blocks */
}
END_TEST

START_TEST(vdi_fixed_round_trip)
{
    const char *p = scratch("f.vdi");
    round_trip(p, VD_FORMAT_VDI, VD_VARIANT_FIXED, 8 * MIB);
    ck_assert_uint_eq(allocated_bytes(p, VD_VARIANT_FIXED), 8 * MIB);
}
END_TEST

/* The VDI's image UUID is what VirtualBox calls the medium's ID: stable
 * across opens, stored in VirtualBox's byte order (the first three fields
 * little-endian), a random version-4 UUID. */
START_TEST(vdi_uuid)
{
    char p[512];
    struct vd_disk *d;
    cap_uuid u1, u2;
    uint8_t disk[16];
    snprintf(p, sizeof p, "%s", scratch("u.vdi"));
    ck_assert_int_eq(vd_create(p, VD_FORMAT_VDI, MIB, VD_VARIANT_DYNAMIC, &d), CAP_OK);
    ck_assert_int_eq(vd_get_uuid(d, &u1), CAP_OK);
    vd_close(d);
    ck_assert_uint_eq(u1.b[6] >> 4, 4);
    ck_assert_int_eq(vd_open(p, VD_FORMAT_AUTO, VD_OPEN_READONLY, &d), CAP_OK);
    ck_assert_int_eq(vd_get_uuid(d, &u2), CAP_OK);
    vd_close(d);
    ck_assert(memcmp(&u1, &u2, 16) == 0);
    int fd = open(p, O_RDONLY);
    ck_assert_int_eq(pread(fd, disk, 16, 392), 16);
    close(fd);
    ck_assert_uint_eq(disk[0], u1.b[3]);
    ck_assert_uint_eq(disk[4], u1.b[5]);
    ck_assert_uint_eq(disk[7], u1.b[6]);
    ck_assert_uint_eq(disk[8], u1.b[8]);
    ck_assert_int_eq(vd_create(scratch("u.raw"), VD_FORMAT_RAW, MIB, VD_VARIANT_DYNAMIC, &d),
                     CAP_OK);
    ck_assert_int_eq(vd_get_uuid(d, &u2), CAP_FALSE_RESULT);
    vd_close(d);
}
END_TEST

START_TEST(iso_is_read_only)
{
    const char *p = scratch("cd.iso");
    int fd = open(p, O_CREAT | O_WRONLY, 0644);
    uint8_t buf[4096];
    pattern(buf, sizeof buf, 3, 0);
    ck_assert_int_eq(write(fd, buf, sizeof buf), sizeof buf);
    close(fd);
    struct vd_disk *d;
    ck_assert_int_eq(vd_open(p, VD_FORMAT_ISO, VD_OPEN_READWRITE, &d), CAP_OK);
    ck_assert(vd_is_readonly(d));
    ck_assert_uint_eq(vd_sector_size(d), 2048);
    ck_assert_uint_eq(vd_size(d), 4096);
    memset(buf, 0, sizeof buf);
    ck_assert_int_eq(vd_read(d, 0, buf, sizeof buf), CAP_OK);
    ck_assert(has_pattern(buf, sizeof buf, 3, 0));
    ck_assert_int_eq(vd_write(d, 0, buf, 512), CAP_E_ACCESSDENIED);
    ck_assert_ptr_nonnull(strstr(take_message(), "read-only"));
    vd_close(d);
    ck_assert_int_eq(vd_create(p, VD_FORMAT_ISO, MIB, VD_VARIANT_DYNAMIC, NULL), CAP_E_INVALIDARG);
}
END_TEST

START_TEST(bad_arguments)
{
    char p[512];
    snprintf(p, sizeof p, "%s", scratch("x.vdi"));
    struct vd_disk *d, *d2;
    uint8_t buf[1024] = {0};
    ck_assert_int_eq(vd_create(p, VD_FORMAT_VDI, 1000, VD_VARIANT_DYNAMIC, &d), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(take_message(), "multiple of 512"));
    ck_assert_int_eq(access(p, F_OK), -1);
    ck_assert_int_eq(vd_create(p, VD_FORMAT_VDI, 0, VD_VARIANT_DYNAMIC, &d), CAP_E_INVALIDARG);
    ck_assert_int_eq(vd_create(p, VD_FORMAT_VDI, 2 * MIB, VD_VARIANT_DYNAMIC, &d), CAP_OK);
    ck_assert_int_eq(vd_read(d, 100, buf, 512), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(take_message(), "whole sectors"));
    ck_assert_int_eq(vd_write(d, 0, buf, 100), CAP_E_INVALIDARG);
    ck_assert_int_eq(vd_read(d, 2 * MIB - 512, buf, 1024), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(take_message(), "past the end"));
    ck_assert_int_eq(vd_read(d, UINT64_MAX - 511, buf, 512), CAP_E_INVALIDARG);
    ck_assert_int_eq(vd_read(d, 0, NULL, 512), CAP_E_POINTER);
    /* a second writer, or a reader beside the writer, is refused */
    ck_assert_int_eq(vd_open(p, VD_FORMAT_AUTO, VD_OPEN_READWRITE, &d2), CAP_E_ACCESSDENIED);
    ck_assert_ptr_nonnull(strstr(take_message(), "in use"));
    ck_assert_int_eq(vd_open(p, VD_FORMAT_AUTO, VD_OPEN_READONLY, &d2), CAP_E_ACCESSDENIED);
    vd_close(d);
    ck_assert_int_eq(vd_create(p, VD_FORMAT_VDI, 2 * MIB, VD_VARIANT_DYNAMIC, NULL),
                     CAP_E_ACCESSDENIED);
    ck_assert_ptr_nonnull(strstr(take_message(), "exists"));
    ck_assert_int_eq(vd_open(scratch("none"), VD_FORMAT_AUTO, 0, &d), CAP_E_IO);
    ck_assert_ptr_nonnull(strstr(take_message(), "No such file"));
    /* two readers share */
    ck_assert_int_eq(vd_open(p, VD_FORMAT_AUTO, VD_OPEN_READONLY, &d), CAP_OK);
    ck_assert_int_eq(vd_open(p, VD_FORMAT_AUTO, VD_OPEN_READONLY, &d2), CAP_OK);
    vd_close(d);
    vd_close(d2);
}
END_TEST

START_TEST(format_names)
{
    enum vd_format f;
    ck_assert_str_eq(vd_format_name(VD_FORMAT_VDI), "VDI");
    ck_assert_int_eq(vd_format_from_name("vdi", &f), CAP_OK);
    ck_assert_int_eq(f, VD_FORMAT_VDI);
    ck_assert_int_eq(vd_format_from_name("Raw", &f), CAP_OK);
    ck_assert_int_eq(f, VD_FORMAT_RAW);
    ck_assert_int_eq(vd_format_from_name("qcow2", &f), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(take_message(), "qcow2"));
}
END_TEST

TCase *tcase_formats(void)
{
    TCase *tc = tcase_create("formats");
    tcase_add_test(tc, raw_round_trip);
    tcase_add_test(tc, raw_fixed_allocates);
    tcase_add_test(tc, vdi_dynamic_round_trip);
    tcase_add_test(tc, vdi_fixed_round_trip);
    tcase_add_test(tc, vdi_uuid);
    tcase_add_test(tc, iso_is_read_only);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, format_names);
    return tc;
}
