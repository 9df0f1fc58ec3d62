/*
 * test_main.c - the hwaccm suite on the real /dev/kvm. Without a usable
 * /dev/kvm all but the "no KVM" error test is skipped, counted and said so
 * (tests/lib/testskip.h: "SKIP: hwaccm (on KVM): ..."); CAPSULE_REQUIRE_KVM=1
 * makes that a failure. Shared helpers for a one-vCPU VM live here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <capsule/errorinfo.h>

#include "hwaccm_test.h"
#include "testskip.h"

struct tvm vm;

const char *take_message(void)
{
    static char buf[1024];
    struct cap_error_info info;
    buf[0] = '\0';
    if (cap_error_take(&info) == 0 && info.message)
        strncpy(buf, info.message, sizeof(buf) - 1);
    cap_error_info_clear(&info);
    return buf;
}

double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

void tvm_create(uint64_t ram)
{
    memset(&vm, 0, sizeof(vm));
    /* the host profile as a VM under hm gets it (narrowed to what the
     * hypervisor offers) */
    ck_assert_int_eq(hwaccm_policy_init(&vm.policy, 1, NULL), CAP_OK);
    cpum_cpu_init(&vm.cpu, &vm.policy, 0);
    ck_assert_int_eq(pgm_create(&vm.pgm), CAP_OK);
    if (ram)
        ck_assert_int_eq(pgm_map_ram(vm.pgm, 0, ram, "ram"), CAP_OK);
    cap_result rc = hwaccm_create(vm.pgm, &vm.policy, &vm.hm);
    ck_assert_msg(rc == CAP_OK, "hwaccm_create: %s: %s", vmm_result_name(rc), take_message());
}

void tvm_vcpu(void)
{
    cap_result rc = hwaccm_vcpu_create(vm.hm, &vm.cpu, &vm.vcpu);
    ck_assert_msg(rc == CAP_OK, "hwaccm_vcpu_create: %s", take_message());
}

void tvm_destroy(void)
{
    hwaccm_vcpu_destroy(vm.vcpu);
    hwaccm_destroy(vm.hm);
    pgm_destroy(vm.pgm);
}

void tvm_real_mode(uint16_t ip, const void *code, size_t len)
{
    ck_assert_int_eq(pgm_phys_write(vm.pgm, ip, code, len), CAP_OK);
    vm.cpu.ctx.seg[CPUM_CS].sel = 0;
    vm.cpu.ctx.seg[CPUM_CS].base = 0;
    vm.cpu.ctx.rip = ip;
    cpum_mark_dirty(&vm.cpu, CPUM_STATE_GPRS | CPUM_STATE_SREGS);
}

void tvm_run_expect(enum vmm_exit_reason reason)
{
    cap_result rc = hwaccm_vcpu_run(vm.vcpu, &vm.exit);
    ck_assert_msg(rc == CAP_OK, "run: %s", take_message());
    ck_assert_msg(vm.exit.reason == reason, "exit %s (code %u), expected %s at rip 0x%llx",
                  vmm_exit_name(vm.exit.reason), vm.exit.unknown.code, vmm_exit_name(reason),
                  (unsigned long long)vm.cpu.ctx.rip);
}

int main(void)
{
    /* The suite is the hm engine itself: without KVM only hwaccm's "no KVM"
     * error can be checked (rem has its own suite, check-rem). */
    int kvm = test_need_kvm("hwaccm (on KVM)");
    if (kvm < 0)
        return EXIT_FAILURE;
    Suite *s = suite_create("hwaccm");
    suite_add_tcase(s, tcase_nokvm());
    suite_add_tcase(s, tcase_cpuid_nokvm());
    if (kvm) {
        suite_add_tcase(s, tcase_basic());
        suite_add_tcase(s, tcase_longmode());
        suite_add_tcase(s, tcase_irq());
        suite_add_tcase(s, tcase_cpuid());
        char why[512];
        if (msr_routing_usable(why, sizeof(why)))
            suite_add_tcase(s, tcase_msr());
        else
            test_skip("hwaccm (MSRs under the CPU policy's rules)", why);
    }
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
