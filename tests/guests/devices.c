/*
 * devices.c - the basics of each PC device a payload meets: the 16550A
 * (scratch register, divisor latch, LSR, FIFO bits in the IIR, the THRE
 * interrupt identification, loopback), the CMOS RTC (a consistent time in
 * the format register B announces, NVRAM, the extended-memory bytes
 * 0x30/0x31 against the multiboot mem_upper), the 8254 read-back and
 * latch commands, port 0x80, the i8042 self-test, and fw_cfg.
 */
#include "guest.h"

const char guest_name[] = "devices";

#define COM1 0x3f8

static void uart(void)
{
    outb(COM1 + 7, 0x5a);
    CHECK_EQ(inb(COM1 + 7), 0x5a);
    outb(COM1 + 7, 0xa5);
    CHECK_EQ(inb(COM1 + 7), 0xa5);
    outb(COM1 + 3, 0x83); /* DLAB */
    outb(COM1 + 0, 0x0c);
    outb(COM1 + 1, 0x00);
    CHECK_EQ(inb(COM1 + 0), 0x0c);
    CHECK_EQ(inb(COM1 + 1), 0x00);
    outb(COM1 + 0, 0x01);
    outb(COM1 + 3, 0x03);
    CHECK_EQ(inb(COM1 + 3), 0x03);
    CHECK_EQ(inb(COM1 + 5) & 0x60, 0x60); /* THRE, TEMT */
    CHECK_EQ(inb(COM1 + 2) & 0xc0, 0xc0); /* FIFOs enabled (16550A) */
    outb(COM1 + 1, 0x02);                 /* THRE interrupt enabled */
    CHECK_EQ(inb(COM1 + 2) & 0x0f, 0x02);
    outb(COM1 + 1, 0x00);
    CHECK_EQ(inb(COM1 + 2) & 0x01, 0x01); /* nothing pending */
    /* Loopback: the byte comes back, MCR drives MSR. */
    outb(COM1 + 4, 0x13);
    outb(COM1, 'Z');
    unsigned i;
    for (i = 0; i < 1000 && !(inb(COM1 + 5) & 1); i++)
        ;
    CHECK(inb(COM1 + 5) & 1);
    CHECK_EQ(inb(COM1), 'Z');
    CHECK_EQ(inb(COM1 + 6) & 0xf0, 0x30); /* DTR -> DSR, RTS -> CTS */
    outb(COM1 + 4, 0x03);
    gprintf("ok 16550A: scratch, divisor latch, LSR, IIR, loopback\n");
}

static uint8_t cmos(uint8_t reg)
{
    outb(0x70, reg);
    return inb(0x71);
}

static unsigned bcd(uint8_t v, int binary)
{
    if (binary)
        return v;
    if ((v & 0xf) > 9 || (v >> 4) > 9)
        guest_fail("CMOS value 0x%x is not BCD", v);
    return (v >> 4) * 10 + (v & 0xf);
}

static void rtc(void)
{
    CHECK(cmos(0x0d) & 0x80); /* valid RAM and time */
    uint8_t b = cmos(0x0b);
    int binary = (b >> 2) & 1;
    unsigned tries;
    for (tries = 0; tries < 100000 && (cmos(0x0a) & 0x80); tries++)
        ;
    unsigned sec = bcd(cmos(0x00), binary), min = bcd(cmos(0x02), binary);
    unsigned hour = bcd(cmos(0x04) & 0x7f, binary), day = bcd(cmos(0x07), binary);
    unsigned mon = bcd(cmos(0x08), binary), year = bcd(cmos(0x09), binary);
    CHECK(sec < 60 && min < 60 && day >= 1 && day <= 31 && mon >= 1 && mon <= 12 && year < 100);
    CHECK(hour < 24 || !(b & 2));
    gprintf("ok RTC 20%02u-%02u-%02u %02u:%02u:%02u (register B 0x%x)\n", year, mon, day, hour,
            min, sec, b);
    outb(0x70, 0x50);
    outb(0x71, 0xa5);
    CHECK_EQ(cmos(0x50), 0xa5);
    outb(0x70, 0x50);
    outb(0x71, 0x00);
    unsigned ext = cmos(0x30) | (cmos(0x31) << 8);
    CHECK(mb_flags & 1);
    CHECK(mb_mem_lower >= 600 && mb_mem_lower <= 640);
    /* mem_upper may stop short of the RAM's end (QEMU keeps 128 KiB back):
     * allow up to 1 MiB. CMOS caps at 0xffff. */
    int close = ext == 0xffff ? mb_mem_upper >= 0xffff - 1024
                              : mb_mem_upper <= ext && ext - mb_mem_upper <= 1024;
    if (!close)
        guest_fail("CMOS 0x30/0x31 say %u KiB above 1 MiB, multiboot mem_upper %u", ext,
                   mb_mem_upper);
    CHECK_EQ(cmos(0x17) | (cmos(0x18) << 8), ext);
    gprintf("ok CMOS NVRAM, extended memory %u KiB (multiboot mem_upper %u)\n", ext, mb_mem_upper);
}

