/*
 * test_basic.c - hm in real mode (guest CPL0: emulated by this host's KVM,
 * so payloads are a handful of instructions): port I/O out and in, HLT, the
 * reset vector in ROM, MMIO reads and writes routed through PGM, ROM writes,
 * a triple fault, register sync both ways, the "no KVM" error (which runs
 * on any host), and the cost of an I/O exit round trip.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "hd_result.h"
#include "hwaccm_test.h"
#include "testskip.h"

static void teardown(void)
{
    tvm_destroy();
}

static void check_out(uint16_t port, uint8_t value)
{
    tvm_run_expect(VMM_EXIT_IO);
    ck_assert_uint_eq(vm.exit.io.port, port);
    ck_assert_uint_eq(vm.exit.io.size, 1);
    ck_assert(vm.exit.io.write);
    ck_assert_uint_eq(vm.exit.io.count, 1);
    ck_assert_uint_eq(vm.exit.io.data[0], value);
}

START_TEST(real_mode_out_hlt)
{
    /* mov dx,0xf4; mov al,0x21; out dx,al; hlt */
    static const uint8_t code[] = {0xba, 0xf4, 0x00, 0xb0, 0x21, 0xee, 0xf4};
    tvm_create(1 << 20);
    tvm_vcpu();
    tvm_real_mode(0x1000, code, sizeof(code));
    check_out(0xf4, 0x21);
    tvm_run_expect(VMM_EXIT_HLT);
    ck_assert_uint_eq(vm.cpu.ctx.rip, 0x1000 + sizeof(code)); /* past the HLT */
    ck_assert_uint_eq(vm.cpu.ctx.gpr[CPUM_RAX] & 0xff, 0x21);
    /* MOV DX writes the low 16 bits; above them stays EDX's reset value,
     * the CPU signature */
    ck_assert_uint_eq(vm.cpu.ctx.gpr[CPUM_RDX], (vm.policy.signature & ~0xffffu) | 0xf4);
}
END_TEST

START_TEST(reset_vector_in_rom)
{
    /* At 0xffff0: mov dx,0xf4; mov al,0x42; out dx,al; hlt - from CPUM's reset state. */
    static uint8_t rom[0x10000];
    static const uint8_t code[] = {0xba, 0xf4, 0x00, 0xb0, 0x42, 0xee, 0xf4};
    memcpy(rom + 0xfff0, code, sizeof(code));
    tvm_create(1 << 20);
    ck_assert_int_eq(pgm_map_rom(vm.pgm, 0xffff0000u, sizeof(rom), rom, sizeof(rom), "bios"),
                     CAP_OK); /* mapped after the engine exists: the listener adds the slot */
    tvm_vcpu();
    check_out(0xf4, 0x42);
    tvm_run_expect(VMM_EXIT_HLT);
    ck_assert_uint_eq(vm.cpu.ctx.seg[CPUM_CS].base, 0xffff0000u);
}
END_TEST

struct dev {
    uint8_t regs[16];
    unsigned writes;
};

static cap_result dev_read(void *o, uint64_t off, void *d, unsigned n)
{
    memcpy(d, ((struct dev *)o)->regs + off, n);
    return CAP_OK;
}

static cap_result dev_write(void *o, uint64_t off, const void *d, unsigned n)
{
    struct dev *dv = o;
    dv->writes++;
    memcpy(dv->regs + off, d, n);
    return CAP_OK;
}

static const struct pgm_mmio_ops dev_ops = {.read = dev_read, .write = dev_write};

/* What EM will do with an MMIO exit: hand it to PGM's map. */
static void route_mmio(void)
{
    tvm_run_expect(VMM_EXIT_MMIO);
    if (vm.exit.mmio.write)
        ck_assert_int_eq(pgm_phys_write(vm.pgm, vm.exit.mmio.gpa, vm.exit.mmio.data,
                                        vm.exit.mmio.size), CAP_OK);
    else
        ck_assert_int_eq(pgm_phys_read(vm.pgm, vm.exit.mmio.gpa, vm.exit.mmio.data,
                                       vm.exit.mmio.size), CAP_OK);
}

