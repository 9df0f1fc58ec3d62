/*
 * service/medium.c - the medium as the service keeps it (medium.h): the
 * object's life and what its image file says, read through vd.h.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/uuid.h>

#include "medium.h"

cap_result medium_create(struct svc_core *core, const char *location, enum vd_format format,
                         DeviceType type, struct medium **out)
{
    *out = NULL;
    struct medium *m = cap_alloc_zero(sizeof(*m));
    if (m) {
        m->location = cap_str_dup(location);
        m->last_error = cap_str_dup("");
    }
    if (!m || !m->location || !m->last_error) {
        if (m) {
            cap_str_free(m->location);
            cap_str_free(m->last_error);
        }
        cap_free(m);
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    }
    m->IMedium_iface.vtbl = core->medium_vtbl;
    cap_refcnt_init(&m->ref, 1);
    m->core = core;
    svc_core_hold(core);
    m->format = format;
    m->type = type;
    m->read_only = format == VD_FORMAT_ISO;
    m->state = MediumState_NotCreated;
    m->variant = MediumVariant_Standard;
    *out = m;
    return CAP_OK;
}

void medium_addref(struct medium *m)
{
    cap_refcnt_inc(&m->ref);
}

uint32_t medium_release(struct medium *m)
{
    uint32_t n = m ? cap_refcnt_dec(&m->ref) : 0;
    if (!m || n)
        return n;
    struct svc_core *core = m->core;
    cap_str_free(m->location);
    cap_str_free(m->last_error);
    cap_free(m);
    svc_core_drop(core);
    return 0;
}

static void set_error(struct medium *m, const char *msg)
{
    char *copy = cap_str_dup(msg ? msg : "");
    if (copy) {
        cap_str_free(m->last_error);
        m->last_error = copy;
    }
}

cap_result medium_probe_locked(struct medium *m, int ids_from_image)
{
    struct vd_disk *d = NULL;
    uint64_t allocated = 0;
    cap_uuid id;
    cap_result rc = vd_open(m->location, m->format, VD_OPEN_READONLY, &d);
    if (CAP_SUCCEEDED(rc))
        rc = vd_allocated(d, &allocated);
    if (CAP_FAILED(rc)) {
        struct cap_error_info ei;
        cap_error_take(&ei);
        set_error(m, ei.message ? ei.message : "the image cannot be opened");
        cap_error_set_info(&ei);
        cap_error_info_clear(&ei);
        vd_close(d);
        m->state = MediumState_Inaccessible;
        m->size = m->logical_size = 0;
        return rc;
    }
    m->logical_size = vd_size(d);
    m->size = allocated;
    m->variant =
        vd_get_variant(d) == VD_VARIANT_FIXED ? MediumVariant_Fixed : MediumVariant_Standard;
    if (ids_from_image && vd_get_uuid(d, &id) == CAP_OK && !cap_uuid_is_null(&id))
        m->id = id;
    vd_close(d);
    set_error(m, "");
    m->state = MediumState_Created;
    return CAP_OK;
}

void medium_refresh_locked(struct medium *m)
{
    if (m->busy)
        return;
    if (m->state == MediumState_Created && access(m->location, R_OK) != 0) {
        char *msg = cap_str_printf("cannot open '%s': %s", m->location, strerror(errno));
        set_error(m, msg ? msg : "the image is gone");
        cap_str_free(msg);
        m->state = MediumState_Inaccessible;
        m->size = m->logical_size = 0;
    } else if (m->state == MediumState_Inaccessible && access(m->location, R_OK) == 0) {
        if (CAP_FAILED(medium_probe_locked(m, 0)))
            cap_error_clear();
    }
}

const char *medium_name(const struct medium *m)
{
    const char *slash = strrchr(m->location, '/');
    return slash ? slash + 1 : m->location;
}

const char *medium_format_name(const struct medium *m)
{
    return vd_format_name(m->format);
}
