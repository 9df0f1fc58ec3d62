/*
 * service/settings_net.c - a machine's network adapters (INetworkAdapter)
 * and their NAT port forwarding rules (INATEngine): the values, their
 * checks, and their form in the machine file, which is VirtualBox's:
 *
 *   <Network>                                   (inside <Hardware>)
 *     <Adapter slot="0" enabled="true" MACAddress="080027AB12CD" type="82540EM"
 *              cable="true" trace="false" tracefile="">
 *       <NAT>
 *         <Forwarding name="ssh" proto="1" hostip="127.0.0.1" hostport="2222"
 *                     guestport="22"/>
 *       </NAT>
 *     </Adapter>
 *   </Network>
 *
 * <NAT> is the attachment (its absence: Null); proto is VirtualBox's
 * NATProtocol (0 UDP, 1 TCP). A slot at its defaults is not written, and
 * <Network> is absent while every slot is. Anything this build does not
 * know (an adapter type, an attachment, an attribute) is an error naming
 * it, which makes the machine inaccessible with that reason rather than
 * losing the setting at the next save.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>

#include "settings.h"
#include "settings_xml.h"

cap_result settings_nic_init(struct nic_cfg *n)
{
    memset(n, 0, sizeof(*n));
    n->type = NetworkAdapterType_I82540EM;
    n->cable = CAP_TRUE;
    n->attachment = NetworkAttachmentType_Null;
    n->trace_file = cap_str_dup("");
    return n->trace_file ? CAP_OK : CAP_E_OUTOFMEMORY;
}

cap_result settings_nic_copy(struct nic_cfg *dst, const struct nic_cfg *src)
{
    *dst = *src;
    dst->trace_file = cap_str_dup(src->trace_file);
    return dst->trace_file ? CAP_OK : CAP_E_OUTOFMEMORY;
}

void settings_nic_clear(struct nic_cfg *n)
{
    cap_str_free(n->trace_file);
    memset(n, 0, sizeof(*n));
}

void settings_mac_generate(char out[SETTINGS_MAC_LEN + 1])
{
    uint8_t b[3];
    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
        /* Not expected (3 bytes never block once the pool is up): the
         * clock still makes two machines' addresses differ. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint32_t v = (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec * 2654435761u;
        b[0] = (uint8_t)v, b[1] = (uint8_t)(v >> 8), b[2] = (uint8_t)(v >> 16);
    }
    snprintf(out, SETTINGS_MAC_LEN + 1, "080027%02X%02X%02X", b[0], b[1], b[2]);
}

const char *settings_mac_normalise(const char *in, char out[SETTINGS_MAC_LEN + 1])
{
    size_t k = 0;
    for (size_t i = 0; in && in[i]; i++) {
        char c = in[i];
        if (c == ':' && i % 3 == 2 && strlen(in) == 17)
            continue;
        int hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!hex || k == SETTINGS_MAC_LEN)
            return "is not 12 hexadecimal digits (e.g. 080027AB12CD)";
        out[k++] = (char)(c >= 'a' ? c - 'a' + 'A' : c);
    }
    out[k] = '\0';
    if (k != SETTINGS_MAC_LEN)
        return "is not 12 hexadecimal digits (e.g. 080027AB12CD)";
    unsigned first = (unsigned)strtoul((char[]){out[0], out[1], 0}, NULL, 16);
    return first & 1 ? "is a multicast address (the first byte is odd)" : NULL;
}

const char *settings_nic_type_name(NetworkAdapterType t)
{
    return t == NetworkAdapterType_I82540EM ? "82540EM"
           : t == NetworkAdapterType_Virtio ? "virtio"
                                            : NULL;
}

/* ---- forwarding rules ------------------------------------------------------------------- */

static const char *host_ip_or_default(const struct cap_nat_rule *r)
{
    return r->host_ip[0] ? r->host_ip : "127.0.0.1";
}

