/*
 * plugins/frontends/sdl/sdl.c - the VM window (sdl.h): an SDL2 window on
 * a thread of its own, fed by the display hub.
 *
 * Threads. SDL wants one thread for its video and events: the window
 * thread this frontend starts (SDL_Init, the window, the renderer, every
 * event and every render call happen there). The display hub calls the
 * framebuffer callbacks on its refresh thread: they copy the changed
 * rectangles into `pix` under `lock` and, once a frame is done, push one
 * SDL user event (SDL_PushEvent is thread-safe) that wakes the window
 * thread, which uploads the dirty rectangle into a streaming texture and
 * presents. With a still screen nothing wakes the window thread but its
 * STATE_POLL_MS look at the VM's state for the title. attach waits for the
 * window thread to have opened the window (or failed) so that a missing
 * DISPLAY is a setup failure; detach detaches from the hub first (no
 * callback runs after that), then stops the window thread.
 *
 * Signals are handled as by the headless frontend (its attach runs beside
 * this one); SDL's own handlers are turned off (SDL_HINT_NO_SIGNAL_HANDLERS).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <SDL.h>

#include <capsule/errorinfo.h>

#include "display/display.h"
#include "display/keymap.h"
#include "headless/headless.h"
#include "pdm/pdm.h"
#include "pdm/pdmdev.h"
#include "sdl.h"
#include "sdl_internal.h"

#define COMPONENT     "sdl"
#define STATE_POLL_MS 250
#define INITIAL_W     640
#define INITIAL_H     480

struct sdlfe {
    struct vm *vm;
    void *headless;             /* the signal handling (headless_frontend) */
    struct fe_display *display; /* the VM's hub (the VM process's) */
    unsigned fb_id;             /* 0: not attached (no display device) */
    pthread_t thread;
    bool thread_started;
    Uint32 refresh_event; /* SDL user event type (attach, before the thread) */

    pthread_mutex_t lock; /* everything up to `quit` */
    pthread_cond_t cond;
    bool init_done;       /* the window thread opened its window or failed */
    char init_error[256]; /* why it failed ("" when it did not) */
    uint32_t *pix;        /* the guest's picture, w x h (hub thread writes) */
    unsigned w, h;
    bool resized;            /* w, h changed since the window thread looked */
    struct sdlfe_rect dirty; /* changed since the window thread looked */
    bool event_pending;      /* a refresh event is queued */
    bool quit;               /* detach: the window thread ends */

    /* window thread only */
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;
    unsigned tex_w, tex_h;
    struct sdlfe_rect pic; /* where the picture is in the window */
    struct sdlfe_keys keys;
    struct sdlfe_size size;
    struct sdlfe_close close;
    uint64_t close_wait_ms;
    bool grabbed;
    bool no_mouse_said;
    uint32_t buttons; /* PDM_MOUSE_* held */
    int ptr_x, ptr_y; /* the pointer's last window position (tablet) */
    enum vm_state shown_state;
    bool shown_grab;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- the hub's side (refresh thread) ------------------------------------------- */

static void fb_resize(void *ctx, unsigned width, unsigned height)
{
    struct sdlfe *s = ctx;
    pthread_mutex_lock(&s->lock);
    uint32_t *n = width && height ? calloc((size_t)width * height, sizeof(*n)) : NULL;
    if (width && height && !n) {
        fprintf(stderr, "capsule-vm: sdl: out of memory for a %ux%u picture\n", width, height);
        width = height = 0;
    }
    free(s->pix);
    s->pix = n;
    s->w = width;
    s->h = height;
    s->resized = true;
    s->dirty = (struct sdlfe_rect){0, 0, (int)width, (int)height};
    pthread_mutex_unlock(&s->lock);
}

