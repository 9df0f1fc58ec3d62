/*
 * service/machine_io.c - machines and their settings files: creating the
 * objects, reading, re-reading (refresh), saving, discarding, unregistering,
 * deleting, and the extra data that is written at once.
 *
 * A machine's file is only ever written through machine_write_locked
 * (settings_write_atomic: temporary file, fsync, rename, previous version
 * kept as FILE-prev), and never for a machine that is inaccessible: a file
 * we cannot read stays byte for byte as the user left it. An inaccessible
 * registered machine is re-read whenever someone looks at it (accessible,
 * accessError, the machine list), and a file that changed on disk behind
 * our back is re-read the same way, as long as no session holds the
 * machine.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capsule/mem.h>
#include <capsule/uuid.h>

#include "svc_internal.h"

#define IFACE "IMachine"

static void record_stat(struct machine *p)
{
    struct stat st;
    if (stat(p->path, &st) == 0) {
        p->file_dev = st.st_dev;
        p->file_ino = st.st_ino;
        p->file_size = st.st_size;
        p->file_mtime = st.st_mtim;
    }
}

/* Reads p's file into p (svc->lock held). On failure p is unchanged and
 * the error info is set. */
static cap_result load_file(struct machine *p, const cap_uuid *expect)
{
    struct machine_file mf;
    cap_result rc = settings_read_machine(p->path, &mf);
    if (CAP_FAILED(rc))
        return rc;
    char a[CAP_UUID_BUFSIZE], b[CAP_UUID_BUFSIZE];
    if (expect && !cap_uuid_is_null(expect) && !cap_uuid_equal(expect, &mf.id)) {
        rc = cap_error_set(CAP_E_XML_ERROR, SVC_COMPONENT, NULL,
                           "%s: the file describes machine {%s}, but {%s} is registered there",
                           p->path, cap_uuid_format(&mf.id, a), cap_uuid_format(expect, b));
        machine_file_clear(&mf);
        return rc;
    }
    struct machine_cfg saved = {0};
    rc = machine_cfg_copy(&saved, &mf.cfg);
    if (CAP_FAILED(rc)) {
        machine_file_clear(&mf);
        return rc;
    }
    machine_cfg_clear(&p->cfg);
    machine_cfg_clear(&p->saved);
    kv_clear(&p->extra);
    p->cfg = mf.cfg;
    p->saved = saved;
    p->extra = mf.extra;
    p->id = mf.id;
    if (!p->holder) {
        p->state = mf.state;
        p->last_state_change = mf.last_state_change;
    }
    memset(&mf, 0, sizeof(mf));
    p->modified = 0;
    p->ever_saved = 1;
    p->accessible = 1;
    cap_error_info_clear(&p->access_error);
    record_stat(p);
    return CAP_OK;
}

static void mark_inaccessible(struct machine *p, cap_result rc)
{
    cap_error_info_clear(&p->access_error);
    errinfo_take(rc, &p->access_error);
    if (p->accessible)
        svc_log("machine %s is inaccessible: %s", p->path, p->access_error.message);
    p->accessible = 0;
}

void machine_refresh_locked(struct machine *p)
{
    if (p->kind != MACHINE_PRIMARY || !p->registered || p->holder)
        return;
    struct stat st;
    int same = stat(p->path, &st) == 0 && st.st_dev == p->file_dev && st.st_ino == p->file_ino &&
               st.st_size == p->file_size && st.st_mtim.tv_sec == p->file_mtime.tv_sec &&
               st.st_mtim.tv_nsec == p->file_mtime.tv_nsec;
    if (same && p->accessible)
        return;
    cap_result rc = load_file(p, &p->id);
    if (CAP_FAILED(rc))
        mark_inaccessible(p, rc);
    else
        svc_log("machine %s re-read from disk", p->path);
}

cap_result machine_write_locked(struct machine *p, const struct machine_cfg *cfg)
{
    if (!p->accessible)
        return cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, IFACE,
                             "the machine's file %s is not rewritten while it is inaccessible",
                             p->path);
    struct machine_file mf = {.id = p->id, .cfg = cfg ? *cfg : p->saved, .extra = p->extra,
                              .state = p->state, .last_state_change = p->last_state_change};
    if (mf.state != MachineState_Saved && mf.state != MachineState_Aborted)
        mf.state = MachineState_PoweredOff;
    size_t len = 0;
    char *text = settings_format_machine(&mf, &len);
    if (!text)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    /* The machine's folder is made with its first file and removed again
     * when that write fails (no space, a name too long, ...), so a failed
     * create leaves nothing and the name stays free. */
    const char *slash = strrchr(p->path, '/');
    char *folder = cap_str_ndup(p->path, slash ? (size_t)(slash - p->path) : 0);
    struct stat st;
    int made = folder && *folder && stat(folder, &st) != 0;
    cap_result rc = svc_make_parent_dirs(p->path);
    if (CAP_SUCCEEDED(rc))
        rc = settings_write_atomic(p->path, text, len);
    if (CAP_FAILED(rc) && made)
        rmdir(folder); /* only if empty: settings_write_atomic removed its .tmp */
    cap_str_free(folder);
    cap_free(text);
    if (CAP_SUCCEEDED(rc)) {
        p->ever_saved = 1;
        record_stat(p);
    }
    return rc;
}

