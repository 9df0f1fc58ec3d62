/*
 * hyp.h - the guest's own address space and the VMM's hypervisor area for the probes.
 *
 * Guest (slot 0, the guest kernel would have built this):
 *   G_PML4 -> G_PDPT -> G_PD -> G_PT0 (VA 0..2 MiB, 4 KiB pages) and G_PT1 (2..4 MiB,
 *   the "fresh pages" region, empty at start; the VMM's "kernel" fills it on #PF).
 *   User code at U_CODE (U/S=1, read-only), data at U_DATA, stack below U_STACK_TOP,
 *   U_NP a user address left not present. A guest-kernel entry (U/S=0) in PML4[511]
 *   stands for the guest's upper half: it is never copied into the shadow PML4.
 *
 * Hypervisor area (slot 1): see rk.h for the offsets. Raw ring 3 runs with CR3 = one of
 * the VMM's shadow PML4 pages: entries 0..255 copied from the guest PML4 (the lower
 * levels are the guest's own tables), entry HYP_SLOT the hypervisor area.
 */
#ifndef HYP_H
#define HYP_H
#include "rk.h"

#define G_PML4      0x1000ull
#define G_PDPT      0x2000ull
#define G_PD        0x3000ull
#define G_PT0       0x4000ull
#define G_PT1       0x5000ull
#define G_KPDPT     0x6000ull   /* the guest kernel's half (never copied) */
#define U_CODE      0x100000ull /* 64 KiB */
#define U_DATA      0x110000ull /* 64 KiB */
#define U_NP        0x120000ull /* not present */
#define U_ALIAS     0x130000ull /* remapped by the stale-TLB test */
#define U_STACK_TOP 0x200000ull
#define U_FRESH     0x200000ull /* 2 MiB region, backed on demand */
#define FRESH_POOL  0x400000ull /* GPAs the "kernel" hands out for fresh pages */

static inline u64 *g_pt(struct rk *k, u64 gpa)
{
    return (u64 *)gpa_ptr(k, gpa);
}

static inline void guest_build(struct rk *k, const void *code, size_t len)
{
    memset(k->ram, 0, 0x8000);
    u64 *pml4 = g_pt(k, G_PML4), *pdpt = g_pt(k, G_PDPT), *pd = g_pt(k, G_PD);
    u64 *pt0 = g_pt(k, G_PT0);
    pml4[0] = G_PDPT | PTE_P | PTE_W | PTE_U;
    pml4[511] = G_KPDPT | PTE_P | PTE_W; /* the guest kernel's half */
    pdpt[0] = G_PD | PTE_P | PTE_W | PTE_U;
    pd[0] = G_PT0 | PTE_P | PTE_W | PTE_U;
    pd[1] = G_PT1 | PTE_P | PTE_W | PTE_U;
    for (u64 va = U_CODE; va < U_CODE + 0x10000; va += 0x1000)
        pt0[va >> 12] = va | PTE_P | PTE_U;
    for (u64 va = U_DATA; va < U_DATA + 0x10000; va += 0x1000)
        pt0[va >> 12] = va | PTE_P | PTE_W | PTE_U;
    for (u64 va = U_STACK_TOP - 0x10000; va < U_STACK_TOP; va += 0x1000)
        pt0[va >> 12] = va | PTE_P | PTE_W | PTE_U;
    pt0[U_ALIAS >> 12] = U_ALIAS | PTE_P | PTE_W | PTE_U;
    memcpy(k->ram + U_CODE, code, len);
}

static inline void gdt_set(u64 *gdt, unsigned sel, u64 desc)
{
    gdt[sel >> 3] = desc;
}

static inline void stub_emit(u8 *p, int errcode, int with_iret)
{
    int n = 0;
    p[n++] = 0xe6; /* out %al, $PORT_STUB */
    p[n++] = PORT_STUB;
    if (errcode && with_iret) { /* add $8, %rsp: drop the error code */
        p[n++] = 0x48;
        p[n++] = 0x83;
        p[n++] = 0xc4;
        p[n++] = 0x08;
    }
    if (with_iret) {
        p[n++] = 0x48; /* iretq */
        p[n++] = 0xcf;
    }
    while (n < 16)
        p[n++] = 0xcc;
}

/* The hypervisor area: its page tables, GDT, TSS + I/O bitmap, IDT, stubs. */
/* The replay stub, run at CPL0 (so by the host's emulator, which tells KVM's MMU about
 * every write it makes): rsi = list of {window address, value}, rcx = count. */
