/*
 * test_walk.c - the guest page-table walker with hand-built page tables in
 * guest RAM: no paging, 32-bit (4 KiB, 4 MiB PSE/PSE-36), PAE (4 KiB,
 * 2 MiB, NX) and 4-level long mode; each fault kind (not present, U/S,
 * R/W with and without CR0.WP, NX, reserved bits, non-canonical) with its
 * error code; accessed/dirty updates.
 */
#include <string.h>

#include "pgm/pgm.h"
#include "pgm_test.h"

#define P  0x1ull
#define W  0x2ull
#define U  0x4ull
#define A  0x20ull
#define D  0x40ull
#define PS 0x80ull
#define NX (1ull << 63)

static struct pgm *pgm;
static struct pgm_paging pg;
static struct pgm_walk w;

static void setup(void)
{
    ck_assert_int_eq(pgm_create(&pgm), CAP_OK);
    ck_assert_int_eq(pgm_map_ram(pgm, 0, 16u << 20, "ram"), CAP_OK);
    memset(&pg, 0, sizeof(pg));
    pg.phys_addr_bits = 36;
}

static void teardown(void)
{
    pgm_destroy(pgm);
}

static void wr32(uint64_t gpa, uint32_t v)
{
    ck_assert_int_eq(pgm_phys_write(pgm, gpa, &v, 4), CAP_OK);
}

static void wr64(uint64_t gpa, uint64_t v)
{
    ck_assert_int_eq(pgm_phys_write(pgm, gpa, &v, 8), CAP_OK);
}

static uint64_t rd64(uint64_t gpa)
{
    uint64_t v = 0;
    ck_assert_int_eq(pgm_phys_read(pgm, gpa, &v, 8), CAP_OK);
    return v;
}

static uint32_t rd32(uint64_t gpa)
{
    return (uint32_t)rd64(gpa);
}

START_TEST(walk_no_paging)
{
    pg.cr0 = CR0_PE; /* protected mode, paging off */
    ck_assert_uint_eq(pgm_mode_of(&pg), PGM_MODE_NONE);
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x12345678, PGM_ACC_WRITE | PGM_ACC_USER, &w), CAP_OK);
    ck_assert_uint_eq(w.gpa, 0x12345678);
    pg.cr0 = 0; /* real mode */
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0xffff0, PGM_ACC_EXEC, &w), CAP_OK);
    ck_assert_uint_eq(w.gpa, 0xffff0);
}
END_TEST

/* 32-bit: CR3 0x10000, PD[1] -> PT 0x11000, PT[1] -> 0x200000 (va 0x401000). */
static void build_32bit(uint32_t pde_flags, uint32_t pte_flags)
{
    pg.cr0 = CR0_PE | CR0_PG;
    pg.cr3 = 0x10000;
    wr32(0x10000 + 1 * 4, 0x11000 | pde_flags);
    wr32(0x11000 + 1 * 4, 0x200000 | pte_flags);
}

START_TEST(walk_32bit_4k_and_ad)
{
    build_32bit(P | W | U, P | W | U);
    ck_assert_uint_eq(pgm_mode_of(&pg), PGM_MODE_32BIT);
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x401234, PGM_ACC_READ | PGM_ACC_USER, &w), CAP_OK);
    ck_assert_uint_eq(w.gpa, 0x200234);
    ck_assert_uint_eq(w.page_size, 4096);
    ck_assert(w.writable && w.user && !w.nx);
    ck_assert_uint_eq(rd32(0x10004), 0x11000 | P | W | U | A);
    ck_assert_uint_eq(rd32(0x11004), 0x200000 | P | W | U | A); /* read: no D */
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x401234, PGM_ACC_WRITE, &w), CAP_OK);
    ck_assert_uint_eq(rd32(0x11004), 0x200000 | P | W | U | A | D);
    ck_assert_uint_eq(rd32(0x10004), 0x11000 | P | W | U | A); /* D only in the leaf */
    /* The debugger's walk leaves A/D alone. */
    wr32(0x11004, 0x200000 | P | W | U);
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x401234, PGM_ACC_WRITE | PGM_ACC_NO_AD, &w), CAP_OK);
    ck_assert_uint_eq(rd32(0x11004), 0x200000 | P | W | U);
}
END_TEST

