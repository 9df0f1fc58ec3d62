/*
 * rawloop.c - a prototype raw-ring-3 loop: a 64-bit guest user program runs natively in
 * the KVM vCPU; every transition to its kernel (syscall, #PF, any other exception, a
 * signal kick standing for an external interrupt) exits to this program, which plays the
 * guest kernel trivially and resumes raw. It is the shape of the raw engine's inner loop:
 * the kernel emulation here is where EM would run rem.
 *
 * The guest program (ubin below), per iteration of its main loop:
 *   COMPUTE rounds of xorshift64 (pure register work: native speed is measured on it),
 *   if FLAG_SYS:   getpid() through `syscall` (the "kernel" returns 4242),
 *   if FLAG_TOUCH: one write to the next fresh page of a 2 MiB region; the first touch of
 *                  each page is a #PF the "kernel" satisfies by mapping a page; at the end
 *                  of the region, munmap() of it: the "kernel" clears the PTEs, which KVM
 *                  only learns of through the vCPU (replay_writes, see mmuprobe.c), and
 *                  the next round faults every page in again;
 *   finally exit(xorshift state), which the VMM checks against the same computation
 *   on the host.
 *
 * Interception (-m): idt  IDT gates -> CPL0 stubs `out` (exception, external vector),
 *                          LSTAR -> CPL3 stub `out` allowed by the TSS I/O bitmap;
 *                    tf   IDTR.limit = 0: every exception ends in KVM_EXIT_SHUTDOWN, the
 *                          vector is read from the vCPU events, LSTAR points at a
 *                          not-present page (syscall = #PF at LSTAR with RCX/R11 set).
 * State moves through kvm_run->s.regs (KVM_CAP_SYNC_REGS): no ioctl besides KVM_RUN.
 *
 * Usage: ./rawloop [-m idt|tf] [-n ITERS] [-c COMPUTE] [-f FLAGS] [-k HZ] [-r REPS] [-x]
 *   -x  munmap does not replay its PTE writes through the vCPU: the #PF count then shows
 *       how many re-touched pages KVM still mapped (stale translations).
 */
#include "hyp.h"

extern char ubin[], ubin_end[], u_start[];
asm(".pushsection .rodata\n"
    "ubin:\n"
    "u_start:\n" /* r15 iterations, r12 compute rounds, r13 flags; rax xorshift state */
    " mov $0x200000, %r14\n"
    " mov $0x9e3779b97f4a7c15, %rax\n"
    "u_loop:\n"
    " mov %r12, %rcx\n"
    " test %rcx, %rcx\n jz 2f\n"
    "1: mov %rax, %rdx\n shl $13, %rdx\n xor %rdx, %rax\n mov %rax, %rdx\n shr $7, %rdx\n"
    " xor %rdx, %rax\n mov %rax, %rdx\n shl $17, %rdx\n xor %rdx, %rax\n dec %rcx\n jnz 1b\n"
    "2: test $1, %r13\n jz 3f\n"
    " mov %rax, %rbx\n mov $39, %eax\n syscall\n cmp $4242, %rax\n jne u_fail\n mov %rbx, %rax\n"
    "3: test $2, %r13\n jz 4f\n"
    " mov %r15, (%r14)\n add $0x1000, %r14\n cmp $0x400000, %r14\n jb 4f\n"
    " mov %rax, %rbx\n mov $11, %eax\n mov $0x200000, %edi\n mov $0x200000, %esi\n syscall\n"
    " mov %rbx, %rax\n mov $0x200000, %r14\n"
    "4: dec %r15\n jnz u_loop\n"
    " mov %rax, %rdi\n mov $60, %eax\n syscall\n"
    "u_fail: mov $60, %eax\n mov $-1, %rdi\n syscall\n ud2\n"
    "ubin_end:\n"
    ".popsection\n");

#define FLAG_SYS   1
#define FLAG_TOUCH 2

enum kind { K_SYSCALL, K_PF, K_MUNMAP, K_KICK, K_COUNT };
static const char *kind_name[] = {"syscall", "#PF (map a page)", "munmap (+replay)", "kick"};

struct loop {
    struct rk k;
    int tf; /* interception by triple fault instead of IDT stubs */
    u64 cr3, lstar, pool_next;
    u64 count[K_COUNT];
    u64 exit_code;
    int done;
};

static int no_replay; /* -x: skip the replay, to show what KVM then misses */
static volatile sig_atomic_t kicks;
static void on_kick(int s)
{
    (void)s;
    kicks++;
}

