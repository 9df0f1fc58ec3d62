/*
 * vmm/em/em_ssm.c - saving a paused VM to an SSM stream and restoring one
 * into a VM that has not started (vm_save_state / vm_restore_state, em.h).
 *
 * Units (all version 1):
 *   "platform" 0  ram_bytes, ncpus, devices (pdm_layout), cpu_profile,
 *                 engine (what saved it; information only)
 *   "pgm" 0       count, rN.gpa, rN.size, rN.name: the RAM ranges, whose
 *                 contents are the RAM units "ram" N
 *   "tm" 0        virtual_ns, tsc_offset, tsc_hz
 *   "em" 0        halted, intr_level, nmi_pending
 *   "cpum" ID     one per vCPU: the context by name (see put_ctx)
 *   devices       pdm_save_units: one per device instance
 *
 * A restore reads the whole stream first (ssm_open verifies every CRC),
 * then compares the platform with this VM's and refuses another layout
 * naming both, checks every unit's version, and only then applies: TM
 * first (devices re-arm their timers against the restored clock), RAM,
 * the CPU, EM, the devices. Units no one took refuse the restore. A
 * failure while applying (a device refusing its fields) leaves the VM
 * half-restored: the caller destroys it, it never runs.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "em_internal.h"
#include "pdm.h"
#include "ssm/ssm.h"
#include "tm/tm.h"

#define UNIT_VERSION 1u
#define LAYOUT_MAX   2048

static const char *const gpr_names[CPUM_GPR_COUNT] = {
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15",
};
static const char *const seg_names[CPUM_SREG_COUNT] = {"es", "cs", "ss", "ds", "fs", "gs"};

/* The 64-bit values of the context by name (everything but segments,
 * descriptor tables and the FXSAVE image). */
struct ctx_u64 {
    const char *name;
    size_t off;
};
#define CTX(name, member)                                                                          \
    {                                                                                              \
        name, offsetof(struct cpum_ctx, member)                                                    \
    }
static const struct ctx_u64 ctx_u64s[] = {
    CTX("rip", rip),
    CTX("rflags", rflags),
    CTX("cr0", cr0),
    CTX("cr2", cr2),
    CTX("cr3", cr3),
    CTX("cr4", cr4),
    CTX("cr8", cr8),
    CTX("dr0", dr[0]),
    CTX("dr1", dr[1]),
    CTX("dr2", dr[2]),
    CTX("dr3", dr[3]),
    CTX("dr6", dr[6]),
    CTX("dr7", dr[7]),
    CTX("msr.efer", msr.efer),
    CTX("msr.star", msr.star),
    CTX("msr.lstar", msr.lstar),
    CTX("msr.cstar", msr.cstar),
    CTX("msr.sfmask", msr.sfmask),
    CTX("msr.kernel_gs_base", msr.kernel_gs_base),
    CTX("msr.sysenter_cs", msr.sysenter_cs),
    CTX("msr.sysenter_esp", msr.sysenter_esp),
    CTX("msr.sysenter_eip", msr.sysenter_eip),
    CTX("msr.pat", msr.pat),
    CTX("msr.tsc", msr.tsc),
    CTX("msr.apic_base", msr.apic_base),
    CTX("msr.misc_enable", msr.misc_enable),
    CTX("msr.tsc_aux", msr.tsc_aux),
    CTX("msr.tsc_adjust", msr.tsc_adjust),
    CTX("amd.hwcr", amd.hwcr),
    CTX("amd.syscfg", amd.syscfg),
    CTX("amd.nb_cfg", amd.nb_cfg),
    CTX("amd.de_cfg", amd.de_cfg),
};

static uint64_t *ctx_u64(struct cpum_ctx *c, size_t i)
{
    return (uint64_t *)((char *)c + ctx_u64s[i].off);
}

static void put_seg(struct ssm_writer *w, const char *name, const struct cpum_seg *s)
{
    char f[32];
    snprintf(f, sizeof f, "%s.sel", name);
    ssm_put_u16(w, f, s->sel);
    snprintf(f, sizeof f, "%s.attr", name);
    ssm_put_u16(w, f, s->attr);
    snprintf(f, sizeof f, "%s.limit", name);
    ssm_put_u32(w, f, s->limit);
    snprintf(f, sizeof f, "%s.base", name);
    ssm_put_u64(w, f, s->base);
}

