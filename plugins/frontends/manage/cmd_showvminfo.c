/*
 * plugins/frontends/manage/cmd_showvminfo.c - `capsule showvminfo VM
 * [--machinereadable]`.
 *
 * Reads everything first into a struct vminfo (so that a failing call
 * prints an error and no half listing), then prints it for people
 * ("Name:            demo", VBoxManage's layout) or for scripts: one
 * key="value" line per item, numbers unquoted, values escaped as opts.h
 * describes. The machine-readable keys, in order:
 *
 *   name description ostype UUID CfgFile LogFldr memory cpus cpu-profile
 *   engine kernel initrd cmdline debugexit uart1 uartmode1 [uart2 uartmode2
 *   ...] VMState VMStateChangeTime [VMStateAbortReason] SessionState
 *   SessionName SessionPID
 *
 * VMStateAbortReason (why an aborted VM aborted) is there only when the
 * machine is aborted and the reason is known.
 * uartN is "0xIOBASE,IRQ" (e.g. "0x03f8,4") or "off"; uartmodeN is
 * "disconnected", "file,PATH" or "server,PATH". VMState is one of poweroff,
 * starting, running, paused, stopping, saved, aborted, stuck, saving,
 * restoring. An inaccessible machine prints name="<inaccessible>", UUID,
 * CfgFile, VMState, SessionState and AccessError (the reason) only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <capsule/extradata.h>
#include <capsule/mem.h>
#include <capsule/uuid.h>

#include "manage.h"

#define MAX_UARTS 8

struct uart_info {
    cap_bool enabled;
    uint16_t io_base;
    uint32_t irq;
    PortMode mode;
    char *path;
};

/* Everything showvminfo prints; strings owned (cap_str_free). */
struct vminfo {
    cap_bool accessible;
    char *access_error;
    cap_uuid id;
    char *name, *description, *ostype, *cfg, *log_folder, *kernel, *initrd, *cmdline;
    char *session_name, *cpu_profile;
    char *abort_reason; /* CAP_EXTRADATA_ABORT_REASON while Aborted, else NULL */
    uint32_t memory, cpus, session_pid, n_uarts;
    ExecutionEngine engine;
    cap_bool debug_exit;
    MachineState state;
    int64_t state_change;
    SessionState session_state;
    struct uart_info uarts[MAX_UARTS];
};

static void vminfo_free(struct vminfo *v)
{
    char **strs[] = {&v->access_error, &v->name,         &v->description, &v->ostype,
                     &v->cfg,          &v->log_folder,   &v->kernel,      &v->initrd,
                     &v->cmdline,      &v->session_name, &v->cpu_profile, &v->abort_reason};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        cap_str_free(*strs[i]);
        *strs[i] = NULL;
    }
    for (uint32_t i = 0; i < v->n_uarts; i++)
        cap_str_free(v->uarts[i].path);
}

static cap_result read_uarts(IMachine *m, struct vminfo *v)
{
    uint32_t n = 0;
    ISerialPort **ports = NULL;
    cap_result rc = IMachine_GetSerialPorts(m, &n, &ports);
    if (rc < 0)
        return rc;
    for (uint32_t i = 0; i < n && i < MAX_UARTS && rc >= 0; i++) {
        struct uart_info *u = &v->uarts[i];
        v->n_uarts = i + 1;
        rc = ISerialPort_GetEnabled(ports[i], &u->enabled);
        if (rc >= 0)
            rc = ISerialPort_GetIoBase(ports[i], &u->io_base);
        if (rc >= 0)
            rc = ISerialPort_GetIrq(ports[i], &u->irq);
        if (rc >= 0)
            rc = ISerialPort_GetHostMode(ports[i], &u->mode);
        if (rc >= 0)
            rc = ISerialPort_GetPath(ports[i], &u->path);
    }
    cap_array_free(CAP_TLT_IFACE, n, ports);
    return rc;
}

