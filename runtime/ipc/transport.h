/*
 * transport.h - the byte pipe under runtime/ipc (internal).
 *
 * Everything above this file sees a connected endpoint that sends and
 * receives bytes and a listener that accepts endpoints with the peer's
 * credentials. The backend is chosen by file name in the SConscript:
 * transport_unix.c (Unix-domain stream sockets) today, transport_win.c
 * (named pipes) when Windows follows. No function here logs; failures come
 * back as values with error info.
 */
#ifndef CAP_IPC_TRANSPORT_H
#define CAP_IPC_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include <capsule/types.h>

struct ipc_transport;
struct ipc_listener;

struct ipc_cred {
    int32_t pid;
    uint32_t uid;
};

/* Binds and listens on `path` (a stale socket file is replaced), mode 0600.
 * CAP_E_IO with error info. */
cap_result ipc_listen(const char *path, struct ipc_listener **out);

/* accept() ran out of file descriptors (EMFILE, ENFILE). */
#define IPC_E_NO_FDS ((cap_result)0x80020081)

/* Waits up to timeout_ms (-1: for ever) for the next connection. CAP_OK
 * with *out and the peer's credentials; CAP_FALSE_RESULT when the time
 * passed or nothing was there after all (try again); CAP_E_ABORT once
 * ipc_listener_wake() was called. Failures, with error info naming the
 * errno: IPC_E_NO_FDS, CAP_E_OUTOFMEMORY (ENOMEM, ENOBUFS), CAP_E_IO
 * otherwise. Out of fds, the listener gives up a descriptor it keeps in
 * reserve to take the connection anyway: IPC_E_NO_FDS then comes with *out
 * set, for the caller to tell the client and close at once (the reserve is
 * taken back on the next call); without *out the connection stays queued
 * until a descriptor is free. */
cap_result ipc_accept(struct ipc_listener *l, int timeout_ms, struct ipc_transport **out,
                      struct ipc_cred *cred);

/* Sleeps up to ms, returning early (CAP_E_ABORT) once ipc_listener_wake()
 * was called; CAP_OK when the time passed. */
cap_result ipc_listener_pause(struct ipc_listener *l, int ms);

/* Makes a blocked or later ipc_accept() return CAP_E_ABORT. Any thread. */
void ipc_listener_wake(struct ipc_listener *l);

/* Closes the listener and removes its socket file. NULL is fine. */
void ipc_listener_close(struct ipc_listener *l);

/* Connects to `path`. CAP_E_SERVICE_UNAVAILABLE-like failures come back as
 * CAP_E_IO with *refused set when nothing listens there. */
cap_result ipc_connect_path(const char *path, struct ipc_transport **out, int *refused);

/* The peer's credentials of a connected endpoint. */
cap_result ipc_transport_cred(struct ipc_transport *t, struct ipc_cred *out);

/* Sends all `n` bytes (one writer at a time: the caller serialises).
 * CAP_E_IPC_DISCONNECTED when the peer has closed its end, CAP_E_IO on
 * other failures. */
cap_result ipc_send_all(struct ipc_transport *t, const void *buf, size_t n);

/* Sends what fits of buf[0..n) without blocking (a best-effort goodbye on
 * a connection about to be closed). */
void ipc_send_nowait(struct ipc_transport *t, const void *buf, size_t n);

/* Receives up to `n` bytes into buf; *got 0 means the peer closed.
 * CAP_E_IO on error or after ipc_transport_shutdown(). */
cap_result ipc_recv_some(struct ipc_transport *t, void *buf, size_t n, size_t *got);

/* Like ipc_recv_some() but never blocks: CAP_FALSE_RESULT (*got 0) when
 * no byte is there yet. */
cap_result ipc_recv_nowait(struct ipc_transport *t, void *buf, size_t n, size_t *got);

/* Wakes a reader blocked in ipc_recv_some() (it sees end of stream) and
 * makes later sends fail. Any thread; the endpoint stays allocated. */
void ipc_transport_shutdown(struct ipc_transport *t);

/*
 * Readiness for the leader/follower read role (conn.c). An endpoint has a
 * wait set in which idle threads park: the endpoint itself (one-shot, only
 * while armed) and a kick counter. ipc_transport_wait_init() creates it
 * (disarmed); IPC_E_NO_FDS, CAP_E_OUTOFMEMORY or CAP_E_IO on failure.
 */
cap_result ipc_transport_wait_init(struct ipc_transport *t);

/* Arms (on) or disarms the endpoint in the wait set. Armed, the next bytes
 * (or end of stream) wake exactly one parked thread and disarm it again;
 * disarmed, incoming bytes wake nobody (whoever holds the read role reads
 * them). The caller serialises arm/disarm (conn.c does it under its lock). */
void ipc_transport_arm(struct ipc_transport *t, int on);

/* What woke ipc_transport_wait(). */
#define IPC_WAKE_DATA 0x1 /* the armed endpoint is readable (or closed) */
#define IPC_WAKE_KICK 0x2 /* one kick was consumed */

/* Parks until the armed endpoint is readable or a kick is pending; returns
 * IPC_WAKE_* bits (0: interrupted, look again). */
int ipc_transport_wait(struct ipc_transport *t);

/* Adds n kicks: each wakes (and is consumed by) one parked thread. */
void ipc_transport_kick(struct ipc_transport *t, uint32_t n);

/* Frees the endpoint. No other thread may be using it. NULL is fine. */
void ipc_transport_close(struct ipc_transport *t);

#endif /* CAP_IPC_TRANSPORT_H */
