/*
 * tests/unit/vd/test_qemu.c - interoperability with qemu-img and qemu-io,
 * the independent VDI implementation at hand: images made here pass
 * `qemu-img check` and compare equal to a raw copy; images qemu-img makes
 * (dynamic and static) open here and read back what qemu-io wrote, and
 * take writes that qemu-img then checks and reads; threads writing one
 * image at once leave it clean.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/result.h>

#include "vd_test.h"

/* Writes pattern 11 into blocks 0, 2 (part), 7 and the last sector. */
static void write_some(struct vd_disk *d)
{
    uint8_t *buf = malloc(MIB);
    pattern(buf, MIB, 11, 0);
    ck_assert_int_eq(vd_write(d, 0, buf, MIB), CAP_OK);
    pattern(buf, 64 * 1024, 11, 2 * MIB + 8192);
    ck_assert_int_eq(vd_write(d, 2 * MIB + 8192, buf, 64 * 1024), CAP_OK);
    pattern(buf, 4096, 11, 7 * MIB);
    ck_assert_int_eq(vd_write(d, 7 * MIB, buf, 4096), CAP_OK);
    pattern(buf, 512, 11, vd_size(d) - 512);
    ck_assert_int_eq(vd_write(d, vd_size(d) - 512, buf, 512), CAP_OK);
    ck_assert_int_eq(vd_flush(d), CAP_OK);
    free(buf);
}

static void expect_clean(const char *path)
{
    char out[4096];
    int rc = run(out, sizeof out, "qemu-img check -f vdi '%s'", path);
    ck_assert_msg(rc == 0, "qemu-img check: %d: %s", rc, out);
    ck_assert_msg(strstr(out, "No errors"), "qemu-img check: %s", out);
}

static void capsule_image_passes(enum vd_variant v, const char *name)
{
    char vdi[512], raw[600], out[4096];
    struct vd_disk *d;
    snprintf(vdi, sizeof vdi, "%s", scratch(name));
    snprintf(raw, sizeof raw, "%s.raw", vdi);
    ck_assert_int_eq(vd_create(vdi, VD_FORMAT_VDI, 9 * MIB + 512, v, &d), CAP_OK);
    write_some(d);
    vd_close(d);
    expect_clean(vdi);
    ck_assert_int_eq(run(out, sizeof out, "qemu-img info -f vdi '%s'", vdi), 0);
    ck_assert_msg(strstr(out, "virtual size: 9 MiB (9437696 bytes)"), "%s", out);
    ck_assert_int_eq(run(out, sizeof out, "qemu-img convert -f vdi -O raw '%s' '%s'", vdi, raw), 0);
    ck_assert_int_eq(run(out, sizeof out, "qemu-img compare -f vdi -F raw '%s' '%s'", vdi, raw), 0);
    /* the raw copy holds exactly what was written */
    ck_assert_int_eq(vd_open(raw, VD_FORMAT_RAW, VD_OPEN_READONLY, &d), CAP_OK);
    uint8_t *buf = malloc(MIB);
    ck_assert_int_eq(vd_read(d, 0, buf, MIB), CAP_OK);
    ck_assert(has_pattern(buf, MIB, 11, 0));
    ck_assert_int_eq(vd_read(d, 7 * MIB, buf, 4096), CAP_OK);
    ck_assert(has_pattern(buf, 4096, 11, 7 * MIB));
    vd_close(d);
    free(buf);
}

START_TEST(capsule_dynamic_passes_qemu)
{
    capsule_image_passes(VD_VARIANT_DYNAMIC, "cd.vdi");
}
END_TEST

START_TEST(capsule_fixed_passes_qemu)
{
    capsule_image_passes(VD_VARIANT_FIXED, "cf.vdi");
}
END_TEST

/* qemu-img creates, qemu-io writes; Capsule reads, writes more; qemu-img
 * checks and reads what Capsule wrote. */
