/*
 * vmm/pdm/pdmpci.h - PCI functions in device plugins: part of the device
 * API (pdmdev.h includes it; a device includes pdmdev.h only).
 *
 * A PCI function is a struct pci_function the device embeds in its state:
 * its 256 bytes of configuration space as the guest reads them, which bits
 * the guest may write (wmask), which bits a write of 1 clears (w1cmask),
 * optional hooks for registers with side effects, and up to six base
 * address registers (BARs). The device fills it with the inline helpers
 * below (pci_fn_init, pci_fn_set*, pci_fn_declare_bar: power-on values,
 * masks ignored), then hands it to the bus in construct:
 *
 *     pci_fn_init(&s->fn, "PIIX3 IDE", 0x8086, 0x7010, 0, 0x010180);
 *     pci_fn_declare_bar(&s->fn, 4, PCI_BAR_IO, 16, &s->bmdma);
 *     s->fn.owner = s;
 *     rc = dev->hlp->pci_register(dev, PCI_DEVFN(1, 1), &s->fn);
 *
 * The function then lives on the bus until the device is destructed: the
 * bus answers the guest's configuration cycles from fn->cfg, calls
 * fn->ops->read / write for registers with side effects, and owns the BARs
 * (sizing, mapping) and the INTx line (hlp->pci_set_irq). A device reads
 * its own registers from fn->cfg at any time (pci_fn_get16(fn, PCI_COMMAND)
 * for bus mastering, fn->bar[i].addr for where a BAR is mapped now).
 *
 * BARs (PCI Local Bus 3.0, 6.2.5.1): a declared BAR reads its address with
 * its type in the low bits (I/O: bit 0 set; memory: bits 2-1 the width,
 * bit 3 prefetchable); the address bits below the size are hardwired to 0,
 * so the guest's sizing protocol (write all-ones, read back
 * ~(size - 1) | type bits) works on the masks alone. I/O BARs keep all
 * 32 address bits, as QEMU's do (SeaBIOS sizes them with a 32-bit mask and
 * takes 16 hardwired zero bits for a 64 KiB BAR), but only an address
 * below 64 KiB can be mapped. When the guest
 * sets the command register's IO (for I/O BARs) or MEMORY bit (memory
 * BARs) and the BAR holds a non-zero address, the bus maps the region
 * there through PDM on behalf of the owning device: guest accesses reach
 * the device's ops->io / ops->mmio with the BAR's `user` pointer, at the
 * absolute port / address (offset = port - fn->bar[i].addr). Clearing the
 * bit, writing another address or a reset unmaps it. The expansion ROM
 * BAR (pci_fn_declare_rom) works the same way, as read-only memory. An address the bus
 * cannot take (past 64 KiB / 4 GiB / 1 TiB, over RAM, ROM or another
 * device's range) is refused with a log line: the BAR keeps the guest's
 * value but stays unmapped (fn->bar[i].addr == PCI_BAR_UNMAPPED).
 *
 * RAM-backed BARs (pci_fn_bar_ram): a memory BAR whose contents are plain
 * memory the device owns (a framebuffer) is mapped as guest RAM instead
 * of MMIO where the VMM can (pdm.h's host map_ram): guest reads and writes
 * then never reach the device; it learns which pages changed with
 * hlp->pci_bar_dirty (the engines' dirty tracking). Where the VMM cannot,
 * the BAR is MMIO as any other and the device's ops->mmio gets the
 * accesses, so the device keeps serving them too.
 *
 * INTx: a function whose INTERRUPT_PIN register is 1-4 (INTA#-INTD#)
 * raises and lowers its line with hlp->pci_set_irq(dev, fn, level): a level
 * (1 while the function wants service), not an edge. The command
 * register's INTX_DISABLE bit masks it; the status register's interrupt
 * bit shows it. Where the line goes is the chipset's (plugins/devices/pci:
 * PIIX3's PIRQ routing).
 *
 * Threads: as every device call, under PDM's per-VM lock.
 */
