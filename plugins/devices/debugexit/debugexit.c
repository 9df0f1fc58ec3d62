/*
 * plugins/devices/debugexit/debugexit.c - the debug-exit port (QEMU's
 * isa-debug-exit): a write of value V, of any size, powers the VM off with
 * exit code (V << 1) | 1, so a test payload can report pass/fail through
 * the VM process's exit status (which keeps the low 8 bits). Reads return 0.
 *
 * Config: enabled (bool, default true: listing the device is the setting;
 * false keeps the ports unclaimed), iobase (default 0xf4), iosize (1, 2 or
 * 4; default 4).
 */
#include "pdmdev.h"

struct debugexit {
    uint16_t iobase;
    uint32_t last_value; /* the value that powered the VM off */
    bool fired;
};

static cap_result debugexit_construct(struct pdm_dev *dev, const struct pdm_cfg *cfg)
{
    struct debugexit *s = dev->data;
    const struct pdm_hlp *h = dev->hlp;
    bool enabled;
    int64_t base, size;
    cap_result rc = h->cfg_bool(dev, cfg, "enabled", true, &enabled);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_int(dev, cfg, "iobase", 0xf4, 0, 0xfffc, &base);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_int(dev, cfg, "iosize", 4, 1, 4, &size);
    if (CAP_FAILED(rc))
        return rc;
    if (size == 3)
        return h->error(dev, CAP_E_INVALIDARG, "iosize must be 1, 2 or 4");
    s->iobase = (uint16_t)base;
    if (!enabled)
        return CAP_OK;
    return h->io_register(dev, s->iobase, (uint32_t)size, 0, NULL, "debug-exit");
}

static cap_result debugexit_io(struct pdm_dev *dev, void *user, uint16_t port, unsigned size,
                               bool write, uint32_t *val)
{
    struct debugexit *s = dev->data;
    if (!write) {
        *val = 0;
        return CAP_OK;
    }
    s->last_value = *val;
    s->fired = true;
    int code = (int)((*val << 1) | 1);
    dev->hlp->log(dev, PDM_LOG_INFO, "guest wrote 0x%x to port 0x%x: power off, exit code %d",
                  *val, port, code);
    dev->hlp->vm_power_off(dev, code);
    return CAP_OK;
}

static const struct pdm_dev_ops debugexit_ops = {
    .construct = debugexit_construct,
    .io = debugexit_io,
};

static const struct pdm_devreg debugexit_reg = {
    .abi = PDM_DEVREG_ABI,
    .name = "debugexit",
    .description = "debug exit port (QEMU isa-debug-exit semantics)",
    .instance_size = sizeof(struct debugexit),
    .max_instances = 1,
    .ops = &debugexit_ops,
};

static const cap_uuid debugexit_cid = {{0x3e, 0x3f, 0xa9, 0x55, 0x72, 0xcd, 0x49, 0xf4, 0x97,
                                        0x66, 0x8c, 0x1d, 0x00, 0x15, 0xb0, 0x8a}};
PDM_DEVICE_COMPONENT(debugexit_reg, debugexit_cid, "debugexit")
