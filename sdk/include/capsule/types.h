/*
 * capsule/types.h - the scalar types every Capsule interface is built from.
 *
 * Every other public header includes this one. The C representation of each
 * IDL type is fixed here and nowhere else, so that generated headers, the
 * typelib, dynamic calls (xptcall) and IPC marshaling all agree:
 *
 *   IDL type            C type          libffi type
 *   boolean             cap_bool        uint8
 *   octet               uint8_t         uint8
 *   short / unsigned    int16_t/uint16_t sint16/uint16
 *   long / unsigned     int32_t/uint32_t sint32/uint32
 *   long long /unsigned int64_t/uint64_t sint64/uint64
 *   double              double          double
 *   string (UTF-8)      char *          pointer
 *   uuid                cap_uuid        pointer (always passed by address)
 *   enum E              E (int32_t)     sint32
 *   interface I         I *             pointer
 */
#ifndef CAPSULE_TYPES_H
#define CAPSULE_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Result of every interface method: >= 0 success, < 0 failure. */
typedef int32_t cap_result;

#define CAP_SUCCEEDED(rc) ((cap_result)(rc) >= 0)
#define CAP_FAILED(rc) ((cap_result)(rc) < 0)

/* IDL boolean: 0 is false, 1 is true; other values are normalised to 1. */
typedef uint8_t cap_bool;
#define CAP_FALSE ((cap_bool)0)
#define CAP_TRUE ((cap_bool)1)

/* A UUID in RFC 4122 byte order (the order of its text form). */
typedef struct cap_uuid {
    uint8_t b[16];
} cap_uuid;

/* Symbol visibility for shared objects built by the project. */
#if defined(_WIN32)
#define CAP_EXPORT __declspec(dllexport)
#else
#define CAP_EXPORT __attribute__((visibility("default")))
#endif

/*
 * printf-style argument checking. mingw-w64's gcc takes plain "printf" to
 * mean the Microsoft runtime's dialect (no %zu); the project's formatting
 * functions are C99 ones everywhere, so say so.
 */
#if defined(__MINGW32__)
#define CAP_PRINTF(fmt, args) __attribute__((format(gnu_printf, fmt, args)))
#else
#define CAP_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#endif

#ifdef __cplusplus
}
#endif

#endif /* CAPSULE_TYPES_H */
