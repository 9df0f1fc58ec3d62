/*
 * tests/unit/devices/test_vga.c - the vga device: its PCI function and
 * ports through the loaded plugin (with plugins/devices/pci), and its
 * register model (vga_core.c) and renderer (vga_render.c) directly: the
 * graphics controller's read and write modes, chain-4 and odd/even, each
 * mode rendered into exact pixels, hostile VBE values, dirty tiles.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>

#include "../../../plugins/devices/vga/vga.h"
#include "../../../plugins/devices/vga/vga_core.h"
#include "../../../plugins/devices/vga/vga_render.h"
#include "harness.h"

#define ADDR 0xcf8
#define DATA 0xcfc

/* ---- the plugin on the bus ------------------------------------------------ */

static struct harness h;

static void setup(void)
{
    h_setup(&h);
    ck_assert_int_eq(h_add(&h, "pci", NULL, 0), CAP_OK);
    ck_assert_int_eq(h_add(&h, "vga", NULL, 0), CAP_OK); /* 00:02.0 */
}

static void teardown(void)
{
    h_teardown(&h);
}

static uint32_t rd(unsigned reg, unsigned size)
{
    h_out(&h, ADDR, 4, 0x80000000u | 2u << 11 | (reg & 0xfc));
    return h_in(&h, (uint16_t)(DATA + (reg & 3)), size);
}

static void wr(unsigned reg, unsigned size, uint32_t v)
{
    h_out(&h, ADDR, 4, 0x80000000u | 2u << 11 | (reg & 0xfc));
    h_out(&h, (uint16_t)(DATA + (reg & 3)), size, v);
}

