/*
 * capsule/natrule.h - a NAT port forwarding rule in the API's text form:
 * INATEngine's redirects, VBoxManage's --natpfN and controlvm natpfN,
 * IConsole's addNATRedirect:
 *
 *   name,tcp|udp,[hostip],hostport,[guestip],guestport
 *   ssh,tcp,127.0.0.1,2222,,22
 *
 * One parser for every side (the service, the CLI, the VM process), so
 * that they agree on what a rule is.
 */
#ifndef CAPSULE_NATRULE_H
#define CAPSULE_NATRULE_H

#include <stddef.h>

#include <capsule/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CAP_NAT_RULE_NAME_MAX 63u
#define CAP_NAT_RULE_TEXT_MAX 128u /* the longest text form, with its NUL */

struct cap_nat_rule {
    char name[CAP_NAT_RULE_NAME_MAX + 1]; /* 1..63 bytes, no comma, quote or control byte */
    int udp;                              /* else TCP */
    char host_ip[16];   /* a dotted-quad IPv4 address; "" when not given (127.0.0.1) */
    uint16_t host_port; /* 1..65535 */
    char guest_ip[16];  /* "" when not given (the guest's DHCP address) */
    uint16_t guest_port;
};

/* Parses `text` into *out: NULL, or why it is not a rule (a constant
 * string, "has a port that is not a number in 1..65535"). */
const char *cap_nat_rule_parse(const char *text, struct cap_nat_rule *out);
/* Why the fields of r do not make a rule (as cap_nat_rule_parse checks
 * them), or NULL. */
const char *cap_nat_rule_problem(const struct cap_nat_rule *r);
/* The text form of r into buf (CAP_NAT_RULE_TEXT_MAX bytes hold any). */
void cap_nat_rule_format(const struct cap_nat_rule *r, char *buf, size_t size);
/* 1 if s is "" or a dotted-quad IPv4 address (four numbers 0..255). */
int cap_ipv4_text_ok(const char *s);

#ifdef __cplusplus
}
#endif

#endif /* CAPSULE_NATRULE_H */
