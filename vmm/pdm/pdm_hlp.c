/*
 * vmm/pdm/pdm_hlp.c - the helper table: what PDM offers devices.
 *
 * Each helper maps a device's request onto the VM's IOM, TM, interrupt
 * controller or host callbacks, keeping track of what the device owns
 * (ranges, timers) so that PDM can remove it after destruct whatever the
 * device forgot. IOM and TM call back through the thunks at the top, which
 * take the VM's device lock before entering the device.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <capsule/errorinfo.h>

#include "../iom/iom.h"
#include "../tm/tm.h"
#include "pdm_internal.h"

/* ---- thunks from IOM and TM ------------------------------------------------ */

cap_result pdm_io_thunk(void *user, uint16_t port, unsigned size, bool write, uint32_t *val)
{
    struct pdm_range *r = user;
    struct pdm_devinst *inst = r->inst;
    pdm_lock(inst->pdm);
    cap_result rc = inst->dev.reg->ops->io(&inst->dev, r->user, port, size, write, val);
    pdm_unlock(inst->pdm);
    return rc;
}

cap_result pdm_mmio_thunk(void *user, uint64_t addr, unsigned size, bool write, uint64_t *val)
{
    struct pdm_range *r = user;
    struct pdm_devinst *inst = r->inst;
    pdm_lock(inst->pdm);
    cap_result rc = inst->dev.reg->ops->mmio(&inst->dev, r->user, addr, size, write, val);
    pdm_unlock(inst->pdm);
    return rc;
}

static void timer_thunk(void *user, struct tm_timer *t, uint64_t now)
{
    struct pdm_timer *pt = user;
    struct pdm_devinst *inst = pt->inst;
    pdm_lock(inst->pdm);
    pt->fn(&inst->dev, pt->user, now);
    pdm_unlock(inst->pdm);
}

void pdm_release_resources(struct pdm_devinst *inst)
{
    struct iom *iom = inst->pdm->info.iom;
    for (struct pdm_range *r = inst->ranges, *n; r; r = n) {
        n = r->next;
        if (r->mmio)
            iom_deregister_mmio(iom, r->base, r);
        else
            iom_deregister_io(iom, (uint16_t)r->base, r);
        free(r);
    }
    inst->ranges = NULL;
    for (struct pdm_timer *t = inst->timers, *n; t; t = n) {
        n = t->next;
        tm_timer_destroy(t->t);
        free(t);
    }
    inst->timers = NULL;
}

/* ---- ports and MMIO -------------------------------------------------------- */

static cap_result add_range(struct pdm_dev *dev, bool mmio, uint64_t base, uint64_t size,
                            uint32_t flags, void *user, const char *desc)
{
    struct pdm_devinst *inst = pdm_inst(dev);
    const char *kind = mmio ? "MMIO" : "port";
    if (mmio ? !dev->reg->ops->mmio : !dev->reg->ops->io)
        return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                             "%s: registers a %s range but has no %s op", inst->name, kind,
                             mmio ? "mmio" : "io");
    struct pdm_range *r = calloc(1, sizeof(*r));
    if (!r)
        return cap_error_set(CAP_E_OUTOFMEMORY, PDM_COMPONENT, NULL, "out of memory");
    *r = (struct pdm_range){.inst = inst, .user = user, .base = base, .mmio = mmio};
    char name[96];
    snprintf(name, sizeof(name), "%s%s%s", inst->name, desc ? " " : "", desc ? desc : "");
    uint32_t iflags = (flags & PDM_IO_F_SPLIT) ? IOM_F_SPLIT : 0;
    cap_result rc =
        mmio ? iom_register_mmio(inst->pdm->info.iom, base, size, iflags, pdm_mmio_thunk, r, name)
             : iom_register_io(inst->pdm->info.iom, (uint16_t)base, (uint32_t)size, iflags,
                               pdm_io_thunk, r, name);
    if (CAP_FAILED(rc)) {
        free(r);
        return rc;
    }
    r->next = inst->ranges;
    inst->ranges = r;
    return CAP_OK;
}

