/*
 * hwaccm_whp.h - the WHP backend's state, shared by its files
 * (hwaccm_whp.c: partition, vCPUs, runs, exits; hwaccm_whp_regs.c: register
 * sync; hwaccm_whp_emu.c: MMIO and string I/O through the Windows
 * instruction emulator; hwaccm_whp_conv.c: the OS-neutral tables).
 *
 * Compile-only: cross-built with mingw-w64 and never run
 * (hostdrivers/windows/README.md).
 */
#ifndef VMM_HWACCM_WHP_H
#define VMM_HWACCM_WHP_H

#include "hd_whp.h"
#include <winhvemulation.h>

#include "hwaccm_internal.h"
#include "hwaccm_whp_conv.h"

#define HWACCM_WHP_MAX_MAPS PGM_MAX_RANGES

struct hwaccm {
    struct hd_whp *whp;
    struct pgm *pgm;                  /* not owned */
    const struct cpum_policy *policy; /* not owned */
    struct pgm_listener listener;
    uint64_t map_gpa[HWACCM_WHP_MAX_MAPS]; /* RAM/ROM ranges mapped into the partition */
    uint64_t map_size[HWACCM_WHP_MAX_MAPS];
};

/* What the next run must finish before entering the guest. */
enum whp_pending {
    WHP_PENDING_NONE,
    WHP_PENDING_IO,   /* a plain IN/OUT exit: RAX (IN) and RIP to update */
    WHP_PENDING_EMUL, /* an instruction being replayed through the emulator */
};

struct hwaccm_vcpu {
    struct hwaccm *hm;
    struct cpum_cpu *cpu; /* not owned */
    struct hd_whp_vcpu *wv;
    WHV_EMULATOR_HANDLE emu; /* created with the vCPU */

    /* One emulation attempt (hwaccm_whp_emu.c): the emulator works on a copy
     * of the vCPU, committed only if the instruction completes. */
    struct cpum_cpu scratch;
    uint32_t scratch_dirty;  /* CPUM_STATE_* the emulator changed */
    int stop;                /* enum whpc_replay_result that stopped it, or -1 */

    /* Reset at each exit. */
    WHV_RUN_VP_EXIT_CONTEXT exit; /* the last exit, as WHP reported it */
    WHV_X64_VP_EXECUTION_STATE exec; /* interrupt shadow, pending event */

    /* The instruction the last exit left half done (cleared when finished). */
    enum whp_pending pending;
    uint64_t pending_rip;   /* RIP of that instruction: if EM moved RIP, it is dropped */
    uint8_t io_data[8];     /* WHP_PENDING_IO: OUT data / IN buffer */
    struct whpc_replay replay; /* WHP_PENDING_EMUL: device accesses so far */

    /* Interrupts. */
    cap_bool inject;        /* inject_vector goes in at the next run */
    uint8_t inject_vector;
    cap_bool irq_window;    /* EM wants an interrupt-window exit */
    cap_bool window_armed;  /* the notification register is set in WHP */
    cap_bool nmi;           /* an NMI waits for the guest's NMI window */
    cap_bool nmi_armed;     /* the NMI notification is set in WHP */
    cap_bool xcpt;          /* exception for the guest (#GP from an MSR exit) */
    uint8_t xcpt_vector;

    volatile LONG kicked;   /* hwaccm_vcpu_kick: any thread */
};

/* Load the dirty parts of vcpu->cpu into WHP. */
cap_result hwaccm_whp_push(struct hwaccm_vcpu *vcpu);
/* After an exit: GPRs, RIP, RFLAGS, segments, CRs, EFER from WHP. */
cap_result hwaccm_whp_pull(struct hwaccm_vcpu *vcpu);
/* Fetch or store the registers of `names` (n <= WHPC_MAX_NAMES) between
 * the context and WHP. */
cap_result hwaccm_whp_regs_io(struct hwaccm_vcpu *vcpu, const uint32_t *names, unsigned n,
                              cap_bool set);

/* The emulator: created with the vCPU, destroyed with it. */
cap_result hwaccm_whp_emu_create(struct hwaccm_vcpu *vcpu);
void hwaccm_whp_emu_destroy(struct hwaccm_vcpu *vcpu);
/*
 * Runs the instruction of vcpu->exit (a memory access or a string I/O exit)
 * through the emulator, answering device accesses from vcpu->replay. Fills
 * *x with the exit for EM - MMIO/IO for a new device access, EMULATION_FAILURE
 * if the emulator gives up - or sets x->reason VMM_EXIT_NONE when the
 * instruction completed (registers committed to the context, dirty).
 */
cap_result hwaccm_whp_emulate(struct hwaccm_vcpu *vcpu, struct vmm_exit *x);

#endif /* VMM_HWACCM_WHP_H */
