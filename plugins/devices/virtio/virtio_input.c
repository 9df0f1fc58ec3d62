/*
 * plugins/devices/virtio/virtio_input.c - a virtio-input tablet (virtio
 * 1.2, 5.8) on the virtio PCI transport: device "virtioinput", the
 * absolute pointing device of PDM_IFACE_MOUSE_ABS, so that a pointer in a
 * window or a remote viewer tracks the host's without grabbing it.
 *
 * One PCI function 1af4:1052 (class input device, "other") at the devfn
 * the configuration names (vmm/platform's table gives it a fixed slot so
 * it never moves the functions that take the first free one). It reports
 * EV_ABS ABS_X / ABS_Y in 0..PDM_MOUSE_ABS_MAX, EV_KEY BTN_LEFT / RIGHT /
 * MIDDLE, EV_REL REL_WHEEL and EV_SYN SYN_REPORT; the driver learns that
 * from the configuration (5.8.4): it writes `select` and `subsel`, and the
 * device answers with `size` and the union (a string, a bitmap, an
 * absinfo or the device IDs). Queue 0 (eventq) carries events to the
 * driver, one 8-byte struct virtio_input_event per buffer the driver
 * posted; queue 1 (statusq) carries the driver's LED and similar events to
 * the device, which takes and returns them (a tablet has nothing to set).
 *
 * Host events never queue without bound: the device keeps the host's
 * latest state (position, buttons, the wheel turned since the guest last
 * heard of it) and what it has told the guest, and on each host event and
 * each eventq notification writes the differences - at most one report of
 * VINPUT_REPORT_MAX events - into whatever buffers the driver posted. With
 * no buffers the state just moves on: the guest later sees the latest
 * position and buttons (a click made and released while the guest posted
 * nothing is lost, as on real hardware whose driver is not listening).
 *
 * A driver breaking the protocol - an eventq buffer that is readable,
 * shorter than an event or outside RAM, a malformed chain (virtio_queue.c)
 * - makes the device DEVICE_NEEDS_RESET (virtio_pci_needs_reset); nothing
 * a guest writes makes it loop or allocate.
 */
#include <stdio.h>

#include "virtio.h"

#define VINPUT_QUEUE      64 /* entries per queue */
#define VINPUT_EVENTQ     0
#define VINPUT_STATUSQ    1
#define VINPUT_EVENT_SIZE 8 /* le16 type, le16 code, le32 value */
#define VINPUT_DEVFN_MIN  8 /* devfn 0-7: the host bridge's slot */

/* 5.8.4 the configuration: select, subsel, size, 5 reserved, the union */
#define VINPUT_CFG_SELECT 0
#define VINPUT_CFG_SUBSEL 1
#define VINPUT_CFG_SIZE   2
#define VINPUT_CFG_U      8
#define VINPUT_CFG_U_MAX  128
#define VINPUT_CFG_BYTES  (VINPUT_CFG_U + VINPUT_CFG_U_MAX)
/* select values */
#define VIRTIO_INPUT_CFG_UNSET     0x00
#define VIRTIO_INPUT_CFG_ID_NAME   0x01
#define VIRTIO_INPUT_CFG_ID_SERIAL 0x02
#define VIRTIO_INPUT_CFG_ID_DEVIDS 0x03
#define VIRTIO_INPUT_CFG_PROP_BITS 0x10
#define VIRTIO_INPUT_CFG_EV_BITS   0x11
#define VIRTIO_INPUT_CFG_ABS_INFO  0x12

/* Event types and codes: Linux's input-event-codes.h, which 5.8 uses. */
#define EV_SYN      0x00
#define EV_KEY      0x01
#define EV_REL      0x02
#define EV_ABS      0x03
#define SYN_REPORT  0
#define BTN_LEFT    0x110
#define BTN_RIGHT   0x111
#define BTN_MIDDLE  0x112
#define REL_WHEEL   0x08
#define ABS_X       0x00
#define ABS_Y       0x01
#define BUS_VIRTUAL 0x06

