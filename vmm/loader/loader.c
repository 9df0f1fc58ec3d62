/*
 * vmm/loader/loader.c - loader_load: reads the files, describes guest
 * memory from the PGM map, lets the format's planner build a plan, checks
 * the plan as a whole, and only then writes guest RAM and sets the vCPU's
 * entry state. Every failure before the write leaves guest and vCPU as
 * they were; the write itself cannot fail on a checked plan except for an
 * MMIO-free RAM range vanishing underneath (reported, not expected).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capsule/errorinfo.h>

#include "loader_internal.h"

#define MAX_FILE (4ull << 30)

/* What a non-regular file is, for messages. */
static const char *ldr_file_kind(mode_t m)
{
    return S_ISFIFO(m) ? "a FIFO" : S_ISDIR(m) ? "a directory" : S_ISCHR(m) ? "a character device"
         : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a file";
}

cap_result ldr_read_file(const char *path, uint64_t max, struct ldr_file *f, struct ldr_err *err)
{
    /* O_NONBLOCK: opening a FIFO (or a device) must not wait for a writer;
     * what is not a regular file is refused below, before any read. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat st;
    if (fd < 0)
        return ldr_fail(err, CAP_E_IO, "cannot open: %s", strerror(errno));
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return ldr_fail(err, CAP_E_IO, "cannot stat: %s", strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return ldr_fail(err, CAP_E_IO, "not a regular file (%s)", ldr_file_kind(st.st_mode));
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return ldr_fail(err, max < MAX_FILE ? VMM_E_LOADER_BAD_IMAGE : VMM_E_LOADER_NO_ROOM,
                        "file is %lld bytes, too large to load (at most %llu)",
                        (long long)st.st_size, (unsigned long long)max);
    }
    size_t len = (size_t)st.st_size, got = 0;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        close(fd);
        return ldr_fail(err, CAP_E_OUTOFMEMORY, "out of memory reading %zu bytes", len);
    }
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = errno;
            free(buf);
            close(fd);
            return ldr_fail(err, CAP_E_IO, "read failed at byte %zu: %s", got,
                            n ? strerror(e) : "file shrank while reading");
        }
        got += (size_t)n;
    }
    close(fd);
    f->data = f->owned = buf;
    f->len = len;
    return CAP_OK;
}

static cap_result get_input(const char *path, const void *buf, size_t len, const char *name,
                            struct ldr_file *f, struct ldr_err *err)
{
    memset(f, 0, sizeof(*f));
    f->name = path ? path : name;
    if (path)
        return ldr_read_file(path, MAX_FILE, f, err);
    f->data = buf;
    f->len = buf ? len : 0;
    return CAP_OK;
}

static cap_result mem_from_pgm(const struct pgm *pgm, struct ldr_mem *mem, struct ldr_err *err)
{
    uint64_t ram[PGM_MAX_RANGES][2], rsv[PGM_MAX_RANGES][2];
    unsigned nram = 0, nrsv = 0, n = pgm_range_count(pgm);
    for (unsigned i = 0; i < n && i < PGM_MAX_RANGES; i++) {
        const struct pgm_range *r = pgm_range_at(pgm, i);
        if (r->external)
            continue; /* a device's memory (a framebuffer BAR), not the guest's RAM */
        uint64_t(*slot)[2] = r->kind == PGM_RANGE_RAM ? &ram[nram++] : &rsv[nrsv++];
        (*slot)[0] = r->gpa;
        (*slot)[1] = r->gpa + r->size;
    }
    if (nram > LOADER_MAX_MEM_ENTRIES)
        nram = LOADER_MAX_MEM_ENTRIES;
    return ldr_mem_build(mem, (const uint64_t(*)[2])ram, nram, (const uint64_t(*)[2])rsv, nrsv,
                         err);
}