static cap_result get_seg(struct ssm_unit *u, const char *name, struct cpum_seg *s)
{
    char f[32];
    snprintf(f, sizeof f, "%s.sel", name);
    cap_result rc = ssm_get_u16(u, f, s->sel, &s->sel);
    snprintf(f, sizeof f, "%s.attr", name);
    if (CAP_SUCCEEDED(rc))
        rc = ssm_get_u16(u, f, s->attr, &s->attr);
    snprintf(f, sizeof f, "%s.limit", name);
    if (CAP_SUCCEEDED(rc))
        rc = ssm_get_u32(u, f, s->limit, &s->limit);
    snprintf(f, sizeof f, "%s.base", name);
    if (CAP_SUCCEEDED(rc))
        rc = ssm_get_u64(u, f, s->base, &s->base);
    return rc;
}

static cap_result put_ctx(struct ssm_writer *w, const struct cpum_cpu *cpu)
{
    struct cpum_ctx c = cpu->ctx;
    ssm_begin_unit(w, "cpum", cpu->id, UNIT_VERSION);
    for (unsigned i = 0; i < CPUM_GPR_COUNT; i++)
        ssm_put_u64(w, gpr_names[i], c.gpr[i]);
    for (size_t i = 0; i < sizeof ctx_u64s / sizeof *ctx_u64s; i++)
        ssm_put_u64(w, ctx_u64s[i].name, *ctx_u64(&c, i));
    for (unsigned i = 0; i < CPUM_SREG_COUNT; i++)
        put_seg(w, seg_names[i], &c.seg[i]);
    put_seg(w, "ldtr", &c.ldtr);
    put_seg(w, "tr", &c.tr);
    ssm_put_u64(w, "gdtr.base", c.gdtr.base);
    ssm_put_u16(w, "gdtr.limit", c.gdtr.limit);
    ssm_put_u64(w, "idtr.base", c.idtr.base);
    ssm_put_u16(w, "idtr.limit", c.idtr.limit);
    ssm_put_bytes(w, "fxsave", &c.fpu, sizeof c.fpu);
    return ssm_end_unit(w);
}

static cap_result get_ctx(struct ssm_unit *u, struct cpum_ctx *c)
{
    cap_result rc = CAP_OK;
    for (unsigned i = 0; i < CPUM_GPR_COUNT && CAP_SUCCEEDED(rc); i++)
        rc = ssm_get_u64(u, gpr_names[i], c->gpr[i], &c->gpr[i]);
    for (size_t i = 0; i < sizeof ctx_u64s / sizeof *ctx_u64s && CAP_SUCCEEDED(rc); i++)
        rc = ssm_get_u64(u, ctx_u64s[i].name, *ctx_u64(c, i), ctx_u64(c, i));
    for (unsigned i = 0; i < CPUM_SREG_COUNT && CAP_SUCCEEDED(rc); i++)
        rc = get_seg(u, seg_names[i], &c->seg[i]);
    if (CAP_SUCCEEDED(rc))
        rc = get_seg(u, "ldtr", &c->ldtr);
    if (CAP_SUCCEEDED(rc))
        rc = get_seg(u, "tr", &c->tr);
    if (CAP_SUCCEEDED(rc))
        rc = ssm_get_u64(u, "gdtr.base", c->gdtr.base, &c->gdtr.base);
    if (CAP_SUCCEEDED(rc))
        rc = ssm_get_u16(u, "gdtr.limit", c->gdtr.limit, &c->gdtr.limit);
    if (CAP_SUCCEEDED(rc))
        rc = ssm_get_u64(u, "idtr.base", c->idtr.base, &c->idtr.base);
    if (CAP_SUCCEEDED(rc))
        rc = ssm_get_u16(u, "idtr.limit", c->idtr.limit, &c->idtr.limit);
    if (CAP_SUCCEEDED(rc))
        rc = ssm_get_bytes(u, "fxsave", &c->fpu, sizeof c->fpu);
    return rc;
}

static bool is_ram(const struct pgm_range *r)
{
    return r->kind == PGM_RANGE_RAM && !r->external; /* a device's BAR RAM is its own state */
}

