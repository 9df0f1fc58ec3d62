/*
 * vmm/iom/iom.c - IOM: the port and MMIO range tables and dispatch.
 *
 * Port and MMIO ranges live in two instances of the same sorted table (base,
 * size, callback, owner), kept in base order so that a lookup is a binary
 * search and an insertion can check its two neighbours for overlap. The
 * tables change mostly while devices are constructed or destroyed (and when
 * a guest maps a PCI BAR), while lookups happen on every exit: a read-write
 * lock lets vCPUs dispatch in parallel, held only for the lookup.
 *
 * Unclaimed accesses are part of normal guest behaviour (probing for absent
 * hardware), so they are counted and logged once per port, never failed.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/result.h>

#include "iom.h"
#include "stam/stam.h"

#define IOM_COMPONENT "iom"

union iom_fn {
    iom_io_fn io;
    iom_mmio_fn mmio;
};

struct iom_range {
    uint64_t base, size; /* [base, base+size) */
    uint32_t flags;
    union iom_fn fn;
    void *user;
    char *desc;
    uint64_t reads, writes;
};

struct iom_table {
    struct iom_range *r; /* sorted by base, no overlaps */
    size_t n, cap;
    size_t hint;         /* index of the last range found; atomic (see table_find) */
};

struct iom {
    pthread_rwlock_t lock;
    struct iom_table io, mmio;
    iom_log_fn log;
    void *log_ctx;
    /* Statistics and the log-once state: atomics, updated under the read lock. */
    struct iom_stats stats;
    uint8_t io_logged[65536 / 8];
    uint64_t mmio_logged[IOM_MMIO_LOG_PAGES]; /* page numbers + 1; 0 = free */
    struct iom_mmio_listener listener; /* PGM's hook; zeroed if none */
    struct stam *stam;                 /* where stats is registered, or NULL */
};

