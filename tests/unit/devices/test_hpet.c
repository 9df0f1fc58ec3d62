/*
 * tests/unit/devices/test_hpet.c - the HPET's registers on the fake clock:
 * the capabilities and ID, the main counter (advances at 10 MHz only while
 * enabled, 32-bit halves, writable only while halted), one-shot and
 * periodic timers (Linux's programming sequence), 32-bit mode wrapping,
 * legacy replacement on IRQ0/IRQ8, level-triggered interrupts on an I/O
 * APIC input with the status register, unsupported routes, reset; a
 * periodic timer of 0 or 1 tick raises at most one interrupt per
 * TM_MIN_PERIOD_NS; a sweep of random writes of every width at every
 * offset leaves the device sane.
 */
#include <check.h>
#include <stdlib.h>

#include "harness.h"

#define BASE     0xfed00000ull
#define CAP      (BASE + 0x000)
#define CONF     (BASE + 0x010)
#define ISR      (BASE + 0x020)
#define COUNTER  (BASE + 0x0f0)
#define TCONF(n) (BASE + 0x100 + 0x20 * (n))
#define TCMP(n)  (BASE + 0x108 + 0x20 * (n))
#define TFSB(n)  (BASE + 0x110 + 0x20 * (n))

#define ENABLE     1u
#define LEGACY     2u
#define T_LEVEL    (1u << 1)
#define T_ENB      (1u << 2)
#define T_PER      (1u << 3)
#define T_VALSET   (1u << 6)
#define T_32       (1u << 8)
#define T_ROUTE(r) ((uint64_t)(r) << 9)

#define TICK_NS 100u /* 10 MHz */

static struct harness h;

static void setup(void)
{
    h_setup(&h);
    ck_assert_int_eq(h_add(&h, "hpet", NULL, 0), CAP_OK);
}

static void teardown(void)
{
    h_teardown(&h);
}

static uint64_t rd(uint64_t a)
{
    return h_mmio_in(&h, a, 8);
}

static void wr(uint64_t a, uint64_t v)
{
    h_mmio_out(&h, a, 8, v);
}

START_TEST(test_capabilities)
{
    uint64_t cap = rd(CAP);
    ck_assert_uint_eq(cap & 0xff, 1);        /* revision */
    ck_assert_uint_eq((cap >> 8) & 0x1f, 2); /* 3 timers */
    ck_assert(cap & (1u << 13));             /* 64-bit counter */
    ck_assert(cap & (1u << 15));             /* legacy replacement */
    ck_assert_uint_eq((cap >> 16) & 0xffff, 0x8086);
    ck_assert_uint_eq(cap >> 32, 100000000); /* fs: 10 MHz */
    ck_assert_uint_eq(h_mmio_in(&h, CAP, 4), (uint32_t)cap);
    ck_assert_uint_eq(h_mmio_in(&h, CAP + 4, 4), cap >> 32);
    ck_assert_uint_eq(h_mmio_in(&h, CAP + 2, 2), 0x8086);
    ck_assert_uint_eq(h_mmio_in(&h, CAP + 1, 1), cap >> 8 & 0xff);
    wr(CAP, 0); /* read-only */
    ck_assert_uint_eq(rd(CAP), cap);
    for (unsigned n = 0; n < 3; n++) {
        uint64_t c = rd(TCONF(n));
        ck_assert(c & (1u << 4));               /* periodic capable */
        ck_assert(c & (1u << 5));               /* 64-bit */
        ck_assert(!(c & (1u << 15)));           /* no FSB delivery */
        ck_assert_uint_eq(c >> 32, 0x00f00000); /* I/O APIC inputs 20-23 */
        ck_assert_uint_eq(rd(TCMP(n)), ~0ull);  /* comparators reset to all ones */
    }
    ck_assert_uint_eq(rd(CONF), 0);
    ck_assert_uint_eq(rd(0xfed00008), 0); /* reserved */
    ck_assert_uint_eq(rd(BASE + 0x3f8), 0);
}
END_TEST

