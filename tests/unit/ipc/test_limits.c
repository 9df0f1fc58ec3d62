/*
 * test_limits.c - a server's resource caps (capsule/ipc.h, "Resource
 * caps"): connections in all and per uid refused with the reason told to
 * the client and logged; receive buffers that grow only as bytes arrive
 * and share one budget; partial frames closed after the frame timeout
 * while idle connections stay; the CLOSE message on the wire.
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>

#include "ipc_internal.h"
#include "ipc_test.h"

/* A server with the given caps and a log kept in memory. */
struct lim {
    struct fixture f;
    pthread_mutex_t lock;
    char log[16384];
};
static struct lim L;

static void keep_log(void *ctx, const char *msg)
{
    struct lim *l = ctx;
    pthread_mutex_lock(&l->lock);
    size_t n = strlen(l->log);
    snprintf(l->log + n, sizeof(l->log) - n, "%s\n", msg);
    pthread_mutex_unlock(&l->lock);
}

static int log_has(void *what)
{
    pthread_mutex_lock(&L.lock);
    int yes = strstr(L.log, what) != NULL;
    pthread_mutex_unlock(&L.lock);
    return yes;
}

static const struct cap_ipc_server_callbacks log_cb = {.log = keep_log};

static void lim_up(struct cap_ipc_server_options *o)
{
    memset(&L, 0, sizeof(L));
    pthread_mutex_init(&L.lock, NULL);
    fixture_home(&L.f);
    L.f.root_obj = ipctest_new();
    o->socket_path = L.f.h.socket;
    o->root = (ISupports *)L.f.root_obj;
    o->callbacks = &log_cb;
    o->callback_ctx = &L;
    ck_assert_int_eq(cap_ipc_server_create(o, &L.f.srv), CAP_OK);
    ck_assert_int_eq(cap_ipc_server_start(L.f.srv), CAP_OK);
}

static void lim_down(void)
{
    fixture_down(&L.f);
    pthread_mutex_destroy(&L.lock);
}

/* A client connection and its root; the result of getting the root. */
static cap_result client(struct cap_ipc_conn **c, IIpcTest **root)
{
    *root = NULL;
    ck_assert_int_eq(cap_ipc_connect(L.f.h.socket, c), CAP_OK);
    return cap_ipc_conn_get_root(*c, &IID_IIpcTest, (void **)root);
}

static void client_close(struct cap_ipc_conn *c, IIpcTest *root)
{
    if (root)
        IIpcTest_Release(root);
    cap_ipc_conn_close(c);
}

static int conns_are(void *n)
{
    return cap_ipc_server_connection_count(L.f.srv) == (uint32_t)(uintptr_t)n;
}

static int raw_connect(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, L.f.h.socket);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* Sends a REQUEST header declaring `declared` bytes and `sent` of them. */
static int raw_partial(uint32_t declared, size_t sent)
{
    int fd = raw_connect();
    uint8_t h[IPC_HDR_SIZE] = {'C', 'A', 'P', 'I', IPC_VERSION, IPC_MSG_REQUEST, 0, 0, 1};
    for (int i = 0; i < 4; i++)
        h[16 + i] = (uint8_t)(declared >> (8 * i));
    ck_assert_int_eq(send(fd, h, sizeof(h), MSG_NOSIGNAL), (ssize_t)sizeof(h));
    static uint8_t zeros[64 * 1024];
    while (sent) {
        size_t k = sent < sizeof(zeros) ? sent : sizeof(zeros);
        ssize_t w = send(fd, zeros, k, MSG_NOSIGNAL);
        if (w <= 0)
            break; /* closed by the server: the caller checks */
        sent -= (size_t)w;
    }
    return fd;
}

/* Waits up to ms for the server to close fd; the CLOSE reason in why. */
static int closed_within(int fd, int ms, char *why, size_t n)
{
    uint8_t buf[2048];
    size_t have = 0;
    why[0] = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (poll(&p, 1, ms * test_scale()) == 1) {
        ssize_t r = recv(fd, buf + have, sizeof(buf) - have, 0);
        if (r > 0) {
            have += (size_t)r;
            continue;
        }
        struct ipc_frame f;
        if (ipc_frame_decode(buf, have, sizeof(buf), &f) == CAP_OK && f.type == IPC_MSG_CLOSE) {
            struct ipc_rd rd = {f.payload, f.length, 0};
            uint32_t rc;
            char *s = NULL;
            int oom = 0;
            if (ipc_rd_u32(&rd, &rc) && ipc_rd_str(&rd, &s, &oom) && s)
                snprintf(why, n, "%s", s);
            cap_str_free(s);
        }
        cap_error_clear();
        return 1;
    }
    return 0;
}

START_TEST(limits_connections)
{
    struct cap_ipc_server_options o = {.max_connections = 2};
    lim_up(&o);
    struct cap_ipc_conn *a, *b, *c, *d;
    IIpcTest *ra, *rb, *rc, *rd;
    ck_assert_int_eq(client(&a, &ra), CAP_OK);
    ck_assert_int_eq(client(&b, &rb), CAP_OK);
    ck_assert_int_eq(client(&c, &rc), CAP_E_SERVICE_UNAVAILABLE);
    const char *m = cap_error_peek_message();
    ck_assert_msg(m && strstr(m, "too many connections to the service (2 open, the limit is 2"),
                  "refusal message: %s", m ? m : "(none)");
    ck_assert(wait_for(log_has, "refused a connection from pid", 2000));
    client_close(c, rc);
    /* the others are served, and a place that frees up is given again */
    int32_t x = 0;
    ck_assert_int_eq(IIpcTest_Ping(rb, 1, &x), CAP_OK);
    client_close(a, ra);
    ck_assert(wait_for(conns_are, (void *)1, 2000));
    ck_assert_int_eq(client(&d, &rd), CAP_OK);
    client_close(d, rd);
    client_close(b, rb);
    lim_down();
}
END_TEST

