/*
 * plugins/devices/pci/pci.c - the PCI bus of a PC: configuration mechanism
 * #1 and the i440FX host bridge, the start of issue 12's chipset.
 *
 * Configuration mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2) is two
 * registers: CONFIG_ADDRESS at 0xCF8, read and written as a dword only
 * (bit 31 enable, bits 23-16 bus, 15-11 device, 10-8 function, 7-2
 * register; bits 30-24 and 1-0 read 0), and CONFIG_DATA at 0xCFC-0xCFF,
 * where an access of any size at 0xCFC + n reaches the enabled function's
 * register (CONFIG_ADDRESS & 0xFC) + n. With the enable bit clear, data
 * reads are all-ones and writes dropped, as are byte and word accesses to
 * 0xCF8-0xCFB - except a byte at 0xCF9, the chipset's reset control
 * register (PIIX3's RCR, which every later PC chipset kept there): bit 1
 * selects a hard reset, writing bit 2 resets the machine (Linux's
 * reboot=pci, and its fallback after the keyboard controller).
 *
 * The bus and the functions' configuration spaces are pci_config.c's; this
 * file attaches the host bridge at 00:00.0: Intel 82441FX (i440FX PMC,
 * vendor 8086 device 1237 revision 02, class 06 00 00), what Linux's
 * mechanism #1 sanity check and every PC OS expect. Its command register
 * has memory and bus master hardwired on (0006h) with PERR/SERR enables
 * writable, status 0280h (fast back-to-back, medium DEVSEL) with the error
 * bits write-1-to-clear, a writable latency timer (bits 7-3) and the seven
 * PAM registers (59h-5Fh) kept as written: what they would do, shadowing
 * the BIOS area in RAM, comes with firmware (issue 12); no firmware runs
 * yet. Every other register reads 0 and ignores writes. Later functions
 * (PIIX3's ISA bridge and IDE, VGA, e1000) attach to the same bus.
 *
 * No config keys. Saved state (version 1): CONFIG_ADDRESS (4 bytes, little
 * endian), RCR (1 byte), then the host bridge's 256 bytes of configuration
 * space.
 */
#include "pci_config.h"
#include "pdmdev.h"

#define PCI_ADDR_PORT 0xcf8
#define PCI_DATA_PORT 0xcfc
#define PCI_RCR_PORT  0xcf9

#define CONF1_ENABLE    0x80000000u
#define CONF1_ADDR_MASK 0x80fffffcu /* bits 30-24 and 1-0 read 0 */

#define RCR_SYS_RST 0x02 /* hard reset (kept; both kinds reset the VM) */
#define RCR_RST_CPU 0x04 /* write 1: reset now */

#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID        0x2e
#define PCI_SUBSYS_VENDOR_QEMU  0x1af4 /* Red Hat, Inc. */
#define PCI_SUBSYS_ID_QEMU      0x1100 /* QEMU virtual machine */

#define I440FX_PAM0     0x59
#define I440FX_PAM_LAST 0x5f

struct pci {
    struct pci_bus bus;       /* the functions attached at construct */
    struct pci_function host; /* 00:00.0 */
    uint32_t addr;            /* CONFIG_ADDRESS: guest state */
    uint8_t rcr;              /* reset control: guest state */
};