static cap_result del_range(struct pdm_dev *dev, bool mmio, uint64_t base)
{
    struct pdm_devinst *inst = pdm_inst(dev);
    for (struct pdm_range **pp = &inst->ranges; *pp; pp = &(*pp)->next) {
        struct pdm_range *r = *pp;
        if (r->mmio == mmio && r->base == base) {
            *pp = r->next;
            if (mmio)
                iom_deregister_mmio(inst->pdm->info.iom, base, r);
            else
                iom_deregister_io(inst->pdm->info.iom, (uint16_t)base, r);
            free(r);
            return CAP_OK;
        }
    }
    return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                         "%s: no %s range of its own at 0x%" PRIx64, inst->name,
                         mmio ? "MMIO" : "port", base);
}

static cap_result hlp_io_register(struct pdm_dev *dev, uint16_t base, uint32_t count,
                                  uint32_t flags, void *user, const char *desc)
{
    return add_range(dev, false, base, count, flags, user, desc);
}

static cap_result hlp_io_deregister(struct pdm_dev *dev, uint16_t base)
{
    return del_range(dev, false, base);
}

static cap_result hlp_mmio_register(struct pdm_dev *dev, uint64_t base, uint64_t size,
                                    uint32_t flags, void *user, const char *desc)
{
    return add_range(dev, true, base, size, flags, user, desc);
}

static cap_result hlp_mmio_deregister(struct pdm_dev *dev, uint64_t base)
{
    return del_range(dev, true, base);
}

/* ---- interrupts ------------------------------------------------------------ */

