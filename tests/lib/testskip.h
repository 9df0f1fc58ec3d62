/*
 * tests/lib/testskip.h - the skip policy of tests/lib/skip.sh for the C
 * test programs: a part that truly needs something the host may lack (today
 * /dev/kvm, for the hm engine) runs where it is there; where it is not, the
 * part prints "SKIP: TEST: REASON", appends "TEST: REASON" to
 * $CAPSULE_SKIPS (BUILD/logs/skips.txt under `scons check`, summed up
 * at the end of the run), and the rest of the program still runs and
 * asserts. CAPSULE_SKIP_KVM=1 forces the skip; CAPSULE_REQUIRE_KVM=1 turns a
 * missing KVM into a failure; CAPSULE_KVM_DEVICE names the device to try
 * (as hostdrivers/linux/hd_kvm.c reads it).
 *
 * Compiled into each test program that uses it (tests/lib/testskip.c).
 * Single-threaded use from main(), before the Check runner forks.
 */
#ifndef CAPSULE_TESTS_TESTSKIP_H
#define CAPSULE_TESTS_TESTSKIP_H

#include <stddef.h>

/* Prints "SKIP: TEST: REASON" on stdout and records it (one O_APPEND
 * write, so parallel tests do not interleave their lines). */
void test_skip(const char *test, const char *reason);

/* 1 if KVM can be used: CAPSULE_SKIP_KVM is unset (or 0) and the device
 * opens read-write. Otherwise 0, with the reason in why (n bytes). */
int test_kvm_usable(char *why, size_t n);

/* Whether the part named test may use KVM: 1 yes; 0 no, the skip is
 * printed and recorded; -1 no, and CAPSULE_REQUIRE_KVM=1 says this machine
 * must have it (a FAIL line went to stderr: the caller fails). */
int test_need_kvm(const char *test);

/* 1 if the host CPU has VT-x or AMD-V (a vmx or svm flag in /proc/cpuinfo):
 * KVM then runs guest kernel code on the CPU. 0 on this project's PVM
 * hosts, where KVM emulates it - and where its emulator's limits show. */
int test_host_hw_virt(void);

#endif
