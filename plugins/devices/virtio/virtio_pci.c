/*
 * plugins/devices/virtio/virtio_pci.c - the virtio 1.x PCI transport
 * (virtio 1.2, 4.1) for a "modern" function: identity and capabilities in
 * configuration space, the four regions in BAR 0, feature negotiation,
 * device status, queue setup and reset, INTx through the ISR register.
 *
 * The common configuration is handled as a 60-byte little-endian record:
 * a read assembles the record from the state and returns the bytes asked
 * for; a write patches the record and then applies each field it touched.
 * So any access width works (the driver uses natural widths, 64-bit
 * addresses as two 32-bit halves), and read-only fields ignore writes.
 *
 * The PCI configuration access capability (4.1.4.9) lets a driver reach
 * the BAR through configuration cycles (SeaBIOS does when the BAR is out
 * of its reach): its bar/offset/length fields are writable and an access
 * to pci_cfg_data performs the access to the BAR, through the same code.
 */
#include <stdio.h>

#include "virtio.h"

#define CAP_VNDR        0x09 /* PCI capability ID: vendor specific */
#define PCI_CAP_PTR     0x34
#define PCI_STATUS_CAPS 0x0010
#define CAP_COMMON      0x40
#define CAP_ISR         0x50
#define CAP_DEVICE      0x60
#define CAP_NOTIFY      0x70 /* 20 bytes: + notify_off_multiplier */
#define CAP_PCICFG      0x84 /* 20 bytes: + pci_cfg_data */
#define CAP_LEN         16
#define CAP_LEN_LONG    20
/* fields of struct virtio_pci_cap */
#define CAP_F_BAR    4
#define CAP_F_OFFSET 8
#define CAP_F_LENGTH 12
#define CAP_F_EXTRA  16 /* notify_off_multiplier / pci_cfg_data */

/* The transport's own feature bits. */
#define TRANSPORT_FEATURES                                                                         \
    (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |                         \
     VIRTIO_BIT(VIRTIO_F_RING_RESET))

/* ---- interrupts ------------------------------------------------------------ */

static void update_intx(struct virtio_pci *vp)
{
    vp->dev->hlp->pci_set_irq(vp->dev, &vp->fn, vp->isr != 0);
}

void virtio_pci_queue_interrupt(struct virtio_pci *vp, unsigned q)
{
    if (q < vp->p.num_queues && !virtq_wants_interrupt(vp->dev, &vp->q[q]))
        return;
    vp->isr |= VIRTIO_ISR_QUEUE;
    update_intx(vp);
}

void virtio_pci_config_changed(struct virtio_pci *vp)
{
    vp->generation++;
    vp->isr |= VIRTIO_ISR_CONFIG;
    update_intx(vp);
}

void virtio_pci_needs_reset(struct virtio_pci *vp, const char *why)
{
    if (vp->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
        return;
    vp->dev->hlp->log(vp->dev, PDM_LOG_WARN,
                      "%s: the driver broke the protocol (%s): device needs reset", vp->p.name,
                      why);
    vp->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
    if (vp->status & VIRTIO_STATUS_DRIVER_OK)
        virtio_pci_config_changed(vp);
}

bool virtio_pci_running(const struct virtio_pci *vp)
{
    return (vp->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_DEVICE_NEEDS_RESET)) ==
               VIRTIO_STATUS_DRIVER_OK &&
           (pci_fn_get16(&vp->fn, PCI_COMMAND) & PCI_COMMAND_MASTER);
}

bool virtio_pci_has(const struct virtio_pci *vp, unsigned bit)
{
    return bit < 64 && (vp->driver_features & VIRTIO_BIT(bit));
}

/* ---- reset ----------------------------------------------------------------- */

static void queue_clear(struct virtq *q)
{
    uint16_t max = q->max;
    *q = (struct virtq){.max = max, .size = max, .msix = VIRTIO_MSI_NO_VECTOR};
}

static void device_reset(struct virtio_pci *vp)
{
    vp->p.ops->reset(vp);
    vp->driver_features = 0;
    vp->dfselect = vp->gfselect = 0;
    vp->status = 0;
    vp->isr = 0;
    vp->qselect = 0;
    vp->msix_config = VIRTIO_MSI_NO_VECTOR;
    for (unsigned i = 0; i < vp->p.num_queues; i++)
        queue_clear(&vp->q[i]);
    update_intx(vp);
}

