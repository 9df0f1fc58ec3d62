/*
 * tests/unit/sdl/test_sdl.c - the SDL frontend's decisions without SDL
 * (plugins/frontends/sdl/sdl_internal.h): what the title says, where the
 * picture goes in the window and how the pointer maps onto a tablet, that
 * the host key never reaches the guest and held keys are released, when
 * the window follows the guest's resolution, what closing it does.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sdl_internal.h"

START_TEST(test_title)
{
    char t[128];
    sdlfe_title(t, sizeof(t), "demo", VM_STATE_RUNNING, false);
    ck_assert_str_eq(t, "demo [Running] - Capsule");
    sdlfe_title(t, sizeof(t), "demo", VM_STATE_PAUSED, false);
    ck_assert_str_eq(t, "demo [Paused] - Capsule");
    sdlfe_title(t, sizeof(t), "my vm", VM_STATE_POWERED_OFF, false);
    ck_assert_str_eq(t, "my vm [Powered Off] - Capsule");
    sdlfe_title(t, sizeof(t), "demo", VM_STATE_RUNNING, true);
    ck_assert_str_eq(t, "demo [Running] - Capsule - Right Ctrl releases the mouse");
    sdlfe_title(t, sizeof(t), NULL, VM_STATE_CREATED, false);
    ck_assert_str_eq(t, "capsule-vm [Starting] - Capsule");
    sdlfe_title(t, 8, "a-long-name", VM_STATE_ABORTED, false);
    ck_assert_str_eq(t, "a-long-"); /* truncated, terminated */
}
END_TEST

START_TEST(test_fit)
{
    struct sdlfe_rect r;
    sdlfe_fit(720, 400, 720, 400, &r); /* unscaled */
    ck_assert(r.x == 0 && r.y == 0 && r.w == 720 && r.h == 400);
    sdlfe_fit(1440, 800, 720, 400, &r); /* twice */
    ck_assert(r.x == 0 && r.y == 0 && r.w == 1440 && r.h == 800);
    sdlfe_fit(1000, 400, 720, 400, &r); /* wider window: bars left and right */
    ck_assert_int_eq(r.w, 720);
    ck_assert_int_eq(r.h, 400);
    ck_assert_int_eq(r.x, 140);
    ck_assert_int_eq(r.y, 0);
    sdlfe_fit(640, 640, 640, 480, &r); /* taller window: bars above and below */
    ck_assert(r.w == 640 && r.h == 480 && r.x == 0 && r.y == 80);
    sdlfe_fit(320, 240, 1024, 768, &r); /* smaller */
    ck_assert(r.w == 320 && r.h == 240 && r.x == 0 && r.y == 0);
    sdlfe_fit(0, 240, 1024, 768, &r);
    ck_assert_int_eq(r.w, 0);
    sdlfe_fit(320, 240, 0, 0, &r);
    ck_assert_int_eq(r.w, 0);
    sdlfe_fit(1, 1, 65535, 1, &r); /* absurd aspect: at least a pixel */
    ck_assert(r.w == 1 && r.h == 1);
}
END_TEST

START_TEST(test_to_abs)
{
    struct sdlfe_rect pic = {140, 0, 720, 400};
    uint32_t x, y;
    ck_assert(sdlfe_to_abs(&pic, 140, 0, 0x7fff, &x, &y));
    ck_assert(x == 0 && y == 0);
    ck_assert(sdlfe_to_abs(&pic, 140 + 719, 399, 0x7fff, &x, &y));
    ck_assert(x == 0x7fff && y == 0x7fff);
    ck_assert(sdlfe_to_abs(&pic, 0, -5, 0x7fff, &x, &y)); /* on the bars: clamped */
    ck_assert(x == 0 && y == 0);
    ck_assert(sdlfe_to_abs(&pic, 5000, 5000, 0x7fff, &x, &y));
    ck_assert(x == 0x7fff && y == 0x7fff);
    ck_assert(sdlfe_to_abs(&pic, 140 + 360, 200, 0x7fff, &x, &y)); /* the middle */
    ck_assert_uint_eq(x, 360u * 0x7fff / 719);
    ck_assert_uint_eq(y, 200u * 0x7fff / 399);
    struct sdlfe_rect none = {0, 0, 0, 0};
    ck_assert(!sdlfe_to_abs(&none, 1, 1, 0x7fff, &x, &y));
}
END_TEST

