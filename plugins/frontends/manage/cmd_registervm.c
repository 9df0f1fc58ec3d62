/*
 * plugins/frontends/manage/cmd_registervm.c - `capsule registervm FILE`.
 *
 * Opens an existing machine settings file (ICapsule's openMachine) and
 * registers the machine. A relative FILE is taken relative to the current
 * folder when it exists there (what a shell user means), else passed on as
 * is (the API then takes it relative to CAPSULE_HOME).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <capsule/mem.h>
#include <capsule/uuid.h>

#include "manage.h"

static char *resolve(const char *file)
{
    char cwd[PATH_MAX];
    if (file[0] == '/' || access(file, F_OK) != 0 || !getcwd(cwd, sizeof(cwd)))
        return cap_str_dup(file);
    return cap_str_printf("%s/%s", cwd, file);
}

struct registervm_args {
    const char *file;
};

static const struct cli_arg registervm_args[] = {
    CLI_POS("FILE", struct registervm_args, file, "the settings FILE is missing", NULL),
    CLI_ARGS_END,
};

static cap_result register_file(struct cli_vm *vm, void *arg)
{
    IMachine *m = NULL;
    char *path = resolve(arg), *name = NULL;
    cap_uuid id;
    char ubuf[CAP_UUID_BUFSIZE];
    vm->what = "ICapsule::openMachine";
    cap_result rc = path ? ICapsule_OpenMachine(vm->ctx->root, path, &m) : CAP_E_OUTOFMEMORY;
    if (CAP_SUCCEEDED(rc)) {
        vm->what = "ICapsule::registerMachine";
        rc = ICapsule_RegisterMachine(vm->ctx->root, m);
    }
    if (CAP_SUCCEEDED(rc)) {
        vm->what = "IMachine";
        rc = IMachine_GetName(m, &name);
    }
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetId(m, &id);
    if (CAP_SUCCEEDED(rc))
        printf("Virtual machine '%s' {%s} is registered.\n", name, cap_uuid_format(&id, ubuf));
    cap_str_free(name);
    cap_str_free(path);
    cli_release(m);
    return rc;
}

static int run_registervm(struct cli_ctx *ctx, void *args)
{
    const struct registervm_args *a = args;
    if (!*a->file)
        return cli_usage(ctx, "the settings FILE is missing");
    return cli_with_vm(ctx, NULL, CLI_SERVICE, register_file, (void *)a->file);
}

const struct cli_cmd cli_cmd_registervm = {
    .name = "registervm",
    .help = "register the machine described by a settings file",
    .args = registervm_args,
    .args_size = sizeof(struct registervm_args),
    .run = run_registervm,
    .detail = NULL,
};
