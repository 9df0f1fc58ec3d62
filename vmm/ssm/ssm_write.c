/*
 * vmm/ssm/ssm_write.c - writing a saved-state stream (format in ssm.h).
 *
 * The writer appends records to PATH.tmp through a 1 MiB buffer, keeping
 * two running CRC32Cs: the file's (for the trailer) and the open unit's
 * (for its UEND). A fields unit is built in memory and written as one FLDS
 * record at ssm_end_unit; RAM is written chunk by chunk (ssm_ram.c) as it
 * is read. Errors are sticky in w->rc, so callers may chain puts.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <capsule/errorinfo.h>

#include "ssm_write.h"

#define OUT_BUF (1u << 20)

static cap_result fail(struct ssm_writer *w, cap_result rc, const char *fmt, ...) CAP_PRINTF(3, 4);

static cap_result fail(struct ssm_writer *w, cap_result rc, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (w && CAP_SUCCEEDED(w->rc))
        w->rc = rc;
    return cap_error_set(rc, VMM_COMPONENT, NULL, "saved state %s: %s", w ? w->path : "?", msg);
}

/* The sticky error again (its error info was set when it happened). */
static cap_result sticky(struct ssm_writer *w)
{
    return w->rc;
}

static cap_result write_all(struct ssm_writer *w, const void *p, size_t len)
{
    const uint8_t *b = p;
    while (len) {
        ssize_t n = write(w->fd, b, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return fail(w, CAP_E_IO, "write: %s", n < 0 ? strerror(errno) : "no progress");
        b += n;
        len -= (size_t)n;
    }
    return CAP_OK;
}

static cap_result flush(struct ssm_writer *w)
{
    cap_result rc = w->outlen ? write_all(w, w->out, w->outlen) : CAP_OK;
    w->outlen = 0;
    return rc;
}

cap_result ssm_emit(struct ssm_writer *w, const void *p, size_t len)
{
    if (CAP_FAILED(w->rc))
        return w->rc;
    w->file_crc = ssm_crc32c(w->file_crc, p, len);
    w->unit_crc = ssm_crc32c(w->unit_crc, p, len);
    w->off += len;
    if (w->outlen + len > OUT_BUF) {
        cap_result rc = flush(w);
        if (CAP_FAILED(rc))
            return rc;
        if (len >= OUT_BUF)
            return write_all(w, p, len);
    }
    memcpy(w->out + w->outlen, p, len);
    w->outlen += len;
    return CAP_OK;
}

cap_result ssm_emit_rec(struct ssm_writer *w, uint32_t tag, const void *payload, size_t len)
{
    uint8_t h[SSM_REC_HDR];
    ssm_le32(h, tag);
    ssm_le32(h + 4, (uint32_t)len);
    cap_result rc = ssm_emit(w, h, sizeof h);
    return CAP_SUCCEEDED(rc) && len ? ssm_emit(w, payload, len) : rc;
}

cap_result ssm_writer_create(const char *path, const char *creator, struct ssm_writer **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    if (!path || !creator)
        return CAP_E_POINTER;
    struct ssm_writer *w = calloc(1, sizeof *w);
    if (w)
        w->fd = -1;
    if (!w || !(w->path = strdup(path)) || !(w->out = malloc(OUT_BUF)) ||
        asprintf(&w->tmp, "%s.tmp", path) < 0) {
        if (w)
            w->tmp = NULL; /* asprintf leaves it undefined */
        ssm_writer_abort(w);
        return cap_error_set(CAP_E_OUTOFMEMORY, VMM_COMPONENT, NULL, "saved state: out of memory");
    }
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (w->fd < 0) {
        cap_result rc = fail(w, CAP_E_IO, "cannot create %s: %s", w->tmp, strerror(errno));
        free(w->tmp);
        w->tmp = NULL; /* nothing of ours to remove */
        ssm_writer_abort(w);
        return rc;
    }
    uint8_t h[SSM_HEADER_LEN] = {0};
    memcpy(h, SSM_MAGIC, 8);
    ssm_le32(h + 8, SSM_STREAM_VERSION);
    ssm_le32(h + 12, 0);
    size_t cl = strnlen(creator, SSM_CREATOR_MAX - 1);
    memcpy(h + 16, creator, cl);
    ssm_le32(h + 60, ssm_crc32c(0, h, 60));
    cap_result rc = ssm_emit(w, h, sizeof h);
    if (CAP_FAILED(rc)) {
        ssm_writer_abort(w);
        return rc;
    }
    *out = w;
    return CAP_OK;
}

/* Refuses a second unit of the same name and instance. */
static cap_result claim(struct ssm_writer *w, const char *name, uint32_t instance)
{
    for (size_t i = 0; i < w->nseen; i++)
        if (w->seen[i].instance == instance && strcmp(w->seen[i].name, name) == 0)
            return fail(w, CAP_E_INVALIDARG, "unit '%s' %u written twice", name, instance);
    if (w->nseen == SSM_UNITS_MAX)
        return fail(w, CAP_E_INVALIDARG, "more than %u units", SSM_UNITS_MAX);
    if (w->nseen % 16 == 0) {
        void *p = realloc(w->seen, (w->nseen + 16) * sizeof *w->seen);
        if (!p)
            return fail(w, CAP_E_OUTOFMEMORY, "out of memory");
        w->seen = p;
    }
    snprintf(w->seen[w->nseen].name, SSM_NAME_MAX, "%s", name);
    w->seen[w->nseen++].instance = instance;
    return CAP_OK;
}

cap_result ssm_begin_unit_rec(struct ssm_writer *w, const char *name, uint32_t instance,
                              uint32_t version, enum ssm_unit_kind kind, uint64_t ram_size)
{
    if (CAP_FAILED(w->rc))
        return sticky(w);
    size_t nl = strlen(name);
    if (w->in_unit)
        return fail(w, CAP_E_UNEXPECTED, "unit '%s' begun while '%s' is open", name, w->unit_name);
    if (!ssm_name_ok(name, nl))
        return fail(w, CAP_E_INVALIDARG, "bad unit name '%.80s'", name);
    cap_result rc = claim(w, name, instance);
    if (CAP_FAILED(rc))
        return rc;
    uint8_t p[SSM_UNIT_FIXED + SSM_NAME_MAX] = {0};
    p[0] = (uint8_t)kind;
    p[1] = (uint8_t)nl;
    ssm_le32(p + 4, instance);
    ssm_le32(p + 8, version);
    ssm_le64(p + 12, ram_size);
    memcpy(p + SSM_UNIT_FIXED, name, nl);
    w->unit_crc = 0;
    w->in_unit = true;
    snprintf(w->unit_name, sizeof w->unit_name, "%s", name);
    w->nunits++;
    return ssm_emit_rec(w, SSM_TAG_UNIT, p, SSM_UNIT_FIXED + nl);
}

cap_result ssm_end_unit_rec(struct ssm_writer *w)
{
    uint8_t crc[4];
    ssm_le32(crc, w->unit_crc);
    w->in_unit = false;
    return ssm_emit_rec(w, SSM_TAG_UEND, crc, sizeof crc);
}

cap_result ssm_begin_unit(struct ssm_writer *w, const char *name, uint32_t instance,
                          uint32_t version)
{
    if (!w || !name)
        return CAP_E_POINTER;
    cap_result rc = ssm_begin_unit_rec(w, name, instance, version, SSM_UNIT_FIELDS, 0);
    w->len = 0;
    w->nfields = 0;
    w->fields_open = CAP_SUCCEEDED(rc);
    return rc;
}

static cap_result reserve(struct ssm_writer *w, size_t more)
{
    if (w->len + more > SSM_FIELDS_MAX)
        return fail(w, CAP_E_INVALIDARG, "unit '%s' exceeds %u bytes", w->unit_name,
                    SSM_FIELDS_MAX);
    if (w->len + more > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + more)
            cap *= 2;
        uint8_t *b = realloc(w->buf, cap);
        if (!b)
            return fail(w, CAP_E_OUTOFMEMORY, "out of memory");
        w->buf = b;
        w->cap = cap;
    }
    return CAP_OK;
}

