/*
 * service/svc.c - the service's root state: loading and saving the global
 * settings file, the machine list, shutdown, and the hooks capsule-svc's
 * main loop needs (client gone, busy, idle timeout).
 *
 * Start-up reads HOME/capsule.xml and then every machine file it lists; a
 * machine file that cannot be read makes that machine inaccessible, but a
 * global file that cannot be read stops the service (svc_create fails), so
 * that it is never overwritten by an empty registry.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capsule/ipc.h>
#include <capsule/mem.h>
#include <capsule/object.h>
#include <capsule/uuid.h>

#include "svc_internal.h"

void svc_lock(struct svc *svc)
{
    pthread_mutex_lock(&svc->lock);
}

void svc_unlock(struct svc *svc)
{
    pthread_mutex_unlock(&svc->lock);
}

uint64_t svc_current_conn(struct svc *svc)
{
    return svc->conn_hook ? svc->conn_hook() : 0;
}

void svc_set_conn_hook(struct svc *svc, uint64_t (*hook)(void))
{
    svc->conn_hook = hook;
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
    event_source_set_caller_gone(svc->events, hook);
}

void svc_set_peer_hook(struct svc *svc, int (*hook)(uint64_t *conn_id, int32_t *pid))
{
    event_source_set_peer_hook(svc->events, hook);
}

struct event_source *svc_events(struct svc *svc)
{
    return svc->events;
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

cap_result svc_save_global_locked(struct svc *svc)
{
    struct global_file gf = svc->global; /* shallow: only machines is ours */
    gf.machines = cap_alloc_zero((svc->n_machines ? svc->n_machines : 1) * sizeof(*gf.machines));
    if (!gf.machines)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    gf.n_machines = svc->n_machines;
    for (uint32_t i = 0; i < svc->n_machines; i++) {
        gf.machines[i].id = svc->machines[i]->id;
        gf.machines[i].path = svc->machines[i]->path;
    }
    size_t len = 0;
    char *text = settings_format_global(&gf, &len);
    cap_free(gf.machines);
    if (!text)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    cap_result rc = settings_write_atomic(svc->global_path, text, len);
    cap_free(text);
    return rc;
}

struct machine *svc_find_id_locked(struct svc *svc, const cap_uuid *id)
{
    for (uint32_t i = 0; i < svc->n_machines; i++)
        if (cap_uuid_equal(&svc->machines[i]->id, id))
            return svc->machines[i];
    return NULL;
}

struct machine *svc_find_path_locked(struct svc *svc, const char *path)
{
    for (uint32_t i = 0; i < svc->n_machines; i++)
        if (svc->machines[i]->path && !strcmp(svc->machines[i]->path, path))
            return svc->machines[i];
    return NULL;
}

/* Whether `dir` (DEFAULT/NAME) holds only what an interrupted create or
 * delete of ours leaves: NAME.capsule.tmp (ours, a write never renamed)
 * and an empty Logs; removes those then. Returns 1 when it removed dir. */
static int sweep_one(const char *dir, const char *name)
{
    char *tmp = cap_str_printf("%s/%s.capsule.tmp", dir, name);
    char *logs = cap_str_printf("%s/Logs", dir);
    DIR *d = opendir(dir);
    int ours = tmp && logs && d;
    for (struct dirent *e; ours && (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        struct stat st;
        char *f = cap_str_printf("%s/%s", dir, e->d_name);
        if (!f || lstat(f, &st) != 0 || st.st_uid != geteuid())
            ours = 0;
        else if (!strcmp(f, tmp))
            ours = S_ISREG(st.st_mode);
        else if (!strcmp(f, logs))
            ours = S_ISDIR(st.st_mode); /* rmdir below fails unless it is empty */
        else
            ours = 0;
        cap_str_free(f);
    }
    if (d)
        closedir(d);
    int removed = 0;
    if (ours) {
        unlink(tmp);
        rmdir(logs);
        removed = rmdir(dir) == 0;
    }
    cap_str_free(tmp);
    cap_str_free(logs);
    return removed;
}

void svc_sweep_orphans_locked(struct svc *svc)
{
    char *top = svc_machine_folder_locked(svc);
    DIR *d = top ? opendir(top) : NULL;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char *dir = cap_str_printf("%s/%s", top, e->d_name);
        char *file = dir ? cap_str_printf("%s/%s.capsule", dir, e->d_name) : NULL;
        struct stat st;
        if (file && lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
            !svc_find_path_locked(svc, file) && access(file, F_OK) != 0 &&
            sweep_one(dir, e->d_name))
            svc_log("removed '%s', left behind by a create or delete that did not finish", dir);
        cap_str_free(file);
        cap_str_free(dir);
    }
    if (d)
        closedir(d);
    cap_str_free(top);
}

int svc_name_taken_locked(struct svc *svc, const char *name, const struct machine *except)
{
    for (uint32_t i = 0; i < svc->n_machines; i++) {
        struct machine *m = svc->machines[i];
        if (m != except && m->accessible && !strcmp(m->cfg.name, name))
            return 1;
    }
    return 0;
}

char *svc_machine_folder_locked(struct svc *svc)
{
    const char *f = svc->global.default_machine_folder;
    if (!f || !*f)
        return cap_str_printf("%s/Machines", svc->home);
    if (f[0] == '/')
        return cap_str_dup(f);
    return cap_str_printf("%s/%s", svc->home, f);
}

/* Appends m to the registry (takes a reference). */
cap_result svc_add_machine_locked(struct svc *svc, struct machine *m)
{
    struct machine **a = cap_realloc(svc->machines, (svc->n_machines + 1) * sizeof(*a));
    if (!a)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    svc->machines = a;
    a[svc->n_machines++] = m;
    machine_addref(m);
    m->registered = 1;
    return CAP_OK;
}

