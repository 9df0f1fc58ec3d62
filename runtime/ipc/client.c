/*
 * client.c - capsule/client.h: connect to the service of a CAPSULE_HOME,
 * starting capsule-svc when nothing answers.
 *
 * Start-up protocol (client.h): try svc.sock; if nothing answers, take
 * spawn.lock (flock), try again (a racing client may have started one),
 * otherwise start `capsule-svc --home HOME` detached (double fork + setsid,
 * output to logs/svc.log) and retry until the socket answers or the timeout
 * passes; then drop spawn.lock. The service itself takes svc.lock, so even
 * two spawned services leave exactly one running.
 *
 * A service that cannot start (a corrupt capsule.xml, a home it refuses)
 * exits at once; the client notices without waiting out the timeout: the
 * service inherits the write end of a pipe whose read end only the client
 * holds, so its exit (of every process holding it) is end-of-file there.
 * The reason is the last lines of logs/svc.log, where the service wrote it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <capsule/client.h>
#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/registry.h>
#include <capsule/result.h>

#include "ipc_internal.h"

struct cap_client {
    struct cap_ipc_conn *conn;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The capsule-svc to start: the option, else beside this program, else PATH. */
static char *find_svc(const struct cap_client_options *o)
{
    if (o->svc_path)
        return cap_str_dup(o->svc_path);
    char *p = NULL;
    if (CAP_SUCCEEDED(cap_exe_relative_path("capsule-svc", &p)) && access(p, X_OK) == 0)
        return p;
    cap_str_free(p);
    cap_error_clear();
    return cap_str_dup("capsule-svc");
}

/* Spawns the service detached; `gone_w` (the write end of the exit pipe)
 * stays open in it across exec. */
