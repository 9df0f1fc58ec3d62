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
 *            the EM API (vm_pause, vm_power_off, ...) from any thread.
 *   detach   once the VM has stopped (powered off or aborted), before it is
 *            destroyed: stop threads, free everything. Must cope with a
 *            half-done attach.
 * Signals: the VM process blocks SIGINT, SIGTERM and SIGHUP in every thread
 * it starts; a frontend that wants them waits for them (sigwait).
 */
#ifndef PLUGINS_FRONTENDS_FRONTEND_H
#define PLUGINS_FRONTENDS_FRONTEND_H

#include <capsule/result.h>

struct vm;

struct vm_frontend {
    const char *name;        /* "headless" */
    const char *description; /* one line, for --help */
    cap_result (*attach)(struct vm *vm, void **state);
    void (*detach)(void *state);
};

#endif /* PLUGINS_FRONTENDS_FRONTEND_H */
