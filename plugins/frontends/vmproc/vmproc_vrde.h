/*
 * plugins/frontends/vmproc/vmproc_vrde.h - the VM process's remote display
 * server (VirtualBox's VRDE): the VNC server of plugins/frontends/vnc on
 * the VM's display hub, beside whatever frontend runs. Started with the VM
 * when --vrde is given (or the machine's VRDE server is enabled), and
 * switched on and off while the VM runs (IConsole, controlvm vrde on|off).
 *
 * Any thread may call these (one lock inside); not from the hub's
 * callbacks.
 */
#ifndef PLUGINS_FRONTENDS_VMPROC_VRDE_H
#define PLUGINS_FRONTENDS_VMPROC_VRDE_H

#include <stdbool.h>

#include <capsule/result.h>

#include "vnc/vnc.h"

struct vm;
struct fe_display;
struct vmproc_vrde;

/* The server's settings for `vm` and its hub `disp` (both must outlive
 * it), off. cfg's strings are copied; the password comes from cfg or,
 * when `password_file` is not NULL, from that file (read now: error info
 * when it cannot be, vnc_read_password_file). */
cap_result vmproc_vrde_create(struct vm *vm, struct fe_display *disp, const struct vnc_config *cfg,
                              const char *password_file, struct vmproc_vrde **out);
/* Starts (on) or stops (off) the server; nothing when it is so already.
 * Errors as vnc_server_start's. */
cap_result vmproc_vrde_enable(struct vmproc_vrde *v, bool on);
/* The port the server listens on, 0 when it is off. */
unsigned vmproc_vrde_port(struct vmproc_vrde *v);
/* Stops the server and frees it; NULL is fine. */
void vmproc_vrde_destroy(struct vmproc_vrde *v);

#endif /* PLUGINS_FRONTENDS_VMPROC_VRDE_H */
