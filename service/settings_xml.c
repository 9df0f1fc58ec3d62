/*
 * service/settings_xml.c - reading XML into a small tree (expat), writing it
 * back with escaping, and replacing files atomically.
 *
 * Everything the settings formats need from XML and from the file system
 * lives here so that settings_machine.c and settings_global.c only map
 * elements to struct fields. The parser refuses DOCTYPE declarations (no
 * entity expansion, so no "billion laughs"), bounds depth and element count,
 * and reports the first problem as "FILE:LINE: message".
 *
 * settings_write_atomic() is the one way the service writes a settings
 * file: the new text goes to PATH.tmp and is fsynced; the current file is
 * hard-linked (or, where links fail, copied) to PATH-prev; PATH.tmp is
 * renamed over PATH; the folder is fsynced. A crash at any point leaves
 * either the old or the new file at PATH, never a torn one.
 */
#include <errno.h>
#include <expat.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/uuid.h>

#include "settings.h"
#include "settings_xml.h"

/* ---- reading ------------------------------------------------------------ */

struct parse_ctx {
    XML_Parser parser;
    const char *file;
    struct xml_node *root, *cur;
    int depth;
    unsigned nodes;
    cap_result rc;
};

static void ctx_fail(struct parse_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void ctx_fail(struct parse_ctx *c, const char *fmt, ...)
{
    if (CAP_FAILED(c->rc))
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    c->rc = cap_error_set(CAP_E_XML_ERROR, SETTINGS_COMPONENT, NULL, "%s:%lu: %s", c->file,
                          (unsigned long)XML_GetCurrentLineNumber(c->parser), msg);
    XML_StopParser(c->parser, XML_FALSE);
}

void xml_free(struct xml_node *n)
{
    while (n) {
        struct xml_node *next = n->next;
        xml_free(n->first_child);
        if (n->attrs)
            for (char **a = n->attrs; *a; a++)
                cap_free(*a);
        cap_free(n->attrs);
        cap_free(n->name);
        cap_free(n->text);
        cap_free(n);
        n = next;
    }
}

static void on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    struct parse_ctx *c = ud;
    if (++c->depth > XML_MAX_DEPTH)
        return ctx_fail(c, "elements nested deeper than %d", XML_MAX_DEPTH);
    if (++c->nodes > XML_MAX_NODES)
        return ctx_fail(c, "more than %d elements", XML_MAX_NODES);
    if (!c->cur && c->root)
        return ctx_fail(c, "more than one root element");
    struct xml_node *n = cap_alloc_zero(sizeof(*n));
    size_t na = 0;
    while (attrs[na])
        na++;
    if (!n || !(n->attrs = cap_alloc_zero((na + 1) * sizeof(char *))) ||
        !(n->name = cap_str_dup(name)) || !(n->text = cap_str_dup(""))) {
        xml_free(n);
        return ctx_fail(c, "out of memory");
    }
    for (size_t i = 0; i < na; i++)
        if (!(n->attrs[i] = cap_str_dup(attrs[i]))) {
            xml_free(n);
            return ctx_fail(c, "out of memory");
        }
    n->line = XML_GetCurrentLineNumber(c->parser);
    n->parent = c->cur;
    if (!c->cur) {
        c->root = n;
    } else {
        if (c->cur->last_child)
            c->cur->last_child->next = n;
        else
            c->cur->first_child = n;
        c->cur->last_child = n;
    }
    c->cur = n;
}

static void on_end(void *ud, const XML_Char *name)
{
    struct parse_ctx *c = ud;
    c->depth--;
    if (c->cur)
        c->cur = c->cur->parent;
}

static void on_text(void *ud, const XML_Char *s, int len)
{
    struct parse_ctx *c = ud;
    struct xml_node *n = c->cur;
    if (!n || len <= 0)
        return;
    char *t = cap_realloc(n->text, n->text_len + (size_t)len + 1);
    if (!t)
        return ctx_fail(c, "out of memory");
    memcpy(t + n->text_len, s, (size_t)len);
    n->text_len += (size_t)len;
    t[n->text_len] = 0;
    n->text = t;
}

static void on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                       const XML_Char *pubid, int has_internal)
{
    ctx_fail(ud, "DOCTYPE declarations are not allowed");
}