static void fb_update(void *ctx, const uint32_t *pixels, unsigned stride, unsigned x, unsigned y,
                      unsigned w, unsigned h)
{
    struct sdlfe *s = ctx;
    pthread_mutex_lock(&s->lock);
    if (s->pix && x < s->w && y < s->h) {
        if (w > s->w - x)
            w = s->w - x;
        if (h > s->h - y)
            h = s->h - y;
        for (unsigned r = 0; r < h; r++)
            memcpy(s->pix + (size_t)(y + r) * s->w + x, pixels + (size_t)(y + r) * stride + x,
                   (size_t)w * sizeof(uint32_t));
        struct sdlfe_rect d = {(int)x, (int)y, (int)w, (int)h};
        sdlfe_rect_union(&s->dirty, &d);
    }
    pthread_mutex_unlock(&s->lock);
}

static void fb_frame_done(void *ctx)
{
    struct sdlfe *s = ctx;
    pthread_mutex_lock(&s->lock);
    bool push = !s->event_pending && (s->resized || s->dirty.w > 0);
    if (push)
        s->event_pending = true;
    pthread_mutex_unlock(&s->lock);
    if (push) {
        SDL_Event ev = {.type = s->refresh_event};
        if (SDL_PushEvent(&ev) != 1) {
            pthread_mutex_lock(&s->lock);
            s->event_pending = false; /* the queue is full: the next frame tries again */
            pthread_mutex_unlock(&s->lock);
        }
    }
}

static const struct fe_framebuffer_ops fb_ops = {
    .resize = fb_resize,
    .update = fb_update,
    .frame_done = fb_frame_done,
};

/* ---- the window thread ----------------------------------------------------------- */

static void set_title(struct sdlfe *s)
{
    char title[256];
    s->shown_state = vm_get_state(s->vm);
    s->shown_grab = s->grabbed;
    sdlfe_title(title, sizeof(title), vm_name(s->vm), s->shown_state, s->grabbed);
    SDL_SetWindowTitle(s->win, title);
}

static void redraw(struct sdlfe *s)
{
    int ww = 0, wh = 0;
    SDL_GetRendererOutputSize(s->ren, &ww, &wh);
    sdlfe_fit((unsigned)ww, (unsigned)wh, s->tex_w, s->tex_h, &s->pic);
    SDL_SetRenderDrawColor(s->ren, 0, 0, 0, 255);
    SDL_RenderClear(s->ren);
    if (s->tex && s->pic.w > 0) {
        SDL_Rect dst = {s->pic.x, s->pic.y, s->pic.w, s->pic.h};
        SDL_RenderCopy(s->ren, s->tex, NULL, &dst);
    }
    SDL_RenderPresent(s->ren);
}

/* A new guest resolution: a texture of that size, the window too unless
 * the user sized it. */
static void new_texture(struct sdlfe *s, unsigned w, unsigned h)
{
    if (s->tex)
        SDL_DestroyTexture(s->tex);
    s->tex = NULL;
    s->tex_w = s->tex_h = 0;
    if (!w || !h)
        return;
    s->tex = SDL_CreateTexture(s->ren, SDL_PIXELFORMAT_XRGB8888, SDL_TEXTUREACCESS_STREAMING,
                               (int)w, (int)h);
    if (!s->tex) {
        fprintf(stderr, "capsule-vm: sdl: cannot show a %ux%u picture: %s\n", w, h, SDL_GetError());
        return;
    }
    s->tex_w = w;
    s->tex_h = h;
    SDL_Rect desk;
    unsigned max_w = 0, max_h = 0, nw, nh;
    if (!SDL_GetDisplayUsableBounds(SDL_GetWindowDisplayIndex(s->win), &desk)) {
        max_w = (unsigned)desk.w;
        max_h = (unsigned)desk.h;
    }
    if (sdlfe_size_guest(&s->size, w, h, max_w, max_h, &nw, &nh))
        SDL_SetWindowSize(s->win, (int)nw, (int)nh);
}

