/*
 * plugins/frontends/manage/cmd_startvm.c - `capsule startvm VM [--type
 * headless|sdl|gui]`.
 *
 * Asks the service to start the machine's VM process (IMachine's
 * launchVMProcess) with a session of this process, waits for the progress,
 * and detaches: the VM keeps running after the CLI exits. A window (sdl,
 * gui) opens on this client's X display: capsule-svc has none, so DISPLAY
 * and XAUTHORITY go to the VM process as environment changes. Output, as
 * VBoxManage's:
 *
 *   Waiting for VM "demo" to power on...
 *   VM "demo" has been successfully started.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manage.h"

struct startvm_args {
    const char *vm, *type;
};

static const struct cli_arg startvm_args[] = {
    CLI_POS("VM", struct startvm_args, vm, CLI_VM_MISSING, NULL),
    CLI_OPT("--type", "FRONTEND", cli_arg_nonempty, struct startvm_args, type,
            "the frontend the VM process runs: headless (the default: no window), sdl (the VM "
            "window on this DISPLAY) or gui (the same)"),
    CLI_ARGS_END,
};

static bool has_window(const char *type)
{
    return !strcmp(type, "sdl") || !strcmp(type, "gui");
}

/* The environment changes a window needs: this client's X display and its
 * authority file (removed when unset here: not the service's). The
 * strings are asprintf'd into env[0..1]. */
static cap_result window_env(char *env[2])
{
    const char *display = getenv("DISPLAY"), *xauth = getenv("XAUTHORITY");
    if (asprintf(&env[0], "DISPLAY=%s", display) < 0)
        env[0] = NULL;
    if ((xauth && *xauth ? asprintf(&env[1], "XAUTHORITY=%s", xauth)
                         : asprintf(&env[1], "XAUTHORITY")) < 0)
        env[1] = NULL;
    return env[0] && env[1] ? CAP_OK : CAP_E_OUTOFMEMORY;
}

static cap_result start(struct cli_vm *vm, void *arg)
{
    const struct startvm_args *a = arg;
    IProgress *progress = NULL;
    char *env[2] = {NULL, NULL};
    uint32_t n_env = 0;
    cap_result rc = CAP_OK;
    if (has_window(a->type)) {
        rc = window_env(env);
        n_env = 2;
    }
    vm->what = "IMachine::launchVMProcess";
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_LaunchVMProcess(vm->machine, vm->session, a->type, n_env, env, &progress);
    free(env[0]);
    free(env[1]);
    if (CAP_SUCCEEDED(rc)) {
        printf("Waiting for VM \"%s\" to power on...\n", vm->name);
        fflush(stdout);
        rc = cli_progress_wait(progress, -1);
    }
    if (CAP_SUCCEEDED(rc))
        printf("VM \"%s\" has been successfully started.\n", vm->name);
    cli_release(progress);
    return rc;
}

static int run_startvm(struct cli_ctx *ctx, void *args)
{
    struct startvm_args *a = args;
    if (!a->type)
        a->type = "headless";
    const char *display = getenv("DISPLAY");
    if (has_window(a->type) && (!display || !*display)) {
        fprintf(stderr,
                "capsule: error: startvm --type %s opens the VM window on your X display, but "
                "DISPLAY is not set (start it from a graphical session, or use --type "
                "headless)\n",
                a->type);
        return CLI_EXIT_FAIL;
    }
    /* The session is detached afterwards: the VM process holds its own
     * lock and keeps running. */
    return cli_with_vm(ctx, a->vm, CLI_SESSION, start, a);
}

const struct cli_cmd cli_cmd_startvm = {
    .name = "startvm",
    .help = "start a machine in its own VM process",
    .args = startvm_args,
    .args_size = sizeof(struct startvm_args),
    .run = run_startvm,
    .detail = NULL,
};
