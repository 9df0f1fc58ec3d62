/*
 * plugins/devices/vga/vga.h - what the vga device plugin offers the VMM's
 * frontends: its picture, through ops->query_interface(VGA_IFACE_DISPLAY)
 * (pdm_query_interface(pdm, "vga", 0, VGA_IFACE_DISPLAY)), with the dirty
 * tile count, for tests; call it with the VM stopped (vm_wait returned).
 * Frontends read the picture through PDM_IFACE_DISPLAY (pdmdev.h), which
 * the device answers too: pdm_display_snapshot takes the device lock.
 */
#ifndef PLUGINS_DEVICES_VGA_H
#define PLUGINS_DEVICES_VGA_H

#include <stdint.h>

#include <capsule/result.h>

#define VGA_IFACE_DISPLAY "vga-display"

struct pdm_dev;

struct vga_display_iface {
    /* Renders the current screen: *pixels gets width * height XRGB pixels
     * (0x00RRGGBB, rows top to bottom), valid until the next call or the
     * device's destruction; *dirty the number of 16x16 tiles that changed
     * since the previous call (NULL: not wanted). CAP_E_OUTOFMEMORY. */
    cap_result (*snapshot)(struct pdm_dev *dev, const uint32_t **pixels, unsigned *width,
                           unsigned *height, unsigned *dirty);
};

#endif /* PLUGINS_DEVICES_VGA_H */
