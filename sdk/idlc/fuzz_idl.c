/*
 * fuzz_idl.c - libFuzzer target for capsule-idlc's parser, checker and
 * emitters, all in memory (the emitters write to open_memstream buffers;
 * nothing touches the file system).
 *
 * Besides crashes and sanitizer reports it traps on broken contracts: a
 * status that disagrees with the error list, or an error message that would
 * not print as one line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idlc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void emit_all(const struct idl_lib *lib)
{
    int (*const emitters[])(FILE *, const struct idl_lib *, const char *) = {
        idl_emit_header, idl_emit_typelib, idl_emit_swig, idl_emit_markdown, idl_emit_doc};

    for (size_t i = 0; i < sizeof(emitters) / sizeof(emitters[0]); i++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
            return;
        if (emitters[i](f, lib, "fuzz.xidl") < 0)
            __builtin_trap();
        fclose(f);
        free(buf);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct idl_diags d = {0};
    struct idl_lib *lib = NULL;
    int fatal = 0;

    enum idl_status st = idl_parse((const char *)data, size, &lib, &fatal, &d);
    if (st != IDL_ENOMEM && !fatal) {
        enum idl_status cst = idl_check(lib, &d);
        if (st == IDL_OK && cst == IDL_OK)
            emit_all(lib);
        if (st == IDL_OK)
            st = cst;
    }
    if (!d.oom && (st == IDL_OK) != (d.n == 0))
        __builtin_trap();
    for (size_t i = 0; i < d.n; i++) {
        if (strchr(d.v[i].msg, '\n'))
            __builtin_trap();
    }
    idl_diags_release(&d);
    idl_lib_free(lib);
    return 0;
}