START_TEST(test_pci_function)
{
    ck_assert_uint_eq(rd(PCI_VENDOR_ID, 4), 0x11111234);
    ck_assert_uint_eq(rd(PCI_REVISION_ID, 4), 0x03000002);
    ck_assert_uint_eq(rd(PCI_SUBSYSTEM_VENDOR_ID, 4), 0x11001af4);
    wr(0x10, 4, 0xffffffff);
    ck_assert_uint_eq(rd(0x10, 4), 0xff000008); /* 16 MiB prefetchable */
    wr(0x18, 4, 0xffffffff);
    ck_assert_uint_eq(rd(0x18, 4), 0xfffff000); /* 4 KiB MMIO */
    wr(PCI_ROM_ADDRESS, 4, 0xffffffff);
    ck_assert_uint_eq(rd(PCI_ROM_ADDRESS, 4), 0xffff0001); /* 64 KiB ROM */
    /* map all three; the ROM shows the VGA BIOS, the LFB is VRAM */
    wr(0x10, 4, 0xe0000000);
    wr(0x18, 4, 0xe1000000);
    wr(PCI_ROM_ADDRESS, 4, 0xe1010001);
    wr(PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
    ck_assert_uint_eq(h_mmio_in(&h, 0xe1010000, 2), 0xaa55);
    h_mmio_out(&h, 0xe0000000 + 0x123456, 4, 0x11223344);
    ck_assert_uint_eq(h_mmio_in(&h, 0xe0000000 + 0x123456, 4), 0x11223344);
    h_mmio_out(&h, 0xe1010000, 2, 0); /* the ROM drops writes */
    ck_assert_uint_eq(h_mmio_in(&h, 0xe1010000, 2), 0xaa55);
    /* BAR2: DISPI at +0x500 (ID), the VGA ports at +0x400 */
    ck_assert_uint_eq(h_mmio_in(&h, 0xe1000500, 2), VBE_ID5);
    ck_assert_uint_eq(h_mmio_in(&h, 0xe1000500 + 2 * VBE_INDEX_VIDEO_MEMORY_64K, 2), 256);
    h_mmio_out(&h, 0xe1000400 + 0x08, 1, 5); /* 0x3c8: DAC write index */
    ck_assert_uint_eq(h_in(&h, 0x3c8, 1), 5);
}
END_TEST

START_TEST(test_ports)
{
    /* misc bit 0 picks the colour ports; the mono ones float */
    h_out(&h, 0x3c2, 1, 0x67);
    ck_assert_uint_eq(h_in(&h, 0x3cc, 1), 0x67);
    h_out(&h, 0x3d4, 2, 0x0e0e); /* word OUT: index then data (split) */
    ck_assert_uint_eq(h_in(&h, 0x3d5, 1), 0x0e);
    ck_assert_uint_eq(h_in(&h, 0x3b5, 1), 0xff);
    /* CR11 bit 7 protects CR0-7 */
    h_out(&h, 0x3d4, 2, 0x8011);
    h_out(&h, 0x3d4, 2, 0x5501);
    h_out(&h, 0x3d4, 1, 0x01);
    ck_assert_uint_eq(h_in(&h, 0x3d5, 1), 0x00);
    /* the attribute flip-flop: input status 1 resets it */
    h_in(&h, 0x3da, 1);
    h_out(&h, 0x3c0, 1, 0x01);
    h_out(&h, 0x3c0, 1, 0x3f);
    h_out(&h, 0x3c0, 1, 0x21); /* index again, screen on */
    ck_assert_uint_eq(h_in(&h, 0x3c1, 1), 0x3f);
    ck_assert_uint_eq(h_in(&h, 0x3c0, 1), 0x21);
    /* retrace toggles: a wait-for-retrace loop ends */
    unsigned seen = 0;
    for (int i = 0; i < 4; i++)
        seen |= (h_in(&h, 0x3da, 1) & 8) ? 2 : 1;
    ck_assert_uint_eq(seen, 3);
    /* DAC: three writes per entry, auto-increment; reads likewise */
    h_out(&h, 0x3c8, 1, 7);
    for (int i = 0; i < 6; i++)
        h_out(&h, 0x3c9, 1, 0x41 + i); /* 6 bits kept */
    h_out(&h, 0x3c7, 1, 7);
    ck_assert_uint_eq(h_in(&h, 0x3c7, 1), 3);
    for (int i = 0; i < 6; i++)
        ck_assert_uint_eq(h_in(&h, 0x3c9, 1), (0x41 + i) & 0x3f);
    /* sequencer and GC masks */
    h_out(&h, 0x3c4, 2, 0xff02);
    ck_assert_uint_eq(h_in(&h, 0x3c5, 1), 0x0f);
    h_out(&h, 0x3ce, 2, 0xff05);
    ck_assert_uint_eq(h_in(&h, 0x3cf, 1), 0x7b);
    /* DISPI: ID, only known IDs taken */
    h_out(&h, 0x1ce, 2, VBE_INDEX_ID);
    ck_assert_uint_eq(h_in(&h, 0x1cf, 2), VBE_ID5);
    h_out(&h, 0x1cf, 2, 0x1234);
    ck_assert_uint_eq(h_in(&h, 0x1cf, 2), VBE_ID5);
    h_out(&h, 0x1cf, 2, VBE_ID0);
    ck_assert_uint_eq(h_in(&h, 0x1cf, 2), VBE_ID0);
    h_out(&h, 0x1ce, 2, VBE_INDEX_ENABLE);
    h_out(&h, 0x1cf, 2, VBE_GETCAPS);
    h_out(&h, 0x1ce, 2, VBE_INDEX_XRES);
    ck_assert_uint_eq(h_in(&h, 0x1cf, 2), VBE_MAX_XRES);
}
END_TEST

START_TEST(test_window_and_snapshot)
{
    /* power-on: GC memory map 0 (128 KiB), planar; a byte through plane 0 */
    h_out(&h, 0x3c4, 2, 0x0604); /* no odd/even, no chain-4 */
    h_out(&h, 0x3c4, 2, 0x0102); /* map mask: plane 0 */
    h_out(&h, 0x3ce, 2, 0xff08); /* bit mask: all from the CPU */
    h_mmio_out(&h, 0xa0010, 1, 0x5a);
    ck_assert_uint_eq(h_mmio_in(&h, 0xa0010, 1), 0x5a);
    /* 16-bit accesses reach both bytes */
    h_mmio_out(&h, 0xa0020, 2, 0xbeef);
    ck_assert_uint_eq(h_mmio_in(&h, 0xa0020, 2), 0xbeef);
    /* the display interface: a picture (blank: the screen is off) */
    const struct vga_display_iface *d = pdm_query_interface(h.pdm, "vga", 0, VGA_IFACE_DISPLAY);
    ck_assert_ptr_nonnull(d);
    struct pdm_dev *dev = pdm_find_device(h.pdm, "vga", 0);
    const uint32_t *px;
    unsigned w, hh, dirty;
    ck_assert_int_eq(d->snapshot(dev, &px, &w, &hh, &dirty), CAP_OK);
    ck_assert_uint_ge(w, 1);
    ck_assert_uint_eq(px[0], 0);
    ck_assert_uint_eq(d->snapshot(dev, &px, &w, &hh, &dirty), CAP_OK);
    ck_assert_uint_eq(dirty, 0);
    /* saved state round trip: the window byte and a register come back */
    void *buf;
    size_t len;
    ck_assert_int_eq(pdm_save(h.pdm, &buf, &len), CAP_OK);
    h_mmio_out(&h, 0xa0010, 1, 0x00);
    h_out(&h, 0x3c4, 2, 0x0f02);
    ck_assert_int_eq(pdm_load(h.pdm, buf, len), CAP_OK);
    free(buf);
    h_out(&h, 0x3c4, 1, 0x02);
    ck_assert_uint_eq(h_in(&h, 0x3c5, 1), 0x01);
    ck_assert_uint_eq(h_mmio_in(&h, 0xa0010, 1), 0x5a);
    /* the same through the SSM stream: registers by name, VRAM in chunks */
    h_ssm_save(&h);
    h_mmio_out(&h, 0xa0010, 1, 0x00);
    h_out(&h, 0x3c4, 2, 0x0f02);
    ck_assert_int_eq(h_ssm_load(&h), CAP_OK);
    h_out(&h, 0x3c4, 1, 0x02);
    ck_assert_uint_eq(h_in(&h, 0x3c5, 1), 0x01);
    ck_assert_uint_eq(h_mmio_in(&h, 0xa0010, 1), 0x5a);
}
END_TEST

static void dispi(unsigned index, uint16_t v)
{
    h_mmio_out(&h, 0xe1000500 + 2 * index, 2, v);
}

/* Dirty tiles of the device's picture since the last look (-1: error). */
static int snap_dirty(uint32_t *px0)
{
    const struct vga_display_iface *d = pdm_query_interface(h.pdm, "vga", 0, VGA_IFACE_DISPLAY);
    struct pdm_dev *dev = pdm_find_device(h.pdm, "vga", 0);
    const uint32_t *px;
    unsigned w, hh, dirty;
    if (CAP_FAILED(d->snapshot(dev, &px, &w, &hh, &dirty)))
        return -1;
    if (px0)
        *px0 = px[0];
    return (int)dirty;
}

/* BAR0 is guest RAM (the VMM's PGM), not MMIO: writes land in VRAM without
 * the device, which learns from the dirty pages what to draw again; the
 * mapping follows the BAR and the MEMORY bit. */
START_TEST(test_lfb_ram)
{
    h_mirror_mmio(&h);
    wr(0x10, 4, 0xe0000000);
    wr(0x18, 4, 0xe1000000);
    wr(PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
    const struct pgm_range *r = pgm_find(h.pgm, 0xe0000000);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->kind, PGM_RANGE_RAM);
    ck_assert_uint_eq(r->size, 16u << 20);
    ck_assert_ptr_nonnull(r->dirty);
    /* 640x480x32 with the LFB; the screen is drawn once */
    dispi(VBE_INDEX_XRES, 640);
    dispi(VBE_INDEX_YRES, 480);
    dispi(VBE_INDEX_BPP, 32);
    dispi(VBE_INDEX_ENABLE, VBE_ENABLED | VBE_LFB_ENABLED);
    ck_assert_int_gt(snap_dirty(NULL), 0);
    ck_assert_int_eq(snap_dirty(NULL), 0);
    /* a pixel written as the guest does (PGM marks the page): one tile */
    h_mmio_out(&h, 0xe0000000, 4, 0x00ff8040);
    uint32_t p0 = 0;
    ck_assert_int_eq(snap_dirty(&p0), 1);
    ck_assert_uint_eq(p0, 0x00ff8040);
    ck_assert_int_eq(snap_dirty(NULL), 0);
    /* a write nobody reported is not looked for: only dirty pages are read */
    uint32_t *hva = pgm_gpa_to_hva(h.pgm, 0xe0000000, 4, CAP_TRUE);
    ck_assert_ptr_nonnull(hva);
    *hva = 0x00123456;
    ck_assert_int_eq(snap_dirty(&p0), 0);
    ck_assert_uint_eq(p0, 0x00ff8040);
    pgm_dirty_mark(h.pgm, 0xe0000000, 1); /* as rem or KVM's log would */
    ck_assert_int_eq(snap_dirty(&p0), 1);
    ck_assert_uint_eq(p0, 0x00123456);
    /* the BAR moves: the old place is free, VRAM shows at the new one */
    wr(0x10, 4, 0xd0000000);
    ck_assert_ptr_null(pgm_find(h.pgm, 0xe0000000));
    ck_assert_uint_eq(h_mmio_in(&h, 0xd0000000, 4), 0x00123456);
    ck_assert_int_eq(snap_dirty(NULL), 0); /* all pages redrawn, same picture */
    h_mmio_out(&h, 0xd0000000 + 4 * 640 * 479, 4, 0x00ffffff);
    ck_assert_int_eq(snap_dirty(NULL), 1);
    /* memory decoding off: no RAM, no dirty pages; on again: back */
    wr(PCI_COMMAND, 2, PCI_COMMAND_IO);
    ck_assert_ptr_null(pgm_find(h.pgm, 0xd0000000));
    ck_assert_int_eq(snap_dirty(NULL), 0);
    ck_assert_int_eq(snap_dirty(NULL), 0);
    wr(PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
    ck_assert_int_eq(pgm_find(h.pgm, 0xd0000000)->kind, PGM_RANGE_RAM);
    ck_assert_uint_eq(h_mmio_in(&h, 0xd0000000 + 4 * 640 * 479, 4), 0x00ffffff);
}
END_TEST

/* lfb_ram=off: BAR0 is MMIO, every access a device call, as before. */
START_TEST(test_lfb_mmio_config)
{
    h_teardown(&h);
    h_setup(&h);
    static const struct pdm_cfg_kv kv[] = {{"lfb_ram", "off"}};
    ck_assert_int_eq(h_add(&h, "pci", NULL, 0), CAP_OK);
    ck_assert_int_eq(h_add(&h, "vga", kv, 1), CAP_OK);
    wr(0x10, 4, 0xe0000000);
    wr(0x18, 4, 0xe1000000);
    wr(PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
    ck_assert_ptr_null(pgm_find(h.pgm, 0xe0000000));
    dispi(VBE_INDEX_XRES, 640);
    dispi(VBE_INDEX_YRES, 480);
    dispi(VBE_INDEX_BPP, 32);
    dispi(VBE_INDEX_ENABLE, VBE_ENABLED | VBE_LFB_ENABLED);
    ck_assert_int_gt(snap_dirty(NULL), 0);
    h_mmio_out(&h, 0xe0000000, 4, 0x00ff8040);
    uint32_t p0 = 0;
    ck_assert_int_eq(snap_dirty(&p0), 1);
    ck_assert_uint_eq(p0, 0x00ff8040);
    ck_assert_uint_eq(h_mmio_in(&h, 0xe0000000, 4), 0x00ff8040);
}
END_TEST

/* A hostile guest puts the LFB over RAM or over the device's own MMIO BAR,
 * or the MMIO BAR over the LFB: refused and logged, left unmapped, nothing
 * else disturbed. */
START_TEST(test_lfb_hostile_bars)
{
    h_mirror_mmio(&h);
    ck_assert_int_eq(pgm_map_ram(h.pgm, 0x80000000u, 32u << 20, "ram"), CAP_OK);
    wr(0x18, 4, 0xe1000000);
    wr(0x10, 4, 0x81000000); /* inside RAM */
    wr(PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
    ck_assert(h_logged(&h, "refused"));
    ck_assert_ptr_eq(pgm_find(h.pgm, 0x81000000)->hva,
                     pgm_find(h.pgm, 0x80000000u)->hva); /* still the RAM range */
    ck_assert_int_eq(snap_dirty(NULL) >= 0, 1);
    /* over BAR2 (16 MiB aligned: 0xe1000000 is inside 0xe1000000-0xe1ffffff) */
    wr(0x10, 4, 0xe1000000);
    ck_assert_int_eq(pgm_find(h.pgm, 0xe1000000)->kind, PGM_RANGE_MMIO);
    ck_assert_uint_eq(h_mmio_in(&h, 0xe1000500, 2), VBE_ID5); /* BAR2 still works */
    /* BAR0 placed; BAR2 moved into it: BAR2 refused, the LFB stays */
    wr(0x10, 4, 0xe0000000);
    ck_assert_int_eq(pgm_find(h.pgm, 0xe0000000)->kind, PGM_RANGE_RAM);
    wr(0x18, 4, 0xe0800000);
    ck_assert_int_eq(pgm_find(h.pgm, 0xe0800000)->kind, PGM_RANGE_RAM);
    ck_assert_uint_eq(h_mmio_in(&h, 0xe0800500, 2), 0); /* VRAM, not DISPI */
    /* the LFB mode is still drawn from a valid place */
    h_out(&h, 0x1ce, 2, VBE_INDEX_ENABLE);
    h_out(&h, 0x1cf, 2, VBE_ENABLED | VBE_LFB_ENABLED);
    ck_assert_int_ge(snap_dirty(NULL), 0);
}
END_TEST

/* PDM's display interface (pdm_display_snapshot, what IDisplay reads): a
 * copy of the picture the device renders; no display is a clear error. */
START_TEST(test_pdm_display)
{
    /* text mode 3 as the VGA BIOS leaves it is not set up here: whatever
     * the device renders, the copy has its size and pixels */
    const struct vga_display_iface *d = pdm_query_interface(h.pdm, "vga", 0, VGA_IFACE_DISPLAY);
    struct pdm_dev *dev = pdm_find_device(h.pdm, "vga", 0);
    const uint32_t *px;
    unsigned w, hh;
    ck_assert_int_eq(d->snapshot(dev, &px, &w, &hh, NULL), CAP_OK);
    uint32_t *copy = NULL;
    unsigned cw = 0, ch = 0;
    ck_assert_int_eq(pdm_display_snapshot(h.pdm, &copy, &cw, &ch), CAP_OK);
    ck_assert_ptr_nonnull(copy);
    ck_assert_uint_eq(cw, w);
    ck_assert_uint_eq(ch, hh);
    ck_assert_int_eq(memcmp(copy, px, (size_t)w * hh * 4), 0);
    cap_free(copy);
    ck_assert_int_eq(pdm_display_snapshot(h.pdm, NULL, &cw, &ch), CAP_E_POINTER);
    /* a VM without the vga */
    h_teardown(&h);
    h_setup(&h);
    ck_assert_int_eq(h_add(&h, "pci", NULL, 0), CAP_OK);
    copy = (uint32_t *)1;
    ck_assert_int_eq(pdm_display_snapshot(h.pdm, &copy, &cw, &ch), CAP_E_NOTIMPL);
    ck_assert_ptr_null(copy);
    ck_assert_uint_eq(cw, 0);
    ck_assert_str_eq(cap_error_peek_message(), "the machine has no display");
    cap_error_clear();
}
END_TEST

START_TEST(test_bad_config)
{
    struct pdm_cfg_kv odd[] = {{"vram_mb", "3"}}, norom[] = {{"rom", "/nonexistent/rom"}},
                      nofont[] = {{"textmode", "on"}, {"rom", ""}};
    struct harness h2;
    h_setup(&h2);
    ck_assert_int_eq(h_add(&h2, "pci", NULL, 0), CAP_OK);
    ck_assert_int_ne(h_add(&h2, "vga", odd, 1), CAP_OK);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "not a power of two"));
    ck_assert_int_ne(h_add(&h2, "vga", norom, 1), CAP_OK);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "cannot open"));
    ck_assert_int_ne(h_add(&h2, "vga", nofont, 2), CAP_OK); /* text needs the BIOS's font */
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "holds no 8x16 font"));
    h_teardown(&h2);
}
END_TEST