START_TEST(walk_32bit_faults)
{
    build_32bit(P | W | U, P | U); /* read-only user page */
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x401000, PGM_ACC_WRITE | PGM_ACC_USER, &w), VMM_XCPT_PF);
    ck_assert_uint_eq(w.error_code, PGM_PF_P | PGM_PF_W | PGM_PF_U);
    ck_assert_uint_eq(w.cr2, 0x401000);
    ck_assert_uint_eq(rd32(0x11004) & A, 0); /* no A on a fault */
    /* Supervisor write to a read-only page: allowed unless CR0.WP. */
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x401000, PGM_ACC_WRITE, &w), CAP_OK);
    pg.cr0 |= CR0_WP;
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x401000, PGM_ACC_WRITE, &w), VMM_XCPT_PF);
    ck_assert_uint_eq(w.error_code, PGM_PF_P | PGM_PF_W);
    /* User access to a supervisor page (U clear in the PDE only). */
    build_32bit(P | W, P | W | U);
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x401000, PGM_ACC_READ | PGM_ACC_USER, &w), VMM_XCPT_PF);
    ck_assert_uint_eq(w.error_code, PGM_PF_P | PGM_PF_U);
    /* Not present at each level. */
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x800000, PGM_ACC_READ, &w), VMM_XCPT_PF);
    ck_assert_uint_eq(w.error_code, 0);
    ck_assert_uint_eq(w.level, 2);
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x402000, PGM_ACC_WRITE | PGM_ACC_USER, &w), VMM_XCPT_PF);
    ck_assert_uint_eq(w.error_code, PGM_PF_W | PGM_PF_U);
    ck_assert_uint_eq(w.level, 1);
    /* No I/D bit in 32-bit paging. */
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x402000, PGM_ACC_EXEC, &w), VMM_XCPT_PF);
    ck_assert_uint_eq(w.error_code, 0);
}
END_TEST

START_TEST(walk_32bit_pse)
{
    pg.cr0 = CR0_PE | CR0_PG;
    pg.cr3 = 0x10000;
    /* PD[3]: 4 MiB page at 0x1_00c00000 (PSE-36: PA bit 32 in PDE bit 13). */
    wr32(0x10000 + 3 * 4, 0x00c00000u | (1u << 13) | P | W | PS);
    pg.cr4 = CR4_PSE;
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x00d23456, PGM_ACC_READ, &w), CAP_OK);
    ck_assert_uint_eq(w.gpa, 0x100d23456ull);
    ck_assert_uint_eq(w.page_size, 4u << 20);
    /* Bit 21 is reserved in a 4 MiB PDE. */
    wr32(0x10000 + 3 * 4, 0x00c00000u | (1u << 21) | P | W | PS);
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x00d23456, PGM_ACC_WRITE, &w), VMM_XCPT_PF);
    ck_assert_uint_eq(w.error_code, PGM_PF_P | PGM_PF_RSVD | PGM_PF_W);
    /* Without CR4.PSE the PS bit is ignored: the PDE points to a page table. */
    pg.cr4 = 0;
    wr32(0x10000 + 3 * 4, 0x00300000u | P | W | PS);
    wr32(0x300000 + 0x123 * 4, 0x00500000u | P | W);
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x00d23456, PGM_ACC_READ, &w), CAP_OK);
    ck_assert_uint_eq(w.gpa, 0x500456);
}
END_TEST

/* PAE: CR3 0x20000, PDPTE[0] -> PD 0x21000, PD[1] -> PT 0x22000, PT[1] -> 0x600000. */
static void build_pae(uint64_t pte_flags)
{
    pg.cr0 = CR0_PE | CR0_PG;
    pg.cr4 = CR4_PAE;
    pg.cr3 = 0x20000;
    wr64(0x20000, 0x21000 | P);
    wr64(0x21000 + 1 * 8, 0x22000 | P | W | U);
    wr64(0x22000 + 1 * 8, 0x600000 | pte_flags);
    wr64(0x21000 + 2 * 8, 0x800000 | P | W | PS); /* 2 MiB page, supervisor */
}

