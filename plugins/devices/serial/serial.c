/*
 * plugins/devices/serial/serial.c - a 16550A UART.
 *
 * Registers (offsets from iobase; DLAB is LCR bit 7):
 *   0 RBR (read) / THR (write) / DLL (DLAB)   4 MCR
 *   1 IER / DLM (DLAB)                        5 LSR
 *   2 IIR (read) / FCR (write)                6 MSR
 *   3 LCR                                     7 SCR
 *
 * Transmission is instantaneous: a byte written to THR goes to the backend
 * (or, in loopback, to the receiver) at once, so THRE and TEMT stay set and
 * the THRE interrupt is re-armed by every write. Reception is fed by a poll
 * timer that reads the backend without blocking, only as much as the FIFO
 * (or, without FIFO, the holding register) can take, so the host never
 * overruns the guest. With the FIFO enabled the receive interrupt fires at
 * the FCR trigger level, and a character-timeout interrupt (IIR 0xC) after
 * four character times without activity when fewer bytes wait.
 *
 * The IRQ line follows "IIR says an interrupt is pending", as in QEMU's
 * model (OUT2 does not gate it).
 *
 * Config: iobase, irq (defaults by instance: COM1-COM4 = 0x3f8/4, 0x2f8/3,
 * 0x3e8/4, 0x2e8/3), backend (chardev.h spec; default "none"),
 * poll_us (input poll period, default 1000).
 */
#include <stdio.h>
#include <string.h>

#include "chardev.h"
#include "pdmdev_fields.h"

#define UART_FIFO 16

#define IER_ERBFI 0x01
#define IER_ETBEI 0x02
#define IER_ELSI 0x04
#define IER_EDSSI 0x08

#define IIR_NONE 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_CTI 0x0c
#define IIR_FIFO 0xc0

#define FCR_ENABLE 0x01
#define FCR_CLR_RX 0x02
#define FCR_CLR_TX 0x04

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_PE 0x04
#define LSR_FE 0x08
#define LSR_BI 0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_ERRS (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

/* The guest-visible state: everything save/load copies. */
struct uart_regs {
    uint8_t ier, iir, fcr, lcr, mcr, lsr, msr, scr, dll, dlm;
    uint8_t rx[UART_FIFO];
    uint8_t rx_head, rx_count;
    uint8_t thr_pending; /* THRE interrupt pending */
    uint8_t timeout_pending;
    uint8_t irq_level;
};

struct uart {
    struct uart_regs r;
    /* Host side: set at construct. */
    uint16_t iobase;
    unsigned irq;
    uint64_t poll_ns;
    struct chardev *cd;
    bool input_eof;
    bool out_error_logged;
    struct pdm_timer *poll_timer, *timeout_timer;
};

static unsigned rx_capacity(const struct uart *u)
{
    return (u->r.fcr & FCR_ENABLE) ? UART_FIFO : 1;
}

static unsigned rx_trigger(const struct uart *u)
{
    static const unsigned levels[4] = {1, 4, 8, 14};
    return (u->r.fcr & FCR_ENABLE) ? levels[u->r.fcr >> 6] : 1;
}

/* Ten bits per character at 115200/divisor baud. */
static uint64_t char_time_ns(const struct uart *u)
{
    unsigned div = (unsigned)u->r.dlm << 8 | u->r.dll;
    if (div == 0)
        div = 1;
    return 10ull * 1000000000ull * div / 115200;
}

static void update_irq(struct pdm_dev *dev)
{
    struct uart *u = dev->data;
    uint8_t iir = IIR_NONE;
    if ((u->r.ier & IER_ELSI) && (u->r.lsr & LSR_ERRS))
        iir = IIR_RLSI;
    else if ((u->r.ier & IER_ERBFI) && u->r.timeout_pending)
        iir = IIR_CTI;
    else if ((u->r.ier & IER_ERBFI) && u->r.rx_count >= rx_trigger(u))
        iir = IIR_RDI;
    else if ((u->r.ier & IER_ETBEI) && u->r.thr_pending)
        iir = IIR_THRI;
    else if ((u->r.ier & IER_EDSSI) && (u->r.msr & 0x0f))
        iir = IIR_MSI;
    u->r.iir = iir | ((u->r.fcr & FCR_ENABLE) ? IIR_FIFO : 0);
    uint8_t level = iir != IIR_NONE;
    if (level != u->r.irq_level) {
        u->r.irq_level = level;
        dev->hlp->irq_set(dev, u->irq, level);
    }
}

