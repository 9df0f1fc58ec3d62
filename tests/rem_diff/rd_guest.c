/*
 * rd_guest.c - the two machines a sequence runs on: one under KVM (hm), one
 * in rem, each over its own PGM map with the same image. The 64-bit CPL0
 * environment (GDT, IDT, TSS, page tables) is built in guest memory and put
 * in place through the CPUM context - no guest CPL0 code runs except the
 * two-instruction exception stubs - and every sequence starts at CPL3 with
 * the state of struct rd_state. rem translates every block at its first
 * run (the block translator is what runs) unless CAPSULE_REM_JIT=0 or
 * CAPSULE_REM_JIT_HOT says otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "hwaccm/hwaccm.h"
#include "rd.h"
#include "rem/rem.h"

#define RAM_SIZE 0x400000u

struct machine {
    struct cpum_cpu cpu;
    struct pgm *pgm;
    uint8_t *ram;
    struct hwaccm *hm;
    struct hwaccm_vcpu *hv;
    struct rem *rem;
    struct rem_vcpu *rv;
};

struct rd_guest {
    struct cpum_policy policy;
    struct cpum_ctx base; /* CPL3 long mode, everything but GPRs/RIP/RFLAGS */
    struct machine hm, rem;
    bool have_hm;
};

static const uint64_t gdt[] = {
    0,
    0x00af9b000000ffffull, /* 0x08 kernel code64 */
    0x00cf93000000ffffull, /* 0x10 kernel data */
    0x00cffb000000ffffull, /* 0x18 user code32 */
    0x00cff3000000ffffull, /* 0x20 user data (0x23) */
    0x00affb000000ffffull, /* 0x28 user code64 (0x2b) */
    0, 0,                  /* 0x30 TSS */
};

static void wr64(uint8_t *ram, uint64_t gpa, uint64_t v) { memcpy(ram + gpa, &v, 8); }

static void build_image(uint8_t *ram)
{
    memcpy(ram + 0x1000, gdt, sizeof(gdt));
    uint64_t tb = 0x3000, tl = 0x67;
    wr64(ram, 0x1030, (tl & 0xffff) | ((tb & 0xffffff) << 16) | (0x89ull << 40) |
                          ((tb >> 24) << 56));
    wr64(ram, 0x1038, tb >> 32);
    for (unsigned v = 0; v < 32; v++) {
        uint64_t h = 0x4000 + 8 * v;
        wr64(ram, 0x2000 + 16 * v, (h & 0xffff) | (0x08ull << 16) | (0x8eull << 40) |
                                       ((h >> 16) << 48));
        wr64(ram, 0x2008 + 16 * v, h >> 32);
        uint8_t stub[8] = {0xe6, (uint8_t)(RD_PORT_XCPT + v), 0xf4, 0xeb, 0xfd, 0, 0, 0};
        memcpy(ram + h, stub, 8);
    }
    wr64(ram, 0x3004, RD_KSTACK_TOP); /* TSS.RSP0 */
    wr64(ram, 0x8000, 0x9000 | 7);
    wr64(ram, 0x9000, 0xa000 | 7);
    wr64(ram, 0xa000, 0xb000 | 7);
    wr64(ram, 0xa008, 0xc000 | 7);
    for (uint64_t p = 0x1000; p < 0x6000; p += 0x1000)
        wr64(ram, 0xb000 + (p >> 12) * 8, p | 3); /* supervisor RW */
    wr64(ram, 0xb000 + (RD_CODE >> 12) * 8, RD_CODE | 5); /* user, read-only */
    for (uint64_t p = RD_SCRATCH; p < RD_SCRATCH + RD_SCRATCH_SIZE; p += 0x1000)
        wr64(ram, 0xc000 + ((p - 0x200000) >> 12) * 8, p | 7);
}

