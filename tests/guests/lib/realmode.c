/* realmode.c - realmode_call(): see guest.h and realmode_switch.S. */
#include "guest.h"

extern const char rm_tramp_start[], rm_tramp_end[], rm_target[];
void realmode_enter(void);

void realmode_call(const void *blob, size_t len, uint16_t entry)
{
    if (read_cr0() & CR0_PG)
        guest_fail("realmode_call with paging on");
    if (len > 0x8000)
        guest_fail("realmode_call: %u bytes of 16-bit code is too much", (unsigned)len);
    memcpy((void *)REALMODE_TRAMP, rm_tramp_start, (size_t)(rm_tramp_end - rm_tramp_start));
    memcpy((void *)REALMODE_BASE, blob, len);
    uint16_t *t = (uint16_t *)(REALMODE_TRAMP + (rm_target - rm_tramp_start));
    t[0] = entry;
    t[1] = REALMODE_SEG;
    realmode_enter();
}
