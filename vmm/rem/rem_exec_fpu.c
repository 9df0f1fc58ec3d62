/*
 * rem_exec_fpu.c - the x87 arithmetic: loads and stores, the four
 * operations and their reversed/popping/integer forms, compares, the unary
 * and transcendental instructions, FXCH, FCMOVcc, FFREE and the stack
 * pointer instructions. Control and state instructions (FNINIT, FLDCW,
 * FNSTENV, FNSAVE, FXSAVE, ...) are in rem_exec_fpu_env.c.
 *
 * Arithmetic runs on the HOST x87 (this is an x86-64 host): every value
 * operation loads the guest operands on the host stack, installs the
 * guest's control word with all exceptions masked (so precision and
 * rounding control are honoured and nothing traps in the VMM), executes the
 * very same instruction and reads back the host status word. The result,
 * the exception flags, C1 (round-up) and for compares C0/C2/C3 are then
 * exactly the hardware's. What rem does itself is the stack: TOP, the tag
 * word, overflow and underflow (IE|SF, C1) with the masked responses
 * (QNaN indefinite), and the unmasked responses: for IE/DE/ZE the
 * destination is left alone (and an underflowing instruction does not pop),
 * FSW.ES/B are set and the NEXT waiting instruction takes #MF (CR0.NE=1).
 * Not modelled: the biased results of unmasked OE/UE on register
 * destinations (the masked result is stored), FERR#/IRQ 13 with CR0.NE=0.
 *
 * Guest state faults (#PF on a store) leave the state as it was: values are
 * computed into locals, memory is written, and only then FSW/TOP change.
 */
#include "rem_fpu.h"

/* ---- the host x87 --------------------------------------------------------------------- */

struct hx {
    struct {
        uint16_t fcw, r0, fsw, r1;
        uint8_t rest[20];
    } env; /* the host's 28-byte environment, patched with the guest's CW and C0-C3 */
    uint16_t cc;  /* guest C0-C3: loaded into the host so "unchanged" bits stay the guest's */
    uint16_t tmp;
    uint16_t cw;  /* guest FCW with every exception masked */
    uint16_t hcw; /* the host's own control word, restored after each op */
    uint16_t sw;  /* status after the op */
};

static void hx_init(struct hx *h, const struct cpum_fxsave *fx)
{
    h->cw = (uint16_t)(fx->fcw | FSW_XCPT);
    h->cc = fx->fsw & FSW_CC;
    h->sw = 0;
    __asm__ volatile("fnstcw %0" : "=m"(h->hcw));
}

/* Installs the guest's control word and condition bits on the host with
 * the operands already on its stack: FNSTENV, patch FCW and FSW (keeping
 * the host's TOP), FLDENV. Instructions whose C0-C3 the SDM calls
 * undefined leave them unchanged on hardware, so they stay the guest's. */
#define HX_PRE                                                                   \
    "fnstenv %[env]\n\tmovw %[efsw], %w[t]\n\tandw $0x3800, %w[t]\n\t"          \
    "orw %w[cc], %w[t]\n\tmovw %w[t], %[efsw]\n\tmovw %[cw], %w[t]\n\t"           \
    "movw %w[t], %[efcw]\n\tfldenv %[env]\n\t"
#define HX_POST "\n\tfnstsw %[sw]\n\tfnclex\n\tfldcw %[hcw]"
/* efsw/efcw name the environment's FSW and FCW words as operands of their
 * own (operand arithmetic such as 4+%[env] breaks when the address is a
 * bare register, as under ASan). */
#define HX_OUT [sw] "=m"(h->sw), [env] "=m"(h->env), [efsw] "=m"(h->env.fsw), \
               [efcw] "=m"(h->env.fcw), [t] "=&r"(h->tmp)
#define HX_IN [cw] "m"(h->cw), [hcw] "m"(h->hcw), [cc] "r"(h->cc)

static long double h_un(struct hx *h, unsigned mn, long double a)
{
    long double r;
#define UN(insn) __asm__ volatile(HX_PRE insn HX_POST : "=t"(r), HX_OUT : "0"(a), HX_IN)
    switch (mn) {
    case DIS_fsqrt: UN("fsqrt"); break;
    case DIS_frndint: UN("frndint"); break;
    case DIS_f2xm1: UN("f2xm1"); break;
    case DIS_fsin: UN("fsin"); break;
    case DIS_fcos: UN("fcos"); break;
    case DIS_fxam: UN("fxam"); break;
    default: UN("ftst"); break;
    }
#undef UN
    return r;
}

