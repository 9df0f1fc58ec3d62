/*
 * plugins/devices/ahci/ahci_port.c - one AHCI port: its registers, the
 * command list the guest fills in memory, and the run loop that feeds the
 * ATA core (plugins/devices/piix3ide/ide_ata.c) one command at a time.
 *
 * A command: the guest writes a command header in slot n of its command
 * list (PxCLB), a command table (the H2D register FIS, the ATAPI command,
 * the PRDT) and sets bit n of PxCI while PxCMD.ST is set. The port takes
 * the lowest issued slot, loads the FIS into the drive's taskfile and
 * executes it (ide_exec_command). From there the core's state says what
 * the port does next (ahci_port_kick): a PIO data block goes between the
 * channel's buffer and the PRDT at once (with a PIO setup FIS), the ATAPI
 * command goes in as the PACKET's 12 bytes, DMA goes through
 * ide_dma_kick / ide_dma_copy below, and an ended command posts its status
 * (a D2H register FIS in PxFB, PxTFD), clears its PxCI bit and raises
 * PxIS.DHRS. A failed command raises PxIS.TFES instead, keeps its PxCI bit
 * and halts the port until the guest clears PxCMD.ST (AHCI 1.3, 6.2.2).
 *
 * Native command queuing: READ/WRITE FPDMA QUEUED (count in FEATURES, FUA
 * in DEVICE bit 7) run as READ/WRITE DMA EXT, one at a time in slot
 * order, each ending with a set device bits FIS that clears its PxSACT
 * bit (tag = slot) and raises PxIS.SDBS. IDENTIFY DEVICE gains the SATA
 * words a disk behind this port has: NCQ with 32 tags, Gen1 and Gen2. A
 * queued command that fails halts the port like any other and leaves its
 * tag and taskfile in the NCQ command error log (READ LOG EXT page 10h,
 * ide_ata.c), which Linux reads to learn which command failed (without
 * it, its error handler resets the link); a device reset or COMRESET
 * clears it.
 *
 * The guest is not trusted: a command list, FIS area, command table or
 * data buffer outside RAM, a FIS of the wrong type or length, a PRDT too
 * short for the data, a command for a port without a drive - each ends
 * the command with an error status (ERR in PxTFD, PxIS.TFES), never more
 * work than the command's bytes and PRDTL entries. Clearing ST, a
 * COMRESET (PxSCTL.DET) or an HBA reset in the middle of a command cancels
 * its I/O (blk_cancel) and forgets it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahci.h"

/* ATA commands this port looks at (ATA8-ACS). */
#define ATA_IDENTIFY          0xec
#define ATA_READ_DMA_EXT      0x25
#define ATA_WRITE_DMA_EXT     0x35
#define ATA_WRITE_DMA_FUA_EXT 0x3d
#define ATA_READ_FPDMA        0x60
#define ATA_WRITE_FPDMA       0x61

static struct ahci_port *port_of(struct ide_channel *ch)
{
    return (struct ahci_port *)((char *)ch - offsetof(struct ahci_port, ch));
}

static struct ide_drive *drive(struct ahci_port *p)
{
    return &p->ch.drv[0];
}

static const struct pdm_hlp *hlp(struct ahci_port *p)
{
    return p->hba->dev->hlp;
}