static void iom_logf(struct iom *iom, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void iom_logf(struct iom *iom, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (iom->log)
        iom->log(iom->log_ctx, buf);
    else
        fprintf(stderr, "iom: %s\n", buf);
}

/* Statistics only: a relaxed load and store, no locked instruction on the
 * exit path. Two threads dispatching to the same range at the same moment
 * may lose a count between them; no reader needs it exact. */
static void count(uint64_t *c)
{
    __atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

cap_result iom_create(iom_log_fn log, void *log_ctx, struct iom **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    struct iom *iom = calloc(1, sizeof(*iom));
    if (!iom)
        return cap_error_set(CAP_E_OUTOFMEMORY, IOM_COMPONENT, NULL, "out of memory");
    if (pthread_rwlock_init(&iom->lock, NULL) != 0) {
        free(iom);
        return cap_error_set(CAP_E_FAIL, IOM_COMPONENT, NULL, "cannot create a lock");
    }
    iom->log = log;
    iom->log_ctx = log_ctx;
    *out = iom;
    return CAP_OK;
}

static void table_free(struct iom_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->r[i].desc);
    free(t->r);
    t->r = NULL;
    t->n = t->cap = 0;
}

void iom_destroy(struct iom *iom)
{
    if (!iom)
        return;
    if (iom->stam) {
        stam_deregister(iom->stam, "/IOM/IO/");
        stam_deregister(iom->stam, "/IOM/MMIO/");
    }
    table_free(&iom->io);
    table_free(&iom->mmio);
    pthread_rwlock_destroy(&iom->lock);
    free(iom);
}

/* ---- the sorted table ---------------------------------------------------- */

/* Index of the first range whose base is > addr. */
static size_t upper_bound(const struct iom_table *t, uint64_t addr)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->r[mid].base <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/*
 * Guests hammer one range at a time (a UART, a timer, a disk's data port),
 * so the range found last is tried before the binary search. The hint is
 * only an index, checked against the range it names: after the table
 * changed it may name another range or none, and then the search runs -
 * ranges never overlap, so a range that contains addr is the answer. Read
 * lock held (or the write lock); readers update the hint concurrently,
 * hence the relaxed atomics.
 */
static struct iom_range *table_find(struct iom_table *t, uint64_t addr)
{
    size_t h = __atomic_load_n(&t->hint, __ATOMIC_RELAXED);
    if (h < t->n && addr - t->r[h].base < t->r[h].size)
        return &t->r[h];
    size_t i = upper_bound(t, addr);
    if (i == 0)
        return NULL;
    struct iom_range *r = &t->r[i - 1];
    if (addr - r->base >= r->size)
        return NULL;
    __atomic_store_n(&t->hint, i - 1, __ATOMIC_RELAXED);
    return r;
}

static int overlaps(const struct iom_range *r, uint64_t base, uint64_t size)
{
    return base < r->base + r->size && r->base < base + size;
}

static cap_result table_insert(struct iom *iom, struct iom_table *t, const char *kind,
                               const struct iom_range *nr)
{
    size_t i = upper_bound(t, nr->base);
    const struct iom_range *clash = NULL;
    if (i > 0 && overlaps(&t->r[i - 1], nr->base, nr->size))
        clash = &t->r[i - 1];
    else if (i < t->n && overlaps(&t->r[i], nr->base, nr->size))
        clash = &t->r[i];
    if (clash)
        return cap_error_set(CAP_E_INVALIDARG, IOM_COMPONENT, NULL,
                             "%s range 0x%" PRIx64 "-0x%" PRIx64 " (%s) overlaps 0x%" PRIx64
                             "-0x%" PRIx64 " (%s)",
                             kind, nr->base, nr->base + nr->size - 1, nr->desc, clash->base,
                             clash->base + clash->size - 1, clash->desc);
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        struct iom_range *r = realloc(t->r, cap * sizeof(*r));
        if (!r)
            return cap_error_set(CAP_E_OUTOFMEMORY, IOM_COMPONENT, NULL, "out of memory");
        t->r = r;
        t->cap = cap;
    }
    memmove(&t->r[i + 1], &t->r[i], (t->n - i) * sizeof(*t->r));
    t->r[i] = *nr;
    t->n++;
    return CAP_OK;
}

static void table_remove_at(struct iom_table *t, size_t i)
{
    free(t->r[i].desc);
    memmove(&t->r[i], &t->r[i + 1], (t->n - i - 1) * sizeof(*t->r));
    t->n--;
}

static cap_result do_register(struct iom *iom, struct iom_table *t, const char *kind,
                              struct iom_range *nr, uint64_t limit)
{
    if (!iom || !nr->fn.io)
        return cap_error_set(CAP_E_POINTER, IOM_COMPONENT, NULL, "NULL iom or callback");
    const char *desc = nr->desc ? nr->desc : "(unnamed)";
    if (nr->size == 0 || nr->base > limit || nr->size - 1 > limit - nr->base)
        return cap_error_set(CAP_E_INVALIDARG, IOM_COMPONENT, NULL,
                             "%s range at 0x%" PRIx64 " of size 0x%" PRIx64 " (%s) is invalid",
                             kind, nr->base, nr->size, desc);
    nr->desc = strdup(desc);
    if (!nr->desc)
        return cap_error_set(CAP_E_OUTOFMEMORY, IOM_COMPONENT, NULL, "out of memory");
    pthread_rwlock_wrlock(&iom->lock);
    cap_result rc = table_insert(iom, t, kind, nr);
    pthread_rwlock_unlock(&iom->lock);
    if (CAP_FAILED(rc))
        free(nr->desc);
    return rc;
}

cap_result iom_register_io(struct iom *iom, uint16_t base, uint32_t count, uint32_t flags,
                           iom_io_fn fn, void *user, const char *desc)
{
    struct iom_range nr = {.base = base, .size = count, .flags = flags, .fn.io = fn,
                           .user = user, .desc = (char *)desc};
    return do_register(iom, iom ? &iom->io : NULL, "port", &nr, 0xffff);
}

