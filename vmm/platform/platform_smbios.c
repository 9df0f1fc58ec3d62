/*
 * vmm/platform/platform_smbios.c - the SMBIOS structure table (DMTF
 * DSP0134 version 2.8) and its 31-byte "_SM_" entry point, as the fw_cfg
 * files "etc/smbios/smbios-tables" and "etc/smbios/smbios-anchor" that
 * SeaBIOS takes from QEMU (it copies the table, sets the address in the
 * entry point and fixes its checksums; with no type 0 it adds its own).
 *
 * Structures (formatted area lengths as 2.8 defines them; each is followed
 * by its strings, each NUL-terminated, and one more NUL - two when there
 * are none):
 *   type 0   BIOS: vendor, version, release date, segment 0xE800 (when a
 *            vendor is given)
 *   type 1   system: manufacturer, product, version, serial, UUID, wake-up
 *            "power switch"
 *   type 3   enclosure "Other", states "safe"
 *   type 4   one per vCPU: socket "CPU n", processor ID = CPUID 1 EAX/EDX
 *   type 16  the RAM as one array, type 17 one device holding it all,
 *   type 19  one mapped range per RAM range (below and above 4 GiB)
 *   type 32  boot status "no errors", type 127 the end
 * Handles: 0x0000 + type * 0x100 + instance.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/platform_internal.h"

#define STR_MAX 64

struct smb {
    struct plat_buf t;
    unsigned count, max_size;
    size_t cur;       /* the structure being written */
    unsigned strings; /* strings so far in it */
    const char *bad;  /* a string that cannot go in */
};

static uint8_t *start(struct smb *s, uint8_t type, uint8_t len, uint16_t handle)
{
    s->cur = plat_buf_append(&s->t, len, 1);
    s->strings = 0;
    if (s->cur == SIZE_MAX)
        return NULL;
    uint8_t *p = s->t.data + s->cur;
    p[0] = type;
    p[1] = len;
    plat_put(p + 2, handle, 2);
    return p;
}

/* Adds a string; stores its number (1-based) at offset `field` of the
 * current structure, or 0 for a NULL or empty string. */
static void str(struct smb *s, unsigned field, const char *v)
{
    if (s->t.failed || !v || !*v)
        return;
    size_t n = strlen(v);
    bool ok = n <= STR_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = v[i] >= 0x20 && v[i] < 0x7f;
    if (!ok) {
        s->bad = v;
        return;
    }
    size_t at = plat_buf_append(&s->t, n + 1, 1);
    if (at == SIZE_MAX)
        return;
    memcpy(s->t.data + at, v, n);
    s->t.data[s->cur + field] = (uint8_t)++s->strings;
}

static void finish(struct smb *s)
{
    plat_buf_append(&s->t, s->strings ? 1 : 2, 1);
    if (s->t.failed)
        return;
    s->count++;
    if (s->t.len - s->cur > s->max_size)
        s->max_size = (unsigned)(s->t.len - s->cur);
}

static void type0(struct smb *s, const struct platform_smbios_config *c)
{
    uint8_t *p = start(s, 0, 0x18, 0x0000);
    if (!p)
        return;
    plat_put(p + 6, 0xe800, 2); /* starting segment: a 96 KiB BIOS */
    p[9] = 0;                   /* ROM size: 64 KiB units - 1 */
    p[10] = 0x08;               /* characteristics: not supported (bit 3) */
    p[19] = 0x04;               /* extension 2: targeted content distribution */
    p[20] = p[21] = 0;          /* BIOS release 0.0 */
    p[22] = p[23] = 0xff;       /* no embedded controller */
    str(s, 4, c->bios_vendor);
    str(s, 5, c->bios_version);
    str(s, 8, c->bios_date);
    finish(s);
}

static void type1(struct smb *s, const struct platform_smbios_config *c)
{
    uint8_t *p = start(s, 1, 0x1b, 0x0100);
    if (!p)
        return;
    /* UUID: time_low, time_mid, time_hi_and_version little-endian (2.6+) */
    const uint8_t *u = c->uuid;
    const uint8_t uuid[16] = {u[3], u[2], u[1],  u[0],  u[5],  u[4],  u[7],  u[6],
                              u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]};
    memcpy(p + 8, uuid, 16);
    p[24] = 0x06; /* wake-up: power switch */
    str(s, 4, c->manufacturer ? c->manufacturer : "Capsule");
    str(s, 5, c->product ? c->product : "Capsule Virtual Machine");
    str(s, 6, c->version);
    str(s, 7, c->serial);
    str(s, 26, "Capsule"); /* family */
    finish(s);
}

