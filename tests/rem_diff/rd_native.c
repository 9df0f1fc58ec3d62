/*
 * rd_native.c - the third executor: the host CPU itself, at CPL3, in a
 * child process. It arbitrates when hm and rem disagree (KVM's PVM backend
 * runs some guest accesses through KVM's instruction emulator, which is not
 * the silicon), and it is the reference of `rem_diff --reference native`.
 *
 * The child is forked once and kept as a server. It maps the tester's user
 * layout at the guest's addresses - RD_CODE (one page, read+execute) and
 * RD_SCRATCH (two pages, read+write) - from a memfd the parent shares, so
 * the parent writes the code and the starting scratch and reads the final
 * scratch without copies. Then it unmaps everything else it has (the
 * program, libc, the heap, the stacks, the vDSO, under ASan the shadow):
 * an address that is absent in the guest must be absent here too, or a
 * random pointer would read the host's memory where the guest faults. What
 * is left besides the guest pages is a small server at NAT_BASE, written in
 * assembly because nothing else is mapped: a code page, the control page
 * (shared: the job's registers and the result), the unmap list and an
 * alternate signal stack. The vsyscall page cannot be unmapped. Before
 * that, the child unregisters glibc's rseq area (the kernel would write it
 * at every return to user mode, and it lives in the TLS being unmapped).
 *
 * One job: the parent writes the code, scratch and registers and one byte
 * to the job pipe; the server sets FS base 0 and GS base 0x100 (as the
 * guest), serialises (CPUID: the code was written through another mapping),
 * loads RFLAGS (arithmetic flags and DF; IF/IOPL/TF stay the host's) and
 * all 16 GPRs and jumps to RD_CODE. The sequence ends at the tester's final
 * `out RD_PORT_END, al`, which at IOPL 0 raises #GP: that #GP at the final
 * address is "reached the end". Every exception arrives as a signal on the
 * alternate stack (SA_NODEFER: the frame is abandoned, never returned from);
 * the handler copies the ucontext's registers (with REG_TRAPNO, REG_ERR,
 * REG_CR2) and siginfo to the control page and writes one byte back.
 *
 * Where the native layout cannot reproduce the guest's, the job is not
 * judged (RD_NATIVE_SKIPPED, with the reason): instructions that read host
 * state (segment selectors and descriptor tables, CPUID, TSC, port I/O,
 * software interrupts, FPU/SSE registers, random numbers, FS/GS bases) and
 * #AC (Linux sets CR0.AM, the guest does not). Two differences in the #PF
 * error code are the host kernel's doing and are put back: the guest's
 * supervisor pages 0x1000..0x5fff are present there (P=1) and absent here,
 * and Linux reports P=1 for every kernel-half address (to hide its layout)
 * where the guest has nothing mapped (P=0).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rd.h"

#define NAT_BASE       0x6e5a00000000
#define NAT_CTL        (NAT_BASE + 0x1000) /* control page: memfd page 3 */
#define NAT_LIST       (NAT_BASE + 0x2000) /* unmap list: {addr, len} pairs, len 0 ends */
#define NAT_LIST_PAGES 4
#define NAT_ALT        (NAT_BASE + 0x6000) /* alternate signal stack */
#define NAT_ALT_SIZE   0x10000
#define NAT_END        (NAT_ALT + NAT_ALT_SIZE)

/* Control page offsets (the assembly below uses the same numbers). */
#define CTL_GPR    0x000 /* job: 16 GPRs */
#define CTL_RFLAGS 0x080 /* job: RFLAGS */
#define CTL_JOBFD  0x088
#define CTL_DONEFD 0x090
#define CTL_BYTE   0x098
#define CTL_GREGS  0x100 /* result: the 23 ucontext gregs */
#define CTL_SIGNO  0x1b8
#define CTL_ADDR   0x1c0 /* si_addr */
#define CTL_CODE   0x1c8 /* si_code */
#define CTL_MSG    0x200 /* setup error text from the child */

#define NAT_TIMEOUT_MS 5000

#ifndef MFD_EXEC
#define MFD_EXEC 0x10u
#endif

#define S_(x) #x
#define S(x)  S_(x)

