/*
 * xprobe.c - raw ring 3 interception on this host's KVM: how each way guest user code
 * leaves for its kernel reaches the VMM, what the VMM sees, and what a round trip costs.
 *
 * Guest user code runs at CPL3 on the guest's own page tables under a top-level shadow
 * PML4 (hyp.h). Every IDT gate points at a CPL0 stub `out %al,$0xe0; [add $8,%rsp;] iretq`
 * in the hypervisor area; LSTAR points at a CPL3 stub `out %al,$0xe1; jmp *%rcx` that the
 * TSS I/O bitmap lets CPL3 run. The VMM counts N transitions and resumes each one:
 *   iret  fix the return RIP in the frame on the hypervisor stack, KVM_RUN (the stub's
 *         iretq takes the vCPU back to CPL3): the floor for a CPL0 stub exit.
 *   load  KVM_GET_REGS + KVM_GET_SREGS, then KVM_SET_REGS + KVM_SET_SREGS with the CPL3
 *         state, KVM_RUN: what an engine pays that hands the state to rem and back.
 *   sync  the same through kvm_run->s.regs (KVM_CAP_SYNC_REGS), no extra ioctls.
 *
 * Usage: ./xprobe caps | ioctl | insn | ext | gdebug | triple | tf [TEST] [N] | umip | kick [HZ]
 *        | TEST [N] [REPS] [iret|load|sync]
 *   TEST: loop ud gp pf bp int80 int3b sys sysud sysnp out3 sysenter (or "all")
 */
#include "hyp.h"

extern char ub[], ub_end[], u_loop[], u_ud[], u_gp[], u_pf[], u_bp[], u_int80[], u_int3b[], u_sys[],
    u_out[], u_spin[], u_sidt[], u_sysenter[], u_cpuid[], u_rdtsc[], u_rdtscp[], u_ext[];
asm(".pushsection .rodata\n"
    "ub:\n"
    "u_loop: dec %rdi\n jnz u_loop\n ud2\n"
    "u_ud: ud2\n jmp u_ud\n"
    "u_gp: cli\n jmp u_gp\n"
    "u_pf: mov $0x120000, %ebx\n 1: mov (%rbx), %al\n jmp 1b\n"
    "u_bp: int3\n jmp u_bp\n"
    "u_int80: int $0x80\n jmp u_int80\n"
    "u_int3b: .byte 0xcd, 0x03\n jmp u_int3b\n"
    "u_sys: syscall\n jmp u_sys\n"
    "u_out: out %al, $0xe1\n jmp u_out\n"
    "u_spin: inc %rax\n jmp u_spin\n"
    "u_sidt: sidt 0x110000\n out %al, $0xe1\n jmp u_sidt\n"
    "u_sysenter: sysenter\n jmp u_sysenter\n"
    "u_cpuid: mov %rdi, %r8\n 1: xor %eax, %eax\n xor %ecx, %ecx\n cpuid\n dec %r8\n jnz 1b\n"
    " out %al, $0xe1\n"
    "u_rdtsc: mov %rdi, %r8\n 1: rdtsc\n dec %r8\n jnz 1b\n out %al, $0xe1\n"
    "u_rdtscp: mov %rdi, %r8\n 1: rdtscp\n dec %r8\n jnz 1b\n out %al, $0xe1\n"
    "u_ext: vpcmpeqb %ymm1, %ymm1, %ymm1\n vmovdqu %ymm1, 0x110000\n rdfsbase %rax\n"
    " mov $0x5678000, %rbx\n wrgsbase %rbx\n out %al, $0xe1\n"
    "ub_end:\n"
    ".popsection\n");
#define UA(sym) (U_CODE + (u64)((sym)-ub))

static struct rk K;
static u64 CR3;
static int sync_ok;

enum resume { R_IRET, R_LOAD, R_SYNC };
static const char *resume_name[] = {"iret", "load", "sync"};

