/*
 * dis_decode.c - the decoder: prefixes, REX/VEX/EVEX/XOP, the walk through
 * the opcode maps of dis_tables.c, then ModRM/SIB/displacement and the
 * operands the entry's specs ask for, then operand access, RFLAGS and
 * attributes. Every byte goes through fetch(), which enforces both `avail`
 * and the 15-byte limit, so no path reads beyond either.
 */
#include <string.h>

#include "dis/dis_internal.h"

struct st {
    const uint8_t *b;
    size_t avail, pos;
    struct dis_insn *in;
    int mode;
    uint8_t rex_w, rex_r, rex_x, rex_b;
    uint8_t has66, has67, rep, lock, used66, usedrep;
    uint8_t vex, vex_pp;
    uint8_t have_modrm, mod, reg, rm; /* reg/rm without REX extension */
    uint8_t have_mem;
    struct dis_op mem; /* decoded memory form of ModRM */
};

#define TRY(x)            \
    do {                  \
        int r_ = (x);     \
        if (r_ < 0)       \
            return r_;    \
    } while (0)

static int fetch(struct st *s, uint8_t *v)
{
    if (s->pos >= DIS_MAX_LEN)
        return DIS_ERR_TOOLONG;
    if (s->pos >= s->avail)
        return DIS_ERR_MORE;
    *v = s->b[s->pos++];
    return 0;
}

static int peek(struct st *s, uint8_t *v)
{
    if (s->pos >= DIS_MAX_LEN)
        return DIS_ERR_TOOLONG;
    if (s->pos >= s->avail)
        return DIS_ERR_MORE;
    *v = s->b[s->pos];
    return 0;
}

/* Little-endian n-byte value, zero-extended. */
static int fetch_n(struct st *s, unsigned n, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned i = 0; i < n; i++) {
        uint8_t c;
        TRY(fetch(s, &c));
        x |= (uint64_t)c << (8 * i);
    }
    *v = x;
    return 0;
}

static int64_t sext(uint64_t v, unsigned bytes)
{
    unsigned sh = 64 - 8 * bytes;
    return bytes >= 8 ? (int64_t)v : (int64_t)(v << sh) >> sh;
}

static uint64_t trunc_to(uint64_t v, unsigned bytes)
{
    return bytes >= 8 ? v : v & ((1ull << (8 * bytes)) - 1);
}

static int need_modrm(struct st *s)
{
    uint8_t m;
    if (s->have_modrm)
        return 0;
    TRY(fetch(s, &m));
    s->have_modrm = 1;
    s->in->has_modrm = 1;
    s->in->modrm = m;
    s->mod = m >> 6;
    s->reg = (m >> 3) & 7;
    s->rm = m & 7;
    return 0;
}

/* In 64-bit mode ES/CS/SS/DS overrides are ignored: the segment in effect
 * is the default one (SS for an RBP/RSP base, else DS), which decides
 * between #SS and #GP for a non-canonical address. (An earlier reading that
 * an SS override gives #SS came from KVM's instruction emulator; the CPU
 * itself gives #GP: tests/rem_diff's native reference.) */
static uint8_t default_seg(struct st *s, uint8_t base)
{
    uint8_t ov = s->in->seg_override;
    if (ov != DIS_SEG_NONE && (s->mode != 64 || ov >= DIS_SEG_FS))
        return ov;
    return (base == 4 || base == 5) ? DIS_SEG_SS : DIS_SEG_DS;
}

/* SIB/displacement of the memory form; ModRM already read, mod != 3. */
static int decode_mem(struct st *s)
{
    static const uint8_t b16[8] = {3, 3, 5, 5, 6, 7, 5, 3};
    static const uint8_t i16[8] = {6, 7, 6, 7, DIS_REG_NONE, DIS_REG_NONE, DIS_REG_NONE,
                                   DIS_REG_NONE};
    struct dis_op *m = &s->mem;
    uint64_t d = 0;
    unsigned dlen = 0;
    uint8_t ssbase = DIS_REG_NONE; /* base that implies SS */

    m->kind = DIS_OP_MEM;
    m->mem.addr_size = s->in->addrsize;
    m->mem.scale = 1;
    m->mem.index = DIS_REG_NONE;
    m->mem.base = DIS_REG_NONE;
    if (s->in->addrsize == 2) {
        if (s->mod == 0 && s->rm == 6) {
            dlen = 2;
        } else {
            m->mem.base = b16[s->rm];
            m->mem.index = i16[s->rm];
            dlen = s->mod == 1 ? 1 : s->mod == 2 ? 2 : 0;
            if (m->mem.base == 5)
                ssbase = 5;
        }
    } else {
        uint8_t base = s->rm;
        if (s->rm == 4) {
            uint8_t sib;
            TRY(fetch(s, &sib));
            uint8_t idx = ((sib >> 3) & 7) | (s->rex_x << 3);
            m->mem.index = idx == 4 ? DIS_REG_NONE : idx;
            m->mem.scale = 1 << (sib >> 6);
            base = sib & 7;
            if (base == 5 && s->mod == 0) {
                dlen = 4;
                base = DIS_REG_NONE;
            }
        } else if (s->rm == 5 && s->mod == 0) {
            dlen = 4;
            base = s->mode == 64 ? DIS_REG_RIP : DIS_REG_NONE;
        }
        if (base < 8) {
            base |= s->rex_b << 3;
            if (base == 4 || base == 5)
                ssbase = base;
        }
        m->mem.base = base;
        if (s->mod == 1)
            dlen = 1;
        else if (s->mod == 2)
            dlen = 4;
    }
    if (dlen)
        TRY(fetch_n(s, dlen, &d));
    m->mem.disp = sext(d, dlen ? dlen : 1) * (dlen != 0);
    if (s->in->addrsize == 2 && dlen == 2 && m->mem.base == DIS_REG_NONE)
        m->mem.disp = (int64_t)d; /* absolute 16-bit offset */
    m->mem.seg = default_seg(s, ssbase);
    s->have_mem = 1;
    return 0;
}

