/*
 * plugins/devices/piix3ide/piix3ide.c - the PIIX3 IDE controller: two
 * legacy channels (primary 0x1f0-0x1f7 and 0x3f6 on IRQ 14, secondary
 * 0x170-0x177 and 0x376 on IRQ 15) with up to two devices each, and the
 * bus-master registers (16 ports).
 *
 * The drives come from PDM's block layer: LUN channel * 2 + unit, a hard
 * disk (ATA, ide_ata.c) or a DVD drive (ATAPI, ide_atapi.c). This file
 * holds the register file: the taskfile (each write reaches both devices
 * of the channel; reads come from the selected one, whose status reads 0
 * when it is absent), device control (nIEN, SRST with the signatures),
 * and the channel's interrupt line.
 *
 * PCI: function 00:01.1 beside PIIX3's ISA bridge, Intel 82371SB IDE
 * (8086:7010), class 0101 prog-if 0x80 (both channels in compatibility
 * mode at the legacy ports and IRQs, bus master capable), the bus-master
 * registers in I/O BAR4 (16 ports), IDETIM at 0x40/0x42 with the decode
 * enables (IDE0/IDE1) set at reset, as a BIOS leaves them. DMA needs the
 * command register's bus-master bit. The legacy ports decode whatever the
 * command register says (the BIOS and old OSes use them before PCI is set
 * up).
 *
 * Config: pci (bool, default true: the function on the VM's PCI bus, which
 * must be built first), bm_iobase (default 0; the bus-master registers at
 * fixed ports, for machines and tests without PCI).
 */
#include <stdio.h>
#include <stdlib.h>

#include "ide.h"

static const uint16_t cmd_base[IDE_CHANNELS] = {0x1f0, 0x170};
static const uint16_t ctl_port[IDE_CHANNELS] = {0x3f6, 0x376};
static const unsigned chan_irq[IDE_CHANNELS] = {14, 15};

void ide_update_irq(struct ide_channel *ch)
{
    bool level = ch->irq_pending && !(ch->ctl & ATA_DC_NIEN);
    if (level != ch->irq_level) {
        ch->irq_level = level;
        ch->dev->hlp->irq_set(ch->dev, ch->irq, level);
    }
}

void ide_raise_irq(struct ide_channel *ch)
{
    ch->irq_pending = true;
    ch->bm_status |= BM_ST_INTR;
    ide_update_irq(ch);
}

void ide_set_signature(struct ide_drive *d)
{
    struct ide_regs *r = &d->r;
    r->nsect = r->lbal = 1;
    r->lbam = d->atapi ? 0x14 : 0;
    r->lbah = d->atapi ? 0xeb : 0;
    if (!d->blk)
        r->lbam = r->lbah = 0xff;
    r->hob_nsect = r->hob_lbal = r->hob_lbam = r->hob_lbah = r->hob_feature = 0;
    r->select &= 0xf0; /* the head bits; the selection stays */
}

/* Power-on / reset state of one device (after its signature). */
static void drive_reset(struct ide_drive *d, bool hard)
{
    d->r.select = 0xa0; /* device 0 selected (channel_reset) */
    ide_set_signature(d);
    d->r.error = 0x01;
    d->r.feature = 0;
    d->r.status = d->blk && !d->atapi ? ATA_ST_DRDY | ATA_ST_DSC : 0;
    if (!hard)
        return;
    d->multiple = 0;
    d->wcache_off = false;
    d->lheads = d->heads;
    d->lspt = d->spt;
    d->sense_key = d->asc = d->ascq = 0;
}

static void channel_reset(struct ide_channel *ch, bool hard)
{
    ide_abort_transfer(ch);
    ch->dma = false;
    ch->active = NULL;
    ch->cur = 0;
    for (unsigned u = 0; u < 2; u++)
        drive_reset(&ch->drv[u], hard);
    if (hard) {
        ch->ctl = 0;
        ch->bm_cmd = 0;
        ch->bm_status &= BM_ST_DMA_CAP;
        ch->bm_prd = 0;
        for (unsigned u = 0; u < 2; u++) {
            struct ide_drive *d = &ch->drv[u];
            if (d->blk && d->atapi) {
                ch->dev->hlp->blk_set_locked(d->blk, false);
                d->unit_attention = false;
                d->media_event = 0;
            }
        }
    }
    ch->irq_pending = false;
    ide_update_irq(ch);
}

/* ---- the register file ------------------------------------------------------- */

static bool channel_empty(const struct ide_channel *ch)
{
    return !ch->drv[0].blk && !ch->drv[1].blk;
}