/* The refresh event: take what the hub left, upload it, present. */
static void refresh(struct sdlfe *s)
{
    pthread_mutex_lock(&s->lock);
    s->event_pending = false;
    if (s->resized) {
        s->resized = false;
        new_texture(s, s->w, s->h);
    }
    struct sdlfe_rect d = s->dirty;
    s->dirty = (struct sdlfe_rect){0, 0, 0, 0};
    if (s->tex && s->pix && d.w > 0 && (unsigned)(d.x + d.w) <= s->tex_w &&
        (unsigned)(d.y + d.h) <= s->tex_h) {
        SDL_Rect r = {d.x, d.y, d.w, d.h};
        SDL_UpdateTexture(s->tex, &r, s->pix + (size_t)d.y * s->w + (size_t)d.x,
                          (int)(s->w * sizeof(uint32_t)));
    }
    pthread_mutex_unlock(&s->lock);
    redraw(s);
}

static void send_key(struct sdlfe *s, unsigned usage, bool down)
{
    uint8_t codes[KEYMAP_MAX_CODES];
    size_t n = keymap_usage_to_set1((uint16_t)usage, down, codes);
    if (n && CAP_FAILED(pdm_keyboard_put(vm_pdm(s->vm), codes, n)))
        cap_error_clear(); /* no keyboard, or its buffer is full: the key is lost */
}

static void grab(struct sdlfe *s, bool on)
{
    if (s->grabbed == on)
        return;
    if (SDL_SetRelativeMouseMode(on ? SDL_TRUE : SDL_FALSE) && on) {
        fprintf(stderr, "capsule-vm: sdl: cannot grab the mouse: %s\n", SDL_GetError());
        return;
    }
    s->grabbed = on;
    set_title(s);
}

static void release_keys(struct sdlfe *s)
{
    uint16_t usages[256];
    size_t n = sdlfe_keys_release_all(&s->keys, usages, 256);
    for (size_t i = 0; i < n; i++)
        send_key(s, usages[i], false);
}

static void on_key(struct sdlfe *s, const SDL_KeyboardEvent *k)
{
    bool down = k->type == SDL_KEYDOWN;
    switch (sdlfe_key(&s->keys, (unsigned)k->keysym.scancode, down)) {
    case SDLFE_KEY_GUEST:
        send_key(s, (unsigned)k->keysym.scancode, down);
        break;
    case SDLFE_KEY_HOST:
        if (down && !k->repeat)
            grab(s, false);
        break;
    case SDLFE_KEY_IGNORE:
        break;
    }
}

/* Relative motion and buttons to the PS/2 mouse; said once if there is none. */
static void put_rel(struct sdlfe *s, int dx, int dy, int dz)
{
    if (CAP_SUCCEEDED(pdm_mouse_put(vm_pdm(s->vm), dx, dy, dz, s->buttons)))
        return;
    if (!s->no_mouse_said)
        fprintf(stderr, "capsule-vm: sdl: the mouse does not reach the guest: %s\n",
                cap_error_peek_message() ? cap_error_peek_message() : "?");
    s->no_mouse_said = true;
    cap_error_clear();
}

/* The pointer at window point x,y to the tablet, when the guest's driver
 * takes its events (pdm_mouse_abs_active: VirtualBox's mouse integration);
 * false otherwise (the mouse is relative then, and grabbed) or without a
 * picture to place it on. A grab the guest no longer needs is let go. */
static bool put_abs(struct sdlfe *s, int x, int y, int dz)
{
    uint32_t ax, ay;
    if (!pdm_mouse_abs_active(vm_pdm(s->vm)) ||
        !sdlfe_to_abs(&s->pic, x, y, PDM_MOUSE_ABS_MAX, &ax, &ay))
        return false;
    grab(s, false);
    s->ptr_x = x;
    s->ptr_y = y;
    pdm_mouse_put_abs(vm_pdm(s->vm), ax, ay, dz, s->buttons);
    cap_error_clear(); /* a full queue drops the event, as a busy USB tablet would */
    return true;
}

