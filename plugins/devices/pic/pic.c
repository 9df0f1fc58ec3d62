/*
 * plugins/devices/pic/pic.c - the i8259A pair of a PC: master at 0x20, slave
 * at 0xa0 cascaded on master IRQ2, ELCR at 0x4d0/0x4d1 (edge/level per line).
 *
 * The device registers itself as the VM's interrupt controller: every
 * device's hlp->irq_set lands in pic_set_irq, the master's output drives the
 * CPU's INTR pin through hlp->cpu_set_intr, and the EM acknowledges through
 * pic_get_interrupt (INTA), which returns the vector and updates ISR/IRR.
 *
 * Modelled: ICW1-ICW4 (single/cascade, ICW4 auto-EOI and special fully
 * nested), OCW1 (IMR), OCW2 (non-specific / specific EOI, rotations, set
 * priority), OCW3 (IRR/ISR read select, poll mode, special mask), edge and
 * level triggering, spurious IRQ7 (and slave IRQ15) when a request goes
 * away before INTA. Not modelled: the 8080 mode, buffered mode.
 *
 * Coalescing (pdm_pic_ops.line_latched): an edge-triggered line whose IRR
 * bit is set takes no more edges - the 8259 latches a request even while
 * IMR masks it - so a timer source (the PIT) may stop raising them; the
 * lines reported so are remembered and hlp->irq_line_ready is called once
 * their IRR bit clears (INTA, poll, ICW1, reset).
 */
#include "pdmdev_fields.h"

struct pic_chip {
    uint8_t irr, imr, isr;
    uint8_t last_irr; /* line levels seen, for edge detection */
    uint8_t elcr, elcr_mask;
    uint8_t priority_add; /* the line with the highest priority */
    uint8_t irq_base;
    uint8_t read_isr, poll, special_mask, init_state, init4, single_mode;
    uint8_t auto_eoi, rotate_on_auto_eoi, sfnm;
};

struct pic {
    struct pic_chip c[2]; /* 0 master, 1 slave */
    uint8_t intr;         /* the level last put on INTR */
    /* not saved: lines reported latched, told when their IRR bit clears */
    uint8_t latched[2];
};

#define PIC_SAVED offsetof(struct pic, latched)

static const struct pdm_pic_ops pic_ops;

/* Priority (0 highest) of the best line in mask, 8 if none. */
static int get_priority(const struct pic_chip *s, uint8_t mask)
{
    if (mask == 0)
        return 8;
    int p = 0;
    while (!(mask & (1 << ((p + s->priority_add) & 7))))
        p++;
    return p;
}

/* The line this chip wants to interrupt with, or -1. */
static int chip_get_irq(const struct pic_chip *s, bool master)
{
    int p = get_priority(s, s->irr & ~s->imr);
    if (p == 8)
        return -1;
    uint8_t in_service = s->isr;
    if (s->special_mask)
        in_service &= ~s->imr;
    if (master && s->sfnm)
        in_service &= ~(1 << 2); /* a nested slave request may interrupt */
    return p < get_priority(s, in_service) ? (p + s->priority_add) & 7 : -1;
}

static void chip_set_line(struct pic_chip *s, int irq, int level)
{
    uint8_t mask = (uint8_t)(1 << irq);
    if (s->elcr & mask) {
        if (level) {
            s->irr |= mask;
            s->last_irr |= mask;
        } else {
            s->irr &= ~mask;
            s->last_irr &= ~mask;
        }
    } else if (level) {
        if (!(s->last_irr & mask))
            s->irr |= mask;
        s->last_irr |= mask;
    } else {
        s->last_irr &= ~mask;
    }
}