static void qemu_image_opens(const char *opts, enum vd_variant v, const char *name)
{
    char vdi[512], out[4096];
    struct vd_disk *d;
    uint8_t *buf = malloc(MIB);
    snprintf(vdi, sizeof vdi, "%s", scratch(name));
    ck_assert_int_eq(run(out, sizeof out, "qemu-img create -q -f vdi %s '%s' 16M", opts, vdi), 0);
    ck_assert_int_eq(run(out, sizeof out,
                         "qemu-io -f vdi -c 'write -P 0x5a 1M 64k' -c 'write -P 0xa5 15M 1M' '%s'",
                         vdi),
                     0);
    ck_assert_int_eq(vd_open(vdi, VD_FORMAT_AUTO, VD_OPEN_READWRITE, &d), CAP_OK);
    ck_assert_int_eq(vd_get_format(d), VD_FORMAT_VDI);
    ck_assert_int_eq(vd_get_variant(d), v);
    ck_assert_uint_eq(vd_size(d), 16 * MIB);
    ck_assert_int_eq(vd_read(d, MIB, buf, MIB), CAP_OK);
    ck_assert(all_bytes(buf, 65536, 0x5a));
    ck_assert(all_bytes(buf + 65536, MIB - 65536, 0));
    ck_assert_int_eq(vd_read(d, 15 * MIB, buf, MIB), CAP_OK);
    ck_assert(all_bytes(buf, MIB, 0xa5));
    ck_assert_int_eq(vd_read(d, 4 * MIB, buf, MIB), CAP_OK);
    ck_assert(all_bytes(buf, MIB, 0));
    memset(buf, 0x3c, 8192);
    ck_assert_int_eq(vd_write(d, 9 * MIB + 4096, buf, 8192), CAP_OK);
    memset(buf, 0x77, 512);
    ck_assert_int_eq(vd_write(d, MIB + 65536, buf, 512), CAP_OK);
    vd_close(d);
    expect_clean(vdi);
    ck_assert_int_eq(run(out, sizeof out,
                         "qemu-io -f vdi -c 'read -P 0x3c 9220k 8k' -c 'read -P 0 9M 4k' "
                         "-c 'read -P 0x77 1088k 512' -c 'read -P 0x5a 1M 64k' '%s'",
                         vdi),
                     0);
    ck_assert_msg(!strstr(out, "Pattern verification failed"), "qemu-io: %s", out);
    free(buf);
}

START_TEST(qemu_dynamic_opens)
{
    qemu_image_opens("", VD_VARIANT_DYNAMIC, "qd.vdi");
}
END_TEST

START_TEST(qemu_static_opens)
{
    qemu_image_opens("-o static=on", VD_VARIANT_FIXED, "qs.vdi");
}
END_TEST

/* Four threads write interleaved pieces of the same blocks at once:
 * every block is allocated once, every piece reads back, qemu-img agrees. */
struct racer {
    struct vd_disk *d;
    unsigned id;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    uint8_t buf[4096];
    for (uint64_t off = r->id * 4096ull; off < 16 * MIB; off += 4 * 4096) {
        pattern(buf, sizeof buf, 21, off);
        if (vd_write(r->d, off, buf, sizeof buf) != CAP_OK)
            return "write failed";
    }
    return NULL;
}

START_TEST(threads_share_a_disk)
{
    char p[512];
    struct vd_disk *d;
    struct racer r[4];
    pthread_t t[4];
    uint64_t a;
    snprintf(p, sizeof p, "%s", scratch("race.vdi"));
    ck_assert_int_eq(vd_create(p, VD_FORMAT_VDI, 16 * MIB, VD_VARIANT_DYNAMIC, &d), CAP_OK);
    for (unsigned i = 0; i < 4; i++) {
        r[i] = (struct racer){d, i};
        ck_assert_int_eq(pthread_create(&t[i], NULL, race, &r[i]), 0);
    }
    for (unsigned i = 0; i < 4; i++) {
        void *res;
        pthread_join(t[i], &res);
        ck_assert_ptr_null(res);
    }
    ck_assert_int_eq(vd_flush(d), CAP_OK);
    ck_assert_int_eq(vd_allocated(d, &a), CAP_OK);
    ck_assert_uint_eq(a, 16 * MIB);
    uint8_t *buf = malloc(16 * MIB);
    ck_assert_int_eq(vd_read(d, 0, buf, 16 * MIB), CAP_OK);
    ck_assert(has_pattern(buf, 16 * MIB, 21, 0));
    free(buf);
    vd_close(d);
    expect_clean(p);
}
END_TEST

TCase *tcase_qemu(void)
{
    TCase *tc = tcase_create("qemu");
    tcase_add_test(tc, capsule_dynamic_passes_qemu);
    tcase_add_test(tc, capsule_fixed_passes_qemu);
    tcase_add_test(tc, qemu_dynamic_opens);
    tcase_add_test(tc, qemu_static_opens);
    tcase_add_test(tc, threads_share_a_disk);
    return tc;
}
