/*
 * console_fb.c - clients' IFramebuffers bridged to the display hub (see
 * console_fb.h).
 *
 * A bridge is shared by the list (one reference, dropped by detach) and
 * its delivery thread (one, dropped when the thread ends); the last one
 * frees it. b->lock guards everything in it; no call into the hub or the
 * client is made with it held, so the hub's callbacks, which take it, wait
 * only for a copy of pixels.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>

#include "console_fb.h"
#include "display/display.h"
#include "fb_pending.h"

#define COMPONENT "capsule-vm"

struct console_fb {
    struct console_fb *next; /* in console_fbs.list (the list's lock) */
    pthread_mutex_t lock;
    pthread_cond_t cv; /* work for the thread; a call ended */
    int refs;
    IFramebuffer *fb;
    struct fe_display *d;
    unsigned id;      /* the hub's id, also the API's */
    int hub_attached; /* whoever clears it detaches from the hub */
    int stop;         /* detached: the thread ends */
    int dead;         /* a call failed: the thread ends */
    int ready;        /* attached: the thread may call the client */
    int in_frame;     /* the hub is between a frame's first callback and frame_done */
    int done;         /* the thread has ended (or is about to) */
    struct fb_pending pend;
    uint32_t *pic; /* the picture as the hub last sent it, pw x ph */
    unsigned pw, ph;
};

/* Drops a reference; `thread`: the delivery thread's, as it ends. */
static void put(struct console_fb *b, int thread)
{
    pthread_mutex_lock(&b->lock);
    if (thread) {
        b->done = 1;
        pthread_cond_broadcast(&b->cv);
    }
    int last = --b->refs == 0;
    pthread_mutex_unlock(&b->lock);
    if (!last)
        return;
    IFramebuffer_Release(b->fb);
    cap_free(b->pic);
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->lock);
    cap_free(b);
}

/* ---- the hub's callbacks (its refresh thread) ----------------------------------------- */

static void cb_resize(void *ctx, unsigned width, unsigned height)
{
    struct console_fb *b = ctx;
    pthread_mutex_lock(&b->lock);
    if (!b->stop && !b->dead) {
        cap_free(b->pic);
        size_t n = (size_t)width * height;
        b->pic = cap_alloc_zero(n ? n * sizeof(uint32_t) : 1);
        b->pw = b->pic ? width : 0;
        b->ph = b->pic ? height : 0;
        if (!b->pic) {
            fprintf(stderr, "capsule-vm: framebuffer %u: no memory for a %ux%u picture: detached\n",
                    b->id, width, height);
            b->dead = 1;
        }
        /* no wake-up: the whole picture and frame_done follow */
        fb_pending_resize(&b->pend, b->pw, b->ph);
        b->in_frame = 1;
    }
    pthread_mutex_unlock(&b->lock);
}

static void cb_update(void *ctx, const uint32_t *pixels, unsigned stride, unsigned x, unsigned y,
                      unsigned w, unsigned h)
{
    struct console_fb *b = ctx;
    pthread_mutex_lock(&b->lock);
    if (!b->stop && !b->dead && x < b->pw && y < b->ph) {
        if (w > b->pw - x)
            w = b->pw - x;
        if (h > b->ph - y)
            h = b->ph - y;
        for (unsigned r = 0; r < h; r++)
            memcpy(b->pic + (size_t)(y + r) * b->pw + x, pixels + (size_t)(y + r) * stride + x,
                   (size_t)w * sizeof(uint32_t));
        fb_pending_update(&b->pend, x, y, w, h);
        b->in_frame = 1;
    }
    pthread_mutex_unlock(&b->lock);
}

static void cb_frame_done(void *ctx)
{
    struct console_fb *b = ctx;
    pthread_mutex_lock(&b->lock);
    b->in_frame = 0;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->lock);
}

static const struct fe_framebuffer_ops bridge_ops = {
    .resize = cb_resize,
    .update = cb_update,
    .frame_done = cb_frame_done,
};

