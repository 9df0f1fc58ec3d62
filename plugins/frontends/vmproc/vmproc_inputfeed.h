/*
 * plugins/frontends/vmproc/vmproc_inputfeed.h - capsule-vm --input-feed
 * PATH: keyboard and pointer input for the guest from a file or a FIFO,
 * line by line while the VM runs - a way for scripts and tests to drive
 * the input devices (the i8042's keyboard and mouse, the virtio tablet)
 * without a display frontend. Lines:
 *   abs X Y [DZ [BUTTONS]]  pdm_mouse_put_abs: X, Y in 0..32767, DZ the
 *                           wheel (positive towards the user), BUTTONS
 *                           PDM_MOUSE_* bits (1 left, 2 right, 4 middle)
 *   rel DX DY [DZ [BUTTONS]] pdm_mouse_put: relative motion
 *   keys HEX...             pdm_keyboard_put: set-1 scancode bytes
 *   save FILE               pauses the VM, writes its saved state to FILE
 *                           (vm_save_state: verified after writing) and
 *                           powers it off; on failure the VM resumes
 * Empty lines and lines starting with '#' are skipped. A line that does not
 * parse, or that the VM refuses (no such device, out of range), is said on
 * stderr ("capsule-vm: input feed: line N: ...") and skipped. A regular
 * file is read to its end; a FIFO until the VM ends (it is opened for
 * writing too, so that writers may come and go).
 */
#ifndef PLUGINS_FRONTENDS_VMPROC_INPUTFEED_H
#define PLUGINS_FRONTENDS_VMPROC_INPUTFEED_H

#include <capsule/result.h>

#include "em/em.h"

struct inputfeed;

/* Opens `path` and starts the thread that feeds `vm`'s devices. Error
 * info names the file. `vm` must outlive the feed. */
cap_result vmproc_inputfeed_start(struct vm *vm, const char *path, struct inputfeed **out);

/* Stops the thread and closes the file; NULL is fine. */
void vmproc_inputfeed_stop(struct inputfeed *f);

/* One line (no newline) to `vm`: CAP_OK, or the error with *why set to a
 * message (static or error info's). Exposed for the unit test. */
cap_result vmproc_inputfeed_line(struct vm *vm, const char *line, const char **why);

#endif
