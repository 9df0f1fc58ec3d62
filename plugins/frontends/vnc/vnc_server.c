/*
 * vnc_server.c - the VNC server (vnc.h) on libvncserver.
 *
 * libvncserver is driven by one thread of ours, not its own threads
 * (rfbRunEventLoop's background mode gives every client a thread that
 * reads the framebuffer while we write it): the loop thread polls the
 * listening socket, the clients' sockets and a wake-up pipe, and then lets
 * rfbProcessEvents (with no wait) accept, read the clients' messages and
 * send what changed; it alone touches libvncserver and the server's
 * framebuffer. The display hub's refresh thread writes each dirty
 * rectangle into the stage (vnc_stage.c) and wakes the loop at the end of
 * a frame; the loop copies the changed rectangles from the stage into the
 * framebuffer and marks them modified, so updates are encoded from the
 * dirty rectangles, and a client that reads slowly holds up only this
 * thread, never the hub. A still screen costs nothing: no frame, no
 * wake-up, clients' sockets quiet (the loop's poll has a long safety
 * timeout only).
 *
 * The listening socket is our own (bound to the address given, or
 * 127.0.0.1, with port 0 letting the kernel pick a free port; libvncserver's
 * own port probing knows only 5900..5999 and every address), and so are
 * the accepts: a connection past VNC_MAX_CLIENTS is closed at once, the
 * others become libvncserver's clients (rfbNewClient), without the scan
 * of every possible file descriptor its own accept makes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rfb/rfb.h>

#include <capsule/errorinfo.h>

#include "display/display.h"
#include "em/em.h"
#include "pdm.h"
#include "vnc.h"
#include "vnc_internal.h"

#define COMPONENT "vnc"
/* The loop's poll bound: a safety net only (every event has an fd). */
#define LOOP_POLL_MS 1000
#define MAX_POLL_FDS (VNC_MAX_CLIENTS + 2)
/* The picture before the hub's first resize. */
#define INITIAL_WIDTH  640
#define INITIAL_HEIGHT 480

struct vnc_server {
    /* set at start */
    struct vm *vm;
    struct pdm *pdm;
    struct fe_display *disp;
    unsigned fb_id; /* the hub's id of our framebuffer; 0: not attached */
    unsigned port;
    int listen_fd; /* -1: none */
    char *password;
    char *passwords[2]; /* rfbCheckPasswordByList's list: password, NULL */
    int wake[2];        /* the loop's wake-up pipe (-1: none) */
    pthread_t thread;
    bool thread_started;
    bool stopping;          /* atomic */
    bool dirty;             /* atomic: the stage changed since the loop was woken */
    struct vnc_stage stage; /* the hub's picture (its own lock) */
    bool stage_inited;
    /* the loop thread's (start and stop's while it does not run) */
    rfbScreenInfoPtr screen;
    uint32_t *fb; /* screen->frameBuffer, width * height pixels */
    unsigned width, height;
    unsigned clients; /* connected now (atomic) */
};

/* What libvncserver keeps per client for us (cl->clientData). */
struct vnc_client {
    struct vnc_keys keys;
    struct vnc_pointer ptr;
};

/* ---- logging ---------------------------------------------------------------- */

/* libvncserver says a lot about every client (its encodings, its
 * statistics): the VM log keeps who came, who went and who was refused. */
static const char *const log_kept[] = {" gone", "authentication failed", "password check failed"};

static void say(const char *fmt, ...) CAP_PRINTF(1, 2);
static void say(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    size_t n = strlen(line);
    while (n && line[n - 1] == '\n')
        line[--n] = '\0';
    fprintf(stderr, "capsule-vm: vnc: %s\n", line);
}

static void rfb_vlog(bool error, const char *fmt, va_list ap)
{
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    if (error && strstr(line, "is not a multiple of 4"))
        return; /* a width the clients cope with */
    bool keep = error;
    for (size_t i = 0; !keep && i < sizeof(log_kept) / sizeof(log_kept[0]); i++)
        keep = strstr(line, log_kept[i]) != NULL;
    if (keep)
        say("%s", line);
}

static void rfb_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rfb_vlog(false, fmt, ap);
    va_end(ap);
}

static void rfb_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rfb_vlog(true, fmt, ap);
    va_end(ap);
}

/* ---- framebuffer (the hub's refresh thread) ---------------------------------- */

