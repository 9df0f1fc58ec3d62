/*
 * plugins/devices/pcitest/pcitest.c - a small PCI function, for tests and
 * as the example of a device plugin that is a PCI device (vmm/pdm/pdmpci.h).
 *
 * Identity: 1b36:0005 revision 01, class ff 00 00 (unclassified: no OS
 * driver binds it), INTA#. Three BARs with the same registers:
 *   BAR0  I/O, 16 bytes
 *   BAR1  32-bit memory, 4 KiB
 *   BAR2  64-bit prefetchable memory, 1 MiB (BAR2 and BAR3)
 *   ROM   expansion ROM, 2 KiB (read-only: writes dropped; no 55AA
 *         signature, so firmware runs nothing from it)
 * Registers (dwords; any size at any offset reads the bytes of these):
 *   +0  signature "CPCI" (0x49435043), read-only
 *   +4  INTx: write 1 to raise the function's interrupt line, 0 to lower
 *       it (a level, held); reads the level
 *   +8  scratch: reads what was last written
 *   +12 which BAR this is (0, 1, 2; 6 for the ROM), read-only
 * Everything else in a BAR reads 0 and ignores writes.
 *
 * Config: devfn (integer, -1 = the first free slot, else 0-255, default -1).
 * Saved state (version 1): scratch (4 bytes LE), INTx level (1 byte).
 */
#include "pdmdev.h"

#define PCITEST_SIGNATURE 0x49435043u /* "CPCI" */

struct pcitest {
    struct pci_function fn;
    uint8_t bar_id[PCI_NUM_BARS]; /* the `user` of each BAR: which one it is */
    uint32_t scratch;
    bool level;
};

static cap_result pcitest_construct(struct pdm_dev *dev, const struct pdm_cfg *cfg)
{
    struct pcitest *s = dev->data;
    const struct pdm_hlp *h = dev->hlp;
    int64_t devfn;
    cap_result rc = h->cfg_int(dev, cfg, "devfn", PDM_PCI_DEVFN_ANY, -1, 255, &devfn);
    if (CAP_FAILED(rc))
        return rc;
    pci_fn_init(&s->fn, "pcitest", 0x1b36, 0x0005, 0x01, 0xff0000);
    pci_fn_set8(&s->fn, PCI_INTERRUPT_PIN, 1);
    for (unsigned i = 0; i < PCI_NUM_BARS; i++)
        s->bar_id[i] = (uint8_t)i;
    rc = pci_fn_declare_bar(&s->fn, 0, PCI_BAR_IO, 16, &s->bar_id[0]);
    if (CAP_SUCCEEDED(rc))
        rc = pci_fn_declare_bar(&s->fn, 1, 0, 4096, &s->bar_id[1]);
    if (CAP_SUCCEEDED(rc))
        rc = pci_fn_declare_bar(&s->fn, 2, PCI_BAR_MEM64 | PCI_BAR_PREFETCH, 1u << 20,
                                &s->bar_id[2]);
    if (CAP_SUCCEEDED(rc))
        rc = pci_fn_declare_rom(&s->fn, 2048, &s->bar_id[PCI_ROM_SLOT]);
    if (CAP_FAILED(rc))
        return h->error(dev, rc, "cannot declare the BARs");
    s->fn.owner = s;
    return h->pci_register(dev, (int)devfn, &s->fn);
}

static uint32_t reg_read(struct pcitest *s, unsigned bar, unsigned reg)
{
    switch (reg) {
    case 0:
        return PCITEST_SIGNATURE;
    case 4:
        return s->level;
    case 8:
        return s->scratch;
    case 12:
        return bar;
    default:
        return 0;
    }
}

