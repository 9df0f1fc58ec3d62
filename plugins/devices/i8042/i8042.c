/*
 * plugins/devices/i8042/i8042.c - the i8042 keyboard controller with its
 * PS/2 keyboard (ports 0x60 data, 0x64 status/command), and port 0x92
 * (system control port A: fast A20 and fast reset).
 *
 * Why port 0x92 lives here: a PC's A20 gate is the OR of the controller's
 * output port bit 1 and port 0x92 bit 1, and both reset the machine. One
 * device holding both bits drives hlp->set_a20 with the right combined
 * value; two devices would each overwrite the other's setting. It can be
 * turned off (config port92=false) for machines whose chipset owns it.
 *
 * The output buffer is fed from two queues, in this order: the
 * controller's own bytes (replies to its commands, and the bytes 0xD2 /
 * 0xD3 write "as if from" the keyboard / aux device: the controller puts
 * those in the buffer itself, so the interface-disable bits do not hold
 * them), the keyboard (replies to keyboard commands and injected
 * scancodes; held while the keyboard interface is disabled with 0xAD or
 * command-byte bit 4), then the mouse on the aux port (replies to mouse
 * commands, which the guest sends with 0xD4, and movement packets; held
 * while the aux interface is disabled with 0xA7 or command-byte bit 5).
 * The buffer holds one byte at a time and each byte carries its side:
 * aux bytes set status bit 5. IRQ1 is up while the output buffer holds a
 * keyboard-side byte and command-byte bit 0 allows it, IRQ12 the same for
 * aux-side bytes and bit 1; each new byte is a new edge.
 *
 * The mouse: a PS/2 mouse that becomes an IntelliMouse (ID 3, 4-byte
 * packets with the wheel) after the sample-rate knock 200, 100, 80.
 * Commands: 0xFF reset (0xFA 0xAA 0x00), 0xFE resend (the last packet),
 * 0xF6 defaults, 0xF4/0xF5 reporting on/off, 0xF3 sample rate, 0xF2 ID,
 * 0xF0 remote mode, 0xEE wrap mode (echoes everything but 0xEC and 0xFF),
 * 0xEC leave wrap, 0xEB read data, 0xEA stream mode, 0xE9 status, 0xE8
 * resolution, 0xE7/0xE6 scaling 2:1/1:1; anything else gets 0xFE. A
 * command interrupts the mouse: bytes of it still waiting are dropped.
 * Host motion (pdm_mouse_put) adds to a bounded accumulator (a flood
 * coalesces, it never grows memory; motion beyond +-ACC_MAX is lost and
 * reported with the packet's overflow bit), and whole packets move from
 * it into the aux queue while that has room for one - so packets go out
 * as fast as the guest reads them, and are never split by an overrun.
 * One packet carries at most -256..255 per axis (-8..7 for the wheel);
 * the rest follows in the next.
 *
 * Scancodes are injected as the guest should read them (set 1, what a
 * translating controller delivers - command-byte bit 6, on by default),
 * all of a call or none: a call the keyboard's queue has no room for
 * (keeping KBD_REPLY_ROOM free for replies to the guest's commands) is
 * refused whole (CAP_FALSE_RESULT), so a key's bytes are never split and
 * the host can feed a long string as the guest reads it;
 * the controller does not translate and the keyboard keeps no scancode set
 * of its own beyond answering 0xF0. Frontends inject through PDM's
 * keyboard interface (pdm_keyboard_put in pdm.h) and mouse interface
 * (pdm_mouse_put).
 *
 * Controller commands: 0x20-0x3f / 0x60-0x7f read/write the command byte
 * and internal RAM, 0xA7/0xA8 aux disable/enable, 0xA9 aux test, 0xAA
 * self-test (0x55, sets the SYS flag), 0xAB keyboard interface test,
 * 0xAD/0xAE keyboard disable/enable, 0xC0 input port, 0xD0/0xD1 output
 * port read/write (bit 0 low resets the VM, bit 1 is A20), 0xD2/0xD3 write
 * keyboard/aux output buffer, 0xD4 write to the mouse, 0xDD/0xDF A20 off/on,
 * 0xE0 test inputs, 0xF0-0xFF pulse output lines (bit 0 clear: reset).
 * Keyboard commands: 0xED LEDs, 0xEE echo, 0xF0 scancode set, 0xF2
 * identify, 0xF3 typematic, 0xF4/0xF5/0xF6 enable/disable/defaults, 0xFF
 * reset (0xFA 0xAA); anything else gets 0xFE (resend).
 *
 * Config: port92 (default true).
 */
#include "pdmdev_fields.h"

