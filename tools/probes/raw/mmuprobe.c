/*
 * mmuprobe.c - does this host's KVM see page-table changes the VMM makes from user space?
 *
 * KVM without EPT/NPT (here: PVM) runs the guest on shadow page tables it builds from the
 * guest's. It learns of guest page-table writes by write-protecting them, which catches
 * writes made by guest code, not writes the VMM makes through its own mapping of guest
 * RAM. In raw mode the guest kernel runs in rem, so *every* page-table write the guest
 * kernel makes is such a write. This probe changes one translation from user space in
 * several ways (leaf PTE, PDE, the shadow PML4's entry, present -> not present), does one
 * of several things the VMM can do before KVM_RUN, and reads what the guest then sees.
 *
 * Then it measures what the top-level shadow costs: re-copying the guest PML4 into the
 * shadow page, and the first run after a CR3 load touching 16 pages.
 *
 * Usage: ./mmuprobe [coherence|dirty|upgrade|cost]
 */
#include "hyp.h"

extern char mb[], mb_end[], m_read[], m_touch[], m_write[];
asm(".pushsection .rodata\n"
    "mb:\n"
    "m_read: mov 0x130000, %rax\n out %al, $0xe1\n jmp m_read\n"
    "m_write: movq $0x77, 0x130000\n out %al, $0xe1\n jmp m_write\n"
    "m_touch: mov $0x110000, %rbx\n mov $16, %ecx\n"
    " 1: addq $1, (%rbx)\n add $0x1000, %rbx\n cmp $0x120000, %rbx\n jb 2f\n mov $0x110000, %rbx\n"
    " 2: dec %ecx\n jnz 1b\n out %al, $0xe1\n jmp m_touch\n"
    "mb_end:\n"
    ".popsection\n");
#define MA(sym) (U_CODE + (u64)((sym)-mb))

#define PAGE_A   0x130000ull /* what U_ALIAS maps at first */
#define PAGE_B   0x131000ull /* what the change maps instead */
#define NEW_PT0  0x7000ull   /* copies of the guest tables with the change */
#define NEW_PD   0x8000ull
#define NEW_PDPT 0x9000ull

static struct rk K;

enum change { C_LEAF, C_LEAF_NP, C_PDE, C_SHADOW_PML4, C_COUNT };
static const char *change_name[] = {"leaf PTE -> other page", "leaf PTE -> not present",
                                    "PDE -> copy of the PT", "shadow PML4[0] -> copied chain"};
enum action { A_NONE, A_SREGS_SAME, A_SREGS_OTHER, A_MEMSLOT, A_REPLAY, A_FOLDED, A_COUNT };
static const char *action_name[] = {"nothing",
                                    "SET_SREGS same CR3",
                                    "SET_SREGS other CR3",
                                    "memslot 0 deleted + re-added",
                                    "vCPU rewrites the entry",
                                    "rewrite folded into return"};
static const u64 changed_entry[] = {G_PT0 + (U_ALIAS >> 12) * 8, G_PT0 + (U_ALIAS >> 12) * 8, G_PD,
                                    HYP_GPA + H_SPML4};

static void memslot_readd(void)
{
    struct kvm_userspace_memory_region r = {.slot = 0, .guest_phys_addr = 0, .memory_size = 0};
    if (ioctl(K.vm, KVM_SET_USER_MEMORY_REGION, &r) < 0)
        rk_die("delete slot");
    r.memory_size = RAM_SIZE;
    r.userspace_addr = (u64)K.ram;
    if (ioctl(K.vm, KVM_SET_USER_MEMORY_REGION, &r) < 0)
        rk_die("re-add slot");
}

/* One run of m_read: the value the guest read at U_ALIAS, or -1 for a #PF exit. */
static long long read_alias(void)
{
    if (rk_run(&K, 5) < 0 || K.run->exit_reason != KVM_EXIT_IO)
        return rk_dump(&K, "read"), -2;
    struct kvm_regs r;
    ioctl(K.vcpu, KVM_GET_REGS, &r);
    if (K.run->io.port == PORT_STUB)
        return -1;
    return r.rax;
}

