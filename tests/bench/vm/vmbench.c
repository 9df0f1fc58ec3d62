/*
 * vmbench.c - the guest side of `scons bench-vm`: one multiboot payload
 * (64-bit, built on the tests/guests runtime) that capsule-vm, QEMU and
 * the bare KVM_RUN loop (kvm_bare.c) all boot unchanged, so every column of
 * the table runs the very same guest instructions.
 *
 * It times itself with RDTSC (the host driver converts ticks with the TSC
 * rate KVM reports) and prints one line per batch on COM1:
 *
 *   BENCH io    N ticks      N OUT instructions to port 0x80 from CPL0,
 *                            each a full exit to the VMM's user space
 *   BENCH loop  N ticks      the same CPL0 loop without the OUT: what this
 *                            host's in-kernel emulation of guest ring 0
 *                            costs per iteration (part of every io figure)
 *   BENCH cpl3  N ticks      N iterations of a CPL3 compute loop (native)
 *
 * Several batches each, so the driver can take medians and see the spread
 * on a loaded host; a batch that an unlucky host preemption hits stays one
 * outlier among them. Then PASS and debug-exit 0x10 (status 33).
 *
 * Guest ring 0 is emulated one instruction at a time on the project's PVM
 * host (~1 us each): the ring-0 parts stay tiny.
 */
#include "guest.h"

const char guest_name[] = "vmbench";

#define BATCHES    5
#define IO_N       2000u     /* ~20 ms per batch at ~10 us per exit */
#define LOOP_N     2000u
#define CPL3_N     10000000 /* ~10 ms per batch at ~1 ns per iteration */
#define STR_(x)    #x
#define STR(x)     STR_(x) /* CPL3_N as the user code's immediate */

/* User code on the 2 MiB user page at 4 MiB (link.ld's .user); it times
 * itself and returns to ring 0 through #UD, the one CPL3 -> CPL0 path that
 * works on this host. RAX: the sum (checked); u_ticks: TSC ticks out. */
__asm__(".pushsection .user, \"ax\"\n"
        ".balign 16\n"
        "u_loop: rdtsc; mov %eax, %r8d; shl $32, %rdx; or %rdx, %r8\n"
        "  mov $" STR(CPL3_N) ", %rcx; xor %eax, %eax\n"
        "1: add %rcx, %rax; dec %rcx; jnz 1b\n"
        "  mov %rax, %rbx; rdtsc; shl $32, %rdx; or %rdx, %rax; sub %r8, %rax\n"
        "  mov %rax, u_ticks(%rip); mov %rbx, %rax\n"
        "  ud2\n"
        ".balign 8\n"
        "u_ticks: .quad 0\n"
        ".balign 16\n"
        "u_stack: .fill 4096, 1, 0\n"
        "u_stack_top:\n"
        ".popsection");
extern const char u_loop[], u_stack_top[];
extern uint64_t u_ticks;

static uint64_t io_batch(unsigned n)
{
    uint64_t t0 = rdtsc();
    __asm__ volatile("1: outb %%al, $0x80\n\tdec %%ecx\n\tjnz 1b" : "+c"(n) : "a"(0) : "memory");
    return rdtsc() - t0;
}

static uint64_t loop_batch(unsigned n)
{
    uint64_t t0 = rdtsc();
    __asm__ volatile("1: dec %%ecx\n\tjnz 1b" : "+c"(n) : : "memory");
    return rdtsc() - t0;
}

static uint64_t cpl3_batch(void)
{
    struct trap_info ti;
    int v = user_run((ureg)u_loop, (ureg)u_stack_top, &ti);
    if (v != 6 || ti.cpl != 3)
        guest_fail("cpl3 loop came back with vector %d from cpl %u at 0x%lx", v, ti.cpl,
                   (unsigned long)ti.ip);
    CHECK_EQ(ti.ax, (uint64_t)CPL3_N * (CPL3_N + 1ull) / 2);
    return u_ticks;
}

void guest_main(void)
{
    volatile uint64_t *pml4 = pg4_root();
    volatile uint64_t *pdpt = (volatile uint64_t *)(ureg)(pml4[0] & 0xffffffffff000ull);
    volatile uint64_t *pd = (volatile uint64_t *)(ureg)(pdpt[0] & 0xffffffffff000ull);
    CHECK_EQ((ureg)u_loop >> 21, 2);
    pd[2] |= PTE_U;
    write_cr3(read_cr3());

    for (int b = 0; b < BATCHES; b++)
        gprintf("BENCH io %u %llu\n", IO_N, (unsigned long long)io_batch(IO_N));
    for (int b = 0; b < BATCHES; b++)
        gprintf("BENCH loop %u %llu\n", LOOP_N, (unsigned long long)loop_batch(LOOP_N));
    for (int b = 0; b < BATCHES; b++)
        gprintf("BENCH cpl3 %u %llu\n", (unsigned)CPL3_N, (unsigned long long)cpl3_batch());
}
