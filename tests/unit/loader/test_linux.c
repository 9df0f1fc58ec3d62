/*
 * test_linux.c - the bzImage loader: a synthetic image (boot sector, one
 * setup sector, a patterned "kernel"), loaded with 64-bit and 32-bit entry;
 * boot_params, e820, command line, initrd placement, page tables, GDT and
 * the vCPU state are checked; then every class of bad image.
 */
#include <stdlib.h>

#include "loader_test.h"

#define PM_LEN 8192u
#define BZ_LEN (1024u + PM_LEN)

struct bzopt {
    uint16_t version;
    uint16_t xloadflags;
    uint32_t cmdline_size, initrd_max, init_size;
    uint64_t pref;
};

static const struct bzopt bz_default = { 0x020f, 0x3, 2047, 0x7fffffff, 0x200000, 0x1000000 };

static void make_bz(uint8_t *img, const struct bzopt *o)
{
    memset(img, 0, BZ_LEN);
    img[0x1f1] = 1; /* setup_sects */
    wr32(img + 0x1f4, PM_LEN / 16);
    wr16(img + 0x1fe, 0xaa55);
    img[0x200] = 0xeb;
    img[0x201] = 0x66; /* header ends at 0x268 */
    memcpy(img + 0x202, "HdrS", 4);
    wr16(img + 0x206, o->version);
    img[0x211] = 0x01; /* LOADED_HIGH */
    wr32(img + 0x214, 0x100000);
    wr32(img + 0x22c, o->initrd_max);
    wr32(img + 0x230, 0x200000);
    img[0x234] = 1;
    wr16(img + 0x236, o->xloadflags);
    wr32(img + 0x238, o->cmdline_size);
    wr64(img + 0x258, o->pref);
    wr32(img + 0x260, o->init_size);
    for (unsigned i = 0; i < PM_LEN; i++)
        img[1024 + i] = (uint8_t)(i * 7 + 1);
}

