/*
 * vmm/pdm/pdm_pci.c - PDM's PCI role: the bus device, the functions other
 * devices put on it, and their BARs as IOM ranges (pdmdev.h, pdmpci.h).
 *
 * PDM keeps one record per registered function: its owner and one
 * struct pdm_range per BAR, allocated once and reused for every mapping,
 * so that the IOM `user` of a BAR stays valid for the VM's lifetime
 * whatever the guest does with the BAR (IOM calls a range's callback
 * without its lock held: see iom.h). A BAR is mapped and unmapped only
 * through the bus device's hlp->pci_bar_map; what address the guest
 * programmed, and whether its decoding is on, is the bus's business.
 *
 * A RAM-backed BAR (pci_fn_bar_ram) is mapped through the host's map_ram
 * (PGM RAM with dirty tracking) where the VM offers it, else through IOM
 * as MMIO; ram_gen counts its RAM mappings going away, so that
 * hlp->pci_bar_dirty reports everything dirty once after a move.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <capsule/errorinfo.h>

#include "../iom/iom.h"
#include "pdm_internal.h"

/* Memory BARs end below 1 TiB (the physical address width the VM's CPUs
 * report is at least 40 bits). */
#define PDM_PCI_ADDR_LIMIT (1ull << 40)

struct pdm_pci_fn {
    struct pdm_devinst *owner;
    struct pci_function *fn;
    struct pdm_range bar[PCI_NUM_BARS]; /* IOM's user for each mapped BAR */
    uint32_t ram_gen[PCI_NUM_BARS];     /* RAM mappings removed so far */
    uint32_t ram_seen[PCI_NUM_BARS];    /* ram_gen at the last pci_bar_dirty, + 1 */
    struct pdm_pci_fn *next;
};

cap_result pdm_pci_bus_register(struct pdm_dev *dev, const struct pdm_pci_bus_ops *ops)
{
    struct pdm_devinst *inst = pdm_inst(dev);
    struct pdm *pdm = inst->pdm;
    if (!ops || !ops->attach || !ops->detach || !ops->set_intx)
        return cap_error_set(CAP_E_POINTER, PDM_COMPONENT, NULL, "%s: incomplete PCI bus ops",
                             inst->name);
    if (pdm->pci_bus)
        return cap_error_set(CAP_E_ALREADY_REGISTERED, PDM_COMPONENT, NULL,
                             "%s: %s is already the PCI bus", inst->name, pdm->pci_bus->name);
    pdm->pci_bus = inst;
    pdm->pci_bus_ops = ops;
    return CAP_OK;
}

cap_result pdm_pci_register(struct pdm_dev *dev, int devfn, struct pci_function *fn)
{
    struct pdm_devinst *inst = pdm_inst(dev);
    struct pdm *pdm = inst->pdm;
    if (!fn)
        return cap_error_set(CAP_E_POINTER, PDM_COMPONENT, NULL, "%s: NULL PCI function",
                             inst->name);
    if (!pdm->pci_bus)
        return cap_error_set(CAP_E_NOTIMPL, PDM_COMPONENT, NULL,
                             "%s: no PCI bus in this VM (the 'pci' device must come before "
                             "the devices that put functions on it)",
                             inst->name);
    if (devfn != PDM_PCI_DEVFN_ANY && (devfn < 0 || devfn > 255))
        return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                             "%s: PCI devfn %d out of range (0-255)", inst->name, devfn);
    if (fn->pdm_priv)
        return cap_error_set(CAP_E_ALREADY_REGISTERED, PDM_COMPONENT, NULL,
                             "%s: PCI function '%s' registered twice", inst->name,
                             fn->name ? fn->name : "?");
    const struct pdm_dev_ops *ops = dev->reg->ops;
    for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
        bool io = fn->bar[i].flags & PCI_BAR_IO;
        if (fn->bar[i].size && (io ? !ops->io : !ops->mmio))
            return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                                 "%s: PCI BAR%u is %s but the device has no %s op", inst->name, i,
                                 io ? "I/O" : "memory", io ? "io" : "mmio");
        fn->bar[i].addr = fn->bar[i].refused = PCI_BAR_UNMAPPED;
    }
    struct pdm_pci_fn *rec = calloc(1, sizeof(*rec));
    if (!rec)
        return cap_error_set(CAP_E_OUTOFMEMORY, PDM_COMPONENT, NULL, "out of memory");
    rec->owner = inst;
    rec->fn = fn;
    fn->pdm_priv = rec;
    fn->intx = fn->intx_out = false;
    cap_result rc = pdm->pci_bus_ops->attach(&pdm->pci_bus->dev, fn, devfn);
    if (CAP_FAILED(rc)) {
        fn->pdm_priv = NULL;
        free(rec);
        return rc;
    }
    rec->next = pdm->pci_fns;
    pdm->pci_fns = rec;
    return CAP_OK;
}

