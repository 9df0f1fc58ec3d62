/*
 * plugins/frontends/manage/cmd_debugvm.c - `capsule debugvm VM statistics
 * [--pattern GLOB] [--descriptions] [--reset]` (VBoxManage's debugvm).
 *
 * Joins the running machine's session with a shared lock and asks the
 * console's IMachineDebugger of its VM process for the VM's statistics
 * registry (vmm/stam): getStats prints "name value unit" lines sorted by
 * name, resetStats sets counters back to zero. The pattern is getStats's
 * glob ('*', '?', alternatives separated by '|'); a pattern that matches
 * nothing prints nothing and fails, so a typo does not pass silently.
 */
#include <stdio.h>
#include <string.h>

#include <capsule/mem.h>

#include "manage.h"

enum { OPT_PATTERN = 1, OPT_DESCRIPTIONS, OPT_RESET };

static const struct cli_opt debugvm_opts[] = {
    {"--pattern", OPT_PATTERN, 1},
    {"--descriptions", OPT_DESCRIPTIONS, 0},
    {"--reset", OPT_RESET, 0},
    {NULL, 0, 0},
};

struct stats_req {
    const char *vm, *pattern;
    int descriptions, reset;
};

static cap_result statistics(IMachineDebugger *dbg, const struct stats_req *q, const char **what)
{
    if (q->reset) {
        *what = "IMachineDebugger::resetStats";
        return IMachineDebugger_ResetStats(dbg, q->pattern);
    }
    *what = "IMachineDebugger::getStats";
    char *text = NULL;
    cap_result rc =
        IMachineDebugger_GetStats(dbg, q->pattern, q->descriptions ? CAP_TRUE : CAP_FALSE, &text);
    if (rc >= 0 && text && *text)
        fputs(text, stdout);
    else if (rc >= 0)
        rc = cap_error_set(CAP_E_INVALIDARG, "capsule", "IMachineDebugger",
                           "no statistic of machine '%s' matches '%s'", q->vm, q->pattern);
    cap_str_free(text);
    return rc;
}

static int run(struct cli_ctx *ctx, const struct stats_req *q)
{
    IMachine *m = NULL;
    ISession *s = NULL;
    IConsole *console = NULL;
    IMachineDebugger *dbg = NULL;
    int locked = 0;
    const char *what = "ICapsule::findMachine";
    cap_result rc = cli_find_machine(ctx, q->vm, &m);
    if (rc >= 0) {
        what = "creating a session";
        rc = cli_session_create(&s);
    }
    if (rc >= 0) {
        what = "IMachine::lockMachine";
        rc = IMachine_LockMachine(m, s, LockType_Shared);
        locked = rc >= 0;
    }
    if (rc >= 0) {
        what = "ISession::console";
        rc = ISession_GetConsole(s, &console);
        if (rc >= 0 && !console)
            rc = cap_error_set(CAP_E_INVALID_VM_STATE, "capsule", "ISession",
                               "machine '%s' has no running VM process", q->vm);
    }
    if (rc >= 0) {
        what = "IConsole::debugger";
        rc = IConsole_GetDebugger(console, &dbg);
    }
    if (rc >= 0)
        rc = statistics(dbg, q, &what);
    int status = rc < 0 ? cli_fail(rc, what) : CLI_EXIT_OK;
    if (dbg)
        IMachineDebugger_Release(dbg);
    if (console)
        IConsole_Release(console);
    if (locked)
        ISession_UnlockMachine(s);
    if (s)
        ISession_Release(s);
    if (m)
        IMachine_Release(m);
    return status;
}

static int cmd_debugvm(struct cli_ctx *ctx, int argc, char **argv)
{
    struct stats_req q = {.pattern = ""};
    const char *sub = NULL, *val = NULL;
    struct cli_parser p;
    int r;
    cli_parser_init(&p, argc, argv);
    while ((r = cli_next(&p, debugvm_opts, &val)) != CLI_END) {
        switch (r) {
        case OPT_PATTERN:
            q.pattern = val;
            break;
        case OPT_DESCRIPTIONS:
            q.descriptions = 1;
            break;
        case OPT_RESET:
            q.reset = 1;
            break;
        case CLI_POSITIONAL:
            if (!q.vm)
                q.vm = val;
            else if (!sub)
                sub = val;
            else
                return cli_usage(ctx, "unexpected argument '%s'", val);
            break;
        default:
            return cli_usage(ctx, NULL);
        }
    }
    if (!q.vm)
        return cli_usage(ctx, "the VM (name or UUID) is missing");
    if (!sub)
        return cli_usage(ctx, "the subcommand is missing (statistics)");
    if (strcmp(sub, "statistics") != 0)
        return cli_usage(ctx, "unknown subcommand '%s' (statistics)", sub);
    if (q.reset && q.descriptions)
        return cli_usage(ctx, "--descriptions goes with printing, not with --reset");
    return run(ctx, &q);
}

const struct cli_cmd cli_cmd_debugvm = {
    .name = "debugvm",
    .fn = cmd_debugvm,
    .usage = "capsule debugvm VM statistics [--pattern GLOB] [--descriptions] [--reset]",
    .help = "show or reset the VMM statistics of a running machine",
    .detail = "  statistics        one \"name value unit\" line per statistic, sorted by name\n"
              "                    (EM's run loop under /EM/, the software CPU's block cache\n"
              "                    and translator under /REM/, port and MMIO dispatch under\n"
              "                    /IOM/, accesses by port under /IOM/Ports/)\n"
              "  --pattern GLOB    only names matching GLOB: '*' any characters, '?' one,\n"
              "                    several globs separated by '|' (e.g. '/REM/*|/EM/Exits/*')\n"
              "  --descriptions    each line also carries the statistic's description\n"
              "  --reset           set the matching counters back to zero instead\n",
};
