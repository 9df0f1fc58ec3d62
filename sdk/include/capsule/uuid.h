/*
 * capsule/uuid.h - UUIDs: parse, format, compare, generate.
 *
 * Interface IDs, class IDs, machine and medium IDs are all cap_uuid values
 * (capsule/types.h), stored in RFC 4122 byte order so that the bytes read in
 * the same order as the text form. The text form is the usual 36 characters
 * "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (hex digits in either case on
 * input, lower case on output), optionally wrapped in braces on input.
 *
 * All functions are thread-safe and keep no state.
 */
#ifndef CAPSULE_UUID_H
#define CAPSULE_UUID_H

#include <capsule/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Length of the text form without braces, and the buffer size to format it. */
#define CAP_UUID_STR_LEN 36
#define CAP_UUID_BUFSIZE 37

/*
 * Parses `s` into *out. Accepts exactly "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
 * or the same wrapped in "{...}"; nothing before or after, no spaces.
 * Returns CAP_OK; CAP_E_POINTER if s or out is NULL; CAP_E_INVALIDARG with
 * error info naming the input and what is wrong with it. *out is zeroed on
 * failure.
 */
cap_result cap_uuid_parse(const char *s, cap_uuid *out);

/* Writes the lower-case 36-character form and a NUL into buf; returns buf. */
char *cap_uuid_format(const cap_uuid *u, char buf[CAP_UUID_BUFSIZE]);

/* 1 if a and b are the same UUID, else 0. */
int cap_uuid_equal(const cap_uuid *a, const cap_uuid *b);

/* 1 if u is all zeroes (or NULL), else 0. */
int cap_uuid_is_null(const cap_uuid *u);

/*
 * Fills *out with a random (version 4) UUID from the kernel's random source
 * (getrandom). Returns CAP_OK, or CAP_E_IO with error info if the source
 * fails.
 */
cap_result cap_uuid_generate(cap_uuid *out);

#ifdef __cplusplus
}
#endif

#endif /* CAPSULE_UUID_H */
