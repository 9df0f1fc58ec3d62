/*
 * tests/unit/vmproc/vmproc_test.h - what the vmproc suites share: the
 * suites, a scratch folder per test, and tiny flat guests written as bytes
 * (32-bit protected mode at 0x100000, the loader's flat default) so that a
 * whole VM runs under --engine rem without /dev/kvm or an assembler.
 */
#ifndef TESTS_UNIT_VMPROC_TEST_H
#define TESTS_UNIT_VMPROC_TEST_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vmproc.h"

Suite *opts_suite(void);
Suite *serial_server_suite(void);
Suite *console_suite(void);
Suite *vmproc_suite(void);
Suite *managed_args_suite(void);
Suite *inputfeed_suite(void);
Suite *fbpending_suite(void);
Suite *consolefb_suite(void);

/* A fresh folder below /tmp (short enough for socket paths); the caller
 * frees the string and removes the folder with vt_rmdir. */
char *vt_tmpdir(void);
/* Removes `dir` and the files in it (one level), frees the string. */
void vt_rmdir(char *dir);
/* dir/name as a new string. */
char *vt_path(const char *dir, const char *name);
/* Writes `n` bytes to dir/name; returns the path (caller frees). */
char *vt_write_file(const char *dir, const char *name, const void *bytes, size_t n);
/* The whole file as a NUL-terminated string (caller frees); NULL if absent. */
char *vt_read_file(const char *path);

/* Guests (flat 32-bit). HELLO writes "hi\n" to COM1 then debug-exit 0x2a
 * (exit status 85). SPIN loops forever (`jmp $`). ECHO reads COM1 (waiting
 * on LSR.DR) and writes each byte back +1 until it reads '.', then
 * debug-exit 7 (status 15). */
extern const uint8_t vt_guest_hello[];
extern const size_t vt_guest_hello_len;
extern const uint8_t vt_guest_spin[];
extern const size_t vt_guest_spin_len;
extern const uint8_t vt_guest_echo[];
extern const size_t vt_guest_echo_len;

/* Connects to the Unix socket at `path` (fails the test if it cannot). */
int vt_connect(const char *path);
/* Reads what arrives on fd within ms milliseconds, NUL-terminated (at most
 * cap-1 bytes; stops once `want` came); the count, -1 for EOF with nothing. */
ssize_t vt_read_for(int fd, char *buf, size_t cap, size_t want, int ms);

/* Adds the test case `name` with the tests listed (timeout in seconds, 0
 * for Check's default) to s. */
void vt_add_case(Suite *s, const char *name, int timeout, const TTest *const *tests);
#define VT_CASE(s, name, timeout, ...)                                                             \
    vt_add_case((s), (name), (timeout), (const TTest *const[]){__VA_ARGS__, NULL})

/* Options for `kernel` under rem with debug-exit and COM1 on `serial`. */
void vt_opts(struct vmproc_opts *o, const char *kernel, const char *serial);

/* Time limit of the suites' VM tests (ASan runs rem several times slower). */
#define VT_TIMEOUT 60

#endif
