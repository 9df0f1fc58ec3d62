/*
 * plugins/frontends/manage/cmd_setextradata.c - `capsule setextradata
 * VM|global KEY [VALUE]`.
 *
 * Sets an extra data item, saved at once by the service; without VALUE (or
 * with an empty one) the item is removed. Works while the VM runs.
 */
#include <string.h>

#include "manage.h"

struct setextradata_args {
    const char *target, *key, *value;
};

#define SET_MISSING "expected VM|global, KEY and an optional VALUE"

static const struct cli_arg setextradata_args[] = {
    CLI_POS("VM|global", struct setextradata_args, target, SET_MISSING, NULL),
    CLI_POS("KEY", struct setextradata_args, key, SET_MISSING, NULL),
    CLI_POS_OPT("VALUE", struct setextradata_args, value, NULL),
    CLI_ARGS_END,
};

static cap_result set(struct cli_vm *vm, void *arg)
{
    const struct setextradata_args *a = arg;
    const char *value = a->value ? a->value : "";
    if (!vm->machine) {
        vm->what = "ICapsule::setExtraData";
        return ICapsule_SetExtraData(vm->ctx->root, a->key, value);
    }
    vm->what = "IMachine::setExtraData";
    return IMachine_SetExtraData(vm->machine, a->key, value);
}

static int run_setextradata(struct cli_ctx *ctx, void *args)
{
    const struct setextradata_args *a = args;
    if (!*a->key)
        return cli_usage(ctx, "the KEY must not be empty");
    const char *vm = strcmp(a->target, "global") == 0 ? NULL : a->target;
    return cli_with_vm(ctx, vm, CLI_SERVICE, set, args);
}

const struct cli_cmd cli_cmd_setextradata = {
    .name = "setextradata",
    .help = "set (or, without VALUE, remove) extra data of a machine or of the service",
    .args = setextradata_args,
    .args_size = sizeof(struct setextradata_args),
    .run = run_setextradata,
    .detail = NULL,
};
