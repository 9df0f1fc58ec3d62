/*
 * capsule-csam - runs CSAM's scanner over a 64-bit ELF kernel (a vmlinux)
 * as raw mode would over guest memory, and prints what it found: the
 * sensitive instructions with their addresses and kinds (--list) and the
 * counts per kind.
 *
 *   capsule-csam [--entry ADDR]... [--symbol NAME]... [--exports] [--idt]
 *                [--list] [--budget N] FILE
 *
 * Roots: the ELF entry point unless an --entry is given, each --entry ADDR
 * (a physical address, as a vmlinux's entry point is, is turned into the
 * kernel's linked address through the program headers), each --symbol NAME from the kernel's export
 * table (__ksymtab, __ksymtab_gpl: a stripped vmlinux has no other symbol
 * table), and with --exports every exported symbol inside an executable
 * section, and with --idt the handlers of Linux's static IDT tables (found
 * by the shape of struct idt_data, see add_idt_roots). Guest-physical = the segments' physical
 * addresses; only executable PT_LOAD segments are code.
 *
 * Exit status: 0 success, 1 the file cannot be read or is not a 64-bit
 * x86 ELF, or a root cannot be found or scanned, 2 bad usage.
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csam/csam.h"

struct image {
    const uint8_t *data;
    size_t size;
    const Elf64_Ehdr *eh;
    const Elf64_Phdr *ph;
};

static int load_file(const char *path, struct image *im)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    if (!f)
        return -1;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1 << 20;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                errno = ENOMEM;
                return -1;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (!r)
            break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        errno = EIO;
        return -1;
    }
    im->data = buf;
    im->size = n;
    return 0;
}

static const char *check_elf(struct image *im)
{
    const Elf64_Ehdr *eh = (const void *)im->data;
    if (im->size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
        eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64)
        return "not a 64-bit x86 ELF file";
    if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > im->size ||
        (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > im->size - eh->e_phoff)
        return "program headers out of the file";
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *p = (const void *)(im->data + eh->e_phoff + i * sizeof(Elf64_Phdr));
        if (p->p_type == PT_LOAD &&
            (p->p_offset > im->size || p->p_filesz > im->size - p->p_offset))
            return "a PT_LOAD segment out of the file";
    }
    im->eh = eh;
    im->ph = (const void *)(im->data + eh->e_phoff);
    return NULL;
}

/* The executable PT_LOAD segment holding va (by_phys: physical address). */
static const Elf64_Phdr *seg_of(const struct image *im, uint64_t a, int by_phys)
{
    for (unsigned i = 0; i < im->eh->e_phnum; i++) {
        const Elf64_Phdr *p = &im->ph[i];
        uint64_t base = by_phys ? p->p_paddr : p->p_vaddr;
        if (p->p_type == PT_LOAD && (p->p_flags & PF_X) && a >= base && a - base < p->p_memsz)
            return p;
    }
    return NULL;
}

static int img_translate(void *user, uint64_t va, uint64_t *gpa)
{
    const Elf64_Phdr *p = seg_of(user, va, 0);
    if (!p)
        return -1;
    *gpa = (p->p_paddr + (va - p->p_vaddr)) & ~CSAM_PAGE_MASK;
    return 0;
}

static int img_read_page(void *user, uint64_t gpa, uint8_t *buf)
{
    const struct image *im = user;
    memset(buf, 0, CSAM_PAGE_SIZE);
    int found = 0;
    for (unsigned i = 0; i < im->eh->e_phnum; i++) {
        const Elf64_Phdr *p = &im->ph[i];
        if (p->p_type != PT_LOAD || !(p->p_flags & PF_X))
            continue;
        uint64_t lo = gpa > p->p_paddr ? gpa : p->p_paddr;
        uint64_t hi = gpa + CSAM_PAGE_SIZE < p->p_paddr + p->p_filesz ? gpa + CSAM_PAGE_SIZE
                                                                      : p->p_paddr + p->p_filesz;
        if (gpa < p->p_paddr + p->p_memsz && p->p_paddr < gpa + CSAM_PAGE_SIZE)
            found = 1;
        if (lo < hi)
            memcpy(buf + (lo - gpa), im->data + p->p_offset + (lo - p->p_paddr), hi - lo);
    }
    return found ? 0 : -1;
}

