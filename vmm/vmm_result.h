/*
 * vmm/vmm_result.h - result codes of the VMM library (range 0x8003_00xx).
 *
 * Every VMM module (CPUM, PGM, IOM, TM, PDM, EM, HWACCM, REM, the loader)
 * returns these codes, or the generic ones of capsule/result.h. The
 * host-driver layer under the VMM has its own range (hostdrivers/
 * hd_result.h); the engines map its codes to these where a host-driver
 * result leaves them (vmm_result_from_hd), so callers see only this range.
 * A failure that a person will read also sets the thread's error info
 * (capsule/errorinfo.h) with component "vmm" and a message naming what
 * failed and where.
 *
 * Two kinds of codes live here:
 *   - VMM_E_*: real failures (bad arguments, host driver errors, ...).
 *   - VMM_XCPT_*: "the guest must get this exception" - the result of an
 *     emulated operation (an MSR access, a page walk) that the architecture
 *     answers with a fault. They are negative so that a caller that ignores
 *     them still notices something went wrong, but they never set error info
 *     (a guest faulting is not an error of the VMM) and carry their details
 *     (error code, faulting address) in the operation's output struct.
 */
#ifndef VMM_VMM_RESULT_H
#define VMM_VMM_RESULT_H

#include <capsule/result.h>

#define VMM_E_RANGE_OVERLAP   ((cap_result)0x80030001) /* PGM: new range overlaps one already mapped */
#define VMM_E_RANGE_NOT_FOUND ((cap_result)0x80030002) /* PGM: no range at that address */
#define VMM_E_NO_KVM          ((cap_result)0x80030003) /* /dev/kvm missing or not accessible */
#define VMM_E_KVM_API         ((cap_result)0x80030004) /* KVM API version or capability missing */
#define VMM_E_HOSTDRV         ((cap_result)0x80030005) /* a host-driver call failed (errno in the message) */
#define VMM_E_CPUID_UNSUPPORTED ((cap_result)0x80030006) /* policy asks for a feature the engine lacks */
#define VMM_E_BAD_STATE       ((cap_result)0x80030007) /* call not valid in the object's current state */
#define VMM_E_UNASSIGNED      ((cap_result)0x80030008) /* no RAM/ROM/MMIO at a guest-physical address */
#define VMM_E_ENGINE_UNAVAILABLE ((cap_result)0x80030020) /* EM: engine not written yet (raw) */
#define VMM_E_LOADER_BAD_IMAGE ((cap_result)0x80030030) /* loader: malformed/unsupported boot image */
#define VMM_E_LOADER_NO_ROOM   ((cap_result)0x80030031) /* loader: image/initrd does not fit guest RAM */

#define VMM_XCPT_GP ((cap_result)0x80030081) /* guest gets #GP(0) */
#define VMM_XCPT_PF ((cap_result)0x80030082) /* guest gets #PF; error code + CR2 in the output */

/* Symbolic name of a code of this range ("VMM_E_RANGE_OVERLAP"), else of
 * cap_result_name(). Static string, thread-safe. */
const char *vmm_result_name(cap_result rc) __attribute__((visibility("default")));

/*
 * A host-driver result as the VMM's own: HD_E_NO_HYPERVISOR becomes
 * VMM_E_NO_KVM, HD_E_API VMM_E_KVM_API, HD_E_CALL VMM_E_HOSTDRV; any other
 * code is returned unchanged. When the thread's error info carries the
 * host-driver code, it gets the new code and component VMM_COMPONENT (the
 * message stays). Any thread; cheap on success.
 */
cap_result vmm_result_from_hd(cap_result rc) __attribute__((visibility("default")));

/* Component name used in error info by all VMM modules. */
#define VMM_COMPONENT "vmm"

#endif /* VMM_VMM_RESULT_H */
