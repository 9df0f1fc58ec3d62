/*
 * test_typelib.c - the header and typelib generated from golden.xidl,
 * compiled into this test: vtable layout and slot numbering across the
 * inheritance chain, getter/setter pairs, param types, directions and flags,
 * enum/interface references, results, classes, and the inline call helpers
 * forwarding every argument to the right slot.
 *
 * The object model's ISupports table and IID are defined here (this test
 * does not link the runtime), as capsule/typelib.h and supports.h declare them.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "golden.h"
#include "idlc_test.h"

const cap_uuid IID_ISupports = {{0, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0x46}};
static const struct cap_tl_method isupports_methods[3] = {
    {.name = "queryInterface", .idl_name = "queryInterface", .flags = CAP_TLM_BUILTIN},
    {.name = "addRef", .idl_name = "addRef", .flags = CAP_TLM_BUILTIN},
    {.name = "release", .idl_name = "release", .flags = CAP_TLM_BUILTIN},
};
const struct cap_tl_iface cap_tl_ISupports = {.name = "ISupports",
                                              .iid = &IID_ISupports,
                                              .first_own = 0,
                                              .n_own = 3,
                                              .own = isupports_methods};

/* Defined in golden_cxx.cc: the header used from C++. */
int idlc_cxx_check(void);

#define SLOT(iface, member) (offsetof(struct iface##Vtbl, member) / sizeof(void (*)(void)))

/* The method in vtable slot `index`, walking up the bases. */
static const struct cap_tl_method *method_at(const struct cap_tl_iface *tl, unsigned index)
{
    for (; tl; tl = tl->base) {
        if (index >= tl->first_own && index < (unsigned)tl->first_own + tl->n_own)
            return &tl->own[index - tl->first_own];
    }
    return NULL;
}

static void assert_uuid_str(const cap_uuid *u, const char *text)
{
    char buf[37];
    snprintf(buf, sizeof(buf),
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u->b[0],
             u->b[1], u->b[2], u->b[3], u->b[4], u->b[5], u->b[6], u->b[7], u->b[8], u->b[9],
             u->b[10], u->b[11], u->b[12], u->b[13], u->b[14], u->b[15]);
    ck_assert_str_eq(buf, text);
}

START_TEST(library_table)
{
    ck_assert_str_eq(golden_typelib.name, "golden");
    assert_uuid_str(golden_typelib.uuid, "6a1f0c52-3b7e-4d21-9f3c-0e5a7b9c1d01");
    ck_assert_uint_eq(golden_typelib.version_major, 2);
    ck_assert_uint_eq(golden_typelib.version_minor, 7);
    ck_assert_uint_eq(golden_typelib.n_ifaces, 3); /* ISupports is the runtime's */
    ck_assert_ptr_eq(golden_typelib.ifaces[0], &cap_tl_IGoldenBase);
    ck_assert_ptr_eq(golden_typelib.ifaces[2], &cap_tl_IGoldenArrays);
    ck_assert_uint_eq(golden_typelib.n_enums, 1);
    ck_assert_ptr_eq(golden_typelib.enums[0], &cap_tl_Colour);
    ck_assert_uint_eq(golden_typelib.n_results, 2);
    ck_assert_str_eq(golden_typelib.results[0].name, "GOLDEN_E_BROKEN");
    ck_assert_int_eq(golden_typelib.results[0].value, GOLDEN_E_BROKEN);
    ck_assert(CAP_FAILED(GOLDEN_E_BROKEN));
    ck_assert_int_eq(GOLDEN_E_BROKEN, (cap_result)0x80BB0001);
    ck_assert(CAP_SUCCEEDED(GOLDEN_S_PARTIAL));
    ck_assert_uint_eq(golden_typelib.n_classes, 2);
    const struct cap_tl_class *c = &golden_typelib.classes[0];
    ck_assert_str_eq(c->name, "GoldenThing");
    ck_assert_str_eq(c->contract_id, "@capsule.org/golden/thing;1");
    ck_assert_str_eq(CAP_CONTRACT_GoldenThing, c->contract_id);
    ck_assert_ptr_eq(c->clsid, &CLSID_GoldenThing);
    assert_uuid_str(&CLSID_GoldenThing, CLSID_GoldenThing_STR);
    ck_assert_ptr_eq(c->default_iface, &cap_tl_IGoldenArrays);
    ck_assert_ptr_eq(golden_typelib.classes[1].default_iface, &cap_tl_IGoldenBase);
}
END_TEST