START_TEST(walk_pae)
{
    build_pae(P | W | U);
    ck_assert_uint_eq(pgm_mode_of(&pg), PGM_MODE_PAE);
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x201abc, PGM_ACC_WRITE | PGM_ACC_USER, &w), CAP_OK);
    ck_assert_uint_eq(w.gpa, 0x600abc);
    ck_assert_uint_eq(rd64(0x22008), 0x600000 | P | W | U | A | D);
    ck_assert_uint_eq(rd64(0x21008), 0x22000 | P | W | U | A);
    ck_assert_uint_eq(rd64(0x20000), 0x21000 | P); /* PDPTEs have no A bit */
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x412345, PGM_ACC_READ, &w), CAP_OK);
    ck_assert_uint_eq(w.gpa, 0x812345);
    ck_assert_uint_eq(w.page_size, 2u << 20);
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x412345, PGM_ACC_READ | PGM_ACC_USER, &w), VMM_XCPT_PF);
    ck_assert_uint_eq(w.error_code, PGM_PF_P | PGM_PF_U);
    /* PDPTE not present; PDPTE reserved bit. */
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x40000000, PGM_ACC_READ, &w), VMM_XCPT_PF);
    ck_assert_uint_eq(w.error_code, 0);
    wr64(0x20008, 0x23000 | P | W);
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x40000000, PGM_ACC_READ, &w), VMM_XCPT_PF);
    ck_assert_uint_eq(w.error_code, PGM_PF_P | PGM_PF_RSVD);
    /* 2 MiB page with bit 13 set: reserved. */
    wr64(0x21000 + 2 * 8, 0x800000 | (1ull << 13) | P | W | PS);
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x412345, PGM_ACC_READ, &w), VMM_XCPT_PF);
    ck_assert_uint_eq(w.error_code, PGM_PF_P | PGM_PF_RSVD);
    /* Address bits above MAXPHYADDR (36) are reserved. */
    wr64(0x22008, (1ull << 40) | 0x600000 | P | W | U);
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x201000, PGM_ACC_READ, &w), VMM_XCPT_PF);
    ck_assert_uint_eq(w.error_code, PGM_PF_P | PGM_PF_RSVD);
}
END_TEST

START_TEST(walk_pae_nx)
{
    build_pae(P | W | U | NX);
    /* NX set but EFER.NXE clear: bit 63 is reserved. */
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x201000, PGM_ACC_READ, &w), VMM_XCPT_PF);
    ck_assert_uint_eq(w.error_code, PGM_PF_P | PGM_PF_RSVD);
    pg.efer = EFER_NXE;
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x201000, PGM_ACC_READ, &w), CAP_OK);
    ck_assert(w.nx);
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x201000, PGM_ACC_EXEC | PGM_ACC_USER, &w), VMM_XCPT_PF);
    ck_assert_uint_eq(w.error_code, PGM_PF_P | PGM_PF_U | PGM_PF_ID);
    /* I/D also on a not-present fetch when NXE is on. */
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x202000, PGM_ACC_EXEC, &w), VMM_XCPT_PF);
    ck_assert_uint_eq(w.error_code, PGM_PF_ID);
}
END_TEST

/* Long mode: CR3 0x30000, PML4[0] -> 0x31000, PDPT[0] -> 0x32000, PD[0] -> 0x33000,
 * PT[5] -> 0xa00000 (va 0x5000); PML4[511]/PDPT[510] -> same PD (va 0xffffffff80000000). */
static void build_long(void)
{
    pg.cr0 = CR0_PE | CR0_PG | CR0_WP;
    pg.cr4 = CR4_PAE;
    pg.efer = EFER_LME | EFER_LMA | EFER_NXE;
    pg.cr3 = 0x30000;
    wr64(0x30000, 0x31000 | P | W | U);
    wr64(0x31000, 0x32000 | P | W | U);
    wr64(0x32000, 0x33000 | P | W | U);
    wr64(0x33000 + 5 * 8, 0xa00000 | P | W | U);
    wr64(0x32000 + 1 * 8, 0xc00000 | P | W | PS | NX); /* 2 MiB, supervisor, NX */
    wr64(0x30000 + 511 * 8, 0x34000 | P | W);
    wr64(0x34000 + 510 * 8, 0x32000 | P | W);
}

START_TEST(walk_long)
{
    build_long();
    ck_assert_uint_eq(pgm_mode_of(&pg), PGM_MODE_LONG);
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x5abc, PGM_ACC_WRITE | PGM_ACC_USER, &w), CAP_OK);
    ck_assert_uint_eq(w.gpa, 0xa00abc);
    ck_assert_uint_eq(rd64(0x30000) & (A | D), A);
    ck_assert_uint_eq(rd64(0x31000) & (A | D), A);
    ck_assert_uint_eq(rd64(0x32000) & (A | D), A);
    ck_assert_uint_eq(rd64(0x33028) & (A | D), A | D);
    /* Higher half, through a supervisor PML4 entry. */
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0xffffffff80005010ull, PGM_ACC_READ, &w), CAP_OK);
    ck_assert_uint_eq(w.gpa, 0xa00010);
    ck_assert(!w.user);
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0xffffffff80005010ull, PGM_ACC_USER, &w), VMM_XCPT_PF);
    ck_assert_uint_eq(w.error_code, PGM_PF_P | PGM_PF_U);
    /* 2 MiB NX page. */
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x212345, PGM_ACC_WRITE, &w), CAP_OK);
    ck_assert_uint_eq(w.gpa, 0xc12345);
    ck_assert_uint_eq(w.page_size, 2u << 20);
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x212345, PGM_ACC_EXEC, &w), VMM_XCPT_PF);
    ck_assert_uint_eq(w.error_code, PGM_PF_P | PGM_PF_ID);
    /* Non-canonical: #GP, not #PF. */
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x0000800000000000ull, PGM_ACC_READ, &w), VMM_XCPT_GP);
}
END_TEST

