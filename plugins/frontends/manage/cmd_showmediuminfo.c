/*
 * plugins/frontends/manage/cmd_showmediuminfo.c - `capsule showmediuminfo
 * [disk|dvd] FILE|UUID [--machinereadable]`.
 *
 * Prints a medium as VBoxManage does (UUID, Parent UUID, State, Type,
 * Location, Storage format, Format variant, Capacity, Size on disk,
 * Encryption, In use by VMs), or with --machinereadable as KEY="value"
 * lines (UUID, ParentUUID, State, AccessError, Type, Location,
 * StorageFormat, FormatVariant, Capacity and SizeOnDisk in bytes,
 * Encryption, InUseByVMs-N). A file not registered yet is opened, which
 * registers it (VBoxManage's behaviour).
 */
#include "manage.h"

struct showmediuminfo_args {
    const char *first, *second;
    int machinereadable;
};

static const struct cli_arg showmediuminfo_args[] = {
    CLI_MEDIUM_POS(struct showmediuminfo_args),
    CLI_FLAG("--machinereadable", struct showmediuminfo_args, machinereadable,
             "KEY=\"value\" lines for scripts (sizes in bytes)"),
    CLI_ARGS_END,
};

struct medium_ref {
    DeviceType type;
    const char *what;
    enum cli_medium_view how;
};

static cap_result show(struct cli_vm *vm, void *arg)
{
    const struct medium_ref *r = arg;
    IMedium *m = NULL;
    vm->what = "ICapsule::findMedium";
    cap_result rc = cli_medium_get(vm->ctx->root, r->what, r->type, 1, &m);
    if (CAP_SUCCEEDED(rc)) {
        vm->what = "IMedium";
        rc = cli_medium_print(vm->ctx->root, m, r->how);
    }
    cli_release(m);
    return rc;
}

static int run_showmediuminfo(struct cli_ctx *ctx, void *args)
{
    const struct showmediuminfo_args *a = args;
    struct medium_ref r = {.how = a->machinereadable ? CLI_MEDIUM_MACHINE : CLI_MEDIUM_DETAILS};
    int ex = cli_medium_args(ctx, a->first, a->second, &r.type, &r.what);
    return ex != CLI_EXIT_OK ? ex : cli_with_vm(ctx, NULL, CLI_SERVICE, show, &r);
}

const struct cli_cmd cli_cmd_showmediuminfo = {
    .name = "showmediuminfo",
    .help = "show a hard disk or DVD image",
    .args = showmediuminfo_args,
    .args_size = sizeof(struct showmediuminfo_args),
    .run = run_showmediuminfo,
    .detail = "An inaccessible medium shows 'State: inaccessible' and the reason\n"
              "('Access Error:'). --machinereadable prints UUID, ParentUUID, State,\n"
              "AccessError, Type, Location, StorageFormat, FormatVariant, Capacity and\n"
              "SizeOnDisk (bytes), Encryption and InUseByVMs-N.\n",
};
