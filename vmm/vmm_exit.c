/*
 * vmm_exit.c - names of the engines' exit reasons (vmm_exit.h), for logs,
 * statistics and the debugger. Part of libcapsule-vmm.so itself, like
 * vmm_result.c.
 */
#include "vmm_exit.h"

static const char *const exit_names[] = {
    [VMM_EXIT_NONE] = "none",
    [VMM_EXIT_IO] = "io",
    [VMM_EXIT_MMIO] = "mmio",
    [VMM_EXIT_HLT] = "hlt",
    [VMM_EXIT_SHUTDOWN] = "shutdown",
    [VMM_EXIT_RESET] = "reset",
    [VMM_EXIT_IRQ_WINDOW] = "irq-window",
    [VMM_EXIT_INTERRUPTED] = "interrupted",
    [VMM_EXIT_EMULATION_FAILURE] = "emulation-failure",
    [VMM_EXIT_INTERNAL_ERROR] = "internal-error",
    [VMM_EXIT_FAIL_ENTRY] = "fail-entry",
    [VMM_EXIT_DEBUG] = "debug",
    [VMM_EXIT_UNKNOWN] = "unknown",
    [VMM_EXIT_MSR] = "msr",
};

const char *vmm_exit_name(enum vmm_exit_reason reason)
{
    if ((unsigned)reason < sizeof(exit_names) / sizeof(exit_names[0]) && exit_names[reason])
        return exit_names[reason];
    return "invalid";
}
