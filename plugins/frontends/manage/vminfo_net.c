/*
 * plugins/frontends/manage/vminfo_net.c - the network adapters in
 * `capsule showvminfo`, VBoxManage's lines (vminfo.c prints the rest):
 *
 *   NIC 1:           MAC: 080027AB12CD, Attachment: NAT, Cable connected: on,
 *                    Trace: off (file: none), Type: 82540EM
 *   NIC 1 Rule(0):   name = ssh, protocol = tcp, host ip = 127.0.0.1,
 *                    host port = 2222, guest ip = , guest port = 22
 *   NIC 2:           disabled
 *
 * and for scripts, per slot N: nicN ("nat", "null" or "none"), and for an
 * enabled adapter nictypeN ("82540EM", "virtio"), macaddressN,
 * cableconnectedN ("on", "off"), [nictraceN="on" nictracefileN], and one
 * Forwarding(I)="name,proto,hostip,hostport,guestip,guestport" per rule.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <capsule/mem.h>

#include "manage.h"
#include "netargs.h"

static void nic_free(struct cli_nic_info *n)
{
    cap_str_free(n->mac);
    cap_str_free(n->trace_file);
    for (uint32_t i = 0; i < n->n_rules; i++)
        cap_str_free(n->rules[i]);
    cap_free(n->rules);
    memset(n, 0, sizeof(*n));
}

void cli_nics_free(struct cli_nic_info *nics, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        nic_free(&nics[i]);
}

static cap_result read_nic(IMachine *m, uint32_t slot, struct cli_nic_info *n)
{
    INetworkAdapter *a = NULL;
    INATEngine *nat = NULL;
    cap_result rc = IMachine_GetNetworkAdapter(m, slot, &a);
    if (CAP_SUCCEEDED(rc))
        rc = INetworkAdapter_GetEnabled(a, &n->enabled);
    if (CAP_SUCCEEDED(rc))
        rc = INetworkAdapter_GetAdapterType(a, &n->type);
    if (CAP_SUCCEEDED(rc))
        rc = INetworkAdapter_GetMACAddress(a, &n->mac);
    if (CAP_SUCCEEDED(rc))
        rc = INetworkAdapter_GetCableConnected(a, &n->cable);
    if (CAP_SUCCEEDED(rc))
        rc = INetworkAdapter_GetAttachmentType(a, &n->attachment);
    if (CAP_SUCCEEDED(rc))
        rc = INetworkAdapter_GetTraceEnabled(a, &n->trace);
    if (CAP_SUCCEEDED(rc))
        rc = INetworkAdapter_GetTraceFile(a, &n->trace_file);
    if (CAP_SUCCEEDED(rc))
        rc = INetworkAdapter_GetNATEngine(a, &nat);
    if (CAP_SUCCEEDED(rc))
        rc = INATEngine_GetRedirects(nat, &n->n_rules, &n->rules);
    cli_release(nat);
    cli_release(a);
    return rc;
}

cap_result cli_nics_read(IMachine *m, struct cli_nic_info *nics, uint32_t *n)
{
    cap_result rc = CAP_OK;
    *n = 0;
    memset(nics, 0, CLI_NIC_SLOTS * sizeof(*nics));
    for (uint32_t i = 0; i < CLI_NIC_SLOTS && CAP_SUCCEEDED(rc); i++) {
        rc = read_nic(m, i, &nics[i]);
        *n = i + 1;
    }
    return rc;
}

static const char *attachment_word(const struct cli_nic_info *n)
{
    return !n->enabled ? "none" : n->attachment == NetworkAttachmentType_NAT ? "nat" : "null";
}

void cli_nics_print_mr(const struct cli_nic_info *nics, uint32_t n)
{
    char key[40];
    for (uint32_t i = 0; i < n; i++) {
        const struct cli_nic_info *c = &nics[i];
#define KEY(fmt) (snprintf(key, sizeof(key), fmt "%" PRIu32, i + 1), key)
        cli_mr_print_str(stdout, KEY("nic"), attachment_word(c));
        if (!c->enabled)
            continue;
        cli_mr_print_str(stdout, KEY("nictype"), cli_nictype_name(c->type));
        cli_mr_print_str(stdout, KEY("macaddress"), c->mac);
        cli_mr_print_str(stdout, KEY("cableconnected"), c->cable ? "on" : "off");
        if (c->trace) {
            cli_mr_print_str(stdout, KEY("nictrace"), "on");
            cli_mr_print_str(stdout, KEY("nictracefile"), c->trace_file);
        }
#undef KEY
        for (uint32_t r = 0; r < c->n_rules; r++) {
            snprintf(key, sizeof(key), "Forwarding(%" PRIu32 ")", r);
            cli_mr_print_str(stdout, key, c->rules[r]);
        }
    }
}

/* "ssh,tcp,127.0.0.1,2222,,22" as VBoxManage's rule line. */
static void print_rule(uint32_t slot, uint32_t i, const char *rule)
{
    struct cap_nat_rule r;
    char label[48];
    snprintf(label, sizeof(label), "NIC %" PRIu32 " Rule(%" PRIu32 "):", slot + 1, i);
    if (cap_nat_rule_parse(rule, &r)) {
        printf("%-17s%s\n", label, rule); /* not expected: the service checked it */
        return;
    }
    printf("%-17sname = %s, protocol = %s, host ip = %s, host port = %u, guest ip = %s, "
           "guest port = %u\n",
           label, r.name, r.udp ? "udp" : "tcp", r.host_ip, (unsigned)r.host_port, r.guest_ip,
           (unsigned)r.guest_port);
}

void cli_nics_print_human(const struct cli_nic_info *nics, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        const struct cli_nic_info *c = &nics[i];
        char label[32];
        snprintf(label, sizeof(label), "NIC %" PRIu32 ":", i + 1);
        if (!c->enabled) {
            printf("%-17sdisabled\n", label);
            continue;
        }
        printf("%-17sMAC: %s, Attachment: %s, Cable connected: %s, Trace: %s (file: %s), "
               "Type: %s\n",
               label, c->mac, c->attachment == NetworkAttachmentType_NAT ? "NAT" : "none",
               c->cable ? "on" : "off", c->trace ? "on" : "off",
               c->trace_file && *c->trace_file ? c->trace_file : "none", cli_nictype_name(c->type));
        for (uint32_t r = 0; r < c->n_rules; r++)
            print_rule(i, r, c->rules[r]);
    }
}