/* ---- constructors ------------------------------------------------------------- */

cap_result machine_create_new(struct svc *svc, const char *path, const char *name,
                              const char *os_type, const cap_uuid *id, int force,
                              struct machine **out)
{
    *out = NULL;
    const struct guestos_info *os = guestos_lookup(os_type && *os_type ? os_type : "Other");
    struct machine *m = machine_alloc(svc, MACHINE_PRIMARY);
    if (!m)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    cap_result rc = machine_cfg_init(&m->cfg);
    if (CAP_SUCCEEDED(rc)) {
        cap_str_free(m->cfg.name);
        cap_str_free(m->cfg.os_type);
        cap_str_free(m->cfg.cmdline);
        m->cfg.name = cap_str_dup(name);
        m->cfg.os_type = cap_str_dup(os->id);
        m->cfg.cmdline = cap_str_dup(os->cmdline);
        m->cfg.memory = os->ram;
        m->cfg.cpus = os->cpus;
        m->path = cap_str_dup(path);
        if (!m->cfg.name || !m->cfg.os_type || !m->cfg.cmdline || !m->path)
            rc = cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    }
    if (CAP_SUCCEEDED(rc))
        rc = machine_cfg_copy(&m->saved, &m->cfg);
    if (CAP_SUCCEEDED(rc) && cap_uuid_is_null(id))
        rc = cap_uuid_generate(&m->id);
    else if (CAP_SUCCEEDED(rc))
        m->id = *id;
    if (CAP_FAILED(rc)) {
        machine_release(m);
        return rc;
    }
    m->modified = 1;
    m->force_overwrite = force;
    m->last_state_change = svc_now_ms();
    *out = m;
    return CAP_OK;
}

cap_result machine_create_from_file(struct svc *svc, const char *path, const cap_uuid *id,
                                    int keep_inaccessible, struct machine **out)
{
    *out = NULL;
    struct machine *m = machine_alloc(svc, MACHINE_PRIMARY);
    if (!m || !(m->path = cap_str_dup(path))) {
        machine_release(m);
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    }
    cap_result rc = machine_cfg_init(&m->cfg);
    if (CAP_SUCCEEDED(rc))
        rc = machine_cfg_init(&m->saved);
    if (CAP_SUCCEEDED(rc)) {
        rc = load_file(m, id);
        if (CAP_FAILED(rc) && keep_inaccessible && rc != CAP_E_OUTOFMEMORY) {
            m->id = *id;
            mark_inaccessible(m, rc);
            rc = CAP_OK;
        }
    }
    if (CAP_FAILED(rc)) {
        machine_release(m);
        return rc;
    }
    *out = m;
    return CAP_OK;
}

cap_result machine_create_session(struct machine *p, struct machine **out)
{
    *out = NULL;
    struct machine *m = machine_alloc(p->svc, MACHINE_SESSION);
    if (!m)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    m->primary = p;
    machine_addref(p);
    m->id = p->id;
    m->path = cap_str_dup(p->path);
    cap_result rc = m->path ? machine_cfg_copy(&m->cfg, &p->cfg)
                            : cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    if (CAP_SUCCEEDED(rc))
        rc = machine_cfg_copy(&m->saved, &p->cfg);
    if (CAP_FAILED(rc)) {
        machine_release(m);
        return rc;
    }
    *out = m;
    return CAP_OK;
}

/* ---- saveSettings / discardSettings ------------------------------------------ */

static cap_result check_ports(const struct machine_cfg *c)
{
    for (unsigned i = 0; i < SETTINGS_SERIAL_SLOTS; i++) {
        const struct serial_cfg *a = &c->serial[i];
        if (!a->enabled)
            continue;
        if (a->mode != PortMode_Disconnected && !*a->path)
            return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                                 "serial port %u is in %s mode but has no path", i,
                                 settings_port_mode_name(a->mode));
        for (unsigned j = i + 1; j < SETTINGS_SERIAL_SLOTS; j++) {
            const struct serial_cfg *b = &c->serial[j];
            if (b->enabled && a->io_base < b->io_base + 8 && b->io_base < a->io_base + 8)
                return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                                     "serial ports %u (0x%x) and %u (0x%x) overlap", i,
                                     a->io_base, j, b->io_base);
        }
    }
    return CAP_OK;
}