/* An access of `size` bytes at `off` in BAR `bar`, byte by byte. */
static uint64_t bar_access(struct pdm_dev *dev, unsigned bar, uint64_t off, unsigned size,
                           bool write, uint64_t val)
{
    struct pcitest *s = dev->data;
    uint64_t out = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t o = off + i;
        unsigned reg = (unsigned)(o & ~3ull), sh = (unsigned)(o & 3) * 8;
        if (o >= 16 || (write && bar == PCI_ROM_SLOT))
            continue;
        if (!write) {
            out |= (uint64_t)((reg_read(s, bar, reg) >> sh) & 0xff) << (8 * i);
            continue;
        }
        uint8_t b = (uint8_t)(val >> (8 * i));
        if (reg == 8) {
            s->scratch = (s->scratch & ~(0xffu << sh)) | (uint32_t)b << sh;
        } else if (reg == 4 && sh == 0) {
            s->level = b & 1;
            dev->hlp->pci_set_irq(dev, NULL, s->level); /* NULL: its one function */
        }
    }
    return out;
}

/* Both kinds of BAR: `addr` the port or address, `user` the BAR's id. */
static cap_result pcitest_mmio(struct pdm_dev *dev, void *user, uint64_t addr, unsigned size,
                               bool write, uint64_t *val)
{
    struct pcitest *s = dev->data;
    unsigned bar = *(const uint8_t *)user;
    uint64_t r = bar_access(dev, bar, addr - s->fn.bar[bar].addr, size, write, *val);
    if (!write)
        *val = r;
    return CAP_OK;
}

static cap_result pcitest_io(struct pdm_dev *dev, void *user, uint16_t port, unsigned size,
                             bool write, uint32_t *val)
{
    uint64_t v = *val;
    pcitest_mmio(dev, user, port, size, write, &v);
    *val = (uint32_t)v;
    return CAP_OK;
}

static void pcitest_reset(struct pdm_dev *dev)
{
    struct pcitest *s = dev->data;
    s->scratch = 0;
    s->level = false;
    dev->hlp->pci_set_irq(dev, &s->fn, 0);
}

static cap_result pcitest_save(struct pdm_dev *dev, struct pdm_ssm *ssm)
{
    struct pcitest *s = dev->data;
    uint8_t b[5] = {(uint8_t)s->scratch, (uint8_t)(s->scratch >> 8), (uint8_t)(s->scratch >> 16),
                    (uint8_t)(s->scratch >> 24), s->level};
    return dev->hlp->ssm_put(ssm, b, sizeof(b));
}

static cap_result pcitest_load(struct pdm_dev *dev, struct pdm_ssm *ssm, uint32_t version)
{
    struct pcitest *s = dev->data;
    uint8_t b[5];
    cap_result rc = dev->hlp->ssm_get(ssm, b, sizeof(b));
    if (CAP_FAILED(rc))
        return rc;
    s->scratch = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    s->level = b[4] & 1;
    dev->hlp->pci_set_irq(dev, &s->fn, s->level);
    return CAP_OK;
}

static const struct pdm_dev_ops pcitest_ops = {
    .construct = pcitest_construct,
    .reset = pcitest_reset,
    .io = pcitest_io,
    .mmio = pcitest_mmio,
    .save = pcitest_save,
    .load = pcitest_load,
};

static const struct pdm_devreg pcitest_reg = {
    .abi = PDM_DEVREG_ABI,
    .name = "pcitest",
    .description = "PCI test function 1b36:0005: an I/O, a memory and a 64-bit BAR, INTA#",
    .instance_size = sizeof(struct pcitest),
    .saved_state_version = 1,
    .ops = &pcitest_ops,
};

/* {803b4d3e-32bb-4dad-b1c2-d0b3d3a7d256} */
static const cap_uuid pcitest_cid = {{0x80, 0x3b, 0x4d, 0x3e, 0x32, 0xbb, 0x4d, 0xad, 0xb1, 0xc2,
                                      0xd0, 0xb3, 0xd3, 0xa7, 0xd2, 0x56}};
PDM_DEVICE_COMPONENT(pcitest_reg, pcitest_cid, "pcitest")