extern char hyp_replay[], hyp_replay_end[];
asm(".pushsection .rodata\n"
    "hyp_replay:\n"
    " 1: mov (%rsi), %rdi\n mov 8(%rsi), %rax\n mov %rax, (%rdi)\n add $16, %rsi\n dec %ecx\n jnz "
    "1b\n"
    " out %al, $0xe2\n"
    "hyp_replay_end:\n"
    ".popsection\n");

static inline void hyp_build(struct rk *k)
{
    memset(k->hyp, 0, HYP_SIZE);
    u64 *pdpt = gpa_ptr(k, HYP_GPA + H_PDPT), *pd = gpa_ptr(k, HYP_GPA + H_PD);
    u64 *pt = gpa_ptr(k, HYP_GPA + H_PT);
    pdpt[0] = (HYP_GPA + H_PD) | PTE_P | PTE_W | PTE_U;
    pd[0] = (HYP_GPA + H_PT) | PTE_P | PTE_W | PTE_U;
    for (u64 off = 0; off < 0x20000; off += 0x1000)
        pt[off >> 12] = (HYP_GPA + off) | PTE_P | PTE_W; /* supervisor only */
    pt[H_USTUBS >> 12] = (HYP_GPA + H_USTUBS) | PTE_P | PTE_U;
    pt[H_NOTPRESENT >> 12] = 0;
    u64 *wpd = gpa_ptr(k, HYP_GPA + H_WPD);
    pdpt[1] = (HYP_GPA + H_WPD) | PTE_P | PTE_W;
    for (u64 i = 0; i < RAM_SIZE >> 21; i++)
        wpd[i] = (i << 21) | PTE_P | PTE_W | PTE_PS;
    memcpy(gpa_ptr(k, HYP_GPA + H_REPLAY), hyp_replay, hyp_replay_end - hyp_replay);

    u64 *gdt = gpa_ptr(k, HYP_GPA + H_GDT);
    gdt_set(gdt, SEL_UCS32, 0x00cffb000000ffffull);
    gdt_set(gdt, SEL_UDS, 0x00cff3000000ffffull);
    gdt_set(gdt, SEL_UCS64, 0x00affb000000ffffull);
    gdt_set(gdt, SEL_HCS, 0x00af9b000000ffffull);
    gdt_set(gdt, SEL_HDS, 0x00cf93000000ffffull);
    u64 tss = HYP_VA + H_TSS, lim = 0x68 + 32; /* I/O bitmap for ports 0..255 + 0xff */
    gdt_set(gdt, SEL_TSS,
            lim | ((tss & 0xffffff) << 16) | (0x89ull << 40) | (((tss >> 24) & 0xff) << 56));
    gdt_set(gdt, SEL_TSS + 8, tss >> 32);

    u8 *t = gpa_ptr(k, HYP_GPA + H_TSS);
    *(u64 *)(t + 4) = HYP_VA + H_STACK; /* RSP0 */
    *(u16 *)(t + 0x66) = 0x68;          /* I/O bitmap base */
    memset(t + 0x68, 0xff, 33);
    t[0x68 + PORT_SYS / 8] &= ~(1u << (PORT_SYS % 8)); /* CPL3 may 'out' to PORT_SYS only */

    u64 *idt = gpa_ptr(k, HYP_GPA + H_IDT);
    u8 *stubs = gpa_ptr(k, HYP_GPA + H_STUBS);
    for (unsigned v = 0; v < 256; v++) {
        u64 h = HYP_VA + H_STUBS + v * 16;
        stub_emit(stubs + v * 16, v < 32 && (ERRCODE_VECTORS >> v) & 1, 1);
        unsigned dpl = (v == 3 || v == 4 || v == 0x80) ? 3 : 0;
        idt[v * 2] = (h & 0xffff) | ((u64)SEL_HCS << 16) | ((u64)(0x8e | dpl << 5) << 40) |
                     ((h >> 16) & 0xffff) << 48;
        idt[v * 2 + 1] = h >> 32;
    }
    u8 *us = gpa_ptr(k, HYP_GPA + H_USTUBS);
    memcpy(us + 0x00, "\xe6\xe1\xff\xe1", 4); /* out %al,$PORT_SYS; jmp *%rcx */
    memcpy(us + 0x10, "\x0f\x0b", 2);         /* ud2 */
}

/* Shadow PML4 number @idx: guest user half + the hypervisor area. Returns its GPA. */
static inline u64 shadow_sync(struct rk *k, unsigned idx, u64 guest_pml4_gpa)
{
    u64 *s = gpa_ptr(k, HYP_GPA + H_SPML4 + idx * 0x1000ull);
    memcpy(s, gpa_ptr(k, guest_pml4_gpa), 256 * 8);
    s[HYP_SLOT] = (HYP_GPA + H_PDPT) | PTE_P | PTE_W | PTE_U;
    return HYP_GPA + H_SPML4 + idx * 0x1000ull;
}

