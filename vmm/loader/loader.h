/*
 * vmm/loader/loader.h - the boot-image loaders: put a kernel (and initrd and
 * command line) into guest RAM and set the boot vCPU's entry state, the way
 * a boot loader or `qemu -kernel` would.
 *
 * Formats:
 *   LOADER_LINUX      x86 bzImage, boot protocol >= 2.06
 *                     (Documentation/arch/x86/boot.rst). The protected-mode
 *                     kernel goes to 0x100000; boot_params (the "zero page")
 *                     gets the image's setup header, type_of_loader 0xff,
 *                     CAN_USE_HEAP, the command line, an e820 map, the
 *                     initrd. Entry: 64-bit (default; needs XLF_KERNEL_64)
 *                     at load address + 0x200 in long mode with identity-
 *                     mapped page tables, RSI = boot_params; or the 32-bit
 *                     protocol at code32_start, ESI = boot_params, paging off.
 *   LOADER_MULTIBOOT  Multiboot v1: header in the first 8192 bytes; ELF32
 *                     PT_LOAD segments at p_paddr, or the a.out-kludge
 *                     address fields (flag bit 16). Multiboot info with
 *                     mem_lower/upper, memory map, command line ("KERNEL
 *                     CMDLINE" as GRUB and QEMU pass it: the kernel's path
 *                     - kernel_path, else kernel_name - is the first word),
 *                     boot loader name and the initrd as module 0 (its
 *                     string: the initrd's path). Entry: EAX 0x2BADB002,
 *                     EBX = info, 32-bit protected mode, paging off, IF off.
 *   LOADER_VMLINUX    an uncompressed x86-64 Linux kernel (ELF64 vmlinux, as
 *                     tools/guestkit extracts from a bzImage): PT_LOAD
 *                     segments at p_paddr (>= 1 MiB), entry = e_entry
 *                     (startup_64's physical address), the 64-bit boot
 *                     protocol as for a bzImage with a setup header of
 *                     protocol 2.15 built by the loader (cmdline_size
 *                     2047, initrd below 4 GiB or above, pref_address =
 *                     the lowest segment). Long mode only; no KASLR.
 *   LOADER_FLAT       a raw binary copied to flat_addr, entry = flat_addr,
 *                     in real mode (default address 0x7c00, CS:IP 0:7c00),
 *                     32-bit protected mode or long mode (default address
 *                     0x100000 for both).
 *
 * Guest RAM comes from the PGM map, which must hold its RAM ranges before
 * loader_load runs: RAM must start at guest-physical 0 (the loader uses low
 * memory for its tables). The e820 map / multiboot memory map lists each PGM
 * RAM range as usable (less the legacy hole 0x9fc00-0x100000: the EBDA,
 * the VGA window and the BIOS area are reported reserved, as vmm/platform's
 * direct-boot map has them), and every ROM and MMIO range mapped at that
 * moment as reserved - so map device MMIO first if the guest should see it
 * reserved. For a machine vmm/platform describes the result is
 * platform_init's e820 (check-loader compares them).
 *
 * Fixed low-memory layout used by the loaders (all below 640 KiB):
 *   0x00500  GDT: 0x10 = flat code (64-bit for long mode, else 32-bit),
 *            0x18 = flat data (Linux's __BOOT_CS / __BOOT_DS)
 *   0x07000  boot_params (Linux) or the multiboot info block (4 KiB,
 *            with its memory map, module list and name strings)
 *   0x20000  command line (and the multiboot module string), <= 64 KiB
 *   0x30000  page tables for long-mode entry: PML4, PDPT, then one PD per
 *            GiB identity-mapped with 2 MiB pages, covering
 *            max(4 GiB, top of RAM) up to all a guest can address
 *            (1 << PLATFORM_GUEST_PHYS_BITS: 64 GiB)
 *   0x9c000  ACPI tables (Linux only, unless no_acpi): vmm/platform's
 *            (platform_tables.h) - the RSDP, then the file of the other
 *            tables 64-byte aligned, linked by running the platform's BIOS
 *            linker/loader script at these addresses - up to the EBDA at
 *            0x9fc00; the e820 map marks [0x9c000, 0x9fc00) ACPI (type 3)
 *            and boot_params.acpi_rsdp_addr points at the RSDP
 *   0xf0000  SMBIOS (Linux only): the 2.1 entry point ("_SM_", where the
 *            kernel scans the BIOS area for it), the 2.8 structure table
 *            after it (loader_acpi.c); in the BIOS area the e820 map
 *            reserves anyway
 *
 * Entry state common to all: IF clear, IDTR limit 0 (a fault before the
 * kernel loads its IDT is a triple fault, reported by EM), RSP = 0x7000
 * (scratch stack below the boot info) except in real mode (SS:SP = CS:IP),
 * other GPRs 0 unless the protocol sets them.
 *
 * All validation happens before anything is written: a bad image (truncated,
 * wrong magic, checksum mismatch, protocol too old, unsupported flags,
 * overlapping segments, a segment outside RAM, larger than RAM), an initrd
 * that does not fit, a command line that is too long - each fails with a
 * result code and error info (component "vmm") whose message names the file
 * and the problem, and leaves guest RAM and the vCPU untouched.
 *
 * Threads: loader_load is for EM's setup, with no vCPU running. The loaders
 * keep no global state; any number of VMs may load concurrently.
 */
