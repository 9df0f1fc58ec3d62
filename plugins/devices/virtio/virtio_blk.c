/*
 * plugins/devices/virtio/virtio_blk.c - virtio-blk (virtio 1.2, 5.2) on the
 * virtio PCI transport and PDM's block layer: device "virtioblk".
 *
 * One instance serves up to VBLK_PORTS drives: the drive on LUN N (capsule-vm
 * --drive if=virtio,port=N) becomes its own PCI function (1af4:1042, the
 * first free slot, in port order), with one request queue of 256 entries.
 *
 * Requests (5.2.6): a 16-byte header (type, reserved, sector) the driver
 * wrote, the data, and a status byte the device writes. IN, OUT, FLUSH and
 * GET_ID are served; any other type gets VIRTIO_BLK_S_UNSUPP. A request
 * the device cannot carry out - data outside RAM, past the capacity, not
 * whole sectors, larger than VBLK_MAX_BYTES, a write to read-only media,
 * the host's I/O failing - gets VIRTIO_BLK_S_IOERR. A chain without room
 * for the header or the status is the driver breaking the protocol:
 * DEVICE_NEEDS_RESET (virtio_pci_needs_reset).
 *
 * Reads and writes go to the block layer asynchronously through a bounce
 * buffer, one request at a time per drive (the block layer runs a drive's
 * requests one after another anyway): the queue is walked until a request
 * is submitted, and again when it completes. So a guest can have the
 * device hold at most one request and one buffer, whatever it puts in its
 * rings.
 *
 * Offered features: SIZE_MAX, SEG_MAX, BLK_SIZE, FLUSH, and RO for
 * read-only media (readonly=on, ISOs). virtio-blk has no removable media
 * (capsule-vm's --drive refuses media=cdrom for it); a DVD-kind drive a
 * configuration still gives is read as a disk of 512-byte sectors, and a
 * medium change updates the capacity with a configuration change.
 */
#include <stdio.h>
#include <stdlib.h>

#include "virtio.h"

#define VBLK_PORTS     16
#define VBLK_QUEUE     256
#define VBLK_SEG_MAX   126         /* data segments in a request */
#define VBLK_SIZE_MAX  (32u << 10) /* bytes in a segment */
#define VBLK_MAX_BYTES (4u << 20)  /* data in a request: >= SEG_MAX * SIZE_MAX */
#define VBLK_SECTOR    512u

/* 5.2.3 feature bits */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX  2
#define VIRTIO_BLK_F_RO       5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH    9
/* 5.2.4 configuration layout */
#define VBLK_CFG_CAPACITY   0x00
#define VBLK_CFG_SIZE_MAX   0x08
#define VBLK_CFG_SEG_MAX    0x0c
#define VBLK_CFG_BLK_SIZE   0x14
#define VBLK_CFG_NUM_QUEUES 0x22
#define VBLK_CFG_BYTES      0x24
/* 5.2.6 requests */
#define VIRTIO_BLK_T_IN     0
#define VIRTIO_BLK_T_OUT    1
#define VIRTIO_BLK_T_FLUSH  4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2
#define VBLK_HDR_BYTES      16
#define VBLK_ID_BYTES       20

struct vblk {
    struct virtio_pci vp;
    struct pdm_dev *dev;
    struct pdm_blk *blk;
    unsigned port;
    char name[24]; /* "virtio-blk port N" */
    char serial[VBLK_ID_BYTES + 1];
    uint8_t cfg[VBLK_CFG_BYTES];
    uint64_t sectors;
    bool readonly;
    /* the request in flight (busy), see the top */
    bool busy;
    uint32_t type;
    struct pdm_blk_req req;
    struct virtq_chain chain;
    uint8_t *buf;
    size_t buf_size;
};

/* The instance: the ports' state lives in dev->data because the bus keeps
 * each function (vp.fn) until after destruct. port[N] is in use when
 * its blk is set. */
struct vblk_dev {
    struct vblk port[VBLK_PORTS];
};

/* Port n's state, or NULL when the port has no drive. */
static struct vblk *port_of(struct vblk_dev *d, unsigned n)
{
    return d->port[n].blk ? &d->port[n] : NULL;
}

/* ---- requests ---------------------------------------------------------------- */

/* Ends the current chain with `status` and `written` data bytes. */
static void finish(struct vblk *s, uint8_t status, uint32_t written)
{
    struct virtq_chain *c = &s->chain;
    /* the status byte is the last writable one; written + 1 <= in_bytes */
    virtq_chain_write(s->dev, c, c->in_bytes - 1, &status, 1);
    if (CAP_FAILED(virtq_push(s->dev, &s->vp.q[0], c->head, written + 1)))
        virtio_pci_needs_reset(&s->vp, "the used ring outside RAM");
    else
        virtio_pci_queue_interrupt(&s->vp, 0);
}

