/*
 * service/serialport.c - ISerialPort: one UART slot of a machine.
 *
 * A port object is a view on (machine, slot): it holds its machine and
 * reads and writes that machine's working settings, under the same rules
 * as the machine's own setters (mutable only when the machine is; see
 * machine_obj_mutable_locked). The overlap check between enabled ports is done
 * by the machine's saveSettings.
 */
#include <string.h>

#include <capsule/mem.h>
#include <capsule/object.h>

#include "serialport.h"
#include "session_machine.h"

struct serialport {
    ISerialPort ISerialPort_iface;
    cap_refcnt ref;
    struct machine_obj *m; /* strong */
    uint32_t slot;
};

static struct serialport *impl(ISerialPort *iface)
{
    return CAP_CONTAINER_OF(iface, struct serialport, ISerialPort_iface);
}

static const struct cap_qi_entry sp_qi[] = {
    CAP_QI_ENTRY(IID_ISerialPort, struct serialport, ISerialPort_iface),
    CAP_QI_END,
};

static cap_result sp_QueryInterface(ISerialPort *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(impl(self), sp_qi, iid, out);
}

static uint32_t sp_AddRef(ISerialPort *self)
{
    return cap_refcnt_inc(&impl(self)->ref);
}

static uint32_t sp_Release(ISerialPort *self)
{
    struct serialport *p = impl(self);
    uint32_t n = cap_refcnt_dec(&p->ref);
    if (n == 0) {
        machine_obj_release(p->m);
        cap_free(p);
    }
    return n;
}

/* Locks and returns the slot's settings (NULL: error set, unlocked). */
static struct serial_cfg *begin(struct serialport *p, int write, cap_result *rc)
{
    *rc = machine_obj_part_begin(p->m, write, "ISerialPort");
    return CAP_SUCCEEDED(*rc) ? &p->m->cfg.serial[p->slot] : NULL;
}

static void end(struct serialport *p, int changed)
{
    machine_obj_part_end(p->m, changed);
}

static cap_result sp_GetSlot(ISerialPort *self, uint32_t *out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = impl(self)->slot;
    return CAP_OK;
}

#define GETTER(name, type, field)                                                                  \
    static cap_result sp_Get##name(ISerialPort *self, type *out)                                   \
    {                                                                                              \
        struct serialport *p = impl(self);                                                         \
        cap_result rc;                                                                             \
        if (!out)                                                                                  \
            return CAP_E_POINTER;                                                                  \
        struct serial_cfg *s = begin(p, 0, &rc);                                                   \
        if (!s)                                                                                    \
            return rc;                                                                             \
        *out = s->field;                                                                           \
        end(p, 0);                                                                                 \
        return CAP_OK;                                                                             \
    }

GETTER(Enabled, cap_bool, enabled)
GETTER(IoBase, uint16_t, io_base)
GETTER(Irq, uint32_t, irq)
GETTER(HostMode, PortMode, mode)

static cap_result sp_GetPath(ISerialPort *self, char **out)
{
    struct serialport *p = impl(self);
    cap_result rc;
    struct serial_cfg *s = begin(p, 0, &rc);
    if (!s)
        return rc;
    rc = svc_return_str(s->path, out);
    end(p, 0);
    return rc;
}

static cap_result bad(const char *fmt, unsigned v)
{
    return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, "ISerialPort", fmt, v);
}

static cap_result sp_SetEnabled(ISerialPort *self, cap_bool v)
{
    struct serialport *p = impl(self);
    cap_result rc;
    struct serial_cfg *s = begin(p, 1, &rc);
    if (!s)
        return rc;
    s->enabled = v ? CAP_TRUE : CAP_FALSE;
    end(p, 1);
    return CAP_OK;
}

static cap_result sp_SetIoBase(ISerialPort *self, uint16_t v)
{
    struct serialport *p = impl(self);
    cap_result rc;
    if (v == 0 || v > 0xfff8 || (v & 7))
        return bad("I/O base 0x%x is not a multiple of 8 between 0x8 and 0xfff8", v);
    struct serial_cfg *s = begin(p, 1, &rc);
    if (!s)
        return rc;
    s->io_base = v;
    end(p, 1);
    return CAP_OK;
}

static cap_result sp_SetIrq(ISerialPort *self, uint32_t v)
{
    struct serialport *p = impl(self);
    cap_result rc;
    if (v > 15)
        return bad("IRQ %u is not between 0 and 15", v);
    struct serial_cfg *s = begin(p, 1, &rc);
    if (!s)
        return rc;
    s->irq = v;
    end(p, 1);
    return CAP_OK;
}

static cap_result sp_SetHostMode(ISerialPort *self, PortMode v)
{
    struct serialport *p = impl(self);
    cap_result rc;
    if ((unsigned)v > PortMode_Server)
        return bad("unknown port mode %u", (unsigned)v);
    struct serial_cfg *s = begin(p, 1, &rc);
    if (!s)
        return rc;
    s->mode = v;
    end(p, 1);
    return CAP_OK;
}

static cap_result sp_SetPath(ISerialPort *self, const char *v)
{
    struct serialport *p = impl(self);
    cap_result rc;
    if (!v || !settings_text_ok(v) || strchr(v, '\n'))
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, "ISerialPort",
                             "the path is not valid UTF-8 text on one line");
    if (*v && v[0] != '/')
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, "ISerialPort",
                             "the path '%s' is not absolute", v);
    char *copy = cap_str_dup(v);
    if (!copy)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    struct serial_cfg *s = begin(p, 1, &rc);
    if (!s) {
        cap_str_free(copy);
        return rc;
    }
    if (s->mode == PortMode_Server && strlen(v) > 107) {
        end(p, 0);
        cap_str_free(copy);
        return bad("a socket path is limited to 107 bytes (this one has %u)", (unsigned)strlen(v));
    }
    cap_str_free(s->path);
    s->path = copy;
    end(p, 1);
    return CAP_OK;
}

static const struct ISerialPortVtbl sp_vtbl = {
    .QueryInterface = sp_QueryInterface,
    .AddRef = sp_AddRef,
    .Release = sp_Release,
    .GetSlot = sp_GetSlot,
    .GetEnabled = sp_GetEnabled,
    .SetEnabled = sp_SetEnabled,
    .GetIoBase = sp_GetIoBase,
    .SetIoBase = sp_SetIoBase,
    .GetIrq = sp_GetIrq,
    .SetIrq = sp_SetIrq,
    .GetHostMode = sp_GetHostMode,
    .SetHostMode = sp_SetHostMode,
    .GetPath = sp_GetPath,
    .SetPath = sp_SetPath,
};

cap_result serialport_create(struct machine_obj *m, uint32_t slot, ISerialPort **out)
{
    *out = NULL;
    if (slot >= SETTINGS_SERIAL_SLOTS)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, "IMachine",
                             "serial port slot %u is not below %u", (unsigned)slot,
                             SETTINGS_SERIAL_SLOTS);
    struct serialport *p = cap_alloc_zero(sizeof(*p));
    if (!p)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    p->ISerialPort_iface.vtbl = &sp_vtbl;
    cap_refcnt_init(&p->ref, 1);
    p->m = m;
    machine_obj_addref(m);
    p->slot = slot;
    *out = &p->ISerialPort_iface;
    return CAP_OK;
}
