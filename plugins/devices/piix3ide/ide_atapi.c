/*
 * plugins/devices/piix3ide/ide_atapi.c - the DVD drive's PACKET commands
 * (MMC over ATAPI): what a BIOS and an OS use to find the drive, check the
 * medium, read 2048-byte sectors and eject.
 *
 * Errors follow SCSI: the command ends with ERR and the sense key in the
 * error register's high nibble, and REQUEST SENSE tells key, ASC and ASCQ.
 * A medium change from the host leaves a unit attention (ASC 0x28) that
 * the next command other than INQUIRY, REQUEST SENSE, GET CONFIGURATION
 * and GET EVENT STATUS NOTIFICATION reports, and a media event for GET
 * EVENT STATUS NOTIFICATION.
 */
#include "ide.h"

static uint32_t be16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    put_be16(p, v >> 16);
    put_be16(p + 2, v);
}

void atapi_identify(struct ide_drive *d, uint16_t *w)
{
    memset(w, 0, 512);
    w[0] = 0x85c0; /* ATAPI, CD/DVD, removable, 50 us DRQ, 12-byte packets */
    ide_put_string(w, 10, 10, d->serial);
    ide_put_string(w, 23, 4, "1.0");
    ide_put_string(w, 27, 20, "CAPSULE DVD-ROM");
    w[49] = 0x0300; /* LBA, DMA */
    w[53] = 0x0007;
    w[63] = 0x0407;
    w[64] = 0x0003;
    w[65] = w[66] = w[67] = w[68] = 0xb4;
    w[71] = w[72] = 30;
    w[80] = 0x001e; /* ATA/ATAPI-1 to -4 */
    w[82] = 0x4210; /* NOP, DEVICE RESET, PACKET */
    w[83] = w[84] = w[87] = 0x4000;
    w[85] = 0x4210;
    w[88] = 0x203f;
    w[93] = 0x6001;
}

void atapi_error(struct ide_channel *ch, uint8_t key, uint8_t asc)
{
    struct ide_drive *d = ch->active;
    d->sense_key = key;
    d->asc = asc;
    d->ascq = asc == ASC_REMOVAL_PREVENTED ? 0x02 : 0;
    ide_cmd_error(ch, (uint8_t)(key << 4));
}

void atapi_medium_changed(struct ide_drive *d, bool present)
{
    d->unit_attention = true;
    d->media_event = present ? 2 : 3; /* new media / media removal */
}

/* The reply in ch->buf (n bytes), cut to the allocation length. */
static void reply(struct ide_channel *ch, uint32_t n, uint32_t alloc)
{
    ch->buf_len = n < alloc ? n : alloc;
    ide_start_reply(ch);
}

static bool need_medium(struct ide_channel *ch, struct pdm_blk_info *info)
{
    ch->dev->hlp->blk_info(ch->active->blk, info);
    if (info->present)
        return true;
    atapi_error(ch, SENSE_NOT_READY, ASC_NO_MEDIUM);
    return false;
}

