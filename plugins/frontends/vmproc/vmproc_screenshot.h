/*
 * plugins/frontends/vmproc/vmproc_screenshot.h - capsule-vm --screenshot:
 * the VM's screen (the vga device's picture, plugins/devices/vga/vga.h) as
 * a PNG file. A stepping stone to IDisplay.takeScreenShot (issue 13).
 *
 * The PNG is written with Debian's libpng (libpng-dev): a well-kept
 * encoder, rather than deflate and CRCs of our own.
 */
#ifndef PLUGINS_FRONTENDS_VMPROC_SCREENSHOT_H
#define PLUGINS_FRONTENDS_VMPROC_SCREENSHOT_H

#include <stdint.h>

#include <capsule/result.h>

#include "em/em.h"

/* Writes `width` x `height` XRGB pixels (0x00RRGGBB) to `path` as an RGB
 * PNG (created or replaced). Error info names the file. */
cap_result vmproc_png_write(const char *path, const uint32_t *pixels, unsigned width,
                            unsigned height);

/* The screen of `vm`'s vga device to `path`. Call only while the VM does
 * not run (after vm_wait): the picture is read without the device lock.
 * CAP_E_NOTIMPL (error info) when the VM has no display device. */
cap_result vmproc_screenshot(struct vm *vm, const char *path);

#endif /* PLUGINS_FRONTENDS_VMPROC_SCREENSHOT_H */
