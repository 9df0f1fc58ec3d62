/*
 * out.c - writes the five generated files, all or nothing.
 *
 * Each output is first written to a temporary file in the output directory
 * (".L.h.XXXXXX"), flushed and synced; only when all five are complete are
 * they renamed over their final names. Any failure removes every temporary
 * file, so a build never sees a half-written or mismatched set (the header of
 * one run with the typelib of another). Before the first rename every final
 * name is checked, so that the renames themselves (same directory, same file
 * system) do not fail halfway in practice. Files are made 0644.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "idlc.h"

typedef int (*emit_fn)(FILE *f, const struct idl_lib *lib, const char *source);

static const struct {
    const char *suffix;
    emit_fn emit;
} outputs[] = {
    {".h", idl_emit_header},    {"_typelib.c", idl_emit_typelib}, {".i", idl_emit_swig},
    {".md", idl_emit_markdown}, {"_doc.json", idl_emit_doc},
};
#define N_OUTPUTS (sizeof(outputs) / sizeof(outputs[0]))

/* mkdir -p: creates dir and its missing parents. */
static int make_dirs(const char *dir)
{
    char *p = strdup(dir);
    int rc = 0;

    if (!p)
        return -1;
    for (char *c = p + 1; rc == 0; c++) {
        if (*c != '/' && *c != '\0')
            continue;
        char saved = *c;
        *c = '\0';
        if (mkdir(p, 0777) < 0 && errno != EEXIST)
            rc = -1;
        *c = saved;
        if (saved == '\0')
            break;
    }
    free(p);
    return rc;
}

/* Writes one output into a new temporary file whose name goes to *tmp. */
static int write_temp(const struct idl_lib *lib, const char *dir, const char *source, size_t k,
                      char **tmp)
{
    FILE *f = NULL;
    int fd = -1, rc = -1;

    if (asprintf(tmp, "%s/.%s%s.XXXXXX", dir, lib->name, outputs[k].suffix) < 0) {
        *tmp = NULL;
        errno = ENOMEM;
        return -1;
    }
    fd = mkstemp(*tmp);
    if (fd < 0)
        goto fail;
    if (fchmod(fd, 0644) < 0 || !(f = fdopen(fd, "w")))
        goto fail;
    fd = -1;
    if (outputs[k].emit(f, lib, source) < 0 || fflush(f) != 0 || fsync(fileno(f)) < 0)
        goto fail;
    rc = 0;
fail:
    if (f && fclose(f) != 0)
        rc = -1;
    if (fd >= 0)
        close(fd);
    return rc;
}

enum idl_status idl_write_outputs(const struct idl_lib *lib, const char *dir, const char *source,
                                  struct idl_diags *diags)
{
    char *tmp[N_OUTPUTS] = {NULL};
    enum idl_status st = IDL_OK;
    size_t k = 0;

    if (make_dirs(dir) < 0) {
        idl_diag_add(diags, 0, "cannot create directory %s: %s", dir, strerror(errno));
        return IDL_EIO;
    }
    for (k = 0; k < N_OUTPUTS; k++) {
        errno = 0;
        if (write_temp(lib, dir, source, k, &tmp[k]) < 0) {
            idl_diag_add(diags, 0, "cannot write %s/%s%s: %s", dir, lib->name, outputs[k].suffix,
                         strerror(errno ? errno : EIO));
            st = IDL_EIO;
            break;
        }
    }
    /* Refuse before renaming anything when a rename is bound to fail. */
    for (k = 0; st == IDL_OK && k < N_OUTPUTS; k++) {
        char *final = NULL;
        struct stat sb;
        if (asprintf(&final, "%s/%s%s", dir, lib->name, outputs[k].suffix) < 0) {
            idl_diag_add(diags, 0, "out of memory");
            st = IDL_EIO;
            break;
        }
        if (lstat(final, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            idl_diag_add(diags, 0, "cannot write %s: it is a directory", final);
            st = IDL_EIO;
        }
        free(final);
    }
    for (k = 0; st == IDL_OK && k < N_OUTPUTS; k++) {
        char *final = NULL;
        if (asprintf(&final, "%s/%s%s", dir, lib->name, outputs[k].suffix) < 0) {
            idl_diag_add(diags, 0, "out of memory");
            st = IDL_EIO;
            break;
        }
        if (rename(tmp[k], final) < 0) {
            idl_diag_add(diags, 0, "cannot rename %s to %s: %s", tmp[k], final, strerror(errno));
            st = IDL_EIO;
        } else {
            free(tmp[k]);
            tmp[k] = NULL;
        }
        free(final);
    }
    for (k = 0; k < N_OUTPUTS; k++) {
        if (tmp[k])
            unlink(tmp[k]);
        free(tmp[k]);
    }
    return st;
}
