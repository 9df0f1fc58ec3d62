/*
 * console_input.c - IKeyboard and IMouse of the VM process's console
 * (console_input.h): what a script or a remote client types and points
 * with, into the VM's i8042 keyboard and mouse and, when the machine has
 * one, its tablet.
 *
 * The keyboard: scancodes go into the device one byte at a time; when its
 * buffer is full (pdm_keyboard_put says CAP_FALSE_RESULT, nothing taken)
 * the call waits a millisecond and tries again, so a string longer than the
 * controller's 16 bytes arrives whole and in order, at the guest's pace. A
 * guest that reads nothing for CONSOLE_INPUT_STALL_MS fails the call with
 * what was sent. Strings become scancodes through the frontends' keymap
 * (display/keymap.h, US layout), checked whole before anything is sent.
 *
 * The mouse: events go straight to the device, which coalesces motion the
 * guest has not read (pdmdev.h), so they never queue. Absolute positions
 * are screen pixels from 1 (VirtualBox's convention), scaled to the
 * tablet's 0..PDM_MOUSE_ABS_MAX with the screen's size now.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/object.h>

#include "console_input.h"
#include "display/keymap.h"
#include "pdm.h"

#define COMPONENT "capsule-vm"

/* HID usages (page 7) of the keys putCAD and releaseKeys press. */
#define USAGE_DELETE 0x4c
#define USAGE_LCTRL  0xe0
#define USAGE_LSHIFT 0xe1
#define USAGE_LALT   0xe2
#define USAGE_LGUI   0xe3
#define USAGE_RCTRL  0xe4
#define USAGE_RSHIFT 0xe5
#define USAGE_RALT   0xe6
#define USAGE_RGUI   0xe7

#define BUTTONS_KNOWN                                                                              \
    (MouseButtonState_LeftButton | MouseButtonState_RightButton | MouseButtonState_MiddleButton |  \
     MouseButtonState_WheelUp | MouseButtonState_WheelDown)

static struct console_input *impl_kbd(IKeyboard *i)
{
    return CAP_CONTAINER_OF(i, struct console_input, IKeyboard_iface);
}

static struct console_input *impl_mouse(IMouse *i)
{
    return CAP_CONTAINER_OF(i, struct console_input, IMouse_iface);
}

/* The VM if it is in one of the states `ok` allows (bit per MachineState),
 * else NULL with the state error set in *rc. */
static struct vm *vm_in(struct console_input *in, unsigned ok, const char *what, cap_result *rc)
{
    MachineState s = MachineState_Null;
    struct vm *vm = in->owner->vm(in, &s);
    if (vm && (unsigned)s < 32 && (ok & (1u << s)))
        return vm;
    *rc = in->owner->state_error(in, what);
    return NULL;
}

/* QueryInterface, AddRef and Release of interface IFACE (PREFIX_*), all
 * forwarded to the owner's object. */
#define INPUT_ISUPPORTS(PREFIX, IFACE, IMPL)                                                       \
    static cap_result PREFIX##_QueryInterface(IFACE *self, const cap_uuid *iid, void **out)        \
    {                                                                                              \
        return IMPL(self)->owner->query_interface(IMPL(self), iid, out);                           \
    }                                                                                              \
    static uint32_t PREFIX##_AddRef(IFACE *self)                                                   \
    {                                                                                              \
        return IMPL(self)->owner->add_ref(IMPL(self));                                             \
    }                                                                                              \
    static uint32_t PREFIX##_Release(IFACE *self)                                                  \
    {                                                                                              \
        return IMPL(self)->owner->release(IMPL(self));                                             \
    }

#define RUNNING        (1u << MachineState_Running)
#define RUNNING_PAUSED (RUNNING | (1u << MachineState_Paused))

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- IKeyboard ------------------------------------------------------------------- */

/* Feeds codes[0..n) into the keyboard as the guest reads them (typing
 * held). */
