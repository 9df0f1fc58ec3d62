/*
 * plugins/frontends/manage/opts.c - argument parsing and text mappings of the
 * capsule CLI (see opts.h).
 *
 * The words defined here are an interface: scripts parse `showvminfo
 * --machinereadable` and pass state names to `waitfor`, so a mapping only
 * ever gains entries.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>

#include "opts.h"

#define COMPONENT "capsule"

/* ---- Option iteration --------------------------------------------------- */

void cli_parser_init(struct cli_parser *p, int argc, char **argv)
{
    p->argc = argc;
    p->argv = argv;
    p->i = 0;
    p->opts_done = 0;
}

static int looks_like_option(const char *a)
{
    return a[0] == '-' && a[1] != '\0' && !isdigit((unsigned char)a[1]);
}

int cli_next(struct cli_parser *p, const struct cli_opt *opts, const char **val)
{
    *val = NULL;
    if (p->i >= p->argc)
        return CLI_END;
    const char *a = p->argv[p->i++];
    if (p->opts_done || !looks_like_option(a)) {
        *val = a;
        return CLI_POSITIONAL;
    }
    if (strcmp(a, "--") == 0) {
        p->opts_done = 1;
        return cli_next(p, opts, val);
    }
    const char *eq = strchr(a, '=');
    size_t len = eq ? (size_t)(eq - a) : strlen(a);
    for (const struct cli_opt *o = opts; o && o->name; o++) {
        if (strlen(o->name) != len || strncmp(o->name, a, len) != 0)
            continue;
        if (!o->has_arg) {
            if (eq) {
                cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL, "option '%s' takes no value",
                              o->name);
                return CLI_BAD;
            }
            return o->id;
        }
        if (eq) {
            *val = eq + 1;
            return o->id;
        }
        if (p->i >= p->argc) {
            cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL, "option '%s' needs a value", o->name);
            return CLI_BAD;
        }
        *val = p->argv[p->i++];
        return o->id;
    }
    cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL, "unknown option '%.*s'", (int)len, a);
    return CLI_BAD;
}

cap_result cli_take(struct cli_parser *p, const char *opt, const char **val)
{
    if (p->i >= p->argc) {
        *val = NULL;
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL, "option '%s' needs another value",
                             opt);
    }
    *val = p->argv[p->i++];
    return CAP_OK;
}

int cli_peek_value(const struct cli_parser *p)
{
    return p->i < p->argc && (p->opts_done || !looks_like_option(p->argv[p->i]));
}

/* ---- Numbers ------------------------------------------------------------ */

/* Parses the leading number of s (decimal or 0x hex) into *v and points *end
 * past it. Fails on no digits, a sign, or overflow of 64 bits. */
static int parse_u64_prefix(const char *s, uint64_t *v, const char **end)
{
    if (!s || !isdigit((unsigned char)s[0]))
        return -1;
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        if (!isxdigit((unsigned char)s[2]))
            return -1;
    }
    char *e = NULL;
    errno = 0;
    unsigned long long n = strtoull(s, &e, base);
    if (errno == ERANGE)
        return -1;
    *v = n;
    *end = e;
    return 0;
}

static cap_result range_error(const char *what, const char *s, uint64_t min, uint64_t max,
                              const char *unit)
{
    return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL,
                         "%s: '%s' is out of range (%" PRIu64 "%s to %" PRIu64 "%s)", what, s, min,
                         unit, max, unit);
}

cap_result cli_check_range(const char *what, const char *text, uint32_t v, uint32_t min,
                           uint32_t max, const char *unit)
{
    if (v < min || v > max)
        return range_error(what, text, min, max, unit);
    return CAP_OK;
}

cap_result cli_parse_u32(const char *what, const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    uint64_t v = 0;
    const char *end = NULL;
    if (parse_u64_prefix(s, &v, &end) < 0 || *end != '\0')
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL, "%s: '%s' is not a number", what,
                             s ? s : "");
    if (v < min || v > max)
        return range_error(what, s, min, max, "");
    *out = (uint32_t)v;
    return CAP_OK;
}

cap_result cli_parse_mb(const char *what, const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    static const struct {
        const char *suffix;
        uint64_t mul;
    } units[] = {{"", 1},      {"m", 1},           {"mb", 1},          {"g", 1024},
                 {"gb", 1024}, {"t", 1024 * 1024}, {"tb", 1024 * 1024}};
    uint64_t v = 0;
    const char *end = NULL;
    if (parse_u64_prefix(s, &v, &end) < 0)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL,
                             "%s: '%s' is not a size (expected MB, or a number with M, G or T)",
                             what, s ? s : "");
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(end, units[i].suffix) != 0)
            continue;
        if (v > UINT32_MAX / units[i].mul || v * units[i].mul < min || v * units[i].mul > max)
            return range_error(what, s, min, max, " MB");
        *out = (uint32_t)(v * units[i].mul);
        return CAP_OK;
    }
    return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL,
                         "%s: '%s' has an unknown unit '%s' (use M, G or T)", what, s, end);
}

