/*
 * vmm/ssm/ssm_fields.c - the fields of a unit when reading: the FLDS
 * record checked and indexed by name at open, and the typed getters with
 * their defaults and width conversions (the compatibility rules of ssm.h).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "ssm_internal.h"

static const char *const type_names[] = {
    [SSM_U8] = "u8",   [SSM_U16] = "u16",   [SSM_U32] = "u32",     [SSM_U64] = "u64",
    [SSM_I64] = "i64", [SSM_BOOL] = "bool", [SSM_BYTES] = "bytes", [SSM_STRING] = "string",
};

static int cmp_name(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

static int cmp_field(const void *a, const void *b)
{
    const struct ssm_field *x = a, *y = b;
    return cmp_name(x->name, x->name_len, y->name, y->name_len);
}

/* One field at p[0..left): its length, 0 if malformed (*why says how). */
static size_t field_len(const uint8_t *p, size_t left, const char **why)
{
    if (left < 2 || left - 2 < p[1]) {
        *why = "field header runs past the record";
        return 0;
    }
    if (p[0] < SSM_U8 || p[0] > SSM_STRING) {
        *why = "unknown field type";
        return 0;
    }
    if (!ssm_name_ok((const char *)p + 2, p[1])) {
        *why = "bad field name";
        return 0;
    }
    size_t h = 2u + p[1];
    bool var = p[0] == SSM_BYTES || p[0] == SSM_STRING;
    if (left - h < (var ? 4u : 1u) || left - h < ssm_value_len(p[0], p + h)) {
        *why = "field value runs past the record";
        return 0;
    }
    if (p[0] == SSM_BOOL && p[h] > 1) {
        *why = "bool other than 0 or 1";
        return 0;
    }
    if (p[0] == SSM_STRING && memchr(p + h + 4, 0, ssm_rd32(p + h))) {
        *why = "string with a NUL";
        return 0;
    }
    return h + ssm_value_len(p[0], p + h);
}

cap_result ssm_parse_fields(struct ssm_unit *u, uint64_t off, uint32_t len)
{
    const uint8_t *d = u->data;
    size_t n = 0;
    for (size_t i = 0; i < len; n++) {
        const char *why = NULL;
        size_t fl = field_len(d + i, len - i, &why);
        if (!fl)
            return ssm_corrupt(u, off + i, "%s", why);
        i += fl;
        if (n == SSM_FIELD_COUNT_MAX)
            return ssm_corrupt(u, off + i, "more than %u fields", SSM_FIELD_COUNT_MAX);
    }
    u->fields = calloc(n ? n : 1, sizeof *u->fields);
    if (!u->fields)
        return cap_error_set(CAP_E_OUTOFMEMORY, VMM_COMPONENT, NULL, "out of memory");
    for (size_t i = 0, k = 0; k < n; k++) {
        struct ssm_field *f = &u->fields[k];
        const uint8_t *v = d + i + 2 + d[i + 1];
        f->type = d[i];
        f->name_len = d[i + 1];
        f->name = (const char *)d + i + 2;
        switch (f->type) {
        case SSM_U8:
        case SSM_BOOL:
            f->value = v[0];
            break;
        case SSM_U16:
            f->value = ssm_rd16(v);
            break;
        case SSM_U32:
            f->value = ssm_rd32(v);
            break;
        case SSM_U64:
        case SSM_I64:
            f->value = ssm_rd64(v);
            break;
        default:
            f->len = ssm_rd32(v);
            f->data = v + 4;
        }
        i += 2u + d[i + 1] + ssm_value_len(f->type, v);
    }
    u->nfields = n;
    qsort(u->fields, n, sizeof *u->fields, cmp_field);
    for (size_t k = 1; k < n; k++)
        if (!cmp_field(&u->fields[k - 1], &u->fields[k]))
            return ssm_corrupt(u, off, "field '%.*s' twice", u->fields[k].name_len,
                               u->fields[k].name);
    return CAP_OK;
}