static cap_result feed(struct console_input *in, const uint8_t *codes, size_t n)
{
    size_t sent = 0;
    int64_t progress = now_ms(); /* when the guest last took a byte */
    cap_result rc;
    while (sent < n) {
        struct vm *vm = vm_in(in, RUNNING, "type into", &rc);
        if (!vm && sent)
            return cap_error_set(rc, COMPONENT, "IKeyboard",
                                 "the VM stopped running: %zu of %zu scancodes were sent", sent, n);
        if (!vm)
            return rc;
        rc = pdm_keyboard_put(vm_pdm(vm), codes + sent, 1);
        if (rc == CAP_OK) {
            sent++;
            progress = now_ms();
            continue;
        }
        if (rc == CAP_E_NOTIMPL)
            return cap_error_set(CAP_E_NOT_SUPPORTED, COMPONENT, "IKeyboard",
                                 "the machine has no keyboard");
        if (rc != CAP_FALSE_RESULT) {
            const char *msg = cap_error_peek_message();
            return cap_error_set(CAP_E_VM_ERROR, COMPONENT, "IKeyboard", "%s",
                                 msg ? msg : "the keyboard refused the scancodes");
        }
        if (now_ms() - progress >= CONSOLE_INPUT_STALL_MS)
            return cap_error_set(CAP_E_TIMEOUT, COMPONENT, "IKeyboard",
                                 "the guest read no key for %u s (its keyboard buffer is full): "
                                 "%zu of %zu scancodes were sent",
                                 CONSOLE_INPUT_STALL_MS / 1000, sent, n);
        sleep_ms(1);
    }
    return CAP_OK;
}

static cap_result put_codes(struct console_input *in, const uint8_t *codes, size_t n)
{
    pthread_mutex_lock(&in->typing);
    cap_result rc = feed(in, codes, n);
    pthread_mutex_unlock(&in->typing);
    return rc;
}

INPUT_ISUPPORTS(kb, IKeyboard, impl_kbd)

static cap_result bad_scancode(size_t i, int32_t v)
{
    return cap_error_set(CAP_E_INVALIDARG, COMPONENT, "IKeyboard",
                         "scancode %zu is %ld: a scancode is a byte, 0 to 255", i, (long)v);
}

static cap_result kb_PutScancode(IKeyboard *self, int32_t scancode)
{
    if (scancode < 0 || scancode > 255)
        return bad_scancode(0, scancode);
    uint8_t b = (uint8_t)scancode;
    return put_codes(impl_kbd(self), &b, 1);
}

static cap_result kb_PutScancodes(IKeyboard *self, uint32_t n, const int32_t *scancodes,
                                  uint32_t *stored)
{
    if (!stored || (n && !scancodes))
        return CAP_E_POINTER;
    *stored = 0;
    if (n > CONSOLE_INPUT_MAX_CODES)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, "IKeyboard",
                             "%u scancodes in one call: at most %u (send more in several calls)",
                             (unsigned)n, CONSOLE_INPUT_MAX_CODES);
    uint8_t codes[CONSOLE_INPUT_MAX_CODES];
    for (uint32_t i = 0; i < n; i++) {
        if (scancodes[i] < 0 || scancodes[i] > 255)
            return bad_scancode(i, scancodes[i]);
        codes[i] = (uint8_t)scancodes[i];
    }
    cap_result rc = put_codes(impl_kbd(self), codes, n);
    if (CAP_SUCCEEDED(rc))
        *stored = n;
    return rc;
}

static cap_result kb_PutString(IKeyboard *self, const char *text)
{
    if (!text)
        return CAP_E_POINTER;
    size_t len = strlen(text);
    if (len > CONSOLE_INPUT_MAX_TEXT)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, "IKeyboard",
                             "a text of %zu characters: at most %u in one call (send more in "
                             "several calls)",
                             len, CONSOLE_INPUT_MAX_TEXT);
    uint8_t codes[CONSOLE_INPUT_MAX_CODES];
    size_t bad = 0;
    long n = keymap_text_to_set1(text, codes, sizeof(codes), &bad);
    if (n < 0)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, "IKeyboard",
                             "character %zu of the text (byte 0x%02x) is typed by no key of the "
                             "US layout: printable ASCII, newline and tab are",
                             bad + 1, (unsigned)(unsigned char)text[bad]);
    if ((size_t)n > sizeof(codes))
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, "IKeyboard",
                             "the text makes %ld scancodes: at most %u in one call", n,
                             CONSOLE_INPUT_MAX_CODES);
    return put_codes(impl_kbd(self), codes, (size_t)n);
}

