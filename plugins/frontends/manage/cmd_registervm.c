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

static int cmd_registervm(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *file = NULL, *val = NULL;
    struct cli_parser p;
    int r;
    cli_parser_init(&p, argc, argv);
    while ((r = cli_next(&p, NULL, &val)) != CLI_END) {
        if (r == CLI_BAD)
            return cli_usage(ctx, NULL);
        if (file)
            return cli_usage(ctx, "unexpected argument '%s'", val);
        file = val;
    }
    if (!file || !*file)
        return cli_usage(ctx, "the settings FILE is missing");

    IMachine *m = NULL;
    char *path = resolve(file), *name = NULL;
    const char *what = "connecting to capsule-svc";
    int status = CLI_EXIT_OK;
    cap_result rc = path ? cli_connect(ctx) : CAP_E_OUTOFMEMORY;
    if (rc >= 0) {
        what = "ICapsule::openMachine";
        rc = ICapsule_OpenMachine(ctx->root, path, &m);
    }
    if (rc >= 0) {
        what = "ICapsule::registerMachine";
        rc = ICapsule_RegisterMachine(ctx->root, m);
    }
    if (rc >= 0) {
        cap_uuid id;
        char ubuf[CAP_UUID_BUFSIZE];
        what = "IMachine";
        rc = IMachine_GetName(m, &name);
        if (rc >= 0)
            rc = IMachine_GetId(m, &id);
        if (rc >= 0)
            printf("Virtual machine '%s' {%s} is registered.\n", name, cap_uuid_format(&id, ubuf));
    }
    if (rc < 0)
        status = cli_fail(rc, what);
    cap_str_free(name);
    cap_str_free(path);
    if (m)
        IMachine_Release(m);
    return status;
}

const struct cli_cmd cli_cmd_registervm = {
    .name = "registervm",
    .fn = cmd_registervm,
    .usage = "capsule registervm FILE",
    .help = "register the machine described by a settings file",
    .detail = NULL,
};
