/*
 * plugins/frontends/manage/cmd_createvm.c - `capsule createvm --name N
 * [--ostype T] [--basefolder D] [--register]`.
 *
 * As VBoxManage does: compose the settings file name (honouring
 * --basefolder), create the machine object, then either save its settings
 * file or, with --register, register it: registerMachine saves the file
 * itself only after its checks, so a refused registration (a name already
 * registered) leaves nothing behind for a retry to trip on. Output:
 *
 *   Virtual machine 'N' is created and registered.   (or "is created.")
 *   UUID: <uuid>
 *   Settings file: '<path>'
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <capsule/mem.h>
#include <capsule/uuid.h>

#include "manage.h"

struct createvm_args {
    const char *name, *ostype, *base;
    int do_register;
};

static const struct cli_arg createvm_args[] = {
    CLI_OPT_REQ("--name", "NAME", cli_arg_nonempty, struct createvm_args, name,
                "the machine's name (unique among registered machines)"),
    CLI_STR("--ostype", "TYPE", struct createvm_args, ostype,
            "a guest OS type ID (see 'capsule list ostypes'); default Other"),
    CLI_OPT("--basefolder", "FOLDER", cli_arg_nonempty, struct createvm_args, base,
            "put the machine folder under FOLDER instead of the\ndefault machine folder"),
    CLI_FLAG("--register", struct createvm_args, do_register,
             "register the machine too (else use 'capsule registervm')"),
    CLI_ARGS_END,
};

/* An absolute form of `path` (relative to the current folder), or NULL. */
static char *absolute(const char *path)
{
    char cwd[PATH_MAX];
    if (path[0] == '/')
        return cap_str_dup(path);
    if (!getcwd(cwd, sizeof(cwd)))
        return NULL;
    return cap_str_printf("%s/%s", cwd, path);
}

static cap_result create(struct cli_vm *vm, void *arg)
{
    const struct createvm_args *a = arg;
    ICapsule *root = vm->ctx->root;
    char *file = NULL, *base_abs = NULL, *path = NULL;
    IMachine *m = NULL;
    cap_uuid id, null_id;
    char ubuf[CAP_UUID_BUFSIZE];
    cap_result rc = CAP_OK;

    memset(&null_id, 0, sizeof(null_id));
    if (a->base && !(base_abs = absolute(a->base))) {
        rc = cap_error_set(CAP_E_IO, "capsule", NULL, "cannot resolve --basefolder '%s'", a->base);
        goto out;
    }
    vm->what = "ICapsule::composeMachineFilename";
    rc = ICapsule_ComposeMachineFilename(root, a->name, base_abs ? base_abs : "", &file);
    if (CAP_FAILED(rc))
        goto out;
    vm->what = "ICapsule::createMachine";
    rc = ICapsule_CreateMachine(root, file, a->name, a->ostype ? a->ostype : "", &null_id,
                                CAP_FALSE, &m);
    if (CAP_FAILED(rc))
        goto out;
    /* registerMachine saves the new machine itself, after its checks (a
     * name already registered): a refused registration writes nothing. */
    vm->what = a->do_register ? "ICapsule::registerMachine" : "IMachine::saveSettings";
    rc = a->do_register ? ICapsule_RegisterMachine(root, m) : IMachine_SaveSettings(m);
    if (CAP_FAILED(rc))
        goto out;
    vm->what = "IMachine";
    rc = IMachine_GetId(m, &id);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetSettingsFilePath(m, &path);
    if (CAP_FAILED(rc))
        goto out;
    printf("Virtual machine '%s' is created%s.\n", a->name,
           a->do_register ? " and registered" : "");
    printf("UUID: %s\n", cap_uuid_format(&id, ubuf));
    printf("Settings file: '%s'\n", path);
out:
    cap_str_free(path);
    cap_str_free(file);
    cap_str_free(base_abs);
    cli_release(m);
    return rc;
}

static int run_createvm(struct cli_ctx *ctx, void *args)
{
    return cli_with_vm(ctx, NULL, CLI_SERVICE, create, args);
}

const struct cli_cmd cli_cmd_createvm = {
    .name = "createvm",
    .help = "create a machine and its settings file (and register it)",
    .args = createvm_args,
    .args_size = sizeof(struct createvm_args),
    .run = run_createvm,
    .detail = NULL,
};