START_TEST(test_counter)
{
    h_advance(&h, 1000000);
    ck_assert_uint_eq(rd(COUNTER), 0); /* halted */
    wr(CONF, ENABLE);
    h_advance(&h, 1000000); /* 1 ms: 10000 ticks */
    ck_assert_uint_eq(rd(COUNTER), 10000);
    h_advance(&h, 150);
    ck_assert_uint_eq(h_mmio_in(&h, COUNTER, 4), 10001);
    ck_assert_uint_eq(h_mmio_in(&h, COUNTER + 4, 4), 0);
    wr(COUNTER, 5); /* running: ignored */
    ck_assert_uint_ge(rd(COUNTER), 10001);
    wr(CONF, 0);
    uint64_t frozen = rd(COUNTER);
    h_advance(&h, 5000000);
    ck_assert_uint_eq(rd(COUNTER), frozen);
    /* Halted: writable, by halves too, and it counts on from there. */
    h_mmio_out(&h, COUNTER + 4, 4, 0x12);
    h_mmio_out(&h, COUNTER, 4, 0xfffffff0);
    ck_assert_uint_eq(rd(COUNTER), 0x12fffffff0ull);
    wr(CONF, ENABLE);
    h_advance(&h, 32 * TICK_NS);
    ck_assert_uint_eq(rd(COUNTER), 0x1300000010ull);
    ck_assert_uint_eq(h_mmio_in(&h, COUNTER + 4, 4), 0x13);
}
END_TEST

START_TEST(test_one_shot_legacy)
{
    wr(TCONF(0), T_ENB);
    wr(TCMP(0), 1000);
    wr(CONF, ENABLE | LEGACY);
    h_advance(&h, 999 * TICK_NS);
    ck_assert_uint_eq(h.irq_raises[0], 0);
    h_advance(&h, TICK_NS);
    ck_assert_uint_eq(h.irq_raises[0], 1);
    ck_assert_int_eq(h.irq_level[0], 0); /* edge: a pulse */
    ck_assert_uint_eq(rd(ISR), 0);       /* edge timers leave no status */
    h_advance(&h, 1000000000);
    ck_assert_uint_eq(h.irq_raises[0], 1); /* 64-bit one-shot: once */
    ck_assert_uint_eq(rd(TCMP(0)), 1000);
    /* Timer 1 goes to IRQ8 in legacy mode. */
    wr(TCONF(1), T_ENB);
    wr(TCMP(1), rd(COUNTER) + 50);
    h_advance(&h, 50 * TICK_NS);
    ck_assert_uint_eq(h.irq_raises[8], 1);
    /* A comparator behind the counter waits for the wrap: never, in 64 bits. */
    wr(TCMP(0), rd(COUNTER) - 1);
    h_advance(&h, 1000000000);
    ck_assert_uint_eq(h.irq_raises[0], 1);
    /* Without legacy replacement timer 0 has no route offered: no IRQ0. */
    wr(CONF, ENABLE);
    wr(TCMP(0), rd(COUNTER) + 10);
    h_advance(&h, 1000000);
    ck_assert_uint_eq(h.irq_raises[0], 1);
}
END_TEST

/* What Linux's hpet_set_periodic writes: 32-bit mode, VAL_SET, first the
 * comparator, then the period. */
START_TEST(test_periodic_linux_sequence)
{
    wr(CONF, ENABLE | LEGACY);
    h_advance(&h, 12345);
    uint32_t now = (uint32_t)rd(COUNTER);
    h_mmio_out(&h, TCONF(0), 4, T_ENB | T_PER | T_VALSET | T_32);
    h_mmio_out(&h, TCMP(0), 4, now + 10000); /* 1 ms */
    h_mmio_out(&h, TCMP(0), 4, 10000);
    ck_assert(!(rd(TCONF(0)) & T_VALSET)); /* cleared by the write */
    ck_assert_uint_eq(rd(TCMP(0)), now + 10000);
    for (int i = 0; i < 100; i++)
        h_advance(&h, 100000); /* 10 ms in 100 us steps */
    h_advance(&h, TICK_NS);
    ck_assert_uint_eq(h.irq_raises[0], 10);
    ck_assert_uint_eq(rd(TCMP(0)), now + 110000); /* the next match */
    /* A long stall coalesces: one interrupt, the comparator keeps its phase. */
    h_mmio_out(&h, CONF, 4, 0);
    h_mmio_out(&h, CONF, 4, ENABLE | LEGACY);
    h_advance(&h, 50000000);
    ck_assert_uint_eq(h.irq_raises[0], 11);
    uint32_t cmp = (uint32_t)rd(TCMP(0));
    ck_assert_uint_eq((cmp - now) % 10000, 0);
    ck_assert_uint_gt(cmp, (uint32_t)rd(COUNTER));
    /* Disabled: no more interrupts. */
    wr(CONF, LEGACY);
    unsigned before = h.irq_raises[0];
    h_advance(&h, 10000000);
    ck_assert_uint_eq(h.irq_raises[0], before);
}
END_TEST

