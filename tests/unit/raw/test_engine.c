/*
 * test_engine.c - the raw engine: its clear error where the host has no
 * native context, and on /dev/kvm its start-up probe and one tiny user
 * program run through raw_vcpu_run: a SYSCALL and a UD2 come back placed
 * on their instructions, a user read sees its page, and after the "kernel"
 * moves the page's PTE to another frame (present -> changed, which KVM
 * never sees by itself) and counts an invalidation, the read sees the new
 * frame; a PTE made not present gives #PF with CR2 and error code.
 */
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "raw/raw.h"
#include "raw_test.h"

#define RAM     (4u << 20)
#define PML4    0x1000u
#define PDPT    0x2000u
#define PD      0x3000u
#define PT      0x4000u
#define CODE    0x10000u
#define DATA_VA 0x100000u
#define FRAME_A 0x100000u
#define FRAME_B 0x101000u

/* mov $42,%eax; syscall; ud2; mov DATA_VA,%rax; ud2 */
static const uint8_t code[] = {0xb8, 0x2a, 0,    0, 0, 0x0f, 0x05, 0x0f, 0x0b, 0x48,
                               0x8b, 0x04, 0x25, 0, 0, 0x10, 0,    0x0f, 0x0b};
#define AT_SYSCALL 0x5u
#define AT_UD2     0x7u
#define AT_READ    0x9u
#define AT_UD2_2   0x11u

START_TEST(no_native_context)
{
    setenv("CAPSULE_KVM_DEVICE", "/nonexistent/kvm", 1);
    struct cpum_policy pol;
    struct pgm *pgm;
    struct raw *raw = (struct raw *)1;
    ck_assert_int_eq(cpum_policy_init(&pol, 1, NULL), CAP_OK);
    ck_assert_int_eq(pgm_create(&pgm), CAP_OK);
    ck_assert_int_eq(raw_create(pgm, &pol, &raw), VMM_E_ENGINE_UNAVAILABLE);
    ck_assert_ptr_null(raw);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "raw: no native context on this host"));
    cap_error_clear();
    pgm_destroy(pgm);
    unsetenv("CAPSULE_KVM_DEVICE");
}
END_TEST

struct rig {
    struct cpum_policy pol;
    struct pgm *pgm;
    struct raw *raw;
    struct raw_vcpu *v;
    struct cpum_cpu cpu;
    uint8_t *ram;
};

static uint64_t *pte(struct rig *r, uint64_t table, unsigned i)
{
    return (uint64_t *)(r->ram + table) + i;
}

static void rig_up(struct rig *r)
{
    memset(r, 0, sizeof(*r));
    ck_assert_int_eq(cpum_policy_init(&r->pol, 1, NULL), CAP_OK);
    ck_assert_int_eq(pgm_create(&r->pgm), CAP_OK);
    ck_assert_int_eq(pgm_map_ram(r->pgm, 0, RAM, "ram"), CAP_OK);
    r->ram = pgm_gpa_to_hva(r->pgm, 0, RAM, CAP_TRUE);
    *pte(r, PML4, 0) = PDPT | 7;
    *pte(r, PML4, 300) = PDPT | 3; /* a kernel-half entry: never copied */
    *pte(r, PDPT, 0) = PD | 7;
    *pte(r, PD, 0) = PT | 7;
    *pte(r, PT, CODE >> 12) = CODE | 5; /* user, read-only */
    *pte(r, PT, DATA_VA >> 12) = FRAME_A | 7;
    memcpy(r->ram + CODE, code, sizeof(code));
    *(uint64_t *)(r->ram + FRAME_A) = 0x1111;
    *(uint64_t *)(r->ram + FRAME_B) = 0x2222;
    cpum_cpu_init(&r->cpu, &r->pol, 0);
    struct cpum_ctx *c = &r->cpu.ctx;
    c->msr.efer = EFER_LME | EFER_LMA | EFER_SCE;
    c->cr0 = CR0_PE | CR0_PG | CR0_ET | CR0_NE;
    c->cr3 = PML4;
    c->cr4 = CR4_PAE | CR4_OSFXSR;
    c->seg[CPUM_CS] = (struct cpum_seg){.sel = 0x33,
                                        .limit = 0xffffffff,
                                        .attr = 0xb | CPUM_SEG_S | CPUM_SEG_P |
                                                3 << CPUM_SEG_DPL_SHIFT | CPUM_SEG_L | CPUM_SEG_G};
    c->seg[CPUM_SS] = (struct cpum_seg){.sel = 0x2b,
                                        .limit = 0xffffffff,
                                        .attr = 0x3 | CPUM_SEG_S | CPUM_SEG_P |
                                                3 << CPUM_SEG_DPL_SHIFT | CPUM_SEG_DB | CPUM_SEG_G};
    c->seg[CPUM_DS] = c->seg[CPUM_ES] = c->seg[CPUM_FS] = c->seg[CPUM_GS] = c->seg[CPUM_SS];
    c->rflags = 0x202;
    c->gpr[CPUM_RSP] = 0x20000;
    ck_assert_int_eq(raw_create(r->pgm, &r->pol, &r->raw), CAP_OK);
    ck_assert_int_eq(raw_vcpu_create(r->raw, &r->cpu, &r->v), CAP_OK); /* the probe passed */
}