/* The server. Position-independent (copied to NAT_BASE); offset 0 is the
 * entry: unmap the list, report ready, then serve jobs until the job pipe
 * closes. rd_native_handler is the signal handler (rdi signo, rsi siginfo,
 * rdx ucontext; gregs start at ucontext offset 40). */
/* clang-format off */
__asm__(".pushsection .text\n"
        ".balign 16\n"
        ".globl rd_native_stub\n.hidden rd_native_stub\n"
        "rd_native_stub:\n"
        "  movabs $" S(NAT_LIST) ", %rbx\n"
        "1: mov (%rbx), %rdi\n"
        "  mov 8(%rbx), %rsi\n"
        "  test %rsi, %rsi\n"
        "  jz 2f\n"
        "  mov $11, %eax\n" /* munmap */
        "  syscall\n"
        "  add $16, %rbx\n"
        "  jmp 1b\n"
        "2: movabs $" S(NAT_CTL) ", %r12\n"
        ".Lrd_done:\n"
        "  mov $1, %eax\n" /* write(donefd, &byte, 1) */
        "  mov 0x90(%r12), %rdi\n"
        "  lea 0x98(%r12), %rsi\n"
        "  mov $1, %edx\n"
        "  syscall\n"
        ".Lrd_wait:\n"
        "  xor %eax, %eax\n" /* read(jobfd, &byte, 1) */
        "  mov 0x88(%r12), %rdi\n"
        "  lea 0x98(%r12), %rsi\n"
        "  mov $1, %edx\n"
        "  syscall\n"
        "  cmp $-4, %rax\n" /* EINTR */
        "  je .Lrd_wait\n"
        "  cmp $1, %rax\n"
        "  je 3f\n"
        "  mov $231, %eax\n" /* exit_group(0) */
        "  xor %edi, %edi\n"
        "  syscall\n"
        "3: mov $158, %eax\n" /* arch_prctl(ARCH_SET_FS, 0) */
        "  mov $0x1002, %edi\n"
        "  xor %esi, %esi\n"
        "  syscall\n"
        "  mov $158, %eax\n" /* arch_prctl(ARCH_SET_GS, 0x100) */
        "  mov $0x1001, %edi\n"
        "  mov $0x100, %esi\n"
        "  syscall\n"
        "  xor %eax, %eax\n"
        "  cpuid\n"
        "  lea 0x80(%r12), %rsp\n"
        "  popfq\n" /* rsp = ctl + 0x88 */
        "  mov -0x88(%rsp), %rax\n"
        "  mov -0x80(%rsp), %rcx\n"
        "  mov -0x78(%rsp), %rdx\n"
        "  mov -0x70(%rsp), %rbx\n"
        "  mov -0x60(%rsp), %rbp\n"
        "  mov -0x58(%rsp), %rsi\n"
        "  mov -0x50(%rsp), %rdi\n"
        "  mov -0x48(%rsp), %r8\n"
        "  mov -0x40(%rsp), %r9\n"
        "  mov -0x38(%rsp), %r10\n"
        "  mov -0x30(%rsp), %r11\n"
        "  mov -0x28(%rsp), %r12\n"
        "  mov -0x20(%rsp), %r13\n"
        "  mov -0x18(%rsp), %r14\n"
        "  mov -0x10(%rsp), %r15\n"
        "  mov -0x68(%rsp), %rsp\n"
        "  jmp *4f(%rip)\n"
        ".balign 8\n"
        "4: .quad " S(RD_CODE) "\n"
        ".globl rd_native_handler\n.hidden rd_native_handler\n"
        "rd_native_handler:\n"
        "  movabs $" S(NAT_CTL) ", %r12\n"
        "  xor %ecx, %ecx\n"
        "5: mov 40(%rdx,%rcx,8), %rax\n"
        "  mov %rax, 0x100(%r12,%rcx,8)\n"
        "  inc %ecx\n"
        "  cmp $23, %ecx\n"
        "  jb 5b\n"
        "  mov %rdi, 0x1b8(%r12)\n"
        "  mov 16(%rsi), %rax\n"
        "  mov %rax, 0x1c0(%r12)\n"
        "  movslq 8(%rsi), %rax\n"
        "  mov %rax, 0x1c8(%r12)\n"
        "  jmp .Lrd_done\n"
        ".globl rd_native_restorer\n.hidden rd_native_restorer\n"
        "rd_native_restorer:\n"
        "  ud2\n"
        ".globl rd_native_stub_end\n.hidden rd_native_stub_end\n"
        "rd_native_stub_end:\n"
        ".popsection\n");
