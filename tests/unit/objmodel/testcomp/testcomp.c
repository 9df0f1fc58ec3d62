/*
 * testcomp.c - a real component shared object for the registry tests
 * (BUILD/tests/components/libtestcomp.so, described by testcomp.manifest).
 *
 * It exports only the entry table and keeps all its state in the context
 * its init returns, as every component should: a Counter class (ICounter),
 * a Hooks service (ITestHooks) through which a test sets a flag that
 * shutdown raises and reads how many objects are alive, a Failing class
 * whose factory fails with this component's own result code, and a typelib
 * declaring that code and ITestHooks.
 */
#include <capsule/component.h>
#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/object.h>
#include <capsule/result.h>

#include "testifaces.h"

/* {7a3c0e10-0000-4000-8000-00000000c001} ... */
/* clang-format off */
#define TESTCOMP_CID(last) {{0x7a, 0x3c, 0x0e, 0x10, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0xc0, (last)}}
/* clang-format on */
static const cap_uuid CLSID_Counter = TESTCOMP_CID(0x01);
static const cap_uuid CLSID_Hooks = TESTCOMP_CID(0x02);
static const cap_uuid CLSID_Failing = TESTCOMP_CID(0x03);

struct testcomp_state {
    cap_refcnt live; /* objects of this component alive */
    int *shutdown_flag;
};

/* ---- Counter ------------------------------------------------------------ */

struct counter {
    ICounter ICounter_iface;
    cap_refcnt ref;
    int32_t value;
    struct testcomp_state *state;
};

static const struct cap_qi_entry counter_qi_table[] = {
    CAP_QI_ENTRY(IID_ICounter, struct counter, ICounter_iface),
    CAP_QI_END,
};

static struct counter *impl_from_ICounter(ICounter *iface)
{
    return CAP_CONTAINER_OF(iface, struct counter, ICounter_iface);
}

static cap_result counter_qi(ICounter *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(impl_from_ICounter(self), counter_qi_table, iid, out);
}

static uint32_t counter_addref(ICounter *self)
{
    return cap_refcnt_inc(&impl_from_ICounter(self)->ref);
}

static uint32_t counter_release(ICounter *self)
{
    struct counter *c = impl_from_ICounter(self);
    uint32_t n = cap_refcnt_dec(&c->ref);
    if (n == 0) {
        cap_refcnt_dec(&c->state->live);
        cap_free(c);
    }
    return n;
}

static cap_result counter_add(ICounter *self, int32_t delta)
{
    impl_from_ICounter(self)->value += delta;
    return CAP_OK;
}

static cap_result counter_get_value(ICounter *self, int32_t *value)
{
    *value = impl_from_ICounter(self)->value;
    return CAP_OK;
}

static const struct ICounterVtbl counter_vtbl = {
    counter_qi, counter_addref, counter_release, counter_add, counter_get_value,
};

static cap_result counter_create(struct cap_registry *reg, void *ctx, const cap_uuid *iid,
                                 void **out)
{
    struct testcomp_state *st = ctx;
    struct counter *c = cap_alloc_zero(sizeof(*c));
    if (!c)
        return CAP_E_OUTOFMEMORY;
    c->ICounter_iface.vtbl = &counter_vtbl;
    c->state = st;
    cap_refcnt_init(&c->ref, 1);
    cap_refcnt_inc(&st->live);
    cap_result rc = counter_qi(&c->ICounter_iface, iid, out);
    counter_release(&c->ICounter_iface);
    return rc;
}

/* ---- Hooks -------------------------------------------------------------- */

struct hooks {
    ITestHooks ITestHooks_iface;
    cap_refcnt ref;
    struct testcomp_state *state;
};

static const struct cap_qi_entry hooks_qi_table[] = {
    CAP_QI_ENTRY(IID_ITestHooks, struct hooks, ITestHooks_iface),
    CAP_QI_END,
};

static struct hooks *impl_from_ITestHooks(ITestHooks *iface)
{
    return CAP_CONTAINER_OF(iface, struct hooks, ITestHooks_iface);
}

static cap_result hooks_qi(ITestHooks *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(impl_from_ITestHooks(self), hooks_qi_table, iid, out);
}

static uint32_t hooks_addref(ITestHooks *self)
{
    return cap_refcnt_inc(&impl_from_ITestHooks(self)->ref);
}

static uint32_t hooks_release(ITestHooks *self)
{
    struct hooks *h = impl_from_ITestHooks(self);
    uint32_t n = cap_refcnt_dec(&h->ref);
    if (n == 0) {
        cap_refcnt_dec(&h->state->live);
        cap_free(h);
    }
    return n;
}

