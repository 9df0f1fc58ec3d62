/*
 * absent.c - a profile advertises exactly what works, and what it does not
 * advertise behaves as on a CPU without it (64-bit): the encodings of
 * features absent from the CPUID policy - XSAVE (XGETBV/XSETBV), VMX and SVM
 * (VMCALL/VMMCALL among them: there is no hypercall interface), INVPCID,
 * MONITOR/MWAIT, PKU, RDRAND/RDSEED, FSGSBASE, SGX, TSX, SSE3 and later,
 * POPCNT, MOVBE, VEX - raise #UD at CPL0, and the privileged ones raise #UD
 * rather than #GP at CPL3 (the CPU does not know them, so it cannot ask for
 * CPL0 first). CR4.OSXSAVE cannot be set: #GP(0). The CPUID bits say so.
 * Before this payload, rem stopped the VM at XGETBV ("not implemented").
 */
#include "guest.h"

const char guest_name[] = "absent";

/* Each entry: the instruction's bytes, then ret. RAX points at scratch memory
 * for the memory forms. STRICT: #UD on any engine (the CPU checks a control
 * bit the policy keeps clear, or a hardware engine intercepts it). */
#define STRICT(X)                                                                        \
    X(xgetbv, "0x0f,0x01,0xd0") X(xsetbv, "0x0f,0x01,0xd1") X(vmlaunch, "0x0f,0x01,0xc2") \
    X(vmresume, "0x0f,0x01,0xc3") X(vmxoff, "0x0f,0x01,0xc4")                              \
    X(vmxon, "0xf3,0x0f,0xc7,0x30") X(vmptrld, "0x0f,0xc7,0x30") X(vmread, "0x0f,0x78,0xc0") \
    X(invept, "0x66,0x0f,0x38,0x80,0x00") X(vmrun, "0x0f,0x01,0xd8")                       \
    X(vmload, "0x0f,0x01,0xda") X(vmsave, "0x0f,0x01,0xdb") X(stgi, "0x0f,0x01,0xdc")      \
    X(clgi, "0x0f,0x01,0xdd") X(skinit, "0x0f,0x01,0xde") X(invlpga, "0x0f,0x01,0xdf")     \
    X(monitor, "0x0f,0x01,0xc8") X(mwait, "0x0f,0x01,0xc9")                                \
    X(invpcid, "0x66,0x0f,0x38,0x82,0x00") X(rdpkru, "0x0f,0x01,0xee")                     \
    X(wrpkru, "0x0f,0x01,0xef") X(rdfsbase, "0xf3,0x48,0x0f,0xae,0xc0")                    \
    X(wrgsbase, "0xf3,0x48,0x0f,0xae,0xd8") X(xsave, "0x0f,0xae,0x20")                     \
    X(xrstor, "0x0f,0xae,0x28") X(xsaves, "0x0f,0xc7,0x28") X(encls, "0x0f,0x01,0xcf")     \
    X(enclu, "0x0f,0x01,0xd7") X(getsec, "0x0f,0x37") X(rsm, "0x0f,0xaa")                  \
    X(xend, "0x0f,0x01,0xd5") X(xtest, "0x0f,0x01,0xd6") X(vmfunc, "0x0f,0x01,0xd4")       \
    X(andn, "0xc4,0xe2,0x78,0xf2,0xc0") X(vzeroupper, "0xc5,0xf8,0x77")
/* SILICON: instruction-set extensions a hardware engine cannot hide (no
 * intercept exists: the host's silicon runs them whatever CPUID says), and
 * VMCALL/VMMCALL, which KVM answers itself. rem, which is the policy's CPU,
 * raises #UD (tests/unit/rem checks that strictly); elsewhere completing is
 * noted, not failed. */
#define SILICON(X)                                                                       \
    X(vmcall, "0x0f,0x01,0xc1") X(vmmcall, "0x0f,0x01,0xd9") X(rdrand, "0x0f,0xc7,0xf0")  \
    X(rdseed, "0x0f,0xc7,0xf8") X(serialize, "0x0f,0x01,0xe8")                             \
    X(popcnt, "0xf3,0x0f,0xb8,0xc0") X(movbe, "0x0f,0x38,0xf0,0x00")                       \
    X(crc32, "0xf2,0x0f,0x38,0xf0,0xc0") X(pshufb, "0x66,0x0f,0x38,0x00,0xc0")             \
    X(addsubpd, "0x66,0x0f,0xd0,0xc0") X(ptest, "0x66,0x0f,0x38,0x17,0xc0")                \
    X(clflushopt, "0x66,0x0f,0xae,0x38") X(clwb, "0x66,0x0f,0xae,0x30")

