/*
 * plugins/devices/virtio/virtio_net.c - a virtio-net adapter (virtio 1.2,
 * 5.1) on the virtio PCI transport: device "virtionet", PCI function
 * 1af4:1041 (class network controller, Ethernet), its frames going to and
 * coming from the backend PDM attaches to it (pdmdev.h "network adapters":
 * hlp->net_attach, net_send; capsule-vm --nic nat).
 *
 * The simplest feature set Linux drives: VIRTIO_NET_F_MAC (the MAC in the
 * configuration), VIRTIO_NET_F_STATUS (the link state there, up unless
 * configured `link=false`; pdm_net_set_link changes it while the VM runs, with a
 * configuration change interrupt) and VIRTIO_F_VERSION_1 (the transport's). No
 * offloads, no mergeable buffers: every frame is one buffer, preceded by
 * the 12-byte struct virtio_net_hdr (5.1.6: flags, gso_type, hdr_len,
 * gso_size, csum_start, csum_offset, num_buffers - num_buffers is there
 * with VERSION_1). Queue 0 is receiveq1, queue 1 transmitq1.
 *
 * Receive (the backend's I/O thread, device lock held): the frame goes
 * into the next buffer the driver posted, a header of zeros with
 * num_buffers 1 in front; with no buffer posted, the driver not ready or
 * the link down it is dropped (PDM counts it). A buffer too short for the
 * frame drops the frame (the driver sized its buffers for the MTU).
 * Transmit (the driver's notify): at most VNET_TX_BATCH chains per call;
 * when more are waiting a zero-delay timer continues, so a storm of
 * notifies costs bounded work per exit and never loops. Each chain's
 * readable part is the header and the frame; frames past PDM_NET_FRAME_MAX
 * or shorter than an Ethernet header are dropped (returned used, not
 * sent).
 *
 * A driver breaking the protocol - a receive buffer that is readable, a
 * transmit chain with writable parts, a buffer outside RAM, a malformed
 * chain (virtio_queue.c: loops, too long, outside RAM) - makes the device
 * DEVICE_NEEDS_RESET (virtio_pci_needs_reset). Nothing a guest does makes
 * it allocate: frames are copied through one buffer of the device's state.
 */
#include <stdio.h>

#include "virtio.h"

#define VNET_QUEUE    256 /* entries per queue */
#define VNET_RXQ      0
#define VNET_TXQ      1
#define VNET_HDR_SIZE 12 /* struct virtio_net_hdr with num_buffers */
#define VNET_TX_BATCH 64 /* chains per notify or timer */

/* 5.1.3 feature bits, 5.1.4 the configuration: mac[6], le16 status. */
#define VIRTIO_NET_F_MAC     5
#define VIRTIO_NET_F_STATUS  16
#define VIRTIO_NET_S_LINK_UP 1
#define VNET_CFG_MAC         0
#define VNET_CFG_STATUS      6
#define VNET_CFG_BYTES       8

/*
 * Lifecycle: vp, dev, net, cfg (MAC, status) at construct; link the
 * configuration's; buf scratch for one frame at a time.
 */
struct vnet {
    struct virtio_pci vp; /* first: virtio_pci_dev_reset */
    struct pdm_dev *dev;
    struct pdm_net *net; /* NULL: no backend (frames go nowhere) */
    struct pdm_timer *tx_timer;
    uint8_t cfg[VNET_CFG_BYTES];
    bool link;
    uint8_t buf[VNET_HDR_SIZE + PDM_NET_FRAME_MAX];
};

static bool rx_ready(struct vnet *s)
{
    return s->link && virtio_pci_running(&s->vp) && s->vp.q[VNET_RXQ].enabled;
}

/* ---- receive ------------------------------------------------------------- */

static bool vnet_receive(struct pdm_dev *dev, void *user, const void *frame, size_t len)
{
    struct vnet *s = user;
    struct virtq *q = &s->vp.q[VNET_RXQ];
    if (!rx_ready(s) || len > PDM_NET_FRAME_MAX)
        return false;
    struct virtq_chain chain;
    const char *why = NULL;
    enum virtq_pop_result r =
        virtq_pop(dev, q, virtio_pci_has(&s->vp, VIRTIO_F_INDIRECT_DESC), &chain, &why);
    if (r == VIRTQ_POP_EMPTY)
        return false;
    bool taken = false;
    if (r == VIRTQ_POP_CHAIN && chain.out_bytes)
        why = "a receive buffer that is readable";
    else if (r == VIRTQ_POP_CHAIN && chain.in_bytes < VNET_HDR_SIZE + len) {
        /* too short for this frame: returned empty, the frame dropped */
        if (CAP_FAILED(virtq_push(dev, q, chain.head, 0)))
            why = "the used ring outside RAM";
    } else if (r == VIRTQ_POP_CHAIN) {
        uint8_t hdr[VNET_HDR_SIZE] = {0};
        virtio_put_le(hdr + 10, 2, 1); /* num_buffers */
        if (!virtq_chain_write(dev, &chain, 0, hdr, sizeof(hdr)) ||
            !virtq_chain_write(dev, &chain, VNET_HDR_SIZE, frame, len))
            why = "a receive buffer outside RAM";
        else if (CAP_FAILED(virtq_push(dev, q, chain.head, (uint32_t)(VNET_HDR_SIZE + len))))
            why = "the used ring outside RAM";
        else
            taken = true;
    }
    if (why) {
        virtio_pci_needs_reset(&s->vp, why);
        return false;
    }
    virtio_pci_queue_interrupt(&s->vp, VNET_RXQ);
    return taken;
}

