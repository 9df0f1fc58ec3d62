/*
 * test_mem.c - the memory path: TLB invalidation by INVLPG and CR3 writes
 * (a stale entry is used until then, as on hardware), REP MOVSB that
 * faults on a page in the middle and restarts with RCX/RSI/RDI updated,
 * MMIO through PGM callbacks inline (no exit), accesses crossing pages,
 * segment limits in protected mode (#GP) and expand-down segments; stores
 * into dirty-tracked RAM (interpreted and JIT'd) seen by pgm_dirty_collect,
 * also when a collect runs while the TLB entry lives, and the TLB dropping
 * host pointers when RAM goes from the map.
 */
#include <stdlib.h>
#include <string.h>

#include "rem_test.h"

static unsigned mmio_reads, mmio_writes;
static uint64_t mmio_last;

static cap_result mr(void *o, uint64_t off, void *data, unsigned size)
{
    mmio_reads++;
    uint64_t v = 0x1122334455667788ull + off;
    memcpy(data, &v, size);
    return CAP_OK;
}

static cap_result mw(void *o, uint64_t off, const void *data, unsigned size)
{
    mmio_writes++;
    mmio_last = 0;
    memcpy(&mmio_last, data, size);
    return CAP_OK;
}

static const struct pgm_mmio_ops mops = { mr, mw };

START_TEST(invlpg_and_cr3)
{
    /* Linear 0x6000 -> phys 0x6000, then the PTE is pointed at 0x7000. */
    rt_wr32(0x6000, 0x600);
    rt_wr32(0x7000, 0x700);
    rt_asm(0x100000, "bits 32\n org 0x100000\n"
                     " mov eax, [0x6000]\n"
                     " mov dword [0x21000+4*6], 0x7007\n"
                     " mov ebx, [0x6000]\n"     /* stale TLB entry: still 0x600 */
                     " invlpg [0x6000]\n mov ecx, [0x6000]\n"
                     " mov dword [0x21000+4*6], 0x6007\n mov edx, cr3\n mov cr3, edx\n"
                     " mov esi, [0x6000]\n hlt\n");
    rt_prot32(0x100000, 1);
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(CTX->gpr[CPUM_RAX], 0x600);
    ck_assert_uint_eq(CTX->gpr[CPUM_RBX], 0x600);
    ck_assert_uint_eq(CTX->gpr[CPUM_RCX], 0x700);
    ck_assert_uint_eq(CTX->gpr[CPUM_RSI], 0x600);
}
END_TEST

START_TEST(rep_movs_restart)
{
    /* Copy 0x2000 bytes from 0x200000 to 0x8000..0x9fff; 0x9000 is not present.
     * The #PF handler maps it and IRETs: REP resumes where it stopped. */
    for (unsigned i = 0; i < 0x2000; i++)
        M.ram[0x200000 + i] = (uint8_t)(i * 7);
    rt_wr64(0x13000 + 8 * 9, 0); /* 0x9000 not present (long-mode PT) */
    rt_asm(0x100000, "bits 64\n org 0x100000\n"
                     " mov rsi, 0x200000\n mov rdi, 0x8000\n mov rcx, 0x2000\n cld\n rep movsb\n hlt\n"
                     " times 0x40-($-$$) nop\n"
                     "pf: mov r8, rcx\n mov r9, rdi\n mov r10, cr2\n mov qword [0x13000+8*9], 0x9007\n"
                     " add rsp, 8\n iretq\n");
    rt_long64(0x100000);
    rt_idt_gate(14, 0x100040, 0, 0);
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    struct cpum_ctx *c = CTX;
    ck_assert_uint_eq(c->gpr[CPUM_R8], 0x1000);  /* RCX at the fault */
    ck_assert_uint_eq(c->gpr[CPUM_R9], 0x9000);  /* RDI at the fault */
    ck_assert_uint_eq(c->gpr[CPUM_R10], 0x9000); /* CR2 */
    ck_assert_uint_eq(c->gpr[CPUM_RCX], 0);
    ck_assert(memcmp(M.ram + 0x8000, M.ram + 0x200000, 0x2000) == 0);
}
END_TEST

