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

struct waitfor_args {
    const char *vm;
    MachineState state;
    struct cli_ms timeout;
};

static cap_result parse_state(const struct cli_arg *a, struct cli_parser *p, const char *val,
                              void *dst)
{
    (void)p;
    return cli_state_from_name(a->name, val, dst);
}

static const struct cli_arg waitfor_args[] = {
    CLI_POS("VM", struct waitfor_args, vm, CLI_VM_MISSING, NULL),
    CLI_OPT_REQ("--state", "STATE", parse_state, struct waitfor_args, state,
                "poweroff, starting, running, paused, stopping, saved,\n"
                "aborted, stuck, saving or restoring"),
    CLI_OPT("--timeout", "SEC", cli_arg_timeout, struct waitfor_args, timeout,
            "give up after SEC seconds (also 500ms, 2m) with exit 1;\n"
            "default: wait forever"),
    CLI_ARGS_END,
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
    if (CAP_FAILED(IEvent_QueryInterface(ev, &IID_IMachineStateChangedEvent, (void **)&sc)) || !sc)
        return 0;
    if (CAP_SUCCEEDED(IMachineStateChangedEvent_GetMachineId(sc, &mid)) &&
        cap_uuid_equal(&mid, id) && CAP_SUCCEEDED(IMachineStateChangedEvent_GetState(sc, &st)) &&
        st == want)
        hit = 1;
    IMachineStateChangedEvent_Release(sc);
    return hit;
}

struct waiter {
    IMachine *m;
    IEventSource *es;
    IEventListener *l;
    cap_uuid id;
};

static cap_result wait_loop(const struct waiter *w, const char *vm, MachineState want,
                            int32_t timeout)
{
    int64_t deadline = timeout >= 0 ? now_ms() + timeout : -1;
    MachineState st = MachineState_Null;
    for (;;) {
        cap_result rc = IMachine_GetState(w->m, &st);
        if (CAP_FAILED(rc) || st == want)
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
            if (CAP_FAILED(rc))
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

static cap_result waitfor(struct cli_vm *vm, void *arg)
{
    static const EventType types[] = {EventType_OnMachineStateChanged};
    const struct waitfor_args *a = arg;
    struct waiter w = {.m = vm->machine};
    int registered = 0;
    vm->what = "IMachine::id";
    cap_result rc = IMachine_GetId(w.m, &w.id);
    if (CAP_SUCCEEDED(rc)) {
        vm->what = "ICapsule::eventSource";
        rc = ICapsule_GetEventSource(vm->ctx->root, &w.es);
    }
    if (CAP_SUCCEEDED(rc)) {
        vm->what = "IEventSource::createListener";
        rc = IEventSource_CreateListener(w.es, &w.l);
    }
    if (CAP_SUCCEEDED(rc)) {
        vm->what = "IEventSource::registerListener";
        rc = IEventSource_RegisterListener(w.es, w.l, 1, types, CAP_FALSE);
        registered = CAP_SUCCEEDED(rc);
    }
    if (CAP_SUCCEEDED(rc)) {
        vm->what = "waiting for the machine state";
        rc = wait_loop(&w, vm->name, a->state, a->timeout.set ? a->timeout.ms : -1);
    }
    if (registered)
        IEventSource_UnregisterListener(w.es, w.l);
    cli_release(w.l);
    cli_release(w.es);
    return rc;
}

static int run_waitfor(struct cli_ctx *ctx, void *args)
{
    const struct waitfor_args *a = args;
    return cli_with_vm(ctx, a->vm, CLI_MACHINE, waitfor, args);
}

const struct cli_cmd cli_cmd_waitfor = {
    .name = "waitfor",
    .help = "wait until a machine reaches a state (built on MachineStateChanged events)",
    .args = waitfor_args,
    .args_size = sizeof(struct waitfor_args),
    .run = run_waitfor,
    .detail = NULL,
};
