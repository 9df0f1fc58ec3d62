/*
 * test_multiboot.c - multiboot v1: an ELF32 kernel (two PT_LOAD segments,
 * one with bss, virtual entry mapped to physical) and an a.out-kludge
 * kernel; the info block (memory, map, command line - the kernel's name
 * first, as GRUB and QEMU pass it -, module 0, loader name), the entry
 * state; then every class of bad image.
 */
#include <stdlib.h>

#include "loader_test.h"

#define ELF_LEN 0x1900u
#define MB_OFF  0x100u

static void mb_header(uint8_t *p, uint32_t flags)
{
    wr32(p, 0x1badb002);
    wr32(p + 4, flags);
    wr32(p + 8, (uint32_t)-(0x1badb002u + flags));
}

static void make_elf(uint8_t *img)
{
    memset(img, 0, ELF_LEN);
    memcpy(img, "\x7f" "ELF", 4);
    img[4] = 1; /* ELFCLASS32 */
    img[5] = 1; /* little-endian */
    img[6] = 1;
    wr16(img + 16, 2);  /* ET_EXEC */
    wr16(img + 18, 3);  /* EM_386 */
    wr32(img + 20, 1);
    wr32(img + 24, 0xc0200010); /* e_entry: virtual */
    wr32(img + 28, 52);         /* e_phoff */
    wr16(img + 40, 52);
    wr16(img + 42, 32);
    wr16(img + 44, 2);
    uint8_t *ph = img + 52;
    wr32(ph, 1);
    wr32(ph + 4, 0x1000);
    wr32(ph + 8, 0xc0200000);
    wr32(ph + 12, 0x200000);
    wr32(ph + 16, 0x800);
    wr32(ph + 20, 0x800);
    ph += 32;
    wr32(ph, 1);
    wr32(ph + 4, 0x1800);
    wr32(ph + 8, 0xc0201000);
    wr32(ph + 12, 0x201000);
    wr32(ph + 16, 0x100);
    wr32(ph + 20, 0x2000);
    mb_header(img + MB_OFF, 0x3);
    for (unsigned i = 0x1000; i < ELF_LEN; i++)
        img[i] = (uint8_t)(i * 13 + 5);
}

#define AOUT_LEN 0x900u
static void make_aout(uint8_t *img)
{
    memset(img, 0, AOUT_LEN);
    uint8_t *h = img + 0x40;
    mb_header(h, 0x10003);
    wr32(h + 12, 0x100040);  /* header_addr */
    wr32(h + 16, 0x100000);  /* load_addr */
    wr32(h + 20, 0x100800);  /* load_end_addr */
    wr32(h + 24, 0x102000);  /* bss_end_addr */
    wr32(h + 28, 0x100080);  /* entry_addr */
    for (unsigned i = 0x80; i < AOUT_LEN; i++)
        img[i] = (uint8_t)(i * 3 + 1);
}

