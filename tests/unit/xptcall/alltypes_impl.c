/*
 * alltypes_impl.c - the real object behind the xptcall tests: IAllTypes
 * written in plain C against the generated header, the way any component
 * would write it (one struct embedding the interface, a QueryInterface
 * table, an atomic count). Transforms are described in alltypes_impl.h.
 */
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/object.h>

#include "alltypes_impl.h"

struct alltypes {
    IAllTypes iface;
    cap_refcnt ref;
    char *name;      /* set by setName; owned */
    int32_t counter; /* set by setCounter */
};

static uint32_t live;

const cap_uuid alltypes_id = {{0xde, 0xad, 0xbe, 0xef, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
                               0x77, 0x88, 0x99, 0xaa, 0xbb}};

static struct alltypes *impl(IAllTypes *iface)
{
    return CAP_CONTAINER_OF(iface, struct alltypes, iface);
}

static const struct cap_qi_entry qi_table[] = {
    CAP_QI_ENTRY(IID_IAllTypes, struct alltypes, iface),
    CAP_QI_ENTRY(IID_IAllTypesBase, struct alltypes, iface),
    CAP_QI_END,
};

static cap_result at_qi(IAllTypes *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(impl(self), qi_table, iid, out);
}

static uint32_t at_add_ref(IAllTypes *self)
{
    return cap_refcnt_inc(&impl(self)->ref);
}

static uint32_t at_release(IAllTypes *self)
{
    struct alltypes *o = impl(self);
    uint32_t n = cap_refcnt_dec(&o->ref);
    if (n == 0) {
        cap_str_free(o->name);
        free(o);
        __atomic_sub_fetch(&live, 1, __ATOMIC_RELAXED);
    }
    return n;
}

/* ---- attributes and simple methods ---------------------------------------- */

static cap_result at_get_name(IAllTypes *self, char **out)
{
    const char *n = impl(self)->name;
    *out = cap_str_dup(n);
    return n && !*out ? CAP_E_OUTOFMEMORY : CAP_OK;
}

static cap_result at_set_name(IAllTypes *self, const char *name)
{
    char *copy = cap_str_dup(name);
    if (name && !copy)
        return CAP_E_OUTOFMEMORY;
    cap_str_free(impl(self)->name);
    impl(self)->name = copy;
    return CAP_OK;
}

static cap_result at_get_id(IAllTypes *self, cap_uuid *out)
{
    *out = alltypes_id;
    return CAP_OK;
}

static cap_result at_ping(IAllTypes *self, int32_t x, int32_t *r)
{
    *r = x + 1;
    return CAP_OK;
}

static cap_result at_get_counter(IAllTypes *self, int32_t *out)
{
    *out = impl(self)->counter;
    return CAP_OK;
}

static cap_result at_set_counter(IAllTypes *self, int32_t v)
{
    impl(self)->counter = v;
    return CAP_OK;
}

static cap_result at_get_color(IAllTypes *self, Color *out)
{
    *out = Color_Green;
    return CAP_OK;
}

static cap_result at_nothing(IAllTypes *self)
{
    return CAP_OK;
}

/* ---- transforms ------------------------------------------------------------ */

Color alltypes_next_color(Color c)
{
    switch (c) {
    case Color_Red:
        return Color_Green;
    case Color_Green:
        return Color_Blue;
    case Color_Blue:
        return Color_Big;
    default:
        return Color_Red;
    }
}

void alltypes_reverse_uuid(const cap_uuid *in, cap_uuid *out)
{
    cap_uuid t;
    for (int i = 0; i < 16; i++)
        t.b[i] = in->b[15 - i];
    *out = t;
}

static char *reverse_str(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *r = cap_alloc(n + 1);
    if (!r)
        return NULL;
    for (size_t i = 0; i < n; i++)
        r[i] = s[n - 1 - i];
    r[n] = '\0';
    return r;
}

/*
 * The echo pair of a plain-value type T with transform X(v): scalars are
 * copied; arrays come back as (0, NULL) in b when empty, and as a real
 * zero-size block in r, so both legal forms of an empty array are seen.
 */