/* a = the host's ST(0), b = its ST(1): r = a op b, b stays. */
static long double h_bin(struct hx *h, unsigned mn, long double a, long double b)
{
    long double r;
#define BIN(insn) \
    __asm__ volatile(HX_PRE insn HX_POST : "=t"(r), HX_OUT : "0"(a), "u"(b), HX_IN)
    switch (mn) {
    case DIS_fadd: BIN("fadd %%st(1), %%st"); break;
    case DIS_fmul: BIN("fmul %%st(1), %%st"); break;
    case DIS_fsub: BIN("fsub %%st(1), %%st"); break;
    case DIS_fsubr: BIN("fsubr %%st(1), %%st"); break;
    case DIS_fdiv: BIN("fdiv %%st(1), %%st"); break;
    case DIS_fdivr: BIN("fdivr %%st(1), %%st"); break;
    case DIS_fcom: BIN("fcom %%st(1)"); break;
    case DIS_fucom: BIN("fucom %%st(1)"); break;
    case DIS_fprem: BIN("fprem"); break;
    case DIS_fprem1: BIN("fprem1"); break;
    default: BIN("fscale"); break;
    }
#undef BIN
    return r;
}

/* fyl2x, fpatan, fyl2xp1: both inputs consumed, one result. */
static long double h_binpop(struct hx *h, unsigned mn, long double a, long double b)
{
    long double r;
#define BP(insn)                                                                             \
    __asm__ volatile(HX_PRE insn HX_POST : "=t"(r), HX_OUT : "0"(a), "u"(b), HX_IN \
                     : "st(1)")
    switch (mn) {
    case DIS_fyl2x: BP("fyl2x"); break;
    case DIS_fpatan: BP("fpatan"); break;
    default: BP("fyl2xp1"); break;
    }
#undef BP
    return r;
}

/* fxtract, fptan, fsincos: one input, the host's ST(0) and ST(1) out. */
static void h_two(struct hx *h, unsigned mn, long double a, long double *r0, long double *r1)
{
    long double x, y;
#define TWO(insn) \
    __asm__ volatile(HX_PRE insn HX_POST : "=t"(x), "=u"(y), HX_OUT : "0"(a), HX_IN)
    switch (mn) {
    case DIS_fxtract: TWO("fxtract"); break;
    case DIS_fptan: TWO("fptan"); break;
    default: TWO("fsincos"); break;
    }
#undef TWO
    *r0 = x;
    *r1 = y;
}

/* ST(0) op m32/m64 as one host instruction (a two-step load + op would
 * report DE for a denormal operand next to a NaN, which hardware does not). */
static long double h_binm(struct hx *h, unsigned mn, long double a, unsigned size, uint64_t m)
{
    long double r;
    uint32_t m32 = (uint32_t)m;
#define BM(insn, var) \
    __asm__ volatile(HX_PRE insn " %[m]" HX_POST : "=t"(r), HX_OUT : "0"(a), [m] "m"(var), HX_IN)
#define BM2(base)                   \
    if (size == 4)                  \
        BM(base "s", m32);          \
    else                            \
        BM(base "l", m);            \
    break
    switch (mn) {
    case DIS_fadd: BM2("fadd");
    case DIS_fmul: BM2("fmul");
    case DIS_fsub: BM2("fsub");
    case DIS_fsubr: BM2("fsubr");
    case DIS_fdiv: BM2("fdiv");
    case DIS_fdivr: BM2("fdivr");
    default: BM2("fcom");
    }
#undef BM
#undef BM2
    return r;
}

static long double h_ld(struct hx *h, unsigned size, uint64_t m)
{
    long double r;
    uint32_t m32 = (uint32_t)m;
    if (size == 4)
        __asm__ volatile(HX_PRE "flds %[m]" HX_POST : "=t"(r), HX_OUT : [m] "m"(m32), HX_IN);
    else
        __asm__ volatile(HX_PRE "fldl %[m]" HX_POST : "=t"(r), HX_OUT : [m] "m"(m), HX_IN);
    return r;
}

static long double h_ldc(struct hx *h, unsigned mn)
{
    long double r;
#define LC(insn) __asm__ volatile(HX_PRE insn HX_POST : "=t"(r), HX_OUT : HX_IN)
    switch (mn) {
    case DIS_fld1: LC("fld1"); break;
    case DIS_fldz: LC("fldz"); break;
    case DIS_fldpi: LC("fldpi"); break;
    case DIS_fldl2e: LC("fldl2e"); break;
    case DIS_fldl2t: LC("fldl2t"); break;
    case DIS_fldlg2: LC("fldlg2"); break;
    default: LC("fldln2"); break;
    }
#undef LC
    return r;
}

struct m80 {
    uint8_t b[10];
};

static long double h_fbld(struct hx *h, const struct m80 *m)
{
    long double r;
    __asm__ volatile(HX_PRE "fbld %[m]" HX_POST : "=t"(r), HX_OUT : [m] "m"(*m), HX_IN);
    return r;
}

enum st_kind { ST_FLOAT, ST_INT, ST_TRUNC, ST_BCD };

