/*
 * plugins/frontends/web/json.c - the JSON capsule-web reads and writes.
 *
 * Request bodies are parsed into a small tree (struct wj), strictly by RFC
 * 8259, with a depth limit, since they come from the network; replies are
 * written straight into a growing buffer. Strings in replies come from the
 * service and may be any bytes, so the writer always produces valid UTF-8
 * (U+FFFD for what is not) and escapes what HTML would take as markup.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web.h"

/* ---- parsing ------------------------------------------------------------------------- */

struct parser {
    const char *s, *end, *start;
    char *err;
    size_t errlen;
    int failed;
};

static void fail(struct parser *p, const char *what)
{
    if (!p->failed)
        snprintf(p->err, p->errlen, "offset %zu: %s", (size_t)(p->s - p->start), what);
    p->failed = 1;
}

static void skip_ws(struct parser *p)
{
    while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
        p->s++;
}

static struct wj *new_value(struct parser *p, enum wj_type t)
{
    struct wj *v = calloc(1, sizeof(*v));
    if (!v)
        fail(p, "out of memory");
    else
        v->type = t;
    return v;
}

static int literal(struct parser *p, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(p->end - p->s) < n || memcmp(p->s, word, n) != 0)
        return 0;
    p->s += n;
    return 1;
}

static int hex4(struct parser *p, unsigned *out)
{
    unsigned v = 0;
    if (p->end - p->s < 4)
        return -1;
    for (int k = 0; k < 4; k++) {
        char c = *p->s++;
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned cp;
    size_t len;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        len = 2, cp = s[0] & 0x1F;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        len = 3, cp = s[0] & 0x0F;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        len = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return len;
}

/* The escape after a backslash, appended to o; returns bytes written or 0. */
static size_t unescape(struct parser *p, char *o)
{
    char c = *p->s++;
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *k = strchr(from, c);
    if (c && k) {
        *o = to[k - from];
        return 1;
    }
    unsigned cp, lo;
    if (c != 'u' || hex4(p, &cp) < 0) {
        fail(p, "bad escape in string");
        return 0;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (!literal(p, "\\u") || hex4(p, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF) {
            fail(p, "unpaired surrogate in string");
            return 0;
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    } else if ((cp >= 0xDC00 && cp <= 0xDFFF) || cp == 0) {
        fail(p, cp ? "unpaired surrogate in string" : "NUL character in string");
        return 0;
    }
    return put_utf8(o, cp);
}

/* A string at p->s (after its opening quote); NULL after failing. */
static char *parse_string(struct parser *p)
{
    /* Escapes never make the text longer than the source. */
    char *out = malloc((size_t)(p->end - p->s) + 4);
    size_t n = 0;
    if (!out) {
        fail(p, "out of memory");
        return NULL;
    }
    while (!p->failed) {
        if (p->s >= p->end) {
            fail(p, "unterminated string");
            break;
        }
        unsigned char c = (unsigned char)*p->s;
        if (c == '"') {
            p->s++;
            out[n] = 0;
            return out;
        }
        if (c < 0x20) {
            fail(p, "control character in string");
        } else if (c == '\\') {
            p->s++;
            n += unescape(p, out + n);
        } else {
            size_t len = utf8_len((const unsigned char *)p->s, (size_t)(p->end - p->s));
            if (!len)
                fail(p, "invalid UTF-8 in string");
            memcpy(out + n, p->s, len);
            n += len;
            p->s += len;
        }
    }
    free(out);
    return NULL;
}

static struct wj *parse_number(struct parser *p)
{
    const char *b = p->s;
    int integral = 1;
    if (p->s < p->end && *p->s == '-')
        p->s++;
    if (p->s < p->end && *p->s == '0')
        p->s++;
    else if (p->s < p->end && *p->s >= '1' && *p->s <= '9')
        while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
            p->s++;
    else
        goto bad;
    if (p->s < p->end && *p->s == '.') {
        integral = 0;
        if (++p->s >= p->end || *p->s < '0' || *p->s > '9')
            goto bad;
        while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
            p->s++;
    }
    if (p->s < p->end && (*p->s == 'e' || *p->s == 'E')) {
        integral = 0;
        if (++p->s < p->end && (*p->s == '+' || *p->s == '-'))
            p->s++;
        if (p->s >= p->end || *p->s < '0' || *p->s > '9')
            goto bad;
        while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
            p->s++;
    }
    char buf[64];
    size_t len = (size_t)(p->s - b);
    if (len >= sizeof(buf)) {
        fail(p, "number too long");
        return NULL;
    }
    memcpy(buf, b, len);
    buf[len] = 0;
    struct wj *v = new_value(p, WJ_NUM);
    if (!v)
        return NULL;
    v->num = strtod(buf, NULL);
    if (integral) {
        errno = 0;
        if (buf[0] == '-') {
            v->i = strtoll(buf, NULL, 10);
            v->is_int = errno == 0;
        } else {
            v->u = strtoull(buf, NULL, 10);
            v->is_uint = errno == 0;
            v->is_int = v->is_uint && v->u <= INT64_MAX;
            v->i = (int64_t)v->u;
        }
    }
    return v;
bad:
    fail(p, "bad number");
    return NULL;
}

static struct wj *parse_value(struct parser *p, int depth);

/* Appends item (and key) to a container; -1 after failing. */
static int add_item(struct parser *p, struct wj *c, char *key, struct wj *item)
{
    struct wj **items = realloc(c->items, (c->n + 1) * sizeof(*items));
    if (items)
        c->items = items;
    char **keys = c->type == WJ_OBJ ? realloc(c->keys, (c->n + 1) * sizeof(*keys)) : NULL;
    if (keys)
        c->keys = keys;
    if (!items || (c->type == WJ_OBJ && !keys)) {
        fail(p, "out of memory");
        free(key);
        wj_free(item);
        return -1;
    }
    if (keys)
        c->keys[c->n] = key;
    c->items[c->n++] = item;
    return 0;
}

/* An array or object after its opening bracket. */
static struct wj *parse_container(struct parser *p, enum wj_type t, int depth)
{
    char close = t == WJ_ARR ? ']' : '}';
    struct wj *c = new_value(p, t);
    if (!c)
        return NULL;
    skip_ws(p);
    if (p->s < p->end && *p->s == close) {
        p->s++;
        return c;
    }
    for (;;) {
        char *key = NULL;
        skip_ws(p);
        if (t == WJ_OBJ) {
            if (p->s >= p->end || *p->s != '"') {
                fail(p, "expected a member name");
                break;
            }
            p->s++;
            if (!(key = parse_string(p)))
                break;
            skip_ws(p);
            if (p->s >= p->end || *p->s++ != ':') {
                free(key);
                fail(p, "expected ':'");
                break;
            }
        }
        struct wj *item = parse_value(p, depth + 1);
        if (!item) {
            free(key);
            break;
        }
        if (add_item(p, c, key, item) < 0)
            break;
        skip_ws(p);
        if (p->s < p->end && *p->s == ',') {
            p->s++;
            continue;
        }
        if (p->s < p->end && *p->s == close) {
            p->s++;
            return c;
        }
        fail(p, t == WJ_ARR ? "expected ',' or ']'" : "expected ',' or '}'");
        break;
    }
    wj_free(c);
    return NULL;
}

static struct wj *parse_value(struct parser *p, int depth)
{
    struct wj *v;
    if (depth >= WJ_MAX_DEPTH) {
        fail(p, "nested too deeply");
        return NULL;
    }
    skip_ws(p);
    if (p->s >= p->end) {
        fail(p, "expected a value");
        return NULL;
    }
    switch (*p->s) {
    case '{':
    case '[':
        return parse_container(p, *p->s++ == '{' ? WJ_OBJ : WJ_ARR, depth);
    case '"':
        p->s++;
        v = new_value(p, WJ_STR);
        if (v && !(v->str = parse_string(p))) {
            free(v);
            v = NULL;
        }
        return v;
    case 't':
    case 'f':
        if (literal(p, "true") || literal(p, "false")) {
            v = new_value(p, WJ_BOOL);
            if (v)
                v->b = p->s[-1] == 'e' && p->s[-2] == 'u';
            return v;
        }
        break;
    case 'n':
        if (literal(p, "null"))
            return new_value(p, WJ_NULL);
        break;
    default:
        if (*p->s == '-' || (*p->s >= '0' && *p->s <= '9'))
            return parse_number(p);
        break;
    }
    fail(p, "unexpected character");
    return NULL;
}

struct wj *wj_parse(const char *text, size_t len, char *err, size_t errlen)
{
    struct parser p = {.s = text, .end = text + len, .start = text, .err = err, .errlen = errlen};
    if (errlen)
        err[0] = 0;
    struct wj *v = parse_value(&p, 0);
    skip_ws(&p);
    if (v && p.s != p.end) {
        fail(&p, "text after the value");
        wj_free(v);
        v = NULL;
    }
    return v;
}

void wj_free(struct wj *v)
{
    if (!v)
        return;
    for (size_t k = 0; k < v->n; k++) {
        wj_free(v->items[k]);
        if (v->keys)
            free(v->keys[k]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    free(v);
}

const struct wj *wj_get(const struct wj *v, const char *key)
{
    if (!v || v->type != WJ_OBJ)
        return NULL;
    for (size_t k = 0; k < v->n; k++)
        if (strcmp(v->keys[k], key) == 0)
            return v->items[k];
    return NULL;
}

const char *wj_type_name(enum wj_type t)
{
    static const char *const names[] = {"null", "boolean", "number", "string", "array", "object"};
    return t <= WJ_OBJ ? names[t] : "?";
}

/* ---- output ---------------------------------------------------------------------------- */

static int wb_reserve(struct wbuf *b, size_t more)
{
    if (b->oom)
        return -1;
    if (b->len + more + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

static void wb_put(struct wbuf *b, const char *s, size_t n)
{
    if (wb_reserve(b, n) < 0)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void wb_puts(struct wbuf *b, const char *s)
{
    wb_put(b, s, strlen(s));
}

void wb_printf(struct wbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || wb_reserve(b, (size_t)n) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void wb_str(struct wbuf *b, const char *s)
{
    if (!s) {
        wb_puts(b, "null");
        return;
    }
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s);
    wb_put(b, "\"", 1);
    for (size_t k = 0; k < n;) {
        unsigned char c = u[k];
        const char *esc = NULL;
        char tmp[8];
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\t')
            esc = "\\t";
        else if (c == '\r')
            esc = "\\r";
        else if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7F) {
            snprintf(tmp, sizeof(tmp), "\\u%04x", c);
            esc = tmp;
        }
        if (esc) {
            wb_puts(b, esc);
            k++;
            continue;
        }
        size_t len = utf8_len(u + k, n - k);
        if (!len) {
            wb_puts(b, "\\ufffd");
            k++;
        } else {
            wb_put(b, s + k, len);
            k += len;
        }
    }
    wb_put(b, "\"", 1);
}

char *wb_take(struct wbuf *b)
{
    char *p = b->oom ? NULL : b->p;
    if (b->oom)
        free(b->p);
    else if (!p)
        p = calloc(1, 1);
    memset(b, 0, sizeof(*b));
    return p;
}

void wb_free(struct wbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}
