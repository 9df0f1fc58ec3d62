/*
 * plugins/frontends/vnc/vnc_internal.h - the VNC server's pure logic,
 * shared by its files and its unit tests: a client's keys (RFB keysyms ->
 * set-1 bytes with the state of the keys held) and its pointer (RFB button
 * masks and positions -> the guest's absolute or relative events).
 */
#ifndef PLUGINS_FRONTENDS_VNC_INTERNAL_H
#define PLUGINS_FRONTENDS_VNC_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* HID usages of the two shift keys (page 7). */
#define VNC_USAGE_LSHIFT 0xe1u
#define VNC_USAGE_RSHIFT 0xe5u
/* The most set-1 bytes one key event makes: a key (KEYMAP_MAX_CODES) with
 * both shifts released before and pressed again after it. */
#define VNC_KEYS_MAX_CODES 16

/* The keys one client holds down, by HID usage. Zeroed: none. */
struct vnc_keys {
    uint8_t held[32]; /* bit per usage 0..255 */
};

/*
 * One RFB key event: keysym pressed (down != 0) or released. Writes the
 * set-1 bytes for the guest into codes[VNC_KEYS_MAX_CODES] and returns how
 * many (0: a keysym no PC key has, or the release of a key not held).
 * A keysym that is the shifted face of its key (XK_exclam) while no shift
 * is held gets Left Shift pressed around it; an unshifted face while a
 * shift is held gets the held shifts released around it: the guest sees
 * the character the client meant, whatever the client's layout did with
 * the shift keys (as QEMU's VNC server does). A press of a key held
 * already is the client's auto-repeat: sent again.
 */
size_t vnc_keys_event(struct vnc_keys *k, uint32_t keysym, int down,
                      uint8_t codes[VNC_KEYS_MAX_CODES]);

/* The release of one key still held (its bytes into codes, returned count;
 * the key is no longer held), or 0 when none is: a client that goes away
 * leaves no key down in the guest. */
size_t vnc_keys_release_next(struct vnc_keys *k, uint8_t codes[VNC_KEYS_MAX_CODES]);

/* A client's pointer as far as the last event. Zeroed: nothing seen. */
struct vnc_pointer {
    int x, y;      /* the last position */
    unsigned mask; /* the last RFB button mask */
    int seen;      /* a position has been seen */
};

/* What one RFB pointer event means for the guest. */
struct vnc_pointer_event {
    uint32_t abs_x, abs_y; /* 0..PDM_MOUSE_ABS_MAX across the screen */
    int32_t dx, dy;        /* motion since the last event (relative mice) */
    int32_t dz;            /* wheel: positive towards the user (down) */
    uint32_t buttons;      /* PDM_MOUSE_* held now */
    int buttons_changed;   /* a button went down or up with this event */
};

/*
 * An RFB pointer event (mask: bit 0 left, 1 middle, 2 right, 3 wheel up,
 * 4 wheel down; x, y in pixels) on a width x height screen -> *ev. Wheel
 * bits count when they appear (a client sends press and release). x and y
 * are clamped to the screen.
 */
void vnc_pointer_translate(struct vnc_pointer *p, unsigned mask, int x, int y, unsigned width,
                           unsigned height, struct vnc_pointer_event *ev);

/* ---- the stage (vnc_stage.c) ----------------------------------------------- */

/* Changed rectangles kept apart before they merge into their bounding box. */
#define VNC_STAGE_RECTS 32

struct vnc_rect {
    unsigned x, y, w, h;
};

/* The picture as the hub last gave it, in the server's pixel format, and
 * what changed since the loop thread last took it. Every field is under
 * `lock`; the shifts are set at init. */
struct vnc_stage {
    pthread_mutex_t lock;
    unsigned red_shift, green_shift, blue_shift; /* of the server's 32-bit pixels */
    uint32_t *pixels;                            /* width * height */
    unsigned width, height;
    int resized; /* a new size (and so a whole new picture) not taken yet */
    struct vnc_rect dirty[VNC_STAGE_RECTS];
    unsigned ndirty;
};

void vnc_stage_init(struct vnc_stage *st, unsigned red_shift, unsigned green_shift,
                    unsigned blue_shift);
void vnc_stage_destroy(struct vnc_stage *st);
/* The hub's resize: a black picture of the new size. -1 (the stage as it
 * was) when there is no memory for it or the size is 0. */
int vnc_stage_resize(struct vnc_stage *st, unsigned width, unsigned height);
/* The hub's update: XRGB pixels (rows `stride` apart, the picture's top
 * left at `pixels`) of the rectangle, clipped to the stage, converted. */
void vnc_stage_update(struct vnc_stage *st, const uint32_t *pixels, unsigned stride, unsigned x,
                      unsigned y, unsigned w, unsigned h);
/*
 * The loop thread's side. After a resize: *fb gets a new copy of the whole
 * picture (malloc; the caller frees the old one), *width and *height its
 * size; returns 1. Else, when *width x *height is the stage's size, copies
 * the changed rectangles from the stage into *fb, lists them in
 * rects[VNC_STAGE_RECTS] (*nrects) and returns 0. -1 when neither can be
 * done (no memory for the copy; the sizes differ before a resize is
 * taken): nothing changes, try again later.
 */
int vnc_stage_take(struct vnc_stage *st, uint32_t **fb, unsigned *width, unsigned *height,
                   struct vnc_rect *rects, unsigned *nrects);

#endif /* PLUGINS_FRONTENDS_VNC_INTERNAL_H */
