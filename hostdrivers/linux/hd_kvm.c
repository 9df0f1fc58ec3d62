/*
 * hd_kvm.c - the thin /dev/kvm layer (hd_kvm.h): file descriptors, ioctls,
 * errno to cap_result. Nothing here knows Capsule's CPU context.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <capsule/errorinfo.h>

#include "hd_kvm.h"

static cap_result fail_errno(const char *what)
{
    int err = errno;
    return cap_error_set(HD_E_CALL, HD_COMPONENT, NULL, "kvm: %s failed: %s", what, strerror(err));
}

static cap_result need_cap(struct hd_kvm *kvm, int cap, const char *name)
{
    if (ioctl(kvm->kvm_fd, KVM_CHECK_EXTENSION, cap) <= 0)
        return cap_error_set(HD_E_API, HD_COMPONENT, NULL,
                             "kvm: the host's KVM lacks capability %s", name);
    return CAP_OK;
}

static cap_result open_device(struct hd_kvm *kvm)
{
    const char *path = getenv("CAPSULE_KVM_DEVICE");
    if (!path || !*path)
        path = "/dev/kvm";
    kvm->kvm_fd = open(path, O_RDWR | O_CLOEXEC);
    if (kvm->kvm_fd < 0) {
        int err = errno;
        return cap_error_set(HD_E_NO_HYPERVISOR, HD_COMPONENT, NULL, "kvm: cannot open %s: %s%s",
                             path, strerror(err),
                             err == ENOENT   ? " (no KVM on this host: is the kvm module loaded?)"
                             : err == EACCES ? " (add the user to the kvm group)"
                                             : "");
    }
    int ver = ioctl(kvm->kvm_fd, KVM_GET_API_VERSION, 0);
    if (ver != KVM_API_VERSION)
        return cap_error_set(HD_E_API, HD_COMPONENT, NULL,
                             "kvm: %s speaks API version %d, Capsule needs %d", path, ver,
                             KVM_API_VERSION);
    return CAP_OK;
}

cap_result hd_kvm_open(struct hd_kvm **out)
{
    *out = NULL;
    struct hd_kvm *kvm = calloc(1, sizeof(*kvm));
    if (!kvm)
        return cap_error_set(CAP_E_OUTOFMEMORY, HD_COMPONENT, NULL, "kvm: out of memory");
    kvm->kvm_fd = kvm->vm_fd = -1;
    cap_result rc = open_device(kvm);
    if (CAP_SUCCEEDED(rc))
        rc = need_cap(kvm, KVM_CAP_USER_MEMORY, "USER_MEMORY");
    if (CAP_SUCCEEDED(rc))
        rc = need_cap(kvm, KVM_CAP_SET_TSS_ADDR, "SET_TSS_ADDR");
    if (CAP_SUCCEEDED(rc))
        rc = need_cap(kvm, KVM_CAP_EXT_CPUID, "EXT_CPUID");
    if (CAP_FAILED(rc))
        goto fail;
    kvm->run_size = ioctl(kvm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (kvm->run_size < (int)sizeof(struct kvm_run)) {
        rc = fail_errno("KVM_GET_VCPU_MMAP_SIZE");
        goto fail;
    }
    kvm->vm_fd = ioctl(kvm->kvm_fd, KVM_CREATE_VM, 0);
    if (kvm->vm_fd < 0) {
        rc = fail_errno("KVM_CREATE_VM");
        goto fail;
    }
    int n = ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
    kvm->max_slots = n > 0 ? (unsigned)n : 32;
    int sync = ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
    kvm->sync_regs = sync > 0 && (sync & (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)) ==
                                     (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS);
    kvm->xsave = ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0;
    kvm->immediate_exit = ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) > 0;
    kvm->msr_filter = ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_USER_SPACE_MSR) > 0 &&
                      ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_MSR_FILTER) > 0;
    if (ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_EXIT_ON_EMULATION_FAILURE) > 0) {
        struct kvm_enable_cap cap = {.cap = KVM_CAP_EXIT_ON_EMULATION_FAILURE, .args = {1}};
        kvm->emul_bytes = ioctl(kvm->vm_fd, KVM_ENABLE_CAP, &cap) == 0;
    }
    if (ioctl(kvm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)HD_KVM_TSS_ADDR) < 0) {
        rc = fail_errno("KVM_SET_TSS_ADDR");
        goto fail;
    }
    if (ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
        uint64_t addr = HD_KVM_IDENTITY_ADDR;
        if (ioctl(kvm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &addr) < 0) {
            rc = fail_errno("KVM_SET_IDENTITY_MAP_ADDR");
            goto fail;
        }
    }
    *out = kvm;
    return CAP_OK;
fail:
    hd_kvm_close(kvm);
    return rc;
}

void hd_kvm_close(struct hd_kvm *kvm)
{
    if (!kvm)
        return;
    if (kvm->vm_fd >= 0)
        close(kvm->vm_fd);
    if (kvm->kvm_fd >= 0)
        close(kvm->kvm_fd);
    free(kvm);
}

cap_result hd_kvm_set_slot(struct hd_kvm *kvm, unsigned slot, uint64_t gpa, uint64_t size,
                           void *hva, unsigned flags)
{
    cap_bool readonly = (flags & HD_KVM_SLOT_READONLY) != 0;
    struct kvm_userspace_memory_region r = {
        .slot = slot,
        .flags = (readonly ? KVM_MEM_READONLY : 0) |
                 (flags & HD_KVM_SLOT_LOG_DIRTY ? KVM_MEM_LOG_DIRTY_PAGES : 0),
        .guest_phys_addr = gpa,
        .memory_size = size,
        .userspace_addr = (uintptr_t)hva,
    };
    if (ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
        int err = errno;
        return cap_error_set(HD_E_CALL, HD_COMPONENT, NULL,
                             "kvm: memory slot %u at 0x%llx size 0x%llx%s: %s", slot,
                             (unsigned long long)gpa, (unsigned long long)size,
                             readonly ? " (read-only)" : "", strerror(err));
    }
    return CAP_OK;
}

cap_result hd_kvm_dirty_log(struct hd_kvm *kvm, unsigned slot, uint64_t *bits)
{
    struct kvm_dirty_log log = {.slot = slot, .dirty_bitmap = bits};
    if (ioctl(kvm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0) {
        int err = errno;
        return cap_error_set(HD_E_CALL, HD_COMPONENT, NULL, "kvm: dirty log of memory slot %u: %s",
                             slot, strerror(err));
    }
    return CAP_OK;
}

cap_result hd_kvm_set_msr_filter(struct hd_kvm *kvm, const struct kvm_msr_filter *filter)
{
    struct kvm_enable_cap cap = {.cap = KVM_CAP_X86_USER_SPACE_MSR,
                                 .args = {KVM_MSR_EXIT_REASON_FILTER}};
    if (ioctl(kvm->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
        return fail_errno("KVM_ENABLE_CAP(KVM_CAP_X86_USER_SPACE_MSR)");
    if (ioctl(kvm->vm_fd, KVM_X86_SET_MSR_FILTER, filter) < 0)
        return fail_errno("KVM_X86_SET_MSR_FILTER");
    return CAP_OK;
}

cap_result hd_kvm_supported_cpuid(struct hd_kvm *kvm, struct kvm_cpuid2 **out)
{
    for (unsigned n = 64; n <= 4096; n *= 2) {
        struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
        if (!c)
            return cap_error_set(CAP_E_OUTOFMEMORY, HD_COMPONENT, NULL, "kvm: out of memory");
        c->nent = n;
        if (ioctl(kvm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
            *out = c;
            return CAP_OK;
        }
        int err = errno;
        free(c);
        if (err != E2BIG) {
            errno = err;
            return fail_errno("KVM_GET_SUPPORTED_CPUID");
        }
    }
    return cap_error_set(HD_E_CALL, HD_COMPONENT, NULL, "kvm: supported CPUID too large");
}

cap_result hd_kvm_vcpu_create(struct hd_kvm *kvm, unsigned id, struct hd_kvm_vcpu **out)
{
    *out = NULL;
    struct hd_kvm_vcpu *v = calloc(1, sizeof(*v));
    if (!v)
        return cap_error_set(CAP_E_OUTOFMEMORY, HD_COMPONENT, NULL, "kvm: out of memory");
    v->vm = kvm;
    v->id = id;
    v->fd = ioctl(kvm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
    if (v->fd < 0) {
        cap_result rc = fail_errno("KVM_CREATE_VCPU");
        free(v);
        return rc;
    }
    v->run = mmap(NULL, (size_t)kvm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
    if (v->run == MAP_FAILED) {
        v->run = NULL;
        cap_result rc = fail_errno("mmap of kvm_run");
        hd_kvm_vcpu_destroy(v);
        return rc;
    }
    *out = v;
    return CAP_OK;
}

void hd_kvm_vcpu_destroy(struct hd_kvm_vcpu *v)
{
    if (!v)
        return;
    if (v->run)
        munmap(v->run, (size_t)v->vm->run_size);
    if (v->fd >= 0)
        close(v->fd);
    free(v);
}

#define VCPU_IOCTL(name, req, type, constness)                                                   \
    cap_result name(struct hd_kvm_vcpu *v, constness type *arg)                                  \
    {                                                                                            \
        if (ioctl(v->fd, req, arg) < 0)                                                          \
            return fail_errno(#req);                                                             \
        return CAP_OK;                                                                           \
    }

VCPU_IOCTL(hd_kvm_get_regs, KVM_GET_REGS, struct kvm_regs, )
VCPU_IOCTL(hd_kvm_set_regs, KVM_SET_REGS, struct kvm_regs, const)
VCPU_IOCTL(hd_kvm_get_sregs, KVM_GET_SREGS, struct kvm_sregs, )
VCPU_IOCTL(hd_kvm_set_sregs, KVM_SET_SREGS, struct kvm_sregs, const)
VCPU_IOCTL(hd_kvm_get_fpu, KVM_GET_FPU, struct kvm_fpu, )
VCPU_IOCTL(hd_kvm_set_fpu, KVM_SET_FPU, struct kvm_fpu, const)
VCPU_IOCTL(hd_kvm_get_xsave, KVM_GET_XSAVE, struct kvm_xsave, )
VCPU_IOCTL(hd_kvm_set_xsave, KVM_SET_XSAVE, struct kvm_xsave, const)
VCPU_IOCTL(hd_kvm_get_debugregs, KVM_GET_DEBUGREGS, struct kvm_debugregs, )
VCPU_IOCTL(hd_kvm_set_debugregs, KVM_SET_DEBUGREGS, struct kvm_debugregs, const)
VCPU_IOCTL(hd_kvm_set_cpuid, KVM_SET_CPUID2, struct kvm_cpuid2, const)
VCPU_IOCTL(hd_kvm_set_guest_debug, KVM_SET_GUEST_DEBUG, struct kvm_guest_debug, const)

uint32_t hd_kvm_get_tsc_khz(struct hd_kvm_vcpu *v)
{
    int khz = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
    return khz > 0 ? (uint32_t)khz : 0;
}

cap_result hd_kvm_set_tsc_khz(struct hd_kvm_vcpu *v, uint32_t khz)
{
    if (ioctl(v->fd, KVM_SET_TSC_KHZ, (unsigned long)khz) < 0)
        return fail_errno("KVM_SET_TSC_KHZ");
    return CAP_OK;
}

static cap_result msrs_ioctl(struct hd_kvm_vcpu *v, unsigned long req, struct kvm_msrs *m,
                             unsigned n, const char *what)
{
    m->nmsrs = n;
    int got = ioctl(v->fd, req, m);
    if (got < 0)
        return fail_errno(what);
    if ((unsigned)got != n)
        return cap_error_set(HD_E_CALL, HD_COMPONENT, NULL,
                             "kvm: %s stopped at MSR 0x%x (%d of %u done)", what,
                             m->entries[got].index, got, n);
    return CAP_OK;
}

cap_result hd_kvm_get_msrs(struct hd_kvm_vcpu *v, struct kvm_msrs *m, unsigned n)
{
    return msrs_ioctl(v, KVM_GET_MSRS, m, n, "KVM_GET_MSRS");
}

cap_result hd_kvm_set_msrs(struct hd_kvm_vcpu *v, struct kvm_msrs *m, unsigned n)
{
    return msrs_ioctl(v, KVM_SET_MSRS, m, n, "KVM_SET_MSRS");
}

cap_result hd_kvm_interrupt(struct hd_kvm_vcpu *v, uint8_t vector)
{
    struct kvm_interrupt irq = {.irq = vector};
    if (ioctl(v->fd, KVM_INTERRUPT, &irq) < 0)
        return fail_errno("KVM_INTERRUPT");
    return CAP_OK;
}

cap_result hd_kvm_nmi(struct hd_kvm_vcpu *v)
{
    if (ioctl(v->fd, KVM_NMI) < 0)
        return fail_errno("KVM_NMI");
    return CAP_OK;
}

cap_result hd_kvm_run(struct hd_kvm_vcpu *v)
{
    if (ioctl(v->fd, KVM_RUN, 0) == 0)
        return CAP_OK;
    if (errno == EINTR || errno == EAGAIN) {
        v->run->exit_reason = KVM_EXIT_INTR;
        return CAP_FALSE_RESULT;
    }
    return fail_errno("KVM_RUN");
}
