/*
 * pit_pic.c - the 8254 channel 0 as a 1 kHz rate generator interrupting
 * through the 8259 (IRQ0 -> vector 0x20): HLT wakes for each tick, IRQ0 is
 * in service inside the handler and not after EOI, a masked IRQ0 stays
 * pending in the IRR and arrives on unmasking, and a mode-0 one-shot
 * interrupts once.
 */
#include "guest.h"

const char guest_name[] = "pit-pic";

enum { TICKS = 20 };
static volatile unsigned ticks;
static volatile uint8_t isr_in_handler = 0xff, isr_after_eoi = 0xff;

static void tick(struct trap_frame *f)
{
    (void)f;
    if (ticks == 0) {
        isr_in_handler = pic_isr(0);
        pic_eoi(0);
        isr_after_eoi = pic_isr(0);
    } else {
        pic_eoi(0);
    }
    ticks++;
}

/* Runs with interrupts enabled for `tsc` TSC ticks. */
static void busy_sti(uint64_t tsc)
{
    sti();
    for (uint64_t t = rdtsc(); rdtsc() - t < tsc;)
        ;
    cli();
}

/* Waits for ticks to reach n with HLT; returns the number of HLTs. */
static unsigned wait_ticks(unsigned n)
{
    unsigned halts = 0;
    while (ticks < n && halts < 100000) {
        sti_hlt();
        cli();
        halts++;
    }
    if (ticks < n)
        guest_fail("only %u of %u timer interrupts arrived", ticks, n);
    return halts;
}

void guest_main(void)
{
    trap_set(PIC_VECTOR_BASE, tick);
    pit_start(0, 2, (uint16_t)(PIT_HZ / 1000));
    pic_mask(0, 0);
    CHECK_EQ(inb(0x21), 0xfe);
    uint64_t t0 = rdtsc();
    unsigned halts = wait_ticks(TICKS);
    uint64_t per_tick = (rdtsc() - t0) / TICKS;
    CHECK(halts >= TICKS / 2);
    CHECK_EQ(isr_in_handler & 1, 1);
    CHECK_EQ(isr_after_eoi & 1, 0);
    gprintf("ok %u PIT ticks through the PIC, %u HLTs, %llu TSC ticks per tick\n", ticks,
            halts, (unsigned long long)per_tick);

    /* Masked: nothing is delivered for ~3 ticks' time, but the IRR holds it. */
    pic_mask(0, 1);
    unsigned before = ticks;
    busy_sti(3 * per_tick);
    CHECK_EQ(ticks, before);
    CHECK_EQ(pic_irr(0) & 1, 1);
    /* Unmasked, the latched request is taken once IF is set. The rate
     * generator is stopped first (OUT stays high, the IRR keeps its bit):
     * its next edge may be due at any moment after the unmask, and a guest
     * preempted on a loaded host cannot tell the two apart by time. The
     * bound only turns a lost interrupt into a failure instead of a hang. */
    pit_stop(0);
    pic_mask(0, 0);
    sti();
    for (uint64_t t = rdtsc(); ticks == before && rdtsc() - t < 100 * per_tick;)
        ;
    cli();
    CHECK_EQ(ticks, before + 1);
    CHECK_EQ(pic_irr(0) & 1, 0);
    gprintf("ok masked IRQ0 pending in the IRR, delivered on unmask\n");

    /* Mode 0: one interrupt at terminal count, then none; OUT stays high.
     * The channel was stopped above, so the one-shot is the only source of
     * IRQ0: whenever it fires (even before the HLT, while IF is clear and
     * the guest is preempted) it is latched and wakes the HLT. */
    pit_start(0, 0, (uint16_t)(PIT_HZ / 1000));
    before = ticks;
    wait_ticks(before + 1);
    busy_sti(3 * per_tick);
    CHECK_EQ(ticks, before + 1);
    CHECK_EQ(pit_status(0) & 0x8e, 0x80); /* OUT high, mode 0 */
    pic_mask(0, 1);
    gprintf("ok mode 0 one-shot\n");
}
