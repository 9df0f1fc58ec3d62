/*
 * tests/unit/devices/virtio_driver.h - a minimal virtio 1.x PCI driver for
 * the device tests (test_virtioblk.c, test_virtioinput.c), over the fake
 * VMM of harness.h: finds a function on the PCI bus, maps BAR 0, reads and
 * writes configuration space and the BAR's regions, negotiates features
 * and sets up split queues at addresses of the harness's RAM (3.1.1).
 */
#ifndef TESTS_DEVICES_VIRTIO_DRIVER_H
#define TESTS_DEVICES_VIRTIO_DRIVER_H

#include <stdint.h>

#include "../../../plugins/devices/virtio/virtio.h"
#include "harness.h"

/* Where the driver maps BAR 0 and its regions. */
#define VDRV_BAR    0xfebf0000u
#define VDRV_COMMON (VDRV_BAR + VIRTIO_PCI_COMMON_OFF)
#define VDRV_ISR    (VDRV_BAR + VIRTIO_PCI_ISR_OFF)
#define VDRV_DEVCFG (VDRV_BAR + VIRTIO_PCI_DEVCFG_OFF)
#define VDRV_NOTIFY (VDRV_BAR + VIRTIO_PCI_NOTIFY_OFF)

struct vdrv {
    struct harness *h;
    unsigned slot; /* the function's PCI device number */
};

/* One queue's rings in the harness's RAM. */
struct vdrv_queue {
    uint64_t desc, avail, used;
};

/* Finds the function with vendor/device `id` (device << 16 | vendor) on
 * bus 0, maps its BAR 0 at VDRV_BAR and enables memory and bus mastering.
 * Fails the test when there is none. */
void vdrv_find(struct vdrv *d, struct harness *h, uint32_t id);
uint32_t vdrv_cfg_rd(struct vdrv *d, unsigned reg, unsigned size);
void vdrv_cfg_wr(struct vdrv *d, unsigned reg, unsigned size, uint32_t v);
/* The features the device offers (64 bits). */
uint64_t vdrv_features(struct vdrv *d);
/* Resets the device, accepts `want`, and (if FEATURES_OK sticks) sets up
 * and enables queues 0..n-1 at q[i] (each available and used ring zeroed,
 * 0x1000 bytes each) and sets DRIVER_OK. Returns the device status. */
uint8_t vdrv_init(struct vdrv *d, uint64_t want, unsigned n, const struct vdrv_queue *q);

#endif