/* textmode=on (a machine without a BIOS): mode 3 from power-on and again
 * after a reset, the text window blank (test_bad_config: no font, no text). */
START_TEST(test_textmode)
{
    struct pdm_cfg_kv on[] = {{"textmode", "on"}};
    struct harness h2;
    h_setup(&h2);
    ck_assert_int_eq(h_add(&h2, "pci", NULL, 0), CAP_OK);
    ck_assert_int_eq(h_add(&h2, "vga", on, 1), CAP_OK);
    for (int pass = 0; pass < 2; pass++) {
        ck_assert_uint_eq(h_in(&h2, 0x3cc, 1), 0x67); /* misc: colour, 28 MHz */
        h_out(&h2, 0x3d4, 1, 0x09);
        ck_assert_uint_eq(h_in(&h2, 0x3d5, 1), 0x4f); /* 16 lines a cell */
        h_out(&h2, 0x3ce, 1, 0x06);
        ck_assert_uint_eq(h_in(&h2, 0x3cf, 1), 0x0e); /* 0xb8000, odd/even */
        ck_assert_uint_eq(h_mmio_in(&h2, 0xb8000, 2), 0x0720);
        ck_assert_uint_eq(h_mmio_in(&h2, 0xb8000 + 2 * (80 * 25 - 1), 2), 0x0720);
        h_mmio_out(&h2, 0xb8000, 2, 0x1e41);
        ck_assert_uint_eq(h_mmio_in(&h2, 0xb8000, 2), 0x1e41);
        pdm_reset(h2.pdm);
    }
    h_teardown(&h2);
}
END_TEST

