/*
 * plugins/frontends/web/web.h - capsule-web's internal interface.
 *
 * capsule-web is one more client of capsule-svc, like the CLI and the
 * Python/Java bindings: it holds no VM logic. It serves the whole API as
 * JSON over HTTP, generated from the typelib at run time through the
 * bindings' call frames (sdk/bindings/capbind.h), so no line is written per
 * interface. The modules:
 *
 *   json.c      a small JSON tree (parse) and an output buffer (write)
 *   session.c   the HTTP sessions: login cookie, CSRF token, object ids
 *   error.c     failures as JSON and their HTTP statuses
 *   call.c      JSON <-> call frames, one typelib-driven conversion
 *   api.c       the routes under /api/ and the errors' HTTP statuses
 *   openapi.c   /api/openapi.json from the typelib and the IDL's text
 *   events.c    /api/events: the service's events as Server-Sent Events
 *   server.c    libmicrohttpd: requests, cookies, headers, static files
 *   main.c      the program: options, login token, the service connection
 *
 * Threads: libmicrohttpd runs one thread per connection (an event stream
 * or a long getEvent blocks only its own); the session table
 * has its own lock, the typelib is constant, the service connection and its
 * proxies may be used from any thread (capsule/client.h).
 */
#ifndef CAPSULE_WEB_H
#define CAPSULE_WEB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <capsule/types.h>

/* ---- json.c: values ------------------------------------------------------------ */

enum wj_type { WJ_NULL, WJ_BOOL, WJ_NUM, WJ_STR, WJ_ARR, WJ_OBJ };

/*
 * A parsed JSON value. Numbers keep their double value and, when written as
 * an integer that fits, the exact integer: `is_int` for -2^63..2^63-1 (in
 * `i`), `is_uint` for 0..2^64-1 (in `u`). Strings are NUL-terminated UTF-8
 * (a \u0000 escape is refused). An object keeps its members in order
 * (keys[k] names items[k]).
 */
struct wj {
    enum wj_type type;
    int b;
    double num;
    int is_int, is_uint;
    int64_t i;
    uint64_t u;
    char *str;
    size_t n;
    struct wj **items;
    char **keys;
};

#define WJ_MAX_DEPTH 64 /* arrays and objects nested at most this deep */

/*
 * Parses len bytes of text as one JSON value (RFC 8259; surrounding white
 * space allowed). Returns the tree (free with wj_free) or NULL with a
 * message in err ("offset N: what"), also on allocation failure.
 */
struct wj *wj_parse(const char *text, size_t len, char *err, size_t errlen);
void wj_free(struct wj *v);

/* The member `key` of an object; NULL if v is not an object or has none. */
const struct wj *wj_get(const struct wj *v, const char *key);

/* "null", "boolean", "number", "string", "array", "object". */
const char *wj_type_name(enum wj_type t);

/* ---- json.c: output -------------------------------------------------------------- */

/* A growing output buffer. After an allocation failure `oom` is set and
 * further writes are dropped; the owner checks it once at the end. */
struct wbuf {
    char *p;
    size_t len, cap;
    int oom;
};

void wb_puts(struct wbuf *b, const char *s);
void wb_printf(struct wbuf *b, const char *fmt, ...) CAP_PRINTF(2, 3);
/* s as a JSON string (NULL: null). Invalid UTF-8 becomes U+FFFD; '<', '>'
 * and '&' are escaped so that the text is safe inside HTML too. */
void wb_str(struct wbuf *b, const char *s);
/* Takes the text out of the buffer (NULL after oom); the buffer is empty. */
char *wb_take(struct wbuf *b);
void wb_free(struct wbuf *b);

/* ---- session.c: the session table ------------------------------------------------ */

#define WEB_TOKEN_HEX 64 /* session ids, CSRF and login tokens: 32 random bytes */

/* What the session table knows about objects: only how to release them. */
typedef void (*web_release_fn)(void *obj);

struct web_session;

/*
 * The HTTP sessions of one server. A session is made by a login and ends by
 * logout, by being idle for `idle_s` seconds, or by being the least recently
 * used when a login finds the table full (`max_sessions`). It holds its CSRF
 * token and its objects: each reference handed to the client under an id of
 * its own, valid only with this session's cookie, released with `release`
 * when the client deletes it or the session ends (at most `max_objects` at
 * once; an id is never reused, so one session's id is unknown in
 * another). All functions lock the table; `release` is called without the lock.
 */
struct web_sessions {
    pthread_mutex_t lock;
    struct web_session *head; /* most recently used first */
    size_t n, max_sessions, max_objects;
    uint64_t next_id; /* object ids are unique in the process, never reused */
    unsigned idle_s;
    web_release_fn release;
};

void web_sessions_init(struct web_sessions *t, size_t max_sessions, size_t max_objects,
                       unsigned idle_s, web_release_fn release);
/* Ends every session (releasing its objects). */
void web_sessions_fini(struct web_sessions *t);

/* Fills buf (WEB_TOKEN_HEX + 1 bytes) with a random hex token; -1 if the
 * system has no randomness to give. */
int web_random_token(char *buf);

/* 1 if a and b are equal, in time independent of where they differ. */
int web_token_equal(const char *a, const char *b);