struct test {
    const char *name;
    char *entry;
    u64 lstar;    /* 0: the out stub */
    unsigned len; /* bytes to skip on a fault (0 for traps: RIP is already past) */
    const char *what;
};
static struct test tests[] = {
    {"ud", u_ud, 0, 2, "ud2 -> #UD"},
    {"gp", u_gp, 0, 1, "cli -> #GP(0)"},
    {"pf", u_pf, 0, 2, "read of a not-present user page -> #PF"},
    {"bp", u_bp, 0, 0, "int3 -> #BP (DPL3 gate)"},
    {"int80", u_int80, 0, 2, "int $0x80 (DPL3 gate) -> ?"},
    {"int3b", u_int3b, 0, 0, "int $3 (cd 03, DPL3 gate) -> ?"},
    {"sys", u_sys, 0, 0, "syscall -> LSTAR = CPL3 stub 'out $0xe1' (I/O bitmap)"},
    {"sysud", u_sys, HYP_VA + H_USTUBS + 0x10, 0, "syscall -> LSTAR = CPL3 stub ud2 -> #UD"},
    {"sysnp", u_sys, HYP_VA + H_NOTPRESENT, 0, "syscall -> LSTAR on a not-present page -> #PF"},
    {"out3", u_out, 0, 0, "CPL3 'out $0xe1' allowed by the TSS I/O bitmap"},
    {"sysenter", u_sysenter, 0, 2, "sysenter at CPL3 in 64-bit mode -> ?"},
};

static void setup(void)
{
    rk_open(&K);
    hyp_build(&K);
    guest_build(&K, ub, ub_end - ub);
    CR3 = shadow_sync(&K, 0, G_PML4);
    set_syscall_msrs(&K, HYP_VA + H_USTUBS);
    sync_ok = ioctl(K.kvm, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS) > 0;
}

/* Resume a CPL0 stub exit at @rip (CPL3) the chosen way. */
static void resume_stub(enum resume how, struct kvm_regs *r, struct xframe *f, u64 rip)
{
    if (how == R_IRET) {
        *xframe_rip_slot(&K, f) = rip;
        return;
    }
    struct kvm_sregs s;
    if (how == R_SYNC) {
        struct kvm_sync_regs *sr = &K.run->s.regs;
        sr->regs = *r;
        sr->regs.rip = rip;
        sr->regs.rsp = f->rsp;
        sr->regs.rflags = f->rflags;
        user_sregs(&sr->sregs, CR3);
        K.run->kvm_dirty_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
        return;
    }
    ioctl(K.vcpu, KVM_GET_SREGS, &s);
    r->rip = rip;
    r->rsp = f->rsp;
    r->rflags = f->rflags;
    user_sregs(&s, CR3);
    ioctl(K.vcpu, KVM_SET_REGS, r);
    ioctl(K.vcpu, KVM_SET_SREGS, &s);
}

static int get_regs(enum resume how, struct kvm_regs *r)
{
    if (how == R_SYNC) {
        *r = K.run->s.regs.regs;
        return 0;
    }
    return ioctl(K.vcpu, KVM_GET_REGS, r);
}

/* Run @t for @n transitions. Returns ns per transition, or -1 on anything unexpected. */
static double run_test(struct test *t, u64 n, enum resume how, int verbose)
{
    set_syscall_msrs(&K, t->lstar ? t->lstar : HYP_VA + H_USTUBS);
    enter_user(&K, UA(t->entry), U_STACK_TOP, CR3);
    K.run->kvm_valid_regs = how == R_SYNC ? KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS : 0;
    K.run->kvm_dirty_regs = 0;
    double t0 = rk_now();
    for (u64 i = 0; i < n; i++) {
        if (rk_run(&K, 10) < 0 || K.run->exit_reason != KVM_EXIT_IO) {
            rk_dump(&K, t->name);
            return -1;
        }
        struct kvm_regs r;
        get_regs(how, &r);
        if (K.run->io.port == PORT_SYS) { /* CPL3 stub or a direct CPL3 out */
            if (verbose && i == 0)
                printf("  first exit: CPL3 out at rip=%#llx rcx=%#llx r11=%#llx\n", r.rip, r.rcx,
                       r.r11);
            if (how != R_IRET && t->entry == u_sys) {
                r.rip = r.rcx;
                r.rflags = r.r11;
                if (how == R_SYNC) {
                    K.run->s.regs.regs = r;
                    K.run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
                } else
                    ioctl(K.vcpu, KVM_SET_REGS, &r);
            }
            continue;
        }
        struct xframe f;
        if (K.run->io.port != PORT_STUB || xframe_read(&K, &r, &f) < 0) {
            rk_dump(&K, "not a stub exit");
            return -1;
        }
        if (verbose && i == 0) {
            struct kvm_sregs s;
            ioctl(K.vcpu, KVM_GET_SREGS, &s);
            printf("  first exit: vector %u err %#llx frame rip=%#llx cs=%#llx rflags=%#llx "
                   "rsp=%#llx ss=%#llx cr2=%#llx rcx=%#llx\n",
                   f.vec, f.err, f.rip, f.cs, f.rflags, f.rsp, f.ss, s.cr2, r.rcx);
            u8 *b = gpa_ptr(&K, f.rip < U_CODE + 0x10000 && f.rip >= U_CODE ? f.rip : 0);
            if (f.rip >= U_CODE && f.rip < U_CODE + 0x10000)
                printf("  bytes at frame rip: %02x %02x\n", b[0], b[1]);
        }
        u64 rip = f.rip + t->len;
        if (t->lstar) /* syscall that faulted at or in the LSTAR stub: back to RCX */
            rip = r.rcx;
        resume_stub(how, &r, &f, rip);
    }
    return (rk_now() - t0) / n;
}

