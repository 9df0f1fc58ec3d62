/*
 * plugins/frontends/manage/args.c - declarative arguments of the capsule
 * CLI's subcommands (see args.h): parsing argv by a table with opts.h's
 * option iterator, and writing the help that the same table describes.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <capsule/errorinfo.h>

#include "args.h"

#define COMPONENT "capsule"

/* ---- Stock parsers ------------------------------------------------------- */

/* A metavariable as a word in a message: "PATH" -> "path". */
static const char *lower(const char *s, char *buf, size_t size)
{
    size_t n = 0;
    for (; s[n] && n < size - 1; n++)
        buf[n] = (char)tolower((unsigned char)s[n]);
    buf[n] = '\0';
    return buf;
}

cap_result cli_arg_flag(const struct cli_arg *a, struct cli_parser *p, const char *val, void *dst)
{
    (void)a, (void)p, (void)val;
    *(int *)dst = 1;
    return CAP_OK;
}

cap_result cli_arg_str(const struct cli_arg *a, struct cli_parser *p, const char *val, void *dst)
{
    (void)a, (void)p;
    *(const char **)dst = val;
    return CAP_OK;
}

cap_result cli_arg_nonempty(const struct cli_arg *a, struct cli_parser *p, const char *val,
                            void *dst)
{
    if (!val || !*val) {
        char noun[64]; /* "--socket: the path must not be empty" */
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL, "%s: the %s must not be empty",
                             a->name, lower(a->meta ? a->meta : "value", noun, sizeof(noun)));
    }
    return cli_arg_str(a, p, val, dst);
}

/* The end of cli_arg_count and cli_arg_mb: zero is never a count or a size;
 * the real limits are the service's (checked once it is reached). */
static cap_result positive(const struct cli_arg *a, const char *val, cap_result rc, void *dst)
{
    struct cli_u32 *n = dst;
    if (CAP_FAILED(rc))
        return rc;
    if (n->value == 0)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL, "%s: '%s' must be more than 0",
                             a->name, val);
    n->set = 1;
    n->text = val;
    return CAP_OK;
}

cap_result cli_arg_count(const struct cli_arg *a, struct cli_parser *p, const char *val, void *dst)
{
    (void)p;
    return positive(
        a, val, cli_parse_u32(a->name, val, 0, UINT32_MAX, &((struct cli_u32 *)dst)->value), dst);
}

cap_result cli_arg_index(const struct cli_arg *a, struct cli_parser *p, const char *val, void *dst)
{
    struct cli_u32 *n = dst;
    (void)p;
    cap_result rc = cli_parse_u32(a->name, val, 0, INT32_MAX, &n->value);
    if (CAP_SUCCEEDED(rc)) {
        n->set = 1;
        n->text = val;
    }
    return rc;
}

cap_result cli_arg_mb(const struct cli_arg *a, struct cli_parser *p, const char *val, void *dst)
{
    (void)p;
    return positive(
        a, val, cli_parse_mb(a->name, val, 0, UINT32_MAX, &((struct cli_u32 *)dst)->value), dst);
}

cap_result cli_arg_timeout(const struct cli_arg *a, struct cli_parser *p, const char *val,
                           void *dst)
{
    (void)p;
    struct cli_ms *t = dst;
    cap_result rc = cli_parse_timeout(a->name, val, &t->ms);
    if (CAP_SUCCEEDED(rc))
        t->set = 1;
    return rc;
}

cap_result cli_arg_onoff(const struct cli_arg *a, struct cli_parser *p, const char *val, void *dst)
{
    static const char *const on[] = {"on", "true", "yes", "1"};
    static const char *const off[] = {"off", "false", "no", "0"};
    (void)p;
    struct cli_bool *b = dst;
    for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
        if (strcasecmp(val, on[i]) == 0 || strcasecmp(val, off[i]) == 0) {
            b->set = 1;
            b->value = strcasecmp(val, on[i]) == 0;
            return CAP_OK;
        }
    }
    return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL, "%s: expected on or off, not '%s'",
                         a->name, val);
}

/* "a, b or c" of a choice list into buf. */
static const char *choice_list(const struct cli_choice *c, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; c[i].name && len < size; i++) {
        const char *sep = i == 0 ? "" : c[i + 1].name ? ", " : " or ";
        int w = snprintf(buf + len, size - len, "%s%s", sep, c[i].name);
        len += w > 0 ? (size_t)w : 0;
    }
    return buf;
}

cap_result cli_arg_rest(const struct cli_arg *a, struct cli_parser *p, const char *val, void *dst)
{
    (void)a;
    struct cli_rest *r = dst;
    /* cli_next just returned argv[i - 1] as the positional `val`. */
    if (p->i < 1 || p->argv[p->i - 1] != val)
        return cap_error_set(CAP_E_UNEXPECTED, COMPONENT, NULL, "argument '%s' out of place", val);
    r->v = p->argv + p->i - 1;
    r->n = p->argc - p->i + 1;
    p->i = p->argc;
    return CAP_OK;
}

cap_result cli_arg_choice(const struct cli_arg *a, struct cli_parser *p, const char *val, void *dst)
{
    (void)p;
    for (int i = 0; a->choices[i].name; i++) {
        if (strcmp(val, a->choices[i].name) == 0) {
            *(int *)dst = i;
            return CAP_OK;
        }
    }
    char list[512], noun[64];
    return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL, "unknown %s '%s' (%s)",
                         lower(a->name, noun, sizeof(noun)), val,
                         choice_list(a->choices, list, sizeof(list)));
}

/* ---- Parsing ------------------------------------------------------------- */

#define MAX_ARGS 64

static int is_positional(const struct cli_arg *a)
{
    return (a->flags & CLI_ARG_POSITIONAL) != 0;
}