/*
 * A new session; its id and CSRF token (WEB_TOKEN_HEX + 1 bytes each) are
 * written to sid and csrf. Expired sessions are ended first. -1 if no
 * randomness or memory.
 */
int web_session_create(struct web_sessions *t, time_t now, char *sid, char *csrf);

enum web_auth { WEB_AUTH_OK, WEB_AUTH_NO_SESSION, WEB_AUTH_BAD_CSRF };

/*
 * Checks a request: sid names a live session (else NO_SESSION; sid may be
 * NULL) and, with need_csrf, csrf equals its token (else BAD_CSRF). A live
 * session counts as used at `now`. csrf_out (may be NULL, WEB_TOKEN_HEX + 1
 * bytes) receives the session's CSRF token.
 */
enum web_auth web_session_check(struct web_sessions *t, const char *sid, const char *csrf,
                                int need_csrf, time_t now, char *csrf_out);

/* Ends session sid (releasing its objects); -1 if there is none. */
int web_session_end(struct web_sessions *t, const char *sid);

/* Ends the sessions idle since before now - idle_s; returns how many. */
size_t web_sessions_expire(struct web_sessions *t, time_t now);

/*
 * Hands obj (one reference, taken over) to session sid under a new id,
 * written to id (at most 24 bytes). On failure obj is released: -1 if the
 * session is gone, -2 if it holds max_objects already, -3 out of memory.
 */
int web_session_put(struct web_sessions *t, const char *sid, void *obj, char *id);

/*
 * The object `id` of session sid, with dup applied under the lock (a new
 * reference for the caller), or NULL if there is none.
 */
void *web_session_get(struct web_sessions *t, const char *sid, const char *id,
                      void *(*dup)(void *obj));

/* Forgets object id of session sid and releases it; -1 if there is none. */
int web_session_drop(struct web_sessions *t, const char *sid, const char *id);

/* How many objects session sid holds (-1: no such session). */
long web_session_count(struct web_sessions *t, const char *sid);

/* ---- api.c: the routes ------------------------------------------------------------- */

struct capb_obj;

/* The server's state, shared by every request (set up by main.c). */
struct web_server {
    struct capb_obj *root; /* ICapsule through the service connection */
    struct web_sessions sessions;
    char token[WEB_TOKEN_HEX + 1]; /* the login token */
    const char *static_dir;        /* the pages' folder, or NULL */
    const char *doc_json;          /* capsule-idlc's capsule_doc.json text */
    size_t doc_json_len;
    atomic_int stopping; /* set before the server stops: event streams end */
};

/* One request, as server.c hands it over. */
struct web_request {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* URL path, percent-decoded by libmicrohttpd */
    const char *body;   /* NULL-able, body_len bytes */
    size_t body_len;
    const char *sid;  /* the session cookie, or NULL */
    const char *csrf; /* the X-CSRF-Token header, or NULL */
    time_t now;
};

/* The answer: status, a JSON body (owned), and a session cookie to set
 * (sid) or clear (clear_cookie). */
struct web_reply {
    unsigned status;
    char *body;
    char sid[WEB_TOKEN_HEX + 1];
    int clear_cookie;
};

/* Answers a request under /api/. Never fails: out of memory is a 500 with
 * a static body. */
void web_api(struct web_server *srv, const struct web_request *req, struct web_reply *rep);

/* ---- error.c: failures ------------------------------------------------------------- */

/* Sets rep to the JSON error {result, code, message} with the given status
 * (freeing a body rep had). On out of memory rep->body stays NULL. */
void web_error(struct web_reply *rep, unsigned status, cap_result rc, const char *fmt, ...)
    CAP_PRINTF(4, 5);

/* The HTTP status for a failure code of the API. */
unsigned web_status_of(cap_result rc);

/* ---- call.c: JSON <-> call frames -------------------------------------------------- */

/*
 * Calls method `m` (a typelib slot of obj's interface) with the in params
 * taken by name from the JSON object `args` (NULL: none; a missing param is
 * its type's empty value, as in Python), and writes the reply: on success
 * an object with every out and return param by name, objects as new ids of
 * session sid; on failure the error with its status.
 */
void web_call(struct web_server *srv, const char *sid, struct capb_obj *obj, uint32_t slot,
              const struct wj *args, struct web_reply *rep);

/* ---- openapi.c ------------------------------------------------------------------------ */

/* The OpenAPI 3 document of the API (owned; NULL on out of memory). */
char *web_openapi(const char *doc_json, size_t doc_len);

/* ---- events.c ------------------------------------------------------------------------ */

struct MHD_Response;

/*
 * GET /api/events?types=A,B of session sid (NULL: none): a streaming
 * text/event-stream response (one passive listener, released when the
 * stream ends), or NULL with the JSON error in rep (401 without a session,
 * 400 for a bad type list).
 */
struct MHD_Response *web_events(struct web_server *srv, const char *sid, const char *types,
                                struct web_reply *rep);

/* ---- server.c ------------------------------------------------------------------------- */

struct MHD_Daemon;

/* Starts serving srv on address:port (port 0: any free port; *bound gets the
 * port). NULL with a message on stderr if it cannot. */
struct MHD_Daemon *web_serve(struct web_server *srv, const char *address, uint16_t port,
                             uint16_t *bound);

#endif /* CAPSULE_WEB_H */
