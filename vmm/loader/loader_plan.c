/*
 * vmm/loader/loader_plan.c - the plan every loader builds before touching
 * the guest: the memory description (which is also the e820 / multiboot
 * map the guest gets), chunks with their checks (inside RAM, no overlap),
 * and the pieces several formats share (GDT, long-mode page tables).
 *
 * Pure code: no PGM, no files, no error info, so the fuzz targets link it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader_internal.h"

#define LEGACY_HOLE_START PLATFORM_EBDA_ADDR
#define LEGACY_HOLE_END   PLATFORM_1M

cap_result ldr_fail(struct ldr_err *err, cap_result rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- memory description -------------------------------------------- */

static cap_result mem_push(struct ldr_mem *mem, uint64_t start, uint64_t end, uint32_t type,
                           struct ldr_err *err)
{
    if (end <= start)
        return CAP_OK;
    if (mem->n == LOADER_MAX_MEM_ENTRIES)
        return ldr_fail(err, CAP_E_INVALIDARG, "guest memory map has more than %u entries",
                        LOADER_MAX_MEM_ENTRIES);
    mem->e[mem->n++] = (struct loader_mem_entry){ start, end - start, type };
    return CAP_OK;
}

static int cmp_pair(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0];
}

static int cmp_entry(const void *a, const void *b)
{
    const struct loader_mem_entry *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

cap_result ldr_mem_build(struct ldr_mem *mem, const uint64_t (*ram)[2], unsigned nram,
                         const uint64_t (*rsv)[2], unsigned nrsv, struct ldr_err *err)
{
    uint64_t merged[LOADER_MAX_MEM_ENTRIES][2];
    unsigned nm = 0;
    cap_result rc;

    memset(mem, 0, sizeof(*mem));
    if (nram > LOADER_MAX_MEM_ENTRIES)
        return ldr_fail(err, CAP_E_INVALIDARG, "too many RAM ranges (%u)", nram);
    uint64_t sorted[LOADER_MAX_MEM_ENTRIES][2];
    memcpy(sorted, ram, nram * sizeof(sorted[0]));
    qsort(sorted, nram, sizeof(sorted[0]), cmp_pair);
    for (unsigned i = 0; i < nram; i++) {
        if (sorted[i][1] <= sorted[i][0])
            continue;
        if (nm && sorted[i][0] <= merged[nm - 1][1]) {
            if (sorted[i][1] > merged[nm - 1][1])
                merged[nm - 1][1] = sorted[i][1];
        } else {
            merged[nm][0] = sorted[i][0];
            merged[nm][1] = sorted[i][1];
            nm++;
        }
    }
    if (!nm || merged[0][0] != 0 || merged[0][1] < LEGACY_HOLE_START)
        return ldr_fail(err, VMM_E_LOADER_NO_ROOM,
                        "guest RAM must start at address 0 and cover the first 639 KiB");
    for (unsigned i = 0; i < nm; i++) {
        uint64_t s = merged[i][0], e = merged[i][1];
        /* RAM around the legacy hole: below 0x9fc00 and from 1 MiB up. */
        if (s < LEGACY_HOLE_START && (rc = mem_push(mem, s, e < LEGACY_HOLE_START ? e : LEGACY_HOLE_START,
                                                    LOADER_E820_RAM, err)))
            return rc;
        if (e > LEGACY_HOLE_END &&
            (rc = mem_push(mem, s > LEGACY_HOLE_END ? s : LEGACY_HOLE_END, e, LOADER_E820_RAM, err)))
            return rc;
    }
    /* RAM under the BIOS area, also when the VGA window splits low RAM */
    for (unsigned i = 0; i < nm; i++)
        if (merged[i][0] <= PLATFORM_BIOS_AREA_ADDR && merged[i][1] >= LEGACY_HOLE_END)
            mem->bios_area_ram = CAP_TRUE;
    /* the EBDA, the VGA window, the BIOS area (platform.h's direct-boot map) */
    if ((rc = mem_push(mem, LEGACY_HOLE_START, PLATFORM_VGA_ADDR, LOADER_E820_RESERVED, err)) ||
        (rc = mem_push(mem, PLATFORM_VGA_ADDR, PLATFORM_VGA_END, LOADER_E820_RESERVED, err)) ||
        (rc = mem_push(mem, PLATFORM_BIOS_AREA_ADDR, LEGACY_HOLE_END, LOADER_E820_RESERVED, err)))
        return rc;
    for (unsigned i = 0; i < nrsv; i++) {
        if (rsv[i][0] >= LEGACY_HOLE_START && rsv[i][1] <= LEGACY_HOLE_END)
            continue; /* VGA window, option and BIOS ROMs: covered by the legacy hole */
        if ((rc = mem_push(mem, rsv[i][0], rsv[i][1], LOADER_E820_RESERVED, err)))
            return rc;
    }
    qsort(mem->e, mem->n, sizeof(mem->e[0]), cmp_entry);
    return CAP_OK;
}

uint64_t ldr_mem_ram_end(const struct ldr_mem *mem, uint64_t addr, uint64_t len)
{
    for (unsigned i = 0; i < mem->n; i++) {
        const struct loader_mem_entry *e = &mem->e[i];
        if (e->type == LOADER_E820_RAM && addr >= e->addr && len <= e->size &&
            addr - e->addr <= e->size - len)
            return e->addr + e->size;
    }
    return 0;
}

uint64_t ldr_mem_top(const struct ldr_mem *mem)
{
    uint64_t top = 0;
    for (unsigned i = 0; i < mem->n; i++)
        if (mem->e[i].type == LOADER_E820_RAM && mem->e[i].addr + mem->e[i].size > top)
            top = mem->e[i].addr + mem->e[i].size;
    return top;
}

uint64_t ldr_mem_total(const struct ldr_mem *mem)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < mem->n; i++)
        if (mem->e[i].type == LOADER_E820_RAM)
            total += mem->e[i].size;
    return total;
}