/* (Re)starts the character timeout while bytes below the trigger wait. */
static void kick_timeout(struct pdm_dev *dev)
{
    struct uart *u = dev->data;
    u->r.timeout_pending = 0;
    if ((u->r.fcr & FCR_ENABLE) && u->r.rx_count > 0)
        dev->hlp->timer_arm_rel(u->timeout_timer, 4 * char_time_ns(u));
    else
        dev->hlp->timer_disarm(u->timeout_timer);
}

static void rx_push(struct pdm_dev *dev, uint8_t b)
{
    struct uart *u = dev->data;
    if (u->r.rx_count >= rx_capacity(u)) {
        u->r.lsr |= LSR_OE; /* only loopback can get here: the poller checks room */
        return;
    }
    u->r.rx[(u->r.rx_head + u->r.rx_count) % UART_FIFO] = b;
    u->r.rx_count++;
    u->r.lsr |= LSR_DR;
    kick_timeout(dev);
}

static uint8_t rx_pop(struct pdm_dev *dev)
{
    struct uart *u = dev->data;
    if (u->r.rx_count == 0)
        return 0;
    uint8_t b = u->r.rx[u->r.rx_head];
    u->r.rx_head = (uint8_t)((u->r.rx_head + 1) % UART_FIFO);
    if (--u->r.rx_count == 0)
        u->r.lsr &= (uint8_t)~LSR_DR;
    kick_timeout(dev);
    return b;
}

static void rx_clear(struct uart *u)
{
    u->r.rx_head = u->r.rx_count = 0;
    u->r.lsr &= (uint8_t)~LSR_DR;
    u->r.timeout_pending = 0;
}

static void transmit(struct pdm_dev *dev, uint8_t b)
{
    struct uart *u = dev->data;
    if (u->r.mcr & MCR_LOOP) {
        rx_push(dev, b);
    } else if (CAP_FAILED(u->cd->ops->write(u->cd, &b, 1)) && !u->out_error_logged) {
        u->out_error_logged = true;
        dev->hlp->log(dev, PDM_LOG_WARN, "backend write failed; output is dropped from now on");
    }
    u->r.thr_pending = 1;
    u->r.lsr |= LSR_THRE | LSR_TEMT;
}

/* Modem status from MCR in loopback, else a connected line (CTS, DSR, DCD). */
static void update_msr(struct uart *u)
{
    uint8_t lines;
    if (u->r.mcr & MCR_LOOP)
        lines = (uint8_t)(((u->r.mcr & MCR_RTS) ? MSR_CTS : 0) |
                          ((u->r.mcr & MCR_DTR) ? MSR_DSR : 0) |
                          ((u->r.mcr & MCR_OUT1) ? MSR_RI : 0) |
                          ((u->r.mcr & MCR_OUT2) ? MSR_DCD : 0));
    else
        lines = MSR_CTS | MSR_DSR | MSR_DCD;
    uint8_t old = u->r.msr, delta = u->r.msr & 0x0f;
    if ((old ^ lines) & MSR_CTS)
        delta |= MSR_DCTS;
    if ((old ^ lines) & MSR_DSR)
        delta |= MSR_DDSR;
    if ((old ^ lines) & MSR_DCD)
        delta |= MSR_DDCD;
    if ((old & MSR_RI) && !(lines & MSR_RI))
        delta |= MSR_TERI; /* trailing edge of RI */
    u->r.msr = lines | delta;
}

static void write_reg(struct pdm_dev *dev, unsigned off, uint8_t v)
{
    struct uart *u = dev->data;
    bool dlab = u->r.lcr & LCR_DLAB;
    switch (off) {
    case 0:
        if (dlab)
            u->r.dll = v;
        else
            transmit(dev, v);
        break;
    case 1:
        if (dlab) {
            u->r.dlm = v;
        } else {
            uint8_t was = u->r.ier;
            u->r.ier = v & 0x0f;
            /* Enabling ETBEI with THR empty raises THRE at once (8250 behaviour
             * drivers probe for). */
            if (!(was & IER_ETBEI) && (v & IER_ETBEI) && (u->r.lsr & LSR_THRE))
                u->r.thr_pending = 1;
        }
        break;
    case 2:
        if ((v ^ u->r.fcr) & FCR_ENABLE)
            rx_clear(u);
        if (v & FCR_CLR_RX)
            rx_clear(u);
        u->r.fcr = v & (FCR_ENABLE | 0xc0);
        if (!(u->r.fcr & FCR_ENABLE))
            u->r.fcr = 0;
        kick_timeout(dev);
        break;
    case 3:
        u->r.lcr = v;
        break;
    case 4:
        u->r.mcr = v & 0x1f;
        update_msr(u);
        break;
    case 5:
        break; /* LSR is read-only (factory test mode not modelled) */
    case 6:
        break;
    case 7:
        u->r.scr = v;
        break;
    }
    update_irq(dev);
}

