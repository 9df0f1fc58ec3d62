/*
 * tests/integration/stallclient.c - a client whose active event listener
 * never answers (a stopped, buggy or hostile client), for stall_listener.sh.
 *
 *   stallclient    registers an active IEventListener for every event type,
 *                  prints "registered pid P" and blocks until killed; the
 *                  first handleEvent the service calls never returns, and
 *                  each one prints "stalled" to stdout first
 *
 * The service must go on serving every other client while this one is
 * registered, and drop the listener (logged) after its bound.
 *
 * Exit 1 at a failed call, with the error info; 2 on a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <capsule/capsule.h>
#include <capsule/client.h>
#include <capsule/errorinfo.h>
#include <capsule/object.h>

struct stall {
    IEventListener IEventListener_iface;
    cap_refcnt ref;
};

static struct stall *stall_impl(IEventListener *i)
{
    return CAP_CONTAINER_OF(i, struct stall, IEventListener_iface);
}

static const struct cap_qi_entry stall_qi[] = {
    CAP_QI_ENTRY(IID_IEventListener, struct stall, IEventListener_iface),
    CAP_QI_END,
};

static cap_result st_qi(IEventListener *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(stall_impl(self), stall_qi, iid, out);
}

static uint32_t st_addref(IEventListener *self)
{
    return cap_refcnt_inc(&stall_impl(self)->ref);
}

static uint32_t st_release(IEventListener *self)
{
    return cap_refcnt_dec(&stall_impl(self)->ref); /* static: never freed */
}

static cap_result st_handle(IEventListener *self, IEvent *e)
{
    printf("stalled\n");
    fflush(stdout);
    for (;;)
        pause();
    return CAP_OK;
}

static const struct IEventListenerVtbl stall_vtbl = {
    .QueryInterface = st_qi, .AddRef = st_addref, .Release = st_release,
    .HandleEvent = st_handle,
};

static struct stall listener = {.IEventListener_iface.vtbl = &stall_vtbl};

static int fail(const char *what, cap_result rc)
{
    const char *msg = cap_error_peek_message();
    fprintf(stderr, "stallclient: %s failed (0x%08x): %s\n", what, (unsigned)rc,
            msg ? msg : "no error info");
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: stallclient\n");
        return 2;
    }
    cap_refcnt_init(&listener.ref, 1);
    cap_typelib_register(&capsule_typelib);
    struct cap_client_options opts;
    memset(&opts, 0, sizeof(opts));
    struct cap_client *c = NULL;
    ICapsule *root = NULL;
    IEventSource *es = NULL;
    cap_result rc = cap_client_connect(&opts, &c);
    if (rc < 0)
        return fail("cap_client_connect", rc);
    if ((rc = cap_client_get_root(c, &root)) < 0)
        return fail("cap_client_get_root", rc);
    if ((rc = ICapsule_GetEventSource(root, &es)) < 0)
        return fail("eventSource", rc);
    EventType any = EventType_Any;
    rc = IEventSource_RegisterListener(es, &listener.IEventListener_iface, 1, &any, CAP_TRUE);
    if (rc < 0)
        return fail("registerListener", rc);
    printf("registered pid %d\n", (int)getpid());
    fflush(stdout);
    for (;;)
        pause();
}
