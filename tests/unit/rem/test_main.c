/*
 * test_main.c - the REM suite's machine: 16 MiB of RAM at 0, a CPUM vCPU,
 * the rem engine; GDT, IDT, TSS and page tables built in guest RAM; nasm
 * snippets assembled at run time.
 *
 * Guest memory map of the tests:
 *   0x00000 real-mode IVT          0x00500 GDT (layout in rem_test.h)
 *   0x01000 IDT                    0x03000 TSS
 *   0x10000 long-mode page tables  0x20000 32-bit page tables
 *   0x80000 stacks (grow down)     0x100000 code        0x200000 data
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rem_test.h"

struct tm_machine M;

void rt_wr64(uint64_t gpa, uint64_t v) { ck_assert_int_eq(pgm_phys_write(M.pgm, gpa, &v, 8), CAP_OK); }
uint64_t rt_rd64(uint64_t gpa) { uint64_t v = 0; pgm_phys_read(M.pgm, gpa, &v, 8); return v; }
void rt_wr32(uint64_t gpa, uint32_t v) { ck_assert_int_eq(pgm_phys_write(M.pgm, gpa, &v, 4), CAP_OK); }
uint32_t rt_rd32(uint64_t gpa) { uint32_t v = 0; pgm_phys_read(M.pgm, gpa, &v, 4); return v; }

static uint64_t desc(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
    return (limit & 0xffffull) | ((uint64_t)(base & 0xffffff) << 16) | ((uint64_t)access << 40) |
           ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)flags << 52) |
           ((uint64_t)(base >> 24) << 56);
}

static const uint64_t gdt[] = {
    0,
    0x00cf9b000000ffffull, /* 0x08 code32 */
    0x00af9b000000ffffull, /* 0x10 code64 */
    0x00cf93000000ffffull, /* 0x18 data */
    0x00cffb000000ffffull, /* 0x20 user code32 (0x23) */
    0x00cff3000000ffffull, /* 0x28 user data (0x2b) */
    0x00affb000000ffffull, /* 0x30 user code64 (0x33) */
    0, 0,                  /* 0x38 TSS (filled in) */
    0x00009b000000ffffull, /* 0x48 code16 */
    0x000093000000ffffull, /* 0x50 data16 */
};

static void seg_from(struct cpum_seg *s, uint16_t sel)
{
    uint64_t d = gdt[sel >> 3];
    uint32_t limit = (uint32_t)(d & 0xffff) | (uint32_t)((d >> 32) & 0xf0000);
    s->attr = (uint16_t)(((d >> 40) & 0xff) | (((d >> 52) & 0xf) << 12));
    if (s->attr & CPUM_SEG_G)
        limit = (limit << 12) | 0xfff;
    s->sel = sel;
    s->limit = limit;
    s->base = ((d >> 16) & 0xffffff) | ((d >> 56) << 24);
}

void rt_setup(void)
{
    rt_setup_profile("intel-core");
}

void rt_setup_host(void)
{
    rt_setup_profile("host");
}

void rt_setup_profile(const char *profile)
{
    memset(&M, 0, sizeof(M));
    ck_assert_int_eq(cpum_policy_init(&M.policy, 1, profile), CAP_OK);
    cpum_cpu_init(&M.cpu, &M.policy, 0);
    ck_assert_int_eq(pgm_create(&M.pgm), CAP_OK);
    ck_assert_int_eq(pgm_map_ram(M.pgm, 0, 16u << 20, "ram"), CAP_OK);
    M.ram = pgm_gpa_to_hva(M.pgm, 0, 16u << 20, CAP_TRUE);
    ck_assert_ptr_nonnull(M.ram);
    ck_assert_int_eq(rem_create(M.pgm, &M.policy, NULL, &M.rem), CAP_OK);
    ck_assert_int_eq(rem_vcpu_create(M.rem, &M.cpu, &M.v), CAP_OK);
    memcpy(M.ram + 0x500, gdt, sizeof(gdt));
    uint64_t tss = desc(0x3000, 0x67, 0x89, 0);
    memcpy(M.ram + 0x500 + 0x38, &tss, 8);
    /* Long-mode tables: 4 KiB pages for the first 2 MiB, 2 MiB pages to 16 MiB. */
    rt_wr64(0x10000, 0x11000 | 7);
    rt_wr64(0x11000, 0x12000 | 7);
    rt_wr64(0x12000, 0x13000 | 7);
    for (unsigned i = 0; i < 512; i++)
        rt_wr64(0x13000 + 8 * i, ((uint64_t)i << 12) | 7);
    for (unsigned i = 1; i < 8; i++)
        rt_wr64(0x12000 + 8 * i, ((uint64_t)i << 21) | 0x87);
    /* 32-bit tables: PT for the first 4 MiB, PSE pages above. */
    rt_wr32(0x20000, 0x21000 | 7);
    for (unsigned i = 0; i < 1024; i++)
        rt_wr32(0x21000 + 4 * i, (i << 12) | 7);
    for (unsigned i = 1; i < 4; i++)
        rt_wr32(0x20000 + 4 * i, (i << 22) | 0x87);
}

