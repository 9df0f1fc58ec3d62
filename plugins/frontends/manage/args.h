/*
 * plugins/frontends/manage/args.h - declarative arguments of the capsule
 * CLI's subcommands (kvmtool's style).
 *
 * A subcommand describes what it accepts in one table, one line per
 * argument: its name, the parser that stores its value into a field of the
 * subcommand's own argument struct, and its help text. From that table
 * cli_args_parse() fills the struct from argv, and cli_args_synopsis() /
 * cli_args_help() write the synopsis and the option list of `capsule help
 * CMD`, so a subcommand's help can never disagree with what it parses.
 *
 *     struct startvm_args { const char *vm, *type; };
 *     static const struct cli_arg startvm_args[] = {
 *         CLI_POS("VM", struct startvm_args, vm, CLI_VM_MISSING, NULL),
 *         CLI_OPT("--type", "TYPE", cli_arg_nonempty, struct startvm_args, type,
 *                 "the frontend"),
 *         CLI_ARGS_END,
 *     };
 *
 * Positionals are taken in table order (CLI_POS required, CLI_POS_OPT
 * optional, which must come last). Options may come in any order and any
 * number of times (the last one wins, unless the parser accumulates).
 *
 * Like opts.h, this module is pure: no IPC, no service; output only to the
 * FILE it is given. Errors are values: CAP_E_INVALIDARG with the thread's
 * error info set to a message for people (the CLI prints it as a usage
 * error, exit 2).
 */
#ifndef CAPSULE_MANAGE_ARGS_H
#define CAPSULE_MANAGE_ARGS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <capsule/capsule.h>

#include "opts.h"

struct cli_arg;

/*
 * Stores an argument's value into `dst` (the field at the table line's
 * offset). `val` is the option's value (NULL for a flag) or the positional
 * argument; `p` lets an option take further values (cli_take,
 * cli_peek_value). CAP_OK, or CAP_E_INVALIDARG with error info set.
 */
typedef cap_result (*cli_arg_parse_fn)(const struct cli_arg *a, struct cli_parser *p,
                                       const char *val, void *dst);

/* One value of a CLI_CHOICE positional, with its help line. */
struct cli_choice {
    const char *name;
    const char *help;
};

#define CLI_ARG_POSITIONAL 0x1u /* not an option: name is the metavariable */
#define CLI_ARG_REQUIRED   0x2u /* must be given (positionals: unless CLI_POS_OPT) */
#define CLI_ARG_HIDDEN     0x4u /* parsed, not shown in help (an alias such as -l) */

/* One line of a subcommand's table. */
struct cli_arg {
    const char *name; /* "--memory"; a positional's metavariable ("VM") */
    const char *meta; /* the value's name in help ("MB"); NULL: a flag, takes no value */
    cli_arg_parse_fn parse;
    size_t offset;       /* of the field in the subcommand's argument struct */
    unsigned flags;      /* CLI_ARG_* */
    const char *help;    /* lines separated by '\n'; NULL: none */
    const char *missing; /* a required one absent: the usage error; NULL: a generic one */
    const struct cli_choice *choices; /* CLI_CHOICE: the values, NULL-name terminated */
};

/* ---- Field types the stock parsers fill ---------------------------------- */

/* A number that may be absent; `text` is the argument as given (for
 * messages about it after parsing, e.g. a range known only at run time). */
struct cli_u32 {
    int set;
    uint32_t value;
    const char *text;
};

/* A timeout (cli_parse_timeout), absent unless set. */
struct cli_ms {
    int set;
    int32_t ms;
};

/* on|off, absent unless set. */
struct cli_bool {
    int set;
    int value;
};

/* The arguments from a CLI_POS_REST line on, as given (n 0 when none). */
struct cli_rest {
    int n;
    char **v; /* points into argv */
};

/* ---- Stock parsers ------------------------------------------------------- */

/* int: 1. */
cap_result cli_arg_flag(const struct cli_arg *a, struct cli_parser *p, const char *val, void *dst);
/* const char *: the argument itself (it points into argv). */
cap_result cli_arg_str(const struct cli_arg *a, struct cli_parser *p, const char *val, void *dst);
/* const char *: as cli_arg_str, but the empty string is refused. */
cap_result cli_arg_nonempty(const struct cli_arg *a, struct cli_parser *p, const char *val,
                            void *dst);
/* struct cli_u32: a positive number (decimal or 0x hex, at most UINT32_MAX). */
cap_result cli_arg_count(const struct cli_arg *a, struct cli_parser *p, const char *val, void *dst);
/* struct cli_u32: a number from 0 (a port, a device), at most INT32_MAX. */
cap_result cli_arg_index(const struct cli_arg *a, struct cli_parser *p, const char *val, void *dst);
/* struct cli_u32: a positive memory size in MB (cli_parse_mb's units). */
cap_result cli_arg_mb(const struct cli_arg *a, struct cli_parser *p, const char *val, void *dst);
/* struct cli_ms: cli_parse_timeout. */
cap_result cli_arg_timeout(const struct cli_arg *a, struct cli_parser *p, const char *val,
                           void *dst);