/* The set-1 bytes of pressing or releasing `usage` appended at codes + *n. */
static void key(uint16_t usage, int down, uint8_t *codes, size_t *n)
{
    *n += keymap_usage_to_set1(usage, down, codes + *n);
}

static cap_result kb_PutCAD(IKeyboard *self)
{
    static const uint16_t keys[] = {USAGE_LCTRL, USAGE_LALT, USAGE_DELETE};
    uint8_t codes[2 * 3 * KEYMAP_MAX_CODES];
    size_t n = 0;
    for (size_t i = 0; i < 3; i++)
        key(keys[i], 1, codes, &n);
    for (size_t i = 3; i-- > 0;)
        key(keys[i], 0, codes, &n);
    return put_codes(impl_kbd(self), codes, n);
}

static cap_result kb_ReleaseKeys(IKeyboard *self)
{
    static const uint16_t mods[] = {USAGE_LSHIFT, USAGE_RSHIFT, USAGE_LCTRL, USAGE_RCTRL,
                                    USAGE_LALT,   USAGE_RALT,   USAGE_LGUI,  USAGE_RGUI};
    uint8_t codes[8 * KEYMAP_MAX_CODES];
    size_t n = 0;
    for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++)
        key(mods[i], 0, codes, &n);
    return put_codes(impl_kbd(self), codes, n);
}

static const struct IKeyboardVtbl keyboard_vtbl = {
    .QueryInterface = kb_QueryInterface,
    .AddRef = kb_AddRef,
    .Release = kb_Release,
    .PutScancode = kb_PutScancode,
    .PutScancodes = kb_PutScancodes,
    .PutString = kb_PutString,
    .PutCAD = kb_PutCAD,
    .ReleaseKeys = kb_ReleaseKeys,
};

/* ---- IMouse ------------------------------------------------------------------------ */

INPUT_ISUPPORTS(ms, IMouse, impl_mouse)

static cap_result supported(IMouse *self, const char *iface, cap_bool *out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = CAP_FALSE;
    cap_result rc = CAP_OK;
    struct vm *vm = vm_in(impl_mouse(self), RUNNING_PAUSED, "ask about the mouse of", &rc);
    if (vm && pdm_query_interface(vm_pdm(vm), NULL, 0, iface))
        *out = CAP_TRUE;
    return rc;
}

static cap_result ms_GetAbsoluteSupported(IMouse *self, cap_bool *out)
{
    return supported(self, PDM_IFACE_MOUSE_ABS, out);
}

static cap_result ms_GetRelativeSupported(IMouse *self, cap_bool *out)
{
    return supported(self, PDM_IFACE_MOUSE, out);
}

/* Checks dw and the buttons; *dz gets the wheel steps of the button bits
 * added (saturating) and *buttons the PDM_MOUSE_* bits. */
static cap_result event_args(int32_t *dz, int32_t dw, int32_t state, uint32_t *buttons)
{
    if ((uint32_t)state & ~(uint32_t)BUTTONS_KNOWN)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, "IMouse",
                             "buttonState 0x%x: only the MouseButtonState bits 0x%x exist",
                             (unsigned)state, (unsigned)BUTTONS_KNOWN);
    if (dw != 0)
        return cap_error_set(CAP_E_NOT_SUPPORTED, COMPONENT, "IMouse",
                             "dw %ld: the VM's pointing devices have no horizontal wheel",
                             (long)dw);
    int64_t z = (int64_t)*dz + ((state & MouseButtonState_WheelDown) ? 1 : 0) -
                ((state & MouseButtonState_WheelUp) ? 1 : 0);
    *dz = z > INT32_MAX ? INT32_MAX : z < INT32_MIN ? INT32_MIN : (int32_t)z;
    *buttons = (uint32_t)state & PDM_MOUSE_BUTTONS;
    return CAP_OK;
}

/* An event's checks (event_args) and the VM it goes to, running or paused
 * (NULL with *rc set otherwise). */
