/*
 * bench_ipc.c - what one IPC call costs against the socket underneath it.
 *
 * The parent starts itself again as the server (`bench_ipc --serve HOME
 * [--pin]`), which serves an IIpcTest root and, on a second socket, a raw
 * echo loop that reads a request of the size an IIpcTest::ping request
 * frame has and answers with a reply of the size of its reply frame. The
 * parent then measures, in the same two processes: raw ping-pong latency,
 * IPC ping latency (p50, p99), and IPC calls/s with 1 and 8 threads, once
 * with both processes pinned to CPU 0 and once unpinned.
 */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <capsule/ipc.h>
#include <capsule/typelib.h>

#include "ipctest_impl.h"

#define REQ_SIZE (24 + 8 + 16 + 4 + 2 + 4) /* IIpcTest::ping request frame */
#define REP_SIZE (24 + 4 + 4)              /* its reply frame */
#define ITERS 20000

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void pin(void)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(0, &s);
    sched_setaffinity(0, sizeof(s), &s);
}

static int full_io(int fd, void *buf, size_t n, int wr)
{
    char *p = buf;
    while (n) {
        ssize_t r = wr ? send(fd, p, n, MSG_NOSIGNAL) : recv(fd, p, n, 0);
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static void *raw_echo(void *arg)
{
    int lfd = (int)(intptr_t)arg;
    int fd = accept(lfd, NULL, NULL);
    char req[REQ_SIZE], rep[REP_SIZE] = {0};
    while (fd >= 0 && full_io(fd, req, REQ_SIZE, 0) == 0 && full_io(fd, rep, REP_SIZE, 1) == 0)
        ;
    return NULL;
}

static int serve(const char *home)
{
    struct cap_ipc_home h;
    if (CAP_FAILED(cap_ipc_home_prepare(home, &h)))
        return 1;
    char raw[PATH_MAX];
    snprintf(raw, sizeof(raw), "%s/raw.sock", h.run_dir);
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, raw, strnlen(raw, sizeof(sa.sun_path) - 1));
    unlink(raw);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 4))
        return 1;
    pthread_t t;
    pthread_create(&t, NULL, raw_echo, (void *)(intptr_t)lfd);
    IIpcTest *root = ipctest_new();
    struct cap_ipc_server_options o = {.socket_path = h.socket, .root = (ISupports *)root};
    struct cap_ipc_server *s = NULL;
    if (CAP_FAILED(cap_ipc_server_create(&o, &s)) || CAP_FAILED(cap_ipc_server_start(s)))
        return 1;
    for (;;)
        pause();
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct stats {
    double p50, p99;
};

static struct stats summarize(double *lat, int n)
{
    qsort(lat, (size_t)n, sizeof(double), cmp);
    return (struct stats){lat[n / 2], lat[n * 99 / 100]};
}

static struct stats bench_raw(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, path, strnlen(path, sizeof(sa.sun_path) - 1));
    for (int i = 0; i < 200 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)); i++)
        usleep(10000);
    static double lat[ITERS];
    char req[REQ_SIZE] = {0}, rep[REP_SIZE];
    for (int i = -1000; i < ITERS; i++) {
        double t0 = now_us();
        if (full_io(fd, req, REQ_SIZE, 1) || full_io(fd, rep, REP_SIZE, 0))
            break;
        if (i >= 0)
            lat[i] = now_us() - t0;
    }
    close(fd);
    return summarize(lat, ITERS);
}

static struct stats bench_ipc_lat(IIpcTest *root)
{
    static double lat[ITERS];
    for (int i = -1000; i < ITERS; i++) {
        int32_t r;
        double t0 = now_us();
        IIpcTest_Ping(root, i, &r);
        if (i >= 0)
            lat[i] = now_us() - t0;
    }
    return summarize(lat, ITERS);
}

static volatile int go_stop;

static void *spin(void *arg)
{
    long n = 0;
    while (!go_stop) {
        int32_t r;
        if (CAP_FAILED(IIpcTest_Ping(arg, 1, &r)))
            break;
        n++;
    }
    return (void *)n;
}

static double calls_per_s(IIpcTest *root, int threads)
{
    pthread_t t[8];
    go_stop = 0;
    double t0 = now_us();
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, spin, root);
    usleep(1000 * 1000);
    go_stop = 1;
    long total = 0;
    for (int i = 0; i < threads; i++) {
        void *n;
        pthread_join(t[i], &n);
        total += (long)n;
    }
    return total / ((now_us() - t0) / 1e6);
}

static void run(const char *self, int pinned)
{
    char home[] = "/tmp/capsule-bench-XXXXXX";
    if (!mkdtemp(home))
        return;
    pid_t pid = fork();
    if (pid == 0) {
        if (pinned)
            pin();
        execl(self, self, "--serve", home, (char *)NULL);
        _exit(127);
    }
    if (pinned)
        pin();
    else {
        cpu_set_t s;
        CPU_ZERO(&s);
        for (int i = 0; i < CPU_SETSIZE; i++)
            CPU_SET(i, &s);
        sched_setaffinity(0, sizeof(s), &s);
    }
    char sock[PATH_MAX], raw[PATH_MAX];
    snprintf(sock, sizeof(sock), "%s/run/svc.sock", home);
    snprintf(raw, sizeof(raw), "%s/run/raw.sock", home);
    struct cap_ipc_conn *c = NULL;
    for (int i = 0; i < 300 && CAP_FAILED(cap_ipc_connect(sock, &c)); i++)
        usleep(10000);
    IIpcTest *root = NULL;
    if (!c || CAP_FAILED(cap_ipc_conn_get_root(c, &IID_IIpcTest, (void **)&root))) {
        fprintf(stderr, "bench_ipc: no server\n");
        kill(pid, SIGKILL);
        return;
    }
    struct stats r = bench_raw(raw);
    struct stats p = bench_ipc_lat(root);
    double c1 = calls_per_s(root, 1), c8 = calls_per_s(root, 8);
    const char *mode = pinned ? "pinned to CPU 0" : "unpinned";
    printf("%-16s raw ping-pong   p50 %7.2f us  p99 %7.2f us\n", mode, r.p50, r.p99);
    printf("%-16s IPC ping call   p50 %7.2f us  p99 %7.2f us   ratio p50 %.2fx  p99 %.2fx\n", mode,
           p.p50, p.p99, p.p50 / r.p50, p.p99 / r.p99);
    printf("%-16s IPC calls/s     1 thread %.0f   8 threads %.0f   (raw 1-thread equiv %.0f)\n",
           mode, c1, c8, 1e6 / r.p50);
    IIpcTest_Release(root);
    cap_ipc_conn_close(c);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", home);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", home);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (CAP_FAILED(cap_typelib_register(&captest_typelib)))
        return 1;
    if (argc == 3 && !strcmp(argv[1], "--serve"))
        return serve(argv[2]);
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return 1;
    self[n] = 0;
    printf("IPC round trip (IIpcTest::ping, %d-byte request, %d-byte reply frames), %d calls\n",
           REQ_SIZE, REP_SIZE, ITERS);
    run(self, 1);
    run(self, 0);
    return 0;
}
