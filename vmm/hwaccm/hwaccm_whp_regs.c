/*
 * hwaccm_whp_regs.c - moving the vCPU state between struct cpum_ctx and
 * WHP's virtual-processor registers. The name tables and conversions are
 * the OS-neutral ones of hwaccm_whp_conv.c; this file checks that their
 * copy of the WHP ABI matches winhvplatformdefs.h, and does the calls.
 *
 * Compile-only: cross-built with mingw-w64 and never run.
 */
#include <stddef.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "hwaccm_whp.h"

/* hwaccm_whp_conv.h repeats WHP's ABI so that it builds without Windows
 * headers; here the two are held together. */
#define SAME(a, b) _Static_assert((uint32_t)(a) == (uint32_t)(b), #a " != " #b)
SAME(WHPC_RAX, WHvX64RegisterRax);
SAME(WHPC_RAX + CPUM_RBX, WHvX64RegisterRbx);
SAME(WHPC_RAX + CPUM_RSP, WHvX64RegisterRsp);
SAME(WHPC_RAX + CPUM_RDI, WHvX64RegisterRdi);
SAME(WHPC_RAX + CPUM_R15, WHvX64RegisterR15);
SAME(WHPC_RIP, WHvX64RegisterRip);
SAME(WHPC_RFLAGS, WHvX64RegisterRflags);
SAME(WHPC_ES + CPUM_ES, WHvX64RegisterEs);
SAME(WHPC_ES + CPUM_CS, WHvX64RegisterCs);
SAME(WHPC_ES + CPUM_SS, WHvX64RegisterSs);
SAME(WHPC_ES + CPUM_GS, WHvX64RegisterGs);
SAME(WHPC_LDTR, WHvX64RegisterLdtr);
SAME(WHPC_TR, WHvX64RegisterTr);
SAME(WHPC_IDTR, WHvX64RegisterIdtr);
SAME(WHPC_GDTR, WHvX64RegisterGdtr);
SAME(WHPC_CR0, WHvX64RegisterCr0);
SAME(WHPC_CR2, WHvX64RegisterCr2);
SAME(WHPC_CR3, WHvX64RegisterCr3);
SAME(WHPC_CR4, WHvX64RegisterCr4);
SAME(WHPC_CR8, WHvX64RegisterCr8);
SAME(WHPC_DR0, WHvX64RegisterDr0);
SAME(WHPC_DR0 + 3, WHvX64RegisterDr3);
SAME(WHPC_DR6, WHvX64RegisterDr6);
SAME(WHPC_DR7, WHvX64RegisterDr7);
SAME(WHPC_XMM0, WHvX64RegisterXmm0);
SAME(WHPC_XMM0 + 15, WHvX64RegisterXmm15);
SAME(WHPC_FPMMX0, WHvX64RegisterFpMmx0);
SAME(WHPC_FPMMX0 + 7, WHvX64RegisterFpMmx7);
SAME(WHPC_FP_CONTROL_STATUS, WHvX64RegisterFpControlStatus);
SAME(WHPC_XMM_CONTROL_STATUS, WHvX64RegisterXmmControlStatus);
SAME(WHPC_TSC, WHvX64RegisterTsc);
SAME(WHPC_EFER, WHvX64RegisterEfer);
SAME(WHPC_KERNEL_GS_BASE, WHvX64RegisterKernelGsBase);
SAME(WHPC_APIC_BASE, WHvX64RegisterApicBase);
SAME(WHPC_PAT, WHvX64RegisterPat);
SAME(WHPC_SYSENTER_CS, WHvX64RegisterSysenterCs);
SAME(WHPC_SYSENTER_EIP, WHvX64RegisterSysenterEip);
SAME(WHPC_SYSENTER_ESP, WHvX64RegisterSysenterEsp);
SAME(WHPC_STAR, WHvX64RegisterStar);
SAME(WHPC_LSTAR, WHvX64RegisterLstar);
SAME(WHPC_CSTAR, WHvX64RegisterCstar);
SAME(WHPC_SFMASK, WHvX64RegisterSfmask);
SAME(WHPC_TSC_AUX, WHvX64RegisterTscAux);