static void update(struct pdm_dev *dev)
{
    struct pic *p = dev->data;
    chip_set_line(&p->c[0], 2, chip_get_irq(&p->c[1], false) >= 0);
    uint8_t intr = chip_get_irq(&p->c[0], true) >= 0;
    if (intr != p->intr) {
        p->intr = intr;
        dev->hlp->cpu_set_intr(dev, intr);
    }
    for (int c = 0; c < 2; c++) {
        uint8_t open = p->latched[c] & (uint8_t)~p->c[c].irr;
        p->latched[c] &= (uint8_t)~open;
        for (int i = 0; open; i++, open >>= 1)
            if (open & 1)
                dev->hlp->irq_line_ready(dev, (unsigned)(c * 8 + i));
    }
}

static bool pic_line_latched(struct pdm_dev *dev, unsigned irq)
{
    struct pic *p = dev->data;
    if (irq >= 16)
        return false;
    struct pic_chip *s = &p->c[irq >> 3];
    uint8_t bit = (uint8_t)(1u << (irq & 7));
    if ((s->elcr & bit) || !(s->irr & bit))
        return false;
    p->latched[irq >> 3] |= bit;
    return true;
}

static void intack(struct pic_chip *s, int irq)
{
    if (s->auto_eoi) {
        if (s->rotate_on_auto_eoi)
            s->priority_add = (uint8_t)((irq + 1) & 7);
    } else {
        s->isr |= (uint8_t)(1 << irq);
    }
    if (!(s->elcr & (1 << irq)))
        s->irr &= (uint8_t)~(1 << irq);
}

static void pic_set_irq(struct pdm_dev *dev, unsigned irq, int level)
{
    struct pic *p = dev->data;
    if (irq >= 16)
        return;
    chip_set_line(&p->c[irq >> 3], irq & 7, level);
    update(dev);
}

static int pic_get_interrupt(struct pdm_dev *dev)
{
    struct pic *p = dev->data;
    struct pic_chip *m = &p->c[0], *sl = &p->c[1];
    int irq = chip_get_irq(m, true), vector;
    if (irq < 0) {
        vector = m->irq_base + 7; /* spurious: ISR untouched */
    } else if (irq == 2) {
        int irq2 = chip_get_irq(sl, false);
        if (irq2 >= 0)
            intack(sl, irq2);
        else
            irq2 = 7; /* spurious on the slave */
        vector = sl->irq_base + irq2;
        intack(m, 2);
    } else {
        vector = m->irq_base + irq;
        intack(m, irq);
    }
    update(dev);
    return vector;
}

static void chip_init_reset(struct pic_chip *s)
{
    uint8_t elcr = s->elcr, elcr_mask = s->elcr_mask;
    *s = (struct pic_chip){.elcr = elcr, .elcr_mask = elcr_mask};
}

static void write_cmd(struct pdm_dev *dev, struct pic_chip *s, uint8_t v)
{
    if (v & 0x10) { /* ICW1 */
        chip_init_reset(s);
        s->init_state = 1;
        s->init4 = v & 1;
        s->single_mode = (v >> 1) & 1;
        if (v & 0x08)
            dev->hlp->log(dev, PDM_LOG_DEBUG, "ICW1 level-triggered mode ignored (use ELCR)");
    } else if (v & 0x08) { /* OCW3 */
        if (v & 0x04)
            s->poll = 1;
        if (v & 0x02)
            s->read_isr = v & 1;
        if (v & 0x40)
            s->special_mask = (v >> 5) & 1;
    } else { /* OCW2 */
        int cmd = v >> 5, irq, pr;
        switch (cmd) {
        case 0: /* clear / set rotate in auto-EOI mode */
        case 4:
            s->rotate_on_auto_eoi = (uint8_t)(cmd >> 2);
            break;
        case 1: /* non-specific EOI */
        case 5: /* rotate on non-specific EOI */
            pr = get_priority(s, s->isr);
            if (pr != 8) {
                irq = (pr + s->priority_add) & 7;
                s->isr &= (uint8_t)~(1 << irq);
                if (cmd == 5)
                    s->priority_add = (uint8_t)((irq + 1) & 7);
            }
            break;
        case 3: /* specific EOI */
            s->isr &= (uint8_t)~(1 << (v & 7));
            break;
        case 6: /* set priority */
            s->priority_add = (uint8_t)((v + 1) & 7);
            break;
        case 7: /* rotate on specific EOI */
            s->isr &= (uint8_t)~(1 << (v & 7));
            s->priority_add = (uint8_t)((v + 1) & 7);
            break;
        default: /* 2: no operation */
            break;
        }
    }
}

