/*
 * capsule/client.h - connecting a client program to capsule-svc.
 *
 * Every client (the capsule CLI, capsule-vm, the Python and Java bindings,
 * any C program) reaches the API the same way: connect to the service of a
 * CAPSULE_HOME, starting it if none answers (like VBoxSVC), and get the root
 * object, an ICapsule proxy. Every object reached from it is a proxy too;
 * calls on them go to the service over IPC (runtime/ipc). Session objects
 * live in the client's own process: create them through the registry
 * (CAP_CONTRACT_Session), as any in-process class.
 *
 * CAPSULE_HOME: the `home` argument, else the CAPSULE_HOME environment
 * variable, else $HOME/.capsule. Layout and start-up protocol:
 *
 *   HOME/                 created 0700 if missing
 *   HOME/run/             0700; refused if owned by another uid or group/other
 *                         accessible
 *   HOME/run/svc.sock     the service's Unix socket
 *   HOME/run/svc.lock     flock'ed (exclusive) by the running service for its
 *                         whole life
 *   HOME/run/spawn.lock   flock'ed by a client while it starts a service
 *   HOME/logs/svc.log     the service's log (stdout/stderr of a started service)
 *
 * A client connects to svc.sock; if nothing answers it takes spawn.lock,
 * tries again (another client may just have started one), and otherwise
 * starts `capsule-svc --home HOME` detached (setsid) and retries until the
 * socket answers or the timeout passes, then drops spawn.lock. A service
 * that cannot take svc.lock (another one runs) exits 0 at once; otherwise it
 * removes a stale svc.sock, listens, and removes it again when it exits.
 *
 * Threads: a struct cap_client may be used from any number of threads at
 * once; proxies likewise. Close it after releasing every object obtained
 * through it.
 */
#ifndef CAPSULE_CLIENT_H
#define CAPSULE_CLIENT_H

#include <capsule/capsule.h>

#ifdef __cplusplus
extern "C" {
#endif

struct cap_client;

/* Connection options; zero-initialise and set what you need. */
struct cap_client_options {
    const char *home;      /* NULL: $CAPSULE_HOME, else $HOME/.capsule */
    const char *svc_path;  /* capsule-svc to start; NULL: beside the program, then PATH */
    int no_autostart;      /* nonzero: fail instead of starting the service */
    uint32_t timeout_ms;   /* how long to wait for a starting service; 0: 10000 */
};

/*
 * Connects to the service of the home folder, starting it if nothing answers
 * on its socket (exactly one service starts even when many clients race).
 * Errors (with error info): CAP_E_SERVICE_UNAVAILABLE (cannot start or reach
 * it; the message says why), CAP_E_ACCESSDENIED, CAP_E_IO.
 */
cap_result cap_client_connect(const struct cap_client_options *opts, struct cap_client **out);

/* The service's root object (a new reference). */
cap_result cap_client_get_root(struct cap_client *c, ICapsule **out);

/* Nonzero while the connection to the service is up (0 once the service
 * has gone away: calls through its proxies then fail). Cheap; safe from
 * any thread. */
int cap_client_alive(struct cap_client *c);

/* Closes the connection; proxies still held fail with
 * CAP_E_SERVICE_UNAVAILABLE afterwards. NULL is fine. */
void cap_client_close(struct cap_client *c);

#ifdef __cplusplus
}
#endif

#endif /* CAPSULE_CLIENT_H */
