/*
 * service/imedium.c - IMedium and the media methods of ICapsule
 * (imedium.h): creating, opening, finding, closing and deleting media, and
 * the background jobs that write and remove image files.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/uuid.h>

#include "imedium.h"
#include "progress.h"
#include "registry.h"

#define IFACE      "IMedium"
#define COPY_CHUNK (1024u * 1024u) /* cloneTo's unit (a VDI block) */

static struct medium *impl(IMedium *iface)
{
    return CAP_CONTAINER_OF(iface, struct medium, IMedium_iface);
}

struct medium *medium_from_foreign(IMedium *iface)
{
    return iface && iface->vtbl == &imedium_vtbl ? impl(iface) : NULL;
}

static cap_result oom(void)
{
    return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
}

static const struct cap_qi_entry medium_qi[] = {
    CAP_QI_ENTRY(IID_IMedium, struct medium, IMedium_iface),
    CAP_QI_END,
};

static cap_result md_QueryInterface(IMedium *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(impl(self), medium_qi, iid, out);
}

static uint32_t md_AddRef(IMedium *self)
{
    return cap_refcnt_inc(&impl(self)->ref);
}

static uint32_t md_Release(IMedium *self)
{
    return medium_release(impl(self));
}

/* ---- attributes ---------------------------------------------------------- */

static cap_result md_GetId(IMedium *self, cap_uuid *out)
{
    struct medium *m = impl(self);
    if (!out)
        return CAP_E_POINTER;
    svc_core_lock(m->core);
    *out = m->id;
    svc_core_unlock(m->core);
    return CAP_OK;
}

static cap_result md_GetLocation(IMedium *self, char **out)
{
    return svc_return_str(impl(self)->location, out);
}

static cap_result md_GetName(IMedium *self, char **out)
{
    return svc_return_str(medium_name(impl(self)), out);
}

static cap_result md_GetFormat(IMedium *self, char **out)
{
    return svc_return_str(medium_format_name(impl(self)), out);
}

static cap_result md_GetState(IMedium *self, MediumState *out)
{
    struct medium *m = impl(self);
    if (!out)
        return CAP_E_POINTER;
    svc_core_lock(m->core);
    medium_refresh_locked(m);
    *out = m->state;
    /* A running VM's drives are locked while it runs (storage.h). */
    if (m->state == MediumState_Created && m->registered &&
        registry_medium_user_locked(m->core->registry, &m->id, 1, NULL))
        *out = m->read_only || m->type != DeviceType_HardDisk ? MediumState_LockedRead
                                                              : MediumState_LockedWrite;
    svc_core_unlock(m->core);
    return CAP_OK;
}

#define GETTER(name, type, expr)                                                                   \
    static cap_result md_Get##name(IMedium *self, type *out)                                       \
    {                                                                                              \
        struct medium *m = impl(self);                                                             \
        if (!out)                                                                                  \
            return CAP_E_POINTER;                                                                  \
        svc_core_lock(m->core);                                                                    \
        *out = (expr);                                                                             \
        svc_core_unlock(m->core);                                                                  \
        return CAP_OK;                                                                             \
    }

GETTER(Size, int64_t, (int64_t)m->size)
GETTER(LogicalSize, int64_t, (int64_t)m->logical_size)
GETTER(DeviceType, DeviceType, m->type)
GETTER(Variant, MediumVariant, m->variant)
GETTER(ReadOnly, cap_bool, m->read_only)

static cap_result md_GetLastAccessError(IMedium *self, char **out)
{
    struct medium *m = impl(self);
    svc_core_lock(m->core);
    cap_result rc = svc_return_str(m->last_error, out);
    svc_core_unlock(m->core);
    return rc;
}

