/*
 * plugins/frontends/manage/cmd_setextradata.c - `capsule setextradata
 * VM|global KEY [VALUE]`.
 *
 * Sets an extra data item, saved at once by the service; without VALUE (or
 * with an empty one) the item is removed. Works while the VM runs.
 */
#include <string.h>

#include "manage.h"

static int cmd_setextradata(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *target = NULL, *key = NULL, *value = NULL, *val = NULL;
    struct cli_parser p;
    int r;
    cli_parser_init(&p, argc, argv);
    while ((r = cli_next(&p, NULL, &val)) != CLI_END) {
        if (r == CLI_BAD)
            return cli_usage(ctx, NULL);
        if (!target)
            target = val;
        else if (!key)
            key = val;
        else if (!value)
            value = val;
        else
            return cli_usage(ctx, "unexpected argument '%s'", val);
    }
    if (!target || !key)
        return cli_usage(ctx, "expected VM|global, KEY and an optional VALUE");
    if (!*key)
        return cli_usage(ctx, "the KEY must not be empty");

    IMachine *m = NULL;
    const char *what = "connecting to capsule-svc";
    cap_result rc = cli_connect(ctx);
    if (rc >= 0 && strcmp(target, "global") == 0) {
        what = "ICapsule::setExtraData";
        rc = ICapsule_SetExtraData(ctx->root, key, value ? value : "");
    } else if (rc >= 0) {
        what = "ICapsule::findMachine";
        rc = ICapsule_FindMachine(ctx->root, target, &m);
        if (rc >= 0) {
            what = "IMachine::setExtraData";
            rc = IMachine_SetExtraData(m, key, value ? value : "");
        }
    }
    int status = rc < 0 ? cli_fail(rc, what) : CLI_EXIT_OK;
    if (m)
        IMachine_Release(m);
    return status;
}

const struct cli_cmd cli_cmd_setextradata = {
    .name = "setextradata",
    .fn = cmd_setextradata,
    .usage = "capsule setextradata VM|global KEY [VALUE]",
    .help = "set (or, without VALUE, remove) extra data of a machine or of the service",
    .detail = NULL,
};
