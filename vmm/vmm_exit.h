/*
 * vmm/vmm_exit.h - the engines' neutral exit: why an execution engine
 * stopped running guest code and what EM must do about it.
 *
 * Both engines report through this one struct - hm (vmm/hwaccm, the host's
 * hypervisor) decodes its host's exit into it, rem (vmm/rem, the software
 * CPU) fills it itself - so EM handles both with one switch (em_run.c). It
 * sits beside vmm_result.h, below the engines and EM, so that neither engine
 * includes the other's header: the dependency runs EM -> engines -> here.
 *
 * Which reasons an engine can report and what it expects back (IN data
 * filled before the next run, ...) is each engine's contract (hwaccm.h,
 * rem.h); the fields' meaning is the same for all.
 */
#ifndef VMM_VMM_EXIT_H
#define VMM_VMM_EXIT_H

#include <stdint.h>

#include <capsule/types.h>

enum vmm_exit_reason {
    VMM_EXIT_NONE,
    VMM_EXIT_IO,          /* port in/out (string I/O: count > 1) */
    VMM_EXIT_MMIO,        /* access to a guest-physical address outside RAM/ROM, or a ROM write */
    VMM_EXIT_HLT,         /* HLT with no interrupt to deliver */
    VMM_EXIT_SHUTDOWN,    /* triple fault (or a shutdown system event) */
    VMM_EXIT_RESET,       /* the guest asked the platform for a reset */
    VMM_EXIT_IRQ_WINDOW,  /* the guest can now take an external interrupt */
    VMM_EXIT_INTERRUPTED, /* a signal, kick or spent budget ended the run early: just loop */
    VMM_EXIT_EMULATION_FAILURE, /* the engine could not execute an instruction: emul has it */
    VMM_EXIT_INTERNAL_ERROR,    /* other host-internal errors (suberror) */
    VMM_EXIT_FAIL_ENTRY,        /* the hardware refused the guest state (reason) */
    VMM_EXIT_DEBUG,
    VMM_EXIT_UNKNOWN, /* code = the host's exit reason */
    VMM_EXIT_MSR,     /* RDMSR/WRMSR left to CPUM's rules (msr; hm only: rem applies them itself) */
};

struct vmm_exit {
    enum vmm_exit_reason reason;
    union {
        struct {
            uint16_t port;
            uint8_t size;   /* 1, 2 or 4 */
            cap_bool write; /* OUT */
            uint32_t count; /* repetitions (string I/O), data holds count*size bytes */
            uint8_t *data;  /* engine buffer: OUT data; for IN, fill it before the next run */
        } io;
        struct {
            uint64_t gpa;
            uint8_t size; /* 1..8 */
            cap_bool write;
            uint8_t *data; /* engine buffer: write data; for reads, fill before the next run */
        } mmio;
        struct {
            uint32_t suberror;
            uint8_t insn[15]; /* instruction bytes at CS:RIP, from the host or read by PGM */
            uint8_t insn_len; /* 0 if they could not be read */
            uint64_t rip;     /* linear address of the instruction (CS.base + RIP) */
        } emul;
        struct {
            uint64_t reason;
        } fail_entry;
        struct {
            uint32_t code;
        } unknown;
        struct {
            uint32_t index; /* ECX */
            cap_bool write; /* WRMSR */
            uint64_t *data; /* engine buffer: WRMSR's value; RDMSR: fill before the next run */
            uint8_t *gp;    /* engine buffer: 1 before the next run raises #GP(0) */
        } msr;
    };
};

/* Short name of an exit reason ("io", "irq-window"; "invalid" for a value
 * outside the enum). Static string, any thread. */
const char *vmm_exit_name(enum vmm_exit_reason reason) __attribute__((visibility("default")));

#endif /* VMM_VMM_EXIT_H */
