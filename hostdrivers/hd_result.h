/*
 * hostdrivers/hd_result.h - result codes of the host-driver layer (range
 * 0x8004_00xx).
 *
 * The host drivers (hostdrivers/linux over /dev/kvm, hostdrivers/windows
 * over the Windows Hypervisor Platform, hostmem_* everywhere) sit under the
 * VMM and know nothing of it: they return these codes or the generic ones
 * of capsule/result.h (CAP_E_OUTOFMEMORY, CAP_E_INVALIDARG), and set the
 * thread's error info with component HD_COMPONENT and a message naming the
 * host call that failed ("kvm: KVM_RUN failed: ...").
 *
 * The VMM maps these to its own codes where a host-driver result leaves it
 * (vmm_result_from_hd() in vmm/vmm_result.h: HD_E_NO_HYPERVISOR becomes
 * VMM_E_NO_KVM, HD_E_API VMM_E_KVM_API, HD_E_CALL VMM_E_HOSTDRV), so no
 * caller of the VMM ever sees a code of this range.
 */
#ifndef HOSTDRIVERS_HD_RESULT_H
#define HOSTDRIVERS_HD_RESULT_H

#include <capsule/result.h>

/* The host's hypervisor interface is missing or not accessible (no
 * /dev/kvm or no permission; WHP not enabled or no VT-x/AMD-V). */
#define HD_E_NO_HYPERVISOR ((cap_result)0x80040001)
/* It is there but too old: a wrong API version or a missing capability. */
#define HD_E_API ((cap_result)0x80040002)
/* A call into it failed (errno or HRESULT in the message). */
#define HD_E_CALL ((cap_result)0x80040003)

/* Component name in the error info the host drivers set. */
#define HD_COMPONENT "hostdrv"

#endif /* HOSTDRIVERS_HD_RESULT_H */
