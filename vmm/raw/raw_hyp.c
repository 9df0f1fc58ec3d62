/*
 * raw_hyp.c - the hypervisor area's contents (raw.h): the page tables that
 * map it at RAW_HYP_VA, the raw root built from a guest PML4, the GDT with
 * the VMM's descriptors, the TSS and its one-port I/O bitmap, the IDT and
 * the stubs. Host-neutral and pure (bytes in a buffer), so the layout is
 * tested without a hypervisor (tests/unit/raw).
 *
 * Every page of the area is supervisor-only except RAW_HYP_USTUB: guest
 * CPL0 never runs in the raw context (the stubs run at CPL0, emulated by
 * the host or executed by the CPU alike), and user code must reach only
 * LSTAR's stub. All IDT gates have DPL 0, so an INT n / INT3 / INTO from
 * user code is a #GP at the instruction whatever the guest's gate says,
 * and rem re-executing it applies the guest's own gate DPL.
 */
#include <string.h>

#include "raw.h"

#define PTE_P  0x1ull
#define PTE_W  0x2ull
#define PTE_U  0x4ull
#define PTE_A  (1ull << 5)
#define PTE_D  (1ull << 6)
#define PTE_NX (1ull << 63)

/* Descriptors (SDM Vol. 3A 3.4.5): 64-bit code DPL0, data DPL0. */
#define DESC_CODE64_DPL0 0x00af9b000000ffffull
#define DESC_DATA_DPL0   0x00cf93000000ffffull
#define DESC_TSS64_AVAIL 0x89ull /* type 9, present */
#define GATE_INT_DPL0    0x8eull /* 64-bit interrupt gate, present */

/* Not in cpum.h's list (SDM Vol. 3A 2.3, 2.5). */
#define RFLAGS_TF   (1ull << 8)
#define RFLAGS_IOPL (3ull << RFLAGS_IOPL_SHIFT)
#define CR4_LA57    (1ull << 12)

/* TSS fields (SDM Vol. 3A 8.7). */
#define TSS_RSP0       4u
#define TSS_IOMAP_BASE 0x66u
#define TSS_SIZE       0x68u

/* Vectors that push an error code: 8, 10-14, 17, 21, 29, 30. */
#define ERRCODE_VECTORS 0x60227d00u

static uint64_t *q(uint8_t *area, unsigned off)
{
    return (uint64_t *)(area + off);
}

cap_bool raw_vector_has_error(unsigned vector)
{
    return vector < 32 && ((ERRCODE_VECTORS >> vector) & 1);
}

static void build_tables(uint8_t *area, uint64_t gpa)
{
    q(area, RAW_HYP_PDPT)[0] = (gpa + RAW_HYP_PD) | PTE_P | PTE_W | PTE_U;
    q(area, RAW_HYP_PD)[0] = (gpa + RAW_HYP_PT) | PTE_P | PTE_W | PTE_U;
    uint64_t *pt = q(area, RAW_HYP_PT);
    for (unsigned off = 0; off < RAW_HYP_SIZE; off += 0x1000)
        pt[off >> 12] = (gpa + off) | PTE_P | PTE_W;
    pt[RAW_HYP_USTUB >> 12] = (gpa + RAW_HYP_USTUB) | PTE_P | PTE_U; /* read + execute */
}

static void build_gdt_tss(uint8_t *area)
{
    uint64_t *gdt = q(area, RAW_HYP_GDT);
    gdt[RAW_SEL_HCS >> 3] = DESC_CODE64_DPL0;
    gdt[RAW_SEL_HDS >> 3] = DESC_DATA_DPL0;
    uint64_t tss = RAW_HYP_VA + RAW_HYP_TSS;
    gdt[RAW_SEL_TSS >> 3] = RAW_TSS_LIMIT | ((tss & 0xffffff) << 16) | (DESC_TSS64_AVAIL << 40) |
                            (((tss >> 24) & 0xff) << 56);
    gdt[(RAW_SEL_TSS >> 3) + 1] = tss >> 32;

    uint8_t *t = area + RAW_HYP_TSS;
    uint64_t rsp0 = RAW_HYP_VA + RAW_HYP_STACK;
    memcpy(t + TSS_RSP0, &rsp0, 8);
    uint16_t iomap = TSS_SIZE;
    memcpy(t + TSS_IOMAP_BASE, &iomap, 2);
    memset(t + TSS_SIZE, 0xff, RAW_TSS_LIMIT + 1 - TSS_SIZE);
    t[TSS_SIZE + RAW_PORT_SYSCALL / 8] &= (uint8_t) ~(1u << (RAW_PORT_SYSCALL % 8));
}

