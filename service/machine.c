/*
 * service/machine.c - a machine as the service keeps it (machine.h): the
 * object's common part, creating machines, reading, re-reading (refresh),
 * writing and deleting the settings file, the state, and the extra data
 * that is written at once.
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
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capsule/mem.h>
#include <capsule/object.h>
#include <capsule/uuid.h>

#include "errinfo.h"
#include "guestos.h"
#include "machine.h"

#define IFACE "IMachine"

int machine_state_at_rest(MachineState s)
{
    return s == MachineState_PoweredOff || s == MachineState_Saved || s == MachineState_Aborted;
}

char *machine_busy_text_locked(const struct machine *m, int *running)
{
    int vm = (m->holder && m->lock_type == LockType_VM) || m->launch;
    uint32_t pid = m->holder ? m->holder_pid : (uint32_t)m->launch_pid;
    char who[64];
    if (m->frontend[0] && pid)
        snprintf(who, sizeof(who), " (frontend %s, pid %u)", m->frontend, (unsigned)pid);
    else if (pid)
        snprintf(who, sizeof(who), " (pid %u)", (unsigned)pid);
    else
        who[0] = '\0';
    if (running)
        *running = vm || !machine_state_at_rest(m->state);
    if (vm)
        return cap_str_printf("%s%s", m->state == MachineState_Starting ? "starting" : "running",
                              who);
    if (m->holder)
        return cap_str_printf("being changed by another session%s", who);
    if (!machine_state_at_rest(m->state))
        return cap_str_printf("%s", m->state == MachineState_Starting ? "starting" : "running");
    return NULL;
}

cap_result machine_busy_error(const struct machine *m, cap_result rc)
{
    int running = 0;
    char *busy = machine_busy_text_locked(m, &running);
    rc = cap_error_set(rc, SVC_COMPONENT, IFACE, "the machine '%s' is %s%s", m->obj.cfg.name,
                       busy ? busy : "in use",
                       running ? "; power it off first" : "; try again when that session ends");
    cap_str_free(busy);
    return rc;
}

/* ---- the object ------------------------------------------------------------ */

struct machine_obj *machine_obj_from_IMachine(IMachine *iface)
{
    return CAP_CONTAINER_OF(iface, struct machine_obj, IMachine_iface);
}

void machine_obj_addref(struct machine_obj *o)
{
    IMachine_AddRef(&o->IMachine_iface);
}

void machine_obj_release(struct machine_obj *o)
{
    if (o)
        IMachine_Release(&o->IMachine_iface);
}

void machine_addref(struct machine *m)
{
    machine_obj_addref(&m->obj);
}

void machine_release(struct machine *m)
{
    if (m)
        machine_obj_release(&m->obj);
}

void machine_obj_init(struct machine_obj *o, struct svc_core *core, enum machine_kind kind)
{
    o->IMachine_iface.vtbl = core->machine_vtbl;
    o->IInternalMachineControl_iface.vtbl = core->control_vtbl;
    cap_refcnt_init(&o->ref, 1);
    o->kind = kind;
    o->core = core;
    svc_core_hold(core);
}

void machine_obj_fini(struct machine_obj *o)
{
    machine_cfg_clear(&o->cfg);
    machine_cfg_clear(&o->saved);
    if (o->core)
        svc_core_drop(o->core);
}

static struct machine *machine_alloc(struct svc_core *core)
{
    struct machine *m = cap_alloc_zero(sizeof(*m));
    if (!m)
        return NULL;
    machine_obj_init(&m->obj, core, MACHINE_PRIMARY);
    m->obj.machine = m;
    m->accessible = 1;
    m->state = MachineState_PoweredOff;
    m->session_state = SessionState_Unlocked;
    return m;
}

void machine_destroy(struct machine *m)
{
    kv_clear(&m->extra);
    cap_str_free(m->abort_reason);
    cap_error_info_clear(&m->access_error);
    cap_str_free(m->path);
    machine_obj_fini(&m->obj);
    cap_free(m);
}

char *machine_log_folder(const struct machine *m)
{
    const char *slash = strrchr(m->path, '/');
    return cap_str_printf("%.*s/Logs", (int)(slash ? slash - m->path : 0), m->path);
}