static uint32_t pdm_button(Uint8 b)
{
    return b == SDL_BUTTON_LEFT     ? PDM_MOUSE_LEFT
           : b == SDL_BUTTON_RIGHT  ? PDM_MOUSE_RIGHT
           : b == SDL_BUTTON_MIDDLE ? PDM_MOUSE_MIDDLE
                                    : 0;
}

static void on_button(struct sdlfe *s, const SDL_MouseButtonEvent *b)
{
    bool down = b->type == SDL_MOUSEBUTTONDOWN;
    uint32_t before = s->buttons;
    if (down)
        s->buttons |= pdm_button(b->button);
    else
        s->buttons &= ~pdm_button(b->button);
    if (!s->grabbed && put_abs(s, b->x, b->y, 0))
        return;
    if (!s->grabbed) {
        s->buttons = before;
        if (down)
            grab(s, true); /* the click that grabs is not the guest's */
        return;
    }
    put_rel(s, 0, 0, 0);
}

static void on_motion(struct sdlfe *s, const SDL_MouseMotionEvent *m)
{
    if (put_abs(s, m->x, m->y, 0))
        return;
    if (s->grabbed)
        put_rel(s, m->xrel, m->yrel, 0);
}

static void on_wheel(struct sdlfe *s, const SDL_MouseWheelEvent *w)
{
    int dz = w->direction == SDL_MOUSEWHEEL_FLIPPED ? w->y : -w->y; /* + is towards the user */
    if (!put_abs(s, s->ptr_x, s->ptr_y, dz) && s->grabbed)
        put_rel(s, 0, 0, dz);
}

static void power_off(struct sdlfe *s, const char *why)
{
    fprintf(stderr, "capsule-vm: sdl: %s: powering the VM off\n", why);
    vm_power_off(s->vm); /* VMM_E_BAD_STATE when it is stopping already: fine */
    cap_error_clear();
}

static void on_close(struct sdlfe *s)
{
    switch (sdlfe_close(&s->close, vm_get_state(s->vm), now_ns(), s->close_wait_ms)) {
    case SDLFE_CLOSE_NOTHING:
        break;
    case SDLFE_CLOSE_POWER_OFF:
        power_off(s, s->close.presses > 1 ? "the window was closed again"
                                          : "the window was closed while the VM is paused");
        break;
    case SDLFE_CLOSE_POWER_BUTTON:
        if (CAP_FAILED(pdm_acpi_power_button(vm_pdm(s->vm)))) {
            char why[256];
            snprintf(why, sizeof(why), "the window was closed: %s",
                     cap_error_peek_message() ? cap_error_peek_message()
                                              : "the VM has no ACPI power button");
            cap_error_clear();
            power_off(s, why);
            break;
        }
        fprintf(stderr,
                "capsule-vm: sdl: the window was closed: ACPI power button pressed; the VM is "
                "powered off if the guest has not stopped in %llu s (close again: now)\n",
                (unsigned long long)(s->close_wait_ms / 1000));
        break;
    }
}

static void on_window(struct sdlfe *s, const SDL_WindowEvent *w)
{
    switch (w->event) {
    case SDL_WINDOWEVENT_CLOSE:
        on_close(s);
        break;
    case SDL_WINDOWEVENT_RESIZED:
        sdlfe_size_window(&s->size, (unsigned)w->data1, (unsigned)w->data2);
        redraw(s);
        break;
    case SDL_WINDOWEVENT_SIZE_CHANGED:
    case SDL_WINDOWEVENT_EXPOSED:
        redraw(s);
        break;
    case SDL_WINDOWEVENT_FOCUS_LOST:
        release_keys(s);
        grab(s, false);
        break;
    default:
        break;
    }
}