static void read_sectors(struct ide_channel *ch, uint64_t lba, uint64_t n, uint32_t limit)
{
    struct pdm_blk_info info;
    if (!need_medium(ch, &info))
        return;
    uint64_t total = info.size / ATAPI_SECTOR;
    if (lba > total || n > total - lba) {
        atapi_error(ch, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
        return;
    }
    ch->block_bytes = limit >= ATAPI_SECTOR ? limit / ATAPI_SECTOR * ATAPI_SECTOR : limit;
    ide_start_read(ch, lba * ATAPI_SECTOR, n * ATAPI_SECTOR);
}

static void lba_to_msf(uint8_t *p, uint32_t lba)
{
    lba += 150;
    p[0] = 0;
    p[1] = (uint8_t)(lba / (75 * 60));
    p[2] = (uint8_t)(lba / 75 % 60);
    p[3] = (uint8_t)(lba % 75);
}

static void toc_addr(uint8_t *p, uint32_t lba, bool msf)
{
    if (msf)
        lba_to_msf(p, lba);
    else
        put_be32(p, lba);
}

static void read_toc(struct ide_channel *ch, const uint8_t *p, uint32_t alloc)
{
    struct pdm_blk_info info;
    if (!need_medium(ch, &info))
        return;
    bool msf = p[1] & 2;
    unsigned format = p[2] & 0xf, track = p[6];
    uint32_t total = (uint32_t)(info.size / ATAPI_SECTOR);
    uint8_t *b = ch->buf;
    memset(b, 0, 32);
    uint32_t n = 4;
    if (format == 0) {
        if (track > 1 && track != 0xaa) {
            atapi_error(ch, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
            return;
        }
        if (track <= 1) { /* track 1, data, starting at 0 */
            b[n + 1] = 0x14;
            b[n + 2] = 1;
            toc_addr(b + n + 4, 0, msf);
            n += 8;
        }
        b[n + 1] = 0x14; /* the lead-out */
        b[n + 2] = 0xaa;
        toc_addr(b + n + 4, total, msf);
        n += 8;
    } else if (format == 1) { /* session information: one session */
        b[n + 1] = 0x14;
        b[n + 2] = 1;
        toc_addr(b + n + 4, 0, msf);
        n += 8;
    } else {
        atapi_error(ch, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        return;
    }
    put_be16(b, n - 2);
    b[2] = b[3] = 1;
    reply(ch, n, alloc);
}

static void mode_sense(struct ide_channel *ch, const uint8_t *p, uint32_t alloc)
{
    unsigned page = p[2] & 0x3f;
    struct pdm_blk_info info;
    ch->dev->hlp->blk_info(ch->active->blk, &info);
    uint8_t *b = ch->buf;
    memset(b, 0, 64);
    uint32_t n = 8;
    if (page == 0x01 || page == 0x3f) { /* read error recovery */
        b[n] = 0x01;
        b[n + 1] = 6;
        b[n + 3] = 5;
        n += 8;
    }
    if (page == 0x2a || page == 0x3f) { /* capabilities and mechanical status */
        b[n] = 0x2a;
        b[n + 1] = 0x12;
        b[n + 2] = 0x3b; /* reads CD-R, CD-RW, method 2, DVD-ROM */
        b[n + 4] = 0x71;
        b[n + 5] = 0x03;
        b[n + 6] = (uint8_t)(0x29 | (info.locked ? 0x02 : 0)); /* lock, eject, tray */
        put_be16(b + n + 8, 706);
        put_be16(b + n + 10, 2);
        put_be16(b + n + 12, 512);
        put_be16(b + n + 14, 706);
        n += 20;
    }
    if (n == 8) {
        atapi_error(ch, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        return;
    }
    put_be16(b, n - 2);
    reply(ch, n, alloc);
}

static void get_configuration(struct ide_channel *ch, uint32_t alloc)
{
    struct pdm_blk_info info;
    ch->dev->hlp->blk_info(ch->active->blk, &info);
    uint8_t *b = ch->buf;
    memset(b, 0, 32);
    put_be16(b + 6, info.present ? 0x0010 : 0); /* current profile: DVD-ROM */
    /* feature 0: the profile list */
    b[10] = 0x03;
    b[11] = 8;
    put_be16(b + 12, 0x0010);
    b[14] = info.present;
    put_be16(b + 16, 0x0008); /* CD-ROM */
    /* feature 1: core, ATAPI */
    put_be16(b + 20, 0x0001);
    b[22] = 0x0b;
    b[23] = 8;
    put_be32(b + 24, 2);
    b[28] = 0x01;
    uint32_t n = 32;
    put_be32(b, n - 4);
    reply(ch, n, alloc);
}

static void event_status(struct ide_channel *ch, const uint8_t *p, uint32_t alloc)
{
    struct ide_drive *d = ch->active;
    if (!(p[1] & 1)) { /* only polled operation */
        atapi_error(ch, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        return;
    }
    uint8_t *b = ch->buf;
    memset(b, 0, 8);
    b[3] = 0x10; /* supported: media */
    uint32_t n = 4;
    if (p[4] & 0x10) {
        struct pdm_blk_info info;
        ch->dev->hlp->blk_info(d->blk, &info);
        b[2] = 0x04;
        b[4] = d->media_event;
        b[5] = info.present ? 0x02 : 0;
        d->media_event = 0;
        n = 8;
    } else {
        b[2] = 0x80; /* no event available */
    }
    put_be16(b, n - 2);
    reply(ch, n, alloc);
}

static void start_stop(struct ide_channel *ch, const uint8_t *p)
{
    bool loej = p[4] & 2, start = p[4] & 1;
    if (loej && !start && ch->dev->hlp->blk_eject(ch->active->blk) == CAP_E_ACCESSDENIED) {
        atapi_error(ch, SENSE_ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED);
        return;
    }
    ide_cmd_done(ch);
}

/* Commands a pending unit attention does not fail (MMC). */
static bool ua_exempt(uint8_t op)
{
    return op == 0x12 || op == 0x03 || op == 0x46 || op == 0x4a;
}

void atapi_packet(struct ide_channel *ch)
{
    struct ide_drive *d = ch->active;
    uint8_t p[12];
    memcpy(p, ch->buf, sizeof(p));
    uint32_t limit = d->r.lbam | (uint32_t)d->r.lbah << 8;
    if (!limit)
        limit = 0xfffe;
    limit &= ~1u;
    if (!limit)
        limit = 2;
    ch->block_bytes = limit;
    ch->buf_len = 0;
    if (d->unit_attention && !ua_exempt(p[0])) {
        d->unit_attention = false;
        atapi_error(ch, SENSE_UNIT_ATTENTION, ASC_MEDIUM_CHANGED);
        return;
    }
    struct pdm_blk_info info;
    uint8_t *b = ch->buf;
    switch (p[0]) {
    case 0x00: /* TEST UNIT READY */
        if (need_medium(ch, &info))
            ide_cmd_done(ch);
        break;
    case 0x03: /* REQUEST SENSE */
        memset(b, 0, 18);
        b[0] = 0x70;
        b[2] = d->sense_key;
        b[7] = 10;
        b[12] = d->asc;
        b[13] = d->ascq;
        d->sense_key = d->asc = d->ascq = 0;
        reply(ch, 18, p[4]);
        break;
    case 0x12: /* INQUIRY */
        memset(b, 0, 36);
        b[0] = 0x05; /* CD/DVD */
        b[1] = 0x80; /* removable */
        b[3] = 0x21;
        b[4] = 31;
        memcpy(b + 8, "CAPSULE DVD-ROM         1.0 ", 28);
        reply(ch, 36, be16(p + 3));
        break;
    case 0x25: /* READ CAPACITY */
        if (!need_medium(ch, &info))
            break;
        put_be32(b, (uint32_t)(info.size / ATAPI_SECTOR) - 1);
        put_be32(b + 4, ATAPI_SECTOR);
        reply(ch, 8, 8);
        break;
    case 0x28: /* READ(10) */
        read_sectors(ch, be32(p + 2), be16(p + 7), limit);
        break;
    case 0xa8: /* READ(12) */
        read_sectors(ch, be32(p + 2), be32(p + 6), limit);
        break;
    case 0x43: /* READ TOC/PMA/ATIP */
        read_toc(ch, p, be16(p + 7));
        break;
    case 0x5a: /* MODE SENSE(10) */
        mode_sense(ch, p, be16(p + 7));
        break;
    case 0x46: /* GET CONFIGURATION */
        get_configuration(ch, be16(p + 7));
        break;
    case 0x4a: /* GET EVENT STATUS NOTIFICATION */
        event_status(ch, p, be16(p + 7));
        break;
    case 0x1b: /* START STOP UNIT */
        start_stop(ch, p);
        break;
    case 0x1e: /* PREVENT ALLOW MEDIUM REMOVAL */
        ch->dev->hlp->blk_set_locked(d->blk, p[4] & 1);
        ide_cmd_done(ch);
        break;
    case 0x51: /* READ DISC INFORMATION: a finished disc, one session, one track */
        if (!need_medium(ch, &info))
            break;
        memset(b, 0, 34);
        put_be16(b, 32);
        b[2] = 0x0e; /* last session and disc complete */
        b[3] = b[4] = b[5] = b[6] = 1;
        reply(ch, 34, be16(p + 7));
        break;
    case 0xbd: /* MECHANISM STATUS */
        memset(b, 0, 8);
        reply(ch, 8, be16(p + 8));
        break;
    case 0x2b: /* SEEK */
    case 0xbb: /* SET CD SPEED */
        ide_cmd_done(ch);
        break;
    default:
        atapi_error(ch, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
        break;
    }
}