START_TEST(icache_fetch_fault)
{
    /* rem_exec_one's decoded-instruction cache: an instruction crossing
     * into a page that is not present (0x7ffd -> 0x8000) shares its slot
     * with a NOP at 0x1012fb ((la ^ la >> 12) & 1023 = 0x3fa for both).
     * Its #PF comes while fetching the rest, after the first decode
     * attempt overwrote the slot's instruction: the NOP, run again as the
     * first instruction after a TLB flush (so not from a block), must
     * still be a NOP (the bug: the half-decoded MOVABS ran in its place;
     * Linux oopsed with "invalid opcode" at a function's first NOP). */
    rt_wr64(0x13000 + 8 * 8, 0); /* 0x8000 not present */
    rt_asm(0x100000, "bits 64\n org 0x100000\n"
                     " mov rax, 0x5555\n xor r15, r15\n mov rdx, cr3\n mov cr3, rdx\n"
                     " jmp 0x1012fb\n"
                     " times 0x20-($-$$) nop\n"
                     " jmp 0x7ffd\n" /* 0x100020 */
                     " times 0x40-($-$$) nop\n"
                     "pf: mov r10, cr2\n mov rax, 0x5555\n mov rdx, cr3\n mov cr3, rdx\n"
                     " jmp 0x1012fb\n");
    rt_asm(0x1012fb, "bits 64\n org 0x1012fb\n"
                     " nop dword [rax+rax+0]\n mov ebx, 0x1234\n inc r15\n cmp r15, 1\n"
                     " je 0x100020\n hlt\n");
    rt_asm(0x7ffd, "bits 64\n org 0x7ffd\n mov rax, 0x1122334455667788\n");
    ck_assert_uint_eq(M.ram[0x1012fb], 0x0f);
    rt_long64(0x100000);
    rt_idt_gate(14, 0x100040, 0, 0);
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(CTX->gpr[CPUM_R10], 0x8000); /* the fetch's #PF */
    ck_assert_uint_eq(CTX->gpr[CPUM_R15], 2);
    ck_assert_uint_eq(CTX->gpr[CPUM_RBX], 0x1234);
    ck_assert_uint_eq(CTX->gpr[CPUM_RAX], 0x5555);
}
END_TEST

START_TEST(mmio_inline)
{
    ck_assert_int_eq(pgm_map_mmio(M.pgm, 0x1000000, 0x1000, &mops, NULL, "dev"), CAP_OK);
    rt_asm(0x100000, "bits 64\n org 0x100000\n"
                     " mov rbx, 0x1000000\n mov eax, [rbx+8]\n mov dword [rbx+4], 0xdeadbeef\n"
                     " mov rcx, [rbx+0xffc]\n hlt\n"); /* crosses the range end */
    rt_long64(0x100000);
    /* Map 16..18 MiB with a 2 MiB page (PD entry 8). */
    rt_wr64(0x12000 + 8 * 8, 0x1000000 | 0x87);
    mmio_reads = mmio_writes = 0;
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(CTX->gpr[CPUM_RAX], 0x55667790);
    ck_assert_uint_eq(mmio_writes, 1);
    ck_assert_uint_eq(mmio_last, 0xdeadbeef);
    ck_assert_uint_eq(CTX->gpr[CPUM_RCX] >> 32, 0xffffffff); /* unassigned reads all ones */
}
END_TEST

#define FB_GPA 0x1000000u

static uint64_t fb_bits;

/* An MMIO write in the middle of the guest's stores: the collector runs
 * then (as the display thread would, between two stores). */
static cap_result collect_on_write(void *o, uint64_t off, const void *data, unsigned size)
{
    fb_bits = 0;
    ck_assert_int_eq(pgm_dirty_collect(M.pgm, FB_GPA, &fb_bits, 16), CAP_OK);
    return CAP_OK;
}

static const struct pgm_mmio_ops collect_ops = {mr, collect_on_write};

/* ... and one where the RAM goes from the map in the middle of the run (a
 * BAR moved by the guest): stale host pointers must not be used. */
static cap_result unmap_on_write(void *o, uint64_t off, const void *data, unsigned size)
{
    ck_assert_int_eq(pgm_unmap(M.pgm, FB_GPA), CAP_OK);
    return CAP_OK;
}

static const struct pgm_mmio_ops unmap_ops = {mr, unmap_on_write};