START_TEST(mmio_and_rom_writes)
{
    /*
     * mov ax,0xa000; mov ds,ax; mov byte [0x4],0x5a; mov al,[0x8]; mov dx,0xf4; out dx,al
     * mov ax,0xf000; mov ds,ax; mov byte [0x0],0x99; mov al,[0x0]; out dx,al; hlt
     */
    static const uint8_t code[] = {0xb8, 0x00, 0xa0, 0x8e, 0xd8, 0xc6, 0x06, 0x04, 0x00, 0x5a,
                                   0xa0, 0x08, 0x00, 0xba, 0xf4, 0x00, 0xee, 0xb8, 0x00, 0xf0,
                                   0x8e, 0xd8, 0xc6, 0x06, 0x00, 0x00, 0x99, 0xa0, 0x00, 0x00,
                                   0xee, 0xf4};
    static const uint8_t rom[1] = {0x3c};
    struct dev dv = {.regs = {[8] = 0x77}};
    tvm_create(0xa0000);
    ck_assert_int_eq(pgm_map_mmio(vm.pgm, 0xa0000, 16, &dev_ops, &dv, "dev"), CAP_OK);
    ck_assert_int_eq(pgm_map_rom(vm.pgm, 0xf0000, 0x10000, rom, 1, "bios"), CAP_OK);
    tvm_vcpu();
    tvm_real_mode(0x1000, code, sizeof(code));
    tvm_run_expect(VMM_EXIT_MMIO);
    ck_assert_uint_eq(vm.exit.mmio.gpa, 0xa0004);
    ck_assert_uint_eq(vm.exit.mmio.size, 1);
    ck_assert(vm.exit.mmio.write);
    ck_assert_uint_eq(vm.exit.mmio.data[0], 0x5a);
    ck_assert_int_eq(pgm_phys_write(vm.pgm, vm.exit.mmio.gpa, vm.exit.mmio.data, 1), CAP_OK);
    ck_assert_uint_eq(dv.regs[4], 0x5a);
    tvm_run_expect(VMM_EXIT_MMIO);
    ck_assert_uint_eq(vm.exit.mmio.gpa, 0xa0008);
    ck_assert(!vm.exit.mmio.write);
    ck_assert_int_eq(pgm_phys_read(vm.pgm, vm.exit.mmio.gpa, vm.exit.mmio.data, 1), CAP_OK);
    check_out(0xf4, 0x77); /* the guest got the device's value */
    route_mmio();          /* the ROM write comes out as MMIO; PGM drops it */
    ck_assert_uint_eq(vm.exit.mmio.gpa, 0xf0000);
    check_out(0xf4, 0x3c); /* the ROM still holds its byte, read directly */
    tvm_run_expect(VMM_EXIT_HLT);
}
END_TEST

/* RAM that PGM tracks for dirty pages (a framebuffer BAR) gets a slot with
 * KVM's dirty log: the guest's store shows in pgm_dirty_collect. */
START_TEST(dirty_log_of_tracked_ram)
{
    /* mov ax,0x8000; mov ds,ax; mov byte [0x2000],0x5a; hlt */
    static const uint8_t code[] = {0xb8, 0x00, 0x80, 0x8e, 0xd8, 0xc6,
                                   0x06, 0x00, 0x20, 0x5a, 0xf4};
    static uint8_t fb[16 * 4096] __attribute__((aligned(4096)));
    tvm_create(0x80000);
    ck_assert_int_eq(
        pgm_map_ram_external(vm.pgm, 0x80000, 16 * 4096, fb, PGM_RAM_TRACK_DIRTY, "fb"), CAP_OK);
    uint64_t bits = 0;
    ck_assert_int_eq(pgm_dirty_collect(vm.pgm, 0x80000, &bits, 16), CAP_OK);
    ck_assert_uint_eq(bits, 0xffff); /* all new */
    tvm_vcpu();
    tvm_real_mode(0x1000, code, sizeof(code));
    tvm_run_expect(VMM_EXIT_HLT);
    ck_assert_uint_eq(fb[0x2000], 0x5a);
    bits = 0;
    ck_assert_int_eq(pgm_dirty_collect(vm.pgm, 0x80000, &bits, 16), CAP_OK);
    ck_assert_uint_eq(bits, 1u << 2);
    ck_assert_int_eq(pgm_dirty_collect(vm.pgm, 0x80000, &bits, 16), CAP_OK);
    ck_assert_uint_eq(bits, 0);
}
END_TEST