/* ---- the register model and renderer, directly ----------------------- */

static struct vga_core c;

static void core_setup(void)
{
    memset(&c, 0, sizeof(c));
    c.vram_size = VGA_VRAM_MIN;
    c.vram = calloc(1, c.vram_size);
    c.page_gen = calloc(c.vram_size >> VGA_PAGE_SHIFT, sizeof(uint32_t));
    ck_assert_ptr_nonnull(c.vram);
    ck_assert_ptr_nonnull(c.page_gen);
    vga_core_reset(&c);
}

static void core_teardown(void)
{
    free(c.vram);
    free(c.page_gen);
}

static void seq(uint8_t i, uint8_t v)
{
    vga_core_io_write(&c, 0x3c4, i);
    vga_core_io_write(&c, 0x3c5, v);
}

static void gc(uint8_t i, uint8_t v)
{
    vga_core_io_write(&c, 0x3ce, i);
    vga_core_io_write(&c, 0x3cf, v);
}

static void crtc(uint8_t i, uint8_t v)
{
    vga_core_io_write(&c, 0x3d4, i);
    vga_core_io_write(&c, 0x3d5, v);
}

static void dac(uint8_t i, uint8_t r, uint8_t g, uint8_t b)
{
    vga_core_io_write(&c, 0x3c8, i);
    vga_core_io_write(&c, 0x3c9, r);
    vga_core_io_write(&c, 0x3c9, g);
    vga_core_io_write(&c, 0x3c9, b);
}

static void vbe(uint16_t i, uint16_t v)
{
    c.vbe_index = i;
    vga_core_vbe_write(&c, v);
}

static uint16_t vbe_get(uint16_t i)
{
    c.vbe_index = i;
    return vga_core_vbe_read(&c);
}

/* Attribute palette identity, screen on. */
static void ar_identity(uint8_t mode_control)
{
    vga_core_io_read(&c, 0x3da);
    for (uint8_t i = 0; i < 16; i++) {
        vga_core_io_write(&c, 0x3c0, i);
        vga_core_io_write(&c, 0x3c0, i);
    }
    vga_core_io_write(&c, 0x3c0, 0x10);
    vga_core_io_write(&c, 0x3c0, mode_control);
    vga_core_io_write(&c, 0x3c0, 0x12);
    vga_core_io_write(&c, 0x3c0, 0x0f);
    vga_core_io_write(&c, 0x3c0, 0x20); /* screen on */
}

/* A planar layout (mode 12h-like): 640 x `lines`, no odd/even, no chain-4. */
static void planar_mode(unsigned lines)
{
    vga_core_io_write(&c, 0x3c2, 0xe3);
    seq(1, 0x01);
    seq(2, 0x0f);
    seq(4, 0x06);
    gc(5, 0x00);
    gc(6, 0x05);
    gc(8, 0xff);
    crtc(0x01, 79);
    crtc(0x07, (uint8_t)(((lines - 1) >> 8 & 1) << 1));
    crtc(0x09, 0x00);
    crtc(0x12, (uint8_t)(lines - 1));
    crtc(0x13, 40);
    ar_identity(0x01);
}