void virtio_pci_reset(struct virtio_pci *vp)
{
    device_reset(vp);
}

/* ---- the common configuration ----------------------------------------------- */

static struct virtq *selected(struct virtio_pci *vp)
{
    return vp->qselect < vp->p.num_queues ? &vp->q[vp->qselect] : NULL;
}

static void common_snapshot(struct virtio_pci *vp, uint8_t *b)
{
    struct virtq *q = selected(vp);
    memset(b, 0, VIRTIO_PCI_COMMON_SIZE);
    virtio_put_le(b + VIRTIO_PCI_COMMON_DFSELECT, 4, vp->dfselect);
    virtio_put_le(b + VIRTIO_PCI_COMMON_DF, 4,
                  vp->dfselect < 2 ? vp->offered >> (32 * vp->dfselect) : 0);
    virtio_put_le(b + VIRTIO_PCI_COMMON_GFSELECT, 4, vp->gfselect);
    virtio_put_le(b + VIRTIO_PCI_COMMON_GF, 4,
                  vp->gfselect < 2 ? vp->driver_features >> (32 * vp->gfselect) : 0);
    virtio_put_le(b + VIRTIO_PCI_COMMON_MSIX, 2, VIRTIO_MSI_NO_VECTOR); /* no MSI-X */
    virtio_put_le(b + VIRTIO_PCI_COMMON_NUMQ, 2, vp->p.num_queues);
    b[VIRTIO_PCI_COMMON_STATUS] = vp->status;
    b[VIRTIO_PCI_COMMON_CFGGENERATION] = vp->generation;
    virtio_put_le(b + VIRTIO_PCI_COMMON_Q_SELECT, 2, vp->qselect);
    if (!q)
        return; /* a queue that does not exist: size 0, the rest 0 */
    virtio_put_le(b + VIRTIO_PCI_COMMON_Q_SIZE, 2, q->size);
    virtio_put_le(b + VIRTIO_PCI_COMMON_Q_MSIX, 2, VIRTIO_MSI_NO_VECTOR);
    virtio_put_le(b + VIRTIO_PCI_COMMON_Q_ENABLE, 2, q->enabled);
    virtio_put_le(b + VIRTIO_PCI_COMMON_Q_NOFF, 2, vp->qselect);
    virtio_put_le(b + VIRTIO_PCI_COMMON_Q_DESCLO, 8, q->desc);
    virtio_put_le(b + VIRTIO_PCI_COMMON_Q_AVAILLO, 8, q->avail);
    virtio_put_le(b + VIRTIO_PCI_COMMON_Q_USEDLO, 8, q->used);
    virtio_put_le(b + VIRTIO_PCI_COMMON_Q_NDATA, 2, vp->qselect);
    virtio_put_le(b + VIRTIO_PCI_COMMON_Q_RESET, 2, q->reset);
}

