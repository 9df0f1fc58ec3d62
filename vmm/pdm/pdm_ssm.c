/*
 * vmm/pdm/pdm_ssm.c - saved state of the devices.
 *
 * In the SSM stream (pdm_save_units / pdm_load_units): one fields unit per
 * device, named after the device and its instance. A device with
 * save_state/load_state writes and reads its fields itself through
 * hlp->ssm; one with the older save/load ops has its raw bytes kept as the
 * unit's bytes field "raw" (host byte order, as below).
 *
 * The older buffer (pdm_save / pdm_load, until every caller has moved) is a sequence of records,
 * one per device with a save op: u32 name length, name bytes ("serial0"), u32 version, u64 data
 * length, data (whatever the device wrote with hlp->ssm_put). Loading matches records to instances
 * by name, so the configuration must be the same; a device that reads past its record, or a record
 * for a device that does not exist, is an error naming it. Integers are in host byte order: saved
 * state is for the same host (pause/resume, snapshots).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "pdm_internal.h"

struct pdm_ssm {
    unsigned char *buf;
    size_t len, cap, pos; /* writing: len/cap; reading: pos within len */
    bool reading;
};

cap_result pdm_ssm_put(struct pdm_ssm *ssm, const void *data, size_t n)
{
    if (ssm->reading)
        return CAP_E_UNEXPECTED;
    if (ssm->len + n > ssm->cap) {
        size_t cap = ssm->cap ? ssm->cap : 256;
        while (cap < ssm->len + n)
            cap *= 2;
        unsigned char *b = realloc(ssm->buf, cap);
        if (!b)
            return cap_error_set(CAP_E_OUTOFMEMORY, PDM_COMPONENT, NULL, "out of memory");
        ssm->buf = b;
        ssm->cap = cap;
    }
    memcpy(ssm->buf + ssm->len, data, n);
    ssm->len += n;
    return CAP_OK;
}

cap_result pdm_ssm_get(struct pdm_ssm *ssm, void *data, size_t n)
{
    if (!ssm->reading || n > ssm->len - ssm->pos)
        return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                             "saved state: read of %zu bytes past the end of the record", n);
    memcpy(data, ssm->buf + ssm->pos, n);
    ssm->pos += n;
    return CAP_OK;
}

cap_result pdm_save(struct pdm *pdm, void **buf, size_t *len)
{
    if (!pdm || !buf || !len)
        return CAP_E_POINTER;
    *buf = NULL;
    *len = 0;
    pdm_blk_drain(pdm); /* devices are saved between block requests */
    struct pdm_ssm out = {0};
    cap_result rc = CAP_OK;
    pdm_lock(pdm);
    for (struct pdm_devinst *i = pdm->devs; i && CAP_SUCCEEDED(rc); i = i->next) {
        if (!i->dev.reg->ops->save)
            continue;
        struct pdm_ssm rec = {0};
        rc = i->dev.reg->ops->save(&i->dev, &rec);
        uint32_t nl = (uint32_t)strlen(i->name), ver = i->dev.reg->saved_state_version;
        uint64_t dl = rec.len;
        if (CAP_SUCCEEDED(rc))
            rc = pdm_ssm_put(&out, &nl, sizeof(nl));
        if (CAP_SUCCEEDED(rc))
            rc = pdm_ssm_put(&out, i->name, nl);
        if (CAP_SUCCEEDED(rc))
            rc = pdm_ssm_put(&out, &ver, sizeof(ver));
        if (CAP_SUCCEEDED(rc))
            rc = pdm_ssm_put(&out, &dl, sizeof(dl));
        if (CAP_SUCCEEDED(rc) && rec.len)
            rc = pdm_ssm_put(&out, rec.buf, rec.len);
        free(rec.buf);
    }
    pdm_unlock(pdm);
    if (CAP_FAILED(rc)) {
        free(out.buf);
        return rc;
    }
    *buf = out.buf;
    *len = out.len;
    return CAP_OK;
}

static struct pdm_devinst *find_inst(struct pdm *pdm, const char *name, size_t nl)
{
    for (struct pdm_devinst *i = pdm->devs; i; i = i->next)
        if (strlen(i->name) == nl && memcmp(i->name, name, nl) == 0)
            return i;
    return NULL;
}

cap_result pdm_load(struct pdm *pdm, const void *buf, size_t len)
{
    if (!pdm || (len && !buf))
        return CAP_E_POINTER;
    struct pdm_ssm in = {.buf = (unsigned char *)buf, .len = len, .reading = true};
    cap_result rc = CAP_OK;
    pdm_lock(pdm);
    while (in.pos < in.len && CAP_SUCCEEDED(rc)) {
        uint32_t nl = 0, ver = 0;
        uint64_t dl = 0;
        char name[48];
        rc = pdm_ssm_get(&in, &nl, sizeof(nl));
        if (CAP_SUCCEEDED(rc) && nl >= sizeof(name))
            rc = cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                               "saved state: device name of %u bytes", nl);
        if (CAP_SUCCEEDED(rc))
            rc = pdm_ssm_get(&in, name, nl);
        if (CAP_SUCCEEDED(rc))
            rc = pdm_ssm_get(&in, &ver, sizeof(ver));
        if (CAP_SUCCEEDED(rc))
            rc = pdm_ssm_get(&in, &dl, sizeof(dl));
        if (CAP_FAILED(rc))
            break;
        name[nl] = 0;
        struct pdm_devinst *i = find_inst(pdm, name, nl);
        if (!i || !i->dev.reg->ops->load || dl > in.len - in.pos) {
            rc = cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                               "saved state: record for '%s' %s", name,
                               !i ? "names no device of this VM"
                                  : !i->dev.reg->ops->load ? "but the device cannot load"
                                                           : "is truncated");
            break;
        }
        struct pdm_ssm rec = {.buf = in.buf + in.pos, .len = (size_t)dl, .reading = true};
        rc = i->dev.reg->ops->load(&i->dev, &rec, ver);
        in.pos += (size_t)dl;
        if (CAP_FAILED(rc)) {
            const char *why = cap_error_peek_message();
            rc = cap_error_set(rc, PDM_COMPONENT, NULL, "%s: loading saved state failed: %s",
                               i->name, why ? why : cap_result_name(rc));
        }
    }
    pdm_unlock(pdm);
    return rc;
}