/* struct cli_bool: on/off (also true/false, yes/no, 1/0; case-insensitive). */
cap_result cli_arg_onoff(const struct cli_arg *a, struct cli_parser *p, const char *val, void *dst);
/* struct cli_rest: this argument and every one after it, raw (words that
 * look like options too: "keyboardputstring TEXT..." types them). */
cap_result cli_arg_rest(const struct cli_arg *a, struct cli_parser *p, const char *val, void *dst);
/* int: the index of the value in a->choices (exact match). */
cap_result cli_arg_choice(const struct cli_arg *a, struct cli_parser *p, const char *val,
                          void *dst);

/* ---- Table lines --------------------------------------------------------- */

#define CLI_VM_MISSING "the VM (name or UUID) is missing"

#define CLI_ARG_LINE(NAME, META, FN, T, FIELD, FLAGS, HELP, MISSING, CHOICES)                      \
    {                                                                                              \
        (NAME), (META), (FN), offsetof(T, FIELD), (FLAGS), (HELP), (MISSING), (CHOICES)            \
    }

/* A required positional (const char *). */
#define CLI_POS(META, T, FIELD, MISSING, HELP)                                                     \
    CLI_ARG_LINE(META, NULL, cli_arg_str, T, FIELD, CLI_ARG_POSITIONAL | CLI_ARG_REQUIRED, HELP,   \
                 MISSING, NULL)
/* An optional positional (const char *; NULL when absent). */
#define CLI_POS_OPT(META, T, FIELD, HELP)                                                          \
    CLI_ARG_LINE(META, NULL, cli_arg_str, T, FIELD, CLI_ARG_POSITIONAL, HELP, NULL, NULL)
/* A required positional that is one of CHOICES (int: its index). */
#define CLI_CHOICE(META, CHOICES, T, FIELD, MISSING)                                               \
    CLI_ARG_LINE(META, NULL, cli_arg_choice, T, FIELD, CLI_ARG_POSITIONAL | CLI_ARG_REQUIRED,      \
                 NULL, MISSING, CHOICES)
/* The last positional: this one and all arguments after it, whatever they
 * look like (struct cli_rest; n 0 when absent). */
#define CLI_POS_REST(META, T, FIELD, HELP)                                                         \
    CLI_ARG_LINE(META, NULL, cli_arg_rest, T, FIELD, CLI_ARG_POSITIONAL, HELP, NULL, NULL)
/* A flag (int). */
#define CLI_FLAG(NAME, T, FIELD, HELP)                                                             \
    CLI_ARG_LINE(NAME, NULL, cli_arg_flag, T, FIELD, 0, HELP, NULL, NULL)
/* An option with a string value (const char *). */
#define CLI_STR(NAME, META, T, FIELD, HELP)                                                        \
    CLI_ARG_LINE(NAME, META, cli_arg_str, T, FIELD, 0, HELP, NULL, NULL)
/* An option with a value parsed by FN into FIELD. */
#define CLI_OPT(NAME, META, FN, T, FIELD, HELP)                                                    \
    CLI_ARG_LINE(NAME, META, FN, T, FIELD, 0, HELP, NULL, NULL)
/* As CLI_OPT, but the option must be given. */
#define CLI_OPT_REQ(NAME, META, FN, T, FIELD, HELP)                                                \
    CLI_ARG_LINE(NAME, META, FN, T, FIELD, CLI_ARG_REQUIRED, HELP, NULL, NULL)
/* Another spelling of an option, parsed the same, not shown in help. */
#define CLI_ALIAS(NAME, META, FN, T, FIELD)                                                        \
    CLI_ARG_LINE(NAME, META, FN, T, FIELD, CLI_ARG_HIDDEN, NULL, NULL, NULL)

#define CLI_ARGS_END                                                                               \
    {                                                                                              \
        NULL, NULL, NULL, 0, 0, NULL, NULL, NULL                                                   \
    }

/* ---- Parsing and help ---------------------------------------------------- */

/*
 * Parses argv[0..argc-1] (the arguments after the subcommand's name) by the
 * table into the struct at `out` (zeroed by the caller; only the fields of
 * arguments given are written). *n_options (may be NULL) is the number of
 * options given. Usage errors: an unknown option or one without its value,
 * a value its parser refuses, a positional too many ("unexpected argument
 * 'X'"), a required one missing (the line's `missing` text, or "the X is
 * missing" / "option '--x' is required").
 */
cap_result cli_args_parse(const struct cli_arg *args, int argc, char **argv, void *out,
                          unsigned *n_options);

/*
 * Writes the synopsis, "capsule CMD POSITIONALS [--opt META]...", wrapped
 * to 79 columns with continuation lines indented under the first argument,
 * ending with a newline. Choice positionals show their values as a|b|c,
 * optional ones in brackets, required options without.
 */
void cli_args_synopsis(FILE *f, const char *cmd, const struct cli_arg *args);

/*
 * Writes an empty line, then one line per argument with help text (and
 * per choice of a CLI_CHOICE): the name and metavariable, then the help
 * aligned in a column; further help lines aligned under the first.
 * Nothing at all if no line has help.
 */
void cli_args_help(FILE *f, const struct cli_arg *args);

#endif /* CAPSULE_MANAGE_ARGS_H */
