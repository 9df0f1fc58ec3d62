/*
 * test_vmlinux.c - the ELF64 vmlinux loader (Linux 64-bit boot protocol
 * without the decompressor): a synthetic vmlinux (text at 16 MiB holding
 * the entry, data + bss after it) is probed, loaded and checked - segments
 * at p_paddr, bss zeroed, boot_params with the loader's setup header, e820,
 * initrd, long-mode entry at e_entry with RSI = boot_params; then every
 * class of bad image fails with a clear message before anything is written.
 */
#include <stdlib.h>

#include "loader_test.h"

#define VML_LEN   0x3000u
#define TEXT_PA   0x1000000ull
#define TEXT_VA   0xffffffff81000000ull
#define DATA_PA   0x1200000ull
#define DATA_VA   0xffffffff81200000ull
#define DATA_MEM  0x3000ull

static void phdr(uint8_t *img, unsigned i, uint32_t type, uint64_t off, uint64_t va, uint64_t pa,
                 uint64_t filesz, uint64_t memsz)
{
    uint8_t *p = img + 64 + i * 56;
    wr32(p, type);
    wr32(p + 4, 5);
    wr64(p + 8, off);
    wr64(p + 16, va);
    wr64(p + 24, pa);
    wr64(p + 32, filesz);
    wr64(p + 40, memsz);
    wr64(p + 48, 0x200000);
}

static void make_vmlinux(uint8_t *img)
{
    memset(img, 0, VML_LEN);
    memcpy(img, "\x7f" "ELF\x02\x01\x01", 7);
    wr16(img + 16, 2);        /* ET_EXEC */
    wr16(img + 18, 62);       /* x86-64 */
    wr32(img + 20, 1);
    wr64(img + 24, TEXT_PA + 0x40); /* entry: physical, like startup_64's */
    wr64(img + 32, 64);       /* e_phoff */
    wr16(img + 52, 64);
    wr16(img + 54, 56);
    wr16(img + 56, 3);        /* two PT_LOAD and a PT_NOTE */
    phdr(img, 0, 1, 0x1000, TEXT_VA, TEXT_PA, 0x1000, 0x1000);
    phdr(img, 1, 1, 0x2000, DATA_VA, DATA_PA, 0x1000, DATA_MEM);
    phdr(img, 2, 4, 0x1100, TEXT_VA + 0x100, TEXT_PA + 0x100, 0x20, 0x20);
    for (unsigned i = 0x1000; i < VML_LEN; i++)
        img[i] = (uint8_t)(i * 13 + 5);
}

START_TEST(vmlinux_64bit)
{
    struct tvm vm;
    static uint8_t img[VML_LEN];
    static uint8_t initrd[8192];
    memset(initrd, 0xa5, sizeof(initrd));
    make_vmlinux(img);
    ck_assert_int_eq(loader_probe(img, sizeof(img)), LOADER_VMLINUX);
    ck_assert_str_eq(loader_format_name(LOADER_VMLINUX), "vmlinux");
    tvm_init(&vm, 64 * MiB, 1);
    memset(gp(&vm, DATA_PA + 0x1000, DATA_MEM - 0x1000), 0xcc, DATA_MEM - 0x1000);
    ck_assert_int_eq(load_buf(&vm, img, sizeof(img), LOADER_UNKNOWN, LOADER_ENTRY_DEFAULT,
                              "console=ttyS0", initrd, sizeof(initrd)),
                     CAP_OK);
    struct loader_info *in = &vm.info;
    ck_assert_int_eq(in->format, LOADER_VMLINUX);
    ck_assert_int_eq(in->entry, LOADER_ENTRY_LONG);
    ck_assert_uint_eq(in->entry_point, TEXT_PA + 0x40);
    ck_assert_uint_eq(in->kernel_start, TEXT_PA);
    ck_assert_uint_eq(in->kernel_end, DATA_PA + DATA_MEM);
    ck_assert_uint_eq(in->initrd_start, 64 * MiB - sizeof(initrd));
    ck_assert_ptr_nonnull(strstr(in->description, "vmlinux"));

    /* segments at p_paddr, bss zeroed */
    ck_assert_mem_eq(gp(&vm, TEXT_PA, 0x1000), img + 0x1000, 0x1000);
    ck_assert_mem_eq(gp(&vm, DATA_PA, 0x1000), img + 0x2000, 0x1000);
    const uint8_t *bss = gp(&vm, DATA_PA + 0x1000, DATA_MEM - 0x1000);
    for (unsigned i = 0; i < DATA_MEM - 0x1000; i++)
        ck_assert_uint_eq(bss[i], 0);
    ck_assert_mem_eq(gp(&vm, in->initrd_start, sizeof(initrd)), initrd, sizeof(initrd));

    /* boot_params: the loader's own 2.15 setup header */
    uint8_t *bp = gp(&vm, 0x7000, 4096);
    ck_assert_uint_eq(rd16(bp + 0x1fe), 0xaa55);
    ck_assert_mem_eq(bp + 0x202, "HdrS", 4);
    ck_assert_uint_eq(rd16(bp + 0x206), 0x020f);
    ck_assert_uint_eq(bp[0x210], 0xff);
    ck_assert_uint_eq(bp[0x211], 0x81); /* LOADED_HIGH | CAN_USE_HEAP */
    ck_assert_uint_eq(rd32(bp + 0x228), 0x20000);
    ck_assert_str_eq((char *)gp(&vm, 0x20000, 14), "console=ttyS0");
    ck_assert_uint_eq(rd32(bp + 0x218), in->initrd_start);
    ck_assert_uint_eq(rd32(bp + 0x21c), sizeof(initrd));
    ck_assert_uint_eq(rd32(bp + 0x238), 2047);
    ck_assert_uint_eq(rd16(bp + 0x236), 3);
    ck_assert_uint_eq(rd64(bp + 0x258), TEXT_PA);
    ck_assert_uint_eq(rd32(bp + 0x260), DATA_PA + DATA_MEM - TEXT_PA);
    ck_assert_uint_eq(bp[0x1e8], 7); /* e820 as for a bzImage, ACPI tables included */
    ck_assert_uint_eq(rd64(bp + 0x2d0 + 5 * 20), 0x100000);
    ck_assert_uint_eq(rd64(bp + 0x70), LOADER_ACPI_ADDR); /* acpi_rsdp_addr */
    ck_assert_uint_eq(in->linux_version, 0x020f);

    /* entry state: long mode at e_entry, RSI = boot_params */
    struct cpum_ctx *c = &vm.cpu.ctx;
    ck_assert_uint_eq(c->rip, TEXT_PA + 0x40);
    ck_assert_uint_eq(c->gpr[CPUM_RSI], 0x7000);
    ck_assert(c->seg[CPUM_CS].attr & CPUM_SEG_L);
    ck_assert(c->msr.efer & EFER_LMA);
    ck_assert_uint_eq(c->cr3, 0x30000);
    ck_assert(!(c->rflags & RFLAGS_IF));
    tvm_fini(&vm);

    /* a virtual entry inside a segment is translated through it */
    wr64(img + 24, TEXT_VA + 0x80);
    tvm_init(&vm, 64 * MiB, 0);
    ck_assert_int_eq(load_buf(&vm, img, sizeof(img), LOADER_VMLINUX, LOADER_ENTRY_LONG, NULL,
                              NULL, 0),
                     CAP_OK);
    ck_assert_uint_eq(vm.cpu.ctx.rip, TEXT_PA + 0x80);
    ck_assert_uint_eq(vm.info.initrd_start, 0);
    tvm_fini(&vm);
}
END_TEST

