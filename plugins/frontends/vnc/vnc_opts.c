/*
 * vnc_opts.c - the server's settings as capsule-vm takes them: the
 * `--vrde` option's text and the password file (vnc.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capsule/capsule.h>
#include <capsule/errorinfo.h>

#include "vnc.h"

#define PASSWORD_FILE_MAX 4096

static int parse_port(const char *v, unsigned *port)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (errno || !*v || *end || *v == '-' || *v == '+' || n > 65535)
        return -1;
    *port = (unsigned)n;
    return 0;
}

int vnc_parse_spec(char *spec, struct vnc_config *cfg, const char **password_file, char *err,
                   size_t errlen)
{
    memset(cfg, 0, sizeof(*cfg));
    *password_file = NULL;
    int have_port = 0;
    char *rest = spec, *tok;
    while ((tok = strsep(&rest, ","))) {
        char *eq = strchr(tok, '=');
        if (!eq) {
            snprintf(err, errlen, "'%s' is not key=value (port=N, address=A, password-file=F)",
                     tok);
            return -1;
        }
        *eq = '\0';
        const char *v = eq + 1;
        if (!strcmp(tok, "port")) {
            if (parse_port(v, &cfg->port)) {
                snprintf(err, errlen, "port '%s' is not a number in 0..65535 (0: a free port)", v);
                return -1;
            }
            have_port = 1;
        } else if (!strcmp(tok, "address")) {
            if (!*v) {
                snprintf(err, errlen, "address= is empty");
                return -1;
            }
            cfg->address = v;
        } else if (!strcmp(tok, "password-file")) {
            if (!*v) {
                snprintf(err, errlen, "password-file= is empty");
                return -1;
            }
            *password_file = v;
        } else {
            snprintf(err, errlen, "unknown key '%s' (port, address, password-file)", tok);
            return -1;
        }
    }
    if (!have_port) {
        snprintf(err, errlen, "no port= (port=N, 0 for a free port)");
        return -1;
    }
    return 0;
}

cap_result vnc_read_password_file(const char *path, char **out)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return cap_error_set(CAP_E_FILE_ERROR, "vnc", NULL, "the password file %s: %s", path,
                             strerror(errno));
    struct stat st;
    cap_result rc = CAP_OK;
    if (fstat(fd, &st) < 0)
        rc = cap_error_set(CAP_E_FILE_ERROR, "vnc", NULL, "the password file %s: %s", path,
                           strerror(errno));
    else if (!S_ISREG(st.st_mode))
        rc = cap_error_set(CAP_E_FILE_ERROR, "vnc", NULL,
                           "the password file %s is not a regular file", path);
    else if (st.st_mode & 077)
        rc = cap_error_set(CAP_E_FILE_ERROR, "vnc", NULL,
                           "the password file %s may be read or written by others (mode %o): "
                           "chmod 600 it",
                           path, (unsigned)(st.st_mode & 0777));
    else if (st.st_uid != geteuid())
        rc = cap_error_set(CAP_E_FILE_ERROR, "vnc", NULL,
                           "the password file %s belongs to another user", path);
    char buf[PASSWORD_FILE_MAX];
    ssize_t n = 0;
    if (CAP_SUCCEEDED(rc) && (n = read(fd, buf, sizeof(buf) - 1)) < 0)
        rc = cap_error_set(CAP_E_FILE_ERROR, "vnc", NULL, "the password file %s: %s", path,
                           strerror(errno));
    close(fd);
    if (CAP_FAILED(rc))
        return rc;
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if (!buf[0])
        return cap_error_set(CAP_E_INVALIDARG, "vnc", NULL,
                             "the password file %s holds no password (its first line is empty)",
                             path);
    *out = strdup(buf);
    memset(buf, 0, sizeof(buf));
    return *out ? CAP_OK : cap_error_set(CAP_E_OUTOFMEMORY, "vnc", NULL, "out of memory");
}
