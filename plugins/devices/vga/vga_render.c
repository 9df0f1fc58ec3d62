/*
 * plugins/devices/vga/vga_render.c - the VGA's picture as XRGB pixels and
 * its dirty tiles (see vga_render.h). Each mode is a function that draws
 * one scanline; vga_display_update decides which scanlines to draw again.
 */
#include <stdlib.h>
#include <string.h>

#include "vga_render.h"

/* Where a mode takes its pixels from. */
struct geom {
    enum vga_render_kind kind;
    unsigned width, height;
    unsigned cell_w, cell_h; /* text: the character cell */
    uint32_t start;          /* CRTC start address (plane offset / cell) */
    uint32_t stride;         /* plane bytes (cells) per scanline (row) */
};

static unsigned clampu(unsigned v, unsigned lo, unsigned hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void geometry(const struct vga_core *s, struct geom *g)
{
    memset(g, 0, sizeof(*g));
    if (vga_core_vbe_on(s)) {
        g->kind = VGA_RENDER_VBE;
        g->width = clampu(s->vbe[VBE_INDEX_XRES], 1, VGA_RENDER_MAX_W);
        g->height = clampu(s->vbe[VBE_INDEX_YRES], 1, VGA_RENDER_MAX_H);
        return;
    }
    const uint8_t *cr = s->crtc;
    unsigned lines = (cr[0x12] | (cr[7] & 0x02) << 7 | (cr[7] & 0x40) << 3) + 1u;
    unsigned scan = (cr[9] & 0x1f) + 1u;
    g->start = (uint32_t)cr[0x0c] << 8 | cr[0x0d];
    g->stride = cr[0x13] * 2u;
    if (!(s->gc[6] & 1)) {
        g->kind = VGA_RENDER_TEXT;
        g->cell_w = (s->seq[1] & 1) ? 8 : 9;
        g->cell_h = scan;
        if (cr[9] & 0x80)
            lines /= 2;
        unsigned rows = clampu(lines / scan, 1, VGA_RENDER_MAX_H / scan);
        unsigned cols = clampu(cr[1] + 1u, 1, VGA_RENDER_MAX_W / g->cell_w);
        g->width = cols * g->cell_w;
        g->height = rows * scan;
    } else {
        if (cr[9] & 0x80)
            scan *= 2;
        g->kind = (s->gc[5] & 0x40) ? VGA_RENDER_256 : VGA_RENDER_PLANAR;
        g->width = clampu((cr[1] + 1u) * (g->kind == VGA_RENDER_256 ? 4 : 8), 1, VGA_RENDER_MAX_W);
        g->height = clampu(lines / scan, 1, VGA_RENDER_MAX_H);
    }
    if (!(s->ar_index & 0x20) || (s->seq[1] & 0x20))
        g->kind = VGA_RENDER_BLANK;
}

void vga_render_geometry(const struct vga_core *s, unsigned *width, unsigned *height,
                         enum vga_render_kind *kind)
{
    struct geom g;
    geometry(s, &g);
    *width = g.width;
    *height = g.height;
    *kind = g.kind;
}

/* Byte `i` of VRAM, 0 past its end. */
static uint8_t vb(const struct vga_core *s, uint64_t i)
{
    return i < s->vram_size ? s->vram[i] : 0;
}

static void line_text(const struct vga_core *s, const struct geom *g, unsigned y, uint32_t *dst)
{
    const uint8_t *cr = s->crtc;
    unsigned row = y / g->cell_h, l = y % g->cell_h, cols = g->width / g->cell_w;
    uint8_t map = s->seq[3];
    /* character maps: B (attribute bit 3 clear) and A, 8 KiB apart in plane 2 */
    uint32_t font[2] = {(((map >> 4) & 1u) | ((map << 1) & 6u)) * 8192u,
                        (((map >> 5) & 1u) | ((map >> 1) & 6u)) * 8192u};
    uint32_t cursor = (uint32_t)cr[0x0e] << 8 | cr[0x0f];
    bool cursor_line = !(cr[0x0a] & 0x20) && l >= (cr[0x0a] & 0x1fu) && l <= (cr[0x0b] & 0x1fu);
    bool blink = s->ar[0x10] & 0x08, line_gfx = s->ar[0x10] & 0x04;
    uint64_t cell = (uint64_t)g->start + (uint64_t)row * g->stride;
    for (unsigned c = 0; c < cols; c++, cell++) {
        uint8_t ch = vb(s, cell * 4), attr = vb(s, cell * 4 + 1);
        uint32_t fg = vga_core_ar_rgb(s, attr & 0x0f);
        uint32_t bg = vga_core_ar_rgb(s, blink ? (attr >> 4) & 7 : attr >> 4);
        uint8_t bits = vb(s, ((uint64_t)font[(attr >> 3) & 1] + ch * 32u + l) * 4 + 2);
        bool cur = cursor_line && cell == cursor;
        if (cur)
            bits = 0xff;
        uint32_t *p = dst + c * g->cell_w;
        for (unsigned x = 0; x < 8; x++)
            p[x] = (bits & (0x80 >> x)) ? fg : bg;
        if (g->cell_w == 9)
            p[8] = (line_gfx && ch >= 0xc0 && ch <= 0xdf && (bits & 1)) || cur ? fg : bg;
    }
}

static void line_planar(const struct vga_core *s, const struct geom *g, unsigned y, uint32_t *dst)
{
    uint64_t base = (uint64_t)g->start + (uint64_t)y * g->stride;
    uint8_t enable = s->ar[0x12] & 0x0f;
    for (unsigned x = 0; x < g->width; x += 8) {
        uint64_t i = (base + x / 8) * 4;
        uint8_t pl[4] = {vb(s, i), vb(s, i + 1), vb(s, i + 2), vb(s, i + 3)};
        for (unsigned b = 0; b < 8 && x + b < g->width; b++) {
            unsigned bit = 7 - b, c = 0;
            for (unsigned p = 0; p < 4; p++)
                c |= ((pl[p] >> bit) & 1u) << p;
            dst[x + b] = vga_core_ar_rgb(s, (uint8_t)(c & enable));
        }
    }
}

static void line_256(const struct vga_core *s, const struct geom *g, unsigned y, uint32_t *dst)
{
    uint64_t base = ((uint64_t)g->start + (uint64_t)y * g->stride) * 4;
    for (unsigned x = 0; x < g->width; x++)
        dst[x] = vga_core_dac_rgb(s, vb(s, base + x));
}

static void line_vbe(const struct vga_core *s, const struct geom *g, unsigned y, uint32_t *dst)
{
    uint16_t bpp = s->vbe[VBE_INDEX_BPP];
    unsigned bytes = (bpp + 7u) / 8;
    uint64_t base = (uint64_t)s->vbe_start + (uint64_t)y * s->vbe_line_bytes;
    if (base + (uint64_t)g->width * bytes > s->vram_size) {
        memset(dst, 0, g->width * sizeof(*dst));
        return;
    }
    const uint8_t *p = s->vram + base;
    for (unsigned x = 0; x < g->width; x++, p += bytes) {
        uint32_t v;
        switch (bpp) {
        case 8:
            v = vga_core_dac_rgb(s, p[0]);
            break;
        case 15: {
            unsigned w = p[0] | p[1] << 8, r = (w >> 10) & 31, gr = (w >> 5) & 31, b = w & 31;
            v = (r << 3 | r >> 2) << 16 | (gr << 3 | gr >> 2) << 8 | (b << 3 | b >> 2);
            break;
        }
        case 16: {
            unsigned w = p[0] | p[1] << 8, r = (w >> 11) & 31, gr = (w >> 5) & 63, b = w & 31;
            v = (r << 3 | r >> 2) << 16 | (gr << 2 | gr >> 4) << 8 | (b << 3 | b >> 2);
            break;
        }
        default: /* 24 and 32: B, G, R (, X) */
            v = (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
            break;
        }
        dst[x] = v;
    }
}

typedef void (*line_fn)(const struct vga_core *, const struct geom *, unsigned, uint32_t *);

static void line_blank(const struct vga_core *s, const struct geom *g, unsigned y, uint32_t *dst)
{
    memset(dst, 0, g->width * sizeof(*dst));
}

static line_fn line_of(enum vga_render_kind k)
{
    switch (k) {
    case VGA_RENDER_TEXT:
        return line_text;
    case VGA_RENDER_PLANAR:
        return line_planar;
    case VGA_RENDER_256:
        return line_256;
    case VGA_RENDER_VBE:
        return line_vbe;
    default:
        return line_blank;
    }
}

void vga_render(const struct vga_core *s, uint32_t *pixels)
{
    struct geom g;
    geometry(s, &g);
    line_fn fn = line_of(g.kind);
    for (unsigned y = 0; y < g.height; y++)
        fn(s, &g, y, pixels + (size_t)y * g.width);
}

/* ---- dirty tracking ------------------------------------------------------- */

/* The VRAM bytes scanline y of a graphics mode reads: [*lo, *hi). */
static void line_span(const struct vga_core *s, const struct geom *g, unsigned y, uint64_t *lo,
                      uint64_t *hi)
{
    if (g->kind == VGA_RENDER_VBE) {
        *lo = (uint64_t)s->vbe_start + (uint64_t)y * s->vbe_line_bytes;
        *hi = *lo + (uint64_t)g->width * ((s->vbe[VBE_INDEX_BPP] + 7u) / 8);
        return;
    }
    uint64_t base = (uint64_t)g->start + (uint64_t)y * g->stride;
    *lo = base * 4;
    *hi = g->kind == VGA_RENDER_256 ? *lo + g->width : (base + (g->width + 7) / 8) * 4;
}

static bool line_clean(const struct vga_display *d, const struct vga_core *s, const struct geom *g,
                       unsigned y)
{
    uint64_t lo, hi;
    line_span(s, g, y, &lo, &hi);
    if (lo >= s->vram_size)
        return true; /* black, as before */
    if (hi > s->vram_size)
        hi = s->vram_size;
    for (uint64_t p = lo >> VGA_PAGE_SHIFT; p <= (hi - 1) >> VGA_PAGE_SHIFT; p++)
        if (s->page_gen[p] != d->page_gen[p])
            return false;
    return true;
}

static int display_alloc(struct vga_display *d, const struct vga_core *s, size_t n)
{
    uint32_t npages = s->vram_size >> VGA_PAGE_SHIFT;
    if (!d->line && !(d->line = malloc(VGA_RENDER_MAX_W * sizeof(*d->line))))
        return -1;
    if (n > d->cap) {
        uint32_t *a = malloc(n * sizeof(*a));
        uint8_t *t = malloc(n / (VGA_TILE * VGA_TILE) + VGA_RENDER_MAX_W / VGA_TILE +
                            VGA_RENDER_MAX_H / VGA_TILE + 2);
        if (!a || !t) {
            free(a);
            free(t);
            return -1;
        }
        free(d->pixels);
        free(d->dirty);
        d->pixels = a;
        d->dirty = t;
        d->cap = n;
    }
    if (npages != d->npages) {
        uint32_t *pg = malloc(npages * sizeof(*pg));
        if (!pg)
            return -1;
        free(d->page_gen);
        d->page_gen = pg;
        d->npages = npages;
    }
    return 0;
}

int vga_display_update(struct vga_display *d, const struct vga_core *s)
{
    struct geom g;
    geometry(s, &g);
    size_t n = (size_t)g.width * g.height;
    bool same = d->valid && g.width == d->width && g.height == d->height && g.kind == d->kind &&
                d->npages == (s->vram_size >> VGA_PAGE_SHIFT);
    unsigned tx = (g.width + VGA_TILE - 1) / VGA_TILE, ty = (g.height + VGA_TILE - 1) / VGA_TILE;
    if (same && s->reg_gen == d->reg_gen && s->mem_gen == d->mem_gen) {
        memset(d->dirty, 0, (size_t)tx * ty);
        return 0;
    }
    if (display_alloc(d, s, n ? n : 1))
        return -1;
    line_fn fn = line_of(g.kind);
    bool regs_same = same && s->reg_gen == d->reg_gen;
    bool graphics = g.kind != VGA_RENDER_TEXT && g.kind != VGA_RENDER_BLANK;
    memset(d->dirty, !same, (size_t)tx * ty);
    for (unsigned y = 0; y < g.height; y++) {
        uint32_t *dst = d->pixels + (size_t)y * g.width;
        if (!same) {
            fn(s, &g, y, dst);
            continue;
        }
        if (regs_same && graphics && line_clean(d, s, &g, y))
            continue; /* its VRAM did not change: the same pixels */
        /* drawn aside, compared per tile, copied where it differs */
        fn(s, &g, y, d->line);
        uint8_t *row = d->dirty + (size_t)(y / VGA_TILE) * tx;
        for (unsigned i = 0; i < tx; i++) {
            unsigned x = i * VGA_TILE, w = g.width - x < VGA_TILE ? g.width - x : VGA_TILE;
            if (memcmp(dst + x, d->line + x, w * sizeof(*dst))) {
                memcpy(dst + x, d->line + x, w * sizeof(*dst));
                row[i] = 1;
            }
        }
    }
    int count = 0;
    for (size_t i = 0; i < (size_t)tx * ty; i++)
        count += d->dirty[i];
    d->width = g.width;
    d->height = g.height;
    d->kind = g.kind;
    d->tiles_x = tx;
    d->tiles_y = ty;
    d->reg_gen = s->reg_gen;
    d->mem_gen = s->mem_gen;
    memcpy(d->page_gen, s->page_gen, d->npages * sizeof(*d->page_gen));
    d->valid = 1;
    return count;
}

unsigned vga_display_dirty_rects(const struct vga_display *d, struct vga_rect *out, unsigned max)
{
    unsigned n = 0;
    for (unsigned j = 0; d->valid && j < d->tiles_y; j++)
        for (unsigned i = 0; i < d->tiles_x; i++) {
            if (!d->dirty[j * d->tiles_x + i])
                continue;
            unsigned run = i;
            while (run + 1 < d->tiles_x && d->dirty[j * d->tiles_x + run + 1])
                run++;
            if (n < max) {
                unsigned x = i * VGA_TILE, y = j * VGA_TILE;
                unsigned x2 = (run + 1) * VGA_TILE, y2 = y + VGA_TILE;
                out[n] = (struct vga_rect){x, y, (x2 > d->width ? d->width : x2) - x,
                                           (y2 > d->height ? d->height : y2) - y};
            }
            n++;
            i = run;
        }
    return n;
}

void vga_display_free(struct vga_display *d)
{
    free(d->pixels);
    free(d->line);
    free(d->dirty);
    free(d->page_gen);
    memset(d, 0, sizeof(*d));
}
