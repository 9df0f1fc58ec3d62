/*
 * tests/unit/manage/test_args.c - the capsule CLI's declarative arguments
 * (plugins/frontends/manage/args.c): parsing argv by a table (positionals,
 * flags, values, choices, aliases, required ones, parser errors), the stock
 * parsers, and the synopsis and option list generated from the same table.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "args.h"
#include "test_manage.h"

/* A subcommand as the CLI's are: a VM, an action, a few options. */
static const struct cli_choice actions[] = {
    {"start", "start it"},
    {"stop", "stop it\nfor good"},
    {NULL, NULL},
};

struct t_args {
    const char *vm, *extra, *name;
    int action, flag;
    struct cli_u32 mem, cpus;
    struct cli_ms timeout;
    struct cli_bool onoff;
    const char *pair[2];
};

/* An option with two values, as --uart1 IOBASE IRQ. */
static cap_result parse_pair(const struct cli_arg *a, struct cli_parser *p, const char *val,
                             void *dst)
{
    const char **pair = dst;
    pair[0] = val;
    return cli_take(p, a->name, &pair[1]);
}

#define T struct t_args
static const struct cli_arg t_table[] = {
    CLI_POS("VM", T, vm, "no VM!", "the machine"),
    CLI_CHOICE("ACTION", actions, T, action, NULL),
    CLI_POS_OPT("EXTRA", T, extra, NULL),
    CLI_FLAG("--flag", T, flag, "a flag"),
    CLI_ALIAS("-f", NULL, cli_arg_flag, T, flag),
    CLI_OPT("--memory", "MB", cli_arg_mb, T, mem, "memory"),
    CLI_OPT("--cpus", "N", cli_arg_count, T, cpus, NULL),
    CLI_OPT("--timeout", "SEC", cli_arg_timeout, T, timeout, NULL),
    CLI_OPT("--switch", "on|off", cli_arg_onoff, T, onoff, NULL),
    CLI_OPT("--pair", "A B", parse_pair, T, pair, NULL),
    CLI_OPT_REQ("--name", "NAME", cli_arg_nonempty, T, name, "the name"),
    CLI_ARGS_END,
};
#undef T

static cap_result parse(struct t_args *a, unsigned *n, int argc, char **argv)
{
    memset(a, 0, sizeof(*a));
    return cli_args_parse(t_table, argc, argv, a, n);
}

#define PARSE(a, n, ...)                                                                           \
    ({                                                                                             \
        char *argv_[] = {__VA_ARGS__, NULL};                                                       \
        parse((a), (n), (int)(sizeof(argv_) / sizeof(argv_[0])) - 1, argv_);                       \
    })