static inline void seg_user(struct kvm_segment *s, u16 sel, int code)
{
    *s = (struct kvm_segment){.selector = sel,
                              .limit = 0xfffff,
                              .type = code ? 0xb : 0x3,
                              .present = 1,
                              .dpl = 3,
                              .s = 1,
                              .l = code,
                              .db = !code,
                              .g = 1};
}

/* CPL3 64-bit user state over the hypervisor's GDT/IDT/TSS, CR3 = @cr3. */
static inline void user_sregs(struct kvm_sregs *s, u64 cr3)
{
    seg_user(&s->cs, SEL_UCS64, 1);
    seg_user(&s->ss, SEL_UDS, 0);
    s->ds = s->es = s->fs = s->gs = s->ss;
    s->tr = (struct kvm_segment){
        .selector = SEL_TSS, .base = HYP_VA + H_TSS, .limit = 0x68 + 32, .type = 11, .present = 1};
    s->ldt = (struct kvm_segment){.unusable = 1};
    s->gdt.base = HYP_VA + H_GDT;
    s->gdt.limit = 0xfff;
    s->idt.base = HYP_VA + H_IDT;
    s->idt.limit = 0xfff;
    s->cr0 = 0x80050033; /* PG WP NE ET MP PE AM */
    s->cr3 = cr3;
    s->cr4 = 0x620;  /* PAE OSFXSR OSXMMEXCPT */
    s->efer = 0xd01; /* LMA LME SCE NXE */
}

static inline void set_syscall_msrs(struct rk *k, u64 lstar)
{
    rk_set_msr(k, 0xc0000081, ((u64)(SEL_UCS32 & ~3) << 48) | ((u64)SEL_HCS << 32)); /* STAR */
    rk_set_msr(k, 0xc0000082, lstar);                                                /* LSTAR */
    rk_set_msr(k, 0xc0000084, 0x4700); /* SFMASK: TF IF DF NT */
}

static inline void enter_user(struct rk *k, u64 rip, u64 rsp, u64 cr3)
{
    struct kvm_sregs s;
    if (ioctl(k->vcpu, KVM_GET_SREGS, &s) < 0)
        rk_die("KVM_GET_SREGS");
    user_sregs(&s, cr3);
    if (ioctl(k->vcpu, KVM_SET_SREGS, &s) < 0)
        rk_die("KVM_SET_SREGS");
    struct kvm_regs r = {.rip = rip, .rsp = rsp, .rflags = 0x202};
    if (ioctl(k->vcpu, KVM_SET_REGS, &r) < 0)
        rk_die("KVM_SET_REGS");
}

/* Make KVM see the guest page-table entries at @gpas (already written by the VMM): the
 * vCPU writes each one again at CPL0. Leaves the vCPU at CPL0; the caller reloads the
 * user state. Returns 0, or -1 if the stub did not end as expected. */
#define REPLAY_MAX  190      /* 20 bytes of code per write after 0x100 in one page */
#define REPLAY_CODE 0x100    /* offset of the generated code in H_REPLAY */
static int replay_generated; /* 1: straight-line code, 2 instructions per write */

static inline u64 replay_va(u64 gpa)
{
    return gpa >= HYP_GPA ? HYP_VA + (gpa - HYP_GPA) : WIN_VA + gpa;
}

/* Straight-line code in H_REPLAY + REPLAY_CODE: `movabs $value, %rax; movabs %rax, va`
 * for each entry (its current value). Returns where the caller appends the ending. */
static inline u8 *replay_emit(struct rk *k, const u64 *gpas, unsigned n)
{
    u8 *code = gpa_ptr(k, HYP_GPA + H_REPLAY + REPLAY_CODE);
    for (unsigned i = 0; i < n; i++) {
        u64 va = replay_va(gpas[i]), val = *(u64 *)gpa_ptr(k, gpas[i]);
        memcpy(code, "\x48\xb8", 2);
        memcpy(code + 2, &val, 8);
        memcpy(code + 10, "\x48\xa3", 2);
        memcpy(code + 12, &va, 8);
        code += 20;
    }
    return code;
}

