/*
 * vmproc_nic.c - capsule-vm's --nic: a network adapter and what its cable
 * is plugged into:
 *
 *   --nic nat[,model=e1000|virtio][,mac=52:54:00:12:34:56][,link=on|off]
 *        [,hostfwd=tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT]...
 *        [,trace=FILE]
 *
 * nat: libslirp's NAT (PDM's "nat" backend): the guest gets 10.0.2.15 by
 * DHCP, the host's loopback is 10.0.2.2, DNS 10.0.2.3. model: the adapter
 * (e1000, also spelt 82540EM as VirtualBox's nictype: the Intel 82540EM,
 * VirtualBox's default and so ours; virtio: virtio-net). hostfwd (up to 16): a host
 * port forwarded to the guest; HOSTADDR defaults to 127.0.0.1 (loopback,
 * as VirtualBox's port forwarding), GUESTADDR to 10.0.2.15. trace: a pcap
 * file of every frame both ways; it must come last and takes the rest of
 * the argument (paths may contain commas).
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/natrule.h>
#include <capsule/types.h>

#include "vmproc.h"

static int bad(FILE *err, const char *spec, const char *fmt, ...) CAP_PRINTF(3, 4);

static int bad(FILE *err, const char *spec, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(err, "capsule-vm: --nic '%s': ", spec);
    vfprintf(err, fmt, ap);
    fputc('\n', err);
    va_end(ap);
    return -1;
}

/* "1-65535" */
static bool parse_port(const char *s, size_t len, uint16_t *out)
{
    if (!len || len > 5)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (!v || v > 65535)
        return false;
    *out = (uint16_t)v;
    return true;
}

/* An IPv4 address (len 0: `def`). */
static bool parse_addr(const char *s, size_t len, uint32_t def, uint32_t *out)
{
    char buf[INET_ADDRSTRLEN];
    struct in_addr a;
    if (!len) {
        *out = def;
        return true;
    }
    if (len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET, buf, &a) != 1)
        return false;
    *out = ntohl(a.s_addr);
    return true;
}

/* "ADDR:PORT" (ADDR may be empty) */
static bool parse_endpoint(const char *s, size_t len, uint32_t def, uint32_t *addr, uint16_t *port)
{
    const char *colon = memchr(s, ':', len);
    return colon && parse_addr(s, (size_t)(colon - s), def, addr) &&
           parse_port(colon + 1, len - (size_t)(colon - s) - 1, port);
}

/* "tcp:[HADDR]:HPORT-[GADDR]:GPORT" */
static bool parse_hostfwd(const char *v, size_t len, struct vmproc_hostfwd *f)
{
    memset(f, 0, sizeof(*f));
    if (len > 4 && !strncmp(v, "tcp:", 4))
        f->udp = false;
    else if (len > 4 && !strncmp(v, "udp:", 4))
        f->udp = true;
    else
        return false;
    v += 4;
    len -= 4;
    const char *dash = memchr(v, '-', len);
    return dash &&
           parse_endpoint(v, (size_t)(dash - v), 0x7f000001u, &f->host_addr, &f->host_port) &&
           parse_endpoint(dash + 1, len - (size_t)(dash - v) - 1, 0, &f->guest_addr,
                          &f->guest_port);
}

static bool is(const char *v, size_t len, const char *word)
{
    return strlen(word) == len && !strncmp(v, word, len);
}

static bool parse_mac(const char *v, size_t len, char out[18])
{
    if (len != 17)
        return false;
    for (size_t i = 0; i < 17; i++) {
        char c = v[i];
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (i % 3 == 2 ? c != ':' : !hex)
            return false;
    }
    memcpy(out, v, 17);
    out[17] = '\0';
    unsigned first = (unsigned)strtoul(out, NULL, 16);
    return !(first & 1); /* not a multicast address */
}

int vmproc_parse_natpf(const char *rule, struct vmproc_hostfwd *f, char name[64], char *why,
                       size_t size)
{
    struct cap_nat_rule r;
    const char *bad = cap_nat_rule_parse(rule, &r);
    memset(f, 0, sizeof(*f));
    if (!bad && (!parse_addr(r.host_ip, strlen(r.host_ip), 0x7f000001u, &f->host_addr) ||
                 !parse_addr(r.guest_ip, strlen(r.guest_ip), 0, &f->guest_addr)))
        bad = "has an address that is not a numeric IPv4 address";
    if (bad) {
        snprintf(why, size, "'%s' %s", rule, bad);
        return -1;
    }
    memcpy(name, r.name, sizeof(r.name));
    f->udp = r.udp;
    f->host_port = r.host_port;
    f->guest_port = r.guest_port;
    return 0;
}

