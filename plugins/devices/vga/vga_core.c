/*
 * plugins/devices/vga/vga_core.c - the VGA and Bochs VBE register model
 * (see vga_core.h): ports, the legacy memory window with the graphics
 * controller's data path, and the DISPI registers with their clamping.
 *
 * Register facts from the IBM VGA technical reference as FreeVGA documents
 * it (sequencer, CRTC, graphics controller, attribute controller, DAC) and
 * from QEMU's documented DISPI interface (the ID values, the ENABLE bits,
 * VIDEO_MEMORY_64K).
 */
#include <string.h>

#include "vga_core.h"

/* Writable bits of the sequencer and graphics controller registers. */
static const uint8_t seq_mask[8] = {0x03, 0x3d, 0x0f, 0x3f, 0x0e, 0x00, 0x00, 0xff};
static const uint8_t gc_mask[16] = {0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f, 0x0f, 0xff};

#define GC_SET_RESET     0
#define GC_ENABLE_SR     1
#define GC_COLOR_COMPARE 2
#define GC_ROTATE        3
#define GC_READ_MAP      4
#define GC_MODE          5
#define GC_MISC          6
#define GC_DONT_CARE     7
#define GC_BIT_MASK      8

#define SEQ_MAP_MASK 2
#define SEQ_MEM_MODE 4

static void touch_page(struct vga_core *s, uint32_t off)
{
    s->page_gen[off >> VGA_PAGE_SHIFT]++;
    s->mem_gen++;
}

void vga_core_reset(struct vga_core *s)
{
    uint8_t *vram = s->vram;
    uint32_t size = s->vram_size, *pg = s->page_gen, gen = s->reg_gen, mgen = s->mem_gen;
    memset(s, 0, sizeof(*s));
    s->vram = vram;
    s->vram_size = size;
    s->page_gen = pg;
    s->reg_gen = gen + 1;
    s->mem_gen = mgen + 1;
    s->dac_mask = 0xff;
    s->vbe[VBE_INDEX_ID] = VBE_ID5;
    s->vbe[VBE_INDEX_BPP] = 8;
    s->vbe[VBE_INDEX_VIDEO_MEMORY_64K] = (uint16_t)(size >> 16 > 0xffff ? 0xffff : size >> 16);
    for (uint32_t i = 0; i < (size >> VGA_PAGE_SHIFT); i++)
        pg[i]++;
}

/* ---- mode 3 without a BIOS --------------------------------------------------- */

/* Mode 3's registers (SeaVGABIOS's vgatables.c, the IBM VGA's values). */
static const uint8_t mode3_seq[5] = {0x03, 0x00, 0x03, 0x00, 0x02};
static const uint8_t mode3_crtc[0x19] = {0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00,
                                         0x4f, 0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e,
                                         0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff};
static const uint8_t mode3_ar[0x15] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14,
                                       0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d,
                                       0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08, 0x00};
static const uint8_t mode3_gc[9] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x0f, 0xff};
#define MODE3_MISC      0x67
#define MODE3_CELLS     0x4000 /* the 32 KiB window at 0xb8000 */
#define MODE3_BLANK     0x20   /* a space ... */
#define MODE3_BLANK_ATT 0x07   /* ... grey on black */
#define AR_SCREEN_ON    0x20   /* the attribute index's palette address source */
#define FONT_STRIDE     32     /* plane 2 bytes per glyph */

void vga_core_text_mode3(struct vga_core *s, const uint8_t *font)
{
    s->misc = MODE3_MISC;
    memcpy(s->seq, mode3_seq, sizeof(mode3_seq));
    memcpy(s->crtc, mode3_crtc, sizeof(mode3_crtc));
    memcpy(s->ar, mode3_ar, sizeof(mode3_ar));
    memcpy(s->gc, mode3_gc, sizeof(mode3_gc));
    s->ar_index = AR_SCREEN_ON;
    /* the EGA palette: bits 0-2 blue, green, red at 2/3, bits 3-5 at 1/3 */
    for (unsigned i = 0; i < 64; i++)
        for (unsigned k = 0; k < 3; k++) {
            unsigned bit = 2 - k; /* red, green, blue */
            s->palette[i * 3 + k] =
                (uint8_t)(((i >> bit) & 1) * 0x2a + ((i >> (bit + 3)) & 1) * 0x15);
        }
    for (uint32_t c = 0; c < MODE3_CELLS && c * 4 + 1 < s->vram_size; c++) {
        s->vram[c * 4] = MODE3_BLANK;
        s->vram[c * 4 + 1] = MODE3_BLANK_ATT;
    }
    for (uint32_t g = 0; g < 256; g++)
        for (uint32_t l = 0; l < VGA_FONT_HEIGHT; l++)
            s->vram[(g * FONT_STRIDE + l) * 4 + 2] = font[g * VGA_FONT_HEIGHT + l];
    s->reg_gen++;
    s->mem_gen++;
    for (uint32_t i = 0; i < (s->vram_size >> VGA_PAGE_SHIFT); i++)
        s->page_gen[i]++;
}

