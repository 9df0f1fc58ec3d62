/*
 * vmm/pdm/pdm_nat.c - the "nat" network backend: libslirp's user-mode
 * TCP/IP stack (what VirtualBox's and QEMU's NAT are), driven by a network
 * attachment's I/O thread (pdm_net.c; slirp is single-threaded, so every
 * call but create and destroy comes from that thread).
 *
 * The guest network is VirtualBox's and QEMU's: 10.0.2.0/24, the guest
 * 10.0.2.15 by DHCP (the first address slirp's DHCP server hands out), the
 * host 10.0.2.2 (connections to it reach the host's loopback), DNS
 * 10.0.2.3 (slirp forwards it to the host's resolver). IPv6 is off.
 * Port forwards are slirp_add_hostfwd at create, and pdm_nat_hostfwd on a
 * running VM (the I/O thread's, asked by pdm_net_hostfwd).
 *
 * slirp's timers (timer_new_opaque, SlirpConfig 4) are a short list here,
 * checked after every poll; the poll's timeout is the nearer of slirp's own
 * (its TCP timers) and the earliest timer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libslirp.h>

#include <capsule/errorinfo.h>

#include "pdm_internal.h"

#define NAT_NET   0x0a000200u /* 10.0.2.0 */
#define NAT_MASK  0xffffff00u
#define NAT_HOST  0x0a000202u /* 10.0.2.2 */
#define NAT_DHCP  0x0a00020fu /* 10.0.2.15 */
#define NAT_DNS   0x0a000203u /* 10.0.2.3 */
#define NAT_GUEST NAT_DHCP

struct nat_timer {
    SlirpTimerId id;
    SlirpTimerCb cb; /* timer_new's; NULL for timer_new_opaque's */
    void *cb_opaque;
    int64_t expire_ms; /* -1: not armed */
    struct nat_timer *next;
};

struct pdm_nat {
    struct pdm_net *net;
    Slirp *slirp;
    struct nat_timer *timers;
    /* during pdm_nat_fill: where add_poll puts the sockets */
    struct pollfd **pfds;
    size_t *n, *cap;
    bool oom;
    const struct pollfd *revents; /* during pdm_nat_poll */
    unsigned guest_errors;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- slirp's callbacks ---------------------------------------------------- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
    struct pdm_nat *nat = opaque;
    pdm_net_deliver(nat->net, buf, len);
    return (ssize_t)len;
}

/* What the guest did wrong, for the log: the first NAT_GUEST_ERRORS
 * messages only (a guest must not flood the VM's log). */
#define NAT_GUEST_ERRORS 8

static void cb_guest_error(const char *msg, void *opaque)
{
    struct pdm_nat *nat = opaque;
    if (nat->guest_errors < NAT_GUEST_ERRORS) {
        char line[256];
        snprintf(line, sizeof(line), "nat: the guest: %s%s", msg,
                 nat->guest_errors + 1 == NAT_GUEST_ERRORS ? " (further ones not shown)" : "");
        pdm_net_log(nat->net, line);
    }
    nat->guest_errors++;
}

static int64_t cb_clock_get_ns(void *opaque)
{
    (void)opaque;
    return now_ns();
}

static struct nat_timer *timer_add(struct pdm_nat *nat, SlirpTimerId id, SlirpTimerCb cb,
                                   void *cb_opaque)
{
    struct nat_timer *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL; /* slirp then has no such timer: only router advertisements use one */
    t->id = id;
    t->cb = cb;
    t->cb_opaque = cb_opaque;
    t->expire_ms = -1;
    t->next = nat->timers;
    nat->timers = t;
    return t;
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    return timer_add(opaque, SLIRP_TIMER_NUM, cb, cb_opaque);
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
    return timer_add(opaque, id, NULL, cb_opaque);
}

