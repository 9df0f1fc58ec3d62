/*
 * service/main.c - capsule-svc, the per-user service process.
 *
 *   capsule-svc --home DIR [--idle-timeout MS] [--foreground]
 *
 * Start-up follows capsule/client.h: prepare HOME (HOME/run 0700,
 * HOME/logs), take HOME/run/svc.lock (flock, non-blocking; if another
 * service holds it, exit 0 at once: the racing client will find that one),
 * point stdout/stderr at HOME/logs/svc.log (unless --foreground), load the
 * registry of components and the settings (a global settings file that
 * cannot be read stops the service with exit 1 rather than risk
 * overwriting it), then serve the root ICapsule on HOME/run/svc.sock.
 *
 * The main thread then only waits: for SIGTERM/SIGINT/SIGHUP (clean exit),
 * or for the idle timeout to pass with no client connected and no VM
 * running (ISystemProperties' serviceIdleTimeout, CAPSULE_SVC_IDLE_TIMEOUT,
 * or --idle-timeout; 0 never exits). A client's disconnection releases the
 * machine locks its sessions held (svc_client_disconnected). The server's
 * connection and handle counts are shown to clients as ICapsule's
 * clientCount and objectHandleCount (svc_set_ipc_stats).
 *
 * The IPC server's resource caps (capsule/ipc.h, "Resource caps") come from
 * the environment: CAPSULE_SVC_MAX_CONNECTIONS, _MAX_CONNECTIONS_PER_UID,
 * _MAX_BUFFERED (bytes, K/M/G suffixes) and _FRAME_TIMEOUT (ms); "0" or
 * "unlimited" lifts a cap; a value that cannot be read keeps the default
 * and is logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <capsule/errorinfo.h>
#include <capsule/ipc.h>
#include <capsule/mem.h>
#include <capsule/registry.h>

#include "settings.h"
#include "svc.h"
#include "util.h"

struct main_ctx {
    struct svc *svc;
    volatile int activity; /* bumped on connect/disconnect */
};

static void usage(FILE *f)
{
    fprintf(f, "usage: capsule-svc --home DIR [--idle-timeout MS] [--foreground]\n"
               "\n"
               "The Capsule service: keeps the machines of one CAPSULE_HOME and serves the\n"
               "API on HOME/run/svc.sock. Clients start it on demand; there is rarely a\n"
               "reason to start it by hand.\n"
               "\n"
               "  --home DIR         the CAPSULE_HOME (default: $CAPSULE_HOME, else ~/.capsule)\n"
               "  --idle-timeout MS  exit after MS ms without clients and running VMs\n"
               "                     (0: never; default: serviceIdleTimeout or\n"
               "                     $CAPSULE_SVC_IDLE_TIMEOUT)\n"
               "  --foreground       log to stderr instead of HOME/logs/svc.log\n"
               "  --help             this text\n"
               "\n"
               "Environment: CAPSULE_SVC_LAUNCH_TIMEOUT=MS bounds how long a VM process may\n"
               "take to report its power-up before it is killed (default 120000; 0: no\n"
               "limit). CAPSULE_SVC_LOG_MAX=BYTES: past it svc.log is rotated while the\n"
               "service runs (default 8 MiB; the old ones kept as at start,\n"
               "logHistoryCount; 0: never). CAPSULE_SVC_LISTENER_TIMEOUT=MS: an active\n"
               "event listener whose handleEvent has not returned after MS is dropped\n"
               "(default 5000). CAPSULE_SVC_LISTENER_QUEUE=N: a listener with N events\n"
               "waiting is dropped (default 10000). Drops are logged. Caps on clients\n"
               "(0 or 'unlimited': none):\n"
               "  CAPSULE_SVC_MAX_CONNECTIONS=N          connections in all (default 512)\n"
               "  CAPSULE_SVC_MAX_CONNECTIONS_PER_UID=N  connections of one uid (default 256)\n"
               "  CAPSULE_SVC_MAX_BUFFERED=BYTES[K|M|G]  partial frames buffered, all\n"
               "                                         connections together (default 33M)\n"
               "  CAPSULE_SVC_FRAME_TIMEOUT=MS           a begun frame must complete within\n"
               "                                         this (default 30000)\n");
}

static uint64_t conn_hook(void)
{
    struct cap_ipc_peer peer;
    return cap_ipc_current_peer(&peer) == CAP_OK ? peer.conn_id : 0;
}