START_TEST(enum_table)
{
    ck_assert_str_eq(cap_tl_Colour.name, "Colour");
    ck_assert_uint_eq(cap_tl_Colour.n_values, 3);
    ck_assert_str_eq(cap_tl_Colour.values[1].name, "Green");
    ck_assert_int_eq(cap_tl_Colour.values[1].value, 16);
    ck_assert_int_eq(Colour_Green, 16);
    ck_assert_int_eq(Colour_Lowest, INT32_MIN);
    ck_assert_int_eq(cap_tl_Colour.values[2].value, INT32_MIN);
    ck_assert_uint_eq(sizeof(Colour), sizeof(int32_t));
}
END_TEST

START_TEST(slot_numbering)
{
    /* IIDs, and the chain ISupports <- IGoldenBase <- IGoldenScalars <- IGoldenArrays. */
    assert_uuid_str(&IID_IGoldenBase, IID_IGoldenBase_STR);
    assert_uuid_str(&IID_IGoldenArrays, "6a1f0c52-3b7e-4d21-9f3c-0e5a7b9c1d05");
    ck_assert_ptr_eq(cap_tl_IGoldenBase.iid, &IID_IGoldenBase);
    ck_assert_ptr_eq(cap_tl_IGoldenBase.base, &cap_tl_ISupports);
    ck_assert_ptr_eq(cap_tl_IGoldenScalars.base, &cap_tl_IGoldenBase);
    ck_assert_ptr_eq(cap_tl_IGoldenArrays.base, &cap_tl_IGoldenScalars);
    ck_assert_uint_eq(cap_tl_IGoldenBase.first_own, CAP_ISUPPORTS_SLOTS);
    ck_assert_uint_eq(cap_tl_IGoldenBase.n_own, 4);
    ck_assert_uint_eq(cap_tl_IGoldenScalars.first_own, 7);
    ck_assert_uint_eq(cap_tl_IGoldenScalars.n_own, 5);
    ck_assert_uint_eq(cap_tl_IGoldenArrays.first_own, 12);
    ck_assert_uint_eq(cap_tl_iface_slots(&cap_tl_IGoldenArrays), 19);

    /* The C vtables agree with the typelib, slot for slot. */
    ck_assert_uint_eq(sizeof(struct IGoldenArraysVtbl), 19 * sizeof(void (*)(void)));
    ck_assert_uint_eq(SLOT(IGoldenBase, QueryInterface), 0);
    ck_assert_uint_eq(SLOT(IGoldenBase, Release), 2);
    ck_assert_uint_eq(SLOT(IGoldenBase, GetName), 3);
    ck_assert_uint_eq(SLOT(IGoldenArrays, Ping), 6);
    ck_assert_uint_eq(SLOT(IGoldenArrays, ReturnObject), 11);
    ck_assert_uint_eq(SLOT(IGoldenArrays, SetColour), 16);
    ck_assert_uint_eq(SLOT(IGoldenArrays, OutArrays), 18);
    ck_assert_str_eq(method_at(&cap_tl_IGoldenArrays, 3)->name, "getName");
    ck_assert_str_eq(method_at(&cap_tl_IGoldenArrays, 6)->name, "ping");
    ck_assert_str_eq(method_at(&cap_tl_IGoldenArrays, 11)->name, "returnObject");
    ck_assert_str_eq(method_at(&cap_tl_IGoldenArrays, 18)->name, "outArrays");
    ck_assert_ptr_null(method_at(&cap_tl_IGoldenArrays, 19));
    for (unsigned i = 3; i < 19; i++)
        ck_assert_uint_eq(method_at(&cap_tl_IGoldenArrays, i)->flags, 0);
}
END_TEST

