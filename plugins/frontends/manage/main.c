/*
 * plugins/frontends/manage/main.c - `capsule`, the command-line frontend
 * (VirtualBox's VBoxManage).
 *
 * `capsule [--help|--version] COMMAND [ARGS...]`: finds COMMAND in the table
 * below and runs it. The table is the only list of subcommands; each lives
 * in its own cmd_*.c file with its synopsis and help text. `--help` (or -h)
 * among a subcommand's arguments, and `capsule help COMMAND`, print that
 * subcommand's help without touching the service.
 */
#include <stdio.h>
#include <string.h>

#include <capsule/capsule.h>
#include <capsule/errorinfo.h>

#include "manage.h"

static const struct cli_cmd *const commands[] = {
    &cli_cmd_list,         &cli_cmd_showvminfo,   &cli_cmd_createvm, &cli_cmd_registervm,
    &cli_cmd_unregistervm, &cli_cmd_modifyvm,     &cli_cmd_startvm,  &cli_cmd_controlvm,
    &cli_cmd_getextradata, &cli_cmd_setextradata, &cli_cmd_waitfor,  &cli_cmd_console,
    &cli_cmd_debugvm,
};

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
    fprintf(f, "  %-14s %s\n", "help", "show the help of a command: capsule help COMMAND");
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

static int cmd_help(int argc, char **argv)
{
    if (argc == 0) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    const struct cli_cmd *cmd = find_command(argv[0]);
    if (!cmd || argc > 1) {
        fprintf(stderr, "capsule: error: help: %s '%s'\n",
                cmd ? "unexpected argument" : "unknown command", argv[cmd ? 1 : 0]);
        fprintf(stderr, "Try 'capsule --help' for the list of commands.\n");
        return CLI_EXIT_USAGE;
    }
    cli_print_cmd_help(stdout, cmd);
    return CLI_EXIT_OK;
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
    if (strcmp(name, "help") == 0)
        return cmd_help(argc - 2, argv + 2);

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
    struct cli_ctx ctx = {.cmd = cmd};
    int status = cmd->fn(&ctx, argc - 2, argv + 2);
    cli_disconnect(&ctx);
    fflush(stdout);
    if (ferror(stdout)) {
        fprintf(stderr, "capsule: error: writing the output failed\n");
        return CLI_EXIT_FAIL;
    }
    return status;
}