/* Converts `a` as FST/FIST/FISTTP/FBSTP would store it; the bytes in *out. */
static void h_st(struct hx *h, enum st_kind k, unsigned size, long double a, struct m80 *out)
{
    union {
        uint16_t w;
        uint32_t d;
        uint64_t q;
        struct m80 t;
    } u = { .t = { { 0 } } };
#define SX(insn, field) \
    __asm__ volatile(HX_PRE insn " %[m]" HX_POST : [m] "=m"(field), HX_OUT : "t"(a), HX_IN)
    if (k == ST_FLOAT && size == 4)
        SX("fsts", u.d);
    else if (k == ST_FLOAT)
        SX("fstl", u.q);
    else if (k == ST_INT && size == 2)
        SX("fists", u.w);
    else if (k == ST_INT && size == 4)
        SX("fistl", u.d);
    else if (k == ST_INT)
        SX("fld %%st(0)\n\tfistpll", u.q);
    else if (k == ST_TRUNC && size == 2)
        SX("fld %%st(0)\n\tfisttps", u.w);
    else if (k == ST_TRUNC && size == 4)
        SX("fld %%st(0)\n\tfisttpl", u.d);
    else if (k == ST_TRUNC)
        SX("fld %%st(0)\n\tfisttpll", u.q);
    else
        SX("fld %%st(0)\n\tfbstp", u.t);
#undef SX
    *out = u.t;
}

/* ---- the register stack ------------------------------------------------------------------ */

static const uint8_t indefinite[10] = { 0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff };

void rem_fpu_rotate(struct cpum_fxsave *fx, int n)
{
    uint8_t tmp[8][16];
    memcpy(tmp, fx->st, sizeof(tmp));
    for (int i = 0; i < 8; i++)
        memcpy(fx->st[i], tmp[(i + n) & 7], 16);
}

static bool st_valid(const struct cpum_fxsave *fx, unsigned i)
{
    return (fx->ftw >> ((fpu_top(fx) + i) & 7)) & 1;
}

static long double st_get(const struct cpum_fxsave *fx, unsigned i)
{
    long double x = 0;
    memcpy(&x, fx->st[i], 10);
    return x;
}

static void st_put_raw(struct cpum_fxsave *fx, unsigned i, const void *ten)
{
    memcpy(fx->st[i], ten, 10);
    fx->ftw |= (uint8_t)(1u << ((fpu_top(fx) + i) & 7));
}

static void st_put(struct cpum_fxsave *fx, unsigned i, long double x)
{
    st_put_raw(fx, i, &x);
}

static void fpu_pop(struct cpum_fxsave *fx)
{
    unsigned t = fpu_top(fx);
    fx->ftw &= (uint8_t)~(1u << t);
    fpu_set_top(fx, t + 1);
    rem_fpu_rotate(fx, 1);
}

/* Pushes (ten bytes); stack overflow gives IE|SF|C1 and, masked, the indefinite. */
static void fpu_push_raw(struct cpum_fxsave *fx, const void *ten)
{
    unsigned nt = (fpu_top(fx) - 1) & 7;
    if ((fx->ftw >> nt) & 1) {
        fx->fsw |= FSW_IE | FSW_SF | FSW_C1;
        fpu_update_es(fx);
        if (!(fx->fcw & FCW_IM))
            return;
        ten = indefinite;
    } else {
        fx->fsw &= (uint16_t)~FSW_C1;
    }
    fpu_set_top(fx, nt);
    rem_fpu_rotate(fx, -1);
    st_put_raw(fx, 0, ten);
}

static void fpu_push(struct cpum_fxsave *fx, long double x)
{
    fpu_push_raw(fx, &x);
}

/* Stack underflow: IE|SF, C1 = 0; true when masked (write the indefinite). */
static bool underflow_clr(struct cpum_fxsave *fx, uint16_t clr)
{
    fx->fsw = (uint16_t)((fx->fsw & ~(FSW_C1 | clr)) | FSW_IE | FSW_SF);
    fpu_update_es(fx);
    return (fx->fcw & FCW_IM) != 0;
}

static bool underflow(struct cpum_fxsave *fx)
{
    return underflow_clr(fx, 0);
}

/* The masked underflow response of a pushing instruction: the indefinite
 * goes in without an overflow check (hardware reports only the underflow). */
static void push_indefinite(struct cpum_fxsave *fx)
{
    unsigned nt = (fpu_top(fx) - 1) & 7;
    fpu_set_top(fx, nt);
    rem_fpu_rotate(fx, -1);
    st_put_raw(fx, 0, indefinite);
}

static bool push_overflows(struct cpum_fxsave *fx)
{
    unsigned nt = (fpu_top(fx) - 1) & 7;
    if (!((fx->ftw >> nt) & 1))
        return false;
    fpu_push_raw(fx, indefinite); /* IE|SF|C1 and, masked, the indefinite */
    return true;
}

