/*
 * plugins/frontends/vmproc/console_fb.h - clients' framebuffers
 * (IFramebuffer, attached through IDisplay's attachFramebuffer) bridged to
 * the VM process's display hub (display/display.h).
 *
 * Each attached IFramebuffer (an IPC proxy of the client's object) gets a
 * framebuffer of the hub and a delivery thread of its own. The hub's
 * callbacks only copy the changed pixels into the bridge's own picture and
 * merge what is due (fb_pending.h); the delivery thread calls the client -
 * notifyChange, then notifyUpdateImage with the merged rectangle's pixels -
 * one call at a time. So a slow client gets fewer, larger updates and a
 * stalled one delays nobody: not the hub's thread, not the other
 * framebuffers, not the VM. A call that fails (the client died, its
 * connection broke, it returned an error) detaches the bridge from the hub.
 *
 * An IPC call has no deadline, so a thread in a call to a client that never
 * answers stays there until the client's connection ends; detaching does
 * not wait for it longer than CONSOLE_FB_DETACH_WAIT_MS, and that thread
 * frees the bridge when its call returns.
 */
#ifndef PLUGINS_FRONTENDS_VMPROC_CONSOLE_FB_H
#define PLUGINS_FRONTENDS_VMPROC_CONSOLE_FB_H

#include <pthread.h>

#include <capsule/capsule.h>

struct fe_display;
struct console_fb;

/* The longest detach waits for a call under way to return. */
#define CONSOLE_FB_DETACH_WAIT_MS 5000
/* The most client framebuffers a VM has attached at once. */
#define CONSOLE_FB_MAX 64

/* The attached framebuffers of one VM (embedded in the console). */
struct console_fbs {
    pthread_mutex_t lock;
    struct console_fb *list;
    unsigned n;
};

void console_fbs_init(struct console_fbs *s);
/* Detaches every framebuffer (see console_fbs_detach); call it before the
 * hub they are attached to is destroyed. */
void console_fbs_fini(struct console_fbs *s);

/* Attaches `fb` (AddRef'ed until detached) to the hub `d`; *id (> 0) names
 * it. CAP_E_POINTER for a NULL fb; CAP_E_NOTIMPL from the hub without a
 * display device; CAP_E_OUTOFMEMORY; CAP_E_ACCESSDENIED past
 * CONSOLE_FB_MAX (with error info). */
cap_result console_fbs_attach(struct console_fbs *s, struct fe_display *d, IFramebuffer *fb,
                              unsigned *id);
/* Detaches framebuffer `id`: no call of it starts after this returns; one
 * under way has returned unless it ran past CONSOLE_FB_DETACH_WAIT_MS.
 * CAP_E_INVALIDARG (with error info) for an id not attached. */
cap_result console_fbs_detach(struct console_fbs *s, unsigned id);

#endif /* PLUGINS_FRONTENDS_VMPROC_CONSOLE_FB_H */
