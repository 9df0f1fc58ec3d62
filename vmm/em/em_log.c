/*
 * em_log.c - the VM's log path: em_log for what the VMM itself says (engine
 * choice, power states, why the VM stopped), em_log_guest for lines a guest
 * can cause at will (device messages through PDM's hlp->log, IOM's
 * unclaimed accesses, resets, A20). A guest that writes port 0x80 or
 * resets the machine in a loop would otherwise fill the host's disk through
 * the VM log (issue 19: 250 MB in 10 s), so guest-triggered lines pass a
 * token bucket per source ("who"): a burst of EM_LOG_BURST lines, then
 * one per EM_LOG_INTERVAL_NS. The lines the bucket holds back are counted;
 * the count is said ("serial0: 1234 messages suppressed (rate limit)")
 * before the source's next line that passes, and for every source at
 * em_log_flush_suppressed (the VM's end).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "em_internal.h"

static void sink(struct vm *vm, const char *who, enum vm_log_level level, const char *msg)
{
    if (vm->cfg.log)
        vm->cfg.log(vm->cfg.log_ctx, who, level, msg);
    else
        fprintf(stderr, "%s: %s\n", who, msg);
}

void em_log(struct vm *vm, const char *who, enum vm_log_level level, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sink(vm, who, level, msg);
}

void em_log_limit_init(struct em_log_limit *l)
{
    memset(l, 0, sizeof(*l));
    pthread_mutex_init(&l->lock, NULL);
}

void em_log_limit_destroy(struct em_log_limit *l)
{
    pthread_mutex_destroy(&l->lock);
}

/* The bucket of `who`; a new one starts full. Past EM_LOG_SOURCES names
 * every further source shares the last slot (named "other"). Lock held. */
static struct em_log_source *source(struct em_log_limit *l, const char *who, uint64_t now)
{
    for (unsigned i = 0; i < l->n; i++)
        if (!strcmp(l->src[i].who, who))
            return &l->src[i];
    if (l->n == EM_LOG_SOURCES)
        return &l->src[EM_LOG_SOURCES - 1];
    struct em_log_source *s = &l->src[l->n++];
    snprintf(s->who, sizeof(s->who), "%s", l->n == EM_LOG_SOURCES ? "other" : who);
    s->credit_ns = EM_LOG_BURST * EM_LOG_INTERVAL_NS;
    s->last_ns = now;
    return s;
}

/* Takes one line's worth of credit; false: the line is suppressed. */
static bool take(struct em_log_source *s, uint64_t now)
{
    const uint64_t full = EM_LOG_BURST * EM_LOG_INTERVAL_NS;
    uint64_t gained = now > s->last_ns ? now - s->last_ns : 0;
    s->last_ns = now;
    s->credit_ns = full - s->credit_ns < gained ? full : s->credit_ns + gained;
    if (s->credit_ns < EM_LOG_INTERVAL_NS) {
        s->suppressed++;
        return false;
    }
    s->credit_ns -= EM_LOG_INTERVAL_NS;
    return true;
}

static void say_suppressed(struct vm *vm, struct em_log_source *s)
{
    char msg[128];
    snprintf(msg, sizeof(msg), "%llu messages suppressed (rate limit: %u, then 1 per %u ms)",
             (unsigned long long)s->suppressed, (unsigned)EM_LOG_BURST,
             (unsigned)(EM_LOG_INTERVAL_NS / 1000000));
    s->total_suppressed += s->suppressed;
    s->suppressed = 0;
    sink(vm, s->who, VM_LOG_WARN, msg);
}

void em_log_guest(struct vm *vm, const char *who, enum vm_log_level level, const char *fmt, ...)
{
    struct em_log_limit *l = &vm->log_limit;
    uint64_t now = em_now_ns();
    pthread_mutex_lock(&l->lock);
    struct em_log_source *s = source(l, who, now);
    if (take(s, now)) {
        char msg[768];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (s->suppressed)
            say_suppressed(vm, s);
        sink(vm, who, level, msg);
    }
    pthread_mutex_unlock(&l->lock);
}

void em_log_flush_suppressed(struct vm *vm)
{
    struct em_log_limit *l = &vm->log_limit;
    pthread_mutex_lock(&l->lock);
    for (unsigned i = 0; i < l->n; i++)
        if (l->src[i].suppressed)
            say_suppressed(vm, &l->src[i]);
    pthread_mutex_unlock(&l->lock);
}

uint64_t vm_log_suppressed(struct vm *vm)
{
    struct em_log_limit *l = &vm->log_limit;
    uint64_t n = 0;
    pthread_mutex_lock(&l->lock);
    for (unsigned i = 0; i < l->n; i++)
        n += l->src[i].suppressed + l->src[i].total_suppressed;
    pthread_mutex_unlock(&l->lock);
    return n;
}