cap_result machine_file_name(const char *name, const char *iface, char **out)
{
    *out = NULL;
    char *safe = cap_str_dup(name ? name : "");
    if (!safe)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    for (char *p = safe; *p; p++)
        if ((unsigned char)*p < 0x20 || strchr("/\\:*?\"<>|", *p))
            *p = '_';
    if (!strcmp(safe, ".") || !strcmp(safe, ".."))
        safe[0] = '_';
    /* NAME.capsule-prev.tmp is the longest file the folder will hold. */
    if (strlen(safe) + strlen(".capsule-prev.tmp") > SVC_NAME_MAX) {
        size_t n = strlen(safe);
        cap_str_free(safe);
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, iface,
                             "the machine name is %zu bytes long; at most %zu fit in its settings "
                             "file's name",
                             n, SVC_NAME_MAX - strlen(".capsule-prev.tmp"));
    }
    *out = safe;
    return CAP_OK;
}

/* Renames `from` to `to` (both in folder `dir`); ENOENT is fine when
 * `optional`. */
static int rename_in(const char *dir, const char *from, const char *to, int optional)
{
    char *a = cap_str_printf("%s/%s", dir, from), *b = cap_str_printf("%s/%s", dir, to);
    int r = a && b ? rename(a, b) : -1;
    if (r != 0 && optional && errno == ENOENT)
        r = 0;
    cap_str_free(a);
    cap_str_free(b);
    return r;
}

cap_result machine_move_files_locked(struct machine *m, const char *old_name, const char *new_name,
                                     int *moved)
{
    char *olds = NULL, *news = NULL, *dir = NULL, *newdir = NULL, *newpath = NULL;
    char *oldfile = NULL, *newfile = NULL, *oldprev = NULL, *newprev = NULL;
    cap_result rc = CAP_OK;
    *moved = 0;
    if (CAP_FAILED(machine_file_name(old_name, IFACE, &olds))) {
        cap_error_clear(); /* a name no folder was made for: nothing to move */
        goto out;
    }
    if (CAP_FAILED(rc = machine_file_name(new_name, IFACE, &news)) || !strcmp(olds, news))
        goto out;
    const char *slash = strrchr(m->path, '/');
    dir = cap_str_ndup(m->path, slash ? (size_t)(slash - m->path) : 0);
    oldfile = cap_str_printf("%s.capsule", olds);
    newfile = cap_str_printf("%s.capsule", news);
    oldprev = cap_str_printf("%s.capsule-prev", olds);
    newprev = cap_str_printf("%s.capsule-prev", news);
    if (!dir || !oldfile || !newfile || !oldprev || !newprev) {
        rc = cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
        goto out;
    }
    const char *dslash = strrchr(dir, '/');
    if (!dslash || dslash == dir || strcmp(dslash + 1, olds) || strcmp(slash + 1, oldfile))
        goto out; /* not FOLDER/OLD/OLD.capsule: the user chose its place */
    newdir = cap_str_printf("%.*s/%s", (int)(dslash - dir), dir, news);
    newpath = newdir ? cap_str_printf("%s/%s", newdir, newfile) : NULL;
    if (!newpath) {
        rc = cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
        goto out;
    }
    struct stat st;
    if (lstat(newdir, &st) == 0) {
        rc = cap_error_set(CAP_E_OBJECT_EXISTS, SVC_COMPONENT, IFACE,
                           "cannot rename the machine's folder '%s' to '%s': that exists", dir,
                           newdir);
        goto out;
    }
    if (rename(dir, newdir) != 0) {
        rc = cap_error_set(CAP_E_FILE_ERROR, SVC_COMPONENT, IFACE,
                           "cannot rename the machine's folder '%s' to '%s': %s", dir, newdir,
                           strerror(errno));
        goto out;
    }
    if (rename_in(newdir, oldfile, newfile, 0) != 0) {
        rc = cap_error_set(CAP_E_FILE_ERROR, SVC_COMPONENT, IFACE,
                           "cannot rename the settings file '%s/%s' to '%s': %s", newdir, oldfile,
                           newfile, strerror(errno));
        if (rename(newdir, dir) != 0)
            svc_log("cannot move '%s' back to '%s': %s", newdir, dir, strerror(errno));
        goto out;
    }
    if (rename_in(newdir, oldprev, newprev, 1) != 0)
        svc_log("cannot rename '%s/%s' to '%s': %s", newdir, oldprev, newprev, strerror(errno));
    svc_log("machine folder '%s' renamed to '%s'", dir, newdir);
    cap_str_free(m->path);
    m->path = newpath;
    newpath = NULL;
    *moved = 1;
out:
    cap_str_free(olds);
    cap_str_free(news);
    cap_str_free(dir);
    cap_str_free(newdir);
    cap_str_free(newpath);
    cap_str_free(oldfile);
    cap_str_free(newfile);
    cap_str_free(oldprev);
    cap_str_free(newprev);
    return rc;
}

