/*
 * hwaccm_kvm_udtrap.c - INT n from guest user mode on a KVM that emulates
 * guest kernel code (no VT-x/AMD-V: KVM's PVM backend).
 *
 * That KVM turns INT n (and INT3/INTO where it emulates the user code:
 * compatibility and protected mode) executed at CPL3 into a #UD for the
 * guest, without an exit to user space: the guest's #UD handler runs as
 * if the instruction did not exist (issue 10; tests/guests/cpl3_int.c).
 * Nothing the VMM sees marks the moment, so hm watches the one place every
 * such #UD goes through: the first instruction of the guest's #UD handler,
 * with a host instruction breakpoint (KVM_SET_GUEST_DEBUG, which KVM's
 * emulator checks before each instruction of emulated guest kernel code).
 *
 * When it fires, the frame the #UD pushed says where it came from. A #UD
 * from CPL3 at an INT n / INT3 / INTO instruction is the host's doing: the
 * delivery is undone (RIP, RFLAGS, RSP, CS and SS from the frame, CS and SS
 * reloaded from their descriptors) and hm reports an emulation failure at
 * the INT, which EM has rem execute (em_step_in_rem) - so the interrupt
 * goes through the guest's IDT as the CPU would deliver it. Any other #UD
 * is the guest's own: hm reports an emulation failure at the handler's
 * first instruction, rem executes that one instruction and hm goes on past
 * the breakpoint (KVM ignores RF for its own breakpoints).
 *
 * The breakpoint follows the IDT: before each run the #UD gate is read
 * through the guest's paging, and KVM is told only when its target moved.
 * Armed only on hosts that emulate guest kernel code
 * (hwaccm_host_runs_cpl0_natively), where this costs a gate read per run.
 */
#include <string.h>

#include <capsule/errorinfo.h>

#include "hwaccm_kvm.h"

#define VEC_UD 6
/* IDT gate types (SDM Vol. 3A 3.5): 32-bit gates in protected mode, the
 * same codes are the 64-bit gates in long mode. */
#define GATE_INT  0xeu
#define GATE_TRAP 0xfu
#define RFLAGS_VM (1ull << 17)
#define DR7_L0_G0 0x3ull /* breakpoint 0 enabled, R/W 00 (execution), LEN 00 */

static cap_bool long_mode(const struct cpum_ctx *c)
{
    return (c->msr.efer & EFER_LMA) != 0;
}

static cap_bool read_sup(struct hwaccm_vcpu *v, uint64_t la, void *buf, size_t len)
{
    struct pgm_paging pg;
    struct pgm_walk w;
    pgm_paging_from_ctx(&pg, v->cpu);
    return CAP_SUCCEEDED(
        pgm_virt_read(v->hm->pgm, &pg, la, buf, len, PGM_ACC_READ | PGM_ACC_NO_AD, &w));
}

/* The descriptor `sel` names (GDT or LDT), as a segment register caches it. */
static cap_bool load_desc(struct hwaccm_vcpu *v, uint16_t sel, struct cpum_seg *s)
{
    const struct cpum_ctx *c = &v->cpu->ctx;
    uint64_t base = (sel & 4) ? c->ldtr.base : c->gdtr.base, d;
    uint32_t tab_limit = (sel & 4) ? c->ldtr.limit : c->gdtr.limit;
    if ((sel & ~7u) == 0 || (uint32_t)(sel & ~7u) + 7 > tab_limit ||
        !read_sup(v, base + (sel & ~7u), &d, sizeof(d)))
        return CAP_FALSE;
    uint32_t limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));
    s->sel = sel;
    /* access byte (type, S, DPL, P) and the flags nibble (AVL, L, D/B, G):
     * the layout of CPUM_SEG_* */
    s->attr = (uint16_t)(((d >> 40) & 0xff) | (((d >> 52) & 0xf) << 12));
    s->limit = (s->attr & CPUM_SEG_G) ? (limit << 12) | 0xfff : limit;
    s->base = ((d >> 16) & 0xffffff) | ((d >> 56) << 24);
    return (s->attr & CPUM_SEG_P) != 0;
}

/* Linear address of the #UD handler's first instruction, 0 if there is no
 * usable interrupt or trap gate (real mode, task gate, 16-bit gate, ...). */
