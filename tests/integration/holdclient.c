/*
 * tests/integration/holdclient.c - a client that holds many objects of the
 * service, for the handle-leak checks in cli.sh.
 *
 *   holdclient counts          prints "clients C handles H": ICapsule's
 *                              clientCount and objectHandleCount, read on a
 *                              fresh connection (so C and H include this
 *                              client and its root object)
 *   holdclient hold [--wait]   obtains the objects (below), prints
 *                              "holding N clients C handles H" and blocks
 *                              until killed; with --wait the main thread
 *                              blocks inside a call (IEventSource getEvent
 *                              waiting forever), so the kill lands mid-call
 *   holdclient release         obtains the objects, prints the same line,
 *                              releases everything and exits 0
 *
 * The objects: the machines array, each machine's serial ports, the host,
 * the system properties, the event source and a passive listener registered
 * with it. N counts the references held (each one a proxy of a service
 * object). The service must drop every handle of this client when it
 * exits, whether cleanly or by SIGKILL; cli.sh checks that
 * objectHandleCount returns to its baseline.
 *
 * Exit 0 on success; 1 at the first failed call, with the error info; 2 on
 * a usage error.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <capsule/capsule.h>
#include <capsule/client.h>
#include <capsule/errorinfo.h>
#include <capsule/mem.h>

/* What `hold` and `release` obtain; released in reverse order. */
struct held {
    uint32_t n_machines;
    IMachine **machines;
    uint32_t *n_ports;    /* per machine */
    ISerialPort ***ports; /* per machine */
    IHost *host;
    ISystemProperties *sysprops;
    IEventSource *es;
    IEventListener *listener;
    int registered;
    uint32_t count; /* references held */
};

static int fail(const char *what, cap_result rc)
{
    const char *msg = cap_error_peek_message();
    fprintf(stderr, "holdclient: %s failed: %s (0x%08" PRIx32 ")%s%s\n", what,
            cap_result_name(rc), (uint32_t)rc, msg ? ": " : "", msg ? msg : "");
    return 1;
}

static void held_release(struct held *h)
{
    if (h->registered)
        IEventSource_UnregisterListener(h->es, h->listener);
    if (h->listener)
        IEventListener_Release(h->listener);
    if (h->es)
        IEventSource_Release(h->es);
    if (h->sysprops)
        ISystemProperties_Release(h->sysprops);
    if (h->host)
        IHost_Release(h->host);
    for (uint32_t i = 0; h->ports && i < h->n_machines; i++)
        if (h->ports[i])
            cap_array_free(CAP_TLT_IFACE, h->n_ports[i], h->ports[i]);
    free(h->ports);
    free(h->n_ports);
    if (h->machines)
        cap_array_free(CAP_TLT_IFACE, h->n_machines, h->machines);
    memset(h, 0, sizeof(*h));
}

/* Fills *h; on failure returns 1 with what it got so far left in *h. */
static int held_get(ICapsule *root, struct held *h)
{
    cap_result rc = ICapsule_GetMachines(root, &h->n_machines, &h->machines);
    if (rc < 0)
        return fail("machines", rc);
    h->count += h->n_machines;
    h->n_ports = calloc(h->n_machines ? h->n_machines : 1, sizeof(*h->n_ports));
    h->ports = calloc(h->n_machines ? h->n_machines : 1, sizeof(*h->ports));
    if (!h->n_ports || !h->ports)
        return fail("calloc", CAP_E_OUTOFMEMORY);
    for (uint32_t i = 0; i < h->n_machines; i++) {
        rc = IMachine_GetSerialPorts(h->machines[i], &h->n_ports[i], &h->ports[i]);
        if (rc < 0)
            return fail("IMachine serialPorts", rc);
        h->count += h->n_ports[i];
    }
    if ((rc = ICapsule_GetHost(root, &h->host)) < 0)
        return fail("host", rc);
    if ((rc = ICapsule_GetSystemProperties(root, &h->sysprops)) < 0)
        return fail("systemProperties", rc);
    if ((rc = ICapsule_GetEventSource(root, &h->es)) < 0)
        return fail("eventSource", rc);
    if ((rc = IEventSource_CreateListener(h->es, &h->listener)) < 0)
        return fail("createListener", rc);
    h->count += 4;
    EventType any = EventType_Any;
    if ((rc = IEventSource_RegisterListener(h->es, h->listener, 1, &any, CAP_FALSE)) < 0)
        return fail("registerListener", rc);
    h->registered = 1;
    return 0;
}

static int print_counts(ICapsule *root, const char *prefix)
{
    uint32_t clients = 0, handles = 0;
    cap_result rc = ICapsule_GetClientCount(root, &clients);
    if (rc < 0)
        return fail("clientCount", rc);
    if ((rc = ICapsule_GetObjectHandleCount(root, &handles)) < 0)
        return fail("objectHandleCount", rc);
    printf("%sclients %" PRIu32 " handles %" PRIu32 "\n", prefix, clients, handles);
    fflush(stdout);
    return 0;
}

/* hold/release: obtains the objects, reports, then blocks or lets go. */
static int run_holder(ICapsule *root, int keep, int in_call)
{
    struct held h;
    memset(&h, 0, sizeof(h));
    int status = held_get(root, &h);
    char prefix[48];
    snprintf(prefix, sizeof(prefix), "holding %" PRIu32 " ", h.count);
    if (!status)
        status = print_counts(root, prefix);
    if (!status && keep) {
        IEvent *e = NULL;
        for (;;) { /* until killed */
            if (in_call && IEventSource_GetEvent(h.es, h.listener, -1, &e) >= 0 && e)
                IEvent_Release(e);
            else if (!in_call)
                pause();
        }
    }
    held_release(&h);
    return status;
}

static int usage(void)
{
    fprintf(stderr, "usage: holdclient counts | hold [--wait] | release\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *mode = argc >= 2 ? argv[1] : "";
    int in_call = argc == 3 && !strcmp(mode, "hold") && !strcmp(argv[2], "--wait");
    if ((argc != 2 && !in_call) ||
        (strcmp(mode, "counts") && strcmp(mode, "hold") && strcmp(mode, "release")))
        return usage();
    cap_typelib_register(&capsule_typelib);
    struct cap_client_options opts;
    memset(&opts, 0, sizeof(opts));
    struct cap_client *c = NULL;
    ICapsule *root = NULL;
    cap_result rc = cap_client_connect(&opts, &c);
    if (rc < 0)
        return fail("cap_client_connect", rc);
    rc = cap_client_get_root(c, &root);
    if (rc < 0) {
        cap_client_close(c);
        return fail("cap_client_get_root", rc);
    }
    int status = !strcmp(mode, "counts") ? print_counts(root, "")
                                         : run_holder(root, !strcmp(mode, "hold"), in_call);
    ICapsule_Release(root);
    cap_client_close(c);
    return status;
}
