/*
 * transport_unix.c - transport.h over Unix-domain stream sockets.
 *
 * Plain POSIX sockets (the fd is what SO_PEERCRED, poll and shutdown need);
 * the listener waits in poll() on the socket and a wake pipe, so that the
 * server can stop its accept thread without closing a descriptor another
 * thread is blocked on.
 *
 * The wait set of a connection is an epoll instance holding the socket with
 * EPOLLONESHOT (armed: EPOLLIN; disarmed: no event, so a reply read by the
 * calling thread itself wakes no parked thread) and a semaphore eventfd
 * (level-triggered) for kicks. epoll_wait waiters are woken one at a time.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <capsule/errorinfo.h>
#include <capsule/ipc.h>
#include <capsule/mem.h>
#include <capsule/result.h>

#include "transport.h"

#define COMP "capsule-ipc"

struct ipc_transport {
    int fd;
    int ep;   /* epoll: fd (EPOLLONESHOT while armed) and kick */
    int kick; /* eventfd, semaphore mode: one unit per parked thread to wake */
};

static struct ipc_transport *transport_new(int fd)
{
    struct ipc_transport *t = cap_alloc_zero(sizeof(*t));
    if (t) {
        t->fd = fd;
        t->ep = t->kick = -1;
    }
    return t;
}

struct ipc_listener {
    int fd;
    int wake[2];
    int reserve; /* /dev/null, given up to accept one connection when out of fds */
    char *path;
};

static cap_result make_addr(const char *path, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (!path || strlen(path) >= sizeof(sa->sun_path))
        return cap_error_set(CAP_E_INVALIDARG, COMP, NULL, "socket path '%s' is too long",
                             path ? path : "(null)");
    strcpy(sa->sun_path, path);
    return CAP_OK;
}

cap_result ipc_listen(const char *path, struct ipc_listener **out)
{
    struct sockaddr_un sa;
    *out = NULL;
    cap_result rc = make_addr(path, &sa);
    if (CAP_FAILED(rc))
        return rc;
    struct ipc_listener *l = cap_alloc_zero(sizeof(*l));
    if (!l)
        return CAP_E_OUTOFMEMORY;
    l->fd = -1;
    l->wake[0] = l->wake[1] = -1;
    l->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
    l->path = cap_str_dup(path);
    if (!l->path || pipe2(l->wake, O_CLOEXEC) != 0)
        goto fail_io;
    l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l->fd < 0)
        goto fail_io;
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    mode_t old = umask(0177);
    int b = bind(l->fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (b != 0 || listen(l->fd, 128) != 0)
        goto fail_io;
    *out = l;
    return CAP_OK;
fail_io:
    rc = cap_error_set(CAP_E_IO, COMP, NULL, "cannot listen on '%s': %s", path, strerror(errno));
    if (l->fd >= 0) {
        close(l->fd);
        l->fd = -1;
    }
    cap_free(l->path);
    l->path = NULL;
    ipc_listener_close(l);
    return rc;
}

/* The result for a failed call that made a descriptor or memory (errno). */
static cap_result errno_result(const char *what, int e)
{
    if (e == EMFILE || e == ENFILE)
        return cap_error_set(IPC_E_NO_FDS, COMP, NULL, "out of file descriptors (%s: %s)", what,
                             strerror(e));
    if (e == ENOMEM || e == ENOBUFS)
        return cap_error_set(CAP_E_OUTOFMEMORY, COMP, NULL, "out of memory (%s: %s)", what,
                             strerror(e));
    return cap_error_set(CAP_E_IO, COMP, NULL, "%s: %s", what, strerror(e));
}

cap_result ipc_accept(struct ipc_listener *l, int timeout_ms, struct ipc_transport **out,
                      struct ipc_cred *cred)
{
    *out = NULL;
    cap_result rc_fail = CAP_OK;
    struct pollfd p[2] = {{.fd = l->fd, .events = POLLIN}, {.fd = l->wake[0], .events = POLLIN}};
    int n = poll(p, 2, timeout_ms);
    if (n < 0)
        return errno == EINTR ? CAP_FALSE_RESULT : errno_result("poll", errno);
    if (p[1].revents)
        return CAP_E_ABORT;
    if (n == 0)
        return CAP_FALSE_RESULT;
    if (l->reserve < 0)
        l->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == EINTR || e == EAGAIN || e == EWOULDBLOCK || e == ECONNABORTED || e == EPROTO)
            return CAP_FALSE_RESULT; /* the client gave up meanwhile: nothing to say */
        rc_fail = errno_result("accept", e);
        if (rc_fail != IPC_E_NO_FDS || l->reserve < 0)
            return rc_fail;
        /* Out of fds: the reserve makes room to take the connection and
         * tell it so, rather than leave it waiting in the backlog. */
        close(l->reserve);
        l->reserve = -1;
        fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            return rc_fail;
    }
    struct ipc_transport *t = transport_new(fd);
    if (!t) {
        close(fd);
        return cap_error_set(CAP_E_OUTOFMEMORY, COMP, NULL, "out of memory accepting a connection");
    }
    cap_result rc = ipc_transport_cred(t, cred);
    if (CAP_FAILED(rc)) {
        ipc_transport_close(t);
        return rc;
    }
    *out = t;
    return rc_fail != CAP_OK ? cap_error_set(rc_fail, COMP, NULL, "out of file descriptors "
                                             "(accept: %s)", strerror(EMFILE)) : CAP_OK;
}

cap_result ipc_listener_pause(struct ipc_listener *l, int ms)
{
    struct pollfd p = {.fd = l->wake[0], .events = POLLIN};
    return poll(&p, 1, ms) > 0 ? CAP_E_ABORT : CAP_OK;
}

