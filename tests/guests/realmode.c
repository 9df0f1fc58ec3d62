/*
 * realmode.c - real mode: drops from protected mode to real mode and back
 * (realmode_call()) and checks what the 16-bit code in realmode16.S
 * computed there: arithmetic and flags, 32-bit operands, segment
 * arithmetic, a far call through another CS, INT through the IVT, string
 * instructions, the stack.
 */
#include "guest.h"

const char guest_name[] = "realmode";

struct rm_results {
    uint16_t msw, add, mul_lo, mul_hi, div_q, div_r;
    uint32_t r32;
    uint16_t flags, seg, farcs, intr, intflags, cmps, sp, loop, done;
};
extern const char rm_blob[], rm_blob_end[];
extern const struct rm_results rm_results;

void guest_main(void)
{
    const volatile struct rm_results *r =
        (const void *)(REALMODE_BASE + ((const char *)&rm_results - rm_blob));
    realmode_call(rm_blob, (size_t)(rm_blob_end - rm_blob), 0);
    CHECK_EQ(r->done, 0x600d);
    CHECK_EQ(r->msw & 1, 0); /* CR0.PE clear */
    CHECK_EQ(r->add, 0x5555);
    CHECK_EQ(r->mul_lo, 0x3400);
    CHECK_EQ(r->mul_hi, 0x0012);
    CHECK_EQ(r->div_q, 0x0123);
    CHECK_EQ(r->div_r, 0x0045);
    CHECK_EQ(r->flags, 0x0095); /* 5 - 6: CF PF AF SF */
    CHECK_EQ(r->r32, 0x23456789);
    CHECK_EQ(r->seg, 0xbeef);
    CHECK_EQ(*(volatile uint16_t *)0x10010, 0xbeef);
    CHECK_EQ(r->farcs, 0x0600);
    CHECK_EQ(r->intr, 0x177);
    CHECK_EQ(r->intflags & 0x200, 0); /* INT clears IF */
    CHECK_EQ(r->cmps, 0);
    CHECK_EQ(r->sp, 0);
    CHECK_EQ(r->loop, 55);
    /* Back in 32-bit protected mode with the runtime's descriptors. */
    uint16_t cs;
    __asm__ volatile("mov %%cs,%0" : "=r"(cs));
    CHECK_EQ(cs, SEL_CODE32);
    CHECK(read_cr0() & CR0_PE);
    gprintf("ok real mode: arithmetic, segments, far call, int, strings, stack\n");
}