/* Spec classes. */
enum { SC_NONE, SC_RM, SC_MEM, SC_RMREG, SC_REG, SC_OTHER };
static uint8_t spec_class(uint8_t sp)
{
    if (sp >= O_Eb && sp <= O_Rdmw)
        return SC_RM;
    if (sp >= O_M && sp <= O_My)
        return SC_MEM;
    if (sp >= O_Ry && sp <= O_Udq)
        return SC_RMREG;
    if (sp >= O_Qd && sp <= O_Wb)
        return SC_RM;
    if (sp >= O_Gb && sp <= O_Vq)
        return SC_REG;
    return sp == O__ ? SC_NONE : SC_OTHER;
}

static void set_reg(struct dis_op *o, uint8_t cls, uint8_t num, uint16_t size)
{
    o->kind = DIS_OP_REG;
    o->reg_class = cls;
    o->reg = num;
    o->size = size;
}

static void set_gpr(struct st *s, struct dis_op *o, uint8_t num, uint16_t size)
{
    if (size == 1 && !(s->in->prefixes & DIS_PFX_REX) && num >= 4 && num < 8)
        set_reg(o, DIS_RC_GPR8H, num - 4, 1);
    else
        set_reg(o, DIS_RC_GPR, num, size);
}

static uint8_t xclass(struct st *s) { return s->in->vex_l ? DIS_RC_YMM : DIS_RC_XMM; }
static uint16_t xsize(struct st *s) { return s->in->vex_l ? 32 : 16; }

/* r/m operand: register of (cls, rsize) or memory of msize. */
static int rm_op(struct st *s, struct dis_op *o, uint8_t cls, uint16_t rsize, uint16_t msize)
{
    if (s->mod == 3) {
        uint8_t n = s->rm | (cls == DIS_RC_MM ? 0 : s->rex_b << 3);
        if (cls == DIS_RC_GPR)
            set_gpr(s, o, n, rsize);
        else
            set_reg(o, cls, n, rsize);
    } else {
        *o = s->mem;
        o->size = msize;
    }
    return 0;
}

static int imm_op(struct st *s, struct dis_op *o, unsigned n, uint16_t size, int sx)
{
    uint64_t v;
    TRY(fetch_n(s, n, &v));
    o->kind = DIS_OP_IMM;
    o->size = size;
    o->imm = sx ? trunc_to((uint64_t)sext(v, n), size) : v;
    s->in->imm_len += n;
    return 0;
}

static void str_op(struct st *s, struct dis_op *o, uint8_t base, uint8_t seg, uint16_t size)
{
    o->kind = DIS_OP_MEM;
    o->size = size;
    o->mem.seg = seg;
    o->mem.base = base;
    o->mem.index = DIS_REG_NONE;
    o->mem.scale = 1;
    o->mem.addr_size = s->in->addrsize;
}

