/*
 * plugins/devices/piix3ide/ide_dma.c - bus-master IDE (SFF-8038i): the
 * command, status and PRD-table registers of each channel, and the copy
 * between the channel's buffer and guest memory through the PRD table.
 *
 * A PRD entry is 8 bytes: a physical address (bit 0 ignored) and a byte
 * count (bits 15:1; 0 means 64 KiB) with end-of-table in bit 31. The
 * guest is not trusted: the walk reads at most IDE_MAX_PRDS entries per
 * command (a table fits in 64 KiB) and copies at most the command's bytes,
 * so any table ends in bounded work; an entry outside RAM, or a table
 * that ends before the data, fails the command (bus-master ERROR and
 * INTR, ATA ERR) instead of touching anything else.
 */
#include "ide.h"

static int prd_next(struct ide_channel *ch)
{
    struct ide_prd *p = &ch->prd;
    uint8_t e[8];
    if (p->eot || p->entries >= IDE_MAX_PRDS)
        return -1;
    if (CAP_FAILED(ch->dev->hlp->phys_read(ch->dev, p->table, e, sizeof(e))))
        return -1;
    p->entries++;
    p->table += 8;
    uint32_t addr = e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16 | (uint32_t)e[3] << 24;
    uint32_t cnt = (e[4] | (uint32_t)e[5] << 8) & 0xfffe;
    p->addr = addr & ~1u;
    p->left = cnt ? cnt : 0x10000;
    p->eot = e[7] & 0x80;
    return 0;
}

int ide_dma_copy(struct ide_channel *ch, uint8_t *buf, uint32_t n, bool to_guest)
{
    const struct pdm_hlp *h = ch->dev->hlp;
    struct ide_prd *p = &ch->prd;
    while (n) {
        if (!p->left && prd_next(ch))
            return -1;
        uint32_t k = n < p->left ? n : p->left;
        cap_result rc = to_guest ? h->phys_write(ch->dev, p->addr, buf, k)
                                 : h->phys_read(ch->dev, p->addr, buf, k);
        if (CAP_FAILED(rc))
            return -1;
        p->addr += k;
        p->left -= k;
        buf += k;
        n -= k;
    }
    return 0;
}

void ide_dma_finish(struct ide_channel *ch, bool error)
{
    if (error) {
        ch->bm_status |= BM_ST_ERROR;
        if (ch->atapi_cmd)
            atapi_error(ch, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        else
            ide_cmd_error(ch, ATA_ER_ABRT);
        return;
    }
    /* a table longer than the data leaves ACTIVE set, as the hardware */
    if (ch->prd.eot && !ch->prd.left)
        ch->bm_status &= (uint8_t)~BM_ST_ACTIVE;
    ch->dma = false;
    ide_cmd_done(ch);
}

void ide_dma_kick(struct ide_channel *ch)
{
    if (ch->xfer != XF_DMA_IN && ch->xfer != XF_DMA_OUT)
        return;
    if (!(ch->bm_cmd & BM_CMD_START) || ch->req_busy || !ide_bus_master_enabled(ch->dev->data))
        return;
    if (ch->xfer == XF_DMA_IN && ch->buf_len) {
        uint32_t n = ch->buf_len;
        ch->buf_len = 0;
        if (ide_dma_copy(ch, ch->buf, n, true)) {
            ide_dma_finish(ch, true);
            return;
        }
    }
    if (ch->disk_left)
        ide_dma_next_chunk(ch);
    else
        ide_dma_finish(ch, false);
}

static uint8_t bm_read_byte(struct ide_channel *ch, unsigned reg)
{
    switch (reg) {
    case 0:
        return ch->bm_cmd;
    case 2:
        return ch->bm_status;
    case 4:
    case 5:
    case 6:
    case 7:
        return (uint8_t)(ch->bm_prd >> (8 * (reg - 4)));
    default:
        return 0;
    }
}

static void bm_cmd_write(struct ide_channel *ch, uint8_t val)
{
    uint8_t old = ch->bm_cmd;
    ch->bm_cmd = val & (BM_CMD_START | BM_CMD_READ);
    if ((val & BM_CMD_START) && !(old & BM_CMD_START)) {
        ch->bm_status |= BM_ST_ACTIVE;
        ch->prd = (struct ide_prd){.table = ch->bm_prd};
        ide_dma_kick(ch);
    } else if (!(val & BM_CMD_START) && (old & BM_CMD_START)) {
        ch->bm_status &= (uint8_t)~BM_ST_ACTIVE;
        if ((ch->xfer == XF_DMA_IN || ch->xfer == XF_DMA_OUT) && ch->active) {
            /* stopped in the middle: the command cannot finish */
            ide_abort_transfer(ch);
            ch->dma = false;
            ch->active->r.status = ATA_ST_DRDY | ATA_ST_ERR;
            ch->active->r.error = ATA_ER_ABRT;
        }
    }
}

static void bm_write_byte(struct ide_channel *ch, unsigned reg, uint8_t val)
{
    switch (reg) {
    case 0:
        bm_cmd_write(ch, val);
        break;
    case 2:
        ch->bm_status =
            (uint8_t)((ch->bm_status & ~(val & (BM_ST_ERROR | BM_ST_INTR)) & ~BM_ST_DMA_CAP) |
                      (val & BM_ST_DMA_CAP));
        break;
    case 4:
    case 5:
    case 6:
    case 7: {
        unsigned sh = 8 * (reg - 4);
        ch->bm_prd = ((ch->bm_prd & ~(0xffu << sh)) | ((uint32_t)val << sh)) & ~3u;
        break;
    }
    default:
        break;
    }
}

uint32_t ide_bm_read(struct ide *s, unsigned off, unsigned size)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < size && off + i < 16; i++)
        v |= (uint32_t)bm_read_byte(&s->ch[(off + i) >> 3], (off + i) & 7) << (8 * i);
    return v;
}

void ide_bm_write(struct ide *s, unsigned off, unsigned size, uint32_t val)
{
    for (unsigned i = 0; i < size && off + i < 16; i++)
        bm_write_byte(&s->ch[(off + i) >> 3], (off + i) & 7, (uint8_t)(val >> (8 * i)));
}