static void expect_bad(void (*patch)(uint8_t *img), size_t len, uint64_t ram,
                       enum loader_entry entry, const char *cmdline, cap_result want,
                       const char *msg)
{
    struct tvm vm;
    static uint8_t img[VML_LEN];
    make_vmlinux(img);
    if (patch)
        patch(img);
    tvm_init(&vm, ram, 0);
    cap_result rc = load_buf(&vm, img, len, LOADER_VMLINUX, entry, cmdline, NULL, 0);
    ck_assert_msg(rc == want, "rc 0x%x, want 0x%x (%s)", (unsigned)rc, (unsigned)want, last_msg);
    ck_assert_msg_has(msg);
    ck_assert_msg_has("test-kernel");
    assert_untouched(&vm);
    if (ram > TEXT_PA)
        ck_assert_msg(rd64(gp(&vm, TEXT_PA, 8)) == 0, "kernel text written");
    tvm_fini(&vm);
}

static void elf32(uint8_t *img) { img[4] = 1; }
static void big_endian(uint8_t *img) { img[5] = 2; }
static void arm64(uint8_t *img) { wr16(img + 18, 183); }
static void i386(uint8_t *img) { img[4] = 1, wr16(img + 18, 3); }
static void shared_object(uint8_t *img) { wr16(img + 16, 3); }
static void no_phdrs(uint8_t *img) { wr16(img + 56, 0); }
static void phdrs_past_end(uint8_t *img) { wr64(img + 32, VML_LEN - 60); }
static void phoff_huge(uint8_t *img) { wr64(img + 32, ~0ull - 8); }
static void filesz_gt_memsz(uint8_t *img) { wr64(img + 64 + 56 + 32, DATA_MEM + 1); }
static void seg_past_end(uint8_t *img) { wr64(img + 64 + 8, VML_LEN - 0x10); }
static void seg_off_huge(uint8_t *img) { wr64(img + 64 + 8, ~0ull - 0x10); }
static void seg_low(uint8_t *img) { wr64(img + 64 + 24, 0x8000); }
static void seg_huge(uint8_t *img) { wr64(img + 64 + 24, ~0ull - 0x100); }
static void no_load(uint8_t *img) { wr32(img + 64, 4), wr32(img + 64 + 56, 6); }
static void entry_outside(uint8_t *img) { wr64(img + 24, 0x5000000); }
static void overlap(uint8_t *img) { wr64(img + 64 + 56 + 24, TEXT_PA + 0x800); }

static void phentsize_ffff(uint8_t *img) { wr16(img + 54, 0xffff), wr16(img + 56, 1); }
static void phentsize_64(uint8_t *img) { wr16(img + 54, 64), wr16(img + 56, 1); }

