/*
 * main.c - the capsule-idlc program: arguments, reading the input file,
 * running the phases of idlc.h, and printing errors as FILE:LINE: message.
 *
 * Exit status: 0 when every output was written, 1 when the IDL has errors or
 * a file could not be read or written (nothing is written then), 2 for a
 * usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idlc.h"

enum { EXIT_OK = 0, EXIT_BAD = 1, EXIT_USAGE = 2 };

static void usage(FILE *f)
{
    fputs("usage: capsule-idlc [--out DIR] FILE.xidl\n"
          "\n"
          "Compiles a Capsule XIDL file (sdk/idl/README.md) into DIR (default: .):\n"
          "  L.h           the C header (interfaces, enums, results, IIDs)\n"
          "  L_typelib.c   the typelib tables (capsule/typelib.h)\n"
          "  L.i           a SWIG interface file\n"
          "  L.md          the API reference\n"
          "  L_doc.json    every description, for the language bindings' docs\n"
          "where L is the <library> name. On errors it prints FILE:LINE: message\n"
          "for each, writes nothing and exits 1; usage errors exit 2.\n",
          f);
}

/* Reads a whole file; NULL with errno set on failure. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (!f)
        return NULL;
    for (;;) {
        if (n == cap) {
            char *b = realloc(buf, cap ? cap * 2 : 65536);
            if (!b)
                goto fail;
            buf = b;
            cap = cap ? cap * 2 : 65536;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f))
        goto fail;
    fclose(f);
    *len = n;
    return buf;
fail:
    free(buf);
    fclose(f);
    if (!errno)
        errno = EIO;
    return NULL;
}

static const char *basename_of(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static void print_diags(const char *path, struct idl_diags *d)
{
    idl_diags_sort(d);
    for (size_t i = 0; i < d->n; i++) {
        if (d->v[i].line)
            fprintf(stderr, "%s:%lu: %s\n", path, d->v[i].line, d->v[i].msg);
        else
            fprintf(stderr, "%s: %s\n", path, d->v[i].msg);
    }
    if (d->oom)
        fprintf(stderr, "%s: out of memory (some errors are not shown)\n", path);
}

static int compile(const char *path, const char *outdir)
{
    struct idl_diags diags = {0};
    struct idl_lib *lib = NULL;
    size_t len = 0;
    int fatal = 0;
    enum idl_status st;

    char *buf = read_file(path, &len);
    if (!buf) {
        fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
        return EXIT_BAD;
    }
    st = idl_parse(buf, len, &lib, &fatal, &diags);
    free(buf);
    if (st != IDL_ENOMEM && !fatal) {
        enum idl_status cst = idl_check(lib, &diags);
        if (st == IDL_OK || cst == IDL_ENOMEM)
            st = cst;
    }
    if (st == IDL_OK)
        st = idl_write_outputs(lib, outdir, basename_of(path), &diags);
    if (st == IDL_ENOMEM)
        idl_diag_add(&diags, 0, "out of memory");
    print_diags(path, &diags);
    idl_diags_release(&diags);
    idl_lib_free(lib);
    return st == IDL_OK ? EXIT_OK : EXIT_BAD;
}

int main(int argc, char **argv)
{
    const char *outdir = ".", *input = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return EXIT_OK;
        } else if (strcmp(a, "--out") == 0 || strcmp(a, "-o") == 0) {
            if (++i == argc) {
                fprintf(stderr, "capsule-idlc: %s needs a directory\n", a);
                return EXIT_USAGE;
            }
            outdir = argv[i];
        } else if (strncmp(a, "--out=", 6) == 0) {
            outdir = a + 6;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "capsule-idlc: unknown option %s (see --help)\n", a);
            return EXIT_USAGE;
        } else if (input) {
            fprintf(stderr, "capsule-idlc: one input file only (see --help)\n");
            return EXIT_USAGE;
        } else {
            input = a;
        }
    }
    if (!input || !*outdir) {
        usage(stderr);
        return EXIT_USAGE;
    }
    return compile(input, outdir);
}
