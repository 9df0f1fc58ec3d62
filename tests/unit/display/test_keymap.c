/*
 * tests/unit/display/test_keymap.c - the frontends' key table (keymap.h):
 * HID usages to set-1 bytes (plain, 0xE0 keys, Print Screen, Pause), X11
 * keysyms to usages with their shift state, US-layout text to set-1.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "display/keymap.h"

static void expect(uint16_t usage, int down, const uint8_t *want, size_t n)
{
    uint8_t got[KEYMAP_MAX_CODES];
    memset(got, 0xee, sizeof(got));
    size_t len = keymap_usage_to_set1(usage, down, got);
    ck_assert_msg(len == n, "usage 0x%02x %s: %zu bytes, want %zu", usage, down ? "down" : "up",
                  len, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "usage 0x%02x %s byte %zu: %02x, want %02x", usage,
                      down ? "down" : "up", i, got[i], want[i]);
}

/* Usage, set-1 make code, 0xE0-prefixed: one row per key of a 105-key PC
 * keyboard, from the HID Usage Tables (page 7) and the set-1 code chart. */
static const struct {
    uint16_t usage;
    uint8_t make;
    int e0;
} keys[] = {
    {0x04, 0x1e, 0}, {0x05, 0x30, 0}, {0x06, 0x2e, 0}, {0x07, 0x20, 0}, {0x08, 0x12, 0},
    {0x09, 0x21, 0}, {0x0a, 0x22, 0}, {0x0b, 0x23, 0}, {0x0c, 0x17, 0}, {0x0d, 0x24, 0},
    {0x0e, 0x25, 0}, {0x0f, 0x26, 0}, {0x10, 0x32, 0}, {0x11, 0x31, 0}, {0x12, 0x18, 0},
    {0x13, 0x19, 0}, {0x14, 0x10, 0}, {0x15, 0x13, 0}, {0x16, 0x1f, 0}, {0x17, 0x14, 0},
    {0x18, 0x16, 0}, {0x19, 0x2f, 0}, {0x1a, 0x11, 0}, {0x1b, 0x2d, 0}, {0x1c, 0x15, 0},
    {0x1d, 0x2c, 0}, /* a..z */
    {0x1e, 0x02, 0}, {0x1f, 0x03, 0}, {0x20, 0x04, 0}, {0x21, 0x05, 0}, {0x22, 0x06, 0},
    {0x23, 0x07, 0}, {0x24, 0x08, 0}, {0x25, 0x09, 0}, {0x26, 0x0a, 0}, {0x27, 0x0b, 0},
    {0x28, 0x1c, 0}, /* Enter */
    {0x29, 0x01, 0}, /* Escape */
    {0x2a, 0x0e, 0}, /* Backspace */
    {0x2b, 0x0f, 0}, /* Tab */
    {0x2c, 0x39, 0}, /* Space */
    {0x2d, 0x0c, 0}, {0x2e, 0x0d, 0}, {0x2f, 0x1a, 0}, {0x30, 0x1b, 0}, {0x31, 0x2b, 0},
    {0x32, 0x2b, 0}, {0x33, 0x27, 0}, {0x34, 0x28, 0}, {0x35, 0x29, 0}, {0x36, 0x33, 0},
    {0x37, 0x34, 0}, {0x38, 0x35, 0}, {0x39, 0x3a, 0}, /* Caps Lock */
    {0x3a, 0x3b, 0}, {0x3b, 0x3c, 0}, {0x3c, 0x3d, 0}, {0x3d, 0x3e, 0}, {0x3e, 0x3f, 0},
    {0x3f, 0x40, 0}, {0x40, 0x41, 0}, {0x41, 0x42, 0}, {0x42, 0x43, 0}, {0x43, 0x44, 0},
    {0x44, 0x57, 0}, {0x45, 0x58, 0}, /* F1..F12 */
    {0x47, 0x46, 0},                  /* Scroll Lock */
    {0x49, 0x52, 1}, {0x4a, 0x47, 1}, {0x4b, 0x49, 1}, {0x4c, 0x53, 1}, {0x4d, 0x4f, 1},
    {0x4e, 0x51, 1}, {0x4f, 0x4d, 1}, {0x50, 0x4b, 1}, {0x51, 0x50, 1}, {0x52, 0x48, 1},
    {0x53, 0x45, 0}, /* Num Lock */
    {0x54, 0x35, 1}, {0x55, 0x37, 0}, {0x56, 0x4a, 0}, {0x57, 0x4e, 0}, {0x58, 0x1c, 1},
    {0x59, 0x4f, 0}, {0x5a, 0x50, 0}, {0x5b, 0x51, 0}, {0x5c, 0x4b, 0}, {0x5d, 0x4c, 0},
    {0x5e, 0x4d, 0}, {0x5f, 0x47, 0}, {0x60, 0x48, 0}, {0x61, 0x49, 0}, {0x62, 0x52, 0},
    {0x63, 0x53, 0}, /* keypad */
    {0x64, 0x56, 0}, /* Non-US \ */
    {0x65, 0x5d, 1}, /* Application (Menu) */
    {0xe0, 0x1d, 0}, {0xe1, 0x2a, 0}, {0xe2, 0x38, 0}, {0xe3, 0x5b, 1}, {0xe4, 0x1d, 1},
    {0xe5, 0x36, 0}, {0xe6, 0x38, 1}, {0xe7, 0x5c, 1}, /* modifiers */
};

