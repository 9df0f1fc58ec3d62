/*
 * plugins/devices/piix3ide/ide.h - the PIIX3 IDE controller's state, shared
 * by its parts: piix3ide.c (registration, ports, interrupts, reset),
 * ide_ata.c (the ATA command set and the data pipeline every command uses),
 * ide_atapi.c (PACKET commands of the DVD drive) and ide_dma.c (bus-master
 * DMA through PRD tables).
 *
 * Two channels (primary 0x1f0-0x1f7/0x3f6 IRQ 14, secondary
 * 0x170-0x177/0x376 IRQ 15), two devices each (master, slave), each device
 * a drive of PDM's block layer on LUN channel * 2 + unit: a hard disk
 * (ATA) or a DVD drive (ATAPI). One command runs per channel at a time; its
 * data goes through the channel's buffer, filled or drained by the drive's
 * I/O thread (asynchronous, pdmdev.h's block layer) a chunk at a time, and
 * from there to the guest by PIO (the data port) or DMA (PRD tables).
 *
 * The ATA core - ide_ata.c, ide_atapi.c, ide_ssm.c - is built into
 * plugins/devices/ahci too. It calls back into its controller only through
 * ide_raise_irq, ide_set_signature, ide_dma_kick, ide_dma_copy and
 * ide_dma_finish (piix3ide.c and ide_dma.c here, ahci_port.c there): a new
 * call from the core to the controller side needs both.
 */
#ifndef PLUGINS_DEVICES_PIIX3IDE_IDE_H
#define PLUGINS_DEVICES_PIIX3IDE_IDE_H

#include "pdmdev.h"

/* Status register (ATA8-ACS). */
#define ATA_ST_BSY  0x80
#define ATA_ST_DRDY 0x40
#define ATA_ST_DF   0x20
#define ATA_ST_DSC  0x10
#define ATA_ST_DRQ  0x08
#define ATA_ST_ERR  0x01
/* Error register. */
#define ATA_ER_ABRT 0x04
#define ATA_ER_IDNF 0x10
#define ATA_ER_UNC  0x40
/* Device control register. */
#define ATA_DC_NIEN 0x02
#define ATA_DC_SRST 0x04
#define ATA_DC_HOB  0x80
/* Device/head register. */
#define ATA_DH_LBA  0x40
#define ATA_DH_DEV1 0x10
/* ATAPI interrupt reason (the sector count register). */
#define ATAPI_IR_COD 0x01
#define ATAPI_IR_IO  0x02

/* Bus-master IDE registers (per channel, 8 bytes at BAR4 + 8 * channel). */
#define BM_CMD_START  0x01
#define BM_CMD_READ   0x08 /* device to memory */
#define BM_ST_ACTIVE  0x01
#define BM_ST_ERROR   0x02
#define BM_ST_INTR    0x04
#define BM_ST_DMA_CAP 0x60 /* drive 0/1 DMA capable: guest-writable */

/* SCSI sense keys and additional sense codes (SPC, MMC). */
#define SENSE_NONE            0x0
#define SENSE_NOT_READY       0x2
#define SENSE_MEDIUM_ERROR    0x3
#define SENSE_ILLEGAL_REQUEST 0x5
#define SENSE_UNIT_ATTENTION  0x6
#define SENSE_DATA_PROTECT    0x7
#define ASC_INVALID_OPCODE    0x20
#define ASC_LBA_OUT_OF_RANGE  0x21
#define ASC_INVALID_FIELD     0x24
#define ASC_MEDIUM_CHANGED    0x28
#define ASC_WRITE_PROTECTED   0x27
#define ASC_NO_MEDIUM         0x3a
#define ASC_REMOVAL_PREVENTED 0x53
#define ASC_READ_ERROR        0x11

#define IDE_CHANNELS     2
#define IDE_BUF_SIZE     (128u * 1024) /* one chunk of a transfer */
#define IDE_MAX_MULTIPLE 16            /* sectors per DRQ block, READ/WRITE MULTIPLE */
#define IDE_MAX_PRDS     8192          /* a PRD table fits in 64 KiB */
#define ATAPI_SECTOR     2048u

enum ide_xfer {
    XF_NONE,
    XF_PIO_IN,  /* device to guest through the data port */
    XF_PIO_OUT, /* guest to device through the data port */
    XF_PACKET,  /* ATAPI: the 12-byte command packet through the data port */
    XF_DMA_IN,  /* device to memory */
    XF_DMA_OUT, /* memory to device */
};

/* The taskfile as one device holds it (writes reach both devices). */
struct ide_regs {
    uint8_t feature, nsect, lbal, lbam, lbah;
    uint8_t hob_feature, hob_nsect, hob_lbal, hob_lbam, hob_lbah;
    uint8_t select, status, error;
};

struct ide_drive {
    struct ide_channel *ch;
    unsigned unit;
    struct pdm_blk *blk; /* NULL: no device here */
    bool atapi;
    struct ide_regs r;
    uint64_t sectors;             /* ATA: 512-byte sectors of the disk */
    uint16_t cyls, heads, spt;    /* ATA: default geometry */
    uint16_t lheads, lspt;        /* ATA: INITIALIZE DEVICE PARAMETERS */
    uint8_t multiple;             /* ATA: SET MULTIPLE MODE, 0: off */
    bool wcache_off;              /* ATA: SET FEATURES 0x82: every write FUA */
    uint8_t sense_key, asc, ascq; /* ATAPI: REQUEST SENSE */
    bool unit_attention;          /* ATAPI: a medium changed since the last command */
    uint8_t media_event;          /* ATAPI: GET EVENT STATUS media event pending */
    /* ATA behind a port that queues commands (AHCI sets ncq): READ LOG EXT's
     * directory lists the NCQ command error log (10h), which holds the
     * failed queued command - tag, status, error, LBA, device, count as
     * bytes 0-13 (ncq_log) - from its failure (ncq_failed) until the log is
     * read, a device reset or a COMRESET (the port's to clear). */
    bool ncq, ncq_failed;
    uint8_t ncq_log[14];
    char serial[21];
};