#define ECHO_VALUE(Name, T, X)                                                                     \
    static cap_result at_echo_##Name(IAllTypes *self, T a, T *b, T *r)                             \
    {                                                                                              \
        *b = X(a);                                                                                 \
        *r = a;                                                                                    \
        return CAP_OK;                                                                             \
    }                                                                                              \
    static cap_result at_echo_##Name##_array(IAllTypes *self, uint32_t n, const T *a,              \
                                             uint32_t *bn, T **b, uint32_t *rn, T **r)             \
    {                                                                                              \
        T *bb = n ? cap_alloc(n * sizeof(T)) : NULL;                                               \
        T *rr = cap_alloc(n * sizeof(T));                                                          \
        if ((n && !bb) || !rr) {                                                                   \
            cap_free(bb);                                                                          \
            cap_free(rr);                                                                          \
            return CAP_E_OUTOFMEMORY;                                                              \
        }                                                                                          \
        for (uint32_t i = 0; i < n; i++) {                                                         \
            bb[i] = X(a[n - 1 - i]);                                                               \
            rr[i] = a[i];                                                                          \
        }                                                                                          \
        *bn = n;                                                                                   \
        *b = bb;                                                                                   \
        *rn = n;                                                                                   \
        *r = rr;                                                                                   \
        return CAP_OK;                                                                             \
    }

#define NOT_BOOL(v)   ((cap_bool) !(v))
#define COMPLEMENT(v) ((__typeof__(v))~(v))
#define TIMES_M2(v)   ((v) * -2.0)

ECHO_VALUE(bool, cap_bool, NOT_BOOL)
ECHO_VALUE(octet, uint8_t, COMPLEMENT)
ECHO_VALUE(short, int16_t, COMPLEMENT)
ECHO_VALUE(ushort, uint16_t, COMPLEMENT)
ECHO_VALUE(long, int32_t, COMPLEMENT)
ECHO_VALUE(ulong, uint32_t, COMPLEMENT)
ECHO_VALUE(longlong, int64_t, COMPLEMENT)
ECHO_VALUE(ulonglong, uint64_t, COMPLEMENT)
ECHO_VALUE(double, double, TIMES_M2)
ECHO_VALUE(color, Color, alltypes_next_color)

/* uuids come by address, so they get their own pair. */
static cap_result at_echo_uuid(IAllTypes *self, const cap_uuid *a, cap_uuid *b, cap_uuid *r)
{
    if (!a)
        return CAP_E_POINTER;
    alltypes_reverse_uuid(a, b);
    *r = *a;
    return CAP_OK;
}

static cap_result at_echo_uuid_array(IAllTypes *self, uint32_t n, const cap_uuid *a, uint32_t *bn,
                                     cap_uuid **b, uint32_t *rn, cap_uuid **r)
{
    cap_uuid *bb = cap_alloc(n * sizeof(*bb)), *rr = cap_alloc(n * sizeof(*rr));
    if (!bb || !rr) {
        cap_free(bb);
        cap_free(rr);
        return CAP_E_OUTOFMEMORY;
    }
    for (uint32_t i = 0; i < n; i++) {
        alltypes_reverse_uuid(&a[n - 1 - i], &bb[i]);
        rr[i] = a[i];
    }
    *bn = *rn = n;
    *b = bb;
    *r = rr;
    return CAP_OK;
}

static cap_result at_echo_string(IAllTypes *self, const char *a, char **b, char **r)
{
    char *bb = reverse_str(a), *rr = cap_str_dup(a);
    if (a && (!bb || !rr)) {
        cap_str_free(bb);
        cap_str_free(rr);
        return CAP_E_OUTOFMEMORY;
    }
    *b = bb;
    *r = rr;
    return CAP_OK;
}

static cap_result at_echo_string_array(IAllTypes *self, uint32_t n, char *const *a, uint32_t *bn,
                                       char ***b, uint32_t *rn, char ***r)
{
    char **bb = cap_alloc_zero(n * sizeof(*bb)), **rr = cap_alloc_zero(n * sizeof(*rr));
    if (!bb || !rr)
        goto oom;
    for (uint32_t i = 0; i < n; i++) {
        bb[i] = reverse_str(a[n - 1 - i]);
        rr[i] = cap_str_dup(a[i]);
        if ((a[n - 1 - i] && !bb[i]) || (a[i] && !rr[i]))
            goto oom;
    }
    *bn = *rn = n;
    *b = bb;
    *r = rr;
    return CAP_OK;
oom:
    cap_array_free(CAP_TLT_STRING, n, bb);
    cap_array_free(CAP_TLT_STRING, n, rr);
    return CAP_E_OUTOFMEMORY;
}

static cap_result at_echo_iface(IAllTypes *self, IAllTypesBase *a, IAllTypesBase **b,
                                IAllTypesBase **r)
{
    if (a) {
        CAP_ADDREF(a);
        CAP_ADDREF(a);
    }
    *b = a;
    *r = a;
    return CAP_OK;
}

