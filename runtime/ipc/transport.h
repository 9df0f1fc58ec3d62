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

/* Waits for the next connection. CAP_OK with *out and the peer's
 * credentials; CAP_E_ABORT once ipc_listener_wake() was called; CAP_E_IO on
 * a transient failure (the caller may retry). */
cap_result ipc_accept(struct ipc_listener *l, struct ipc_transport **out, struct ipc_cred *cred);

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
 * CAP_E_IO when the peer is gone. */
cap_result ipc_send_all(struct ipc_transport *t, const void *buf, size_t n);

/* Receives up to `n` bytes into buf; *got 0 means the peer closed.
 * CAP_E_IO on error or after ipc_transport_shutdown(). */
cap_result ipc_recv_some(struct ipc_transport *t, void *buf, size_t n, size_t *got);

/* Wakes a reader blocked in ipc_recv_some() (it sees end of stream) and
 * makes later sends fail. Any thread; the endpoint stays allocated. */
void ipc_transport_shutdown(struct ipc_transport *t);

/* Frees the endpoint. No other thread may be using it. NULL is fine. */
void ipc_transport_close(struct ipc_transport *t);

#endif /* CAP_IPC_TRANSPORT_H */