START_TEST(test_write_modes)
{
    planar_mode(480);
    uint32_t i = 0x100 * 4; /* plane offset 0x100 */
    /* mode 0: the byte to every plane in the map mask */
    seq(2, 0x05);
    vga_core_mem_write(&c, 0x100, 0xa5);
    ck_assert_uint_eq(c.vram[i], 0xa5);
    ck_assert_uint_eq(c.vram[i + 1], 0x00);
    ck_assert_uint_eq(c.vram[i + 2], 0xa5);
    /* mode 0 with set/reset on planes 0-1 (colour 1), bit mask 0xf0, rotate 4 */
    seq(2, 0x0f);
    vga_core_mem_read(&c, 0x100); /* latches: a5 00 a5 00 */
    gc(0, 0x01);
    gc(1, 0x03);
    gc(3, 0x04);
    gc(8, 0xf0);
    vga_core_mem_write(&c, 0x100, 0x3c);    /* rotated: 0xc3 */
    ck_assert_uint_eq(c.vram[i], 0xf5);     /* set: ff & f0 | a5 & 0f */
    ck_assert_uint_eq(c.vram[i + 1], 0x00); /* reset */
    ck_assert_uint_eq(c.vram[i + 2], 0xc5); /* c3 & f0 | a5 & 0f */
    ck_assert_uint_eq(c.vram[i + 3], 0xc0);
    /* logical XOR with the latches */
    gc(1, 0);
    gc(3, 0x18);
    gc(8, 0xff);
    vga_core_mem_read(&c, 0x100); /* f5 00 c5 c0 */
    vga_core_mem_write(&c, 0x100, 0xff);
    ck_assert_uint_eq(c.vram[i], 0x0a);
    ck_assert_uint_eq(c.vram[i + 1], 0xff);
    ck_assert_uint_eq(c.vram[i + 2], 0x3a);
    ck_assert_uint_eq(c.vram[i + 3], 0x3f);
    /* mode 1: the latches copied elsewhere */
    gc(3, 0);
    gc(5, 0x01);
    vga_core_mem_read(&c, 0x100);
    vga_core_mem_write(&c, 0x200, 0x00);
    ck_assert_uint_eq(memcmp(&c.vram[0x200 * 4], &c.vram[i], 4), 0);
    /* mode 2: colour 0x9 under the bit mask 0x81 */
    gc(5, 0x02);
    gc(8, 0x81);
    vga_core_mem_read(&c, 0x300); /* zero latches */
    vga_core_mem_write(&c, 0x300, 0x09);
    ck_assert_uint_eq(c.vram[0x300 * 4], 0x81);
    ck_assert_uint_eq(c.vram[0x300 * 4 + 1], 0x00);
    ck_assert_uint_eq(c.vram[0x300 * 4 + 3], 0x81);
    /* mode 3: set/reset colour 6, bit mask 0xff & the value 0x18 */
    gc(5, 0x03);
    gc(8, 0xff);
    gc(0, 0x06);
    vga_core_mem_read(&c, 0x301);
    vga_core_mem_write(&c, 0x301, 0x18);
    ck_assert_uint_eq(c.vram[0x301 * 4], 0x00);
    ck_assert_uint_eq(c.vram[0x301 * 4 + 1], 0x18);
    ck_assert_uint_eq(c.vram[0x301 * 4 + 2], 0x18);
}
END_TEST

START_TEST(test_read_modes)
{
    planar_mode(480);
    memcpy(&c.vram[0x40 * 4], "\xf0\xcc\xaa\x0f", 4);
    gc(4, 2); /* read map 2 */
    ck_assert_uint_eq(vga_core_mem_read(&c, 0x40), 0xaa);
    /* read mode 1: colour compare 0b0101 (planes 0 and 2 set, 1 and 3 clear) */
    gc(5, 0x08);
    gc(2, 0x05);
    gc(7, 0x0f);
    /* bit: p0 f0, p1 cc, p2 aa, p3 0f -> bits where p0=1,p1=0,p2=1,p3=0 */
    ck_assert_uint_eq(vga_core_mem_read(&c, 0x40), 0xf0 & ~0xcc & 0xaa & ~0x0f & 0xff);
    gc(7, 0x01); /* only plane 0 matters */
    ck_assert_uint_eq(vga_core_mem_read(&c, 0x40), 0xf0);
    /* outside the mapped window: 0xff, writes dropped */
    gc(6, 0x0d); /* b8000-bffff */
    ck_assert_uint_eq(vga_core_mem_read(&c, 0x40), 0xff);
}
END_TEST

START_TEST(test_chain4_oddeven)
{
    seq(2, 0x0f);
    seq(4, 0x0e); /* chain-4 */
    gc(6, 0x05);
    vga_core_mem_write(&c, 0x1235, 0x77);
    ck_assert_uint_eq(c.vram[0x1235], 0x77);
    ck_assert_uint_eq(vga_core_mem_read(&c, 0x1235), 0x77);
    /* odd/even (text): even bytes to plane 0, odd to plane 1, at addr / 2 */
    seq(4, 0x02);
    gc(5, 0x10);
    gc(6, 0x0e); /* b8000 */
    vga_core_mem_write(&c, 0x18000 + 10, 'A');
    vga_core_mem_write(&c, 0x18000 + 11, 0x1f);
    ck_assert_uint_eq(c.vram[5 * 4], 'A');
    ck_assert_uint_eq(c.vram[5 * 4 + 1], 0x1f);
    ck_assert_uint_eq(vga_core_mem_read(&c, 0x18000 + 11), 0x1f);
    ck_assert_uint_eq(vga_core_mem_read(&c, 0x10000), 0xff); /* b0000 not mapped */
}
END_TEST

static uint32_t *render(unsigned *w, unsigned *hh, enum vga_render_kind *k)
{
    vga_render_geometry(&c, w, hh, k);
    uint32_t *px = calloc((size_t)*w * *hh, sizeof(*px));
    ck_assert_ptr_nonnull(px);
    vga_render(&c, px);
    return px;
}

/* The picture of an 80x25 text mode of 9x16 cells. */
static uint32_t *render_80x25(void)
{
    unsigned w, hh;
    enum vga_render_kind k;
    uint32_t *px = render(&w, &hh, &k);
    ck_assert_int_eq(k, VGA_RENDER_TEXT);
    ck_assert_uint_eq(w, 720);
    ck_assert_uint_eq(hh, 400);
    return px;
}

