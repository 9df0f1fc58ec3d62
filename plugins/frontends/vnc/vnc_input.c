/*
 * vnc_input.c - a VNC client's keys and pointer as the guest's input
 * (vnc_internal.h): RFB sends X11 keysyms, which keymap.h turns into HID
 * usages and those into PC scancodes; the pointer's position becomes a
 * tablet's absolute coordinates or a mouse's motion.
 */
#include <string.h>

#include "display/keymap.h"
#include "pdmdev.h"
#include "vnc_internal.h"

static int held(const struct vnc_keys *k, unsigned usage)
{
    return (k->held[usage >> 3] >> (usage & 7)) & 1;
}

static void set_held(struct vnc_keys *k, unsigned usage, int on)
{
    if (on)
        k->held[usage >> 3] |= (uint8_t)(1u << (usage & 7));
    else
        k->held[usage >> 3] &= (uint8_t) ~(1u << (usage & 7));
}

/* Appends the set-1 bytes of usage up/down at codes[n]; the new count. */
static size_t put(uint8_t *codes, size_t n, unsigned usage, int down)
{
    uint8_t c[KEYMAP_MAX_CODES];
    size_t m = keymap_usage_to_set1((uint16_t)usage, down, c);
    memcpy(codes + n, c, m);
    return n + m;
}

static int is_modifier(unsigned usage)
{
    return usage >= 0xe0 && usage <= 0xe7; /* Ctrl, Shift, Alt, GUI: left and right */
}

size_t vnc_keys_event(struct vnc_keys *k, uint32_t keysym, int down,
                      uint8_t codes[VNC_KEYS_MAX_CODES])
{
    int shift = 0;
    unsigned usage = keymap_keysym_to_usage(keysym, &shift);
    if (!usage || usage > 0xff)
        return 0;
    if (!down) {
        if (!held(k, usage))
            return 0;
        set_held(k, usage, 0);
        return put(codes, 0, usage, 0);
    }
    set_held(k, usage, 1);
    if (is_modifier(usage))
        return put(codes, 0, usage, 1);
    int lshift = held(k, VNC_USAGE_LSHIFT), rshift = held(k, VNC_USAGE_RSHIFT);
    size_t n = 0;
    if (shift && !lshift && !rshift) {
        n = put(codes, n, VNC_USAGE_LSHIFT, 1);
        n = put(codes, n, usage, 1);
        return put(codes, n, VNC_USAGE_LSHIFT, 0);
    }
    if (!shift && (lshift || rshift)) {
        if (lshift)
            n = put(codes, n, VNC_USAGE_LSHIFT, 0);
        if (rshift)
            n = put(codes, n, VNC_USAGE_RSHIFT, 0);
        n = put(codes, n, usage, 1);
        if (lshift)
            n = put(codes, n, VNC_USAGE_LSHIFT, 1);
        if (rshift)
            n = put(codes, n, VNC_USAGE_RSHIFT, 1);
        return n;
    }
    return put(codes, 0, usage, 1);
}

size_t vnc_keys_release_next(struct vnc_keys *k, uint8_t codes[VNC_KEYS_MAX_CODES])
{
    for (unsigned usage = 0; usage < 256; usage++)
        if (held(k, usage)) {
            set_held(k, usage, 0);
            size_t n = put(codes, 0, usage, 0);
            if (n)
                return n;
        }
    return 0;
}

/* RFB's button bits */
#define RFB_LEFT       0x01u
#define RFB_MIDDLE     0x02u
#define RFB_RIGHT      0x04u
#define RFB_WHEEL_UP   0x08u
#define RFB_WHEEL_DOWN 0x10u

static int clamp(int v, unsigned size)
{
    if (v < 0 || size == 0)
        return 0;
    return (unsigned)v >= size ? (int)size - 1 : v;
}

static uint32_t scale(int v, unsigned size)
{
    return size > 1 ? (uint32_t)((uint64_t)v * PDM_MOUSE_ABS_MAX / (size - 1)) : 0;
}

void vnc_pointer_translate(struct vnc_pointer *p, unsigned mask, int x, int y, unsigned width,
                           unsigned height, struct vnc_pointer_event *ev)
{
    x = clamp(x, width);
    y = clamp(y, height);
    unsigned pressed = mask & ~p->mask;
    unsigned buttons = RFB_LEFT | RFB_MIDDLE | RFB_RIGHT;
    memset(ev, 0, sizeof(*ev));
    ev->abs_x = scale(x, width);
    ev->abs_y = scale(y, height);
    if (p->seen) {
        ev->dx = x - p->x;
        ev->dy = y - p->y;
    }
    ev->dz = (pressed & RFB_WHEEL_DOWN ? 1 : 0) - (pressed & RFB_WHEEL_UP ? 1 : 0);
    ev->buttons_changed = (mask & buttons) != (p->mask & buttons);
    ev->buttons = (mask & RFB_LEFT ? PDM_MOUSE_LEFT : 0) |
                  (mask & RFB_MIDDLE ? PDM_MOUSE_MIDDLE : 0) |
                  (mask & RFB_RIGHT ? PDM_MOUSE_RIGHT : 0);
    p->x = x;
    p->y = y;
    p->mask = mask;
    p->seen = 1;
}