#define ST_OBF      0x01
#define ST_IBF      0x02
#define ST_SYS      0x04
#define ST_CMD      0x08
#define ST_UNLOCKED 0x10
#define ST_AUXOBF   0x20
#define ST_TIMEOUT  0x40

#define CCB_KBD_INT     0x01
#define CCB_AUX_INT     0x02
#define CCB_SYS         0x04
#define CCB_KBD_DISABLE 0x10
#define CCB_AUX_DISABLE 0x20
#define CCB_TRANSLATE   0x40

#define OUT_RESET  0x01 /* low: CPU held in reset */
#define OUT_A20    0x02
#define OUT_OBF    0x10
#define OUT_AUXOBF 0x20
#define OUT_ONES   0xcc

#define Q_SIZE 16
/* Room in the keyboard's queue that host input leaves for the keyboard's
 * replies to the guest's commands (at most 3 bytes: 0xF2's), so that a
 * host typing as fast as the guest reads never makes a reply overrun. */
#define KBD_REPLY_ROOM 4

#define ACC_MAX 4096 /* motion the mouse holds back per axis */

struct queue {
    uint8_t data[Q_SIZE];
    uint8_t src[Q_SIZE]; /* the ctrl queue: where each byte appears to come from */
    uint8_t head, count;
};

/* SRC_AUX_TIMEOUT: an aux-side byte that also sets the timeout bit. */
enum { SRC_NONE, SRC_KBD, SRC_AUX, SRC_AUX_TIMEOUT };

struct i8042 {
    uint8_t status, ccb, outport, port92;
    uint8_t ram[32];     /* internal RAM 0x01-0x1f (0 is the command byte) */
    uint8_t pending_cmd; /* controller command waiting for its data byte */
    uint8_t out, out_src;
    uint8_t irq1, irq12;
    struct queue ctrl, kbd;
    /* the keyboard */
    uint8_t kbd_pending; /* keyboard command waiting for its argument */
    uint8_t kbd_scanning, leds, scancode_set, typematic;
    /* The mouse (added in state version 3, after everything version 2 saved). */
    struct queue aux;
    uint8_t ms_pending; /* mouse command waiting for its argument */
    uint8_t ms_reporting, ms_remote, ms_wrap, ms_wrap_remote, ms_scaling21;
    uint8_t ms_rate, ms_res, ms_id;
    uint8_t ms_rates[3];         /* the last three sample rates, newest last (the knock) */
    uint8_t ms_buttons;          /* the host's buttons now */
    uint8_t ms_sent;             /* the buttons of the last packet */
    uint8_t ms_overflow;         /* bit 6 / 7: X / Y motion was lost */
    uint8_t ms_last[4];          /* the last packet, for 0xFE */
    int32_t ms_dx, ms_dy, ms_dz; /* motion not yet sent (PS/2 sense: Y up) */
    /* host side, set at construct */
    bool has_port92;
};

/* ---- queues and the output buffer ------------------------------------------ */

static void q_put_src(struct queue *q, uint8_t v, uint8_t src)
{
    if (q->count == Q_SIZE)
        return; /* overrun: the byte is lost, like a real keyboard's */
    unsigned i = (q->head + q->count++) % Q_SIZE;
    q->data[i] = v;
    q->src[i] = src;
}

static void q_put(struct queue *q, uint8_t v)
{
    q_put_src(q, v, SRC_KBD);
}

static uint8_t q_get_src(struct queue *q, uint8_t *src)
{
    uint8_t v = q->data[q->head];
    *src = q->src[q->head];
    q->head = (uint8_t)((q->head + 1) % Q_SIZE);
    q->count--;
    return v;
}

static uint8_t q_get(struct queue *q)
{
    uint8_t src;
    return q_get_src(q, &src);
}

static void update_irq(struct pdm_dev *dev)
{
    struct i8042 *s = dev->data;
    uint8_t irq1 = 0, irq12 = 0;
    if (s->status & ST_OBF) {
        if (s->out_src >= SRC_AUX)
            irq12 = (s->ccb & CCB_AUX_INT) != 0;
        else
            irq1 = (s->ccb & CCB_KBD_INT) != 0;
    }
    if (irq1 != s->irq1) {
        s->irq1 = irq1;
        dev->hlp->irq_set(dev, 1, irq1);
    }
    if (irq12 != s->irq12) {
        s->irq12 = irq12;
        dev->hlp->irq_set(dev, 12, irq12);
    }
}

static void ms_fill(struct i8042 *s);

