/*
 * tests/unit/pdm/test_pdm_blk.c - PDM's block layer (vmm/pdm/pdm_blk.c)
 * through a test device that attaches LUNs and submits requests the way a
 * storage controller does: completion off the calling thread under the
 * device lock, in order, exactly once; the synchronous refusals (range,
 * alignment, read-only media, no medium); FLUSH and FUA; cancel (no
 * completion afterwards); medium changes from the host and the guest with
 * the lock; drain; and the configuration errors (a drive nobody takes, two
 * on one LUN, a bad image).
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../devices/harness.h"
#include "stam/stam.h"

#define NREQ 64

struct blkdev {
    struct pdm_blk *blk[3];
    struct pdm_blk_req req[NREQ];
    uint8_t buf[NREQ][4096];
    unsigned done, order[NREQ];
    cap_result status[NREQ];
    bool off_thread;
    unsigned changes;
    bool last_present;
    pthread_t test_thread;
};

static struct harness h;
static char disk[64], iso[64], iso2[64];

static void complete(struct pdm_dev *dev, void *user, struct pdm_blk_req *req)
{
    struct blkdev *s = dev->data;
    unsigned i = (unsigned)(req - s->req);
    s->order[s->done++] = i;
    s->status[i] = req->status;
    if (!pthread_equal(pthread_self(), s->test_thread))
        s->off_thread = true;
}

static void changed(struct pdm_dev *dev, void *user, bool present)
{
    struct blkdev *s = dev->data;
    s->changes++;
    s->last_present = present;
}

static const struct pdm_blk_port port = {.complete = complete, .medium_changed = changed};

static cap_result blkdev_construct(struct pdm_dev *dev, const struct pdm_cfg *cfg)
{
    struct blkdev *s = dev->data;
    for (unsigned lun = 0; lun < 3; lun++) {
        cap_result rc = dev->hlp->blk_attach(dev, lun, &port, NULL, &s->blk[lun]);
        if (CAP_FAILED(rc))
            return rc;
    }
    return CAP_OK;
}

static const struct pdm_dev_ops blkdev_ops = {.construct = blkdev_construct};
static const struct pdm_devreg blkdev_reg = {.abi = PDM_DEVREG_ABI,
                                             .name = "blkdev",
                                             .instance_size = sizeof(struct blkdev),
                                             .ops = &blkdev_ops};

static void make_file(char *path, const char *tmpl, size_t bytes)
{
    snprintf(path, 64, "%s", tmpl);
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, (off_t)bytes), 0);
    close(fd);
}

static void setup(void)
{
    h_setup(&h);
    ck_assert_int_eq(pdm_add_devreg(h.pdm, &blkdev_reg), CAP_OK);
    make_file(disk, "/tmp/blk-disk-XXXXXX", 1 << 20);
    make_file(iso, "/tmp/blk-iso-XXXXXX", 64 << 10);
    make_file(iso2, "/tmp/blk-iso2-XXXXXX", 128 << 10);
}

static void teardown(void)
{
    h_teardown(&h);
    unlink(disk);
    unlink(iso);
    unlink(iso2);
}

static cap_result drive(unsigned lun, enum pdm_blk_kind kind, const char *path, bool ro)
{
    struct pdm_drive_config dc = {
        .device = "blkdev", .lun = lun, .kind = kind, .path = path, .readonly = ro};
    return pdm_add_drive(h.pdm, &dc);
}

/* LUN 0: the disk, LUN 1: a DVD drive with the ISO, LUN 2: empty. */
static struct blkdev *machine(bool disk_ro)
{
    ck_assert_int_eq(drive(0, PDM_BLK_DISK, disk, disk_ro), CAP_OK);
    ck_assert_int_eq(drive(1, PDM_BLK_CDROM, iso, false), CAP_OK);
    ck_assert_int_eq(h_add(&h, "blkdev", NULL, 0), CAP_OK);
    ck_assert_int_eq(pdm_check_drives(h.pdm), CAP_OK);
    struct blkdev *s = pdm_find_device(h.pdm, "blkdev", 0)->data;
    s->test_thread = pthread_self();
    return s;
}

static const struct pdm_hlp *hlp(void)
{
    return pdm_find_device(h.pdm, "blkdev", 0)->hlp;
}