static bool grow_buf(struct vblk *s, size_t len)
{
    if (len <= s->buf_size)
        return true;
    uint8_t *b = realloc(s->buf, len);
    if (!b)
        return false;
    s->buf = b;
    s->buf_size = len;
    return true;
}

/* Checks and submits a read or write of `len` bytes at `sector`; returns
 * the status to finish with now, or -1 when it went to the block layer. */
static int submit_rw(struct vblk *s, bool write, uint64_t sector, uint64_t len)
{
    if (len % VBLK_SECTOR || len > VBLK_MAX_BYTES || sector > s->sectors ||
        len / VBLK_SECTOR > s->sectors - sector)
        return VIRTIO_BLK_S_IOERR;
    if (!len)
        return VIRTIO_BLK_S_OK;
    if (write && s->readonly)
        return VIRTIO_BLK_S_IOERR;
    if (!grow_buf(s, len))
        return VIRTIO_BLK_S_IOERR;
    if (write && !virtq_chain_read(s->dev, &s->chain, VBLK_HDR_BYTES, s->buf, len))
        return VIRTIO_BLK_S_IOERR; /* data outside RAM */
    s->req = (struct pdm_blk_req){.op = write ? PDM_BLK_WRITE : PDM_BLK_READ,
                                  .offset = sector * VBLK_SECTOR,
                                  .buf = s->buf,
                                  .len = len,
                                  .user = s};
    if (CAP_FAILED(s->dev->hlp->blk_submit(s->blk, &s->req)))
        return VIRTIO_BLK_S_IOERR;
    s->busy = true;
    return -1;
}

/* Starts the request in s->chain: -1 when it went to the block layer,
 * else the status to finish it with (and *written the data bytes). */
static int start(struct vblk *s, uint32_t *written)
{
    const struct virtq_chain *c = &s->chain;
    uint8_t hdr[VBLK_HDR_BYTES];
    *written = 0;
    if (!virtq_chain_read(s->dev, c, 0, hdr, sizeof(hdr)))
        return VIRTIO_BLK_S_IOERR;
    s->type = (uint32_t)virtio_get_le(hdr, 4);
    uint64_t sector = virtio_get_le(hdr + 8, 8);
    switch (s->type) {
    case VIRTIO_BLK_T_IN:
        return submit_rw(s, false, sector, c->in_bytes - 1);
    case VIRTIO_BLK_T_OUT:
        return submit_rw(s, true, sector, c->out_bytes - VBLK_HDR_BYTES);
    case VIRTIO_BLK_T_FLUSH:
        s->req = (struct pdm_blk_req){.op = PDM_BLK_FLUSH, .user = s};
        if (CAP_FAILED(s->dev->hlp->blk_submit(s->blk, &s->req)))
            return VIRTIO_BLK_S_IOERR;
        s->busy = true;
        return -1;
    case VIRTIO_BLK_T_GET_ID: {
        uint64_t room = c->in_bytes - 1;
        *written = room < VBLK_ID_BYTES ? (uint32_t)room : VBLK_ID_BYTES;
        uint8_t id[VBLK_ID_BYTES] = {0};
        memcpy(id, s->serial, strlen(s->serial));
        return virtq_chain_write(s->dev, c, 0, id, *written) ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
    }
    default:
        return VIRTIO_BLK_S_UNSUPP;
    }
}

/* Serves the queue until a request is in flight, the queue is empty or the
 * device is broken; at most `size` chains per call. */
static void kick(struct vblk *s)
{
    struct virtq *q = &s->vp.q[0];
    bool indirect = virtio_pci_has(&s->vp, VIRTIO_F_INDIRECT_DESC);
    for (unsigned n = 0; n < q->size && !s->busy && virtio_pci_running(&s->vp) && q->enabled; n++) {
        const char *why;
        enum virtq_pop_result r = virtq_pop(s->dev, q, indirect, &s->chain, &why);
        if (r == VIRTQ_POP_EMPTY)
            return;
        if (r == VIRTQ_POP_BROKEN) {
            virtio_pci_needs_reset(&s->vp, why);
            return;
        }
        if (s->chain.out_bytes < VBLK_HDR_BYTES || s->chain.in_bytes < 1) {
            virtio_pci_needs_reset(&s->vp, "a request without its header or status byte");
            return;
        }
        uint32_t written;
        int st = start(s, &written);
        if (st >= 0)
            finish(s, (uint8_t)st, written);
    }
}

