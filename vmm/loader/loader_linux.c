/*
 * vmm/loader/loader_linux.c - the Linux x86 boot protocol (bzImage), as
 * Documentation/arch/x86/boot.rst describes it for a loader that skips the
 * real-mode setup code and enters the kernel in 32-bit or 64-bit mode.
 *
 * The image is: the setup sectors (boot sector + setup_sects * 512 bytes,
 * whose setup header starts at 0x1f1) then the protected-mode kernel, which
 * goes to 0x100000. We build boot_params (the "zero page") from scratch,
 * copy the image's setup header into it, fill in what a boot loader owns
 * (type_of_loader, loadflags, heap, cmdline, initrd, e820, the ACPI tables
 * of loader_acpi.c), and enter at
 * load address + 0x200 (64-bit) or code32_start (32-bit).
 */
#include <stdio.h>
#include <string.h>

#include "loader_internal.h"

/* Setup header / boot_params offsets (boot.rst, "THE REAL-MODE KERNEL HEADER"). */
#define BP_ACPI_RSDP_ADDR    0x070 /* 2.14+ */
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE  0x0c4
#define BP_EXT_CMD_LINE_PTR  0x0c8
#define BP_ALT_MEM_K         0x1e0
#define BP_E820_ENTRIES      0x1e8
#define BP_HDR               0x1f1
#define BP_HDR_LIMIT         0x290 /* the setup header ends before this in boot_params */
#define BP_E820_TABLE        0x2d0
#define BP_E820_MAX          128

#define HDR_SETUP_SECTS   0x1f1
#define HDR_SYSSIZE       0x1f4
#define HDR_BOOT_FLAG     0x1fe
#define HDR_JUMP_LEN      0x201 /* second byte of the jump: header length - 0x202 + ... */
#define HDR_MAGIC         0x202
#define HDR_VERSION       0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS     0x211
#define HDR_CODE32_START  0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE  0x21c
#define HDR_HEAP_END_PTR  0x224
#define HDR_CMD_LINE_PTR  0x228
#define HDR_INITRD_MAX    0x22c
#define HDR_KERNEL_ALIGN  0x230 /* 2.05+ */
#define HDR_RELOCATABLE   0x234
#define HDR_XLOADFLAGS    0x236
#define HDR_CMDLINE_SIZE  0x238
#define HDR_SUBARCH       0x23c
#define HDR_SETUP_DATA    0x250
#define HDR_PREF_ADDRESS  0x258
#define HDR_INIT_SIZE     0x260

#define LOADED_HIGH   0x01
#define CAN_USE_HEAP  0x80
#define XLF_KERNEL_64 0x0001
#define XLF_CAN_BE_LOADED_ABOVE_4G 0x0002

/* boot_params.screen_info (include/uapi/linux/screen_info.h, zero page
 * offset 0): what the real-mode setup stores after asking the video BIOS
 * (arch/x86/boot/video.c, video-vga.c), for VGA text mode 3. vgacon takes
 * the console from it: a colour VGA ("VGA+", its VIDEO_TYPE_VGAC) when the
 * mode is not 7, EGA_BX's low byte is not 0x10 and isVGA is set. */
#define SI_ORIG_X            0x00 /* the cursor: column ... */
#define SI_ORIG_Y            0x01 /* ... and row */
#define SI_ORIG_VIDEO_MODE   0x06
#define SI_ORIG_VIDEO_COLS   0x07
#define SI_ORIG_VIDEO_EGA_BX 0x0a /* INT 10h AH=12h BL=10h: BH 0 colour, BL 3 256 KiB */
#define SI_ORIG_VIDEO_LINES  0x0e
#define SI_ORIG_VIDEO_ISVGA  0x0f
#define SI_ORIG_VIDEO_POINTS 0x10 /* the font's height */
#define VGA_TEXT_MODE        3
#define VGA_TEXT_COLS        80
#define VGA_TEXT_LINES       25
#define VGA_TEXT_EGA_BX      0x0003
#define VGA_TEXT_POINTS      16

#define HEAP_END_PTR 0xde00 /* heap end 0xe000 relative to the setup segment, minus 0x200 */

#define MIN_VERSION 0x0206

struct bz {
    uint16_t version;
    unsigned hdr_end;       /* image offset where the setup header ends */
    uint64_t pm_off, pm_len;
    uint16_t xloadflags;
    uint32_t cmdline_size, initrd_max;
    uint64_t kernel_end;    /* end of all the kernel needs (init_size) */
};

