/*
 * vmm/stam/stam.h - STAM, the VMM's statistics registry (VirtualBox's
 * STAM in spirit): each module registers its counters once, with a path
 * ("/EM/Exits/IO", "/REM/JIT/BlocksTranslated"), a unit and a description,
 * and every consumer reads them from here: capsule-vm --stats,
 * IMachineDebugger.getStats and `capsule debugvm VM statistics`. Nothing
 * keeps a second list of names.
 *
 * One registry per VM (vm_stam(), created and destroyed with the VM): no
 * global state. A statistic is one of:
 *
 *   STAM_COUNTER   a uint64_t the owner increments (events, bytes, time);
 *   STAM_GAUGE     a uint64_t that goes up and down (a buffer's use): never
 *                  reset;
 *   STAM_PROFILE   a struct stam_profile: occurrences and the time they
 *                  took, printed as the total with the mean per occurrence;
 *   STAM_CALLBACK  a value computed when read (uptime, a size another
 *                  module owns), by a function called with the registry's
 *                  lock held: it must not call into this registry.
 *
 * Threads. Registration, deregistration, enumeration, reset and printing
 * take the registry's mutex and may run on any thread. The values
 * themselves are the owner's plain uint64_t fields: the thread that owns
 * them (a vCPU thread on its hot path) increments them with no lock and no
 * atomic instruction, and readers load them with relaxed atomic loads, so a
 * reader may see a value a few increments behind - never a torn one (the
 * fields are naturally aligned). Reset does not write to the owner's
 * fields at all: it records the current value as a baseline that reads
 * subtract, so it cannot race with the owner's increments.
 *
 * Lifetime. The registry stores pointers to the owner's fields: the owner
 * deregisters (stam_deregister, by path prefix) before freeing them; after
 * that call no reader touches them. stam_destroy frees whatever is left.
 *
 * Paths: '/' then components separated by single '/', no trailing '/',
 * printable ASCII without spaces, '|', '*' or '?', at most
 * STAM_PATH_MAX - 1 bytes; each registered once. Patterns (stam_match):
 * '*' matches any run of characters ('/' included), '?' one character,
 * several patterns are separated by '|'; an empty or NULL pattern matches
 * everything. Output is sorted by path (byte order).
 */
#ifndef VMM_STAM_H
#define VMM_STAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <capsule/types.h>

#include "vmm_result.h"

/* Exported from libcapsule-vmm.so (built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

#define STAM_PATH_MAX 128

enum stam_type { STAM_COUNTER, STAM_GAUGE, STAM_PROFILE, STAM_CALLBACK };

/* What a value counts: the word printed after it. */
enum stam_unit {
    STAM_UNIT_COUNT, /* "count": events */
    STAM_UNIT_BYTES, /* "bytes" */
    STAM_UNIT_NS,    /* "ns": time */
    STAM_UNIT_INSNS, /* "insns": guest instructions */
    STAM_UNIT_CALLS, /* "calls" */
};

/* The fields of a STAM_PROFILE: one occurrence adds 1 and its duration. */
struct stam_profile {
    uint64_t count;
    uint64_t total_ns;
};

/* A STAM_CALLBACK's reader, given the registration's base pointer. */
typedef uint64_t (*stam_read_fn)(const void *base);

/*
 * One statistic for stam_register_table: a table of these, filled with
 * designated initialisers, describes every counter of a module's struct.
 * offset: where the uint64_t (or struct stam_profile) lies from the base
 * pointer given at registration; read: for STAM_CALLBACK (offset unused).
 */
struct stam_def {
    const char *path;
    enum stam_type type;
    enum stam_unit unit; /* STAM_PROFILE: the unit of total (STAM_UNIT_NS) */
    size_t offset;
    stam_read_fn read;
    const char *desc;
};

/* A value as read (stam_enum, stam_get): counters and gauges in value;
 * profiles: value = total, count = occurrences; baseline subtracted. */
struct stam_value {
    const char *path, *desc; /* valid during the callback / until deregistered */
    enum stam_type type;
    enum stam_unit unit;
    uint64_t value;
    uint64_t count;
};

struct stam;

/* An empty registry. CAP_E_OUTOFMEMORY (with error info). */
cap_result stam_create(struct stam **out);
/* Frees it and every registration left (NULL is fine). No reader may run. */
void stam_destroy(struct stam *st);

/*
 * Registers one statistic (def->path, copied, as is the description) at
 * base + def->offset (STAM_CALLBACK: def->read(base)). Errors, with error
 * info naming the path: CAP_E_INVALIDARG (a bad path, a path registered
 * already, a callback without read), CAP_E_OUTOFMEMORY.
 */
cap_result stam_register(struct stam *st, const struct stam_def *def, void *base);
/* All of `defs` at `base`, or none (the first failure undoes the rest). */
cap_result stam_register_table(struct stam *st, const struct stam_def *defs, size_t n, void *base);
/* One counter whose path is built at run time ("/IOM/Ports/0x%04x/Reads"). */
cap_result stam_register_counterf(struct stam *st, uint64_t *counter, enum stam_unit unit,
                                  const char *desc, const char *path_fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Removes every statistic whose path starts with `prefix` ("/REM/");
 * returns how many. Once it returns, no reader touches their fields. */
size_t stam_deregister(struct stam *st, const char *prefix);

/* Whether `name` matches `pattern` (the syntax above). Pure. */
bool stam_match(const char *pattern, const char *name);

/* Calls fn for each statistic matching `pattern`, in path order, with the
 * registry's lock held (fn must not call into it). Returns the number. */
size_t stam_enum(struct stam *st, const char *pattern,
                 void (*fn)(void *ctx, const struct stam_value *v), void *ctx);
/* The value of one path; false when it is not registered (out zeroed). */
bool stam_get(struct stam *st, const char *path, struct stam_value *out);
/* The value of one path, 0 when it is not registered. */
uint64_t stam_value(struct stam *st, const char *path);
/* Counters and profiles matching `pattern` read 0 from now on (gauges and
 * callbacks keep their value). Returns how many were reset. */
size_t stam_reset(struct stam *st, const char *pattern);

const char *stam_unit_name(enum stam_unit unit);

/*
 * The statistics matching `pattern` as text, one per line in path order:
 * "PATH VALUE UNIT", a profile followed by " (N times, M UNIT each)", and
 * with_desc: a tab and the description. stam_format returns a malloc'ed
 * string ("" when nothing matches) or NULL when out of memory.
 */
char *stam_format(struct stam *st, const char *pattern, bool with_desc);
void stam_print(struct stam *st, const char *pattern, bool with_desc, FILE *f);

#pragma GCC visibility pop

#endif /* VMM_STAM_H */
