/*
 * serial_server.h - a serial port in "server" host mode (PortMode Server):
 * the VM process listens on a Unix socket at the port's path; a client
 * that connects (e.g. `socat - UNIX-CONNECT:PATH`) gets the guest's output
 * and sends input. The UART device plugin itself only connects to a socket
 * (backend "unix:PATH"), so this relays: the device connects to a private
 * socket in a fresh 0700 folder, one thread copies bytes between it and
 * the client of the public socket (one client at a time, the newest wins;
 * output while nobody is connected is dropped, like a real line).
 */
#ifndef PLUGINS_FRONTENDS_VMPROC_SERIAL_SERVER_H
#define PLUGINS_FRONTENDS_VMPROC_SERIAL_SERVER_H

#include <capsule/result.h>

struct serial_server;

/* Listens on `path` (a stale socket there is replaced; any other file is
 * an error) and starts the relay. Error info: CAP_E_IO with the path. */
cap_result serial_server_create(const char *path, struct serial_server **out);
/* The backend spec for the UART ("unix:PRIVATE"), valid until destroy. */
const char *serial_server_device_spec(struct serial_server *s);
/* Stops the relay, closes and removes both sockets. NULL is fine. */
void serial_server_destroy(struct serial_server *s);

#endif
