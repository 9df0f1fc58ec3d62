/*
 * vmm/loader/loader_multiboot.c - Multiboot v1 (the GNU Multiboot
 * Specification 0.6.96): the header in the first 8192 bytes, the kernel
 * loaded from its ELF32 program headers or from the header's a.out-kludge
 * address fields (flag bit 16, which wins over ELF when set), the initrd as
 * module 0 (page aligned after the kernel), and the multiboot information
 * block at LOADER_BOOTINFO_ADDR with memory sizes, the memory map, the
 * command line, the module list and the boot loader's name.
 *
 * The command line starts with the kernel's path, as GRUB's `multiboot
 * FILE ARGS` and QEMU's `-kernel FILE -append ARGS` pass it: multiboot
 * kernels that split it into argv take the first word as argv[0] and their
 * options from the second on. "FILE" alone when there are no options (QEMU
 * leaves a trailing blank there; GRUB does not).
 */
#include <stdio.h>
#include <string.h>

#include "loader_internal.h"

#define MB_MAGIC        0x1badb002u
#define MB_BOOT_MAGIC   0x2badb002u
#define MB_SEARCH       8192
#define MB_F_PAGE_ALIGN (1u << 0)
#define MB_F_MEMINFO    (1u << 1)
#define MB_F_VIDEO      (1u << 2)
#define MB_F_AOUT       (1u << 16)
#define MB_F_KNOWN_REQUIRED (MB_F_PAGE_ALIGN | MB_F_MEMINFO | MB_F_VIDEO)

/* Info block flags and layout (offsets inside the 4 KiB page at 0x7000). */
#define MBI_MEM     (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS    (1u << 3)
#define MBI_MMAP    (1u << 6)
#define MBI_NAME    (1u << 9)
#define MBI_OFF_MMAP 0x100
#define MBI_OFF_MODS 0x800
#define MBI_OFF_NAME 0xa00
#define LOADER_NAME  "Capsule"

struct mb_image {
    uint64_t start, end; /* [start, end) incl. bss, for placing the module */
    uint32_t entry;
};

/* Offset of the multiboot header or -1. */
static long mb_find(const uint8_t *img, size_t len)
{
    size_t lim = len < MB_SEARCH ? len : MB_SEARCH;
    for (size_t off = 0; off + 4 <= lim; off += 4)
        if (ldr_le32(img + off) == MB_MAGIC)
            return (long)off;
    return -1;
}

enum loader_format ldr_probe_multiboot(const void *buf, size_t len);
enum loader_format ldr_probe_multiboot(const void *buf, size_t len)
{
    return buf && mb_find(buf, len) >= 0 ? LOADER_MULTIBOOT : LOADER_UNKNOWN;
}

static cap_result mb_aout(const uint8_t *img, size_t len, size_t hoff, struct ldr_plan *plan,
                          struct mb_image *out, struct ldr_err *err)
{
    if (hoff + 32 > len)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "truncated multiboot header at offset 0x%zx: the address fields "
                        "(flag bit 16) need 32 bytes", hoff);
    uint32_t header_addr = ldr_le32(img + hoff + 12), load_addr = ldr_le32(img + hoff + 16);
    uint32_t load_end = ldr_le32(img + hoff + 20), bss_end = ldr_le32(img + hoff + 24);
    uint32_t entry = ldr_le32(img + hoff + 28);
    if (load_addr > header_addr || header_addr - load_addr > hoff)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "multiboot load_addr 0x%x and header_addr 0x%x put the load start "
                        "before the start of the file (header at offset 0x%zx)",
                        load_addr, header_addr, hoff);
    uint64_t file_off = hoff - (header_addr - load_addr);
    uint64_t load_len = load_end ? (uint64_t)load_end - load_addr : len - file_off;
    if (load_end && load_end < load_addr)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "multiboot load_end_addr 0x%x is below load_addr 0x%x", load_end,
                        load_addr);
    if (file_off + load_len > len)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "truncated: multiboot load_addr..load_end_addr (0x%x-0x%x) needs %llu "
                        "bytes from file offset 0x%llx, the file has %zu",
                        load_addr, load_end, (unsigned long long)load_len,
                        (unsigned long long)file_off, len);
    uint64_t memsz = load_len;
    if (bss_end) {
        if (bss_end < load_addr + load_len)
            return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                            "multiboot bss_end_addr 0x%x is below the end of the loaded "
                            "image (0x%llx)", bss_end,
                            (unsigned long long)(load_addr + load_len));
        memsz = (uint64_t)bss_end - load_addr;
    }
    if (!memsz)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE, "multiboot image loads no bytes");
    if (entry < load_addr || entry >= load_addr + memsz)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "multiboot entry_addr 0x%x is outside the loaded image 0x%x-0x%llx",
                        entry, load_addr, (unsigned long long)(load_addr + memsz));
    out->start = load_addr;
    out->end = load_addr + memsz;
    out->entry = entry;
    return ldr_plan_add(plan, load_addr, img + file_off, load_len, memsz, LDR_CHUNK_IMAGE,
                        "the kernel image", err);
}