static int operand(struct st *s, uint8_t sp, struct dis_op *o)
{
    struct dis_insn *in = s->in;
    uint16_t osz = in->opsize > 1 ? in->opsize : 4;
    uint16_t ysz = (s->mode == 64 && (s->rex_w)) ? 8 : 4;
    uint8_t regn = s->reg | (s->rex_r << 3);
    /* String sources: the override's segment, but in 64-bit mode only FS/GS
     * count (as in default_seg). */
    uint8_t ovseg = in->seg_override != DIS_SEG_NONE &&
                            (s->mode != 64 || in->seg_override >= DIS_SEG_FS)
                        ? in->seg_override
                        : DIS_SEG_DS;
    uint8_t zreg = (in->opcode & 7) | (s->rex_b << 3);

    switch (sp) {
    case O_Eb: return rm_op(s, o, DIS_RC_GPR, 1, 1);
    case O_Ew: return rm_op(s, o, DIS_RC_GPR, 2, 2);
    case O_Ed: return rm_op(s, o, DIS_RC_GPR, 4, 4);
    case O_Eq: return rm_op(s, o, DIS_RC_GPR, 8, 8);
    case O_Ev: case O_Evq: return rm_op(s, o, DIS_RC_GPR, osz, osz);
    case O_Ey: return rm_op(s, o, DIS_RC_GPR, ysz, ysz);
    case O_Ewv: return rm_op(s, o, DIS_RC_GPR, osz, 2);
    case O_Rdmb: return rm_op(s, o, DIS_RC_GPR, 4, 1);
    case O_Rdmw: return rm_op(s, o, DIS_RC_GPR, 4, 2);
    case O_M: case O_Ms: case O_Menv: case O_Msave: return rm_op(s, o, 0, 0, 0);
    case O_Mb: return rm_op(s, o, 0, 0, 1);
    case O_Mw: return rm_op(s, o, 0, 0, 2);
    case O_Md: return rm_op(s, o, 0, 0, 4);
    case O_Mq: return rm_op(s, o, 0, 0, 8);
    case O_Mt: return rm_op(s, o, 0, 0, 10);
    case O_Mdq: return rm_op(s, o, 0, 0, 16);
    case O_Mx: return rm_op(s, o, 0, 0, xsize(s));
    case O_Mv: return rm_op(s, o, 0, 0, osz);
    case O_Mp: return rm_op(s, o, 0, 0, 2 + osz);
    case O_Mfx: return rm_op(s, o, 0, 0, 512);
    case O_Ma: return rm_op(s, o, 0, 0, 2 * osz);
    case O_My: return rm_op(s, o, 0, 0, ysz);
    case O_Ry: return rm_op(s, o, DIS_RC_GPR, ysz, 0);
    case O_Rv: return rm_op(s, o, DIS_RC_GPR, osz, 0);
    case O_Rcr:
        set_reg(o, DIS_RC_GPR, s->rm | (s->rex_b << 3), s->mode == 64 ? 8 : 4);
        return 0;
    case O_Nq: return rm_op(s, o, DIS_RC_MM, 8, 0);
    case O_Ux: return rm_op(s, o, xclass(s), xsize(s), 0);
    case O_Udq: return rm_op(s, o, DIS_RC_XMM, 16, 0);
    case O_Gb: set_gpr(s, o, regn, 1); return 0;
    case O_Gw: set_gpr(s, o, regn, 2); return 0;
    case O_Gd: set_gpr(s, o, regn, 4); return 0;
    case O_Gv: set_gpr(s, o, regn, osz); return 0;
    case O_Gy: set_gpr(s, o, regn, ysz); return 0;
    case O_Sw:
        if (s->reg > 5)
            return DIS_ERR_INVALID;
        set_reg(o, DIS_RC_SEG, s->reg, 2);
        return 0;
    case O_Cd: set_reg(o, DIS_RC_CR, regn, s->mode == 64 ? 8 : 4); return 0;
    case O_Dd: set_reg(o, DIS_RC_DR, regn, s->mode == 64 ? 8 : 4); return 0;
    case O_Pq: set_reg(o, DIS_RC_MM, s->reg, 8); return 0;
    case O_Vx: set_reg(o, xclass(s), regn, xsize(s)); return 0;
    case O_Vdq: case O_Vq: set_reg(o, DIS_RC_XMM, regn, 16); return 0;
    case O_Qd: return rm_op(s, o, DIS_RC_MM, 8, 4);
    case O_Qq: return rm_op(s, o, DIS_RC_MM, 8, 8);
    case O_Wx: return rm_op(s, o, xclass(s), xsize(s), xsize(s));
    case O_Wdq: return rm_op(s, o, DIS_RC_XMM, 16, 16);
    case O_Wq: return rm_op(s, o, DIS_RC_XMM, 16, 8);
    case O_Wd: return rm_op(s, o, DIS_RC_XMM, 16, 4);
    case O_Ww: return rm_op(s, o, DIS_RC_XMM, 16, 2);
    case O_Wb: return rm_op(s, o, DIS_RC_XMM, 16, 1);
    case O_Hx: set_reg(o, xclass(s), in->vex_v, xsize(s)); return 0;
    case O_Hdq: set_reg(o, DIS_RC_XMM, in->vex_v, 16); return 0;
    case O_By: set_reg(o, DIS_RC_GPR, in->vex_v, ysz); return 0;
    case O_Lx: {
        uint64_t v;
        TRY(fetch_n(s, 1, &v));
        in->imm_len++;
        set_reg(o, xclass(s), (uint8_t)(v >> 4) & (s->mode == 64 ? 15 : 7), xsize(s));
        return 0;
    }
    case O_Ib: return imm_op(s, o, 1, 1, 0);
    case O_Ibs: return imm_op(s, o, 1, osz, 1);
    case O_Iw: return imm_op(s, o, 2, 2, 0);
    case O_Iz: return imm_op(s, o, osz == 2 ? 2 : 4, osz, 1);
    case O_Iv: return imm_op(s, o, osz, osz, 0);
    case O_Jb: case O_Jz: {
        unsigned n = sp == O_Jb ? 1 : osz == 2 ? 2 : 4;
        TRY(imm_op(s, o, n, osz, 0));
        o->kind = DIS_OP_REL;
        o->imm = (uint64_t)sext(o->imm, n);
        return 0;
    }
    case O_Ap: {
        uint64_t sel;
        TRY(imm_op(s, o, osz == 2 ? 2 : 4, osz, 0));
        TRY(fetch_n(s, 2, &sel));
        in->imm_len += 2;
        o->kind = DIS_OP_FAR;
        o->sel = (uint16_t)sel;
        o->size = osz + 2;
        return 0;
    }
    case O_Ob: case O_Ov: {
        uint64_t a;
        TRY(fetch_n(s, in->addrsize, &a));
        str_op(s, o, DIS_REG_NONE, default_seg(s, DIS_REG_NONE),
               sp == O_Ob ? 1 : osz);
        o->mem.disp = (int64_t)a;
        return 0;
    }
    case O_1: o->kind = DIS_OP_IMM; o->size = 0; o->imm = 1; return 0; /* implicit */
    case O_Zb: set_gpr(s, o, zreg, 1); return 0;
    case O_Zv: case O_Zvq: set_gpr(s, o, zreg, osz); return 0;
    case O_Zy: set_gpr(s, o, zreg, osz == 8 ? 8 : 4); return 0;
    case O_AL: set_reg(o, DIS_RC_GPR, 0, 1); return 0;
    case O_AX: set_reg(o, DIS_RC_GPR, 0, 2); return 0;
    case O_rAX: set_reg(o, DIS_RC_GPR, 0, osz); return 0;
    case O_eAX: set_reg(o, DIS_RC_GPR, 0, osz == 2 ? 2 : 4); return 0;
    case O_CL: set_reg(o, DIS_RC_GPR, 1, 1); return 0;
    case O_DX: set_reg(o, DIS_RC_GPR, 2, 2); return 0;
    case O_ES: case O_CS: case O_SS: case O_DS: case O_FS: case O_GS:
        set_reg(o, DIS_RC_SEG, sp - O_ES, 2);
        return 0;
    case O_ST0: set_reg(o, DIS_RC_ST, 0, 10); return 0;
    case O_STi: set_reg(o, DIS_RC_ST, s->rm, 10); return 0;
    case O_XMM0: set_reg(o, DIS_RC_XMM, 0, 16); return 0;
    case O_Xb: str_op(s, o, 6, ovseg, 1); return 0;
    case O_Xv: str_op(s, o, 6, ovseg, osz); return 0;
    case O_Xz: str_op(s, o, 6, ovseg, osz == 8 ? 4 : osz); return 0;
    case O_Yb: str_op(s, o, 7, DIS_SEG_ES, 1); return 0;
    case O_Yv: str_op(s, o, 7, DIS_SEG_ES, osz); return 0;
    case O_Yz: str_op(s, o, 7, DIS_SEG_ES, osz == 8 ? 4 : osz); return 0;
    case O_XLAT: str_op(s, o, 3, ovseg, 1); return 0;
    }
    return DIS_ERR_INVALID;
}

