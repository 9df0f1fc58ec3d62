/*
 * test_irq.c - external interrupts without an in-kernel irqchip: the
 * interrupt-window request while the guest has IF clear, injection when it
 * is ready, the handler running, and the cost of one injected interrupt
 * round trip (HLT exit -> inject -> handler's OUT exit).
 */
#include <stdio.h>
#include <string.h>

#include "hwaccm_test.h"

static void teardown(void)
{
    tvm_destroy();
}

/* Runs until an I/O exit, injecting `vector` when the guest can take it. */
static int run_injecting(uint8_t vector, unsigned *windows)
{
    cap_bool pending = CAP_TRUE;
    for (int i = 0; i < 50; i++) {
        if (pending && hwaccm_vcpu_irq_ready(vm.vcpu)) {
            ck_assert_int_eq(hwaccm_vcpu_inject_irq(vm.vcpu, vector), CAP_OK);
            pending = CAP_FALSE;
        }
        hwaccm_vcpu_request_irq_window(vm.vcpu, pending);
        ck_assert_int_eq(hwaccm_vcpu_run(vm.vcpu, &vm.exit), CAP_OK);
        if (vm.exit.reason == VMM_EXIT_IRQ_WINDOW && windows)
            (*windows)++;
        if (vm.exit.reason == VMM_EXIT_IO)
            return i + 1;
        ck_assert_msg(vm.exit.reason == VMM_EXIT_IRQ_WINDOW || vm.exit.reason == VMM_EXIT_HLT,
                      "unexpected exit %s", vmm_exit_name(vm.exit.reason));
    }
    ck_abort_msg("the interrupt was never delivered");
    return 0;
}

static const uint8_t handler[] = {0xb0, 0x99, 0xe6, 0xf4, 0xcf};
static const uint16_t ivt_entry[2] = {0x2000, 0x0000};

/* Real mode, IF clear, the vector 0x20 handler "mov al,0x99; out 0xf4,al; iret". */
static void setup_guest(const uint8_t *main_code, size_t len)
{
    tvm_create(1 << 20);
    tvm_vcpu();
    ck_assert_int_eq(pgm_phys_write(vm.pgm, 0x20 * 4, ivt_entry, 4), CAP_OK);
    ck_assert_int_eq(pgm_phys_write(vm.pgm, 0x2000, handler, sizeof(handler)), CAP_OK);
    tvm_real_mode(0x1000, main_code, len);
}

START_TEST(inject_with_window)
{
    /* sti; 1: jmp 1b - the guest never halts, so only a window exit lets EM in. */
    static const uint8_t main_code[] = {0xfb, 0xeb, 0xfe};
    setup_guest(main_code, sizeof(main_code));
    /* IF is clear at first: not ready, so the first run must be a window request. */
    ck_assert(!hwaccm_vcpu_irq_ready(vm.vcpu));
    ck_assert_int_eq(hwaccm_vcpu_inject_irq(vm.vcpu, 0x20), VMM_E_BAD_STATE);
    ck_assert_ptr_nonnull(strstr(take_message(), "window"));
    unsigned windows = 0;
    run_injecting(0x20, &windows);
    ck_assert_uint_eq(vm.exit.io.port, 0xf4);
    ck_assert_uint_eq(vm.exit.io.data[0], 0x99);
    ck_assert_uint_ge(windows, 1);
    /* Back in the loop after IRET: a second interrupt goes the same way. */
    windows = 0;
    run_injecting(0x20, &windows);
    ck_assert_uint_ge(windows, 1);
}
END_TEST

START_TEST(inject_at_hlt_round_trip)
{
    enum { N = 1000 };
    /* sti; 1: hlt; jmp 1b - each interrupt wakes the guest from HLT. */
    static const uint8_t main_code[] = {0xfb, 0xf4, 0xeb, 0xfd};
    setup_guest(main_code, sizeof(main_code));
    run_injecting(0x20, NULL);
    ck_assert_uint_eq(vm.exit.io.data[0], 0x99);
    double t0 = now_us();
    for (int i = 0; i < N; i++)
        run_injecting(0x20, NULL);
    printf("hwaccm: injected interrupt round trip (HLT exit -> inject -> handler OUT): "
           "%.2f us (%d interrupts)\n", (now_us() - t0) / N, N);
}
END_TEST

TCase *tcase_irq(void)
{
    TCase *tc = tcase_create("irq");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, inject_with_window);
    tcase_add_test(tc, inject_at_hlt_round_trip);
    return tc;
}
