/*
 * ipctest_impl.h - the IPC tests' objects: the server root (IIpcTest) and a
 * client callback (ICallback), both plain in-process C objects.
 */
#ifndef IPCTEST_IMPL_H
#define IPCTEST_IMPL_H

#include <capsule/captest.h>

/* A new root object (count 1). */
IIpcTest *ipctest_new(void);
/* Objects of either kind alive (leak checks). */
uint32_t ipctest_live(void);

/* A new callback; with depth > 0 it calls server->CallBack(self, depth-1).
 * `server` may be NULL (no nesting); it is AddRef'ed. */
ICallback *callback_new(IIpcTest *server);
/* Calls received by callbacks of this process. */
uint32_t callback_calls(void);

#endif
