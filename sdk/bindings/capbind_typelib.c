/*
 * sdk/bindings/capbind_typelib.c - the typelibs the process knows, as text
 * (capb_typelib_describe): what the language layers (capsule/_model.py)
 * build their classes from, so that no code is written per interface.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <capsule/capsule.h>
#include <capsule/uuid.h>

#include "capbind_internal.h"

const char *const capb_type_names[CAP_TLT_COUNT_] = {
    [CAP_TLT_VOID] = "void",     [CAP_TLT_BOOL] = "bool",         [CAP_TLT_OCTET] = "octet",
    [CAP_TLT_SHORT] = "short",   [CAP_TLT_USHORT] = "ushort",     [CAP_TLT_LONG] = "long",
    [CAP_TLT_ULONG] = "ulong",   [CAP_TLT_LONGLONG] = "longlong", [CAP_TLT_ULONGLONG] = "ulonglong",
    [CAP_TLT_DOUBLE] = "double", [CAP_TLT_STRING] = "string",     [CAP_TLT_UUID] = "uuid",
    [CAP_TLT_ENUM] = "enum",     [CAP_TLT_IFACE] = "iface",
};
static const char *const dir_names[] = {"in", "out", "return"};

/* Appends to a growing buffer (*buf, *len); never fails silently: NULL on OOM. */
static char *append(char *buf, size_t *len, const char *fmt, ...) CAP_PRINTF(3, 4);

static char *append(char *buf, size_t *len, const char *fmt, ...)
{
    if (!buf)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *nb = realloc(buf, *len + (size_t)n + 1);
    if (!nb) {
        free(buf);
        return NULL;
    }
    va_start(ap, fmt);
    vsnprintf(nb + *len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    *len += (size_t)n;
    return nb;
}

static char *describe_iface(char *b, size_t *len, const struct cap_tl_iface *it)
{
    char id[CAP_UUID_BUFSIZE];
    b = append(b, len, "I\t%s\t%s\t%s\t%u\n", it->name, it->base ? it->base->name : "-",
               cap_uuid_format(it->iid, id), it->first_own);
    for (uint16_t m = 0; m < it->n_own; m++) {
        const struct cap_tl_method *me = &it->own[m];
        static const char *const kinds[] = {"method", "getter", "setter"};
        b = append(b, len, "M\t%u\t%s\t%s\t%s\t%u\n", it->first_own + m, me->name, me->idl_name,
                   kinds[me->kind], me->flags);
        for (uint16_t p = 0; p < me->n_params; p++) {
            const struct cap_tl_param *pa = &me->params[p];
            const char *ref = pa->enm ? pa->enm->name : pa->iface ? pa->iface->name : "-";
            b = append(b, len, "P\t%s\t%s\t%s\t%u\t%s\n", pa->name, capb_type_names[pa->type],
                       dir_names[pa->dir], pa->flags & CAP_TLP_ARRAY ? 1u : 0u, ref);
        }
    }
    return b;
}

/*
 * Records (tab-separated):
 *   L name                       the library
 *   R name value                 a result code
 *   E name / V name value        an enum and its constants
 *   I name base iid first_own    an interface (base "-" for ISupports)
 *   M slot name idl_name kind flags   a method (kind method|getter|setter)
 *   P name type dir array ref    a param of the preceding method (ref: enum
 *                                or interface name, or "-")
 *   C name clsid contract iface  a class
 */
static char *describe(void)
{
    const struct cap_typelib *lib = &capsule_typelib;
    char id[CAP_UUID_BUFSIZE];
    size_t len = 0;
    char *b = calloc(1, 1);
    b = append(b, &len, "L\t%s\n", lib->name);
    for (uint32_t i = 0; i < lib->n_results; i++)
        b = append(b, &len, "R\t%s\t%d\n", lib->results[i].name, (int)lib->results[i].value);
    for (uint32_t i = 0; i < lib->n_enums; i++) {
        const struct cap_tl_enum *e = lib->enums[i];
        b = append(b, &len, "E\t%s\n", e->name);
        for (uint32_t v = 0; v < e->n_values; v++)
            b = append(b, &len, "V\t%s\t%d\n", e->values[v].name, (int)e->values[v].value);
    }
    b = describe_iface(b, &len, &cap_tl_ISupports);
    for (uint32_t i = 0; i < lib->n_ifaces; i++)
        b = describe_iface(b, &len, lib->ifaces[i]);
    for (uint32_t i = 0; i < lib->n_classes; i++) {
        const struct cap_tl_class *c = &lib->classes[i];
        b = append(b, &len, "C\t%s\t%s\t%s\t%s\n", c->name, cap_uuid_format(c->clsid, id),
                   c->contract_id, c->default_iface->name);
    }
    return b;
}

static char *described;

static void describe_once(void)
{
    described = describe();
}

const char *capb_typelib_describe(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, describe_once);
    return described ? described : "";
}