/* Legacy prefixes and REX. Stops at the first opcode byte (not consumed). */
static int prefixes(struct st *s)
{
    struct dis_insn *in = s->in;
    for (;;) {
        uint8_t c;
        TRY(peek(s, &c));
        switch (c) {
        case 0xf0: s->lock = 1; in->prefixes |= DIS_PFX_LOCK; break;
        case 0xf2: s->rep = 3; in->prefixes |= DIS_PFX_REPNE; break;
        case 0xf3: s->rep = 2; in->prefixes |= DIS_PFX_REP; break;
        case 0x66: s->has66 = 1; in->prefixes |= DIS_PFX_OPSIZE; break;
        case 0x67: s->has67 = 1; in->prefixes |= DIS_PFX_ADDRSIZE; break;
        case 0x26: case 0x2e: case 0x36: case 0x3e:
            in->seg_override = (c >> 3) & 3;
            in->prefixes |= DIS_PFX_SEG;
            break;
        case 0x64: case 0x65:
            in->seg_override = DIS_SEG_FS + (c & 1);
            in->prefixes |= DIS_PFX_SEG;
            break;
        default:
            if (s->mode == 64 && (c & 0xf0) == 0x40) {
                in->rex = c;
                in->prefixes |= DIS_PFX_REX;
                s->rex_w = (c >> 3) & 1;
                s->rex_r = (c >> 2) & 1;
                s->rex_x = (c >> 1) & 1;
                s->rex_b = c & 1;
                s->pos++;
                continue;
            }
            return 0;
        }
        /* a legacy prefix after REX cancels the REX */
        in->rex = 0;
        in->prefixes &= ~DIS_PFX_REX;
        s->rex_w = s->rex_r = s->rex_x = s->rex_b = 0;
        s->pos++;
    }
}

