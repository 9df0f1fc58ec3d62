/*
 * plugins/frontends/manage/cmd_waitfor.c - `capsule waitfor VM --state S
 * [--timeout SEC]`.
 *
 * Built on events, not polling: registers a passive listener for
 * MachineStateChanged on the service's event source, then checks the
 * machine's current state (after registering, so that no change can slip
 * between the check and the wait), then fetches events until one says the
 * machine reached S. The state is read again whenever a one-second wait
 * brings no event, which costs little and survives a lost event.
 *
 * Exit 0 once the machine is in state S (at once if it already is); 1 on
 * timeout (CAP_E_TIMEOUT, naming the state it is in) or any failure.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <capsule/errorinfo.h>
#include <capsule/uuid.h>

#include "manage.h"

enum { OPT_STATE = 1, OPT_TIMEOUT };

static const struct cli_opt waitfor_opts[] = {
    {"--state", OPT_STATE, 1},
    {"--timeout", OPT_TIMEOUT, 1},
    {NULL, 0, 0},
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 if ev is a state change of machine `id` to `want`. */
static int event_matches(IEvent *ev, const cap_uuid *id, MachineState want)
{
    IMachineStateChangedEvent *sc = NULL;
    cap_uuid mid;
    MachineState st = MachineState_Null;
    int hit = 0;
    if (IEvent_QueryInterface(ev, &IID_IMachineStateChangedEvent, (void **)&sc) < 0 || !sc)
        return 0;
    if (IMachineStateChangedEvent_GetMachineId(sc, &mid) >= 0 && cap_uuid_equal(&mid, id) &&
        IMachineStateChangedEvent_GetState(sc, &st) >= 0 && st == want)
        hit = 1;
    IMachineStateChangedEvent_Release(sc);
    return hit;
}

struct waiter {
    IMachine *m;
    IEventSource *es;
    IEventListener *l;
    cap_uuid id;
    int registered;
};

static cap_result wait_loop(struct waiter *w, const char *vm, MachineState want, int32_t timeout)
{
    int64_t deadline = timeout >= 0 ? now_ms() + timeout : -1;
    MachineState st = MachineState_Null;
    for (;;) {
        cap_result rc = IMachine_GetState(w->m, &st);
        if (rc < 0 || st == want)
            return rc;
        for (;;) {
            int64_t left = deadline < 0 ? 1000 : deadline - now_ms();
            if (left <= 0)
                return cap_error_set(CAP_E_TIMEOUT, "capsule", NULL,
                                     "timed out after %.3g s waiting for machine '%s' to reach "
                                     "state %s (it is %s)",
                                     timeout / 1000.0, vm, cli_state_name(want),
                                     cli_state_name(st));
            IEvent *ev = NULL;
            rc = IEventSource_GetEvent(w->es, w->l, (int32_t)(left < 1000 ? left : 1000), &ev);
            if (rc < 0)
                return rc;
            if (!ev)
                break; /* a quiet second: read the state again */
            int hit = event_matches(ev, &w->id, want);
            IEventSource_EventProcessed(w->es, w->l, ev);
            IEvent_Release(ev);
            if (hit)
                return CAP_OK;
        }
    }
}

static int waitfor(struct cli_ctx *ctx, const char *vm, MachineState want, int32_t timeout)
{
    static const EventType types[] = {EventType_OnMachineStateChanged};
    struct waiter w;
    memset(&w, 0, sizeof(w));
    const char *what = "ICapsule::findMachine";
    cap_result rc = cli_find_machine(ctx, vm, &w.m);
    if (rc >= 0) {
        what = "IMachine::id";
        rc = IMachine_GetId(w.m, &w.id);
    }
    if (rc >= 0) {
        what = "ICapsule::eventSource";
        rc = ICapsule_GetEventSource(ctx->root, &w.es);
    }
    if (rc >= 0) {
        what = "IEventSource::createListener";
        rc = IEventSource_CreateListener(w.es, &w.l);
    }
    if (rc >= 0) {
        what = "IEventSource::registerListener";
        rc = IEventSource_RegisterListener(w.es, w.l, 1, types, CAP_FALSE);
        w.registered = rc >= 0;
    }
    if (rc >= 0) {
        what = "waiting for the machine state";
        rc = wait_loop(&w, vm, want, timeout);
    }
    int status = rc < 0 ? cli_fail(rc, what) : CLI_EXIT_OK;
    if (w.registered)
        IEventSource_UnregisterListener(w.es, w.l);
    if (w.l)
        IEventListener_Release(w.l);
    if (w.es)
        IEventSource_Release(w.es);
    if (w.m)
        IMachine_Release(w.m);
    return status;
}

static int cmd_waitfor(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *vm = NULL, *state = NULL, *val = NULL;
    int32_t timeout = -1;
    MachineState want = MachineState_Null;
    struct cli_parser p;
    int r;
    cli_parser_init(&p, argc, argv);
    while ((r = cli_next(&p, waitfor_opts, &val)) != CLI_END) {
        switch (r) {
        case OPT_STATE:
            state = val;
            if (cli_state_from_name("--state", val, &want) < 0)
                return cli_usage(ctx, NULL);
            break;
        case OPT_TIMEOUT:
            if (cli_parse_timeout("--timeout", val, &timeout) < 0)
                return cli_usage(ctx, NULL);
            break;
        case CLI_POSITIONAL:
            if (vm)
                return cli_usage(ctx, "unexpected argument '%s'", val);
            vm = val;
            break;
        default:
            return cli_usage(ctx, NULL);
        }
    }
    if (!vm)
        return cli_usage(ctx, "the VM (name or UUID) is missing");
    if (!state)
        return cli_usage(ctx, "option '--state' is required");
    return waitfor(ctx, vm, want, timeout);
}

const struct cli_cmd cli_cmd_waitfor = {
    .name = "waitfor",
    .fn = cmd_waitfor,
    .usage = "capsule waitfor VM --state STATE [--timeout SEC]",
    .help = "wait until a machine reaches a state (built on MachineStateChanged events)",
    .detail = "  --state STATE   poweroff, starting, running, paused, stopping, saved,\n"
              "                  aborted, stuck, saving or restoring\n"
              "  --timeout SEC   give up after SEC seconds (also 500ms, 2m) with exit 1;\n"
              "                  default: wait forever\n",
};
