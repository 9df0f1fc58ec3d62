/*
 * plugins/devices/ahci/ahci.c - the AHCI SATA controller (VirtualBox's
 * default "SATA" controller, IntelAhci): an Intel ICH9 AHCI function
 * (8086:2922, class 01 06 prog-if 01: mass storage, SATA, AHCI 1.0
 * programming interface) with up to 30 ports, its registers (ABAR) in
 * memory BAR5, 4 KiB, and its interrupt on INTA#.
 *
 * This file holds the function and the generic host control registers:
 *  CAP  64-bit addressing, native command queuing, command list
 *       override, Gen2, AHCI only, 32 command slots, ports - 1 (no
 *       staggered spin-up, no port multipliers);
 *  GHC  AE reads 1 (AHCI only), IE gates the interrupt, HR resets the HBA
 *       (every port: registers, device, a command in flight cancelled)
 *       and reads 0 once done, which is at once;
 *  IS   bit n set while port n has PxIS & PxIE (so clearing PxIS clears
 *       it; writes change nothing else);
 *  PI   ports 0 to ports - 1;
 *  VS   1.3; CAP2, BOHC and the command completion coalescing and
 *       enclosure management registers read 0.
 * The interrupt is a level: GHC.IE and any IS bit. Accesses are dwords (an
 * 8-byte access is two); narrower reads see their bytes, narrower writes
 * are dropped. The ports are ahci_port.c's. DMA (the command lists, FISes
 * and data) needs the PCI command register's bus-master bit: without it
 * issued commands wait.
 *
 * Config: ports (1-30; default: up to the highest port with a drive, at
 * least 1). Drives: LUN n is port n (capsule-vm --drive if=sata,port=n).
 */
#include <stdio.h>
#include <stdlib.h>

#include "ahci.h"

#define ICH9_AHCI_DEVFN PCI_DEVFN(0x0d, 0) /* where VirtualBox puts its AHCI */

static bool bus_master(const struct ahci *s)
{
    return pci_fn_get16(&s->fn, PCI_COMMAND) & PCI_COMMAND_MASTER;
}

uint32_t ahci_hba_is(const struct ahci *s)
{
    uint32_t is = 0;
    for (unsigned i = 0; i < s->nports; i++)
        if (s->port[i].is & s->port[i].ie)
            is |= 1u << i;
    return is;
}

void ahci_update_irq(struct ahci *s)
{
    bool level = (s->ghc & GHC_IE) && ahci_hba_is(s);
    if (level != s->irq_level) {
        s->irq_level = level;
        s->dev->hlp->pci_set_irq(s->dev, &s->fn, level);
    }
}

bool ahci_may_dma(const struct ahci *s)
{
    return bus_master(s);
}

static void hba_reset(struct ahci *s, bool power_on)
{
    s->ghc = GHC_AE;
    for (unsigned i = 0; i < AHCI_MAX_PORTS; i++)
        ahci_port_reset(&s->port[i], power_on);
    ahci_update_irq(s);
}

static uint32_t hba_read(struct ahci *s, unsigned off)
{
    switch (off) {
    case HBA_CAP:
        return CAP_S64A | CAP_SNCQ | CAP_SCLO | CAP_ISS_GEN2 | CAP_SAM |
               (AHCI_SLOTS - 1) << CAP_NCS_SHIFT | (s->nports - 1);
    case HBA_GHC:
        return s->ghc;
    case HBA_IS:
        return ahci_hba_is(s);
    case HBA_PI:
        return (uint32_t)((1ull << s->nports) - 1);
    case HBA_VS:
        return AHCI_VERSION_13;
    default:
        return 0;
    }
}

static void hba_write(struct ahci *s, unsigned off, uint32_t val)
{
    if (off != HBA_GHC)
        return;
    if (val & GHC_HR) {
        hba_reset(s, false);
        return;
    }
    s->ghc = GHC_AE | (val & GHC_IE);
    ahci_update_irq(s);
}

static uint32_t reg_read(struct ahci *s, unsigned off)
{
    if (off < HBA_PORTS)
        return hba_read(s, off);
    unsigned port = (off - HBA_PORTS) / HBA_PORT_SZ;
    return port < s->nports ? ahci_port_read(&s->port[port], (off - HBA_PORTS) % HBA_PORT_SZ) : 0;
}

static void reg_write(struct ahci *s, unsigned off, uint32_t val)
{
    if (off < HBA_PORTS) {
        hba_write(s, off, val);
        return;
    }
    unsigned port = (off - HBA_PORTS) / HBA_PORT_SZ;
    if (port < s->nports)
        ahci_port_write(&s->port[port], (off - HBA_PORTS) % HBA_PORT_SZ, val);
}