static cap_result bz_parse(const uint8_t *img, size_t len, struct bz *bz, struct ldr_err *err)
{
    if (len < HDR_VERSION + 2)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "truncated bzImage: %zu bytes, the setup header alone needs 0x%x",
                        len, HDR_VERSION + 2);
    if (ldr_le16(img + HDR_BOOT_FLAG) != 0xaa55)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "not a bzImage: boot flag at 0x1fe is 0x%04x, expected 0xaa55",
                        ldr_le16(img + HDR_BOOT_FLAG));
    if (memcmp(img + HDR_MAGIC, "HdrS", 4) != 0)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "not a bzImage: no \"HdrS\" signature at 0x202 (boot protocol < 2.00)");
    bz->version = ldr_le16(img + HDR_VERSION);
    if (bz->version < MIN_VERSION)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "Linux boot protocol %u.%02u is too old (2.06 or later required)",
                        bz->version >> 8, bz->version & 0xff);
    bz->hdr_end = 0x202 + img[HDR_JUMP_LEN];
    if (bz->hdr_end > BP_HDR_LIMIT)
        bz->hdr_end = BP_HDR_LIMIT;
    if (bz->hdr_end < HDR_CMDLINE_SIZE + 4)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "setup header ends at 0x%x, too short for boot protocol %u.%02u",
                        bz->hdr_end, bz->version >> 8, bz->version & 0xff);
    if (len < bz->hdr_end)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "truncated bzImage: %zu bytes, the setup header ends at 0x%x", len,
                        bz->hdr_end);

    unsigned sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4;
    bz->pm_off = (uint64_t)(sects + 1) * 512;
    if (bz->pm_off >= len)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "truncated bzImage: %zu bytes, but the setup code (%u sectors) "
                        "ends at %llu with no kernel after it",
                        len, sects, (unsigned long long)bz->pm_off);
    bz->pm_len = len - bz->pm_off;
    uint64_t syssize = (uint64_t)ldr_le32(img + HDR_SYSSIZE) * 16;
    if (syssize > bz->pm_len)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "truncated bzImage: syssize says the kernel is %llu bytes, "
                        "only %llu follow the setup code",
                        (unsigned long long)syssize, (unsigned long long)bz->pm_len);
    if (!(img[HDR_LOADFLAGS] & LOADED_HIGH))
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "zImage (LOADED_HIGH clear in loadflags) is not supported");

    /* kernel_alignment (2.05+): a power of two; 0 means a damaged header. */
    uint32_t align = bz->hdr_end >= HDR_KERNEL_ALIGN + 4 ? ldr_le32(img + HDR_KERNEL_ALIGN) : 1;
    if (align == 0 || (align & (align - 1)))
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "setup header field kernel_alignment (0x230) is 0x%x, not a power of "
                        "two", align);
    bz->xloadflags = bz->version >= 0x020c && bz->hdr_end >= HDR_XLOADFLAGS + 2
                         ? ldr_le16(img + HDR_XLOADFLAGS) : 0;
    bz->cmdline_size = ldr_le32(img + HDR_CMDLINE_SIZE);
    bz->initrd_max = ldr_le32(img + HDR_INITRD_MAX);

    /* What the kernel occupies: the image, then (2.10+) init_size from where
     * it decompresses - pref_address for a kernel below it (boot.rst: a
     * relocatable kernel moves to at least LOAD_PHYSICAL_ADDR). */
    uint64_t load = LOADER_LINUX_LOAD;
    bz->kernel_end = load + bz->pm_len;
    if (bz->version >= 0x020a && bz->hdr_end >= HDR_INIT_SIZE + 4) {
        uint64_t pref = ldr_le64(img + HDR_PREF_ADDRESS);
        uint64_t init = ldr_le32(img + HDR_INIT_SIZE);
        if (init == 0)
            return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                            "setup header field init_size (0x260) is 0: a kernel of boot "
                            "protocol %u.%02u names the memory it needs to start",
                            bz->version >> 8, bz->version & 0xff);
        uint64_t at = pref > load && pref < (1ull << 40) ? pref : load;
        if (at + init > bz->kernel_end)
            bz->kernel_end = at + init;
    }
    bz->kernel_end = (bz->kernel_end + LDR_PAGE - 1) & ~(LDR_PAGE - 1);
    return CAP_OK;
}

/* Highest page-aligned place for the initrd: below `limit` (exclusive), in
 * RAM, above the kernel. Returns 0 when there is none. */