static void make_change(enum change c)
{
    u64 *pt0 = g_pt(&K, G_PT0);
    u64 *npt = g_pt(&K, NEW_PT0);
    switch (c) {
    case C_LEAF:
        pt0[U_ALIAS >> 12] = PAGE_B | PTE_P | PTE_W | PTE_U;
        break;
    case C_LEAF_NP:
        pt0[U_ALIAS >> 12] = 0;
        break;
    case C_PDE:
    case C_SHADOW_PML4:
        memcpy(npt, pt0, 4096);
        npt[U_ALIAS >> 12] = PAGE_B | PTE_P | PTE_W | PTE_U;
        if (c == C_PDE) {
            g_pt(&K, G_PD)[0] = NEW_PT0 | PTE_P | PTE_W | PTE_U;
            break;
        }
        memcpy(g_pt(&K, NEW_PD), g_pt(&K, G_PD), 4096);
        g_pt(&K, NEW_PD)[0] = NEW_PT0 | PTE_P | PTE_W | PTE_U;
        memset(g_pt(&K, NEW_PDPT), 0, 4096);
        g_pt(&K, NEW_PDPT)[0] = NEW_PD | PTE_P | PTE_W | PTE_U;
        /* the guest switched to another address space: the VMM re-copies its PML4 */
        g_pt(&K, G_PML4)[0] = NEW_PDPT | PTE_P | PTE_W | PTE_U;
        shadow_sync(&K, 0, G_PML4);
        break;
    default:
        break;
    }
}

static void coherence(void)
{
    printf("%-31s", "change \\ then");
    for (int a = 0; a < A_COUNT; a++)
        printf(" | %-26s", action_name[a]);
    printf("\n");
    for (int c = 0; c < C_COUNT; c++) {
        printf("%-31s", change_name[c]);
        for (int a = 0; a < A_COUNT; a++) {
            rk_open(&K);
            hyp_build(&K);
            guest_build(&K, mb, mb_end - mb);
            *(u64 *)(K.ram + PAGE_A) = 0xaaaa;
            *(u64 *)(K.ram + PAGE_B) = 0xbbbb;
            u64 cr3 = shadow_sync(&K, 0, G_PML4);
            enter_user(&K, MA(m_read), U_STACK_TOP, cr3);
            long long before = read_alias();
            read_alias(); /* a second run: the translation is surely cached */
            make_change(c);
            if (a == A_SREGS_SAME || a == A_SREGS_OTHER) {
                struct kvm_sregs s;
                ioctl(K.vcpu, KVM_GET_SREGS, &s);
                if (a == A_SREGS_OTHER)
                    s.cr3 = shadow_sync(&K, 1, G_PML4);
                ioctl(K.vcpu, KVM_SET_SREGS, &s);
            } else if (a == A_MEMSLOT)
                memslot_readd();
            else if (a == A_FOLDED) {
                struct kvm_regs u = {.rip = MA(m_read), .rsp = U_STACK_TOP, .rflags = 0x202};
                replay_generated = 1;
                replay_then_user(&K, &changed_entry[c], 1, &u, cr3);
            } else if (a == A_REPLAY) {
                replay_writes(&K, &changed_entry[c], 1);
                enter_user(&K, MA(m_read), U_STACK_TOP, cr3);
            }
            long long after = read_alias();
            const char *verdict = c == C_LEAF_NP ? (after == -1 ? "sees it" : "STALE")
                                                 : (after == 0xbbbb ? "sees it" : "STALE");
            if (after == -1)
                after = 0xe14; /* the #PF stub exit */
            char cell[64];
            snprintf(cell, sizeof cell, "%s (%llx->%llx)", verdict, before, after);
            printf(" | %-26s", cell);
            close(K.vcpu);
            close(K.vm);
            close(K.kvm);
            munmap(K.ram, RAM_SIZE);
            munmap(K.hyp, HYP_SIZE);
        }
        printf("\n");
    }
}

/* ns per run of m_touch (16 page writes + the out exit), after @what before each run. */
static double touch_runs(int what, int n)
{
    struct kvm_sregs s;
    ioctl(K.vcpu, KVM_GET_SREGS, &s);
    u64 cr3a = shadow_sync(&K, 0, G_PML4), cr3b = shadow_sync(&K, 1, G_PML4);
    double t0 = rk_now();
    for (int i = 0; i < n; i++) {
        if (what == 1) { /* re-copy the PML4 into the same shadow page, SET_SREGS same CR3 */
            shadow_sync(&K, 0, G_PML4);
            ioctl(K.vcpu, KVM_SET_SREGS, &s);
        } else if (what == 2) { /* alternate between two shadow pages */
            s.cr3 = i & 1 ? cr3b : cr3a;
            ioctl(K.vcpu, KVM_SET_SREGS, &s);
        } else if (what == 3) { /* a shadow page KVM has never seen, each time */
            s.cr3 = shadow_sync(&K, 2 + i % 14, G_PML4);
            ioctl(K.vcpu, KVM_SET_SREGS, &s);
        } else if (what == 4) {
            memslot_readd();
        }
        if (rk_run(&K, 5) < 0 || K.run->exit_reason != KVM_EXIT_IO || K.run->io.port != PORT_SYS)
            return rk_dump(&K, "touch"), -1;
    }
    return (rk_now() - t0) / n;
}