static uint64_t ud_handler(struct hwaccm_vcpu *v)
{
    const struct cpum_ctx *c = &v->cpu->ctx;
    if (!(c->cr0 & CR0_PE) || (c->rflags & RFLAGS_VM))
        return 0;
    unsigned size = long_mode(c) ? 16 : 8;
    uint64_t g[2] = {0, 0};
    if ((uint32_t)VEC_UD * size + size - 1 > c->idtr.limit ||
        !read_sup(v, c->idtr.base + VEC_UD * size, g, size))
        return 0;
    unsigned type = (unsigned)(g[0] >> 40) & 0xf;
    if (!(g[0] & (1ull << 47)) || (type != GATE_INT && type != GATE_TRAP))
        return 0;
    uint64_t off = (g[0] & 0xffff) | ((g[0] >> 32) & 0xffff0000ull);
    if (long_mode(c))
        return off | (g[1] << 32);
    struct cpum_seg cs;
    if (!load_desc(v, (uint16_t)(g[0] >> 16), &cs))
        return 0;
    return (cs.base + off) & 0xffffffffull;
}

void hwaccm_kvm_udtrap_arm(struct hwaccm_vcpu *v)
{
    if (!v->udtrap_on)
        return;
    uint64_t la = ud_handler(v);
    if (la == v->udtrap_la)
        return;
    struct kvm_guest_debug d;
    memset(&d, 0, sizeof(d));
    if (la) {
        d.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
        d.arch.debugreg[0] = la;
        d.arch.debugreg[7] = DR7_L0_G0;
    }
    if (CAP_FAILED(hd_kvm_set_guest_debug(v->kv, &d))) {
        /* a KVM without guest debugging: INT n from CPL3 stays its #UD */
        cap_error_clear();
        v->udtrap_on = CAP_FALSE;
        return;
    }
    v->udtrap_la = la;
}

/* Whether the instruction at the user's CS:RIP is one KVM refused (INT n,
 * INT3, INTO outside 64-bit code). */
static cap_bool is_soft_int(struct hwaccm_vcpu *v, const struct cpum_seg *cs, uint64_t rip)
{
    struct pgm_paging pg;
    struct pgm_walk w;
    uint8_t op;
    cap_bool code64 = long_mode(&v->cpu->ctx) && (cs->attr & CPUM_SEG_L);
    uint64_t la = code64 ? rip : (cs->base + rip) & 0xffffffffull;
    pgm_paging_from_ctx(&pg, v->cpu);
    if (CAP_FAILED(pgm_virt_read(v->hm->pgm, &pg, la, &op, 1,
                                 PGM_ACC_EXEC | PGM_ACC_USER | PGM_ACC_NO_AD, &w)))
        return CAP_FALSE;
    return op == 0xcd || op == 0xcc || (op == 0xce && !code64);
}

/* At the #UD handler's entry: undoes the delivery of a #UD that KVM raised
 * for an INT at CPL3. Returns whether it did. */
static cap_bool undo_soft_int(struct hwaccm_vcpu *v)
{
    struct cpum_ctx *c = &v->cpu->ctx;
    unsigned w = long_mode(c) ? 8 : 4;
    uint64_t sp = c->gpr[CPUM_RSP], f[5] = {0, 0, 0, 0, 0};
    uint8_t raw[40];
    if (!long_mode(c))
        sp = (c->seg[CPUM_SS].base + (sp & 0xffffffffull)) & 0xffffffffull;
    if (!read_sup(v, sp, raw, 5 * w))
        return CAP_FALSE;
    for (unsigned i = 0; i < 5; i++)
        memcpy(&f[i], raw + i * w, w); /* rip, cs, rflags, rsp, ss */
    struct cpum_seg cs, ss;
    if ((f[1] & 3) != 3 || (f[2] & RFLAGS_VM) || !load_desc(v, (uint16_t)f[1], &cs) ||
        !load_desc(v, (uint16_t)f[4], &ss) || !is_soft_int(v, &cs, f[0]))
        return CAP_FALSE;
    c->rip = f[0];
    c->rflags = f[2];
    c->gpr[CPUM_RSP] = f[3];
    c->seg[CPUM_CS] = cs;
    c->seg[CPUM_SS] = ss;
    v->cpu->dirty |= CPUM_STATE_GPRS | CPUM_STATE_SREGS;
    return CAP_TRUE;
}

cap_bool hwaccm_kvm_udtrap_exit(struct hwaccm_vcpu *v, struct vmm_exit *x)
{
    const struct kvm_run *run = v->kv->run;
    if (!v->udtrap_la || run->debug.arch.pc != v->udtrap_la || !(run->debug.arch.dr6 & 1))
        return CAP_FALSE;
    undo_soft_int(v);
    /* Either way rem executes the instruction now at CS:RIP: the INT, or
     * the handler's first instruction (past the breakpoint). */
    x->reason = VMM_EXIT_EMULATION_FAILURE;
    hwaccm_fetch_insn(v->hm->pgm, v->cpu, x);
    return CAP_TRUE;
}
