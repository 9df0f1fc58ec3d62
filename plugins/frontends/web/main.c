/*
 * plugins/frontends/web/main.c - capsule-web, the web manager's server.
 *
 *   capsule-web [--port N] [--address A] [--home DIR] [--static DIR]
 *
 * Connects to capsule-svc like any client (starting it if none answers),
 * makes a new login token, stores it 0600 in CAPSULE_HOME/web-token (the
 * home the service reports), prints the URL and the token, and serves until
 * SIGINT or SIGTERM. Loopback (127.0.0.1) unless --address says otherwise;
 * port 0 takes a free port (the printed URL names it). Idle sessions are
 * ended every few seconds, releasing their objects in the service.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include <capsule/mem.h>
#include <capsule/typelib.h>

#include "capbind.h"
#include "web.h"

#define WEB_DEFAULT_PORT    18085
#define WEB_MAX_SESSIONS    128
#define WEB_MAX_OBJECTS     4096
#define WEB_IDLE_S          1800
#define WEB_EXPIRE_PERIOD_S 5

/* capsule-idlc's capsule_doc.json, compiled in (web_doc.c, made by the build). */
extern const char web_doc_json[];
extern const size_t web_doc_json_len;

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: capsule-web [--port N] [--address A] [--home DIR] [--static DIR]\n"
            "\n"
            "Serves the Capsule API as JSON over HTTP (and the web manager's pages) for\n"
            "the capsule-svc of CAPSULE_HOME. Prints the URL and a new login token, also\n"
            "stored in CAPSULE_HOME/web-token (mode 0600).\n"
            "\n"
            "  --port N      TCP port (default %u; 0: any free port)\n"
            "  --address A   address to listen on (default 127.0.0.1, loopback only)\n"
            "  --home DIR    CAPSULE_HOME (default: $CAPSULE_HOME, else ~/.capsule)\n"
            "  --static DIR  the pages' folder (default: share/capsule/web of the build)\n"
            "  --idle S      end sessions idle for S seconds (default %u)\n",
            WEB_DEFAULT_PORT, WEB_IDLE_S);
}

static void release_obj(void *o)
{
    capb_obj_free(o);
}

/* ICapsule.homeFolder, through a frame like any call (cap_str_free). */
static char *home_folder(struct capb_obj *root)
{
    const struct cap_tl_iface *tl = cap_typelib_find_iface_by_name("ICapsule");
    char *home = NULL;
    for (uint32_t s = 0; tl && s < cap_tl_iface_slots(tl) && !home; s++) {
        const struct cap_tl_method *m = cap_tl_method_at(tl, s);
        if (!m || m->kind != CAP_TLM_GETTER || strcmp(m->idl_name, "homeFolder") != 0)
            continue;
        struct capb_call *call = capb_call_new(root, s);
        if (call && capb_invoke(call) >= 0)
            home = cap_str_dup(capb_get_str(call, 0));
        else if (call)
            fprintf(stderr, "capsule-web: %s\n", capb_call_error_message(call));
        capb_call_free(call);
    }
    return home;
}

/* Writes the token to HOME/web-token, 0600, replacing the file whole. */
static int store_token(const char *home, const char *token)
{
    char *path = cap_str_printf("%s/web-token", home);
    char *tmp = cap_str_printf("%s/web-token.tmp", home);
    int ok = 0;
    if (path && tmp) {
        unlink(tmp);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        size_t len = strlen(token);
        ok = fd >= 0 && write(fd, token, len) == (ssize_t)len && write(fd, "\n", 1) == 1 &&
             fsync(fd) == 0;
        if (fd >= 0 && close(fd) != 0)
            ok = 0;
        ok = ok && rename(tmp, path) == 0;
        if (!ok) {
            fprintf(stderr, "capsule-web: cannot write %s: %s\n", path, strerror(errno));
            unlink(tmp);
        }
    }
    cap_str_free(path);
    cap_str_free(tmp);
    return ok ? 0 : -1;
}

