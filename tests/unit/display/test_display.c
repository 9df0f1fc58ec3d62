/*
 * tests/unit/display/test_display.c - the display hub (display.h): with a
 * fake display source (display_internal.h), what each framebuffer gets
 * (resize and the whole picture on attach, then only what changed, the
 * whole again on invalidate or resize), detaching (from another thread,
 * from the framebuffer's own callback), no source call while nothing is
 * attached; then the real vga device under PDM feeding a hub.
 *
 * The refresh thread runs on its own: tests wait for the callbacks they
 * expect (a bound only against a hang), never for a time.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>

#include "../devices/harness.h"
#include "display/display.h"
#include "display/display_internal.h"

/* ---- a fake display source ------------------------------------------------ */

struct fake_src {
    pthread_mutex_t lock;
    int present;
    unsigned w, h;
    uint32_t *pixels; /* the "device's" picture */
    struct pdm_rect dirty[8];
    unsigned ndirty;
    int changed; /* size changed since the last update */
    unsigned calls;
};

static struct fake_src src;

static int fake_present(void *ctx)
{
    return ((struct fake_src *)ctx)->present;
}

static cap_result fake_update(void *ctx, struct pdm_picture *pic, struct pdm_rect *rects,
                              unsigned max, unsigned *nrects, int *resized)
{
    struct fake_src *s = ctx;
    pthread_mutex_lock(&s->lock);
    s->calls++;
    size_t count = (size_t)s->w * s->h;
    if (count > pic->cap) {
        pic->pixels = cap_realloc(pic->pixels, count * sizeof(uint32_t));
        pic->cap = count;
    }
    int all = s->changed || pic->width != s->w || pic->height != s->h;
    *resized = all;
    if (all) {
        memcpy(pic->pixels, s->pixels, count * sizeof(uint32_t));
        rects[0] = (struct pdm_rect){0, 0, s->w, s->h};
        *nrects = 1;
    } else {
        ck_assert_uint_le(s->ndirty, max);
        for (unsigned i = 0; i < s->ndirty; i++) {
            const struct pdm_rect *r = &s->dirty[i];
            for (unsigned y = r->y; y < r->y + r->h; y++)
                memcpy(pic->pixels + y * s->w + r->x, s->pixels + y * s->w + r->x, r->w * 4);
            rects[i] = *r;
        }
        *nrects = s->ndirty;
    }
    pic->width = s->w;
    pic->height = s->h;
    s->ndirty = 0;
    s->changed = 0;
    pthread_mutex_unlock(&s->lock);
    return CAP_OK;
}

static const struct fe_display_source fake_ops = {.present = fake_present, .update = fake_update};

static void src_size(unsigned w, unsigned h)
{
    pthread_mutex_lock(&src.lock);
    free(src.pixels);
    src.pixels = malloc((size_t)w * h * 4);
    for (unsigned i = 0; i < w * h; i++)
        src.pixels[i] = i;
    src.w = w;
    src.h = h;
    src.changed = 1;
    pthread_mutex_unlock(&src.lock);
}

/* The device draws `v` into the rectangle and says so. */
static void src_draw(unsigned x, unsigned y, unsigned w, unsigned h, uint32_t v)
{
    pthread_mutex_lock(&src.lock);
    for (unsigned j = y; j < y + h; j++)
        for (unsigned i = x; i < x + w; i++)
            src.pixels[j * src.w + i] = v;
    src.dirty[src.ndirty++] = (struct pdm_rect){x, y, w, h};
    pthread_mutex_unlock(&src.lock);
}

static unsigned src_calls(void)
{
    pthread_mutex_lock(&src.lock);
    unsigned n = src.calls;
    pthread_mutex_unlock(&src.lock);
    return n;
}

/* ---- a recording framebuffer ---------------------------------------------- */

enum ev_kind { EV_RESIZE, EV_UPDATE, EV_FRAME };

struct ev {
    enum ev_kind kind;
    unsigned x, y, w, h;
    uint32_t first; /* the rectangle's top-left pixel */
    int ok;         /* every pixel of the rectangle was the source's */
};

struct rec {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct ev ev[64];
    unsigned n;
    unsigned frames;
    struct fe_display *d;
    unsigned id;
    int detach_in_update; /* detach itself from its next update */
};