static void on_event(struct sdlfe *s, const SDL_Event *ev)
{
    if (ev->type == s->refresh_event) {
        refresh(s);
        return;
    }
    switch (ev->type) {
    case SDL_KEYDOWN:
    case SDL_KEYUP:
        on_key(s, &ev->key);
        break;
    case SDL_MOUSEBUTTONDOWN:
    case SDL_MOUSEBUTTONUP:
        on_button(s, &ev->button);
        break;
    case SDL_MOUSEMOTION:
        on_motion(s, &ev->motion);
        break;
    case SDL_MOUSEWHEEL:
        on_wheel(s, &ev->wheel);
        break;
    case SDL_WINDOWEVENT:
        on_window(s, &ev->window);
        break;
    default:
        break; /* SDL_QUIT follows the last window's close: on_close has it */
    }
}

/* SDL_Init, the window and its renderer; the reason into init_error. */
static bool open_window(struct sdlfe *s)
{
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    SDL_SetHint(SDL_HINT_VIDEO_ALLOW_SCREENSAVER, "1");
    /* A window a person sees: SDL would fall back to its offscreen driver
     * without a display (SDL_VIDEODRIVER, set by the user, still wins). */
    SDL_SetHintWithPriority(SDL_HINT_VIDEODRIVER, "x11,wayland", SDL_HINT_DEFAULT);
    /* SDL's software renderer (the environment's SDL_RENDER_DRIVER wins):
     * one texture copy per frame needs no GPU driver, and none of its
     * threads and memory stay behind in the VM process */
    SDL_SetHintWithPriority(SDL_HINT_RENDER_DRIVER, "software", SDL_HINT_DEFAULT);
    if (SDL_Init(SDL_INIT_VIDEO)) {
        const char *display = getenv("DISPLAY"), *driver = getenv("SDL_VIDEODRIVER");
        char what[128];
        if (display && *display)
            snprintf(what, sizeof(what), "DISPLAY is %s", display);
        else
            snprintf(what, sizeof(what), "DISPLAY is not set");
        if (driver && *driver) /* the user's choice: SDL's own words */
            snprintf(s->init_error, sizeof(s->init_error), "%s (%s)", SDL_GetError(), what);
        else
            snprintf(s->init_error, sizeof(s->init_error),
                     "no X11 or Wayland display to open it on (%s)", what);
        return false;
    }
    char title[256];
    sdlfe_title(title, sizeof(title), vm_name(s->vm), vm_get_state(s->vm), false);
    s->win = SDL_CreateWindow(title, SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, INITIAL_W,
                              INITIAL_H, SDL_WINDOW_RESIZABLE);
    if (s->win)
        s->ren = SDL_CreateRenderer(s->win, -1, 0);
    if (!s->ren) {
        snprintf(s->init_error, sizeof(s->init_error), "%s", SDL_GetError());
        return false;
    }
    SDL_StopTextInput(); /* keys are scancodes here, no input method */
    s->size.set_w = INITIAL_W;
    s->size.set_h = INITIAL_H;
    redraw(s);
    set_title(s);
    return true;
}

static void close_window(struct sdlfe *s)
{
    if (s->grabbed)
        SDL_SetRelativeMouseMode(SDL_FALSE);
    if (s->tex)
        SDL_DestroyTexture(s->tex);
    if (s->ren)
        SDL_DestroyRenderer(s->ren);
    if (s->win)
        SDL_DestroyWindow(s->win);
    /* No SDL_Quit: SDL stays initialised until the process ends (the VM
     * process detaches its frontend just before it exits). SDL_Quit would
     * unload the X11 and D-Bus libraries it opened, leaving their own
     * allocations unreferenced, which LeakSanitizer builds report. */
}

