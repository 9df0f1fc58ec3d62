/*
 * service/util.c - small helpers every file of service/ uses: the log line,
 * the clock, string results, making machine folders.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

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
