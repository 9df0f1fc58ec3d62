/*
 * plugins/frontends/manage/cmd_unregistervm.c - `capsule unregistervm VM
 * [--delete]`.
 *
 * Unregisters the machine (IMachine's unregister); with --delete also
 * deletes its settings file, the previous version, its logs and its folder
 * (deleteConfig, waited for). Inaccessible machines can be unregistered
 * (by UUID), as the API allows.
 */
#include <stdio.h>

#include "manage.h"

enum { OPT_DELETE = 1 };

static const struct cli_opt unregistervm_opts[] = {
    {"--delete", OPT_DELETE, 0},
    {NULL, 0, 0},
};

static int unregister(struct cli_ctx *ctx, const char *vm, int del)
{
    IMachine *m = NULL;
    IProgress *progress = NULL;
    const char *what = "ICapsule::findMachine";
    cap_result rc = cli_find_machine(ctx, vm, &m);
    if (rc >= 0) {
        what = "IMachine::unregister";
        rc = IMachine_Unregister(m);
    }
    if (rc >= 0 && del) {
        what = "IMachine::deleteConfig";
        rc = IMachine_DeleteConfig(m, &progress);
        if (rc >= 0)
            rc = cli_progress_wait(progress, -1);
    }
    int status = rc < 0 ? cli_fail(rc, what) : CLI_EXIT_OK;
    if (progress)
        IProgress_Release(progress);
    if (m)
        IMachine_Release(m);
    return status;
}

static int cmd_unregistervm(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *vm = NULL, *val = NULL;
    int del = 0, r;
    struct cli_parser p;
    cli_parser_init(&p, argc, argv);
    while ((r = cli_next(&p, unregistervm_opts, &val)) != CLI_END) {
        switch (r) {
        case OPT_DELETE:
            del = 1;
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
    return unregister(ctx, vm, del);
}

const struct cli_cmd cli_cmd_unregistervm = {
    .name = "unregistervm",
    .fn = cmd_unregistervm,
    .usage = "capsule unregistervm VM [--delete]",
    .help = "unregister a machine (and delete its files)",
    .detail = "  --delete   also delete the machine's settings file, its previous version,\n"
              "             its logs and its folder (files it only refers to stay)\n",
};
