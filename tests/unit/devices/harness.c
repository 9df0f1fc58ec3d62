/*
 * tests/unit/devices/harness.c - the fake VMM (see harness.h).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <capsule/mem.h>

#include "harness.h"
#include "platform/platform.h"

static uint64_t fake_now(void *ctx)
{
    return ((struct harness *)ctx)->host_ns;
}

static void h_irq_sink(void *ctx, unsigned irq, int level)
{
    struct harness *h = ctx;
    if (irq >= 24)
        return;
    if (level && !h->irq_level[irq])
        h->irq_raises[irq]++;
    h->irq_level[irq] = level;
}

static void h_intr(void *ctx, int level)
{
    ((struct harness *)ctx)->intr = level;
}

static void h_power_off(void *ctx, const char *who, int code)
{
    struct harness *h = ctx;
    h->power_offs++;
    h->exit_code = code;
}

static void h_reset(void *ctx, const char *who)
{
    ((struct harness *)ctx)->resets++;
}

static void h_a20(void *ctx, bool on)
{
    ((struct harness *)ctx)->a20 = on;
}

static void h_nmi(void *ctx, unsigned cpu)
{
    ((struct harness *)ctx)->nmis++;
}

static uint64_t h_apic_base(void *ctx, unsigned cpu)
{
    return ((struct harness *)ctx)->apic_base;
}

static void h_log(void *ctx, const char *who, enum pdm_log_level level, const char *msg)
{
    struct harness *h = ctx;
    size_t used = strlen(h->log);
    snprintf(h->log + used, sizeof(h->log) - used, "%s: %s\n", who, msg);
}

static void h_iom_log(void *ctx, const char *msg)
{
    h_log(ctx, "iom", PDM_LOG_INFO, msg);
}

static cap_result h_phys_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    struct harness *h = ctx;
    if (gpa > HARNESS_RAM || len > HARNESS_RAM - gpa)
        return CAP_E_INVALIDARG;
    memcpy(buf, h->ram + gpa, len);
    return CAP_OK;
}

static cap_result h_phys_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
    struct harness *h = ctx;
    if (gpa > HARNESS_RAM || len > HARNESS_RAM - gpa)
        return CAP_E_INVALIDARG;
    memcpy(h->ram + gpa, buf, len);
    return CAP_OK;
}

static cap_result h_map_ram(void *ctx, uint64_t gpa, uint64_t size, void *hva, const char *name)
{
    struct harness *h = ctx;
    return pgm_map_ram_external(h->pgm, gpa, size, hva, PGM_RAM_TRACK_DIRTY, name);
}

static void h_unmap_ram(void *ctx, uint64_t gpa)
{
    struct harness *h = ctx;
    ck_assert_int_eq(pgm_unmap(h->pgm, gpa), CAP_OK);
}

static cap_result h_dirty_collect(void *ctx, uint64_t gpa, uint64_t *bitmap, uint64_t npages)
{
    struct harness *h = ctx;
    return pgm_dirty_collect(h->pgm, gpa, bitmap, npages);
}

static const struct pdm_host_ops h_host = {
    .map_ram = h_map_ram,
    .unmap_ram = h_unmap_ram,
    .dirty_collect = h_dirty_collect,
    .cpu_set_intr = h_intr,
    .irq_sink = h_irq_sink,
    .power_off = h_power_off,
    .reset = h_reset,
    .set_a20 = h_a20,
    .log = h_log,
    .cpu_nmi = h_nmi,
    .cpu_apic_base = h_apic_base,
};

static const struct pdm_phys_ops h_phys = {.read = h_phys_read, .write = h_phys_write};

void h_setup(struct harness *h)
{
    memset(h, 0, sizeof(*h));
    h->exit_code = -2;
    h->apic_base = 0xfee00900u; /* IA32_APIC_BASE at reset: enabled, BSP */
    h->host_ns = 1000000;
    h->ram = calloc(1, HARNESS_RAM);
    ck_assert_ptr_nonnull(h->ram);
    char *dir = NULL;
    ck_assert_int_eq(cap_exe_relative_path("../lib/components", &dir), CAP_OK);
    ck_assert_int_eq(cap_registry_create(&h->reg), CAP_OK);
    /* Other engineers' manifests may be mid-edit: only the devices matter. */
    cap_registry_load_manifests(h->reg, dir);
    cap_error_clear();
    cap_str_free(dir);
    ck_assert_int_eq(iom_create(h_iom_log, h, &h->iom), CAP_OK);
    ck_assert_int_eq(pgm_create(&h->pgm), CAP_OK);
    struct tm_clock_source src = {.now_ns = fake_now, .ctx = h};
    ck_assert_int_eq(tm_create(&src, &h->tm), CAP_OK);
    tm_resume(h->tm);
    struct pdm_create_info ci = {.registry = h->reg, .iom = h->iom, .tm = h->tm,
                                 .host = &h_host, .host_ctx = h, .phys = &h_phys,
                                 .phys_ctx = h};
    ck_assert_int_eq(pdm_create(&ci, &h->pdm), CAP_OK);
}

void h_teardown(struct harness *h)
{
    pdm_destroy(h->pdm);
    tm_destroy(h->tm);
    iom_set_mmio_listener(h->iom, NULL);
    iom_destroy(h->iom);
    pgm_destroy(h->pgm);
    cap_registry_destroy(h->reg);
    free(h->ram);
    cap_error_clear();
}