cap_result xml_parse(const char *file, const char *buf, size_t len, struct xml_node **out)
{
    *out = NULL;
    if (len > SETTINGS_MAX_FILE)
        return cap_error_set(CAP_E_XML_ERROR, SETTINGS_COMPONENT, NULL,
                             "%s:1: file larger than %u bytes", file, SETTINGS_MAX_FILE);
    struct parse_ctx c = {.file = file, .rc = CAP_OK};
    c.parser = XML_ParserCreate("UTF-8");
    if (!c.parser)
        return cap_error_set(CAP_E_OUTOFMEMORY, SETTINGS_COMPONENT, NULL, "out of memory");
    XML_SetUserData(c.parser, &c);
    XML_SetElementHandler(c.parser, on_start, on_end);
    XML_SetCharacterDataHandler(c.parser, on_text);
    XML_SetStartDoctypeDeclHandler(c.parser, on_doctype);
    if (XML_Parse(c.parser, buf, (int)len, XML_TRUE) == XML_STATUS_ERROR && CAP_SUCCEEDED(c.rc))
        c.rc = cap_error_set(CAP_E_XML_ERROR, SETTINGS_COMPONENT, NULL, "%s:%lu: %s", file,
                             (unsigned long)XML_GetCurrentLineNumber(c.parser),
                             XML_ErrorString(XML_GetErrorCode(c.parser)));
    if (CAP_SUCCEEDED(c.rc) && !c.root)
        c.rc = cap_error_set(CAP_E_XML_ERROR, SETTINGS_COMPONENT, NULL, "%s:1: no root element",
                             file);
    XML_ParserFree(c.parser);
    if (CAP_FAILED(c.rc)) {
        xml_free(c.root);
        return c.rc;
    }
    *out = c.root;
    return CAP_OK;
}

const char *xml_attr(const struct xml_node *n, const char *name)
{
    for (char **a = n->attrs; a && a[0]; a += 2)
        if (!strcmp(a[0], name))
            return a[1];
    return NULL;
}

cap_result xml_error(const char *file, const struct xml_node *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return cap_error_set(CAP_E_XML_ERROR, SETTINGS_COMPONENT, NULL, "%s:%lu: %s", file,
                         n ? n->line : 1ul, msg);
}

cap_result xml_check_attrs(const char *file, const struct xml_node *n, const char *const *allowed)
{
    for (char **a = n->attrs; a && a[0]; a += 2) {
        const char *const *p = allowed;
        while (*p && strcmp(*p, a[0]))
            p++;
        if (!*p)
            return xml_error(file, n, "unknown attribute '%s' on <%s>", a[0], n->name);
    }
    return CAP_OK;
}

cap_result xml_get_u32(const char *file, const struct xml_node *n, const char *name, int required,
                       uint32_t min, uint32_t max, uint32_t *out)
{
    const char *v = xml_attr(n, name);
    if (!v)
        return required ? xml_error(file, n, "<%s> lacks attribute '%s'", n->name, name) : CAP_OK;
    char *end = NULL;
    errno = 0;
    unsigned long long x = (*v >= '0' && *v <= '9') ? strtoull(v, &end, 0) : 0;
    if (!end || *end || errno || x < min || x > max)
        return xml_error(file, n, "attribute '%s' of <%s> must be a number from %" PRIu32
                         " to %" PRIu32 ", not '%.40s'", name, n->name, min, max, v);
    *out = (uint32_t)x;
    return CAP_OK;
}

cap_result xml_get_i64(const char *file, const struct xml_node *n, const char *name, int64_t *out)
{
    const char *v = xml_attr(n, name);
    if (!v)
        return CAP_OK;
    char *end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (!*v || *end || errno)
        return xml_error(file, n, "attribute '%s' of <%s> must be an integer, not '%.40s'", name,
                         n->name, v);
    *out = x;
    return CAP_OK;
}

cap_result xml_get_bool(const char *file, const struct xml_node *n, const char *name, cap_bool *out)
{
    const char *v = xml_attr(n, name);
    if (!v)
        return CAP_OK;
    if (!strcmp(v, "true"))
        *out = CAP_TRUE;
    else if (!strcmp(v, "false"))
        *out = CAP_FALSE;
    else
        return xml_error(file, n, "attribute '%s' of <%s> must be true or false, not '%.40s'",
                         name, n->name, v);
    return CAP_OK;
}