static const struct ssm_field *find(const struct ssm_unit *u, const char *name)
{
    size_t nl = strlen(name), lo = 0, hi = u->nfields;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_name(name, nl, u->fields[mid].name, u->fields[mid].name_len);
        if (!c)
            return &u->fields[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static cap_result field_error(const struct ssm_unit *u, const char *field, const char *fmt, ...)
    CAP_PRINTF(3, 4);

static cap_result field_error(const struct ssm_unit *u, const char *field, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cap_error_set(VMM_E_SSM_FIELD, VMM_COMPONENT, NULL,
                         "saved state: unit '%s' %u: field '%s' %s", u->name, u->info.instance,
                         field, msg);
}

cap_result ssm_find_unit(struct ssm_reader *r, const char *name, uint32_t instance,
                         struct ssm_unit **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    if (!r || !name)
        return CAP_E_POINTER;
    for (size_t i = 0; i < r->nunits; i++) {
        struct ssm_unit *u = &r->units[i];
        if (u->info.kind == SSM_UNIT_FIELDS && u->info.instance == instance &&
            strcmp(u->name, name) == 0) {
            u->info.used = true;
            *out = u;
            return CAP_OK;
        }
    }
    return cap_error_set(VMM_E_SSM_NOT_FOUND, VMM_COMPONENT, NULL,
                         "saved state: no unit '%s' %u in the stream", name, instance);
}

uint32_t ssm_unit_version(const struct ssm_unit *u)
{
    return u ? u->info.version : 0;
}

cap_result ssm_unit_check_version(const struct ssm_unit *u, uint32_t min, uint32_t max)
{
    if (!u)
        return CAP_E_POINTER;
    if (u->info.version >= min && u->info.version <= max)
        return CAP_OK;
    return cap_error_set(VMM_E_SSM_VERSION, VMM_COMPONENT, NULL,
                         "saved state: unit '%s' %u has version %u, this build reads %u..%u",
                         u->name, u->info.instance, u->info.version, min, max);
}

bool ssm_has_field(const struct ssm_unit *u, const char *field)
{
    return u && field && find(u, field);
}

/* An integer field as unsigned up to max (or as i64): *found false when
 * missing. */
static cap_result get_int(const struct ssm_unit *u, const char *field, enum ssm_type want,
                          uint64_t max, uint64_t *v, bool *found)
{
    *found = false;
    if (!u || !field)
        return CAP_E_POINTER;
    const struct ssm_field *f = find(u, field);
    if (!f)
        return CAP_OK;
    if (f->type == SSM_BYTES || f->type == SSM_STRING)
        return field_error(u, field, "is %s, asked for as %s", type_names[f->type],
                           type_names[want]);
    bool negative = f->type == SSM_I64 && (int64_t)f->value < 0;
    if (want == SSM_I64 ? !negative && f->value > INT64_MAX : negative || f->value > max) {
        if (negative)
            return field_error(u, field, "is %s %" PRId64 ", which does not fit %s",
                               type_names[f->type], (int64_t)f->value, type_names[want]);
        return field_error(u, field, "is %s %" PRIu64 ", which does not fit %s",
                           type_names[f->type], f->value, type_names[want]);
    }
    *v = f->value;
    *found = true;
    return CAP_OK;
}

#define GETTER(fn, T, type, max)                                                                   \
    cap_result fn(struct ssm_unit *u, const char *field, T def, T *out)                            \
    {                                                                                              \
        uint64_t v = 0;                                                                            \
        bool found;                                                                                \
        if (!out)                                                                                  \
            return CAP_E_POINTER;                                                                  \
        cap_result rc = get_int(u, field, type, max, &v, &found);                                  \
        if (CAP_SUCCEEDED(rc))                                                                     \
            *out = found ? (T)v : def;                                                             \
        return rc;                                                                                 \
    }

GETTER(ssm_get_u8, uint8_t, SSM_U8, UINT8_MAX)
GETTER(ssm_get_u16, uint16_t, SSM_U16, UINT16_MAX)
GETTER(ssm_get_u32, uint32_t, SSM_U32, UINT32_MAX)
GETTER(ssm_get_u64, uint64_t, SSM_U64, UINT64_MAX)
GETTER(ssm_get_i64, int64_t, SSM_I64, INT64_MAX)
GETTER(ssm_get_bool, bool, SSM_BOOL, 1)

cap_result ssm_get_bytes_ref(struct ssm_unit *u, const char *field, const void **data, size_t *len)
{
    if (!u || !field || !data || !len)
        return CAP_E_POINTER;
    *data = NULL;
    *len = 0;
    const struct ssm_field *f = find(u, field);
    if (!f)
        return CAP_OK;
    if (f->type != SSM_BYTES)
        return field_error(u, field, "is %s, asked for as bytes", type_names[f->type]);
    *data = f->data;
    *len = f->len;
    return CAP_OK;
}

cap_result ssm_get_bytes(struct ssm_unit *u, const char *field, void *buf, size_t len)
{
    const void *d;
    size_t n;
    if (len && !buf)
        return CAP_E_POINTER;
    cap_result rc = ssm_get_bytes_ref(u, field, &d, &n);
    if (CAP_FAILED(rc) || !d)
        return rc;
    if (n != len)
        return field_error(u, field, "holds %zu bytes, this build reads %zu", n, len);
    memcpy(buf, d, n);
    return CAP_OK;
}

cap_result ssm_get_string(struct ssm_unit *u, const char *field, const char *def, char *buf,
                          size_t size)
{
    if (!u || !field || !buf || !size)
        return CAP_E_POINTER;
    const struct ssm_field *f = find(u, field);
    if (!f) {
        snprintf(buf, size, "%s", def ? def : "");
        return CAP_OK;
    }
    if (f->type != SSM_STRING)
        return field_error(u, field, "is %s, asked for as string", type_names[f->type]);
    if (f->len >= size)
        return field_error(u, field, "holds %u bytes, more than the %zu the reader takes", f->len,
                           size - 1);
    memcpy(buf, f->data, f->len);
    buf[f->len] = 0;
    return CAP_OK;
}
