/*
 * tests/unit/devices/test_pcibus.c - PCI functions of other device plugins
 * on the bus (plugins/devices/pci with plugins/devices/pcitest, both loaded
 * through the registry): PIIX3's ISA bridge, registration through PDM, BAR
 * sizing and mapping through IOM, hostile BAR values, INTx through PIIX3's
 * PIRQ routing (swizzle, shared lines, routing changes, INTX_DISABLE),
 * reset and saved state, the expansion ROM, and the routed line as a level
 * at the real PIC and I/O APIC plugins.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define ADDR 0xcf8
#define DATA 0xcfc
#define SIG  0x49435043u /* pcitest's "CPCI" */

#define BAR0 0x10
#define BAR1 0x14
#define BAR2 0x18
#define BAR3 0x1c
#define BAR4 0x20

#define CMD_IO    0x0001
#define CMD_MEM   0x0002
#define CMD_INTXD 0x0400

static struct harness h;

/* "RAM" for the map's hook: [0, HARNESS_RAM), where no BAR may go. */
static cap_result fake_pgm_mapped(void *ctx, uint64_t base, uint64_t size, const char *desc)
{
    if (base < HARNESS_RAM)
        return cap_error_set(CAP_E_INVALIDARG, "pgm", NULL, "'%s' overlaps RAM", desc);
    return CAP_OK;
}

static void fake_pgm_unmapped(void *ctx, uint64_t base)
{
}

static const struct iom_mmio_listener fake_pgm = {fake_pgm_mapped, fake_pgm_unmapped, NULL};

static void setup(void)
{
    h_setup(&h);
    iom_set_mmio_listener(h.iom, &fake_pgm);
    ck_assert_int_eq(h_add(&h, "pci", NULL, 0), CAP_OK);
    ck_assert_int_eq(h_add(&h, "pcitest", NULL, 0), CAP_OK); /* 00:02.0 */
}

static void teardown(void)
{
    h_teardown(&h);
}

static uint32_t rd(unsigned dev, unsigned fn, unsigned reg, unsigned size)
{
    h_out(&h, ADDR, 4, 0x80000000u | dev << 11 | fn << 8 | (reg & 0xfc));
    return h_in(&h, (uint16_t)(DATA + (reg & 3)), size);
}

static void wr(unsigned dev, unsigned fn, unsigned reg, unsigned size, uint32_t v)
{
    h_out(&h, ADDR, 4, 0x80000000u | dev << 11 | fn << 8 | (reg & 0xfc));
    h_out(&h, (uint16_t)(DATA + (reg & 3)), size, v);
}

