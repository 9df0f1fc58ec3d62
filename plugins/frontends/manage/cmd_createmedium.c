/*
 * plugins/frontends/manage/cmd_createmedium.c - `capsule createmedium [disk]
 * --filename FILE --size MB [--format VDI|RAW] [--variant Standard|Fixed]`.
 *
 * Creates a hard disk image and registers it in the media registry
 * (ICapsule's createMedium, then IMedium's createBaseStorage, with
 * VBoxManage's "0%...100%" on stderr), then prints "Medium created. UUID:
 * UUID" as VBoxManage does. An existing file is never replaced.
 */
#include <string.h>
#include <strings.h>

#include <capsule/mem.h>
#include <capsule/uuid.h>

#include "manage.h"

struct createmedium_args {
    const char *type;
    const char *filename;
    struct cli_u32 size;
    const char *format;
    const char *variant;
};

static const struct cli_arg createmedium_args[] = {
    CLI_POS_OPT("disk", struct createmedium_args, type,
                "the kind of medium: disk (the only one that can be created)"),
    CLI_OPT_REQ("--filename", "FILE", cli_arg_nonempty, struct createmedium_args, filename,
                "the image file to create (it must not exist)"),
    CLI_OPT_REQ("--size", "MB", cli_arg_mb, struct createmedium_args, size,
                "the disk's size in MB"),
    CLI_OPT("--format", "VDI|RAW", cli_arg_nonempty, struct createmedium_args, format,
            "the image format (default VDI)"),
    CLI_OPT("--variant", "Standard|Fixed", cli_arg_nonempty, struct createmedium_args, variant,
            "Standard: space allocated as the guest writes (default);\n"
            "Fixed: all of it allocated now"),
    CLI_ARGS_END,
};

static cap_result create(struct cli_vm *vm, void *arg)
{
    const struct createmedium_args *a = arg;
    MediumVariant variant = MediumVariant_Standard;
    if (a->variant && !strcasecmp(a->variant, "Fixed"))
        variant = MediumVariant_Fixed;
    IMedium *m = NULL;
    IProgress *p = NULL;
    char *path = cli_abs_path(a->filename);
    if (!path)
        return cap_error_set(CAP_E_OUTOFMEMORY, "capsule", NULL, "out of memory");
    vm->what = "ICapsule::createMedium";
    cap_result rc = ICapsule_CreateMedium(vm->ctx->root, a->format ? a->format : "VDI", path,
                                          AccessMode_ReadWrite, DeviceType_HardDisk, &m);
    cap_str_free(path);
    if (CAP_SUCCEEDED(rc)) {
        vm->what = "IMedium::createBaseStorage";
        rc = IMedium_CreateBaseStorage(m, (int64_t)a->size.value * 1024 * 1024, variant, &p);
    }
    if (CAP_SUCCEEDED(rc))
        rc = cli_progress_show(p);
    cap_uuid id;
    char ubuf[CAP_UUID_BUFSIZE];
    if (CAP_SUCCEEDED(rc))
        rc = IMedium_GetId(m, &id);
    if (CAP_SUCCEEDED(rc))
        printf("Medium created. UUID: %s\n", cap_uuid_format(&id, ubuf));
    cli_release(p);
    cli_release(m);
    return rc;
}

static int run_createmedium(struct cli_ctx *ctx, void *args)
{
    const struct createmedium_args *a = args;
    if (a->type && strcmp(a->type, "disk"))
        return cli_usage(ctx,
                         "only disk media can be created (not '%s'); DVD images are made "
                         "by other tools",
                         a->type);
    if (a->format && strcasecmp(a->format, "VDI") && strcasecmp(a->format, "RAW"))
        return cli_usage(ctx, "--format: unknown format '%s' (VDI or RAW)", a->format);
    if (a->variant && strcasecmp(a->variant, "Standard") && strcasecmp(a->variant, "Fixed"))
        return cli_usage(ctx, "--variant: unknown variant '%s' (Standard or Fixed)", a->variant);
    return cli_with_vm(ctx, NULL, CLI_SERVICE, create, args);
}

const struct cli_cmd cli_cmd_createmedium = {
    .name = "createmedium",
    .help = "create a hard disk image (VDI or RAW) and register it",
    .args = createmedium_args,
    .args_size = sizeof(struct createmedium_args),
    .run = run_createmedium,
    .detail = "Prints the progress (0%...100%) on stderr, then\n"
              "  Medium created. UUID: UUID\n",
};