/* Moves the next waiting byte into an empty output buffer. */
static void refill(struct pdm_dev *dev)
{
    struct i8042 *s = dev->data;
    if (!(s->status & ST_OBF)) {
        if (s->ctrl.count) {
            s->out = q_get_src(&s->ctrl, &s->out_src);
        } else if (s->kbd.count && !(s->ccb & CCB_KBD_DISABLE)) {
            s->out = q_get(&s->kbd);
            s->out_src = SRC_KBD;
        } else if (s->aux.count && !(s->ccb & CCB_AUX_DISABLE)) {
            s->out = q_get(&s->aux);
            s->out_src = SRC_AUX;
            ms_fill(s); /* room for the next packet, perhaps */
        } else {
            s->out_src = SRC_NONE;
        }
        if (s->out_src != SRC_NONE)
            s->status |= ST_OBF;
        if (s->out_src >= SRC_AUX)
            s->status |= ST_AUXOBF;
        if (s->out_src == SRC_AUX_TIMEOUT)
            s->status |= ST_TIMEOUT;
    }
    update_irq(dev);
}

static void ctrl_reply(struct pdm_dev *dev, uint8_t v)
{
    q_put(&((struct i8042 *)dev->data)->ctrl, v);
    refill(dev);
}

static void kbd_reply(struct pdm_dev *dev, uint8_t v)
{
    q_put(&((struct i8042 *)dev->data)->kbd, v);
    refill(dev);
}

static uint8_t read_data(struct pdm_dev *dev)
{
    struct i8042 *s = dev->data;
    uint8_t v = s->out; /* reading an empty buffer returns the last byte */
    s->status &= (uint8_t) ~(ST_OBF | ST_AUXOBF | ST_TIMEOUT);
    update_irq(dev); /* lower, so that the next byte is a new edge */
    refill(dev);
    return v;
}

/* ---- A20 and reset ------------------------------------------------------------ */

static void update_a20(struct pdm_dev *dev)
{
    struct i8042 *s = dev->data;
    dev->hlp->set_a20(dev, (s->outport & OUT_A20) || (s->port92 & 0x02));
}

static void write_outport(struct pdm_dev *dev, uint8_t v)
{
    struct i8042 *s = dev->data;
    s->outport = v;
    update_a20(dev);
    if (!(v & OUT_RESET)) {
        dev->hlp->log(dev, PDM_LOG_INFO, "reset through the output port");
        dev->hlp->vm_reset(dev);
    }
}

/* ---- the keyboard ----------------------------------------------------------- */

static void kbd_reset_state(struct i8042 *s)
{
    s->kbd.count = 0;
    s->kbd_pending = 0;
    s->kbd_scanning = 1;
    s->leds = 0;
    s->scancode_set = 2;
    s->typematic = 0x2b;
}

static void kbd_write(struct pdm_dev *dev, uint8_t v)
{
    struct i8042 *s = dev->data;
    uint8_t cmd = s->kbd_pending;
    if (cmd) {
        s->kbd_pending = 0;
        if (cmd == 0xed) {
            s->leds = v & 7;
        } else if (cmd == 0xf3) {
            s->typematic = v & 0x7f;
        } else if (cmd == 0xf0 && v == 0) {
            kbd_reply(dev, 0xfa);
            kbd_reply(dev, (s->ccb & CCB_TRANSLATE) ? (uint8_t)(0x3f + 2 * (s->scancode_set - 1))
                                                    : s->scancode_set);
            return;
        } else if (cmd == 0xf0 && v <= 3) {
            s->scancode_set = v;
        } else if (cmd == 0xf0) {
            kbd_reply(dev, 0xfe);
            return;
        }
        kbd_reply(dev, 0xfa);
        return;
    }
    switch (v) {
    case 0xed: /* set LEDs */
    case 0xf0: /* get/set scancode set */
    case 0xf3: /* typematic rate */
        s->kbd_pending = v;
        kbd_reply(dev, 0xfa);
        break;
    case 0xee: /* echo */
        kbd_reply(dev, 0xee);
        break;
    case 0xf2: /* identify: an MF2 keyboard */
        kbd_reply(dev, 0xfa);
        kbd_reply(dev, 0xab);
        kbd_reply(dev, (s->ccb & CCB_TRANSLATE) ? 0x41 : 0x83);
        break;
    case 0xf4:
        s->kbd_scanning = 1;
        kbd_reply(dev, 0xfa);
        break;
    case 0xf5: /* disable scanning and restore defaults */
    case 0xf6:
        s->kbd_scanning = v == 0xf6;
        s->leds = 0;
        s->typematic = 0x2b;
        s->scancode_set = 2;
        kbd_reply(dev, 0xfa);
        break;
    case 0xff: /* reset and self-test */
        kbd_reset_state(s);
        kbd_reply(dev, 0xfa);
        kbd_reply(dev, 0xaa);
        break;
    default:
        kbd_reply(dev, 0xfe);
        break;
    }
}

