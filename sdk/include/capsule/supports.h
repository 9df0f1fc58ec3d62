/*
 * capsule/supports.h - ISupports, the root of every Capsule interface.
 *
 * An interface pointer points to a struct whose first member is a pointer to
 * a constant vtable. Every vtable begins with the three ISupports slots, in
 * this order; an interface that extends another appends its own slots after
 * its base's, so slot numbers are stable and a pointer to any interface is
 * also a valid ISupports pointer.
 *
 * The rules (those of COM/XPCOM):
 *  - QueryInterface(iid) clears *out first; on success *out is AddRef'ed and
 *    the call returns CAP_OK; otherwise it returns CAP_E_NOINTERFACE.
 *  - QueryInterface for IID_ISupports always returns the same pointer for one
 *    object (identity); QI is symmetric, reflexive and transitive.
 *  - AddRef/Release are atomic and may be called from any thread; they return
 *    the new count for debugging only (never for logic).
 *
 * ISupports is also declared in sdk/idl/capsule.xidl (as a builtin interface)
 * so that the typelib and the API reference describe it; its C declaration
 * lives here because the object model needs it before any IDL is compiled.
 */
#ifndef CAPSULE_SUPPORTS_H
#define CAPSULE_SUPPORTS_H

#include <capsule/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ISupports ISupports;

struct ISupportsVtbl {
    cap_result (*QueryInterface)(ISupports *self, const cap_uuid *iid, void **out);
    uint32_t (*AddRef)(ISupports *self);
    uint32_t (*Release)(ISupports *self);
};

struct ISupports {
    const struct ISupportsVtbl *vtbl;
};

/* IID of ISupports: {00000000-0000-0000-c000-000000000046}, as in COM. */
extern const cap_uuid IID_ISupports;
#define CAP_IID_ISUPPORTS_STR "00000000-0000-0000-c000-000000000046"

/* Number of vtable slots ISupports occupies. */
#define CAP_ISUPPORTS_SLOTS 3

static inline cap_result ISupports_QueryInterface(ISupports *self, const cap_uuid *iid, void **out)
{
    return self->vtbl->QueryInterface(self, iid, out);
}

static inline uint32_t ISupports_AddRef(ISupports *self)
{
    return self->vtbl->AddRef(self);
}

static inline uint32_t ISupports_Release(ISupports *self)
{
    return self->vtbl->Release(self);
}

/* Helpers taking any interface pointer (they cast to ISupports). */
#define CAP_ADDREF(p) ISupports_AddRef((ISupports *)(p))
#define CAP_RELEASE(p) ISupports_Release((ISupports *)(p))
#define CAP_QI(p, iid, out) ISupports_QueryInterface((ISupports *)(p), (iid), (void **)(out))

#ifdef __cplusplus
}
#endif

#endif /* CAPSULE_SUPPORTS_H */