static unsigned count_logged(const char *needle)
{
    unsigned n = 0;
    for (const char *p = h.log; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* pcitest at `dev`: its I/O BAR at `port`, IO decoding on. */
static void map_io(unsigned dev, uint16_t port)
{
    wr(dev, 0, BAR0, 4, port);
    wr(dev, 0, PCI_COMMAND, 2, rd(dev, 0, PCI_COMMAND, 2) | CMD_IO);
}

START_TEST(test_piix3)
{
    ck_assert_uint_eq(rd(1, 0, PCI_VENDOR_ID, 4), 0x70008086);
    ck_assert_uint_eq(rd(1, 0, PCI_REVISION_ID, 4), 0x06010000);
    ck_assert_uint_eq(rd(1, 0, PCI_HEADER_TYPE, 1), PCI_HEADER_MULTI_FUNCTION);
    ck_assert_uint_eq(rd(1, 0, PCI_SUBSYSTEM_VENDOR_ID, 4), 0x11001af4);
    ck_assert_uint_eq(rd(1, 0, PCI_COMMAND, 2), 0x0007);
    ck_assert_uint_eq(rd(1, 0, 0x60, 4), 0x80808080);
    /* bits 6-4 of a PIRQ route read 0 */
    wr(1, 0, 0x60, 4, 0xff0b0a05);
    ck_assert_uint_eq(rd(1, 0, 0x60, 4), 0x8f0b0a05);
    /* Linux's PIIX3 quirk (passive release) writes DLC */
    wr(1, 0, 0x82, 1, 0x02);
    ck_assert_uint_eq(rd(1, 0, 0x82, 1), 0x02);
    /* identity is read-only; nothing at 00:01.1 until a device puts IDE there */
    wr(1, 0, PCI_VENDOR_ID, 4, 0);
    ck_assert_uint_eq(rd(1, 0, PCI_VENDOR_ID, 4), 0x70008086);
    ck_assert_uint_eq(rd(1, 1, PCI_VENDOR_ID, 4), 0xffffffff);
}
END_TEST

START_TEST(test_register)
{
    ck_assert_uint_eq(rd(2, 0, PCI_VENDOR_ID, 4), 0x00051b36);
    ck_assert_uint_eq(rd(2, 0, PCI_INTERRUPT_LINE, 2), 0x0100); /* INTA#, line 0 */
    ck_assert_int_eq(h_add(&h, "pcitest", NULL, 0), CAP_OK);    /* the next free: 00:03.0 */
    ck_assert_uint_eq(rd(3, 0, PCI_VENDOR_ID, 4), 0x00051b36);
    struct pdm_cfg_kv taken[] = {{"devfn", "0x10"}}, there[] = {{"devfn", "0x38"}},
                      bad[] = {{"devfn", "256"}};
    ck_assert_int_ne(h_add(&h, "pcitest", taken, 1), CAP_OK);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "00:02.0: taken"));
    ck_assert_int_ne(h_add(&h, "pcitest", bad, 1), CAP_OK);
    ck_assert_int_eq(h_add(&h, "pcitest", there, 1), CAP_OK);
    ck_assert_uint_eq(rd(7, 0, PCI_DEVICE_ID, 2), 0x0005);
    /* a failed one left nothing behind: 00:04.0 is still free */
    ck_assert_uint_eq(rd(4, 0, PCI_VENDOR_ID, 4), 0xffffffff);
    /* no bus: a clear error */
    struct harness h2;
    h_setup(&h2);
    ck_assert_int_ne(h_add(&h2, "pcitest", NULL, 0), CAP_OK);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "no PCI bus"));
    h_teardown(&h2);
}
END_TEST

START_TEST(test_bar_sizing)
{
    ck_assert_uint_eq(rd(2, 0, BAR0, 4), 0x00000001);
    ck_assert_uint_eq(rd(2, 0, BAR1, 4), 0x00000000);
    ck_assert_uint_eq(rd(2, 0, BAR2, 4), 0x0000000c);
    for (unsigned r = BAR0; r <= BAR4 + 4; r += 4)
        wr(2, 0, r, 4, 0xffffffffu);
    ck_assert_uint_eq(rd(2, 0, BAR0, 4), 0xfffffff1); /* 16 ports */
    ck_assert_uint_eq(rd(2, 0, BAR1, 4), 0xfffff000); /* 4 KiB */
    ck_assert_uint_eq(rd(2, 0, BAR2, 4), 0xfff0000c); /* 1 MiB, 64-bit, prefetchable */
    ck_assert_uint_eq(rd(2, 0, BAR3, 4), 0xffffffff); /* its upper half */
    ck_assert_uint_eq(rd(2, 0, BAR4, 4), 0);          /* undeclared */
    ck_assert_uint_eq(rd(2, 0, BAR4 + 4, 4), 0);
    /* nothing got mapped: decoding is off */
    ck_assert_uint_eq(h_in(&h, 0xfff0, 4), 0xffffffff);
    ck_assert(!h_logged(&h, "refused"));
    /* bytes and words work as well */
    wr(2, 0, BAR0, 1, 0x00);
    wr(2, 0, BAR0 + 1, 1, 0xc0);
    ck_assert_uint_eq(rd(2, 0, BAR0, 2), 0xc001);
}
END_TEST

