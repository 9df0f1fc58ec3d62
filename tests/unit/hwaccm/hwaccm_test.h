/* hwaccm_test.h - a one-vCPU VM for the hwaccm tests. */
#ifndef HWACCM_TEST_H
#define HWACCM_TEST_H

#include <check.h>

#include "hwaccm/hwaccm.h"

struct tvm {
    struct cpum_policy policy;
    struct cpum_cpu cpu;
    struct pgm *pgm;
    struct hwaccm *hm;
    struct hwaccm_vcpu *vcpu;
    struct vmm_exit exit;
};

extern struct tvm vm;

/* Creates vm with `ram` bytes of RAM at 0 (and no vCPU until tvm_vcpu()). */
void tvm_create(uint64_t ram);
void tvm_vcpu(void);
void tvm_destroy(void);
/* Real mode at 0000:ip with code copied to guest address ip. */
void tvm_real_mode(uint16_t ip, const void *code, size_t len);
/* Flat 32-bit protected mode, CPL0, paging off, at eip. */
void tvm_flat32(uint32_t eip);
/* Identity-maps the first 2 MiB (tables at 0x10000-0x13fff) with a user,
 * writable 2 MiB page and puts the vCPU in 64-bit mode at CPL3 at rip,
 * with IOPL 3 (so OUT exits directly). */
void tvm_long_mode_user(uint64_t rip);
/* Runs once and checks the exit reason. */
void tvm_run_expect(enum vmm_exit_reason reason);
double now_us(void);
const char *take_message(void);

TCase *tcase_basic(void);
TCase *tcase_longmode(void);
TCase *tcase_irq(void);
TCase *tcase_cpuid(void);
TCase *tcase_msr(void);
/* Whether this host's hypervisor leaves the policy's MSRs to CPUM
 * (hwaccm_msr_note says nothing); else 0 with the note in why. Call
 * before the Check runner forks. */
int msr_routing_usable(char *why, size_t n);
TCase *tcase_nokvm(void); /* needs no KVM */
TCase *tcase_cpuid_nokvm(void); /* needs no KVM */

#endif
