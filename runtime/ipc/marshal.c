/*
 * marshal.c - IDL values to bytes and back, driven only by the typelib.
 *
 * One routine per direction walks a method's params (struct cap_tl_param)
 * and moves each struct cap_xpt_value to or from the wire; nothing here knows
 * any interface. Interface pointers are handed to a struct ipc_iface_ops,
 * which turns them into handles (objects.c), so this file stays pure and the
 * fuzzer can drive the decoder without a connection.
 *
 * The decoder trusts nothing: every length is checked against the bytes
 * left before anything is allocated (an array of N elements needs at least
 * N times the smallest wire size of its element), strings must not contain
 * NUL, booleans are 0 or 1, enums must be values of their enum, interfaces
 * must name a known interface of the param's type.
 */
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/result.h>
#include <capsule/uuid.h>

#include "ipc_internal.h"

static int dir_selected(const struct cap_tl_param *p, unsigned dirs)
{
    return p->dir == CAP_TLD_IN ? (dirs & IPC_DIR_IN) != 0 : (dirs & IPC_DIR_OUT) != 0;
}

/* Smallest number of bytes one element of `type` takes on the wire. */
static size_t wire_min(uint8_t type)
{
    switch (type) {
    case CAP_TLT_BOOL:
    case CAP_TLT_OCTET:
    case CAP_TLT_IFACE:
        return 1;
    case CAP_TLT_SHORT:
    case CAP_TLT_USHORT:
        return 2;
    case CAP_TLT_LONG:
    case CAP_TLT_ULONG:
    case CAP_TLT_ENUM:
    case CAP_TLT_STRING:
        return 4;
    case CAP_TLT_UUID:
        return 16;
    default:
        return 8;
    }
}

/* Encodes one element at `p` (a pointer to the C value). */
static cap_result enc_one(struct ipc_buf *b, const struct cap_tl_param *prm, const void *p,
                          const struct ipc_iface_ops *ops, void *ctx)
{
    switch (prm->type) {
    case CAP_TLT_BOOL:
        ipc_buf_u8(b, *(const cap_bool *)p ? 1 : 0);
        break;
    case CAP_TLT_OCTET:
        ipc_buf_u8(b, *(const uint8_t *)p);
        break;
    case CAP_TLT_SHORT:
    case CAP_TLT_USHORT:
        ipc_buf_u16(b, *(const uint16_t *)p);
        break;
    case CAP_TLT_LONG:
    case CAP_TLT_ULONG:
    case CAP_TLT_ENUM:
        ipc_buf_u32(b, *(const uint32_t *)p);
        break;
    case CAP_TLT_LONGLONG:
    case CAP_TLT_ULONGLONG:
    case CAP_TLT_DOUBLE: {
        uint64_t v;
        memcpy(&v, p, 8);
        ipc_buf_u64(b, v);
        break;
    }
    case CAP_TLT_STRING:
        ipc_buf_str(b, *(char *const *)p);
        break;
    case CAP_TLT_UUID:
        ipc_buf_put(b, p, 16);
        break;
    case CAP_TLT_IFACE: {
        void *obj = *(void *const *)p;
        if (!obj) {
            ipc_buf_u8(b, IPC_IFACE_NULL);
            break;
        }
        if (!prm->iface)
            return CAP_E_NO_TYPEINFO;
        return ops->encode(ctx, b, obj, prm->iface);
    }
    default:
        return CAP_E_NO_TYPEINFO;
    }
    return CAP_OK;
}

/* Where the C value of a scalar param lives inside a cap_xpt_value. */
static const void *scalar_ptr(const struct cap_xpt_value *v)
{
    return v; /* every member of the union starts at its beginning */
}

