/*
 * test_whp_conv.c - the OS-neutral part of the WHP backend, natively: the
 * register-name tables per CPUM state part, the CPUM <-> WHP value
 * conversions and WHP's value layouts, IN completion into RAX, and the log
 * that replays an instruction through the Windows emulator one device
 * access per exit. (That the layouts match winhvplatformdefs.h is checked
 * by static assertions in the mingw-w64 cross-build.)
 */
#include <check.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "hwaccm/hwaccm_whp_conv.h"

static unsigned count(uint32_t parts)
{
    uint32_t names[WHPC_MAX_NAMES];
    return whpc_names(parts, names, WHPC_MAX_NAMES);
}

START_TEST(names_per_part)
{
    ck_assert_uint_eq(count(CPUM_STATE_GPRS), 18);
    ck_assert_uint_eq(count(CPUM_STATE_SREGS), 17);
    ck_assert_uint_eq(count(CPUM_STATE_FPU), 26);
    ck_assert_uint_eq(count(CPUM_STATE_MSRS), 11); /* TSC_AUX too */
    ck_assert_uint_eq(count(CPUM_STATE_DRS), 6);
    ck_assert_uint_eq(count(CPUM_STATE_ALL), 78);
    ck_assert_uint_le(count(CPUM_STATE_ALL), WHPC_MAX_NAMES);
    ck_assert_uint_eq(count(0), 0);
}
END_TEST

START_TEST(names_unique_and_owned)
{
    static const uint32_t parts[] = {CPUM_STATE_GPRS, CPUM_STATE_SREGS, CPUM_STATE_FPU,
                                     CPUM_STATE_MSRS, CPUM_STATE_DRS};
    uint32_t all[WHPC_MAX_NAMES];
    unsigned n = whpc_names(CPUM_STATE_ALL, all, WHPC_MAX_NAMES);
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = i + 1; j < n; j++)
            ck_assert_uint_ne(all[i], all[j]);
    for (unsigned p = 0; p < 5; p++) {
        uint32_t names[WHPC_MAX_NAMES];
        unsigned k = whpc_names(parts[p], names, WHPC_MAX_NAMES);
        for (unsigned i = 0; i < k; i++)
            ck_assert_msg(whpc_part_of(names[i]) == parts[p], "register 0x%x in part 0x%x",
                          names[i], parts[p]);
    }
    ck_assert_uint_eq(whpc_part_of(0x80000000u), 0); /* WHvRegisterPendingInterruption */
    ck_assert_uint_eq(whpc_part_of(0x2002 + 0x100), 0);
}
END_TEST

START_TEST(names_truncate_at_max)
{
    uint32_t names[WHPC_MAX_NAMES];
    names[5] = 0xdeadbeef;
    ck_assert_uint_eq(whpc_names(CPUM_STATE_ALL, names, 5), 5);
    ck_assert_uint_eq(names[5], 0xdeadbeef);
    ck_assert_uint_eq(names[0], WHPC_RAX);
    ck_assert_uint_eq(names[4], WHPC_RAX + CPUM_RSP);
}
END_TEST

/* A context with every modelled field distinct and FXSAVE padding zero. */
static void fill(struct cpum_ctx *c)
{
    memset(c, 0, sizeof(*c));
    uint8_t *p = (uint8_t *)c;
    for (size_t i = 0; i < offsetof(struct cpum_ctx, fpu); i++)
        p[i] = (uint8_t)(i * 7 + 1);
    for (unsigned i = 0; i < CPUM_SREG_COUNT; i++)
        c->seg[i].attr &= WHPC_SEG_ATTR_MASK;
    c->ldtr.attr &= WHPC_SEG_ATTR_MASK;
    c->tr.attr &= WHPC_SEG_ATTR_MASK;
    c->gdtr = (struct cpum_dtr){.base = 0x1122334455667788ull, .limit = 0x27};
    c->idtr = (struct cpum_dtr){.base = 0x8877665544332211ull, .limit = 0xfff};
    c->dr[4] = c->dr[5] = 0;     /* not registers of their own */
    c->msr.misc_enable = 0;      /* stays in CPUM: no WHP register */
    c->msr.tsc_adjust = 0;       /* likewise (the TSC itself carries it) */
    memset((uint8_t *)&c->gdtr + 10, 0, sizeof(c->gdtr) - 10); /* struct padding */
    memset((uint8_t *)&c->idtr + 10, 0, sizeof(c->idtr) - 10);
    struct cpum_fxsave *fx = &c->fpu;
    fx->fcw = 0x37f, fx->fsw = 0x1234, fx->ftw = 0xa5, fx->fop = 0x7ff;
    fx->fip = 0xfffff80012345678ull, fx->fdp = 0x0000123456789abcull;
    fx->mxcsr = 0x1f80, fx->mxcsr_mask = 0xffff;
    for (unsigned r = 0; r < 8; r++)
        for (unsigned b = 0; b < 10; b++)
            fx->st[r][b] = (uint8_t)(r * 16 + b + 3);
    for (unsigned r = 0; r < 16; r++)
        for (unsigned b = 0; b < 16; b++)
            fx->xmm[r][b] = (uint8_t)(r * 13 + b * 5);
}