void pdm_pci_set_irq(struct pdm_dev *dev, struct pci_function *fn, int level)
{
    struct pdm_devinst *inst = pdm_inst(dev);
    struct pdm *pdm = inst->pdm;
    struct pdm_pci_fn *rec = fn ? fn->pdm_priv : NULL;
    for (struct pdm_pci_fn *r = pdm->pci_fns; !fn && r; r = r->next)
        if (r->owner == inst)
            rec = r; /* NULL: the device's first function (the list is newest first) */
    if (!rec || rec->owner != inst || !pdm->pci_bus_ops)
        return; /* not a function of this device on the bus: nothing to drive */
    pdm->pci_bus_ops->set_intx(&pdm->pci_bus->dev, rec->fn, level ? 1 : 0);
}

static void bar_unmap(struct pdm *pdm, struct pdm_pci_fn *rec, unsigned i)
{
    struct pci_bar *b = &rec->fn->bar[i];
    if (b->addr == PCI_BAR_UNMAPPED)
        return;
    if (rec->bar[i].ram) {
        pdm->host.unmap_ram(pdm->info.host_ctx, b->addr);
        rec->bar[i].ram = false;
        rec->ram_gen[i]++;
    } else if (rec->bar[i].mmio)
        iom_deregister_mmio(pdm->info.iom, b->addr, &rec->bar[i]);
    else
        iom_deregister_io(pdm->info.iom, (uint16_t)b->addr, &rec->bar[i]);
    b->addr = PCI_BAR_UNMAPPED;
}

cap_result pdm_pci_bar_map(struct pdm_dev *bus, struct pci_function *fn, unsigned bar,
                           uint64_t addr)
{
    struct pdm_devinst *inst = pdm_inst(bus);
    struct pdm *pdm = inst->pdm;
    struct pdm_pci_fn *rec = fn ? fn->pdm_priv : NULL;
    if (inst != pdm->pci_bus || !rec || bar >= PCI_NUM_BARS || !fn->bar[bar].size)
        return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                             "%s: not the PCI bus, or no such function or BAR", inst->name);
    struct pci_bar *b = &fn->bar[bar];
    bar_unmap(pdm, rec, bar);
    if (addr == PCI_BAR_UNMAPPED)
        return CAP_OK;
    bool io = b->flags & PCI_BAR_IO;
    struct pdm_range *r = &rec->bar[bar];
    *r = (struct pdm_range){.inst = rec->owner, .user = b->user, .base = addr, .mmio = !io};
    char what[8], name[96];
    if (bar == PCI_ROM_SLOT)
        snprintf(what, sizeof(what), "ROM");
    else
        snprintf(what, sizeof(what), "BAR%u", bar);
    snprintf(name, sizeof(name), "%s %s %s", rec->owner->name, fn->name ? fn->name : "PCI", what);
    cap_result rc = CAP_E_INVALIDARG;
    if (addr + b->size < addr || (io && addr + b->size > 0x10000) ||
        addr + b->size > PDM_PCI_ADDR_LIMIT)
        cap_error_set(rc, PDM_COMPONENT, NULL, "past the end of the %s space",
                      io ? "port" : "physical address");
    else if (b->ram && pdm->host.map_ram && pdm->host.unmap_ram && pdm->host.dirty_collect) {
        rc = pdm->host.map_ram(pdm->info.host_ctx, addr, b->size, b->ram, name);
        r->ram = CAP_SUCCEEDED(rc);
    } else
        rc = io ? iom_register_io(pdm->info.iom, (uint16_t)addr, (uint32_t)b->size, 0, pdm_io_thunk,
                                  r, name)
                : iom_register_mmio(pdm->info.iom, addr, b->size, 0, pdm_mmio_thunk, r, name);
    if (CAP_SUCCEEDED(rc)) {
        b->addr = addr;
        return rc;
    }
    const char *why = cap_error_peek_message();
    pdm_hlp_table.log(bus, PDM_LOG_WARN,
                      "%02x:%02x.%u %s %s: %s at 0x%" PRIx64 " refused, left unmapped: %s", 0u,
                      fn->devfn >> 3, fn->devfn & 7, fn->name ? fn->name : "", what,
                      io ? "I/O" : "memory", addr, why ? why : "conflict");
    cap_error_clear();
    return rc;
}