static cap_result kbd_put_scancodes(struct pdm_dev *dev, const uint8_t *codes, size_t n)
{
    struct i8042 *s = dev->data;
    if (!codes && n)
        return CAP_E_POINTER;
    if (!s->kbd_scanning)
        return CAP_OK; /* a keyboard that does not scan drops keys */
    if (n + KBD_REPLY_ROOM > (size_t)(Q_SIZE - s->kbd.count))
        return CAP_FALSE_RESULT; /* no room for all: none taken, the caller retries */
    for (size_t i = 0; i < n; i++)
        q_put(&s->kbd, codes[i]);
    refill(dev);
    return CAP_OK;
}

/* ---- the mouse ----------------------------------------------------------------- */

static int32_t clamp32(int64_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : v > hi ? hi : (int32_t)v;
}

static void ms_defaults(struct i8042 *s)
{
    s->ms_reporting = 0;
    s->ms_scaling21 = 0;
    s->ms_rate = 100;
    s->ms_res = 2;
    s->ms_dx = s->ms_dy = s->ms_dz = 0;
    s->ms_overflow = 0;
}

static void ms_reset_state(struct i8042 *s)
{
    s->aux.count = 0;
    s->ms_pending = 0;
    s->ms_remote = s->ms_wrap = s->ms_wrap_remote = 0;
    s->ms_id = 0;
    memset(s->ms_rates, 0, sizeof(s->ms_rates));
    s->ms_sent = s->ms_buttons;
    ms_defaults(s);
}

static void ms_reply(struct i8042 *s, uint8_t v)
{
    q_put_src(&s->aux, v, SRC_AUX);
}

/* A mode change: acknowledged, and the motion not yet sent is forgotten. */
static void ms_ack_forget(struct i8042 *s)
{
    s->ms_dx = s->ms_dy = s->ms_dz = 0;
    ms_reply(s, 0xfa);
}

/* 2:1 scaling (stream mode only): the PS/2 table for small moves, double above. */
static int32_t scale21(int32_t v)
{
    static const int8_t tab[6] = {0, 1, 1, 3, 6, 9};
    int32_t a = v < 0 ? -v : v;
    int32_t r = a < 6 ? tab[a] : 2 * a;
    return v < 0 ? -r : r;
}

static unsigned ms_packet_size(const struct i8042 *s)
{
    return s->ms_id == 3 ? 4 : 3;
}

/* Takes one packet's worth of the accumulated motion into the aux queue. */
static void ms_packet(struct i8042 *s, bool scaled)
{
    int32_t dx = clamp32(s->ms_dx, -256, 255);
    int32_t dy = clamp32(s->ms_dy, -256, 255);
    int32_t dz = clamp32(s->ms_dz, -8, 7);
    s->ms_dx -= dx;
    s->ms_dy -= dy;
    s->ms_dz -= dz;
    if (scaled && s->ms_scaling21) {
        dx = clamp32(scale21(dx), -256, 255);
        dy = clamp32(scale21(dy), -256, 255);
    }
    uint8_t b0 = (uint8_t)(0x08 | (s->ms_buttons & 7) | s->ms_overflow);
    if (dx < 0)
        b0 |= 0x10;
    if (dy < 0)
        b0 |= 0x20;
    s->ms_overflow = 0;
    s->ms_sent = s->ms_buttons;
    s->ms_last[0] = b0;
    s->ms_last[1] = (uint8_t)dx;
    s->ms_last[2] = (uint8_t)dy;
    s->ms_last[3] = (uint8_t)dz;
    for (unsigned i = 0; i < ms_packet_size(s); i++)
        ms_reply(s, s->ms_last[i]);
}

/* Stream mode: sends what the host did while the aux queue has room. */
static void ms_fill(struct i8042 *s)
{
    if (!s->ms_reporting || s->ms_remote || s->ms_wrap)
        return;
    while ((unsigned)(Q_SIZE - s->aux.count) >= ms_packet_size(s) &&
           (s->ms_dx || s->ms_dy || s->ms_dz || s->ms_overflow || s->ms_buttons != s->ms_sent))
        ms_packet(s, true);
}

/* Adds `v` to an accumulator, saturating; true when motion was lost. */
static bool ms_add(int32_t *acc, int32_t v)
{
    int64_t sum = (int64_t)*acc + v;
    *acc = clamp32(sum, -ACC_MAX, ACC_MAX);
    return sum != *acc;
}

