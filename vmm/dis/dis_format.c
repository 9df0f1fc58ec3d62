/*
 * dis_format.c - the Intel-syntax printer, in objdump -M intel's dialect:
 * `mov eax,DWORD PTR [rbx+rcx*4+0x10]`, `rep movs BYTE PTR es:[rdi],BYTE
 * PTR ds:[rsi]`, relative targets as absolute addresses, RIP-relative
 * operands with a `# target` comment, size-dependent names (cwde, iretq,
 * jrcxz...) and the cmpps/pclmulqdq pseudo-op names.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dis/dis_internal.h"

struct out {
    char *buf;
    size_t size, len;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    char tmp[128];
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(tmp))
        n = sizeof(tmp) - 1;
    for (int i = 0; i < n; i++, o->len++)
        if (o->size && o->len < o->size - 1)
            o->buf[o->len] = tmp[i];
}

static const char *const gpr64[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                      "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};
static const char *const gpr32[16] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
                                      "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"};
static const char *const gpr16[16] = {"ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
                                      "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"};
static const char *const gpr8[16] = {"al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
                                     "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"};
static const char *const gpr8h[4] = {"ah", "ch", "dh", "bh"};
static const char *const segs[6] = {"es", "cs", "ss", "ds", "fs", "gs"};

static const char *gpr_name(unsigned n, unsigned size)
{
    n &= 15;
    switch (size) {
    case 1: return gpr8[n];
    case 2: return gpr16[n];
    case 8: return gpr64[n];
    default: return gpr32[n];
    }
}

static void reg(struct out *o, const struct dis_op *op)
{
    switch (op->reg_class) {
    case DIS_RC_GPR: put(o, "%s", gpr_name(op->reg, op->size)); break;
    case DIS_RC_GPR8H: put(o, "%s", gpr8h[op->reg & 3]); break;
    case DIS_RC_SEG: put(o, "%s", op->reg < 6 ? segs[op->reg] : "?"); break;
    case DIS_RC_CR: put(o, "cr%u", op->reg); break;
    case DIS_RC_DR: put(o, "db%u", op->reg); break;
    case DIS_RC_MM: put(o, "mm%u", op->reg & 7); break;
    case DIS_RC_XMM: put(o, "xmm%u", op->reg); break;
    case DIS_RC_YMM: put(o, "ymm%u", op->reg); break;
    case DIS_RC_ST: if (op->reg) put(o, "st(%u)", op->reg); else put(o, "st"); break;
    }
}

static const char *ptr_name(unsigned size)
{
    switch (size) {
    case 1: return "BYTE PTR ";
    case 2: return "WORD PTR ";
    case 4: return "DWORD PTR ";
    case 6: return "FWORD PTR ";
    case 8: return "QWORD PTR ";
    case 10: return "TBYTE PTR ";
    case 16: return "XMMWORD PTR ";
    case 32: return "YMMWORD PTR ";
    default: return "";
    }
}

static uint64_t mask(uint64_t v, unsigned bytes)
{
    return bytes >= 8 || bytes == 0 ? v : v & ((1ull << (8 * bytes)) - 1);
}

/* Returns the RIP-relative target through *rip (0 if none). */
static void mem(struct out *o, const struct dis_insn *in, const struct dis_op *op, uint64_t ip,
                uint64_t *rip, int *has_rip)
{
    int str = (in->attr & DIS_A_STRING) || in->mnem == DIS_xlat;
    int moffs = in->map == 0 && in->opcode >= 0xa0 && in->opcode <= 0xa3;
    uint8_t mod = in->modrm >> 6;
    int base = op->mem.base != DIS_REG_NONE, index = op->mem.index != DIS_REG_NONE;
    unsigned as = op->mem.addr_size;

    if (!moffs)
        put(o, "%s", ptr_name(op->size));
    if (in->seg_override != DIS_SEG_NONE || str || moffs || (!base && !index)) {
        /* The segment written is the prefix's (as objdump prints it), even
         * where 64-bit mode ignores it (mem.seg is the one in effect) -
         * except for a string instruction's fixed ES:[rDI]. */
        unsigned sg = op->mem.seg;
        if (in->seg_override != DIS_SEG_NONE && !(str && sg == DIS_SEG_ES && op->mem.base == 7))
            sg = in->seg_override;
        put(o, "%s:", segs[sg < 6 ? sg : 3]);
    }
    if (!base && !index) {
        put(o, "0x%llx", (unsigned long long)mask((uint64_t)op->mem.disp, as));
        return;
    }
    put(o, "[");
    if (op->mem.base == DIS_REG_RIP)
        put(o, "%s", as == 8 ? "rip" : "eip");
    else if (base)
        put(o, "%s", gpr_name(op->mem.base, as));
    if (index)
        put(o, as == 2 ? "%s%s" : "%s%s*%u", base ? "+" : "", gpr_name(op->mem.index, as),
            op->mem.scale);
    int has_disp = !str && (!base || op->mem.base == DIS_REG_RIP ||
                            (in->has_modrm && (mod == 1 || mod == 2)));
    if (has_disp) {
        int64_t d = op->mem.disp;
        if (as == 2)
            d = (int16_t)d;
        else if (as == 4)
            d = (int32_t)d;
        if (d < 0)
            put(o, "-0x%llx", (unsigned long long)mask((uint64_t)-d, as));
        else
            put(o, "+0x%llx", (unsigned long long)d);
    }
    put(o, "]");
    if (op->mem.base == DIS_REG_RIP) {
        *has_rip = 1;
        *rip = mask(ip + in->length + (uint64_t)op->mem.disp, as);
    }
}