static void build_idt_stubs(uint8_t *area)
{
    uint64_t *idt = q(area, RAW_HYP_IDT);
    for (unsigned v = 0; v < 256; v++) {
        uint8_t *s = area + RAW_HYP_STUBS + v * RAW_STUB_SIZE;
        static const uint8_t stub[] = {0xe6, RAW_PORT_STUB, 0x0f, 0x0b}; /* out %al,$port; ud2 */
        memset(s, 0xcc, RAW_STUB_SIZE);
        memcpy(s, stub, sizeof(stub));
        uint64_t h = RAW_HYP_VA + RAW_HYP_STUBS + v * RAW_STUB_SIZE;
        idt[v * 2] = (h & 0xffff) | ((uint64_t)RAW_SEL_HCS << 16) | (GATE_INT_DPL0 << 40) |
                     ((h >> 16) & 0xffff) << 48;
        idt[v * 2 + 1] = h >> 32;
    }
}

static void build_user_stubs(uint8_t *area)
{
    uint8_t *u = area + RAW_HYP_USTUB;
    static const uint8_t sys[] = {0xe6, RAW_PORT_SYSCALL, 0x0f, 0x0b}; /* out; ud2 */
    static const uint8_t test_sys[] = {0x0f, 0x05, 0x0f, 0x0b};        /* syscall; ud2 */
    memcpy(u + RAW_USTUB_SYSCALL, sys, sizeof(sys));
    memcpy(u + RAW_USTUB_TEST_SYS, test_sys, sizeof(test_sys));
    uint64_t a = RAW_HYP_VA + RAW_HYP_TEST_A;
    u[RAW_USTUB_TEST_RD] = 0x48; /* movabs a, %rax; ud2 */
    u[RAW_USTUB_TEST_RD + 1] = 0xa1;
    memcpy(u + RAW_USTUB_TEST_RD + 2, &a, 8);
    u[RAW_USTUB_TEST_RD + 10] = 0x0f;
    u[RAW_USTUB_TEST_RD + 11] = 0x0b;
    static const uint8_t loop[] = {0xff, 0xc9, 0x75, 0xfc, 0x0f, 0x0b}; /* dec ecx; jnz; ud2 */
    memcpy(u + RAW_USTUB_LOOP, loop, sizeof(loop));
}

void raw_hyp_build(uint8_t *area, uint64_t gpa)
{
    memset(area, 0, RAW_HYP_SIZE);
    build_tables(area, gpa);
    build_gdt_tss(area);
    build_idt_stubs(area);
    build_user_stubs(area);
}

void raw_hyp_root(uint8_t *area, uint64_t gpa, const uint64_t *guest_pml4)
{
    uint64_t *root = q(area, RAW_HYP_ROOT);
    memcpy(root, guest_pml4, 256 * sizeof(uint64_t));
    memset(root + 256, 0, 256 * sizeof(uint64_t));
    root[RAW_HYP_SLOT] = (gpa + RAW_HYP_PDPT) | PTE_P | PTE_W | PTE_U;
}

int raw_hyp_stub_vector(uint64_t rip)
{
    uint64_t off = rip - 2 - (RAW_HYP_VA + RAW_HYP_STUBS);
    if (off >= 256 * RAW_STUB_SIZE || off % RAW_STUB_SIZE)
        return -1;
    return (int)(off / RAW_STUB_SIZE);
}

cap_bool raw_ctx_native(const struct cpum_ctx *c)
{
    const uint64_t fl = c->rflags;
    return (c->msr.efer & EFER_LMA) && (c->seg[CPUM_CS].attr & CPUM_SEG_L) && cpum_cpl(c) == 3 &&
           (fl & RFLAGS_IF) && !(fl & (RFLAGS_TF | RFLAGS_IOPL)) &&
           !(c->cr4 & (CR4_LA57 | CR4_TSD)) && !(c->dr[7] & 0xff);
}

/* Bits raw_pte_lost lets change (SDM Vol. 3A 4.5): A (no flush guarantees
 * it is set again), the ignored bits 9-11 and 52-58, and the rights that only
 * grow (checked apart). */
#define PTE_FREE (PTE_A | PTE_D | 0xe00ull | (0x7full << 52) | PTE_W | PTE_U | PTE_NX)

cap_bool raw_pte_lost(uint64_t old, uint64_t cur)
{
    if (!(old & PTE_P))
        return CAP_FALSE;
    if ((old & ~PTE_FREE) != (cur & ~PTE_FREE))
        return CAP_TRUE; /* not present, another frame, PS, caching, keys */
    return ((old & PTE_W) && !(cur & PTE_W)) || ((old & PTE_U) && !(cur & PTE_U)) ||
           (!(old & PTE_NX) && (cur & PTE_NX)) || ((old & PTE_D) && !(cur & PTE_D));
}
