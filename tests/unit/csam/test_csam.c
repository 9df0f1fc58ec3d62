/*
 * tests/unit/csam: CSAM's Check suite on hand-made code in a small guest
 * memory (struct tmem: guest-physical pages and a table mapping linear pages
 * onto them, so that code can cross into a page that is not the next one
 * physically, or into nothing). One test case per topic.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csam/csam.h"
#include "pgm/pgm.h"
#include "stam/stam.h"

#define NPHYS 8
#define NVIRT 8

struct tmem {
    uint8_t page[NPHYS][CSAM_PAGE_SIZE];
    int map[NVIRT]; /* linear page -> physical page, -1 unmapped */
    unsigned reads;
};

static int t_translate(void *user, uint64_t va, uint64_t *gpa)
{
    struct tmem *m = user;
    uint64_t vp = va / CSAM_PAGE_SIZE;
    if (vp >= NVIRT || m->map[vp] < 0)
        return -1;
    *gpa = (uint64_t)m->map[vp] * CSAM_PAGE_SIZE;
    return 0;
}

static int t_read(void *user, uint64_t gpa, uint8_t *buf)
{
    struct tmem *m = user;
    if (gpa / CSAM_PAGE_SIZE >= NPHYS)
        return -1;
    memcpy(buf, m->page[gpa / CSAM_PAGE_SIZE], CSAM_PAGE_SIZE);
    m->reads++;
    return 0;
}

static struct tmem *tm;
static struct csam_mem mem;
static struct csam *c;

/* Identity map, memory filled with int3 (Linux's padding: ends a path). */
static void setup_with(const struct csam_config *cfg)
{
    tm = calloc(1, sizeof(*tm));
    ck_assert_ptr_nonnull(tm);
    memset(tm->page, 0xcc, sizeof(tm->page));
    for (int i = 0; i < NVIRT; i++)
        tm->map[i] = i < NPHYS ? i : -1;
    mem = (struct csam_mem){t_translate, t_read, tm};
    ck_assert_int_eq(csam_create(cfg, &c), CAP_OK);
}

static void setup(void)
{
    setup_with(NULL);
}

static void teardown(void)
{
    csam_destroy(c);
    free(tm);
}

/* Writes hex bytes at linear address va (through the map). */
static void put(uint64_t va, const char *hex)
{
    for (; hex[0] && hex[1]; hex += 2, va++) {
        uint64_t gpa;
        ck_assert_int_eq(t_translate(tm, va, &gpa), 0);
        unsigned v;
        ck_assert_int_eq(sscanf(hex, "%2x", &v), 1);
        tm->page[gpa / CSAM_PAGE_SIZE][va & CSAM_PAGE_MASK] = (uint8_t)v;
    }
}

static struct csam_stats stats(void)
{
    struct csam_stats s;
    csam_get_stats(c, &s);
    return s;
}

/* The recorded instruction at gpa, or NULL. */
static const struct csam_insn *insn_at(uint64_t gpa)
{
    const struct csam_insn *in;
    size_t n = csam_page_insns(c, gpa, &in);
    for (size_t i = 0; i < n; i++)
        if (in[i].off == (gpa & CSAM_PAGE_MASK))
            return &in[i];
    return NULL;
}

