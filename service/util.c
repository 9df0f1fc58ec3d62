/*
 * service/util.c - small helpers every file of service/ uses: the log line,
 * the clock, string results, making machine folders, numbers from the
 * environment, log history.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <capsule/mem.h>

#include "util.h"

/* The service log's file while the service runs (set by main when it
 * points stderr at the log; untouched in the foreground). One per process,
 * as stderr is. */
static struct {
    pthread_mutex_t lock; /* a line and a rotation are one step */
    char *path;           /* NULL: stderr is not ours to rotate */
    unsigned keep;        /* logHistoryCount */
    uint64_t max;         /* rotate past this many bytes; 0: never */
    uint64_t bytes;       /* in the current file */
} svc_logfile = {.lock = PTHREAD_MUTEX_INITIALIZER};

void svc_log_set_file(const char *path, unsigned keep, uint64_t max_bytes)
{
    pthread_mutex_lock(&svc_logfile.lock);
    cap_str_free(svc_logfile.path);
    svc_logfile.path = path ? cap_str_dup(path) : NULL;
    svc_logfile.keep = keep;
    svc_logfile.max = max_bytes;
    struct stat st;
    svc_logfile.bytes = fstat(STDERR_FILENO, &st) == 0 ? (uint64_t)st.st_size : 0;
    pthread_mutex_unlock(&svc_logfile.lock);
}

void svc_log_set_history(unsigned keep)
{
    pthread_mutex_lock(&svc_logfile.lock);
    svc_logfile.keep = keep;
    pthread_mutex_unlock(&svc_logfile.lock);
}

/* Past the bound: the log becomes .1 (the older ones move up, as at
 * start) and a new one takes stdout and stderr. Lock held. */
static void rotate_running_log(void)
{
    fflush(stdout);
    fflush(stderr);
    svc_rotate_log(svc_logfile.path, svc_logfile.keep);
    int fd = open(svc_logfile.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return; /* stderr still points at the old file: keep writing there */
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
    svc_logfile.bytes = 0;
}

static int log_line(const char *line)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ capsule-svc: %s\n",
                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                    tm.tm_sec, ts.tv_nsec / 1000000, line);
    fflush(stderr);
    return n > 0 ? n : 0;
}

void svc_log(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&svc_logfile.lock);
    svc_logfile.bytes += (uint64_t)log_line(line);
    if (svc_logfile.path && svc_logfile.max && svc_logfile.bytes > svc_logfile.max) {
        uint64_t was = svc_logfile.bytes;
        rotate_running_log();
        if (!svc_logfile.bytes) {
            char note[160];
            snprintf(note, sizeof(note),
                     "log rotated while running (the previous one reached %llu bytes, bound "
                     "%llu; logHistoryCount %u)",
                     (unsigned long long)was, (unsigned long long)svc_logfile.max,
                     svc_logfile.keep);
            svc_logfile.bytes += (uint64_t)log_line(note);
        }
    }
    pthread_mutex_unlock(&svc_logfile.lock);
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
