/*
 * test_linux.c - the bzImage loader: a synthetic image (boot sector, one
 * setup sector, a patterned "kernel"), loaded with 64-bit and 32-bit entry;
 * boot_params, e820, command line, initrd placement, page tables, GDT and
 * the vCPU state are checked; then every class of bad image.
 */
#include <stdlib.h>

#include <capsule/errorinfo.h>

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

    /* e820: RAM, the ACPI tables, EBDA, VGA, BIOS, RAM from 1 MiB, the MMIO page */
    ck_assert_uint_eq(bp[0x1e8], 7);
    static const uint64_t want[7][3] = {
        {0, 0x9c000, 1},         {0x9c000, 0x3c00, 3},  {0x9fc00, 0x400, 2},
        {0xa0000, 0x20000, 2},   {0xf0000, 0x10000, 2}, {0x100000, 63 * MiB, 1},
        {0xfec00000, 0x1000, 2},
    };
    for (unsigned i = 0; i < 7; i++) {
        uint8_t *e = bp + 0x2d0 + i * 20;
        ck_assert_uint_eq(rd64(e), want[i][0]);
        ck_assert_uint_eq(rd64(e + 8), want[i][1]);
        ck_assert_uint_eq(rd32(e + 16), want[i][2]);
    }
    ck_assert_uint_eq(in->nmem, 7);
    ck_assert_uint_eq(in->mem[1].type, LOADER_E820_ACPI);

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
    static uint8_t fb[4096] __attribute__((aligned(4096)));
    tvm_init(&vm, 64 * MiB, 0);
    /* a device's memory mapped as RAM (a framebuffer BAR) is not guest RAM */
    ck_assert_int_eq(
        pgm_map_ram_external(vm.pgm, 0xe0000000u, sizeof(fb), fb, PGM_RAM_TRACK_DIRTY, "fb"),
        CAP_OK);
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
    ck_assert_uint_eq(gp(&vm, 0x7000, 4096)[0x1e8], 6); /* no MMIO, no fb: 6 e820 entries */
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

static void no_align(uint8_t *img) { wr32(img + 0x230, 0); }
static void odd_align(uint8_t *img) { wr32(img + 0x230, 0x3000); }

/* Probed as capsule-vm probes (flat as the fallback), what only claims to be
 * a bzImage fails with the field named instead of running as flat garbage. */
static void expect_probed_bad(const uint8_t *img, size_t len, const char *msg)
{
    struct tvm vm;
    tvm_init(&vm, 64 * MiB, 0);
    ck_assert_int_eq(loader_probe(img, len), LOADER_LINUX);
    cap_result rc = load_probed(&vm, img, len);
    ck_assert_msg(rc == VMM_E_LOADER_BAD_IMAGE, "rc 0x%x (%s)", (unsigned)rc, last_msg);
    ck_assert_msg_has(msg);
    assert_untouched(&vm);
    tvm_fini(&vm);
}

START_TEST(linux_probed_bad)
{
    static uint8_t img[BZ_LEN];
    make_bz(img, &bz_default);
    expect_probed_bad(img, 0x204, "truncated bzImage: 516 bytes");
    expect_probed_bad(img, 0x206, "truncated bzImage: 518 bytes");
    static uint8_t mz[0x100];
    memcpy(mz, img, sizeof(mz));
    mz[0] = 'M', mz[1] = 'Z';
    expect_probed_bad(mz, sizeof(mz), "truncated bzImage: 256 bytes");
    make_bz(img, &bz_default);
    img[0] = 'M', img[1] = 'Z';
    wr16(img + 0x1fe, 0);
    expect_probed_bad(img, BZ_LEN, "boot flag at 0x1fe");
    make_bz(img, &bz_default);
    wr32(img + 0x260, 0);
    expect_probed_bad(img, BZ_LEN, "init_size");
    make_bz(img, &bz_default);
    wr32(img + 0x230, 0);
    expect_probed_bad(img, BZ_LEN, "kernel_alignment");

    /* a 512-byte boot sector (0xAA55 at 0x1fe, nothing after) stays flat */
    static uint8_t boot[512];
    wr16(boot + 0x1fe, 0xaa55);
    ck_assert_int_eq(loader_probe(boot, sizeof(boot)), LOADER_UNKNOWN);
}
END_TEST

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
    /* fields a damaged header gets wrong (issue 19 item 8) */
    o = bz_default;
    o.init_size = 0;
    expect_bad(&o, NULL, BZ_LEN, R, 0, NULL, 0, VMM_E_LOADER_BAD_IMAGE, "init_size (0x260) is 0");
    expect_bad(&bz_default, no_align, BZ_LEN, R, 0, NULL, 0, VMM_E_LOADER_BAD_IMAGE,
               "kernel_alignment (0x230) is 0x0");
    expect_bad(&bz_default, odd_align, BZ_LEN, R, 0, NULL, 0, VMM_E_LOADER_BAD_IMAGE,
               "kernel_alignment (0x230) is 0x3000");
    o = bz_default;
    /* command line too long for the kernel */
    o.cmdline_size = 16;
    expect_bad(&o, NULL, BZ_LEN, R, 0, "console=ttyS0 root=/dev/vda1 rw", 0, CAP_E_INVALIDARG,
               "at most 16");
}
END_TEST