static cap_result md_GetMachineIds(IMedium *self, uint32_t *n, cap_uuid **out)
{
    struct medium *m = impl(self);
    if (!n || !out)
        return CAP_E_POINTER;
    svc_core_lock(m->core);
    cap_result rc = registry_medium_machine_ids_locked(m->core->registry, &m->id, n, out);
    svc_core_unlock(m->core);
    return rc;
}

/* ---- background jobs ------------------------------------------------------ */

struct job {
    struct medium *m;      /* the medium written or deleted (strong) */
    struct medium *source; /* cloneTo: the medium read (strong), else NULL */
    struct progress *progress;
    uint64_t size;
    enum vd_variant variant;
};

/* Starts fn(j) on a detached thread (or here if none can be made) and
 * hands out j's progress. */
static void start_job(struct job *j, void *(*fn)(void *), IProgress **out)
{
    pthread_t t;
    pthread_attr_t attr;
    svc_core_lock(j->m->core);
    j->m->core->media_jobs++; /* the service does not idle out meanwhile */
    svc_core_unlock(j->m->core);
    *out = progress_iface(j->progress);
    IProgress_AddRef(*out);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, fn, j) != 0)
        fn(j);
    pthread_attr_destroy(&attr);
}

/* Frees a job that never started (its progress not handed out), keeping
 * the thread's error info. */
static void drop_job(struct job *j)
{
    struct cap_error_info ei;
    cap_error_take(&ei);
    progress_release(j->progress);
    medium_release(j->m);
    if (j->source)
        medium_release(j->source);
    cap_free(j);
    cap_error_set_info(&ei);
    cap_error_info_clear(&ei);
}

static void end_job(struct job *j, cap_result rc)
{
    struct cap_error_info ei = {0};
    svc_core_lock(j->m->core);
    j->m->core->media_jobs--;
    svc_core_unlock(j->m->core);
    if (CAP_FAILED(rc))
        cap_error_take(&ei);
    if (CAP_FAILED(rc) && !ei.message)
        ei.message = cap_str_dup("the operation failed");
    progress_complete(j->progress, rc, CAP_FAILED(rc) ? &ei : NULL);
    cap_error_info_clear(&ei);
    progress_release(j->progress);
    medium_release(j->m);
    if (j->source)
        medium_release(j->source);
    cap_free(j);
}

/* A job for m (and source), with a progress of one operation. */
static cap_result new_job(struct medium *m, struct medium *source, const char *what,
                          struct job **out)
{
    struct job *j = cap_alloc_zero(sizeof(*j));
    char *desc = cap_str_printf("%s %s", what, m->location);
    cap_result rc = (!j || !desc) ? oom()
                                  : progress_create(desc, (ISupports *)&m->IMedium_iface, CAP_FALSE,
                                                    1, desc, &j->progress);
    cap_str_free(desc);
    if (CAP_FAILED(rc)) {
        cap_free(j);
        return rc;
    }
    j->m = m;
    medium_addref(m);
    j->source = source;
    if (source)
        medium_addref(source);
    *out = j;
    return CAP_OK;
}

/* After m's image was written: its properties and ID (a VDI's own, else a
 * random one), then registered. On failure the image is removed and m is
 * NotCreated again. Service lock held. */
static cap_result finish_created_locked(struct medium *m)
{
    cap_uuid id = {{0}};
    cap_result rc = m->core->uninited ? cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT,
                                                      IFACE, "the service is shutting down")
                                      : medium_probe_locked(m, 1);
    if (CAP_SUCCEEDED(rc) && cap_uuid_is_null(&m->id)) {
        rc = cap_uuid_generate(&id);
        m->id = id;
    }
    if (CAP_SUCCEEDED(rc))
        rc = registry_add_medium_locked(m->core->registry, m);
    if (CAP_FAILED(rc)) {
        unlink(m->location);
        m->state = MediumState_NotCreated;
        m->size = m->logical_size = 0;
        memset(&m->id, 0, sizeof(m->id));
    }
    return rc;
}

