/*
 * vmm/loader/loader_flat.c - a flat binary: the file's bytes at one address,
 * entered at that address. Real mode (default 0x7c00, like a boot sector;
 * CS:IP 0:addr below 64 KiB, else (addr >> 4):(addr & 0xf); SS:SP just below
 * the image), 32-bit protected mode (default 0x100000; the loader's GDT) or
 * long mode (default 0x100000; the GDT and identity-mapped page tables).
 */
#include <stdio.h>
#include <string.h>

#include "loader_internal.h"

cap_result ldr_flat_plan(const uint8_t *img, size_t len, const struct ldr_inputs *in,
                         const struct ldr_mem *mem, struct ldr_plan *plan, struct ldr_err *err)
{
    cap_result rc;
    enum loader_entry mode = in->entry == LOADER_ENTRY_DEFAULT ? LOADER_ENTRY_PROTECTED : in->entry;
    uint64_t addr = in->flat_addr;

    if (!len)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE, "flat binary is empty");
    if (in->initrd_len)
        return ldr_fail(err, CAP_E_INVALIDARG, "a flat binary takes no initrd");
    if (in->cmdline[0])
        return ldr_fail(err, CAP_E_INVALIDARG,
                        "a flat binary takes no command line (got '%.200s'; a machine "
                        "created with a Linux OS type has one: modifyvm --cmdline \"\" "
                        "clears it)", in->cmdline);
    if (!addr)
        addr = mode == LOADER_ENTRY_REAL ? LOADER_FLAT_REAL_ADDR : LOADER_FLAT_ADDR;
    if (len > ldr_mem_total(mem))
        return ldr_fail(err, VMM_E_LOADER_NO_ROOM,
                        "flat binary is %zu bytes, larger than guest RAM (%llu bytes)", len,
                        (unsigned long long)ldr_mem_total(mem));
    if (mode == LOADER_ENTRY_REAL && addr + len > 0x100000)
        return ldr_fail(err, CAP_E_INVALIDARG,
                        "a real-mode flat binary must lie below 1 MiB (0x%llx + %zu bytes)",
                        (unsigned long long)addr, len);
    if (mode == LOADER_ENTRY_PROTECTED && addr + len > (1ull << 32))
        return ldr_fail(err, CAP_E_INVALIDARG,
                        "a protected-mode flat binary must lie below 4 GiB (0x%llx + %zu bytes)",
                        (unsigned long long)addr, len);
    if ((rc = ldr_plan_add(plan, addr, img, len, len, LDR_CHUNK_IMAGE, "the flat binary", err)))
        return rc;
    if (mode != LOADER_ENTRY_REAL && (rc = ldr_add_gdt(plan, mode == LOADER_ENTRY_LONG, err)))
        return rc;
    if (mode == LOADER_ENTRY_LONG) {
        if (addr + len > ldr_pagetables_cover(mem))
            return ldr_fail(err, CAP_E_INVALIDARG,
                            "a long-mode flat binary must lie in the identity-mapped first "
                            "0x%llx bytes", (unsigned long long)ldr_pagetables_cover(mem));
        if ((rc = ldr_add_pagetables(plan, mem, err)))
            return rc;
    }

    plan->entry.mode = mode;
    if (mode == LOADER_ENTRY_REAL) {
        plan->entry.cs_sel = addr <= 0xffff ? 0 : (uint16_t)(addr >> 4);
        plan->entry.rip = addr - ((uint64_t)plan->entry.cs_sel << 4);
        plan->entry.rsp = plan->entry.rip; /* SS = CS */
    } else {
        plan->entry.rip = addr;
        plan->entry.rsp = LOADER_BOOTINFO_ADDR;
    }
    struct loader_info *info = &plan->info;
    info->format = LOADER_FLAT;
    info->entry = mode;
    info->entry_point = addr;
    info->kernel_start = addr;
    info->kernel_end = addr + len;
    snprintf(info->description, sizeof(info->description),
             "flat binary, %zu bytes at 0x%llx, %s-mode entry", len, (unsigned long long)addr,
             loader_entry_name(mode));
    return CAP_OK;
}