START_TEST(test_rect_union)
{
    struct sdlfe_rect acc = {0, 0, 0, 0}, a = {10, 20, 5, 5}, b = {0, 30, 2, 2}, e = {3, 3, 0, 9};
    sdlfe_rect_union(&acc, &a);
    ck_assert(acc.x == 10 && acc.y == 20 && acc.w == 5 && acc.h == 5);
    sdlfe_rect_union(&acc, &b);
    ck_assert(acc.x == 0 && acc.y == 20 && acc.w == 15 && acc.h == 12);
    sdlfe_rect_union(&acc, &e); /* empty: no change */
    ck_assert(acc.x == 0 && acc.y == 20 && acc.w == 15 && acc.h == 12);
}
END_TEST

START_TEST(test_host_key)
{
    struct sdlfe_keys k = {0};
    /* Right Ctrl is the host's, pressed or released, held or not */
    ck_assert_int_eq(sdlfe_key(&k, SDLFE_HOST_KEY, true), SDLFE_KEY_HOST);
    ck_assert_int_eq(sdlfe_key(&k, SDLFE_HOST_KEY, false), SDLFE_KEY_HOST);
    ck_assert_int_eq(sdlfe_key(&k, 0xE4, true), SDLFE_KEY_HOST);
    /* Left Ctrl (0xE0) and the other keys are the guest's */
    ck_assert_int_eq(sdlfe_key(&k, 0xE0, true), SDLFE_KEY_GUEST);
    ck_assert_int_eq(sdlfe_key(&k, 0x04, true), SDLFE_KEY_GUEST); /* a */
    ck_assert_int_eq(sdlfe_key(&k, 0x04, true), SDLFE_KEY_GUEST); /* typematic repeat */
    ck_assert_int_eq(sdlfe_key(&k, 0x04, false), SDLFE_KEY_GUEST);
    /* a release the guest never saw the press of (pressed before the focus) */
    ck_assert_int_eq(sdlfe_key(&k, 0x05, false), SDLFE_KEY_IGNORE);
    ck_assert_int_eq(sdlfe_key(&k, 0x04, false), SDLFE_KEY_IGNORE);
    /* no usage, or past the table */
    ck_assert_int_eq(sdlfe_key(&k, 0, true), SDLFE_KEY_IGNORE);
    ck_assert_int_eq(sdlfe_key(&k, 300, true), SDLFE_KEY_IGNORE);
    ck_assert_int_eq(sdlfe_key(&k, 512, false), SDLFE_KEY_IGNORE);
}
END_TEST

START_TEST(test_release_all)
{
    struct sdlfe_keys k = {0};
    uint16_t u[8];
    sdlfe_key(&k, 0xE1, true); /* Left Shift */
    sdlfe_key(&k, 0x04, true);
    sdlfe_key(&k, SDLFE_HOST_KEY, true); /* not the guest's: not released to it */
    sdlfe_key(&k, 0x05, true);
    sdlfe_key(&k, 0x05, false);
    ck_assert_uint_eq(sdlfe_keys_release_all(&k, u, 8), 2);
    ck_assert_uint_eq(u[0], 0x04);
    ck_assert_uint_eq(u[1], 0xE1);
    ck_assert_uint_eq(sdlfe_keys_release_all(&k, u, 8), 0); /* forgotten */
    ck_assert_int_eq(sdlfe_key(&k, 0x04, false), SDLFE_KEY_IGNORE);
    for (unsigned i = 4; i < 20; i++)
        sdlfe_key(&k, i, true);
    ck_assert_uint_eq(sdlfe_keys_release_all(&k, u, 8), 8); /* bounded by max */
}
END_TEST