/* ---- the delivery thread ---------------------------------------------------------------- */

/* The rectangle's pixels of b->pic as BGRA bytes (b->lock held). */
static uint8_t *rect_bgra(const struct console_fb *b, const struct fb_pending *t, uint32_t *len)
{
    size_t n = (size_t)t->w * t->h * 4;
    if (n > UINT32_MAX)
        return NULL;
    uint8_t *out = cap_alloc(n ? n : 1);
    if (!out)
        return NULL;
    uint8_t *o = out;
    for (unsigned r = 0; r < t->h; r++) {
        const uint32_t *p = b->pic + (size_t)(t->y + r) * b->pw + t->x;
        for (unsigned i = 0; i < t->w; i++, o += 4) {
            o[0] = (uint8_t)p[i];
            o[1] = (uint8_t)(p[i] >> 8);
            o[2] = (uint8_t)(p[i] >> 16);
            o[3] = 0xff;
        }
    }
    *len = (uint32_t)n;
    return out;
}

/* A failed call: logs it and marks b dead (b->lock held). */
static void call_failed(struct console_fb *b, const char *what, cap_result rc)
{
    const char *msg = cap_error_peek_message();
    fprintf(stderr, "capsule-vm: framebuffer %u: %s failed (0x%08x%s%s): detached\n", b->id, what,
            (unsigned)rc, msg ? ": " : "", msg ? msg : "");
    b->dead = 1;
}

static void *deliver_main(void *arg)
{
    struct console_fb *b = arg;
    pthread_mutex_lock(&b->lock);
    for (;;) {
        /* whole frames only: a resize goes with its whole picture */
        while (!b->stop && !b->dead && (!b->ready || b->in_frame || !fb_pending_any(&b->pend)))
            pthread_cond_wait(&b->cv, &b->lock);
        if (b->stop || b->dead)
            break;
        struct fb_pending t;
        fb_pending_take(&b->pend, &t);
        if (t.changed) {
            pthread_mutex_unlock(&b->lock);
            cap_result rc = IFramebuffer_NotifyChange(b->fb, 0, 0, 0, t.width, t.height);
            pthread_mutex_lock(&b->lock);
            if (CAP_FAILED(rc))
                call_failed(b, "notifyChange", rc);
        }
        /* a rectangle of a picture that was resized since is stale (the
         * new picture follows whole) */
        if (t.dirty && !b->stop && !b->dead && b->pw == t.width && b->ph == t.height) {
            uint32_t len = 0;
            uint8_t *img = rect_bgra(b, &t, &len);
            pthread_mutex_unlock(&b->lock);
            cap_result rc =
                img ? IFramebuffer_NotifyUpdateImage(b->fb, t.x, t.y, t.w, t.h, len, img)
                    : CAP_E_OUTOFMEMORY;
            cap_free(img);
            pthread_mutex_lock(&b->lock);
            if (CAP_FAILED(rc))
                call_failed(b, "notifyUpdateImage", rc);
        }
    }
    int detach = b->dead && b->hub_attached; /* a detach waits for `done` */
    b->hub_attached = 0;
    pthread_mutex_unlock(&b->lock);
    if (detach)
        fe_display_detach(b->d, b->id);
    put(b, 1);
    return NULL;
}

/* ---- the list ------------------------------------------------------------------------------ */

void console_fbs_init(struct console_fbs *s)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
}

/* The time CONSOLE_FB_DETACH_WAIT_MS from now, for pthread_cond_timedwait. */
static struct timespec wait_bound(void)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += CONSOLE_FB_DETACH_WAIT_MS / 1000;
    until.tv_nsec += (long)(CONSOLE_FB_DETACH_WAIT_MS % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    return until;
}

/* Stops b (unlinked from the list by the caller): no call starts after
 * this returns; then stop_wait. */
static void stop_begin(struct console_fb *b)
{
    pthread_mutex_lock(&b->lock);
    b->stop = 1;
    int attached = b->hub_attached;
    b->hub_attached = 0;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->lock);
    if (attached)
        fe_display_detach(b->d, b->id);
}