START_TEST(port_in)
{
    /* mov dx,0x60; in al,dx; mov dx,0xf4; out dx,al; hlt */
    static const uint8_t code[] = {0xba, 0x60, 0x00, 0xec, 0xba, 0xf4, 0x00, 0xee, 0xf4};
    tvm_create(1 << 20);
    tvm_vcpu();
    tvm_real_mode(0x1000, code, sizeof(code));
    tvm_run_expect(VMM_EXIT_IO);
    ck_assert_uint_eq(vm.exit.io.port, 0x60);
    ck_assert(!vm.exit.io.write);
    vm.exit.io.data[0] = 0xab; /* what the device answers */
    check_out(0xf4, 0xab);
}
END_TEST

START_TEST(triple_fault_is_shutdown)
{
    /* 32-bit protected mode, IDT limit 0, then ud2: #UD -> #GP -> #DF -> shutdown.
     * (Real mode is no good here: this host's emulator delivers real-mode
     * exceptions through the IVT without checking the IDT limit.) */
    static const uint8_t code[] = {0x0f, 0x0b};
    tvm_create(1 << 20);
    tvm_vcpu();
    ck_assert_int_eq(pgm_phys_write(vm.pgm, 0x1000, code, sizeof(code)), CAP_OK);
    tvm_flat32(0x1000);
    vm.cpu.ctx.idtr.limit = 0;
    tvm_run_expect(VMM_EXIT_SHUTDOWN);
}
END_TEST

START_TEST(register_sync)
{
    /* add ax,bx; mov dx,0xf4; out dx,al; hlt */
    static const uint8_t code[] = {0x01, 0xd8, 0xba, 0xf4, 0x00, 0xee, 0xf4};
    tvm_create(1 << 20);
    tvm_vcpu();
    tvm_real_mode(0x1000, code, sizeof(code));
    vm.cpu.ctx.gpr[CPUM_RAX] = 0x30;
    vm.cpu.ctx.gpr[CPUM_RBX] = 0x05;
    vm.cpu.ctx.gpr[CPUM_R12] = 0x1234567890ull;
    vm.cpu.ctx.msr.lstar = 0xffffffff81234560ull;
    vm.cpu.ctx.msr.sysenter_cs = 0x10;
    vm.cpu.ctx.fpu.mxcsr = 0x1fa0;
    vm.cpu.ctx.fpu.xmm[2][0] = 0xee;
    vm.cpu.ctx.dr[0] = 0x4000;
    cpum_mark_dirty(&vm.cpu, CPUM_STATE_ALL);
    check_out(0xf4, 0x35);
    ck_assert_uint_eq(vm.cpu.ctx.gpr[CPUM_R12], 0x1234567890ull);
    ck_assert_uint_eq(vm.cpu.extrn, CPUM_STATE_FPU | CPUM_STATE_MSRS | CPUM_STATE_DRS);
    memset(&vm.cpu.ctx.fpu, 0, sizeof(vm.cpu.ctx.fpu));
    vm.cpu.ctx.msr.lstar = vm.cpu.ctx.dr[0] = 0;
    ck_assert_int_eq(hwaccm_vcpu_import(vm.vcpu, CPUM_STATE_ALL), CAP_OK);
    ck_assert_uint_eq(vm.cpu.extrn, 0);
    ck_assert_uint_eq(vm.cpu.ctx.msr.lstar, 0xffffffff81234560ull);
    ck_assert_uint_eq(vm.cpu.ctx.msr.sysenter_cs, 0x10);
    ck_assert_uint_eq(vm.cpu.ctx.fpu.mxcsr, 0x1fa0);
    ck_assert_uint_eq(vm.cpu.ctx.fpu.xmm[2][0], 0xee);
    ck_assert_uint_eq(vm.cpu.ctx.fpu.fcw, 0x40);
    ck_assert_uint_eq(vm.cpu.ctx.dr[0], 0x4000);
    ck_assert_uint_eq(vm.cpu.ctx.dr[7], 0x400);
    /* A change made by EM (skip the HLT by moving RIP) reaches the guest. */
    vm.cpu.ctx.rip -= 4; /* back to "mov dx,0xf4" */
    vm.cpu.ctx.gpr[CPUM_RAX] = 0x66;
    cpum_mark_dirty(&vm.cpu, CPUM_STATE_GPRS);
    check_out(0xf4, 0x66);
}
END_TEST

