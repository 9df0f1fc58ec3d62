/*
 * cpl3_irq.c - timer interrupts while 64-bit user code runs: the 8254 at
 * 1 kHz through the 8259 (IRQ0 -> vector 0x20) interrupts a CPL3 loop that
 * never leaves by itself; the handler (CPL0) counts the ticks that found the
 * CPU at CPL3 and publishes the count in a user page, and the loop ends when
 * it sees TICKS of them (ud2). Under --engine raw the loop runs natively in
 * KVM: each tick is a kick out of it, rem delivers the interrupt through the
 * guest's IDT and returns to the loop; an interrupt left queued while user
 * code ran on would hang the loop (its iteration cap turns that into a
 * failure). Every other engine must pass it too.
 */
#include "guest.h"

const char guest_name[] = "cpl3-irq";

enum { TICKS = 20 };

/* User side: spin until u_seen >= TICKS or the cap runs out; rax = the
 * iterations left (0: the cap ran out). */
__asm__(".pushsection .user, \"ax\"\n"
        ".balign 16\n"
        "u_spin: mov $"
        "20000000000"
        ", %rax\n"
        "1: cmpl $"
        "20"
        ", u_seen(%rip)\n"
        "  jae 2f\n"
        "  dec %rax\n"
        "  jnz 1b\n"
        "2: ud2\n"
        ".balign 8\n"
        "u_seen: .long 0\n"
        ".balign 16\n"
        "u_stack: .fill 1024, 1, 0\n"
        "u_stack_top:\n"
        ".popsection");
extern const char u_spin[], u_stack_top[];
extern volatile uint32_t u_seen;

static volatile unsigned ticks, user_ticks;

static void tick(struct trap_frame *f)
{
    pic_eoi(0);
    ticks++;
    if ((f->cs & 3) == 3)
        u_seen = ++user_ticks;
}

void guest_main(void)
{
    /* Make the 2 MiB page at 4 MiB (.user) a user page, as cpl3 does. */
    volatile uint64_t *pml4 = pg4_root();
    volatile uint64_t *pdpt = (volatile uint64_t *)(ureg)(pml4[0] & 0xffffffffff000ull);
    volatile uint64_t *pd = (volatile uint64_t *)(ureg)(pdpt[0] & 0xffffffffff000ull);
    CHECK_EQ((ureg)u_spin >> 21, 2);
    pd[2] |= PTE_U;
    write_cr3(read_cr3());

    trap_set(PIC_VECTOR_BASE, tick);
    pit_start(0, 2, (uint16_t)(PIT_HZ / 1000));
    pic_mask(0, 0);
    struct trap_info ti;
    uint64_t t0 = rdtsc();
    int v = user_run((ureg)u_spin, (ureg)u_stack_top, &ti);
    uint64_t dt = rdtsc() - t0;
    pic_mask(0, 1);
    pit_stop(0);
    if (v != 6 || ti.cpl != 3)
        guest_fail("the user loop came back with vector %d at CPL %u", v, ti.cpl);
    if (!ti.ax || user_ticks < TICKS)
        guest_fail("only %u of %u timer interrupts reached the CPL3 loop (%u in all; %lu "
                   "iterations left)",
                   user_ticks, TICKS, ticks, (unsigned long)ti.ax);
    gprintf("ok %u PIT ticks interrupted the CPL3 loop (%u in all), %llu TSC ticks each\n",
            user_ticks, ticks, (unsigned long long)(dt / user_ticks));
}
