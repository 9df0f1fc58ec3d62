/*
 * hwaccm_whp_conv.c - the OS-neutral part of the WHP backend
 * (hwaccm_whp_conv.h): register tables and conversions between struct
 * cpum_ctx and WHP register values, IN completion, the emulator replay log.
 * Built into the Windows cross-build and, natively, into the unit test
 * tests/unit/hwaccm_whp.
 */
#include <string.h>

#include "hwaccm_whp_conv.h"

static unsigned add_range(uint32_t *names, unsigned n, unsigned max, uint32_t first,
                          unsigned count)
{
    for (unsigned i = 0; i < count && n < max; i++)
        names[n++] = first + i;
    return n;
}

static const uint32_t sreg_names[] = {
    WHPC_LDTR, WHPC_TR, WHPC_IDTR, WHPC_GDTR, WHPC_CR0, WHPC_CR2,
    WHPC_CR3,  WHPC_CR4, WHPC_CR8, WHPC_EFER, WHPC_APIC_BASE,
};
static const uint32_t msr_names[] = {
    WHPC_TSC,   WHPC_SYSENTER_CS, WHPC_SYSENTER_ESP, WHPC_SYSENTER_EIP,   WHPC_PAT,
    WHPC_STAR,  WHPC_LSTAR,       WHPC_CSTAR,        WHPC_SFMASK,         WHPC_KERNEL_GS_BASE,
    WHPC_TSC_AUX,
};
static const uint32_t dr_names[] = {WHPC_DR0, WHPC_DR0 + 1, WHPC_DR0 + 2, WHPC_DR0 + 3,
                                    WHPC_DR6, WHPC_DR7};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

unsigned whpc_names(uint32_t parts, uint32_t *names, unsigned max)
{
    unsigned n = 0;
    if (parts & CPUM_STATE_GPRS)
        n = add_range(names, n, max, WHPC_RAX, CPUM_GPR_COUNT + 2); /* + RIP, RFLAGS */
    if (parts & CPUM_STATE_SREGS) {
        n = add_range(names, n, max, WHPC_ES, CPUM_SREG_COUNT);
        for (unsigned i = 0; i < COUNT(sreg_names) && n < max; i++)
            names[n++] = sreg_names[i];
    }
    if (parts & CPUM_STATE_FPU) {
        n = add_range(names, n, max, WHPC_FPMMX0, 8);
        n = add_range(names, n, max, WHPC_FP_CONTROL_STATUS, 2); /* + XMM control/status */
        n = add_range(names, n, max, WHPC_XMM0, 16);
    }
    if (parts & CPUM_STATE_MSRS)
        for (unsigned i = 0; i < COUNT(msr_names) && n < max; i++)
            names[n++] = msr_names[i];
    if (parts & CPUM_STATE_DRS)
        for (unsigned i = 0; i < COUNT(dr_names) && n < max; i++)
            names[n++] = dr_names[i];
    return n;
}

uint32_t whpc_part_of(uint32_t name)
{
    if (name <= WHPC_RFLAGS)
        return CPUM_STATE_GPRS;
    if (name <= WHPC_CR8 || name == WHPC_EFER || name == WHPC_APIC_BASE)
        return CPUM_STATE_SREGS;
    if (name <= WHPC_DR7)
        return CPUM_STATE_DRS;
    if (name >= WHPC_XMM0 && name <= WHPC_XMM_CONTROL_STATUS)
        return CPUM_STATE_FPU;
    for (unsigned i = 0; i < COUNT(msr_names); i++)
        if (msr_names[i] == name)
            return CPUM_STATE_MSRS;
    return 0;
}

void whpc_seg_to_whp(const struct cpum_seg *s, struct whpc_seg *w)
{
    *w = (struct whpc_seg){.base = s->base, .limit = s->limit, .sel = s->sel,
                           .attr = (uint16_t)(s->attr & WHPC_SEG_ATTR_MASK)};
}