static cap_result hooks_set_shutdown_flag(ITestHooks *self, int *flag)
{
    impl_from_ITestHooks(self)->state->shutdown_flag = flag;
    return CAP_OK;
}

static cap_result hooks_get_live_objects(ITestHooks *self, uint32_t *n)
{
    *n = cap_refcnt_get(&impl_from_ITestHooks(self)->state->live);
    return CAP_OK;
}

static const struct ITestHooksVtbl hooks_vtbl = {
    hooks_qi, hooks_addref, hooks_release, hooks_set_shutdown_flag, hooks_get_live_objects,
};

static cap_result hooks_create(struct cap_registry *reg, void *ctx, const cap_uuid *iid, void **out)
{
    struct testcomp_state *st = ctx;
    struct hooks *h = cap_alloc_zero(sizeof(*h));
    if (!h)
        return CAP_E_OUTOFMEMORY;
    h->ITestHooks_iface.vtbl = &hooks_vtbl;
    h->state = st;
    cap_refcnt_init(&h->ref, 1);
    cap_refcnt_inc(&st->live);
    cap_result rc = hooks_qi(&h->ITestHooks_iface, iid, out);
    hooks_release(&h->ITestHooks_iface);
    return rc;
}

static cap_result failing_create(struct cap_registry *reg, void *ctx, const cap_uuid *iid,
                                 void **out)
{
    *out = NULL;
    return cap_error_set(TESTCOMP_E_BROKEN, "testcomp", NULL, "the Failing class always fails");
}

/* ---- typelib and entry table -------------------------------------------- */

static const struct cap_tl_param flag_params[] = {
    {.name = "flag", .type = CAP_TLT_LONG, .dir = CAP_TLD_OUT},
};
static const struct cap_tl_param live_params[] = {
    {.name = "n", .type = CAP_TLT_ULONG, .dir = CAP_TLD_RETURN},
};
static const struct cap_tl_method hooks_methods[] = {
    {.name = "SetShutdownFlag",
     .idl_name = "setShutdownFlag",
     .n_params = 1,
     .params = flag_params},
    {.name = "getLiveObjects",
     .idl_name = "liveObjects",
     .kind = CAP_TLM_GETTER,
     .n_params = 1,
     .params = live_params},
};
static const struct cap_tl_iface tl_ITestHooks = {
    .name = "ITestHooks",
    .iid = &IID_ITestHooks,
    .base = &cap_tl_ISupports,
    .first_own = CAP_ISUPPORTS_SLOTS,
    .n_own = 2,
    .own = hooks_methods,
};
static const struct cap_tl_iface *const testcomp_ifaces[] = {&tl_ITestHooks};
static const struct cap_tl_result testcomp_results[] = {
    {"TESTCOMP_E_BROKEN", TESTCOMP_E_BROKEN},
};
static const struct cap_typelib testcomp_typelib = {
    .name = "testcomp",
    .version_major = 1,
    .n_ifaces = 1,
    .ifaces = testcomp_ifaces,
    .n_results = 1,
    .results = testcomp_results,
};
static const struct cap_typelib *const testcomp_typelibs[] = {&testcomp_typelib};

static cap_result testcomp_init(struct cap_registry *reg, void **ctx)
{
    struct testcomp_state *st = cap_alloc_zero(sizeof(*st));
    if (!st)
        return CAP_E_OUTOFMEMORY;
    *ctx = st;
    return CAP_OK;
}

static void testcomp_shutdown(void *ctx)
{
    struct testcomp_state *st = ctx;
    if (st->shutdown_flag)
        *st->shutdown_flag = 1;
    cap_free(st);
}

static const struct cap_component_class testcomp_classes[] = {
    {&CLSID_Counter, TESTCOMP_COUNTER_CONTRACT, "Counter", counter_create},
    {&CLSID_Hooks, TESTCOMP_HOOKS_CONTRACT, "Hooks", hooks_create},
    {&CLSID_Failing, TESTCOMP_FAILING_CONTRACT, "Failing", failing_create},
};

static const struct cap_component testcomp = {
    .abi = CAP_COMPONENT_ABI,
    .name = "testcomp",
    .n_classes = 3,
    .classes = testcomp_classes,
    .init = testcomp_init,
    .shutdown = testcomp_shutdown,
    .n_typelibs = 1,
    .typelibs = testcomp_typelibs,
};

CAP_COMPONENT_DEFINE(testcomp)