static const struct pdm_net_port vnet_port = {.receive = vnet_receive};

/* ---- transmit ------------------------------------------------------------ */

/* Sends up to VNET_TX_BATCH chains; re-arms the timer when more wait. */
static void tx_run(struct vnet *s)
{
    struct virtq *q = &s->vp.q[VNET_TXQ];
    bool indirect = virtio_pci_has(&s->vp, VIRTIO_F_INDIRECT_DESC), done = false;
    unsigned n = 0;
    for (; n < VNET_TX_BATCH && virtio_pci_running(&s->vp) && q->enabled; n++) {
        struct virtq_chain c;
        const char *why = NULL;
        enum virtq_pop_result r = virtq_pop(s->dev, q, indirect, &c, &why);
        if (r == VIRTQ_POP_EMPTY)
            break;
        if (r == VIRTQ_POP_CHAIN && c.in_bytes)
            why = "a transmit chain with device-writable buffers";
        else if (r == VIRTQ_POP_CHAIN) {
            uint64_t len = c.out_bytes;
            /* a frame past the largest, or shorter than a header: dropped */
            if (len >= VNET_HDR_SIZE + PDM_NET_FRAME_MIN &&
                len <= VNET_HDR_SIZE + PDM_NET_FRAME_MAX) {
                if (!virtq_chain_read(s->dev, &c, 0, s->buf, len))
                    why = "a transmit buffer outside RAM";
                else if (s->net && s->link)
                    s->dev->hlp->net_send(s->net, s->buf + VNET_HDR_SIZE, len - VNET_HDR_SIZE);
            }
            if (!why && CAP_FAILED(virtq_push(s->dev, q, c.head, 0)))
                why = "the used ring outside RAM";
        }
        if (why) {
            virtio_pci_needs_reset(&s->vp, why);
            return;
        }
        done = true;
    }
    if (done)
        virtio_pci_queue_interrupt(&s->vp, VNET_TXQ);
    if (n == VNET_TX_BATCH && !s->dev->hlp->timer_armed(s->tx_timer))
        s->dev->hlp->timer_arm_rel(s->tx_timer, 0);
}

static void vnet_tx_timer(struct pdm_dev *dev, void *user, uint64_t now_ns)
{
    (void)dev, (void)now_ns;
    tx_run(user);
}

/* ---- the transport's callbacks -------------------------------------------- */

static void vnet_reset(struct virtio_pci *vp)
{
    struct vnet *s = vp->p.owner;
    s->dev->hlp->timer_disarm(s->tx_timer);
}

static void vnet_notify(struct virtio_pci *vp, unsigned q)
{
    if (q == VNET_TXQ)
        tx_run(vp->p.owner);
    /* receive buffers are taken when frames come */
}

/* The cable (PDM_IFACE_NET): the status field and a configuration change
 * interrupt, after which Linux reads the status and sets its carrier. */
static void vnet_set_link(struct pdm_dev *dev, bool up)
{
    struct vnet *s = dev->data;
    if (s->link == up)
        return;
    s->link = up;
    virtio_put_le(s->cfg + VNET_CFG_STATUS, 2, up ? VIRTIO_NET_S_LINK_UP : 0);
    virtio_pci_config_changed(&s->vp);
}

static const struct pdm_net_iface vnet_net = {.set_link = vnet_set_link};

static const void *vnet_query_interface(struct pdm_dev *dev, const char *iface)
{
    return strcmp(iface, PDM_IFACE_NET) == 0 ? &vnet_net : NULL;
}

static const struct virtio_pci_ops vnet_vp_ops = {
    .reset = vnet_reset,
    .notify = vnet_notify,
};

/* ---- the device -------------------------------------------------------------- */

/* "52:54:00:12:34:56" -> 6 bytes; false when malformed or multicast. */
static bool parse_mac(const char *text, uint8_t mac[6])
{
    unsigned v[6];
    char end;
    if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) !=
            6 ||
        strlen(text) != 17)
        return false;
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)v[i];
    return !(mac[0] & 1);
}

