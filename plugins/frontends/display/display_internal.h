/*
 * plugins/frontends/display/display_internal.h - where the display hub
 * (display.h) gets its picture from, so the hub can be driven without a
 * VM: fe_display_create uses the VM's PDM (pdm_display_update); tests give
 * a source of their own.
 */
#ifndef PLUGINS_FRONTENDS_DISPLAY_INTERNAL_H
#define PLUGINS_FRONTENDS_DISPLAY_INTERNAL_H

#include "display.h"
#include "pdm.h"

struct fe_display_source {
    /* Whether there is a display at all (attach fails without one). */
    int (*present)(void *ctx);
    /* pdm_display_update's contract (pdm.h): refreshes pic, rects[0..
     * *nrects) what changed. Called on the refresh thread only, with no
     * lock of the hub held, and never while no framebuffer is attached. */
    cap_result (*update)(void *ctx, struct pdm_picture *pic, struct pdm_rect *rects, unsigned max,
                         unsigned *nrects, int *resized);
};

/* The VM's display device: ctx is its struct pdm (pdm_display_update). */
extern const struct fe_display_source fe_display_pdm_source;

/* fe_display_create with `src` (and its ctx, which must outlive the hub). */
cap_result fe_display_create_source(const struct fe_display_source *src, void *ctx, unsigned hz,
                                    struct fe_display **out);

#endif /* PLUGINS_FRONTENDS_DISPLAY_INTERNAL_H */
