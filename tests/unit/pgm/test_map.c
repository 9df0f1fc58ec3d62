/*
 * test_map.c - PGM's map and physical access: RAM/ROM/MMIO ranges, overlap
 * and alignment errors with their messages, listeners, reads and writes
 * that follow the map.
 */
#include <stdlib.h>
#include <string.h>

#include "pgm/pgm.h"
#include "pgm_test.h"

static struct pgm *pgm;

static void setup(void)
{
    ck_assert_int_eq(pgm_create(&pgm), CAP_OK);
}

static void teardown(void)
{
    pgm_destroy(pgm);
}

START_TEST(map_sorted_and_found)
{
    static const uint8_t bios[4] = {0xea, 0x5b, 0xe0, 0x00};
    ck_assert_int_eq(pgm_map_rom(pgm, 0xffff0000u, 0x10000, bios, sizeof(bios), "bios"), CAP_OK);
    ck_assert_int_eq(pgm_map_ram(pgm, 0, 0x200000, "ram"), CAP_OK);
    ck_assert_uint_eq(pgm_range_count(pgm), 2);
    ck_assert_uint_eq(pgm_range_at(pgm, 0)->gpa, 0);
    ck_assert_str_eq(pgm_range_at(pgm, 1)->name, "bios");
    ck_assert_ptr_eq(pgm_find(pgm, 0x1fffff), pgm_range_at(pgm, 0));
    ck_assert_ptr_null(pgm_find(pgm, 0x200000));
    ck_assert_ptr_eq(pgm_find(pgm, 0xffffffffu), pgm_range_at(pgm, 1));
    uint8_t *rom = pgm_gpa_to_hva(pgm, 0xffff0000u, 4, CAP_FALSE);
    ck_assert_ptr_nonnull(rom);
    ck_assert_mem_eq(rom, bios, 4);
    ck_assert_ptr_null(pgm_gpa_to_hva(pgm, 0xffff0000u, 4, CAP_TRUE)); /* ROM is not writable */
    ck_assert_ptr_null(pgm_gpa_to_hva(pgm, 0x1ffffe, 4, CAP_TRUE));    /* runs off the end */
    ck_assert_int_eq(pgm_unmap(pgm, 0), CAP_OK);
    ck_assert_uint_eq(pgm_range_count(pgm), 1);
    ck_assert_int_eq(pgm_unmap(pgm, 0), VMM_E_RANGE_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(take_message(), "0x0"));
}
END_TEST

static cap_result nop_read(void *o, uint64_t off, void *d, unsigned n)
{
    memset(d, 0, n);
    return CAP_OK;
}

static cap_result nop_write(void *o, uint64_t off, const void *d, unsigned n)
{
    return CAP_OK;
}

static const struct pgm_mmio_ops nop_ops = {.read = nop_read, .write = nop_write};

START_TEST(map_overlap_rejected)
{
    ck_assert_int_eq(pgm_map_ram(pgm, 0, 0x100000, "low"), CAP_OK);
    ck_assert_int_eq(pgm_map_mmio(pgm, 0xfee00000u, 0x1000, &nop_ops, NULL, "lapic"), CAP_OK);
    ck_assert_int_eq(pgm_map_ram(pgm, 0xff000, 0x2000, "late"), VMM_E_RANGE_OVERLAP);
    const char *m = take_message();
    ck_assert_msg(strstr(m, "'late'") && strstr(m, "'low'") && strstr(m, "0xff000"), "%s", m);
    ck_assert_int_eq(pgm_map_mmio(pgm, 0xfee00800u, 0x10, &nop_ops, NULL, "x"),
                     VMM_E_RANGE_OVERLAP);
    ck_assert_ptr_nonnull(strstr(take_message(), "'lapic'"));
    ck_assert_int_eq(pgm_map_rom(pgm, 0xfedff000u, 0x2000, NULL, 0, "rom"), VMM_E_RANGE_OVERLAP);
    /* Adjacent is fine. */
    ck_assert_int_eq(pgm_map_ram(pgm, 0x100000, 0x1000, "next"), CAP_OK);
    ck_assert_uint_eq(pgm_range_count(pgm), 3);
}
END_TEST

