/*
 * plugins/frontends/manage/cmd_startvm.c - `capsule startvm VM [--type
 * headless]`.
 *
 * Asks the service to start the machine's VM process (IMachine's
 * launchVMProcess) with a session of this process, waits for the progress,
 * and detaches: the VM keeps running after the CLI exits. Output, as
 * VBoxManage's:
 *
 *   Waiting for VM "demo" to power on...
 *   VM "demo" has been successfully started.
 */
#include <stdio.h>

#include "manage.h"

struct startvm_args {
    const char *vm, *type;
};

static const struct cli_arg startvm_args[] = {
    CLI_POS("VM", struct startvm_args, vm, CLI_VM_MISSING, NULL),
    CLI_OPT("--type", "FRONTEND", cli_arg_nonempty, struct startvm_args, type,
            "the frontend the VM process runs: headless (the default)"),
    CLI_ARGS_END,
};

static cap_result start(struct cli_vm *vm, void *arg)
{
    const struct startvm_args *a = arg;
    IProgress *progress = NULL;
    vm->what = "IMachine::launchVMProcess";
    cap_result rc = IMachine_LaunchVMProcess(vm->machine, vm->session, a->type, 0, NULL, &progress);
    if (CAP_SUCCEEDED(rc)) {
        printf("Waiting for VM \"%s\" to power on...\n", vm->name);
        fflush(stdout);
        rc = cli_progress_wait(progress, -1);
    }
    if (CAP_SUCCEEDED(rc))
        printf("VM \"%s\" has been successfully started.\n", vm->name);
    cli_release(progress);
    return rc;
}

static int run_startvm(struct cli_ctx *ctx, void *args)
{
    struct startvm_args *a = args;
    if (!a->type)
        a->type = "headless";
    /* The session is detached afterwards: the VM process holds its own
     * lock and keeps running. */
    return cli_with_vm(ctx, a->vm, CLI_SESSION, start, a);
}

const struct cli_cmd cli_cmd_startvm = {
    .name = "startvm",
    .help = "start a machine in its own VM process",
    .args = startvm_args,
    .args_size = sizeof(struct startvm_args),
    .run = run_startvm,
    .detail = NULL,
};
