/*
 * service/settings_vrde.c - a machine's remote display server settings
 * (IVRDEServer; VirtualBox's VRDE, served as VNC by the VM process): the
 * properties, their checks, and their form in the machine file, which is
 * VirtualBox's:
 *
 *   <RemoteDisplay enabled="true">              (inside <Hardware>)
 *     <VRDEProperties>
 *       <Property name="TCP/Ports" value="5901"/>
 *       <Property name="TCP/Address" value="127.0.0.1"/>
 *       <Property name="VNCPassword" value="secret"/>
 *     </VRDEProperties>
 *   </RemoteDisplay>
 *
 * The file is the user's only (mode 0600, as everything under
 * CAPSULE_HOME), as VirtualBox keeps VNCPassword in its .vbox file. A
 * property left at its default is not written; <RemoteDisplay> is absent
 * while everything is at its default.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>

#include "settings.h"
#include "settings_xml.h"

#define IFACE "IVRDEServer"

const char *const settings_vrde_keys[] = {"TCP/Ports", "TCP/Address", "VNCPassword", NULL};

/* The property's slot in c (in settings_vrde_keys' order), or NULL. */
static char **slot(struct vrde_cfg *c, const char *key)
{
    char **slots[] = {&c->ports, &c->address, &c->password};
    for (unsigned i = 0; settings_vrde_keys[i]; i++)
        if (key && !strcmp(key, settings_vrde_keys[i]))
            return slots[i];
    return NULL;
}

cap_result settings_vrde_init(struct vrde_cfg *c)
{
    memset(c, 0, sizeof(*c));
    c->ports = cap_str_dup(SETTINGS_VRDE_PORT_DEFAULT);
    c->address = cap_str_dup("");
    c->password = cap_str_dup("");
    if (c->ports && c->address && c->password)
        return CAP_OK;
    settings_vrde_clear(c);
    return CAP_E_OUTOFMEMORY;
}

void settings_vrde_clear(struct vrde_cfg *c)
{
    cap_str_free(c->ports);
    cap_str_free(c->address);
    cap_str_free(c->password);
    memset(c, 0, sizeof(*c));
}

cap_result settings_vrde_copy(struct vrde_cfg *dst, const struct vrde_cfg *src)
{
    dst->enabled = src->enabled;
    dst->ports = cap_str_dup(src->ports);
    dst->address = cap_str_dup(src->address);
    dst->password = cap_str_dup(src->password);
    return dst->ports && dst->address && dst->password ? CAP_OK : CAP_E_OUTOFMEMORY;
}

const char *settings_vrde_get(const struct vrde_cfg *c, const char *key)
{
    char **s = slot((struct vrde_cfg *)c, key);
    return s ? *s : NULL;
}

int settings_vrde_port(const struct vrde_cfg *c)
{
    char *end;
    errno = 0;
    long v = strtol(c->ports, &end, 10);
    return errno || !*c->ports || *end || v < 0 || v > 65535 ? -1 : (int)v;
}

/* Why `value` is not a good value of `key` (NULL: it is). */
static const char *check(const char *key, const char *value, char *why, size_t len)
{
    if (!settings_text_ok(value) || strpbrk(value, "\r\n\t"))
        return "is not text on one line";
    if (!strcmp(key, "TCP/Ports")) {
        char *end;
        errno = 0;
        long v = strtol(value, &end, 10);
        if (strpbrk(value, ",-"))
            return "is a list or range of ports: this build takes one port (0: a free one)";
        if (errno || *value < '0' || *value > '9' || *end || v < 0 || v > 65535)
            return "is not a port number in 0..65535 (0: a free one)";
    } else if (!strcmp(key, "TCP/Address")) {
        struct in_addr a;
        if (*value && inet_pton(AF_INET, value, &a) != 1)
            return "is not a numeric IPv4 address (empty: 127.0.0.1)";
    } else if (!strcmp(key, "VNCPassword")) {
        if (strlen(value) > SETTINGS_VRDE_PASSWORD_MAX) {
            snprintf(why, len, "is longer than %u bytes", SETTINGS_VRDE_PASSWORD_MAX);
            return why;
        }
    }
    return NULL;
}

