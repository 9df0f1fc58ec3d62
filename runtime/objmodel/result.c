/*
 * result.c - names of result codes (capsule/result.h).
 *
 * The generic and object-model codes are listed here; the API's codes live
 * in the <result> tables of the typelibs that declare them and are found
 * through the typelib registry, so this file never needs to know the IDL.
 */
#include <capsule/result.h>

#include "objmodel_internal.h"

/* clang-format off */
#define RESULT_NAME(code) {#code, code}
/* clang-format on */

static const struct cap_tl_result builtin_results[] = {
    RESULT_NAME(CAP_OK),
    RESULT_NAME(CAP_FALSE_RESULT),
    RESULT_NAME(CAP_E_FAIL),
    RESULT_NAME(CAP_E_NOTIMPL),
    RESULT_NAME(CAP_E_NOINTERFACE),
    RESULT_NAME(CAP_E_POINTER),
    RESULT_NAME(CAP_E_INVALIDARG),
    RESULT_NAME(CAP_E_OUTOFMEMORY),
    RESULT_NAME(CAP_E_UNEXPECTED),
    RESULT_NAME(CAP_E_ACCESSDENIED),
    RESULT_NAME(CAP_E_ABORT),
    RESULT_NAME(CAP_E_IO),
    RESULT_NAME(CAP_E_TIMEOUT),
    RESULT_NAME(CAP_E_CLASS_NOT_REGISTERED),
    RESULT_NAME(CAP_E_COMPONENT_LOAD),
    RESULT_NAME(CAP_E_BAD_MANIFEST),
    RESULT_NAME(CAP_E_NO_TYPEINFO),
    RESULT_NAME(CAP_E_BAD_METHOD_INDEX),
    RESULT_NAME(CAP_E_BAD_COMPONENT),
    RESULT_NAME(CAP_E_ALREADY_REGISTERED),
};

CAP_EXPORT const char *cap_result_name(cap_result rc)
{
    for (size_t i = 0; i < sizeof(builtin_results) / sizeof(builtin_results[0]); i++)
        if (builtin_results[i].value == rc)
            return builtin_results[i].name;
    const char *name = typelib_result_name(rc);
    return name ? name : "unknown result";
}