long vga_core_find_font(const uint8_t *rom, size_t size)
{
    static const uint8_t head[3 * VGA_FONT_HEIGHT] = {
        0, 0, 0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0, 0, 0, 0, /* blank */
        0, 0, 0x7e, 0x81, 0xa5, 0x81, 0x81, 0xbd, 0x99, 0x81, 0x81, 0x7e, 0, 0, 0, 0, /* smiley */
        0, 0, 0x7e, 0xff, 0xdb, 0xff, 0xff, 0xc3, 0xe7, 0xff, 0xff, 0x7e, 0, 0, 0, 0, /* inverse */
    };
    for (size_t i = 0; rom && size >= VGA_FONT_SIZE && i <= size - VGA_FONT_SIZE; i++)
        if (!memcmp(rom + i, head, sizeof(head)))
            return (long)i;
    return -1;
}

/* ---- ports ---------------------------------------------------------------- */

static bool color_emulation(const struct vga_core *s)
{
    return s->misc & 1;
}

/* Whether `port` (0x3b4/5/a or 0x3d4/5/a) belongs to the emulation misc
 * bit 0 selects. */
static bool crtc_port_active(const struct vga_core *s, uint16_t port)
{
    return (port >= 0x3d0) == color_emulation(s);
}

uint8_t vga_core_io_read(struct vga_core *s, uint16_t port)
{
    switch (port) {
    case 0x3b4:
    case 0x3d4:
        return crtc_port_active(s, port) ? s->crtc_index : 0xff;
    case 0x3b5:
    case 0x3d5:
        if (!crtc_port_active(s, port))
            return 0xff;
        return s->crtc_index < 0x19 ? s->crtc[s->crtc_index] : 0xff;
    case 0x3ba:
    case 0x3da:
        if (!crtc_port_active(s, port))
            return 0xff;
        /* reading input status 1 resets the attribute flip-flop; display
         * enable (bit 0) and vertical retrace (bit 3) toggle so that the
         * usual "wait for retrace, then for its end" loops finish */
        s->ar_flip = false;
        s->retrace++;
        return (uint8_t)((s->retrace & 1) | ((s->retrace >> 1) & 1) << 3);
    case 0x3c0:
        return s->ar_index;
    case 0x3c1:
        return (s->ar_index & 0x1f) < 0x15 ? s->ar[s->ar_index & 0x1f] : 0;
    case 0x3c2:
        return 0x10; /* input status 0: switch sense (a colour monitor) */
    case 0x3c3:
        return s->vga_enable;
    case 0x3c4:
        return s->seq_index;
    case 0x3c5:
        return s->seq[s->seq_index & 7];
    case 0x3c6:
        return s->dac_mask;
    case 0x3c7:
        return s->dac_state;
    case 0x3c8:
        return s->dac_write_index;
    case 0x3c9: {
        uint8_t v = s->palette[s->dac_read_index * 3 + s->dac_sub];
        if (++s->dac_sub == 3) {
            s->dac_sub = 0;
            s->dac_read_index++;
        }
        return v;
    }
    case 0x3ca:
        return s->feature;
    case 0x3cc:
        return s->misc;
    case 0x3ce:
        return s->gc_index;
    case 0x3cf:
        return s->gc[s->gc_index & 0x0f];
    default:
        return 0xff;
    }
}

static void crtc_write(struct vga_core *s, uint8_t val)
{
    uint8_t i = s->crtc_index;
    if (i >= 0x19)
        return;
    /* CR11 bit 7 protects CR0-CR7, except CR7's line compare bit 4 */
    if ((s->crtc[0x11] & 0x80) && i <= 7) {
        if (i != 7)
            return;
        val = (uint8_t)((s->crtc[7] & ~0x10) | (val & 0x10));
    }
    s->crtc[i] = val;
}

