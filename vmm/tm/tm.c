/*
 * vmm/tm/tm.c - TM: the virtual clock, the timer queue and the TSC.
 *
 * The clock is kept as "virtual time at the last resume" plus "host time
 * since then" while running; pausing folds the running part in. Warping
 * adds to the base. The timer queue is a doubly linked list sorted by
 * deadline: a VM has a dozen timers, and the EM only ever looks at the head.
 *
 * The EM asks "is a timer due?" and "when is the next one?" around every
 * guest exit, so the answer is kept ready without the lock: due_host, the
 * host time at which the head timer falls due (TM_NO_DEADLINE when none is
 * armed or the clock is paused; paused_due says whether a paused clock has
 * one due all the same), recomputed under the lock whenever the head, the
 * base or the running state changes and read atomically. Polls and
 * deadline queries then cost an atomic load (and a clock read while a
 * timer is armed) until a timer is actually due.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <capsule/errorinfo.h>
#include <capsule/result.h>

#include "tm.h"

#define TM_COMPONENT "tm"

struct tm_timer {
    struct tm_clock *tm;
    struct tm_timer *prev, *next; /* queue links while armed */
    struct tm_timer *all_next;    /* every timer of the clock */
    uint64_t deadline;
    uint64_t arm_seq; /* tm->seq when last armed */
    bool armed;
    tm_timer_fn fn;
    void *user;
    char *desc;
};

struct tm_clock {
    pthread_mutex_t lock;
    struct tm_clock_source src;
    bool running;
    uint64_t base_virtual; /* virtual time at the last resume (or now, paused) */
    uint64_t base_host;    /* host time at the last resume */
    uint64_t tsc_hz;
    int64_t tsc_offset;
    struct tm_timer *head; /* armed timers, earliest first */
    struct tm_timer *all;  /* every timer, for destroy */
    uint64_t seq;          /* counts arms */
    uint64_t due_host;     /* host time the head falls due; atomic (see above) */
    bool paused_due;       /* paused with the head due (tm_poll runs it); atomic */
};

static uint64_t host_monotonic(void *ctx)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

cap_result tm_create(const struct tm_clock_source *src, struct tm_clock **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    struct tm_clock *tm = calloc(1, sizeof(*tm));
    if (!tm)
        return cap_error_set(CAP_E_OUTOFMEMORY, TM_COMPONENT, NULL, "out of memory");
    if (pthread_mutex_init(&tm->lock, NULL) != 0) {
        free(tm);
        return cap_error_set(CAP_E_FAIL, TM_COMPONENT, NULL, "cannot create a mutex");
    }
    if (src && src->now_ns)
        tm->src = *src;
    else
        tm->src.now_ns = host_monotonic;
    tm->tsc_hz = 1000000000u;
    tm->due_host = TM_NO_DEADLINE;
    *out = tm;
    return CAP_OK;
}

void tm_destroy(struct tm_clock *tm)
{
    if (!tm)
        return;
    for (struct tm_timer *t = tm->all, *n; t; t = n) {
        n = t->all_next;
        free(t->desc);
        free(t);
    }
    pthread_mutex_destroy(&tm->lock);
    free(tm);
}

/* ---- the clock ------------------------------------------------------------ */

static uint64_t now_locked(struct tm_clock *tm)
{
    if (!tm->running)
        return tm->base_virtual;
    uint64_t h = tm->src.now_ns(tm->src.ctx);
    return tm->base_virtual + (h > tm->base_host ? h - tm->base_host : 0);
}

/* Host time at which virtual time reaches `deadline` while running:
 * 0 when it already has at the last resume, saturated below
 * TM_NO_DEADLINE. */
static uint64_t deadline_to_host(uint64_t deadline, uint64_t base_virtual, uint64_t base_host)
{
    if (deadline <= base_virtual)
        return 0;
    uint64_t d = deadline - base_virtual;
    return d >= TM_NO_DEADLINE - base_host ? TM_NO_DEADLINE - 1 : base_host + d;
}

/* Call after anything that moves the head, the base or the running state. */
static void update_due_locked(struct tm_clock *tm)
{
    uint64_t due = TM_NO_DEADLINE;
    if (tm->running && tm->head)
        due = deadline_to_host(tm->head->deadline, tm->base_virtual, tm->base_host);
    __atomic_store_n(&tm->due_host, due, __ATOMIC_RELEASE);
    bool paused_due = !tm->running && tm->head && tm->head->deadline <= tm->base_virtual;
    __atomic_store_n(&tm->paused_due, paused_due, __ATOMIC_RELEASE);
}

void tm_resume(struct tm_clock *tm)
{
    pthread_mutex_lock(&tm->lock);
    if (!tm->running) {
        tm->base_host = tm->src.now_ns(tm->src.ctx);
        tm->running = true;
        update_due_locked(tm);
    }
    pthread_mutex_unlock(&tm->lock);
}