START_TEST(walk_long_reserved)
{
    build_long();
    /* PS in a PML4E is reserved; PS in a PDPTE is reserved without 1 GiB pages. */
    wr64(0x30000, 0x31000 | P | W | U | PS);
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x5000, PGM_ACC_READ, &w), VMM_XCPT_PF);
    ck_assert_uint_eq(w.error_code, PGM_PF_P | PGM_PF_RSVD);
    ck_assert_uint_eq(w.level, 4);
    wr64(0x30000, 0x31000 | P | W | U);
    wr64(0x31000, 0x40000000 | P | W | U | PS);
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x5000, PGM_ACC_READ | PGM_ACC_USER, &w), VMM_XCPT_PF);
    ck_assert_uint_eq(w.error_code, PGM_PF_P | PGM_PF_RSVD | PGM_PF_U);
    pg.pdpe1gb = CAP_TRUE; /* with 1 GiB pages, it maps */
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x5000, PGM_ACC_READ, &w), CAP_OK);
    ck_assert_uint_eq(w.gpa, 0x40005000);
    ck_assert_uint_eq(w.page_size, 1u << 30);
    /* NX with EFER.NXE clear is reserved. */
    pg.pdpe1gb = CAP_FALSE;
    wr64(0x31000, 0x32000 | P | W | U);
    pg.efer &= ~EFER_NXE;
    ck_assert_int_eq(pgm_walk(pgm, &pg, 0x212345, PGM_ACC_READ, &w), VMM_XCPT_PF);
    ck_assert_uint_eq(w.error_code, PGM_PF_P | PGM_PF_RSVD);
}
END_TEST

START_TEST(walk_virt_read_across_pages)
{
    build_long();
    wr64(0x33000 + 6 * 8, 0xb00000 | P | W | U);
    wr64(0xa00ffe, 0x1122);
    wr64(0xb00000, 0x33445566);
    struct pgm_paging copy = pg;
    uint8_t buf[6];
    ck_assert_int_eq(pgm_virt_read(pgm, &copy, 0x5ffe, buf, 6, PGM_ACC_READ, &w), CAP_OK);
    ck_assert_uint_eq(buf[0], 0x22);
    ck_assert_uint_eq(buf[2], 0x66);
    ck_assert_uint_eq(buf[5], 0x33);
    ck_assert_int_eq(pgm_virt_read(pgm, &copy, 0x6ffe, buf, 4, PGM_ACC_READ, &w), VMM_XCPT_PF);
    ck_assert_uint_eq(w.cr2, 0x7000);
}
END_TEST

START_TEST(walk_from_ctx)
{
    struct cpum_policy pol;
    struct cpum_cpu cpu;
    ck_assert_int_eq(cpum_policy_init(&pol, 1, NULL), CAP_OK);
    cpum_cpu_init(&cpu, &pol, 0);
    cpu.ctx.cr0 = CR0_PE | CR0_PG;
    cpu.ctx.cr4 = CR4_PAE;
    cpu.ctx.msr.efer = EFER_LMA | EFER_LME;
    cpu.ctx.cr3 = 0x30000;
    pgm_paging_from_ctx(&pg, &cpu);
    ck_assert_uint_eq(pgm_mode_of(&pg), PGM_MODE_LONG);
    ck_assert_uint_eq(pg.phys_addr_bits, 36);
    ck_assert(!pg.pdpe1gb);
    ck_assert_uint_eq(pgm_access_for_cpl(3, PGM_ACC_WRITE), PGM_ACC_WRITE | PGM_ACC_USER);
    ck_assert_uint_eq(pgm_access_for_cpl(0, PGM_ACC_WRITE | PGM_ACC_USER), PGM_ACC_WRITE);
}
END_TEST

TCase *tcase_walk(void)
{
    TCase *tc = tcase_create("walk");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, walk_no_paging);
    tcase_add_test(tc, walk_32bit_4k_and_ad);
    tcase_add_test(tc, walk_32bit_faults);
    tcase_add_test(tc, walk_32bit_pse);
    tcase_add_test(tc, walk_pae);
    tcase_add_test(tc, walk_pae_nx);
    tcase_add_test(tc, walk_long);
    tcase_add_test(tc, walk_long_reserved);
    tcase_add_test(tc, walk_virt_read_across_pages);
    tcase_add_test(tc, walk_from_ctx);
    return tc;
}