cap_result settings_vrde_set(struct vrde_cfg *c, const char *key, const char *value)
{
    char why[64];
    char **s = slot(c, key);
    if (!s)
        return cap_error_set(CAP_E_INVALIDARG, SETTINGS_COMPONENT, IFACE,
                             "unknown VRDE property '%s' (known: TCP/Ports, TCP/Address, "
                             "VNCPassword)",
                             key ? key : "");
    if (!value || !*value)
        value = !strcmp(key, "TCP/Ports") ? SETTINGS_VRDE_PORT_DEFAULT : "";
    const char *bad = check(key, value, why, sizeof(why));
    if (bad)
        return cap_error_set(CAP_E_INVALIDARG, SETTINGS_COMPONENT, IFACE, "%s '%s' %s", key,
                             !strcmp(key, "VNCPassword") ? "(the value)" : value, bad);
    char *copy = cap_str_dup(value);
    if (!copy)
        return cap_error_set(CAP_E_OUTOFMEMORY, SETTINGS_COMPONENT, NULL, "out of memory");
    cap_str_free(*s);
    *s = copy;
    return CAP_OK;
}

static cap_result parse_props(const char *f, const struct xml_node *props, struct vrde_cfg *c)
{
    static const char *const allowed[] = {"name", "value", NULL};
    char why[64];
    cap_result rc = xml_check_attrs(f, props, allowed + 2);
    for (const struct xml_node *n = props->first_child; n && CAP_SUCCEEDED(rc); n = n->next) {
        if (strcmp(n->name, "Property"))
            return xml_error(f, n, "unknown element <%s> in <VRDEProperties>", n->name);
        if (CAP_FAILED(rc = xml_check_attrs(f, n, allowed)))
            return rc;
        const char *name = xml_attr(n, "name"), *value = xml_attr(n, "value");
        char **s = slot(c, name);
        if (!s)
            return xml_error(f, n, "unknown VRDE property '%.80s'", name ? name : "");
        if (!value)
            return xml_error(f, n, "<Property> lacks attribute 'value'");
        const char *bad = check(name, value, why, sizeof(why));
        if (bad)
            return xml_error(f, n, "VRDE property %s %s", name, bad);
        rc = xml_get_str(f, n, "value", 1, s);
    }
    return rc;
}

cap_result settings_vrde_parse(const char *f, const struct xml_node *rd, struct vrde_cfg *c)
{
    static const char *const allowed[] = {"enabled", "authType", "authTimeout", NULL};
    cap_result rc = xml_check_attrs(f, rd, allowed);
    if (CAP_SUCCEEDED(rc))
        rc = xml_get_bool(f, rd, "enabled", &c->enabled);
    for (const struct xml_node *n = rd->first_child; n && CAP_SUCCEEDED(rc); n = n->next) {
        if (strcmp(n->name, "VRDEProperties"))
            return xml_error(f, n, "unknown element <%s> in <RemoteDisplay>", n->name);
        rc = parse_props(f, n, c);
    }
    return rc;
}

void settings_vrde_format(struct xml_writer *w, const struct vrde_cfg *c)
{
    const char *values[] = {c->ports, c->address, c->password};
    const char *defaults[] = {SETTINGS_VRDE_PORT_DEFAULT, "", ""};
    int props = 0;
    for (unsigned i = 0; settings_vrde_keys[i]; i++)
        props |= strcmp(values[i], defaults[i]) != 0;
    if (!c->enabled && !props)
        return;
    xw_indent(w);
    xw_raw(w, "<RemoteDisplay");
    xw_attr(w, "enabled", c->enabled ? "true" : "false");
    if (!props) {
        xw_raw(w, "/>\n");
        return;
    }
    xw_raw(w, ">\n");
    w->depth++;
    xw_indent(w);
    xw_raw(w, "<VRDEProperties>\n");
    w->depth++;
    for (unsigned i = 0; settings_vrde_keys[i]; i++) {
        if (!strcmp(values[i], defaults[i]))
            continue;
        xw_indent(w);
        xw_raw(w, "<Property");
        xw_attr(w, "name", settings_vrde_keys[i]);
        xw_attr(w, "value", values[i]);
        xw_raw(w, "/>\n");
    }
    w->depth--;
    xw_indent(w);
    xw_raw(w, "</VRDEProperties>\n");
    w->depth--;
    xw_indent(w);
    xw_raw(w, "</RemoteDisplay>\n");
}