static cap_result save_units(struct vm *vm, struct ssm_writer *w)
{
    struct em_vcpu *v = &vm->vcpu;
    char layout[LAYOUT_MAX];
    if (!pdm_layout(vm->pdm, layout, sizeof layout))
        return cap_error_set(CAP_E_INVALIDARG, EM_COMPONENT, NULL,
                             "saved state: the device list is longer than %d bytes", LAYOUT_MAX);
    ssm_begin_unit(w, "platform", 0, UNIT_VERSION);
    ssm_put_u64(w, "ram_bytes", vm->cfg.ram_bytes);
    ssm_put_u32(w, "ncpus", vm->cfg.ncpus);
    ssm_put_string(w, "devices", layout);
    ssm_put_string(w, "cpu_profile", vm->policy.profile);
    ssm_put_string(w, "engine", vm_engine_name(vm->engine));
    ssm_end_unit(w);

    unsigned n = 0;
    ssm_begin_unit(w, "pgm", 0, UNIT_VERSION);
    for (unsigned i = 0; i < pgm_range_count(vm->pgm); i++) {
        const struct pgm_range *r = pgm_range_at(vm->pgm, i);
        if (!is_ram(r))
            continue;
        char f[32];
        snprintf(f, sizeof f, "r%u.gpa", n);
        ssm_put_u64(w, f, r->gpa);
        snprintf(f, sizeof f, "r%u.size", n);
        ssm_put_u64(w, f, r->size);
        snprintf(f, sizeof f, "r%u.name", n);
        ssm_put_string(w, f, r->name);
        n++;
    }
    ssm_put_u32(w, "count", n);
    ssm_end_unit(w);
    n = 0;
    for (unsigned i = 0; i < pgm_range_count(vm->pgm); i++) {
        const struct pgm_range *r = pgm_range_at(vm->pgm, i);
        if (is_ram(r))
            ssm_put_ram(w, "ram", n++, UNIT_VERSION, r->hva, r->size);
    }

    struct tm_state ts;
    tm_get_state(vm->tm, &ts);
    ssm_begin_unit(w, "tm", 0, UNIT_VERSION);
    ssm_put_u64(w, "virtual_ns", ts.virtual_ns);
    ssm_put_i64(w, "tsc_offset", ts.tsc_offset);
    ssm_put_u64(w, "tsc_hz", ts.tsc_hz);
    ssm_end_unit(w);

    ssm_begin_unit(w, "em", 0, UNIT_VERSION);
    ssm_put_bool(w, "halted", v->halted);
    ssm_put_bool(w, "intr_level", __atomic_load_n(&vm->intr_level, __ATOMIC_SEQ_CST) != 0);
    ssm_put_bool(w, "nmi_pending", __atomic_load_n(&vm->nmi_pending, __ATOMIC_SEQ_CST) != 0);
    ssm_end_unit(w);

    cap_result rc = put_ctx(w, &v->cpu);
    return CAP_SUCCEEDED(rc) ? pdm_save_units(vm->pdm, w) : rc;
}

cap_result vm_save_state(struct vm *vm, const char *path, const char *creator, uint64_t *bytes)
{
    if (!vm || !path)
        return CAP_E_POINTER;
    pthread_mutex_lock(&vm->lock);
    enum vm_state st = vm->state;
    pthread_mutex_unlock(&vm->lock);
    if (st != VM_STATE_PAUSED)
        return cap_error_set(VMM_E_BAD_STATE, EM_COMPONENT, NULL,
                             "saving the state needs a paused VM (it is %s)", vm_state_name(st));
    if (vm->engine == VM_ENGINE_RAW)
        return cap_error_set(VMM_E_BAD_STATE, EM_COMPONENT, NULL,
                             "saving the state is not implemented under the raw engine yet");
    if (vm->vcpu.cpu.extrn)
        return cap_error_set(VMM_E_BAD_STATE, EM_COMPONENT, NULL,
                             "saving the state: the engine still holds part of the vCPU's "
                             "context (extrn 0x%x)",
                             vm->vcpu.cpu.extrn);
    struct ssm_writer *w;
    cap_result rc = ssm_writer_create(path, creator ? creator : "capsule", &w);
    if (CAP_FAILED(rc))
        return rc;
    rc = save_units(vm, w);
    if (CAP_FAILED(rc)) {
        ssm_writer_abort(w);
        return rc;
    }
    rc = ssm_writer_commit(w, bytes);
    return CAP_SUCCEEDED(rc) ? ssm_verify(path) : rc; /* read back what was written */
}