START_TEST(test_bar_mapping)
{
    ck_assert_uint_eq(h_in(&h, 0xc000, 4), 0xffffffff);
    wr(2, 0, BAR0, 4, 0xc000);
    wr(2, 0, BAR1, 4, 0xe0000000u);
    wr(2, 0, BAR2, 4, 0);
    wr(2, 0, BAR3, 4, 0x10);                            /* 0x10_0000_0000: 64 GiB */
    ck_assert_uint_eq(h_in(&h, 0xc000, 4), 0xffffffff); /* decoding still off */
    wr(2, 0, PCI_COMMAND, 2, CMD_IO);
    ck_assert_uint_eq(h_in(&h, 0xc000, 4), SIG);
    ck_assert_uint_eq(h_in(&h, 0xc001, 1), 0x50);
    ck_assert_uint_eq(h_in(&h, 0xc00c, 4), 0); /* which BAR: 0 */
    ck_assert_uint_eq(h_mmio_in(&h, 0xe0000000u, 4), 0xffffffff);
    wr(2, 0, PCI_COMMAND, 2, CMD_IO | CMD_MEM);
    ck_assert_uint_eq(h_mmio_in(&h, 0xe0000000u, 4), SIG);
    ck_assert_uint_eq(h_mmio_in(&h, 0xe000000cu, 4), 1);
    ck_assert_uint_eq(h_mmio_in(&h, 0x100000000cull, 4), 2);
    ck_assert_uint_eq(h_mmio_in(&h, 0x1000000000ull, 8), SIG); /* +4 is the INTx level, 0 */
    /* one device behind all three */
    h_mmio_out(&h, 0x1000000008ull, 4, 0x12345678);
    ck_assert_uint_eq(h_in(&h, 0xc008, 4), 0x12345678);
    ck_assert_uint_eq(h_mmio_in(&h, 0xe0000008u, 2), 0x5678);
    /* moved: the old place is nobody's */
    wr(2, 0, BAR0, 4, 0xc100);
    ck_assert_uint_eq(h_in(&h, 0xc000, 4), 0xffffffff);
    ck_assert_uint_eq(h_in(&h, 0xc100, 4), SIG);
    wr(2, 0, BAR1, 2, 0x1000); /* a word write moves it too: 0xe0001000 */
    ck_assert_uint_eq(h_mmio_in(&h, 0xe0000000u, 4), 0xffffffff);
    ck_assert_uint_eq(h_mmio_in(&h, 0xe0001000u, 4), SIG);
    /* decoding off: gone; back on: back */
    wr(2, 0, PCI_COMMAND, 2, CMD_MEM);
    ck_assert_uint_eq(h_in(&h, 0xc100, 4), 0xffffffff);
    ck_assert_uint_eq(h_mmio_in(&h, 0xe0001000u, 4), SIG);
    wr(2, 0, PCI_COMMAND, 2, 0);
    ck_assert_uint_eq(h_mmio_in(&h, 0x1000000000ull, 4), 0xffffffff);
    wr(2, 0, PCI_COMMAND, 2, CMD_IO | CMD_MEM);
    ck_assert_uint_eq(h_in(&h, 0xc100, 4), SIG);
    ck_assert_uint_eq(h_mmio_in(&h, 0x1000000000ull, 4), SIG);
    /* address 0: unmapped, quietly */
    wr(2, 0, BAR0, 4, 0);
    ck_assert_uint_eq(h_in(&h, 0xc100, 4), 0xffffffff);
    ck_assert(!h_logged(&h, "refused"));
}
END_TEST