/* Drops the service lock keeping the thread's error info. */
static void unlock_keeping_error(struct svc_core *core)
{
    struct cap_error_info ei;
    cap_error_take(&ei);
    svc_core_unlock(core);
    cap_error_set_info(&ei);
    cap_error_info_clear(&ei);
}

/* The end of a create or clone job (lock held, busy cleared): m registered
 * if its image was written (rc), else NotCreated again; then unlocks. */
static cap_result settle_and_unlock(struct medium *m, cap_result rc)
{
    if (CAP_SUCCEEDED(rc))
        rc = finish_created_locked(m);
    else
        m->state = MediumState_NotCreated;
    unlock_keeping_error(m->core);
    return rc;
}

static void *create_thread(void *arg)
{
    struct job *j = arg;
    struct medium *m = j->m;
    progress_set_op_percent(j->progress, 0);
    cap_result rc = vd_create(m->location, m->format, j->size, j->variant, NULL);
    if (CAP_SUCCEEDED(rc))
        progress_set_op_percent(j->progress, 99);
    svc_core_lock(m->core);
    m->busy = 0;
    rc = settle_and_unlock(m, rc);
    if (CAP_SUCCEEDED(rc))
        svc_log("created medium '%s' (%s, %llu bytes)", m->location, medium_format_name(m),
                (unsigned long long)j->size);
    end_job(j, rc);
    return NULL;
}

static cap_result not_created_error(const struct medium *m)
{
    return cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, IFACE,
                         "the medium '%s' already has storage (or is being created)", m->location);
}

static enum vd_variant to_vd_variant(MediumVariant v)
{
    return v == MediumVariant_Fixed ? VD_VARIANT_FIXED : VD_VARIANT_DYNAMIC;
}

static cap_result check_variant(MediumVariant v)
{
    if (v != MediumVariant_Standard && v != MediumVariant_Fixed)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "unknown medium variant 0x%x (Standard or Fixed)", (unsigned)v);
    return CAP_OK;
}

/* Marks m Creating (busy) if it is NotCreated and no file is in the way. */
static cap_result claim_for_create_locked(struct medium *m)
{
    if (m->state != MediumState_NotCreated || m->busy || m->registered)
        return not_created_error(m);
    if (access(m->location, F_OK) == 0)
        return cap_error_set(CAP_E_OBJECT_EXISTS, SVC_COMPONENT, IFACE,
                             "the file '%s' already exists", m->location);
    if (registry_find_medium_path_locked(m->core->registry, m->location, DeviceType_Null))
        return cap_error_set(CAP_E_OBJECT_EXISTS, SVC_COMPONENT, IFACE,
                             "a registered medium already has the location '%s'", m->location);
    m->state = MediumState_Creating;
    m->busy = 1;
    return CAP_OK;
}

static cap_result md_CreateBaseStorage(IMedium *self, int64_t size, MediumVariant variant,
                                       IProgress **out)
{
    struct medium *m = impl(self);
    struct job *j = NULL;
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    if (size <= 0 || size % VD_SECTOR_SIZE)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "the size %lld is not a positive multiple of %u bytes",
                             (long long)size, VD_SECTOR_SIZE);
    cap_result rc = check_variant(variant);
    if (CAP_SUCCEEDED(rc))
        rc = new_job(m, NULL, "Creating medium storage", &j);
    if (CAP_FAILED(rc))
        return rc;
    svc_core_lock(m->core);
    rc = claim_for_create_locked(m);
    svc_core_unlock(m->core);
    if (CAP_FAILED(rc)) {
        drop_job(j);
        return rc;
    }
    j->size = (uint64_t)size;
    j->variant = to_vd_variant(variant);
    start_job(j, create_thread, out);
    return CAP_OK;
}