static void ar_write(struct vga_core *s, uint8_t val)
{
    if (!s->ar_flip) {
        s->ar_index = val & 0x3f;
    } else {
        uint8_t i = s->ar_index & 0x1f;
        if (i < 0x10)
            s->ar[i] = val & 0x3f;
        else if (i < 0x15)
            s->ar[i] = val;
    }
    s->ar_flip = !s->ar_flip;
}

static void dac_write(struct vga_core *s, uint8_t val)
{
    bool wide = s->vbe[VBE_INDEX_ENABLE] & VBE_8BIT_DAC;
    s->dac_rgb[s->dac_sub] = wide ? val : val & 0x3f;
    if (++s->dac_sub == 3) {
        memcpy(&s->palette[s->dac_write_index * 3], s->dac_rgb, 3);
        s->dac_sub = 0;
        s->dac_write_index++;
    }
}

void vga_core_io_write(struct vga_core *s, uint16_t port, uint8_t val)
{
    switch (port) {
    case 0x3b4:
    case 0x3d4:
        if (crtc_port_active(s, port))
            s->crtc_index = val & 0x3f;
        return;
    case 0x3b5:
    case 0x3d5:
        if (crtc_port_active(s, port))
            crtc_write(s, val);
        break;
    case 0x3ba:
    case 0x3da:
        if (crtc_port_active(s, port))
            s->feature = val & 0x03;
        return;
    case 0x3c0:
        ar_write(s, val);
        break;
    case 0x3c2:
        s->misc = val & 0xef;
        break;
    case 0x3c3:
        s->vga_enable = val & 1;
        return;
    case 0x3c4:
        s->seq_index = val & 7;
        return;
    case 0x3c5:
        s->seq[s->seq_index] = val & seq_mask[s->seq_index];
        break;
    case 0x3c6:
        s->dac_mask = val;
        break;
    case 0x3c7:
        s->dac_read_index = val;
        s->dac_sub = 0;
        s->dac_state = 3;
        return;
    case 0x3c8:
        s->dac_write_index = val;
        s->dac_sub = 0;
        s->dac_state = 0;
        return;
    case 0x3c9:
        dac_write(s, val);
        break;
    case 0x3ce:
        s->gc_index = val & 0x0f;
        return;
    case 0x3cf:
        s->gc[s->gc_index] = val & gc_mask[s->gc_index];
        break;
    default:
        return;
    }
    s->reg_gen++;
}

/* ---- the legacy memory window ------------------------------------------- */

/* The window-relative address `addr` as an offset into the mapped window,
 * or -1 when the graphics controller's memory map leaves it out. */
static int64_t window_offset(const struct vga_core *s, uint32_t addr)
{
    switch ((s->gc[GC_MISC] >> 2) & 3) {
    case 0: /* 0xa0000-0xbffff */
        return addr < 0x20000 ? (int64_t)addr : -1;
    case 1: /* 0xa0000-0xaffff */
        return addr < 0x10000 ? (int64_t)addr : -1;
    case 2: /* 0xb0000-0xb7fff */
        return addr >= 0x10000 && addr < 0x18000 ? (int64_t)(addr - 0x10000) : -1;
    default: /* 0xb8000-0xbffff */
        return addr >= 0x18000 && addr < 0x20000 ? (int64_t)(addr - 0x18000) : -1;
    }
}

/* A plane offset as a VRAM index of plane p, or -1 past VRAM. */
static int64_t plane_index(const struct vga_core *s, uint64_t off, unsigned p)
{
    uint64_t i = (off << 2) | p;
    return i < s->vram_size ? (int64_t)i : -1;
}

static uint32_t expand4(uint8_t bits) /* bit p set -> byte p all ones */
{
    uint32_t v = 0;
    for (unsigned p = 0; p < 4; p++)
        if (bits & (1u << p))
            v |= 0xffu << (8 * p);
    return v;
}

/* The VBE bank window (VBE on): the byte of VRAM, or -1. */
static int64_t vbe_bank_index(const struct vga_core *s, int64_t off)
{
    if (off < 0 || off >= 0x10000)
        return -1;
    uint64_t i = (uint64_t)s->vbe[VBE_INDEX_BANK] * 0x10000 + (uint64_t)off;
    return i < s->vram_size ? (int64_t)i : -1;
}

