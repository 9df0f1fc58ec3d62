/*
 * plugins/devices/piix3ide/ide_ata.c - the ATA command set (ATA8-ACS) of a
 * hard disk, and the data pipeline every command of a channel uses.
 *
 * The pipeline: a command that moves sectors sets BSY and asks the drive's
 * I/O thread for one chunk (IDE_BUF_SIZE) at a time; when the chunk is
 * read, PIO hands it to the guest in DRQ blocks (one sector, or the SET
 * MULTIPLE count; an interrupt per block) and DMA copies it through the
 * PRD table (ide_dma.c). Writes run the other way: the guest fills the
 * buffer by DRQ blocks (or DMA gathers it), then the chunk goes to the
 * I/O thread. ATAPI replies (ide_atapi.c) use the same read path with the
 * reply already in the buffer.
 */
#include "ide.h"

/* ---- ending a command ---------------------------------------------------- */

void ide_abort_transfer(struct ide_channel *ch)
{
    if (ch->req_busy && ch->active && ch->active->blk)
        ch->dev->hlp->blk_cancel(ch->active->blk);
    ch->req_busy = false;
    ch->xfer = XF_NONE;
    ch->dma_wait = false;
    ch->buf_len = ch->buf_pos = ch->drq_end = 0;
    ch->disk_left = 0;
}

static void end_dma(struct ide_channel *ch)
{
    if (ch->dma)
        ch->bm_status &= (uint8_t)~BM_ST_ACTIVE;
    ch->dma = false;
}

void ide_cmd_error(struct ide_channel *ch, uint8_t error)
{
    struct ide_drive *d = ch->active;
    ide_abort_transfer(ch);
    end_dma(ch);
    d->r.error = error;
    d->r.status = ATA_ST_DRDY | ATA_ST_ERR;
    if (ch->atapi_cmd)
        d->r.nsect = ATAPI_IR_IO | ATAPI_IR_COD;
    ide_raise_irq(ch);
}

void ide_cmd_done(struct ide_channel *ch)
{
    struct ide_drive *d = ch->active;
    ch->xfer = XF_NONE;
    d->r.status = ATA_ST_DRDY | ATA_ST_DSC;
    if (ch->atapi_cmd) {
        d->r.status = ATA_ST_DRDY;
        d->r.nsect = ATAPI_IR_IO | ATAPI_IR_COD;
    }
    ide_raise_irq(ch);
}