static void vblk_complete(struct pdm_dev *dev, void *user, struct pdm_blk_req *req)
{
    struct vblk *s = user;
    s->busy = false;
    uint8_t st = CAP_SUCCEEDED(req->status) ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
    uint32_t written = 0;
    if (st == VIRTIO_BLK_S_OK && s->type == VIRTIO_BLK_T_IN) {
        if (virtq_chain_write(dev, &s->chain, 0, s->buf, req->len))
            written = (uint32_t)req->len;
        else
            st = VIRTIO_BLK_S_IOERR;
    }
    finish(s, st, written);
    kick(s);
}

/* ---- the transport's callbacks ---------------------------------------------- */

static void vblk_reset(struct virtio_pci *vp)
{
    struct vblk *s = vp->p.owner;
    if (s->busy)
        s->dev->hlp->blk_cancel(s->blk); /* the request never completes */
    s->busy = false;
}

static void vblk_queue_reset(struct virtio_pci *vp, unsigned q)
{
    vblk_reset(vp); /* one queue: its requests are all the device's */
}

static void vblk_notify(struct virtio_pci *vp, unsigned q)
{
    kick(vp->p.owner);
}

static const struct virtio_pci_ops vblk_vp_ops = {
    .reset = vblk_reset,
    .queue_reset = vblk_queue_reset,
    .notify = vblk_notify,
};

/* ---- the medium ---------------------------------------------------------------- */

static void update_capacity(struct vblk *s)
{
    struct pdm_blk_info info;
    s->dev->hlp->blk_info(s->blk, &info);
    s->sectors = info.present ? info.size / VBLK_SECTOR : 0;
    s->readonly = info.readonly;
    virtio_put_le(s->cfg + VBLK_CFG_CAPACITY, 8, s->sectors);
}

static void vblk_medium_changed(struct pdm_dev *dev, void *user, bool present)
{
    struct vblk *s = user;
    update_capacity(s);
    virtio_pci_config_changed(&s->vp);
}

static const struct pdm_blk_port vblk_port = {
    .complete = vblk_complete,
    .medium_changed = vblk_medium_changed,
};

/* ---- the device ------------------------------------------------------------------ */

static cap_result add_port(struct pdm_dev *dev, struct vblk_dev *d, unsigned port)
{
    struct vblk *s = &d->port[port];
    cap_result rc = dev->hlp->blk_attach(dev, port, &vblk_port, s, &s->blk);
    if (rc != CAP_OK)
        return CAP_FAILED(rc) ? rc : CAP_OK; /* an empty port */
    s->dev = dev;
    s->port = port;
    snprintf(s->name, sizeof(s->name), "virtio-blk port %u", port);
    snprintf(s->serial, sizeof(s->serial), "CAPSULE-VBLK-%u-%02u", dev->instance, port);
    update_capacity(s);
    virtio_put_le(s->cfg + VBLK_CFG_SIZE_MAX, 4, VBLK_SIZE_MAX);
    virtio_put_le(s->cfg + VBLK_CFG_SEG_MAX, 4, VBLK_SEG_MAX);
    virtio_put_le(s->cfg + VBLK_CFG_BLK_SIZE, 4, VBLK_SECTOR);
    virtio_put_le(s->cfg + VBLK_CFG_NUM_QUEUES, 2, 1);
    uint64_t features = VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
                        VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH);
    if (s->readonly)
        features |= VIRTIO_BIT(VIRTIO_BLK_F_RO);
    struct virtio_pci_params p = {
        .name = s->name,
        .device_id = VIRTIO_ID_BLOCK,
        .class_code = 0x010000, /* mass storage, SCSI: what drivers and firmware expect */
        .features = features,
        .num_queues = 1,
        .queue_max = VBLK_QUEUE,
        .devcfg = s->cfg,
        .devcfg_size = VBLK_CFG_BYTES,
        .ops = &vblk_vp_ops,
        .owner = s,
    };
    dev->hlp->log(dev, PDM_LOG_INFO, "port %u: %s%s, %llu sectors", port,
                  s->readonly ? "read-only " : "", "disk", (unsigned long long)s->sectors);
    return virtio_pci_init(&s->vp, dev, &p, PDM_PCI_DEVFN_ANY);
}

static cap_result vblk_construct(struct pdm_dev *dev, const struct pdm_cfg *cfg)
{
    struct vblk_dev *d = dev->data;
    cap_result rc = CAP_OK;
    for (unsigned port = 0; port < VBLK_PORTS && CAP_SUCCEEDED(rc); port++)
        rc = add_port(dev, d, port);
    return rc;
}

