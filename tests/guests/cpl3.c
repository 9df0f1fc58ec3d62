/*
 * cpl3.c - user mode (64-bit, CPL3): user code runs a 20-million-iteration
 * loop (natively on this host: guest CPL3 code is not emulated) and comes
 * back through #UD; privileged instructions (CLI, HLT, MOV CR3, IN without
 * I/O permission, WRMSR) raise #GP(0); user accesses to a supervisor page
 * and to an unmapped page raise #PF with the U bit and the right CR2; and a
 * run of CPL3 -> CPL0 -> CPL3 round trips is timed in TSC ticks.
 *
 * User code and data live in .user, linked at 4 MiB, whose 2 MiB page is
 * the only one with the U bit.
 */
#include "guest.h"

const char guest_name[] = "cpl3";

#define LOOPS 20000000ull

/* The user side: each entry ends in ud2 (its #UD brings control back). */
__asm__(".pushsection .user, \"ax\"\n"
        ".balign 16\n"
        "u_loop: rdtsc; mov %eax, %r8d; shl $32, %rdx; or %rdx, %r8\n"
        "  mov $" "20000000" ", %rcx; xor %eax, %eax\n"
        "1: add %rcx, %rax; dec %rcx; jnz 1b\n"
        "  mov %rax, %rbx; rdtsc; shl $32, %rdx; or %rdx, %rax; sub %r8, %rax\n"
        "  mov %rax, u_ticks(%rip); mov %rbx, %rax\n"
        "u_loop_ud2: ud2\n"
        "u_cli: cli; ud2\n"
        "u_hlt: hlt; ud2\n"
        "u_cr3: mov %cr3, %rax; ud2\n"
        "u_in: mov $0x3f8, %dx; in %dx, %al; ud2\n"
        "u_wrmsr: xor %eax, %eax; xor %edx, %edx; mov $0x10, %ecx; wrmsr; ud2\n"
        "u_read: mov u_addr(%rip), %rdi; mov (%rdi), %rax; ud2\n"
        "u_write: mov u_addr(%rip), %rdi; movq $1, (%rdi); ud2\n"
        "u_ret: mov $0x5a, %eax; ud2\n"
        ".balign 8\n"
        "u_addr: .quad 0\n"
        "u_ticks: .quad 0\n"
        ".balign 16\n"
        "u_stack: .fill 4096, 1, 0\n"
        "u_stack_top:\n"
        ".popsection");
extern const char u_loop[], u_loop_ud2[], u_cli[], u_hlt[], u_cr3[], u_in[], u_wrmsr[],
    u_read[], u_write[], u_ret[], u_stack_top[];
extern uint64_t u_addr, u_ticks;

static uint64_t kernel_secret = 0x5ec7e7;

static int run(const char *ip, struct trap_info *ti)
{
    return user_run((ureg)ip, (ureg)u_stack_top, ti);
}

static void expect(const char *what, const char *ip, int vector, ureg error)
{
    struct trap_info ti;
    int v = run(ip, &ti);
    if (v != vector || ti.error != error || ti.cpl != 3 || ti.ip != (ureg)ip)
        guest_fail("%s from CPL3: %s (vector %d) error 0x%lx cpl %u at 0x%lx; expected vector %d "
                   "error 0x%lx at 0x%lx", what, v >= 0 ? trap_name((unsigned)v) : "none", v,
                   (unsigned long)ti.error, ti.cpl, (unsigned long)ti.ip, vector,
                   (unsigned long)error, (unsigned long)(ureg)ip);
}

static void expect_pf(const char *what, const char *ip, uint64_t addr, ureg error)
{
    struct trap_info ti;
    u_addr = addr;
    int v = run(ip, &ti);
    if (v != 14 || ti.error != error || ti.cr2 != addr || ti.cpl != 3)
        guest_fail("%s from CPL3: vector %d error 0x%lx CR2 0x%lx cpl %u; expected #PF error "
                   "0x%lx CR2 0x%llx", what, v, (unsigned long)ti.error, (unsigned long)ti.cr2,
                   ti.cpl, (unsigned long)error, (unsigned long long)addr);
}

void guest_main(void)
{
    /* Make the 2 MiB page at 4 MiB a user page. */
    volatile uint64_t *pml4 = pg4_root();
    volatile uint64_t *pdpt = (volatile uint64_t *)(ureg)(pml4[0] & 0xffffffffff000ull);
    volatile uint64_t *pd = (volatile uint64_t *)(ureg)(pdpt[0] & 0xffffffffff000ull);
    CHECK_EQ((ureg)u_loop >> 21, 2);
    pd[2] |= PTE_U;
    write_cr3(read_cr3());

    struct trap_info ti;
    int v = run(u_loop, &ti);
    if (v != 6 || ti.cpl != 3 || ti.ip != (ureg)u_loop_ud2)
        guest_fail("user loop: came back with vector %d cpl %u at 0x%lx", v, ti.cpl,
                   (unsigned long)ti.ip);
    CHECK_EQ(ti.ax, LOOPS * (LOOPS + 1) / 2);
    gprintf("ok user loop: %u iterations in %llu TSC ticks\n", (unsigned)LOOPS,
            (unsigned long long)u_ticks);

    expect("cli", u_cli, 13, 0);
    expect("hlt", u_hlt, 13, 0);
    expect("mov cr3", u_cr3, 13, 0);
    expect("in", u_in + 4, 13, 0); /* after the 4-byte mov $0x3f8,%dx */
    expect("wrmsr", u_wrmsr + 9, 13, 0);
    gprintf("ok privileged instructions raise #GP(0)\n");

    CHECK_EQ(kernel_secret, 0x5ec7e7);
    expect_pf("read of a supervisor page", u_read, (ureg)&kernel_secret, PF_U | PF_P);
    expect_pf("write to a supervisor page", u_write, (ureg)&kernel_secret, PF_U | PF_W | PF_P);
    expect_pf("read of an unmapped page", u_read, 0x8000000000ull, PF_U);
    expect_pf("write to an unmapped page", u_write, 0x8000001000ull, PF_U | PF_W);
    CHECK_EQ(kernel_secret, 0x5ec7e7);
    u_addr = (ureg)&u_ticks; /* a user page: readable */
    v = run(u_read, &ti);
    CHECK_EQ(v, 6);
    CHECK_EQ(ti.ax, u_ticks);
    gprintf("ok user #PF error codes and CR2\n");

    enum { TRIPS = 200 };
    uint64_t t0 = rdtsc();
    for (int i = 0; i < TRIPS; i++)
        if (run(u_ret, &ti) != 6 || ti.ax != 0x5a)
            guest_fail("round trip %d came back with vector %u ax 0x%lx", i, ti.vector,
                       (unsigned long)ti.ax);
    gprintf("ok %d CPL0 -> CPL3 -> #UD -> CPL0 round trips, %llu TSC ticks each\n", TRIPS,
            (unsigned long long)((rdtsc() - t0) / TRIPS));
}