START_TEST(accessors)
{
    const struct cap_tl_method *m = cap_tl_IGoldenBase.own;

    /* name: read-write -> getName, setName; id: readonly -> getId only. */
    ck_assert_str_eq(m[0].name, "getName");
    ck_assert_str_eq(m[0].idl_name, "name");
    ck_assert_uint_eq(m[0].kind, CAP_TLM_GETTER);
    ck_assert_uint_eq(m[0].n_params, 1);
    ck_assert_uint_eq(m[0].params[0].dir, CAP_TLD_RETURN);
    ck_assert_uint_eq(m[0].params[0].type, CAP_TLT_STRING);
    ck_assert_str_eq(m[1].name, "setName");
    ck_assert_uint_eq(m[1].kind, CAP_TLM_SETTER);
    ck_assert_uint_eq(m[1].params[0].dir, CAP_TLD_IN);
    ck_assert_str_eq(m[2].name, "getId");
    ck_assert_uint_eq(m[2].params[0].type, CAP_TLT_UUID);
    ck_assert_str_eq(m[3].name, "ping");
    ck_assert_uint_eq(m[3].kind, CAP_TLM_METHOD);
    ck_assert_uint_eq(m[3].n_params, 0);

    m = cap_tl_IGoldenArrays.own;
    ck_assert_str_eq(m[0].name, "getValues");
    ck_assert_uint_eq(m[0].params[0].flags, CAP_TLP_ARRAY);
    ck_assert_str_eq(m[1].name, "setValues");
    ck_assert_uint_eq(m[1].params[0].flags, CAP_TLP_ARRAY);
    ck_assert_str_eq(m[2].name, "getChildren"); /* readonly: no setChildren */
    ck_assert_ptr_eq(m[2].params[0].iface, &cap_tl_IGoldenBase);
    ck_assert_str_eq(m[3].name, "getColour");
    ck_assert_ptr_eq(m[3].params[0].enm, &cap_tl_Colour);
    ck_assert_str_eq(m[4].name, "setColour");
}
END_TEST

START_TEST(params)
{
    static const uint8_t types[] = {
        CAP_TLT_BOOL,  CAP_TLT_OCTET,    CAP_TLT_SHORT,     CAP_TLT_USHORT, CAP_TLT_LONG,
        CAP_TLT_ULONG, CAP_TLT_LONGLONG, CAP_TLT_ULONGLONG, CAP_TLT_DOUBLE, CAP_TLT_STRING,
        CAP_TLT_UUID,  CAP_TLT_ENUM,     CAP_TLT_IFACE,     CAP_TLT_IFACE};
    const struct cap_tl_method *in = &cap_tl_IGoldenScalars.own[0];
    const struct cap_tl_method *out = &cap_tl_IGoldenScalars.own[1];

    ck_assert_str_eq(in->name, "inScalars");
    ck_assert_uint_eq(in->n_params, 14);
    ck_assert_uint_eq(out->n_params, 14);
    for (unsigned i = 0; i < 14; i++) {
        ck_assert_uint_eq(in->params[i].type, types[i]);
        ck_assert_uint_eq(out->params[i].type, types[i]);
        ck_assert_uint_eq(in->params[i].dir, CAP_TLD_IN);
        ck_assert_uint_eq(out->params[i].dir, CAP_TLD_OUT);
        ck_assert_uint_eq(in->params[i].flags, 0);
        ck_assert_int_eq(in->params[i].enm != NULL, types[i] == CAP_TLT_ENUM);
        ck_assert_int_eq(in->params[i].iface != NULL, types[i] == CAP_TLT_IFACE);
    }
    ck_assert_ptr_eq(in->params[11].enm, &cap_tl_Colour);
    ck_assert_ptr_eq(in->params[12].iface, &cap_tl_IGoldenBase);
    ck_assert_ptr_eq(in->params[13].iface, &cap_tl_ISupports);

    const struct cap_tl_method *rs = &cap_tl_IGoldenScalars.own[2];
    ck_assert_str_eq(rs->name, "returnString");
    ck_assert_uint_eq(rs->params[1].dir, CAP_TLD_RETURN);
    ck_assert_str_eq(rs->params[1].name, "value");

    const struct cap_tl_method *oa = &cap_tl_IGoldenArrays.own[6];
    ck_assert_str_eq(oa->name, "outArrays");
    ck_assert_uint_eq(oa->n_params, 5);
    for (unsigned i = 0; i < 5; i++)
        ck_assert_uint_eq(oa->params[i].flags, CAP_TLP_ARRAY);
    ck_assert_uint_eq(oa->params[3].type, CAP_TLT_IFACE);
    ck_assert_ptr_eq(oa->params[3].iface, &cap_tl_ISupports);
    ck_assert_uint_eq(oa->params[4].dir, CAP_TLD_RETURN);
    ck_assert_uint_eq(oa->params[4].type, CAP_TLT_DOUBLE);
}
END_TEST

