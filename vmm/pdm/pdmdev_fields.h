/*
 * vmm/pdm/pdmdev_fields.h - a device's saved-state fields as a table (for
 * save_state / load_state, pdmdev.h): each entry names one member of the
 * device's struct, its offset and size, and is put and got by name through
 * hlp->ssm with the type its size gives (1 u8, 2 u16, 4 u32, 8 u64, any
 * other size bytes; PDM_FIELD_BOOL a bool). A prefix nests a table
 * ("ch0." + "count"), so arrays of sub-structs reuse one table.
 *
 * Loading reads into the caller's struct with each member's current value
 * as the default (a stream without the field keeps it: the caller passes
 * its reset state or a copy), so the caller validates and applies what it
 * read as it would a guest's programming. Inline only: plugins link
 * nothing of the VMM, and nothing here changes the device ABI.
 */
#ifndef PDMDEV_FIELDS_H
#define PDMDEV_FIELDS_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "pdmdev.h"

struct pdm_field {
    const char *name;
    size_t off, size;
    bool is_bool;
};

#define PDM_FIELD(type, member)                                                                    \
    {                                                                                              \
#member, offsetof(type, member), sizeof(((type *)0)->member), false                        \
    }
#define PDM_FIELD_NAMED(name, type, member)                                                        \
    {                                                                                              \
        name, offsetof(type, member), sizeof(((type *)0)->member), false                           \
    }
#define PDM_FIELD_BOOL(type, member)                                                               \
    {                                                                                              \
#member, offsetof(type, member), sizeof(bool), true                                        \
    }
#define PDM_FIELD_COUNT(table) (sizeof(table) / sizeof((table)[0]))

static inline const char *pdm_field_name(char *buf, size_t size, const char *prefix,
                                         const char *name)
{
    if (!prefix || !*prefix)
        return name;
    snprintf(buf, size, "%s%s", prefix, name);
    return buf;
}

/* A member of 1, 2, 4 or 8 bytes as an integer, and back. */
static inline uint64_t pdm_field_read(const unsigned char *p, size_t size)
{
    uint8_t v8;
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;
    switch (size) {
    case 1:
        memcpy(&v8, p, 1);
        return v8;
    case 2:
        memcpy(&v16, p, 2);
        return v16;
    case 4:
        memcpy(&v32, p, 4);
        return v32;
    default:
        memcpy(&v64, p, 8);
        return v64;
    }
}

static inline void pdm_field_write(unsigned char *p, size_t size, uint64_t v)
{
    uint8_t v8 = (uint8_t)v;
    uint16_t v16 = (uint16_t)v;
    uint32_t v32 = (uint32_t)v;
    switch (size) {
    case 1:
        memcpy(p, &v8, 1);
        break;
    case 2:
        memcpy(p, &v16, 2);
        break;
    case 4:
        memcpy(p, &v32, 4);
        break;
    default:
        memcpy(p, &v, 8);
        break;
    }
}

static inline bool pdm_field_is_int(size_t size)
{
    return size == 1 || size == 2 || size == 4 || size == 8;
}

/* Puts every field of `t` from `base`; returns the writer's (sticky) result. */
static inline cap_result pdm_fields_put(struct pdm_dev *dev, struct ssm_writer *w,
                                        const char *prefix, const void *base,
                                        const struct pdm_field *t, size_t n)
{
    const struct ssm_field_ops *f = dev->hlp->ssm;
    cap_result rc = CAP_OK;
    char nb[SSM_NAME_MAX];
    for (size_t i = 0; i < n; i++) {
        const char *name = pdm_field_name(nb, sizeof nb, prefix, t[i].name);
        const unsigned char *p = (const unsigned char *)base + t[i].off;
        uint64_t v = pdm_field_is_int(t[i].size) ? pdm_field_read(p, t[i].size) : 0;
        if (t[i].is_bool)
            rc = f->put_bool(w, name, v != 0);
        else if (t[i].size == 1)
            rc = f->put_u8(w, name, (uint8_t)v);
        else if (t[i].size == 2)
            rc = f->put_u16(w, name, (uint16_t)v);
        else if (t[i].size == 4)
            rc = f->put_u32(w, name, (uint32_t)v);
        else if (t[i].size == 8)
            rc = f->put_u64(w, name, v);
        else
            rc = f->put_bytes(w, name, p, t[i].size);
    }
    return rc;
}

/* Gets every field of `t` into `base`, a missing one keeping its value; a
 * value wider than its member is VMM_E_SSM_FIELD naming it. */
static inline cap_result pdm_fields_get(struct pdm_dev *dev, struct ssm_unit *u, const char *prefix,
                                        void *base, const struct pdm_field *t, size_t n)
{
    const struct ssm_field_ops *f = dev->hlp->ssm;
    cap_result rc = CAP_OK;
    char nb[SSM_NAME_MAX];
    for (size_t i = 0; i < n && CAP_SUCCEEDED(rc); i++) {
        const char *name = pdm_field_name(nb, sizeof nb, prefix, t[i].name);
        unsigned char *p = (unsigned char *)base + t[i].off;
        if (!pdm_field_is_int(t[i].size)) {
            rc = f->get_bytes(u, name, p, t[i].size);
            continue;
        }
        uint64_t v = pdm_field_read(p, t[i].size);
        if (t[i].is_bool) {
            bool b = v != 0;
            rc = f->get_bool(u, name, b, &b);
            v = b;
        } else {
            rc = f->get_u64(u, name, v, &v);
        }
        if (CAP_SUCCEEDED(rc) && t[i].size < 8 && v >> (8 * t[i].size))
            rc = dev->hlp->error(dev, VMM_E_SSM_FIELD, "saved field '%s' does not fit %zu bytes",
                                 name, t[i].size);
        if (CAP_SUCCEEDED(rc))
            pdm_field_write(p, t[i].size, v);
    }
    return rc;
}

#endif /* PDMDEV_FIELDS_H */