static void loop_test(int reps)
{
    double g[16], h[16];
    u64 n = 200000000;
    for (int i = 0; i < reps && i < 16; i++) {
        enter_user(&K, UA(u_loop), U_STACK_TOP, CR3);
        struct kvm_regs r;
        ioctl(K.vcpu, KVM_GET_REGS, &r);
        r.rdi = n;
        ioctl(K.vcpu, KVM_SET_REGS, &r);
        double t0 = rk_now();
        for (;;) { /* host timer interrupts may bounce through; the loop ends with #UD */
            if (rk_run(&K, 20) < 0 || K.run->exit_reason != KVM_EXIT_IO) {
                rk_dump(&K, "loop");
                return;
            }
            ioctl(K.vcpu, KVM_GET_REGS, &r);
            struct xframe f;
            if (xframe_read(&K, &r, &f) == 0 && f.vec == 6)
                break;
        }
        g[i] = (rk_now() - t0) / n;
        t0 = rk_now();
        u64 c = n;
        asm volatile("1: dec %0\n jnz 1b" : "+r"(c));
        h[i] = (rk_now() - t0) / n;
    }
    printf("[loop ] CPL3 dec/jnz, raw: median %.3f ns/iter; host: %.3f ns/iter (%d runs)\n",
           rk_median(g, reps), rk_median(h, reps), reps);
}

static void caps(void)
{
    static const struct {
        int cap;
        const char *name;
    } c[] = {
        {KVM_CAP_SYNC_REGS, "SYNC_REGS"},
        {KVM_CAP_SET_GUEST_DEBUG, "SET_GUEST_DEBUG"},
        {KVM_CAP_IMMEDIATE_EXIT, "IMMEDIATE_EXIT"},
        {KVM_CAP_X86_TRIPLE_FAULT_EVENT, "X86_TRIPLE_FAULT_EVENT"},
        {KVM_CAP_EXCEPTION_PAYLOAD, "EXCEPTION_PAYLOAD"},
        {KVM_CAP_READONLY_MEM, "READONLY_MEM"},
        {KVM_CAP_SYNC_MMU, "SYNC_MMU"},
        {KVM_CAP_NR_MEMSLOTS, "NR_MEMSLOTS"},
        {KVM_CAP_X86_USER_SPACE_MSR, "X86_USER_SPACE_MSR"},
        {KVM_CAP_SET_IDENTITY_MAP_ADDR, "SET_IDENTITY_MAP_ADDR"},
        {KVM_CAP_IRQCHIP, "IRQCHIP"},
        {KVM_CAP_DIRTY_LOG_RING, "DIRTY_LOG_RING"},
        {KVM_CAP_DIRTY_LOG_RING_ACQ_REL, "DIRTY_LOG_RING_ACQ_REL"},
        {KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, "MANUAL_DIRTY_LOG_PROTECT2"},
    };
    for (unsigned i = 0; i < sizeof c / sizeof c[0]; i++)
        printf("  %-24s %d\n", c[i].name, ioctl(K.kvm, KVM_CHECK_EXTENSION, c[i].cap));
    printf("  guest debug supported flags (KVM_CAP_SET_GUEST_DEBUG2): %#x\n",
           ioctl(K.kvm, KVM_CHECK_EXTENSION, 220 /* KVM_CAP_SET_GUEST_DEBUG2 */));
    printf("  shadow PML4 at GPA %#llx, hypervisor area at VA %#llx\n", CR3, HYP_VA);
}

