/*
 * service/svc.c - the service as a whole (svc.h): creating it for a home
 * (core, event source, registry loaded from capsule.xml), shutting it down,
 * and the hooks capsule-svc's main loop needs (client gone, busy, idle
 * timeout, IPC diagnostics).
 */
#include <string.h>

#include <capsule/ipc.h>
#include <capsule/mem.h>

#include "imachine.h"
#include "imedium.h"
#include "session_machine.h"
#include "svc_root.h"
#include "sysprops.h"

void svc_set_conn_hook(struct svc *svc, uint64_t (*hook)(void))
{
    svc->core.conn_hook = hook;
}

void svc_set_ipc_stats(struct svc *svc, const struct svc_ipc_stats *stats)
{
    if (stats)
        svc->ipc_stats = *stats;
    else
        memset(&svc->ipc_stats, 0, sizeof(svc->ipc_stats));
}

void svc_set_caller_gone_hook(struct svc *svc, int (*hook)(void))
{
    event_source_set_caller_gone(svc->core.events, hook);
}

void svc_set_peer_hook(struct svc *svc, int (*hook)(uint64_t *conn_id, int32_t *pid))
{
    event_source_set_peer_hook(svc->core.events, hook);
}

struct event_source *svc_events(struct svc *svc)
{
    return svc->core.events;
}

ICapsule *svc_icapsule(struct svc *svc)
{
    return &svc->ICapsule_iface;
}

void svc_release(struct svc *svc)
{
    if (svc)
        ICapsule_Release(&svc->ICapsule_iface);
}

cap_result svc_create(const char *home, struct cap_registry *reg, struct svc **out)
{
    *out = NULL;
    if (!home || home[0] != '/')
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, NULL,
                             "the home folder must be an absolute path");
    struct svc *svc = NULL;
    cap_result rc = svc_create_object(home, &svc);
    if (svc) {
        svc->reg = reg;
        svc->core.registry = &svc->registry;
        svc->core.machine_vtbl = &imachine_vtbl;
        svc->core.control_vtbl = &imachine_control_vtbl;
        svc->core.medium_vtbl = &imedium_vtbl;
    }
    if (CAP_SUCCEEDED(rc))
        rc = event_source_create(&svc->core.events);
    if (CAP_SUCCEEDED(rc))
        rc = registry_init(&svc->registry, &svc->core);
    if (CAP_SUCCEEDED(rc)) {
        svc_core_lock(&svc->core);
        rc = registry_load_locked(&svc->registry);
        svc_core_unlock(&svc->core);
    }
    if (CAP_FAILED(rc)) {
        struct cap_error_info ei;
        cap_error_take(&ei);
        if (svc) {
            svc_uninit(svc);
            svc_release(svc);
        }
        cap_error_set_info(&ei);
        cap_error_info_clear(&ei);
        return rc;
    }
    *out = svc;
    return CAP_OK;
}

void svc_uninit(struct svc *svc)
{
    svc_core_lock(&svc->core);
    if (svc->core.uninited) {
        svc_core_unlock(&svc->core);
        return;
    }
    svc->core.uninited = 1;
    struct machine **list = NULL;
    uint32_t n = 0;
    registry_take_all_locked(&svc->registry, &list, &n);
    struct medium **media = NULL;
    uint32_t n_media = 0;
    registry_take_media_locked(&svc->registry, &media, &n_media);
    /* End every lock; tell the sessions after dropping the lock. */
    IInternalSessionControl **ctls = cap_alloc_zero((n ? n : 1) * sizeof(*ctls));
    ISession **holders = cap_alloc_zero((n ? n : 1) * sizeof(*holders));
    for (uint32_t i = 0; i < n; i++)
        if (list[i]->holder)
            session_end_lock_locked(list[i], ctls ? &ctls[i] : NULL, holders ? &holders[i] : NULL);
    svc_core_unlock(&svc->core);
    for (uint32_t i = 0; i < n; i++) {
        if (ctls && ctls[i]) {
            IInternalSessionControl_Uninitialize(ctls[i]);
            IInternalSessionControl_Release(ctls[i]);
        }
        if (holders && holders[i])
            ISession_Release(holders[i]);
        machine_release(list[i]);
    }
    cap_free(ctls);
    cap_free(holders);
    cap_free(list);
    for (uint32_t i = 0; i < n_media; i++)
        medium_release(media[i]);
    cap_free(media);
    if (svc->core.events)
        event_source_shutdown(svc->core.events);
}

void svc_client_disconnected(struct svc *svc, uint64_t conn_id)
{
    struct registry *r = &svc->registry;
    svc_core_lock(&svc->core);
    uint32_t n = 0, cap = r->n_machines ? r->n_machines : 1;
    struct machine **locked = cap_alloc_zero(cap * sizeof(*locked));
    int *gone = cap_alloc_zero(cap * sizeof(int));
    ISession **holders = cap_alloc_zero(cap * sizeof(*holders));
    for (uint32_t i = 0; locked && gone && holders && i < r->n_machines; i++) {
        struct machine *m = r->machines[i];
        if (!m->holder)
            continue;
        machine_addref(m);
        locked[n] = m;
        gone[n] = conn_id && m->holder_conn == conn_id;
        holders[n] = m->holder;
        ISession_AddRef(m->holder);
        n++;
    }
    svc_core_unlock(&svc->core);
    for (uint32_t i = 0; i < n; i++) {
        SessionState ss;
        if (!gone[i]) {
            /* A holder of another connection that no longer answers is
             * gone too (its connection ended before we were told). */
            cap_result rc = ISession_GetState(holders[i], &ss);
            gone[i] = rc == CAP_E_IPC_DISCONNECTED || rc == CAP_E_SERVICE_UNAVAILABLE;
        }
        ISession_Release(holders[i]);
        if (gone[i])
            session_holder_died(locked[i]);
        machine_release(locked[i]);
    }
    cap_free(locked);
    cap_free(gone);
    cap_free(holders);
}

int svc_busy(struct svc *svc)
{
    svc_core_lock(&svc->core);
    int busy = svc->core.media_jobs > 0; /* an image being written */
    for (uint32_t i = 0; i < svc->registry.n_machines && !busy; i++) {
        struct machine *m = svc->registry.machines[i];
        busy = (m->holder && m->lock_type == LockType_VM) || !machine_state_at_rest(m->state);
    }
    svc_core_unlock(&svc->core);
    return busy;
}

uint32_t svc_idle_timeout(struct svc *svc)
{
    return sysprops_idle_timeout(&svc->registry);
}
