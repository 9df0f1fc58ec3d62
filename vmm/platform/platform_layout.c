/*
 * vmm/platform/platform_layout.c - the PC's layout from a machine's
 * settings (platform.h): RAM around the 4 GiB hole, the e820 map of each
 * firmware, the fixed MMIO and the PCI window, the BIOS ROM ranges.
 */
#include <stdio.h>
#include <string.h>

#include "platform/platform.h"
#include "platform_internal.h"

static void push(struct platform *p, uint64_t start, uint64_t end, uint32_t type)
{
    if (end > start && p->n_e820 < PLATFORM_E820_MAX)
        p->e820[p->n_e820++] = (struct platform_e820){start, end - start, type};
}

/* A direct boot: what vmm/loader tells the kernel (sorted by construction). */
static void direct_e820(struct platform *p)
{
    uint64_t below = p->ram_below_4g;
    uint64_t acpi = PLATFORM_DIRECT_ACPI_ADDR, ebda = PLATFORM_EBDA_ADDR;
    push(p, 0, below < acpi ? below : acpi, PLATFORM_E820_RAM);
    push(p, acpi, ebda, PLATFORM_E820_ACPI);
    push(p, ebda, PLATFORM_VGA_ADDR, PLATFORM_E820_RESERVED);
    push(p, PLATFORM_VGA_ADDR, PLATFORM_VGA_END, PLATFORM_E820_RESERVED);
    push(p, PLATFORM_BIOS_AREA_ADDR, PLATFORM_1M, PLATFORM_E820_RESERVED);
    push(p, PLATFORM_1M, below, PLATFORM_E820_RAM);
    for (unsigned i = 0; i < p->n_mmio; i++)
        if (strcmp(p->mmio[i].name, "pci"))
            push(p, p->mmio[i].addr, p->mmio[i].addr + p->mmio[i].size, PLATFORM_E820_RESERVED);
    push(p, PLATFORM_4G, PLATFORM_4G + p->ram_above_4g, PLATFORM_E820_RAM);
}

/* A BIOS: the RAM as QEMU gives it to SeaBIOS ("etc/e820"), which reserves
 * the EBDA, its own area and the ROM itself. */
static void bios_e820(struct platform *p)
{
    push(p, 0, p->ram_below_4g, PLATFORM_E820_RAM);
    push(p, PLATFORM_4G, PLATFORM_4G + p->ram_above_4g, PLATFORM_E820_RAM);
    for (unsigned i = 0; i < p->n_e820; i++) {
        uint8_t *e = p->fwcfg_e820 + i * PLATFORM_E820_ENTRY;
        plat_put(e, p->e820[i].addr, 8);
        plat_put(e + 8, p->e820[i].size, 8);
        plat_put(e + 16, p->e820[i].type, 4);
    }
    p->fwcfg_e820_len = p->n_e820 * PLATFORM_E820_ENTRY;
}

unsigned platform_ram_ranges(uint64_t ram_bytes, struct platform_range out[3])
{
    uint64_t below = platform_ram_below_4g(ram_bytes);
    unsigned n = 0;
    if (below > PLATFORM_VGA_END) {
        out[n++] = (struct platform_range){"ram", 0, PLATFORM_VGA_ADDR};
        out[n++] = (struct platform_range){"ram-bios", PLATFORM_VGA_END, below - PLATFORM_VGA_END};
    } else if (below) {
        out[n++] = (struct platform_range){"ram", 0, below};
    }
    if (ram_bytes > below)
        out[n++] = (struct platform_range){"ram-high", PLATFORM_4G, ram_bytes - below};
    return n;
}

cap_result platform_init(const struct platform_config *cfg, struct platform *out, char *msg,
                         size_t msglen)
{
    memset(out, 0, sizeof(*out));
    out->cfg = *cfg;
    if (!out->cfg.cpus)
        out->cfg.cpus = 1;
    uint64_t ram = cfg->ram_bytes;
    if (!ram || ram & 0xfff)
        return plat_fail(msg, msglen, CAP_E_INVALIDARG,
                         "RAM size %llu is not a positive multiple of 4 KiB",
                         (unsigned long long)ram);
    if (ram > ((uint64_t)PLATFORM_MAX_RAM_MB << 20)) /* EM's words (vm_create) */
        return plat_fail(msg, msglen, CAP_E_INVALIDARG,
                         "guest RAM of %llu MiB is more than the %u MiB a guest can address "
                         "here (%u-bit physical addresses, less the MMIO hole below 4 GiB)",
                         (unsigned long long)(ram >> 20), PLATFORM_MAX_RAM_MB,
                         PLATFORM_GUEST_PHYS_BITS);
    if (out->cfg.cpus > PLATFORM_MAX_CPUS_ARCH)
        return plat_fail(msg, msglen, CAP_E_INVALIDARG, "%u vCPUs: a PC has at most %u",
                         out->cfg.cpus, PLATFORM_MAX_CPUS_ARCH);
    if (cfg->firmware != PLATFORM_FW_NONE && cfg->firmware != PLATFORM_FW_BIOS)
        return plat_fail(msg, msglen, CAP_E_INVALIDARG, "unknown firmware %d", (int)cfg->firmware);
    out->ram_below_4g = platform_ram_below_4g(ram);
    out->ram_above_4g = ram - out->ram_below_4g;
    out->n_ram = platform_ram_ranges(ram, out->ram);
    out->pci_mem_start = platform_pci_mem_start(out->ram_below_4g);
    out->pci_mem_end = PLATFORM_PCI_MEM_END;
    const struct platform_range mmio[] = {
        {"pci", out->pci_mem_start, out->pci_mem_end - out->pci_mem_start},
        {"ioapic", PLATFORM_IOAPIC_ADDR, PLATFORM_IOAPIC_SIZE},
        {"hpet", PLATFORM_HPET_ADDR, PLATFORM_HPET_SIZE},
        {"apic", PLATFORM_LAPIC_ADDR, PLATFORM_LAPIC_SIZE},
    };
    memcpy(out->mmio, mmio, sizeof(mmio));
    out->n_mmio = 4;
    if (cfg->firmware == PLATFORM_FW_BIOS)
        bios_e820(out);
    else
        direct_e820(out);
    return plat_devices(out, msg, msglen);
}

cap_result platform_bios_rom(uint64_t size, struct platform_range rom[2], char *msg, size_t msglen)
{
    if (size < PLATFORM_BIOS_GRANULE || size > PLATFORM_BIOS_MAX || size % PLATFORM_BIOS_GRANULE)
        return plat_fail(msg, msglen, CAP_E_INVALIDARG,
                         "%llu bytes: a BIOS image is a multiple of 64 KiB of at most %u MiB",
                         (unsigned long long)size, (unsigned)(PLATFORM_BIOS_MAX >> 20));
    uint64_t low = size < PLATFORM_BIOS_LOW_SIZE ? size : PLATFORM_BIOS_LOW_SIZE;
    rom[0] = (struct platform_range){"bios", PLATFORM_4G - size, size};
    rom[1] = (struct platform_range){"bios-legacy", PLATFORM_1M - low, low};
    return CAP_OK;
}