START_TEST(test_32bit_one_shot_wraps)
{
    wr(COUNTER, 0xffffff00ull);
    wr(TCONF(2), T_ENB | T_32 | T_ROUTE(21));
    wr(TCMP(2), 0x1234500000010ull); /* upper half ignored in 32-bit mode */
    ck_assert_uint_eq(rd(TCMP(2)), 0x10);
    wr(CONF, ENABLE);
    h_advance(&h, 0x10f * TICK_NS);
    ck_assert_uint_eq(h.irq_raises[21], 0);
    h_advance(&h, TICK_NS);
    ck_assert_uint_eq(h.irq_raises[21], 1);
    /* And again each 2^32 ticks. */
    h_advance(&h, (1ull << 32) * TICK_NS);
    ck_assert_uint_eq(h.irq_raises[21], 2);
}
END_TEST

START_TEST(test_level_route_and_status)
{
    wr(TCONF(2), T_ENB | T_LEVEL | T_ROUTE(20));
    ck_assert_uint_eq((rd(TCONF(2)) >> 9) & 0x1f, 20);
    wr(TCONF(2), T_ENB | T_LEVEL | T_ROUTE(5)); /* not offered: unchanged */
    ck_assert_uint_eq((rd(TCONF(2)) >> 9) & 0x1f, 20);
    wr(TCMP(2), 100);
    wr(CONF, ENABLE);
    h_advance(&h, 100 * TICK_NS);
    ck_assert_int_eq(h.irq_level[20], 1);
    ck_assert_uint_eq(rd(ISR), 4);
    h_mmio_out(&h, ISR, 1, 1); /* another timer's bit: nothing */
    ck_assert_uint_eq(rd(ISR), 4);
    h_mmio_out(&h, ISR, 4, 4);
    ck_assert_uint_eq(rd(ISR), 0);
    ck_assert_int_eq(h.irq_level[20], 0);
    /* Interrupts disabled: the status still says so, the line stays low. */
    wr(TCONF(2), T_LEVEL | T_ROUTE(20));
    wr(TCMP(2), rd(COUNTER) + 100);
    h_advance(&h, 100 * TICK_NS);
    ck_assert_uint_eq(rd(ISR), 4);
    ck_assert_int_eq(h.irq_level[20], 0);
    /* Enabling it then raises the line; moving the route moves it. */
    wr(TCONF(2), T_ENB | T_LEVEL | T_ROUTE(20));
    ck_assert_int_eq(h.irq_level[20], 1);
    wr(TCONF(2), T_ENB | T_LEVEL | T_ROUTE(23));
    ck_assert_int_eq(h.irq_level[20], 0);
    ck_assert_int_eq(h.irq_level[23], 1);
    wr(CONF, 0); /* halting drops it */
    ck_assert_int_eq(h.irq_level[23], 0);
}
END_TEST

static void storm(uint64_t period, bool legacy_32)
{
    uint64_t cfg = T_ENB | T_PER | T_VALSET | (legacy_32 ? T_32 : T_ROUTE(22));
    int line = legacy_32 ? 0 : 22;
    wr(CONF, ENABLE | (legacy_32 ? LEGACY : 0));
    wr(TCONF(0), cfg);
    wr(TCMP(0), rd(COUNTER) + 1);
    wr(TCMP(0), period);
    for (int i = 0; i < 100; i++)
        h_advance(&h, 100000); /* 10 ms in 100 us steps */
    unsigned max = 10000000 / TM_MIN_PERIOD_NS + 2;
    ck_assert_uint_ge(h.irq_raises[line], 1);
    ck_assert_uint_le(h.irq_raises[line], max);
    ck_assert_uint_ge(rd(COUNTER), 100000); /* the counter kept its rate */
}

START_TEST(test_storm_period_1)
{
    storm(1, false);
    ck_assert_uint_ge(h.irq_raises[22], 10000000 / TM_MIN_PERIOD_NS - 2);
    /* The comparator kept the programmed rate: just ahead of the counter. */
    uint64_t c = rd(COUNTER), cmp = rd(TCMP(0));
    ck_assert(cmp > c && cmp <= c + 1);
}
END_TEST