static cap_result mb_elf(const uint8_t *img, size_t len, struct ldr_plan *plan,
                         struct mb_image *out, struct ldr_err *err)
{
    cap_result rc;
    if (len < 4 || memcmp(img, "\x7f" "ELF", 4) != 0)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "multiboot image is not ELF and its header has no a.out-kludge "
                        "address fields (flag bit 16 clear)");
    if (len < 52)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "truncated ELF: %zu bytes, the ELF32 header needs 52", len);
    if (img[4] != 1)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "ELF class %u: multiboot loads ELF32 (an ELF64 kernel needs the "
                        "a.out-kludge address fields, flag bit 16)", img[4]);
    if (img[5] != 1)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE, "ELF is not little-endian");
    if (ldr_le16(img + 18) != 3)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE, "ELF e_machine %u is not i386 (3)",
                        ldr_le16(img + 18));
    if (ldr_le16(img + 16) != 2)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE, "ELF e_type %u is not an executable (2)",
                        ldr_le16(img + 16));
    uint32_t e_entry = ldr_le32(img + 24), phoff = ldr_le32(img + 28);
    uint16_t phentsize = ldr_le16(img + 42), phnum = ldr_le16(img + 44);
    if (phentsize < 32 || phnum == 0)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "ELF has no usable program headers (e_phnum %u, e_phentsize %u)",
                        phnum, phentsize);
    if ((uint64_t)phoff + (uint64_t)phnum * phentsize > len)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "truncated ELF: program headers at 0x%x (%u x %u bytes) run past the "
                        "end of the file (%zu bytes)", phoff, phnum, phentsize, len);

    unsigned nload = 0;
    cap_bool entry_found = 0;
    out->start = UINT64_MAX;
    out->end = 0;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = img + phoff + (size_t)i * phentsize;
        uint32_t type = ldr_le32(ph), off = ldr_le32(ph + 4), vaddr = ldr_le32(ph + 8);
        uint32_t paddr = ldr_le32(ph + 12), filesz = ldr_le32(ph + 16), memsz = ldr_le32(ph + 20);
        if (type != 1 || memsz == 0)
            continue;
        if (filesz > memsz)
            return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                            "ELF segment %u: p_filesz 0x%x is larger than p_memsz 0x%x", i,
                            filesz, memsz);
        if ((uint64_t)off + filesz > len)
            return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                            "truncated ELF: segment %u needs file bytes 0x%x-0x%llx, the file "
                            "has %zu", i, off, (unsigned long long)off + filesz, len);
        if ((uint64_t)paddr + memsz > (1ull << 32))
            return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                            "ELF segment %u at 0x%x (+0x%x) runs past 4 GiB", i, paddr, memsz);
        char what[48];
        snprintf(what, sizeof(what), "ELF segment %u", i);
        if ((rc = ldr_plan_add(plan, paddr, img + off, filesz, memsz, LDR_CHUNK_IMAGE, what,
                               err)))
            return rc;
        nload++;
        if (paddr < out->start)
            out->start = paddr;
        if ((uint64_t)paddr + memsz > out->end)
            out->end = (uint64_t)paddr + memsz;
        /* entry: a virtual address inside a segment maps to its physical one (as GRUB does) */
        if (!entry_found && e_entry >= vaddr && e_entry - vaddr < memsz) {
            out->entry = paddr + (e_entry - vaddr);
            entry_found = 1;
        }
        if (!entry_found && e_entry >= paddr && e_entry - paddr < memsz) {
            out->entry = e_entry;
            entry_found = 1;
        }
    }
    if (!nload)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE, "ELF has no loadable (PT_LOAD) segments");
    if (!entry_found)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "ELF entry point 0x%x is not inside any loadable segment", e_entry);
    return CAP_OK;
}