/* Walks the unit built so far: is `name` there already? */
static bool has_field(const struct ssm_writer *w, const char *name, size_t nl)
{
    size_t i = 0;
    while (i < w->len) {
        uint8_t type = w->buf[i], fl = w->buf[i + 1];
        if (fl == nl && memcmp(w->buf + i + 2, name, nl) == 0)
            return true;
        i += 2u + fl;
        i += ssm_value_len(type, w->buf + i);
    }
    return false;
}

static cap_result put(struct ssm_writer *w, const char *field, enum ssm_type type, const void *val,
                      size_t len)
{
    if (!w || !field)
        return CAP_E_POINTER;
    if (CAP_FAILED(w->rc))
        return sticky(w);
    if (!w->fields_open)
        return fail(w, CAP_E_UNEXPECTED, "field '%.80s' outside a fields unit", field);
    size_t nl = strlen(field);
    if (!ssm_name_ok(field, nl))
        return fail(w, CAP_E_INVALIDARG, "unit '%s': bad field name '%.80s'", w->unit_name, field);
    if (w->nfields == SSM_FIELD_COUNT_MAX)
        return fail(w, CAP_E_INVALIDARG, "unit '%s': more than %u fields", w->unit_name,
                    SSM_FIELD_COUNT_MAX);
    if (has_field(w, field, nl))
        return fail(w, CAP_E_INVALIDARG, "unit '%s': field '%s' written twice", w->unit_name,
                    field);
    bool var = type == SSM_BYTES || type == SSM_STRING;
    if (var && len > SSM_FIELDS_MAX)
        return fail(w, CAP_E_INVALIDARG, "unit '%s': field '%s' of %zu bytes", w->unit_name, field,
                    len);
    cap_result rc = reserve(w, 2 + nl + (var ? 4 : 0) + len);
    if (CAP_FAILED(rc))
        return rc;
    uint8_t *p = w->buf + w->len;
    p[0] = (uint8_t)type;
    p[1] = (uint8_t)nl;
    memcpy(p + 2, field, nl);
    p += 2 + nl;
    if (var) {
        ssm_le32(p, (uint32_t)len);
        p += 4;
    }
    if (len)
        memcpy(p, val, len);
    w->len = (size_t)(p + len - w->buf);
    w->nfields++;
    return CAP_OK;
}