static void rig_down(struct rig *r)
{
    raw_vcpu_destroy(r->v);
    raw_destroy(r->raw);
    pgm_destroy(r->pgm);
}

static void run_at(struct rig *r, uint32_t off, uint64_t inval, struct raw_event *ev)
{
    r->cpu.ctx.rip = CODE + off;
    cap_result rc = raw_vcpu_run(r->v, inval, ev);
    ck_assert_msg(rc == CAP_OK, "raw_vcpu_run: %s", cap_error_peek_message());
}

START_TEST(user_program)
{
    if (!raw_test_kvm)
        return;
    struct rig r;
    rig_up(&r);
    struct cpum_ctx *c = &r.cpu.ctx;
    struct raw_event ev;

    run_at(&r, 0, 0, &ev);
    ck_assert_int_eq(ev.kind, RAW_EV_SYSCALL);
    ck_assert_uint_eq(c->rip, CODE + AT_SYSCALL); /* on the SYSCALL, for rem */
    ck_assert_uint_eq(c->gpr[CPUM_RAX], 42);
    ck_assert_uint_eq(c->rflags & 0x200, 0x200); /* from R11: the user's flags */
    ck_assert_uint_eq(c->seg[CPUM_CS].sel, 0x33);
    ck_assert(r.cpu.dirty & CPUM_STATE_GPRS);

    run_at(&r, AT_UD2, 0, &ev);
    ck_assert_int_eq(ev.kind, RAW_EV_FAULT);
    ck_assert_uint_eq(ev.vector, 6);
    ck_assert_uint_eq(c->rip, CODE + AT_UD2);
    ck_assert_uint_eq(c->gpr[CPUM_RSP], 0x20000);

    run_at(&r, AT_READ, 0, &ev);
    ck_assert_int_eq(ev.kind, RAW_EV_FAULT);
    ck_assert_uint_eq(c->rip, CODE + AT_UD2_2);
    ck_assert_uint_eq(c->gpr[CPUM_RAX], 0x1111);

    /* the kernel moves the page (a present entry changes frame) and
     * invalidates: raw must not run on KVM's old translation */
    *pte(&r, PT, DATA_VA >> 12) = FRAME_B | 7;
    run_at(&r, AT_READ, 1, &ev);
    ck_assert_uint_eq(c->gpr[CPUM_RAX], 0x2222);

    *pte(&r, PT, DATA_VA >> 12) = 0;
    run_at(&r, AT_READ, 2, &ev);
    ck_assert_int_eq(ev.kind, RAW_EV_FAULT);
    ck_assert_uint_eq(ev.vector, 14);
    ck_assert_uint_eq(ev.cr2, DATA_VA);
    ck_assert_uint_eq(ev.error_code, 4); /* user read, not present */
    ck_assert_uint_eq(c->rip, CODE + AT_READ);

    /* not native: refused */
    c->rflags = 0x2;
    ck_assert_int_eq(raw_vcpu_run(r.v, 2, &ev), VMM_E_BAD_STATE);
    cap_error_clear();
    rig_down(&r);
}
END_TEST

/* What `auto` weighs stretches with (em_raw.c): the probe's costs, and
 * each run's own time and flush time. */
