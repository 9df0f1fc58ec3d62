/*
 * plugins/devices/rtc/rtc.c - the MC146818 real-time clock and the 128 bytes
 * of CMOS memory behind ports 0x70 (index; bit 7 disables NMI) and 0x71
 * (data).
 *
 * Time is not ticked. The device keeps a base - "at virtual time base_ns it
 * was base_sec seconds after the epoch (UTC)" - and computes the clock
 * registers 0x00-0x09 and the century byte 0x32 from the TM virtual clock
 * when they are read, in the format register B asks for (BCD or binary,
 * 12 or 24 hours), so a paused VM's clock stands still and a format change
 * takes effect at once. Second boundaries fall at base_ns + k * 1 s. While
 * register B's SET bit is on, the registers are frozen and writable; when
 * SET goes off (or a clock register is written while running) the base is
 * recomputed from them.
 *
 * Interrupts (IRQ8, an edge: raised when IRQF in register C goes up,
 * lowered when C is read, which also clears the flags):
 *  - periodic (PF/PIE) at the register A rate, 2^(rate-1)/32768 s (rates 1
 *    and 2 are 256 and 128 Hz), on a TM timer aligned to the virtual clock;
 *    missed periods after a stall are dropped, not delivered in a burst;
 *    armed only while PF is clear (a set PF holds IRQF: more periods add
 *    nothing until C is read, which re-arms it), and at most once per
 *    hlp->timer_min_period_ns (TM's 200 us: rate 3, 8192 Hz, gets every
 *    other period; PF seen by a polling guest keeps the programmed rate);
 *  - update-ended (UF/UIE) at every second boundary, alarm (AF/AIE) when
 *    seconds/minutes/hours match the alarm bytes (0xC0-0xFF: don't care),
 *    on a second timer armed while UIE or AIE is on.
 * Flags whose interrupt is disabled are computed lazily when C is read
 * (PF/UF if a period / second boundary passed since the last read; AF if
 * the alarm matches the current second), so polling guests see them too.
 * UIP (register A bit 7) is on during the last 244 us before each update.
 * The divider bits of register A are stored but never stop the clock.
 *
 * CMOS layout filled at construct (non-volatile: reset keeps it), as
 * SeaBIOS and older BIOSes read it:
 *   0x14 equipment byte, 0x15/0x16 base memory (640 KiB),
 *   0x17/0x18 and 0x30/0x31 extended memory in KiB above 1 MiB (max 65535),
 *   0x34/0x35 RAM between 16 MiB and 4 GiB in 64 KiB units (max 0xffff),
 *   0x5b-0x5d RAM above 4 GiB in 64 KiB units, 0x2e/0x2f the checksum
 *   (big-endian sum of 0x10-0x2d), 0x32 the century.
 *
 * Config:
 *   ram_size      guest RAM in bytes (default 0: no memory bytes)
 *   ram_below_4g  the part of it below 4 GiB, the rest lies above 4 GiB
 *                 (default: all of ram_size when it fits below 4 GiB; the
 *                 machine's device table, vmm/platform, gives what EM maps
 *                 and e820 says)
 *   base_time     "utc" (default: the host's UTC time at construct),
 *                 "localtime", seconds since the epoch, or
 *                 "YYYY-MM-DDTHH:MM:SS" (UTC)
 *   equipment     the equipment byte (default 0x06: FPU, PS/2 mouse)
 *   irq           default 8
 *   boot_order    up to three of floppy, disk, dvd, net, comma-separated
 *                 (default: none written): the boot order in CMOS as
 *                 QEMU keeps it for SeaBIOS - 0x3d first (low nibble) and
 *                 second (high), 0x38 third (high nibble); 1 floppy,
 *                 2 disk, 3 dvd, 4 net. Outside the checksummed range.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pdmdev_fields.h"

#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d

#define A_UIP  0x80
#define B_SET  0x80
#define B_PIE  0x40
#define B_AIE  0x20
#define B_UIE  0x10
#define B_SQWE 0x08
#define B_DM   0x04 /* binary */
#define B_24H  0x02
#define C_IRQF 0x80
#define C_PF   0x40
#define C_AF   0x20
#define C_UF   0x10
#define D_VRT  0x80

