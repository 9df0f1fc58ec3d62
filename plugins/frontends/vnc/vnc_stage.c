/*
 * vnc_stage.c - the picture between the display hub and libvncserver
 * (vnc_internal.h): the hub's thread writes it, the server's loop thread
 * takes what changed, and neither waits for the other's slow work (a
 * client that reads slowly holds up only the loop thread, never the hub
 * and the other framebuffers on it).
 */
#include <stdlib.h>
#include <string.h>

#include "vnc_internal.h"

void vnc_stage_init(struct vnc_stage *st, unsigned red_shift, unsigned green_shift,
                    unsigned blue_shift)
{
    memset(st, 0, sizeof(*st));
    pthread_mutex_init(&st->lock, NULL);
    st->red_shift = red_shift;
    st->green_shift = green_shift;
    st->blue_shift = blue_shift;
}

void vnc_stage_destroy(struct vnc_stage *st)
{
    free(st->pixels);
    pthread_mutex_destroy(&st->lock);
}

/* Adds a rectangle; a full list becomes its bounding box. Under lock. */
static void add_dirty(struct vnc_stage *st, unsigned x, unsigned y, unsigned w, unsigned h)
{
    if (st->ndirty < VNC_STAGE_RECTS) {
        st->dirty[st->ndirty++] = (struct vnc_rect){x, y, w, h};
        return;
    }
    unsigned x0 = x, y0 = y, x1 = x + w, y1 = y + h;
    for (unsigned i = 0; i < st->ndirty; i++) {
        const struct vnc_rect *r = &st->dirty[i];
        x0 = r->x < x0 ? r->x : x0;
        y0 = r->y < y0 ? r->y : y0;
        x1 = r->x + r->w > x1 ? r->x + r->w : x1;
        y1 = r->y + r->h > y1 ? r->y + r->h : y1;
    }
    st->dirty[0] = (struct vnc_rect){x0, y0, x1 - x0, y1 - y0};
    st->ndirty = 1;
}

int vnc_stage_resize(struct vnc_stage *st, unsigned width, unsigned height)
{
    uint32_t *p = width && height ? calloc((size_t)width * height, sizeof(*p)) : NULL;
    if (!p)
        return -1;
    pthread_mutex_lock(&st->lock);
    free(st->pixels);
    st->pixels = p;
    st->width = width;
    st->height = height;
    st->resized = 1;
    st->ndirty = 0;
    pthread_mutex_unlock(&st->lock);
    return 0;
}

void vnc_stage_update(struct vnc_stage *st, const uint32_t *pixels, unsigned stride, unsigned x,
                      unsigned y, unsigned w, unsigned h)
{
    pthread_mutex_lock(&st->lock);
    if (x < st->width && y < st->height && w && h) {
        w = w > st->width - x ? st->width - x : w;
        h = h > st->height - y ? st->height - y : h;
        int same = st->red_shift == 16 && st->green_shift == 8 && st->blue_shift == 0;
        for (unsigned row = y; row < y + h; row++) {
            const uint32_t *src = pixels + (size_t)row * stride + x;
            uint32_t *dst = st->pixels + (size_t)row * st->width + x;
            if (same) {
                memcpy(dst, src, (size_t)w * sizeof(*dst));
                continue;
            }
            for (unsigned i = 0; i < w; i++)
                dst[i] = ((src[i] >> 16) & 0xffu) << st->red_shift |
                         ((src[i] >> 8) & 0xffu) << st->green_shift |
                         (src[i] & 0xffu) << st->blue_shift;
        }
        if (!st->resized)
            add_dirty(st, x, y, w, h);
    }
    pthread_mutex_unlock(&st->lock);
}

int vnc_stage_take(struct vnc_stage *st, uint32_t **fb, unsigned *width, unsigned *height,
                   struct vnc_rect *rects, unsigned *nrects)
{
    int resized = -1;
    *nrects = 0;
    pthread_mutex_lock(&st->lock);
    if (st->resized) {
        uint32_t *p = malloc((size_t)st->width * st->height * sizeof(*p));
        if (p) {
            memcpy(p, st->pixels, (size_t)st->width * st->height * sizeof(*p));
            *fb = p;
            *width = st->width;
            *height = st->height;
            st->resized = 0;
            st->ndirty = 0;
            resized = 1;
        }
    } else if (*width == st->width && *height == st->height) {
        for (unsigned i = 0; i < st->ndirty; i++) {
            const struct vnc_rect *r = &st->dirty[i];
            for (unsigned row = r->y; row < r->y + r->h; row++)
                memcpy(*fb + (size_t)row * st->width + r->x,
                       st->pixels + (size_t)row * st->width + r->x, (size_t)r->w * sizeof(**fb));
            rects[i] = *r;
        }
        *nrects = st->ndirty;
        st->ndirty = 0;
        resized = 0;
    }
    pthread_mutex_unlock(&st->lock);
    return resized;
}