/* mem_lower / mem_upper in KiB, per the spec: RAM from 0 (max 640 KiB) and
 * contiguous RAM from 1 MiB. */
static void mb_meminfo(const struct ldr_mem *mem, uint32_t *lower, uint32_t *upper)
{
    uint64_t lo = ldr_mem_ram_end(mem, 0, 1), hi = ldr_mem_ram_end(mem, PLATFORM_1M, 1);
    if (lo > PLATFORM_VGA_ADDR)
        lo = PLATFORM_VGA_ADDR;
    hi = hi ? hi - PLATFORM_1M : 0;
    if (hi >> 10 > UINT32_MAX)
        hi = (uint64_t)UINT32_MAX << 10;
    *lower = (uint32_t)(lo >> 10);
    *upper = (uint32_t)(hi >> 10);
}

static cap_result mb_info(const struct ldr_inputs *in, const struct ldr_mem *mem,
                          uint64_t mod_at, struct ldr_plan *plan, struct ldr_err *err)
{
    size_t kernlen = strlen(in->kernel_name), userlen = strlen(in->cmdline);
    size_t cmdlen = kernlen + (userlen ? 1 + userlen : 0); /* "FILE ARGS" or "FILE" */
    size_t namelen = in->initrd_len ? strlen(in->initrd_name) : 0;
    size_t strsize = cmdlen + 1 + namelen + 1;
    if (strsize > LOADER_CMDLINE_MAX)
        return ldr_fail(err, CAP_E_INVALIDARG,
                        "kernel path, command line and module name are %zu bytes; at most "
                        "%llu fit", strsize, (unsigned long long)LOADER_CMDLINE_MAX);
    uint8_t *mbi = ldr_plan_blob(plan, LDR_PAGE, err);
    uint8_t *str = mbi ? ldr_plan_blob(plan, strsize, err) : NULL;
    if (!str)
        return CAP_E_OUTOFMEMORY;
    memcpy(str, in->kernel_name, kernlen);
    if (userlen) {
        str[kernlen] = ' ';
        memcpy(str + kernlen + 1, in->cmdline, userlen);
    }
    str[cmdlen] = 0;
    if (namelen)
        memcpy(str + cmdlen + 1, in->initrd_name, namelen + 1);

    uint32_t flags = MBI_MEM | MBI_CMDLINE | MBI_MMAP | MBI_NAME, lower, upper;
    mb_meminfo(mem, &lower, &upper);
    ldr_put32(mbi + 4, lower);
    ldr_put32(mbi + 8, upper);
    ldr_put32(mbi + 16, (uint32_t)LOADER_CMDLINE_ADDR);
    for (unsigned i = 0; i < mem->n; i++) {
        uint8_t *e = mbi + MBI_OFF_MMAP + i * 24;
        ldr_put32(e, 20); /* size of the rest of the entry */
        ldr_put64(e + 4, mem->e[i].addr);
        ldr_put64(e + 12, mem->e[i].size);
        ldr_put32(e + 20, mem->e[i].type);
    }
    ldr_put32(mbi + 44, mem->n * 24);
    ldr_put32(mbi + 48, (uint32_t)(LOADER_BOOTINFO_ADDR + MBI_OFF_MMAP));
    if (in->initrd_len) {
        flags |= MBI_MODS;
        uint8_t *m = mbi + MBI_OFF_MODS;
        ldr_put32(m, (uint32_t)mod_at);
        ldr_put32(m + 4, (uint32_t)(mod_at + in->initrd_len));
        ldr_put32(m + 8, (uint32_t)(LOADER_CMDLINE_ADDR + cmdlen + 1));
        ldr_put32(mbi + 20, 1);
        ldr_put32(mbi + 24, (uint32_t)(LOADER_BOOTINFO_ADDR + MBI_OFF_MODS));
    }
    memcpy(mbi + MBI_OFF_NAME, LOADER_NAME, sizeof(LOADER_NAME));
    ldr_put32(mbi + 64, (uint32_t)(LOADER_BOOTINFO_ADDR + MBI_OFF_NAME));
    ldr_put32(mbi, flags);

    plan->info.cmdline_addr = LOADER_CMDLINE_ADDR;
    plan->info.cmdline_size = cmdlen + 1;
    cap_result rc = ldr_plan_add(plan, LOADER_BOOTINFO_ADDR, mbi, LDR_PAGE, LDR_PAGE, 0,
                                 "the multiboot info block", err);
    return rc ? rc : ldr_plan_add(plan, LOADER_CMDLINE_ADDR, str, strsize, strsize, 0,
                                  "the command line", err);
}

