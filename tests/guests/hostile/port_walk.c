/*
 * port_walk.c - a hostile guest: writes to a new unclaimed I/O port each
 * time (0x1000..0xffff, above every device of the default PC), then resets
 * and walks them again. IOM says each unclaimed port once, so one walk
 * alone was 61,440 lines; if "once" started over at each reset, each walk
 * would be as many again (issue 19, item 3).
 */
#include "guest.h"

const char guest_name[] = "port-walk";

void guest_main(void)
{
    for (uint32_t p = 0x1000; p <= 0xffff; p++)
        outb((uint16_t)p, 0);
    for (;;)
        outb(0x64, 0xfe);
}
