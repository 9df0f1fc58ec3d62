/*
 * plugins/devices/hpet/hpet.c - the high precision event timer (IA-PC HPET
 * specification 1.0a) at MMIO 0xFED00000 (config key `base`), 1 KiB:
 *
 *   0x000 capabilities and ID (RO): revision 1, 3 timers, 64-bit counter,
 *         legacy replacement capable, vendor 0x8086, period 100000000 fs
 *         (10 MHz)
 *   0x010 configuration: ENABLE_CNF (bit 0), LEG_RT_CNF (bit 1)
 *   0x020 interrupt status: bit N = timer N's level-triggered interrupt
 *         is active; writing 1 clears it (and lowers the line)
 *   0x0F0 main counter: advances with the VM's virtual clock while
 *         ENABLE_CNF is set; writable only while halted
 *   0x100 + 0x20 * N  timer N configuration and capabilities
 *   0x108 + 0x20 * N  timer N comparator
 *   0x110 + 0x20 * N  timer N FSB route (kept; FSB delivery not offered:
 *                     Linux would take such timers as per-CPU clock event
 *                     devices ahead of the local APIC timer)
 *
 * Every register is 64 bits wide and takes any access width at any byte
 * offset (a 32-bit half, a byte): a write changes only the bytes it covers.
 *
 * Timers: each of the 3 is periodic capable and 64 bits wide, with the
 * 32-bit mode (Tn_32MODE_CNF: comparator, period and match on the low 32
 * bits of the counter, so a one-shot fires again after each 2^32 ticks).
 * A match is the counter reaching the comparator's value: a comparator
 * behind the counter waits for the counter to wrap. A periodic timer then
 * adds its period to the comparator; a comparator write with Tn_VAL_SET_CNF
 * (or in one-shot mode) sets the comparator, in periodic mode every write
 * also sets the period. Interrupts go to I/O APIC input Tn_INT_ROUTE_CNF
 * (GSIs 20-23 are offered in Tn_INT_ROUTE_CAP), or, with LEG_RT_CNF, timer
 * 0 to ISA IRQ0 (GSI 2) and timer 1 to IRQ8, which the PIT and the RTC
 * then no longer reach (hlp->irq_take_over, while LEG_RT_CNF is set).
 * Edge-triggered timers pulse the line; level-triggered ones hold it while
 * their status bit is set.
 *
 * Nothing ticks: the counter is computed from the clock when read, each
 * timer is a device timer armed for its next match. Interrupt rate (issue
 * 19): a periodic timer may be programmed to 1 tick (10 MHz) or 0; its
 * comparator keeps the programmed rate, but its interrupt is raised at
 * most once per hlp->timer_min_period_ns (matches in between coalesce),
 * and a period of 0 matches once per counter wrap. A timer whose interrupt
 * could change nothing (disabled, or a level one already active) is not
 * armed at all.
 */
#include "pdmdev_fields.h"

#define HPET_BASE      0xfed00000ull
#define HPET_SIZE      0x400u
#define HPET_TIMERS    3u
#define HPET_FREQ      10000000ull  /* Hz */
#define HPET_PERIOD_FS 100000000ull /* 1e15 / HPET_FREQ */
#define HPET_VENDOR    0x8086u
#define HPET_REV       1u

#define R_CAP     0x000u
#define R_CONF    0x010u
#define R_ISR     0x020u
#define R_COUNTER 0x0f0u
#define R_TIMER   0x100u /* timer N at R_TIMER + 0x20 * N */
#define R_TSTRIDE 0x20u

#define CAP_COUNT_64  (1ull << 13)
#define CAP_LEGACY_RT (1ull << 15)

#define CONF_ENABLE 1ull
#define CONF_LEGACY 2ull