/* Folds the host status into FSW: sticky flags, the condition bits in
 * `cc`. Returns false when an unmasked exception in `nostore` forbids the
 * result to be written. */
static bool fold(struct cpum_fxsave *fx, uint16_t sw, uint16_t cc, uint16_t nostore)
{
    if (cc)
        cc = FSW_CC; /* the host started from the guest's C0-C3: take them all */
    fx->fsw = (uint16_t)((fx->fsw & ~cc) | (sw & cc) | (sw & FSW_XCPT));
    fpu_update_es(fx);
    return !(sw & FSW_XCPT & ~fx->fcw & nostore);
}

#define PRE_XCPT (FSW_IE | FSW_DE | FSW_ZE)

/* ---- checks and bookkeeping ---------------------------------------------------------------- */

void rem_fpu_check(struct rem_vcpu *v)
{
    if (v->ctx->cr0 & (CR0_EM | CR0_TS))
        rem_raise(v, X86_NM, REM_NO_ERR);
}

void rem_fpu_pending(struct rem_vcpu *v)
{
    if ((v->ctx->fpu.fsw & FSW_ES) && (v->ctx->cr0 & CR0_NE))
        rem_raise(v, X86_MF, REM_NO_ERR);
}

void rem_fpu_mem_read(struct rem_vcpu *v, const struct dis_op *op, uint64_t disp, void *buf,
                      unsigned len)
{
    uint64_t off = (ea_off(v, op) + disp) & rem_mask(op->mem.addr_size * 8);
    uint64_t la = rem_seg_la(v, op_seg(op), off, len, 0);
    rem_lin_read(v, la, buf, len, rem_user(v));
}

void rem_fpu_mem_write(struct rem_vcpu *v, const struct dis_op *op, uint64_t disp,
                       const void *buf, unsigned len)
{
    uint64_t off = (ea_off(v, op) + disp) & rem_mask(op->mem.addr_size * 8);
    uint64_t la = rem_seg_la(v, op_seg(op), off, len, 1);
    rem_lin_write(v, la, buf, len, rem_user(v));
}

/* FOP/FIP/FDP of the last non-control instruction. Outside 64-bit mode
 * the selector goes to bits 32..47, where the 32-bit FXSAVE image has it. */
static void record(struct rem_vcpu *v, const struct dis_insn *in)
{
    struct cpum_fxsave *fx = &v->ctx->fpu;
    bool lm = v->mode == REM_MODE_LONG;
    fx->fop = (uint16_t)(((in->opcode & 7) << 8) | in->modrm);
    fx->fip = lm ? v->insn_rip : (uint32_t)v->insn_rip | ((uint64_t)v->ctx->seg[CPUM_CS].sel << 32);
    for (unsigned i = 0; i < in->nops; i++) {
        const struct dis_op *op = &in->op[i];
        if (op->kind == DIS_OP_MEM) {
            uint64_t off = ea_off(v, op);
            fx->fdp = lm ? off : (uint32_t)off | ((uint64_t)v->ctx->seg[op_seg(op)].sel << 32);
        }
    }
}

/* ---- loads and stores ----------------------------------------------------------------------- */

static uint64_t mem_int(struct rem_vcpu *v, const struct dis_op *op)
{
    unsigned size = op->size;
    uint64_t x = rem_rd(v, op_seg(op), ea_off(v, op), size);
    return (uint64_t)((int64_t)(x << (64 - size * 8)) >> (64 - size * 8));
}

static void fld(struct rem_vcpu *v, const struct dis_insn *in)
{
    struct cpum_fxsave *fx = &v->ctx->fpu;
    const struct dis_op *op = &in->op[0];
    struct hx h;
    hx_init(&h, fx);
    if (op->kind == DIS_OP_REG) {
        if (!st_valid(fx, op->reg)) {
            if (underflow(fx))
                push_indefinite(fx);
            return;
        }
        uint8_t ten[10];
        memcpy(ten, fx->st[op->reg], 10);
        fpu_push_raw(fx, ten);
        return;
    }
    struct m80 m;
    if (push_overflows(fx))
        return;
    switch (in->mnem) {
    case DIS_fild:
        fpu_push(fx, (long double)(int64_t)mem_int(v, op));
        return;
    case DIS_fbld: {
        rem_fpu_mem_read(v, op, 0, &m, 10);
        long double r = h_fbld(&h, &m);
        if (fold(fx, h.sw, 0, PRE_XCPT))
            fpu_push(fx, r);
        return;
    }
    default:
        break;
    }
    if (op->size == 10) {
        rem_fpu_mem_read(v, op, 0, &m, 10);
        fpu_push_raw(fx, &m);
        return;
    }
    long double r = h_ld(&h, op->size, rem_rd(v, op_seg(op), ea_off(v, op), op->size));
    if (fold(fx, h.sw, 0, PRE_XCPT))
        fpu_push(fx, r);
}