START_TEST(test_window_size)
{
    struct sdlfe_size s = {640, 480, false};
    unsigned w, h;
    /* the window follows the guest's modes */
    ck_assert(sdlfe_size_guest(&s, 720, 400, 1024, 768, &w, &h));
    ck_assert(w == 720 && h == 400);
    sdlfe_size_window(&s, 720, 400); /* our own resize coming back */
    ck_assert(!s.user_sized);
    /* a mode larger than the desktop: shrunk, aspect kept */
    ck_assert(sdlfe_size_guest(&s, 2048, 1536, 1024, 700, &w, &h));
    ck_assert_uint_eq(h, 700);
    ck_assert_uint_eq(w, 933);
    ck_assert(sdlfe_size_guest(&s, 2048, 1536, 0, 0, &w, &h)); /* desktop unknown */
    ck_assert(w == 2048 && h == 1536);
    /* a tiny mode (an unprogrammed VGA's 9x1): the smallest window */
    ck_assert(sdlfe_size_guest(&s, 9, 1, 1024, 768, &w, &h));
    ck_assert(w == SDLFE_MIN_W && h == SDLFE_MIN_H);
    ck_assert(sdlfe_size_guest(&s, 320, 100, 1024, 768, &w, &h));
    ck_assert(w == 320 && h == SDLFE_MIN_H);
    /* the user resizes: from then on the window keeps its size */
    sdlfe_size_window(&s, 1000, 600);
    ck_assert(s.user_sized);
    ck_assert(!sdlfe_size_guest(&s, 640, 480, 1024, 768, &w, &h));
    struct sdlfe_size z = {640, 480, false};
    ck_assert(!sdlfe_size_guest(&z, 0, 480, 1024, 768, &w, &h));
}
END_TEST

START_TEST(test_close)
{
    struct sdlfe_close c = {0};
    /* first close of a running VM: the power button, a deadline */
    ck_assert_int_eq(sdlfe_close(&c, VM_STATE_RUNNING, 1000, 10000), SDLFE_CLOSE_POWER_BUTTON);
    ck_assert(!sdlfe_close_overdue(&c, VM_STATE_RUNNING, 1000 + 9999 * 1000000ull));
    ck_assert(sdlfe_close_overdue(&c, VM_STATE_RUNNING, 1000 + 10000 * 1000000ull));
    ck_assert(!sdlfe_close_overdue(&c, VM_STATE_POWERED_OFF, 1000 + 10000 * 1000000ull));
    /* a second close: power off now */
    ck_assert_int_eq(sdlfe_close(&c, VM_STATE_RUNNING, 2000, 10000), SDLFE_CLOSE_POWER_OFF);
    /* a paused VM cannot see the button */
    struct sdlfe_close p = {0};
    ck_assert_int_eq(sdlfe_close(&p, VM_STATE_PAUSED, 0, 10000), SDLFE_CLOSE_POWER_OFF);
    /* a stopped one: nothing to do */
    struct sdlfe_close o = {0};
    ck_assert_int_eq(sdlfe_close(&o, VM_STATE_POWERED_OFF, 0, 10000), SDLFE_CLOSE_NOTHING);
    ck_assert_int_eq(sdlfe_close(&o, VM_STATE_ABORTED, 0, 10000), SDLFE_CLOSE_NOTHING);
    ck_assert(!sdlfe_close_overdue(&o, VM_STATE_RUNNING, 1ull << 62)); /* never closed */
}
END_TEST

START_TEST(test_close_wait)
{
    ck_assert_uint_eq(sdlfe_close_wait_ms(NULL), 10000);
    ck_assert_uint_eq(sdlfe_close_wait_ms("3"), 3000);
    ck_assert_uint_eq(sdlfe_close_wait_ms("0"), 0);
    ck_assert_uint_eq(sdlfe_close_wait_ms("3600"), 3600000);
    ck_assert_uint_eq(sdlfe_close_wait_ms("3601"), 10000);
    ck_assert_uint_eq(sdlfe_close_wait_ms("-1"), 10000);
    ck_assert_uint_eq(sdlfe_close_wait_ms("5s"), 10000);
    ck_assert_uint_eq(sdlfe_close_wait_ms(""), 10000);
    ck_assert_uint_eq(sdlfe_close_wait_ms("99999999999999999999"), 10000);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sdl");
    TCase *tc = tcase_create("title");
    tcase_add_test(tc, test_title);
    suite_add_tcase(s, tc);
    tc = tcase_create("scaling");
    tcase_add_test(tc, test_fit);
    tcase_add_test(tc, test_to_abs);
    tcase_add_test(tc, test_rect_union);
    suite_add_tcase(s, tc);
    tc = tcase_create("keys");
    tcase_add_test(tc, test_host_key);
    tcase_add_test(tc, test_release_all);
    suite_add_tcase(s, tc);
    tc = tcase_create("window");
    tcase_add_test(tc, test_window_size);
    tcase_add_test(tc, test_close);
    tcase_add_test(tc, test_close_wait);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
