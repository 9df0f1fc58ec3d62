/*
 * runtime/objmodel/natrule.c - a NAT port forwarding rule's text form
 * (capsule/natrule.h), shared by the service, the CLI and the VM process
 * through libcapsule-rt. No sockets API: the addresses are checked by hand
 * (the same on every host).
 */
#include <stdio.h>
#include <string.h>

#include <capsule/natrule.h>

CAP_EXPORT int cap_ipv4_text_ok(const char *s)
{
    if (!*s)
        return 1;
    for (int part = 0; part < 4; part++) {
        unsigned v = 0, digits = 0;
        while (*s >= '0' && *s <= '9' && digits < 4) {
            v = v * 10 + (unsigned)(*s++ - '0');
            digits++;
        }
        if (!digits || digits > 3 || v > 255 || *s != (part < 3 ? '.' : '\0'))
            return 0;
        if (part < 3)
            s++;
    }
    return 1;
}

/* A port of len bytes, 1..65535; 0 if it is not one. */
static uint16_t port_of(const char *s, size_t len)
{
    unsigned v = 0;
    if (!len || len > 5)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    return v <= 65535 ? (uint16_t)v : 0;
}

CAP_EXPORT const char *cap_nat_rule_problem(const struct cap_nat_rule *r)
{
    if (!r->name[0])
        return "has no name";
    for (const char *p = r->name; *p; p++)
        if (*p == ',' || *p == '"' || (unsigned char)*p < 0x20 || *p == 0x7f)
            return "has a name holding a comma, a quote or a control character";
    if (!cap_ipv4_text_ok(r->host_ip) || !cap_ipv4_text_ok(r->guest_ip))
        return "has an address that is not a numeric IPv4 address";
    if (!r->host_port || !r->guest_port)
        return "has a port that is not a number in 1..65535";
    return NULL;
}

CAP_EXPORT const char *cap_nat_rule_parse(const char *text, struct cap_nat_rule *out)
{
    const char *f[6];
    size_t len[6];
    unsigned n = 0;
    memset(out, 0, sizeof(*out));
    for (const char *p = text;; p++) {
        const char *c = strchr(p, ',');
        if (n == 6)
            return "is not name,tcp|udp,[hostip],hostport,[guestip],guestport (too many fields)";
        f[n] = p;
        len[n++] = c ? (size_t)(c - p) : strlen(p);
        if (!c)
            break;
        p = c;
    }
    if (n != 6)
        return "is not name,tcp|udp,[hostip],hostport,[guestip],guestport";
    if (len[0] > CAP_NAT_RULE_NAME_MAX)
        return "has a name longer than 63 bytes";
    if (len[2] >= sizeof(out->host_ip) || len[4] >= sizeof(out->guest_ip))
        return "has an address that is not a numeric IPv4 address";
    memcpy(out->name, f[0], len[0]);
    memcpy(out->host_ip, f[2], len[2]);
    memcpy(out->guest_ip, f[4], len[4]);
    if (len[1] == 3 && !strncmp(f[1], "udp", 3))
        out->udp = 1;
    else if (len[1] != 3 || strncmp(f[1], "tcp", 3))
        return "names a protocol other than tcp or udp";
    out->host_port = port_of(f[3], len[3]);
    out->guest_port = port_of(f[5], len[5]);
    return cap_nat_rule_problem(out);
}

CAP_EXPORT void cap_nat_rule_format(const struct cap_nat_rule *r, char *buf, size_t size)
{
    snprintf(buf, size, "%s,%s,%s,%u,%s,%u", r->name, r->udp ? "udp" : "tcp", r->host_ip,
             (unsigned)r->host_port, r->guest_ip, (unsigned)r->guest_port);
}
