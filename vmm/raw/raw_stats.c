/*
 * raw_stats.c - the raw engine's statistics under /RAW/ (raw.h): how user
 * code left raw (by kind, faults by vector), where the time went (raw runs,
 * rem between them), and the cost of keeping KVM's translations coherent.
 */
#include <stddef.h>

#include "raw_internal.h"
#include "stam/stam.h"

#define C(field) offsetof(struct raw_vcpu, cnt.field)

static const struct stam_def raw_stat_defs[] = {
    {.path = "/RAW/Exits/Kick",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(events[RAW_EV_KICK]),
     .desc = "raw runs ended by a kick (interrupt, timer, request) between user instructions"},
    {.path = "/RAW/Exits/Syscall",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(events[RAW_EV_SYSCALL]),
     .desc = "SYSCALLs from user code (LSTAR's stub), re-executed by rem"},
    {.path = "/RAW/Exits/Fault",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(events[RAW_EV_FAULT]),
     .desc = "exceptions at an instruction of user code, re-executed by rem"},
    {.path = "/RAW/Exits/Trap",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(events[RAW_EV_TRAP]),
     .desc = "traps (ICEBP) put back on their instruction for rem"},
    {.path = "/RAW/Exits/IntN",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(int_n),
     .desc = "of the faults: INT n (#UD/#GP at cd xx)"},
    {.path = "/RAW/Exits/Faults/UD",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(faults[RAW_F_UD]),
     .desc = "#UD (INT n counted here too on hosts that say #UD)"},
    {.path = "/RAW/Exits/Faults/GP",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(faults[RAW_F_GP]),
     .desc = "#GP (privileged instructions, INT n, I/O)"},
    {.path = "/RAW/Exits/Faults/PF",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(faults[RAW_F_PF]),
     .desc = "#PF"},
    {.path = "/RAW/Exits/Faults/NM",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(faults[RAW_F_NM]),
     .desc = "#NM (the guest's lazy FPU)"},
    {.path = "/RAW/Exits/Faults/Other",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(faults[RAW_F_OTHER]),
     .desc = "any other vector"},
    {.path = "/RAW/RawNs",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_NS,
     .offset = C(raw_ns),
     .desc = "time in raw runs (entry, native user code, exit)"},
    {.path = "/RAW/RemNs",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_NS,
     .offset = C(rem_ns),
     .desc = "time in rem under the raw engine (guest kernel, non-64-bit code)"},
    {.path = "/RAW/Flushes",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(flushes),
     .desc = "KVM translations dropped (slot re-add) after the guest invalidated in rem"},
    {.path = "/RAW/FlushesSkipped",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(flushes_skipped),
     .desc = "guest invalidations after which no table KVM may hold lost anything: no flush"},
    {.path = "/RAW/FlushNs",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_NS,
     .offset = C(flush_ns),
     .desc = "time in those flushes (the refaults after them not included)"},
    {.path = "/RAW/FpuLoads",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(fpu_loads),
     .desc = "FXSAVE images pushed to KVM because rem changed them"},
};

cap_result raw_vcpu_register_stats(struct raw_vcpu *v, struct stam *st)
{
    cap_result rc =
        stam_register_table(st, raw_stat_defs, sizeof(raw_stat_defs) / sizeof(raw_stat_defs[0]), v);
    if (CAP_SUCCEEDED(rc))
        v->stam = st;
    return rc;
}

void raw_stats_deregister(struct raw_vcpu *v)
{
    if (v->stam)
        stam_deregister(v->stam, "/RAW/");
    v->stam = NULL;
}
