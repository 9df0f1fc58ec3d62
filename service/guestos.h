/*
 * service/guestos.h - the guest OS types (guestos.c): IGuestOSType objects
 * and the defaults a new machine of each type gets. Bottom layer: a
 * constant table, no state.
 */
#ifndef CAPSULE_SVC_GUESTOS_H
#define CAPSULE_SVC_GUESTOS_H

#include <capsule/capsule.h>

struct guestos_info {
    const char *id, *family, *family_description, *description;
    cap_bool is64;
    uint32_t ram, cpus;
    const char *cmdline;
};
/* Case-insensitive lookup; NULL if unknown. */
const struct guestos_info *guestos_lookup(const char *id);
cap_result guestos_get(const char *id, IGuestOSType **out);
cap_result guestos_list(uint32_t *n, IGuestOSType ***out);

#endif /* CAPSULE_SVC_GUESTOS_H */
