/*
 * cpum_profile.c - the CPU profiles a VM can be given: which CPU the guest
 * sees (vendor, signature, brand, MXCSR_MASK) and the vendor-dependent
 * behaviours the software CPU models for it (CPUM_B_* in cpum.h).
 *
 * "host" is the default. It takes the host's vendor, signature and brand
 * string (cpum_host_x86.c reads them), so hm - which runs guest code on the
 * host's silicon - and rem show the guest the same CPU, and the hardware
 * itself can serve as the reference in differential tests. The named
 * profiles are fixed CPUs, the same on every host: a guest (or a test) that
 * must see one vendor's behaviour whatever the machine names one of them.
 * Under hm only a profile of the host's vendor can be honoured (the silicon
 * decides the behaviours); hwaccm refuses the others.
 *
 * The MXCSR_MASK of the named profiles is what those CPUs store: 0xffff on
 * Intel (DAZ and everything below it), 0x2ffff on AMD (plus MM, misaligned
 * SSE mode). The host profile keeps the host's mask where rem implements
 * every bit of it (the same two sets), else the Intel set.
 *
 * Optional features (CPUM_OPT_*): the named profiles have those their CPU
 * has; the host profile those the host has (cpum_host_x86.c).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "cpum_internal.h"

#define MXCSR_MASK_INTEL 0x0000ffffu
#define MXCSR_MASK_AMD   0x0002ffffu

static struct cpum_profile profiles[] = {
    {.name = "host", .description = "the host's vendor and model (filled in at first use)"},
    {
        .name = "intel-core",
        .description = "Intel Core i7-6700K (Skylake), family 6 model 94",
        .vendor = CPUM_VENDOR_INTEL,
        .signature = 0x000506e3u,
        .brand = "Intel(R) Core(TM) i7-6700K CPU @ 4.00GHz",
        .mxcsr_mask = MXCSR_MASK_INTEL,
        .behaviours = 0,
        .optional = CPUM_OPT_SMEP | CPUM_OPT_SMAP | CPUM_OPT_RDTSCP, /* UMIP, RDPID: Ice Lake on */
    },
    {
        .name = "amd-epyc",
        .description = "AMD EPYC 7702 (Zen 2), family 23 model 49",
        .vendor = CPUM_VENDOR_AMD,
        .signature = 0x00830f10u,
        .brand = "AMD EPYC 7702 64-Core Processor",
        .mxcsr_mask = MXCSR_MASK_AMD,
        .behaviours = CPUM_B_AMD | CPUM_B_MXCSR_MM,
        .optional = CPUM_OPT_ALL,
    },
};
#define NPROFILES (sizeof(profiles) / sizeof(profiles[0]))

static pthread_once_t host_once = PTHREAD_ONCE_INIT;

static void host_fill(void)
{
    struct cpum_profile *h = &profiles[0];
    struct cpum_host_cpu host;
    cpum_host_read(&host);
    h->vendor = host.vendor;
    h->signature = host.signature;
    memcpy(h->brand, host.brand, sizeof(h->brand));
    h->brand[sizeof(h->brand) - 1] = '\0';
    if (!h->brand[0])
        snprintf(h->brand, sizeof(h->brand), "Capsule Virtual CPU");
    h->behaviours = host.vendor == CPUM_VENDOR_AMD ? CPUM_B_AMD : 0;
    h->optional = host.optional;
    h->mxcsr_mask = MXCSR_MASK_INTEL;
    if (host.mxcsr_mask == MXCSR_MASK_AMD) {
        h->mxcsr_mask = MXCSR_MASK_AMD;
        h->behaviours |= CPUM_B_MXCSR_MM;
    }
    unsigned fam = (host.signature >> 8) & 0xf, model = (host.signature >> 4) & 0xf;
    if (fam == 0xf)
        fam += (host.signature >> 20) & 0xff;
    if (fam == 0x6 || fam == 0xf || fam > 0xf)
        model |= ((host.signature >> 16) & 0xf) << 4;
    snprintf(h->description, sizeof(h->description), "this host: %s family %u model %u",
             cpum_vendor_string(host.vendor), fam, model);
}

uint32_t cpum_optional_from_cpuid(uint32_t l7_ebx, uint32_t l7_ecx, uint32_t e1_edx)
{
    return ((l7_ebx >> 7) & 1 ? CPUM_OPT_SMEP : 0) | ((l7_ebx >> 20) & 1 ? CPUM_OPT_SMAP : 0) |
           ((l7_ecx >> 2) & 1 ? CPUM_OPT_UMIP : 0) | ((l7_ecx >> 22) & 1 ? CPUM_OPT_RDPID : 0) |
           ((e1_edx >> 27) & 1 ? CPUM_OPT_RDTSCP : 0);
}

unsigned cpum_profile_count(void)
{
    return NPROFILES;
}

const struct cpum_profile *cpum_profile_at(unsigned i)
{
    if (i >= NPROFILES)
        return NULL;
    if (i == 0)
        pthread_once(&host_once, host_fill);
    return &profiles[i];
}

const struct cpum_profile *cpum_profile_find(const char *name)
{
    if (!name || !*name)
        name = CPUM_PROFILE_DEFAULT;
    for (unsigned i = 0; i < NPROFILES; i++)
        if (strcmp(profiles[i].name, name) == 0)
            return cpum_profile_at(i);
    return NULL;
}

const char *cpum_profile_names(char *buf, size_t size)
{
    size_t n = 0;
    if (size)
        buf[0] = '\0';
    for (unsigned i = 0; i < NPROFILES && n < size; i++) {
        int w = snprintf(buf + n, size - n, "%s%s", i ? ", " : "", profiles[i].name);
        if (w < 0)
            break;
        n += (size_t)w;
    }
    return buf;
}

const char *cpum_vendor_string(enum cpum_vendor v)
{
    return v == CPUM_VENDOR_AMD ? "AuthenticAMD" : "GenuineIntel";
}

enum cpum_vendor cpum_host_vendor(void)
{
    return cpum_profile_at(0)->vendor;
}