/* KVM_SET_GUEST_DEBUG: which exceptions can the VMM intercept without an IDT? */
static int gdebug_test(void)
{
    struct kvm_guest_debug d = {.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP};
    printf("SET_GUEST_DEBUG(SW_BP): %d\n", ioctl(K.vcpu, KVM_SET_GUEST_DEBUG, &d));
    enter_user(&K, UA(u_bp), U_STACK_TOP, CR3);
    double t0 = rk_now();
    int n = 0;
    for (; n < 500; n++) {
        if (rk_run(&K, 5) < 0 || K.run->exit_reason != KVM_EXIT_DEBUG)
            break;
        struct kvm_regs r;
        ioctl(K.vcpu, KVM_GET_REGS, &r);
        if (n == 0)
            printf("  int3: KVM_EXIT_DEBUG exception=%u pc=%#llx rip=%#llx\n",
                   K.run->debug.arch.exception, K.run->debug.arch.pc, r.rip);
        r.rip += 1;
        ioctl(K.vcpu, KVM_SET_REGS, &r);
    }
    if (n < 500)
        rk_dump(&K, "int3 under SW_BP");
    else
        printf("  int3 -> KVM_EXIT_DEBUG -> set rip -> run: %.0f ns per round trip\n",
               (rk_now() - t0) / n);
    d.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
    printf("SET_GUEST_DEBUG(SINGLESTEP): %d\n", ioctl(K.vcpu, KVM_SET_GUEST_DEBUG, &d));
    enter_user(&K, UA(u_spin), U_STACK_TOP, CR3);
    t0 = rk_now();
    for (n = 0; n < 200; n++)
        if (rk_run(&K, 5) < 0 || K.run->exit_reason != KVM_EXIT_DEBUG)
            break;
    if (n < 200)
        rk_dump(&K, "single step");
    else
        printf("  single step at CPL3: %.0f ns per step (exception=%u)\n", (rk_now() - t0) / n,
               K.run->debug.arch.exception);
    d.control = 0;
    ioctl(K.vcpu, KVM_SET_GUEST_DEBUG, &d);
    /* Other vectors: ud2 with SW_BP on still goes through the IDT (KVM has no API for more). */
    return 0;
}

/* IDTR.limit = 0: any exception escalates to a triple fault. What does the VMM get? */
static int triple_test(void)
{
    static const struct {
        char *entry;
        const char *what;
    } t[] = {{u_ud, "ud2"}, {u_pf, "#PF read of U_NP"}, {u_gp, "cli"}, {u_sys, "syscall"}};
    for (unsigned i = 0; i < sizeof t / sizeof t[0]; i++) {
        set_syscall_msrs(&K, HYP_VA + H_NOTPRESENT);
        enter_user(&K, UA(t[i].entry), U_STACK_TOP, CR3);
        struct kvm_sregs s;
        ioctl(K.vcpu, KVM_GET_SREGS, &s);
        s.idt.limit = 0;
        s.cr2 = 0x1234;
        ioctl(K.vcpu, KVM_SET_SREGS, &s);
        int rc = rk_run(&K, 5);
        printf("%s with IDT limit 0: KVM_RUN=%d exit %u (SHUTDOWN=%u)\n", t[i].what, rc,
               K.run->exit_reason, KVM_EXIT_SHUTDOWN);
        rk_dump(&K, t[i].what);
        struct kvm_vcpu_events ev;
        if (ioctl(K.vcpu, KVM_GET_VCPU_EVENTS, &ev) == 0)
            printf("  events: exception inj=%d nr=%d has_err=%d err=%#x pending=%d\n",
                   ev.exception.injected, ev.exception.nr, ev.exception.has_error_code,
                   ev.exception.error_code, ev.exception.pending);
    }
    /* Cost of a shutdown round trip (if the state stays usable). */
    double t0 = rk_now();
    int n;
    for (n = 0; n < 200; n++) {
        enter_user(&K, UA(u_ud), U_STACK_TOP, CR3);
        struct kvm_sregs s;
        ioctl(K.vcpu, KVM_GET_SREGS, &s);
        s.idt.limit = 0;
        ioctl(K.vcpu, KVM_SET_SREGS, &s);
        if (rk_run(&K, 5) < 0 || K.run->exit_reason != KVM_EXIT_SHUTDOWN)
            break;
        struct kvm_regs r;
        ioctl(K.vcpu, KVM_GET_REGS, &r);
    }
    printf("shutdown round trips: %d, %.0f ns each (incl. SET_SREGS/SET_REGS/GET_REGS)\n", n,
           n ? (rk_now() - t0) / n : 0);
    return 0;
}

