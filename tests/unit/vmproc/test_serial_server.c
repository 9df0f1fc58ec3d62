/*
 * tests/unit/vmproc/test_serial_server.c - the relay behind a serial port
 * in server mode (plugins/frontends/vmproc/serial_server.c). The test
 * plays both ends: the UART device (connecting to the private socket of
 * serial_server_device_spec) and the clients of the public socket, as
 * `capsule console` is. A connection the relay has not accepted yet loses
 * what is sent on it (like a real line), so each new pairing is first
 * synchronised by sending until the other end sees a byte.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <capsule/errorinfo.h>

#include "serial_server.h"
#include "vmproc_test.h"

/* Sends a sync byte from `from` until `to` receives one (the relay has both
 * ends then), and drains `to`. */
static void sync_link(int from, int to)
{
    char buf[256];
    for (int i = 0; i < 200; i++) {
        ck_assert_int_eq(write(from, "~", 1), 1);
        if (vt_read_for(to, buf, sizeof(buf), 1, 25) > 0) {
            while (vt_read_for(to, buf, sizeof(buf), sizeof(buf), 25) > 0)
                ;
            return;
        }
    }
    ck_abort_msg("the relay never linked the two ends");
}

/* The device's socket from the spec ("unix:PATH"). */
static int connect_device(struct serial_server *s)
{
    const char *spec = serial_server_device_spec(s);
    ck_assert_ptr_nonnull(spec);
    ck_assert_msg(!strncmp(spec, "unix:", 5), "spec '%s'", spec);
    return vt_connect(spec + 5);
}

static void expect_data(int fd, const char *want)
{
    char buf[256];
    ssize_t n = vt_read_for(fd, buf, sizeof(buf), strlen(want), 3000);
    ck_assert_msg(n == (ssize_t)strlen(want) && !memcmp(buf, want, strlen(want)),
                  "got %zd bytes '%s', want '%s'", n, n > 0 ? buf : "", want);
}

/* A server, the device connected, and a first client linked to it. */
struct fixture {
    char *dir, *path;
    struct serial_server *s;
    int dev, client;
};

static void fixture_up(struct fixture *f)
{
    f->dir = vt_tmpdir();
    f->path = vt_path(f->dir, "com1.sock");
    cap_result rc = serial_server_create(f->path, &f->s);
    ck_assert_msg(CAP_SUCCEEDED(rc), "create: %s", cap_error_peek_message());
    ck_assert_ptr_nonnull(f->s);
    f->dev = connect_device(f->s);
    f->client = vt_connect(f->path);
    sync_link(f->client, f->dev);
}

static void fixture_down(struct fixture *f)
{
    close(f->client);
    close(f->dev);
    serial_server_destroy(f->s);
    free(f->path);
    vt_rmdir(f->dir);
}

START_TEST(test_relay_both_ways)
{
    struct fixture f;
    fixture_up(&f);
    struct stat st;
    ck_assert_int_eq(lstat(f.path, &st), 0);
    ck_assert(S_ISSOCK(st.st_mode));
    /* the private socket is in a folder of its own, not the public path */
    const char *spec = serial_server_device_spec(f.s);
    ck_assert_str_ne(spec + 5, f.path);
    ck_assert_int_eq(lstat(spec + 5, &st), 0);
    ck_assert(S_ISSOCK(st.st_mode));

    ck_assert_int_eq(write(f.dev, "guest says hi\n", 14), 14);
    expect_data(f.client, "guest says hi\n");
    ck_assert_int_eq(write(f.client, "typed", 5), 5);
    expect_data(f.dev, "typed");
    fixture_down(&f);
}
END_TEST

/* A burst larger than the socket buffers comes through whole and in
 * order while the client keeps reading. */
START_TEST(test_relay_burst)
{
    struct fixture f;
    fixture_up(&f);
    int client = f.client;
    enum { N = 200000 };
    char *big = malloc(N), *got = malloc(N + 1);
    ck_assert_ptr_nonnull(big);
    ck_assert_ptr_nonnull(got);
    for (size_t i = 0; i < N; i++)
        big[i] = (char)('a' + i % 26);
    size_t sent = 0, recvd = 0;
    while (recvd < N) {
        struct pollfd p[2] = {{f.dev, sent < N ? POLLOUT : 0, 0}, {client, POLLIN, 0}};
        ck_assert_int_gt(poll(p, 2, 3000), 0);
        if (p[0].revents & POLLOUT) {
            ssize_t w = write(f.dev, big + sent, N - sent);
            ck_assert_int_gt(w, 0);
            sent += (size_t)w;
        }
        if (p[1].revents) {
            ssize_t n = read(client, got + recvd, N - recvd);
            ck_assert_int_gt(n, 0);
            recvd += (size_t)n;
        }
    }
    ck_assert(!memcmp(big, got, N));
    free(big);
    free(got);
    fixture_down(&f);
}
END_TEST

START_TEST(test_second_client_wins)
{
    struct fixture f;
    fixture_up(&f);
    int a = f.client;
    int b = vt_connect(f.path);
    sync_link(b, f.dev);
    /* the first client was let go: EOF */
    char buf[64];
    ck_assert_int_eq(vt_read_for(a, buf, sizeof(buf), 1, 3000), -1);
    ck_assert_int_eq(write(f.dev, "to b", 4), 4);
    expect_data(b, "to b");
    ck_assert_int_eq(write(b, "from b", 6), 6);
    expect_data(f.dev, "from b");
    close(b);
    fixture_down(&f);
}
END_TEST

