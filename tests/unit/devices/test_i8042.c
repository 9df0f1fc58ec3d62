/*
 * tests/unit/devices/test_i8042.c - the keyboard controller: controller
 * commands (command byte, self-tests, output port, A20, reset), keyboard
 * commands, IRQ1/IRQ12, key injection through PDM, port 0x92.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static struct harness h;

static void setup(void)
{
    h_setup(&h);
}

static void teardown(void)
{
    h_teardown(&h);
}

static void add(void)
{
    ck_assert_int_eq(h_add(&h, "i8042", NULL, 0), CAP_OK);
}

static uint8_t status(void)
{
    return (uint8_t)h_in(&h, 0x64, 1);
}

/* Reads the output buffer, which must be full. */
static uint8_t rd(void)
{
    ck_assert_uint_eq(status() & 0x01, 0x01);
    return (uint8_t)h_in(&h, 0x60, 1);
}

static void cmd(uint8_t c)
{
    h_out(&h, 0x64, 1, c);
}

static void data(uint8_t d)
{
    h_out(&h, 0x60, 1, d);
}

START_TEST(test_controller_commands)
{
    add();
    ck_assert_uint_eq(status(), 0x18); /* CMD, unlocked, nothing to read */
    ck_assert_int_eq(h.a20, 1);        /* the output port's A20 bit is on */
    cmd(0xaa);
    ck_assert_uint_eq(rd(), 0x55);
    ck_assert_uint_eq(status() & 0x05, 0x04); /* SYS set, buffer empty */
    cmd(0xab);
    ck_assert_uint_eq(rd(), 0x00);
    cmd(0xa9);
    ck_assert_uint_eq(rd(), 0x00);
    cmd(0x20);
    ck_assert_uint_eq(rd(), 0x47); /* KBD_INT AUX_INT SYS TRANSLATE */
    cmd(0x60);
    data(0x65);
    ck_assert_uint_eq(status() & 0x08, 0x00); /* last write was data */
    cmd(0x20);
    ck_assert_uint_eq(rd(), 0x65);
    cmd(0x65); /* internal RAM byte 5 */
    data(0x3c);
    cmd(0x25);
    ck_assert_uint_eq(rd(), 0x3c);
    cmd(0xc0);
    ck_assert_uint_eq(rd(), 0x80);
    cmd(0xe0);
    ck_assert_uint_eq(rd(), 0x00);
    /* IRQ1 edges: one per byte. */
    ck_assert_uint_eq(h.irq_raises[1], 8);
    ck_assert_int_eq(h.irq_level[1], 0);
}
END_TEST

START_TEST(test_output_port_a20_reset)
{
    add();
    cmd(0xd0);
    ck_assert_uint_eq(rd(), 0xcf);
    cmd(0xd1);
    data(0xcd); /* A20 off */
    ck_assert_int_eq(h.a20, 0);
    ck_assert_int_eq(h.resets, 0);
    cmd(0xd0);
    ck_assert_uint_eq(rd(), 0xcd);
    cmd(0xdf);
    ck_assert_int_eq(h.a20, 1);
    cmd(0xdd);
    ck_assert_int_eq(h.a20, 0);
    cmd(0xd1);
    data(0xce); /* reset bit low */
    ck_assert_int_eq(h.resets, 1);
    cmd(0xfe);
    ck_assert_int_eq(h.resets, 2);
    cmd(0xff); /* pulse nothing */
    ck_assert_int_eq(h.resets, 2);
    cmd(0xf0);
    ck_assert_int_eq(h.resets, 3);
    ck_assert(h_logged(&h, "reset"));
    /* The machine reset brings the output port (and A20) back. */
    pdm_reset(h.pdm);
    ck_assert_int_eq(h.a20, 1);
    cmd(0xd0);
    ck_assert_uint_eq(rd(), 0xcf);
}
END_TEST

START_TEST(test_port92)
{
    add();
    cmd(0xdd); /* controller A20 off */
    ck_assert_int_eq(h.a20, 0);
    ck_assert_uint_eq(h_in(&h, 0x92, 1), 0x00);
    h_out(&h, 0x92, 1, 0x02);
    ck_assert_int_eq(h.a20, 1); /* A20 is the OR of both */
    ck_assert_uint_eq(h_in(&h, 0x92, 1), 0x02);
    h_out(&h, 0x92, 1, 0x00);
    ck_assert_int_eq(h.a20, 0);
    h_out(&h, 0x92, 1, 0x03);
    ck_assert_int_eq(h.resets, 1);
    ck_assert_uint_eq(h_in(&h, 0x92, 1), 0x02); /* the reset bit reads 0 */
}
END_TEST

