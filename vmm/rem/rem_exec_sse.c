/*
 * rem_exec_sse.c - SSE/SSE2, FXSAVE/FXRSTOR, LDMXCSR/STMXCSR. NOT
 * IMPLEMENTED YET: these mnemonics fall through to rem_unimplemented. Plan:
 * operate on cpum_fxsave.xmm[] with host SSE intrinsics under the guest's
 * MXCSR (ldmxcsr around each FP op, exception flags collected back).
 */
#include "rem_ops.h"

bool rem_exec_sse(struct rem_vcpu *v, const struct dis_insn *in)
{
    (void)v;
    (void)in;
    return false;
}