uint8_t vga_core_mem_read(struct vga_core *s, uint32_t addr)
{
    int64_t off = window_offset(s, addr), i;
    if (off < 0)
        return 0xff;
    if (vga_core_vbe_on(s)) {
        i = vbe_bank_index(s, off);
        return i < 0 ? 0xff : s->vram[i];
    }
    if (s->seq[SEQ_MEM_MODE] & 0x08) { /* chain-4: linear */
        i = (uint64_t)off < s->vram_size ? off : -1;
        return i < 0 ? 0xff : s->vram[i];
    }
    if (s->gc[GC_MODE] & 0x10) { /* odd/even */
        unsigned p = (s->gc[GC_READ_MAP] & 2) | (off & 1);
        i = plane_index(s, (uint64_t)off >> 1, p);
        return i < 0 ? 0xff : s->vram[i];
    }
    i = plane_index(s, (uint64_t)off, 0);
    if (i < 0)
        return 0xff;
    memcpy(&s->latch, &s->vram[i], 4); /* the planes are little-endian bytes */
    if (!(s->gc[GC_MODE] & 0x08))      /* read mode 0: one plane */
        return (uint8_t)(s->latch >> (8 * (s->gc[GC_READ_MAP] & 3)));
    /* read mode 1: colour compare, bit set where every cared-for plane matches */
    uint32_t care = expand4(s->gc[GC_DONT_CARE] & 0x0f);
    uint32_t diff = (s->latch ^ expand4(s->gc[GC_COLOR_COMPARE] & 0x0f)) & care;
    uint8_t any = (uint8_t)(diff | diff >> 8 | diff >> 16 | diff >> 24);
    return (uint8_t)~any;
}

static uint8_t rotate(uint8_t v, unsigned n)
{
    n &= 7;
    return (uint8_t)((v >> n) | (v << ((8 - n) & 7)));
}

/* The planar data path: what the four planes get from a write of `val`
 * (write modes 0-3, set/reset, logical function, bit mask). */
static uint32_t planar_data(struct vga_core *s, uint8_t val)
{
    uint8_t mode = s->gc[GC_MODE] & 3, bitmask = s->gc[GC_BIT_MASK];
    uint32_t data;
    switch (mode) {
    case 1: /* the latches as they are */
        return s->latch;
    case 2:
        data = expand4(val & 0x0f);
        break;
    case 3: {
        uint8_t r = rotate(val, s->gc[GC_ROTATE]);
        bitmask &= r;
        data = expand4(s->gc[GC_SET_RESET] & 0x0f);
        break;
    }
    default: {
        uint8_t r = rotate(val, s->gc[GC_ROTATE]);
        data = r * 0x01010101u;
        uint32_t en = expand4(s->gc[GC_ENABLE_SR] & 0x0f);
        data = (data & ~en) | (expand4(s->gc[GC_SET_RESET] & 0x0f) & en);
        break;
    }
    }
    switch ((s->gc[GC_ROTATE] >> 3) & 3) {
    case 1:
        data &= s->latch;
        break;
    case 2:
        data |= s->latch;
        break;
    case 3:
        data ^= s->latch;
        break;
    default:
        break;
    }
    uint32_t m = bitmask * 0x01010101u;
    return (data & m) | (s->latch & ~m);
}

void vga_core_mem_write(struct vga_core *s, uint32_t addr, uint8_t val)
{
    int64_t off = window_offset(s, addr), i;
    if (off < 0)
        return;
    uint8_t map = s->seq[SEQ_MAP_MASK] & 0x0f;
    if (vga_core_vbe_on(s)) {
        i = vbe_bank_index(s, off);
    } else if (s->seq[SEQ_MEM_MODE] & 0x08) { /* chain-4 */
        i = (uint64_t)off < s->vram_size && (map & (1u << (off & 3))) ? off : -1;
    } else if (!(s->seq[SEQ_MEM_MODE] & 0x04)) { /* odd/even */
        unsigned p = (unsigned)(off & 1);
        i = (map & (1u << p)) ? plane_index(s, (uint64_t)off >> 1, p) : -1;
    } else {
        i = plane_index(s, (uint64_t)off, 0);
        if (i < 0)
            return;
        uint32_t data = planar_data(s, val);
        for (unsigned p = 0; p < 4; p++)
            if (map & (1u << p))
                s->vram[i + p] = (uint8_t)(data >> (8 * p));
        touch_page(s, (uint32_t)i);
        return;
    }
    if (i < 0)
        return;
    s->vram[i] = val;
    touch_page(s, (uint32_t)i);
}