static void replay_cost(void);

/* Harvest the vCPU's dirty ring from @*next; returns the entries, counts those of
 * slot 0 inside [lo, hi) pages in @*in_range. */
static unsigned ring_harvest(unsigned *next, u64 lo, u64 hi, unsigned *in_range)
{
    unsigned n = 0;
    *in_range = 0;
    for (;;) {
        struct kvm_dirty_gfn *e = &K.ring[*next % K.ring_entries];
        if (!(__atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) & KVM_DIRTY_GFN_F_DIRTY))
            break;
        if (e->slot == 0 && e->offset >= lo && e->offset < hi)
            (*in_range)++;
        __atomic_store_n(&e->flags, KVM_DIRTY_GFN_F_RESET, __ATOMIC_RELEASE);
        (*next)++;
        n++;
    }
    return n;
}

/* The bitmap log with manual re-protection (KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, initially
 * set): only pages the VMM clears are write-protected, so raw pays a fault only on those.
 * Each run re-protects one data page and reads the log. */
static void dirty_manual(void)
{
    rk_open(&K);
    struct kvm_enable_cap cap = {
        .cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
        .args = {KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET}};
    if (ioctl(K.vm, KVM_ENABLE_CAP, &cap) < 0)
        rk_die("MANUAL_DIRTY_LOG_PROTECT2");
    struct kvm_userspace_memory_region r0 = {.slot = 0,
                                             .flags = KVM_MEM_LOG_DIRTY_PAGES,
                                             .memory_size = RAM_SIZE,
                                             .userspace_addr = (u64)K.ram};
    if (ioctl(K.vm, KVM_SET_USER_MEMORY_REGION, &r0) < 0)
        rk_die("slot 0 with dirty logging");
    hyp_build(&K);
    guest_build(&K, mb, mb_end - mb);
    enter_user(&K, MA(m_touch), U_STACK_TOP, shadow_sync(&K, 0, G_PML4));
    static u64 bitmap[RAM_SIZE / 4096 / 64];
    u64 one = 1ull << ((U_DATA >> 12) % 64); /* KVM wants 64-page aligned ranges */
    struct kvm_clear_dirty_log clr = {
        .slot = 0, .first_page = (U_DATA >> 12) & ~63ull, .num_pages = 64, .dirty_bitmap = &one};
    struct kvm_dirty_log log = {.slot = 0, .dirty_bitmap = bitmap};
    double v[3][5];
    for (int i = 0; i < 5; i++) {
        double t[3] = {0, 0, 0};
        for (int j = 0; j < 50; j++) {
            double t0 = rk_now();
            if (ioctl(K.vm, KVM_CLEAR_DIRTY_LOG, &clr) < 0)
                rk_die("KVM_CLEAR_DIRTY_LOG");
            double t1 = rk_now();
            if (rk_run(&K, 5) < 0 || K.run->exit_reason != KVM_EXIT_IO)
                return rk_dump(&K, "dirty manual");
            double t2 = rk_now();
            if (ioctl(K.vm, KVM_GET_DIRTY_LOG, &log) < 0)
                rk_die("KVM_GET_DIRTY_LOG");
            t[0] += t1 - t0;
            t[1] += t2 - t1;
            t[2] += rk_now() - t2;
        }
        for (int k = 0; k < 3; k++)
            v[k][i] = t[k] / 50;
    }
    printf("manual-protect bitmap log: KVM_CLEAR_DIRTY_LOG of 1 page %.0f ns; 16 page writes "
           "(one of them re-protected) + out exit %.0f ns; KVM_GET_DIRTY_LOG (16 MiB slot) %.0f "
           "ns; the re-protected page reported dirty: %s\n",
           rk_median(v[0], 5), rk_median(v[1], 5), rk_median(v[2], 5),
           (bitmap[(U_DATA >> 12) / 64] >> ((U_DATA >> 12) % 64)) & 1 ? "yes" : "NO");
}

