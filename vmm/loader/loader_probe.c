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
    if (f != LOADER_UNKNOWN)
        return f;
    if (ldr_probe_vmlinux(buf, len) != LOADER_UNKNOWN)
        return LOADER_VMLINUX;
    /* What only claims to be a kernel goes to that kernel's parser, which
     * names the field that is wrong; guessing "flat" would run garbage. A
     * bzImage starts with "MZ" (the EFI stub's PE header) or is cut short
     * inside its "HdrS" at 0x202 (boot flag 0xAA55 at 0x1fe; a 512-byte
     * boot sector stays flat); an ELF of the wrong class, byte order or machine is still an
     * ELF. */
    if (len >= 2 && b[0] == 'M' && b[1] == 'Z')
        return LOADER_LINUX;
    if (len > 0x202 && len < 0x206 && ldr_le16(b + 0x1fe) == 0xaa55 &&
        memcmp(b + 0x202, "HdrS", len - 0x202) == 0)
        return LOADER_LINUX;
    if (len >= 4 && memcmp(b, "\x7f" "ELF", 4) == 0)
        return LOADER_VMLINUX;
    return LOADER_UNKNOWN;
}

const char *loader_format_name(enum loader_format f)
{
    switch (f) {
    case LOADER_LINUX: return "linux";
    case LOADER_MULTIBOOT: return "multiboot";
    case LOADER_FLAT: return "flat";
    case LOADER_VMLINUX: return "vmlinux";
    case LOADER_FIRMWARE:
        return "firmware";
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