static cap_result ms_put_event(struct pdm_dev *dev, int32_t dx, int32_t dy, int32_t dz,
                               uint32_t buttons)
{
    struct i8042 *s = dev->data;
    if (buttons & ~(uint32_t)PDM_MOUSE_BUTTONS)
        return dev->hlp->error(dev, CAP_E_INVALIDARG,
                               "mouse buttons 0x%x: only bits 0-2 (left, right, middle) exist",
                               buttons);
    s->ms_buttons = (uint8_t)buttons;
    if (!s->ms_reporting && !s->ms_remote)
        return CAP_OK; /* a mouse that does not report drops motion */
    if (ms_add(&s->ms_dx, dx))
        s->ms_overflow |= 0x40;
    if (ms_add(&s->ms_dy, dy == INT32_MIN ? INT32_MAX : -dy)) /* PS/2's Y points up */
        s->ms_overflow |= 0x80;
    if (s->ms_id == 3)
        (void)ms_add(&s->ms_dz, dz);
    ms_fill(s);
    refill(dev);
    return CAP_OK;
}

static void ms_knock(struct i8042 *s, uint8_t rate)
{
    s->ms_rates[0] = s->ms_rates[1];
    s->ms_rates[1] = s->ms_rates[2];
    s->ms_rates[2] = rate;
    if (s->ms_rates[0] == 200 && s->ms_rates[1] == 100 && s->ms_rates[2] == 80)
        s->ms_id = 3;
}

static bool valid_rate(uint8_t v)
{
    static const uint8_t rates[] = {10, 20, 40, 60, 80, 100, 200};
    for (size_t i = 0; i < sizeof(rates); i++)
        if (rates[i] == v)
            return true;
    return false;
}

/* A byte from the guest to the mouse (controller command 0xD4). */
static void ms_write(struct pdm_dev *dev, uint8_t v)
{
    struct i8042 *s = dev->data;
    uint8_t cmd = s->ms_pending;
    s->ms_pending = 0;
    s->aux.count = 0; /* the host's write interrupts what the mouse was sending */
    if (cmd) {
        bool ok = cmd == 0xf3 ? valid_rate(v) : v <= 3;
        if (ok && cmd == 0xf3) {
            s->ms_rate = v;
            ms_knock(s, v);
        } else if (ok) {
            s->ms_res = v;
        }
        ms_reply(s, ok ? 0xfa : 0xfe);
        refill(dev);
        return;
    }
    if (s->ms_wrap && v != 0xec && v != 0xff) {
        ms_reply(s, v);
        refill(dev);
        return;
    }
    if (v != 0xfe && v != 0xf3)
        memset(s->ms_rates, 0, sizeof(s->ms_rates)); /* the knock is three 0xF3s in a row */
    switch (v) {
    case 0xe6:
    case 0xe7:
        s->ms_scaling21 = v == 0xe7;
        ms_reply(s, 0xfa);
        break;
    case 0xe8: /* resolution */
    case 0xf3: /* sample rate */
        s->ms_pending = v;
        ms_reply(s, 0xfa);
        break;
    case 0xe9: /* status: mode, reporting, scaling, buttons (left bit 2, right bit 0) */
        ms_reply(s, 0xfa);
        ms_reply(s, (uint8_t)((s->ms_remote ? 0x40 : 0) | (s->ms_reporting ? 0x20 : 0) |
                              (s->ms_scaling21 ? 0x10 : 0) | ((s->ms_buttons & 1) << 2) |
                              (s->ms_buttons & 4 ? 0x02 : 0) | ((s->ms_buttons & 2) >> 1)));
        ms_reply(s, s->ms_res);
        ms_reply(s, s->ms_rate);
        break;
    case 0xea:
    case 0xf0:
        s->ms_remote = v == 0xf0;
        ms_ack_forget(s);
        break;
    case 0xeb: /* read data: one packet, whatever the mode */
        ms_reply(s, 0xfa);
        ms_packet(s, false);
        break;
    case 0xec:
        if (s->ms_wrap) {
            s->ms_wrap = 0;
            s->ms_remote = s->ms_wrap_remote;
        }
        ms_reply(s, 0xfa);
        break;
    case 0xee:
        s->ms_wrap_remote = s->ms_remote;
        s->ms_wrap = 1;
        ms_ack_forget(s);
        break;
    case 0xf2:
        ms_reply(s, 0xfa);
        ms_reply(s, s->ms_id);
        break;
    case 0xf4:
    case 0xf5:
        s->ms_reporting = v == 0xf4;
        s->ms_sent = s->ms_buttons;
        ms_ack_forget(s);
        break;
    case 0xf6:
        ms_defaults(s);
        ms_reply(s, 0xfa);
        break;
    case 0xfe: /* resend: the last packet */
        for (unsigned i = 0; i < ms_packet_size(s); i++)
            ms_reply(s, s->ms_last[i]);
        break;
    case 0xff:
        ms_reset_state(s);
        ms_reply(s, 0xfa);
        ms_reply(s, 0xaa);
        ms_reply(s, 0x00);
        break;
    default:
        ms_reply(s, 0xfe);
        break;
    }
    refill(dev);
}

