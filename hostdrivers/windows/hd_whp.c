/*
 * hd_whp.c - the thin Windows Hypervisor Platform layer (hd_whp.h):
 * partition and virtual-processor handles, WHv* calls, HRESULT to
 * cap_result. Nothing here knows Capsule's CPU context.
 *
 * Compile-only: cross-built with mingw-w64 and never run (README.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "hd_whp.h"

static cap_result fail_hr(const char *what, HRESULT hr)
{
    return cap_error_set(HD_E_CALL, HD_COMPONENT, NULL, "whp: %s failed: HRESULT 0x%08lx", what,
                         (unsigned long)hr);
}

/* WinHvPlatform.dll exists only where the optional feature is installed;
 * a program linked against its import library does not load without it
 * (delay-loading it, so that this function can say so, is future work:
 * README.md). With the DLL present, the hypervisor may still be off. */
cap_bool hd_whp_present(char *why, size_t len)
{
    WINBOOL present = FALSE;
    UINT32 written = 0;
    HRESULT hr = WHvGetCapability(WHvCapabilityCodeHypervisorPresent, &present, sizeof(present),
                                  &written);
    if (why && len) {
        if (FAILED(hr))
            snprintf(why, len, "WHvGetCapability failed (HRESULT 0x%08lx)", (unsigned long)hr);
        else
            snprintf(why, len, "%s", present ? "Windows Hypervisor Platform present"
                                             : "Windows Hypervisor Platform not enabled "
                                               "(turn on the 'Windows Hypervisor Platform' feature)");
    }
    return SUCCEEDED(hr) && present;
}

static cap_result check_host(struct hd_whp *whp)
{
    char why[160];
    if (!hd_whp_present(why, sizeof(why)))
        return cap_error_set(HD_E_NO_HYPERVISOR, HD_COMPONENT, NULL, "whp: %s", why);
    UINT32 written = 0;
    HRESULT hr = WHvGetCapability(WHvCapabilityCodeFeatures, &whp->features,
                                  sizeof(whp->features), &written);
    if (FAILED(hr))
        return fail_hr("WHvGetCapability(Features)", hr);
    WHV_EXTENDED_VM_EXITS exits = {.AsUINT64 = 0};
    hr = WHvGetCapability(WHvCapabilityCodeExtendedVmExits, &exits, sizeof(exits), &written);
    if (FAILED(hr))
        return fail_hr("WHvGetCapability(ExtendedVmExits)", hr);
    if (!exits.X64CpuidExit || !exits.X64MsrExit)
        return cap_error_set(HD_E_API, HD_COMPONENT, NULL,
                             "whp: the hypervisor lacks CPUID/MSR exits (Windows 10 2004 or "
                             "later needed)");
    return CAP_OK;
}

static cap_result set_prop(struct hd_whp *whp, WHV_PARTITION_PROPERTY_CODE code,
                           const void *buf, UINT32 size, const char *what)
{
    HRESULT hr = WHvSetPartitionProperty(whp->part, code, buf, size);
    return FAILED(hr) ? fail_hr(what, hr) : CAP_OK;
}