static cap_result spawn_svc(const char *svc, const struct cap_ipc_home *h, int gone_w)
{
    pid_t pid = fork();
    if (pid < 0)
        return cap_error_set(CAP_E_SERVICE_UNAVAILABLE, IPC_COMP, NULL, "fork: %s", strerror(errno));
    if (pid == 0) {
        /* the intermediate child: only async-signal-safe calls from here */
        if (fork() != 0)
            _exit(0);
        setsid();
        if (gone_w >= 0)
            fcntl(gone_w, F_SETFD, 0);
        int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int log = open(h->log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (in >= 0)
            dup2(in, 0);
        if (log >= 0) {
            dup2(log, 1);
            dup2(log, 2);
        }
        char *argv[] = {(char *)svc, "--home", h->home, NULL};
        execvp(svc, argv);
        static const char msg[] = "capsule client: cannot execute the service program\n";
        ssize_t w = write(2, msg, sizeof(msg) - 1);
        (void)w;
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return CAP_OK;
}

/* The service's last words: the last non-empty lines of its log (at most
 * `cap` bytes, newlines turned into "; "), or "" when there are none. */
static void log_reason(const char *log, char *buf, size_t cap)
{
    buf[0] = '\0';
    int fd = open(log, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return;
    }
    off_t start = st.st_size > (off_t)cap - 1 ? st.st_size - (off_t)cap + 1 : 0;
    ssize_t n = pread(fd, buf, cap - 1, start);
    close(fd);
    if (n <= 0) {
        buf[0] = '\0';
        return;
    }
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    /* the last line only: the service's final message is its reason,
     * without the log's timestamp */
    char *nl = strrchr(buf, '\n');
    if (nl)
        memmove(buf, nl + 1, strlen(nl + 1) + 1);
    char *sp = strchr(buf, ' ');
    if (buf[0] >= '0' && buf[0] <= '9' && sp && sp > buf && sp[-1] == 'Z')
        memmove(buf, sp + 1, strlen(sp + 1) + 1);
}

/* Whether the service spawned with the exit pipe has exited: end of file
 * on `gone_r` (nothing is ever written to it). */
static int svc_gone(int gone_r)
{
    struct pollfd p = {.fd = gone_r, .events = POLLIN};
    if (gone_r < 0 || poll(&p, 1, 0) <= 0)
        return 0;
    char c;
    return read(gone_r, &c, 1) == 0;
}

static cap_result try_connect(const struct cap_ipc_home *h, struct cap_ipc_conn **out)
{
    cap_result rc = cap_ipc_connect(h->socket, out);
    return rc;
}

static cap_result start_and_connect(const struct cap_client_options *o, const struct cap_ipc_home *h,
                                    struct cap_ipc_conn **out)
{
    int fd = open(h->spawn_lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return cap_error_set(CAP_E_IO, IPC_COMP, NULL, "cannot open '%s': %s", h->spawn_lock,
                             strerror(errno));
    while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
        ;
    cap_result rc = try_connect(h, out);
    if (CAP_SUCCEEDED(rc))
        goto done;
    char *svc = find_svc(o);
    if (!svc) {
        rc = CAP_E_OUTOFMEMORY;
        goto done;
    }
    int gone[2] = {-1, -1};
    if (pipe2(gone, O_CLOEXEC) != 0)
        gone[0] = gone[1] = -1; /* then only the timeout notices an exit */
    rc = spawn_svc(svc, h, gone[1]);
    if (gone[1] >= 0)
        close(gone[1]);
    uint64_t deadline = now_ms() + (o->timeout_ms ? o->timeout_ms : 10000);
    while (CAP_SUCCEEDED(rc)) {
        int exited = svc_gone(gone[0]);
        rc = try_connect(h, out);
        if (CAP_SUCCEEDED(rc) || rc == CAP_E_ACCESSDENIED)
            break;
        if (exited) {
            /* It exited before answering (and another service holding
             * svc.lock would have answered above). */
            char why[512];
            log_reason(h->log_file, why, sizeof(why));
            rc = cap_error_set(CAP_E_SERVICE_UNAVAILABLE, IPC_COMP, NULL,
                               "the service '%s' exited without answering%s%s; see %s", svc,
                               why[0] ? ": " : "", why, h->log_file);
            break;
        }
        if (now_ms() >= deadline) {
            rc = cap_error_set(CAP_E_SERVICE_UNAVAILABLE, IPC_COMP, NULL,
                               "started '%s' but it did not answer on '%s' within %u ms; see %s",
                               svc, h->socket, o->timeout_ms ? o->timeout_ms : 10000, h->log_file);
            break;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        rc = CAP_OK;
    }
    if (gone[0] >= 0)
        close(gone[0]);
    cap_str_free(svc);
done:
    flock(fd, LOCK_UN);
    close(fd);
    return rc;
}

CAP_EXPORT cap_result cap_client_connect(const struct cap_client_options *opts,
                                         struct cap_client **out)
{
    static const struct cap_client_options defaults;
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    const struct cap_client_options *o = opts ? opts : &defaults;
    /* The API's typelib is what marshals every call of every proxy. */
    cap_result trc = cap_typelib_register(&capsule_typelib);
    if (CAP_FAILED(trc))
        return trc;
    struct cap_ipc_home h;
    struct cap_ipc_conn *conn = NULL;
    cap_result rc = cap_ipc_home_prepare(o->home, &h);
    if (CAP_SUCCEEDED(rc))
        rc = try_connect(&h, &conn);
    if (CAP_FAILED(rc) && rc == CAP_E_SERVICE_UNAVAILABLE) {
        if (o->no_autostart)
            rc = cap_error_set(CAP_E_SERVICE_UNAVAILABLE, IPC_COMP, NULL,
                               "no Capsule service answers on '%s' (autostart disabled)", h.socket);
        else
            rc = start_and_connect(o, &h, &conn);
    }
    cap_ipc_home_clear(&h);
    if (CAP_FAILED(rc))
        return rc;
    struct cap_client *c = cap_alloc_zero(sizeof(*c));
    if (!c) {
        cap_ipc_conn_close(conn);
        return CAP_E_OUTOFMEMORY;
    }
    c->conn = conn;
    *out = c;
    return CAP_OK;
}

CAP_EXPORT cap_result cap_client_get_root(struct cap_client *c, ICapsule **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    if (!c)
        return CAP_E_POINTER;
    return cap_ipc_conn_get_root(c->conn, &IID_ICapsule, (void **)out);
}

CAP_EXPORT int cap_client_alive(struct cap_client *c)
{
    return c && cap_ipc_conn_alive(c->conn);
}

CAP_EXPORT void cap_client_close(struct cap_client *c)
{
    if (!c)
        return;
    cap_ipc_conn_close(c->conn);
    cap_free(c);
}