START_TEST(linux_64bit)
{
    struct tvm vm;
    static uint8_t img[BZ_LEN];
    static uint8_t initrd[65536];
    memset(initrd, 0x5a, sizeof(initrd));
    make_bz(img, &bz_default);
    tvm_init(&vm, 64 * MiB, 1);
    ck_assert_int_eq(load_buf(&vm, img, sizeof(img), LOADER_UNKNOWN, LOADER_ENTRY_DEFAULT,
                              "console=ttyS0 quiet", initrd, sizeof(initrd)),
                     CAP_OK);
    struct loader_info *in = &vm.info;
    ck_assert_int_eq(in->format, LOADER_LINUX);
    ck_assert_int_eq(in->entry, LOADER_ENTRY_LONG);
    ck_assert_uint_eq(in->linux_version, 0x020f);
    ck_assert_uint_eq(in->entry_point, 0x100200);
    ck_assert_uint_eq(in->kernel_end, 0x1200000);
    ck_assert_uint_eq(in->initrd_start, 64 * MiB - 65536);
    ck_assert_ptr_nonnull(strstr(in->description, "2.15"));

    /* the kernel and the initrd */
    ck_assert_mem_eq(gp(&vm, 0x100000, PM_LEN), img + 1024, PM_LEN);
    ck_assert_mem_eq(gp(&vm, in->initrd_start, sizeof(initrd)), initrd, sizeof(initrd));

    /* boot_params */
    uint8_t *bp = gp(&vm, 0x7000, 4096);
    ck_assert_uint_eq(rd16(bp + 0x1fe), 0xaa55);
    ck_assert_mem_eq(bp + 0x202, "HdrS", 4);
    ck_assert_uint_eq(rd16(bp + 0x206), 0x020f);
    ck_assert_uint_eq(bp[0x1f1], 1);
    ck_assert_uint_eq(bp[0x210], 0xff);
    ck_assert_uint_eq(bp[0x211], 0x81);
    ck_assert_uint_eq(rd16(bp + 0x224), 0xde00);
    ck_assert_uint_eq(rd32(bp + 0x228), 0x20000);
    ck_assert_str_eq((char *)gp(&vm, 0x20000, 20), "console=ttyS0 quiet");
    ck_assert_uint_eq(rd32(bp + 0x218), in->initrd_start);
    ck_assert_uint_eq(rd32(bp + 0x21c), sizeof(initrd));
    ck_assert_uint_eq(rd32(bp + 0x0c0), 0);
    ck_assert_uint_eq(rd32(bp + 0x0c4), 0);
    ck_assert_uint_eq(rd32(bp + 0x214), 0x100000);
    ck_assert_uint_eq(rd32(bp + 0x1e0), (64 * MiB - MiB) / 1024);

    /* e820: RAM, EBDA, BIOS, RAM from 1 MiB, the MMIO page */
    ck_assert_uint_eq(bp[0x1e8], 5);
    static const uint64_t want[5][3] = {
        { 0, 0x9fc00, 1 },        { 0x9fc00, 0x400, 2 },          { 0xf0000, 0x10000, 2 },
        { 0x100000, 63 * MiB, 1 }, { 0xfec00000, 0x1000, 2 },
    };
    for (unsigned i = 0; i < 5; i++) {
        uint8_t *e = bp + 0x2d0 + i * 20;
        ck_assert_uint_eq(rd64(e), want[i][0]);
        ck_assert_uint_eq(rd64(e + 8), want[i][1]);
        ck_assert_uint_eq(rd32(e + 16), want[i][2]);
    }
    ck_assert_uint_eq(in->nmem, 5);

    /* GDT, page tables */
    ck_assert_uint_eq(rd64(gp(&vm, 0x510, 8)), 0x00af9b000000ffffull);
    ck_assert_uint_eq(rd64(gp(&vm, 0x518, 8)), 0x00cf93000000ffffull);
    ck_assert_uint_eq(rd64(gp(&vm, 0x30000, 8)), 0x31003);
    ck_assert_uint_eq(rd64(gp(&vm, 0x31000 + 3 * 8, 8)), 0x35003);
    ck_assert_uint_eq(rd64(gp(&vm, 0x32000 + 8, 8)), 0x200083);
    ck_assert_uint_eq(rd64(gp(&vm, 0x35000 + 511 * 8, 8)), 0xffe00083ull);
    ck_assert_uint_eq(in->pgtable_size, 6 * 4096);

    /* entry state */
    struct cpum_ctx *c = &vm.cpu.ctx;
    ck_assert_uint_eq(c->rip, 0x100200);
    ck_assert_uint_eq(c->gpr[CPUM_RSI], 0x7000);
    ck_assert_uint_eq(c->gpr[CPUM_RBX], 0);
    ck_assert_uint_eq(c->gpr[CPUM_RBP], 0);
    ck_assert_uint_eq(c->gpr[CPUM_RDI], 0);
    ck_assert_uint_eq(c->seg[CPUM_CS].sel, 0x10);
    ck_assert(c->seg[CPUM_CS].attr & CPUM_SEG_L);
    ck_assert_uint_eq(c->seg[CPUM_DS].sel, 0x18);
    ck_assert_uint_eq(c->seg[CPUM_SS].sel, 0x18);
    ck_assert_uint_eq(c->gdtr.base, 0x500);
    ck_assert(c->cr0 & CR0_PG);
    ck_assert(c->cr0 & CR0_PE);
    ck_assert(c->cr4 & CR4_PAE);
    ck_assert_uint_eq(c->cr3, 0x30000);
    ck_assert(c->msr.efer & EFER_LMA);
    ck_assert(c->msr.efer & EFER_LME);
    ck_assert(!(c->rflags & RFLAGS_IF));
    ck_assert_uint_eq(vm.cpu.dirty, CPUM_STATE_ALL);

    /* the walker agrees with the page tables */
    struct pgm_paging pg;
    struct pgm_walk w;
    pgm_paging_from_ctx(&pg, &vm.cpu);
    ck_assert_int_eq(pgm_mode_of(&pg), PGM_MODE_LONG);
    ck_assert_int_eq(pgm_walk(vm.pgm, &pg, 0x100200, PGM_ACC_EXEC, &w), CAP_OK);
    ck_assert_uint_eq(w.gpa, 0x100200);
    tvm_fini(&vm);
}
END_TEST

START_TEST(linux_32bit)
{
    struct tvm vm;
    static uint8_t img[BZ_LEN];
    struct bzopt o = bz_default;
    o.xloadflags = 0; /* no 64-bit entry: the 32-bit one still works */
    o.initrd_max = 0x1ffffff;
    make_bz(img, &o);
    static uint8_t initrd[10000];
    tvm_init(&vm, 64 * MiB, 0);
    ck_assert_int_eq(load_buf(&vm, img, sizeof(img), LOADER_LINUX, LOADER_ENTRY_PROTECTED, NULL,
                              initrd, sizeof(initrd)),
                     CAP_OK);
    /* as high as initrd_addr_max allows, page aligned */
    ck_assert_uint_eq(vm.info.initrd_start, (0x2000000 - sizeof(initrd)) & ~0xfffull);
    struct cpum_ctx *c = &vm.cpu.ctx;
    ck_assert_uint_eq(c->rip, 0x100000);
    ck_assert_uint_eq(c->gpr[CPUM_RSI], 0x7000);
    ck_assert_uint_eq(c->seg[CPUM_CS].sel, 0x10);
    ck_assert(c->seg[CPUM_CS].attr & CPUM_SEG_DB);
    ck_assert(!(c->seg[CPUM_CS].attr & CPUM_SEG_L));
    ck_assert_uint_eq(c->seg[CPUM_CS].limit, 0xffffffffu);
    ck_assert(c->cr0 & CR0_PE);
    ck_assert(!(c->cr0 & CR0_PG));
    ck_assert_uint_eq(c->msr.efer, 0);
    ck_assert_uint_eq(rd64(gp(&vm, 0x510, 8)), 0x00cf9b000000ffffull);
    ck_assert_uint_eq(vm.info.pgtable_addr, 0);
    ck_assert_uint_eq(*gp(&vm, 0x20000, 1), 0); /* empty command line */
    ck_assert_uint_eq(gp(&vm, 0x7000, 4096)[0x1e8], 4); /* no MMIO: 4 e820 entries */
    tvm_fini(&vm);
}
END_TEST

