/*
 * tests/unit/vnc/test_vnc.c - the VNC server's pure logic, `scons
 * check-vnc`: capsule-vm's --vrde text, the password file's rules (its
 * mode, its first line), the stage between the hub and the server (sizes,
 * rectangles, conversion), a client's keys (keysyms to set-1 bytes, with
 * the shift fix-ups and the keys held) and its pointer (RFB masks and
 * positions to the guest's absolute and relative events).
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capsule/capsule.h>
#include <capsule/errorinfo.h>

#include "pdmdev.h"
#include "vnc/vnc.h"
#include "vnc/vnc_internal.h"

/* ---- --vrde ------------------------------------------------------------------ */

static int parse(const char *text, struct vnc_config *cfg, const char **pwfile, char *err)
{
    static char buf[256];
    snprintf(buf, sizeof(buf), "%s", text);
    return vnc_parse_spec(buf, cfg, pwfile, err, 160);
}

START_TEST(test_spec)
{
    struct vnc_config c;
    const char *pw;
    char err[160];
    ck_assert_int_eq(parse("port=5901", &c, &pw, err), 0);
    ck_assert_uint_eq(c.port, 5901);
    ck_assert_ptr_null(c.address);
    ck_assert_ptr_null(pw);
    ck_assert_int_eq(parse("address=0.0.0.0,port=0,password-file=/x/y", &c, &pw, err), 0);
    ck_assert_uint_eq(c.port, 0);
    ck_assert_str_eq(c.address, "0.0.0.0");
    ck_assert_str_eq(pw, "/x/y");
    static const struct {
        const char *spec, *why;
    } bad[] = {
        {"", "'' is not key=value"},
        {"address=1.2.3.4", "no port="},
        {"port=65536", "not a number in 0..65535"},
        {"port=-1", "not a number"},
        {"port=", "not a number"},
        {"port=1,colour=red", "unknown key 'colour'"},
        {"port=1,address=", "address= is empty"},
        {"port=1,password-file=", "password-file= is empty"},
        {"port=1,,address=x", "'' is not key=value"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_int_eq(parse(bad[i].spec, &c, &pw, err), -1);
        ck_assert_msg(strstr(err, bad[i].why), "'%s': '%s' lacks '%s'", bad[i].spec, err,
                      bad[i].why);
    }
}
END_TEST

START_TEST(test_password_file)
{
    char dir[] = "/tmp/vnc-test-XXXXXX", path[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/pw", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "s3cret\nsecond line\n", 19), 19);
    close(fd);
    char *pw = NULL;
    ck_assert_int_eq(vnc_read_password_file(path, &pw), CAP_OK);
    ck_assert_str_eq(pw, "s3cret");
    free(pw);
    /* readable by others: refused, the mode named */
    ck_assert_int_eq(chmod(path, 0644), 0);
    ck_assert_int_eq(vnc_read_password_file(path, &pw), CAP_E_FILE_ERROR);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "chmod 600"));
    ck_assert_ptr_null(pw);
    /* an empty first line */
    ck_assert_int_eq(chmod(path, 0600), 0);
    fd = open(path, O_WRONLY | O_TRUNC);
    ck_assert_int_eq(write(fd, "\nx\n", 3), 3);
    close(fd);
    ck_assert_int_eq(vnc_read_password_file(path, &pw), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "holds no password"));
    unlink(path);
    ck_assert_int_eq(vnc_read_password_file(path, &pw), CAP_E_FILE_ERROR);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), path));
    /* a folder is not a password file */
    ck_assert_int_eq(vnc_read_password_file(dir, &pw), CAP_E_FILE_ERROR);
    rmdir(dir);
}
END_TEST

/* ---- keys ----------------------------------------------------------------------- */

/* One key event, whose bytes must be `want` ("1e 9e"). */
static void key(struct vnc_keys *k, uint32_t keysym, int down, const char *want)
{
    char text[3 * VNC_KEYS_MAX_CODES + 1] = "";
    uint8_t codes[VNC_KEYS_MAX_CODES];
    size_t n = vnc_keys_event(k, keysym, down, codes);
    for (size_t i = 0; i < n; i++)
        sprintf(text + strlen(text), "%s%02x", i ? " " : "", codes[i]);
    ck_assert_msg(!strcmp(text, want), "keysym 0x%x %s: '%s', want '%s'", (unsigned)keysym,
                  down ? "down" : "up", text, want);
}

