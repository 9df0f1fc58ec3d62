/*
 * paging64.c - 4-level paging: builds 4 KiB mappings under PML4 entry 1
 * (512 GiB up) in the runtime's live tables and runs paging_checks() on
 * them (NX included), then checks a 2 MiB page, reserved bits (#PF with
 * RSVD) and the accessed bits on the upper levels.
 */
#include "paging_common.h"

const char guest_name[] = "paging64";

#define VA 0x0000008000000000ull

void guest_main(void)
{
    uint32_t r[4];
    cpuid(0x80000001, 0, r);
    int nx = (r[3] >> 20) & 1;
    if (nx)
        wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
    else
        gprintf("note: no NX in CPUID, NX checks skipped\n");
    cpuid(0x80000000, 0, r);
    unsigned maxphys = 36;
    if (r[0] >= 0x80000008) {
        cpuid(0x80000008, 0, r);
        maxphys = r[0] & 0xff;
    }
    volatile uint64_t *root = pg4_root();
    uint8_t *a = page_alloc(), *b = page_alloc();
    struct pte_ref pte[4];
    pte[0] = (struct pte_ref){pg4_map((uint64_t *)root, VA, (ureg)a, PTE_P | PTE_W), 1};
    pte[1] = (struct pte_ref){pg4_map((uint64_t *)root, VA + 0x1000, (ureg)a, PTE_P), 1};
    pte[2] = (struct pte_ref){pg4_map((uint64_t *)root, VA + 0x2000, (ureg)b, PTE_P | PTE_W | (nx ? PTE_NX : 0)), 1};
    pte[3] = (struct pte_ref){pg4_map((uint64_t *)root, VA + 0x3000, 0, 0), 1};
    paging_checks("4-level", VA, pte, a, b, nx);

    /* The walk set A in the upper levels. */
    volatile uint64_t *pdpt = (volatile uint64_t *)(ureg)(root[1] & 0xffffffffff000ull);
    CHECK(root[1] & PTE_A);
    CHECK(pdpt[0] & PTE_A);

    /* A 2 MiB page: VA + 2 MiB -> physical 2 MiB. */
    volatile uint64_t *pd = (volatile uint64_t *)(ureg)(pdpt[0] & 0xffffffffff000ull);
    pd[1] = 0x200000 | PTE_P | PTE_W | PTE_PS;
    *(volatile uint32_t *)0x2ff000 = 0x2badd00d;
    CHECK_EQ(*(volatile uint32_t *)(ureg)(VA + 0x2ff000), 0x2badd00d);
    CHECK(pd[1] & PTE_A);

    /* A reserved bit (bit maxphys of the address): #PF with RSVD|P. */
    if (maxphys < 52) {
        uint64_t *p = pg4_map((uint64_t *)root, VA + 0x5000, (ureg)a, PTE_P | PTE_W);
        *p |= 1ull << maxphys;
        struct trap_info ti;
        pg_probe = VA + 0x5000;
        CHECK_EQ(trap_run(pg_read, NULL, &ti), 14);
        CHECK_EQ(ti.cr2, VA + 0x5000);
        if (ti.error == PF_RSVD && guest_on_tcg())
            gprintf("note: #PF for a reserved bit without P (QEMU TCG)\n");
        else
            CHECK_EQ(ti.error, PF_RSVD | PF_P);
        gprintf("ok 2 MiB page, upper-level A bits, reserved bit %u\n", maxphys);
    }
}
