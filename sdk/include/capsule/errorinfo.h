/*
 * capsule/errorinfo.h - per-thread error info.
 *
 * A failing call returns a cap_result and, where a person will read it, sets
 * the calling thread's error info: the result code, a message, the component
 * and interface that raised it. Callers fetch it after the failure. IPC
 * carries it across processes (the client's thread gets the service's info),
 * and the language bindings turn it into exceptions.
 *
 * Rules: a successful call does not clear error info (check the result code
 * first, then fetch the info). Setting replaces whatever was there. All
 * functions are thread-safe and only touch the calling thread's slot.
 */
#ifndef CAPSULE_ERRORINFO_H
#define CAPSULE_ERRORINFO_H

#include <capsule/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct cap_error_info {
    cap_result result;
    char *message;   /* UTF-8; owned by the struct */
    char *component; /* e.g. "capsule-svc", may be NULL */
    char *iface;     /* e.g. "IMachine", may be NULL */
};

/*
 * Sets the calling thread's error info and returns `rc`, so that
 * `return cap_error_set(CAP_E_INVALIDARG, "objmodel", NULL, "bad uuid '%s'", s);`
 * is the usual way to fail.
 */
cap_result cap_error_set(cap_result rc, const char *component, const char *iface, const char *fmt, ...)
    CAP_PRINTF(4, 5);

/* Installs a complete record (copied). Used by IPC. */
cap_result cap_error_set_info(const struct cap_error_info *info);

/*
 * Moves the calling thread's error info into *out and clears the slot.
 * Returns CAP_OK if there was one, CAP_FALSE_RESULT (and zeroes *out) if not.
 * Free with cap_error_info_clear().
 */
cap_result cap_error_take(struct cap_error_info *out);

/* Returns the current message without taking it (NULL if none); valid until
 * the thread's next cap_error_* call. */
const char *cap_error_peek_message(void);

void cap_error_clear(void);
void cap_error_info_clear(struct cap_error_info *info);

#ifdef __cplusplus
}
#endif

#endif /* CAPSULE_ERRORINFO_H */