static void rec_init(struct rec *r)
{
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
}

static void rec_add(struct rec *r, struct ev e)
{
    pthread_mutex_lock(&r->lock);
    if (r->n < 64)
        r->ev[r->n++] = e;
    if (e.kind == EV_FRAME)
        r->frames++;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

static void fb_resize(void *ctx, unsigned w, unsigned h)
{
    rec_add(ctx, (struct ev){.kind = EV_RESIZE, .w = w, .h = h});
}

static void fb_update(void *ctx, const uint32_t *px, unsigned stride, unsigned x, unsigned y,
                      unsigned w, unsigned h)
{
    struct rec *r = ctx;
    int ok = 1;
    pthread_mutex_lock(&src.lock);
    for (unsigned j = y; src.pixels && j < y + h; j++)
        for (unsigned i = x; i < x + w; i++)
            ok &= px[j * stride + i] == src.pixels[j * src.w + i];
    pthread_mutex_unlock(&src.lock);
    rec_add(r, (struct ev){EV_UPDATE, x, y, w, h, px[y * stride + x], ok});
    if (r->detach_in_update) {
        fe_display_detach(r->d, r->id);
        fe_display_detach(r->d, r->id); /* twice: the second finds nothing */
    }
}

static void fb_frame(void *ctx)
{
    rec_add(ctx, (struct ev){.kind = EV_FRAME});
}

static const struct fe_framebuffer_ops fb_ops = {
    .resize = fb_resize, .update = fb_update, .frame_done = fb_frame};

/* Waits until r saw `frames` frames (fails after a minute: a hang). */
static void wait_frames(struct rec *r, unsigned frames)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 60;
    pthread_mutex_lock(&r->lock);
    while (r->frames < frames)
        ck_assert_int_eq(pthread_cond_timedwait(&r->cond, &r->lock, &ts), 0);
    pthread_mutex_unlock(&r->lock);
}

static unsigned rec_count(struct rec *r)
{
    pthread_mutex_lock(&r->lock);
    unsigned n = r->n;
    pthread_mutex_unlock(&r->lock);
    return n;
}

