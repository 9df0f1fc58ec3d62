/*
 * vmm/loader/loader_vmlinux.c - an uncompressed Linux kernel (the ELF64
 * vmlinux a bzImage's decompressor would produce) booted through the Linux
 * 64-bit boot protocol, the way Firecracker and cloud-hypervisor boot one:
 * each PT_LOAD segment goes to its physical address (p_paddr), the entry is
 * the ELF entry (startup_64's physical address; a virtual entry inside a
 * segment is translated through that segment), and RSI points at
 * boot_params whose setup header is the one a 2.15 bzImage would carry
 * (ldr_linux_synth_header), in long mode on identity-mapped page tables.
 *
 * Skipping the decompressor matters to a software CPU: Debian's xz-packed
 * kernel spends over a billion instructions unpacking itself. The kernel
 * runs at its link address (no KASLR, no relocation), which is what an
 * unrelocated vmlinux expects.
 */
#include <stdio.h>
#include <string.h>

#include "loader_internal.h"

#define EHDR_SIZE  64
#define PHDR_SIZE  56
#define EM_X86_64  62
#define ET_EXEC    2
#define PT_LOAD    1
#define MAX_PADDR  (1ull << 46)

enum loader_format ldr_probe_vmlinux(const void *buf, size_t len)
{
    const uint8_t *b = buf;
    if (!b || len < EHDR_SIZE || memcmp(b, "\x7f" "ELF", 4) != 0 || b[4] != 2 || b[5] != 1 ||
        ldr_le16(b + 18) != EM_X86_64)
        return LOADER_UNKNOWN;
    return LOADER_VMLINUX;
}

struct vml {
    uint64_t start, end, entry;
    unsigned nload;
};

static cap_result vml_segments(const uint8_t *img, size_t len, struct ldr_plan *plan,
                               struct vml *k, struct ldr_err *err)
{
    uint64_t e_entry = ldr_le64(img + 24), phoff = ldr_le64(img + 32);
    uint16_t phentsize = ldr_le16(img + 54), phnum = ldr_le16(img + 56);
    cap_bool entry_found = 0;
    cap_result rc;

    if (phnum == 0)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "ELF64 has no usable program headers (e_phnum %u, e_phentsize %u)",
                        phnum, phentsize);
    /* The ELF64 program header is 56 bytes (Elf64_Phdr); any other entry
     * size is a damaged header, not a newer format. */
    if (phentsize != PHDR_SIZE)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "ELF64 e_phentsize %u: an ELF64 program header is %u bytes", phentsize,
                        PHDR_SIZE);
    if (phoff > len || (uint64_t)phnum * phentsize > len - phoff)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "truncated ELF64: program headers at 0x%llx (%u x %u bytes) run past "
                        "the end of the file (%zu bytes)",
                        (unsigned long long)phoff, phnum, phentsize, len);
    k->start = UINT64_MAX;
    k->end = 0;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = img + phoff + (size_t)i * phentsize;
        uint64_t off = ldr_le64(ph + 8), vaddr = ldr_le64(ph + 16), paddr = ldr_le64(ph + 24);
        uint64_t filesz = ldr_le64(ph + 32), memsz = ldr_le64(ph + 40);
        if (ldr_le32(ph) != PT_LOAD || memsz == 0)
            continue;
        if (filesz > memsz)
            return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                            "ELF64 segment %u: p_filesz 0x%llx is larger than p_memsz 0x%llx",
                            i, (unsigned long long)filesz, (unsigned long long)memsz);
        if (off > len || filesz > len - off)
            return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                            "truncated ELF64: segment %u needs file bytes 0x%llx+0x%llx, the "
                            "file has %zu", i, (unsigned long long)off,
                            (unsigned long long)filesz, len);
        if (paddr >= MAX_PADDR || memsz > MAX_PADDR - paddr)
            return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                            "ELF64 segment %u at physical 0x%llx (+0x%llx) is beyond any "
                            "guest RAM", i, (unsigned long long)paddr,
                            (unsigned long long)memsz);
        if (paddr < LOADER_LINUX_LOAD)
            return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                            "ELF64 segment %u at physical 0x%llx is below 1 MiB, where the "
                            "loader keeps its tables (is this a vmlinux?)",
                            i, (unsigned long long)paddr);
        char what[48];
        snprintf(what, sizeof(what), "ELF64 segment %u", i);
        if ((rc = ldr_plan_add(plan, paddr, img + off, filesz, memsz, LDR_CHUNK_IMAGE, what,
                               err)))
            return rc;
        k->nload++;
        if (paddr < k->start)
            k->start = paddr;
        if (paddr + memsz > k->end)
            k->end = paddr + memsz;
        if (!entry_found && e_entry >= paddr && e_entry - paddr < memsz) {
            k->entry = e_entry;
            entry_found = 1;
        }
        if (!entry_found && e_entry >= vaddr && e_entry - vaddr < memsz) {
            k->entry = paddr + (e_entry - vaddr);
            entry_found = 1;
        }
    }
    if (!k->nload)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE, "ELF64 has no loadable (PT_LOAD) segments");
    if (!entry_found)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "ELF64 entry point 0x%llx is not inside any loadable segment",
                        (unsigned long long)e_entry);
    k->end = (k->end + LDR_PAGE - 1) & ~(LDR_PAGE - 1);
    return CAP_OK;
}