START_TEST(round_trip_all)
{
    struct cpum_ctx a, b;
    uint32_t names[WHPC_MAX_NAMES];
    union whpc_value v[WHPC_MAX_NAMES];
    fill(&a);
    memset(&b, 0, sizeof(b));
    unsigned n = whpc_names(CPUM_STATE_ALL, names, WHPC_MAX_NAMES);
    for (unsigned i = 0; i < n; i++)
        ck_assert(whpc_get(&a, names[i], &v[i]));
    for (unsigned i = 0; i < n; i++)
        ck_assert(whpc_set(&b, names[i], &v[i]));
    for (unsigned i = 0; i < CPUM_SREG_COUNT; i++)
        ck_assert_mem_eq(&a.seg[i], &b.seg[i], sizeof(a.seg[i]));
    ck_assert_mem_eq(a.gpr, b.gpr, sizeof(a.gpr));
    ck_assert_uint_eq(a.rip, b.rip);
    ck_assert_uint_eq(a.rflags, b.rflags);
    ck_assert_uint_eq(a.gdtr.base, b.gdtr.base);
    ck_assert_uint_eq(a.idtr.limit, b.idtr.limit);
    ck_assert_mem_eq(&a.msr, &b.msr, sizeof(a.msr));
    ck_assert_mem_eq(a.dr, b.dr, sizeof(a.dr));
    ck_assert_uint_eq(a.cr0, b.cr0);
    ck_assert_uint_eq(a.cr8, b.cr8);
    ck_assert_mem_eq(&a.fpu, &b.fpu, sizeof(a.fpu));
}
END_TEST

START_TEST(unknown_register)
{
    struct cpum_ctx c;
    union whpc_value v = {.u64 = 42};
    fill(&c);
    ck_assert(!whpc_get(&c, 0x80000000u, &v));
    ck_assert_uint_eq(v.u64, 42);
    ck_assert(!whpc_set(&c, 0x27 /* XCR0 */, &v));
}
END_TEST

START_TEST(value_layouts)
{
    /* WHV_X64_SEGMENT_REGISTER, WHV_X64_TABLE_REGISTER, the FP/XMM
     * control-status registers: what the Windows headers define. */
    ck_assert_uint_eq(sizeof(union whpc_value), 16);
    ck_assert_uint_eq(offsetof(union whpc_value, seg.limit), 8);
    ck_assert_uint_eq(offsetof(union whpc_value, seg.sel), 12);
    ck_assert_uint_eq(offsetof(union whpc_value, seg.attr), 14);
    ck_assert_uint_eq(offsetof(union whpc_value, table.limit), 6);
    ck_assert_uint_eq(offsetof(union whpc_value, table.base), 8);
    ck_assert_uint_eq(offsetof(union whpc_value, fpcs.ftw), 4);
    ck_assert_uint_eq(offsetof(union whpc_value, fpcs.fop), 6);
    ck_assert_uint_eq(offsetof(union whpc_value, fpcs.fip), 8);
    ck_assert_uint_eq(offsetof(union whpc_value, xmmcs.mxcsr), 8);
    ck_assert_uint_eq(offsetof(union whpc_value, xmmcs.mxcsr_mask), 12);
}
END_TEST