START_TEST(test_parse_all)
{
    struct t_args a;
    unsigned n = 99;
    ck_assert_int_eq(PARSE(&a, &n, "demo", "--memory", "2G", "stop", "--flag", "--name=x", "--cpus",
                           "0x10", "--timeout", "500ms", "--switch", "ON", "--pair", "p", "q",
                           "more"),
                     CAP_OK);
    ck_assert_str_eq(a.vm, "demo");
    ck_assert_int_eq(a.action, 1);
    ck_assert_str_eq(a.extra, "more");
    ck_assert_int_eq(a.flag, 1);
    ck_assert_int_eq(a.mem.set, 1);
    ck_assert_uint_eq(a.mem.value, 2048);
    ck_assert_str_eq(a.mem.text, "2G");
    ck_assert_uint_eq(a.cpus.value, 16);
    ck_assert_int_eq(a.timeout.set, 1);
    ck_assert_int_eq(a.timeout.ms, 500);
    ck_assert_int_eq(a.onoff.set, 1);
    ck_assert_int_eq(a.onoff.value, 1);
    ck_assert_str_eq(a.pair[0], "p");
    ck_assert_str_eq(a.pair[1], "q");
    ck_assert_str_eq(a.name, "x");
    ck_assert_uint_eq(n, 7);

    /* Unset fields stay zero; an alias sets the same field; the last wins. */
    ck_assert_int_eq(PARSE(&a, &n, "vm", "start", "-f", "--name", "a", "--name", "b"), CAP_OK);
    ck_assert_int_eq(a.action, 0);
    ck_assert_int_eq(a.flag, 1);
    ck_assert_str_eq(a.name, "b");
    ck_assert_ptr_null(a.extra);
    ck_assert_int_eq(a.mem.set, 0);
    ck_assert_int_eq(a.onoff.set, 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(PARSE(&a, &n, "vm", "start", "--name", "a", "--switch", "off"), CAP_OK);
    ck_assert_int_eq(a.onoff.set, 1);
    ck_assert_int_eq(a.onoff.value, 0);
    /* After "--" everything is positional. */
    ck_assert_int_eq(PARSE(&a, NULL, "--name", "a", "--", "--vm", "stop", "--flag"), CAP_OK);
    ck_assert_str_eq(a.vm, "--vm");
    ck_assert_str_eq(a.extra, "--flag");
    ck_assert_int_eq(a.flag, 0);
}
END_TEST

START_TEST(test_parse_errors)
{
    struct t_args a;
    ck_assert_usage_error(PARSE(&a, NULL, "--name", "n"), "no VM!");
    ck_assert_usage_error(PARSE(&a, NULL, "vm", "--name", "n"), "the ACTION is missing");
    ck_assert_usage_error(PARSE(&a, NULL, "vm", "start"), "option '--name' is required");
    ck_assert_usage_error(PARSE(&a, NULL, "vm", "start", "x", "y", "--name", "n"),
                          "unexpected argument 'y'");
    ck_assert_usage_error(PARSE(&a, NULL, "vm", "go", "--name", "n"),
                          "unknown action 'go' (start or stop)");
    ck_assert_usage_error(PARSE(&a, NULL, "vm", "start", "--name", "n", "--bogus"),
                          "unknown option '--bogus'");
    ck_assert_usage_error(PARSE(&a, NULL, "vm", "start", "--name"), "'--name' needs a value");
    ck_assert_usage_error(PARSE(&a, NULL, "vm", "start", "--name", ""),
                          "--name: the name must not be empty");
    ck_assert_usage_error(PARSE(&a, NULL, "vm", "start", "--name", "n", "--flag=1"),
                          "takes no value");
    ck_assert_usage_error(PARSE(&a, NULL, "vm", "start", "--name", "n", "--memory", "0"),
                          "--memory: '0' must be more than 0");
    ck_assert_usage_error(PARSE(&a, NULL, "vm", "start", "--name", "n", "--memory", "5Q"),
                          "unknown unit");
    ck_assert_usage_error(PARSE(&a, NULL, "vm", "start", "--name", "n", "--cpus", "0"),
                          "--cpus: '0' must be more than 0");
    ck_assert_usage_error(PARSE(&a, NULL, "vm", "start", "--name", "n", "--cpus", "4294967296"),
                          "out of range");
    ck_assert_usage_error(PARSE(&a, NULL, "vm", "start", "--name", "n", "--switch", "maybe"),
                          "--switch: expected on or off, not 'maybe'");
    ck_assert_usage_error(PARSE(&a, NULL, "vm", "start", "--name", "n", "--pair", "p"),
                          "'--pair' needs another value");
    ck_assert_usage_error(PARSE(&a, NULL, "vm", "start", "--name", "n", "--timeout", "1h"),
                          "unknown unit");
}
END_TEST

/* What cli_args_synopsis / cli_args_help write, as a string (free()). */
static char *written(void (*fn)(FILE *, const struct cli_arg *), const struct cli_arg *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    fn(f, t);
    fclose(f);
    return buf;
}

static void synopsis_t(FILE *f, const struct cli_arg *t)
{
    cli_args_synopsis(f, "tcmd", t);
}

START_TEST(test_synopsis)
{
    char *s = written(synopsis_t, t_table);
    ck_assert_str_eq(s,
                     "capsule tcmd VM start|stop [EXTRA] [--flag] [--memory MB] [--cpus N]\n"
                     "             [--timeout SEC] [--switch on|off] [--pair A B] --name NAME\n");
    free(s);
    static const struct cli_arg none[] = {CLI_ARGS_END};
    s = written(synopsis_t, none);
    ck_assert_str_eq(s, "capsule tcmd\n");
    free(s);
}
END_TEST

START_TEST(test_help_lines)
{
    char *s = written(cli_args_help, t_table);
    ck_assert_str_eq(s, "\n"
                        "  VM           the machine\n"
                        "  start        start it\n"
                        "  stop         stop it\n"
                        "               for good\n"
                        "  --flag       a flag\n"
                        "  --memory MB  memory\n"
                        "  --name NAME  the name\n");
    free(s);
    static const struct cli_arg bare[] = {
        CLI_POS("FILE", struct t_args, vm, NULL, NULL),
        CLI_ARGS_END,
    };
    s = written(cli_args_help, bare);
    ck_assert_str_eq(s, ""); /* nothing to say: not even the empty line */
    free(s);
}
END_TEST

Suite *args_suite(void);
Suite *args_suite(void)
{
    Suite *s = suite_create("manage-args");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, test_parse_all);
    tcase_add_test(tc, test_parse_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("help");
    tcase_add_test(tc, test_synopsis);
    tcase_add_test(tc, test_help_lines);
    suite_add_tcase(s, tc);
    return s;
}
