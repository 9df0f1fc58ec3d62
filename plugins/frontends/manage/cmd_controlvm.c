/*
 * plugins/frontends/manage/cmd_controlvm.c - `capsule controlvm VM
 * pause|resume|reset|poweroff|acpipowerbutton|acpisleepbutton`,
 * `capsule controlvm VM dvdattach FILE|none` and `capsule controlvm VM
 * screenshotpng FILE`.
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
 * port it listens on. setlinkstateN on|off plugs adapter N's cable in or
 * out now (IConsole's setNetworkLinkState), natpfN RULE adds a port
 * forward to the running VM's NAT and natpfN delete NAME removes one
 * (addNATRedirect, removeNATRedirect; RULE as modifyvm's --natpfN, checked
 * here first); the saved settings stay, as VBoxManage's.
 *
 * The keyboard (IConsole's keyboard): keyboardputscancode sends bytes given
 * in hex, keyboardputstring types its arguments joined by spaces,
 * keyboardputfile types a file's text; long input goes in pieces of at
 * most PIECE bytes (each call returns once the guest has taken it).
 * setvideomodehint asks IDisplay to hint a mode to the guest. Their
 * arguments are parsed by inputargs.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <capsule/mem.h>

#include "inputargs.h"
#include "manage.h"
#include "netargs.h"

/* Scancodes or characters per IKeyboard call (the API takes 4096 / 1024). */
#define PIECE 256
/* The largest file keyboardputfile types. */
#define PUTFILE_MAX (1024 * 1024)

enum action {
    ACT_PAUSE,
    ACT_RESUME,
    ACT_RESET,
    ACT_POWEROFF,
    ACT_ACPIPOWERBUTTON,
    ACT_ACPISLEEPBUTTON,
    ACT_DVDATTACH,
    ACT_SCREENSHOTPNG,
    ACT_KEYBOARDPUTSCANCODE,
    ACT_KEYBOARDPUTSTRING,
    ACT_KEYBOARDPUTFILE,
    ACT_SETVIDEOMODEHINT,
    ACT_VRDE,
    ACT_SETLINKSTATE1, /* .. 4: contiguous */
    ACT_SETLINKSTATE2,
    ACT_SETLINKSTATE3,
    ACT_SETLINKSTATE4,
    ACT_NATPF1, /* .. 4: contiguous */
    ACT_NATPF2,
    ACT_NATPF3,
    ACT_NATPF4,
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
    [ACT_KEYBOARDPUTSCANCODE] = {"keyboardputscancode",
                                 "HEX...: send scancodes (set 1, bytes in hex:\n"
                                 "1e 9e presses and releases a)"},
    [ACT_KEYBOARDPUTSTRING] = {"keyboardputstring", "TEXT...: type the words, joined by spaces\n"
                                                    "(US layout; printable ASCII)"},
    [ACT_KEYBOARDPUTFILE] = {"keyboardputfile", "FILE: type the text of FILE (newlines as Enter)"},
    [ACT_SETVIDEOMODEHINT] = {"setvideomodehint", "W H BPP [DISPLAY [ENABLED [X Y]]]: ask the\n"
                                                  "guest to switch the screen to a mode"},
    [ACT_VRDE] = {"vrde", "on|off: start or stop the remote display server\n"
                          "(VNC) now; the saved setting stays"},
    [ACT_SETLINKSTATE1] = {"setlinkstate1", "on|off: plug network adapter 1's cable in or out"},
    [ACT_SETLINKSTATE2] = {"setlinkstate2", "the same for adapter 2"},
    [ACT_SETLINKSTATE3] = {"setlinkstate3", "the same for adapter 3"},
    [ACT_SETLINKSTATE4] = {"setlinkstate4", "the same for adapter 4"},
    [ACT_NATPF1] = {"natpf1", "RULE|delete NAME: add a port forward to adapter 1's\n"
                              "NAT now (\"name,tcp|udp,[hostip],hostport,[guestip],\n"
                              "guestport\"), or remove one"},
    [ACT_NATPF2] = {"natpf2", "the same for adapter 2"},
    [ACT_NATPF3] = {"natpf3", "the same for adapter 3"},
    [ACT_NATPF4] = {"natpf4", "the same for adapter 4"},
    {NULL, NULL},
};

