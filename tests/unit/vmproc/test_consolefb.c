/*
 * tests/unit/vmproc/test_consolefb.c - console_fb.h: clients'
 * IFramebuffers (here in-process C objects) bridged to a display hub fed
 * by a fake picture source (display/display_internal.h). A framebuffer
 * stalled in its call delays neither the hub nor another framebuffer, and
 * what changed meanwhile reaches it as one rectangle around it all; one
 * whose call fails is detached and called no more.
 *
 * Threads run on their own: tests wait for what they expect (a bound only
 * against a hang), never for a time.
 */
#include <check.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include <capsule/mem.h>
#include <capsule/object.h>

#include "console_fb.h"
#include "display/display_internal.h"
#include "vmproc_test.h"

#define W 64
#define H 32

/* ---- the picture source: at most W x H (cw x ch now), rectangles drawn by
 * the test ----------------------------------------------------------------- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static uint32_t screen[W * H];
static struct pdm_rect drawn[4];
static unsigned ndrawn, refreshes;
static unsigned cw = W, ch = H;

static int src_present(void *ctx)
{
    return 1;
}

static cap_result src_update(void *ctx, struct pdm_picture *pic, struct pdm_rect *rects,
                             unsigned max, unsigned *nrects, int *resized)
{
    pthread_mutex_lock(&mu);
    if (pic->cap < W * H) {
        pic->pixels = cap_realloc(pic->pixels, W * H * sizeof(uint32_t));
        pic->cap = W * H;
    }
    *resized = pic->width != cw || pic->height != ch;
    memcpy(pic->pixels, screen, cw * ch * sizeof(uint32_t));
    pic->width = cw;
    pic->height = ch;
    if (*resized) {
        rects[0] = (struct pdm_rect){0, 0, cw, ch};
        *nrects = 1;
    } else {
        memcpy(rects, drawn, ndrawn * sizeof(drawn[0]));
        *nrects = ndrawn;
    }
    ndrawn = 0;
    refreshes++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return CAP_OK;
}

static const struct fe_display_source src = {.present = src_present, .update = src_update};

static void draw(unsigned x, unsigned y, unsigned w, unsigned h, uint32_t v)
{
    pthread_mutex_lock(&mu);
    for (unsigned j = y; j < y + h; j++)
        for (unsigned i = x; i < x + w; i++)
            screen[j * cw + i] = v;
    drawn[ndrawn++] = (struct pdm_rect){x, y, w, h};
    pthread_mutex_unlock(&mu);
}

/* Waits (mu held) until cond, failing the test after 20 s of nothing. */
#define WAIT_FOR(cond)                                                                             \
    do {                                                                                           \
        struct timespec until_;                                                                    \
        clock_gettime(CLOCK_REALTIME, &until_);                                                    \
        until_.tv_sec += 20;                                                                       \
        while (!(cond))                                                                            \
            ck_assert_int_eq(pthread_cond_timedwait(&cv, &mu, &until_), 0);                        \
    } while (0)

/* ---- a client's framebuffer ------------------------------------------------ */

struct call {
    int change; /* notifyChange, else notifyUpdateImage */
    unsigned x, y, w, h;
    uint32_t first; /* the first pixel as 0xRRGGBB */
};

struct tfb {
    IFramebuffer IFramebuffer_iface;
    cap_refcnt ref;
    int gate;    /* its calls wait while set */
    int failing; /* its calls fail */
    int waiting; /* a call waits at the gate */
    struct call calls[16];
    unsigned n;
};

static struct tfb *tfb_impl(IFramebuffer *i)
{
    return CAP_CONTAINER_OF(i, struct tfb, IFramebuffer_iface);
}

static const struct cap_qi_entry tfb_qi[] = {
    CAP_QI_ENTRY(IID_IFramebuffer, struct tfb, IFramebuffer_iface),
    CAP_QI_END,
};

static cap_result t_qi(IFramebuffer *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(tfb_impl(self), tfb_qi, iid, out);
}
static uint32_t t_addref(IFramebuffer *self)
{
    return cap_refcnt_inc(&tfb_impl(self)->ref);
}
static uint32_t t_release(IFramebuffer *self)
{
    return cap_refcnt_dec(&tfb_impl(self)->ref);
}