static void vblk_destruct(struct pdm_dev *dev)
{
    struct vblk_dev *d = dev->data;
    for (unsigned port = 0; port < VBLK_PORTS; port++) {
        free(d->port[port].buf); /* the block layer let go of it before destruct */
        d->port[port].buf = NULL;
    }
}

static void vblk_dev_reset(struct pdm_dev *dev)
{
    struct vblk_dev *d = dev->data;
    for (unsigned port = 0; port < VBLK_PORTS; port++)
        if (port_of(d, port))
            virtio_pci_reset(&d->port[port].vp);
}

static cap_result vblk_mmio(struct pdm_dev *dev, void *user, uint64_t addr, unsigned size,
                            bool write, uint64_t *val)
{
    virtio_pci_mmio(user, addr, size, write, val);
    return CAP_OK;
}

/* Saved state, version 1: per port present, the transport's fields (the
 * block layer is drained first, so no request is in flight). */
static cap_result vblk_save(struct pdm_dev *dev, struct pdm_ssm *ssm)
{
    struct vblk_dev *d = dev->data;
    cap_result rc = CAP_OK;
    for (unsigned port = 0; port < VBLK_PORTS && CAP_SUCCEEDED(rc); port++)
        if (port_of(d, port))
            rc = virtio_pci_save(&d->port[port].vp, ssm);
    return rc;
}

static cap_result vblk_load(struct pdm_dev *dev, struct pdm_ssm *ssm, uint32_t version)
{
    struct vblk_dev *d = dev->data;
    if (version != 1)
        return dev->hlp->error(dev, CAP_E_INVALIDARG, "saved state version %u (this is 1)",
                               version);
    cap_result rc = CAP_OK;
    for (unsigned port = 0; port < VBLK_PORTS && CAP_SUCCEEDED(rc); port++) {
        struct vblk *s = port_of(d, port);
        if (!s)
            continue;
        vblk_reset(&s->vp);
        rc = virtio_pci_load(&s->vp, ssm);
        if (CAP_SUCCEEDED(rc))
            kick(s); /* buffers the driver made available before the save */
    }
    return rc;
}

/* The same as named fields (the SSM unit of version 1): each port's
 * transport as pN.NAME. */
static cap_result vblk_save_state(struct pdm_dev *dev, struct ssm_writer *w)
{
    struct vblk_dev *d = dev->data;
    cap_result rc = CAP_OK;
    char prefix[8];
    for (unsigned port = 0; port < VBLK_PORTS && CAP_SUCCEEDED(rc); port++)
        if (port_of(d, port)) {
            snprintf(prefix, sizeof prefix, "p%u.", port);
            rc = virtio_pci_save_state(&d->port[port].vp, w, prefix);
        }
    return rc;
}

static cap_result vblk_load_state(struct pdm_dev *dev, struct ssm_unit *u)
{
    struct vblk_dev *d = dev->data;
    cap_result rc = dev->hlp->ssm->check_version(u, 1, 1);
    char prefix[8];
    for (unsigned port = 0; port < VBLK_PORTS && CAP_SUCCEEDED(rc); port++) {
        struct vblk *s = port_of(d, port);
        if (!s)
            continue;
        vblk_reset(&s->vp);
        snprintf(prefix, sizeof prefix, "p%u.", port);
        rc = virtio_pci_load_state(&s->vp, u, prefix);
        if (CAP_SUCCEEDED(rc))
            kick(s); /* buffers the driver made available before the save */
    }
    return rc;
}

static const struct pdm_dev_ops vblk_ops = {
    .construct = vblk_construct,
    .destruct = vblk_destruct,
    .reset = vblk_dev_reset,
    .mmio = vblk_mmio,
    .save = vblk_save,
    .load = vblk_load,
    .save_state = vblk_save_state,
    .load_state = vblk_load_state,
};

static const struct pdm_devreg vblk_reg = {
    .abi = PDM_DEVREG_ABI,
    .name = "virtioblk",
    .description = "virtio-blk (virtio 1.x PCI): one function per drive, LUN = port 0-15",
    .instance_size = sizeof(struct vblk_dev),
    .max_instances = 1,
    .saved_state_version = 1,
    .ops = &vblk_ops,
};

static const cap_uuid vblk_cid = {{0x8e, 0x2d, 0x41, 0x7a, 0x0c, 0x59, 0x4b, 0x33, 0x9f, 0x16, 0x5d,
                                   0xa2, 0x7b, 0x04, 0xc1, 0x9e}};
PDM_DEVICE_COMPONENT(vblk_reg, vblk_cid, "virtioblk")