struct controlvm_args {
    const char *vm;
    int action;           /* enum action */
    const char *arg;      /* the first of `args`, or NULL */
    struct cli_rest args; /* everything after the action */
};

static const struct cli_arg controlvm_args[] = {
    CLI_POS("VM", struct controlvm_args, vm, CLI_VM_MISSING, NULL),
    CLI_CHOICE("ACTION", actions, struct controlvm_args, action,
               "the action is missing (pause, resume, reset, poweroff, acpipowerbutton or "
               "acpisleepbutton)"),
    CLI_POS_REST("ARG...", struct controlvm_args, args,
                 "the action's arguments: dvdattach's image, or none;\n"
                 "screenshotpng's PNG file; keyboardputscancode's bytes;\n"
                 "keyboardputstring's words; keyboardputfile's file;\n"
                 "setvideomodehint's mode; vrde's and setlinkstateN's\n"
                 "on or off; natpfN's rule, or delete and a name"),
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

static cap_result get_keyboard(struct cli_vm *vm, IKeyboard **kbd)
{
    vm->what = "IConsole::keyboard";
    return IConsole_GetKeyboard(vm->console, kbd);
}

/* keyboardputscancode HEX...: in pieces, as the guest takes them. */
static cap_result put_scancodes(struct cli_vm *vm, const struct cli_rest *args)
{
    int32_t *codes = cap_alloc(sizeof(*codes) * (size_t)args->n);
    if (!codes)
        return cap_error_set(CAP_E_OUTOFMEMORY, "capsule", NULL, "out of memory");
    IKeyboard *kbd = NULL;
    cap_result rc = cli_parse_scancodes(args->n, args->v, codes); /* checked before: no error */
    if (CAP_SUCCEEDED(rc))
        rc = get_keyboard(vm, &kbd);
    vm->what = "IKeyboard::putScancodes";
    for (int at = 0; CAP_SUCCEEDED(rc) && at < args->n; at += PIECE) {
        uint32_t n = (uint32_t)(args->n - at < PIECE ? args->n - at : PIECE), stored = 0;
        rc = IKeyboard_PutScancodes(kbd, n, codes + at, &stored);
    }
    cli_release(kbd);
    cap_free(codes);
    return rc;
}

/* Types `text` in pieces; `what` names it when a piece fails. */
static cap_result put_text(struct cli_vm *vm, const char *text, const char *what)
{
    IKeyboard *kbd = NULL;
    cap_result rc = get_keyboard(vm, &kbd);
    vm->what = "IKeyboard::putString";
    size_t done = 0, len = strlen(text);
    while (CAP_SUCCEEDED(rc) && done < len) {
        size_t n = cli_text_piece(text + done, PIECE);
        char *piece = cap_str_ndup(text + done, n);
        rc = piece ? IKeyboard_PutString(kbd, piece)
                   : cap_error_set(CAP_E_OUTOFMEMORY, "capsule", NULL, "out of memory");
        cap_str_free(piece);
        if (CAP_SUCCEEDED(rc))
            done += n;
    }
    if (CAP_FAILED(rc) && done)
        fprintf(stderr, "capsule: %zu of the %zu bytes of %s were typed before the error\n", done,
                len, what);
    cli_release(kbd);
    return rc;
}

static cap_result put_string(struct cli_vm *vm, const struct cli_rest *args)
{
    char *text = cli_join_words(args->n, args->v);
    cap_result rc = text ? put_text(vm, text, "the text")
                         : cap_error_set(CAP_E_OUTOFMEMORY, "capsule", NULL, "out of memory");
    cap_str_free(text);
    return rc;
}

/* keyboardputfile FILE: its text, at most PUTFILE_MAX bytes, no NUL. */
static cap_result put_file(struct cli_vm *vm, const char *path)
{
    vm->what = "keyboardputfile";
    FILE *f = fopen(path, "rb");
    if (!f)
        return cap_error_set(CAP_E_FILE_ERROR, "capsule", NULL, "cannot open '%s': %s", path,
                             strerror(errno));
    char *text = cap_alloc(PUTFILE_MAX + 1);
    size_t n = text ? fread(text, 1, PUTFILE_MAX + 1, f) : 0;
    int err = ferror(f);
    fclose(f);
    cap_result rc = CAP_OK;
    if (!text)
        rc = cap_error_set(CAP_E_OUTOFMEMORY, "capsule", NULL, "out of memory");
    else if (err)
        rc = cap_error_set(CAP_E_FILE_ERROR, "capsule", NULL, "cannot read '%s'", path);
    else if (n > PUTFILE_MAX)
        rc = cap_error_set(CAP_E_FILE_ERROR, "capsule", NULL,
                           "'%s' is bigger than %u bytes: too much to type", path, PUTFILE_MAX);
    else if (memchr(text, '\0', n))
        rc = cap_error_set(CAP_E_FILE_ERROR, "capsule", NULL,
                           "'%s' holds a NUL byte at %zu: not a text to type", path,
                           (size_t)((char *)memchr(text, '\0', n) - text));
    if (CAP_SUCCEEDED(rc)) {
        text[n] = '\0';
        rc = put_text(vm, text, path);
    }
    cap_free(text);
    return rc;
}

static cap_result set_video_mode_hint(struct cli_vm *vm, const struct cli_rest *args)
{
    struct cli_video_hint h;
    IDisplay *d = NULL;
    cap_result rc = cli_parse_video_hint(args->n, args->v, &h); /* checked before: no error */
    if (CAP_SUCCEEDED(rc)) {
        vm->what = "IConsole::display";
        rc = IConsole_GetDisplay(vm->console, &d);
    }
    if (CAP_SUCCEEDED(rc)) {
        vm->what = "IDisplay::setVideoModeHint";
        rc = IDisplay_SetVideoModeHint(d, h.display, h.enabled ? CAP_TRUE : CAP_FALSE,
                                       h.change_origin ? CAP_TRUE : CAP_FALSE, h.x, h.y, h.width,
                                       h.height, h.bpp);
    }
    cli_release(d);
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

static cap_result natpf(struct cli_vm *vm, uint32_t slot, const struct cli_rest *args)
{
    if (!strcmp(args->v[0], "delete")) {
        vm->what = "IConsole::removeNATRedirect";
        return IConsole_RemoveNATRedirect(vm->console, slot, args->v[1]);
    }
    vm->what = "IConsole::addNATRedirect";
    return IConsole_AddNATRedirect(vm->console, slot, args->v[0]);
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
    case ACT_KEYBOARDPUTSCANCODE:
        return put_scancodes(vm, &a->args);
    case ACT_KEYBOARDPUTSTRING:
        return put_string(vm, &a->args);
    case ACT_KEYBOARDPUTFILE:
        return put_file(vm, a->arg);
    case ACT_SETVIDEOMODEHINT:
        return set_video_mode_hint(vm, &a->args);
    case ACT_VRDE:
        return vrde(vm, a->arg);
    case ACT_SETLINKSTATE1:
    case ACT_SETLINKSTATE2:
    case ACT_SETLINKSTATE3:
    case ACT_SETLINKSTATE4:
        vm->what = "IConsole::setNetworkLinkState";
        return IConsole_SetNetworkLinkState(vm->console, (uint32_t)(a->action - ACT_SETLINKSTATE1),
                                            strcmp(a->arg, "on") ? CAP_FALSE : CAP_TRUE);
    case ACT_NATPF1:
    case ACT_NATPF2:
    case ACT_NATPF3:
    case ACT_NATPF4:
        return natpf(vm, (uint32_t)(a->action - ACT_NATPF1), &a->args);
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

/* Whether `action` is one of the keyboard and display actions, which take
 * several arguments. */
static int is_input_action(int action)
{
    return action == ACT_KEYBOARDPUTSCANCODE || action == ACT_KEYBOARDPUTSTRING ||
           action == ACT_KEYBOARDPUTFILE || action == ACT_SETVIDEOMODEHINT;
}

/* The input actions' arguments, checked before the VM is looked up: a
 * usage error (exit 2) or 0. */
static int check_input_args(struct cli_ctx *ctx, const struct controlvm_args *a)
{
    cap_result rc = CAP_OK;
    if (a->action == ACT_KEYBOARDPUTSCANCODE) {
        int32_t *codes = cap_alloc(sizeof(*codes) * (size_t)(a->args.n ? a->args.n : 1));
        rc = codes ? cli_parse_scancodes(a->args.n, a->args.v, codes) : CAP_E_OUTOFMEMORY;
        cap_free(codes);
    } else if (a->action == ACT_KEYBOARDPUTSTRING && a->args.n == 0) {
        return cli_usage(ctx, "keyboardputstring: the text (TEXT...) is missing");
    } else if (a->action == ACT_KEYBOARDPUTFILE && a->args.n != 1) {
        return a->args.n ? cli_usage(ctx, "keyboardputfile takes one FILE ('%s' is one too many)",
                                     a->args.v[1])
                         : cli_usage(ctx, "keyboardputfile: the file (FILE) is missing");
    } else if (a->action == ACT_SETVIDEOMODEHINT) {
        struct cli_video_hint h;
        rc = cli_parse_video_hint(a->args.n, a->args.v, &h);
    }
    if (CAP_FAILED(rc))
        return cli_usage(ctx, "%s", cap_error_peek_message() ? cap_error_peek_message() : "?");
    return 0;
}

/* setlinkstateN on|off and natpfN RULE|delete NAME, checked before the VM
 * is looked up: a usage error (exit 2) or 0. */
static int check_net_args(struct cli_ctx *ctx, const struct controlvm_args *a)
{
    const char *name = actions[a->action].name;
    if (a->action >= ACT_SETLINKSTATE1 && a->action <= ACT_SETLINKSTATE4) {
        if (a->args.n != 1 || (strcmp(a->arg, "on") && strcmp(a->arg, "off")))
            return cli_usage(ctx, "%s: on or off%s%s%s", name, a->arg ? " (not '" : " is missing",
                             a->arg ? a->arg : "", a->arg ? "')" : "");
        return 0;
    }
    if (!a->arg)
        return cli_usage(ctx, "%s: the rule (or delete NAME) is missing", name);
    if (!strcmp(a->arg, "delete")) {
        if (a->args.n != 2 || !*a->args.v[1])
            return cli_usage(ctx, "%s delete takes one rule name", name);
        return 0;
    }
    struct cap_nat_rule r;
    if (a->args.n != 1)
        return cli_usage(ctx, "%s takes one rule ('%s' is one too many)", name, a->args.v[1]);
    if (CAP_FAILED(cli_parse_natpf(name, a->arg, &r)))
        return cli_usage(ctx, "%s", cap_error_peek_message() ? cap_error_peek_message() : "?");
    return 0;
}

static int run_controlvm(struct cli_ctx *ctx, void *args)
{
    struct controlvm_args *a = args;
    a->arg = a->args.n ? a->args.v[0] : NULL;
    int many = is_input_action(a->action);
    if (a->action == ACT_DVDATTACH && !a->arg)
        return cli_usage(ctx, "dvdattach: the image (FILE) or none is missing");
    if (a->action == ACT_SCREENSHOTPNG && !a->arg)
        return cli_usage(ctx, "screenshotpng: the PNG file (FILE) is missing");
    if (a->action >= ACT_SETLINKSTATE1 && a->action <= ACT_NATPF4) {
        int bad = check_net_args(ctx, a);
        return bad ? bad : cli_with_vm(ctx, a->vm, CLI_LOCK_SHARED, act, (void *)a);
    }
    if (a->action == ACT_VRDE && (!a->arg || (strcmp(a->arg, "on") && strcmp(a->arg, "off"))))
        return cli_usage(ctx, "vrde: on or off%s%s%s", a->arg ? " (not '" : " is missing",
                         a->arg ? a->arg : "", a->arg ? "')" : "");
    if (a->action != ACT_DVDATTACH && a->action != ACT_SCREENSHOTPNG && a->action != ACT_VRDE &&
        !many && a->arg)
        return cli_usage(ctx, "%s takes no argument ('%s')", actions[a->action].name, a->arg);
    if (!many && a->args.n > 1)
        return cli_usage(ctx, "%s takes one argument ('%s' is one too many)",
                         actions[a->action].name, a->args.v[1]);
    int bad = many ? check_input_args(ctx, a) : 0;
    if (bad)
        return bad;
    return cli_with_vm(ctx, a->vm, CLI_LOCK_SHARED, act, (void *)a);
}

const struct cli_cmd cli_cmd_controlvm = {
    .name = "controlvm",
    .help = "pause, resume, reset, power off or press the power button of a running machine, "
            "change its DVD, take a screenshot, type into it, hint a video mode, switch its "
            "remote display, plug its network cables or forward ports to it",
    .args = controlvm_args,
    .args_size = sizeof(struct controlvm_args),
    .run = run_controlvm,
    .detail = NULL,
};
