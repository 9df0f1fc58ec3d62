/*
 * vmm/platform/platform.h - the PC Capsule emulates, described once: from a
 * machine's settings (RAM size, firmware, vCPUs, optional devices)
 * platform_init computes where everything is and what each device is told,
 * and every layer reads that instead of re-deriving it:
 *
 *   - RAM: from 0 up to PLATFORM_RAM_BELOW_4G_MAX (3.5 GiB), the rest from
 *     4 GiB (EM maps it so, vm.c);
 *   - the e820 map the guest gets: for a direct boot (firmware none) the
 *     loader's (vmm/loader: RAM around the EBDA and the legacy hole, the
 *     ACPI area at PLATFORM_DIRECT_ACPI_ADDR, the BIOS area where the
 *     SMBIOS tables lie, the fixed MMIO); for a BIOS, the RAM ranges as
 *     fw_cfg's "etc/e820" (QEMU's form: the firmware reserves its own areas)
 *     - both sorted, without overlaps;
 *   - the ROMs: a BIOS image ends at 4 GiB, its last 128 KiB also appear at
 *     [1 MiB - 128 KiB, 1 MiB) (vmm/loader's loader_load_firmware);
 *   - the fixed MMIO: I/O APIC, HPET, local APIC, and the PCI memory
 *     window the DSDT declares (from the top of RAM below 4 GiB, rounded up
 *     to 1 MiB, to the I/O APIC);
 *   - the chipset's device table, in construction order (the PIC first:
 *     devices raise IRQs from construct on), each row with its typed
 *     configuration (pdm.h's struct pdm_cfg_value): the RTC's CMOS memory
 *     sizes, fw_cfg's RAM size, CPU count and e820 file, the APICs' and
 *     HPET's addresses. Devices get the platform's facts this way, never by
 *     including this header. capsule-vm adds what only it knows (the serial
 *     backend, the boot files) with platform_device_set and hands the table
 *     to EM (platform_pdm_config).
 *
 * Pure code (no PGM, no files, no error info: a message goes into the
 * caller's buffer), no global state, any thread. The caller owns a struct
 * platform; do not copy one (fw_cfg's e820 value points into it), and the
 * strings and bytes set in its rows must outlive it.
 */
#ifndef VMM_PLATFORM_H
#define VMM_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <capsule/result.h>

#include "pdm/pdm.h"
#include "platform/platform_limits.h"

/* Exported from libcapsule-vmm.so (capsule-vm builds its machine here). */
#ifndef VMM_API
#define VMM_API __attribute__((visibility("default")))
#endif

/* ---- fixed addresses ----------------------------------------------------- */

#define PLATFORM_IOAPIC_ADDR 0xfec00000ull
#define PLATFORM_IOAPIC_SIZE 0x20ull
#define PLATFORM_HPET_ADDR   0xfed00000ull
#define PLATFORM_HPET_SIZE   0x400ull
#define PLATFORM_LAPIC_ADDR  0xfee00000ull
#define PLATFORM_LAPIC_SIZE  0x1000ull
/* The PCI memory window ends where the I/O APIC begins. */
#define PLATFORM_PCI_MEM_END PLATFORM_IOAPIC_ADDR

/* Below 1 MiB: conventional RAM up to the EBDA, the VGA window, the option
 * ROM area, the BIOS area (E and F segments). */
#define PLATFORM_EBDA_ADDR      0x9fc00ull
#define PLATFORM_VGA_ADDR       0xa0000ull
#define PLATFORM_VGA_END        0xc0000ull
#define PLATFORM_BIOS_AREA_ADDR 0xf0000ull
#define PLATFORM_1M             0x100000ull
/* A direct boot's firmware tables: ACPI up to the EBDA (e820 type 3), SMBIOS
 * in the BIOS area (reserved). */
#define PLATFORM_DIRECT_ACPI_ADDR   0x9c000ull
#define PLATFORM_DIRECT_ACPI_SIZE   (PLATFORM_EBDA_ADDR - PLATFORM_DIRECT_ACPI_ADDR)
#define PLATFORM_DIRECT_SMBIOS_ADDR PLATFORM_BIOS_AREA_ADDR
#define PLATFORM_DIRECT_SMBIOS_SIZE (PLATFORM_1M - PLATFORM_BIOS_AREA_ADDR)
/* A BIOS image: a multiple of 64 KiB, at most 16 MiB, ending at 4 GiB; its
 * last 128 KiB (all of it when smaller) also end at 1 MiB. */
#define PLATFORM_BIOS_GRANULE  0x10000ull
#define PLATFORM_BIOS_MAX      0x1000000ull
#define PLATFORM_BIOS_LOW_SIZE 0x20000ull

/* ---- e820 ------------------------------------------------------------------- */

#define PLATFORM_E820_RAM      1u
#define PLATFORM_E820_RESERVED 2u
#define PLATFORM_E820_ACPI     3u
#define PLATFORM_E820_MAX      16u
#define PLATFORM_E820_ENTRY    20u /* bytes per entry in "etc/e820" */

struct platform_e820 {
    uint64_t addr, size;
    uint32_t type;
};

/* ---- the machine ------------------------------------------------------------- */

enum platform_firmware { PLATFORM_FW_NONE = 0, PLATFORM_FW_BIOS = 1 };