/* VEX (C4/C5 already consumed as `op`). Leaves the map and the opcode. */
static int vex(struct st *s, uint8_t op, const struct dis_ent **map, uint8_t *opc)
{
    struct dis_insn *in = s->in;
    uint8_t b1, b2, mmmmm = 1;
    if (s->has66 || s->rep || s->lock || in->rex)
        return DIS_ERR_INVALID;
    TRY(fetch(s, &b1));
    if (op == 0xc4) {
        TRY(fetch(s, &b2));
        mmmmm = b1 & 0x1f;
        s->rex_x = !(b1 & 0x40);
        s->rex_b = !(b1 & 0x20);
        s->rex_w = b2 >> 7;
    } else {
        b2 = b1;
    }
    s->rex_r = !(b1 & 0x80);
    if (s->mode != 64) {
        s->rex_r = s->rex_x = s->rex_b = 0;
    }
    in->vex_w = s->rex_w;
    if (s->mode != 64)
        s->rex_w = 0;
    in->vex_v = (~b2 >> 3) & (s->mode == 64 ? 15 : 7);
    in->vex_l = (b2 >> 2) & 1;
    s->vex_pp = b2 & 3;
    s->vex = 1;
    in->prefixes |= DIS_PFX_VEX;
    if (mmmmm < 1 || mmmmm > 3)
        return DIS_ERR_INVALID;
    in->map = mmmmm;
    *map = mmmmm == 1 ? dis_map0f : mmmmm == 2 ? dis_map0f38 : dis_map0f3a;
    return fetch(s, opc);
}

/* ModRM + memory form, for length-only encodings. */
static int skip_modrm(struct st *s)
{
    TRY(need_modrm(s));
    if (s->mod != 3)
        TRY(decode_mem(s));
    return 0;
}

static int length_only(struct st *s, unsigned mnem, unsigned imm)
{
    uint64_t v;
    TRY(skip_modrm(s));
    if (imm)
        TRY(fetch_n(s, imm, &v));
    s->in->imm_len = imm;
    s->in->mnem = mnem;
    s->in->attr |= DIS_A_LENGTH_ONLY;
    return 1;
}

static int map1_has_imm8(uint8_t op)
{
    return (op >= 0x70 && op <= 0x73) || op == 0xc2 || (op >= 0xc4 && op <= 0xc6);
}

/* EVEX (62) and XOP (8F): lengths only. Returns 1 if handled. */
static int evex(struct st *s)
{
    uint8_t p0, p1, p2, opc;
    TRY(fetch(s, &p0));
    TRY(fetch(s, &p1));
    TRY(fetch(s, &p2));
    unsigned map = p0 & 7;
    if (!(p1 & 4) || (p0 & 8) || !(map == 1 || map == 2 || map == 3 || map == 5 || map == 6) ||
        s->has66 || s->rep || s->lock || s->in->rex)
        return DIS_ERR_INVALID;
    s->in->prefixes |= DIS_PFX_EVEX;
    s->in->map = map;
    TRY(fetch(s, &opc));
    s->in->opcode = opc;
    s->rex_r = s->rex_x = s->rex_b = 0;
    return length_only(s, DIS_evex, map == 3 || (map == 1 && map1_has_imm8(opc)));
}

static int xop(struct st *s)
{
    uint8_t p0, p1, opc;
    TRY(fetch(s, &p0));
    TRY(fetch(s, &p1));
    unsigned map = p0 & 0x1f;
    if (map < 8 || map > 10 || s->has66 || s->rep || s->lock || s->in->rex)
        return DIS_ERR_INVALID;
    s->in->prefixes |= DIS_PFX_XOP;
    s->in->map = map;
    TRY(fetch(s, &opc));
    s->in->opcode = opc;
    return length_only(s, DIS_xop, map == 8 ? 1 : map == 10 ? 4 : 0);
}

/* Walks redirections down to an instruction entry. */
static int resolve(struct st *s, const struct dis_ent **pe)
{
    const struct dis_ent *e = *pe;
    for (;;) {
        unsigned sel;
        switch (e->kind) {
        case K_INSN:
            *pe = e;
            return 0;
        case K_GRP:
            TRY(need_modrm(s));
            e = &e->sub[s->reg];
            break;
        case K_GRPM:
            TRY(need_modrm(s));
            e = &e->sub[(s->mod == 3) * 8 + s->reg];
            break;
        case K_RM:
            e = &e->sub[s->rm];
            break;
        case K_PFX:
            if (s->vex) {
                sel = s->vex_pp;
            } else {
                sel = s->rep ? s->rep : s->has66;
                if (sel >= 2 && e->sub[sel].kind == K_INSN && !e->sub[sel].mnem)
                    sel = s->has66;
                if (sel >= 2)
                    s->usedrep = 1;
                else if (sel == 1)
                    s->used66 = 1;
            }
            e = &e->sub[sel];
            break;
        case K_REP:
            sel = s->vex ? s->vex_pp : s->rep;
            if (sel == 1)
                sel = 0;
            if (sel >= 2 && !s->vex)
                s->usedrep = 1;
            e = &e->sub[sel];
            break;
        case K_MOD:
            TRY(need_modrm(s));
            e = &e->sub[s->mod == 3];
            break;
        case K_M64:
            e = &e->sub[s->mode == 64];
            break;
        case K_W:
            e = &e->sub[s->vex ? s->in->vex_w : s->rex_w];
            break;
        case K_L:
            e = &e->sub[s->in->vex_l];
            break;
        default:
            return DIS_ERR_INVALID;
        }
    }
}