#define TN_LEVEL       (1ull << 1)
#define TN_INT_ENB     (1ull << 2)
#define TN_PERIODIC    (1ull << 3)
#define TN_PER_CAP     (1ull << 4)
#define TN_SIZE_CAP    (1ull << 5)
#define TN_VAL_SET     (1ull << 6)
#define TN_32BIT       (1ull << 8)
#define TN_ROUTE_SHIFT 9
#define TN_ROUTE       (0x1full << TN_ROUTE_SHIFT)
#define TN_WRITABLE    (TN_LEVEL | TN_INT_ENB | TN_PERIODIC | TN_VAL_SET | TN_32BIT | TN_ROUTE)
#define TN_ROUTE_CAP   0x00f00000u /* I/O APIC inputs 20-23 */
#define TN_CAPS        (TN_PER_CAP | TN_SIZE_CAP | (uint64_t)TN_ROUTE_CAP << 32)

#define NEVER UINT64_MAX /* a counter value never reached (58,000 years at 10 MHz) */

/* What the guest sees and a saved state keeps. */
struct hpet_regs {
    uint64_t conf, isr;
    uint64_t counter; /* while enabled: the value at base_ns; halted: the value */
    struct {
        uint64_t config, cmp, period, fsb;
    } t[HPET_TIMERS];
};

struct hpet_timer {
    uint64_t next;        /* the counter value of the next match, or NEVER */
    uint64_t last_irq_ns; /* when its interrupt was last raised */
    bool pending;         /* matched, interrupt held back by the rate bound */
    struct pdm_timer *timer;
};

struct hpet {
    struct hpet_regs r;
    uint64_t base_ns;  /* virtual time the counter had r.counter (enabled) */
    uint32_t asserted; /* lines held high by level-triggered timers */
    struct hpet_timer t[HPET_TIMERS];
    uint64_t base;
};

static bool enabled(const struct hpet *s)
{
    return s->r.conf & CONF_ENABLE;
}

static uint64_t counter_at(const struct hpet *s, uint64_t now)
{
    if (!enabled(s) || now <= s->base_ns)
        return s->r.counter;
    return s->r.counter +
           (uint64_t)((unsigned __int128)(now - s->base_ns) * HPET_FREQ / 1000000000u);
}

/* Virtual time at which the (enabled) counter reaches `tick`, or NEVER. */
static uint64_t tick_time(const struct hpet *s, uint64_t tick)
{
    if (tick == NEVER)
        return NEVER;
    if (tick <= s->r.counter)
        return s->base_ns;
    unsigned __int128 ns =
        ((unsigned __int128)(tick - s->r.counter) * 1000000000u + HPET_FREQ - 1) / HPET_FREQ +
        s->base_ns;
    return ns >= NEVER ? NEVER : (uint64_t)ns;
}

static uint64_t width_mask(uint64_t config)
{
    return config & TN_32BIT ? 0xffffffffull : ~0ull;
}

/* The first counter value after `c` that matches timer n's comparator. */
static uint64_t first_match(const struct hpet *s, unsigned n, uint64_t c)
{
    uint64_t cmp = s->r.t[n].cmp;
    if (!(s->r.t[n].config & TN_32BIT))
        return cmp > c ? cmp : NEVER;
    uint64_t m = (c & ~0xffffffffull) | (cmp & 0xffffffffull);
    if (m > c)
        return m;
    return m > NEVER - (1ull << 32) ? NEVER : m + (1ull << 32);
}

/* Consumes timer n's matches up to counter value c; true if there were any.
 * A periodic comparator advances by whole periods. */
static bool catch_up(struct hpet *s, unsigned n, uint64_t c)
{
    struct hpet_timer *t = &s->t[n];
    uint64_t *cmp = &s->r.t[n].cmp, config = s->r.t[n].config;
    uint64_t mask = width_mask(config), period = s->r.t[n].period & mask;
    if (t->next == NEVER || t->next > c)
        return false;
    if ((config & TN_PERIODIC) && period) {
        uint64_t k = (c - t->next) / period + 1;
        unsigned __int128 step = (unsigned __int128)k * period;
        *cmp = (uint64_t)(*cmp + step) & mask;
        t->next = step >= NEVER - t->next ? NEVER : t->next + (uint64_t)step;
    } else {
        t->next = first_match(s, n, c); /* a one-shot (or period 0): the next wrap */
    }
    return true;
}