static cap_result submit(struct blkdev *s, unsigned lun, unsigned i, enum pdm_blk_op op,
                         uint64_t off, size_t len, uint32_t flags)
{
    s->req[i] =
        (struct pdm_blk_req){.op = op, .flags = flags, .offset = off, .buf = s->buf[i], .len = len};
    return hlp()->blk_submit(s->blk[lun], &s->req[i]);
}

START_TEST(test_attach_info)
{
    struct blkdev *s = machine(false);
    ck_assert_ptr_nonnull(s->blk[0]);
    ck_assert_ptr_nonnull(s->blk[1]);
    ck_assert_ptr_null(s->blk[2]); /* no drive on LUN 2 */
    struct pdm_blk_info i;
    hlp()->blk_info(s->blk[0], &i);
    ck_assert_int_eq(i.kind, PDM_BLK_DISK);
    ck_assert(i.present && !i.readonly && !i.locked);
    ck_assert_uint_eq(i.size, 1 << 20);
    hlp()->blk_info(s->blk[1], &i);
    ck_assert_int_eq(i.kind, PDM_BLK_CDROM);
    ck_assert(i.present && i.readonly);
    ck_assert_uint_eq(i.size, 64 << 10);
}
END_TEST

START_TEST(test_async_order)
{
    struct blkdev *s = machine(false);
    for (unsigned i = 0; i < 16; i++) {
        memset(s->buf[i], (int)i + 1, 4096);
        ck_assert_int_eq(submit(s, 0, i, PDM_BLK_WRITE, 8192, 4096, 0), CAP_OK);
    }
    ck_assert_int_eq(submit(s, 0, 16, PDM_BLK_FLUSH, 0, 0, 0), CAP_OK);
    memset(s->buf[17], 0x77, 4096);
    ck_assert_int_eq(submit(s, 0, 17, PDM_BLK_WRITE, 0, 512, PDM_BLK_F_FUA), CAP_OK);
    ck_assert_int_eq(submit(s, 0, 18, PDM_BLK_READ, 8192, 4096, 0), CAP_OK);
    pdm_blk_drain(h.pdm);
    ck_assert_uint_eq(s->done, 19);
    for (unsigned i = 0; i < 19; i++) {
        ck_assert_uint_eq(s->order[i], i);
        ck_assert_int_eq(s->status[i], CAP_OK);
    }
    ck_assert(s->off_thread);
    for (int i = 0; i < 4096; i++)
        ck_assert_uint_eq(s->buf[18][i], 16); /* the last write won */
    FILE *f = fopen(disk, "rb");
    uint8_t b[512];
    ck_assert_uint_eq(fread(b, 1, 512, f), 512);
    fclose(f);
    ck_assert_uint_eq(b[0], 0x77);
}
END_TEST

START_TEST(test_refusals)
{
    struct blkdev *s = machine(true);
    ck_assert_int_eq(submit(s, 0, 0, PDM_BLK_READ, 100, 512, 0), CAP_E_INVALIDARG);
    ck_assert_int_eq(submit(s, 0, 0, PDM_BLK_READ, 0, 100, 0), CAP_E_INVALIDARG);
    ck_assert_int_eq(submit(s, 0, 0, PDM_BLK_READ, (1 << 20) - 512, 1024, 0), CAP_E_INVALIDARG);
    ck_assert_int_eq(submit(s, 0, 0, PDM_BLK_READ, UINT64_MAX - 511, 1024, 0), CAP_E_INVALIDARG);
    ck_assert_int_eq(submit(s, 0, 0, PDM_BLK_WRITE, 0, 512, 0), CAP_E_ACCESSDENIED);
    ck_assert_int_eq(submit(s, 1, 0, PDM_BLK_WRITE, 0, 2048, 0), CAP_E_ACCESSDENIED);
    ck_assert_int_eq(hlp()->blk_eject(s->blk[1]), CAP_OK);
    ck_assert_int_eq(hlp()->blk_eject(s->blk[1]), CAP_FALSE_RESULT);
    ck_assert_int_eq(submit(s, 1, 0, PDM_BLK_READ, 0, 2048, 0), CAP_E_ABORT);
    ck_assert_int_eq(hlp()->blk_eject(s->blk[0]), CAP_E_ACCESSDENIED); /* a disk */
    pdm_blk_drain(h.pdm);
    ck_assert_uint_eq(s->done, 0); /* refused requests never complete */
}
END_TEST