#define DEFINE(name, bytes)                                                              \
    __asm__(".pushsection .text\n.globl a_" #name "\na_" #name ": .byte " bytes "\n"    \
            "  ret\n.popsection");                                                       \
    extern const char a_##name[];
STRICT(DEFINE)
SILICON(DEFINE)

struct enc {
    const char *name;
    const char *ip;
};
#define ENTRY(name, bytes) {#name, a_##name},
static const struct enc strict[] = {STRICT(ENTRY)};
static const struct enc silicon[] = {SILICON(ENTRY)};

/* CPL3: the privileged ones, each followed by ud2 (which brings control
 * back when the instruction did not fault). */
__asm__(".pushsection .user, \"ax\"\n"
        "u_xsetbv: .byte 0x0f,0x01,0xd1\n ud2\n"
        "u_monitor: .byte 0x0f,0x01,0xc8\n ud2\n"
        "u_mwait: .byte 0x0f,0x01,0xc9\n ud2\n"
        "u_vmrun: .byte 0x0f,0x01,0xd8\n ud2\n"
        "u_stgi: .byte 0x0f,0x01,0xdc\n ud2\n"
        "u_vmxon: .byte 0xf3,0x0f,0xc7,0x30\n ud2\n"
        "u_invpcid: .byte 0x66,0x0f,0x38,0x82,0x00\n ud2\n"
        "u_invept: .byte 0x66,0x0f,0x38,0x80,0x00\n ud2\n"
        "u_getsec: .byte 0x0f,0x37\n ud2\n"
        "u_rsm: .byte 0x0f,0xaa\n ud2\n"
        "u_xsaves: .byte 0x0f,0xc7,0x28\n ud2\n"
        "u_encls: .byte 0x0f,0x01,0xcf\n ud2\n"
        "u_wrmsr: wrmsr\n ud2\n"
        ".balign 16\n"
        "u_stack: .fill 1024, 1, 0\n"
        "u_stack_top:\n"
        ".popsection");
extern const char u_xsetbv[], u_monitor[], u_mwait[], u_vmrun[], u_stgi[], u_vmxon[],
    u_invpcid[], u_invept[], u_getsec[], u_rsm[], u_xsaves[], u_encls[], u_wrmsr[],
    u_stack_top[];

static uint8_t scratch[4096] __attribute__((aligned(64)));

