/* vmproc_frontends.h - the built-in frontend table (vmproc_frontends.c). */
#ifndef PLUGINS_FRONTENDS_VMPROC_FRONTENDS_H
#define PLUGINS_FRONTENDS_VMPROC_FRONTENDS_H

#include "frontend.h"

/* The frontend called `name`, or NULL. */
const struct vm_frontend *vmproc_find_frontend(const char *name);

#endif
