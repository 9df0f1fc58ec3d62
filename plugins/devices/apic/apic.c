/*
 * plugins/devices/apic/apic.c - the local APIC of vCPU 0 (xAPIC, MMIO at
 * 0xFEE00000), registered with PDM as the VM's local APIC: the EM's INTA
 * (pdm_get_interrupt_cpu) comes here first, and this device drives the
 * CPU's INTR pin.
 *
 * Interrupts reach IRR from the I/O APIC (pdm_apic_ops.deliver), from
 * IPIs to itself (ICR), from the LVT timer and error entries, and from the
 * LINT pins in Fixed mode. Arbitration is the architectural one: the
 * highest IRR vector is delivered when its priority class is above the
 * PPR's (PPR = TPR, or the class of the highest ISR vector if higher);
 * INTA moves it to ISR, EOI clears the highest ISR bit and, for a
 * level-triggered vector (TMR), broadcasts the EOI to the I/O APIC.
 *
 * Virtual wire: the PIC's INTR arrives on LINT0. From reset until the
 * guest first writes the SVR (standing in for the firmware that sets
 * LINT0 to ExtINT on a PC), or while LINT0 is unmasked with delivery mode
 * ExtINT, or while the APIC is globally disabled, the PIC passes through:
 * INTR follows it and INTA answers PDM_APIC_EXTINT so PDM asks the PIC for
 * the vector (APIC vectors first). LINT0/LINT1 in NMI mode, NMI IPIs to
 * self and I/O APIC NMI messages call hlp->cpu_nmi (LINTn on a rising
 * edge); EM hands the NMI to the engine.
 *
 * Software disable (SVR bit 8 clear), as the SDM describes it (Vol. 3A
 * 10.4.7.2, "Local APIC State After It Has Been Software Disabled"): every
 * register stays readable and writable; all LVT mask bits are set and a
 * write cannot clear them (the other fields are written); fixed and
 * lowest-priority interrupts are not accepted, NMI, SMI, INIT and SIPI
 * are; the ICR still sends IPIs; what IRR and ISR hold stays there and is
 * still delivered to the CPU (the SDM: held, "require masking or handling
 * by the CPU"), EOI still works; the timer counts (its LVT is masked).
 *
 * Global disable (IA32_APIC_BASE bit 11 clear, read through
 * hlp->cpu_apic_base whenever the guest or a device reaches the APIC):
 * the CPU then has no APIC (10.4.3) - the MMIO page is not the APIC any
 * more, so reads return all ones (nothing answers on the bus) and writes
 * go nowhere; the PIC drives INTR directly, I/O APIC messages are
 * dropped; the APIC's state returns to that after reset ("may", the SDM
 * says: this one does). An APIC base moved away from `base` is treated
 * the same at `base` (relocation is not modelled; logged once).
 *
 * Timer: counts at timer_hz / divisor (DCR), one-shot or periodic, on a
 * TM timer; the current count is computed from the virtual clock. After a
 * stall, missed periods are dropped. Issue 19: the count runs at the
 * programmed rate, but the TM timer is armed only when its interrupt can
 * make a difference - LVT unmasked and the vector not already waiting in
 * IRR (more ticks would add nothing: IRR holds one) - so a masked timer,
 * or one whose interrupt waits for IF, costs nothing; INTA of the vector
 * and unmasking re-arm it for the next expiry. A periodic expiry comes at
 * most once per hlp->timer_min_period_ns (TM's 200 us, as KVM's LAPIC)
 * after the previous one. A DCR change applies from the moment the count
 * was loaded. TSC-deadline mode needs the IA32_TSC_DEADLINE MSR,
 * which has no path to devices yet: in that mode the timer stays idle.
 *
 * ICR: fixed/lowest-priority and NMI IPIs to this APIC (by shorthand or by
 * matching physical/logical destination) are delivered; INIT and STARTUP
 * are recorded (counters, last SIPI vector, logged) for SMP later, as are
 * IPIs to other APIC IDs (no other vCPUs yet). Delivery is instantaneous,
 * so the delivery-status bit always reads 0.
 *
 * Not modelled (yet): more than one vCPU (the MMIO callback does not know
 * which vCPU accesses, so the single instance is vCPU 0's), relocation
 * through the APIC base MSR, x2APIC, thermal/performance/CMCI LVT sources,
 * focus checking, remote read, directed EOI (SVR bit 12 is reserved: the
 * version register does not offer it).
 *
 * Config: base (default 0xfee00000), id (default 0), timer_hz (default
 * 1000000000: at divide-by-1 one tick per ns).
 */
