/*
 * plugins/devices/serial/chardev.c - the backends of chardev.h.
 *
 * All four share one implementation over two file descriptors; they differ
 * only in how the descriptors are opened and in that stdio's are not ours
 * to close.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "chardev.h"

struct fd_chardev {
    struct chardev cd;
    int owns_fds;
    int not_socket; /* send() said ENOTSOCK once: write() from then on */
};

/* send() for sockets (MSG_NOSIGNAL: a peer that went away is an error, not
 * SIGPIPE), write() for anything else - found out once, not per byte: the
 * UART writes one byte per guest OUT. */
static ssize_t out_write(struct fd_chardev *f, const uint8_t *buf, size_t len)
{
    if (!f->not_socket) {
        ssize_t n = send(f->cd.out_fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0 || errno != ENOTSOCK)
            return n;
        f->not_socket = 1;
    }
    return write(f->cd.out_fd, buf, len);
}

static cap_result fd_write(struct chardev *cd, const uint8_t *buf, size_t len)
{
    if (cd->out_fd < 0 || cd->failed)
        return CAP_OK;
    while (len > 0) {
        ssize_t n = out_write((struct fd_chardev *)cd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = {.fd = cd->out_fd, .events = POLLOUT};
            poll(&p, 1, 100);
            continue;
        }
        if (n <= 0) {
            cd->failed = 1;
            return CAP_E_IO;
        }
        buf += n;
        len -= (size_t)n;
    }
    return CAP_OK;
}

static ssize_t fd_read(struct chardev *cd, uint8_t *buf, size_t len)
{
    if (cd->in_fd < 0 || cd->failed)
        return -1;
    struct pollfd p = {.fd = cd->in_fd, .events = POLLIN};
    if (poll(&p, 1, 0) <= 0)
        return 0;
    ssize_t n = read(cd->in_fd, buf, len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    return n > 0 ? n : -1;
}

static void fd_close(struct chardev *cd)
{
    struct fd_chardev *f = (struct fd_chardev *)cd;
    if (f->owns_fds) {
        if (cd->out_fd >= 0)
            close(cd->out_fd);
        if (cd->in_fd >= 0 && cd->in_fd != cd->out_fd)
            close(cd->in_fd);
    }
    free(f);
}

static const struct chardev_ops fd_ops = {.write = fd_write, .read = fd_read, .close = fd_close};
static const struct chardev_ops out_only_ops = {.write = fd_write, .close = fd_close};

static cap_result make(int in_fd, int out_fd, int owns, struct chardev **out)
{
    struct fd_chardev *f = calloc(1, sizeof(*f));
    if (!f)
        return CAP_E_OUTOFMEMORY;
    f->cd.ops = in_fd >= 0 ? &fd_ops : &out_only_ops;
    f->cd.in_fd = in_fd;
    f->cd.out_fd = out_fd;
    f->owns_fds = owns;
    *out = &f->cd;
    return CAP_OK;
}

static cap_result open_unix(const char *path, char *err, size_t errlen, struct chardev **out)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "socket path too long: '%s'", path);
        return CAP_E_INVALIDARG;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        snprintf(err, errlen, "cannot connect to '%s': %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return CAP_E_IO;
    }
    cap_result rc = make(fd, fd, 1, out);
    if (CAP_FAILED(rc))
        close(fd);
    return rc;
}

cap_result chardev_open(const char *spec, char *err, size_t errlen, struct chardev **out)
{
    *out = NULL;
    if (!spec || strcmp(spec, "none") == 0)
        return make(-1, -1, 0, out);
    if (strcmp(spec, "stdio") == 0)
        return make(STDIN_FILENO, STDOUT_FILENO, 0, out);
    if (strncmp(spec, "file:", 5) == 0 && spec[5]) {
        /* O_NONBLOCK: a FIFO nobody reads fails at once (ENXIO) instead of
         * blocking the VM's setup in open(); writes block again after. */
        int fd = open(spec + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
                      0644);
        if (fd < 0) {
            snprintf(err, errlen, "cannot open '%s': %s", spec + 5,
                     errno == ENXIO ? "a FIFO with no reader" : strerror(errno));
            return CAP_E_IO;
        }
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0)
            (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        cap_result rc = make(-1, fd, 1, out);
        if (CAP_FAILED(rc))
            close(fd);
        return rc;
    }
    if (strncmp(spec, "unix:", 5) == 0 && spec[5])
        return open_unix(spec + 5, err, errlen, out);
    snprintf(err, errlen, "unknown backend '%s' (none, stdio, file:PATH, unix:PATH)", spec);
    return CAP_E_INVALIDARG;
}

void chardev_close(struct chardev *cd)
{
    if (cd)
        cd->ops->close(cd);
}
