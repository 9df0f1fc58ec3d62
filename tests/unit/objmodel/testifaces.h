/*
 * testifaces.h - hand-written interfaces for the object-model tests.
 *
 * They follow the ABI that capsule-idlc generates (capsule/supports.h,
 * capsule/typelib.h): a struct whose first member points to a const vtable
 * that starts with the three ISupports slots. The unit tests and the test
 * components (tests/unit/objmodel/testcomp) share them; the IIDs and CIDs
 * are static so each binary has its own copy, as with generated code.
 */
#ifndef TESTIFACES_H
#define TESTIFACES_H

#include <capsule/supports.h>
#include <capsule/types.h>

/* ICounter: {6f1f7a52-8b8e-4f0c-9a43-1f0f1c2d3e01} */
static const cap_uuid IID_ICounter = {{0x6f, 0x1f, 0x7a, 0x52, 0x8b, 0x8e, 0x4f, 0x0c, 0x9a, 0x43,
                                       0x1f, 0x0f, 0x1c, 0x2d, 0x3e, 0x01}};
/* INamed: {6f1f7a52-8b8e-4f0c-9a43-1f0f1c2d3e02} */
static const cap_uuid IID_INamed = {{0x6f, 0x1f, 0x7a, 0x52, 0x8b, 0x8e, 0x4f, 0x0c, 0x9a, 0x43,
                                     0x1f, 0x0f, 0x1c, 0x2d, 0x3e, 0x02}};
/* ITestHooks: {6f1f7a52-8b8e-4f0c-9a43-1f0f1c2d3e03} */
static const cap_uuid IID_ITestHooks = {{0x6f, 0x1f, 0x7a, 0x52, 0x8b, 0x8e, 0x4f, 0x0c, 0x9a, 0x43,
                                         0x1f, 0x0f, 0x1c, 0x2d, 0x3e, 0x03}};
/* An interface nobody implements: {6f1f7a52-8b8e-4f0c-9a43-1f0f1c2d3eff} */
static const cap_uuid IID_INobody = {{0x6f, 0x1f, 0x7a, 0x52, 0x8b, 0x8e, 0x4f, 0x0c, 0x9a, 0x43,
                                      0x1f, 0x0f, 0x1c, 0x2d, 0x3e, 0xff}};

/* Classes of the test component (testcomp.manifest must agree). */
#define TESTCOMP_COUNTER_CID      "7a3c0e10-0000-4000-8000-00000000c001"
#define TESTCOMP_HOOKS_CID        "7a3c0e10-0000-4000-8000-00000000c002"
#define TESTCOMP_FAILING_CID      "7a3c0e10-0000-4000-8000-00000000c003"
#define TESTCOMP_COUNTER_CONTRACT "@capsule.org/test/counter;1"
#define TESTCOMP_HOOKS_CONTRACT   "@capsule.org/test/hooks;1"
#define TESTCOMP_FAILING_CONTRACT "@capsule.org/test/failing;1"
/* A result code declared in the test component's typelib. */
#define TESTCOMP_E_BROKEN ((cap_result)0x80BB7F01)

typedef struct ICounter ICounter;
struct ICounterVtbl {
    cap_result (*QueryInterface)(ICounter *self, const cap_uuid *iid, void **out);
    uint32_t (*AddRef)(ICounter *self);
    uint32_t (*Release)(ICounter *self);
    cap_result (*Add)(ICounter *self, int32_t delta);
    cap_result (*GetValue)(ICounter *self, int32_t *value);
};
struct ICounter {
    const struct ICounterVtbl *vtbl;
};

typedef struct INamed INamed;
struct INamedVtbl {
    cap_result (*QueryInterface)(INamed *self, const cap_uuid *iid, void **out);
    uint32_t (*AddRef)(INamed *self);
    uint32_t (*Release)(INamed *self);
    cap_result (*GetName)(INamed *self, char **name);
    cap_result (*SetName)(INamed *self, const char *name);
};
struct INamed {
    const struct INamedVtbl *vtbl;
};

/* The test component's service: lets a test observe the component. */
typedef struct ITestHooks ITestHooks;
struct ITestHooksVtbl {
    cap_result (*QueryInterface)(ITestHooks *self, const cap_uuid *iid, void **out);
    uint32_t (*AddRef)(ITestHooks *self);
    uint32_t (*Release)(ITestHooks *self);
    /* *flag is set to 1 when the component's shutdown runs. */
    cap_result (*SetShutdownFlag)(ITestHooks *self, int *flag);
    /* How many objects of the component are alive. */
    cap_result (*GetLiveObjects)(ITestHooks *self, uint32_t *n);
};
struct ITestHooks {
    const struct ITestHooksVtbl *vtbl;
};

#endif /* TESTIFACES_H */