static void i440fx_init(struct pci_function *f)
{
    pci_fn_init(f, "i440FX host bridge", 0x8086, 0x1237, 0x02, 0x060000);
    pci_fn_set16(f, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    pci_fn_set_wmask16(f, PCI_COMMAND, PCI_COMMAND_PARITY | PCI_COMMAND_SERR);
    pci_fn_set16(f, PCI_STATUS, 0x0280);
    /* Subsystem 1af4:1100, QEMU's for every device: SeaBIOS takes the
     * machine for QEMU (fw_cfg, its e820 and CPU count) only when the
     * host bridge carries it */
    pci_fn_set16(f, PCI_SUBSYSTEM_VENDOR_ID, PCI_SUBSYS_VENDOR_QEMU);
    pci_fn_set16(f, PCI_SUBSYSTEM_ID, PCI_SUBSYS_ID_QEMU);
    f->wmask[PCI_CACHE_LINE] = 0;
    f->wmask[PCI_LATENCY_TIMER] = 0xf8;
    f->wmask[PCI_INTERRUPT_LINE] = 0; /* the host bridge raises no interrupt */
    f->wmask[I440FX_PAM0] = 0x30;     /* PAM0 covers only F0000h-FFFFFh */
    for (unsigned r = I440FX_PAM0 + 1; r <= I440FX_PAM_LAST; r++)
        f->wmask[r] = 0x33;
}

static cap_result pci_construct(struct pdm_dev *dev, const struct pdm_cfg *cfg)
{
    struct pci *s = dev->data;
    const struct pdm_hlp *h = dev->hlp;
    i440fx_init(&s->host);
    s->host.owner = s;
    cap_result rc = pci_bus_attach(&s->bus, PCI_DEVFN(0, 0), &s->host);
    if (CAP_FAILED(rc))
        return h->error(dev, rc, "cannot attach the host bridge at 00:00.0");
    rc = h->io_register(dev, PCI_ADDR_PORT, 4, 0, NULL, "PCI CONFIG_ADDRESS + reset control");
    if (CAP_SUCCEEDED(rc))
        rc = h->io_register(dev, PCI_DATA_PORT, 4, 0, NULL, "PCI CONFIG_DATA");
    return rc;
}

/* A byte written to 0xCF9. */
static void rcr_write(struct pdm_dev *dev, uint8_t v)
{
    struct pci *s = dev->data;
    s->rcr = v & RCR_SYS_RST;
    if (v & RCR_RST_CPU) {
        dev->hlp->log(dev, PDM_LOG_INFO, "%s reset through port 0xcf9",
                      v & RCR_SYS_RST ? "hard" : "soft");
        dev->hlp->vm_reset(dev);
    }
}

/* 0xCF8-0xCFB: IOM hands over only accesses inside the range (it splits
 * one that straddles into bytes), so a dword here is at 0xCF8. */
static void addr_io(struct pdm_dev *dev, uint16_t port, unsigned size, bool write, uint32_t *val)
{
    struct pci *s = dev->data;
    if (size == 4) {
        if (write)
            s->addr = *val & CONF1_ADDR_MASK;
        else
            *val = s->addr;
    } else if (size == 1 && port == PCI_RCR_PORT) {
        if (write)
            rcr_write(dev, (uint8_t)*val);
        else
            *val = s->rcr;
    } else if (!write) {
        *val = 0xffffffffu;
    }
}

static cap_result pci_io(struct pdm_dev *dev, void *user, uint16_t port, unsigned size, bool write,
                         uint32_t *val)
{
    struct pci *s = dev->data;
    if (port < PCI_DATA_PORT) {
        addr_io(dev, port, size, write, val);
        return CAP_OK;
    }
    if (!(s->addr & CONF1_ENABLE)) {
        if (!write)
            *val = 0xffffffffu;
        return CAP_OK;
    }
    unsigned busnr = (s->addr >> 16) & 0xff, devfn = (s->addr >> 8) & 0xff;
    unsigned off = (s->addr & 0xfc) + (unsigned)(port - PCI_DATA_PORT);
    if (write)
        pci_bus_write(&s->bus, busnr, devfn, off, size, *val);
    else
        *val = pci_bus_read(&s->bus, busnr, devfn, off, size);
    return CAP_OK;
}

static void pci_reset(struct pdm_dev *dev)
{
    struct pci *s = dev->data;
    s->addr = 0;
    s->rcr = 0;
    pci_bus_reset(&s->bus);
}

static cap_result pci_save(struct pdm_dev *dev, struct pdm_ssm *ssm)
{
    struct pci *s = dev->data;
    uint8_t hdr[5] = {(uint8_t)s->addr, (uint8_t)(s->addr >> 8), (uint8_t)(s->addr >> 16),
                      (uint8_t)(s->addr >> 24), s->rcr};
    cap_result rc = dev->hlp->ssm_put(ssm, hdr, sizeof(hdr));
    if (CAP_SUCCEEDED(rc))
        rc = dev->hlp->ssm_put(ssm, s->host.cfg, sizeof(s->host.cfg));
    return rc;
}

static cap_result pci_load(struct pdm_dev *dev, struct pdm_ssm *ssm, uint32_t version)
{
    struct pci *s = dev->data;
    uint8_t hdr[5], cfg[PCI_CONFIG_SIZE];
    cap_result rc = dev->hlp->ssm_get(ssm, hdr, sizeof(hdr));
    if (CAP_SUCCEEDED(rc))
        rc = dev->hlp->ssm_get(ssm, cfg, sizeof(cfg));
    if (CAP_FAILED(rc))
        return rc;
    /* A saved state is input too: only what a guest could have made of
     * the registers is taken (masks applied, identity kept). */
    s->addr = ((uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 |
               (uint32_t)hdr[3] << 24) &
              CONF1_ADDR_MASK;
    s->rcr = hdr[4] & RCR_SYS_RST;
    for (unsigned i = 0; i < PCI_CONFIG_SIZE; i++) {
        uint8_t guest = s->host.wmask[i] | s->host.w1cmask[i];
        s->host.cfg[i] = (uint8_t)((s->host.reset[i] & ~guest) | (cfg[i] & guest));
    }
    return CAP_OK;
}

static const struct pdm_dev_ops pci_ops = {
    .construct = pci_construct,
    .reset = pci_reset,
    .io = pci_io,
    .save = pci_save,
    .load = pci_load,
};

static const struct pdm_devreg pci_reg = {
    .abi = PDM_DEVREG_ABI,
    .name = "pci",
    .description = "PCI bus: configuration mechanism #1, i440FX host bridge, reset at 0xCF9",
    .instance_size = sizeof(struct pci),
    .max_instances = 1,
    .saved_state_version = 1,
    .ops = &pci_ops,
};

/* {3b0f5a8e-6c1d-4e27-9f43-a1d2c5e8b704} */
static const cap_uuid pci_cid = {{0x3b, 0x0f, 0x5a, 0x8e, 0x6c, 0x1d, 0x4e, 0x27, 0x9f, 0x43, 0xa1,
                                  0xd2, 0xc5, 0xe8, 0xb7, 0x04}};
PDM_DEVICE_COMPONENT(pci_reg, pci_cid, "pci")
