/*
 * rk.h - plumbing shared by the raw-ring-3 probes (KVM API only, no project code).
 *
 * One VM, one vCPU, two memory slots:
 *   slot 0  "guest RAM" at GPA 0: the guest's own page tables, user code, data, stack.
 *   slot 1  "hypervisor area" at HYP_GPA: memory the VMM owns and the guest never maps:
 *           the top-level shadow PML4s, the page tables of the hypervisor area, a GDT,
 *           TSS (with an I/O bitmap), IDT, the exception stubs and their stack.
 * The hypervisor area is mapped at HYP_VA, one PML4 slot in the kernel half: raw ring 3
 * only ever runs user code, so the guest kernel's own upper-half mappings are never
 * copied into the shadow PML4 and cannot collide with it.
 *
 * Times are this thread's CPU time (guest time inside KVM_RUN is charged to the thread),
 * which discounts being preempted on a small shared machine; WALL=1 uses CLOCK_MONOTONIC.
 */
#ifndef RK_H
#define RK_H
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define RAM_SIZE (16ull << 20)
#define HYP_GPA  0x40000000ull
#define HYP_SIZE (1ull << 20)
#define HYP_SLOT 500ull /* PML4 index of the hypervisor area (kernel half) */
#define HYP_VA   (0xffff000000000000ull | (HYP_SLOT << 39))

/* Offsets inside the hypervisor area (GPA HYP_GPA + off, VA HYP_VA + off). */
#define H_SPML4      0x00000 /* shadow PML4 pages: 16 of them, 0x0000..0xffff */
#define H_PDPT       0x10000
#define H_PD         0x11000
#define H_PT         0x12000 /* maps the first 2 MiB of the area, 4 KiB pages */
#define H_GDT        0x13000 /* 4 KiB GDT; the hypervisor's own descriptors at the end */
#define H_TSS        0x14000 /* TSS + I/O bitmap */
#define H_IDT        0x15000
#define H_STUBS      0x16000 /* 256 x 16 bytes, CPL0 (U/S=0) */
#define H_USTUBS     0x17000 /* stubs that CPL3 may run (syscall target), U/S=1 */
#define H_NOTPRESENT 0x18000 /* mapped not present: a LSTAR variant faults here */
#define H_STACK      0x1a000 /* top of the 2-page exception stack */
#define H_DATA       0x1b000
#define H_REPLAY     0x1c000 /* CPL0 stub: replays page-table writes through KVM (hyp.h) */
#define H_WPD        0x1d000 /* PD of the window onto guest RAM */
#define WIN_VA       (HYP_VA + (1ull << 30)) /* guest RAM at WIN_VA + GPA, supervisor only */

/* Selectors: the guest's user selectors at the indices Linux uses (the raw engine would
 * copy the guest GDT's user descriptors to the same indices); the VMM's at the end. */
#define SEL_UCS32 0x23
#define SEL_UDS   0x2b
#define SEL_UCS64 0x33
#define SEL_HCS   0xfe0
#define SEL_HDS   0xfe8
#define SEL_TSS   0xff0

#define PORT_STUB   0xe0 /* out from a CPL0 exception stub */
#define PORT_SYS    0xe1 /* out from the CPL3 syscall stub (allowed by the TSS I/O bitmap) */
#define PORT_REPLAY 0xe2 /* out at the end of the replay stub */

#define PTE_P    1ull
#define PTE_W    2ull
#define PTE_U    4ull
#define PTE_PS   0x80ull
#define PTE_ADDR 0x000ffffffffff000ull

#define ERRCODE_VECTORS 0x60227d00u /* 8, 10-14, 17, 21, 29, 30 push an error code */

typedef unsigned long long u64; /* as __u64 */
typedef uint32_t u32;
typedef uint16_t u16;
typedef uint8_t u8;

struct rk {
    int kvm, vm, vcpu;
    struct kvm_run *run;
    u8 *ram;                    /* slot 0 */
    u8 *hyp;                    /* slot 1 */
    struct kvm_dirty_gfn *ring; /* rk_open_ring: the vCPU's dirty ring */
    unsigned ring_entries;
};

static inline void rk_die(const char *what)
{
    perror(what);
    exit(1);
}

