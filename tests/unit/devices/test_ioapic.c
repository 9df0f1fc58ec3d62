/*
 * tests/unit/devices/test_ioapic.c - the I/O APIC: IOREGSEL/IOWIN
 * registers, edge delivery (PIT IRQ0 on pin 2), level delivery with remote
 * IRR and the local APIC's EOI broadcast (RTC IRQ8 held until register C
 * is read), masking, routing to both PIC and I/O APIC.
 */
#include <check.h>
#include <stdlib.h>

#include "harness.h"

#define APIC   0xfee00000ull
#define IOAPIC 0xfec00000ull

static struct harness h;

static void setup(void)
{
    h_setup(&h);
}

static void teardown(void)
{
    h_teardown(&h);
}

static uint32_t io_rd(uint8_t reg)
{
    h_mmio_out(&h, IOAPIC, 1, reg);
    return (uint32_t)h_mmio_in(&h, IOAPIC + 0x10, 4);
}

static void io_wr(uint8_t reg, uint32_t v)
{
    h_mmio_out(&h, IOAPIC, 1, reg);
    h_mmio_out(&h, IOAPIC + 0x10, 4, v);
}

static void route(unsigned pin, uint32_t lo, uint8_t dest)
{
    io_wr((uint8_t)(0x11 + 2 * pin), (uint32_t)dest << 24);
    io_wr((uint8_t)(0x10 + 2 * pin), lo);
}

static void add_all(void)
{
    struct pdm_dev_config cfg[] = {{.device = "pic"},
                                   {.device = "apic"},
                                   {.device = "ioapic"},
                                   {.device = "pit"},
                                   {.device = "rtc"}};
    ck_assert_int_eq(pdm_instantiate(h.pdm, cfg, 5), CAP_OK);
    h_mmio_out(&h, APIC + 0xf0, 4, 0x1ff); /* enable the local APIC, LINT0 masked */
}

START_TEST(test_registers)
{
    struct pdm_cfg_kv kv[] = {{"id", "2"}};
    ck_assert_int_eq(h_add(&h, "ioapic", kv, 1), CAP_OK);
    ck_assert_uint_eq(io_rd(0x00), 2u << 24);
    ck_assert_uint_eq(io_rd(0x01), 0x00170011);
    ck_assert_uint_eq(io_rd(0x02), 2u << 24);
    io_wr(0x00, 0x05000000);
    ck_assert_uint_eq(io_rd(0x00), 0x05000000);
    io_wr(0x01, 0);
    ck_assert_uint_eq(io_rd(0x01), 0x00170011);
    for (uint8_t r = 0x10; r < 0x40; r += 2)
        ck_assert_uint_eq(io_rd(r), 0x10000);
    io_wr(0x10 + 2 * 23, 0x0001f0a5 | 0x5000); /* remote IRR / status are read-only */
    ck_assert_uint_eq(io_rd(0x10 + 2 * 23), 0x0001a0a5 & ~0x1000u);
    io_wr(0x11 + 2 * 23, 0xffffffff);
    ck_assert_uint_eq(io_rd(0x11 + 2 * 23), 0xff000000);
    ck_assert_uint_eq(io_rd(0x40), 0xffffffff); /* no such register */
    ck_assert_uint_eq(h_mmio_in(&h, IOAPIC, 1), 0x40);
    /* A second I/O APIC is refused. */
    ck_assert_int_ne(h_add(&h, "ioapic", NULL, 0), CAP_OK);
}
END_TEST

START_TEST(test_edge_pit_on_pin2)
{
    add_all();
    route(2, 0x30, 0); /* vector 0x30, fixed, physical APIC 0, edge, unmasked */
    h_out(&h, 0x43, 1, 0x34);
    h_out(&h, 0x40, 1, 0x00);
    h_out(&h, 0x40, 1, 0x10); /* 4096 ticks: ~3.4 ms */
    h_advance(&h, 3500000);
    ck_assert_int_eq(h.intr, 1);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x30);
    h_mmio_out(&h, APIC + 0xb0, 4, 0);
    ck_assert_int_eq(h.intr, 0);
    h_advance(&h, 3500000);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x30);
    h_mmio_out(&h, APIC + 0xb0, 4, 0);
    /* Masked: the edge is lost. */
    route(2, 0x10030, 0);
    h_advance(&h, 3500000);
    ck_assert_int_eq(h.intr, 0);
    route(2, 0x30, 0);
    ck_assert_int_eq(h.intr, 0);
    /* Another destination: not ours. */
    route(2, 0x30, 1);
    h_advance(&h, 3500000);
    ck_assert_int_eq(h.intr, 0);
}
END_TEST

START_TEST(test_level_rtc_remote_irr)
{
    add_all();
    route(8, 0x8038, 0); /* level, vector 0x38 */
    h_out(&h, 0x70, 1, 0x0a);
    h_out(&h, 0x71, 1, 0x2f); /* 500 ms periodic */
    h_out(&h, 0x70, 1, 0x0b);
    h_out(&h, 0x71, 1, 0x42); /* PIE */
    h_advance(&h, 500000000);
    ck_assert_int_eq(h.intr, 1);
    ck_assert_uint_eq(io_rd(0x10 + 16) & 0x4000, 0x4000); /* remote IRR */
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x38);
    ck_assert_uint_eq(h_mmio_in(&h, APIC + 0x180 + 0x10, 4) & (1u << 0x18), 1u << 0x18); /* TMR */
    /* EOI with the line still up: remote IRR clears and it comes again. */
    h_mmio_out(&h, APIC + 0xb0, 4, 0);
    ck_assert_uint_eq(io_rd(0x10 + 16) & 0x4000, 0x4000);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x38);
    /* The handler reads C: the line drops; EOI: nothing more. */
    h_out(&h, 0x70, 1, 0x0c);
    ck_assert_uint_eq(h_in(&h, 0x71, 1) & 0xc0, 0xc0);
    h_mmio_out(&h, APIC + 0xb0, 4, 0);
    ck_assert_uint_eq(io_rd(0x10 + 16) & 0x4000, 0);
    ck_assert_int_eq(h.intr, 0);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), -1);
    /* Masked while asserted, delivered on unmask. */
    route(8, 0x18038, 0);
    h_advance(&h, 500000000);
    ck_assert_int_eq(h.intr, 0);
    route(8, 0x8038, 0);
    ck_assert_int_eq(h.intr, 1);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x38);
}
END_TEST

START_TEST(test_pic_and_ioapic_both_see_irqs)
{
    add_all();
    /* PIC: IRQ0 at vector 0x20; LINT0 ExtINT. IOAPIC pin 2: 0x30. */
    const uint8_t init[][2] = {
        {0x20, 0x11}, {0x21, 0x20}, {0x21, 0x04}, {0x21, 0x01}, {0x21, 0xfe}};
    for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++)
        h_out(&h, init[i][0], 1, init[i][1]);
    h_mmio_out(&h, APIC + 0x350, 4, 0x700);
    route(2, 0x30, 0);
    h_out(&h, 0x43, 1, 0x34);
    h_out(&h, 0x40, 1, 0x00);
    h_out(&h, 0x40, 1, 0x10);
    h_advance(&h, 3500000);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x30); /* the APIC vector first */
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x20); /* then the PIC's */
    ck_assert_uint_eq(h.irq_raises[0], 0);            /* nothing reached the sink */
}
END_TEST

START_TEST(test_no_local_apic)
{
    ck_assert_int_eq(h_add(&h, "ioapic", NULL, 0), CAP_OK);
    ck_assert_int_eq(h_add(&h, "pit", NULL, 0), CAP_OK);
    route(2, 0x30, 0);
    h_out(&h, 0x43, 1, 0x34);
    h_out(&h, 0x40, 1, 0x00);
    h_out(&h, 0x40, 1, 0x10);
    h_advance(&h, 3500000);
    h_advance(&h, 3500000);
    ck_assert(h_logged(&h, "no local APIC"));
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dev-ioapic");
    TCase *tc = tcase_create("ioapic");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_registers);
    tcase_add_test(tc, test_edge_pit_on_pin2);
    tcase_add_test(tc, test_level_rtc_remote_irr);
    tcase_add_test(tc, test_pic_and_ioapic_both_see_irqs);
    tcase_add_test(tc, test_no_local_apic);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