static cap_result ahci_mmio(struct pdm_dev *dev, void *user, uint64_t addr, unsigned size,
                            bool write, uint64_t *val)
{
    struct ahci *s = dev->data;
    uint64_t off = addr - s->fn.bar[AHCI_ABAR_BAR].addr;
    if (!write)
        *val = 0;
    if (off >= AHCI_ABAR_SIZE)
        return CAP_OK;
    unsigned reg = (unsigned)off & ~3u, shift = 8 * ((unsigned)off & 3);
    if (!write) {
        uint64_t v = reg_read(s, reg);
        if (size == 8 && reg + 4 < AHCI_ABAR_SIZE)
            v |= (uint64_t)reg_read(s, reg + 4) << 32;
        *val = v >> shift;
        return CAP_OK;
    }
    if (size < 4 || shift)
        return CAP_OK;
    reg_write(s, reg, (uint32_t)*val);
    if (size == 8 && reg + 4 < AHCI_ABAR_SIZE)
        reg_write(s, reg + 4, (uint32_t)(*val >> 32));
    return CAP_OK;
}

/* The guest's command register write may turn bus mastering on for
 * commands issued before it. */
static void cfg_write(struct pci_function *fn, unsigned off, unsigned size, uint32_t val)
{
    struct ahci *s = fn->owner;
    if (off <= PCI_COMMAND && off + size > PCI_COMMAND && bus_master(s))
        for (unsigned i = 0; i < s->nports; i++)
            ahci_port_kick(&s->port[i]);
}

static const struct pci_function_ops ahci_fn_ops = {.write = cfg_write};

static cap_result pci_setup(struct pdm_dev *dev, struct ahci *s)
{
    struct pci_function *f = &s->fn;
    pci_fn_init(f, "ICH9 AHCI", 0x8086, 0x2922, 0x02, 0x010601);
    pci_fn_set_wmask16(f, PCI_COMMAND,
                       PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |
                           PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
    pci_fn_set16(f, PCI_STATUS, 0x0280); /* medium DEVSEL, fast back-to-back */
    pci_fn_set8(f, PCI_INTERRUPT_PIN, 1);
    f->wmask[0x92] = 0x3f; /* PCS: port enables, which Linux's Intel quirk sets */
    cap_result rc = pci_fn_declare_bar(f, AHCI_ABAR_BAR, 0, AHCI_ABAR_SIZE, &s->abar_user);
    if (CAP_FAILED(rc))
        return dev->hlp->error(dev, rc, "cannot declare BAR5");
    f->ops = &ahci_fn_ops;
    f->owner = s;
    return dev->hlp->pci_register(dev, ICH9_AHCI_DEVFN, f);
}

static cap_result ahci_construct(struct pdm_dev *dev, const struct pdm_cfg *cfg)
{
    struct ahci *s = dev->data;
    int64_t ports;
    s->dev = dev;
    cap_result rc = dev->hlp->cfg_int(dev, cfg, "ports", 0, 0, AHCI_MAX_PORTS, &ports);
    unsigned used = 1;
    for (unsigned i = 0; i < AHCI_MAX_PORTS && CAP_SUCCEEDED(rc); i++) {
        rc = ahci_port_init(s, i);
        if (s->port[i].ch.drv[0].blk)
            used = i + 1;
    }
    if (CAP_FAILED(rc))
        return rc;
    if (ports && ports < used)
        return dev->hlp->error(dev, CAP_E_INVALIDARG, "ports=%u, but port %u has a drive",
                               (unsigned)ports, used - 1);
    s->nports = ports ? (unsigned)ports : used;
    hba_reset(s, true);
    return pci_setup(dev, s);
}

static void ahci_destruct(struct pdm_dev *dev)
{
    struct ahci *s = dev->data;
    for (unsigned i = 0; i < AHCI_MAX_PORTS; i++)
        ahci_port_free(&s->port[i]);
}

void ahci_reset_all(struct ahci *s)
{
    hba_reset(s, true);
}

static void ahci_reset(struct pdm_dev *dev)
{
    ahci_reset_all(dev->data);
}

static const struct pdm_dev_ops ahci_ops = {
    .construct = ahci_construct,
    .destruct = ahci_destruct,
    .reset = ahci_reset,
    .mmio = ahci_mmio,
    .save = ahci_save,
    .load = ahci_load,
};

static const struct pdm_devreg ahci_reg = {
    .abi = PDM_DEVREG_ABI,
    .name = "ahci",
    .description = "AHCI SATA controller (ICH9): ATA disks, ATAPI DVD drives",
    .instance_size = sizeof(struct ahci),
    .max_instances = 0,
    .saved_state_version = AHCI_SSM_VERSION,
    .ops = &ahci_ops,
};

static const cap_uuid ahci_cid = {{0x3c, 0x8a, 0x51, 0xe4, 0x0f, 0x7b, 0x4c, 0x2d, 0x9e, 0x66, 0x2b,
                                   0x41, 0xd0, 0x93, 0xa7, 0x5c}};
PDM_DEVICE_COMPONENT(ahci_reg, ahci_cid, "ahci")