#define VINPUT_NAME "Capsule virtio tablet"
/* ABS_X, ABS_Y, 3 buttons, the wheel, SYN_REPORT */
#define VINPUT_REPORT_MAX 7
/* The wheel turned and not yet reported, in notches: bounded either way. */
#define VINPUT_WHEEL_MAX 0x7fff
/* What the guest was told: "nothing yet" (after a reset). */
#define VINPUT_UNKNOWN UINT32_MAX

/* Buttons in the order of PDM_MOUSE_* bits. */
static const uint16_t button_code[] = {BTN_LEFT, BTN_RIGHT, BTN_MIDDLE};

/*
 * Lifecycle: vp, dev, cfg's identity at construct; select/subsel and the
 * answer in cfg the driver's (reset to UNSET with the device); host_* the
 * frontends' (kept across resets: the host pointer stays where it is);
 * told_* and unsynced the device's view of the guest, reset with it.
 */
struct vinput {
    struct virtio_pci vp;
    struct pdm_dev *dev;
    char serial[24];
    uint8_t cfg[VINPUT_CFG_BYTES];
    uint32_t host_x, host_y, host_buttons;
    int32_t wheel; /* notches towards the user, not yet reported */
    uint32_t told_x, told_y, told_buttons;
    bool unsynced; /* events written since the last SYN_REPORT */
};

/* ---- the configuration --------------------------------------------------- */

static void answer_bytes(struct vinput *s, const void *data, unsigned len)
{
    s->cfg[VINPUT_CFG_SIZE] = (uint8_t)len;
    memcpy(s->cfg + VINPUT_CFG_U, data, len);
}

static void answer_bit(struct vinput *s, unsigned bit)
{
    uint8_t *u = s->cfg + VINPUT_CFG_U;
    u[bit / 8] |= (uint8_t)(1u << (bit % 8));
    if (s->cfg[VINPUT_CFG_SIZE] < bit / 8 + 1)
        s->cfg[VINPUT_CFG_SIZE] = (uint8_t)(bit / 8 + 1);
}

/* The event codes of `type` the tablet reports (EV_BITS). */
static void answer_ev_bits(struct vinput *s, unsigned type)
{
    switch (type) {
    case EV_KEY:
        for (size_t i = 0; i < sizeof(button_code) / sizeof(button_code[0]); i++)
            answer_bit(s, button_code[i]);
        break;
    case EV_REL:
        answer_bit(s, REL_WHEEL);
        break;
    case EV_ABS:
        answer_bit(s, ABS_X);
        answer_bit(s, ABS_Y);
        break;
    default: /* EV_SYN is the input core's; nothing else is reported */
        break;
    }
}

/* Fills size and the union for the current select / subsel (5.8.5.1: an
 * unsupported pair answers size 0). */
static void answer(struct vinput *s)
{
    uint8_t sel = s->cfg[VINPUT_CFG_SELECT], sub = s->cfg[VINPUT_CFG_SUBSEL];
    memset(s->cfg + VINPUT_CFG_SIZE, 0, VINPUT_CFG_BYTES - VINPUT_CFG_SIZE);
    switch (sel) {
    case VIRTIO_INPUT_CFG_ID_NAME:
        if (!sub)
            answer_bytes(s, VINPUT_NAME, sizeof(VINPUT_NAME) - 1);
        break;
    case VIRTIO_INPUT_CFG_ID_SERIAL:
        if (!sub)
            answer_bytes(s, s->serial, (unsigned)strlen(s->serial));
        break;
    case VIRTIO_INPUT_CFG_ID_DEVIDS: {
        uint8_t ids[8]; /* le16 bustype, vendor, product, version */
        virtio_put_le(ids, 2, BUS_VIRTUAL);
        virtio_put_le(ids + 2, 2, VIRTIO_PCI_VENDOR);
        virtio_put_le(ids + 4, 2, VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_INPUT);
        virtio_put_le(ids + 6, 2, 1);
        if (!sub)
            answer_bytes(s, ids, sizeof(ids));
        break;
    }
    case VIRTIO_INPUT_CFG_EV_BITS:
        answer_ev_bits(s, sub);
        break;
    case VIRTIO_INPUT_CFG_ABS_INFO:
        if (sub == ABS_X || sub == ABS_Y) {
            uint8_t abs[20] = {0}; /* le32 min, max, fuzz, flat, res */
            virtio_put_le(abs + 4, 4, PDM_MOUSE_ABS_MAX);
            answer_bytes(s, abs, sizeof(abs));
        }
        break;
    default: /* UNSET, PROP_BITS (no properties: a plain absolute pointer) */
        break;
    }
}