START_TEST(test_storm_period_0)
{
    storm(0, true); /* 32 bits: matches once per wrap (429 s) */
    ck_assert_uint_eq(h.irq_raises[0], 1);
    wr(TCONF(0), T_ENB | T_PER | T_ROUTE(22)); /* 64 bits: once */
    wr(TCMP(0), 0);
    for (int i = 0; i < 100; i++)
        h_advance(&h, 100000);
    ck_assert_uint_le(h.irq_raises[22], 1);
}
END_TEST

/* Any register, any width, any value, at any offset: no crash, the
 * capabilities stay, the interrupt rate stays bounded. */
START_TEST(test_hostile_sweep)
{
    uint64_t cap = rd(CAP);
    unsigned seed = 12;
    static const unsigned sizes[] = {1, 2, 4, 8};
    unsigned writes = 0;
    for (int i = 0; i < 20000; i++) {
        uint64_t off = (uint64_t)(rand_r(&seed) % 0x400);
        unsigned size = sizes[rand_r(&seed) % 4];
        uint64_t v =
            (uint64_t)rand_r(&seed) << 33 ^ (uint64_t)rand_r(&seed) << 11 ^ (uint64_t)rand_r(&seed);
        switch (rand_r(&seed) % 4) {
        case 0:
            v &= 0xf;
            break;
        case 1:
            v = ~0ull;
            break;
        default:
            break;
        }
        if (off + size > 0x400)
            off = 0x400 - size;
        if (rand_r(&seed) % 3) {
            h_mmio_out(&h, BASE + off, size, v);
            writes++;
        } else {
            (void)h_mmio_in(&h, BASE + off, size);
        }
        if (i % 16 == 0)
            h_advance(&h, (uint64_t)(rand_r(&seed) % 100000));
    }
    ck_assert_uint_eq(rd(CAP), cap);
    /* Whatever was left programmed: 10 ms more is bounded. */
    wr(CONF, ENABLE | LEGACY);
    unsigned before = 0;
    for (unsigned l = 0; l < 24; l++)
        before += h.irq_raises[l];
    for (int i = 0; i < 100; i++)
        h_advance(&h, 100000);
    unsigned after = 0;
    for (unsigned l = 0; l < 24; l++)
        after += h.irq_raises[l];
    ck_assert_uint_le(after - before, 3 * (10000000 / TM_MIN_PERIOD_NS + 2));
    ck_assert_uint_gt(writes, 0);
}
END_TEST

START_TEST(test_reset)
{
    wr(TCONF(1), T_ENB | T_LEVEL | T_ROUTE(20));
    wr(TCMP(1), 10);
    wr(TFSB(1), 0xfee00000000000ffull);
    wr(CONF, ENABLE);
    h_advance(&h, 20 * TICK_NS);
    ck_assert_int_eq(h.irq_level[20], 1);
    ck_assert_uint_eq(rd(TFSB(1)), 0xfee00000000000ffull);
    pdm_reset(h.pdm);
    ck_assert_int_eq(h.irq_level[20], 0);
    ck_assert_uint_eq(rd(CONF), 0);
    ck_assert_uint_eq(rd(ISR), 0);
    ck_assert_uint_eq(rd(COUNTER), 0);
    ck_assert_uint_eq(rd(TCMP(1)), ~0ull);
    ck_assert_uint_eq(rd(TFSB(1)), 0);
    ck_assert_uint_eq(rd(TCONF(1)) & 0xffff, 0x30);
}
END_TEST

/* A saved state brings back the registers, the counter's value and the
 * level line; the periodic timer goes on from there. */