/* The error of a device's save or load, naming the instance once. */
static cap_result dev_failed(struct pdm_devinst *i, cap_result rc, const char *what)
{
    const char *why = cap_error_peek_message();
    char msg[400];
    snprintf(msg, sizeof msg, "%s", why ? why : cap_result_name(rc));
    return cap_error_set(rc, PDM_COMPONENT, NULL, "%s: %s saved state failed: %s", i->name, what,
                         msg);
}

static cap_result save_unit(struct pdm_devinst *i, struct ssm_writer *w)
{
    const struct pdm_dev_ops *ops = i->dev.reg->ops;
    cap_result rc =
        ssm_begin_unit(w, i->dev.reg->name, i->dev.instance, i->dev.reg->saved_state_version);
    if (CAP_SUCCEEDED(rc) && ops->save_state) {
        rc = ops->save_state(&i->dev, w);
    } else if (CAP_SUCCEEDED(rc)) {
        struct pdm_ssm rec = {0};
        rc = ops->save(&i->dev, &rec);
        if (CAP_SUCCEEDED(rc))
            rc = ssm_put_bytes(w, "raw", rec.buf, rec.len);
        free(rec.buf);
    }
    return CAP_SUCCEEDED(rc) ? ssm_end_unit(w) : rc;
}

cap_result pdm_save_units(struct pdm *pdm, struct ssm_writer *w)
{
    if (!pdm || !w)
        return CAP_E_POINTER;
    pdm_blk_drain(pdm); /* devices are saved between block requests */
    cap_result rc = CAP_OK;
    pdm_lock(pdm);
    for (struct pdm_devinst *i = pdm->devs; i && CAP_SUCCEEDED(rc); i = i->next) {
        if (!i->dev.reg->ops->save_state && !i->dev.reg->ops->save)
            continue;
        rc = save_unit(i, w);
        if (CAP_FAILED(rc))
            rc = dev_failed(i, rc, "writing");
    }
    pdm_unlock(pdm);
    return rc;
}

static cap_result load_unit(struct pdm_devinst *i, struct ssm_unit *u)
{
    const struct pdm_dev_ops *ops = i->dev.reg->ops;
    if (ops->load_state)
        return ops->load_state(&i->dev, u);
    const void *raw;
    size_t len;
    cap_result rc = ssm_get_bytes_ref(u, "raw", &raw, &len);
    if (CAP_SUCCEEDED(rc) && !raw)
        return cap_error_set(VMM_E_SSM_FIELD, PDM_COMPONENT, NULL,
                             "its unit has no field 'raw' (saved by save_state?)");
    struct pdm_ssm rec = {.buf = (unsigned char *)raw, .len = len, .reading = true};
    return CAP_SUCCEEDED(rc) ? ops->load(&i->dev, &rec, ssm_unit_version(u)) : rc;
}

cap_result pdm_load_units(struct pdm *pdm, struct ssm_reader *r)
{
    if (!pdm || !r)
        return CAP_E_POINTER;
    cap_result rc = CAP_OK;
    pdm_lock(pdm);
    for (struct pdm_devinst *i = pdm->devs; i && CAP_SUCCEEDED(rc); i = i->next) {
        const struct pdm_dev_ops *ops = i->dev.reg->ops;
        struct ssm_unit *u;
        if (!ops->load_state && !ops->load)
            continue;
        rc = ssm_find_unit(r, i->dev.reg->name, i->dev.instance, &u);
        if (CAP_FAILED(rc)) {
            rc = cap_error_set(rc, PDM_COMPONENT, NULL,
                               "%s: the saved state has no unit '%s' %u for this device", i->name,
                               i->dev.reg->name, i->dev.instance);
            break;
        }
        rc = load_unit(i, u);
        if (CAP_FAILED(rc))
            rc = dev_failed(i, rc, "loading");
    }
    pdm_unlock(pdm);
    return rc;
}

bool pdm_layout(struct pdm *pdm, char *buf, size_t size)
{
    size_t n = 0;
    bool fits = size > 0;
    if (fits)
        buf[0] = 0;
    pdm_lock(pdm);
    for (struct pdm_devinst *i = pdm->devs; i && fits; i = i->next) {
        int w = snprintf(buf + n, size - n, "%s%s", n ? " " : "", i->name);
        fits = w >= 0 && (size_t)w < size - n;
        n += fits ? (size_t)w : 0;
    }
    pdm_unlock(pdm);
    return fits;
}