uint8_t vga_core_lfb_read(struct vga_core *s, uint64_t off)
{
    return off < s->vram_size ? s->vram[off] : 0xff;
}

void vga_core_lfb_write(struct vga_core *s, uint64_t off, uint8_t val)
{
    if (off >= s->vram_size)
        return;
    s->vram[off] = val;
    touch_page(s, (uint32_t)off);
}

/* ---- Bochs VBE DISPI ------------------------------------------------------ */

static unsigned vbe_bytes(uint16_t bpp)
{
    switch (bpp) {
    case 8:
        return 1;
    case 15:
    case 16:
        return 2;
    case 24:
        return 3;
    case 32:
        return 4;
    default:
        return 0;
    }
}

bool vga_core_vbe_on(const struct vga_core *s)
{
    return (s->vbe[VBE_INDEX_ENABLE] & VBE_ENABLED) && vbe_bytes(s->vbe[VBE_INDEX_BPP]);
}

static uint16_t clamp16(uint32_t v, uint32_t lo, uint32_t hi)
{
    return (uint16_t)(v < lo ? lo : v > hi ? hi : v);
}

/* Brings the mode registers inside VRAM: a valid bpp, a resolution in
 * range, a virtual width that holds XRES and fits, a virtual height of what
 * VRAM holds, offsets that keep the visible rectangle inside it. */
static void vbe_fixup(struct vga_core *s)
{
    uint16_t *r = s->vbe;
    if (!vbe_bytes(r[VBE_INDEX_BPP]))
        r[VBE_INDEX_BPP] = 8;
    uint32_t bytes = vbe_bytes(r[VBE_INDEX_BPP]);
    r[VBE_INDEX_XRES] = clamp16(r[VBE_INDEX_XRES] & ~7u, 8, VBE_MAX_XRES);
    r[VBE_INDEX_YRES] = clamp16(r[VBE_INDEX_YRES], 1, VBE_MAX_YRES);
    uint32_t xres = r[VBE_INDEX_XRES];
    uint32_t vw = r[VBE_INDEX_VIRT_WIDTH] < xres ? xres : r[VBE_INDEX_VIRT_WIDTH];
    if ((uint64_t)vw * bytes * r[VBE_INDEX_YRES] > s->vram_size)
        vw = xres;
    uint32_t line = vw * bytes;
    uint32_t vh = s->vram_size / line;
    if (vh > 0xffff)
        vh = 0xffff;
    if (r[VBE_INDEX_YRES] > vh)
        r[VBE_INDEX_YRES] = (uint16_t)vh;
    r[VBE_INDEX_VIRT_WIDTH] = (uint16_t)vw;
    r[VBE_INDEX_VIRT_HEIGHT] = (uint16_t)vh;
    if (r[VBE_INDEX_X_OFFSET] > vw - xres)
        r[VBE_INDEX_X_OFFSET] = (uint16_t)(vw - xres);
    if (r[VBE_INDEX_Y_OFFSET] > vh - r[VBE_INDEX_YRES])
        r[VBE_INDEX_Y_OFFSET] = (uint16_t)(vh - r[VBE_INDEX_YRES]);
    s->vbe_line_bytes = line;
    s->vbe_start = r[VBE_INDEX_Y_OFFSET] * line + r[VBE_INDEX_X_OFFSET] * bytes;
}

void vga_core_loaded(struct vga_core *s)
{
    /* the indexes as the ports could have set them */
    s->seq_index &= 7;
    s->gc_index &= 0x0f;
    s->crtc_index &= 0x3f;
    s->ar_index &= 0x3f;
    if (s->dac_sub > 2)
        s->dac_sub = 0;
    s->vbe[VBE_INDEX_VIDEO_MEMORY_64K] =
        (uint16_t)(s->vram_size >> 16 > 0xffff ? 0xffff : s->vram_size >> 16);
    if ((uint64_t)s->vbe[VBE_INDEX_BANK] * 0x10000 >= s->vram_size)
        s->vbe[VBE_INDEX_BANK] = 0;
    if (s->vbe[VBE_INDEX_ENABLE] & VBE_ENABLED)
        vbe_fixup(s);
    s->reg_gen++;
    s->mem_gen++;
    for (uint32_t p = 0; p < (s->vram_size >> VGA_PAGE_SHIFT); p++)
        s->page_gen[p]++;
}

