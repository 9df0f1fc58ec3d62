/*
 * tests/unit/dis: DIS's Check suite. A table of byte sequences per mode with
 * the expected length (or error) and printed text, then test cases on the
 * structured output REM and CSAM read (operands, sizes, RFLAGS, attributes),
 * prefix edge cases, the 15-byte limit and truncated input.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dis/dis.h"

struct vec {
    int mode;
    const char *hex;
    int rc; /* expected length or DIS_ERR_* */
    const char *text;
};

/* clang-format off */
static const struct vec vecs[] = {
    /* 64-bit */
    {64, "4863c1", 3, "movsxd rax,ecx"},
    {64, "8b44240c", 4, "mov    eax,DWORD PTR [rsp+0xc]"},
    {64, "8b448b10", 4, "mov    eax,DWORD PTR [rbx+rcx*4+0x10]"},
    {64, "8b048d10000000", 7, "mov    eax,DWORD PTR [rcx*4+0x10]"},
    {64, "488b45f8", 4, "mov    rax,QWORD PTR [rbp-0x8]"},
    {64, "f3a4", 2, "rep movs BYTE PTR es:[rdi],BYTE PTR ds:[rsi]"},
    {64, "48b80102030405060708", 10, "movabs rax,0x807060504030201"},
    {64, "48a10000000000000000", 10, "movabs rax,ds:0x0"},
    {64, "8d0510000000", 6, "lea    eax,[rip+0x10]        # 0x16"},
    {64, "f00fc108", 4, "lock xadd DWORD PTR [rax],ecx"},
    {64, "f001c0", DIS_ERR_INVALID, NULL},           /* LOCK on a register destination */
    {64, "f03900", DIS_ERR_INVALID, NULL},           /* LOCK cmp */
    {64, "06", DIS_ERR_INVALID, NULL},               /* push es: invalid in 64-bit */
    {64, "82c001", DIS_ERR_INVALID, NULL},
    {64, "660fc300", DIS_ERR_INVALID, NULL},         /* MOVNTI is NP: 66 gives #UD */
    {64, "0fc300", 3, "movnti DWORD PTR [rax],eax"},
    {64, "36488b03", 4, "mov    rax,QWORD PTR ss:[rbx]"}, /* SS kept in 64-bit (#SS) */
    {64, "c5f877", 3, "vzeroupper"},
    {64, "c5fc77", 3, "vzeroall"},
    {64, "c5f96fc1", 4, "vmovdqa xmm0,xmm1"},
    {64, "c5fd6fc1", 4, "vmovdqa ymm0,ymm1"},
    {64, "c5f058c2", 4, "vaddps xmm0,xmm1,xmm2"},
    {64, "c4e27d1806", 5, "vbroadcastss ymm0,DWORD PTR [rsi]"},
    {64, "660f3a0fc108", 6, "palignr xmm0,xmm1,0x8"},
    {64, "660f3800c1", 5, "pshufb xmm0,xmm1"},
    {64, "f30f10c1", 4, "movss  xmm0,xmm1"},
    {64, "660fefc0", 4, "pxor   xmm0,xmm0"},
    {64, "0fefc0", 3, "pxor   mm0,mm0"},
    {64, "f30f1efa", 4, "endbr64"},
    {64, "f30fb8c1", 4, "popcnt eax,ecx"},
    {64, "660fbcc1", 4, "bsf    ax,cx"},
    {64, "d9e8", 2, "fld1"},
    {64, "dd1c24", 3, "fstp   QWORD PTR [rsp]"},
    {64, "dec1", 2, "faddp  st(1),st"},
    {64, "dbe3", 2, "fninit"},
    {64, "0f01c1", 3, "vmcall"},
    {64, "0f01f8", 3, "swapgs"},
    /* found on paths of Debian's kernel by CSAM (capsule-csam) */
    {64, "0f01e8", 3, "serialize"},
    {64, "f30f01fe", 4, "rmpadjust"},
    {64, "f20f01ff", 4, "pvalidate"},
    {64, "0fc71f", 3, "xrstors [rdi]"},
    {64, "0fc727", 3, "xsavec [rdi]"},
    {64, "0fc72f", 3, "xsaves [rdi]"},
    {64, "4150", 2, "push   r8"},
    {64, "6650", 2, "push   ax"},
    {64, "88e0", 2, "mov    al,ah"},
    {64, "4088e0", 3, "mov    al,spl"},
    {64, "ff24c500000000", 7, "jmp    QWORD PTR [rax*8+0x0]"},
    {64, "d1e0", 2, "shl    eax,1"},
    {64, "4883c0ff", 4, "add    rax,0xffffffffffffffff"},
    {64, "6a80", 2, "push   0xffffffffffffff80"},
    {64, "9c", 1, "pushf"},
    {64, "48cf", 2, "iretq"},
    {64, "4898", 2, "cdqe"},
    {64, "e3fe", 2, "jrcxz  0x0"},
    {64, "0f0b", 2, "ud2"},
    {64, "62f17c4810c1", 6, "(evex)"},
    {64, "666666666666666666666666666690", 15, "xchg   ax,ax"},
    {64, "66666666666666666666666666666690", DIS_ERR_TOOLONG, NULL},
    {64, "8b", DIS_ERR_MORE, NULL},
    {64, "e800", DIS_ERR_MORE, NULL},
    {64, "0f", DIS_ERR_MORE, NULL},
    {64, "c4", DIS_ERR_MORE, NULL},
    {64, "660fc4c001", 5, "pinsrw xmm0,eax,0x1"},
    {64, "0fc7c8", DIS_ERR_INVALID, NULL},         /* cmpxchg8b needs memory */
    {64, "f20f38f1c1", 5, "crc32  eax,ecx"},
    /* 32-bit */
    {32, "48", 1, "dec    eax"},
    {32, "c5f96fc1", 4, "vmovdqa xmm0,xmm1"},
    {32, "c506", 2, "lds    eax,FWORD PTR [esi]"},
    {32, "ea785634123412", 7, "jmp    0x1234:0x12345678"},
    {32, "a178563412", 5, "mov    eax,ds:0x12345678"},
    {32, "66a178563412", 6, "mov    ax,ds:0x12345678"},
    {32, "0f20c0", 3, "mov    eax,cr0"},
    {32, "8ec8", DIS_ERR_INVALID, NULL},            /* mov cs,ax */
    {32, "8cd8", 2, "mov    eax,ds"},
    {32, "60", 1, "pusha"},
    {32, "6660", 2, "pushaw"},
    {32, "e9fbffffff", 5, "jmp    0x0"},
    {32, "67e3fe", 3, "jcxz   0x1"},
    {32, "2e8b00", 3, "mov    eax,DWORD PTR cs:[eax]"},
    {32, "8b0424", 3, "mov    eax,DWORD PTR [esp]"},
    {32, "0f0f", DIS_ERR_MORE, NULL},
    /* 16-bit */
    {16, "8b00", 2, "mov    ax,WORD PTR [bx+si]"},
    {16, "8b46fe", 3, "mov    ax,WORD PTR [bp-0x2]"},
    {16, "a13412", 3, "mov    ax,ds:0x1234"},
    {16, "66b878563412", 6, "mov    eax,0x12345678"},
    {16, "e90000", 3, "jmp    0x3"},
    {16, "cd10", 2, "int    0x10"},
    {16, "ea00000010", 5, "jmp    0x1000:0x0"},
    {16, "67668b0424", 5, "mov    eax,DWORD PTR [esp]"},
    {16, "cf", 1, "iret"},
};
/* clang-format on */