START_TEST(map_bad_arguments)
{
    ck_assert_int_eq(pgm_map_ram(pgm, 0x800, 0x1000, "odd"), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(take_message(), "page-aligned"));
    ck_assert_int_eq(pgm_map_ram(pgm, 0, 0, "empty"), CAP_E_INVALIDARG);
    ck_assert_int_eq(pgm_map_ram(pgm, 0xfffffffffffff000ull, 0x2000, "wrap"), CAP_E_INVALIDARG);
    ck_assert_int_eq(pgm_map_rom(pgm, 0, 0x1000, "x", 0x2000, "big"), CAP_E_INVALIDARG);
    ck_assert_int_eq(pgm_map_mmio(pgm, 0, 0x10, NULL, NULL, "noops"), CAP_E_POINTER);
    ck_assert_uint_eq(pgm_range_count(pgm), 0);
}
END_TEST

struct seen {
    unsigned added, removed;
    uint64_t last_gpa;
    cap_bool fail;
};

static cap_result on_change(void *opaque, const struct pgm_range *r, cap_bool added)
{
    struct seen *s = opaque;
    if (added && s->fail)
        return CAP_E_FAIL;
    *(added ? &s->added : &s->removed) += 1;
    s->last_gpa = r->gpa;
    return CAP_OK;
}

START_TEST(map_listeners)
{
    struct seen s = {0};
    struct pgm_listener l = {.changed = on_change, .opaque = &s};
    ck_assert_int_eq(pgm_map_ram(pgm, 0, 0x1000, "a"), CAP_OK);
    ck_assert_int_eq(pgm_map_mmio(pgm, 0x10000, 0x1000, &nop_ops, NULL, "m"), CAP_OK);
    ck_assert_int_eq(pgm_add_listener(pgm, &l), CAP_OK);
    ck_assert_uint_eq(s.added, 1); /* replayed, MMIO not announced */
    ck_assert_int_eq(pgm_map_rom(pgm, 0x20000, 0x1000, NULL, 0, "r"), CAP_OK);
    ck_assert_uint_eq(s.added, 2);
    ck_assert_uint_eq(s.last_gpa, 0x20000);
    ck_assert_int_eq(pgm_unmap(pgm, 0x20000), CAP_OK);
    ck_assert_uint_eq(s.removed, 1);
    s.fail = CAP_TRUE; /* a listener's failure undoes the mapping */
    ck_assert_int_eq(pgm_map_ram(pgm, 0x30000, 0x1000, "b"), CAP_E_FAIL);
    ck_assert_ptr_null(pgm_find(pgm, 0x30000));
    pgm_remove_listener(pgm, &l);
    ck_assert_int_eq(pgm_map_ram(pgm, 0x30000, 0x1000, "b"), CAP_OK);
}
END_TEST

/* An engine's dirty log (hm's KVM_GET_DIRTY_LOG): pages 3 and 70. */
static cap_result fake_log(void *opaque, const struct pgm_range *r, uint64_t *bits)
{
    unsigned *calls = opaque;
    (*calls)++;
    __atomic_fetch_or(&bits[0], 1ull << 3, __ATOMIC_RELAXED);
    __atomic_fetch_or(&bits[1], 1ull << 6, __ATOMIC_RELAXED);
    return CAP_OK;
}

static cap_result no_change(void *opaque, const struct pgm_range *r, cap_bool added)
{
    return CAP_OK;
}