static const uint32_t cond_flags[8] = {
    DIS_FL_OF, DIS_FL_CF, DIS_FL_ZF, DIS_FL_CF | DIS_FL_ZF, DIS_FL_SF, DIS_FL_PF,
    DIS_FL_SF | DIS_FL_OF, DIS_FL_ZF | DIS_FL_SF | DIS_FL_OF,
};

/* How the instruction uses op[0] (others are read, except noted). */
static uint8_t dest_access(unsigned m, unsigned nops)
{
    switch (m) {
    case DIS_cmp: case DIS_test: case DIS_bt: case DIS_push: case DIS_jmp: case DIS_jmpf:
    case DIS_call: case DIS_callf: case DIS_ret: case DIS_retf: case DIS_int: case DIS_out:
    case DIS_outs: case DIS_ucomiss: case DIS_ucomisd: case DIS_comiss: case DIS_comisd:
    case DIS_ptest: case DIS_vtestps: case DIS_vtestpd: case DIS_cmps: case DIS_scas:
    case DIS_bound: case DIS_verr: case DIS_verw: case DIS_lldt: case DIS_ltr: case DIS_lgdt:
    case DIS_lidt: case DIS_lmsw: case DIS_invlpg: case DIS_prefetch: case DIS_prefetchw:
    case DIS_prefetchnta: case DIS_prefetcht0: case DIS_prefetcht1: case DIS_prefetcht2:
    case DIS_clflush: case DIS_clflushopt: case DIS_clwb: case DIS_fldcw: case DIS_fldenv:
    case DIS_frstor: case DIS_fxrstor: case DIS_ldmxcsr: case DIS_xrstor: case DIS_fld:
    case DIS_fild: case DIS_fbld: case DIS_fcom: case DIS_fcomp: case DIS_ficom:
    case DIS_ficomp: case DIS_fucom: case DIS_fucomp: case DIS_fucomi: case DIS_fcomi:
    case DIS_fucomip: case DIS_fcomip: case DIS_enter: case DIS_mul: case DIS_imul:
    case DIS_div: case DIS_idiv: case DIS_nop: case DIS_wrfsbase: case DIS_wrgsbase:
    case DIS_vmptrld: case DIS_vmclear: case DIS_vmxon: case DIS_vmwrite: case DIS_invept:
    case DIS_invvpid: case DIS_invpcid: case DIS_pcmpestri: case DIS_pcmpestrm:
    case DIS_pcmpistri: case DIS_pcmpistrm:
        return (m == DIS_imul && nops >= 2) ? DIS_ACC_W : DIS_ACC_R;
    case DIS_mov: case DIS_movabs: case DIS_movcr: case DIS_movdr: case DIS_movseg:
    case DIS_lea: case DIS_movzx: case DIS_movsx: case DIS_movsxd: case DIS_pop: case DIS_in:
    case DIS_lods: case DIS_stos: case DIS_movs: case DIS_ins: case DIS_sgdt: case DIS_sidt:
    case DIS_smsw: case DIS_sldt: case DIS_str: case DIS_fst: case DIS_fstp: case DIS_fist:
    case DIS_fistp: case DIS_fisttp: case DIS_fbstp: case DIS_fnstsw: case DIS_fnstcw:
    case DIS_fnstenv: case DIS_fnsave: case DIS_fxsave: case DIS_stmxcsr: case DIS_xsave:
    case DIS_xsaveopt: case DIS_xsavec: case DIS_lar: case DIS_lsl: case DIS_popcnt:
    case DIS_tzcnt: case DIS_lzcnt: case DIS_rdrand: case DIS_rdseed: case DIS_rdpid:
    case DIS_rdfsbase: case DIS_rdgsbase: case DIS_vmptrst: case DIS_vmread: case DIS_les:
    case DIS_lds: case DIS_lss: case DIS_lfs: case DIS_lgs: case DIS_movd: case DIS_movq:
    case DIS_movaps: case DIS_movapd: case DIS_movups: case DIS_movupd: case DIS_movdqa:
    case DIS_movdqu: case DIS_movnti: case DIS_movntps: case DIS_movntpd: case DIS_movntq:
    case DIS_movntdq: case DIS_movmskps: case DIS_movmskpd: case DIS_pmovmskb:
    case DIS_pextrw: case DIS_pextrb: case DIS_pextrd: case DIS_extractps: case DIS_pshufd:
    case DIS_pshufw: case DIS_pshufhw: case DIS_pshuflw: case DIS_lddqu: case DIS_movntdqa:
    case DIS_cvttss2si: case DIS_cvttsd2si: case DIS_cvtss2si: case DIS_cvtsd2si:
    case DIS_cvtps2pd: case DIS_cvtpd2ps: case DIS_cvtdq2ps: case DIS_cvtps2dq:
    case DIS_cvttps2dq: case DIS_cvttpd2dq: case DIS_cvtdq2pd: case DIS_cvtpd2dq:
    case DIS_cvtpi2ps: case DIS_cvtpi2pd: case DIS_cvttps2pi: case DIS_cvttpd2pi:
    case DIS_cvtps2pi: case DIS_cvtpd2pi: case DIS_movsldup: case DIS_movshdup:
    case DIS_movddup: case DIS_sqrtps: case DIS_sqrtpd: case DIS_rsqrtps: case DIS_rcpps:
        return DIS_ACC_W;
    }
    if (m >= DIS_seto && m <= DIS_setg)
        return DIS_ACC_W;
    if (m >= DIS_jo && m <= DIS_jg)
        return DIS_ACC_R;
    return DIS_ACC_RW;
}

