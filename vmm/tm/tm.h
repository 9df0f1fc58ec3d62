/*
 * vmm/tm/tm.h - TM: the virtual clock and device timers.
 *
 * The virtual clock (nanoseconds, starting at 0 when the VM is created) is
 * what guests and devices see as time. It advances with the host clock
 * while the VM runs and stands still while it is paused, so a paused VM
 * does not see time jump when resumed. Tests inject their own time source
 * and warp the clock forward to fire timers deterministically.
 *
 * Timers are kept in a queue sorted by deadline. They never fire on their
 * own: the EM loop calls tm_poll() between guest stretches, which runs the
 * expired timers' callbacks on that thread, and asks tm_next_deadline() how
 * long a halted vCPU may sleep. A callback may re-arm its own timer (a
 * periodic timer); a timer re-armed at or before "now" from its callback
 * fires on the next poll, not in the same one, so no callback can spin the
 * loop forever.
 *
 * TSC policy: the guest TSC is derived from the virtual clock,
 *     tsc = virtual_ns * tsc_hz / 1e9 + tsc_offset,
 * so it is monotonic, stops while the VM is paused, and runs at a fixed
 * advertised rate (invariant TSC; tm_tsc_hz(), default 1 GHz so guest
 * ticks are nanoseconds) whatever the host's TSC rate. Engines that let
 * the guest read the host TSC directly (hwaccm over KVM) program KVM's TSC
 * offset/scaling from this formula at resume; engines that emulate RDTSC
 * (rem) call tm_tsc(). A guest WRMSR to the TSC changes tsc_offset only.
 *
 * Nothing here is global: one struct tm_clock per VM.
 *
 * Threads: every function is thread-safe (one mutex per struct tm_clock);
 * callbacks run on the thread calling tm_poll() without TM's lock held, so
 * they may arm and disarm timers. A timer must not be destroyed while its
 * callback runs on another thread.
 */
#ifndef CAPSULE_VMM_TM_H
#define CAPSULE_VMM_TM_H

#include <stdbool.h>
#include <stdint.h>

#include <capsule/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Exported from libcapsule-vmm.so (built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

struct tm_clock;
struct tm_timer;

#define TM_NO_DEADLINE UINT64_MAX

/*
 * The shortest period at which a periodic device timer (PIT modes 2/3,
 * the local APIC's periodic mode, the RTC's periodic interrupt) raises its
 * interrupt: 200 us, KVM's min_timer_period_us for its in-kernel PIT and
 * LAPIC (a guest may program 1 ns; no host can run a callback, kick the
 * engine and deliver an interrupt that often and still run the guest).
 * Devices keep counting at the programmed rate - what the guest reads back
 * (PIT count, APIC current count) is computed from the clock - and only
 * the rate of the interrupt and of TM callbacks is bounded. The one owner
 * of the number: devices ask for it through PDM (hlp->timer_min_period_ns).
 */
#define TM_MIN_PERIOD_NS 200000u

/* A source of host time in nanoseconds, monotonic. NULL: CLOCK_MONOTONIC. */
struct tm_clock_source {
    uint64_t (*now_ns)(void *ctx);
    void *ctx;
};

/* Called with the virtual time at which tm_poll() ran it. */
typedef void (*tm_timer_fn)(void *user, struct tm_timer *timer, uint64_t now);

/*
 * Creates the clock, paused at virtual time 0. `src` is copied (NULL: the
 * host's monotonic clock). CAP_E_OUTOFMEMORY / CAP_E_FAIL on failure.
 */
cap_result tm_create(const struct tm_clock_source *src, struct tm_clock **out);
/* Frees the clock and every timer still created on it. NULL is fine. */
void tm_destroy(struct tm_clock *tm);

/* Starts / stops the virtual clock (idempotent). */
void tm_resume(struct tm_clock *tm);
void tm_pause(struct tm_clock *tm);
bool tm_is_running(struct tm_clock *tm);

/* The current virtual time in ns. */
uint64_t tm_now(struct tm_clock *tm);

/* Moves the virtual clock forward by delta_ns (tests, and catching up
 * after a debugger stop). It never goes backwards. */
void tm_warp(struct tm_clock *tm, uint64_t delta_ns);

/*
 * Saved state: the virtual time, the TSC offset and rate. tm_get_state
 * reads them (any time); tm_set_state applies them to a paused clock
 * (CAP_E_UNEXPECTED while it runs), moving virtual time to virtual_ns
 * (backwards too: a restore into a fresh VM). Timers keep their absolute
 * deadlines: whoever restores the clock re-arms its timers after it.
 */
struct tm_state {
    uint64_t virtual_ns;
    int64_t tsc_offset;
    uint64_t tsc_hz;
};
void tm_get_state(struct tm_clock *tm, struct tm_state *out);
cap_result tm_set_state(struct tm_clock *tm, const struct tm_state *st);

/* Guest TSC (see the policy above). */
uint64_t tm_tsc(struct tm_clock *tm);
uint64_t tm_tsc_hz(struct tm_clock *tm);
void tm_set_tsc_hz(struct tm_clock *tm, uint64_t hz);
/* Makes tm_tsc() return `value` now (guest WRMSR IA32_TSC). */
void tm_set_tsc(struct tm_clock *tm, uint64_t value);

/*
 * Creates a disarmed timer; `fn` runs from tm_poll() once the virtual clock
 * passes its deadline. `desc` (copied) names it in dumps.
 */
cap_result tm_timer_create(struct tm_clock *tm, tm_timer_fn fn, void *user, const char *desc,
                           struct tm_timer **out);
/* Disarms and frees it. NULL is fine. */
void tm_timer_destroy(struct tm_timer *t);
/* (Re)arms the timer for absolute virtual time `deadline`. */
void tm_timer_arm(struct tm_timer *t, uint64_t deadline);
/* Arms it `delta_ns` from now; returns the deadline. */
uint64_t tm_timer_arm_rel(struct tm_timer *t, uint64_t delta_ns);
void tm_timer_disarm(struct tm_timer *t);
bool tm_timer_armed(struct tm_timer *t);
/* The deadline, or TM_NO_DEADLINE when disarmed. */
uint64_t tm_timer_deadline(struct tm_timer *t);

/*
 * Runs every timer whose deadline is <= the current virtual time, in
 * deadline order. Returns the number run. Call from the EM loop thread.
 */
unsigned tm_poll(struct tm_clock *tm);
/* The earliest deadline (virtual ns), or TM_NO_DEADLINE. */
uint64_t tm_next_deadline(struct tm_clock *tm);
/* How long (host ns) a halted vCPU may sleep before the next deadline:
 * 0 if one has passed, TM_NO_DEADLINE if none is armed or the clock is
 * paused. */
uint64_t tm_ns_until_next(struct tm_clock *tm);

/*
 * The same questions without TM's lock, for the EM loop that asks around
 * every guest exit (each is an atomic load, plus one read of the clock
 * source while a timer is armed):
 *   tm_due       whether tm_poll() would run a timer now;
 *   tm_due_host  the host time (the clock source's, CLOCK_MONOTONIC by
 *                default) at which the earliest timer falls due; 0 if it
 *                already has, TM_NO_DEADLINE if none is armed or the clock
 *                is paused;
 *   tm_host_now  the clock source's current time.
 * A timer armed by another thread concurrently may be seen a call late,
 * as with the locked calls.
 */
bool tm_due(struct tm_clock *tm);
uint64_t tm_due_host(struct tm_clock *tm);
uint64_t tm_host_now(struct tm_clock *tm);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* CAPSULE_VMM_TM_H */
