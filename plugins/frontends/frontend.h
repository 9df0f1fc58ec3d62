/*
 * plugins/frontends/frontend.h - the frontend plugin interface of the VM
 * process: what capsule-vm runs beside the VM (headless: logging and
 * signals; later vnc, sdl: a display and input).
 *
 * A frontend is one constant table (struct vm_frontend). The VM process
 * finds it by name in the table of built-in frontends (vmproc_frontends.c,
 * explicit, no hidden registration) and calls:
 *   attach   after the VM is built, before it starts: set up whatever the
 *            frontend needs (threads, windows). May control the VM through
 *            the EM API (vm_pause, vm_power_off, ...) from any thread, feed
 *            its keyboard and mouse (pdm_keyboard_put, ... on vm_pdm) and
 *            watch its screen through the VM's display hub (env->display:
 *            fe_display_attach, display/display.h).
 *   detach   once the VM has stopped (powered off or aborted), before it is
 *            destroyed: stop threads, free everything. Must cope with a
 *            half-done attach. Framebuffers it attached must be detached
 *            (fe_display_detach) by then: the hub outlives the frontend,
 *            not the other way round.
 * Signals: the VM process blocks SIGINT, SIGTERM and SIGHUP in every thread
 * it starts; a frontend that wants them waits for them (sigwait).
 */
#ifndef PLUGINS_FRONTENDS_FRONTEND_H
#define PLUGINS_FRONTENDS_FRONTEND_H

#include <capsule/result.h>

struct vm;
struct fe_display;

/* What the VM process gives a frontend; it and what it points to stay
 * valid until the frontend's detach returns. */
struct vm_frontend_env {
    struct vm *vm;
    struct fe_display *display; /* the VM's display hub, never NULL */
};

struct vm_frontend {
    const char *name;        /* "headless" */
    const char *description; /* one line, for --help */
    cap_result (*attach)(const struct vm_frontend_env *env, void **state);
    void (*detach)(void *state);
};

#endif /* PLUGINS_FRONTENDS_FRONTEND_H */