/* The usage error for a required argument that was not given. */
static cap_result missing(const struct cli_arg *a)
{
    if (a->missing)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL, "%s", a->missing);
    if (is_positional(a))
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL, "the %s is missing", a->name);
    return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL, "option '%s' is required", a->name);
}

cap_result cli_args_parse(const struct cli_arg *args, int argc, char **argv, void *out,
                          unsigned *n_options)
{
    /* opts.h's iterator over the options of the table: option k has id k + 1
     * and is line index[k]. */
    struct cli_opt opts[MAX_ARGS + 1];
    size_t index[MAX_ARGS], n_opts = 0, n_lines = 0;
    int given[MAX_ARGS];
    for (; args[n_lines].name; n_lines++) {
        if (n_lines == MAX_ARGS)
            return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL, "too many arguments in table");
        given[n_lines] = 0;
        if (is_positional(&args[n_lines]))
            continue;
        index[n_opts] = n_lines;
        opts[n_opts] =
            (struct cli_opt){args[n_lines].name, (int)n_opts + 1, args[n_lines].meta != NULL};
        n_opts++;
    }
    opts[n_opts] = (struct cli_opt){NULL, 0, 0};

    struct cli_parser p;
    const char *val = NULL;
    size_t next_pos = 0; /* the line the next positional is for */
    unsigned count = 0;
    int r;
    cli_parser_init(&p, argc, argv);
    while ((r = cli_next(&p, opts, &val)) != CLI_END) {
        const struct cli_arg *a = NULL;
        if (r == CLI_BAD)
            return CAP_E_INVALIDARG;
        if (r == CLI_POSITIONAL) {
            while (next_pos < n_lines && !is_positional(&args[next_pos]))
                next_pos++;
            if (next_pos == n_lines)
                return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL, "unexpected argument '%s'",
                                     val);
            a = &args[next_pos++];
        } else {
            a = &args[index[r - 1]];
            count++;
        }
        given[a - args] = 1;
        cap_result rc = a->parse(a, &p, val, (char *)out + a->offset);
        if (CAP_FAILED(rc))
            return rc;
    }
    for (size_t i = 0; i < n_lines; i++)
        if ((args[i].flags & CLI_ARG_REQUIRED) && !given[i])
            return missing(&args[i]);
    if (n_options)
        *n_options = count;
    return CAP_OK;
}

/* ---- Help ---------------------------------------------------------------- */

#define WRAP_COLUMN 79

/* One synopsis item ("VM", "[--memory MB]", "a|b|c") into buf. */
static void synopsis_item(const struct cli_arg *a, char *buf, size_t size)
{
    int optional = !(a->flags & CLI_ARG_REQUIRED);
    size_t len = 0;
    if (a->choices) {
        for (size_t i = 0; a->choices[i].name && len < size; i++) {
            int w = snprintf(buf + len, size - len, "%s%s", i ? "|" : "", a->choices[i].name);
            len += w > 0 ? (size_t)w : 0;
        }
        return;
    }
    snprintf(buf, size, "%s%s%s%s%s", optional ? "[" : "", a->name, a->meta ? " " : "",
             a->meta ? a->meta : "", optional ? "]" : "");
}

void cli_args_synopsis(FILE *f, const char *cmd, const struct cli_arg *args)
{
    int indent = fprintf(f, "capsule %s", cmd);
    int col = indent;
    /* Positionals first, then options, each in table order. */
    for (int pass = 0; pass < 2; pass++) {
        for (const struct cli_arg *a = args; a->name; a++) {
            if (is_positional(a) != (pass == 0) || (a->flags & CLI_ARG_HIDDEN))
                continue;
            char item[256];
            synopsis_item(a, item, sizeof(item));
            int w = (int)strlen(item);
            if (col > indent && col + 1 + w > WRAP_COLUMN)
                col = fprintf(f, "\n%*s", indent, "") - 1;
            col += fprintf(f, " %s", item);
        }
    }
    fputc('\n', f);
}

/* The left column of an argument's help line: "--memory MB" or "VM". */
static int label(const struct cli_arg *a, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s%s%s", a->name, a->meta ? " " : "", a->meta ? a->meta : "");
    return n < (int)size ? n : (int)size - 1;
}

/* Writes "  LABEL  HELP" with the help's further lines aligned. */
static void help_line(FILE *f, const char *lab, int width, const char *help)
{
    fprintf(f, "  %-*s  ", width, lab);
    for (const char *h = help; *h; h++) {
        fputc(*h, f);
        if (*h == '\n' && h[1])
            fprintf(f, "  %-*s  ", width, "");
    }
    fputc('\n', f);
}

void cli_args_help(FILE *f, const struct cli_arg *args)
{
    char lab[128];
    int width = 0;
    for (const struct cli_arg *a = args; a->name; a++) {
        if (a->flags & CLI_ARG_HIDDEN)
            continue;
        if (a->help) {
            int n = label(a, lab, sizeof(lab));
            width = n > width ? n : width;
        }
        for (size_t i = 0; a->choices && a->choices[i].name; i++) {
            int n = (int)strlen(a->choices[i].name);
            width = n > width ? n : width;
        }
    }
    if (width == 0)
        return; /* no line has help */
    fputc('\n', f);
    for (const struct cli_arg *a = args; a->name; a++) {
        if (a->flags & CLI_ARG_HIDDEN)
            continue;
        if (a->help) {
            label(a, lab, sizeof(lab));
            help_line(f, lab, width, a->help);
        }
        for (size_t i = 0; a->choices && a->choices[i].name; i++)
            help_line(f, a->choices[i].name, width, a->choices[i].help ? a->choices[i].help : "");
    }
}
