/*
 * xpt_test.h - what the files of the xptcall test suite share: the test
 * cases each file contributes, lookups in the captest typelib, and the
 * forwarding proxy (proxy -> closure -> handler -> cap_xpt_invoke -> target)
 * that lets every check run against a real object and a proxy alike.
 */
#ifndef XPT_TEST_H
#define XPT_TEST_H

#include <check.h>

#include <capsule/xptcall.h>

#include "alltypes_impl.h"

TCase *tcase_invoke(void);
TCase *tcase_invoke_misuse(void);
TCase *tcase_proxy(void);
TCase *tcase_proxy_threads(void);

/* The vtable slot of the method named `name` in `tl` (aborts the test if none). */
uint32_t slot_of(const struct cap_tl_iface *tl, const char *name);

/*
 * A proxy for `tl` whose handler invokes the same slot of `target`
 * dynamically; the proxy holds a reference to target until its last
 * Release. Counts: forward_calls() calls made, forward_live() proxies alive.
 */
extern const struct cap_proxy_handler forward_handler;
ISupports *forward_proxy(const struct cap_tl_iface *tl, void *target);
uint32_t forward_calls(void);
uint32_t forward_live(void);

/* Calls every method of IAllTypes through the generated helpers on `o` and
 * checks every result (ends with no reference or allocation left over). */
void check_all_types(IAllTypes *o);

/* Fetches and checks the thread's error info, then clears it. */
void check_error_info(cap_result rc, const char *component, const char *iface,
                      const char *message_part);

#endif /* XPT_TEST_H */
