/*
 * plugins/devices/ioapic/ioapic.c - the I/O APIC (82093AA-style, version
 * 0x11, 24 pins) at MMIO 0xFEC00000: IOREGSEL at +0x00 selects a register,
 * IOWIN at +0x10 reads or writes it (ID 0x00, version 0x01, arbitration
 * 0x02, redirection entries 0x10 + 2n low / +1 high).
 *
 * Registered with PDM as the VM's I/O APIC: every hlp->irq_set reaches
 * set_irq as a GSI (PDM maps ISA IRQ0 to pin 2, the usual override; the
 * PIC gets the same ISA lines). Levels from PDM mean "asserted"; the
 * polarity bit is stored for the guest but not applied.
 *
 * Edge entries send a message to the local APIC on each rising edge while
 * unmasked (edges while masked are lost, as on the 82093AA). Level entries
 * send one while the line is asserted, unmasked and remote IRR is clear,
 * and set remote IRR; the local APIC's EOI broadcast for the vector clears
 * it and, if the line is still asserted, delivers again. Unmasking an
 * asserted level entry delivers too.
 *
 * Config: base (default 0xfec00000), id (default 0).
 */
#include "pdmdev_fields.h"

#define IOAPIC_PINS    24
#define IOAPIC_VERSION (0x11u | (IOAPIC_PINS - 1) << 16)

#define RTE_DM(e)      (((e) >> 8) & 7)
#define RTE_LOGICAL    (1ull << 11)
#define RTE_REMOTE_IRR (1ull << 14)
#define RTE_LEVEL      (1ull << 15)
#define RTE_MASKED     (1ull << 16)
#define RTE_RO         (RTE_REMOTE_IRR | (1ull << 12)) /* remote IRR, delivery status */

struct ioapic {
    uint32_t id;
    uint8_t sel;
    uint32_t lines; /* asserted pins */
    uint64_t rte[IOAPIC_PINS];
    /* host side, set at construct */
    uint64_t base;
    uint32_t initial_id;
    uint32_t latched; /* masked edge pins reported latched (line_latched) */
};

static const struct pdm_ioapic_ops ioapic_pdm_ops;

static void deliver(struct pdm_dev *dev, unsigned pin)
{
    struct ioapic *s = dev->data;
    uint64_t e = s->rte[pin];
    struct pdm_apic_msg msg = {
        .vector = (uint8_t)e,
        .delivery = (uint8_t)RTE_DM(e),
        .dest = (uint8_t)(e >> 56),
        .logical = (e & RTE_LOGICAL) != 0,
        .level = (e & RTE_LEVEL) != 0,
    };
    if (msg.level)
        s->rte[pin] |= RTE_REMOTE_IRR;
    dev->hlp->apic_deliver(dev, &msg);
}

/* Delivers a level entry whose line is asserted, if it may. */
static void service_level(struct pdm_dev *dev, unsigned pin)
{
    struct ioapic *s = dev->data;
    uint64_t e = s->rte[pin];
    if ((e & RTE_LEVEL) && !(e & (RTE_MASKED | RTE_REMOTE_IRR)) && (s->lines >> pin & 1))
        deliver(dev, pin);
}

static void ioapic_set_irq(struct pdm_dev *dev, unsigned gsi, int level)
{
    struct ioapic *s = dev->data;
    if (gsi >= IOAPIC_PINS)
        return;
    uint32_t bit = 1u << gsi;
    bool was = (s->lines & bit) != 0;
    if (level)
        s->lines |= bit;
    else
        s->lines &= ~bit;
    uint64_t e = s->rte[gsi];
    if (e & RTE_LEVEL)
        service_level(dev, gsi);
    else if (level && !was && !(e & RTE_MASKED))
        deliver(dev, gsi);
}

static void ioapic_eoi(struct pdm_dev *dev, uint8_t vector)
{
    struct ioapic *s = dev->data;
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
        if ((s->rte[pin] & RTE_REMOTE_IRR) && (uint8_t)s->rte[pin] == vector) {
            s->rte[pin] &= ~RTE_REMOTE_IRR;
            service_level(dev, pin);
        }
    }
}

