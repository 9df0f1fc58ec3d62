/*
 * test_longmode.c - hm in states set up directly through the registers:
 * flat 32-bit protected mode, and 64-bit long mode at CPL3 with identity
 * paging (guest user code runs natively on this host: the loop's speed and
 * the CPL3 I/O exit round trip are printed).
 */
#include <stdio.h>
#include <string.h>

#include "hwaccm_test.h"

static void seg(enum cpum_sreg r, uint16_t sel, uint16_t attr)
{
    vm.cpu.ctx.seg[r] = (struct cpum_seg){.sel = sel, .base = 0, .limit = 0xffffffffu, .attr = attr};
}

void tvm_flat32(uint32_t eip)
{
    struct cpum_ctx *c = &vm.cpu.ctx;
    seg(CPUM_CS, 0x08, 0xc09b);
    for (unsigned r = 0; r < CPUM_SREG_COUNT; r++)
        if (r != CPUM_CS)
            seg(r, 0x10, 0xc093);
    c->cr0 = CR0_PE | CR0_ET;
    c->rip = eip;
    c->tr = (struct cpum_seg){.sel = 0x18, .base = 0x3000, .limit = 0x67, .attr = 0x8b};
    c->ldtr = (struct cpum_seg){.attr = 0}; /* unusable */
    cpum_mark_dirty(&vm.cpu, CPUM_STATE_GPRS | CPUM_STATE_SREGS);
}

void tvm_long_mode_user(uint64_t rip)
{
    struct cpum_ctx *c = &vm.cpu.ctx;
    uint64_t pml4 = 0x11000 | 7, pdpt = 0x12000 | 7, pde = 0x0 | 7 | 0x80;
    ck_assert_int_eq(pgm_phys_write(vm.pgm, 0x10000, &pml4, 8), CAP_OK);
    ck_assert_int_eq(pgm_phys_write(vm.pgm, 0x11000, &pdpt, 8), CAP_OK);
    ck_assert_int_eq(pgm_phys_write(vm.pgm, 0x12000, &pde, 8), CAP_OK);
    seg(CPUM_CS, 0x33, 0x20fb); /* L, P, DPL3, code */
    for (unsigned r = 0; r < CPUM_SREG_COUNT; r++)
        if (r != CPUM_CS)
            seg(r, 0x2b, 0xc0f3); /* DPL3 data */
    c->tr = (struct cpum_seg){.sel = 0x40, .base = 0x13000, .limit = 0x67, .attr = 0x8b};
    c->ldtr = (struct cpum_seg){.attr = 0};
    c->cr0 = CR0_PG | CR0_WP | CR0_NE | CR0_ET | CR0_MP | CR0_PE;
    c->cr3 = 0x10000;
    c->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    c->msr.efer = EFER_LME | EFER_LMA | EFER_NXE;
    c->rflags = 0x2 | (3ull << RFLAGS_IOPL_SHIFT);
    c->gpr[CPUM_RSP] = 0x80000;
    c->rip = rip;
    cpum_mark_dirty(&vm.cpu, CPUM_STATE_ALL);
}

static void teardown(void)
{
    tvm_destroy();
}

START_TEST(flat32_out)
{
    /* mov eax,0x12345678; mov dx,0xf4; out dx,eax; hlt */
    static const uint8_t code[] = {0xb8, 0x78, 0x56, 0x34, 0x12, 0x66, 0xba,
                                   0xf4, 0x00, 0xef, 0xf4};
    tvm_create(1 << 20);
    tvm_vcpu();
    ck_assert_int_eq(pgm_phys_write(vm.pgm, 0x1000, code, sizeof(code)), CAP_OK);
    tvm_flat32(0x1000);
    tvm_run_expect(VMM_EXIT_IO);
    ck_assert_uint_eq(vm.exit.io.size, 4);
    uint32_t v;
    memcpy(&v, vm.exit.io.data, 4);
    ck_assert_uint_eq(v, 0x12345678);
    tvm_run_expect(VMM_EXIT_HLT);
}
END_TEST

START_TEST(long_mode_cpl3_loop)
{
    enum { LOOPS = 20000000, N = 5000 };
    /* mov ecx,LOOPS; 1: dec ecx; jnz 1b; mov dx,0xf4; mov al,0x64; 2: out dx,al; jmp 2b */
    uint8_t code[] = {0xb9, 0, 0, 0, 0, 0xff, 0xc9, 0x75, 0xfc, 0x66,
                      0xba, 0xf4, 0x00, 0xb0, 0x64, 0xee, 0xeb, 0xfd};
    uint32_t loops = LOOPS;
    memcpy(code + 1, &loops, 4);
    tvm_create(2 << 20);
    tvm_vcpu();
    ck_assert_int_eq(pgm_phys_write(vm.pgm, 0x20000, code, sizeof(code)), CAP_OK);
    tvm_long_mode_user(0x20000);
    double t0 = now_us();
    tvm_run_expect(VMM_EXIT_IO);
    double t_loop = now_us() - t0;
    ck_assert_uint_eq(vm.exit.io.port, 0xf4);
    ck_assert_uint_eq(vm.exit.io.data[0], 0x64);
    ck_assert_uint_eq(vm.cpu.ctx.gpr[CPUM_RCX], 0);
    ck_assert_uint_eq(cpum_cpl(&vm.cpu.ctx), 3);
    ck_assert(vm.cpu.ctx.seg[CPUM_CS].attr & CPUM_SEG_L);
    ck_assert(vm.cpu.ctx.msr.efer & EFER_LMA);
    t0 = now_us();
    for (int i = 0; i < N; i++) {
        cap_result rc = hwaccm_vcpu_run(vm.vcpu, &vm.exit);
        ck_assert(rc == CAP_OK && vm.exit.reason == VMM_EXIT_IO);
    }
    double t_io = now_us() - t0;
    printf("hwaccm: 64-bit CPL3 loop: %.2f ns per iteration (%d iterations)\n",
           t_loop * 1000.0 / LOOPS, LOOPS);
    printf("hwaccm: 64-bit CPL3 I/O exit round trip: %.2f us (%d exits)\n", t_io / N, N);
}
END_TEST

TCase *tcase_longmode(void)
{
    TCase *tc = tcase_create("longmode");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, flat32_out);
    tcase_add_test(tc, long_mode_cpl3_loop);
    return tc;
}
