/*
 * plugins/frontends/manage/cmd_createvm.c - `capsule createvm --name N
 * [--ostype T] [--basefolder D] [--register]`.
 *
 * As VBoxManage does: compose the settings file name (honouring
 * --basefolder), create the machine object, save its settings file, and
 * register it only when asked. Output:
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

enum { OPT_NAME = 1, OPT_OSTYPE, OPT_BASEFOLDER, OPT_REGISTER };

static const struct cli_opt createvm_opts[] = {
    {"--name", OPT_NAME, 1},
    {"--ostype", OPT_OSTYPE, 1},
    {"--basefolder", OPT_BASEFOLDER, 1},
    {"--register", OPT_REGISTER, 0},
    {NULL, 0, 0},
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

static int create(struct cli_ctx *ctx, const char *name, const char *ostype, const char *base,
                  int do_register)
{
    char *file = NULL, *base_abs = NULL, *path = NULL;
    IMachine *m = NULL;
    cap_uuid id, null_id;
    char ubuf[CAP_UUID_BUFSIZE];
    int status = CLI_EXIT_OK;
    const char *what = "connecting to capsule-svc";

    memset(&null_id, 0, sizeof(null_id));
    cap_result rc = cli_connect(ctx);
    if (rc < 0)
        goto fail;
    if (base && !(base_abs = absolute(base))) {
        rc = cap_error_set(CAP_E_IO, "capsule", NULL, "cannot resolve --basefolder '%s'", base);
        goto fail;
    }
    what = "ICapsule::composeMachineFilename";
    rc = ICapsule_ComposeMachineFilename(ctx->root, name, base_abs ? base_abs : "", &file);
    if (rc < 0)
        goto fail;
    what = "ICapsule::createMachine";
    rc = ICapsule_CreateMachine(ctx->root, file, name, ostype ? ostype : "", &null_id, CAP_FALSE,
                                &m);
    if (rc < 0)
        goto fail;
    /* registerMachine saves the new machine itself, after its checks (a
     * name already registered): a refused registration writes nothing. */
    what = do_register ? "ICapsule::registerMachine" : "IMachine::saveSettings";
    rc = do_register ? ICapsule_RegisterMachine(ctx->root, m) : IMachine_SaveSettings(m);
    if (rc < 0)
        goto fail;
    what = "IMachine";
    rc = IMachine_GetId(m, &id);
    if (rc >= 0)
        rc = IMachine_GetSettingsFilePath(m, &path);
    if (rc < 0)
        goto fail;
    printf("Virtual machine '%s' is created%s.\n", name, do_register ? " and registered" : "");
    printf("UUID: %s\n", cap_uuid_format(&id, ubuf));
    printf("Settings file: '%s'\n", path);
    goto out;
fail:
    status = cli_fail(rc, what);
out:
    cap_str_free(path);
    cap_str_free(file);
    cap_str_free(base_abs);
    if (m)
        IMachine_Release(m);
    return status;
}

static int cmd_createvm(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *name = NULL, *ostype = NULL, *base = NULL, *val = NULL;
    int do_register = 0, r;
    struct cli_parser p;
    cli_parser_init(&p, argc, argv);
    while ((r = cli_next(&p, createvm_opts, &val)) != CLI_END) {
        switch (r) {
        case OPT_NAME:
            name = val;
            break;
        case OPT_OSTYPE:
            ostype = val;
            break;
        case OPT_BASEFOLDER:
            base = val;
            break;
        case OPT_REGISTER:
            do_register = 1;
            break;
        case CLI_POSITIONAL:
            return cli_usage(ctx, "unexpected argument '%s'", val);
        default:
            return cli_usage(ctx, NULL);
        }
    }
    if (!name)
        return cli_usage(ctx, "option '--name' is required");
    if (!*name)
        return cli_usage(ctx, "--name: the name must not be empty");
    if (base && !*base)
        return cli_usage(ctx, "--basefolder: the folder must not be empty");
    return create(ctx, name, ostype, base, do_register);
}

const struct cli_cmd cli_cmd_createvm = {
    .name = "createvm",
    .fn = cmd_createvm,
    .usage = "capsule createvm --name NAME [--ostype TYPE] [--basefolder DIR] [--register]",
    .help = "create a machine and its settings file (and register it)",
    .detail =
        "  --name NAME        the machine's name (unique among registered machines)\n"
        "  --ostype TYPE      a guest OS type ID (see 'capsule list ostypes'); default Other\n"
        "  --basefolder DIR   put the machine folder under DIR instead of the default\n"
        "                     machine folder\n"
        "  --register         register the machine too (else use 'capsule registervm')\n",
};