static uint8_t cmd_read(struct ide_channel *ch, unsigned reg)
{
    struct ide_drive *d = &ch->drv[ch->cur];
    bool hob = ch->ctl & ATA_DC_HOB;
    if (channel_empty(ch))
        return 0;
    switch (reg) {
    case 1:
        return d->blk ? d->r.error : 0;
    case 2:
        return hob ? d->r.hob_nsect : d->r.nsect;
    case 3:
        return hob ? d->r.hob_lbal : d->r.lbal;
    case 4:
        return hob ? d->r.hob_lbam : d->r.lbam;
    case 5:
        return hob ? d->r.hob_lbah : d->r.lbah;
    case 6:
        return d->r.select;
    default: /* 7: status; reading it acknowledges the interrupt */
        if (!d->blk)
            return 0;
        ch->irq_pending = false;
        ide_update_irq(ch);
        return d->r.status;
    }
}

static void cmd_write(struct ide_channel *ch, unsigned reg, uint8_t v)
{
    if (reg == 7) {
        ide_exec_command(ch, v);
        return;
    }
    ch->ctl &= (uint8_t)~ATA_DC_HOB;
    for (unsigned u = 0; u < 2; u++) {
        struct ide_regs *r = &ch->drv[u].r;
        switch (reg) {
        case 1:
            r->hob_feature = r->feature;
            r->feature = v;
            break;
        case 2:
            r->hob_nsect = r->nsect;
            r->nsect = v;
            break;
        case 3:
            r->hob_lbal = r->lbal;
            r->lbal = v;
            break;
        case 4:
            r->hob_lbam = r->lbam;
            r->lbam = v;
            break;
        case 5:
            r->hob_lbah = r->lbah;
            r->lbah = v;
            break;
        default:
            r->select = v;
            break;
        }
    }
    if (reg == 6)
        ch->cur = (v & ATA_DH_DEV1) ? 1 : 0;
}

static void ctl_write(struct ide_channel *ch, uint8_t v)
{
    uint8_t old = ch->ctl;
    ch->ctl = v;
    if ((v & ATA_DC_SRST) && !(old & ATA_DC_SRST)) {
        ide_abort_transfer(ch);
        for (unsigned u = 0; u < 2; u++)
            if (ch->drv[u].blk)
                ch->drv[u].r.status = ATA_ST_BSY;
    } else if (!(v & ATA_DC_SRST) && (old & ATA_DC_SRST)) {
        channel_reset(ch, false);
    }
    ide_update_irq(ch);
}

static uint8_t ctl_read(struct ide_channel *ch)
{
    struct ide_drive *d = &ch->drv[ch->cur];
    return d->blk ? d->r.status : 0;
}

bool ide_bus_master_enabled(const struct ide *s)
{
    return !s->pci || (pci_fn_get16(&s->fn, PCI_COMMAND) & PCI_COMMAND_MASTER);
}

static cap_result ide_io(struct pdm_dev *dev, void *user, uint16_t port, unsigned size, bool write,
                         uint32_t *val)
{
    struct ide *s = dev->data;
    if (user == &s->bar4_user || user == NULL) {
        uint64_t base = user ? s->fn.bar[4].addr : s->bm_fixed;
        unsigned off = (unsigned)(port - base);
        if (write)
            ide_bm_write(s, off, size, *val);
        else
            *val = ide_bm_read(s, off, size);
        return CAP_OK;
    }
    struct ide_channel *ch = user;
    if (port == ctl_port[ch->idx]) {
        if (write)
            ctl_write(ch, (uint8_t)*val);
        else
            *val = ctl_read(ch);
        return CAP_OK;
    }
    unsigned reg = port - cmd_base[ch->idx];
    if (reg == 0) {
        if (write)
            ide_data_write(ch, size, *val);
        else
            *val = ide_data_read(ch, size);
        return CAP_OK;
    }
    if (write)
        cmd_write(ch, reg, (uint8_t)*val);
    else
        *val = cmd_read(ch, reg);
    return CAP_OK;
}

/* ---- the block layer's medium changes ------------------------------------------- */

static void medium_changed(struct pdm_dev *dev, void *user, bool present)
{
    struct ide_drive *d = user;
    if (d->atapi)
        atapi_medium_changed(d, present);
}

static const struct pdm_blk_port ide_port = {
    .complete = ide_blk_complete,
    .medium_changed = medium_changed,
};

/* ---- construction ---------------------------------------------------------------- */

static cap_result attach_drive(struct pdm_dev *dev, struct ide_channel *ch, unsigned u)
{
    struct ide_drive *d = &ch->drv[u];
    struct pdm_blk_info info;
    d->ch = ch;
    d->unit = u;
    snprintf(d->serial, sizeof(d->serial), "CAPSULE-%u%u-%04x", ch->idx, u,
             (dev->instance * 4 + ch->idx * 2 + u) & 0xffff);
    cap_result rc = ide_drive_attach(dev, d, ch->idx * 2 + u, &ide_port, d, &info);
    if (rc != CAP_OK)
        return CAP_FAILED(rc) ? rc : CAP_OK;
    dev->hlp->log(dev, PDM_LOG_INFO, "%s %s: %s%s", ch->idx ? "secondary" : "primary",
                  u ? "slave" : "master", d->atapi ? "DVD drive" : "hard disk",
                  d->atapi ? (info.present ? " with a medium" : ", empty") : "");
    return CAP_OK;
}