START_TEST(test_usages)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        uint8_t make[2] = {0xe0, keys[i].make}, brk[2] = {0xe0, keys[i].make | 0x80};
        expect(keys[i].usage, 1, make + !keys[i].e0, 1 + keys[i].e0);
        expect(keys[i].usage, 0, brk + !keys[i].e0, 1 + keys[i].e0);
    }
    /* with Print Screen and Pause (test_special_keys): the 105 keys of an
     * ISO keyboard and the ANSI one's \ (the ISO one's Non-US # sends the
     * same code) */
    ck_assert_uint_eq(sizeof(keys) / sizeof(keys[0]) + 2, 106);
}
END_TEST

START_TEST(test_special_keys)
{
    static const uint8_t prt_down[] = {0xe0, 0x2a, 0xe0, 0x37};
    static const uint8_t prt_up[] = {0xe0, 0xb7, 0xe0, 0xaa};
    static const uint8_t pause[] = {0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5};
    expect(0x46, 1, prt_down, sizeof(prt_down));
    expect(0x46, 0, prt_up, sizeof(prt_up));
    expect(0x48, 1, pause, sizeof(pause));
    expect(0x48, 0, NULL, 0); /* Pause has no release */
    /* usages with no PC key */
    expect(0x00, 1, NULL, 0);
    expect(0x03, 1, NULL, 0);
    expect(0x66, 1, NULL, 0);
    expect(0xa5, 1, NULL, 0);
    expect(0xe8, 1, NULL, 0);
    expect(0xffff, 0, NULL, 0);
}
END_TEST

static void sym(uint32_t keysym, uint16_t usage, int shift)
{
    int s = -1;
    ck_assert_msg(keymap_keysym_to_usage(keysym, &s) == usage, "keysym 0x%x: 0x%x, want 0x%x",
                  keysym, keymap_keysym_to_usage(keysym, NULL), usage);
    ck_assert_msg(s == shift, "keysym 0x%x: shift %d", keysym, s);
}

START_TEST(test_keysyms)
{
    sym('a', 0x04, 0);
    sym('A', 0x04, 1);
    sym('z', 0x1d, 0);
    sym('Z', 0x1d, 1);
    sym('1', 0x1e, 0);
    sym('!', 0x1e, 1);
    sym('0', 0x27, 0);
    sym(')', 0x27, 1);
    sym('@', 0x1f, 1);
    sym(' ', 0x2c, 0);
    sym('-', 0x2d, 0);
    sym('_', 0x2d, 1);
    sym('=', 0x2e, 0);
    sym('+', 0x2e, 1);
    sym('[', 0x2f, 0);
    sym('{', 0x2f, 1);
    sym('\\', 0x31, 0);
    sym('|', 0x31, 1);
    sym(';', 0x33, 0);
    sym(':', 0x33, 1);
    sym('\'', 0x34, 0);
    sym('"', 0x34, 1);
    sym('`', 0x35, 0);
    sym('~', 0x35, 1);
    sym(',', 0x36, 0);
    sym('<', 0x36, 1);
    sym('.', 0x37, 0);
    sym('>', 0x37, 1);
    sym('/', 0x38, 0);
    sym('?', 0x38, 1);
    sym(0xff08, 0x2a, 0); /* BackSpace */
    sym(0xff09, 0x2b, 0); /* Tab */
    sym(0xfe20, 0x2b, 1); /* ISO_Left_Tab */
    sym(0xff0d, 0x28, 0); /* Return */
    sym(0xff1b, 0x29, 0); /* Escape */
    sym(0xffff, 0x4c, 0); /* Delete */
    sym(0xff50, 0x4a, 0); /* Home */
    sym(0xff57, 0x4d, 0); /* End */
    sym(0xff55, 0x4b, 0); /* Prior */
    sym(0xff56, 0x4e, 0); /* Next */
    sym(0xff51, 0x50, 0); /* Left */
    sym(0xff52, 0x52, 0); /* Up */
    sym(0xff53, 0x4f, 0); /* Right */
    sym(0xff54, 0x51, 0); /* Down */
    sym(0xff63, 0x49, 0); /* Insert */
    sym(0xff61, 0x46, 0); /* Print */
    sym(0xff13, 0x48, 0); /* Pause */
    sym(0xff67, 0x65, 0); /* Menu */
    sym(0xffbe, 0x3a, 0); /* F1 */
    sym(0xffc7, 0x43, 0); /* F10 */
    sym(0xffc8, 0x44, 0); /* F11 */
    sym(0xffc9, 0x45, 0); /* F12 */
    sym(0xffca, 0, 0);    /* F13: no PC key */
    sym(0xffe1, 0xe1, 0); /* Shift_L */
    sym(0xffe2, 0xe5, 0);
    sym(0xffe3, 0xe0, 0); /* Control_L */
    sym(0xffe4, 0xe4, 0);
    sym(0xffe9, 0xe2, 0); /* Alt_L */
    sym(0xffea, 0xe6, 0);
    sym(0xffe7, 0xe3, 0); /* Meta_L */
    sym(0xffeb, 0xe3, 0); /* Super_L */
    sym(0xffec, 0xe7, 0);
    sym(0xffe5, 0x39, 0); /* Caps_Lock */
    sym(0xff7f, 0x53, 0); /* Num_Lock */
    sym(0xff14, 0x47, 0); /* Scroll_Lock */
    sym(0xffb0, 0x62, 0); /* KP_0 */
    sym(0xffb1, 0x59, 0); /* KP_1 */
    sym(0xffb9, 0x61, 0); /* KP_9 */
    sym(0xff95, 0x5f, 0); /* KP_Home: the 7 */
    sym(0xff9f, 0x63, 0); /* KP_Delete */
    sym(0xff8d, 0x58, 0); /* KP_Enter */
    sym(0xffaa, 0x55, 0); /* KP_Multiply */
    sym(0xffab, 0x57, 0);
    sym(0xffad, 0x56, 0);
    sym(0xffae, 0x63, 0);
    sym(0xffaf, 0x54, 0);
    sym(0x00e9, 0, 0); /* eacute: no key of the US layout */
    sym(0x1f, 0, 0);
    sym(0x7f, 0, 0);
    ck_assert_uint_eq(keymap_keysym_to_usage('q', NULL), 0x14);
}
END_TEST

