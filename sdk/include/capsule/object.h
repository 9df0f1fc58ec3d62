/*
 * capsule/object.h - helpers for writing Capsule objects in C.
 *
 * The pattern (Wine's COM in C): an object struct embeds one member per
 * interface it implements, each member being the interface struct itself
 * (whose first field is the vtable pointer). A method gets back to its
 * object with CAP_CONTAINER_OF:
 *
 *     struct counter {
 *         ICounter ICounter_iface;   // primary interface: the identity
 *         INamed INamed_iface;
 *         cap_refcnt ref;
 *         ...
 *     };
 *     static struct counter *impl_from_ICounter(ICounter *iface)
 *     {
 *         return CAP_CONTAINER_OF(iface, struct counter, ICounter_iface);
 *     }
 *
 * QueryInterface is best written with cap_qi_table() over a constant table
 * of {IID, member offset} pairs; secondary interfaces forward QueryInterface,
 * AddRef and Release to the primary one. Constructors build with a count of
 * 1 (cap_refcnt_init(&o->ref, 1)) and destroy the half-built object on
 * failure.
 *
 * Everything here is header-only except cap_qi_table().
 */
#ifndef CAPSULE_OBJECT_H
#define CAPSULE_OBJECT_H

#include <stddef.h>

#include <capsule/supports.h>
#include <capsule/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The struct of type `type` whose member `member` is at `ptr`. */
/* clang-format off */
#define CAP_CONTAINER_OF(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
/* clang-format on */

/*
 * An atomic reference count. Wrapped in a struct so that it is only touched
 * through these functions. Increments are relaxed (taking a new reference
 * needs an existing one, which already orders things); the decrement is
 * acquire-release so that every write made through any reference happens
 * before the destructor that runs when the count reaches 0.
 */
typedef struct cap_refcnt {
    uint32_t value;
} cap_refcnt;

static inline void cap_refcnt_init(cap_refcnt *r, uint32_t value)
{
    __atomic_store_n(&r->value, value, __ATOMIC_RELAXED);
}

/* Returns the new count. */
static inline uint32_t cap_refcnt_inc(cap_refcnt *r)
{
    return __atomic_add_fetch(&r->value, 1, __ATOMIC_RELAXED);
}

/* Returns the new count; the caller destroys the object when it is 0. */
static inline uint32_t cap_refcnt_dec(cap_refcnt *r)
{
    return __atomic_sub_fetch(&r->value, 1, __ATOMIC_ACQ_REL);
}

/* The current count; for debugging and tests only, never for logic. */
static inline uint32_t cap_refcnt_get(cap_refcnt *r)
{
    return __atomic_load_n(&r->value, __ATOMIC_RELAXED);
}

/*
 * One row of a QueryInterface table: an IID and the offset, inside the
 * object, of the interface member that answers it. An interface that extends
 * another answers both IIDs with the same member, so list both.
 */
struct cap_qi_entry {
    const cap_uuid *iid;
    size_t offset;
};

/* clang-format off */
#define CAP_QI_ENTRY(iid, type, member) {&(iid), offsetof(type, member)}
#define CAP_QI_END {NULL, 0}
/* clang-format on */

/*
 * QueryInterface from a table. `obj` is the object (the start of its
 * struct); `table` ends with CAP_QI_END and its FIRST entry is the object's
 * primary interface, which also answers IID_ISupports (so the identity rule
 * holds whatever interface QI is called on). Clears *out first; on a match
 * AddRefs the interface found and stores it in *out. Returns CAP_OK,
 * CAP_E_NOINTERFACE (without error info: a failed QI is an ordinary answer),
 * or CAP_E_POINTER if iid or out is NULL. Thread-safe.
 */
cap_result cap_qi_table(void *obj, const struct cap_qi_entry *table, const cap_uuid *iid,
                        void **out);

#ifdef __cplusplus
}
#endif

#endif /* CAPSULE_OBJECT_H */