START_TEST(test_loop_and_sensitive)
{
    /* 1000: mov ecx,10; L: pushf; cli; popf; dec ecx; jnz L; sti; hlt; ret */
    put(0x1000, "b90a000000"
                "9c"
                "fa"
                "9d"
                "ffc9"
                "75f9"
                "fb"
                "f4"
                "c3");
    ck_assert_int_eq(csam_scan(c, &mem, 0x1000, DIS_MODE_64, 100), CSAM_DONE);
    ck_assert(csam_page_ready(c, 0x1000));
    ck_assert(csam_is_entry(c, 0x1000));
    ck_assert(csam_is_insn_start(c, 0x1005));
    ck_assert(!csam_is_insn_start(c, 0x1001));
    struct csam_stats s = stats();
    ck_assert_uint_eq(s.insns, 9);
    ck_assert_uint_eq(s.pages_scanned, 1);
    ck_assert_uint_eq(s.sens[DIS_SENS_PUSHF], 1);
    ck_assert_uint_eq(s.sens[DIS_SENS_CLI], 1);
    ck_assert_uint_eq(s.sens[DIS_SENS_POPF], 1);
    ck_assert_uint_eq(s.sens[DIS_SENS_STI], 1);
    ck_assert_uint_eq(s.sens[DIS_SENS_HLT], 1);
    ck_assert_int_eq(insn_at(0x1006)->sens, DIS_SENS_CLI);
    ck_assert_int_eq(insn_at(0x1006)->len, 1);
    ck_assert(insn_at(0x100e)->flags & CSAM_INSN_END); /* ret */
    ck_assert_ptr_null(insn_at(0x1008));               /* dec: nothing to record */
    const struct csam_insn *in;
    ck_assert_uint_eq(csam_page_insns(c, 0x1000, &in), 6);
    for (int i = 1; i < 6; i++)
        ck_assert_uint_lt(in[i - 1].off, in[i].off);
    /* the loop's target is a branch target: a patch over [0x1004, 0x1007) would cover it */
    ck_assert(csam_range_has_target(c, 0x1004, 0x1007));
    ck_assert(!csam_range_has_target(c, 0x1005, 0x1008)); /* a target at a is fine */
    /* scanning the same entry again costs no decoding */
    ck_assert_int_eq(csam_scan(c, &mem, 0x1000, DIS_MODE_64, 100), CSAM_DONE);
    ck_assert_uint_eq(stats().insns, 9);
}
END_TEST

START_TEST(test_overlapping_paths)
{
    /* 2000: jne 2003 (into the mov's immediate); mov eax,0x909090fa; ret.
     * The hidden path: 2003 cli; 2004..2006 nop; 2007 ret (met again). */
    put(0x2000, "7501"
                "b8fa909090"
                "c3");
    ck_assert_int_eq(csam_scan(c, &mem, 0x2000, DIS_MODE_64, 100), CSAM_DONE);
    for (uint64_t a = 0x2000; a <= 0x2007; a++)
        ck_assert_msg(csam_is_insn_start(c, a) == (a != 0x2001), "start %llx",
                      (unsigned long long)a);
    ck_assert_int_eq(insn_at(0x2003)->sens, DIS_SENS_CLI);
    ck_assert_uint_eq(stats().insns, 7);
    /* a patch of the mov at 2002 would cover the branch target 2003 */
    ck_assert(csam_range_has_target(c, 0x2002, 0x2007));
    ck_assert(!csam_range_has_target(c, 0x2004, 0x2007));
    ck_assert(csam_page_ready(c, 0x2000));
}
END_TEST

START_TEST(test_calls_and_ends)
{
    /* 3000: call 3010; jmp rax; 3010: jmp 3020; 3020: mov eax,cs; iretq */
    put(0x3000, "e80b000000"
                "ffe0");
    put(0x3010, "eb0e");
    put(0x3020, "8cc8"
                "48cf");
    /* 3100: ret far, and bytes that do not decode in 64-bit mode */
    put(0x3100, "06");
    ck_assert_int_eq(csam_scan(c, &mem, 0x3000, DIS_MODE_64, 100), CSAM_DONE);
    ck_assert_uint_eq(insn_at(0x3005)->flags, CSAM_INSN_INDIRECT | CSAM_INSN_END);
    ck_assert_int_eq(insn_at(0x3020)->sens, DIS_SENS_SEG_READ);
    ck_assert_int_eq(insn_at(0x3022)->sens, DIS_SENS_IRET);
    ck_assert(csam_is_insn_start(c, 0x3010));
    ck_assert(!csam_is_insn_start(c, 0x3012)); /* after the direct jmp: not followed */
    ck_assert(csam_range_has_target(c, 0x301f, 0x3021));
    ck_assert_uint_eq(stats().insns, 5);
    ck_assert_int_eq(csam_scan(c, &mem, 0x3100, DIS_MODE_64, 100), CSAM_DONE);
    ck_assert_uint_eq(insn_at(0x3100)->flags, CSAM_INSN_INVALID | CSAM_INSN_END);
    ck_assert_int_eq(insn_at(0x3100)->sens, DIS_SENS_UD);
    ck_assert_uint_eq(stats().invalid, 1);
    ck_assert_uint_eq(stats().sens[DIS_SENS_UD], 0); /* invalid bytes are not ud2 */
    ck_assert_int_eq(csam_scan(c, &mem, 0x3100, (enum dis_mode)8, 100), CSAM_BADARG);
    ck_assert_int_eq(csam_scan(c, &mem, 0x3100, DIS_MODE_64, 0), CSAM_BADARG);
}
END_TEST

