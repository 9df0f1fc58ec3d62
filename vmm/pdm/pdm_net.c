/*
 * vmm/pdm/pdm_net.c - network attachments: the backend on a network
 * adapter's port (pdmdev.h "network adapters"), its I/O thread, the
 * guest -> host queue, the pcap trace and the counters.
 *
 * An attachment (struct pdm_net) is made by pdm_add_nic before its device
 * is constructed; the device takes it with hlp->net_attach. Each one has
 * an I/O thread that owns the backend (pdm_nat.c: libslirp, which is
 * single-threaded): it polls the backend's sockets and an eventfd that
 * net_send signals, feeds the queued guest frames to the backend, and
 * delivers the backend's frames to the device under the device lock
 * (pdm_net_deliver). The queue's mutex is never held while waiting for the
 * device lock, and net_send (called under the device lock) never waits for
 * the thread, so the two cannot deadlock.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <unistd.h>

#include <capsule/errorinfo.h>

#include "pdm_internal.h"

/* One queued guest frame. */
struct net_frame {
    struct net_frame *next;
    size_t len;
    uint8_t data[];
};

struct pdm_net {
    struct pdm *pdm;
    char device[40];
    unsigned instance;
    /* under the device lock: the attached device (NULL until net_attach,
     * again after its instance is destroyed) */
    struct pdm_devinst *inst;
    const struct pdm_net_port *port;
    void *user;
    bool attached_once;
    /* the backend and the trace: the I/O thread's (once it runs) */
    struct pdm_nat *nat;
    FILE *trace;
    /* under mtx: guest -> host frames */
    pthread_mutex_t mtx;
    struct net_frame *head, *tail;
    unsigned queued;
    size_t queued_bytes;
    bool stop;
    int wake; /* eventfd: frames queued or stop */
    pthread_t thread;
    bool thread_started;
    /* pdm_net_hostfwd's request to the I/O thread: one at a time (ctl),
     * fields under mtx; done signalled on `cond` */
    pthread_mutex_t ctl;
    pthread_cond_t cond;
    const struct pdm_net_hostfwd *req;
    bool req_add, req_done;
    cap_result req_rc;
    char req_msg[200];
    /* /PDM/Net/<device><instance>/ (atomic adds: two threads count) */
    struct {
        uint64_t tx_frames, tx_bytes, tx_dropped, rx_frames, rx_bytes, rx_dropped;
    } stat;
    char stat_prefix[80]; /* "" when not registered */
    struct pdm_net *next;
};

/* ---- the pcap trace ------------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4); /* pcap is in the writer's byte order (magic tells) */
}

/* The global header: magic, version 2.4, zone 0, sigfigs 0, snaplen,
 * LINKTYPE_ETHERNET (1). */
static cap_result trace_open(struct pdm_net *n, const char *path)
{
    n->trace = fopen(path, "wb");
    if (!n->trace)
        return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                             "%s%u: cannot create the trace file %s: %s", n->device, n->instance,
                             path, strerror(errno));
    uint8_t h[24];
    put32(h, 0xa1b2c3d4u);
    uint16_t v[2] = {2, 4};
    memcpy(h + 4, v, 4);
    put32(h + 8, 0);
    put32(h + 12, 0);
    put32(h + 16, PDM_NET_FRAME_MAX);
    put32(h + 20, 1);
    fwrite(h, 1, sizeof(h), n->trace);
    fflush(n->trace);
    return CAP_OK;
}

static void trace_frame(struct pdm_net *n, const void *frame, size_t len)
{
    if (!n->trace)
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    uint8_t r[16];
    put32(r, (uint32_t)tv.tv_sec);
    put32(r + 4, (uint32_t)tv.tv_usec);
    put32(r + 8, (uint32_t)len);
    put32(r + 12, (uint32_t)len);
    fwrite(r, 1, sizeof(r), n->trace);
    fwrite(frame, 1, len, n->trace);
    fflush(n->trace);
}

void pdm_net_log(struct pdm_net *n, const char *msg)
{
    char who[64];
    snprintf(who, sizeof(who), "%s%u", n->device, n->instance);
    if (n->pdm->host.log)
        n->pdm->host.log(n->pdm->info.host_ctx, who, PDM_LOG_WARN, msg);
    else
        fprintf(stderr, "%s: %s\n", who, msg);
}

/* ---- the I/O thread --------------------------------------------------------- */

void pdm_net_deliver(struct pdm_net *n, const void *frame, size_t len)
{
    trace_frame(n, frame, len);
    bool taken = false;
    pdm_lock(n->pdm);
    /* inst stays alive while the device lock is held (it is destructed
     * under it, after pdm_net_detach_inst cleared the pointer) */
    if (n->inst)
        taken = n->port->receive(&n->inst->dev, n->user, frame, len);
    pdm_unlock(n->pdm);
    if (taken) {
        __atomic_add_fetch(&n->stat.rx_frames, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&n->stat.rx_bytes, len, __ATOMIC_RELAXED);
    } else {
        __atomic_add_fetch(&n->stat.rx_dropped, 1, __ATOMIC_RELAXED);
    }
}

