#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
/*
 * test_fpu_diff.c - differential test of the x87, MMX and SSE/SSE2 forms
 * against the host CPU, in the style of test_alu_diff.c. A snippet loads
 * the whole x87/SSE state with FXRSTOR64 from a state block, runs one
 * instruction form over ST(i)/MMi/XMM0-3, RAX, RDI and a 128-byte memory
 * block, and saves everything back with FXSAVE64; it runs natively (with the
 * host's own FPU state saved around it) and in rem from the same block.
 * Compared: FCW, FSW, abridged tags, MXCSR and MXCSR_MASK, ST0-7 (80
 * bits), XMM0-15, RAX, RDI, the arithmetic flags and the memory block (FIP,
 * FDP, FOP and the selector slots of stored environments excluded: they
 * hold host addresses natively). Inputs are random per form: x87 stacks of
 * random depth and TOP (empty and full stacks included), values from pools
 * of zeros, infinities, QNaNs, SNaNs, denormals, extremes and random bits;
 * random rounding/precision control, FTZ/DAZ and sticky flags, all
 * exceptions masked (unmasked paths are directed tests, test_fpu.c).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "rem_test.h"

#define MEM_OFF 576
#define MEM_LEN 128
#define SNIPPET_MAX 512 /* bytes of one assembled form (below the hlt at 0x100ff0) */

struct fstate {
    uint8_t fx[512];
    uint64_t rax, rflags, rdi, pad[5];
    uint8_t mem[MEM_LEN];
} __attribute__((aligned(64)));

/* Value kinds for XMM lanes and the memory block. */
enum { K_PS = 'f', K_PD = 'd', K_INT = 'i', K_X80 = 't', K_CW = 'c', K_MX = 'm' };

struct form {
    const char *text;
    char kind;        /* how XMM registers and memory are filled */
    uint64_t cmask;   /* != 0: XMM1/MM1 low quadword &= cmask (shift counts) */
    bool envmask;     /* memory holds an x87 environment: skip FIP/FDP slots */
};