static void fb_resize(void *ctx, unsigned width, unsigned height)
{
    struct vnc_server *s = ctx;
    if (vnc_stage_resize(&s->stage, width, height))
        say("no memory for a %ux%u picture: the clients keep the old one", width, height);
    else
        __atomic_store_n(&s->dirty, true, __ATOMIC_RELEASE);
}

static void fb_update(void *ctx, const uint32_t *pixels, unsigned stride, unsigned x, unsigned y,
                      unsigned w, unsigned h)
{
    struct vnc_server *s = ctx;
    vnc_stage_update(&s->stage, pixels, stride, x, y, w, h);
    __atomic_store_n(&s->dirty, true, __ATOMIC_RELEASE);
}

static void wake_loop(struct vnc_server *s)
{
    char c = 1;
    ssize_t r = write(s->wake[1], &c, 1); /* full pipe: the loop wakes anyway */
    (void)r;
}

static void fb_frame_done(void *ctx)
{
    struct vnc_server *s = ctx;
    if (__atomic_exchange_n(&s->dirty, false, __ATOMIC_ACQ_REL))
        wake_loop(s);
}

static const struct fe_framebuffer_ops fb_ops = {
    .resize = fb_resize,
    .update = fb_update,
    .frame_done = fb_frame_done,
};

/* ---- input (the loop thread) ---------------------------------------------------- */

static void put_keys(struct vnc_server *s, const uint8_t *codes, size_t n)
{
    if (n && CAP_FAILED(pdm_keyboard_put(s->pdm, codes, n)))
        cap_error_clear(); /* no keyboard, or its buffer full: the key is lost, as on a PC */
}