/* clang-format on */

extern const uint8_t rd_native_stub[], rd_native_handler[], rd_native_restorer[],
    rd_native_stub_end[];

/* The parent's side. */
struct rd_native {
    int memfd;
    uint8_t *mem; /* memfd pages: code, scratch (2), control */
    pid_t pid;    /* the server, 0 when none runs */
    int job_fd, done_fd;
};

#define MEM_CODE    0
#define MEM_SCRATCH 0x1000
#define MEM_CTL     0x3000
#define MEM_SIZE    0x4000

static uint64_t *ctl64(struct rd_native *n, unsigned off)
{
    return (uint64_t *)(n->mem + MEM_CTL + off);
}

/* ---- the child, before it becomes the server --------------------------------------- */

struct k_sigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};

static void child_fail(uint8_t *ctl, const char *what, int e)
{
    snprintf((char *)ctl + CTL_MSG, 0x1000 - CTL_MSG, "%s: %s", what, strerror(e));
    _exit(1);
}

static bool keep_range(uint64_t lo, uint64_t hi)
{
    if (lo >= 0x800000000000ull) /* [vsyscall]: cannot go */
        return true;
    return (lo < RD_CODE + 0x1000 && hi > RD_CODE) ||
           (lo < RD_SCRATCH + RD_SCRATCH_SIZE && hi > RD_SCRATCH) ||
           (lo < NAT_END && hi > NAT_BASE);
}

/* Fills the unmap list from /proc/self/maps (open/read only: we are a
 * fork of a process that may have threads). */