START_TEST(test_page_crossing)
{
    /* linear page 1 -> physical 5, linear page 2 -> physical 3: code at
     * 0x1ffe (mov eax,imm32) continues on physical page 3 */
    tm->map[1] = 5;
    tm->map[2] = 3;
    put(0x1ffe, "b8fa909090"
                "fa"
                "c3");
    ck_assert_int_eq(csam_scan(c, &mem, 0x1ffe, DIS_MODE_64, 100), CSAM_DONE);
    ck_assert(insn_at(0x5ffe)->flags & CSAM_INSN_CROSS);
    ck_assert_uint_eq(stats().cross, 1);
    ck_assert(csam_is_insn_start(c, 0x3003));
    ck_assert(!csam_is_insn_start(c, 0x3000)); /* the tail of the mov */
    ck_assert_int_eq(insn_at(0x3003)->sens, DIS_SENS_CLI);
    ck_assert(csam_page_ready(c, 0x5000) && csam_page_ready(c, 0x3000));
    /* a write to the second page drops both: the mov's bytes changed */
    csam_page_written(c, 0x3abc);
    ck_assert(!csam_page_scanned(c, 0x3000));
    ck_assert(!csam_page_scanned(c, 0x5000));
    ck_assert_uint_eq(stats().pages_dropped, 2);
    ck_assert_uint_eq(stats().pages, 0);
    /* scanned again; a write to the first page drops only it */
    ck_assert_int_eq(csam_scan(c, &mem, 0x1ffe, DIS_MODE_64, 100), CSAM_DONE);
    csam_page_written(c, 0x5000);
    ck_assert(!csam_page_scanned(c, 0x5000));
    ck_assert(csam_page_scanned(c, 0x3000));
    /* the next page unmapped: the crossing instruction cannot be decoded */
    csam_reset(c);
    tm->map[2] = -1;
    ck_assert_int_eq(csam_scan(c, &mem, 0x1ffe, DIS_MODE_64, 100), CSAM_DONE);
    ck_assert(!csam_is_insn_start(c, 0x5ffe));
    ck_assert(!csam_page_ready(c, 0x5000));
    ck_assert_uint_eq(stats().unmapped, 1);
}
END_TEST

START_TEST(test_self_modifying)
{
    put(0x4000, "fa"
                "c3");
    ck_assert_int_eq(csam_scan(c, &mem, 0x4000, DIS_MODE_64, 100), CSAM_DONE);
    ck_assert_int_eq(insn_at(0x4000)->sens, DIS_SENS_CLI);
    /* the guest writes its code: the record goes, the rescan sees the new bytes */
    put(0x4000, "90");
    csam_page_written(c, 0x4000);
    ck_assert(!csam_page_scanned(c, 0x4000));
    ck_assert(!csam_is_insn_start(c, 0x4000));
    csam_page_written(c, 0x4000); /* no record: nothing happens */
    ck_assert_uint_eq(stats().pages_dropped, 1);
    ck_assert_int_eq(csam_scan(c, &mem, 0x4000, DIS_MODE_64, 100), CSAM_DONE);
    ck_assert_ptr_null(insn_at(0x4000));
    ck_assert_uint_eq(stats().sens[DIS_SENS_CLI], 1); /* counted once, at the first scan */
    /* a write to another page leaves this one */
    csam_page_written(c, 0x6000);
    ck_assert(csam_page_ready(c, 0x4000));
}
END_TEST

START_TEST(test_budget)
{
    /* 100 nops with a forward jcc at the start, then ret */
    put(0x5000, "7464");
    for (int i = 0; i < 100; i++)
        put(0x5002 + (uint64_t)i, "90");
    put(0x5066, "c3");
    int rc = csam_scan(c, &mem, 0x5000, DIS_MODE_64, 10), calls = 1;
    ck_assert_int_eq(rc, CSAM_MORE);
    ck_assert_uint_eq(stats().insns, 10);
    ck_assert(!csam_page_ready(c, 0x5000)); /* work queued from it */
    while (rc == CSAM_MORE) {
        rc = csam_resume(c, &mem, 10);
        calls++;
        ck_assert_int_le(calls, 20);
    }
    ck_assert_int_eq(rc, CSAM_DONE);
    ck_assert_uint_eq(stats().insns, 102);
    ck_assert_int_eq(calls, 11);
    ck_assert_uint_eq(stats().budget_stops, 10);
    ck_assert(csam_page_ready(c, 0x5000));
    ck_assert(csam_is_insn_start(c, 0x5066));
    ck_assert_int_eq(csam_resume(c, &mem, 10), CSAM_DONE);
}
END_TEST

