/*
 * plugins/devices/virtio/virtio.h - the virtio 1.x PCI transport and split
 * virtqueues, shared by the virtio device plugins (virtio-blk and
 * virtio-input here; virtio-net later): the SConscript builds
 * virtio_pci.c and virtio_queue.c once and links them into each. Facts from the virtio
 * specification 1.2 (OASIS): 2.1 device status, 2.2 feature bits, 2.7 split virtqueues, 4.1 PCI.
 *
 * Two pieces, both plain C over the device API (pdmdev.h):
 *
 *  - virtio_queue.c: one split virtqueue in guest memory. virtq_pop walks
 *    the next available descriptor chain (direct and indirect) into a list
 *    of guest-physical segments, readable ones first; every read of guest
 *    memory goes through hlp->phys_read, so a chain pointing outside RAM,
 *    looping, or longer than the queue is reported, never followed. The
 *    walk costs at most `size` descriptors per chain. virtq_push returns a
 *    chain to the driver through the used ring.
 *
 *  - virtio_pci.c: a "modern" (non-transitional) virtio PCI function:
 *    vendor 0x1af4, device 0x1040 + virtio device ID, revision 1; one
 *    32-bit memory BAR (BAR 0, 16 KiB) holding the common configuration,
 *    ISR status, device-specific configuration and notification regions,
 *    each described by a vendor-specific capability; the PCI configuration
 *    access capability (VIRTIO_PCI_CAP_PCI_CFG). Feature negotiation
 *    (VIRTIO_F_VERSION_1 required), device status and reset, queue
 *    configuration, enabling and per-queue reset (VIRTIO_F_RING_RESET),
 *    interrupts through INTx (the ISR register; no MSI-X: a driver then
 *    falls back to INTx, as Linux does).
 *
 * A device type fills struct virtio_pci_params (its device ID, features,
 * queues, configuration bytes, callbacks) and calls virtio_pci_init at
 * construct; its ops->mmio forwards accesses whose `user` is the
 * struct virtio_pci to virtio_pci_mmio. The transport calls back:
 *  reset:        the driver wrote 0 to device_status, or the machine was
 *                reset (virtio_pci_reset): drop every request in flight
 *                (none may complete into the old queues afterwards).
 *  queue_reset:  queue q is being reset (VIRTIO_F_RING_RESET): drop its
 *                requests in flight. Optional when nothing is ever in
 *                flight past an op.
 *  notify:       the driver made buffers available on queue q (after
 *                DRIVER_OK, the queue enabled and the device not broken).
 *  devcfg_write: the driver wrote `size` bytes (1-8, little-endian `val`)
 *                at byte `off` of the device configuration, all inside
 *                devcfg_size (bytes past it are cut off). Optional: without
 *                it the device configuration is read-only. The device may
 *                change its configuration bytes (devcfg) in it; that is
 *                the driver's own doing, so no configuration interrupt.
 * A device that finds the driver broke the protocol (a malformed chain)
 * calls virtio_pci_needs_reset: DEVICE_NEEDS_RESET is set, a configuration
 * change interrupt raised, and no queue is served until the driver resets
 * the device.
 *
 * Threads: as every device call, under PDM's per-VM lock.
 */
#ifndef CAPSULE_DEV_VIRTIO_H
#define CAPSULE_DEV_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include "pdmdev_fields.h"

/* ---- facts from the specification ------------------------------------------ */

/* 2.1 Device status field. */
#define VIRTIO_STATUS_ACKNOWLEDGE        0x01
#define VIRTIO_STATUS_DRIVER             0x02
#define VIRTIO_STATUS_DRIVER_OK          0x04
#define VIRTIO_STATUS_FEATURES_OK        0x08
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED             0x80

/* 6 Reserved feature bits. */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32
#define VIRTIO_F_RING_RESET    40
#define VIRTIO_BIT(n)          (1ull << (n))

/* 2.7.5 The virtqueue descriptor table. */
#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_DESC_SIZE       16 /* le64 addr, le32 len, le16 flags, le16 next */
/* 2.7.6 / 2.7.8 the rings: flags and idx (le16), then the entries. */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_ELEM_SIZE       8 /* le32 id, le32 len */

