/*
 * plugins/frontends/manage/cmd_unregistervm.c - `capsule unregistervm VM
 * [--delete]`.
 *
 * Unregisters the machine (IMachine's unregister); with --delete also
 * deletes its settings file, the previous version, its logs and its folder
 * (deleteConfig, waited for). Inaccessible machines can be unregistered
 * (by UUID), as the API allows.
 */
#include "manage.h"

struct unregistervm_args {
    const char *vm;
    int del;
};

static const struct cli_arg unregistervm_args[] = {
    CLI_POS("VM", struct unregistervm_args, vm, CLI_VM_MISSING, NULL),
    CLI_FLAG("--delete", struct unregistervm_args, del,
             "also delete the machine's settings file, its previous version,\n"
             "its logs and its folder (files it only refers to stay)"),
    CLI_ARGS_END,
};

static cap_result unregister(struct cli_vm *vm, void *arg)
{
    const struct unregistervm_args *a = arg;
    IProgress *progress = NULL;
    vm->what = "IMachine::unregister";
    cap_result rc = IMachine_Unregister(vm->machine);
    if (CAP_SUCCEEDED(rc) && a->del) {
        vm->what = "IMachine::deleteConfig";
        rc = IMachine_DeleteConfig(vm->machine, &progress);
        if (CAP_SUCCEEDED(rc))
            rc = cli_progress_wait(progress, -1);
    }
    cli_release(progress);
    return rc;
}

static int run_unregistervm(struct cli_ctx *ctx, void *args)
{
    const struct unregistervm_args *a = args;
    return cli_with_vm(ctx, a->vm, CLI_MACHINE, unregister, args);
}

const struct cli_cmd cli_cmd_unregistervm = {
    .name = "unregistervm",
    .help = "unregister a machine (and delete its files)",
    .args = unregistervm_args,
    .args_size = sizeof(struct unregistervm_args),
    .run = run_unregistervm,
    .detail = NULL,
};