/* The line timer n interrupts on, or -1 (a route the timer does not offer). */
static int timer_line(const struct hpet *s, unsigned n)
{
    if ((s->r.conf & CONF_LEGACY) && n < 2)
        return n == 0 ? 0 : 8;
    unsigned route = (unsigned)((s->r.t[n].config & TN_ROUTE) >> TN_ROUTE_SHIFT);
    return TN_ROUTE_CAP >> route & 1 ? (int)route : -1;
}

/* Drives the lines of level-triggered timers from the status bits. */
static void sync_lines(struct pdm_dev *dev)
{
    struct hpet *s = dev->data;
    uint32_t want = 0;
    for (unsigned n = 0; n < HPET_TIMERS && enabled(s); n++) {
        uint64_t config = s->r.t[n].config;
        int line = timer_line(s, n);
        if ((config & TN_LEVEL) && (config & TN_INT_ENB) && (s->r.isr >> n & 1) && line >= 0)
            want |= 1u << line;
    }
    for (unsigned line = 0; line < 24; line++)
        if ((want ^ s->asserted) >> line & 1)
            dev->hlp->irq_set(dev, line, (int)(want >> line & 1));
    s->asserted = want;
}

/* Raises timer n's interrupt: sets its status bit (level) or pulses its
 * line (edge). */
static void deliver(struct pdm_dev *dev, unsigned n, uint64_t now)
{
    struct hpet *s = dev->data;
    uint64_t config = s->r.t[n].config;
    s->t[n].pending = false;
    s->t[n].last_irq_ns = now;
    if (config & TN_LEVEL) {
        s->r.isr |= 1ull << n;
        sync_lines(dev);
        return;
    }
    int line = timer_line(s, n);
    if (line >= 0 && !(s->asserted >> line & 1)) {
        dev->hlp->irq_set(dev, (unsigned)line, 1);
        dev->hlp->irq_set(dev, (unsigned)line, 0);
    }
}

/* Whether timer n's match would change anything a guest can see. */
static bool wants_irq(const struct hpet *s, unsigned n)
{
    uint64_t config = s->r.t[n].config;
    if (!enabled(s))
        return false;
    if (config & TN_LEVEL)
        return !(s->r.isr >> n & 1);
    return (config & TN_INT_ENB) != 0;
}

static uint64_t earliest_irq(struct pdm_dev *dev, unsigned n)
{
    struct hpet *s = dev->data;
    if (!(s->r.t[n].config & TN_PERIODIC) || !s->t[n].last_irq_ns)
        return 0;
    return s->t[n].last_irq_ns + dev->hlp->timer_min_period_ns(dev);
}

static void arm(struct pdm_dev *dev, unsigned n)
{
    struct hpet *s = dev->data;
    struct hpet_timer *t = &s->t[n];
    uint64_t when = NEVER;
    if (wants_irq(s, n)) {
        when = t->pending ? 0 : tick_time(s, t->next);
        uint64_t min = earliest_irq(dev, n);
        if (when != NEVER && when < min)
            when = min;
    }
    if (when == NEVER)
        dev->hlp->timer_disarm(t->timer);
    else
        dev->hlp->timer_arm(t->timer, when);
}

/* Brings every timer up to `now`: consumes matches, raises the interrupts
 * that are due, re-arms. */
static void service(struct pdm_dev *dev, uint64_t now)
{
    struct hpet *s = dev->data;
    if (!enabled(s))
        return;
    uint64_t c = counter_at(s, now);
    for (unsigned n = 0; n < HPET_TIMERS; n++) {
        struct hpet_timer *t = &s->t[n];
        if (catch_up(s, n, c) && wants_irq(s, n))
            t->pending = true;
        if (t->pending && now >= earliest_irq(dev, n))
            deliver(dev, n, now);
        arm(dev, n);
    }
}