static void type3(struct smb *s, const struct platform_smbios_config *c)
{
    uint8_t *p = start(s, 3, 0x16, 0x0300);
    if (!p)
        return;
    p[5] = 0x01;                 /* type: other */
    p[9] = p[10] = p[11] = 0x03; /* boot-up, power supply, thermal: safe */
    p[12] = 0x02;                /* security: unknown */
    str(s, 4, c->manufacturer ? c->manufacturer : "Capsule");
    finish(s);
}

static void type4(struct smb *s, const struct platform_smbios_config *c, unsigned cpu)
{
    uint8_t *p = start(s, 4, 0x2a, (uint16_t)(0x0400 + cpu));
    if (!p)
        return;
    char socket[16];
    snprintf(socket, sizeof(socket), "CPU %u", cpu);
    p[5] = 0x03; /* central processor */
    p[6] = 0xfe; /* family: see family 2 */
    plat_put(p + 8, c->cpuid_signature, 4);
    plat_put(p + 12, c->cpuid_features, 4);
    plat_put(p + 0x14, 2000, 2); /* max speed, MHz */
    plat_put(p + 0x16, 2000, 2); /* current speed */
    p[0x18] = 0x41;              /* socket populated, CPU enabled */
    p[0x19] = 0x01;              /* upgrade: other */
    plat_put(p + 0x1a, 0xffff, 2);
    plat_put(p + 0x1c, 0xffff, 2);
    plat_put(p + 0x1e, 0xffff, 2);   /* no cache information */
    p[0x23] = p[0x24] = p[0x25] = 1; /* cores, enabled cores, threads */
    plat_put(p + 0x26, 0x0004, 2);   /* characteristics: 64-bit capable */
    plat_put(p + 0x28, 0x0001, 2);   /* family 2: other */
    str(s, 4, socket);
    str(s, 7, c->cpu_manufacturer);
    str(s, 0x10, c->cpu_version);
    finish(s);
}

static void memory(struct smb *s, const struct platform_smbios_config *c)
{
    uint64_t total = c->ram_below_4g + c->ram_above_4g;
    uint64_t kib = total >> 10, mib = total >> 20;
    uint8_t *p = start(s, 16, 0x17, 0x1000);
    if (!p)
        return;
    p[4] = 0x01; /* location: other */
    p[5] = 0x03; /* use: system memory */
    p[6] = 0x03; /* error correction: none */
    plat_put(p + 7, kib < 0x80000000u ? kib : 0x80000000u, 4);
    plat_put(p + 11, 0xfffe, 2); /* no error information */
    plat_put(p + 13, 1, 2);      /* one device */
    plat_put(p + 15, kib < 0x80000000u ? 0 : total, 8);
    finish(s);

    p = start(s, 17, 0x28, 0x1100);
    if (!p)
        return;
    plat_put(p + 4, 0x1000, 2); /* the array above */
    plat_put(p + 6, 0xfffe, 2); /* no error information */
    plat_put(p + 8, 64, 2);     /* total width */
    plat_put(p + 10, 64, 2);    /* data width */
    if (mib < 0x7fff) {
        plat_put(p + 12, mib, 2);
    } else {
        plat_put(p + 12, 0x7fff, 2); /* see the extended size */
        plat_put(p + 0x1c, mib, 4);
    }
    p[14] = 0x09;                  /* form factor: DIMM */
    p[0x12] = 0x07;                /* type: RAM */
    plat_put(p + 0x13, 0x0002, 2); /* type detail: unknown */
    str(s, 0x10, "DIMM 0");
    str(s, 0x17, "Capsule");
    finish(s);

    const uint64_t ranges[2][2] = {{0, c->ram_below_4g}, {PLATFORM_4G, c->ram_above_4g}};
    for (unsigned i = 0; i < 2; i++) {
        if (!ranges[i][1])
            continue;
        p = start(s, 19, 0x1f, (uint16_t)(0x1300 + i));
        if (!p)
            return;
        uint64_t a = ranges[i][0], e = a + ranges[i][1] - 1;
        if (e >> 10 < 0xffffffffu) {
            plat_put(p + 4, a >> 10, 4);
            plat_put(p + 8, e >> 10, 4);
        } else {
            plat_put(p + 4, 0xffffffffu, 4);
            plat_put(p + 8, 0xffffffffu, 4);
            plat_put(p + 15, a, 8);
            plat_put(p + 23, e, 8);
        }
        plat_put(p + 12, 0x1000, 2);
        p[14] = 1; /* partition width: one device */
        finish(s);
    }
}