/* A queued target whose page is dropped before it is scanned is still a
 * branch target when the page is scanned again. */
START_TEST(test_queued_target_dropped)
{
    put(0x1000, "0f84fb0f0000"
                "c3"); /* je 0x2001; ret */
    put(0x2001, "9090c3");
    ck_assert_int_eq(csam_scan(c, &mem, 0x1000, DIS_MODE_64, 1), CSAM_MORE);
    ck_assert(csam_range_has_target(c, 0x2000, 0x2003));
    csam_page_written(c, 0x2000);
    ck_assert(!csam_range_has_target(c, 0x2000, 0x2003));
    ck_assert_int_eq(csam_resume(c, &mem, 100), CSAM_DONE);
    ck_assert(csam_range_has_target(c, 0x2000, 0x2003));
    ck_assert(csam_is_insn_start(c, 0x2003));
    ck_assert(csam_page_ready(c, 0x1000) && csam_page_ready(c, 0x2000));
}
END_TEST

START_TEST(test_unmapped)
{
    tm->map[6] = -1;
    ck_assert_int_eq(csam_scan(c, &mem, 0x6000, DIS_MODE_64, 100), CSAM_UNMAPPED);
    /* a branch into an unmapped page ends that path only */
    put(0x1000, "0f84fb4f0000"
                "c3"); /* je 0x6001 */
    ck_assert_int_eq(csam_scan(c, &mem, 0x1000, DIS_MODE_64, 100), CSAM_DONE);
    ck_assert_uint_eq(stats().unmapped, 1);
    ck_assert(csam_page_ready(c, 0x1000));
}
END_TEST

START_TEST(test_ignore_policy)
{
    csam_destroy(c);
    struct csam_config cfg = {.ignore = 1u << DIS_SENS_TSC};
    ck_assert_int_eq(csam_create(&cfg, &c), CAP_OK);
    put(0x1000, "0f31"
                "fa"
                "c3");
    ck_assert_int_eq(csam_scan(c, &mem, 0x1000, DIS_MODE_64, 100), CSAM_DONE);
    ck_assert_ptr_null(insn_at(0x1000));
    ck_assert_uint_eq(stats().sens[DIS_SENS_TSC], 0);
    ck_assert_uint_eq(stats().sens[DIS_SENS_CLI], 1);
}
END_TEST

START_TEST(test_limits)
{
    csam_destroy(c);
    struct csam_config cfg = {.max_pages = 2, .max_pending = 1};
    ck_assert_int_eq(csam_create(&cfg, &c), CAP_OK);
    /* page 1 jumps to page 2, which jumps to page 3: the third page is one too many */
    put(0x1000, "e9fb0f0000"); /* jmp 0x2000 */
    put(0x2000, "e9fb0f0000"); /* jmp 0x3000 */
    put(0x3000, "c3");
    ck_assert_int_eq(csam_scan(c, &mem, 0x1000, DIS_MODE_64, 100), CSAM_DONE);
    ck_assert_uint_eq(stats().limits, 1);
    ck_assert(csam_page_ready(c, 0x1000));
    ck_assert(!csam_page_ready(c, 0x2000)); /* its jump leads nowhere scanned */
    ck_assert(!csam_page_scanned(c, 0x3000));
    /* one queue slot for two conditional branches */
    csam_reset(c);
    put(0x1000, "7410"
                "7410"
                "c3");
    ck_assert_int_eq(csam_scan(c, &mem, 0x1000, DIS_MODE_64, 100), CSAM_DONE);
    ck_assert_uint_ge(stats().limits, 2);
    ck_assert(!csam_page_ready(c, 0x1000));
    /* a page reached in another mode */
    csam_reset(c);
    put(0x1000, "c3");
    ck_assert_int_eq(csam_scan(c, &mem, 0x1000, DIS_MODE_64, 100), CSAM_DONE);
    ck_assert_int_eq(csam_scan(c, &mem, 0x1001, DIS_MODE_32, 100), CSAM_DONE);
    ck_assert(!csam_page_ready(c, 0x1000));
    struct csam_config bad = {.max_pages = 1u << 25};
    struct csam *x = (struct csam *)1;
    ck_assert_int_eq(csam_create(&bad, &x), CAP_E_INVALIDARG);
    ck_assert_ptr_null(x);
}
END_TEST