void ipc_listener_wake(struct ipc_listener *l)
{
    if (l && l->wake[1] >= 0) {
        ssize_t n = write(l->wake[1], "x", 1);
        (void)n;
    }
}

void ipc_listener_close(struct ipc_listener *l)
{
    if (!l)
        return;
    if (l->fd >= 0)
        close(l->fd);
    if (l->path)
        unlink(l->path);
    for (int i = 0; i < 2; i++)
        if (l->wake[i] >= 0)
            close(l->wake[i]);
    if (l->reserve >= 0)
        close(l->reserve);
    cap_free(l->path);
    cap_free(l);
}

cap_result ipc_connect_path(const char *path, struct ipc_transport **out, int *refused)
{
    struct sockaddr_un sa;
    *out = NULL;
    *refused = 0;
    cap_result rc = make_addr(path, &sa);
    if (CAP_FAILED(rc))
        return rc;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return cap_error_set(CAP_E_IO, COMP, NULL, "socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int e = errno;
        close(fd);
        *refused = (e == ENOENT || e == ECONNREFUSED);
        return cap_error_set(CAP_E_IO, COMP, NULL, "cannot connect to '%s': %s", path,
                             strerror(e));
    }
    struct ipc_transport *t = transport_new(fd);
    if (!t) {
        close(fd);
        return CAP_E_OUTOFMEMORY;
    }
    *out = t;
    return CAP_OK;
}

cap_result ipc_transport_cred(struct ipc_transport *t, struct ipc_cred *out)
{
    struct ucred uc;
    socklen_t len = sizeof(uc);
    if (getsockopt(t->fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0)
        return cap_error_set(CAP_E_IO, COMP, NULL, "SO_PEERCRED: %s", strerror(errno));
    out->pid = uc.pid;
    out->uid = uc.uid;
    return CAP_OK;
}

cap_result ipc_send_all(struct ipc_transport *t, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = send(t->fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return cap_error_set(errno == EPIPE || errno == ECONNRESET ? CAP_E_IPC_DISCONNECTED
                                                                       : CAP_E_IO,
                                 COMP, NULL, "send: %s", strerror(errno));
        }
        p += w;
        n -= (size_t)w;
    }
    return CAP_OK;
}

void ipc_send_nowait(struct ipc_transport *t, const void *buf, size_t n)
{
    ssize_t w = send(t->fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)w;
}

cap_result ipc_recv_some(struct ipc_transport *t, void *buf, size_t n, size_t *got)
{
    for (;;) {
        ssize_t r = recv(t->fd, buf, n, 0);
        if (r >= 0) {
            *got = (size_t)r;
            return CAP_OK;
        }
        if (errno != EINTR) {
            *got = 0;
            return cap_error_set(CAP_E_IO, COMP, NULL, "recv: %s", strerror(errno));
        }
    }
}

cap_result ipc_recv_nowait(struct ipc_transport *t, void *buf, size_t n, size_t *got)
{
    for (;;) {
        ssize_t r = recv(t->fd, buf, n, MSG_DONTWAIT);
        if (r >= 0) {
            *got = (size_t)r;
            return CAP_OK;
        }
        *got = 0;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return CAP_FALSE_RESULT;
        if (errno != EINTR)
            return cap_error_set(CAP_E_IO, COMP, NULL, "recv: %s", strerror(errno));
    }
}

void ipc_transport_shutdown(struct ipc_transport *t)
{
    if (t)
        shutdown(t->fd, SHUT_RDWR);
}

cap_result ipc_transport_wait_init(struct ipc_transport *t)
{
    t->ep = epoll_create1(EPOLL_CLOEXEC);
    t->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE);
    struct epoll_event k = {.events = EPOLLIN, .data.u32 = IPC_WAKE_KICK};
    struct epoll_event s = {.events = EPOLLONESHOT, .data.u32 = IPC_WAKE_DATA};
    if (t->ep < 0 || t->kick < 0 || epoll_ctl(t->ep, EPOLL_CTL_ADD, t->kick, &k) != 0 ||
        epoll_ctl(t->ep, EPOLL_CTL_ADD, t->fd, &s) != 0)
        return errno_result("setting up a connection's wait set", errno);
    return CAP_OK;
}

void ipc_transport_arm(struct ipc_transport *t, int on)
{
    /* Disarmed is EPOLLONESHOT alone: epoll adds HUP/ERR to every mask, so
     * a dead peer may still wake one parked thread, once. */
    struct epoll_event s = {.events = EPOLLONESHOT | (on ? EPOLLIN : 0u),
                            .data.u32 = IPC_WAKE_DATA};
    epoll_ctl(t->ep, EPOLL_CTL_MOD, t->fd, &s);
}

int ipc_transport_wait(struct ipc_transport *t)
{
    struct epoll_event ev[2];
    int n = epoll_wait(t->ep, ev, 2, -1), kick = 0;
    for (int i = 0; i < n; i++) {
        if (ev[i].data.u32 == IPC_WAKE_DATA)
            return IPC_WAKE_DATA; /* a pending kick stays for another thread */
        kick = 1;
    }
    uint64_t v;
    if (kick && read(t->kick, &v, sizeof(v)) == (ssize_t)sizeof(v))
        return IPC_WAKE_KICK;
    return 0;
}

void ipc_transport_kick(struct ipc_transport *t, uint32_t n)
{
    uint64_t v = n;
    ssize_t w = write(t->kick, &v, sizeof(v));
    (void)w;
}

void ipc_transport_close(struct ipc_transport *t)
{
    if (!t)
        return;
    if (t->ep >= 0)
        close(t->ep);
    if (t->kick >= 0)
        close(t->kick);
    close(t->fd);
    cap_free(t);
}
