/*
 * capsule/typelib.h - the typelib: C tables that describe every interface.
 *
 * capsule-idlc writes one `struct cap_typelib` per IDL <library> (in
 * <library>_typelib.c, next to the generated header). The tables are constant
 * data; nothing in them is allocated at run time. Dynamic calls
 * (capsule/xptcall.h), dynamic proxies and IPC marshaling read them and know
 * nothing else about any interface: no per-interface code is written by hand.
 *
 * Method numbering. Each interface's vtable is its base's vtable followed by
 * its own slots, in the order the IDL declares its members: an <attribute>
 * contributes a getter ("getName") and, unless readonly, a setter ("setName")
 * right after it; a <method> contributes one slot. The index of a method is
 * its vtable slot number counted from 0 at ISupports::QueryInterface.
 *
 * C calling convention of a slot, for a method with params p1..pn:
 *
 *     cap_result Method(Iface *self, <args of p1>, ..., <args of pn>);
 *
 * ISupports' three builtin slots are the only exception (capsule/supports.h):
 * AddRef/Release return uint32_t; they are flagged CAP_TLM_BUILTIN.
 * Params appear in declaration order; the IDL requires dir="return" (at most
 * one) to be the last. A getter has one param of dir RETURN, a setter one of
 * dir IN. Each param becomes one or two C arguments:
 *
 *     dir     scalar T       string         uuid              iface I      array of T
 *     in      T              const char *   const cap_uuid *  I *          uint32_t n, const T *a
 *     out     T *            char **        cap_uuid *        I **         uint32_t *n, T **a
 *     return  T *            char **        cap_uuid *        I **         uint32_t *n, T **a
 *
 * (For an array of strings "const T *" is "char *const *"; for an array of
 * uuids the elements are cap_uuid values; for an array of interfaces they are
 * I * pointers.)
 *
 * Ownership (capsule/mem.h has the functions):
 *  - in: borrowed for the duration of the call; a callee that keeps an
 *    interface AddRefs it, one that keeps a string copies it.
 *  - out/return: owned by the caller afterwards. Strings are allocated with
 *    cap_str_dup/cap_alloc and freed with cap_str_free; arrays are allocated
 *    with cap_alloc and freed with cap_free after their elements (strings
 *    freed, interfaces Released; cap_array_free does all of that). Interface
 *    pointers are AddRef'ed by the callee and Released by the caller. NULL
 *    strings and NULL interfaces are legal values. An empty array may be
 *    returned as (0, NULL).
 *  - On failure a callee leaves its out/return arguments NULL/0 (it must not
 *    leave the caller anything to free).
 */
#ifndef CAPSULE_TYPELIB_H
#define CAPSULE_TYPELIB_H

#include <capsule/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The type of one parameter (without its array-ness). */
enum cap_tl_type {
    CAP_TLT_VOID = 0, /* never used in a param; reserved */
    CAP_TLT_BOOL,
    CAP_TLT_OCTET,
    CAP_TLT_SHORT,
    CAP_TLT_USHORT,
    CAP_TLT_LONG,
    CAP_TLT_ULONG,
    CAP_TLT_LONGLONG,
    CAP_TLT_ULONGLONG,
    CAP_TLT_DOUBLE,
    CAP_TLT_STRING,
    CAP_TLT_UUID,
    CAP_TLT_ENUM,
    CAP_TLT_IFACE,
    CAP_TLT_COUNT_
};

enum cap_tl_dir {
    CAP_TLD_IN = 0,
    CAP_TLD_OUT,
    CAP_TLD_RETURN,
};

/* Param flags. */
#define CAP_TLP_ARRAY 0x01u /* an array of `type` (count + pointer in C) */

struct cap_tl_enum_value {
    const char *name;  /* IDL name of the constant, e.g. "PoweredOff" */
    int32_t value;
};

struct cap_tl_enum {
    const char *name;  /* e.g. "MachineState"; C constants are Name_Value */
    uint32_t n_values;
    const struct cap_tl_enum_value *values;
};

