/*
 * paging32.c - 32-bit (two-level, with PSE 4 MiB identity pages) and PAE
 * paging, entered from flat protected mode and left again: paging_checks()
 * on 4 KiB mappings at 1 GiB in each format (NX with EFER.NXE in PAE).
 */
#include "paging_common.h"

const char guest_name[] = "paging32";

#define VA 0x40000000u
#define IDENTITY (8u << 20)

static void two_level(void)
{
    uint32_t *pd = pg32_identity(IDENTITY);
    uint8_t *a = page_alloc(), *b = page_alloc();
    struct pte_ref pte[4];
    pte[0] = (struct pte_ref){pg32_map(pd, VA, (ureg)a, PTE_P | PTE_W), 0};
    pte[1] = (struct pte_ref){pg32_map(pd, VA + 0x1000, (ureg)a, PTE_P), 0};
    pte[2] = (struct pte_ref){pg32_map(pd, VA + 0x2000, (ureg)b, PTE_P | PTE_W), 0};
    pte[3] = (struct pte_ref){pg32_map(pd, VA + 0x3000, 0, 0), 0};
    write_cr4(read_cr4() | CR4_PSE);
    write_cr3((ureg)pd);
    write_cr0(read_cr0() | CR0_PG | CR0_WP);
    paging_checks("32-bit paging", VA, pte, a, b, 0);
    CHECK(((volatile uint32_t *)pd)[VA >> 22] & PTE_A);
    write_cr0(read_cr0() & ~(ureg)CR0_PG);
    write_cr4(read_cr4() & ~(ureg)CR4_PSE);
}

static void pae(void)
{
    uint32_t r[4];
    cpuid(0x80000001, 0, r);
    int nx = (r[3] >> 20) & 1;
    if (nx)
        wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
    uint64_t *pdpt = pgpae_identity(IDENTITY);
    uint8_t *a = page_alloc(), *b = page_alloc();
    struct pte_ref pte[4];
    pte[0] = (struct pte_ref){pgpae_map(pdpt, VA, (ureg)a, PTE_P | PTE_W), 1};
    pte[1] = (struct pte_ref){pgpae_map(pdpt, VA + 0x1000, (ureg)a, PTE_P), 1};
    pte[2] = (struct pte_ref){pgpae_map(pdpt, VA + 0x2000, (ureg)b, PTE_P | PTE_W | (nx ? PTE_NX : 0)), 1};
    pte[3] = (struct pte_ref){pgpae_map(pdpt, VA + 0x3000, 0, 0), 1};
    write_cr4(read_cr4() | CR4_PAE);
    write_cr3((ureg)pdpt);
    write_cr0(read_cr0() | CR0_PG | CR0_WP);
    paging_checks("PAE paging", VA, pte, a, b, nx);
    write_cr0(read_cr0() & ~(ureg)CR0_PG);
    write_cr4(read_cr4() & ~(ureg)CR4_PAE);
    if (nx)
        wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~(uint64_t)EFER_NXE);
}

void guest_main(void)
{
    two_level();
    pae();
    /* Paging off again: flat addresses. */
    CHECK_EQ(read_cr0() & CR0_PG, 0);
}
