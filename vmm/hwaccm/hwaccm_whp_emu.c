/*
 * hwaccm_whp_emu.c - MMIO and string I/O for the WHP backend through the
 * Windows instruction emulator (winhvemulation.h).
 *
 * A WHP memory-access exit gives the GPA and the instruction bytes but not
 * the size or the data; a string I/O exit gives the port but leaves the
 * memory side to user space. Rather than decode x86 here, the backend lets
 * WHvEmulatorTry{Mmio,Io}Emulation run the instruction against callbacks:
 *   - registers come from a scratch copy of the vCPU (committed to the real
 *     context only when the instruction completes);
 *   - guest-virtual translations use PGM's walker, the one every engine
 *     shares;
 *   - guest RAM (and ROM reads) go straight to PGM;
 *   - device accesses (MMIO, a ROM write, ports) go through the replay log
 *     of hwaccm_whp_conv.c: the first new one stops the attempt and becomes
 *     the exit EM sees; the next run replays the instruction with EM's data.
 *
 * Compile-only: cross-built with mingw-w64 and never run.
 */
#include <string.h>

#include <capsule/errorinfo.h>

#include "hwaccm_whp.h"

/* A part of the state still held by WHP is fetched before the emulator
 * reads or writes one of its registers, into the real context and the
 * scratch copy alike. */
static cap_result need_part(struct hwaccm_vcpu *v, uint32_t part)
{
    if (!(part & v->cpu->extrn))
        return CAP_OK;
    cap_result rc = hwaccm_vcpu_import(v, part);
    if (CAP_FAILED(rc))
        return rc;
    struct cpum_ctx *c = &v->cpu->ctx, *s = &v->scratch.ctx;
    if (part & CPUM_STATE_FPU)
        s->fpu = c->fpu;
    if (part & CPUM_STATE_DRS)
        memcpy(s->dr, c->dr, sizeof(s->dr));
    if (part & CPUM_STATE_MSRS) { /* EFER and APIC base are SREGS, already current */
        uint64_t efer = s->msr.efer, apic = s->msr.apic_base;
        s->msr = c->msr;
        s->msr.efer = efer, s->msr.apic_base = apic;
    }
    return CAP_OK;
}

static HRESULT CALLBACK get_regs_cb(VOID *ctx, const WHV_REGISTER_NAME *names, UINT32 n,
                                    WHV_REGISTER_VALUE *values)
{
    struct hwaccm_vcpu *v = ctx;
    for (UINT32 i = 0; i < n; i++) {
        uint32_t part = whpc_part_of(names[i]);
        if (part && CAP_SUCCEEDED(need_part(v, part)) &&
            whpc_get(&v->scratch.ctx, names[i], (union whpc_value *)&values[i]))
            continue;
        if (part || CAP_FAILED(hd_whp_get_regs(v->wv, &names[i], 1, &values[i])))
            return E_FAIL;
    }
    return S_OK;
}

static HRESULT CALLBACK set_regs_cb(VOID *ctx, const WHV_REGISTER_NAME *names, UINT32 n,
                                    const WHV_REGISTER_VALUE *values)
{
    struct hwaccm_vcpu *v = ctx;
    for (UINT32 i = 0; i < n; i++) {
        uint32_t part = whpc_part_of(names[i]);
        if (!part || CAP_FAILED(need_part(v, part)) ||
            !whpc_set(&v->scratch.ctx, names[i], (const union whpc_value *)&values[i]))
            return E_NOTIMPL; /* a register outside the context: give up on the insn */
        v->scratch_dirty |= part;
    }
    return S_OK;
}

