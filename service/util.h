/*
 * service/util.h - the bottom of service/: what every file needs and that
 * depends on nothing else of the service. The service log (svc_log), the
 * clock, numbers from the environment, string results, log rotation,
 * making machine folders, and the names every error message carries.
 *
 * Threads: every function may be called from any thread, except
 * svc_log_set_file (main thread, before other threads start).
 */
#ifndef CAPSULE_SVC_UTIL_H
#define CAPSULE_SVC_UTIL_H

#include <stdint.h>

#include <capsule/capsule.h>
#include <capsule/errorinfo.h>

#define SVC_COMPONENT        "capsule-svc"
#define SVC_VERSION          "1.0.0"
#define SVC_DEFAULT_FRONTEND "headless"

/* The longest file name (bytes) a machine's folder may hold (POSIX NAME_MAX
 * of the usual file systems). */
#define SVC_NAME_MAX ((size_t)255)

/* A line to the service log (stderr, which capsule-svc points at the log). */
void svc_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* svc_log's file when stderr is the service log at `path`: past
 * `max_bytes` (0: never) it is rotated while the service runs, keeping
 * `keep` old ones (svc_rotate_log). Main thread, before other threads. */
#define SVC_LOG_MAX_DEFAULT ((uint64_t)8 << 20) /* CAPSULE_SVC_LOG_MAX overrides */
void svc_log_set_file(const char *path, unsigned keep, uint64_t max_bytes);
/* logHistoryCount changed while running. Any thread. */
void svc_log_set_history(unsigned keep);
/* Milliseconds since the epoch (CLOCK_REALTIME). */
int64_t svc_now_ms(void);
/* A decimal uint32 from environment variable `name` into *out: 1, or 0 (and
 * *out untouched) when it is unset, empty or not such a number. */
int svc_env_u32(const char *name, uint32_t *out);
/* *out = a copy of s (NULL gives ""); CAP_E_POINTER, CAP_E_OUTOFMEMORY. */
cap_result svc_return_str(const char *s, char **out);
/* Before a new log starts at `path`: path becomes path.1, path.1 path.2 ...
 * up to path.KEEP; older ones are deleted (keep 0: path itself is). */
#define SVC_LOG_HISTORY_MAX 100u /* ISystemProperties' logHistoryCount's maximum */
void svc_rotate_log(const char *path, unsigned keep);
/* mkdir -p for the folder that will hold `file`; CAP_E_FILE_ERROR. */
cap_result svc_make_parent_dirs(const char *file);

#endif /* CAPSULE_SVC_UTIL_H */
