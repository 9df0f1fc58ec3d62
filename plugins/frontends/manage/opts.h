/*
 * plugins/frontends/manage/opts.h - argument parsing and text mappings of the
 * capsule CLI.
 *
 * Everything here is pure: no IPC, no service, no output. The subcommands
 * use it to turn argv into values (and to turn API values back into the
 * words scripts parse), and tests/unit/manage checks it on its own.
 *
 * Errors are values: every parse function returns CAP_OK, or
 * CAP_E_INVALIDARG with the calling thread's error info set to a message
 * naming the option and the bad value (cap_error_peek_message()), which the
 * CLI prints as a usage error (exit 2).
 */
#ifndef CAPSULE_MANAGE_OPTS_H
#define CAPSULE_MANAGE_OPTS_H

#include <stddef.h>
#include <stdint.h>

#include <capsule/capsule.h>

/* ---- Option iteration --------------------------------------------------- */

/* One option a subcommand accepts. `id` must be > 0. */
struct cli_opt {
    const char *name; /* "--memory" */
    int id;
    int has_arg; /* 1: takes a value, as "--memory 64" or "--memory=64" */
};

/* Iterates over argv[0..argc-1] (the arguments after the subcommand name). */
struct cli_parser {
    int argc;
    char **argv;
    int i;         /* next argument to look at */
    int opts_done; /* set once "--" was seen: everything after is positional */
};

#define CLI_END        0  /* no arguments left */
#define CLI_POSITIONAL -1 /* *val is a positional argument */
#define CLI_BAD        -2 /* unknown option or missing value; error info set */

void cli_parser_init(struct cli_parser *p, int argc, char **argv);

/*
 * Returns the id of the next option (with its value in *val if it takes one,
 * else *val = NULL), CLI_POSITIONAL with the argument in *val, CLI_END, or
 * CLI_BAD. A lone "-" and negative numbers ("-1") are positional; "--" ends
 * the options.
 */
int cli_next(struct cli_parser *p, const struct cli_opt *opts, const char **val);

/*
 * Takes the next raw argument as an extra value of option `opt` (for options
 * with two values, like "--uart1 0x3f8 4"). CAP_E_INVALIDARG if none is left.
 */
cap_result cli_take(struct cli_parser *p, const char *opt, const char **val);

/* 1 if the next raw argument exists and is not an option ("--x"); for
 * options whose second value is optional. */
int cli_peek_value(const struct cli_parser *p);

/* ---- Numbers ------------------------------------------------------------ */

/*
 * An unsigned integer in decimal or 0x-hexadecimal, between min and max
 * inclusive. `what` names the option in the message ("--cpus").
 */
cap_result cli_parse_u32(const char *what, const char *s, uint32_t min, uint32_t max,
                         uint32_t *out);

/*
 * A memory size in MB: a number with an optional suffix "M"/"MB" (MB),
 * "G"/"GB" (x 1024) or "T"/"TB" (x 1048576), case-insensitive, between min
 * and max MB.
 */
cap_result cli_parse_mb(const char *what, const char *s, uint32_t min, uint32_t max, uint32_t *out);

/*
 * Checks a number already parsed from `text` against limits known only at
 * run time (ISystemProperties'): CAP_E_INVALIDARG with the same message as
 * the parsers' ("--cpus: '300' is out of range (1 to 256)"), `unit` (" MB"
 * or "") after each limit.
 */
cap_result cli_check_range(const char *what, const char *text, uint32_t v, uint32_t min,
                           uint32_t max, const char *unit);

/*
 * A timeout in seconds ("30", "30s"), or with a suffix "ms" or "m"
 * (minutes), into milliseconds; at most 24 hours.
 */
cap_result cli_parse_timeout(const char *what, const char *s, int32_t *ms);

/* ---- Serial ports ------------------------------------------------------- */

struct cli_uart {
    int enabled;
    uint16_t io_base;
    uint32_t irq;
};

/*
 * "--uart1 IOBASE IRQ" or "--uart1 off": base is 0x..., hex without prefix
 * is not accepted (decimal is), and must leave room for the UART's eight
 * ports (at most 0xfff8); irq is 0 to 15. `irq` is NULL for "off".
 */
cap_result cli_parse_uart(const char *opt, const char *base, const char *irq, struct cli_uart *out);

/* "disconnected", "file", "server" <-> PortMode. from_name: CAP_E_INVALIDARG
 * for other words; *needs_path says whether the mode takes a path. */
cap_result cli_portmode_from_name(const char *opt, const char *s, PortMode *out, int *needs_path);
const char *cli_portmode_name(PortMode m);

/* ---- Enums as words ----------------------------------------------------- */

/* "auto", "hm", "rem", "raw" <-> ExecutionEngine (case-insensitive in). */
cap_result cli_engine_from_name(const char *opt, const char *s, ExecutionEngine *out);
const char *cli_engine_name(ExecutionEngine e);

/*
 * A CPU profile name against the n names the service lists (ISystemProperties'
 * cpuProfiles, which the CLI never hard-codes): matched without regard to
 * case, *out is the list's spelling. CAP_E_INVALIDARG for any other name
 * (the empty one too), with a message naming `opt`, the name and every
 * known one.
 */
cap_result cli_cpu_profile_match(const char *opt, const char *name, uint32_t n, char *const *known,
                                 const char **out);

/*
 * Machine states as the CLI prints them in machine-readable output and
 * accepts in `waitfor --state`: poweroff, saved, aborted, running, paused,
 * stuck, starting, stopping, saving, restoring. Input is case-insensitive
 * and also takes the API's enum names ("PoweredOff"). Unknown values print
 * as "unknown".
 */
const char *cli_state_name(MachineState s);
cap_result cli_state_from_name(const char *opt, const char *s, MachineState *out);

/* The state as people read it in `showvminfo`: "powered off", "running"... */
const char *cli_state_text(MachineState s);

/* ---- Times ------------------------------------------------------------- */

/*
 * An ISO 8601 time in UTC, as VBoxManage prints them, from milliseconds
 * since the Unix epoch: "2024-05-01T12:00:00.123000000", followed by "Z"
 * when `zone` is set. "unknown" for ms <= 0. `size` should be at least 40.
 */
void cli_format_time(int64_t ms, int zone, char *buf, size_t size);

/* ---- Machine-readable output -------------------------------------------- */

/*
 * One `key="value"` line (without the newline) for --machinereadable,
 * allocated with cap_alloc (free with cap_str_free); NULL if out of memory.
 * In the value, backslash and double quote are escaped with a backslash,
 * newline, carriage return and tab become \n, \r and \t, other control
 * bytes \xNN; other bytes (UTF-8) pass unchanged. A key made of anything but
 * letters, digits, '_', '-', '.' and parentheses (VBoxManage's
 * Forwarding(0)) is quoted the same way. A NULL value is
 * an empty string.
 */
char *cli_mr_str(const char *key, const char *value);

/* `key=NUMBER`, unquoted. */
char *cli_mr_num(const char *key, int64_t value);

#endif /* CAPSULE_MANAGE_OPTS_H */