START_TEST(costs_and_run_times)
{
    if (!raw_test_kvm)
        return;
    struct rig r;
    rig_up(&r);
    struct raw_costs c;
    raw_vcpu_costs(r.v, &c);
    ck_assert_uint_gt(c.round_trip_ns, 0);
    ck_assert_msg(c.ns_per_insn > 0 && c.ns_per_insn * 1000 < c.round_trip_ns,
                  "native %.3f ns/insn against a round trip of %llu ns", c.ns_per_insn,
                  (unsigned long long)c.round_trip_ns);
    struct raw_event ev;
    run_at(&r, AT_UD2, 0, &ev);
    ck_assert_uint_gt(ev.run_ns, 0);
    ck_assert_uint_eq(ev.flush_ns, 0);         /* no invalidation since the probe's flush */
    *pte(&r, PT, DATA_VA >> 12) = FRAME_B | 7; /* lost: another frame */
    run_at(&r, AT_READ, 1, &ev);
    ck_assert_uint_gt(ev.flush_ns, 0);
    ck_assert_uint_ge(ev.run_ns, ev.flush_ns);
    ck_assert_uint_eq(r.cpu.ctx.gpr[CPUM_RAX], 0x2222);
    rig_down(&r);
}
END_TEST

/* An invalidation after which no table KVM holds lost anything needs no
 * flush (page-table isolation's CR3 write at every kernel exit); one after
 * a loss does, also a loss relative to an upgrade KVM may have taken in
 * between (raw_snap.c). */
START_TEST(flush_only_after_a_loss)
{
    if (!raw_test_kvm)
        return;
    struct rig r;
    rig_up(&r);
    struct raw_event ev;
    uint64_t *data = pte(&r, PT, DATA_VA >> 12);
    run_at(&r, AT_READ, 0, &ev);
    ck_assert_uint_eq(r.cpu.ctx.gpr[CPUM_RAX], 0x1111);
    run_at(&r, AT_READ, 1, &ev); /* invalidated, nothing changed */
    ck_assert_uint_eq(ev.flush_ns, 0);
    *pte(&r, PT, 0x200) = FRAME_B | 7; /* not present -> present: no loss */
    *data |= 1ull << 63;               /* NX on a data page: a loss */
    *data &= ~(1ull << 63);            /* ... undone before the entry: none */
    run_at(&r, AT_READ, 2, &ev);
    ck_assert_uint_eq(ev.flush_ns, 0);
    *data = FRAME_A | 5; /* read-only: a loss */
    run_at(&r, AT_READ, 3, &ev);
    ck_assert_uint_gt(ev.flush_ns, 0);
    *data = FRAME_A | 7; /* writable again, no invalidation: KVM may take it */
    run_at(&r, AT_READ, 3, &ev);
    ck_assert_uint_eq(ev.flush_ns, 0);
    *data = FRAME_A | 5; /* and read-only again: a loss against that */
    run_at(&r, AT_READ, 4, &ev);
    ck_assert_uint_gt(ev.flush_ns, 0);
    *data = FRAME_A | 7 | 0x40; /* dirty */
    run_at(&r, AT_READ, 4, &ev);
    *data = FRAME_A | 7; /* D cleared: the next write must set it again */
    run_at(&r, AT_READ, 5, &ev);
    ck_assert_uint_gt(ev.flush_ns, 0);
    *pte(&r, PML4, 0) = 0; /* another root's user half: a loss */
    *pte(&r, PML4, 1) = PDPT | 7;
    r.cpu.ctx.rip = CODE; /* CODE is now unmapped: #PF at fetch */
    cap_result rc = raw_vcpu_run(r.v, 6, &ev);
    ck_assert_int_eq(rc, CAP_OK);
    ck_assert_uint_gt(ev.flush_ns, 0);
    ck_assert_int_eq(ev.kind, RAW_EV_FAULT);
    ck_assert_uint_eq(ev.vector, 14);
    rig_down(&r);
}
END_TEST

TCase *tcase_engine(void)
{
    TCase *tc = tcase_create("engine");
    tcase_add_test(tc, no_native_context);
    tcase_add_test(tc, user_program);
    tcase_add_test(tc, costs_and_run_times);
    tcase_add_test(tc, flush_only_after_a_loss);
    return tc;
}
