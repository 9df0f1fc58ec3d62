/*
 * plugins/devices/piix3ide/ide_ssm.c - the controller's saved state,
 * version 1, field by field: per channel the register file, the command's
 * transfer (its position and the valid part of the buffer) and the bus
 * master with its PRD walk; per device its taskfile, geometry, multiple
 * count, write cache and the ATAPI sense, unit attention and media event.
 *
 * PDM saves with its block layer idle (pdm_blk_drain before pdm_save), so
 * no request is in flight: a command waiting for the I/O thread has had
 * its completion, and what follows (the next chunk) is started by the
 * guest's next access, as after any completion. What the drives hold
 * (which medium) is the configuration's, not saved here; a drive missing
 * at load that had a device at save fails the load.
 */
#include "ide.h"

#define PUT(ssm, v) h->ssm_put((ssm), &(v), sizeof(v))
#define GET(ssm, v) h->ssm_get((ssm), &(v), sizeof(v))

static cap_result regs_io(const struct pdm_hlp *h, struct pdm_ssm *ssm, struct ide_regs *r,
                          bool save)
{
    uint8_t *f[] = {&r->feature,     &r->nsect,     &r->lbal,     &r->lbam,     &r->lbah,
                    &r->hob_feature, &r->hob_nsect, &r->hob_lbal, &r->hob_lbam, &r->hob_lbah,
                    &r->select,      &r->status,    &r->error};
    cap_result rc = CAP_OK;
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]) && CAP_SUCCEEDED(rc); i++)
        rc = save ? h->ssm_put(ssm, f[i], 1) : h->ssm_get(ssm, f[i], 1);
    return rc;
}

cap_result ide_drive_io(const struct pdm_hlp *h, struct pdm_ssm *ssm, struct ide_drive *d,
                        bool save)
{
    uint8_t present = d->blk != NULL, ua = d->unit_attention, wc = d->wcache_off;
    cap_result rc = save ? PUT(ssm, present) : GET(ssm, present);
    if (CAP_SUCCEEDED(rc) && !save && present != (d->blk != NULL))
        rc = CAP_E_INVALIDARG; /* another machine */
    if (CAP_SUCCEEDED(rc))
        rc = regs_io(h, ssm, &d->r, save);
    uint8_t *b[] = {&d->multiple, &d->sense_key, &d->asc, &d->ascq, &d->media_event, &ua, &wc};
    for (size_t i = 0; i < sizeof(b) / sizeof(b[0]) && CAP_SUCCEEDED(rc); i++)
        rc = save ? h->ssm_put(ssm, b[i], 1) : h->ssm_get(ssm, b[i], 1);
    if (CAP_SUCCEEDED(rc))
        rc = save ? PUT(ssm, d->lheads) : GET(ssm, d->lheads);
    if (CAP_SUCCEEDED(rc))
        rc = save ? PUT(ssm, d->lspt) : GET(ssm, d->lspt);
    d->unit_attention = ua;
    d->wcache_off = wc;
    return rc;
}