cap_result h_add_values(struct harness *h, const char *device, const struct pdm_cfg_value *v,
                        size_t n)
{
    struct pdm_dev_config dc = {.device = device, .values = v, .n_values = n};
    return pdm_instantiate(h->pdm, &dc, 1);
}

int h_run_case(const char *suite, TCase *tc)
{
    Suite *s = suite_create(suite);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

cap_result h_add_platform(struct harness *h, const char *device, uint64_t ram_mb, unsigned firmware)
{
    struct platform *p = malloc(sizeof(*p));
    ck_assert_ptr_nonnull(p);
    struct platform_config pc = {.ram_bytes = ram_mb << 20, .firmware = firmware};
    char msg[128];
    ck_assert_int_eq(platform_init(&pc, p, msg, sizeof(msg)), CAP_OK);
    const struct platform_device *d = platform_device_find(p, device);
    ck_assert_ptr_nonnull(d);
    cap_result rc = h_add_values(h, device, d->values, d->n_values);
    free(p);
    return rc;
}

cap_result h_add(struct harness *h, const char *device, const struct pdm_cfg_kv *kv, size_t n)
{
    struct pdm_cfg_value *v = calloc(n + 1, sizeof(*v));
    char **text = calloc(n + 1, sizeof(*text));
    ck_assert(v && text);
    cap_result rc = CAP_OK;
    for (size_t i = 0; CAP_SUCCEEDED(rc) && i < n; i++) {
        text[i] = strdup(kv[i].value);
        ck_assert_ptr_nonnull(text[i]);
        rc = pdm_cfg_parse(device, kv[i].key, text[i], &v[i]);
    }
    if (CAP_SUCCEEDED(rc))
        rc = h_add_values(h, device, v, n); /* PDM keeps copies */
    for (size_t i = 0; i < n; i++)
        free(text[i]);
    free(text);
    free(v);
    return rc;
}

uint32_t h_in(struct harness *h, uint16_t port, unsigned size)
{
    uint32_t v = 0xdeadbeef;
    ck_assert_int_eq(iom_io_read(h->iom, port, size, &v), CAP_OK);
    return v;
}

void h_out(struct harness *h, uint16_t port, unsigned size, uint32_t val)
{
    ck_assert_int_eq(iom_io_write(h->iom, port, size, val), CAP_OK);
}

/* PGM's MMIO ranges of h_mirror_mmio only hold the place: h_mmio_in/out
 * go to IOM for all but RAM, so PGM never dispatches to them. */
static cap_result mirror_write(void *o, uint64_t off, const void *d, unsigned n)
{
    return CAP_OK;
}

static cap_result mirror_read(void *o, uint64_t off, void *d, unsigned n)
{
    return mirror_write(o, off, memset(d, 0xff, n), n);
}

static const struct pgm_mmio_ops mirror_ops = {.read = mirror_read, .write = mirror_write};

static cap_result mirror_mapped(void *ctx, uint64_t base, uint64_t size, const char *desc)
{
    return pgm_map_mmio(((struct harness *)ctx)->pgm, base, size, &mirror_ops, ctx, desc);
}

static void mirror_unmapped(void *ctx, uint64_t base)
{
    pgm_unmap(((struct harness *)ctx)->pgm, base);
}

void h_mirror_mmio(struct harness *h)
{
    struct iom_mmio_listener l = {.mapped = mirror_mapped, .unmapped = mirror_unmapped, .ctx = h};
    iom_set_mmio_listener(h->iom, &l);
}

static bool pgm_ram(struct harness *h, uint64_t addr)
{
    const struct pgm_range *r = pgm_find(h->pgm, addr);
    return r && r->kind == PGM_RANGE_RAM;
}

uint64_t h_mmio_in(struct harness *h, uint64_t addr, unsigned size)
{
    uint64_t v = 0xdeadbeef;
    if (pgm_ram(h, addr)) {
        v = 0;
        ck_assert_int_eq(pgm_phys_read(h->pgm, addr, &v, size), CAP_OK);
        return v;
    }
    ck_assert_int_eq(iom_mmio_read(h->iom, addr, size, &v), CAP_OK);
    return v;
}

void h_mmio_out(struct harness *h, uint64_t addr, unsigned size, uint64_t val)
{
    if (pgm_ram(h, addr)) {
        ck_assert_int_eq(pgm_phys_write(h->pgm, addr, &val, size), CAP_OK);
        return;
    }
    ck_assert_int_eq(iom_mmio_write(h->iom, addr, size, val), CAP_OK);
}

void h_advance(struct harness *h, uint64_t ns)
{
    h->host_ns += ns;
    pdm_poll_timers(h->pdm);
}

bool h_logged(struct harness *h, const char *needle)
{
    return strstr(h->log, needle) != NULL;
}

static char ssm_path[64];

void h_ssm_save(struct harness *h)
{
    struct ssm_writer *w;
    snprintf(ssm_path, sizeof ssm_path, "/tmp/capsule-dev-%d.sav", (int)getpid());
    ck_assert_int_eq(ssm_writer_create(ssm_path, "harness", &w), CAP_OK);
    ck_assert_int_eq(pdm_save_units(h->pdm, w), CAP_OK);
    ck_assert_int_eq(ssm_writer_commit(w, NULL), CAP_OK);
}

cap_result h_ssm_load(struct harness *h)
{
    struct ssm_reader *r;
    ck_assert_int_eq(ssm_open(ssm_path, &r), CAP_OK);
    unlink(ssm_path);
    cap_result rc = pdm_load_units(h->pdm, r);
    ssm_close(r);
    return rc;
}
