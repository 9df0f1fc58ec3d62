/*
 * tests/unit/iomtm/test_iomtm.c - IOM (lookup, overlap, sizes, splitting,
 * unclaimed accesses, MMIO) and TM (pause, warp, timers, TSC).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/result.h>

#include "../../../vmm/iom/iom.h"
#include "../../../vmm/stam/stam.h"
#include "../../../vmm/tm/tm.h"

static char logbuf[4096];

static void logfn(void *ctx, const char *msg)
{
    strncat(logbuf, msg, sizeof(logbuf) - strlen(logbuf) - 2);
    strcat(logbuf, "\n");
}

struct rec {
    uint16_t port;
    unsigned size, calls;
    uint32_t last;
};

static cap_result io_cb(void *user, uint16_t port, unsigned size, bool write, uint32_t *val)
{
    struct rec *r = user;
    r->port = port;
    r->size = size;
    r->calls++;
    if (write)
        r->last = *val;
    else
        *val = 0x11223344u + port;
    return CAP_OK;
}

static cap_result mmio_cb(void *user, uint64_t addr, unsigned size, bool write, uint64_t *val)
{
    uint64_t *store = user;
    if (write)
        *store = *val;
    else
        *val = *store;
    return CAP_OK;
}

START_TEST(test_io)
{
    struct iom *iom;
    struct rec a = {0}, b = {0};
    logbuf[0] = 0;
    ck_assert_int_eq(iom_create(logfn, NULL, &iom), CAP_OK);
    ck_assert_int_eq(iom_register_io(iom, 0x3f8, 8, IOM_F_SPLIT, io_cb, &a, "uart"), CAP_OK);
    ck_assert_int_eq(iom_register_io(iom, 0x100, 4, 0, io_cb, &b, "wide"), CAP_OK);
    ck_assert_int_eq(iom_register_io(iom, 0x3fc, 8, 0, io_cb, &b, "clash"), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "overlaps 0x3f8-0x3ff (uart)"));
    ck_assert_int_eq(iom_register_io(iom, 0xfff0, 0x20, 0, io_cb, &b, "past"), CAP_E_INVALIDARG);
    ck_assert_int_eq(iom_register_io(iom, 0, 0, 0, io_cb, &b, "empty"), CAP_E_INVALIDARG);
    uint32_t v;
    ck_assert_int_eq(iom_io_read(iom, 0x102, 2, &v), CAP_OK);
    ck_assert_uint_eq(v, (0x11223344u + 0x102) & 0xffff);
    ck_assert_uint_eq(b.size, 2);
    ck_assert_int_eq(iom_io_write(iom, 0x100, 4, 0xcafebabe), CAP_OK);
    ck_assert_uint_eq(b.last, 0xcafebabe);
    /* Split: 4 bytes on a byte-only range. */
    ck_assert_int_eq(iom_io_write(iom, 0x3f8, 4, 0x04030201), CAP_OK);
    ck_assert_uint_eq(a.calls, 4);
    ck_assert_uint_eq(a.port, 0x3fb);
    ck_assert_uint_eq(a.last, 0x04);
    /* Past the end of a range: split, the rest unclaimed (all-ones). */
    ck_assert_int_eq(iom_io_read(iom, 0x103, 2, &v), CAP_OK);
    ck_assert_uint_eq(v, 0xff00 | ((0x11223344u + 0x103) & 0xff));
    /* Unclaimed: all-ones, writes dropped, logged once per port. */
    ck_assert_int_eq(iom_io_read(iom, 0x500, 4, &v), CAP_OK);
    ck_assert_uint_eq(v, 0xffffffff);
    ck_assert_int_eq(iom_io_read(iom, 0x500, 1, &v), CAP_OK);
    ck_assert_uint_eq(v, 0xff);
    ck_assert_int_eq(iom_io_write(iom, 0x500, 1, 1), CAP_OK);
    ck_assert_ptr_nonnull(strstr(logbuf, "unclaimed port 0x0500"));
    ck_assert_ptr_null(strstr(strstr(logbuf, "0x0500") + 1, "0x0500"));
    struct iom_stats st;
    iom_get_stats(iom, &st);
    ck_assert_uint_eq(st.io_unclaimed_reads, 3);
    ck_assert_uint_eq(st.io_unclaimed_writes, 1);
    /* the same counters through STAM, gone with the IOM */
    struct stam *stam = NULL;
    ck_assert_int_eq(stam_create(&stam), CAP_OK);
    ck_assert_int_eq(iom_register_stats(iom, stam), CAP_OK);
    ck_assert_uint_eq(stam_value(stam, "/IOM/IO/UnclaimedReads"), 3);
    ck_assert_uint_eq(stam_value(stam, "/IOM/IO/UnclaimedWrites"), 1);
    ck_assert_uint_eq(stam_value(stam, "/IOM/IO/Reads"), st.io_reads);
    ck_assert_uint_gt(st.io_reads, 0);
    ck_assert_int_eq(iom_io_read(iom, 0x3f8, 3, &v), CAP_E_INVALIDARG);
    ck_assert_int_eq(iom_deregister_io(iom, 0x3f8, &b), CAP_E_INVALIDARG); /* not the owner */
    ck_assert_int_eq(iom_deregister_io(iom, 0x3f8, &a), CAP_OK);
    ck_assert(!iom_io_claimed(iom, 0x3f8));
    iom_deregister_all(iom, &b);
    ck_assert(!iom_io_claimed(iom, 0x100));
    iom_dump(iom);
    iom_destroy(iom);
    char *left = stam_format(stam, NULL, false);
    ck_assert_str_eq(left, "");
    free(left);
    stam_destroy(stam);
}
END_TEST