static HRESULT CALLBACK translate_cb(VOID *ctx, WHV_GUEST_VIRTUAL_ADDRESS gva,
                                     WHV_TRANSLATE_GVA_FLAGS flags,
                                     WHV_TRANSLATE_GVA_RESULT_CODE *result,
                                     WHV_GUEST_PHYSICAL_ADDRESS *gpa)
{
    struct hwaccm_vcpu *v = ctx;
    struct pgm_paging pg;
    struct pgm_walk w;
    unsigned acc = PGM_ACC_READ;
    if (flags & WHvTranslateGvaFlagValidateWrite)
        acc |= PGM_ACC_WRITE;
    if (flags & WHvTranslateGvaFlagValidateExecute)
        acc |= PGM_ACC_EXEC;
    if (!(flags & WHvTranslateGvaFlagSetPageTableBits))
        acc |= PGM_ACC_NO_AD;
    if (!(flags & WHvTranslateGvaFlagPrivilegeExempt))
        acc = pgm_access_for_cpl(cpum_cpl(&v->scratch.ctx), acc);
    pgm_paging_from_ctx(&pg, &v->scratch);
    cap_result rc = pgm_walk(v->hm->pgm, &pg, gva, acc, &w);
    if (CAP_SUCCEEDED(rc)) {
        *result = WHvTranslateGvaResultSuccess;
        *gpa = w.gpa;
        return S_OK;
    }
    if (rc != VMM_XCPT_PF)
        return E_FAIL;
    *result = (w.error_code & PGM_PF_P) ? WHvTranslateGvaResultPrivilegeViolation
                                        : WHvTranslateGvaResultPageNotPresent;
    return S_OK;
}

/* A device access: answered from the log, or the end of this attempt. */
static HRESULT device_access(struct hwaccm_vcpu *v, enum whpc_access_kind kind, cap_bool write,
                             uint64_t addr, unsigned size, uint8_t *data)
{
    enum whpc_replay_result r = whpc_replay_access(&v->replay, kind, write, addr, size, data);
    if (r == WHPC_REPLAY_ANSWERED)
        return S_OK;
    v->stop = r;
    return E_PENDING;
}

static HRESULT CALLBACK memory_cb(VOID *ctx, WHV_EMULATOR_MEMORY_ACCESS_INFO *m)
{
    struct hwaccm_vcpu *v = ctx;
    cap_bool write = m->Direction != 0;
    unsigned size = m->AccessSize;
    if (size < 1 || size > sizeof(m->Data))
        return E_INVALIDARG;
    const struct pgm_range *r = pgm_find(v->hm->pgm, m->GpaAddress);
    cap_bool plain = r && (r->kind == PGM_RANGE_RAM || (r->kind == PGM_RANGE_ROM && !write)) &&
                     m->GpaAddress + size <= r->gpa + r->size;
    if (!plain)
        return device_access(v, WHPC_ACC_MMIO, write, m->GpaAddress, size, m->Data);
    cap_result rc = write ? pgm_phys_write(v->hm->pgm, m->GpaAddress, m->Data, size)
                          : pgm_phys_read(v->hm->pgm, m->GpaAddress, m->Data, size);
    return CAP_SUCCEEDED(rc) ? S_OK : E_FAIL;
}

static HRESULT CALLBACK io_cb(VOID *ctx, WHV_EMULATOR_IO_ACCESS_INFO *io)
{
    struct hwaccm_vcpu *v = ctx;
    cap_bool write = io->Direction != 0;
    unsigned size = io->AccessSize;
    uint8_t data[4];
    if (size != 1 && size != 2 && size != 4)
        return E_INVALIDARG;
    for (unsigned i = 0; i < 4; i++)
        data[i] = (uint8_t)(io->Data >> (8 * i));
    HRESULT hr = device_access(v, WHPC_ACC_PORT, write, io->Port, size, data);
    if (hr == S_OK && !write) {
        io->Data = 0;
        for (unsigned i = 0; i < size; i++)
            io->Data |= (UINT32)data[i] << (8 * i);
    }
    return hr;
}

cap_result hwaccm_whp_emu_create(struct hwaccm_vcpu *v)
{
    static const WHV_EMULATOR_CALLBACKS cb = {
        .Size = sizeof(WHV_EMULATOR_CALLBACKS),
        .WHvEmulatorIoPortCallback = io_cb,
        .WHvEmulatorMemoryCallback = memory_cb,
        .WHvEmulatorGetVirtualProcessorRegisters = get_regs_cb,
        .WHvEmulatorSetVirtualProcessorRegisters = set_regs_cb,
        .WHvEmulatorTranslateGvaPage = translate_cb,
    };
    HRESULT hr = WHvEmulatorCreateEmulator(&cb, &v->emu);
    if (FAILED(hr)) {
        v->emu = NULL;
        return cap_error_set(VMM_E_HOSTDRV, VMM_COMPONENT, NULL,
                             "whp: WHvEmulatorCreateEmulator failed: HRESULT 0x%08lx",
                             (unsigned long)hr);
    }
    return CAP_OK;
}

