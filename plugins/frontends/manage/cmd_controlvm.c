/*
 * plugins/frontends/manage/cmd_controlvm.c - `capsule controlvm VM
 * pause|resume|reset|poweroff`.
 *
 * Joins the running machine's session with a shared lock, gets the console
 * of its VM process (the service routes the calls there) and calls it;
 * poweroff waits for the VM to be off. A machine with no VM process fails
 * with the service's message (it cannot be locked shared).
 */
#include <stdio.h>
#include <string.h>

#include "manage.h"

enum action { ACT_PAUSE, ACT_RESUME, ACT_RESET, ACT_POWEROFF };

static const char *const action_names[] = {
    [ACT_PAUSE] = "pause",
    [ACT_RESUME] = "resume",
    [ACT_RESET] = "reset",
    [ACT_POWEROFF] = "poweroff",
};

static cap_result act(IConsole *console, enum action a, const char **what)
{
    IProgress *progress = NULL;
    cap_result rc;
    switch (a) {
    case ACT_PAUSE:
        *what = "IConsole::pause";
        return IConsole_Pause(console);
    case ACT_RESUME:
        *what = "IConsole::resume";
        return IConsole_Resume(console);
    case ACT_RESET:
        *what = "IConsole::reset";
        return IConsole_Reset(console);
    default:
        *what = "IConsole::powerDown";
        rc = IConsole_PowerDown(console, &progress);
        if (rc >= 0)
            rc = cli_progress_wait(progress, -1);
        if (progress)
            IProgress_Release(progress);
        return rc;
    }
}

static int control(struct cli_ctx *ctx, const char *vm, enum action a)
{
    IMachine *m = NULL;
    ISession *s = NULL;
    IConsole *console = NULL;
    int locked = 0;
    const char *what = "ICapsule::findMachine";
    cap_result rc = cli_find_machine(ctx, vm, &m);
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
                               "machine '%s' has no running VM process", vm);
    }
    if (rc >= 0)
        rc = act(console, a, &what);
    int status = rc < 0 ? cli_fail(rc, what) : CLI_EXIT_OK;
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

static int cmd_controlvm(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *vm = NULL, *action = NULL, *val = NULL;
    struct cli_parser p;
    int r;
    cli_parser_init(&p, argc, argv);
    while ((r = cli_next(&p, NULL, &val)) != CLI_END) {
        if (r == CLI_BAD)
            return cli_usage(ctx, NULL);
        if (!vm)
            vm = val;
        else if (!action)
            action = val;
        else
            return cli_usage(ctx, "unexpected argument '%s'", val);
    }
    if (!vm)
        return cli_usage(ctx, "the VM (name or UUID) is missing");
    if (!action)
        return cli_usage(ctx, "the action is missing (pause, resume, reset or poweroff)");
    for (size_t i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++)
        if (strcmp(action, action_names[i]) == 0)
            return control(ctx, vm, (enum action)i);
    return cli_usage(ctx, "unknown action '%s' (pause, resume, reset or poweroff)", action);
}

const struct cli_cmd cli_cmd_controlvm = {
    .name = "controlvm",
    .fn = cmd_controlvm,
    .usage = "capsule controlvm VM pause|resume|reset|poweroff",
    .help = "pause, resume, reset or power off a running machine",
    .detail = "  pause      stop the virtual CPUs and clock\n"
              "  resume     continue a paused machine\n"
              "  reset      reset the machine like the reset button\n"
              "  poweroff   pull the plug (waits until the machine is off)\n",
};
