/*
 * plugins/frontends/vmproc/console_input.h - IKeyboard and IMouse of the
 * VM process (console_input.c): scancodes, strings typed with the US
 * layout, Ctrl-Alt-Del, relative and absolute pointer events, sent to the
 * VM's devices through PDM (pdm_keyboard_put, pdm_mouse_put,
 * pdm_mouse_put_abs).
 *
 * Like the debugger (debugger.h), the two interfaces belong to their
 * owner's object (the console, console.c): they share its identity and
 * reference count and reach the VM only through the owner's hooks, so the
 * dependency runs one way (console.c -> console_input.c).
 *
 * Bounded input: a call carries at most CONSOLE_INPUT_MAX_CODES scancodes
 * (a longer array or string is refused, nothing sent), and they go into the
 * keyboard only as fast as the guest reads them (the i8042 takes a key's
 * bytes whole or not at all); the caller's thread waits meanwhile, so
 * nothing queues up in the VM process beyond the one call.
 */
#ifndef PLUGINS_FRONTENDS_VMPROC_CONSOLE_INPUT_H
#define PLUGINS_FRONTENDS_VMPROC_CONSOLE_INPUT_H

#include <pthread.h>

#include <capsule/capsule.h>

#include "vmproc.h"

/* The most scancodes one IKeyboard call sends (the IDL says so too). */
#define CONSOLE_INPUT_MAX_CODES 4096
/* The longest text putString takes (each character is at most 4 codes). */
#define CONSOLE_INPUT_MAX_TEXT (CONSOLE_INPUT_MAX_CODES / 4)
/* A guest that reads no scancode for this long fails the call. */
#define CONSOLE_INPUT_STALL_MS 5000

struct console_input;

/* What the owner gives; each hook gets the console_input it was given to
 * (the owner finds itself with CAP_CONTAINER_OF). */
struct console_input_owner {
    /* ISupports of the owner's object. */
    cap_result (*query_interface)(struct console_input *in, const cap_uuid *iid, void **out);
    uint32_t (*add_ref)(struct console_input *in);
    uint32_t (*release)(struct console_input *in);
    /* The VM (NULL before power-up) and the machine's state now. The VM
     * stays valid while the owner's object lives (the caller is in one of
     * its methods). */
    struct vm *(*vm)(struct console_input *in, MachineState *state);
    /* CAP_E_INVALID_VM_STATE with "cannot WHAT a VM that is STATE". */
    cap_result (*state_error)(struct console_input *in, const char *what);
};

/* Embedded in the owner's object: console_input_init before first use,
 * console_input_fini when the object dies. */
struct console_input {
    IKeyboard IKeyboard_iface;
    IMouse IMouse_iface;
    const struct console_input_owner *owner;
    pthread_mutex_t typing; /* one keyboard call feeds the keyboard at a time */
};

/* Pixel `p` (1-based, IMouse's putMouseEventAbsolute) of a screen `size`
 * pixels long on the tablet's axis (pdm_mouse_put_abs): the first pixel is
 * 0, the last PDM_MOUSE_ABS_MAX, rounded to the nearest; a position beyond
 * the screen is its edge. */
uint32_t console_input_to_abs(int32_t p, unsigned size);

void console_input_init(struct console_input *in, const struct console_input_owner *owner);
void console_input_fini(struct console_input *in);

#endif /* PLUGINS_FRONTENDS_VMPROC_CONSOLE_INPUT_H */
