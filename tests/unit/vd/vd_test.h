/*
 * tests/unit/vd/vd_test.h - what the vd suite's files share: the test
 * cases, a scratch folder per test, data patterns and running qemu-img.
 */
#ifndef VD_TEST_H
#define VD_TEST_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include <capsule/vd.h>

#define MIB (1024u * 1024)

TCase *tcase_formats(void);
TCase *tcase_hostile(void);
TCase *tcase_qemu(void);
TCase *tcase_crash(void);

/* "DIR/name" in the suite's scratch folder (made fresh for each run of
 * the program, removed at its end; shared by all tests, so each test uses
 * its own names), in a static buffer that the next call reuses. */
const char *scratch(const char *name);
/* The error message of the last failure (taken). */
const char *take_message(void);
/* Fills buf with bytes derived from seed and each byte's offset. */
void pattern(void *buf, size_t len, uint32_t seed, uint64_t offset);
/* 1 if buf holds pattern(seed, offset). */
int has_pattern(const void *buf, size_t len, uint32_t seed, uint64_t offset);
/* 1 if all len bytes of buf are v. */
int all_bytes(const void *buf, size_t len, uint8_t v);
/* Runs a shell command; returns its exit status (-1 if it did not exit),
 * its stdout+stderr in out (n bytes) if out is not NULL. */
int run(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* 1 if qemu-img and qemu-io are installed (the interop peers). */
int have_qemu(void);

#endif
