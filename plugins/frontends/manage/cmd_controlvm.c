/*
 * plugins/frontends/manage/cmd_controlvm.c - `capsule controlvm VM
 * pause|resume|reset|poweroff|acpipowerbutton|acpisleepbutton`,
 * `capsule controlvm VM dvdattach FILE|none` and `capsule controlvm VM
 * screenshotpng FILE`, `capsule controlvm VM vrde on|off`.
 *
 * Joins the running machine's session with a shared lock, gets the console
 * of its VM process (the service routes the calls there) and calls it;
 * poweroff waits for the VM to be off, acpipowerbutton only presses the
 * button (the guest decides, as on VirtualBox). acpisleepbutton fails on a
 * running machine with a plain reason: Capsule's machines declare no sleep
 * button and no sleep state in their ACPI tables, so there is nothing to
 * press. A machine with no VM process fails with the service's message (it
 * cannot be locked shared). dvdattach changes the medium of the machine's
 * first DVD drive (in the order of its attachments) as storageattach does
 * on a running machine (cli_dvd_mount); none ejects. screenshotpng writes
 * the screen as IConsole's display gives it (takeScreenShotToArray, PNG) to
 * FILE. vrde on|off starts or stops the VM process's remote display server
 * now (IConsole's VRDEServerEnabled; the saved setting stays) and says the
 * port it listens on.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <capsule/mem.h>

#include "manage.h"

enum action {
    ACT_PAUSE,
    ACT_RESUME,
    ACT_RESET,
    ACT_POWEROFF,
    ACT_ACPIPOWERBUTTON,
    ACT_ACPISLEEPBUTTON,
    ACT_DVDATTACH,
    ACT_SCREENSHOTPNG,
    ACT_VRDE
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
    [ACT_DVDATTACH] = {"dvdattach", "FILE|none: put an ISO image into the first DVD\n"
                                    "drive, or (none) eject it"},
    [ACT_SCREENSHOTPNG] = {"screenshotpng", "FILE: write the machine's screen to FILE as a PNG"},
    [ACT_VRDE] = {"vrde", "on|off: start or stop the remote display server\n"
                          "(VNC) now; the saved setting stays"},
    {NULL, NULL},
};

struct controlvm_args {
    const char *vm;
    int action; /* enum action */
    const char *arg;
};

static const struct cli_arg controlvm_args[] = {
    CLI_POS("VM", struct controlvm_args, vm, CLI_VM_MISSING, NULL),
    CLI_CHOICE("ACTION", actions, struct controlvm_args, action,
               "the action is missing (pause, resume, reset, poweroff, acpipowerbutton or "
               "acpisleepbutton)"),
    CLI_POS_OPT("FILE|none", struct controlvm_args, arg,
                "dvdattach's image, or none; screenshotpng's PNG file;\n"
                "vrde's on or off"),
    CLI_ARGS_END,
};

/* The running VM's first DVD drive into *ctl (free it), *port, *device. */
static cap_result first_dvd(struct cli_vm *vm, char **ctl, int32_t *port, int32_t *device)
{
    IMachine *mm = NULL;
    uint32_t n = 0;
    IMediumAttachment **list = NULL;
    *ctl = NULL;
    vm->what = "IMachine::mediumAttachments";
    cap_result rc = ISession_GetMachine(vm->session, &mm);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetMediumAttachments(mm, &n, &list);
    for (uint32_t i = 0; CAP_SUCCEEDED(rc) && i < n && !*ctl; i++) {
        DeviceType t = DeviceType_Null;
        rc = IMediumAttachment_GetType(list[i], &t);
        if (CAP_SUCCEEDED(rc) && t == DeviceType_DVD &&
            CAP_SUCCEEDED(rc = IMediumAttachment_GetPort(list[i], port)) &&
            CAP_SUCCEEDED(rc = IMediumAttachment_GetDevice(list[i], device)))
            rc = IMediumAttachment_GetController(list[i], ctl);
    }
    cli_release_array(n, list);
    cli_release(mm);
    if (CAP_SUCCEEDED(rc) && !*ctl)
        rc = cap_error_set(CAP_E_OBJECT_NOT_FOUND, "capsule", "IMachine",
                           "machine '%s' has no DVD drive (storageattach --type dvddrive adds "
                           "one while it is off)",
                           vm->name);
    return rc;
}