static int build_unmap_list(uint64_t *list, unsigned max)
{
    static char buf[1 << 16];
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    ssize_t r;
    while (len < sizeof(buf) - 1 && (r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
        len += (size_t)r;
    close(fd);
    buf[len] = '\0';
    unsigned k = 0;
    for (char *p = buf; *p;) {
        char *end;
        uint64_t lo = strtoull(p, &end, 16), hi = *end == '-' ? strtoull(end + 1, &end, 16) : 0;
        if (hi > lo && !keep_range(lo, hi)) {
            if (k + 1 >= max)
                return -1;
            list[2 * k] = lo;
            list[2 * k + 1] = hi - lo;
            k++;
        }
        char *nl = strchr(p, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
    list[2 * k] = list[2 * k + 1] = 0;
    return 0;
}

static void *map_at(uint64_t addr, size_t len, int prot, int flags, int fd, off_t off)
{
    void *p = mmap((void *)(uintptr_t)addr, len, prot, flags | MAP_FIXED_NOREPLACE, fd, off);
    return p == MAP_FAILED || p != (void *)(uintptr_t)addr ? NULL : p;
}

static void child_main(struct rd_native *n, int job_fd, int done_fd)
{
    uint8_t *ctl = n->mem + MEM_CTL;
    if (!map_at(RD_CODE, 0x1000, PROT_READ | PROT_EXEC, MAP_SHARED, n->memfd, MEM_CODE))
        child_fail(ctl, "cannot map the code page at 0x100000 (vm.mmap_min_addr?)", errno);
    if (!map_at(RD_SCRATCH, RD_SCRATCH_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, n->memfd,
                MEM_SCRATCH))
        child_fail(ctl, "cannot map the scratch pages at 0x200000", errno);
    if (!map_at(NAT_CTL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED, n->memfd, MEM_CTL) ||
        !map_at(NAT_BASE, 0x1000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ||
        !map_at(NAT_LIST, NAT_END - NAT_LIST, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                -1, 0))
        child_fail(ctl, "cannot map the native server pages", errno);
    size_t stub_len = (size_t)(rd_native_stub_end - rd_native_stub);
    memcpy((void *)(uintptr_t)NAT_BASE, rd_native_stub, stub_len);
    if (mprotect((void *)(uintptr_t)NAT_BASE, 0x1000, PROT_READ | PROT_EXEC) != 0)
        child_fail(ctl, "mprotect", errno);
    *(uint64_t *)(ctl + CTL_JOBFD) = (uint64_t)job_fd;
    *(uint64_t *)(ctl + CTL_DONEFD) = (uint64_t)done_fd;

    /* Raw syscalls: the sanitizers' interceptors must not see these. */
    stack_t ss = {.ss_sp = (void *)(uintptr_t)NAT_ALT, .ss_size = NAT_ALT_SIZE};
    if (syscall(SYS_sigaltstack, &ss, NULL) != 0)
        child_fail(ctl, "sigaltstack", errno);
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP};
    struct k_sigaction ka = {
        .handler = (void *)(uintptr_t)(NAT_BASE + (uint64_t)(rd_native_handler - rd_native_stub)),
        .flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | 0x04000000 /* SA_RESTORER */,
        .restorer = (void *)(uintptr_t)(NAT_BASE + (uint64_t)(rd_native_restorer - rd_native_stub)),
    };
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (syscall(SYS_rt_sigaction, sigs[i], &ka, NULL, 8) != 0)
            child_fail(ctl, "rt_sigaction", errno);
    /* The kernel writes the rseq area (in the TLS we are about to unmap) at
     * every return to user mode: a fault there is a SIGSEGV nobody catches. */
    if (__rseq_size) {
        char *tp;
        __asm__("mov %%fs:0, %0" : "=r"(tp));
        if (syscall(SYS_rseq, tp + __rseq_offset, __rseq_size < 32 ? 32 : __rseq_size,
                    1 /* RSEQ_FLAG_UNREGISTER */, RSEQ_SIG) != 0)
            child_fail(ctl, "rseq unregister", errno);
    }
    uint64_t none = 0;
    if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, 8) != 0)
        child_fail(ctl, "rt_sigprocmask", errno);
    if (build_unmap_list((uint64_t *)(uintptr_t)NAT_LIST, NAT_LIST_PAGES * 0x1000 / 16) != 0)
        child_fail(ctl, "reading /proc/self/maps", errno ? errno : E2BIG);
    ((void (*)(void))(uintptr_t)NAT_BASE)();
    _exit(1);
}

/* ---- the parent ------------------------------------------------------------------ */

static void stop_server(struct rd_native *n)
{
    if (n->job_fd >= 0)
        close(n->job_fd);
    if (n->done_fd >= 0)
        close(n->done_fd);
    n->job_fd = n->done_fd = -1;
    if (n->pid > 0) {
        kill(n->pid, SIGKILL);
        waitpid(n->pid, NULL, 0);
    }
    n->pid = 0;
}

/* Waits for the server's byte; 0, or -1 with the reason in why. */
static int wait_done_ms(struct rd_native *n, char *why, size_t len, int timeout_ms)
{
    struct pollfd p = {.fd = n->done_fd, .events = POLLIN};
    int r;
    do
        r = poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    char b;
    if (r > 0 && read(n->done_fd, &b, 1) == 1)
        return 0;
    if (r == 0)
        snprintf(why, len, "native: no result after %d ms", timeout_ms);
    else {
        int st = 0;
        pid_t pid = n->pid;
        n->pid = 0;
        waitpid(pid, &st, 0);
        const char *msg = (const char *)n->mem + MEM_CTL + CTL_MSG;
        if (*msg)
            snprintf(why, len, "native: %s", msg);
        else if (WIFSIGNALED(st))
            snprintf(why, len, "native: the executor died of signal %d", WTERMSIG(st));
        else
            snprintf(why, len, "native: the executor exited (%d)", WEXITSTATUS(st));
    }
    stop_server(n);
    return -1;
}

static int wait_done(struct rd_native *n, char *why, size_t len)
{
    return wait_done_ms(n, why, len, NAT_TIMEOUT_MS);
}

static int start_server(struct rd_native *n, char *why, size_t len)
{
    int job[2] = {-1, -1}, done[2] = {-1, -1};
    if (pipe2(job, O_CLOEXEC) != 0 || pipe2(done, O_CLOEXEC) != 0) {
        snprintf(why, len, "native: pipe: %s", strerror(errno));
        goto fail;
    }
    memset(n->mem + MEM_CTL, 0, 0x1000);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, len, "native: fork: %s", strerror(errno));
        goto fail;
    }
    if (pid == 0) {
        close(job[1]);
        close(done[0]);
        child_main(n, job[0], done[1]);
    }
    close(job[0]);
    close(done[1]);
    n->pid = pid;
    n->job_fd = job[1];
    n->done_fd = done[0];
    return wait_done(n, why, len);
fail:
    for (int i = 0; i < 2; i++) {
        if (job[i] >= 0)
            close(job[i]);
        if (done[i] >= 0)
            close(done[i]);
    }
    return -1;
}

