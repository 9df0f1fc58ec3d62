/*
 * stam.c - the statistics registry (stam.h): a path-sorted array of
 * registrations under one mutex, the pattern matcher, and the text every
 * consumer prints.
 *
 * The array holds pointers, so an entry never moves while a reader has it;
 * lookups by path are binary searches, enumeration is a walk in order.
 * Registrations are rare (VM creation, the first access to a port) and
 * readers are people and tests, so one mutex is enough: the hot path, the
 * owner's increments, never takes it.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include <capsule/errorinfo.h>

#include "stam.h"

#define STAM_COMPONENT VMM_COMPONENT

struct stam_entry {
    char *path, *desc;
    enum stam_type type;
    enum stam_unit unit;
    void *field; /* counter, gauge, profile; NULL for a callback */
    stam_read_fn read;
    const void *base;                /* the callback's argument */
    uint64_t base_value, base_count; /* the reset baseline */
};

struct stam {
    pthread_mutex_t lock;
    struct stam_entry **e; /* sorted by path */
    size_t n, cap;
};

cap_result stam_create(struct stam **out)
{
    *out = calloc(1, sizeof(**out));
    if (!*out)
        return cap_error_set(CAP_E_OUTOFMEMORY, STAM_COMPONENT, NULL, "stam: out of memory");
    pthread_mutex_init(&(*out)->lock, NULL);
    return CAP_OK;
}

static void entry_free(struct stam_entry *e)
{
    free(e->path);
    free(e->desc);
    free(e);
}

void stam_destroy(struct stam *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++)
        entry_free(st->e[i]);
    free(st->e);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

/* ---- paths and patterns -------------------------------------------------- */

static bool path_valid(const char *p)
{
    size_t len = strlen(p);
    if (p[0] != '/' || len < 2 || len >= STAM_PATH_MAX || p[len - 1] == '/')
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= ' ' || c > '~' || c == '|' || c == '*' || c == '?' ||
            (c == '/' && p[i + 1] == '/'))
            return false;
    }
    return true;
}

/* One glob (no '|') of length plen against name: iterative, backtracking to
 * the last '*' only, so the cost stays linear times the number of stars. */
static bool glob_one(const char *pat, size_t plen, const char *name)
{
    size_t p = 0, star = (size_t)-1;
    const char *mark = NULL;
    while (*name) {
        if (p < plen && (pat[p] == '?' || pat[p] == *name)) {
            p++, name++;
        } else if (p < plen && pat[p] == '*') {
            star = p++;
            mark = name;
        } else if (star != (size_t)-1) {
            p = star + 1;
            name = ++mark;
        } else {
            return false;
        }
    }
    while (p < plen && pat[p] == '*')
        p++;
    return p == plen;
}

bool stam_match(const char *pattern, const char *name)
{
    if (!pattern || !*pattern)
        return true;
    for (;;) {
        size_t n = strcspn(pattern, "|");
        if (n && glob_one(pattern, n, name))
            return true;
        if (!pattern[n])
            return false;
        pattern += n + 1;
    }
}

/* ---- registration -------------------------------------------------------- */

