/*
 * plugins/frontends/display/display.c - the display hub (display.h).
 *
 * One refresh thread per hub, started by the first attach. It sleeps on a
 * condition variable while no framebuffer is attached; otherwise, at most
 * hz times a second, it has the source (the VM's display device through
 * pdm_display_update) bring the hub's picture up to date and hands the
 * changed rectangles to each framebuffer in turn. The picture is the
 * hub's own copy, complete at all times, so a framebuffer attached later
 * (or an invalidate) gets the whole of it without asking the device again.
 *
 * Locking: `lock` guards the framebuffer list and the flags; callbacks run
 * with it dropped. `calling` names the framebuffer whose callbacks run;
 * a detach from another thread waits (cond `idle`) until that is over, a
 * detach from the refresh thread (a callback) only marks it gone, and the
 * thread frees gone entries after its round.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>

#include "display.h"
#include "display_internal.h"
#include "em/em.h"

#define COMPONENT  "display"
#define HZ_DEFAULT 30
#define HZ_MAX     1000
#define MAX_RECTS  64 /* past this many changed rectangles: the whole picture */

struct fb {
    struct fb *next;
    unsigned id;
    const struct fe_framebuffer_ops *ops;
    void *ctx;
    bool fresh; /* attached since its last refresh: resize and all of it first */
    bool gone;  /* detached; freed once none of its callbacks runs */
};

