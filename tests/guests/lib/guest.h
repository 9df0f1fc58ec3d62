/*
 * guest.h - the payload runtime: what every guest payload in tests/guests
 * links against. The same sources build twice, as a 32-bit protected-mode
 * runtime (lib32) and as a 64-bit long-mode one (lib64); both boot as
 * multiboot v1 ELF32 images, so `capsule-vm --kernel` and `qemu -kernel`
 * run them alike.
 *
 * A payload defines guest_name and guest_main(). The runtime's entry sets
 * up its GDT (with a TSS), an IDT whose 256 vectors all reach
 * trap_dispatch(), the serial port, and masks both 8259s (remapped to
 * 0x20/0x28); it prints "START <name>", calls guest_main() and, when that
 * returns, prints "PASS <name>" and exits through the debug-exit port.
 *
 * Exit convention (QEMU isa-debug-exit semantics at port 0xf4: a write of
 * V ends the VM with status (V << 1) | 1):
 *   pass: "PASS <name>" on COM1, then V = 0x10  -> exit status 33
 *   fail: "FAIL <name>: <why>" on COM1, then V = 0x11  -> exit status 35
 * Without a debug-exit device the guest halts forever with interrupts off
 * (the runner's timeout catches that).
 *
 * Everything here runs in guest ring 0, which the PVM flavour of KVM on the
 * project's hosts emulates one instruction at a time (~1 us per pair) and
 * without SSE/x87: the code is built with -mgeneral-regs-only and kept to
 * a few thousand instructions per payload.
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "x86.h"

#define GUEST_EXIT_PASS 0x10 /* exit status 33 */
#define GUEST_EXIT_FAIL 0x11 /* exit status 35 */

/* Defined by each payload. */
extern const char guest_name[];
void guest_main(void);

/* --- multiboot v1 ------------------------------------------------------ */
#define MB_BOOT_MAGIC 0x2badb002u
struct mb_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
};
/* Copied at entry (before any payload may overwrite low memory). */
extern uint32_t mb_flags, mb_mem_lower, mb_mem_upper;

/* --- console, pass/fail ---------------------------------------------- */
void serial_init(void);
void serial_putc(char c);
void gprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void gvprintf(const char *fmt, va_list ap);
/* Prints "PASS <name>", writes GUEST_EXIT_PASS to 0xf4. */
void guest_pass(void) __attribute__((noreturn));
/* Prints "FAIL <name>: <message>", writes GUEST_EXIT_FAIL to 0xf4. */
void guest_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* Writes V to the debug-exit port and halts (for payload self-tests). */
void guest_exit(uint32_t v) __attribute__((noreturn));

#define CHECK(c)                                                                       \
    do {                                                                               \
        if (!(c))                                                                      \
            guest_fail("%s:%d: CHECK(%s)", __FILE_NAME__, __LINE__, #c);               \
    } while (0)
#define CHECK_EQ(a, b)                                                                 \
    do {                                                                               \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                               \
        if (a_ != b_)                                                                  \
            guest_fail("%s:%d: %s is 0x%llx, expected %s = 0x%llx", __FILE_NAME__,     \
                       __LINE__, #a, (unsigned long long)a_, #b,                       \
                       (unsigned long long)b_);                                        \
    } while (0)

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);

/* The hypervisor signature of CPUID leaf 0x40000000 ("" on bare metal or
 * when the hypervisor bit is clear), e.g. "KVMKVMKVM", "TCGTCGTCGTCG". */
const char *guest_hypervisor(void);
/* QEMU's software CPU: a few checks allow for its documented deviations
 * (no segment limit checks) and say so in the transcript. */
int guest_on_tcg(void);

/* --- descriptors --------------------------------------------------------
 * The runtime's GDT; selectors are the same in both builds. SEL_SPARE..
 * are free for payloads (gdt_set()). */
#include "selectors.h" /* SEL_CODE16/DATA16: base 0, limit 0xffff; SEL_TSS: 16 bytes */
#define GDT_ENTRIES 16
#ifdef __x86_64__
#define SEL_KCODE SEL_CODE64
#define SEL_UCODE SEL_UCODE64
#else
#define SEL_KCODE SEL_CODE32
#define SEL_UCODE SEL_UCODE32
#endif
extern uint64_t gdt[GDT_ENTRIES];
/* Writes GDT entry sel>>3: base, limit (bytes or pages per flags), the
 * access byte and the flags nibble (G, D/B, L, AVL). */
void gdt_set(unsigned sel, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);

/* --- traps --------------------------------------------------------------- */
struct trap_frame {
#ifdef __x86_64__
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, bp, di, si, dx, cx, bx, ax;
#else
    uint32_t di, si, bp, sp_at_pusha, bx, dx, cx, ax;
#endif
    ureg vector, error;
    ureg ip, cs, flags;
    ureg sp, ss; /* in 32-bit mode, present only when the trap came from CPL3 */
};
typedef void (*trap_handler)(struct trap_frame *f);
/* Routes vector to h (NULL: back to the default, which fails the payload
 * unless a trap_run()/user_run() catch is armed and the vector is < 32). */
void trap_set(unsigned vector, trap_handler h);

struct trap_info {
    unsigned vector;
    unsigned cpl; /* of the code that trapped */
    ureg error, ip, cr2, ax;
};
/* Runs fn(arg) with a catch armed: returns -1 if fn returned, otherwise the
 * vector of the first exception (< 32) it raised, with the details in *ti;
 * execution does not go back into fn. */
