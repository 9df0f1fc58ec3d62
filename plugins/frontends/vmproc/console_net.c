/*
 * plugins/frontends/vmproc/console_net.c - a running VM's network
 * adapters changed from outside (console_net.h): the cable in or out, and
 * port forwarding rules of its NAT added or removed by name, as
 * VBoxManage's controlvm setlinkstateN and natpfN do.
 *
 * A rule's name is the API's, not libslirp's (which knows forwards by
 * protocol, address and port): the rules the VM started with are the
 * machine's (INATEngine's redirects, unchanged while it runs: a running
 * machine cannot be modified), and the ones added since are kept here, so
 * that a name is found in either and used once.
 */
#include <stdio.h>
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>

#include "console_net.h"

#define COMPONENT "capsule-vm"

cap_result console_net_link(struct vmproc *vp, uint32_t slot, bool up)
{
    return vmproc_nic_set_link(vp, slot, up);
}

/* The table's entry for (slot, name), or -1. */
static int find(const struct console_net *t, uint32_t slot, const char *name)
{
    for (unsigned i = 0; i < t->n; i++)
        if (t->rule[i].slot == slot && !strcmp(t->rule[i].name, name))
            return (int)i;
    return -1;
}

/* The machine's rule called `name` on slot (found: 1, *f set; 0: none). */
static cap_result settings_rule(IMachine *m, uint32_t slot, const char *name,
                                struct vmproc_hostfwd *f, int *found)
{
    INetworkAdapter *a = NULL;
    INATEngine *nat = NULL;
    char **rules = NULL;
    uint32_t n = 0;
    *found = 0;
    cap_result rc = m ? IMachine_GetNetworkAdapter(m, slot, &a) : CAP_OK;
    if (CAP_SUCCEEDED(rc) && a)
        rc = INetworkAdapter_GetNATEngine(a, &nat);
    if (CAP_SUCCEEDED(rc) && nat)
        rc = INATEngine_GetRedirects(nat, &n, &rules);
    for (uint32_t i = 0; i < n; i++) {
        char rname[64], why[160];
        struct vmproc_hostfwd rf;
        if (!*found && !vmproc_parse_natpf(rules[i], &rf, rname, why, sizeof(why)) &&
            !strcmp(rname, name)) {
            *f = rf;
            *found = 1;
        }
        cap_str_free(rules[i]);
    }
    cap_free(rules);
    if (nat)
        INATEngine_Release(nat);
    if (a)
        INetworkAdapter_Release(a);
    return rc;
}

cap_result console_net_add(struct console_net *t, IMachine *m, struct vmproc *vp, uint32_t slot,
                           const char *rule)
{
    char name[64], why[200];
    struct vmproc_hostfwd f, old;
    int in_settings = 0;
    if (!rule || vmproc_parse_natpf(rule, &f, name, why, sizeof(why)))
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, "IConsole", "port forwarding rule %s",
                             rule ? why : "missing");
    int i = find(t, slot, name);
    cap_result rc = i < 0 ? settings_rule(m, slot, name, &old, &in_settings) : CAP_OK;
    if (CAP_FAILED(rc))
        return rc;
    if ((i >= 0 && !t->rule[i].removed) || (i < 0 && in_settings))
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, "IConsole",
                             "network adapter %u has a rule called '%s' already", slot + 1, name);
    if (i < 0 && t->n == CONSOLE_NET_RULES)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, "IConsole",
                             "too many port forwarding rules added to the running VM");
    rc = vmproc_nic_hostfwd(vp, slot, &f, true);
    if (CAP_FAILED(rc))
        return rc;
    if (i < 0)
        i = (int)t->n++;
    t->rule[i].slot = slot;
    t->rule[i].removed = false;
    snprintf(t->rule[i].name, sizeof(t->rule[i].name), "%s", name);
    t->rule[i].f = f;
    return CAP_OK;
}

cap_result console_net_remove(struct console_net *t, IMachine *m, struct vmproc *vp, uint32_t slot,
                              const char *name)
{
    struct vmproc_hostfwd f;
    int in_settings = 0;
    int i = name ? find(t, slot, name) : -1;
    cap_result rc = i < 0 && name ? settings_rule(m, slot, name, &f, &in_settings) : CAP_OK;
    if (CAP_FAILED(rc))
        return rc;
    if ((i >= 0 && t->rule[i].removed) || (i < 0 && !in_settings))
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, "IConsole",
                             "network adapter %u has no port forwarding rule called '%s'", slot + 1,
                             name ? name : "");
    if (i >= 0)
        f = t->rule[i].f;
    if (i < 0 && t->n == CONSOLE_NET_RULES)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, "IConsole",
                             "too many port forwarding rules changed on the running VM");
    rc = vmproc_nic_hostfwd(vp, slot, &f, false);
    if (CAP_FAILED(rc))
        return rc;
    if (i < 0) {
        i = (int)t->n++;
        t->rule[i].slot = slot;
        snprintf(t->rule[i].name, sizeof(t->rule[i].name), "%s", name);
        t->rule[i].f = f;
    }
    t->rule[i].removed = true;
    return CAP_OK;
}