static const struct form forms[] = {
    /* x87 loads and stores */
    {"fld dword [r15+576]", 'f'}, {"fld qword [r15+576]", 'd'}, {"fld tword [r15+576]", 't'},
    {"fld st2", 't'}, {"fld st0", 't'}, {"fst dword [r15+576]", 't'}, {"fstp qword [r15+576]", 't'},
    {"fstp tword [r15+576]", 't'}, {"fst st3", 't'}, {"fstp st1", 't'}, {"fstp st0", 't'},
    {"fild word [r15+576]", 'i'}, {"fild dword [r15+576]", 'i'}, {"fild qword [r15+576]", 'i'},
    {"fist word [r15+576]", 't'}, {"fistp dword [r15+576]", 't'}, {"fistp qword [r15+576]", 't'},
    {"fist dword [r15+576]", 't'}, {"fisttp word [r15+576]", 't'}, {"fisttp dword [r15+576]", 't'},
    {"fisttp qword [r15+576]", 't'}, {"fbld [r15+576]", 'i'}, {"fbstp [r15+576]", 't'},
    {"fld1", 't'}, {"fldz", 't'}, {"fldpi", 't'}, {"fldl2e", 't'}, {"fldl2t", 't'},
    {"fldlg2", 't'}, {"fldln2", 't'},
    /* arithmetic */
    {"fadd st0, st2", 't'}, {"fadd st2, st0", 't'}, {"faddp st1, st0", 't'},
    {"fadd dword [r15+576]", 'f'}, {"fadd qword [r15+576]", 'd'}, {"fiadd word [r15+576]", 'i'},
    {"fiadd dword [r15+576]", 'i'}, {"fsub st0, st1", 't'}, {"fsub st3, st0", 't'},
    {"fsubp st2, st0", 't'}, {"fsubr st0, st1", 't'}, {"fsubr st1, st0", 't'},
    {"fsubrp st1, st0", 't'}, {"fsub qword [r15+576]", 'd'}, {"fsubr dword [r15+576]", 'f'},
    {"fisub dword [r15+576]", 'i'}, {"fisubr word [r15+576]", 'i'}, {"fmul st0, st1", 't'},
    {"fmulp st3, st0", 't'}, {"fmul qword [r15+576]", 'd'}, {"fimul dword [r15+576]", 'i'},
    {"fdiv st0, st1", 't'}, {"fdiv st2, st0", 't'}, {"fdivp st1, st0", 't'},
    {"fdivr st0, st2", 't'}, {"fdivrp st1, st0", 't'}, {"fdiv dword [r15+576]", 'f'},
    {"fdivr qword [r15+576]", 'd'}, {"fidiv word [r15+576]", 'i'}, {"fidivr dword [r15+576]", 'i'},
    {"fchs", 't'}, {"fabs", 't'}, {"fsqrt", 't'}, {"frndint", 't'}, {"fscale", 't'},
    {"fxtract", 't'}, {"fprem", 't'}, {"fprem1", 't'}, {"fsin", 't'}, {"fcos", 't'},
    {"f2xm1", 't'}, {"fyl2x", 't'}, {"fpatan", 't'}, {"fyl2xp1", 't'}, {"fptan", 't'},
    {"fsincos", 't'},
    /* compares */
    {"fcom st1", 't'}, {"fcom dword [r15+576]", 'f'}, {"fcomp qword [r15+576]", 'd'},
    {"fcompp", 't'}, {"fucom st2", 't'}, {"fucomp st1", 't'}, {"fucompp", 't'},
    {"ficom word [r15+576]", 'i'}, {"ficomp dword [r15+576]", 'i'}, {"fcomi st0, st1", 't'},
    {"fcomip st0, st2", 't'}, {"fucomi st0, st1", 't'}, {"fucomip st0, st1", 't'},
    {"ftst", 't'}, {"fxam", 't'},
    /* stack and control */
    {"fxch st1", 't'}, {"fxch st3", 't'}, {"fcmovb st0, st1", 't'}, {"fcmove st0, st2", 't'},
    {"fcmovbe st0, st1", 't'}, {"fcmovu st0, st1", 't'}, {"fcmovnb st0, st1", 't'},
    {"fcmovne st0, st1", 't'}, {"fcmovnbe st0, st1", 't'}, {"fcmovnu st0, st3", 't'},
    {"ffree st1", 't'}, {"ffreep st0", 't'}, {"fincstp", 't'}, {"fdecstp", 't'}, {"fnclex", 't'},
    {"fninit", 't'}, {"fnop", 't'}, {"fwait", 't'}, {"fnstcw [r15+576]", 't'},
    {"fldcw [r15+576]", 'c'}, {"fnstsw ax", 't'}, {"fnstsw [r15+576]", 't'},
    {"fnstenv [r15+576]", 't', 0, true}, {"fnstenv [r15+576]\n fldenv [r15+576]", 't', 0, true},
    {"fnsave [r15+576]", 't', 0, true}, {"fnsave [r15+576]\n fld1\n frstor [r15+576]", 't', 0, true},
    /* SSE moves */
    {"movaps xmm0, xmm1", 'f'}, {"movaps xmm0, [r15+576]", 'f'}, {"movups xmm0, [r15+577]", 'f'},
    {"movaps [r15+592], xmm1", 'f'}, {"movups [r15+581], xmm2", 'f'}, {"movapd xmm3, xmm1", 'd'},
    {"movupd xmm0, [r15+584]", 'd'}, {"movss xmm0, xmm1", 'f'}, {"movss xmm0, [r15+576]", 'f'},
    {"movss [r15+580], xmm1", 'f'}, {"movsd xmm0, xmm1", 'd'}, {"movsd xmm0, [r15+576]", 'd'},
    {"movsd [r15+584], xmm2", 'd'}, {"movhps xmm0, [r15+576]", 'f'}, {"movhps [r15+576], xmm1", 'f'},
    {"movlps xmm0, [r15+576]", 'f'}, {"movlps [r15+576], xmm1", 'f'}, {"movhpd xmm0, [r15+576]", 'd'},
    {"movlpd [r15+576], xmm1", 'd'}, {"movhlps xmm0, xmm1", 'f'}, {"movlhps xmm0, xmm1", 'f'},
    {"movmskps eax, xmm1", 'f'}, {"movmskpd eax, xmm1", 'd'}, {"pmovmskb eax, xmm1", 'i'},
    {"movd xmm0, eax", 'i'}, {"movd eax, xmm1", 'i'}, {"movq xmm0, rax", 'i'}, {"movq rax, xmm1", 'i'},
    {"movq xmm0, xmm1", 'i'}, {"movq xmm0, [r15+576]", 'i'}, {"movq [r15+576], xmm1", 'i'},
    {"movd xmm2, [r15+580]", 'i'}, {"movd [r15+580], xmm2", 'i'},
    {"movdqa xmm0, [r15+576]", 'i'}, {"movdqa [r15+592], xmm3", 'i'}, {"movdqu xmm0, [r15+579]", 'i'},
    {"movdqu [r15+583], xmm1", 'i'}, {"movnti [r15+576], eax", 'i'}, {"movnti [r15+576], rax", 'i'},
    {"movntdq [r15+576], xmm1", 'i'}, {"movntps [r15+576], xmm1", 'f'},
    {"lea rdi, [r15+577]\n maskmovdqu xmm0, xmm1\n mov edi, 7", 'i'},
    /* SSE logic and shuffles */
    {"xorps xmm0, xmm1", 'f'}, {"andps xmm0, xmm1", 'f'}, {"andnps xmm0, xmm1", 'f'},
    {"orps xmm0, [r15+576]", 'f'}, {"xorpd xmm0, xmm1", 'd'}, {"andnpd xmm0, xmm1", 'd'},
    {"unpcklps xmm0, xmm1", 'f'}, {"unpckhps xmm0, xmm1", 'f'}, {"unpcklpd xmm0, xmm1", 'd'},
    {"unpckhpd xmm0, [r15+576]", 'd'}, {"shufps xmm0, xmm1, 0x1b", 'f'},
    {"shufps xmm0, xmm0, 0xe4", 'f'}, {"shufpd xmm0, xmm1, 2", 'd'}, {"shufpd xmm0, xmm1, 1", 'd'},
    /* SSE2 integer */
    {"paddb xmm0, xmm1", 'i'}, {"paddw xmm0, xmm1", 'i'}, {"paddd xmm0, [r15+576]", 'i'},
    {"paddq xmm0, xmm1", 'i'}, {"psubb xmm0, xmm1", 'i'}, {"psubw xmm0, xmm1", 'i'},
    {"psubd xmm0, xmm1", 'i'}, {"psubq xmm0, xmm1", 'i'}, {"paddsb xmm0, xmm1", 'i'},
    {"paddsw xmm0, xmm1", 'i'}, {"paddusb xmm0, xmm1", 'i'}, {"paddusw xmm0, xmm1", 'i'},
    {"psubsb xmm0, xmm1", 'i'}, {"psubsw xmm0, xmm1", 'i'}, {"psubusb xmm0, xmm1", 'i'},
    {"psubusw xmm0, xmm1", 'i'}, {"pcmpeqb xmm0, xmm1", 'i'}, {"pcmpeqw xmm0, xmm1", 'i'},
    {"pcmpeqd xmm0, xmm1", 'i'}, {"pcmpgtb xmm0, xmm1", 'i'}, {"pcmpgtw xmm0, xmm1", 'i'},
    {"pcmpgtd xmm0, xmm1", 'i'}, {"pminub xmm0, xmm1", 'i'}, {"pmaxub xmm0, xmm1", 'i'},
    {"pminsw xmm0, xmm1", 'i'}, {"pmaxsw xmm0, xmm1", 'i'}, {"pavgb xmm0, xmm1", 'i'},
    {"pavgw xmm0, xmm1", 'i'}, {"psadbw xmm0, xmm1", 'i'}, {"pmullw xmm0, xmm1", 'i'},
    {"pmulhw xmm0, xmm1", 'i'}, {"pmulhuw xmm0, xmm1", 'i'}, {"pmuludq xmm0, xmm1", 'i'},
    {"pmaddwd xmm0, xmm1", 'i'}, {"pand xmm0, xmm1", 'i'}, {"pandn xmm0, xmm1", 'i'},
    {"por xmm0, xmm1", 'i'}, {"pxor xmm0, xmm1", 'i'},
    {"psllw xmm0, 3", 'i'}, {"psllw xmm0, 17", 'i'}, {"psrlw xmm0, 9", 'i'}, {"psraw xmm0, 5", 'i'},
    {"psraw xmm0, 40", 'i'}, {"pslld xmm0, 7", 'i'}, {"psrld xmm0, 31", 'i'}, {"psrad xmm0, 3", 'i'},
    {"psllq xmm0, 33", 'i'}, {"psrlq xmm0, 1", 'i'}, {"pslldq xmm0, 5", 'i'},
    {"psrldq xmm0, 9", 'i'}, {"pslldq xmm0, 17", 'i'},
    {"psllw xmm0, xmm1", 'i', 0x1f}, {"psrlw xmm0, xmm1", 'i', 0x1f}, {"psraw xmm0, xmm1", 'i', 0x1f},
    {"pslld xmm0, xmm1", 'i', 0x3f}, {"psrld xmm0, xmm1", 'i', 0x3f}, {"psrad xmm0, xmm1", 'i', 0x3f},
    {"psllq xmm0, xmm1", 'i', 0x7f}, {"psrlq xmm0, xmm1", 'i', 0x7f},
    {"packsswb xmm0, xmm1", 'i'}, {"packssdw xmm0, xmm1", 'i'}, {"packuswb xmm0, xmm1", 'i'},
    {"punpcklbw xmm0, xmm1", 'i'}, {"punpckhbw xmm0, xmm1", 'i'}, {"punpcklwd xmm0, xmm1", 'i'},
    {"punpckhwd xmm0, xmm1", 'i'}, {"punpckldq xmm0, xmm1", 'i'}, {"punpckhdq xmm0, xmm1", 'i'},
    {"punpcklqdq xmm0, xmm1", 'i'}, {"punpckhqdq xmm0, xmm1", 'i'},
    {"pshufd xmm0, xmm1, 0x1b", 'i'}, {"pshuflw xmm0, xmm1, 0x72", 'i'},
    {"pshufhw xmm0, [r15+576], 0xc6", 'i'}, {"pinsrw xmm0, eax, 5", 'i'},
    {"pinsrw xmm0, [r15+578], 2", 'i'}, {"pextrw eax, xmm1, 6", 'i'},
    /* SSE/SSE2 floating point */
    {"addps xmm0, xmm1", 'f'}, {"addss xmm0, xmm1", 'f'}, {"addpd xmm0, xmm1", 'd'},
    {"addsd xmm0, [r15+576]", 'd'}, {"subps xmm0, [r15+576]", 'f'}, {"subss xmm0, xmm1", 'f'},
    {"subpd xmm0, xmm1", 'd'}, {"subsd xmm0, xmm1", 'd'}, {"mulps xmm0, xmm1", 'f'},
    {"mulss xmm0, [r15+580]", 'f'}, {"mulpd xmm0, xmm1", 'd'}, {"mulsd xmm0, xmm1", 'd'},
    {"divps xmm0, xmm1", 'f'}, {"divss xmm0, xmm1", 'f'}, {"divpd xmm0, xmm1", 'd'},
    {"divsd xmm0, xmm1", 'd'}, {"minps xmm0, xmm1", 'f'}, {"minss xmm0, xmm1", 'f'},
    {"minpd xmm0, xmm1", 'd'}, {"minsd xmm0, xmm1", 'd'}, {"maxps xmm0, xmm1", 'f'},
    {"maxss xmm0, xmm1", 'f'}, {"maxpd xmm0, xmm1", 'd'}, {"maxsd xmm0, [r15+576]", 'd'},
    {"sqrtps xmm0, xmm1", 'f'}, {"sqrtss xmm0, xmm1", 'f'}, {"sqrtpd xmm0, xmm1", 'd'},
    {"sqrtsd xmm0, xmm1", 'd'}, {"rcpps xmm0, xmm1", 'f'}, {"rsqrtss xmm0, xmm1", 'f'},
    {"cmpps xmm0, xmm1, 0", 'f'}, {"cmpps xmm0, xmm1, 1", 'f'}, {"cmpps xmm0, xmm1, 3", 'f'},
    {"cmpps xmm0, xmm1, 6", 'f'}, {"cmpss xmm0, xmm1, 2", 'f'}, {"cmpss xmm0, xmm1, 5", 'f'},
    {"cmppd xmm0, xmm1, 4", 'd'}, {"cmppd xmm0, [r15+576], 7", 'd'}, {"cmpsd xmm0, xmm1, 1", 'd'},
    {"cmpsd xmm0, xmm1, 3", 'd'}, {"comiss xmm0, xmm1", 'f'}, {"ucomiss xmm0, xmm1", 'f'},
    {"comisd xmm0, xmm1", 'd'}, {"ucomisd xmm0, [r15+576]", 'd'},
    {"cvtsi2ss xmm0, eax", 'i'}, {"cvtsi2ss xmm0, rax", 'i'}, {"cvtsi2sd xmm0, eax", 'i'},
    {"cvtsi2sd xmm0, rax", 'i'}, {"cvtsi2sd xmm0, dword [r15+576]", 'i'},
    {"cvtss2si eax, xmm1", 'f'}, {"cvtss2si rax, xmm1", 'f'}, {"cvttss2si eax, xmm1", 'f'},
    {"cvttss2si rax, [r15+576]", 'f'}, {"cvtsd2si eax, xmm1", 'd'}, {"cvtsd2si rax, xmm1", 'd'},
    {"cvttsd2si eax, xmm1", 'd'}, {"cvttsd2si rax, xmm1", 'd'}, {"cvtss2sd xmm0, xmm1", 'f'},
    {"cvtsd2ss xmm0, xmm1", 'd'}, {"cvtdq2ps xmm0, xmm1", 'i'}, {"cvtps2dq xmm0, xmm1", 'f'},
    {"cvttps2dq xmm0, xmm1", 'f'}, {"cvtpd2ps xmm0, xmm1", 'd'}, {"cvtps2pd xmm0, xmm1", 'f'},
    {"cvtps2pd xmm0, [r15+576]", 'f'}, {"cvtdq2pd xmm0, xmm1", 'i'}, {"cvtpd2dq xmm0, xmm1", 'd'},
    {"cvttpd2dq xmm0, xmm1", 'd'}, {"ldmxcsr [r15+576]", 'm'}, {"stmxcsr [r15+576]", 'f'},
    /* MMX and the SSE forms on MMX registers */
    {"paddb mm0, mm1", 'i'}, {"paddsw mm0, mm1", 'i'}, {"psubusb mm2, mm1", 'i'},
    {"pxor mm0, mm1", 'i'}, {"pandn mm0, [r15+576]", 'i'}, {"movq mm0, [r15+576]", 'i'},
    {"movq [r15+576], mm1", 'i'}, {"movq mm0, mm1", 'i'}, {"movd mm0, eax", 'i'},
    {"movd eax, mm1", 'i'}, {"movq rax, mm1", 'i'}, {"pmaddwd mm0, mm1", 'i'},
    {"pmulhw mm0, mm1", 'i'}, {"psllq mm0, 3", 'i'}, {"psrad mm0, mm1", 'i', 0x3f},
    {"punpcklbw mm0, mm1", 'i'}, {"punpckhdq mm0, mm1", 'i'}, {"packsswb mm0, mm1", 'i'},
    {"packuswb mm0, mm1", 'i'}, {"pcmpgtw mm0, mm1", 'i'}, {"pshufw mm0, mm1, 0x1b", 'i'},
    {"pmovmskb eax, mm1", 'i'}, {"pinsrw mm0, eax, 2", 'i'}, {"pextrw eax, mm1, 3", 'i'},
    {"pavgb mm0, mm1", 'i'}, {"psadbw mm0, mm1", 'i'}, {"pminub mm0, mm1", 'i'},
    {"paddq mm0, mm1", 'i'}, {"pmuludq mm0, mm1", 'i'}, {"emms", 'i'}, {"movntq [r15+576], mm1", 'i'},
    {"lea rdi, [r15+579]\n maskmovq mm0, mm1\n mov edi, 7", 'i'},
    {"cvtpi2ps xmm0, mm1", 'i'}, {"cvtpi2pd xmm0, mm1", 'i'}, {"cvtps2pi mm0, xmm1", 'f'},
    {"cvttps2pi mm0, xmm1", 'f'}, {"cvtpd2pi mm0, xmm1", 'd'}, {"cvttpd2pi mm0, xmm1", 'd'},
    {"movq2dq xmm0, mm1", 'i'}, {"movdq2q mm0, xmm1", 'i'},
};