/* ---- the settings file ------------------------------------------------------- */

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

/* Reads p's file into p (the service lock held). On failure p is unchanged and
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
    machine_cfg_clear(&p->obj.cfg);
    machine_cfg_clear(&p->obj.saved);
    kv_clear(&p->extra);
    p->obj.cfg = mf.cfg;
    p->obj.saved = saved;
    p->extra = mf.extra;
    p->id = mf.id;
    if (!p->holder) {
        p->state = mf.state;
        p->last_state_change = mf.last_state_change;
        cap_str_free(p->abort_reason);
        p->abort_reason = mf.abort_reason; /* taken: mf is zeroed below */
        mf.abort_reason = NULL;
    }
    cap_str_free(mf.abort_reason);
    memset(&mf, 0, sizeof(mf));
    p->obj.modified = 0;
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
    if (!p->registered || p->holder)
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
    struct machine_file mf = {.id = p->id,
                              .cfg = cfg ? *cfg : p->obj.saved,
                              .extra = p->extra,
                              .state = p->state,
                              .last_state_change = p->last_state_change,
                              .abort_reason = p->abort_reason};
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

int machine_set_state_locked(struct machine *p, MachineState s)
{
    if (p->state == s)
        return 0;
    p->state = s;
    p->last_state_change = svc_now_ms();
    if (s == MachineState_Starting) { /* a new run */
        cap_str_free(p->abort_reason);
        p->abort_reason = NULL;
    }
    if (machine_state_at_rest(s) && p->accessible && p->ever_saved) {
        cap_result rc = machine_write_locked(p, NULL);
        if (CAP_FAILED(rc))
            svc_log("cannot record the state of %s: %s", p->path,
                    cap_error_peek_message() ? cap_error_peek_message() : "?");
    }
    return 1;
}

void machine_set_abort_reason_locked(struct machine *p, const char *reason)
{
    char *copy = reason ? cap_str_dup(reason) : NULL;
    if (reason && !copy) {
        svc_log("cannot record why %s aborted: out of memory", p->path);
        return;
    }
    cap_str_free(p->abort_reason);
    p->abort_reason = copy;
    /* Before the state says Aborted the reason waits for it, which writes both. */
    if (p->state == MachineState_Aborted && p->accessible && p->ever_saved &&
        CAP_FAILED(machine_write_locked(p, NULL)))
        svc_log("cannot record why %s aborted: %s", p->path,
                cap_error_peek_message() ? cap_error_peek_message() : "?");
    if (reason)
        svc_log("machine %s aborted: %s", p->path, reason);
}

const char *machine_abort_reason_locked(const struct machine *p)
{
    return p->state == MachineState_Aborted ? p->abort_reason : NULL;
}

/* ---- constructors ---------------------------------------------------------- */

cap_result machine_create_new(struct svc_core *core, const char *path, const char *name,
                              const char *os_type, const cap_uuid *id, int force,
                              struct machine **out)
{
    *out = NULL;
    const struct guestos_info *os = guestos_lookup(os_type && *os_type ? os_type : "Other");
    struct machine *m = machine_alloc(core);
    if (!m)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    cap_result rc = machine_cfg_init(&m->obj.cfg);
    if (CAP_SUCCEEDED(rc)) {
        cap_str_free(m->obj.cfg.name);
        cap_str_free(m->obj.cfg.os_type);
        cap_str_free(m->obj.cfg.cmdline);
        m->obj.cfg.name = cap_str_dup(name);
        m->obj.cfg.os_type = cap_str_dup(os->id);
        m->obj.cfg.cmdline = cap_str_dup(os->cmdline);
        m->obj.cfg.memory = os->ram;
        m->obj.cfg.cpus = os->cpus;
        /* VirtualBox's new machine: adapter 1 on NAT, an 82540EM (its
         * MAC: the caller's, unique among the registered machines) */
        m->obj.cfg.nic[0].enabled = CAP_TRUE;
        m->obj.cfg.nic[0].attachment = NetworkAttachmentType_NAT;
        m->path = cap_str_dup(path);
        if (!m->obj.cfg.name || !m->obj.cfg.os_type || !m->obj.cfg.cmdline || !m->path)
            rc = cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    }
    if (CAP_SUCCEEDED(rc))
        rc = machine_cfg_copy(&m->obj.saved, &m->obj.cfg);
    if (CAP_SUCCEEDED(rc) && cap_uuid_is_null(id))
        rc = cap_uuid_generate(&m->id);
    else if (CAP_SUCCEEDED(rc))
        m->id = *id;
    if (CAP_FAILED(rc)) {
        machine_release(m);
        return rc;
    }
    m->obj.modified = 1;
    m->force_overwrite = force;
    m->last_state_change = svc_now_ms();
    *out = m;
    return CAP_OK;
}