static void fst(struct rem_vcpu *v, const struct dis_insn *in)
{
    struct cpum_fxsave *fx = &v->ctx->fpu;
    const struct dis_op *op = &in->op[0];
    unsigned mn = in->mnem;
    bool pop = mn != DIS_fst && mn != DIS_fist;
    if (op->kind == DIS_OP_REG) { /* fst/fstp st(i) */
        if (!st_valid(fx, 0)) {
            if (!underflow(fx))
                return;
            st_put_raw(fx, op->reg, indefinite);
        } else {
            uint8_t ten[10];
            memcpy(ten, fx->st[0], 10);
            st_put_raw(fx, op->reg, ten);
            fx->fsw &= (uint16_t)~FSW_C1;
        }
        if (pop)
            fpu_pop(fx);
        return;
    }
    enum st_kind k = mn == DIS_fist || mn == DIS_fistp ? ST_INT
                     : mn == DIS_fisttp                ? ST_TRUNC
                     : mn == DIS_fbstp                 ? ST_BCD
                                                       : ST_FLOAT;
    unsigned size = k == ST_BCD ? 10 : op->size;
    struct m80 out = { { 0 } };
    uint16_t sw;
    if (!st_valid(fx, 0)) {
        if (!(fx->fcw & FCW_IM)) {
            underflow(fx);
            return;
        }
        if (k == ST_FLOAT && size == 4)
            memcpy(out.b, (const uint8_t[]){ 0, 0, 0xc0, 0xff }, 4);
        else if (k == ST_FLOAT && size == 8)
            memcpy(out.b, (const uint8_t[]){ 0, 0, 0, 0, 0, 0, 0xf8, 0xff }, 8);
        else if (size == 10)
            memcpy(out.b, indefinite, 10);
        else
            out.b[size - 1] = 0x80;
        if (k == ST_BCD)
            memcpy(out.b, (const uint8_t[]){ 0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff }, 10);
        rem_fpu_mem_write(v, op, 0, &out, size);
        underflow(fx);
    } else {
        struct hx h;
        hx_init(&h, fx);
        if (size == 10 && k == ST_FLOAT) {
            memcpy(out.b, fx->st[0], 10);
            sw = fx->fsw & (FSW_C0 | FSW_C2 | FSW_C3); /* exact: C1 = 0 */
        } else {
            h_st(&h, k, size, st_get(fx, 0), &out);
            sw = h.sw;
        }
        if (sw & FSW_XCPT & ~fx->fcw & (FSW_IE | FSW_OE | FSW_UE | FSW_DE)) {
            fold(fx, sw, FSW_C1, 0);
            return;
        }
        rem_fpu_mem_write(v, op, 0, &out, size);
        fold(fx, sw, FSW_C1, 0);
    }
    if (pop)
        fpu_pop(fx);
}

/* ---- arithmetic -------------------------------------------------------------------------------- */

static unsigned base_op(unsigned mn, bool *pop, bool *integer)
{
    *pop = false;
    *integer = false;
    switch (mn) {
    case DIS_faddp: *pop = true; return DIS_fadd;
    case DIS_fmulp: *pop = true; return DIS_fmul;
    case DIS_fsubp: *pop = true; return DIS_fsub;
    case DIS_fsubrp: *pop = true; return DIS_fsubr;
    case DIS_fdivp: *pop = true; return DIS_fdiv;
    case DIS_fdivrp: *pop = true; return DIS_fdivr;
    case DIS_fiadd: *integer = true; return DIS_fadd;
    case DIS_fimul: *integer = true; return DIS_fmul;
    case DIS_fisub: *integer = true; return DIS_fsub;
    case DIS_fisubr: *integer = true; return DIS_fsubr;
    case DIS_fidiv: *integer = true; return DIS_fdiv;
    case DIS_fidivr: *integer = true; return DIS_fdivr;
    default: return mn;
    }
}

/* The source of a one-operand memory form (loaded on the host: a float
 * load can itself raise IE for an SNaN and DE for a denormal). */
static long double mem_src(struct rem_vcpu *v, const struct dis_op *op, bool integer, struct hx *h)
{
    if (integer)
        return (long double)(int64_t)mem_int(v, op);
    return h_ld(h, op->size, rem_rd(v, op_seg(op), ea_off(v, op), op->size));
}

