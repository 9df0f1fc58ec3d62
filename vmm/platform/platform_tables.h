/*
 * vmm/platform/platform_tables.h - the firmware tables of the PC Capsule
 * emulates, built once and handed out two ways:
 *
 *  - to a BIOS (capsule-vm --firmware bios): as QEMU's fw_cfg files, which
 *    SeaBIOS reads - "etc/acpi/tables" (every ACPI table but the RSDP,
 *    pointers in it relative to the file's start), "etc/acpi/rsdp", and
 *    "etc/table-loader", the BIOS linker/loader script that tells the
 *    firmware where to allocate each file (ALLOCATE), which pointers to
 *    relocate (ADD_POINTER) and which checksums to fix (ADD_CHECKSUM);
 *    SMBIOS as "etc/smbios/smbios-tables" and "etc/smbios/smbios-anchor"
 *    (an SMBIOS 2.8 structure table and its 2.1-style 31-byte entry point,
 *    the form SeaBIOS takes: it allocates the table and sets the address);
 *  - to a direct kernel boot (vmm/loader): the same files placed at fixed
 *    guest-physical addresses by platform_loader_run, which executes the
 *    same loader script as the firmware would.
 *
 * The machine described (what the device plugins implement):
 *   FADT   plugins/devices/acpipm (PM1a event/control blocks and PM timer
 *          at PLATFORM_ACPI_PM_BASE, SCI on IRQ 9, fixed power button, no
 *          SMI_CMD: always in ACPI mode), the 8042 and 8259s, the reset
 *          register at I/O port 0xCF9 (value 6) of plugins/devices/pci
 *   FACS   64 bytes, no waking vector, no global lock
 *   DSDT   \_S5 (SLP_TYP 5), \_SB.PCI0 (PNP0A03: bus 0-255, I/O around
 *          0xCF8, the 32-bit memory window from the top of RAM below 4 GiB
 *          to the I/O APIC), its _PRT (every slot's INTA-INTD through the
 *          PIIX3's PIRQ links), \_SB.PCI0.ISA (the PIIX3 at 00:01.0, with
 *          its PIRQ route registers 0x60-0x63 as a PCI_Config region), the
 *          i8042 keyboard (PNP0303) below it, and \_SB.LNKA-LNKD (PNP0C0F)
 *          whose _STA/_PRS/_CRS/_SRS/_DIS read and write those registers
 *   MADT   one local APIC per vCPU, the I/O APIC at 0xfec00000 (GSI base
 *          0), ISA IRQ 0 -> GSI 2, the SCI level/high
 *   HPET   plugins/devices/hpet at PLATFORM_HPET_ADDR (optional)
 *   RSDT and XSDT list FADT, MADT (and HPET); the RSDP (revision 2) both.
 *
 * Pure code (no PGM, no files, no error info: a message goes into the
 * caller's buffer), no global state, any thread.
 *
 * Also here: platform_uuid_derive, the machine UUID when nothing names one.
 */
#ifndef VMM_PLATFORM_TABLES_H
#define VMM_PLATFORM_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <capsule/result.h>
#include <capsule/types.h>

#include "platform/platform.h"

/* What the tables describe: plugins/devices/acpipm's and hpet's
 * configuration in the device table (platform.h); the addresses are there. */
#define PLATFORM_ACPI_PM_BASE 0x600u /* PM1a_EVT +0, PM1a_CNT +4, PM_TMR +8 */
#define PLATFORM_ACPI_SCI_IRQ 9u
#define PLATFORM_ACPI_S5_TYPE 5u          /* \_S5's SLP_TYP */
#define PLATFORM_HPET_ID      0x8086a201u /* its capabilities register, low half */
/* The PIIX3 (plugins/devices/pci): PCI device 1 function 0, PIRQA-D route
 * registers at configuration offsets 0x60-0x63 (bit 7: disabled, bits 3:0:
 * the ISA IRQ); INTx of slot s pin p (A=0) goes to PIRQ[(s + p) & 3]. */
#define PLATFORM_PIIX3_DEVFN 0x08u
#define PLATFORM_PIRQ_REG    0x60u
/* The virtio-input tablet (plugins/devices/virtio): 00:0e.0, a slot of its
 * own, so that it never moves the functions that take the first free slot
 * (vga at 00:02.0, virtio-blk's drives after it) and stays clear of the
 * AHCI's 00:0d.0. */
#define PLATFORM_TABLET_DEVFN 0x70u

/* ---- fw_cfg files and the BIOS linker/loader ------------------------------ */

#define PLATFORM_FILE_NAME_MAX 56 /* fw_cfg's name field, NUL included */
#define PLATFORM_LOADER_ENTRY  128
/* Commands and allocation zones of the loader script (SeaBIOS's
 * romfile_loader.h, QEMU's hw/acpi/bios-linker-loader.c) */
#define PLATFORM_LOADER_ALLOCATE     1u
#define PLATFORM_LOADER_ADD_POINTER  2u
#define PLATFORM_LOADER_ADD_CHECKSUM 3u
#define PLATFORM_ZONE_HIGH           1u
#define PLATFORM_ZONE_FSEG           2u

#define PLATFORM_ACPI_TABLES_FILE "etc/acpi/tables"
#define PLATFORM_ACPI_RSDP_FILE   "etc/acpi/rsdp"
#define PLATFORM_TABLE_LOADER     "etc/table-loader"
#define PLATFORM_SMBIOS_TABLES    "etc/smbios/smbios-tables"
#define PLATFORM_SMBIOS_ANCHOR    "etc/smbios/smbios-anchor"