/* rem must learn which pages raw code wrote (pages it holds translated code for, dirty-
 * tracked RAM): does KVM's dirty ring work here, and what does it cost raw? */
static void dirty(void)
{
    rk_open_ring(&K, 65536);
    hyp_build(&K);
    guest_build(&K, mb, mb_end - mb);
    u64 cr3 = shadow_sync(&K, 0, G_PML4);
    enter_user(&K, MA(m_touch), U_STACK_TOP, cr3);
    unsigned next = 0, in_range;
    for (int run = 0; run < 3; run++) {
        if (rk_run(&K, 5) < 0 || K.run->exit_reason != KVM_EXIT_IO) {
            rk_dump(&K, "dirty");
            return;
        }
        unsigned n = ring_harvest(&next, U_DATA >> 12, (U_DATA + 0x10000) >> 12, &in_range);
        double t0 = rk_now();
        int rc = ioctl(K.vm, KVM_RESET_DIRTY_RINGS, 0);
        printf("run %d of 16 page writes: %u dirty-ring entries, %u of them the 16 data pages; "
               "KVM_RESET_DIRTY_RINGS %d (%.0f ns)\n",
               run, n, in_range, rc, rk_now() - t0);
    }
    double v[5];
    for (int i = 0; i < 5; i++) {
        double t0 = rk_now();
        for (int j = 0; j < 100; j++) {
            rk_run(&K, 5);
            ring_harvest(&next, 0, 0, &in_range);
            ioctl(K.vm, KVM_RESET_DIRTY_RINGS, 0);
        }
        v[i] = (rk_now() - t0) / 100;
    }
    printf("  16 page writes + out exit + harvest + KVM_RESET_DIRTY_RINGS: %.0f ns per run "
           "(compare the first line of 'cost': the same without dirty logging)\n",
           rk_median(v, 5));
}

/* A permission upgrade (read-only -> writable, same frame) made from user space after the
 * guest's write faulted on it: does KVM re-walk the guest tables on the retried write? */
static void upgrade(void)
{
    rk_open(&K);
    hyp_build(&K);
    guest_build(&K, mb, mb_end - mb);
    u64 *pte = g_pt(&K, G_PT0) + (U_ALIAS >> 12);
    *pte = PAGE_A | PTE_P | PTE_U;
    u64 cr3 = shadow_sync(&K, 0, G_PML4);
    enter_user(&K, MA(m_write), U_STACK_TOP, cr3);
    struct kvm_regs r;
    struct xframe f;
    if (rk_run(&K, 5) < 0 || K.run->exit_reason != KVM_EXIT_IO || K.run->io.port != PORT_STUB ||
        ioctl(K.vcpu, KVM_GET_REGS, &r) < 0 || xframe_read(&K, &r, &f) < 0) {
        rk_dump(&K, "upgrade: first write");
        return;
    }
    printf("write to a read-only user page: vector %u err %#llx\n", f.vec, f.err);
    *pte = PAGE_A | PTE_P | PTE_W | PTE_U; /* no replay */
    enter_user(&K, MA(m_write), U_STACK_TOP, cr3);
    int ok = rk_run(&K, 5) == 0 && K.run->exit_reason == KVM_EXIT_IO && K.run->io.port == PORT_SYS;
    printf("after the PTE was made writable from user space, no replay: the retried write %s "
           "(page holds %#llx)\n",
           ok ? "succeeds" : "faults again", *(u64 *)(K.ram + PAGE_A));
}

/* Back to m_read at CPL3 through kvm_run->s.regs, after replaying @n entries: 0 no
 * replay, 1 replay_writes then the return, 2 replay_then_user. ns per round trip. */