/* Probed as capsule-vm probes (flat as the fallback): an ELF of the wrong
 * class or machine fails naming the field instead of running as flat. */
static void expect_probed_bad(void (*patch)(uint8_t *img), const char *msg)
{
    struct tvm vm;
    static uint8_t img[VML_LEN];
    make_vmlinux(img);
    patch(img);
    tvm_init(&vm, 64 * MiB, 0);
    ck_assert_int_eq(loader_probe(img, sizeof(img)), LOADER_VMLINUX);
    cap_result rc = load_probed(&vm, img, sizeof(img));
    ck_assert_msg(rc == VMM_E_LOADER_BAD_IMAGE, "rc 0x%x (%s)", (unsigned)rc, last_msg);
    ck_assert_msg_has(msg);
    assert_untouched(&vm);
    tvm_fini(&vm);
}

START_TEST(vmlinux_probed_bad)
{
    expect_probed_bad(elf32, "ELF class 1");
    expect_probed_bad(big_endian, "little-endian");
    expect_probed_bad(arm64, "e_machine 183");
    expect_probed_bad(i386, "ELF class 1");
    expect_probed_bad(phentsize_ffff, "e_phentsize 65535");
}
END_TEST

START_TEST(vmlinux_bad)
{
    const uint64_t R = 64 * MiB;
    expect_bad(NULL, 40, R, 0, NULL, VMM_E_LOADER_BAD_IMAGE, "ELF64 header");
    expect_bad(elf32, VML_LEN, R, 0, NULL, VMM_E_LOADER_BAD_IMAGE, "ELF class 1");
    expect_bad(big_endian, VML_LEN, R, 0, NULL, VMM_E_LOADER_BAD_IMAGE, "little-endian");
    expect_bad(arm64, VML_LEN, R, 0, NULL, VMM_E_LOADER_BAD_IMAGE, "e_machine 183");
    expect_bad(shared_object, VML_LEN, R, 0, NULL, VMM_E_LOADER_BAD_IMAGE, "e_type 3");
    expect_bad(phentsize_ffff, VML_LEN, R, 0, NULL, VMM_E_LOADER_BAD_IMAGE, "e_phentsize 65535");
    expect_bad(phentsize_64, VML_LEN, R, 0, NULL, VMM_E_LOADER_BAD_IMAGE, "e_phentsize 64");
    expect_bad(no_phdrs, VML_LEN, R, 0, NULL, VMM_E_LOADER_BAD_IMAGE, "e_phnum 0");
    expect_bad(phdrs_past_end, VML_LEN, R, 0, NULL, VMM_E_LOADER_BAD_IMAGE, "run past");
    expect_bad(phoff_huge, VML_LEN, R, 0, NULL, VMM_E_LOADER_BAD_IMAGE, "run past");
    expect_bad(filesz_gt_memsz, VML_LEN, R, 0, NULL, VMM_E_LOADER_BAD_IMAGE, "p_filesz");
    expect_bad(seg_past_end, VML_LEN, R, 0, NULL, VMM_E_LOADER_BAD_IMAGE, "truncated ELF64");
    expect_bad(seg_off_huge, VML_LEN, R, 0, NULL, VMM_E_LOADER_BAD_IMAGE, "truncated ELF64");
    expect_bad(NULL, 0x2800, R, 0, NULL, VMM_E_LOADER_BAD_IMAGE, "truncated ELF64");
    expect_bad(seg_low, VML_LEN, R, 0, NULL, VMM_E_LOADER_BAD_IMAGE, "below 1 MiB");
    expect_bad(seg_huge, VML_LEN, R, 0, NULL, VMM_E_LOADER_BAD_IMAGE, "beyond any guest RAM");
    expect_bad(no_load, VML_LEN, R, 0, NULL, VMM_E_LOADER_BAD_IMAGE, "no loadable");
    expect_bad(entry_outside, VML_LEN, R, 0, NULL, VMM_E_LOADER_BAD_IMAGE,
               "entry point 0x5000000");
    expect_bad(overlap, VML_LEN, R, 0, NULL, VMM_E_LOADER_BAD_IMAGE, "overlaps");
    expect_bad(NULL, VML_LEN, R, LOADER_ENTRY_PROTECTED, NULL, CAP_E_INVALIDARG, "long mode");
    /* the kernel at 16 MiB does not fit 16 MiB of RAM */
    expect_bad(NULL, VML_LEN, 16 * MiB, 0, NULL, VMM_E_LOADER_NO_ROOM, "guest RAM");
    static char longline[3000];
    memset(longline, 'x', sizeof(longline) - 1);
    expect_bad(NULL, VML_LEN, R, 0, longline, CAP_E_INVALIDARG, "at most 2047");
}
END_TEST

TCase *tcase_vmlinux(void)
{
    TCase *tc = tcase_create("vmlinux");
    tcase_add_test(tc, vmlinux_64bit);
    tcase_add_test(tc, vmlinux_bad);
    tcase_add_test(tc, vmlinux_probed_bad);
    return tc;
}
