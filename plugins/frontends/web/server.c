/*
 * plugins/frontends/web/server.c - capsule-web's HTTP side, on
 * libmicrohttpd (Debian's libmicrohttpd-dev; README.md says why this one).
 *
 * Collects each request's body (at most WEB_MAX_BODY bytes), hands /api/
 * requests to api.c with the session cookie and the CSRF header, serves
 * the pages' folder for everything else, and adds the headers every answer
 * carries: no caching, no sniffing, no framing, a same-origin content
 * policy. libmicrohttpd runs one thread per connection (at most
 * WEB_CONNECTIONS), so that an event stream or a long getEvent holds only
 * its own.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include <capsule/capsule.h>
#include <capsule/result.h>

#include "web.h"

#define WEB_MAX_BODY     (1u << 20)
#define WEB_COOKIE       "capsule_session"
#define WEB_CONNECTIONS  64
#define WEB_CONN_TIMEOUT 60

/* The body of one request as it arrives. */
struct upload {
    char *data;
    size_t len;
    int too_large;
};

static void add_common_headers(struct MHD_Response *r)
{
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; frame-ancestors 'none'; base-uri 'none'");
}

/* Queues body (malloc'ed, taken over; NULL: an empty body). */
static enum MHD_Result send_body(struct MHD_Connection *c, unsigned status, char *body, size_t len,
                                 const char *type, const char *cookie)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        body ? len : 0, body ? body : "", body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    add_common_headers(r);
    if (cookie)
        MHD_add_response_header(r, "Set-Cookie", cookie);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *c, struct web_reply *rep)
{
    char cookie[WEB_TOKEN_HEX + 96];
    const char *set = NULL;
    if (rep->sid[0]) {
        snprintf(cookie, sizeof(cookie), WEB_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict",
                 rep->sid);
        set = cookie;
    } else if (rep->clear_cookie) {
        set = WEB_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";
    }
    char *body = rep->body;
    rep->body = NULL;
    return send_body(c, rep->status, body, strlen(body), "application/json; charset=utf-8", set);
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, cap_result rc,
                                  const char *msg)
{
    struct web_reply rep = {0};
    web_error(&rep, status, rc, "%s", msg);
    if (!rep.body)
        return MHD_NO;
    return send_json(c, &rep);
}

/* ---- static files ----------------------------------------------------------------------- */

static const char *content_type(const char *path)
{
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".json", "application/json"},
        {".png", "image/png"},
        {".svg", "image/svg+xml"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t k = 0; dot && k < sizeof(types) / sizeof(types[0]); k++)
        if (strcmp(dot, types[k][0]) == 0)
            return types[k][1];
    return "application/octet-stream";
}

/*
 * 1 if url names a file inside the pages' folder by plain segments: no
 * "." or ".." segment, no empty segment, no backslash, only the characters
 * a page's file name needs.
 */
static int safe_path(const char *url)
{
    if (url[0] != '/')
        return 0;
    for (const char *seg = url + 1; *seg;) {
        size_t n = strcspn(seg, "/");
        if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return 0;
        for (size_t k = 0; k < n; k++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
                        seg[k]))
                return 0;
        seg += n;
        if (*seg == '/')
            seg++;
    }
    return 1;
}

static enum MHD_Result serve_static(struct web_server *srv, struct MHD_Connection *c,
                                    const char *url, const char *method)
{
    char path[PATH_MAX], real[PATH_MAX], root[PATH_MAX];
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return send_error(c, 405, CAP_E_INVALIDARG, "pages are read with GET");
    if (strcmp(url, "/") == 0)
        url = "/index.html";
    /* Beside the name check, the resolved path must stay in the folder
     * (a symbolic link in it must not lead out). */
    int n = srv->static_dir ? snprintf(path, sizeof(path), "%s%s", srv->static_dir, url) : -1;
    if (n < 0 || (size_t)n >= sizeof(path) || !safe_path(url) || !realpath(path, real) ||
        !realpath(srv->static_dir, root) || strncmp(real, root, strlen(root)) != 0 ||
        real[strlen(root)] != '/')
        return send_error(c, 404, CAP_E_OBJECT_NOT_FOUND, "no such page");
    int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return send_error(c, 404, CAP_E_OBJECT_NOT_FOUND, "no such page");
    }
    struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", content_type(real));
    add_common_headers(r);
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result serve_events(struct web_server *srv, struct MHD_Connection *c)
{
    struct web_reply rep;
    struct MHD_Response *r =
        web_events(srv, MHD_lookup_connection_value(c, MHD_COOKIE_KIND, WEB_COOKIE),
                   MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "types"), &rep);
    if (!r)
        return send_json(c, &rep);
    MHD_add_response_header(r, "Content-Type", "text/event-stream; charset=utf-8");
    add_common_headers(r);
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- requests ------------------------------------------------------------------------------- */

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_size, void **con_cls)
{
    struct web_server *srv = cls;
    struct upload *up = *con_cls;
    (void)version;
    if (!up) {
        up = calloc(1, sizeof(*up));
        if (!up)
            return MHD_NO;
        *con_cls = up;
        return MHD_YES;
    }
    if (*upload_size) {
        if (up->len + *upload_size > WEB_MAX_BODY) {
            up->too_large = 1;
        } else if (!up->too_large) {
            char *d = realloc(up->data, up->len + *upload_size + 1);
            if (!d)
                return MHD_NO;
            memcpy(d + up->len, upload_data, *upload_size);
            up->data = d;
            up->len += *upload_size;
            d[up->len] = 0;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (up->too_large)
        return send_error(c, 413, CAP_E_INVALIDARG, "the request body is larger than 1 MiB");
    if (strncmp(url, "/api/", 5) != 0)
        return serve_static(srv, c, url, method);
    if (strcmp(url, "/api/events") == 0 && strcmp(method, "GET") == 0)
        return serve_events(srv, c);
    struct web_request req = {
        .method = method,
        .path = url,
        .body = up->data,
        .body_len = up->len,
        .sid = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, WEB_COOKIE),
        .csrf = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token"),
        .now = time(NULL),
    };
    struct web_reply rep;
    web_api(srv, &req, &rep);
    return send_json(c, &rep);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct upload *up = *con_cls;
    (void)cls, (void)c, (void)toe;
    if (up) {
        free(up->data);
        free(up);
        *con_cls = NULL;
    }
}

struct MHD_Daemon *web_serve(struct web_server *srv, const char *address, uint16_t port,
                             uint16_t *bound)
{
    struct addrinfo hints = {.ai_flags = AI_NUMERICSERV, .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    char service[8];
    snprintf(service, sizeof(service), "%u", port);
    int gai = getaddrinfo(address, service, &hints, &ai);
    if (gai != 0) {
        fprintf(stderr, "capsule-web: cannot use address '%s': %s\n", address, gai_strerror(gai));
        return NULL;
    }
    unsigned flags =
        MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, port, NULL, NULL, handle, srv, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)WEB_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)WEB_CONN_TIMEOUT, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!d) {
        fprintf(stderr, "capsule-web: cannot listen on %s port %u (in use?)\n", address, port);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    *bound = info ? info->port : port;
    return d;
}