static void on_key(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
{
    struct vnc_server *s = cl->screen->screenData;
    struct vnc_client *c = cl->clientData;
    uint8_t codes[VNC_KEYS_MAX_CODES];
    if (c)
        put_keys(s, codes, vnc_keys_event(&c->keys, keysym, down, codes));
}

/* The pointer goes to the tablet while its guest driver takes events (a
 * client's pointer then is where the guest's is), else to the PS/2 mouse
 * as motion: a BIOS, or a guest without the tablet's driver, still gets a
 * mouse. Asked at each event: a driver may bind or go at any time. */
static void on_pointer(int mask, int x, int y, rfbClientPtr cl)
{
    struct vnc_server *s = cl->screen->screenData;
    struct vnc_client *c = cl->clientData;
    struct vnc_pointer_event ev;
    if (!c)
        return;
    vnc_pointer_translate(&c->ptr, (unsigned)mask, x, y, s->width, s->height, &ev);
    cap_result rc = CAP_OK;
    if (pdm_mouse_abs_active(s->pdm))
        rc = pdm_mouse_put_abs(s->pdm, ev.abs_x, ev.abs_y, ev.dz, ev.buttons);
    else if (ev.dx || ev.dy || ev.dz || ev.buttons_changed)
        rc = pdm_mouse_put(s->pdm, ev.dx, ev.dy, ev.dz, ev.buttons);
    if (CAP_FAILED(rc))
        cap_error_clear(); /* no mouse at all, or its queue full: the event is lost */
}

static void on_client_gone(rfbClientPtr cl)
{
    struct vnc_server *s = cl->screen->screenData;
    struct vnc_client *c = cl->clientData;
    if (c) {
        uint8_t codes[VNC_KEYS_MAX_CODES];
        size_t n;
        while ((n = vnc_keys_release_next(&c->keys, codes)))
            put_keys(s, codes, n);
        free(c);
        cl->clientData = NULL;
    }
    __atomic_fetch_sub(&s->clients, 1, __ATOMIC_RELAXED);
}

static enum rfbNewClientAction on_new_client(rfbClientPtr cl)
{
    struct vnc_server *s = cl->screen->screenData;
    struct vnc_client *c = calloc(1, sizeof(*c));
    if (!c)
        return RFB_CLIENT_REFUSE;
    cl->clientData = c;
    cl->clientGoneHook = on_client_gone;
    __atomic_fetch_add(&s->clients, 1, __ATOMIC_RELAXED);
    return RFB_CLIENT_ACCEPT;
}

/* ---- the loop thread ------------------------------------------------------------ */

static nfds_t poll_set(struct vnc_server *s, struct pollfd *fds)
{
    nfds_t n = 0;
    fds[n++] = (struct pollfd){.fd = s->wake[0], .events = POLLIN};
    fds[n++] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
    rfbClientIteratorPtr it = rfbGetClientIterator(s->screen);
    rfbClientPtr cl;
    while ((cl = rfbClientIteratorNext(it)) && n < MAX_POLL_FDS)
        if (cl->sock != RFB_INVALID_SOCKET)
            fds[n++] = (struct pollfd){.fd = cl->sock, .events = POLLIN};
    rfbReleaseClientIterator(it);
    return n;
}

/* A connection waiting on the listening socket: a new client, or closed
 * when there are VNC_MAX_CLIENTS already. */
static void accept_client(struct vnc_server *s)
{
    struct sockaddr_in peer;
    socklen_t len = sizeof(peer);
    int fd = accept4(s->listen_fd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return; /* gone meanwhile, or out of descriptors: the next poll tries again */
    char addr[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &peer.sin_addr, addr, sizeof(addr));
    if (__atomic_load_n(&s->clients, __ATOMIC_RELAXED) >= VNC_MAX_CLIENTS) {
        say("a client from %s refused: %u are connected, the most this server takes", addr,
            VNC_MAX_CLIENTS);
        close(fd);
        return;
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    say("a client connected from %s", addr);
    rfbNewClient(s->screen, fd); /* it closes fd itself if it refuses */
}

/* What changed on the stage into the framebuffer: a new framebuffer after
 * a resize (the clients get its size and the whole picture), else the
 * changed rectangles marked modified for every client. */
static void apply_stage(struct vnc_server *s)
{
    struct vnc_rect rects[VNC_STAGE_RECTS];
    unsigned n = 0, w = s->width, h = s->height;
    uint32_t *fb = s->fb;
    int r = vnc_stage_take(&s->stage, &fb, &w, &h, rects, &n);
    if (r == 1) {
        rfbNewFramebuffer(s->screen, (char *)fb, (int)w, (int)h, 8, 3, 4);
        free(s->fb);
        s->fb = fb;
        s->width = w;
        s->height = h;
    }
    for (unsigned i = 0; r == 0 && i < n; i++)
        rfbMarkRectAsModified(s->screen, (int)rects[i].x, (int)rects[i].y,
                              (int)(rects[i].x + rects[i].w), (int)(rects[i].y + rects[i].h));
}

static void *loop_thread(void *arg)
{
    struct vnc_server *s = arg;
    struct pollfd fds[MAX_POLL_FDS];
    while (!__atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE)) {
        nfds_t n = poll_set(s, fds);
        if (poll(fds, n, LOOP_POLL_MS) < 0 && errno != EINTR)
            say("poll: %s", strerror(errno));
        if (fds[0].revents & POLLIN) {
            char buf[64];
            while (read(s->wake[0], buf, sizeof(buf)) > 0)
                ;
        }
        if (fds[1].revents & POLLIN)
            accept_client(s);
        apply_stage(s);
        rfbProcessEvents(s->screen, 0);
    }
    return NULL;
}

/* ---- start and stop -------------------------------------------------------------- */

static cap_result listen_socket(const struct vnc_config *cfg, int *fd_out, unsigned *port_out)
{
    const char *addr = cfg->address && *cfg->address ? cfg->address : VNC_DEFAULT_ADDRESS;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cfg->port)};
    if (cfg->port > 65535)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL, "port %u is not in 0..65535",
                             cfg->port);
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL,
                             "address '%s' is not a numeric IPv4 address", addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return cap_error_set(CAP_E_FAIL, COMPONENT, NULL, "socket: %s", strerror(errno));
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    socklen_t len = sizeof(sa);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        int err = errno;
        close(fd);
        return cap_error_set(CAP_E_FAIL, COMPONENT, NULL, "cannot listen on %s port %u: %s%s", addr,
                             cfg->port, strerror(err),
                             err == EADDRINUSE ? " (another server has it: choose another port, "
                                                 "or 0 for a free one)"
                                               : "");
    }
    *fd_out = fd;
    *port_out = ntohs(sa.sin_port);
    return CAP_OK;
}