#define CMOS_CENTURY 0x32
#define NS_PER_SEC   1000000000ull
#define UIP_NS       244000ull

struct rtc {
    uint8_t cmos[128];
    uint8_t index;
    uint8_t nmi_disabled;
    uint8_t irq_level;
    int64_t base_sec;     /* epoch seconds at base_ns */
    uint64_t base_ns;     /* virtual time of a second boundary */
    uint64_t last_c_read; /* virtual time C was last read (lazy flags) */
    /* host side, set at construct */
    struct pdm_timer *periodic, *second;
    unsigned irq;
};

/* ---- time and formats ---------------------------------------------------- */

static uint8_t to_reg(const struct rtc *s, int v)
{
    return (s->cmos[REG_B] & B_DM) ? (uint8_t)v : (uint8_t)(((v / 10) << 4) | (v % 10));
}

static int from_reg(const struct rtc *s, uint8_t v)
{
    return (s->cmos[REG_B] & B_DM) ? v : ((v >> 4) & 0xf) * 10 + (v & 0xf);
}

static uint8_t hour_to_reg(const struct rtc *s, int h)
{
    if (s->cmos[REG_B] & B_24H)
        return to_reg(s, h);
    int h12 = h % 12 ? h % 12 : 12;
    return (uint8_t)(to_reg(s, h12) | (h >= 12 ? 0x80 : 0));
}

static int hour_from_reg(const struct rtc *s, uint8_t v)
{
    if (s->cmos[REG_B] & B_24H)
        return from_reg(s, v);
    int h = from_reg(s, v & 0x7f) % 12;
    return (v & 0x80) ? h + 12 : h;
}

static int64_t now_sec(const struct rtc *s, uint64_t now)
{
    return s->base_sec + (int64_t)((now - s->base_ns) / NS_PER_SEC);
}

/* Writes the clock registers for epoch second t. */
static void fill_time(struct rtc *s, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        return;
    s->cmos[0x00] = to_reg(s, tm.tm_sec);
    s->cmos[0x02] = to_reg(s, tm.tm_min);
    s->cmos[0x04] = hour_to_reg(s, tm.tm_hour);
    s->cmos[0x06] = to_reg(s, tm.tm_wday + 1);
    s->cmos[0x07] = to_reg(s, tm.tm_mday);
    s->cmos[0x08] = to_reg(s, tm.tm_mon + 1);
    s->cmos[0x09] = to_reg(s, (tm.tm_year + 1900) % 100);
    s->cmos[CMOS_CENTURY] = to_reg(s, (tm.tm_year + 1900) / 100);
}

/* Epoch seconds the (guest-written) clock registers say. */
static int64_t parse_time(const struct rtc *s)
{
    struct tm tm = {
        .tm_sec = from_reg(s, s->cmos[0x00]),
        .tm_min = from_reg(s, s->cmos[0x02]),
        .tm_hour = hour_from_reg(s, s->cmos[0x04]),
        .tm_mday = from_reg(s, s->cmos[0x07]),
        .tm_mon = from_reg(s, s->cmos[0x08]) - 1,
        .tm_year = from_reg(s, s->cmos[CMOS_CENTURY]) * 100 + from_reg(s, s->cmos[0x09]) - 1900,
    };
    return (int64_t)timegm(&tm); /* normalises odd values like the guest asked */
}

static bool running(const struct rtc *s)
{
    return !(s->cmos[REG_B] & B_SET);
}

/* ---- interrupts ---------------------------------------------------------- */

static uint64_t period_ns(const struct rtc *s)
{
    unsigned rate = s->cmos[REG_A] & 0x0f;
    if (rate == 0)
        return 0;
    unsigned shift = rate <= 2 ? rate + 6 : rate - 1;
    return ((uint64_t)NS_PER_SEC << shift) / 32768;
}

/* Recomputes IRQF from the flags and enables, and drives IRQ8. */
static void update_irq(struct pdm_dev *dev)
{
    struct rtc *s = dev->data;
    uint8_t c = s->cmos[REG_C] & (C_PF | C_AF | C_UF);
    if (c & s->cmos[REG_B] & (B_PIE | B_AIE | B_UIE))
        c |= C_IRQF;
    s->cmos[REG_C] = c;
    uint8_t level = (c & C_IRQF) ? 1 : 0;
    if (level != s->irq_level) {
        s->irq_level = level;
        dev->hlp->irq_set(dev, s->irq, level);
    }
}

