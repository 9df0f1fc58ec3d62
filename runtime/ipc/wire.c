/*
 * wire.c - frames, byte buffers, readers and a small hash map.
 *
 * The frame decoder is a pure function over a buffer so that the reader
 * thread, the unit tests and the fuzzer all run exactly the same checks.
 * Everything is little-endian on the wire, written byte by byte so that no
 * unaligned access or host byte order leaks into the format.
 */
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/result.h>

#include "ipc_internal.h"

static uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t ld64(const uint8_t *p)
{
    return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32;
}

static void st32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void st64(uint8_t *p, uint64_t v)
{
    st32(p, (uint32_t)v);
    st32(p + 4, (uint32_t)(v >> 32));
}

cap_result ipc_frame_decode(const uint8_t *buf, size_t len, uint32_t max_payload,
                            struct ipc_frame *f)
{
    memset(f, 0, sizeof(*f));
    if (!buf || len < IPC_HDR_SIZE)
        return CAP_E_IPC_TRUNCATED;
    uint32_t magic = ld32(buf);
    if (magic != IPC_MAGIC)
        return cap_error_set(CAP_E_IPC_PROTOCOL, IPC_COMP, NULL, "bad frame magic 0x%08x", magic);
    if (buf[4] != IPC_VERSION)
        return cap_error_set(CAP_E_IPC_PROTOCOL, IPC_COMP, NULL,
                             "unsupported protocol version %u (expected %u)", buf[4], IPC_VERSION);
    f->type = buf[5];
    if (f->type < 1 || f->type > IPC_MSG_MAX_)
        return cap_error_set(CAP_E_IPC_PROTOCOL, IPC_COMP, NULL, "unknown frame type %u", f->type);
    f->flags = (uint16_t)(buf[6] | buf[7] << 8);
    if (f->flags != 0)
        return cap_error_set(CAP_E_IPC_PROTOCOL, IPC_COMP, NULL, "unknown frame flags 0x%x",
                             f->flags);
    f->req_id = ld64(buf + 8);
    f->length = ld32(buf + 16);
    if (ld32(buf + 20) != 0)
        return cap_error_set(CAP_E_IPC_PROTOCOL, IPC_COMP, NULL, "reserved header field not 0");
    if (f->length > max_payload)
        return cap_error_set(CAP_E_IPC_TOO_BIG, IPC_COMP, NULL,
                             "frame of %u bytes exceeds the limit of %u", f->length, max_payload);
    int no_reply = f->type == IPC_MSG_RELEASE || f->type == IPC_MSG_CLOSE;
    if (no_reply ? f->req_id != 0 : f->req_id == 0)
        return cap_error_set(CAP_E_IPC_PROTOCOL, IPC_COMP, NULL,
                             "bad request id %llu for frame type %u",
                             (unsigned long long)f->req_id, f->type);
    if (len - IPC_HDR_SIZE < f->length)
        return CAP_E_IPC_TRUNCATED;
    f->payload = buf + IPC_HDR_SIZE;
    return CAP_OK;
}

/* --- buffers --- */