static cap_result write_plan(struct pgm *pgm, const struct ldr_plan *plan, struct ldr_err *err)
{
    static const uint8_t zero[4096];
    for (unsigned i = 0; i < plan->n; i++) {
        const struct ldr_chunk *c = &plan->c[i];
        if (!c->memsz || (c->flags & LDR_CHUNK_RESERVE))
            continue;
        uint8_t *hva = pgm_gpa_to_hva(pgm, c->gpa, c->memsz, 1);
        if (hva) {
            if (c->len)
                memcpy(hva, c->src, c->len);
            memset(hva + c->len, 0, c->memsz - c->len);
            continue;
        }
        /* spans adjacent RAM ranges: go through the map */
        cap_result rc = c->len ? pgm_phys_write(pgm, c->gpa, c->src, c->len) : CAP_OK;
        for (uint64_t off = c->len; !rc && off < c->memsz; off += sizeof(zero)) {
            uint64_t n = c->memsz - off < sizeof(zero) ? c->memsz - off : sizeof(zero);
            rc = pgm_phys_write(pgm, c->gpa + off, zero, n);
        }
        if (rc)
            return ldr_fail(err, rc, "writing %s to guest RAM failed", c->what);
    }
    return CAP_OK;
}

static void flat_seg(struct cpum_seg *s, uint16_t sel, uint16_t attr)
{
    *s = (struct cpum_seg){ .sel = sel, .attr = attr, .limit = 0xffffffffu, .base = 0 };
}

static void set_entry(struct cpum_cpu *cpu, const struct ldr_entry *e)
{
    struct cpum_ctx *c = &cpu->ctx;
    cpum_reset(cpu, CPUM_RESET_POWER_ON);
    c->rip = e->rip;
    c->rflags = 0x2; /* IF clear */
    c->gpr[CPUM_RAX] = e->rax;
    c->gpr[CPUM_RBX] = e->rbx;
    c->gpr[CPUM_RDX] = 0;
    c->gpr[CPUM_RSI] = e->rsi;
    c->gpr[CPUM_RSP] = e->rsp;
    if (e->mode == LOADER_ENTRY_REAL) {
        c->cr0 = CR0_ET;
        c->seg[CPUM_CS].sel = e->cs_sel;
        c->seg[CPUM_CS].base = (uint64_t)e->cs_sel << 4;
        c->seg[CPUM_SS].sel = e->cs_sel;
        c->seg[CPUM_SS].base = (uint64_t)e->cs_sel << 4;
    } else {
        const uint16_t data = CPUM_SEG_G | CPUM_SEG_DB | CPUM_SEG_P | CPUM_SEG_S | 0x3;
        const uint16_t code32 = CPUM_SEG_G | CPUM_SEG_DB | CPUM_SEG_P | CPUM_SEG_S | 0xb;
        const uint16_t code64 = CPUM_SEG_G | CPUM_SEG_L | CPUM_SEG_P | CPUM_SEG_S | 0xb;
        for (unsigned i = 0; i < CPUM_SREG_COUNT; i++)
            flat_seg(&c->seg[i], 0x18, data);
        flat_seg(&c->seg[CPUM_CS], 0x10, e->mode == LOADER_ENTRY_LONG ? code64 : code32);
        c->gdtr.base = LOADER_GDT_ADDR;
        c->gdtr.limit = 31;
        c->idtr.base = 0;
        c->idtr.limit = 0; /* no IDT until the kernel loads one: a fault is a triple fault */
        c->cr0 = CR0_PE | CR0_ET;
        if (e->mode == LOADER_ENTRY_LONG) {
            c->cr0 |= CR0_PG;
            c->cr3 = e->cr3;
            c->cr4 = CR4_PAE;
            c->msr.efer = EFER_LME | EFER_LMA;
        }
    }
    cpum_mark_dirty(cpu, CPUM_STATE_ALL);
}

static enum loader_format pick_format(const struct loader_params *p, const struct ldr_file *k,
                                      struct ldr_err *err)
{
    if (p->format != LOADER_UNKNOWN)
        return p->format;
    enum loader_format f = loader_probe(k->data, k->len);
    if (f == LOADER_UNKNOWN && p->flat_fallback)
        f = LOADER_FLAT;
    if (f == LOADER_UNKNOWN)
        ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                 "not a bootable image: no Linux bzImage signature (0xAA55 at 0x1fe, \"HdrS\" "
                 "at 0x202), no multiboot header in the first 8192 bytes and not an x86-64 "
                 "ELF64 vmlinux (%zu bytes read)",
                 k->len);
    return f;
}