void tm_pause(struct tm_clock *tm)
{
    pthread_mutex_lock(&tm->lock);
    if (tm->running) {
        tm->base_virtual = now_locked(tm);
        tm->running = false;
        update_due_locked(tm);
    }
    pthread_mutex_unlock(&tm->lock);
}

bool tm_is_running(struct tm_clock *tm)
{
    pthread_mutex_lock(&tm->lock);
    bool r = tm->running;
    pthread_mutex_unlock(&tm->lock);
    return r;
}

uint64_t tm_now(struct tm_clock *tm)
{
    pthread_mutex_lock(&tm->lock);
    uint64_t v = now_locked(tm);
    pthread_mutex_unlock(&tm->lock);
    return v;
}

void tm_warp(struct tm_clock *tm, uint64_t delta_ns)
{
    pthread_mutex_lock(&tm->lock);
    tm->base_virtual += delta_ns;
    update_due_locked(tm);
    pthread_mutex_unlock(&tm->lock);
}

void tm_get_state(struct tm_clock *tm, struct tm_state *out)
{
    pthread_mutex_lock(&tm->lock);
    out->virtual_ns = now_locked(tm);
    out->tsc_offset = tm->tsc_offset;
    out->tsc_hz = tm->tsc_hz;
    pthread_mutex_unlock(&tm->lock);
}

cap_result tm_set_state(struct tm_clock *tm, const struct tm_state *st)
{
    if (!st->tsc_hz)
        return cap_error_set(CAP_E_INVALIDARG, TM_COMPONENT, NULL, "saved TSC rate of 0 Hz");
    pthread_mutex_lock(&tm->lock);
    bool running = tm->running;
    if (!running) {
        tm->base_virtual = st->virtual_ns;
        tm->tsc_offset = st->tsc_offset;
        tm->tsc_hz = st->tsc_hz;
        update_due_locked(tm);
    }
    pthread_mutex_unlock(&tm->lock);
    return running ? cap_error_set(CAP_E_UNEXPECTED, TM_COMPONENT, NULL,
                                   "the clock runs: its state is set only while paused")
                   : CAP_OK;
}

/* ---- TSC --------------------------------------------------------------- */

static uint64_t ns_to_ticks(uint64_t ns, uint64_t hz)
{
    return (uint64_t)((unsigned __int128)ns * hz / 1000000000u);
}

uint64_t tm_tsc(struct tm_clock *tm)
{
    pthread_mutex_lock(&tm->lock);
    uint64_t t = ns_to_ticks(now_locked(tm), tm->tsc_hz) + (uint64_t)tm->tsc_offset;
    pthread_mutex_unlock(&tm->lock);
    return t;
}

uint64_t tm_tsc_hz(struct tm_clock *tm)
{
    return __atomic_load_n(&tm->tsc_hz, __ATOMIC_RELAXED);
}

void tm_set_tsc_hz(struct tm_clock *tm, uint64_t hz)
{
    if (hz == 0)
        return;
    pthread_mutex_lock(&tm->lock);
    uint64_t cur = ns_to_ticks(now_locked(tm), tm->tsc_hz) + (uint64_t)tm->tsc_offset;
    tm->tsc_hz = hz;
    tm->tsc_offset = (int64_t)(cur - ns_to_ticks(now_locked(tm), hz));
    pthread_mutex_unlock(&tm->lock);
}

void tm_set_tsc(struct tm_clock *tm, uint64_t value)
{
    pthread_mutex_lock(&tm->lock);
    tm->tsc_offset = (int64_t)(value - ns_to_ticks(now_locked(tm), tm->tsc_hz));
    pthread_mutex_unlock(&tm->lock);
}

/* ---- timers ---------------------------------------------------------------- */

cap_result tm_timer_create(struct tm_clock *tm, tm_timer_fn fn, void *user, const char *desc,
                           struct tm_timer **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    if (!tm || !fn)
        return cap_error_set(CAP_E_POINTER, TM_COMPONENT, NULL, "NULL clock or callback");
    struct tm_timer *t = calloc(1, sizeof(*t));
    if (!t || !(t->desc = strdup(desc ? desc : "(unnamed)"))) {
        free(t);
        return cap_error_set(CAP_E_OUTOFMEMORY, TM_COMPONENT, NULL, "out of memory");
    }
    t->tm = tm;
    t->fn = fn;
    t->user = user;
    t->deadline = TM_NO_DEADLINE;
    pthread_mutex_lock(&tm->lock);
    t->all_next = tm->all;
    tm->all = t;
    pthread_mutex_unlock(&tm->lock);
    *out = t;
    return CAP_OK;
}

static void unlink_locked(struct tm_timer *t)
{
    if (!t->armed)
        return;
    bool was_head = !t->prev;
    if (t->prev)
        t->prev->next = t->next;
    else
        t->tm->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    t->prev = t->next = NULL;
    t->armed = false;
    t->deadline = TM_NO_DEADLINE;
    if (was_head)
        update_due_locked(t->tm);
}

