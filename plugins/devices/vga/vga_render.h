/*
 * plugins/devices/vga/vga_render.h - the VGA's picture: the screen the
 * registers of a struct vga_core describe, as a 32-bit XRGB image
 * (0x00RRGGBB per pixel, rows top to bottom, no padding), and which parts
 * of it changed since the last look. For the device's display interface
 * (vga.h) and later IDisplay and the frontends.
 *
 * Modes: text (the font the BIOS loaded into plane 2, 8 or 9 dot cells,
 * the line-graphics column, the attribute palette, the cursor drawn
 * steadily, blink ignored), planar 16-colour (modes 0Dh-12h), 256-colour
 * (mode 13h and unchained "mode X"), and the Bochs VBE modes (8, 15, 16,
 * 24, 32 bpp). With the screen off (attribute index bit 5 clear, or the
 * sequencer's screen-off bit) the picture is black. Not modelled: the
 * CGA-compatible 4-colour shift mode (drawn as planar), line compare
 * (split screen), horizontal pixel panning, 40-column dot doubling.
 *
 * Every VRAM read is checked against vram_size: a start address, stride or
 * resolution past the end draws black there, never reads outside.
 *
 * Dirty tracking (struct vga_display): vga_display_update renders the
 * current picture, skipping graphics scanlines whose VRAM pages
 * (vga_core.page_gen) and registers did not change since the last update
 * (those keep their pixels); every scanline drawn again is compared with
 * the picture per VGA_TILE x VGA_TILE tile and copied where it differs:
 * vga_display_dirty_rects lists the tiles that changed, merged into runs
 * per tile row. With the framebuffer RAM-backed (vga.c), page_gen comes
 * from the VMM's dirty pages (rem's write tracking, KVM's dirty log), so
 * clean pages are still skipped.
 */
#ifndef PLUGINS_DEVICES_VGA_RENDER_H
#define PLUGINS_DEVICES_VGA_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "vga_core.h"

#define VGA_RENDER_MAX_W VBE_MAX_XRES
#define VGA_RENDER_MAX_H VBE_MAX_YRES
#define VGA_TILE         16

enum vga_render_kind {
    VGA_RENDER_BLANK,  /* screen off: black */
    VGA_RENDER_TEXT,   /* alphanumeric */
    VGA_RENDER_PLANAR, /* 16 colours from four planes */
    VGA_RENDER_256,    /* 256 colours, one byte per pixel (chain-4 / mode X) */
    VGA_RENDER_VBE,    /* a Bochs VBE linear mode */
};

/* The picture's size (each 1..VGA_RENDER_MAX_*) and kind for the registers
 * as they are now. */
void vga_render_geometry(const struct vga_core *s, unsigned *width, unsigned *height,
                         enum vga_render_kind *kind);

/* Renders the whole picture into `pixels` (width * height entries as
 * vga_render_geometry says; the caller sized it). */
void vga_render(const struct vga_core *s, uint32_t *pixels);

struct vga_rect {
    unsigned x, y, w, h;
};

/* A picture kept across updates, with its dirty tiles. Zero it, then call
 * vga_display_update; vga_display_free releases it. */
struct vga_display {
    uint32_t *pixels; /* the current picture, width * height */
    unsigned width, height;
    enum vga_render_kind kind;
    /* private */
    uint32_t *line; /* one scanline drawn aside (VGA_RENDER_MAX_W) */
    size_t cap;     /* pixels allocated */
    uint8_t *dirty;
    unsigned tiles_x, tiles_y;
    uint32_t *page_gen; /* the core's page_gen at the last update */
    uint32_t npages;
    uint32_t reg_gen, mem_gen;
    int valid;
};

/*
 * Brings d->pixels up to date with `s`. Returns the number of dirty tiles
 * (all of them after a size or mode change or on the first call; 0 when
 * nothing changed), or -1 when out of memory (d unchanged).
 */
int vga_display_update(struct vga_display *d, const struct vga_core *s);

/* The dirty tiles of the last update as rectangles (horizontal runs of
 * tiles, clipped to the picture), at most `max` of them; returns how many
 * there are in all (more than `max`: the caller may redraw everything). */
unsigned vga_display_dirty_rects(const struct vga_display *d, struct vga_rect *out, unsigned max);

void vga_display_free(struct vga_display *d);

#endif /* PLUGINS_DEVICES_VGA_RENDER_H */