int vmproc_parse_nic(const char *spec, struct vmproc_nic *n, FILE *err)
{
    memset(n, 0, sizeof(*n));
    n->link = true;
    const char *comma = strchr(spec, ',');
    size_t alen = comma ? (size_t)(comma - spec) : strlen(spec);
    if (is(spec, alen, "nat"))
        n->attachment = "nat";
    else if (is(spec, alen, "none") || is(spec, alen, "bridged") || is(spec, alen, "intnet") ||
             is(spec, alen, "hostonly"))
        return bad(err, spec, "attachment '%.*s' is not in this build yet (only nat)", (int)alen,
                   spec);
    else
        return bad(err, spec, "the attachment comes first: nat (not '%.*s')", (int)alen, spec);
    bool seen_model = false, seen_mac = false, seen_link = false;
    const char *p = comma ? comma + 1 : spec + alen;
    if (comma && !*p)
        return bad(err, spec, "a trailing comma");
    while (*p) {
        if (!strncmp(p, "trace=", 6)) {
            n->trace = p + 6;
            if (!*n->trace)
                return bad(err, spec, "trace= names no file");
            break;
        }
        comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (!eq || eq == p)
            return bad(err, spec, "'%.*s' is not key=value", (int)len, p);
        size_t klen = (size_t)(eq - p), vlen = len - klen - 1;
        const char *v = eq + 1;
        if (is(p, klen, "model")) {
            if (seen_model)
                return bad(err, spec, "model= given twice");
            seen_model = true;
            if (is(v, vlen, "virtio"))
                n->model = "virtio";
            else if (is(v, vlen, "e1000") || is(v, vlen, "82540EM"))
                n->model = "e1000";
            else
                return bad(err, spec, "unknown model '%.*s' (e1000, 82540EM, virtio)", (int)vlen,
                           v);
        } else if (is(p, klen, "mac")) {
            if (seen_mac)
                return bad(err, spec, "mac= given twice");
            seen_mac = true;
            if (!parse_mac(v, vlen, n->mac))
                return bad(err, spec, "mac '%.*s' is not a unicast address like 52:54:00:12:34:56",
                           (int)vlen, v);
        } else if (is(p, klen, "link")) {
            if (seen_link)
                return bad(err, spec, "link= given twice");
            seen_link = true;
            if (!is(v, vlen, "on") && !is(v, vlen, "off"))
                return bad(err, spec, "link= is on or off, not '%.*s'", (int)vlen, v);
            n->link = is(v, vlen, "on");
        } else if (is(p, klen, "hostfwd")) {
            if (n->n_fwd == VMPROC_MAX_HOSTFWD)
                return bad(err, spec, "at most %d hostfwd= rules", VMPROC_MAX_HOSTFWD);
            if (!parse_hostfwd(v, vlen, &n->fwd[n->n_fwd]))
                return bad(err, spec,
                           "hostfwd '%.*s' is not tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:"
                           "GUESTPORT (ports 1-65535, IPv4 addresses)",
                           (int)vlen, v);
            for (unsigned i = 0; i < n->n_fwd; i++)
                if (n->fwd[i].udp == n->fwd[n->n_fwd].udp &&
                    n->fwd[i].host_port == n->fwd[n->n_fwd].host_port &&
                    n->fwd[i].host_addr == n->fwd[n->n_fwd].host_addr)
                    return bad(err, spec, "host port %u forwarded twice",
                               (unsigned)n->fwd[i].host_port);
            n->n_fwd++;
        } else {
            return bad(err, spec, "unknown key '%.*s' (model, mac, link, hostfwd, trace)",
                       (int)klen, p);
        }
        p += len + (comma ? 1 : 0);
        if (comma && !*p)
            return bad(err, spec, "a trailing comma");
    }
    if (!n->model)
        n->model = "e1000"; /* VirtualBox's default adapter */
    return 0;
}

int vmproc_add_nic(struct vmproc_opts *o, const char *spec, FILE *err)
{
    struct vmproc_nic n;
    if (vmproc_parse_nic(spec, &n, err))
        return -1;
    if (o->n_nics == VMPROC_MAX_NICS) {
        fprintf(err, "capsule-vm: at most %d --nic options\n", VMPROC_MAX_NICS);
        return -1;
    }
    o->nics[o->n_nics++] = n;
    return 0;
}
