/*
 * vmm/platform/platform_aml.c - the AML and resource-descriptor encoder
 * (platform_aml.h). Terms with a PkgLength are written body first: the
 * opener records where the PkgLength goes, aml_end measures the body and
 * inserts the 1-4 length bytes there (20.2.4: the length counts itself;
 * one byte holds up to 63, else bits 7:6 of the lead byte give the count
 * of following bytes, its bits 3:0 the low nibble).
 */
#include <stdlib.h>
#include <string.h>

#include "platform/platform_aml.h"

void aml_init(struct aml *a)
{
    memset(a, 0, sizeof(*a));
}

void aml_fini(struct aml *a)
{
    free(a->buf);
    memset(a, 0, sizeof(*a));
}

bool aml_finish(struct aml *a, uint8_t **out, size_t *len)
{
    if (a->failed || a->depth) {
        aml_fini(a);
        return false;
    }
    *out = a->buf;
    *len = a->len;
    memset(a, 0, sizeof(*a));
    return true;
}

static bool reserve(struct aml *a, size_t n)
{
    if (a->failed)
        return false;
    if (a->len + n <= a->cap)
        return true;
    size_t cap = a->cap ? a->cap * 2 : 256;
    while (cap < a->len + n)
        cap *= 2;
    uint8_t *b = realloc(a->buf, cap);
    if (!b) {
        a->failed = true;
        return false;
    }
    a->buf = b;
    a->cap = cap;
    return true;
}

void aml_byte(struct aml *a, uint8_t b)
{
    if (reserve(a, 1))
        a->buf[a->len++] = b;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
    if (n && reserve(a, n)) {
        memcpy(a->buf + a->len, p, n);
        a->len += n;
    }
}

static void put_le(struct aml *a, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        aml_byte(a, (uint8_t)(v >> (8 * i)));
}

/* ---- names and data ------------------------------------------------------ */

static bool lead_char(char c)
{
    return (c >= 'A' && c <= 'Z') || c == '_';
}

void aml_name_string(struct aml *a, const char *path)
{
    char segs[16][4];
    unsigned n = 0;
    const char *p = path;
    if (*p == '\\') {
        aml_byte(a, AML_ROOT_CHAR);
        p++;
    } else {
        while (*p == '^') {
            aml_byte(a, AML_PARENT_CHAR);
            p++;
        }
    }
    while (*p) {
        size_t l = strcspn(p, ".");
        if (l == 0 || l > 4 || n == 16 || !lead_char(p[0])) {
            a->failed = true;
            return;
        }
        for (size_t i = 0; i < 4; i++) {
            char c = i < l ? p[i] : '_';
            if (!lead_char(c) && !(c >= '0' && c <= '9')) {
                a->failed = true;
                return;
            }
            segs[n][i] = c;
        }
        n++;
        p += l;
        if (*p == '.' && !*++p) {
            a->failed = true; /* a trailing dot */
            return;
        }
    }
    if (n == 0)
        aml_byte(a, 0x00); /* NullName */
    else if (n == 2)
        aml_byte(a, AML_DUAL_NAME);
    else if (n > 2) {
        aml_byte(a, AML_MULTI_NAME);
        aml_byte(a, (uint8_t)n);
    }
    aml_bytes(a, segs, 4 * (size_t)n);
}

void aml_integer(struct aml *a, uint64_t v)
{
    if (v <= 1) {
        aml_byte(a, v ? AML_ONE_OP : AML_ZERO_OP);
    } else if (v <= 0xff) {
        aml_byte(a, AML_BYTE_PREFIX);
        put_le(a, v, 1);
    } else if (v <= 0xffff) {
        aml_byte(a, AML_WORD_PREFIX);
        put_le(a, v, 2);
    } else if (v <= 0xffffffffu) {
        aml_byte(a, AML_DWORD_PREFIX);
        put_le(a, v, 4);
    } else {
        aml_byte(a, AML_QWORD_PREFIX);
        put_le(a, v, 8);
    }
}