struct fe_display {
    const struct fe_display_source *src; /* set at create */
    void *src_ctx;
    uint64_t period_ns;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* the thread: a framebuffer came, or stop */
    pthread_cond_t idle; /* detach: `calling` changed */
    /* under lock */
    struct fb *fbs;
    struct fb *calling;
    unsigned next_id;
    bool invalidated;
    bool stopping;
    bool thread_started;
    pthread_t thread;
    /* the refresh thread's own */
    struct pdm_picture pic;
    struct pdm_rect rects[MAX_RECTS];
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool any_attached(const struct fe_display *d)
{
    for (const struct fb *f = d->fbs; f; f = f->next)
        if (!f->gone)
            return true;
    return false;
}

static bool on_refresh_thread(const struct fe_display *d)
{
    return d->thread_started && pthread_equal(pthread_self(), d->thread);
}

/* Frees the entries marked gone (lock held, no callback running). */
static void reap(struct fe_display *d)
{
    for (struct fb **p = &d->fbs; *p;) {
        struct fb *f = *p;
        if (f->gone && d->calling != f) {
            *p = f->next;
            free(f);
        } else {
            p = &f->next;
        }
    }
}

/* Whether f was detached (by its own callback, or by another thread that
 * now waits for us): read without the lock. */
static bool gone(struct fb *f)
{
    return __atomic_load_n(&f->gone, __ATOMIC_ACQUIRE);
}

/* One framebuffer's share of a refresh (no lock held); stops early once it
 * is detached. */
static void send(struct fe_display *d, struct fb *f, bool resize, bool all, unsigned n)
{
    const struct pdm_picture *pic = &d->pic;
    if (resize && !gone(f))
        f->ops->resize(f->ctx, pic->width, pic->height);
    if (all) {
        if (!gone(f))
            f->ops->update(f->ctx, pic->pixels, pic->width, 0, 0, pic->width, pic->height);
    } else {
        for (unsigned i = 0; i < n && !gone(f); i++) {
            const struct pdm_rect *r = &d->rects[i];
            f->ops->update(f->ctx, pic->pixels, pic->width, r->x, r->y, r->w, r->h);
        }
    }
    if (f->ops->frame_done && (all || n) && !gone(f))
        f->ops->frame_done(f->ctx);
}

/* Hands the refreshed picture to every framebuffer (lock held; dropped
 * around each one's callbacks). */
static void deliver(struct fe_display *d, bool resized, bool all, unsigned n)
{
    if (!d->pic.width || !d->pic.height)
        return; /* no picture yet: the fresh ones stay fresh */
    struct fb *f = d->fbs;
    while (f) {
        if (f->gone) {
            f = f->next;
            continue;
        }
        bool fresh = f->fresh;
        f->fresh = false;
        d->calling = f;
        pthread_mutex_unlock(&d->lock);
        send(d, f, resized || fresh, resized || fresh || all, n);
        pthread_mutex_lock(&d->lock);
        d->calling = NULL;
        pthread_cond_broadcast(&d->idle);
        f = f->next;
    }
    reap(d);
}

/* Waits (lock held) until a refresh is due: false when stopping. */
static bool wait_turn(struct fe_display *d, uint64_t due)
{
    for (;;) {
        if (d->stopping)
            return false;
        if (!any_attached(d)) {
            pthread_cond_wait(&d->wake, &d->lock);
            continue;
        }
        uint64_t now = now_ns();
        if (now >= due)
            return true;
        struct timespec ts = {.tv_sec = (time_t)(due / 1000000000u),
                              .tv_nsec = (long)(due % 1000000000u)};
        pthread_cond_timedwait(&d->wake, &d->lock, &ts);
    }
}

static void *refresh_thread(void *arg)
{
    struct fe_display *d = arg;
    uint64_t due = 0;
    pthread_mutex_lock(&d->lock);
    while (wait_turn(d, due)) {
        due = now_ns() + d->period_ns;
        bool all = d->invalidated;
        d->invalidated = false;
        pthread_mutex_unlock(&d->lock);
        unsigned n = 0;
        int resized = 0;
        cap_result rc = d->src->update(d->src_ctx, &d->pic, d->rects, MAX_RECTS, &n, &resized);
        if (CAP_FAILED(rc))
            cap_error_clear(); /* the next refresh copies everything again */
        pthread_mutex_lock(&d->lock);
        if (CAP_SUCCEEDED(rc))
            deliver(d, resized != 0, all, n);
        else if (all)
            d->invalidated = true;
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

cap_result fe_display_create_source(const struct fe_display_source *src, void *ctx, unsigned hz,
                                    struct fe_display **out)
{
    if (!src || !src->present || !src->update || !out)
        return CAP_E_POINTER;
    *out = NULL;
    if (hz > HZ_MAX)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL, "refresh rate %u Hz: at most %u",
                             hz, HZ_MAX);
    struct fe_display *d = calloc(1, sizeof(*d));
    if (!d)
        return cap_error_set(CAP_E_OUTOFMEMORY, COMPONENT, NULL, "out of memory");
    d->src = src;
    d->src_ctx = ctx;
    d->period_ns = 1000000000u / (hz ? hz : HZ_DEFAULT);
    d->next_id = 1;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->wake, &ca);
    pthread_cond_init(&d->idle, NULL);
    pthread_condattr_destroy(&ca);
    *out = d;
    return CAP_OK;
}

static int pdm_present(void *ctx)
{
    return pdm_display_present(ctx);
}

static cap_result pdm_update(void *ctx, struct pdm_picture *pic, struct pdm_rect *rects,
                             unsigned max, unsigned *nrects, int *resized)
{
    return pdm_display_update(ctx, pic, rects, max, nrects, resized);
}

const struct fe_display_source fe_display_pdm_source = {.present = pdm_present,
                                                        .update = pdm_update};

cap_result fe_display_create(struct vm *vm, unsigned hz, struct fe_display **out)
{
    if (!vm)
        return CAP_E_POINTER;
    return fe_display_create_source(&fe_display_pdm_source, vm_pdm(vm), hz, out);
}

void fe_display_destroy(struct fe_display *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    d->stopping = true;
    pthread_cond_broadcast(&d->wake);
    bool joined = d->thread_started;
    pthread_mutex_unlock(&d->lock);
    if (joined)
        pthread_join(d->thread, NULL);
    while (d->fbs) {
        struct fb *f = d->fbs;
        d->fbs = f->next;
        free(f);
    }
    cap_free(d->pic.pixels);
    pthread_cond_destroy(&d->idle);
    pthread_cond_destroy(&d->wake);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

cap_result fe_display_attach(struct fe_display *d, const struct fe_framebuffer_ops *ops, void *ctx,
                             unsigned *id)
{
    if (!d || !ops || !ops->resize || !ops->update || !id)
        return CAP_E_POINTER;
    *id = 0;
    if (!d->src->present(d->src_ctx))
        return cap_error_set(CAP_E_NOTIMPL, COMPONENT, NULL, "the machine has no display");
    struct fb *f = calloc(1, sizeof(*f));
    if (!f)
        return cap_error_set(CAP_E_OUTOFMEMORY, COMPONENT, NULL, "out of memory");
    f->ops = ops;
    f->ctx = ctx;
    f->fresh = true;
    pthread_mutex_lock(&d->lock);
    if (!d->thread_started) {
        int err = pthread_create(&d->thread, NULL, refresh_thread, d);
        if (err) {
            pthread_mutex_unlock(&d->lock);
            free(f);
            return cap_error_set(CAP_E_FAIL, COMPONENT, NULL,
                                 "cannot start the display refresh thread: %s", strerror(err));
        }
        d->thread_started = true;
    }
    f->id = d->next_id++;
    if (!d->next_id)
        d->next_id = 1;
    struct fb **p = &d->fbs;
    while (*p)
        p = &(*p)->next;
    *p = f;
    *id = f->id;
    pthread_cond_broadcast(&d->wake);
    pthread_mutex_unlock(&d->lock);
    return CAP_OK;
}

void fe_display_detach(struct fe_display *d, unsigned id)
{
    if (!d || !id)
        return;
    pthread_mutex_lock(&d->lock);
    struct fb *f = d->fbs;
    while (f && (f->id != id || f->gone))
        f = f->next;
    if (f) {
        __atomic_store_n(&f->gone, true, __ATOMIC_RELEASE);
        if (!on_refresh_thread(d)) {
            while (d->calling == f)
                pthread_cond_wait(&d->idle, &d->lock);
            reap(d);
        }
    }
    pthread_mutex_unlock(&d->lock);
}

void fe_display_invalidate(struct fe_display *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    d->invalidated = true;
    pthread_mutex_unlock(&d->lock);
}
