/* plugins/frontends/headless/headless.h - the headless frontend's table. */
#ifndef PLUGINS_FRONTENDS_HEADLESS_H
#define PLUGINS_FRONTENDS_HEADLESS_H

#include "frontend.h"

extern const struct vm_frontend headless_frontend;

#endif