/* An external event while the guest runs natively: a signal kicks KVM_RUN out (EINTR). */
static volatile sig_atomic_t kicks;
static void on_kick(int s)
{
    (void)s;
    kicks++;
}

static double spin(u64 ns_wall, u64 *iters, u64 *exits)
{
    enter_user(&K, UA(u_spin), U_STACK_TOP, CR3);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    double c0 = rk_now();
    *exits = 0;
    for (;;) {
        int rc = rk_run(&K, 0);
        if (rc < 0 && errno != EINTR)
            rk_die("KVM_RUN");
        if (rc == 0 && K.run->exit_reason != KVM_EXIT_INTR) {
            rk_dump(&K, "spin");
            exit(1);
        }
        (*exits)++;
        clock_gettime(CLOCK_MONOTONIC, &b);
        if ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec) > ns_wall)
            break;
    }
    struct kvm_regs r;
    ioctl(K.vcpu, KVM_GET_REGS, &r);
    *iters = r.rax;
    if (r.rip < UA(u_spin) || r.rip > UA(u_spin) + 6)
        printf("  interrupted at rip=%#llx (not in the spin loop?)\n", r.rip);
    return rk_now() - c0;
}

static int kick_test(int hz)
{
    struct sigaction sa = {.sa_handler = on_kick};
    sigaction(SIGUSR1, &sa, NULL);
    struct sigevent sev = {.sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGUSR1};
    sev._sigev_un._tid = gettid();
    timer_t tm;
    if (timer_create(CLOCK_MONOTONIC, &sev, &tm) < 0)
        rk_die("timer_create");
    struct itimerspec slow = {{0, 100000000}, {0, 100000000}}; /* 10 Hz: the baseline */
    struct itimerspec fast = {{0, 1000000000 / hz}, {0, 1000000000 / hz}};
    struct itimerspec off = {{0, 0}, {0, 0}};
    for (int rep = 0; rep < 3; rep++) {
        u64 i0, e0, i1, e1;
        timer_settime(tm, 0, &slow, NULL);
        double c0 = spin(300000000, &i0, &e0);
        kicks = 0;
        timer_settime(tm, 0, &fast, NULL);
        double c1 = spin(300000000, &i1, &e1);
        timer_settime(tm, 0, &off, NULL);
        double per_iter = c0 / i0;
        double lost = c1 - i1 * per_iter;
        printf("kick %d Hz: %llu KVM_RUN returns (%d signals); at 10 Hz %.3f ns/iter, "
               "at %d Hz %.3f ns/iter: %.0f ns of thread CPU per kick\n",
               hz, (unsigned long long)e1, (int)kicks, per_iter, hz, c1 / i1,
               lost / (e1 > e0 ? e1 - e0 : 1));
    }
    return 0;
}

