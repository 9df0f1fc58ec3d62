/*
 * plugins/devices/vga/vga_core.h - the register model of a standard VGA
 * with the Bochs VBE extensions (QEMU's "stdvga"), apart from PDM: the VGA
 * registers at ports 0x3b0-0x3df, the legacy memory window 0xa0000-0xbffff
 * with the graphics controller's read and write modes, and the Bochs
 * DISPI registers (index 0x1ce, data 0x1cf). The device plugin (vga.c)
 * routes guest accesses here; the renderer (vga_render.h) reads the state.
 * Plain C with no VMM dependency, so the unit tests drive it directly.
 *
 * Video memory. `vram` holds the four planes interleaved, byte 4*o + p
 * being offset o of plane p (the layout QEMU uses): chain-4 (mode 13h) and
 * the VBE modes then see VRAM as one linear array, the planar modes
 * address offset o of each plane. In odd/even mode (text) the CPU's even
 * bytes go to plane 0 and odd bytes to plane 1 at plane offset addr / 2,
 * so character cell i of a text page is at plane offset start + i (char in
 * plane 0, attribute in plane 1) and the CRTC's start address and cursor
 * location count cells, as SeaVGABIOS programs them (its VRAM ratio 2).
 *
 * Safety: every VRAM access here and in the renderer is checked against
 * vram_size; hostile register values (VBE resolutions, offsets, banks,
 * start addresses) are clamped or refused as documented at the functions.
 *
 * Dirty tracking: every guest write that may change the picture bumps a
 * generation: reg_gen for registers and the DAC, page_gen[] per 4 KiB VRAM
 * page for memory (through the legacy window here; the BAR0 framebuffer is
 * guest RAM, whose dirty pages the device (vga.c) bumps before drawing).
 * The renderer compares them with what it saw last.
 *
 * Threads: none of its own; the caller serialises (PDM's device lock).
 */
#ifndef PLUGINS_DEVICES_VGA_CORE_H
#define PLUGINS_DEVICES_VGA_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bochs DISPI registers (index written to 0x1ce, value at 0x1cf). */
#define VBE_INDEX_ID               0x0
#define VBE_INDEX_XRES             0x1
#define VBE_INDEX_YRES             0x2
#define VBE_INDEX_BPP              0x3
#define VBE_INDEX_ENABLE           0x4
#define VBE_INDEX_BANK             0x5
#define VBE_INDEX_VIRT_WIDTH       0x6
#define VBE_INDEX_VIRT_HEIGHT      0x7
#define VBE_INDEX_X_OFFSET         0x8
#define VBE_INDEX_Y_OFFSET         0x9
#define VBE_INDEX_VIDEO_MEMORY_64K 0xa
#define VBE_NUM_REGS               0xb

#define VBE_ID0 0xb0c0
#define VBE_ID5 0xb0c5

#define VBE_ENABLED     0x01
#define VBE_GETCAPS     0x02
#define VBE_8BIT_DAC    0x20
#define VBE_LFB_ENABLED 0x40
#define VBE_NOCLEARMEM  0x80

/* The largest mode offered (GETCAPS) and accepted. */
#define VBE_MAX_XRES 2560
#define VBE_MAX_YRES 1600
#define VBE_MAX_BPP  32

/* VRAM sizes the device accepts: a power of two in this range. */
#define VGA_VRAM_MIN   (1u << 20)
#define VGA_VRAM_MAX   (256u << 20)
#define VGA_PAGE_SHIFT 12

struct vga_core {
    /* set by the owner before vga_core_reset; vram is the owner's */
    uint8_t *vram;
    uint32_t vram_size; /* power of two, VGA_VRAM_MIN..VGA_VRAM_MAX */
    uint32_t *page_gen; /* vram_size >> VGA_PAGE_SHIFT entries, the owner's */

    /* guest state (reset by vga_core_reset) */
    uint8_t misc;
    uint8_t feature;
    uint8_t vga_enable; /* port 0x3c3 */
    uint8_t seq_index, seq[8];
    uint8_t gc_index, gc[16];
    uint8_t crtc_index, crtc[32];
    uint8_t ar_index; /* bit 5: palette address source (screen on) */
    bool ar_flip;     /* 0x3c0: false = next write is an index */
    uint8_t ar[32];
    uint8_t dac_mask, dac_read_index, dac_write_index, dac_sub, dac_state;
    uint8_t dac_rgb[3];
    uint8_t palette[768]; /* 256 x RGB as written (6-bit, or 8-bit with VBE_8BIT_DAC) */
    uint32_t latch;       /* the four plane latches, plane p in bits 8p..8p+7 */
    uint32_t retrace;     /* input status 1 reads so far (the retrace toggle) */
    uint16_t vbe_index;
    uint16_t vbe[VBE_NUM_REGS];
    /* derived from vbe[] by vga_core (always inside VRAM while enabled) */
    uint32_t vbe_line_bytes, vbe_start;

