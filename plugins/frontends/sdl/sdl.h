/*
 * plugins/frontends/sdl/sdl.h - the VM window (VirtualBox's VBoxSDL): an
 * SDL2 window with the guest's screen, keyboard and mouse, run by
 * capsule-vm as frontend "sdl" (`capsule-vm --display sdl`, `capsule
 * startvm VM --type sdl|gui`).
 *
 * What it does (sdl.c has the threads):
 *  - opens a window on DISPLAY titled "NAME [State] - Capsule" (vm_name,
 *    the VM's state, polled), showing the guest's screen (the display
 *    hub, display/display.h) scaled to the window, aspect kept; the window
 *    follows the guest's resolution until the user resizes it;
 *  - keys: SDL's scancodes are USB HID usages, sent to the guest's
 *    keyboard as set-1 scancodes (display/keymap.h, pdm_keyboard_put);
 *    the host key, Right Ctrl, releases the mouse and never reaches the
 *    guest; keys held when the window loses the focus are released;
 *  - mouse: absolute (pdm_mouse_put_abs) while the guest's tablet driver
 *    takes events (pdm_mouse_abs_active), else relative: a click grabs the
 *    pointer (SDL's relative mode), the host key releases it;
 *  - closing the window presses the ACPI power button; a guest without
 *    one, a paused VM, a second close or a guest still running
 *    CAPSULE_VM_CLOSE_WAIT seconds (default 10) later is powered off
 *    (said on stderr);
 *  - SIGINT, SIGTERM and SIGHUP power the VM off (as headless).
 * attach fails with "cannot open the VM window: ..." when SDL cannot open
 * a window (no DISPLAY): capsule-vm exits as for any setup failure.
 *
 * Not handled yet: when the X server goes away, Xlib ends the process
 * (status 1) without powering the VM off - as VirtualBox's VM window
 * process ends. Catching it needs every X connection SDL opens, one of
 * which (its wake-up connection) SDL does not show.
 */
#ifndef PLUGINS_FRONTENDS_SDL_H
#define PLUGINS_FRONTENDS_SDL_H

#include "frontend.h"

extern const struct vm_frontend sdl_frontend;

#endif /* PLUGINS_FRONTENDS_SDL_H */