struct cap_tl_iface;

struct cap_tl_param {
    const char *name;
    uint8_t type;  /* enum cap_tl_type */
    uint8_t dir;   /* enum cap_tl_dir */
    uint8_t flags; /* CAP_TLP_* */
    /* CAP_TLT_ENUM: the enum; else NULL. */
    const struct cap_tl_enum *enm;
    /* CAP_TLT_IFACE: the interface (ISupports for "any object"); else NULL. */
    const struct cap_tl_iface *iface;
};

/* Method kinds and flags. */
enum cap_tl_method_kind {
    CAP_TLM_METHOD = 0,
    CAP_TLM_GETTER,
    CAP_TLM_SETTER,
};
#define CAP_TLM_BUILTIN 0x01u /* ISupports slot: not callable dynamically */

struct cap_tl_method {
    const char *name;     /* "getName", "setMemorySize", "findMachine" */
    const char *idl_name; /* the IDL member name: "name", "memorySize", "findMachine" */
    uint8_t kind;         /* enum cap_tl_method_kind */
    uint8_t flags;        /* CAP_TLM_* */
    uint16_t n_params;
    const struct cap_tl_param *params;
};

struct cap_tl_iface {
    const char *name; /* "IMachine" */
    const cap_uuid *iid;
    const struct cap_tl_iface *base; /* NULL only for ISupports */
    uint16_t first_own;              /* slot index of this interface's first own method */
    uint16_t n_own;                  /* number of own methods */
    const struct cap_tl_method *own; /* own methods; slot = first_own + i */
};

struct cap_tl_result {
    const char *name; /* C name, e.g. "CAP_E_OBJECT_NOT_FOUND" */
    cap_result value;
};

struct cap_tl_class {
    const char *name; /* "Session" */
    const cap_uuid *clsid;
    const char *contract_id; /* "@capsule.org/session;1" */
    const struct cap_tl_iface *default_iface;
};

struct cap_typelib {
    const char *name; /* the <library name> */
    const cap_uuid *uuid;
    uint16_t version_major, version_minor;
    uint32_t n_ifaces;
    const struct cap_tl_iface *const *ifaces;
    uint32_t n_enums;
    const struct cap_tl_enum *const *enums;
    uint32_t n_results;
    const struct cap_tl_result *results;
    uint32_t n_classes;
    const struct cap_tl_class *classes;
};

/* The builtin ISupports table, defined by the object model. */
extern const struct cap_tl_iface cap_tl_ISupports;

/* Total number of vtable slots of an interface (inherited + own). */
static inline uint32_t cap_tl_iface_slots(const struct cap_tl_iface *tl)
{
    return (uint32_t)tl->first_own + tl->n_own;
}

/*
 * Returns the method in vtable slot `index` of `tl`, walking up to the base
 * interface that declares it; NULL if index is out of range.
 */
const struct cap_tl_method *cap_tl_method_at(const struct cap_tl_iface *tl, uint32_t index);

/* True if `tl` is `iid` or extends it (directly or not). */
int cap_tl_iface_is_a(const struct cap_tl_iface *tl, const cap_uuid *iid);

/*
 * The process's set of typelibs. Registration is explicit: a program (or a
 * component's entry function) registers each typelib it uses. Registering
 * the same typelib twice is harmless. The tables must outlive the process's
 * use of them (they are static data). Thread-safe.
 */
cap_result cap_typelib_register(const struct cap_typelib *lib);

/* Looks an interface up by IID in every registered typelib; NULL if none. */
const struct cap_tl_iface *cap_typelib_find_iface(const cap_uuid *iid);

/* Looks an interface up by name ("IMachine"); NULL if none. */
const struct cap_tl_iface *cap_typelib_find_iface_by_name(const char *name);

#ifdef __cplusplus
}
#endif

#endif /* CAPSULE_TYPELIB_H */