static size_t unhex(const char *h, uint8_t *out)
{
    size_t n = 0;
    for (; h[0] && h[1]; h += 2) {
        unsigned v;
        sscanf(h, "%2x", &v);
        out[n++] = (uint8_t)v;
    }
    return n;
}

START_TEST(test_vectors)
{
    const struct vec *v = &vecs[_i];
    uint8_t b[32];
    size_t n = unhex(v->hex, b);
    struct dis_insn in;
    char text[128];
    int rc = dis_decode(b, n, (enum dis_mode)v->mode, &in);
    ck_assert_msg(rc == v->rc, "%d-bit %s: rc %d, want %d", v->mode, v->hex, rc, v->rc);
    if (rc > 0) {
        ck_assert_int_eq(in.length, rc);
        dis_format(&in, 0, text, sizeof(text));
        ck_assert_msg(!strcmp(text, v->text), "%d-bit %s: '%s', want '%s'", v->mode, v->hex, text,
                      v->text);
    } else {
        ck_assert_int_eq(in.mnem, DIS_invalid);
    }
}
END_TEST

static struct dis_insn dec(int mode, const char *hex)
{
    uint8_t b[32];
    size_t n = unhex(hex, b);
    struct dis_insn in;
    int rc = dis_decode(b, n, (enum dis_mode)mode, &in);
    ck_assert_msg(rc == (int)n, "%s: rc %d", hex, rc);
    return in;
}

