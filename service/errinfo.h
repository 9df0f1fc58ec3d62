/*
 * service/errinfo.h - IErrorInfo objects of the service (errinfo.c): error
 * info that outlives the call which set it (a machine's accessError, a
 * progress's errorInfo). Bottom layer: depends on nothing of the service.
 */
#ifndef CAPSULE_SVC_ERRINFO_H
#define CAPSULE_SVC_ERRINFO_H

#include <capsule/capsule.h>
#include <capsule/errorinfo.h>

/* An IErrorInfo holding a copy of *ei (refcount 1, the caller's). */
cap_result errinfo_create(const struct cap_error_info *ei, IErrorInfo **out);
/* Moves the thread's error info into *ei, or fills in (rc, msg) if none. */
void errinfo_take(cap_result rc, struct cap_error_info *ei);

#endif /* CAPSULE_SVC_ERRINFO_H */