struct platform_file {
    char name[PLATFORM_FILE_NAME_MAX];
    uint8_t *data; /* malloc'ed, owned by the struct holding this */
    size_t len;
};

struct platform_acpi_config {
    unsigned cpus;         /* local APICs in the MADT: 0 means 1; at most
                              PLATFORM_MAX_CPUS_ARCH */
    bool hpet;             /* an HPET table for plugins/devices/hpet */
    uint64_t ram_below_4g; /* the PCI memory window starts here (rounded up
                              to 1 MiB; 0: at 2 GiB) */
};

/* The ACPI tables as fw_cfg files: files[0] "etc/acpi/rsdp",
 * files[1] "etc/acpi/tables", files[2] "etc/table-loader". */
#define PLATFORM_ACPI_FILES 3
struct platform_acpi {
    struct platform_file files[PLATFORM_ACPI_FILES];
};

/*
 * Builds the tables and the loader script. On failure (CAP_E_INVALIDARG:
 * too many CPUs; CAP_E_OUTOFMEMORY) `msg` (msglen bytes) says why and
 * `out` holds nothing to free. Free with platform_acpi_free (a zeroed or
 * failed struct is fine).
 */
VMM_API cap_result platform_acpi_build(const struct platform_acpi_config *cfg,
                                       struct platform_acpi *out, char *msg, size_t msglen);
VMM_API void platform_acpi_free(struct platform_acpi *acpi);

/* A file of the loader script placed at a guest-physical address by a
 * caller that is not a firmware (direct boot). `data` is patched in place. */
struct platform_placed {
    const char *name;
    uint64_t gpa;
    uint8_t *data;
    size_t len;
};

/*
 * Executes the loader script `script` (len bytes, a multiple of
 * PLATFORM_LOADER_ENTRY) over `files`, as a firmware would after copying
 * them to memory: ALLOCATE checks the file is there and its address
 * aligned, ADD_POINTER adds the source file's address to the
 * little-endian 1/2/4/8-byte field (failing when the sum does not fit),
 * ADD_CHECKSUM subtracts the 8-bit sum of a range from a byte. Every
 * reference is bounds-checked: a bad script (unknown command, unknown or
 * unallocated file, a field or range outside its file, a name without a
 * NUL) returns CAP_E_INVALIDARG with `msg` naming the entry; the files may
 * then be partly patched.
 */
VMM_API cap_result platform_loader_run(const uint8_t *script, size_t len,
                                       struct platform_placed *files, unsigned nfiles, char *msg,
                                       size_t msglen);

/* The byte that makes p[0..len) sum to 0 (mod 256) when p holds 0 in its place. */
VMM_API uint8_t platform_checksum(const uint8_t *p, size_t len);

/* ---- SMBIOS --------------------------------------------------------------- */

struct platform_smbios_config {
    /* Type 0 (BIOS): NULL bios_vendor leaves type 0 out, for a firmware
     * that adds its own (SeaBIOS does, with its name and version). */
    const char *bios_vendor, *bios_version, *bios_date; /* date "MM/DD/YYYY" */
    /* Type 1 (system) */
    const char *manufacturer; /* NULL: "Capsule" */
    const char *product;      /* NULL: "Capsule Virtual Machine" */
    const char *version;      /* may be NULL */
    const char *serial;       /* may be NULL */
    uint8_t uuid[16];         /* RFC 4122 byte order (as printed); SMBIOS
                                 stores the first three fields little-endian */
    /* Type 4 (processor) */
    const char *cpu_manufacturer; /* may be NULL */
    const char *cpu_version;      /* the brand string; may be NULL */
    uint32_t cpuid_signature;     /* CPUID 1 EAX */
    uint32_t cpuid_features;      /* CPUID 1 EDX */
    unsigned cpus;                /* 0 means 1 */
    /* Types 16, 17, 19: the RAM below 4 GiB from 0, the rest from 4 GiB */
    uint64_t ram_below_4g, ram_above_4g;
};

/* files[0] "etc/smbios/smbios-anchor" (the entry point with a structure
 * table address of 0), files[1] "etc/smbios/smbios-tables". */
#define PLATFORM_SMBIOS_FILES  2
#define PLATFORM_SMBIOS_EP_LEN 31
struct platform_smbios {
    struct platform_file files[PLATFORM_SMBIOS_FILES];
};

/* Builds the structures (types 0, 1, 3, 4, 16, 17, 19, 32, 127). Errors as
 * platform_acpi_build (a string longer than 64 bytes or not printable
 * ASCII is CAP_E_INVALIDARG). */
VMM_API cap_result platform_smbios_build(const struct platform_smbios_config *cfg,
                                         struct platform_smbios *out, char *msg, size_t msglen);
VMM_API void platform_smbios_free(struct platform_smbios *smbios);
/* Sets the entry point's table address and fixes both its checksums (what
 * the firmware does; direct boot calls it with where it put the table). */
VMM_API void platform_smbios_set_address(uint8_t *anchor, uint32_t table_gpa);

/* A stable UUID derived from `seed` (a configuration's description), for a
 * machine that has none of its own: RFC 9562 version 8 (vendor-specific),
 * variant 10, the rest from a 128-bit FNV-1a hash of the bytes. */
VMM_API void platform_uuid_derive(const void *seed, size_t len, uint8_t uuid[16]);

#endif /* VMM_PLATFORM_TABLES_H */
