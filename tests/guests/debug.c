/*
 * debug.c - debug exceptions (64-bit, SDM Vol. 3B chapter 17):
 *   - an instruction breakpoint (DR0, DR7.L0, R/W 00) faults before the
 *     instruction, DR6.B0; the handler's RF lets it run; it fires again on
 *     the next call, never once DR7 disables it;
 *   - data breakpoints (DR1: R/W 01 writes, 11 reads and writes; LEN 1, 2,
 *     4, 8) trap after the access with DR6.B1, only for overlapping accesses
 *     of the kind asked for;
 *   - single-step: the trap comes after each instruction that began with
 *     TF set (not after the POPF that sets it, after the one that clears
 *     it), DR6.BS;
 *   - MOV SS: the instruction after it is not trapped on its own - one #DB
 *     after the pair;
 *   - DR7.GD: a MOV DR faults (#DB, DR6.BD) and GD is cleared;
 *   - SYSCALL with TF set and SFMASK clearing TF: no #DB in the kernel;
 *     with SFMASK leaving TF, the #DB comes at the kernel's first
 *     instruction.
 * Before this payload rem never raised a breakpoint, single-stepped the
 * instruction after MOV SS and took #DB at the SYSCALL entry. KVM without
 * VT-x/AMD-V does the same with MOV SS and fires no data breakpoints
 * (README.md), so those two come last.
 */
#include "guest.h"

const char guest_name[] = "debug";

#define RF (1ul << 16)
#define TF (1ul << 8)
#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_SFMASK 0xc0000084u
#define EFER_SCE 1u

