/*
 * capsule/mem.h - memory, strings and arrays that cross interfaces.
 *
 * One ownership rule (see capsule/typelib.h): whatever a callee hands back
 * through an out or return parameter belongs to the caller, allocated with
 * these functions and freed with them. Never free such memory with free():
 * a component may be built against another C runtime (Windows).
 */
#ifndef CAPSULE_MEM_H
#define CAPSULE_MEM_H

#include <capsule/typelib.h>
#include <capsule/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* malloc/calloc/free equivalents; cap_alloc(0) returns a valid unique pointer. */
void *cap_alloc(size_t size);
void *cap_alloc_zero(size_t size);
void *cap_realloc(void *p, size_t size);
void cap_free(void *p);

/* Copies a UTF-8 string; NULL in gives NULL out. NULL on allocation failure
 * only when s != NULL. */
char *cap_str_dup(const char *s);
/* Copies at most n bytes of s and terminates the copy. */
char *cap_str_ndup(const char *s, size_t n);
/* printf into a newly allocated string; NULL on failure. */
char *cap_str_printf(const char *fmt, ...) CAP_PRINTF(1, 2);
void cap_str_free(char *s);

/*
 * Frees an array returned through an out/return parameter of element type
 * `type` (enum cap_tl_type): strings are freed, interfaces Released, then the
 * block itself. NULL items is fine.
 */
void cap_array_free(uint8_t type, uint32_t n, void *items);

/* Size in bytes of one array element of the given type (0 for VOID). */
size_t cap_tl_type_size(uint8_t type);

#ifdef __cplusplus
}
#endif

#endif /* CAPSULE_MEM_H */