static const char *tramp =
    "bits 64\n"
    " push rbx\n push r15\n mov r15, rdi\n"
    " fxrstor64 [r15]\n mov rax, [r15+512]\n mov rdi, [r15+528]\n push qword [r15+520]\n popfq\n"
    " %s\n"
    " pushfq\n pop qword [r15+520]\n mov [r15+512], rax\n mov [r15+528], rdi\n fxsave64 [r15]\n"
    " pop r15\n pop rbx\n ret\n";

static uint64_t rnd(void)
{
    static uint64_t x = 0x2545f4914f6cdd1dull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
}

static uint32_t rnd_f32(void)
{
    static const uint32_t special[] = { 0, 0x80000000u, 0x3f800000u, 0xbf800000u, 0x7f800000u,
                                        0xff800000u, 0x7fc00000u, 0xffc00000u, 0x7f800001u,
                                        0x7fa00000u, 0x00000001u, 0x807fffffu, 0x7f7fffffu,
                                        0x00800000u, 0x3fc00000u, 0x4f000000u, 0xcf000000u,
                                        0x5f000000u, 0x3effffffu };
    uint64_t r = rnd();
    switch (r & 3) {
    case 0: return special[(r >> 8) % (sizeof(special) / 4)];
    case 1: { /* moderate magnitude */
        uint32_t e = 110 + (uint32_t)((r >> 8) % 40);
        return (uint32_t)((r >> 40) & 0x807fffffu) | (e << 23);
    }
    default: return (uint32_t)(r >> 16);
    }
}