START_TEST(segment_attributes)
{
    /* 64-bit ring-0 code: type 0xb, S, P, L, G - the same bits in both. */
    struct cpum_seg cs = {.sel = 0x10, .attr = 0xa09b, .limit = 0xffffffff, .base = 0};
    struct whpc_seg w;
    whpc_seg_to_whp(&cs, &w);
    ck_assert_uint_eq(w.attr, 0xa09b);
    ck_assert_uint_eq(w.sel, 0x10);
    ck_assert_uint_eq(w.limit, 0xffffffffu);
    /* WHP's reserved bits 8-11 never cross. */
    cs.attr = 0x0f93;
    whpc_seg_to_whp(&cs, &w);
    ck_assert_uint_eq(w.attr, 0x0093);
    w.attr = 0xff8b; /* busy 64-bit TSS, P, junk in 8-11 */
    struct cpum_seg tr;
    whpc_seg_from_whp(&w, &tr);
    ck_assert_uint_eq(tr.attr, 0xf08b);
    /* An unusable segment (P clear) stays so. */
    w.attr = 0;
    whpc_seg_from_whp(&w, &tr);
    ck_assert(!(tr.attr & CPUM_SEG_P));
}
END_TEST

START_TEST(fpu_registers)
{
    struct cpum_ctx c;
    union whpc_value v;
    fill(&c);
    ck_assert(whpc_get(&c, WHPC_FPMMX0 + 2, &v));
    ck_assert_mem_eq(v.bytes, c.fpu.st[2], 10);
    for (unsigned i = 10; i < 16; i++)
        ck_assert_uint_eq(v.bytes[i], 0);
    ck_assert(whpc_get(&c, WHPC_FP_CONTROL_STATUS, &v));
    ck_assert_uint_eq(v.fpcs.fcw, 0x37f);
    ck_assert_uint_eq(v.fpcs.ftw, 0xa5);
    ck_assert_uint_eq(v.fpcs.fip, 0xfffff80012345678ull);
    ck_assert(whpc_get(&c, WHPC_XMM_CONTROL_STATUS, &v));
    ck_assert_uint_eq(v.xmmcs.mxcsr, 0x1f80);
    /* A zero MXCSR mask from the host keeps CPUM's. */
    v.xmmcs.mxcsr_mask = 0;
    ck_assert(whpc_set(&c, WHPC_XMM_CONTROL_STATUS, &v));
    ck_assert_uint_eq(c.fpu.mxcsr_mask, 0xffff);
}
END_TEST

START_TEST(io_in_completion)
{
    const uint8_t d[4] = {0x11, 0x22, 0x33, 0x44};
    ck_assert_uint_eq(whpc_io_in_rax(0xffffffffffffffffull, 1, d), 0xffffffffffffff11ull);
    ck_assert_uint_eq(whpc_io_in_rax(0xffffffffffffffffull, 2, d), 0xffffffffffff2211ull);
    ck_assert_uint_eq(whpc_io_in_rax(0xffffffffffffffffull, 4, d), 0x44332211ull);
}
END_TEST

static struct whpc_replay rp;

START_TEST(replay_write_then_complete)
{
    uint8_t data[8] = {0xaa, 0xbb};
    whpc_replay_reset(&rp);
    whpc_replay_begin(&rp);
    ck_assert_int_eq(whpc_replay_access(&rp, WHPC_ACC_MMIO, CAP_TRUE, 0xfee000b0, 2, data),
                     WHPC_REPLAY_NEW);
    struct whpc_access *a = whpc_replay_current(&rp);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(a->addr, 0xfee000b0);
    ck_assert_uint_eq(a->data[1], 0xbb);
    /* The next run: the same write is answered (EM did it) and the
     * instruction completes. */
    whpc_replay_begin(&rp);
    ck_assert_int_eq(whpc_replay_access(&rp, WHPC_ACC_MMIO, CAP_TRUE, 0xfee000b0, 2, data),
                     WHPC_REPLAY_ANSWERED);
}
END_TEST

