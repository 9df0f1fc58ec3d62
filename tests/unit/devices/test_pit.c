/*
 * tests/unit/devices/test_pit.c - the i8254: modes 0, 2 and 3 on the fake
 * clock, lobyte/hibyte access, latch and read-back, IRQ0 through the PIC,
 * port 0x61 gate and OUT bits for channel 2, stopping channel 0 with a
 * latched IRQ0 and a one-shot after it (the pit-pic payload's sequence);
 * timer storms (issue 19): divisor 1 raises IRQ0 at most every
 * TM_MIN_PERIOD_NS while the counter keeps its rate, a latched or masked
 * IRQ0 stops the timer until the 8259 takes the request.
 */
#include <check.h>
#include <stdlib.h>

#include "harness.h"

static struct harness h;

static void setup(void)
{
    h_setup(&h);
}

static void teardown(void)
{
    h_teardown(&h);
}

/* ns for n PIT ticks (rounded up). */
static uint64_t ticks(uint64_t n)
{
    return (n * 1000000000ull + 1193181) / 1193182;
}

static uint16_t read_word(uint16_t port)
{
    uint16_t lo = (uint16_t)h_in(&h, port, 1);
    return (uint16_t)(lo | h_in(&h, port, 1) << 8);
}

START_TEST(test_mode2_irq0_periodic)
{
    ck_assert_int_eq(h_add(&h, "pit", NULL, 0), CAP_OK);
    h_out(&h, 0x43, 1, 0x34); /* ch0, lobyte/hibyte, mode 2 */
    h_out(&h, 0x40, 1, 0x9c);
    h_out(&h, 0x40, 1, 0x2e); /* 11932: 100 Hz */
    ck_assert_uint_eq(h.irq_raises[0], 0);
    h_advance(&h, ticks(11932) - 1000);
    ck_assert_uint_eq(h.irq_raises[0], 0);
    h_advance(&h, 1000);
    ck_assert_uint_eq(h.irq_raises[0], 1);
    ck_assert_int_eq(h.irq_level[0], 0); /* a pulse: edge */
    h_advance(&h, ticks(11932));
    ck_assert_uint_eq(h.irq_raises[0], 2);
    /* A long stall delivers one tick, not a storm. */
    h_advance(&h, 50 * ticks(11932));
    ck_assert_uint_eq(h.irq_raises[0], 3);
    /* Counter latch: the value freezes until read. */
    h_out(&h, 0x43, 1, 0x00);
    h_advance(&h, ticks(100));
    uint16_t c1 = read_word(0x40);
    ck_assert_uint_le(c1, 11932);
    uint16_t c2 = read_word(0x40);
    ck_assert_uint_ne(c1, c2);
}
END_TEST

START_TEST(test_mode0_one_shot_and_readback)
{
    ck_assert_int_eq(h_add(&h, "pit", NULL, 0), CAP_OK);
    h_out(&h, 0x43, 1, 0x30); /* ch0 mode 0 */
    h_out(&h, 0x43, 1, 0xe2); /* read-back status ch0 (no count) */
    ck_assert_uint_eq(h_in(&h, 0x40, 1), 0x70); /* OUT 0, null count, lo/hi, mode 0 */
    h_out(&h, 0x40, 1, 0xe8);
    h_out(&h, 0x40, 1, 0x03); /* 1000 ticks */
    h_advance(&h, ticks(500));
    uint16_t c = read_word(0x40);
    ck_assert(c > 490 && c <= 500);
    h_advance(&h, ticks(500));
    ck_assert_int_eq(h.irq_level[0], 1); /* OUT high, stays high */
    h_advance(&h, ticks(5000));
    ck_assert_uint_eq(h.irq_raises[0], 1);
    h_out(&h, 0x43, 1, 0xc2); /* read-back count + status ch0 */
    ck_assert_uint_eq(h_in(&h, 0x40, 1) & 0x80, 0x80); /* status first: OUT high */
    (void)read_word(0x40);
    h_out(&h, 0x43, 1, 0x30); /* reprogramming drops OUT */
    ck_assert_int_eq(h.irq_level[0], 0);
}
END_TEST

