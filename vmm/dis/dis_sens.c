/*
 * dis_sens.c - the raw-mode classification of a decoded instruction
 * (struct dis_insn.sens, enum dis_sens): which instructions a guest kernel
 * running deprivileged must not execute as they are, and why. Most follow
 * from the mnemonic (a table); segment-register moves, pushes and pops
 * depend on the operands (reading CS or SS shows the CPL, loading any
 * segment register checks descriptor privilege against it, storing DS..GS
 * is harmless). CSAM records these kinds, PATM picks its patch by them.
 */
#include "dis/dis_internal.h"

static const uint8_t sens_of_mnem[DIS_MNEM_COUNT] = {
    [DIS_pushf] = DIS_SENS_PUSHF,     [DIS_popf] = DIS_SENS_POPF,
    [DIS_cli] = DIS_SENS_CLI,         [DIS_sti] = DIS_SENS_STI,
    [DIS_iret] = DIS_SENS_IRET,       [DIS_sysret] = DIS_SENS_SYSRET,
    [DIS_sysexit] = DIS_SENS_SYSRET,  [DIS_swapgs] = DIS_SENS_SWAPGS,
    [DIS_in] = DIS_SENS_IO,           [DIS_out] = DIS_SENS_IO,
    [DIS_ins] = DIS_SENS_IO,          [DIS_outs] = DIS_SENS_IO,
    [DIS_movcr] = DIS_SENS_CR,        [DIS_clts] = DIS_SENS_CR,
    [DIS_lmsw] = DIS_SENS_CR,         [DIS_smsw] = DIS_SENS_CR,
    [DIS_movdr] = DIS_SENS_DR,        [DIS_lgdt] = DIS_SENS_DESC_LOAD,
    [DIS_lidt] = DIS_SENS_DESC_LOAD,  [DIS_lldt] = DIS_SENS_DESC_LOAD,
    [DIS_ltr] = DIS_SENS_DESC_LOAD,   [DIS_sgdt] = DIS_SENS_DESC_READ,
    [DIS_sidt] = DIS_SENS_DESC_READ,  [DIS_sldt] = DIS_SENS_DESC_READ,
    [DIS_str] = DIS_SENS_DESC_READ,   [DIS_rdmsr] = DIS_SENS_MSR,
    [DIS_wrmsr] = DIS_SENS_MSR,       [DIS_cpuid] = DIS_SENS_CPUID,
    [DIS_hlt] = DIS_SENS_HLT,         [DIS_invlpg] = DIS_SENS_TLB,
    [DIS_invpcid] = DIS_SENS_TLB,     [DIS_invlpga] = DIS_SENS_TLB,
    [DIS_rdtsc] = DIS_SENS_TSC,       [DIS_rdtscp] = DIS_SENS_TSC,
    [DIS_rdpmc] = DIS_SENS_TSC,       [DIS_lar] = DIS_SENS_SEG_READ,
    [DIS_lsl] = DIS_SENS_SEG_READ,    [DIS_verr] = DIS_SENS_SEG_READ,
    [DIS_verw] = DIS_SENS_SEG_READ,   [DIS_arpl] = DIS_SENS_SEG_READ,
    [DIS_lds] = DIS_SENS_SEG_LOAD,    [DIS_les] = DIS_SENS_SEG_LOAD,
    [DIS_lss] = DIS_SENS_SEG_LOAD,    [DIS_lfs] = DIS_SENS_SEG_LOAD,
    [DIS_lgs] = DIS_SENS_SEG_LOAD,    [DIS_jmpf] = DIS_SENS_FAR,
    [DIS_callf] = DIS_SENS_FAR,       [DIS_retf] = DIS_SENS_FAR,
    [DIS_int] = DIS_SENS_INT,         [DIS_int3] = DIS_SENS_INT,
    [DIS_into] = DIS_SENS_INT,        [DIS_int1] = DIS_SENS_INT,
    [DIS_syscall] = DIS_SENS_SYSCALL, [DIS_sysenter] = DIS_SENS_SYSCALL,
    [DIS_ud0] = DIS_SENS_UD,          [DIS_ud1] = DIS_SENS_UD,
    [DIS_ud2] = DIS_SENS_UD,
};

static const char *const sens_names[DIS_SENS_COUNT] = {
    [DIS_SENS_NONE] = "none",
    [DIS_SENS_PUSHF] = "pushf",
    [DIS_SENS_POPF] = "popf",
    [DIS_SENS_CLI] = "cli",
    [DIS_SENS_STI] = "sti",
    [DIS_SENS_IRET] = "iret",
    [DIS_SENS_SYSRET] = "sysret",
    [DIS_SENS_SWAPGS] = "swapgs",
    [DIS_SENS_IO] = "io",
    [DIS_SENS_CR] = "cr",
    [DIS_SENS_DR] = "dr",
    [DIS_SENS_DESC_LOAD] = "desc-load",
    [DIS_SENS_DESC_READ] = "desc-read",
    [DIS_SENS_MSR] = "msr",
    [DIS_SENS_CPUID] = "cpuid",
    [DIS_SENS_HLT] = "hlt",
    [DIS_SENS_TLB] = "tlb",
    [DIS_SENS_TSC] = "tsc",
    [DIS_SENS_SEG_READ] = "seg-read",
    [DIS_SENS_SEG_LOAD] = "seg-load",
    [DIS_SENS_FAR] = "far",
    [DIS_SENS_INT] = "int",
    [DIS_SENS_SYSCALL] = "syscall",
    [DIS_SENS_UD] = "ud",
    [DIS_SENS_PRIV] = "priv",
};

static int is_seg(const struct dis_op *o)
{
    return o->kind == DIS_OP_REG && o->reg_class == DIS_RC_SEG;
}

static int shows_cpl(const struct dis_op *o)
{
    return is_seg(o) && (o->reg == DIS_SEG_CS || o->reg == DIS_SEG_SS);
}

void dis_sens_classify(struct dis_insn *in)
{
    unsigned m = in->mnem;
    uint8_t k = m < DIS_MNEM_COUNT ? sens_of_mnem[m] : DIS_SENS_NONE;

    if (m == DIS_movseg)
        k = is_seg(&in->op[0])      ? DIS_SENS_SEG_LOAD
            : shows_cpl(&in->op[1]) ? DIS_SENS_SEG_READ
                                    : DIS_SENS_NONE;
    else if (m == DIS_push && in->nops && shows_cpl(&in->op[0]))
        k = DIS_SENS_SEG_READ;
    else if (m == DIS_pop && in->nops && is_seg(&in->op[0]))
        k = DIS_SENS_SEG_LOAD;
    else if (k == DIS_SENS_NONE && (in->attr & (DIS_A_PRIV | DIS_A_SENS | DIS_A_IO)))
        k = DIS_SENS_PRIV;
    in->sens = k;
}

const char *dis_sens_name(unsigned sens)
{
    return sens < DIS_SENS_COUNT ? sens_names[sens] : "?";
}
