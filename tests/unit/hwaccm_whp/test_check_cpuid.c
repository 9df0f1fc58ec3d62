/*
 * test_check_cpuid.c - hwaccm_check_cpuid (vmm/hwaccm/hwaccm.c), the check
 * both hm backends make before they show a guest the policy's CPU, against
 * a pretend host: the vendor must be the profile's, every feature bit must
 * be there. No KVM, no WHP.
 */
#include <check.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "hwaccm_internal.h"

TCase *tcase_check_cpuid(void);

struct fake_host {
    const char *vendor;
    uint32_t leaf1_edx_clear, leaf7_ebx_clear;
};

static void fake(void *ctx, uint32_t leaf, uint32_t out[4])
{
    const struct fake_host *h = ctx;
    memset(out, 0xff, 16); /* every feature */
    if (leaf == 0)
        memcpy(&out[1], h->vendor, 4), memcpy(&out[3], h->vendor + 4, 4),
            memcpy(&out[2], h->vendor + 8, 4);
    if (leaf == 1)
        out[3] &= ~h->leaf1_edx_clear;
    if (leaf == 7)
        out[1] &= ~h->leaf7_ebx_clear;
    if (leaf == 0x80000008u)
        out[0] = 48;
}

START_TEST(vendor_must_match)
{
    struct cpum_policy intel, amd;
    ck_assert_int_eq(cpum_policy_init(&intel, 1, "intel-core"), CAP_OK);
    ck_assert_int_eq(cpum_policy_init(&amd, 1, "amd-epyc"), CAP_OK);
    struct fake_host hi = {.vendor = "GenuineIntel"}, ha = {.vendor = "AuthenticAMD"};
    ck_assert_int_eq(hwaccm_check_cpuid(&intel, fake, &hi), CAP_OK);
    ck_assert_int_eq(hwaccm_check_cpuid(&amd, fake, &ha), CAP_OK);
    ck_assert_int_eq(hwaccm_check_cpuid(&amd, fake, &hi), VMM_E_CPUID_UNSUPPORTED);
    const char *m = cap_error_peek_message();
    ck_assert_msg(strstr(m, "'amd-epyc'") && strstr(m, "GenuineIntel") && strstr(m, "--engine rem"),
                  "%s", m);
    ck_assert_int_eq(hwaccm_check_cpuid(&intel, fake, &ha), VMM_E_CPUID_UNSUPPORTED);
    /* A missing feature bit still refuses. */
    hi.leaf1_edx_clear = 1u << 26; /* SSE2 */
    ck_assert_int_eq(hwaccm_check_cpuid(&intel, fake, &hi), VMM_E_CPUID_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "0x04000000"));
    /* Leaf 7: SMAP (amd-epyc has it) missing refuses; TSC_ADJUST is the
     * hypervisor's and never refuses. */
    ha.leaf7_ebx_clear = 1u << 20;
    ck_assert_int_eq(hwaccm_check_cpuid(&amd, fake, &ha), VMM_E_CPUID_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "leaf 0x7 ebx bits 0x00100000"));
    ha.leaf7_ebx_clear = 1u << 1;
    ck_assert_int_eq(hwaccm_check_cpuid(&amd, fake, &ha), CAP_OK);
    /* The host profile narrowed to what the hypervisor offers passes. */
    struct cpum_policy host;
    ck_assert_int_eq(cpum_policy_init_opt(&host, 1, "amd-epyc", CPUM_OPT_ALL & ~CPUM_OPT_SMAP),
                     CAP_OK);
    ha.leaf7_ebx_clear = 1u << 20;
    ck_assert_int_eq(hwaccm_check_cpuid(&host, fake, &ha), CAP_OK);
}
END_TEST

TCase *tcase_check_cpuid(void)
{
    TCase *tc = tcase_create("check_cpuid");
    tcase_add_test(tc, vendor_must_match);
    return tc;
}