static void arm_periodic(struct pdm_dev *dev, uint64_t now)
{
    struct rtc *s = dev->data;
    uint64_t p = period_ns(s);
    if (p && (s->cmos[REG_B] & B_PIE) && !(s->cmos[REG_C] & C_PF)) {
        uint64_t at = (now / p + 1) * p, min = dev->hlp->timer_min_period_ns(dev);
        if (at - now < min)
            at = ((now + min - 1) / p + 1) * p;
        dev->hlp->timer_arm(s->periodic, at);
    } else
        dev->hlp->timer_disarm(s->periodic);
}

static void arm_second(struct pdm_dev *dev, uint64_t now)
{
    struct rtc *s = dev->data;
    if (running(s) && (s->cmos[REG_B] & (B_UIE | B_AIE))) {
        uint64_t k = (now - s->base_ns) / NS_PER_SEC + 1;
        dev->hlp->timer_arm(s->second, s->base_ns + k * NS_PER_SEC);
    } else {
        dev->hlp->timer_disarm(s->second);
    }
}

static bool alarm_field(uint8_t alarm, uint8_t cur)
{
    return (alarm & 0xc0) == 0xc0 || alarm == cur;
}

/* Whether the alarm matches epoch second t. */
static bool alarm_matches(struct rtc *s, int64_t t)
{
    uint8_t save[10], century = s->cmos[CMOS_CENTURY];
    memcpy(save, s->cmos, sizeof(save));
    fill_time(s, t);
    bool m = alarm_field(s->cmos[0x01], s->cmos[0x00]) &&
             alarm_field(s->cmos[0x03], s->cmos[0x02]) && alarm_field(s->cmos[0x05], s->cmos[0x04]);
    memcpy(s->cmos, save, sizeof(save));
    s->cmos[CMOS_CENTURY] = century;
    return m;
}

static void periodic_timer(struct pdm_dev *dev, void *user, uint64_t now)
{
    struct rtc *s = dev->data;
    s->cmos[REG_C] |= C_PF;
    update_irq(dev);
    arm_periodic(dev, now);
}

static void second_timer(struct pdm_dev *dev, void *user, uint64_t now)
{
    struct rtc *s = dev->data;
    if (!running(s))
        return;
    s->cmos[REG_C] |= C_UF;
    if (alarm_matches(s, now_sec(s, now)))
        s->cmos[REG_C] |= C_AF;
    update_irq(dev);
    arm_second(dev, now);
}

/* Flags of disabled sources, computed when C is read (see the top). */
static void lazy_flags(struct rtc *s, uint64_t now)
{
    uint64_t p = period_ns(s), last = s->last_c_read;
    if (p && now / p > last / p)
        s->cmos[REG_C] |= C_PF;
    if (running(s) && now >= s->base_ns) {
        uint64_t k_now = (now - s->base_ns) / NS_PER_SEC;
        uint64_t k_last = last > s->base_ns ? (last - s->base_ns) / NS_PER_SEC : 0;
        if (k_now > k_last) {
            s->cmos[REG_C] |= C_UF;
            if (alarm_matches(s, now_sec(s, now)))
                s->cmos[REG_C] |= C_AF;
        }
    }
}

/* ---- registers ----------------------------------------------------------- */

static void rebase(struct pdm_dev *dev, int64_t sec)
{
    struct rtc *s = dev->data;
    s->base_sec = sec;
    s->base_ns = dev->hlp->clock_now(dev);
    s->last_c_read = s->base_ns;
}

