/*
 * alltypes_impl.h - a real C implementation of IAllTypes (alltypes.xidl),
 * the object every dynamic-call and proxy test calls in the end.
 *
 * Each echo method gives back its input transformed in `b` (integers
 * complemented, booleans negated, doubles times -2, strings and uuids
 * reversed, colors advanced, interfaces as is) and copied in `r`; arrays come
 * back reversed (transformed) in `b` and copied in `r`. The helpers below let
 * tests compute the same expectations.
 */
#ifndef ALLTYPES_IMPL_H
#define ALLTYPES_IMPL_H

#include <capsule/captest.h>

/* A new object with a count of 1, or NULL when out of memory. */
IAllTypes *alltypes_new(void);

/* Objects alive right now (for leak checks in tests). */
uint32_t alltypes_live(void);

/* The current reference count of an object made by alltypes_new(). */
uint32_t alltypes_refs(IAllTypes *obj);

/* The id every object answers in getId(). */
extern const cap_uuid alltypes_id;

/* The transforms the echo methods apply (see above). */
Color alltypes_next_color(Color c);
void alltypes_reverse_uuid(const cap_uuid *in, cap_uuid *out);

#endif /* ALLTYPES_IMPL_H */