#define LAYOUT(m, wm) _Static_assert(offsetof(union whpc_value, m) == offsetof(WHV_REGISTER_VALUE, wm), #m)
_Static_assert(sizeof(union whpc_value) == sizeof(WHV_REGISTER_VALUE), "value size");
_Static_assert(_Alignof(union whpc_value) == _Alignof(WHV_REGISTER_VALUE), "value alignment");
LAYOUT(seg.base, Segment.Base);
LAYOUT(seg.limit, Segment.Limit);
LAYOUT(seg.sel, Segment.Selector);
LAYOUT(seg.attr, Segment.Attributes);
LAYOUT(table.limit, Table.Limit);
LAYOUT(table.base, Table.Base);
LAYOUT(fpcs.fcw, FpControlStatus.FpControl);
LAYOUT(fpcs.fsw, FpControlStatus.FpStatus);
LAYOUT(fpcs.ftw, FpControlStatus.FpTag);
LAYOUT(fpcs.fop, FpControlStatus.LastFpOp);
LAYOUT(fpcs.fip, FpControlStatus.LastFpRip);
LAYOUT(xmmcs.fdp, XmmControlStatus.LastFpRdp);
LAYOUT(xmmcs.mxcsr, XmmControlStatus.XmmStatusControl);
LAYOUT(xmmcs.mxcsr_mask, XmmControlStatus.XmmStatusControlMask);

cap_result hwaccm_whp_regs_io(struct hwaccm_vcpu *vcpu, const uint32_t *names, unsigned n,
                              cap_bool set)
{
    WHV_REGISTER_NAME wn[WHPC_MAX_NAMES];
    union whpc_value vals[WHPC_MAX_NAMES];
    struct cpum_ctx *c = &vcpu->cpu->ctx;
    if (n > WHPC_MAX_NAMES)
        return cap_error_set(VMM_E_BAD_STATE, VMM_COMPONENT, NULL,
                             "hwaccm: %u WHP registers in one call (at most %u)", n,
                             WHPC_MAX_NAMES);
    for (unsigned i = 0; i < n; i++) {
        wn[i] = (WHV_REGISTER_NAME)names[i];
        if (set)
            whpc_get(c, names[i], &vals[i]);
    }
    if (set)
        return hd_whp_set_regs(vcpu->wv, wn, n, (const WHV_REGISTER_VALUE *)vals);
    cap_result rc = hd_whp_get_regs(vcpu->wv, wn, n, (WHV_REGISTER_VALUE *)vals);
    if (CAP_SUCCEEDED(rc))
        for (unsigned i = 0; i < n; i++)
            whpc_set(c, names[i], &vals[i]);
    return rc;
}

static cap_result parts_io(struct hwaccm_vcpu *vcpu, uint32_t parts, cap_bool set)
{
    uint32_t names[WHPC_MAX_NAMES];
    unsigned n = whpc_names(parts, names, WHPC_MAX_NAMES);
    return n ? hwaccm_whp_regs_io(vcpu, names, n, set) : CAP_OK;
}

cap_result hwaccm_whp_push(struct hwaccm_vcpu *vcpu)
{
    struct cpum_cpu *cpu = vcpu->cpu;
    cap_result rc = parts_io(vcpu, cpu->dirty, CAP_TRUE);
    if (CAP_FAILED(rc))
        return rc;
    cpu->extrn &= ~cpu->dirty;
    cpu->dirty = 0;
    return CAP_OK;
}

cap_result hwaccm_whp_pull(struct hwaccm_vcpu *vcpu)
{
    cap_result rc = parts_io(vcpu, CPUM_STATE_GPRS | CPUM_STATE_SREGS, CAP_FALSE);
    if (CAP_SUCCEEDED(rc))
        vcpu->cpu->extrn |= CPUM_STATE_FPU | CPUM_STATE_MSRS | CPUM_STATE_DRS;
    return rc;
}

cap_result hwaccm_vcpu_import(struct hwaccm_vcpu *vcpu, uint32_t what)
{
    struct cpum_cpu *cpu = vcpu->cpu;
    what &= cpu->extrn & (CPUM_STATE_FPU | CPUM_STATE_MSRS | CPUM_STATE_DRS);
    cap_result rc = parts_io(vcpu, what, CAP_FALSE);
    if (CAP_SUCCEEDED(rc))
        cpu->extrn &= ~what;
    return vmm_result_from_hd(rc);
}
