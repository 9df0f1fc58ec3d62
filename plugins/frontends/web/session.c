/*
 * plugins/frontends/web/session.c - the HTTP sessions of capsule-web.
 *
 * A browser (or a curl cookie jar) logs in once with the login token and
 * gets a session: a random id in an HttpOnly cookie, and a CSRF token it
 * must echo in a header on every state-changing request. Every object
 * reference the API hands out is kept here under an id of the session's
 * own, so that references are released when the client says so or when the
 * session ends, and one client can never name another's objects.
 *
 * The table is a list in most-recently-used order (a few sessions per
 * user); objects in a session are an array searched linearly (bounded by
 * max_objects). Objects are released outside the lock: a release is an IPC
 * call to capsule-svc.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "web.h"

struct web_obj {
    char id[24];
    void *obj;
};

struct web_session {
    struct web_session *next;
    char sid[WEB_TOKEN_HEX + 1];
    char csrf[WEB_TOKEN_HEX + 1];
    time_t last_used;
    struct web_obj *objs;
    size_t n_objs, cap_objs;
};

void web_sessions_init(struct web_sessions *t, size_t max_sessions, size_t max_objects,
                       unsigned idle_s, web_release_fn release)
{
    memset(t, 0, sizeof(*t));
    pthread_mutex_init(&t->lock, NULL);
    t->max_sessions = max_sessions;
    t->max_objects = max_objects;
    t->idle_s = idle_s;
    t->release = release;
}

/* Releases a session unlinked from the table (called without the lock). */
static void session_free(struct web_sessions *t, struct web_session *s)
{
    while (s) {
        struct web_session *next = s->next;
        for (size_t k = 0; k < s->n_objs; k++)
            t->release(s->objs[k].obj);
        free(s->objs);
        free(s);
        s = next;
    }
}

void web_sessions_fini(struct web_sessions *t)
{
    pthread_mutex_lock(&t->lock);
    struct web_session *all = t->head;
    t->head = NULL;
    t->n = 0;
    pthread_mutex_unlock(&t->lock);
    session_free(t, all);
    pthread_mutex_destroy(&t->lock);
}

int web_random_token(char *buf)
{
    unsigned char raw[WEB_TOKEN_HEX / 2];
    size_t got = 0;
    while (got < sizeof(raw)) {
        ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    for (size_t k = 0; k < sizeof(raw); k++)
        snprintf(buf + 2 * k, 3, "%02x", raw[k]);
    return 0;
}

int web_token_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = la != lb;
    for (size_t k = 0; k < la; k++)
        diff |= (unsigned char)(a[k] ^ b[k % (lb ? lb : 1)]);
    return diff == 0 && la == lb;
}

/* The session sid moved to the front, or NULL (lock held). */
static struct web_session *find(struct web_sessions *t, const char *sid)
{
    if (!sid)
        return NULL;
    for (struct web_session **pp = &t->head; *pp; pp = &(*pp)->next) {
        struct web_session *s = *pp;
        if (web_token_equal(s->sid, sid)) {
            *pp = s->next;
            s->next = t->head;
            t->head = s;
            return s;
        }
    }
    return NULL;
}

/* Unlinks the sessions idle since before `now - idle_s` and, with `room`,
 * the least recently used ones beyond max_sessions - 1; returns the list
 * (lock held). */
static struct web_session *unlink_stale(struct web_sessions *t, time_t now, int room, size_t *count)
{
    struct web_session *out = NULL;
    size_t k = 0;
    *count = 0;
    for (struct web_session **pp = &t->head; *pp;) {
        struct web_session *s = *pp;
        int idle = now - s->last_used > (time_t)t->idle_s;
        int beyond = room && k + 1 >= t->max_sessions;
        if (idle || beyond) {
            *pp = s->next;
            s->next = out;
            out = s;
            t->n--;
            (*count)++;
        } else {
            pp = &s->next;
            k++;
        }
    }
    return out;
}

int web_session_create(struct web_sessions *t, time_t now, char *sid, char *csrf)
{
    struct web_session *s = calloc(1, sizeof(*s));
    if (!s || web_random_token(s->sid) < 0 || web_random_token(s->csrf) < 0) {
        free(s);
        return -1;
    }
    s->last_used = now;
    size_t n;
    pthread_mutex_lock(&t->lock);
    struct web_session *stale = unlink_stale(t, now, 1, &n);
    s->next = t->head;
    t->head = s;
    t->n++;
    memcpy(sid, s->sid, sizeof(s->sid));
    memcpy(csrf, s->csrf, sizeof(s->csrf));
    pthread_mutex_unlock(&t->lock);
    session_free(t, stale);
    return 0;
}

