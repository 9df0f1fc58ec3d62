/*
 * managed_nic.c - the machine's network adapters (INetworkAdapter,
 * INATEngine) as capsule-vm's own --nic options (managed.h), so that the
 * managed mode builds them with the standalone parser (vmproc_nic.c) and
 * both modes agree.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/natrule.h>

#include "managed.h"

#define COMPONENT "capsule-vm"

/* One rule (capsule/natrule.h) as hostfwd's
 * "proto:hostip:hostport-guestip:guestport" appended to spec (false: not
 * a rule). */
static bool rule_to_hostfwd(const char *rule, FILE *spec)
{
    struct cap_nat_rule r;
    if (cap_nat_rule_parse(rule, &r))
        return false;
    fprintf(spec, ",hostfwd=%s:%s:%u-%s:%u", r.udp ? "udp" : "tcp", r.host_ip,
            (unsigned)r.host_port, r.guest_ip, (unsigned)r.guest_port);
    return true;
}

/* The --nic value of one adapter into *out (free it). */
static cap_result nic_spec(const struct managed_nic *n, char **out)
{
    size_t size = 0;
    *out = NULL;
    if (!n->nat)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL,
                             "network adapter %u is attached to nothing (Null), which this build "
                             "does not have yet: attach it to NAT (capsule modifyvm VM --nic%u "
                             "nat) or disable it (--nic%u none)",
                             n->slot + 1, n->slot + 1, n->slot + 1);
    if (!n->mac || strlen(n->mac) != 12)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL,
                             "network adapter %u has no MAC address", n->slot + 1);
    FILE *spec = open_memstream(out, &size);
    if (!spec)
        return cap_error_set(CAP_E_OUTOFMEMORY, COMPONENT, NULL, "out of memory");
    const char *m = n->mac;
    fprintf(spec, "nat,model=%s,mac=%.2s:%.2s:%.2s:%.2s:%.2s:%.2s,link=%s",
            n->virtio ? "virtio" : "e1000", m, m + 2, m + 4, m + 6, m + 8, m + 10,
            n->cable ? "on" : "off");
    bool ok = true;
    for (unsigned i = 0; ok && i < n->n_rules; i++)
        ok = rule_to_hostfwd(n->rules[i], spec);
    if (ok && n->trace && *n->trace)
        fprintf(spec, ",trace=%s", n->trace);
    fclose(spec);
    if (!*out)
        return cap_error_set(CAP_E_OUTOFMEMORY, COMPONENT, NULL, "out of memory");
    if (!ok) {
        free(*out);
        *out = NULL;
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL,
                             "network adapter %u: a port forwarding rule is not "
                             "name,proto,hostip,hostport,guestip,guestport",
                             n->slot + 1);
    }
    return CAP_OK;
}

cap_result managed_build_nic_args(const struct managed_nic *n, unsigned count, int *argc,
                                  char ***argv)
{
    char **specs = calloc(count ? count : 1, sizeof(char *));
    cap_result rc = specs ? CAP_OK : cap_error_set(CAP_E_OUTOFMEMORY, COMPONENT, NULL, "oom");
    for (unsigned i = 0; i < count && CAP_SUCCEEDED(rc); i++)
        rc = nic_spec(&n[i], &specs[i]);
    char **grown = NULL;
    if (CAP_SUCCEEDED(rc) &&
        !(grown = realloc(*argv, (size_t)(*argc + 2 * (int)count + 1) * sizeof(char *))))
        rc = cap_error_set(CAP_E_OUTOFMEMORY, COMPONENT, NULL, "out of memory");
    if (grown)
        *argv = grown;
    for (unsigned i = 0; i < count && CAP_SUCCEEDED(rc); i++) {
        char *opt = strdup("--nic");
        if (!opt) {
            rc = cap_error_set(CAP_E_OUTOFMEMORY, COMPONENT, NULL, "out of memory");
            while (i--) { /* back to the vector as it was */
                free((*argv)[--*argc]);
                free((*argv)[--*argc]);
            }
            break;
        }
        (*argv)[(*argc)++] = opt;
        (*argv)[(*argc)++] = specs[i];
        specs[i] = NULL;
    }
    if (grown)
        (*argv)[*argc] = NULL;
    for (unsigned i = 0; specs && i < count; i++)
        free(specs[i]);
    free(specs);
    return rc;
}