/* The last range found is tried first: it must never answer for a port
 * it does not cover once the table has changed under it. */
START_TEST(test_io_lookup_hint)
{
    struct iom *iom;
    struct rec a = {0}, b = {0}, c = {0};
    uint32_t v;
    logbuf[0] = 0;
    ck_assert_int_eq(iom_create(logfn, NULL, &iom), CAP_OK);
    ck_assert_int_eq(iom_register_io(iom, 0x10, 4, 0, io_cb, &a, "a"), CAP_OK);
    ck_assert_int_eq(iom_register_io(iom, 0x20, 4, 0, io_cb, &b, "b"), CAP_OK);
    ck_assert_int_eq(iom_io_write(iom, 0x21, 1, 0x5a), CAP_OK); /* hint: b, index 1 */
    ck_assert_uint_eq(b.calls, 1);
    ck_assert_int_eq(iom_io_write(iom, 0x22, 1, 0x5b), CAP_OK); /* from the hint */
    ck_assert_uint_eq(b.calls, 2);
    ck_assert_uint_eq(b.last, 0x5b);
    /* A range inserted before b: index 1 is a now; 0x21 is still b's. */
    ck_assert_int_eq(iom_register_io(iom, 0x00, 4, 0, io_cb, &c, "c"), CAP_OK);
    ck_assert_int_eq(iom_io_read(iom, 0x21, 1, &v), CAP_OK);
    ck_assert_uint_eq(v, (0x11223344u + 0x21) & 0xff);
    ck_assert_uint_eq(b.calls, 3);
    ck_assert_uint_eq(a.calls, 0);
    /* Ports next to the hinted range, and between ranges. */
    ck_assert_int_eq(iom_io_write(iom, 0x24, 1, 1), CAP_OK);
    ck_assert_int_eq(iom_io_write(iom, 0x13, 1, 2), CAP_OK);
    ck_assert_uint_eq(a.calls, 1);
    ck_assert_uint_eq(b.calls, 3);
    /* b gone: its ports are unclaimed, whatever the hint said. */
    ck_assert_int_eq(iom_io_write(iom, 0x21, 1, 3), CAP_OK);
    ck_assert_int_eq(iom_deregister_io(iom, 0x20, &b), CAP_OK);
    ck_assert_int_eq(iom_io_read(iom, 0x21, 1, &v), CAP_OK);
    ck_assert_uint_eq(v, 0xff);
    ck_assert_uint_eq(b.calls, 4);
    ck_assert(!iom_io_claimed(iom, 0x22));
    ck_assert(iom_io_claimed(iom, 0x02));
    struct iom_stats st;
    iom_get_stats(iom, &st);
    ck_assert_uint_eq(st.io_writes, 4);
    ck_assert_uint_eq(st.io_reads, 1);
    ck_assert_uint_eq(st.io_unclaimed_writes + st.io_unclaimed_reads, 2);
    iom_destroy(iom);
}
END_TEST

