/*
 * plugins/frontends/display/keymap.c - the one key table of the frontends
 * (keymap.h): USB HID usages of page 7 (the HID Usage Tables' "Keyboard /
 * Keypad" page, what SDL2's scancodes number) to the PC's scancode set 1,
 * for the 104/105 keys of a PC keyboard; X11 keysyms and US-layout
 * characters to those usages.
 *
 * Set 1 facts used: a key's break code is its make code | 0x80; the keys
 * the 101-key keyboard added beside older ones (the grey cursor block,
 * right Ctrl/Alt, keypad Enter and /, the Windows and Menu keys) send
 * 0xE0 before both make and break; Print Screen sends E0 2A E0 37 (break
 * E0 B7 E0 AA), as it does with no modifier held; Pause sends
 * E1 1D 45 E1 9D C5 on press and nothing on release. The variants a real
 * keyboard sends with a modifier held (Alt+Print Screen: 54, Ctrl+Pause:
 * E0 46 E0 C6, the fake shifts around the grey keys while Shift is down)
 * are not made: the table keeps no modifier state, and guests read the
 * plain sequences with the modifier's own codes around them correctly.
 */
#include <stddef.h>
#include <stdint.h>

#include "keymap.h"

/* HID usages (page 7) named where the code needs them. */
enum {
    HID_A = 0x04,
    HID_1 = 0x1e,
    HID_ENTER = 0x28,
    HID_TAB = 0x2b,
    HID_PRINT_SCREEN = 0x46,
    HID_PAUSE = 0x48,
    HID_LEFT_SHIFT = 0xe1,
    HID_LAST = 0xe7,
};

#define EXT 0x100 /* 0xE0 prefix */

/* Set-1 make code of each usage (| EXT for 0xE0 keys); 0: no PC key. */
static const uint16_t set1[HID_LAST + 1] = {
    /* letters a..z */
    [0x04] = 0x1e,
    [0x05] = 0x30,
    [0x06] = 0x2e,
    [0x07] = 0x20,
    [0x08] = 0x12,
    [0x09] = 0x21,
    [0x0a] = 0x22,
    [0x0b] = 0x23,
    [0x0c] = 0x17,
    [0x0d] = 0x24,
    [0x0e] = 0x25,
    [0x0f] = 0x26,
    [0x10] = 0x32,
    [0x11] = 0x31,
    [0x12] = 0x18,
    [0x13] = 0x19,
    [0x14] = 0x10,
    [0x15] = 0x13,
    [0x16] = 0x1f,
    [0x17] = 0x14,
    [0x18] = 0x16,
    [0x19] = 0x2f,
    [0x1a] = 0x11,
    [0x1b] = 0x2d,
    [0x1c] = 0x15,
    [0x1d] = 0x2c,
    /* digits 1..9, 0 */
    [0x1e] = 0x02,
    [0x1f] = 0x03,
    [0x20] = 0x04,
    [0x21] = 0x05,
    [0x22] = 0x06,
    [0x23] = 0x07,
    [0x24] = 0x08,
    [0x25] = 0x09,
    [0x26] = 0x0a,
    [0x27] = 0x0b,
    /* Enter, Escape, Backspace, Tab, Space, - = [ ] \ (Non-US # and ~) ; ' ` , . / */
    [0x28] = 0x1c,
    [0x29] = 0x01,
    [0x2a] = 0x0e,
    [0x2b] = 0x0f,
    [0x2c] = 0x39,
    [0x2d] = 0x0c,
    [0x2e] = 0x0d,
    [0x2f] = 0x1a,
    [0x30] = 0x1b,
    [0x31] = 0x2b,
    [0x32] = 0x2b,
    [0x33] = 0x27,
    [0x34] = 0x28,
    [0x35] = 0x29,
    [0x36] = 0x33,
    [0x37] = 0x34,
    [0x38] = 0x35,
    /* Caps Lock, F1..F12 */
    [0x39] = 0x3a,
    [0x3a] = 0x3b,
    [0x3b] = 0x3c,
    [0x3c] = 0x3d,
    [0x3d] = 0x3e,
    [0x3e] = 0x3f,
    [0x3f] = 0x40,
    [0x40] = 0x41,
    [0x41] = 0x42,
    [0x42] = 0x43,
    [0x43] = 0x44,
    [0x44] = 0x57,
    [0x45] = 0x58,
    /* Print Screen and Pause: sequences of their own (below); Scroll Lock */
    [0x46] = EXT | 0x37,
    [0x47] = 0x46,
    [0x48] = 0x45,
    /* Insert Home PgUp Delete End PgDn Right Left Down Up */
    [0x49] = EXT | 0x52,
    [0x4a] = EXT | 0x47,
    [0x4b] = EXT | 0x49,
    [0x4c] = EXT | 0x53,
    [0x4d] = EXT | 0x4f,
    [0x4e] = EXT | 0x51,
    [0x4f] = EXT | 0x4d,
    [0x50] = EXT | 0x4b,
    [0x51] = EXT | 0x50,
    [0x52] = EXT | 0x48,
    /* Num Lock, keypad / * - + Enter 1..9 0 . */
    [0x53] = 0x45,
    [0x54] = EXT | 0x35,
    [0x55] = 0x37,
    [0x56] = 0x4a,
    [0x57] = 0x4e,
    [0x58] = EXT | 0x1c,
    [0x59] = 0x4f,
    [0x5a] = 0x50,
    [0x5b] = 0x51,
    [0x5c] = 0x4b,
    [0x5d] = 0x4c,
    [0x5e] = 0x4d,
    [0x5f] = 0x47,
    [0x60] = 0x48,
    [0x61] = 0x49,
    [0x62] = 0x52,
    [0x63] = 0x53,
    /* Non-US \ and | (the 105th key), Application (Menu) */
    [0x64] = 0x56,
    [0x65] = EXT | 0x5d,
    /* left Ctrl Shift Alt GUI, right Ctrl Shift Alt GUI */
    [0xe0] = 0x1d,
    [0xe1] = 0x2a,
    [0xe2] = 0x38,
    [0xe3] = EXT | 0x5b,
    [0xe4] = EXT | 0x1d,
    [0xe5] = 0x36,
    [0xe6] = EXT | 0x38,
    [0xe7] = EXT | 0x5c,
};