cap_result pdm_pci_bar_dirty(struct pdm_dev *dev, struct pci_function *fn, unsigned bar,
                             uint64_t *bitmap)
{
    struct pdm_devinst *inst = pdm_inst(dev);
    struct pdm *pdm = inst->pdm;
    struct pdm_pci_fn *rec = fn ? fn->pdm_priv : NULL;
    if (!rec || rec->owner != inst || bar >= PCI_BAR_COUNT || !fn->bar[bar].ram || !bitmap)
        return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                             "%s: BAR%u is not a RAM-backed BAR of a function of this device",
                             inst->name, bar);
    uint64_t npages = fn->bar[bar].size / 4096, words = (npages + 63) / 64;
    bool all = rec->ram_seen[bar] != rec->ram_gen[bar] + 1; /* first call, or moved */
    rec->ram_seen[bar] = rec->ram_gen[bar] + 1;
    memset(bitmap, all ? 0xff : 0, words * sizeof(*bitmap));
    if (!rec->bar[bar].ram)
        return all ? CAP_OK : CAP_FALSE_RESULT;
    cap_result rc = pdm->host.dirty_collect(pdm->info.host_ctx, fn->bar[bar].addr, bitmap, npages);
    if (all)
        memset(bitmap, 0xff, words * sizeof(*bitmap));
    return rc;
}

void pdm_pci_release(struct pdm_devinst *inst)
{
    struct pdm *pdm = inst->pdm;
    for (struct pdm_pci_fn **pp = &pdm->pci_fns; *pp;) {
        struct pdm_pci_fn *rec = *pp;
        if (rec->owner != inst && pdm->pci_bus != inst) {
            pp = &rec->next;
            continue;
        }
        if (rec->owner == inst && pdm->pci_bus && pdm->pci_bus != inst)
            pdm->pci_bus_ops->detach(&pdm->pci_bus->dev, rec->fn);
        for (unsigned i = 0; i < PCI_NUM_BARS; i++)
            bar_unmap(pdm, rec, i); /* whatever the bus left mapped */
        if (rec->owner == inst) {
            *pp = rec->next;
            rec->fn->pdm_priv = NULL;
            free(rec);
        } else {
            pp = &rec->next; /* the bus went first: its owner still frees it */
        }
    }
    if (pdm->pci_bus == inst) {
        pdm->pci_bus = NULL;
        pdm->pci_bus_ops = NULL;
    }
}

void pdm_pci_free(struct pdm *pdm)
{
    for (struct pdm_pci_fn *rec = pdm->pci_fns, *n; rec; rec = n) {
        n = rec->next;
        free(rec);
    }
    pdm->pci_fns = NULL;
}
