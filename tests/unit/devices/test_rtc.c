/*
 * tests/unit/devices/test_rtc.c - the MC146818 RTC/CMOS: time in BCD and
 * binary, 12 and 24 hours, SET, UIP, periodic / update-ended / alarm
 * interrupts on IRQ8, register C, the CMOS memory bytes and checksum,
 * config errors, reset and saved state.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "platform/platform.h"

static struct harness h;

#define SEC 1000000000ull

static void setup(void)
{
    h_setup(&h);
}

static void teardown(void)
{
    h_teardown(&h);
}

static uint8_t rd(uint8_t idx)
{
    h_out(&h, 0x70, 1, idx);
    return (uint8_t)h_in(&h, 0x71, 1);
}

static void wr(uint8_t idx, uint8_t v)
{
    h_out(&h, 0x70, 1, idx);
    h_out(&h, 0x71, 1, v);
}

/* Thursday 2024-02-29 23:59:58 UTC. */
static void add_rtc(const char *ram)
{
    struct pdm_cfg_kv kv[] = {{"base_time", "2024-02-29T23:59:58"}, {"ram_size", ram}};
    ck_assert_int_eq(h_add(&h, "rtc", kv, ram ? 2 : 1), CAP_OK);
}

START_TEST(test_time_bcd_24h)
{
    add_rtc(NULL);
    ck_assert_uint_eq(rd(0x00), 0x58);
    ck_assert_uint_eq(rd(0x02), 0x59);
    ck_assert_uint_eq(rd(0x04), 0x23);
    ck_assert_uint_eq(rd(0x06), 5); /* Thursday (Sunday = 1) */
    ck_assert_uint_eq(rd(0x07), 0x29);
    ck_assert_uint_eq(rd(0x08), 0x02);
    ck_assert_uint_eq(rd(0x09), 0x24);
    ck_assert_uint_eq(rd(0x32), 0x20);
    ck_assert_uint_eq(rd(0x0a), 0x26);
    ck_assert_uint_eq(rd(0x0b), 0x02);
    ck_assert_uint_eq(rd(0x0d), 0x80);
    h_advance(&h, 2 * SEC);
    ck_assert_uint_eq(rd(0x00), 0x00);
    ck_assert_uint_eq(rd(0x04), 0x00);
    ck_assert_uint_eq(rd(0x07), 0x01);
    ck_assert_uint_eq(rd(0x08), 0x03); /* leap year: March 1st */
    ck_assert_uint_eq(rd(0x06), 6);
    /* The index port is write-only. */
    ck_assert_uint_eq(h_in(&h, 0x70, 1), 0xff);
}
END_TEST

START_TEST(test_binary_12h)
{
    add_rtc(NULL);
    wr(0x0b, 0x04); /* binary, 12-hour */
    ck_assert_uint_eq(rd(0x00), 58);
    ck_assert_uint_eq(rd(0x04), 0x80 | 11); /* 11 PM */
    ck_assert_uint_eq(rd(0x09), 24);
    ck_assert_uint_eq(rd(0x32), 20);
    h_advance(&h, 2 * SEC);
    ck_assert_uint_eq(rd(0x04), 12); /* 12 AM */
    wr(0x0b, 0x00);                  /* BCD, 12-hour */
    ck_assert_uint_eq(rd(0x04), 0x12);
}
END_TEST

START_TEST(test_set_and_write_time)
{
    add_rtc(NULL);
    wr(0x0b, 0x82); /* SET: the clock stops, registers writable */
    h_advance(&h, 5 * SEC);
    ck_assert_uint_eq(rd(0x00), 0x58); /* frozen */
    wr(0x00, 0x30);
    wr(0x02, 0x15);
    wr(0x04, 0x10);
    wr(0x07, 0x01);
    wr(0x08, 0x01);
    wr(0x09, 0x99);
    wr(0x32, 0x19);
    ck_assert_uint_eq(rd(0x04), 0x10);
    wr(0x0b, 0x02); /* run from 1999-01-01 10:15:30 */
    ck_assert_uint_eq(rd(0x00), 0x30);
    h_advance(&h, SEC);
    ck_assert_uint_eq(rd(0x00), 0x31);
    ck_assert_uint_eq(rd(0x09), 0x99);
    ck_assert_uint_eq(rd(0x32), 0x19);
    ck_assert_uint_eq(rd(0x06), 6); /* a Friday */
    /* Writing a clock register while running sets the time too. */
    wr(0x02, 0x45);
    h_advance(&h, SEC);
    ck_assert_uint_eq(rd(0x02), 0x45);
    ck_assert_uint_eq(rd(0x00), 0x32);
    /* 12-hour PM hour written in SET mode. */
    wr(0x0b, 0x80 | 0x04); /* SET, binary, 12h */
    wr(0x04, 0x80 | 3);    /* 3 PM */
    wr(0x0b, 0x04);        /* run */
    ck_assert_uint_eq(rd(0x04), 0x80 | 3);
    wr(0x0b, 0x06); /* binary, 24h */
    ck_assert_uint_eq(rd(0x04), 15);
}
END_TEST