static inline double rk_now(void)
{
    static int clk = -1;
    if (clk < 0)
        clk = getenv("WALL") ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID;
    struct timespec t;
    clock_gettime(clk, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static inline void rk_sigalrm(int s)
{
    (void)s;
}

/* @ring_bytes != 0: a dirty ring of that size (KVM_CAP_DIRTY_LOG_RING, before the vCPU)
 * and dirty logging on guest RAM (slot 0). */
static inline void rk_open_ring(struct rk *k, unsigned ring_bytes)
{
    memset(k, 0, sizeof(*k));
    struct sigaction sa = {.sa_handler = rk_sigalrm}; /* no SA_RESTART: KVM_RUN gets EINTR */
    sigaction(SIGALRM, &sa, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    k->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (k->kvm < 0)
        rk_die("/dev/kvm");
    k->vm = ioctl(k->kvm, KVM_CREATE_VM, 0);
    if (k->vm < 0)
        rk_die("KVM_CREATE_VM");
    k->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    k->hyp = mmap(NULL, HYP_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (k->ram == MAP_FAILED || k->hyp == MAP_FAILED)
        rk_die("mmap");
    struct kvm_enable_cap cap = {.cap = KVM_CAP_DIRTY_LOG_RING, .args = {ring_bytes}};
    if (ring_bytes && ioctl(k->vm, KVM_ENABLE_CAP, &cap) < 0)
        rk_die("KVM_ENABLE_CAP(DIRTY_LOG_RING)");
    struct kvm_userspace_memory_region r0 = {.slot = 0,
                                             .flags = ring_bytes ? KVM_MEM_LOG_DIRTY_PAGES : 0,
                                             .guest_phys_addr = 0,
                                             .memory_size = RAM_SIZE,
                                             .userspace_addr = (u64)k->ram};
    struct kvm_userspace_memory_region r1 = {.slot = 1,
                                             .guest_phys_addr = HYP_GPA,
                                             .memory_size = HYP_SIZE,
                                             .userspace_addr = (u64)k->hyp};
    if (ioctl(k->vm, KVM_SET_USER_MEMORY_REGION, &r0) < 0 ||
        ioctl(k->vm, KVM_SET_USER_MEMORY_REGION, &r1) < 0)
        rk_die("KVM_SET_USER_MEMORY_REGION");
    k->vcpu = ioctl(k->vm, KVM_CREATE_VCPU, 0);
    if (k->vcpu < 0)
        rk_die("KVM_CREATE_VCPU");
    int sz = ioctl(k->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    k->run = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, k->vcpu, 0);
    if (k->run == MAP_FAILED)
        rk_die("mmap kvm_run");
    if (ring_bytes) {
        k->ring = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, k->vcpu,
                       KVM_DIRTY_LOG_PAGE_OFFSET * getpagesize());
        if (k->ring == MAP_FAILED)
            rk_die("mmap dirty ring");
        k->ring_entries = ring_bytes / sizeof(struct kvm_dirty_gfn);
    }
    struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(struct kvm_cpuid_entry2));
    c->nent = 256;
    if (ioctl(k->kvm, KVM_GET_SUPPORTED_CPUID, c) < 0 || ioctl(k->vcpu, KVM_SET_CPUID2, c) < 0)
        rk_die("CPUID");
    free(c);
}

static inline void rk_open(struct rk *k)
{
    rk_open_ring(k, 0);
}

static inline int rk_msr(struct rk *k, int set, u32 idx, u64 *val)
{
    struct {
        struct kvm_msrs h;
        struct kvm_msr_entry e;
    } m = {.h.nmsrs = 1, .e.index = idx, .e.data = *val};
    int r = ioctl(k->vcpu, set ? KVM_SET_MSRS : KVM_GET_MSRS, &m);
    *val = m.e.data;
    return r;
}

static inline int rk_set_msr(struct rk *k, u32 idx, u64 val)
{
    return rk_msr(k, 1, idx, &val);
}

/* KVM_RUN with a watchdog; returns the ioctl result. */
static inline int rk_run(struct rk *k, unsigned secs)
{
    if (secs)
        alarm(secs);
    int r = ioctl(k->vcpu, KVM_RUN, 0);
    int e = errno;
    if (secs)
        alarm(0);
    errno = e;
    return r;
}

static inline void *gpa_ptr(struct rk *k, u64 gpa)
{
    if (gpa < RAM_SIZE)
        return k->ram + gpa;
    if (gpa >= HYP_GPA && gpa < HYP_GPA + HYP_SIZE)
        return k->hyp + (gpa - HYP_GPA);
    return NULL;
}

static inline void *hyp_va_ptr(struct rk *k, u64 va)
{
    return k->hyp + (va - HYP_VA);
}

static inline void rk_dump(struct rk *k, const char *why)
{
    struct kvm_regs r;
    struct kvm_sregs s;
    ioctl(k->vcpu, KVM_GET_REGS, &r);
    ioctl(k->vcpu, KVM_GET_SREGS, &s);
    printf("  [%s] exit=%u rip=%#llx rsp=%#llx rflags=%#llx rax=%#llx rcx=%#llx r11=%#llx\n", why,
           k->run->exit_reason, r.rip, r.rsp, r.rflags, r.rax, r.rcx, r.r11);
    printf("  cs=%#x dpl=%d ss=%#x cr2=%#llx cr3=%#llx idt=%#llx/%#x\n", s.cs.selector, s.cs.dpl,
           s.ss.selector, s.cr2, s.cr3, s.idt.base, s.idt.limit);
    if (k->run->exit_reason == KVM_EXIT_INTERNAL_ERROR) {
        printf("  internal suberror=%u:", k->run->internal.suberror);
        for (unsigned i = 0; i < k->run->internal.ndata && i < 8; i++)
            printf(" %#llx", k->run->internal.data[i]);
        printf("\n");
    }
}

static inline int rk_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static inline double rk_median(double *v, int n)
{
    qsort(v, n, sizeof(*v), rk_cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif
