/*
 * tests/integration/floodclient.c - hostile and greedy clients for the
 * resource caps of capsule-svc (limits.sh). Talks to $CAPSULE_HOME/run/svc.sock.
 *
 *   floodclient partial N SENT_KIB DECLARED_KIB HOLD_MS
 *       N raw connections, each sending a frame header that declares
 *       DECLARED_KIB KiB and then SENT_KIB KiB of it (never the rest);
 *       prints "sent N closed C" (C: connections the service closed while
 *       we sent) and holds them HOLD_MS ms.
 *   floodclient conns N WAIT_MS HOLD_MS
 *       N real connections (cap_ipc_connect + the root ICapsule), each on
 *       its own thread; after up to WAIT_MS ms prints "ok X refused Y
 *       pending Z" and the first refusal's message, holds HOLD_MS ms.
 *   floodclient stall SENT_BYTES WAIT_MS
 *       one raw connection sending a header declaring 1 MiB and SENT_BYTES
 *       of it; waits up to WAIT_MS ms for the service to close it; prints
 *       "closed after MS ms: REASON" (exit 0) or "still open" (exit 1).
 *   floodclient idle WAIT_MS
 *       one raw connection sending nothing: "open" (exit 0) if the service
 *       keeps it WAIT_MS ms, "closed" (exit 1) otherwise.
 *
 * Exit 2 on a usage or set-up error.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <capsule/capsule.h>
#include <capsule/errorinfo.h>
#include <capsule/ipc.h>

static char sock_path[100];

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int raw_connect(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        fprintf(stderr, "floodclient: cannot connect to %s: %s\n", sock_path, strerror(errno));
        exit(2);
    }
    return fd;
}

/* A REQUEST header (wire format: runtime/ipc/ipc_internal.h) declaring len bytes. */
static void header(uint8_t h[24], uint32_t len)
{
    memset(h, 0, 24);
    memcpy(h, "CAPI", 4);
    h[4] = 1; /* version */
    h[5] = 1; /* REQUEST */
    h[8] = 1; /* request id 1 */
    for (int i = 0; i < 4; i++)
        h[16 + i] = (uint8_t)(len >> (8 * i));
}

/* Sends n bytes (zeros after the header); 0 once the service closed it. */
static int send_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return 0;
        b += w;
        n -= (size_t)w;
    }
    return 1;
}

static int send_zeros(int fd, size_t n)
{
    static uint8_t zeros[64 * 1024];
    while (n) {
        size_t k = n < sizeof(zeros) ? n : sizeof(zeros);
        if (!send_all(fd, zeros, k))
            return 0;
        n -= k;
    }
    return 1;
}

static int run_partial(int n, long sent_kib, long decl_kib, long hold_ms)
{
    int *fds = calloc((size_t)n, sizeof(int));
    int closed = 0;
    for (int i = 0; i < n; i++) {
        uint8_t h[24];
        fds[i] = raw_connect();
        header(h, (uint32_t)(decl_kib * 1024));
        if (!send_all(fds[i], h, sizeof(h)) || !send_zeros(fds[i], (size_t)sent_kib * 1024))
            closed++;
    }
    printf("sent %d closed %d\n", n, closed);
    fflush(stdout);
    sleep_ms(hold_ms);
    return 0;
}