cap_result ldr_mem_mark(struct ldr_mem *mem, uint64_t addr, uint64_t len, uint32_t type,
                        struct ldr_err *err)
{
    for (unsigned i = 0; i < mem->n; i++) {
        struct loader_mem_entry e = mem->e[i];
        if (e.type != LOADER_E820_RAM || addr < e.addr || len > e.size ||
            addr - e.addr > e.size - len)
            continue;
        unsigned extra = (addr > e.addr) + (addr + len < e.addr + e.size);
        if (mem->n + extra > LOADER_MAX_MEM_ENTRIES)
            return ldr_fail(err, CAP_E_INVALIDARG, "guest memory map has more than %u entries",
                            LOADER_MAX_MEM_ENTRIES);
        memmove(&mem->e[i + 1 + extra], &mem->e[i + 1], (mem->n - i - 1) * sizeof(mem->e[0]));
        mem->n += extra;
        if (addr > e.addr)
            mem->e[i++] = (struct loader_mem_entry){ e.addr, addr - e.addr, LOADER_E820_RAM };
        mem->e[i++] = (struct loader_mem_entry){ addr, len, type };
        if (addr + len < e.addr + e.size)
            mem->e[i] = (struct loader_mem_entry){ addr + len, e.addr + e.size - addr - len,
                                                   LOADER_E820_RAM };
        return CAP_OK;
    }
    return ldr_fail(err, VMM_E_LOADER_NO_ROOM, "0x%llx-0x%llx is not inside guest RAM",
                    (unsigned long long)addr, (unsigned long long)(addr + len));
}

/* ---- the plan ------------------------------------------------------- */

void ldr_plan_init(struct ldr_plan *plan)
{
    memset(plan, 0, sizeof(*plan));
}

void ldr_plan_free(struct ldr_plan *plan)
{
    for (unsigned i = 0; i < plan->nblobs; i++)
        free(plan->blobs[i]);
    plan->nblobs = 0;
    plan->n = 0;
}

cap_result ldr_plan_add(struct ldr_plan *plan, uint64_t gpa, const void *src, uint64_t len,
                        uint64_t memsz, unsigned flags, const char *what, struct ldr_err *err)
{
    if (plan->n == LDR_MAX_CHUNKS)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE, "more than %u pieces to load",
                        LDR_MAX_CHUNKS);
    struct ldr_chunk *c = &plan->c[plan->n++];
    c->gpa = gpa;
    c->src = src;
    c->len = len;
    c->memsz = memsz < len ? len : memsz;
    c->flags = flags;
    snprintf(c->what, sizeof(c->what), "%s", what);
    return CAP_OK;
}

uint8_t *ldr_plan_blob(struct ldr_plan *plan, size_t size, struct ldr_err *err)
{
    uint8_t *b = plan->nblobs < LDR_MAX_BLOBS ? calloc(1, size) : NULL;
    if (!b) {
        ldr_fail(err, CAP_E_OUTOFMEMORY, "out of memory for boot tables");
        return NULL;
    }
    plan->blobs[plan->nblobs++] = b;
    return b;
}

static void describe_ram(const struct ldr_mem *mem, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < mem->n && used < size; i++) {
        if (mem->e[i].type != LOADER_E820_RAM)
            continue;
        used += (size_t)snprintf(buf + used, size - used, "%s0x%llx-0x%llx", used ? ", " : "",
                                 (unsigned long long)mem->e[i].addr,
                                 (unsigned long long)(mem->e[i].addr + mem->e[i].size));
    }
}