static void base_ctx(struct cpum_ctx *c)
{
    struct cpum_seg code = {.sel = 0x2b, .attr = 0xa0fb, .limit = 0xffffffffu, .base = 0};
    struct cpum_seg data = {.sel = 0x23, .attr = 0xc0f3, .limit = 0xffffffffu, .base = 0};
    for (unsigned s = 0; s < CPUM_SREG_COUNT; s++)
        c->seg[s] = data;
    c->seg[CPUM_CS] = code;
    c->seg[CPUM_GS].base = 0x100; /* gs: overrides see a different address */
    c->tr = (struct cpum_seg){.sel = 0x30, .base = 0x3000, .limit = 0x67, .attr = 0x8b};
    c->ldtr = (struct cpum_seg){.attr = 0};
    c->gdtr = (struct cpum_dtr){.base = 0x1000, .limit = sizeof(gdt) - 1};
    c->idtr = (struct cpum_dtr){.base = 0x2000, .limit = 32 * 16 - 1};
    c->cr0 = CR0_PG | CR0_WP | CR0_NE | CR0_ET | CR0_MP | CR0_PE;
    c->cr2 = 0;
    c->cr3 = 0x8000;
    c->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    c->msr.efer = EFER_LME | EFER_LMA | EFER_NXE;
}

static int machine_init(struct rd_guest *g, struct machine *m, bool hm, char *err, size_t errlen)
{
    cpum_cpu_init(&m->cpu, &g->policy, 0);
    if (pgm_create(&m->pgm) != CAP_OK || pgm_map_ram(m->pgm, 0, RAM_SIZE, "ram") != CAP_OK) {
        snprintf(err, errlen, "pgm: cannot map %u bytes of RAM", RAM_SIZE);
        return -1;
    }
    m->ram = pgm_gpa_to_hva(m->pgm, 0, RAM_SIZE, CAP_TRUE);
    build_image(m->ram);
    cap_result rc;
    if (hm) {
        rc = hwaccm_create(m->pgm, &g->policy, &m->hm);
        if (rc == CAP_OK)
            rc = hwaccm_vcpu_create(m->hm, &m->cpu, &m->hv);
    } else {
        rc = rem_create(m->pgm, &g->policy, NULL, &m->rem);
        if (rc == CAP_OK)
            rc = rem_vcpu_create(m->rem, &m->cpu, &m->rv);
        /* Each sequence runs once: translate every block at its first run, so
         * the translator (rem_jit.c) is what is compared with the hardware,
         * unless the environment chose (CAPSULE_REM_JIT=0: the interpreter;
         * CAPSULE_REM_JIT_HOT=N). */
        const char *jit = getenv("CAPSULE_REM_JIT"), *hot = getenv("CAPSULE_REM_JIT_HOT");
        if (rc == CAP_OK && !(jit && !strcmp(jit, "0")) && !(hot && *hot))
            rem_vcpu_set_jit(m->rv, 0);
    }
    if (rc != CAP_OK) {
        const char *msg = cap_error_peek_message();
        snprintf(err, errlen, "%s: %s: %s", hm ? "hwaccm" : "rem", vmm_result_name(rc),
                 msg ? msg : "");
        return -1;
    }
    return 0;
}

static void machine_fini(struct machine *m)
{
    if (m->hv)
        hwaccm_vcpu_destroy(m->hv);
    hwaccm_destroy(m->hm);
    if (m->rv)
        rem_vcpu_destroy(m->rv);
    rem_destroy(m->rem);
    if (m->pgm)
        pgm_destroy(m->pgm);
}

int rd_guest_create(struct rd_guest **out, bool want_hm, const char *profile, char *err,
                    size_t errlen)
{
    struct rd_guest *g = calloc(1, sizeof(*g));
    *out = NULL;
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* with hm, the policy as a VM under hm gets it: the host profile
     * narrowed to what the hypervisor offers (rem runs the same one) */
    cap_result rc = want_hm ? hwaccm_policy_init(&g->policy, 1, profile)
                            : cpum_policy_init(&g->policy, 1, profile);
    if (rc != CAP_OK) {
        snprintf(err, errlen, "%s", cap_error_peek_message());
        free(g);
        return -1;
    }
    base_ctx(&g->base);
    g->have_hm = want_hm;
    if (machine_init(g, &g->rem, false, err, errlen) != 0 ||
        (want_hm && machine_init(g, &g->hm, true, err, errlen) != 0)) {
        rd_guest_destroy(g);
        return -1;
    }
    *out = g;
    return 0;
}

void rd_guest_destroy(struct rd_guest *g)
{
    if (!g)
        return;
    machine_fini(&g->hm);
    machine_fini(&g->rem);
    free(g);
}