cap_result loader_load(struct pgm *pgm, struct cpum_cpu *cpu, const struct loader_params *p,
                       struct loader_info *out)
{
    struct ldr_err err = { { 0 } };
    struct ldr_file kernel = { 0 }, initrd = { 0 };
    struct ldr_mem mem;
    struct ldr_plan *plan = NULL;
    const char *who = "kernel";
    cap_result rc;

    if (!pgm || !cpu || !p)
        return cap_error_set(CAP_E_POINTER, VMM_COMPONENT, NULL, "loader: NULL argument");
    if (!p->kernel_path && !p->kernel_buf)
        return cap_error_set(CAP_E_INVALIDARG, VMM_COMPONENT, NULL,
                             "loader: no kernel given (path or buffer)");
    rc = get_input(p->kernel_path, p->kernel_buf, p->kernel_len,
                   p->kernel_name ? p->kernel_name : "kernel", &kernel, &err);
    who = kernel.name;
    if (rc)
        goto fail;
    rc = get_input(p->initrd_path, p->initrd_buf, p->initrd_len,
                   p->initrd_name ? p->initrd_name : "initrd", &initrd, &err);
    if (rc) {
        who = initrd.name;
        goto fail;
    }
    if ((rc = mem_from_pgm(pgm, &mem, &err)))
        goto fail;
    plan = malloc(sizeof(*plan));
    if (!plan) {
        rc = ldr_fail(&err, CAP_E_OUTOFMEMORY, "out of memory");
        goto fail;
    }
    ldr_plan_init(plan);

    struct ldr_inputs in = {
        .initrd = initrd.data,
        .initrd_len = initrd.len,
        .initrd_name = initrd.name,
        .kernel_name = kernel.name,
        .cmdline = p->cmdline ? p->cmdline : "",
        .entry = p->entry,
        .flat_addr = p->flat_addr,
        .cpus = p->cpus,
        .no_acpi = p->no_acpi,
        .no_hpet = p->no_hpet,
        .uuid = p->uuid,
        .vga_text = p->vga_text,
    };
    switch (pick_format(p, &kernel, &err)) {
    case LOADER_LINUX:
        rc = ldr_linux_plan(kernel.data, kernel.len, &in, &mem, plan, &err);
        break;
    case LOADER_MULTIBOOT:
        rc = ldr_multiboot_plan(kernel.data, kernel.len, &in, &mem, plan, &err);
        break;
    case LOADER_VMLINUX:
        rc = ldr_vmlinux_plan(kernel.data, kernel.len, &in, &mem, plan, &err);
        break;
    case LOADER_FLAT:
        rc = ldr_flat_plan(kernel.data, kernel.len, &in, &mem, plan, &err);
        break;
    default:
        rc = err.msg[0] ? VMM_E_LOADER_BAD_IMAGE
                        : ldr_fail(&err, CAP_E_INVALIDARG, "unknown format %d", p->format);
        break;
    }
    if (rc || (rc = ldr_plan_check(plan, &mem, &err)) || (rc = write_plan(pgm, plan, &err)))
        goto fail;
    set_entry(cpu, &plan->entry);
    if (out) {
        *out = plan->info;
        if (!plan->info.nmem) { /* the planner did not change the map */
            out->nmem = mem.n;
            memcpy(out->mem, mem.e, sizeof(mem.e[0]) * mem.n);
        }
    }
    ldr_plan_free(plan);
    free(plan);
    free(kernel.owned);
    free(initrd.owned);
    return CAP_OK;

fail:
    cap_error_set(rc, VMM_COMPONENT, NULL, "loader: '%s': %s", who, err.msg);
    if (plan) {
        ldr_plan_free(plan);
        free(plan);
    }
    free(kernel.owned);
    free(initrd.owned);
    return rc;
}
