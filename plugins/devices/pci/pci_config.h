/*
 * plugins/devices/pci/pci_config.h - PCI configuration space: one
 * function's 256 bytes and the bus that routes configuration cycles to
 * the functions attached to it.
 *
 * Every PCI function (the host bridge today; PIIX3's ISA bridge and IDE,
 * VGA, e1000 later) is a struct pci_function: its configuration space as
 * the guest reads it, which bits the guest may write (wmask), which bits a
 * write of 1 clears (w1cmask: the status register's error bits), and
 * optional hooks for registers with side effects (BARs, PAM, PIRQ routing).
 * The owner fills the space with pci_fn_init() and pci_fn_set*() (these
 * ignore the masks: they are the hardware's power-on values), then attaches
 * it to a bus slot with pci_bus_attach(), which takes the current space as
 * the function's power-on state for pci_bus_reset().
 *
 * Guest accesses go through pci_bus_read() / pci_bus_write() with any bus
 * number, devfn, offset (0-255) and size (1, 2 or 4, little endian, at any
 * alignment): what no function answers reads all-ones (a master abort on
 * real hardware, "no device" to every OS) and writes to it are dropped;
 * bytes past offset 255 read 0xff and are not written. Nothing a guest does
 * here fails or crashes.
 *
 * Plain C with no VMM dependency (the unit tests link it directly). Not
 * thread-safe: the device plugin calls it under PDM's per-VM lock. A bus
 * and its functions are owned by the caller (embedded in device state).
 *
 * Where it goes (issue 12): the chipset's own functions (PIIX3's ISA
 * bridge, IDE, power management) live in this plugin and attach directly.
 * Functions in plugins of their own (VGA, e1000, AHCI, virtio) will reach
 * the bus through PDM, the way interrupt controllers do: the bus device
 * takes a PDM role (hlp->pci_bus_register) and a function's device calls
 * hlp->pci_register(dev, devfn, fn) with a struct pci_function, whose
 * definition then moves to PDM's device API; BAR sizing and mapping hook
 * in through the function ops above.
 */
#ifndef CAPSULE_DEV_PCI_CONFIG_H
#define CAPSULE_DEV_PCI_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include <capsule/result.h>

/* Offsets in the type 0 configuration header (PCI Local Bus 3.0, 6.1). */
#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_REVISION_ID    0x08
#define PCI_CLASS_PROG     0x09
#define PCI_CLASS_DEVICE   0x0a /* sub-class (low byte) and base class */
#define PCI_CACHE_LINE     0x0c
#define PCI_LATENCY_TIMER  0x0d
#define PCI_HEADER_TYPE    0x0e
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN  0x3d

#define PCI_CONFIG_SIZE           256u
#define PCI_DEVFN(dev, fn)        ((unsigned)(((dev)&0x1f) << 3 | ((fn)&7)))
#define PCI_HEADER_MULTI_FUNCTION 0x80

/* Command register bits the guest may set on an ordinary function. */
#define PCI_COMMAND_IO           0x0001
#define PCI_COMMAND_MEMORY       0x0002
#define PCI_COMMAND_MASTER       0x0004
#define PCI_COMMAND_PARITY       0x0040
#define PCI_COMMAND_SERR         0x0100
#define PCI_COMMAND_INTX_DISABLE 0x0400
/* Status register error bits: write 1 to clear. */
#define PCI_STATUS_ERRORS 0xf900

struct pci_function;

/* Side effects of a function's registers. Both optional, both called with
 * the offset and size of the guest's access (already cut to 0-255).
 *  read: after the space was read into *val; may replace it (a counter, a
 *     register that reads what hardware computes).
 *  write: after the masked bytes were stored in cfg (so the hook sees the
 *     new value); `val` is what the guest wrote, before masking. */
struct pci_function_ops {
    void (*read)(struct pci_function *fn, unsigned off, unsigned size, uint32_t *val);
    void (*write)(struct pci_function *fn, unsigned off, unsigned size, uint32_t val);
};

struct pci_function {
    uint8_t cfg[PCI_CONFIG_SIZE];       /* what the guest reads; guest state */
    uint8_t wmask[PCI_CONFIG_SIZE];     /* guest-writable bits; set by the owner */
    uint8_t w1cmask[PCI_CONFIG_SIZE];   /* write-1-to-clear bits; set by the owner */
    uint8_t reset[PCI_CONFIG_SIZE];     /* power-on cfg, taken at pci_bus_attach */
    const struct pci_function_ops *ops; /* NULL: no side effects */
    void *owner;                        /* for the hooks: the device's state */
    const char *name;                   /* "i440FX host bridge", for logs */
};

/* Clears `fn` and sets the identity registers of a type 0 header: vendor,
 * device, revision, the 24-bit class code (base << 16 | sub << 8 | prog-if)
 * and header type 0. Sets the common writable bits: the command register's
 * IO, MEMORY, MASTER, PARITY, SERR and INTX_DISABLE, the cache line size,
 * the latency timer and the interrupt line; the status register's error
 * bits as write-1-to-clear. The owner narrows or widens them afterwards. */
void pci_fn_init(struct pci_function *fn, const char *name, uint16_t vendor, uint16_t device,
                 uint8_t revision, uint32_t class_code);

/* Power-on values (masks ignored), little endian; `off` + the width must
 * lie within 256 bytes (the owner's constants: checked, ignored if not). */
void pci_fn_set8(struct pci_function *fn, unsigned off, uint8_t v);
void pci_fn_set16(struct pci_function *fn, unsigned off, uint16_t v);
void pci_fn_set32(struct pci_function *fn, unsigned off, uint32_t v);
uint16_t pci_fn_get16(const struct pci_function *fn, unsigned off);
/* Which bits of the 16-bit register at `off` the guest may write. */
void pci_fn_set_wmask16(struct pci_function *fn, unsigned off, uint16_t mask);

/* A guest's access to one function: `size` bytes at `off`, cut at 255. */
uint32_t pci_fn_read(struct pci_function *fn, unsigned off, unsigned size);
void pci_fn_write(struct pci_function *fn, unsigned off, unsigned size, uint32_t val);

/* Bus 0 of a machine: up to 32 devices of 8 functions. */
struct pci_bus {
    struct pci_function *slot[256]; /* by devfn; NULL: nothing there */
};

/* Attaches `fn` at `devfn` (PCI_DEVFN()) and takes its current space as
 * its power-on state. CAP_E_INVALIDARG when devfn > 255 or `fn` is NULL,
 * CAP_E_ALREADY_REGISTERED when the slot is taken. The bus does not own fn. */
cap_result pci_bus_attach(struct pci_bus *bus, unsigned devfn, struct pci_function *fn);
/* The function at bus:devfn, or NULL (only bus 0 exists). A function other
 * than 0 is only there when function 0 of its device is (PCI's rule: an
 * OS probes function 0 first). */
struct pci_function *pci_bus_find(struct pci_bus *bus, unsigned busnr, unsigned devfn);
/* Configuration cycles from the guest (see the top of this file). */
uint32_t pci_bus_read(struct pci_bus *bus, unsigned busnr, unsigned devfn, unsigned off,
                      unsigned size);
void pci_bus_write(struct pci_bus *bus, unsigned busnr, unsigned devfn, unsigned off, unsigned size,
                   uint32_t val);
/* Every attached function back to its power-on space (no hooks called). */
void pci_bus_reset(struct pci_bus *bus);

#endif