/* The attributes every machine has, accessible or not. */
static cap_result read_common(IMachine *m, struct vminfo *v)
{
    cap_result rc = IMachine_GetAccessible(m, &v->accessible);
    if (rc >= 0)
        rc = IMachine_GetId(m, &v->id);
    if (rc >= 0)
        rc = IMachine_GetSettingsFilePath(m, &v->cfg);
    if (rc >= 0)
        rc = IMachine_GetState(m, &v->state);
    if (rc >= 0)
        rc = IMachine_GetSessionState(m, &v->session_state);
    /* Of an inaccessible machine the API gives only the attributes above. */
    if (rc >= 0 && v->accessible)
        rc = IMachine_GetLastStateChange(m, &v->state_change);
    if (rc >= 0 && !v->accessible) {
        IErrorInfo *ei = NULL;
        if (IMachine_GetAccessError(m, &ei) >= 0 && ei) {
            IErrorInfo_GetMessage(ei, &v->access_error);
            IErrorInfo_Release(ei);
        }
    }
    return rc;
}

static cap_result read_vminfo(IMachine *m, struct vminfo *v, const char **what)
{
    *what = "IMachine";
    cap_result rc = read_common(m, v);
    if (rc < 0 || !v->accessible)
        return rc;
    rc = IMachine_GetName(m, &v->name);
    if (rc >= 0)
        rc = IMachine_GetDescription(m, &v->description);
    if (rc >= 0)
        rc = IMachine_GetOsTypeId(m, &v->ostype);
    if (rc >= 0)
        rc = IMachine_GetLogFolder(m, &v->log_folder);
    if (rc >= 0)
        rc = IMachine_GetMemorySize(m, &v->memory);
    if (rc >= 0)
        rc = IMachine_GetCpuCount(m, &v->cpus);
    if (rc >= 0)
        rc = IMachine_GetCpuProfile(m, &v->cpu_profile);
    if (rc >= 0)
        rc = IMachine_GetEngine(m, &v->engine);
    if (rc >= 0)
        rc = IMachine_GetKernel(m, &v->kernel);
    if (rc >= 0)
        rc = IMachine_GetInitrd(m, &v->initrd);
    if (rc >= 0)
        rc = IMachine_GetCmdline(m, &v->cmdline);
    if (rc >= 0)
        rc = IMachine_GetDebugExitEnabled(m, &v->debug_exit);
    if (rc >= 0)
        rc = IMachine_GetSessionName(m, &v->session_name);
    if (rc >= 0)
        rc = IMachine_GetSessionPID(m, &v->session_pid);
    if (rc >= 0 && v->state == MachineState_Aborted)
        rc = IMachine_GetExtraData(m, CAP_EXTRADATA_ABORT_REASON, &v->abort_reason);
    if (rc >= 0) {
        *what = "ISerialPort";
        rc = read_uarts(m, v);
    }
    return rc;
}

static const char *session_state_name(SessionState s)
{
    switch (s) {
    case SessionState_Unlocked:
        return "unlocked";
    case SessionState_Locked:
        return "locked";
    case SessionState_Spawning:
        return "spawning";
    case SessionState_Unlocking:
        return "unlocking";
    default:
        return "null";
    }
}

/* VBoxManage's time format, in UTC: 2024-05-01T12:00:00.123000000 */
static void format_time(int64_t ms, char buf[48])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms <= 0 || !gmtime_r(&t, &tm)) {
        snprintf(buf, 48, "unknown");
        return;
    }
    size_t n = strftime(buf, 48, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, 48 - n, ".%03d000000", (int)(ms % 1000));
}

/* ---- machine-readable ---------------------------------------------------- */

