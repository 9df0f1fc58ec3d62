/*
 * plugins/devices/pit/pit.c - the i8254 PIT (ports 0x40-0x43) and the
 * speaker/gate bits of port 0x61.
 *
 * Counters are not ticked: each channel remembers when its count was
 * loaded, and its value and OUT pin are computed from the virtual clock
 * (1.193182 MHz input) when read. Channel 0 drives IRQ0 with a device timer
 * armed for the next rising edge of OUT; after a long pause the next edge
 * is computed from "now", so missed periods are dropped rather than
 * delivered in a storm. Channel 2's gate is port 0x61 bit 0 and its OUT is
 * bit 5.
 *
 * Interrupt rate (issue 19): a guest may program divisor 1 (1.19 MHz). The
 * counter keeps that rate - reads are computed from the clock - but the
 * periodic modes (2, 3) raise IRQ0 at most once per hlp->timer_min_period_ns
 * (TM's 200 us, as KVM's PIT): the timer is armed for the first edge at
 * least that long after the previous one (or the count's load). And when
 * the edge would change nothing - every controller has IRQ0 latched
 * already (8259 IRR set, masked or not, e.g. with IF=0; the I/O APIC pin
 * masked) - the timer stops and irq_ready re-arms it for the next edge
 * once the line opens: a timer nobody can hear costs nothing.
 *
 * Modes 0-5 are computed (QEMU's formulas), with IRQ0 edges for modes 0, 2,
 * 3 and 4; lobyte/hibyte/word access, the counter latch command and the
 * read-back command (count and status). BCD counting is treated as binary.
 */
#include <stdio.h>

#include "pdmdev.h"

#define PIT_FREQ 1193182u
#define RW_LSB 1
#define RW_MSB 2
#define RW_WORD0 3
#define RW_WORD1 4

struct pit_chan {
    uint32_t count; /* 1..0x10000 */
    uint16_t latched_count;
    uint8_t count_latched, status_latched, status;
    uint8_t read_state, write_state, write_latch, rw_mode, mode, bcd, gate, null_count;
    uint64_t load_time; /* virtual ns */
};

struct pit {
    struct pit_chan ch[3];
    uint8_t speaker_data; /* port 0x61 bit 1 */
    uint8_t irq_out;      /* mode 0: OUT of channel 0 held high */
    /* host side */
    struct pdm_timer *irq_timer;
    bool speaker_port;
    uint64_t armed_at;  /* the deadline irq_timer is armed for */
    uint64_t last_edge; /* the last IRQ0 edge's deadline (or count load) */
};

static uint64_t ticks_since(const struct pit_chan *c, uint64_t now)
{
    uint64_t d = now > c->load_time ? now - c->load_time : 0;
    return (uint64_t)((unsigned __int128)d * PIT_FREQ / 1000000000u);
}

static uint64_t ticks_to_ns(uint64_t ticks)
{
    return (uint64_t)(((unsigned __int128)ticks * 1000000000u + PIT_FREQ - 1) / PIT_FREQ);
}

static uint16_t get_count(const struct pit_chan *c, uint64_t now)
{
    uint64_t d = ticks_since(c, now);
    switch (c->mode) {
    case 0:
    case 1:
    case 4:
    case 5:
        return (uint16_t)((c->count - d) & 0xffff);
    case 3:
        return (uint16_t)(c->count - ((2 * d) % c->count));
    default:
        return (uint16_t)(c->count - (d % c->count));
    }
}

static int get_out(const struct pit_chan *c, uint64_t now)
{
    uint64_t d = ticks_since(c, now);
    switch (c->mode) {
    default:
    case 0:
        return d >= c->count;
    case 1:
        return d < c->count;
    case 2:
        return (d % c->count) != 0 || d == 0; /* low for one clock per period */
    case 3:
        return (d % c->count) < ((c->count + 1) >> 1);
    case 4:
    case 5:
        return d != c->count;
    }
}

/* Virtual time of channel 0's next IRQ0 edge after `now`, or 0 for none. */
static uint64_t next_edge(const struct pit_chan *c, uint64_t now)
{
    uint64_t d = ticks_since(c, now);
    switch (c->mode) {
    case 0:
    case 4:
        return d < c->count ? c->load_time + ticks_to_ns(c->count) : 0;
    case 2:
    case 3:
        return c->load_time + ticks_to_ns((d / c->count + 1) * c->count);
    default:
        return 0;
    }
}

static bool periodic(const struct pit_chan *c)
{
    return c->mode == 2 || c->mode == 3;
}

