/*
 * vmm/platform/platform_internal.h - what the platform module's files share:
 * a growable byte buffer (the table files are built in one) and the DSDT
 * builder (platform_acpi_dsdt.c) the ACPI builder calls.
 */
#ifndef VMM_PLATFORM_INTERNAL_H
#define VMM_PLATFORM_INTERNAL_H

#include <stdarg.h>

#include "platform/platform_tables.h"

struct plat_buf {
    uint8_t *data;
    size_t len, cap;
    bool failed; /* out of memory: later appends are dropped */
};

/* Appends n zero bytes after padding to `align` (a power of two); returns
 * the offset of the first, or SIZE_MAX (and sets failed) without memory. */
size_t plat_buf_append(struct plat_buf *b, size_t n, size_t align);
void plat_buf_free(struct plat_buf *b);

static inline void plat_put(uint8_t *p, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint64_t plat_get(const uint8_t *p, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Formats into msg (when msglen) and returns rc. */
cap_result plat_fail(char *msg, size_t msglen, cap_result rc, const char *fmt, ...)
    CAP_PRINTF(4, 5);

/* The DSDT's AML body (after the 36-byte header): malloc'ed into *aml.
 * `pci_mem_start` is where the PCI memory window begins. */
bool plat_dsdt_aml(uint32_t pci_mem_start, uint8_t **aml, size_t *len);

/* The device table of a machine whose layout is computed (platform_devices.c). */
struct platform;
cap_result plat_devices(struct platform *p, char *msg, size_t msglen);

#endif /* VMM_PLATFORM_INTERNAL_H */
