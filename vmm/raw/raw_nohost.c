/*
 * raw_nohost.c - the raw engine on a host without a native user context it
 * knows (every host but Linux KVM for now; the Windows cross-build): the
 * contract of raw.h with creation failing as "not on this host". Chosen by
 * file name in vmm/SConscript's Windows list; the Linux build takes
 * raw_kvm*.c instead.
 */
#include <capsule/errorinfo.h>

#include <string.h>

#include "raw.h"

cap_result raw_create(struct pgm *pgm, const struct cpum_policy *policy, struct raw **out)
{
    (void)pgm, (void)policy;
    *out = NULL;
    return cap_error_set(VMM_E_ENGINE_UNAVAILABLE, VMM_COMPONENT, NULL,
                         "raw: not on this host (the raw engine needs Linux KVM for now)");
}

void raw_destroy(struct raw *raw)
{
    (void)raw;
}

cap_result raw_vcpu_create(struct raw *raw, struct cpum_cpu *cpu, struct raw_vcpu **out)
{
    (void)raw, (void)cpu;
    *out = NULL;
    return cap_error_set(VMM_E_ENGINE_UNAVAILABLE, VMM_COMPONENT, NULL, "raw: not on this host");
}

void raw_vcpu_destroy(struct raw_vcpu *v)
{
    (void)v;
}

cap_result raw_vcpu_run(struct raw_vcpu *v, uint64_t invalidations, struct raw_event *ev)
{
    (void)v, (void)invalidations, (void)ev;
    return cap_error_set(VMM_E_BAD_STATE, VMM_COMPONENT, NULL, "raw: not on this host");
}

cap_result raw_vcpu_set_tsc(struct raw_vcpu *v, uint64_t tsc)
{
    (void)v, (void)tsc;
    return cap_error_set(VMM_E_BAD_STATE, VMM_COMPONENT, NULL, "raw: not on this host");
}

void raw_vcpu_costs(const struct raw_vcpu *v, struct raw_costs *out)
{
    (void)v;
    memset(out, 0, sizeof(*out));
}

uint64_t raw_vcpu_tsc_hz(const struct raw_vcpu *v)
{
    (void)v;
    return 0;
}

void raw_vcpu_kick(struct raw_vcpu *v)
{
    (void)v;
}
void raw_vcpu_clear_kick(struct raw_vcpu *v)
{
    (void)v;
}
void raw_vcpu_account_rem(struct raw_vcpu *v, uint64_t ns)
{
    (void)v, (void)ns;
}

cap_result raw_vcpu_register_stats(struct raw_vcpu *v, struct stam *st)
{
    (void)v, (void)st;
    return CAP_OK;
}