static cap_result channel_io(const struct pdm_hlp *h, struct pdm_ssm *ssm, struct ide_channel *ch,
                             bool save)
{
    uint8_t cur = (uint8_t)ch->cur, xfer = (uint8_t)ch->xfer;
    uint8_t active = ch->active ? (uint8_t)(ch->active - ch->drv) : 0xff;
    uint8_t flags = (uint8_t)(ch->irq_pending | ch->fua << 1 | ch->dma << 2 | ch->atapi_cmd << 3 |
                              ch->prd.eot << 4);
    uint8_t *b[] = {&ch->ctl, &cur, &xfer, &active, &flags, &ch->bm_cmd, &ch->bm_status};
    cap_result rc = CAP_OK;
    for (size_t i = 0; i < sizeof(b) / sizeof(b[0]) && CAP_SUCCEEDED(rc); i++)
        rc = save ? h->ssm_put(ssm, b[i], 1) : h->ssm_get(ssm, b[i], 1);
    uint32_t *w[] = {&ch->buf_len, &ch->buf_pos,   &ch->drq_end,  &ch->block_bytes,
                     &ch->bm_prd,  &ch->prd.table, &ch->prd.addr, &ch->prd.left};
    for (size_t i = 0; i < sizeof(w) / sizeof(w[0]) && CAP_SUCCEEDED(rc); i++)
        rc = save ? h->ssm_put(ssm, w[i], 4) : h->ssm_get(ssm, w[i], 4);
    uint32_t entries = ch->prd.entries;
    if (CAP_SUCCEEDED(rc))
        rc = save ? PUT(ssm, entries) : GET(ssm, entries);
    if (CAP_SUCCEEDED(rc))
        rc = save ? PUT(ssm, ch->disk_off) : GET(ssm, ch->disk_off);
    if (CAP_SUCCEEDED(rc))
        rc = save ? PUT(ssm, ch->disk_left) : GET(ssm, ch->disk_left);
    if (CAP_FAILED(rc))
        return rc;
    if (!save && (cur > 1 || xfer > XF_DMA_OUT || (active > 1 && active != 0xff) ||
                  ch->buf_len > IDE_BUF_SIZE || ch->buf_pos > IDE_BUF_SIZE ||
                  ch->drq_end > IDE_BUF_SIZE || entries > IDE_MAX_PRDS))
        return CAP_E_INVALIDARG;
    /* the buffer's meaningful part: what is still to be read or written */
    uint32_t valid = ch->buf_len > ch->drq_end ? ch->buf_len : ch->drq_end;
    rc = save ? h->ssm_put(ssm, ch->buf, valid) : h->ssm_get(ssm, ch->buf, valid);
    for (unsigned u = 0; u < 2 && CAP_SUCCEEDED(rc); u++)
        rc = ide_drive_io(h, ssm, &ch->drv[u], save);
    if (save || CAP_FAILED(rc))
        return rc;
    ch->cur = cur;
    ch->xfer = (enum ide_xfer)xfer;
    ch->active = active == 0xff ? NULL : &ch->drv[active];
    ch->irq_pending = flags & 1;
    ch->fua = flags & 2;
    ch->dma = flags & 4;
    ch->atapi_cmd = flags & 8;
    ch->prd.eot = flags & 16;
    ch->prd.entries = entries;
    ch->req_busy = false;
    if (ch->xfer != XF_NONE && !ch->active)
        return CAP_E_INVALIDARG;
    if (ch->buf_pos > (ch->buf_len > ch->drq_end ? ch->buf_len : ch->drq_end))
        return CAP_E_INVALIDARG;
    ch->irq_level = ch->irq_pending && !(ch->ctl & ATA_DC_NIEN);
    h->irq_set(ch->dev, ch->irq, ch->irq_level);
    return CAP_OK;
}

cap_result ide_save(struct pdm_dev *dev, struct pdm_ssm *ssm)
{
    struct ide *s = dev->data;
    cap_result rc = CAP_OK;
    for (unsigned c = 0; c < IDE_CHANNELS && CAP_SUCCEEDED(rc); c++)
        rc = channel_io(dev->hlp, ssm, &s->ch[c], true);
    return rc;
}

cap_result ide_load(struct pdm_dev *dev, struct pdm_ssm *ssm, uint32_t version)
{
    struct ide *s = dev->data;
    if (version != 1)
        return dev->hlp->error(dev, CAP_E_INVALIDARG, "saved state version %u (want 1)", version);
    for (unsigned c = 0; c < IDE_CHANNELS; c++) {
        ide_abort_transfer(&s->ch[c]);
        cap_result rc = channel_io(dev->hlp, ssm, &s->ch[c], false);
        if (CAP_FAILED(rc))
            return dev->hlp->error(dev, CAP_E_INVALIDARG, "bad saved state of channel %u", c);
    }
    return CAP_OK;
}