START_TEST(test_lobyte_only_and_ch2_speaker)
{
    ck_assert_int_eq(h_add(&h, "pit", NULL, 0), CAP_OK);
    h_out(&h, 0x43, 1, 0xb6); /* ch2, lo/hi, mode 3 */
    h_out(&h, 0x42, 1, 0x00);
    h_out(&h, 0x42, 1, 0x01); /* 256 */
    ck_assert_uint_eq(h_in(&h, 0x61, 1) & 0x03, 0);
    h_out(&h, 0x61, 1, 0x03); /* gate on, speaker on: restart */
    ck_assert_uint_eq(h_in(&h, 0x61, 1) & 0x23, 0x23); /* OUT high in the first half */
    h_advance(&h, ticks(130));
    ck_assert_uint_eq(h_in(&h, 0x61, 1) & 0x20, 0x00); /* low in the second half */
    h_advance(&h, ticks(128));
    ck_assert_uint_eq(h_in(&h, 0x61, 1) & 0x20, 0x20);
    /* Lobyte-only access on channel 1. */
    h_out(&h, 0x43, 1, 0x54); /* ch1, LSB only, mode 2 */
    h_out(&h, 0x41, 1, 0x80);
    uint8_t v = (uint8_t)h_in(&h, 0x41, 1);
    ck_assert_uint_le(v, 0x80);
    ck_assert_uint_eq(h_in(&h, 0x43, 1), 0xff);
}
END_TEST

/* Saved state: a channel mid-count and half-written (lobyte of a word
 * written) comes back after a reset; the periodic IRQ0 goes on at the
 * saved phase. */
START_TEST(test_save_load_state)
{
    ck_assert_int_eq(h_add(&h, "pit", NULL, 0), CAP_OK);
    h_out(&h, 0x43, 1, 0x34);
    h_out(&h, 0x40, 1, 0x9c);
    h_out(&h, 0x40, 1, 0x2e); /* 11932 */
    h_out(&h, 0x43, 1, 0xb0); /* ch2 mode 0 */
    h_out(&h, 0x42, 1, 0x34); /* lobyte only so far */
    h_advance(&h, ticks(11932 + 1000));
    ck_assert_uint_eq(h.irq_raises[0], 1);
    h_ssm_save(&h);
    pdm_reset(h.pdm);
    h_advance(&h, ticks(20000));
    ck_assert_uint_eq(h.irq_raises[0], 1); /* reset: counting stopped (null count) */
    /* the restored channel counts from its saved load time: its next edge
     * is on the saved phase, within one period */
    ck_assert_int_eq(h_ssm_load(&h), CAP_OK);
    h_advance(&h, ticks(11932));
    ck_assert_uint_eq(h.irq_raises[0], 2);
    h_advance(&h, ticks(11932));
    ck_assert_uint_eq(h.irq_raises[0], 3);
    h_out(&h, 0x42, 1, 0x12);                          /* the hibyte completes ch2's count 0x1234 */
    h_out(&h, 0x43, 1, 0xe8);                          /* read-back status ch2 */
    ck_assert_uint_eq(h_in(&h, 0x42, 1) & 0x3f, 0x30); /* lo/hi, mode 0 */
}
END_TEST

START_TEST(test_irq0_through_pic)
{
    struct pdm_dev_config cfg[] = {{.device = "pic"}, {.device = "pit"}};
    ck_assert_int_eq(pdm_instantiate(h.pdm, cfg, 2), CAP_OK);
    const uint8_t init[][2] = {{0x20, 0x11}, {0x21, 0x08}, {0x21, 0x04}, {0x21, 0x01},
                               {0x21, 0xfe}};
    for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++)
        h_out(&h, init[i][0], 1, init[i][1]);
    h_out(&h, 0x43, 1, 0x34);
    h_out(&h, 0x40, 1, 0x00);
    h_out(&h, 0x40, 1, 0x10); /* 4096 ticks */
    ck_assert_int_eq(h.intr, 0);
    h_advance(&h, ticks(4096));
    ck_assert_int_eq(h.intr, 1);
    ck_assert_uint_eq(h.irq_raises[0], 0); /* routed to the PIC, not the sink */
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x08);
    h_out(&h, 0x20, 1, 0x20);
    ck_assert_int_eq(h.intr, 0);
    ck_assert_uint_eq(tm_next_deadline(h.tm) - tm_now(h.tm) <= ticks(4096), 1);
}
END_TEST

/* What the pit-pic guest payload relies on, in its order: a tick latched in
 * the IRR while IRQ0 is masked survives a control word written without a
 * count, which stops channel 0 (no edge can add a second tick), is
 * delivered once on unmask; then a mode-0 one-shot interrupts exactly once
 * whenever it is acknowledged, and OUT stays high. */