/* ---- restore ------------------------------------------------------------- */

static cap_result find(struct ssm_reader *r, const char *name, uint32_t inst, struct ssm_unit **u)
{
    cap_result rc = ssm_find_unit(r, name, inst, u);
    if (CAP_FAILED(rc))
        return cap_error_set(rc, EM_COMPONENT, NULL, "the saved state has no unit '%s' %u", name,
                             inst);
    return ssm_unit_check_version(*u, UNIT_VERSION, UNIT_VERSION);
}

static cap_result refuse(const char *fmt, const char *saved, const char *here)
{
    return cap_error_set(VMM_E_SSM_FIELD, EM_COMPONENT, NULL,
                         "the saved state is of another machine: %s %s, this VM has %s", fmt, saved,
                         here);
}

/* Everything that must match before anything is applied. */
static cap_result check_platform(struct vm *vm, struct ssm_reader *r)
{
    struct ssm_unit *u;
    cap_result rc = find(r, "platform", 0, &u);
    uint64_t ram = 0;
    uint32_t ncpus = 0;
    static char saved[LAYOUT_MAX], here[LAYOUT_MAX]; /* controlling thread only */
    if (CAP_SUCCEEDED(rc))
        rc = ssm_get_u64(u, "ram_bytes", 0, &ram);
    if (CAP_SUCCEEDED(rc))
        rc = ssm_get_u32(u, "ncpus", 0, &ncpus);
    if (CAP_SUCCEEDED(rc))
        rc = ssm_get_string(u, "devices", "", saved, sizeof saved);
    if (CAP_FAILED(rc))
        return rc;
    char a[32], b[32];
    if (ram != vm->cfg.ram_bytes) {
        snprintf(a, sizeof a, "%" PRIu64 " MiB", ram >> 20);
        snprintf(b, sizeof b, "%" PRIu64 " MiB", vm->cfg.ram_bytes >> 20);
        return refuse("RAM of", a, b);
    }
    if (ncpus != vm->cfg.ncpus) {
        snprintf(a, sizeof a, "%u", ncpus);
        snprintf(b, sizeof b, "%u", vm->cfg.ncpus);
        return refuse("vCPUs:", a, b);
    }
    pdm_layout(vm->pdm, here, sizeof here);
    if (strcmp(saved, here) != 0)
        return refuse("devices", saved, here);
    char prof[CPUM_PROFILE_NAME_MAX];
    rc = ssm_get_string(u, "cpu_profile", "host", prof, sizeof prof);
    if (CAP_SUCCEEDED(rc) && strcmp(prof, vm->policy.profile) != 0)
        return refuse("CPU profile", prof, vm->policy.profile);

    rc = find(r, "pgm", 0, &u);
    uint32_t count = 0;
    if (CAP_SUCCEEDED(rc))
        rc = ssm_get_u32(u, "count", 0, &count);
    unsigned n = 0;
    for (unsigned i = 0; i < pgm_range_count(vm->pgm) && CAP_SUCCEEDED(rc); i++) {
        const struct pgm_range *pr = pgm_range_at(vm->pgm, i);
        if (!is_ram(pr))
            continue;
        uint64_t gpa = 0, size = 0;
        char f[32];
        snprintf(f, sizeof f, "r%u.gpa", n);
        rc = ssm_get_u64(u, f, UINT64_MAX, &gpa);
        snprintf(f, sizeof f, "r%u.size", n);
        if (CAP_SUCCEEDED(rc))
            rc = ssm_get_u64(u, f, 0, &size);
        if (CAP_SUCCEEDED(rc) && (gpa != pr->gpa || size != pr->size)) {
            snprintf(saved, sizeof saved, "RAM range %u at 0x%" PRIx64 " of 0x%" PRIx64, n, gpa,
                     size);
            snprintf(here, sizeof here, "0x%" PRIx64 " of 0x%" PRIx64, pr->gpa, pr->size);
            return refuse("", saved, here);
        }
        n++;
    }
    if (CAP_SUCCEEDED(rc) && count != n) {
        snprintf(a, sizeof a, "%u", count);
        snprintf(b, sizeof b, "%u", n);
        return refuse("RAM ranges:", a, b);
    }
    struct ssm_unit *x;
    if (CAP_SUCCEEDED(rc))
        rc = find(r, "tm", 0, &x);
    if (CAP_SUCCEEDED(rc))
        rc = find(r, "em", 0, &x);
    if (CAP_SUCCEEDED(rc))
        rc = find(r, "cpum", 0, &x);
    return rc;
}