static void vinput_devcfg_write(struct virtio_pci *vp, unsigned off, unsigned size, uint64_t val)
{
    struct vinput *s = vp->p.owner;
    bool changed = false;
    for (unsigned i = 0; i < size; i++) {
        unsigned o = off + i;
        if (o == VINPUT_CFG_SELECT || o == VINPUT_CFG_SUBSEL) {
            s->cfg[o] = (uint8_t)(val >> (8 * i));
            changed = true;
        } /* size and the union are the device's */
    }
    if (changed)
        answer(s);
}

/* ---- events ------------------------------------------------------------------ */

/* Writes one event into the next eventq buffer: false when there is none
 * or the device broke (then nothing more is written until a reset). */
static bool put(struct vinput *s, uint16_t type, uint16_t code, uint32_t value)
{
    struct virtq *q = &s->vp.q[VINPUT_EVENTQ];
    if (!virtio_pci_running(&s->vp) || !q->enabled)
        return false;
    struct virtq_chain c;
    const char *why;
    enum virtq_pop_result r =
        virtq_pop(s->dev, q, virtio_pci_has(&s->vp, VIRTIO_F_INDIRECT_DESC), &c, &why);
    if (r == VIRTQ_POP_EMPTY)
        return false;
    if (r == VIRTQ_POP_CHAIN && (c.out_bytes || c.in_bytes < VINPUT_EVENT_SIZE))
        why = "an event buffer that is readable or shorter than an event";
    else if (r == VIRTQ_POP_CHAIN) {
        uint8_t ev[VINPUT_EVENT_SIZE];
        virtio_put_le(ev, 2, type);
        virtio_put_le(ev + 2, 2, code);
        virtio_put_le(ev + 4, 4, value);
        if (!virtq_chain_write(s->dev, &c, 0, ev, sizeof(ev)))
            why = "an event buffer outside RAM";
        else if (CAP_FAILED(virtq_push(s->dev, q, c.head, sizeof(ev))))
            why = "the used ring outside RAM";
    }
    if (why) {
        virtio_pci_needs_reset(&s->vp, why);
        return false;
    }
    s->unsynced = type != EV_SYN;
    return true;
}

/* Writes what the guest has not been told yet, as far as buffers last; an
 * interrupt when anything was written. At most VINPUT_REPORT_MAX events. */
static void flush(struct vinput *s)
{
    unsigned written = 0;
    bool more = true;
    if (s->told_x != s->host_x && (more = put(s, EV_ABS, ABS_X, s->host_x))) {
        s->told_x = s->host_x;
        written++;
    }
    if (more && s->told_y != s->host_y && (more = put(s, EV_ABS, ABS_Y, s->host_y))) {
        s->told_y = s->host_y;
        written++;
    }
    for (unsigned b = 0; more && b < sizeof(button_code) / sizeof(button_code[0]); b++) {
        uint32_t bit = 1u << b, now = s->host_buttons & bit;
        if ((s->told_buttons & bit) == now || !(more = put(s, EV_KEY, button_code[b], !!now)))
            continue;
        s->told_buttons = (s->told_buttons & ~bit) | now;
        written++;
    }
    /* REL_WHEEL counts notches away from the user */
    if (more && s->wheel && (more = put(s, EV_REL, REL_WHEEL, (uint32_t)-s->wheel))) {
        s->wheel = 0;
        written++;
    }
    if (more && s->unsynced && put(s, EV_SYN, SYN_REPORT, 0))
        written++;
    if (written)
        virtio_pci_queue_interrupt(&s->vp, VINPUT_EVENTQ);
}