START_TEST(test_stop_keeps_latched_irq0_then_one_shot)
{
    struct pdm_dev_config cfg[] = {{.device = "pic"}, {.device = "pit"}};
    ck_assert_int_eq(pdm_instantiate(h.pdm, cfg, 2), CAP_OK);
    const uint8_t init[][2] = {{0x20, 0x11}, {0x21, 0x08}, {0x21, 0x04}, {0x21, 0x01},
                               {0x21, 0xff}};
    for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++)
        h_out(&h, init[i][0], 1, init[i][1]);
    h_out(&h, 0x43, 1, 0x34); /* ch0 mode 2, 1193 ticks: 1 kHz */
    h_out(&h, 0x40, 1, 0xa9);
    h_out(&h, 0x40, 1, 0x04);
    h_advance(&h, 3 * ticks(1193) + 100); /* masked: latched in the IRR only */
    ck_assert_int_eq(h.intr, 0);
    h_out(&h, 0x20, 1, 0x0a);
    ck_assert_uint_eq(h_in(&h, 0x20, 1) & 1, 1);
    h_out(&h, 0x43, 1, 0x34); /* control word alone: the channel stops */
    ck_assert_uint_eq(tm_next_deadline(h.tm), TM_NO_DEADLINE);
    h_advance(&h, 10 * ticks(1193));
    ck_assert_uint_eq(h_in(&h, 0x20, 1) & 1, 1); /* the latched request is kept */
    h_out(&h, 0x21, 1, 0xfe); /* unmask */
    ck_assert_int_eq(h.intr, 1);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x08);
    h_out(&h, 0x20, 1, 0x20);
    ck_assert_int_eq(h.intr, 0);
    h_advance(&h, 10 * ticks(1193));
    ck_assert_int_eq(h.intr, 0); /* exactly one */

    h_out(&h, 0x43, 1, 0x30); /* mode 0, 1193 ticks */
    h_out(&h, 0x40, 1, 0xa9);
    h_out(&h, 0x40, 1, 0x04);
    ck_assert_int_eq(h.intr, 0);
    h_advance(&h, 5 * ticks(1193)); /* fires while not acknowledged: stays latched */
    ck_assert_int_eq(h.intr, 1);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x08);
    h_out(&h, 0x20, 1, 0x20);
    h_advance(&h, 100 * ticks(1193));
    ck_assert_int_eq(h.intr, 0); /* once */
    ck_assert_uint_eq(tm_next_deadline(h.tm), TM_NO_DEADLINE);
    h_out(&h, 0x43, 1, 0xe2); /* read-back status ch0 */
    ck_assert_uint_eq(h_in(&h, 0x40, 1) & 0xce, 0x80); /* OUT high, count loaded, mode 0 */
}
END_TEST

/* Runs the clock for `ns` in 1 us steps, acknowledging what the PIC
 * raises when `ack`; returns the number of TM callbacks run. */
static unsigned run_us(uint64_t ns, bool ack, unsigned *delivered)
{
    unsigned polls = 0;
    for (uint64_t t = 0; t < ns; t += 1000) {
        h.host_ns += 1000;
        polls += pdm_poll_timers(h.pdm);
        if (ack && h.intr) {
            ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x08);
            h_out(&h, 0x20, 1, 0x20);
            if (delivered)
                ++*delivered;
        }
    }
    return polls;
}

static void pic_pit(uint8_t imr)
{
    struct pdm_dev_config cfg[] = {{.device = "pic"}, {.device = "pit"}};
    ck_assert_int_eq(pdm_instantiate(h.pdm, cfg, 2), CAP_OK);
    const uint8_t init[][2] = {{0x20, 0x11}, {0x21, 0x08}, {0x21, 0x04}, {0x21, 0x01},
                               {0x21, imr}};
    for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++)
        h_out(&h, init[i][0], 1, init[i][1]);
}

/* Divisor 1 (1.19 MHz): IRQ0 at most once per TM_MIN_PERIOD_NS, the
 * counter still at the programmed rate, a stall one tick. */