/* Puts the sequence's image and starting state into machine m. */
static void load(struct rd_guest *g, struct machine *m, const struct rd_state *st,
                 const struct rd_asm *a)
{
    memset(m->ram + RD_CODE, 0xcc, 0x1000);
    memcpy(m->ram + RD_CODE, a->code, a->len);
    memcpy(m->ram + RD_SCRATCH, st->scratch, RD_SCRATCH_SIZE);
    memset(m->ram + RD_KSTACK_TOP - 0x100, 0, 0x100);
    struct cpum_fxsave fpu = m->cpu.ctx.fpu;
    m->cpu.ctx = g->base;
    m->cpu.ctx.fpu = fpu;
    memcpy(m->cpu.ctx.gpr, st->gpr, sizeof(st->gpr));
    m->cpu.ctx.rip = RD_CODE;
    m->cpu.ctx.rflags = st->rflags;
    cpum_mark_dirty(&m->cpu, CPUM_STATE_ALL);
}

/* Reads the outcome from machine m after an exit on `port`. */
static void collect(struct machine *m, const struct rd_asm *a, int port, struct rd_result *res)
{
    const struct cpum_ctx *c = &m->cpu.ctx;
    memcpy(res->gpr, c->gpr, sizeof(res->gpr));
    res->rip = c->rip;
    res->rflags = c->rflags;
    res->err = res->cr2 = 0;
    if (port == RD_PORT_END) {
        res->vector = -1;
        if (res->rip == RD_CODE + a->len - 2) /* KVM may stop before the OUT */
            res->rip += 2;
    } else {
        uint64_t f[6];
        memcpy(f, m->ram + RD_KSTACK_TOP - 48, sizeof(f));
        res->vector = port - RD_PORT_XCPT;
        res->err = rd_vector_has_err(res->vector) ? f[0] : 0;
        res->rip = f[1];
        res->rflags = f[3];
        res->gpr[CPUM_RSP] = f[4];
        if ((f[2] & 0xffff) != 0x2b || (f[5] & 0xffff) != 0x23)
            snprintf(res->why, sizeof(res->why), "exception from CS %#llx SS %#llx",
                     (unsigned long long)f[2], (unsigned long long)f[5]);
        if (res->vector == 14)
            res->cr2 = c->cr2;
    }
    memcpy(res->scratch, m->ram + RD_SCRATCH, RD_SCRATCH_SIZE);
}

static void classify(struct machine *m, const struct rd_asm *a, const struct vmm_exit *x,
                     struct rd_result *res)
{
    res->other = 0;
    res->why[0] = '\0';
    if (x->reason == VMM_EXIT_IO && x->io.write && x->io.size == 1 &&
        (x->io.port == RD_PORT_END ||
         (x->io.port >= RD_PORT_XCPT && x->io.port < RD_PORT_XCPT + 32))) {
        collect(m, a, x->io.port, res);
        if (res->why[0])
            res->other = 1;
        return;
    }
    memset(res, 0, sizeof(*res));
    res->other = 1;
    res->vector = -2;
    if (x->reason == VMM_EXIT_IO)
        snprintf(res->why, sizeof(res->why), "I/O exit port %#x", x->io.port);
    else
        snprintf(res->why, sizeof(res->why), "exit %s at rip %#llx", vmm_exit_name(x->reason),
                 (unsigned long long)m->cpu.ctx.rip);
    memcpy(res->gpr, m->cpu.ctx.gpr, sizeof(res->gpr));
    res->rip = m->cpu.ctx.rip;
    res->rflags = m->cpu.ctx.rflags;
}

void rd_run_hm(struct rd_guest *g, const struct rd_state *st, const struct rd_asm *a,
               struct rd_result *res)
{
    struct machine *m = &g->hm;
    struct vmm_exit x = {0};
    load(g, m, st, a);
    for (int i = 0; i < 1000; i++) {
        if (hwaccm_vcpu_run(m->hv, &x) != CAP_OK) {
            x.reason = VMM_EXIT_INTERNAL_ERROR;
            break;
        }
        if (x.reason != VMM_EXIT_INTERRUPTED)
            break;
    }
    classify(m, a, &x, res);
}

void rd_run_rem(struct rd_guest *g, const struct rd_state *st, const struct rd_asm *a,
                struct rd_result *res)
{
    struct machine *m = &g->rem;
    struct vmm_exit x = {0};
    load(g, m, st, a);
    if (rem_vcpu_run(m->rv, 1000000, &x) != CAP_OK)
        x.reason = VMM_EXIT_INTERNAL_ERROR;
    classify(m, a, &x, res);
}