START_TEST(segments_current_after_each_exit)
{
    /* mov ax,0x1234; mov ds,ax; mov dx,0xf4; out dx,al; mov ax,0x2000; mov es,ax; out dx,al; hlt */
    static const uint8_t code[] = {0xb8, 0x34, 0x12, 0x8e, 0xd8, 0xba, 0xf4, 0x00, 0xee,
                                   0xb8, 0x00, 0x20, 0x8e, 0xc0, 0xee, 0xf4};
    tvm_create(1 << 20);
    tvm_vcpu();
    tvm_real_mode(0x1000, code, sizeof(code));
    check_out(0xf4, 0x34);
    /* Converted straight from kvm_run's sync area at the exit. */
    ck_assert(!(vm.cpu.extrn & (CPUM_STATE_GPRS | CPUM_STATE_SREGS)));
    ck_assert_uint_eq(vm.cpu.ctx.seg[CPUM_DS].sel, 0x1234);
    ck_assert_uint_eq(vm.cpu.ctx.seg[CPUM_DS].base, 0x12340);
    /* A context change not marked dirty never reaches KVM ... */
    vm.cpu.ctx.seg[CPUM_DS].sel = 0x5555;
    check_out(0xf4, 0x00);
    ck_assert_uint_eq(vm.cpu.ctx.seg[CPUM_DS].sel, 0x1234);
    ck_assert_uint_eq(vm.cpu.ctx.seg[CPUM_ES].base, 0x20000);
    /* ... one marked dirty does, with the next run. */
    vm.cpu.ctx.seg[CPUM_DS].sel = 0x40;
    vm.cpu.ctx.seg[CPUM_DS].base = 0x400;
    cpum_mark_dirty(&vm.cpu, CPUM_STATE_SREGS);
    tvm_run_expect(VMM_EXIT_HLT);
    ck_assert_uint_eq(vm.cpu.ctx.seg[CPUM_DS].sel, 0x40);
    ck_assert_uint_eq(vm.cpu.ctx.seg[CPUM_DS].base, 0x400);
    ck_assert_uint_eq(vm.cpu.ctx.seg[CPUM_ES].sel, 0x2000);
}
END_TEST

START_TEST(no_kvm_is_a_clear_error)
{
    setenv("CAPSULE_KVM_DEVICE", "/nonexistent/kvm", 1);
    struct cpum_policy pol;
    struct pgm *pgm;
    struct hwaccm *hm = (struct hwaccm *)1;
    ck_assert_int_eq(cpum_policy_init(&pol, 1, NULL), CAP_OK);
    ck_assert_int_eq(pgm_create(&pgm), CAP_OK);
    ck_assert_int_eq(hwaccm_create(pgm, &pol, &hm), VMM_E_NO_KVM);
    ck_assert_ptr_null(hm);
    /* the host driver's code and component became the VMM's, the message stayed */
    struct cap_error_info info;
    ck_assert_int_eq(cap_error_take(&info), CAP_OK);
    ck_assert_int_eq(info.result, VMM_E_NO_KVM);
    ck_assert_str_eq(info.component, VMM_COMPONENT);
    ck_assert_msg(strstr(info.message, "/nonexistent/kvm") && strstr(info.message, "No such file"),
                  "%s", info.message);
    cap_error_info_clear(&info);
    pgm_destroy(pgm);
    unsetenv("CAPSULE_KVM_DEVICE");
}
END_TEST

/* The host drivers' own range (hostdrivers/hd_result.h) never leaves the
 * VMM: each code maps to the VMM's, with its error info; the rest pass. */
