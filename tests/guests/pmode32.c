/*
 * pmode32.c - 32-bit protected mode: segment bases and limits (a #GP past
 * the limit, on a null selector, on a read-only SS), flags, string
 * instructions both ways, far jump/call/return through other code
 * selectors, #DE with the faulting EIP, and #UD. (LAR/LSL/VERR/VERW are
 * in descinsn.c: this host's KVM cannot emulate them.)
 */
#include "guest.h"

const char guest_name[] = "pmode32";

#define SEL_BASED (SEL_SPARE)      /* data, base 0x200000, limit 0xfff */
#define SEL_RO (SEL_SPARE + 8)     /* read-only data, flat */
#define SEL_CODE_ALIAS (SEL_SPARE + 16) /* code, flat, a second selector */

static uint32_t buf[1024] __attribute__((aligned(4096)));

static void segments(void)
{
    volatile uint32_t *phys = (volatile uint32_t *)0x200000;
    gdt_set(SEL_BASED, 0x200000, 0xfff, 0x92, 0x4);
    gdt_set(SEL_RO, 0, 0xfffff, 0x90, 0xc);
    phys[1] = 0x11223344;
    uint32_t v;
    __asm__ volatile("mov %w2,%%fs; movl %%fs:4,%0; movl $0xcafe,%%fs:8; mov %w3,%%fs"
                     : "=&r"(v) : "m"(buf), "r"(SEL_BASED), "r"(0) : "memory");
    CHECK_EQ(v, 0x11223344);
    CHECK_EQ(phys[2], 0xcafe);
}

static void past_limit(void *a)
{
    (void)a;
    uint32_t v;
    __asm__ volatile("mov %w1,%%fs; movl %%fs:0xffe,%0" : "=r"(v) : "r"(SEL_BASED));
}

static void null_selector(void *a)
{
    (void)a;
    uint32_t v;
    __asm__ volatile("mov %w1,%%fs; movl %%fs:0,%0" : "=r"(v) : "r"(0));
}

static void ro_stack(void *a)
{
    (void)a;
    __asm__ volatile("mov %%ss,%%ax; mov %w0,%%ss; mov %%ax,%%ss" : : "r"(SEL_RO) : "eax");
}

static void divide_by_zero(void *a)
{
    volatile uint32_t zero = 0;
    *(uint32_t *)a = 100 / zero;
}

static void undefined(void *a)
{
    (void)a;
    __asm__ volatile("ud2");
}

extern const char div_insn[];
static void divide_at_label(void *a)
{
    (void)a;
    __asm__ volatile("xor %%ecx,%%ecx; mov $1,%%eax; xor %%edx,%%edx\n"
                     ".globl div_insn\ndiv_insn: div %%ecx" : : : "eax", "ecx", "edx");
}

static void check_faults(void)
{
    struct trap_info ti;
    int v = trap_run(past_limit, NULL, &ti);
    if (v == -1 && guest_on_tcg())
        gprintf("note: no #GP past a segment limit (QEMU TCG does not check limits)\n");
    else {
        CHECK_EQ(v, 13);
        CHECK_EQ(ti.error, 0);
    }
    v = trap_run(null_selector, NULL, &ti);
    if (v == -1 && guest_on_tcg())
        gprintf("note: no #GP through a null selector (QEMU TCG does not check)\n");
    else {
        CHECK_EQ(v, 13);
        CHECK_EQ(ti.error, 0);
    }
    CHECK_EQ(trap_run(ro_stack, NULL, &ti), 13);
    CHECK_EQ(ti.error, SEL_RO); /* the selector that was refused */
    uint32_t out;
    CHECK_EQ(trap_run(divide_by_zero, &out, &ti), 0);
    CHECK_EQ(trap_run(divide_at_label, NULL, &ti), 0);
    CHECK_EQ(ti.ip, (ureg)div_insn); /* #DE is a fault: EIP of the DIV */
    CHECK_EQ(trap_run(undefined, NULL, &ti), 6);
    CHECK_EQ(ti.cpl, 0);
}

