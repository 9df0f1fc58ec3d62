/*
 * test_calls.c - calls through a real socket to an in-process server:
 * every type both ways, errors, identity, callbacks, nesting, threads,
 * handle lifetime, and hostile frames that must close only their own
 * connection.
 */
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>

#include "alltypes_impl.h"
#include "ipc_internal.h"
#include "ipc_test.h"

static struct fixture fx;

static void up(void)
{
    fixture_up(&fx);
}

static void down(void)
{
    fixture_down(&fx);
}

START_TEST(call_ping)
{
    int32_t r = 0;
    ck_assert_int_eq(IIpcTest_Ping(fx.root, 41, &r), CAP_OK);
    ck_assert_int_eq(r, 42);
}
END_TEST

START_TEST(call_every_type)
{
    IAllTypes *at = NULL;
    ck_assert_int_eq(IIpcTest_GetAllTypes(fx.root, &at), CAP_OK);
    ck_assert_ptr_nonnull(at);
    int32_t l, lr;
    ck_assert_int_eq(IAllTypes_EchoLong(at, 5, &l, &lr), CAP_OK);
    ck_assert_int_eq(l, ~5);
    ck_assert_int_eq(lr, 5);
    cap_bool b, br;
    ck_assert_int_eq(IAllTypes_EchoBool(at, 1, &b, &br), CAP_OK);
    ck_assert(b == 0 && br == 1);
    double d, dr;
    ck_assert_int_eq(IAllTypes_EchoDouble(at, 1.5, &d, &dr), CAP_OK);
    ck_assert(d == -3.0 && dr == 1.5);
    uint64_t u, ur;
    ck_assert_int_eq(IAllTypes_EchoULongLong(at, 1, &u, &ur), CAP_OK);
    ck_assert(u == ~1ull && ur == 1);
    char *s = NULL, *sr = NULL;
    ck_assert_int_eq(IAllTypes_EchoString(at, "abc", &s, &sr), CAP_OK);
    ck_assert_str_eq(s, "cba");
    ck_assert_str_eq(sr, "abc");
    cap_str_free(s);
    cap_str_free(sr);
    ck_assert_int_eq(IAllTypes_EchoString(at, NULL, &s, &sr), CAP_OK);
    ck_assert(!s && !sr);
    cap_uuid ui = {{1, 2, 3}}, uo, uor;
    ck_assert_int_eq(IAllTypes_EchoUuid(at, &ui, &uo, &uor), CAP_OK);
    ck_assert_int_eq(uo.b[15], 1);
    ck_assert(cap_uuid_equal(&ui, &uor));
    Color c, cr;
    ck_assert_int_eq(IAllTypes_EchoColor(at, Color_Blue, &c, &cr), CAP_OK);
    ck_assert_int_eq(c, Color_Big);
    char *in[] = {"x", NULL, "yz"};
    uint32_t n1, n2;
    char **o1, **o2;
    ck_assert_int_eq(IAllTypes_EchoStringArray(at, 3, in, &n1, &o1, &n2, &o2), CAP_OK);
    ck_assert_uint_eq(n1, 3);
    ck_assert_str_eq(o1[0], "zy");
    ck_assert_ptr_null(o1[1]);
    ck_assert_str_eq(o2[2], "yz");
    cap_array_free(CAP_TLT_STRING, n1, o1);
    cap_array_free(CAP_TLT_STRING, n2, o2);
    int16_t sh[] = {1, 2};
    uint32_t m1, m2;
    int16_t *p1, *p2;
    ck_assert_int_eq(IAllTypes_EchoShortArray(at, 2, sh, &m1, &p1, &m2, &p2), CAP_OK);
    ck_assert(m1 == 2 && p1[0] == ~2 && p2[1] == 2);
    cap_free(p1);
    cap_free(p2);
    ck_assert_int_eq(IAllTypes_EchoShortArray(at, 0, NULL, &m1, &p1, &m2, &p2), CAP_OK);
    ck_assert_uint_eq(m1, 0);
    cap_free(p1);
    cap_free(p2);
    /* attributes, inherited slots */
    ck_assert_int_eq(IAllTypes_SetName(at, "named"), CAP_OK);
    ck_assert_int_eq(IAllTypes_GetName(at, &s), CAP_OK);
    ck_assert_str_eq(s, "named");
    cap_str_free(s);
    /* the proxy sent back arrives as the real object, and returns as the same proxy */
    IAllTypesBase *eb = NULL, *er = NULL;
    ck_assert_int_eq(IAllTypes_EchoIface(at, (IAllTypesBase *)at, &eb, &er), CAP_OK);
    ck_assert_ptr_eq(eb, er);
    cap_bool same = 0;
    ck_assert_int_eq(IIpcTest_SameIdentity(fx.root, (ISupports *)eb, (ISupports *)at, &same),
                     CAP_OK);
    ck_assert(same);
    IAllTypesBase_Release(eb);
    IAllTypesBase_Release(er);
    /* many params */
    int32_t arr[] = {10, 20};
    double dsum;
    int64_t isum;
    char *summary;
    uint32_t count;
    cap_uuid mu = {{3}};
    ck_assert_int_eq(IAllTypes_Mixed(at, 1, 1.0, 2, 2.0, &dsum, 3, 3.0, 4, 4.0, "s", 5.0, &mu, 6.0,
                                     1, &isum, 7.0, Color_Red, 8.0, 9.0, 10.0, 5, 2, arr, &summary,
                                     &count),
                     CAP_OK);
    ck_assert_uint_eq(count, 2);
    ck_assert_str_eq(summary, "s/2");
    cap_str_free(summary);
    IAllTypes_Release(at);
}
END_TEST