static cap_result make_screen(struct vnc_server *s)
{
    rfbLog = rfb_log; /* libvncserver's loggers are process-wide */
    rfbErr = rfb_err;
    rfbScreenInfoPtr sc = rfbGetScreen(NULL, NULL, INITIAL_WIDTH, INITIAL_HEIGHT, 8, 3, 4);
    s->fb = calloc((size_t)INITIAL_WIDTH * INITIAL_HEIGHT, sizeof(*s->fb));
    if (!sc || !s->fb) {
        if (sc)
            rfbScreenCleanup(sc);
        return cap_error_set(CAP_E_OUTOFMEMORY, COMPONENT, NULL, "out of memory");
    }
    s->screen = sc;
    s->width = INITIAL_WIDTH;
    s->height = INITIAL_HEIGHT;
    sc->frameBuffer = (char *)s->fb;
    sc->desktopName = "Capsule VM";
    sc->screenData = s;
    sc->port = 0; /* no socket of libvncserver's own: ours below */
    sc->ipv6port = 0;
    sc->autoPort = FALSE;
    sc->alwaysShared = TRUE; /* several clients at once */
    sc->deferUpdateTime = 0; /* the hub paces the frames */
    sc->cursor = NULL;       /* the guest draws its own pointer */
    sc->kbdAddEvent = on_key;
    sc->ptrAddEvent = on_pointer;
    sc->newClientHook = on_new_client;
    if (s->password) {
        s->passwords[0] = s->password;
        sc->authPasswdData = s->passwords;
        sc->passwordCheck = rfbCheckPasswordByList;
    }
    vnc_stage_init(&s->stage, sc->serverFormat.redShift, sc->serverFormat.greenShift,
                   sc->serverFormat.blueShift);
    s->stage_inited = true;
    rfbInitServer(sc);
    return CAP_OK;
}

cap_result vnc_server_start(struct vm *vm, struct fe_display *disp, const struct vnc_config *cfg,
                            struct vnc_server **out)
{
    *out = NULL;
    struct vnc_server *s = calloc(1, sizeof(*s));
    if (!s)
        return cap_error_set(CAP_E_OUTOFMEMORY, COMPONENT, NULL, "out of memory");
    s->vm = vm;
    s->pdm = vm_pdm(vm);
    s->disp = disp;
    s->wake[0] = s->wake[1] = -1;
    s->listen_fd = -1;
    cap_result rc = CAP_OK;
    if (cfg->password && *cfg->password && !(s->password = strdup(cfg->password)))
        rc = cap_error_set(CAP_E_OUTOFMEMORY, COMPONENT, NULL, "out of memory");
    if (CAP_SUCCEEDED(rc) && pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) < 0)
        rc = cap_error_set(CAP_E_FAIL, COMPONENT, NULL, "pipe: %s", strerror(errno));
    if (CAP_SUCCEEDED(rc))
        rc = listen_socket(cfg, &s->listen_fd, &s->port);
    if (CAP_SUCCEEDED(rc))
        rc = make_screen(s);
    if (CAP_SUCCEEDED(rc))
        rc = fe_display_attach(disp, &fb_ops, s, &s->fb_id);
    if (CAP_SUCCEEDED(rc)) {
        int err = pthread_create(&s->thread, NULL, loop_thread, s);
        if (err)
            rc = cap_error_set(CAP_E_FAIL, COMPONENT, NULL, "cannot start the VNC thread: %s",
                               strerror(err));
        s->thread_started = !err;
    }
    if (CAP_FAILED(rc)) {
        struct cap_error_info saved = {0};
        cap_error_take(&saved);
        vnc_server_stop(s);
        cap_error_set_info(&saved);
        cap_error_info_clear(&saved);
        return rc;
    }
    say("listening on %s port %u%s",
        cfg->address && *cfg->address ? cfg->address : VNC_DEFAULT_ADDRESS, s->port,
        s->password ? " (VNC password required)" : " (no password)");
    *out = s;
    return CAP_OK;
}

unsigned vnc_server_port(const struct vnc_server *s)
{
    return s->port;
}

void vnc_server_stop(struct vnc_server *s)
{
    if (!s)
        return;
    if (s->fb_id)
        fe_display_detach(s->disp, s->fb_id);
    if (s->thread_started) {
        __atomic_store_n(&s->stopping, true, __ATOMIC_RELEASE);
        wake_loop(s);
        pthread_join(s->thread, NULL);
    }
    if (s->screen) {
        rfbShutdownServer(s->screen, TRUE); /* clients gone: their keys released */
        rfbScreenCleanup(s->screen);
    }
    if (s->stage_inited)
        vnc_stage_destroy(&s->stage);
    free(s->fb);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    for (int i = 0; i < 2; i++)
        if (s->wake[i] >= 0)
            close(s->wake[i]);
    if (s->password) {
        memset(s->password, 0, strlen(s->password));
        free(s->password);
    }
    free(s);
}
