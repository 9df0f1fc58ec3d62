/*
 * tests/unit/devices/virtio_driver.c - the minimal virtio PCI driver of
 * the device tests (virtio_driver.h).
 */
#include <check.h>

#include "virtio_driver.h"

static uint32_t conf_addr(struct vdrv *d, unsigned reg)
{
    return 0x80000000u | d->slot << 11 | (reg & 0xfc);
}

uint32_t vdrv_cfg_rd(struct vdrv *d, unsigned reg, unsigned size)
{
    h_out(d->h, 0xcf8, 4, conf_addr(d, reg));
    return h_in(d->h, (uint16_t)(0xcfc + (reg & 3)), size);
}

void vdrv_cfg_wr(struct vdrv *d, unsigned reg, unsigned size, uint32_t v)
{
    h_out(d->h, 0xcf8, 4, conf_addr(d, reg));
    h_out(d->h, (uint16_t)(0xcfc + (reg & 3)), size, v);
}

void vdrv_find(struct vdrv *d, struct harness *h, uint32_t id)
{
    d->h = h;
    for (d->slot = 0; d->slot < 32; d->slot++)
        if (vdrv_cfg_rd(d, PCI_VENDOR_ID, 4) == id)
            break;
    ck_assert_uint_lt(d->slot, 32);
    vdrv_cfg_wr(d, PCI_BASE_ADDRESS_0, 4, VDRV_BAR);
    vdrv_cfg_wr(d, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

uint64_t vdrv_features(struct vdrv *d)
{
    h_mmio_out(d->h, VDRV_COMMON + VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
    uint64_t f = h_mmio_in(d->h, VDRV_COMMON + VIRTIO_PCI_COMMON_DF, 4);
    h_mmio_out(d->h, VDRV_COMMON + VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
    return f | h_mmio_in(d->h, VDRV_COMMON + VIRTIO_PCI_COMMON_DF, 4) << 32;
}

static void common_wr(struct vdrv *d, unsigned off, unsigned size, uint64_t v)
{
    h_mmio_out(d->h, VDRV_COMMON + off, size, v);
}

static uint8_t status(struct vdrv *d)
{
    return (uint8_t)h_mmio_in(d->h, VDRV_COMMON + VIRTIO_PCI_COMMON_STATUS, 1);
}

uint8_t vdrv_init(struct vdrv *d, uint64_t want, unsigned n, const struct vdrv_queue *q)
{
    common_wr(d, VIRTIO_PCI_COMMON_STATUS, 1, 0);
    common_wr(d, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    common_wr(d, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
    common_wr(d, VIRTIO_PCI_COMMON_GF, 4, (uint32_t)want);
    common_wr(d, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
    common_wr(d, VIRTIO_PCI_COMMON_GF, 4, (uint32_t)(want >> 32));
    common_wr(d, VIRTIO_PCI_COMMON_STATUS, 1, 0x0b);
    if (!(status(d) & VIRTIO_STATUS_FEATURES_OK))
        return status(d);
    for (unsigned i = 0; i < n; i++) {
        memset(d->h->ram + q[i].avail, 0, 0x1000);
        memset(d->h->ram + q[i].used, 0, 0x1000);
        common_wr(d, VIRTIO_PCI_COMMON_Q_SELECT, 2, i);
        common_wr(d, VIRTIO_PCI_COMMON_Q_DESCLO, 8, q[i].desc);
        common_wr(d, VIRTIO_PCI_COMMON_Q_AVAILLO, 8, q[i].avail);
        common_wr(d, VIRTIO_PCI_COMMON_Q_USEDLO, 8, q[i].used);
        common_wr(d, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
    }
    common_wr(d, VIRTIO_PCI_COMMON_STATUS, 1, 0x0f);
    return status(d);
}