void aml_string(struct aml *a, const char *s)
{
    for (const char *c = s; *c; c++)
        if ((unsigned char)*c > 0x7f) {
            a->failed = true;
            return;
        }
    aml_byte(a, AML_STRING_PREFIX);
    aml_bytes(a, s, strlen(s) + 1);
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void aml_eisaid(struct aml *a, const char *id)
{
    if (strlen(id) != 7) {
        a->failed = true;
        return;
    }
    unsigned mfg = 0, prod = 0;
    for (int i = 0; i < 3; i++) {
        if (id[i] < 'A' || id[i] > 'Z') {
            a->failed = true;
            return;
        }
        mfg = mfg << 5 | (unsigned)(id[i] - 0x40);
    }
    for (int i = 3; i < 7; i++) {
        int d = hex_digit(id[i]);
        if (d < 0) {
            a->failed = true;
            return;
        }
        prod = prod << 4 | (unsigned)d;
    }
    const uint8_t b[5] = {AML_DWORD_PREFIX, (uint8_t)(mfg >> 8), (uint8_t)mfg, (uint8_t)(prod >> 8),
                          (uint8_t)prod};
    aml_bytes(a, b, sizeof(b));
}

void aml_name(struct aml *a, const char *name)
{
    aml_byte(a, AML_NAME_OP);
    aml_name_string(a, name);
}

/* ---- terms with a PkgLength ------------------------------------------- */

static void open_pkg(struct aml *a)
{
    if (a->failed)
        return;
    if (a->depth == AML_MAX_DEPTH) {
        a->failed = true;
        return;
    }
    a->open[a->depth++] = a->len;
}

void aml_end(struct aml *a)
{
    if (a->failed)
        return;
    if (!a->depth) {
        a->failed = true;
        return;
    }
    size_t at = a->open[--a->depth];
    size_t body = a->len - at;
    unsigned n = body + 1 <= 0x3f ? 1 : body + 2 <= 0xfff ? 2 : body + 3 <= 0xfffff ? 3 : 4;
    size_t total = body + n;
    if (total > 0xfffffff) {
        a->failed = true;
        return;
    }
    if (!reserve(a, n))
        return;
    memmove(a->buf + at + n, a->buf + at, body);
    a->len += n;
    if (n == 1) {
        a->buf[at] = (uint8_t)total;
        return;
    }
    a->buf[at] = (uint8_t)((n - 1) << 6 | (total & 0xf));
    for (unsigned i = 1; i < n; i++)
        a->buf[at + i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
}

void aml_scope(struct aml *a, const char *name)
{
    aml_byte(a, AML_SCOPE_OP);
    open_pkg(a);
    aml_name_string(a, name);
}

void aml_device(struct aml *a, const char *name)
{
    aml_byte(a, AML_EXT_OP);
    aml_byte(a, AML_EXT_DEVICE_OP);
    open_pkg(a);
    aml_name_string(a, name);
}

void aml_method(struct aml *a, const char *name, unsigned nargs, bool serialized)
{
    if (nargs > 7) {
        a->failed = true;
        return;
    }
    aml_byte(a, AML_METHOD_OP);
    open_pkg(a);
    aml_name_string(a, name);
    aml_byte(a, (uint8_t)(nargs | (serialized ? 0x08 : 0))); /* MethodFlags, SyncLevel 0 */
}

void aml_package(struct aml *a, unsigned nelem)
{
    if (nelem > 0xff) {
        a->failed = true; /* a VarPackage would be needed */
        return;
    }
    aml_byte(a, AML_PACKAGE_OP);
    open_pkg(a);
    aml_byte(a, (uint8_t)nelem);
}

void aml_if(struct aml *a)
{
    aml_byte(a, AML_IF_OP);
    open_pkg(a);
}

void aml_else(struct aml *a)
{
    aml_byte(a, AML_ELSE_OP);
    open_pkg(a);
}

void aml_field(struct aml *a, const char *region, uint8_t flags)
{
    aml_byte(a, AML_EXT_OP);
    aml_byte(a, AML_EXT_FIELD_OP);
    open_pkg(a);
    aml_name_string(a, region);
    aml_byte(a, flags);
}

void aml_field_unit(struct aml *a, const char *name, unsigned bits)
{
    /* NamedField: NameSeg PkgLength (the PkgLength encoding carries the
     * bit count, without counting itself) */
    size_t l = strlen(name);
    if (l != 4 || bits == 0 || bits > 0xfffff) {
        a->failed = true;
        return;
    }
    aml_name_string(a, name);
    if (bits <= 0x3f) {
        aml_byte(a, (uint8_t)bits);
    } else {
        unsigned n = bits <= 0xfff ? 2 : 3;
        aml_byte(a, (uint8_t)((n - 1) << 6 | (bits & 0xf)));
        for (unsigned i = 1; i < n; i++)
            aml_byte(a, (uint8_t)(bits >> (4 + 8 * (i - 1))));
    }
}

void aml_opregion(struct aml *a, const char *name, uint8_t space, uint64_t offset, uint64_t len)
{
    aml_byte(a, AML_EXT_OP);
    aml_byte(a, AML_EXT_REGION_OP);
    aml_name_string(a, name);
    aml_byte(a, space);
    aml_integer(a, offset);
    aml_integer(a, len);
}

void aml_buffer(struct aml *a, const uint8_t *data, size_t n)
{
    aml_byte(a, AML_BUFFER_OP);
    open_pkg(a);
    aml_integer(a, n);
    aml_bytes(a, data, n);
    aml_end(a);
}

/* ---- resource descriptors ------------------------------------------------- */

void aml_rt_init(struct aml_rt *rt)
{
    memset(rt, 0, sizeof(*rt));
}

static uint8_t *rt_take(struct aml_rt *rt, size_t n)
{
    if (rt->failed || rt->len + n + 2 > AML_RT_MAX) { /* + 2: the End Tag */
        rt->failed = true;
        return NULL;
    }
    uint8_t *p = rt->b + rt->len;
    rt->len += n;
    return p;
}

static void le(uint8_t *p, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void aml_rt_io(struct aml_rt *rt, uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
    uint8_t *p = rt_take(rt, 8);
    if (!p)
        return;
    p[0] = 0x47; /* small item 8 (I/O port), 7 bytes */
    p[1] = 0x01; /* decodes 16 address lines */
    le(p + 2, min, 2);
    le(p + 4, max, 2);
    p[6] = align;
    p[7] = len;
}

void aml_rt_irq_noflags(struct aml_rt *rt, uint16_t mask)
{
    uint8_t *p = rt_take(rt, 3);
    if (!p)
        return;
    p[0] = 0x22; /* small item 4 (IRQ), 2 bytes: no information byte */
    le(p + 1, mask, 2);
}

/* Word Address Space Descriptor: tag 0x88, length 13, resource type,
 * general flags (MinFixed bit 2, MaxFixed bit 3; producer, PosDecode),
 * type-specific flags, granularity, min, max, translation, length. */
static void word_space(struct aml_rt *rt, uint8_t type, uint8_t tflags, uint16_t min, uint16_t max)
{
    uint8_t *p = rt_take(rt, 16);
    if (!p)
        return;
    memset(p, 0, 16);
    p[0] = 0x88;
    p[1] = 13;
    p[3] = type;
    p[4] = 0x0c;
    p[5] = tflags;
    le(p + 8, min, 2);
    le(p + 10, max, 2);
    le(p + 14, (uint32_t)max - min + 1, 2);
}

void aml_rt_word_bus(struct aml_rt *rt, uint16_t min, uint16_t max)
{
    word_space(rt, 2, 0, min, max);
}

void aml_rt_word_io(struct aml_rt *rt, uint16_t min, uint16_t max)
{
    word_space(rt, 1, 0x03 /* EntireRange */, min, max);
}

void aml_rt_dword_mem(struct aml_rt *rt, uint32_t min, uint32_t max)
{
    uint8_t *p = rt_take(rt, 26);
    if (!p)
        return;
    memset(p, 0, 26);
    p[0] = 0x87; /* DWord Address Space Descriptor, length 23 */
    p[1] = 23;
    p[3] = 0;    /* memory */
    p[4] = 0x0c; /* MinFixed, MaxFixed, producer, PosDecode */
    p[5] = 0x03; /* ReadWrite (bit 0), Cacheable (bits 2:1 = 1) */
    le(p + 10, min, 4);
    le(p + 14, max, 4);
    le(p + 22, (uint64_t)max - min + 1, 4);
}

void aml_rt_ext_irq(struct aml_rt *rt, uint8_t flags, const uint32_t *irqs, unsigned n)
{
    if (n == 0 || n > 8) {
        rt->failed = true;
        return;
    }
    uint8_t *p = rt_take(rt, 5 + 4 * (size_t)n);
    if (!p)
        return;
    p[0] = 0x89; /* Extended Interrupt Descriptor */
    le(p + 1, 2 + 4 * n, 2);
    p[3] = flags;
    p[4] = (uint8_t)n;
    for (unsigned i = 0; i < n; i++)
        le(p + 5 + 4 * i, irqs[i], 4);
}

void aml_resource_template(struct aml *a, const struct aml_rt *rt)
{
    if (rt->failed) {
        a->failed = true;
        return;
    }
    uint8_t b[AML_RT_MAX];
    memcpy(b, rt->b, rt->len);
    b[rt->len] = 0x79; /* End Tag */
    b[rt->len + 1] = 0x00;
    aml_buffer(a, b, rt->len + 2);
}
