/*
 * rem_run.c - the REM engine object, its vCPUs and the run loop (rem.h).
 *
 * The loop executes a cached block at a time (rem_block.c), or one
 * instruction (rem_exec_one) where blocks do not apply, until an
 * instruction asks for an exit (port I/O, HLT, an unimplemented
 * instruction), the budget runs out, a kick arrives, or an interrupt window
 * that EM asked for opens. Faults longjmp back to rem_vcpu_run, which
 * delivers them (rem_handle_xcpt: #DF and triple-fault rules) and goes on.
 * Interrupts from EM are delivered at the start of the next run, inside the
 * same fault context, so a fault while delivering one is handled like the
 * CPU does.
 *
 * Blocks of 64-bit code that have run often enough are translated to host
 * code (rem_jit.c) and run as one call; CAPSULE_REM_JIT=0 in the
 * environment (or rem_vcpu_set_jit) turns that off.
 *
 * The loop itself lives in its own function so that the compiler keeps
 * its registers free of setjmp's constraints.
 */
#include <stdlib.h>

#include <capsule/errorinfo.h>

#include "rem_internal.h"
#include "stam/stam.h"

#define REM_BENIGN_DELIVERY 0x20u /* `delivering` marker for external/NMI events */

/* A RAM or ROM range came or went (a PCI BAR backed by a device's RAM
 * moves with the guest's programming): the host pointers the TLBs hold may
 * be stale. On the thread that changes the map: the vCPU's own (a device op
 * it runs) or any while the vCPUs are stopped (pgm.h). */
static cap_result map_changed(void *opaque, const struct pgm_range *range, cap_bool added)
{
    struct rem *r = opaque;
    for (struct rem_vcpu *v = r->vcpus; v; v = v->next_vcpu)
        rem_tlb_flush(v);
    return CAP_OK;
}

cap_result rem_create(struct pgm *pgm, const struct cpum_policy *policy,
                      const struct rem_callbacks *cb, struct rem **out)
{
    *out = NULL;
    struct rem *r = calloc(1, sizeof(*r));
    if (!r)
        return cap_error_set(CAP_E_OUTOFMEMORY, REM_COMPONENT, NULL, "out of memory creating the rem engine");
    r->pgm = pgm;
    r->policy = policy;
    if (cb)
        r->cb = *cb;
    r->listener = (struct pgm_listener){.changed = map_changed, .opaque = r};
    cap_result rc = pgm_add_listener(pgm, &r->listener);
    if (CAP_FAILED(rc)) {
        free(r);
        return rc;
    }
    *out = r;
    return CAP_OK;
}

void rem_destroy(struct rem *rem)
{
    if (rem)
        pgm_remove_listener(rem->pgm, &rem->listener);
    free(rem);
}

/* Reloads everything rem caches from the context. */
static void sync_from_ctx(struct rem_vcpu *v)
{
    v->cc.op = REM_CC_EFLAGS;
    rem_update_mode(v);
    rem_paging_changed(v);
    rem_db_changed(v);
}

cap_result rem_vcpu_create(struct rem *rem, struct cpum_cpu *cpu, struct rem_vcpu **out)
{
    *out = NULL;
    struct rem_vcpu *v = aligned_alloc(64, (sizeof(*v) + 63) & ~(size_t)63);
    if (!v)
        return cap_error_set(CAP_E_OUTOFMEMORY, REM_COMPONENT, NULL, "out of memory creating a rem vCPU");
    memset(v, 0, sizeof(*v));
    v->rem = rem;
    v->cpu = cpu;
    v->ctx = &cpu->ctx;
    v->delivering = REM_NO_VECTOR;
    v->pending_irq = -1;
    const char *jit = getenv("CAPSULE_REM_JIT"), *hot = getenv("CAPSULE_REM_JIT_HOT");
    v->jit_hot = jit && !strcmp(jit, "0") ? -1 : hot && *hot ? atoi(hot) : REM_JIT_HOT_DEFAULT;
    sync_from_ctx(v);
    v->next_vcpu = rem->vcpus;
    rem->vcpus = v;
    *out = v;
    return CAP_OK;
}

void rem_vcpu_destroy(struct rem_vcpu *v)
{
    if (!v)
        return;
    if (v->stam)
        stam_deregister(v->stam, "/REM/");
    for (struct rem_vcpu **pp = &v->rem->vcpus; *pp; pp = &(*pp)->next_vcpu)
        if (*pp == v) {
            *pp = v->next_vcpu;
            break;
        }
    rem_bcache_destroy(v);
    free(v);
}

/* ---- the loop ------------------------------------------------------------------ */

static bool irq_ready(const struct rem_vcpu *v)
{
    return (v->ctx->rflags & RFLAGS_IF) && !v->shadow && !v->io_pending;
}