/* The "kernel": map a fresh page at @va (not-present -> present: KVM sees it unaided). */
static int kernel_pf(struct loop *l, u64 va, u64 err)
{
    if (va < U_FRESH || va >= U_FRESH + 0x200000 || (err & PTE_P))
        return -1;
    u64 *pt1 = g_pt(&l->k, G_PT1);
    pt1[(va >> 12) & 511] = l->pool_next | PTE_P | PTE_W | PTE_U;
    l->pool_next += 0x1000;
    l->count[K_PF]++;
    return 0;
}

/* munmap(U_FRESH, 2 MiB): present -> not present, so KVM must be told (replay). */
static int kernel_munmap(struct loop *l)
{
    static u64 changed[512];
    unsigned n = 0;
    u64 *pt1 = g_pt(&l->k, G_PT1);
    for (unsigned i = 0; i < 512; i++)
        if (pt1[i] & PTE_P) {
            pt1[i] = 0;
            changed[n++] = G_PT1 + i * 8;
        }
    l->pool_next = FRESH_POOL;
    l->count[K_MUNMAP]++;
    for (unsigned i = 0; !no_replay && i < n; i += REPLAY_MAX)
        if (replay_writes(&l->k, changed + i, n - i < REPLAY_MAX ? n - i : REPLAY_MAX) < 0)
            return -1;
    return 0;
}

/* A syscall at CPL3 with the user registers in @r; returns 1 if the registers were changed
 * through an ioctl (replay) so the sync area must carry the whole state again. */
static int kernel_syscall(struct loop *l, struct kvm_regs *r)
{
    int reloaded = 0;
    switch (r->rax) {
    case 39:
        r->rax = 4242;
        break;
    case 11:
        if (kernel_munmap(l) < 0)
            return -1;
        r->rax = 0;
        reloaded = 1;
        break;
    case 60:
        l->exit_code = r->rdi;
        l->done = 1;
        break;
    default:
        r->rax = -38; /* ENOSYS */
    }
    l->count[K_SYSCALL]++;
    r->rip = r->rcx;
    r->rflags = r->r11;
    return reloaded;
}

static void setup(struct loop *l, int tf)
{
    memset(l, 0, sizeof(*l));
    l->tf = tf;
    rk_open(&l->k);
    hyp_build(&l->k);
    guest_build(&l->k, ubin, ubin_end - ubin);
    l->cr3 = shadow_sync(&l->k, 0, G_PML4);
    l->lstar = tf ? HYP_VA + H_NOTPRESENT : HYP_VA + H_USTUBS;
    set_syscall_msrs(&l->k, l->lstar);
    l->pool_next = FRESH_POOL;
}

/* One exit. Returns 0 to go on, -1 on anything the prototype does not handle. */
static int handle_exit(struct loop *l, int rc)
{
    struct kvm_sync_regs *sr = &l->k.run->s.regs;
    struct kvm_regs r = sr->regs;
    int user_sregs_needed = 0, reloaded = 0;
    if (rc < 0) {
        if (errno != EINTR)
            return -1;
        l->count[K_KICK]++;
        l->k.run->kvm_dirty_regs = 0;
        return 0;
    }
    unsigned reason = l->k.run->exit_reason;
    if (!l->tf && reason == KVM_EXIT_IO && l->k.run->io.port == PORT_SYS) {
        reloaded = kernel_syscall(l, &r);
    } else if (!l->tf && reason == KVM_EXIT_IO && l->k.run->io.port == PORT_STUB) {
        struct xframe f;
        if (xframe_read(&l->k, &r, &f) < 0 || f.vec != 14 || kernel_pf(l, sr->sregs.cr2, f.err))
            return rk_dump(&l->k, "unhandled stub exit"), -1;
        r.rip = f.rip; /* retry the access */
        r.rsp = f.rsp;
        r.rflags = f.rflags;
        user_sregs_needed = 1;
    } else if (l->tf && reason == KVM_EXIT_SHUTDOWN) {
        struct kvm_vcpu_events *ev = &sr->events;
        if (ev->exception.nr == 14 && sr->sregs.cr2 == l->lstar && r.rip == l->lstar)
            reloaded = kernel_syscall(l, &r);
        else if (ev->exception.nr != 14 || kernel_pf(l, sr->sregs.cr2, ev->exception.error_code))
            return rk_dump(&l->k, "unhandled shutdown"), -1;
    } else
        return rk_dump(&l->k, "unexpected exit"), -1;
    if (reloaded) /* replay_writes left the vCPU at CPL0 */
        user_sregs_needed = 1;
    sr->regs = r;
    l->k.run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
    if (user_sregs_needed) {
        u16 idt_limit = l->tf ? 0 : 0xfff;
        user_sregs(&sr->sregs, l->cr3);
        sr->sregs.idt.limit = idt_limit;
        l->k.run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
    }
    return 0;
}