void rt_teardown(void)
{
    rem_vcpu_destroy(M.v);
    rem_destroy(M.rem);
    pgm_destroy(M.pgm);
}

/* nasm on the source file `in` (removed after): up to `size` bytes of the
 * binary into buf; `what` names the source in a failure. */
static size_t nasm_file(const char *in, uint8_t *buf, size_t size, const char *what)
{
    char out[64];
    snprintf(out, sizeof(out), "%s.bin", in);
    /* nasm itself, without a shell in between: the suite runs it hundreds
     * of times */
    char *argv[] = {"nasm", "-f", "bin", "-o", out, (char *)in, NULL};
    pid_t pid;
    int st = -1;
    if (posix_spawnp(&pid, "nasm", NULL, NULL, argv, environ) == 0)
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
    unlink(in);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "nasm failed on:\n%s", what);
    FILE *f = fopen(out, "rb");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, size, f);
    fclose(f);
    unlink(out);
    return n;
}

/* Sources assembled lately and their bytes (round robin): a test assembles
 * the same snippet again and again (test_feat.c its fault handlers, once
 * per instruction it tries); nasm runs once for each. */
static struct {
    char *src;
    uint8_t *bin;
    size_t len, size; /* bytes kept; the buffer size they were read with */
} asm_cache[8];
static unsigned asm_cache_next;

size_t rt_asm_buf(const char *src, uint8_t *buf, size_t size)
{
    for (unsigned i = 0; i < sizeof(asm_cache) / sizeof(asm_cache[0]); i++)
        if (asm_cache[i].src && asm_cache[i].size == size && !strcmp(asm_cache[i].src, src)) {
            memcpy(buf, asm_cache[i].bin, asm_cache[i].len);
            return asm_cache[i].len;
        }
    char in[] = "/tmp/rem-test-XXXXXX";
    int fd = mkstemp(in);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, src, strlen(src)), (ssize_t)strlen(src));
    close(fd);
    size_t n = nasm_file(in, buf, size, src);
    unsigned slot = asm_cache_next++ % (sizeof(asm_cache) / sizeof(asm_cache[0]));
    free(asm_cache[slot].src);
    free(asm_cache[slot].bin);
    asm_cache[slot].src = strdup(src);
    asm_cache[slot].bin = malloc(n ? n : 1);
    ck_assert(asm_cache[slot].src && asm_cache[slot].bin);
    memcpy(asm_cache[slot].bin, buf, n);
    asm_cache[slot].len = n;
    asm_cache[slot].size = size;
    return n;
}

uint8_t *rt_asm_batch(const char *fmt, const char *const *texts, size_t n, size_t stride)
{
    char in[] = "/tmp/rem-test-XXXXXX";
    int fd = mkstemp(in);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    /* each snippet padded to its slot; a longer one makes a TIMES count
     * negative, which nasm refuses */
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "times %zu - ($ - $$) db 0xcc\n", i * stride);
        fprintf(f, fmt, texts[i]);
        fprintf(f, "\n");
    }
    fprintf(f, "times %zu - ($ - $$) db 0xcc\n", n * stride);
    ck_assert_int_eq(fclose(f), 0);
    uint8_t *buf = malloc(n * stride + 1);
    ck_assert_ptr_nonnull(buf);
    char what[160];
    snprintf(what, sizeof(what),
             "a batch of %zu snippets of %zu bytes at most (nasm's message "
             "names the line)",
             n, stride);
    ck_assert_uint_eq(nasm_file(in, buf, n * stride + 1, what), n * stride);
    return buf;
}

size_t rt_asm(uint64_t gpa, const char *src)
{
    static uint8_t buf[65536];
    size_t n = rt_asm_buf(src, buf, sizeof(buf));
    ck_assert_int_eq(pgm_phys_write(M.pgm, gpa, buf, n), CAP_OK);
    return n;
}

static void dirty(void)
{
    cpum_mark_dirty(&M.cpu, CPUM_STATE_ALL);
}

