/*
 * test_hyp.c - the hypervisor area (vmm/raw/raw_hyp.c): where it sits in
 * the raw root, what of the guest's PML4 is copied, which pages user code
 * can reach, the IDT and its stubs, the TSS's one-port bitmap; and what
 * raw may run (raw_ctx_native).
 */
#include <stdlib.h>
#include <string.h>

#include "raw/raw.h"
#include "raw_test.h"

#define GPA 0xfffe00000ull

static uint8_t *area;

static void setup(void)
{
    area = aligned_alloc(4096, RAW_HYP_SIZE);
    ck_assert_ptr_nonnull(area);
    memset(area, 0xa5, RAW_HYP_SIZE); /* raw_hyp_build writes every byte it leaves */
    raw_hyp_build(area, GPA);
}

static void teardown(void)
{
    free(area);
}

static uint64_t q(unsigned off, unsigned i)
{
    return ((const uint64_t *)(area + off))[i];
}

START_TEST(root_copies_user_half_only)
{
    uint64_t guest[512];
    for (unsigned i = 0; i < 512; i++)
        guest[i] = 0x100000ull * (i + 1) | 7;
    raw_hyp_root(area, GPA, guest);
    for (unsigned i = 0; i < 256; i++)
        ck_assert_uint_eq(q(RAW_HYP_ROOT, i), guest[i]);
    for (unsigned i = 256; i < 512; i++)
        ck_assert_uint_eq(q(RAW_HYP_ROOT, i),
                          i == RAW_HYP_SLOT ? (GPA + RAW_HYP_PDPT) | 7 : 0); /* P W U */
    /* a second guest's root replaces the first's entries, also the zero ones */
    memset(guest, 0, sizeof(guest));
    guest[3] = 0x5007;
    raw_hyp_root(area, GPA, guest);
    ck_assert_uint_eq(q(RAW_HYP_ROOT, 0), 0);
    ck_assert_uint_eq(q(RAW_HYP_ROOT, 3), 0x5007);
    ck_assert_uint_eq(q(RAW_HYP_ROOT, RAW_HYP_SLOT), (GPA + RAW_HYP_PDPT) | 7);
}
END_TEST

START_TEST(area_in_kernel_half_and_mapped)
{
    /* canonical, in the half raw never copies, at its PML4 slot */
    ck_assert_uint_ge(RAW_HYP_SLOT, 256);
    ck_assert_uint_eq((RAW_HYP_VA >> 39) & 511, RAW_HYP_SLOT);
    ck_assert_uint_eq(RAW_HYP_VA >> 47, 0x1ffff);
    ck_assert_uint_eq(q(RAW_HYP_PDPT, 0), (GPA + RAW_HYP_PD) | 7);
    ck_assert_uint_eq(q(RAW_HYP_PD, 0), (GPA + RAW_HYP_PT) | 7);
    for (unsigned off = 0; off < RAW_HYP_SIZE; off += 4096) {
        uint64_t pte = q(RAW_HYP_PT, off >> 12);
        ck_assert_uint_eq(pte & ~0xfffull, GPA + off);
        ck_assert_uint_eq(pte & 1, 1);
        /* user code reaches LSTAR's stub page only, and cannot write it */
        ck_assert_uint_eq(pte & 4, off == RAW_HYP_USTUB ? 4 : 0);
        ck_assert_uint_eq(pte & 2, off == RAW_HYP_USTUB ? 0 : 2);
    }
}
END_TEST

START_TEST(idt_gates_lead_to_their_stubs)
{
    for (unsigned v = 0; v < 256; v++) {
        uint64_t lo = q(RAW_HYP_IDT, 2 * v), hi = q(RAW_HYP_IDT, 2 * v + 1);
        uint64_t h = (lo & 0xffff) | ((lo >> 48) << 16) | (hi << 32);
        ck_assert_uint_eq(h, RAW_HYP_VA + RAW_HYP_STUBS + v * RAW_STUB_SIZE);
        ck_assert_uint_eq((lo >> 16) & 0xffff, RAW_SEL_HCS);
        ck_assert_uint_eq((lo >> 40) & 0xff, 0x8e); /* present, DPL 0, interrupt gate */
        const uint8_t *s = area + RAW_HYP_STUBS + v * RAW_STUB_SIZE;
        ck_assert_uint_eq(s[0], 0xe6); /* out %al, $RAW_PORT_STUB */
        ck_assert_uint_eq(s[1], RAW_PORT_STUB);
        ck_assert_int_eq(raw_hyp_stub_vector(h + 2), (int)v);
    }
    ck_assert_int_eq(raw_hyp_stub_vector(RAW_HYP_VA + RAW_HYP_STUBS + 1), -1);
    ck_assert_int_eq(raw_hyp_stub_vector(RAW_HYP_VA + RAW_HYP_STUBS + 256 * RAW_STUB_SIZE + 2), -1);
    ck_assert_int_eq(raw_hyp_stub_vector(0x401000), -1);
    ck_assert(raw_vector_has_error(14) && raw_vector_has_error(13) && raw_vector_has_error(8));
    ck_assert(!raw_vector_has_error(6) && !raw_vector_has_error(3) && !raw_vector_has_error(32));
}
END_TEST