static cap_result not_mutable(struct machine *m)
{
    return cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, IFACE,
                         "the machine '%s' is not mutable: lock it with a write-lock session and "
                         "use the session's machine", m->cfg.name);
}

cap_result machine_SaveSettings(IMachine *self)
{
    struct machine *m = machine_from_IMachine(self);
    struct machine *p = machine_shared(m);
    cap_result rc = CAP_OK;
    int fire = 0;
    svc_lock(m->svc);
    if (!machine_mutable_locked(m)) {
        rc = not_mutable(m);
        goto out;
    }
    if (!m->modified && p->ever_saved)
        goto out;
    if (CAP_FAILED(rc = check_ports(&m->cfg)))
        goto out;
    if (m->kind == MACHINE_PRIMARY && !p->ever_saved && !p->force_overwrite &&
        access(p->path, F_OK) == 0) {
        rc = cap_error_set(CAP_E_OBJECT_EXISTS, SVC_COMPONENT, IFACE,
                           "the settings file '%s' already exists", p->path);
        goto out;
    }
    if (m->kind == MACHINE_SESSION && svc_name_taken_locked(m->svc, m->cfg.name, p)) {
        rc = cap_error_set(CAP_E_OBJECT_EXISTS, SVC_COMPONENT, IFACE,
                           "a machine named '%s' is already registered", m->cfg.name);
        goto out;
    }
    if (CAP_FAILED(rc = machine_write_locked(p, &m->cfg)))
        goto out;
    if (CAP_FAILED(rc = machine_cfg_copy(&m->saved, &m->cfg)))
        goto out;
    if (m != p && (CAP_FAILED(rc = machine_cfg_copy(&p->cfg, &m->cfg)) ||
                   CAP_FAILED(rc = machine_cfg_copy(&p->saved, &m->cfg))))
        goto out;
    m->modified = 0;
    p->force_overwrite = 0;
    fire = p->registered;
out:
    svc_unlock(m->svc);
    if (fire)
        events_machine_data(svc_events(m->svc), &p->id);
    return rc;
}

cap_result machine_DiscardSettings(IMachine *self)
{
    struct machine *m = machine_from_IMachine(self);
    svc_lock(m->svc);
    cap_result rc = machine_mutable_locked(m) ? machine_cfg_copy(&m->cfg, &m->saved)
                                              : not_mutable(m);
    if (CAP_SUCCEEDED(rc))
        m->modified = !machine_shared(m)->ever_saved;
    svc_unlock(m->svc);
    return rc;
}

/* ---- unregister / deleteConfig ------------------------------------------------- */

cap_result machine_Unregister(IMachine *self)
{
    struct machine *p = machine_shared(machine_from_IMachine(self));
    struct svc *svc = p->svc;
    cap_result rc = CAP_OK;
    uint32_t i;
    svc_lock(svc);
    for (i = 0; i < svc->n_machines && svc->machines[i] != p; i++)
        ;
    if (i == svc->n_machines)
        rc = cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, IFACE,
                           "the machine is not registered");
    else if (p->holder)
        rc = cap_error_set(CAP_E_OBJECT_IN_USE, SVC_COMPONENT, IFACE,
                           "the machine is locked by a session (pid %u); unlock it first",
                           (unsigned)p->holder_pid);
    else if (p->state != MachineState_PoweredOff && p->state != MachineState_Saved &&
             p->state != MachineState_Aborted)
        rc = cap_error_set(CAP_E_INVALID_VM_STATE, SVC_COMPONENT, IFACE,
                           "the machine is running; power it off first");
    if (CAP_FAILED(rc)) {
        svc_unlock(svc);
        return rc;
    }
    memmove(&svc->machines[i], &svc->machines[i + 1], (svc->n_machines - i - 1) * sizeof(p));
    svc->n_machines--;
    rc = svc_save_global_locked(svc);
    if (CAP_FAILED(rc)) {
        memmove(&svc->machines[i + 1], &svc->machines[i], (svc->n_machines - i) * sizeof(p));
        svc->machines[i] = p;
        svc->n_machines++;
        svc_unlock(svc);
        return rc;
    }
    p->registered = 0;
    p->modified = 0;
    svc_unlock(svc);
    events_machine_registered(svc_events(svc), &p->id, 0);
    machine_release(p); /* the registry's reference */
    return CAP_OK;
}

struct delete_job {
    struct machine *m;
    struct progress *progress;
    char *path;
};

/* Removes one file; ENOENT is fine. Keeps the first failure in *ei. */
static void remove_file(const char *path, struct cap_error_info *ei)
{
    if (unlink(path) == 0 || errno == ENOENT || ei->message)
        return;
    ei->result = CAP_E_FILE_ERROR;
    ei->message = cap_str_printf("cannot delete '%s': %s", path, strerror(errno));
    ei->component = cap_str_dup(SVC_COMPONENT);
}

