/*
 * plugins/devices/pci/pci_config.c - configuration space of PCI functions
 * and the bus that routes configuration cycles (see pci_config.h).
 *
 * Everything works byte by byte: a guest may read or write any size at any
 * offset, so an access is its bytes, each stored through the function's
 * masks, and the hooks see the access as the guest made it.
 */
#include <string.h>

#include "pci_config.h"

void pci_fn_init(struct pci_function *fn, const char *name, uint16_t vendor, uint16_t device,
                 uint8_t revision, uint32_t class_code)
{
    memset(fn, 0, sizeof(*fn));
    fn->name = name;
    pci_fn_set16(fn, PCI_VENDOR_ID, vendor);
    pci_fn_set16(fn, PCI_DEVICE_ID, device);
    pci_fn_set8(fn, PCI_REVISION_ID, revision);
    pci_fn_set8(fn, PCI_CLASS_PROG, (uint8_t)class_code);
    pci_fn_set16(fn, PCI_CLASS_DEVICE, (uint16_t)(class_code >> 8));
    pci_fn_set_wmask16(fn, PCI_COMMAND,
                       PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
                           PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
    fn->w1cmask[PCI_STATUS] = PCI_STATUS_ERRORS & 0xff;
    fn->w1cmask[PCI_STATUS + 1] = PCI_STATUS_ERRORS >> 8;
    fn->wmask[PCI_CACHE_LINE] = 0xff;
    fn->wmask[PCI_LATENCY_TIMER] = 0xff;
    fn->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

static void set_bytes(uint8_t *space, unsigned off, unsigned width, uint32_t v)
{
    if (off >= PCI_CONFIG_SIZE || width > PCI_CONFIG_SIZE - off)
        return;
    for (unsigned i = 0; i < width; i++)
        space[off + i] = (uint8_t)(v >> (8 * i));
}

void pci_fn_set8(struct pci_function *fn, unsigned off, uint8_t v)
{
    set_bytes(fn->cfg, off, 1, v);
}

void pci_fn_set16(struct pci_function *fn, unsigned off, uint16_t v)
{
    set_bytes(fn->cfg, off, 2, v);
}

void pci_fn_set32(struct pci_function *fn, unsigned off, uint32_t v)
{
    set_bytes(fn->cfg, off, 4, v);
}

void pci_fn_set_wmask16(struct pci_function *fn, unsigned off, uint16_t mask)
{
    set_bytes(fn->wmask, off, 2, mask);
}

uint16_t pci_fn_get16(const struct pci_function *fn, unsigned off)
{
    if (off >= PCI_CONFIG_SIZE - 1)
        return 0xffff;
    return (uint16_t)(fn->cfg[off] | fn->cfg[off + 1] << 8);
}

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
    bus->slot[devfn] = fn;
    return CAP_OK;
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
    for (unsigned i = 0; i < 256; i++)
        if (bus->slot[i])
            memcpy(bus->slot[i]->cfg, bus->slot[i]->reset, PCI_CONFIG_SIZE);
}