static uint64_t rnd_f64(void)
{
    static const uint64_t special[] = {
        0, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull,
        0x7ff0000000000000ull, 0xfff0000000000000ull, 0x7ff8000000000000ull,
        0x7ff0000000000001ull, 0x0000000000000001ull, 0x800fffffffffffffull,
        0x7fefffffffffffffull, 0x0010000000000000ull, 0x43e0000000000000ull,
        0xc3e0000000000000ull, 0x41e0000000000000ull, 0x3fe0000000000000ull,
        0x4330000000000001ull, 0x47efffffe0000000ull, 0x3690000000000000ull };
    uint64_t r = rnd();
    switch (r & 3) {
    case 0: return special[(r >> 8) % (sizeof(special) / 8)];
    case 1: {
        uint64_t e = 1000 + (r >> 8) % 48;
        return (rnd() & 0x800fffffffffffffull) | (e << 52);
    }
    default: return rnd();
    }
}

static uint64_t rnd_int(void)
{
    static const uint64_t special[] = { 0, 1, ~0ull, 0x7f, 0x80, 0x7fff, 0x8000, 0xffff,
                                        0x7fffffff, 0x80000000u, 0x8000000000000000ull,
                                        0x7fffffffffffffffull };
    uint64_t r = rnd();
    if ((r & 3) == 0)
        return special[(r >> 8) % (sizeof(special) / 8)];
    if ((r & 3) == 1)
        return (r >> 8) & 0x00ff00ff00ff00ffull;
    return rnd();
}