cap_result xml_get_uuid(const char *file, const struct xml_node *n, const char *name, cap_uuid *out)
{
    const char *v = xml_attr(n, name);
    if (!v)
        return xml_error(file, n, "<%s> lacks attribute '%s'", n->name, name);
    if (CAP_FAILED(cap_uuid_parse(v, out)) || cap_uuid_is_null(out))
        return xml_error(file, n, "attribute '%s' of <%s> is not a valid UUID: '%.40s'", name,
                         n->name, v);
    return CAP_OK;
}

cap_result xml_get_str(const char *file, const struct xml_node *n, const char *name, int required,
                       char **out)
{
    const char *v = xml_attr(n, name);
    if (!v)
        return required ? xml_error(file, n, "<%s> lacks attribute '%s'", n->name, name) : CAP_OK;
    if (!settings_text_ok(v))
        return xml_error(file, n, "attribute '%s' of <%s> holds control characters", name,
                         n->name);
    char *copy = cap_str_dup(v);
    if (!copy)
        return cap_error_set(CAP_E_OUTOFMEMORY, SETTINGS_COMPONENT, NULL, "out of memory");
    cap_free(*out);
    *out = copy;
    return CAP_OK;
}

cap_result xml_get_enum(const char *file, const struct xml_node *n, const char *name,
                        const char *const *names, int count, int *out)
{
    const char *v = xml_attr(n, name);
    if (!v)
        return CAP_OK;
    for (int i = 0; i < count; i++)
        if (names[i] && !strcmp(names[i], v)) {
            *out = i;
            return CAP_OK;
        }
    return xml_error(file, n, "attribute '%s' of <%s> has an unknown value '%.40s'", name, n->name,
                     v);
}

/* ---- writing ------------------------------------------------------------ */

static void xw_put(struct xml_writer *w, const char *s, size_t n)
{
    if (w->failed)
        return;
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 1024;
        while (cap < w->len + n + 1)
            cap *= 2;
        char *b = cap_realloc(w->buf, cap);
        if (!b) {
            w->failed = 1;
            return;
        }
        w->buf = b;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = 0;
}

void xw_raw(struct xml_writer *w, const char *s)
{
    xw_put(w, s, strlen(s));
}

void xw_printf(struct xml_writer *w, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        w->failed = 1;
        return;
    }
    xw_put(w, tmp, (size_t)n);
}

void xw_escaped(struct xml_writer *w, const char *s, int attr)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': xw_raw(w, "&amp;"); break;
        case '<': xw_raw(w, "&lt;"); break;
        case '>': xw_raw(w, "&gt;"); break;
        case '"': xw_raw(w, attr ? "&quot;" : "\""); break;
        /* Attribute values are whitespace-normalised by parsers unless
         * these are character references. */
        case '\t': xw_raw(w, attr ? "&#9;" : "\t"); break;
        case '\n': xw_raw(w, attr ? "&#10;" : "\n"); break;
        case '\r': xw_raw(w, "&#13;"); break;
        default: xw_put(w, s, 1);
        }
    }
}

void xw_indent(struct xml_writer *w)
{
    for (int i = 0; i < w->depth; i++)
        xw_raw(w, "  ");
}

void xw_attr(struct xml_writer *w, const char *name, const char *value)
{
    xw_raw(w, " ");
    xw_raw(w, name);
    xw_raw(w, "=\"");
    xw_escaped(w, value ? value : "", 1);
    xw_raw(w, "\"");
}

char *xw_finish(struct xml_writer *w, size_t *len)
{
    if (w->failed || !w->buf) {
        cap_free(w->buf);
        w->buf = NULL;
        return NULL;
    }
    if (len)
        *len = w->len;
    char *b = w->buf;
    w->buf = NULL;
    return b;
}

/* ---- files -------------------------------------------------------------- */

static cap_result file_error(const char *what, const char *path, int err)
{
    return cap_error_set(CAP_E_FILE_ERROR, SETTINGS_COMPONENT, NULL, "cannot %s '%s': %s", what,
                         path, strerror(err));
}