START_TEST(test_render_text)
{
    vga_core_io_write(&c, 0x3c2, 0x67);
    seq(1, 0x00); /* 9-dot cells */
    seq(2, 0x03);
    seq(3, 0x00);
    seq(4, 0x02);
    gc(5, 0x10);
    gc(6, 0x0e);
    crtc(0x01, 79);
    crtc(0x07, 0x02); /* VDE bit 8 */
    crtc(0x09, 0x0f); /* 16 lines a cell */
    crtc(0x0a, 0x20); /* no cursor */
    crtc(0x12, 0x8f); /* 400 lines */
    crtc(0x13, 40);
    ar_identity(0x0c);         /* line graphics, blink */
    dac(1, 0, 0, 0x2a);        /* blue */
    dac(14, 0x3f, 0x3f, 0x15); /* yellow */
    /* glyph 'A': row 3 = 0x81; glyph 0xc4: row 0 = 0x01 (line graphics) */
    c.vram[('A' * 32 + 3) * 4 + 2] = 0x81;
    c.vram[(0xc4 * 32 + 0) * 4 + 2] = 0x01;
    /* cell (row 1, column 2): 'A' yellow on blue; next cell 0xc4 */
    uint32_t a = 0x18000 + (80 + 2) * 2;
    vga_core_mem_write(&c, a, 'A');
    vga_core_mem_write(&c, a + 1, 0x1e);
    vga_core_mem_write(&c, a + 2, 0xc4);
    vga_core_mem_write(&c, a + 3, 0x1e);
    unsigned w, hh;
    enum vga_render_kind k;
    uint32_t *px = render_80x25();
    uint32_t blue = 0x0000aa, yellow = 0xffff55;
    const uint32_t *row = px + (16 + 3) * 720 + 2 * 9;
    ck_assert_uint_eq(row[0], yellow);
    for (int x = 1; x < 7; x++)
        ck_assert_uint_eq(row[x], blue);
    ck_assert_uint_eq(row[7], yellow);
    ck_assert_uint_eq(row[8], blue); /* 9th column of a letter: background */
    ck_assert_uint_eq(px[(16 + 0) * 720 + 3 * 9 + 7], yellow);
    ck_assert_uint_eq(px[(16 + 0) * 720 + 3 * 9 + 8], yellow); /* line graphics */
    ck_assert_uint_eq(px[0], 0);                               /* cell 0: black on black */
    /* the cursor on that cell, lines 14-15 */
    crtc(0x0a, 14);
    crtc(0x0b, 15);
    crtc(0x0e, 0);
    crtc(0x0f, 82);
    free(px);
    px = render(&w, &hh, &k);
    ck_assert_uint_eq(px[(16 + 14) * 720 + 2 * 9 + 4], yellow);
    ck_assert_uint_eq(px[(16 + 13) * 720 + 2 * 9 + 4], blue);
    free(px);
    /* screen off (attribute index bit 5 clear): black */
    vga_core_io_read(&c, 0x3da);
    vga_core_io_write(&c, 0x3c0, 0x00);
    px = render(&w, &hh, &k);
    ck_assert_int_eq(k, VGA_RENDER_BLANK);
    ck_assert_uint_eq(px[(16 + 3) * 720 + 2 * 9], 0);
    free(px);
}
END_TEST

/* The BIOS's mode 3 without a BIOS: its font found in Debian's VGA BIOS,
 * the registers, the EGA palette, a blank screen with the cursor at the
 * top left, a letter drawn where vgacon writes it. */
START_TEST(test_text_mode3)
{
    static const uint8_t glyph_a[VGA_FONT_HEIGHT] = {0,    0,    0x10, 0x38, 0x6c, 0xc6,
                                                     0xc6, 0xfe, 0xc6, 0xc6, 0xc6, 0xc6};
    static uint8_t rom[65536];
    FILE *f = fopen("/usr/share/seabios/vgabios-stdvga.bin", "rb");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(rom, 1, sizeof(rom), f);
    fclose(f);
    long at = vga_core_find_font(rom, n);
    ck_assert_int_ge(at, 0);
    ck_assert_mem_eq(rom + at + 'A' * VGA_FONT_HEIGHT, glyph_a, VGA_FONT_HEIGHT);
    ck_assert_int_eq(vga_core_find_font(rom, (size_t)at + VGA_FONT_SIZE - 1), -1); /* cut short */
    ck_assert_int_eq(vga_core_find_font(rom + at + 1, n - (size_t)at - 1), -1);
    ck_assert_int_eq(vga_core_find_font(NULL, 0), -1);

    vga_core_text_mode3(&c, rom + at);
    ck_assert_uint_eq(vga_core_dac_rgb(&c, 0x07), 0xaaaaaa);
    ck_assert_uint_eq(vga_core_dac_rgb(&c, 0x14), 0xaa5500); /* brown */
    ck_assert_uint_eq(vga_core_ar_rgb(&c, 6), 0xaa5500);
    ck_assert_uint_eq(vga_core_ar_rgb(&c, 14), 0xffff55);
    uint32_t *px = render_80x25();
    ck_assert_uint_eq(px[13 * 720], 0xaaaaaa); /* the cursor, lines 13-14 of cell 0 */
    ck_assert_uint_eq(px[12 * 720], 0);
    ck_assert_uint_eq(px[399 * 720 + 719], 0);
    free(px);
    /* 'A', yellow on blue, at row 1 column 2 (the CPU's 0xb8000 + 2 * cell) */
    uint32_t a = 0x18000 + (80 + 2) * 2;
    vga_core_mem_write(&c, a, 'A');
    vga_core_mem_write(&c, a + 1, 0x1e);
    px = render_80x25();
    const uint32_t *row = px + (16 + 7) * 720 + 2 * 9; /* the glyph's 0xfe row */
    for (int x = 0; x < 7; x++)
        ck_assert_uint_eq(row[x], 0xffff55);
    ck_assert_uint_eq(row[7], 0x0000aa);
    ck_assert_uint_eq(row[8], 0x0000aa);
    free(px);
}
END_TEST

