/*
 * plugins/frontends/manage/netargs.c - the values of the CLI's network
 * options (netargs.h).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <capsule/errorinfo.h>

#include "netargs.h"

static cap_result bad(const char *opt, const char *val, const char *why)
{
    return cap_error_set(CAP_E_INVALIDARG, "capsule", NULL, "%s: '%s' %s", opt, val, why);
}

cap_result cli_parse_natpf(const char *opt, const char *text, struct cap_nat_rule *out)
{
    const char *why = cap_nat_rule_parse(text, out);
    if (!why)
        return CAP_OK;
    return cap_error_set(CAP_E_INVALIDARG, "capsule", NULL,
                         "%s: '%s' %s (a rule is \"name,tcp|udp,[hostip],hostport,[guestip],"
                         "guestport\", e.g. \"ssh,tcp,127.0.0.1,2222,,22\")",
                         opt, text, why);
}

cap_result cli_parse_mac(const char *opt, const char *val, char out[13])
{
    size_t k = 0, n = strlen(val);
    if (!strcasecmp(val, "auto")) {
        out[0] = '\0';
        return CAP_OK;
    }
    for (size_t i = 0; i < n; i++) {
        char c = val[i];
        if (c == ':' && n == 17 && i % 3 == 2)
            continue;
        int hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!hex || k == 12)
            return bad(opt, val, "is not auto or 12 hexadecimal digits (e.g. 080027AB12CD)");
        out[k++] = (char)(c >= 'a' ? c - 'a' + 'A' : c);
    }
    out[k] = '\0';
    if (k != 12)
        return bad(opt, val, "is not auto or 12 hexadecimal digits (e.g. 080027AB12CD)");
    unsigned first = (unsigned)((out[1] >= 'A' ? out[1] - 'A' + 10 : out[1] - '0'));
    if (first & 1)
        return bad(opt, val, "is a multicast address (the first byte must be even)");
    return CAP_OK;
}

cap_result cli_parse_nictype(const char *opt, const char *val, NetworkAdapterType *out)
{
    static const char *const vbox[] = {"Am79C970A", "Am79C973", "Am79C960", "82543GC", "82545EM"};
    if (!strcasecmp(val, "82540EM") || !strcasecmp(val, "e1000")) {
        *out = NetworkAdapterType_I82540EM;
        return CAP_OK;
    }
    if (!strcasecmp(val, "virtio")) {
        *out = NetworkAdapterType_Virtio;
        return CAP_OK;
    }
    for (size_t i = 0; i < sizeof(vbox) / sizeof(vbox[0]); i++)
        if (!strcasecmp(val, vbox[i]))
            return bad(opt, val, "is not in this build (it has 82540EM and virtio)");
    return bad(opt, val, "is not an adapter type (82540EM or virtio)");
}

const char *cli_nictype_name(NetworkAdapterType t)
{
    return t == NetworkAdapterType_Virtio ? "virtio" : "82540EM";
}