static void write_data(struct pic_chip *s, uint8_t v)
{
    switch (s->init_state) {
    case 0: /* OCW1 */
        s->imr = v;
        break;
    case 1: /* ICW2 */
        s->irq_base = v & 0xf8;
        s->init_state = s->single_mode ? (s->init4 ? 3 : 0) : 2;
        break;
    case 2: /* ICW3: the cascade wiring is fixed on a PC */
        s->init_state = s->init4 ? 3 : 0;
        break;
    case 3: /* ICW4 */
        s->sfnm = (v >> 4) & 1;
        s->auto_eoi = (v >> 1) & 1;
        s->init_state = 0;
        break;
    }
}

/* Poll mode read: acknowledges the best request like INTA, returns
 * 0x80 | line, or 0 when none. */
static uint8_t poll_read(struct pic *p, int chip)
{
    struct pic_chip *s = &p->c[chip];
    s->poll = 0;
    int irq = chip_get_irq(s, chip == 0);
    if (irq < 0)
        return 0;
    intack(s, irq);
    return (uint8_t)(0x80 | irq);
}

static cap_result pic_io(struct pdm_dev *dev, void *user, uint16_t port, unsigned size,
                         bool write, uint32_t *val)
{
    struct pic *p = dev->data;
    if (port == 0x4d0 || port == 0x4d1) {
        struct pic_chip *s = &p->c[port & 1];
        if (write)
            s->elcr = (uint8_t)*val & s->elcr_mask;
        else
            *val = s->elcr;
        update(dev);
        return CAP_OK;
    }
    int chip = (port & 0x80) ? 1 : 0;
    struct pic_chip *s = &p->c[chip];
    if (write) {
        if (port & 1)
            write_data(s, (uint8_t)*val);
        else
            write_cmd(dev, s, (uint8_t)*val);
    } else if (s->poll) {
        *val = poll_read(p, chip);
    } else if (port & 1) {
        *val = s->imr;
    } else {
        *val = s->read_isr ? s->isr : s->irr;
    }
    update(dev);
    return CAP_OK;
}

static void pic_reset(struct pdm_dev *dev)
{
    struct pic *p = dev->data;
    for (int i = 0; i < 2; i++) {
        chip_init_reset(&p->c[i]);
        p->c[i].elcr = 0;
    }
    update(dev);
}

static cap_result pic_construct(struct pdm_dev *dev, const struct pdm_cfg *cfg)
{
    struct pic *p = dev->data;
    const struct pdm_hlp *h = dev->hlp;
    bool elcr;
    cap_result rc = h->cfg_bool(dev, cfg, "elcr", true, &elcr);
    if (CAP_FAILED(rc))
        return rc;
    p->c[0].elcr_mask = 0xf8; /* IRQ0-2 are always edge */
    p->c[1].elcr_mask = 0xde; /* IRQ8 and IRQ13 too */
    rc = h->io_register(dev, 0x20, 2, PDM_IO_F_SPLIT, NULL, "i8259 master");
    if (CAP_SUCCEEDED(rc))
        rc = h->io_register(dev, 0xa0, 2, PDM_IO_F_SPLIT, NULL, "i8259 slave");
    if (CAP_SUCCEEDED(rc) && elcr)
        rc = h->io_register(dev, 0x4d0, 2, PDM_IO_F_SPLIT, NULL, "ELCR");
    if (CAP_SUCCEEDED(rc))
        rc = h->pic_register(dev, &pic_ops);
    return rc;
}

