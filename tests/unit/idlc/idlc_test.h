/*
 * idlc_test.h - shared by the capsule-idlc unit tests: running the real
 * compiler binary (IDLC_PATH, set by the SConscript) and reading files.
 *
 * The tests drive the program, not its functions, so that they check exactly
 * what a build sees: exit status, the FILE:LINE: lines on stderr, and the
 * files (or the absence of files) in the output directory.
 */
#ifndef CAPSULE_TEST_IDLC_H
#define CAPSULE_TEST_IDLC_H

#include <check.h>
#include <stddef.h>

/* What one run of capsule-idlc did. */
struct idlc_run {
    int status; /* exit status; -1 if it did not exit normally */
    char *err;  /* everything it wrote to stderr (owned) */
    char *out;  /* everything it wrote to stdout (owned) */
};

/* Runs IDLC_PATH with argv[] (NULL-terminated, without argv[0]). */
void idlc_run(struct idlc_run *r, const char *const *args);
void idlc_run_free(struct idlc_run *r);

/* A new empty directory under TMPDIR (owned string; remove with rm_tree). */
char *make_temp_dir(void);
void rm_tree(const char *dir);
/* Number of entries in a directory other than . and .. (-1 if unreadable). */
int dir_entries(const char *dir);
/* Whole file as a NUL-terminated string, or NULL. */
char *read_text(const char *path, size_t *len);

/* Path of a test input: IDLC_SRCDIR "/" rel (owned). */
char *src_path(const char *rel);

Suite *golden_suite(void);
Suite *bad_suite(void);
Suite *typelib_suite(void);

#endif /* CAPSULE_TEST_IDLC_H */