static void finish(struct st *s)
{
    struct dis_insn *in = s->in;
    const struct dis_mnem_info *mi = &dis_mnem_info[in->mnem];
    unsigned m = in->mnem;

    in->flags_read = mi->fl_read;
    in->flags_written = mi->fl_written;
    in->flags_undef = mi->fl_undef;
    in->attr |= mi->attr;
    in->cf = mi->cf;
    if (m >= DIS_jo && m <= DIS_jg)
        in->cond = m - DIS_jo;
    else if (m >= DIS_seto && m <= DIS_setg)
        in->cond = m - DIS_seto;
    else if (m >= DIS_cmovo && m <= DIS_cmovg)
        in->cond = m - DIS_cmovo;
    if (in->cond != 0xff)
        in->flags_read |= cond_flags[in->cond >> 1];
    if (in->cf == DIS_CF_LOOP && (m == DIS_loope || m == DIS_loopne))
        in->flags_read |= DIS_FL_ZF;
    if (in->nops) {
        in->op[0].access = dest_access(m, in->nops);
        for (unsigned i = 1; i < in->nops; i++)
            in->op[i].access = DIS_ACC_R;
        if (m == DIS_xchg || m == DIS_xadd)
            in->op[1].access = DIS_ACC_RW;
        if (m == DIS_cmpxchg)
            in->op[1].access = DIS_ACC_R;
        if (m == DIS_movs || m == DIS_cmps)
            in->op[1].access = DIS_ACC_R;
    }
    dis_sens_classify(in);
    if (m == DIS_sal || m == DIS_shl || m == DIS_sar || m == DIS_shr || m == DIS_rol ||
        m == DIS_ror || m == DIS_rcl || m == DIS_rcr) {
        /* flags stay untouched for a zero count; "written" is the nonzero case */
    }
}