/* Run the guest program; returns thread-CPU ns, or -1. */
static double run_guest(struct loop *l, u64 iters, u64 compute, u64 flags)
{
    if (kernel_munmap(l) < 0) /* the last run's pages */
        return -1;
    memset(l->count, 0, sizeof(l->count));
    l->done = 0;
    enter_user(&l->k, U_CODE + (u64)(u_start - ubin), U_STACK_TOP, l->cr3);
    struct kvm_regs r;
    struct kvm_sregs s;
    ioctl(l->k.vcpu, KVM_GET_REGS, &r);
    r.r15 = iters;
    r.r12 = compute;
    r.r13 = flags;
    ioctl(l->k.vcpu, KVM_SET_REGS, &r);
    ioctl(l->k.vcpu, KVM_GET_SREGS, &s);
    s.idt.limit = l->tf ? 0 : 0xfff;
    ioctl(l->k.vcpu, KVM_SET_SREGS, &s);
    l->k.run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS;
    l->k.run->kvm_dirty_regs = 0;
    double t0 = rk_now();
    while (!l->done) {
        int rc = ioctl(l->k.vcpu, KVM_RUN, 0);
        if (handle_exit(l, rc) < 0)
            return -1;
    }
    return rk_now() - t0;
}

static u64 host_compute(u64 iters, u64 compute)
{
    u64 x = 0x9e3779b97f4a7c15ull;
    for (u64 i = 0; i < iters; i++) {
        u64 c = compute, d;
        if (c)
            asm volatile("1: mov %0, %1\n shl $13, %1\n xor %1, %0\n mov %0, %1\n shr $7, %1\n"
                         " xor %1, %0\n mov %0, %1\n shl $17, %1\n xor %1, %0\n dec %2\n jnz 1b"
                         : "+r"(x), "=&r"(d), "+r"(c));
    }
    return x;
}

int main(int argc, char **argv)
{
    u64 iters = 2000, compute = 0, flags = FLAG_SYS | FLAG_TOUCH;
    int tf = 0, hz = 0, reps = 5, opt;
    while ((opt = getopt(argc, argv, "m:n:c:f:k:r:x")) != -1) {
        switch (opt) {
        case 'm':
            tf = !strcmp(optarg, "tf");
            break;
        case 'n':
            iters = strtoull(optarg, 0, 0);
            break;
        case 'c':
            compute = strtoull(optarg, 0, 0);
            break;
        case 'f':
            flags = strtoull(optarg, 0, 0);
            break;
        case 'k':
            hz = atoi(optarg);
            break;
        case 'r':
            reps = atoi(optarg);
            break;
        case 'x':
            no_replay = 1;
            break;
        default:
            fprintf(stderr, "usage: see the comment at the top of rawloop.c\n");
            return 2;
        }
    }
    static struct loop l;
    setup(&l, tf);
    replay_generated = 1;
    timer_t tm;
    if (hz) {
        struct sigaction sa = {.sa_handler = on_kick};
        sigaction(SIGUSR1, &sa, NULL);
        struct sigevent sev = {.sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGUSR1};
        sev._sigev_un._tid = gettid();
        timer_create(CLOCK_MONOTONIC, &sev, &tm);
        struct itimerspec its = {{0, 1000000000 / hz}, {0, 1000000000 / hz}};
        timer_settime(tm, 0, &its, NULL);
    }
    double g[32], h[32];
    for (int i = 0; i < reps && i < 32; i++) {
        g[i] = run_guest(&l, iters, compute, flags);
        if (g[i] < 0)
            return 1;
        double t0 = rk_now();
        u64 want = host_compute(iters, compute);
        h[i] = rk_now() - t0;
        if (l.exit_code != want) {
            printf("guest exit(%#llx), host computed %#llx: MISMATCH\n", l.exit_code, want);
            return 1;
        }
    }
    u64 transitions = 0;
    for (int i = 0; i < K_COUNT; i++)
        transitions += l.count[i];
    double gm = rk_median(g, reps), hm = rk_median(h, reps);
    printf("mode %s, %llu iterations x %llu xorshift rounds, flags %llu: guest %.2f ms, host "
           "compute alone %.2f ms (median of %d; exit code checked)\n",
           tf ? "tf" : "idt", iters, compute, flags, gm / 1e6, hm / 1e6, reps);
    printf("  transitions per run:");
    for (int i = 0; i < K_COUNT; i++)
        printf(" %s %llu,", kind_name[i], l.count[i]);
    printf(" total %llu: %.0f per second of guest CPU time, %.0f ns each (guest minus host "
           "compute, over all transitions)\n",
           transitions, transitions / (gm / 1e9), transitions ? (gm - hm) / transitions : 0);
    return 0;
}