static void arm_irq(struct pdm_dev *dev, uint64_t now)
{
    struct pit *s = dev->data;
    struct pit_chan *c = &s->ch[0];
    uint64_t t = c->null_count ? 0 : next_edge(c, now);
    uint64_t min = periodic(c) ? dev->hlp->timer_min_period_ns(dev) : 0;
    if (t && t < s->last_edge + min) /* faster than hosts deliver: skip edges */
        t = next_edge(c, s->last_edge + min - 1);
    s->armed_at = t;
    if (t)
        dev->hlp->timer_arm(s->irq_timer, t);
    else
        dev->hlp->timer_disarm(s->irq_timer);
}

static void irq_timer(struct pdm_dev *dev, void *user, uint64_t now)
{
    struct pit *s = dev->data;
    struct pit_chan *c = &s->ch[0];
    s->last_edge = s->armed_at;
    if (c->mode == 0) {
        s->irq_out = 1; /* OUT stays high until reprogrammed */
        dev->hlp->irq_set(dev, 0, 1);
    } else if (periodic(c) && dev->hlp->irq_latched(dev, 0)) {
        return; /* nobody can hear this edge: irq_ready re-arms */
    } else {
        dev->hlp->irq_set(dev, 0, 1);
        dev->hlp->irq_set(dev, 0, 0);
    }
    arm_irq(dev, now);
}

/* IRQ0 can take an edge again after irq_latched said it could not. */
static void pit_irq_ready(struct pdm_dev *dev, unsigned irq)
{
    struct pit *s = dev->data;
    if (irq == 0 && periodic(&s->ch[0]) && !dev->hlp->timer_armed(s->irq_timer))
        arm_irq(dev, dev->hlp->clock_now(dev));
}

static void load_count(struct pdm_dev *dev, int ch, uint32_t v)
{
    struct pit *s = dev->data;
    struct pit_chan *c = &s->ch[ch];
    uint64_t now = dev->hlp->clock_now(dev);
    c->count = v ? v : 0x10000;
    c->load_time = now;
    c->null_count = 0;
    if (ch == 0) {
        s->last_edge = now;
        arm_irq(dev, now);
    }
}

static void latch_count(struct pit_chan *c, uint64_t now)
{
    if (!c->count_latched) {
        c->latched_count = get_count(c, now);
        c->count_latched = c->rw_mode;
    }
}

static void write_control(struct pdm_dev *dev, uint8_t v)
{
    struct pit *s = dev->data;
    uint64_t now = dev->hlp->clock_now(dev);
    int ch = v >> 6;
    if (ch == 3) { /* read-back */
        for (int i = 0; i < 3; i++) {
            struct pit_chan *c = &s->ch[i];
            if (!(v & (2 << i)))
                continue;
            if (!(v & 0x20))
                latch_count(c, now);
            if (!(v & 0x10) && !c->status_latched) {
                c->status = (uint8_t)(get_out(c, now) << 7 | c->null_count << 6 |
                                      c->rw_mode << 4 | c->mode << 1 | c->bcd);
                c->status_latched = 1;
            }
        }
        return;
    }
    struct pit_chan *c = &s->ch[ch];
    int access = (v >> 4) & 3;
    if (access == 0) {
        latch_count(c, now);
        return;
    }
    c->rw_mode = (uint8_t)access;
    c->read_state = c->write_state = (uint8_t)access;
    c->mode = (v >> 1) & 7;
    if (c->mode > 5)
        c->mode -= 4; /* 6 and 7 are aliases of 2 and 3 */
    c->bcd = v & 1;
    c->null_count = 1;
    c->count_latched = 0;
    if (c->bcd)
        dev->hlp->log(dev, PDM_LOG_DEBUG, "channel %d: BCD counting treated as binary", ch);
    if (ch == 0) {
        s->irq_out = 0;
        dev->hlp->irq_set(dev, 0, 0);
        arm_irq(dev, now);
    }
}

static void write_count(struct pdm_dev *dev, int ch, uint8_t v)
{
    struct pit_chan *c = &((struct pit *)dev->data)->ch[ch];
    switch (c->write_state) {
    case RW_LSB:
        load_count(dev, ch, v);
        break;
    case RW_MSB:
        load_count(dev, ch, (uint32_t)v << 8);
        break;
    case RW_WORD0:
        c->write_latch = v;
        c->write_state = RW_WORD1;
        break;
    case RW_WORD1:
        c->write_state = RW_WORD0;
        load_count(dev, ch, c->write_latch | (uint32_t)v << 8);
        break;
    default:
        break; /* never programmed: ignore */
    }
}

