/*
 * vmm/cpum/cpum_internal.h - what CPUM's files share and nobody else sees.
 */
#ifndef VMM_CPUM_INTERNAL_H
#define VMM_CPUM_INTERNAL_H

#include "cpum.h"

/* The host CPU as the "host" profile needs it. */
struct cpum_host_cpu {
    enum cpum_vendor vendor;
    uint32_t signature;  /* CPUID.1.EAX */
    char brand[49];      /* "" when the host has no brand leaves */
    uint32_t mxcsr_mask; /* as FXSAVE stores it (0 means 0xffff) */
    uint32_t optional;   /* CPUM_OPT_*: the optional features the host has */
};

/* Reads the host CPU (cpum_host_x86.c). Any thread; no side effects. */
void cpum_host_read(struct cpum_host_cpu *out);

/* RDMSR/WRMSR of AMD's model-specific registers (cpum_msr_amd.c), for
 * cpum_msr_read/write's MSRs outside the architectural set: VMM_XCPT_GP
 * for an MSR that is not there (every one under an Intel profile). */
cap_result cpum_msr_amd_read(struct cpum_cpu *cpu, uint32_t msr, uint64_t *value);
cap_result cpum_msr_amd_write(struct cpum_cpu *cpu, uint32_t msr, uint64_t v);

#endif /* VMM_CPUM_INTERNAL_H */