static cap_result record(struct tfb *f, struct call c)
{
    pthread_mutex_lock(&mu);
    f->waiting = f->gate;
    pthread_cond_broadcast(&cv);
    while (f->gate)
        pthread_cond_wait(&cv, &mu);
    f->waiting = 0;
    ck_assert_uint_lt(f->n, 16);
    f->calls[f->n++] = c;
    cap_result rc = f->failing ? CAP_E_FAIL : CAP_OK;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return rc;
}

static cap_result t_change(IFramebuffer *self, uint32_t screen_id, uint32_t x, uint32_t y,
                           uint32_t w, uint32_t h)
{
    ck_assert_uint_eq(screen_id, 0);
    return record(tfb_impl(self), (struct call){1, x, y, w, h, 0});
}

static cap_result t_update(IFramebuffer *self, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
                           uint32_t n, const uint8_t *img)
{
    ck_assert_uint_eq(n, w * h * 4);
    ck_assert_uint_eq(img[3], 0xff);
    uint32_t first = (uint32_t)img[0] | (uint32_t)img[1] << 8 | (uint32_t)img[2] << 16;
    return record(tfb_impl(self), (struct call){0, x, y, w, h, first});
}

static const struct IFramebufferVtbl tfb_vtbl = {
    .QueryInterface = t_qi,
    .AddRef = t_addref,
    .Release = t_release,
    .NotifyChange = t_change,
    .NotifyUpdateImage = t_update,
};

static void tfb_init(struct tfb *f)
{
    memset(f, 0, sizeof(*f));
    f->IFramebuffer_iface.vtbl = &tfb_vtbl;
    cap_refcnt_init(&f->ref, 1);
}

static void call_eq(const struct call *c, int change, unsigned x, unsigned y, unsigned w,
                    unsigned h)
{
    ck_assert_int_eq(c->change, change);
    ck_assert_uint_eq(c->x, x);
    ck_assert_uint_eq(c->y, y);
    ck_assert_uint_eq(c->w, w);
    ck_assert_uint_eq(c->h, h);
}

/* The framebuffer's reference count now. */
static uint32_t refs(struct tfb *f)
{
    IFramebuffer_AddRef(&f->IFramebuffer_iface);
    return IFramebuffer_Release(&f->IFramebuffer_iface);
}

/* A hub with two framebuffers attached: a (set up by `how` first) and b. */
struct two {
    struct fe_display *d;
    struct console_fbs s;
    struct tfb a, b;
    unsigned ida, idb;
};

static void two_start(struct two *t, void (*how)(struct tfb *a))
{
    memset(screen, 0, sizeof(screen));
    ndrawn = refreshes = 0;
    cw = W;
    ch = H;
    ck_assert_int_eq(fe_display_create_source(&src, NULL, 1000, &t->d), CAP_OK);
    console_fbs_init(&t->s);
    tfb_init(&t->a);
    tfb_init(&t->b);
    how(&t->a);
    ck_assert_int_eq(console_fbs_attach(&t->s, t->d, &t->a.IFramebuffer_iface, &t->ida), CAP_OK);
    ck_assert_int_eq(console_fbs_attach(&t->s, t->d, &t->b.IFramebuffer_iface, &t->idb), CAP_OK);
    ck_assert_uint_ne(t->ida, t->idb);
}

/* Detaches what is left, then both framebuffers are let go of. */
static void two_end(struct two *t)
{
    console_fbs_fini(&t->s);
    fe_display_destroy(t->d);
    ck_assert_uint_eq(refs(&t->a), 1);
    ck_assert_uint_eq(refs(&t->b), 1);
}

static void gated(struct tfb *f)
{
    f->gate = 1;
}

static void failing(struct tfb *f)
{
    f->failing = 1;
}

/* A stalled framebuffer: the other one gets every change at once; the
 * stalled one, let go, gets them as one rectangle. */
