/*
 * service/cpuprofile.h - CPU profiles (cpuprofile.c), from the VMM's table
 * (libcpum-profile.a, vmm/cpum/cpum_profile.h: the one VMM header the
 * service includes). Bottom layer: a constant table, no state.
 *
 * cpuprofile_canonical: the table's spelling of `name`, matched without
 * regard to case (NULL or "" give the default, "host"), or NULL when this
 * build has no such profile; the string lives as long as the process.
 * cpuprofile_unknown: CAP_E_INVALIDARG with a message naming `name` and
 * the known profiles (error info for interface `iface`).
 * cpuprofile_list: ISystemProperties' cpuProfiles, the default first.
 */
#ifndef CAPSULE_SVC_CPUPROFILE_H
#define CAPSULE_SVC_CPUPROFILE_H

#include <capsule/capsule.h>

const char *cpuprofile_canonical(const char *name);
cap_result cpuprofile_unknown(const char *name, const char *iface);
cap_result cpuprofile_list(uint32_t *n, ICPUProfile ***out);

#endif /* CAPSULE_SVC_CPUPROFILE_H */
