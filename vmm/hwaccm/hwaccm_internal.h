/*
 * hwaccm_internal.h - helpers shared by hwaccm.c and the backend files.
 */
#ifndef VMM_HWACCM_INTERNAL_H
#define VMM_HWACCM_INTERNAL_H

#include "hwaccm.h"

/*
 * Compares the policy's vendor (leaf 0) and feature registers (leaves 1 and
 * 0x80000001 ECX and EDX, leaf 7.0 EBX..EDX; the hypervisor, HTT and
 * TSC_ADJUST bits excepted) with what
 * the host offers, given by `host(leaf, out[4], ctx)`.
 * VMM_E_CPUID_UNSUPPORTED with a message naming the profile and vendors, or
 * the leaf, register and missing bits.
 */
cap_result hwaccm_check_cpuid(const struct cpum_policy *policy,
                              void (*host)(void *ctx, uint32_t leaf, uint32_t out[4]), void *ctx);

/* Reads the instruction bytes at CS:RIP of cpu through PGM (no A/D side
 * effects) into exit->emul; leaves insn_len 0 if it cannot. */
void hwaccm_fetch_insn(struct pgm *pgm, const struct cpum_cpu *cpu, struct vmm_exit *exit);

#endif /* VMM_HWACCM_INTERNAL_H */