START_TEST(call_errors)
{
    cap_error_clear();
    cap_result rc = IIpcTest_Fail(fx.root, (int32_t)0x80CC0001, "it broke");
    ck_assert_int_eq(rc, (cap_result)0x80CC0001);
    struct cap_error_info info;
    ck_assert_int_eq(cap_error_take(&info), CAP_OK);
    ck_assert_int_eq(info.result, rc);
    ck_assert_str_eq(info.message, "it broke");
    ck_assert_str_eq(info.component, "ipctest-server");
    ck_assert_str_eq(info.iface, "IIpcTest");
    cap_error_info_clear(&info);
    /* QI for an interface the root lacks */
    void *p = NULL;
    ck_assert_int_eq(CAP_QI(fx.root, &IID_IAllTypes, &p), CAP_E_NOINTERFACE);
    ck_assert_ptr_null(p);
}
END_TEST

START_TEST(call_identity)
{
    ISupports *a = NULL, *b = NULL;
    ck_assert_int_eq(CAP_QI(fx.root, &IID_ISupports, &a), CAP_OK);
    ck_assert_int_eq(CAP_QI(fx.root, &IID_ISupports, &b), CAP_OK);
    ck_assert_ptr_eq(a, b);
    IIpcTest *again = NULL;
    ck_assert_int_eq(cap_ipc_conn_get_root(fx.conn, &IID_IIpcTest, (void **)&again), CAP_OK);
    ck_assert_ptr_eq(again, fx.root); /* same handle and interface: same proxy */
    IIpcTest_Release(again);
    CAP_RELEASE(a);
    CAP_RELEASE(b);
}
END_TEST

START_TEST(call_callbacks)
{
    uint32_t before = callback_calls();
    ICallback *cb = callback_new(NULL);
    int32_t r = 0;
    ck_assert_int_eq(IIpcTest_CallBack(fx.root, cb, 0, &r), CAP_OK);
    ck_assert_int_eq(r, 1000);
    ck_assert_uint_eq(callback_calls(), before + 1);
    /* nested: client -> server -> client -> server ... 6 deep */
    ICallback *nest = callback_new(fx.root);
    ck_assert_int_eq(IIpcTest_CallBack(fx.root, nest, 5, &r), CAP_OK);
    ck_assert_int_eq(r, 1005);
    /* the server holds our object, calls it later, then lets go */
    ck_assert_int_eq(IIpcTest_Hold(fx.root, (ISupports *)cb), CAP_OK);
    ck_assert_int_eq(IIpcTest_CallHeld(fx.root), CAP_OK);
    ck_assert_uint_ge(cap_ipc_conn_handle_count(fx.conn), 1);
    ck_assert_int_eq(IIpcTest_ReleaseHeld(fx.root), CAP_OK);
    ICallback_Release(cb);
    ICallback_Release(nest);
}
END_TEST

