/*
 * test_frames.c - the frame decoder and the value decoder on their own:
 * a table of bad frames, and values of every type encoded and decoded back
 * (plus hostile encodings) without any connection.
 */
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>

#include "ipc_internal.h"
#include "alltypes_impl.h"
#include "ipc_test.h"

static void hdr(uint8_t *b, uint32_t magic, uint8_t ver, uint8_t type, uint16_t flags,
                uint64_t id, uint32_t len, uint32_t rsv)
{
    memset(b, 0, IPC_HDR_SIZE);
    for (int i = 0; i < 4; i++) {
        b[i] = (uint8_t)(magic >> (8 * i));
        b[16 + i] = (uint8_t)(len >> (8 * i));
        b[20 + i] = (uint8_t)(rsv >> (8 * i));
    }
    b[4] = ver;
    b[5] = type;
    b[6] = (uint8_t)flags;
    b[7] = (uint8_t)(flags >> 8);
    for (int i = 0; i < 8; i++)
        b[8 + i] = (uint8_t)(id >> (8 * i));
}

START_TEST(frame_table)
{
    static const struct {
        const char *what;
        uint32_t magic;
        uint8_t ver, type;
        uint16_t flags;
        uint64_t id;
        uint32_t len, rsv;
        size_t have; /* bytes present (header + payload) */
        cap_result want;
    } t[] = {
        {"good request", IPC_MAGIC, 1, 1, 0, 7, 4, 0, 28, CAP_OK},
        {"good release", IPC_MAGIC, 1, 4, 0, 0, 12, 0, 36, CAP_OK},
        {"short header", IPC_MAGIC, 1, 1, 0, 7, 0, 0, 10, CAP_E_IPC_TRUNCATED},
        {"short payload", IPC_MAGIC, 1, 1, 0, 7, 100, 0, 50, CAP_E_IPC_TRUNCATED},
        {"bad magic", 0xdeadbeef, 1, 1, 0, 7, 0, 0, 24, CAP_E_IPC_PROTOCOL},
        {"bad version", IPC_MAGIC, 9, 1, 0, 7, 0, 0, 24, CAP_E_IPC_PROTOCOL},
        {"type 0", IPC_MAGIC, 1, 0, 0, 7, 0, 0, 24, CAP_E_IPC_PROTOCOL},
        {"type 99", IPC_MAGIC, 1, 99, 0, 7, 0, 0, 24, CAP_E_IPC_PROTOCOL},
        {"flags", IPC_MAGIC, 1, 1, 0x8000, 7, 0, 0, 24, CAP_E_IPC_PROTOCOL},
        {"reserved", IPC_MAGIC, 1, 1, 0, 7, 0, 1, 24, CAP_E_IPC_PROTOCOL},
        {"oversized", IPC_MAGIC, 1, 1, 0, 7, 0xffffffff, 0, 24, CAP_E_IPC_TOO_BIG},
        {"request id 0", IPC_MAGIC, 1, 1, 0, 0, 0, 0, 24, CAP_E_IPC_PROTOCOL},
        {"release with id", IPC_MAGIC, 1, 4, 0, 5, 0, 0, 24, CAP_E_IPC_PROTOCOL},
    };
    static uint8_t buf[256];
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        hdr(buf, t[i].magic, t[i].ver, t[i].type, t[i].flags, t[i].id, t[i].len, t[i].rsv);
        struct ipc_frame f;
        cap_result rc = ipc_frame_decode(buf, t[i].have, 1u << 20, &f);
        ck_assert_msg(rc == t[i].want, "%s: got 0x%x want 0x%x", t[i].what, (unsigned)rc,
                      (unsigned)t[i].want);
        if (rc == CAP_E_IPC_PROTOCOL || rc == CAP_E_IPC_TOO_BIG)
            ck_assert_ptr_nonnull(cap_error_peek_message());
        cap_error_clear();
    }
}
END_TEST

/* Interface values: a fake handle table (no connection). */
static cap_result fake_encode(void *ctx, struct ipc_buf *b, void *obj, const struct cap_tl_iface *tl)
{
    ipc_buf_u8(b, IPC_IFACE_SENDER);
    ipc_buf_u64(b, 42);
    ipc_buf_put(b, tl->iid, 16);
    return CAP_OK;
}

