/*
 * plugins/devices/pci/pci_config.c - configuration space of PCI functions
 * and the bus that routes configuration cycles (see pci_config.h).
 *
 * Everything works byte by byte: a guest may read or write any size at any
 * offset, so an access is its bytes, each stored through the function's
 * masks, and the hooks see the access as the guest made it. BAR sizing
 * needs nothing more: a BAR's wmask has only its address bits above the
 * size (pci_fn_declare_bar), so all-ones reads back as ~(size - 1) with
 * the type bits.
 */
#include <string.h>

#include "pci_config.h"

/* Sizes other than 1, 2 and 4 cannot come from an x86 port access; any
 * other is taken as 4 rather than trusted. */
static unsigned access_size(unsigned size)
{
    return size == 1 || size == 2 ? size : 4;
}

uint32_t pci_fn_read(struct pci_function *fn, unsigned off, unsigned size)
{
    size = access_size(size);
    if (off >= PCI_CONFIG_SIZE)
        return 0xffffffffu >> (32 - 8 * size);
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)(off + i < PCI_CONFIG_SIZE ? fn->cfg[off + i] : 0xff) << (8 * i);
    if (fn->ops && fn->ops->read)
        fn->ops->read(fn, off, size, &v);
    return v;
}

void pci_fn_write(struct pci_function *fn, unsigned off, unsigned size, uint32_t val)
{
    size = access_size(size);
    if (off >= PCI_CONFIG_SIZE)
        return;
    for (unsigned i = 0; i < size && off + i < PCI_CONFIG_SIZE; i++) {
        unsigned o = off + i;
        uint8_t b = (uint8_t)(val >> (8 * i)), wm = fn->wmask[o];
        uint8_t v = (uint8_t)((fn->cfg[o] & ~wm) | (b & wm));
        fn->cfg[o] = (uint8_t)(v & ~(b & fn->w1cmask[o]));
    }
    if (fn->ops && fn->ops->write)
        fn->ops->write(fn, off, size, val);
}

cap_result pci_bus_attach(struct pci_bus *bus, unsigned devfn, struct pci_function *fn)
{
    if (!bus || !fn || devfn > 255)
        return CAP_E_INVALIDARG;
    if (bus->slot[devfn])
        return CAP_E_ALREADY_REGISTERED;
    memcpy(fn->reset, fn->cfg, sizeof(fn->reset));
    fn->devfn = devfn;
    fn->intx = fn->intx_out = false;
    bus->slot[devfn] = fn;
    return CAP_OK;
}

int pci_bus_free_devfn(const struct pci_bus *bus, unsigned first)
{
    for (unsigned d = first; d < 32; d++)
        if (!bus->slot[PCI_DEVFN(d, 0)])
            return (int)PCI_DEVFN(d, 0);
    return -1;
}

void pci_bus_detach(struct pci_bus *bus, struct pci_function *fn)
{
    if (!fn || fn->devfn > 255 || bus->slot[fn->devfn] != fn)
        return;
    pci_bus_set_intx(bus, fn, false);
    bus->slot[fn->devfn] = NULL;
}

struct pci_function *pci_bus_find(struct pci_bus *bus, unsigned busnr, unsigned devfn)
{
    if (busnr != 0 || devfn > 255 || !bus->slot[devfn & ~7u])
        return NULL;
    return bus->slot[devfn];
}

uint32_t pci_bus_read(struct pci_bus *bus, unsigned busnr, unsigned devfn, unsigned off,
                      unsigned size)
{
    struct pci_function *fn = pci_bus_find(bus, busnr, devfn);
    if (!fn)
        return 0xffffffffu >> (32 - 8 * access_size(size));
    return pci_fn_read(fn, off, size);
}

void pci_bus_write(struct pci_bus *bus, unsigned busnr, unsigned devfn, unsigned off, unsigned size,
                   uint32_t val)
{
    struct pci_function *fn = pci_bus_find(bus, busnr, devfn);
    if (fn)
        pci_fn_write(fn, off, size, val);
}

void pci_bus_reset(struct pci_bus *bus)
{
    for (unsigned i = 0; i < 256; i++) {
        struct pci_function *fn = bus->slot[i];
        if (fn) {
            memcpy(fn->cfg, fn->reset, PCI_CONFIG_SIZE);
            fn->intx = fn->intx_out = false;
        }
    }
    memset(bus->pirq_count, 0, sizeof(bus->pirq_count));
}

uint64_t pci_bar_decode(const struct pci_function *fn, unsigned i)
{
    if (i >= PCI_NUM_BARS || !fn->bar[i].size)
        return PCI_BAR_UNMAPPED;
    const struct pci_bar *b = &fn->bar[i];
    bool io = b->flags & PCI_BAR_IO, rom = i == PCI_ROM_SLOT;
    uint16_t cmd = pci_fn_get16(fn, PCI_COMMAND);
    if (!(cmd & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)))
        return PCI_BAR_UNMAPPED;
    unsigned off = rom ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * i;
    uint32_t reg = pci_fn_get32(fn, off);
    if (rom && !(reg & 1))
        return PCI_BAR_UNMAPPED;
    uint64_t addr = reg & (io ? ~0x3u : rom ? ~0x7ffu : ~0xfu);
    if (!io && (b->flags & PCI_BAR_MEM64))
        addr |= (uint64_t)pci_fn_get32(fn, off + 4) << 32;
    addr &= ~(b->size - 1); /* the wmask keeps it aligned; a loaded state too */
    return addr ? addr : PCI_BAR_UNMAPPED;
}

int pci_intx_pirq(const struct pci_function *fn)
{
    unsigned pin = fn->cfg[PCI_INTERRUPT_PIN];
    if (pin < 1 || pin > 4)
        return -1;
    return (int)(((fn->devfn >> 3) + pin - 1) & 3);
}

bool pci_bus_update_intx(struct pci_bus *bus, struct pci_function *fn)
{
    bool out = fn->intx && !(pci_fn_get16(fn, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE);
    if (fn->intx)
        fn->cfg[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
    else
        fn->cfg[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
    int pirq = pci_intx_pirq(fn);
    if (out == fn->intx_out)
        return false;
    fn->intx_out = out;
    if (pirq < 0)
        return false;
    unsigned *c = &bus->pirq_count[pirq];
    if (out)
        return ++*c == 1;
    if (*c == 0)
        return false; /* not counted (the pin changed under it): nothing to undo */
    return --*c == 0;
}

bool pci_bus_set_intx(struct pci_bus *bus, struct pci_function *fn, bool level)
{
    fn->intx = level;
    return pci_bus_update_intx(bus, fn);
}