/* Why r cannot join n's rules (NULL: it can). */
static const char *clash(const struct nic_cfg *n, const struct cap_nat_rule *r, char *why,
                         size_t size)
{
    if (n->n_rules == SETTINGS_NAT_RULES) {
        snprintf(why, size, "the adapter has %u rules, the most it may have", SETTINGS_NAT_RULES);
        return why;
    }
    for (uint32_t i = 0; i < n->n_rules; i++) {
        const struct cap_nat_rule *o = &n->rules[i];
        if (!strcmp(o->name, r->name)) {
            snprintf(why, size, "a rule called '%s' exists", r->name);
            return why;
        }
        if (o->udp == r->udp && o->host_port == r->host_port &&
            !strcmp(host_ip_or_default(o), host_ip_or_default(r))) {
            snprintf(why, size, "rule '%s' forwards %s port %u of %s already", o->name,
                     r->udp ? "UDP" : "TCP", r->host_port, host_ip_or_default(r));
            return why;
        }
    }
    return NULL;
}

cap_result settings_nat_add(struct nic_cfg *n, const struct cap_nat_rule *r, const char *iface)
{
    char why[160];
    const char *bad = cap_nat_rule_problem(r);
    if (!bad)
        bad = clash(n, r, why, sizeof(why));
    if (bad)
        return cap_error_set(CAP_E_INVALIDARG, SETTINGS_COMPONENT, iface,
                             "port forwarding rule '%s': %s", r->name, bad);
    n->rules[n->n_rules++] = *r;
    return CAP_OK;
}

cap_result settings_nat_remove(struct nic_cfg *n, const char *name, const char *iface)
{
    for (uint32_t i = 0; i < n->n_rules; i++)
        if (name && !strcmp(n->rules[i].name, name)) {
            memmove(&n->rules[i], &n->rules[i + 1], (n->n_rules - i - 1) * sizeof(n->rules[0]));
            n->n_rules--;
            return CAP_OK;
        }
    return cap_error_set(CAP_E_INVALIDARG, SETTINGS_COMPONENT, iface,
                         "the adapter has no port forwarding rule called '%s'", name ? name : "");
}

const char *settings_net_problem(const struct machine_cfg *c, char *buf, size_t size)
{
    for (unsigned i = 0; i < SETTINGS_NIC_SLOTS; i++) {
        const struct nic_cfg *n = &c->nic[i];
        if (!n->enabled)
            continue;
        if (!n->mac[0])
            snprintf(buf, size, "network adapter %u has no MAC address", i + 1);
        else if (n->trace && !*n->trace_file)
            snprintf(buf, size, "network adapter %u traces to no file (set its trace file)", i + 1);
        else
            continue;
        return buf;
    }
    return NULL;
}

/* ---- the file ---------------------------------------------------------------------------- */

static cap_result parse_forwarding(const char *f, const struct xml_node *x, struct nic_cfg *n)
{
    static const char *const allowed[] = {"name",    "proto",     "hostip", "hostport",
                                          "guestip", "guestport", NULL};
    struct cap_nat_rule r;
    uint32_t proto = 1, hp = 0, gp = 0;
    char why[160];
    memset(&r, 0, sizeof(r));
    cap_result rc = xml_check_attrs(f, x, allowed);
    if (CAP_SUCCEEDED(rc))
        rc = xml_get_u32(f, x, "proto", 1, 0, 1, &proto);
    if (CAP_SUCCEEDED(rc))
        rc = xml_get_u32(f, x, "hostport", 1, 1, 65535, &hp);
    if (CAP_SUCCEEDED(rc))
        rc = xml_get_u32(f, x, "guestport", 1, 1, 65535, &gp);
    if (CAP_FAILED(rc))
        return rc;
    const char *name = xml_attr(x, "name"), *hip = xml_attr(x, "hostip"),
               *gip = xml_attr(x, "guestip");
    if (!name || strlen(name) > CAP_NAT_RULE_NAME_MAX || (hip && strlen(hip) >= 16) ||
        (gip && strlen(gip) >= 16))
        return xml_error(f, x, "<Forwarding> lacks a name, or a name or address is too long");
    snprintf(r.name, sizeof(r.name), "%s", name);
    snprintf(r.host_ip, sizeof(r.host_ip), "%s", hip ? hip : "");
    snprintf(r.guest_ip, sizeof(r.guest_ip), "%s", gip ? gip : "");
    r.udp = proto == 0;
    r.host_port = (uint16_t)hp;
    r.guest_port = (uint16_t)gp;
    const char *bad = cap_nat_rule_problem(&r);
    if (!bad)
        bad = clash(n, &r, why, sizeof(why));
    if (bad)
        return xml_error(f, x, "port forwarding rule '%.64s': %s", r.name, bad);
    n->rules[n->n_rules++] = r;
    return CAP_OK;
}