    uint32_t reg_gen; /* bumped by every register write that may change the picture */
    uint32_t mem_gen; /* bumped with every page_gen[] entry */
};

/* Power-on state: registers zero, VBE disabled (ID 0xB0C5), palette black,
 * generations bumped. VRAM is left as it is (the owner clears it). */
void vga_core_reset(struct vga_core *s);

/* The 8x16 font a VGA BIOS loads into character map 0 of plane 2: 256
 * glyphs of VGA_FONT_HEIGHT bytes, row 0 first, bit 7 the leftmost pixel. */
#define VGA_FONT_HEIGHT 16
#define VGA_FONT_SIZE   (256 * VGA_FONT_HEIGHT)

/*
 * After vga_core_reset: the state a VGA BIOS leaves once it has set mode 3
 * (80x25 colour text, 720x400 in 9x16 cells at 0xb8000), for a machine that
 * boots an OS without a BIOS (Linux's vgacon takes the text mode it finds):
 * the registers of the IBM VGA's mode 3 (SeaVGABIOS's table), the 64-colour
 * EGA palette in the DAC, `font` (VGA_FONT_SIZE bytes) in character map 0,
 * the 16 K cells of the text window blank (spaces, grey on black), the
 * cursor at the top left, the screen on.
 */
void vga_core_text_mode3(struct vga_core *s, const uint8_t *font);

/* Where a VGA BIOS image holds its 8x16 font (VGA_FONT_SIZE bytes that
 * start with the IBM font's first three glyphs: blank, the smiley and its
 * inverse), or -1 when it has none. */
long vga_core_find_font(const uint8_t *rom, size_t size);

/* A byte access to VGA port `port` (0x3b0-0x3df). Ports of the other
 * colour/mono emulation than misc bit 0 selects read 0xff, drop writes. */
uint8_t vga_core_io_read(struct vga_core *s, uint16_t port);
void vga_core_io_write(struct vga_core *s, uint16_t port, uint8_t val);

/* A byte access to the legacy window at `addr` (0 = 0xa0000 .. 0x1ffff),
 * as the graphics controller maps it (gc[6] memory map, chain-4, odd/even,
 * read modes 0-1, write modes 0-3, the latches; with VBE enabled the
 * 64 KiB window at 0xa0000 shows bank `BANK`). Outside the mapped window:
 * reads 0xff, writes dropped. */
uint8_t vga_core_mem_read(struct vga_core *s, uint32_t addr);
void vga_core_mem_write(struct vga_core *s, uint32_t addr, uint8_t val);

/* The linear framebuffer (BAR0): byte `off` of VRAM; past the end reads
 * 0xff and drops writes. */
uint8_t vga_core_lfb_read(struct vga_core *s, uint64_t off);
void vga_core_lfb_write(struct vga_core *s, uint64_t off, uint8_t val);

/* The DISPI registers: the index at 0x1ce, the data at 0x1cf (16 bits).
 * Writes are checked: an unknown ID, a bank past VRAM is refused (the
 * register keeps its value); XRES, YRES, BPP, VIRT_WIDTH and the offsets are clamped so
 * the enabled mode stays inside VRAM (vga_core_vbe_fixup). */
uint16_t vga_core_vbe_read(struct vga_core *s);
void vga_core_vbe_write(struct vga_core *s, uint16_t val);

/* After the registers were restored (saved state, which may hold
 * anything): brings the indexes into range, recomputes what
 * derives from them (the VBE mode's line and start, clamped again) and
 * bumps the generations. */
void vga_core_loaded(struct vga_core *s);

/* Whether a VBE mode is on (ENABLE bit 0 with a valid bpp). */
bool vga_core_vbe_on(const struct vga_core *s);

/* The colour of DAC entry `i` (after the PEL mask) as 0x00RRGGBB. */
uint32_t vga_core_dac_rgb(const struct vga_core *s, uint8_t i);
/* The colour of attribute palette entry `i` (0-15) through the colour
 * select register and the DAC, as 0x00RRGGBB. */
uint32_t vga_core_ar_rgb(const struct vga_core *s, uint8_t i);

#endif /* PLUGINS_DEVICES_VGA_CORE_H */