#ifndef VMM_LOADER_H
#define VMM_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include <capsule/types.h>

#include "cpum/cpum.h"
#include "pgm/pgm.h"
#include "platform/platform.h"
#include "platform/platform_tables.h"
#include "vmm_result.h"

enum loader_format {
    LOADER_UNKNOWN = 0, /* in params: probe the image */
    LOADER_LINUX,
    LOADER_MULTIBOOT,
    LOADER_FLAT,
    LOADER_VMLINUX,
    LOADER_FIRMWARE, /* only through loader_load_firmware: never probed */
};

enum loader_entry {
    LOADER_ENTRY_DEFAULT = 0, /* Linux: long; multiboot: protected; flat: protected */
    LOADER_ENTRY_REAL,        /* flat only */
    LOADER_ENTRY_PROTECTED,   /* 32-bit, flat segments, paging off */
    LOADER_ENTRY_LONG,        /* 64-bit, identity-mapped page tables (Linux, flat) */
};

/* Where the loader placed things; for logs and for fw_cfg. */
#define LOADER_GDT_ADDR       0x500ull
#define LOADER_BOOTINFO_ADDR  0x7000ull
#define LOADER_CMDLINE_ADDR   0x20000ull
#define LOADER_CMDLINE_MAX    0x10000ull /* bytes including the NUL */
#define LOADER_PGTABLE_ADDR   0x30000ull
#define LOADER_LINUX_LOAD     0x100000ull
#define LOADER_FLAT_REAL_ADDR 0x7c00ull
#define LOADER_FLAT_ADDR      0x100000ull
#define LOADER_ACPI_ADDR      PLATFORM_DIRECT_ACPI_ADDR
#define LOADER_ACPI_SIZE      PLATFORM_DIRECT_ACPI_SIZE /* up to the EBDA */
/* SMBIOS (Linux): the entry point where an OS scans for it, the table after */
#define LOADER_SMBIOS_ADDR PLATFORM_DIRECT_SMBIOS_ADDR
#define LOADER_SMBIOS_SIZE PLATFORM_DIRECT_SMBIOS_SIZE
/* Firmware images (loader_load_firmware). */
#define LOADER_FIRMWARE_MIN      PLATFORM_BIOS_GRANULE  /* and the size's granule: 64 KiB */
#define LOADER_FIRMWARE_MAX      PLATFORM_BIOS_MAX      /* 16 MiB below 4 GiB */
#define LOADER_FIRMWARE_LOW_SIZE PLATFORM_BIOS_LOW_SIZE /* the legacy copy: E and F segments */
#define LOADER_FIRMWARE_LOW_END  PLATFORM_1M

/*
 * What to load. The kernel and initrd each come from a file (path set) or a
 * caller buffer (path NULL, buf/len set; `name` is then used in messages,
 * "kernel"/"initrd" when NULL). Buffers are only read during the call.
 */
struct loader_params {
    const char *kernel_path;
    const void *kernel_buf;
    size_t kernel_len;
    const char *kernel_name;

    const char *initrd_path;  /* optional: no initrd when path and buf are NULL */
    const void *initrd_buf;
    size_t initrd_len;
    const char *initrd_name;

    const char *cmdline;      /* optional ("" when NULL) */

    enum loader_format format; /* LOADER_UNKNOWN: probe (see flat_fallback) */
    enum loader_entry entry;   /* LOADER_ENTRY_DEFAULT or what the format allows */
    cap_bool flat_fallback;    /* probing: an image with no Linux or multiboot
                                  signature loads as flat instead of failing */
    uint64_t flat_addr;        /* flat: load address (0: the default of the mode);
                                  real mode needs addr + size <= 1 MiB */
    unsigned cpus;             /* vCPUs the MADT lists (0: 1; <= PLATFORM_MAX_CPUS_ARCH) */
    cap_bool no_acpi;          /* Linux: no ACPI tables (the guest then has no
                                  ACPI power-off: see plugins/devices/acpipm) */
    cap_bool no_hpet;          /* Linux: no ACPI HPET table (the VM has no
                                  plugins/devices/hpet at PLATFORM_HPET_ADDR) */
    const uint8_t *uuid;       /* Linux: the SMBIOS system UUID (16 bytes,
                                  as printed); NULL: all zeros */
    cap_bool vga_text;         /* Linux: the machine has a VGA in 80x25 colour
                                  text mode (mode 3, what a BIOS leaves):
                                  boot_params.screen_info says so, as the
                                  bzImage's real-mode setup would, so vgacon
                                  draws on it; otherwise screen_info stays
                                  zero (no console display) */
};

/* One e820 / multiboot memory-map entry (type 1 usable, 2 reserved, 3 ACPI). */
struct loader_mem_entry {
    uint64_t addr, size;
    uint32_t type;
};
#define LOADER_E820_RAM        PLATFORM_E820_RAM
#define LOADER_E820_RESERVED   PLATFORM_E820_RESERVED
#define LOADER_E820_ACPI       PLATFORM_E820_ACPI
#define LOADER_MAX_MEM_ENTRIES 32