void hwaccm_whp_emu_destroy(struct hwaccm_vcpu *v)
{
    if (v->emu)
        WHvEmulatorDestroyEmulator(v->emu);
    v->emu = NULL;
}

/* EMULATION_FAILURE with the instruction bytes WHP reported. */
static void emulation_failure(struct hwaccm_vcpu *v, struct vmm_exit *x, uint32_t status)
{
    const WHV_RUN_VP_EXIT_CONTEXT *e = &v->exit;
    const UINT8 *bytes = e->ExitReason == WHvRunVpExitReasonMemoryAccess
                             ? e->MemoryAccess.InstructionBytes
                             : e->IoPortAccess.InstructionBytes;
    UINT8 count = e->ExitReason == WHvRunVpExitReasonMemoryAccess
                      ? e->MemoryAccess.InstructionByteCount
                      : e->IoPortAccess.InstructionByteCount;
    memset(x, 0, sizeof(*x));
    x->reason = VMM_EXIT_EMULATION_FAILURE;
    x->emul.suberror = status;
    x->emul.insn_len = count > 15 ? 15 : count;
    memcpy(x->emul.insn, bytes, x->emul.insn_len);
    if (!x->emul.insn_len)
        hwaccm_fetch_insn(v->hm->pgm, v->cpu, x); /* also sets emul.rip */
    else {
        uint64_t la = e->VpContext.Cs.Base + e->VpContext.Rip;
        x->emul.rip = e->VpContext.ExecutionState.EferLma && e->VpContext.Cs.Long
                          ? la : (la & 0xffffffffull);
    }
    whpc_replay_reset(&v->replay);
}

/* The exit for the access that stopped the attempt. */
static void device_exit(struct hwaccm_vcpu *v, struct vmm_exit *x)
{
    struct whpc_access *a = whpc_replay_current(&v->replay);
    memset(x, 0, sizeof(*x));
    if (a->kind == WHPC_ACC_MMIO) {
        x->reason = VMM_EXIT_MMIO;
        x->mmio.gpa = a->addr;
        x->mmio.size = a->size;
        x->mmio.write = a->write;
        x->mmio.data = a->data;
    } else {
        x->reason = VMM_EXIT_IO;
        x->io.port = (uint16_t)a->addr;
        x->io.size = a->size;
        x->io.write = a->write;
        x->io.count = 1;
        x->io.data = a->data;
    }
}

cap_result hwaccm_whp_emulate(struct hwaccm_vcpu *v, struct vmm_exit *x)
{
    WHV_EMULATOR_STATUS st = {.AsUINT32 = 0};
    HRESULT hr;
    v->scratch = *v->cpu;
    v->scratch_dirty = 0;
    v->stop = -1;
    whpc_replay_begin(&v->replay);
    if (v->exit.ExitReason == WHvRunVpExitReasonMemoryAccess)
        hr = WHvEmulatorTryMmioEmulation(v->emu, v, &v->exit.VpContext, &v->exit.MemoryAccess,
                                         &st);
    else
        hr = WHvEmulatorTryIoEmulation(v->emu, v, &v->exit.VpContext, &v->exit.IoPortAccess,
                                       &st);
    if (FAILED(hr)) {
        whpc_replay_reset(&v->replay);
        return cap_error_set(VMM_E_HOSTDRV, VMM_COMPONENT, NULL,
                             "whp: the instruction emulator failed: HRESULT 0x%08lx",
                             (unsigned long)hr);
    }
    if (st.EmulationSuccessful) {
        v->cpu->ctx = v->scratch.ctx; /* untouched parts are equal: a copy of it */
        cpum_mark_dirty(v->cpu, v->scratch_dirty);
        whpc_replay_reset(&v->replay);
        memset(x, 0, sizeof(*x));
        x->reason = VMM_EXIT_NONE;
        return CAP_OK;
    }
    if (v->stop == WHPC_REPLAY_NEW)
        device_exit(v, x);
    else
        emulation_failure(v, x, st.AsUINT32);
    return CAP_OK;
}
