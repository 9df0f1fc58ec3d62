/*
 * vmproc_drive.c - capsule-vm's --drive: the storage contract shared with
 * the service (which passes one --drive per attachment):
 *
 *   --drive if=ide|sata|virtio,port=N,device=N,media=disk|cdrom
 *           [,readonly=on|off][,format=raw|vdi|iso][,file=PATH]
 *
 * Keys in any order, each at most once, except file= which must come last
 * and takes the rest of the argument verbatim (paths may contain commas).
 * ide: port 0-1 (channel), device 0-1 (master, slave); sata: port 0-29;
 * virtio: port 0-15; device 0 for both. media=cdrom is read-only and may
 * be empty (no file=); a disk needs a file. virtio has no media=cdrom. The images are opened by
 * PDM's block layer at vmproc_create (errors then name the file).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <capsule/types.h>

#include "vmproc.h"

struct bus_limits {
    const char *name;
    unsigned ports, devices;
    bool built; /* the controller exists in this build */
};

static const struct bus_limits buses[] = {
    {"ide", 2, 2, true},
    {"sata", 30, 1, true},
    {"virtio", 16, 1, true},
};

static int bad(FILE *err, const char *spec, const char *fmt, ...) CAP_PRINTF(3, 4);

static int bad(FILE *err, const char *spec, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(err, "capsule-vm: --drive '%s': ", spec);
    vfprintf(err, fmt, ap);
    fputc('\n', err);
    va_end(ap);
    return -1;
}

/* A decimal number up to `max`; -1 otherwise. */
static long small_number(const char *s, size_t len, unsigned max)
{
    if (!len || len > 3)
        return -1;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v <= (long)max ? v : -1;
}

static bool is(const char *v, size_t len, const char *word)
{
    return strlen(word) == len && !strncasecmp(v, word, len);
}

int vmproc_parse_drive(const char *spec, struct vmproc_drive *d, FILE *err)
{
    enum { K_IF, K_PORT, K_DEVICE, K_MEDIA, K_READONLY, K_FORMAT, K_N };
    static const char *const keys[K_N] = {"if", "port", "device", "media", "readonly", "format"};
    const char *val[K_N] = {0};
    size_t vlen[K_N] = {0};
    memset(d, 0, sizeof(*d));
    const char *p = spec;
    while (*p) {
        if (!strncmp(p, "file=", 5)) {
            d->file = p + 5;
            if (!*d->file)
                return bad(err, spec, "file= names no file");
            break;
        }
        const char *comma = strchr(p, ','), *eq = strchr(p, '=');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (!eq || eq > p + len || eq == p)
            return bad(err, spec, "'%.*s' is not key=value", (int)len, p);
        size_t klen = (size_t)(eq - p);
        int k = 0;
        while (k < K_N && !(strlen(keys[k]) == klen && !strncmp(p, keys[k], klen)))
            k++;
        if (k == K_N)
            return bad(err, spec,
                       "unknown key '%.*s' (if, port, device, media, readonly, format, file)",
                       (int)klen, p);
        if (val[k])
            return bad(err, spec, "%s= given twice", keys[k]);
        val[k] = eq + 1;
        vlen[k] = len - klen - 1;
        p += len + (comma ? 1 : 0);
        if (comma && !*p)
            return bad(err, spec, "a trailing comma");
    }
    if (!val[K_IF])
        return bad(err, spec, "if= is missing (ide, sata or virtio)");
    const struct bus_limits *bus = NULL;
    for (size_t i = 0; i < sizeof(buses) / sizeof(buses[0]); i++)
        if (is(val[K_IF], vlen[K_IF], buses[i].name))
            bus = &buses[i];
    if (!bus)
        return bad(err, spec, "unknown controller '%.*s' (ide, sata or virtio)", (int)vlen[K_IF],
                   val[K_IF]);
    d->bus = bus->name;
    long port = val[K_PORT] ? small_number(val[K_PORT], vlen[K_PORT], bus->ports - 1) : 0;
    long dev = val[K_DEVICE] ? small_number(val[K_DEVICE], vlen[K_DEVICE], bus->devices - 1) : 0;
    if (port < 0 || dev < 0) {
        fprintf(err, "capsule-vm: --drive '%s': %s has ports 0-%u and devices 0-%u\n", spec,
                bus->name, bus->ports - 1, bus->devices - 1);
        return -1;
    }
    d->port = (unsigned)port;
    d->device = (unsigned)dev;
    if (val[K_MEDIA] && !is(val[K_MEDIA], vlen[K_MEDIA], "disk") &&
        !is(val[K_MEDIA], vlen[K_MEDIA], "cdrom"))
        return bad(err, spec, "media= is disk or cdrom, not '%.*s'", (int)vlen[K_MEDIA],
                   val[K_MEDIA]);
    d->cdrom = val[K_MEDIA] && is(val[K_MEDIA], vlen[K_MEDIA], "cdrom");
    if (d->cdrom && !strcmp(bus->name, "virtio"))
        return bad(err, spec,
                   "virtio-blk has no removable media: give an ISO as "
                   "media=disk,readonly=on,format=iso, or use if=ide for a DVD drive");
    if (val[K_READONLY] && !is(val[K_READONLY], vlen[K_READONLY], "on") &&
        !is(val[K_READONLY], vlen[K_READONLY], "off"))
        return bad(err, spec, "readonly= is on or off, not '%.*s'", (int)vlen[K_READONLY],
                   val[K_READONLY]);
    d->readonly = d->cdrom || (val[K_READONLY] && is(val[K_READONLY], vlen[K_READONLY], "on"));
    if (val[K_FORMAT]) {
        static const char *const formats[] = {"raw", "vdi", "iso"};
        for (size_t i = 0; i < 3; i++)
            if (is(val[K_FORMAT], vlen[K_FORMAT], formats[i]))
                d->format = formats[i];
        if (!d->format)
            return bad(err, spec, "format= is raw, vdi or iso, not '%.*s'", (int)vlen[K_FORMAT],
                       val[K_FORMAT]);
    }
    if (!d->file && !d->cdrom)
        return bad(err, spec, "a disk needs file=PATH (only a cdrom may be empty)");
    if (!bus->built) {
        fprintf(err, "capsule-vm: --drive: controller '%s' is not in this build yet (only",
                bus->name);
        for (size_t i = 0; i < sizeof(buses) / sizeof(buses[0]); i++)
            if (buses[i].built)
                fprintf(err, " %s", buses[i].name);
        fputs(")\n", err);
        return -1;
    }
    return 0;
}

int vmproc_add_drive(struct vmproc_opts *o, const char *spec, FILE *err)
{
    struct vmproc_drive d;
    if (vmproc_parse_drive(spec, &d, err))
        return -1;
    for (unsigned i = 0; i < o->n_drives; i++)
        if (!strcmp(o->drives[i].bus, d.bus) && o->drives[i].port == d.port &&
            o->drives[i].device == d.device) {
            fprintf(err, "capsule-vm: --drive '%s': %s port %u device %u has a drive already\n",
                    spec, d.bus, d.port, d.device);
            return -1;
        }
    if (o->n_drives == VMPROC_MAX_DRIVES) {
        fprintf(err, "capsule-vm: at most %d --drive options\n", VMPROC_MAX_DRIVES);
        return -1;
    }
    o->drives[o->n_drives++] = d;
    return 0;
}