static uint64_t place_initrd(const struct ldr_mem *mem, uint64_t size, uint64_t limit,
                             uint64_t kernel_end)
{
    for (unsigned i = mem->n; i-- > 0;) {
        const struct loader_mem_entry *e = &mem->e[i];
        if (e->type != LOADER_E820_RAM)
            continue;
        uint64_t top = e->addr + e->size < limit ? e->addr + e->size : limit;
        uint64_t floor = e->addr > kernel_end ? e->addr : kernel_end;
        if (top < size || top - size < floor)
            continue;
        uint64_t start = (top - size) & ~(LDR_PAGE - 1);
        if (start >= floor)
            return start;
    }
    return 0;
}

static cap_result fill_e820(uint8_t *bp, const struct ldr_mem *mem)
{
    unsigned n = mem->n < BP_E820_MAX ? mem->n : BP_E820_MAX;
    for (unsigned i = 0; i < n; i++) {
        uint8_t *e = bp + BP_E820_TABLE + i * 20;
        ldr_put64(e, mem->e[i].addr);
        ldr_put64(e + 8, mem->e[i].size);
        ldr_put32(e + 16, mem->e[i].type);
    }
    bp[BP_E820_ENTRIES] = (uint8_t)n;
    /* alt_mem_k: KiB of RAM above 1 MiB, contiguous from there */
    uint64_t end = ldr_mem_ram_end(mem, PLATFORM_1M, 1);
    ldr_put32(bp + BP_ALT_MEM_K, end ? (uint32_t)((end - PLATFORM_1M) >> 10) : 0);
    return CAP_OK;
}

void ldr_linux_synth_header(uint8_t *hdr, struct ldr_linux_kernel *lk)
{
    memset(hdr, 0, LDR_LINUX_HDR_SIZE);
    ldr_put16(hdr + HDR_BOOT_FLAG, 0xaa55);
    hdr[0x200] = 0xeb;
    hdr[HDR_JUMP_LEN] = (uint8_t)(HDR_INIT_SIZE + 4 + 4 - 0x202); /* through handover_offset */
    memcpy(hdr + HDR_MAGIC, "HdrS", 4);
    ldr_put16(hdr + HDR_VERSION, 0x020f);
    hdr[HDR_LOADFLAGS] = LOADED_HIGH;
    ldr_put32(hdr + HDR_CODE32_START, (uint32_t)lk->kernel_start);
    ldr_put32(hdr + HDR_INITRD_MAX, 0x7fffffff);
    ldr_put32(hdr + 0x230, 0x200000);         /* kernel_alignment */
    ldr_put16(hdr + HDR_XLOADFLAGS, XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G);
    ldr_put32(hdr + HDR_CMDLINE_SIZE, 2047);  /* x86's COMMAND_LINE_SIZE - 1 */
    ldr_put64(hdr + HDR_PREF_ADDRESS, lk->kernel_start);
    ldr_put32(hdr + HDR_INIT_SIZE, (uint32_t)(lk->kernel_end - lk->kernel_start));
    lk->hdr_end = 0x202 + hdr[HDR_JUMP_LEN];
    lk->cmdline_size = 2047;
    lk->initrd_max = 0x7fffffff;
    lk->xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G;
}

/* screen_info for the VGA's 80x25 text mode, the cursor at the top left
 * (the device starts with a blank screen: vga_core_text_mode3). */
static void fill_screen_info(uint8_t *bp)
{
    bp[SI_ORIG_X] = 0;
    bp[SI_ORIG_Y] = 0;
    bp[SI_ORIG_VIDEO_MODE] = VGA_TEXT_MODE;
    bp[SI_ORIG_VIDEO_COLS] = VGA_TEXT_COLS;
    ldr_put16(bp + SI_ORIG_VIDEO_EGA_BX, VGA_TEXT_EGA_BX);
    bp[SI_ORIG_VIDEO_LINES] = VGA_TEXT_LINES;
    bp[SI_ORIG_VIDEO_ISVGA] = 1;
    ldr_put16(bp + SI_ORIG_VIDEO_POINTS, VGA_TEXT_POINTS);
}

/*
 * What every Linux 64/32-bit boot shares once the kernel's own chunks are in
 * the plan: the command line, the initrd, boot_params (the setup header
 * copied from `hdr` - an image of at least lk->hdr_end bytes whose offsets
 * are the bzImage's), the GDT and (long mode) the page tables, and the entry
 * state at lk->entry.
 */
