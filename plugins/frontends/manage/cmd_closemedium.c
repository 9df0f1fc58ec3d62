/*
 * plugins/frontends/manage/cmd_closemedium.c - `capsule closemedium
 * [disk|dvd] FILE|UUID [--delete]`.
 *
 * Removes a medium from the media registry (IMedium's close); with
 * --delete a hard disk's image file is deleted too (deleteStorage, with
 * VBoxManage's progress on stderr). A medium in use cannot be closed.
 */
#include "manage.h"

struct closemedium_args {
    const char *first, *second;
    int del;
};

static const struct cli_arg closemedium_args[] = {
    CLI_MEDIUM_POS(struct closemedium_args),
    CLI_FLAG("--delete", struct closemedium_args, del, "also delete the image file"),
    CLI_ARGS_END,
};

struct close_ref {
    DeviceType type;
    const char *what;
    int del;
};

static cap_result close_medium(struct cli_vm *vm, void *arg)
{
    const struct close_ref *r = arg;
    IMedium *m = NULL;
    IProgress *p = NULL;
    vm->what = "ICapsule::findMedium";
    cap_result rc = cli_medium_get(vm->ctx->root, r->what, r->type, 0, &m);
    if (CAP_SUCCEEDED(rc) && r->del) {
        vm->what = "IMedium::deleteStorage";
        rc = IMedium_DeleteStorage(m, &p);
        if (CAP_SUCCEEDED(rc))
            rc = cli_progress_show(p);
    } else if (CAP_SUCCEEDED(rc)) {
        vm->what = "IMedium::close";
        rc = IMedium_Close(m);
    }
    cli_release(p);
    cli_release(m);
    return rc;
}

static int run_closemedium(struct cli_ctx *ctx, void *args)
{
    const struct closemedium_args *a = args;
    struct close_ref r = {.del = a->del};
    int ex = cli_medium_args(ctx, a->first, a->second, &r.type, &r.what);
    return ex != CLI_EXIT_OK ? ex : cli_with_vm(ctx, NULL, CLI_SERVICE, close_medium, &r);
}

const struct cli_cmd cli_cmd_closemedium = {
    .name = "closemedium",
    .help = "remove a medium from the media registry (and delete its file)",
    .args = closemedium_args,
    .args_size = sizeof(struct closemedium_args),
    .run = run_closemedium,
    .detail = NULL,
};
