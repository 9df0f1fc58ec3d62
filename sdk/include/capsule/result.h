/*
 * capsule/result.h - the project's one list of result codes.
 *
 * A cap_result is an int32: CAP_OK (0) and other non-negative values are
 * success, negative values are failures. Codes are split in ranges, one per
 * module, so that a code alone tells where a failure came from:
 *
 *   0x8000_00xx  generic codes, shared by every module (this header)
 *   0x8001_00xx  object model: registry, components, typelib, dynamic calls
 *   0x8002_00xx  IPC (declared by runtime/ipc)
 *   0x8003_00xx  the VMM (vmm/vmm_result.h)
 *   0x8004_00xx  the host drivers under it (hostdrivers/hd_result.h; the
 *                VMM maps them to its own before they reach a caller)
 *   0x80BB_00xx  the API, declared as <result> elements in sdk/idl/capsule.xidl
 *                and emitted into the generated header
 *
 * A human-readable message travels with a failure as error info
 * (capsule/errorinfo.h); the code is for programs, the message for people.
 */
#ifndef CAPSULE_RESULT_H
#define CAPSULE_RESULT_H

#include <capsule/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CAP_OK ((cap_result)0)
#define CAP_FALSE_RESULT ((cap_result)1) /* success, but "no" / "nothing" */

/* Generic failures. */
#define CAP_E_FAIL ((cap_result)0x80000001)          /* unspecified failure */
#define CAP_E_NOTIMPL ((cap_result)0x80000002)       /* not implemented (yet) */
#define CAP_E_NOINTERFACE ((cap_result)0x80000003)   /* QueryInterface: not supported */
#define CAP_E_POINTER ((cap_result)0x80000004)       /* NULL where a pointer is required */
#define CAP_E_INVALIDARG ((cap_result)0x80000005)    /* an argument is out of range or malformed */
#define CAP_E_OUTOFMEMORY ((cap_result)0x80000006)   /* allocation failed */
#define CAP_E_UNEXPECTED ((cap_result)0x80000007)    /* internal inconsistency */
#define CAP_E_ACCESSDENIED ((cap_result)0x80000008)  /* permission denied */
#define CAP_E_ABORT ((cap_result)0x80000009)         /* operation cancelled */
#define CAP_E_IO ((cap_result)0x8000000A)            /* host I/O error (errno in the message) */
#define CAP_E_TIMEOUT ((cap_result)0x8000000B)       /* a wait ran out */

/* Object model. */
#define CAP_E_CLASS_NOT_REGISTERED ((cap_result)0x80010001) /* no factory for CID/contract */
#define CAP_E_COMPONENT_LOAD ((cap_result)0x80010002)       /* shared object would not load */
#define CAP_E_BAD_MANIFEST ((cap_result)0x80010003)         /* component manifest invalid */
#define CAP_E_NO_TYPEINFO ((cap_result)0x80010004)          /* interface/method not in a typelib */
#define CAP_E_BAD_METHOD_INDEX ((cap_result)0x80010005)     /* dynamic call: no such vtable slot */
#define CAP_E_BAD_COMPONENT ((cap_result)0x80010006)        /* entry table missing / wrong ABI */
#define CAP_E_ALREADY_REGISTERED ((cap_result)0x80010007)   /* CID or contract taken */

/*
 * Returns the symbolic name of a code ("CAP_E_NOINTERFACE"), looking first at
 * the codes above and then at the <result> codes of every registered typelib;
 * unknown codes give "unknown result". The string is static. Thread-safe.
 */
const char *cap_result_name(cap_result rc);

#ifdef __cplusplus
}
#endif

#endif /* CAPSULE_RESULT_H */