/* Waits until b's thread has ended (its call under way returned, its own
 * detach from the hub done), at most until `until`, and drops the list's
 * reference. */
static void stop_wait(struct console_fb *b, const struct timespec *until)
{
    pthread_mutex_lock(&b->lock);
    while (!b->done)
        if (pthread_cond_timedwait(&b->cv, &b->lock, until) == ETIMEDOUT) {
            fprintf(stderr,
                    "capsule-vm: framebuffer %u: a call still runs after %u ms: detached "
                    "without waiting for it\n",
                    b->id, CONSOLE_FB_DETACH_WAIT_MS);
            break;
        }
    pthread_mutex_unlock(&b->lock);
    put(b, 0);
}

void console_fbs_fini(struct console_fbs *s)
{
    pthread_mutex_lock(&s->lock);
    struct console_fb *l = s->list;
    s->list = NULL;
    s->n = 0;
    pthread_mutex_unlock(&s->lock);
    for (struct console_fb *b = l; b; b = b->next)
        stop_begin(b);
    struct timespec until = wait_bound(); /* one bound for them all */
    while (l) {
        struct console_fb *nx = l->next;
        stop_wait(l, &until);
        l = nx;
    }
    pthread_mutex_destroy(&s->lock);
}

cap_result console_fbs_attach(struct console_fbs *s, struct fe_display *d, IFramebuffer *fb,
                              unsigned *id)
{
    if (!fb || !id)
        return CAP_E_POINTER;
    *id = 0;
    pthread_mutex_lock(&s->lock);
    unsigned n = s->n;
    pthread_mutex_unlock(&s->lock);
    if (n >= CONSOLE_FB_MAX)
        return cap_error_set(CAP_E_ACCESSDENIED, COMPONENT, "IDisplay",
                             "%u framebuffers are attached already, the most a VM takes", n);
    struct console_fb *b = cap_alloc_zero(sizeof(*b));
    if (!b)
        return CAP_E_OUTOFMEMORY;
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->cv, NULL);
    fb_pending_init(&b->pend);
    b->fb = fb;
    IFramebuffer_AddRef(fb);
    b->d = d;
    b->refs = 2;
    pthread_t thr;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int err = pthread_create(&thr, &attr, deliver_main, b);
    pthread_attr_destroy(&attr);
    if (err) {
        b->refs = 1;
        put(b, 0);
        return cap_error_set(CAP_E_OUTOFMEMORY, COMPONENT, "IDisplay",
                             "cannot start the framebuffer's thread: %s", strerror(err));
    }
    unsigned hub_id = 0;
    cap_result rc = fe_display_attach(d, &bridge_ops, b, &hub_id);
    pthread_mutex_lock(&b->lock);
    b->id = hub_id;
    b->hub_attached = CAP_SUCCEEDED(rc);
    b->ready = 1;
    if (CAP_FAILED(rc))
        b->stop = 1;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->lock);
    if (CAP_FAILED(rc)) {
        put(b, 0); /* the list's reference; the thread drops its own */
        return rc;
    }
    pthread_mutex_lock(&s->lock);
    b->next = s->list;
    s->list = b;
    s->n++;
    pthread_mutex_unlock(&s->lock);
    *id = hub_id;
    return CAP_OK;
}

cap_result console_fbs_detach(struct console_fbs *s, unsigned id)
{
    pthread_mutex_lock(&s->lock);
    struct console_fb **pp = &s->list;
    while (*pp && (*pp)->id != id)
        pp = &(*pp)->next;
    struct console_fb *b = *pp;
    if (b) {
        *pp = b->next;
        s->n--;
    }
    pthread_mutex_unlock(&s->lock);
    if (!b)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, "IDisplay",
                             "no framebuffer %u is attached", id);
    stop_begin(b);
    struct timespec until = wait_bound();
    stop_wait(b, &until);
    return CAP_OK;
}
