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

enum { OPT_TYPE = 1 };

static const struct cli_opt startvm_opts[] = {
    {"--type", OPT_TYPE, 1},
    {NULL, 0, 0},
};

static int start(struct cli_ctx *ctx, const char *vm, const char *type)
{
    IMachine *m = NULL;
    ISession *s = NULL;
    IProgress *progress = NULL;
    const char *what = "ICapsule::findMachine";
    cap_result rc = cli_find_machine(ctx, vm, &m);
    if (rc >= 0) {
        what = "creating a session";
        rc = cli_session_create(&s);
    }
    if (rc >= 0) {
        what = "IMachine::launchVMProcess";
        rc = IMachine_LaunchVMProcess(m, s, type, 0, NULL, &progress);
    }
    if (rc >= 0) {
        printf("Waiting for VM \"%s\" to power on...\n", vm);
        fflush(stdout);
        rc = cli_progress_wait(progress, -1);
    }
    int status = CLI_EXIT_OK;
    if (rc < 0)
        status = cli_fail(rc, what);
    else
        printf("VM \"%s\" has been successfully started.\n", vm);
    if (progress)
        IProgress_Release(progress);
    if (s) {
        SessionState st = SessionState_Null;
        /* Detach; the VM process holds its own lock and keeps running. */
        if (ISession_GetState(s, &st) >= 0 && st == SessionState_Locked)
            ISession_UnlockMachine(s);
        ISession_Release(s);
    }
    if (m)
        IMachine_Release(m);
    return status;
}

static int cmd_startvm(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *vm = NULL, *type = "headless", *val = NULL;
    struct cli_parser p;
    int r;
    cli_parser_init(&p, argc, argv);
    while ((r = cli_next(&p, startvm_opts, &val)) != CLI_END) {
        switch (r) {
        case OPT_TYPE:
            type = val;
            break;
        case CLI_POSITIONAL:
            if (vm)
                return cli_usage(ctx, "unexpected argument '%s'", val);
            vm = val;
            break;
        default:
            return cli_usage(ctx, NULL);
        }
    }
    if (!vm)
        return cli_usage(ctx, "the VM (name or UUID) is missing");
    if (!*type)
        return cli_usage(ctx, "--type: the frontend must not be empty (e.g. headless)");
    return start(ctx, vm, type);
}

const struct cli_cmd cli_cmd_startvm = {
    .name = "startvm",
    .fn = cmd_startvm,
    .usage = "capsule startvm VM [--type headless]",
    .help = "start a machine in its own VM process",
    .detail = "  --type headless   the frontend the VM process runs (default headless)\n",
};