START_TEST(replay_reads_in_order)
{
    uint8_t buf[8];
    whpc_replay_reset(&rp);
    /* rep insb, two elements: each attempt adds one access. */
    whpc_replay_begin(&rp);
    ck_assert_int_eq(whpc_replay_access(&rp, WHPC_ACC_PORT, CAP_FALSE, 0x60, 1, buf),
                     WHPC_REPLAY_NEW);
    whpc_replay_current(&rp)->data[0] = 0x11; /* EM's IN data */
    whpc_replay_begin(&rp);
    memset(buf, 0, sizeof(buf));
    ck_assert_int_eq(whpc_replay_access(&rp, WHPC_ACC_PORT, CAP_FALSE, 0x60, 1, buf),
                     WHPC_REPLAY_ANSWERED);
    ck_assert_uint_eq(buf[0], 0x11);
    ck_assert_int_eq(whpc_replay_access(&rp, WHPC_ACC_PORT, CAP_FALSE, 0x60, 1, buf),
                     WHPC_REPLAY_NEW);
    whpc_replay_current(&rp)->data[0] = 0x22;
    whpc_replay_begin(&rp);
    ck_assert_int_eq(whpc_replay_access(&rp, WHPC_ACC_PORT, CAP_FALSE, 0x60, 1, buf),
                     WHPC_REPLAY_ANSWERED);
    ck_assert_uint_eq(buf[0], 0x11);
    ck_assert_int_eq(whpc_replay_access(&rp, WHPC_ACC_PORT, CAP_FALSE, 0x60, 1, buf),
                     WHPC_REPLAY_ANSWERED);
    ck_assert_uint_eq(buf[0], 0x22);
}
END_TEST

START_TEST(replay_mismatch_and_full)
{
    uint8_t buf[8] = {0};
    whpc_replay_reset(&rp);
    ck_assert_ptr_null(whpc_replay_current(&rp));
    whpc_replay_begin(&rp);
    ck_assert_int_eq(whpc_replay_access(&rp, WHPC_ACC_MMIO, CAP_FALSE, 0x1000, 4, buf),
                     WHPC_REPLAY_NEW);
    whpc_replay_begin(&rp);
    ck_assert_int_eq(whpc_replay_access(&rp, WHPC_ACC_MMIO, CAP_FALSE, 0x1000, 2, buf),
                     WHPC_REPLAY_MISMATCH);
    ck_assert_int_eq(whpc_replay_access(&rp, WHPC_ACC_MMIO, CAP_FALSE, 0x1000, 9, buf),
                     WHPC_REPLAY_MISMATCH);
    whpc_replay_reset(&rp);
    for (unsigned i = 0; i < WHPC_MAX_ACCESSES; i++)
        ck_assert_int_eq(whpc_replay_access(&rp, WHPC_ACC_PORT, CAP_TRUE, 0x3f8, 1, buf),
                         WHPC_REPLAY_NEW);
    ck_assert_int_eq(whpc_replay_access(&rp, WHPC_ACC_PORT, CAP_TRUE, 0x3f8, 1, buf),
                     WHPC_REPLAY_FULL);
}
END_TEST

TCase *tcase_check_cpuid(void); /* test_check_cpuid.c */

int main(void)
{
    Suite *s = suite_create("hwaccm-whp");
    TCase *tc = tcase_create("names");
    tcase_add_test(tc, names_per_part);
    tcase_add_test(tc, names_unique_and_owned);
    tcase_add_test(tc, names_truncate_at_max);
    suite_add_tcase(s, tc);
    tc = tcase_create("values");
    tcase_add_test(tc, round_trip_all);
    tcase_add_test(tc, unknown_register);
    tcase_add_test(tc, value_layouts);
    tcase_add_test(tc, segment_attributes);
    tcase_add_test(tc, fpu_registers);
    tcase_add_test(tc, io_in_completion);
    suite_add_tcase(s, tc);
    tc = tcase_create("replay");
    tcase_add_test(tc, replay_write_then_complete);
    tcase_add_test(tc, replay_reads_in_order);
    tcase_add_test(tc, replay_mismatch_and_full);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, tcase_check_cpuid());
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
