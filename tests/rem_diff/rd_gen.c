/*
 * rd_gen.c - the sequence generator. The candidate instruction forms are not
 * a hand-written list: rd_gen_init walks the decoder's opcode maps
 * (dis_map1, dis_map0f, dis_map0f38, dis_map0f3a and every sub-table under
 * them) and keeps each leaf whose mnemonic is unprivileged, not sensitive,
 * not port I/O, fully decoded, not a control transfer other than a direct
 * forward jump, and whose operands are all general-purpose (registers,
 * memory, immediates, string operands). A few host-dependent mnemonics
 * (RDRAND, RDPID, XGETBV, ...) and the ones the CPUM policy or the host does
 * not offer (BMI1/2, ADX, MOVBE, POPCNT, LZCNT, CRC32, CX16) are dropped.
 *
 * An instance of a form gets random prefixes (operand size, REX, LOCK,
 * segment, address size, REP), a random ModRM/SIB whose memory operand
 * points into the scratch pages (through pointer registers, the stack
 * pointer, RIP-relative or absolute addressing) and random immediates; it is
 * then decoded back with dis_decode, which must agree on the mnemonic and
 * gives the length. Flags the SDM leaves undefined are tracked along every
 * path (forward jumps included) so that no instruction reads one and the
 * comparison can mask the rest.
 */
#include <cpuid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpum/cpum.h"
#include "dis/dis_internal.h"
#include "rd.h"

struct form {
    uint16_t mnem;
    uint8_t map, opcode;
    int8_t reg, mod, rm; /* fixed ModRM fields (-1 = free); mod: 0 memory, 1 register */
    int8_t pfx, rep;     /* K_PFX index (0 none, 1 66, 2 F3, 3 F2) / K_REP (0, 2, 3) */
    int8_t w, l;
    uint8_t ops[4];
    uint16_t f;
};

#define MAX_FORMS 2048
static struct form forms[MAX_FORMS];
static unsigned nforms;
uint64_t rd_mnem_hits[DIS_MNEM_COUNT];

/* Operand specs that only involve general-purpose state. */
static bool spec_ok(uint8_t s)
{
    switch (s) {
    case O__: case O_Eb: case O_Ew: case O_Ed: case O_Eq: case O_Ev: case O_Ey: case O_Evq:
    case O_M: case O_Mb: case O_Mw: case O_Md: case O_Mq: case O_Mdq: case O_Mv: case O_My:
    case O_Ry: case O_Rv: case O_Gb: case O_Gw: case O_Gd: case O_Gv: case O_Gy: case O_By:
    case O_Ib: case O_Ibs: case O_Iw: case O_Iz: case O_Iv: case O_Jb: case O_Jz:
    case O_Ob: case O_Ov: case O_1: case O_Zb: case O_Zv: case O_Zvq: case O_Zy:
    case O_AL: case O_AX: case O_rAX: case O_eAX: case O_CL:
    case O_Xb: case O_Xv: case O_Xz: case O_Yb: case O_Yv: case O_Yz: case O_XLAT:
        return true;
    default:
        return false;
    }
}

static bool spec_is_mem(uint8_t s) { return s >= O_M && s <= O_My; }
static bool spec_is_reg_only(uint8_t s) { return s == O_Ry || s == O_Rv; }
static bool spec_is_e(uint8_t s) { return s >= O_Eb && s <= O_Evq; }
static bool spec_is_g(uint8_t s) { return s >= O_Gb && s <= O_Gy; }

/* Host-dependent or outside this tester's state (FPU/SSE/segment bases/TSX). */
static bool mnem_excluded(unsigned m)
{
    switch (m) {
    case DIS_rdrand: case DIS_rdseed: case DIS_rdpid: case DIS_xgetbv: case DIS_rdpkru:
    case DIS_wrpkru: case DIS_rdfsbase: case DIS_rdgsbase: case DIS_wrfsbase:
    case DIS_wrgsbase: case DIS_rdsspd: case DIS_rdsspq: case DIS_incsspd: case DIS_incsspq:
    case DIS_endbr64: case DIS_endbr32: case DIS_ptwrite: case DIS_fwait: case DIS_emms:
    case DIS_xend: case DIS_xtest: case DIS_serialize: case DIS_monitor: case DIS_mwait:
    case DIS_xsave: case DIS_xrstor: case DIS_xsaveopt: case DIS_xsavec: case DIS_vmfunc:
    case DIS_enclu:
        return true;
    default:
        return false;
    }
}

