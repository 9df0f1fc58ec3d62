/*
 * vmproc_frontends.c - the frontends capsule-vm knows, listed explicitly
 * (add a row when a frontend arrives), and their other names: "gui" is the
 * SDL window until a main-window GUI exists (as VirtualBox's startvm
 * --type gui).
 */
#include <stdio.h>
#include <string.h>

#include "headless/headless.h"
#include "sdl/sdl.h"
#include "vmproc_frontends.h"

static const struct vm_frontend *const frontends[] = {
    &headless_frontend,
    &sdl_frontend,
};

static const struct {
    const char *alias, *name;
} aliases[] = {
    {"gui", "sdl"},
};

const struct vm_frontend *vmproc_find_frontend(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
        if (!strcmp(aliases[i].alias, name))
            name = aliases[i].name;
    for (size_t i = 0; i < sizeof(frontends) / sizeof(frontends[0]); i++)
        if (!strcmp(frontends[i]->name, name))
            return frontends[i];
    return NULL;
}

const char *vmproc_frontend_names(char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(frontends) / sizeof(frontends[0]) && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "", frontends[i]->name);
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]) && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, ", %s", aliases[i].alias);
    return buf;
}