/* The largest queue this implementation serves (a split queue's size is a
 * power of two up to 32768; 256 is what drivers use). */
#define VIRTQ_MAX_SIZE 256u

/* 4.1.2 PCI device discovery. */
#define VIRTIO_PCI_VENDOR      0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040 /* + the virtio device ID (modern) */
#define VIRTIO_ID_NET          1
#define VIRTIO_ID_BLOCK        2
#define VIRTIO_ID_INPUT        18

/* 4.1.4 capability types (cfg_type). */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG    3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG    5

/* 4.1.4.3 the common configuration structure (offsets). */
#define VIRTIO_PCI_COMMON_DFSELECT      0x00
#define VIRTIO_PCI_COMMON_DF            0x04
#define VIRTIO_PCI_COMMON_GFSELECT      0x08
#define VIRTIO_PCI_COMMON_GF            0x0c
#define VIRTIO_PCI_COMMON_MSIX          0x10
#define VIRTIO_PCI_COMMON_NUMQ          0x12
#define VIRTIO_PCI_COMMON_STATUS        0x14
#define VIRTIO_PCI_COMMON_CFGGENERATION 0x15
#define VIRTIO_PCI_COMMON_Q_SELECT      0x16
#define VIRTIO_PCI_COMMON_Q_SIZE        0x18
#define VIRTIO_PCI_COMMON_Q_MSIX        0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE      0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF        0x1e
#define VIRTIO_PCI_COMMON_Q_DESCLO      0x20
#define VIRTIO_PCI_COMMON_Q_DESCHI      0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO     0x28
#define VIRTIO_PCI_COMMON_Q_AVAILHI     0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO      0x30
#define VIRTIO_PCI_COMMON_Q_USEDHI      0x34
#define VIRTIO_PCI_COMMON_Q_NDATA       0x38
#define VIRTIO_PCI_COMMON_Q_RESET       0x3a
#define VIRTIO_PCI_COMMON_SIZE          0x3c
#define VIRTIO_MSI_NO_VECTOR            0xffff

/* ISR status bits (4.1.4.5). */
#define VIRTIO_ISR_QUEUE  0x1
#define VIRTIO_ISR_CONFIG 0x2

/* Where this transport puts its regions in BAR 0 (one page each). */
#define VIRTIO_PCI_BAR         0
#define VIRTIO_PCI_BAR_SIZE    0x4000u
#define VIRTIO_PCI_COMMON_OFF  0x0000u
#define VIRTIO_PCI_ISR_OFF     0x1000u
#define VIRTIO_PCI_DEVCFG_OFF  0x2000u
#define VIRTIO_PCI_NOTIFY_OFF  0x3000u
#define VIRTIO_PCI_NOTIFY_MULT 4u /* notify_off_multiplier: queue q at +4q */
#define VIRTIO_PCI_MAX_QUEUES  16u
#define VIRTIO_PCI_MAX_DEVCFG  0x100u

/* Little-endian fields of `width` bytes (1-8): the rings, the common and
 * device configuration are all little-endian (virtio 1.x). */