static int conn_no_handles(void *arg)
{
    return cap_ipc_conn_handle_count(arg) == 0;
}

START_TEST(call_callback_released)
{
    uint32_t live = ipctest_live();
    ICallback *cb = callback_new(NULL);
    ck_assert_int_eq(IIpcTest_Hold(fx.root, (ISupports *)cb), CAP_OK);
    ICallback_Release(cb); /* only the server keeps it alive now */
    ck_assert_uint_eq(ipctest_live(), live + 1);
    ck_assert_int_eq(IIpcTest_ReleaseHeld(fx.root), CAP_OK);
    ck_assert(wait_for(conn_no_handles, fx.conn, 2000));
    ck_assert_uint_eq(ipctest_live(), live);
}
END_TEST

static void *pinger(void *arg)
{
    IIpcTest *root = arg;
    for (int i = 0; i < 500; i++) {
        int32_t r = 0;
        if (CAP_FAILED(IIpcTest_Ping(root, i, &r)) || r != i + 1)
            return (void *)1;
    }
    return NULL;
}

START_TEST(call_threads)
{
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, pinger, fx.root), 0);
    for (int i = 0; i < 8; i++) {
        void *res;
        pthread_join(t[i], &res);
        ck_assert_ptr_null(res);
    }
}
END_TEST

static int srv_handles_are(void *arg)
{
    return cap_ipc_server_handle_count(fx.srv) == (uint32_t)(uintptr_t)arg;
}

/* The server drops a handle from its table before it releases the object
 * behind it (on its own thread): wait for both. */
static uint32_t live_base;
static int srv_released_all(void *arg)
{
    return srv_handles_are(arg) && alltypes_live() == live_base;
}

START_TEST(lifetime_handles)
{
    uint32_t base = alltypes_live();
    ck_assert_uint_eq(cap_ipc_server_handle_count(fx.srv), 1); /* the root */
    IAllTypes *a = NULL, *b = NULL;
    ck_assert_int_eq(IIpcTest_GetAllTypes(fx.root, &a), CAP_OK);
    ck_assert_int_eq(IIpcTest_GetAllTypes(fx.root, &b), CAP_OK);
    ck_assert_ptr_ne(a, b);
    ck_assert_uint_eq(cap_ipc_server_handle_count(fx.srv), 3);
    ck_assert_uint_eq(alltypes_live(), base + 2);
    IAllTypesBase *base_if = NULL;
    ck_assert_int_eq(CAP_QI(a, &IID_IAllTypesBase, &base_if), CAP_OK); /* local: a is-a base */
    IAllTypesBase_Release(base_if);
    IAllTypes_Release(a);
    IAllTypes_Release(b);
    live_base = base;
    ck_assert(wait_for(srv_released_all, (void *)(uintptr_t)1, 2000));
    ck_assert_uint_eq(alltypes_live(), base);
    struct cap_ipc_peer peer;
    cap_ipc_conn_peer(fx.conn, &peer);
    ck_assert_int_eq(peer.pid, getpid());
}
END_TEST

/* A raw socket sending one bad frame gets closed; the good client goes on. */
static void send_raw_expect_close(const void *frame, size_t n)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, fx.h.socket);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(send(fd, frame, n, MSG_NOSIGNAL), (ssize_t)n);
    shutdown(fd, SHUT_WR);
    char buf[256];
    ssize_t r;
    while ((r = recv(fd, buf, sizeof(buf), 0)) > 0)
        ;
    ck_assert_int_eq(r, 0);
    close(fd);
    int32_t x = 0;
    ck_assert_int_eq(IIpcTest_Ping(fx.root, 1, &x), CAP_OK);
}

static size_t request(uint8_t *out, uint64_t handle, const cap_uuid *iid, uint32_t slot,
                      uint16_t n, const void *args, size_t alen)
{
    struct ipc_buf b;
    ipc_buf_init(&b);
    ipc_buf_u64(&b, handle);
    ipc_buf_put(&b, iid, 16);
    ipc_buf_u32(&b, slot);
    ipc_buf_u16(&b, n);
    ipc_buf_put(&b, args, alen);
    ipc_buf_finish(&b, IPC_MSG_REQUEST, 1);
    memcpy(out, b.data, b.len);
    size_t len = b.len;
    ipc_buf_free(&b);
    return len;
}