static uint8_t read_reg(struct pdm_dev *dev, unsigned off)
{
    struct uart *u = dev->data;
    bool dlab = u->r.lcr & LCR_DLAB;
    uint8_t v = 0;
    switch (off) {
    case 0:
        v = dlab ? u->r.dll : rx_pop(dev);
        break;
    case 1:
        v = dlab ? u->r.dlm : u->r.ier;
        break;
    case 2:
        v = u->r.iir;
        if ((v & 0x0f) == IIR_THRI)
            u->r.thr_pending = 0; /* reading IIR with THRI as its answer acks it */
        break;
    case 3:
        v = u->r.lcr;
        break;
    case 4:
        v = u->r.mcr;
        break;
    case 5:
        v = u->r.lsr;
        u->r.lsr &= (uint8_t)~LSR_ERRS;
        break;
    case 6:
        v = u->r.msr;
        u->r.msr &= 0xf0;
        break;
    case 7:
        v = u->r.scr;
        break;
    }
    update_irq(dev);
    return v;
}

static cap_result serial_io(struct pdm_dev *dev, void *user, uint16_t port, unsigned size,
                            bool write, uint32_t *val)
{
    struct uart *u = dev->data;
    unsigned off = (unsigned)(port - u->iobase) & 7;
    if (write)
        write_reg(dev, off, (uint8_t)*val);
    else
        *val = read_reg(dev, off);
    return CAP_OK;
}

/* Pulls what the receiver has room for from the backend. */
static void poll_input(struct pdm_dev *dev, void *user, uint64_t now)
{
    struct uart *u = dev->data;
    if (!(u->r.mcr & MCR_LOOP) && u->cd->ops->read && !u->input_eof) {
        unsigned room = rx_capacity(u) - u->r.rx_count;
        if (room > 0) {
            uint8_t buf[UART_FIFO];
            ssize_t n = u->cd->ops->read(u->cd, buf, room);
            if (n < 0)
                u->input_eof = true;
            for (ssize_t i = 0; i < n; i++)
                rx_push(dev, buf[i]);
            if (n > 0)
                update_irq(dev);
        }
    }
    if (!u->input_eof && u->cd->ops->read)
        dev->hlp->timer_arm_rel(u->poll_timer, u->poll_ns);
}

static void rx_timeout(struct pdm_dev *dev, void *user, uint64_t now)
{
    struct uart *u = dev->data;
    if (u->r.rx_count > 0) {
        u->r.timeout_pending = 1;
        update_irq(dev);
    }
}

static void serial_reset(struct pdm_dev *dev)
{
    struct uart *u = dev->data;
    memset(&u->r, 0, sizeof(u->r));
    u->r.iir = IIR_NONE;
    u->r.lsr = LSR_THRE | LSR_TEMT;
    u->r.dll = 12; /* 9600 baud, as after a BIOS */
    update_msr(u);
    u->r.msr &= 0xf0;
    dev->hlp->irq_set(dev, u->irq, 0);
    dev->hlp->timer_disarm(u->timeout_timer);
}

