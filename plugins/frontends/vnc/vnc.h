/*
 * plugins/frontends/vnc/vnc.h - the VM process's remote display server
 * (VirtualBox's VRDE; here VNC, RFB 3.8, through Debian's libvncserver).
 *
 * The server runs beside whatever frontend capsule-vm runs (headless,
 * sdl): it is a framebuffer of the display hub (display.h), so what the
 * clients see is the hub's picture, sent from the dirty rectangles the
 * display device reports; and it turns the clients' key and pointer
 * events into the guest's keyboard (PC scancode set 1, through keymap.h)
 * and pointing device (the tablet while its guest driver takes events,
 * else the PS/2 mouse with relative motion). Several clients at once
 * share the screen and the input.
 *
 * Threads: one of its own (the event loop: accepts clients, reads their
 * messages, encodes and sends updates; the only one that calls
 * libvncserver); the hub's refresh thread copies what changed into a
 * stage the loop takes it from. vnc_server_start and vnc_server_stop are
 * called from one controlling thread (capsule-vm's main thread or its
 * console), never from the hub's callbacks.
 */
#ifndef PLUGINS_FRONTENDS_VNC_H
#define PLUGINS_FRONTENDS_VNC_H

#include <stddef.h>
#include <stdint.h>

#include <capsule/result.h>

struct vm;
struct fe_display;
struct vnc_server;

/* The default address: only this host's clients reach the server unless
 * an address is given (VirtualBox's VRDE binds to every address; a VNC
 * password is weak, so Capsule is stricter). */
#define VNC_DEFAULT_ADDRESS "127.0.0.1"
/* Connections at once (authenticated or not); more are refused, so that a
 * client cannot make the server spend without bound. */
#define VNC_MAX_CLIENTS 16
/* VNC authentication uses the first 8 bytes of the password (RFB 3.8). */
#define VNC_PASSWORD_MAX 8

struct vnc_config {
    /* the TCP port: 1..65535, or 0 for a free port the kernel picks
     * (vnc_server_port says which) */
    unsigned port;
    /* a numeric IPv4 address to listen on ("0.0.0.0": all); NULL or "":
     * VNC_DEFAULT_ADDRESS */
    const char *address;
    /* NULL or "": no authentication (anyone who reaches the port sees the
     * screen and types); else VNC authentication with this password
     * (copied at start; only its first VNC_PASSWORD_MAX bytes count) */
    const char *password;
};

/*
 * Parses capsule-vm's `--vrde SPEC`: "port=N[,address=A]
 * [,password-file=PATH]" in any order (port required, 0..65535).
 * cfg->address points into `spec`, which is modified (commas become NULs)
 * and must outlive cfg; *password_file too (NULL when not given). Returns
 * 0, or -1 with the reason in err[errlen].
 */
int vnc_parse_spec(char *spec, struct vnc_config *cfg, const char **password_file, char *err,
                   size_t errlen);

/*
 * Reads the password from `path`: its first line (without the newline).
 * The file must be a regular file that only its owner may read or write
 * (mode 0600 or stricter), so a password never sits where others read it.
 * *out (free()) gets it. Error info names the file and the reason.
 */
cap_result vnc_read_password_file(const char *path, char **out);

/*
 * Starts the server for `vm`'s display `disp` (owned by the caller; it
 * must outlive the server) as `cfg` says: listens, attaches to the hub and
 * starts the event-loop thread. Errors (error info): CAP_E_INVALIDARG for
 * a bad address, CAP_E_FAIL when the port cannot be bound (in use: the
 * message says so), CAP_E_NOTIMPL for a machine with no display.
 */
cap_result vnc_server_start(struct vm *vm, struct fe_display *disp, const struct vnc_config *cfg,
                            struct vnc_server **out);

/* The TCP port the server listens on (the one picked for port 0). */
unsigned vnc_server_port(const struct vnc_server *s);

/*
 * Stops the server: detaches from the hub, disconnects every client (keys
 * they hold are released in the guest first), stops the thread, frees
 * everything. NULL is fine.
 */
void vnc_server_stop(struct vnc_server *s);

#endif /* PLUGINS_FRONTENDS_VNC_H */
