/*
 * tests/integration/xclose.c - `xclose WINDOW-ID`: asks an X window to
 * close the way a window manager's close button does (ICCCM: a
 * WM_PROTOCOLS client message carrying WM_DELETE_WINDOW), on the display
 * DISPLAY names. For sdl.sh, which runs under Xvfb without a window
 * manager (xdotool's windowclose destroys the window instead, which no
 * application expects). Exit status 0 when sent, 1 on an error (said).
 */
#include <stdio.h>
#include <stdlib.h>

#include <X11/Xlib.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: xclose WINDOW-ID\n");
        return 2;
    }
    char *end;
    unsigned long id = strtoul(argv[1], &end, 0);
    if (!*argv[1] || *end || !id) {
        fprintf(stderr, "xclose: '%s' is not a window id\n", argv[1]);
        return 2;
    }
    Display *d = XOpenDisplay(NULL);
    if (!d) {
        fprintf(stderr, "xclose: cannot open the display '%s'\n", XDisplayName(NULL));
        return 1;
    }
    XEvent ev = {0};
    ev.xclient.type = ClientMessage;
    ev.xclient.window = (Window)id;
    ev.xclient.message_type = XInternAtom(d, "WM_PROTOCOLS", False);
    ev.xclient.format = 32;
    ev.xclient.data.l[0] = (long)XInternAtom(d, "WM_DELETE_WINDOW", False);
    ev.xclient.data.l[1] = CurrentTime;
    Status ok = XSendEvent(d, (Window)id, False, NoEventMask, &ev);
    XSync(d, False);
    XCloseDisplay(d);
    if (!ok) {
        fprintf(stderr, "xclose: cannot send to window %s\n", argv[1]);
        return 1;
    }
    return 0;
}
