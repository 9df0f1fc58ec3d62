/*
 * test_cpuid.c - hwaccm_cpuid_faithful, the probe of whether the guest's
 * CPUID returns the policy's. Its answer is the host's (KVM's PVM backend
 * says no, VT-x/AMD-V and WHP yes), so the tests check that it holds
 * together, not what it is: the answer and its line are the same on every
 * call, and a guest of this suite's own - another profile than the probe's,
 * with another signature where the host's vendor has a fixed profile -
 * sees its policy's CPUID exactly when the probe said so. Without a
 * hypervisor the probe says it could not run and answers yes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hwaccm_test.h"

#define CODE 0x20000u

/* The registers the probe compares, and the bits KVM keeps in step with
 * the guest's state (hwaccm.h: hwaccm_cpuid_faithful). */
static const struct {
    uint32_t leaf;
    unsigned reg;
    uint32_t dynamic;
} regs[] = {
    {1, 0, 0},           {1, 2, (1u << 27) | (1u << 3)},
    {1, 3, 1u << 9},     {7, 1, 0},
    {7, 2, 1u << 4},     {0x80000001u, 2, 0},
    {0x80000001u, 3, 0},
};

/* The first fixed profile of the host's vendor ("host" where there is none). */
static const char *other_profile(void)
{
    for (unsigned i = 1; i < cpum_profile_count(); i++)
        if (cpum_profile_at(i)->vendor == cpum_host_vendor())
            return cpum_profile_at(i)->name;
    return "host";
}

/* CPUID `leaf`.0 as the 64-bit CPL3 guest sees it. */
static void guest_cpuid(uint32_t leaf, uint32_t out[4])
{
    /* cpuid; out 0x80, al; hlt */
    static const uint8_t code[] = {0x0f, 0xa2, 0xe6, 0x80, 0xf4};
    ck_assert_int_eq(pgm_phys_write(vm.pgm, CODE, code, sizeof(code)), CAP_OK);
    tvm_long_mode_user(CODE);
    vm.cpu.ctx.gpr[CPUM_RAX] = leaf;
    vm.cpu.ctx.gpr[CPUM_RCX] = 0;
    tvm_run_expect(VMM_EXIT_IO);
    ck_assert_uint_eq(vm.exit.io.port, 0x80);
    out[0] = (uint32_t)vm.cpu.ctx.gpr[CPUM_RAX], out[1] = (uint32_t)vm.cpu.ctx.gpr[CPUM_RBX];
    out[2] = (uint32_t)vm.cpu.ctx.gpr[CPUM_RCX], out[3] = (uint32_t)vm.cpu.ctx.gpr[CPUM_RDX];
}

START_TEST(answer_is_kept)
{
    char why1[600], why2[600];
    cap_bool a = hwaccm_cpuid_faithful(why1, sizeof(why1));
    cap_bool b = hwaccm_cpuid_faithful(why2, sizeof(why2));
    ck_assert_int_eq(a, b);
    ck_assert_str_eq(why1, why2);
    ck_assert_msg(strncmp(why1, "not probed", 10) != 0, "KVM is usable, yet: %s", why1);
    if (a)
        ck_assert_msg(strstr(why1, "are the policy's at CPL3"), "%s", why1);
    else
        ck_assert_msg(strstr(why1, "leaf ") && strstr(why1, " (policy: 0x"), "%s", why1);
    printf("hwaccm: the guest's CPUID %s the policy's: %s\n", a ? "is" : "is NOT", why1);
}
END_TEST

START_TEST(guest_agrees_with_the_probe)
{
    const char *name = other_profile();
    char why[600], seen[600] = "";
    cap_bool faithful = hwaccm_cpuid_faithful(why, sizeof(why));
    memset(&vm, 0, sizeof(vm));
    ck_assert_int_eq(cpum_policy_init_opt(&vm.policy, 1, name, hwaccm_host_optional()), CAP_OK);
    cpum_cpu_init(&vm.cpu, &vm.policy, 0);
    ck_assert_int_eq(pgm_create(&vm.pgm), CAP_OK);
    ck_assert_int_eq(pgm_map_ram(vm.pgm, 0, 2u << 20, "ram"), CAP_OK);
    cap_result rc = hwaccm_create(vm.pgm, &vm.policy, &vm.hm);
    ck_assert_msg(rc == CAP_OK, "hwaccm_create: %s", take_message());
    tvm_vcpu();
    unsigned differ = 0;
    for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
        uint32_t got[4], want[4];
        guest_cpuid(regs[i].leaf, got);
        cpum_cpuid(&vm.policy, 0, regs[i].leaf, 0, want);
        uint32_t g = got[regs[i].reg] & ~regs[i].dynamic, w = want[regs[i].reg] & ~regs[i].dynamic;
        if (g != w) {
            size_t at = strlen(seen);
            snprintf(seen + at, sizeof(seen) - at, " leaf %x reg %u 0x%08x (policy 0x%08x)",
                     regs[i].leaf, regs[i].reg, g, w);
            differ++;
        }
    }
    if (faithful)
        ck_assert_msg(!differ,
                      "the probe says the guest sees the policy's CPUID (%s), a guest "
                      "under profile '%s' sees:%s",
                      why, name, seen);
    else
        ck_assert_msg(differ,
                      "the probe says the guest does not see the policy's CPUID (%s), a "
                      "guest under profile '%s' does",
                      why, name);
}
END_TEST

/* hwaccm_cpuid_faithful in a child process with CAPSULE_KVM_DEVICE set to
 * `device`: the answer is kept for the process, so it must be a new one. */
static cap_bool faithful_in_child(const char *device, char *why, size_t len)
{
    int fd[2];
    ck_assert_int_eq(pipe(fd), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char buf[600];
        close(fd[0]);
        setenv("CAPSULE_KVM_DEVICE", device, 1);
        buf[0] = hwaccm_cpuid_faithful(buf + 1, sizeof(buf) - 1) ? 'y' : 'n';
        size_t n = strlen(buf);
        _exit(write(fd[1], buf, n) == (ssize_t)n ? 0 : 1);
    }
    close(fd[1]);
    char buf[600] = "";
    size_t got = 0;
    ssize_t n;
    while (got + 1 < sizeof(buf) && (n = read(fd[0], buf + got, sizeof(buf) - 1 - got)) > 0)
        got += (size_t)n;
    close(fd[0]);
    int status = -1;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0 && got > 0, "the child failed");
    snprintf(why, len, "%s", buf + 1);
    return buf[0] == 'y';
}

START_TEST(no_hypervisor_is_not_probed)
{
    char why[600];
    cap_bool faithful = faithful_in_child("/nonexistent/kvm", why, sizeof(why));
    ck_assert_msg(faithful, "answered no without a hypervisor: %s", why);
    ck_assert_msg(!strncmp(why, "not probed: ", 12) && strstr(why, "/nonexistent/kvm"), "%s", why);
}
END_TEST

TCase *tcase_cpuid(void)
{
    TCase *tc = tcase_create("cpuid");
    tcase_add_test(tc, answer_is_kept);
    tcase_add_checked_fixture(tc, NULL, tvm_destroy);
    tcase_add_test(tc, guest_agrees_with_the_probe);
    return tc;
}

TCase *tcase_cpuid_nokvm(void)
{
    TCase *tc = tcase_create("cpuid_nokvm");
    tcase_add_test(tc, no_hypervisor_is_not_probed);
    return tc;
}