static cap_result md_Close(IMedium *self)
{
    struct medium *m = impl(self);
    struct medium *dropped = NULL;
    svc_core_lock(m->core);
    cap_result rc = registry_remove_medium_locked(m->core->registry, m, &dropped);
    svc_core_unlock(m->core);
    if (dropped) {
        svc_log("closed medium '%s'", m->location);
        medium_release(dropped);
    }
    return rc;
}

static void *delete_thread(void *arg)
{
    struct job *j = arg;
    struct medium *m = j->m;
    cap_result rc = CAP_OK;
    if (unlink(m->location) != 0 && errno != ENOENT)
        rc = cap_error_set(CAP_E_FILE_ERROR, SVC_COMPONENT, IFACE, "cannot delete '%s': %s",
                           m->location, strerror(errno));
    struct medium *dropped = NULL;
    svc_core_lock(m->core);
    m->busy = 0;
    if (CAP_SUCCEEDED(rc)) {
        m->state = MediumState_NotCreated;
        m->size = m->logical_size = 0;
        rc = registry_remove_medium_locked(m->core->registry, m, &dropped);
    } else {
        m->state = MediumState_Created;
        medium_refresh_locked(m);
    }
    unlock_keeping_error(m->core);
    if (dropped) {
        svc_log("deleted medium '%s'", m->location);
        medium_release(dropped);
    }
    end_job(j, rc);
    return NULL;
}

/* Whether m may be closed or deleted: registered, no job on it. */
static cap_result check_idle_locked(struct medium *m)
{
    if (!m->registered)
        return cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, IFACE,
                             "the medium '%s' is not registered", m->location);
    if (m->busy)
        return cap_error_set(CAP_E_OBJECT_IN_USE, SVC_COMPONENT, IFACE,
                             "the medium '%s' is in use by an operation in progress", m->location);
    return registry_check_unattached_locked(m->core->registry, m);
}

static cap_result md_DeleteStorage(IMedium *self, IProgress **out)
{
    struct medium *m = impl(self);
    struct job *j = NULL;
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    cap_result rc = new_job(m, NULL, "Deleting medium storage", &j);
    if (CAP_FAILED(rc))
        return rc;
    svc_core_lock(m->core);
    rc = check_idle_locked(m);
    if (CAP_SUCCEEDED(rc) && (m->read_only || m->type != DeviceType_HardDisk))
        rc = cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, IFACE,
                           "the medium '%s' is read-only: close it instead", m->location);
    if (CAP_SUCCEEDED(rc)) {
        m->busy = 1;
        m->state = MediumState_Deleting;
    }
    svc_core_unlock(m->core);
    if (CAP_FAILED(rc)) {
        drop_job(j);
        return rc;
    }
    start_job(j, delete_thread, out);
    return CAP_OK;
}

static int all_zero(const uint8_t *b, size_t n)
{
    return n == 0 || (b[0] == 0 && memcmp(b, b + 1, n - 1) == 0);
}

/* Copies src into the new image dst (made here); percent in the progress. */
static cap_result copy_image(struct job *j, struct vd_disk **dst)
{
    struct vd_disk *src = NULL;
    uint8_t *buf = cap_alloc(COPY_CHUNK);
    if (!buf)
        return oom();
    cap_result rc = vd_open(j->source->location, j->source->format, VD_OPEN_READONLY, &src);
    if (CAP_SUCCEEDED(rc))
        rc = vd_create(j->m->location, j->m->format, vd_size(src), j->variant, dst);
    uint64_t size = src ? vd_size(src) : 0;
    uint32_t shown = 0;
    for (uint64_t off = 0; CAP_SUCCEEDED(rc) && off < size; off += COPY_CHUNK) {
        size_t len = size - off < COPY_CHUNK ? (size_t)(size - off) : COPY_CHUNK;
        rc = vd_read(src, off, buf, len);
        /* A new image reads as zeros (fixed ones are preallocated): zero
         * chunks are not written, so a dynamic target keeps them
         * unallocated and a fixed one costs no zero-filling. */
        if (CAP_SUCCEEDED(rc) && !all_zero(buf, len))
            rc = vd_write(*dst, off, buf, len);
        uint32_t pct = (uint32_t)((off + len) * 100 / size);
        if (pct != shown && pct < 100)
            progress_set_op_percent(j->progress, shown = pct);
    }
    if (CAP_SUCCEEDED(rc))
        rc = vd_flush(*dst);
    vd_close(src);
    cap_free(buf);
    return rc;
}