/* An 80-bit value: a converted double, a special, or random bits. */
static void rnd_x80(uint8_t *b)
{
    uint64_t r = rnd();
    uint64_t mant;
    uint16_t se;
    switch (r & 7) {
    case 0: case 1: case 2: {
        double d;
        uint64_t bits = rnd_f64();
        memcpy(&d, &bits, 8);
        long double x = d;
        memcpy(b, &x, 10);
        return;
    }
    case 3: /* integers and small values */
        mant = (rnd() >> (r >> 58)) | 0x8000000000000000ull;
        se = (uint16_t)(0x3fff + ((r >> 8) % 70) - 5);
        break;
    case 4: { /* specials */
        static const uint16_t ex[] = { 0, 0x7fff, 0xffff, 0x8000, 1, 0x7ffe, 0x3fff };
        se = ex[(r >> 8) % 7];
        mant = (r >> 12) & 1 ? 0x8000000000000000ull : 0xc000000000000000ull;
        if ((r >> 13) & 1)
            mant |= rnd() >> 2;
        if (!(se & 0x7fff) && ((r >> 14) & 1))
            mant = rnd() >> 1; /* denormal */
        if (!(se & 0x7fff) && ((r >> 15) & 3) == 0)
            mant = 0;
        break;
    }
    default:
        mant = rnd() | 0x8000000000000000ull;
        se = (uint16_t)(((r >> 8) & 0x8000) | (0x3fff + (int)((r >> 16) % 200) - 100));
        break;
    }
    memcpy(b, &mant, 8);
    b[8] = (uint8_t)se;
    b[9] = (uint8_t)(se >> 8);
}