cap_result cli_parse_timeout(const char *what, const char *s, int32_t *ms)
{
    const uint64_t max_ms = 24ull * 3600 * 1000;
    uint64_t v = 0, mul = 0;
    const char *end = NULL;
    if (parse_u64_prefix(s, &v, &end) < 0)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL,
                             "%s: '%s' is not a number of seconds", what, s ? s : "");
    if (*end == '\0' || strcasecmp(end, "s") == 0)
        mul = 1000;
    else if (strcasecmp(end, "ms") == 0)
        mul = 1;
    else if (strcasecmp(end, "m") == 0)
        mul = 60000;
    else
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL,
                             "%s: '%s' has an unknown unit '%s' (use s, ms or m)", what, s, end);
    if (v > max_ms / mul)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL,
                             "%s: '%s' is too long (at most 24 hours)", what, s);
    *ms = (int32_t)(v * mul);
    return CAP_OK;
}

/* ---- Serial ports ------------------------------------------------------- */

cap_result cli_parse_uart(const char *opt, const char *base, const char *irq, struct cli_uart *out)
{
    memset(out, 0, sizeof(*out));
    if (base && strcasecmp(base, "off") == 0) {
        if (irq)
            return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL, "%s: 'off' takes no IRQ", opt);
        return CAP_OK;
    }
    if (!base || !irq)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL,
                             "%s: expected an I/O base and an IRQ (e.g. 0x3f8 4) or 'off'", opt);
    uint32_t b = 0, q = 0;
    char what[64];
    snprintf(what, sizeof(what), "%s I/O base", opt);
    cap_result rc = cli_parse_u32(what, base, 1, 0xfff8, &b);
    if (rc < 0)
        return rc;
    snprintf(what, sizeof(what), "%s IRQ", opt);
    rc = cli_parse_u32(what, irq, 0, 15, &q);
    if (rc < 0)
        return rc;
    out->enabled = 1;
    out->io_base = (uint16_t)b;
    out->irq = q;
    return CAP_OK;
}

static const char *const portmode_names[] = {
    [PortMode_Disconnected] = "disconnected",
    [PortMode_File] = "file",
    [PortMode_Server] = "server",
};

cap_result cli_portmode_from_name(const char *opt, const char *s, PortMode *out, int *needs_path)
{
    for (size_t i = 0; i < sizeof(portmode_names) / sizeof(portmode_names[0]); i++) {
        if (s && strcasecmp(s, portmode_names[i]) == 0) {
            *out = (PortMode)i;
            *needs_path = i != PortMode_Disconnected;
            return CAP_OK;
        }
    }
    return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL,
                         "%s: unknown mode '%s' (use file F, server SOCKET or disconnected)", opt,
                         s ? s : "");
}

const char *cli_portmode_name(PortMode m)
{
    if ((unsigned)m < sizeof(portmode_names) / sizeof(portmode_names[0]))
        return portmode_names[m];
    return "unknown";
}

/* ---- Enums as words ----------------------------------------------------- */

static const char *const engine_names[] = {
    [ExecutionEngine_Auto] = "auto",
    [ExecutionEngine_Hm] = "hm",
    [ExecutionEngine_Rem] = "rem",
    [ExecutionEngine_Raw] = "raw",
};

cap_result cli_engine_from_name(const char *opt, const char *s, ExecutionEngine *out)
{
    for (size_t i = 0; i < sizeof(engine_names) / sizeof(engine_names[0]); i++) {
        if (s && strcasecmp(s, engine_names[i]) == 0) {
            *out = (ExecutionEngine)i;
            return CAP_OK;
        }
    }
    return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL,
                         "%s: unknown engine '%s' (use auto, hm, rem or raw)", opt, s ? s : "");
}

const char *cli_engine_name(ExecutionEngine e)
{
    if ((unsigned)e < sizeof(engine_names) / sizeof(engine_names[0]))
        return engine_names[e];
    return "unknown";
}

cap_result cli_cpu_profile_match(const char *opt, const char *name, uint32_t n, char *const *known,
                                 const char **out)
{
    char list[256] = "";
    size_t len = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (name && *name && known[i] && strcasecmp(name, known[i]) == 0) {
            *out = known[i];
            return CAP_OK;
        }
        int w = snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "",
                         known[i] ? known[i] : "");
        if (w > 0)
            len = len + (size_t)w < sizeof(list) ? len + (size_t)w : sizeof(list) - 1;
    }
    return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL,
                         "%s: unknown CPU profile '%s' (known: %s; see 'capsule list cpuprofiles')",
                         opt, name ? name : "", n ? list : "none");
}

