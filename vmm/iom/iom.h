/*
 * vmm/iom/iom.h - IOM: I/O port and MMIO dispatch.
 *
 * Every port or MMIO access a guest makes (an I/O exit from hwaccm, an IN/OUT
 * or memory access emulated by rem) ends in iom_io_read/write or
 * iom_mmio_read/write. IOM finds the range that claims the address in a
 * sorted table (binary search) and calls the callback registered with it,
 * passing back the owner's `user` pointer (for devices: their instance).
 *
 * Nothing here is global: one struct iom per VM, so many VMs can share a
 * process.
 *
 * Rules:
 *  - Ranges never overlap; a registration that would overlap an existing
 *    range fails with CAP_E_INVALIDARG and error info naming both ranges.
 *  - Port accesses are 1, 2 or 4 bytes; MMIO accesses 1, 2, 4 or 8 bytes.
 *    Other sizes fail with CAP_E_INVALIDARG (a bug in the caller: engines
 *    only decode those sizes).
 *  - A range registered with IOM_F_SPLIT only ever sees 1-byte accesses: IOM
 *    splits wider ones (little-endian, each byte dispatched on its own
 *    address). A wide access that runs past the end of its range is always
 *    split, so a callback never sees an address outside its range.
 *  - Unclaimed ports read all-ones and drop writes; the same for MMIO. Each
 *    is counted in the statistics and logged once per port (per 4 KiB page
 *    for MMIO, first IOM_MMIO_LOG_PAGES pages only).
 *  - Callbacks return CAP_OK; a failure is passed through to the caller (the
 *    EM), which stops the VM with it. A device must never fail for anything
 *    a guest does: it models what the hardware does instead.
 *
 * Threads: registration and dispatch may be called from any thread (a
 * read-write lock guards the tables); callbacks run on the dispatching
 * thread with no IOM lock held, so a callback may register or deregister
 * ranges (a PCI configuration write maps a BAR). The flip side: a callback
 * may still be entered with a range's `user` just after another thread
 * deregistered the range, so an owner that deregisters at run time keeps
 * `user` valid for as long as the IOM lives (PDM's BAR records do).
 */
#ifndef CAPSULE_VMM_IOM_H
#define CAPSULE_VMM_IOM_H

#include <stdbool.h>
#include <stdint.h>

#include <capsule/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Exported from libcapsule-vmm.so (built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

struct iom;

/* A port access: `*val` is the value written (write) or to fill (read);
 * only the low `size` bytes count. */
typedef cap_result (*iom_io_fn)(void *user, uint16_t port, unsigned size, bool write,
                                uint32_t *val);
typedef cap_result (*iom_mmio_fn)(void *user, uint64_t addr, unsigned size, bool write,
                                  uint64_t *val);

/* Log sink: one line, no newline. NULL log: lines go to stderr. */
typedef void (*iom_log_fn)(void *ctx, const char *msg);

#define IOM_F_SPLIT 0x1u /* the range only handles 1-byte accesses */

#define IOM_MMIO_LOG_PAGES 64

struct iom_stats {
    uint64_t io_reads, io_writes;         /* claimed port accesses */
    uint64_t io_unclaimed_reads, io_unclaimed_writes;
    uint64_t mmio_reads, mmio_writes;
    uint64_t mmio_unclaimed_reads, mmio_unclaimed_writes;
};

/* Creates an empty IOM. `log` may be NULL. CAP_E_OUTOFMEMORY on failure. */
cap_result iom_create(iom_log_fn log, void *log_ctx, struct iom **out);
/* Frees it (NULL is fine). Ranges still registered are dropped. */
void iom_destroy(struct iom *iom);

/*
 * Claims ports [base, base+count). `desc` (copied) names the range in
 * messages. Errors: CAP_E_INVALIDARG (count 0, range past 0xffff, overlap:
 * the message names the owner of the conflicting range), CAP_E_POINTER,
 * CAP_E_OUTOFMEMORY.
 */
cap_result iom_register_io(struct iom *iom, uint16_t base, uint32_t count, uint32_t flags,
                           iom_io_fn fn, void *user, const char *desc);
/* Removes the range starting at exactly `base` owned by `user`;
 * CAP_E_INVALIDARG if there is none. */
cap_result iom_deregister_io(struct iom *iom, uint16_t base, void *user);

cap_result iom_register_mmio(struct iom *iom, uint64_t base, uint64_t size, uint32_t flags,
                             iom_mmio_fn fn, void *user, const char *desc);
cap_result iom_deregister_mmio(struct iom *iom, uint64_t base, void *user);

/*
 * The guest-physical map's hook (the "one map" rule, see vmm/README.md):
 * the VM installs a listener so that every MMIO range registered here also
 * becomes an MMIO range of PGM (which engines leave unmapped, so accesses
 * come back as MMIO exits and PGM dispatches them into iom_mmio_read/write).
 * `mapped` runs after the range is in IOM's table, without IOM's lock held;
 * its failure (e.g. the range overlaps RAM) undoes the registration and is
 * returned to the registrant. `unmapped` runs after a range was removed.
 * Install it before any MMIO range is registered; NULL removes it.
 */
struct iom_mmio_listener {
    cap_result (*mapped)(void *ctx, uint64_t base, uint64_t size, const char *desc);
    void (*unmapped)(void *ctx, uint64_t base);
    void *ctx;
};
void iom_set_mmio_listener(struct iom *iom, const struct iom_mmio_listener *l);

/* Removes every range (port and MMIO) owned by `user`. */
void iom_deregister_all(struct iom *iom, void *user);

/* Dispatch. Reads fill *val (zero-extended to the access size). */
cap_result iom_io_read(struct iom *iom, uint16_t port, unsigned size, uint32_t *val);
cap_result iom_io_write(struct iom *iom, uint16_t port, unsigned size, uint32_t val);
cap_result iom_mmio_read(struct iom *iom, uint64_t addr, unsigned size, uint64_t *val);
cap_result iom_mmio_write(struct iom *iom, uint64_t addr, unsigned size, uint64_t val);

/* True if some range claims the port / address. */
bool iom_io_claimed(struct iom *iom, uint16_t port);
bool iom_mmio_claimed(struct iom *iom, uint64_t addr);

/* A snapshot of the counters. */
void iom_get_stats(struct iom *iom, struct iom_stats *out);

/* Registers the counters of struct iom_stats in `st` (stam.h) as
 * /IOM/IO/Reads, /IOM/IO/Writes, /IOM/IO/UnclaimedReads, ... and
 * /IOM/MMIO/...; iom_destroy deregisters them, so `st` must outlive the
 * IOM. Errors as stam_register_table (nothing registered then). */
struct stam;
cap_result iom_register_stats(struct iom *iom, struct stam *st);

/* Writes one line per range ("io 0x3f8-0x3ff serial0 r=12 w=40") to `log`
 * (or stderr), for --stats and the debugger. */
void iom_dump(struct iom *iom);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* CAPSULE_VMM_IOM_H */