START_TEST(test_port92_off)
{
    struct pdm_cfg_kv kv[] = {{"port92", "false"}};
    ck_assert_int_eq(h_add(&h, "i8042", kv, 1), CAP_OK);
    ck_assert_uint_eq(h_in(&h, 0x92, 1), 0xff);
    h_out(&h, 0x92, 1, 0x01);
    ck_assert_int_eq(h.resets, 0);
}
END_TEST

START_TEST(test_keyboard_commands)
{
    add();
    data(0xff);
    ck_assert_uint_eq(rd(), 0xfa);
    ck_assert_uint_eq(rd(), 0xaa);
    ck_assert_uint_eq(h.irq_raises[1], 2);
    data(0xed); /* LEDs */
    ck_assert_uint_eq(rd(), 0xfa);
    data(0x07);
    ck_assert_uint_eq(rd(), 0xfa);
    data(0xee);
    ck_assert_uint_eq(rd(), 0xee);
    data(0xf2);
    ck_assert_uint_eq(rd(), 0xfa);
    ck_assert_uint_eq(rd(), 0xab);
    ck_assert_uint_eq(rd(), 0x41); /* translated */
    cmd(0x60);
    data(0x01); /* no translation */
    data(0xf2);
    ck_assert_uint_eq(rd(), 0xfa);
    ck_assert_uint_eq(rd(), 0xab);
    ck_assert_uint_eq(rd(), 0x83);
    data(0xf0);
    ck_assert_uint_eq(rd(), 0xfa);
    data(0x00);
    ck_assert_uint_eq(rd(), 0xfa);
    ck_assert_uint_eq(rd(), 0x02);
    data(0xf0);
    (void)rd();
    data(0x07); /* no such set */
    ck_assert_uint_eq(rd(), 0xfe);
    data(0xf3);
    (void)rd();
    data(0x20);
    ck_assert_uint_eq(rd(), 0xfa);
    data(0xf4);
    ck_assert_uint_eq(rd(), 0xfa);
    data(0x12); /* unknown */
    ck_assert_uint_eq(rd(), 0xfe);
    ck_assert_uint_eq(status() & 0x01, 0);
}
END_TEST

START_TEST(test_key_injection_and_irq1)
{
    const uint8_t keys[] = {0x1e, 0x9e}; /* 'a' make and break */
    ck_assert_int_eq(pdm_keyboard_put(h.pdm, keys, 2), CAP_E_NOTIMPL);
    add();
    ck_assert_int_eq(pdm_keyboard_put(h.pdm, keys, 2), CAP_OK);
    ck_assert_int_eq(h.irq_level[1], 1);
    ck_assert_uint_eq(rd(), 0x1e);
    ck_assert_uint_eq(rd(), 0x9e);
    ck_assert_uint_eq(h.irq_raises[1], 2);
    /* The keyboard interface disabled: keys wait; controller replies do not. */
    cmd(0xad);
    ck_assert_int_eq(pdm_keyboard_put(h.pdm, keys, 1), CAP_OK);
    ck_assert_uint_eq(status() & 0x01, 0);
    cmd(0xaa);
    ck_assert_uint_eq(rd(), 0x55);
    cmd(0xae);
    ck_assert_uint_eq(rd(), 0x1e);
    /* Command byte bit 0 off: the buffer fills but IRQ1 stays low. */
    cmd(0x60);
    data(0x44);
    unsigned raises = h.irq_raises[1];
    ck_assert_int_eq(pdm_keyboard_put(h.pdm, keys + 1, 1), CAP_OK);
    ck_assert_uint_eq(status() & 0x01, 1);
    ck_assert_uint_eq(h.irq_raises[1], raises);
    ck_assert_uint_eq(rd(), 0x9e);
    /* Interface through pdm_query_interface too. */
    ck_assert_ptr_nonnull(pdm_query_interface(h.pdm, "i8042", 0, PDM_IFACE_KEYBOARD));
    ck_assert_ptr_null(pdm_query_interface(h.pdm, "i8042", 0, "mouse"));
    /* The queue overflows quietly. */
    uint8_t many[40];
    memset(many, 0x10, sizeof(many));
    ck_assert_int_eq(pdm_keyboard_put(h.pdm, many, sizeof(many)), CAP_OK);
    int n = 0;
    while (status() & 0x01) {
        (void)h_in(&h, 0x60, 1);
        n++;
    }
    ck_assert_int_eq(n, 16); /* the queue holds 16, the rest is lost */
}
END_TEST