static cap_result serial_construct(struct pdm_dev *dev, const struct pdm_cfg *cfg)
{
    static const uint16_t bases[4] = {0x3f8, 0x2f8, 0x3e8, 0x2e8};
    static const unsigned irqs[4] = {4, 3, 4, 3};
    struct uart *u = dev->data;
    const struct pdm_hlp *h = dev->hlp;
    unsigned i = dev->instance < 4 ? dev->instance : 0;
    int64_t base, irq, poll_us;
    const char *spec;
    cap_result rc = h->cfg_int(dev, cfg, "iobase", bases[i], 0, 0xfff8, &base);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_int(dev, cfg, "irq", irqs[i], 0, 15, &irq);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_int(dev, cfg, "poll_us", 1000, 10, 1000000, &poll_us);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_string(dev, cfg, "backend", "none", &spec);
    if (CAP_FAILED(rc))
        return rc;
    u->iobase = (uint16_t)base;
    u->irq = (unsigned)irq;
    u->poll_ns = (uint64_t)poll_us * 1000;
    char err[256];
    rc = chardev_open(spec, err, sizeof(err), &u->cd);
    if (CAP_FAILED(rc))
        return h->error(dev, rc, "backend: %s", err);
    rc = h->timer_create(dev, poll_input, NULL, "input poll", &u->poll_timer);
    if (CAP_SUCCEEDED(rc))
        rc = h->timer_create(dev, rx_timeout, NULL, "rx timeout", &u->timeout_timer);
    if (CAP_SUCCEEDED(rc))
        rc = h->io_register(dev, u->iobase, 8, PDM_IO_F_SPLIT, NULL, "16550A");
    if (CAP_FAILED(rc))
        return rc;
    serial_reset(dev);
    if (u->cd->ops->read)
        h->timer_arm_rel(u->poll_timer, u->poll_ns);
    return CAP_OK;
}

static void serial_destruct(struct pdm_dev *dev)
{
    struct uart *u = dev->data;
    chardev_close(u->cd);
    u->cd = NULL;
}

/* Saved state (version 2, named fields): the registers, the receive FIFO
 * (rx, bytes) with its head and count, the pending interrupt causes and
 * the IRQ level. */
static const struct pdm_field serial_fields[] = {
    PDM_FIELD(struct uart_regs, ier),
    PDM_FIELD(struct uart_regs, iir),
    PDM_FIELD(struct uart_regs, fcr),
    PDM_FIELD(struct uart_regs, lcr),
    PDM_FIELD(struct uart_regs, mcr),
    PDM_FIELD(struct uart_regs, lsr),
    PDM_FIELD(struct uart_regs, msr),
    PDM_FIELD(struct uart_regs, scr),
    PDM_FIELD(struct uart_regs, dll),
    PDM_FIELD(struct uart_regs, dlm),
    PDM_FIELD(struct uart_regs, rx),
    PDM_FIELD(struct uart_regs, rx_head),
    PDM_FIELD(struct uart_regs, rx_count),
    PDM_FIELD(struct uart_regs, thr_pending),
    PDM_FIELD(struct uart_regs, timeout_pending),
    PDM_FIELD(struct uart_regs, irq_level),
};

static cap_result serial_save_state(struct pdm_dev *dev, struct ssm_writer *w)
{
    struct uart *u = dev->data;
    return pdm_fields_put(dev, w, NULL, &u->r, serial_fields, PDM_FIELD_COUNT(serial_fields));
}

static cap_result serial_load_state(struct pdm_dev *dev, struct ssm_unit *u)
{
    struct uart *s = dev->data;
    struct uart_regs r = s->r;
    cap_result rc = dev->hlp->ssm->check_version(u, 2, 2);
    if (CAP_SUCCEEDED(rc))
        rc = pdm_fields_get(dev, u, NULL, &r, serial_fields, PDM_FIELD_COUNT(serial_fields));
    if (CAP_FAILED(rc))
        return rc;
    if (r.rx_count > UART_FIFO || r.rx_head >= UART_FIFO)
        return dev->hlp->error(dev, CAP_E_INVALIDARG, "saved receive FIFO is inconsistent");
    s->r = r;
    s->r.irq_level = s->r.irq_level ? 1 : 0;
    dev->hlp->irq_set(dev, s->irq, s->r.irq_level);
    kick_timeout(dev);
    return CAP_OK;
}

static const struct pdm_dev_ops serial_ops = {
    .construct = serial_construct,
    .destruct = serial_destruct,
    .reset = serial_reset,
    .io = serial_io,
    .save_state = serial_save_state,
    .load_state = serial_load_state,
};

static const struct pdm_devreg serial_reg = {
    .abi = PDM_DEVREG_ABI,
    .name = "serial",
    .description = "16550A UART",
    .instance_size = sizeof(struct uart),
    .max_instances = 4,
    .saved_state_version = 2,
    .ops = &serial_ops,
};

static const cap_uuid serial_cid = {{0x26, 0x56, 0x92, 0xc6, 0x71, 0x21, 0x47, 0xe3, 0xb2, 0x98,
                                     0x65, 0x02, 0x51, 0xba, 0xa4, 0x18}};
PDM_DEVICE_COMPONENT(serial_reg, serial_cid, "serial")
