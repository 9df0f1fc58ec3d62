/*
 * badcomp.c - components that are broken on purpose, one per way a
 * component can fail to load; compiled once per BADCOMP_* variant into
 * BUILD/tests/badcomps/lib<variant>.so next to <variant>.manifest:
 *
 *   BADCOMP_BADABI    the entry table has ABI version 99
 *   BADCOMP_NOENTRY   the entry symbol is misspelt
 *   BADCOMP_MISMATCH  the table's class has another contract ID than the
 *                     manifest says
 *   BADCOMP_INITFAIL  init fails with error info
 */
#include <capsule/component.h>
#include <capsule/errorinfo.h>
#include <capsule/result.h>

#if defined(BADCOMP_BADABI)
#define NAME "badabi"
#define LAST 0x01
#elif defined(BADCOMP_NOENTRY)
#define NAME "noentry"
#define LAST 0x02
#elif defined(BADCOMP_MISMATCH)
#define NAME "mismatch"
#define LAST 0x03
#elif defined(BADCOMP_INITFAIL)
#define NAME "initfail"
#define LAST 0x04
#else
#error "define one BADCOMP_* variant"
#endif

/* {7a3c0e10-0000-4000-8000-0000000bad<LAST>} */
static const cap_uuid CLSID_Thing = {
    {0x7a, 0x3c, 0x0e, 0x10, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0x0b, 0xad, LAST}};

static cap_result thing_create(struct cap_registry *reg, void *ctx, const cap_uuid *iid, void **out)
{
    *out = NULL;
    return CAP_E_NOTIMPL; /* never reached: loading fails first */
}

#ifdef BADCOMP_INITFAIL
static cap_result init_fails(struct cap_registry *reg, void **ctx)
{
    return cap_error_set(CAP_E_ACCESSDENIED, NAME, NULL, "init refuses to start");
}
#endif

static const struct cap_component_class classes[] = {
#ifdef BADCOMP_MISMATCH
    {&CLSID_Thing, "@capsule.org/test/" NAME "-other;1", "Thing", thing_create},
#else
    {&CLSID_Thing, "@capsule.org/test/" NAME ";1", "Thing", thing_create},
#endif
};

static const struct cap_component component = {
#ifdef BADCOMP_BADABI
    .abi = 99,
#else
    .abi = CAP_COMPONENT_ABI,
#endif
    .name = NAME,
    .n_classes = 1,
    .classes = classes,
#ifdef BADCOMP_INITFAIL
    .init = init_fails,
#endif
};

#ifdef BADCOMP_NOENTRY
CAP_EXPORT const struct cap_component *capsule_component_entry_typo(void);
CAP_EXPORT const struct cap_component *capsule_component_entry_typo(void)
{
    return &component;
}
#else
CAP_COMPONENT_DEFINE(component)
#endif