static cap_result apply(struct vm *vm, struct ssm_reader *r)
{
    struct em_vcpu *v = &vm->vcpu;
    struct ssm_unit *u;
    struct tm_state ts;
    tm_get_state(vm->tm, &ts);
    cap_result rc = find(r, "tm", 0, &u);
    if (CAP_SUCCEEDED(rc))
        rc = ssm_get_u64(u, "virtual_ns", 0, &ts.virtual_ns);
    if (CAP_SUCCEEDED(rc))
        rc = ssm_get_i64(u, "tsc_offset", 0, &ts.tsc_offset);
    if (CAP_SUCCEEDED(rc))
        rc = ssm_get_u64(u, "tsc_hz", ts.tsc_hz, &ts.tsc_hz);
    if (CAP_SUCCEEDED(rc))
        rc = tm_set_state(vm->tm, &ts);

    unsigned n = 0;
    for (unsigned i = 0; i < pgm_range_count(vm->pgm) && CAP_SUCCEEDED(rc); i++) {
        const struct pgm_range *pr = pgm_range_at(vm->pgm, i);
        if (is_ram(pr))
            rc = ssm_load_ram(r, "ram", n++, pr->hva, pr->size);
    }

    struct cpum_ctx c = v->cpu.ctx;
    if (CAP_SUCCEEDED(rc))
        rc = find(r, "cpum", 0, &u);
    if (CAP_SUCCEEDED(rc))
        rc = get_ctx(u, &c);
    if (CAP_SUCCEEDED(rc)) {
        v->cpu.ctx = c;
        v->cpu.extrn = 0;
        cpum_mark_dirty(&v->cpu, CPUM_STATE_ALL);
    }

    bool halted = false, intr = false, nmi = false;
    if (CAP_SUCCEEDED(rc))
        rc = find(r, "em", 0, &u);
    if (CAP_SUCCEEDED(rc))
        rc = ssm_get_bool(u, "halted", false, &halted);
    if (CAP_SUCCEEDED(rc))
        rc = ssm_get_bool(u, "intr_level", false, &intr);
    if (CAP_SUCCEEDED(rc))
        rc = ssm_get_bool(u, "nmi_pending", false, &nmi);
    if (CAP_SUCCEEDED(rc)) {
        v->halted = halted;
        __atomic_store_n(&vm->nmi_pending, nmi ? 1 : 0, __ATOMIC_SEQ_CST);
    }
    if (CAP_SUCCEEDED(rc))
        rc = pdm_load_units(vm->pdm, r);
    /* After the devices: their loads may drive INTR, the saved level wins. */
    if (CAP_SUCCEEDED(rc))
        __atomic_store_n(&vm->intr_level, intr ? 1 : 0, __ATOMIC_SEQ_CST);
    if (CAP_SUCCEEDED(rc))
        rc = ssm_check_all_used(r);
    return rc;
}

cap_result vm_restore_state(struct vm *vm, const char *path)
{
    if (!vm || !path)
        return CAP_E_POINTER;
    pthread_mutex_lock(&vm->lock);
    enum vm_state st = vm->state;
    pthread_mutex_unlock(&vm->lock);
    if (st != VM_STATE_CREATED)
        return cap_error_set(VMM_E_BAD_STATE, EM_COMPONENT, NULL,
                             "a saved state is restored into a VM not started yet (it is %s)",
                             vm_state_name(st));
    if (vm->engine == VM_ENGINE_RAW)
        return cap_error_set(VMM_E_BAD_STATE, EM_COMPONENT, NULL,
                             "restoring a saved state is not implemented under the raw engine yet");
    struct ssm_reader *r;
    cap_result rc = ssm_open(path, &r); /* verifies all of it */
    if (CAP_FAILED(rc))
        return rc;
    rc = check_platform(vm, r);
    if (CAP_SUCCEEDED(rc)) {
        rc = apply(vm, r);
        if (CAP_SUCCEEDED(rc))
            em_log(vm, EM_COMPONENT, VM_LOG_INFO, "restored from %s (saved by %s)", path,
                   ssm_creator(r));
    }
    ssm_close(r);
    return rc;
}