/* CPUID requirement (leaf, register 0..3 = eax..edx, bit) of a mnemonic, if any. */
static bool mnem_feature(unsigned m, uint32_t *leaf, unsigned *reg, unsigned *bit)
{
    static const struct { uint16_t m; uint32_t leaf; uint8_t reg, bit; } req[] = {
        {DIS_popcnt, 1, 2, 23}, {DIS_movbe, 1, 2, 22}, {DIS_crc32, 1, 2, 20},
        {DIS_cmpxchg16b, 1, 2, 13}, {DIS_lahf, 0x80000001u, 2, 0}, {DIS_sahf, 0x80000001u, 2, 0},
        {DIS_lzcnt, 0x80000001u, 2, 5}, {DIS_tzcnt, 7, 1, 3}, {DIS_andn, 7, 1, 3},
        {DIS_bextr, 7, 1, 3}, {DIS_blsi, 7, 1, 3}, {DIS_blsmsk, 7, 1, 3}, {DIS_blsr, 7, 1, 3},
        {DIS_bzhi, 7, 1, 8}, {DIS_mulx, 7, 1, 8}, {DIS_pdep, 7, 1, 8}, {DIS_pext, 7, 1, 8},
        {DIS_rorx, 7, 1, 8}, {DIS_sarx, 7, 1, 8}, {DIS_shlx, 7, 1, 8}, {DIS_shrx, 7, 1, 8},
        {DIS_adcx, 7, 1, 19}, {DIS_adox, 7, 1, 19}, {DIS_clflushopt, 7, 1, 23},
        {DIS_clwb, 7, 1, 24}, {DIS_clflush, 1, 3, 19},
    };
    for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++)
        if (req[i].m == m) {
            *leaf = req[i].leaf;
            *reg = req[i].reg;
            *bit = req[i].bit;
            return true;
        }
    return false;
}

static bool feature_ok(const struct cpum_policy *pol, unsigned m)
{
    uint32_t leaf, out[4], h[4] = {0};
    unsigned reg, bit;
    if (!mnem_feature(m, &leaf, &reg, &bit))
        return true;
    cpum_cpuid(pol, 0, leaf, 0, out);
    __cpuid_count(leaf, 0, h[0], h[1], h[2], h[3]);
    return ((out[reg] >> bit) & 1) && ((h[reg] >> bit) & 1);
}

static const struct cpum_policy *g_pol;

static void add_form(const struct dis_ent *e, struct form f)
{
    const struct dis_mnem_info *mi = &dis_mnem_info[e->mnem];
    if (e->mnem == DIS_invalid || (e->f & EF_I64))
        return;
    if (mi->attr & (DIS_A_PRIV | DIS_A_SENS | DIS_A_IO | DIS_A_LENGTH_ONLY))
        return;
    if (mi->cf != DIS_CF_NONE && mi->cf != DIS_CF_JCC && mi->cf != DIS_CF_LOOP &&
        mi->cf != DIS_CF_JMP)
        return;
    if (mnem_excluded(e->mnem) || !feature_ok(g_pol, e->mnem))
        return;
    for (int i = 0; i < 4; i++)
        if (!spec_ok(e->ops[i]))
            return;
    if (mi->cf == DIS_CF_JMP && e->ops[0] != O_Jb && e->ops[0] != O_Jz)
        return; /* indirect jmp */
    if ((e->f & EF_V) && !(e->f & EF_VO))
        return; /* SSE forms (not reached: their operands are XMM) */
    if (e->mnem == DIS_cmpxchg16b && f.w != 1)
        return;
    f.mnem = e->mnem;
    memcpy(f.ops, e->ops, 4);
    f.f = e->f;
    if (nforms < MAX_FORMS)
        forms[nforms++] = f;
}