static cap_result vinput_put_event(struct pdm_dev *dev, uint32_t x, uint32_t y, int32_t dz,
                                   uint32_t buttons)
{
    struct vinput *s = dev->data;
    s->host_x = x > PDM_MOUSE_ABS_MAX ? PDM_MOUSE_ABS_MAX : x;
    s->host_y = y > PDM_MOUSE_ABS_MAX ? PDM_MOUSE_ABS_MAX : y;
    s->host_buttons = buttons & PDM_MOUSE_BUTTONS;
    int64_t w = (int64_t)s->wheel + dz;
    s->wheel = (int32_t)(w > VINPUT_WHEEL_MAX    ? VINPUT_WHEEL_MAX
                         : w < -VINPUT_WHEEL_MAX ? -VINPUT_WHEEL_MAX
                                                 : w);
    flush(s);
    return CAP_OK;
}

static bool vinput_active(struct pdm_dev *dev)
{
    struct vinput *s = dev->data;
    return virtio_pci_running(&s->vp) && s->vp.q[VINPUT_EVENTQ].enabled;
}

static const struct pdm_mouse_abs_iface vinput_mouse_abs = {.put_event = vinput_put_event,
                                                            .active = vinput_active};

/* The driver's status events (LEDs and the like): taken and returned. */
static void drain_status(struct vinput *s)
{
    struct virtq *q = &s->vp.q[VINPUT_STATUSQ];
    bool indirect = virtio_pci_has(&s->vp, VIRTIO_F_INDIRECT_DESC), done = false;
    for (unsigned n = 0; n < q->size && virtio_pci_running(&s->vp) && q->enabled; n++) {
        struct virtq_chain c;
        const char *why = NULL;
        enum virtq_pop_result r = virtq_pop(s->dev, q, indirect, &c, &why);
        if (r == VIRTQ_POP_EMPTY)
            break;
        if (r == VIRTQ_POP_CHAIN && CAP_FAILED(virtq_push(s->dev, q, c.head, 0)))
            why = "the used ring outside RAM";
        if (why) {
            virtio_pci_needs_reset(&s->vp, why);
            return;
        }
        done = true;
    }
    if (done)
        virtio_pci_queue_interrupt(&s->vp, VINPUT_STATUSQ);
}

/* ---- the transport's callbacks -------------------------------------------- */

/* The guest forgets everything: the next buffers get the whole state. */
static void forget(struct vinput *s)
{
    s->told_x = s->told_y = VINPUT_UNKNOWN;
    s->told_buttons = 0;
    s->wheel = 0;
    s->unsynced = false;
}

static void vinput_reset(struct virtio_pci *vp)
{
    struct vinput *s = vp->p.owner;
    forget(s);
    s->cfg[VINPUT_CFG_SELECT] = s->cfg[VINPUT_CFG_SUBSEL] = VIRTIO_INPUT_CFG_UNSET;
    answer(s);
}

static void vinput_queue_reset(struct virtio_pci *vp, unsigned q)
{
    if (q == VINPUT_EVENTQ)
        forget(vp->p.owner); /* events in the old buffers may be lost */
}

static void vinput_notify(struct virtio_pci *vp, unsigned q)
{
    if (q == VINPUT_EVENTQ)
        flush(vp->p.owner);
    else
        drain_status(vp->p.owner);
}

static const struct virtio_pci_ops vinput_vp_ops = {
    .reset = vinput_reset,
    .queue_reset = vinput_queue_reset,
    .notify = vinput_notify,
    .devcfg_write = vinput_devcfg_write,
};