static void arith(struct rem_vcpu *v, const struct dis_insn *in)
{
    struct cpum_fxsave *fx = &v->ctx->fpu;
    bool pop, integer;
    unsigned op = base_op(in->mnem, &pop, &integer);
    unsigned dst = 0, src = 0;
    long double b = 0;
    struct hx h;
    hx_init(&h, fx);
    uint16_t lsw = 0;
    const struct dis_op *mop = NULL;
    if (in->op[0].kind == DIS_OP_MEM || in->op[1].kind == DIS_OP_MEM) {
        mop = &in->op[in->op[0].kind == DIS_OP_MEM ? 0 : 1];
        if (integer)
            b = mem_src(v, mop, integer, &h);
        else
            b = (long double)rem_rd(v, op_seg(mop), ea_off(v, mop), mop->size); /* raw bits */
    } else {
        dst = in->op[0].reg;
        src = in->op[1].reg;
    }
    bool memf = in->op[0].kind == DIS_OP_MEM || in->op[1].kind == DIS_OP_MEM;
    if (!st_valid(fx, dst) || (!memf && !st_valid(fx, src))) {
        if (!underflow(fx))
            return;
        st_put_raw(fx, dst, indefinite);
        if (pop)
            fpu_pop(fx);
        return;
    }
    if (!memf)
        b = st_get(fx, src);
    long double r;
    if (mop && !integer)
        r = h_binm(&h, op, st_get(fx, dst), mop->size, (uint64_t)b);
    else
        r = h_bin(&h, op, st_get(fx, dst), b);
    if (fold(fx, (uint16_t)(h.sw | (lsw & FSW_XCPT)), FSW_C1, PRE_XCPT))
        st_put(fx, dst, r);
    if (pop)
        fpu_pop(fx);
}

static void compare(struct rem_vcpu *v, const struct dis_insn *in)
{
    struct cpum_fxsave *fx = &v->ctx->fpu;
    unsigned mn = in->mnem, pops = 0, src = 1;
    bool unordered = mn == DIS_fucom || mn == DIS_fucomp || mn == DIS_fucompp ||
                     mn == DIS_fucomi || mn == DIS_fucomip;
    bool eflags = mn == DIS_fcomi || mn == DIS_fcomip || mn == DIS_fucomi || mn == DIS_fucomip;
    if (mn == DIS_fcomp || mn == DIS_fucomp || mn == DIS_ficomp || mn == DIS_fcomip ||
        mn == DIS_fucomip)
        pops = 1;
    else if (mn == DIS_fcompp || mn == DIS_fucompp)
        pops = 2;
    struct hx h;
    hx_init(&h, fx);
    long double b = 0;
    uint16_t lsw = 0;
    const struct dis_op *mop = NULL;
    for (unsigned i = 0; i < in->nops; i++)
        if (in->op[i].kind == DIS_OP_MEM)
            mop = &in->op[i];
    if (in->nops && in->op[in->nops - 1].kind == DIS_OP_REG)
        src = in->op[in->nops - 1].reg;
    if (mn == DIS_ftst) {
        mop = NULL;
        src = 8;
    }
    bool imem = mn == DIS_ficom || mn == DIS_ficomp;
    uint64_t mbits = 0;
    if (mop && imem)
        b = mem_src(v, mop, true, &h);
    else if (mop)
        mbits = rem_rd(v, op_seg(mop), ea_off(v, mop), mop->size);
    uint16_t cc;
    if (!st_valid(fx, 0) || (!mop && src < 8 && !st_valid(fx, src))) {
        if (!underflow(fx))
            return;
        cc = FSW_C0 | FSW_C2 | FSW_C3;
    } else {
        if (!mop && src < 8)
            b = st_get(fx, src);
        if (mn == DIS_ftst)
            h_un(&h, DIS_ftst, st_get(fx, 0));
        else if (mop && !imem)
            h_binm(&h, DIS_fcom, st_get(fx, 0), mop->size, mbits);
        else
            h_bin(&h, unordered ? DIS_fucom : DIS_fcom, st_get(fx, 0), b);
        uint16_t sw = (uint16_t)(h.sw | (lsw & FSW_XCPT));
        cc = sw & (FSW_C0 | FSW_C2 | FSW_C3);
        if (!fold(fx, sw, 0, FSW_IE | FSW_DE))
            return;
    }
    if (eflags) {
        rem_set_arith(v, FL_ARITH, ((cc & FSW_C3) ? FL_ZF : 0) | ((cc & FSW_C2) ? FL_PF : 0) |
                                       ((cc & FSW_C0) ? FL_CF : 0));
    } else {
        fx->fsw = (uint16_t)((fx->fsw & ~FSW_CC) | cc);
    }
    while (pops--)
        fpu_pop(fx);
}