static void *window_thread(void *arg)
{
    struct sdlfe *s = arg;
    bool ok = open_window(s);
    pthread_mutex_lock(&s->lock);
    s->init_done = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    while (ok) {
        SDL_Event ev;
        if (SDL_WaitEventTimeout(&ev, STATE_POLL_MS)) {
            do
                on_event(s, &ev);
            while (SDL_PollEvent(&ev));
        }
        pthread_mutex_lock(&s->lock);
        bool quit = s->quit;
        pthread_mutex_unlock(&s->lock);
        if (quit)
            break;
        enum vm_state st = vm_get_state(s->vm);
        if (st != s->shown_state || s->grabbed != s->shown_grab)
            set_title(s);
        if (sdlfe_close_overdue(&s->close, st, now_ns())) {
            char why[128];
            snprintf(why, sizeof(why),
                     "the guest did not stop within %llu s of the ACPI power "
                     "button",
                     (unsigned long long)(s->close_wait_ms / 1000));
            s->close.deadline_ns = 0;
            power_off(s, why);
        }
    }
    close_window(s);
    return NULL;
}

/* ---- attach / detach -------------------------------------------------------------- */

static void sdl_detach(void *state)
{
    struct sdlfe *s = state;
    if (!s)
        return;
    if (s->fb_id)
        fe_display_detach(s->display, s->fb_id);
    if (s->thread_started) {
        pthread_mutex_lock(&s->lock);
        s->quit = true;
        pthread_mutex_unlock(&s->lock);
        SDL_Event ev = {.type = s->refresh_event};
        SDL_PushEvent(&ev); /* wakes it (or its STATE_POLL_MS does) */
        pthread_join(s->thread, NULL);
    }
    if (s->headless)
        headless_frontend.detach(s->headless);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s->pix);
    free(s);
}

static cap_result sdl_attach(const struct vm_frontend_env *env, void **state)
{
    *state = NULL;
    struct sdlfe *s = calloc(1, sizeof(*s));
    if (!s)
        return cap_error_set(CAP_E_OUTOFMEMORY, COMPONENT, NULL, "out of memory");
    s->vm = env->vm;
    s->display = env->display;
    s->close_wait_ms = sdlfe_close_wait_ms(getenv("CAPSULE_VM_CLOSE_WAIT"));
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->refresh_event = SDL_RegisterEvents(1);
    cap_result rc = s->refresh_event != (Uint32)-1
                        ? CAP_OK
                        : cap_error_set(CAP_E_FAIL, COMPONENT, NULL,
                                        "cannot open the VM window: no SDL user event left");
    int err = CAP_SUCCEEDED(rc) ? pthread_create(&s->thread, NULL, window_thread, s) : 0;
    if (err)
        rc = cap_error_set(CAP_E_FAIL, COMPONENT, NULL,
                           "cannot open the VM window: cannot start its thread: %s", strerror(err));
    if (CAP_FAILED(rc))
        goto fail;
    s->thread_started = true;
    pthread_mutex_lock(&s->lock);
    while (!s->init_done)
        pthread_cond_wait(&s->cond, &s->lock);
    pthread_mutex_unlock(&s->lock);
    if (s->init_error[0]) {
        rc = cap_error_set(CAP_E_FAIL, COMPONENT, NULL, "cannot open the VM window: %s",
                           s->init_error);
        goto fail;
    }
    rc = headless_frontend.attach(env, &s->headless);
    if (CAP_SUCCEEDED(rc)) {
        rc = fe_display_attach(s->display, &fb_ops, s, &s->fb_id);
        if (rc == CAP_E_NOTIMPL) {
            fprintf(stderr,
                    "capsule-vm: sdl: %s: the window stays black (keyboard and "
                    "mouse work)\n",
                    cap_error_peek_message() ? cap_error_peek_message() : "no display");
            cap_error_clear();
            s->fb_id = 0;
            rc = CAP_OK;
        }
    }
    if (CAP_FAILED(rc))
        goto fail;
    *state = s;
    return CAP_OK;
fail:;
    struct cap_error_info saved = {0};
    cap_error_take(&saved);
    sdl_detach(s);
    cap_error_set_info(&saved);
    cap_error_info_clear(&saved);
    return rc;
}

const struct vm_frontend sdl_frontend = {
    .name = "sdl",
    .description = "the VM window (SDL2): screen, keyboard, mouse; closing it presses the ACPI "
                   "power button",
    .attach = sdl_attach,
    .detach = sdl_detach,
};