/* ---- the device -------------------------------------------------------------- */

static cap_result vinput_construct(struct pdm_dev *dev, const struct pdm_cfg *cfg)
{
    struct vinput *s = dev->data;
    int64_t devfn;
    cap_result rc = dev->hlp->cfg_int(dev, cfg, "devfn", PDM_PCI_DEVFN_ANY, -1, 255, &devfn);
    if (CAP_FAILED(rc))
        return rc;
    if (devfn >= 0 && devfn < VINPUT_DEVFN_MIN)
        return dev->hlp->error(dev, CAP_E_INVALIDARG,
                               "devfn %lld is the host bridge's slot (0): use 8-255 or -1 (any)",
                               (long long)devfn);
    s->dev = dev;
    snprintf(s->serial, sizeof(s->serial), "CAPSULE-TABLET-%u", dev->instance);
    s->host_x = s->host_y = PDM_MOUSE_ABS_MAX / 2; /* until a frontend says */
    struct virtio_pci_params p = {
        .name = "virtio-input tablet",
        .device_id = VIRTIO_ID_INPUT,
        .class_code = 0x098000, /* input device controller, other */
        .features = 0,
        .num_queues = 2,
        .queue_max = VINPUT_QUEUE,
        .devcfg = s->cfg,
        .devcfg_size = VINPUT_CFG_BYTES,
        .ops = &vinput_vp_ops,
        .owner = s,
    };
    return virtio_pci_init(&s->vp, dev, &p, (int)devfn);
}

static void vinput_dev_reset(struct pdm_dev *dev)
{
    struct vinput *s = dev->data;
    virtio_pci_reset(&s->vp);
}

static cap_result vinput_mmio(struct pdm_dev *dev, void *user, uint64_t addr, unsigned size,
                              bool write, uint64_t *val)
{
    virtio_pci_mmio(user, addr, size, write, val);
    return CAP_OK;
}

static const void *vinput_query_interface(struct pdm_dev *dev, const char *iface)
{
    return strcmp(iface, PDM_IFACE_MOUSE_ABS) == 0 ? &vinput_mouse_abs : NULL;
}

/* Saved state, version 1: the transport's fields, then select, subsel,
 * the host's state, the guest's (le32 each, the wheel as two's complement)
 * and unsynced. */
static cap_result vinput_ssm(struct vinput *s, struct pdm_ssm *ssm, bool load)
{
    const struct pdm_hlp *h = s->dev->hlp;
    uint32_t *f[] = {&s->host_x, &s->host_y, &s->host_buttons, (uint32_t *)&s->wheel,
                     &s->told_x, &s->told_y, &s->told_buttons};
    uint8_t b[2 + 4 * sizeof(f) / sizeof(f[0]) + 1];
    cap_result rc = load ? virtio_pci_load(&s->vp, ssm) : virtio_pci_save(&s->vp, ssm);
    if (CAP_FAILED(rc))
        return rc;
    if (!load) {
        b[0] = s->cfg[VINPUT_CFG_SELECT];
        b[1] = s->cfg[VINPUT_CFG_SUBSEL];
        for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
            virtio_put_le(b + 2 + 4 * i, 4, *f[i]);
        b[sizeof(b) - 1] = s->unsynced;
        return h->ssm_put(ssm, b, sizeof(b));
    }
    rc = h->ssm_get(ssm, b, sizeof(b));
    if (CAP_FAILED(rc))
        return rc;
    s->cfg[VINPUT_CFG_SELECT] = b[0];
    s->cfg[VINPUT_CFG_SUBSEL] = b[1];
    answer(s);
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        *f[i] = (uint32_t)virtio_get_le(b + 2 + 4 * i, 4);
    s->unsynced = b[sizeof(b) - 1] != 0;
    /* what a frontend could not have sent: bound it again */
    vinput_put_event(s->dev, s->host_x, s->host_y, 0, s->host_buttons);
    return CAP_OK;
}