static cap_result configure(struct hd_whp *whp)
{
    WHV_PARTITION_PROPERTY p;
    memset(&p, 0, sizeof(p));
    p.ProcessorCount = whp->ncpus;
    cap_result rc = set_prop(whp, WHvPartitionPropertyCodeProcessorCount, &p,
                             sizeof(p.ProcessorCount), "WHvSetPartitionProperty(ProcessorCount)");
    if (CAP_FAILED(rc))
        return rc;
    memset(&p, 0, sizeof(p));
    p.ExtendedVmExits.X64CpuidExit = 1; /* every CPUID: the policy answers, per vCPU */
    p.ExtendedVmExits.X64MsrExit = 1;
    rc = set_prop(whp, WHvPartitionPropertyCodeExtendedVmExits, &p, sizeof(p.ExtendedVmExits),
                  "WHvSetPartitionProperty(ExtendedVmExits)");
    if (CAP_FAILED(rc))
        return rc;
    whp->exits = p.ExtendedVmExits;
    memset(&p, 0, sizeof(p));
    p.X64MsrExitBitmap.UnhandledMsrs = 1;     /* CPUM emulates what WHP does not */
    p.X64MsrExitBitmap.MiscEnableMsrRead = 1; /* IA32_MISC_ENABLE is CPUM's */
    rc = set_prop(whp, WHvPartitionPropertyCodeX64MsrExitBitmap, &p, sizeof(p.X64MsrExitBitmap),
                  "WHvSetPartitionProperty(X64MsrExitBitmap)");
    if (CAP_FAILED(rc))
        return rc;
    HRESULT hr = WHvSetupPartition(whp->part);
    if (FAILED(hr))
        return fail_hr("WHvSetupPartition", hr);
    whp->setup = CAP_TRUE;
    return CAP_OK;
}

cap_result hd_whp_open(unsigned ncpus, struct hd_whp **out)
{
    *out = NULL;
    struct hd_whp *whp = calloc(1, sizeof(*whp));
    if (!whp)
        return cap_error_set(CAP_E_OUTOFMEMORY, HD_COMPONENT, NULL, "whp: out of memory");
    whp->ncpus = ncpus;
    cap_result rc = check_host(whp);
    if (CAP_FAILED(rc))
        goto fail;
    HRESULT hr = WHvCreatePartition(&whp->part);
    if (FAILED(hr)) {
        whp->part = NULL;
        rc = fail_hr("WHvCreatePartition", hr);
        goto fail;
    }
    rc = configure(whp);
    if (CAP_FAILED(rc))
        goto fail;
    *out = whp;
    return CAP_OK;
fail:
    hd_whp_close(whp);
    return rc;
}

void hd_whp_close(struct hd_whp *whp)
{
    if (!whp)
        return;
    if (whp->part)
        WHvDeletePartition(whp->part);
    free(whp);
}

cap_result hd_whp_map(struct hd_whp *whp, uint64_t gpa, uint64_t size, void *hva,
                      cap_bool readonly)
{
    WHV_MAP_GPA_RANGE_FLAGS flags = WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagExecute;
    if (!readonly)
        flags |= WHvMapGpaRangeFlagWrite;
    HRESULT hr = WHvMapGpaRange(whp->part, hva, gpa, size, flags);
    if (FAILED(hr))
        return cap_error_set(HD_E_CALL, HD_COMPONENT, NULL,
                             "whp: WHvMapGpaRange(0x%llx, 0x%llx bytes) failed: HRESULT 0x%08lx",
                             (unsigned long long)gpa, (unsigned long long)size, (unsigned long)hr);
    return CAP_OK;
}

cap_result hd_whp_unmap(struct hd_whp *whp, uint64_t gpa, uint64_t size)
{
    HRESULT hr = WHvUnmapGpaRange(whp->part, gpa, size);
    return FAILED(hr) ? fail_hr("WHvUnmapGpaRange", hr) : CAP_OK;
}

cap_result hd_whp_vcpu_create(struct hd_whp *whp, unsigned id, struct hd_whp_vcpu **out)
{
    *out = NULL;
    if (!whp->setup || id >= whp->ncpus)
        return cap_error_set(CAP_E_INVALIDARG, HD_COMPONENT, NULL,
                             "whp: no virtual processor %u in this partition", id);
    struct hd_whp_vcpu *v = calloc(1, sizeof(*v));
    if (!v)
        return cap_error_set(CAP_E_OUTOFMEMORY, HD_COMPONENT, NULL, "whp: out of memory");
    HRESULT hr = WHvCreateVirtualProcessor(whp->part, id, 0);
    if (FAILED(hr)) {
        free(v);
        return fail_hr("WHvCreateVirtualProcessor", hr);
    }
    v->vm = whp;
    v->id = id;
    *out = v;
    return CAP_OK;
}