void rt_real(uint64_t ip)
{
    struct cpum_ctx *c = CTX;
    for (unsigned s = 0; s < CPUM_SREG_COUNT; s++) {
        c->seg[s].sel = 0;
        c->seg[s].base = 0;
        c->seg[s].limit = 0xffff;
        c->seg[s].attr = s == CPUM_CS ? 0x9b : 0x93;
    }
    c->cr0 = CR0_ET;
    c->rip = ip;
    c->gpr[CPUM_RSP] = 0x8000;
    c->idtr.base = 0;
    c->idtr.limit = 0x3ff;
    dirty();
}

static void common_pm(void)
{
    struct cpum_ctx *c = CTX;
    c->gdtr.base = 0x500;
    c->gdtr.limit = sizeof(gdt) - 1;
    c->idtr.base = 0x1000;
    c->idtr.limit = 0xfff;
    c->tr.sel = 0x38;
    c->tr.base = 0x3000;
    c->tr.limit = 0x67;
    c->tr.attr = 0x8b;
    c->ldtr.attr = 0;
}

void rt_prot32(uint64_t eip, int paging)
{
    struct cpum_ctx *c = CTX;
    common_pm();
    seg_from(&c->seg[CPUM_CS], 0x08);
    for (unsigned s = 0; s < CPUM_SREG_COUNT; s++)
        if (s != CPUM_CS)
            seg_from(&c->seg[s], 0x18);
    c->cr0 = CR0_PE | CR0_ET | CR0_NE | (paging ? CR0_PG | CR0_WP : 0);
    c->cr3 = 0x20000;
    c->cr4 = paging ? CR4_PSE | CR4_OSFXSR : CR4_OSFXSR;
    c->msr.efer = 0;
    c->rip = eip;
    c->gpr[CPUM_RSP] = 0x80000;
    c->rflags = 2;
    dirty();
}

void rt_long64(uint64_t rip)
{
    struct cpum_ctx *c = CTX;
    common_pm();
    seg_from(&c->seg[CPUM_CS], 0x10);
    for (unsigned s = 0; s < CPUM_SREG_COUNT; s++)
        if (s != CPUM_CS)
            seg_from(&c->seg[s], 0x18);
    c->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG | CR0_WP | CR0_MP;
    c->cr3 = 0x10000;
    c->cr4 = CR4_PAE | CR4_PGE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    c->msr.efer = EFER_LME | EFER_LMA | EFER_SCE | EFER_NXE;
    c->rip = rip;
    c->gpr[CPUM_RSP] = 0x80000;
    c->rflags = 2;
    /* TSS: RSP0 = 0x70000, IST1 = 0x60000. */
    rt_wr64(0x3000 + 4, 0x70000);
    rt_wr64(0x3000 + 0x24, 0x60000);
    dirty();
}

void rt_idt_gate(unsigned vec, uint64_t off, unsigned dpl, int trap)
{
    unsigned type = trap ? 0xf : 0xe;
    if (CTX->msr.efer & EFER_LMA) {
        uint64_t lo = (off & 0xffff) | (0x10ull << 16) | ((uint64_t)(0x80 | (dpl << 5) | type) << 40) |
                      ((off >> 16) & 0xffff) << 48;
        rt_wr64(0x1000 + 16 * vec, lo);
        rt_wr64(0x1000 + 16 * vec + 8, off >> 32);
    } else {
        uint64_t lo = (off & 0xffff) | (0x08ull << 16) | ((uint64_t)(0x80 | (dpl << 5) | type) << 40) |
                      ((off >> 16) & 0xffff) << 48;
        rt_wr64(0x1000 + 8 * vec, lo);
    }
}

enum vmm_exit_reason rt_run(void)
{
    for (int i = 0; i < 100; i++) {
        cap_result rc = rem_vcpu_run(M.v, 10000000, &M.exit);
        ck_assert_int_eq(rc, CAP_OK);
        if (M.exit.reason != VMM_EXIT_INTERRUPTED)
            return M.exit.reason;
    }
    return VMM_EXIT_INTERRUPTED;
}

int main(void)
{
    Suite *s = suite_create("rem");
    suite_add_tcase(s, tcase_basic());
    suite_add_tcase(s, tcase_alu_diff());
    suite_add_tcase(s, tcase_xcpt());
    suite_add_tcase(s, tcase_gates());
    suite_add_tcase(s, tcase_mem());
    suite_add_tcase(s, tcase_block());
    suite_add_tcase(s, tcase_jit());
    suite_add_tcase(s, tcase_vendor());
    suite_add_tcase(s, tcase_feat());
    suite_add_tcase(s, tcase_debug());
    suite_add_tcase(s, tcase_fpu_diff());
    suite_add_tcase(s, tcase_fpu());
    suite_add_tcase(s, tcase_bench());
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