/* ---- reading the adapters from the machine ------------------------------------------------- */

struct nic_read {
    struct managed_nic nic;
    char *mac, *trace;
    char **rules;
    uint32_t n_rules;
};

static void nic_read_clear(struct nic_read *r)
{
    cap_str_free(r->mac);
    cap_str_free(r->trace);
    for (uint32_t i = 0; i < r->n_rules; i++)
        cap_str_free(r->rules[i]);
    cap_free(r->rules);
    memset(r, 0, sizeof(*r));
}

/* Slot `slot` of m into r (r->nic.slot stays ~0u when it is disabled). */
static cap_result read_nic(IMachine *m, uint32_t slot, struct nic_read *r)
{
    INetworkAdapter *a = NULL;
    INATEngine *nat = NULL;
    cap_bool enabled = CAP_FALSE, cable = CAP_TRUE, trace = CAP_FALSE;
    NetworkAdapterType type = NetworkAdapterType_I82540EM;
    NetworkAttachmentType att = NetworkAttachmentType_Null;
    r->nic.slot = ~0u;
    cap_result rc = IMachine_GetNetworkAdapter(m, slot, &a);
    if (CAP_SUCCEEDED(rc))
        rc = INetworkAdapter_GetEnabled(a, &enabled);
    if (CAP_SUCCEEDED(rc) && enabled) {
        rc = INetworkAdapter_GetAdapterType(a, &type);
        if (CAP_SUCCEEDED(rc))
            rc = INetworkAdapter_GetMACAddress(a, &r->mac);
        if (CAP_SUCCEEDED(rc))
            rc = INetworkAdapter_GetCableConnected(a, &cable);
        if (CAP_SUCCEEDED(rc))
            rc = INetworkAdapter_GetAttachmentType(a, &att);
        if (CAP_SUCCEEDED(rc))
            rc = INetworkAdapter_GetTraceEnabled(a, &trace);
        if (CAP_SUCCEEDED(rc) && trace)
            rc = INetworkAdapter_GetTraceFile(a, &r->trace);
        if (CAP_SUCCEEDED(rc))
            rc = INetworkAdapter_GetNATEngine(a, &nat);
        if (CAP_SUCCEEDED(rc))
            rc = INATEngine_GetRedirects(nat, &r->n_rules, &r->rules);
    }
    if (nat)
        INATEngine_Release(nat);
    if (a)
        INetworkAdapter_Release(a);
    if (CAP_FAILED(rc) || !enabled)
        return rc;
    r->nic = (struct managed_nic){.slot = slot,
                                  .virtio = type == NetworkAdapterType_Virtio,
                                  .mac = r->mac,
                                  .cable = cable != CAP_FALSE,
                                  .nat = att == NetworkAttachmentType_NAT,
                                  .rules = (const char *const *)r->rules,
                                  .n_rules = r->n_rules,
                                  .trace = r->trace};
    return CAP_OK;
}

cap_result managed_read_nics(IMachine *m, int *argc, char ***argv, unsigned slots[VMPROC_MAX_NICS])
{
    struct nic_read r[VMPROC_MAX_NICS];
    struct managed_nic list[VMPROC_MAX_NICS];
    unsigned n = 0;
    cap_result rc = CAP_OK;
    memset(r, 0, sizeof(r));
    for (uint32_t i = 0; i < VMPROC_MAX_NICS && CAP_SUCCEEDED(rc); i++) {
        rc = read_nic(m, i, &r[i]);
        if (CAP_SUCCEEDED(rc) && r[i].nic.slot == i) {
            slots[n] = i;
            list[n++] = r[i].nic;
        }
    }
    if (CAP_SUCCEEDED(rc))
        rc = managed_build_nic_args(list, n, argc, argv);
    for (unsigned i = 0; i < VMPROC_MAX_NICS; i++)
        nic_read_clear(&r[i]);
    return rc;
}