/* One-operand instructions on ST(0) (and ST(1) for the binary ones). */
static void unary(struct rem_vcpu *v, const struct dis_insn *in)
{
    struct cpum_fxsave *fx = &v->ctx->fpu;
    unsigned mn = in->mnem;
    struct hx h;
    hx_init(&h, fx);
    bool two_in = mn == DIS_fscale || mn == DIS_fprem || mn == DIS_fprem1 || mn == DIS_fyl2x ||
                  mn == DIS_fpatan || mn == DIS_fyl2xp1;
    if (mn == DIS_fxam) {
        if (!st_valid(fx, 0)) {
            uint16_t c1 = (fx->st[0][9] & 0x80) ? FSW_C1 : 0;
            fx->fsw = (uint16_t)((fx->fsw & ~FSW_CC) | FSW_C3 | FSW_C0 | c1);
            return;
        }
        h_un(&h, mn, st_get(fx, 0));
        fx->fsw = (uint16_t)((fx->fsw & ~FSW_CC) | (h.sw & FSW_CC));
        return;
    }
    if (!st_valid(fx, 0) || (two_in && !st_valid(fx, 1))) {
        bool c2 = mn == DIS_fsin || mn == DIS_fcos || mn == DIS_fptan || mn == DIS_fsincos ||
                  mn == DIS_fprem || mn == DIS_fprem1;
        if (!underflow_clr(fx, c2 ? FSW_C2 : 0))
            return;
        if (mn == DIS_fyl2x || mn == DIS_fpatan || mn == DIS_fyl2xp1) {
            st_put_raw(fx, 1, indefinite);
            fpu_pop(fx);
        } else if (mn == DIS_fxtract || mn == DIS_fptan || mn == DIS_fsincos) {
            st_put_raw(fx, 0, indefinite);
            push_indefinite(fx);
        } else {
            st_put_raw(fx, 0, indefinite);
        }
        return;
    }
    long double a = st_get(fx, 0), r;
    switch (mn) {
    case DIS_fchs:
    case DIS_fabs:
        if (mn == DIS_fchs)
            fx->st[0][9] ^= 0x80;
        else
            fx->st[0][9] &= 0x7f;
        fx->fsw &= (uint16_t)~FSW_C1;
        return;
    case DIS_fsqrt: case DIS_frndint: case DIS_f2xm1: case DIS_fsin: case DIS_fcos:
        r = h_un(&h, mn, a);
        if (fold(fx, h.sw, (mn == DIS_fsin || mn == DIS_fcos) ? FSW_C1 | FSW_C2 : FSW_C1,
                 PRE_XCPT))
            st_put(fx, 0, r);
        return;
    case DIS_fscale: case DIS_fprem: case DIS_fprem1:
        r = h_bin(&h, mn, a, st_get(fx, 1));
        if (fold(fx, h.sw, mn == DIS_fscale ? FSW_C1 : FSW_CC, PRE_XCPT))
            st_put(fx, 0, r);
        return;
    case DIS_fyl2x: case DIS_fpatan: case DIS_fyl2xp1:
        r = h_binpop(&h, mn, a, st_get(fx, 1));
        if (fold(fx, h.sw, FSW_C1, PRE_XCPT))
            st_put(fx, 1, r);
        fpu_pop(fx);
        return;
    default: { /* fxtract, fptan, fsincos */
        long double r0, r1;
        uint16_t ex = (uint16_t)(((fx->st[0][9] & 0x7f) << 8) | fx->st[0][8]);
        if ((fx->ftw >> ((fpu_top(fx) - 1) & 7)) & 1) { /* the push would overflow */
            fx->fsw |= FSW_IE | FSW_SF | FSW_C1;
            if (mn != DIS_fxtract)
                fx->fsw &= (uint16_t)~FSW_C2;
            fpu_update_es(fx);
            if (fx->fcw & FCW_IM) {
                st_put_raw(fx, 0, indefinite);
                push_indefinite(fx);
            }
            return;
        }
        if (mn != DIS_fxtract && ex != 0x7fff && ex >= 0x3fff + 63) {
            fx->fsw = (uint16_t)((fx->fsw & ~FSW_C1) | FSW_C2); /* out of range: no change */
            return;
        }
        h_two(&h, mn, a, &r0, &r1);
        if (!(h.sw & FSW_XCPT & ~fx->fcw & PRE_XCPT)) {
            st_put(fx, 0, r1);
            fpu_push(fx, r0);
        }
        fold(fx, h.sw, FSW_CC, 0); /* after the push: C1 is the round-up bit */
        return;
    }
    }
}

/* ---- register moves and the stack pointer ---------------------------------------------------- */

static bool fcmov_cond(struct rem_vcpu *v, unsigned mn)
{
    switch (mn) {
    case DIS_fcmovb: return rem_cond(v, 2);
    case DIS_fcmove: return rem_cond(v, 4);
    case DIS_fcmovbe: return rem_cond(v, 6);
    case DIS_fcmovu: return rem_cond(v, 10);
    case DIS_fcmovnb: return !rem_cond(v, 2);
    case DIS_fcmovne: return !rem_cond(v, 4);
    case DIS_fcmovnbe: return !rem_cond(v, 6);
    default: return !rem_cond(v, 10);
    }
}

