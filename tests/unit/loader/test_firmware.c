/*
 * test_firmware.c - loader_load_firmware: the BIOS image as ROM below
 * 4 GiB and its last 128 KiB in the legacy area, the power-on state,
 * the reset path (mapped once), bad images.
 */
#include <stdlib.h>

#include <capsule/errorinfo.h>

#include "loader_test.h"

static cap_result load_fw(struct tvm *vm, const void *img, size_t len)
{
    struct loader_params p = {.kernel_buf = img, .kernel_len = len, .kernel_name = "bios.bin"};
    cap_result rc = loader_load_firmware(vm->pgm, &vm->cpu, &p, &vm->info);
    last_msg[0] = '\0';
    if (CAP_FAILED(rc))
        take_message(); /* into last_msg */
    return rc;
}

/* A 256 KiB image: each 64 KiB block filled with its index, a far jump
 * at the reset vector. */
static uint8_t *make_bios(size_t len)
{
    uint8_t *b = malloc(len);
    ck_assert_ptr_nonnull(b);
    for (size_t i = 0; i < len; i++)
        b[i] = (uint8_t)(i >> 16);
    static const uint8_t jmp[] = {0xea, 0x5b, 0xe0, 0x00, 0xf0};
    memcpy(b + len - 16, jmp, sizeof(jmp));
    return b;
}

START_TEST(test_maps_rom_and_legacy_copy)
{
    struct tvm vm;
    tvm_init(&vm, 16 * MiB, 1);
    size_t len = 256 * 1024;
    uint8_t *bios = make_bios(len);
    vm.cpu.ctx.rip = 0x1234; /* not the reset state before */
    ck_assert_int_eq(load_fw(&vm, bios, len), CAP_OK);
    const struct pgm_range *r = pgm_find(vm.pgm, 0xfffffff0ull);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->kind, PGM_RANGE_ROM);
    ck_assert_uint_eq(r->gpa, 0xfffc0000ull);
    ck_assert_uint_eq(r->size, len);
    ck_assert_mem_eq(r->hva, bios, len);
    /* the last 128 KiB at 0xe0000, in RAM */
    ck_assert_mem_eq(gp(&vm, 0xe0000, 0x20000), bios + len - 0x20000, 0x20000);
    ck_assert_uint_eq(gp(&vm, 0xe0000, 1)[0], 2);
    ck_assert_uint_eq(gp(&vm, 0xffff0, 1)[0], 0xea);
    /* power-on state: real mode, f000:fff0 with base ffff0000 */
    ck_assert_uint_eq(vm.cpu.ctx.seg[CPUM_CS].sel, 0xf000);
    ck_assert_uint_eq(vm.cpu.ctx.seg[CPUM_CS].base, 0xffff0000ull);
    ck_assert_uint_eq(vm.cpu.ctx.rip, 0xfff0);
    ck_assert_uint_eq(vm.cpu.ctx.cr0 & CR0_PE, 0);
    ck_assert_int_eq(vm.info.format, LOADER_FIRMWARE);
    ck_assert_uint_eq(vm.info.entry_point, 0xfffffff0ull);
    ck_assert_ptr_nonnull(strstr(vm.info.description, "256 KiB"));
    /* the reset path: loaded again, the ROM stays one range */
    unsigned n = pgm_range_count(vm.pgm);
    gp(&vm, 0xe0000, 1)[0] = 0x55; /* the guest wrote its shadow */
    ck_assert_int_eq(load_fw(&vm, bios, len), CAP_OK);
    ck_assert_uint_eq(pgm_range_count(vm.pgm), n);
    ck_assert_uint_eq(gp(&vm, 0xe0000, 1)[0], 2);
    free(bios);
    tvm_fini(&vm);
}
END_TEST

START_TEST(test_small_image_whole_in_legacy_area)
{
    struct tvm vm;
    tvm_init(&vm, 16 * MiB, 0);
    uint8_t *bios = make_bios(64 * 1024);
    ck_assert_int_eq(load_fw(&vm, bios, 64 * 1024), CAP_OK);
    ck_assert_mem_eq(gp(&vm, 0xf0000, 0x10000), bios, 0x10000);
    ck_assert_uint_eq(pgm_find(vm.pgm, 0xffff0000ull)->gpa, 0xffff0000ull);
    free(bios);
    tvm_fini(&vm);
}
END_TEST

START_TEST(test_bad_images)
{
    struct tvm vm;
    tvm_init(&vm, 16 * MiB, 0);
    uint8_t *bios = make_bios(256 * 1024);
    ck_assert_int_eq(load_fw(&vm, bios, 100000), VMM_E_LOADER_BAD_IMAGE);
    ck_assert_msg_has("multiple of 64 KiB");
    ck_assert_msg_has("bios.bin");
    ck_assert_int_eq(load_fw(&vm, bios, 0), VMM_E_LOADER_BAD_IMAGE);
    memset(bios + 256 * 1024 - 16, 0xff, 16); /* erased flash */
    ck_assert_int_eq(load_fw(&vm, bios, 256 * 1024), VMM_E_LOADER_BAD_IMAGE);
    ck_assert_msg_has("reset vector");
    ck_assert_ptr_null(pgm_find(vm.pgm, 0xfffffff0ull)); /* nothing mapped */
    free(bios);
    struct loader_params p = {.kernel_path = "/nonexistent/bios.bin"};
    ck_assert_int_eq(loader_load_firmware(vm.pgm, &vm.cpu, &p, NULL), CAP_E_IO);
    ck_assert_ptr_nonnull(strstr(take_message(), "/nonexistent/bios.bin"));
    tvm_fini(&vm);
}
END_TEST

START_TEST(test_needs_low_ram)
{
    struct tvm vm;
    tvm_init(&vm, 512 * 1024, 0); /* RAM ends below the legacy area */
    uint8_t *bios = make_bios(128 * 1024);
    ck_assert_int_eq(load_fw(&vm, bios, 128 * 1024), VMM_E_LOADER_NO_ROOM);
    ck_assert_msg_has("0xe0000");
    ck_assert_ptr_null(pgm_find(vm.pgm, 0xfffffff0ull));
    free(bios);
    tvm_fini(&vm);
}
END_TEST

TCase *tcase_firmware(void)
{
    TCase *tc = tcase_create("firmware");
    tcase_add_test(tc, test_maps_rom_and_legacy_copy);
    tcase_add_test(tc, test_small_image_whole_in_legacy_area);
    tcase_add_test(tc, test_bad_images);
    tcase_add_test(tc, test_needs_low_ram);
    return tc;
}