static cap_result load_registry(struct svc *svc)
{
    struct global_file gf;
    cap_result rc = settings_read_global(svc->global_path, &gf);
    if (CAP_FAILED(rc))
        return rc;
    for (uint32_t i = 0; i < gf.n_machines && CAP_SUCCEEDED(rc); i++) {
        struct machine *m = NULL;
        rc = machine_create_from_file(svc, gf.machines[i].path, &gf.machines[i].id, 1, &m);
        if (CAP_SUCCEEDED(rc)) {
            rc = svc_add_machine_locked(svc, m);
            machine_release(m);
        }
    }
    /* Keep the global part; the machine entries now live in svc->machines. */
    for (uint32_t i = 0; i < gf.n_machines; i++)
        cap_str_free(gf.machines[i].path);
    cap_free(gf.machines);
    gf.machines = NULL;
    gf.n_machines = 0;
    svc->global = gf;
    return rc;
}



cap_result svc_create(const char *home, struct cap_registry *reg, struct svc **out)
{
    *out = NULL;
    if (!home || home[0] != '/')
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, NULL,
                             "the home folder must be an absolute path");
    struct svc *svc = NULL;
    cap_result rc = svc_create_object(&svc);
    if (CAP_FAILED(rc))
        return rc;
    svc->reg = reg;
    svc->home = cap_str_dup(home);
    svc->global_path = cap_str_printf("%s/capsule.xml", home);
    if (!svc->home || !svc->global_path)
        rc = cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    if (CAP_SUCCEEDED(rc))
        rc = event_source_create(&svc->events);
    if (CAP_SUCCEEDED(rc))
        rc = global_file_init(&svc->global);
    if (CAP_SUCCEEDED(rc)) {
        global_file_clear(&svc->global);
        svc_lock(svc);
        rc = load_registry(svc);
        if (CAP_SUCCEEDED(rc))
            svc_sweep_orphans_locked(svc);
        svc_unlock(svc);
    }
    if (CAP_FAILED(rc)) {
        struct cap_error_info ei;
        cap_error_take(&ei);
        svc_uninit(svc);
        svc_release(svc);
        cap_error_set_info(&ei);
        cap_error_info_clear(&ei);
        return rc;
    }
    *out = svc;
    return CAP_OK;
}

void svc_uninit(struct svc *svc)
{
    svc_lock(svc);
    if (svc->uninited) {
        svc_unlock(svc);
        return;
    }
    svc->uninited = 1;
    struct machine **list = svc->machines;
    uint32_t n = svc->n_machines;
    svc->machines = NULL;
    svc->n_machines = 0;
    /* End every lock; tell the sessions after dropping the lock. */
    IInternalSessionControl **ctls = cap_alloc_zero((n ? n : 1) * sizeof(*ctls));
    ISession **holders = cap_alloc_zero((n ? n : 1) * sizeof(*holders));
    for (uint32_t i = 0; i < n; i++) {
        list[i]->registered = 0;
        if (list[i]->holder)
            machine_end_lock_locked(list[i], ctls ? &ctls[i] : NULL,
                                    holders ? &holders[i] : NULL);
    }
    svc_unlock(svc);
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
    if (svc->events)
        event_source_shutdown(svc->events);
}

void svc_client_disconnected(struct svc *svc, uint64_t conn_id)
{
    svc_lock(svc);
    uint32_t n = 0;
    struct machine **locked = cap_alloc_zero((svc->n_machines ? svc->n_machines : 1) *
                                             sizeof(*locked));
    int *gone = cap_alloc_zero((svc->n_machines ? svc->n_machines : 1) * sizeof(int));
    ISession **holders = cap_alloc_zero((svc->n_machines ? svc->n_machines : 1) *
                                        sizeof(*holders));
    for (uint32_t i = 0; locked && gone && holders && i < svc->n_machines; i++) {
        struct machine *m = svc->machines[i];
        if (!m->holder)
            continue;
        machine_addref(m);
        locked[n] = m;
        gone[n] = conn_id && m->holder_conn == conn_id;
        holders[n] = m->holder;
        ISession_AddRef(m->holder);
        n++;
    }
    svc_unlock(svc);
    for (uint32_t i = 0; i < n; i++) {
        SessionState ss;
        if (!gone[i]) {
            /* A holder of another connection that no longer answers is
             * gone too (its connection ended before we were told). */
            cap_result rc = ISession_GetState(holders[i], &ss);
            gone[i] = rc == CAP_E_IPC_DISCONNECTED ||
                      rc == CAP_E_SERVICE_UNAVAILABLE;
        }
        ISession_Release(holders[i]);
        if (gone[i])
            machine_holder_died(locked[i]);
        machine_release(locked[i]);
    }
    cap_free(locked);
    cap_free(gone);
    cap_free(holders);
}

int svc_busy(struct svc *svc)
{
    int busy = 0;
    svc_lock(svc);
    for (uint32_t i = 0; i < svc->n_machines && !busy; i++) {
        struct machine *m = svc->machines[i];
        busy = (m->holder && m->lock_type == LockType_VM) ||
               (m->state != MachineState_PoweredOff && m->state != MachineState_Saved &&
                m->state != MachineState_Aborted);
    }
    svc_unlock(svc);
    return busy;
}

uint32_t svc_idle_timeout(struct svc *svc)
{
    uint32_t t;
    if (svc_env_u32("CAPSULE_SVC_IDLE_TIMEOUT", &t))
        return t;
    svc_lock(svc);
    t = svc->global.idle_timeout;
    svc_unlock(svc);
    return t;
}