START_TEST(test_divisor1_clamped)
{
    ck_assert_int_eq(h_add(&h, "pit", NULL, 0), CAP_OK);
    h_out(&h, 0x43, 1, 0x34); /* ch0 mode 2, divisor 1 */
    h_out(&h, 0x40, 1, 0x01);
    h_out(&h, 0x40, 1, 0x00);
    unsigned polls = run_us(10000000, false, NULL); /* 10 ms */
    unsigned max = 10000000 / TM_MIN_PERIOD_NS + 1;
    ck_assert_uint_le(h.irq_raises[0], max);
    ck_assert_uint_ge(h.irq_raises[0], max - 5);
    ck_assert_uint_le(polls, max);
    /* the counter still runs at 1.19 MHz: divisor 16 reads move each tick */
    h_out(&h, 0x43, 1, 0x34);
    h_out(&h, 0x40, 1, 0x10);
    h_out(&h, 0x40, 1, 0x00);
    h_advance(&h, ticks(3));
    h_out(&h, 0x43, 1, 0x00);
    uint16_t c1 = read_word(0x40);
    h_advance(&h, ticks(5));
    h_out(&h, 0x43, 1, 0x00);
    uint16_t c2 = read_word(0x40);
    ck_assert_uint_eq((c1 - c2 + 16) % 16, 5);
    /* a long stall: one tick, not a burst */
    unsigned before = h.irq_raises[0];
    h_advance(&h, 10000000000ull);
    ck_assert_uint_eq(h.irq_raises[0], before + 1);
}
END_TEST

/* IRQ0 masked in the 8259: the first edge latches in the IRR, then the
 * timer stops (no callbacks at all); unmasking delivers the latched one,
 * and its INTA re-arms the timer. */
START_TEST(test_masked_irq0_costs_nothing)
{
    pic_pit(0xff);
    h_out(&h, 0x43, 1, 0x34); /* divisor 2 */
    h_out(&h, 0x40, 1, 0x02);
    h_out(&h, 0x40, 1, 0x00);
    unsigned polls = run_us(1000000, false, NULL);
    ck_assert_uint_le(polls, 2);
    ck_assert_uint_eq(tm_next_deadline(h.tm), TM_NO_DEADLINE);
    ck_assert_uint_eq(run_us(10000000, false, NULL), 0);
    h_out(&h, 0x21, 1, 0xfe); /* unmask: the latched request goes in */
    ck_assert_int_eq(h.intr, 1);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x08);
    h_out(&h, 0x20, 1, 0x20);
    uint64_t d = tm_next_deadline(h.tm);
    ck_assert_uint_ne(d, TM_NO_DEADLINE);
    /* the next edge of the programmed period: the last one was long ago */
    ck_assert_uint_le(d - tm_now(h.tm), TM_MIN_PERIOD_NS + ticks(2));
    /* taken at once from now on: about one per TM_MIN_PERIOD_NS */
    unsigned got = 0;
    run_us(10000000, true, &got);
    ck_assert_uint_ge(got, 10000000 / TM_MIN_PERIOD_NS - 5);
    ck_assert_uint_le(got, 10000000 / TM_MIN_PERIOD_NS + 1);
}
END_TEST

/* Unmasked but never acknowledged (the guest runs with IF=0): one request
 * latches, then nothing runs until the INTA. */
START_TEST(test_unacknowledged_irq0_coalesced)
{
    pic_pit(0xfe);
    h_out(&h, 0x43, 1, 0x34); /* divisor 1 */
    h_out(&h, 0x40, 1, 0x01);
    h_out(&h, 0x40, 1, 0x00);
    unsigned polls = run_us(10000000, false, NULL);
    ck_assert_uint_le(polls, 2);
    ck_assert_int_eq(h.intr, 1);
    ck_assert_uint_eq(tm_next_deadline(h.tm), TM_NO_DEADLINE);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x08);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x0f); /* one request, not a queue: spurious */
    h_out(&h, 0x20, 1, 0x20);
    ck_assert_uint_ne(tm_next_deadline(h.tm), TM_NO_DEADLINE);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dev-pit");
    TCase *tc = tcase_create("pit");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_mode2_irq0_periodic);
    tcase_add_test(tc, test_mode0_one_shot_and_readback);
    tcase_add_test(tc, test_lobyte_only_and_ch2_speaker);
    tcase_add_test(tc, test_irq0_through_pic);
    tcase_add_test(tc, test_save_load_state);
    tcase_add_test(tc, test_stop_keeps_latched_irq0_then_one_shot);
    tcase_add_test(tc, test_divisor1_clamped);
    tcase_add_test(tc, test_masked_irq0_costs_nothing);
    tcase_add_test(tc, test_unacknowledged_irq0_coalesced);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
