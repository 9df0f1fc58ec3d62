/*
 * vmm/loader/loader_internal.h - what the loader's files share.
 *
 * Every format is parsed into a plan first: a list of chunks (guest-physical
 * address, bytes to copy, bytes to zero after them) plus the entry state,
 * checked as a whole against a description of guest memory (struct
 * ldr_mem). Only a plan that passes is written to PGM and into the vCPU
 * (loader.c). The planners and the checker are pure - no PGM, no files, no
 * error info (they fill a struct ldr_err) - so the libFuzzer targets link
 * them alone and feed them buffers.
 */
#ifndef VMM_LOADER_INTERNAL_H
#define VMM_LOADER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "loader/loader.h"

#define LDR_MAX_CHUNKS 80
#define LDR_MAX_BLOBS  8
#define LDR_PAGE       4096ull

struct ldr_err {
    char msg[384];
};

/* Formats msg into err and returns rc. */
cap_result ldr_fail(struct ldr_err *err, cap_result rc, const char *fmt, ...)
    CAP_PRINTF(3, 4);

/* Guest memory as the loader sees it: the map it also hands to the guest
 * (RAM entries merged, the legacy hole reserved), sorted by address. */
struct ldr_mem {
    cap_bool bios_area_ram; /* guest RAM backs [0xf0000, 1 MiB) (reserved in the map) */
    unsigned n;
    struct loader_mem_entry e[LOADER_MAX_MEM_ENTRIES];
};

/* Builds an ldr_mem from RAM ranges and reserved (ROM/MMIO) ranges given as
 * [start, end) pairs. Fails when there are too many entries or no RAM at 0. */
cap_result ldr_mem_build(struct ldr_mem *mem, const uint64_t (*ram)[2], unsigned nram,
                         const uint64_t (*rsv)[2], unsigned nrsv, struct ldr_err *err);
/* End of the RAM entry containing [addr, addr+len), or 0 if none holds it all. */
uint64_t ldr_mem_ram_end(const struct ldr_mem *mem, uint64_t addr, uint64_t len);
uint64_t ldr_mem_top(const struct ldr_mem *mem);   /* end of the highest RAM entry */
uint64_t ldr_mem_total(const struct ldr_mem *mem); /* bytes of RAM */
/* Gives [addr, addr+len), which must lie inside one RAM entry, type `type`
 * (splitting the entry). Fails when the map would have too many entries. */
cap_result ldr_mem_mark(struct ldr_mem *mem, uint64_t addr, uint64_t len, uint32_t type,
                        struct ldr_err *err);

#define LDR_CHUNK_IMAGE   1u /* comes from the kernel image (overlap = bad image) */
#define LDR_CHUNK_RESERVE 2u /* nothing written: room the kernel needs later */
#define LDR_CHUNK_BIOS    4u /* may lie in the BIOS area [0xf0000, 1 MiB) when RAM backs it */

struct ldr_chunk {
    uint64_t gpa;
    const uint8_t *src; /* may be NULL when len == 0 */
    uint64_t len;       /* bytes copied from src */
    uint64_t memsz;     /* >= len; the rest is zeroed */
    unsigned flags;
    char what[48];
};

/* The entry state, independent of CPUM (converted in loader.c). */
struct ldr_entry {
    enum loader_entry mode; /* REAL, PROTECTED or LONG */
    uint64_t rip, rsp;
    uint16_t cs_sel;        /* real mode: CS (base = sel << 4) */
    uint64_t cr3;           /* long mode */
    uint64_t rax, rbx, rsi;
};

struct ldr_inputs {
    const uint8_t *initrd;
    uint64_t initrd_len;
    const char *initrd_name; /* for messages */
    const char *kernel_name; /* the kernel's path (or buffer name); never NULL */
    const char *cmdline;     /* never NULL */
    enum loader_entry entry;
    uint64_t flat_addr;
    unsigned cpus;       /* for the MADT; 0: 1 */
    cap_bool no_acpi;
    cap_bool no_hpet;
    const uint8_t *uuid; /* SMBIOS system UUID, 16 bytes; NULL: zeros */
    cap_bool vga_text;   /* Linux: screen_info describes VGA text mode 3 */
};

struct ldr_plan {
    unsigned n;
    struct ldr_chunk c[LDR_MAX_CHUNKS];
    unsigned nblobs;
    uint8_t *blobs[LDR_MAX_BLOBS]; /* generated tables, owned by the plan */
    struct ldr_entry entry;
    struct loader_info info;
};

void ldr_plan_init(struct ldr_plan *plan);
void ldr_plan_free(struct ldr_plan *plan);
/* Adds a chunk; CAP_E_FAIL-free: fails only when the plan is full. */
cap_result ldr_plan_add(struct ldr_plan *plan, uint64_t gpa, const void *src, uint64_t len,
                        uint64_t memsz, unsigned flags, const char *what, struct ldr_err *err);
/* A zeroed blob of `size` bytes owned by the plan (NULL + err on failure). */
uint8_t *ldr_plan_blob(struct ldr_plan *plan, size_t size, struct ldr_err *err);
/* Every chunk inside one RAM entry, no two overlapping. */
cap_result ldr_plan_check(const struct ldr_plan *plan, const struct ldr_mem *mem,
                          struct ldr_err *err);

