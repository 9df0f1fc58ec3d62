/*
 * plugins/frontends/vmproc/fb_pending.h - what a client's framebuffer
 * (IFramebuffer, console_fb.h) has still to be told, merged: the VM
 * process's display hub reports changes at its refresh rate, the client
 * is called at its own pace, one call at a time, so changes that arrive
 * while a call runs are coalesced here - the latest size, and one
 * bounding rectangle around every changed rectangle - and never queue
 * without bound. Pure: no locks, no threads, no I/O (the caller locks).
 */
#ifndef PLUGINS_FRONTENDS_VMPROC_FB_PENDING_H
#define PLUGINS_FRONTENDS_VMPROC_FB_PENDING_H

struct fb_pending {
    int changed;    /* the size changed: notifyChange(width, height) is due */
    unsigned width; /* the picture's size as last reported by the hub */
    unsigned height;
    int dirty; /* a rectangle is due: x, y, w, h (inside the picture) */
    unsigned x, y, w, h;
};

/* Nothing due, a 0x0 picture. */
void fb_pending_init(struct fb_pending *p);
/* The picture is now width x height: a size change is due; a rectangle
 * still due is dropped (it belongs to the old picture; the hub sends the
 * whole new picture after a resize). */
void fb_pending_resize(struct fb_pending *p, unsigned width, unsigned height);
/* Rectangle x,y,w,h changed: merged into the rectangle due (the smallest
 * rectangle holding both), clipped to the picture; empty or outside
 * rectangles are ignored. */
void fb_pending_update(struct fb_pending *p, unsigned x, unsigned y, unsigned w, unsigned h);
/* Whether anything is due. */
int fb_pending_any(const struct fb_pending *p);
/* Moves what is due into *out (out->changed, out->dirty say what) and
 * leaves nothing due in p (its size stays). */
void fb_pending_take(struct fb_pending *p, struct fb_pending *out);

#endif /* PLUGINS_FRONTENDS_VMPROC_FB_PENDING_H */
