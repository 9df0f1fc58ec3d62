/*
 * rem_stats.c - what rem counts, as STAM sees it: one table from the
 * counters of struct rem_vcpu (rem_internal.h) to their paths, units and
 * descriptions. The counters are plain fields this vCPU's thread bumps
 * (rem_block.c, rem_run.c); readers on other threads load them racily.
 */
#include <stddef.h>

#include "rem_internal.h"
#include "stam/stam.h"

#define C(field) offsetof(struct rem_vcpu, stats.field)

/* Lookups that found their block valid, without building it. */
static uint64_t read_hits(const void *base)
{
    const struct rem_counters *c = &((const struct rem_vcpu *)base)->stats;
    uint64_t lookups = __atomic_load_n(&c->block_lookups, __ATOMIC_RELAXED);
    uint64_t built = __atomic_load_n(&c->blocks_built, __ATOMIC_RELAXED);
    return lookups > built ? lookups - built : 0;
}

static const struct stam_def rem_stat_defs[] = {
    {.path = "/REM/Insns",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_INSNS,
     .offset = offsetof(struct rem_vcpu, insns),
     .desc = "guest instructions retired by rem (its runs and its steps for hm)"},
    {.path = "/REM/Blocks/Lookups",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(block_lookups),
     .desc = "decoded blocks looked up (chained translations skip it)"},
    {.path = "/REM/Blocks/Hits",
     .type = STAM_CALLBACK,
     .unit = STAM_UNIT_COUNT,
     .read = read_hits,
     .desc = "lookups that found a valid block (Lookups - Built)"},
    {.path = "/REM/Blocks/Built",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(blocks_built),
     .desc = "lookups that missed: blocks decoded"},
    {.path = "/REM/Blocks/Rechecked",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(block_rechecks),
     .desc = "blocks whose bytes were compared with memory again and still held"},
    {.path = "/REM/Blocks/CacheFlushes",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(cache_flushes),
     .desc = "block pools full: every block and translation dropped"},
    {.path = "/REM/JIT/BlocksTranslated",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(jit_translations),
     .desc = "blocks translated to host code"},
    {.path = "/REM/JIT/Refused",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(jit_refused),
     .desc = "hot blocks the translator could not take"},
    {.path = "/REM/JIT/Links",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(jit_links),
     .desc = "translation exits chained to the next translation"},
    {.path = "/REM/JIT/BufferFlushes",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(jit_buffer_flushes),
     .desc = "code buffer full: every translation dropped"},
    {.path = "/REM/JIT/CodeBytes",
     .type = STAM_GAUGE,
     .unit = STAM_UNIT_BYTES,
     .offset = C(jit_code_bytes),
     .desc = "code buffer in use"},
    {.path = "/REM/JIT/BufferBytes",
     .type = STAM_GAUGE,
     .unit = STAM_UNIT_BYTES,
     .offset = C(jit_buffer_bytes),
     .desc = "code buffer size (0: no translator yet or none here)"},
};

cap_result rem_vcpu_register_stats(struct rem_vcpu *v, struct stam *st)
{
    cap_result rc =
        stam_register_table(st, rem_stat_defs, sizeof(rem_stat_defs) / sizeof(rem_stat_defs[0]), v);
    if (CAP_SUCCEEDED(rc))
        v->stam = st;
    return rc;
}