static void fill16(uint8_t *p, char kind)
{
    for (unsigned i = 0; i < 16; i += 8) {
        uint64_t q;
        if (kind == K_PS) {
            q = rnd_f32() | (uint64_t)rnd_f32() << 32;
        } else if (kind == K_PD) {
            q = rnd_f64();
        } else {
            q = rnd_int();
        }
        memcpy(p + i, &q, 8);
    }
}

static void make_input(struct fstate *s, const struct form *f)
{
    memset(s, 0, sizeof(*s));
    uint8_t *fx = s->fx;
    uint16_t fcw = (uint16_t)(0x37f | ((rnd() & 3) << 10) | ((rnd() & 1) ? 0 : 0x100));
    if ((rnd() & 3) == 0)
        fcw = 0x37f;
    unsigned top = (unsigned)(rnd() & 7), depth = (unsigned)(rnd() % 10);
    if (depth == 9)
        depth = 8;
    uint16_t fsw = (uint16_t)((top << 11) | (rnd() & 0x4700) | (rnd() & 0x3f & -(rnd() & 1)));
    uint8_t ftw = 0;
    for (unsigned i = 0; i < depth; i++)
        ftw |= (uint8_t)(1u << ((top + i) & 7));
    if ((rnd() & 7) == 0)
        ftw = (uint8_t)rnd();
    memcpy(fx, &fcw, 2);
    memcpy(fx + 2, &fsw, 2);
    fx[4] = ftw;
    uint32_t mxcsr = 0x1f80 | (uint32_t)(rnd() & 0x6000) | ((rnd() & 3) == 0 ? 0x8040 : 0) |
                     (uint32_t)(rnd() & 0x3f & -(rnd() & 1));
    memcpy(fx + 24, &mxcsr, 4);
    uint32_t mask = 0xffff;
    memcpy(fx + 28, &mask, 4);
    for (unsigned i = 0; i < 8; i++) {
        if (f->kind == K_INT && (rnd() & 1)) {
            uint64_t q = rnd_int();
            memcpy(fx + 32 + 16 * i, &q, 8);
            fx[32 + 16 * i + 8] = fx[32 + 16 * i + 9] = 0xff;
        } else {
            rnd_x80(fx + 32 + 16 * i);
        }
    }
    for (unsigned i = 0; i < 16; i++)
        fill16(fx + 160 + 16 * i, f->kind == K_X80 || f->kind == K_CW || f->kind == K_MX ? K_INT
                                                                                          : f->kind);
    if (f->cmask) {
        uint64_t c;
        memcpy(&c, fx + 160 + 16, 8);
        c &= f->cmask;
        memcpy(fx + 160 + 16, &c, 8);
        memcpy(fx + 32 + 16, &c, 8);
    }
    s->rax = rnd_int();
    s->rflags = 2 | (rnd() & 0x8d5);
    s->rdi = rnd();
    for (unsigned i = 0; i < MEM_LEN; i += 16)
        fill16(s->mem + i, f->kind == K_X80 ? K_INT : f->kind);
    if (f->kind == K_X80 || (rnd() & 3) == 0)
        rnd_x80(s->mem);
    if (f->kind == K_CW) {
        uint16_t cw = (uint16_t)(rnd() | 0x3f);
        memcpy(s->mem, &cw, 2);
    }
    if (f->kind == K_MX) {
        uint32_t m = (uint32_t)(rnd() & 0xffff) | 0x1f80;
        memcpy(s->mem, &m, 4);
    }
}

