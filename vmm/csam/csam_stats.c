/*
 * csam_stats.c - CSAM's counters (struct csam_stats) in the VM's STAM
 * registry under /CSAM/, one /CSAM/Sensitive/<kind> per enum dis_sens kind.
 */
#include <stddef.h>

#include "csam/csam_internal.h"
#include "stam/stam.h"

#define CTR(p, f, u, d)                                                                            \
    {                                                                                              \
        p, STAM_COUNTER, u, offsetof(struct csam_stats, f), NULL, d                                \
    }
static const struct stam_def csam_stam_defs[] = {
    CTR("/CSAM/PagesScanned", pages_scanned, STAM_UNIT_COUNT, "guest pages that got scanned code"),
    CTR("/CSAM/Insns", insns, STAM_UNIT_INSNS, "instructions decoded by the scanner"),
    CTR("/CSAM/Invalid", invalid, STAM_UNIT_COUNT, "byte sequences on a path that do not decode"),
    CTR("/CSAM/CrossPage", cross, STAM_UNIT_COUNT, "instructions continuing onto the next page"),
    CTR("/CSAM/Unmapped", unmapped, STAM_UNIT_COUNT, "paths ended at code CSAM could not read"),
    CTR("/CSAM/Limits", limits, STAM_UNIT_COUNT, "paths ended by a table or queue limit"),
    CTR("/CSAM/BudgetStops", budget_stops, STAM_UNIT_CALLS, "scans that ran out of budget"),
    CTR("/CSAM/PagesDropped", pages_dropped, STAM_UNIT_COUNT,
        "page records dropped by guest writes"),
    {"/CSAM/Pages", STAM_GAUGE, STAM_UNIT_COUNT, offsetof(struct csam_stats, pages), NULL,
     "page records held"},
};

cap_result csam_register_stats(struct csam *c, struct stam *st)
{
    cap_result rc = stam_register_table(st, csam_stam_defs,
                                        sizeof(csam_stam_defs) / sizeof(csam_stam_defs[0]), &c->st);
    for (unsigned k = 1; k < DIS_SENS_COUNT && CAP_SUCCEEDED(rc); k++)
        rc = stam_register_counterf(st, &c->st.sens[k], STAM_UNIT_COUNT,
                                    "sensitive instructions of this kind found by CSAM",
                                    "/CSAM/Sensitive/%s", dis_sens_name(k));
    if (CAP_FAILED(rc))
        stam_deregister(st, "/CSAM/");
    return rc;
}

void csam_deregister_stats(struct csam *c, struct stam *st)
{
    (void)c;
    stam_deregister(st, "/CSAM/");
}