#define DEFINE_DR(n)                                                         \
    static inline ureg read_dr##n(void)                                      \
    {                                                                        \
        ureg v;                                                              \
        __asm__ volatile("mov %%dr" #n ",%0" : "=r"(v));                    \
        return v;                                                            \
    }                                                                        \
    static inline void write_dr##n(ureg v) { __asm__ volatile("mov %0,%%dr" #n : : "r"(v)); }
DEFINE_DR(0)
DEFINE_DR(1)
DEFINE_DR(6)
DEFINE_DR(7)

/* Test code, with labels at each instruction boundary that matters. */
__asm__(".text\n"
        "bp_target: nop\n nop\n ret\n"
        "wr4: movl $1, watched(%rip)\n wr4_after: ret\n"
        "wr4_hi: movl $1, watched+4(%rip)\n wr4_hi_after: ret\n"
        "rd4: movl watched(%rip), %eax\n rd4_after: ret\n"
        "wr1_odd: movb $1, watched+3(%rip)\n wr1_odd_after: ret\n"
        "ss_seq: pushfq\n orq $0x100, (%rsp)\n popfq\n"
        "ss_1: nop\n ss_2: nop\n ss_3: pushfq\n ss_4: andq $~0x100, (%rsp)\n ss_5: popfq\n"
        "ss_6: ret\n"
        "movss_seq: pushfq\n orq $0x100, (%rsp)\n popfq\n"
        "ms_1: mov %ss, %eax\n ms_2: mov %eax, %ss\n ms_3: nop\n ms_4: pushfq\n"
        "ms_5: andq $~0x100, (%rsp)\n ms_6: popfq\n ms_7: ret\n"
        "sc_entry: ud2\n");
extern const char bp_target[], wr4[], wr4_after[], wr4_hi[], wr4_hi_after[], rd4[], rd4_after[],
    wr1_odd[], wr1_odd_after[], ss_seq[], ss_1[], ss_2[], ss_3[], ss_4[], ss_5[], ss_6[],
    movss_seq[], ms_1[], ms_2[], ms_3[], ms_4[], ms_5[], ms_6[], ms_7[], sc_entry[];
volatile uint64_t watched[2] __attribute__((aligned(16)));

__asm__(".pushsection .user, \"ax\"\n"
        "u_sc: pushfq\n orq $0x100, (%rsp)\n popfq\n u_sc_1: syscall\n ud2\n"
        ".balign 16\n"
        "u_stack: .fill 1024, 1, 0\n"
        "u_stack_top:\n"
        ".popsection");
extern const char u_sc[], u_sc_1[], u_stack_top[];

/* The #DB handler records each trap; with set_rf it resumes past an
 * instruction breakpoint. */
enum { MAXDB = 16 };
static volatile unsigned ndb;
static ureg db_ip[MAXDB], db_dr6[MAXDB];
static volatile int set_rf;

static void db_handler(struct trap_frame *f)
{
    unsigned n = ndb++;
    if (n < MAXDB) {
        db_ip[n] = f->ip;
        db_dr6[n] = read_dr6();
    }
    write_dr6(0xffff0ff0ul); /* the handler clears DR6, as the SDM asks of software */
    if (set_rf)
        f->flags |= RF;
}

static void call(const char *fn)
{
    ((void (*)(void))(ureg)fn)();
}

static void expect_db(const char *what, unsigned n, const ureg *ips, ureg dr6_bits)
{
    if (ndb != n)
        guest_fail("%s: %u #DB, expected %u (first at 0x%lx)", what, ndb, n,
                   (unsigned long)db_ip[0]);
    for (unsigned i = 0; i < n; i++) {
        if (db_ip[i] != ips[i])
            guest_fail("%s: #DB %u at 0x%lx, expected 0x%lx", what, i, (unsigned long)db_ip[i],
                       (unsigned long)ips[i]);
        if ((db_dr6[i] & 0x400f) != dr6_bits)
            guest_fail("%s: #DB %u DR6 0x%lx, expected B0-B3/BS 0x%lx", what, i,
                       (unsigned long)db_dr6[i], (unsigned long)dr6_bits);
    }
    ndb = 0;
}

static void instruction_breakpoints(void)
{
    trap_set(1, db_handler);
    write_dr6(0xffff0ff0ul);
    /* Instruction breakpoint on bp_target. */
    set_rf = 1;
    write_dr0((ureg)bp_target);
    write_dr7(0x401); /* L0, R/W0 00, LEN0 00 */
    call(bp_target);
    call(bp_target);
    ureg two[2] = {(ureg)bp_target, (ureg)bp_target};
    expect_db("instruction breakpoint", 2, two, 1);
    write_dr7(0x400);
    call(bp_target);
    expect_db("disabled instruction breakpoint", 0, two, 0);
    set_rf = 0;
    gprintf("ok instruction breakpoint: fault at the instruction, DR6.B0, RF resumes, DR7 disables\n");
}

/* Data breakpoints on watched[0]. */
static void data_breakpoints(void)
{
    trap_set(1, db_handler);
    write_dr6(0xffff0ff0ul);
    write_dr1((ureg)&watched[0]);
    write_dr7(0x400 | (1 << 2) | (1ul << 20) | (3ul << 22)); /* L1, writes, 4 bytes */
    call(wr4);
    ureg ip = (ureg)wr4_after;
    expect_db("4-byte write breakpoint, write", 1, &ip, 2);
    CHECK_EQ(watched[0], 1);
    call(rd4);
    call(wr4_hi);
    expect_db("4-byte write breakpoint, read and a write beside it", 0, &ip, 0);
    call(wr1_odd);
    ip = (ureg)wr1_odd_after;
    expect_db("4-byte write breakpoint, a byte inside", 1, &ip, 2);
    write_dr7(0x400 | (1 << 2) | (1ul << 20) | (2ul << 22)); /* LEN 8 */
    call(wr4_hi);
    ip = (ureg)wr4_hi_after;
    expect_db("8-byte write breakpoint, the upper half", 1, &ip, 2);
    write_dr7(0x400 | (1 << 2) | (3ul << 20) | (3ul << 22)); /* reads and writes, 4 bytes */
    call(rd4);
    ip = (ureg)rd4_after;
    expect_db("4-byte access breakpoint, read", 1, &ip, 2);
    write_dr7(0x400);
    call(wr4);
    expect_db("disabled data breakpoint", 0, &ip, 0);
    gprintf("ok data breakpoints: traps after the access (DR6.B1) by kind and length\n");
}

static void read_dr7_fn(void *out)
{
    *(ureg *)out = read_dr7();
}

static void general_detect(void)
{
    trap_set(1, NULL);
    write_dr6(0xffff0ff0ul);
    write_dr7(0x400 | (1u << 13)); /* GD */
    struct trap_info ti;
    ureg v = 0;
    int vec = trap_run(read_dr7_fn, &v, &ti);
    if (vec != 1)
        guest_fail("MOV from DR7 with DR7.GD: %s (vector %d); expected #DB", trap_name((unsigned)vec),
                   vec);
    CHECK(read_dr6() & (1u << 13)); /* BD */
    CHECK_EQ(read_dr7() & (1u << 13), 0); /* cleared for the handler */
    write_dr6(0xffff0ff0ul);
    write_dr7(0x400);
    trap_set(1, db_handler);
    gprintf("ok DR7.GD: MOV DR faults with DR6.BD, GD cleared\n");
}

static void single_step(void)
{
    call(ss_seq);
    ureg ss[5] = {(ureg)ss_2, (ureg)ss_3, (ureg)ss_4, (ureg)ss_5, (ureg)ss_6};
    expect_db("single-step", 5, ss, 0x4000);
    gprintf("ok single-step: after each instruction begun with TF (BS), not after the POPF "
            "that sets it\n");
}

static void single_step_mov_ss(void)
{
    trap_set(1, db_handler);
    call(movss_seq);
    /* Said apart from the count: a trap between MOV SS and the next
     * instruction is the one thing this check is about. */
    for (unsigned i = 0; i < ndb && i < MAXDB; i++)
        if (db_ip[i] == (ureg)ms_3)
            guest_fail("single-step over MOV SS: #DB %u at 0x%lx, between the MOV SS and the "
                       "next instruction",
                       i, (unsigned long)db_ip[i]);
    ureg ms[5] = {(ureg)ms_2, (ureg)ms_4, (ureg)ms_5, (ureg)ms_6, (ureg)ms_7};
    expect_db("single-step over MOV SS", 5, ms, 0x4000);
    gprintf("ok single-step over MOV SS: MOV SS and the next instruction are one step\n");
}

static void reload_ss(void)
{
    __asm__ volatile("mov %0, %%ss" : : "r"((ureg)SEL_DATA));
}

static int syscall_with_tf(ureg sfmask, struct trap_info *ti)
{
    wrmsr(MSR_SFMASK, sfmask);
    int v = user_run((ureg)u_sc, (ureg)u_stack_top, ti);
    reload_ss(); /* SYSCALL loaded SS = STAR[47:32] + 8 */
    return v;
}

static void syscall_tf(void)
{
    trap_set(1, NULL); /* #DB now ends user_run like any exception */
    pg4_user_section();
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    wrmsr(MSR_STAR, (uint64_t)SEL_CODE64 << 32);
    wrmsr(MSR_LSTAR, (ureg)sc_entry);
    struct trap_info ti;
    int v = syscall_with_tf(TF | 0x200, &ti);
    if (ti.cpl == 3) {
        gprintf("note: SYSCALL stayed at CPL3 (this host's KVM); not checked\n");
        return;
    }
    if (v != 6 || ti.ip != (ureg)sc_entry)
        guest_fail("SYSCALL with TF, SFMASK.TF: %s at 0x%lx cpl %u; expected the kernel's ud2 "
                   "at 0x%lx, no #DB", trap_name((unsigned)v), (unsigned long)ti.ip, ti.cpl,
                   (unsigned long)(ureg)sc_entry);
    v = syscall_with_tf(0x200, &ti);
    if (v != 1 || ti.ip != (ureg)sc_entry || ti.cpl != 0)
        guest_fail("SYSCALL with TF, SFMASK keeping TF: %s at 0x%lx cpl %u; expected #DB at "
                   "0x%lx", trap_name((unsigned)v), (unsigned long)ti.ip, ti.cpl,
                   (unsigned long)(ureg)sc_entry);
    CHECK(read_dr6() & 0x4000);
    write_dr6(0xffff0ff0ul);
    gprintf("ok SYSCALL with TF: no #DB in the kernel when SFMASK clears TF, #DB at the entry "
            "otherwise\n");
}

/* What KVM without VT-x/AMD-V cannot do comes last, MOV SS before the data
 * breakpoints (tests/guests/run.sh: known_limit), so that the rest is
 * checked under hm on such a host too. */
void guest_main(void)
{
    instruction_breakpoints();
    general_detect();
    single_step();
    syscall_tf();
    single_step_mov_ss();
    data_breakpoints();
}