START_TEST(map_external_dirty)
{
    enum { PAGES = 80 };
    uint8_t *mem = aligned_alloc(4096, PAGES * 4096);
    ck_assert_ptr_nonnull(mem);
    memset(mem, 0xaa, PAGES * 4096);
    /* bad host memory */
    ck_assert_int_eq(pgm_map_ram_external(pgm, 0x100000, 0x1000, NULL, 0, "x"), CAP_E_POINTER);
    ck_assert_int_eq(pgm_map_ram_external(pgm, 0x100000, 0x1000, mem + 1, 0, "x"), CAP_E_POINTER);
    ck_assert_int_eq(pgm_map_ram_external(pgm, 0x100000, 0x1800, mem, 0, "x"), CAP_E_INVALIDARG);
    ck_assert_int_eq(pgm_map_ram(pgm, 0, 0x100000, "ram"), CAP_OK);
    ck_assert_int_eq(pgm_map_ram_external(pgm, 0xff000, 0x2000, mem, 0, "x"), VMM_E_RANGE_OVERLAP);
    ck_assert_int_eq(
        pgm_map_ram_external(pgm, 0x100000, PAGES * 4096, mem, PGM_RAM_TRACK_DIRTY, "fb"), CAP_OK);
    const struct pgm_range *r = pgm_find(pgm, 0x100000);
    ck_assert_ptr_eq(r->hva, mem);
    ck_assert_uint_eq(mem[0], 0xaa); /* not cleared: the owner's contents */
    /* all dirty at first, then nothing */
    uint64_t bits[2] = {0, 0};
    ck_assert_int_eq(pgm_dirty_collect(pgm, 0x100000, bits, PAGES), CAP_OK);
    ck_assert_uint_eq(bits[0], ~0ull);
    ck_assert_uint_eq(bits[1], (1ull << (PAGES - 64)) - 1);
    ck_assert_int_eq(pgm_dirty_collect(pgm, 0x100000, bits, PAGES), CAP_OK);
    ck_assert_uint_eq(bits[0] | bits[1], 0);
    /* writers: physical writes (one spanning two pages), DMA-style marks */
    uint32_t v = 0x12345678;
    ck_assert_int_eq(pgm_phys_write(pgm, 0x100000 + 5 * 4096 - 2, &v, 4), CAP_OK);
    pgm_dirty_mark(pgm, 0x100000 + 65 * 4096, 1);
    pgm_dirty_mark(pgm, 0x50000, 4096); /* untracked RAM: nothing */
    ck_assert_int_eq(pgm_phys_write(pgm, 0x50000, &v, 4), CAP_OK);
    ck_assert_int_eq(pgm_dirty_collect(pgm, 0x100000, bits, PAGES), CAP_OK);
    ck_assert_uint_eq(bits[0], 1ull << 4 | 1ull << 5);
    ck_assert_uint_eq(bits[1], 1ull << 1);
    /* fewer pages asked for: the rest stays for later */
    pgm_dirty_mark(pgm, 0x100000 + 2 * 4096, 4096);
    pgm_dirty_mark(pgm, 0x100000 + 9 * 4096, 4096);
    bits[0] = 0;
    ck_assert_int_eq(pgm_dirty_collect(pgm, 0x100000, bits, 8), CAP_OK);
    ck_assert_uint_eq(bits[0], 1ull << 2);
    ck_assert_int_eq(pgm_dirty_collect(pgm, 0x100000, bits, PAGES), CAP_OK);
    ck_assert_uint_eq(bits[0], 1ull << 9);
    /* an engine's log is merged in */
    unsigned calls = 0;
    struct pgm_listener l = {.changed = no_change, .opaque = &calls, .dirty_log = fake_log};
    ck_assert_int_eq(pgm_add_listener(pgm, &l), CAP_OK);
    ck_assert_int_eq(pgm_dirty_collect(pgm, 0x100000, bits, PAGES), CAP_OK);
    ck_assert_uint_eq(calls, 1);
    ck_assert_uint_eq(bits[0], 1ull << 3);
    ck_assert_uint_eq(bits[1], 1ull << 6);
    pgm_remove_listener(pgm, &l);
    /* untracked or unknown ranges */
    ck_assert_int_eq(pgm_dirty_collect(pgm, 0, bits, 1), VMM_E_RANGE_NOT_FOUND);
    ck_assert_int_eq(pgm_dirty_collect(pgm, 0x101000, bits, 1), VMM_E_RANGE_NOT_FOUND);
    take_message();
    /* unmapping leaves the owner's memory alone (ASan: no double free) */
    ck_assert_int_eq(pgm_unmap(pgm, 0x100000), CAP_OK);
    ck_assert_uint_eq(mem[4 * 4096 + 4094], 0x78);
    free(mem);
}
END_TEST

TCase *tcase_map(void)
{
    TCase *tc = tcase_create("map");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, map_sorted_and_found);
    tcase_add_test(tc, map_overlap_rejected);
    tcase_add_test(tc, map_bad_arguments);
    tcase_add_test(tc, map_listeners);
    tcase_add_test(tc, map_external_dirty);
    return tc;
}

/* ---- physical access ---- */

struct dev {
    uint8_t regs[64];
    unsigned reads, writes;
    uint64_t last_off;
    unsigned last_size;
};

static cap_result dev_read(void *o, uint64_t off, void *d, unsigned n)
{
    struct dev *dv = o;
    dv->reads++, dv->last_off = off, dv->last_size = n;
    memcpy(d, dv->regs + off, n);
    return CAP_OK;
}

