/*
 * hw.c - helpers for the interrupt controllers and the timer: the 8259
 * pair, the 8254, the local APIC and the I/O APIC at their usual addresses
 * (identity-mapped in both builds).
 */
#include "guest.h"

/* ---- 8259 ------------------------------------------------------------- */

void pic_init(uint8_t master_base, uint8_t slave_base)
{
    outb(0x20, 0x11); /* ICW1: edge, cascade, ICW4 */
    outb(0xa0, 0x11);
    outb(0x21, master_base);
    outb(0xa1, slave_base);
    outb(0x21, 0x04); /* slave on IRQ2 */
    outb(0xa1, 0x02);
    outb(0x21, 0x01); /* 8086 mode */
    outb(0xa1, 0x01);
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
}

void pic_mask(unsigned irq, int masked)
{
    uint16_t port = irq < 8 ? 0x21 : 0xa1;
    uint8_t bit = (uint8_t)(1u << (irq & 7));
    uint8_t m = inb(port);
    outb(port, masked ? (uint8_t)(m | bit) : (uint8_t)(m & ~bit));
}

void pic_eoi(unsigned irq)
{
    if (irq >= 8)
        outb(0xa0, 0x20);
    outb(0x20, 0x20);
}

uint8_t pic_isr(int slave)
{
    uint16_t p = slave ? 0xa0 : 0x20;
    outb(p, 0x0b); /* OCW3: read ISR */
    uint8_t v = inb(p);
    outb(p, 0x0a); /* back to IRR */
    return v;
}

uint8_t pic_irr(int slave)
{
    uint16_t p = slave ? 0xa0 : 0x20;
    outb(p, 0x0a);
    return inb(p);
}

/* ---- 8254 ------------------------------------------------------------- */

void pit_start(unsigned ch, unsigned mode, uint16_t count)
{
    outb(0x43, (uint8_t)((ch << 6) | 0x30 | (mode << 1)));
    outb((uint16_t)(0x40 + ch), (uint8_t)count);
    outb((uint16_t)(0x40 + ch), (uint8_t)(count >> 8));
}

void pit_stop(unsigned ch)
{
    outb(0x43, (uint8_t)((ch << 6) | 0x30 | (2 << 1)));
}

uint8_t pit_status(unsigned ch)
{
    outb(0x43, (uint8_t)(0xe0 | (2u << ch))); /* read-back: status only */
    return inb((uint16_t)(0x40 + ch));
}

uint16_t pit_latch(unsigned ch)
{
    outb(0x43, (uint8_t)(ch << 6)); /* counter latch */
    uint8_t lo = inb((uint16_t)(0x40 + ch));
    uint8_t hi = inb((uint16_t)(0x40 + ch));
    return (uint16_t)(lo | (hi << 8));
}

/* ---- local APIC, I/O APIC ------------------------------------------- */

uint32_t lapic_read(unsigned reg)
{
    return *(volatile uint32_t *)(ureg)(LAPIC_BASE + reg);
}

void lapic_write(unsigned reg, uint32_t v)
{
    *(volatile uint32_t *)(ureg)(LAPIC_BASE + reg) = v;
}

void lapic_enable(uint8_t spurious_vector)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);
    if (!(base & 0x800))
        wrmsr(MSR_APIC_BASE, base | 0x800);
    lapic_write(LAPIC_SVR, 0x100u | spurious_vector);
    lapic_write(LAPIC_TPR, 0);
}

void lapic_eoi(void)
{
    lapic_write(LAPIC_EOI, 0);
}

uint32_t ioapic_read(unsigned reg)
{
    *(volatile uint32_t *)(ureg)IOAPIC_BASE = reg;
    return *(volatile uint32_t *)(ureg)(IOAPIC_BASE + 0x10);
}

void ioapic_write(unsigned reg, uint32_t v)
{
    *(volatile uint32_t *)(ureg)IOAPIC_BASE = reg;
    *(volatile uint32_t *)(ureg)(IOAPIC_BASE + 0x10) = v;
}

void ioapic_route(unsigned pin, uint8_t vector, uint8_t apic_id, int masked)
{
    ioapic_write(0x11 + 2 * pin, (uint32_t)apic_id << 24);
    ioapic_write(0x10 + 2 * pin, vector | (masked ? 0x10000u : 0));
}