static void cb_timer_free(void *timer, void *opaque)
{
    struct pdm_nat *nat = opaque;
    for (struct nat_timer **pp = &nat->timers; *pp; pp = &(*pp)->next)
        if (*pp == timer) {
            *pp = ((struct nat_timer *)timer)->next;
            free(timer);
            return;
        }
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    (void)opaque;
    if (timer)
        ((struct nat_timer *)timer)->expire_ms = expire_ms;
}

static void cb_register_poll_fd(int fd, void *opaque)
{
    (void)fd, (void)opaque; /* every poll asks slirp for its sockets anew */
}

static void cb_notify(void *opaque)
{
    (void)opaque; /* the I/O thread polls slirp again after every input */
}

static const SlirpCb nat_cb = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_get_ns,
    .timer_new = cb_timer_new,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_poll_fd,
    .unregister_poll_fd = cb_register_poll_fd,
    .notify = cb_notify,
    .timer_new_opaque = cb_timer_new_opaque,
};

/* ---- polling ------------------------------------------------------------- */

static int add_poll(int fd, int events, void *opaque)
{
    struct pdm_nat *nat = opaque;
    if (*nat->n == *nat->cap) {
        size_t cap = *nat->cap ? *nat->cap * 2 : 16;
        struct pollfd *p = realloc(*nat->pfds, cap * sizeof(*p));
        if (!p) {
            nat->oom = true;
            return -1;
        }
        *nat->pfds = p;
        *nat->cap = cap;
    }
    short ev = 0;
    ev |= (events & SLIRP_POLL_IN) ? POLLIN : 0;
    ev |= (events & SLIRP_POLL_OUT) ? POLLOUT : 0;
    ev |= (events & SLIRP_POLL_PRI) ? POLLPRI : 0;
    (*nat->pfds)[*nat->n] = (struct pollfd){.fd = fd, .events = ev};
    return (int)(*nat->n)++;
}

static int get_revents(int idx, void *opaque)
{
    struct pdm_nat *nat = opaque;
    if (idx < 0)
        return 0;
    short r = nat->revents[idx].revents;
    return ((r & POLLIN) ? SLIRP_POLL_IN : 0) | ((r & POLLOUT) ? SLIRP_POLL_OUT : 0) |
           ((r & POLLPRI) ? SLIRP_POLL_PRI : 0) | ((r & POLLERR) ? SLIRP_POLL_ERR : 0) |
           ((r & POLLHUP) ? SLIRP_POLL_HUP : 0);
}

cap_result pdm_nat_fill(struct pdm_nat *nat, struct pollfd **pfds, size_t *n, size_t *cap,
                        int *timeout_ms)
{
    nat->pfds = pfds;
    nat->n = n;
    nat->cap = cap;
    nat->oom = false;
    uint32_t t = *timeout_ms < 0 ? UINT32_MAX : (uint32_t)*timeout_ms;
    slirp_pollfds_fill(nat->slirp, &t, add_poll, nat);
    int64_t now = now_ns() / 1000000;
    for (struct nat_timer *tm = nat->timers; tm; tm = tm->next)
        if (tm->expire_ms >= 0) {
            int64_t d = tm->expire_ms - now;
            t = d <= 0 ? 0 : (uint64_t)d < t ? (uint32_t)d : t;
        }
    *timeout_ms = t > 60000 ? 60000 : (int)t;
    if (nat->oom)
        return cap_error_set(CAP_E_OUTOFMEMORY, PDM_COMPONENT, NULL, "nat: out of memory");
    return CAP_OK;
}

void pdm_nat_poll(struct pdm_nat *nat, const struct pollfd *pfds, bool poll_failed)
{
    nat->revents = pfds;
    slirp_pollfds_poll(nat->slirp, poll_failed, get_revents, nat);
    nat->revents = NULL;
    int64_t now = now_ns() / 1000000;
    for (struct nat_timer *tm = nat->timers; tm; tm = tm->next)
        if (tm->expire_ms >= 0 && tm->expire_ms <= now) {
            tm->expire_ms = -1;
            if (tm->cb)
                tm->cb(tm->cb_opaque);
            else
                slirp_handle_timer(nat->slirp, tm->id, tm->cb_opaque);
            break; /* the callback may have freed or added timers: next round */
        }
}