/* What the VMM's own calls cost here, to split a round trip into its parts. */
static int ioctl_test(void)
{
    struct kvm_regs r;
    struct kvm_sregs s;
    enter_user(&K, UA(u_spin), U_STACK_TOP, CR3);
    ioctl(K.vcpu, KVM_GET_REGS, &r);
    ioctl(K.vcpu, KVM_GET_SREGS, &s);
    static const char *names[] = {"getppid()",
                                  "KVM_GET_REGS",
                                  "KVM_SET_REGS",
                                  "KVM_GET_SREGS",
                                  "KVM_SET_SREGS (same CR3)",
                                  "KVM_SET_SREGS (CR3 toggled)",
                                  "KVM_RUN with immediate_exit=1",
                                  "KVM_GET_XSAVE",
                                  "KVM_SET_XSAVE",
                                  "KVM_GET_VCPU_EVENTS"};
    static struct kvm_xsave xs;
    struct kvm_vcpu_events ev;
    ioctl(K.vcpu, KVM_GET_XSAVE, &xs);
    for (int what = 0; what < 10; what++) {
        double v[5];
        for (int rep = 0; rep < 5; rep++) {
            double t0 = rk_now();
            for (int i = 0; i < 1000; i++) {
                switch (what) {
                case 0:
                    getppid();
                    break;
                case 1:
                    ioctl(K.vcpu, KVM_GET_REGS, &r);
                    break;
                case 2:
                    ioctl(K.vcpu, KVM_SET_REGS, &r);
                    break;
                case 3:
                    ioctl(K.vcpu, KVM_GET_SREGS, &s);
                    break;
                case 4:
                    ioctl(K.vcpu, KVM_SET_SREGS, &s);
                    break;
                case 5:
                    s.cr3 = CR3 + (i & 1) * 0x1000;
                    ioctl(K.vcpu, KVM_SET_SREGS, &s);
                    break;
                case 6:
                    K.run->immediate_exit = 1;
                    ioctl(K.vcpu, KVM_RUN, 0);
                    K.run->immediate_exit = 0;
                    break;
                case 7:
                    ioctl(K.vcpu, KVM_GET_XSAVE, &xs);
                    break;
                case 8:
                    ioctl(K.vcpu, KVM_SET_XSAVE, &xs);
                    break;
                case 9:
                    ioctl(K.vcpu, KVM_GET_VCPU_EVENTS, &ev);
                    break;
                }
            }
            v[rep] = (rk_now() - t0) / 1000;
        }
        printf("  %-32s %8.0f ns\n", names[what], rk_median(v, 5));
    }
    return 0;
}

/* Triple-fault interception, resumed through kvm_run->s.regs: IDT limit 0, no stubs.
 * @sregs_too: also rewrite the segment state on each resume. */
static double tf_run(struct test *t, u64 n, int sregs_too, int verbose)
{
    set_syscall_msrs(&K, HYP_VA + H_NOTPRESENT);
    enter_user(&K, UA(t->entry), U_STACK_TOP, CR3);
    struct kvm_sregs s0;
    ioctl(K.vcpu, KVM_GET_SREGS, &s0);
    s0.idt.limit = 0;
    ioctl(K.vcpu, KVM_SET_SREGS, &s0);
    K.run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS;
    K.run->kvm_dirty_regs = 0;
    double t0 = rk_now();
    for (u64 i = 0; i < n; i++) {
        if (rk_run(&K, 10) < 0 || (K.run->exit_reason != KVM_EXIT_SHUTDOWN &&
                                   !(K.run->exit_reason == KVM_EXIT_IO && t->entry == u_out))) {
            rk_dump(&K, t->name);
            return -1;
        }
        struct kvm_sync_regs *sr = &K.run->s.regs;
        struct kvm_vcpu_events *ev = &sr->events;
        if (verbose && i < 2)
            printf("  exit %u: rip=%#llx cs=%#x cr2=%#llx rcx=%#llx r11=%#llx exception nr=%u "
                   "has_err=%u err=%#x inj=%u pend=%u payload=%u/%#llx\n",
                   K.run->exit_reason, sr->regs.rip, sr->sregs.cs.selector, sr->sregs.cr2,
                   sr->regs.rcx, sr->regs.r11, ev->exception.nr, ev->exception.has_error_code,
                   ev->exception.error_code, ev->exception.injected, ev->exception.pending,
                   ev->exception_has_payload, ev->exception_payload);
        if (t->entry == u_sys) {
            sr->regs.rip = sr->regs.rcx;
            sr->regs.rflags = sr->regs.r11;
        } else if (t->entry != u_out)
            sr->regs.rip += t->len;
        K.run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
        if (sregs_too) {
            sr->sregs = s0;
            K.run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
        }
    }
    double d = (rk_now() - t0) / n;
    K.run->kvm_valid_regs = 0;
    return d;
}

