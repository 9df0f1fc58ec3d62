/*
 * test_server.c - ipc_test_server, the IPC tests' out-of-process peer.
 *
 *   ipc_test_server --home HOME [--idle-ms N]   a service like capsule-svc:
 *       takes HOME/run/svc.lock (exits 0 if another holds it), serves an
 *       IIpcTest root on HOME/run/svc.sock, exits after N ms without clients
 *       (default: never) or on SIGTERM. Used by autostart (svc_path) and by
 *       the "service killed" tests.
 *   ipc_test_server --client SOCK   connects, takes objects (an IAllTypes,
 *       and hands the server a callback), prints "ready" and waits to be
 *       killed: the "client killed" test.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <capsule/ipc.h>
#include <capsule/typelib.h>

#include "ipctest_impl.h"

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static int run_client(const char *sock)
{
    struct cap_ipc_conn *c = NULL;
    IIpcTest *root = NULL;
    IAllTypes *at = NULL;
    if (CAP_FAILED(cap_ipc_connect(sock, &c)) ||
        CAP_FAILED(cap_ipc_conn_get_root(c, &IID_IIpcTest, (void **)&root)) ||
        CAP_FAILED(IIpcTest_GetAllTypes(root, &at)))
        return 1;
    ICallback *cb = callback_new(NULL);
    if (CAP_FAILED(IIpcTest_Hold(root, (ISupports *)cb)))
        return 1;
    printf("ready\n");
    fflush(stdout);
    for (;;)
        pause();
}

static int run_server(const char *home, long idle_ms)
{
    struct cap_ipc_home h;
    if (CAP_FAILED(cap_ipc_home_prepare(home, &h)))
        return 1;
    int lock = open(h.svc_lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) != 0)
        return 0; /* another one runs */
    signal(SIGTERM, on_term);
    IIpcTest *root = ipctest_new();
    struct cap_ipc_server_options o = {.socket_path = h.socket, .root = (ISupports *)root};
    struct cap_ipc_server *s = NULL;
    if (CAP_FAILED(cap_ipc_server_create(&o, &s)) || CAP_FAILED(cap_ipc_server_start(s))) {
        fprintf(stderr, "ipc_test_server: cannot serve on %s\n", h.socket);
        return 1;
    }
    long idle = 0;
    while (!stop) {
        usleep(20000);
        idle = cap_ipc_server_connection_count(s) ? 0 : idle + 20;
        if (idle_ms > 0 && idle >= idle_ms)
            break;
    }
    cap_ipc_server_destroy(s);
    IIpcTest_Release(root);
    cap_ipc_home_clear(&h);
    close(lock);
    return 0;
}

int main(int argc, char **argv)
{
    const char *home = NULL, *client = NULL;
    long idle_ms = 3000; /* a started service goes away by itself */
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--home"))
            home = argv[i + 1];
        else if (!strcmp(argv[i], "--client"))
            client = argv[i + 1];
        else if (!strcmp(argv[i], "--idle-ms"))
            idle_ms = atol(argv[i + 1]);
    }
    if (CAP_FAILED(cap_typelib_register(&captest_typelib)))
        return 1;
    if (client)
        return run_client(client);
    return run_server(home, idle_ms);
}
