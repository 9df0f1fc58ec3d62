/*
 * pgm_internal.h - PGM's state block, shared by pgm_map.c and pgm_walk.c.
 */
#ifndef VMM_PGM_INTERNAL_H
#define VMM_PGM_INTERNAL_H

#include "hostmem.h"
#include "pgm.h"

struct pgm_slot {
    struct pgm_range r;
    struct hostmem_block mem; /* RAM/ROM backing; empty for MMIO */
};

struct pgm {
    unsigned nranges;                    /* sorted by gpa, no overlaps */
    struct pgm_slot ranges[PGM_MAX_RANGES];
    unsigned nlisteners;
    struct pgm_listener listeners[PGM_MAX_LISTENERS];
};

#endif /* VMM_PGM_INTERNAL_H */