/* After a register change: next matches from the counter's value now;
 * IRQ0 and IRQ8 taken from the PIT and the RTC in legacy replacement mode
 * (after lowering ours, when given back). */
static void reprogram(struct pdm_dev *dev, uint64_t now)
{
    struct hpet *s = dev->data;
    uint64_t c = counter_at(s, now);
    bool legacy = s->r.conf & CONF_LEGACY;
    for (unsigned n = 0; n < HPET_TIMERS; n++) {
        s->t[n].next = first_match(s, n, c);
        if (!wants_irq(s, n))
            s->t[n].pending = false;
        arm(dev, n);
    }
    if (legacy) {
        dev->hlp->irq_take_over(dev, 0, true);
        dev->hlp->irq_take_over(dev, 8, true);
    }
    sync_lines(dev);
    if (!legacy) {
        dev->hlp->irq_take_over(dev, 0, false);
        dev->hlp->irq_take_over(dev, 8, false);
    }
}

static void timer_cb(struct pdm_dev *dev, void *user, uint64_t now)
{
    service(dev, now);
}

static uint64_t cap_id(void)
{
    return HPET_PERIOD_FS << 32 | (uint64_t)HPET_VENDOR << 16 | CAP_LEGACY_RT | CAP_COUNT_64 |
           (uint64_t)(HPET_TIMERS - 1) << 8 | HPET_REV;
}

static uint64_t reg_read(struct hpet *s, uint64_t reg, uint64_t now)
{
    if (reg == R_CAP)
        return cap_id();
    if (reg == R_CONF)
        return s->r.conf;
    if (reg == R_ISR)
        return s->r.isr;
    if (reg == R_COUNTER)
        return counter_at(s, now);
    if (reg < R_TIMER || reg >= R_TIMER + HPET_TIMERS * R_TSTRIDE)
        return 0;
    unsigned n = (unsigned)((reg - R_TIMER) / R_TSTRIDE);
    switch ((reg - R_TIMER) % R_TSTRIDE) {
    case 0x00:
        return s->r.t[n].config | TN_CAPS;
    case 0x08:
        return s->r.t[n].cmp;
    case 0x10:
        return s->r.t[n].fsb;
    default:
        return 0;
    }
}

static uint64_t merge(uint64_t old, uint64_t val, uint64_t mask)
{
    return (old & ~mask) | (val & mask);
}

static void write_config(struct hpet *s, unsigned n, uint64_t v)
{
    uint64_t *config = &s->r.t[n].config;
    uint64_t route = (v & TN_ROUTE) >> TN_ROUTE_SHIFT;
    v &= TN_WRITABLE;
    if (!(TN_ROUTE_CAP >> route & 1)) /* a route not offered: reads back unchanged */
        v = (v & ~TN_ROUTE) | (*config & TN_ROUTE);
    if ((v & TN_32BIT) && !(*config & TN_32BIT)) {
        s->r.t[n].cmp &= 0xffffffffull;
        s->r.t[n].period &= 0xffffffffull;
    }
    *config = v;
}

static void write_cmp(struct hpet *s, unsigned n, uint64_t val, uint64_t mask)
{
    uint64_t config = s->r.t[n].config, wmask = width_mask(config);
    if (!(config & TN_PERIODIC) || (config & TN_VAL_SET))
        s->r.t[n].cmp = merge(s->r.t[n].cmp, val, mask) & wmask;
    if (config & TN_PERIODIC)
        s->r.t[n].period = merge(s->r.t[n].period, val, mask) & wmask;
    s->r.t[n].config &= ~TN_VAL_SET;
}

