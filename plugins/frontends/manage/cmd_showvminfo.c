/*
 * plugins/frontends/manage/cmd_showvminfo.c - `capsule showvminfo VM
 * [--machinereadable]`: a machine's settings and state, for people or for
 * scripts (the formats are vminfo.c's).
 */
#include "manage.h"

struct showvminfo_args {
    const char *vm;
    int machinereadable;
};

static const struct cli_arg showvminfo_args[] = {
    CLI_POS("VM", struct showvminfo_args, vm, CLI_VM_MISSING, NULL),
    CLI_FLAG("--machinereadable", struct showvminfo_args, machinereadable,
             "print key=\"value\" lines (numbers unquoted; backslash,\n"
             "quote and control characters escaped as \\\\, \\\", \\n,\n"
             "\\r, \\t, \\xNN); VMState is one of poweroff, starting,\n"
             "running, paused, stopping, saved, aborted, stuck,\n"
             "saving, restoring"),
    CLI_ARGS_END,
};

static cap_result show(struct cli_vm *vm, void *arg)
{
    const struct showvminfo_args *a = arg;
    return cli_show_vm(vm->ctx->root, vm->machine, a->machinereadable, &vm->what);
}

static int run_showvminfo(struct cli_ctx *ctx, void *args)
{
    const struct showvminfo_args *a = args;
    return cli_with_vm(ctx, a->vm, CLI_MACHINE, show, args);
}

const struct cli_cmd cli_cmd_showvminfo = {
    .name = "showvminfo",
    .help = "show a machine's settings and state",
    .args = showvminfo_args,
    .args_size = sizeof(struct showvminfo_args),
    .run = run_showvminfo,
    .detail = NULL,
};