static cap_result at_echo_iface_array(IAllTypes *self, uint32_t n, IAllTypesBase *const *a,
                                      uint32_t *bn, IAllTypesBase ***b, uint32_t *rn,
                                      IAllTypesBase ***r)
{
    IAllTypesBase **bb = cap_alloc(n * sizeof(*bb)), **rr = cap_alloc(n * sizeof(*rr));
    if (!bb || !rr) {
        cap_free(bb);
        cap_free(rr);
        return CAP_E_OUTOFMEMORY;
    }
    for (uint32_t i = 0; i < n; i++) {
        bb[i] = a[n - 1 - i];
        rr[i] = a[i];
        if (a[i]) {
            CAP_ADDREF(a[i]);
            CAP_ADDREF(a[i]);
        }
    }
    *bn = *rn = n;
    *b = bb;
    *r = rr;
    return CAP_OK;
}

static cap_result at_any_object(IAllTypes *self, ISupports *obj, ISupports **same)
{
    if (obj)
        CAP_ADDREF(obj);
    *same = obj;
    return CAP_OK;
}

static cap_result at_mixed(IAllTypes *self, uint8_t a1, double d1, int16_t a2, double d2,
                           double *dsum, int32_t a3, double d3, int64_t a4, double d4,
                           const char *s, double d5, const cap_uuid *u, double d6, cap_bool flag,
                           int64_t *isum, double d7, Color c, double d8, double d9, double d10,
                           uint16_t a5, uint32_t arrCount, const int32_t *arr, char **summary,
                           uint32_t *count)
{
    int64_t si = (int64_t)a1 + a2 + a3 + a4 + a5 + flag + (int64_t)c + (u ? u->b[0] : 0);
    double sd = d1 + d2 + d3 + d4 + d5 + d6 + d7 + d8 + d9 + d10;
    for (uint32_t i = 0; i < arrCount; i++) {
        si += arr[i];
        sd += arr[i];
    }
    char *sum = cap_str_printf("%s/%u", s ? s : "(null)", arrCount);
    if (!sum)
        return CAP_E_OUTOFMEMORY;
    *dsum = sd;
    *isum = si;
    *summary = sum;
    *count = arrCount;
    return CAP_OK;
}

static cap_result at_fail(IAllTypes *self, int32_t code, const char *message, char **leftover)
{
    *leftover = NULL;
    return cap_error_set(code, "alltypes", "IAllTypes", "%s", message ? message : "(null)");
}

static const struct IAllTypesVtbl at_vtbl = {
    .QueryInterface = at_qi,
    .AddRef = at_add_ref,
    .Release = at_release,
    .GetName = at_get_name,
    .SetName = at_set_name,
    .GetId = at_get_id,
    .Ping = at_ping,
    .GetCounter = at_get_counter,
    .SetCounter = at_set_counter,
    .GetColor = at_get_color,
    .Nothing = at_nothing,
    .EchoBool = at_echo_bool,
    .EchoBoolArray = at_echo_bool_array,
    .EchoOctet = at_echo_octet,
    .EchoOctetArray = at_echo_octet_array,
    .EchoShort = at_echo_short,
    .EchoShortArray = at_echo_short_array,
    .EchoUShort = at_echo_ushort,
    .EchoUShortArray = at_echo_ushort_array,
    .EchoLong = at_echo_long,
    .EchoLongArray = at_echo_long_array,
    .EchoULong = at_echo_ulong,
    .EchoULongArray = at_echo_ulong_array,
    .EchoLongLong = at_echo_longlong,
    .EchoLongLongArray = at_echo_longlong_array,
    .EchoULongLong = at_echo_ulonglong,
    .EchoULongLongArray = at_echo_ulonglong_array,
    .EchoDouble = at_echo_double,
    .EchoDoubleArray = at_echo_double_array,
    .EchoString = at_echo_string,
    .EchoStringArray = at_echo_string_array,
    .EchoUuid = at_echo_uuid,
    .EchoUuidArray = at_echo_uuid_array,
    .EchoColor = at_echo_color,
    .EchoColorArray = at_echo_color_array,
    .EchoIface = at_echo_iface,
    .EchoIfaceArray = at_echo_iface_array,
    .AnyObject = at_any_object,
    .Mixed = at_mixed,
    .Fail = at_fail,
};

IAllTypes *alltypes_new(void)
{
    struct alltypes *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    o->iface.vtbl = &at_vtbl;
    cap_refcnt_init(&o->ref, 1);
    __atomic_add_fetch(&live, 1, __ATOMIC_RELAXED);
    return &o->iface;
}

uint32_t alltypes_live(void)
{
    return __atomic_load_n(&live, __ATOMIC_RELAXED);
}

uint32_t alltypes_refs(IAllTypes *obj)
{
    return cap_refcnt_get(&impl(obj)->ref);
}