static void *clone_thread(void *arg)
{
    struct job *j = arg;
    struct medium *m = j->m;
    struct vd_disk *dst = NULL;
    cap_result rc = copy_image(j, &dst);
    int made = dst != NULL;
    vd_close(dst);
    if (CAP_FAILED(rc) && made)
        unlink(m->location); /* our half-made copy */
    svc_core_lock(m->core);
    m->busy = 0;
    j->source->busy = 0;
    j->source->state = MediumState_Created;
    medium_refresh_locked(j->source);
    rc = settle_and_unlock(m, rc);
    if (CAP_SUCCEEDED(rc))
        svc_log("cloned medium '%s' to '%s'", j->source->location, m->location);
    end_job(j, rc);
    return NULL;
}

static cap_result md_CloneTo(IMedium *self, IMedium *target, MediumVariant variant, IProgress **out)
{
    struct medium *m = impl(self);
    struct medium *t = medium_from_foreign(target);
    struct job *j = NULL;
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    if (!t || t->core != m->core || t == m)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "the target must be another medium of this service (createMedium)");
    cap_result rc = check_variant(variant);
    if (CAP_SUCCEEDED(rc))
        rc = new_job(t, m, "Cloning medium to", &j);
    if (CAP_FAILED(rc))
        return rc;
    svc_core_lock(m->core);
    medium_refresh_locked(m);
    if (m->state != MediumState_Created || m->busy)
        rc = cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, IFACE,
                           "the source medium '%s' is not readable now (%s)", m->location,
                           m->busy          ? "an operation uses it"
                           : *m->last_error ? m->last_error
                                            : "not created");
    if (CAP_SUCCEEDED(rc))
        rc = claim_for_create_locked(t);
    if (CAP_SUCCEEDED(rc)) {
        m->busy = 1;
        m->state = MediumState_LockedRead;
    }
    svc_core_unlock(m->core);
    if (CAP_FAILED(rc)) {
        drop_job(j);
        return rc;
    }
    j->variant = to_vd_variant(variant);
    start_job(j, clone_thread, out);
    return CAP_OK;
}

const struct IMediumVtbl imedium_vtbl = {
    .QueryInterface = md_QueryInterface,
    .AddRef = md_AddRef,
    .Release = md_Release,
    .GetId = md_GetId,
    .GetLocation = md_GetLocation,
    .GetName = md_GetName,
    .GetFormat = md_GetFormat,
    .GetState = md_GetState,
    .GetSize = md_GetSize,
    .GetLogicalSize = md_GetLogicalSize,
    .GetDeviceType = md_GetDeviceType,
    .GetVariant = md_GetVariant,
    .GetReadOnly = md_GetReadOnly,
    .GetLastAccessError = md_GetLastAccessError,
    .GetMachineIds = md_GetMachineIds,
    .CreateBaseStorage = md_CreateBaseStorage,
    .Close = md_Close,
    .DeleteStorage = md_DeleteStorage,
    .CloneTo = md_CloneTo,
};

/* ---- ICapsule's media methods --------------------------------------------- */

cap_result imedium_list(struct svc_core *core, DeviceType type, uint32_t *n, IMedium ***out)
{
    if (!n || !out)
        return CAP_E_POINTER;
    *n = 0;
    svc_core_lock(core);
    struct registry *r = core->registry;
    *out = cap_alloc_zero((r->n_media ? r->n_media : 1) * sizeof(IMedium *));
    for (uint32_t i = 0; *out && i < r->n_media; i++) {
        if (r->media[i]->type != type)
            continue;
        medium_refresh_locked(r->media[i]);
        medium_addref(r->media[i]);
        (*out)[(*n)++] = &r->media[i]->IMedium_iface;
    }
    svc_core_unlock(core);
    return *out ? CAP_OK : oom();
}