/* ---- the controller -------------------------------------------------------- */

static void write_ccb(struct pdm_dev *dev, uint8_t v)
{
    struct i8042 *s = dev->data;
    s->ccb = v;
    s->status = (uint8_t)((s->status & ~ST_SYS) | (v & CCB_SYS));
    refill(dev);
}

static void write_command(struct pdm_dev *dev, uint8_t cmd)
{
    struct i8042 *s = dev->data;
    s->pending_cmd = 0;
    if (cmd >= 0x20 && cmd <= 0x3f) {
        ctrl_reply(dev, cmd == 0x20 ? s->ccb : s->ram[cmd & 0x1f]);
        return;
    }
    if ((cmd >= 0x60 && cmd <= 0x7f) || cmd == 0xd1 || cmd == 0xd2 || cmd == 0xd3 || cmd == 0xd4) {
        s->pending_cmd = cmd;
        return;
    }
    if (cmd >= 0xf0) {
        if (!(cmd & 1)) {
            dev->hlp->log(dev, PDM_LOG_INFO, "reset through command 0x%02x", cmd);
            dev->hlp->vm_reset(dev);
        }
        return;
    }
    switch (cmd) {
    case 0xa7:
        write_ccb(dev, s->ccb | CCB_AUX_DISABLE);
        break;
    case 0xa8:
        write_ccb(dev, s->ccb & (uint8_t)~CCB_AUX_DISABLE);
        break;
    case 0xa9: /* aux interface test: OK */
    case 0xab: /* keyboard interface test: OK */
        ctrl_reply(dev, 0x00);
        break;
    case 0xaa: /* self-test */
        s->status |= ST_SYS;
        s->ccb |= CCB_SYS;
        ctrl_reply(dev, 0x55);
        break;
    case 0xad:
        write_ccb(dev, s->ccb | CCB_KBD_DISABLE);
        break;
    case 0xae:
        write_ccb(dev, s->ccb & (uint8_t)~CCB_KBD_DISABLE);
        break;
    case 0xc0: /* input port: keyboard not inhibited */
        ctrl_reply(dev, 0x80);
        break;
    case 0xd0: {
        uint8_t v = s->outport & (uint8_t) ~(OUT_OBF | OUT_AUXOBF);
        if (s->status & ST_OBF)
            v |= s->out_src >= SRC_AUX ? OUT_AUXOBF : OUT_OBF;
        ctrl_reply(dev, v);
        break;
    }
    case 0xdd:
        write_outport(dev, s->outport & (uint8_t)~OUT_A20);
        break;
    case 0xdf:
        write_outport(dev, s->outport | OUT_A20);
        break;
    case 0xe0: /* test inputs */
        ctrl_reply(dev, 0x00);
        break;
    default:
        dev->hlp->log(dev, PDM_LOG_DEBUG, "unknown controller command 0x%02x ignored", cmd);
        break;
    }
}

static void write_data(struct pdm_dev *dev, uint8_t v)
{
    struct i8042 *s = dev->data;
    uint8_t cmd = s->pending_cmd;
    s->pending_cmd = 0;
    if (cmd >= 0x60 && cmd <= 0x7f) {
        if (cmd == 0x60)
            write_ccb(dev, v);
        else
            s->ram[cmd & 0x1f] = v;
        return;
    }
    switch (cmd) {
    case 0xd1:
        write_outport(dev, v);
        break;
    case 0xd2:
        q_put_src(&s->ctrl, v, SRC_KBD);
        refill(dev);
        break;
    case 0xd3:
        q_put_src(&s->ctrl, v, SRC_AUX);
        refill(dev);
        break;
    case 0xd4:
        ms_write(dev, v);
        break;
    default:
        /* Writing to the keyboard enables its interface (as on real controllers). */
        s->ccb &= (uint8_t)~CCB_KBD_DISABLE;
        kbd_write(dev, v);
        break;
    }
}

