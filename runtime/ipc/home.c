/*
 * home.c - the CAPSULE_HOME layout of capsule/client.h: resolving the home
 * folder and creating (or checking) HOME, HOME/run (0700) and HOME/logs.
 * Shared by client.c and capsule-svc so both agree on every path.
 *
 * The home holds the settings that tell this user's VM processes which
 * files to open and write, so, as ssh does for ~/.ssh, a home another user
 * could change is refused: HOME must be this user's and not writable by
 * group or others, and every folder above it root's or this user's and
 * not writable by group or others unless sticky (/tmp is fine: nobody can
 * rename another user's entry there).
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

/* The ownership rule above for `home` and the folders above it. */
static cap_result check_home_owner(const char *home)
{
    char *real = realpath(home, NULL);
    if (!real)
        return cap_error_set(CAP_E_IO, IPC_COMP, NULL, "'%s': %s", home, strerror(errno));
    cap_result rc = CAP_OK;
    uid_t me = geteuid();
    struct stat st;
    size_t len = strlen(real);
    for (int top = 1;; top = 0) {
        const char *p = len ? real : "/";
        char saved = real[len];
        real[len] = '\0';
        int r = stat(p, &st);
        real[len] = saved;
        if (r != 0) {
            rc = cap_error_set(CAP_E_IO, IPC_COMP, NULL, "'%s': %s", p, strerror(errno));
            break;
        }
        int others_write = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
        if (top && (!S_ISDIR(st.st_mode) || st.st_uid != me || others_write)) {
            rc = cap_error_set(CAP_E_ACCESSDENIED, IPC_COMP, NULL,
                               "refusing CAPSULE_HOME '%s': it must be a folder owned by uid %u "
                               "and not writable by group or others, like ~/.ssh (it is uid %u, "
                               "mode %03o)", home, (unsigned)me, (unsigned)st.st_uid,
                               (unsigned)(st.st_mode & 0777));
            break;
        }
        if (!top && ((st.st_uid != 0 && st.st_uid != me) ||
                     (others_write && !(st.st_mode & S_ISVTX)))) {
            real[len ? len : 1] = '\0';
            rc = cap_error_set(CAP_E_ACCESSDENIED, IPC_COMP, NULL,
                               "refusing CAPSULE_HOME '%s': the folder '%s' above it may be "
                               "changed by another user (uid %u, mode %03o; it must be root's or "
                               "uid %u's and not writable by group or others unless sticky)",
                               home, len ? real : "/", (unsigned)st.st_uid,
                               (unsigned)(st.st_mode & 07777), (unsigned)me);
            break;
        }
        if (len == 0)
            break;
        while (len > 0 && real[len - 1] != '/')
            len--;
        if (len > 0)
            len--; /* drop the slash: "" stands for "/" */
    }
    free(real);
    return rc;
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
        rc = check_home_owner(out->home);
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