#ifndef CAPSULE_VMM_PDMPCI_H
#define CAPSULE_VMM_PDMPCI_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <capsule/result.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Offsets in the type 0 configuration header (PCI Local Bus 3.0, 6.1). */
#define PCI_VENDOR_ID           0x00
#define PCI_DEVICE_ID           0x02
#define PCI_COMMAND             0x04
#define PCI_STATUS              0x06
#define PCI_REVISION_ID         0x08
#define PCI_CLASS_PROG          0x09
#define PCI_CLASS_DEVICE        0x0a /* sub-class (low byte) and base class */
#define PCI_CACHE_LINE          0x0c
#define PCI_LATENCY_TIMER       0x0d
#define PCI_HEADER_TYPE         0x0e
#define PCI_BASE_ADDRESS_0      0x10 /* BAR n at 0x10 + 4n, n < 6 */
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID        0x2e
#define PCI_ROM_ADDRESS         0x30 /* expansion ROM BAR: bit 0 enables it */
#define PCI_INTERRUPT_LINE      0x3c
#define PCI_INTERRUPT_PIN       0x3d

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
/* Status register: the function's INTx is asserted (read-only), and the
 * error bits (write 1 to clear). */
#define PCI_STATUS_INTERRUPT 0x0008
#define PCI_STATUS_ERRORS    0xf900

/* BAR types (the low bits of the register, as the guest reads them). */
#define PCI_BAR_COUNT    6 /* BARs 0-5 at PCI_BASE_ADDRESS_0 */
#define PCI_ROM_SLOT     6 /* fn->bar[6]: the expansion ROM (pci_fn_declare_rom) */
#define PCI_NUM_BARS     7
#define PCI_BAR_IO       0x01u /* I/O space; else 32-bit memory */
#define PCI_BAR_MEM64    0x04u /* 64-bit memory: takes this BAR and the next */
#define PCI_BAR_PREFETCH 0x08u /* prefetchable memory */
#define PCI_BAR_UNMAPPED UINT64_MAX

struct pci_function;

/* Side effects of a function's registers. Both optional, both called with
 * the offset and size of the guest's access (already cut to 0-255).
 *  read: after the space was read into *val; may replace it (a counter, a
 *     register that reads what hardware computes).
 *  write: after the masked bytes were stored in cfg (so the hook sees the
 *     new value); `val` is what the guest wrote, before masking. The
 *     bus acts on BAR and command register writes (maps, unmaps) after the
 *     hook returns. */
struct pci_function_ops {
    void (*read)(struct pci_function *fn, unsigned off, unsigned size, uint32_t *val);
    void (*write)(struct pci_function *fn, unsigned off, unsigned size, uint32_t val);
};

/* A BAR as the owner declared it (size 0: none) and where the bus mapped it. */
struct pci_bar {
    uint64_t size;    /* power of two; 0: no BAR (or the upper half of a 64-bit one) */
    uint32_t flags;   /* PCI_BAR_IO, or memory with PCI_BAR_MEM64 / PCI_BAR_PREFETCH */
    void *user;       /* handed to ops->io / ops->mmio for accesses inside it */
    void *ram;        /* pci_fn_bar_ram's memory (size bytes), or NULL: MMIO */
    uint64_t addr;    /* the bus's: where it is mapped now, or PCI_BAR_UNMAPPED */
    uint64_t refused; /* the bus's: an address it refused (not retried, not relogged) */
};

struct pci_function {
    uint8_t cfg[PCI_CONFIG_SIZE];       /* what the guest reads; guest state */
    uint8_t wmask[PCI_CONFIG_SIZE];     /* guest-writable bits; set by the owner */
    uint8_t w1cmask[PCI_CONFIG_SIZE];   /* write-1-to-clear bits; set by the owner */
    uint8_t reset[PCI_CONFIG_SIZE];     /* power-on cfg, taken when attached */
    const struct pci_function_ops *ops; /* NULL: no side effects */
    void *owner;                        /* for the hooks: the device's state */
    const char *name;                   /* "i440FX host bridge", for logs */
    struct pci_bar bar[PCI_NUM_BARS];   /* pci_fn_declare_bar / _rom */
    /* The bus's and PDM's, not the owner's: */
    unsigned devfn; /* where it sits on bus 0 */
    bool intx;      /* the level the owner last asked for */
    bool intx_out;  /* what reaches the bus (intx unless INTX_DISABLE) */
    void *pdm_priv; /* PDM's record of the function */
};