START_TEST(test_operands)
{
    struct dis_insn in = dec(64, "448b448b10"); /* mov r8d,[rbx+rcx*4+0x10] */
    ck_assert_int_eq(in.mnem, DIS_mov);
    ck_assert_int_eq(in.nops, 2);
    ck_assert_int_eq(in.opsize, 4);
    ck_assert_int_eq(in.op[0].kind, DIS_OP_REG);
    ck_assert_int_eq(in.op[0].reg_class, DIS_RC_GPR);
    ck_assert_int_eq(in.op[0].reg, 8);
    ck_assert_int_eq(in.op[0].access, DIS_ACC_W);
    ck_assert_int_eq(in.op[1].kind, DIS_OP_MEM);
    ck_assert_int_eq(in.op[1].mem.base, 3);
    ck_assert_int_eq(in.op[1].mem.index, 1);
    ck_assert_int_eq(in.op[1].mem.scale, 4);
    ck_assert_int_eq(in.op[1].mem.disp, 0x10);
    ck_assert_int_eq(in.op[1].mem.seg, DIS_SEG_DS);
    ck_assert_int_eq(in.op[1].mem.addr_size, 8);
    ck_assert_int_eq(in.op[1].size, 4);

    in = dec(64, "8b4500"); /* [rbp+0]: SS */
    ck_assert_int_eq(in.op[1].mem.seg, DIS_SEG_SS);
    in = dec(64, "648b00"); /* fs: override kept in 64-bit */
    ck_assert_int_eq(in.op[1].mem.seg, DIS_SEG_FS);
    in = dec(64, "2e8b4500"); /* cs: ignored in 64-bit */
    ck_assert_int_eq(in.op[1].mem.seg, DIS_SEG_SS);
    in = dec(64, "3e8b4500"); /* ds: ignored too, [rbp] stays SS */
    ck_assert_int_eq(in.op[1].mem.seg, DIS_SEG_SS);
    in = dec(64, "368b03"); /* ss: ignored too (a non-canonical [rbx] is #GP on the CPU) */
    ck_assert_int_eq(in.op[1].mem.seg, DIS_SEG_DS);
    in = dec(64, "36a4"); /* the string source as well; the printer still shows ss: */
    ck_assert_int_eq(in.op[1].mem.seg, DIS_SEG_DS);
    in = dec(64, "268b03"); /* es: ignored */
    ck_assert_int_eq(in.op[1].mem.seg, DIS_SEG_DS);
    in = dec(64, "8b0510000000");
    ck_assert_int_eq(in.op[1].mem.base, DIS_REG_RIP);
    ck_assert_int_eq(in.op[1].mem.disp, 0x10);
    in = dec(16, "8b46fe");
    ck_assert_int_eq(in.op[1].mem.base, 5);
    ck_assert_int_eq(in.op[1].mem.disp, -2);
    ck_assert_int_eq(in.op[1].mem.seg, DIS_SEG_SS);
    ck_assert_int_eq(in.op[1].mem.addr_size, 2);

    in = dec(64, "83c0ff");
    ck_assert_int_eq(in.op[1].kind, DIS_OP_IMM);
    ck_assert_uint_eq(in.op[1].imm, 0xffffffffu);
    in = dec(64, "e8fbffffff");
    ck_assert_int_eq(in.op[0].kind, DIS_OP_REL);
    ck_assert_uint_eq(dis_rel_target(&in, 0x1000), 0x1000);
    ck_assert_int_eq(in.cf, DIS_CF_CALL);
    ck_assert_int_eq(in.opsize, 8);
    in = dec(32, "9a785634123412");
    ck_assert_int_eq(in.op[0].kind, DIS_OP_FAR);
    ck_assert_int_eq(in.op[0].sel, 0x1234);
    ck_assert_uint_eq(in.op[0].imm, 0x12345678);
    ck_assert_int_eq(in.cf, DIS_CF_CALLF);
    in = dec(64, "88e0"); /* mov al,ah */
    ck_assert_int_eq(in.op[1].reg_class, DIS_RC_GPR8H);
    ck_assert_int_eq(in.op[1].reg, 0);
    ck_assert_int_eq(in.opsize, 1);
    in = dec(64, "4088e0");
    ck_assert_int_eq(in.op[1].reg_class, DIS_RC_GPR);
    ck_assert_int_eq(in.op[1].reg, 4);
    in = dec(64, "8ed8"); /* mov ds,eax */
    ck_assert_int_eq(in.op[0].reg_class, DIS_RC_SEG);
    ck_assert_int_eq(in.op[0].reg, DIS_SEG_DS);
}
END_TEST