void tm_timer_destroy(struct tm_timer *t)
{
    if (!t)
        return;
    struct tm_clock *tm = t->tm;
    pthread_mutex_lock(&tm->lock);
    unlink_locked(t);
    for (struct tm_timer **pp = &tm->all; *pp; pp = &(*pp)->all_next)
        if (*pp == t) {
            *pp = t->all_next;
            break;
        }
    pthread_mutex_unlock(&tm->lock);
    free(t->desc);
    free(t);
}

static void arm_locked(struct tm_timer *t, uint64_t deadline)
{
    unlink_locked(t);
    struct tm_timer *prev = NULL, *cur = t->tm->head;
    while (cur && cur->deadline <= deadline) { /* equal deadlines: first armed runs first */
        prev = cur;
        cur = cur->next;
    }
    t->prev = prev;
    t->next = cur;
    if (prev)
        prev->next = t;
    else
        t->tm->head = t;
    if (cur)
        cur->prev = t;
    t->deadline = deadline;
    t->arm_seq = ++t->tm->seq;
    t->armed = true;
    if (!prev)
        update_due_locked(t->tm);
}

void tm_timer_arm(struct tm_timer *t, uint64_t deadline)
{
    pthread_mutex_lock(&t->tm->lock);
    arm_locked(t, deadline == TM_NO_DEADLINE ? TM_NO_DEADLINE - 1 : deadline);
    pthread_mutex_unlock(&t->tm->lock);
}

uint64_t tm_timer_arm_rel(struct tm_timer *t, uint64_t delta_ns)
{
    pthread_mutex_lock(&t->tm->lock);
    uint64_t now = now_locked(t->tm);
    uint64_t d = delta_ns >= TM_NO_DEADLINE - now ? TM_NO_DEADLINE - 1 : now + delta_ns;
    arm_locked(t, d);
    pthread_mutex_unlock(&t->tm->lock);
    return d;
}

void tm_timer_disarm(struct tm_timer *t)
{
    pthread_mutex_lock(&t->tm->lock);
    unlink_locked(t);
    pthread_mutex_unlock(&t->tm->lock);
}

bool tm_timer_armed(struct tm_timer *t)
{
    pthread_mutex_lock(&t->tm->lock);
    bool a = t->armed;
    pthread_mutex_unlock(&t->tm->lock);
    return a;
}

uint64_t tm_timer_deadline(struct tm_timer *t)
{
    pthread_mutex_lock(&t->tm->lock);
    uint64_t d = t->deadline;
    pthread_mutex_unlock(&t->tm->lock);
    return d;
}

/* The earliest timer due at `now` that was armed before the poll began. */
static struct tm_timer *next_due_locked(struct tm_clock *tm, uint64_t now, uint64_t snap)
{
    for (struct tm_timer *t = tm->head; t && t->deadline <= now; t = t->next)
        if (t->arm_seq <= snap)
            return t;
    return NULL;
}

uint64_t tm_due_host(struct tm_clock *tm)
{
    return __atomic_load_n(&tm->due_host, __ATOMIC_ACQUIRE);
}

uint64_t tm_host_now(struct tm_clock *tm)
{
    return tm->src.now_ns(tm->src.ctx);
}

bool tm_due(struct tm_clock *tm)
{
    uint64_t due = tm_due_host(tm);
    if (due != TM_NO_DEADLINE)
        return tm_host_now(tm) >= due;
    return __atomic_load_n(&tm->paused_due, __ATOMIC_ACQUIRE);
}

unsigned tm_poll(struct tm_clock *tm)
{
    unsigned n = 0;
    if (!tm_due(tm))
        return 0; /* the common case: no lock, at most one clock read */
    pthread_mutex_lock(&tm->lock);
    uint64_t now = now_locked(tm);
    /* Timers (re-)armed by a callback during this poll wait for the next
     * one, so a callback arming at or before `now` cannot spin forever. */
    uint64_t snap = tm->seq;
    struct tm_timer *t;
    while ((t = next_due_locked(tm, now, snap)) != NULL) {
        unlink_locked(t);
        tm_timer_fn fn = t->fn;
        void *user = t->user;
        pthread_mutex_unlock(&tm->lock);
        fn(user, t, now);
        n++;
        pthread_mutex_lock(&tm->lock);
    }
    pthread_mutex_unlock(&tm->lock);
    return n;
}

uint64_t tm_next_deadline(struct tm_clock *tm)
{
    pthread_mutex_lock(&tm->lock);
    uint64_t d = tm->head ? tm->head->deadline : TM_NO_DEADLINE;
    pthread_mutex_unlock(&tm->lock);
    return d;
}

uint64_t tm_ns_until_next(struct tm_clock *tm)
{
    uint64_t due = tm_due_host(tm);
    if (due == TM_NO_DEADLINE)
        return TM_NO_DEADLINE;
    uint64_t now = tm_host_now(tm);
    return due > now ? due - now : 0;
}