static void reg_write(struct pdm_dev *dev, uint64_t reg, uint64_t val, uint64_t mask, uint64_t now)
{
    struct hpet *s = dev->data;
    if (reg == R_CONF) {
        uint64_t conf = merge(s->r.conf, val, mask) & (CONF_ENABLE | CONF_LEGACY);
        if ((conf ^ s->r.conf) & CONF_ENABLE) {
            s->r.counter = counter_at(s, now); /* freeze, or restart from here */
            s->base_ns = now;
        }
        s->r.conf = conf;
    } else if (reg == R_ISR) {
        s->r.isr &= ~(val & mask);
    } else if (reg == R_COUNTER) {
        if (enabled(s)) {
            dev->hlp->log(dev, PDM_LOG_DEBUG, "main counter written while running: ignored");
            return;
        }
        s->r.counter = merge(s->r.counter, val, mask);
    } else if (reg >= R_TIMER && reg < R_TIMER + HPET_TIMERS * R_TSTRIDE) {
        unsigned n = (unsigned)((reg - R_TIMER) / R_TSTRIDE);
        switch ((reg - R_TIMER) % R_TSTRIDE) {
        case 0x00:
            write_config(s, n, merge(s->r.t[n].config, val, mask));
            break;
        case 0x08:
            write_cmp(s, n, val, mask);
            break;
        case 0x10:
            s->r.t[n].fsb = merge(s->r.t[n].fsb, val, mask);
            break;
        default:
            return;
        }
    } else {
        return; /* read-only or reserved */
    }
    reprogram(dev, now);
}

static cap_result hpet_mmio(struct pdm_dev *dev, void *user, uint64_t addr, unsigned size,
                            bool write, uint64_t *val)
{
    struct hpet *s = dev->data;
    uint64_t off = addr - s->base, reg = off & ~7ull;
    unsigned shift = (unsigned)(off & 7) * 8;
    uint64_t lanes = size >= 8 ? ~0ull : (1ull << size * 8) - 1;
    uint64_t now = dev->hlp->clock_now(dev);
    service(dev, now);
    if (write)
        reg_write(dev, reg, *val << shift, lanes << shift, now);
    else
        *val = (reg_read(s, reg, now) >> shift) & lanes;
    return CAP_OK;
}

static void hpet_reset(struct pdm_dev *dev)
{
    struct hpet *s = dev->data;
    s->r = (struct hpet_regs){0};
    for (unsigned n = 0; n < HPET_TIMERS; n++) {
        s->r.t[n].cmp = ~0ull;
        s->t[n].pending = false;
        s->t[n].last_irq_ns = 0;
    }
    s->base_ns = dev->hlp->clock_now(dev);
    reprogram(dev, s->base_ns);
}

/* Saved state (version 2, named fields): conf, isr, the counter's value
 * at the save, and each timer's registers as tN.config, tN.cmp, tN.period,
 * tN.fsb; loading applies them as the guest's writes would (masked to
 * what is writable) and restarts the counter at TM's restored time. */
static const struct pdm_field hpet_fields[] = {
    PDM_FIELD(struct hpet_regs, conf),
    PDM_FIELD(struct hpet_regs, isr),
    PDM_FIELD(struct hpet_regs, counter),
};
static const struct pdm_field hpet_timer_fields[] = {
    PDM_FIELD(struct hpet_regs, t[0].config),
    PDM_FIELD(struct hpet_regs, t[0].cmp),
    PDM_FIELD(struct hpet_regs, t[0].period),
    PDM_FIELD(struct hpet_regs, t[0].fsb),
};
#define HPET_TIMER_STRIDE (offsetof(struct hpet_regs, t[1]) - offsetof(struct hpet_regs, t[0]))

static cap_result hpet_save_state(struct pdm_dev *dev, struct ssm_writer *w)
{
    struct hpet *s = dev->data;
    struct hpet_regs r = s->r;
    r.counter = counter_at(s, dev->hlp->clock_now(dev));
    cap_result rc = pdm_fields_put(dev, w, NULL, &r, hpet_fields, PDM_FIELD_COUNT(hpet_fields));
    char prefix[8];
    for (unsigned n = 0; n < HPET_TIMERS; n++) {
        snprintf(prefix, sizeof prefix, "t%u.", n);
        rc = pdm_fields_put(dev, w, prefix, (char *)&r + n * HPET_TIMER_STRIDE, hpet_timer_fields,
                            PDM_FIELD_COUNT(hpet_timer_fields));
    }
    return rc;
}

