/*
 * vmm/platform/platform_limits.h - the limits of the machine this build
 * runs, defined once for every layer (DESIGN.md's platform module; the PC's
 * whole layout - e820, ROMs, the device table - is platform.h).
 *
 * Who reads it:
 *  - the VMM: EM's vm_create refuses a configuration beyond these limits,
 *    EM's engine choice asks platform_engine_missing(), CPUM reports the
 *    guest-physical address width in CPUID, the loader sizes its page tables
 *    and ACPI MADT from it, capsule-vm's --memory/--cpus ranges come from it;
 *  - the service (the one VMM header besides cpum/cpum_profile.h it
 *    includes, tools/layering.py): ISystemProperties publishes the limits,
 *    IMachine's setters enforce them with the reason, the settings reader
 *    keeps loading older files that hold more (a machine stays accessible;
 *    powering it up refuses what this build cannot run);
 *  - the CLI and other clients only through ISystemProperties at run time.
 *
 * Header-only, no dependencies: constants and pure inline functions, so the
 * service includes it without linking the VMM.
 *
 * Two kinds of limit: what the architecture the guest sees allows (a file
 * may hold it, a later build may run it) and what this build runs. The
 * setters and ISystemProperties use the second.
 */
#ifndef CAPSULE_PLATFORM_LIMITS_H
#define CAPSULE_PLATFORM_LIMITS_H

#include <stddef.h>

/* ---- guest RAM ---------------------------------------------------------- */

/* The guest's physical address width (CPUID 0x80000008 EAX[7:0], MAXPHYADDR):
 * every guest RAM byte must lie below 1 << this. */
#define PLATFORM_GUEST_PHYS_BITS 36u
/* RAM is laid out as a PC's: from guest-physical 0 up to this, the rest from
 * 4 GiB, leaving the 32-bit MMIO hole free (PCI, IOAPIC at 0xfec00000, local
 * APIC at 0xfee00000). */
#define PLATFORM_RAM_BELOW_4G_MAX 0xe0000000ull
#define PLATFORM_4G               (1ull << 32)

/* Guest RAM in MB. The maximum is what fits below the address width with
 * the hole taken out: 64 GiB - 4 GiB + 3.5 GiB = 65024 MB. */
#define PLATFORM_MIN_RAM_MB 1u
#define PLATFORM_MAX_RAM_MB                                                                        \
    ((unsigned)((((1ull << PLATFORM_GUEST_PHYS_BITS) - PLATFORM_4G + PLATFORM_RAM_BELOW_4G_MAX) >> \
                 20)))

/* The RAM below 4 GiB of a machine with `ram_bytes` of RAM (the rest is
 * from 4 GiB): EM maps it so, the e820 map, CMOS and fw_cfg say so
 * (platform.h). */
static inline unsigned long long platform_ram_below_4g(unsigned long long ram_bytes)
{
    return ram_bytes < PLATFORM_RAM_BELOW_4G_MAX ? ram_bytes : PLATFORM_RAM_BELOW_4G_MAX;
}

/* ---- virtual CPUs ------------------------------------------------------- */

/* The architectural limit: xAPIC IDs are 8 bits and 0xff is the broadcast
 * ID, so the MADT describes at most 255 processors. */
#define PLATFORM_MAX_CPUS_ARCH 255u
/* What this build runs: one vCPU per machine until SMP. */
#define PLATFORM_MIN_CPUS 1u
#define PLATFORM_MAX_CPUS 1u
#define PLATFORM_CPUS_WHY "this build runs 1 vCPU per machine until SMP"

/* ---- execution engines -------------------------------------------------- */

/* Numbered as em.h's enum vm_engine and the IDL's ExecutionEngine (each
 * side checks this with a static assertion). */
#define PLATFORM_ENGINE_AUTO  0u
#define PLATFORM_ENGINE_HM    1u
#define PLATFORM_ENGINE_REM   2u
#define PLATFORM_ENGINE_RAW   3u
#define PLATFORM_ENGINE_COUNT 4u

/*
 * Whether this build has `engine`: NULL if it does, else the reason it does
 * not (one sentence, no capital, no period), which the service's setter and
 * EM's power-up both put in their messages. A value out of range is not an
 * engine at all: the caller reports it as unknown.
 */
static inline const char *platform_engine_missing(unsigned engine)
{
    switch (engine) {
    case PLATFORM_ENGINE_RAW:
#ifdef __linux__
        return NULL; /* raw ring 3 over KVM; the VM's start probes the host (raw.h) */
#else
        return "raw mode needs Linux KVM for now";
#endif
    default:
        return NULL;
    }
}

#endif /* CAPSULE_PLATFORM_LIMITS_H */