static void pit(void)
{
    pit_start(0, 2, 0x2000);
    outb(0x43, 0xe2); /* read-back: status of channel 0, no count */
    CHECK_EQ(inb(0x40) & 0x3f, 0x34);
    uint16_t c1 = pit_latch(0);
    CHECK(c1 <= 0x2000);
    for (volatile int i = 0; i < 200; i++)
        ;
    uint16_t c2 = pit_latch(0);
    CHECK(c2 != c1);
    pit_start(2, 0, 0x8000);
    outb(0x43, 0xe8); /* read-back status of channel 2 */
    CHECK_EQ(inb(0x42) & 0x3f, 0x30);
    outb(0x43, 0xd2); /* read-back count of channel 0 (latched), then read it */
    uint16_t c3 = (uint16_t)(inb(0x40) | (inb(0x40) << 8));
    CHECK(c3 <= 0x2000);
    gprintf("ok 8254 read-back and latch (counts 0x%x 0x%x 0x%x)\n", c1, c2, c3);
}

static void i8042(void)
{
    for (unsigned i = 0; i < 16 && (inb(0x64) & 1); i++)
        inb(0x60);
    outb(0x64, 0xaa);
    unsigned i;
    for (i = 0; i < 100000 && !(inb(0x64) & 1); i++)
        ;
    CHECK(inb(0x64) & 1);
    CHECK_EQ(inb(0x60), 0x55);
    outb(0x64, 0x20);
    for (i = 0; i < 100000 && !(inb(0x64) & 1); i++)
        ;
    CHECK(inb(0x64) & 1);
    uint8_t cfg = inb(0x60);
    gprintf("ok i8042 self-test 0x55, configuration byte 0x%x\n", cfg);
}

static unsigned ext_kib(void)
{
    return cmos(0x30) | (cmos(0x31) << 8);
}

static void fw_cfg(void)
{
    outw(0x510, 0x0000);
    char sig[5] = {0};
    for (int i = 0; i < 4; i++)
        sig[i] = (char)inb(0x511);
    if (memcmp(sig, "QEMU", 4) != 0)
        guest_fail("fw_cfg signature is \"%s\", expected \"QEMU\"", sig);
    outw(0x510, 0x0005);
    uint16_t cpus = (uint16_t)(inb(0x511) | (inb(0x511) << 8));
    CHECK_EQ(cpus, 1);
    outw(0x510, 0x0003);
    uint64_t ram = 0;
    for (int i = 0; i < 8; i++)
        ram |= (uint64_t)inb(0x511) << (8 * i);
    uint64_t ext = ram >> 10 > 1024 ? (ram >> 10) - 1024 : 0;
    CHECK_EQ(ext > 0xffff ? 0xffff : ext, ext_kib()); /* CMOS caps it at 65535 KiB */
    gprintf("ok fw_cfg signature, %u CPU, %u MiB\n", cpus, (unsigned)(ram >> 20));
}

void guest_main(void)
{
    uart();
    rtc();
    pit();
    outb(0x80, 0x42);
    i8042();
    fw_cfg();
}