static void *delete_thread(void *arg)
{
    struct delete_job *j = arg;
    struct cap_error_info ei = {0};
    const char *suffixes[] = {"", "-prev", ".tmp", "-prev.tmp"};
    for (unsigned i = 0; i < 4; i++) {
        char *f = cap_str_printf("%s%s", j->path, suffixes[i]);
        if (f)
            remove_file(f, &ei);
        cap_str_free(f);
    }
    progress_next_op(j->progress, "Deleting logs");
    const char *slash = strrchr(j->path, '/');
    char *folder = cap_str_ndup(j->path, slash ? (size_t)(slash - j->path) : 0);
    char *logs = folder ? cap_str_printf("%s/Logs", folder) : NULL;
    DIR *d = logs ? opendir(logs) : NULL;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        char *f = cap_str_printf("%s/%s", logs, e->d_name);
        if (f)
            remove_file(f, &ei);
        cap_str_free(f);
    }
    if (d)
        closedir(d);
    if (logs)
        rmdir(logs);
    if (folder)
        rmdir(folder); /* only if empty: the user's other files stay */
    progress_complete(j->progress, ei.message ? ei.result : CAP_OK, ei.message ? &ei : NULL);
    cap_error_info_clear(&ei);
    cap_str_free(folder);
    cap_str_free(logs);
    cap_str_free(j->path);
    progress_release(j->progress);
    machine_release(j->m);
    cap_free(j);
    return NULL;
}

cap_result machine_DeleteConfig(IMachine *self, IProgress **out)
{
    struct machine *p = machine_shared(machine_from_IMachine(self));
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    svc_lock(p->svc);
    int registered = p->registered;
    char *path = cap_str_dup(p->path);
    if (!registered)
        p->ever_saved = 0;
    svc_unlock(p->svc);
    if (registered) {
        cap_str_free(path);
        return cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, IFACE,
                             "the machine is still registered; unregister it first");
    }
    struct delete_job *j = cap_alloc_zero(sizeof(*j));
    char *desc = cap_str_printf("Deleting the files of machine %s", path ? path : "");
    cap_result rc = (!j || !path || !desc)
                        ? cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory")
                        : progress_create(desc, (ISupports *)&p->IMachine_iface, CAP_FALSE, 2,
                                          "Deleting settings files", &j->progress);
    cap_str_free(desc);
    pthread_t t;
    pthread_attr_t attr;
    if (CAP_SUCCEEDED(rc)) {
        j->m = p;
        machine_addref(p);
        j->path = path;
        path = NULL;
        *out = progress_iface(j->progress);
        IProgress_AddRef(*out);
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, delete_thread, j) != 0)
            delete_thread(j); /* no thread: do the work here */
        pthread_attr_destroy(&attr);
        return CAP_OK;
    }
    cap_str_free(path);
    if (j)
        progress_release(j->progress);
    cap_free(j);
    return rc;
}

/* ---- extra data ------------------------------------------------------------------ */

cap_result machine_GetExtraData(IMachine *self, const char *key, char **value)
{
    struct machine *p = machine_shared(machine_from_IMachine(self));
    if (!key || !value)
        return CAP_E_POINTER;
    svc_lock(p->svc);
    cap_result rc = p->accessible
                        ? svc_return_str(kv_get(&p->extra, key), value)
                        : cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, IFACE,
                                        "the machine is inaccessible");
    svc_unlock(p->svc);
    return rc;
}

cap_result machine_SetExtraData(IMachine *self, const char *key, const char *value)
{
    struct machine *p = machine_shared(machine_from_IMachine(self));
    if (!key || !*key || !settings_text_ok(key))
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "the extra data key must be non-empty UTF-8 text");
    if (!value)
        value = "";
    if (!settings_text_ok(value))
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "the extra data value is not valid UTF-8 text");
    svc_lock(p->svc);
    if (!p->accessible) {
        svc_unlock(p->svc);
        return cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, IFACE,
                             "the machine is inaccessible");
    }
    struct kv_list old = {0};
    cap_result rc = kv_copy(&old, &p->extra);
    if (CAP_SUCCEEDED(rc))
        rc = kv_set(&p->extra, key, value);
    if (CAP_SUCCEEDED(rc) && p->ever_saved) {
        rc = machine_write_locked(p, NULL);
        if (CAP_FAILED(rc)) {
            kv_clear(&p->extra);
            p->extra = old;
            memset(&old, 0, sizeof(old));
        }
    }
    kv_clear(&old);
    svc_unlock(p->svc);
    if (CAP_SUCCEEDED(rc))
        events_extra_data(svc_events(p->svc), &p->id, key, value);
    return rc;
}