static void hlp_log(struct pdm_dev *dev, enum pdm_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void route_irq(struct pdm *pdm, unsigned irq, int level)
{
    if (pdm->pic_ops && irq < 16)
        pdm->pic_ops->set_irq(&pdm->pic->dev, irq, level);
    if (pdm->ioapic_ops)
        pdm->ioapic_ops->set_irq(&pdm->ioapic->dev, irq == 0 ? 2 : irq, level);
    if (!pdm->pic_ops && !pdm->ioapic_ops && pdm->host.irq_sink)
        pdm->host.irq_sink(pdm->info.host_ctx, irq, level);
}

static void hlp_irq_set(struct pdm_dev *dev, unsigned irq, int level)
{
    struct pdm_devinst *inst = pdm_inst(dev);
    struct pdm *pdm = inst->pdm;
    level = level ? 1 : 0;
    if (irq < 16 && pdm->irq_owner[irq] != inst) {
        pdm->irq_others[irq] = (uint8_t)level;
        if (pdm->irq_owner[irq])
            return; /* taken over: remembered for the release */
    }
    route_irq(pdm, irq, level);
}

/* While `on`, ISA line `irq` carries only this device's level; the others'
 * come back on release. The owner lowers its own level before releasing. */
static void hlp_irq_take_over(struct pdm_dev *dev, unsigned irq, bool on)
{
    struct pdm_devinst *inst = pdm_inst(dev);
    struct pdm *pdm = inst->pdm;
    if (irq >= 16)
        return;
    if (on && pdm->irq_owner[irq] != inst) {
        pdm->irq_owner[irq] = inst;
        if (pdm->irq_others[irq])
            route_irq(pdm, irq, 0);
    } else if (!on && pdm->irq_owner[irq] == inst) {
        pdm->irq_owner[irq] = NULL;
        if (pdm->irq_others[irq])
            route_irq(pdm, irq, 1);
    }
}

/* An edge on `irq` changes nothing when every controller it reaches has
 * it latched (or masked); the asking device then waits for irq_ready. */
static bool hlp_irq_latched(struct pdm_dev *dev, unsigned irq)
{
    struct pdm *pdm = pdm_inst(dev)->pdm;
    if (irq >= PDM_IRQ_LINES || (!pdm->pic_ops && !pdm->ioapic_ops) ||
        (irq >= 16 && !pdm->ioapic_ops))
        return false;
    if (pdm->pic_ops && irq < 16 &&
        !(pdm->pic_ops->line_latched && pdm->pic_ops->line_latched(&pdm->pic->dev, irq)))
        return false;
    if (pdm->ioapic_ops && !(pdm->ioapic_ops->line_latched &&
                             pdm->ioapic_ops->line_latched(&pdm->ioapic->dev, irq == 0 ? 2 : irq)))
        return false;
    pdm->irq_waiter[irq] = pdm_inst(dev);
    return true;
}

static void wake_line(struct pdm *pdm, unsigned irq)
{
    struct pdm_devinst *w = pdm->irq_waiter[irq];
    if (!w)
        return;
    pdm->irq_waiter[irq] = NULL;
    if (w->dev.reg->ops->irq_ready)
        w->dev.reg->ops->irq_ready(&w->dev, irq);
}

/* A controller's line reopened: the PIC names an ISA line, the I/O APIC a
 * GSI (GSI 2 is ISA IRQ0, see hlp_irq_set). */
static void hlp_irq_line_ready(struct pdm_dev *dev, unsigned irq)
{
    struct pdm *pdm = pdm_inst(dev)->pdm;
    if (irq >= PDM_IRQ_LINES)
        return;
    if (pdm_inst(dev) == pdm->ioapic && irq == 2)
        wake_line(pdm, 0);
    wake_line(pdm, irq);
}

static cap_result hlp_pic_register(struct pdm_dev *dev, const struct pdm_pic_ops *ops)
{
    struct pdm_devinst *inst = pdm_inst(dev);
    struct pdm *pdm = inst->pdm;
    if (!ops || !ops->set_irq || !ops->get_interrupt)
        return cap_error_set(CAP_E_POINTER, PDM_COMPONENT, NULL,
                             "%s: incomplete interrupt controller ops", inst->name);
    if (pdm->pic)
        return cap_error_set(CAP_E_ALREADY_REGISTERED, PDM_COMPONENT, NULL,
                             "%s: %s is already the interrupt controller", inst->name,
                             pdm->pic->name);
    pdm->pic = inst;
    pdm->pic_ops = ops;
    return CAP_OK;
}

static void host_set_intr(struct pdm *pdm, unsigned cpu, int level)
{
    if (pdm->host.cpu_set_intr_cpu)
        pdm->host.cpu_set_intr_cpu(pdm->info.host_ctx, cpu, level);
    else if (cpu == 0 && pdm->host.cpu_set_intr)
        pdm->host.cpu_set_intr(pdm->info.host_ctx, level);
}

/* The PIC's output: LINT0 of the local APIC when there is one (the APIC
 * then decides what the CPU sees), else the CPU's INTR pin. */
static void hlp_cpu_set_intr(struct pdm_dev *dev, int level)
{
    struct pdm *pdm = pdm_inst(dev)->pdm;
    level = level ? 1 : 0;
    if (pdm->apic_ops && pdm_inst(dev) != pdm->apic)
        pdm->apic_ops->set_lint(&pdm->apic->dev, 0, 0, level);
    else
        host_set_intr(pdm, 0, level);
}

static void hlp_cpu_set_intr_cpu(struct pdm_dev *dev, unsigned cpu, int level)
{
    host_set_intr(pdm_inst(dev)->pdm, cpu, level ? 1 : 0);
}

static void hlp_cpu_nmi(struct pdm_dev *dev, unsigned cpu)
{
    struct pdm *pdm = pdm_inst(dev)->pdm;
    if (pdm->host.cpu_nmi)
        pdm->host.cpu_nmi(pdm->info.host_ctx, cpu);
}

static uint64_t hlp_cpu_apic_base(struct pdm_dev *dev, unsigned cpu)
{
    struct pdm *pdm = pdm_inst(dev)->pdm;
    if (pdm->host.cpu_apic_base)
        return pdm->host.cpu_apic_base(pdm->info.host_ctx, cpu);
    return 0xfee00000ull | (1ull << 11) | (cpu == 0 ? 1ull << 8 : 0); /* the reset value */
}

static cap_result claim_role(struct pdm_dev *dev, struct pdm_devinst **role, const void *ops,
                             const char *what)
{
    struct pdm_devinst *inst = pdm_inst(dev);
    if (!ops)
        return cap_error_set(CAP_E_POINTER, PDM_COMPONENT, NULL, "%s: NULL %s ops", inst->name,
                             what);
    if (*role)
        return cap_error_set(CAP_E_ALREADY_REGISTERED, PDM_COMPONENT, NULL,
                             "%s: %s is already the %s", inst->name, (*role)->name, what);
    *role = inst;
    return CAP_OK;
}

static cap_result hlp_apic_register(struct pdm_dev *dev, const struct pdm_apic_ops *ops)
{
    struct pdm *pdm = pdm_inst(dev)->pdm;
    if (ops && (!ops->get_interrupt || !ops->set_lint || !ops->deliver))
        ops = NULL;
    cap_result rc = claim_role(dev, &pdm->apic, ops, "local APIC");
    if (CAP_SUCCEEDED(rc))
        pdm->apic_ops = ops;
    return rc;
}

static cap_result hlp_ioapic_register(struct pdm_dev *dev, const struct pdm_ioapic_ops *ops)
{
    struct pdm *pdm = pdm_inst(dev)->pdm;
    if (ops && (!ops->set_irq || !ops->eoi))
        ops = NULL;
    cap_result rc = claim_role(dev, &pdm->ioapic, ops, "I/O APIC");
    if (CAP_SUCCEEDED(rc))
        pdm->ioapic_ops = ops;
    return rc;
}

static void hlp_apic_deliver(struct pdm_dev *dev, const struct pdm_apic_msg *msg)
{
    struct pdm *pdm = pdm_inst(dev)->pdm;
    if (pdm->apic_ops) {
        pdm->apic_ops->deliver(&pdm->apic->dev, msg);
    } else if (!pdm->apic_drop_logged) {
        pdm->apic_drop_logged = true;
        hlp_log(dev, PDM_LOG_WARN, "interrupt message dropped: no local APIC");
    }
}

static void hlp_apic_eoi(struct pdm_dev *dev, uint8_t vector)
{
    struct pdm *pdm = pdm_inst(dev)->pdm;
    if (pdm->ioapic_ops)
        pdm->ioapic_ops->eoi(&pdm->ioapic->dev, vector);
}

/* ---- timers ---------------------------------------------------------------- */

static cap_result hlp_timer_create(struct pdm_dev *dev, pdm_timer_fn fn, void *user,
                                   const char *desc, struct pdm_timer **out)
{
    struct pdm_devinst *inst = pdm_inst(dev);
    if (!out || !fn)
        return cap_error_set(CAP_E_POINTER, PDM_COMPONENT, NULL, "%s: NULL timer argument",
                             inst->name);
    *out = NULL;
    struct pdm_timer *t = calloc(1, sizeof(*t));
    if (!t)
        return cap_error_set(CAP_E_OUTOFMEMORY, PDM_COMPONENT, NULL, "out of memory");
    *t = (struct pdm_timer){.inst = inst, .fn = fn, .user = user};
    char name[96];
    snprintf(name, sizeof(name), "%s %s", inst->name, desc ? desc : "timer");
    cap_result rc = tm_timer_create(inst->pdm->info.tm, timer_thunk, t, name, &t->t);
    if (CAP_FAILED(rc)) {
        free(t);
        return rc;
    }
    t->next = inst->timers;
    inst->timers = t;
    *out = t;
    return CAP_OK;
}

static void hlp_timer_arm(struct pdm_timer *t, uint64_t deadline)
{
    tm_timer_arm(t->t, deadline);
}

static uint64_t hlp_timer_arm_rel(struct pdm_timer *t, uint64_t delta)
{
    return tm_timer_arm_rel(t->t, delta);
}

static void hlp_timer_disarm(struct pdm_timer *t)
{
    tm_timer_disarm(t->t);
}

static bool hlp_timer_armed(struct pdm_timer *t)
{
    return tm_timer_armed(t->t);
}

static uint64_t hlp_timer_min_period_ns(struct pdm_dev *dev)
{
    (void)dev;
    return TM_MIN_PERIOD_NS;
}

static uint64_t hlp_clock_now(struct pdm_dev *dev)
{
    return tm_now(pdm_inst(dev)->pdm->info.tm);
}

/* ---- DMA ------------------------------------------------------------------- */

static cap_result hlp_phys_read(struct pdm_dev *dev, uint64_t gpa, void *buf, size_t len)
{
    struct pdm *pdm = pdm_inst(dev)->pdm;
    if (!pdm->info.phys || !pdm->info.phys->read)
        return cap_error_set(CAP_E_NOTIMPL, PDM_COMPONENT, NULL, "%s: this VM has no DMA",
                             dev->name);
    return pdm->info.phys->read(pdm->info.phys_ctx, gpa, buf, len);
}

static cap_result hlp_phys_write(struct pdm_dev *dev, uint64_t gpa, const void *buf, size_t len)
{
    struct pdm *pdm = pdm_inst(dev)->pdm;
    if (!pdm->info.phys || !pdm->info.phys->write)
        return cap_error_set(CAP_E_NOTIMPL, PDM_COMPONENT, NULL, "%s: this VM has no DMA",
                             dev->name);
    return pdm->info.phys->write(pdm->info.phys_ctx, gpa, buf, len);
}

/* ---- logging, errors, VM control ------------------------------------------- */

static void hlp_log(struct pdm_dev *dev, enum pdm_log_level level, const char *fmt, ...)
{
    struct pdm *pdm = pdm_inst(dev)->pdm;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (pdm->host.log)
        pdm->host.log(pdm->info.host_ctx, dev->name, level, buf);
    else
        fprintf(stderr, "%s: %s\n", dev->name, buf);
}

static cap_result hlp_error(struct pdm_dev *dev, cap_result rc, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return cap_error_set(rc, PDM_COMPONENT, NULL, "%s: %s", dev->name, buf);
}

static void hlp_vm_power_off(struct pdm_dev *dev, int exit_code)
{
    struct pdm *pdm = pdm_inst(dev)->pdm;
    if (pdm->host.power_off)
        pdm->host.power_off(pdm->info.host_ctx, dev->name, exit_code);
}

static void hlp_vm_reset(struct pdm_dev *dev)
{
    struct pdm *pdm = pdm_inst(dev)->pdm;
    if (pdm->host.reset)
        pdm->host.reset(pdm->info.host_ctx, dev->name);
}

static void hlp_set_a20(struct pdm_dev *dev, bool enabled)
{
    struct pdm *pdm = pdm_inst(dev)->pdm;
    if (pdm->host.set_a20)
        pdm->host.set_a20(pdm->info.host_ctx, enabled);
}

const struct pdm_hlp pdm_hlp_table = {
    .abi = PDM_DEVREG_ABI,
    .io_register = hlp_io_register,
    .io_deregister = hlp_io_deregister,
    .mmio_register = hlp_mmio_register,
    .mmio_deregister = hlp_mmio_deregister,
    .irq_set = hlp_irq_set,
    .pic_register = hlp_pic_register,
    .cpu_set_intr = hlp_cpu_set_intr,
    .timer_create = hlp_timer_create,
    .timer_arm = hlp_timer_arm,
    .timer_arm_rel = hlp_timer_arm_rel,
    .timer_disarm = hlp_timer_disarm,
    .timer_armed = hlp_timer_armed,
    .clock_now = hlp_clock_now,
    .phys_read = hlp_phys_read,
    .phys_write = hlp_phys_write,
    .cfg_string = pdm_hlp_cfg_string,
    .cfg_int = pdm_hlp_cfg_int,
    .cfg_bool = pdm_hlp_cfg_bool,
    .cfg_bytes = pdm_hlp_cfg_bytes,
    .log = hlp_log,
    .error = hlp_error,
    .vm_power_off = hlp_vm_power_off,
    .vm_reset = hlp_vm_reset,
    .set_a20 = hlp_set_a20,
    .ssm_put = pdm_ssm_put,
    .ssm_get = pdm_ssm_get,
    .ssm = &ssm_field_ops,
    .apic_register = hlp_apic_register,
    .ioapic_register = hlp_ioapic_register,
    .apic_deliver = hlp_apic_deliver,
    .apic_eoi = hlp_apic_eoi,
    .cpu_set_intr_cpu = hlp_cpu_set_intr_cpu,
    .cpu_nmi = hlp_cpu_nmi,
    .cpu_apic_base = hlp_cpu_apic_base,
    .timer_min_period_ns = hlp_timer_min_period_ns,
    .irq_latched = hlp_irq_latched,
    .irq_line_ready = hlp_irq_line_ready,
    .irq_take_over = hlp_irq_take_over,
    .pci_bus_register = pdm_pci_bus_register,
    .pci_register = pdm_pci_register,
    .pci_set_irq = pdm_pci_set_irq,
    .pci_bar_map = pdm_pci_bar_map,
    .blk_attach = pdm_hlp_blk_attach,
    .blk_info = pdm_hlp_blk_info,
    .blk_submit = pdm_hlp_blk_submit,
    .blk_cancel = pdm_hlp_blk_cancel,
    .blk_set_locked = pdm_hlp_blk_set_locked,
    .blk_eject = pdm_hlp_blk_eject,
    .pci_bar_dirty = pdm_pci_bar_dirty,
    .net_attach = pdm_hlp_net_attach,
    .net_send = pdm_hlp_net_send,
};