static void expect_bad(const struct bzopt *o, void (*patch)(uint8_t *img), size_t len,
                       uint64_t ram, enum loader_entry entry, const char *cmdline,
                       size_t initrd_len, cap_result want, const char *msg)
{
    struct tvm vm;
    static uint8_t img[BZ_LEN];
    make_bz(img, o);
    if (patch)
        patch(img);
    uint8_t *initrd = initrd_len ? calloc(1, initrd_len) : NULL;
    tvm_init(&vm, ram, 0);
    cap_result rc = load_buf(&vm, img, len, LOADER_LINUX, entry, cmdline, initrd, initrd_len);
    ck_assert_msg(rc == want, "rc 0x%x, want 0x%x (%s)", (unsigned)rc, (unsigned)want, last_msg);
    ck_assert_msg_has(msg);
    ck_assert_msg_has("test-kernel");
    assert_untouched(&vm);
    free(initrd);
    tvm_fini(&vm);
}

static void no_bootflag(uint8_t *img) { wr16(img + 0x1fe, 0x1234); }
static void no_hdrs(uint8_t *img) { memcpy(img + 0x202, "HdrX", 4); }
static void many_setup_sects(uint8_t *img) { img[0x1f1] = 60; }
static void big_syssize(uint8_t *img) { wr32(img + 0x1f4, PM_LEN); }
static void zimage(uint8_t *img) { img[0x211] = 0; }

START_TEST(linux_bad)
{
    struct bzopt o = bz_default;
    const uint64_t R = 64 * MiB;
    expect_bad(&o, NULL, 0x100, R, 0, NULL, 0, VMM_E_LOADER_BAD_IMAGE, "truncated");
    expect_bad(&o, no_bootflag, BZ_LEN, R, 0, NULL, 0, VMM_E_LOADER_BAD_IMAGE, "0x1234");
    expect_bad(&o, no_hdrs, BZ_LEN, R, 0, NULL, 0, VMM_E_LOADER_BAD_IMAGE, "HdrS");
    expect_bad(&o, many_setup_sects, BZ_LEN, R, 0, NULL, 0, VMM_E_LOADER_BAD_IMAGE, "truncated");
    expect_bad(&o, big_syssize, BZ_LEN, R, 0, NULL, 0, VMM_E_LOADER_BAD_IMAGE, "syssize");
    expect_bad(&o, NULL, BZ_LEN - 100, R, 0, NULL, 0, VMM_E_LOADER_BAD_IMAGE, "syssize");
    expect_bad(&o, zimage, BZ_LEN, R, 0, NULL, 0, VMM_E_LOADER_BAD_IMAGE, "zImage");
    o.version = 0x0204;
    expect_bad(&o, NULL, BZ_LEN, R, 0, NULL, 0, VMM_E_LOADER_BAD_IMAGE,
               "protocol 2.04 is too old");
    o = bz_default;
    o.xloadflags = 0;
    expect_bad(&o, NULL, BZ_LEN, R, LOADER_ENTRY_LONG, NULL, 0, VMM_E_LOADER_BAD_IMAGE,
               "XLF_KERNEL_64");
    expect_bad(&o, NULL, BZ_LEN, R, LOADER_ENTRY_REAL, NULL, 0, CAP_E_INVALIDARG, "real");
    /* larger than RAM: init_size from 16 MiB does not fit 8 MiB */
    o = bz_default;
    expect_bad(&o, NULL, BZ_LEN, 8 * MiB, 0, NULL, 0, VMM_E_LOADER_NO_ROOM, "guest RAM");
    /* initrd too big */
    expect_bad(&o, NULL, BZ_LEN, R, 0, NULL, 48 * MiB, VMM_E_LOADER_NO_ROOM, "test-initrd");
    /* command line too long for the kernel */
    o.cmdline_size = 16;
    expect_bad(&o, NULL, BZ_LEN, R, 0, "console=ttyS0 root=/dev/vda1 rw", 0, CAP_E_INVALIDARG,
               "at most 16");
}
END_TEST

TCase *tcase_linux(void)
{
    TCase *tc = tcase_create("linux");
    tcase_add_test(tc, linux_64bit);
    tcase_add_test(tc, linux_32bit);
    return tc;
}

TCase *tcase_linux_bad(void)
{
    TCase *tc = tcase_create("linux_bad");
    tcase_add_test(tc, linux_bad);
    return tc;
}