/* <dir of this program>/../share/capsule/web (the build's and an install's
 * layout), or NULL. */
static char *default_static_dir(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return NULL;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = 0;
    return cap_str_printf("%s/../share/capsule/web", exe);
}

struct opts {
    const char *address, *home, *static_dir;
    long port, idle;
};

static int parse(int argc, char **argv, struct opts *o)
{
    static const struct option longs[] = {
        {"port", required_argument, NULL, 'p'},
        {"address", required_argument, NULL, 'a'},
        {"home", required_argument, NULL, 'H'},
        {"static", required_argument, NULL, 's'},
        {"idle", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case 'p':
        case 'i':
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || *end || !*optarg || v < 0 || (c == 'p' && v > 65535) ||
                (c == 'i' && (v < 1 || v > 86400 * 30))) {
                fprintf(stderr, "capsule-web: bad --%s '%s'\n", c == 'p' ? "port" : "idle", optarg);
                return 2;
            }
            *(c == 'p' ? &o->port : &o->idle) = v;
            break;
        case 'a':
            o->address = optarg;
            break;
        case 'H':
            o->home = optarg;
            break;
        case 's':
            o->static_dir = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "capsule-web: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    return -1;
}

/* Serves until SIGINT/SIGTERM, ending idle sessions meanwhile. */
static void run(struct web_server *srv)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    struct timespec period = {.tv_sec = WEB_EXPIRE_PERIOD_S};
    for (;;) {
        int sig = sigtimedwait(&set, NULL, &period);
        if (sig == SIGINT || sig == SIGTERM)
            return;
        web_sessions_expire(&srv->sessions, time(NULL));
    }
}

int main(int argc, char **argv)
{
    struct opts o = {.address = "127.0.0.1", .port = WEB_DEFAULT_PORT, .idle = WEB_IDLE_S};
    struct web_server srv = {.doc_json = web_doc_json, .doc_json_len = web_doc_json_len};
    struct MHD_Daemon *d = NULL;
    char *home = NULL, *static_dir = NULL;
    int rc = parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    rc = 1;

    /* Signals are taken by sigtimedwait in the main thread only: block them
     * before any thread (libmicrohttpd's, the IPC reader) exists. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (capb_connect(o.home, NULL, &srv.root) < 0) {
        fprintf(stderr, "capsule-web: %s\n", capb_last_error()->message);
        return 1;
    }
    web_sessions_init(&srv.sessions, WEB_MAX_SESSIONS, WEB_MAX_OBJECTS, (unsigned)o.idle,
                      release_obj);
    home = home_folder(srv.root);
    static_dir = o.static_dir ? cap_str_dup(o.static_dir) : default_static_dir();
    srv.static_dir = static_dir;
    if (!home || web_random_token(srv.token) < 0 || store_token(home, srv.token) < 0)
        goto out;
    uint16_t port = 0;
    d = web_serve(&srv, o.address, (uint16_t)o.port, &port);
    if (!d)
        goto out;
    int v6 = strchr(o.address, ':') != NULL;
    printf("capsule-web: serving the Capsule API of %s\n"
           "capsule-web: URL: http://%s%s%s:%u/\n"
           "capsule-web: login token: %s (also in %s/web-token)\n",
           home, v6 ? "[" : "", o.address, v6 ? "]" : "", port, srv.token, home);
    if (strcmp(o.address, "127.0.0.1") != 0 && strcmp(o.address, "::1") != 0 &&
        strcmp(o.address, "localhost") != 0)
        printf("capsule-web: warning: listening on %s, not loopback only: the API is reachable "
               "from other machines over plain HTTP\n",
               o.address);
    fflush(stdout);
    run(&srv);
    rc = 0;
out:
    atomic_store(&srv.stopping, 1);
    if (d)
        MHD_stop_daemon(d);
    web_sessions_fini(&srv.sessions);
    capb_obj_free(srv.root);
    cap_str_free(home);
    cap_str_free(static_dir);
    return rc;
}