/* The PCI function (see the top). */
static cap_result pci_setup(struct pdm_dev *dev, struct ide *s)
{
    struct pci_function *f = &s->fn;
    pci_fn_init(f, "PIIX3 IDE", 0x8086, 0x7010, 0x00, 0x010180);
    pci_fn_set_wmask16(f, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MASTER);
    pci_fn_set16(f, PCI_STATUS, 0x0280); /* medium DEVSEL, fast back-to-back */
    f->wmask[PCI_INTERRUPT_LINE] = 0;    /* compatibility mode: IRQ 14/15 */
    for (unsigned off = 0x40; off < 0x4c; off++)
        f->wmask[off] = 0xff; /* IDETIM, SIDETIM, UDMACTL, UDMATIM */
    /* both channels' decode enabled, as firmware leaves them: a kernel
     * booted without a BIOS (Linux's ata_piix) checks these bits */
    pci_fn_set16(f, 0x40, 0x8000);
    pci_fn_set16(f, 0x42, 0x8000);
    cap_result rc = pci_fn_declare_bar(f, 4, PCI_BAR_IO, 16, &s->bar4_user);
    if (CAP_FAILED(rc))
        return dev->hlp->error(dev, rc, "cannot declare BAR4");
    f->owner = s;
    rc = dev->hlp->pci_register(dev, PCI_DEVFN(1, 1), f);
    s->pci = CAP_SUCCEEDED(rc);
    return rc;
}

static cap_result ide_construct(struct pdm_dev *dev, const struct pdm_cfg *cfg)
{
    struct ide *s = dev->data;
    const struct pdm_hlp *h = dev->hlp;
    int64_t bm;
    bool pci;
    cap_result rc = h->cfg_int(dev, cfg, "bm_iobase", 0, 0, 0xfff0, &bm);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_bool(dev, cfg, "pci", true, &pci);
    if (CAP_FAILED(rc))
        return rc;
    if (bm & 0xf)
        return h->error(dev, CAP_E_INVALIDARG, "bm_iobase 0x%llx is not 16-byte aligned",
                        (unsigned long long)bm);
    for (unsigned c = 0; c < IDE_CHANNELS; c++) {
        struct ide_channel *ch = &s->ch[c];
        ch->dev = dev;
        ch->idx = c;
        ch->irq = chan_irq[c];
        ch->buf = malloc(IDE_BUF_SIZE);
        if (!ch->buf)
            return h->error(dev, CAP_E_OUTOFMEMORY, "out of memory");
        for (unsigned u = 0; u < 2 && CAP_SUCCEEDED(rc); u++)
            rc = attach_drive(dev, ch, u);
        if (CAP_SUCCEEDED(rc))
            rc = h->io_register(dev, cmd_base[c], 8, 0, ch, c ? "secondary" : "primary");
        if (CAP_SUCCEEDED(rc))
            rc = h->io_register(dev, ctl_port[c], 1, 0, ch, c ? "secondary ctl" : "primary ctl");
        if (CAP_FAILED(rc))
            return rc;
        channel_reset(ch, true);
    }
    if (bm) {
        s->bm_fixed = (uint16_t)bm;
        rc = h->io_register(dev, s->bm_fixed, 16, 0, NULL, "bus master");
    }
    if (CAP_SUCCEEDED(rc) && pci)
        rc = pci_setup(dev, s);
    return rc;
}

static void ide_destruct(struct pdm_dev *dev)
{
    struct ide *s = dev->data;
    for (unsigned c = 0; c < IDE_CHANNELS; c++) {
        free(s->ch[c].buf);
        s->ch[c].buf = NULL;
    }
}

static void ide_reset(struct pdm_dev *dev)
{
    struct ide *s = dev->data;
    for (unsigned c = 0; c < IDE_CHANNELS; c++)
        channel_reset(&s->ch[c], true);
}

static const struct pdm_dev_ops ide_ops = {
    .construct = ide_construct,
    .destruct = ide_destruct,
    .reset = ide_reset,
    .io = ide_io,
    .save = ide_save,
    .load = ide_load,
};

static const struct pdm_devreg ide_reg = {
    .abi = PDM_DEVREG_ABI,
    .name = "piix3ide",
    .description = "PIIX3 IDE controller: ATA disks, ATAPI DVD drives, bus-master DMA",
    .instance_size = sizeof(struct ide),
    .max_instances = 1,
    .saved_state_version = 1,
    .ops = &ide_ops,
};

static const cap_uuid ide_cid = {{0x5b, 0x1e, 0x7c, 0x2a, 0x93, 0x4d, 0x4e, 0x0b, 0xa6, 0x2f, 0x11,
                                  0xd8, 0x40, 0x6c, 0x3e, 0x71}};
PDM_DEVICE_COMPONENT(ide_reg, ide_cid, "piix3ide")