static void print_mr_uart(const struct uart_info *u, uint32_t slot)
{
    char key[32], val[32];
    char *mode = NULL;
    snprintf(key, sizeof(key), "uart%" PRIu32, slot + 1);
    if (u->enabled)
        snprintf(val, sizeof(val), "0x%04x,%" PRIu32, u->io_base, u->irq);
    cli_mr_print_str(stdout, key, u->enabled ? val : "off");
    snprintf(key, sizeof(key), "uartmode%" PRIu32, slot + 1);
    if (u->mode == PortMode_Disconnected)
        mode = cap_str_dup("disconnected");
    else
        mode = cap_str_printf("%s,%s", cli_portmode_name(u->mode), u->path ? u->path : "");
    cli_mr_print_str(stdout, key, mode);
    cap_str_free(mode);
}

static void print_mr(const struct vminfo *v)
{
    char ubuf[CAP_UUID_BUFSIZE], tbuf[48];
    cap_uuid_format(&v->id, ubuf);
    format_time(v->state_change, tbuf);
    if (!v->accessible) {
        cli_mr_print_str(stdout, "name", "<inaccessible>");
        cli_mr_print_str(stdout, "UUID", ubuf);
        cli_mr_print_str(stdout, "CfgFile", v->cfg);
        cli_mr_print_str(stdout, "VMState", cli_state_name(v->state));
        cli_mr_print_str(stdout, "SessionState", session_state_name(v->session_state));
        cli_mr_print_str(stdout, "AccessError", v->access_error);
        return;
    }
    cli_mr_print_str(stdout, "name", v->name);
    cli_mr_print_str(stdout, "description", v->description);
    cli_mr_print_str(stdout, "ostype", v->ostype);
    cli_mr_print_str(stdout, "UUID", ubuf);
    cli_mr_print_str(stdout, "CfgFile", v->cfg);
    cli_mr_print_str(stdout, "LogFldr", v->log_folder);
    cli_mr_print_num(stdout, "memory", v->memory);
    cli_mr_print_num(stdout, "cpus", v->cpus);
    cli_mr_print_str(stdout, "cpu-profile", v->cpu_profile);
    cli_mr_print_str(stdout, "engine", cli_engine_name(v->engine));
    cli_mr_print_str(stdout, "kernel", v->kernel);
    cli_mr_print_str(stdout, "initrd", v->initrd);
    cli_mr_print_str(stdout, "cmdline", v->cmdline);
    cli_mr_print_str(stdout, "debugexit", v->debug_exit ? "on" : "off");
    for (uint32_t i = 0; i < v->n_uarts; i++)
        print_mr_uart(&v->uarts[i], i);
    cli_mr_print_str(stdout, "VMState", cli_state_name(v->state));
    cli_mr_print_str(stdout, "VMStateChangeTime", tbuf);
    if (v->abort_reason && *v->abort_reason)
        cli_mr_print_str(stdout, "VMStateAbortReason", v->abort_reason);
    cli_mr_print_str(stdout, "SessionState", session_state_name(v->session_state));
    cli_mr_print_str(stdout, "SessionName", v->session_name);
    cli_mr_print_num(stdout, "SessionPID", v->session_pid);
}

/* ---- for people ----------------------------------------------------------- */

#define ROW(label, ...) (printf("%-17s", label ":"), printf(__VA_ARGS__), putchar('\n'))

static const char *or_none(const char *s)
{
    return s && *s ? s : "<none>";
}

static void print_human_uart(const struct uart_info *u, uint32_t slot)
{
    char label[24];
    snprintf(label, sizeof(label), "UART %" PRIu32 ":", slot + 1);
    printf("%-17s", label);
    if (!u->enabled) {
        printf("disabled\n");
        return;
    }
    printf("I/O base: 0x%04x, IRQ: %" PRIu32 ", ", u->io_base, u->irq);
    switch (u->mode) {
    case PortMode_File:
        printf("attached to file '%s'\n", u->path ? u->path : "");
        break;
    case PortMode_Server:
        printf("server on socket '%s'\n", u->path ? u->path : "");
        break;
    default:
        printf("disconnected\n");
        break;
    }
}