size_t keymap_usage_to_set1(uint16_t usage, int down, uint8_t codes[KEYMAP_MAX_CODES])
{
    static const uint8_t pause[] = {0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5};
    if (usage > HID_LAST || !set1[usage])
        return 0;
    if (usage == HID_PAUSE) {
        if (!down)
            return 0;
        for (size_t i = 0; i < sizeof(pause); i++)
            codes[i] = pause[i];
        return sizeof(pause);
    }
    size_t n = 0;
    if (usage == HID_PRINT_SCREEN) {
        /* a fake Left Shift make before the key's, its break after */
        if (down) {
            codes[n++] = 0xe0;
            codes[n++] = 0x2a;
        }
        codes[n++] = 0xe0;
        codes[n++] = down ? 0x37 : 0xb7;
        if (!down) {
            codes[n++] = 0xe0;
            codes[n++] = 0xaa;
        }
        return n;
    }
    if (set1[usage] & EXT)
        codes[n++] = 0xe0;
    codes[n++] = (uint8_t)((set1[usage] & 0x7f) | (down ? 0 : 0x80));
    return n;
}

/* The US layout: each printable ASCII character's usage, | SHIFT when it
 * is the key's shifted face. */
#define SHIFT 0x100
static const uint16_t ascii[0x7f] = {
    ['\t'] = HID_TAB,     ['\n'] = HID_ENTER,   [' '] = 0x2c,         ['!'] = SHIFT | 0x1e,
    ['"'] = SHIFT | 0x34, ['#'] = SHIFT | 0x20, ['$'] = SHIFT | 0x21, ['%'] = SHIFT | 0x22,
    ['&'] = SHIFT | 0x24, ['\''] = 0x34,        ['('] = SHIFT | 0x26, [')'] = SHIFT | 0x27,
    ['*'] = SHIFT | 0x25, ['+'] = SHIFT | 0x2e, [','] = 0x36,         ['-'] = 0x2d,
    ['.'] = 0x37,         ['/'] = 0x38,         ['0'] = 0x27,         [':'] = SHIFT | 0x33,
    [';'] = 0x33,         ['<'] = SHIFT | 0x36, ['='] = 0x2e,         ['>'] = SHIFT | 0x37,
    ['?'] = SHIFT | 0x38, ['@'] = SHIFT | 0x1f, ['['] = 0x2f,         ['\\'] = 0x31,
    [']'] = 0x30,         ['^'] = SHIFT | 0x23, ['_'] = SHIFT | 0x2d, ['`'] = 0x35,
    ['{'] = SHIFT | 0x2f, ['|'] = SHIFT | 0x31, ['}'] = SHIFT | 0x30, ['~'] = SHIFT | 0x35,
};

/* The usage (| SHIFT) of character c, 0 if no key types it. */
static uint16_t char_usage(unsigned char c)
{
    if (c >= 'a' && c <= 'z')
        return (uint16_t)(HID_A + (c - 'a'));
    if (c >= 'A' && c <= 'Z')
        return (uint16_t)(SHIFT | (HID_A + (c - 'A')));
    if (c >= '1' && c <= '9')
        return (uint16_t)(HID_1 + (c - '1'));
    return c < sizeof(ascii) / sizeof(ascii[0]) ? ascii[c] : 0;
}

