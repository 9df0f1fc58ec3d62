/*
 * plugins/frontends/manage/cmd_controlvm.c - `capsule controlvm VM
 * pause|resume|reset|poweroff|acpipowerbutton|acpisleepbutton`.
 *
 * Joins the running machine's session with a shared lock, gets the console
 * of its VM process (the service routes the calls there) and calls it;
 * poweroff waits for the VM to be off, acpipowerbutton only presses the
 * button (the guest decides, as on VirtualBox). acpisleepbutton fails on a
 * running machine with a plain reason: Capsule's machines declare no sleep
 * button and no sleep state in their ACPI tables, so there is nothing to
 * press. A machine with no VM process fails with the service's message (it
 * cannot be locked shared).
 */
#include "manage.h"

enum action {
    ACT_PAUSE,
    ACT_RESUME,
    ACT_RESET,
    ACT_POWEROFF,
    ACT_ACPIPOWERBUTTON,
    ACT_ACPISLEEPBUTTON
};

static const struct cli_choice actions[] = {
    [ACT_PAUSE] = {"pause", "stop the virtual CPUs and clock"},
    [ACT_RESUME] = {"resume", "continue a paused machine"},
    [ACT_RESET] = {"reset", "reset the machine like the reset button"},
    [ACT_POWEROFF] = {"poweroff", "pull the plug (waits until the machine is off)"},
    [ACT_ACPIPOWERBUTTON] = {"acpipowerbutton", "press the ACPI power button: an ACPI guest shuts\n"
                                                "down (returns at once; see waitfor)"},
    [ACT_ACPISLEEPBUTTON] = {"acpisleepbutton", "press the ACPI sleep button: fails, the machine\n"
                                                "offers no sleep state"},
    {NULL, NULL},
};

struct controlvm_args {
    const char *vm;
    int action; /* enum action */
};

static const struct cli_arg controlvm_args[] = {
    CLI_POS("VM", struct controlvm_args, vm, CLI_VM_MISSING, NULL),
    CLI_CHOICE("ACTION", actions, struct controlvm_args, action,
               "the action is missing (pause, resume, reset, poweroff, acpipowerbutton or "
               "acpisleepbutton)"),
    CLI_ARGS_END,
};

static cap_result act(struct cli_vm *vm, void *arg)
{
    IProgress *progress = NULL;
    cap_result rc;
    switch (*(const enum action *)arg) {
    case ACT_PAUSE:
        vm->what = "IConsole::pause";
        return IConsole_Pause(vm->console);
    case ACT_RESUME:
        vm->what = "IConsole::resume";
        return IConsole_Resume(vm->console);
    case ACT_RESET:
        vm->what = "IConsole::reset";
        return IConsole_Reset(vm->console);
    case ACT_ACPIPOWERBUTTON:
        vm->what = "IConsole::powerButton";
        return IConsole_PowerButton(vm->console);
    case ACT_ACPISLEEPBUTTON:
        vm->what = "acpisleepbutton";
        return cap_error_set(CAP_E_NOTIMPL, "capsule", "IConsole",
                             "the sleep button is not supported: machine '%s' has no ACPI sleep "
                             "button and no sleep state (acpipowerbutton shuts an ACPI guest down)",
                             vm->name);
    default:
        vm->what = "IConsole::powerDown";
        rc = IConsole_PowerDown(vm->console, &progress);
        if (CAP_SUCCEEDED(rc))
            rc = cli_progress_wait(progress, -1);
        cli_release(progress);
        return rc;
    }
}

static int run_controlvm(struct cli_ctx *ctx, void *args)
{
    const struct controlvm_args *a = args;
    enum action action = (enum action)a->action;
    return cli_with_vm(ctx, a->vm, CLI_LOCK_SHARED, act, &action);
}

const struct cli_cmd cli_cmd_controlvm = {
    .name = "controlvm",
    .help = "pause, resume, reset, power off or press the power button of a running machine",
    .args = controlvm_args,
    .args_size = sizeof(struct controlvm_args),
    .run = run_controlvm,
    .detail = NULL,
};