/* A block-layer failure, as the command's protocol reports it. */
static void fail_rc(struct ide_channel *ch, cap_result rc)
{
    if (ch->atapi_cmd) {
        if (rc == CAP_E_ABORT)
            atapi_error(ch, SENSE_NOT_READY, ASC_NO_MEDIUM);
        else if (rc == CAP_E_ACCESSDENIED)
            atapi_error(ch, SENSE_DATA_PROTECT, ASC_WRITE_PROTECTED);
        else if (rc == CAP_E_INVALIDARG)
            atapi_error(ch, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
        else
            atapi_error(ch, SENSE_MEDIUM_ERROR, ASC_READ_ERROR);
        return;
    }
    if (rc == CAP_E_INVALIDARG)
        ide_cmd_error(ch, ATA_ER_IDNF | ATA_ER_ABRT);
    else if (rc == CAP_E_IO)
        ide_cmd_error(ch, ATA_ER_UNC | ATA_ER_ABRT);
    else
        ide_cmd_error(ch, ATA_ER_ABRT);
}

/* ---- the pipeline ------------------------------------------------------------ */

static void submit(struct ide_channel *ch, enum pdm_blk_op op, uint64_t off, uint32_t len)
{
    struct ide_drive *d = ch->active;
    ch->req = (struct pdm_blk_req){.op = op, .offset = off, .buf = ch->buf, .len = len, .user = ch};
    if (op == PDM_BLK_WRITE && (ch->fua || d->wcache_off))
        ch->req.flags = PDM_BLK_F_FUA;
    cap_result rc = ch->dev->hlp->blk_submit(d->blk, &ch->req);
    if (CAP_FAILED(rc)) {
        fail_rc(ch, rc);
        return;
    }
    ch->req_busy = true;
    d->r.status = ATA_ST_BSY | ATA_ST_DRDY;
}

static uint32_t chunk(const struct ide_channel *ch)
{
    return ch->disk_left < IDE_BUF_SIZE ? (uint32_t)ch->disk_left : IDE_BUF_SIZE;
}

/* PIO in: the next DRQ block from the buffer, the next chunk, or the end. */
static void pio_in_next(struct ide_channel *ch)
{
    struct ide_drive *d = ch->active;
    if (ch->buf_pos >= ch->buf_len) {
        if (ch->disk_left) {
            submit(ch, PDM_BLK_READ, ch->disk_off, chunk(ch));
        } else if (ch->atapi_cmd) {
            ide_cmd_done(ch);
        } else { /* ATA: the last block's interrupt was the last one */
            ch->xfer = XF_NONE;
            d->r.status = ATA_ST_DRDY | ATA_ST_DSC;
        }
        return;
    }
    uint32_t n = ch->buf_len - ch->buf_pos;
    if (n > ch->block_bytes)
        n = ch->block_bytes;
    ch->drq_end = ch->buf_pos + n;
    d->r.status = ATA_ST_DRDY | ATA_ST_DSC | ATA_ST_DRQ;
    if (ch->atapi_cmd) {
        d->r.status = ATA_ST_DRDY | ATA_ST_DRQ;
        d->r.lbam = (uint8_t)n;
        d->r.lbah = (uint8_t)(n >> 8);
        d->r.nsect = ATAPI_IR_IO;
    }
    ide_raise_irq(ch);
}

/* PIO out: room for the next chunk, or the end. */
static void pio_out_next(struct ide_channel *ch, bool irq)
{
    struct ide_drive *d = ch->active;
    if (!ch->disk_left) {
        ide_cmd_done(ch);
        return;
    }
    ch->buf_pos = 0;
    ch->buf_len = chunk(ch);
    ch->drq_end = ch->block_bytes < ch->buf_len ? ch->block_bytes : ch->buf_len;
    d->r.status = ATA_ST_DRDY | ATA_ST_DSC | ATA_ST_DRQ;
    if (irq)
        ide_raise_irq(ch);
}

void ide_start_read(struct ide_channel *ch, uint64_t off, uint64_t bytes)
{
    ch->disk_off = off;
    ch->disk_left = bytes;
    ch->buf_len = ch->buf_pos = 0;
    ch->xfer = ch->dma ? XF_DMA_IN : XF_PIO_IN;
    if (!bytes)
        ide_cmd_done(ch);
    else if (ch->dma)
        ide_dma_kick(ch);
    else
        submit(ch, PDM_BLK_READ, off, chunk(ch));
}

static void start_write(struct ide_channel *ch, uint64_t off, uint64_t bytes)
{
    ch->disk_off = off;
    ch->disk_left = bytes;
    ch->xfer = ch->dma ? XF_DMA_OUT : XF_PIO_OUT;
    if (ch->dma) {
        ch->active->r.status = ATA_ST_BSY | ATA_ST_DRDY;
        ide_dma_kick(ch);
    } else {
        pio_out_next(ch, false);
    }
}

void ide_start_reply(struct ide_channel *ch)
{
    ch->disk_left = 0;
    ch->buf_pos = 0;
    ch->xfer = ch->dma ? XF_DMA_IN : XF_PIO_IN;
    if (!ch->buf_len)
        ide_cmd_done(ch);
    else if (ch->dma)
        ide_dma_kick(ch);
    else
        pio_in_next(ch);
}

/* The DMA side asks for the next chunk (ide_dma.c calls through here). */
void ide_dma_next_chunk(struct ide_channel *ch)
{
    uint32_t n = chunk(ch);
    if (ch->xfer == XF_DMA_IN) {
        submit(ch, PDM_BLK_READ, ch->disk_off, n);
        return;
    }
    if (ide_dma_copy(ch, ch->buf, n, false)) {
        ide_dma_finish(ch, true);
        return;
    }
    submit(ch, PDM_BLK_WRITE, ch->disk_off, n);
}

void ide_blk_complete(struct pdm_dev *dev, void *user, struct pdm_blk_req *req)
{
    struct ide_channel *ch = req->user;
    if (!ch->req_busy || req != &ch->req)
        return;
    ch->req_busy = false;
    if (CAP_FAILED(req->status)) {
        if (ch->atapi_cmd && req->status == CAP_E_ABORT)
            atapi_error(ch, SENSE_UNIT_ATTENTION, ASC_MEDIUM_CHANGED);
        else
            fail_rc(ch, req->status);
        return;
    }
    if (req->op == PDM_BLK_FLUSH) {
        ide_cmd_done(ch);
        return;
    }
    ch->disk_off += req->len;
    ch->disk_left -= req->len;
    if (req->op == PDM_BLK_READ) {
        ch->buf_len = (uint32_t)req->len;
        ch->buf_pos = 0;
        if (ch->xfer == XF_DMA_IN)
            ide_dma_kick(ch);
        else
            pio_in_next(ch);
    } else if (ch->xfer == XF_DMA_OUT) {
        ide_dma_kick(ch);
    } else {
        pio_out_next(ch, true);
    }
}

/* ---- the data port ----------------------------------------------------------- */

uint32_t ide_data_read(struct ide_channel *ch, unsigned size)
{
    if (ch->xfer != XF_PIO_IN || ch->buf_pos >= ch->drq_end)
        return size == 4 ? 0xffffffffu : 0xffffu;
    uint32_t v = 0;
    for (unsigned i = 0; i < size && ch->buf_pos < ch->drq_end; i++)
        v |= (uint32_t)ch->buf[ch->buf_pos++] << (8 * i);
    if (ch->buf_pos >= ch->drq_end)
        pio_in_next(ch);
    return v;
}

void ide_data_write(struct ide_channel *ch, unsigned size, uint32_t val)
{
    if ((ch->xfer != XF_PIO_OUT && ch->xfer != XF_PACKET) || ch->buf_pos >= ch->drq_end)
        return;
    for (unsigned i = 0; i < size && ch->buf_pos < ch->drq_end; i++)
        ch->buf[ch->buf_pos++] = (uint8_t)(val >> (8 * i));
    if (ch->buf_pos < ch->drq_end)
        return;
    if (ch->xfer == XF_PACKET) {
        ch->xfer = XF_NONE;
        atapi_packet(ch);
    } else if (ch->buf_pos < ch->buf_len) {
        uint32_t n = ch->buf_len - ch->buf_pos;
        ch->drq_end = ch->buf_pos + (n < ch->block_bytes ? n : ch->block_bytes);
        ide_raise_irq(ch); /* the block is taken; DRQ stays for the next */
    } else {
        submit(ch, PDM_BLK_WRITE, ch->disk_off, ch->buf_len);
    }
}

/* ---- IDENTIFY DEVICE ------------------------------------------------------- */

/* ATA strings: two characters per word, the first in the high byte,
 * padded with spaces. */
void ide_put_string(uint16_t *w, unsigned first, unsigned nwords, const char *s)
{
    size_t len = strlen(s);
    for (unsigned i = 0; i < nwords * 2; i++) {
        uint8_t c = i < len ? (uint8_t)s[i] : ' ';
        unsigned k = first + i / 2;
        w[k] = (uint16_t)((i & 1) ? (w[k] & 0xff00) | c : (w[k] & 0x00ff) | (c << 8));
    }
}

static void ata_identify(struct ide_drive *d, uint16_t *w)
{
    memset(w, 0, 512);
    uint64_t lba28 = d->sectors < 0x0fffffff ? d->sectors : 0x0fffffff;
    uint32_t chs = (uint32_t)d->lheads * d->lspt * d->cyls;
    w[0] = 0x0040; /* fixed, not removable */
    w[1] = d->cyls;
    w[3] = d->heads;
    w[6] = d->spt;
    ide_put_string(w, 10, 10, d->serial);
    ide_put_string(w, 23, 4, "1.0");
    ide_put_string(w, 27, 20, "CAPSULE HARDDISK");
    w[47] = 0x8000 | IDE_MAX_MULTIPLE;
    w[49] = 0x0300; /* LBA, DMA */
    w[50] = 0x4000;
    w[51] = 0x0200;
    w[53] = 0x0007; /* words 54-58, 64-70, 88 valid */
    w[54] = d->cyls;
    w[55] = d->lheads;
    w[56] = d->lspt;
    w[57] = (uint16_t)chs;
    w[58] = (uint16_t)(chs >> 16);
    w[59] = d->multiple ? (uint16_t)(0x100 | d->multiple) : 0;
    w[60] = (uint16_t)lba28;
    w[61] = (uint16_t)(lba28 >> 16);
    w[63] = 0x0407; /* multiword DMA 0-2, mode 2 selected */
    w[64] = 0x0003; /* PIO 3-4 */
    w[65] = w[66] = w[67] = w[68] = 120;
    w[80] = 0x00f0; /* ATA/ATAPI-4 to -7 */
    w[82] = 0x4020; /* write cache */
    w[83] = 0x7400; /* LBA48, FLUSH CACHE, FLUSH CACHE EXT */
    w[84] = 0x4020; /* General Purpose Logging (READ LOG EXT) */
    w[85] = d->wcache_off ? 0x4000 : 0x4020;
    w[86] = 0x3400;
    w[87] = 0x4020;
    w[88] = 0x203f; /* UDMA 0-5, mode 5 selected */
    w[93] = 0x6001; /* reset result: device 0 passed, 80-wire cable */
    w[100] = (uint16_t)d->sectors;
    w[101] = (uint16_t)(d->sectors >> 16);
    w[102] = (uint16_t)(d->sectors >> 32);
    w[103] = (uint16_t)(d->sectors >> 48);
}

static void identify(struct ide_channel *ch, bool packet)
{
    struct ide_drive *d = ch->active;
    memset(ch->buf, 0, 512);
    if (packet)
        atapi_identify(d, (uint16_t *)ch->buf);
    else
        ata_identify(d, (uint16_t *)ch->buf);
    ch->buf_len = 512;
    ch->block_bytes = 512;
    ch->dma = false;
    ide_start_reply(ch);
}

/* ---- sector commands ------------------------------------------------------- */

/* The first sector of the command (LBA28, LBA48 or CHS) or UINT64_MAX for
 * a CHS address outside the current geometry. */
static uint64_t cmd_lba(const struct ide_drive *d, bool lba48)
{
    const struct ide_regs *r = &d->r;
    if (lba48)
        return (uint64_t)r->lbal | (uint64_t)r->lbam << 8 | (uint64_t)r->lbah << 16 |
               (uint64_t)r->hob_lbal << 24 | (uint64_t)r->hob_lbam << 32 |
               (uint64_t)r->hob_lbah << 40;
    if (r->select & ATA_DH_LBA)
        return (uint64_t)r->lbal | (uint64_t)r->lbam << 8 | (uint64_t)r->lbah << 16 |
               (uint64_t)(r->select & 0xf) << 24;
    unsigned cyl = r->lbam | r->lbah << 8, head = r->select & 0xf, sect = r->lbal;
    if (!sect || head >= d->lheads || sect > d->lspt)
        return UINT64_MAX;
    return ((uint64_t)cyl * d->lheads + head) * d->lspt + sect - 1;
}

static uint32_t cmd_count(const struct ide_drive *d, bool lba48)
{
    if (lba48) {
        uint32_t n = d->r.nsect | (uint32_t)d->r.hob_nsect << 8;
        return n ? n : 65536;
    }
    return d->r.nsect ? d->r.nsect : 256;
}

enum { RW_READ = 0, RW_WRITE = 1 };

static void rw_sectors(struct ide_channel *ch, int write, bool lba48, unsigned per_block, bool dma)
{
    struct ide_drive *d = ch->active;
    uint64_t lba = cmd_lba(d, lba48);
    uint32_t n = cmd_count(d, lba48);
    if (!per_block) { /* READ/WRITE MULTIPLE without SET MULTIPLE MODE */
        ide_cmd_error(ch, ATA_ER_ABRT);
        return;
    }
    if (lba == UINT64_MAX || lba > d->sectors || n > d->sectors - lba) {
        ide_cmd_error(ch, ATA_ER_IDNF | ATA_ER_ABRT);
        return;
    }
    ch->dma = dma;
    ch->block_bytes = per_block * 512;
    if (write)
        start_write(ch, lba * 512, (uint64_t)n * 512);
    else
        ide_start_read(ch, lba * 512, (uint64_t)n * 512);
}

static bool power_of_two(unsigned v)
{
    return v && !(v & (v - 1));
}

static void set_features(struct ide_channel *ch)
{
    switch (ch->active->r.feature) {
    case 0x02: /* write cache on */
        ch->active->wcache_off = false;
        break;
    case 0x82: /* write cache off: from now on every write is durable */
        ch->active->wcache_off = true;
        break;
    case 0x03: /* transfer mode */
    case 0x05:
    case 0x85: /* APM */
    case 0x55:
    case 0xaa: /* read look-ahead */
    case 0x66:
    case 0xcc: /* power-on defaults */
        break;
    default:
        ide_cmd_error(ch, ATA_ER_ABRT);
        return;
    }
    ide_cmd_done(ch);
}

static void native_max(struct ide_channel *ch, bool lba48)
{
    struct ide_drive *d = ch->active;
    uint64_t max = d->sectors ? d->sectors - 1 : 0;
    if (!lba48 && max > 0x0fffffff)
        max = 0x0fffffff;
    d->r.lbal = (uint8_t)max;
    d->r.lbam = (uint8_t)(max >> 8);
    d->r.lbah = (uint8_t)(max >> 16);
    if (lba48) {
        d->r.hob_lbal = (uint8_t)(max >> 24);
        d->r.hob_lbam = (uint8_t)(max >> 32);
        d->r.hob_lbah = (uint8_t)(max >> 40);
    } else {
        d->r.select = (uint8_t)((d->r.select & 0xf0) | ((max >> 24) & 0xf));
    }
    ide_cmd_done(ch);
}

/* READ LOG EXT (PIO data-in, ATA8-ACS 7.24; SATA 3.x 13.7.4): the log in
 * LBA low, its first page in LBA mid (and the previous mid), the page count
 * in COUNT. Two logs, one page each: the directory (00h: version 1, and one
 * page of log 10h on a drive that queues) and the NCQ command error log
 * (10h: the failed queued command, or NQ set when none; reading it clears
 * the error; byte 511 makes the page's bytes sum to 0). Anything else:
 * ABRT. */
static void read_log(struct ide_channel *ch)
{
    struct ide_drive *d = ch->active;
    unsigned log = d->r.lbal, page = d->r.lbam | (unsigned)d->r.hob_lbam << 8;
    unsigned count = d->r.nsect | (unsigned)d->r.hob_nsect << 8;
    if (count != 1 || page != 0 || (log != 0x00 && (log != 0x10 || !d->ncq))) {
        ide_cmd_error(ch, ATA_ER_ABRT);
        return;
    }
    uint8_t *b = ch->buf;
    memset(b, 0, 512);
    if (log == 0x00) {
        b[0] = 0x01;
        b[2 * 0x10] = d->ncq ? 1 : 0;
    } else {
        if (d->ncq_failed)
            memcpy(b, d->ncq_log, sizeof(d->ncq_log));
        else
            b[0] = 0x80; /* NQ: no queued command failed */
        d->ncq_failed = false;
        uint8_t sum = 0;
        for (unsigned i = 0; i < 511; i++)
            sum = (uint8_t)(sum + b[i]);
        b[511] = (uint8_t)-sum;
    }
    ch->buf_len = 512;
    ch->block_bytes = 512;
    ch->dma = false;
    ide_start_reply(ch);
}

static void ata_command(struct ide_channel *ch, uint8_t cmd)
{
    struct ide_drive *d = ch->active;
    unsigned mult = d->multiple;
    switch (cmd) {
    case 0xec:
        identify(ch, false);
        break;
    case 0x20:
    case 0x21:
        rw_sectors(ch, RW_READ, false, 1, false);
        break;
    case 0x24:
        rw_sectors(ch, RW_READ, true, 1, false);
        break;
    case 0x30:
    case 0x31:
        rw_sectors(ch, RW_WRITE, false, 1, false);
        break;
    case 0x34:
        rw_sectors(ch, RW_WRITE, true, 1, false);
        break;
    case 0xc4:
        rw_sectors(ch, RW_READ, false, mult, false);
        break;
    case 0x29:
        rw_sectors(ch, RW_READ, true, mult, false);
        break;
    case 0xc5:
        rw_sectors(ch, RW_WRITE, false, mult, false);
        break;
    case 0x39:
        rw_sectors(ch, RW_WRITE, true, mult, false);
        break;
    case 0xce:
        ch->fua = true;
        rw_sectors(ch, RW_WRITE, true, mult, false);
        break;
    case 0xc8:
    case 0xc9:
        rw_sectors(ch, RW_READ, false, 1, true);
        break;
    case 0x25:
        rw_sectors(ch, RW_READ, true, 1, true);
        break;
    case 0xca:
    case 0xcb:
        rw_sectors(ch, RW_WRITE, false, 1, true);
        break;
    case 0x35:
        rw_sectors(ch, RW_WRITE, true, 1, true);
        break;
    case 0x3d:
        ch->fua = true;
        rw_sectors(ch, RW_WRITE, true, 1, true);
        break;
    case 0xe7:
    case 0xea:
        submit(ch, PDM_BLK_FLUSH, 0, 0);
        break;
    case 0xef:
        set_features(ch);
        break;
    case 0x2f:
        read_log(ch);
        break;
    case 0x91: /* INITIALIZE DEVICE PARAMETERS */
        if (!d->r.nsect) {
            ide_cmd_error(ch, ATA_ER_ABRT);
            break;
        }
        d->lspt = d->r.nsect;
        d->lheads = (uint16_t)((d->r.select & 0xf) + 1);
        ide_cmd_done(ch);
        break;
    case 0xc6: /* SET MULTIPLE MODE */
        if (d->r.nsect > IDE_MAX_MULTIPLE || (d->r.nsect && !power_of_two(d->r.nsect))) {
            ide_cmd_error(ch, ATA_ER_ABRT);
            break;
        }
        d->multiple = d->r.nsect;
        ide_cmd_done(ch);
        break;
    case 0x40:
    case 0x41:
    case 0x42: { /* READ VERIFY SECTORS (EXT) */
        bool lba48 = cmd == 0x42;
        uint64_t lba = cmd_lba(d, lba48);
        if (lba == UINT64_MAX || lba > d->sectors || cmd_count(d, lba48) > d->sectors - lba)
            ide_cmd_error(ch, ATA_ER_IDNF | ATA_ER_ABRT);
        else
            ide_cmd_done(ch);
        break;
    }
    case 0xf8:
        native_max(ch, false);
        break;
    case 0x27:
        native_max(ch, true);
        break;
    case 0xe5:
    case 0x98: /* CHECK POWER MODE: active */
        d->r.nsect = 0xff;
        ide_cmd_done(ch);
        break;
    case 0x70: /* SEEK */
    case 0xe0:
    case 0xe1: /* STANDBY / IDLE IMMEDIATE */
    case 0xe2:
    case 0xe3: /* STANDBY / IDLE */
    case 0xe6: /* SLEEP */
    case 0x94:
    case 0x95:
    case 0x96:
    case 0x97:
        ide_cmd_done(ch);
        break;
    default:
        if (cmd >= 0x10 && cmd <= 0x1f) { /* RECALIBRATE */
            ide_cmd_done(ch);
            break;
        }
        ide_cmd_error(ch, ATA_ER_ABRT);
        break;
    }
}

static void atapi_command(struct ide_channel *ch, uint8_t cmd)
{
    struct ide_drive *d = ch->active;
    switch (cmd) {
    case 0xa1:
        identify(ch, true);
        break;
    case 0xa0: /* PACKET: the command packet comes through the data port */
        ch->atapi_cmd = true;
        ch->dma = d->r.feature & 1;
        ch->buf_pos = 0;
        ch->buf_len = ch->drq_end = 12;
        ch->xfer = XF_PACKET;
        d->r.nsect = ATAPI_IR_COD;
        d->r.status = ATA_ST_DRDY | ATA_ST_DRQ;
        break;
    case 0x08: /* DEVICE RESET */
        ide_set_signature(d);
        d->r.status = 0;
        d->r.error = 0x01;
        break;
    case 0xef:
    case 0xe0:
    case 0xe1:
    case 0xe2:
    case 0xe3:
    case 0xe5:
    case 0xe6:
        ide_cmd_done(ch);
        break;
    default: /* IDENTIFY DEVICE included: the signature says "ATAPI" */
        ide_set_signature(d);
        ide_cmd_error(ch, ATA_ER_ABRT);
        break;
    }
}

static void diagnostic(struct ide_channel *ch)
{
    for (unsigned u = 0; u < 2; u++) {
        struct ide_drive *d = &ch->drv[u];
        ide_set_signature(d);
        d->r.error = 0x01;
        d->r.status = d->blk && !d->atapi ? ATA_ST_DRDY | ATA_ST_DSC : 0;
    }
    ch->active = &ch->drv[ch->cur];
    ide_raise_irq(ch);
}

void ide_exec_command(struct ide_channel *ch, uint8_t cmd)
{
    struct ide_drive *d = &ch->drv[ch->cur];
    if (!d->blk && cmd != 0x90)
        return; /* no device answers */
    if ((d->r.status & ATA_ST_BSY) && !(d->atapi && cmd == 0x08))
        return; /* a busy device ignores commands */
    ide_abort_transfer(ch);
    end_dma(ch);
    ch->active = d;
    ch->atapi_cmd = false;
    ch->fua = false;
    d->r.error = 0;
    if (cmd == 0x90)
        diagnostic(ch);
    else if (d->atapi)
        atapi_command(ch, cmd);
    else
        ata_command(ch, cmd);
}

/* ---- attaching a drive ------------------------------------------------------- */

cap_result ide_drive_attach(struct pdm_dev *dev, struct ide_drive *d, unsigned lun,
                            const struct pdm_blk_port *port, void *user, struct pdm_blk_info *info)
{
    cap_result rc = dev->hlp->blk_attach(dev, lun, port, user, &d->blk);
    if (rc != CAP_OK)
        return rc;
    dev->hlp->blk_info(d->blk, info);
    d->atapi = info->kind == PDM_BLK_CDROM;
    d->sectors = info->size / 512;
    if (!d->atapi) { /* 16 heads, 63 sectors per track, at most 16383 cylinders: what BIOSes expect
                      */
        uint64_t cyls = d->sectors / (16 * 63);
        d->heads = d->lheads = 16;
        d->spt = d->lspt = 63;
        d->cyls = (uint16_t)(cyls > 16383 ? 16383 : cyls ? cyls : 1);
    }
    return CAP_OK;
}
