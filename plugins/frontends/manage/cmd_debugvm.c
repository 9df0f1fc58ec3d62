/*
 * plugins/frontends/manage/cmd_debugvm.c - `capsule debugvm VM statistics
 * [--pattern GLOB] [--descriptions] [--reset]` (VBoxManage's debugvm).
 *
 * Joins the running machine's session with a shared lock and asks the
 * console's IMachineDebugger of its VM process for the VM's statistics
 * registry (vmm/stam): getStats prints "name value unit" lines sorted by
 * name, resetStats sets counters back to zero. The pattern is getStats's
 * glob ('*', '?', alternatives separated by '|'); a pattern that matches
 * nothing prints nothing and fails, so a typo does not pass silently.
 */
#include <stdio.h>

#include <capsule/mem.h>

#include "manage.h"

enum subcommand { SUB_STATISTICS };

static const struct cli_choice subcommands[] = {
    [SUB_STATISTICS] = {"statistics", "print (or with --reset, reset) the VMM's statistics"},
    {NULL, NULL},
};

struct debugvm_args {
    const char *vm, *pattern;
    int sub; /* enum subcommand */
    int descriptions, reset;
};

static const struct cli_arg debugvm_args[] = {
    CLI_POS("VM", struct debugvm_args, vm, CLI_VM_MISSING, NULL),
    CLI_CHOICE("SUBCOMMAND", subcommands, struct debugvm_args, sub,
               "the subcommand is missing (statistics)"),
    CLI_STR("--pattern", "GLOB", struct debugvm_args, pattern,
            "only names matching GLOB: '*' any characters, '?' one,\n"
            "several globs separated by '|' (e.g. '/REM/*|/EM/Exits/*')"),
    CLI_FLAG("--descriptions", struct debugvm_args, descriptions,
             "each line also carries the statistic's description"),
    CLI_FLAG("--reset", struct debugvm_args, reset,
             "set the matching counters back to zero instead"),
    CLI_ARGS_END,
};

static cap_result statistics(struct cli_vm *vm, void *arg)
{
    const struct debugvm_args *a = arg;
    const char *pattern = a->pattern ? a->pattern : "";
    IMachineDebugger *dbg = NULL;
    vm->what = "IConsole::debugger";
    cap_result rc = IConsole_GetDebugger(vm->console, &dbg);
    if (CAP_SUCCEEDED(rc) && a->reset) {
        vm->what = "IMachineDebugger::resetStats";
        rc = IMachineDebugger_ResetStats(dbg, pattern);
    } else if (CAP_SUCCEEDED(rc)) {
        char *text = NULL;
        vm->what = "IMachineDebugger::getStats";
        rc = IMachineDebugger_GetStats(dbg, pattern, a->descriptions ? CAP_TRUE : CAP_FALSE, &text);
        if (CAP_SUCCEEDED(rc) && text && *text)
            fputs(text, stdout);
        else if (CAP_SUCCEEDED(rc))
            rc = cap_error_set(CAP_E_INVALIDARG, "capsule", "IMachineDebugger",
                               "no statistic of machine '%s' matches '%s'", vm->name, pattern);
        cap_str_free(text);
    }
    cli_release(dbg);
    return rc;
}

static int run_debugvm(struct cli_ctx *ctx, void *args)
{
    struct debugvm_args *a = args;
    if (a->reset && a->descriptions)
        return cli_usage(ctx, "--descriptions goes with printing, not with --reset");
    return cli_with_vm(ctx, a->vm, CLI_LOCK_SHARED, statistics, a);
}

const struct cli_cmd cli_cmd_debugvm = {
    .name = "debugvm",
    .help = "show or reset the VMM statistics of a running machine",
    .args = debugvm_args,
    .args_size = sizeof(struct debugvm_args),
    .run = run_debugvm,
    .detail = "statistics prints one \"name value unit\" line per statistic, sorted by name:\n"
              "EM's run loop under /EM/, the software CPU's block cache and translator\n"
              "under /REM/, port and MMIO dispatch under /IOM/, accesses by port under\n"
              "/IOM/Ports/.\n",
};
