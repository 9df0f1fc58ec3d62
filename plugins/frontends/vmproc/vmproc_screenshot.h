/*
 * plugins/frontends/vmproc/vmproc_screenshot.h - capsule-vm --screenshot:
 * the VM's screen (the display device's picture, pdm_display_snapshot) as
 * a PNG file; the PNG encoder IDisplay's takeScreenShotToArray uses too.
 *
 * The PNG is written with Debian's libpng (libpng-dev): a well-kept
 * encoder, rather than deflate and CRCs of our own.
 */
#ifndef PLUGINS_FRONTENDS_VMPROC_SCREENSHOT_H
#define PLUGINS_FRONTENDS_VMPROC_SCREENSHOT_H

#include <stddef.h>
#include <stdint.h>

#include <capsule/result.h>

#include "em/em.h"

/* Writes `width` x `height` XRGB pixels (0x00RRGGBB) to `path` as an RGB
 * PNG (created or replaced). Error info names the file. */
cap_result vmproc_png_write(const char *path, const uint32_t *pixels, unsigned width,
                            unsigned height);

/* The same PNG in memory: *png (free() it) gets *len bytes. */
cap_result vmproc_png_encode(const uint32_t *pixels, unsigned width, unsigned height, uint8_t **png,
                             size_t *len);

/* The screen of `vm`'s display device (PDM_IFACE_DISPLAY, read under the
 * device lock by pdm_display_snapshot) to `path`; any time.
 * CAP_E_NOTIMPL (error info) when the VM has no display device. */
cap_result vmproc_screenshot(struct vm *vm, const char *path);

/*
 * vm_wait(vm, -1) for capsule-vm --screenshot: waits for the VM to end,
 * writing the screen to `path` on every SIGUSR1 meanwhile (the VM paused
 * for the moment, then resumed) and once more when it has ended; each
 * screenshot is said on stderr ("screenshot written to PATH", or why not).
 * Installs a SIGUSR1 handler for the process (capsule-vm runs one VM) and
 * takes the signal on the calling thread alone: vmproc_create blocked it
 * (with --screenshot) before the VM's threads started.
 * Returns the VM's end state.
 */
enum vm_state vmproc_screenshot_wait(struct vm *vm, const char *path);

#endif /* PLUGINS_FRONTENDS_VMPROC_SCREENSHOT_H */