cap_result ipc_encode_values(struct ipc_buf *b, const struct cap_tl_iface *tl,
                             const struct cap_tl_method *m, const struct cap_xpt_value *v,
                             unsigned dirs, const struct ipc_iface_ops *ops, void *ctx)
{
    for (uint32_t i = 0; i < m->n_params; i++) {
        const struct cap_tl_param *prm = &m->params[i];
        if (!dir_selected(prm, dirs))
            continue;
        cap_result rc = CAP_OK;
        if (prm->flags & CAP_TLP_ARRAY) {
            uint32_t n = v[i].arr.count;
            size_t sz = cap_tl_type_size(prm->type);
            if (n && !v[i].arr.items)
                return cap_error_set(CAP_E_POINTER, IPC_COMP, tl->name,
                                     "%s: array '%s' has %u elements and no items", m->name,
                                     prm->name, n);
            ipc_buf_u32(b, n);
            for (uint32_t k = 0; k < n && CAP_SUCCEEDED(rc); k++)
                rc = enc_one(b, prm, (const char *)v[i].arr.items + k * sz, ops, ctx);
        } else if (prm->type == CAP_TLT_UUID) {
            rc = enc_one(b, prm, &v[i].uuid, ops, ctx);
        } else {
            rc = enc_one(b, prm, scalar_ptr(&v[i]), ops, ctx);
        }
        if (CAP_FAILED(rc))
            return rc;
    }
    return b->oom ? CAP_E_OUTOFMEMORY : CAP_OK;
}

static cap_result bad(const struct cap_tl_iface *tl, const struct cap_tl_method *m,
                      const struct cap_tl_param *prm, const char *what)
{
    return cap_error_set(CAP_E_IPC_PROTOCOL, IPC_COMP, tl->name, "bad value for %s::%s param '%s': %s",
                         tl->name, m->name, prm->name, what);
}

static int enum_valid(const struct cap_tl_enum *e, int32_t v)
{
    if (!e)
        return 1;
    for (uint32_t i = 0; i < e->n_values; i++)
        if (e->values[i].value == v)
            return 1;
    return 0;
}

static cap_result dec_iface(struct ipc_rd *r, const struct cap_tl_iface *tl,
                            const struct cap_tl_method *m, const struct cap_tl_param *prm, void **out,
                            const struct ipc_iface_ops *ops, void *ctx)
{
    uint8_t kind;
    uint64_t h;
    cap_uuid iid;
    if (!ipc_rd_u8(r, &kind))
        return bad(tl, m, prm, "truncated");
    if (kind == IPC_IFACE_NULL)
        return CAP_OK;
    if (kind != IPC_IFACE_SENDER && kind != IPC_IFACE_RECEIVER)
        return bad(tl, m, prm, "unknown interface kind");
    if (!ipc_rd_u64(r, &h) || !ipc_rd_bytes(r, &iid, 16))
        return bad(tl, m, prm, "truncated");
    const struct cap_tl_iface *it = cap_typelib_find_iface(&iid);
    if (!it || !prm->iface || !cap_tl_iface_is_a(it, prm->iface->iid)) {
        char s[CAP_UUID_BUFSIZE];
        return cap_error_set(CAP_E_IPC_PROTOCOL, IPC_COMP, tl->name,
                             "bad value for %s::%s param '%s': interface {%s} is %s", tl->name,
                             m->name, prm->name, cap_uuid_format(&iid, s),
                             it ? "not of the param's type" : "unknown");
    }
    if (h == 0)
        return bad(tl, m, prm, "handle 0");
    return ops->decode(ctx, kind, h, it, out);
}

