/*
 * vmm/pdm/pdm_cfg.c - a device's typed configuration: PDM's copy of the
 * values a machine gives it (pdm_instantiate), the helpers devices read them
 * with (type-checked: a value of another type is an error naming device,
 * key and both types), the check that every key was read (a typo fails
 * construction), and the one parser of configuration text for the edges
 * (capsule-vm's --device, tests).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <capsule/errorinfo.h>

#include "pdm_internal.h"

const char *pdm_cfg_type_name(enum pdm_cfg_type type)
{
    switch (type) {
    case PDM_CFG_INT:
        return "integer";
    case PDM_CFG_BOOL:
        return "boolean";
    case PDM_CFG_STRING:
        return "string";
    case PDM_CFG_BYTES:
        return "bytes";
    }
    return "unknown type";
}

/* ---- the copy PDM keeps ------------------------------------------------ */

static cap_result copy_value(struct pdm_cfg_value *dst, const struct pdm_cfg_value *src,
                             const char *who, size_t i)
{
    if (!src->key || !*src->key)
        return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                             "%s: config entry %zu has no key", who, i);
    *dst = (struct pdm_cfg_value){.type = src->type};
    dst->key = strdup(src->key);
    if (!dst->key)
        return cap_error_set(CAP_E_OUTOFMEMORY, PDM_COMPONENT, NULL, "out of memory");
    switch (src->type) {
    case PDM_CFG_INT:
        dst->u.i = src->u.i;
        return CAP_OK;
    case PDM_CFG_BOOL:
        dst->u.b = src->u.b;
        return CAP_OK;
    case PDM_CFG_STRING:
        if (!src->u.s)
            return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                                 "%s: config key '%s': a NULL string", who, src->key);
        dst->u.s = strdup(src->u.s);
        return dst->u.s ? CAP_OK
                        : cap_error_set(CAP_E_OUTOFMEMORY, PDM_COMPONENT, NULL, "out of memory");
    case PDM_CFG_BYTES: {
        size_t n = src->u.bytes.len;
        if (n && !src->u.bytes.data)
            return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                                 "%s: config key '%s': NULL bytes", who, src->key);
        void *p = malloc(n ? n : 1);
        if (!p)
            return cap_error_set(CAP_E_OUTOFMEMORY, PDM_COMPONENT, NULL, "out of memory");
        if (n)
            memcpy(p, src->u.bytes.data, n);
        dst->u.bytes.data = p;
        dst->u.bytes.len = n;
        return CAP_OK;
    }
    }
    return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                         "%s: config key '%s': unknown value type %d", who, src->key,
                         (int)src->type);
}

cap_result pdm_cfg_init(struct pdm_cfg *cfg, const struct pdm_dev_config *dc, const char *who)
{
    size_t n = dc->n_values;
    if (n && !dc->values)
        return cap_error_set(CAP_E_POINTER, PDM_COMPONENT, NULL, "%s: NULL config list", who);
    cfg->v = calloc(n + 1, sizeof(*cfg->v));
    cfg->used = calloc(n + 1, sizeof(bool));
    if (!cfg->v || !cfg->used)
        return cap_error_set(CAP_E_OUTOFMEMORY, PDM_COMPONENT, NULL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const struct pdm_cfg_value *src = &dc->values[i];
        for (size_t j = 0; src->key && j < i; j++)
            if (strcmp(cfg->v[j].key, src->key) == 0)
                return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                                     "%s: config key '%s' given twice", who, src->key);
        cfg->n = i + 1; /* pdm_cfg_free frees a half-copied entry too */
        cap_result rc = copy_value(&cfg->v[i], src, who, i);
        if (CAP_FAILED(rc))
            return rc;
    }
    return CAP_OK;
}