static cap_result vinput_save(struct pdm_dev *dev, struct pdm_ssm *ssm)
{
    return vinput_ssm(dev->data, ssm, false);
}

static cap_result vinput_load(struct pdm_dev *dev, struct pdm_ssm *ssm, uint32_t version)
{
    if (version != 1)
        return dev->hlp->error(dev, CAP_E_INVALIDARG, "saved state version %u (this is 1)",
                               version);
    return vinput_ssm(dev->data, ssm, true);
}

/* The same as named fields (the SSM unit of version 1): the transport's,
 * select, subsel, the host's and the guest's pointer state, unsynced. */
static const struct pdm_field vinput_fields[] = {
    PDM_FIELD(struct vinput, host_x),       PDM_FIELD(struct vinput, host_y),
    PDM_FIELD(struct vinput, host_buttons), PDM_FIELD(struct vinput, wheel),
    PDM_FIELD(struct vinput, told_x),       PDM_FIELD(struct vinput, told_y),
    PDM_FIELD(struct vinput, told_buttons), PDM_FIELD_BOOL(struct vinput, unsynced),
};

static cap_result vinput_save_state(struct pdm_dev *dev, struct ssm_writer *w)
{
    struct vinput *s = dev->data;
    virtio_pci_save_state(&s->vp, w, NULL);
    dev->hlp->ssm->put_u8(w, "select", s->cfg[VINPUT_CFG_SELECT]);
    dev->hlp->ssm->put_u8(w, "subsel", s->cfg[VINPUT_CFG_SUBSEL]);
    return pdm_fields_put(dev, w, NULL, s, vinput_fields, PDM_FIELD_COUNT(vinput_fields));
}

static cap_result vinput_load_state(struct pdm_dev *dev, struct ssm_unit *u)
{
    struct vinput *s = dev->data;
    const struct ssm_field_ops *f = dev->hlp->ssm;
    cap_result rc = f->check_version(u, 1, 1);
    if (CAP_SUCCEEDED(rc))
        rc = virtio_pci_load_state(&s->vp, u, NULL);
    if (CAP_SUCCEEDED(rc))
        rc = f->get_u8(u, "select", 0, &s->cfg[VINPUT_CFG_SELECT]);
    if (CAP_SUCCEEDED(rc))
        rc = f->get_u8(u, "subsel", 0, &s->cfg[VINPUT_CFG_SUBSEL]);
    if (CAP_SUCCEEDED(rc))
        rc = pdm_fields_get(dev, u, NULL, s, vinput_fields, PDM_FIELD_COUNT(vinput_fields));
    if (CAP_FAILED(rc))
        return rc;
    answer(s);
    /* what a frontend could not have sent: bound it again */
    vinput_put_event(s->dev, s->host_x, s->host_y, 0, s->host_buttons);
    return CAP_OK;
}

static const struct pdm_dev_ops vinput_ops = {
    .construct = vinput_construct,
    .reset = vinput_dev_reset,
    .mmio = vinput_mmio,
    .save = vinput_save,
    .load = vinput_load,
    .save_state = vinput_save_state,
    .load_state = vinput_load_state,
    .query_interface = vinput_query_interface,
};

static const struct pdm_devreg vinput_reg = {
    .abi = PDM_DEVREG_ABI,
    .name = "virtioinput",
    .description = "virtio-input tablet (virtio 1.x PCI): absolute pointer, 3 buttons, wheel",
    .instance_size = sizeof(struct vinput),
    .max_instances = 1,
    .saved_state_version = 1,
    .ops = &vinput_ops,
};

static const cap_uuid vinput_cid = {{0x5b, 0x0e, 0x7c, 0x39, 0x2a, 0x84, 0x4f, 0x61, 0xb3, 0xd7,
                                     0x18, 0x6c, 0x90, 0xe2, 0x4a, 0x05}};
PDM_DEVICE_COMPONENT(vinput_reg, vinput_cid, "virtioinput")