START_TEST(test_cancel)
{
    struct blkdev *s = machine(false);
    for (unsigned i = 0; i < NREQ; i++)
        ck_assert_int_eq(submit(s, 0, i, PDM_BLK_WRITE, (uint64_t)i * 4096, 4096, PDM_BLK_F_FUA),
                         CAP_OK);
    hlp()->blk_cancel(s->blk[0]);
    unsigned after_cancel = s->done;
    /* the buffers are the device's again: reuse one at once */
    ck_assert_int_eq(submit(s, 0, 0, PDM_BLK_READ, 0, 4096, 0), CAP_OK);
    pdm_blk_drain(h.pdm);
    ck_assert_uint_eq(s->done, after_cancel + 1);
    ck_assert_uint_lt(after_cancel, NREQ);
    ck_assert_uint_eq(s->order[s->done - 1], 0);
}
END_TEST

START_TEST(test_medium_change)
{
    struct blkdev *s = machine(false);
    struct pdm_blk_info i;
    hlp()->blk_info(s->blk[1], &i);
    uint32_t gen = i.medium_gen;
    /* the guest locks: the host's eject needs force, the guest's fails */
    hlp()->blk_set_locked(s->blk[1], true);
    ck_assert_int_eq(pdm_drive_set_medium(h.pdm, "blkdev", 0, 1, NULL, NULL, false),
                     CAP_E_ACCESSDENIED);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "locked"));
    ck_assert_int_eq(hlp()->blk_eject(s->blk[1]), CAP_E_ACCESSDENIED);
    ck_assert_int_eq(pdm_drive_set_medium(h.pdm, "blkdev", 0, 1, NULL, NULL, true), CAP_OK);
    ck_assert_uint_eq(s->changes, 1);
    ck_assert(!s->last_present);
    hlp()->blk_info(s->blk[1], &i);
    ck_assert(!i.present && !i.locked);
    ck_assert_uint_eq(i.medium_gen, gen + 1);
    /* insert another image */
    ck_assert_int_eq(pdm_drive_set_medium(h.pdm, "blkdev", 0, 1, iso2, "iso", false), CAP_OK);
    ck_assert_uint_eq(s->changes, 2);
    ck_assert(s->last_present);
    hlp()->blk_info(s->blk[1], &i);
    ck_assert_uint_eq(i.size, 128 << 10);
    ck_assert_int_eq(submit(s, 1, 3, PDM_BLK_READ, 100 << 10, 2048, 0), CAP_OK);
    pdm_blk_drain(h.pdm);
    ck_assert_int_eq(s->status[3], CAP_OK);
    /* errors: a disk, no drive, a bad image (the old medium stays) */
    ck_assert_int_eq(pdm_drive_set_medium(h.pdm, "blkdev", 0, 0, NULL, NULL, true),
                     CAP_E_INVALIDARG);
    ck_assert_int_eq(pdm_drive_set_medium(h.pdm, "blkdev", 0, 2, iso, NULL, true),
                     CAP_E_INVALIDARG);
    ck_assert_int_lt(pdm_drive_set_medium(h.pdm, "blkdev", 0, 1, "/nonexistent.iso", NULL, true),
                     0);
    hlp()->blk_info(s->blk[1], &i);
    ck_assert(i.present);
}
END_TEST

START_TEST(test_config_errors)
{
    ck_assert_int_eq(drive(0, PDM_BLK_DISK, NULL, false), CAP_E_INVALIDARG);
    ck_assert_int_lt(drive(0, PDM_BLK_DISK, "/nonexistent.img", false), 0);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "/nonexistent.img"));
    ck_assert_int_eq(drive(0, PDM_BLK_DISK, disk, false), CAP_OK);
    ck_assert_int_eq(drive(0, PDM_BLK_CDROM, iso, false), CAP_E_ALREADY_REGISTERED);
    ck_assert_int_eq(drive(5, PDM_BLK_CDROM, NULL, false), CAP_OK); /* no such LUN */
    ck_assert_int_eq(h_add(&h, "blkdev", NULL, 0), CAP_OK);
    ck_assert_int_eq(pdm_check_drives(h.pdm), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "blkdev0 LUN 5"));
    struct pdm_drive_config dc = {.device = "nosuch", .kind = PDM_BLK_CDROM};
    h_teardown(&h);
    h_setup(&h);
    ck_assert_int_eq(pdm_add_drive(h.pdm, &dc), CAP_OK);
    ck_assert_int_eq(pdm_check_drives(h.pdm), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "no such device"));
}
END_TEST

/* The host's I/O fails (the image shrank under the VM): the request
 * completes with CAP_E_IO and the VM log says why. */