cap_result ldr_linux_boot(const uint8_t *hdr, const struct ldr_linux_kernel *lk,
                          const struct ldr_inputs *in, const struct ldr_mem *mem,
                          struct ldr_plan *plan, struct ldr_err *err)
{
    cap_result rc;
    enum loader_entry mode = lk->mode;
    size_t cmdlen = strlen(in->cmdline);
    if (cmdlen > lk->cmdline_size || cmdlen + 1 > LOADER_CMDLINE_MAX)
        return ldr_fail(err, CAP_E_INVALIDARG,
                        "command line is %zu bytes; this kernel accepts at most %llu", cmdlen,
                        (unsigned long long)(lk->cmdline_size < LOADER_CMDLINE_MAX - 1
                                                 ? lk->cmdline_size : LOADER_CMDLINE_MAX - 1));

    uint64_t initrd_at = 0;
    if (in->initrd_len) {
        uint64_t limit = (uint64_t)lk->initrd_max + 1;
        if (lk->xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G)
            limit = mode == LOADER_ENTRY_LONG ? ldr_pagetables_cover(mem) : (1ull << 32);
        if (mode == LOADER_ENTRY_PROTECTED && limit > (1ull << 32))
            limit = 1ull << 32;
        initrd_at = place_initrd(mem, in->initrd_len, limit, lk->kernel_end);
        if (!initrd_at)
            return ldr_fail(err, VMM_E_LOADER_NO_ROOM,
                            "initrd '%s' (%llu KiB) does not fit in guest RAM between the "
                            "kernel's end (0x%llx) and the highest address it may use (0x%llx)",
                            in->initrd_name, (unsigned long long)(in->initrd_len >> 10),
                            (unsigned long long)lk->kernel_end, (unsigned long long)(limit - 1));
    }

    /* boot_params */
    uint8_t *bp = ldr_plan_blob(plan, LDR_PAGE, err);
    uint8_t *cl = bp ? ldr_plan_blob(plan, cmdlen + 1, err) : NULL;
    if (!cl)
        return CAP_E_OUTOFMEMORY;
    memcpy(cl, in->cmdline, cmdlen + 1);
    memcpy(bp + BP_HDR, hdr + BP_HDR, lk->hdr_end - BP_HDR);
    if (in->vga_text)
        fill_screen_info(bp);
    bp[HDR_TYPE_OF_LOADER] = 0xff;
    bp[HDR_LOADFLAGS] |= CAN_USE_HEAP;
    ldr_put16(bp + HDR_HEAP_END_PTR, HEAP_END_PTR);
    ldr_put32(bp + HDR_CODE32_START, (uint32_t)lk->kernel_start);
    ldr_put32(bp + HDR_CMD_LINE_PTR, (uint32_t)LOADER_CMDLINE_ADDR);
    ldr_put32(bp + BP_EXT_CMD_LINE_PTR, 0);
    ldr_put32(bp + HDR_RAMDISK_IMAGE, (uint32_t)initrd_at);
    ldr_put32(bp + HDR_RAMDISK_SIZE, (uint32_t)in->initrd_len);
    ldr_put32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(initrd_at >> 32));
    ldr_put32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)((uint64_t)in->initrd_len >> 32));
    if (lk->hdr_end >= HDR_SUBARCH + 12)
        memset(bp + HDR_SUBARCH, 0, 12); /* hardware_subarch: PC, no subarch data */
    if (lk->hdr_end >= HDR_SETUP_DATA + 8)
        ldr_put64(bp + HDR_SETUP_DATA, 0); /* no setup_data chain */
    /* ACPI: the tables, their e820 type, the RSDP's address (2.14+). */
    struct ldr_mem map = *mem;
    if (!in->no_acpi) {
        if ((rc = ldr_add_acpi(plan, in, mem, err)) ||
            (rc = ldr_mem_mark(&map, LOADER_ACPI_ADDR, LOADER_ACPI_SIZE, LOADER_E820_ACPI, err)))
            return rc;
        if (ldr_le16(hdr + HDR_VERSION) >= 0x020e)
            ldr_put64(bp + BP_ACPI_RSDP_ADDR, plan->info.acpi_rsdp);
    }
    if ((rc = ldr_add_smbios(plan, in, mem, err)))
        return rc;
    fill_e820(bp, &map);

    if ((rc = ldr_plan_add(plan, LOADER_BOOTINFO_ADDR, bp, LDR_PAGE, LDR_PAGE, 0, "boot_params",
                           err)) ||
        (rc = ldr_plan_add(plan, LOADER_CMDLINE_ADDR, cl, cmdlen + 1, cmdlen + 1, 0,
                           "the command line", err)) ||
        (rc = ldr_add_gdt(plan, mode == LOADER_ENTRY_LONG, err)))
        return rc;
    if (in->initrd_len &&
        (rc = ldr_plan_add(plan, initrd_at, in->initrd, in->initrd_len, in->initrd_len, 0,
                           "initrd", err)))
        return rc;
    if (mode == LOADER_ENTRY_LONG && (rc = ldr_add_pagetables(plan, mem, err)))
        return rc;

    plan->entry.mode = mode;
    plan->entry.rip = lk->entry;
    plan->entry.rsi = LOADER_BOOTINFO_ADDR;
    plan->entry.rsp = LOADER_BOOTINFO_ADDR;

    struct loader_info *info = &plan->info;
    info->entry = mode;
    info->entry_point = plan->entry.rip;
    info->kernel_start = lk->kernel_start;
    info->kernel_end = lk->kernel_end;
    info->initrd_start = initrd_at;
    info->initrd_size = in->initrd_len;
    info->cmdline_addr = LOADER_CMDLINE_ADDR;
    info->cmdline_size = cmdlen + 1;
    info->bootinfo_addr = LOADER_BOOTINFO_ADDR;
    info->linux_version = ldr_le16(hdr + HDR_VERSION);
    info->nmem = map.n;
    memcpy(info->mem, map.e, sizeof(map.e[0]) * map.n);
    return CAP_OK;
}