static uint32_t reg_read(struct ioapic *s)
{
    switch (s->sel) {
    case 0x00:
        return s->id;
    case 0x01:
        return IOAPIC_VERSION;
    case 0x02:
        return s->id; /* arbitration ID */
    default:
        if (s->sel >= 0x10 && s->sel < 0x10 + 2 * IOAPIC_PINS) {
            uint64_t e = s->rte[(s->sel - 0x10) / 2];
            return (s->sel & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
        }
        return 0xffffffffu;
    }
}

static void reg_write(struct pdm_dev *dev, uint32_t v)
{
    struct ioapic *s = dev->data;
    if (s->sel == 0x00) {
        s->id = v & 0x0f000000u;
        return;
    }
    if (s->sel < 0x10 || s->sel >= 0x10 + 2 * IOAPIC_PINS)
        return; /* version, arbitration: read-only */
    unsigned pin = (s->sel - 0x10) / 2;
    uint64_t e = s->rte[pin];
    if (s->sel & 1)
        e = (e & 0xffffffffull) | (uint64_t)(v & 0xff000000u) << 32;
    else
        e = (e & ~0xffffffffull) | (v & ~(uint32_t)RTE_RO) | (e & RTE_RO);
    if (!(e & RTE_LEVEL))
        e &= ~RTE_REMOTE_IRR;
    s->rte[pin] = e;
    if ((s->latched >> pin & 1) && !(e & RTE_MASKED)) {
        s->latched &= ~(1u << pin);
        dev->hlp->irq_line_ready(dev, pin);
    }
    service_level(dev, pin);
}

/* A masked edge pin drops every edge: a timer source may stop raising
 * them until the entry is unmasked (then hlp->irq_line_ready). */
static bool ioapic_line_latched(struct pdm_dev *dev, unsigned gsi)
{
    struct ioapic *s = dev->data;
    if (gsi >= IOAPIC_PINS || (s->rte[gsi] & (RTE_MASKED | RTE_LEVEL)) != RTE_MASKED)
        return false;
    s->latched |= 1u << gsi;
    return true;
}

static cap_result ioapic_mmio(struct pdm_dev *dev, void *user, uint64_t addr, unsigned size,
                              bool write, uint64_t *val)
{
    struct ioapic *s = dev->data;
    uint64_t off = addr - s->base;
    if (off == 0x00) {
        if (write)
            s->sel = (uint8_t)*val;
        else
            *val = s->sel;
    } else if (off == 0x10 && size == 4) {
        if (write)
            reg_write(dev, (uint32_t)*val);
        else
            *val = reg_read(s);
    } else if (!write) {
        *val = 0;
    }
    return CAP_OK;
}

static void ioapic_reset(struct pdm_dev *dev)
{
    struct ioapic *s = dev->data;
    s->id = s->initial_id << 24;
    s->sel = 0;
    for (unsigned i = 0; i < IOAPIC_PINS; i++)
        s->rte[i] = RTE_MASKED;
    /* `lines` survives: it is the devices' wiring, not the chip's state. */
}

static cap_result ioapic_construct(struct pdm_dev *dev, const struct pdm_cfg *cfg)
{
    struct ioapic *s = dev->data;
    const struct pdm_hlp *h = dev->hlp;
    int64_t base, id;
    cap_result rc = h->cfg_int(dev, cfg, "base", 0xfec00000ll, 0, 0xfffff000ll, &base);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_int(dev, cfg, "id", 0, 0, 15, &id);
    if (CAP_FAILED(rc))
        return rc;
    if (base & 0xfff)
        return h->error(dev, CAP_E_INVALIDARG, "config key 'base': 0x%llx is not 4 KiB aligned",
                        (long long)base);
    s->base = (uint64_t)base;
    s->initial_id = (uint32_t)id;
    rc = h->mmio_register(dev, s->base, 0x20, 0, NULL, "I/O APIC");
    if (CAP_SUCCEEDED(rc))
        rc = h->ioapic_register(dev, &ioapic_pdm_ops);
    if (CAP_SUCCEEDED(rc))
        ioapic_reset(dev);
    return rc;
}

/* Saved state (version 2, named fields): the id, the register select,
 * the asserted pins and the redirection table (rte, 8 bytes a pin). */
static const struct pdm_field ioapic_fields[] = {
    PDM_FIELD(struct ioapic, id),
    PDM_FIELD(struct ioapic, sel),
    PDM_FIELD(struct ioapic, lines),
    PDM_FIELD(struct ioapic, rte),
};

static cap_result ioapic_save_state(struct pdm_dev *dev, struct ssm_writer *w)
{
    return pdm_fields_put(dev, w, NULL, dev->data, ioapic_fields, PDM_FIELD_COUNT(ioapic_fields));
}

static cap_result ioapic_load_state(struct pdm_dev *dev, struct ssm_unit *u)
{
    struct ioapic *s = dev->data;
    cap_result rc = dev->hlp->ssm->check_version(u, 2, 2);
    if (CAP_SUCCEEDED(rc))
        rc = pdm_fields_get(dev, u, NULL, s, ioapic_fields, PDM_FIELD_COUNT(ioapic_fields));
    for (unsigned pin = 0; CAP_SUCCEEDED(rc) && pin < IOAPIC_PINS; pin++)
        if ((s->latched >> pin & 1) && !(s->rte[pin] & RTE_MASKED)) {
            s->latched &= ~(1u << pin);
            dev->hlp->irq_line_ready(dev, pin);
        }
    return rc;
}

static const struct pdm_ioapic_ops ioapic_pdm_ops = {
    .set_irq = ioapic_set_irq,
    .eoi = ioapic_eoi,
    .line_latched = ioapic_line_latched,
};

static const struct pdm_dev_ops ioapic_ops = {
    .construct = ioapic_construct,
    .reset = ioapic_reset,
    .mmio = ioapic_mmio,
    .save_state = ioapic_save_state,
    .load_state = ioapic_load_state,
};

static const struct pdm_devreg ioapic_reg = {
    .abi = PDM_DEVREG_ABI,
    .name = "ioapic",
    .description = "I/O APIC (24 pins)",
    .instance_size = sizeof(struct ioapic),
    .max_instances = 1,
    .saved_state_version = 2,
    .ops = &ioapic_ops,
};

static const cap_uuid ioapic_cid = {{0x76, 0x50, 0xef, 0xd5, 0x5e, 0x66, 0x44, 0xe8, 0xae, 0x78,
                                     0x2c, 0x65, 0x77, 0x28, 0x0e, 0xaf}};
PDM_DEVICE_COMPONENT(ioapic_reg, ioapic_cid, "ioapic")