void whpc_seg_from_whp(const struct whpc_seg *w, struct cpum_seg *s)
{
    *s = (struct cpum_seg){.base = w->base, .limit = w->limit, .sel = w->sel,
                           .attr = (uint16_t)(w->attr & WHPC_SEG_ATTR_MASK)};
}

/* The 64-bit MSR-like registers: their place in the context. */
static uint64_t *u64_slot(struct cpum_ctx *c, uint32_t name)
{
    if (name < CPUM_GPR_COUNT)
        return &c->gpr[name];
    switch (name) {
    case WHPC_RIP: return &c->rip;
    case WHPC_RFLAGS: return &c->rflags;
    case WHPC_CR0: return &c->cr0;
    case WHPC_CR2: return &c->cr2;
    case WHPC_CR3: return &c->cr3;
    case WHPC_CR4: return &c->cr4;
    case WHPC_CR8: return &c->cr8;
    case WHPC_DR0: case WHPC_DR0 + 1: case WHPC_DR0 + 2: case WHPC_DR0 + 3:
        return &c->dr[name - WHPC_DR0];
    case WHPC_DR6: return &c->dr[6];
    case WHPC_DR7: return &c->dr[7];
    case WHPC_TSC: return &c->msr.tsc;
    case WHPC_EFER: return &c->msr.efer;
    case WHPC_KERNEL_GS_BASE: return &c->msr.kernel_gs_base;
    case WHPC_APIC_BASE: return &c->msr.apic_base;
    case WHPC_PAT: return &c->msr.pat;
    case WHPC_SYSENTER_CS: return &c->msr.sysenter_cs;
    case WHPC_SYSENTER_EIP: return &c->msr.sysenter_eip;
    case WHPC_SYSENTER_ESP: return &c->msr.sysenter_esp;
    case WHPC_STAR: return &c->msr.star;
    case WHPC_LSTAR: return &c->msr.lstar;
    case WHPC_CSTAR: return &c->msr.cstar;
    case WHPC_SFMASK: return &c->msr.sfmask;
    case WHPC_TSC_AUX: return &c->msr.tsc_aux;
    default: return NULL;
    }
}

/* Segment-like registers: ES..GS, LDTR, TR. */
static struct cpum_seg *seg_slot(struct cpum_ctx *c, uint32_t name)
{
    if (name >= WHPC_ES && name < WHPC_ES + CPUM_SREG_COUNT)
        return &c->seg[name - WHPC_ES];
    return name == WHPC_LDTR ? &c->ldtr : name == WHPC_TR ? &c->tr : NULL;
}

cap_bool whpc_get(const struct cpum_ctx *cc, uint32_t name, union whpc_value *v)
{
    struct cpum_ctx *c = (struct cpum_ctx *)cc; /* the slot helpers serve both ways */
    const struct cpum_fxsave *fx = &c->fpu;
    union whpc_value out;
    memset(&out, 0, sizeof(out));
    uint64_t *u = u64_slot(c, name);
    struct cpum_seg *s = seg_slot(c, name);
    if (u)
        out.u64 = *u;
    else if (s)
        whpc_seg_to_whp(s, &out.seg);
    else if (name == WHPC_IDTR || name == WHPC_GDTR) {
        const struct cpum_dtr *d = name == WHPC_IDTR ? &c->idtr : &c->gdtr;
        out.table.limit = d->limit;
        out.table.base = d->base;
    } else if (name >= WHPC_FPMMX0 && name < WHPC_FPMMX0 + 8)
        memcpy(out.bytes, fx->st[name - WHPC_FPMMX0], 10); /* 80-bit value, rest zero */
    else if (name >= WHPC_XMM0 && name < WHPC_XMM0 + 16)
        memcpy(out.bytes, fx->xmm[name - WHPC_XMM0], 16);
    else if (name == WHPC_FP_CONTROL_STATUS)
        out.fpcs = (struct whpc_fpcs){.fcw = fx->fcw, .fsw = fx->fsw, .ftw = fx->ftw,
                                      .fop = fx->fop, .fip = fx->fip};
    else if (name == WHPC_XMM_CONTROL_STATUS)
        out.xmmcs = (struct whpc_xmmcs){.fdp = fx->fdp, .mxcsr = fx->mxcsr,
                                        .mxcsr_mask = fx->mxcsr_mask};
    else
        return CAP_FALSE;
    *v = out;
    return CAP_TRUE;
}