int trap_run(void (*fn)(void *), void *arg, struct trap_info *ti);
/* Enters CPL3 at ip with stack sp (user code and data selectors, RFLAGS
 * 0x202, IOPL 0) and returns the vector of the exception that brings it
 * back, with the details (including the user's ax) in *ti. The TSS's ring-0
 * stack is the runtime's trap stack. */
int user_run(ureg ip, ureg sp, struct trap_info *ti);
const char *trap_name(unsigned vector);

/* setjmp/longjmp for ring 0 (they save and restore the flags: IF too). */
struct gjmp {
    ureg bx, sp, bp, si, di, r12, r13, r14, r15, ip, flags;
};
int gsetjmp(struct gjmp *j) __attribute__((returns_twice));
void glongjmp(struct gjmp *j, int v) __attribute__((noreturn));

/* --- 8259 PIC and 8254 PIT --------------------------------------------- */
#define PIC_VECTOR_BASE 0x20 /* IRQ n -> vector 0x20 + n */
void pic_init(uint8_t master_base, uint8_t slave_base); /* all masked */
void pic_mask(unsigned irq, int masked);
void pic_eoi(unsigned irq);
uint8_t pic_isr(int slave);
uint8_t pic_irr(int slave);
#define PIT_HZ 1193182u
/* Channel ch in mode (0..5), lobyte/hibyte access, with the given count. */
void pit_start(unsigned ch, unsigned mode, uint16_t count);
/* Writes channel ch's control word for mode 2 without a count: the counter
 * stops until a count is written and OUT stays high, so no new edge. */
void pit_stop(unsigned ch);
uint16_t pit_latch(unsigned ch);
/* Read-back status of channel ch: OUT in bit 7, null count 6, access 5-4,
 * mode 3-1, BCD 0. */
uint8_t pit_status(unsigned ch);

/* --- local APIC and I/O APIC (MMIO, identity-mapped) --------------------- */
#define LAPIC_BASE 0xfee00000u
#define IOAPIC_BASE 0xfec00000u
#define LAPIC_ID 0x20
#define LAPIC_VER 0x30
#define LAPIC_TPR 0x80
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_ISR 0x100
#define LAPIC_IRR 0x200
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_TMICT 0x380
#define LAPIC_TMCCT 0x390
#define LAPIC_TDCR 0x3e0
uint32_t lapic_read(unsigned reg);
void lapic_write(unsigned reg, uint32_t v);
void lapic_enable(uint8_t spurious_vector);
void lapic_eoi(void);
uint32_t ioapic_read(unsigned reg);
void ioapic_write(unsigned reg, uint32_t v);
/* Routes pin to vector (fixed, edge, active high, physical dest apic_id). */
void ioapic_route(unsigned pin, uint8_t vector, uint8_t apic_id, int masked);

/* --- paging ------------------------------------------------------------ */
#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_U 0x4ull
#define PTE_PWT 0x8ull
#define PTE_PCD 0x10ull
#define PTE_A 0x20ull
#define PTE_D 0x40ull
#define PTE_PS 0x80ull
#define PTE_G 0x100ull
#define PTE_NX (1ull << 63)
#define PF_P 0x1
#define PF_W 0x2
#define PF_U 0x4
#define PF_RSVD 0x8
#define PF_I 0x10
/* A zeroed, page-aligned 4 KiB page from a fixed pool (fails the payload
 * when the pool runs out). */
void *page_alloc(void);
/* Two-level 32-bit tables: identity 4 MiB pages (PSE) over [0, bytes). */
uint32_t *pg32_identity(uint32_t bytes);
/* Maps the 4 KiB page va -> pa in 32-bit tables pd; returns the PTE. */
uint32_t *pg32_map(uint32_t *pd, uint32_t va, uint32_t pa, uint32_t flags);
/* PAE tables (PDPT + PDs): identity 2 MiB pages over [0, bytes). */
uint64_t *pgpae_identity(uint32_t bytes);
uint64_t *pgpae_map(uint64_t *pdpt, uint32_t va, uint64_t pa, uint64_t flags);
#ifdef __x86_64__
/* The runtime's live 4-level tables (identity, 2 MiB pages, 0..4 GiB). */
uint64_t *pg4_root(void);
/* Maps the 4 KiB page va -> pa in the 4-level tables at pml4 (intermediate
 * entries get P|W|U); returns the PTE. */
uint64_t *pg4_map(uint64_t *pml4, uint64_t va, uint64_t pa, uint64_t flags);
/* Makes the 2 MiB page holding .user (at 4 MiB, link.ld) a user page in
 * the runtime's tables, for code that runs at CPL3. */
void pg4_user_section(void);
#endif

/* --- real mode (32-bit build only) ----------------------------------------
 * Copies the 16-bit code [blob, blob+len) to REALMODE_BASE, drops to real
 * mode (paging must be off), far-calls REALMODE_SEG:entry with DS = ES =
 * SS = 0, SP just below REALMODE_TRAMP and the IVT at 0, and comes back to
 * 32-bit protected mode when that code does `lret`. Interrupts stay off. */
#define REALMODE_TRAMP 0x6000 /* the runtime's switch code, 0x6000..0x6fff */
#define REALMODE_BASE 0x7000
#define REALMODE_SEG 0x0700
void realmode_call(const void *blob, size_t len, uint16_t entry);

#endif
