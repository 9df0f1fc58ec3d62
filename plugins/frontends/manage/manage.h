/*
 * plugins/frontends/manage/manage.h - the capsule CLI's internal interface.
 *
 * The CLI is VBoxManage's shape in C: main.c holds the table of subcommands
 * and dispatches to one cmd_*.c file per subcommand; each subcommand parses
 * its arguments with opts.h first (a usage error costs no connection), then
 * reaches the service through common.c and speaks only the API of
 * capsule.xidl over IPC.
 *
 * Exit status, which scripts rely on: CLI_EXIT_OK (0) on success,
 * CLI_EXIT_FAIL (1) when an operation fails (the service's message and the
 * result code on stderr), CLI_EXIT_USAGE (2) on a usage error (the problem
 * and a one-line hint on stderr).
 */
#ifndef CAPSULE_MANAGE_H
#define CAPSULE_MANAGE_H

#include <stdio.h>

#include <capsule/capsule.h>
#include <capsule/errorinfo.h>

#include "opts.h"

#define CLI_EXIT_OK    0
#define CLI_EXIT_FAIL  1
#define CLI_EXIT_USAGE 2

#define CLI_VERSION "1.0.0"

struct cli_cmd;

/* One run of the CLI. Fields are NULL until cli_connect() fills them. */
struct cli_ctx {
    const struct cli_cmd *cmd; /* the subcommand running */
    struct cap_client *client; /* set by cli_connect */
    ICapsule *root;            /* set by cli_connect */
};

/*
 * A subcommand: `fn` gets the arguments after its name (argv[0] is the
 * first of them, not the name) and returns an exit status. `usage` is the
 * synopsis (one or more lines, each starting with "capsule "), `help` the
 * one-line summary for `capsule --help`, `detail` the text after the
 * synopsis in `capsule help CMD` (may be NULL).
 */
struct cli_cmd {
    const char *name;
    int (*fn)(struct cli_ctx *ctx, int argc, char **argv);
    const char *usage;
    const char *help;
    const char *detail;
};

/* The subcommands, one per cmd_*.c file. */
extern const struct cli_cmd cli_cmd_list, cli_cmd_createvm, cli_cmd_registervm,
    cli_cmd_unregistervm, cli_cmd_modifyvm, cli_cmd_showvminfo, cli_cmd_startvm, cli_cmd_controlvm,
    cli_cmd_getextradata, cli_cmd_setextradata, cli_cmd_waitfor, cli_cmd_console, cli_cmd_debugvm;

/* ---- common.c: errors ---------------------------------------------------- */

/*
 * Prints a usage error for ctx's subcommand - "capsule: error: CMD: MSG" and
 * "Try 'capsule help CMD' for more information." - and returns
 * CLI_EXIT_USAGE. With fmt NULL the message is the thread's error info (as
 * set by the opts.h parsers).
 */
int cli_usage(struct cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Prints a failed operation - "capsule: error: MESSAGE" where MESSAGE is the
 * thread's error info (the service's message) or, if there is none, `what`
 * followed by " failed" - then "capsule: error: details: code NAME (0xRC)"
 * with the component and interface when known, and returns CLI_EXIT_FAIL.
 */
int cli_fail(cap_result rc, const char *what);

/* Sets the thread's error info from an IErrorInfo (a progress's outcome, a
 * machine's access error) and returns its result code (CAP_E_FAIL if it has
 * none). */
cap_result cli_error_from_info(IErrorInfo *ei);

/* ---- common.c: the service ---------------------------------------------- */

/*
 * Connects to capsule-svc (starting it if none answers) and fills ctx->root.
 * Idempotent.
 * Errors as cap_client_connect.
 */
cap_result cli_connect(struct cli_ctx *ctx);

/* Releases the root, closes the connection and the registry. */
void cli_disconnect(struct cli_ctx *ctx);

/* Connects and finds a machine by name or UUID (ICapsule's findMachine). */
cap_result cli_find_machine(struct cli_ctx *ctx, const char *name_or_id, IMachine **out);

/* A new Session object in this process: the Session class of the default
 * registry (set up on first use from BUILD/lib/components). */
cap_result cli_session_create(ISession **out);

/*
 * Waits for `progress` to complete (timeout_ms -1: forever); CAP_OK if the
 * operation succeeded, else its result code with the thread's error info set
 * from the progress's errorInfo. CAP_E_TIMEOUT if it did not complete in time.
 */
cap_result cli_progress_wait(IProgress *progress, int32_t timeout_ms);

/* ---- common.c: output ---------------------------------------------------- */

/* Prints one machine-readable line (see opts.h); failures to allocate print
 * nothing and return -1. */
int cli_mr_print_str(FILE *f, const char *key, const char *value);
int cli_mr_print_num(FILE *f, const char *key, int64_t value);

/* Prints the synopsis and details of a subcommand (`capsule help CMD`). */
void cli_print_cmd_help(FILE *f, const struct cli_cmd *cmd);

#endif /* CAPSULE_MANAGE_H */
