/*
 * em_mode.c - the engine per CPU mode under `auto` (em.h:
 * em_engine_for_mode), and the log of which engine ran which mode.
 *
 * At the start of each turn (em_run.c) EM looks at the mode the context is
 * in - three bits of state that are current after every exit of either
 * engine (hwaccm.h: control registers, EFER and RFLAGS come back with each
 * exit; rem works on the context in place) - and, when it changed:
 * counts the entry (/EM/Modes/<Mode>), logs the mode's first entry with the
 * engine that runs it, and asks em_engine_for_mode which engine should.
 * Firmware switches modes thousands of times per second (SeaBIOS drops to
 * real mode for every INT 13h a boot loader makes), so only first entries
 * are logged; the counters hold the rest.
 *
 * The hand-over (auto with hm picked: real and virtual-8086 mode -> rem,
 * the rest -> hm) happens between runs, with nothing in flight: the
 * interrupt delivery of this turn has not happened yet, and an IN still
 * waiting for its data (the last exit) stays with its engine until the
 * next exit. hm -> rem: the whole state comes out of hm (FPU, MSRs, debug
 * registers included) and rem is told the context changed (dirty: it
 * flushes its TLB and recomputes its mode; its decoded blocks recheck their
 * bytes at every run, so code hm wrote is seen); rem's clock takes over
 * hm's TSC. rem -> hm: the context is marked dirty, so hm loads all of it,
 * the TSC at rem's clock's value. The interrupt window request moves to
 * the new engine at the next delivery (the old one's is cleared). Kicks
 * go to both engines while either may be in charge (em_engine_kick), so
 * a kick that races with a hand-over is never lost.
 */
#include <inttypes.h>

#include "em_internal.h"
#include "tm/tm.h"

static const char *const mode_names[EM_MODE_COUNT] = {
    [EM_MODE_REAL] = "real mode",
    [EM_MODE_V86] = "virtual-8086 mode",
    [EM_MODE_PROTECTED] = "protected mode",
    [EM_MODE_LONG] = "long mode",
};

/* RFLAGS.VM (SDM Vol. 3A 2.3); not in cpum.h's list of the flags EM uses. */
#define EM_RFLAGS_VM (1ull << 17)

enum em_cpu_mode em_cpu_mode_of(const struct cpum_ctx *c)
{
    if (!(c->cr0 & CR0_PE))
        return EM_MODE_REAL;
    if (c->msr.efer & EFER_LMA)
        return EM_MODE_LONG;
    return (c->rflags & EM_RFLAGS_VM) ? EM_MODE_V86 : EM_MODE_PROTECTED;
}

const char *em_cpu_mode_name(enum em_cpu_mode m)
{
    return (unsigned)m < EM_MODE_COUNT ? mode_names[m] : "?";
}

enum vm_engine em_engine_for_mode(enum vm_engine requested, enum vm_engine chosen,
                                  enum em_cpu_mode mode)
{
    if (requested != VM_ENGINE_AUTO || chosen != VM_ENGINE_HM)
        return chosen;
    return mode == EM_MODE_REAL || mode == EM_MODE_V86 ? VM_ENGINE_REM : VM_ENGINE_HM;
}

void em_engine_kick(struct em_vcpu *v)
{
    if (v->hv) { /* hm exists: either engine may be the one running */
        hwaccm_vcpu_kick(v->hv);
        rem_vcpu_kick(v->rv);
    } else {
        v->ops->kick(v);
    }
}

static void hand_over(struct vm *vm, struct em_vcpu *v, enum vm_engine to)
{
    if (v->irq_window) { /* the new engine gets it at this turn's delivery */
        v->ops->request_irq_window(v, CAP_FALSE);
        v->irq_window = false;
    }
    if (to == VM_ENGINE_REM) {
        cap_result rc = hwaccm_vcpu_import(v->hv, CPUM_STATE_ALL);
        if (CAP_FAILED(rc)) {
            em_fail(vm, rc, "fetching the vCPU state from hm for rem");
            return;
        }
        tm_set_tsc(vm->tm, v->cpu.ctx.msr.tsc);
    } else {
        v->cpu.ctx.msr.tsc = tm_tsc(vm->tm);
    }
    v->cpu.dirty |= CPUM_STATE_ALL; /* the new engine loads all of it */
    const struct em_engine_ops *ops = to == VM_ENGINE_REM ? &em_rem_ops : &em_hm_ops;
    ops->clear_kick(v);
    __atomic_store_n(&v->ops, ops, __ATOMIC_SEQ_CST);
    vm->cnt.engine_switches++;
}

static void new_mode(struct vm *vm, struct em_vcpu *v, enum em_cpu_mode mode)
{
    v->mode = mode;
    v->want = em_engine_for_mode(vm->cfg.engine, vm->engine, mode);
    vm->cnt.mode_entries[mode]++;
    if (v->modes_logged & (1u << mode))
        return;
    v->modes_logged |= 1u << mode;
    const struct cpum_ctx *c = &v->cpu.ctx;
    em_log(vm, EM_COMPONENT, VM_LOG_INFO, "%s -> %s (first at %04x:%08" PRIx64 ")",
           em_cpu_mode_name(mode), vm_engine_name(v->want), c->seg[CPUM_CS].sel, c->rip);
}

void em_mode_update(struct vm *vm, struct em_vcpu *v)
{
    enum em_cpu_mode mode = em_cpu_mode_of(&v->cpu.ctx);
    if (mode != v->mode)
        new_mode(vm, v, mode);
    if (v->want == v->ops->engine)
        return;
    if (v->exit.reason == VMM_EXIT_IO && !v->exit.io.write)
        return; /* an IN completes in the engine that took it */
    hand_over(vm, v, v->want);
}
