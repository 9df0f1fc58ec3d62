/* vmproc_frontends.h - the built-in frontend table (vmproc_frontends.c). */
#ifndef PLUGINS_FRONTENDS_VMPROC_FRONTENDS_H
#define PLUGINS_FRONTENDS_VMPROC_FRONTENDS_H

#include <stddef.h>

#include "frontend.h"

/* The frontend called `name` (or one of its other names: "gui" is "sdl"),
 * or NULL. */
const struct vm_frontend *vmproc_find_frontend(const char *name);
/* The names vmproc_find_frontend knows, for messages ("headless, sdl,
 * gui"), written into buf (truncated to len); returns buf. */
const char *vmproc_frontend_names(char *buf, size_t len);

#endif