START_TEST(hostile_frames)
{
    uint8_t f[512];
    uint32_t x = 5;
    /* root is handle 1 after fixture_up; slot 3 is IIpcTest::ping */
    send_raw_expect_close("garbage garbage garbage garbage", 31);
    send_raw_expect_close(f, request(f, 999, &IID_IIpcTest, 3, 2, &x, 4));   /* bad handle */
    send_raw_expect_close(f, request(f, 1, &IID_IIpcTest, 3, 7, &x, 4));     /* arg count */
    send_raw_expect_close(f, request(f, 1, &IID_IIpcTest, 99, 2, &x, 4));    /* slot */
    send_raw_expect_close(f, request(f, 1, &IID_IIpcTest, 1, 0, NULL, 0));   /* AddRef */
    send_raw_expect_close(f, request(f, 1, &IID_IIpcTest, 3, 2, &x, 2));     /* truncated */
    send_raw_expect_close(f, request(f, 1, &IID_IIpcTest, 3, 2, f, 40));     /* trailing */
    send_raw_expect_close(f, request(f, 1, &IID_ICallback, 3, 2, &x, 4));    /* wrong iface */
    uint8_t huge[128];
    size_t hl = request(huge, 1, &IID_IIpcTest, 3, 2, &x, 4);
    (void)hl;
    huge[19] = 0x7f; /* 2 GB payload */
    send_raw_expect_close(huge, IPC_HDR_SIZE);
    /* a reply nobody asked for, a release of a handle never sent */
    struct ipc_buf b;
    ipc_buf_init(&b);
    ipc_buf_u32(&b, 0);
    ipc_buf_finish(&b, IPC_MSG_REPLY, 77);
    send_raw_expect_close(b.data, b.len);
    ipc_buf_free(&b);
    ipc_buf_init(&b);
    ipc_buf_u64(&b, 1);
    ipc_buf_u32(&b, 1000);
    ipc_buf_finish(&b, IPC_MSG_RELEASE, 0);
    send_raw_expect_close(b.data, b.len);
    ipc_buf_free(&b);
    /* the good client's handle (root) survived all of that */
    ck_assert_uint_eq(cap_ipc_server_handle_count(fx.srv), 1);
}
END_TEST

START_TEST(hostile_wrong_uid_dir)
{
    /* the server refuses a socket folder others can enter */
    struct fixture f2;
    fixture_home(&f2);
    ck_assert_int_eq(chmod(f2.h.run_dir, 0755), 0);
    struct cap_ipc_server_options o = {.socket_path = f2.h.socket, .root = (ISupports *)fx.root_obj};
    struct cap_ipc_server *s = NULL;
    ck_assert_int_eq(cap_ipc_server_create(&o, &s), CAP_E_ACCESSDENIED);
    struct cap_ipc_home h2;
    ck_assert_int_eq(cap_ipc_home_prepare(f2.home, &h2), CAP_E_ACCESSDENIED);
    cap_ipc_home_clear(&h2);
    fixture_down(&f2);
}
END_TEST

TCase *tcase_calls(void)
{
    TCase *tc = tcase_create("calls");
    tcase_add_checked_fixture(tc, up, down);
    tcase_add_test(tc, call_ping);
    tcase_add_test(tc, call_every_type);
    tcase_add_test(tc, call_errors);
    tcase_add_test(tc, call_identity);
    tcase_add_test(tc, call_callbacks);
    tcase_add_test(tc, call_callback_released);
    tcase_add_test(tc, call_threads);
    return tc;
}

TCase *tcase_lifetime(void)
{
    TCase *tc = tcase_create("lifetime");
    tcase_add_checked_fixture(tc, up, down);
    tcase_add_test(tc, lifetime_handles);
    return tc;
}

TCase *tcase_hostile(void)
{
    TCase *tc = tcase_create("hostile");
    tcase_add_checked_fixture(tc, up, down);
    tcase_add_test(tc, hostile_frames);
    tcase_add_test(tc, hostile_wrong_uid_dir);
    return tc;
}