START_TEST(test_stalled_one_merges)
{
    struct two t;
    two_start(&t, gated);
    struct tfb *slow = &t.a, *fast = &t.b;
    pthread_mutex_lock(&mu);
    WAIT_FOR(slow->waiting && fast->n == 2);
    call_eq(&fast->calls[0], 1, 0, 0, W, H);
    call_eq(&fast->calls[1], 0, 0, 0, W, H);
    pthread_mutex_unlock(&mu);
    draw(2, 3, 4, 5, 0x112233);
    pthread_mutex_lock(&mu);
    WAIT_FOR(fast->n == 3);
    pthread_mutex_unlock(&mu);
    draw(40, 20, 2, 2, 0x445566);
    pthread_mutex_lock(&mu);
    WAIT_FOR(fast->n == 4);
    call_eq(&fast->calls[2], 0, 2, 3, 4, 5);
    ck_assert_uint_eq(fast->calls[2].first, 0x112233);
    call_eq(&fast->calls[3], 0, 40, 20, 2, 2);
    ck_assert_uint_eq(fast->calls[3].first, 0x445566);
    /* the refresh that sent them has ended for both framebuffers */
    unsigned r = refreshes;
    WAIT_FOR(refreshes > r + 1);
    ck_assert_uint_eq(slow->n, 0);
    slow->gate = 0;
    pthread_cond_broadcast(&cv);
    WAIT_FOR(slow->n == 3);
    call_eq(&slow->calls[0], 1, 0, 0, W, H);
    call_eq(&slow->calls[1], 0, 0, 0, W, H);
    call_eq(&slow->calls[2], 0, 2, 3, 40, 19); /* (2,3) to (42,22) */
    ck_assert_uint_eq(slow->calls[2].first, 0x112233);
    pthread_mutex_unlock(&mu);
    ck_assert_int_eq(console_fbs_detach(&t.s, t.ida), CAP_OK);
    ck_assert_int_eq(console_fbs_detach(&t.s, t.ida), CAP_E_INVALIDARG);
    /* nothing more for a detached one */
    draw(0, 0, 1, 1, 0x778899);
    pthread_mutex_lock(&mu);
    WAIT_FOR(fast->n == 5);
    pthread_mutex_unlock(&mu);
    two_end(&t);
    ck_assert_uint_eq(slow->n, 3);
    ck_assert_uint_eq(fast->n, 5);
}
END_TEST

/* A resize while a framebuffer is stalled: let go, it gets the old size
 * (the call under way), then the new size and its whole picture - not the
 * old picture's rectangle that was due. */
START_TEST(test_resize_while_stalled)
{
    struct two t;
    two_start(&t, gated);
    struct tfb *slow = &t.a, *fast = &t.b;
    pthread_mutex_lock(&mu);
    WAIT_FOR(slow->waiting && fast->n == 2);
    cw = 32;
    ch = 16;
    WAIT_FOR(fast->n == 4);
    call_eq(&fast->calls[2], 1, 0, 0, 32, 16);
    call_eq(&fast->calls[3], 0, 0, 0, 32, 16);
    unsigned r = refreshes;
    WAIT_FOR(refreshes > r + 1);
    slow->gate = 0;
    pthread_cond_broadcast(&cv);
    WAIT_FOR(slow->n == 3);
    call_eq(&slow->calls[0], 1, 0, 0, W, H);
    call_eq(&slow->calls[1], 1, 0, 0, 32, 16);
    call_eq(&slow->calls[2], 0, 0, 0, 32, 16);
    pthread_mutex_unlock(&mu);
    two_end(&t);
    ck_assert_uint_eq(slow->n, 3);
}
END_TEST

/* A call that fails detaches the framebuffer: no more calls; the id is
 * still detached cleanly. */
START_TEST(test_failing_one_detached)
{
    struct two t;
    two_start(&t, failing);
    struct tfb *bad = &t.a, *good = &t.b;
    pthread_mutex_lock(&mu);
    WAIT_FOR(bad->n == 1 && good->n == 2);
    pthread_mutex_unlock(&mu);
    draw(1, 1, 1, 1, 0xabcdef);
    pthread_mutex_lock(&mu);
    WAIT_FOR(good->n == 3);
    unsigned r = refreshes;
    WAIT_FOR(refreshes > r + 1);
    call_eq(&bad->calls[0], 1, 0, 0, W, H);
    ck_assert_uint_eq(bad->n, 1);
    pthread_mutex_unlock(&mu);
    ck_assert_int_eq(console_fbs_detach(&t.s, t.ida), CAP_OK);
    ck_assert_int_eq(console_fbs_attach(&t.s, t.d, NULL, &t.ida), CAP_E_POINTER);
    two_end(&t);
}
END_TEST

Suite *consolefb_suite(void)
{
    Suite *s = suite_create("consolefb");
    VT_CASE(s, "consolefb", 60, test_stalled_one_merges, test_resize_while_stalled,
            test_failing_one_detached);
    return s;
}