static uint8_t read_reg(struct pdm_dev *dev, uint8_t idx)
{
    struct rtc *s = dev->data;
    uint64_t now = dev->hlp->clock_now(dev);
    switch (idx) {
    case 0x00:
    case 0x02:
    case 0x04:
    case 0x06:
    case 0x07:
    case 0x08:
    case 0x09:
    case CMOS_CENTURY:
        if (running(s))
            fill_time(s, now_sec(s, now));
        return s->cmos[idx];
    case REG_A: {
        uint8_t a = s->cmos[REG_A] & 0x7f;
        if (running(s) && (now - s->base_ns) % NS_PER_SEC >= NS_PER_SEC - UIP_NS)
            a |= A_UIP;
        return a;
    }
    case REG_C: {
        lazy_flags(s, now);
        update_irq(dev);
        uint8_t c = s->cmos[REG_C];
        s->cmos[REG_C] = 0;
        s->last_c_read = now;
        update_irq(dev);
        if ((c & C_PF) && !dev->hlp->timer_armed(s->periodic))
            arm_periodic(dev, now); /* it stopped while PF was set */
        return c;
    }
    case REG_D:
        return D_VRT;
    default:
        return s->cmos[idx];
    }
}

static void write_b(struct pdm_dev *dev, uint8_t v)
{
    struct rtc *s = dev->data;
    uint8_t old = s->cmos[REG_B];
    uint64_t now = dev->hlp->clock_now(dev);
    if (v & B_SET)
        v &= (uint8_t)~B_UIE; /* the datasheet: SET clears UIE */
    s->cmos[REG_B] = v;
    if ((v & B_SET) && !(old & B_SET))
        fill_time(s, now_sec(s, now)); /* freeze, in the format now in force */
    if (!(v & B_SET) && (old & B_SET))
        rebase(dev, parse_time(s)); /* in the format now in force */
    update_irq(dev);
    arm_periodic(dev, now);
    arm_second(dev, now);
}

static void write_reg(struct pdm_dev *dev, uint8_t idx, uint8_t v)
{
    struct rtc *s = dev->data;
    switch (idx) {
    case 0x00:
    case 0x02:
    case 0x04:
    case 0x06:
    case 0x07:
    case 0x08:
    case 0x09:
    case CMOS_CENTURY:
        if (running(s))
            fill_time(s, now_sec(s, dev->hlp->clock_now(dev)));
        s->cmos[idx] = v;
        if (running(s)) {
            rebase(dev, parse_time(s));
            arm_second(dev, s->base_ns);
        }
        break;
    case REG_A:
        s->cmos[REG_A] = v & 0x7f;
        arm_periodic(dev, dev->hlp->clock_now(dev));
        break;
    case REG_B:
        write_b(dev, v);
        break;
    case REG_C:
    case REG_D:
        break; /* read-only */
    default:
        s->cmos[idx] = v;
        break;
    }
}

static cap_result rtc_io(struct pdm_dev *dev, void *user, uint16_t port, unsigned size, bool write,
                         uint32_t *val)
{
    struct rtc *s = dev->data;
    if ((port & 1) == 0) {
        if (write) {
            s->index = *val & 0x7f;
            s->nmi_disabled = (*val >> 7) & 1;
        } else {
            *val = 0xff; /* the index port is write-only */
        }
    } else if (write) {
        write_reg(dev, s->index, (uint8_t)*val);
    } else {
        *val = read_reg(dev, s->index);
    }
    return CAP_OK;
}

/* ---- CMOS contents ------------------------------------------------------- */

static void put16(struct rtc *s, unsigned idx, uint32_t v)
{
    s->cmos[idx] = (uint8_t)v;
    s->cmos[idx + 1] = (uint8_t)(v >> 8);
}

static void fill_memory(struct rtc *s, uint64_t ram, uint64_t below_4g)
{
    uint64_t above_4g = ram - below_4g;
    put16(s, 0x15, 640);
    if (ram) {
        uint64_t ext = below_4g > (1u << 20) ? (below_4g >> 10) - 1024 : 0;
        if (ext > 0xffff)
            ext = 0xffff;
        put16(s, 0x17, (uint32_t)ext);
        put16(s, 0x30, (uint32_t)ext);
        uint64_t hi = below_4g > (16u << 20) ? (below_4g - (16u << 20)) >> 16 : 0;
        if (hi > 0xffff)
            hi = 0xffff;
        put16(s, 0x34, (uint32_t)hi);
        uint64_t top = above_4g >> 16;
        if (top > 0xffffff)
            top = 0xffffff;
        s->cmos[0x5b] = (uint8_t)top;
        s->cmos[0x5c] = (uint8_t)(top >> 8);
        s->cmos[0x5d] = (uint8_t)(top >> 16);
    }
}