/* Host FPU state is saved around the native snippet (it loads its own). */
static void run_native(void *code, struct fstate *s)
{
    static uint8_t host[512] __attribute__((aligned(16)));
    __asm__ volatile("fxsave64 %0" : "=m"(host));
    ((void (*)(struct fstate *))code)(s);
    __asm__ volatile("fxrstor64 %0" : : "m"(host));
}

static bool same(const struct fstate *a, const struct fstate *b, const struct form *f)
{
    if (memcmp(a->fx, b->fx, 6) || memcmp(a->fx + 24, b->fx + 24, 8))
        return false;
    for (unsigned i = 0; i < 8; i++)
        if (memcmp(a->fx + 32 + 16 * i, b->fx + 32 + 16 * i, 10))
            return false;
    if (memcmp(a->fx + 160, b->fx + 160, 256))
        return false;
    if (a->rax != b->rax || a->rdi != b->rdi || ((a->rflags ^ b->rflags) & 0x8d5))
        return false;
    if (f->envmask)
        return !memcmp(a->mem, b->mem, 12) && !memcmp(a->mem + 28, b->mem + 28, MEM_LEN - 28);
    return !memcmp(a->mem, b->mem, MEM_LEN);
}

static void dump(const char *who, const struct fstate *s)
{
    uint16_t fcw, fsw;
    uint32_t mx;
    memcpy(&fcw, s->fx, 2);
    memcpy(&fsw, s->fx + 2, 2);
    memcpy(&mx, s->fx + 24, 4);
    fprintf(stderr, "  %s fcw=%04x fsw=%04x ftw=%02x mxcsr=%08x rax=%llx rdi=%llx fl=%llx\n   st:", who,
            fcw, fsw, s->fx[4], mx, (unsigned long long)s->rax, (unsigned long long)s->rdi,
            (unsigned long long)s->rflags);
    for (unsigned i = 0; i < 8; i++) {
        fprintf(stderr, " ");
        for (int j = 9; j >= 0; j--)
            fprintf(stderr, "%02x", s->fx[32 + 16 * i + j]);
    }
    fprintf(stderr, "\n   xmm0-3:");
    for (unsigned i = 0; i < 4; i++) {
        fprintf(stderr, " ");
        for (int j = 15; j >= 0; j--)
            fprintf(stderr, "%02x", s->fx[160 + 16 * i + j]);
    }
    fprintf(stderr, "\n   mem:");
    for (unsigned j = 0; j < 32; j++)
        fprintf(stderr, "%02x", s->mem[j]);
    fprintf(stderr, "\n");
}