static void exec_at(void *ip)
{
    __asm__ volatile("mov %0, %%rax; call *%1"
                     :
                     : "r"(scratch), "r"(ip)
                     : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
}

static void set_cr4(void *val)
{
    write_cr4((ureg)val);
}

/* 1: #UD, 0: completed (allowed when `may_complete`). */
static int expect_ud(const char *name, const char *ip, int may_complete)
{
    struct trap_info ti;
    int v = trap_run(exec_at, (void *)ip, &ti);
    if (v == -1 && may_complete)
        return 0;
    if (v != 6 || ti.ip != (ureg)ip)
        guest_fail("%s at CPL0: %s (vector %d) at 0x%lx; expected #UD at 0x%lx", name,
                   v >= 0 ? trap_name((unsigned)v) : "completed", v, (unsigned long)ti.ip,
                   (unsigned long)(ureg)ip);
    return 1;
}

static void expect_user(const char *name, const char *ip, int vector)
{
    struct trap_info ti;
    int v = user_run((ureg)ip, (ureg)u_stack_top, &ti);
    if (v != vector || ti.ip != (ureg)ip || ti.cpl != 3)
        guest_fail("%s at CPL3: %s (vector %d) at 0x%lx cpl %u; expected vector %d at 0x%lx",
                   name, trap_name((unsigned)v), v, (unsigned long)ti.ip, ti.cpl, vector,
                   (unsigned long)(ureg)ip);
}

void guest_main(void)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    CHECK_EQ(r[2] & (1u << 26), 0); /* XSAVE */
    CHECK_EQ(r[2] & (1u << 27), 0); /* OSXSAVE */
    CHECK_EQ(r[2] & (1u << 5), 0);  /* VMX */
    CHECK_EQ(r[2] & (1u << 3), 0);  /* MONITOR */
    CHECK_EQ(r[2] & (1u << 30), 0); /* RDRAND */
    cpuid(7, 0, r);
    CHECK_EQ(r[1] & (1u << 10), 0); /* INVPCID */
    CHECK_EQ(r[1] & (1u << 0), 0);  /* FSGSBASE */
    CHECK_EQ(r[2] & (1u << 3), 0);  /* PKU */
    cpuid(0x80000001u, 0, r);
    CHECK_EQ(r[2] & (1u << 2), 0);  /* SVM */
    gprintf("ok CPUID: no XSAVE, VMX, SVM, MONITOR, RDRAND, INVPCID, FSGSBASE, PKU\n");

    for (unsigned i = 0; i < sizeof(strict) / sizeof(strict[0]); i++)
        expect_ud(strict[i].name, strict[i].ip, 0);
    gprintf("ok %u absent encodings raise #UD at CPL0 (XGETBV, XSETBV, INVPCID, VMX, SVM, ...)\n",
            (unsigned)(sizeof(strict) / sizeof(strict[0])));
    unsigned ran = 0;
    for (unsigned i = 0; i < sizeof(silicon) / sizeof(silicon[0]); i++)
        if (!expect_ud(silicon[i].name, silicon[i].ip, 1)) {
            gprintf("note: %s completed (the silicon or the hypervisor ran it)\n", silicon[i].name);
            ran++;
        }
    gprintf("ok %u of %u unhideable extensions and VMCALL/VMMCALL raise #UD\n",
            (unsigned)(sizeof(silicon) / sizeof(silicon[0])) - ran,
            (unsigned)(sizeof(silicon) / sizeof(silicon[0])));

    struct trap_info ti;
    ureg cr4 = read_cr4();
    int v = trap_run(set_cr4, (void *)(cr4 | (1ul << 18)), &ti); /* OSXSAVE */
    if (v != 13 || ti.error != 0)
        guest_fail("mov cr4 with OSXSAVE: vector %d error 0x%lx; expected #GP(0)", v,
                   (unsigned long)ti.error);
    CHECK_EQ(read_cr4(), cr4);
    v = trap_run(set_cr4, (void *)(cr4 | (1ul << 17)), &ti); /* PCIDE */
    CHECK_EQ(v, 13);
    v = trap_run(set_cr4, (void *)(cr4 | (1ul << 16)), &ti); /* FSGSBASE */
    CHECK_EQ(v, 13);
    v = trap_run(set_cr4, (void *)(cr4 | (1ul << 22)), &ti); /* PKE */
    CHECK_EQ(v, 13);
    gprintf("ok CR4.OSXSAVE, PCIDE, FSGSBASE, PKE cannot be set: #GP(0)\n");

    /* User access to the .user page (2 MiB at 4 MiB). */
    volatile uint64_t *pml4 = pg4_root();
    volatile uint64_t *pdpt = (volatile uint64_t *)(ureg)(pml4[0] & 0xffffffffff000ull);
    volatile uint64_t *pd = (volatile uint64_t *)(ureg)(pdpt[0] & 0xffffffffff000ull);
    CHECK_EQ((ureg)u_xsetbv >> 21, 2);
    pd[2] |= PTE_U;
    write_cr3(read_cr3());
    expect_user("xsetbv", u_xsetbv, 6);
    expect_user("monitor", u_monitor, 6);
    expect_user("mwait", u_mwait, 6);
    expect_user("vmrun", u_vmrun, 6);
    expect_user("stgi", u_stgi, 6);
    expect_user("vmxon", u_vmxon, 6);
    expect_user("invpcid", u_invpcid, 6);
    expect_user("invept", u_invept, 6);
    expect_user("getsec", u_getsec, 6);
    expect_user("rsm", u_rsm, 6);
    expect_user("xsaves", u_xsaves, 6);
    expect_user("encls", u_encls, 6);
    expect_user("wrmsr", u_wrmsr, 13); /* a known privileged one: #GP(0) */
    gprintf("ok absent privileged encodings raise #UD at CPL3, not #GP\n");
}
