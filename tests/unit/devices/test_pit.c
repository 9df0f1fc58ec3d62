/*
 * tests/unit/devices/test_pit.c - the i8254: modes 0, 2 and 3 on the fake
 * clock, lobyte/hibyte access, latch and read-back, IRQ0 through the PIC,
 * port 0x61 gate and OUT bits for channel 2, stopping channel 0 with a
 * latched IRQ0 and a one-shot after it (the pit-pic payload's sequence).
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

int main(void)
{
    Suite *s = suite_create("dev-pit");
    TCase *tc = tcase_create("pit");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_mode2_irq0_periodic);
    tcase_add_test(tc, test_mode0_one_shot_and_readback);
    tcase_add_test(tc, test_lobyte_only_and_ch2_speaker);
    tcase_add_test(tc, test_irq0_through_pic);
    tcase_add_test(tc, test_stop_keeps_latched_irq0_then_one_shot);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
