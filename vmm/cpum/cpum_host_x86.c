/*
 * cpum_host_x86.c - reads the host CPU for the "host" profile: vendor,
 * signature, brand and the optional features (CPUM_OPT_*) with CPUID,
 * MXCSR_MASK with FXSAVE (it is model specific and only FXSAVE reports it). x86 hosts (Linux and Windows).
 */
#include <cpuid.h>
#include <string.h>

#include "cpum_internal.h"

void cpum_host_read(struct cpum_host_cpu *out)
{
    unsigned a, b, c, d;
    memset(out, 0, sizeof(*out));
    __cpuid(0, a, b, c, d);
    out->vendor = (b == 0x68747541u && d == 0x69746e65u && c == 0x444d4163u) /* AuthenticAMD */
                      ? CPUM_VENDOR_AMD
                      : CPUM_VENDOR_INTEL;
    __cpuid(1, a, b, c, d);
    out->signature = a;
    __cpuid(0x80000000u, a, b, c, d);
    if (a >= 0x80000004u) {
        uint32_t r[12];
        for (unsigned i = 0; i < 3; i++)
            __cpuid(0x80000002u + i, r[4 * i], r[4 * i + 1], r[4 * i + 2], r[4 * i + 3]);
        memcpy(out->brand, r, 48);
        /* Vendors pad the brand with leading spaces; the guest gets it trimmed. */
        size_t lead = strspn(out->brand, " ");
        memmove(out->brand, out->brand + lead, 49 - lead);
    }
    uint32_t l7b = 0, l7c = 0, e1d = 0;
    __cpuid(0, a, b, c, d);
    if (a >= 7)
        __cpuid_count(7, 0, a, l7b, l7c, d);
    __cpuid(0x80000000u, a, b, c, d);
    if (a >= 0x80000001u)
        __cpuid(0x80000001u, a, b, c, e1d);
    out->optional = cpum_optional_from_cpuid(l7b, l7c, e1d);
    uint8_t img[512] __attribute__((aligned(16))) = {0};
    __asm__ volatile("fxsave %0" : "=m"(img));
    memcpy(&out->mxcsr_mask, img + 28, 4);
    if (!out->mxcsr_mask)
        out->mxcsr_mask = 0xffff;
}