START_TEST(test_aux_loopback_irq12)
{
    add();
    cmd(0xd3);
    data(0x5a);
    ck_assert_uint_eq(status() & 0x21, 0x21);
    ck_assert_int_eq(h.irq_level[12], 1);
    ck_assert_int_eq(h.irq_level[1], 0);
    ck_assert_uint_eq(rd(), 0x5a);
    ck_assert_int_eq(h.irq_level[12], 0);
    cmd(0xd2); /* as if from the keyboard */
    data(0x33);
    ck_assert_int_eq(h.irq_level[1], 1);
    ck_assert_uint_eq(status() & 0x20, 0);
    ck_assert_uint_eq(rd(), 0x33);
    cmd(0xd4); /* to the (absent) mouse: 0xFE with the timeout bit, on IRQ12 */
    data(0xff);
    ck_assert_uint_eq(status() & 0x61, 0x61);
    ck_assert_int_eq(h.irq_level[12], 1);
    ck_assert_uint_eq(rd(), 0xfe);
    ck_assert_uint_eq(status() & 0x61, 0);
    ck_assert_int_eq(h.irq_level[12], 0);
}
END_TEST

/* 0xD2/0xD3 bytes are the controller's own: the interface-disable bits of
 * the command byte do not hold them (Linux's MUX probe loops bytes back
 * through 0xD3 with the aux interface disabled). */
START_TEST(test_loopback_while_disabled)
{
    add();
    cmd(0x60);
    data(0x70); /* both interfaces disabled, no interrupts, translate */
    cmd(0xd3);
    data(0xf0);
    ck_assert_uint_eq(status() & 0x21, 0x21);
    ck_assert_int_eq(h.irq_level[12], 0); /* bit 1 clear: no IRQ12 */
    ck_assert_uint_eq(rd(), 0xf0);
    cmd(0xd2);
    data(0x56);
    ck_assert_uint_eq(status() & 0x21, 0x01);
    ck_assert_uint_eq(rd(), 0x56);
    /* The keyboard's own bytes do wait while its interface is disabled. */
    const uint8_t k = 0x1e;
    ck_assert_int_eq(pdm_keyboard_put(h.pdm, &k, 1), CAP_OK);
    ck_assert_uint_eq(status() & 0x01, 0);
    cmd(0x60);
    data(0x41);
    ck_assert_uint_eq(status() & 0x01, 0x01);
    ck_assert_uint_eq(rd(), 0x1e);
}
END_TEST

START_TEST(test_irq1_through_pic_and_save)
{
    struct pdm_dev_config cfg[] = {{.device = "pic"}, {.device = "i8042"}};
    ck_assert_int_eq(pdm_instantiate(h.pdm, cfg, 2), CAP_OK);
    const uint8_t init[][2] = {
        {0x20, 0x11}, {0x21, 0x08}, {0x21, 0x04}, {0x21, 0x01}, {0x21, 0xfd}};
    for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++)
        h_out(&h, init[i][0], 1, init[i][1]);
    const uint8_t k = 0x2c;
    ck_assert_int_eq(pdm_keyboard_put(h.pdm, &k, 1), CAP_OK);
    ck_assert_int_eq(h.intr, 1);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x09);
    void *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(pdm_save(h.pdm, &buf, &len), CAP_OK);
    ck_assert_uint_eq(rd(), 0x2c);
    ck_assert_int_eq(pdm_load(h.pdm, buf, len), CAP_OK);
    free(buf);
    ck_assert_uint_eq(rd(), 0x2c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dev-i8042");
    TCase *tc = tcase_create("i8042");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_controller_commands);
    tcase_add_test(tc, test_output_port_a20_reset);
    tcase_add_test(tc, test_port92);
    tcase_add_test(tc, test_port92_off);
    tcase_add_test(tc, test_keyboard_commands);
    tcase_add_test(tc, test_key_injection_and_irq1);
    tcase_add_test(tc, test_aux_loopback_irq12);
    tcase_add_test(tc, test_loopback_while_disabled);
    tcase_add_test(tc, test_irq1_through_pic_and_save);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
