/*
 * plugins/frontends/vnc/vnc_internal.h - the VNC server's pure logic,
 * shared by its files and its unit tests: a client's keys (RFB keysyms ->
 * set-1 bytes with the state of the keys held) and its pointer (RFB button
 * masks and positions -> the guest's absolute or relative events).
 */
#ifndef PLUGINS_FRONTENDS_VNC_INTERNAL_H
#define PLUGINS_FRONTENDS_VNC_INTERNAL_H

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

#endif /* PLUGINS_FRONTENDS_VNC_INTERNAL_H */