/* A client that goes away while the guest writes must not take the VM
 * process with it (SIGPIPE is not ignored in capsule-vm); the next client
 * gets the output from then on. */
START_TEST(test_reconnect)
{
    struct fixture f;
    fixture_up(&f);
    static char chunk[4096];
    memset(chunk, 'x', sizeof(chunk));
    for (int round = 0; round < 20; round++) {
        if (round) {
            f.client = vt_connect(f.path);
            sync_link(f.client, f.dev);
        }
        close(f.client);
        /* the relay may still think the client is there: it must cope */
        for (int i = 0; i < 4; i++)
            ck_assert_int_eq(write(f.dev, chunk, sizeof(chunk)), (ssize_t)sizeof(chunk));
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    int c = f.client = vt_connect(f.path);
    sync_link(c, f.dev);
    ck_assert_int_eq(write(f.dev, "again", 5), 5);
    /* the tail of the last round may still be on its way: skip the x's */
    static char buf[256 * 1024];
    size_t len = 0;
    while (len < 5 || memcmp(buf + len - 5, "again", 5)) {
        ssize_t n = vt_read_for(c, buf + len, sizeof(buf) - len, 1, 3000);
        ck_assert_msg(n > 0, "no 'again' after %zu bytes", len);
        len += (size_t)n;
    }
    fixture_down(&f);
}
END_TEST

START_TEST(test_destroy_removes_sockets)
{
    struct fixture f;
    fixture_up(&f);
    char *priv = strdup(serial_server_device_spec(f.s) + 5);
    ck_assert_ptr_nonnull(priv);
    char *privdir = strdup(priv);
    ck_assert_ptr_nonnull(privdir);
    *strrchr(privdir, '/') = '\0';
    serial_server_destroy(f.s);
    f.s = NULL;
    struct stat st;
    ck_assert_int_eq(lstat(f.path, &st), -1);
    ck_assert_int_eq(lstat(priv, &st), -1);
    ck_assert_int_eq(lstat(privdir, &st), -1);
    /* both ends see the end */
    char buf[16];
    ck_assert_int_eq(vt_read_for(f.client, buf, sizeof(buf), 1, 3000), -1);
    ck_assert_int_eq(vt_read_for(f.dev, buf, sizeof(buf), 1, 3000), -1);
    free(priv);
    free(privdir);
    fixture_down(&f);
    serial_server_destroy(NULL); /* fine */
}
END_TEST

/* Destroy while nothing ever connected, and a stale socket file of an
 * earlier VM at the path is replaced. */
START_TEST(test_idle_and_stale)
{
    char *dir = vt_tmpdir(), *path = vt_path(dir, "s");
    struct serial_server *s = NULL;
    ck_assert_int_eq(serial_server_create(path, &s), CAP_OK);
    serial_server_destroy(s);
    /* a socket left behind (bound, its process gone) */
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd);
    ck_assert_int_eq(serial_server_create(path, &s), CAP_OK);
    int c = vt_connect(path), dev = connect_device(s);
    sync_link(c, dev);
    close(c);
    close(dev);
    serial_server_destroy(s);
    free(path);
    vt_rmdir(dir);
}
END_TEST

static void expect_create_error(const char *path, cap_result want, const char *part)
{
    struct serial_server *s = (struct serial_server *)1;
    cap_result rc = serial_server_create(path, &s);
    ck_assert_int_eq(rc, want);
    ck_assert_ptr_null(s);
    const char *m = cap_error_peek_message();
    ck_assert_ptr_nonnull(m);
    ck_assert_msg(strstr(m, part) != NULL, "message '%s' lacks '%s'", m, part);
    cap_error_clear();
}

START_TEST(test_bad_paths)
{
    char longp[200];
    memset(longp, 'a', sizeof(longp) - 1);
    memcpy(longp, "/tmp/", 5);
    longp[sizeof(longp) - 1] = '\0';
    expect_create_error(longp, CAP_E_IO, "File name too long");
    expect_create_error(longp, CAP_E_IO, "cannot listen on '/tmp/aaaa");
    expect_create_error("/nonexistent-vmproc-dir/com1.sock", CAP_E_IO,
                        "serial port 1: cannot listen on '/nonexistent-vmproc-dir/com1.sock': "
                        "No such file or directory");
    expect_create_error("", CAP_E_INVALIDARG, "server mode needs a socket path");
    expect_create_error(NULL, CAP_E_INVALIDARG, "server mode needs a socket path");

    /* a file that is not a socket is not replaced */
    char *dir = vt_tmpdir();
    char *file = vt_write_file(dir, "notes.txt", "keep", 4);
    expect_create_error(file, CAP_E_IO, "Address already in use");
    char *text = vt_read_file(file);
    ck_assert_str_eq(text, "keep");
    free(text);
    /* a directory at the path either */
    expect_create_error(dir, CAP_E_IO, "cannot listen on");
    struct stat st;
    ck_assert_int_eq(stat(dir, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    free(file);
    vt_rmdir(dir);
}
END_TEST

Suite *serial_server_suite(void)
{
    Suite *s = suite_create("serial_server");
    VT_CASE(s, "relay", VT_TIMEOUT, test_relay_both_ways, test_relay_burst, test_second_client_wins,
            test_reconnect, test_destroy_removes_sockets, test_idle_and_stale);
    VT_CASE(s, "errors", 0, test_bad_paths);
    return s;
}