static const struct state_words {
    const char *word; /* machine-readable, `waitfor --state` */
    const char *api;  /* the IDL's constant name */
    const char *text; /* for people */
} state_words[] = {
    [MachineState_Null] = {"null", "Null", "null"},
    [MachineState_PoweredOff] = {"poweroff", "PoweredOff", "powered off"},
    [MachineState_Saved] = {"saved", "Saved", "saved"},
    [MachineState_Aborted] = {"aborted", "Aborted", "aborted"},
    [MachineState_Running] = {"running", "Running", "running"},
    [MachineState_Paused] = {"paused", "Paused", "paused"},
    [MachineState_Stuck] = {"stuck", "Stuck", "stuck (guru meditation)"},
    [MachineState_Starting] = {"starting", "Starting", "starting"},
    [MachineState_Stopping] = {"stopping", "Stopping", "stopping"},
    [MachineState_Saving] = {"saving", "Saving", "saving"},
    [MachineState_Restoring] = {"restoring", "Restoring", "restoring"},
};

#define N_STATES (sizeof(state_words) / sizeof(state_words[0]))

const char *cli_state_name(MachineState s)
{
    return (unsigned)s < N_STATES ? state_words[s].word : "unknown";
}

const char *cli_state_text(MachineState s)
{
    return (unsigned)s < N_STATES ? state_words[s].text : "unknown";
}

cap_result cli_state_from_name(const char *opt, const char *s, MachineState *out)
{
    /* Null is never a machine's state, so waiting for it makes no sense. */
    for (size_t i = 1; s && i < N_STATES; i++) {
        if (strcasecmp(s, state_words[i].word) == 0 || strcasecmp(s, state_words[i].api) == 0) {
            *out = (MachineState)i;
            return CAP_OK;
        }
    }
    return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL,
                         "%s: unknown state '%s' (use poweroff, starting, running, paused, "
                         "stopping, saved, aborted, stuck, saving or restoring)",
                         opt, s ? s : "");
}

/* ---- Times ------------------------------------------------------------- */

void cli_format_time(int64_t ms, int zone, char *buf, size_t size)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms <= 0 || !gmtime_r(&t, &tm)) {
        snprintf(buf, size, "unknown");
        return;
    }
    size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, size - n, ".%03d000000%s", (int)(ms % 1000), zone ? "Z" : "");
}

/* ---- Machine-readable output -------------------------------------------- */

/* Appends s, quoted and escaped, to buf (which has room: 4 bytes per input
 * byte plus 3); returns the new end. */
static char *put_quoted(char *o, const char *s)
{
    *o++ = '"';
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '\\':
            *o++ = '\\';
            *o++ = '\\';
            break;
        case '"':
            *o++ = '\\';
            *o++ = '"';
            break;
        case '\n':
            *o++ = '\\';
            *o++ = 'n';
            break;
        case '\r':
            *o++ = '\\';
            *o++ = 'r';
            break;
        case '\t':
            *o++ = '\\';
            *o++ = 't';
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                o += sprintf(o, "\\x%02x", *p);
            else
                *o++ = (char)*p;
        }
    }
    *o++ = '"';
    *o = '\0';
    return o;
}

static int key_is_plain(const char *k)
{
    if (!*k)
        return 0;
    for (; *k; k++)
        if (!isalnum((unsigned char)*k) && !strchr("_-.()", *k))
            return 0;
    return 1;
}

/* The key part, "key" or "\"k y\"", into a new buffer with `extra` spare bytes. */
static char *key_part(const char *key, size_t extra, char **end)
{
    size_t klen = strlen(key);
    char *buf = cap_alloc(4 * klen + 3 + extra);
    if (!buf)
        return NULL;
    if (key_is_plain(key)) {
        memcpy(buf, key, klen);
        *end = buf + klen;
    } else {
        *end = put_quoted(buf, key);
    }
    return buf;
}

char *cli_mr_str(const char *key, const char *value)
{
    size_t vlen = value ? strlen(value) : 0;
    char *end = NULL;
    char *buf = key_part(key, 4 * vlen + 4, &end);
    if (!buf)
        return NULL;
    *end++ = '=';
    put_quoted(end, value);
    return buf;
}

char *cli_mr_num(const char *key, int64_t value)
{
    char *end = NULL;
    char *buf = key_part(key, 24, &end);
    if (!buf)
        return NULL;
    sprintf(end, "=%" PRId64, value);
    return buf;
}