void pdm_cfg_free(struct pdm_cfg *cfg)
{
    for (size_t i = 0; i < cfg->n; i++) {
        free((char *)cfg->v[i].key);
        if (cfg->v[i].type == PDM_CFG_STRING)
            free((char *)cfg->v[i].u.s);
        else if (cfg->v[i].type == PDM_CFG_BYTES)
            free((void *)cfg->v[i].u.bytes.data);
    }
    free(cfg->v);
    free(cfg->used);
    memset(cfg, 0, sizeof(*cfg));
}

cap_result pdm_cfg_check_unused(const struct pdm_cfg *cfg, const char *who)
{
    for (size_t i = 0; i < cfg->n; i++)
        if (!cfg->used[i])
            return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                                 "%s: unknown config key '%s'", who, cfg->v[i].key);
    return CAP_OK;
}

/* ---- what devices call ------------------------------------------------- */

/* Formats a value for a message ("0x3f8 (1016)", "'text'", "4 bytes"). */
static void describe(const struct pdm_cfg_value *v, char *buf, size_t len)
{
    switch (v->type) {
    case PDM_CFG_INT:
        snprintf(buf, len, "%" PRId64, v->u.i);
        break;
    case PDM_CFG_BOOL:
        snprintf(buf, len, "%s", v->u.b ? "true" : "false");
        break;
    case PDM_CFG_STRING:
        snprintf(buf, len, "'%s'", v->u.s);
        break;
    case PDM_CFG_BYTES:
        snprintf(buf, len, "%zu bytes", v->u.bytes.len);
        break;
    }
}

/* The value of `key` (marked used), or NULL. A value of another type than
 * `want` is an error (*rc). */
static const struct pdm_cfg_value *lookup(struct pdm_dev *dev, const struct pdm_cfg *ccfg,
                                          const char *key, enum pdm_cfg_type want, cap_result *rc)
{
    struct pdm_cfg *cfg = (struct pdm_cfg *)ccfg; /* `used` is PDM's bookkeeping */
    *rc = CAP_OK;
    for (size_t i = 0; cfg && i < cfg->n; i++) {
        const struct pdm_cfg_value *v = &cfg->v[i];
        if (strcmp(v->key, key) != 0)
            continue;
        cfg->used[i] = true;
        if (v->type == want)
            return v;
        char d[96];
        describe(v, d, sizeof(d));
        *rc = cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                            "%s: config key '%s': expected %s%s, got the %s %s%s", dev->name, key,
                            want == PDM_CFG_INT     ? "an "
                            : want == PDM_CFG_BYTES ? ""
                                                    : "a ",
                            pdm_cfg_type_name(want), pdm_cfg_type_name(v->type), d,
                            want == PDM_CFG_STRING && v->type != PDM_CFG_BYTES
                                ? " (on the command line: key=string:VALUE)"
                                : "");
        return NULL;
    }
    return NULL;
}

cap_result pdm_hlp_cfg_string(struct pdm_dev *dev, const struct pdm_cfg *cfg, const char *key,
                              const char *def, const char **out)
{
    cap_result rc;
    const struct pdm_cfg_value *v = lookup(dev, cfg, key, PDM_CFG_STRING, &rc);
    *out = v ? v->u.s : def;
    return rc;
}

cap_result pdm_hlp_cfg_int(struct pdm_dev *dev, const struct pdm_cfg *cfg, const char *key,
                           int64_t def, int64_t min, int64_t max, int64_t *out)
{
    cap_result rc;
    const struct pdm_cfg_value *v = lookup(dev, cfg, key, PDM_CFG_INT, &rc);
    *out = def;
    if (!v)
        return rc;
    if (v->u.i < min || v->u.i > max)
        return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                             "%s: config key '%s': %" PRId64 " (%#" PRIx64
                             ") is not an integer in [%" PRId64 ", %" PRId64 "]",
                             dev->name, key, v->u.i, (uint64_t)v->u.i, min, max);
    *out = v->u.i;
    return CAP_OK;
}

