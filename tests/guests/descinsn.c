/*
 * descinsn.c - the descriptor-checking instructions LAR, LSL, VERR and VERW
 * in 32-bit protected mode (apart from pmode32.c because the PVM flavour
 * of KVM on the project's hosts cannot emulate them in guest kernel code:
 * they need the software CPU there).
 */
#include "guest.h"

const char guest_name[] = "descinsn";

#define SEL_BASED (SEL_SPARE)  /* data, base 0x200000, limit 0xfff */
#define SEL_RO (SEL_SPARE + 8) /* read-only data, flat */

void guest_main(void)
{
    gdt_set(SEL_BASED, 0x200000, 0xfff, 0x92, 0x4);
    gdt_set(SEL_RO, 0, 0xfffff, 0x90, 0xc);
    uint32_t limit, ar, ok;
    __asm__ volatile("lsl %2,%0" : "=r"(limit) : "0"(0), "r"((uint32_t)SEL_BASED));
    CHECK_EQ(limit, 0xfff);
    __asm__ volatile("lar %2,%0" : "=r"(ar) : "0"(0), "r"((uint32_t)SEL_CODE32));
    /* the second dword & 0x00f0ff00, as the descriptor is now: whether the
     * CPU set the accessed bit when CS was loaded differs between CPUs
     * (hardware and KVM's emulator set it, QEMU's TCG does not) */
    CHECK_EQ(ar, (uint32_t)(gdt[SEL_CODE32 >> 3] >> 32) & 0x00f0ff00u);
    CHECK_EQ(ar & ~0x100u, 0xc09a00);
    __asm__ volatile("xor %0,%0; verr %w1; setz %b0" : "=&q"(ok) : "r"(SEL_RO));
    CHECK_EQ(ok, 1);
    __asm__ volatile("xor %0,%0; verw %w1; setz %b0" : "=&q"(ok) : "r"(SEL_RO));
    CHECK_EQ(ok, 0);
    uint32_t zf, l2 = 0;
    __asm__ volatile("xor %0,%0; lsl %2,%1; setz %b0" : "=&q"(zf), "+r"(l2) : "r"(0x1000u));
    CHECK_EQ(zf, 0); /* a selector past the GDT limit: ZF clear */
    gprintf("ok lar, lsl, verr, verw\n");
}
