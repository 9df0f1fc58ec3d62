/*
 * lapic_timer.c - the local APIC (MMIO at 0xfee00000, identity-mapped): the APIC base MSR, ID and version registers, the timer in
 * periodic mode (HLT wakes, ISR set in the handler, TMCCT counts down), a
 * masked LVT, the one-shot mode, and TPR holding back a lower-priority
 * interrupt until it drops.
 */
#include "guest.h"

const char guest_name[] = "lapic-timer";

enum { TICKS = 20, VEC_PERIODIC = 0x40, VEC_ONESHOT = 0x41, VEC_SPURIOUS = 0xff };
#define COUNT 100000u

static volatile unsigned ticks, spurious;
static volatile uint32_t isr_in_handler;

static void tick(struct trap_frame *f)
{
    (void)f;
    if (ticks == 0)
        isr_in_handler = lapic_read(LAPIC_ISR + 0x10 * (VEC_PERIODIC / 32));
    ticks++;
    lapic_eoi();
}

static void oneshot(struct trap_frame *f)
{
    (void)f;
    ticks++;
    lapic_eoi();
}

static void spur(struct trap_frame *f)
{
    (void)f;
    spurious++;
}

static void wait_ticks(unsigned n)
{
    for (unsigned halts = 0; ticks < n && halts < 100000; halts++) {
        sti_hlt();
        cli();
    }
    if (ticks < n)
        guest_fail("only %u of %u LAPIC timer interrupts arrived", ticks, n);
}

static void busy(uint64_t tsc)
{
    sti();
    for (uint64_t t = rdtsc(); rdtsc() - t < tsc;)
        ;
    cli();
}

void guest_main(void)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    CHECK(r[3] & (1u << 9));
    uint64_t base = rdmsr(MSR_APIC_BASE);
    CHECK_EQ(base & 0xfffff000u, LAPIC_BASE);
    CHECK(base & 0x100); /* BSP */
    lapic_enable(VEC_SPURIOUS);
    CHECK(rdmsr(MSR_APIC_BASE) & 0x800);
    uint32_t ver = lapic_read(LAPIC_VER);
    CHECK((ver & 0xff) >= 0x10 && (ver & 0xff) <= 0x15);
    CHECK(((ver >> 16) & 0xff) >= 3);
    CHECK_EQ(lapic_read(LAPIC_ID) >> 24, r[1] >> 24);
    CHECK_EQ(lapic_read(LAPIC_SVR) & 0x1ff, 0x100 | VEC_SPURIOUS);
    lapic_write(LAPIC_LVT_LINT0, 0x10000); /* masked: the PIC is not used */
    trap_set(VEC_PERIODIC, tick);
    trap_set(VEC_ONESHOT, oneshot);
    trap_set(VEC_SPURIOUS, spur);
    gprintf("ok local APIC version 0x%x id %u\n", ver, lapic_read(LAPIC_ID) >> 24);

    lapic_write(LAPIC_TDCR, 0x3); /* divide by 16 */
    lapic_write(LAPIC_LVT_TIMER, VEC_PERIODIC | 0x20000);
    lapic_write(LAPIC_TMICT, COUNT);
    uint32_t c1 = lapic_read(LAPIC_TMCCT);
    CHECK(c1 <= COUNT);
    uint64_t t0 = rdtsc();
    wait_ticks(TICKS);
    uint64_t per_tick = (rdtsc() - t0) / TICKS;
    CHECK(isr_in_handler & (1u << (VEC_PERIODIC % 32)));
    CHECK_EQ(lapic_read(LAPIC_ISR + 0x10 * (VEC_PERIODIC / 32)) & (1u << (VEC_PERIODIC % 32)), 0);
    gprintf("ok %u periodic timer interrupts, %llu TSC ticks each\n", ticks,
            (unsigned long long)per_tick);

    /* Masked LVT: the timer runs, nothing is delivered. A tick that came
     * before the mask (IF clear) waits in the IRR: let it in first, by
     * looking at the IRR rather than at the time, which a guest preempted
     * on a loaded host cannot judge (the bound only turns a lost interrupt
     * into a failure). */
    const unsigned irr_periodic = LAPIC_IRR + 0x10 * (VEC_PERIODIC / 32);
    lapic_write(LAPIC_LVT_TIMER, VEC_PERIODIC | 0x20000 | 0x10000);
    sti();
    for (uint64_t t = rdtsc();
         (lapic_read(irr_periodic) & (1u << (VEC_PERIODIC % 32))) && rdtsc() - t < 100 * per_tick;)
        ;
    cli();
    CHECK_EQ(lapic_read(irr_periodic) & (1u << (VEC_PERIODIC % 32)), 0);
    unsigned before = ticks;
    busy(3 * per_tick);
    CHECK_EQ(ticks, before);

    /* One-shot: one interrupt, then TMCCT stays 0. The periodic count is
     * stopped first (TMICT 0): a new LVT mode does not restart the count,
     * so an expiry between the LVT and TMICT writes would deliver the new
     * vector from the old count. */
    lapic_write(LAPIC_TMICT, 0);
    lapic_write(LAPIC_LVT_TIMER, VEC_ONESHOT);
    lapic_write(LAPIC_TMICT, COUNT);
    wait_ticks(before + 1);
    busy(3 * per_tick);
    CHECK_EQ(ticks, before + 1);
    CHECK_EQ(lapic_read(LAPIC_TMCCT), 0);
    gprintf("ok masked LVT, one-shot\n");

    /* TPR class 5 holds back vector 0x41 (class 4) until it drops. */
    lapic_write(LAPIC_TPR, 0x50);
    lapic_write(LAPIC_TMICT, COUNT);
    busy(3 * per_tick);
    CHECK_EQ(ticks, before + 1);
    CHECK(lapic_read(LAPIC_IRR + 0x10 * (VEC_ONESHOT / 32)) & (1u << (VEC_ONESHOT % 32)));
    lapic_write(LAPIC_TPR, 0);
    sti();
    for (uint64_t t = rdtsc(); ticks == before + 1 && rdtsc() - t < 100 * per_tick;)
        ;
    cli();
    CHECK_EQ(ticks, before + 2);
    CHECK_EQ(spurious, 0);
    lapic_write(LAPIC_LVT_TIMER, 0x10000);
    gprintf("ok TPR holds back a lower-priority interrupt\n");
}