struct ide_prd {
    uint32_t table; /* next entry */
    uint32_t addr, left;
    bool eot;
    unsigned entries;
};

struct ide_channel {
    struct pdm_dev *dev;
    unsigned idx, irq;
    struct ide_drive drv[2];
    unsigned cur;             /* selected unit */
    struct ide_drive *active; /* the drive running the command */
    uint8_t ctl;              /* device control */
    bool irq_pending, irq_level;
    /* the command's transfer */
    enum ide_xfer xfer;
    uint8_t *buf;
    uint32_t buf_len, buf_pos;    /* valid bytes (in), expected bytes (out); position */
    uint32_t drq_end;             /* PIO: the current DRQ block ends here */
    uint32_t block_bytes;         /* PIO: bytes per DRQ block */
    uint64_t disk_off, disk_left; /* bytes on the medium */
    bool fua, dma, dma_wait, atapi_cmd;
    struct pdm_blk_req req;
    bool req_busy;
    /* bus master */
    uint8_t bm_cmd, bm_status;
    uint32_t bm_prd;
    struct ide_prd prd;
};

struct ide {
    struct ide_channel ch[IDE_CHANNELS];
    uint16_t bm_fixed; /* config bm_iobase: bus-master ports without PCI; 0: none */
    bool pci;          /* the PCI function 00:01.1 is on the bus */
    struct pci_function fn;
    uint8_t bar4_user; /* its address is BAR4's `user` */
};

/* Whether the bus-master engine may touch memory (PCI: the command
 * register's bus-master bit). */
bool ide_bus_master_enabled(const struct ide *s);

/* piix3ide.c */
void ide_raise_irq(struct ide_channel *ch);
void ide_update_irq(struct ide_channel *ch);
void ide_set_signature(struct ide_drive *d);

/* ide_ata.c: commands and the data pipeline */
void ide_exec_command(struct ide_channel *ch, uint8_t cmd);
/* The command ends with an error: ATA status ERR|DRDY and `error`. */
void ide_cmd_error(struct ide_channel *ch, uint8_t error);
/* The command ends well (status DRDY|DSC; ATAPI: interrupt reason). */
void ide_cmd_done(struct ide_channel *ch);
/* Data from the medium: `bytes` at byte `off` (by PIO or DMA, ch->dma). */
void ide_start_read(struct ide_channel *ch, uint64_t off, uint64_t bytes);
/* ch->buf holds buf_len bytes to send the guest (ATAPI replies). */
void ide_start_reply(struct ide_channel *ch);
uint32_t ide_data_read(struct ide_channel *ch, unsigned size);
void ide_data_write(struct ide_channel *ch, unsigned size, uint32_t val);
void ide_abort_transfer(struct ide_channel *ch);
/* The block layer's completion (port->complete; req->user is the channel). */
void ide_blk_complete(struct pdm_dev *dev, void *user, struct pdm_blk_req *req);
void ide_put_string(uint16_t *words, unsigned first, unsigned nwords, const char *s);
/* Attaches LUN `lun`'s drive to `d` (construct only): d->blk, atapi, sectors
 * and a disk's default CHS geometry, *info the drive now. The block layer's
 * answer: CAP_OK, CAP_FALSE_RESULT (no drive there: d->blk stays NULL) or
 * its error. Shared by every controller on this core (piix3ide, ahci). */
cap_result ide_drive_attach(struct pdm_dev *dev, struct ide_drive *d, unsigned lun,
                            const struct pdm_blk_port *port, void *user, struct pdm_blk_info *info);

/* ide_atapi.c */
void atapi_identify(struct ide_drive *d, uint16_t *w);
void atapi_packet(struct ide_channel *ch);
void atapi_error(struct ide_channel *ch, uint8_t key, uint8_t asc);
void atapi_medium_changed(struct ide_drive *d, bool present);

/* ide_dma.c */
/* Moves the next data of a DMA command (its chunk in ch->buf) once both
 * the command and the bus master's START are there. */
void ide_dma_kick(struct ide_channel *ch);
/* ide_ata.c: the next chunk of a DMA command (read it, or gather and
 * write it). */
void ide_dma_next_chunk(struct ide_channel *ch);
/* Copies n bytes between ch->buf and the PRDs: 0, or -1 when the table
 * ended first or pointed outside RAM (the command fails). */
int ide_dma_copy(struct ide_channel *ch, uint8_t *buf, uint32_t n, bool to_guest);
void ide_dma_finish(struct ide_channel *ch, bool error);
uint32_t ide_bm_read(struct ide *s, unsigned off, unsigned size);
void ide_bm_write(struct ide *s, unsigned off, unsigned size, uint32_t val);

/* ide_ssm.c: ops->save / ops->load (version 1) */
cap_result ide_save(struct pdm_dev *dev, struct pdm_ssm *ssm);
cap_result ide_load(struct pdm_dev *dev, struct pdm_ssm *ssm, uint32_t version);
/* One device's state (taskfile, settings, ATAPI sense): saves it, or loads
 * it (CAP_E_INVALIDARG when the stream had a device where there is none
 * now, or none where there is one). Shared with ahci's saved state. */
cap_result ide_drive_io(const struct pdm_hlp *h, struct pdm_ssm *ssm, struct ide_drive *d,
                        bool save);

#endif