static const char *const cmp_pred[32] = {
    "eq", "lt", "le", "unord", "neq", "nlt", "nle", "ord", "eq_uq", "nge", "ngt", "false",
    "neq_oq", "ge", "gt", "true", "eq_os", "lt_oq", "le_oq", "unord_s", "neq_us", "nlt_uq",
    "nle_uq", "ord_s", "eq_us", "nge_uq", "ngt_uq", "false_os", "neq_os", "ge_oq", "gt_oq",
    "true_us"};

/* Mnemonic text with size-dependent names; *drop_last set when a pseudo-op
 * name absorbed the immediate. */
static void mnem_text(const struct dis_insn *in, char *t, size_t n, int *drop_last)
{
    unsigned m = in->mnem, os = in->opsize, md = in->mode;
    const char *s = dis_mnem_name(m);
    const char *vp = (in->prefixes & DIS_PFX_VEX) && s[0] != 'v' && s[0] != '(' ? "v" : "";
    const struct dis_op *last = in->nops ? &in->op[in->nops - 1] : NULL;

    *drop_last = 0;
    switch (m) {
    case DIS_cbw: s = os == 2 ? "cbw" : os == 4 ? "cwde" : "cdqe"; break;
    case DIS_cwd: s = os == 2 ? "cwd" : os == 4 ? "cdq" : "cqo"; break;
    case DIS_jcxz: s = in->addrsize == 2 ? "jcxz" : in->addrsize == 4 ? "jecxz" : "jrcxz"; break;
    case DIS_iret:
        s = md == 16 ? (os == 2 ? "iret" : "iretd") : os == 2 ? "iretw" : os == 8 ? "iretq" : "iret";
        break;
    case DIS_pushf: case DIS_popf: case DIS_pusha: case DIS_popa: {
        unsigned dflt = md == 16 ? 2 : md == 32 ? 4 : 8;
        snprintf(t, n, "%s%s", s, os == dflt ? "" : os == 2 ? "w" : os == 4 ? "d" : "q");
        return;
    }
    case DIS_movd: if (in->vex_w || (in->rex & 8)) s = "movq"; break;
    case DIS_pextrd: if (in->vex_w || (in->rex & 8)) s = "pextrq"; break;
    case DIS_pinsrd: if (in->vex_w || (in->rex & 8)) s = "pinsrq"; break;
    case DIS_cmpps: case DIS_cmppd: case DIS_cmpss: case DIS_cmpsd:
        if (last && last->kind == DIS_OP_IMM && last->imm < ((in->prefixes & DIS_PFX_VEX) ? 32u : 8u)) {
            snprintf(t, n, "%scmp%s%s", vp, cmp_pred[last->imm], s + 3);
            *drop_last = 1;
            return;
        }
        break;
    case DIS_pclmulqdq:
        if (last && last->kind == DIS_OP_IMM && (last->imm & ~0x11ull) == 0) {
            snprintf(t, n, "%spclmul%sq%sqdq", vp, (last->imm & 1) ? "hq" : "lq",
                     (last->imm & 0x10) ? "h" : "l");
            *drop_last = 1;
            return;
        }
        break;
    }
    snprintf(t, n, "%s%s", vp, s);
}

int dis_format(const struct dis_insn *in, uint64_t ip, char *buf, size_t size)
{
    struct out o = {buf, size, 0};
    char name[64];
    int drop_last, has_rip = 0;
    uint64_t rip = 0;

    if (size)
        buf[0] = 0;
    if (in->mnem == DIS_invalid || in->mnem >= DIS_MNEM_COUNT) {
        put(&o, "(bad)");
        goto done;
    }
    {
        const char *lk = (in->prefixes & DIS_PFX_LOCK) ? "lock " : "";
        const char *rp = "";
        char m[40];
        if (in->prefixes & (DIS_PFX_REP | DIS_PFX_REPNE)) {
            if ((in->attr & DIS_A_REP) && !(in->attr & DIS_A_REPE))
                rp = "rep ";
            else
                rp = (in->prefixes & DIS_PFX_REPNE) ? "repnz " : "repz ";
        }
        mnem_text(in, m, sizeof(m), &drop_last);
        snprintf(name, sizeof(name), "%s%s%s", lk, rp, m);
    }
    unsigned nops = in->nops - (drop_last ? 1 : 0);
    if (in->attr & DIS_A_LENGTH_ONLY)
        nops = 0;
    if (nops == 0) {
        put(&o, "%s", name);
        goto done;
    }
    put(&o, "%-6s ", name);
    for (unsigned i = 0; i < nops; i++) {
        const struct dis_op *op = &in->op[i];
        if (i)
            put(&o, ",");
        switch (op->kind) {
        case DIS_OP_REG: reg(&o, op); break;
        case DIS_OP_MEM: mem(&o, in, op, ip, &rip, &has_rip); break;
        case DIS_OP_IMM:
            if (op->size == 0) { /* the implicit 1 of D0-D3 shifts */
                put(&o, "1");
                break;
            }
            put(&o, "0x%llx", (unsigned long long)mask(op->imm, op->size)); break;
        case DIS_OP_REL: put(&o, "0x%llx", (unsigned long long)dis_rel_target(in, ip)); break;
        case DIS_OP_FAR: put(&o, "0x%x:0x%llx", op->sel, (unsigned long long)op->imm); break;
        }
    }
    if (has_rip)
        put(&o, "        # 0x%llx", (unsigned long long)rip);
done:
    if (size)
        buf[o.len < size ? o.len : size - 1] = 0;
    return (int)o.len;
}