START_TEST(mb_elf)
{
    struct tvm vm;
    static uint8_t img[ELF_LEN];
    static uint8_t initrd[5000];
    memset(initrd, 0xa5, sizeof(initrd));
    make_elf(img);
    tvm_init(&vm, 64 * MiB, 1);
    memset(gp(&vm, 0x201000, 0x2000), 0xee, 0x2000); /* bss must be zeroed */
    ck_assert_int_eq(load_buf(&vm, img, sizeof(img), LOADER_UNKNOWN, LOADER_ENTRY_DEFAULT,
                              "-v", initrd, sizeof(initrd)),
                     CAP_OK);
    ck_assert_int_eq(vm.info.format, LOADER_MULTIBOOT);
    ck_assert_mem_eq(gp(&vm, 0x200000, 0x800), img + 0x1000, 0x800);
    ck_assert_mem_eq(gp(&vm, 0x201000, 0x100), img + 0x1800, 0x100);
    uint8_t *bss = gp(&vm, 0x201100, 0x1f00);
    for (unsigned i = 0; i < 0x1f00; i++)
        ck_assert_uint_eq(bss[i], 0);
    ck_assert_uint_eq(vm.info.kernel_start, 0x200000);
    ck_assert_uint_eq(vm.info.kernel_end, 0x203000);

    /* entry state */
    struct cpum_ctx *c = &vm.cpu.ctx;
    ck_assert_uint_eq(c->rip, 0x200010);
    ck_assert_uint_eq(c->gpr[CPUM_RAX], 0x2badb002);
    ck_assert_uint_eq(c->gpr[CPUM_RBX], 0x7000);
    ck_assert(c->cr0 & CR0_PE);
    ck_assert(!(c->cr0 & CR0_PG));
    ck_assert(!(c->rflags & RFLAGS_IF));
    ck_assert(!(c->rflags & (1u << 17)));
    ck_assert(c->seg[CPUM_CS].attr & CPUM_SEG_DB);
    ck_assert_uint_eq(c->seg[CPUM_CS].limit, 0xffffffffu);
    ck_assert_uint_eq(c->seg[CPUM_CS].base, 0);
    for (unsigned s = 0; s < CPUM_SREG_COUNT; s++)
        if (s != CPUM_CS) {
            ck_assert_uint_eq(c->seg[s].limit, 0xffffffffu);
            ck_assert_uint_eq(c->seg[s].attr & 0xf, 3);
        }

    /* the info block */
    uint8_t *mbi = gp(&vm, 0x7000, 4096);
    uint32_t flags = rd32(mbi);
    ck_assert_uint_eq(flags, (1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9));
    ck_assert_uint_eq(rd32(mbi + 4), 639);
    ck_assert_uint_eq(rd32(mbi + 8), 63 * 1024);
    /* argv[0] is the kernel's name, then the user's command line */
    ck_assert_str_eq((char *)gp(&vm, rd32(mbi + 16), 16), "test-kernel -v");
    ck_assert_uint_eq(vm.info.cmdline_size, sizeof("test-kernel -v"));
    ck_assert_uint_eq(rd32(mbi + 20), 1);
    uint8_t *mod = gp(&vm, rd32(mbi + 24), 16);
    ck_assert_uint_eq(rd32(mod), 0x203000);
    ck_assert_uint_eq(rd32(mod + 4), 0x203000 + sizeof(initrd));
    ck_assert_str_eq((char *)gp(&vm, rd32(mod + 8), 12), "test-initrd");
    ck_assert_mem_eq(gp(&vm, 0x203000, sizeof(initrd)), initrd, sizeof(initrd));
    ck_assert_uint_eq(rd32(mbi + 44), 6 * 24);
    uint8_t *mm = gp(&vm, rd32(mbi + 48), 6 * 24);
    ck_assert_uint_eq(rd32(mm), 20);
    ck_assert_uint_eq(rd64(mm + 4), 0);
    ck_assert_uint_eq(rd64(mm + 12), 0x9fc00);
    ck_assert_uint_eq(rd32(mm + 20), 1);
    ck_assert_uint_eq(rd64(mm + 2 * 24 + 4), 0xa0000); /* the VGA window */
    ck_assert_uint_eq(rd32(mm + 2 * 24 + 20), 2);
    ck_assert_uint_eq(rd64(mm + 4 * 24 + 4), 0x100000);
    ck_assert_uint_eq(rd64(mm + 4 * 24 + 12), 63 * MiB);
    ck_assert_uint_eq(rd64(mm + 5 * 24 + 4), 0xfec00000);
    ck_assert_uint_eq(rd32(mm + 5 * 24 + 20), 2);
    ck_assert_str_eq((char *)gp(&vm, rd32(mbi + 64), 8), "Capsule");
    tvm_fini(&vm);
}
END_TEST

START_TEST(mb_aout)
{
    struct tvm vm;
    static uint8_t img[AOUT_LEN];
    make_aout(img);
    tvm_init(&vm, 16 * MiB, 0);
    memset(gp(&vm, 0x100800, 0x1800), 0xee, 0x1800);
    ck_assert_int_eq(load_buf(&vm, img, sizeof(img), LOADER_MULTIBOOT, LOADER_ENTRY_PROTECTED,
                              NULL, NULL, 0),
                     CAP_OK);
    ck_assert_mem_eq(gp(&vm, 0x100000, 0x800), img, 0x800);
    uint8_t *bss = gp(&vm, 0x100800, 0x1800);
    for (unsigned i = 0; i < 0x1800; i++)
        ck_assert_uint_eq(bss[i], 0);
    ck_assert_uint_eq(vm.cpu.ctx.rip, 0x100080);
    ck_assert_uint_eq(vm.cpu.ctx.gpr[CPUM_RAX], 0x2badb002);
    uint8_t *mbi = gp(&vm, 0x7000, 4096);
    ck_assert(!(rd32(mbi) & (1u << 3))); /* no modules */
    ck_assert(rd32(mbi) & (1u << 2));    /* no options: the kernel's name alone */
    ck_assert_str_eq((char *)gp(&vm, rd32(mbi + 16), 12), "test-kernel");
    ck_assert_uint_eq(rd32(mbi + 8), 15 * 1024);
    ck_assert_ptr_nonnull(strstr(vm.info.description, "a.out"));
    tvm_fini(&vm);
}
END_TEST