static cap_result check_type(DeviceType type)
{
    if (type == DeviceType_Floppy)
        return cap_error_set(CAP_E_NOT_SUPPORTED, SVC_COMPONENT, "ICapsule",
                             "floppy images are not supported");
    if (type != DeviceType_HardDisk && type != DeviceType_DVD)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, "ICapsule",
                             "unknown device type %u (HardDisk or DVD)", (unsigned)type);
    return CAP_OK;
}

static cap_result check_location(const char *location, int absolute)
{
    if (!location || !*location || !settings_text_ok(location) || strchr(location, '\n'))
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, "ICapsule",
                             "the medium location must be a non-empty path in UTF-8");
    if (absolute && location[0] != '/')
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, "ICapsule",
                             "the medium location '%s' is not an absolute path", location);
    return CAP_OK;
}

/* location (absolute) with its folder's real path ("..", "." and links
 * resolved), so that one file has one location in the registry; as given
 * if the folder cannot be resolved. NULL: out of memory. */
static char *canonical_location(const char *location)
{
    const char *slash = strrchr(location, '/');
    char *dir = cap_str_ndup(location, (size_t)(slash - location));
    char *real = dir ? realpath(*dir ? dir : "/", NULL) : NULL;
    char *out = real && slash[1] ? cap_str_printf("%s/%s", strcmp(real, "/") ? real : "", slash + 1)
                                 : cap_str_dup(location);
    free(real);
    cap_str_free(dir);
    return out;
}

cap_result imedium_create(struct svc_core *core, const char *format, const char *location,
                          AccessMode mode, DeviceType type, IMedium **out)
{
    enum vd_format f = VD_FORMAT_VDI;
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    cap_result rc = check_location(location, 1);
    if (CAP_SUCCEEDED(rc) && (rc = check_type(type)) == CAP_OK && type != DeviceType_HardDisk)
        rc = cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, "ICapsule",
                           "only hard disk media can be created (DVD images are opened)");
    if (CAP_SUCCEEDED(rc) && mode != AccessMode_ReadWrite)
        rc = cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, "ICapsule",
                           "a new medium is created for reading and writing (ReadWrite)");
    if (CAP_SUCCEEDED(rc) && format && *format && CAP_FAILED(vd_format_from_name(format, &f))) {
        cap_error_clear();
        f = VD_FORMAT_AUTO; /* refused below */
    }
    if (CAP_SUCCEEDED(rc) && f != VD_FORMAT_VDI && f != VD_FORMAT_RAW)
        rc = cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, "ICapsule",
                           "unknown medium format '%s' (VDI or RAW)", format);
    if (CAP_FAILED(rc))
        return rc;
    char *path = canonical_location(location);
    if (!path)
        return oom();
    svc_core_lock(core);
    if (access(path, F_OK) == 0)
        rc = cap_error_set(
            CAP_E_OBJECT_EXISTS, SVC_COMPONENT, "ICapsule", "the file '%s' already exists%s",
            location,
            registry_find_medium_path_locked(core->registry, location, DeviceType_Null)
                ? " (a registered medium)"
                : "");
    svc_core_unlock(core);
    struct medium *m = NULL;
    if (CAP_SUCCEEDED(rc))
        rc = medium_create(core, path, f, type, &m);
    cap_str_free(path);
    if (CAP_SUCCEEDED(rc))
        *out = &m->IMedium_iface;
    return rc;
}