static void fill_checksum(struct rtc *s)
{
    unsigned sum = 0;
    for (unsigned i = 0x10; i <= 0x2d; i++)
        sum += s->cmos[i];
    s->cmos[0x2e] = (uint8_t)(sum >> 8);
    s->cmos[0x2f] = (uint8_t)sum;
}

/* "utc", "localtime", epoch seconds or YYYY-MM-DDTHH:MM:SS. */
static cap_result parse_base_time(struct pdm_dev *dev, const char *v, int64_t *out)
{
    time_t now = time(NULL);
    if (strcmp(v, "utc") == 0) {
        *out = (int64_t)now;
        return CAP_OK;
    }
    if (strcmp(v, "localtime") == 0) {
        struct tm tm;
        localtime_r(&now, &tm);
        *out = (int64_t)timegm(&tm);
        return CAP_OK;
    }
    char *end = NULL;
    long long x = strtoll(v, &end, 10);
    if (end != v && *end == '\0') {
        *out = x;
        return CAP_OK;
    }
    struct tm tm = {0};
    int n = 0;
    if (sscanf(v, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &n) == 6 &&
        v[n] == '\0' && tm.tm_year >= 1900 && tm.tm_year <= 9999 && tm.tm_mon >= 1 &&
        tm.tm_mon <= 12 && tm.tm_mday >= 1 && tm.tm_mday <= 31 && tm.tm_hour < 24 &&
        tm.tm_min < 60 && tm.tm_sec < 61) {
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        *out = (int64_t)timegm(&tm);
        return CAP_OK;
    }
    return dev->hlp->error(dev, CAP_E_INVALIDARG,
                           "config key 'base_time': '%s' is not utc, localtime, epoch seconds "
                           "or YYYY-MM-DDTHH:MM:SS",
                           v);
}

/* ---- lifecycle ----------------------------------------------------------- */

static void rtc_reset(struct pdm_dev *dev)
{
    struct rtc *s = dev->data;
    /* Reset clears the interrupt enables and flags; time and CMOS survive. */
    s->cmos[REG_B] &= (uint8_t) ~(B_PIE | B_AIE | B_UIE | B_SQWE);
    s->cmos[REG_C] = 0;
    s->last_c_read = dev->hlp->clock_now(dev);
    update_irq(dev);
    dev->hlp->timer_disarm(s->periodic);
    dev->hlp->timer_disarm(s->second);
}

/* "disk,dvd" -> CMOS 0x3d/0x38 (see the top). */
static cap_result fill_boot_order(struct pdm_dev *dev, const char *order)
{
    static const char *const names[] = {"floppy", "disk", "dvd", "net"};
    struct rtc *s = dev->data;
    unsigned codes[3] = {0}, n = 0;
    const char *p = order;
    for (;;) { /* one name per round: "", ",x" and "x," fail */
        size_t len = strcspn(p, ",");
        unsigned code = 0;
        for (unsigned i = 0; i < 4; i++)
            if (strlen(names[i]) == len && !strncmp(p, names[i], len))
                code = i + 1;
        if (!code || n == 3)
            return dev->hlp->error(dev, CAP_E_INVALIDARG,
                                   "config key 'boot_order': '%s' is not a list of at most three "
                                   "of floppy, disk, dvd, net",
                                   order);
        codes[n++] = code;
        if (!p[len])
            break;
        p += len + 1;
    }
    s->cmos[0x3d] = (uint8_t)(codes[0] | codes[1] << 4);
    s->cmos[0x38] = (uint8_t)(codes[2] << 4);
    return CAP_OK;
}