START_TEST(test_sizes)
{
    ck_assert_int_eq(dec(64, "50").opsize, 8);     /* push: 64 by default */
    ck_assert_int_eq(dec(64, "6650").opsize, 2);
    ck_assert_int_eq(dec(64, "66e800000000").opsize, 8); /* near branch: 66 ignored */
    ck_assert_int_eq(dec(64, "01c0").opsize, 4);
    ck_assert_int_eq(dec(64, "4801c0").opsize, 8);
    ck_assert_int_eq(dec(64, "664801c0").opsize, 8); /* REX.W beats 66 */
    ck_assert_int_eq(dec(32, "6601c0").opsize, 2);
    ck_assert_int_eq(dec(16, "01c0").opsize, 2);
    ck_assert_int_eq(dec(64, "678b00").addrsize, 4);
    ck_assert_int_eq(dec(32, "678b00").addrsize, 2);
    /* REX before a legacy prefix is ignored */
    struct dis_insn in = dec(64, "48668b00");
    ck_assert_int_eq(in.opsize, 2);
    ck_assert_int_eq(in.rex, 0);
    /* mandatory 66 is not an operand-size prefix */
    in = dec(64, "660f6fc1");
    ck_assert_int_eq(in.mnem, DIS_movdqa);
    ck_assert(!(in.prefixes & DIS_PFX_OPSIZE));
    /* last of F2/F3 selects */
    in = dec(64, "f2f30f10c1");
    ck_assert_int_eq(in.mnem, DIS_movss);
}
END_TEST

START_TEST(test_attributes)
{
    struct dis_insn in = dec(64, "9c");
    ck_assert(in.attr & DIS_A_SENS);
    ck_assert(in.flags_read & DIS_FL_IF);
    in = dec(64, "9d");
    ck_assert(in.attr & DIS_A_SENS);
    ck_assert(in.flags_written & DIS_FL_DF);
    in = dec(64, "0f01f8");
    ck_assert(in.attr & DIS_A_PRIV);
    in = dec(64, "0f0100");
    ck_assert_int_eq(in.mnem, DIS_sgdt);
    ck_assert(in.attr & DIS_A_SENS);
    ck_assert(!(in.attr & DIS_A_PRIV));
    ck_assert(dec(64, "0f22d8").attr & DIS_A_PRIV);  /* mov cr3,rax */
    ck_assert(dec(64, "f4").attr & DIS_A_PRIV);
    ck_assert(dec(64, "fa").attr & DIS_A_SENS);
    ck_assert(dec(64, "8cc8").attr & DIS_A_SENS);    /* mov eax,cs */
    in = dec(64, "74fe");
    ck_assert_int_eq(in.cf, DIS_CF_JCC);
    ck_assert_int_eq(in.cond, 4);
    ck_assert_uint_eq(in.flags_read, DIS_FL_ZF);
    in = dec(64, "0f4fc1"); /* cmovg */
    ck_assert_int_eq(in.cond, 15);
    ck_assert_uint_eq(in.flags_read, DIS_FL_ZF | DIS_FL_SF | DIS_FL_OF);
    in = dec(64, "11c0");
    ck_assert_uint_eq(in.flags_read, DIS_FL_CF);
    ck_assert_uint_eq(in.flags_written, DIS_FL_STATUS);
    in = dec(64, "21c0");
    ck_assert_uint_eq(in.flags_undef, DIS_FL_AF);
    in = dec(64, "f7e1");
    ck_assert_int_eq(in.mnem, DIS_mul);
    ck_assert(in.flags_undef & DIS_FL_ZF);
    in = dec(64, "f3a5");
    ck_assert(in.attr & DIS_A_STRING);
    ck_assert(in.prefixes & DIS_PFX_REP);
    ck_assert(in.flags_read & DIS_FL_DF);
    in = dec(64, "f00108");
    ck_assert(in.attr & DIS_A_LOCKABLE);
    ck_assert(in.prefixes & DIS_PFX_LOCK);
    ck_assert_int_eq(dec(64, "c3").cf, DIS_CF_RET);
    ck_assert_int_eq(dec(64, "cf").cf, DIS_CF_IRET);
    ck_assert_int_eq(dec(64, "cd80").cf, DIS_CF_INT);
    ck_assert_int_eq(dec(64, "0f05").cf, DIS_CF_SYSCALL);
    ck_assert_int_eq(dec(64, "ffe0").cf, DIS_CF_JMP);
    ck_assert_int_eq(dec(64, "ff18").cf, DIS_CF_CALLF);
    ck_assert_int_eq(dec(64, "e2fe").cf, DIS_CF_LOOP);
    ck_assert_int_eq(dec(64, "0f0b").cf, DIS_CF_UD);
}
END_TEST