static inline void virtio_put_le(uint8_t *p, unsigned width, uint64_t v)
{
    for (unsigned i = 0; i < width; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t virtio_get_le(const uint8_t *p, unsigned width)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < width; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* ---- one split virtqueue ---------------------------------------------------- */

/* Lifecycle: size/max and the addresses are the driver's (common cfg),
 * last_avail and used_idx the device's; all zero after a reset. */
struct virtq {
    uint16_t max;  /* the largest size the device takes (set at init) */
    uint16_t size; /* the driver's queue size */
    bool enabled;  /* queue_enable was written 1 */
    bool reset;    /* queue_reset reads 1 (reset, not yet re-enabled) */
    uint16_t msix; /* queue_msix_vector (kept; no MSI-X) */
    uint64_t desc, avail, used;
    uint16_t last_avail; /* the next available ring entry the device takes */
    uint16_t used_idx;   /* the device's used index */
};

/* A guest-physical buffer of a chain. */
struct virtq_seg {
    uint64_t addr;
    uint32_t len;
};

/* A descriptor chain as virtq_pop found it: n_out driver-readable segments,
 * then n - n_out device-writable ones. */
struct virtq_chain {
    uint16_t head;
    unsigned n, n_out;
    uint64_t out_bytes, in_bytes;
    struct virtq_seg seg[VIRTQ_MAX_SIZE];
};

/* What virtq_pop answers. */
enum virtq_pop_result {
    VIRTQ_POP_EMPTY = 0,   /* nothing available */
    VIRTQ_POP_CHAIN = 1,   /* *chain filled */
    VIRTQ_POP_BROKEN = -1, /* the driver broke the protocol: *why says how */
};

/* Whether queue q's addresses, size and alignment are usable (2.7: size a
 * power of two up to max; descriptor table 16-, available ring 2-, used
 * ring 4-byte aligned). */
bool virtq_valid(const struct virtq *q);

/*
 * Takes the next available chain of q (enabled and valid) into *c:
 * reads avail->idx (an index more than `size` ahead of what the device
 * took is BROKEN), the ring entry, and walks the chain: at most `size`
 * descriptors of the table, and with `indirect` (VIRTIO_F_INDIRECT_DESC
 * negotiated) one indirect table as the chain's last descriptor (2.7.5.3:
 * not with NEXT, not inside a table, a non-zero multiple of 16 bytes),
 * `size` segments in all; writable segments only after the readable ones.
 * Zero-length descriptors are skipped. A read of guest memory that fails
 * (outside RAM) is BROKEN. On BROKEN the available entry is consumed and
 * *why names the problem.
 */
enum virtq_pop_result virtq_pop(struct pdm_dev *dev, struct virtq *q, bool indirect,
                                struct virtq_chain *c, const char **why);

/* Puts chain `head` into q's used ring with `len` bytes written by the
 * device, then publishes the used index. CAP_E_INVALIDARG when the used
 * ring is not in RAM (the caller then marks the device broken). */
cap_result virtq_push(struct pdm_dev *dev, struct virtq *q, uint16_t head, uint32_t len);

/* Whether the driver wants an interrupt for used buffers now (its available
 * ring's flags lack VIRTQ_AVAIL_F_NO_INTERRUPT). */
bool virtq_wants_interrupt(struct pdm_dev *dev, const struct virtq *q);

/* Copies between a chain's readable (read) / writable (write) bytes, from
 * byte `off` of that part, and a host buffer: returns false when the range
 * is not in the chain or a segment is not in RAM (nothing more is done). */
bool virtq_chain_read(struct pdm_dev *dev, const struct virtq_chain *c, uint64_t off, void *buf,
                      uint64_t len);
bool virtq_chain_write(struct pdm_dev *dev, const struct virtq_chain *c, uint64_t off,
                       const void *buf, uint64_t len);

/* ---- the PCI transport ------------------------------------------------------ */

struct virtio_pci;

struct virtio_pci_ops {
    void (*reset)(struct virtio_pci *vp);
    void (*queue_reset)(struct virtio_pci *vp, unsigned q);
    void (*notify)(struct virtio_pci *vp, unsigned q);
    void (*devcfg_write)(struct virtio_pci *vp, unsigned off, unsigned size, uint64_t val);
};

struct virtio_pci_params {
    const char *name;      /* the PCI function's name, for logs */
    uint16_t device_id;    /* VIRTIO_ID_* */
    uint32_t class_code;   /* PCI class (base << 16 | sub << 8 | prog-if) */
    uint64_t features;     /* device-specific bits; the transport adds its own */
    unsigned num_queues;   /* 1..VIRTIO_PCI_MAX_QUEUES */
    uint16_t queue_max;    /* each queue's largest size: a power of two <= VIRTQ_MAX_SIZE */
    const uint8_t *devcfg; /* the device configuration (little-endian), read by the driver */
    unsigned devcfg_size;  /* <= VIRTIO_PCI_MAX_DEVCFG */
    const struct virtio_pci_ops *ops;
    void *owner; /* the device type's state, for its callbacks */
};

/* One virtio function. Embedded in the device type's state; everything is
 * set by virtio_pci_init and after that the transport's. */
struct virtio_pci {
    struct pci_function fn;
    struct pdm_dev *dev;
    struct virtio_pci_params p;
    uint64_t offered;         /* features offered: p.features + transport bits */
    uint64_t driver_features; /* what the driver accepted */
    uint32_t dfselect, gfselect;
    uint8_t status;
    uint8_t isr;
    uint8_t generation; /* config_generation */
    uint16_t qselect;
    uint16_t msix_config;
    struct virtq q[VIRTIO_PCI_MAX_QUEUES];
};

/*
 * Fills vp->fn (identity, capabilities, BAR 0) and puts it on the bus at
 * `devfn` (or PDM_PCI_DEVFN_ANY). Construct only. The device's ops->mmio
 * must forward accesses with user == vp to virtio_pci_mmio. Errors: bad
 * params (CAP_E_INVALIDARG), the bus's (error info).
 */
cap_result virtio_pci_init(struct virtio_pci *vp, struct pdm_dev *dev,
                           const struct virtio_pci_params *p, int devfn);

/* An access to BAR 0 at guest address `addr`. Never fails. */
void virtio_pci_mmio(struct virtio_pci *vp, uint64_t addr, unsigned size, bool write,
                     uint64_t *val);

/* The machine's reset: the device resets (ops->reset), INTx drops. */
void virtio_pci_reset(struct virtio_pci *vp);

/* Whether the device may use its queues now: DRIVER_OK set, not broken,
 * bus mastering on. */
bool virtio_pci_running(const struct virtio_pci *vp);

/* Whether feature bit `bit` was negotiated. */
bool virtio_pci_has(const struct virtio_pci *vp, unsigned bit);

/* Queue q used buffers: the queue interrupt (ISR bit 0, INTx) unless the
 * driver suppressed it. */
void virtio_pci_queue_interrupt(struct virtio_pci *vp, unsigned q);

/* The driver broke the protocol (`why`, logged once): DEVICE_NEEDS_RESET,
 * a configuration change interrupt; no queue is served until a reset. */
void virtio_pci_needs_reset(struct virtio_pci *vp, const char *why);

/* The device configuration changed (config_generation + 1, interrupt). */
void virtio_pci_config_changed(struct virtio_pci *vp);

/* For a device of one function whose state (dev->data) begins with its
 * struct virtio_pci: ops->reset and ops->mmio that only forward to the
 * transport, and its "devfn" configuration key: -1 (PDM_PCI_DEVFN_ANY, the
 * default) or 8-255 (slot 0 is the host bridge's), error info otherwise. */
void virtio_pci_dev_reset(struct pdm_dev *dev);
cap_result virtio_pci_dev_mmio(struct pdm_dev *dev, void *user, uint64_t addr, unsigned size,
                               bool write, uint64_t *val);
cap_result virtio_pci_cfg_devfn(struct pdm_dev *dev, const struct pdm_cfg *cfg, int *devfn);

/* Saved state of the transport (field by field): within the device's own
 * save / load. */
cap_result virtio_pci_save(struct virtio_pci *vp, struct pdm_ssm *ssm);
cap_result virtio_pci_load(struct virtio_pci *vp, struct pdm_ssm *ssm);
/* The same as named fields of the device's SSM unit (save_state /
 * load_state), each name after `prefix` (NULL: none): driver_features,
 * dfselect, gfselect, status, isr, generation, qselect, msix_config and
 * qI.size, qI.flags, qI.msix, qI.desc, qI.avail, qI.used, qI.last_avail,
 * qI.used_idx per queue; a value too wide for its register is refused. */
cap_result virtio_pci_save_state(struct virtio_pci *vp, struct ssm_writer *w, const char *prefix);
cap_result virtio_pci_load_state(struct virtio_pci *vp, struct ssm_unit *u, const char *prefix);

#endif /* CAPSULE_DEV_VIRTIO_H */