#include "pdmdev_fields.h"

#define APIC_VERSION 0x00050014u /* version 0x14, 6 LVT entries */

/* LVT indices (register 0x2f0 is CMCI; 0x320-0x370 follow). */
enum { LVT_CMCI, LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_N };

#define LVT_MASKED         0x10000u
#define LVT_LEVEL          0x8000u
#define LVT_DM(v)          (((v) >> 8) & 7)
#define TIMER_PERIODIC     1
#define TIMER_TSC_DEADLINE 2

#define SVR_ENABLE       0x100u
#define SVR_WRITABLE     0x3ffu /* vector, enable, focus checking */
#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_ADDR   0x000ffffffffff000ull
#define ESR_SEND_ILLEGAL 0x20u
#define ESR_RECV_ILLEGAL 0x40u
#define ESR_ILLEGAL_REG  0x80u

struct apic {
    uint32_t id, tpr, ldr, dfr, svr, esr, esr_pending, icr_lo, icr_hi;
    uint32_t lvt[LVT_N];
    uint32_t isr[8], tmr[8], irr[8];
    uint32_t initial_count, dcr;
    uint64_t count_start; /* virtual ns the count was loaded (or last reloaded) */
    uint8_t lint[2];      /* pin levels; LINT0 is the PIC's INTR */
    uint8_t intr;         /* what we put on the CPU's INTR pin */
    uint8_t timer_running;
    uint32_t inits, sipis, sipi_vector; /* recorded for SMP */
    uint8_t reset_wire;   /* the PIC passes until the guest writes the SVR */
    uint8_t hw_disabled;  /* IA32_APIC_BASE[11] was seen clear: state reset */
    /* host side, set at construct */
    struct pdm_timer *timer;
    uint64_t base, timer_hz;
    uint32_t initial_id;
    bool tsc_deadline_logged, moved_logged;
    uint64_t armed_at;  /* the deadline `timer` is armed for */
    uint64_t last_fire; /* the last expiry's deadline (or the TMICT write) */
};

static const struct pdm_apic_ops apic_pdm_ops;

/* ---- bitmaps and priorities -------------------------------------------------- */

static int highest(const uint32_t *bm)
{
    for (int i = 7; i >= 0; i--)
        if (bm[i])
            return i * 32 + 31 - __builtin_clz(bm[i]);
    return -1;
}

static void bit_set(uint32_t *bm, unsigned v)
{
    bm[v >> 5] |= 1u << (v & 31);
}

static void bit_clear(uint32_t *bm, unsigned v)
{
    bm[v >> 5] &= ~(1u << (v & 31));
}

static bool bit_test(const uint32_t *bm, unsigned v)
{
    return (bm[v >> 5] >> (v & 31)) & 1;
}