START_TEST(test_keys)
{
    struct vnc_keys k = {0};
    key(&k, 'a', 1, "1e");
    key(&k, 'a', 1, "1e"); /* the client's auto-repeat */
    key(&k, 'a', 0, "9e");
    key(&k, 'a', 0, ""); /* not held any more */
    /* a shifted face with no shift held: Left Shift around the press */
    key(&k, 'A', 1, "2a 1e aa");
    key(&k, 'A', 0, "9e");
    /* the client holds shift itself (as a real keyboard does): no fix-up */
    key(&k, 0xffe1 /* Shift_L */, 1, "2a");
    key(&k, '!', 1, "02");
    key(&k, '!', 0, "82");
    /* an unshifted face while shift is held: shift let go around it */
    key(&k, '1', 1, "aa 02 2a");
    key(&k, '1', 0, "82");
    key(&k, 0xffe1, 0, "aa");
    /* extended keys carry 0xE0 both ways */
    key(&k, 0xff53 /* Right */, 1, "e0 4d");
    key(&k, 0xff53, 0, "e0 cd");
    /* a keysym no PC key has */
    key(&k, 0x1234567, 1, "");
    key(&k, 0x1234567, 0, "");
    /* what a client still holds when it goes: released, each once */
    key(&k, 'q', 1, "10");
    key(&k, 0xffe3 /* Control_L */, 1, "1d");
    uint8_t codes[VNC_KEYS_MAX_CODES];
    ck_assert_uint_eq(vnc_keys_release_next(&k, codes), 1);
    ck_assert_uint_eq(codes[0], 0x90); /* q */
    ck_assert_uint_eq(vnc_keys_release_next(&k, codes), 1);
    ck_assert_uint_eq(codes[0], 0x9d); /* Left Ctrl */
    ck_assert_uint_eq(vnc_keys_release_next(&k, codes), 0);
    key(&k, 'q', 0, "");
}
END_TEST

/* ---- pointer ------------------------------------------------------------------ */

START_TEST(test_pointer)
{
    struct vnc_pointer p = {0};
    struct vnc_pointer_event ev;
    vnc_pointer_translate(&p, 0, 0, 0, 640, 480, &ev);
    ck_assert_uint_eq(ev.abs_x, 0);
    ck_assert_uint_eq(ev.abs_y, 0);
    ck_assert_int_eq(ev.dx, 0); /* the first event moves nothing */
    vnc_pointer_translate(&p, 1, 639, 479, 640, 480, &ev);
    ck_assert_uint_eq(ev.abs_x, PDM_MOUSE_ABS_MAX);
    ck_assert_uint_eq(ev.abs_y, PDM_MOUSE_ABS_MAX);
    ck_assert_int_eq(ev.dx, 639);
    ck_assert_int_eq(ev.dy, 479);
    ck_assert_uint_eq(ev.buttons, PDM_MOUSE_LEFT);
    ck_assert(ev.buttons_changed);
    /* the middle of the screen; past its edge is clamped */
    vnc_pointer_translate(&p, 4 | 2, 5000, -3, 640, 480, &ev);
    ck_assert_uint_eq(ev.abs_x, PDM_MOUSE_ABS_MAX);
    ck_assert_uint_eq(ev.abs_y, 0);
    ck_assert_int_eq(ev.dx, 0);
    ck_assert_int_eq(ev.dy, -479);
    ck_assert_uint_eq(ev.buttons, PDM_MOUSE_RIGHT | PDM_MOUSE_MIDDLE);
    ck_assert(ev.buttons_changed);
    vnc_pointer_translate(&p, 4 | 2, 600, 0, 640, 480, &ev);
    ck_assert(!ev.buttons_changed); /* a move with the same buttons */
    ck_assert_int_eq(ev.dx, -39);
    /* the wheel counts when its bit appears, down is towards the user */
    vnc_pointer_translate(&p, 16, 10, 10, 640, 480, &ev);
    ck_assert_int_eq(ev.dz, 1);
    ck_assert_uint_eq(ev.buttons, 0);
    vnc_pointer_translate(&p, 16, 10, 10, 640, 480, &ev);
    ck_assert_int_eq(ev.dz, 0);
    vnc_pointer_translate(&p, 8, 10, 10, 640, 480, &ev);
    ck_assert_int_eq(ev.dz, -1);
    vnc_pointer_translate(&p, 0, 319, 240, 639, 481, &ev);
    ck_assert_uint_eq(ev.abs_x, PDM_MOUSE_ABS_MAX / 2);
    ck_assert_uint_eq(ev.abs_y, PDM_MOUSE_ABS_MAX / 2);
    /* a 1x1 or empty screen */
    vnc_pointer_translate(&p, 0, 3, 3, 1, 0, &ev);
    ck_assert_uint_eq(ev.abs_x, 0);
    ck_assert_uint_eq(ev.abs_y, 0);
}
END_TEST