cap_result pdm_hlp_cfg_bool(struct pdm_dev *dev, const struct pdm_cfg *cfg, const char *key,
                            bool def, bool *out)
{
    cap_result rc;
    const struct pdm_cfg_value *v = lookup(dev, cfg, key, PDM_CFG_BOOL, &rc);
    *out = v ? v->u.b : def;
    return rc;
}

cap_result pdm_hlp_cfg_bytes(struct pdm_dev *dev, const struct pdm_cfg *cfg, const char *key,
                             const void **data, size_t *len)
{
    cap_result rc;
    const struct pdm_cfg_value *v = lookup(dev, cfg, key, PDM_CFG_BYTES, &rc);
    *data = v ? v->u.bytes.data : NULL;
    *len = v ? v->u.bytes.len : 0;
    return rc;
}

/* ---- text at the edges --------------------------------------------------- */

static bool parse_int(const char *t, int64_t *out)
{
    if (!*t || isspace((unsigned char)t[0]) || t[0] == '+')
        return false; /* strtoll would skip the space and take the sign */
    char *end = NULL;
    errno = 0;
    long long x = strtoll(t, &end, 0);
    if (errno || end == t || *end)
        return false;
    *out = x;
    return true;
}

static int parse_bool(const char *t)
{
    static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(t, yes[i]) == 0)
            return 1;
        if (strcasecmp(t, no[i]) == 0)
            return 0;
    }
    return -1;
}

static int hex_digit(char c)
{
    static const char digits[] = "0123456789abcdef";
    const char *d = c ? strchr(digits, tolower((unsigned char)c)) : NULL;
    return d ? (int)(d - digits) : -1;
}

static cap_result bad_text(const char *who, const char *key, const char *text, const char *what)
{
    return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL, "%s: config key '%s': '%s' %s", who,
                         key, text, what);
}

cap_result pdm_cfg_parse(const char *who, const char *key, char *text, struct pdm_cfg_value *out)
{
    if (!who || !key || !text || !out)
        return cap_error_set(CAP_E_POINTER, PDM_COMPONENT, NULL, "pdm_cfg_parse: NULL argument");
    *out = (struct pdm_cfg_value){.key = key, .type = PDM_CFG_STRING, .u.s = text};
    int b;
    if (strncmp(text, "string:", 7) == 0) {
        out->u.s = text + 7;
    } else if (strncmp(text, "integer:", 8) == 0) {
        out->type = PDM_CFG_INT;
        if (!parse_int(text + 8, &out->u.i))
            return bad_text(who, key, text, "is not an integer (decimal, 0x hex or 0 octal)");
    } else if (strncmp(text, "bool:", 5) == 0) {
        out->type = PDM_CFG_BOOL;
        if ((b = parse_bool(text + 5)) < 0)
            return bad_text(who, key, text, "is not a boolean (true/false, yes/no, on/off)");
        out->u.b = b;
    } else if (strncmp(text, "bytes:", 6) == 0) {
        const char *h = text + 6;
        size_t n = strlen(h);
        if (n % 2)
            return bad_text(who, key, text, "is not bytes (an even number of hex digits)");
        uint8_t *dst = (uint8_t *)text; /* decoded in place: never overtakes the reader */
        for (size_t i = 0; i < n / 2; i++) {
            int hi = hex_digit(h[2 * i]), lo = hex_digit(h[2 * i + 1]);
            if (hi < 0 || lo < 0) {
                char pos[64];
                snprintf(pos, sizeof(pos), "is not bytes (no hex digits at offset %zu)", 2 * i);
                return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                                     "%s: config key '%s': bytes value %s", who, key, pos);
            }
            dst[i] = (uint8_t)(hi << 4 | lo);
        }
        out->type = PDM_CFG_BYTES;
        out->u.bytes.data = dst;
        out->u.bytes.len = n / 2;
    } else if (parse_int(text, &out->u.i)) {
        out->type = PDM_CFG_INT;
    } else if ((b = parse_bool(text)) >= 0) {
        out->type = PDM_CFG_BOOL;
        out->u.b = b;
    }
    return CAP_OK;
}