START_TEST(test_render_planar)
{
    planar_mode(480);
    dac(0x0c, 0x3f, 0, 0); /* palette 12 -> DAC 12: red */
    gc(5, 0x02);           /* write mode 2 */
    gc(8, 0x40);           /* pixel 1 of the byte */
    vga_core_mem_read(&c, 80 * 10);
    vga_core_mem_write(&c, 80 * 10, 0x0c); /* (1, 10) colour 12 */
    unsigned w, hh;
    enum vga_render_kind k;
    uint32_t *px = render(&w, &hh, &k);
    ck_assert_int_eq(k, VGA_RENDER_PLANAR);
    ck_assert_uint_eq(w, 640);
    ck_assert_uint_eq(hh, 480);
    ck_assert_uint_eq(px[10 * 640 + 1], 0xff0000);
    ck_assert_uint_eq(px[10 * 640 + 0], 0);
    ck_assert_uint_eq(px[10 * 640 + 2], 0);
    free(px);
    /* the colour plane enable masks plane 2: colour 8 (black here) */
    vga_core_io_read(&c, 0x3da);
    vga_core_io_write(&c, 0x3c0, 0x32);
    vga_core_io_write(&c, 0x3c0, 0x0b);
    px = render(&w, &hh, &k);
    ck_assert_uint_eq(px[10 * 640 + 1], 0);
    free(px);
}
END_TEST

START_TEST(test_render_256)
{
    planar_mode(400);
    seq(4, 0x0e); /* chain-4 */
    gc(5, 0x40);  /* 256-colour shift */
    crtc(0x09, 0x41);
    dac(0x42, 0x10, 0x20, 0x30);
    vga_core_mem_write(&c, 199 * 320 + 319, 0x42);
    unsigned w, hh;
    enum vga_render_kind k;
    uint32_t *px = render(&w, &hh, &k);
    ck_assert_int_eq(k, VGA_RENDER_256);
    ck_assert_uint_eq(w, 320);
    ck_assert_uint_eq(hh, 200);
    ck_assert_uint_eq(px[199 * 320 + 319], 0x4182c3);
    ck_assert_uint_eq(px[199 * 320 + 318], 0);
    free(px);
    /* the start address moves the picture by 4 pixels a unit */
    crtc(0x0d, 1);
    px = render(&w, &hh, &k);
    ck_assert_uint_eq(px[199 * 320 + 315], 0x4182c3);
    free(px);
}
END_TEST

START_TEST(test_render_vbe)
{
    static const struct {
        uint16_t bpp;
        uint8_t bytes[4];
        uint32_t rgb;
    } cases[] = {
        {32, {0x30, 0x20, 0x10, 0}, 0x102030}, {24, {0x30, 0x20, 0x10, 0}, 0x102030},
        {16, {0x1f, 0xf8, 0, 0}, 0xff00ff}, /* r=31 g=0 b=31 */
        {15, {0xe0, 0x03, 0, 0}, 0x00ff00}, /* g=31 */
        {8, {0x05, 0, 0, 0}, 0x00aa00},
    };
    dac(5, 0, 0x2a, 0);
    for (unsigned t = 0; t < sizeof(cases) / sizeof(cases[0]); t++) {
        vbe(VBE_INDEX_ENABLE, 0);
        vbe(VBE_INDEX_XRES, 64);
        vbe(VBE_INDEX_YRES, 32);
        vbe(VBE_INDEX_BPP, cases[t].bpp);
        vbe(VBE_INDEX_ENABLE, VBE_ENABLED | VBE_LFB_ENABLED);
        unsigned bytes = (cases[t].bpp + 7) / 8;
        uint32_t off = (5 * 64 + 7) * bytes;
        for (unsigned b = 0; b < bytes; b++)
            vga_core_lfb_write(&c, off + b, cases[t].bytes[b]);
        unsigned w, hh;
        enum vga_render_kind k;
        uint32_t *px = render(&w, &hh, &k);
        ck_assert_int_eq(k, VGA_RENDER_VBE);
        ck_assert_uint_eq(w, 64);
        ck_assert_uint_eq(hh, 32);
        ck_assert_msg(px[5 * 64 + 7] == cases[t].rgb, "bpp %u: %06x", cases[t].bpp, px[5 * 64 + 7]);
        ck_assert_uint_eq(px[5 * 64 + 6], 0);
        free(px);
    }
    /* a virtual width and offsets pan the picture; the bank window reaches VRAM */
    vbe(VBE_INDEX_VIRT_WIDTH, 128);
    vbe(VBE_INDEX_X_OFFSET, 7);
    vbe(VBE_INDEX_Y_OFFSET, 5);
    ck_assert_uint_eq(c.vbe_start, 5 * 128 + 7);
    vbe(VBE_INDEX_BANK, 1);
    seq(2, 0x0f);
    vga_core_mem_write(&c, 0x10, 0x99);
    ck_assert_uint_eq(c.vram[0x10010], 0x99);
}
END_TEST