/* The raw-mode kinds (struct dis_insn.sens) of the instructions CSAM records. */
START_TEST(test_sens_kinds)
{
    static const struct {
        int mode;
        const char *hex;
        int sens;
    } k[] = {
        {64, "9c", DIS_SENS_PUSHF},
        {64, "9d", DIS_SENS_POPF},
        {64, "fa", DIS_SENS_CLI},
        {64, "fb", DIS_SENS_STI},
        {64, "48cf", DIS_SENS_IRET},
        {64, "480f07", DIS_SENS_SYSRET},
        {64, "0f01f8", DIS_SENS_SWAPGS},
        {64, "e460", DIS_SENS_IO},
        {64, "ee", DIS_SENS_IO},
        {64, "f36c", DIS_SENS_IO},
        {64, "0f20d8", DIS_SENS_CR},
        {64, "0f22d8", DIS_SENS_CR},
        {64, "0f06", DIS_SENS_CR},
        {64, "0f01e0", DIS_SENS_CR}, /* smsw eax */
        {64, "0f21f8", DIS_SENS_DR},
        {64, "0f0110", DIS_SENS_DESC_LOAD},
        {64, "0f0118", DIS_SENS_DESC_LOAD},
        {64, "0f00d8", DIS_SENS_DESC_LOAD}, /* ltr ax */
        {64, "0f0100", DIS_SENS_DESC_READ},
        {64, "0f00c8", DIS_SENS_DESC_READ}, /* str eax */
        {64, "0f32", DIS_SENS_MSR},
        {64, "0f30", DIS_SENS_MSR},
        {64, "0fa2", DIS_SENS_CPUID},
        {64, "f4", DIS_SENS_HLT},
        {64, "0f0138", DIS_SENS_TLB},
        {64, "0f31", DIS_SENS_TSC},
        {64, "0f01f9", DIS_SENS_TSC},
        {64, "8cc8", DIS_SENS_SEG_READ},   /* mov eax,cs */
        {64, "8cd0", DIS_SENS_SEG_READ},   /* mov eax,ss */
        {64, "8cd8", DIS_SENS_NONE},       /* mov eax,ds: only the selector */
        {64, "8ed8", DIS_SENS_SEG_LOAD},   /* mov ds,eax */
        {64, "8e10", DIS_SENS_SEG_LOAD},   /* mov ss,[rax] */
        {64, "0fa1", DIS_SENS_SEG_LOAD},   /* pop fs */
        {64, "0fa0", DIS_SENS_NONE},       /* push fs */
        {32, "0e", DIS_SENS_SEG_READ},     /* push cs */
        {32, "16", DIS_SENS_SEG_READ},     /* push ss */
        {32, "1e", DIS_SENS_NONE},         /* push ds */
        {32, "17", DIS_SENS_SEG_LOAD},     /* pop ss */
        {32, "c400", DIS_SENS_SEG_LOAD},   /* les eax,[eax] */
        {32, "6300", DIS_SENS_SEG_READ},   /* arpl */
        {64, "0f02c0", DIS_SENS_SEG_READ}, /* lar */
        {64, "0f03c0", DIS_SENS_SEG_READ}, /* lsl */
        {64, "0f00e0", DIS_SENS_SEG_READ}, /* verr */
        {64, "ff28", DIS_SENS_FAR},
        {64, "cb", DIS_SENS_FAR},
        {32, "ea000000000800", DIS_SENS_FAR},
        {64, "cd80", DIS_SENS_INT},
        {64, "cc", DIS_SENS_INT},
        {64, "0f05", DIS_SENS_SYSCALL},
        {64, "0f0b", DIS_SENS_UD},
        {64, "0f09", DIS_SENS_PRIV},     /* wbinvd */
        {64, "0f01d1", DIS_SENS_PRIV},   /* xsetbv */
        {64, "0f01cb", DIS_SENS_PRIV},   /* stac */
        {64, "0f01c1", DIS_SENS_PRIV},   /* vmcall */
        {64, "f30f01fe", DIS_SENS_PRIV}, /* rmpadjust */
        {64, "0fc71f", DIS_SENS_PRIV},   /* xrstors */
        {64, "0fc727", DIS_SENS_NONE},   /* xsavec */
        {64, "90", DIS_SENS_NONE},
        {64, "c3", DIS_SENS_NONE},
        {64, "ffe0", DIS_SENS_NONE},
        {64, "0f01d0", DIS_SENS_NONE}, /* xgetbv */
    };
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        struct dis_insn in = dec(k[i].mode, k[i].hex);
        ck_assert_msg(in.sens == k[i].sens, "%s: sens %s, want %s", k[i].hex,
                      dis_sens_name(in.sens), dis_sens_name((unsigned)k[i].sens));
    }
    ck_assert_str_eq(dis_sens_name(DIS_SENS_SEG_READ), "seg-read");
    ck_assert_str_eq(dis_sens_name(DIS_SENS_COUNT), "?");
}
END_TEST