START_TEST(test_uip)
{
    add_rtc(NULL);
    ck_assert_uint_eq(rd(0x0a) & 0x80, 0);
    h_advance(&h, SEC - 200000); /* within 244 us of the update */
    ck_assert_uint_eq(rd(0x0a) & 0x80, 0x80);
    ck_assert_uint_eq(rd(0x00), 0x58);
    h_advance(&h, 200000);
    ck_assert_uint_eq(rd(0x0a) & 0x80, 0);
    ck_assert_uint_eq(rd(0x00), 0x59);
    wr(0x0a, 0xa6); /* UIP is read-only */
    ck_assert_uint_eq(rd(0x0a), 0x26);
}
END_TEST

START_TEST(test_periodic_irq8)
{
    add_rtc(NULL);
    wr(0x0a, 0x23); /* rate 3: 122.0703125 us, below TM_MIN_PERIOD_NS */
    wr(0x0b, 0x42); /* PIE */
    ck_assert_uint_eq(h.irq_raises[8], 0);
    h_advance(&h, 123000);
    ck_assert_uint_eq(h.irq_raises[8], 0); /* clamped: every other period */
    h_advance(&h, 245000 - 123000);
    ck_assert_uint_eq(h.irq_raises[8], 1);
    ck_assert_int_eq(h.irq_level[8], 1);
    /* Until C is read the line stays up: no new edge, and no timer runs. */
    ck_assert_uint_eq(tm_next_deadline(h.tm), TM_NO_DEADLINE);
    h_advance(&h, 245000);
    ck_assert_uint_eq(h.irq_raises[8], 1);
    ck_assert_uint_eq(rd(0x0c), 0xc0);
    ck_assert_int_eq(h.irq_level[8], 0);
    ck_assert_uint_eq(rd(0x0c), 0x00); /* read clears */
    h_advance(&h, 245000);
    ck_assert_uint_eq(h.irq_raises[8], 2);
    (void)rd(0x0c);
    /* Rate 15: 500 ms; rate 1: 256 Hz. */
    wr(0x0a, 0x2f);
    h_advance(&h, SEC / 2 - 1000000);
    ck_assert_uint_eq(h.irq_raises[8], 2);
    h_advance(&h, 1000000);
    ck_assert_uint_eq(h.irq_raises[8], 3);
    (void)rd(0x0c);
    wr(0x0a, 0x21);
    h_advance(&h, 3906250);
    ck_assert_uint_eq(h.irq_raises[8], 4);
    (void)rd(0x0c);
    /* Rate 0 and PIE off stop it. */
    wr(0x0a, 0x20);
    h_advance(&h, SEC);
    ck_assert_uint_eq(h.irq_raises[8], 4);
    wr(0x0a, 0x26);
    wr(0x0b, 0x02);
    h_advance(&h, SEC);
    ck_assert_uint_eq(h.irq_raises[8], 4);
}
END_TEST