static void print_human(const struct vminfo *v)
{
    char ubuf[CAP_UUID_BUFSIZE], tbuf[48];
    cap_uuid_format(&v->id, ubuf);
    format_time(v->state_change, tbuf);
    if (!v->accessible) {
        ROW("Name", "<inaccessible!>");
        ROW("UUID", "%s", ubuf);
        ROW("Config file", "%s", v->cfg);
        ROW("State", "%s", cli_state_text(v->state));
        printf("Access error details:\n    %s\n", or_none(v->access_error));
        return;
    }
    ROW("Name", "%s", v->name);
    ROW("Guest OS", "%s", v->ostype);
    ROW("UUID", "%s", ubuf);
    ROW("Config file", "%s", v->cfg);
    ROW("Log folder", "%s", v->log_folder);
    ROW("Memory size", "%" PRIu32 "MB", v->memory);
    ROW("Number of CPUs", "%" PRIu32, v->cpus);
    ROW("CPU profile", "%s", v->cpu_profile);
    ROW("Engine", "%s", cli_engine_name(v->engine));
    ROW("Kernel", "%s", or_none(v->kernel));
    ROW("Initrd", "%s", or_none(v->initrd));
    ROW("Kernel cmdline", "\"%s\"", v->cmdline ? v->cmdline : "");
    ROW("Debug exit", "%s", v->debug_exit ? "enabled" : "disabled");
    ROW("State", "%s (since %s)", cli_state_text(v->state), tbuf);
    if (v->abort_reason && *v->abort_reason)
        ROW("Abort reason", "%s", v->abort_reason);
    ROW("Session state", "%s", session_state_name(v->session_state));
    if (v->session_name && *v->session_name)
        ROW("Session name", "%s (pid %" PRIu32 ")", v->session_name, v->session_pid);
    for (uint32_t i = 0; i < v->n_uarts; i++)
        print_human_uart(&v->uarts[i], i);
    printf("Description:\n%s\n", v->description && *v->description ? v->description : "<none>");
}

/* ---- the command --------------------------------------------------------- */

enum { OPT_MACHINEREADABLE = 1 };

static const struct cli_opt showvminfo_opts[] = {
    {"--machinereadable", OPT_MACHINEREADABLE, 0},
    {NULL, 0, 0},
};

static int cmd_showvminfo(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *vm = NULL, *val = NULL;
    int mr = 0, r;
    struct cli_parser p;
    cli_parser_init(&p, argc, argv);
    while ((r = cli_next(&p, showvminfo_opts, &val)) != CLI_END) {
        switch (r) {
        case OPT_MACHINEREADABLE:
            mr = 1;
            break;
        case CLI_POSITIONAL:
            if (vm)
                return cli_usage(ctx, "unexpected argument '%s'", val);
            vm = val;
            break;
        default:
            return cli_usage(ctx, NULL);
        }
    }
    if (!vm)
        return cli_usage(ctx, "the VM (name or UUID) is missing");

    IMachine *m = NULL;
    struct vminfo v;
    const char *what = "ICapsule::findMachine";
    memset(&v, 0, sizeof(v));
    cap_result rc = cli_find_machine(ctx, vm, &m);
    if (rc >= 0)
        rc = read_vminfo(m, &v, &what);
    int status = CLI_EXIT_OK;
    if (rc < 0)
        status = cli_fail(rc, what);
    else if (mr)
        print_mr(&v);
    else
        print_human(&v);
    vminfo_free(&v);
    if (m)
        IMachine_Release(m);
    return status;
}

const struct cli_cmd cli_cmd_showvminfo = {
    .name = "showvminfo",
    .fn = cmd_showvminfo,
    .usage = "capsule showvminfo VM [--machinereadable]",
    .help = "show a machine's settings and state",
    .detail = "  --machinereadable  print key=\"value\" lines (numbers unquoted; backslash,\n"
              "                     quote and control characters escaped as \\\\, \\\", \\n,\n"
              "                     \\r, \\t, \\xNN); VMState is one of poweroff, starting,\n"
              "                     running, paused, stopping, saved, aborted, stuck,\n"
              "                     saving, restoring\n",
};
