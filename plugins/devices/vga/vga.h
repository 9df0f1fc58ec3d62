/*
 * plugins/devices/vga/vga.h - what the vga device plugin offers the VMM's
 * frontends: its picture, through ops->query_interface(VGA_IFACE_DISPLAY)
 * (pdm_query_interface(pdm, "vga", 0, VGA_IFACE_DISPLAY)). A stepping
 * stone to IDisplay (issue 13): the interface moves to pdmdev.h with a PDM
 * wrapper that takes the device lock once a frontend reads it while the
 * VM runs; until then call it only with the VM stopped (vm_wait returned).
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
