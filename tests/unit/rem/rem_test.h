/* rem_test.h - shared by the REM test files: a tiny machine (16 MiB RAM,
 * one vCPU, the rem engine), nasm-assembled snippets and mode setups. */
#ifndef REM_TEST_H
#define REM_TEST_H
#include <check.h>
#include <stddef.h>

#include "rem/rem.h"

struct tm_machine {
    struct cpum_policy policy;
    struct cpum_cpu cpu;
    struct pgm *pgm;
    struct rem *rem;
    struct rem_vcpu *v;
    struct vmm_exit exit;
    uint8_t *ram;
};

extern struct tm_machine M;
#define CTX (&M.cpu.ctx)

/* Machine for every test (Check fixture). */
/* The tiny machine under the "intel-core" profile (directed tests encode
 * that CPU's behaviour), under "host" (tests whose reference is the host CPU
 * itself), or under any profile. */
void rt_setup(void);
void rt_setup_host(void);
void rt_setup_profile(const char *profile);
void rt_teardown(void);

/* Assembles `src` (nasm syntax, "bits" line included by the caller) and
 * copies it to guest-physical `gpa`; returns the length. */
size_t rt_asm(uint64_t gpa, const char *src);
/* Assembles into a host buffer (for native runs); returns the length. */
size_t rt_asm_buf(const char *src, uint8_t *buf, size_t size);
/* Assembles n snippets in one nasm run (a nasm process per snippet costs
 * far more than the differential tests' runs of them): snippet i is `fmt`
 * (with its "bits" line, position-independent, no org and no non-local
 * labels) with texts[i] for its one %s, and starts at i * stride in the
 * returned buffer of n * stride bytes (the caller frees it). Fails the
 * test when nasm fails or a snippet is longer than stride. */
uint8_t *rt_asm_batch(const char *fmt, const char *const *texts, size_t n, size_t stride);

/* Modes: set CPUM state directly. The GDT lives at 0x500 (see test_main.c):
 *   0x08 code32 0x10 data32 0x18 code64 0x23 user data 0x2b user code64
 *   0x33 user code32 0x38 TSS(64-bit / 32-bit, 16 bytes) 0x48 code16 0x50 data16 */
void rt_real(uint64_t ip);
void rt_prot32(uint64_t eip, int paging);
void rt_long64(uint64_t rip);
/* IDT entry `vec` -> handler at `off` (32- or 64-bit gate per mode); dpl. */
void rt_idt_gate(unsigned vec, uint64_t off, unsigned dpl, int trap);

/* Runs until an exit other than INTERRUPTED (max 10M instructions). */
enum vmm_exit_reason rt_run(void);

void rt_wr64(uint64_t gpa, uint64_t v);
uint64_t rt_rd64(uint64_t gpa);
void rt_wr32(uint64_t gpa, uint32_t v);
uint32_t rt_rd32(uint64_t gpa);

TCase *tcase_basic(void);
TCase *tcase_alu_diff(void);
TCase *tcase_xcpt(void);
TCase *tcase_gates(void);
TCase *tcase_mem(void);
TCase *tcase_bench(void);
TCase *tcase_fpu_diff(void);
TCase *tcase_fpu(void);
TCase *tcase_block(void);
TCase *tcase_jit(void);
TCase *tcase_vendor(void);
TCase *tcase_feat(void);
TCase *tcase_debug(void);

/* test_feat.c: runs the bytes `db` (a nasm db list) in 64-bit mode at CPL0
 * (0x100000) or CPL3 (0x101000) with handlers for #UD, #GP, #PF and #DB;
 * returns the vector taken (R14: its RIP, R13: its error code) or -1. */
int rt_feat_run(const char *db, int cpl3);
extern uint64_t rt_feat_cr4; /* OR'ed into CR4 by rt_feat_run */
#endif