/* Shared pieces: the GDT at LOADER_GDT_ADDR (code 64-bit when long), the
 * long-mode page tables, the command line at LOADER_CMDLINE_ADDR. */
cap_result ldr_add_gdt(struct ldr_plan *plan, cap_bool long_mode, struct ldr_err *err);
cap_result ldr_add_pagetables(struct ldr_plan *plan, const struct ldr_mem *mem,
                              struct ldr_err *err);
uint64_t ldr_pagetables_cover(const struct ldr_mem *mem); /* bytes identity-mapped */

/* The Linux boot protocol's common part (loader_linux.c), shared by the
 * bzImage and the ELF64 vmlinux planners: the kernel's own chunks are in the
 * plan already; this adds command line, initrd, boot_params (setup header
 * copied from hdr[0x1f1, hdr_end)), GDT, page tables and the entry state. */
struct ldr_linux_kernel {
    enum loader_entry mode;         /* LONG or PROTECTED */
    unsigned hdr_end;               /* where the setup header in `hdr` ends */
    uint64_t kernel_start, kernel_end; /* [start, end) the kernel occupies */
    uint64_t entry;                 /* RIP at entry */
    uint32_t cmdline_size, initrd_max;
    uint16_t xloadflags;
};
#define LDR_LINUX_HDR_SIZE 0x290 /* a setup header image: offsets as in a bzImage */
cap_result ldr_linux_boot(const uint8_t *hdr, const struct ldr_linux_kernel *lk,
                          const struct ldr_inputs *in, const struct ldr_mem *mem,
                          struct ldr_plan *plan, struct ldr_err *err);
/* Fills hdr (LDR_LINUX_HDR_SIZE bytes) with the setup header a bzImage of
 * boot protocol 2.15 for this kernel would carry (what Firecracker and
 * cloud-hypervisor give a vmlinux) and sets lk->hdr_end and the limits. */
void ldr_linux_synth_header(uint8_t *hdr, struct ldr_linux_kernel *lk);

/* The firmware tables of a direct boot (loader_acpi.c), built by
 * vmm/platform: ACPI at LOADER_ACPI_ADDR (adds the chunk and sets
 * plan->info.acpi_rsdp; `cpus` local APICs, 0: 1; the PCI memory window
 * from the top of `mem`'s RAM below 4 GiB) and SMBIOS at LOADER_SMBIOS_ADDR
 * (skipped, with no error, when RAM does not back the BIOS area). */
cap_result ldr_add_acpi(struct ldr_plan *plan, const struct ldr_inputs *in,
                        const struct ldr_mem *mem, struct ldr_err *err);
cap_result ldr_add_smbios(struct ldr_plan *plan, const struct ldr_inputs *in,
                          const struct ldr_mem *mem, struct ldr_err *err);

/* The formats. `img` is the kernel image; messages do not name the file
 * (loader.c prefixes it). */
cap_result ldr_linux_plan(const uint8_t *img, size_t len, const struct ldr_inputs *in,
                          const struct ldr_mem *mem, struct ldr_plan *plan, struct ldr_err *err);
cap_result ldr_multiboot_plan(const uint8_t *img, size_t len, const struct ldr_inputs *in,
                              const struct ldr_mem *mem, struct ldr_plan *plan,
                              struct ldr_err *err);
cap_result ldr_vmlinux_plan(const uint8_t *img, size_t len, const struct ldr_inputs *in,
                            const struct ldr_mem *mem, struct ldr_plan *plan,
                            struct ldr_err *err);
/* LOADER_VMLINUX when buf is a little-endian ELF64 for x86-64, else UNKNOWN. */
enum loader_format ldr_probe_vmlinux(const void *buf, size_t len);
cap_result ldr_flat_plan(const uint8_t *img, size_t len, const struct ldr_inputs *in,
                         const struct ldr_mem *mem, struct ldr_plan *plan, struct ldr_err *err);

/* A file read whole (loader.c). */
struct ldr_file {
    const uint8_t *data;
    size_t len;
    uint8_t *owned; /* malloc'd contents when read from a file: the caller frees */
    const char *name;
};
/* Reads the regular file `path` (at most `max` bytes, else
 * VMM_E_LOADER_BAD_IMAGE, or NO_ROOM past 4 GiB) into f->data/len/owned;
 * CAP_E_IO with the reason when it cannot. */
cap_result ldr_read_file(const char *path, uint64_t max, struct ldr_file *f, struct ldr_err *err);

/* A BIOS image's size and reset vector (loader_firmware.c): pure. */
cap_result ldr_firmware_check(const uint8_t *img, size_t len, struct ldr_err *err);

/* Little-endian field access (images are byte buffers of any alignment). */
static inline uint16_t ldr_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t ldr_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t ldr_le64(const uint8_t *p)
{
    return ldr_le32(p) | (uint64_t)ldr_le32(p + 4) << 32;
}
static inline void ldr_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void ldr_put32(uint8_t *p, uint32_t v)
{
    ldr_put16(p, (uint16_t)v);
    ldr_put16(p + 2, (uint16_t)(v >> 16));
}
static inline void ldr_put64(uint8_t *p, uint64_t v)
{
    ldr_put32(p, (uint32_t)v);
    ldr_put32(p + 4, (uint32_t)(v >> 32));
}

#endif /* VMM_LOADER_INTERNAL_H */