cap_result ldr_linux_plan(const uint8_t *img, size_t len, const struct ldr_inputs *in,
                          const struct ldr_mem *mem, struct ldr_plan *plan, struct ldr_err *err)
{
    struct bz bz = { 0 };
    cap_result rc;
    enum loader_entry mode = in->entry == LOADER_ENTRY_DEFAULT ? LOADER_ENTRY_LONG : in->entry;

    if ((rc = bz_parse(img, len, &bz, err)))
        return rc;
    unsigned ver_major = bz.version >> 8, ver_minor = bz.version & 0xff;
    if (mode != LOADER_ENTRY_LONG && mode != LOADER_ENTRY_PROTECTED)
        return ldr_fail(err, CAP_E_INVALIDARG,
                        "a Linux kernel is entered in long or protected mode, not %s",
                        loader_entry_name(mode));
    if (mode == LOADER_ENTRY_LONG && !(bz.xloadflags & XLF_KERNEL_64))
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "no 64-bit entry point (boot protocol %u.%02u, xloadflags 0x%04x "
                        "without XLF_KERNEL_64); use the 32-bit entry",
                        ver_major, ver_minor, bz.xloadflags);
    uint64_t ram = ldr_mem_total(mem);
    if (bz.pm_len > ram || bz.kernel_end > ldr_mem_top(mem))
        return ldr_fail(err, VMM_E_LOADER_NO_ROOM,
                        "the kernel needs guest RAM up to 0x%llx (%llu KiB image, init_size "
                        "included) but guest RAM is %llu KiB ending at 0x%llx",
                        (unsigned long long)bz.kernel_end, (unsigned long long)(bz.pm_len >> 10),
                        (unsigned long long)(ram >> 10), (unsigned long long)ldr_mem_top(mem));

    if ((rc = ldr_plan_add(plan, LOADER_LINUX_LOAD, img + bz.pm_off, bz.pm_len, bz.pm_len,
                           LDR_CHUNK_IMAGE, "the protected-mode kernel", err)) ||
        (rc = ldr_plan_add(plan, LOADER_LINUX_LOAD + bz.pm_len, NULL, 0,
                           bz.kernel_end - (LOADER_LINUX_LOAD + bz.pm_len),
                           LDR_CHUNK_RESERVE | LDR_CHUNK_IMAGE,
                           "the kernel's decompression space (init_size)", err)))
        return rc;
    struct ldr_linux_kernel lk = {
        .mode = mode,
        .hdr_end = bz.hdr_end,
        .kernel_start = LOADER_LINUX_LOAD,
        .kernel_end = bz.kernel_end,
        .entry = mode == LOADER_ENTRY_LONG ? LOADER_LINUX_LOAD + 0x200 : LOADER_LINUX_LOAD,
        .cmdline_size = bz.cmdline_size,
        .initrd_max = bz.initrd_max,
        .xloadflags = bz.xloadflags,
    };
    if ((rc = ldr_linux_boot(img, &lk, in, mem, plan, err)))
        return rc;
    plan->info.format = LOADER_LINUX;
    snprintf(plan->info.description, sizeof(plan->info.description),
             "Linux bzImage, boot protocol %u.%02u, %llu KiB kernel at 0x%llx, %s entry at 0x%llx",
             ver_major, ver_minor, (unsigned long long)(bz.pm_len >> 10),
             (unsigned long long)LOADER_LINUX_LOAD, mode == LOADER_ENTRY_LONG ? "64-bit" : "32-bit",
             (unsigned long long)plan->entry.rip);
    return CAP_OK;
}
