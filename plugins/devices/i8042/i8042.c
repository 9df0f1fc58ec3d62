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
 * command-byte bit 4). There is no mouse (aux device): a byte sent to
 * it (0xD4) is answered the way a controller answers for a device that
 * does not clock - 0xFE with the timeout bit (status bit 6) set - so a
 * guest's mouse probe fails at once instead of waiting out its own timer.
 * IRQ1 is up while the output buffer holds a keyboard-side byte and
 * command-byte bit 0 allows it, IRQ12 the same for aux-side bytes and
 * bit 1; each new byte is a new edge.
 *
 * Scancodes are injected as the guest should read them (set 1, what a
 * translating controller delivers - command-byte bit 6, on by default):
 * the controller does not translate and the keyboard keeps no scancode set
 * of its own beyond answering 0xF0. Frontends inject through PDM's
 * keyboard interface (pdm_keyboard_put in pdm.h).
 *
 * Controller commands: 0x20-0x3f / 0x60-0x7f read/write the command byte
 * and internal RAM, 0xA7/0xA8 aux disable/enable, 0xA9 aux test, 0xAA
 * self-test (0x55, sets the SYS flag), 0xAB keyboard interface test,
 * 0xAD/0xAE keyboard disable/enable, 0xC0 input port, 0xD0/0xD1 output
 * port read/write (bit 0 low resets the VM, bit 1 is A20), 0xD2/0xD3 write
 * keyboard/aux output buffer, 0xD4 write to aux, 0xDD/0xDF A20 off/on,
 * 0xE0 test inputs, 0xF0-0xFF pulse output lines (bit 0 clear: reset).
 * Keyboard commands: 0xED LEDs, 0xEE echo, 0xF0 scancode set, 0xF2
 * identify, 0xF3 typematic, 0xF4/0xF5/0xF6 enable/disable/defaults, 0xFF
 * reset (0xFA 0xAA); anything else gets 0xFE (resend).
 *
 * Config: port92 (default true).
 */
#include "pdmdev.h"

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
    struct queue ctrl, kbd; /* no aux queue: there is no mouse yet */
    /* the keyboard */
    uint8_t kbd_pending; /* keyboard command waiting for its argument */
    uint8_t kbd_scanning, leds, scancode_set, typematic;
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
    for (size_t i = 0; i < n; i++)
        q_put(&s->kbd, codes[i]);
    refill(dev);
    return CAP_OK;
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
    case 0xd4: /* no mouse: the controller reports the transmit timeout */
        q_put_src(&s->ctrl, 0xfe, SRC_AUX_TIMEOUT);
        refill(dev);
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
    dev->hlp->irq_set(dev, 1, 0);
    dev->hlp->irq_set(dev, 12, 0);
    update_a20(dev);
}

static const struct pdm_keyboard_iface i8042_kbd_iface = {.put_scancodes = kbd_put_scancodes};

static const void *i8042_query_interface(struct pdm_dev *dev, const char *iface)
{
    return strcmp(iface, PDM_IFACE_KEYBOARD) == 0 ? &i8042_kbd_iface : NULL;
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

#define I8042_SAVED offsetof(struct i8042, has_port92)

static cap_result i8042_save(struct pdm_dev *dev, struct pdm_ssm *ssm)
{
    return dev->hlp->ssm_put(ssm, dev->data, I8042_SAVED);
}

static cap_result i8042_load(struct pdm_dev *dev, struct pdm_ssm *ssm, uint32_t version)
{
    struct i8042 *s = dev->data;
    cap_result rc = dev->hlp->ssm_get(ssm, s, I8042_SAVED);
    if (CAP_FAILED(rc))
        return rc;
    struct queue *qs[] = {&s->ctrl, &s->kbd};
    for (int i = 0; i < 2; i++) { /* never trust indices from a file */
        qs[i]->head %= Q_SIZE;
        if (qs[i]->count > Q_SIZE)
            qs[i]->count = Q_SIZE;
        for (int j = 0; j < Q_SIZE; j++)
            if (qs[i]->src[j] > SRC_AUX_TIMEOUT || qs[i]->src[j] == SRC_NONE)
                qs[i]->src[j] = SRC_KBD;
    }
    if (s->out_src > SRC_AUX_TIMEOUT)
        s->out_src = SRC_NONE;
    dev->hlp->irq_set(dev, 1, s->irq1);
    dev->hlp->irq_set(dev, 12, s->irq12);
    update_a20(dev);
    return CAP_OK;
}

static const struct pdm_dev_ops i8042_ops = {
    .construct = i8042_construct,
    .reset = i8042_reset,
    .io = i8042_io,
    .save = i8042_save,
    .load = i8042_load,
    .query_interface = i8042_query_interface,
};

static const struct pdm_devreg i8042_reg = {
    .abi = PDM_DEVREG_ABI,
    .name = "i8042",
    .description = "i8042 keyboard controller, PS/2 keyboard and port 0x92",
    .instance_size = sizeof(struct i8042),
    .max_instances = 1,
    .saved_state_version = 2,
    .ops = &i8042_ops,
};

static const cap_uuid i8042_cid = {{0x15, 0x62, 0xa0, 0x5c, 0xf6, 0x53, 0x48, 0x6f, 0x9b, 0xd3,
                                    0x15, 0x74, 0xf2, 0x90, 0x00, 0xed}};
PDM_DEVICE_COMPONENT(i8042_reg, i8042_cid, "i8042")