static cap_result fake_decode(void *ctx, uint8_t kind, uint64_t h, const struct cap_tl_iface *tl,
                              void **out)
{
    if (h != 42)
        return cap_error_set(CAP_E_IPC_BAD_HANDLE, "test", NULL, "bad handle");
    *out = (void *)alltypes_new();
    return CAP_OK;
}
static const struct ipc_iface_ops fake_ops = {fake_encode, fake_decode};

static const struct cap_tl_method *method(const char *name)
{
    const struct cap_tl_iface *tl = &cap_tl_IAllTypes;
    for (uint32_t i = 0; i < cap_tl_iface_slots(tl); i++) {
        const struct cap_tl_method *m = cap_tl_method_at(tl, i);
        if (!strcmp(m->name, name))
            return m;
    }
    ck_abort_msg("no method %s", name);
    return NULL;
}

/* Round-trips the IN values of `name` and compares the bytes of a re-encode. */
static void roundtrip(const char *name, struct cap_xpt_value *in)
{
    const struct cap_tl_iface *tl = &cap_tl_IAllTypes;
    const struct cap_tl_method *m = method(name);
    struct ipc_buf a, b;
    ipc_buf_init(&a);
    ipc_buf_init(&b);
    ck_assert_int_eq(ipc_encode_values(&a, tl, m, in, IPC_DIR_IN, &fake_ops, NULL), CAP_OK);
    struct cap_xpt_value out[32];
    struct ipc_rd r = {a.data + IPC_HDR_SIZE, a.len - IPC_HDR_SIZE, 0};
    ck_assert_int_eq(ipc_decode_values(&r, tl, m, out, IPC_DIR_IN, &fake_ops, NULL), CAP_OK);
    ck_assert_uint_eq(ipc_rd_left(&r), 0);
    ck_assert_int_eq(ipc_encode_values(&b, tl, m, out, IPC_DIR_IN, &fake_ops, NULL), CAP_OK);
    ck_assert_uint_eq(a.len, b.len);
    ck_assert_int_eq(memcmp(a.data, b.data, a.len), 0);
    cap_xpt_values_clear(m, out, CAP_XPT_CLEAR_IN);
    /* every truncation of a valid encoding is rejected, and leaks nothing */
    for (size_t cut = 0; cut + IPC_HDR_SIZE < a.len; cut++) {
        struct ipc_rd t = {a.data + IPC_HDR_SIZE, cut, 0};
        ck_assert_int_ne(ipc_decode_values(&t, tl, m, out, IPC_DIR_IN, &fake_ops, NULL), CAP_OK);
        cap_error_clear();
    }
    ipc_buf_free(&a);
    ipc_buf_free(&b);
}

START_TEST(values_every_type)
{
    struct cap_xpt_value v[32];
    memset(v, 0, sizeof(v));
    v[0].b = 1;
    roundtrip("echoBool", v);
    v[0].u8 = 0xab;
    roundtrip("echoOctet", v);
    v[0].i16 = -1234;
    roundtrip("echoShort", v);
    v[0].u16 = 60000;
    roundtrip("echoUShort", v);
    v[0].i32 = -7;
    roundtrip("echoLong", v);
    v[0].u32 = 0xfffffff0u;
    roundtrip("echoULong", v);
    v[0].i64 = -(1ll << 60);
    roundtrip("echoLongLong", v);
    v[0].u64 = ~0ull;
    roundtrip("echoULongLong", v);
    v[0].d = -2.5e300;
    roundtrip("echoDouble", v);
    v[0].cstr = "h\xc3\xa9llo";
    roundtrip("echoString", v);
    v[0].cstr = NULL;
    roundtrip("echoString", v);
    memset(&v[0], 0, sizeof(v[0]));
    for (int i = 0; i < 16; i++)
        v[0].uuid.b[i] = (uint8_t)(i * 17);
    roundtrip("echoUuid", v);
    memset(&v[0], 0, sizeof(v[0]));
    v[0].enm = Color_Blue;
    roundtrip("echoColor", v);
    int32_t longs[] = {1, -2, 3};
    v[0].arr.count = 3;
    v[0].arr.items = longs;
    roundtrip("echoLongArray", v);
    const char *strs[] = {"a", NULL, ""};
    v[0].arr.items = (void *)strs;
    roundtrip("echoStringArray", v);
    IAllTypes *obj = alltypes_new();
    v[0].iface = obj;
    roundtrip("echoIface", v);
    IAllTypes *objs[] = {obj, NULL};
    v[0].arr.count = 2;
    v[0].arr.items = objs;
    roundtrip("echoIfaceArray", v);
    IAllTypes_Release(obj);
}
END_TEST