/* Feeds the queued guest frames to the backend (taken off the queue at
 * once, so net_send is never held up by the backend). */
static void run_queue(struct pdm_net *n)
{
    pthread_mutex_lock(&n->mtx);
    struct net_frame *f = n->head;
    n->head = n->tail = NULL;
    n->queued = 0;
    n->queued_bytes = 0;
    pthread_mutex_unlock(&n->mtx);
    while (f) {
        struct net_frame *next = f->next;
        trace_frame(n, f->data, f->len);
        pdm_nat_input(n->nat, f->data, f->len);
        free(f);
        f = next;
    }
}

/* Carries out a pending pdm_net_hostfwd request (the I/O thread). */
static void run_request(struct pdm_net *n)
{
    pthread_mutex_lock(&n->mtx);
    const struct pdm_net_hostfwd *f = n->req_done ? NULL : n->req;
    bool add = n->req_add;
    pthread_mutex_unlock(&n->mtx);
    if (!f)
        return;
    cap_result rc = pdm_nat_hostfwd(n->nat, f, add);
    pthread_mutex_lock(&n->mtx);
    n->req_rc = rc;
    snprintf(n->req_msg, sizeof(n->req_msg), "%s",
             CAP_FAILED(rc) && cap_error_peek_message() ? cap_error_peek_message() : "");
    cap_error_clear();
    n->req_done = true;
    pthread_cond_broadcast(&n->cond);
    pthread_mutex_unlock(&n->mtx);
}

static void *io_thread(void *arg)
{
    struct pdm_net *n = arg;
    struct pollfd *pfds = NULL;
    size_t cap = 0;
    for (;;) {
        pthread_mutex_lock(&n->mtx);
        bool stop = n->stop;
        pthread_mutex_unlock(&n->mtx);
        if (stop)
            break;
        run_queue(n);
        run_request(n);
        size_t nfds = 0;
        int timeout = 1000;
        if (CAP_FAILED(pdm_nat_fill(n->nat, &pfds, &nfds, &cap, &timeout))) {
            cap_error_clear();
            nfds = 0; /* out of memory: only the wake-up below, and retry */
            timeout = 100;
        }
        /* the wake-up eventfd after the backend's sockets */
        if (nfds == cap) {
            struct pollfd *p = realloc(pfds, (cap + 1) * sizeof(*p));
            if (!p) {
                usleep(10000);
                continue;
            }
            pfds = p;
            cap++;
        }
        pfds[nfds] = (struct pollfd){.fd = n->wake, .events = POLLIN};
        int r = poll(pfds, nfds + 1, timeout);
        if (r > 0 && (pfds[nfds].revents & POLLIN)) {
            uint64_t v;
            if (read(n->wake, &v, sizeof(v)) < 0 && errno != EAGAIN)
                usleep(1000);
        }
        pdm_nat_poll(n->nat, pfds, r < 0 && errno != EINTR);
    }
    free(pfds);
    return NULL;
}

static void wake(struct pdm_net *n)
{
    uint64_t one = 1;
    ssize_t w = write(n->wake, &one, sizeof(one));
    (void)w; /* EAGAIN: the counter is full, the thread will wake anyway */
}

/* ---- the device's side --------------------------------------------------------- */

static struct pdm_net *find_nic(struct pdm *pdm, const char *device, unsigned instance)
{
    for (struct pdm_net *n = pdm->nics; n; n = n->next)
        if (!strcmp(n->device, device) && n->instance == instance)
            return n;
    return NULL;
}

cap_result pdm_hlp_net_attach(struct pdm_dev *dev, const struct pdm_net_port *port, void *user,
                              struct pdm_net **out)
{
    struct pdm_devinst *inst = pdm_inst(dev);
    *out = NULL;
    if (!port || !port->receive)
        return dev->hlp->error(dev, CAP_E_POINTER, "net_attach without a receive callback");
    struct pdm_net *n = find_nic(inst->pdm, dev->reg->name, dev->instance);
    if (!n)
        return CAP_FALSE_RESULT;
    if (n->inst)
        return dev->hlp->error(dev, CAP_E_ALREADY_REGISTERED, "network port attached twice");
    pdm_lock(n->pdm);
    n->inst = inst;
    n->port = port;
    n->user = user;
    n->attached_once = true;
    pdm_unlock(n->pdm);
    *out = n;
    return CAP_OK;
}