/* ---- filling a function (power-on values; masks ignored) ------------------ */

static inline void pci_fn_bytes_(uint8_t *space, unsigned off, unsigned width, uint32_t v)
{
    if (off >= PCI_CONFIG_SIZE || width > PCI_CONFIG_SIZE - off)
        return; /* the owner's constants: checked, ignored if out of range */
    for (unsigned i = 0; i < width; i++)
        space[off + i] = (uint8_t)(v >> (8 * i));
}

static inline void pci_fn_set8(struct pci_function *fn, unsigned off, uint8_t v)
{
    pci_fn_bytes_(fn->cfg, off, 1, v);
}

static inline void pci_fn_set16(struct pci_function *fn, unsigned off, uint16_t v)
{
    pci_fn_bytes_(fn->cfg, off, 2, v);
}

static inline void pci_fn_set32(struct pci_function *fn, unsigned off, uint32_t v)
{
    pci_fn_bytes_(fn->cfg, off, 4, v);
}

/* Which bits of the 16-bit register at `off` the guest may write. */
static inline void pci_fn_set_wmask16(struct pci_function *fn, unsigned off, uint16_t mask)
{
    pci_fn_bytes_(fn->wmask, off, 2, mask);
}

static inline uint16_t pci_fn_get16(const struct pci_function *fn, unsigned off)
{
    if (off >= PCI_CONFIG_SIZE - 1)
        return 0xffff;
    return (uint16_t)(fn->cfg[off] | fn->cfg[off + 1] << 8);
}

static inline uint32_t pci_fn_get32(const struct pci_function *fn, unsigned off)
{
    if (off >= PCI_CONFIG_SIZE - 3)
        return 0xffffffffu;
    return (uint32_t)pci_fn_get16(fn, off) | (uint32_t)pci_fn_get16(fn, off + 2) << 16;
}

/*
 * Clears `fn` and sets the identity registers of a type 0 header: vendor,
 * device, revision, the 24-bit class code (base << 16 | sub << 8 | prog-if)
 * and header type 0. Sets the common writable bits: the command register's
 * IO, MEMORY, MASTER, PARITY, SERR and INTX_DISABLE, the cache line size,
 * the latency timer and the interrupt line; the status register's error
 * bits as write-1-to-clear. The owner narrows or widens them afterwards
 * (INTERRUPT_PIN with pci_fn_set8: 1 for INTA#).
 */
static inline void pci_fn_init(struct pci_function *fn, const char *name, uint16_t vendor,
                               uint16_t device, uint8_t revision, uint32_t class_code)
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
    for (unsigned i = 0; i < PCI_NUM_BARS; i++)
        fn->bar[i].addr = fn->bar[i].refused = PCI_BAR_UNMAPPED;
}

/*
 * Declares BAR `index` (0-5): `flags` PCI_BAR_IO (size 4-256 bytes), or
 * memory (size 16 bytes - 2 GiB; with PCI_BAR_MEM64 up to 2^39 bytes, which
 * also takes BAR index + 1) optionally PCI_BAR_PREFETCH; `size` a power of
 * two; `user` what the device's ops->io / ops->mmio receive for it.
 * CAP_E_INVALIDARG for anything else (the BAR is then left undeclared).
 */