static cap_result hpet_load_state(struct pdm_dev *dev, struct ssm_unit *u)
{
    struct hpet *s = dev->data;
    struct hpet_regs r = s->r;
    cap_result rc = dev->hlp->ssm->check_version(u, 2, 2);
    if (CAP_SUCCEEDED(rc))
        rc = pdm_fields_get(dev, u, NULL, &r, hpet_fields, PDM_FIELD_COUNT(hpet_fields));
    char prefix[8];
    for (unsigned n = 0; n < HPET_TIMERS && CAP_SUCCEEDED(rc); n++) {
        snprintf(prefix, sizeof prefix, "t%u.", n);
        rc = pdm_fields_get(dev, u, prefix, (char *)&r + n * HPET_TIMER_STRIDE, hpet_timer_fields,
                            PDM_FIELD_COUNT(hpet_timer_fields));
    }
    if (CAP_FAILED(rc))
        return rc;
    s->r.conf = r.conf & (CONF_ENABLE | CONF_LEGACY);
    s->r.isr = r.isr & ((1u << HPET_TIMERS) - 1);
    s->r.counter = r.counter;
    for (unsigned n = 0; n < HPET_TIMERS; n++) {
        s->r.t[n].config = 0;
        write_config(s, n, r.t[n].config);
        s->r.t[n].cmp = r.t[n].cmp & width_mask(s->r.t[n].config);
        s->r.t[n].period = r.t[n].period & width_mask(s->r.t[n].config);
        s->r.t[n].fsb = r.t[n].fsb;
        s->t[n].pending = false;
        s->t[n].last_irq_ns = 0;
    }
    s->base_ns = dev->hlp->clock_now(dev);
    reprogram(dev, s->base_ns);
    return CAP_OK;
}

static cap_result hpet_construct(struct pdm_dev *dev, const struct pdm_cfg *cfg)
{
    struct hpet *s = dev->data;
    const struct pdm_hlp *h = dev->hlp;
    int64_t base;
    cap_result rc = h->cfg_int(dev, cfg, "base", (int64_t)HPET_BASE, 0, 0xfffffc00ll, &base);
    if (CAP_FAILED(rc))
        return rc;
    if (base & (HPET_SIZE - 1))
        return h->error(dev, CAP_E_INVALIDARG, "config key 'base': 0x%llx is not 1 KiB aligned",
                        (long long)base);
    s->base = (uint64_t)base;
    static const char *const names[HPET_TIMERS] = {"timer 0", "timer 1", "timer 2"};
    for (unsigned n = 0; CAP_SUCCEEDED(rc) && n < HPET_TIMERS; n++)
        rc = h->timer_create(dev, timer_cb, NULL, names[n], &s->t[n].timer);
    if (CAP_SUCCEEDED(rc))
        rc = h->mmio_register(dev, s->base, HPET_SIZE, 0, NULL, "HPET");
    if (CAP_SUCCEEDED(rc))
        hpet_reset(dev);
    return rc;
}

static const struct pdm_dev_ops hpet_ops = {
    .construct = hpet_construct,
    .reset = hpet_reset,
    .mmio = hpet_mmio,
    .save_state = hpet_save_state,
    .load_state = hpet_load_state,
};

static const struct pdm_devreg hpet_reg = {
    .abi = PDM_DEVREG_ABI,
    .name = "hpet",
    .description = "high precision event timer (IA-PC HPET, 3 timers)",
    .instance_size = sizeof(struct hpet),
    .max_instances = 1,
    .saved_state_version = 2,
    .ops = &hpet_ops,
};

static const cap_uuid hpet_cid = {{0xed, 0x46, 0xeb, 0xb0, 0x17, 0xc1, 0x43, 0xfc, 0xaa, 0x57, 0x7d,
                                   0xc0, 0xc1, 0x3c, 0x51, 0x95}};
PDM_DEVICE_COMPONENT(hpet_reg, hpet_cid, "hpet")