START_TEST(test_text)
{
    static const uint8_t want[] = {
        0x2a, 0x23, 0xa3, 0xaa,                         /* H */
        0x12, 0x92, 0x26, 0xa6, 0x26, 0xa6, 0x18, 0x98, /* ello */
        0x33, 0xb3, 0x39, 0xb9,                         /* ", " */
        0x2a, 0x11, 0x91, 0xaa,                         /* W */
        0x18, 0x98, 0x13, 0x93, 0x26, 0xa6, 0x20, 0xa0, /* orld */
        0x2a, 0x02, 0x82, 0xaa,                         /* ! */
        0x1c, 0x9c,                                     /* \n */
    };
    uint8_t got[64];
    size_t bad = 99;
    ck_assert_int_eq(keymap_text_to_set1("Hello, World!\n", got, sizeof(got), &bad), sizeof(want));
    ck_assert_int_eq(memcmp(got, want, sizeof(want)), 0);
    ck_assert_uint_eq(bad, 99);
    /* short room: the length in all, nothing past max */
    memset(got, 0xee, sizeof(got));
    ck_assert_int_eq(keymap_text_to_set1("Hello, World!\n", got, 5, NULL), sizeof(want));
    ck_assert_int_eq(memcmp(got, want, 5), 0);
    ck_assert_uint_eq(got[5], 0xee);
    ck_assert_int_eq(keymap_text_to_set1("ab", NULL, 0, NULL), 4);
    ck_assert_int_eq(keymap_text_to_set1("", got, sizeof(got), NULL), 0);
    /* tab and every printable character */
    ck_assert_int_eq(keymap_text_to_set1("\t", got, sizeof(got), NULL), 2);
    ck_assert_uint_eq(got[0], 0x0f);
    for (int c = 0x20; c < 0x7f; c++) {
        char s[2] = {(char)c, 0};
        long n = keymap_text_to_set1(s, got, sizeof(got), NULL);
        ck_assert_msg(n == 2 || n == 4, "'%c': %ld", c, n);
    }
    /* characters no key types: -1 and where */
    ck_assert_int_eq(keymap_text_to_set1("ok\x01", got, sizeof(got), &bad), -1);
    ck_assert_uint_eq(bad, 2);
    ck_assert_int_eq(keymap_text_to_set1("caf\xc3\xa9", got, sizeof(got), &bad), -1);
    ck_assert_uint_eq(bad, 3);
    ck_assert_int_eq(keymap_text_to_set1("\r", got, sizeof(got), &bad), -1);
    ck_assert_uint_eq(bad, 0);
    ck_assert_int_eq(keymap_text_to_set1("x\x7f", got, sizeof(got), &bad), -1);
    ck_assert_uint_eq(bad, 1);
    bad = 99;
    ck_assert_int_eq(keymap_text_to_set1(NULL, got, sizeof(got), &bad), -1);
    ck_assert_uint_eq(bad, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("keymap");
    TCase *tc = tcase_create("keymap");
    tcase_add_test(tc, test_usages);
    tcase_add_test(tc, test_special_keys);
    tcase_add_test(tc, test_keysyms);
    tcase_add_test(tc, test_text);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
