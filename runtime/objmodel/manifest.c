/*
 * manifest.c - component manifests: reading *.manifest files with expat and
 * registering the classes they describe (cap_registry_load_manifests).
 *
 * A manifest says which shared object provides which classes, so that the
 * registry knows every class at start-up without loading any code. Input is
 * untrusted in the sense that a person may have edited it: every problem is
 * reported as "FILE:LINE: message", the manifest is skipped as a whole (no
 * half-registered component), and parsing continues with the next file.
 * DOCTYPE declarations are refused, which also rules out entity tricks.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include <capsule/mem.h>
#include <capsule/uuid.h>

#include "objmodel_internal.h"

/* A manifest class as read from the file, before registration. */
struct manifest_class {
    cap_uuid clsid;
    char *contract;
    char *name;
    int line;
};

/* The parsed contents of one manifest. */
struct manifest {
    char *name;
    char *library; /* plain file name */
    int line;
    struct manifest_class *classes;
    size_t n_classes;
};

/* A manifest is a few hundred bytes; anything much larger is not one. */
#define MANIFEST_MAX_SIZE (1u << 20)

static void errors_append(char **errors, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends a line to *errors, a newline-separated list (NULL when empty). */
static void errors_append(char **errors, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *line = NULL;
    if (vasprintf(&line, fmt, ap) < 0)
        line = NULL;
    va_end(ap);
    if (!line)
        return;
    char *joined = *errors ? cap_str_printf("%s\n%s", *errors, line) : cap_str_dup(line);
    free(line);
    if (joined) {
        cap_free(*errors);
        *errors = joined;
    }
}

/* ---- parsing ------------------------------------------------------------ */

struct parse_state {
    XML_Parser parser;
    const char *path;
    struct manifest *m;
    int depth;
    int failed;
    char **errors;
};

static void parse_error(struct parse_state *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Records the first error of the file and stops the parser. */
static void parse_error(struct parse_state *st, const char *fmt, ...)
{
    if (st->failed)
        return;
    st->failed = 1;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    errors_append(st->errors, "%s:%lu: %s", st->path,
                  (unsigned long)XML_GetCurrentLineNumber(st->parser), msg);
    XML_StopParser(st->parser, XML_FALSE);
}

/* Finds the attributes named in `names` (NULL-terminated) and stores them
 * in `values`; every one is required, and no other is allowed. */
static int get_attrs(struct parse_state *st, const char *elem, const char **attrs,
                     const char *const *names, const char **values)
{
    size_t n = 0;
    while (names[n])
        values[n++] = NULL;
    for (size_t a = 0; attrs[a]; a += 2) {
        size_t i = 0;
        while (names[i] && strcmp(names[i], attrs[a]) != 0)
            i++;
        if (!names[i]) {
            parse_error(st, "unknown attribute '%s' on <%s>", attrs[a], elem);
            return 0;
        }
        values[i] = attrs[a + 1];
    }
    for (size_t i = 0; i < n; i++) {
        if (!values[i] || !values[i][0]) {
            parse_error(st, "<%s> needs a non-empty '%s' attribute", elem, names[i]);
            return 0;
        }
    }
    return 1;
}

static void start_component(struct parse_state *st, const char **attrs)
{
    static const char *const names[] = {"name", "library", "abi", NULL};
    const char *v[3];
    if (!get_attrs(st, "component", attrs, names, v))
        return;
    if (strchr(v[1], '/')) {
        parse_error(st, "library '%s' must be a file name in the manifest's folder", v[1]);
        return;
    }
    char *end = NULL;
    errno = 0;
    unsigned long abi = strtoul(v[2], &end, 10);
    if (errno || *end || v[2][0] < '0' || v[2][0] > '9') {
        parse_error(st, "abi '%s' is not a number", v[2]);
        return;
    }
    if (abi != CAP_COMPONENT_ABI) {
        parse_error(st, "component ABI %s is not supported (this runtime supports %u)", v[2],
                    CAP_COMPONENT_ABI);
        return;
    }
    st->m->name = cap_str_dup(v[0]);
    st->m->library = cap_str_dup(v[1]);
    st->m->line = (int)XML_GetCurrentLineNumber(st->parser);
    if (!st->m->name || !st->m->library)
        parse_error(st, "out of memory");
}

static int class_conflicts(struct parse_state *st, const cap_uuid *cid, const char *contract)
{
    for (size_t i = 0; i < st->m->n_classes; i++) {
        const struct manifest_class *c = &st->m->classes[i];
        if (cap_uuid_equal(&c->clsid, cid)) {
            parse_error(st, "cid is the same as that of class '%s' on line %d", c->name, c->line);
            return 1;
        }
        if (strcmp(c->contract, contract) == 0) {
            parse_error(st, "contract '%s' is the same as that of class '%s' on line %d", contract,
                        c->name, c->line);
            return 1;
        }
    }
    return 0;
}

static void start_class(struct parse_state *st, const char **attrs)
{
    static const char *const names[] = {"name", "cid", "contract", NULL};
    const char *v[3];
    if (!get_attrs(st, "class", attrs, names, v))
        return;
    cap_uuid cid;
    if (CAP_FAILED(cap_uuid_parse(v[1], &cid))) {
        struct cap_error_info info;
        cap_error_take(&info);
        parse_error(st, "bad cid: %s", info.message ? info.message : "malformed UUID");
        cap_error_info_clear(&info);
        return;
    }
    if (class_conflicts(st, &cid, v[2]))
        return;
    struct manifest *m = st->m;
    struct manifest_class *n = cap_realloc(m->classes, (m->n_classes + 1) * sizeof(*n));
    if (!n) {
        parse_error(st, "out of memory");
        return;
    }
    m->classes = n;
    struct manifest_class *c = &m->classes[m->n_classes++];
    *c = (struct manifest_class){.clsid = cid, .line = (int)XML_GetCurrentLineNumber(st->parser)};
    c->name = cap_str_dup(v[0]);
    c->contract = cap_str_dup(v[2]);
    if (!c->name || !c->contract)
        parse_error(st, "out of memory");
}

static void XMLCALL on_start(void *data, const XML_Char *elem, const XML_Char **attrs)
{
    struct parse_state *st = data;
    int depth = st->depth++;
    if (st->failed)
        return;
    if (depth == 0 && strcmp(elem, "component") == 0)
        start_component(st, attrs);
    else if (depth == 0)
        parse_error(st, "expected <component>, found <%s>", elem);
    else if (depth == 1 && strcmp(elem, "class") == 0)
        start_class(st, attrs);
    else
        parse_error(st, "unexpected element <%s> inside <%s>", elem,
                    depth == 1 ? "component" : "class");
}

static void XMLCALL on_end(void *data, const XML_Char *elem)
{
    struct parse_state *st = data;
    st->depth--;
}

static void XMLCALL on_text(void *data, const XML_Char *s, int len)
{
    struct parse_state *st = data;
    for (int i = 0; i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') {
            parse_error(st, "unexpected text in a manifest");
            return;
        }
    }
}

static void XMLCALL on_doctype(void *data, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    parse_error(data, "DOCTYPE declarations are not allowed in a manifest");
}

/* Reads a whole file (at most MANIFEST_MAX_SIZE bytes) into a new buffer. */
static char *read_file(const char *path, size_t *len, char **errors)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        errors_append(errors, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = cap_alloc(MANIFEST_MAX_SIZE + 1);
    size_t n = buf ? fread(buf, 1, MANIFEST_MAX_SIZE + 1, f) : 0;
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad || n > MANIFEST_MAX_SIZE) {
        errors_append(errors, "%s: %s", path,
                      !buf  ? "out of memory"
                      : bad ? "read error"
                            : "file too large");
        cap_free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static void manifest_free(struct manifest *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_classes; i++) {
        cap_str_free(m->classes[i].name);
        cap_str_free(m->classes[i].contract);
    }
    cap_free(m->classes);
    cap_str_free(m->name);
    cap_str_free(m->library);
    memset(m, 0, sizeof(*m));
}

/* Parses `path` into *out. On failure appends "FILE:LINE: message" to
 * *errors, leaves *out empty and returns CAP_E_BAD_MANIFEST. */
static cap_result manifest_parse(const char *path, struct manifest *out, char **errors)
{
    memset(out, 0, sizeof(*out));
    size_t len = 0;
    char *buf = read_file(path, &len, errors);
    if (!buf)
        return CAP_E_BAD_MANIFEST;
    XML_Parser p = XML_ParserCreate("UTF-8");
    if (!p) {
        cap_free(buf);
        errors_append(errors, "%s: out of memory", path);
        return CAP_E_BAD_MANIFEST;
    }
    struct parse_state st = {.parser = p, .path = path, .m = out, .errors = errors};
    XML_SetUserData(p, &st);
    XML_SetElementHandler(p, on_start, on_end);
    XML_SetCharacterDataHandler(p, on_text);
    XML_SetStartDoctypeDeclHandler(p, on_doctype);
    if (XML_Parse(p, buf, (int)len, XML_TRUE) == XML_STATUS_ERROR && !st.failed) {
        st.failed = 1;
        errors_append(errors, "%s:%lu: malformed XML: %s", path,
                      (unsigned long)XML_GetCurrentLineNumber(p),
                      XML_ErrorString(XML_GetErrorCode(p)));
    }
    if (!st.failed && out->n_classes == 0) {
        st.failed = 1;
        errors_append(errors, "%s:%d: <component> declares no <class>", path, out->line);
    }
    XML_ParserFree(p);
    cap_free(buf);
    if (st.failed) {
        manifest_free(out);
        return CAP_E_BAD_MANIFEST;
    }
    return CAP_OK;
}

/* ---- registration ------------------------------------------------------- */

static struct reg_component *component_from_manifest(const struct manifest *m, const char *dir,
                                                     const char *path)
{
    struct reg_component *comp = cap_alloc_zero(sizeof(*comp));
    if (!comp)
        return NULL;
    comp->name = cap_str_dup(m->name);
    comp->path = cap_str_printf("%s/%s", dir, m->library);
    comp->manifest = cap_str_dup(path);
    comp->line = m->line;
    if (!comp->name || !comp->path || !comp->manifest) {
        component_free(comp);
        return NULL;
    }
    return comp;
}

/* Registers every class of a parsed manifest, or none of them. */
static void register_manifest(struct cap_registry *reg, const struct manifest *m, const char *dir,
                              const char *path, char **errors)
{
    struct reg_component *comp = component_from_manifest(m, dir, path);
    struct reg_class **cls = cap_alloc_zero(m->n_classes * sizeof(*cls));
    size_t n = 0;
    if (!comp || !cls) {
        errors_append(errors, "%s: out of memory", path);
        goto fail;
    }
    for (n = 0; n < m->n_classes; n++) {
        const struct manifest_class *mc = &m->classes[n];
        cls[n] = reg_class_new(&mc->clsid, mc->contract, mc->name, NULL, NULL, comp);
        if (!cls[n]) {
            errors_append(errors, "%s: out of memory", path);
            goto fail;
        }
    }
    pthread_mutex_lock(&reg->lock);
    for (size_t i = 0; i < n; i++) {
        if (CAP_FAILED(registry_check_free(reg, &cls[i]->clsid, cls[i]->contract))) {
            errors_append(errors, "%s:%d: %s", path, m->classes[i].line, cap_error_peek_message());
            cap_error_clear();
            goto fail_locked;
        }
    }
    if (CAP_FAILED(registry_reserve(reg, n, 1))) {
        errors_append(errors, "%s: out of memory", path);
        cap_error_clear();
        goto fail_locked;
    }
    for (size_t i = 0; i < n; i++)
        reg->classes[reg->n_classes++] = cls[i];
    reg->comps[reg->n_comps++] = comp;
    pthread_mutex_unlock(&reg->lock);
    cap_free(cls);
    return;
fail_locked:
    pthread_mutex_unlock(&reg->lock);
fail:
    for (size_t i = 0; cls && i < n; i++)
        reg_class_free(cls[i]);
    cap_free(cls);
    component_free(comp);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_manifest_name(const char *name)
{
    size_t len = strlen(name);
    return len > 9 && name[0] != '.' && strcmp(name + len - 9, ".manifest") == 0;
}

/* The sorted *.manifest names of dir; NULL names with *n 0 if none. */
static cap_result list_manifests(const char *dir, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return cap_error_set(CAP_E_IO, OBJMODEL_COMPONENT, NULL,
                             "cannot read components folder '%s': %s", dir, strerror(errno));
    size_t cap = 0;
    cap_result rc = CAP_OK;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!is_manifest_name(e->d_name))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = cap_realloc(*names, cap * sizeof(*nn));
            if (!nn) {
                rc = CAP_E_OUTOFMEMORY;
                break;
            }
            *names = nn;
        }
        if (!((*names)[*n] = cap_str_dup(e->d_name))) {
            rc = CAP_E_OUTOFMEMORY;
            break;
        }
        (*n)++;
    }
    closedir(d);
    if (CAP_FAILED(rc))
        return cap_error_set(rc, OBJMODEL_COMPONENT, NULL, "out of memory");
    if (*n)
        qsort(*names, *n, sizeof(**names), name_cmp);
    return CAP_OK;
}

CAP_EXPORT cap_result cap_registry_load_manifests(struct cap_registry *reg, const char *dir)
{
    if (!reg || !dir)
        return cap_error_set(CAP_E_POINTER, OBJMODEL_COMPONENT, NULL,
                             "cap_registry_load_manifests: NULL registry or folder");
    char **names = NULL;
    size_t n = 0;
    cap_result rc = list_manifests(dir, &names, &n);
    char *errors = NULL;
    for (size_t i = 0; CAP_SUCCEEDED(rc) && i < n; i++) {
        char *path = cap_str_printf("%s/%s", dir, names[i]);
        struct manifest m;
        if (!path)
            errors_append(&errors, "%s/%s: out of memory", dir, names[i]);
        else if (CAP_SUCCEEDED(manifest_parse(path, &m, &errors))) {
            register_manifest(reg, &m, dir, path, &errors);
            manifest_free(&m);
        }
        cap_free(path);
    }
    for (size_t i = 0; i < n; i++)
        cap_free(names[i]);
    cap_free(names);
    if (errors) {
        rc = cap_error_set(CAP_E_BAD_MANIFEST, OBJMODEL_COMPONENT, NULL, "%s", errors);
        cap_free(errors);
    }
    return rc;
}
