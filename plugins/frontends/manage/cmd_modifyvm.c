/*
 * plugins/frontends/manage/cmd_modifyvm.c - `capsule modifyvm VM [--memory MB]
 * [--cpus N] [--engine auto|hm|rem|raw] [--cpu-profile NAME] [--kernel F] [--initrd F]
 * [--cmdline S] [--uart1 IOBASE IRQ|off] [--uartmode1 file F|server SOCKET|
 * disconnected] [--description S] [--name N] [--ostype T]`.
 *
 * The VirtualBox way: every option is parsed and checked first (a usage
 * error changes nothing); then the machine is locked with a write-lock
 * session, the settings are set on the session's mutable machine, saved
 * with saveSettings, and the lock released. If any setter fails, nothing is
 * saved (unlocking discards the pending changes).
 *
 * --cpu-profile is checked against the profiles the service lists
 * (ISystemProperties' cpuProfiles) before the machine is locked: an unknown
 * name is a usage error (exit 2) naming the known ones, like a bad value of
 * any other option, though it costs a connection.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <capsule/mem.h>

#include "manage.h"

enum {
    OPT_MEMORY = 1,
    OPT_CPUS,
    OPT_ENGINE,
    OPT_KERNEL,
    OPT_INITRD,
    OPT_CMDLINE,
    OPT_UART1,
    OPT_UARTMODE1,
    OPT_DESCRIPTION,
    OPT_NAME,
    OPT_OSTYPE,
    OPT_CPUPROFILE,
};

static const struct cli_opt modifyvm_opts[] = {
    {"--memory", OPT_MEMORY, 1},
    {"--cpus", OPT_CPUS, 1},
    {"--engine", OPT_ENGINE, 1},
    {"--kernel", OPT_KERNEL, 1},
    {"--initrd", OPT_INITRD, 1},
    {"--cmdline", OPT_CMDLINE, 1},
    {"--uart1", OPT_UART1, 1},
    {"--uartmode1", OPT_UARTMODE1, 1},
    {"--description", OPT_DESCRIPTION, 1},
    {"--name", OPT_NAME, 1},
    {"--ostype", OPT_OSTYPE, 1},
    {"--cpu-profile", OPT_CPUPROFILE, 1},
    {NULL, 0, 0},
};

/* What to change; NULL strings and zero has_* flags mean "leave alone".
 * Paths are owned (made absolute), other strings point into argv. */
struct changes {
    const char *vm;
    const char *name, *ostype, *cmdline, *description;
    const char *cpu_profile_arg; /* as given; cpu_profile is the service's spelling */
    char *kernel, *initrd, *uart_path, *cpu_profile;
    int has_memory, has_cpus, has_engine, has_uart, has_uartmode, count;
    uint32_t memory, cpus;
    ExecutionEngine engine;
    struct cli_uart uart;
    PortMode uart_mode;
};