/* The file bytes at linear address va (NULL outside the segments). */
static const uint8_t *bytes_at(const struct image *im, uint64_t va, size_t *avail)
{
    const Elf64_Phdr *p = seg_of(im, va, 0);
    if (!p || va - p->p_vaddr >= p->p_filesz)
        return NULL;
    *avail = p->p_filesz - (va - p->p_vaddr);
    return im->data + p->p_offset + (va - p->p_vaddr);
}

static const Elf64_Shdr *section(const struct image *im, const char *name)
{
    const Elf64_Ehdr *eh = im->eh;
    if (!eh->e_shoff || eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > im->size ||
        (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > im->size - eh->e_shoff ||
        eh->e_shstrndx >= eh->e_shnum)
        return NULL;
    const Elf64_Shdr *sh = (const void *)(im->data + eh->e_shoff);
    const Elf64_Shdr *str = &sh[eh->e_shstrndx];
    if (str->sh_offset > im->size || str->sh_size > im->size - str->sh_offset)
        return NULL;
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_name >= str->sh_size)
            continue;
        const char *n = (const char *)im->data + str->sh_offset + sh[i].sh_name;
        if (strnlen(n, str->sh_size - sh[i].sh_name) < str->sh_size - sh[i].sh_name &&
            !strcmp(n, name) && sh[i].sh_type == SHT_PROGBITS && sh[i].sh_offset <= im->size &&
            sh[i].sh_size <= im->size - sh[i].sh_offset)
            return &sh[i];
    }
    return NULL;
}

static int in_exec_section(const struct image *im, uint64_t va)
{
    const Elf64_Shdr *sh = (const void *)(im->data + im->eh->e_shoff);
    for (unsigned i = 0; i < im->eh->e_shnum; i++)
        if ((sh[i].sh_flags & SHF_EXECINSTR) && va >= sh[i].sh_addr &&
            va - sh[i].sh_addr < sh[i].sh_size)
            return 1;
    return 0;
}

/*
 * Calls fn for each symbol of the kernel's export tables: struct
 * kernel_symbol with place-relative 32-bit offsets (value, name, namespace),
 * names in __ksymtab_strings. Returns how many, -1 without the tables.
 */
static long for_each_export(const struct image *im, void (*fn)(void *, const char *, uint64_t),
                            void *ctx)
{
    const Elf64_Shdr *strs = section(im, "__ksymtab_strings");
    static const char *const tabs[2] = {"__ksymtab", "__ksymtab_gpl"};
    long n = 0;
    if (!strs)
        return -1;
    for (int t = 0; t < 2; t++) {
        const Elf64_Shdr *s = section(im, tabs[t]);
        if (!s)
            return -1;
        for (uint64_t o = 0; o + 12 <= s->sh_size; o += 12) {
            int32_t v, nm;
            memcpy(&v, im->data + s->sh_offset + o, 4);
            memcpy(&nm, im->data + s->sh_offset + o + 4, 4);
            uint64_t va = s->sh_addr + o + (int64_t)v;
            uint64_t name = s->sh_addr + o + 4 + (int64_t)nm;
            if (name < strs->sh_addr || name - strs->sh_addr >= strs->sh_size)
                continue;
            const char *p = (const char *)im->data + strs->sh_offset + (name - strs->sh_addr);
            if (strnlen(p, strs->sh_size - (name - strs->sh_addr)) ==
                strs->sh_size - (name - strs->sh_addr))
                continue;
            fn(ctx, p, va);
            n++;
        }
    }
    return n;
}

/*
 * Adds the handlers of Linux's static IDT tables as roots (--idt): arrays of
 * struct idt_data (arch/x86/kernel/idt.c: u32 vector, u32 segment, u16 gate
 * bits, padding, 8-byte handler address) anywhere in the loaded data, each
 * entry recognised by segment __KERNEL_CS (0x10), a present interrupt or
 * trap gate, zero padding and a handler in an executable segment. Returns
 * the number of gates found.
 */