static void ev_is(const struct ev *e, enum ev_kind k, unsigned x, unsigned y, unsigned w,
                  unsigned h)
{
    ck_assert_int_eq(e->kind, k);
    ck_assert_uint_eq(e->x, x);
    ck_assert_uint_eq(e->y, y);
    ck_assert_uint_eq(e->w, w);
    ck_assert_uint_eq(e->h, h);
    if (k == EV_UPDATE)
        ck_assert_int_eq(e->ok, 1);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static struct fe_display *d;

static void fake_setup(void)
{
    memset(&src, 0, sizeof(src));
    pthread_mutex_init(&src.lock, NULL);
    src.present = 1;
    src_size(64, 48);
    ck_assert_int_eq(fe_display_create_source(&fake_ops, &src, 1000, &d), CAP_OK);
}

static void fake_teardown(void)
{
    fe_display_destroy(d);
    free(src.pixels);
}

/* ---- the hub with the fake source ----------------------------------------- */

START_TEST(test_attach_and_dirty)
{
    struct rec a;
    rec_init(&a);
    ck_assert_uint_eq(src_calls(), 0);
    ck_assert_int_eq(fe_display_attach(d, &fb_ops, &a, &a.id), CAP_OK);
    ck_assert_uint_gt(a.id, 0);
    wait_frames(&a, 1);
    ck_assert_uint_eq(rec_count(&a), 3);
    ev_is(&a.ev[0], EV_RESIZE, 0, 0, 64, 48);
    ev_is(&a.ev[1], EV_UPDATE, 0, 0, 64, 48);
    ck_assert_int_eq(a.ev[2].kind, EV_FRAME);
    /* only what changed */
    src_draw(16, 8, 8, 4, 0xabcdef);
    src_draw(40, 32, 3, 2, 0x123456);
    wait_frames(&a, 2);
    ck_assert_uint_eq(rec_count(&a), 6);
    ev_is(&a.ev[3], EV_UPDATE, 16, 8, 8, 4);
    ck_assert_uint_eq(a.ev[3].first, 0xabcdef);
    ev_is(&a.ev[4], EV_UPDATE, 40, 32, 3, 2);
    ck_assert_uint_eq(a.ev[4].first, 0x123456);
    ck_assert_int_eq(a.ev[5].kind, EV_FRAME);
    /* a second framebuffer: the whole picture, the first one nothing */
    struct rec b;
    rec_init(&b);
    ck_assert_int_eq(fe_display_attach(d, &fb_ops, &b, &b.id), CAP_OK);
    ck_assert_uint_ne(b.id, a.id);
    wait_frames(&b, 1);
    ev_is(&b.ev[0], EV_RESIZE, 0, 0, 64, 48);
    ev_is(&b.ev[1], EV_UPDATE, 0, 0, 64, 48);
    ck_assert_uint_eq(rec_count(&a), 6);
    /* a new size: resize and all of it for both */
    src_size(32, 16);
    wait_frames(&a, 3);
    wait_frames(&b, 2);
    ck_assert_uint_eq(rec_count(&a), 9);
    ev_is(&a.ev[6], EV_RESIZE, 0, 0, 32, 16);
    ev_is(&a.ev[7], EV_UPDATE, 0, 0, 32, 16);
    ev_is(&b.ev[3], EV_RESIZE, 0, 0, 32, 16);
    ev_is(&b.ev[4], EV_UPDATE, 0, 0, 32, 16);
    /* invalidate: the whole picture, no resize */
    fe_display_invalidate(d);
    wait_frames(&a, 4);
    wait_frames(&b, 3);
    ck_assert_uint_eq(rec_count(&a), 11);
    ev_is(&a.ev[9], EV_UPDATE, 0, 0, 32, 16);
    ev_is(&b.ev[6], EV_UPDATE, 0, 0, 32, 16);
    /* detach from here: b gets no more */
    fe_display_detach(d, b.id);
    unsigned nb = rec_count(&b);
    src_draw(0, 0, 1, 1, 7);
    wait_frames(&a, 5);
    ck_assert_uint_eq(rec_count(&b), nb);
    ev_is(&a.ev[11], EV_UPDATE, 0, 0, 1, 1);
    fe_display_detach(d, a.id);
    fe_display_detach(d, a.id); /* gone already: nothing */
    fe_display_detach(d, 0);
}
END_TEST

START_TEST(test_detach_in_callback)
{
    struct rec a, b;
    rec_init(&a);
    rec_init(&b);
    a.d = d;
    a.detach_in_update = 1;
    ck_assert_int_eq(fe_display_attach(d, &fb_ops, &a, &a.id), CAP_OK);
    ck_assert_int_eq(fe_display_attach(d, &fb_ops, &b, &b.id), CAP_OK);
    wait_frames(&b, 1);
    /* a: its resize and the update it detached in, no frame_done after */
    ck_assert_uint_eq(rec_count(&a), 2);
    ev_is(&a.ev[0], EV_RESIZE, 0, 0, 64, 48);
    ev_is(&a.ev[1], EV_UPDATE, 0, 0, 64, 48);
    src_draw(1, 1, 2, 2, 9);
    wait_frames(&b, 2);
    ck_assert_uint_eq(rec_count(&a), 2);
    fe_display_detach(d, b.id);
}
END_TEST

START_TEST(test_idle)
{
    /* nothing attached: the source is never asked */
    sleep_ms(20);
    ck_assert_uint_eq(src_calls(), 0);
    struct rec a;
    rec_init(&a);
    ck_assert_int_eq(fe_display_attach(d, &fb_ops, &a, &a.id), CAP_OK);
    wait_frames(&a, 1);
    fe_display_detach(d, a.id);
    /* at 1000 Hz a thread still refreshing would ask a hundred times; one
     * refresh may have been under way as detach returned */
    sleep_ms(20);
    unsigned n = src_calls();
    sleep_ms(100);
    ck_assert_uint_le(src_calls(), n + 1);
    /* and it wakes up again */
    struct rec b;
    rec_init(&b);
    ck_assert_int_eq(fe_display_attach(d, &fb_ops, &b, &b.id), CAP_OK);
    wait_frames(&b, 1);
    fe_display_detach(d, b.id);
}
END_TEST

START_TEST(test_errors)
{
    struct rec a;
    rec_init(&a);
    unsigned id = 5;
    ck_assert_int_eq(fe_display_attach(d, NULL, &a, &id), CAP_E_POINTER);
    struct fe_framebuffer_ops no_update = {.resize = fb_resize};
    ck_assert_int_eq(fe_display_attach(d, &no_update, &a, &id), CAP_E_POINTER);
    src.present = 0;
    ck_assert_int_eq(fe_display_attach(d, &fb_ops, &a, &id), CAP_E_NOTIMPL);
    ck_assert_uint_eq(id, 0);
    ck_assert_str_eq(cap_error_peek_message(), "the machine has no display");
    cap_error_clear();
    struct fe_display *bad = NULL;
    ck_assert_int_eq(fe_display_create_source(&fake_ops, &src, 1001, &bad), CAP_E_INVALIDARG);
    ck_assert_ptr_null(bad);
    cap_error_clear();
    /* a hub that never ran a thread goes away cleanly */
    ck_assert_int_eq(fe_display_create_source(&fake_ops, &src, 0, &bad), CAP_OK);
    fe_display_destroy(bad);
    fe_display_destroy(NULL);
    ck_assert_uint_eq(src_calls(), 0);
}
END_TEST

START_TEST(test_destroy_attached)
{
    /* destroy with a framebuffer still attached: no callback afterwards */
    struct rec a;
    rec_init(&a);
    ck_assert_int_eq(fe_display_attach(d, &fb_ops, &a, &a.id), CAP_OK);
    wait_frames(&a, 1);
    fe_display_destroy(d);
    unsigned n = rec_count(&a);
    src_draw(0, 0, 4, 4, 1);
    sleep_ms(20);
    ck_assert_uint_eq(rec_count(&a), n);
    ck_assert_int_eq(fe_display_create_source(&fake_ops, &src, 1000, &d), CAP_OK);
}
END_TEST

/* ---- the vga device through PDM ------------------------------------------- */

static struct harness h;

static void vga_setup(void)
{
    h_setup(&h);
    ck_assert_int_eq(h_add(&h, "pci", NULL, 0), CAP_OK);
    ck_assert_int_eq(h_add(&h, "vga", NULL, 0), CAP_OK);
}

static void vga_teardown(void)
{
    h_teardown(&h);
}

static void vbe(unsigned index, unsigned value)
{
    h_out(&h, 0x1ce, 2, index);
    h_out(&h, 0x1cf, 2, value);
}

/* A 64x32 32-bpp VBE mode (pixels written through the 0xa0000 window). */
static void vbe_mode(void)
{
    h_out(&h, 0x3c4, 2, 0x0f02); /* map mask: all planes */
    vbe(4, 0);                   /* ENABLE */
    vbe(1, 64);                  /* XRES */
    vbe(2, 32);                  /* YRES */
    vbe(3, 32);                  /* BPP */
    vbe(4, 0x41);                /* enabled, LFB */
}

static void vga_pixel(unsigned x, unsigned y, uint32_t rgb)
{
    h_mmio_out(&h, 0xa0000 + (y * 64 + x) * 4, 4, rgb);
}

START_TEST(test_vga_update)
{
    struct pdm_picture pic = {0};
    struct pdm_rect r[4];
    unsigned n;
    int resized;
    vbe_mode();
    /* first: everything, resized */
    ck_assert_int_eq(pdm_display_update(h.pdm, &pic, r, 4, &n, &resized), CAP_OK);
    ck_assert_int_eq(resized, 1);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(pic.width, 64);
    ck_assert_uint_eq(pic.height, 32);
    ck_assert_uint_eq(r[0].w, 64);
    ck_assert_uint_eq(r[0].h, 32);
    /* nothing changed */
    ck_assert_int_eq(pdm_display_update(h.pdm, &pic, r, 4, &n, &resized), CAP_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(resized, 0);
    /* one pixel: its 16x16 tile */
    vga_pixel(20, 5, 0x102030);
    ck_assert_int_eq(pdm_display_update(h.pdm, &pic, r, 4, &n, &resized), CAP_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(resized, 0);
    ck_assert_uint_eq(r[0].x, 16);
    ck_assert_uint_eq(r[0].y, 0);
    ck_assert_uint_eq(r[0].w, 16);
    ck_assert_uint_eq(r[0].h, 16);
    ck_assert_uint_eq(pic.pixels[5 * 64 + 20], 0x102030);
    /* snapshot has its own dirty state: it does not eat update's */
    vga_pixel(50, 20, 0x405060);
    uint32_t *copy;
    unsigned cw, ch;
    ck_assert_int_eq(pdm_display_snapshot(h.pdm, &copy, &cw, &ch), CAP_OK);
    ck_assert_uint_eq(copy[20 * 64 + 50], 0x405060);
    cap_free(copy);
    ck_assert_int_eq(pdm_display_update(h.pdm, &pic, r, 4, &n, &resized), CAP_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(r[0].x, 48);
    ck_assert_uint_eq(r[0].y, 16);
    ck_assert_uint_eq(pic.pixels[20 * 64 + 50], 0x405060);
    /* more rectangles than room: one, the whole picture */
    for (unsigned y = 0; y < 32; y += 16)
        for (unsigned x = 0; x < 64; x += 32)
            vga_pixel(x, y, 0xffffff);
    ck_assert_int_eq(pdm_display_update(h.pdm, &pic, r, 3, &n, &resized), CAP_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(r[0].w, 64);
    ck_assert_uint_eq(r[0].h, 32);
    ck_assert_uint_eq(pic.pixels[16 * 64 + 32], 0xffffff);
    /* a mode change: resized */
    vbe(4, 0);
    vbe(1, 32);
    vbe(4, 0x41);
    ck_assert_int_eq(pdm_display_update(h.pdm, &pic, r, 4, &n, &resized), CAP_OK);
    ck_assert_int_eq(resized, 1);
    ck_assert_uint_eq(pic.width, 32);
    ck_assert_int_eq(pdm_display_update(h.pdm, &pic, r, 0, &n, &resized), CAP_E_INVALIDARG);
    cap_error_clear();
    cap_free(pic.pixels);
    /* no display device */
    h_teardown(&h);
    h_setup(&h);
    struct pdm_picture none = {0};
    ck_assert_int_eq(pdm_display_present(h.pdm), 0);
    ck_assert_int_eq(pdm_display_update(h.pdm, &none, r, 4, &n, &resized), CAP_E_NOTIMPL);
    ck_assert_str_eq(cap_error_peek_message(), "the machine has no display");
    cap_error_clear();
}
END_TEST

START_TEST(test_vga_hub)
{
    vbe_mode();
    memset(&src, 0, sizeof(src)); /* no fake picture: fb_update compares nothing */
    pthread_mutex_init(&src.lock, NULL);
    struct fe_display *hub;
    ck_assert_int_eq(fe_display_create_source(&fe_display_pdm_source, h.pdm, 1000, &hub), CAP_OK);
    struct rec a;
    rec_init(&a);
    ck_assert_int_eq(fe_display_attach(hub, &fb_ops, &a, &a.id), CAP_OK);
    wait_frames(&a, 1);
    ev_is(&a.ev[0], EV_RESIZE, 0, 0, 64, 32);
    ev_is(&a.ev[1], EV_UPDATE, 0, 0, 64, 32);
    vga_pixel(40, 20, 0x0000ff); /* from this thread, as a vCPU would */
    wait_frames(&a, 2);
    ck_assert_uint_eq(rec_count(&a), 5);
    ev_is(&a.ev[3], EV_UPDATE, 32, 16, 16, 16);
    ck_assert_uint_eq(a.ev[3].first, 0); /* the tile's top-left; the pixel is further in */
    fe_display_detach(hub, a.id);
    fe_display_destroy(hub);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("display");
    TCase *tc = tcase_create("hub");
    tcase_add_checked_fixture(tc, fake_setup, fake_teardown);
    tcase_add_test(tc, test_attach_and_dirty);
    tcase_add_test(tc, test_detach_in_callback);
    tcase_add_test(tc, test_idle);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_destroy_attached);
    suite_add_tcase(s, tc);
    TCase *tv = tcase_create("vga");
    tcase_add_checked_fixture(tv, vga_setup, vga_teardown);
    tcase_add_test(tv, test_vga_update);
    tcase_add_test(tv, test_vga_hub);
    suite_add_tcase(s, tv);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