/* ---- the stage -------------------------------------------------------------------- */

START_TEST(test_stage)
{
    struct vnc_stage st;
    vnc_stage_init(&st, 0, 8, 16); /* the server's pixels: R low, B high */
    uint32_t *fb = NULL, src[4 * 3];
    unsigned w = 640, h = 480, n = 0; /* the server's picture before the hub's */
    struct vnc_rect rects[VNC_STAGE_RECTS];
    for (unsigned i = 0; i < 12; i++)
        src[i] = 0x00102030u + i; /* XRGB */
    /* nothing yet: no picture to take */
    ck_assert_int_eq(vnc_stage_take(&st, &fb, &w, &h, rects, &n), -1);
    ck_assert_int_eq(vnc_stage_resize(&st, 0, 3), -1);
    ck_assert_int_eq(vnc_stage_resize(&st, 4, 3), 0);
    vnc_stage_update(&st, src, 4, 0, 0, 4, 3);
    /* after a resize: the whole picture, converted */
    ck_assert_int_eq(vnc_stage_take(&st, &fb, &w, &h, rects, &n), 1);
    ck_assert_uint_eq(w, 4);
    ck_assert_uint_eq(h, 3);
    ck_assert_uint_eq(fb[0], 0x00302010u);
    ck_assert_uint_eq(fb[11], 0x003b2010u);
    /* then rectangles: clipped, listed, copied */
    for (unsigned i = 0; i < 12; i++)
        src[i] = 0x00ff0000u;
    vnc_stage_update(&st, src, 4, 3, 2, 5, 5);
    vnc_stage_update(&st, src, 4, 9, 9, 1, 1); /* outside: nothing */
    ck_assert_int_eq(vnc_stage_take(&st, &fb, &w, &h, rects, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(rects[0].x, 3);
    ck_assert_uint_eq(rects[0].y, 2);
    ck_assert_uint_eq(rects[0].w, 1);
    ck_assert_uint_eq(rects[0].h, 1);
    ck_assert_uint_eq(fb[11], 0x000000ffu);
    ck_assert_uint_eq(fb[10], 0x003a2010u); /* untouched */
    ck_assert_int_eq(vnc_stage_take(&st, &fb, &w, &h, rects, &n), 0);
    ck_assert_uint_eq(n, 0); /* taken: nothing new */
    /* more rectangles than the list holds: their bounding box */
    for (unsigned i = 0; i < VNC_STAGE_RECTS + 3; i++)
        vnc_stage_update(&st, src, 4, i % 4, i % 3 == 0 ? 1 : 2, 1, 1);
    ck_assert_int_eq(vnc_stage_take(&st, &fb, &w, &h, rects, &n), 0);
    ck_assert_uint_le(n, VNC_STAGE_RECTS);
    unsigned covered = 0;
    for (unsigned i = 0; i < n; i++)
        covered |= rects[i].x == 0 && rects[i].y <= 1 && rects[i].x + rects[i].w == 4 &&
                   rects[i].y + rects[i].h == 3;
    ck_assert(covered);
    /* a framebuffer of another size than the stage's (no resize pending) */
    w = 5;
    ck_assert_int_eq(vnc_stage_take(&st, &fb, &w, &h, rects, &n), -1);
    free(fb);
    vnc_stage_destroy(&st);
}
END_TEST

static Suite *vnc_suite(void)
{
    Suite *s = suite_create("vnc");
    TCase *tc = tcase_create("options");
    tcase_add_test(tc, test_spec);
    tcase_add_test(tc, test_password_file);
    suite_add_tcase(s, tc);
    tc = tcase_create("keys");
    tcase_add_test(tc, test_keys);
    suite_add_tcase(s, tc);
    tc = tcase_create("stage");
    tcase_add_test(tc, test_stage);
    suite_add_tcase(s, tc);
    tc = tcase_create("pointer");
    tcase_add_test(tc, test_pointer);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(vnc_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
