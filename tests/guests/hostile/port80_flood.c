/*
 * port80_flood.c - a hostile guest: writes a different POST code to port
 * 0x80 on every turn, forever. port80 logs each code that differs from the
 * last, so without a limit every write was one line of capsule-vm.log
 * (issue 19, item 3). hostile.sh runs it for a bounded time and checks the
 * log's size and that the guest kept running (the port's I/O count).
 */
#include "guest.h"

const char guest_name[] = "port80-flood";

void guest_main(void)
{
    for (uint32_t i = 0;; i++)
        outb(0x80, (uint8_t)i);
}
