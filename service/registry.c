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
    for (uint32_t i = 0; i < r->n_media; i++)
        medium_release(r->media[i]);
    cap_free(r->media);
    r->media = NULL;
    r->n_media = 0;
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

void registry_take_media_locked(struct registry *r, struct medium ***list, uint32_t *n)
{
    *list = r->media;
    *n = r->n_media;
    for (uint32_t i = 0; i < r->n_media; i++)
        r->media[i]->registered = 0;
    r->media = NULL;
    r->n_media = 0;
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

static cap_result append_medium(struct registry *r, struct medium *m)
{
    struct medium **a = cap_realloc(r->media, (r->n_media + 1) * sizeof(*a));
    if (!a)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    r->media = a;
    a[r->n_media++] = m;
    medium_addref(m);
    m->registered = 1;
    return CAP_OK;
}

/* One medium of capsule.xml: its image read now; one that cannot be read
 * is kept, Inaccessible (logged). */
static cap_result load_medium(struct registry *r, const struct medium_entry *e)
{
    enum vd_format f = VD_FORMAT_ISO;
    if (e->type != DeviceType_DVD && CAP_FAILED(vd_format_from_name(e->format, &f)))
        return cap_error_set(CAP_E_XML_ERROR, SVC_COMPONENT, NULL, "%s: medium '%s': format '%s'",
                             r->path, e->location, e->format);
    struct medium *m = NULL;
    cap_result rc = medium_create(r->core, e->location, f, e->type, &m);
    if (CAP_FAILED(rc))
        return rc;
    m->id = e->id;
    if (CAP_FAILED(medium_probe_locked(m, 0))) {
        cap_error_clear();
        svc_log("medium '%s' is inaccessible: %s", m->location, m->last_error);
    }
    rc = append_medium(r, m);
    medium_release(m);
    return rc;
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
    for (uint32_t i = 0; i < gf.n_media && CAP_SUCCEEDED(rc); i++)
        rc = load_medium(r, &gf.media[i]);
    /* Keep the global part; the machine and medium entries now live in
     * r->machines and r->media. */
    for (uint32_t i = 0; i < gf.n_media; i++) {
        cap_str_free(gf.media[i].location);
        cap_str_free(gf.media[i].format);
    }
    cap_free(gf.media);
    gf.media = NULL;
    gf.n_media = 0;
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
    gf.media = cap_alloc_zero((r->n_media ? r->n_media : 1) * sizeof(*gf.media));
    gf.n_media = r->n_media;
    for (uint32_t i = 0; gf.media && i < r->n_media; i++) {
        gf.media[i].id = r->media[i]->id;
        gf.media[i].location = r->media[i]->location;
        gf.media[i].format = (char *)medium_format_name(r->media[i]);
        gf.media[i].type = r->media[i]->type;
    }
    size_t len = 0;
    char *text = gf.media ? settings_format_global(&gf, &len) : NULL;
    cap_free(gf.machines);
    cap_free(gf.media);
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

static int mac_in(const struct machine_cfg *c, const char *mac)
{
    for (unsigned i = 0; c && i < SETTINGS_NIC_SLOTS; i++)
        if (!strcmp(c->nic[i].mac, mac))
            return 1;
    return 0;
}

void registry_new_mac_locked(struct registry *r, const struct machine_cfg *also,
                             char out[SETTINGS_MAC_LEN + 1])
{
    /* 2^24 addresses: a clash is rare, a run of them rarer; after 64 the
     * last one stands (a host with millions of adapters is not a case) */
    for (int tries = 0; tries < 64; tries++) {
        settings_mac_generate(out);
        int taken = mac_in(also, out);
        for (uint32_t i = 0; !taken && i < r->n_machines; i++)
            taken = r->machines[i]->accessible && mac_in(&r->machines[i]->obj.cfg, out);
        if (!taken)
            return;
    }
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

/* ---- the media registry -------------------------------------------------- */

struct medium *registry_find_medium_id_locked(struct registry *r, const cap_uuid *id,
                                              DeviceType type)
{
    for (uint32_t i = 0; i < r->n_media; i++)
        if ((type == DeviceType_Null || r->media[i]->type == type) &&
            cap_uuid_equal(&r->media[i]->id, id))
            return r->media[i];
    return NULL;
}

struct medium *registry_find_medium_path_locked(struct registry *r, const char *path,
                                                DeviceType type)
{
    for (uint32_t i = 0; i < r->n_media; i++)
        if ((type == DeviceType_Null || r->media[i]->type == type) &&
            !strcmp(r->media[i]->location, path))
            return r->media[i];
    return NULL;
}

cap_result registry_add_medium_locked(struct registry *r, struct medium *m)
{
    cap_result rc = append_medium(r, m);
    if (CAP_FAILED(rc))
        return rc;
    rc = registry_save_locked(r);
    if (CAP_FAILED(rc)) {
        r->n_media--;
        m->registered = 0;
        medium_release(m);
    }
    return rc;
}

cap_result registry_remove_medium_locked(struct registry *r, struct medium *m,
                                         struct medium **dropped)
{
    uint32_t i;
    *dropped = NULL;
    for (i = 0; i < r->n_media && r->media[i] != m; i++)
        ;
    if (i == r->n_media)
        return cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, "IMedium",
                             "the medium '%s' is not registered", m->location);
    if (m->busy)
        return cap_error_set(CAP_E_OBJECT_IN_USE, SVC_COMPONENT, "IMedium",
                             "the medium '%s' is in use by an operation in progress", m->location);
    cap_result rc = registry_check_unattached_locked(r, m);
    if (CAP_FAILED(rc))
        return rc;
    memmove(&r->media[i], &r->media[i + 1], (r->n_media - i - 1) * sizeof(m));
    r->n_media--;
    rc = registry_save_locked(r);
    if (CAP_FAILED(rc)) {
        memmove(&r->media[i + 1], &r->media[i], (r->n_media - i) * sizeof(m));
        r->media[i] = m;
        r->n_media++;
        return rc;
    }
    m->registered = 0;
    *dropped = m;
    return CAP_OK;
}

/* Whether machine p's settings attach the medium `id`. */
static int attaches(const struct machine *p, const cap_uuid *id)
{
    const struct machine_cfg *c = &p->obj.cfg;
    for (uint32_t i = 0; i < c->n_atts; i++)
        if (cap_uuid_equal(&c->atts[i].medium, id))
            return 1;
    return 0;
}

struct machine *registry_medium_user_locked(struct registry *r, const cap_uuid *id, int running,
                                            const struct machine *except)
{
    if (cap_uuid_is_null(id))
        return NULL;
    for (uint32_t i = 0; i < r->n_machines; i++) {
        struct machine *p = r->machines[i];
        if (p == except || !p->accessible || !attaches(p, id))
            continue;
        if (!running || !machine_state_at_rest(p->state) || p->launch)
            return p;
    }
    return NULL;
}

cap_result registry_medium_machine_ids_locked(struct registry *r, const cap_uuid *id, uint32_t *n,
                                              cap_uuid **out)
{
    *n = 0;
    *out = cap_alloc_zero((r->n_machines ? r->n_machines : 1) * sizeof(cap_uuid));
    if (!*out)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    for (uint32_t i = 0; i < r->n_machines && !cap_uuid_is_null(id); i++)
        if (r->machines[i]->accessible && attaches(r->machines[i], id))
            (*out)[(*n)++] = r->machines[i]->id;
    return CAP_OK;
}

cap_result registry_check_attached_locked(struct registry *r, const struct machine_cfg *cfg)
{
    char id[CAP_UUID_BUFSIZE];
    for (uint32_t i = 0; i < cfg->n_atts; i++) {
        const struct attachment_cfg *a = &cfg->atts[i];
        if (!cap_uuid_is_null(&a->medium) &&
            !registry_find_medium_id_locked(r, &a->medium, DeviceType_Null))
            return cap_error_set(CAP_E_OBJECT_NOT_FOUND, SVC_COMPONENT, "IMachine",
                                 "the medium {%s} attached at %s port %d device %d of '%s' is "
                                 "not registered (closed?): detach it or attach another",
                                 cap_uuid_format(&a->medium, id), a->controller, (int)a->port,
                                 (int)a->device, cfg->name);
    }
    return CAP_OK;
}

cap_result registry_check_disk_free_locked(struct registry *r, const struct medium *md,
                                           const struct machine *except)
{
    if (md->read_only || md->type != DeviceType_HardDisk)
        return CAP_OK;
    struct machine *user = registry_medium_user_locked(r, &md->id, 1, except);
    if (!user)
        return CAP_OK;
    return cap_error_set(CAP_E_OBJECT_IN_USE, SVC_COMPONENT, "IMachine",
                         "the hard disk '%s' is locked for writing by the running machine '%s': "
                         "power it off first",
                         md->location, user->obj.cfg.name);
}

cap_result registry_check_unattached_locked(struct registry *r, const struct medium *m)
{
    struct machine *user = registry_medium_user_locked(r, &m->id, 0, NULL);
    if (!user)
        return CAP_OK;
    return cap_error_set(CAP_E_OBJECT_IN_USE, SVC_COMPONENT, "IMedium",
                         "the medium '%s' is attached to the machine '%s': detach it first "
                         "(capsule storageattach '%s' ... --medium none)",
                         m->location, user->obj.cfg.name, user->obj.cfg.name);
}