START_TEST(test_save_load)
{
    wr(TCONF(2), T_ENB | T_LEVEL | T_ROUTE(21));
    wr(TCMP(2), 10);
    wr(TCONF(0), T_ENB | T_PER | T_VALSET | T_32);
    wr(TCMP(0), 1000);
    wr(TCMP(0), 1000);
    wr(CONF, ENABLE | LEGACY);
    h_advance(&h, 500 * TICK_NS);
    ck_assert_int_eq(h.irq_level[21], 1);
    uint64_t count = rd(COUNTER);
    h_ssm_save(&h);
    pdm_reset(h.pdm);
    ck_assert_int_eq(h.irq_level[21], 0);
    ck_assert_uint_eq(rd(CONF), 0);
    h_advance(&h, 12345);
    ck_assert_int_eq(h_ssm_load(&h), CAP_OK);
    ck_assert_uint_eq(rd(CONF), ENABLE | LEGACY);
    ck_assert_uint_eq(rd(COUNTER), count);
    ck_assert_uint_eq(rd(ISR), 4);
    ck_assert_int_eq(h.irq_level[21], 1);
    ck_assert_uint_eq(rd(TCONF(0)) & 0xffff, T_ENB | T_PER | T_32 | 0x30);
    unsigned before = h.irq_raises[0];
    h_advance(&h, 500 * TICK_NS); /* counter 1000: the first match */
    ck_assert_uint_eq(h.irq_raises[0], before + 1);
    ck_assert_uint_eq(rd(TCMP(0)), 2000);
}
END_TEST

/* LEG_RT_CNF takes IRQ0 and IRQ8 from the PIT and the RTC (even with the
 * counter halted), lowering the RTC's held line; clearing it gives both
 * back, the RTC's line high again. */
START_TEST(test_legacy_takes_over_pit_and_rtc)
{
    ck_assert_int_eq(h_add(&h, "pit", NULL, 0), CAP_OK);
    ck_assert_int_eq(h_add(&h, "rtc", NULL, 0), CAP_OK);
    h_out(&h, 0x43, 1, 0x34); /* PIT channel 0, mode 2, 1 ms */
    h_out(&h, 0x40, 1, 0xa9);
    h_out(&h, 0x40, 1, 0x04);
    h_out(&h, 0x70, 1, 0x0a);
    h_out(&h, 0x71, 1, 0x26); /* RTC periodic, 976.5625 us */
    h_out(&h, 0x70, 1, 0x0b);
    h_out(&h, 0x71, 1, 0x42); /* PIE */
    for (int i = 0; i < 5; i++)
        h_advance(&h, 1000000);
    ck_assert_uint_ge(h.irq_raises[0], 4);
    ck_assert_int_eq(h.irq_level[8], 1); /* held until C is read */
    wr(CONF, LEGACY);
    ck_assert_int_eq(h.irq_level[8], 0);
    unsigned pit = h.irq_raises[0], rtc = h.irq_raises[8];
    h_out(&h, 0x70, 1, 0x0c);
    (void)h_in(&h, 0x71, 1); /* the RTC lowers and raises again: unheard */
    for (int i = 0; i < 5; i++)
        h_advance(&h, 1000000);
    ck_assert_uint_eq(h.irq_raises[0], pit);
    ck_assert_uint_eq(h.irq_raises[8], rtc);
    /* The HPET's own timers are heard there. */
    wr(TCONF(1), T_ENB);
    wr(TCMP(1), 100);
    wr(CONF, ENABLE | LEGACY);
    h_advance(&h, 100 * TICK_NS);
    ck_assert_uint_eq(h.irq_raises[8], rtc + 1);
    ck_assert_int_eq(h.irq_level[8], 0);
    /* Given back: the RTC's pending request is seen again, the PIT ticks. */
    wr(CONF, ENABLE);
    ck_assert_int_eq(h.irq_level[8], 1);
    for (int i = 0; i < 5; i++)
        h_advance(&h, 1000000);
    ck_assert_uint_ge(h.irq_raises[0], pit + 4);
}
END_TEST

START_TEST(test_bad_config)
{
    static const struct pdm_cfg_kv kv[] = {{"base", "0xfed00100"}};
    struct harness h2;
    h_setup(&h2);
    ck_assert_int_eq(h_add(&h2, "hpet", kv, 1), CAP_E_INVALIDARG);
    h_teardown(&h2);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("dev-hpet");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_capabilities);
    tcase_add_test(tc, test_counter);
    tcase_add_test(tc, test_one_shot_legacy);
    tcase_add_test(tc, test_periodic_linux_sequence);
    tcase_add_test(tc, test_32bit_one_shot_wraps);
    tcase_add_test(tc, test_level_route_and_status);
    tcase_add_test(tc, test_storm_period_1);
    tcase_add_test(tc, test_storm_period_0);
    tcase_add_test(tc, test_hostile_sweep);
    tcase_add_test(tc, test_reset);
    tcase_add_test(tc, test_save_load);
    tcase_add_test(tc, test_legacy_takes_over_pit_and_rtc);
    tcase_add_test(tc, test_bad_config);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