cap_result machine_create_from_file(struct svc_core *core, const char *path, const cap_uuid *id,
                                    int keep_inaccessible, struct machine **out)
{
    *out = NULL;
    struct machine *m = machine_alloc(core);
    if (!m || !(m->path = cap_str_dup(path))) {
        machine_release(m);
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    }
    cap_result rc = machine_cfg_init(&m->obj.cfg);
    if (CAP_SUCCEEDED(rc))
        rc = machine_cfg_init(&m->obj.saved);
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

/* ---- saveSettings of a machine not yet registered ------------------------------- */

cap_result machine_save_locked(struct machine *p, int *fire)
{
    cap_result rc;
    *fire = 0;
    if (!p->obj.modified && p->ever_saved)
        return CAP_OK;
    if (CAP_FAILED(rc = machine_cfg_check(&p->obj.cfg)))
        return rc;
    if (!p->ever_saved && !p->force_overwrite && access(p->path, F_OK) == 0)
        return cap_error_set(CAP_E_OBJECT_EXISTS, SVC_COMPONENT, IFACE,
                             "the settings file '%s' already exists", p->path);
    if (CAP_FAILED(rc = machine_write_locked(p, &p->obj.cfg)))
        return rc;
    if (CAP_FAILED(rc = machine_cfg_copy(&p->obj.saved, &p->obj.cfg)))
        return rc;
    p->obj.modified = 0;
    p->force_overwrite = 0;
    *fire = p->registered;
    return CAP_OK;
}

/* ---- deleteConfig ------------------------------------------------------------ */

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

cap_result machine_delete_files(struct machine *p, IProgress **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    svc_core_lock(p->obj.core);
    int registered = p->registered;
    char *path = cap_str_dup(p->path);
    if (!registered)
        p->ever_saved = 0;
    svc_core_unlock(p->obj.core);
    if (registered) {
        cap_str_free(path);
        return cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, IFACE,
                             "the machine is still registered; unregister it first");
    }
    struct delete_job *j = cap_alloc_zero(sizeof(*j));
    char *desc = cap_str_printf("Deleting the files of machine %s", path ? path : "");
    cap_result rc = (!j || !path || !desc)
                        ? cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory")
                        : progress_create(desc, (ISupports *)&p->obj.IMachine_iface, CAP_FALSE, 2,
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

cap_result machine_get_extra(struct machine *p, const char *key, char **value)
{
    if (!key || !value)
        return CAP_E_POINTER;
    svc_core_lock(p->obj.core);
    cap_result rc = p->accessible ? svc_return_str(kv_get(&p->extra, key), value)
                                  : cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, IFACE,
                                                  "the machine is inaccessible");
    svc_core_unlock(p->obj.core);
    return rc;
}

cap_result machine_set_extra(struct machine *p, const char *key, const char *value)
{
    if (!key || !*key || !settings_text_ok(key))
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "the extra data key must be non-empty UTF-8 text");
    if (!value)
        value = "";
    if (!settings_text_ok(value))
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "the extra data value is not valid UTF-8 text");
    svc_core_lock(p->obj.core);
    if (!p->accessible) {
        svc_core_unlock(p->obj.core);
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
    svc_core_unlock(p->obj.core);
    if (CAP_SUCCEEDED(rc))
        events_extra_data(p->obj.core->events, &p->id, key, value);
    return rc;
}
