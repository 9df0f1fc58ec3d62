/*
 * service/util.c - small helpers every file of service/ uses: the log line,
 * the clock, string results, making machine folders, numbers from the
 * environment, log history.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <capsule/mem.h>

#include "svc_internal.h"

void svc_log(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ capsule-svc: %s\n", tm.tm_year + 1900,
            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
            line);
    fflush(stderr);
}

int64_t svc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int svc_env_u32(const char *name, uint32_t *out)
{
    const char *env = getenv(name);
    if (!env || *env < '0' || *env > '9') /* strtoul would take blanks and signs */
        return 0;
    char *end;
    errno = 0;
    unsigned long v = strtoul(env, &end, 10);
    if (*end || errno || v > UINT32_MAX)
        return 0;
    *out = (uint32_t)v;
    return 1;
}

void svc_rotate_log(const char *path, unsigned keep)
{
    char *src = NULL, *dst = NULL;
    /* Older ones beyond `keep` (the count was lowered) go first. */
    for (unsigned i = keep + 1; i <= SVC_LOG_HISTORY_MAX + 1; i++) {
        char *old = cap_str_printf("%s.%u", path, i);
        int gone = !old || (unlink(old) < 0 && errno == ENOENT);
        cap_str_free(old);
        if (gone)
            break;
    }
    if (!keep) {
        unlink(path);
        return;
    }
    for (unsigned i = keep; i >= 1; i--) {
        src = i == 1 ? cap_str_dup(path) : cap_str_printf("%s.%u", path, i - 1);
        dst = cap_str_printf("%s.%u", path, i);
        if (src && dst)
            rename(src, dst); /* ENOENT: fewer old ones so far */
        cap_str_free(src);
        cap_str_free(dst);
    }
}

cap_result svc_return_str(const char *s, char **out)
{
    if (!out)
        return cap_error_set(CAP_E_POINTER, SVC_COMPONENT, NULL, "NULL out pointer");
    *out = cap_str_dup(s ? s : "");
    return *out ? CAP_OK : cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
}

cap_result svc_make_parent_dirs(const char *file)
{
    char *p = cap_str_dup(file);
    if (!p)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    char *slash = strrchr(p, '/');
    cap_result rc = CAP_OK;
    if (slash && slash != p) {
        *slash = 0;
        for (char *q = p + 1; ; q++) {
            if (*q == '/' || *q == 0) {
                char c = *q;
                *q = 0;
                if (mkdir(p, 0700) < 0 && errno != EEXIST) {
                    rc = cap_error_set(CAP_E_FILE_ERROR, SVC_COMPONENT, NULL,
                                       "cannot create folder '%s': %s", p, strerror(errno));
                    break;
                }
                *q = c;
                if (!c)
                    break;
            }
        }
    }
    cap_str_free(p);
    return rc;
}
