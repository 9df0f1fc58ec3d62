/*
 * test_flat.c - flat binaries in real, protected and long mode; the probe
 * and flat fallback; the bad cases.
 */
#include <stdlib.h>

#include "loader_test.h"

static uint8_t blob[512];

static void fill_blob(void)
{
    for (unsigned i = 0; i < sizeof(blob); i++)
        blob[i] = (uint8_t)(i ^ 0x5c);
}

START_TEST(flat_real)
{
    struct tvm vm;
    fill_blob();
    tvm_init(&vm, 16 * MiB, 0);
    ck_assert_int_eq(load_buf(&vm, blob, sizeof(blob), LOADER_FLAT, LOADER_ENTRY_REAL, NULL,
                              NULL, 0),
                     CAP_OK);
    ck_assert_mem_eq(gp(&vm, 0x7c00, sizeof(blob)), blob, sizeof(blob));
    struct cpum_ctx *c = &vm.cpu.ctx;
    ck_assert_uint_eq(c->seg[CPUM_CS].sel, 0);
    ck_assert_uint_eq(c->seg[CPUM_CS].base, 0);
    ck_assert_uint_eq(c->rip, 0x7c00);
    ck_assert_uint_eq(c->gpr[CPUM_RSP], 0x7c00);
    ck_assert(!(c->cr0 & CR0_PE));
    ck_assert_uint_eq(*gp(&vm, 0x510, 1), 0); /* no GDT in real mode */
    tvm_fini(&vm);

    /* above 64 KiB: CS:IP = (addr >> 4):(addr & 0xf) */
    tvm_init(&vm, 16 * MiB, 0);
    struct loader_params p = { .kernel_buf = blob, .kernel_len = sizeof(blob),
                               .format = LOADER_FLAT, .entry = LOADER_ENTRY_REAL,
                               .flat_addr = 0x12345 };
    ck_assert_int_eq(loader_load(vm.pgm, &vm.cpu, &p, NULL), CAP_OK);
    ck_assert_uint_eq(vm.cpu.ctx.seg[CPUM_CS].sel, 0x1234);
    ck_assert_uint_eq(vm.cpu.ctx.seg[CPUM_CS].base, 0x12340);
    ck_assert_uint_eq(vm.cpu.ctx.rip, 5);
    ck_assert_mem_eq(gp(&vm, 0x12345, sizeof(blob)), blob, sizeof(blob));
    tvm_fini(&vm);
}
END_TEST

START_TEST(flat_protected_long)
{
    struct tvm vm;
    fill_blob();
    tvm_init(&vm, 16 * MiB, 0);
    ck_assert_int_eq(load_buf(&vm, blob, sizeof(blob), LOADER_FLAT, LOADER_ENTRY_DEFAULT, "",
                              NULL, 0),
                     CAP_OK);
    ck_assert_mem_eq(gp(&vm, 0x100000, sizeof(blob)), blob, sizeof(blob));
    ck_assert_uint_eq(vm.cpu.ctx.rip, 0x100000);
    ck_assert(vm.cpu.ctx.cr0 & CR0_PE);
    ck_assert_uint_eq(vm.cpu.ctx.seg[CPUM_CS].sel, 0x10);
    ck_assert_int_eq(vm.info.entry, LOADER_ENTRY_PROTECTED);
    tvm_fini(&vm);

    tvm_init(&vm, 16 * MiB, 0);
    ck_assert_int_eq(load_buf(&vm, blob, sizeof(blob), LOADER_FLAT, LOADER_ENTRY_LONG, NULL,
                              NULL, 0),
                     CAP_OK);
    struct cpum_ctx *c = &vm.cpu.ctx;
    ck_assert_uint_eq(c->rip, 0x100000);
    ck_assert(c->seg[CPUM_CS].attr & CPUM_SEG_L);
    ck_assert(c->msr.efer & EFER_LMA);
    ck_assert_uint_eq(c->cr3, 0x30000);
    /* 4 GiB mapped even with 16 MiB of RAM */
    ck_assert_uint_eq(vm.info.pgtable_size, 6 * 4096);
    struct pgm_paging pg;
    struct pgm_walk w;
    pgm_paging_from_ctx(&pg, &vm.cpu);
    ck_assert_int_eq(pgm_walk(vm.pgm, &pg, 0xfee00000, PGM_ACC_READ | PGM_ACC_NO_AD, &w), CAP_OK);
    ck_assert_uint_eq(w.gpa, 0xfee00000);
    tvm_fini(&vm);
}
END_TEST