static int peer_hook(uint64_t *conn_id, int32_t *pid)
{
    struct cap_ipc_peer peer;
    if (cap_ipc_current_peer(&peer) != CAP_OK)
        return 0;
    *conn_id = peer.conn_id;
    *pid = peer.pid;
    return 1;
}

static void on_connected(void *ctx, const struct cap_ipc_peer *peer)
{
    struct main_ctx *m = ctx;
    m->activity++;
    svc_log("client connected (pid %d, connection %llu)", (int)peer->pid,
            (unsigned long long)peer->conn_id);
}

static void on_disconnected(void *ctx, const struct cap_ipc_peer *peer)
{
    struct main_ctx *m = ctx;
    svc_log("client disconnected (pid %d, connection %llu)", (int)peer->pid,
            (unsigned long long)peer->conn_id);
    svc_client_disconnected(m->svc, peer->conn_id);
    m->activity++;
}

static void on_log(void *ctx, const char *message)
{
    svc_log("ipc: %s", message);
}

static const struct cap_ipc_server_callbacks callbacks = {
    .connected = on_connected,
    .disconnected = on_disconnected,
    .log = on_log,
};

/* A cap from the environment: 0 (the default) when unset or unreadable
 * (logged), CAP_IPC_UNLIMITED for "0" or "unlimited". */
static uint32_t env_cap(const char *name, int sizes)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return 0;
    if (!strcmp(v, "unlimited"))
        return CAP_IPC_UNLIMITED;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    unsigned long long mul = 1;
    if (sizes && *end && !end[1])
        mul = *end == 'K' || *end == 'k'   ? 1ull << 10
              : *end == 'M' || *end == 'm' ? 1ull << 20
              : *end == 'G' || *end == 'g' ? 1ull << 30
                                           : 0;
    if (errno || v[0] == '-' || end == v || (*end && (mul == 1 || end[1])) || mul == 0 ||
        n > UINT32_MAX / mul) {
        svc_log("%s='%s' is not a %s up to %u; using the default", name, v,
                sizes ? "byte count (K, M, G suffixes)" : "number", UINT32_MAX - 1);
        return 0;
    }
    n *= mul;
    return n == 0 || n >= UINT32_MAX ? CAP_IPC_UNLIMITED : (uint32_t)n;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for a signal or for the idle timeout; returns the reason. */