START_TEST(host_driver_results_map)
{
    static const cap_result map[][2] = {
        {HD_E_NO_HYPERVISOR, VMM_E_NO_KVM}, {HD_E_API, VMM_E_KVM_API}, {HD_E_CALL, VMM_E_HOSTDRV}};
    for (unsigned i = 0; i < 3; i++) {
        cap_error_set(map[i][0], HD_COMPONENT, NULL, "kvm: call %u failed", i);
        ck_assert_int_eq(vmm_result_from_hd(map[i][0]), map[i][1]);
        struct cap_error_info info;
        ck_assert_int_eq(cap_error_take(&info), CAP_OK);
        ck_assert_int_eq(info.result, map[i][1]);
        ck_assert_str_eq(info.component, VMM_COMPONENT);
        ck_assert_ptr_nonnull(strstr(info.message, "failed"));
        cap_error_info_clear(&info);
    }
    /* other codes, success and another failure's error info are left alone */
    ck_assert_int_eq(vmm_result_from_hd(CAP_OK), CAP_OK);
    ck_assert_int_eq(vmm_result_from_hd(CAP_FALSE_RESULT), CAP_FALSE_RESULT);
    cap_error_set(CAP_E_OUTOFMEMORY, HD_COMPONENT, NULL, "kvm: out of memory");
    ck_assert_int_eq(vmm_result_from_hd(CAP_E_OUTOFMEMORY), CAP_E_OUTOFMEMORY);
    ck_assert_int_eq(vmm_result_from_hd(HD_E_CALL), VMM_E_HOSTDRV);
    struct cap_error_info info;
    ck_assert_int_eq(cap_error_take(&info), CAP_OK);
    ck_assert_int_eq(info.result, CAP_E_OUTOFMEMORY);
    ck_assert_str_eq(info.component, HD_COMPONENT);
    cap_error_info_clear(&info);
}
END_TEST

START_TEST(io_exit_round_trip)
{
    /* mov dx,0xf4; 1: out dx,al; jmp 1b  (real mode, CPL0: emulated here) */
    static const uint8_t code[] = {0xba, 0xf4, 0x00, 0xee, 0xeb, 0xfd};
    enum { N = 2000 };
    tvm_create(1 << 20);
    tvm_vcpu();
    tvm_real_mode(0x1000, code, sizeof(code));
    tvm_run_expect(VMM_EXIT_IO);
    double t0 = now_us();
    for (int i = 0; i < N; i++) {
        cap_result rc = hwaccm_vcpu_run(vm.vcpu, &vm.exit);
        ck_assert(rc == CAP_OK && vm.exit.reason == VMM_EXIT_IO);
    }
    double dt = now_us() - t0;
    printf("hwaccm: real-mode (CPL0) I/O exit round trip: %.2f us (%d exits)\n", dt / N, N);
}
END_TEST

START_TEST(emulation_failure_names_the_instruction)
{
    /* stmxcsr [0x2000]: SSE state access in emulated guest kernel code, which
     * this host's KVM cannot emulate. The exit carries the bytes at CS:RIP. */
    static const uint8_t code[] = {0x0f, 0xae, 0x1e, 0x00, 0x20, 0xf4};
    tvm_create(1 << 20);
    tvm_vcpu();
    tvm_real_mode(0x1000, code, sizeof(code));
    vm.cpu.ctx.cr4 |= CR4_OSFXSR;
    tvm_run_expect(VMM_EXIT_EMULATION_FAILURE);
    ck_assert_uint_eq(vm.exit.emul.rip, 0x1000);
    ck_assert_uint_ge(vm.exit.emul.insn_len, 5);
    ck_assert_mem_eq(vm.exit.emul.insn, code, 5);
    ck_assert_uint_eq(vm.cpu.ctx.rip, 0x1000); /* not executed */
}
END_TEST

TCase *tcase_basic(void)
{
    TCase *tc = tcase_create("basic");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, real_mode_out_hlt);
    tcase_add_test(tc, reset_vector_in_rom);
    tcase_add_test(tc, mmio_and_rom_writes);
    tcase_add_test(tc, dirty_log_of_tracked_ram);
    tcase_add_test(tc, port_in);
    tcase_add_test(tc, triple_fault_is_shutdown);
    tcase_add_test(tc, register_sync);
    tcase_add_test(tc, segments_current_after_each_exit);
    tcase_add_test(tc, io_exit_round_trip);
    /* Only where KVM emulates guest kernel code (no VT-x/AMD-V: this
     * project's PVM hosts); elsewhere the CPU runs stmxcsr itself. */
    if (test_host_hw_virt())
        test_skip("hwaccm emulation_failure_names_the_instruction",
                  "needs a KVM that emulates guest kernel code (this host has VT-x/AMD-V)");
    else
        tcase_add_test(tc, emulation_failure_names_the_instruction);
    return tc;
}

/* What runs without KVM too: hwaccm's error when there is none. */
TCase *tcase_nokvm(void)
{
    TCase *tc = tcase_create("nokvm");
    tcase_add_test(tc, no_kvm_is_a_clear_error);
    tcase_add_test(tc, host_driver_results_map);
    return tc;
}
