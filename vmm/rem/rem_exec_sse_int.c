/*
 * rem_exec_sse_int.c - the integer SIMD instructions on MMX (8-byte) and
 * XMM (16-byte) registers: MOVD/MOVQ/MOVDQA/MOVDQU and the non-temporal and
 * masked stores, logic, add/subtract (wrapping and saturating), compares,
 * min/max, averages, PSADBW, multiplies, shifts, pack/unpack, shuffles,
 * PINSRW/PEXTRW/PMOVMSKB and EMMS.
 *
 * One lane loop serves both register widths (n = 8 or 16 bytes); none of
 * these touches MXCSR. MMX forms go through rem_mmx_enter (CR0.EM -> #UD,
 * CR0.TS -> #NM, pending x87 exception -> #MF, then TOP = 0 and all tags
 * valid); XMM forms through rem_sse_check (CR0.EM or !CR4.OSFXSR -> #UD,
 * CR0.TS -> #NM). 16-byte memory operands must be aligned (#GP(0)) except
 * for MOVDQU. MASKMOVQ/MASKMOVDQU store byte by byte: a fault part-way
 * leaves the earlier bytes written (the SDM allows this only for MMIO;
 * documented gap).
 */
#include <stdlib.h>

#include "rem_fpu.h"

static int clampi(int x, int lo, int hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

static bool is_int_simd(unsigned mn)
{
    switch (mn) {
    case DIS_movd: case DIS_movq: case DIS_movdqa: case DIS_movdqu: case DIS_movq2dq:
    case DIS_movdq2q: case DIS_movntq: case DIS_movntdq: case DIS_maskmovq: case DIS_maskmovdqu:
    case DIS_pshufw: case DIS_pshufd: case DIS_pshufhw: case DIS_pshuflw:
    case DIS_psrlw: case DIS_psraw: case DIS_psllw: case DIS_psrld: case DIS_psrad: case DIS_pslld:
    case DIS_psrlq: case DIS_psrldq: case DIS_psllq: case DIS_pslldq:
    case DIS_pcmpeqb: case DIS_pcmpeqw: case DIS_pcmpeqd: case DIS_pcmpgtb: case DIS_pcmpgtw:
    case DIS_pcmpgtd: case DIS_packsswb: case DIS_packuswb: case DIS_packssdw:
    case DIS_punpcklbw: case DIS_punpcklwd: case DIS_punpckldq: case DIS_punpckhbw:
    case DIS_punpckhwd: case DIS_punpckhdq: case DIS_punpcklqdq: case DIS_punpckhqdq:
    case DIS_pinsrw: case DIS_pextrw: case DIS_pmovmskb: case DIS_paddq: case DIS_pmullw:
    case DIS_psubusb: case DIS_psubusw: case DIS_pminub: case DIS_pand: case DIS_paddusb:
    case DIS_paddusw: case DIS_pmaxub: case DIS_pandn: case DIS_pavgb: case DIS_pavgw:
    case DIS_pmulhuw: case DIS_pmulhw: case DIS_psubsb: case DIS_psubsw: case DIS_pminsw:
    case DIS_por: case DIS_paddsb: case DIS_paddsw: case DIS_pmaxsw: case DIS_pxor:
    case DIS_pmuludq: case DIS_pmaddwd: case DIS_psadbw: case DIS_psubb: case DIS_psubw:
    case DIS_psubd: case DIS_psubq: case DIS_paddb: case DIS_paddw: case DIS_paddd:
    case DIS_emms:
        return true;
    default:
        return false;
    }
}

/* Lane arithmetic: r = a op b over n bytes. */
static void lanes(unsigned mn, union rem_xv *r, const union rem_xv *a, const union rem_xv *b,
                  unsigned n)
{
    unsigned nw = n / 2, nd = n / 4, nq = n / 8;
    switch (mn) {
    case DIS_paddb: for (unsigned i = 0; i < n; i++) r->b[i] = (uint8_t)(a->b[i] + b->b[i]); break;
    case DIS_paddw: for (unsigned i = 0; i < nw; i++) r->w[i] = (uint16_t)(a->w[i] + b->w[i]); break;
    case DIS_paddd: for (unsigned i = 0; i < nd; i++) r->d[i] = a->d[i] + b->d[i]; break;
    case DIS_paddq: for (unsigned i = 0; i < nq; i++) r->q[i] = a->q[i] + b->q[i]; break;
    case DIS_psubb: for (unsigned i = 0; i < n; i++) r->b[i] = (uint8_t)(a->b[i] - b->b[i]); break;
    case DIS_psubw: for (unsigned i = 0; i < nw; i++) r->w[i] = (uint16_t)(a->w[i] - b->w[i]); break;
    case DIS_psubd: for (unsigned i = 0; i < nd; i++) r->d[i] = a->d[i] - b->d[i]; break;
    case DIS_psubq: for (unsigned i = 0; i < nq; i++) r->q[i] = a->q[i] - b->q[i]; break;
    case DIS_paddsb: for (unsigned i = 0; i < n; i++) r->sb[i] = (int8_t)clampi(a->sb[i] + b->sb[i], -128, 127); break;
    case DIS_paddsw: for (unsigned i = 0; i < nw; i++) r->sw[i] = (int16_t)clampi(a->sw[i] + b->sw[i], -32768, 32767); break;
    case DIS_psubsb: for (unsigned i = 0; i < n; i++) r->sb[i] = (int8_t)clampi(a->sb[i] - b->sb[i], -128, 127); break;
    case DIS_psubsw: for (unsigned i = 0; i < nw; i++) r->sw[i] = (int16_t)clampi(a->sw[i] - b->sw[i], -32768, 32767); break;
    case DIS_paddusb: for (unsigned i = 0; i < n; i++) r->b[i] = (uint8_t)clampi(a->b[i] + b->b[i], 0, 255); break;
    case DIS_paddusw: for (unsigned i = 0; i < nw; i++) r->w[i] = (uint16_t)clampi(a->w[i] + b->w[i], 0, 65535); break;
    case DIS_psubusb: for (unsigned i = 0; i < n; i++) r->b[i] = (uint8_t)clampi(a->b[i] - b->b[i], 0, 255); break;
    case DIS_psubusw: for (unsigned i = 0; i < nw; i++) r->w[i] = (uint16_t)clampi(a->w[i] - b->w[i], 0, 65535); break;
    case DIS_pcmpeqb: for (unsigned i = 0; i < n; i++) r->b[i] = a->b[i] == b->b[i] ? 0xff : 0; break;
    case DIS_pcmpeqw: for (unsigned i = 0; i < nw; i++) r->w[i] = a->w[i] == b->w[i] ? 0xffff : 0; break;
    case DIS_pcmpeqd: for (unsigned i = 0; i < nd; i++) r->d[i] = a->d[i] == b->d[i] ? ~0u : 0; break;
    case DIS_pcmpgtb: for (unsigned i = 0; i < n; i++) r->b[i] = a->sb[i] > b->sb[i] ? 0xff : 0; break;
    case DIS_pcmpgtw: for (unsigned i = 0; i < nw; i++) r->w[i] = a->sw[i] > b->sw[i] ? 0xffff : 0; break;
    case DIS_pcmpgtd: for (unsigned i = 0; i < nd; i++) r->d[i] = a->sd[i] > b->sd[i] ? ~0u : 0; break;
    case DIS_pminub: for (unsigned i = 0; i < n; i++) r->b[i] = a->b[i] < b->b[i] ? a->b[i] : b->b[i]; break;
    case DIS_pmaxub: for (unsigned i = 0; i < n; i++) r->b[i] = a->b[i] > b->b[i] ? a->b[i] : b->b[i]; break;
    case DIS_pminsw: for (unsigned i = 0; i < nw; i++) r->sw[i] = a->sw[i] < b->sw[i] ? a->sw[i] : b->sw[i]; break;
    case DIS_pmaxsw: for (unsigned i = 0; i < nw; i++) r->sw[i] = a->sw[i] > b->sw[i] ? a->sw[i] : b->sw[i]; break;
    case DIS_pavgb: for (unsigned i = 0; i < n; i++) r->b[i] = (uint8_t)((a->b[i] + b->b[i] + 1) >> 1); break;
    case DIS_pavgw: for (unsigned i = 0; i < nw; i++) r->w[i] = (uint16_t)((a->w[i] + b->w[i] + 1) >> 1); break;
    case DIS_pmullw: for (unsigned i = 0; i < nw; i++) r->w[i] = (uint16_t)(a->sw[i] * b->sw[i]); break;
    case DIS_pmulhw: for (unsigned i = 0; i < nw; i++) r->w[i] = (uint16_t)((a->sw[i] * b->sw[i]) >> 16); break;
    case DIS_pmulhuw: for (unsigned i = 0; i < nw; i++) r->w[i] = (uint16_t)(((uint32_t)a->w[i] * b->w[i]) >> 16); break;
    case DIS_pmuludq: for (unsigned i = 0; i < nq; i++) r->q[i] = (uint64_t)a->d[2 * i] * b->d[2 * i]; break;
    case DIS_pmaddwd:
        for (unsigned i = 0; i < nd; i++)
            r->d[i] = (uint32_t)((int64_t)a->sw[2 * i] * b->sw[2 * i] +
                                 (int64_t)a->sw[2 * i + 1] * b->sw[2 * i + 1]);
        break;
    case DIS_psadbw:
        for (unsigned i = 0; i < nq; i++) {
            unsigned s = 0;
            for (unsigned j = 0; j < 8; j++)
                s += (unsigned)abs(a->b[8 * i + j] - b->b[8 * i + j]);
            r->q[i] = s;
        }
        break;
    case DIS_pand: for (unsigned i = 0; i < nq; i++) r->q[i] = a->q[i] & b->q[i]; break;
    case DIS_pandn: for (unsigned i = 0; i < nq; i++) r->q[i] = ~a->q[i] & b->q[i]; break;
    case DIS_por: for (unsigned i = 0; i < nq; i++) r->q[i] = a->q[i] | b->q[i]; break;
    case DIS_pxor: for (unsigned i = 0; i < nq; i++) r->q[i] = a->q[i] ^ b->q[i]; break;
    case DIS_packsswb:
        for (unsigned i = 0; i < nw; i++) {
            r->sb[i] = (int8_t)clampi(a->sw[i], -128, 127);
            r->sb[nw + i] = (int8_t)clampi(b->sw[i], -128, 127);
        }
        break;
    case DIS_packuswb:
        for (unsigned i = 0; i < nw; i++) {
            r->b[i] = (uint8_t)clampi(a->sw[i], 0, 255);
            r->b[nw + i] = (uint8_t)clampi(b->sw[i], 0, 255);
        }
        break;
    case DIS_packssdw:
        for (unsigned i = 0; i < nd; i++) {
            r->sw[i] = (int16_t)clampi(a->sd[i], -32768, 32767);
            r->sw[nd + i] = (int16_t)clampi(b->sd[i], -32768, 32767);
        }
        break;
    case DIS_punpcklbw: case DIS_punpckhbw: {
        unsigned o = mn == DIS_punpckhbw ? n / 2 : 0;
        for (unsigned i = 0; i < n / 2; i++) {
            r->b[2 * i] = a->b[o + i];
            r->b[2 * i + 1] = b->b[o + i];
        }
        break;
    }
    case DIS_punpcklwd: case DIS_punpckhwd: {
        unsigned o = mn == DIS_punpckhwd ? nw / 2 : 0;
        for (unsigned i = 0; i < nw / 2; i++) {
            r->w[2 * i] = a->w[o + i];
            r->w[2 * i + 1] = b->w[o + i];
        }
        break;
    }
    case DIS_punpckldq: case DIS_punpckhdq: {
        unsigned o = mn == DIS_punpckhdq ? nd / 2 : 0;
        for (unsigned i = 0; i < nd / 2; i++) {
            r->d[2 * i] = a->d[o + i];
            r->d[2 * i + 1] = b->d[o + i];
        }
        break;
    }
    case DIS_punpcklqdq: r->q[0] = a->q[0]; r->q[1] = b->q[0]; break;
    default: /* punpckhqdq */ r->q[0] = a->q[1]; r->q[1] = b->q[1]; break;
    }
}

/* Shifts by `cnt` (immediate or the low quadword of the source). */
static void shift(unsigned mn, union rem_xv *r, const union rem_xv *a, uint64_t cnt, unsigned n)
{
    unsigned nw = n / 2, nd = n / 4, nq = n / 8;
    switch (mn) {
    case DIS_psllw: for (unsigned i = 0; i < nw; i++) r->w[i] = cnt > 15 ? 0 : (uint16_t)(a->w[i] << cnt); break;
    case DIS_psrlw: for (unsigned i = 0; i < nw; i++) r->w[i] = cnt > 15 ? 0 : (uint16_t)(a->w[i] >> cnt); break;
    case DIS_psraw: for (unsigned i = 0; i < nw; i++) r->sw[i] = (int16_t)(a->sw[i] >> (cnt > 15 ? 15 : cnt)); break;
    case DIS_pslld: for (unsigned i = 0; i < nd; i++) r->d[i] = cnt > 31 ? 0 : a->d[i] << cnt; break;
    case DIS_psrld: for (unsigned i = 0; i < nd; i++) r->d[i] = cnt > 31 ? 0 : a->d[i] >> cnt; break;
    case DIS_psrad: for (unsigned i = 0; i < nd; i++) r->sd[i] = a->sd[i] >> (cnt > 31 ? 31 : cnt); break;
    case DIS_psllq: for (unsigned i = 0; i < nq; i++) r->q[i] = cnt > 63 ? 0 : a->q[i] << cnt; break;
    case DIS_psrlq: for (unsigned i = 0; i < nq; i++) r->q[i] = cnt > 63 ? 0 : a->q[i] >> cnt; break;
    case DIS_pslldq:
        memset(r, 0, 16);
        for (unsigned i = (unsigned)(cnt > 16 ? 16 : cnt); i < 16; i++)
            r->b[i] = a->b[i - cnt];
        break;
    default: /* psrldq */
        memset(r, 0, 16);
        for (unsigned i = 0; cnt < 16 && i < 16 - cnt; i++)
            r->b[i] = a->b[i + cnt];
        break;
    }
}

static void shuffle(unsigned mn, union rem_xv *r, const union rem_xv *b, unsigned imm)
{
    *r = *b;
    switch (mn) {
    case DIS_pshufd:
        for (unsigned i = 0; i < 4; i++)
            r->d[i] = b->d[(imm >> (2 * i)) & 3];
        break;
    case DIS_pshufhw:
        for (unsigned i = 0; i < 4; i++)
            r->w[4 + i] = b->w[4 + ((imm >> (2 * i)) & 3)];
        break;
    default: /* pshuflw, pshufw */
        for (unsigned i = 0; i < 4; i++)
            r->w[i] = b->w[(imm >> (2 * i)) & 3];
        break;
    }
}

/* MOVD, MOVQ, MOVQ2DQ, MOVDQ2Q, MOVNTQ, MOVDQA, MOVDQU, MOVNTDQ. */
static void moves(struct rem_vcpu *v, const struct dis_insn *in)
{
    const struct dis_op *d = &in->op[0], *s = &in->op[1];
    unsigned mn = in->mnem, len;
    bool align = mn != DIS_movdqu;
    if (mn == DIS_movdqa || mn == DIS_movdqu || mn == DIS_movntdq)
        len = 16;
    else if (s->kind == DIS_OP_MEM || (s->kind == DIS_OP_REG && s->reg_class == DIS_RC_GPR))
        len = s->size;
    else if (d->kind == DIS_OP_MEM || (d->kind == DIS_OP_REG && d->reg_class == DIS_RC_GPR))
        len = d->size;
    else
        len = 8;
    if ((mn == DIS_movntq || mn == DIS_movntdq) && d->kind != DIS_OP_MEM)
        rem_ud(v);
    union rem_xv x;
    rem_sse_read(v, s, &x, len, align);
    if (len < 16)
        memset(x.b + len, 0, 16 - len);
    rem_sse_write(v, d, &x, len, align);
}

static void maskmov(struct rem_vcpu *v, const struct dis_insn *in, unsigned n)
{
    union rem_xv a, m;
    rem_sse_read(v, &in->op[0], &a, n, false);
    rem_sse_read(v, &in->op[1], &m, n, false);
    unsigned seg = in->seg_override == DIS_SEG_NONE ? CPUM_DS : in->seg_override;
    uint64_t am = rem_mask(in->addrsize * 8), di = v->ctx->gpr[CPUM_RDI];
    for (unsigned i = 0; i < n; i++)
        if (m.b[i] & 0x80)
            rem_wr(v, seg, (di + i) & am, 1, a.b[i]);
}

bool rem_exec_sse_int(struct rem_vcpu *v, const struct dis_insn *in)
{
    unsigned mn = in->mnem;
    if (!is_int_simd(mn))
        return false;
    bool mmx = false;
    for (unsigned i = 0; i < in->nops; i++)
        if (in->op[i].kind == DIS_OP_REG && in->op[i].reg_class == DIS_RC_MM)
            mmx = true;
    if (mn == DIS_emms) {
        rem_mmx_enter(v);
        v->ctx->fpu.ftw = 0;
        return true;
    }
    if (mn == DIS_movq2dq || mn == DIS_movdq2q || !mmx)
        rem_sse_check(v);
    if (mmx)
        rem_mmx_enter(v);
    unsigned n = mmx && mn != DIS_movq2dq ? 8 : 16;
    const struct dis_op *d = &in->op[0], *s = &in->op[1];
    union rem_xv a, b, r;
    switch (mn) {
    case DIS_movd: case DIS_movq: case DIS_movq2dq: case DIS_movdq2q: case DIS_movntq:
    case DIS_movdqa: case DIS_movdqu: case DIS_movntdq:
        moves(v, in);
        return true;
    case DIS_maskmovq: case DIS_maskmovdqu:
        maskmov(v, in, n);
        return true;
    case DIS_pextrw:
        rem_sse_read(v, s, &b, n, true);
        gpr_set(v, DIS_RC_GPR, d->reg, d->size == 8 ? 8 : 4,
                b.w[in->op[2].imm & (n / 2 - 1)]);
        return true;
    case DIS_pmovmskb: {
        rem_sse_read(v, s, &b, n, true);
        uint64_t m = 0;
        for (unsigned i = 0; i < n; i++)
            m |= (uint64_t)(b.b[i] >> 7) << i;
        gpr_set(v, DIS_RC_GPR, d->reg, d->size == 8 ? 8 : 4, m);
        return true;
    }
    case DIS_pinsrw: {
        uint16_t x = (uint16_t)op_get(v, s, 2);
        rem_sse_read(v, d, &a, n, true);
        a.w[in->op[2].imm & (n / 2 - 1)] = x;
        rem_sse_write(v, d, &a, n, true);
        return true;
    }
    case DIS_pshufw: case DIS_pshufd: case DIS_pshufhw: case DIS_pshuflw:
        rem_sse_read(v, s, &b, n, true);
        shuffle(mn, &r, &b, (unsigned)in->op[2].imm);
        rem_sse_write(v, d, &r, n, true);
        return true;
    case DIS_psrlw: case DIS_psraw: case DIS_psllw: case DIS_psrld: case DIS_psrad:
    case DIS_pslld: case DIS_psrlq: case DIS_psrldq: case DIS_psllq: case DIS_pslldq: {
        uint64_t cnt;
        if (s->kind == DIS_OP_IMM) {
            cnt = s->imm & 0xff;
        } else {
            rem_sse_read(v, s, &b, n, true);
            cnt = b.q[0];
        }
        rem_sse_read(v, d, &a, n, true);
        r = a;
        shift(mn, &r, &a, cnt, n);
        rem_sse_write(v, d, &r, n, true);
        return true;
    }
    default:
        rem_sse_read(v, s, &b, n, true);
        rem_sse_read(v, d, &a, n, true);
        r = a;
        lanes(mn, &r, &a, &b, n);
        rem_sse_write(v, d, &r, n, true);
        return true;
    }
}