static void walk(const struct dis_ent *e, struct form f)
{
    struct form g;
    switch (e->kind) {
    case K_INSN:
        add_form(e, f);
        return;
    case K_GRP:
        for (int i = 0; i < 8; i++) {
            g = f, g.reg = (int8_t)i;
            walk(&e->sub[i], g);
        }
        return;
    case K_GRPM:
        for (int i = 0; i < 16; i++) {
            g = f, g.reg = (int8_t)(i & 7), g.mod = (int8_t)(i >= 8);
            walk(&e->sub[i], g);
        }
        return;
    case K_RM:
        for (int i = 0; i < 8; i++) {
            g = f, g.rm = (int8_t)i, g.mod = 1;
            walk(&e->sub[i], g);
        }
        return;
    case K_PFX:
        for (int i = 0; i < 4; i++) {
            g = f, g.pfx = (int8_t)i;
            walk(&e->sub[i], g);
        }
        return;
    case K_REP:
        for (int i = 0; i < 4; i++) {
            if (i == 1)
                continue;
            g = f, g.rep = (int8_t)i;
            walk(&e->sub[i], g);
        }
        return;
    case K_MOD:
        for (int i = 0; i < 2; i++) {
            g = f, g.mod = (int8_t)i;
            walk(&e->sub[i], g);
        }
        return;
    case K_M64:
        walk(&e->sub[1], f);
        return;
    case K_W:
        for (int i = 0; i < 2; i++) {
            g = f, g.w = (int8_t)i;
            walk(&e->sub[i], g);
        }
        return;
    case K_L:
        for (int i = 0; i < 2; i++) {
            g = f, g.l = (int8_t)i;
            walk(&e->sub[i], g);
        }
        return;
    }
}

static unsigned nmnems;

int rd_gen_init(bool verbose)
{
    static struct cpum_policy pol;
    static const struct dis_ent *maps[4] = {dis_map1, dis_map0f, dis_map0f38, dis_map0f3a};
    if (cpum_policy_init(&pol, 1, NULL) != CAP_OK)
        return -1;
    g_pol = &pol;
    nforms = 0;
    for (unsigned m = 0; m < 4; m++)
        for (unsigned op = 0; op < 256; op++) {
            struct form f = {.map = (uint8_t)m, .opcode = (uint8_t)op, .reg = -1, .mod = -1,
                             .rm = -1, .pfx = -1, .rep = -1, .w = -1, .l = -1};
            walk(&maps[m][op], f);
        }
    static bool seen[DIS_MNEM_COUNT];
    memset(seen, 0, sizeof(seen));
    nmnems = 0;
    for (unsigned i = 0; i < nforms; i++)
        if (!seen[forms[i].mnem]) {
            seen[forms[i].mnem] = true;
            nmnems++;
        }
    if (verbose) {
        printf("rem_diff: %u forms, %u mnemonics:", nforms, nmnems);
        for (unsigned m = 0; m < DIS_MNEM_COUNT; m++)
            if (seen[m])
                printf(" %s", dis_mnem_name(m));
        printf("\n");
    }
    return (int)nforms;
}

unsigned rd_gen_mnem_count(void) { return nmnems; }

/* ---- starting state ------------------------------------------------------------------ */