START_TEST(test_update_and_alarm)
{
    add_rtc(NULL);
    wr(0x0a, 0x20); /* no periodic flag noise */
    wr(0x0b, 0x12); /* UIE */
    h_advance(&h, SEC - 1000);
    ck_assert_uint_eq(h.irq_raises[8], 0);
    h_advance(&h, 1000);
    ck_assert_uint_eq(h.irq_raises[8], 1);
    ck_assert_uint_eq(rd(0x0c), 0x90); /* IRQF | UF */
    /* Alarm at 00:00:01 (now 23:59:59). */
    wr(0x01, 0x01);
    wr(0x03, 0x00);
    wr(0x05, 0x00);
    wr(0x0b, 0x22); /* AIE only */
    h_advance(&h, SEC);
    ck_assert_uint_eq(h.irq_raises[8], 1);
    ck_assert_uint_eq(rd(0x0c) & 0xa0, 0); /* UF set lazily, no alarm */
    h_advance(&h, SEC);
    ck_assert_uint_eq(h.irq_raises[8], 2);
    ck_assert_uint_eq(rd(0x0c), 0xb0); /* IRQF | AF | UF */
    /* Don't-care hours and minutes: every minute at second 01. */
    wr(0x03, 0xc0);
    wr(0x05, 0xff);
    h_advance(&h, 59 * SEC);
    ck_assert_uint_eq(h.irq_raises[8], 2);
    h_advance(&h, SEC);
    ck_assert_uint_eq(h.irq_raises[8], 3);
    ck_assert_uint_eq(rd(0x00), 0x01);
    ck_assert_uint_eq(rd(0x02), 0x01);
    /* SET clears UIE and stops updates. */
    (void)rd(0x0c);
    wr(0x0b, 0x92);
    ck_assert_uint_eq(rd(0x0b), 0x82);
    h_advance(&h, 3 * SEC);
    ck_assert_uint_eq(h.irq_raises[8], 3);
}
END_TEST

START_TEST(test_lazy_flags_and_enable_pending)
{
    add_rtc(NULL);
    h_advance(&h, SEC + SEC / 2);
    ck_assert_uint_eq(rd(0x0c), 0x50); /* PF | UF, no IRQF */
    ck_assert_uint_eq(h.irq_raises[8], 0);
    ck_assert_uint_eq(rd(0x0c), 0x00);
    /* A flag already set raises IRQ8 as soon as its enable goes on. */
    wr(0x05, 0x12); /* (no alarm at midnight) */
    wr(0x0a, 0x20);
    wr(0x0b, 0x12); /* UIE */
    h_advance(&h, SEC);
    ck_assert_uint_eq(h.irq_raises[8], 1);
    wr(0x0b, 0x02);
    ck_assert_int_eq(h.irq_level[8], 0); /* IRQF follows the enables */
    wr(0x0b, 0x12);
    ck_assert_uint_eq(h.irq_raises[8], 2);
    ck_assert_uint_eq(rd(0x0c), 0x90);
}
END_TEST

START_TEST(test_cmos_memory)
{
    /* 8 GiB: 3.5 GiB below 4G, 4.5 GiB above, as vmm/platform's table says */
    ck_assert_int_eq(h_add_platform(&h, "rtc", 8192, PLATFORM_FW_NONE), CAP_OK);
    ck_assert_uint_eq(rd(0x15) | rd(0x16) << 8, 640);
    ck_assert_uint_eq(rd(0x17) | rd(0x18) << 8, 0xffff);
    ck_assert_uint_eq(rd(0x30) | rd(0x31) << 8, 0xffff);
    ck_assert_uint_eq(rd(0x34) | rd(0x35) << 8, (0xe0000000u - (16u << 20)) >> 16);
    ck_assert_uint_eq(rd(0x5b) | rd(0x5c) << 8 | rd(0x5d) << 16, 0x12000);
    ck_assert_uint_eq(rd(0x14), 0x06);
    unsigned sum = 0;
    for (unsigned i = 0x10; i <= 0x2d; i++)
        sum += rd((uint8_t)i);
    ck_assert_uint_eq(rd(0x2e) << 8 | rd(0x2f), sum);
    /* Plain CMOS bytes keep what the guest writes; bit 7 of the index is NMI. */
    h_out(&h, 0x70, 1, 0x80 | 0x40);
    h_out(&h, 0x71, 1, 0xa5);
    ck_assert_uint_eq(rd(0x40), 0xa5);
}
END_TEST

START_TEST(test_cmos_small_ram)
{
    struct pdm_cfg_kv kv[] = {
        {"ram_size", "0x4000000"}, {"equipment", "0x02"}, {"base_time", "string:0"}};
    ck_assert_int_eq(h_add(&h, "rtc", kv, 3), CAP_OK);
    ck_assert_uint_eq(rd(0x17) | rd(0x18) << 8, 63 * 1024);
    ck_assert_uint_eq(rd(0x34) | rd(0x35) << 8, 48 * 16);
    ck_assert_uint_eq(rd(0x5b) | rd(0x5c) | rd(0x5d), 0);
    ck_assert_uint_eq(rd(0x14), 0x02);
    ck_assert_uint_eq(rd(0x09), 0x70); /* the epoch */
    ck_assert_uint_eq(rd(0x32), 0x19);
}
END_TEST