static cap_result i8042_io(struct pdm_dev *dev, void *user, uint16_t port, unsigned size,
                           bool write, uint32_t *val)
{
    struct i8042 *s = dev->data;
    uint8_t v = (uint8_t)*val;
    switch (port) {
    case 0x60:
        if (write) {
            s->status &= (uint8_t)~ST_CMD;
            write_data(dev, v);
        } else {
            *val = read_data(dev);
        }
        break;
    case 0x64:
        if (write) {
            s->status |= ST_CMD;
            write_command(dev, v);
        } else {
            *val = s->status;
        }
        break;
    case 0x92:
        if (write) {
            s->port92 = v & 0x02;
            update_a20(dev);
            if (v & 0x01) {
                dev->hlp->log(dev, PDM_LOG_INFO, "fast reset through port 0x92");
                dev->hlp->vm_reset(dev);
            }
        } else {
            *val = s->port92;
        }
        break;
    default:
        if (!write)
            *val = 0xff;
        break;
    }
    return CAP_OK;
}

/* ---- lifecycle ----------------------------------------------------------- */

static void i8042_reset(struct pdm_dev *dev)
{
    struct i8042 *s = dev->data;
    memset(s, 0, offsetof(struct i8042, has_port92));
    s->status = ST_CMD | ST_UNLOCKED;
    s->ccb = CCB_KBD_INT | CCB_AUX_INT | CCB_TRANSLATE;
    s->outport = OUT_RESET | OUT_A20 | OUT_ONES;
    kbd_reset_state(s);
    ms_reset_state(s);
    dev->hlp->irq_set(dev, 1, 0);
    dev->hlp->irq_set(dev, 12, 0);
    update_a20(dev);
}

static const struct pdm_keyboard_iface i8042_kbd_iface = {.put_scancodes = kbd_put_scancodes};
static const struct pdm_mouse_iface i8042_mouse_iface = {.put_event = ms_put_event};

static const void *i8042_query_interface(struct pdm_dev *dev, const char *iface)
{
    if (strcmp(iface, PDM_IFACE_KEYBOARD) == 0)
        return &i8042_kbd_iface;
    if (strcmp(iface, PDM_IFACE_MOUSE) == 0)
        return &i8042_mouse_iface;
    return NULL;
}

static cap_result i8042_construct(struct pdm_dev *dev, const struct pdm_cfg *cfg)
{
    struct i8042 *s = dev->data;
    const struct pdm_hlp *h = dev->hlp;
    cap_result rc = h->cfg_bool(dev, cfg, "port92", true, &s->has_port92);
    if (CAP_SUCCEEDED(rc))
        rc = h->io_register(dev, 0x60, 1, 0, NULL, "i8042 data");
    if (CAP_SUCCEEDED(rc))
        rc = h->io_register(dev, 0x64, 1, 0, NULL, "i8042 command");
    if (CAP_SUCCEEDED(rc) && s->has_port92)
        rc = h->io_register(dev, 0x92, 1, 0, NULL, "port 0x92");
    if (CAP_SUCCEEDED(rc))
        i8042_reset(dev);
    return rc;
}

/* Saved state (version 4, named fields): the controller's registers and
 * RAM, the keyboard's and the mouse's, and the three byte queues as
 * ctrl./kbd./aux. + data, src, head, count; loading clamps what would
 * index or overflow. */
static const struct pdm_field i8042_fields[] = {
    PDM_FIELD(struct i8042, status),       PDM_FIELD(struct i8042, ccb),
    PDM_FIELD(struct i8042, outport),      PDM_FIELD(struct i8042, port92),
    PDM_FIELD(struct i8042, ram),          PDM_FIELD(struct i8042, pending_cmd),
    PDM_FIELD(struct i8042, out),          PDM_FIELD(struct i8042, out_src),
    PDM_FIELD(struct i8042, irq1),         PDM_FIELD(struct i8042, irq12),
    PDM_FIELD(struct i8042, kbd_pending),  PDM_FIELD(struct i8042, kbd_scanning),
    PDM_FIELD(struct i8042, leds),         PDM_FIELD(struct i8042, scancode_set),
    PDM_FIELD(struct i8042, typematic),    PDM_FIELD(struct i8042, ms_pending),
    PDM_FIELD(struct i8042, ms_reporting), PDM_FIELD(struct i8042, ms_remote),
    PDM_FIELD(struct i8042, ms_wrap),      PDM_FIELD(struct i8042, ms_wrap_remote),
    PDM_FIELD(struct i8042, ms_scaling21), PDM_FIELD(struct i8042, ms_rate),
    PDM_FIELD(struct i8042, ms_res),       PDM_FIELD(struct i8042, ms_id),
    PDM_FIELD(struct i8042, ms_rates),     PDM_FIELD(struct i8042, ms_buttons),
    PDM_FIELD(struct i8042, ms_sent),      PDM_FIELD(struct i8042, ms_overflow),
    PDM_FIELD(struct i8042, ms_last),      PDM_FIELD(struct i8042, ms_dx),
    PDM_FIELD(struct i8042, ms_dy),        PDM_FIELD(struct i8042, ms_dz),
};
static const struct pdm_field i8042_queue_fields[] = {
    PDM_FIELD(struct queue, data),
    PDM_FIELD(struct queue, src),
    PDM_FIELD(struct queue, head),
    PDM_FIELD(struct queue, count),
};
static const char *const i8042_queue_names[3] = {"ctrl.", "kbd.", "aux."};

