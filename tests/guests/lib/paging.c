/*
 * paging.c - page-table helpers: a pool of zeroed pages, two-level 32-bit
 * and PAE tables for the 32-bit build, 4-level edits of the runtime's live
 * tables for the 64-bit build.
 */
#include "guest.h"

#define POOL_PAGES 24
static uint8_t pool[POOL_PAGES][4096] __attribute__((aligned(4096)));
static unsigned pool_used;

void *page_alloc(void)
{
    if (pool_used == POOL_PAGES)
        guest_fail("page_alloc: the pool of %u pages is used up", POOL_PAGES);
    void *p = pool[pool_used++];
    memset(p, 0, 4096);
    return p;
}

uint32_t *pg32_identity(uint32_t bytes)
{
    uint32_t *pd = page_alloc();
    for (uint32_t a = 0; a < bytes; a += 0x400000)
        pd[a >> 22] = a | (uint32_t)(PTE_P | PTE_W | PTE_PS);
    return pd;
}

uint32_t *pg32_map(uint32_t *pd, uint32_t va, uint32_t pa, uint32_t flags)
{
    uint32_t *pde = &pd[va >> 22];
    if (!(*pde & PTE_P))
        *pde = (uint32_t)(ureg)page_alloc() | (uint32_t)(PTE_P | PTE_W | PTE_U);
    uint32_t *pt = (uint32_t *)(ureg)(*pde & ~0xfffu);
    uint32_t *pte = &pt[(va >> 12) & 1023];
    *pte = (pa & ~0xfffu) | flags;
    return pte;
}

uint64_t *pgpae_identity(uint32_t bytes)
{
    uint64_t *pdpt = page_alloc(); /* page-aligned, so 32-byte aligned */
    for (uint32_t a = 0; a < bytes; a += 0x200000) {
        unsigned i = a >> 30;
        if (!(pdpt[i] & PTE_P))
            pdpt[i] = (ureg)page_alloc() | PTE_P; /* PDPTEs: no W/U/A bits */
        uint64_t *pd = (uint64_t *)(ureg)(pdpt[i] & ~0xfffull);
        pd[(a >> 21) & 511] = a | PTE_P | PTE_W | PTE_PS;
    }
    return pdpt;
}

uint64_t *pgpae_map(uint64_t *pdpt, uint32_t va, uint64_t pa, uint64_t flags)
{
    unsigned i = va >> 30;
    if (!(pdpt[i] & PTE_P))
        pdpt[i] = (ureg)page_alloc() | PTE_P;
    uint64_t *pd = (uint64_t *)(ureg)(pdpt[i] & 0xfffff000ull);
    uint64_t *pde = &pd[(va >> 21) & 511];
    if (!(*pde & PTE_P))
        *pde = (ureg)page_alloc() | PTE_P | PTE_W | PTE_U;
    uint64_t *pt = (uint64_t *)(ureg)(*pde & 0xfffff000ull);
    uint64_t *pte = &pt[(va >> 12) & 511];
    *pte = (pa & ~0xfffull) | flags;
    return pte;
}

#ifdef __x86_64__
extern uint64_t pml4[];

uint64_t *pg4_root(void)
{
    return pml4;
}

void pg4_user_section(void)
{
    extern const char user_start[] __asm__("__user_start");
    uint64_t *pdpt = (uint64_t *)(ureg)(pml4[0] & 0x000ffffffffff000ull);
    uint64_t *pd = (uint64_t *)(ureg)(pdpt[0] & 0x000ffffffffff000ull);
    CHECK_EQ((ureg)user_start, 2ull << 21);
    pd[2] |= PTE_U;
    write_cr3(read_cr3());
}

static uint64_t *next_level(uint64_t *table, unsigned i)
{
    if (!(table[i] & PTE_P))
        table[i] = (ureg)page_alloc() | PTE_P | PTE_W | PTE_U;
    if (table[i] & PTE_PS)
        guest_fail("pg4_map: a large page is in the way (entry 0x%llx)",
                   (unsigned long long)table[i]);
    return (uint64_t *)(ureg)(table[i] & 0x000ffffffffff000ull);
}

uint64_t *pg4_map(uint64_t *root, uint64_t va, uint64_t pa, uint64_t flags)
{
    uint64_t *pdpt = next_level(root, (va >> 39) & 511);
    uint64_t *pd = next_level(pdpt, (va >> 30) & 511);
    uint64_t *pt = next_level(pd, (va >> 21) & 511);
    uint64_t *pte = &pt[(va >> 12) & 511];
    *pte = (pa & 0x000ffffffffff000ull) | flags;
    return pte;
}
#endif