cap_result ldr_vmlinux_plan(const uint8_t *img, size_t len, const struct ldr_inputs *in,
                            const struct ldr_mem *mem, struct ldr_plan *plan,
                            struct ldr_err *err)
{
    struct vml k = { 0 };
    cap_result rc;

    if (len < EHDR_SIZE || memcmp(img, "\x7f" "ELF", 4) != 0)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "not an ELF64 vmlinux: %s", len < EHDR_SIZE
                            ? "shorter than an ELF64 header (64 bytes)" : "no ELF magic");
    if (img[4] != 2)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "ELF class %u: a vmlinux for the 64-bit boot protocol is ELF64 (2); "
                        "a 32-bit ELF kernel needs a multiboot header",
                        img[4]);
    if (img[5] != 1)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE, "ELF64 is not little-endian");
    if (ldr_le16(img + 18) != EM_X86_64)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE, "ELF64 e_machine %u is not x86-64 (62)",
                        ldr_le16(img + 18));
    if (ldr_le16(img + 16) != ET_EXEC)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "ELF64 e_type %u is not an executable (2)", ldr_le16(img + 16));
    if (in->entry != LOADER_ENTRY_DEFAULT && in->entry != LOADER_ENTRY_LONG)
        return ldr_fail(err, CAP_E_INVALIDARG,
                        "a vmlinux is entered through the 64-bit boot protocol (long mode), "
                        "not %s", loader_entry_name(in->entry));
    if ((rc = vml_segments(img, len, plan, &k, err)))
        return rc;
    if (k.end > ldr_mem_top(mem))
        return ldr_fail(err, VMM_E_LOADER_NO_ROOM,
                        "the kernel needs guest RAM up to 0x%llx but guest RAM ends at 0x%llx",
                        (unsigned long long)k.end, (unsigned long long)ldr_mem_top(mem));

    uint8_t *hdr = ldr_plan_blob(plan, LDR_LINUX_HDR_SIZE, err);
    if (!hdr)
        return CAP_E_OUTOFMEMORY;
    struct ldr_linux_kernel lk = {
        .mode = LOADER_ENTRY_LONG,
        .kernel_start = k.start,
        .kernel_end = k.end,
        .entry = k.entry,
    };
    ldr_linux_synth_header(hdr, &lk);
    if ((rc = ldr_linux_boot(hdr, &lk, in, mem, plan, err)))
        return rc;
    plan->info.format = LOADER_VMLINUX;
    snprintf(plan->info.description, sizeof(plan->info.description),
             "Linux vmlinux (ELF64), %u segments at 0x%llx-0x%llx, 64-bit entry at 0x%llx",
             k.nload, (unsigned long long)k.start, (unsigned long long)k.end,
             (unsigned long long)k.entry);
    return CAP_OK;
}
