/*
 * tests/unit/devices/test_pic.c - the i8259 pair: initialisation, IMR,
 * INTA, EOI (non-specific and specific), auto-EOI, cascade, spurious IRQ7,
 * level triggering through ELCR, poll mode, IRR/ISR reads.
 */
#include <check.h>
#include <stdlib.h>

#include "harness.h"

static struct harness h;
static struct pdm_dev *pic;

static void pic_irq(unsigned irq, int level)
{
    /* Devices raise lines through hlp->irq_set; this is the same path. */
    pic->hlp->irq_set(pic, irq, level);
}

/* The BIOS/Linux initialisation: vectors 0x20 and 0x28, cascade on IRQ2. */
static void init_pics(uint8_t icw4)
{
    h_out(&h, 0x20, 1, 0x11);
    h_out(&h, 0x21, 1, 0x20);
    h_out(&h, 0x21, 1, 0x04);
    h_out(&h, 0x21, 1, icw4);
    h_out(&h, 0xa0, 1, 0x11);
    h_out(&h, 0xa1, 1, 0x28);
    h_out(&h, 0xa1, 1, 0x02);
    h_out(&h, 0xa1, 1, icw4);
    h_out(&h, 0x21, 1, 0x00);
    h_out(&h, 0xa1, 1, 0x00);
}

static void setup(void)
{
    h_setup(&h);
    ck_assert_int_eq(h_add(&h, "pic", NULL, 0), CAP_OK);
    pic = pdm_find_device(h.pdm, "pic", 0);
    ck_assert_ptr_nonnull(pic);
}

static void teardown(void)
{
    h_teardown(&h);
}

START_TEST(test_edge_inta_eoi)
{
    init_pics(0x01);
    ck_assert_int_eq(h.intr, 0);
    pic_irq(1, 1);
    ck_assert_int_eq(h.intr, 1);
    ck_assert_uint_eq(h_in(&h, 0x20, 1), 0x02); /* IRR */
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x21);
    ck_assert_int_eq(h.intr, 0);
    h_out(&h, 0x20, 1, 0x0b); /* OCW3: read ISR */
    ck_assert_uint_eq(h_in(&h, 0x20, 1), 0x02);
    pic_irq(1, 0);
    pic_irq(1, 1); /* a new edge while in service: pending, blocked by ISR */
    pic_irq(0, 1); /* higher priority: interrupts */
    ck_assert_int_eq(h.intr, 1);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x20);
    h_out(&h, 0x20, 1, 0x20); /* non-specific EOI: IRQ0 */
    ck_assert_int_eq(h.intr, 0); /* IRQ1 still in service */
    h_out(&h, 0x20, 1, 0x61); /* specific EOI IRQ1 */
    ck_assert_int_eq(h.intr, 1);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x21);
    /* No new edge without a low first. */
    h_out(&h, 0x20, 1, 0x20);
    pic_irq(1, 1);
    ck_assert_int_eq(h.intr, 0);
}
END_TEST

START_TEST(test_mask_and_spurious)
{
    init_pics(0x01);
    h_out(&h, 0x21, 1, 0x08); /* mask IRQ3 */
    ck_assert_uint_eq(h_in(&h, 0x21, 1), 0x08);
    pic_irq(3, 1);
    ck_assert_int_eq(h.intr, 0);
    h_out(&h, 0x21, 1, 0x00);
    ck_assert_int_eq(h.intr, 1);
    /* Masked again before INTA: the CPU acknowledges a spurious IRQ7. */
    h_out(&h, 0x21, 1, 0x08);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x27);
    h_out(&h, 0x20, 1, 0x0b);
    ck_assert_uint_eq(h_in(&h, 0x20, 1), 0x00); /* ISR untouched */
}
END_TEST

START_TEST(test_cascade)
{
    init_pics(0x01);
    pic_irq(12, 1);
    ck_assert_int_eq(h.intr, 1);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x2c);
    h_out(&h, 0xa0, 1, 0x0b);
    ck_assert_uint_eq(h_in(&h, 0xa0, 1), 0x10);
    h_out(&h, 0x20, 1, 0x0b);
    ck_assert_uint_eq(h_in(&h, 0x20, 1), 0x04);
    h_out(&h, 0xa0, 1, 0x20);
    h_out(&h, 0x20, 1, 0x20);
    ck_assert_uint_eq(h_in(&h, 0x20, 1), 0x00);
    ck_assert_int_eq(h.intr, 0);
    /* Slave request withdrawn before INTA: the master latched the cascade
     * edge, the slave has nothing: spurious IRQ15 (vector 0x2f). */
    h_out(&h, 0x4d1, 1, 0x02); /* IRQ9 level-triggered */
    pic_irq(9, 1);
    ck_assert_int_eq(h.intr, 1);
    pic_irq(9, 0);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x2f);
    h_out(&h, 0xa0, 1, 0x0b);
    ck_assert_uint_eq(h_in(&h, 0xa0, 1), 0x00); /* slave ISR untouched */
    h_out(&h, 0x20, 1, 0x20);
    ck_assert_int_eq(h.intr, 0);
}
END_TEST

START_TEST(test_level_and_auto_eoi)
{
    init_pics(0x03); /* auto-EOI */
    h_out(&h, 0x4d0, 1, 0x20); /* IRQ5 level */
    ck_assert_uint_eq(h_in(&h, 0x4d0, 1), 0x20);
    h_out(&h, 0x4d0, 1, 0x07); /* IRQ0-2 cannot be level */
    ck_assert_uint_eq(h_in(&h, 0x4d0, 1), 0x00);
    h_out(&h, 0x4d0, 1, 0x20);
    pic_irq(5, 1);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x25);
    h_out(&h, 0x20, 1, 0x0b);
    ck_assert_uint_eq(h_in(&h, 0x20, 1), 0x00); /* auto-EOI: nothing in service */
    ck_assert_int_eq(h.intr, 1);                /* level still high: again */
    pic_irq(5, 0);
    ck_assert_int_eq(h.intr, 0);
}
END_TEST

START_TEST(test_poll_mode_and_save)
{
    init_pics(0x01);
    pic_irq(4, 1);
    h_out(&h, 0x20, 1, 0x0c); /* OCW3 poll */
    ck_assert_uint_eq(h_in(&h, 0x20, 1), 0x84);
    h_out(&h, 0x20, 1, 0x0c);
    ck_assert_uint_eq(h_in(&h, 0x20, 1), 0x00); /* IRQ4 now in service */
    h_ssm_save(&h);
    h_out(&h, 0x20, 1, 0x20);
    ck_assert_int_eq(h_ssm_load(&h), CAP_OK);
    h_out(&h, 0x20, 1, 0x0b);
    ck_assert_uint_eq(h_in(&h, 0x20, 1), 0x10);
    pdm_reset(h.pdm);
    ck_assert_uint_eq(h_in(&h, 0x21, 1), 0x00);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dev-pic");
    TCase *tc = tcase_create("pic");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_edge_inta_eoi);
    tcase_add_test(tc, test_mask_and_spurious);
    tcase_add_test(tc, test_cascade);
    tcase_add_test(tc, test_level_and_auto_eoi);
    tcase_add_test(tc, test_poll_mode_and_save);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