static cap_result parse_nat(const char *f, const struct xml_node *x, struct nic_cfg *n)
{
    static const char *const allowed[] = {NULL};
    cap_result rc = xml_check_attrs(f, x, allowed);
    n->attachment = NetworkAttachmentType_NAT;
    for (const struct xml_node *k = x->first_child; k && CAP_SUCCEEDED(rc); k = k->next) {
        if (strcmp(k->name, "Forwarding"))
            return xml_error(f, k, "unknown element <%s> in <NAT>", k->name);
        rc = parse_forwarding(f, k, n);
    }
    return rc;
}

static cap_result parse_adapter(const char *f, const struct xml_node *x, struct machine_cfg *c,
                                unsigned *seen)
{
    static const char *const allowed[] = {"slot",  "enabled", "MACAddress", "type",
                                          "cable", "trace",   "tracefile",  NULL};
    static const char *const types[] = {"82540EM", "virtio"};
    uint32_t slot = 0;
    int type = 0;
    cap_result rc = xml_check_attrs(f, x, allowed);
    if (CAP_SUCCEEDED(rc))
        rc = xml_get_u32(f, x, "slot", 1, 0, SETTINGS_NIC_SLOTS - 1, &slot);
    if (CAP_FAILED(rc))
        return rc;
    struct nic_cfg *n = &c->nic[slot];
    if (*seen & (1u << slot))
        return xml_error(f, x, "adapter slot %u is given twice", slot);
    *seen |= 1u << slot;
    rc = xml_get_bool(f, x, "enabled", &n->enabled);
    if (CAP_SUCCEEDED(rc) && xml_attr(x, "type") &&
        CAP_SUCCEEDED(rc = xml_get_enum(f, x, "type", types, 2, &type)))
        n->type = type ? NetworkAdapterType_Virtio : NetworkAdapterType_I82540EM;
    if (CAP_SUCCEEDED(rc))
        rc = xml_get_bool(f, x, "cable", &n->cable);
    if (CAP_SUCCEEDED(rc))
        rc = xml_get_bool(f, x, "trace", &n->trace);
    if (CAP_SUCCEEDED(rc))
        rc = xml_get_str(f, x, "tracefile", 0, &n->trace_file);
    if (CAP_FAILED(rc))
        return rc;
    const char *mac = xml_attr(x, "MACAddress"), *bad;
    if (mac && (bad = settings_mac_normalise(mac, n->mac)))
        return xml_error(f, x, "MACAddress '%.40s' %s", mac, bad);
    if (*n->trace_file && n->trace_file[0] != '/')
        return xml_error(f, x, "tracefile '%.200s' is not an absolute path", n->trace_file);
    for (const struct xml_node *k = x->first_child; k && CAP_SUCCEEDED(rc); k = k->next) {
        if (strcmp(k->name, "NAT"))
            return xml_error(f, k, "unknown attachment <%s> in <Adapter> (this build has NAT only)",
                             k->name);
        if (n->attachment == NetworkAttachmentType_NAT)
            return xml_error(f, k, "<NAT> is given twice");
        rc = parse_nat(f, k, n);
    }
    if (CAP_SUCCEEDED(rc) && n->enabled && !n->mac[0])
        return xml_error(f, x, "enabled adapter slot %u has no MACAddress", slot);
    return rc;
}