int rd_native_create(struct rd_native **out, char *err, size_t errlen)
{
    struct rd_native *n = calloc(1, sizeof(*n));
    *out = NULL;
    if (!n) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    n->job_fd = n->done_fd = -1;
    n->mem = MAP_FAILED;
    /* MFD_EXEC: the code page is mapped executable (vm.memfd_noexec) */
    n->memfd = memfd_create("rem_diff-native", MFD_CLOEXEC | MFD_EXEC);
    if (n->memfd < 0 && errno == EINVAL) /* kernels before 6.3 */
        n->memfd = memfd_create("rem_diff-native", MFD_CLOEXEC);
    if (n->memfd < 0 || ftruncate(n->memfd, MEM_SIZE) != 0) {
        snprintf(err, errlen, "native: memfd: %s", strerror(errno));
        goto fail;
    }
    n->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, n->memfd, 0);
    if (n->mem == MAP_FAILED) {
        snprintf(err, errlen, "native: mmap: %s", strerror(errno));
        goto fail;
    }
    /* a write to the pipe of a server that just died must not kill us */
    signal(SIGPIPE, SIG_IGN);
    /* the child starts here once, so that a host that cannot do it says so now */
    if (start_server(n, err, errlen) != 0)
        goto fail;
    *out = n;
    return 0;
fail:
    rd_native_destroy(n);
    return -1;
}

void rd_native_destroy(struct rd_native *n)
{
    if (!n)
        return;
    stop_server(n);
    if (n->mem != MAP_FAILED)
        munmap(n->mem, MEM_SIZE);
    if (n->memfd >= 0)
        close(n->memfd);
    free(n);
}

/* Why the host's state would show through insn, or NULL. */
static const char *host_dependent(const struct dis_insn *in)
{
    if (in->attr & (DIS_A_SENS | DIS_A_IO))
        return "reads or writes host state (selectors, descriptor tables, TSC, CPUID, I/O)";
    switch (in->cf) {
    case DIS_CF_JMPF:
    case DIS_CF_CALLF:
    case DIS_CF_RETF:
    case DIS_CF_IRET:
    case DIS_CF_INT:
    case DIS_CF_SYSCALL:
    case DIS_CF_SYSRET:
        return "far transfer or system call (host descriptor tables and gates)";
    default:
        break;
    }
    switch (in->mnem) {
    case DIS_rdrand:
    case DIS_rdseed:
    case DIS_rdpid:
    case DIS_rdpkru:
    case DIS_wrpkru:
    case DIS_xgetbv:
    case DIS_rdfsbase:
    case DIS_rdgsbase:
    case DIS_wrfsbase:
    case DIS_wrgsbase:
        return "host-dependent value";
    default:
        break;
    }
    for (unsigned i = 0; i < in->nops; i++)
        if (in->op[i].kind == DIS_OP_REG && in->op[i].reg_class != DIS_RC_GPR &&
            in->op[i].reg_class != DIS_RC_GPR8H)
            return "segment, control, FPU or vector register (not in the tester's state)";
    return NULL;
}