START_TEST(test_host_error)
{
    struct blkdev *s = machine(false);
    ck_assert_int_eq(truncate(disk, 4096), 0);
    ck_assert_int_eq(submit(s, 0, 0, PDM_BLK_READ, 65536, 4096, 0), CAP_OK);
    ck_assert_int_eq(submit(s, 0, 1, PDM_BLK_READ, 0, 4096, 0), CAP_OK);
    pdm_blk_drain(h.pdm);
    ck_assert_uint_eq(s->done, 2);
    ck_assert_int_eq(s->status[0], CAP_E_IO);
    ck_assert_int_eq(s->status[1], CAP_OK);
    ck_assert_msg(h_logged(&h, "blkdev0: LUN 0: host I/O error (read at byte 65536, 4096 bytes)"),
                  "log: %s", h.log);
}
END_TEST

/* With the VM's STAM registry: each drive counts its requests under
 * /PDM/Blk/, and the counters go with the PDM. */
START_TEST(test_stats)
{
    struct stam *st;
    ck_assert_int_eq(stam_create(&st), CAP_OK);
    pdm_destroy(h.pdm);
    struct pdm_create_info ci = {.iom = h.iom, .tm = h.tm, .stam = st};
    ck_assert_int_eq(pdm_create(&ci, &h.pdm), CAP_OK);
    ck_assert_int_eq(pdm_add_devreg(h.pdm, &blkdev_reg), CAP_OK);
    struct blkdev *s = machine(false);
    ck_assert_int_eq(submit(s, 0, 0, PDM_BLK_WRITE, 0, 4096, PDM_BLK_F_FUA), CAP_OK);
    ck_assert_int_eq(submit(s, 0, 1, PDM_BLK_READ, 0, 1024, 0), CAP_OK);
    ck_assert_int_eq(submit(s, 0, 2, PDM_BLK_FLUSH, 0, 0, 0), CAP_OK);
    ck_assert_int_eq(submit(s, 1, 3, PDM_BLK_READ, 2048, 2048, 0), CAP_OK);
    pdm_blk_drain(h.pdm);
    ck_assert_uint_eq(stam_value(st, "/PDM/Blk/blkdev0/LUN0/Writes"), 1);
    ck_assert_uint_eq(stam_value(st, "/PDM/Blk/blkdev0/LUN0/WriteBytes"), 4096);
    ck_assert_uint_eq(stam_value(st, "/PDM/Blk/blkdev0/LUN0/ReadBytes"), 1024);
    ck_assert_uint_eq(stam_value(st, "/PDM/Blk/blkdev0/LUN0/Flushes"), 2); /* FUA + FLUSH */
    ck_assert_uint_eq(stam_value(st, "/PDM/Blk/blkdev0/LUN1/Reads"), 1);
    ck_assert_uint_eq(stam_value(st, "/PDM/Blk/blkdev0/LUN0/Errors"), 0);
    pdm_destroy(h.pdm);
    struct stam_value v;
    ck_assert(!stam_get(st, "/PDM/Blk/blkdev0/LUN0/Reads", &v));
    stam_destroy(st);
    struct pdm_create_info plain = {.iom = h.iom, .tm = h.tm};
    ck_assert_int_eq(pdm_create(&plain, &h.pdm), CAP_OK); /* for teardown */
}
END_TEST

/* Requests in flight when the VM goes away: no completion reaches a freed
 * device, nothing hangs. */
START_TEST(test_destroy_in_flight)
{
    struct blkdev *s = machine(false);
    for (unsigned i = 0; i < NREQ; i++)
        ck_assert_int_eq(submit(s, 0, i, PDM_BLK_WRITE, (uint64_t)i * 4096, 4096, 0), CAP_OK);
    pdm_destroy(h.pdm);
    h.pdm = NULL;
    struct pdm_create_info ci = {.iom = h.iom, .tm = h.tm};
    ck_assert_int_eq(pdm_create(&ci, &h.pdm), CAP_OK); /* for teardown */
}
END_TEST

int main(void)
{
    Suite *su = suite_create("pdm-blk");
    TCase *tc = tcase_create("blk");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_attach_info);
    tcase_add_test(tc, test_async_order);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_cancel);
    tcase_add_test(tc, test_medium_change);
    tcase_add_test(tc, test_config_errors);
    tcase_add_test(tc, test_host_error);
    tcase_add_test(tc, test_stats);
    tcase_add_test(tc, test_destroy_in_flight);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
