/*
 * object.c - the table-driven QueryInterface of capsule/object.h.
 *
 * Every object written in C needs the same QueryInterface: clear the out
 * pointer, compare the IID against the interfaces it implements, AddRef and
 * hand back the right member on a match. Writing it once, over a table,
 * keeps the COM rules (identity, symmetry, reflexivity, transitivity) true
 * by construction: every interface of an object answers from the same table.
 */
#include <capsule/object.h>
#include <capsule/result.h>
#include <capsule/uuid.h>

CAP_EXPORT cap_result cap_qi_table(void *obj, const struct cap_qi_entry *table, const cap_uuid *iid,
                                   void **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    if (!iid || !obj || !table)
        return CAP_E_POINTER;
    const struct cap_qi_entry *hit = NULL;
    if (table[0].iid && cap_uuid_equal(iid, &IID_ISupports))
        hit = &table[0];
    for (const struct cap_qi_entry *e = table; !hit && e->iid; e++)
        if (cap_uuid_equal(iid, e->iid))
            hit = e;
    if (!hit)
        return CAP_E_NOINTERFACE;
    ISupports *iface = (ISupports *)((char *)obj + hit->offset);
    ISupports_AddRef(iface);
    *out = iface;
    return CAP_OK;
}