cap_result iom_register_mmio(struct iom *iom, uint64_t base, uint64_t size, uint32_t flags,
                             iom_mmio_fn fn, void *user, const char *desc)
{
    struct iom_range nr = {.base = base, .size = size, .flags = flags, .fn.mmio = fn,
                           .user = user, .desc = (char *)desc};
    cap_result rc = do_register(iom, iom ? &iom->mmio : NULL, "MMIO", &nr, UINT64_MAX);
    if (CAP_FAILED(rc) || !iom->listener.mapped)
        return rc;
    rc = iom->listener.mapped(iom->listener.ctx, base, size, desc ? desc : "(unnamed)");
    if (CAP_FAILED(rc)) {
        struct cap_error_info saved = {0};
        cap_error_take(&saved); /* the deregistration must not replace the reason */
        iom_deregister_mmio(iom, base, user);
        cap_error_set_info(&saved);
        cap_error_info_clear(&saved);
    }
    return rc;
}

void iom_set_mmio_listener(struct iom *iom, const struct iom_mmio_listener *l)
{
    if (!iom)
        return;
    pthread_rwlock_wrlock(&iom->lock);
    if (l)
        iom->listener = *l;
    else
        memset(&iom->listener, 0, sizeof(iom->listener));
    pthread_rwlock_unlock(&iom->lock);
}

static cap_result do_deregister(struct iom *iom, struct iom_table *t, const char *kind,
                                uint64_t base, void *user)
{
    cap_result rc = CAP_OK;
    pthread_rwlock_wrlock(&iom->lock);
    struct iom_range *r = table_find(t, base);
    if (r && r->base == base && r->user == user)
        table_remove_at(t, (size_t)(r - t->r));
    else
        rc = cap_error_set(CAP_E_INVALIDARG, IOM_COMPONENT, NULL,
                           "no %s range registered at 0x%" PRIx64 " by this owner", kind, base);
    pthread_rwlock_unlock(&iom->lock);
    return rc;
}

cap_result iom_deregister_io(struct iom *iom, uint16_t base, void *user)
{
    if (!iom)
        return CAP_E_POINTER;
    return do_deregister(iom, &iom->io, "port", base, user);
}

cap_result iom_deregister_mmio(struct iom *iom, uint64_t base, void *user)
{
    if (!iom)
        return CAP_E_POINTER;
    cap_result rc = do_deregister(iom, &iom->mmio, "MMIO", base, user);
    if (CAP_SUCCEEDED(rc) && iom->listener.unmapped)
        iom->listener.unmapped(iom->listener.ctx, base);
    return rc;
}

void iom_deregister_all(struct iom *iom, void *user)
{
    if (!iom)
        return;
    pthread_rwlock_wrlock(&iom->lock);
    for (size_t i = iom->io.n; i-- > 0;)
        if (iom->io.r[i].user == user)
            table_remove_at(&iom->io, i);
    pthread_rwlock_unlock(&iom->lock);
    /* MMIO ranges one by one, so the map's hook hears of each removal. */
    for (;;) {
        uint64_t base = 0;
        bool found = false;
        pthread_rwlock_rdlock(&iom->lock);
        for (size_t i = 0; i < iom->mmio.n && !found; i++)
            if (iom->mmio.r[i].user == user)
                base = iom->mmio.r[i].base, found = true;
        pthread_rwlock_unlock(&iom->lock);
        if (!found || CAP_FAILED(iom_deregister_mmio(iom, base, user)))
            break;
    }
}

/* ---- dispatch ------------------------------------------------------------ */

static uint64_t size_mask(unsigned size)
{
    return size >= 8 ? UINT64_MAX : ((uint64_t)1 << (size * 8)) - 1;
}