struct conn_slot {
    struct cap_ipc_conn *c;
    ICapsule *root;
    int state; /* 0 pending, 1 ok, 2 refused */
    char msg[512];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *conn_main(void *arg)
{
    struct conn_slot *s = arg;
    struct cap_ipc_conn *c = NULL;
    ICapsule *root = NULL;
    cap_result rc = cap_ipc_connect(sock_path, &c);
    if (CAP_SUCCEEDED(rc))
        rc = cap_ipc_conn_get_root(c, &IID_ICapsule, (void **)&root);
    pthread_mutex_lock(&lock);
    s->c = c;
    s->root = root;
    s->state = CAP_SUCCEEDED(rc) ? 1 : 2;
    if (CAP_FAILED(rc))
        snprintf(s->msg, sizeof(s->msg), "%s (0x%08x)",
                 cap_error_peek_message() ? cap_error_peek_message() : "?", (unsigned)rc);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static int run_conns(int n, long wait_ms, long hold_ms)
{
    struct conn_slot *s = calloc((size_t)n, sizeof(*s));
    for (int i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, conn_main, &s[i]) != 0) {
            fprintf(stderr, "floodclient: cannot start a thread\n");
            return 2;
        }
        pthread_detach(t);
        sleep_ms(2); /* one at a time, in order */
    }
    int ok = 0, refused = 0, pending = 0;
    for (int64_t end = now_ms() + wait_ms;;) {
        ok = refused = pending = 0;
        pthread_mutex_lock(&lock);
        for (int i = 0; i < n; i++)
            s[i].state == 1 ? ok++ : s[i].state == 2 ? refused++ : pending++;
        pthread_mutex_unlock(&lock);
        if (!pending || now_ms() >= end)
            break;
        sleep_ms(10);
    }
    printf("ok %d refused %d pending %d\n", ok, refused, pending);
    pthread_mutex_lock(&lock);
    for (int i = 0; i < n; i++)
        if (s[i].state == 2) {
            printf("first refusal: %s\n", s[i].msg);
            break;
        }
    pthread_mutex_unlock(&lock);
    fflush(stdout);
    sleep_ms(hold_ms);
    _exit(0); /* pending threads may still be blocked in a call */
}

/* Reads what the service sends until it closes; the CLOSE message's reason
 * (or "") in why. 1 if it closed within wait_ms. */
static int wait_closed(int fd, long wait_ms, char *why, size_t n)
{
    uint8_t buf[4096];
    size_t have = 0;
    why[0] = 0;
    for (int64_t end = now_ms() + wait_ms; now_ms() < end;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)(end - now_ms())) <= 0)
            continue;
        ssize_t r = recv(fd, buf + have, sizeof(buf) - have, 0);
        if (r <= 0) {
            /* CLOSE: 24-byte header, i32 result, u32 length+1, text */
            if (have > 32 && buf[5] == 5) {
                size_t len = buf[28] | buf[29] << 8;
                if (len > 0 && 32 + len - 1 <= have)
                    snprintf(why, n, "%.*s", (int)(len - 1), (const char *)buf + 32);
            }
            return 1;
        }
        have += (size_t)r;
        if (have == sizeof(buf))
            have = 0;
    }
    return 0;
}

static int run_stall(long sent, long wait_ms)
{
    int fd = raw_connect();
    uint8_t h[24];
    header(h, 1024 * 1024);
    int64_t t0 = now_ms();
    if (!send_all(fd, h, sizeof(h)) || !send_zeros(fd, (size_t)sent)) {
        printf("closed while sending\n");
        return 1;
    }
    char why[512];
    if (!wait_closed(fd, wait_ms, why, sizeof(why))) {
        printf("still open after %ld ms\n", wait_ms);
        return 1;
    }
    printf("closed after %lld ms: %s\n", (long long)(now_ms() - t0), why);
    return 0;
}

static int run_idle(long wait_ms)
{
    int fd = raw_connect();
    char why[512];
    if (wait_closed(fd, wait_ms, why, sizeof(why))) {
        printf("closed: %s\n", why);
        return 1;
    }
    printf("open\n");
    return 0;
}

int main(int argc, char **argv)
{
    const char *home = getenv("CAPSULE_HOME");
    if (!home || argc < 3) {
        fprintf(stderr, "usage: CAPSULE_HOME=... floodclient partial|conns|stall|idle ARGS...\n");
        return 2;
    }
    snprintf(sock_path, sizeof(sock_path), "%s/run/svc.sock", home);
    cap_typelib_register(&capsule_typelib);
    if (!strcmp(argv[1], "partial") && argc == 6)
        return run_partial(atoi(argv[2]), atol(argv[3]), atol(argv[4]), atol(argv[5]));
    if (!strcmp(argv[1], "conns") && argc == 5)
        return run_conns(atoi(argv[2]), atol(argv[3]), atol(argv[4]));
    if (!strcmp(argv[1], "stall") && argc == 4)
        return run_stall(atol(argv[2]), atol(argv[3]));
    if (!strcmp(argv[1], "idle") && argc == 3)
        return run_idle(atol(argv[2]));
    fprintf(stderr, "floodclient: bad arguments\n");
    return 2;
}