/*
 * One instruction the slow way, with the debug rules (SDM Vol. 3B, 17.3):
 * an instruction breakpoint before it (unless RF); RF cleared once it
 * completes; then the traps - data breakpoints it hit and, when TF was set
 * as it began, the single-step trap (not after INT n or a SYSCALL whose
 * SFMASK cleared TF: they entered a handler with TF clear). After MOV SS /
 * POP SS the traps wait one more instruction (db_inhibit), as interrupts
 * do, and the next instruction's code breakpoint is not taken (SDM Vol. 3A
 * 6.8.3: debug exceptions are inhibited up to the boundary after it).
 */
static void step(struct rem_vcpu *v)
{
    struct cpum_ctx *c = v->ctx;
    bool tf = c->rflags & FL_TF;
    if (v->db_insn && !v->db_inhibit) /* the boundary after MOV SS: no debug exceptions */
        rem_db_insn(v);
    v->budget--;
    v->db_hits = 0;
    v->step_suppress = false;
    c->rflags &= ~(uint64_t)FL_RF; /* unless the instruction sets it (IRET) */
    rem_exec_one(v);
    v->insns++;
    bool inhibit = v->shadow == 2 && v->shadow_ss;
    if (v->shadow && !--v->shadow)
        v->shadow_ss = false;
    v->db_pending |= v->db_hits | (tf && !v->step_suppress ? DR6_BS : 0);
    v->db_inhibit = inhibit;
    if (v->db_pending && !inhibit && !v->stop)
        rem_db_deliver(v);
}

/* rem_vcpu_set_user_stop's condition (RFLAGS: IF = 1, TF = 0, IOPL = 0). */
static bool at_native_user(const struct rem_vcpu *v)
{
    const struct cpum_ctx *c = v->ctx;
    return v->insns != v->user_stop_from && v->cpl == 3 && v->mode == REM_MODE_LONG &&
           (c->seg[CPUM_CS].attr & CPUM_SEG_L) && (c->rflags & (FL_IF | FL_TF | FL_IOPL)) == FL_IF;
}

static __attribute__((noinline)) void loop(struct rem_vcpu *v, bool blocks)
{
    struct vmm_exit *x = v->exit;
    while (!v->stop) {
        if (!v->budget || __atomic_load_n(&v->kick, __ATOMIC_RELAXED)) {
            x->reason = VMM_EXIT_INTERRUPTED;
            return;
        }
        if (v->irq_window && irq_ready(v)) {
            x->reason = VMM_EXIT_IRQ_WINDOW;
            return;
        }
        if (v->user_stop && at_native_user(v)) {
            x->reason = VMM_EXIT_INTERRUPTED;
            return;
        }
        if (v->db_pending && !v->db_inhibit) { /* left by an exit or a fault */
            rem_db_deliver(v);
            continue;
        }
        const struct cpum_ctx *c = v->ctx;
        if (blocks && !((c->rflags & (FL_TF | FL_RF)) | v->shadow | v->db_data | v->db_insn |
                        v->db_pending) &&
            rem_run_block(v))
            continue;
        step(v);
    }
}

static void deliver_pending(struct rem_vcpu *v)
{
    if (v->pending_nmi && !v->nmi_blocked) {
        v->pending_nmi = false;
        v->delivering = REM_BENIGN_DELIVERY;
        rem_deliver(v, X86_NMI, REM_NO_ERR, REM_INT_EXT);
        v->delivering = REM_NO_VECTOR;
    }
    if (v->pending_irq >= 0) {
        unsigned vec = (unsigned)v->pending_irq;
        v->pending_irq = -1;
        v->delivering = REM_BENIGN_DELIVERY;
        rem_deliver(v, vec, REM_NO_ERR, REM_INT_EXT);
        v->delivering = REM_NO_VECTOR;
    }
}

/* blocks: use the block cache (rem_vcpu_run); single steps do not build blocks. */
static cap_result run(struct rem_vcpu *v, uint64_t budget, struct vmm_exit *exit, bool blocks)
{
    memset(exit, 0, sizeof(*exit));
    exit->reason = VMM_EXIT_NONE;
    v->exit = exit;
    v->stop = false;
    v->fail_rc = CAP_OK;
    v->budget = budget;
    v->user_stop_from = v->insns;
    rem_bcache_new_epoch(v); /* others may have written guest memory since the last run */
    if (setjmp(v->jb)) {
        v->implicit = false;
        v->db_inhibit = false;
        if (v->xcpt_vec == REM_VMM_FAILURE) {
            v->delivering = REM_NO_VECTOR;
            goto out;
        }
        if (v->xcpt_vec == REM_EXIT_NOW)
            goto out;
        if (v->budget)
            v->budget--;
        rem_handle_xcpt(v);
        if (v->stop)
            goto out;
    }
    if (v->io_pending)
        rem_complete_in(v);
    deliver_pending(v);
    loop(v, blocks && v->bcache);
out:
    rem_get_rflags(v);
    rem_tlb_release_tracked(v);
    return v->fail_rc;
}

