/*
 * plugins/devices/port80/port80.c - the POST code port.
 *
 * Firmware writes progress codes to port 0x80; Linux also writes to it as
 * an I/O delay, thousands of times. So a code is logged when it differs from
 * the previous one, and reads return the last code written (as the POST
 * cards and many chipsets do). Config: iobase (default 0x80), log (bool,
 * default true).
 */
#include "pdmdev.h"

struct port80 {
    uint8_t last;
    bool log;
    bool seen;
    uint64_t writes;
};

static cap_result port80_construct(struct pdm_dev *dev, const struct pdm_cfg *cfg)
{
    struct port80 *s = dev->data;
    int64_t base;
    cap_result rc = dev->hlp->cfg_int(dev, cfg, "iobase", 0x80, 0, 0xffff, &base);
    if (CAP_SUCCEEDED(rc))
        rc = dev->hlp->cfg_bool(dev, cfg, "log", true, &s->log);
    if (CAP_FAILED(rc))
        return rc;
    return dev->hlp->io_register(dev, (uint16_t)base, 1, 0, NULL, "POST code");
}

static cap_result port80_io(struct pdm_dev *dev, void *user, uint16_t port, unsigned size,
                            bool write, uint32_t *val)
{
    struct port80 *s = dev->data;
    if (!write) {
        *val = s->last;
        return CAP_OK;
    }
    uint8_t code = (uint8_t)*val;
    s->writes++;
    if (s->log && (!s->seen || code != s->last))
        dev->hlp->log(dev, PDM_LOG_INFO, "POST code 0x%02x", code);
    s->last = code;
    s->seen = true;
    return CAP_OK;
}

static void port80_reset(struct pdm_dev *dev)
{
    struct port80 *s = dev->data;
    s->last = 0;
    s->seen = false;
}

/* Saved state (version 1): the last code, and whether one was written
 * (which decides whether the next write of the same code is logged). */
static cap_result port80_save_state(struct pdm_dev *dev, struct ssm_writer *w)
{
    struct port80 *s = dev->data;
    dev->hlp->ssm->put_u8(w, "last", s->last);
    return dev->hlp->ssm->put_bool(w, "seen", s->seen);
}

static cap_result port80_load_state(struct pdm_dev *dev, struct ssm_unit *u)
{
    struct port80 *s = dev->data;
    const struct ssm_field_ops *f = dev->hlp->ssm;
    cap_result rc = f->check_version(u, 1, 1);
    if (CAP_SUCCEEDED(rc))
        rc = f->get_u8(u, "last", 0, &s->last);
    if (CAP_SUCCEEDED(rc))
        rc = f->get_bool(u, "seen", s->last != 0, &s->seen);
    return rc;
}

static const struct pdm_dev_ops port80_ops = {
    .construct = port80_construct,
    .reset = port80_reset,
    .io = port80_io,
    .save_state = port80_save_state,
    .load_state = port80_load_state,
};

static const struct pdm_devreg port80_reg = {
    .abi = PDM_DEVREG_ABI,
    .name = "port80",
    .description = "POST code port",
    .instance_size = sizeof(struct port80),
    .max_instances = 1,
    .saved_state_version = 1,
    .ops = &port80_ops,
};

static const cap_uuid port80_cid = {{0xc5, 0xd8, 0xbc, 0x54, 0xc2, 0x6e, 0x47, 0x3d, 0x89, 0x37,
                                     0x50, 0x1a, 0x30, 0x22, 0xb8, 0xf4}};
PDM_DEVICE_COMPONENT(port80_reg, port80_cid, "port80")