static size_t add_idt_roots(const struct image *im, int (*add)(void *, uint64_t), void *ctx)
{
    size_t n = 0;
    for (unsigned i = 0; i < im->eh->e_phnum; i++) {
        const Elf64_Phdr *p = &im->ph[i];
        if (p->p_type != PT_LOAD || p->p_filesz < 24)
            continue;
        const uint8_t *b = im->data + p->p_offset;
        for (uint64_t o = (8 - (p->p_vaddr & 7)) & 7; o + 24 <= p->p_filesz; o += 8) {
            uint32_t vec, seg;
            uint16_t bits;
            uint64_t addr;
            static const uint8_t zero[6];
            memcpy(&vec, b + o, 4);
            memcpy(&seg, b + o + 4, 4);
            memcpy(&bits, b + o + 8, 2);
            memcpy(&addr, b + o + 16, 8);
            if (seg != 0x10 || vec > 255 || (bits & 0x9e00) != 0x8e00 ||
                memcmp(b + o + 10, zero, 6) || !seg_of(im, addr, 0))
                continue;
            if (add(ctx, addr))
                return n;
            n++;
        }
    }
    return n;
}

struct roots {
    uint64_t *va;
    size_t n, cap;
    const char **want; /* --symbol names */
    int *found;
    size_t nwant;
    int all; /* --exports */
    const struct image *im;
};

static int add_root(struct roots *r, uint64_t va)
{
    if (r->n == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 64;
        uint64_t *nv = realloc(r->va, ncap * sizeof(*nv));
        if (!nv)
            return -1;
        r->va = nv;
        r->cap = ncap;
    }
    r->va[r->n++] = va;
    return 0;
}

static int add_root_cb(void *ctx, uint64_t va)
{
    return add_root(ctx, va);
}

static void on_export(void *ctx, const char *name, uint64_t va)
{
    struct roots *r = ctx;
    int take = r->all && in_exec_section(r->im, va);
    for (size_t i = 0; i < r->nwant; i++)
        if (!strcmp(r->want[i], name)) {
            r->found[i] = 1;
            take = 1;
        }
    if (take && add_root(r, va))
        r->all = 0; /* out of memory: the scan reports fewer roots */
}

static void print_list(const struct image *im, struct csam *c)
{
    for (unsigned i = 0; i < im->eh->e_phnum; i++) {
        const Elf64_Phdr *p = &im->ph[i];
        if (p->p_type != PT_LOAD || !(p->p_flags & PF_X))
            continue;
        for (uint64_t o = 0; o < p->p_memsz; o += CSAM_PAGE_SIZE) {
            const struct csam_insn *ins;
            size_t n = csam_page_insns(c, p->p_paddr + o, &ins);
            for (size_t k = 0; k < n; k++) {
                if (!ins[k].sens)
                    continue;
                uint64_t va = p->p_vaddr + o + ins[k].off;
                char text[160] = "(bad)";
                size_t avail;
                const uint8_t *b = bytes_at(im, va, &avail);
                struct dis_insn in;
                if (b && dis_decode(b, avail, DIS_MODE_64, &in) > 0)
                    dis_format(&in, va, text, sizeof(text));
                printf("%016" PRIx64 "  %-10s %s\n", va,
                       ins[k].flags & CSAM_INSN_INVALID ? "invalid" : dis_sens_name(ins[k].sens),
                       text);
            }
        }
    }
}

static void print_summary(struct csam *c, size_t roots, long idt)
{
    struct csam_stats st;
    csam_get_stats(c, &st);
    if (idt >= 0)
        printf("idt-gates %ld\n", idt);
    printf("roots %zu\npages %" PRIu64 "\ninsns %" PRIu64 "\ninvalid %" PRIu64
           "\ncross-page %" PRIu64 "\nunmapped %" PRIu64 "\nlimits %" PRIu64 "\n",
           roots, st.pages_scanned, st.insns, st.invalid, st.cross, st.unmapped, st.limits);
    uint64_t total = 0;
    for (unsigned k = 1; k < DIS_SENS_COUNT; k++) {
        printf("sensitive %-10s %" PRIu64 "\n", dis_sens_name(k), st.sens[k]);
        total += st.sens[k];
    }
    printf("sensitive total %" PRIu64 "\n", total);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: capsule-csam [--entry ADDR]... [--symbol NAME]... [--exports] [--idt]\n"
               "                    [--list] [--budget N] FILE\n"
               "  --entry   scan from this linked address (default: the ELF entry point)\n"
               "  --symbol  scan from an exported symbol of the kernel (__ksymtab)\n"
               "  --exports scan from every exported symbol in an executable section\n"
               "  --idt     scan from the handlers of Linux's static IDT tables (idt_data)\n"
               "  --list    print every sensitive instruction found, with its kind\n"
               "  --budget  instructions decoded per csam_scan call (default 100000)\n");
}

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-')
        return -1;
    *v = x;
    return 0;
}