cap_result settings_net_parse(const char *f, const struct xml_node *net, struct machine_cfg *c)
{
    static const char *const allowed[] = {NULL};
    unsigned seen = 0;
    cap_result rc = xml_check_attrs(f, net, allowed);
    for (const struct xml_node *n = net->first_child; n && CAP_SUCCEEDED(rc); n = n->next) {
        if (strcmp(n->name, "Adapter"))
            return xml_error(f, n, "unknown element <%s> in <Network>", n->name);
        rc = parse_adapter(f, n, c, &seen);
    }
    return rc;
}

static int at_defaults(const struct nic_cfg *n)
{
    return !n->enabled && !n->mac[0] && n->type == NetworkAdapterType_I82540EM && n->cable &&
           n->attachment == NetworkAttachmentType_Null && !n->trace && !*n->trace_file &&
           !n->n_rules;
}

static void format_rule(struct xml_writer *w, const struct cap_nat_rule *r)
{
    xw_indent(w);
    xw_raw(w, "<Forwarding");
    xw_attr(w, "name", r->name);
    xw_printf(w, " proto=\"%d\"", r->udp ? 0 : 1);
    if (r->host_ip[0])
        xw_attr(w, "hostip", r->host_ip);
    xw_printf(w, " hostport=\"%u\"", r->host_port);
    if (r->guest_ip[0])
        xw_attr(w, "guestip", r->guest_ip);
    xw_printf(w, " guestport=\"%u\"", r->guest_port);
    xw_raw(w, "/>\n");
}

static void format_adapter(struct xml_writer *w, unsigned slot, const struct nic_cfg *n)
{
    xw_indent(w);
    xw_printf(w, "<Adapter slot=\"%u\"", slot);
    xw_attr(w, "enabled", n->enabled ? "true" : "false");
    if (n->mac[0])
        xw_attr(w, "MACAddress", n->mac);
    xw_attr(w, "type", settings_nic_type_name(n->type));
    xw_attr(w, "cable", n->cable ? "true" : "false");
    xw_attr(w, "trace", n->trace ? "true" : "false");
    if (*n->trace_file)
        xw_attr(w, "tracefile", n->trace_file);
    if (n->attachment != NetworkAttachmentType_NAT) {
        xw_raw(w, "/>\n");
        return;
    }
    xw_raw(w, ">\n");
    w->depth++;
    xw_indent(w);
    if (!n->n_rules) {
        xw_raw(w, "<NAT/>\n");
    } else {
        xw_raw(w, "<NAT>\n");
        w->depth++;
        for (uint32_t i = 0; i < n->n_rules; i++)
            format_rule(w, &n->rules[i]);
        w->depth--;
        xw_indent(w);
        xw_raw(w, "</NAT>\n");
    }
    w->depth--;
    xw_indent(w);
    xw_raw(w, "</Adapter>\n");
}

void settings_net_format(struct xml_writer *w, const struct machine_cfg *c)
{
    unsigned any = 0;
    for (unsigned i = 0; i < SETTINGS_NIC_SLOTS; i++)
        any |= !at_defaults(&c->nic[i]);
    if (!any)
        return;
    xw_indent(w);
    xw_raw(w, "<Network>\n");
    w->depth++;
    for (unsigned i = 0; i < SETTINGS_NIC_SLOTS; i++)
        if (!at_defaults(&c->nic[i]))
            format_adapter(w, i, &c->nic[i]);
    w->depth--;
    xw_indent(w);
    xw_raw(w, "</Network>\n");
}