struct loader_info {
    enum loader_format format;
    enum loader_entry entry;
    uint64_t entry_point;          /* guest-physical RIP at entry (real mode: CS.base + IP) */
    uint64_t kernel_start, kernel_end; /* [start, end) the kernel occupies, incl. bss
                                          and (Linux) init_size */
    uint64_t initrd_start, initrd_size; /* 0, 0 when none */
    uint64_t cmdline_addr, cmdline_size; /* size includes the NUL; 0 when none */
    uint64_t bootinfo_addr;        /* boot_params / multiboot info; 0 for flat */
    uint64_t pgtable_addr, pgtable_size; /* long-mode page tables; 0 when none */
    uint16_t linux_version;        /* Linux boot protocol, e.g. 0x020f */
    uint64_t acpi_rsdp;            /* the RSDP's address; 0 when no ACPI tables */
    unsigned nmem;
    struct loader_mem_entry mem[LOADER_MAX_MEM_ENTRIES]; /* the map given to the guest */
    char description[160];         /* one line for logs: format, version, entry mode */
};

/*
 * Which format `buf` holds, from its signatures only: LOADER_LINUX (0xAA55
 * at 0x1fe and "HdrS" at 0x202), LOADER_MULTIBOOT (magic 0x1BADB002,
 * 4-aligned, in the first 8192 bytes - the checksum is checked by the load,
 * so a damaged header still reports a precise error), else LOADER_UNKNOWN.
 * LOADER_VMLINUX (a little-endian x86-64 ELF64 without a multiboot header).
 * An image that only claims a format is given to that format, whose load
 * then names what is wrong: "MZ" at 0 or a file cut short inside "HdrS"
 * (0xAA55 at 0x1fe) is LOADER_LINUX, any other ELF (wrong class, byte
 * order or machine) LOADER_VMLINUX.
 * Never LOADER_FLAT (a flat binary has no signature). Pure; any thread.
 */
VMM_API enum loader_format loader_probe(const void *buf, size_t len);

/* "linux", "multiboot", "flat", "unknown"; and "default", "real", ... */
VMM_API const char *loader_format_name(enum loader_format f);
VMM_API const char *loader_entry_name(enum loader_entry e);

/*
 * Loads the image described by `p` into `pgm`'s RAM and puts `cpu` (vCPU 0,
 * initialised with cpum_cpu_init) in the format's entry state: cpum_reset
 * (power-on) first, then segments, CRs, EFER, GPRs, RIP as the protocol
 * says; everything marked dirty. `out` (optional) receives what went where.
 *
 * Errors (error info set, nothing written to RAM, cpu untouched):
 *   CAP_E_INVALIDARG        bad params (no kernel, entry mode the format
 *                           does not allow, command line too long for the
 *                           kernel or the loader, initrd with a flat image)
 *   CAP_E_IO                a file cannot be read (errno in the message)
 *   VMM_E_LOADER_BAD_IMAGE  not a loadable image of the format: truncated,
 *                           wrong magic, checksum mismatch, protocol too old
 *                           (found version named), no 64-bit entry,
 *                           unsupported flags, overlapping segments
 *   VMM_E_LOADER_NO_ROOM    does not fit the guest's RAM: larger than RAM, a
 *                           segment outside RAM or over the loader's low
 *                           memory, initrd too big, no RAM at address 0
 *   CAP_E_OUTOFMEMORY
 */
VMM_API cap_result loader_load(struct pgm *pgm, struct cpum_cpu *cpu,
                               const struct loader_params *p, struct loader_info *out);

/*
 * Firmware boot: `p` names a PC BIOS image (kernel_path, or kernel_buf/len
 * with kernel_name for messages; the other fields are ignored). The image
 * becomes ROM "bios" at [4 GiB - size, 4 GiB) (kept as it is when a range
 * of that name and size is there already: the reset path) and its last
 * 128 KiB are copied into RAM at [0xe0000, 0x100000), the shadow of the
 * legacy BIOS area (loader_firmware.c says why RAM). Then `cpu` is put in
 * its power-on state: real mode, CS 0xf000 with base 0xffff0000, IP
 * 0xfff0. No tables, no e820: the firmware builds its own.
 *
 * Errors (error info names the file; nothing mapped or written):
 *   CAP_E_IO                cannot read the file
 *   VMM_E_LOADER_BAD_IMAGE  size not a multiple of 64 KiB in [64 KiB,
 *                           16 MiB], or no code at the reset vector
 *   VMM_E_LOADER_NO_ROOM    no RAM at [0xe0000, 0x100000)
 *   PGM's error             the top of 4 GiB is taken by another range
 * Threads: as loader_load.
 */
VMM_API cap_result loader_load_firmware(struct pgm *pgm, struct cpum_cpu *cpu,
                                        const struct loader_params *p, struct loader_info *out);

#endif /* VMM_LOADER_H */