static void expect_bad(uint8_t *img, size_t len, uint64_t ram, size_t initrd_len,
                       cap_result want, const char *msg)
{
    struct tvm vm;
    uint8_t *initrd = initrd_len ? calloc(1, initrd_len) : NULL;
    tvm_init(&vm, ram, 0);
    cap_result rc = load_buf(&vm, img, len, LOADER_MULTIBOOT, LOADER_ENTRY_DEFAULT, "x", initrd,
                             initrd_len);
    ck_assert_msg(rc == want, "rc 0x%x, want 0x%x (%s)", (unsigned)rc, (unsigned)want, last_msg);
    ck_assert_msg_has(msg);
    ck_assert_msg_has("test-kernel");
    assert_untouched(&vm);
    free(initrd);
    tvm_fini(&vm);
}

START_TEST(mb_bad)
{
    static uint8_t img[ELF_LEN], a[AOUT_LEN];
    const uint64_t R = 64 * MiB;

    make_elf(img);
    wr32(img + MB_OFF + 8, 0x12345678);
    expect_bad(img, ELF_LEN, R, 0, VMM_E_LOADER_BAD_IMAGE, "checksum mismatch");
    make_elf(img);
    memset(img + MB_OFF, 0, 12);
    expect_bad(img, ELF_LEN, R, 0, VMM_E_LOADER_BAD_IMAGE, "no multiboot header");
    make_elf(img);
    mb_header(img + MB_OFF, 0x23);
    expect_bad(img, ELF_LEN, R, 0, VMM_E_LOADER_BAD_IMAGE, "0x0020");
    make_elf(img); /* overlapping segments */
    wr32(img + 52 + 32 + 12, 0x200400);
    expect_bad(img, ELF_LEN, R, 0, VMM_E_LOADER_BAD_IMAGE, "overlaps");
    make_elf(img); /* segment outside RAM */
    wr32(img + 52 + 32 + 12, 0x10000000);
    expect_bad(img, ELF_LEN, R, 0, VMM_E_LOADER_NO_ROOM, "not inside guest RAM");
    make_elf(img); /* segment over the loader's info block */
    wr32(img + 52 + 32 + 12, 0x7000);
    expect_bad(img, ELF_LEN, R, 0, VMM_E_LOADER_NO_ROOM, "overlaps");
    make_elf(img); /* truncated: segment 1's bytes missing */
    expect_bad(img, 0x1880, R, 0, VMM_E_LOADER_BAD_IMAGE, "truncated");
    make_elf(img);
    expect_bad(img, 40, R, 0, VMM_E_LOADER_BAD_IMAGE, "no multiboot header");
    make_elf(img);
    img[4] = 2;
    expect_bad(img, ELF_LEN, R, 0, VMM_E_LOADER_BAD_IMAGE, "ELF64");
    make_elf(img);
    wr32(img + 24, 0x5000000);
    expect_bad(img, ELF_LEN, R, 0, VMM_E_LOADER_BAD_IMAGE, "entry point");
    make_elf(img);
    memcpy(img, "NOPE", 4);
    expect_bad(img, ELF_LEN, R, 0, VMM_E_LOADER_BAD_IMAGE, "not ELF");
    make_elf(img); /* initrd too big */
    expect_bad(img, ELF_LEN, 8 * MiB, 7 * MiB, VMM_E_LOADER_NO_ROOM, "test-initrd");

    make_aout(a);
    wr32(a + 0x40 + 28, 0x200000);
    expect_bad(a, AOUT_LEN, R, 0, VMM_E_LOADER_BAD_IMAGE, "entry_addr");
    make_aout(a);
    wr32(a + 0x40 + 16, 0x0f0000); /* load_addr far before the header */
    expect_bad(a, AOUT_LEN, R, 0, VMM_E_LOADER_BAD_IMAGE, "before the start of the file");
    make_aout(a);
    wr32(a + 0x40 + 20, 0x101000); /* load_end past the file */
    expect_bad(a, AOUT_LEN, R, 0, VMM_E_LOADER_BAD_IMAGE, "truncated");
    make_aout(a);
    expect_bad(a, 0x50, R, 0, VMM_E_LOADER_BAD_IMAGE, "truncated multiboot header");
    make_aout(a); /* larger than RAM */
    wr32(a + 0x40 + 24, 0x4000000);
    expect_bad(a, AOUT_LEN, 8 * MiB, 0, VMM_E_LOADER_NO_ROOM, "not inside guest RAM");
}
END_TEST

TCase *tcase_multiboot(void)
{
    TCase *tc = tcase_create("multiboot");
    tcase_add_test(tc, mb_elf);
    tcase_add_test(tc, mb_aout);
    return tc;
}

TCase *tcase_multiboot_bad(void)
{
    TCase *tc = tcase_create("multiboot_bad");
    tcase_add_test(tc, mb_bad);
    return tc;
}
