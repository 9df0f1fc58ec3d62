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

#endif /* VMM_CPUM_INTERNAL_H */