cap_result pdm_hlp_net_send(struct pdm_net *n, const void *frame, size_t len)
{
    struct net_frame *f = NULL;
    if (len >= PDM_NET_FRAME_MIN && len <= PDM_NET_FRAME_MAX)
        f = malloc(sizeof(*f) + len);
    if (f) {
        f->next = NULL;
        f->len = len;
        memcpy(f->data, frame, len);
        pthread_mutex_lock(&n->mtx);
        bool room = n->queued < PDM_NET_QUEUE_MAX && n->queued_bytes + len <= PDM_NET_QUEUE_BYTES &&
                    !n->stop;
        if (room) {
            n->queued_bytes += len;
            if (n->tail)
                n->tail->next = f;
            else
                n->head = f;
            n->tail = f;
            n->queued++;
        }
        pthread_mutex_unlock(&n->mtx);
        if (room) {
            wake(n);
            __atomic_add_fetch(&n->stat.tx_frames, 1, __ATOMIC_RELAXED);
            __atomic_add_fetch(&n->stat.tx_bytes, len, __ATOMIC_RELAXED);
            return CAP_OK;
        }
        free(f);
    }
    __atomic_add_fetch(&n->stat.tx_dropped, 1, __ATOMIC_RELAXED);
    return CAP_FALSE_RESULT;
}

/* ---- the VMM's side ------------------------------------------------------------- */

static void register_stats(struct pdm_net *n)
{
    static const struct pdm_stat_def defs[] = {
        {"TxFrames", offsetof(struct pdm_net, stat.tx_frames), STAM_UNIT_COUNT,
         "frames from the guest queued for the backend"},
        {"TxBytes", offsetof(struct pdm_net, stat.tx_bytes), STAM_UNIT_BYTES,
         "bytes from the guest queued for the backend"},
        {"TxDropped", offsetof(struct pdm_net, stat.tx_dropped), STAM_UNIT_COUNT,
         "frames from the guest dropped (queue full, bad length)"},
        {"RxFrames", offsetof(struct pdm_net, stat.rx_frames), STAM_UNIT_COUNT,
         "frames the device took for the guest"},
        {"RxBytes", offsetof(struct pdm_net, stat.rx_bytes), STAM_UNIT_BYTES,
         "bytes the device took for the guest"},
        {"RxDropped", offsetof(struct pdm_net, stat.rx_dropped), STAM_UNIT_COUNT,
         "frames for the guest dropped (no buffer posted, link down, no driver)"},
    };
    char prefix[80];
    snprintf(prefix, sizeof(prefix), "/PDM/Net/%s%u/", n->device, n->instance);
    pdm_stat_register(n->pdm, n, defs, sizeof(defs) / sizeof(defs[0]), prefix, n->stat_prefix,
                      sizeof(n->stat_prefix));
}

static void net_free(struct pdm_net *n)
{
    pdm_stat_deregister(n->pdm, n->stat_prefix);
    pdm_nat_destroy(n->nat);
    for (struct net_frame *f = n->head, *next; f; f = next) {
        next = f->next;
        free(f);
    }
    if (n->trace)
        fclose(n->trace);
    if (n->wake >= 0)
        close(n->wake);
    pthread_cond_destroy(&n->cond);
    pthread_mutex_destroy(&n->ctl);
    pthread_mutex_destroy(&n->mtx);
    free(n);
}

cap_result pdm_add_nic(struct pdm *pdm, const struct pdm_nic_config *nc)
{
    if (!pdm || !nc || !nc->device || !nc->backend)
        return CAP_E_POINTER;
    if (strlen(nc->device) >= sizeof(((struct pdm_net *)0)->device))
        return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                             "network: device name '%s' too long", nc->device);
    if (strcmp(nc->backend, "nat"))
        return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                             "%s%u: unknown network backend '%s' (only nat)", nc->device,
                             nc->instance, nc->backend);
    if (nc->n_hostfwd > PDM_NET_MAX_HOSTFWD)
        return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                             "%s%u: %zu port forwards (at most %d)", nc->device, nc->instance,
                             nc->n_hostfwd, PDM_NET_MAX_HOSTFWD);
    if (find_nic(pdm, nc->device, nc->instance))
        return cap_error_set(CAP_E_ALREADY_REGISTERED, PDM_COMPONENT, NULL,
                             "%s%u has a network attachment already", nc->device, nc->instance);
    struct pdm_net *n = calloc(1, sizeof(*n));
    if (!n)
        return cap_error_set(CAP_E_OUTOFMEMORY, PDM_COMPONENT, NULL, "out of memory");
    n->pdm = pdm;
    snprintf(n->device, sizeof(n->device), "%s", nc->device);
    n->instance = nc->instance;
    pthread_mutex_init(&n->mtx, NULL);
    pthread_mutex_init(&n->ctl, NULL);
    pthread_cond_init(&n->cond, NULL);
    n->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    cap_result rc = n->wake < 0
                        ? cap_error_set(CAP_E_FAIL, PDM_COMPONENT, NULL, "%s%u: eventfd: %s",
                                        nc->device, nc->instance, strerror(errno))
                        : CAP_OK;
    if (CAP_SUCCEEDED(rc) && nc->trace)
        rc = trace_open(n, nc->trace);
    if (CAP_SUCCEEDED(rc))
        rc = pdm_nat_create(n, nc, &n->nat);
    if (CAP_SUCCEEDED(rc) && pthread_create(&n->thread, NULL, io_thread, n))
        rc = cap_error_set(CAP_E_FAIL, PDM_COMPONENT, NULL,
                           "cannot start a network attachment's I/O thread");
    if (CAP_FAILED(rc)) {
        net_free(n);
        return rc;
    }
    n->thread_started = true;
    register_stats(n);
    struct pdm_net **pp = &pdm->nics;
    while (*pp)
        pp = &(*pp)->next;
    *pp = n;
    return CAP_OK;
}