cap_bool whpc_set(struct cpum_ctx *c, uint32_t name, const union whpc_value *v)
{
    struct cpum_fxsave *fx = &c->fpu;
    uint64_t *u = u64_slot(c, name);
    struct cpum_seg *s = seg_slot(c, name);
    if (u)
        *u = v->u64;
    else if (s)
        whpc_seg_from_whp(&v->seg, s);
    else if (name == WHPC_IDTR || name == WHPC_GDTR) {
        struct cpum_dtr *d = name == WHPC_IDTR ? &c->idtr : &c->gdtr;
        d->limit = v->table.limit;
        d->base = v->table.base;
    } else if (name >= WHPC_FPMMX0 && name < WHPC_FPMMX0 + 8) {
        memset(fx->st[name - WHPC_FPMMX0], 0, 16);
        memcpy(fx->st[name - WHPC_FPMMX0], v->bytes, 10);
    } else if (name >= WHPC_XMM0 && name < WHPC_XMM0 + 16)
        memcpy(fx->xmm[name - WHPC_XMM0], v->bytes, 16);
    else if (name == WHPC_FP_CONTROL_STATUS) {
        fx->fcw = v->fpcs.fcw, fx->fsw = v->fpcs.fsw, fx->ftw = v->fpcs.ftw;
        fx->fop = v->fpcs.fop, fx->fip = v->fpcs.fip;
    } else if (name == WHPC_XMM_CONTROL_STATUS) {
        fx->fdp = v->xmmcs.fdp;
        fx->mxcsr = v->xmmcs.mxcsr;
        if (v->xmmcs.mxcsr_mask) /* 0 means "default" to FXSAVE readers; keep ours */
            fx->mxcsr_mask = v->xmmcs.mxcsr_mask;
    } else
        return CAP_FALSE;
    return CAP_TRUE;
}

uint64_t whpc_io_in_rax(uint64_t rax, unsigned size, const uint8_t *data)
{
    uint32_t val = 0;
    for (unsigned i = 0; i < size && i < 4; i++)
        val |= (uint32_t)data[i] << (8 * i);
    switch (size) {
    case 1: return (rax & ~0xffull) | (val & 0xff);
    case 2: return (rax & ~0xffffull) | (val & 0xffff);
    default: return val; /* 32-bit destination: upper half cleared */
    }
}

void whpc_replay_reset(struct whpc_replay *r)
{
    r->n = r->pos = 0;
}

void whpc_replay_begin(struct whpc_replay *r)
{
    r->pos = 0;
}

enum whpc_replay_result whpc_replay_access(struct whpc_replay *r, enum whpc_access_kind kind,
                                           cap_bool write, uint64_t addr, unsigned size,
                                           uint8_t *data)
{
    if (size < 1 || size > 8)
        return WHPC_REPLAY_MISMATCH;
    if (r->pos < r->n) {
        struct whpc_access *a = &r->log[r->pos];
        if (a->kind != kind || a->write != !!write || a->addr != addr || a->size != size)
            return WHPC_REPLAY_MISMATCH;
        if (!write)
            memcpy(data, a->data, size);
        r->pos++;
        return WHPC_REPLAY_ANSWERED;
    }
    if (r->n == WHPC_MAX_ACCESSES)
        return WHPC_REPLAY_FULL;
    struct whpc_access *a = &r->log[r->n++];
    *a = (struct whpc_access){.kind = (uint8_t)kind, .write = !!write, .size = (uint8_t)size,
                              .addr = addr};
    if (write)
        memcpy(a->data, data, size);
    r->pos = r->n;
    return WHPC_REPLAY_NEW;
}

struct whpc_access *whpc_replay_current(struct whpc_replay *r)
{
    return r->n ? &r->log[r->n - 1] : NULL;
}