/* The header's promise, over every 1-, 2- and 3-byte opcode (0F, 0F 01 /r
 * and 0F 00 /r with every ModRM) in both modes: PRIV and IO always have a
 * kind, SENS too but for stores of DS/ES/FS/GS. */
START_TEST(test_sens_superset)
{
    static const int modes[2] = {DIS_MODE_32, DIS_MODE_64};
    uint8_t b[16];
    for (int mi = 0; mi < 2; mi++) {
        for (unsigned x = 0; x < 0x30000; x++) {
            memset(b, 0, sizeof(b));
            unsigned n = 0;
            if (x < 0x100) {
                b[n++] = (uint8_t)x;
            } else if (x < 0x10000) {
                b[n++] = 0x0f;
                b[n++] = (uint8_t)(x >> 8);
                b[n++] = (uint8_t)x;
            } else {
                b[n++] = 0x0f;
                b[n++] = x < 0x20000 ? 0x01 : 0x00;
                b[n++] = (uint8_t)x;
            }
            struct dis_insn in;
            if (dis_decode(b, sizeof(b), (enum dis_mode)modes[mi], &in) <= 0)
                continue;
            int store_dsgs = in.mnem == DIS_movseg && in.op[1].kind == DIS_OP_REG &&
                             in.op[1].reg_class == DIS_RC_SEG;
            if ((in.attr & (DIS_A_PRIV | DIS_A_IO)) || ((in.attr & DIS_A_SENS) && !store_dsgs))
                ck_assert_msg(in.sens != DIS_SENS_NONE,
                              "mode %d bytes %02x %02x %02x: %s has no kind", modes[mi], b[0], b[1],
                              b[2], dis_mnem_name(in.mnem));
        }
    }
}
END_TEST

START_TEST(test_avail_and_format)
{
    /* a long instruction cut at every length reports MORE, never reads on */
    uint8_t b[16];
    size_t n = unhex("48c784248877665544332211", b); /* mov QWORD PTR [rsp+disp32],imm32 */
    struct dis_insn in;
    for (size_t k = 0; k < n; k++) {
        uint8_t *heap = malloc(k ? k : 1);
        memcpy(heap, b, k);
        ck_assert_int_eq(dis_decode(heap, k, DIS_MODE_64, &in), DIS_ERR_MORE);
        free(heap);
    }
    ck_assert_int_eq(dis_decode(b, n, DIS_MODE_64, &in), (int)n);
    char small[8];
    memset(small, 'x', sizeof(small));
    int full = dis_format(&in, 0, small, 5);
    ck_assert_int_gt(full, 5);
    ck_assert_int_eq(small[4], 0);
    ck_assert_int_eq(small[5], 'x');
    ck_assert_int_eq(dis_decode(b, n, (enum dis_mode)8, &in), DIS_ERR_INVALID);
    ck_assert_str_eq(dis_mnem_name(DIS_invalid), "(bad)");
    ck_assert_str_eq(dis_mnem_name(100000), "(bad)");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dis");
    TCase *t = tcase_create("vectors");
    tcase_add_loop_test(t, test_vectors, 0, sizeof(vecs) / sizeof(vecs[0]));
    suite_add_tcase(s, t);
    t = tcase_create("structure");
    tcase_add_test(t, test_operands);
    tcase_add_test(t, test_sizes);
    tcase_add_test(t, test_attributes);
    tcase_add_test(t, test_sens_kinds);
    tcase_add_test(t, test_sens_superset);
    tcase_add_test(t, test_avail_and_format);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