START_TEST(limits_per_uid)
{
    struct cap_ipc_server_options o = {.max_connections_per_uid = 1};
    lim_up(&o);
    struct cap_ipc_conn *a, *b;
    IIpcTest *ra, *rb;
    ck_assert_int_eq(client(&a, &ra), CAP_OK);
    ck_assert_int_eq(client(&b, &rb), CAP_E_SERVICE_UNAVAILABLE);
    const char *m = cap_error_peek_message();
    ck_assert_msg(m && strstr(m, "too many connections from uid"), "message: %s", m ? m : "");
    client_close(b, rb);
    client_close(a, ra);
    lim_down();
}
END_TEST

/* A partial frame is closed after the timeout, told why, and logged; an
 * idle connection stays. */
START_TEST(limits_frame_timeout)
{
    struct cap_ipc_server_options o = {.frame_timeout_ms = 200};
    lim_up(&o);
    int idle = raw_connect();
    int fd = raw_partial(1000, 10);
    char why[512];
    ck_assert(closed_within(fd, 3000, why, sizeof(why)));
    ck_assert_msg(strstr(why, "incomplete for more than 200 ms"), "reason: %s", why);
    ck_assert(wait_for(log_has, "a frame was left incomplete for more than 200 ms", 2000));
    ck_assert(!closed_within(idle, 400, why, sizeof(why)));
    ck_assert(wait_for(conns_are, (void *)1, 2000)); /* the idle one */
    close(fd);
    close(idle);
    lim_down();
}
END_TEST

static int buffered_is(void *n)
{
    return cap_ipc_server_buffered_bytes(L.f.srv) == (uint64_t)(uintptr_t)n;
}

/* Buffers grow only as bytes come; the budget closes the frame that would
 * overrun it, the others go on, and the budget is given back. */
START_TEST(limits_budget)
{
    const uint32_t mib = 1024 * 1024;
    struct cap_ipc_server_options o = {.max_frame = mib, .max_buffered = mib + IPC_HDR_SIZE};
    lim_up(&o);
    ck_assert_int_eq(cap_ipc_connect(L.f.h.socket, &L.f.conn), CAP_OK);
    ck_assert_int_eq(cap_ipc_conn_get_root(L.f.conn, &IID_IIpcTest, (void **)&L.f.root), CAP_OK);
    /* declared 1 MiB, 100 bytes sent: nothing beyond the allowance */
    int small = raw_partial(mib, 100);
    usleep(100 * 1000);
    ck_assert_uint_eq(cap_ipc_server_buffered_bytes(L.f.srv), 0);
    /* 900 KiB of 1 MiB: charged, within the budget */
    int big = raw_partial(mib, 900 * 1024);
    char why[512];
    ck_assert(!closed_within(big, 300, why, sizeof(why)));
    uint64_t used = cap_ipc_server_buffered_bytes(L.f.srv);
    ck_assert_uint_gt(used, 800 * 1024 - CAP_IPC_CONN_BUFFER_ALLOWANCE);
    ck_assert_uint_le(used, mib + IPC_HDR_SIZE);
    /* a second one does not fit */
    int over = raw_partial(mib, 900 * 1024);
    ck_assert(closed_within(over, 3000, why, sizeof(why)));
    ck_assert(wait_for(log_has, "receive-buffer budget is exhausted", 2000));
    int32_t x = 0;
    ck_assert_int_eq(IIpcTest_Ping(L.f.root, 1, &x), CAP_OK);
    close(big);
    ck_assert(wait_for(buffered_is, (void *)0, 2000));
    close(over);
    close(small);
    lim_down();
}
END_TEST

/* A client reading a CLOSE fails its calls with the reason given. */
START_TEST(limits_close_frame)
{
    uint8_t b[64];
    struct ipc_buf buf;
    ipc_buf_init(&buf);
    ipc_close_msg(&buf, CAP_E_TIMEOUT, "why");
    struct ipc_frame f;
    ck_assert_int_eq(ipc_frame_decode(buf.data, buf.len, 1024, &f), CAP_OK);
    ck_assert_uint_eq(f.type, IPC_MSG_CLOSE);
    ck_assert_uint_eq(f.req_id, 0);
    memcpy(b, buf.data, IPC_HDR_SIZE);
    b[8] = 3; /* a CLOSE with a request id is malformed */
    ck_assert_int_eq(ipc_frame_decode(b, IPC_HDR_SIZE, 1024, &f), CAP_E_IPC_PROTOCOL);
    cap_error_clear();
    ipc_buf_free(&buf);
}
END_TEST

TCase *tcase_limits(void)
{
    TCase *tc = tcase_create("limits");
    tcase_add_test(tc, limits_connections);
    tcase_add_test(tc, limits_per_uid);
    tcase_add_test(tc, limits_frame_timeout);
    tcase_add_test(tc, limits_budget);
    tcase_add_test(tc, limits_close_frame);
    return tc;
}