/* A fake IGoldenArrays: the helpers must reach the right slots with all args. */
static int ping_calls;
static uint32_t seen_counts[6];

static cap_result fake_ping(IGoldenArrays *self)
{
    (void)self;
    ping_calls++;
    return CAP_OK;
}

static cap_result fake_in_arrays(IGoldenArrays *self, uint32_t intsCount, const int32_t *ints,
                                 uint32_t strsCount, char *const *strs, uint32_t idsCount,
                                 const cap_uuid *ids, uint32_t objsCount, IGoldenBase *const *objs,
                                 uint32_t csCount, const Colour *cs, uint32_t flagsCount,
                                 const cap_bool *flags)
{
    (void)self;
    (void)ids;
    (void)objs;
    (void)flags;
    seen_counts[0] = intsCount;
    seen_counts[1] = strsCount;
    seen_counts[2] = idsCount;
    seen_counts[3] = objsCount;
    seen_counts[4] = csCount;
    seen_counts[5] = flagsCount;
    ck_assert_int_eq(ints[1], 20);
    ck_assert_str_eq(strs[0], "s");
    ck_assert_int_eq(cs[0], Colour_Green);
    return GOLDEN_S_PARTIAL;
}

static cap_result fake_get_colour(IGoldenArrays *self, Colour *c)
{
    (void)self;
    *c = Colour_Lowest;
    return CAP_OK;
}

START_TEST(call_helpers)
{
    static const struct IGoldenArraysVtbl vtbl = {
        .Ping = fake_ping,
        .InArrays = fake_in_arrays,
        .GetColour = fake_get_colour,
    };
    IGoldenArrays obj = {.vtbl = &vtbl};
    int32_t ints[] = {10, 20};
    char *strs[] = {"s"};
    Colour cs[] = {Colour_Green};
    Colour c = Colour_Red;

    ck_assert_int_eq(IGoldenArrays_Ping(&obj), CAP_OK);
    ck_assert_int_eq(ping_calls, 1);
    ck_assert_int_eq(
        IGoldenArrays_InArrays(&obj, 2, ints, 1, strs, 0, NULL, 0, NULL, 1, cs, 0, NULL),
        GOLDEN_S_PARTIAL);
    ck_assert_uint_eq(seen_counts[0], 2);
    ck_assert_uint_eq(seen_counts[4], 1);
    ck_assert_int_eq(IGoldenArrays_GetColour(&obj, &c), CAP_OK);
    ck_assert_int_eq(c, Colour_Lowest);
}
END_TEST

START_TEST(cxx_header)
{
    ck_assert_int_eq(idlc_cxx_check(), 0);
}
END_TEST

Suite *typelib_suite(void)
{
    Suite *s = suite_create("typelib");
    TCase *tc = tcase_create("tables");

    tcase_add_test(tc, library_table);
    tcase_add_test(tc, enum_table);
    tcase_add_test(tc, slot_numbering);
    tcase_add_test(tc, accessors);
    tcase_add_test(tc, params);
    suite_add_tcase(s, tc);
    tc = tcase_create("calls");
    tcase_add_test(tc, call_helpers);
    tcase_add_test(tc, cxx_header);
    suite_add_tcase(s, tc);
    return s;
}