static uint8_t read_count(struct pdm_dev *dev, int ch)
{
    struct pit_chan *c = &((struct pit *)dev->data)->ch[ch];
    if (c->status_latched) {
        c->status_latched = 0;
        return c->status;
    }
    if (c->count_latched) {
        uint8_t r;
        switch (c->count_latched) {
        case RW_MSB:
            r = (uint8_t)(c->latched_count >> 8);
            c->count_latched = 0;
            break;
        case RW_WORD0:
            r = (uint8_t)c->latched_count;
            c->count_latched = RW_MSB;
            break;
        default:
            r = (uint8_t)c->latched_count;
            c->count_latched = 0;
            break;
        }
        return r;
    }
    uint16_t count = get_count(c, dev->hlp->clock_now(dev));
    switch (c->read_state) {
    case RW_MSB:
        return (uint8_t)(count >> 8);
    case RW_WORD0:
        c->read_state = RW_WORD1;
        return (uint8_t)count;
    case RW_WORD1:
        c->read_state = RW_WORD0;
        return (uint8_t)(count >> 8);
    default:
        return (uint8_t)count;
    }
}

static void set_gate2(struct pdm_dev *dev, uint8_t gate)
{
    struct pit_chan *c = &((struct pit *)dev->data)->ch[2];
    /* A rising gate restarts modes 1, 2, 3 and 5. */
    if (gate && !c->gate && c->mode != 0 && c->mode != 4)
        c->load_time = dev->hlp->clock_now(dev);
    c->gate = gate;
}

static cap_result pit_io(struct pdm_dev *dev, void *user, uint16_t port, unsigned size,
                         bool write, uint32_t *val)
{
    struct pit *s = dev->data;
    if (port == 0x61) {
        if (write) {
            set_gate2(dev, *val & 1);
            s->speaker_data = (*val >> 1) & 1;
        } else {
            uint64_t now = dev->hlp->clock_now(dev);
            int refresh = (int)((now / 15085) & 1); /* toggles every ~15 us */
            *val = (uint32_t)(s->ch[2].gate | s->speaker_data << 1 | refresh << 4 |
                              get_out(&s->ch[2], now) << 5);
        }
        return CAP_OK;
    }
    int reg = port & 3;
    if (write) {
        if (reg == 3)
            write_control(dev, (uint8_t)*val);
        else
            write_count(dev, reg, (uint8_t)*val);
    } else {
        *val = reg == 3 ? 0xff : read_count(dev, reg); /* the control word is write-only */
    }
    return CAP_OK;
}

static void pit_reset(struct pdm_dev *dev)
{
    struct pit *s = dev->data;
    uint64_t now = dev->hlp->clock_now(dev);
    for (int i = 0; i < 3; i++) {
        struct pit_chan *c = &s->ch[i];
        *c = (struct pit_chan){.count = 0x10000, .mode = 3, .gate = i != 2, .load_time = now,
                               .rw_mode = RW_WORD0, .read_state = RW_WORD0,
                               .write_state = RW_WORD0, .null_count = 1};
    }
    s->speaker_data = 0;
    s->irq_out = 0;
    dev->hlp->timer_disarm(s->irq_timer);
}

/* Saved state (version 1): each channel's programming and counting state
 * as chN.FIELD, the speaker and OUT bits, and the IRQ0 edge bookkeeping.
 * Times are virtual ns (TM's clock is restored before the devices), so a
 * restored channel goes on counting from where it was. */
static const char *const pit_u8_fields[] = {
    "count_latched", "status_latched", "status", "read_state", "write_state", "write_latch",
    "rw_mode",       "mode",           "bcd",    "gate",       "null_count",
};

static uint8_t *pit_u8_field(struct pit_chan *c, size_t i)
{
    uint8_t *f[] = {&c->count_latched, &c->status_latched, &c->status,    &c->read_state,
                    &c->write_state,   &c->write_latch,    &c->rw_mode,   &c->mode,
                    &c->bcd,           &c->gate,           &c->null_count};
    return f[i];
}

static cap_result pit_save_state(struct pdm_dev *dev, struct ssm_writer *w)
{
    struct pit *s = dev->data;
    const struct ssm_field_ops *f = dev->hlp->ssm;
    char name[32];
    for (int i = 0; i < 3; i++) {
        struct pit_chan *c = &s->ch[i];
        snprintf(name, sizeof name, "ch%d.count", i);
        f->put_u32(w, name, c->count);
        snprintf(name, sizeof name, "ch%d.latched_count", i);
        f->put_u16(w, name, c->latched_count);
        snprintf(name, sizeof name, "ch%d.load_time", i);
        f->put_u64(w, name, c->load_time);
        for (size_t k = 0; k < sizeof pit_u8_fields / sizeof *pit_u8_fields; k++) {
            snprintf(name, sizeof name, "ch%d.%s", i, pit_u8_fields[k]);
            f->put_u8(w, name, *pit_u8_field(c, k));
        }
    }
    f->put_u8(w, "speaker_data", s->speaker_data);
    f->put_u8(w, "irq_out", s->irq_out);
    return f->put_u64(w, "last_edge", s->last_edge);
}