static inline cap_result pci_fn_declare_bar(struct pci_function *fn, unsigned index, uint32_t flags,
                                            uint64_t size, void *user)
{
    bool io = flags & PCI_BAR_IO, wide = !io && (flags & PCI_BAR_MEM64);
    uint64_t max = io ? 256 : wide ? 1ull << 39 : 1ull << 31;
    if (index >= PCI_BAR_COUNT || (wide && index + 1 >= PCI_BAR_COUNT) ||
        (flags & ~(PCI_BAR_IO | PCI_BAR_MEM64 | PCI_BAR_PREFETCH)) ||
        (io && (flags & ~PCI_BAR_IO)) || size < (io ? 4u : 16u) || size > max ||
        (size & (size - 1)) || fn->bar[index].size || (wide && fn->bar[index + 1].size) ||
        (index > 0 && fn->bar[index - 1].size && (fn->bar[index - 1].flags & PCI_BAR_MEM64)))
        return CAP_E_INVALIDARG;
    unsigned off = PCI_BASE_ADDRESS_0 + 4 * index;
    fn->bar[index] = (struct pci_bar){.size = size,
                                      .flags = flags,
                                      .user = user,
                                      .addr = PCI_BAR_UNMAPPED,
                                      .refused = PCI_BAR_UNMAPPED};
    uint64_t mask = ~(size - 1);
    pci_fn_set32(fn, off, flags);
    pci_fn_bytes_(fn->wmask, off, 4, (uint32_t)mask & (io ? ~0x3u : ~0xfu));
    if (wide)
        pci_fn_bytes_(fn->wmask, off + 4, 4, (uint32_t)(mask >> 32));
    return CAP_OK;
}

/*
 * Declares the expansion ROM BAR (PCI_ROM_ADDRESS, fn->bar[PCI_ROM_SLOT]):
 * `size` a power of two from 2 KiB to 16 MiB, `user` for ops->mmio, which
 * serves reads of the image (writes to a ROM are the device's to drop).
 * It maps like a memory BAR, when the command register's MEMORY bit and
 * the register's enable bit (0) are both set. CAP_E_INVALIDARG otherwise.
 */
static inline cap_result pci_fn_declare_rom(struct pci_function *fn, uint64_t size, void *user)
{
    if (size < 2048 || size > (16u << 20) || (size & (size - 1)) || fn->bar[PCI_ROM_SLOT].size)
        return CAP_E_INVALIDARG;
    fn->bar[PCI_ROM_SLOT] = (struct pci_bar){
        .size = size, .user = user, .addr = PCI_BAR_UNMAPPED, .refused = PCI_BAR_UNMAPPED};
    pci_fn_bytes_(fn->wmask, PCI_ROM_ADDRESS, 4, ((uint32_t) ~(size - 1) & ~0x7ffu) | 1u);
    return CAP_OK;
}

/*
 * Backs declared memory BAR `index` (0-5, not I/O, not the ROM) with `mem`:
 * `size` bytes of the device's memory, 4 KiB-aligned, alive and in place
 * while the function is on the bus (until destruct). The guest's accesses
 * go to `mem` directly where the VMM maps it as RAM (see "RAM-backed BARs"
 * above); the device's ops->mmio must still handle the BAR for the VMMs
 * that do not. CAP_E_INVALIDARG otherwise.
 */
static inline cap_result pci_fn_bar_ram(struct pci_function *fn, unsigned index, void *mem)
{
    if (index >= PCI_BAR_COUNT || !fn->bar[index].size || (fn->bar[index].flags & PCI_BAR_IO) ||
        !mem || ((uintptr_t)mem & 0xfffu) || (fn->bar[index].size & 0xfffu))
        return CAP_E_INVALIDARG;
    fn->bar[index].ram = mem;
    return CAP_OK;
}

/* The bus's INTx line of a function (struct pdm_pci_bus_ops) and PDM's
 * role for it: see pdmdev.h (hlp->pci_bus_register). */
#define PDM_PCI_DEVFN_ANY (-1) /* hlp->pci_register: the first free device, function 0 */

#ifdef __cplusplus
}
#endif

#endif /* CAPSULE_VMM_PDMPCI_H */