START_TEST(test_bad_config)
{
    struct pdm_cfg_kv kv1[] = {{"base_time", "yesterday"}};
    ck_assert_int_eq(h_add(&h, "rtc", kv1, 1), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "base_time"));
    struct pdm_cfg_kv kv2[] = {{"ram_size", "0x1000"}, {"ram_below_4g", "0x2000"}};
    ck_assert_int_eq(h_add(&h, "rtc", kv2, 2), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "ram_below_4g"));
    struct pdm_cfg_kv kv3[] = {{"base_time", "2024-13-01T00:00:00"}};
    ck_assert_int_eq(h_add(&h, "rtc", kv3, 1), CAP_E_INVALIDARG);
    const char *bad_orders[] = {"disk,usb", "disk,dvd,floppy,net", "", ",disk", "disk,"};
    for (unsigned i = 0; i < sizeof(bad_orders) / sizeof(bad_orders[0]); i++) {
        struct pdm_cfg_kv kv[] = {{"boot_order", bad_orders[i]}};
        ck_assert_int_eq(h_add(&h, "rtc", kv, 1), CAP_E_INVALIDARG);
        ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "boot_order"));
    }
    struct pdm_cfg_kv kv4[] = {{"base_time", "utc"}};
    ck_assert_int_eq(h_add(&h, "rtc", kv4, 1), CAP_OK);
    ck_assert_uint_ge(rd(0x32), 0x20);
}
END_TEST

/* SeaBIOS's boot order under QEMU: CMOS 0x3d (first, second), 0x38
 * (third in the high nibble); 1 floppy, 2 disk, 3 dvd, 4 net. */
START_TEST(test_boot_order)
{
    struct pdm_cfg_kv kv[] = {{"boot_order", "disk,dvd,net"}};
    ck_assert_int_eq(h_add(&h, "rtc", kv, 1), CAP_OK);
    ck_assert_uint_eq(rd(0x3d), 0x32);
    ck_assert_uint_eq(rd(0x38), 0x40);
}
END_TEST

START_TEST(test_boot_order_short)
{
    struct pdm_cfg_kv kv[] = {{"boot_order", "floppy"}};
    ck_assert_int_eq(h_add(&h, "rtc", kv, 1), CAP_OK);
    ck_assert_uint_eq(rd(0x3d), 0x01);
    ck_assert_uint_eq(rd(0x38), 0x00);
}
END_TEST

START_TEST(test_reset_and_save)
{
    add_rtc("0x8000000");
    wr(0x0b, 0x72); /* PIE AIE UIE */
    wr(0x50, 0x5a);
    h_advance(&h, SEC);
    ck_assert_int_eq(h.irq_level[8], 1);
    h_ssm_save(&h);
    pdm_reset(h.pdm);
    ck_assert_int_eq(h.irq_level[8], 0);
    ck_assert_uint_eq(rd(0x0b), 0x02);
    ck_assert_uint_eq(rd(0x50), 0x5a); /* CMOS survives */
    ck_assert_uint_eq(rd(0x0c), 0x00);
    ck_assert_int_eq(h_ssm_load(&h), CAP_OK);
    ck_assert_uint_eq(rd(0x0b), 0x72);
    ck_assert_int_eq(h.irq_level[8], 1);
    ck_assert_uint_eq(rd(0x0c) & 0x80, 0x80);
    ck_assert_uint_eq(rd(0x00), 0x59);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("rtc");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_time_bcd_24h);
    tcase_add_test(tc, test_binary_12h);
    tcase_add_test(tc, test_set_and_write_time);
    tcase_add_test(tc, test_uip);
    tcase_add_test(tc, test_periodic_irq8);
    tcase_add_test(tc, test_update_and_alarm);
    tcase_add_test(tc, test_lazy_flags_and_enable_pending);
    tcase_add_test(tc, test_cmos_memory);
    tcase_add_test(tc, test_cmos_small_ram);
    tcase_add_test(tc, test_bad_config);
    tcase_add_test(tc, test_reset_and_save);
    tcase_add_test(tc, test_boot_order);
    tcase_add_test(tc, test_boot_order_short);
    return h_run_case("dev-rtc", tc);
}
