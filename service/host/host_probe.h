/*
 * service/host/host_probe.h - reading the host's description from its OS.
 *
 * The IHost object (host.c) is OS-neutral; each host OS has one probe file
 * chosen by the build (host_probe_linux.c here, a Windows one later) that
 * fills a struct host_probe. Probing is cheap and is done per request, so
 * that changing values (available memory, time, whether /dev/kvm opens) are
 * current.
 */
#ifndef CAPSULE_HOST_PROBE_H
#define CAPSULE_HOST_PROBE_H

#include <capsule/capsule.h>

struct host_cpu {
    uint32_t count;        /* logical processors online */
    char description[128]; /* model string; "" if unknown */
    uint32_t mhz;          /* nominal speed; 0 if unknown */
    cap_bool hw_virt;      /* VT-x or AMD-V reported to the host OS */
};

struct host_driver {
    HostDriverKind kind;
    cap_bool available;
    char status[256]; /* one line for people */
};

/* Fills *cpu. Never fails: unknown values are left 0/"" as documented. */
void host_probe_cpu(struct host_cpu *cpu);

/* Physical and available memory in MB. CAP_E_HOST_ERROR with error info if
 * the OS does not say. */
cap_result host_probe_memory(uint32_t *total_mb, uint32_t *avail_mb);

/* OS name and version ("Linux", kernel release) into the buffers. */
cap_result host_probe_os(char *name, size_t name_len, char *version, size_t version_len);

/* Whether the host driver the hm engine uses can be opened now, and why not. */
void host_probe_driver(struct host_driver *drv);

/* Current UTC time in ms since the epoch, and the local offset in minutes. */
void host_probe_time(int64_t *utc_ms, int16_t *offset_min);

#endif /* CAPSULE_HOST_PROBE_H */