static void set_status(struct virtio_pci *vp, uint8_t v)
{
    if (!v) {
        device_reset(vp);
        return;
    }
    uint8_t old = vp->status;
    if ((v & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
        /* 3.1.1: the device accepts only a subset of its offer, and this
         * transport only VERSION_1 drivers (no legacy interface) */
        if ((vp->driver_features & ~vp->offered) ||
            !(vp->driver_features & VIRTIO_BIT(VIRTIO_F_VERSION_1)))
            v &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
    }
    if ((v & VIRTIO_STATUS_DRIVER_OK) && !(v & VIRTIO_STATUS_FEATURES_OK))
        v &= (uint8_t)~VIRTIO_STATUS_DRIVER_OK; /* DRIVER_OK only after FEATURES_OK */
    vp->status = (uint8_t)(v | (old & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
    if (!(old & VIRTIO_STATUS_DRIVER_OK) && virtio_pci_running(vp))
        for (unsigned i = 0; i < vp->p.num_queues; i++)
            if (vp->q[i].enabled)
                vp->p.ops->notify(vp, i); /* buffers made available before DRIVER_OK */
}

static void set_driver_features(struct virtio_pci *vp, uint32_t v)
{
    if (vp->gfselect >= 2 || (vp->status & VIRTIO_STATUS_FEATURES_OK))
        return;
    unsigned sh = 32 * vp->gfselect;
    vp->driver_features = (vp->driver_features & ~(0xffffffffull << sh)) | (uint64_t)v << sh;
}

static void queue_enable(struct virtio_pci *vp, struct virtq *q, uint16_t v)
{
    if (v != 1 || q->enabled)
        return;
    if (!virtq_valid(q)) {
        virtio_pci_needs_reset(vp, "a queue enabled with a bad size or alignment");
        return;
    }
    q->enabled = true;
    q->reset = false;
    q->last_avail = q->used_idx = 0;
}

static void queue_reset(struct virtio_pci *vp, unsigned qi, uint16_t v)
{
    if (v != 1)
        return;
    if (vp->p.ops->queue_reset)
        vp->p.ops->queue_reset(vp, qi);
    queue_clear(&vp->q[qi]);
    vp->q[qi].reset = true;
}

/* Applies field [off, off+width) of the patched record b. */
static void common_field(struct virtio_pci *vp, unsigned off, const uint8_t *b)
{
    struct virtq *q = selected(vp);
    bool q_writable = q && !q->enabled;
    switch (off) {
    case VIRTIO_PCI_COMMON_DFSELECT:
        vp->dfselect = (uint32_t)virtio_get_le(b + off, 4);
        break;
    case VIRTIO_PCI_COMMON_GFSELECT:
        vp->gfselect = (uint32_t)virtio_get_le(b + off, 4);
        break;
    case VIRTIO_PCI_COMMON_GF:
        set_driver_features(vp, (uint32_t)virtio_get_le(b + off, 4));
        break;
    case VIRTIO_PCI_COMMON_MSIX:
        vp->msix_config = (uint16_t)virtio_get_le(b + off, 2);
        break;
    case VIRTIO_PCI_COMMON_STATUS:
        set_status(vp, b[off]);
        break;
    case VIRTIO_PCI_COMMON_Q_SELECT:
        vp->qselect = (uint16_t)virtio_get_le(b + off, 2);
        break;
    case VIRTIO_PCI_COMMON_Q_SIZE:
        if (q_writable)
            q->size = (uint16_t)virtio_get_le(b + off, 2);
        break;
    case VIRTIO_PCI_COMMON_Q_MSIX:
        if (q)
            q->msix = (uint16_t)virtio_get_le(b + off, 2);
        break;
    case VIRTIO_PCI_COMMON_Q_ENABLE:
        if (q)
            queue_enable(vp, q, (uint16_t)virtio_get_le(b + off, 2));
        break;
    case VIRTIO_PCI_COMMON_Q_DESCLO:
    case VIRTIO_PCI_COMMON_Q_DESCHI:
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
    case VIRTIO_PCI_COMMON_Q_AVAILHI:
    case VIRTIO_PCI_COMMON_Q_USEDLO:
    case VIRTIO_PCI_COMMON_Q_USEDHI: {
        unsigned lo = off & ~7u; /* the 64-bit field both halves belong to */
        uint64_t *a = lo == VIRTIO_PCI_COMMON_Q_DESCLO    ? &q->desc
                      : lo == VIRTIO_PCI_COMMON_Q_AVAILLO ? &q->avail
                                                          : &q->used;
        if (q_writable)
            *a = virtio_get_le(b + lo, 8);
        break;
    }
    case VIRTIO_PCI_COMMON_Q_RESET:
        if (q && virtio_pci_has(vp, VIRTIO_F_RING_RESET))
            queue_reset(vp, vp->qselect, (uint16_t)virtio_get_le(b + off, 2));
        break;
    default: /* read-only: device_feature, num_queues, generation, notify_off/data */
        break;
    }
}

/* The fields in record order: offset and width. */
static const uint8_t common_fields[][2] = {
    {VIRTIO_PCI_COMMON_DFSELECT, 4},  {VIRTIO_PCI_COMMON_DF, 4},
    {VIRTIO_PCI_COMMON_GFSELECT, 4},  {VIRTIO_PCI_COMMON_GF, 4},
    {VIRTIO_PCI_COMMON_MSIX, 2},      {VIRTIO_PCI_COMMON_NUMQ, 2},
    {VIRTIO_PCI_COMMON_STATUS, 1},    {VIRTIO_PCI_COMMON_CFGGENERATION, 1},
    {VIRTIO_PCI_COMMON_Q_SELECT, 2},  {VIRTIO_PCI_COMMON_Q_SIZE, 2},
    {VIRTIO_PCI_COMMON_Q_MSIX, 2},    {VIRTIO_PCI_COMMON_Q_ENABLE, 2},
    {VIRTIO_PCI_COMMON_Q_NOFF, 2},    {VIRTIO_PCI_COMMON_Q_DESCLO, 4},
    {VIRTIO_PCI_COMMON_Q_DESCHI, 4},  {VIRTIO_PCI_COMMON_Q_AVAILLO, 4},
    {VIRTIO_PCI_COMMON_Q_AVAILHI, 4}, {VIRTIO_PCI_COMMON_Q_USEDLO, 4},
    {VIRTIO_PCI_COMMON_Q_USEDHI, 4},  {VIRTIO_PCI_COMMON_Q_NDATA, 2},
    {VIRTIO_PCI_COMMON_Q_RESET, 2},
};

static void common_access(struct virtio_pci *vp, unsigned off, unsigned size, bool write,
                          uint64_t *val)
{
    uint8_t b[VIRTIO_PCI_COMMON_SIZE + 8];
    common_snapshot(vp, b);
    memset(b + VIRTIO_PCI_COMMON_SIZE, 0, 8);
    if (!write) {
        *val = virtio_get_le(b + off, size);
        return;
    }
    virtio_put_le(b + off, size, *val);
    for (size_t i = 0; i < sizeof(common_fields) / sizeof(common_fields[0]); i++) {
        unsigned fo = common_fields[i][0], fw = common_fields[i][1];
        if (fo < off + size && off < fo + fw)
            common_field(vp, fo, b);
    }
}

/* ---- BAR 0 ------------------------------------------------------------------- */

/* An access at `off` into BAR 0 (also reached through the PCI cfg capability). */
static void bar_access(struct virtio_pci *vp, uint32_t off, unsigned size, bool write,
                       uint64_t *val)
{
    if (!write)
        *val = 0;
    if (size == 0 || size > 8 || off >= VIRTIO_PCI_BAR_SIZE || size > VIRTIO_PCI_BAR_SIZE - off)
        return;
    if (off < VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_SIZE) {
        if (size <= VIRTIO_PCI_COMMON_SIZE - off)
            common_access(vp, off - VIRTIO_PCI_COMMON_OFF, size, write, val);
    } else if (off == VIRTIO_PCI_ISR_OFF) {
        if (!write) {
            *val = vp->isr; /* reading acknowledges (4.1.4.5.1) */
            vp->isr = 0;
            update_intx(vp);
        }
    } else if (off >= VIRTIO_PCI_DEVCFG_OFF &&
               off < VIRTIO_PCI_DEVCFG_OFF + VIRTIO_PCI_MAX_DEVCFG) {
        unsigned o = off - VIRTIO_PCI_DEVCFG_OFF;
        if (!write)
            for (unsigned i = 0; i < size && o + i < vp->p.devcfg_size; i++)
                *val |= (uint64_t)vp->p.devcfg[o + i] << (8 * i);
        else if (vp->p.ops->devcfg_write && o < vp->p.devcfg_size)
            vp->p.ops->devcfg_write(
                vp, o, size < vp->p.devcfg_size - o ? size : vp->p.devcfg_size - o, *val);
    } else if (off >= VIRTIO_PCI_NOTIFY_OFF && write) {
        unsigned qi = (off - VIRTIO_PCI_NOTIFY_OFF) / VIRTIO_PCI_NOTIFY_MULT;
        /* a queue that is absent or not enabled, or a device not running: nothing */
        if (qi < vp->p.num_queues && vp->q[qi].enabled && virtio_pci_running(vp))
            vp->p.ops->notify(vp, qi);
    }
}

void virtio_pci_mmio(struct virtio_pci *vp, uint64_t addr, unsigned size, bool write, uint64_t *val)
{
    uint64_t base = vp->fn.bar[VIRTIO_PCI_BAR].addr;
    if (base == PCI_BAR_UNMAPPED || addr < base || addr - base >= VIRTIO_PCI_BAR_SIZE) {
        if (!write)
            *val = 0;
        return;
    }
    bar_access(vp, (uint32_t)(addr - base), size, write, val);
}

/* ---- configuration space: the PCI cfg access capability -------------------- */

static bool touches_data(unsigned off, unsigned size)
{
    return off < CAP_PCICFG + CAP_F_EXTRA + 4 && CAP_PCICFG + CAP_F_EXTRA < off + size;
}

/* The access the capability describes, if it is one the BAR takes. */
static bool cfgcap_target(const struct virtio_pci *vp, uint32_t *off, unsigned *len)
{
    const uint8_t *c = vp->fn.cfg + CAP_PCICFG;
    *off = (uint32_t)virtio_get_le(c + CAP_F_OFFSET, 4);
    *len = (unsigned)virtio_get_le(c + CAP_F_LENGTH, 4);
    return c[CAP_F_BAR] == VIRTIO_PCI_BAR && (*len == 1 || *len == 2 || *len == 4) &&
           !(*off % *len);
}

static void cfg_read(struct pci_function *fn, unsigned off, unsigned size, uint32_t *val)
{
    struct virtio_pci *vp = fn->owner;
    uint32_t boff;
    unsigned len;
    if (!touches_data(off, size) || !cfgcap_target(vp, &boff, &len))
        return;
    uint64_t v = 0;
    bar_access(vp, boff, len, false, &v);
    virtio_put_le(fn->cfg + CAP_PCICFG + CAP_F_EXTRA, 4, v);
    *val = (uint32_t)virtio_get_le(fn->cfg + off, size);
}

static void cfg_write(struct pci_function *fn, unsigned off, unsigned size, uint32_t val)
{
    struct virtio_pci *vp = fn->owner;
    uint32_t boff;
    unsigned len;
    if (!touches_data(off, size) || !cfgcap_target(vp, &boff, &len))
        return;
    uint64_t v = virtio_get_le(fn->cfg + CAP_PCICFG + CAP_F_EXTRA, len);
    bar_access(vp, boff, len, true, &v);
}

static const struct pci_function_ops cfg_ops = {.read = cfg_read, .write = cfg_write};

/* ---- construction -------------------------------------------------------------- */

static void add_cap(struct pci_function *f, unsigned at, unsigned next, unsigned len, uint8_t type,
                    uint32_t offset, uint32_t length)
{
    pci_fn_set8(f, at, CAP_VNDR);
    pci_fn_set8(f, at + 1, (uint8_t)next);
    pci_fn_set8(f, at + 2, (uint8_t)len);
    pci_fn_set8(f, at + 3, type);
    pci_fn_set8(f, at + CAP_F_BAR, VIRTIO_PCI_BAR);
    pci_fn_set32(f, at + CAP_F_OFFSET, offset);
    pci_fn_set32(f, at + CAP_F_LENGTH, length);
}

cap_result virtio_pci_init(struct virtio_pci *vp, struct pdm_dev *dev,
                           const struct virtio_pci_params *p, int devfn)
{
    if (!p->ops || !p->ops->reset || !p->ops->notify || !p->num_queues ||
        p->num_queues > VIRTIO_PCI_MAX_QUEUES || !p->queue_max || p->queue_max > VIRTQ_MAX_SIZE ||
        (p->queue_max & (p->queue_max - 1)) || p->devcfg_size > VIRTIO_PCI_MAX_DEVCFG)
        return dev->hlp->error(dev, CAP_E_INVALIDARG, "%s: bad virtio parameters", p->name);
    memset(vp, 0, sizeof(*vp));
    vp->dev = dev;
    vp->p = *p;
    vp->offered = p->features | TRANSPORT_FEATURES;
    for (unsigned i = 0; i < p->num_queues; i++)
        vp->q[i].max = p->queue_max;
    struct pci_function *f = &vp->fn;
    pci_fn_init(f, p->name, VIRTIO_PCI_VENDOR, (uint16_t)(VIRTIO_PCI_DEVICE_BASE + p->device_id), 1,
                p->class_code);
    pci_fn_set16(f, PCI_SUBSYSTEM_VENDOR_ID, VIRTIO_PCI_VENDOR);
    pci_fn_set16(f, PCI_SUBSYSTEM_ID, 0x1100);
    pci_fn_set8(f, PCI_INTERRUPT_PIN, 1); /* INTA# */
    pci_fn_set16(f, PCI_STATUS, PCI_STATUS_CAPS);
    pci_fn_set8(f, PCI_CAP_PTR, CAP_COMMON);
    add_cap(f, CAP_COMMON, CAP_ISR, CAP_LEN, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFF,
            VIRTIO_PCI_COMMON_SIZE);
    add_cap(f, CAP_ISR, CAP_DEVICE, CAP_LEN, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF, 1);
    add_cap(f, CAP_DEVICE, CAP_NOTIFY, CAP_LEN, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVCFG_OFF,
            p->devcfg_size ? p->devcfg_size : 1);
    add_cap(f, CAP_NOTIFY, CAP_PCICFG, CAP_LEN_LONG, VIRTIO_PCI_CAP_NOTIFY_CFG,
            VIRTIO_PCI_NOTIFY_OFF, VIRTIO_PCI_NOTIFY_MULT * p->num_queues);
    pci_fn_set32(f, CAP_NOTIFY + CAP_F_EXTRA, VIRTIO_PCI_NOTIFY_MULT);
    add_cap(f, CAP_PCICFG, 0, CAP_LEN_LONG, VIRTIO_PCI_CAP_PCI_CFG, 0, 0);
    /* the access capability's bar, offset, length and data are the driver's */
    f->wmask[CAP_PCICFG + CAP_F_BAR] = 0xff;
    memset(f->wmask + CAP_PCICFG + CAP_F_OFFSET, 0xff, 12);
    cap_result rc = pci_fn_declare_bar(f, VIRTIO_PCI_BAR, 0, VIRTIO_PCI_BAR_SIZE, vp);
    if (CAP_FAILED(rc))
        return dev->hlp->error(dev, rc, "%s: cannot declare BAR 0", p->name);
    f->ops = &cfg_ops;
    f->owner = vp;
    device_reset(vp);
    return dev->hlp->pci_register(dev, devfn, f);
}

/* ---- saved state ------------------------------------------------------------- */

/* Where the fields go: the raw record (every field as a fixed-width
 * little-endian value, in this order) or the SSM unit (by name, with
 * `prefix`; queue i's as qI.NAME). */
struct vp_ssm {
    struct pdm_ssm *raw;
    struct ssm_writer *w;
    struct ssm_unit *u;
    const char *prefix;
    bool load;
};

static uint64_t field_get(const void *field, unsigned width)
{
    return width == 8   ? *(const uint64_t *)field
           : width == 4 ? *(const uint32_t *)field
           : width == 2 ? *(const uint16_t *)field
                        : *(const uint8_t *)field;
}

static void field_set(void *field, unsigned width, uint64_t v)
{
    if (width == 8)
        *(uint64_t *)field = v;
    else if (width == 4)
        *(uint32_t *)field = (uint32_t)v;
    else if (width == 2)
        *(uint16_t *)field = (uint16_t)v;
    else
        *(uint8_t *)field = (uint8_t)v;
}

static cap_result ssm_u(struct virtio_pci *vp, const struct vp_ssm *c, const char *name,
                        void *field, unsigned width)
{
    uint8_t b[8];
    const struct pdm_hlp *h = vp->dev->hlp;
    if (!c->raw) {
        char n[SSM_NAME_MAX];
        snprintf(n, sizeof n, "%s%s", c->prefix ? c->prefix : "", name);
        uint64_t v = field_get(field, width);
        if (!c->load)
            return h->ssm->put_u64(c->w, n, v);
        cap_result rc = h->ssm->get_u64(c->u, n, v, &v);
        if (CAP_SUCCEEDED(rc) && width < 8 && v >> (8 * width))
            rc = h->error(vp->dev, VMM_E_SSM_FIELD, "%s: saved field '%s' out of range", vp->p.name,
                          n);
        if (CAP_SUCCEEDED(rc))
            field_set(field, width, v);
        return rc;
    }
    if (!c->load) {
        virtio_put_le(b, width, field_get(field, width));
        return h->ssm_put(c->raw, b, width);
    }
    cap_result rc = h->ssm_get(c->raw, b, width);
    if (CAP_FAILED(rc))
        return rc;
    field_set(field, width, virtio_get_le(b, width));
    return CAP_OK;
}

static cap_result ssm_all(struct virtio_pci *vp, const struct vp_ssm *c)
{
    uint8_t flags[VIRTIO_PCI_MAX_QUEUES];
    cap_result rc = CAP_OK;
    char n[32];
    bool load = c->load;
#define F(name, x, w)                                                                              \
    if (CAP_SUCCEEDED(rc))                                                                         \
    rc = ssm_u(vp, c, name, &(x), w)
    F("driver_features", vp->driver_features, 8);
    F("dfselect", vp->dfselect, 4);
    F("gfselect", vp->gfselect, 4);
    F("status", vp->status, 1);
    F("isr", vp->isr, 1);
    F("generation", vp->generation, 1);
    F("qselect", vp->qselect, 2);
    F("msix_config", vp->msix_config, 2);
    for (unsigned i = 0; i < vp->p.num_queues; i++) {
        struct virtq *q = &vp->q[i];
        flags[i] = (uint8_t)(q->enabled | q->reset << 1);
#define Q(name, x, w)                                                                              \
    snprintf(n, sizeof n, "q%u.%s", i, name);                                                      \
    F(n, x, w)
        Q("size", q->size, 2);
        Q("flags", flags[i], 1);
        Q("msix", q->msix, 2);
        Q("desc", q->desc, 8);
        Q("avail", q->avail, 8);
        Q("used", q->used, 8);
        Q("last_avail", q->last_avail, 2);
        Q("used_idx", q->used_idx, 2);
#undef Q
        if (load) {
            q->enabled = flags[i] & 1;
            q->reset = flags[i] & 2;
        }
    }
#undef F
    return rc;
}

/* After a load: what the driver could not have made is refused. */
static cap_result loaded(struct virtio_pci *vp)
{
    for (unsigned i = 0; i < vp->p.num_queues; i++)
        if (vp->q[i].enabled && !virtq_valid(&vp->q[i]))
            return vp->dev->hlp->error(vp->dev, CAP_E_INVALIDARG,
                                       "%s: saved state: queue %u is not valid", vp->p.name, i);
    update_intx(vp);
    return CAP_OK;
}

cap_result virtio_pci_save_state(struct virtio_pci *vp, struct ssm_writer *w, const char *prefix)
{
    struct vp_ssm c = {.w = w, .prefix = prefix};
    return ssm_all(vp, &c);
}

cap_result virtio_pci_load_state(struct virtio_pci *vp, struct ssm_unit *u, const char *prefix)
{
    struct vp_ssm c = {.u = u, .prefix = prefix, .load = true};
    cap_result rc = ssm_all(vp, &c);
    return CAP_SUCCEEDED(rc) ? loaded(vp) : rc;
}

cap_result virtio_pci_save(struct virtio_pci *vp, struct pdm_ssm *ssm)
{
    struct vp_ssm c = {.raw = ssm};
    return ssm_all(vp, &c);
}

cap_result virtio_pci_load(struct virtio_pci *vp, struct pdm_ssm *ssm)
{
    struct vp_ssm c = {.raw = ssm, .load = true};
    cap_result rc = ssm_all(vp, &c);
    return CAP_SUCCEEDED(rc) ? loaded(vp) : rc;
}

void virtio_pci_dev_reset(struct pdm_dev *dev)
{
    virtio_pci_reset(dev->data);
}

cap_result virtio_pci_dev_mmio(struct pdm_dev *dev, void *user, uint64_t addr, unsigned size,
                               bool write, uint64_t *val)
{
    virtio_pci_mmio(user, addr, size, write, val);
    return CAP_OK;
}

cap_result virtio_pci_cfg_devfn(struct pdm_dev *dev, const struct pdm_cfg *cfg, int *devfn)
{
    int64_t v;
    cap_result rc = dev->hlp->cfg_int(dev, cfg, "devfn", PDM_PCI_DEVFN_ANY, -1, 255, &v);
    if (CAP_FAILED(rc))
        return rc;
    if (v >= 0 && v < 8)
        return dev->hlp->error(dev, CAP_E_INVALIDARG,
                               "devfn %lld is the host bridge's slot (0): use 8-255 or -1 (any)",
                               (long long)v);
    *devfn = (int)v;
    return CAP_OK;
}
