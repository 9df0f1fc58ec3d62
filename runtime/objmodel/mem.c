/*
 * mem.c - the allocator, strings and arrays that cross interfaces.
 *
 * Everything an interface method hands to its caller through an out or
 * return parameter is allocated here and freed here (capsule/mem.h), so that
 * a component built against another C runtime never frees with the wrong
 * allocator. The functions are thin wrappers over the C library; the only
 * policy they add is that a zero-size request still yields a unique,
 * freeable pointer, so "empty" and "failed" are never confused.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/mem.h>
#include <capsule/supports.h>

CAP_EXPORT void *cap_alloc(size_t size)
{
    return malloc(size ? size : 1);
}

CAP_EXPORT void *cap_alloc_zero(size_t size)
{
    return calloc(1, size ? size : 1);
}

CAP_EXPORT void *cap_realloc(void *p, size_t size)
{
    return realloc(p, size ? size : 1);
}

CAP_EXPORT void cap_free(void *p)
{
    free(p);
}

CAP_EXPORT char *cap_str_dup(const char *s)
{
    return s ? cap_str_ndup(s, strlen(s)) : NULL;
}

CAP_EXPORT char *cap_str_ndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    size_t len = strnlen(s, n);
    char *d = cap_alloc(len + 1);
    if (!d)
        return NULL;
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

CAP_EXPORT char *cap_str_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0)
        return NULL;
    char *s = cap_alloc((size_t)len + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)len + 1, fmt, ap);
    va_end(ap);
    return s;
}

CAP_EXPORT void cap_str_free(char *s)
{
    cap_free(s);
}

CAP_EXPORT size_t cap_tl_type_size(uint8_t type)
{
    switch (type) {
    case CAP_TLT_BOOL:
    case CAP_TLT_OCTET:
        return 1;
    case CAP_TLT_SHORT:
    case CAP_TLT_USHORT:
        return 2;
    case CAP_TLT_LONG:
    case CAP_TLT_ULONG:
    case CAP_TLT_ENUM:
        return 4;
    case CAP_TLT_LONGLONG:
    case CAP_TLT_ULONGLONG:
        return 8;
    case CAP_TLT_DOUBLE:
        return sizeof(double);
    case CAP_TLT_STRING:
        return sizeof(char *);
    case CAP_TLT_UUID:
        return sizeof(cap_uuid);
    case CAP_TLT_IFACE:
        return sizeof(void *);
    default:
        return 0;
    }
}

CAP_EXPORT void cap_array_free(uint8_t type, uint32_t n, void *items)
{
    if (!items)
        return;
    if (type == CAP_TLT_STRING) {
        char **s = items;
        for (uint32_t i = 0; i < n; i++)
            cap_str_free(s[i]);
    } else if (type == CAP_TLT_IFACE) {
        ISupports **p = items;
        for (uint32_t i = 0; i < n; i++)
            if (p[i])
                ISupports_Release(p[i]);
    }
    cap_free(items);
}