static cap_result rtc_construct(struct pdm_dev *dev, const struct pdm_cfg *cfg)
{
    struct rtc *s = dev->data;
    const struct pdm_hlp *h = dev->hlp;
    int64_t ram, below, equip, irq, base = 0;
    const char *bt, *boot;
    cap_result rc = h->cfg_int(dev, cfg, "ram_size", 0, 0, INT64_MAX, &ram);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_int(dev, cfg, "ram_below_4g", ram < 0x100000000ll ? ram : 0x100000000ll, 0,
                        0x100000000ll, &below);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_int(dev, cfg, "equipment", 0x06, 0, 0xff, &equip);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_int(dev, cfg, "irq", 8, 0, 15, &irq);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_string(dev, cfg, "base_time", "utc", &bt);
    if (CAP_SUCCEEDED(rc))
        rc = parse_base_time(dev, bt, &base);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_string(dev, cfg, "boot_order", NULL, &boot);
    if (CAP_SUCCEEDED(rc) && boot)
        rc = fill_boot_order(dev, boot);
    if (CAP_FAILED(rc))
        return rc;
    if (below > ram)
        return h->error(dev, CAP_E_INVALIDARG,
                        "config key 'ram_below_4g' (%lld) is larger than 'ram_size' (%lld)",
                        (long long)below, (long long)ram);
    s->irq = (unsigned)irq;
    s->cmos[REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz periodic rate */
    s->cmos[REG_B] = B_24H;
    s->cmos[REG_D] = D_VRT;
    s->cmos[0x14] = (uint8_t)equip;
    fill_memory(s, (uint64_t)ram, (uint64_t)below);
    fill_checksum(s);
    rebase(dev, base);
    fill_time(s, base);
    rc = h->timer_create(dev, periodic_timer, NULL, "periodic", &s->periodic);
    if (CAP_SUCCEEDED(rc))
        rc = h->timer_create(dev, second_timer, NULL, "update", &s->second);
    if (CAP_SUCCEEDED(rc))
        rc = h->io_register(dev, 0x70, 2, PDM_IO_F_SPLIT, NULL, "mc146818");
    return rc;
}

/* Saved state (version 2, named fields): the CMOS bytes, the index and
 * NMI bit, the IRQ level and the clock's base (everything but the host
 * side: timers, irq number), re-armed against TM's restored time. */
static const struct pdm_field rtc_fields[] = {
    PDM_FIELD(struct rtc, cmos),         PDM_FIELD(struct rtc, index),
    PDM_FIELD(struct rtc, nmi_disabled), PDM_FIELD(struct rtc, irq_level),
    PDM_FIELD(struct rtc, base_sec),     PDM_FIELD(struct rtc, base_ns),
    PDM_FIELD(struct rtc, last_c_read),
};

static cap_result rtc_save_state(struct pdm_dev *dev, struct ssm_writer *w)
{
    return pdm_fields_put(dev, w, NULL, dev->data, rtc_fields, PDM_FIELD_COUNT(rtc_fields));
}

static cap_result rtc_load_state(struct pdm_dev *dev, struct ssm_unit *u)
{
    struct rtc *s = dev->data;
    cap_result rc = dev->hlp->ssm->check_version(u, 2, 2);
    if (CAP_SUCCEEDED(rc))
        rc = pdm_fields_get(dev, u, NULL, s, rtc_fields, PDM_FIELD_COUNT(rtc_fields));
    if (CAP_FAILED(rc))
        return rc;
    s->index &= 0x7f;
    s->irq_level = s->irq_level ? 1 : 0;
    uint64_t now = dev->hlp->clock_now(dev);
    s->irq_level = !s->irq_level; /* force update_irq to drive the line */
    update_irq(dev);
    arm_periodic(dev, now);
    arm_second(dev, now);
    return CAP_OK;
}

static const struct pdm_dev_ops rtc_ops = {
    .construct = rtc_construct,
    .reset = rtc_reset,
    .io = rtc_io,
    .save_state = rtc_save_state,
    .load_state = rtc_load_state,
};

static const struct pdm_devreg rtc_reg = {
    .abi = PDM_DEVREG_ABI,
    .name = "rtc",
    .description = "MC146818 real-time clock and CMOS memory",
    .instance_size = sizeof(struct rtc),
    .max_instances = 1,
    .saved_state_version = 2,
    .ops = &rtc_ops,
};

static const cap_uuid rtc_cid = {{0x52, 0xab, 0xd8, 0x87, 0xb1, 0x9e, 0x4b, 0xf6, 0x8d, 0x21, 0xa1,
                                  0xdb, 0xdb, 0xae, 0x1b, 0x85}};
PDM_DEVICE_COMPONENT(rtc_reg, rtc_cid, "rtc")
