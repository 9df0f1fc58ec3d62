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
    {#member, offsetof(type, member), sizeof(((type *)0)->member), false}
#define PDM_FIELD_NAMED(name, type, member)                                                        \
    {name, offsetof(type, member), sizeof(((type *)0)->member), false}
#define PDM_FIELD_BOOL(type, member) {#member, offsetof(type, member), sizeof(bool), true}
#define PDM_FIELD_COUNT(table) (sizeof(table) / sizeof((table)[0]))

static inline const char *pdm_field_name(char *buf, size_t size, const char *prefix,
                                         const char *name)
{
    if (!prefix || !*prefix)
        return name;
    snprintf(buf, size, "%s%s", prefix, name);
    return buf;
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
        uint8_t v8;
        uint16_t v16;
        uint32_t v32;
        uint64_t v64;
        if (t[i].is_bool) {
            bool b;
            memcpy(&b, p, sizeof b);
            rc = f->put_bool(w, name, b);
            continue;
        }
        switch (t[i].size) {
        case 1: memcpy(&v8, p, 1); rc = f->put_u8(w, name, v8); break;
        case 2: memcpy(&v16, p, 2); rc = f->put_u16(w, name, v16); break;
        case 4: memcpy(&v32, p, 4); rc = f->put_u32(w, name, v32); break;
        case 8: memcpy(&v64, p, 8); rc = f->put_u64(w, name, v64); break;
        default: rc = f->put_bytes(w, name, p, t[i].size); break;
        }
    }
    return rc;
}

/* Gets every field of `t` into `base`, a missing one keeping its value. */
static inline cap_result pdm_fields_get(struct pdm_dev *dev, struct ssm_unit *u,
                                        const char *prefix, void *base,
                                        const struct pdm_field *t, size_t n)
{
    const struct ssm_field_ops *f = dev->hlp->ssm;
    cap_result rc = CAP_OK;
    char nb[SSM_NAME_MAX];
    for (size_t i = 0; i < n && CAP_SUCCEEDED(rc); i++) {
        const char *name = pdm_field_name(nb, sizeof nb, prefix, t[i].name);
        unsigned char *p = (unsigned char *)base + t[i].off;
        uint8_t v8;
        uint16_t v16;
        uint32_t v32;
        uint64_t v64;
        if (t[i].is_bool) {
            bool b;
            memcpy(&b, p, sizeof b);
            rc = f->get_bool(u, name, b, &b);
            memcpy(p, &b, sizeof b);
            continue;
        }
        switch (t[i].size) {
        case 1:
            memcpy(&v8, p, 1);
            rc = f->get_u8(u, name, v8, &v8);
            memcpy(p, &v8, 1);
            break;
        case 2:
            memcpy(&v16, p, 2);
            rc = f->get_u16(u, name, v16, &v16);
            memcpy(p, &v16, 2);
            break;
        case 4:
            memcpy(&v32, p, 4);
            rc = f->get_u32(u, name, v32, &v32);
            memcpy(p, &v32, 4);
            break;
        case 8:
            memcpy(&v64, p, 8);
            rc = f->get_u64(u, name, v64, &v64);
            memcpy(p, &v64, 8);
            break;
        default: rc = f->get_bytes(u, name, p, t[i].size); break;
        }
    }
    return rc;
}

#endif /* PDMDEV_FIELDS_H */
