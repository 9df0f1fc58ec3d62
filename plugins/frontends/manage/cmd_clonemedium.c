/*
 * plugins/frontends/manage/cmd_clonemedium.c - `capsule clonemedium [disk]
 * SOURCE TARGET [--format VDI|RAW] [--variant Standard|Fixed]`.
 *
 * Copies a hard disk image into a new one (IMedium's cloneTo, VBoxManage's
 * progress on stderr); the copy gets its own UUID and is registered. The
 * source may be a registered medium (file or UUID) or an image file, which
 * is opened (registered) first, as VBoxManage does. Prints "Clone medium
 * created in format 'FORMAT'. UUID: UUID".
 */
#include <string.h>
#include <strings.h>

#include <capsule/mem.h>
#include <capsule/uuid.h>

#include "manage.h"

struct clonemedium_args {
    const char *first, *second, *third;
    const char *format;
    const char *variant;
};

static const struct cli_arg clonemedium_args[] = {
    CLI_POS("SOURCE", struct clonemedium_args, first, "the source medium is missing",
            "the source medium (file or UUID); may follow the word disk"),
    CLI_POS("TARGET", struct clonemedium_args, second, "the target file is missing",
            "the new image file (it must not exist)"),
    /* VBoxManage's `clonemedium disk SOURCE TARGET`. */
    CLI_ARG_LINE("TARGET", NULL, cli_arg_str, struct clonemedium_args, third,
                 CLI_ARG_POSITIONAL | CLI_ARG_HIDDEN, NULL, NULL, NULL),
    CLI_OPT("--format", "VDI|RAW", cli_arg_nonempty, struct clonemedium_args, format,
            "the target's format (default VDI)"),
    CLI_OPT("--variant", "Standard|Fixed", cli_arg_nonempty, struct clonemedium_args, variant,
            "the target's variant (default Standard)"),
    CLI_ARGS_END,
};

struct clone_ref {
    const char *src, *dst, *format;
    MediumVariant variant;
};

static cap_result clone(struct cli_vm *vm, void *arg)
{
    const struct clone_ref *r = arg;
    IMedium *src = NULL, *dst = NULL;
    IProgress *p = NULL;
    char *path = cli_abs_path(r->dst);
    if (!path)
        return cap_error_set(CAP_E_OUTOFMEMORY, "capsule", NULL, "out of memory");
    vm->what = "ICapsule::findMedium";
    cap_result rc = cli_medium_get(vm->ctx->root, r->src, DeviceType_HardDisk, 1, &src);
    if (CAP_SUCCEEDED(rc)) {
        vm->what = "ICapsule::createMedium";
        rc = ICapsule_CreateMedium(vm->ctx->root, r->format, path, AccessMode_ReadWrite,
                                   DeviceType_HardDisk, &dst);
    }
    cap_str_free(path);
    if (CAP_SUCCEEDED(rc)) {
        vm->what = "IMedium::cloneTo";
        rc = IMedium_CloneTo(src, dst, r->variant, &p);
    }
    if (CAP_SUCCEEDED(rc))
        rc = cli_progress_show(p);
    cap_uuid id;
    char ubuf[CAP_UUID_BUFSIZE];
    char *fmt = NULL;
    if (CAP_SUCCEEDED(rc))
        rc = IMedium_GetId(dst, &id);
    if (CAP_SUCCEEDED(rc))
        rc = IMedium_GetFormat(dst, &fmt);
    if (CAP_SUCCEEDED(rc))
        printf("Clone medium created in format '%s'. UUID: %s\n", fmt, cap_uuid_format(&id, ubuf));
    cap_str_free(fmt);
    cli_release(p);
    cli_release(src);
    cli_release(dst);
    return rc;
}

static int run_clonemedium(struct cli_ctx *ctx, void *args)
{
    const struct clonemedium_args *a = args;
    struct clone_ref r = {a->first, a->second, a->format ? a->format : "VDI",
                          MediumVariant_Standard};
    if (a->third) {
        if (strcmp(a->first, "disk"))
            return cli_usage(ctx, "only disk media can be cloned (not '%s')", a->first);
        r.src = a->second;
        r.dst = a->third;
    }
    if (strcasecmp(r.format, "VDI") && strcasecmp(r.format, "RAW"))
        return cli_usage(ctx, "--format: unknown format '%s' (VDI or RAW)", r.format);
    if (a->variant && strcasecmp(a->variant, "Standard") && strcasecmp(a->variant, "Fixed"))
        return cli_usage(ctx, "--variant: unknown variant '%s' (Standard or Fixed)", a->variant);
    if (a->variant && !strcasecmp(a->variant, "Fixed"))
        r.variant = MediumVariant_Fixed;
    return cli_with_vm(ctx, NULL, CLI_SERVICE, clone, &r);
}

const struct cli_cmd cli_cmd_clonemedium = {
    .name = "clonemedium",
    .help = "copy a hard disk image into a new one (VDI or RAW)",
    .args = clonemedium_args,
    .args_size = sizeof(struct clonemedium_args),
    .run = run_clonemedium,
    .detail = "Prints the progress (0%...100%) on stderr, then\n"
              "  Clone medium created in format 'FORMAT'. UUID: UUID\n",
};