cap_result settings_slurp(const char *path, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    /* O_NONBLOCK: a FIFO planted as a settings file must not hang the
     * service in open(); it is refused as not a regular file below. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return file_error("open", path, errno);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        int e = errno;
        close(fd);
        return S_ISREG(st.st_mode) ? file_error("read", path, e)
                                   : cap_error_set(CAP_E_FILE_ERROR, SETTINGS_COMPONENT, NULL,
                                                   "cannot read '%s': not a regular file", path);
    }
    /* ssh's rule: a settings file someone else owns or may write could
     * name any path for this user's VM to write (a serial port file), so
     * it is refused, not read. */
    if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
        close(fd);
        if (st.st_uid != geteuid())
            return cap_error_set(CAP_E_ACCESSDENIED, SETTINGS_COMPONENT, NULL,
                                 "refusing '%s': it is owned by uid %u, not by this user "
                                 "(uid %u)", path, (unsigned)st.st_uid, (unsigned)geteuid());
        return cap_error_set(CAP_E_ACCESSDENIED, SETTINGS_COMPONENT, NULL,
                             "refusing '%s': it is writable by %s (mode %03o); "
                             "chmod go-w it", path,
                             (st.st_mode & S_IWOTH) ? "others" : "its group",
                             (unsigned)(st.st_mode & 0777));
    }
    if ((uint64_t)st.st_size > SETTINGS_MAX_FILE) {
        close(fd);
        return cap_error_set(CAP_E_FILE_ERROR, SETTINGS_COMPONENT, NULL,
                             "cannot read '%s': larger than %u bytes", path, SETTINGS_MAX_FILE);
    }
    char *buf = cap_alloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        return cap_error_set(CAP_E_OUTOFMEMORY, SETTINGS_COMPONENT, NULL, "out of memory");
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            cap_free(buf);
            return file_error("read", path, e);
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = 0;
    *out = buf;
    *len = got;
    return CAP_OK;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Writes buf to `tmp` (created 0600, replacing any) and fsyncs it. */
static cap_result write_synced(const char *tmp, const char *buf, size_t len)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return file_error("create", tmp, errno);
    if (write_all(fd, buf, len) < 0 || fsync(fd) < 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return file_error("write", tmp, e);
    }
    if (close(fd) < 0) {
        int e = errno;
        unlink(tmp);
        return file_error("write", tmp, e);
    }
    return CAP_OK;
}

/* Makes PATH-prev a copy of the current PATH (if there is one). */
static cap_result keep_previous(const char *path)
{
    char *prev = cap_str_printf("%s-prev", path);
    char *prev_tmp = cap_str_printf("%s-prev.tmp", path);
    char *old = NULL;
    size_t len = 0;
    cap_result rc = CAP_OK;
    if (!prev || !prev_tmp) {
        rc = cap_error_set(CAP_E_OUTOFMEMORY, SETTINGS_COMPONENT, NULL, "out of memory");
        goto out;
    }
    if (access(path, F_OK) < 0)
        goto out; /* nothing to keep */
    unlink(prev_tmp);
    if (link(path, prev_tmp) < 0) {
        /* File systems without hard links: copy instead. */
        rc = settings_slurp(path, &old, &len);
        if (CAP_SUCCEEDED(rc))
            rc = write_synced(prev_tmp, old, len);
        if (CAP_FAILED(rc))
            goto out;
    }
    if (rename(prev_tmp, prev) < 0) {
        rc = file_error("rename", prev_tmp, errno);
        unlink(prev_tmp);
    }
out:
    cap_free(old);
    cap_str_free(prev);
    cap_str_free(prev_tmp);
    return rc;
}

static void fsync_dir_of(const char *path)
{
    char *copy = cap_str_dup(path);
    if (!copy)
        return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    cap_str_free(copy);
}

cap_result settings_write_atomic(const char *path, const char *buf, size_t len)
{
    char *tmp = cap_str_printf("%s.tmp", path);
    if (!tmp)
        return cap_error_set(CAP_E_OUTOFMEMORY, SETTINGS_COMPONENT, NULL, "out of memory");
    cap_result rc = write_synced(tmp, buf, len);
    if (CAP_SUCCEEDED(rc))
        rc = keep_previous(path);
    if (CAP_SUCCEEDED(rc) && rename(tmp, path) < 0)
        rc = file_error("rename", tmp, errno);
    if (CAP_FAILED(rc))
        unlink(tmp);
    else
        fsync_dir_of(path);
    cap_str_free(tmp);
    return rc;
}