static int tf_test(const char *which, u64 n, int reps)
{
    for (unsigned i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        struct test *t = &tests[i];
        if (strcmp(which, "all") && strcmp(which, t->name))
            continue;
        if (t->entry == u_sys && strcmp(t->name, "sysnp")) /* tf: LSTAR is never a stub */
            continue;
        for (int sregs_too = 0; sregs_too < 2; sregs_too++) {
            double v[16];
            int k = 0;
            for (int rep = 0; rep <= reps && rep < 16; rep++) {
                double d = tf_run(t, n, sregs_too, rep == 0 && !sregs_too);
                if (d < 0) {
                    printf("[%-5s] triple-fault interception FAILED\n", t->name);
                    return 1;
                }
                if (rep)
                    v[k++] = d;
            }
            printf("[%-5s] %-48s IDT limit 0 -> SHUTDOWN, resume %s: median %6.0f ns (N=%llu)\n",
                   t->name, t->what, sregs_too ? "regs+sregs" : "regs only ", rk_median(v, k),
                   (unsigned long long)n);
        }
    }
    return 0;
}

/* sidt at CPL3 shows the VMM's IDTR; CR4.UMIP (if KVM offers it) makes it fault instead. */
static int umip_test(void)
{
    struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(struct kvm_cpuid_entry2));
    c->nent = 256;
    ioctl(K.kvm, KVM_GET_SUPPORTED_CPUID, c);
    for (unsigned i = 0; i < c->nent; i++)
        if (c->entries[i].function == 7 && c->entries[i].index == 0)
            printf("supported CPUID.7.0:ECX = %#x (UMIP bit 2: %u)\n", c->entries[i].ecx,
                   (c->entries[i].ecx >> 2) & 1);
    free(c);
    for (int umip = 0; umip < 2; umip++) {
        enter_user(&K, UA(u_sidt), U_STACK_TOP, CR3);
        struct kvm_sregs s;
        ioctl(K.vcpu, KVM_GET_SREGS, &s);
        if (umip)
            s.cr4 |= 1 << 11;
        int rc = ioctl(K.vcpu, KVM_SET_SREGS, &s);
        printf("CR4.UMIP=%d: KVM_SET_SREGS %d; ", umip, rc);
        if (rk_run(&K, 5) < 0 || K.run->exit_reason != KVM_EXIT_IO) {
            rk_dump(&K, "sidt");
            continue;
        }
        struct kvm_regs r;
        ioctl(K.vcpu, KVM_GET_REGS, &r);
        struct xframe f;
        if (K.run->io.port == PORT_SYS)
            printf("sidt at CPL3 ran: limit %#x base %#llx\n", *(u16 *)(K.ram + 0x110000),
                   *(u64 *)(K.ram + 0x110002));
        else if (xframe_read(&K, &r, &f) == 0)
            printf("sidt at CPL3 faulted: vector %u err %#llx at rip %#llx\n", f.vec, f.err, f.rip);
    }
    return 0;
}

/* Instructions the host handles without an exit to the VMM, at CPL3. */
static int insn_test(void)
{
    static const struct {
        char *entry;
        u64 n;
        const char *what;
    } t[] = {{u_cpuid, 2000, "cpuid (leaf 0)"},
             {u_rdtsc, 1000000, "rdtsc"},
             {u_rdtscp, 1000000, "rdtscp"}};
    for (unsigned i = 0; i < sizeof t / sizeof t[0]; i++) {
        double v[5];
        struct kvm_regs r;
        for (int rep = 0; rep < 5; rep++) {
            enter_user(&K, UA(t[i].entry), U_STACK_TOP, CR3);
            ioctl(K.vcpu, KVM_GET_REGS, &r);
            r.rdi = t[i].n;
            ioctl(K.vcpu, KVM_SET_REGS, &r);
            double t0 = rk_now();
            if (rk_run(&K, 20) < 0 || K.run->exit_reason != KVM_EXIT_IO ||
                K.run->io.port != PORT_SYS) {
                rk_dump(&K, t[i].what);
                return 1;
            }
            v[rep] = (rk_now() - t0) / t[i].n;
        }
        ioctl(K.vcpu, KVM_GET_REGS, &r);
        printf("  CPL3 %-16s %9.1f ns each, no exit to the VMM", t[i].what, rk_median(v, 5));
        if (t[i].entry == u_cpuid) {
            char vendor[13];
            memcpy(vendor, &r.rbx, 4);
            memcpy(vendor + 4, &r.rdx, 4);
            memcpy(vendor + 8, &r.rcx, 4);
            vendor[12] = 0;
            printf(" (vendor \"%s\", from the table given to KVM_SET_CPUID2)", vendor);
        }
        printf("\n");
    }
    return 0;
}