uint16_t vga_core_vbe_read(struct vga_core *s)
{
    uint16_t i = s->vbe_index;
    if (i >= VBE_NUM_REGS)
        return 0;
    if (s->vbe[VBE_INDEX_ENABLE] & VBE_GETCAPS) {
        if (i == VBE_INDEX_XRES)
            return VBE_MAX_XRES;
        if (i == VBE_INDEX_YRES)
            return VBE_MAX_YRES;
        if (i == VBE_INDEX_BPP)
            return VBE_MAX_BPP;
    }
    return s->vbe[i];
}

static void vbe_enable(struct vga_core *s, uint16_t val)
{
    uint16_t old = s->vbe[VBE_INDEX_ENABLE];
    s->vbe[VBE_INDEX_ENABLE] =
        val & (VBE_ENABLED | VBE_GETCAPS | VBE_8BIT_DAC | VBE_LFB_ENABLED | VBE_NOCLEARMEM);
    if (!(val & VBE_ENABLED)) {
        s->vbe[VBE_INDEX_BANK] = 0;
        return;
    }
    vbe_fixup(s);
    if (old & VBE_ENABLED)
        return;
    if (!(val & VBE_NOCLEARMEM)) {
        uint64_t n = (uint64_t)s->vbe_line_bytes * s->vbe[VBE_INDEX_VIRT_HEIGHT];
        memset(s->vram, 0, n > s->vram_size ? s->vram_size : n);
        for (uint32_t p = 0; p < (s->vram_size >> VGA_PAGE_SHIFT); p++)
            s->page_gen[p]++;
        s->mem_gen++;
    }
    /* the legacy window as the bank window: 64 KiB at 0xa0000, graphics */
    s->gc[GC_MISC] = (uint8_t)((s->gc[GC_MISC] & ~0x0c) | 0x05);
    s->vbe[VBE_INDEX_BANK] = 0;
}

void vga_core_vbe_write(struct vga_core *s, uint16_t val)
{
    uint16_t i = s->vbe_index;
    switch (i) {
    case VBE_INDEX_ID:
        if (val >= VBE_ID0 && val <= VBE_ID5)
            s->vbe[i] = val;
        return;
    case VBE_INDEX_ENABLE:
        vbe_enable(s, val);
        break;
    case VBE_INDEX_BANK:
        if ((uint64_t)val * 0x10000 < s->vram_size)
            s->vbe[i] = val;
        return;
    case VBE_INDEX_XRES:
    case VBE_INDEX_YRES:
    case VBE_INDEX_BPP:
    case VBE_INDEX_VIRT_WIDTH:
    case VBE_INDEX_X_OFFSET:
    case VBE_INDEX_Y_OFFSET:
        s->vbe[i] = val;
        if (s->vbe[VBE_INDEX_ENABLE] & VBE_ENABLED)
            vbe_fixup(s);
        break;
    default: /* VIRT_HEIGHT and VIDEO_MEMORY_64K are read-only */
        return;
    }
    s->reg_gen++;
}

/* ---- colours ------------------------------------------------------------ */

uint32_t vga_core_dac_rgb(const struct vga_core *s, uint8_t i)
{
    const uint8_t *c = &s->palette[(i & s->dac_mask) * 3];
    if (s->vbe[VBE_INDEX_ENABLE] & VBE_8BIT_DAC)
        return (uint32_t)c[0] << 16 | (uint32_t)c[1] << 8 | c[2];
    uint32_t v = 0;
    for (unsigned k = 0; k < 3; k++) {
        uint8_t six = c[k] & 0x3f;
        v = v << 8 | (uint8_t)(six << 2 | six >> 4);
    }
    return v;
}

uint32_t vga_core_ar_rgb(const struct vga_core *s, uint8_t i)
{
    uint8_t p = s->ar[i & 0x0f], sel = s->ar[0x14];
    uint8_t v = (s->ar[0x10] & 0x80) ? (uint8_t)((p & 0x0f) | (sel & 0x03) << 4) : (p & 0x3f);
    return vga_core_dac_rgb(s, (uint8_t)(v | (sel & 0x0c) << 4));
}
