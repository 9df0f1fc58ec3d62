/*
 * pit_ioapic.c - the I/O APIC (MMIO at 0xfec00000): ID and version
 * registers, a redirection entry that reads back, and the 8254 at 1 kHz
 * interrupting through the I/O APIC to the local APIC with the 8259s
 * masked. ISA IRQ0 is wired to pin 2 on a PC (the MADT's override); pin 0
 * is routed too, to another vector, and the transcript says which fired.
 */
#include "guest.h"

const char guest_name[] = "pit-ioapic";

enum { TICKS = 20, VEC_PIN0 = 0x50, VEC_PIN2 = 0x52 };
static volatile unsigned ticks, pin0, pin2;

static void irq(struct trap_frame *f)
{
    if (f->vector == VEC_PIN0)
        pin0++;
    else
        pin2++;
    ticks++;
    lapic_eoi();
}

void guest_main(void)
{
    uint32_t ver = ioapic_read(1);
    unsigned pins = ((ver >> 16) & 0xff) + 1;
    CHECK((ver & 0xff) == 0x11 || (ver & 0xff) == 0x20);
    CHECK(pins >= 16);
    gprintf("ok I/O APIC id %u version 0x%x, %u pins\n", ioapic_read(0) >> 24, ver & 0xff, pins);
    ioapic_route(5, 0x55, 0, 1);
    CHECK_EQ(ioapic_read(0x10 + 2 * 5), 0x10055);
    ioapic_write(0x10 + 2 * 5, 0x10000);

    lapic_enable(0xff);
    lapic_write(LAPIC_LVT_LINT0, 0x10000);
    trap_set(VEC_PIN0, irq);
    trap_set(VEC_PIN2, irq);
    uint8_t apic_id = (uint8_t)(lapic_read(LAPIC_ID) >> 24);
    ioapic_route(0, VEC_PIN0, apic_id, 0);
    ioapic_route(2, VEC_PIN2, apic_id, 0);
    pit_start(0, 2, (uint16_t)(PIT_HZ / 1000));
    for (unsigned halts = 0; ticks < TICKS && halts < 100000; halts++) {
        sti_hlt();
        cli();
    }
    ioapic_route(0, VEC_PIN0, apic_id, 1);
    ioapic_route(2, VEC_PIN2, apic_id, 1);
    if (ticks < TICKS)
        guest_fail("only %u of %u PIT interrupts arrived through the I/O APIC", ticks, TICKS);
    gprintf("ok %u PIT interrupts through the I/O APIC (pin 0: %u, pin 2: %u)\n", ticks, pin0,
            pin2);
}