START_TEST(flat_probe)
{
    struct tvm vm;
    fill_blob();
    ck_assert_int_eq(loader_probe(blob, sizeof(blob)), LOADER_UNKNOWN);
    ck_assert_int_eq(loader_probe(NULL, 0), LOADER_UNKNOWN);
    ck_assert_str_eq(loader_format_name(LOADER_MULTIBOOT), "multiboot");
    ck_assert_str_eq(loader_entry_name(LOADER_ENTRY_LONG), "long");
    tvm_init(&vm, 16 * MiB, 0);
    ck_assert_int_eq(load_buf(&vm, blob, sizeof(blob), LOADER_UNKNOWN, 0, NULL, NULL, 0),
                     VMM_E_LOADER_BAD_IMAGE);
    ck_assert_msg_has("not a bootable image");
    assert_untouched(&vm);
    struct loader_params p = { .kernel_buf = blob, .kernel_len = sizeof(blob),
                               .flat_fallback = 1 };
    ck_assert_int_eq(loader_load(vm.pgm, &vm.cpu, &p, &vm.info), CAP_OK);
    ck_assert_int_eq(vm.info.format, LOADER_FLAT);
    tvm_fini(&vm);
}
END_TEST

START_TEST(flat_bad)
{
    struct tvm vm;
    fill_blob();
    tvm_init(&vm, 2 * MiB, 0);
    ck_assert_int_eq(load_buf(&vm, blob, 0, LOADER_FLAT, 0, NULL, NULL, 0),
                     VMM_E_LOADER_BAD_IMAGE);
    ck_assert_msg_has("empty");
    ck_assert_int_eq(load_buf(&vm, blob, sizeof(blob), LOADER_FLAT, 0, NULL, blob, 10),
                     CAP_E_INVALIDARG);
    ck_assert_msg_has("initrd");
    ck_assert_int_eq(load_buf(&vm, blob, sizeof(blob), LOADER_FLAT, 0, "quiet", NULL, 0),
                     CAP_E_INVALIDARG);
    ck_assert_msg_has("takes no command line (got 'quiet'");
    ck_assert_msg_has("modifyvm --cmdline");
    uint8_t *big = calloc(1, 3 * MiB);
    ck_assert_int_eq(load_buf(&vm, big, 3 * MiB, LOADER_FLAT, 0, NULL, NULL, 0),
                     VMM_E_LOADER_NO_ROOM);
    ck_assert_msg_has("larger than guest RAM");
    ck_assert_int_eq(load_buf(&vm, big, 1536 * 1024, LOADER_FLAT, 0, NULL, NULL, 0),
                     VMM_E_LOADER_NO_ROOM);
    ck_assert_msg_has("not inside guest RAM");
    ck_assert_int_eq(load_buf(&vm, big, 0x99000, LOADER_FLAT, LOADER_ENTRY_REAL, NULL, NULL, 0),
                     VMM_E_LOADER_NO_ROOM);
    ck_assert_msg_has("not inside guest RAM");
    free(big);
    assert_untouched(&vm);
    tvm_fini(&vm);
}
END_TEST

TCase *tcase_flat(void)
{
    TCase *tc = tcase_create("flat");
    tcase_add_test(tc, flat_real);
    tcase_add_test(tc, flat_protected_long);
    tcase_add_test(tc, flat_probe);
    tcase_add_test(tc, flat_bad);
    return tc;
}