/* X11 keysyms (X11/keysymdef.h's values) of keys that type no character. */
static const struct {
    uint16_t keysym, usage;
} functions[] = {
    {0xff08, 0x2a}, /* BackSpace */
    {0xff09, 0x2b}, /* Tab */
    {0xff0d, 0x28}, /* Return */
    {0xff13, 0x48}, /* Pause */
    {0xff14, 0x47}, /* Scroll_Lock */
    {0xff15, 0x46}, /* Sys_Req: Alt+Print Screen's key */
    {0xff1b, 0x29}, /* Escape */
    {0xff50, 0x4a}, /* Home */
    {0xff51, 0x50}, /* Left */
    {0xff52, 0x52}, /* Up */
    {0xff53, 0x4f}, /* Right */
    {0xff54, 0x51}, /* Down */
    {0xff55, 0x4b}, /* Prior (Page Up) */
    {0xff56, 0x4e}, /* Next (Page Down) */
    {0xff57, 0x4d}, /* End */
    {0xff61, 0x46}, /* Print */
    {0xff63, 0x49}, /* Insert */
    {0xff67, 0x65}, /* Menu */
    {0xff7f, 0x53}, /* Num_Lock */
    {0xff8d, 0x58}, /* KP_Enter */
    {0xff95, 0x5f}, /* KP_Home */
    {0xff96, 0x5c}, /* KP_Left */
    {0xff97, 0x60}, /* KP_Up */
    {0xff98, 0x5e}, /* KP_Right */
    {0xff99, 0x5a}, /* KP_Down */
    {0xff9a, 0x61}, /* KP_Prior */
    {0xff9b, 0x5b}, /* KP_Next */
    {0xff9c, 0x59}, /* KP_End */
    {0xff9d, 0x5d}, /* KP_Begin (the 5) */
    {0xff9e, 0x62}, /* KP_Insert */
    {0xff9f, 0x63}, /* KP_Delete */
    {0xffaa, 0x55}, /* KP_Multiply */
    {0xffab, 0x57}, /* KP_Add */
    {0xffac, 0x63}, /* KP_Separator: the decimal key */
    {0xffad, 0x56}, /* KP_Subtract */
    {0xffae, 0x63}, /* KP_Decimal */
    {0xffaf, 0x54}, /* KP_Divide */
    {0xffe1, 0xe1}, /* Shift_L */
    {0xffe2, 0xe5}, /* Shift_R */
    {0xffe3, 0xe0}, /* Control_L */
    {0xffe4, 0xe4}, /* Control_R */
    {0xffe5, 0x39}, /* Caps_Lock */
    {0xffe7, 0xe3}, /* Meta_L: the GUI key, as a Mac's Command key sends it */
    {0xffe8, 0xe7}, /* Meta_R */
    {0xffe9, 0xe2}, /* Alt_L */
    {0xffea, 0xe6}, /* Alt_R */
    {0xffeb, 0xe3}, /* Super_L */
    {0xffec, 0xe7}, /* Super_R */
    {0xfe03, 0xe6}, /* ISO_Level3_Shift (AltGr) */
    {0xffff, 0x4c}, /* Delete */
};

#define XK_KP_0         0xffb0
#define XK_F1           0xffbe
#define XK_ISO_LEFT_TAB 0xfe20

uint16_t keymap_keysym_to_usage(uint32_t keysym, int *shift)
{
    int s = 0;
    uint16_t usage = 0;
    if (keysym >= 0x20 && keysym <= 0x7e) {
        uint16_t u = char_usage((unsigned char)keysym);
        s = (u & SHIFT) != 0;
        usage = u & 0xff;
    } else if (keysym >= XK_KP_0 && keysym <= XK_KP_0 + 9) {
        usage = keysym == XK_KP_0 ? 0x62 : (uint16_t)(0x59 + (keysym - XK_KP_0 - 1));
    } else if (keysym >= XK_F1 && keysym < XK_F1 + 12) {
        usage = keysym < XK_F1 + 10 ? (uint16_t)(0x3a + (keysym - XK_F1))
                                    : (uint16_t)(0x44 + (keysym - XK_F1 - 10));
    } else if (keysym == XK_ISO_LEFT_TAB) {
        usage = HID_TAB; /* Shift+Tab */
        s = 1;
    } else {
        for (size_t i = 0; i < sizeof(functions) / sizeof(functions[0]); i++)
            if (functions[i].keysym == keysym)
                usage = functions[i].usage;
    }
    if (shift)
        *shift = usage ? s : 0;
    return usage;
}

/* Appends one byte at *len (kept only below max). */
static void put(uint8_t *codes, size_t max, size_t *len, uint8_t b)
{
    if (*len < max)
        codes[*len] = b;
    (*len)++;
}

static void put_key(uint8_t *codes, size_t max, size_t *len, uint16_t usage, int down)
{
    uint8_t k[KEYMAP_MAX_CODES];
    size_t n = keymap_usage_to_set1(usage, down, k);
    for (size_t i = 0; i < n; i++)
        put(codes, max, len, k[i]);
}

long keymap_text_to_set1(const char *text, uint8_t *codes, size_t max, size_t *bad)
{
    size_t len = 0;
    if (!text) {
        if (bad)
            *bad = 0;
        return -1;
    }
    for (size_t i = 0; text[i]; i++) {
        uint16_t u = char_usage((unsigned char)text[i]);
        if (!u) {
            if (bad)
                *bad = i;
            return -1;
        }
        if (u & SHIFT)
            put_key(codes, max, &len, HID_LEFT_SHIFT, 1);
        put_key(codes, max, &len, u & 0xff, 1);
        put_key(codes, max, &len, u & 0xff, 0);
        if (u & SHIFT)
            put_key(codes, max, &len, HID_LEFT_SHIFT, 0);
    }
    return (long)len;
}
