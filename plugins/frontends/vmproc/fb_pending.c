/*
 * fb_pending.c - a client framebuffer's due notifications, merged (see
 * fb_pending.h).
 */
#include <string.h>

#include "fb_pending.h"

void fb_pending_init(struct fb_pending *p)
{
    memset(p, 0, sizeof(*p));
}

void fb_pending_resize(struct fb_pending *p, unsigned width, unsigned height)
{
    p->changed = 1;
    p->width = width;
    p->height = height;
    p->dirty = 0;
    p->x = p->y = p->w = p->h = 0;
}

void fb_pending_update(struct fb_pending *p, unsigned x, unsigned y, unsigned w, unsigned h)
{
    if (x >= p->width || y >= p->height || !w || !h)
        return;
    /* clip without overflow: w, h at most what is left right of / below x, y */
    if (w > p->width - x)
        w = p->width - x;
    if (h > p->height - y)
        h = p->height - y;
    if (!p->dirty) {
        p->dirty = 1;
        p->x = x;
        p->y = y;
        p->w = w;
        p->h = h;
        return;
    }
    unsigned x1 = p->x + p->w > x + w ? p->x + p->w : x + w;
    unsigned y1 = p->y + p->h > y + h ? p->y + p->h : y + h;
    p->x = p->x < x ? p->x : x;
    p->y = p->y < y ? p->y : y;
    p->w = x1 - p->x;
    p->h = y1 - p->y;
}

int fb_pending_any(const struct fb_pending *p)
{
    return p->changed || p->dirty;
}

void fb_pending_take(struct fb_pending *p, struct fb_pending *out)
{
    *out = *p;
    p->changed = 0;
    p->dirty = 0;
    p->x = p->y = p->w = p->h = 0;
}
