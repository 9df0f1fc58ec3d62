/*
 * plugins/frontends/manage/cmd_web.c - `capsule web [--port N] [--address
 * A]`: the web manager.
 *
 * Runs capsule-web (plugins/frontends/web), the program beside this one,
 * in this process (exec): the server links libmicrohttpd and runs until
 * interrupted, neither of which the CLI should carry, and exec keeps
 * `capsule web` what the user started (Ctrl-C, exit status, the printed URL
 * and token). capsule-web checks the values and connects to the service.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "manage.h"

struct web_args {
    const char *port;
    const char *address;
};

static const struct cli_arg web_args[] = {
    CLI_STR("--port", "N", struct web_args, port,
            "TCP port to serve on (default 18085; 0: any free port)"),
    CLI_STR("--address", "A", struct web_args, address,
            "address to listen on (default 127.0.0.1: loopback only)"),
    CLI_ARGS_END,
};

static int run_web(struct cli_ctx *ctx, void *args)
{
    const struct web_args *a = args;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - sizeof("capsule-web"));
    char *slash = NULL;
    if (n > 0) {
        exe[n] = 0;
        slash = strrchr(exe, '/');
    }
    if (!slash) {
        fprintf(stderr, "capsule: error: web: cannot find this program's folder\n");
        return CLI_EXIT_FAIL;
    }
    strcpy(slash + 1, "capsule-web");
    char *argv[6];
    int k = 0;
    argv[k++] = exe;
    if (a->port) {
        argv[k++] = "--port";
        argv[k++] = (char *)a->port;
    }
    if (a->address) {
        argv[k++] = "--address";
        argv[k++] = (char *)a->address;
    }
    argv[k] = NULL;
    (void)ctx;
    fflush(NULL);
    execv(exe, argv);
    fprintf(stderr, "capsule: error: web: cannot run %s: %s\n", exe, strerror(errno));
    return CLI_EXIT_FAIL;
}

const struct cli_cmd cli_cmd_web = {
    .name = "web",
    .help = "serve the web manager and its JSON API (capsule-web)",
    .args = web_args,
    .args_size = sizeof(struct web_args),
    .run = run_web,
    .detail = "Prints the URL and a login token (also stored 0600 in CAPSULE_HOME/web-token)\n"
              "and serves until interrupted. The API reference is\n"
              "plugins/frontends/web/README.md and /api/openapi.json.\n",
};