static uint32_t le32(const uint8_t *b)
{
    return b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* ---- the ATA core's controller side ------------------------------------------ */

/* The core's interrupts need nothing here: every way into the core
 * (a command, a block completion) is followed by ahci_port_kick, which
 * reports what the command did. */
void ide_raise_irq(struct ide_channel *ch)
{
    ch->irq_pending = true;
}

static uint32_t signature(const struct ide_drive *d)
{
    if (!d->blk)
        return 0xffffffffu;
    return d->atapi ? 0xeb140101u : 0x00000101u;
}

void ide_set_signature(struct ide_drive *d)
{
    uint32_t sig = signature(d);
    struct ide_regs r = {.nsect = (uint8_t)sig,
                         .lbal = (uint8_t)(sig >> 8),
                         .lbam = (uint8_t)(sig >> 16),
                         .lbah = (uint8_t)(sig >> 24),
                         .feature = d->r.feature,
                         .status = d->r.status,
                         .error = d->r.error};
    d->r = r;
}

/* The next PRDT entry: 0, or -1 when the table ended or is outside RAM. */
static int prd_load(struct ahci_port *p)
{
    struct ahci_prdt *t = &p->prdt;
    uint8_t e[16];
    if (t->next >= t->entries)
        return -1;
    if (CAP_FAILED(hlp(p)->phys_read(p->hba->dev, t->table + 16ull * t->next, e, sizeof(e))))
        return -1;
    t->next++;
    t->addr = ((uint64_t)le32(e + 4) << 32 | le32(e)) & ~1ull;
    t->left = (le32(e + 12) & PRD_DBC) + 1;
    t->irq = le32(e + 12) & PRD_I;
    return 0;
}

static int prdt_move(struct ahci_port *p, uint8_t *buf, uint32_t n, bool to_guest)
{
    const struct pdm_hlp *h = hlp(p);
    struct ahci_prdt *t = &p->prdt;
    while (n) {
        if (!t->left && prd_load(p))
            return -1;
        uint32_t k = n < t->left ? n : t->left;
        cap_result rc = to_guest ? h->phys_write(p->hba->dev, t->addr, buf, k)
                                 : h->phys_read(p->hba->dev, t->addr, buf, k);
        if (CAP_FAILED(rc))
            return -1;
        t->addr += k;
        t->left -= k;
        t->moved += k;
        buf += k;
        n -= k;
        if (!t->left && t->irq)
            p->is |= PXIS_DPS;
    }
    return 0;
}

int ide_dma_copy(struct ide_channel *ch, uint8_t *buf, uint32_t n, bool to_guest)
{
    return prdt_move(port_of(ch), buf, n, to_guest);
}

void ide_dma_finish(struct ide_channel *ch, bool error)
{
    ch->dma = false;
    if (!error)
        ide_cmd_done(ch);
    else if (!ch->atapi_cmd)
        ide_cmd_error(ch, ATA_ER_ABRT);
    else
        atapi_error(ch, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
}

/* DMA needs no start bit here: the PRDT came with the command. */
void ide_dma_kick(struct ide_channel *ch)
{
    bool in = ch->xfer == XF_DMA_IN;
    if ((!in && ch->xfer != XF_DMA_OUT) || ch->req_busy)
        return;
    uint32_t n = in ? ch->buf_len : 0;
    ch->buf_len = 0;
    if (n && prdt_move(port_of(ch), ch->buf, n, true))
        ide_dma_finish(ch, true);
    else if (!ch->disk_left)
        ide_dma_finish(ch, false);
    else
        ide_dma_next_chunk(ch);
}

/* ---- FISes to the guest ------------------------------------------------------- */

static void taskfile_fis(const struct ide_drive *d, uint8_t *f)
{
    f[2] = d->r.status;
    f[3] = d->r.error;
    f[4] = d->r.lbal;
    f[5] = d->r.lbam;
    f[6] = d->r.lbah;
    f[7] = d->r.select;
    f[8] = d->r.hob_lbal;
    f[9] = d->r.hob_lbam;
    f[10] = d->r.hob_lbah;
    f[12] = d->r.nsect;
    f[13] = d->r.hob_nsect;
}

/* Writes a FIS into the received-FIS area (when FIS receive is on) and
 * raises `is_bit`. An area outside RAM loses the FIS, not the status. */
static void post_fis(struct ahci_port *p, unsigned off, const uint8_t *f, size_t len,
                     uint32_t is_bit)
{
    if (p->cmd & PXCMD_FRE)
        hlp(p)->phys_write(p->hba->dev, p->fb + off, f, len);
    p->is |= is_bit;
}

static void post_d2h(struct ahci_port *p, uint32_t is_bit)
{
    uint8_t f[20] = {FIS_D2H, 0x40};
    taskfile_fis(drive(p), f);
    post_fis(p, RFIS_RFIS, f, sizeof(f), is_bit);
}

/* The signature FIS a device sends after a reset, once FIS receive is on. */
static void post_signature(struct ahci_port *p)
{
    if (!drive(p)->blk || !(p->cmd & PXCMD_FRE)) {
        p->d2h_pending = drive(p)->blk != NULL;
        return;
    }
    p->d2h_pending = false;
    post_d2h(p, PXIS_DHRS);
}

/* ---- one command ------------------------------------------------------------- */

/* A queued command failed: the NCQ command error log (READ LOG EXT page
 * 10h, ide_ata.c) holds its tag and taskfile until the guest reads it. */
static void log_ncq_error(struct ahci_port *p)
{
    struct ide_drive *d = drive(p);
    const struct ide_regs *r = &d->r;
    uint8_t l[14] = {(uint8_t)(p->slot & 0x1f),
                     0,
                     r->status,
                     r->error,
                     r->lbal,
                     r->lbam,
                     r->lbah,
                     r->select,
                     r->hob_lbal,
                     r->hob_lbam,
                     r->hob_lbah,
                     0,
                     r->nsect,
                     r->hob_nsect};
    memcpy(d->ncq_log, l, sizeof(l));
    d->ncq_failed = true;
}

/* The command ended (the core's status says how): report it, free the slot. */
static void finish(struct ahci_port *p)
{
    struct ide_drive *d = drive(p);
    uint8_t dw1[4] = {(uint8_t)p->prdt.moved, (uint8_t)(p->prdt.moved >> 8),
                      (uint8_t)(p->prdt.moved >> 16), (uint8_t)(p->prdt.moved >> 24)};
    hlp(p)->phys_write(p->hba->dev, p->clb + 32ull * p->slot + 4, dw1, sizeof(dw1));
    bool failed = d->r.status & ATA_ST_ERR;
    if (p->ncq && !failed) {
        uint32_t tag = 1u << p->slot;
        uint8_t f[8] = {FIS_SDB,
                        0x40,
                        (uint8_t)(d->r.status & 0x77),
                        d->r.error,
                        (uint8_t)tag,
                        (uint8_t)(tag >> 8),
                        (uint8_t)(tag >> 16),
                        (uint8_t)(tag >> 24)};
        post_fis(p, RFIS_SDBFIS, f, sizeof(f), PXIS_SDBS);
    } else if (failed || !p->pio_in || p->ch.atapi_cmd) {
        /* ATA PIO data-in ends with its last PIO setup FIS; the rest with a D2H register FIS */
        post_d2h(p, failed ? PXIS_DHRS | PXIS_TFES : PXIS_DHRS);
    }
    if (failed && p->ncq)
        log_ncq_error(p);
    if (failed)
        p->halted = true;
    else
        p->ci &= ~(1u << p->slot);
    p->sact &= ~(1u << p->slot);
    p->slot = -1;
}

/* A command the port refuses before the device sees it. */
static void refuse(struct ahci_port *p)
{
    struct ide_drive *d = drive(p);
    d->r.status = (uint8_t)(d->r.status | ATA_ST_ERR);
    if (d->blk)
        d->r.status = ATA_ST_DRDY | ATA_ST_ERR;
    d->r.error = ATA_ER_ABRT;
    finish(p);
}

/* A control FIS (C clear): SRST set holds the device in reset, clearing it
 * resets the device (its signature comes back). */
static void control_fis(struct ahci_port *p, uint8_t control)
{
    struct ide_drive *d = drive(p);
    if (!(control & ATA_DC_SRST) && (p->ch.ctl & ATA_DC_SRST)) {
        d->r.status = d->atapi ? 0 : ATA_ST_DRDY | ATA_ST_DSC;
        d->r.error = 0x01;
        ide_set_signature(d);
        p->sig = signature(d);
        d->ncq_failed = false;
    }
    p->ch.ctl = control;
    finish(p);
}

/* Loads slot `slot` and starts it in the core. */
static void start(struct ahci_port *p, unsigned slot)
{
    const struct pdm_hlp *h = hlp(p);
    struct pdm_dev *dev = p->hba->dev;
    struct ide_drive *d = drive(p);
    uint8_t hdr[16], f[20];
    p->slot = (int)slot;
    p->pio_in = p->ncq = false;
    p->command = 0;
    p->prdt = (struct ahci_prdt){0};
    p->cmd = (p->cmd & ~(0x1fu << PXCMD_CCS_SHIFT)) | slot << PXCMD_CCS_SHIFT;
    if (CAP_FAILED(h->phys_read(dev, p->clb + 32ull * slot, hdr, sizeof(hdr)))) {
        refuse(p);
        return;
    }
    uint32_t dw0 = le32(hdr);
    uint64_t ctba = ((uint64_t)le32(hdr + 12) << 32 | le32(hdr + 8)) & ~0x7full;
    p->prdt.table = ctba + CT_PRDT;
    p->prdt.entries = CH_PRDTL(dw0);
    if (!d->blk || CH_CFL(dw0) < 5 || CH_CFL(dw0) > 16 ||
        CAP_FAILED(h->phys_read(dev, ctba, f, sizeof(f))) ||
        CAP_FAILED(h->phys_read(dev, ctba + CT_ACMD, p->acmd, sizeof(p->acmd))) ||
        f[0] != FIS_H2D || (d->r.status & ATA_ST_BSY)) {
        refuse(p);
        return;
    }
    if (!(f[1] & FIS_C)) {
        control_fis(p, f[15]);
        return;
    }
    struct ide_regs *r = &d->r;
    r->feature = f[3];
    r->lbal = f[4];
    r->lbam = f[5];
    r->lbah = f[6];
    r->select = f[7];
    r->hob_lbal = f[8];
    r->hob_lbam = f[9];
    r->hob_lbah = f[10];
    r->hob_feature = f[11];
    r->nsect = f[12];
    r->hob_nsect = f[13];
    p->ch.ctl = f[15];
    p->command = f[2];
    p->ncq = f[2] == ATA_READ_FPDMA || f[2] == ATA_WRITE_FPDMA;
    if (p->ncq) { /* the count is in FEATURES (COUNT holds the tag) */
        r->nsect = f[3];
        r->hob_nsect = f[11];
        ide_exec_command(&p->ch, f[2] == ATA_READ_FPDMA ? ATA_READ_DMA_EXT
                                 : (f[7] & 0x80)        ? ATA_WRITE_DMA_FUA_EXT
                                                        : ATA_WRITE_DMA_EXT);
        return;
    }
    ide_exec_command(&p->ch, f[2]);
}

/* The SATA words of a disk's IDENTIFY DEVICE data (ATA8-ACS words 75-76):
 * queue depth 32, NCQ, Gen1 and Gen2 signaling. */
static void sata_identify(uint8_t *id)
{
    id[150] = 31;
    id[151] = 0;
    id[152] = 0x06;
    id[153] = 0x01;
}

/* PIO: the current DRQ block between the channel's buffer and the PRDT,
 * then through the core's data port (which moves on to the next block,
 * chunk or the end). */
static void pio_block(struct ahci_port *p)
{
    struct ide_channel *ch = &p->ch;
    bool in = ch->xfer == XF_PIO_IN;
    uint32_t n = ch->drq_end - ch->buf_pos;
    if (p->command == ATA_IDENTIFY && !drive(p)->atapi && !ch->buf_pos && n >= 512)
        sata_identify(ch->buf);
    if (prdt_move(p, ch->buf + ch->buf_pos, n, in)) {
        ide_cmd_error(ch, ATA_ER_ABRT);
        return;
    }
    p->pio_in |= in;
    uint8_t f[20] = {FIS_PIOSETUP, (uint8_t)(0x40 | (in ? 0x20 : 0))};
    taskfile_fis(drive(p), f);
    /* the core moves on at the block's end (next block, chunk, or the end) */
    uint32_t end = ch->drq_end;
    enum ide_xfer xfer = ch->xfer;
    while (ch->xfer == xfer && ch->buf_pos < end && !ch->req_busy) {
        uint32_t pos = ch->buf_pos, v = 0;
        for (unsigned i = 0; i < 4 && pos + i < end; i++)
            v |= (uint32_t)ch->buf[pos + i] << (8 * i);
        if (in)
            ide_data_read(ch, 4);
        else
            ide_data_write(ch, 4, v); /* stores what is there */
    }
    f[15] = drive(p)->r.status; /* E_Status: after the block */
    f[16] = (uint8_t)n;
    f[17] = (uint8_t)(n >> 8);
    post_fis(p, RFIS_PSFIS, f, sizeof(f), PXIS_PSS);
}

/* The PACKET command waits for its 12 bytes: the command table's ACMD. */
static void packet(struct ahci_port *p)
{
    for (unsigned i = 0; i < 12 && p->ch.xfer == XF_PACKET; i += 4)
        ide_data_write(&p->ch, 4, le32(p->acmd + i));
}

/* One step of the running command; false when it waits (I/O) or there is
 * nothing to run. */
static bool step(struct ahci_port *p)
{
    struct ide_channel *ch = &p->ch;
    if (p->slot < 0) {
        if (!(p->cmd & PXCMD_ST) || p->halted || !p->ci || !ahci_may_dma(p->hba))
            return false;
        start(p, (unsigned)__builtin_ctz(p->ci));
        return true;
    }
    if (ch->req_busy)
        return false;
    switch (ch->xfer) {
    case XF_PIO_IN:
    case XF_PIO_OUT:
        if (ch->buf_pos < ch->drq_end) {
            pio_block(p);
            return true;
        }
        ide_cmd_error(ch, ATA_ER_ABRT); /* no data to move and no I/O: cannot go on */
        return true;
    case XF_PACKET:
        packet(p);
        return true;
    case XF_DMA_IN:
    case XF_DMA_OUT:
        ide_cmd_error(ch, ATA_ER_ABRT); /* DMA without I/O in flight: stuck */
        return true;
    default:
        finish(p);
        return true;
    }
}

/* Runs the port until its command waits for I/O or nothing is issued. Each
 * step moves at most a chunk of data or ends a command, and commands come
 * only from PxCI: bounded. */
void ahci_port_kick(struct ahci_port *p)
{
    if (p->running)
        return;
    p->running = true;
    while (step(p))
        ;
    p->running = false;
    ahci_update_irq(p->hba);
}

static void blk_complete(struct pdm_dev *dev, void *user, struct pdm_blk_req *req)
{
    struct ahci_port *p = user;
    ide_blk_complete(dev, &p->ch, req);
    ahci_port_kick(p);
}

static void medium_changed(struct pdm_dev *dev, void *user, bool present)
{
    struct ahci_port *p = user;
    if (drive(p)->atapi)
        atapi_medium_changed(drive(p), present);
}

static const struct pdm_blk_port ahci_blk_port = {
    .complete = blk_complete,
    .medium_changed = medium_changed,
};

/* ---- resets ------------------------------------------------------------------- */

/* Drops the running command (its I/O cancelled) and the issued ones. */
static void stop(struct ahci_port *p)
{
    struct ide_drive *d = drive(p);
    if (p->slot >= 0 && p->ch.active) {
        ide_abort_transfer(&p->ch);
        p->ch.dma = false;
        d->r.status = ATA_ST_DRDY | ATA_ST_ERR;
        d->r.error = ATA_ER_ABRT;
    }
    p->slot = -1;
    p->ci = p->sact = 0;
    p->halted = false;
}

/* COMRESET: the device starts over and sends its signature. */
static void device_reset(struct ahci_port *p, bool power_on)
{
    struct ide_drive *d = drive(p);
    stop(p);
    ide_abort_transfer(&p->ch);
    p->ch.active = NULL;
    p->ch.ctl = 0;
    d->r.feature = 0;
    d->r.error = 0x01;
    d->r.status = !d->blk ? 0x7f : d->atapi ? 0 : ATA_ST_DRDY | ATA_ST_DSC;
    ide_set_signature(d);
    p->sig = signature(d);
    d->ncq_failed = false;
    if (power_on) {
        d->multiple = 0;
        d->wcache_off = false;
        d->lheads = d->heads;
        d->lspt = d->spt;
        d->sense_key = d->asc = d->ascq = 0;
        if (d->blk && d->atapi)
            hlp(p)->blk_set_locked(d->blk, false);
    }
    post_signature(p);
}

void ahci_port_reset(struct ahci_port *p, bool power_on)
{
    if (power_on)
        p->clb = p->fb = 0;
    p->is = p->ie = p->sctl = p->serr = 0;
    p->cmd = PXCMD_SUD | PXCMD_POD;
    device_reset(p, power_on);
}

/* ---- registers ---------------------------------------------------------------- */

static uint32_t ssts(struct ahci_port *p)
{
    return drive(p)->blk && !(p->sctl & SCTL_DET) ? SSTS_UP : 0;
}

uint32_t ahci_port_read(struct ahci_port *p, unsigned reg)
{
    struct ide_drive *d = drive(p);
    switch (reg) {
    case PX_CLB:
        return (uint32_t)p->clb;
    case PX_CLBU:
        return (uint32_t)(p->clb >> 32);
    case PX_FB:
        return (uint32_t)p->fb;
    case PX_FBU:
        return (uint32_t)(p->fb >> 32);
    case PX_IS:
        return p->is;
    case PX_IE:
        return p->ie;
    case PX_CMD:
        return p->cmd;
    case PX_TFD:
        return (uint32_t)d->r.error << 8 | d->r.status;
    case PX_SIG:
        return p->sig;
    case PX_SSTS:
        return ssts(p);
    case PX_SCTL:
        return p->sctl;
    case PX_SERR:
        return p->serr;
    case PX_SACT:
        return p->sact;
    case PX_CI:
        return p->ci;
    default:
        return 0;
    }
}

static void cmd_write(struct ahci_port *p, uint32_t val)
{
    uint32_t old = p->cmd;
    p->cmd = (old & ~(PXCMD_ST | PXCMD_FRE | PXCMD_ATAPI)) |
             (val & (PXCMD_ST | PXCMD_FRE | PXCMD_ATAPI));
    if ((val & PXCMD_CLO) && drive(p)->blk)
        drive(p)->r.status &= (uint8_t) ~(ATA_ST_BSY | ATA_ST_DRQ);
    if ((old & PXCMD_FRE) != (p->cmd & PXCMD_FRE)) {
        p->cmd ^= PXCMD_FR;
        if ((p->cmd & PXCMD_FRE) && p->d2h_pending)
            post_signature(p);
    }
    if ((old & PXCMD_ST) && !(p->cmd & PXCMD_ST)) {
        stop(p);
        p->cmd &= ~(PXCMD_CR | (0x1fu << PXCMD_CCS_SHIFT));
    } else if (!(old & PXCMD_ST) && (p->cmd & PXCMD_ST)) {
        p->cmd |= PXCMD_CR;
    }
}

static void sctl_write(struct ahci_port *p, uint32_t val)
{
    bool was_reset = p->sctl & SCTL_DET;
    p->sctl = val & 0xfff;
    if (p->sctl & SCTL_DET)
        stop(p); /* the link is down while DET is 1 (or the phy off) */
    else if (was_reset)
        device_reset(p, false);
}

void ahci_port_write(struct ahci_port *p, unsigned reg, uint32_t val)
{
    switch (reg) {
    case PX_CLB:
        p->clb = (p->clb & ~0xffffffffull) | (val & ~0x3ffu);
        break;
    case PX_CLBU:
        p->clb = (p->clb & 0xffffffffull) | (uint64_t)val << 32;
        break;
    case PX_FB:
        p->fb = (p->fb & ~0xffffffffull) | (val & ~0xffu);
        break;
    case PX_FBU:
        p->fb = (p->fb & 0xffffffffull) | (uint64_t)val << 32;
        break;
    case PX_IS:
        p->is &= ~val;
        break;
    case PX_IE:
        p->ie = val & PXIS_MASK;
        break;
    case PX_CMD:
        cmd_write(p, val);
        break;
    case PX_SCTL:
        sctl_write(p, val);
        break;
    case PX_SERR:
        p->serr &= ~val;
        break;
    case PX_SACT:
        if (p->cmd & PXCMD_ST)
            p->sact |= val;
        break;
    case PX_CI:
        if (p->cmd & PXCMD_ST)
            p->ci |= val;
        break;
    default:
        break;
    }
    ahci_port_kick(p);
}

/* ---- construction ------------------------------------------------------------- */

cap_result ahci_port_init(struct ahci *s, unsigned idx)
{
    struct pdm_dev *dev = s->dev;
    struct ahci_port *p = &s->port[idx];
    struct ide_drive *d = &p->ch.drv[0];
    p->hba = s;
    p->idx = idx;
    p->slot = -1;
    p->ch.dev = dev;
    p->ch.idx = idx;
    for (unsigned u = 0; u < 2; u++) {
        p->ch.drv[u].ch = &p->ch;
        p->ch.drv[u].unit = u;
    }
    snprintf(d->serial, sizeof(d->serial), "CAPSULE-SATA-%02u-%02x", idx, dev->instance & 0xff);
    struct pdm_blk_info info;
    cap_result rc = ide_drive_attach(dev, d, idx, &ahci_blk_port, p, &info);
    if (rc != CAP_OK)
        return CAP_FAILED(rc) ? rc : CAP_OK;
    d->ncq = !d->atapi;               /* READ LOG EXT lists the NCQ command error log */
    p->ch.buf = malloc(IDE_BUF_SIZE); /* only a drive runs commands through the core */
    if (!p->ch.buf)
        return dev->hlp->error(dev, CAP_E_OUTOFMEMORY, "out of memory");
    dev->hlp->log(dev, PDM_LOG_INFO, "port %u: %s%s", idx, d->atapi ? "DVD drive" : "hard disk",
                  d->atapi ? (info.present ? " with a medium" : ", empty") : "");
    return CAP_OK;
}

void ahci_port_free(struct ahci_port *p)
{
    free(p->ch.buf);
    p->ch.buf = NULL;
}
