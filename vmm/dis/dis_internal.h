/*
 * dis_internal.h - what the decoder's tables (dis_tables.c), the decoder
 * (dis_decode.c) and the printer (dis_format.c) share. The opcode maps are
 * data: each byte of a map is a `struct dis_ent`, either an instruction
 * (mnemonic + operand specs + encoding flags) or a redirection to a small
 * sub-table selected by ModRM.reg, ModRM.mod, ModRM.rm, the mandatory prefix,
 * the mode, REX.W or VEX.L.
 */
#ifndef CAPSULE_VMM_DIS_INTERNAL_H
#define CAPSULE_VMM_DIS_INTERNAL_H

#include "dis/dis.h"

/* Operand specifications (SDM appendix A names where they exist). */
enum dis_spec {
    O__ = 0,
    /* ModRM r/m: register or memory */
    O_Eb, O_Ew, O_Ed, O_Eq, O_Ev, O_Ey, O_Evq /* v, 64 in long mode */,
    O_Ewv /* mem 16 bits, register of operand size (mov Sreg, lar, sldt) */,
    O_Rdmb, O_Rdmw /* Rd register or m8/m16 (pextrb/pinsrw...) */,
    /* ModRM r/m: memory only */
    O_M, O_Mb, O_Mw, O_Md, O_Mq, O_Mt, O_Mdq, O_Mx, O_Mv, O_Mp, O_Ms, O_Mfx, O_Menv,
    O_Msave, O_Ma, O_My,
    /* ModRM r/m: register only */
    O_Ry, O_Rv, O_Rcr /* GPR for mov CR/DR: mod ignored, 32/64 by mode */, O_Nq, O_Ux, O_Udq,
    /* ModRM reg */
    O_Gb, O_Gw, O_Gd, O_Gv, O_Gy, O_Sw, O_Cd, O_Dd, O_Pq, O_Vx, O_Vdq, O_Vq,
    /* ModRM r/m as MMX/XMM register or memory */
    O_Qd, O_Qq, O_Wx, O_Wdq, O_Wq, O_Wd, O_Ww, O_Wb,
    /* VEX.vvvv, imm8[7:4] register */
    O_Hx, O_Hdq, O_By, O_Lx,
    /* immediates */
    O_Ib, O_Ibs, O_Iw, O_Iz, O_Iv, O_Jb, O_Jz, O_Ap, O_Ob, O_Ov, O_1,
    /* register from opcode bits 0..2 (+REX.B) */
    O_Zb, O_Zv, O_Zvq, O_Zy,
    /* fixed registers */
    O_AL, O_AX, O_rAX, O_eAX, O_CL, O_DX, O_ES, O_CS, O_SS, O_DS, O_FS, O_GS, O_ST0, O_STi,
    O_XMM0,
    /* string operands */
    O_Xb, O_Xv, O_Xz, O_Yb, O_Yv, O_Yz, O_XLAT,
    O_COUNT
};

enum dis_kind {
    K_INSN = 0,
    K_GRP,  /* sub[ModRM.reg] (8) */
    K_GRPM, /* sub[(mod == 3) * 8 + reg] (16) */
    K_RM,   /* sub[ModRM.rm] (8), register forms only */
    K_PFX,  /* sub[none, 66, F3, F2] (4): mandatory prefix (SSE); VEX.pp */
    K_REP,  /* sub[none, -, F3, F2] (4): F3/F2 select, 66 stays operand size */
    K_MOD,  /* sub[mod == 3] (2) */
    K_M64,  /* sub[mode == 64] (2) */
    K_W,    /* sub[REX.W / VEX.W] (2) */
    K_L,    /* sub[VEX.L] (2) */
};

/* struct dis_ent.f */
#define EF_D64 0x0001 /* operand size defaults to 64 in long mode (push/pop) */
#define EF_F64 0x0002 /* operand size is 64 in long mode (near branches) */
#define EF_I64 0x0004 /* invalid in 64-bit mode */
#define EF_O64 0x0008 /* only in 64-bit mode */
#define EF_V 0x0010   /* also valid VEX-encoded (then printed with a 'v') */
#define EF_VO 0x0020  /* VEX-encoded only */
#define EF_NOLK 0x0040 /* never LOCK-able even if the mnemonic is (xchg reg form...) */

struct dis_ent {
    uint16_t mnem;
    uint8_t kind;
    uint8_t ops[4];
    uint16_t f;
    const struct dis_ent *sub;
};

extern const struct dis_ent dis_map1[256];   /* one-byte map */
extern const struct dis_ent dis_map0f[256];
extern const struct dis_ent dis_map0f38[256];
extern const struct dis_ent dis_map0f3a[256];
extern const struct dis_ent dis_x87[8][16]; /* D8..DF: [op][(mod==3)*8 + reg] */

/* Per-mnemonic attributes from dis_mnem.h. */
struct dis_mnem_info {
    const char *text;
    uint32_t fl_read, fl_written, fl_undef;
    uint16_t attr; /* DIS_A_* */
    uint8_t cf;    /* enum dis_cf */
};
extern const struct dis_mnem_info dis_mnem_info[DIS_MNEM_COUNT];

/* Sets in->sens from its mnemonic, operands and attr (dis_sens.c); called
 * last by dis_decode on a decoded instruction. */
void dis_sens_classify(struct dis_insn *in);

#endif