/* boot_params.screen_info: zero without a VGA (Linux then has no console
 * display), VGA text mode 3 with one, as the real-mode setup leaves it
 * after asking the video BIOS (what vgacon needs to call it "VGA+"). */
START_TEST(linux_screen_info)
{
    static uint8_t img[BZ_LEN];
    static const uint8_t zero[0x40];
    make_bz(img, &bz_default);
    for (int vga = 0; vga < 2; vga++) {
        struct tvm vm;
        tvm_init(&vm, 64 * MiB, 1);
        struct loader_params p = {
            .kernel_buf = img,
            .kernel_len = sizeof(img),
            .kernel_name = "test-kernel",
            .cmdline = "console=tty0",
            .vga_text = vga,
        };
        ck_assert_int_eq(loader_load(vm.pgm, &vm.cpu, &p, &vm.info), CAP_OK);
        uint8_t *si = gp(&vm, 0x7000, 0x40);
        if (!vga) {
            ck_assert_mem_eq(si, zero, sizeof(zero));
        } else {
            ck_assert_uint_eq(si[0x00], 0);                 /* orig_x */
            ck_assert_uint_eq(si[0x01], 0);                 /* orig_y */
            ck_assert_uint_eq(rd16(si + 0x04), 0);          /* orig_video_page */
            ck_assert_uint_eq(si[0x06], 3);                 /* orig_video_mode */
            ck_assert_uint_eq(si[0x07], 80);                /* orig_video_cols */
            ck_assert_uint_eq(rd16(si + 0x0a), 0x0003);     /* orig_video_ega_bx */
            ck_assert_uint_eq(si[0x0e], 25);                /* orig_video_lines */
            ck_assert_uint_eq(si[0x0f], 1);                 /* orig_video_isVGA */
            ck_assert_uint_eq(rd16(si + 0x10), 16);         /* orig_video_points */
            ck_assert_mem_eq(si + 0x12, zero, 0x40 - 0x12); /* no linear framebuffer */
        }
        /* the rest of boot_params as without it */
        ck_assert_uint_eq(rd32(gp(&vm, 0x7000 + 0x228, 4)), 0x20000);
        tvm_fini(&vm);
    }
}
END_TEST

TCase *tcase_linux(void)
{
    TCase *tc = tcase_create("linux");
    tcase_add_test(tc, linux_64bit);
    tcase_add_test(tc, linux_32bit);
    tcase_add_test(tc, linux_screen_info);
    return tc;
}

TCase *tcase_linux_bad(void)
{
    TCase *tc = tcase_create("linux_bad");
    tcase_add_test(tc, linux_bad);
    tcase_add_test(tc, linux_probed_bad);
    return tc;
}

/* ---- ACPI tables ----------------------------------------------------- */

