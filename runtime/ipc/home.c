/*
 * home.c - the CAPSULE_HOME layout of capsule/client.h: resolving the home
 * folder and creating (or checking) HOME, HOME/run (0700) and HOME/logs.
 * Shared by client.c and capsule-svc so both agree on every path.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/result.h>

#include "ipc_internal.h"

static cap_result make_dir(const char *path, mode_t mode)
{
    if (mkdir(path, mode) == 0 || errno == EEXIST)
        return CAP_OK;
    return cap_error_set(CAP_E_IO, IPC_COMP, NULL, "cannot create folder '%s': %s", path,
                         strerror(errno));
}

CAP_EXPORT void cap_ipc_home_clear(struct cap_ipc_home *h)
{
    if (!h)
        return;
    char **f[] = {&h->home, &h->run_dir, &h->socket, &h->svc_lock, &h->spawn_lock, &h->log_dir,
                  &h->log_file};
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        cap_str_free(*f[i]);
        *f[i] = NULL;
    }
}

CAP_EXPORT cap_result cap_ipc_home_prepare(const char *home, struct cap_ipc_home *out)
{
    if (!out)
        return CAP_E_POINTER;
    memset(out, 0, sizeof(*out));
    if (!home || !*home)
        home = getenv("CAPSULE_HOME");
    if (home && *home) {
        out->home = cap_str_dup(home);
    } else {
        const char *h = getenv("HOME");
        if (!h || !*h)
            return cap_error_set(CAP_E_IO, IPC_COMP, NULL,
                                 "no CAPSULE_HOME and no HOME to put .capsule in");
        out->home = cap_str_printf("%s/.capsule", h);
    }
    if (out->home) {
        out->run_dir = cap_str_printf("%s/run", out->home);
        out->socket = cap_str_printf("%s/run/svc.sock", out->home);
        out->svc_lock = cap_str_printf("%s/run/svc.lock", out->home);
        out->spawn_lock = cap_str_printf("%s/run/spawn.lock", out->home);
        out->log_dir = cap_str_printf("%s/logs", out->home);
        out->log_file = cap_str_printf("%s/logs/svc.log", out->home);
    }
    if (!out->home || !out->run_dir || !out->socket || !out->svc_lock || !out->spawn_lock ||
        !out->log_dir || !out->log_file)
        return CAP_E_OUTOFMEMORY;
    cap_result rc = make_dir(out->home, 0700);
    if (CAP_SUCCEEDED(rc))
        rc = make_dir(out->run_dir, 0700);
    if (CAP_SUCCEEDED(rc))
        rc = make_dir(out->log_dir, 0700);
    if (CAP_FAILED(rc))
        return rc;
    struct stat st;
    if (lstat(out->run_dir, &st) != 0)
        return cap_error_set(CAP_E_IO, IPC_COMP, NULL, "'%s': %s", out->run_dir, strerror(errno));
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
        return cap_error_set(CAP_E_ACCESSDENIED, IPC_COMP, NULL,
                             "'%s' must be a folder owned by uid %u with mode 0700 (it is uid %u, "
                             "mode %03o)",
                             out->run_dir, (unsigned)geteuid(), (unsigned)st.st_uid,
                             (unsigned)(st.st_mode & 0777));
    return CAP_OK;
}