START_TEST(test_mmio)
{
    struct iom *iom;
    uint64_t store = 0;
    ck_assert_int_eq(iom_create(logfn, NULL, &iom), CAP_OK);
    ck_assert_int_eq(iom_register_mmio(iom, 0xfee00000, 0x1000, 0, mmio_cb, &store, "apic"),
                     CAP_OK);
    ck_assert_int_eq(iom_register_mmio(iom, 0xfee00800, 0x10, 0, mmio_cb, &store, "x"),
                     CAP_E_INVALIDARG);
    ck_assert_int_eq(iom_mmio_write(iom, 0xfee00010, 8, 0x0102030405060708ull), CAP_OK);
    uint64_t v;
    ck_assert_int_eq(iom_mmio_read(iom, 0xfee00010, 8, &v), CAP_OK);
    ck_assert_uint_eq(v, 0x0102030405060708ull);
    ck_assert_int_eq(iom_mmio_read(iom, 0xfee00010, 2, &v), CAP_OK);
    ck_assert_uint_eq(v, 0x0708);
    ck_assert_int_eq(iom_mmio_read(iom, 0x1000, 8, &v), CAP_OK);
    ck_assert_uint_eq(v, UINT64_MAX);
    ck_assert_int_eq(iom_mmio_read(iom, 0x1000, 16, &v), CAP_E_INVALIDARG);
    iom_destroy(iom);
}
END_TEST

static uint64_t fake_ns;
static uint64_t fake_now(void *ctx)
{
    return fake_ns;
}

struct fired {
    unsigned n;
    uint64_t at;
    uint64_t period;
};

static void on_timer(void *user, struct tm_timer *t, uint64_t now)
{
    struct fired *f = user;
    f->n++;
    f->at = now;
    if (f->period)
        tm_timer_arm(t, now); /* re-arm at "now": must wait for the next poll */
}

START_TEST(test_clock)
{
    struct tm_clock *tm;
    struct tm_clock_source src = {.now_ns = fake_now};
    fake_ns = 5000;
    ck_assert_int_eq(tm_create(&src, &tm), CAP_OK);
    ck_assert_uint_eq(tm_now(tm), 0);
    fake_ns += 100;
    ck_assert_uint_eq(tm_now(tm), 0); /* paused */
    tm_resume(tm);
    fake_ns += 1000;
    ck_assert_uint_eq(tm_now(tm), 1000);
    tm_pause(tm);
    fake_ns += 1000000;
    ck_assert_uint_eq(tm_now(tm), 1000);
    tm_warp(tm, 500);
    ck_assert_uint_eq(tm_now(tm), 1500);
    tm_resume(tm);
    ck_assert_uint_eq(tm_now(tm), 1500);
    /* TSC: 1 GHz by default; 2 GHz keeps the current value continuous. */
    ck_assert_uint_eq(tm_tsc(tm), 1500);
    tm_set_tsc_hz(tm, 2000000000u);
    fake_ns += 1000;
    ck_assert_uint_eq(tm_tsc(tm), 1500 + 2000);
    tm_set_tsc(tm, 0);
    ck_assert_uint_eq(tm_tsc(tm), 0);
    tm_destroy(tm);
}
END_TEST

