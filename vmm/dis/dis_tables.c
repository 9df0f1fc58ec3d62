/*
 * dis_tables.c - the opcode maps as data. Each map byte is an instruction
 * (I: mnemonic, operand specs, encoding flags) or a redirection (G, GM, RM,
 * P, R, MD, M64, W, L; see enum dis_kind) to a sub-table written in place as a
 * compound literal. dis_decode.c walks these; nothing here is code. The
 * per-mnemonic attributes (RFLAGS, privilege, control flow) come from the
 * X-list in dis_mnem.h.
 */
#include "dis/dis_internal.h"

/* ---- per-mnemonic attributes ------------------------------------------ */
#define S_ DIS_FL_STATUS
#define F_N 0, 0, 0
#define F_ARITH 0, S_, 0
#define F_LOGIC 0, S_, DIS_FL_AF
#define F_ADC DIS_FL_CF, S_, 0
#define F_INC 0, S_ & ~DIS_FL_CF, 0
#define F_MUL 0, S_, S_ & ~(DIS_FL_CF | DIS_FL_OF)
#define F_DIV 0, S_, S_
#define F_ROT 0, DIS_FL_CF | DIS_FL_OF, DIS_FL_OF
#define F_RCX DIS_FL_CF, DIS_FL_CF | DIS_FL_OF, DIS_FL_OF
#define F_SHIFT 0, S_, DIS_FL_AF | DIS_FL_OF
#define F_DAA DIS_FL_CF | DIS_FL_AF, S_, DIS_FL_OF
#define F_AAA DIS_FL_AF, S_, S_ & ~(DIS_FL_AF | DIS_FL_CF)
#define F_AAM 0, S_, DIS_FL_OF | DIS_FL_AF | DIS_FL_CF
#define F_RCF DIS_FL_CF, 0, 0
#define F_ZF 0, DIS_FL_ZF, 0
#define F_RZF DIS_FL_ZF, 0, 0
#define F_RALL 0x3f7fd5u, 0, 0
#define F_WALL 0, 0x3f7fd5u, 0
#define F_SAHF 0, S_ & ~DIS_FL_OF, 0
#define F_LAHF S_ & ~DIS_FL_OF, 0, 0
#define F_CF 0, DIS_FL_CF, 0
#define F_RWCF DIS_FL_CF, DIS_FL_CF, 0
#define F_RWOF DIS_FL_OF, DIS_FL_OF, 0
#define F_DF 0, DIS_FL_DF, 0
#define F_IF 0, DIS_FL_IF, 0
#define F_AC 0, DIS_FL_AC, 0
#define F_BT 0, S_, S_ & ~DIS_FL_CF
#define F_BS 0, S_, S_ & ~DIS_FL_ZF
#define F_CNT 0, S_, S_ & ~(DIS_FL_ZF | DIS_FL_CF)
#define F_POPCNT 0, S_, 0
#define F_BMI 0, S_, DIS_FL_AF | DIS_FL_PF
#define F_CC 0, 0, 0 /* read set from the condition by the decoder */
#define F_INT 0, DIS_FL_TF | DIS_FL_IF | DIS_FL_NT | DIS_FL_RF | DIS_FL_AC | DIS_FL_VM, 0
#define F_RDF DIS_FL_DF, 0, 0
#define F_CMPS DIS_FL_DF, S_, 0
#define F_FCMOV DIS_FL_CF | DIS_FL_ZF | DIS_FL_PF, 0, 0
#define F_COMI 0, S_, 0

#define A_LK DIS_A_LOCKABLE
#define A_PRIV DIS_A_PRIV
#define A_SENS DIS_A_SENS
#define A_STR DIS_A_STRING
#define A_REP DIS_A_REP
#define A_REPE DIS_A_REPE
#define A_IO DIS_A_IO
#define CF_(k) ((uint32_t)DIS_CF_##k << 16)
#define CF_JMP CF_(JMP)
#define CF_JCC CF_(JCC)
#define CF_LOOP CF_(LOOP)
#define CF_CALL CF_(CALL)
#define CF_RET CF_(RET)
#define CF_JMPF CF_(JMPF)
#define CF_CALLF CF_(CALLF)
#define CF_RETF CF_(RETF)
#define CF_IRET CF_(IRET)
#define CF_INT CF_(INT)
#define CF_SYSCALL CF_(SYSCALL)
#define CF_SYSRET CF_(SYSRET)
#define CF_UD CF_(UD)
#define CF_HLT CF_(HLT)

#define DIS_X(id, text, fl, at) \
    [DIS_##id] = {text, fl, (uint16_t)((at) & 0xffff), (uint8_t)((uint32_t)(at) >> 16)},
const struct dis_mnem_info dis_mnem_info[DIS_MNEM_COUNT] = {DIS_MNEMONICS(DIS_X)};
#undef DIS_X

/* ---- table-writing macros ---------------------------------------------- */
typedef struct dis_ent E;
#define I(m, a, b, c, fl) {DIS_##m, K_INSN, {O_##a, O_##b, O_##c, O__}, (fl), 0}
#define I4(m, a, b, c, d, fl) {DIS_##m, K_INSN, {O_##a, O_##b, O_##c, O_##d}, (fl), 0}
#define N(m) I(m, _, _, _, 0)
#define X {0, K_INSN, {0, 0, 0, 0}, 0, 0}
#define SUB(k, n, ...) {0, k, {0, 0, 0, 0}, 0, (const E[n]){__VA_ARGS__}}
#define G(...) SUB(K_GRP, 8, __VA_ARGS__)
#define GM(...) SUB(K_GRPM, 16, __VA_ARGS__)
#define RM(...) SUB(K_RM, 8, __VA_ARGS__)
#define P(...) SUB(K_PFX, 4, __VA_ARGS__)
#define R(...) SUB(K_REP, 4, __VA_ARGS__)
#define MD(...) SUB(K_MOD, 2, __VA_ARGS__)
#define M64(...) SUB(K_M64, 2, __VA_ARGS__)
#define W(...) SUB(K_W, 2, __VA_ARGS__)
#define L(...) SUB(K_L, 2, __VA_ARGS__)
#define V EF_V
#define VO EF_VO

/* ALU block: op Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib / rAX,Iz */
#define ALU(m) I(m, Eb, Gb, _, 0), I(m, Ev, Gv, _, 0), I(m, Gb, Eb, _, 0), I(m, Gv, Ev, _, 0), \
               I(m, AL, Ib, _, 0), I(m, rAX, Iz, _, 0)
#define GRP1(a, b) G(I(add, a, b, _, 0), I(or, a, b, _, 0), I(adc, a, b, _, 0), \
                     I(sbb, a, b, _, 0), I(and, a, b, _, 0), I(sub, a, b, _, 0), \
                     I(xor, a, b, _, 0), I(cmp, a, b, _, 0))