static cap_result dev_write(void *o, uint64_t off, const void *d, unsigned n)
{
    struct dev *dv = o;
    dv->writes++, dv->last_off = off, dv->last_size = n;
    memcpy(dv->regs + off, d, n);
    return off == 60 ? CAP_E_IO : CAP_OK;
}

static const struct pgm_mmio_ops dev_ops = {.read = dev_read, .write = dev_write};

START_TEST(phys_ram_rom_unassigned)
{
    static const char img[] = "ROMDATA";
    ck_assert_int_eq(pgm_map_ram(pgm, 0x1000, 0x2000, "ram"), CAP_OK);
    ck_assert_int_eq(pgm_map_rom(pgm, 0x4000, 0x1000, img, sizeof(img), "rom"), CAP_OK);
    uint32_t v = 0xdeadbeef, r = 0;
    ck_assert_int_eq(pgm_phys_write(pgm, 0x1ffe, &v, 4), CAP_OK); /* inside one range */
    ck_assert_int_eq(pgm_phys_read(pgm, 0x1ffe, &r, 4), CAP_OK);
    ck_assert_uint_eq(r, 0xdeadbeef);
    ck_assert_int_eq(pgm_phys_write(pgm, 0x4000, "XX", 2), CAP_OK); /* ROM write ignored */
    char buf[8];
    ck_assert_int_eq(pgm_phys_read(pgm, 0x4000, buf, 8), CAP_OK);
    ck_assert_str_eq(buf, "ROMDATA");
    ck_assert_int_eq(pgm_phys_read(pgm, 0x8000, &r, 4), CAP_OK); /* unassigned */
    ck_assert_uint_eq(r, 0xffffffffu);
    ck_assert_int_eq(pgm_phys_write(pgm, 0x8000, &v, 4), CAP_OK);
    /* Spanning RAM end -> unassigned gap -> ROM start. */
    uint8_t span[0x1004];
    ck_assert_int_eq(pgm_phys_read(pgm, 0x2ffe, span, sizeof(span)), CAP_OK);
    ck_assert_uint_eq(span[0], 0);
    ck_assert_uint_eq(span[2], 0xff);
    ck_assert_uint_eq(span[0x1001], 0xff);
    ck_assert_uint_eq(span[0x1002], 'R');
}
END_TEST

START_TEST(phys_mmio_dispatch)
{
    struct dev dv = {0};
    ck_assert_int_eq(pgm_map_ram(pgm, 0, 0x1000, "ram"), CAP_OK);
    ck_assert_int_eq(pgm_map_mmio(pgm, 0x1000, 64, &dev_ops, &dv, "dev"), CAP_OK);
    uint32_t v = 0x11223344, r = 0;
    ck_assert_int_eq(pgm_phys_write(pgm, 0x1008, &v, 4), CAP_OK);
    ck_assert_uint_eq(dv.writes, 1);
    ck_assert_uint_eq(dv.last_off, 8);
    ck_assert_uint_eq(dv.last_size, 4);
    ck_assert_int_eq(pgm_phys_read(pgm, 0x1008, &r, 4), CAP_OK);
    ck_assert_uint_eq(r, 0x11223344);
    ck_assert_uint_eq(dv.reads, 1);
    /* Unaligned 8 bytes at offset 2: pieces 2, 4, 2. */
    uint64_t q = 0x0807060504030201ull;
    ck_assert_int_eq(pgm_phys_write(pgm, 0x1002, &q, 8), CAP_OK);
    ck_assert_uint_eq(dv.writes, 4);
    ck_assert_uint_eq(dv.last_off, 8);
    ck_assert_uint_eq(dv.last_size, 2);
    ck_assert_uint_eq(dv.regs[2], 1);
    ck_assert_uint_eq(dv.regs[9], 8);
    /* A device failure comes back to the caller. */
    ck_assert_int_eq(pgm_phys_write(pgm, 0x103c, &v, 4), CAP_E_IO);
    /* Straddling RAM and MMIO. */
    dv.regs[0] = 1, dv.regs[1] = 2;
    ck_assert_int_eq(pgm_phys_read(pgm, 0xffe, &r, 4), CAP_OK);
    ck_assert_uint_eq(r >> 16, 0x0201);
}
END_TEST

TCase *tcase_phys(void)
{
    TCase *tc = tcase_create("phys");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, phys_ram_rom_unassigned);
    tcase_add_test(tc, phys_mmio_dispatch);
    return tc;
}