static void regops(struct rem_vcpu *v, const struct dis_insn *in)
{
    struct cpum_fxsave *fx = &v->ctx->fpu;
    unsigned mn = in->mnem;
    unsigned i = in->nops ? in->op[in->nops - 1].reg : 1;
    switch (mn) {
    case DIS_fxch: {
        if (!st_valid(fx, 0) || !st_valid(fx, i)) {
            if (!underflow(fx))
                return;
            if (!st_valid(fx, 0))
                st_put_raw(fx, 0, indefinite);
            if (!st_valid(fx, i))
                st_put_raw(fx, i, indefinite);
        } else {
            fx->fsw &= (uint16_t)~FSW_C1;
        }
        uint8_t t[10];
        memcpy(t, fx->st[0], 10);
        memcpy(fx->st[0], fx->st[i], 10);
        memcpy(fx->st[i], t, 10);
        return;
    }
    case DIS_ffree: case DIS_ffreep:
        fx->ftw &= (uint8_t)~(1u << ((fpu_top(fx) + in->op[0].reg) & 7));
        fx->fsw &= (uint16_t)~FSW_C1; /* as this host's hardware does */
        if (mn == DIS_ffreep)
            fpu_pop(fx);
        return;
    case DIS_fincstp: case DIS_fdecstp:
        fpu_set_top(fx, fpu_top(fx) + (mn == DIS_fincstp ? 1 : 7));
        rem_fpu_rotate(fx, mn == DIS_fincstp ? 1 : -1);
        fx->fsw &= (uint16_t)~FSW_C1;
        return;
    default: /* fcmovcc st(0), st(i) */
        if (!st_valid(fx, 0) || !st_valid(fx, i)) {
            if (underflow(fx))
                st_put_raw(fx, 0, indefinite);
            return;
        }
        if (fcmov_cond(v, mn)) {
            uint8_t t[10];
            memcpy(t, fx->st[i], 10);
            st_put_raw(fx, 0, t);
        }
        return;
    }
}

/* ---- dispatch ---------------------------------------------------------------------------------------- */

bool rem_exec_fpu(struct rem_vcpu *v, const struct dis_insn *in)
{
    unsigned mn = in->mnem;
    if (mn == DIS_fxsave || mn == DIS_fxrstor)
        return rem_exec_fpu_env(v, in);
    if (mn < DIS_fadd || mn > DIS_frstpm)
        return false;
    if (mn == DIS_fwait) {
        if ((v->ctx->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
            rem_raise(v, X86_NM, REM_NO_ERR);
        rem_fpu_pending(v);
        return true;
    }
    if (mn == DIS_frstpm)
        rem_ud(v);
    rem_fpu_check(v);
    if (rem_exec_fpu_env(v, in))
        return true;
    rem_fpu_pending(v);
    struct cpum_fxsave *fx = &v->ctx->fpu;
    switch (mn) {
    case DIS_fld: case DIS_fild: case DIS_fbld:
        fld(v, in);
        break;
    case DIS_fst: case DIS_fstp: case DIS_fist: case DIS_fistp: case DIS_fisttp: case DIS_fbstp:
        fst(v, in);
        break;
    case DIS_fld1: case DIS_fldz: case DIS_fldpi: case DIS_fldl2e: case DIS_fldl2t:
    case DIS_fldlg2: case DIS_fldln2: {
        struct hx h;
        hx_init(&h, fx);
        fpu_push(fx, h_ldc(&h, mn));
        break;
    }
    case DIS_fadd: case DIS_fmul: case DIS_fsub: case DIS_fsubr: case DIS_fdiv: case DIS_fdivr:
    case DIS_faddp: case DIS_fmulp: case DIS_fsubp: case DIS_fsubrp: case DIS_fdivp:
    case DIS_fdivrp: case DIS_fiadd: case DIS_fimul: case DIS_fisub: case DIS_fisubr:
    case DIS_fidiv: case DIS_fidivr:
        arith(v, in);
        break;
    case DIS_fcom: case DIS_fcomp: case DIS_fcompp: case DIS_fucom: case DIS_fucomp:
    case DIS_fucompp: case DIS_ficom: case DIS_ficomp: case DIS_fcomi: case DIS_fcomip:
    case DIS_fucomi: case DIS_fucomip: case DIS_ftst:
        compare(v, in);
        break;
    case DIS_fxch: case DIS_ffree: case DIS_ffreep: case DIS_fincstp: case DIS_fdecstp:
    case DIS_fcmovb: case DIS_fcmove: case DIS_fcmovbe: case DIS_fcmovu: case DIS_fcmovnb:
    case DIS_fcmovne: case DIS_fcmovnbe: case DIS_fcmovnu:
        regops(v, in);
        break;
    case DIS_fnop: case DIS_fneni: case DIS_fndisi: case DIS_fnsetpm:
        break;
    default:
        unary(v, in);
        break;
    }
    record(v, in);
    return true;
}
