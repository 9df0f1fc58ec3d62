/*
 * reset_loop.c - a hostile guest: resets the machine through the i8042
 * (command 0xfe on port 0x64, the pulse on the CPU's reset line) as soon
 * as it runs. capsule-vm reloads the image after each reset, so this is a
 * reset loop: tens of thousands a second, each one logged without a limit
 * (issue 19, item 3). A POST code first, so port80's "first code after a
 * reset" line comes with every turn as well.
 */
#include "guest.h"

const char guest_name[] = "reset-loop";

void guest_main(void)
{
    outb(0x80, 0x5a);
    for (;;)
        outb(0x64, 0xfe);
}