static void flags(void)
{
    uint32_t f;
    __asm__ volatile("mov $0x7fffffff,%%eax; add $1,%%eax; pushf; pop %0" : "=r"(f) : : "eax");
    CHECK_EQ(f & 0x8d5, 0x894); /* OF SF AF PF, no CF/ZF */
    __asm__ volatile("mov $0xffffffff,%%eax; add $1,%%eax; pushf; pop %0" : "=r"(f) : : "eax");
    CHECK_EQ(f & 0x8d5, 0x055); /* CF ZF AF PF */
    __asm__ volatile("stc; pushf; pop %0; clc" : "=r"(f));
    CHECK_EQ(f & 1, 1);
    __asm__ volatile("std; pushf; pop %0; cld" : "=r"(f));
    CHECK(f & 0x400);
    /* AC and ID are writable on a 486+ with CPUID. */
    __asm__ volatile("pushf; pop %%eax; xor $0x200000,%%eax; push %%eax; popf; pushf; pop %0;"
                     "xor $0x200000,%%eax; push %%eax; popf" : "=r"(f) : : "eax");
    CHECK(((f ^ read_flags()) & 0x200000) != 0);
    uint32_t r[4];
    cpuid(0, 0, r);
    CHECK(r[0] >= 1);
    uint32_t vendor[4] = {r[1], r[3], r[2], 0};
    gprintf("cpuid vendor %s, max leaf 0x%x\n", (const char *)vendor, r[0]);
}

static void strings(void)
{
    static char src[64], dst[64];
    for (int i = 0; i < 64; i++)
        src[i] = (char)(i * 3 + 1);
    uint32_t d = (uint32_t)dst, s = (uint32_t)src, n = 64;
    __asm__ volatile("cld; rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    CHECK_EQ(n, 0);
    CHECK_EQ(d, (uint32_t)dst + 64);
    CHECK(memcmp(src, dst, 64) == 0);
    /* Backwards with DF=1: stosl from the end. */
    d = (uint32_t)&buf[15];
    n = 16;
    __asm__ volatile("std; rep stosl; cld" : "+D"(d), "+c"(n) : "a"(0x5a5a5a5a) : "memory");
    CHECK_EQ(d, (uint32_t)buf - 4);
    CHECK_EQ(buf[0], 0x5a5a5a5a);
    CHECK_EQ(buf[15], 0x5a5a5a5a);
    /* repe cmpsb stops after the first difference. */
    dst[20] ^= 1;
    d = (uint32_t)dst, s = (uint32_t)src, n = 64;
    __asm__ volatile("cld; repe cmpsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory", "cc");
    CHECK_EQ(n, 64 - 21);
    /* scasb finds a byte. */
    d = (uint32_t)src, n = 64;
    __asm__ volatile("cld; repne scasb" : "+D"(d), "+c"(n) : "a"(src[33]) : "cc");
    CHECK_EQ(d, (uint32_t)&src[34]);
    /* lodsw */
    s = (uint32_t)src;
    uint32_t ax = 0;
    __asm__ volatile("cld; lodsw" : "+S"(s), "+a"(ax));
    CHECK_EQ(ax & 0xffff, (uint8_t)src[0] | ((uint8_t)src[1] << 8));
}

static void far_transfers(void)
{
    gdt_set(SEL_CODE_ALIAS, 0, 0xfffff, 0x9a, 0xc);
    uint32_t cs1 = 0, cs2 = 0;
    __asm__ volatile("ljmp %2, $1f\n1: mov %%cs,%0\n"
                     "pushl %3; pushl $2f; lret\n2: mov %%cs,%1"
                     : "=&r"(cs1), "=&r"(cs2) : "i"(SEL_CODE_ALIAS), "i"(SEL_CODE32));
    CHECK_EQ(cs1 & 0xffff, SEL_CODE_ALIAS);
    CHECK_EQ(cs2 & 0xffff, SEL_CODE32);
    /* A far call through a memory pointer and back with lret. */
    static struct __attribute__((packed)) {
        uint32_t off;
        uint16_t sel;
    } fp;
    uint32_t cs3 = 0;
    fp.off = 0;
    fp.sel = SEL_CODE_ALIAS;
    __asm__ volatile("movl $3f,%1; lcall *%1; jmp 4f\n3: mov %%cs,%0; lret\n4:"
                     : "=&r"(cs3), "+m"(fp));
    CHECK_EQ(cs3 & 0xffff, SEL_CODE_ALIAS);
}

void guest_main(void)
{
    segments();
    check_faults();
    gprintf("ok segments and faults\n");
    flags();
    gprintf("ok flags\n");
    strings();
    gprintf("ok string instructions\n");
    far_transfers();
    gprintf("ok far transfers\n");
}