enum web_auth web_session_check(struct web_sessions *t, const char *sid, const char *csrf,
                                int need_csrf, time_t now, char *csrf_out)
{
    enum web_auth r = WEB_AUTH_NO_SESSION;
    pthread_mutex_lock(&t->lock);
    struct web_session *s = find(t, sid);
    if (s && now - s->last_used > (time_t)t->idle_s)
        s = NULL; /* expired: web_sessions_expire frees it */
    if (s) {
        s->last_used = now;
        r = need_csrf && (!csrf || !web_token_equal(s->csrf, csrf)) ? WEB_AUTH_BAD_CSRF
                                                                    : WEB_AUTH_OK;
        if (csrf_out)
            memcpy(csrf_out, s->csrf, sizeof(s->csrf));
    }
    pthread_mutex_unlock(&t->lock);
    return r;
}

int web_session_end(struct web_sessions *t, const char *sid)
{
    pthread_mutex_lock(&t->lock);
    struct web_session *s = find(t, sid);
    if (s) {
        t->head = s->next; /* find() moved it to the front */
        s->next = NULL;
        t->n--;
    }
    pthread_mutex_unlock(&t->lock);
    session_free(t, s);
    return s ? 0 : -1;
}

size_t web_sessions_expire(struct web_sessions *t, time_t now)
{
    size_t n;
    pthread_mutex_lock(&t->lock);
    struct web_session *stale = unlink_stale(t, now, 0, &n);
    pthread_mutex_unlock(&t->lock);
    session_free(t, stale);
    return n;
}

int web_session_put(struct web_sessions *t, const char *sid, void *obj, char *id)
{
    int rc = 0;
    pthread_mutex_lock(&t->lock);
    struct web_session *s = find(t, sid);
    if (!s) {
        rc = -1;
    } else if (s->n_objs >= t->max_objects) {
        rc = -2;
    } else if (s->n_objs == s->cap_objs) {
        size_t cap = s->cap_objs ? 2 * s->cap_objs : 16;
        struct web_obj *objs = realloc(s->objs, cap * sizeof(*objs));
        if (!objs) {
            rc = -3;
        } else {
            s->objs = objs;
            s->cap_objs = cap;
        }
    }
    if (rc == 0) {
        struct web_obj *o = &s->objs[s->n_objs++];
        snprintf(o->id, sizeof(o->id), "o%llx", (unsigned long long)++t->next_id);
        o->obj = obj;
        memcpy(id, o->id, sizeof(o->id));
    }
    pthread_mutex_unlock(&t->lock);
    if (rc < 0)
        t->release(obj);
    return rc;
}

/* The index of object id in s, or -1 (lock held). */
static long obj_index(const struct web_session *s, const char *id)
{
    for (size_t k = 0; k < s->n_objs; k++)
        if (strcmp(s->objs[k].id, id) == 0)
            return (long)k;
    return -1;
}

void *web_session_get(struct web_sessions *t, const char *sid, const char *id,
                      void *(*dup)(void *obj))
{
    void *obj = NULL;
    pthread_mutex_lock(&t->lock);
    struct web_session *s = find(t, sid);
    long k = s ? obj_index(s, id) : -1;
    if (k >= 0)
        obj = dup(s->objs[k].obj);
    pthread_mutex_unlock(&t->lock);
    return obj;
}

int web_session_drop(struct web_sessions *t, const char *sid, const char *id)
{
    void *obj = NULL;
    pthread_mutex_lock(&t->lock);
    struct web_session *s = find(t, sid);
    long k = s ? obj_index(s, id) : -1;
    if (k >= 0) {
        obj = s->objs[k].obj;
        s->objs[k] = s->objs[--s->n_objs];
    }
    pthread_mutex_unlock(&t->lock);
    if (k < 0)
        return -1;
    t->release(obj);
    return 0;
}

long web_session_count(struct web_sessions *t, const char *sid)
{
    pthread_mutex_lock(&t->lock);
    struct web_session *s = find(t, sid);
    long n = s ? (long)s->n_objs : -1;
    pthread_mutex_unlock(&t->lock);
    return n;
}
