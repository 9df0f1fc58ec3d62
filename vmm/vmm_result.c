/*
 * vmm_result.c - names for the VMM's result codes and the mapping of the
 * host drivers' codes to them (vmm_result.h). Part of libcapsule-vmm.so
 * itself; the module archives are linked around it.
 */
#include <capsule/errorinfo.h>

#include "hd_result.h"
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

cap_result vmm_result_from_hd(cap_result rc)
{
    static const cap_result map[][2] = {
        {HD_E_NO_HYPERVISOR, VMM_E_NO_KVM},
        {HD_E_API, VMM_E_KVM_API},
        {HD_E_CALL, VMM_E_HOSTDRV},
    };
    if (CAP_SUCCEEDED(rc))
        return rc;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (map[i][0] != rc)
            continue;
        struct cap_error_info info;
        if (cap_error_take(&info) == CAP_OK) {
            struct cap_error_info as_vmm = info; /* copied by set_info */
            if (info.result == rc) {
                as_vmm.result = map[i][1];
                as_vmm.component = (char *)VMM_COMPONENT;
            }
            cap_error_set_info(&as_vmm);
            cap_error_info_clear(&info);
        }
        return map[i][1];
    }
    return rc;
}