static uint32_t ppr(const struct apic *s)
{
    int isrv = highest(s->isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
    return (s->tpr & 0xf0) >= isr_class ? s->tpr & 0xff : isr_class;
}

static bool sw_enabled(const struct apic *s)
{
    return (s->svr & SVR_ENABLE) != 0;
}

/* The highest IRR vector that may interrupt now, or -1. A software-
 * disabled APIC still delivers what IRR held when it was disabled. */
static int deliverable(const struct apic *s)
{
    int v = highest(s->irr);
    if (v < 0 || s->hw_disabled || ((uint32_t)v & 0xf0) <= (ppr(s) & 0xf0))
        return -1;
    return v;
}

static bool pic_passes(const struct apic *s)
{
    uint32_t l0 = s->lvt[LVT_LINT0];
    return s->hw_disabled || s->reset_wire ||
           (!(l0 & LVT_MASKED) && LVT_DM(l0) == PDM_APIC_DM_EXTINT);
}

static void update(struct pdm_dev *dev)
{
    struct apic *s = dev->data;
    uint8_t intr = deliverable(s) >= 0 || (pic_passes(s) && s->lint[0]);
    if (intr != s->intr) {
        s->intr = intr;
        dev->hlp->cpu_set_intr_cpu(dev, 0, intr);
    }
}

static void signal_error(struct pdm_dev *dev, uint32_t bits);

/* The registers as after power-up or RESET (SDM 10.4.7.1); the pins'
 * levels and what INTR shows are the wires', not registers: kept. */
static void reset_regs(struct pdm_dev *dev)
{
    struct apic *s = dev->data;
    uint8_t lint0 = s->lint[0], lint1 = s->lint[1], intr = s->intr;
    memset(s, 0, offsetof(struct apic, timer));
    s->id = s->initial_id << 24;
    s->dfr = 0xffffffffu;
    s->svr = 0xff;
    for (int i = 0; i < LVT_N; i++)
        s->lvt[i] = LVT_MASKED;
    s->reset_wire = 1;
    s->lint[0] = lint0, s->lint[1] = lint1, s->intr = intr;
    dev->hlp->timer_disarm(s->timer);
}

/* Whether the CPU has its APIC globally enabled (IA32_APIC_BASE[11]),
 * asked at each entry from the guest or a device: the MSR is the CPU's and
 * changes without telling devices. The first time it is seen clear the
 * APIC returns to its reset state; while clear it is not there at all. */
static bool hw_enabled(struct pdm_dev *dev)
{
    struct apic *s = dev->data;
    bool on = (dev->hlp->cpu_apic_base(dev, 0) & APIC_BASE_ENABLE) != 0;
    if (on == !s->hw_disabled)
        return on;
    if (!on) {
        reset_regs(dev);
        dev->hlp->log(dev, PDM_LOG_DEBUG, "globally disabled (IA32_APIC_BASE[11] clear): reset");
    }
    s->hw_disabled = !on;
    update(dev);
    return on;
}

/* Whether `base` holds the APIC's registers now: globally enabled and not
 * moved elsewhere by the MSR (relocation is not modelled). */
static bool regs_at_base(struct pdm_dev *dev)
{
    struct apic *s = dev->data;
    if (!hw_enabled(dev))
        return false;
    uint64_t at = dev->hlp->cpu_apic_base(dev, 0) & APIC_BASE_ADDR;
    if (at == s->base)
        return true;
    if (!s->moved_logged) {
        s->moved_logged = true;
        dev->hlp->log(dev, PDM_LOG_WARN,
                      "the guest moved the APIC base to 0x%llx: relocation is not supported, "
                      "0x%llx reads as open bus", (unsigned long long)at,
                      (unsigned long long)s->base);
    }
    return false;
}

/* Accepts a fixed interrupt into IRR. */
static void set_irr(struct pdm_dev *dev, unsigned vector, bool level)
{
    struct apic *s = dev->data;
    if (vector < 16) {
        signal_error(dev, ESR_RECV_ILLEGAL);
        return;
    }
    if (!sw_enabled(s))
        return; /* a software-disabled APIC accepts no fixed interrupts */
    bit_set(s->irr, vector);
    if (level)
        bit_set(s->tmr, vector);
    else
        bit_clear(s->tmr, vector);
    update(dev);
}

static void signal_error(struct pdm_dev *dev, uint32_t bits)
{
    struct apic *s = dev->data;
    s->esr_pending |= bits;
    uint32_t lvt = s->lvt[LVT_ERROR];
    if (!(lvt & LVT_MASKED) && (lvt & 0xff) >= 16)
        set_irr(dev, lvt & 0xff, false);
}

/* ---- the timer --------------------------------------------------------------- */

static unsigned divisor(const struct apic *s)
{
    unsigned v = (s->dcr & 3) | ((s->dcr >> 1) & 4);
    return 1u << ((v + 1) & 7);
}

static uint64_t ticks_to_ns(const struct apic *s, uint64_t ticks)
{
    unsigned __int128 t = (unsigned __int128)ticks * divisor(s) * 1000000000u;
    return (uint64_t)((t + s->timer_hz - 1) / s->timer_hz);
}

static uint64_t ticks_since(const struct apic *s, uint64_t now)
{
    uint64_t d = now > s->count_start ? now - s->count_start : 0;
    return (uint64_t)((unsigned __int128)d * s->timer_hz / 1000000000u / divisor(s));
}

static unsigned timer_mode(const struct apic *s)
{
    return (s->lvt[LVT_TIMER] >> 17) & 3;
}

static uint32_t current_count(const struct apic *s, uint64_t now)
{
    if (!s->timer_running || !s->initial_count)
        return 0;
    uint64_t t = ticks_since(s, now);
    if (timer_mode(s) == TIMER_PERIODIC)
        return s->initial_count - (uint32_t)(t % s->initial_count);
    return t >= s->initial_count ? 0 : s->initial_count - (uint32_t)t;
}

/* Whether an expiry now would change anything the CPU sees. */
static bool timer_heard(const struct apic *s)
{
    uint32_t lvt = s->lvt[LVT_TIMER];
    return !(lvt & LVT_MASKED) && !bit_test(s->irr, lvt & 0xff);
}

/* The first expiry (virtual ns) strictly after `after`. */
static uint64_t next_expiry(const struct apic *s, uint64_t after)
{
    uint64_t n = ticks_since(s, after) / s->initial_count + 1;
    return s->count_start + ticks_to_ns(s, n * s->initial_count);
}

static void arm_timer(struct pdm_dev *dev, uint64_t now)
{
    struct apic *s = dev->data;
    if (timer_mode(s) == TIMER_TSC_DEADLINE && !s->tsc_deadline_logged) {
        s->tsc_deadline_logged = true;
        dev->hlp->log(dev, PDM_LOG_WARN, "TSC-deadline timer mode is not supported yet");
    }
    if (!s->timer_running || !s->initial_count || timer_mode(s) == TIMER_TSC_DEADLINE) {
        dev->hlp->timer_disarm(s->timer);
        return;
    }
    uint64_t t = ticks_since(s, now);
    if ((timer_mode(s) != TIMER_PERIODIC && t >= s->initial_count) || !timer_heard(s)) {
        dev->hlp->timer_disarm(s->timer);
        return;
    }
    uint64_t at = next_expiry(s, now);
    if (timer_mode(s) == TIMER_PERIODIC) {
        uint64_t min = dev->hlp->timer_min_period_ns(dev);
        if (at < s->last_fire + min)
            at = next_expiry(s, s->last_fire + min - 1);
    }
    s->armed_at = at;
    dev->hlp->timer_arm(s->timer, at);
}

static void timer_fired(struct pdm_dev *dev, void *user, uint64_t now)
{
    struct apic *s = dev->data;
    if (!hw_enabled(dev))
        return; /* the reset disarmed it */
    s->last_fire = s->armed_at;
    uint32_t lvt = s->lvt[LVT_TIMER];
    if (timer_mode(s) == TIMER_PERIODIC) {
        /* Restart the period from the edge that fired, dropping missed ones. */
        uint64_t t = ticks_since(s, now);
        s->count_start += ticks_to_ns(s, t - t % s->initial_count);
    } else {
        s->timer_running = 0;
    }
    if (!(lvt & LVT_MASKED))
        set_irr(dev, lvt & 0xff, false);
    arm_timer(dev, now);
}

/* ---- IPIs and messages ---------------------------------------------------------- */

static bool dest_matches(const struct apic *s, uint8_t dest, bool logical)
{
    if (!logical)
        return dest == 0xff || dest == (uint8_t)(s->id >> 24);
    if (dest == 0xff)
        return true;
    uint8_t ldr = (uint8_t)(s->ldr >> 24);
    if ((s->dfr >> 28) == 0xf) /* flat */
        return (ldr & dest) != 0;
    return (ldr >> 4) == (dest >> 4) && (ldr & dest & 0x0f) != 0; /* cluster */
}

/* Delivery to this APIC by mode; `what` names the source in logs. */
static void accept(struct pdm_dev *dev, unsigned mode, uint8_t vector, bool level, const char *what)
{
    struct apic *s = dev->data;
    switch (mode) {
    case PDM_APIC_DM_FIXED:
    case PDM_APIC_DM_LOWEST:
        set_irr(dev, vector, level);
        break;
    case PDM_APIC_DM_NMI:
        dev->hlp->cpu_nmi(dev, 0);
        break;
    case PDM_APIC_DM_INIT:
        s->inits++;
        dev->hlp->log(dev, PDM_LOG_DEBUG, "INIT from %s recorded", what);
        break;
    case PDM_APIC_DM_STARTUP:
        s->sipis++;
        s->sipi_vector = vector;
        dev->hlp->log(dev, PDM_LOG_DEBUG, "STARTUP 0x%02x from %s recorded", vector, what);
        break;
    default:
        dev->hlp->log(dev, PDM_LOG_DEBUG, "%s: delivery mode %u ignored", what, mode);
        break;
    }
}

static void send_ipi(struct pdm_dev *dev)
{
    struct apic *s = dev->data;
    uint32_t lo = s->icr_lo;
    unsigned mode = LVT_DM(lo), shorthand = (lo >> 18) & 3;
    uint8_t vector = (uint8_t)lo, dest = (uint8_t)(s->icr_hi >> 24);
    bool logical = (lo >> 11) & 1;
    if ((mode == PDM_APIC_DM_FIXED || mode == PDM_APIC_DM_LOWEST) && vector < 16) {
        signal_error(dev, ESR_SEND_ILLEGAL);
        return;
    }
    if (mode == PDM_APIC_DM_INIT && !(lo & 0x4000) && (lo & LVT_LEVEL))
        return; /* INIT level de-assert: a no-op on modern CPUs */
    bool to_self, to_others;
    switch (shorthand) {
    case 1: /* self */
        to_self = true, to_others = false;
        break;
    case 2: /* all including self */
        to_self = to_others = true;
        break;
    case 3: /* all excluding self */
        to_self = false, to_others = true;
        break;
    default:
        to_self = dest_matches(s, dest, logical);
        to_others = logical || dest != (uint8_t)(s->id >> 24);
        break;
    }
    if (to_self)
        accept(dev, mode, vector, false, "ICR");
    if (to_others)
        dev->hlp->log(dev, PDM_LOG_DEBUG,
                      "IPI mode %u vector 0x%02x to other CPUs (dest 0x%02x): none exist yet", mode,
                      vector, dest);
    if (to_others && mode == PDM_APIC_DM_INIT)
        s->inits++;
    if (to_others && mode == PDM_APIC_DM_STARTUP) {
        s->sipis++;
        s->sipi_vector = vector;
    }
}

static void apic_deliver(struct pdm_dev *dev, const struct pdm_apic_msg *msg)
{
    struct apic *s = dev->data;
    if (!hw_enabled(dev)) {
        dev->hlp->log(dev, PDM_LOG_DEBUG, "globally disabled: I/O APIC message 0x%02x dropped",
                      msg->vector);
        return;
    }
    if (msg->delivery == PDM_APIC_DM_EXTINT) {
        dev->hlp->log(dev, PDM_LOG_DEBUG, "ExtINT message ignored (wire the PIC to LINT0)");
        return;
    }
    if (dest_matches(s, msg->dest, msg->logical))
        accept(dev, msg->delivery, msg->vector, msg->level, "I/O APIC");
}

static void apic_set_lint(struct pdm_dev *dev, unsigned cpu, unsigned pin, int level)
{
    struct apic *s = dev->data;
    if (cpu != 0 || pin > 1)
        return;
    uint8_t old = s->lint[pin];
    s->lint[pin] = level ? 1 : 0;
    if (!hw_enabled(dev)) {
        /* no APIC: LINT0 is INTR (the PIC passes), LINT1 the NMI pin */
        if (pin == 1 && level && !old)
            dev->hlp->cpu_nmi(dev, 0);
        update(dev);
        return;
    }
    uint32_t lvt = s->lvt[pin ? LVT_LINT1 : LVT_LINT0];
    unsigned mode = LVT_DM(lvt);
    if (level && !old && !(lvt & LVT_MASKED) && sw_enabled(s) && mode != PDM_APIC_DM_EXTINT)
        accept(dev, mode, (uint8_t)lvt, false, pin ? "LINT1" : "LINT0");
    update(dev);
}

static int apic_get_interrupt(struct pdm_dev *dev, unsigned cpu)
{
    struct apic *s = dev->data;
    if (cpu != 0)
        return -1;
    hw_enabled(dev);
    int v = deliverable(s);
    if (v >= 0) {
        bit_clear(s->irr, (unsigned)v);
        bit_set(s->isr, (unsigned)v);
        if ((unsigned)v == (s->lvt[LVT_TIMER] & 0xff) && s->timer_running)
            arm_timer(dev, dev->hlp->clock_now(dev)); /* IRR can take the next one */
    } else if (pic_passes(s) && s->lint[0]) {
        v = PDM_APIC_EXTINT;
    }
    update(dev);
    return v;
}

static void eoi(struct pdm_dev *dev)
{
    struct apic *s = dev->data;
    int v = highest(s->isr);
    if (v < 0)
        return;
    bit_clear(s->isr, (unsigned)v);
    if (bit_test(s->tmr, (unsigned)v))
        dev->hlp->apic_eoi(dev, (uint8_t)v);
    update(dev);
}

/* ---- registers ------------------------------------------------------------- */

static uint32_t reg_read(struct pdm_dev *dev, unsigned reg)
{
    struct apic *s = dev->data;
    switch (reg) {
    case 0x02:
        return s->id;
    case 0x03:
        return APIC_VERSION;
    case 0x08:
        return s->tpr;
    case 0x09:
        return 0; /* APR */
    case 0x0a:
        return ppr(s);
    case 0x0d:
        return s->ldr;
    case 0x0e:
        return s->dfr;
    case 0x0f:
        return s->svr;
    case 0x28:
        return s->esr;
    case 0x2f:
        return s->lvt[LVT_CMCI];
    case 0x30:
        return s->icr_lo & ~0x1000u; /* delivery status: always idle */
    case 0x31:
        return s->icr_hi;
    case 0x32 ... 0x37:
        return s->lvt[LVT_TIMER + reg - 0x32];
    case 0x38:
        return s->initial_count;
    case 0x39:
        return current_count(s, dev->hlp->clock_now(dev));
    case 0x3e:
        return s->dcr;
    case 0x10 ... 0x17:
        return s->isr[reg - 0x10];
    case 0x18 ... 0x1f:
        return s->tmr[reg - 0x18];
    case 0x20 ... 0x27:
        return s->irr[reg - 0x20];
    default:
        return 0;
    }
}

static void write_svr(struct pdm_dev *dev, uint32_t v)
{
    struct apic *s = dev->data;
    s->svr = v & SVR_WRITABLE;
    s->reset_wire = 0; /* from now on LINT0 decides (the guest set the APIC up) */
    if (!sw_enabled(s)) /* software disable masks every LVT entry */
        for (int i = 0; i < LVT_N; i++)
            s->lvt[i] |= LVT_MASKED;
    update(dev);
}

static void write_lvt(struct pdm_dev *dev, int idx, uint32_t v)
{
    static const uint32_t writable[LVT_N] = {
        [LVT_CMCI] = 0x107ff,  [LVT_TIMER] = 0x700ff, [LVT_THERMAL] = 0x107ff, [LVT_PERF] = 0x107ff,
        [LVT_LINT0] = 0x1a7ff, [LVT_LINT1] = 0x1a7ff, [LVT_ERROR] = 0x100ff,
    };
    struct apic *s = dev->data;
    uint64_t now = dev->hlp->clock_now(dev);
    if (!sw_enabled(s))
        v |= LVT_MASKED;
    if (idx == LVT_TIMER && timer_mode(s) == TIMER_PERIODIC && s->timer_running)
        s->count_start += ticks_to_ns(s, ticks_since(s, now) / s->initial_count * s->initial_count);
    s->lvt[idx] = v & writable[idx];
    if (idx == LVT_TIMER)
        arm_timer(dev, now);
    update(dev);
}

static void reg_write(struct pdm_dev *dev, unsigned reg, uint32_t v)
{
    struct apic *s = dev->data;
    uint64_t now;
    switch (reg) {
    case 0x02:
        s->id = v & 0xff000000u;
        break;
    case 0x08:
        s->tpr = v & 0xff;
        update(dev);
        break;
    case 0x0b:
        eoi(dev);
        break;
    case 0x0d:
        s->ldr = v & 0xff000000u;
        break;
    case 0x0e:
        s->dfr = v | 0x0fffffffu;
        break;
    case 0x0f:
        write_svr(dev, v);
        break;
    case 0x28: /* a write latches the errors seen since the last one */
        s->esr = s->esr_pending;
        s->esr_pending = 0;
        break;
    case 0x2f:
        write_lvt(dev, LVT_CMCI, v);
        break;
    case 0x30:
        s->icr_lo = v & 0x000ccfffu;
        send_ipi(dev);
        break;
    case 0x31:
        s->icr_hi = v & 0xff000000u;
        break;
    case 0x32 ... 0x37:
        write_lvt(dev, LVT_TIMER + (int)reg - 0x32, v);
        break;
    case 0x38:
        now = dev->hlp->clock_now(dev);
        s->initial_count = v;
        s->count_start = now;
        s->last_fire = now;
        s->timer_running = v != 0;
        arm_timer(dev, now);
        break;
    case 0x3e:
        s->dcr = v & 0xb;
        arm_timer(dev, dev->hlp->clock_now(dev));
        break;
    case 0x03: /* version */
    case 0x0a: /* PPR */
    case 0x09:
    case 0x39: /* current count */
    case 0x10 ... 0x27:
        break; /* read-only */
    default:
        signal_error(dev, ESR_ILLEGAL_REG);
        break;
    }
}

static cap_result apic_mmio(struct pdm_dev *dev, void *user, uint64_t addr, unsigned size,
                            bool write, uint64_t *val)
{
    struct apic *s = dev->data;
    uint64_t off = addr - s->base;
    unsigned reg = (unsigned)(off >> 4) & 0xff, shift = (unsigned)(off & 3) * 8;
    if (!regs_at_base(dev)) { /* no APIC here: nothing answers on the bus */
        if (!write)
            *val = size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
        return CAP_OK;
    }
    if (write) {
        if (size != 4 || (off & 0xf)) {
            dev->hlp->log(dev, PDM_LOG_DEBUG, "%u-byte write at +0x%x ignored", size,
                          (unsigned)off);
            return CAP_OK;
        }
        reg_write(dev, reg, (uint32_t)*val);
    } else {
        uint64_t v = (off & 0xf) < 4 ? reg_read(dev, reg) >> shift : 0;
        *val = size >= 8 ? v : v & ((1ull << (size * 8)) - 1);
    }
    return CAP_OK;
}

/* ---- lifecycle -------------------------------------------------------------- */

static void apic_reset(struct pdm_dev *dev)
{
    struct apic *s = dev->data;
    reset_regs(dev);
    s->lint[0] = s->lint[1] = 0;
    s->intr = 1; /* force update() to tell the CPU */
    update(dev);
}

static cap_result apic_construct(struct pdm_dev *dev, const struct pdm_cfg *cfg)
{
    struct apic *s = dev->data;
    const struct pdm_hlp *h = dev->hlp;
    int64_t base, id, hz;
    cap_result rc = h->cfg_int(dev, cfg, "base", 0xfee00000ll, 0, 0xfffff000ll, &base);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_int(dev, cfg, "id", 0, 0, 254, &id);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_int(dev, cfg, "timer_hz", 1000000000ll, 1000, 10000000000ll, &hz);
    if (CAP_FAILED(rc))
        return rc;
    if (base & 0xfff)
        return h->error(dev, CAP_E_INVALIDARG, "config key 'base': 0x%llx is not 4 KiB aligned",
                        (long long)base);
    s->base = (uint64_t)base;
    s->initial_id = (uint32_t)id;
    s->timer_hz = (uint64_t)hz;
    rc = h->timer_create(dev, timer_fired, NULL, "timer", &s->timer);
    if (CAP_SUCCEEDED(rc))
        rc = h->mmio_register(dev, s->base, 0x1000, 0, NULL, "local APIC");
    if (CAP_SUCCEEDED(rc))
        rc = h->apic_register(dev, &apic_pdm_ops);
    if (CAP_SUCCEEDED(rc))
        apic_reset(dev);
    return rc;
}

#define APIC_SAVED_VERSION 3 /* 3: named fields (2: raw bytes with reset_wire, hw_disabled) */

/* Saved state: the registers by name (the LVT, ISR, TMR and IRR arrays as
 * bytes, host order), the timer's load time and last expiry (re-armed
 * against TM's restored time), the pins and what goes to INTR. */
static const struct pdm_field apic_fields[] = {
    PDM_FIELD(struct apic, id),
    PDM_FIELD(struct apic, tpr),
    PDM_FIELD(struct apic, ldr),
    PDM_FIELD(struct apic, dfr),
    PDM_FIELD(struct apic, svr),
    PDM_FIELD(struct apic, esr),
    PDM_FIELD(struct apic, esr_pending),
    PDM_FIELD(struct apic, icr_lo),
    PDM_FIELD(struct apic, icr_hi),
    PDM_FIELD(struct apic, lvt),
    PDM_FIELD(struct apic, isr),
    PDM_FIELD(struct apic, tmr),
    PDM_FIELD(struct apic, irr),
    PDM_FIELD(struct apic, initial_count),
    PDM_FIELD(struct apic, dcr),
    PDM_FIELD(struct apic, count_start),
    PDM_FIELD(struct apic, lint),
    PDM_FIELD(struct apic, intr),
    PDM_FIELD(struct apic, timer_running),
    PDM_FIELD(struct apic, inits),
    PDM_FIELD(struct apic, sipis),
    PDM_FIELD(struct apic, sipi_vector),
    PDM_FIELD(struct apic, reset_wire),
    PDM_FIELD(struct apic, hw_disabled),
    PDM_FIELD(struct apic, last_fire),
};

static cap_result apic_save_state(struct pdm_dev *dev, struct ssm_writer *w)
{
    return pdm_fields_put(dev, w, NULL, dev->data, apic_fields, PDM_FIELD_COUNT(apic_fields));
}

static cap_result apic_load_state(struct pdm_dev *dev, struct ssm_unit *u)
{
    struct apic *s = dev->data;
    cap_result rc = dev->hlp->ssm->check_version(u, APIC_SAVED_VERSION, APIC_SAVED_VERSION);
    if (CAP_SUCCEEDED(rc))
        rc = pdm_fields_get(dev, u, NULL, s, apic_fields, PDM_FIELD_COUNT(apic_fields));
    if (CAP_FAILED(rc))
        return rc;
    s->intr = !s->intr;
    arm_timer(dev, dev->hlp->clock_now(dev));
    update(dev);
    return CAP_OK;
}

static const struct pdm_apic_ops apic_pdm_ops = {
    .get_interrupt = apic_get_interrupt,
    .set_lint = apic_set_lint,
    .deliver = apic_deliver,
};

static const struct pdm_dev_ops apic_ops = {
    .construct = apic_construct,
    .reset = apic_reset,
    .mmio = apic_mmio,
    .save_state = apic_save_state,
    .load_state = apic_load_state,
};

static const struct pdm_devreg apic_reg = {
    .abi = PDM_DEVREG_ABI,
    .name = "apic",
    .description = "local APIC (xAPIC) of vCPU 0",
    .instance_size = sizeof(struct apic),
    .max_instances = 1,
    .saved_state_version = APIC_SAVED_VERSION,
    .ops = &apic_ops,
};

static const cap_uuid apic_cid = {{0x1b, 0x73, 0x7a, 0x33, 0xf0, 0xc8, 0x43, 0x08, 0x89, 0x53, 0xd6,
                                   0xf4, 0x89, 0xa8, 0xd5, 0xe9}};
PDM_DEVICE_COMPONENT(apic_reg, apic_cid, "apic")