cap_result ldr_plan_check(const struct ldr_plan *plan, const struct ldr_mem *mem,
                          struct ldr_err *err)
{
    for (unsigned i = 0; i < plan->n; i++) {
        const struct ldr_chunk *c = &plan->c[i];
        if (!c->memsz)
            continue;
        cap_bool in_bios = (c->flags & LDR_CHUNK_BIOS) && mem->bios_area_ram &&
                           c->gpa >= PLATFORM_BIOS_AREA_ADDR &&
                           c->gpa + c->memsz <= LEGACY_HOLE_END &&
                           c->memsz <= LEGACY_HOLE_END - PLATFORM_BIOS_AREA_ADDR;
        if (!in_bios && (c->gpa + c->memsz < c->gpa || !ldr_mem_ram_end(mem, c->gpa, c->memsz))) {
            char ram[160];
            describe_ram(mem, ram, sizeof(ram));
            return ldr_fail(err, VMM_E_LOADER_NO_ROOM,
                            "%s at 0x%llx-0x%llx (%llu bytes) is not inside guest RAM (%s)",
                            c->what, (unsigned long long)c->gpa,
                            (unsigned long long)(c->gpa + c->memsz),
                            (unsigned long long)c->memsz, ram);
        }
    }
    for (unsigned i = 0; i < plan->n; i++)
        for (unsigned j = i + 1; j < plan->n; j++) {
            const struct ldr_chunk *a = &plan->c[i], *b = &plan->c[j];
            if (!a->memsz || !b->memsz || a->gpa >= b->gpa + b->memsz ||
                b->gpa >= a->gpa + a->memsz)
                continue;
            cap_bool both_image = (a->flags & b->flags & LDR_CHUNK_IMAGE) != 0;
            return ldr_fail(err, both_image ? VMM_E_LOADER_BAD_IMAGE : VMM_E_LOADER_NO_ROOM,
                            "%s at 0x%llx-0x%llx overlaps %s at 0x%llx-0x%llx", b->what,
                            (unsigned long long)b->gpa, (unsigned long long)(b->gpa + b->memsz),
                            a->what, (unsigned long long)a->gpa,
                            (unsigned long long)(a->gpa + a->memsz));
        }
    return CAP_OK;
}

/* ---- shared boot structures ----------------------------------------- */

cap_result ldr_add_gdt(struct ldr_plan *plan, cap_bool long_mode, struct ldr_err *err)
{
    uint8_t *gdt = ldr_plan_blob(plan, 32, err);
    if (!gdt)
        return CAP_E_OUTOFMEMORY;
    /* null, null, 0x10 flat code (64-bit or 32-bit), 0x18 flat data */
    ldr_put64(gdt + 0x10, long_mode ? 0x00af9b000000ffffull : 0x00cf9b000000ffffull);
    ldr_put64(gdt + 0x18, 0x00cf93000000ffffull);
    return ldr_plan_add(plan, LOADER_GDT_ADDR, gdt, 32, 32, 0, "the loader's GDT", err);
}

#define GIB (1ull << 30)

uint64_t ldr_pagetables_cover(const struct ldr_mem *mem)
{
    uint64_t top = ldr_mem_top(mem), cover = 4 * GIB;
    if (top > cover)
        cover = (top + GIB - 1) & ~(GIB - 1);
    if (cover > 1ull << PLATFORM_GUEST_PHYS_BITS) /* all a guest can address */
        cover = 1ull << PLATFORM_GUEST_PHYS_BITS;
    return cover;
}

cap_result ldr_add_pagetables(struct ldr_plan *plan, const struct ldr_mem *mem,
                              struct ldr_err *err)
{
    uint64_t npd = ldr_pagetables_cover(mem) / GIB;
    size_t size = (size_t)(2 + npd) * LDR_PAGE;
    uint8_t *t = ldr_plan_blob(plan, size, err);
    if (!t)
        return CAP_E_OUTOFMEMORY;
    const uint64_t base = LOADER_PGTABLE_ADDR;
    ldr_put64(t, (base + LDR_PAGE) | 3);                   /* PML4[0] -> PDPT */
    for (uint64_t g = 0; g < npd; g++) {
        ldr_put64(t + LDR_PAGE + g * 8, (base + (2 + g) * LDR_PAGE) | 3); /* PDPT[g] -> PD */
        uint8_t *pd = t + (2 + g) * LDR_PAGE;
        for (uint64_t m = 0; m < 512; m++)
            ldr_put64(pd + m * 8, (g * GIB + (m << 21)) | 0x83); /* P, RW, PS: 2 MiB */
    }
    plan->info.pgtable_addr = base;
    plan->info.pgtable_size = size;
    plan->entry.cr3 = base;
    return ldr_plan_add(plan, base, t, size, size, 0, "the loader's page tables", err);
}