static cap_result vnet_construct(struct pdm_dev *dev, const struct pdm_cfg *cfg)
{
    struct vnet *s = dev->data;
    const struct pdm_hlp *h = dev->hlp;
    int devfn;
    const char *mac;
    cap_result rc = virtio_pci_cfg_devfn(dev, cfg, &devfn);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_string(dev, cfg, "mac", NULL, &mac);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_bool(dev, cfg, "link", true, &s->link);
    if (CAP_FAILED(rc))
        return rc;
    s->dev = dev;
    if (mac && !parse_mac(mac, s->cfg + VNET_CFG_MAC))
        return h->error(dev, CAP_E_INVALIDARG,
                        "mac '%s' is not a unicast address like 52:54:00:12:34:56", mac);
    if (!mac) { /* QEMU's prefix, the instance in the last byte */
        static const uint8_t def[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
        memcpy(s->cfg + VNET_CFG_MAC, def, 6);
        s->cfg[VNET_CFG_MAC + 5] = (uint8_t)(def[5] + dev->instance);
    }
    virtio_put_le(s->cfg + VNET_CFG_STATUS, 2, s->link ? VIRTIO_NET_S_LINK_UP : 0);
    rc = h->timer_create(dev, vnet_tx_timer, s, "virtio-net transmit", &s->tx_timer);
    if (CAP_SUCCEEDED(rc)) {
        rc = h->net_attach(dev, &vnet_port, s, &s->net);
        if (rc == CAP_FALSE_RESULT)
            rc = CAP_OK;
    }
    if (CAP_FAILED(rc))
        return rc;
    struct virtio_pci_params p = {
        .name = "virtio-net",
        .device_id = VIRTIO_ID_NET,
        .class_code = 0x020000, /* network controller, Ethernet */
        .features = VIRTIO_BIT(VIRTIO_NET_F_MAC) | VIRTIO_BIT(VIRTIO_NET_F_STATUS),
        .num_queues = 2,
        .queue_max = VNET_QUEUE,
        .devcfg = s->cfg,
        .devcfg_size = VNET_CFG_BYTES,
        .ops = &vnet_vp_ops,
        .owner = s,
    };
    return virtio_pci_init(&s->vp, dev, &p, devfn);
}

/* Saved state, version 1: the transport's fields (the MAC and the link are
 * the configuration's). */
static cap_result vnet_save(struct pdm_dev *dev, struct pdm_ssm *ssm)
{
    struct vnet *s = dev->data;
    return virtio_pci_save(&s->vp, ssm);
}

static cap_result vnet_load(struct pdm_dev *dev, struct pdm_ssm *ssm, uint32_t version)
{
    struct vnet *s = dev->data;
    if (version != 1)
        return dev->hlp->error(dev, CAP_E_INVALIDARG, "saved state version %u (this is 1)",
                               version);
    return virtio_pci_load(&s->vp, ssm);
}

/* The same as named fields (the SSM unit of version 1): the transport's. */
static cap_result vnet_save_state(struct pdm_dev *dev, struct ssm_writer *w)
{
    struct vnet *s = dev->data;
    return virtio_pci_save_state(&s->vp, w, NULL);
}

static cap_result vnet_load_state(struct pdm_dev *dev, struct ssm_unit *u)
{
    struct vnet *s = dev->data;
    cap_result rc = dev->hlp->ssm->check_version(u, 1, 1);
    return CAP_SUCCEEDED(rc) ? virtio_pci_load_state(&s->vp, u, NULL) : rc;
}

static const struct pdm_dev_ops vnet_ops = {
    .construct = vnet_construct,
    .reset = virtio_pci_dev_reset, /* vp comes first in struct vnet */
    .mmio = virtio_pci_dev_mmio,
    .save = vnet_save,
    .load = vnet_load,
    .save_state = vnet_save_state,
    .load_state = vnet_load_state,
    .query_interface = vnet_query_interface,
};

static const struct pdm_devreg vnet_reg = {
    .abi = PDM_DEVREG_ABI,
    .name = "virtionet",
    .description = "virtio-net adapter (virtio 1.x PCI): MAC, link status, one queue pair",
    .instance_size = sizeof(struct vnet),
    .max_instances = 4,
    .saved_state_version = 1,
    .ops = &vnet_ops,
};

static const cap_uuid vnet_cid = {{0x3c, 0x8e, 0x51, 0x0a, 0x6f, 0x2d, 0x4b, 0x97, 0x8e, 0x14, 0x52,
                                   0xc9, 0x0b, 0x7a, 0x3e, 0x61}};
PDM_DEVICE_COMPONENT(vnet_reg, vnet_cid, "virtionet")