static cap_result decode_raw(const char *name, const uint8_t *p, size_t n)
{
    struct cap_xpt_value out[32];
    struct ipc_rd r = {p, n, 0};
    const struct cap_tl_method *m = method(name);
    cap_result rc = ipc_decode_values(&r, &cap_tl_IAllTypes, m, out, IPC_DIR_IN, &fake_ops, NULL);
    if (CAP_SUCCEEDED(rc))
        cap_xpt_values_clear(m, out, CAP_XPT_CLEAR_IN);
    cap_error_clear();
    return rc;
}

START_TEST(values_hostile)
{
    static const uint8_t bool2[] = {2};
    static const uint8_t color_bad[] = {9, 0, 0, 0};
    static const uint8_t str_nul[] = {4, 0, 0, 0, 'a', 0, 'b'};
    static const uint8_t str_long[] = {0xff, 0xff, 0xff, 0xff, 'a'};
    static const uint8_t arr_huge[] = {0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4};
    static const uint8_t iface_kind[] = {7};
    static const uint8_t iface_unknown[] = {1, 42, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7,
                                            8, 9, 10, 11, 12, 13, 14, 15, 16};
    ck_assert_int_eq(decode_raw("echoBool", bool2, sizeof(bool2)), CAP_E_IPC_PROTOCOL);
    ck_assert_int_eq(decode_raw("echoColor", color_bad, sizeof(color_bad)), CAP_E_IPC_PROTOCOL);
    ck_assert_int_eq(decode_raw("echoString", str_nul, sizeof(str_nul)), CAP_E_IPC_PROTOCOL);
    ck_assert_int_eq(decode_raw("echoString", str_long, sizeof(str_long)), CAP_E_IPC_PROTOCOL);
    ck_assert_int_eq(decode_raw("echoLongArray", arr_huge, sizeof(arr_huge)), CAP_E_IPC_PROTOCOL);
    ck_assert_int_eq(decode_raw("echoIface", iface_kind, sizeof(iface_kind)), CAP_E_IPC_PROTOCOL);
    ck_assert_int_eq(decode_raw("echoIface", iface_unknown, sizeof(iface_unknown)),
                     CAP_E_IPC_PROTOCOL);
    /* an IAllTypesBase param given an unrelated interface (ICallback) */
    uint8_t wrong[25] = {1, 42};
    memcpy(wrong + 9, IID_ICallback.b, 16);
    ck_assert_int_eq(decode_raw("echoIface", wrong, sizeof(wrong)), CAP_E_IPC_PROTOCOL);
    /* a bad handle inside an array frees the elements decoded before it */
    uint8_t arr[4 + 25 * 2] = {2};
    arr[4] = 1;
    arr[5] = 42;
    memcpy(arr + 13, IID_IAllTypesBase.b, 16);
    arr[29] = 1;
    arr[30] = 43;
    memcpy(arr + 38, IID_IAllTypesBase.b, 16);
    uint32_t before = alltypes_live();
    ck_assert_int_eq(decode_raw("echoIfaceArray", arr, sizeof(arr)), CAP_E_IPC_BAD_HANDLE);
    ck_assert_uint_eq(alltypes_live(), before);
}
END_TEST

TCase *tcase_frames(void)
{
    TCase *tc = tcase_create("frames");
    tcase_add_test(tc, frame_table);
    return tc;
}

TCase *tcase_values(void)
{
    TCase *tc = tcase_create("values");
    tcase_add_test(tc, values_every_type);
    tcase_add_test(tc, values_hostile);
    return tc;
}