/* Decodes one element into the C value at p (zeroed). */
static cap_result dec_one(struct ipc_rd *r, const struct cap_tl_iface *tl,
                          const struct cap_tl_method *m, const struct cap_tl_param *prm, void *p,
                          const struct ipc_iface_ops *ops, void *ctx)
{
    int ok = 1, oom = 0;
    switch (prm->type) {
    case CAP_TLT_BOOL:
        ok = ipc_rd_u8(r, p);
        if (ok && *(uint8_t *)p > 1)
            return bad(tl, m, prm, "boolean not 0 or 1");
        break;
    case CAP_TLT_OCTET:
        ok = ipc_rd_u8(r, p);
        break;
    case CAP_TLT_SHORT:
    case CAP_TLT_USHORT:
        ok = ipc_rd_u16(r, p);
        break;
    case CAP_TLT_LONG:
    case CAP_TLT_ULONG:
        ok = ipc_rd_u32(r, p);
        break;
    case CAP_TLT_ENUM:
        ok = ipc_rd_u32(r, p);
        if (ok && !enum_valid(prm->enm, *(int32_t *)p))
            return bad(tl, m, prm, "not a value of its enum");
        break;
    case CAP_TLT_LONGLONG:
    case CAP_TLT_ULONGLONG:
    case CAP_TLT_DOUBLE:
        ok = ipc_rd_u64(r, p);
        break;
    case CAP_TLT_STRING:
        ok = ipc_rd_str(r, p, &oom);
        if (oom)
            return CAP_E_OUTOFMEMORY;
        if (!ok)
            return bad(tl, m, prm, "truncated string or embedded NUL");
        break;
    case CAP_TLT_UUID:
        ok = ipc_rd_bytes(r, p, 16);
        break;
    case CAP_TLT_IFACE:
        return dec_iface(r, tl, m, prm, p, ops, ctx);
    default:
        return cap_error_set(CAP_E_NO_TYPEINFO, IPC_COMP, tl->name, "%s::%s param '%s': type %u",
                             tl->name, m->name, prm->name, prm->type);
    }
    return ok ? CAP_OK : bad(tl, m, prm, "truncated");
}

static cap_result dec_array(struct ipc_rd *r, const struct cap_tl_iface *tl,
                            const struct cap_tl_method *m, const struct cap_tl_param *prm,
                            struct cap_xpt_array *a, const struct ipc_iface_ops *ops, void *ctx)
{
    uint32_t n;
    if (!ipc_rd_u32(r, &n))
        return bad(tl, m, prm, "truncated array count");
    if ((uint64_t)n * wire_min(prm->type) > ipc_rd_left(r))
        return bad(tl, m, prm, "array count larger than the message");
    if (n == 0)
        return CAP_OK;
    size_t sz = cap_tl_type_size(prm->type);
    void *items = cap_alloc_zero((size_t)n * sz);
    if (!items)
        return CAP_E_OUTOFMEMORY;
    for (uint32_t k = 0; k < n; k++) {
        cap_result rc = dec_one(r, tl, m, prm, (char *)items + k * sz, ops, ctx);
        if (CAP_FAILED(rc)) {
            cap_array_free(prm->type, k, items);
            return rc;
        }
    }
    a->count = n;
    a->items = items;
    return CAP_OK;
}

cap_result ipc_decode_values(struct ipc_rd *r, const struct cap_tl_iface *tl,
                             const struct cap_tl_method *m, struct cap_xpt_value *v, unsigned dirs,
                             const struct ipc_iface_ops *ops, void *ctx)
{
    for (uint32_t i = 0; i < m->n_params; i++)
        if (dir_selected(&m->params[i], dirs))
            memset(&v[i], 0, sizeof(v[i]));
    for (uint32_t i = 0; i < m->n_params; i++) {
        const struct cap_tl_param *prm = &m->params[i];
        if (!dir_selected(prm, dirs))
            continue;
        cap_result rc;
        if (prm->flags & CAP_TLP_ARRAY)
            rc = dec_array(r, tl, m, prm, &v[i].arr, ops, ctx);
        else if (prm->type == CAP_TLT_UUID)
            rc = dec_one(r, tl, m, prm, &v[i].uuid, ops, ctx);
        else
            rc = dec_one(r, tl, m, prm, &v[i], ops, ctx);
        if (CAP_FAILED(rc)) {
            for (uint32_t k = 0; k < i; k++)
                if (dir_selected(&m->params[k], dirs))
                    cap_xpt_value_clear(&m->params[k], &v[k]);
            if (rc == CAP_E_OUTOFMEMORY)
                cap_error_set(rc, IPC_COMP, tl->name, "out of memory decoding %s::%s", tl->name,
                              m->name);
            return rc;
        }
    }
    return CAP_OK;
}