static cap_result dvdattach(struct cli_vm *vm, const char *what)
{
    char *ctl = NULL;
    int32_t port = 0, device = 0;
    cap_result rc = first_dvd(vm, &ctl, &port, &device);
    if (CAP_SUCCEEDED(rc))
        rc = cli_dvd_mount(vm, ctl, port, device, strcmp(what, "none") ? what : NULL, 0);
    cap_str_free(ctl);
    return rc;
}

/* The screen as a PNG to `path`. */
static cap_result screenshotpng(struct cli_vm *vm, const char *path)
{
    IDisplay *d = NULL;
    uint32_t w = 0, h = 0, bpp = 0, n = 0;
    int32_t x = 0, y = 0;
    uint8_t *png = NULL;
    vm->what = "IConsole::display";
    cap_result rc = IConsole_GetDisplay(vm->console, &d);
    if (CAP_SUCCEEDED(rc)) {
        vm->what = "IDisplay::getScreenResolution";
        rc = IDisplay_GetScreenResolution(d, 0, &w, &h, &bpp, &x, &y);
    }
    if (CAP_SUCCEEDED(rc)) {
        vm->what = "IDisplay::takeScreenShotToArray";
        rc = IDisplay_TakeScreenShotToArray(d, 0, w, h, BitmapFormat_PNG, &n, &png);
    }
    cli_release(d);
    if (CAP_FAILED(rc))
        return rc;
    vm->what = "screenshotpng";
    FILE *f = fopen(path, "wb");
    if (!f) {
        rc = cap_error_set(CAP_E_FILE_ERROR, "capsule", NULL, "cannot create '%s': %s", path,
                           strerror(errno));
    } else {
        size_t put = fwrite(png, 1, n, f);
        if (fclose(f) != 0 || put != n)
            rc = cap_error_set(CAP_E_FILE_ERROR, "capsule", NULL, "cannot write '%s': %s", path,
                               strerror(errno));
    }
    cap_free(png);
    return rc;
}

/* vrde on|off: the server in the VM process, now. */
static cap_result vrde(struct cli_vm *vm, const char *onoff)
{
    int on = !strcmp(onoff, "on");
    int32_t port = 0;
    vm->what = "IConsole::VRDEServerEnabled";
    cap_result rc = IConsole_SetVRDEServerEnabled(vm->console, on ? CAP_TRUE : CAP_FALSE);
    if (CAP_SUCCEEDED(rc) && on) {
        vm->what = "IConsole::VRDEServerPort";
        rc = IConsole_GetVRDEServerPort(vm->console, &port);
        if (CAP_SUCCEEDED(rc))
            printf("VRDE server listening on port %d\n", (int)port);
    }
    return rc;
}

static cap_result act(struct cli_vm *vm, void *arg)
{
    IProgress *progress = NULL;
    cap_result rc;
    const struct controlvm_args *a = arg;
    switch ((enum action)a->action) {
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
    case ACT_DVDATTACH:
        return dvdattach(vm, a->arg);
    case ACT_SCREENSHOTPNG:
        return screenshotpng(vm, a->arg);
    case ACT_VRDE:
        return vrde(vm, a->arg);
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
    if (a->action == ACT_DVDATTACH && !a->arg)
        return cli_usage(ctx, "dvdattach: the image (FILE) or none is missing");
    if (a->action == ACT_SCREENSHOTPNG && !a->arg)
        return cli_usage(ctx, "screenshotpng: the PNG file (FILE) is missing");
    if (a->action == ACT_VRDE && (!a->arg || (strcmp(a->arg, "on") && strcmp(a->arg, "off"))))
        return cli_usage(ctx, "vrde: on or off%s%s%s", a->arg ? " (not '" : " is missing",
                         a->arg ? a->arg : "", a->arg ? "')" : "");
    if (a->action != ACT_DVDATTACH && a->action != ACT_SCREENSHOTPNG && a->action != ACT_VRDE &&
        a->arg)
        return cli_usage(ctx, "%s takes no argument ('%s')", actions[a->action].name, a->arg);
    return cli_with_vm(ctx, a->vm, CLI_LOCK_SHARED, act, (void *)a);
}

const struct cli_cmd cli_cmd_controlvm = {
    .name = "controlvm",
    .help = "pause, resume, reset, power off or press the power button of a running machine, "
            "change its DVD or take a screenshot",
    .args = controlvm_args,
    .args_size = sizeof(struct controlvm_args),
    .run = run_controlvm,
    .detail = NULL,
};