void hd_whp_vcpu_destroy(struct hd_whp_vcpu *v)
{
    if (!v)
        return;
    WHvDeleteVirtualProcessor(v->vm->part, v->id);
    free(v);
}

cap_result hd_whp_get_regs(struct hd_whp_vcpu *v, const WHV_REGISTER_NAME *names, unsigned n,
                           WHV_REGISTER_VALUE *values)
{
    HRESULT hr = WHvGetVirtualProcessorRegisters(v->vm->part, v->id, names, n, values);
    return FAILED(hr) ? fail_hr("WHvGetVirtualProcessorRegisters", hr) : CAP_OK;
}

cap_result hd_whp_set_regs(struct hd_whp_vcpu *v, const WHV_REGISTER_NAME *names, unsigned n,
                           const WHV_REGISTER_VALUE *values)
{
    HRESULT hr = WHvSetVirtualProcessorRegisters(v->vm->part, v->id, names, n, values);
    return FAILED(hr) ? fail_hr("WHvSetVirtualProcessorRegisters", hr) : CAP_OK;
}

static cap_result set_pending(struct hd_whp_vcpu *v, WHV_X64_PENDING_INTERRUPTION_REGISTER pi)
{
    static const WHV_REGISTER_NAME name = WHvRegisterPendingInterruption;
    WHV_REGISTER_VALUE val;
    memset(&val, 0, sizeof(val));
    val.PendingInterruption = pi;
    return hd_whp_set_regs(v, &name, 1, &val);
}

cap_result hd_whp_inject_interrupt(struct hd_whp_vcpu *v, uint8_t vector)
{
    WHV_X64_PENDING_INTERRUPTION_REGISTER pi = {.AsUINT64 = 0};
    pi.InterruptionPending = 1;
    pi.InterruptionType = WHvX64PendingInterrupt;
    pi.InterruptionVector = vector;
    return set_pending(v, pi);
}

cap_result hd_whp_inject_exception(struct hd_whp_vcpu *v, uint8_t vector, cap_bool has_error,
                                   uint32_t error_code)
{
    WHV_X64_PENDING_INTERRUPTION_REGISTER pi = {.AsUINT64 = 0};
    pi.InterruptionPending = 1;
    pi.InterruptionType = WHvX64PendingException;
    pi.InterruptionVector = vector;
    pi.DeliverErrorCode = has_error ? 1 : 0;
    pi.ErrorCode = error_code;
    return set_pending(v, pi);
}

cap_result hd_whp_inject_nmi(struct hd_whp_vcpu *v)
{
    WHV_X64_PENDING_INTERRUPTION_REGISTER pi = {.AsUINT64 = 0};
    pi.InterruptionPending = 1;
    pi.InterruptionType = WHvX64PendingNmi;
    pi.InterruptionVector = 2;
    return set_pending(v, pi);
}

cap_result hd_whp_interrupt_notification(struct hd_whp_vcpu *v, cap_bool on, cap_bool nmi)
{
    static const WHV_REGISTER_NAME name = WHvX64RegisterDeliverabilityNotifications;
    WHV_REGISTER_VALUE val;
    memset(&val, 0, sizeof(val));
    val.DeliverabilityNotifications.InterruptNotification = on ? 1 : 0;
    val.DeliverabilityNotifications.NmiNotification = nmi ? 1 : 0;
    return hd_whp_set_regs(v, &name, 1, &val);
}

cap_result hd_whp_run(struct hd_whp_vcpu *v, WHV_RUN_VP_EXIT_CONTEXT *exit)
{
    HRESULT hr = WHvRunVirtualProcessor(v->vm->part, v->id, exit, sizeof(*exit));
    return FAILED(hr) ? fail_hr("WHvRunVirtualProcessor", hr) : CAP_OK;
}

void hd_whp_cancel(struct hd_whp_vcpu *v)
{
    (void)WHvCancelRunVirtualProcessor(v->vm->part, v->id, 0);
}