static const char *serve(struct cap_ipc_server *srv, struct main_ctx *m, const sigset_t *sigs,
                         long idle_override)
{
    int64_t idle_since = mono_ms();
    int seen = m->activity;
    for (;;) {
        struct timespec tick = {0, 100 * 1000000L};
        int sig = sigtimedwait(sigs, NULL, &tick);
        if (sig > 0)
            return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "SIGHUP";
        uint32_t timeout = idle_override >= 0 ? (uint32_t)idle_override
                                              : svc_idle_timeout(m->svc);
        if (seen != m->activity || cap_ipc_server_connection_count(srv) || svc_busy(m->svc)) {
            seen = m->activity;
            idle_since = mono_ms();
            continue;
        }
        if (timeout && mono_ms() - idle_since >= timeout)
            return "idle timeout";
    }
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"home", required_argument, NULL, 'h'},
        {"idle-timeout", required_argument, NULL, 't'},
        {"foreground", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, '?'},
        {NULL, 0, NULL, 0},
    };
    const char *home = NULL;
    long idle = -1;
    int foreground = 0, c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'h': home = optarg; break;
        case 'f': foreground = 1; break;
        case 't':
            errno = 0;
            idle = strtol(optarg, &end, 10);
            if (*end || errno || idle < 0 || idle > (long)UINT32_MAX) {
                fprintf(stderr, "capsule-svc: --idle-timeout needs milliseconds, not '%s'\n",
                        optarg);
                return 2;
            }
            break;
        default:
            if (optind > 0 && argv[optind - 1] && !strcmp(argv[optind - 1], "--help")) {
                usage(stdout);
                return 0;
            }
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 2;
    }

    struct cap_ipc_home h = {0};
    struct main_ctx m = {0};
    struct cap_ipc_server *srv = NULL;
    int lock_fd = -1, status = 1;
    cap_result rc = cap_ipc_home_prepare(home, &h);
    if (CAP_FAILED(rc)) {
        fprintf(stderr, "capsule-svc: %s\n", cap_error_peek_message());
        goto out;
    }
    lock_fd = open(h.svc_lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0) {
        fprintf(stderr, "capsule-svc: cannot open %s: %s\n", h.svc_lock, strerror(errno));
        goto out;
    }
    if (flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
        status = errno == EWOULDBLOCK ? 0 : 1; /* another service runs: fine */
        if (status)
            fprintf(stderr, "capsule-svc: cannot lock %s: %s\n", h.svc_lock, strerror(errno));
        goto out;
    }
    if (!foreground) {
        /* Each start begins a new log; the previous ones are kept as svc.log.1
         * .. .N (logHistoryCount, read here from the settings ahead of
         * svc_create; a file that cannot be read keeps the default and
         * svc_create reports it). */
        unsigned keep = 3;
        char *gpath = cap_str_printf("%s/capsule.xml", h.home);
        struct global_file gf;
        if (gpath) {
            if (CAP_SUCCEEDED(settings_read_global(gpath, &gf)))
                keep = gf.log_history_count;
            global_file_clear(&gf); /* read_global zeroes it first, whatever happens */
        }
        cap_error_clear();
        cap_str_free(gpath);
        svc_rotate_log(h.log_file, keep);
        int fd = open(h.log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
            uint32_t max = 0;
            svc_log_set_file(h.log_file, keep,
                             svc_env_u32("CAPSULE_SVC_LOG_MAX", &max) ? max : SVC_LOG_MAX_DEFAULT);
        }
    }
    svc_log("starting (pid %d, home %s)", (int)getpid(), h.home);

    /* Signals are taken by the main thread only (sigtimedwait); block them
     * before any other thread starts. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    rc = cap_registry_init_default(NULL);
    if (CAP_FAILED(rc) && rc != CAP_E_BAD_MANIFEST) {
        svc_log("cannot set up the component registry: %s", cap_error_peek_message());
        goto out;
    }
    if (rc == CAP_E_BAD_MANIFEST)
        svc_log("some component manifests were skipped: %s", cap_error_peek_message());
    /* IPC marshals from the typelib: every API interface must be known
     * before the first client asks for the root. */
    rc = cap_typelib_register(&capsule_typelib);
    if (CAP_FAILED(rc) && rc != CAP_E_ALREADY_REGISTERED) {
        svc_log("cannot register the API typelib: %s", cap_error_peek_message());
        goto out;
    }
    rc = svc_create(h.home, cap_registry_default(), &m.svc);
    if (CAP_FAILED(rc)) {
        svc_log("cannot load the settings: %s", cap_error_peek_message());
        goto out;
    }
    svc_set_conn_hook(m.svc, conn_hook);
    svc_set_caller_gone_hook(m.svc, cap_ipc_current_peer_gone);
    svc_set_peer_hook(m.svc, peer_hook);
    struct cap_ipc_server_options so = {
        .socket_path = h.socket,
        .root = (ISupports *)svc_icapsule(m.svc),
        .callbacks = &callbacks,
        .callback_ctx = &m,
        .max_connections = env_cap("CAPSULE_SVC_MAX_CONNECTIONS", 0),
        .max_connections_per_uid = env_cap("CAPSULE_SVC_MAX_CONNECTIONS_PER_UID", 0),
        .max_buffered = env_cap("CAPSULE_SVC_MAX_BUFFERED", 1),
        .frame_timeout_ms = env_cap("CAPSULE_SVC_FRAME_TIMEOUT", 0),
    };
    rc = cap_ipc_server_create(&so, &srv);
    if (CAP_SUCCEEDED(rc)) {
        /* ICapsule's clientCount and objectHandleCount read these. */
        const struct svc_ipc_stats stats = {
            .connection_count = cap_ipc_server_connection_count,
            .handle_count = cap_ipc_server_handle_count,
            .srv = srv,
        };
        svc_set_ipc_stats(m.svc, &stats);
        rc = cap_ipc_server_start(srv);
    }
    if (CAP_FAILED(rc)) {
        svc_log("cannot serve on %s: %s", h.socket, cap_error_peek_message());
        goto out;
    }
    svc_log("serving on %s", h.socket);
    const char *why = serve(srv, &m, &sigs, idle);
    svc_log("exiting: %s", why);
    status = 0;
out:
    if (srv)
        cap_ipc_server_stop(srv);
    if (m.svc) {
        svc_set_ipc_stats(m.svc, NULL); /* before the server is destroyed */
        svc_uninit(m.svc);
    }
    cap_ipc_server_destroy(srv);
    svc_release(m.svc);
    cap_registry_shutdown_default();
    if (lock_fd >= 0)
        close(lock_fd); /* drops the flock */
    cap_ipc_home_clear(&h);
    return status;
}
