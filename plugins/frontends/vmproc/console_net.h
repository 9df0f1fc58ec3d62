/*
 * plugins/frontends/vmproc/console_net.h - IConsole's networking on a
 * running VM (console_net.c): setNetworkLinkState, addNATRedirect and
 * removeNATRedirect, which controlvm's setlinkstateN and natpfN call.
 *
 * The console (console.c) holds one struct console_net; calls come under
 * the console's op mutex, with the running VM's vmproc and the machine
 * (the VM lock's session machine, for the rules it had at power-up).
 */
#ifndef PLUGINS_FRONTENDS_VMPROC_CONSOLE_NET_H
#define PLUGINS_FRONTENDS_VMPROC_CONSOLE_NET_H

#include <stdbool.h>

#include <capsule/capsule.h>

#include "vmproc.h"

#define CONSOLE_NET_RULES (VMPROC_MAX_NICS * VMPROC_MAX_HOSTFWD)

/* The rules added or removed since power-up (the machine's settings hold
 * the ones it started with and stay as they were). */
struct console_net {
    struct {
        unsigned slot;
        bool removed; /* a rule of the settings that is gone now */
        char name[64];
        struct vmproc_hostfwd f;
    } rule[CONSOLE_NET_RULES];
    unsigned n;
};

cap_result console_net_link(struct vmproc *vp, uint32_t slot, bool up);
cap_result console_net_add(struct console_net *t, IMachine *m, struct vmproc *vp, uint32_t slot,
                           const char *rule);
cap_result console_net_remove(struct console_net *t, IMachine *m, struct vmproc *vp, uint32_t slot,
                              const char *name);

#endif /* PLUGINS_FRONTENDS_VMPROC_CONSOLE_NET_H */