static double return_cost(int how, unsigned n, u64 cr3)
{
    static u64 gpas[REPLAY_MAX];
    for (unsigned i = 0; i < n; i++)
        gpas[i] = G_PT0 + (U_DATA >> 12) * 8 + i * 8;
    K.run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
    struct kvm_regs u = {.rip = MA(m_read), .rsp = U_STACK_TOP, .rflags = 0x202, .rax = 7};
    double t0 = rk_now();
    for (int i = 0; i < 50; i++) {
        if (how == 1)
            replay_writes(&K, gpas, n);
        if (how == 2)
            replay_then_user(&K, gpas, n, &u, cr3);
        else {
            K.run->s.regs.regs = u;
            user_sregs(&K.run->s.regs.sregs, cr3);
            K.run->kvm_dirty_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
        }
        if (rk_run(&K, 5) < 0 || K.run->exit_reason != KVM_EXIT_IO || K.run->io.port != PORT_SYS)
            return rk_dump(&K, "return"), -1;
    }
    K.run->kvm_valid_regs = 0;
    return (rk_now() - t0) / 50;
}

static void return_costs(void)
{
    rk_open(&K);
    hyp_build(&K);
    guest_build(&K, mb, mb_end - mb);
    u64 cr3 = shadow_sync(&K, 0, G_PML4);
    enter_user(&K, MA(m_read), U_STACK_TOP, cr3);
    replay_generated = 1;
    static const char *how[] = {"no replay", "replay_writes (own KVM_RUN + 2 ioctls), then return",
                                "replay folded into the return (replay_then_user)"};
    for (int h = 0; h < 3; h++)
        for (unsigned n = 1; n <= 16; n *= 16) {
            if (h == 0 && n > 1)
                continue;
            double v[5];
            return_cost(h, n, cr3);
            for (int i = 0; i < 5; i++)
                v[i] = return_cost(h, n, cr3);
            printf("  return to CPL3 + out exit, %-52s n=%-2u %7.0f ns\n", how[h], n,
                   rk_median(v, 5));
        }
}

static void cost(void)
{
    rk_open(&K);
    hyp_build(&K);
    guest_build(&K, mb, mb_end - mb);
    enter_user(&K, MA(m_touch), U_STACK_TOP, shadow_sync(&K, 0, G_PML4));
    double v[9];
    for (int i = 0; i < 9; i++) {
        double t0 = rk_now();
        for (int j = 0; j < 10000; j++) {
            shadow_sync(&K, 0, G_PML4);
            asm volatile("" ::: "memory");
        }
        v[i] = (rk_now() - t0) / 10000;
    }
    printf("re-copying the guest PML4's user half (2 KiB) into the shadow page: %.0f ns\n",
           rk_median(v, 9));
    static const char *what[] = {"nothing (same CR3, no copy)", "re-copy + SET_SREGS same CR3",
                                 "SET_SREGS alternating two shadow PML4s",
                                 "SET_SREGS to a shadow PML4 new to KVM", "memslot re-added"};
    for (int w = 0; w < 5; w++) {
        double r[5];
        touch_runs(w, 20);
        for (int i = 0; i < 5; i++)
            r[i] = touch_runs(w, w == 4 ? 20 : 200);
        printf("  16 page writes + out exit, before each run %-40s %7.0f ns\n", what[w],
               rk_median(r, 5));
    }
    replay_cost();
    return_costs();
}

/* What replaying n page-table writes through the vCPU costs (one KVM_RUN of the stub). */
static void replay_cost(void)
{
    static u64 gpas[256];
    for (unsigned i = 0; i < 256; i++)
        gpas[i] = G_PT0 + i * 8;
    static const unsigned ns[] = {1, 16, 128, 1, 16, 128};
    for (unsigned j = 0; j < 6; j++) {
        replay_generated = j >= 3;
        double v[5];
        for (int rep = 0; rep < 5; rep++) {
            double t0 = rk_now();
            for (int i = 0; i < 20; i++)
                if (replay_writes(&K, gpas, ns[j]) < 0)
                    return;
            v[rep] = (rk_now() - t0) / 20;
        }
        printf("  replaying %3u page-table writes through the vCPU (%s; SET_SREGS+SET_REGS+RUN): "
               "%7.0f ns, %5.0f ns per write\n",
               ns[j], replay_generated ? "straight-line code" : "loop", rk_median(v, 5),
               rk_median(v, 5) / ns[j]);
    }
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "all";
    if (!strcmp(what, "coherence") || !strcmp(what, "all"))
        coherence();
    if (!strcmp(what, "dirty") || !strcmp(what, "all")) {
        dirty();
        dirty_manual();
    }
    if (!strcmp(what, "upgrade") || !strcmp(what, "all"))
        upgrade();
    if (!strcmp(what, "cost") || !strcmp(what, "all"))
        cost();
    return 0;
}
