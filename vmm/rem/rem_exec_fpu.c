/*
 * rem_exec_fpu.c - x87 instructions. NOT IMPLEMENTED YET: every x87
 * mnemonic falls through to rem_unimplemented (HWACCM_EXIT_EMULATION_FAILURE
 * naming the bytes). Plan: operate on cpum_fxsave.st[] as host long double
 * (this host's 80-bit extended type), TOP/tags in fsw/ftw, #NM via CR0.TS/EM.
 */
#include "rem_ops.h"

bool rem_exec_fpu(struct rem_vcpu *v, const struct dis_insn *in)
{
    (void)v;
    (void)in;
    return false;
}
