/*
 * vmproc_frontends.c - the frontends capsule-vm knows, listed explicitly
 * (add a row when a frontend arrives: vnc, sdl).
 */
#include <string.h>

#include "headless/headless.h"
#include "vmproc_frontends.h"

static const struct vm_frontend *const frontends[] = {
    &headless_frontend,
};

const struct vm_frontend *vmproc_find_frontend(const char *name)
{
    for (size_t i = 0; i < sizeof(frontends) / sizeof(frontends[0]); i++)
        if (name && !strcmp(frontends[i]->name, name))
            return frontends[i];
    return NULL;
}