cap_result pdm_net_set_link(struct pdm *pdm, const char *device, unsigned instance, bool up)
{
    if (!pdm || !device)
        return CAP_E_POINTER;
    cap_result rc = CAP_OK;
    pdm_lock(pdm);
    struct pdm_dev *dev = pdm_find_device(pdm, device, instance);
    const struct pdm_net_iface *n = dev && dev->reg->ops->query_interface
                                        ? dev->reg->ops->query_interface(dev, PDM_IFACE_NET)
                                        : NULL;
    if (n && n->set_link)
        n->set_link(dev, up);
    else
        rc = cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                           "%s%u: no such network adapter in this VM", device, instance);
    pdm_unlock(pdm);
    return rc;
}

cap_result pdm_net_hostfwd(struct pdm *pdm, const char *device, unsigned instance,
                           const struct pdm_net_hostfwd *f, bool add)
{
    if (!pdm || !device || !f)
        return CAP_E_POINTER;
    struct pdm_net *n = find_nic(pdm, device, instance); /* the list is fixed once running */
    if (!n)
        return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                             "%s%u: no network attachment in this VM", device, instance);
    pthread_mutex_lock(&n->ctl);
    pthread_mutex_lock(&n->mtx);
    n->req = f;
    n->req_add = add;
    n->req_done = false;
    pthread_mutex_unlock(&n->mtx);
    wake(n);
    pthread_mutex_lock(&n->mtx);
    while (!n->req_done && !n->stop && n->thread_started)
        pthread_cond_wait(&n->cond, &n->mtx);
    bool done = n->req_done;
    cap_result rc = n->req_rc;
    char msg[sizeof(n->req_msg)];
    memcpy(msg, n->req_msg, sizeof(msg));
    n->req = NULL;
    n->req_done = true;
    pthread_mutex_unlock(&n->mtx);
    pthread_mutex_unlock(&n->ctl);
    if (!done)
        return cap_error_set(CAP_E_FAIL, PDM_COMPONENT, NULL,
                             "%s%u: the network attachment is stopping", device, instance);
    if (CAP_FAILED(rc))
        return cap_error_set(rc, PDM_COMPONENT, NULL, "%s%u: %s", device, instance, msg);
    return CAP_OK;
}

cap_result pdm_check_nics(struct pdm *pdm)
{
    for (struct pdm_net *n = pdm->nics; n; n = n->next)
        if (!n->attached_once)
            return cap_error_set(
                CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                "a network attachment is configured on %s%u, but %s", n->device, n->instance,
                pdm_find_device(pdm, n->device, n->instance) ? "that device has no network port"
                                                             : "the machine has no such device");
    return CAP_OK;
}

void pdm_net_detach_inst(struct pdm_devinst *inst)
{
    struct pdm *pdm = inst->pdm;
    pdm_lock(pdm);
    for (struct pdm_net *n = pdm->nics; n; n = n->next)
        if (n->inst == inst)
            n->inst = NULL;
    pdm_unlock(pdm);
}

void pdm_net_stop_all(struct pdm *pdm)
{
    for (struct pdm_net *n = pdm->nics; n; n = n->next) {
        if (!n->thread_started)
            continue;
        pthread_mutex_lock(&n->mtx);
        n->stop = true;
        pthread_cond_broadcast(&n->cond); /* a pdm_net_hostfwd caller gives up */
        pthread_mutex_unlock(&n->mtx);
        wake(n);
        pthread_join(n->thread, NULL);
        n->thread_started = false;
    }
}

void pdm_net_free_all(struct pdm *pdm)
{
    pdm_net_stop_all(pdm);
    for (struct pdm_net *n = pdm->nics, *next; n; n = next) {
        next = n->next;
        net_free(n);
    }
    pdm->nics = NULL;
}
