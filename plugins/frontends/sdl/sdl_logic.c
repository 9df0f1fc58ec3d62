/*
 * plugins/frontends/sdl/sdl_logic.c - the SDL frontend's decisions that
 * need no SDL (sdl_internal.h): title, picture placement, pointer
 * coordinates, key filtering, window sizing, the close policy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdl_internal.h"

#define CLOSE_WAIT_DEFAULT_MS 10000u
#define CLOSE_WAIT_MAX_S      3600u

static const char *state_word(enum vm_state s)
{
    switch (s) {
    case VM_STATE_CREATED:
        return "Starting";
    case VM_STATE_RUNNING:
        return "Running";
    case VM_STATE_PAUSED:
        return "Paused";
    case VM_STATE_POWERED_OFF:
        return "Powered Off";
    case VM_STATE_ABORTED:
        return "Aborted";
    }
    return "Unknown";
}

void sdlfe_title(char *buf, size_t len, const char *name, enum vm_state state, bool grabbed)
{
    snprintf(buf, len, "%s [%s] - Capsule%s", name && *name ? name : "capsule-vm",
             state_word(state), grabbed ? " - " SDLFE_HOST_KEY_NAME " releases the mouse" : "");
}

void sdlfe_fit(unsigned ww, unsigned wh, unsigned pw, unsigned ph, struct sdlfe_rect *out)
{
    *out = (struct sdlfe_rect){0, 0, 0, 0};
    if (!ww || !wh || !pw || !ph)
        return;
    /* the picture's width at the window's height, or its height at the
     * window's width, whichever fits (64-bit: no overflow) */
    uint64_t w = (uint64_t)pw * wh / ph, h = wh;
    if (w > ww) {
        w = ww;
        h = (uint64_t)ph * ww / pw;
    }
    if (!w)
        w = 1;
    if (!h)
        h = 1;
    out->w = (int)w;
    out->h = (int)h;
    out->x = (int)((ww - w) / 2);
    out->y = (int)((wh - h) / 2);
}

static uint32_t axis(int v, int origin, int size, uint32_t max)
{
    int64_t d = (int64_t)v - origin;
    if (d < 0)
        d = 0;
    if (d > size - 1)
        d = size - 1;
    /* the last pixel maps to max */
    return size > 1 ? (uint32_t)((uint64_t)d * max / (uint64_t)(size - 1)) : 0;
}

bool sdlfe_to_abs(const struct sdlfe_rect *pic, int x, int y, uint32_t max, uint32_t *ax,
                  uint32_t *ay)
{
    if (pic->w <= 0 || pic->h <= 0)
        return false;
    *ax = axis(x, pic->x, pic->w, max);
    *ay = axis(y, pic->y, pic->h, max);
    return true;
}

void sdlfe_rect_union(struct sdlfe_rect *acc, const struct sdlfe_rect *r)
{
    if (r->w <= 0 || r->h <= 0)
        return;
    if (acc->w <= 0 || acc->h <= 0) {
        *acc = *r;
        return;
    }
    int x1 = acc->x + acc->w > r->x + r->w ? acc->x + acc->w : r->x + r->w;
    int y1 = acc->y + acc->h > r->y + r->h ? acc->y + acc->h : r->y + r->h;
    acc->x = acc->x < r->x ? acc->x : r->x;
    acc->y = acc->y < r->y ? acc->y : r->y;
    acc->w = x1 - acc->x;
    acc->h = y1 - acc->y;
}

enum sdlfe_key_action sdlfe_key(struct sdlfe_keys *k, unsigned usage, bool down)
{
    if (usage == SDLFE_HOST_KEY)
        return SDLFE_KEY_HOST;
    if (!usage || usage >= sizeof(k->down) * 8)
        return SDLFE_KEY_IGNORE;
    uint8_t bit = (uint8_t)(1u << (usage % 8));
    if (down) {
        k->down[usage / 8] |= bit;
        return SDLFE_KEY_GUEST;
    }
    if (!(k->down[usage / 8] & bit))
        return SDLFE_KEY_IGNORE;
    k->down[usage / 8] &= (uint8_t)~bit;
    return SDLFE_KEY_GUEST;
}

size_t sdlfe_keys_release_all(struct sdlfe_keys *k, uint16_t *usages, size_t max)
{
    size_t n = 0;
    for (unsigned u = 0; u < sizeof(k->down) * 8; u++)
        if (k->down[u / 8] & (1u << (u % 8)) && n < max)
            usages[n++] = (uint16_t)u;
    memset(k->down, 0, sizeof(k->down));
    return n;
}

bool sdlfe_size_guest(struct sdlfe_size *s, unsigned pw, unsigned ph, unsigned max_w,
                      unsigned max_h, unsigned *w, unsigned *h)
{
    if (s->user_sized || !pw || !ph)
        return false;
    *w = pw;
    *h = ph;
    if (max_w && max_h && (pw > max_w || ph > max_h)) {
        struct sdlfe_rect r;
        sdlfe_fit(max_w, max_h, pw, ph, &r);
        *w = (unsigned)r.w;
        *h = (unsigned)r.h;
    }
    if (*w < SDLFE_MIN_W)
        *w = SDLFE_MIN_W;
    if (*h < SDLFE_MIN_H)
        *h = SDLFE_MIN_H;
    s->set_w = *w;
    s->set_h = *h;
    return true;
}

void sdlfe_size_window(struct sdlfe_size *s, unsigned w, unsigned h)
{
    if (w != s->set_w || h != s->set_h)
        s->user_sized = true;
}

enum sdlfe_close_action sdlfe_close(struct sdlfe_close *c, enum vm_state state, uint64_t now_ns,
                                    uint64_t wait_ms)
{
    if (state != VM_STATE_RUNNING && state != VM_STATE_PAUSED && state != VM_STATE_CREATED)
        return SDLFE_CLOSE_NOTHING;
    if (c->presses++ || state != VM_STATE_RUNNING)
        return SDLFE_CLOSE_POWER_OFF;
    c->deadline_ns = now_ns + wait_ms * 1000000u;
    return SDLFE_CLOSE_POWER_BUTTON;
}

bool sdlfe_close_overdue(const struct sdlfe_close *c, enum vm_state state, uint64_t now_ns)
{
    return c->deadline_ns && now_ns >= c->deadline_ns &&
           (state == VM_STATE_RUNNING || state == VM_STATE_PAUSED);
}

uint64_t sdlfe_close_wait_ms(const char *text)
{
    if (!text || *text < '0' || *text > '9')
        return CLOSE_WAIT_DEFAULT_MS;
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || *end || v > CLOSE_WAIT_MAX_S)
        return CLOSE_WAIT_DEFAULT_MS;
    return (uint64_t)v * 1000u;
}
