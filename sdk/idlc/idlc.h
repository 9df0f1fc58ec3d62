/*
 * idlc.h - the phases of capsule-idlc, usable without main().
 *
 *   idl_parse()  XML text -> struct idl_lib (expat; every node keeps its line)
 *   idl_check()  names resolved, slots numbered, every rule of the IDL format
 *                checked (sdk/idl/README.md); all errors reported, not the first
 *   idl_emit_*() one generated file each, written to a stdio stream
 *   idl_write_outputs()  all five files into a directory, all or nothing
 *
 * Errors go to a `struct idl_diags` (line + message); the caller prefixes the
 * file name when it prints them. Nothing here prints, exits or touches the
 * file system except idl_write_outputs(), so the fuzzer (fuzz_idl.c) and the
 * tests drive the same code as the program.
 */
#ifndef CAPSULE_IDLC_H
#define CAPSULE_IDLC_H

#include <stdio.h>

#include "model.h"

enum idl_status {
    IDL_OK = 0,
    IDL_EBAD,   /* the IDL has errors; they are in the diags */
    IDL_ENOMEM, /* out of memory */
    IDL_EIO,    /* a file could not be written (message in the diags, line 0) */
};

/*
 * Parses `len` bytes of XIDL. On return *out holds whatever library was
 * read (possibly incomplete, or NULL if there was none) and must be freed with
 * idl_lib_free() whatever the status. IDL_EBAD with *fatal set means the XML
 * itself is malformed: the model is then not worth checking.
 */
enum idl_status idl_parse(const char *buf, size_t len, struct idl_lib **out, int *fatal,
                          struct idl_diags *diags);

/* Resolves and validates a parsed library; IDL_OK when it may be emitted. */
enum idl_status idl_check(struct idl_lib *lib, struct idl_diags *diags);

/*
 * Emitters. Each needs a library idl_check() accepted; `source` is the input
 * file name mentioned in the generated comment (pass a basename, so output
 * does not depend on where the build runs). They return 0, or -1 if the
 * stream reported a write error.
 */
int idl_emit_header(FILE *f, const struct idl_lib *lib, const char *source);
int idl_emit_typelib(FILE *f, const struct idl_lib *lib, const char *source);
int idl_emit_swig(FILE *f, const struct idl_lib *lib, const char *source);
int idl_emit_markdown(FILE *f, const struct idl_lib *lib, const char *source);
/* Every <desc> as JSON for the language bindings (format in emit_doc.c). */
int idl_emit_doc(FILE *f, const struct idl_lib *lib, const char *source);

/*
 * Writes DIR/L.h, DIR/L_typelib.c, DIR/L.i, DIR/L.md and DIR/L_doc.json (L =
 * library name) through temporary files in DIR that are renamed only once all are
 * complete; on failure no temporary file is left and IDL_EIO is returned with
 * a message. DIR is created if missing.
 */
enum idl_status idl_write_outputs(const struct idl_lib *lib, const char *dir, const char *source,
                                  struct idl_diags *diags);

#endif /* CAPSULE_IDLC_H */