static struct queue *i8042_queue(struct i8042 *s, int i)
{
    return i == 0 ? &s->ctrl : i == 1 ? &s->kbd : &s->aux;
}

static cap_result i8042_save_state(struct pdm_dev *dev, struct ssm_writer *w)
{
    struct i8042 *s = dev->data;
    cap_result rc = pdm_fields_put(dev, w, NULL, s, i8042_fields, PDM_FIELD_COUNT(i8042_fields));
    for (int i = 0; i < 3; i++)
        rc = pdm_fields_put(dev, w, i8042_queue_names[i], i8042_queue(s, i), i8042_queue_fields,
                            PDM_FIELD_COUNT(i8042_queue_fields));
    return rc;
}

static cap_result i8042_load_state(struct pdm_dev *dev, struct ssm_unit *u)
{
    struct i8042 *s = dev->data;
    cap_result rc = dev->hlp->ssm->check_version(u, 4, 4);
    if (CAP_SUCCEEDED(rc))
        rc = pdm_fields_get(dev, u, NULL, s, i8042_fields, PDM_FIELD_COUNT(i8042_fields));
    for (int i = 0; i < 3 && CAP_SUCCEEDED(rc); i++)
        rc = pdm_fields_get(dev, u, i8042_queue_names[i], i8042_queue(s, i), i8042_queue_fields,
                            PDM_FIELD_COUNT(i8042_queue_fields));
    if (CAP_FAILED(rc))
        return rc;
    struct queue *qs[] = {&s->ctrl, &s->kbd, &s->aux};
    for (int i = 0; i < 3; i++) { /* never trust indices from a file */
        qs[i]->head %= Q_SIZE;
        if (qs[i]->count > Q_SIZE)
            qs[i]->count = Q_SIZE;
        for (int j = 0; j < Q_SIZE; j++)
            if (qs[i]->src[j] > SRC_AUX_TIMEOUT || qs[i]->src[j] == SRC_NONE)
                qs[i]->src[j] = SRC_KBD;
    }
    if (s->out_src > SRC_AUX_TIMEOUT)
        s->out_src = SRC_NONE;
    if (s->ms_id != 3)
        s->ms_id = 0;
    s->ms_buttons &= 7;
    s->ms_overflow &= 0xc0;
    s->ms_dx = clamp32(s->ms_dx, -ACC_MAX, ACC_MAX);
    s->ms_dy = clamp32(s->ms_dy, -ACC_MAX, ACC_MAX);
    s->ms_dz = clamp32(s->ms_dz, -ACC_MAX, ACC_MAX);
    dev->hlp->irq_set(dev, 1, s->irq1);
    dev->hlp->irq_set(dev, 12, s->irq12);
    update_a20(dev);
    return CAP_OK;
}

static const struct pdm_dev_ops i8042_ops = {
    .construct = i8042_construct,
    .reset = i8042_reset,
    .io = i8042_io,
    .save_state = i8042_save_state,
    .load_state = i8042_load_state,
    .query_interface = i8042_query_interface,
};

static const struct pdm_devreg i8042_reg = {
    .abi = PDM_DEVREG_ABI,
    .name = "i8042",
    .description = "i8042 keyboard controller, PS/2 keyboard and mouse, port 0x92",
    .instance_size = sizeof(struct i8042),
    .max_instances = 1,
    .saved_state_version = 4,
    .ops = &i8042_ops,
};

static const cap_uuid i8042_cid = {{0x15, 0x62, 0xa0, 0x5c, 0xf6, 0x53, 0x48, 0x6f, 0x9b, 0xd3,
                                    0x15, 0x74, 0xf2, 0x90, 0x00, 0xed}};
PDM_DEVICE_COMPONENT(i8042_reg, i8042_cid, "i8042")