cap_result imedium_open(struct svc_core *core, const char *location, DeviceType type,
                        AccessMode mode, IMedium **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    cap_result rc = check_location(location, 0);
    if (CAP_SUCCEEDED(rc))
        rc = check_type(type);
    if (CAP_SUCCEEDED(rc) && mode != AccessMode_ReadOnly && mode != AccessMode_ReadWrite)
        rc = cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, "ICapsule", "unknown access mode %u",
                           (unsigned)mode);
    if (CAP_FAILED(rc))
        return rc;
    char *given =
        location[0] == '/' ? cap_str_dup(location) : cap_str_printf("%s/%s", core->home, location);
    char *path = given ? canonical_location(given) : NULL;
    cap_str_free(given);
    if (!path)
        return oom();
    struct medium *m = NULL;
    char id[CAP_UUID_BUFSIZE];
    svc_core_lock(core);
    struct medium *found = registry_find_medium_path_locked(core->registry, path, DeviceType_Null);
    if (found && found->type != type)
        rc = cap_error_set(CAP_E_OBJECT_EXISTS, SVC_COMPONENT, "ICapsule",
                           "'%s' is registered as a %s", path,
                           found->type == DeviceType_DVD ? "DVD image" : "hard disk");
    else if (found)
        medium_addref(m = found);
    else
        rc = medium_create(core, path, type == DeviceType_DVD ? VD_FORMAT_ISO : VD_FORMAT_AUTO,
                           type, &m);
    if (CAP_SUCCEEDED(rc) && !found) {
        /* AUTO is only for probing: keep what the file is. */
        struct vd_disk *d = NULL;
        if (m->format == VD_FORMAT_AUTO &&
            CAP_SUCCEEDED(rc = vd_open(path, VD_FORMAT_AUTO, VD_OPEN_READONLY, &d)))
            m->format = vd_get_format(d);
        vd_close(d);
        if (CAP_SUCCEEDED(rc))
            rc = medium_probe_locked(m, 1);
        if (CAP_SUCCEEDED(rc) && cap_uuid_is_null(&m->id))
            rc = cap_uuid_generate(&m->id);
        if (CAP_SUCCEEDED(rc) &&
            registry_find_medium_id_locked(core->registry, &m->id, DeviceType_Null))
            rc = cap_error_set(CAP_E_OBJECT_EXISTS, SVC_COMPONENT, "ICapsule",
                               "a registered medium already has the UUID {%s} of '%s'",
                               cap_uuid_format(&m->id, id), path);
        if (CAP_SUCCEEDED(rc))
            rc = registry_add_medium_locked(core->registry, m);
    }
    svc_core_unlock(core);
    cap_str_free(path);
    if (CAP_FAILED(rc)) {
        struct cap_error_info ei;
        cap_error_take(&ei);
        if (m)
            medium_release(m);
        cap_error_set_info(&ei);
        cap_error_info_clear(&ei);
        return rc;
    }
    *out = &m->IMedium_iface;
    return CAP_OK;
}

cap_result imedium_find(struct svc_core *core, const char *what, DeviceType type, IMedium **out)
{
    if (!what || !out)
        return CAP_E_POINTER;
    *out = NULL;
    cap_uuid id;
    int is_id = CAP_SUCCEEDED(cap_uuid_parse(what, &id));
    if (!is_id)
        cap_error_clear();
    svc_core_lock(core);
    struct medium *m = is_id ? registry_find_medium_id_locked(core->registry, &id, type) : NULL;
    if (!m)
        m = registry_find_medium_path_locked(core->registry, what, type);
    if (m) {
        medium_refresh_locked(m);
        medium_addref(m);
        *out = &m->IMedium_iface;
    }
    svc_core_unlock(core);
    return m ? CAP_OK
             : cap_error_set(CAP_E_OBJECT_NOT_FOUND, SVC_COMPONENT, "ICapsule",
                             "no registered %s is '%s'",
                             type == DeviceType_DVD ? "DVD image" : "hard disk", what);
}
