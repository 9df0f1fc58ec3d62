/*
 * plugins/frontends/manage/main.c - `capsule`, the command-line frontend
 * (VirtualBox's VBoxManage).
 *
 * `capsule [--help|--version] COMMAND [ARGS...]`: finds COMMAND in the table
 * below, parses its arguments by its argument table (args.h) and runs it.
 * The table is the only list of subcommands; each lives in its own cmd_*.c
 * file with its argument table and help text, so adding one is a file and
 * a line here. `--help` (or -h) among a subcommand's arguments, and
 * `capsule help COMMAND`, print that subcommand's help without touching the
 * service.
 */
#include <stdio.h>
#include <string.h>

#include <capsule/capsule.h>
#include <capsule/errorinfo.h>
#include <capsule/mem.h>

#include "manage.h"

static const struct cli_cmd cli_cmd_help;

/*
 * Every subcommand, in the order `capsule --help` lists them: X(name) is
 * the `const struct cli_cmd cli_cmd_name` its file cmd_name.c defines. A
 * new subcommand is that file and its X() here.
 */
#define COMMANDS(X)                                                                                \
    X(list)                                                                                        \
    X(showvminfo)                                                                                  \
    X(createvm)                                                                                    \
    X(registervm)                                                                                  \
    X(unregistervm)                                                                                \
    X(modifyvm)                                                                                    \
    X(startvm)                                                                                     \
    X(controlvm)                                                                                   \
    X(getextradata)                                                                                \
    X(setextradata)                                                                                \
    X(waitfor)                                                                                     \
    X(console)                                                                                     \
    X(debugvm)                                                                                     \
    X(createmedium)                                                                                \
    X(showmediuminfo)                                                                              \
    X(closemedium)                                                                                 \
    X(clonemedium)                                                                                 \
    X(storagectl)                                                                                  \
    X(storageattach)                                                                               \
    X(web)

#define DECLARE(name) extern const struct cli_cmd cli_cmd_##name;
#define ENTRY(name)   &cli_cmd_##name,
#define HELP_ENTRY    &cli_cmd_help /* last: `capsule help` */
COMMANDS(DECLARE)

static const struct cli_cmd *const commands[] = {COMMANDS(ENTRY) HELP_ENTRY};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct cli_cmd *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

static void print_usage(FILE *f)
{
    fprintf(f, "Usage: capsule [--help | --version] COMMAND [ARGUMENTS...]\n"
               "\n"
               "Controls Capsule virtual machines through the per-user service capsule-svc\n"
               "(started on demand; CAPSULE_HOME selects its folder, default ~/.capsule).\n"
               "VM is a machine name or UUID.\n"
               "\n"
               "Commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-14s %s\n", commands[i]->name, commands[i]->help);
    fprintf(f, "\nExit status: 0 on success, 1 if an operation failed, 2 on a usage error.\n");
}

/* 1 if the arguments ask for help (before any "--"). */
static int wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    }
    return 0;
}

/* ---- capsule help [COMMAND] ---------------------------------------------- */

struct help_args {
    const char *command;
};

static const struct cli_arg help_args[] = {
    CLI_POS_OPT("COMMAND", struct help_args, command,
                "the command to describe; without one, list the commands"),
    CLI_ARGS_END,
};

static int run_help(struct cli_ctx *ctx, void *args)
{
    const struct help_args *a = args;
    if (!a->command) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    const struct cli_cmd *cmd = find_command(a->command);
    if (!cmd) {
        fprintf(stderr, "capsule: error: help: unknown command '%s'\n", a->command);
        fprintf(stderr, "Try 'capsule --help' for the list of commands.\n");
        return CLI_EXIT_USAGE;
    }
    (void)ctx;
    cli_print_cmd_help(stdout, cmd);
    return CLI_EXIT_OK;
}

static const struct cli_cmd cli_cmd_help = {
    .name = "help",
    .help = "show the help of a command: capsule help COMMAND",
    .args = help_args,
    .args_size = sizeof(struct help_args),
    .run = run_help,
    .detail = NULL,
};

/* ---- dispatch ------------------------------------------------------------- */

/* Parses the subcommand's arguments by its table, then runs it. */
static int run_command(const struct cli_cmd *cmd, int argc, char **argv)
{
    struct cli_ctx ctx = {.cmd = cmd};
    void *args = cap_alloc_zero(cmd->args_size ? cmd->args_size : 1);
    if (!args)
        return cli_fail(CAP_E_OUTOFMEMORY, "parsing the arguments");
    int status;
    if (CAP_FAILED(cli_args_parse(cmd->args, argc, argv, args, &ctx.n_options)))
        status = cli_usage(&ctx, NULL);
    else
        status = cmd->run(&ctx, args);
    cap_free(args);
    cli_disconnect(&ctx);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "capsule: error: no command given\n"
                        "Try 'capsule --help' for the list of commands.\n");
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
        printf("%s\n", CLI_VERSION);
        return CLI_EXIT_OK;
    }
    const struct cli_cmd *cmd = find_command(name);
    if (!cmd) {
        fprintf(stderr, "capsule: error: unknown command '%s'\n", name);
        fprintf(stderr, "Try 'capsule --help' for the list of commands.\n");
        return CLI_EXIT_USAGE;
    }
    if (wants_help(argc - 2, argv + 2)) {
        cli_print_cmd_help(stdout, cmd);
        return CLI_EXIT_OK;
    }

    /* Result names of the API's codes come from its typelib. */
    cap_typelib_register(&capsule_typelib);
    int status = run_command(cmd, argc - 2, argv + 2);
    fflush(stdout);
    if (ferror(stdout)) {
        fprintf(stderr, "capsule: error: writing the output failed\n");
        return CLI_EXIT_FAIL;
    }
    return status;
}