int main(int argc, char **argv)
{
    struct roots r = {0};
    const char *file = NULL;
    int list = 0, rc = 1, want_idt = 0;
    long idt = -1;
    uint64_t budget = 100000, v;
    struct image im = {0};
    struct csam *c = NULL;

    r.want = calloc((size_t)argc, sizeof(*r.want));
    r.found = calloc((size_t)argc, sizeof(*r.found));
    if (!r.want || !r.found)
        goto out;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            rc = 0;
            goto out;
        } else if (!strcmp(a, "--list")) {
            list = 1;
        } else if (!strcmp(a, "--exports")) {
            r.all = 1;
        } else if (!strcmp(a, "--idt")) {
            want_idt = 1;
        } else if ((!strcmp(a, "--entry") || !strcmp(a, "--budget")) && i + 1 < argc &&
                   !parse_u64(argv[i + 1], &v) && (a[2] == 'e' || (v && v <= UINT32_MAX))) {
            if (a[2] == 'b')
                budget = v;
            else if (add_root(&r, v))
                goto out;
            i++;
        } else if (!strcmp(a, "--symbol") && i + 1 < argc) {
            r.want[r.nwant++] = argv[++i];
        } else if (a[0] == '-' || file) {
            fprintf(stderr, "capsule-csam: bad argument '%s'\n", a);
            usage(stderr);
            rc = 2;
            goto out;
        } else {
            file = a;
        }
    }
    if (!file) {
        usage(stderr);
        rc = 2;
        goto out;
    }
    if (load_file(file, &im)) {
        fprintf(stderr, "capsule-csam: cannot read '%s': %s\n", file, strerror(errno));
        goto out;
    }
    const char *why = check_elf(&im);
    if (why) {
        fprintf(stderr, "capsule-csam: %s: %s\n", file, why);
        goto out;
    }
    r.im = &im;
    if (!r.n && add_root(&r, im.eh->e_entry)) /* no --entry: the ELF entry is a root too */
        goto out;
    for (size_t i = 0; i < r.n; i++) { /* physical addresses (a vmlinux's entry) to linked ones */
        const Elf64_Phdr *p = seg_of(&im, r.va[i], 0) ? NULL : seg_of(&im, r.va[i], 1);
        if (p)
            r.va[i] = p->p_vaddr + (r.va[i] - p->p_paddr);
    }
    if ((r.nwant || r.all) && for_each_export(&im, on_export, &r) < 0) {
        fprintf(stderr, "capsule-csam: %s: no __ksymtab/__ksymtab_gpl/__ksymtab_strings sections\n",
                file);
        goto out;
    }
    if (want_idt)
        idt = (long)add_idt_roots(&im, add_root_cb, &r);
    for (size_t i = 0; i < r.nwant; i++)
        if (!r.found[i]) {
            fprintf(stderr, "capsule-csam: %s: no exported symbol '%s'\n", file, r.want[i]);
            goto out;
        }
    if (csam_create(NULL, &c) != CAP_OK) {
        fprintf(stderr, "capsule-csam: out of memory\n");
        goto out;
    }
    struct csam_mem mem = {img_translate, img_read_page, &im};
    for (size_t i = 0; i < r.n; i++) {
        int s = csam_scan(c, &mem, r.va[i], DIS_MODE_64, (unsigned)budget);
        while (s == CSAM_MORE)
            s = csam_resume(c, &mem, (unsigned)budget);
        if (s != CSAM_DONE) {
            fprintf(stderr,
                    "capsule-csam: %s: cannot scan from 0x%" PRIx64
                    " (not in an executable segment)\n",
                    file, r.va[i]);
            goto out;
        }
    }
    if (list)
        print_list(&im, c);
    print_summary(c, r.n, idt);
    rc = ferror(stdout) ? 1 : 0;
out:
    csam_destroy(c);
    free((void *)im.data);
    free(r.va);
    free(r.want);
    free(r.found);
    return rc;
}