START_TEST(test_vbe_hostile)
{
    /* absurd values are clamped into VRAM (1 MiB here) */
    vbe(VBE_INDEX_XRES, 0xffff);
    vbe(VBE_INDEX_YRES, 0xffff);
    vbe(VBE_INDEX_BPP, 7);
    vbe(VBE_INDEX_VIRT_WIDTH, 0xffff);
    vbe(VBE_INDEX_X_OFFSET, 0xffff);
    vbe(VBE_INDEX_Y_OFFSET, 0xffff);
    vbe(VBE_INDEX_ENABLE, VBE_ENABLED | VBE_NOCLEARMEM);
    ck_assert_uint_eq(vbe_get(VBE_INDEX_BPP), 8);
    ck_assert_uint_eq(vbe_get(VBE_INDEX_XRES), VBE_MAX_XRES);
    uint32_t line = c.vbe_line_bytes;
    ck_assert_uint_eq(line, VBE_MAX_XRES);
    ck_assert_uint_le((uint64_t)vbe_get(VBE_INDEX_YRES) * line, c.vram_size);
    ck_assert_uint_le(c.vbe_start + (uint64_t)(vbe_get(VBE_INDEX_YRES) - 1) * line +
                          vbe_get(VBE_INDEX_XRES),
                      c.vram_size);
    /* 32 bpp at the largest resolution: fewer lines, still inside */
    vbe(VBE_INDEX_BPP, 32);
    ck_assert_uint_eq(vbe_get(VBE_INDEX_YRES), c.vram_size / (VBE_MAX_XRES * 4));
    ck_assert_uint_eq(vbe_get(VBE_INDEX_VIRT_WIDTH), VBE_MAX_XRES);
    /* zero and odd sizes: the smallest mode, XRES a multiple of 8 */
    vbe(VBE_INDEX_XRES, 0);
    vbe(VBE_INDEX_YRES, 0);
    ck_assert_uint_eq(vbe_get(VBE_INDEX_XRES), 8);
    ck_assert_uint_eq(vbe_get(VBE_INDEX_YRES), 1);
    vbe(VBE_INDEX_XRES, 1023);
    ck_assert_uint_eq(vbe_get(VBE_INDEX_XRES), 1016);
    vbe(VBE_INDEX_XRES, VBE_MAX_XRES);
    /* a bank past VRAM is refused */
    vbe(VBE_INDEX_BANK, 3);
    vbe(VBE_INDEX_BANK, 0xffff);
    ck_assert_uint_eq(vbe_get(VBE_INDEX_BANK), 3);
    /* read-only registers stay */
    vbe(VBE_INDEX_VIDEO_MEMORY_64K, 0xffff);
    ck_assert_uint_eq(vbe_get(VBE_INDEX_VIDEO_MEMORY_64K), 16);
    unsigned w, hh;
    enum vga_render_kind k;
    free(render(&w, &hh, &k)); /* never reads past VRAM (ASan) */
    /* the LFB past VRAM: reads 0xff, writes dropped */
    vga_core_lfb_write(&c, c.vram_size, 1);
    ck_assert_uint_eq(vga_core_lfb_read(&c, c.vram_size + 5), 0xff);
    /* legacy modes with a start address past the end: black, no reads outside */
    vbe(VBE_INDEX_ENABLE, 0);
    planar_mode(480);
    crtc(0x0c, 0xff);
    crtc(0x0d, 0xff);
    crtc(0x13, 0xff);
    uint32_t *px = render(&w, &hh, &k);
    ck_assert_uint_eq(px[(size_t)w * hh - 1], 0);
    free(px);
    gc(5, 0x40);
    free(render(&w, &hh, &k));
    gc(6, 0x0e); /* text */
    crtc(0x09, 0x00);
    free(render(&w, &hh, &k));
    /* a saved state with garbage indexes and a VBE mode past VRAM */
    c.seq_index = c.gc_index = c.crtc_index = c.ar_index = 0xff;
    c.dac_sub = 200;
    c.dac_write_index = c.dac_read_index = 255;
    c.vbe[VBE_INDEX_ENABLE] = VBE_ENABLED;
    c.vbe[VBE_INDEX_BPP] = 32;
    c.vbe[VBE_INDEX_XRES] = c.vbe[VBE_INDEX_YRES] = c.vbe[VBE_INDEX_Y_OFFSET] = 0xffff;
    c.vbe[VBE_INDEX_BANK] = 0xffff;
    vga_core_loaded(&c);
    ck_assert_uint_le(c.seq_index, 7);
    ck_assert_uint_le(c.gc_index, 15);
    ck_assert_uint_eq(c.vbe[VBE_INDEX_BANK], 0);
    ck_assert_uint_le(c.vbe_start + (uint64_t)(c.vbe[VBE_INDEX_YRES] - 1) * c.vbe_line_bytes +
                          c.vbe[VBE_INDEX_XRES] * 4u,
                      c.vram_size);
    vga_core_io_write(&c, 0x3c5, 0xff);
    vga_core_io_write(&c, 0x3cf, 0xff);
    for (int i = 0; i < 3; i++) {
        vga_core_io_write(&c, 0x3c9, 1);
        vga_core_io_read(&c, 0x3c9);
    }
    free(render(&w, &hh, &k));
}
END_TEST

START_TEST(test_dirty_tiles)
{
    planar_mode(400);
    seq(4, 0x0e);
    gc(5, 0x40);
    crtc(0x09, 0x41);
    dac(1, 0x3f, 0x3f, 0x3f);
    struct vga_display d = {0};
    ck_assert_int_eq(vga_display_update(&d, &c), 20 * 13); /* 320x200: all */
    ck_assert_int_eq(vga_display_update(&d, &c), 0);
    vga_core_mem_write(&c, 100 * 320 + 50, 1); /* tile (3, 6) */
    ck_assert_int_eq(vga_display_update(&d, &c), 1);
    struct vga_rect r[4];
    ck_assert_uint_eq(vga_display_dirty_rects(&d, r, 4), 1);
    ck_assert_uint_eq(r[0].x, 48);
    ck_assert_uint_eq(r[0].y, 96);
    ck_assert_uint_eq(r[0].w, 16);
    ck_assert_uint_eq(r[0].h, 16);
    ck_assert_uint_eq(d.pixels[100 * 320 + 50], 0xffffff);
    /* a write of the same value: the page changed, the picture did not */
    vga_core_mem_write(&c, 100 * 320 + 50, 1);
    ck_assert_int_eq(vga_display_update(&d, &c), 0);
    /* two neighbouring tiles merge into one run; the last row is clipped */
    vga_core_mem_write(&c, 199 * 320 + 0, 1);
    vga_core_mem_write(&c, 199 * 320 + 16, 1);
    ck_assert_int_eq(vga_display_update(&d, &c), 2);
    ck_assert_uint_eq(vga_display_dirty_rects(&d, r, 4), 1);
    ck_assert_uint_eq(r[0].w, 32);
    ck_assert_uint_eq(r[0].h, 200 - 192);
    /* a palette change redraws what uses it */
    dac(1, 0, 0, 0);
    ck_assert_int_eq(vga_display_update(&d, &c), 3);
    vga_display_free(&d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dev-vga");
    TCase *tc = tcase_create("plugin");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_pci_function);
    tcase_add_test(tc, test_ports);
    tcase_add_test(tc, test_window_and_snapshot);
    tcase_add_test(tc, test_pdm_display);
    tcase_add_test(tc, test_bad_config);
    tcase_add_test(tc, test_textmode);
    tcase_add_test(tc, test_lfb_ram);
    tcase_add_test(tc, test_lfb_hostile_bars);
    tcase_add_test(tc, test_lfb_mmio_config);
    suite_add_tcase(s, tc);
    TCase *tm = tcase_create("model");
    tcase_add_checked_fixture(tm, core_setup, core_teardown);
    tcase_add_test(tm, test_write_modes);
    tcase_add_test(tm, test_read_modes);
    tcase_add_test(tm, test_chain4_oddeven);
    tcase_add_test(tm, test_render_text);
    tcase_add_test(tm, test_text_mode3);
    tcase_add_test(tm, test_render_planar);
    tcase_add_test(tm, test_render_256);
    tcase_add_test(tm, test_render_vbe);
    tcase_add_test(tm, test_vbe_hostile);
    tcase_add_test(tm, test_dirty_tiles);
    suite_add_tcase(s, tm);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