static cap_result put_int(struct ssm_writer *w, const char *field, enum ssm_type type, uint64_t v,
                          size_t len)
{
    uint8_t b[8];
    ssm_le64(b, v);
    return put(w, field, type, b, len);
}

cap_result ssm_put_u8(struct ssm_writer *w, const char *field, uint8_t v)
{
    return put_int(w, field, SSM_U8, v, 1);
}

cap_result ssm_put_u16(struct ssm_writer *w, const char *field, uint16_t v)
{
    return put_int(w, field, SSM_U16, v, 2);
}

cap_result ssm_put_u32(struct ssm_writer *w, const char *field, uint32_t v)
{
    return put_int(w, field, SSM_U32, v, 4);
}

cap_result ssm_put_u64(struct ssm_writer *w, const char *field, uint64_t v)
{
    return put_int(w, field, SSM_U64, v, 8);
}

cap_result ssm_put_i64(struct ssm_writer *w, const char *field, int64_t v)
{
    return put_int(w, field, SSM_I64, (uint64_t)v, 8);
}

cap_result ssm_put_bool(struct ssm_writer *w, const char *field, bool v)
{
    return put_int(w, field, SSM_BOOL, v ? 1 : 0, 1);
}

cap_result ssm_put_bytes(struct ssm_writer *w, const char *field, const void *data, size_t len)
{
    if (len && !data)
        return CAP_E_POINTER;
    return put(w, field, SSM_BYTES, data, len);
}

cap_result ssm_put_string(struct ssm_writer *w, const char *field, const char *s)
{
    if (!s)
        return CAP_E_POINTER;
    return put(w, field, SSM_STRING, s, strlen(s));
}

cap_result ssm_end_unit(struct ssm_writer *w)
{
    if (!w)
        return CAP_E_POINTER;
    if (CAP_FAILED(w->rc))
        return sticky(w);
    if (!w->fields_open)
        return fail(w, CAP_E_UNEXPECTED, "ssm_end_unit without ssm_begin_unit");
    w->fields_open = false;
    w->fields_total += w->len;
    if (w->fields_total > SSM_FIELDS_TOTAL)
        return fail(w, CAP_E_INVALIDARG, "fields units of more than %u bytes in all",
                    SSM_FIELDS_TOTAL);
    cap_result rc = ssm_emit_rec(w, SSM_TAG_FLDS, w->buf, w->len);
    return CAP_SUCCEEDED(rc) ? ssm_end_unit_rec(w) : rc;
}

static cap_result sync_dir(struct ssm_writer *w)
{
    char *copy = strdup(w->path);
    if (!copy)
        return fail(w, CAP_E_OUTOFMEMORY, "out of memory");
    int d = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (d < 0 || fsync(d) != 0) {
        cap_result rc = fail(w, CAP_E_IO, "fsync of the folder: %s", strerror(errno));
        if (d >= 0)
            close(d);
        return rc;
    }
    close(d);
    return CAP_OK;
}

cap_result ssm_writer_commit(struct ssm_writer *w, uint64_t *bytes)
{
    if (!w)
        return CAP_E_POINTER;
    if (CAP_SUCCEEDED(w->rc) && w->in_unit)
        fail(w, CAP_E_UNEXPECTED, "unit '%s' not ended", w->unit_name);
    uint8_t t[SSM_REC_HDR + SSM_TRLR_LEN] = {0};
    ssm_le32(t, SSM_TAG_TRLR);
    ssm_le32(t + 4, SSM_TRLR_LEN);
    ssm_le32(t + 8, w->nunits);
    ssm_le64(t + 16, w->off);
    uint64_t total = w->off + sizeof t;
    ssm_le32(t + 24, ssm_crc32c(w->file_crc, t, 24));
    cap_result rc = w->rc;
    if (CAP_SUCCEEDED(rc))
        rc = ssm_emit(w, t, sizeof t);
    if (CAP_SUCCEEDED(rc))
        rc = flush(w);
    if (CAP_SUCCEEDED(rc) && fsync(w->fd) != 0)
        rc = fail(w, CAP_E_IO, "fsync: %s", strerror(errno));
    if (CAP_SUCCEEDED(rc) && rename(w->tmp, w->path) != 0)
        rc = fail(w, CAP_E_IO, "rename from %s: %s", w->tmp, strerror(errno));
    if (CAP_SUCCEEDED(rc)) {
        free(w->tmp);
        w->tmp = NULL; /* renamed: nothing to remove */
        rc = sync_dir(w);
    }
    if (bytes)
        *bytes = CAP_SUCCEEDED(rc) ? total : 0;
    ssm_writer_abort(w);
    return rc;
}

void ssm_writer_abort(struct ssm_writer *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    if (w->tmp)
        unlink(w->tmp);
    ssm_ram_writer_free(w);
    free(w->tmp);
    free(w->path);
    free(w->out);
    free(w->buf);
    free(w->seen);
    free(w);
}