void pdm_nat_input(struct pdm_nat *nat, const void *frame, size_t len)
{
    slirp_input(nat->slirp, frame, (int)len);
}

/* ---- create / destroy ------------------------------------------------------ */

static struct in_addr ip(uint32_t host_order)
{
    return (struct in_addr){.s_addr = htonl(host_order)};
}

cap_result pdm_nat_create(struct pdm_net *net, const struct pdm_nic_config *nc,
                          struct pdm_nat **out)
{
    *out = NULL;
    struct pdm_nat *nat = calloc(1, sizeof(*nat));
    if (!nat)
        return cap_error_set(CAP_E_OUTOFMEMORY, PDM_COMPONENT, NULL, "out of memory");
    nat->net = net;
    SlirpConfig cfg = {
        .version = 4,
        .restricted = 0,
        .in_enabled = true,
        .vnetwork = ip(NAT_NET),
        .vnetmask = ip(NAT_MASK),
        .vhost = ip(NAT_HOST),
        .in6_enabled = false,
        .vhostname = "capsule",
        .vdhcp_start = ip(NAT_DHCP),
        .vnameserver = ip(NAT_DNS),
        .disable_host_loopback = false,
    };
    nat->slirp = slirp_new(&cfg, &nat_cb, nat);
    if (!nat->slirp) {
        free(nat);
        return cap_error_set(CAP_E_FAIL, PDM_COMPONENT, NULL, "%s%u: libslirp failed to start",
                             nc->device, nc->instance);
    }
    for (size_t i = 0; i < nc->n_hostfwd; i++) {
        const struct pdm_net_hostfwd *f = &nc->hostfwd[i];
        if (slirp_add_hostfwd(nat->slirp, f->udp, ip(f->host_addr), f->host_port,
                              ip(f->guest_addr ? f->guest_addr : NAT_GUEST), f->guest_port) < 0) {
            char a[INET_ADDRSTRLEN];
            struct in_addr h = ip(f->host_addr);
            inet_ntop(AF_INET, &h, a, sizeof(a));
            pdm_nat_destroy(nat);
            return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                                 "%s%u: cannot forward %s %s:%u to the guest's port %u: the host "
                                 "port is taken or the address is not this host's",
                                 nc->device, nc->instance, f->udp ? "udp" : "tcp", a,
                                 (unsigned)f->host_port, (unsigned)f->guest_port);
        }
    }
    *out = nat;
    return CAP_OK;
}

cap_result pdm_nat_hostfwd(struct pdm_nat *nat, const struct pdm_net_hostfwd *f, bool add)
{
    char a[INET_ADDRSTRLEN];
    struct in_addr h = ip(f->host_addr);
    inet_ntop(AF_INET, &h, a, sizeof(a));
    if (add && slirp_add_hostfwd(nat->slirp, f->udp, h, f->host_port,
                                 ip(f->guest_addr ? f->guest_addr : NAT_GUEST), f->guest_port) < 0)
        return cap_error_set(CAP_E_FAIL, PDM_COMPONENT, NULL,
                             "cannot forward %s %s:%u to the guest's port %u: the host port is "
                             "taken or the address is not this host's",
                             f->udp ? "udp" : "tcp", a, (unsigned)f->host_port,
                             (unsigned)f->guest_port);
    if (!add && slirp_remove_hostfwd(nat->slirp, f->udp, h, f->host_port) < 0)
        return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL, "no %s port %s:%u is forwarded",
                             f->udp ? "udp" : "tcp", a, (unsigned)f->host_port);
    return CAP_OK;
}

void pdm_nat_destroy(struct pdm_nat *nat)
{
    if (!nat)
        return;
    slirp_cleanup(nat->slirp); /* frees its timers through timer_free */
    while (nat->timers) {
        struct nat_timer *t = nat->timers;
        nat->timers = t->next;
        free(t);
    }
    free(nat);
}