START_TEST(test_timers)
{
    struct tm_clock *tm;
    struct tm_clock_source src = {.now_ns = fake_now};
    fake_ns = 0;
    ck_assert_int_eq(tm_create(&src, &tm), CAP_OK);
    tm_resume(tm);
    struct fired a = {0}, b = {0}, p = {.period = 1};
    struct tm_timer *ta, *tb, *tp;
    ck_assert_int_eq(tm_timer_create(tm, on_timer, &a, "a", &ta), CAP_OK);
    ck_assert_int_eq(tm_timer_create(tm, on_timer, &b, "b", &tb), CAP_OK);
    ck_assert_int_eq(tm_timer_create(tm, on_timer, &p, "p", &tp), CAP_OK);
    ck_assert_uint_eq(tm_next_deadline(tm), TM_NO_DEADLINE);
    tm_timer_arm(tb, 2000);
    tm_timer_arm(ta, 1000);
    ck_assert_uint_eq(tm_next_deadline(tm), 1000);
    ck_assert_uint_eq(tm_ns_until_next(tm), 1000);
    fake_ns = 1500;
    ck_assert_uint_eq(tm_poll(tm), 1);
    ck_assert_uint_eq(a.n, 1);
    ck_assert(!tm_timer_armed(ta));
    tm_timer_disarm(tb);
    fake_ns = 5000;
    ck_assert_uint_eq(tm_poll(tm), 0);
    /* A timer re-arming itself at "now" runs once per poll, never spins. */
    tm_timer_arm(tp, 0);
    ck_assert_uint_eq(tm_poll(tm), 1);
    ck_assert_uint_eq(tm_poll(tm), 1);
    ck_assert_uint_eq(p.n, 2);
    tm_timer_destroy(tp);
    tm_pause(tm);
    tm_timer_arm_rel(ta, 100);
    ck_assert_uint_eq(tm_ns_until_next(tm), TM_NO_DEADLINE); /* paused: no wake-up */
    tm_destroy(tm); /* frees ta and tb */
}
END_TEST

static unsigned clock_reads;

static uint64_t counting_now(void *ctx)
{
    (void)ctx;
    clock_reads++;
    return fake_ns;
}

/* The lock-free view the EM loop uses: tm_due, tm_due_host, and
 * tm_ns_until_next / tm_poll built on it, through pause, warp and re-arms. */
START_TEST(test_due)
{
    struct tm_clock *tm;
    struct tm_clock_source src = {.now_ns = counting_now};
    fake_ns = 10000;
    ck_assert_int_eq(tm_create(&src, &tm), CAP_OK);
    struct fired a = {0}, b = {0};
    struct tm_timer *ta, *tb;
    ck_assert_int_eq(tm_timer_create(tm, on_timer, &a, "a", &ta), CAP_OK);
    ck_assert_int_eq(tm_timer_create(tm, on_timer, &b, "b", &tb), CAP_OK);
    tm_resume(tm); /* virtual 0 at host 10000 */
    ck_assert_uint_eq(tm_host_now(tm), 10000);
    /* Nothing armed: no clock read at all. */
    clock_reads = 0;
    ck_assert(!tm_due(tm));
    ck_assert_uint_eq(tm_poll(tm), 0);
    ck_assert_uint_eq(tm_ns_until_next(tm), TM_NO_DEADLINE);
    ck_assert_uint_eq(clock_reads, 0);
    ck_assert_uint_eq(tm_due_host(tm), TM_NO_DEADLINE);
    /* The head's host expiry follows arms and disarms. */
    tm_timer_arm(tb, 3000);
    ck_assert_uint_eq(tm_due_host(tm), 13000);
    tm_timer_arm(ta, 1000);
    ck_assert_uint_eq(tm_due_host(tm), 11000);
    fake_ns = 10999;
    ck_assert(!tm_due(tm));
    ck_assert_uint_eq(tm_ns_until_next(tm), 1);
    ck_assert_uint_eq(tm_poll(tm), 0);
    fake_ns = 11000;
    ck_assert(tm_due(tm));
    ck_assert_uint_eq(tm_ns_until_next(tm), 0);
    ck_assert_uint_eq(tm_poll(tm), 1);
    ck_assert_uint_eq(a.n, 1);
    ck_assert_uint_eq(tm_due_host(tm), 13000); /* b is the head now */
    tm_timer_disarm(tb);
    ck_assert_uint_eq(tm_due_host(tm), TM_NO_DEADLINE);
    /* Pause: no host expiry; time stands still, the deadline moves on resume. */
    tm_timer_arm(tb, 2000); /* virtual now 1000 */
    tm_pause(tm);
    ck_assert_uint_eq(tm_due_host(tm), TM_NO_DEADLINE);
    ck_assert(!tm_due(tm));
    fake_ns = 50000;
    tm_resume(tm); /* virtual 1000 at host 50000 */
    ck_assert_uint_eq(tm_due_host(tm), 51000);
    /* A warp brings it closer; one past the deadline makes it due at once. */
    tm_warp(tm, 400);
    ck_assert_uint_eq(tm_due_host(tm), 50600);
    tm_warp(tm, 1000);
    ck_assert_uint_eq(tm_due_host(tm), 0);
    ck_assert(tm_due(tm));
    ck_assert_uint_eq(tm_ns_until_next(tm), 0);
    /* Paused with a timer due: no wake-up deadline, but a poll runs it. */
    tm_pause(tm);
    ck_assert_uint_eq(tm_ns_until_next(tm), TM_NO_DEADLINE);
    ck_assert(tm_due(tm));
    ck_assert_uint_eq(tm_poll(tm), 1);
    ck_assert_uint_eq(b.n, 1);
    ck_assert(!tm_due(tm));
    /* Far deadlines saturate instead of wrapping. */
    tm_resume(tm);
    tm_timer_arm(ta, TM_NO_DEADLINE - 5);
    ck_assert_uint_eq(tm_due_host(tm), TM_NO_DEADLINE - 1);
    ck_assert(!tm_due(tm));
    tm_destroy(tm);
}
END_TEST

