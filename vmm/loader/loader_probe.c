/*
 * vmm/loader/loader_probe.c - format detection and names. Pure (the fuzz
 * targets link it).
 */
#include <string.h>

#include "loader_internal.h"

enum loader_format ldr_probe_multiboot(const void *buf, size_t len);

enum loader_format loader_probe(const void *buf, size_t len)
{
    const uint8_t *b = buf;
    if (!b)
        return LOADER_UNKNOWN;
    if (len >= 0x206 && ldr_le16(b + 0x1fe) == 0xaa55 && memcmp(b + 0x202, "HdrS", 4) == 0)
        return LOADER_LINUX;
    enum loader_format f = ldr_probe_multiboot(buf, len);
    return f != LOADER_UNKNOWN ? f : ldr_probe_vmlinux(buf, len);
}

const char *loader_format_name(enum loader_format f)
{
    switch (f) {
    case LOADER_LINUX: return "linux";
    case LOADER_MULTIBOOT: return "multiboot";
    case LOADER_FLAT: return "flat";
    case LOADER_VMLINUX: return "vmlinux";
    default: return "unknown";
    }
}

const char *loader_entry_name(enum loader_entry e)
{
    switch (e) {
    case LOADER_ENTRY_DEFAULT: return "default";
    case LOADER_ENTRY_REAL: return "real";
    case LOADER_ENTRY_PROTECTED: return "protected";
    case LOADER_ENTRY_LONG: return "long";
    default: return "unknown";
    }
}