void platform_smbios_set_address(uint8_t *ep, uint32_t table_gpa)
{
    plat_put(ep + 0x18, table_gpa, 4);
    ep[0x04] = 0;
    ep[0x04] = platform_checksum(ep, 0x10);
    ep[0x15] = 0;
    ep[0x15] = platform_checksum(ep + 0x10, PLATFORM_SMBIOS_EP_LEN - 0x10);
}

cap_result platform_smbios_build(const struct platform_smbios_config *c,
                                 struct platform_smbios *out, char *msg, size_t msglen)
{
    memset(out, 0, sizeof(*out));
    unsigned cpus = c->cpus ? c->cpus : 1;
    if (cpus > PLATFORM_MAX_CPUS_ARCH)
        return plat_fail(msg, msglen, CAP_E_INVALIDARG, "%u vCPUs: SMBIOS describes at most %u",
                         cpus, PLATFORM_MAX_CPUS_ARCH);
    struct smb s;
    memset(&s, 0, sizeof(s));
    if (c->bios_vendor)
        type0(&s, c);
    type1(&s, c);
    type3(&s, c);
    for (unsigned i = 0; i < cpus; i++)
        type4(&s, c, i);
    memory(&s, c);
    uint8_t *p = start(&s, 32, 0x0b, 0x2000);
    if (p)
        finish(&s); /* reserved bytes 0, boot status 0: no errors */
    if (start(&s, 127, 4, 0x7f00))
        finish(&s);
    if (s.bad) {
        plat_buf_free(&s.t);
        return plat_fail(msg, msglen, CAP_E_INVALIDARG,
                         "SMBIOS: '%.80s' is not 1-%d printable ASCII characters", s.bad, STR_MAX);
    }
    uint8_t *ep = calloc(1, PLATFORM_SMBIOS_EP_LEN);
    if (s.t.failed || !ep || s.t.len > 0xffff) {
        free(ep);
        plat_buf_free(&s.t);
        return plat_fail(msg, msglen, CAP_E_OUTOFMEMORY, "out of memory for the SMBIOS tables");
    }
    memcpy(ep, "_SM_", 4);
    ep[0x05] = PLATFORM_SMBIOS_EP_LEN;
    ep[0x06] = 2; /* version 2.8 */
    ep[0x07] = 8;
    plat_put(ep + 0x08, s.max_size, 2);
    memcpy(ep + 0x10, "_DMI_", 5);
    plat_put(ep + 0x16, s.t.len, 2);
    plat_put(ep + 0x1c, s.count, 2);
    ep[0x1e] = 0x28; /* BCD revision */
    platform_smbios_set_address(ep, 0);

    out->files[0] = (struct platform_file){.data = ep, .len = PLATFORM_SMBIOS_EP_LEN};
    out->files[1] = (struct platform_file){.data = s.t.data, .len = s.t.len};
    snprintf(out->files[0].name, PLATFORM_FILE_NAME_MAX, "%s", PLATFORM_SMBIOS_ANCHOR);
    snprintf(out->files[1].name, PLATFORM_FILE_NAME_MAX, "%s", PLATFORM_SMBIOS_TABLES);
    return CAP_OK;
}

void platform_smbios_free(struct platform_smbios *smbios)
{
    for (int i = 0; i < PLATFORM_SMBIOS_FILES; i++)
        free(smbios->files[i].data);
    memset(smbios, 0, sizeof(*smbios));
}

void platform_uuid_derive(const void *seed, size_t len, uint8_t uuid[16])
{
    /* two 64-bit FNV-1a lanes with different offset bases: not
     * cryptographic, just stable and spread */
    uint64_t h[2] = {0xcbf29ce484222325ull, 0x84222325cbf29ce4ull};
    const uint8_t *p = seed;
    for (size_t i = 0; i < len; i++)
        for (int l = 0; l < 2; l++)
            h[l] = (h[l] ^ p[i]) * 0x100000001b3ull;
    for (int i = 0; i < 16; i++)
        uuid[i] = (uint8_t)(h[i / 8] >> (8 * (7 - i % 8)));
    uuid[6] = (uint8_t)(0x80 | (uuid[6] & 0x0f)); /* version 8 */
    uuid[8] = (uint8_t)(0x80 | (uuid[8] & 0x3f)); /* variant 10 */
}