static cap_result pit_load_state(struct pdm_dev *dev, struct ssm_unit *u)
{
    struct pit *s = dev->data;
    const struct ssm_field_ops *f = dev->hlp->ssm;
    char name[32];
    cap_result rc = f->check_version(u, 1, 1);
    for (int i = 0; i < 3 && CAP_SUCCEEDED(rc); i++) {
        struct pit_chan *c = &s->ch[i];
        snprintf(name, sizeof name, "ch%d.count", i);
        rc = f->get_u32(u, name, c->count, &c->count);
        snprintf(name, sizeof name, "ch%d.latched_count", i);
        if (CAP_SUCCEEDED(rc))
            rc = f->get_u16(u, name, c->latched_count, &c->latched_count);
        snprintf(name, sizeof name, "ch%d.load_time", i);
        if (CAP_SUCCEEDED(rc))
            rc = f->get_u64(u, name, c->load_time, &c->load_time);
        for (size_t k = 0; k < sizeof pit_u8_fields / sizeof *pit_u8_fields && CAP_SUCCEEDED(rc);
             k++) {
            uint8_t *p = pit_u8_field(c, k);
            snprintf(name, sizeof name, "ch%d.%s", i, pit_u8_fields[k]);
            rc = f->get_u8(u, name, *p, p);
        }
        if (CAP_SUCCEEDED(rc) &&
            (c->count < 1 || c->count > 0x10000 || c->mode > 5 || c->rw_mode < RW_LSB ||
             c->rw_mode > RW_WORD0 || c->read_state < RW_LSB || c->read_state > RW_WORD1 ||
             c->write_state < RW_LSB || c->write_state > RW_WORD1))
            rc = CAP_E_INVALIDARG;
    }
    if (CAP_SUCCEEDED(rc))
        rc = f->get_u8(u, "speaker_data", s->speaker_data, &s->speaker_data);
    if (CAP_SUCCEEDED(rc))
        rc = f->get_u8(u, "irq_out", s->irq_out, &s->irq_out);
    if (CAP_SUCCEEDED(rc))
        rc = f->get_u64(u, "last_edge", s->last_edge, &s->last_edge);
    if (CAP_SUCCEEDED(rc))
        arm_irq(dev, dev->hlp->clock_now(dev)); /* the next edge after the restored time */
    return rc;
}

static cap_result pit_construct(struct pdm_dev *dev, const struct pdm_cfg *cfg)
{
    struct pit *s = dev->data;
    const struct pdm_hlp *h = dev->hlp;
    cap_result rc = h->cfg_bool(dev, cfg, "speaker_port", true, &s->speaker_port);
    if (CAP_SUCCEEDED(rc))
        rc = h->timer_create(dev, irq_timer, NULL, "IRQ0", &s->irq_timer);
    if (CAP_SUCCEEDED(rc))
        rc = h->io_register(dev, 0x40, 4, PDM_IO_F_SPLIT, NULL, "i8254");
    if (CAP_SUCCEEDED(rc) && s->speaker_port)
        rc = h->io_register(dev, 0x61, 1, 0, NULL, "port 0x61");
    if (CAP_SUCCEEDED(rc))
        pit_reset(dev);
    return rc;
}

static const struct pdm_dev_ops pit_ops = {
    .construct = pit_construct,
    .reset = pit_reset,
    .io = pit_io,
    .irq_ready = pit_irq_ready,
    .save_state = pit_save_state,
    .load_state = pit_load_state,
};

static const struct pdm_devreg pit_reg = {
    .abi = PDM_DEVREG_ABI,
    .name = "pit",
    .description = "i8254 programmable interval timer",
    .instance_size = sizeof(struct pit),
    .max_instances = 1,
    .saved_state_version = 1,
    .ops = &pit_ops,
};

static const cap_uuid pit_cid = {{0x4a, 0x4e, 0x7f, 0xa5, 0x90, 0xc2, 0x46, 0x3a, 0x8a, 0x0d, 0x10,
                                  0xcb, 0x65, 0x92, 0xb8, 0x7e}};
PDM_DEVICE_COMPONENT(pit_reg, pit_cid, "pit")