#define GRP2(a, b) G(I(rol, a, b, _, 0), I(ror, a, b, _, 0), I(rcl, a, b, _, 0), \
                     I(rcr, a, b, _, 0), I(shl, a, b, _, 0), I(shr, a, b, _, 0), \
                     I(shl, a, b, _, 0), I(sar, a, b, _, 0))
#define GRP3(a, i) G(I(test, a, i, _, 0), I(test, a, i, _, 0), I(not, a, _, _, 0), \
                     I(neg, a, _, _, 0), I(mul, a, _, _, 0), I(imul, a, _, _, 0), \
                     I(div, a, _, _, 0), I(idiv, a, _, _, 0))
#define CC8(q, x, y, fl) I(q##o, x, y, _, fl), I(q##no, x, y, _, fl), I(q##b, x, y, _, fl), \
    I(q##ae, x, y, _, fl), I(q##e, x, y, _, fl), I(q##ne, x, y, _, fl), I(q##be, x, y, _, fl), \
    I(q##a, x, y, _, fl)
#define CC8B(q, x, y, fl) I(q##s, x, y, _, fl), I(q##ns, x, y, _, fl), I(q##p, x, y, _, fl), \
    I(q##np, x, y, _, fl), I(q##l, x, y, _, fl), I(q##ge, x, y, _, fl), I(q##le, x, y, _, fl), \
    I(q##g, x, y, _, fl)
#define CC16(q, x, y, fl) CC8(q, x, y, fl), CC8B(q, x, y, fl)
#define R8(m, a, b) I(m, a, b, _, 0), I(m, a, b, _, 0), I(m, a, b, _, 0), I(m, a, b, _, 0), \
    I(m, a, b, _, 0), I(m, a, b, _, 0), I(m, a, b, _, 0), I(m, a, b, _, 0)
#define RF8(m, a, b, fl) I(m, a, b, _, fl), I(m, a, b, _, fl), I(m, a, b, _, fl), \
    I(m, a, b, _, fl), I(m, a, b, _, fl), I(m, a, b, _, fl), I(m, a, b, _, fl), I(m, a, b, _, fl)
/* SSE arithmetic quartet: ps, pd, ss, sd */
#define SSE4(m) P(I(m##ps, Vx, Hx, Wx, V), I(m##pd, Vx, Hx, Wx, V), I(m##ss, Vx, Hx, Wd, V), \
                  I(m##sd, Vx, Hx, Wq, V))
#define SSE2(m) P(I(m##ps, Vx, Hx, Wx, V), I(m##pd, Vx, Hx, Wx, V), X, X)
/* MMX (no prefix) / SSE2 (66) pair */
#define MX(m) P(I(m, Pq, Qq, _, 0), I(m, Vx, Hx, Wx, V), X, X)
#define MXD(m) P(I(m, Pq, Qd, _, 0), I(m, Vx, Hx, Wx, V), X, X)
/* 66-only SSE */
#define S66(m, a, b, c) P(X, I(m, a, b, c, V), X, X)
#define S66_4(m, a, b, c, d) P(X, I4(m, a, b, c, d, V), X, X)
#define V66(m, a, b, c) P(X, I(m, a, b, c, VO), X, X)
#define V66_4(m, a, b, c, d) P(X, I4(m, a, b, c, d, VO), X, X)

const E dis_map1[256] = {
    /* 00 */ ALU(add), I(push, ES, _, _, EF_I64), I(pop, ES, _, _, EF_I64),
    /* 08 */ ALU(or), I(push, CS, _, _, EF_I64), X /* 0F escape */,
    /* 10 */ ALU(adc), I(push, SS, _, _, EF_I64), I(pop, SS, _, _, EF_I64),
    /* 18 */ ALU(sbb), I(push, DS, _, _, EF_I64), I(pop, DS, _, _, EF_I64),
    /* 20 */ ALU(and), X /* es: */, I(daa, _, _, _, EF_I64),
    /* 28 */ ALU(sub), X /* cs: */, I(das, _, _, _, EF_I64),
    /* 30 */ ALU(xor), X /* ss: */, I(aaa, _, _, _, EF_I64),
    /* 38 */ ALU(cmp), X /* ds: */, I(aas, _, _, _, EF_I64),
    /* 40 */ RF8(inc, Zv, _, EF_I64), RF8(dec, Zv, _, EF_I64),
    /* 50 */ RF8(push, Zvq, _, EF_D64), RF8(pop, Zvq, _, EF_D64),
    /* 60 */ I(pusha, _, _, _, EF_I64), I(popa, _, _, _, EF_I64), I(bound, Gv, Ma, _, EF_I64),
    /* 63 */ M64(I(arpl, Ew, Gw, _, 0), I(movsxd, Gv, Ed, _, 0)),
    /* 64 */ X, X, X, X,
    /* 68 */ I(push, Iz, _, _, EF_D64), I4(imul, Gv, Ev, Iz, _, 0), I(push, Ibs, _, _, EF_D64),
    /* 6B */ I4(imul, Gv, Ev, Ibs, _, 0), I(ins, Yb, DX, _, 0), I(ins, Yz, DX, _, 0),
    /* 6E */ I(outs, DX, Xb, _, 0), I(outs, DX, Xz, _, 0),
    /* 70 */ CC16(j, Jb, _, EF_F64),
    /* 80 */ GRP1(Eb, Ib), GRP1(Ev, Iz), M64(GRP1(Eb, Ib), X), GRP1(Ev, Ibs),
    /* 84 */ I(test, Eb, Gb, _, 0), I(test, Ev, Gv, _, 0), I(xchg, Eb, Gb, _, 0),
    /* 87 */ I(xchg, Ev, Gv, _, 0), I(mov, Eb, Gb, _, 0), I(mov, Ev, Gv, _, 0),
    /* 8A */ I(mov, Gb, Eb, _, 0), I(mov, Gv, Ev, _, 0), I(movseg, Ewv, Sw, _, 0),
    /* 8D */ I(lea, Gv, M, _, 0), I(movseg, Sw, Ew, _, 0),
    /* 8F */ G(I(pop, Evq, _, _, EF_D64), X, X, X, X, X, X, X),
    /* 90 */ I(xchg, Zv, rAX, _, 0) /* nop/pause: decoder */, I(xchg, Zv, rAX, _, 0),
    /* 92 */ I(xchg, Zv, rAX, _, 0), I(xchg, Zv, rAX, _, 0), I(xchg, Zv, rAX, _, 0),
    /* 95 */ I(xchg, Zv, rAX, _, 0), I(xchg, Zv, rAX, _, 0), I(xchg, Zv, rAX, _, 0),
    /* 98 */ N(cbw), N(cwd), I(callf, Ap, _, _, EF_I64), N(fwait), I(pushf, _, _, _, EF_D64),
    /* 9D */ I(popf, _, _, _, EF_D64), N(sahf), N(lahf),
    /* A0 */ I(mov, AL, Ob, _, 0), I(mov, rAX, Ov, _, 0), I(mov, Ob, AL, _, 0), I(mov, Ov, rAX, _, 0),
    /* A4 */ I(movs, Yb, Xb, _, 0), I(movs, Yv, Xv, _, 0), I(cmps, Xb, Yb, _, 0),
    /* A7 */ I(cmps, Xv, Yv, _, 0), I(test, AL, Ib, _, 0), I(test, rAX, Iz, _, 0),
    /* AA */ I(stos, Yb, AL, _, 0), I(stos, Yv, rAX, _, 0), I(lods, AL, Xb, _, 0),
    /* AD */ I(lods, rAX, Xv, _, 0), I(scas, AL, Yb, _, 0), I(scas, rAX, Yv, _, 0),
    /* B0 */ R8(mov, Zb, Ib), R8(mov, Zv, Iv),
    /* C0 */ GRP2(Eb, Ib), GRP2(Ev, Ib), I(ret, Iw, _, _, EF_F64), I(ret, _, _, _, EF_F64),
    /* C4 */ I(les, Gv, Mp, _, EF_I64), I(lds, Gv, Mp, _, EF_I64),
    /* C6 */ G(I(mov, Eb, Ib, _, 0), X, X, X, X, X, X, X),
    /* C7 */ G(I(mov, Ev, Iz, _, 0), X, X, X, X, X, X, X),
    /* C8 */ I(enter, Iw, Ib, _, EF_D64), I(leave, _, _, _, EF_D64), I(retf, Iw, _, _, 0), N(retf),
    /* CC */ N(int3), I(int, Ib, _, _, 0), I(into, _, _, _, EF_I64), N(iret),
    /* D0 */ GRP2(Eb, 1), GRP2(Ev, 1), GRP2(Eb, CL), GRP2(Ev, CL),
    /* D4 */ I(aam, Ib, _, _, EF_I64), I(aad, Ib, _, _, EF_I64), I(salc, _, _, _, EF_I64),
    /* D7 */ I(xlat, XLAT, _, _, 0),
    /* D8 */ X, X, X, X, X, X, X, X, /* x87: dis_x87 */
    /* E0 */ I(loopne, Jb, _, _, EF_F64), I(loope, Jb, _, _, EF_F64), I(loop, Jb, _, _, EF_F64),
    /* E3 */ I(jcxz, Jb, _, _, EF_F64), I(in, AL, Ib, _, 0), I(in, eAX, Ib, _, 0),
    /* E6 */ I(out, Ib, AL, _, 0), I(out, Ib, eAX, _, 0), I(call, Jz, _, _, EF_F64),
    /* E9 */ I(jmp, Jz, _, _, EF_F64), I(jmpf, Ap, _, _, EF_I64), I(jmp, Jb, _, _, EF_F64),
    /* EC */ I(in, AL, DX, _, 0), I(in, eAX, DX, _, 0), I(out, DX, AL, _, 0), I(out, DX, eAX, _, 0),
    /* F0 */ X, N(int1), X, X, N(hlt), N(cmc), GRP3(Eb, Ib), GRP3(Ev, Iz),
    /* F8 */ N(clc), N(stc), N(cli), N(sti), N(cld), N(std),
    /* FE */ G(I(inc, Eb, _, _, 0), I(dec, Eb, _, _, 0), X, X, X, X, X, X),
    /* FF */ G(I(inc, Ev, _, _, 0), I(dec, Ev, _, _, 0), I(call, Evq, _, _, EF_F64),
               I(callf, Mp, _, _, 0), I(jmp, Evq, _, _, EF_F64), I(jmpf, Mp, _, _, 0),
               I(push, Evq, _, _, EF_D64), X),
};

#define NOP8 R8(nop, Ev, _)
/* clang-format off */
const E dis_map0f[256] = {
    /* 00 */ G(I(sldt, Ewv, _, _, 0), I(str, Ewv, _, _, 0), I(lldt, Ew, _, _, 0),
               I(ltr, Ew, _, _, 0), I(verr, Ew, _, _, 0), I(verw, Ew, _, _, 0), X, X),
    /* 01 */ GM(I(sgdt, Ms, _, _, 0), I(sidt, Ms, _, _, 0), I(lgdt, Ms, _, _, 0),
                I(lidt, Ms, _, _, 0), I(smsw, Mw, _, _, 0), X, I(lmsw, Ew, _, _, 0),
                I(invlpg, Mb, _, _, 0),
                RM(X, N(vmcall), N(vmlaunch), N(vmresume), N(vmxoff), X, X, N(encls)),
                RM(N(monitor), N(mwait), N(clac), N(stac), X, X, X, N(encls)),
                RM(N(xgetbv), N(xsetbv), X, X, N(vmfunc), N(xend), N(xtest), N(enclu)),
                RM(N(vmrun), N(vmmcall), N(vmload), N(vmsave), N(stgi), N(clgi), N(skinit),
                   N(invlpga)),
                I(smsw, Rv, _, _, 0),
                RM(P(N(serialize), X, X, X), X, X, X, X, X, N(rdpkru), N(wrpkru)),
                I(lmsw, Ew, _, _, 0),
                RM(I(swapgs, _, _, _, EF_O64), N(rdtscp), X, X, X, X, P(X, X, N(rmpadjust), X),
                   P(X, X, X, N(pvalidate)))),
    /* 02 */ I(lar, Gv, Ewv, _, 0), I(lsl, Gv, Ewv, _, 0), X, N(syscall), N(clts), N(sysret),
    /* 08 */ N(invd), N(wbinvd), X, N(ud2), X,
    /* 0D */ G(I(prefetch, Mb, _, _, 0), I(prefetchw, Mb, _, _, 0), I(prefetch, Mb, _, _, 0),
               I(prefetch, Mb, _, _, 0), I(prefetch, Mb, _, _, 0), I(prefetch, Mb, _, _, 0),
               I(prefetch, Mb, _, _, 0), I(prefetch, Mb, _, _, 0)),
    /* 0E */ X, X /* 3DNow!: decoder */,
    /* 10 */ P(I(movups, Vx, Wx, _, V), I(movupd, Vx, Wx, _, V), I(movss, Vx, Wd, _, V),
              I(movsd, Vx, Wq, _, V)),
    /* 11 */ P(I(movups, Wx, Vx, _, V), I(movupd, Wx, Vx, _, V), I(movss, Wd, Vx, _, V),
              I(movsd, Wq, Vx, _, V)),
    /* 12 */ P(MD(I(movlps, Vx, Hx, Mq, V), I(movhlps, Vx, Hx, Ux, V)), I(movlpd, Vx, Hx, Mq, V),
              I(movsldup, Vx, Wx, _, V), I(movddup, Vx, Wq, _, V)),
    /* 13 */ P(I(movlps, Mq, Vx, _, V), I(movlpd, Mq, Vx, _, V), X, X),
    /* 14 */ SSE2(unpckl), SSE2(unpckh),
    /* 16 */ P(MD(I(movhps, Vx, Hx, Mq, V), I(movlhps, Vx, Hx, Ux, V)), I(movhpd, Vx, Hx, Mq, V),
              I(movshdup, Vx, Wx, _, V), X),
    /* 17 */ P(I(movhps, Mq, Vx, _, V), I(movhpd, Mq, Vx, _, V), X, X),
    /* 18 */ GM(I(prefetchnta, Mb, _, _, 0), I(prefetcht0, Mb, _, _, 0), I(prefetcht1, Mb, _, _, 0),
                I(prefetcht2, Mb, _, _, 0), I(nop, Ev, _, _, 0), I(nop, Ev, _, _, 0),
                I(nop, Ev, _, _, 0), I(nop, Ev, _, _, 0), NOP8),
    /* 19 */ I(nop, Ev, _, _, 0), I(nop, Ev, _, _, 0), I(nop, Ev, _, _, 0), I(nop, Ev, _, _, 0),
    /* 1D */ I(nop, Ev, _, _, 0),
    /* 1E */ R(I(nop, Ev, _, _, 0), X,
              GM(NOP8, I(nop, Ev, _, _, 0), W(I(rdsspd, Rv, _, _, 0), I(rdsspq, Rv, _, _, 0)),
                 I(nop, Ev, _, _, 0), I(nop, Ev, _, _, 0), I(nop, Ev, _, _, 0),
                 I(nop, Ev, _, _, 0), I(nop, Ev, _, _, 0),
                 RM(I(nop, Ev, _, _, 0), I(nop, Ev, _, _, 0), N(endbr64), N(endbr32),
                    I(nop, Ev, _, _, 0), I(nop, Ev, _, _, 0), I(nop, Ev, _, _, 0),
                    I(nop, Ev, _, _, 0))),
              I(nop, Ev, _, _, 0)),
    /* 1F */ I(nop, Ev, _, _, 0),
    /* 20 */ I(movcr, Rcr, Cd, _, 0), I(movdr, Rcr, Dd, _, 0), I(movcr, Cd, Rcr, _, 0),
    /* 23 */ I(movdr, Dd, Rcr, _, 0), X, X, X, X,
    /* 28 */ P(I(movaps, Vx, Wx, _, V), I(movapd, Vx, Wx, _, V), X, X),
    /* 29 */ P(I(movaps, Wx, Vx, _, V), I(movapd, Wx, Vx, _, V), X, X),
    /* 2A */ P(I(cvtpi2ps, Vx, Qq, _, 0), I(cvtpi2pd, Vx, Qq, _, 0), I(cvtsi2ss, Vx, Hx, Ey, V),
              I(cvtsi2sd, Vx, Hx, Ey, V)),
    /* 2B */ P(I(movntps, Mx, Vx, _, V), I(movntpd, Mx, Vx, _, V), X, X),
    /* 2C */ P(I(cvttps2pi, Pq, Wq, _, 0), I(cvttpd2pi, Pq, Wx, _, 0), I(cvttss2si, Gy, Wd, _, V),
              I(cvttsd2si, Gy, Wq, _, V)),
    /* 2D */ P(I(cvtps2pi, Pq, Wq, _, 0), I(cvtpd2pi, Pq, Wx, _, 0), I(cvtss2si, Gy, Wd, _, V),
              I(cvtsd2si, Gy, Wq, _, V)),
    /* 2E */ P(I(ucomiss, Vx, Wd, _, V), I(ucomisd, Vx, Wq, _, V), X, X),
    /* 2F */ P(I(comiss, Vx, Wd, _, V), I(comisd, Vx, Wq, _, V), X, X),
    /* 30 */ N(wrmsr), N(rdtsc), N(rdmsr), N(rdpmc), N(sysenter), N(sysexit), X, N(getsec),
    /* 38 */ X, X, X, X, X, X, X, X, /* 38, 3A: three-byte maps */
    /* 40 */ CC16(cmov, Gv, Ev, 0),
    /* 50 */ P(I(movmskps, Gd, Ux, _, V), I(movmskpd, Gd, Ux, _, V), X, X),
    /* 51 */ P(I(sqrtps, Vx, Wx, _, V), I(sqrtpd, Vx, Wx, _, V), I(sqrtss, Vx, Hx, Wd, V),
              I(sqrtsd, Vx, Hx, Wq, V)),
    /* 52 */ P(I(rsqrtps, Vx, Wx, _, V), X, I(rsqrtss, Vx, Hx, Wd, V), X),
    /* 53 */ P(I(rcpps, Vx, Wx, _, V), X, I(rcpss, Vx, Hx, Wd, V), X),
    /* 54 */ SSE2(and), SSE2(andn), SSE2(or), SSE2(xor),
    /* 58 */ SSE4(add), SSE4(mul),
    /* 5A */ P(I(cvtps2pd, Vx, Wq, _, V), I(cvtpd2ps, Vx, Wx, _, V), I(cvtss2sd, Vx, Hx, Wd, V),
              I(cvtsd2ss, Vx, Hx, Wq, V)),
    /* 5B */ P(I(cvtdq2ps, Vx, Wx, _, V), I(cvtps2dq, Vx, Wx, _, V), I(cvttps2dq, Vx, Wx, _, V), X),
    /* 5C */ SSE4(sub), SSE4(min), SSE4(div), SSE4(max),
    /* 60 */ MXD(punpcklbw), MXD(punpcklwd), MXD(punpckldq), MX(packsswb),
    /* 64 */ MX(pcmpgtb), MX(pcmpgtw), MX(pcmpgtd), MX(packuswb),
    /* 68 */ MX(punpckhbw), MX(punpckhwd), MX(punpckhdq), MX(packssdw),
    /* 6C */ S66(punpcklqdq, Vx, Hx, Wx), S66(punpckhqdq, Vx, Hx, Wx),
    /* 6E */ P(I(movd, Pq, Ey, _, 0), I(movd, Vdq, Ey, _, V), X, X),
    /* 6F */ P(I(movq, Pq, Qq, _, 0), I(movdqa, Vx, Wx, _, V), I(movdqu, Vx, Wx, _, V), X),
    /* 70 */ P(I(pshufw, Pq, Qq, Ib, 0), I(pshufd, Vx, Wx, Ib, V), I(pshufhw, Vx, Wx, Ib, V),
              I(pshuflw, Vx, Wx, Ib, V)),
    /* 71 */ P(G(X, X, I(psrlw, Nq, Ib, _, 0), X, I(psraw, Nq, Ib, _, 0), X, I(psllw, Nq, Ib, _, 0), X),
              G(X, X, I(psrlw, Hx, Ux, Ib, V), X, I(psraw, Hx, Ux, Ib, V), X,
                I(psllw, Hx, Ux, Ib, V), X), X, X),
    /* 72 */ P(G(X, X, I(psrld, Nq, Ib, _, 0), X, I(psrad, Nq, Ib, _, 0), X, I(pslld, Nq, Ib, _, 0), X),
              G(X, X, I(psrld, Hx, Ux, Ib, V), X, I(psrad, Hx, Ux, Ib, V), X,
                I(pslld, Hx, Ux, Ib, V), X), X, X),
    /* 73 */ P(G(X, X, I(psrlq, Nq, Ib, _, 0), X, X, X, I(psllq, Nq, Ib, _, 0), X),
              G(X, X, I(psrlq, Hx, Ux, Ib, V), I(psrldq, Hx, Ux, Ib, V), X, X,
                I(psllq, Hx, Ux, Ib, V), I(pslldq, Hx, Ux, Ib, V)), X, X),
    /* 74 */ MX(pcmpeqb), MX(pcmpeqw), MX(pcmpeqd),
    /* 77 */ P(L(I(emms, _, _, _, 0), X), X, X, X),
    /* 78 */ I(vmread, Ey, Gy, _, 0), I(vmwrite, Gy, Ey, _, 0), X, X,
    /* 7C */ P(X, I(haddpd, Vx, Hx, Wx, V), X, I(haddps, Vx, Hx, Wx, V)),
    /* 7D */ P(X, I(hsubpd, Vx, Hx, Wx, V), X, I(hsubps, Vx, Hx, Wx, V)),
    /* 7E */ P(I(movd, Ey, Pq, _, 0), I(movd, Ey, Vdq, _, V), I(movq, Vdq, Wq, _, V), X),
    /* 7F */ P(I(movq, Qq, Pq, _, 0), I(movdqa, Wx, Vx, _, V), I(movdqu, Wx, Vx, _, V), X),
    /* 80 */ CC16(j, Jz, _, EF_F64),
    /* 90 */ CC16(set, Eb, _, 0),
    /* A0 */ I(push, FS, _, _, EF_D64), I(pop, FS, _, _, EF_D64), N(cpuid), I(bt, Ev, Gv, _, 0),
    /* A4 */ I(shld, Ev, Gv, Ib, 0), I(shld, Ev, Gv, CL, 0), X, X,
    /* A8 */ I(push, GS, _, _, EF_D64), I(pop, GS, _, _, EF_D64), N(rsm), I(bts, Ev, Gv, _, 0),
    /* AC */ I(shrd, Ev, Gv, Ib, 0), I(shrd, Ev, Gv, CL, 0),
    /* AE */ GM(R(I(fxsave, Mfx, _, _, 0), X, X, X), R(I(fxrstor, Mfx, _, _, 0), X, X, X),
                R(I(ldmxcsr, Md, _, _, V), X, X, X), R(I(stmxcsr, Md, _, _, V), X, X, X),
                R(I(xsave, M, _, _, 0), X, X, X), R(I(xrstor, M, _, _, 0), X, X, X),
                P(I(xsaveopt, M, _, _, 0), I(clwb, Mb, _, _, 0), X, X),
                P(I(clflush, Mb, _, _, 0), I(clflushopt, Mb, _, _, 0), X, X),
                R(X, X, I(rdfsbase, Ry, _, _, EF_O64), X), R(X, X, I(rdgsbase, Ry, _, _, EF_O64), X),
                R(X, X, I(wrfsbase, Ry, _, _, EF_O64), X), R(X, X, I(wrgsbase, Ry, _, _, EF_O64), X),
                X, N(lfence), N(mfence), N(sfence)),
    /* AF */ I(imul, Gv, Ev, _, 0),
    /* B0 */ I(cmpxchg, Eb, Gb, _, 0), I(cmpxchg, Ev, Gv, _, 0), I(lss, Gv, Mp, _, 0),
    /* B3 */ I(btr, Ev, Gv, _, 0), I(lfs, Gv, Mp, _, 0), I(lgs, Gv, Mp, _, 0),
    /* B6 */ I(movzx, Gv, Eb, _, 0), I(movzx, Gv, Ew, _, 0),
    /* B8 */ R(X, X, I(popcnt, Gv, Ev, _, 0), X), I(ud1, Gv, Ev, _, 0),
    /* BA */ G(X, X, X, X, I(bt, Ev, Ib, _, 0), I(bts, Ev, Ib, _, 0), I(btr, Ev, Ib, _, 0),
               I(btc, Ev, Ib, _, 0)),
    /* BB */ I(btc, Ev, Gv, _, 0),
    /* BC */ R(I(bsf, Gv, Ev, _, 0), X, I(tzcnt, Gv, Ev, _, 0), I(bsf, Gv, Ev, _, 0)),
    /* BD */ R(I(bsr, Gv, Ev, _, 0), X, I(lzcnt, Gv, Ev, _, 0), I(bsr, Gv, Ev, _, 0)),
    /* BE */ I(movsx, Gv, Eb, _, 0), I(movsx, Gv, Ew, _, 0),
    /* C0 */ I(xadd, Eb, Gb, _, 0), I(xadd, Ev, Gv, _, 0),
    /* C2 */ P(I4(cmpps, Vx, Hx, Wx, Ib, V), I4(cmppd, Vx, Hx, Wx, Ib, V),
              I4(cmpss, Vx, Hx, Wd, Ib, V), I4(cmpsd, Vx, Hx, Wq, Ib, V)),
    /* C3 */ P(I(movnti, My, Gy, _, 0), X, X, X), /* NP: 66/F3/F2 give #UD */
    /* C4 */ P(I(pinsrw, Pq, Rdmw, Ib, 0), I4(pinsrw, Vdq, Hdq, Rdmw, Ib, V), X, X),
    /* C5 */ P(I(pextrw, Gd, Nq, Ib, 0), I(pextrw, Gd, Udq, Ib, V), X, X),
    /* C6 */ P(I4(shufps, Vx, Hx, Wx, Ib, V), I4(shufpd, Vx, Hx, Wx, Ib, V), X, X),
    /* C7 */ GM(X, W(I(cmpxchg8b, Mq, _, _, 0), I(cmpxchg16b, Mdq, _, _, 0)), X,
                R(I(xrstors, M, _, _, 0), X, X, X), R(I(xsavec, M, _, _, 0), X, X, X),
                R(I(xsaves, M, _, _, 0), X, X, X),
                P(I(vmptrld, Mq, _, _, 0), I(vmclear, Mq, _, _, 0), I(vmxon, Mq, _, _, 0), X),
                P(I(vmptrst, Mq, _, _, 0), X, X, X),
                X, X, X, X, X, X, R(I(rdrand, Rv, _, _, 0), X, X, X),
                R(I(rdseed, Rv, _, _, 0), X, I(rdpid, Ry, _, _, 0), X)),
    /* C8 */ R8(bswap, Zy, _),
    /* D0 */ P(X, I(addsubpd, Vx, Hx, Wx, V), X, I(addsubps, Vx, Hx, Wx, V)),
    /* D1 */ MX(psrlw), MX(psrld), MX(psrlq), MX(paddq), MX(pmullw),
    /* D6 */ P(X, I(movq, Wq, Vdq, _, V), I(movq2dq, Vdq, Nq, _, 0), I(movdq2q, Pq, Udq, _, 0)),
    /* D7 */ P(I(pmovmskb, Gd, Nq, _, 0), I(pmovmskb, Gd, Ux, _, V), X, X),
    /* D8 */ MX(psubusb), MX(psubusw), MX(pminub), MX(pand),
    /* DC */ MX(paddusb), MX(paddusw), MX(pmaxub), MX(pandn),
    /* E0 */ MX(pavgb), MX(psraw), MX(psrad), MX(pavgw), MX(pmulhuw), MX(pmulhw),
    /* E6 */ P(X, I(cvttpd2dq, Vx, Wx, _, V), I(cvtdq2pd, Vx, Wq, _, V), I(cvtpd2dq, Vx, Wx, _, V)),
    /* E7 */ P(I(movntq, Mq, Pq, _, 0), I(movntdq, Mx, Vx, _, V), X, X),
    /* E8 */ MX(psubsb), MX(psubsw), MX(pminsw), MX(por),
    /* EC */ MX(paddsb), MX(paddsw), MX(pmaxsw), MX(pxor),
    /* F0 */ P(X, X, X, I(lddqu, Vx, Mx, _, V)),
    /* F1 */ MX(psllw), MX(pslld), MX(psllq), MX(pmuludq), MX(pmaddwd), MX(psadbw),
    /* F7 */ P(I(maskmovq, Pq, Nq, _, 0), I(maskmovdqu, Vdq, Udq, _, V), X, X),
    /* F8 */ MX(psubb), MX(psubw), MX(psubd), MX(psubq), MX(paddb), MX(paddw), MX(paddd),
    /* FF */ I(ud0, Gv, Ev, _, 0),
};
/* clang-format on */

/* 0F 38: SSSE3 pairs, SSE4.1/4.2 (66), AES, SHA, BMI (VEX) */
#define PMOV(m) S66(m, Vx, Wq, _)
const E dis_map0f38[256] = {
    [0x00] = MX(pshufb), MX(phaddw), MX(phaddd), MX(phaddsw), MX(pmaddubsw), MX(phsubw),
    MX(phsubd), MX(phsubsw), MX(psignb), MX(psignw), MX(psignd), MX(pmulhrsw),
    [0x0c] = V66(vpermilps, Vx, Hx, Wx), V66(vpermilpd, Vx, Hx, Wx), V66(vtestps, Vx, Wx, _),
    V66(vtestpd, Vx, Wx, _),
    [0x10] = P(X, I(pblendvb, Vx, Wx, XMM0, 0), X, X),
    [0x13] = V66(vcvtph2ps, Vx, Wq, _),
    [0x14] = P(X, I(blendvps, Vx, Wx, XMM0, 0), X, X), P(X, I(blendvpd, Vx, Wx, XMM0, 0), X, X),
    [0x16] = V66(vpermps, Vx, Hx, Wx), S66(ptest, Vx, Wx, _),
    [0x18] = V66(vbroadcastss, Vx, Wd, _), V66(vbroadcastsd, Vx, Wq, _),
    V66(vbroadcastf128, Vx, Mdq, _),
    [0x1c] = MX(pabsb), MX(pabsw), MX(pabsd),
    [0x20] = PMOV(pmovsxbw), PMOV(pmovsxbd), PMOV(pmovsxbq), PMOV(pmovsxwd), PMOV(pmovsxwq),
    PMOV(pmovsxdq),
    [0x28] = S66(pmuldq, Vx, Hx, Wx), S66(pcmpeqq, Vx, Hx, Wx), S66(movntdqa, Vx, Mx, _),
    S66(packusdw, Vx, Hx, Wx), V66(vmaskmovps, Vx, Hx, Mx), V66(vmaskmovpd, Vx, Hx, Mx),
    V66(vmaskmovps, Mx, Hx, Vx), V66(vmaskmovpd, Mx, Hx, Vx),
    [0x30] = PMOV(pmovzxbw), PMOV(pmovzxbd), PMOV(pmovzxbq), PMOV(pmovzxwd), PMOV(pmovzxwq),
    PMOV(pmovzxdq), V66(vpermd, Vx, Hx, Wx), S66(pcmpgtq, Vx, Hx, Wx),
    [0x38] = S66(pminsb, Vx, Hx, Wx), S66(pminsd, Vx, Hx, Wx), S66(pminuw, Vx, Hx, Wx),
    S66(pminud, Vx, Hx, Wx), S66(pmaxsb, Vx, Hx, Wx), S66(pmaxsd, Vx, Hx, Wx),
    S66(pmaxuw, Vx, Hx, Wx), S66(pmaxud, Vx, Hx, Wx),
    [0x40] = S66(pmulld, Vx, Hx, Wx), S66(phminposuw, Vx, Wx, _),
    [0x45] = V66(vpsrlvd, Vx, Hx, Wx), V66(vpsravd, Vx, Hx, Wx), V66(vpsllvd, Vx, Hx, Wx),
    [0x58] = V66(vpbroadcastd, Vx, Wd, _), V66(vpbroadcastq, Vx, Wq, _),
    V66(vbroadcasti128, Vx, Mdq, _),
    [0x78] = V66(vpbroadcastb, Vx, Wb, _), V66(vpbroadcastw, Vx, Ww, _),
    [0x80] = P(X, I(invept, Gy, Mdq, _, EF_F64), X, X), P(X, I(invvpid, Gy, Mdq, _, EF_F64), X, X),
    P(X, I(invpcid, Gy, Mdq, _, EF_F64), X, X),
    [0x8c] = V66(vpmaskmovd, Vx, Hx, Mx), [0x8e] = V66(vpmaskmovd, Mx, Hx, Vx),
    [0xc8] = P(I(sha1nexte, Vdq, Wdq, _, 0), X, X, X), P(I(sha1msg1, Vdq, Wdq, _, 0), X, X, X),
    P(I(sha1msg2, Vdq, Wdq, _, 0), X, X, X), P(I(sha256rnds2, Vdq, Wdq, XMM0, 0), X, X, X),
    P(I(sha256msg1, Vdq, Wdq, _, 0), X, X, X), P(I(sha256msg2, Vdq, Wdq, _, 0), X, X, X),
    [0xdb] = S66(aesimc, Vdq, Wdq, _), S66(aesenc, Vx, Hx, Wx), S66(aesenclast, Vx, Hx, Wx),
    S66(aesdec, Vx, Hx, Wx), S66(aesdeclast, Vx, Hx, Wx),
    [0xf0] = R(I(movbe, Gv, Mv, _, 0), X, X, I(crc32, Gy, Eb, _, 0)),
    [0xf1] = R(I(movbe, Mv, Gv, _, 0), X, X, I(crc32, Gy, Ev, _, 0)),
    [0xf2] = P(I(andn, Gy, By, Ey, VO), X, X, X),
    [0xf3] = P(G(X, I(blsr, By, Ey, _, VO), I(blsmsk, By, Ey, _, VO), I(blsi, By, Ey, _, VO),
                 X, X, X, X), X, X, X),
    [0xf5] = P(I(bzhi, Gy, Ey, By, VO), X, I(pext, Gy, By, Ey, VO), I(pdep, Gy, By, Ey, VO)),
    [0xf6] = P(X, I(adcx, Gy, Ey, _, 0), I(adox, Gy, Ey, _, 0), I(mulx, Gy, By, Ey, VO)),
    [0xf7] = P(I(bextr, Gy, Ey, By, VO), I(shlx, Gy, Ey, By, VO), I(sarx, Gy, Ey, By, VO),
               I(shrx, Gy, Ey, By, VO)),
};

/* 0F 3A: every instruction has an imm8 */
#define S66I(m, a, b) S66_4(m, a, b, Ib, _)
const E dis_map0f3a[256] = {
    [0x00] = V66(vpermq, Vx, Wx, Ib), V66(vpermpd, Vx, Wx, Ib), V66_4(vpblendd, Vx, Hx, Wx, Ib),
    [0x04] = V66(vpermilps, Vx, Wx, Ib), V66(vpermilpd, Vx, Wx, Ib),
    V66_4(vperm2f128, Vx, Hx, Wx, Ib),
    [0x08] = P(X, I(roundps, Vx, Wx, Ib, V), X, X), P(X, I(roundpd, Vx, Wx, Ib, V), X, X),
    S66_4(roundss, Vx, Hx, Wd, Ib), S66_4(roundsd, Vx, Hx, Wq, Ib),
    S66_4(blendps, Vx, Hx, Wx, Ib), S66_4(blendpd, Vx, Hx, Wx, Ib),
    S66_4(pblendw, Vx, Hx, Wx, Ib),
    P(I(palignr, Pq, Qq, Ib, 0), I4(palignr, Vx, Hx, Wx, Ib, V), X, X),
    [0x14] = S66(pextrb, Rdmb, Vdq, Ib), S66(pextrw, Rdmw, Vdq, Ib), S66(pextrd, Ey, Vdq, Ib),
    S66(extractps, Ed, Vdq, Ib),
    [0x18] = V66_4(vinsertf128, Vx, Hx, Wdq, Ib), V66(vextractf128, Wdq, Vx, Ib),
    [0x1d] = V66(vcvtps2ph, Wq, Vx, Ib),
    [0x20] = S66_4(pinsrb, Vdq, Hdq, Rdmb, Ib), S66_4(insertps, Vdq, Hdq, Wd, Ib),
    S66_4(pinsrd, Vdq, Hdq, Ey, Ib),
    [0x38] = V66_4(vinserti128, Vx, Hx, Wdq, Ib), V66(vextracti128, Wdq, Vx, Ib),
    [0x40] = S66_4(dpps, Vx, Hx, Wx, Ib), S66_4(dppd, Vx, Hx, Wx, Ib),
    S66_4(mpsadbw, Vx, Hx, Wx, Ib), [0x44] = S66_4(pclmulqdq, Vx, Hx, Wx, Ib),
    [0x46] = V66_4(vperm2i128, Vx, Hx, Wx, Ib),
    [0x4a] = V66_4(vblendvps, Vx, Hx, Wx, Lx), V66_4(vblendvpd, Vx, Hx, Wx, Lx),
    V66_4(vpblendvb, Vx, Hx, Wx, Lx),
    [0x60] = S66I(pcmpestrm, Vdq, Wdq), S66I(pcmpestri, Vdq, Wdq), S66I(pcmpistrm, Vdq, Wdq),
    S66I(pcmpistri, Vdq, Wdq),
    [0xcc] = P(I(sha1rnds4, Vdq, Wdq, Ib, 0), X, X, X),
    [0xdf] = S66(aeskeygenassist, Vdq, Wdq, Ib),
    [0xf0] = P(X, X, X, I(rorx, Gy, Ey, Ib, VO)),
};

/* x87 escapes D8..DF: [op - 0xD8][(mod == 3) * 8 + reg] */
#define FM8(a, b, c, d, e, f, g, h, s) I(a, s, _, _, 0), I(b, s, _, _, 0), I(c, s, _, _, 0), \
    I(d, s, _, _, 0), I(e, s, _, _, 0), I(f, s, _, _, 0), I(g, s, _, _, 0), I(h, s, _, _, 0)
const E dis_x87[8][16] = {
    /* D8 */ {FM8(fadd, fmul, fcom, fcomp, fsub, fsubr, fdiv, fdivr, Md),
              I(fadd, ST0, STi, _, 0), I(fmul, ST0, STi, _, 0), I(fcom, STi, _, _, 0),
              I(fcomp, STi, _, _, 0), I(fsub, ST0, STi, _, 0), I(fsubr, ST0, STi, _, 0),
              I(fdiv, ST0, STi, _, 0), I(fdivr, ST0, STi, _, 0)},
    /* D9 */ {I(fld, Md, _, _, 0), X, I(fst, Md, _, _, 0), I(fstp, Md, _, _, 0),
              I(fldenv, Menv, _, _, 0), I(fldcw, Mw, _, _, 0), I(fnstenv, Menv, _, _, 0),
              I(fnstcw, Mw, _, _, 0),
              I(fld, STi, _, _, 0), I(fxch, STi, _, _, 0), RM(N(fnop), X, X, X, X, X, X, X), X,
              RM(N(fchs), N(fabs), X, X, N(ftst), N(fxam), X, X),
              RM(N(fld1), N(fldl2t), N(fldl2e), N(fldpi), N(fldlg2), N(fldln2), N(fldz), X),
              RM(N(f2xm1), N(fyl2x), N(fptan), N(fpatan), N(fxtract), N(fprem1), N(fdecstp),
                 N(fincstp)),
              RM(N(fprem), N(fyl2xp1), N(fsqrt), N(fsincos), N(frndint), N(fscale), N(fsin),
                 N(fcos))},
    /* DA */ {FM8(fiadd, fimul, ficom, ficomp, fisub, fisubr, fidiv, fidivr, Md),
              I(fcmovb, ST0, STi, _, 0), I(fcmove, ST0, STi, _, 0), I(fcmovbe, ST0, STi, _, 0),
              I(fcmovu, ST0, STi, _, 0), X, RM(X, N(fucompp), X, X, X, X, X, X), X, X},
    /* DB */ {I(fild, Md, _, _, 0), I(fisttp, Md, _, _, 0), I(fist, Md, _, _, 0),
              I(fistp, Md, _, _, 0), X, I(fld, Mt, _, _, 0), X, I(fstp, Mt, _, _, 0),
              I(fcmovnb, ST0, STi, _, 0), I(fcmovne, ST0, STi, _, 0),
              I(fcmovnbe, ST0, STi, _, 0), I(fcmovnu, ST0, STi, _, 0),
              RM(N(fneni), N(fndisi), N(fnclex), N(fninit), N(fnsetpm), N(frstpm), X, X),
              I(fucomi, ST0, STi, _, 0), I(fcomi, ST0, STi, _, 0), X},
    /* DC */ {FM8(fadd, fmul, fcom, fcomp, fsub, fsubr, fdiv, fdivr, Mq),
              I(fadd, STi, ST0, _, 0), I(fmul, STi, ST0, _, 0), X, X,
              I(fsubr, STi, ST0, _, 0), I(fsub, STi, ST0, _, 0), I(fdivr, STi, ST0, _, 0),
              I(fdiv, STi, ST0, _, 0)},
    /* DD */ {I(fld, Mq, _, _, 0), I(fisttp, Mq, _, _, 0), I(fst, Mq, _, _, 0),
              I(fstp, Mq, _, _, 0), I(frstor, Msave, _, _, 0), X, I(fnsave, Msave, _, _, 0),
              I(fnstsw, Mw, _, _, 0),
              I(ffree, STi, _, _, 0), X, I(fst, STi, _, _, 0), I(fstp, STi, _, _, 0),
              I(fucom, STi, _, _, 0), I(fucomp, STi, _, _, 0), X, X},
    /* DE */ {FM8(fiadd, fimul, ficom, ficomp, fisub, fisubr, fidiv, fidivr, Mw),
              I(faddp, STi, ST0, _, 0), I(fmulp, STi, ST0, _, 0), X,
              RM(X, N(fcompp), X, X, X, X, X, X), I(fsubrp, STi, ST0, _, 0),
              I(fsubp, STi, ST0, _, 0), I(fdivrp, STi, ST0, _, 0), I(fdivp, STi, ST0, _, 0)},
    /* DF */ {I(fild, Mw, _, _, 0), I(fisttp, Mw, _, _, 0), I(fist, Mw, _, _, 0),
              I(fistp, Mw, _, _, 0), I(fbld, Mt, _, _, 0), I(fild, Mq, _, _, 0),
              I(fbstp, Mt, _, _, 0), I(fistp, Mq, _, _, 0),
              I(ffreep, STi, _, _, 0), X, X, X, RM(I(fnstsw, AX, _, _, 0), X, X, X, X, X, X, X),
              I(fucomip, ST0, STi, _, 0), I(fcomip, ST0, STi, _, 0), X},
};
