/*
 * plugins/frontends/display/display.h - the VM process's display hub: the
 * one place that reads the display device's picture and hands it to every
 * framebuffer attached (VirtualBox's Display object and its IFramebuffers):
 * the VNC server, the SDL window, IDisplay's screenshot.
 *
 * A struct fe_display belongs to one VM. While at least one framebuffer is
 * attached, a refresh thread asks the display device (PDM_IFACE_DISPLAY's
 * update, pdmdev.h) for the picture and the rectangles that changed, at
 * most `hz` times a second, and calls each framebuffer with them; with no
 * framebuffer attached the thread sleeps and the device is never asked
 * (a VM nobody watches costs nothing). A framebuffer's callbacks run on the
 * refresh thread with no VMM lock held, one framebuffer after the other;
 * `pixels` belongs to the hub and stays valid until the callback returns.
 * After fe_display_attach the new framebuffer gets a resize and a full
 * update first (it never sees rectangles relative to a picture it did not
 * get); fe_display_invalidate makes the next refresh send everyone the
 * full picture.
 *
 * Not thread-hostile: attach, detach and invalidate may be called
 * from any thread, including from a framebuffer's own callback (detach of
 * itself from its callback is allowed and takes effect after it returns).
 */
#ifndef PLUGINS_FRONTENDS_DISPLAY_H
#define PLUGINS_FRONTENDS_DISPLAY_H

#include <stdint.h>

#include <capsule/result.h>

struct vm;
struct fe_display;

/* A framebuffer (IFramebuffer in process). Pixels are XRGB 0x00RRGGBB,
 * rows top to bottom, `stride` pixels apart. */
struct fe_framebuffer_ops {
    /* The picture's size changed (and on attach): width x height pixels. */
    void (*resize)(void *ctx, unsigned width, unsigned height);
    /* The rectangle x,y,w,h (inside the picture) now holds these pixels;
     * `pixels` points at the picture's top-left pixel. */
    void (*update)(void *ctx, const uint32_t *pixels, unsigned stride, unsigned x, unsigned y,
                   unsigned w, unsigned h);
    /* Optional: called after the last update of a refresh that sent this
     * framebuffer anything (a frame is complete: present it, flush the
     * encoder); a refresh where nothing changed calls nothing. */
    void (*frame_done)(void *ctx);
};

/* The refresh rate the VM process uses. */
#define FE_DISPLAY_HZ_DEFAULT 30

/* Creates the hub of `vm` (no thread yet), refreshing at most hz (1..1000;
 * 0: FE_DISPLAY_HZ_DEFAULT) times a second. It reads the screen through
 * vm_pdm(vm) (pdm_display_update), so it must be destroyed before the VM.
 * CAP_E_INVALIDARG past 1000; CAP_E_OUTOFMEMORY. */
cap_result fe_display_create(struct vm *vm, unsigned hz, struct fe_display **out);
/* Stops the thread (no callback runs after it returns) and frees it; the
 * framebuffers still attached are dropped without a call. Not from a
 * framebuffer's callback. */
void fe_display_destroy(struct fe_display *d);

/* Attaches a framebuffer; *id (> 0) names it for detach. `ops` and `ctx`
 * must stay valid until it is detached. The refresh thread starts with the
 * first attach. CAP_E_POINTER without resize or update; CAP_E_NOTIMPL
 * (error info "the machine has no display") without a display device. */
cap_result fe_display_attach(struct fe_display *d, const struct fe_framebuffer_ops *ops, void *ctx,
                             unsigned *id);
/* Detaches framebuffer `id`; no callback of it runs after it returns
 * (unless called from that callback: then after the callback). */
void fe_display_detach(struct fe_display *d, unsigned id);
/* The next refresh sends every framebuffer the full picture. */
void fe_display_invalidate(struct fe_display *d);

#endif /* PLUGINS_FRONTENDS_DISPLAY_H */