/* Index of path, or where it would go (*found false). Lock held. */
static size_t find(const struct stam *st, const char *path, bool *found)
{
    size_t lo = 0, hi = st->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(st->e[mid]->path, path);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static cap_result insert(struct stam *st, struct stam_entry *e)
{
    bool found;
    size_t at = find(st, e->path, &found);
    if (found)
        return cap_error_set(CAP_E_INVALIDARG, STAM_COMPONENT, NULL,
                             "stam: statistic '%s' is registered already", e->path);
    if (st->n == st->cap) {
        size_t cap = st->cap ? 2 * st->cap : 64;
        struct stam_entry **bigger = realloc(st->e, cap * sizeof(*bigger));
        if (!bigger)
            return cap_error_set(CAP_E_OUTOFMEMORY, STAM_COMPONENT, NULL, "stam: out of memory");
        st->e = bigger;
        st->cap = cap;
    }
    memmove(&st->e[at + 1], &st->e[at], (st->n - at) * sizeof(*st->e));
    st->e[at] = e;
    st->n++;
    return CAP_OK;
}

cap_result stam_register(struct stam *st, const struct stam_def *def, void *base)
{
    const char *path = def->path ? def->path : "";
    if (!path_valid(path))
        return cap_error_set(CAP_E_INVALIDARG, STAM_COMPONENT, NULL,
                             "stam: bad statistic path '%.200s' (expected /A/B: printable, no "
                             "spaces, '|', '*' or '?', under %d bytes)",
                             path, STAM_PATH_MAX);
    if (def->type == STAM_CALLBACK ? !def->read : !base)
        return cap_error_set(CAP_E_INVALIDARG, STAM_COMPONENT, NULL,
                             "stam: statistic '%s' has nothing to read", path);
    struct stam_entry *e = calloc(1, sizeof(*e));
    if (e) {
        e->path = strdup(path);
        e->desc = strdup(def->desc ? def->desc : "");
    }
    if (!e || !e->path || !e->desc) {
        if (e)
            entry_free(e);
        return cap_error_set(CAP_E_OUTOFMEMORY, STAM_COMPONENT, NULL, "stam: out of memory");
    }
    e->type = def->type;
    e->unit = def->unit;
    if (def->type == STAM_CALLBACK) {
        e->read = def->read;
        e->base = base;
    } else {
        e->field = (char *)base + def->offset;
    }
    pthread_mutex_lock(&st->lock);
    cap_result rc = insert(st, e);
    pthread_mutex_unlock(&st->lock);
    if (CAP_FAILED(rc))
        entry_free(e);
    return rc;
}

static void deregister_exact(struct stam *st, const char *path)
{
    pthread_mutex_lock(&st->lock);
    bool found;
    size_t at = find(st, path, &found);
    if (found) {
        entry_free(st->e[at]);
        memmove(&st->e[at], &st->e[at + 1], (st->n - at - 1) * sizeof(*st->e));
        st->n--;
    }
    pthread_mutex_unlock(&st->lock);
}

cap_result stam_register_table(struct stam *st, const struct stam_def *defs, size_t n, void *base)
{
    for (size_t i = 0; i < n; i++) {
        cap_result rc = stam_register(st, &defs[i], base);
        if (CAP_FAILED(rc)) {
            while (i--)
                deregister_exact(st, defs[i].path);
            return rc;
        }
    }
    return CAP_OK;
}

cap_result stam_register_counterf(struct stam *st, uint64_t *counter, enum stam_unit unit,
                                  const char *desc, const char *path_fmt, ...)
{
    char path[STAM_PATH_MAX + 1];
    va_list ap;
    va_start(ap, path_fmt);
    int len = vsnprintf(path, sizeof(path), path_fmt, ap);
    va_end(ap);
    if (len < 0 || len >= (int)sizeof(path))
        return cap_error_set(CAP_E_INVALIDARG, STAM_COMPONENT, NULL,
                             "stam: statistic path '%.60s...' is too long", path);
    struct stam_def def = {.path = path, .type = STAM_COUNTER, .unit = unit, .desc = desc};
    return stam_register(st, &def, counter);
}

size_t stam_deregister(struct stam *st, const char *prefix)
{
    size_t plen = strlen(prefix), kept = 0, removed = 0;
    pthread_mutex_lock(&st->lock);
    for (size_t i = 0; i < st->n; i++) {
        if (!strncmp(st->e[i]->path, prefix, plen)) {
            entry_free(st->e[i]);
            removed++;
        } else {
            st->e[kept++] = st->e[i];
        }
    }
    st->n = kept;
    pthread_mutex_unlock(&st->lock);
    return removed;
}

/* ---- reading ------------------------------------------------------------- */

static uint64_t load(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* The raw value and count of an entry (no baseline). Lock held. */
static void read_raw(const struct stam_entry *e, uint64_t *value, uint64_t *count)
{
    *count = 0;
    switch (e->type) {
    case STAM_PROFILE: {
        struct stam_profile *p = e->field;
        *value = load(&p->total_ns);
        *count = load(&p->count);
        break;
    }
    case STAM_CALLBACK:
        *value = e->read(e->base);
        break;
    default:
        *value = load(e->field);
        break;
    }
}

static void read_entry(const struct stam_entry *e, struct stam_value *out)
{
    uint64_t v, c;
    read_raw(e, &v, &c);
    /* A baseline above the value: the owner started over (a cache rebuilt). */
    *out = (struct stam_value){
        .path = e->path,
        .desc = e->desc,
        .type = e->type,
        .unit = e->unit,
        .value = v >= e->base_value ? v - e->base_value : v,
        .count = c >= e->base_count ? c - e->base_count : c,
    };
}

size_t stam_enum(struct stam *st, const char *pattern,
                 void (*fn)(void *ctx, const struct stam_value *v), void *ctx)
{
    size_t n = 0;
    pthread_mutex_lock(&st->lock);
    for (size_t i = 0; i < st->n; i++) {
        if (!stam_match(pattern, st->e[i]->path))
            continue;
        struct stam_value v;
        read_entry(st->e[i], &v);
        fn(ctx, &v);
        n++;
    }
    pthread_mutex_unlock(&st->lock);
    return n;
}

bool stam_get(struct stam *st, const char *path, struct stam_value *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&st->lock);
    bool found;
    size_t at = find(st, path, &found);
    if (found)
        read_entry(st->e[at], out);
    pthread_mutex_unlock(&st->lock);
    return found;
}

uint64_t stam_value(struct stam *st, const char *path)
{
    struct stam_value v;
    return stam_get(st, path, &v) ? v.value : 0;
}

size_t stam_reset(struct stam *st, const char *pattern)
{
    size_t n = 0;
    pthread_mutex_lock(&st->lock);
    for (size_t i = 0; i < st->n; i++) {
        struct stam_entry *e = st->e[i];
        if ((e->type != STAM_COUNTER && e->type != STAM_PROFILE) || !stam_match(pattern, e->path))
            continue;
        read_raw(e, &e->base_value, &e->base_count);
        n++;
    }
    pthread_mutex_unlock(&st->lock);
    return n;
}

const char *stam_unit_name(enum stam_unit unit)
{
    static const char *const names[] = {
        [STAM_UNIT_COUNT] = "count", [STAM_UNIT_BYTES] = "bytes", [STAM_UNIT_NS] = "ns",
        [STAM_UNIT_INSNS] = "insns", [STAM_UNIT_CALLS] = "calls",
    };
    return (unsigned)unit < sizeof(names) / sizeof(names[0]) ? names[unit] : "?";
}

/* ---- text ---------------------------------------------------------------- */

struct text {
    char *buf;
    size_t len, cap;
    bool failed;
};

static void text_line(void *ctx, const struct stam_value *v, bool with_desc)
{
    struct text *t = ctx;
    char line[STAM_PATH_MAX + 512];
    const char *unit = stam_unit_name(v->unit);
    int n = snprintf(line, sizeof(line), "%s %llu %s", v->path, (unsigned long long)v->value, unit);
    if (v->type == STAM_PROFILE)
        n += snprintf(line + n, sizeof(line) - (size_t)n, " (%llu times, %llu %s each)",
                      (unsigned long long)v->count,
                      (unsigned long long)(v->count ? v->value / v->count : 0), unit);
    n += snprintf(line + n, sizeof(line) - (size_t)n, "%s%.300s\n", with_desc ? "\t" : "",
                  with_desc ? v->desc : "");
    if (t->failed)
        return;
    if (t->len + (size_t)n + 1 > t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 4096;
        while (cap < t->len + (size_t)n + 1)
            cap *= 2;
        char *bigger = realloc(t->buf, cap);
        if (!bigger) {
            t->failed = true;
            return;
        }
        t->buf = bigger;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, line, (size_t)n + 1);
    t->len += (size_t)n;
}

static void line_plain(void *ctx, const struct stam_value *v)
{
    text_line(ctx, v, false);
}
static void line_desc(void *ctx, const struct stam_value *v)
{
    text_line(ctx, v, true);
}

char *stam_format(struct stam *st, const char *pattern, bool with_desc)
{
    struct text t = {0};
    stam_enum(st, pattern, with_desc ? line_desc : line_plain, &t);
    if (t.failed) {
        free(t.buf);
        return NULL;
    }
    return t.buf ? t.buf : strdup("");
}

void stam_print(struct stam *st, const char *pattern, bool with_desc, FILE *f)
{
    char *text = stam_format(st, pattern, with_desc);
    fputs(text ? text : "(statistics: out of memory)\n", f);
    free(text);
}
