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
    ck_assert_int_eq(iom_io_read(iom, 0x3f8, 3, &v), CAP_E_INVALIDARG);
    ck_assert_int_eq(iom_deregister_io(iom, 0x3f8, &b), CAP_E_INVALIDARG); /* not the owner */
    ck_assert_int_eq(iom_deregister_io(iom, 0x3f8, &a), CAP_OK);
    ck_assert(!iom_io_claimed(iom, 0x3f8));
    iom_deregister_all(iom, &b);
    ck_assert(!iom_io_claimed(iom, 0x100));
    iom_dump(iom);
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

int main(void)
{
    Suite *s = suite_create("iomtm");
    TCase *ti = tcase_create("iom");
    tcase_add_test(ti, test_io);
    tcase_add_test(ti, test_mmio);
    suite_add_tcase(s, ti);
    TCase *tt = tcase_create("tm");
    tcase_add_test(tt, test_clock);
    tcase_add_test(tt, test_timers);
    suite_add_tcase(s, tt);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
