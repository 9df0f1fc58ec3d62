/*
 * service/registry.c - the registry (registry.h): HOME/capsule.xml, the
 * registered machines, finding them, registering and unregistering, and
 * the default machine folder.
 *
 * Start-up reads capsule.xml and then every machine file it lists; a
 * machine file that cannot be read makes that machine inaccessible, but a
 * global file that cannot be read stops the service (svc_create fails), so
 * that it is never overwritten by an empty registry.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capsule/mem.h>
#include <capsule/uuid.h>

#include "registry.h"

#define IFACE "IMachine"

cap_result registry_init(struct registry *r, struct svc_core *core)
{
    memset(r, 0, sizeof(*r));
    r->core = core;
    r->path = cap_str_printf("%s/capsule.xml", core->home);
    if (!r->path)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    cap_result rc = global_file_init(&r->global);
    if (CAP_SUCCEEDED(rc))
        global_file_clear(&r->global);
    return rc;
}

void registry_fini(struct registry *r)
{
    for (uint32_t i = 0; i < r->n_machines; i++)
        machine_release(r->machines[i]);
    cap_free(r->machines);
    r->machines = NULL;
    r->n_machines = 0;
    global_file_clear(&r->global);
    cap_str_free(r->path);
    r->path = NULL;
}

void registry_take_all_locked(struct registry *r, struct machine ***list, uint32_t *n)
{
    *list = r->machines;
    *n = r->n_machines;
    for (uint32_t i = 0; i < r->n_machines; i++)
        r->machines[i]->registered = 0;
    r->machines = NULL;
    r->n_machines = 0;
}

/* Appends m (takes a reference, marks it registered). */
static cap_result append(struct registry *r, struct machine *m)
{
    struct machine **a = cap_realloc(r->machines, (r->n_machines + 1) * sizeof(*a));
    if (!a)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    r->machines = a;
    a[r->n_machines++] = m;
    machine_addref(m);
    m->registered = 1;
    return CAP_OK;
}

cap_result registry_load_locked(struct registry *r)
{
    struct global_file gf;
    cap_result rc = settings_read_global(r->path, &gf);
    if (CAP_FAILED(rc))
        return rc;
    for (uint32_t i = 0; i < gf.n_machines && CAP_SUCCEEDED(rc); i++) {
        struct machine *m = NULL;
        rc = machine_create_from_file(r->core, gf.machines[i].path, &gf.machines[i].id, 1, &m);
        if (CAP_SUCCEEDED(rc)) {
            rc = append(r, m);
            machine_release(m);
        }
    }
    /* Keep the global part; the machine entries now live in r->machines. */
    for (uint32_t i = 0; i < gf.n_machines; i++)
        cap_str_free(gf.machines[i].path);
    cap_free(gf.machines);
    gf.machines = NULL;
    gf.n_machines = 0;
    r->global = gf;
    if (CAP_SUCCEEDED(rc))
        registry_sweep_orphans_locked(r);
    return rc;
}

cap_result registry_save_locked(struct registry *r)
{
    struct global_file gf = r->global; /* shallow: only machines is ours */
    gf.machines = cap_alloc_zero((r->n_machines ? r->n_machines : 1) * sizeof(*gf.machines));
    if (!gf.machines)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    gf.n_machines = r->n_machines;
    for (uint32_t i = 0; i < r->n_machines; i++) {
        gf.machines[i].id = r->machines[i]->id;
        gf.machines[i].path = r->machines[i]->path;
    }
    size_t len = 0;
    char *text = settings_format_global(&gf, &len);
    cap_free(gf.machines);
    if (!text)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    cap_result rc = settings_write_atomic(r->path, text, len);
    cap_free(text);
    return rc;
}

struct machine *registry_find_id_locked(struct registry *r, const cap_uuid *id)
{
    for (uint32_t i = 0; i < r->n_machines; i++)
        if (cap_uuid_equal(&r->machines[i]->id, id))
            return r->machines[i];
    return NULL;
}

struct machine *registry_find_path_locked(struct registry *r, const char *path)
{
    for (uint32_t i = 0; i < r->n_machines; i++)
        if (r->machines[i]->path && !strcmp(r->machines[i]->path, path))
            return r->machines[i];
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

void registry_sweep_orphans_locked(struct registry *r)
{
    char *top = registry_machine_folder_locked(r);
    DIR *d = top ? opendir(top) : NULL;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char *dir = cap_str_printf("%s/%s", top, e->d_name);
        char *file = dir ? cap_str_printf("%s/%s.capsule", dir, e->d_name) : NULL;
        struct stat st;
        if (file && lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
            !registry_find_path_locked(r, file) && access(file, F_OK) != 0 &&
            sweep_one(dir, e->d_name))
            svc_log("removed '%s', left behind by a create or delete that did not finish", dir);
        cap_str_free(file);
        cap_str_free(dir);
    }
    if (d)
        closedir(d);
    cap_str_free(top);
}

int registry_name_taken_locked(struct registry *r, const char *name, const struct machine *except)
{
    for (uint32_t i = 0; i < r->n_machines; i++) {
        struct machine *m = r->machines[i];
        if (m != except && m->accessible && !strcmp(m->obj.cfg.name, name))
            return 1;
    }
    return 0;
}

char *registry_machine_folder_locked(struct registry *r)
{
    const char *f = r->global.default_machine_folder;
    if (!f || !*f)
        return cap_str_printf("%s/Machines", r->core->home);
    if (f[0] == '/')
        return cap_str_dup(f);
    return cap_str_printf("%s/%s", r->core->home, f);
}

struct machine *registry_find_name_locked(struct registry *r, const char *name)
{
    for (uint32_t i = 0; i < r->n_machines; i++) {
        struct machine *m = r->machines[i];
        machine_refresh_locked(m);
        if (m->accessible && !strcmp(m->obj.cfg.name, name))
            return m;
    }
    return NULL;
}

cap_result registry_add_locked(struct registry *r, struct machine *m)
{
    cap_result rc = append(r, m);
    if (CAP_FAILED(rc))
        return rc;
    rc = registry_save_locked(r);
    if (CAP_FAILED(rc)) {
        r->n_machines--;
        m->registered = 0;
        machine_release(m);
    }
    return rc;
}

cap_result registry_remove_locked(struct registry *r, struct machine *p, struct machine **dropped)
{
    uint32_t i;
    *dropped = NULL;
    for (i = 0; i < r->n_machines && r->machines[i] != p; i++)
        ;
    if (i == r->n_machines)
        return cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, IFACE,
                             "the machine is not registered");
    if (p->holder || p->launch)
        return machine_busy_error(p, CAP_E_OBJECT_IN_USE);
    if (!machine_state_at_rest(p->state))
        return machine_busy_error(p, CAP_E_INVALID_VM_STATE);
    memmove(&r->machines[i], &r->machines[i + 1], (r->n_machines - i - 1) * sizeof(p));
    r->n_machines--;
    cap_result rc = registry_save_locked(r);
    if (CAP_FAILED(rc)) {
        memmove(&r->machines[i + 1], &r->machines[i], (r->n_machines - i) * sizeof(p));
        r->machines[i] = p;
        r->n_machines++;
        return rc;
    }
    p->registered = 0;
    p->obj.modified = 0;
    *dropped = p;
    return CAP_OK;
}