/* User code uses AVX and FSGSBASE when the guest kernel enabled them: the raw context
 * needs the guest's CR4.OSXSAVE/FSGSBASE and XCR0. */
static int ext_test(void)
{
    for (int on = 0; on < 2; on++) {
        enter_user(&K, UA(u_ext), U_STACK_TOP, CR3);
        struct kvm_sregs s;
        ioctl(K.vcpu, KVM_GET_SREGS, &s);
        s.fs.base = 0x1234000;
        if (on)
            s.cr4 |= (1 << 18) | (1 << 16); /* OSXSAVE, FSGSBASE */
        int rc = ioctl(K.vcpu, KVM_SET_SREGS, &s);
        struct kvm_xcrs x = {.nr_xcrs = 1, .xcrs = {{.xcr = 0, .value = 7}}};
        int rx = on ? ioctl(K.vcpu, KVM_SET_XCRS, &x) : 0;
        memset(K.ram + U_DATA, 0, 32);
        printf("CR4.OSXSAVE/FSGSBASE %s (SET_SREGS %d, SET_XCRS %d): ", on ? "on, XCR0=7" : "off",
               rc, rx);
        if (rk_run(&K, 5) < 0 || K.run->exit_reason != KVM_EXIT_IO) {
            rk_dump(&K, "ext");
            continue;
        }
        struct kvm_regs r;
        ioctl(K.vcpu, KVM_GET_REGS, &r);
        struct xframe f;
        ioctl(K.vcpu, KVM_GET_SREGS, &s);
        if (K.run->io.port == PORT_SYS)
            printf("vpcmpeqb/vmovdqu ymm stored %#llx.., rdfsbase = %#llx, after wrgsbase "
                   "KVM_GET_SREGS gs.base = %#llx\n",
                   *(u64 *)(K.ram + U_DATA + 24), r.rax, s.gs.base);
        else if (xframe_read(&K, &r, &f) == 0)
            printf("vector %u at rip %#llx\n", f.vec, f.rip);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "all";
    u64 n = argc > 2 ? strtoull(argv[2], 0, 0) : 2000;
    int reps = argc > 3 ? atoi(argv[3]) : 5;
    const char *rs = argc > 4 ? argv[4] : NULL;
    setup();
    if (!strcmp(name, "caps"))
        return caps(), 0;
    if (!strcmp(name, "gdebug"))
        return gdebug_test();
    if (!strcmp(name, "triple"))
        return triple_test();
    if (!strcmp(name, "ioctl"))
        return shadow_sync(&K, 1, G_PML4), ioctl_test();
    if (!strcmp(name, "ext"))
        return ext_test();
    if (!strcmp(name, "insn"))
        return insn_test();
    if (!strcmp(name, "umip"))
        return umip_test();
    if (!strcmp(name, "tf"))
        return tf_test(argc > 2 ? argv[2] : "all", argc > 3 ? strtoull(argv[3], 0, 0) : 300, 3);
    if (!strcmp(name, "kick"))
        return kick_test(argc > 2 ? atoi(argv[2]) : 1000);
    if (!strcmp(name, "loop") || !strcmp(name, "all"))
        loop_test(reps);
    for (unsigned i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        struct test *t = &tests[i];
        if (strcmp(name, "all") && strcmp(name, t->name))
            continue;
        for (int how = R_IRET; how <= R_SYNC; how++) {
            if (rs && strcmp(rs, resume_name[how]))
                continue;
            if (how == R_SYNC && !sync_ok)
                continue;
            double v[16];
            int k = 0;
            for (int rep = 0; rep <= reps && rep < 16; rep++) {
                double d = run_test(t, n, how, rep == 0 && how == R_IRET);
                if (d < 0) {
                    printf("[%-5s] %s: FAILED (%s)\n", t->name, t->what, resume_name[how]);
                    goto next;
                }
                if (rep)
                    v[k++] = d; /* the first run warms up */
            }
            printf("[%-5s] %-55s %-4s median %8.0f ns per round trip (N=%llu, %d runs)\n", t->name,
                   t->what, resume_name[how], rk_median(v, k), (unsigned long long)n, k);
        next:;
        }
    }
    return 0;
}