START_TEST(tss_allows_one_port)
{
    const uint8_t *t = area + RAW_HYP_TSS;
    uint64_t rsp0;
    uint16_t iomap;
    memcpy(&rsp0, t + 4, 8);
    memcpy(&iomap, t + 0x66, 2);
    ck_assert_uint_eq(rsp0, RAW_HYP_VA + RAW_HYP_STACK);
    for (unsigned port = 0; port < 256; port++) {
        unsigned denied = (t[iomap + port / 8] >> (port % 8)) & 1;
        ck_assert_uint_eq(denied, port != RAW_PORT_SYSCALL);
    }
    ck_assert_uint_eq(t[iomap + 32], 0xff); /* the terminating byte */
    /* the TSS descriptor points at it, the guest's part of the GDT is empty */
    uint64_t d = q(RAW_HYP_GDT, RAW_SEL_TSS / 8), d2 = q(RAW_HYP_GDT, RAW_SEL_TSS / 8 + 1);
    ck_assert_uint_eq(((d >> 16) & 0xffffff) | ((d >> 56) << 24) | (d2 << 32),
                      RAW_HYP_VA + RAW_HYP_TSS);
    ck_assert_uint_eq(d & 0xffff, RAW_TSS_LIMIT);
    for (unsigned i = 0; i < RAW_GDT_GUEST_MAX / 8; i++)
        ck_assert_uint_eq(q(RAW_HYP_GDT, i), 0);
    /* the user stub: out %al, $RAW_PORT_SYSCALL */
    ck_assert_uint_eq(area[RAW_HYP_USTUB + RAW_USTUB_SYSCALL], 0xe6);
    ck_assert_uint_eq(area[RAW_HYP_USTUB + RAW_USTUB_SYSCALL + 1], RAW_PORT_SYSCALL);
}
END_TEST

/* 64-bit user code with IF set: what raw runs. */
static void user64(struct cpum_ctx *c)
{
    memset(c, 0, sizeof(*c));
    c->msr.efer = EFER_LME | EFER_LMA | EFER_SCE;
    c->cr0 = CR0_PE | CR0_PG;
    c->cr4 = CR4_PAE;
    c->seg[CPUM_CS] = (struct cpum_seg){
        .sel = 0x33, .attr = 0xb | CPUM_SEG_S | CPUM_SEG_P | 3 << CPUM_SEG_DPL_SHIFT | CPUM_SEG_L};
    c->seg[CPUM_SS] = (struct cpum_seg){
        .sel = 0x2b, .attr = 0x3 | CPUM_SEG_S | CPUM_SEG_P | 3 << CPUM_SEG_DPL_SHIFT | CPUM_SEG_DB};
    c->rflags = 0x202;
}

START_TEST(native_only_64bit_user_code_with_if)
{
    struct cpum_ctx c;
    user64(&c);
    ck_assert(raw_ctx_native(&c));
    c.rflags = 0x2; /* IF clear */
    ck_assert(!raw_ctx_native(&c));
    user64(&c);
    c.rflags |= 0x100; /* TF */
    ck_assert(!raw_ctx_native(&c));
    user64(&c);
    c.rflags |= 0x3000; /* IOPL 3: CLI/STI/port I/O would run on the host's flags */
    ck_assert(!raw_ctx_native(&c));
    user64(&c);
    c.seg[CPUM_CS].attr &= ~CPUM_SEG_L; /* compatibility mode: the host emulates it */
    ck_assert(!raw_ctx_native(&c));
    user64(&c);
    c.seg[CPUM_CS].sel = 0x10, c.seg[CPUM_SS].sel = 0x18;
    c.seg[CPUM_CS].attr &= ~CPUM_SEG_DPL_MASK, c.seg[CPUM_SS].attr &= ~CPUM_SEG_DPL_MASK;
    ck_assert(!raw_ctx_native(&c)); /* the kernel */
    user64(&c);
    c.cr4 |= CR4_TSD; /* RDTSC would not fault natively */
    ck_assert(!raw_ctx_native(&c));
    user64(&c);
    c.dr[7] = 0x1; /* an enabled breakpoint the raw context lacks */
    ck_assert(!raw_ctx_native(&c));
    user64(&c);
    c.msr.efer &= ~EFER_LMA;
    ck_assert(!raw_ctx_native(&c));
}
END_TEST

START_TEST(pte_losses)
{
    const uint64_t e = 0x123000 | 7;                     /* present, writable, user */
    ck_assert(!raw_pte_lost(0, e));                      /* was not present */
    ck_assert(!raw_pte_lost(e, e | 0x20 | 0x40));        /* A, D set */
    ck_assert(!raw_pte_lost(e | 0x20, e));               /* A cleared */
    ck_assert(!raw_pte_lost(e, e | 0xe00 | 1ull << 58)); /* ignored bits */
    ck_assert(!raw_pte_lost(e & ~6ull, e));              /* rights grown */
    ck_assert(!raw_pte_lost(e | 1ull << 63, e));         /* NX cleared */
    ck_assert(raw_pte_lost(e, 0));                       /* not present */
    ck_assert(raw_pte_lost(e, e ^ 0x1000));              /* another frame */
    ck_assert(raw_pte_lost(e, e & ~2ull));               /* read-only */
    ck_assert(raw_pte_lost(e, e & ~4ull));               /* supervisor */
    ck_assert(raw_pte_lost(e, e | 1ull << 63));          /* NX set */
    ck_assert(raw_pte_lost(e | 0x40, e));                /* D cleared */
    ck_assert(raw_pte_lost(e, e | 0x80));                /* PS */
    ck_assert(raw_pte_lost(e, e | 0x10));                /* PCD */
}
END_TEST

TCase *tcase_hyp(void)
{
    TCase *tc = tcase_create("hyp");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, root_copies_user_half_only);
    tcase_add_test(tc, area_in_kernel_half_and_mapped);
    tcase_add_test(tc, idt_gates_lead_to_their_stubs);
    tcase_add_test(tc, tss_allows_one_port);
    tcase_add_test(tc, native_only_64bit_user_code_with_if);
    tcase_add_test(tc, pte_losses);
    return tc;
}