START_TEST(test_bar_hostile)
{
    /* over the bus's own ports (0xcf0-0xcff covers 0xcf8): refused, logged,
     * and configuration cycles still reach the bus */
    map_io(2, 0xcf0);
    ck_assert(h_logged(&h, "00:02.0 pcitest BAR0: I/O at 0xcf0 refused"));
    ck_assert_uint_eq(rd(2, 0, PCI_VENDOR_ID, 4), 0x00051b36);
    ck_assert_uint_eq(rd(2, 0, BAR0, 4), 0xcf1); /* the BAR keeps the value */
    /* the same value again: not retried, not logged again */
    unsigned n = count_logged("refused");
    wr(2, 0, BAR0, 4, 0xcf0);
    wr(2, 0, PCI_COMMAND, 2, CMD_IO);
    ck_assert_uint_eq(count_logged("refused"), n);
    /* over "RAM" */
    wr(2, 0, BAR1, 4, 0x1000);
    wr(2, 0, PCI_COMMAND, 2, CMD_IO | CMD_MEM);
    ck_assert(h_logged(&h, "BAR1: memory at 0x1000 refused"));
    ck_assert(h_logged(&h, "overlaps RAM"));
    /* past the port space; past 1 TiB */
    wr(2, 0, BAR0, 4, 0x10000);
    ck_assert(h_logged(&h, "BAR0: I/O at 0x10000 refused"));
    wr(2, 0, BAR3, 4, 0xffffffffu);
    wr(2, 0, BAR2, 4, 0xfff00000u);
    ck_assert(h_logged(&h, "BAR2: memory at 0xfffffffffff00000 refused"));
    /* over another function's BAR */
    ck_assert_int_eq(h_add(&h, "pcitest", NULL, 0), CAP_OK); /* 00:03.0 */
    map_io(3, 0xc000);
    map_io(2, 0xc000);
    ck_assert(h_logged(&h, "00:02.0 pcitest BAR0: I/O at 0xc000 refused"));
    h_out(&h, 0xc008, 4, 0xabcd);
    ck_assert_uint_eq(h_in(&h, 0xc008, 4), 0xabcd); /* 00:03.0's, unharmed */
    /* a good address maps at once */
    wr(2, 0, BAR0, 4, 0xd000);
    ck_assert_uint_eq(h_in(&h, 0xd000, 4), SIG);
    ck_assert_uint_eq(h_in(&h, 0xd008, 4), 0);
    /* a sweep of values over every BAR and the command register */
    static const uint32_t vals[] = {0,           0xffffffffu, 0xcf8, 0x1000,     0xfee00000u,
                                    0x80000000u, 0xc000,      0x7,   0xfffffff0u};
    for (unsigned i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
        for (unsigned r = PCI_COMMAND; r <= BAR4 + 4; r += 4)
            for (unsigned size = 1; size <= 4; size *= 2) {
                wr(2, 0, r, size, vals[i]);
                wr(2, 0, PCI_COMMAND, 2, CMD_IO | CMD_MEM);
            }
    /* still sane: back to good addresses, it works */
    wr(2, 0, BAR0, 4, 0xd000);
    wr(2, 0, BAR1, 4, 0xe0000000u);
    wr(2, 0, PCI_COMMAND, 2, CMD_IO | CMD_MEM);
    ck_assert_uint_eq(h_in(&h, 0xd000, 4), SIG);
    ck_assert_uint_eq(h_mmio_in(&h, 0xe0000000u, 4), SIG);
    ck_assert_uint_eq(rd(0, 0, PCI_VENDOR_ID, 4), 0x12378086);
}
END_TEST

/* The expansion ROM BAR: sized like the others, mapped only with both its
 * enable bit and the command register's MEMORY bit, read-only. */
START_TEST(test_rom)
{
    ck_assert_uint_eq(rd(2, 0, PCI_ROM_ADDRESS, 4), 0);
    wr(2, 0, PCI_ROM_ADDRESS, 4, 0xffffffffu);
    ck_assert_uint_eq(rd(2, 0, PCI_ROM_ADDRESS, 4), 0xfffff801); /* 2 KiB, enabled */
    wr(2, 0, PCI_ROM_ADDRESS, 4, 0xe0100000u);                   /* not enabled */
    wr(2, 0, PCI_COMMAND, 2, CMD_IO | CMD_MEM);
    ck_assert_uint_eq(h_mmio_in(&h, 0xe0100000u, 4), 0xffffffff);
    wr(2, 0, PCI_ROM_ADDRESS, 1, 0x01);
    ck_assert_uint_eq(h_mmio_in(&h, 0xe0100000u, 4), SIG);
    ck_assert_uint_eq(h_mmio_in(&h, 0xe010000cu, 4), PCI_ROM_SLOT);
    map_io(2, 0xc000);
    h_out(&h, 0xc008, 4, 0x1234);
    h_mmio_out(&h, 0xe0100008u, 4, 0xdead); /* a ROM: dropped */
    ck_assert_uint_eq(h_mmio_in(&h, 0xe0100008u, 4), 0x1234);
    wr(2, 0, PCI_COMMAND, 2, CMD_IO); /* MEMORY off: gone */
    ck_assert_uint_eq(h_mmio_in(&h, 0xe0100000u, 4), 0xffffffff);
    wr(2, 0, PCI_COMMAND, 2, CMD_IO | CMD_MEM);
    wr(2, 0, PCI_ROM_ADDRESS, 4, 0xe0100000u); /* enable bit off: gone */
    ck_assert_uint_eq(h_mmio_in(&h, 0xe0100000u, 4), 0xffffffff);
    wr(2, 0, PCI_ROM_ADDRESS, 4, 0x00000801u); /* over "RAM": refused */
    ck_assert(h_logged(&h, "00:02.0 pcitest ROM: memory at 0x800 refused"));
}
END_TEST

/* 00:02.0's INTA# is PIRQC# ((2 + 1 - 1) mod 4) */
START_TEST(test_intx_routing)
{
    map_io(2, 0xc000);
    h_out(&h, 0xc004, 1, 1); /* raise: not routed yet */
    for (unsigned irq = 0; irq < 16; irq++)
        ck_assert_int_eq(h.irq_level[irq], 0);
    ck_assert_uint_eq(rd(2, 0, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, PCI_STATUS_INTERRUPT);
    wr(1, 0, 0x62, 1, 11);
    ck_assert_int_eq(h.irq_level[11], 1);
    h_out(&h, 0xc004, 1, 0);
    ck_assert_int_eq(h.irq_level[11], 0);
    ck_assert_uint_eq(rd(2, 0, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
    /* the other PIRQs do not carry it */
    wr(1, 0, 0x62, 1, 0x80);
    wr(1, 0, 0x60, 4, 0x80800b05); /* PIRQA# 5, PIRQB# 11, PIRQC# off */
    h_out(&h, 0xc004, 1, 1);
    ck_assert_int_eq(h.irq_level[5] + h.irq_level[11], 0);
    /* routed while asserted; moved; disabled */
    wr(1, 0, 0x62, 1, 11);
    ck_assert_int_eq(h.irq_level[11], 1);
    wr(1, 0, 0x62, 1, 10);
    ck_assert_int_eq(h.irq_level[11], 0);
    ck_assert_int_eq(h.irq_level[10], 1);
    /* INTX_DISABLE masks it; the status bit still shows it */
    wr(2, 0, PCI_COMMAND, 2, CMD_IO | CMD_INTXD);
    ck_assert_int_eq(h.irq_level[10], 0);
    ck_assert_uint_eq(rd(2, 0, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, PCI_STATUS_INTERRUPT);
    wr(2, 0, PCI_COMMAND, 2, CMD_IO);
    ck_assert_int_eq(h.irq_level[10], 1);
    wr(1, 0, 0x62, 1, 0x8a);
    ck_assert_int_eq(h.irq_level[10], 0);
    /* IRQs PIIX3 cannot route (0-2, 8, 13): nothing */
    static const uint8_t bad[] = {0, 1, 2, 8, 13};
    for (unsigned i = 0; i < sizeof(bad); i++) {
        wr(1, 0, 0x62, 1, bad[i]);
        ck_assert_int_eq(h.irq_level[bad[i]], 0);
    }
    wr(1, 0, 0x62, 1, 15);
    ck_assert_int_eq(h.irq_level[15], 1);
}
END_TEST

/* Several functions on one line: the OR of them. */
START_TEST(test_shared_lines)
{
    struct pdm_cfg_kv slot6[] = {{"devfn", "0x30"}}, slot4[] = {{"devfn", "0x20"}};
    ck_assert_int_eq(h_add(&h, "pcitest", slot6, 1), CAP_OK); /* INTA# -> PIRQC# */
    ck_assert_int_eq(h_add(&h, "pcitest", slot4, 1), CAP_OK); /* INTA# -> PIRQA# */
    map_io(2, 0xc000);
    map_io(6, 0xc010);
    map_io(4, 0xc020);
    wr(1, 0, 0x60, 4, 0x800b800b); /* PIRQA# and PIRQC# both to IRQ 11 */
    h_out(&h, 0xc004, 1, 1);
    h_out(&h, 0xc014, 1, 1);
    ck_assert_int_eq(h.irq_level[11], 1);
    unsigned raises = h.irq_raises[11];
    h_out(&h, 0xc004, 1, 0);
    ck_assert_int_eq(h.irq_level[11], 1); /* 00:06.0 still holds PIRQC# */
    h_out(&h, 0xc024, 1, 1);              /* and 00:04.0 PIRQA# */
    h_out(&h, 0xc014, 1, 0);
    ck_assert_int_eq(h.irq_level[11], 1);
    ck_assert_uint_eq(h.irq_raises[11], raises); /* never dropped in between */
    h_out(&h, 0xc024, 1, 0);
    ck_assert_int_eq(h.irq_level[11], 0);
    /* the same function raising twice counts once */
    h_out(&h, 0xc004, 1, 1);
    h_out(&h, 0xc004, 1, 1);
    h_out(&h, 0xc004, 1, 0);
    ck_assert_int_eq(h.irq_level[11], 0);
}
END_TEST

START_TEST(test_reset_and_state)
{
    map_io(2, 0xc000);
    wr(2, 0, BAR1, 4, 0xe0000000u);
    wr(2, 0, PCI_COMMAND, 2, CMD_IO | CMD_MEM);
    wr(1, 0, 0x62, 1, 11);
    h_out(&h, 0xc008, 4, 0x55aa);
    h_out(&h, 0xc004, 1, 1);
    ck_assert_int_eq(h.irq_level[11], 1);
    void *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(pdm_save(h.pdm, &buf, &len), CAP_OK);
    pdm_reset(h.pdm);
    ck_assert_int_eq(h.irq_level[11], 0);
    ck_assert_uint_eq(h_in(&h, 0xc000, 4), 0xffffffff);
    ck_assert_uint_eq(h_mmio_in(&h, 0xe0000000u, 4), 0xffffffff);
    ck_assert_uint_eq(rd(2, 0, BAR0, 4), 1);
    ck_assert_uint_eq(rd(1, 0, 0x62, 1), 0x80);
    ck_assert_int_eq(pdm_load(h.pdm, buf, len), CAP_OK);
    ck_assert_int_eq(h.irq_level[11], 1);
    ck_assert_uint_eq(h_in(&h, 0xc008, 4), 0x55aa);
    ck_assert_uint_eq(h_mmio_in(&h, 0xe0000000u, 4), SIG);
    h_out(&h, 0xc004, 1, 0);
    ck_assert_int_eq(h.irq_level[11], 0);
    free(buf);
}
END_TEST

/* With the PIC (plugins/devices/pic) in the machine: the routed line is
 * a level at the PIC's input, taken as the firmware sets it up (PIRQC# to
 * IRQ 11, level-triggered in the ELCR, unmasked): the CPU sees it, and
 * sees it again after the EOI while the function still holds it. */
START_TEST(test_pic_delivery)
{
    struct harness *hp = &h;
    h_teardown(hp);
    h_setup(hp);
    ck_assert_int_eq(h_add(hp, "pic", NULL, 0), CAP_OK);
    ck_assert_int_eq(h_add(hp, "pci", NULL, 0), CAP_OK);
    ck_assert_int_eq(h_add(hp, "pcitest", NULL, 0), CAP_OK);
    static const uint16_t init[][2] = {
        {0x20, 0x11}, {0x21, 0x20}, {0x21, 0x04},  {0x21, 0x01}, /* master: vectors 0x20 */
        {0xa0, 0x11}, {0xa1, 0x28}, {0xa1, 0x02},  {0xa1, 0x01}, /* slave: vectors 0x28 */
        {0x21, 0xfb}, {0xa1, 0xf7}, {0x4d1, 0x08},               /* IRQ2, IRQ11; 11 level */
    };
    for (unsigned i = 0; i < sizeof(init) / sizeof(init[0]); i++)
        h_out(hp, init[i][0], 1, init[i][1]);
    wr(1, 0, 0x62, 1, 11);
    map_io(2, 0xc000);
    ck_assert_int_eq(hp->intr, 0);
    h_out(hp, 0xc004, 1, 1);
    ck_assert_int_eq(hp->intr, 1);
    ck_assert_int_eq(pdm_get_interrupt(hp->pdm), 0x2b);
    h_out(hp, 0xa0, 1, 0x20); /* EOI, slave then master: still held */
    h_out(hp, 0x20, 1, 0x20);
    ck_assert_int_eq(hp->intr, 1);
    ck_assert_int_eq(pdm_get_interrupt(hp->pdm), 0x2b);
    h_out(hp, 0xc004, 1, 0); /* the driver cleared the cause */
    h_out(hp, 0xa0, 1, 0x20);
    h_out(hp, 0x20, 1, 0x20);
    ck_assert_int_eq(hp->intr, 0); /* (an INTA now would be the 8259's spurious IRQ7) */
}
END_TEST

/* With the APICs: the same line reaches the I/O APIC's pin 11 (GSI 11), a
 * level-triggered entry: remote IRR, and delivered again after the EOI
 * while the function holds it. */
START_TEST(test_ioapic_delivery)
{
    struct harness *hp = &h;
    h_teardown(hp);
    h_setup(hp);
    struct pdm_dev_config cfg[] = {{.device = "pic"},
                                   {.device = "apic"},
                                   {.device = "ioapic"},
                                   {.device = "pci"},
                                   {.device = "pcitest"}};
    ck_assert_int_eq(pdm_instantiate(hp->pdm, cfg, 5), CAP_OK);
    h_mmio_out(hp, 0xfee000f0u, 4, 0x1ff); /* local APIC on, LINT0 masked */
    h_mmio_out(hp, 0xfec00000u, 1, 0x10 + 2 * 11);
    h_mmio_out(hp, 0xfec00010u, 4, 0x8051); /* pin 11: level, vector 0x51, APIC 0 */
    wr(1, 0, 0x62, 1, 11);
    map_io(2, 0xc000);
    h_out(hp, 0xc004, 1, 1);
    ck_assert_int_eq(hp->intr, 1);
    ck_assert_int_eq(pdm_get_interrupt(hp->pdm), 0x51);
    h_mmio_out(hp, 0xfee000b0u, 4, 0); /* EOI, still held: again */
    ck_assert_int_eq(pdm_get_interrupt(hp->pdm), 0x51);
    h_out(hp, 0xc004, 1, 0);
    h_mmio_out(hp, 0xfee000b0u, 4, 0);
    ck_assert_int_eq(hp->intr, 0);
    ck_assert_int_eq(pdm_get_interrupt(hp->pdm), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dev-pcibus");
    TCase *tc = tcase_create("pcibus");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_piix3);
    tcase_add_test(tc, test_register);
    tcase_add_test(tc, test_bar_sizing);
    tcase_add_test(tc, test_bar_mapping);
    tcase_add_test(tc, test_bar_hostile);
    tcase_add_test(tc, test_rom);
    tcase_add_test(tc, test_intx_routing);
    tcase_add_test(tc, test_shared_lines);
    tcase_add_test(tc, test_reset_and_state);
    tcase_add_test(tc, test_pic_delivery);
    tcase_add_test(tc, test_ioapic_delivery);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
