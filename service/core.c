/*
 * service/core.c - the service's shared core (core.h): its lock and the
 * root reference that keeps it alive.
 */
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>

#include "core.h"

cap_result svc_core_init(struct svc_core *c, ICapsule *root, const char *home)
{
    memset(c, 0, sizeof(*c));
    c->root = root;
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&c->lock, &a);
    pthread_mutexattr_destroy(&a);
    c->home = cap_str_dup(home ? home : "");
    return c->home ? CAP_OK
                   : cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
}

void svc_core_fini(struct svc_core *c)
{
    event_source_release(c->events);
    c->events = NULL;
    cap_str_free(c->home);
    c->home = NULL;
    pthread_mutex_destroy(&c->lock);
}

void svc_core_lock(struct svc_core *c)
{
    pthread_mutex_lock(&c->lock);
}

void svc_core_unlock(struct svc_core *c)
{
    pthread_mutex_unlock(&c->lock);
}

uint64_t svc_core_current_conn(struct svc_core *c)
{
    return c->conn_hook ? c->conn_hook() : 0;
}

void svc_core_hold(struct svc_core *c)
{
    ICapsule_AddRef(c->root);
}

void svc_core_drop(struct svc_core *c)
{
    ICapsule_Release(c->root);
}
