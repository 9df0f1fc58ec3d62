/*
 * service/progress.h - IProgress objects of the service (progress.c): an
 * operation that completes on another thread (launching a VM process,
 * deleting a machine's files). Bottom layer: depends only on util.h.
 *
 * Threads: any; a progress has its own lock, taken after (never before) the
 * service lock.
 */
#ifndef CAPSULE_SVC_PROGRESS_H
#define CAPSULE_SVC_PROGRESS_H

#include <capsule/capsule.h>
#include <capsule/errorinfo.h>

struct progress;

/* A new progress (refcount 1, the caller's) with n_ops operations, the
 * first one described by first_op. initiator is borrowed (AddRef'd). */
cap_result progress_create(const char *description, ISupports *initiator, cap_bool cancelable,
                           uint32_t n_ops, const char *first_op, struct progress **out);
/* The object's IProgress (borrowed; AddRef it to hand it out). */
IProgress *progress_iface(struct progress *p);
void progress_release(struct progress *p);
void progress_next_op(struct progress *p, const char *description);
void progress_set_op_percent(struct progress *p, uint32_t percent);
int progress_cancel_requested(struct progress *p);
/* Completes with rc; ei (may be NULL) is copied for errorInfo. */
void progress_complete(struct progress *p, cap_result rc, const struct cap_error_info *ei);

#endif /* CAPSULE_SVC_PROGRESS_H */