static uint8_t sum8(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

/* Checks the common header of the table at gpa; returns its host pointer. */
static uint8_t *acpi_table(struct tvm *vm, uint64_t gpa, const char *sig, uint8_t rev)
{
    ck_assert_uint_ge(gpa, LOADER_ACPI_ADDR);
    uint8_t *t = gp(vm, gpa, 36);
    ck_assert_mem_eq(t, sig, 4);
    uint32_t len = rd32(t + 4);
    ck_assert_uint_ge(len, 36);
    ck_assert_uint_le(gpa + len, LOADER_ACPI_ADDR + LOADER_ACPI_SIZE);
    ck_assert_uint_eq(t[8], rev);
    ck_assert_msg(sum8(gp(vm, gpa, len), len) == 0, "%s checksum", sig);
    return t;
}

static cap_result load_acpi_hpet(struct tvm *vm, const uint8_t *img, unsigned cpus, int no_acpi,
                                 int no_hpet)
{
    struct loader_params p = {
        .kernel_buf = img,
        .kernel_len = BZ_LEN,
        .kernel_name = "test-kernel",
        .cmdline = "console=ttyS0",
        .cpus = cpus,
        .no_acpi = no_acpi,
        .no_hpet = no_hpet,
    };
    cap_error_clear();
    cap_result rc = loader_load(vm->pgm, &vm->cpu, &p, &vm->info);
    take_message();
    return rc;
}

static cap_result load_acpi(struct tvm *vm, const uint8_t *img, unsigned cpus, int no_acpi)
{
    return load_acpi_hpet(vm, img, cpus, no_acpi, 0);
}

/* A generic address structure: SystemIO, width, port. */
static void check_gas(const uint8_t *g, unsigned bits, uint64_t port)
{
    ck_assert_uint_eq(g[0], 1);
    ck_assert_uint_eq(g[1], bits);
    ck_assert_uint_eq(g[2], 0);
    ck_assert_uint_eq(rd64(g + 4), port);
}

START_TEST(acpi_tables)
{
    struct tvm vm;
    static uint8_t img[BZ_LEN];
    make_bz(img, &bz_default);
    tvm_init(&vm, 64 * MiB, 1);
    ck_assert_int_eq(load_acpi(&vm, img, 2, 0), CAP_OK);
    uint8_t *bp = gp(&vm, 0x7000, 4096);

    /* RSDP: where boot_params.acpi_rsdp_addr says, revision 2, both checksums */
    uint64_t rsdp_at = rd64(bp + 0x70);
    ck_assert_uint_eq(rsdp_at, vm.info.acpi_rsdp);
    ck_assert_uint_eq(rsdp_at, LOADER_ACPI_ADDR);
    ck_assert_uint_eq(rsdp_at % 16, 0);
    uint8_t *rsdp = gp(&vm, rsdp_at, 36);
    ck_assert_mem_eq(rsdp, "RSD PTR ", 8);
    ck_assert_uint_eq(rsdp[15], 2);
    ck_assert_uint_eq(rd32(rsdp + 20), 36);
    ck_assert_uint_eq(sum8(rsdp, 20), 0);
    ck_assert_uint_eq(sum8(rsdp, 36), 0);

    /* XSDT -> FADT, MADT, HPET */
    uint8_t *xsdt = acpi_table(&vm, rd64(rsdp + 24), "XSDT", 1);
    ck_assert_uint_eq(rd32(xsdt + 4), 36 + 3 * 8);
    uint64_t fadt_at = rd64(xsdt + 36), madt_at = rd64(xsdt + 44), hpet_at = rd64(xsdt + 52);

    /* HPET: plugins/devices/hpet's ID and address, number 0 */
    uint8_t *hp = acpi_table(&vm, hpet_at, "HPET", 1);
    ck_assert_uint_eq(rd32(hp + 4), 56);
    ck_assert_uint_eq(rd32(hp + 36), 0x8086a201u); /* vendor, legacy, 64-bit, 3 timers, rev 1 */
    ck_assert_uint_eq(hp[40], 0);                  /* SystemMemory */
    ck_assert_uint_eq(rd64(hp + 44), 0xfed00000u);
    ck_assert_uint_eq(hp[52], 0);

    /* FADT: the acpipm blocks, SCI 9, not hardware-reduced, 8042 present */
    uint8_t *f = acpi_table(&vm, fadt_at, "FACP", 6);
    ck_assert_uint_eq(rd32(f + 4), 276);
    ck_assert_uint_eq(rd16(f + 46), 9);              /* SCI_INT */
    ck_assert_uint_eq(rd32(f + 48), 0);              /* no SMI_CMD */
    ck_assert_uint_eq(rd32(f + 56), 0x600);          /* PM1a_EVT_BLK */
    ck_assert_uint_eq(rd32(f + 60), 0);              /* no PM1b */
    ck_assert_uint_eq(rd32(f + 64), 0x604);          /* PM1a_CNT_BLK */
    ck_assert_uint_eq(rd32(f + 76), 0x608);          /* PM_TMR_BLK */
    ck_assert_uint_eq(rd32(f + 80), 0);              /* no GPE0 */
    ck_assert_uint_eq(f[88], 4);
    ck_assert_uint_eq(f[89], 2);
    ck_assert_uint_eq(f[91], 4);
    ck_assert_uint_eq(rd16(f + 109) & 0x3, 0x3);     /* legacy devices, 8042 */
    uint32_t flags = rd32(f + 112);
    ck_assert_uint_eq(flags & (1u << 20), 0);        /* HW_REDUCED_ACPI off */
    ck_assert_uint_eq(flags & (1u << 8), 0);         /* 24-bit PM timer */
    ck_assert_uint_eq(flags & (1u << 4), 0);         /* a fixed power button */
    ck_assert_uint_eq(flags & (1u << 5), 1u << 5);   /* no sleep button */
    check_gas(f + 148, 32, 0x600);
    check_gas(f + 172, 16, 0x604);
    check_gas(f + 208, 32, 0x608);
    uint64_t dsdt_at = rd32(f + 40);
    ck_assert_uint_eq(rd64(f + 140), dsdt_at);       /* X_DSDT agrees */

    /* FACS: at FIRMWARE_CTRL (X_FIRMWARE_CTRL 0, as ACPI wants then), 64-byte aligned,
     * signature, length 64, version 2, no waking vector, no global lock */
    uint64_t facs_at = rd32(f + 36);
    ck_assert_uint_ne(facs_at, 0);
    ck_assert_uint_eq(rd64(f + 132), 0);
    ck_assert_uint_eq(facs_at % 64, 0);
    ck_assert_uint_ge(facs_at, LOADER_ACPI_ADDR);
    ck_assert_uint_le(facs_at + 64, LOADER_ACPI_ADDR + LOADER_ACPI_SIZE);
    uint8_t *facs = gp(&vm, facs_at, 64);
    ck_assert_mem_eq(facs, "FACS", 4);
    ck_assert_uint_eq(rd32(facs + 4), 64);
    ck_assert_uint_ne(rd32(facs + 8), 0);  /* hardware signature */
    ck_assert_uint_eq(rd32(facs + 12), 0); /* firmware waking vector */
    ck_assert_uint_eq(rd32(facs + 16), 0); /* global lock */
    ck_assert_uint_eq(rd64(facs + 24), 0);
    ck_assert_uint_eq(facs[32], 2);

    /* DSDT: Name (_S5, Package () {5, 5, 0, 0}) first, then Scope (\_SB)
     * with the PCI root bridge and the PIRQ links (vmm/platform's own unit
     * test checks the AML; here: the table is whole and in the area) */
    static const uint8_t s5[] = {0x08, '_',  'S',  '5',  '_',  0x12, 0x08,
                                 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00};
    uint8_t *d = acpi_table(&vm, dsdt_at, "DSDT", 2);
    uint32_t dlen = rd32(d + 4);
    ck_assert_mem_eq(d + 36, s5, sizeof(s5));
    ck_assert_uint_eq(d[36 + sizeof(s5)], 0x10); /* ScopeOp */
    ck_assert(memmem(d, dlen, "PCI0", 4) != NULL);
    ck_assert(memmem(d, dlen, "_PRT", 4) != NULL);

    /* RSDT: the same tables with 32-bit pointers */
    uint8_t *rsdt = acpi_table(&vm, rd32(rsdp + 16), "RSDT", 1);
    ck_assert_uint_eq(rd32(rsdt + 4), 36 + 3 * 4);
    ck_assert_uint_eq(rd32(rsdt + 36), fadt_at);
    ck_assert_uint_eq(rd32(rsdt + 40), madt_at);
    ck_assert_uint_eq(rd32(rsdt + 44), hpet_at);

    /* MADT: 2 local APICs, the I/O APIC, IRQ0 -> GSI2, SCI level/high */
    uint8_t *m = acpi_table(&vm, madt_at, "APIC", 4);
    uint32_t mlen = rd32(m + 4);
    ck_assert_uint_eq(mlen, 44 + 2 * 8 + 12 + 10 + 10);
    ck_assert_uint_eq(rd32(m + 36), 0xfee00000u);
    ck_assert_uint_eq(rd32(m + 40), 1);              /* PCAT_COMPAT */
    unsigned lapics = 0, ioapics = 0, irq0 = 0, sci = 0;
    for (uint32_t off = 44; off < mlen; off += m[off + 1]) {
        const uint8_t *e = m + off;
        ck_assert_uint_ge(e[1], 2);
        if (e[0] == 0) {
            ck_assert_uint_eq(e[1], 8);
            ck_assert_uint_eq(e[3], lapics); /* APIC IDs 0, 1 */
            ck_assert_uint_eq(rd32(e + 4) & 1, 1);
            lapics++;
        } else if (e[0] == 1) {
            ck_assert_uint_eq(e[1], 12);
            ck_assert_uint_eq(rd32(e + 4), 0xfec00000u);
            ck_assert_uint_eq(rd32(e + 8), 0);
            ioapics++;
        } else if (e[0] == 2 && e[3] == 0) {
            ck_assert_uint_eq(e[1], 10);
            ck_assert_uint_eq(rd32(e + 4), 2);
            irq0++;
        } else if (e[0] == 2 && e[3] == 9) {
            ck_assert_uint_eq(rd32(e + 4), 9);
            ck_assert_uint_eq(rd16(e + 8), 0x000d);
            sci++;
        }
    }
    ck_assert_uint_eq(lapics, 2);
    ck_assert_uint_eq(ioapics, 1);
    ck_assert_uint_eq(irq0, 1);
    ck_assert_uint_eq(sci, 1);

    /* e820 type 3 covers every table */
    ck_assert_uint_eq(rd64(bp + 0x2d0 + 20), LOADER_ACPI_ADDR);
    ck_assert_uint_eq(rd64(bp + 0x2d0 + 28), LOADER_ACPI_SIZE);
    ck_assert_uint_eq(rd32(bp + 0x2d0 + 36), 3);
    tvm_fini(&vm);
}
END_TEST

/* The MADT's address: the XSDT's second entry. */
static uint64_t madt_of(struct tvm *vm)
{
    uint8_t *xsdt = gp(vm, rd64(gp(vm, LOADER_ACPI_ADDR + 24, 8)), 52);
    return rd64(xsdt + 44);
}

START_TEST(acpi_options)
{
    struct tvm vm;
    static uint8_t img[BZ_LEN];
    make_bz(img, &bz_default);

    /* no_acpi: no tables, no RSDP pointer, no type-3 entry */
    tvm_init(&vm, 64 * MiB, 0);
    ck_assert_int_eq(load_acpi(&vm, img, 1, 1), CAP_OK);
    uint8_t *bp = gp(&vm, 0x7000, 4096);
    ck_assert_uint_eq(rd64(bp + 0x70), 0);
    ck_assert_uint_eq(vm.info.acpi_rsdp, 0);
    ck_assert_uint_eq(bp[0x1e8], 5);
    ck_assert_uint_eq(rd64(bp + 0x2d0 + 8), 0x9fc00);
    ck_assert_uint_eq(*gp(&vm, LOADER_ACPI_ADDR, 1), 0);
    tvm_fini(&vm);

    /* cpus 0 means 1; the most the MADT holds fits the area; one more fails */
    tvm_init(&vm, 64 * MiB, 0);
    ck_assert_int_eq(load_acpi(&vm, img, 0, 0), CAP_OK);
    ck_assert_uint_eq(rd32(gp(&vm, madt_of(&vm) + 4, 4)), 44 + 8 + 32);
    tvm_fini(&vm);
    tvm_init(&vm, 64 * MiB, 0);
    ck_assert_int_eq(load_acpi(&vm, img, PLATFORM_MAX_CPUS_ARCH, 0), CAP_OK);
    uint32_t mlen = rd32(gp(&vm, madt_of(&vm) + 4, 4));
    ck_assert_uint_eq(mlen, 44 + 8 * PLATFORM_MAX_CPUS_ARCH + 32);
    ck_assert_uint_eq(sum8(gp(&vm, madt_of(&vm), mlen), mlen), 0);
    tvm_fini(&vm);
    tvm_init(&vm, 64 * MiB, 0);
    ck_assert_int_eq(load_acpi(&vm, img, PLATFORM_MAX_CPUS_ARCH + 1, 0), CAP_E_INVALIDARG);
    ck_assert_msg_has("vCPUs");
    assert_untouched(&vm);
    tvm_fini(&vm);

    /* no_hpet: the XSDT lists FADT and MADT only, no HPET table */
    tvm_init(&vm, 64 * MiB, 0);
    ck_assert_int_eq(load_acpi_hpet(&vm, img, 1, 0, 1), CAP_OK);
    uint8_t *xsdt = gp(&vm, rd64(gp(&vm, LOADER_ACPI_ADDR + 24, 8)), 36);
    ck_assert_uint_eq(rd32(xsdt + 4), 36 + 2 * 8);
    ck_assert_uint_eq(sum8(xsdt, 36 + 2 * 8), 0);
    for (unsigned i = 0; i < 2; i++)
        ck_assert_mem_ne(gp(&vm, rd64(xsdt + 36 + 8 * i), 4), "HPET", 4);
    tvm_fini(&vm);

    /* boot protocol before 2.14: tables, but no acpi_rsdp_addr to set */
    struct bzopt old = bz_default;
    old.version = 0x020c;
    make_bz(img, &old);
    tvm_init(&vm, 64 * MiB, 0);
    ck_assert_int_eq(load_acpi(&vm, img, 1, 0), CAP_OK);
    ck_assert_uint_eq(rd64(gp(&vm, 0x7000 + 0x70, 8)), 0);
    ck_assert_mem_eq(gp(&vm, LOADER_ACPI_ADDR, 8), "RSD PTR ", 8);
    tvm_fini(&vm);
}
END_TEST

/* RAM split by the VGA window (EM's layout: 0-640 KiB and 768 KiB up): the
 * BIOS area is still RAM, so the SMBIOS entry point is still placed. */
START_TEST(smbios_vga_hole)
{
    struct tvm vm;
    static uint8_t img[BZ_LEN];
    make_bz(img, &bz_default);
    memset(&vm, 0, sizeof(vm));
    ck_assert_int_eq(pgm_create(&vm.pgm), CAP_OK);
    ck_assert_int_eq(pgm_map_ram(vm.pgm, 0, 0xa0000, "ram"), CAP_OK);
    ck_assert_int_eq(pgm_map_ram(vm.pgm, 0xc0000, 64 * MiB - 0xc0000, "ram-bios"), CAP_OK);
    ck_assert_int_eq(cpum_policy_init(&vm.policy, 1, NULL), CAP_OK);
    cpum_cpu_init(&vm.cpu, &vm.policy, 0);
    struct loader_params p = {.kernel_buf = img, .kernel_len = BZ_LEN, .kernel_name = "k"};
    ck_assert_int_eq(loader_load(vm.pgm, &vm.cpu, &p, &vm.info), CAP_OK);
    ck_assert_mem_eq(gp(&vm, LOADER_SMBIOS_ADDR, 4), "_SM_", 4);
    tvm_fini(&vm);
}
END_TEST

/* SMBIOS in the BIOS area: the entry point the kernel's DMI scan finds,
 * the table it points at, the system UUID given in the params. */
START_TEST(smbios_direct)
{
    struct tvm vm;
    static uint8_t img[BZ_LEN];
    static const uint8_t uuid[16] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
                                     0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
    make_bz(img, &bz_default);
    tvm_init(&vm, 64 * MiB, 0);
    struct loader_params p = {
        .kernel_buf = img,
        .kernel_len = BZ_LEN,
        .kernel_name = "test-kernel",
        .cpus = 2,
        .uuid = uuid,
    };
    ck_assert_int_eq(loader_load(vm.pgm, &vm.cpu, &p, &vm.info), CAP_OK);
    uint8_t *ep = gp(&vm, LOADER_SMBIOS_ADDR, 31);
    ck_assert_mem_eq(ep, "_SM_", 4);
    ck_assert_uint_eq(ep[5], 31);
    ck_assert_uint_eq(ep[6], 2);
    ck_assert_uint_eq(ep[7], 8);
    ck_assert_uint_eq(sum8(ep, 31), 0);
    ck_assert_uint_eq(sum8(ep + 16, 15), 0);
    ck_assert_mem_eq(ep + 16, "_DMI_", 5);
    uint32_t at = rd32(ep + 0x18), len = rd16(ep + 0x16);
    ck_assert_uint_gt(at, LOADER_SMBIOS_ADDR);
    ck_assert_uint_le(at + len, LOADER_SMBIOS_ADDR + LOADER_SMBIOS_SIZE);
    /* walk the structures: types 0, 1, 3, 4, 4, 16, 17, 19, 32, 127 */
    static const uint8_t types[] = {0, 1, 3, 4, 4, 16, 17, 19, 32, 127};
    uint8_t *t = gp(&vm, at, len), *end = t + len;
    unsigned n = 0;
    while (t < end) {
        ck_assert_uint_lt(n, sizeof(types));
        ck_assert_uint_eq(t[0], types[n]);
        if (t[0] == 1) {
            /* UUID: the first three fields little-endian */
            static const uint8_t le[16] = {0x78, 0x56, 0x34, 0x12, 0xbc, 0x9a, 0xf0, 0xde,
                                           0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
            ck_assert_mem_eq(t + 8, le, 16);
            ck_assert_uint_eq(t[4], 1);
            ck_assert_str_eq((const char *)t + t[1], "Capsule"); /* manufacturer */
        }
        uint8_t *q = t + t[1];
        while (q + 1 < end && (q[0] || q[1]))
            q++;
        t = q + 2;
        n++;
    }
    ck_assert_uint_eq(n, sizeof(types));
    ck_assert_uint_eq(rd16(ep + 0x1c), n);
    /* the e820 map keeps the BIOS area reserved */
    uint8_t *bp = gp(&vm, 0x7000, 4096);
    ck_assert_uint_eq(rd64(bp + 0x2d0 + 4 * 20), 0xf0000);
    ck_assert_uint_eq(rd32(bp + 0x2d0 + 4 * 20 + 16), 2);
    tvm_fini(&vm);
}
END_TEST

/* The loader's e820 for a machine vmm/platform describes (its RAM around
 * the VGA window and the 4 GiB hole, its fixed MMIO mapped, a Linux boot
 * with ACPI) is the platform's direct-boot map, entry for entry, and the
 * SMBIOS tables still go to the BIOS area. */
static cap_result mmio_nop_read(void *opaque, uint64_t off, void *data, unsigned size)
{
    memset(data, 0, size);
    return CAP_OK;
}
static cap_result mmio_nop_write(void *opaque, uint64_t off, const void *data, unsigned size)
{
    return CAP_OK;
}

START_TEST(e820_is_platforms)
{
    static const struct pgm_mmio_ops nop = {.read = mmio_nop_read, .write = mmio_nop_write};
    static uint8_t img[BZ_LEN];
    make_bz(img, &bz_default);
    static const uint64_t sizes_mb[] = {64, 3584, 5120};
    for (size_t k = 0; k < sizeof(sizes_mb) / sizeof(sizes_mb[0]); k++) {
        struct platform *pl = malloc(sizeof(*pl));
        struct platform_config pc = {.ram_bytes = sizes_mb[k] * MiB};
        char msg[128];
        ck_assert_int_eq(platform_init(&pc, pl, msg, sizeof(msg)), CAP_OK);
        /* the RAM as EM maps it: around the VGA window and the 4 GiB hole */
        struct tvm vm;
        tvm_init(&vm, pl->ram[0].size, 0);
        for (unsigned i = 1; i < pl->n_ram; i++)
            ck_assert_int_eq(pgm_map_ram(vm.pgm, pl->ram[i].addr, pl->ram[i].size, pl->ram[i].name),
                             CAP_OK);
        for (unsigned i = 0; i < pl->n_mmio; i++)
            if (strcmp(pl->mmio[i].name, "pci"))
                ck_assert_int_eq(pgm_map_mmio(vm.pgm, pl->mmio[i].addr, pl->mmio[i].size, &nop,
                                              NULL, pl->mmio[i].name),
                                 CAP_OK);
        ck_assert_int_eq(load_acpi(&vm, img, 1, 0), CAP_OK);
        uint8_t *bp = gp(&vm, 0x7000, 4096);
        ck_assert_uint_eq(bp[0x1e8], pl->n_e820);
        for (unsigned i = 0; i < pl->n_e820; i++) {
            uint8_t *e = bp + 0x2d0 + i * 20;
            ck_assert_uint_eq(rd64(e), pl->e820[i].addr);
            ck_assert_uint_eq(rd64(e + 8), pl->e820[i].size);
            ck_assert_uint_eq(rd32(e + 16), pl->e820[i].type);
        }
        ck_assert_mem_eq(gp(&vm, LOADER_SMBIOS_ADDR, 4), "_SM_", 4);
        tvm_fini(&vm);
        free(pl);
    }
}
END_TEST

TCase *tcase_acpi(void)
{
    TCase *tc = tcase_create("acpi");
    tcase_add_test(tc, acpi_tables);
    tcase_add_test(tc, acpi_options);
    tcase_add_test(tc, smbios_direct);
    tcase_add_test(tc, smbios_vga_hole);
    tcase_add_test(tc, e820_is_platforms);
    return tc;
}