static void unclaimed_io(struct iom *iom, uint16_t port, unsigned size, bool write, uint32_t val)
{
    count(write ? &iom->stats.io_unclaimed_writes : &iom->stats.io_unclaimed_reads);
    uint8_t bit = (uint8_t)(1u << (port & 7));
    if (__atomic_fetch_or(&iom->io_logged[port >> 3], bit, __ATOMIC_RELAXED) & bit)
        return;
    if (write)
        iom_logf(iom, "unclaimed port 0x%04x: %u-byte write of 0x%x dropped (logged once)", port,
                 size, val);
    else
        iom_logf(iom, "unclaimed port 0x%04x: %u-byte read returns all-ones (logged once)", port,
                 size);
}

static void unclaimed_mmio(struct iom *iom, uint64_t addr, unsigned size, bool write)
{
    count(write ? &iom->stats.mmio_unclaimed_writes : &iom->stats.mmio_unclaimed_reads);
    uint64_t key = (addr >> 12) + 1;
    for (int i = 0; i < IOM_MMIO_LOG_PAGES; i++) {
        uint64_t expected = 0;
        if (__atomic_load_n(&iom->mmio_logged[i], __ATOMIC_RELAXED) == key)
            return;
        if (__atomic_compare_exchange_n(&iom->mmio_logged[i], &expected, key, false,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
            iom_logf(iom, "unclaimed MMIO 0x%" PRIx64 ": %u-byte %s (logged once per page)", addr,
                     size, write ? "write dropped" : "read returns all-ones");
            return;
        }
        if (expected == key)
            return;
    }
}

/* What a lookup found, copied out under the read lock: callbacks run with
 * the lock dropped, so that one may register or deregister ranges (a PCI
 * configuration write mapping a BAR) without deadlocking on it. */
struct iom_target {
    bool found;
    union iom_fn fn;
    void *user;
};

/* Counts the access to `r` (NULL: unclaimed, counted by the caller) and
 * copies its callback. Read lock held. */
static struct iom_target target_of(struct iom *iom, struct iom_range *r, bool write, bool mmio)
{
    struct iom_target t = {.found = r != NULL};
    if (!r)
        return t;
    count(write ? &r->writes : &r->reads);
    if (mmio)
        count(write ? &iom->stats.mmio_writes : &iom->stats.mmio_reads);
    else
        count(write ? &iom->stats.io_writes : &iom->stats.io_reads);
    t.fn = r->fn;
    t.user = r->user;
    return t;
}

/* One port access of a size the range accepts, entirely inside it, or an
 * unclaimed one. No lock held. */
static cap_result io_call(struct iom *iom, const struct iom_target *t, uint16_t port, unsigned size,
                          bool write, uint32_t *val)
{
    if (!t->found) {
        unclaimed_io(iom, port, size, write, *val);
        if (!write)
            *val = (uint32_t)size_mask(size);
        return CAP_OK;
    }
    uint32_t v = write ? (uint32_t)(*val & size_mask(size)) : 0;
    cap_result rc = t->fn.io(t->user, port, size, write, &v);
    if (!write)
        *val = (uint32_t)(v & size_mask(size));
    return rc;
}

static cap_result io_one(struct iom *iom, uint16_t port, unsigned size, bool write, uint32_t *val)
{
    pthread_rwlock_rdlock(&iom->lock);
    struct iom_target t = target_of(iom, table_find(&iom->io, port), write, false);
    pthread_rwlock_unlock(&iom->lock);
    return io_call(iom, &t, port, size, write, val);
}

static cap_result io_access(struct iom *iom, uint16_t port, unsigned size, bool write,
                            uint32_t *val)
{
    if (size != 1 && size != 2 && size != 4)
        return cap_error_set(CAP_E_INVALIDARG, IOM_COMPONENT, NULL,
                             "port 0x%04x: invalid access size %u", port, size);
    pthread_rwlock_rdlock(&iom->lock);
    struct iom_range *r = table_find(&iom->io, port);
    bool split =
        size > 1 && (!r ? table_find(&iom->io, (uint16_t)(port + size - 1)) != NULL
                        : ((r->flags & IOM_F_SPLIT) || (uint64_t)port + size > r->base + r->size));
    struct iom_target t = {0};
    if (!split)
        t = target_of(iom, r, write, false);
    pthread_rwlock_unlock(&iom->lock);
    if (!split)
        return io_call(iom, &t, port, size, write, val);
    cap_result rc = CAP_OK;
    uint32_t acc = 0;
    for (unsigned i = 0; i < size && CAP_SUCCEEDED(rc); i++) {
        uint32_t b = write ? (*val >> (8 * i)) & 0xff : 0;
        rc = io_one(iom, (uint16_t)(port + i), 1, write, &b);
        acc |= (b & 0xff) << (8 * i);
    }
    if (!write)
        *val = acc;
    return rc;
}

cap_result iom_io_read(struct iom *iom, uint16_t port, unsigned size, uint32_t *val)
{
    if (!iom || !val)
        return CAP_E_POINTER;
    *val = 0;
    return io_access(iom, port, size, false, val);
}

cap_result iom_io_write(struct iom *iom, uint16_t port, unsigned size, uint32_t val)
{
    if (!iom)
        return CAP_E_POINTER;
    return io_access(iom, port, size, true, &val);
}

static cap_result mmio_call(struct iom *iom, const struct iom_target *t, uint64_t addr,
                            unsigned size, bool write, uint64_t *val)
{
    if (!t->found) {
        unclaimed_mmio(iom, addr, size, write);
        if (!write)
            *val = size_mask(size);
        return CAP_OK;
    }
    uint64_t v = write ? *val & size_mask(size) : 0;
    cap_result rc = t->fn.mmio(t->user, addr, size, write, &v);
    if (!write)
        *val = v & size_mask(size);
    return rc;
}

static cap_result mmio_one(struct iom *iom, uint64_t addr, unsigned size, bool write, uint64_t *val)
{
    pthread_rwlock_rdlock(&iom->lock);
    struct iom_target t = target_of(iom, table_find(&iom->mmio, addr), write, true);
    pthread_rwlock_unlock(&iom->lock);
    return mmio_call(iom, &t, addr, size, write, val);
}

static cap_result mmio_access(struct iom *iom, uint64_t addr, unsigned size, bool write,
                              uint64_t *val)
{
    if (size != 1 && size != 2 && size != 4 && size != 8)
        return cap_error_set(CAP_E_INVALIDARG, IOM_COMPONENT, NULL,
                             "MMIO 0x%" PRIx64 ": invalid access size %u", addr, size);
    pthread_rwlock_rdlock(&iom->lock);
    struct iom_range *r = table_find(&iom->mmio, addr);
    bool split = size > 1 && (!r ? table_find(&iom->mmio, addr + size - 1) != NULL
                                 : ((r->flags & IOM_F_SPLIT) || addr - r->base + size > r->size));
    struct iom_target t = {0};
    if (!split)
        t = target_of(iom, r, write, true);
    pthread_rwlock_unlock(&iom->lock);
    if (!split)
        return mmio_call(iom, &t, addr, size, write, val);
    cap_result rc = CAP_OK;
    uint64_t acc = 0;
    for (unsigned i = 0; i < size && CAP_SUCCEEDED(rc); i++) {
        uint64_t b = write ? (*val >> (8 * i)) & 0xff : 0;
        rc = mmio_one(iom, addr + i, 1, write, &b);
        acc |= (b & 0xff) << (8 * i);
    }
    if (!write)
        *val = acc;
    return rc;
}

cap_result iom_mmio_read(struct iom *iom, uint64_t addr, unsigned size, uint64_t *val)
{
    if (!iom || !val)
        return CAP_E_POINTER;
    *val = 0;
    return mmio_access(iom, addr, size, false, val);
}

cap_result iom_mmio_write(struct iom *iom, uint64_t addr, unsigned size, uint64_t val)
{
    if (!iom)
        return CAP_E_POINTER;
    return mmio_access(iom, addr, size, true, &val);
}

bool iom_io_claimed(struct iom *iom, uint16_t port)
{
    pthread_rwlock_rdlock(&iom->lock);
    bool found = table_find(&iom->io, port) != NULL;
    pthread_rwlock_unlock(&iom->lock);
    return found;
}

bool iom_mmio_claimed(struct iom *iom, uint64_t addr)
{
    pthread_rwlock_rdlock(&iom->lock);
    bool found = table_find(&iom->mmio, addr) != NULL;
    pthread_rwlock_unlock(&iom->lock);
    return found;
}

void iom_get_stats(struct iom *iom, struct iom_stats *out)
{
    uint64_t *dst = (uint64_t *)out, *src = (uint64_t *)&iom->stats;
    for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
        dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

#define S(field) offsetof(struct iom, stats.field)
static const struct stam_def iom_stat_defs[] = {
    {.path = "/IOM/IO/Reads",
     .type = STAM_COUNTER,
     .offset = S(io_reads),
     .desc = "port reads a device claimed"},
    {.path = "/IOM/IO/Writes",
     .type = STAM_COUNTER,
     .offset = S(io_writes),
     .desc = "port writes a device claimed"},
    {.path = "/IOM/IO/UnclaimedReads",
     .type = STAM_COUNTER,
     .offset = S(io_unclaimed_reads),
     .desc = "port reads no device claimed (all-ones)"},
    {.path = "/IOM/IO/UnclaimedWrites",
     .type = STAM_COUNTER,
     .offset = S(io_unclaimed_writes),
     .desc = "port writes no device claimed (dropped)"},
    {.path = "/IOM/MMIO/Reads",
     .type = STAM_COUNTER,
     .offset = S(mmio_reads),
     .desc = "MMIO reads a device claimed"},
    {.path = "/IOM/MMIO/Writes",
     .type = STAM_COUNTER,
     .offset = S(mmio_writes),
     .desc = "MMIO writes a device claimed"},
    {.path = "/IOM/MMIO/UnclaimedReads",
     .type = STAM_COUNTER,
     .offset = S(mmio_unclaimed_reads),
     .desc = "MMIO reads no device claimed (all-ones)"},
    {.path = "/IOM/MMIO/UnclaimedWrites",
     .type = STAM_COUNTER,
     .offset = S(mmio_unclaimed_writes),
     .desc = "MMIO writes no device claimed (dropped)"},
};

cap_result iom_register_stats(struct iom *iom, struct stam *st)
{
    cap_result rc = stam_register_table(st, iom_stat_defs,
                                        sizeof(iom_stat_defs) / sizeof(iom_stat_defs[0]), iom);
    if (CAP_SUCCEEDED(rc))
        iom->stam = st;
    return rc;
}

void iom_dump(struct iom *iom)
{
    pthread_rwlock_rdlock(&iom->lock);
    for (size_t i = 0; i < iom->io.n; i++) {
        const struct iom_range *r = &iom->io.r[i];
        iom_logf(iom, "io   0x%04" PRIx64 "-0x%04" PRIx64 " %-16s r=%" PRIu64 " w=%" PRIu64,
                 r->base, r->base + r->size - 1, r->desc, r->reads, r->writes);
    }
    for (size_t i = 0; i < iom->mmio.n; i++) {
        const struct iom_range *r = &iom->mmio.r[i];
        iom_logf(iom, "mmio 0x%" PRIx64 "-0x%" PRIx64 " %-16s r=%" PRIu64 " w=%" PRIu64, r->base,
                 r->base + r->size - 1, r->desc, r->reads, r->writes);
    }
    struct iom_stats s;
    iom_get_stats(iom, &s);
    iom_logf(iom, "unclaimed: io r=%" PRIu64 " w=%" PRIu64 ", mmio r=%" PRIu64 " w=%" PRIu64,
             s.io_unclaimed_reads, s.io_unclaimed_writes, s.mmio_unclaimed_reads,
             s.mmio_unclaimed_writes);
    pthread_rwlock_unlock(&iom->lock);
}
