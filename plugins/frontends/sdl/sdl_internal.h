/*
 * plugins/frontends/sdl/sdl_internal.h - the SDL frontend's pure logic
 * (sdl_logic.c), apart from SDL so that the unit tests run without a
 * display: the title, where the picture goes in the window, pointer
 * coordinates, which keys reach the guest, when the window follows the
 * guest's resolution, what closing the window does.
 */
#ifndef PLUGINS_FRONTENDS_SDL_INTERNAL_H
#define PLUGINS_FRONTENDS_SDL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "em/em.h"

/* The host key: Right Ctrl (HID usage 0xE4, SDL_SCANCODE_RCTRL), as
 * VirtualBox's default. */
#define SDLFE_HOST_KEY      0xE4u
#define SDLFE_HOST_KEY_NAME "Right Ctrl"

/* "NAME [State] - Capsule" into buf (truncated to len); with the mouse
 * grabbed " - Right Ctrl releases the mouse" follows. */
void sdlfe_title(char *buf, size_t len, const char *name, enum vm_state state, bool grabbed);

/* A rectangle in window or picture pixels. */
struct sdlfe_rect {
    int x, y, w, h;
};

/* Where a picture of pw x ph goes in a window of ww x wh: as large as
 * fits with its aspect kept, centred (the rest stays black). A picture or
 * window of size 0 gives an empty rectangle. */
void sdlfe_fit(unsigned ww, unsigned wh, unsigned pw, unsigned ph, struct sdlfe_rect *out);

/* The window point x,y over picture rectangle `pic` as a tablet's
 * coordinates 0..max on each axis (clamped to the picture's edges);
 * false (nothing written) for an empty picture. */
bool sdlfe_to_abs(const struct sdlfe_rect *pic, int x, int y, uint32_t max, uint32_t *ax,
                  uint32_t *ay);

/* Grows *acc to cover r as well (an empty *acc, w == 0, becomes r). */
void sdlfe_rect_union(struct sdlfe_rect *acc, const struct sdlfe_rect *r);

/* The keys the guest holds down now, by HID usage (zero-initialise). */
struct sdlfe_keys {
    uint8_t down[32];
};

enum sdlfe_key_action {
    SDLFE_KEY_GUEST,  /* send it to the guest */
    SDLFE_KEY_HOST,   /* the host key: the frontend's own, never the guest's */
    SDLFE_KEY_IGNORE, /* no such key, or the release of a key the guest never got */
};

/* What to do with a press (down) or release of `usage`; a key sent down
 * to the guest is remembered until its release. */
enum sdlfe_key_action sdlfe_key(struct sdlfe_keys *k, unsigned usage, bool down);

/* The keys the guest holds (at most max, lowest usage first), forgotten:
 * their releases are due when the window loses the focus. */
size_t sdlfe_keys_release_all(struct sdlfe_keys *k, uint16_t *usages, size_t max);

/* Whether the window follows the guest's resolution: it does until the
 * user resizes it. */
struct sdlfe_size {
    unsigned set_w, set_h; /* the size the frontend gave the window last */
    bool user_sized;
};

/* The smallest window the guest's resolution makes (a tiny mode, such as
 * an unprogrammed VGA's, is shown scaled in it). */
#define SDLFE_MIN_W 320u
#define SDLFE_MIN_H 200u

/* The guest's picture is now pw x ph: true with *w, *h the window's new
 * size (the picture's, shrunk with its aspect kept to fit max_w x max_h,
 * the desktop, when these are not 0, and at least SDLFE_MIN_W x
 * SDLFE_MIN_H), false when the user sized the window (it keeps its size). */
bool sdlfe_size_guest(struct sdlfe_size *s, unsigned pw, unsigned ph, unsigned max_w,
                      unsigned max_h, unsigned *w, unsigned *h);
/* The window now has size w x h: a size the frontend did not set was the
 * user's (or the window manager's). */
void sdlfe_size_window(struct sdlfe_size *s, unsigned w, unsigned h);

/* Closing the window. */
enum sdlfe_close_action {
    SDLFE_CLOSE_NOTHING,      /* the VM is not running any more */
    SDLFE_CLOSE_POWER_BUTTON, /* press the ACPI power button, wait */
    SDLFE_CLOSE_POWER_OFF,    /* power off now */
};
struct sdlfe_close {
    unsigned presses;     /* closes so far */
    uint64_t deadline_ns; /* power off at this time if still running; 0: none */
};

/* The user closed the window at now_ns with the VM in `state`: the first
 * close of a running VM presses the power button and sets the deadline
 * wait_ms later; a paused VM (it cannot see the button) and a second close
 * power off. */
enum sdlfe_close_action sdlfe_close(struct sdlfe_close *c, enum vm_state state, uint64_t now_ns,
                                    uint64_t wait_ms);
/* Whether the deadline has passed at now_ns with the VM still running. */
bool sdlfe_close_overdue(const struct sdlfe_close *c, enum vm_state state, uint64_t now_ns);

/* CAPSULE_VM_CLOSE_WAIT's text (seconds, 0..3600) as milliseconds; NULL
 * or bad text: the default, 10 s. */
uint64_t sdlfe_close_wait_ms(const char *text);

#endif /* PLUGINS_FRONTENDS_SDL_INTERNAL_H */