/* Saved state (version 2, named fields): each chip's registers as
 * master.NAME / slave.NAME, and the INTR level. */
static const struct pdm_field pic_chip_fields[] = {
    PDM_FIELD(struct pic_chip, irr),
    PDM_FIELD(struct pic_chip, imr),
    PDM_FIELD(struct pic_chip, isr),
    PDM_FIELD(struct pic_chip, last_irr),
    PDM_FIELD(struct pic_chip, elcr),
    PDM_FIELD(struct pic_chip, priority_add),
    PDM_FIELD(struct pic_chip, irq_base),
    PDM_FIELD(struct pic_chip, read_isr),
    PDM_FIELD(struct pic_chip, poll),
    PDM_FIELD(struct pic_chip, special_mask),
    PDM_FIELD(struct pic_chip, init_state),
    PDM_FIELD(struct pic_chip, init4),
    PDM_FIELD(struct pic_chip, single_mode),
    PDM_FIELD(struct pic_chip, auto_eoi),
    PDM_FIELD(struct pic_chip, rotate_on_auto_eoi),
    PDM_FIELD(struct pic_chip, sfnm),
};
static const char *const pic_chip_names[2] = {"master.", "slave."};

static cap_result pic_save_state(struct pdm_dev *dev, struct ssm_writer *w)
{
    struct pic *p = dev->data;
    for (int i = 0; i < 2; i++)
        pdm_fields_put(dev, w, pic_chip_names[i], &p->c[i], pic_chip_fields,
                       PDM_FIELD_COUNT(pic_chip_fields));
    return dev->hlp->ssm->put_u8(w, "intr", p->intr);
}

static cap_result pic_load_state(struct pdm_dev *dev, struct ssm_unit *u)
{
    struct pic *p = dev->data, n = *p;
    cap_result rc = dev->hlp->ssm->check_version(u, 2, 2);
    for (int i = 0; i < 2 && CAP_SUCCEEDED(rc); i++)
        rc = pdm_fields_get(dev, u, pic_chip_names[i], &n.c[i], pic_chip_fields,
                            PDM_FIELD_COUNT(pic_chip_fields));
    if (CAP_SUCCEEDED(rc))
        rc = dev->hlp->ssm->get_u8(u, "intr", n.intr, &n.intr);
    if (CAP_FAILED(rc))
        return rc;
    for (int i = 0; i < 2; i++) {
        n.c[i].init_state &= 3;
        n.c[i].priority_add &= 7;
        n.c[i].elcr &= p->c[i].elcr_mask;
    }
    memcpy(p, &n, PIC_SAVED); /* latched stays: update() tells what cleared */
    p->intr = !p->intr;       /* force update() to tell the CPU */
    update(dev);
    return CAP_OK;
}

static const struct pdm_pic_ops pic_ops = {
    .set_irq = pic_set_irq,
    .get_interrupt = pic_get_interrupt,
    .line_latched = pic_line_latched,
};

static const struct pdm_dev_ops pic_dev_ops = {
    .construct = pic_construct,
    .reset = pic_reset,
    .io = pic_io,
    .save_state = pic_save_state,
    .load_state = pic_load_state,
};

static const struct pdm_devreg pic_reg = {
    .abi = PDM_DEVREG_ABI,
    .name = "pic",
    .description = "i8259A master/slave pair",
    .instance_size = sizeof(struct pic),
    .max_instances = 1,
    .saved_state_version = 2,
    .ops = &pic_dev_ops,
};

static const cap_uuid pic_cid = {{0x49, 0x03, 0x43, 0x90, 0x0a, 0x54, 0x45, 0x76, 0x88, 0xc8, 0xea,
                                  0x60, 0xb7, 0x02, 0xed, 0x33}};
PDM_DEVICE_COMPONENT(pic_reg, pic_cid, "pic")