static inline void hyp_cpl0_segs(struct kvm_sregs *s)
{
    s->cs = (struct kvm_segment){
        .selector = SEL_HCS, .limit = 0xfffff, .type = 0xb, .present = 1, .s = 1, .l = 1, .g = 1};
    s->ss = (struct kvm_segment){
        .selector = SEL_HDS, .limit = 0xfffff, .type = 0x3, .present = 1, .s = 1, .db = 1, .g = 1};
}

static inline int replay_writes(struct rk *k, const u64 *gpas, unsigned n)
{
    u64 *list = gpa_ptr(k, HYP_GPA + H_DATA);
    if (n > REPLAY_MAX)
        return -1;
    for (unsigned i = 0; i < n; i++) {
        list[2 * i] = replay_va(gpas[i]);
        list[2 * i + 1] = *(u64 *)gpa_ptr(k, gpas[i]);
    }
    if (replay_generated)
        memcpy(replay_emit(k, gpas, n), "\xe6\xe2", 2); /* out %al, $PORT_REPLAY */
    struct kvm_sregs s;
    k->run->kvm_dirty_regs = 0; /* nothing pending in kvm_run->s.regs may override this */
    ioctl(k->vcpu, KVM_GET_SREGS, &s);
    hyp_cpl0_segs(&s);
    ioctl(k->vcpu, KVM_SET_SREGS, &s);
    struct kvm_regs r = {.rip = HYP_VA + H_REPLAY + (replay_generated ? REPLAY_CODE : 0),
                         .rsi = HYP_VA + H_DATA,
                         .rcx = n,
                         .rsp = HYP_VA + H_STACK,
                         .rflags = 2};
    ioctl(k->vcpu, KVM_SET_REGS, &r);
    if (rk_run(k, 5) < 0 || k->run->exit_reason != KVM_EXIT_IO || k->run->io.port != PORT_REPLAY)
        return rk_dump(k, "replay"), -1;
    return 0;
}

/* The same replay folded into the return to user mode, in one KVM_RUN with no other
 * ioctl: kvm_run->s.regs enter the vCPU at CPL0 in straight-line code that rewrites the
 * entries, restores RAX and irets to @u (CPL3) under @cr3. The caller runs the vCPU. */
static inline int replay_then_user(struct rk *k, const u64 *gpas, unsigned n,
                                   const struct kvm_regs *u, u64 cr3)
{
    if (n > REPLAY_MAX)
        return -1;
    u8 *code = replay_emit(k, gpas, n);
    memcpy(code, "\x48\xb8", 2); /* movabs $rax, %rax; iretq */
    memcpy(code + 2, &u->rax, 8);
    memcpy(code + 10, "\x48\xcf", 2);
    u64 *frame = gpa_ptr(k, HYP_GPA + H_STACK - 40);
    frame[0] = u->rip;
    frame[1] = SEL_UCS64;
    frame[2] = u->rflags;
    frame[3] = u->rsp;
    frame[4] = SEL_UDS;
    struct kvm_sync_regs *sr = &k->run->s.regs;
    sr->regs = *u;
    sr->regs.rip = HYP_VA + H_REPLAY + REPLAY_CODE;
    sr->regs.rsp = HYP_VA + H_STACK - 40;
    sr->regs.rflags = 2;
    user_sregs(&sr->sregs, cr3);
    hyp_cpl0_segs(&sr->sregs);
    k->run->kvm_dirty_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
    return 0;
}

/* The exception frame a stub exit left on the hypervisor stack. */
struct xframe {
    unsigned vec;
    u64 err, rip, cs, rflags, rsp, ss, cr2;
    u64 stub_rsp; /* RSP at the exit (points at the error code or the frame) */
};

/* Decode a PORT_STUB exit: the vector from the stub's address, the frame from the stack. */
static inline int xframe_read(struct rk *k, struct kvm_regs *r, struct xframe *f)
{
    u64 off = r->rip - 2 - (HYP_VA + H_STUBS);
    if (off >= 0x1000 || off % 16)
        return -1;
    f->vec = off / 16;
    f->stub_rsp = r->rsp;
    u64 *p = hyp_va_ptr(k, r->rsp);
    int ec = f->vec < 32 && (ERRCODE_VECTORS >> f->vec) & 1;
    f->err = ec ? *p++ : 0;
    f->rip = p[0];
    f->cs = p[1];
    f->rflags = p[2];
    f->rsp = p[3];
    f->ss = p[4];
    return 0;
}

static inline u64 *xframe_rip_slot(struct rk *k, struct xframe *f)
{
    int ec = f->vec < 32 && (ERRCODE_VECTORS >> f->vec) & 1;
    return (u64 *)hyp_va_ptr(k, f->stub_rsp) + ec;
}
#endif