START_TEST(fpu_sse_vs_host)
{
    uint8_t *native = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(native, MAP_FAILED);
    unsigned runs = 0, mismatches = 0, nforms = sizeof(forms) / sizeof(forms[0]);
    const char *env = getenv("REM_FPU_DIFF_RUNS");
    unsigned per = env ? (unsigned)atoi(env) : 150;
    static struct fstate in, hw, em;
    const char *texts[sizeof(forms) / sizeof(forms[0])];
    for (unsigned i = 0; i < nforms; i++)
        texts[i] = forms[i].text;
    uint8_t *code = rt_asm_batch(tramp, texts, nforms, SNIPPET_MAX);
    for (unsigned i = 0; i < nforms; i++) {
        const struct form *f = &forms[i];
        const char *only = getenv("REM_FPU_DIFF_ONLY");
        if (only && !strstr(f->text, only))
            continue;
        memcpy(native, code + i * SNIPPET_MAX, SNIPPET_MAX);
        ck_assert_int_eq(pgm_phys_write(M.pgm, 0x100000, native, SNIPPET_MAX), CAP_OK);
        unsigned bad = 0;
        for (unsigned k = 0; k < per; k++) {
            make_input(&in, f);
            hw = in;
            em = in;
            run_native(native, &hw);

            rt_long64(0x100000);
            ck_assert_int_eq(pgm_phys_write(M.pgm, 0x200000, &em, sizeof(em)), CAP_OK);
            rt_wr64(0x100ff0, 0xf4); /* hlt */
            CTX->gpr[CPUM_RSP] = 0x80000 - 8;
            rt_wr64(0x80000 - 8, 0x100ff0);
            CTX->gpr[CPUM_RDI] = 0x200000;
            enum vmm_exit_reason why = rt_run();
            if (why != VMM_EXIT_HLT || CTX->rip != 0x100ff1) {
                if (mismatches++ < 16)
                    fprintf(stderr, "FAIL %s: exit %d rip %llx\n", f->text, why,
                            (unsigned long long)CTX->rip);
                break;
            }
            pgm_phys_read(M.pgm, 0x200000, &em, sizeof(em));
            runs++;
            if (!same(&hw, &em, f)) {
                mismatches++;
                if (bad++ == 0 && getenv("REM_FPU_DIFF_VERBOSE")) {
                    fprintf(stderr, "MISMATCH %s\n", f->text);
                    dump("in ", &in);
                    dump("hw ", &hw);
                    dump("rem", &em);
                }
            }
        }
        if (bad)
            fprintf(stderr, "MISMATCH %-40s %u of %u runs\n", f->text, bad, per);
    }
    unsigned envs = 0;
    for (unsigned i = 0; i < nforms; i++)
        envs += forms[i].envmask;
    fprintf(stderr, "rem fpu/sse differential: %u runs of %u instruction forms, %u mismatches "
            "(profile %s, MXCSR_MASK %#x compared; not compared: FOP/FIP/FDP in every run and "
            "the pointer slots of the environments %u forms store - natively they hold the "
            "host's code and data addresses)\n",
            runs, nforms, mismatches, M.policy.profile, M.policy.mxcsr_mask, envs);
    free(code);
    munmap(native, 4096);
    ck_assert_uint_eq(mismatches, 0);
}
END_TEST

TCase *tcase_fpu_diff(void)
{
    TCase *tc = tcase_create("fpu_diff");
    tcase_add_checked_fixture(tc, rt_setup_host, rt_teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, fpu_sse_vs_host);
    return tc;
}