cap_result ldr_multiboot_plan(const uint8_t *img, size_t len, const struct ldr_inputs *in,
                              const struct ldr_mem *mem, struct ldr_plan *plan,
                              struct ldr_err *err)
{
    cap_result rc;
    struct mb_image k = { 0 };

    if (in->entry != LOADER_ENTRY_DEFAULT && in->entry != LOADER_ENTRY_PROTECTED)
        return ldr_fail(err, CAP_E_INVALIDARG,
                        "a multiboot kernel is entered in protected mode, not %s",
                        loader_entry_name(in->entry));
    long found = mb_find(img, len);
    if (found < 0)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "no multiboot header (magic 0x1BADB002) in the first %d bytes",
                        MB_SEARCH);
    size_t hoff = (size_t)found;
    if (hoff + 12 > len)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "truncated multiboot header at offset 0x%zx", hoff);
    uint32_t flags = ldr_le32(img + hoff + 4), sum = ldr_le32(img + hoff + 8);
    if ((uint32_t)(MB_MAGIC + flags + sum) != 0)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "multiboot header at offset 0x%zx: checksum mismatch (magic + flags "
                        "0x%08x + checksum 0x%08x = 0x%08x, must be 0)",
                        hoff, flags, sum, (uint32_t)(MB_MAGIC + flags + sum));
    if (flags & 0xffffu & ~MB_F_KNOWN_REQUIRED)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "multiboot header requires features this loader lacks (flags 0x%08x, "
                        "unknown required bits 0x%04x)",
                        flags, flags & 0xffffu & ~MB_F_KNOWN_REQUIRED);
    rc = (flags & MB_F_AOUT) ? mb_aout(img, len, hoff, plan, &k, err)
                             : mb_elf(img, len, plan, &k, err);
    if (rc)
        return rc;

    uint64_t mod_at = 0;
    if (in->initrd_len) {
        mod_at = (k.end + LDR_PAGE - 1) & ~(LDR_PAGE - 1);
        if (mod_at < 0x100000)
            mod_at = 0x100000;
        if (mod_at + in->initrd_len > (1ull << 32) ||
            !ldr_mem_ram_end(mem, mod_at, in->initrd_len))
            return ldr_fail(err, VMM_E_LOADER_NO_ROOM,
                            "initrd '%s' (%llu KiB) does not fit in guest RAM after the kernel "
                            "(from 0x%llx)", in->initrd_name,
                            (unsigned long long)(in->initrd_len >> 10),
                            (unsigned long long)mod_at);
        if ((rc = ldr_plan_add(plan, mod_at, in->initrd, in->initrd_len, in->initrd_len, 0,
                               "module 0 (initrd)", err)))
            return rc;
    }
    if ((rc = mb_info(in, mem, mod_at, plan, err)) || (rc = ldr_add_gdt(plan, 0, err)))
        return rc;

    plan->entry.mode = LOADER_ENTRY_PROTECTED;
    plan->entry.rip = k.entry;
    plan->entry.rax = MB_BOOT_MAGIC;
    plan->entry.rbx = LOADER_BOOTINFO_ADDR;
    plan->entry.rsp = LOADER_BOOTINFO_ADDR;
    struct loader_info *info = &plan->info;
    info->format = LOADER_MULTIBOOT;
    info->entry = LOADER_ENTRY_PROTECTED;
    info->entry_point = k.entry;
    info->kernel_start = k.start;
    info->kernel_end = k.end;
    info->initrd_start = mod_at;
    info->initrd_size = in->initrd_len;
    info->bootinfo_addr = LOADER_BOOTINFO_ADDR;
    snprintf(info->description, sizeof(info->description),
             "multiboot %s kernel at 0x%llx-0x%llx, entry 0x%x",
             (flags & MB_F_AOUT) ? "a.out-kludge" : "ELF32", (unsigned long long)k.start,
             (unsigned long long)k.end, k.entry);
    return CAP_OK;
}
