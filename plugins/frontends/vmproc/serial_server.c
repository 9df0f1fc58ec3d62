/*
 * serial_server.c - the relay behind a serial port in server mode (see
 * serial_server.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <capsule/errorinfo.h>

#include "serial_server.h"

struct serial_server {
    int pub, priv;   /* listening sockets: clients, the device */
    int stop[2];     /* pipe: destroy wakes the thread */
    pthread_t thread;
    int started, have_dir;
    char pub_path[108], dir[64], priv_path[108], spec[128];
};

static int listen_at(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* Both ends are sockets: a peer that went away is EPIPE here, not a
 * SIGPIPE that would end the VM process (capsule-vm keeps the default
 * action, and a console client may detach at any moment). */
static int write_all(int fd, const char *buf, ssize_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, buf, (size_t)n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        buf += w;
        n -= w;
    }
    return 0;
}

static void *relay(void *arg)
{
    struct serial_server *s = arg;
    int dev = -1, client = -1;
    char buf[4096];
    for (;;) {
        struct pollfd p[4] = {
            {s->stop[0], POLLIN, 0},
            {dev < 0 ? s->priv : dev, POLLIN, 0},
            {s->pub, POLLIN, 0},
            {client, POLLIN, 0},
        };
        if (poll(p, 4, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[0].revents)
            break;
        if (p[1].revents && dev < 0) {
            dev = accept4(s->priv, NULL, NULL, SOCK_CLOEXEC);
        } else if (p[1].revents) {
            ssize_t n = read(dev, buf, sizeof(buf));
            if (n <= 0)
                break; /* the device closed: the VM is gone */
            if (client >= 0 && write_all(client, buf, n) < 0) {
                close(client);
                client = -1;
            }
        }
        if (p[2].revents) {
            int c = accept4(s->pub, NULL, NULL, SOCK_CLOEXEC);
            if (c >= 0) {
                if (client >= 0)
                    close(client);
                client = c;
            }
            continue; /* p[3] refers to the old client */
        }
        if (client >= 0 && p[3].revents) {
            ssize_t n = read(client, buf, sizeof(buf));
            if (n <= 0 || (dev >= 0 && write_all(dev, buf, n) < 0)) {
                close(client);
                client = -1;
            }
        }
    }
    if (client >= 0)
        close(client);
    if (dev >= 0)
        close(dev);
    return NULL;
}

cap_result serial_server_create(const char *path, struct serial_server **out)
{
    *out = NULL;
    struct serial_server *s = calloc(1, sizeof(*s));
    if (!s)
        return cap_error_set(CAP_E_OUTOFMEMORY, "capsule-vm", NULL, "out of memory");
    s->pub = s->priv = s->stop[0] = s->stop[1] = -1;
    struct stat st;
    cap_result rc = CAP_OK;
    if (!path || !*path) {
        rc = cap_error_set(CAP_E_INVALIDARG, "capsule-vm", NULL,
                           "serial port 1: server mode needs a socket path");
        goto fail;
    }
    snprintf(s->pub_path, sizeof(s->pub_path), "%s", path);
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path); /* stale, from a VM that did not clean up */
    snprintf(s->dir, sizeof(s->dir), "/tmp/capsule-vm-serial.XXXXXX");
    if ((s->pub = listen_at(path)) < 0) {
        rc = cap_error_set(CAP_E_IO, "capsule-vm", NULL,
                           "serial port 1: cannot listen on '%s': %s", path, strerror(errno));
        s->pub_path[0] = '\0';
        goto fail;
    }
    if (!mkdtemp(s->dir)) {
        rc = cap_error_set(CAP_E_IO, "capsule-vm", NULL, "serial port 1: mkdtemp: %s",
                           strerror(errno));
        goto fail;
    }
    s->have_dir = 1;
    snprintf(s->priv_path, sizeof(s->priv_path), "%s/com", s->dir);
    snprintf(s->spec, sizeof(s->spec), "unix:%s", s->priv_path);
    if ((s->priv = listen_at(s->priv_path)) < 0 || pipe2(s->stop, O_CLOEXEC) < 0) {
        rc = cap_error_set(CAP_E_IO, "capsule-vm", NULL, "serial port 1: relay socket: %s",
                           strerror(errno));
        goto fail;
    }
    if (pthread_create(&s->thread, NULL, relay, s)) {
        rc = cap_error_set(CAP_E_IO, "capsule-vm", NULL, "serial port 1: no relay thread");
        goto fail;
    }
    s->started = 1;
    *out = s;
    return CAP_OK;
fail:
    serial_server_destroy(s);
    return rc;
}

const char *serial_server_device_spec(struct serial_server *s)
{
    return s->spec;
}

void serial_server_destroy(struct serial_server *s)
{
    if (!s)
        return;
    if (s->started) {
        ssize_t r = write(s->stop[1], "x", 1);
        (void)r;
        pthread_join(s->thread, NULL);
    }
    int fds[] = {s->pub, s->priv, s->stop[0], s->stop[1]};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
        if (fds[i] >= 0)
            close(fds[i]);
    if (s->pub_path[0])
        unlink(s->pub_path);
    if (s->priv_path[0])
        unlink(s->priv_path);
    if (s->have_dir)
        rmdir(s->dir);
    free(s);
}