START_TEST(test_stats_registry)
{
    struct stam *st;
    ck_assert_int_eq(stam_create(&st), CAP_OK);
    ck_assert_int_eq(csam_register_stats(c, st), CAP_OK);
    put(0x1000, "fa"
                "fa"
                "0f0b");
    ck_assert_int_eq(csam_scan(c, &mem, 0x1000, DIS_MODE_64, 100), CSAM_DONE);
    ck_assert_uint_eq(stam_value(st, "/CSAM/Sensitive/cli"), 2);
    ck_assert_uint_eq(stam_value(st, "/CSAM/Sensitive/ud"), 1);
    ck_assert_uint_eq(stam_value(st, "/CSAM/Insns"), 3);
    ck_assert_uint_eq(stam_value(st, "/CSAM/PagesScanned"), 1);
    ck_assert_uint_eq(stam_value(st, "/CSAM/Pages"), 1);
    csam_deregister_stats(c, st);
    ck_assert(!stam_get(st, "/CSAM/Insns", &(struct stam_value){0}));
    stam_destroy(st);
}
END_TEST

/* CSAM over PGM: paging off (linear = physical), 32-bit code in RAM, and
 * an MMIO page that must never be read. */
static cap_result mmio_read(void *user, uint64_t off, void *data, unsigned size)
{
    (*(int *)user)++;
    memset(data, 0xfa, size);
    return CAP_OK;
}

static cap_result mmio_write(void *user, uint64_t off, const void *data, unsigned size)
{
    return CAP_OK;
}

START_TEST(test_pgm_memory)
{
    struct pgm *pgm;
    ck_assert_int_eq(pgm_create(&pgm), CAP_OK);
    ck_assert_int_eq(pgm_map_ram(pgm, 0, 0x10000, "ram"), CAP_OK);
    static const uint8_t code[] = {0xfa, 0xe4, 0x60, 0xe9,
                                   0xf8, 0x1f, 0x01, 0x00}; /* cli; in al,0x60; jmp 0x12000 */
    ck_assert_int_eq(pgm_phys_write(pgm, 0x8000, code, sizeof(code)), CAP_OK);
    int mmio_reads = 0;
    struct pgm_mmio_ops ops = {.read = mmio_read, .write = mmio_write};
    ck_assert_int_eq(pgm_map_mmio(pgm, 0x10000, 0x4000, &ops, &mmio_reads, "mmio"), CAP_OK);
    struct pgm_paging pg = {.phys_addr_bits = 36};
    struct csam_pgm_mem ctx;
    struct csam_mem pm;
    csam_mem_pgm(&pm, &ctx, pgm, &pg);
    ck_assert_int_eq(csam_scan(c, &pm, 0x8000, DIS_MODE_32, 100), CSAM_DONE);
    ck_assert_int_eq(insn_at(0x8000)->sens, DIS_SENS_CLI);
    ck_assert_int_eq(insn_at(0x8001)->sens, DIS_SENS_IO);
    ck_assert_uint_eq(stats().unmapped, 1); /* the jump into MMIO */
    ck_assert_int_eq(mmio_reads, 0);
    pgm_destroy(pgm);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("csam");
    TCase *t = tcase_create("scan");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, test_loop_and_sensitive);
    tcase_add_test(t, test_overlapping_paths);
    tcase_add_test(t, test_calls_and_ends);
    tcase_add_test(t, test_page_crossing);
    tcase_add_test(t, test_self_modifying);
    tcase_add_test(t, test_budget);
    tcase_add_test(t, test_queued_target_dropped);
    tcase_add_test(t, test_unmapped);
    tcase_add_test(t, test_ignore_policy);
    tcase_add_test(t, test_limits);
    tcase_add_test(t, test_stats_registry);
    tcase_add_test(t, test_pgm_memory);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