/* Optional rows of the device table (platform_config.devices). */
#define PLATFORM_DEV_SERIAL    (1u << 0) /* COM1 */
#define PLATFORM_DEV_DEBUGEXIT (1u << 1) /* isa-debug-exit at 0xf4 */
#define PLATFORM_DEV_DEBUGCON  (1u << 2) /* the firmware's log at 0x402 */
/* The PCI VGA and the virtio tablet (a BIOS adds them; without one the VGA
 * starts in text mode 3) */
#define PLATFORM_DEV_VGA (1u << 3)
/* What a machine has unless told otherwise: debugcon with a BIOS. */
#define PLATFORM_DEV_DEFAULT 0u

struct platform_config {
    uint64_t ram_bytes;              /* > 0, a multiple of 4 KiB */
    enum platform_firmware firmware; /* none: a direct boot */
    unsigned cpus;                   /* 0 means 1 */
    unsigned devices;                /* PLATFORM_DEV_* to add */
};

struct platform_range {
    const char *name;
    uint64_t addr, size;
};

#define PLATFORM_MAX_DEVICES 32u
#define PLATFORM_MAX_VALUES  40u

/* One row of the device table: a device and its typed configuration. */
struct platform_device {
    const char *name;                                 /* devreg name */
    bool single;                                      /* one per machine */
    struct pdm_cfg_value values[PLATFORM_MAX_VALUES]; /* strings: not owned */
    unsigned n_values;
};

struct platform {
    struct platform_config cfg; /* cpus normalised to >= 1 */
    uint64_t ram_below_4g, ram_above_4g;
    struct platform_range ram[3]; /* what EM maps (platform_ram_ranges) */
    unsigned n_ram;
    /* The guest's memory map for this firmware (see the top), sorted */
    struct platform_e820 e820[PLATFORM_E820_MAX];
    unsigned n_e820;
    /* "etc/e820" for a BIOS (fw_cfg's e820 value; empty for a direct boot) */
    uint8_t fwcfg_e820[PLATFORM_E820_MAX * PLATFORM_E820_ENTRY];
    size_t fwcfg_e820_len;
    /* Fixed MMIO: the I/O APIC, HPET, local APIC, the PCI window */
    struct platform_range mmio[4];
    unsigned n_mmio;
    uint64_t pci_mem_start, pci_mem_end;
    /* The chipset's devices in construction order */
    struct platform_device devices[PLATFORM_MAX_DEVICES];
    unsigned n_devices;
};

/*
 * The RAM ranges of a machine with `ram_bytes` of RAM, as EM maps them:
 * [0, 640 KiB + 128 KiB) up to the legacy VGA window, from its end to the
 * top of RAM below 4 GiB, the rest from 4 GiB; empty ranges are left out.
 * The VGA window 0xa0000-0xbffff stays unmapped: a display device's MMIO,
 * or unassigned. Returns how many (at most 3) were written to out[].
 */
VMM_API unsigned platform_ram_ranges(uint64_t ram_bytes, struct platform_range out[3]);

/* Where the PCI memory window starts for `ram_below_4g` bytes of RAM below
 * 4 GiB: the top of that RAM rounded up to 1 MiB; 2 GiB when 0. */
static inline uint64_t platform_pci_mem_start(uint64_t ram_below_4g)
{
    uint64_t mem = (ram_below_4g + 0xfffff) & ~0xfffffull;
    return mem ? mem : 0x80000000ull;
}

/*
 * Computes the machine for `cfg` into `out` (every field). CAP_E_INVALIDARG
 * with `msg` saying why: RAM of 0, not a multiple of 4 KiB, or beyond
 * PLATFORM_MAX_RAM_MB; vCPUs beyond PLATFORM_MAX_CPUS_ARCH; an unknown
 * firmware.
 */
VMM_API cap_result platform_init(const struct platform_config *cfg, struct platform *out, char *msg,
                                 size_t msglen);

/* A BIOS image of `size` bytes: its ROM below 4 GiB (rom[0]) and the legacy
 * alias ending at 1 MiB (rom[1]). CAP_E_INVALIDARG (msg) for a size that is
 * not a multiple of 64 KiB in [64 KiB, 16 MiB]. */
VMM_API cap_result platform_bios_rom(uint64_t size, struct platform_range rom[2], char *msg,
                                     size_t msglen);

/* The row of device `name` (the first), or NULL. */
VMM_API struct platform_device *platform_device_find(struct platform *p, const char *name);
/* Appends a row for `name` (an instance more); NULL when the table is full. */
VMM_API struct platform_device *platform_device_add(struct platform *p, const char *name);
/* Drops every row of `name`; false if there was none. */
VMM_API bool platform_device_remove(struct platform *p, const char *name);
/* Sets `v` in row `d`, replacing a value with the same key; CAP_E_INVALIDARG
 * (msg) when the row is full. */
VMM_API cap_result platform_device_set(struct platform_device *d, struct pdm_cfg_value v, char *msg,
                                       size_t msglen);
/* The value `key` of row `d`, or NULL. */
VMM_API const struct pdm_cfg_value *platform_device_get(const struct platform_device *d,
                                                        const char *key);

/* The table as PDM takes it: out[0..p->n_devices) point into `p`. */
VMM_API void platform_pdm_config(const struct platform *p, struct pdm_dev_config *out);

/* Whether `name` is a row of the table (a default or optional device), and
 * "pic, pit, ..." (those names, for messages). */
VMM_API bool platform_device_known(const char *name);
VMM_API const char *platform_device_names(void);

#endif /* VMM_PLATFORM_H */
