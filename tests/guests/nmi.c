/*
 * nmi.c - NMIs through the local APIC, end to end: a self-NMI by the ICR's
 * "self" shorthand and one by physical destination = our own APIC ID, both
 * with IF clear and TPR at its highest (neither holds an NMI back); vector
 * 2 through the IDT with IF cleared in the handler; NMI blocking - an NMI
 * sent from inside the handler is not taken there, but right after the
 * handler's IRET; LVT LINT0 in NMI mode, the PIT's edge through the 8259
 * waking a HLT with IF clear.
 */
#include "guest.h"

const char guest_name[] = "nmi";

#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define ICR_NMI      (4u << 8)
#define ICR_SELF     (1u << 18)
#define LVT_NMI      (4u << 8)
#define LVT_MASKED   0x10000u
#define FL_IF        0x200u

static volatile unsigned nmis, depth, nested, send_in_handler, after_send;
static volatile ureg handler_flags, frame_flags;

static void nmi_handler(struct trap_frame *f)
{
    if (++depth > 1)
        nested++;
    nmis++;
    handler_flags = read_flags();
    frame_flags = f->flags;
    if (send_in_handler) {
        send_in_handler = 0;
        lapic_write(LAPIC_ICR_LO, ICR_NMI | ICR_SELF);
        /* blocked until our IRET: it must not come in while we spin */
        for (volatile unsigned i = 0; i < 2000; i++)
            __asm__ volatile("pause");
        after_send = nmis;
    }
    depth--;
}

/* Waits (IF clear) until nmis reaches n; fails after a generous bound. */
static void wait_nmis(unsigned n, const char *what)
{
    for (unsigned i = 0; nmis < n && i < 10000000; i++)
        __asm__ volatile("pause");
    if (nmis < n)
        guest_fail("%s: %u of %u NMIs arrived", what, nmis, n);
}

void guest_main(void)
{
    cli();
    trap_set(2, nmi_handler);
    lapic_enable(0xff);
    uint32_t id = lapic_read(LAPIC_ID) >> 24;
    lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
    lapic_write(LAPIC_LVT_LINT1, LVT_MASKED);
    lapic_write(LAPIC_TPR, 0xff); /* holds back every maskable vector, not an NMI */

    lapic_write(LAPIC_ICR_LO, ICR_NMI | ICR_SELF);
    wait_nmis(1, "self-NMI by shorthand");
    CHECK_EQ(frame_flags & FL_IF, 0);
    CHECK_EQ(handler_flags & FL_IF, 0);
    CHECK_EQ(read_flags() & FL_IF, 0);
    gprintf("ok self-NMI (ICR shorthand self) with IF clear and TPR 0xff\n");

    lapic_write(LAPIC_ICR_HI, id << 24);
    lapic_write(LAPIC_ICR_LO, ICR_NMI); /* physical, no shorthand */
    wait_nmis(2, "self-NMI by destination");
    gprintf("ok self-NMI to destination APIC ID %u\n", id);
    lapic_write(LAPIC_TPR, 0);

    /* blocking until IRET: the second one waits for the end of the first */
    send_in_handler = 1;
    lapic_write(LAPIC_ICR_LO, ICR_NMI | ICR_SELF);
    wait_nmis(4, "NMI held until IRET");
    CHECK_EQ(after_send, 3);
    CHECK_EQ(nested, 0);
    gprintf("ok an NMI sent inside the handler came after its IRET, not nested\n");

    /* LINT0 in NMI mode: the 8259's INTR edge (PIT one-shot) is an NMI and
     * wakes a HLT with IF clear */
    lapic_write(LAPIC_LVT_LINT0, LVT_NMI);
    /* mode 0: one edge after ~10 ms, long after the HLT below */
    pit_start(0, 0, (uint16_t)(PIT_HZ / 100));
    pic_mask(0, 0);
    unsigned halts = 0;
    while (nmis < 5 && halts < 100) {
        __asm__ volatile("hlt" ::: "memory");
        halts++;
    }
    if (nmis < 5)
        guest_fail("LINT0 NMI: no NMI after %u HLTs", halts);
    CHECK_EQ(read_flags() & FL_IF, 0);
    pic_mask(0, 1);
    lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
    gprintf("ok LINT0 in NMI mode: the PIT's edge through the 8259 woke HLT (IF clear)\n");
    CHECK_EQ(nested, 0);
}