static void dirty_stores(int jit_hot)
{
    uint8_t *fb = aligned_alloc(4096, 0x10000);
    ck_assert_ptr_nonnull(fb);
    memset(fb, 0, 0x10000);
    ck_assert_int_eq(pgm_map_ram_external(M.pgm, FB_GPA, 0x10000, fb, PGM_RAM_TRACK_DIRTY, "fb"),
                     CAP_OK);
    ck_assert_int_eq(pgm_map_mmio(M.pgm, FB_GPA + 0x10000, 0x1000, &collect_ops, NULL, "col"),
                     CAP_OK);
    uint64_t bits = 0;
    ck_assert_int_eq(pgm_dirty_collect(M.pgm, FB_GPA, &bits, 16), CAP_OK);
    ck_assert_uint_eq(bits, 0xffff); /* all pages new at first */
    rem_vcpu_set_jit(M.v, jit_hot);
    /* pages 0 and 2 in a hot loop; then page 5 once, the collector, page 5 again */
    rt_asm(0x100000, "bits 64\n org 0x100000\n"
                     " mov rbx, 0x1000000\n mov ecx, 200\n"
                     "l: mov [rbx], ecx\n mov [rbx+0x2000], ecx\n dec ecx\n jnz l\n"
                     " mov dword [rbx+0x5000], 1\n mov dword [rbx+0x10000], 0\n"
                     " mov dword [rbx+0x5004], 2\n hlt\n");
    rt_long64(0x100000);
    rt_wr64(0x12000 + 8 * 8, FB_GPA | 0x87); /* 16..18 MiB, a 2 MiB page */
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(fb[0x2000], 1);
    ck_assert_uint_eq(fb[0x5004], 2);
    /* the collect inside the run took 0, 2 and 5 (marked when the entries
     * were filled) */
    ck_assert_uint_eq(fb_bits, 1u << 0 | 1u << 2 | 1u << 5);
    /* the store to page 5 after it still shows (and 0 and 2, whose entries
     * lived on: the next collect errs on the side of redrawing) */
    bits = 0;
    ck_assert_int_eq(pgm_dirty_collect(M.pgm, FB_GPA, &bits, 16), CAP_OK);
    ck_assert_uint_eq(bits & (1u << 5), 1u << 5);
    ck_assert_uint_eq(bits & ~(uint64_t)(1u << 0 | 1u << 2 | 1u << 5), 0);
    /* nothing written since: nothing dirty (idle costs nothing) */
    bits = 0;
    ck_assert_int_eq(pgm_dirty_collect(M.pgm, FB_GPA, &bits, 16), CAP_OK);
    ck_assert_uint_eq(bits, 0);
    /* the RAM goes mid-run: the TLB forgets it, the next store is dropped */
    ck_assert_int_eq(pgm_map_mmio(M.pgm, FB_GPA + 0x11000, 0x1000, &unmap_ops, NULL, "unmap"),
                     CAP_OK);
    rt_asm(0x100000, "bits 64\n org 0x100000\n mov rbx, 0x1000000\n"
                     " mov dword [rbx], 0x66\n mov dword [rbx+0x11000], 0\n"
                     " mov dword [rbx], 0x77\n hlt\n");
    rt_long64(0x100000);
    rt_wr64(0x12000 + 8 * 8, FB_GPA | 0x87);
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(fb[0], 0x66);
    free(fb);
}

START_TEST(dirty_tracked_stores)
{
    dirty_stores(-1); /* the interpreter */
}
END_TEST

START_TEST(dirty_tracked_stores_jit)
{
    dirty_stores(0); /* every block translated at its first run */
}
END_TEST

START_TEST(page_crossing)
{
    rt_asm(0x100000, "bits 64\n org 0x100000\n"
                     " mov rax, 0x0102030405060708\n mov [0x8ffd], rax\n mov rbx, [0x8ffd]\n hlt\n");
    rt_long64(0x100000);
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(CTX->gpr[CPUM_RBX], 0x0102030405060708ull);
    ck_assert_uint_eq(M.ram[0x9000], 0x05);
}
END_TEST

START_TEST(segment_limits)
{
    /* DS = data16-like limit 0xffff in 32-bit mode: [0x10000] -> #GP(0). An
     * expand-down segment with limit 0xfff accepts 0x1000.. and rejects 0x800. */
    rt_asm(0x100000, "bits 32\n org 0x100000\n"
                     " mov ax, 0x50\n mov ds, ax\n mov ebx, [0xfff0]\n mov ecx, [0x10000]\n hlt\n"
                     " times 0x40-($-$$) nop\n"
                     "gp: pop edi\n mov esi, 0x77\n add dword [esp], 6\n iretd\n");
    rt_prot32(0x100000, 0);
    rt_idt_gate(13, 0x100040, 0, 0);
    /* SS must stay flat for the handler: 0x18. */
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(CTX->gpr[CPUM_RSI], 0x77);
    ck_assert_uint_eq(CTX->gpr[CPUM_RDI], 0);
}
END_TEST

TCase *tcase_mem(void)
{
    TCase *tc = tcase_create("mem");
    tcase_add_checked_fixture(tc, rt_setup, rt_teardown);
    tcase_add_test(tc, invlpg_and_cr3);
    tcase_add_test(tc, rep_movs_restart);
    tcase_add_test(tc, icache_fetch_fault);
    tcase_add_test(tc, mmio_inline);
    tcase_add_test(tc, page_crossing);
    tcase_add_test(tc, dirty_tracked_stores);
    tcase_add_test(tc, dirty_tracked_stores_jit);
    tcase_add_test(tc, segment_limits);
    return tc;
}
