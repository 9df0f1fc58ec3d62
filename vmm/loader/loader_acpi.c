/*
 * vmm/loader/loader_acpi.c - the firmware tables a direct Linux boot gets,
 * since there is no firmware to provide them. vmm/platform builds them
 * (platform_tables.h: the machine they describe), the same files and
 * BIOS linker/loader script a BIOS gets through fw_cfg; here they are
 * placed at fixed addresses and the script is run over them, as the
 * firmware would run it:
 *
 *   [LOADER_ACPI_ADDR, +36)          "etc/acpi/rsdp"   (16-byte aligned)
 *   [LOADER_ACPI_ADDR + 64, ...)     "etc/acpi/tables" (64-byte aligned:
 *                                    the FACS comes first)
 *
 * all inside [LOADER_ACPI_ADDR, LOADER_ACPI_ADDR + LOADER_ACPI_SIZE), which
 * the e820 map the kernel gets marks ACPI (type 3); boot_params's
 * acpi_rsdp_addr points at the RSDP (boot protocol 2.14+), so the kernel
 * does not scan the BIOS area for it.
 *
 * SMBIOS: the entry point at LOADER_SMBIOS_ADDR (the kernel's DMI scan
 * looks for "_SM_" on 16-byte boundaries in 0xf0000-0xfffff), the
 * structure table 32 bytes after it, both in the BIOS area the e820 map
 * reserves. Type 0 names Capsule's loader as the BIOS. Pure code, like the
 * planners.
 */
#include <stdio.h>
#include <string.h>

#include "loader_internal.h"

#define TABLES_OFF       64u /* the tables file after the RSDP, 64-byte aligned */
#define SMBIOS_TABLE_OFF 32u

cap_result ldr_add_acpi(struct ldr_plan *plan, const struct ldr_inputs *in,
                        const struct ldr_mem *mem, struct ldr_err *err)
{
    uint64_t below = 0;
    for (unsigned i = 0; i < mem->n; i++) {
        const struct loader_mem_entry *e = &mem->e[i];
        if (e->type == LOADER_E820_RAM && e->addr < PLATFORM_4G && e->addr + e->size > below)
            below = e->addr + e->size;
    }
    struct platform_acpi_config cfg = {
        .cpus = in->cpus,
        .hpet = !in->no_hpet,
        .ram_below_4g = below,
    };
    struct platform_acpi acpi;
    cap_result rc = platform_acpi_build(&cfg, &acpi, err->msg, sizeof(err->msg));
    if (CAP_FAILED(rc))
        return rc;
    const struct platform_file *rsdp = &acpi.files[0], *tables = &acpi.files[1],
                               *script = &acpi.files[2];
    uint8_t *a = NULL;
    if (TABLES_OFF + tables->len > LOADER_ACPI_SIZE) {
        rc = ldr_fail(err, VMM_E_LOADER_NO_ROOM,
                      "the ACPI tables (%zu bytes) do not fit the %llu bytes at 0x%llx",
                      tables->len, (unsigned long long)LOADER_ACPI_SIZE - TABLES_OFF,
                      (unsigned long long)LOADER_ACPI_ADDR + TABLES_OFF);
        goto out;
    }
    if (!(a = ldr_plan_blob(plan, LOADER_ACPI_SIZE, err))) {
        rc = CAP_E_OUTOFMEMORY;
        goto out;
    }
    memcpy(a, rsdp->data, rsdp->len);
    memcpy(a + TABLES_OFF, tables->data, tables->len);
    struct platform_placed placed[2] = {
        {rsdp->name, LOADER_ACPI_ADDR, a, rsdp->len},
        {tables->name, LOADER_ACPI_ADDR + TABLES_OFF, a + TABLES_OFF, tables->len},
    };
    rc = platform_loader_run(script->data, script->len, placed, 2, err->msg, sizeof(err->msg));
    if (CAP_SUCCEEDED(rc)) {
        plan->info.acpi_rsdp = LOADER_ACPI_ADDR;
        rc = ldr_plan_add(plan, LOADER_ACPI_ADDR, a, LOADER_ACPI_SIZE, LOADER_ACPI_SIZE, 0,
                          "the ACPI tables", err);
    }
out:
    platform_acpi_free(&acpi);
    return rc;
}

cap_result ldr_add_smbios(struct ldr_plan *plan, const struct ldr_inputs *in,
                          const struct ldr_mem *mem, struct ldr_err *err)
{
    if (!mem->bios_area_ram)
        return CAP_OK;
    struct platform_smbios_config cfg = {
        .bios_vendor = "Capsule",
        .bios_version = "direct boot",
        .bios_date = "12/01/2026",
        .cpus = in->cpus,
    };
    if (in->uuid)
        memcpy(cfg.uuid, in->uuid, 16);
    for (unsigned i = 0; i < mem->n; i++) {
        const struct loader_mem_entry *e = &mem->e[i];
        if (e->type != LOADER_E820_RAM)
            continue;
        /* the legacy hole is RAM to the guest's memory arrays */
        uint64_t start = e->addr == PLATFORM_1M ? PLATFORM_EBDA_ADDR : e->addr;
        if (start < PLATFORM_4G)
            cfg.ram_below_4g += e->addr + e->size - start;
        else
            cfg.ram_above_4g += e->size;
    }
    struct platform_smbios smb;
    cap_result rc = platform_smbios_build(&cfg, &smb, err->msg, sizeof(err->msg));
    if (CAP_FAILED(rc))
        return rc;
    const struct platform_file *ep = &smb.files[0], *table = &smb.files[1];
    uint64_t size = SMBIOS_TABLE_OFF + table->len;
    uint8_t *a = NULL;
    if (size > LOADER_SMBIOS_SIZE) {
        rc = ldr_fail(err, VMM_E_LOADER_NO_ROOM, "the SMBIOS table (%zu bytes) does not fit",
                      table->len);
    } else if (!(a = ldr_plan_blob(plan, size, err))) {
        rc = CAP_E_OUTOFMEMORY;
    } else {
        memcpy(a, ep->data, ep->len);
        memcpy(a + SMBIOS_TABLE_OFF, table->data, table->len);
        platform_smbios_set_address(a, (uint32_t)(LOADER_SMBIOS_ADDR + SMBIOS_TABLE_OFF));
        rc = ldr_plan_add(plan, LOADER_SMBIOS_ADDR, a, size, size, LDR_CHUNK_BIOS,
                          "the SMBIOS tables", err);
    }
    platform_smbios_free(&smb);
    return rc;
}