static const uint8_t ptr_pool[] = {3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

static uint64_t interesting(struct rd_rng *r)
{
    static const uint64_t v[] = {0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
                                 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull,
                                 0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull,
                                 ~0ull - 1, 0xfffffffffffffff0ull, 0x8000000080000000ull};
    switch (rd_below(r, 6)) {
    case 0: return v[rd_below(r, sizeof(v) / sizeof(v[0]))];
    case 1: return rd_below(r, 64);
    case 2: return rd_next(r) & 0xffffffffu;
    case 3: return (uint64_t)-(int64_t)rd_below(r, 300);
    default: return rd_next(r);
    }
}

void rd_gen_state(struct rd_rng *r, struct rd_state *st)
{
    memset(st, 0, sizeof(*st));
    for (unsigned i = 0; i < 16; i++)
        st->gpr[i] = interesting(r);
    unsigned np = 2 + rd_below(r, 2), pool = sizeof(ptr_pool);
    uint8_t p[sizeof(ptr_pool)];
    memcpy(p, ptr_pool, pool);
    for (unsigned i = 0; i < pool; i++) {
        unsigned j = i + rd_below(r, pool - i);
        uint8_t t = p[i];
        p[i] = p[j], p[j] = t;
    }
    for (unsigned i = 0; i < np; i++) {
        st->ptr_regs |= (uint16_t)(1u << p[i]);
        st->gpr[p[i]] = RD_SCRATCH + 0x400 + rd_below(r, RD_SCRATCH_SIZE - 0x800);
        if (rd_below(r, 2))
            st->gpr[p[i]] &= ~7ull;
    }
    st->index_reg = p[np];
    st->gpr[p[np]] = rd_below(r, 8) ? rd_below(r, 64) : (uint64_t)-(int64_t)rd_below(r, 16);
    st->gpr[CPUM_RSP] = RD_SCRATCH + 0x800 + (rd_below(r, 0x800) & ~7u) + (rd_below(r, 8) ? 0 : rd_below(r, 8));
    /* rcx small now and then so that REP and LOOP finish inside the page */
    if (rd_below(r, 2))
        st->gpr[CPUM_RCX] = rd_below(r, 40);
    st->rflags = 0x2 | 0x3000 | 0x200 | (rd_next(r) & 0x8d5) | (rd_below(r, 5) ? 0 : 0x400);
    for (unsigned i = 0; i < RD_SCRATCH_SIZE; i += 8) {
        uint64_t w = rd_below(r, 4) ? rd_next(r) : interesting(r);
        memcpy(st->scratch + i, &w, 8);
    }
}

/* ---- one instruction ----------------------------------------------------------------- */

static bool form_has(const struct form *f, bool (*pred)(uint8_t))
{
    for (int i = 0; i < 4; i++)
        if (pred(f->ops[i]))
            return true;
    return false;
}
static bool spec_is_moffs(uint8_t s) { return s == O_Ob || s == O_Ov; }
static bool spec_is_rel(uint8_t s) { return s == O_Jb || s == O_Jz; }

static void put(uint8_t *b, unsigned *n, uint8_t v) { b[(*n)++] = v; }

/* Memory ModRM/SIB/disp into b; sets *rex bits X/B; returns the offset of a
 * RIP-relative disp32 or -1. */
static int gen_mem(struct rd_rng *r, const struct rd_state *st, unsigned reg, uint8_t *b,
                   unsigned *n, unsigned *rexx, unsigned *rexb)
{
    unsigned ptrs[16], np = 0;
    for (unsigned i = 0; i < 16; i++)
        if (st->ptr_regs & (1u << i))
            ptrs[np++] = i;
    unsigned kind = rd_below(r, 10), base = ptrs[rd_below(r, np)];
    int32_t d = (int32_t)rd_below(r, 0x400) - 0x200;
    *rexx = 0, *rexb = base >> 3;
    switch (kind) {
    case 0: case 1: /* RIP-relative: patched when assembled */
        put(b, n, (uint8_t)(((reg & 7) << 3) | 5));
        for (int i = 0; i < 4; i++)
            put(b, n, 0);
        *rexb = rd_below(r, 2);
        return (int)*n - 4;
    case 2: { /* absolute [disp32] through SIB, no base, no index */
        uint32_t a = (uint32_t)(RD_SCRATCH + 0x100 + rd_below(r, RD_SCRATCH_SIZE - 0x200));
        put(b, n, (uint8_t)(((reg & 7) << 3) | 4));
        put(b, n, (uint8_t)((rd_below(r, 4) << 6) | (4 << 3) | 5));
        for (int i = 0; i < 4; i++)
            put(b, n, (uint8_t)(a >> (8 * i)));
        *rexb = rd_below(r, 2);
        return -1;
    }
    case 3: /* [rsp + disp8] */
        put(b, n, (uint8_t)(0x40 | ((reg & 7) << 3) | 4));
        put(b, n, (uint8_t)((rd_below(r, 4) << 6) | (4 << 3) | 4));
        put(b, n, (uint8_t)(int8_t)(d / 4));
        *rexb = 0;
        return -1;
    case 4: case 5: { /* [base + index*scale + disp] */
        unsigned idx = st->index_reg, mod = rd_below(r, 3);
        if ((base & 7) == 5 && mod == 0)
            mod = 1;
        put(b, n, (uint8_t)((mod << 6) | ((reg & 7) << 3) | 4));
        put(b, n, (uint8_t)((rd_below(r, 4) << 6) | ((idx & 7) << 3) | (base & 7)));
        *rexx = idx >> 3;
        if (mod == 1)
            put(b, n, (uint8_t)(int8_t)(d / 4));
        else if (mod == 2)
            for (int i = 0; i < 4; i++)
                put(b, n, (uint8_t)((uint32_t)d >> (8 * i)));
        return -1;
    }
    default: { /* [base + disp] */
        unsigned mod = rd_below(r, 3);
        if ((base & 7) == 5 && mod == 0)
            mod = 1;
        if ((base & 7) == 4) { /* r12 needs a SIB */
            put(b, n, (uint8_t)((mod << 6) | ((reg & 7) << 3) | 4));
            put(b, n, (uint8_t)((4 << 3) | 4));
        } else {
            put(b, n, (uint8_t)((mod << 6) | ((reg & 7) << 3) | (base & 7)));
        }
        if (mod == 1)
            put(b, n, (uint8_t)(int8_t)(d / 4));
        else if (mod == 2)
            for (int i = 0; i < 4; i++)
                put(b, n, (uint8_t)((uint32_t)d >> (8 * i)));
        return -1;
    }
    }
}

/* Decodes item bytes and fills rel_pos / rip_pos from the decode. */
static bool item_fixups(struct rd_item *it, uint64_t addr, struct dis_insn *in)
{
    if (dis_decode(it->bytes, it->len, DIS_MODE_64, in) != it->len)
        return false;
    it->rel_pos = -1;
    it->rip_pos = -1;
    for (int i = 0; i < in->nops; i++) {
        if (in->op[i].kind == DIS_OP_REL) {
            it->rel_size = in->imm_len;
            it->rel_pos = (int8_t)(it->len - in->imm_len);
        }
        if (in->op[i].kind == DIS_OP_MEM && in->op[i].mem.base == DIS_REG_RIP) {
            it->rip_pos = (int8_t)(it->len - in->imm_len - 4);
            it->rip_target = addr + it->len + (uint64_t)in->op[i].mem.disp;
        }
    }
    return true;
}

static bool gen_insn(struct rd_rng *r, const struct rd_state *st, const struct form *f,
                     struct rd_item *it, struct dis_insn *in)
{
    uint8_t b[32];
    unsigned n = 0;
    const struct dis_mnem_info *mi = &dis_mnem_info[f->mnem];
    bool vex = (f->f & EF_VO) != 0, branch = form_has(f, spec_is_rel);
    bool mem;
    if (f->mod >= 0)
        mem = f->mod == 0;
    else if (form_has(f, spec_is_mem))
        mem = true;
    else if (form_has(f, spec_is_reg_only))
        mem = false;
    else
        mem = rd_below(r, 2);
    bool modrm = f->reg >= 0 || f->mod >= 0 || f->rm >= 0 || form_has(f, spec_is_e) ||
                 form_has(f, spec_is_mem) || form_has(f, spec_is_reg_only) || form_has(f, spec_is_g);
    if (!modrm)
        mem = false;

    /* legacy prefixes */
    uint8_t pf[6];
    unsigned npf = 0;
    if (!vex) {
        if (f->pfx > 0)
            pf[npf++] = (uint8_t[]){0, 0x66, 0xf3, 0xf2}[f->pfx];
        if (f->rep > 0)
            pf[npf++] = f->rep == 2 ? 0xf3 : 0xf2;
        if (f->pfx < 0 && !branch && rd_below(r, 5) == 0)
            pf[npf++] = 0x66;
        if ((mi->attr & DIS_A_STRING) && f->pfx < 0 && f->rep < 0 && rd_below(r, 2))
            pf[npf++] = (mi->attr & DIS_A_REPE) && rd_below(r, 2) ? 0xf2 : 0xf3;
        if (mem && (mi->attr & DIS_A_LOCKABLE) && rd_below(r, 4) == 0)
            pf[npf++] = 0xf0;
    }
    if ((mem || (mi->attr & DIS_A_STRING)) && rd_below(r, 8) == 0)
        pf[npf++] = (uint8_t[]){0x64, 0x65, 0x26, 0x2e, 0x36, 0x3e}[rd_below(r, 6)];
    if ((mem || (mi->attr & DIS_A_STRING)) && rd_below(r, 10) == 0)
        pf[npf++] = 0x67;
    for (unsigned i = 0; i < npf; i++) { /* any order */
        unsigned j = i + rd_below(r, npf - i);
        uint8_t t = pf[i];
        pf[i] = pf[j], pf[j] = t;
    }
    for (unsigned i = 0; i < npf; i++)
        put(b, &n, pf[i]);

    /* ModRM part first (into a side buffer), so REX/VEX know R/X/B */
    uint8_t mb[16];
    unsigned mn = 0, rexr = 0, rexx = 0, rexb = 0;
    unsigned reg = f->reg >= 0 ? (unsigned)f->reg | (rd_below(r, 2) << 3) : rd_below(r, 16);
    int ripoff = -1;
    if (modrm) {
        rexr = reg >> 3;
        if (mem) {
            ripoff = gen_mem(r, st, reg, mb, &mn, &rexx, &rexb);
        } else {
            unsigned rm = f->rm >= 0 ? (unsigned)f->rm : rd_below(r, 16);
            rexb = f->rm >= 0 ? rd_below(r, 2) : rm >> 3;
            mb[mn++] = (uint8_t)(0xc0 | ((reg & 7) << 3) | (rm & 7));
        }
    } else {
        rexb = rd_below(r, 2); /* opcode register (Zv...) or nothing */
    }
    unsigned w = f->w >= 0 ? (unsigned)f->w : rd_below(r, 2);
    if (vex) {
        put(b, &n, 0xc4);
        put(b, &n, (uint8_t)((!rexr << 7) | (!rexx << 6) | (!rexb << 5) | f->map));
        unsigned vvvv = rd_below(r, 16);
        put(b, &n, (uint8_t)((w << 7) | ((~vvvv & 15) << 3) | ((f->l > 0) << 2) |
                             (f->pfx > 0 ? f->pfx : 0)));
    } else {
        unsigned rex = 0x40 | (w << 3) | (rexr << 2) | (rexx << 1) | rexb;
        if (rex != 0x40 || rd_below(r, 4) == 0)
            put(b, &n, (uint8_t)rex);
        if (f->map >= 1)
            put(b, &n, 0x0f);
        if (f->map == 2)
            put(b, &n, 0x38);
        if (f->map == 3)
            put(b, &n, 0x3a);
    }
    put(b, &n, f->opcode);
    unsigned mstart = n;
    for (unsigned i = 0; i < mn; i++)
        put(b, &n, mb[i]);
    /* immediates: small or random; a moffs gets a scratch address */
    if (form_has(f, spec_is_moffs)) {
        uint64_t a = RD_SCRATCH + rd_below(r, RD_SCRATCH_SIZE - 8);
        for (int i = 0; i < 8; i++)
            put(b, &n, (uint8_t)(a >> (8 * i)));
    } else {
        uint64_t v = rd_below(r, 2) ? rd_below(r, 40) : rd_next(r);
        if (rd_below(r, 4) == 0)
            v = (uint64_t)-(int64_t)v;
        for (int i = 0; i < 8; i++)
            put(b, &n, (uint8_t)(v >> (8 * i)));
    }
    int len = dis_decode(b, n, DIS_MODE_64, in);
    if (len <= 0 || in->mnem != f->mnem)
        return false;
    if (in->attr & (DIS_A_PRIV | DIS_A_SENS | DIS_A_IO | DIS_A_LENGTH_ONLY))
        return false;
    if (f->map == 1 && (f->opcode == 0xa4 || f->opcode == 0xac) && in->opsize == 2 &&
        (in->op[2].kind != DIS_OP_IMM || (in->op[2].imm & 31) > 16))
        return false; /* 16-bit SHLD/SHRD: count > 16 is undefined */
    if (f->map == 1 && (f->opcode == 0xa5 || f->opcode == 0xad) && in->opsize == 2)
        return false;
    if (branch && (in->prefixes & DIS_PFX_OPSIZE))
        return false; /* 66 on near branches differs between vendors */
    /* keep the stack and pointer registers mostly intact */
    uint16_t prot = (uint16_t)(st->ptr_regs | (1u << st->index_reg) | (1u << CPUM_RSP));
    for (int i = 0; i < in->nops; i++) {
        const struct dis_op *o = &in->op[i];
        if (o->kind == DIS_OP_REG && o->reg_class == DIS_RC_GPR && (o->access & DIS_ACC_W) &&
            (prot & (1u << o->reg)) && rd_below(r, 10))
            return false;
    }
    memset(it, 0, sizeof(*it));
    memcpy(it->bytes, b, (size_t)len);
    it->len = (uint8_t)len;
    (void)mstart;
    (void)ripoff;
    return item_fixups(it, 0, in);
}

/* ---- assembly and flag analysis ------------------------------------------------------ */

static bool is_shift(unsigned m)
{
    switch (m) {
    case DIS_rol: case DIS_ror: case DIS_rcl: case DIS_rcr: case DIS_shl: case DIS_shr:
    case DIS_sal: case DIS_sar: case DIS_shld: case DIS_shrd:
        return true;
    default:
        return false;
    }
}

static uint32_t undef_after(const struct dis_insn *in, uint32_t u)
{
    if (is_shift(in->mnem)) {
        const struct dis_op *c = &in->op[in->nops - 1];
        if (c->kind == DIS_OP_IMM) {
            unsigned cnt = c->size == 0 ? 1 : (unsigned)(c->imm & (in->opsize == 8 ? 63 : 31));
            if (cnt == 0)
                return u;
        } else {
            return u | in->flags_undef; /* CL may be 0: flags kept */
        }
    }
    /* REP CMPS/SCAS with RCX = 0 keeps the flags, undefined ones too */
    if ((in->attr & DIS_A_STRING) && (in->prefixes & (DIS_PFX_REP | DIS_PFX_REPNE)))
        return u | in->flags_undef;
    return (u & ~in->flags_written) | in->flags_undef;
}

void rd_assemble(const struct rd_seq *seq, struct rd_asm *a)
{
    unsigned n = seq->n, pos = 0;
    memset(a->undef_in, 0, sizeof(a->undef_in));
    a->valid = true;
    for (unsigned i = 0; i < n; i++) {
        a->addr[i] = RD_CODE + pos;
        memcpy(a->code + pos, seq->it[i].bytes, seq->it[i].len);
        pos += seq->it[i].len;
    }
    a->addr[n] = RD_CODE + pos;
    a->code[pos] = 0xe6;
    a->code[pos + 1] = RD_PORT_END;
    a->len = pos + 2;
    for (unsigned i = 0; i < n; i++) {
        const struct rd_item *it = &seq->it[i];
        uint8_t *p = a->code + (a->addr[i] - RD_CODE);
        uint64_t next = a->addr[i] + it->len;
        if (it->rel_pos >= 0) {
            unsigned t = it->target > (int)n || it->target < 0 ? n : (unsigned)it->target;
            int64_t d = (int64_t)(a->addr[t] - next);
            if (it->rel_size == 1 && (d < -128 || d > 127))
                a->valid = false;
            for (unsigned k = 0; k < it->rel_size; k++)
                p[it->rel_pos + k] = (uint8_t)((uint64_t)d >> (8 * k));
        }
        if (it->rip_pos >= 0) {
            int64_t d = (int64_t)(it->rip_target - next);
            for (unsigned k = 0; k < 4; k++)
                p[it->rip_pos + k] = (uint8_t)((uint64_t)d >> (8 * k));
        }
    }
    uint32_t pend[RD_MAX_INSNS + 1] = {0}, u = 0;
    bool preach[RD_MAX_INSNS + 1] = {false}, ft = true;
    for (unsigned i = 0; i < n; i++) {
        struct dis_insn *in = &a->insn[i];
        if (dis_decode(a->code + (a->addr[i] - RD_CODE), seq->it[i].len, DIS_MODE_64, in) !=
            seq->it[i].len) {
            a->valid = false;
            in->mnem = DIS_invalid;
            continue;
        }
        uint32_t uin = (ft ? u : 0) | pend[i];
        bool reach = ft || preach[i];
        a->undef_in[i] = uin;
        if (reach && (in->flags_read & uin))
            a->valid = false;
        uint32_t uout = undef_after(in, uin);
        if (seq->it[i].rel_pos >= 0) {
            unsigned t = seq->it[i].target > (int)n || seq->it[i].target < 0 ? n
                                                                             : (unsigned)seq->it[i].target;
            pend[t] |= uout;
            preach[t] |= reach;
        }
        ft = reach && in->cf != DIS_CF_JMP;
        u = uout;
    }
    a->undef_in[n] = (ft ? u : 0) | pend[n];
}

void rd_gen_seq(struct rd_rng *r, const struct rd_state *st, unsigned max_len, struct rd_seq *seq)
{
    static struct rd_asm a;
    unsigned n = 1 + rd_below(r, max_len);
    seq->n = 0;
    for (unsigned i = 0; i < n; i++) {
        for (int tries = 0; tries < 200; tries++) {
            const struct form *f = &forms[rd_below(r, nforms)];
            struct dis_insn in;
            struct rd_item *it = &seq->it[i];
            if (!gen_insn(r, st, f, it, &in))
                continue;
            if (it->rel_pos >= 0)
                it->target = (int16_t)(i + 1 + rd_below(r, 4));
            if (it->rip_pos >= 0)
                it->rip_target = RD_SCRATCH + rd_below(r, RD_SCRATCH_SIZE);
            seq->n = i + 1;
            rd_assemble(seq, &a);
            if (!a.valid) {
                seq->n = i;
                continue;
            }
            break;
        }
    }
    for (unsigned i = 0; i < seq->n; i++)
        if (seq->it[i].target > (int)seq->n)
            seq->it[i].target = (int16_t)seq->n;
}

int rd_parse_code(const uint8_t *code, unsigned len, struct rd_seq *seq)
{
    uint64_t addr[RD_MAX_INSNS + 1], tgt[RD_MAX_INSNS];
    unsigned pos = 0, n = 0;
    while (pos < len) {
        struct dis_insn in;
        struct rd_item *it = &seq->it[n];
        if (n == RD_MAX_INSNS)
            return -1;
        int l = dis_decode(code + pos, len - pos, DIS_MODE_64, &in);
        if (l <= 0)
            return -1;
        memset(it, 0, sizeof(*it));
        memcpy(it->bytes, code + pos, (size_t)l);
        it->len = (uint8_t)l;
        addr[n] = RD_CODE + pos;
        if (!item_fixups(it, addr[n], &in))
            return -1;
        tgt[n] = it->rel_pos >= 0 ? dis_rel_target(&in, addr[n]) : 0;
        pos += (unsigned)l;
        n++;
    }
    addr[n] = RD_CODE + pos;
    for (unsigned i = 0; i < n; i++) {
        if (seq->it[i].rel_pos < 0)
            continue;
        seq->it[i].target = -1;
        for (unsigned j = i + 1; j <= n; j++)
            if (addr[j] == tgt[i])
                seq->it[i].target = (int16_t)j;
        if (seq->it[i].target < 0)
            return -1;
    }
    seq->n = n;
    return 0;
}

bool rd_vector_has_err(int v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21;
}
