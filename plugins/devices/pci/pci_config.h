/*
 * plugins/devices/pci/pci_config.h - the PCI bus's logic in plain C:
 * configuration cycles to the functions attached to it, BAR decoding, INTx
 * and the PIRQ swizzle.
 *
 * Every PCI function (the host bridge, PIIX3's ISA bridge, and the
 * functions other device plugins put on the bus through PDM: IDE, VGA,
 * e1000, ...) is a struct pci_function (vmm/pdm/pdmpci.h, part of the
 * device API): its configuration space as the guest reads it, the masks
 * of what the guest may write, optional hooks and its BARs. The owner
 * fills it with the pdmpci.h helpers; the bus attaches it to a slot with
 * pci_bus_attach(), which takes the current space as the function's
 * power-on state for pci_bus_reset().
 *
 * Guest accesses go through pci_bus_read() / pci_bus_write() with any bus
 * number, devfn, offset (0-255) and size (1, 2 or 4, little endian, at any
 * alignment): what no function answers reads all-ones (a master abort on
 * real hardware, "no device" to every OS) and writes to it are dropped;
 * bytes past offset 255 read 0xff and are not written. Nothing a guest does
 * here fails or crashes.
 *
 * Mapping BARs and driving interrupt lines is the device plugin's (pci.c,
 * through PDM); this file only computes what should be: pci_bar_decode()
 * (where a BAR should be mapped now) and the INTx bookkeeping (which PIRQ
 * lines are asserted).
 *
 * Plain C needing only the device API's headers (no VMM code: the unit
 * tests link it directly). Not
 * thread-safe: the device plugin calls it under PDM's per-VM lock. A bus
 * and its functions are owned by the caller (embedded in device state).
 */
#ifndef CAPSULE_DEV_PCI_CONFIG_H
#define CAPSULE_DEV_PCI_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include <capsule/result.h>

#include "pdmdev.h"

#define PCI_PIRQ_COUNT 4 /* PIRQA#-PIRQD# */

/* A guest's access to one function: `size` bytes at `off`, cut at 255. */
uint32_t pci_fn_read(struct pci_function *fn, unsigned off, unsigned size);
void pci_fn_write(struct pci_function *fn, unsigned off, unsigned size, uint32_t val);

/* Bus 0 of a machine: up to 32 devices of 8 functions. */
struct pci_bus {
    struct pci_function *slot[256]; /* by devfn; NULL: nothing there */
    /* per PIRQ line: how many functions hold it asserted (intx_out) */
    unsigned pirq_count[PCI_PIRQ_COUNT];
};

/* Attaches `fn` at `devfn` (PCI_DEVFN()), sets fn->devfn and takes its
 * current space as its power-on state. CAP_E_INVALIDARG when devfn > 255
 * or `fn` is NULL, CAP_E_ALREADY_REGISTERED when the slot is taken. The
 * bus does not own fn. */
cap_result pci_bus_attach(struct pci_bus *bus, unsigned devfn, struct pci_function *fn);
/* Function 0 of the first device number >= `first` with nothing at its
 * function 0, or -1 when all 32 are taken. */
int pci_bus_free_devfn(const struct pci_bus *bus, unsigned first);
/* Takes `fn` off the bus (its INTx contribution dropped); no-op if absent. */
void pci_bus_detach(struct pci_bus *bus, struct pci_function *fn);
/* The function at bus:devfn, or NULL (only bus 0 exists). A function other
 * than 0 is only there when function 0 of its device is (PCI's rule: an
 * OS probes function 0 first). */
struct pci_function *pci_bus_find(struct pci_bus *bus, unsigned busnr, unsigned devfn);
/* Configuration cycles from the guest (see the top of this file). */
uint32_t pci_bus_read(struct pci_bus *bus, unsigned busnr, unsigned devfn, unsigned off,
                      unsigned size);
void pci_bus_write(struct pci_bus *bus, unsigned busnr, unsigned devfn, unsigned off, unsigned size,
                   uint32_t val);
/* Every attached function back to its power-on space (no hooks called),
 * INTx levels and PIRQ counts cleared. */
void pci_bus_reset(struct pci_bus *bus);

/* Where BAR `i` of `fn` should be mapped now: its address when the
 * command register enables its space (IO for I/O BARs, MEMORY for memory
 * BARs and the ROM, whose own enable bit must be set too) and the address
 * is not 0; else PCI_BAR_UNMAPPED (also for no BAR, the upper half of a
 * 64-bit one, or i >= PCI_NUM_BARS; i = PCI_ROM_SLOT is the ROM). Limits (port space, RAM,
 * other devices) are the mapper's to check. */
uint64_t pci_bar_decode(const struct pci_function *fn, unsigned i);

/* The PIRQ line (0-3: PIRQA#-PIRQD#) of `fn`'s INTx pin at `devfn`: the
 * usual swizzle (slot + pin - 1) mod 4, pin 1-4 for INTA#-INTD# from
 * INTERRUPT_PIN; -1 when the pin register is 0 or > 4. */
int pci_intx_pirq(const struct pci_function *fn);
/* The owner's INTx level changed / the command register may have changed
 * INTX_DISABLE: updates fn->intx, fn->intx_out, the status register's
 * interrupt bit and the bus's PIRQ counts. Returns true when a PIRQ line
 * went from asserted to not or back (the routing must be re-evaluated). */
bool pci_bus_set_intx(struct pci_bus *bus, struct pci_function *fn, bool level);
bool pci_bus_update_intx(struct pci_bus *bus, struct pci_function *fn);

#endif