/* An absolute form of a host path given on the command line ("" stays ""). */
static char *abs_path(const char *path)
{
    char cwd[PATH_MAX];
    if (path[0] == '\0' || path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
        return cap_str_dup(path);
    return cap_str_printf("%s/%s", cwd, path);
}

static void changes_free(struct changes *c)
{
    cap_str_free(c->kernel);
    cap_str_free(c->initrd);
    cap_str_free(c->uart_path);
    cap_str_free(c->cpu_profile);
}

/* The value(s) of --uart1: "off", or an I/O base and an IRQ. */
static cap_result parse_uart1(struct cli_parser *p, const char *first, struct changes *c)
{
    const char *irq = NULL;
    if (strcasecmp(first, "off") != 0) {
        cap_result rc = cli_take(p, "--uart1", &irq);
        if (rc < 0)
            return rc;
    }
    c->has_uart = 1;
    return cli_parse_uart("--uart1", first, irq, &c->uart);
}

/* The value(s) of --uartmode1: a mode and, for file and server, a path. */
static cap_result parse_uartmode1(struct cli_parser *p, const char *mode, struct changes *c)
{
    int needs_path = 0;
    const char *path = NULL;
    cap_result rc = cli_portmode_from_name("--uartmode1", mode, &c->uart_mode, &needs_path);
    if (rc < 0)
        return rc;
    if (needs_path) {
        rc = cli_take(p, "--uartmode1", &path);
        if (rc < 0)
            return rc;
        if (!*path)
            return cap_error_set(CAP_E_INVALIDARG, "capsule", NULL,
                                 "--uartmode1: the %s path must not be empty", mode);
        c->uart_path = abs_path(path);
    }
    c->has_uartmode = 1;
    return CAP_OK;
}

/* One option into *c; a usage error leaves error info set. */
static cap_result parse_one(struct cli_parser *p, int id, const char *val, struct changes *c)
{
    switch (id) {
    case OPT_MEMORY:
        c->has_memory = 1;
        return cli_parse_mb("--memory", val, 1, UINT32_MAX, &c->memory);
    case OPT_CPUS:
        c->has_cpus = 1;
        return cli_parse_u32("--cpus", val, 1, 1024, &c->cpus);
    case OPT_ENGINE:
        c->has_engine = 1;
        return cli_engine_from_name("--engine", val, &c->engine);
    case OPT_KERNEL:
        cap_str_free(c->kernel);
        c->kernel = abs_path(val);
        return CAP_OK;
    case OPT_INITRD:
        cap_str_free(c->initrd);
        c->initrd = abs_path(val);
        return CAP_OK;
    case OPT_CMDLINE:
        c->cmdline = val;
        return CAP_OK;
    case OPT_UART1:
        return parse_uart1(p, val, c);
    case OPT_UARTMODE1:
        cap_str_free(c->uart_path);
        c->uart_path = NULL;
        return parse_uartmode1(p, val, c);
    case OPT_DESCRIPTION:
        c->description = val;
        return CAP_OK;
    case OPT_NAME:
        c->name = val;
        if (!*val)
            return cap_error_set(CAP_E_INVALIDARG, "capsule", NULL,
                                 "--name: the name must not be empty");
        return CAP_OK;
    case OPT_OSTYPE:
        c->ostype = val;
        return CAP_OK;
    case OPT_CPUPROFILE:
        c->cpu_profile_arg = val;
        if (!*val)
            return cap_error_set(CAP_E_INVALIDARG, "capsule", NULL,
                                 "--cpu-profile: no profile name (see 'capsule list cpuprofiles')");
        return CAP_OK;
    default:
        return CAP_E_INVALIDARG;
    }
}

static cap_result set_uart(IMachine *mm, const struct changes *c, const char **what)
{
    ISerialPort *port = NULL;
    *what = "IMachine::getSerialPort";
    cap_result rc = IMachine_GetSerialPort(mm, 0, &port);
    if (rc < 0)
        return rc;
    *what = "ISerialPort";
    if (c->has_uart) {
        rc = ISerialPort_SetEnabled(port, c->uart.enabled ? CAP_TRUE : CAP_FALSE);
        if (rc >= 0 && c->uart.enabled)
            rc = ISerialPort_SetIoBase(port, c->uart.io_base);
        if (rc >= 0 && c->uart.enabled)
            rc = ISerialPort_SetIrq(port, c->uart.irq);
    }
    if (rc >= 0 && c->has_uartmode) {
        /* The path first: a mode that needs one may be checked against it. */
        if (c->uart_path)
            rc = ISerialPort_SetPath(port, c->uart_path);
        if (rc >= 0)
            rc = ISerialPort_SetHostMode(port, c->uart_mode);
    }
    ISerialPort_Release(port);
    return rc;
}

/* Applies every change to the session's mutable machine. */
static cap_result apply(IMachine *mm, const struct changes *c, const char **what)
{
    cap_result rc = CAP_OK;
#define SET(cond, call, name)                                                                      \
    do {                                                                                           \
        if (rc >= 0 && (cond)) {                                                                   \
            *what = name;                                                                          \
            rc = call;                                                                             \
        }                                                                                          \
    } while (0)
    SET(c->name, IMachine_SetName(mm, c->name), "IMachine::name");
    SET(c->ostype, IMachine_SetOsTypeId(mm, c->ostype), "IMachine::osTypeId");
    SET(c->has_memory, IMachine_SetMemorySize(mm, c->memory), "IMachine::memorySize");
    SET(c->has_cpus, IMachine_SetCpuCount(mm, c->cpus), "IMachine::cpuCount");
    SET(c->has_engine, IMachine_SetEngine(mm, c->engine), "IMachine::engine");
    SET(c->cpu_profile, IMachine_SetCpuProfile(mm, c->cpu_profile), "IMachine::cpuProfile");
    SET(c->kernel, IMachine_SetKernel(mm, c->kernel), "IMachine::kernel");
    SET(c->initrd, IMachine_SetInitrd(mm, c->initrd), "IMachine::initrd");
    SET(c->cmdline, IMachine_SetCmdline(mm, c->cmdline), "IMachine::cmdline");
    SET(c->description, IMachine_SetDescription(mm, c->description), "IMachine::description");
#undef SET
    if (rc >= 0 && (c->has_uart || c->has_uartmode))
        rc = set_uart(mm, c, what);
    if (rc >= 0) {
        *what = "IMachine::saveSettings";
        rc = IMachine_SaveSettings(mm);
    }
    return rc;
}

/* The names of the service's CPU profiles into *names (n of them; free
 * each with cap_str_free, then the array with cap_free). */
static cap_result profile_names(struct cli_ctx *ctx, uint32_t *n, char ***names, const char **what)
{
    ISystemProperties *sp = NULL;
    ICPUProfile **profs = NULL;
    uint32_t np = 0;
    *n = 0;
    *names = NULL;
    *what = "ICapsule::systemProperties";
    cap_result rc = ICapsule_GetSystemProperties(ctx->root, &sp);
    if (rc >= 0) {
        *what = "ISystemProperties::cpuProfiles";
        rc = ISystemProperties_GetCpuProfiles(sp, &np, &profs);
    }
    if (rc >= 0 && !(*names = cap_alloc_zero((np ? np : 1) * sizeof(char *))))
        rc = CAP_E_OUTOFMEMORY;
    if (rc >= 0)
        *what = "ICPUProfile::name";
    for (uint32_t i = 0; i < np && rc >= 0; i++) {
        rc = ICPUProfile_GetName(profs[i], &(*names)[i]);
        *n = i + 1;
    }
    cap_array_free(CAP_TLT_IFACE, np, profs);
    if (sp)
        ISystemProperties_Release(sp);
    return rc;
}

/* c->cpu_profile_arg against the service's list: c->cpu_profile is its
 * spelling there; an unknown name is a usage error. */
static int resolve_cpu_profile(struct cli_ctx *ctx, struct changes *c)
{
    uint32_t n = 0;
    char **names = NULL;
    const char *what = "connecting to capsule-svc", *match = NULL;
    cap_result rc = cli_connect(ctx);
    if (rc >= 0)
        rc = profile_names(ctx, &n, &names, &what);
    int status = CLI_EXIT_OK;
    if (rc < 0)
        status = cli_fail(rc, what);
    else if (cli_cpu_profile_match("--cpu-profile", c->cpu_profile_arg, n, names, &match) < 0)
        status = cli_usage(ctx, NULL);
    else if (!(c->cpu_profile = cap_str_dup(match)))
        status = cli_fail(CAP_E_OUTOFMEMORY, "--cpu-profile");
    for (uint32_t i = 0; i < n; i++)
        cap_str_free(names[i]);
    cap_free(names);
    return status;
}

static int modify(struct cli_ctx *ctx, const struct changes *c)
{
    IMachine *m = NULL, *mm = NULL;
    ISession *s = NULL;
    int locked = 0;
    const char *what = "ICapsule::findMachine";
    cap_result rc = cli_find_machine(ctx, c->vm, &m);
    if (rc >= 0) {
        what = "creating a session";
        rc = cli_session_create(&s);
    }
    if (rc >= 0) {
        what = "IMachine::lockMachine";
        rc = IMachine_LockMachine(m, s, LockType_Write);
        locked = rc >= 0;
    }
    if (rc >= 0) {
        what = "ISession::machine";
        rc = ISession_GetMachine(s, &mm);
    }
    if (rc >= 0)
        rc = apply(mm, c, &what);
    int status = rc < 0 ? cli_fail(rc, what) : CLI_EXIT_OK;
    if (mm)
        IMachine_Release(mm);
    if (locked) {
        /* Unlocking discards unsaved changes, which is what a failure wants. */
        cap_result urc = ISession_UnlockMachine(s);
        if (urc < 0 && status == CLI_EXIT_OK)
            status = cli_fail(urc, "ISession::unlockMachine");
    }
    if (s)
        ISession_Release(s);
    if (m)
        IMachine_Release(m);
    return status;
}

static int cmd_modifyvm(struct cli_ctx *ctx, int argc, char **argv)
{
    struct changes c;
    struct cli_parser p;
    const char *val = NULL;
    int r, status;
    memset(&c, 0, sizeof(c));
    cli_parser_init(&p, argc, argv);
    while ((r = cli_next(&p, modifyvm_opts, &val)) != CLI_END) {
        if (r == CLI_BAD)
            goto usage;
        if (r == CLI_POSITIONAL) {
            if (c.vm) {
                changes_free(&c);
                return cli_usage(ctx, "unexpected argument '%s'", val);
            }
            c.vm = val;
            continue;
        }
        if (parse_one(&p, r, val, &c) < 0)
            goto usage;
        c.count++;
    }
    if (!c.vm) {
        changes_free(&c);
        return cli_usage(ctx, "the VM (name or UUID) is missing");
    }
    if (c.count == 0) {
        changes_free(&c);
        return cli_usage(ctx, "nothing to change (give at least one option)");
    }
    status = c.cpu_profile_arg ? resolve_cpu_profile(ctx, &c) : CLI_EXIT_OK;
    if (status == CLI_EXIT_OK)
        status = modify(ctx, &c);
    changes_free(&c);
    return status;
usage:
    changes_free(&c);
    return cli_usage(ctx, NULL);
}

const struct cli_cmd cli_cmd_modifyvm = {
    .name = "modifyvm",
    .fn = cmd_modifyvm,
    .usage = "capsule modifyvm VM [--memory MB] [--cpus N] [--engine auto|hm|rem|raw]\n"
             "                    [--cpu-profile NAME]\n"
             "                    [--kernel FILE] [--initrd FILE] [--cmdline STRING]\n"
             "                    [--uart1 IOBASE IRQ|off]\n"
             "                    [--uartmode1 file FILE|server SOCKET|disconnected]\n"
             "                    [--description STRING] [--name NAME] [--ostype TYPE]",
    .help = "change a machine's settings (the machine must not be running)",
    .detail = "  --memory MB        guest RAM; a number of MB, or with a unit: 512M, 2G\n"
              "  --cpus N           number of virtual CPUs\n"
              "  --engine E         execution engine: auto, hm, rem or raw\n"
              "  --cpu-profile NAME the CPU the guest sees: host (the default: the host's\n"
              "                     vendor and model) or a fixed one such as intel-core or\n"
              "                     amd-epyc ('capsule list cpuprofiles' lists them; under\n"
              "                     engine hm only one of the host's vendor works)\n"
              "  --kernel FILE      the image to boot (\"\" for none)\n"
              "  --initrd FILE      the initial RAM disk (\"\" for none)\n"
              "  --cmdline STRING   the kernel command line\n"
              "  --uart1 IOBASE IRQ enable the first serial port (e.g. 0x3f8 4); off disables\n"
              "  --uartmode1 MODE   where its host end goes: file FILE, server SOCKET\n"
              "                     (a Unix socket the VM listens on) or disconnected\n"
              "  --description S    free text\n"
              "  --name NAME        rename the machine\n"
              "  --ostype TYPE      the guest OS type ID\n"
              "Relative paths are taken relative to the current folder.\n",
};