static struct vm *event_vm(IMouse *self, int32_t *dz, int32_t dw, int32_t state, uint32_t *buttons,
                           cap_result *rc)
{
    *rc = event_args(dz, dw, state, buttons);
    return CAP_SUCCEEDED(*rc) ? vm_in(impl_mouse(self), RUNNING_PAUSED, "move the mouse of", rc)
                              : NULL;
}

/* A PDM failure of a pointer event as an API error. */
static cap_result pointer_error(cap_result rc, const char *none)
{
    if (rc == CAP_E_NOTIMPL)
        return cap_error_set(CAP_E_NOT_SUPPORTED, COMPONENT, "IMouse", "%s", none);
    const char *msg = cap_error_peek_message();
    return cap_error_set(rc == CAP_E_INVALIDARG ? rc : CAP_E_VM_ERROR, COMPONENT, "IMouse", "%s",
                         msg ? msg : "the pointing device refused the event");
}

static cap_result ms_PutMouseEvent(IMouse *self, int32_t dx, int32_t dy, int32_t dz, int32_t dw,
                                   int32_t state)
{
    uint32_t buttons = 0;
    cap_result rc;
    struct vm *vm = event_vm(self, &dz, dw, state, &buttons, &rc);
    if (!vm)
        return rc;
    rc = pdm_mouse_put(vm_pdm(vm), dx, dy, dz, buttons);
    return CAP_FAILED(rc) ? pointer_error(rc, "the machine has no mouse") : CAP_OK;
}

uint32_t console_input_to_abs(int32_t p, unsigned size)
{
    if (p < 1 || size < 2)
        return 0;
    if ((unsigned)p >= size)
        return PDM_MOUSE_ABS_MAX;
    return (uint32_t)(((uint64_t)(p - 1) * PDM_MOUSE_ABS_MAX + (size - 1) / 2) / (size - 1));
}

static cap_result ms_PutMouseEventAbsolute(IMouse *self, int32_t x, int32_t y, int32_t dz,
                                           int32_t dw, int32_t state)
{
    static const char no_tablet[] =
        "the machine has no absolute pointing device (no tablet): putMouseEvent moves its "
        "PS/2 mouse by relative steps";
    uint32_t buttons = 0;
    cap_result rc;
    struct vm *vm = event_vm(self, &dz, dw, state, &buttons, &rc);
    if (!vm)
        return rc;
    struct pdm *pdm = vm_pdm(vm);
    if (!pdm_query_interface(pdm, NULL, 0, PDM_IFACE_MOUSE_ABS))
        return cap_error_set(CAP_E_NOT_SUPPORTED, COMPONENT, "IMouse", "%s", no_tablet);
    /* The screen's size now (the snapshot is a copy: cheap next to IPC). */
    uint32_t *pixels = NULL;
    unsigned w = 0, h = 0;
    rc = pdm_display_snapshot(pdm, &pixels, &w, &h);
    cap_free(pixels);
    if (rc == CAP_E_NOTIMPL)
        return cap_error_set(CAP_E_NOT_SUPPORTED, COMPONENT, "IMouse",
                             "the machine has no display: absolute positions are in its pixels");
    if (CAP_FAILED(rc))
        return pointer_error(rc, "the machine has no display");
    rc =
        pdm_mouse_put_abs(pdm, console_input_to_abs(x, w), console_input_to_abs(y, h), dz, buttons);
    return CAP_FAILED(rc) ? pointer_error(rc, no_tablet) : CAP_OK;
}

static const struct IMouseVtbl mouse_vtbl = {
    .QueryInterface = ms_QueryInterface,
    .AddRef = ms_AddRef,
    .Release = ms_Release,
    .GetAbsoluteSupported = ms_GetAbsoluteSupported,
    .GetRelativeSupported = ms_GetRelativeSupported,
    .PutMouseEvent = ms_PutMouseEvent,
    .PutMouseEventAbsolute = ms_PutMouseEventAbsolute,
};

void console_input_init(struct console_input *in, const struct console_input_owner *owner)
{
    in->IKeyboard_iface.vtbl = &keyboard_vtbl;
    in->IMouse_iface.vtbl = &mouse_vtbl;
    in->owner = owner;
    pthread_mutex_init(&in->typing, NULL);
}

void console_input_fini(struct console_input *in)
{
    pthread_mutex_destroy(&in->typing);
}
