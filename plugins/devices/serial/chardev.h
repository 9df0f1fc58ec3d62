/*
 * plugins/devices/serial/chardev.h - the character backend behind a UART.
 *
 * A small byte-stream interface so that the UART model knows nothing of
 * files, terminals or sockets. Backends are chosen by a spec string:
 *   "none"         output dropped, no input
 *   "stdio"        output to stdout, input from stdin
 *   "file:PATH"    output to PATH (created/truncated), no input
 *   "unix:PATH"    connects to the stream socket PATH: output and input
 * Reads never block (the UART polls from a timer); writes of a few bytes
 * may. A backend that fails (the peer went away) drops output from then on
 * and reports it once through chardev_error.
 */
#ifndef CAPSULE_DEV_CHARDEV_H
#define CAPSULE_DEV_CHARDEV_H

#include <stddef.h>
#include <sys/types.h>

#include "pdmdev.h"

struct chardev;

struct chardev_ops {
    /* Writes all of buf; CAP_E_IO on failure. */
    cap_result (*write)(struct chardev *cd, const uint8_t *buf, size_t len);
    /* Reads up to len bytes without blocking: the count, 0 if nothing is
     * ready, -1 on end of input or error. NULL: the backend has no input. */
    ssize_t (*read)(struct chardev *cd, uint8_t *buf, size_t len);
    void (*close)(struct chardev *cd);
};

struct chardev {
    const struct chardev_ops *ops;
    int in_fd, out_fd; /* -1 when absent */
    int failed;        /* set after the first error */
};

/*
 * Opens the backend `spec`. On failure returns CAP_E_INVALIDARG (bad spec)
 * or CAP_E_IO, with a message in err. Close with chardev_close (NULL ok).
 */
cap_result chardev_open(const char *spec, char *err, size_t errlen, struct chardev **out);
void chardev_close(struct chardev *cd);

#endif
