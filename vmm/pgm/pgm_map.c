/*
 * pgm_map.c - the guest-physical map: adding and removing RAM, ROM and MMIO
 * ranges, and physical reads and writes that follow the map.
 *
 * The map is small (tens of ranges), so it is a sorted array searched by
 * bisection; a lookup costs a handful of compares and no allocation, which
 * matters on the MMIO exit path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "pgm_internal.h"

#define GPA_LIMIT (1ull << 52)

static const char *kind_name(enum pgm_range_kind k)
{
    return k == PGM_RANGE_RAM ? "RAM" : k == PGM_RANGE_ROM ? "ROM" : "MMIO";
}

cap_result pgm_create(struct pgm **out)
{
    *out = calloc(1, sizeof(**out));
    if (!*out)
        return cap_error_set(CAP_E_OUTOFMEMORY, VMM_COMPONENT, NULL, "pgm: out of memory");
    return CAP_OK;
}

void pgm_destroy(struct pgm *pgm)
{
    if (!pgm)
        return;
    for (unsigned i = 0; i < pgm->nranges; i++) {
        hostmem_free(&pgm->ranges[i].mem);
        free(pgm->ranges[i].r.dirty);
    }
    free(pgm);
}

/* Index of the first range whose end is above gpa (nranges if none). */
static unsigned lower_bound(const struct pgm *pgm, uint64_t gpa)
{
    unsigned lo = 0, hi = pgm->nranges;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        const struct pgm_range *r = &pgm->ranges[mid].r;
        if (r->gpa + r->size <= gpa)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const struct pgm_range *pgm_find(const struct pgm *pgm, uint64_t gpa)
{
    unsigned i = lower_bound(pgm, gpa);
    if (i < pgm->nranges && pgm->ranges[i].r.gpa <= gpa)
        return &pgm->ranges[i].r;
    return NULL;
}

unsigned pgm_range_count(const struct pgm *pgm)
{
    return pgm->nranges;
}

const struct pgm_range *pgm_range_at(const struct pgm *pgm, unsigned i)
{
    return i < pgm->nranges ? &pgm->ranges[i].r : NULL;
}

static cap_result notify(struct pgm *pgm, const struct pgm_range *r, cap_bool added)
{
    if (r->kind == PGM_RANGE_MMIO)
        return CAP_OK;
    for (unsigned i = 0; i < pgm->nlisteners; i++) {
        cap_result rc = pgm->listeners[i].changed(pgm->listeners[i].opaque, r, added);
        if (CAP_FAILED(rc) && added) {
            while (i-- > 0)
                pgm->listeners[i].changed(pgm->listeners[i].opaque, r, CAP_FALSE);
            return rc;
        }
    }
    return CAP_OK;
}

static cap_result insert(struct pgm *pgm, struct pgm_slot *s)
{
    struct pgm_range *r = &s->r;
    if (r->size == 0 || r->gpa >= GPA_LIMIT || r->size > GPA_LIMIT - r->gpa)
        return cap_error_set(CAP_E_INVALIDARG, VMM_COMPONENT, NULL,
                             "pgm: %s range '%s' at 0x%llx size 0x%llx is empty or beyond 2^52",
                             kind_name(r->kind), r->name, (unsigned long long)r->gpa,
                             (unsigned long long)r->size);
    if (pgm->nranges == PGM_MAX_RANGES)
        return cap_error_set(CAP_E_OUTOFMEMORY, VMM_COMPONENT, NULL,
                             "pgm: too many ranges (%u) to add '%s'", PGM_MAX_RANGES, r->name);
    unsigned i = lower_bound(pgm, r->gpa);
    if (i < pgm->nranges && pgm->ranges[i].r.gpa < r->gpa + r->size) {
        const struct pgm_range *o = &pgm->ranges[i].r;
        return cap_error_set(VMM_E_RANGE_OVERLAP, VMM_COMPONENT, NULL,
                             "pgm: %s range '%s' [0x%llx-0x%llx] overlaps %s range '%s' "
                             "[0x%llx-0x%llx]",
                             kind_name(r->kind), r->name, (unsigned long long)r->gpa,
                             (unsigned long long)(r->gpa + r->size - 1), kind_name(o->kind),
                             o->name, (unsigned long long)o->gpa,
                             (unsigned long long)(o->gpa + o->size - 1));
    }
    cap_result rc = notify(pgm, r, CAP_TRUE);
    if (CAP_FAILED(rc))
        return rc;
    memmove(&pgm->ranges[i + 1], &pgm->ranges[i], (pgm->nranges - i) * sizeof(pgm->ranges[0]));
    pgm->ranges[i] = *s;
    pgm->nranges++;
    return CAP_OK;
}

static cap_result map_memory(struct pgm *pgm, enum pgm_range_kind kind, uint64_t gpa,
                             uint64_t size, const void *data, size_t len, const char *name)
{
    struct pgm_slot s = {.r = {.gpa = gpa, .size = size, .kind = kind}};
    snprintf(s.r.name, sizeof(s.r.name), "%s", name ? name : "?");
    if ((gpa | size) & PGM_PAGE_MASK)
        return cap_error_set(CAP_E_INVALIDARG, VMM_COMPONENT, NULL,
                             "pgm: %s range '%s' at 0x%llx size 0x%llx is not page-aligned",
                             kind_name(kind), s.r.name, (unsigned long long)gpa,
                             (unsigned long long)size);
    if (len > size)
        return cap_error_set(CAP_E_INVALIDARG, VMM_COMPONENT, NULL,
                             "pgm: ROM image '%s' of %zu bytes exceeds its range of 0x%llx",
                             s.r.name, len, (unsigned long long)size);
    /* Check placement before allocating, so an overlap costs nothing. */
    unsigned i = lower_bound(pgm, gpa);
    if (size && gpa < GPA_LIMIT && i < pgm->nranges && pgm->ranges[i].r.gpa < gpa + size)
        return insert(pgm, &s); /* reports the overlap */
    if (size) {
        cap_result rc = hostmem_alloc(&s.mem, size);
        if (CAP_FAILED(rc))
            return rc;
        s.r.hva = s.mem.base;
        if (len)
            memcpy(s.r.hva, data, len);
    }
    cap_result rc = insert(pgm, &s);
    if (CAP_FAILED(rc))
        hostmem_free(&s.mem);
    return rc;
}

cap_result pgm_map_ram(struct pgm *pgm, uint64_t gpa, uint64_t size, const char *name)
{
    return map_memory(pgm, PGM_RANGE_RAM, gpa, size, NULL, 0, name);
}

cap_result pgm_map_rom(struct pgm *pgm, uint64_t gpa, uint64_t size, const void *data, size_t len,
                       const char *name)
{
    return map_memory(pgm, PGM_RANGE_ROM, gpa, size, data, len, name);
}

/* Words of a dirty bitmap for `size` bytes of pages. */
static size_t dirty_words(uint64_t size)
{
    return (size_t)((size / PGM_PAGE_SIZE + 63) / 64);
}

cap_result pgm_map_ram_external(struct pgm *pgm, uint64_t gpa, uint64_t size, void *hva,
                                unsigned flags, const char *name)
{
    struct pgm_slot s = {
        .r = {.gpa = gpa, .size = size, .kind = PGM_RANGE_RAM, .hva = hva, .external = CAP_TRUE}};
    snprintf(s.r.name, sizeof(s.r.name), "%s", name ? name : "?");
    if (!hva || ((uintptr_t)hva & PGM_PAGE_MASK))
        return cap_error_set(CAP_E_POINTER, VMM_COMPONENT, NULL,
                             "pgm: RAM range '%s' needs page-aligned host memory", s.r.name);
    if ((gpa | size) & PGM_PAGE_MASK)
        return cap_error_set(CAP_E_INVALIDARG, VMM_COMPONENT, NULL,
                             "pgm: RAM range '%s' at 0x%llx size 0x%llx is not page-aligned",
                             s.r.name, (unsigned long long)gpa, (unsigned long long)size);
    if ((flags & PGM_RAM_TRACK_DIRTY) && size) {
        size_t n = dirty_words(size);
        s.r.dirty = malloc(n * sizeof(*s.r.dirty));
        if (!s.r.dirty)
            return cap_error_set(CAP_E_OUTOFMEMORY, VMM_COMPONENT, NULL, "pgm: out of memory");
        memset(s.r.dirty, 0xff, n * sizeof(*s.r.dirty)); /* all new to the collector */
    }
    cap_result rc = insert(pgm, &s);
    if (CAP_FAILED(rc))
        free(s.r.dirty);
    return rc;
}

static void mark_range(const struct pgm_range *r, uint64_t gpa, uint64_t len)
{
    if (!len)
        return;
    uint64_t first = (gpa - r->gpa) / PGM_PAGE_SIZE;
    uint64_t last = (gpa - r->gpa + len - 1) / PGM_PAGE_SIZE;
    for (uint64_t p = first; p <= last; p++)
        __atomic_fetch_or(&r->dirty[p / 64], 1ull << (p % 64), __ATOMIC_RELAXED);
}

void pgm_dirty_mark(const struct pgm *pgm, uint64_t gpa, uint64_t len)
{
    while (len) {
        const struct pgm_range *r = pgm_find(pgm, gpa);
        if (!r)
            return; /* unassigned: no tracked RAM (callers mark within one range) */
        uint64_t n = r->gpa + r->size - gpa;
        if (n > len)
            n = len;
        if (r->dirty)
            mark_range(r, gpa, n);
        gpa += n, len -= n;
    }
}

cap_result pgm_dirty_collect(struct pgm *pgm, uint64_t gpa, uint64_t *bitmap, uint64_t npages)
{
    unsigned i = lower_bound(pgm, gpa);
    const struct pgm_range *r = i < pgm->nranges ? &pgm->ranges[i].r : NULL;
    if (!r || r->gpa != gpa || !r->dirty)
        return cap_error_set(VMM_E_RANGE_NOT_FOUND, VMM_COMPONENT, NULL,
                             "pgm: no dirty-tracked RAM range starts at 0x%llx",
                             (unsigned long long)gpa);
    for (unsigned l = 0; l < pgm->nlisteners; l++) {
        const struct pgm_listener *li = &pgm->listeners[l];
        cap_result rc = li->dirty_log ? li->dirty_log(li->opaque, r, r->dirty) : CAP_OK;
        if (CAP_FAILED(rc))
            return rc;
    }
    uint64_t pages = r->size / PGM_PAGE_SIZE;
    if (npages > pages)
        npages = pages;
    for (uint64_t w = 0; w * 64 < npages; w++) {
        uint64_t take = npages - w * 64 >= 64 ? ~0ull : (1ull << (npages - w * 64)) - 1;
        uint64_t got = __atomic_fetch_and(&r->dirty[w], ~take, __ATOMIC_RELAXED);
        bitmap[w] = (bitmap[w] & ~take) | (got & take);
    }
    return CAP_OK;
}

cap_result pgm_map_mmio(struct pgm *pgm, uint64_t gpa, uint64_t size,
                        const struct pgm_mmio_ops *ops, void *opaque, const char *name)
{
    struct pgm_slot s = {.r = {.gpa = gpa, .size = size, .kind = PGM_RANGE_MMIO, .ops = ops,
                               .opaque = opaque}};
    snprintf(s.r.name, sizeof(s.r.name), "%s", name ? name : "?");
    if (!ops || !ops->read || !ops->write)
        return cap_error_set(CAP_E_POINTER, VMM_COMPONENT, NULL,
                             "pgm: MMIO range '%s' needs read and write callbacks", s.r.name);
    return insert(pgm, &s);
}

cap_result pgm_unmap(struct pgm *pgm, uint64_t gpa)
{
    unsigned i = lower_bound(pgm, gpa);
    if (i >= pgm->nranges || pgm->ranges[i].r.gpa != gpa)
        return cap_error_set(VMM_E_RANGE_NOT_FOUND, VMM_COMPONENT, NULL,
                             "pgm: no range starts at 0x%llx", (unsigned long long)gpa);
    struct pgm_slot s = pgm->ranges[i];
    notify(pgm, &s.r, CAP_FALSE);
    memmove(&pgm->ranges[i], &pgm->ranges[i + 1], (pgm->nranges - i - 1) * sizeof(s));
    pgm->nranges--;
    hostmem_free(&s.mem);
    free(s.r.dirty);
    return CAP_OK;
}

cap_result pgm_add_listener(struct pgm *pgm, const struct pgm_listener *l)
{
    if (pgm->nlisteners == PGM_MAX_LISTENERS)
        return cap_error_set(CAP_E_OUTOFMEMORY, VMM_COMPONENT, NULL, "pgm: too many listeners");
    for (unsigned i = 0; i < pgm->nranges; i++) {
        const struct pgm_range *r = &pgm->ranges[i].r;
        if (r->kind == PGM_RANGE_MMIO)
            continue;
        cap_result rc = l->changed(l->opaque, r, CAP_TRUE);
        if (CAP_FAILED(rc)) {
            while (i-- > 0)
                if (pgm->ranges[i].r.kind != PGM_RANGE_MMIO)
                    l->changed(l->opaque, &pgm->ranges[i].r, CAP_FALSE);
            return rc;
        }
    }
    pgm->listeners[pgm->nlisteners++] = *l;
    return CAP_OK;
}

void pgm_remove_listener(struct pgm *pgm, const struct pgm_listener *l)
{
    for (unsigned i = 0; i < pgm->nlisteners; i++)
        if (pgm->listeners[i].changed == l->changed && pgm->listeners[i].opaque == l->opaque) {
            memmove(&pgm->listeners[i], &pgm->listeners[i + 1],
                    (pgm->nlisteners - i - 1) * sizeof(*l));
            pgm->nlisteners--;
            return;
        }
}

void *pgm_gpa_to_hva(const struct pgm *pgm, uint64_t gpa, size_t len, cap_bool writable)
{
    const struct pgm_range *r = pgm_find(pgm, gpa);
    if (!r || !r->hva || (writable && r->kind != PGM_RANGE_RAM))
        return NULL;
    if (len > r->size || gpa - r->gpa > r->size - len)
        return NULL;
    return r->hva + (gpa - r->gpa);
}

/* Largest naturally aligned piece (<= 8 bytes) at off within n bytes. */
static unsigned mmio_piece(uint64_t off, uint64_t n)
{
    unsigned size = 8;
    while (size > 1 && ((off & (size - 1)) || size > n))
        size /= 2;
    return size;
}

/* One chunk of an access inside range r (or unassigned when r is NULL). */
static cap_result access_chunk(const struct pgm_range *r, uint64_t gpa, uint8_t *buf,
                               uint64_t n, cap_bool write)
{
    if (!r) {
        if (!write)
            memset(buf, 0xff, n);
        return CAP_OK;
    }
    uint64_t off = gpa - r->gpa;
    if (r->kind != PGM_RANGE_MMIO) {
        if (!write)
            memcpy(buf, r->hva + off, n);
        else if (r->kind == PGM_RANGE_RAM)
            memcpy(r->hva + off, buf, n);
        if (write && r->dirty)
            mark_range(r, gpa, n);
        return CAP_OK; /* ROM writes are ignored */
    }
    while (n) {
        unsigned size = mmio_piece(off, n);
        cap_result rc = write ? r->ops->write(r->opaque, off, buf, size)
                              : r->ops->read(r->opaque, off, buf, size);
        if (CAP_FAILED(rc))
            return rc;
        off += size, buf += size, n -= size;
    }
    return CAP_OK;
}

static cap_result phys_access(struct pgm *pgm, uint64_t gpa, uint8_t *buf, size_t len,
                              cap_bool write)
{
    while (len) {
        unsigned i = lower_bound(pgm, gpa);
        const struct pgm_range *r = i < pgm->nranges ? &pgm->ranges[i].r : NULL;
        uint64_t n;
        if (r && r->gpa <= gpa) {
            n = r->gpa + r->size - gpa;
        } else {
            n = r ? r->gpa - gpa : UINT64_MAX; /* unassigned up to the next range */
            r = NULL;
        }
        if (n > len)
            n = len;
        cap_result rc = access_chunk(r, gpa, buf, n, write);
        if (CAP_FAILED(rc))
            return rc;
        gpa += n, buf += n, len -= n;
    }
    return CAP_OK;
}

cap_result pgm_phys_read(struct pgm *pgm, uint64_t gpa, void *buf, size_t len)
{
    return phys_access(pgm, gpa, buf, len, CAP_FALSE);
}

cap_result pgm_phys_write(struct pgm *pgm, uint64_t gpa, const void *buf, size_t len)
{
    return phys_access(pgm, gpa, (uint8_t *)buf, len, CAP_TRUE);
}