/* The result from the control page, in the guest's terms. */
static enum rd_native_status collect(struct rd_native *n, const struct rd_asm *a, unsigned nitems,
                                     struct rd_result *res)
{
    static const int map[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP,
                                REG_RSI, REG_RDI, REG_R8,  REG_R9,  REG_R10, REG_R11,
                                REG_R12, REG_R13, REG_R14, REG_R15};
    const uint64_t *g = ctl64(n, CTL_GREGS);
    for (unsigned i = 0; i < 16; i++)
        res->gpr[i] = g[map[i]];
    res->rip = g[REG_RIP];
    res->rflags = g[REG_EFL];
    int trap = (int)g[REG_TRAPNO];
    if (trap == 13 && res->rip == a->addr[nitems]) {
        res->vector = -1; /* the final out at IOPL 0 */
        res->rip += 2;
        res->rflags &= ~0x10000ull; /* RF, set in the image of that #GP */
    } else {
        res->vector = trap;
        res->err = rd_vector_has_err(trap) ? g[REG_ERR] : 0;
    }
    if (trap == 14) {
        res->cr2 = g[REG_CR2];
        if (res->cr2 >= 0x1000 && res->cr2 < 0x6000)
            res->err |= 1; /* the guest's supervisor pages: present there */
        else if (res->cr2 >= 0x7ffffffff000ull)
            res->err &= ~1ull; /* Linux sets P for kernel-half addresses */
        if (res->cr2 >= NAT_BASE && res->cr2 < NAT_END) {
            snprintf(res->why, sizeof(res->why), "native: #PF in the server's own pages");
            return RD_NATIVE_SKIPPED;
        }
    }
    if (trap == 17) {
        snprintf(res->why, sizeof(res->why), "native: #AC (the host sets CR0.AM)");
        return RD_NATIVE_SKIPPED;
    }
    memcpy(res->scratch, n->mem + MEM_SCRATCH, RD_SCRATCH_SIZE);
    return RD_NATIVE_RAN;
}

static enum rd_native_status run_once(struct rd_native *n, const struct rd_state *st,
                                      const struct rd_asm *a, unsigned nitems,
                                      struct rd_result *res, int timeout_ms);

enum rd_native_status rd_run_native(struct rd_native *n, const struct rd_state *st,
                                    const struct rd_asm *a, unsigned nitems, struct rd_result *res)
{
    memset(res, 0, sizeof(*res));
    res->vector = -2;
    for (unsigned i = 0; i < nitems; i++) {
        const char *why = host_dependent(&a->insn[i]);
        if (why) {
            snprintf(res->why, sizeof(res->why), "native: %s", why);
            return RD_NATIVE_SKIPPED;
        }
    }
    /* A run that gives no result in time is tried once more on a fresh
     * server with a longer limit: on a loaded host the server can be held
     * off the CPU for seconds (seen once in a full check), and the
     * sequences cannot loop (the generator emits no backward branch). */
    for (int attempt = 0;; attempt++) {
        enum rd_native_status stt = run_once(n, st, a, nitems, res, attempt ? 4 * NAT_TIMEOUT_MS
                                                                          : NAT_TIMEOUT_MS);
        if (stt != RD_NATIVE_FAILED || attempt || !res->timed_out)
            return stt;
    }
}

static enum rd_native_status run_once(struct rd_native *n, const struct rd_state *st,
                                      const struct rd_asm *a, unsigned nitems,
                                      struct rd_result *res, int timeout_ms)
{
    res->timed_out = 0;
    res->other = 0;
    res->why[0] = 0;
    if (!n->pid && start_server(n, res->why, sizeof(res->why)) != 0) {
        res->other = 1;
        return RD_NATIVE_FAILED;
    }
    memset(n->mem + MEM_CODE, 0xcc, 0x1000);
    memcpy(n->mem + MEM_CODE, a->code, a->len);
    memcpy(n->mem + MEM_SCRATCH, st->scratch, RD_SCRATCH_SIZE);
    memcpy(ctl64(n, CTL_GPR), st->gpr, sizeof(st->gpr));
    /* arithmetic flags and DF; IF, IOPL and TF are the host's */
    *ctl64(n, CTL_RFLAGS) = (st->rflags & 0xcd5) | 0x202;
    memset(ctl64(n, CTL_GREGS), 0, CTL_MSG - CTL_GREGS);
    char b = 1;
    if (write(n->job_fd, &b, 1) != 1) {
        snprintf(res->why, sizeof(res->why), "native: write to the executor: %s", strerror(errno));
        stop_server(n);
        res->other = 1;
        return RD_NATIVE_FAILED;
    }
    if (wait_done_ms(n, res->why, sizeof(res->why), timeout_ms) != 0) {
        res->timed_out = !strncmp(res->why, "native: no result", 17);
        res->other = 1;
        return RD_NATIVE_FAILED;
    }
    return collect(n, a, nitems, res);
}