static int decode(struct st *s)
{
    struct dis_insn *in = s->in;
    const struct dis_ent *map = dis_map1, *e;
    uint8_t op, nx;

    TRY(prefixes(s));
    TRY(fetch(s, &op));
    in->addrsize = s->mode == 16 ? 2 : s->mode == 32 ? 4 : 8;
    if (s->has67)
        in->addrsize = s->mode == 64 ? 4 : 6 - in->addrsize;

    if (op == 0x0f) {
        TRY(fetch(s, &op));
        in->map = 1;
        map = dis_map0f;
        if (op == 0x38 || op == 0x3a) {
            in->map = op == 0x38 ? 2 : 3;
            map = op == 0x38 ? dis_map0f38 : dis_map0f3a;
            TRY(fetch(s, &op));
        } else if (op == 0x0f) {
            in->opcode = op;
            return length_only(s, DIS_amd3dnow, 1);
        }
    } else if (op == 0xc4 || op == 0xc5) {
        TRY(peek(s, &nx));
        if (s->mode == 64 || (nx & 0xc0) == 0xc0)
            TRY(vex(s, op, &map, &op));
    } else if (op == 0x62) {
        TRY(peek(s, &nx));
        if (s->mode == 64 || (nx & 0xc0) == 0xc0)
            return evex(s);
    } else if (op == 0x8f) {
        TRY(peek(s, &nx));
        if ((nx & 0x1f) >= 8)
            return xop(s);
    }
    in->opcode = op;

    if (s->vex && in->map == 1 && op == 0x77) { /* VEX 0F 77: vzeroupper / vzeroall */
        in->mnem = in->vex_l ? DIS_vzeroall : DIS_vzeroupper;
        in->opsize = 4;
        return 1;
    }
    if (map == dis_map1 && op >= 0xd8 && op <= 0xdf) {
        TRY(need_modrm(s));
        e = &dis_x87[op - 0xd8][(s->mod == 3) * 8 + s->reg];
    } else {
        e = &map[op];
    }
    TRY(resolve(s, &e));
    if (!e->mnem)
        return s->vex && s->vex_pp == 1 && in->map >= 2 ? length_only(s, DIS_vexother, in->map == 3)
                                                        : DIS_ERR_INVALID;
    if (((e->f & EF_I64) && s->mode == 64) || ((e->f & EF_O64) && s->mode != 64))
        return DIS_ERR_INVALID;
    if (s->vex && !(e->f & (EF_V | EF_VO)))
        return length_only(s, DIS_vexother, in->map == 3 || (in->map == 1 && map1_has_imm8(op)));
    if (!s->vex && (e->f & EF_VO))
        return DIS_ERR_INVALID;
    in->mnem = e->mnem;

    /* operand size */
    unsigned osz = s->mode == 16 ? 2 : 4;
    if (s->has66 && !s->used66 && !s->vex)
        osz = 6 - osz;
    if (s->mode == 64) {
        if (s->rex_w || (e->f & EF_F64))
            osz = 8;
        else if ((e->f & EF_D64) && osz == 4)
            osz = 8;
    }
    in->opsize = osz;

    /* special one-byte cases */
    if (map == dis_map1) {
        if (op == 0x90 && !s->rex_b) {
            if (s->rep == 2) {
                in->mnem = DIS_pause;
                s->usedrep = 1;
                return 1;
            }
            if (!s->has66) {
                in->mnem = DIS_nop;
                return 1;
            }
        }
        if ((op >= 0xa0 && op <= 0xa3 && in->addrsize == 8) ||
            (op >= 0xb8 && op <= 0xbf && osz == 8))
            in->mnem = DIS_movabs;
    }

    /* ModRM and memory form first, so immediates follow in encoding order */
    int uses_rm = 0, mem_only = 0, reg_only = 0;
    for (unsigned i = 0; i < 4; i++) {
        uint8_t c = spec_class(e->ops[i]);
        if (c == SC_RM || c == SC_MEM || c == SC_RMREG || c == SC_REG || e->ops[i] == O_STi)
            uses_rm = 1;
        if (c == SC_MEM)
            mem_only = 1;
        if (c == SC_RMREG && e->ops[i] != O_Rcr)
            reg_only = 1;
        if (e->ops[i] == O_Rcr)
            uses_rm = 1;
    }
    if (uses_rm) {
        TRY(need_modrm(s));
        int rcr = e->ops[0] == O_Rcr || e->ops[1] == O_Rcr;
        if (rcr)
            s->mod = 3;
        if ((mem_only && s->mod == 3) || (reg_only && s->mod != 3))
            return DIS_ERR_INVALID;
        if (s->mod != 3)
            TRY(decode_mem(s));
    }
    for (unsigned i = 0; i < 4 && e->ops[i]; i++) {
        uint8_t sp = e->ops[i];
        if ((sp == O_Hx || sp == O_Hdq) && !s->vex)
            continue;
        TRY(operand(s, sp, &in->op[in->nops]));
        in->nops++;
    }
    if (e->ops[0] == O_Eb || e->ops[0] == O_Gb || e->ops[0] == O_AL || e->ops[0] == O_Zb ||
        e->ops[0] == O_Xb || e->ops[0] == O_Yb || e->ops[0] == O_Ob ||
        ((in->mnem == DIS_out || in->mnem == DIS_outs) && (e->ops[1] == O_AL || e->ops[1] == O_Xb)))
        in->opsize = 1;
    if (in->mnem == DIS_movseg && in->op[0].kind == DIS_OP_REG &&
        in->op[0].reg_class == DIS_RC_SEG && in->op[0].reg == DIS_SEG_CS)
        return DIS_ERR_INVALID; /* mov cs, r/m */
    return 1;
}

int dis_decode(const uint8_t *bytes, size_t avail, enum dis_mode mode, struct dis_insn *out)
{
    struct st s;
    int rc;

    memset(out, 0, sizeof(*out));
    memset(&s, 0, sizeof(s));
    out->seg_override = DIS_SEG_NONE;
    out->cond = 0xff;
    out->mode = (uint8_t)mode;
    if (mode != DIS_MODE_16 && mode != DIS_MODE_32 && mode != DIS_MODE_64)
        return DIS_ERR_INVALID;
    s.b = bytes;
    s.avail = bytes ? avail : 0;
    s.in = out;
    s.mode = mode;
    rc = decode(&s);
    if (rc >= 0 && s.lock) {
        const struct dis_mnem_info *mi = &dis_mnem_info[out->mnem];
        if (!(mi->attr & DIS_A_LOCKABLE) || out->nops == 0 || out->op[0].kind != DIS_OP_MEM)
            rc = DIS_ERR_INVALID;
    }
    out->length = (uint8_t)s.pos;
    if (rc < 0) {
        out->mnem = DIS_invalid;
        return rc;
    }
    if (s.usedrep)
        out->prefixes &= ~(DIS_PFX_REP | DIS_PFX_REPNE);
    if (s.used66)
        out->prefixes &= ~DIS_PFX_OPSIZE;
    finish(&s);
    return (int)s.pos;
}

const char *dis_mnem_name(unsigned mnem)
{
    return mnem < DIS_MNEM_COUNT ? dis_mnem_info[mnem].text : "(bad)";
}

uint64_t dis_rel_target(const struct dis_insn *insn, uint64_t ip)
{
    uint64_t t = ip + insn->length;
    for (unsigned i = 0; i < insn->nops; i++)
        if (insn->op[i].kind == DIS_OP_REL)
            t += insn->op[i].imm;
    return trunc_to(t, insn->opsize);
}
