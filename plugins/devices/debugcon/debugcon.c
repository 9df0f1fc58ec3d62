/*
 * plugins/devices/debugcon/debugcon.c - a debug console port in the manner
 * of QEMU's isa-debugcon: each byte the guest writes is debug text, and a
 * read returns the readback value (0xe9), by which firmware tells that the
 * port is there. SeaBIOS built for QEMU writes its debug log (POST steps,
 * devices found, where it stops) to port 0x402 once a read of it gives
 * 0xe9.
 *
 * The text goes to the VM's log, one line per guest line ("debugcon:
 * TEXT"), at info level; a line longer than the buffer is logged in
 * pieces, control characters other than tab are dropped. Guest output is
 * rate-limited by EM's log like every guest-caused line - SeaBIOS says
 * more than that lets through, so `path` sends every byte, as written, to
 * a file instead (created or truncated at construct, flushed per line).
 *
 * Config: iobase (default 0x402), readback (default 0xe9), path (default
 * none: the VM's log).
 */
#include <errno.h>
#include <stdio.h>

#include "pdmdev.h"

#define LINE_MAX_BYTES 200

struct debugcon {
    FILE *file; /* `path`, or NULL: the log */
    uint8_t readback;
    unsigned len;
    char line[LINE_MAX_BYTES + 1];
};

static void flush_line(struct pdm_dev *dev)
{
    struct debugcon *s = dev->data;
    s->line[s->len] = '\0';
    dev->hlp->log(dev, PDM_LOG_INFO, "%s", s->line);
    s->len = 0;
}

static void put_byte(struct pdm_dev *dev, uint8_t c)
{
    struct debugcon *s = dev->data;
    if (c == '\n') {
        flush_line(dev);
        return;
    }
    if (c < 0x20 && c != '\t')
        return;
    s->line[s->len++] = (char)c;
    if (s->len == LINE_MAX_BYTES)
        flush_line(dev);
}

static cap_result debugcon_io(struct pdm_dev *dev, void *user, uint16_t port, unsigned size,
                              bool write, uint32_t *val)
{
    struct debugcon *s = dev->data;
    if (!write) {
        *val = s->readback;
        return CAP_OK;
    }
    for (unsigned i = 0; i < size; i++) { /* a wider write: its bytes in order */
        uint8_t c = (uint8_t)(*val >> (8 * i));
        if (!s->file)
            put_byte(dev, c);
        else if (putc(c, s->file) == '\n')
            fflush(s->file);
    }
    return CAP_OK;
}

static cap_result debugcon_construct(struct pdm_dev *dev, const struct pdm_cfg *cfg)
{
    struct debugcon *s = dev->data;
    const struct pdm_hlp *h = dev->hlp;
    int64_t base, readback;
    const char *path;
    cap_result rc = h->cfg_int(dev, cfg, "iobase", 0x402, 0, 0xffff, &base);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_int(dev, cfg, "readback", 0xe9, 0, 0xff, &readback);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_string(dev, cfg, "path", NULL, &path);
    if (CAP_FAILED(rc))
        return rc;
    s->readback = (uint8_t)readback;
    if (path && !(s->file = fopen(path, "we")))
        return h->error(dev, CAP_E_INVALIDARG, "config key 'path': cannot create '%s': %s", path,
                        strerror(errno));
    return h->io_register(dev, (uint16_t)base, 1, 0, NULL, "debugcon");
}

static void debugcon_destruct(struct pdm_dev *dev)
{
    struct debugcon *s = dev->data;
    if (s->len)
        flush_line(dev);
    if (s->file)
        fclose(s->file);
    s->file = NULL;
}

static const struct pdm_dev_ops debugcon_ops = {
    .construct = debugcon_construct,
    .destruct = debugcon_destruct,
    .io = debugcon_io,
};

static const struct pdm_devreg debugcon_reg = {
    .abi = PDM_DEVREG_ABI,
    .name = "debugcon",
    .description = "debug console port (QEMU isa-debugcon semantics; 0x402 for SeaBIOS)",
    .instance_size = sizeof(struct debugcon),
    .max_instances = 1,
    .ops = &debugcon_ops,
};

static const cap_uuid debugcon_cid = {{0x76, 0xbe, 0xca, 0x48, 0x4e, 0x36, 0x4d, 0x40, 0x89, 0x8f,
                                       0x8c, 0x08, 0x15, 0x87, 0xbe, 0xeb}};
PDM_DEVICE_COMPONENT(debugcon_reg, debugcon_cid, "debugcon")
