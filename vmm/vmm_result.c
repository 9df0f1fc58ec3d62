/*
 * vmm_result.c - names for the VMM's result codes (vmm_result.h). Part of
 * libcapsule-vmm.so itself; the module archives are linked around it.
 */
#include "vmm_result.h"

#define NAME(code) {#code, code}

static const struct {
    const char *name;
    cap_result value;
} vmm_results[] = {
    NAME(VMM_E_RANGE_OVERLAP), NAME(VMM_E_RANGE_NOT_FOUND), NAME(VMM_E_NO_KVM),
    NAME(VMM_E_KVM_API),       NAME(VMM_E_HOSTDRV),         NAME(VMM_E_CPUID_UNSUPPORTED),
    NAME(VMM_E_BAD_STATE),     NAME(VMM_E_UNASSIGNED), NAME(VMM_E_ENGINE_UNAVAILABLE),      NAME(VMM_XCPT_GP),
    NAME(VMM_XCPT_PF),
    NAME(VMM_E_LOADER_BAD_IMAGE), NAME(VMM_E_LOADER_NO_ROOM),
};

const char *vmm_result_name(cap_result rc)
{
    for (size_t i = 0; i < sizeof(vmm_results) / sizeof(vmm_results[0]); i++)
        if (vmm_results[i].value == rc)
            return vmm_results[i].name;
    return cap_result_name(rc);
}