/* A callback may change the tables (a PCI configuration write maps a BAR):
 * the port callback here maps and unmaps an MMIO range and a port range
 * from inside the access. With IOM's lock held around callbacks this
 * deadlocked. */
static struct iom *remap_iom;
static uint64_t remap_store;
static struct rec remap_rec;

static cap_result remap_cb(void *user, uint16_t port, unsigned size, bool write, uint32_t *val)
{
    if (!write)
        return CAP_OK;
    if (*val) {
        ck_assert_int_eq(
            iom_register_mmio(remap_iom, 0xe0000000u, 0x1000, 0, mmio_cb, &remap_store, "bar1"),
            CAP_OK);
        ck_assert_int_eq(iom_register_io(remap_iom, 0xc000, 16, 0, io_cb, &remap_rec, "bar0"),
                         CAP_OK);
    } else {
        ck_assert_int_eq(iom_deregister_mmio(remap_iom, 0xe0000000u, &remap_store), CAP_OK);
        ck_assert_int_eq(iom_deregister_io(remap_iom, 0xc000, &remap_rec), CAP_OK);
    }
    return CAP_OK;
}

START_TEST(test_register_from_callback)
{
    uint64_t v = 0;
    uint32_t p = 0;
    ck_assert_int_eq(iom_create(logfn, NULL, &remap_iom), CAP_OK);
    ck_assert_int_eq(iom_register_io(remap_iom, 0xcfc, 4, 0, remap_cb, NULL, "cfg"), CAP_OK);
    ck_assert_int_eq(iom_io_write(remap_iom, 0xcfc, 4, 1), CAP_OK);
    ck_assert_int_eq(iom_mmio_write(remap_iom, 0xe0000010u, 4, 0x55), CAP_OK);
    ck_assert_int_eq(iom_mmio_read(remap_iom, 0xe0000010u, 4, &v), CAP_OK);
    ck_assert_uint_eq(v, 0x55);
    ck_assert_int_eq(iom_io_read(remap_iom, 0xc004, 4, &p), CAP_OK);
    ck_assert_uint_eq(p, 0x11223344u + 0xc004);
    /* unmapped from a callback again: both gone */
    ck_assert_int_eq(iom_io_write(remap_iom, 0xcfc, 1, 0), CAP_OK);
    ck_assert(!iom_io_claimed(remap_iom, 0xc000));
    ck_assert(!iom_mmio_claimed(remap_iom, 0xe0000000u));
    ck_assert_int_eq(iom_mmio_read(remap_iom, 0xe0000010u, 4, &v), CAP_OK);
    ck_assert_uint_eq(v, 0xffffffffu);
    iom_destroy(remap_iom);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("iomtm");
    TCase *ti = tcase_create("iom");
    tcase_add_test(ti, test_io);
    tcase_add_test(ti, test_io_lookup_hint);
    tcase_add_test(ti, test_mmio);
    tcase_add_test(ti, test_register_from_callback);
    suite_add_tcase(s, ti);
    TCase *tt = tcase_create("tm");
    tcase_add_test(tt, test_clock);
    tcase_add_test(tt, test_timers);
    tcase_add_test(tt, test_due);
    suite_add_tcase(s, tt);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