void ipc_buf_init(struct ipc_buf *b)
{
    memset(b, 0, sizeof(*b));
    ipc_buf_put(b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", IPC_HDR_SIZE);
}

void ipc_buf_init_on(struct ipc_buf *b, void *storage, size_t n)
{
    memset(b, 0, sizeof(*b));
    if (n >= IPC_HDR_SIZE) {
        b->data = storage;
        b->cap = n;
        b->borrowed = 1;
    }
    ipc_buf_put(b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", IPC_HDR_SIZE);
}

void ipc_buf_free(struct ipc_buf *b)
{
    if (!b->borrowed)
        cap_free(b->data);
    memset(b, 0, sizeof(*b));
}

void ipc_buf_put(struct ipc_buf *b, const void *p, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *d = b->borrowed ? cap_alloc(cap) : cap_realloc(b->data, cap);
        if (!d) {
            b->oom = 1;
            return;
        }
        if (b->borrowed && b->len)
            memcpy(d, b->data, b->len);
        b->borrowed = 0;
        b->data = d;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

void ipc_buf_u8(struct ipc_buf *b, uint8_t v)
{
    ipc_buf_put(b, &v, 1);
}

void ipc_buf_u16(struct ipc_buf *b, uint16_t v)
{
    uint8_t t[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    ipc_buf_put(b, t, 2);
}

void ipc_buf_u32(struct ipc_buf *b, uint32_t v)
{
    uint8_t t[4];
    st32(t, v);
    ipc_buf_put(b, t, 4);
}

void ipc_buf_u64(struct ipc_buf *b, uint64_t v)
{
    uint8_t t[8];
    st64(t, v);
    ipc_buf_put(b, t, 8);
}

void ipc_buf_str(struct ipc_buf *b, const char *s)
{
    if (!s) {
        ipc_buf_u32(b, 0);
        return;
    }
    size_t n = strlen(s);
    if (n >= UINT32_MAX) {
        b->oom = 1;
        return;
    }
    ipc_buf_u32(b, (uint32_t)n + 1);
    ipc_buf_put(b, s, n);
}

void ipc_buf_finish(struct ipc_buf *b, uint8_t type, uint64_t req_id)
{
    if (b->oom || b->len < IPC_HDR_SIZE)
        return;
    uint8_t *h = b->data;
    st32(h, IPC_MAGIC);
    h[4] = IPC_VERSION;
    h[5] = type;
    h[6] = h[7] = 0;
    st64(h + 8, req_id);
    st32(h + 16, (uint32_t)(b->len - IPC_HDR_SIZE));
    st32(h + 20, 0);
}

void ipc_close_msg(struct ipc_buf *b, cap_result rc, const char *reason)
{
    ipc_buf_u32(b, (uint32_t)rc);
    ipc_buf_str(b, reason);
    ipc_buf_finish(b, IPC_MSG_CLOSE, 0);
}

/* --- the receive-buffer budget --- */

struct ipc_budget *ipc_budget_new(uint64_t limit)
{
    struct ipc_budget *b = cap_alloc_zero(sizeof(*b));
    if (b) {
        cap_refcnt_init(&b->ref, 1);
        b->limit = limit;
    }
    return b;
}

void ipc_budget_ref(struct ipc_budget *b)
{
    cap_refcnt_inc(&b->ref);
}

void ipc_budget_unref(struct ipc_budget *b)
{
    if (b && cap_refcnt_dec(&b->ref) == 0)
        cap_free(b);
}

int ipc_budget_charge(struct ipc_budget *b, uint64_t n)
{
    uint64_t cur = __atomic_load_n(&b->used, __ATOMIC_RELAXED);
    do {
        if (n > b->limit || cur > b->limit - n)
            return 0;
    } while (!__atomic_compare_exchange_n(&b->used, &cur, cur + n, 1, __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
    return 1;
}

void ipc_budget_uncharge(struct ipc_budget *b, uint64_t n)
{
    __atomic_fetch_sub(&b->used, n, __ATOMIC_RELAXED);
}

uint64_t ipc_budget_used(struct ipc_budget *b)
{
    return b ? __atomic_load_n(&b->used, __ATOMIC_RELAXED) : 0;
}

/* --- readers --- */

int ipc_rd_bytes(struct ipc_rd *r, void *out, size_t n)
{
    if (ipc_rd_left(r) < n)
        return 0;
    memcpy(out, r->p + r->pos, n);
    r->pos += n;
    return 1;
}

int ipc_rd_u8(struct ipc_rd *r, uint8_t *v)
{
    return ipc_rd_bytes(r, v, 1);
}

int ipc_rd_u16(struct ipc_rd *r, uint16_t *v)
{
    uint8_t t[2];
    if (!ipc_rd_bytes(r, t, 2))
        return 0;
    *v = (uint16_t)(t[0] | t[1] << 8);
    return 1;
}

int ipc_rd_u32(struct ipc_rd *r, uint32_t *v)
{
    uint8_t t[4];
    if (!ipc_rd_bytes(r, t, 4))
        return 0;
    *v = ld32(t);
    return 1;
}

int ipc_rd_u64(struct ipc_rd *r, uint64_t *v)
{
    uint8_t t[8];
    if (!ipc_rd_bytes(r, t, 8))
        return 0;
    *v = ld64(t);
    return 1;
}

int ipc_rd_str(struct ipc_rd *r, char **out, int *oom)
{
    uint32_t n;
    *out = NULL;
    if (!ipc_rd_u32(r, &n))
        return 0;
    if (n == 0)
        return 1;
    n--;
    if (ipc_rd_left(r) < n)
        return 0;
    const uint8_t *s = r->p + r->pos;
    if (memchr(s, 0, n))
        return 0;
    char *c = cap_str_ndup((const char *)s, n);
    if (!c) {
        *oom = 1;
        return 0;
    }
    r->pos += n;
    *out = c;
    return 1;
}

/* --- map: open addressing, linear probing --- */

static uint32_t map_hash(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return (uint32_t)k;
}

void *ipc_map_get(const struct ipc_map *m, uint64_t key)
{
    if (!m->cap || key == 0 || key == UINT64_MAX)
        return NULL;
    for (uint32_t i = map_hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->slots[i].key == key)
            return m->slots[i].val;
        if (m->slots[i].key == 0)
            return NULL;
    }
}

static int map_grow(struct ipc_map *m)
{
    uint32_t live = 0, cap = 16;
    for (uint32_t i = 0; i < m->cap; i++)
        live += m->slots[i].key && m->slots[i].key != UINT64_MAX;
    while ((live + 1) * 2 > cap)
        cap *= 2;
    struct ipc_map_ent *s = cap_alloc_zero(sizeof(*s) * cap);
    if (!s)
        return 0;
    struct ipc_map old = *m;
    m->slots = s;
    m->cap = cap;
    m->count = 0;
    for (uint32_t i = 0; i < old.cap; i++)
        if (old.slots[i].key && old.slots[i].key != UINT64_MAX)
            ipc_map_put(m, old.slots[i].key, old.slots[i].val);
    cap_free(old.slots);
    return 1;
}

int ipc_map_put(struct ipc_map *m, uint64_t key, void *val)
{
    /* count includes tombstones: rebuild before the table gets crowded */
    if ((m->count + 1) * 4 > m->cap * 3 && !map_grow(m))
        return 0;
    uint32_t i = map_hash(key) & (m->cap - 1);
    while (m->slots[i].key != 0 && m->slots[i].key != key)
        i = (i + 1) & (m->cap - 1);
    if (m->slots[i].key == 0)
        m->count++;
    m->slots[i].key = key;
    m->slots[i].val = val;
    return 1;
}

void *ipc_map_del(struct ipc_map *m, uint64_t key)
{
    if (!m->cap || key == 0 || key == UINT64_MAX)
        return NULL;
    for (uint32_t i = map_hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->slots[i].key == key) {
            void *v = m->slots[i].val;
            m->slots[i].key = UINT64_MAX;
            m->slots[i].val = NULL;
            return v;
        }
        if (m->slots[i].key == 0)
            return NULL;
    }
}

int ipc_map_next(const struct ipc_map *m, uint32_t *i, uint64_t *key, void **val)
{
    for (; *i < m->cap; (*i)++) {
        uint64_t k = m->slots[*i].key;
        if (k && k != UINT64_MAX) {
            *key = k;
            *val = m->slots[*i].val;
            (*i)++;
            return 1;
        }
    }
    return 0;
}

void ipc_map_free(struct ipc_map *m)
{
    cap_free(m->slots);
    memset(m, 0, sizeof(*m));
}
