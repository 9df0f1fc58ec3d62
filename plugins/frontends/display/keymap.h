/*
 * plugins/frontends/display/keymap.h - keys as frontends get them, turned
 * into what the guest's keyboard sends: PC scancode set 1 (as the guest
 * reads it from a translating i8042, pdm_keyboard_put).
 *
 * One table, keyed by USB HID usage (page 7: SDL2's scancodes are these
 * numbers); X11 keysyms (VNC's RFB key events) and characters (a US
 * keyboard layout, for IKeyboard's putString and keyboardputstring) map to
 * a usage plus the shift state they need.
 */
#ifndef PLUGINS_FRONTENDS_KEYMAP_H
#define PLUGINS_FRONTENDS_KEYMAP_H

#include <stddef.h>
#include <stdint.h>

/* The longest set-1 sequence one press or release makes (Pause: 6). */
#define KEYMAP_MAX_CODES 6

/* Set-1 bytes for pressing (down != 0) or releasing HID usage `usage`
 * into codes[KEYMAP_MAX_CODES]; returns how many, 0 for a usage with no
 * PC key. Releases of extended keys carry the 0xE0 prefix; Pause has no
 * release bytes. */
size_t keymap_usage_to_set1(uint16_t usage, int down, uint8_t codes[KEYMAP_MAX_CODES]);

/* The HID usage of X11 keysym `keysym` (as RFB sends it), 0 if none.
 * *shift (may be NULL) gets 1 when the keysym is the shifted face of the
 * key (e.g. XK_exclam on the '1' key), else 0. */
uint16_t keymap_keysym_to_usage(uint32_t keysym, int *shift);

/* Set-1 bytes that type `text` (UTF-8; US layout: printable ASCII, '\n' as
 * Enter, '\t' as Tab) into codes (at most `max`): press and release of
 * each key, with Left Shift around the shifted ones. Returns the number of
 * bytes needed in all (more than `max`: nothing beyond `max` written), or
 * -1 with *bad set to the byte offset of the first character no key types
 * (0 for a NULL text). */
long keymap_text_to_set1(const char *text, uint8_t *codes, size_t max, size_t *bad);

#endif /* PLUGINS_FRONTENDS_KEYMAP_H */