cap_result rem_vcpu_run(struct rem_vcpu *v, uint64_t max_insns, struct vmm_exit *exit)
{
    if (v->cpu->extrn) {
        exit->reason = VMM_EXIT_NONE;
        return cap_error_set(VMM_E_BAD_STATE, REM_COMPONENT, NULL,
                             "rem: the vCPU context is held by another engine (extrn 0x%x)",
                             v->cpu->extrn);
    }
    if (v->cpu->dirty) {
        sync_from_ctx(v);
        v->cpu->dirty = 0;
    }
    /* The block cache (~4 MiB, mostly untouched) only for vCPUs that run in
     * rem, not for those that only step single instructions for hm. Without
     * it rem runs instruction by instruction. */
    if (!v->bcache && CAP_FAILED(rem_bcache_create(v)))
        cap_error_clear();
    cap_result rc = run(v, max_insns ? max_insns : UINT64_MAX, exit, true);
    if (CAP_FAILED(rc))
        cap_error_set(rc, REM_COMPONENT, NULL, "rem: a guest-physical access failed at RIP 0x%llx",
                      (unsigned long long)v->ctx->rip);
    return rc;
}

cap_result rem_vcpu_step_one(struct rem_vcpu *v, struct vmm_exit *exit)
{
    /* A kick is for the engine in charge, not for this one instruction:
     * set it aside so the step cannot end before the instruction ran. */
    int kick = __atomic_exchange_n(&v->kick, 0, __ATOMIC_SEQ_CST);
    sync_from_ctx(v);
    cap_result rc = run(v, 1, exit, false);
    if (kick)
        __atomic_store_n(&v->kick, 1, __ATOMIC_SEQ_CST);
    if (exit->reason == VMM_EXIT_INTERRUPTED)
        exit->reason = VMM_EXIT_NONE;
    cpum_mark_dirty(v->cpu, CPUM_STATE_ALL);
    return rc;
}

cap_result rem_vcpu_complete_io(struct rem_vcpu *v)
{
    if (!v->io_pending)
        return CAP_OK;
    struct vmm_exit x;
    int kick = __atomic_exchange_n(&v->kick, 0, __ATOMIC_SEQ_CST);
    cap_result rc = run(v, 0, &x, false); /* budget 0: the IN completes, nothing else runs */
    if (kick)
        __atomic_store_n(&v->kick, 1, __ATOMIC_SEQ_CST);
    cpum_mark_dirty(v->cpu, CPUM_STATE_ALL);
    if (CAP_FAILED(rc))
        cap_error_set(rc, REM_COMPONENT, NULL, "rem: a guest-physical access failed at RIP 0x%llx",
                      (unsigned long long)v->ctx->rip);
    return rc;
}

void rem_vcpu_reset(struct rem_vcpu *v)
{
    v->io_pending = false;
    v->pending_irq = -1;
    v->pending_nmi = false;
    v->nmi_blocked = false;
    v->shadow = 0;
    v->shadow_ss = false;
    v->db_pending = 0;
    v->db_inhibit = false;
    v->irq_window = false;
    v->delivering = REM_NO_VECTOR;
    sync_from_ctx(v);
}

/* ---- interrupts and kicks ---------------------------------------------------------- */

cap_bool rem_vcpu_irq_ready(const struct rem_vcpu *v)
{
    return irq_ready(v) && v->pending_irq < 0;
}

cap_result rem_vcpu_inject_irq(struct rem_vcpu *v, uint8_t vector)
{
    if (!(v->ctx->rflags & RFLAGS_IF) || v->shadow || v->pending_irq >= 0)
        return cap_error_set(VMM_E_BAD_STATE, REM_COMPONENT, NULL,
                             "rem: cannot inject vector %u now (IF clear, shadow or pending)",
                             vector);
    v->pending_irq = vector;
    return CAP_OK;
}

cap_result rem_vcpu_inject_nmi(struct rem_vcpu *v)
{
    v->pending_nmi = true; /* while blocked: held until rem_iret unblocks */
    return CAP_OK;
}

void rem_vcpu_request_irq_window(struct rem_vcpu *v, cap_bool on)
{
    v->irq_window = on;
}

void rem_vcpu_kick(struct rem_vcpu *v)
{
    __atomic_store_n(&v->kick, 1, __ATOMIC_SEQ_CST);
}

void rem_vcpu_clear_kick(struct rem_vcpu *v)
{
    __atomic_store_n(&v->kick, 0, __ATOMIC_SEQ_CST);
}

void rem_vcpu_set_user_stop(struct rem_vcpu *v, cap_bool on)
{
    v->user_stop = on;
}

uint64_t rem_vcpu_guest_invalidations(const struct rem_vcpu *v)
{
    return v->guest_invalidations;
}

void rem_vcpu_flush_tlb(struct rem_vcpu *v)
{
    rem_tlb_flush(v);
}

uint64_t rem_vcpu_insns(const struct rem_vcpu *v)
{
    return v->insns;
}

void rem_vcpu_set_jit(struct rem_vcpu *v, int hot)
{
    v->jit_hot = hot;
    rem_bcache_destroy(v); /* built again at the next run, with or without a translator */
}

uint64_t rem_vcpu_jit_translations(const struct rem_vcpu *v)
{
    return v->stats.jit_translations;
}

uint64_t rem_vcpu_jit_links(const struct rem_vcpu *v)
{
    return v->stats.jit_links;
}
