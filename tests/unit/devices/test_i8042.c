/*
 * tests/unit/devices/test_i8042.c - the keyboard controller: controller
 * commands (command byte, self-tests, output port, A20, reset), keyboard
 * commands, IRQ1/IRQ12, key injection through PDM, port 0x92, and the PS/2
 * mouse on the aux port (commands, packets, the IntelliMouse knock, the
 * bounded queue, motion through pdm_mouse_put).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static struct harness h;

#define ACC_MAX_TEST 4096 /* the motion the mouse holds back per axis */

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
    ck_assert_ptr_nonnull(pdm_query_interface(h.pdm, "i8042", 0, PDM_IFACE_MOUSE));
    ck_assert_ptr_null(pdm_query_interface(h.pdm, "i8042", 0, "tablet"));
    /* ... and as the first device that offers it (no device named). */
    ck_assert_ptr_eq(pdm_query_interface(h.pdm, NULL, 0, PDM_IFACE_KEYBOARD),
                     pdm_query_interface(h.pdm, "i8042", 0, PDM_IFACE_KEYBOARD));
    ck_assert_ptr_null(pdm_query_interface(h.pdm, NULL, 0, PDM_IFACE_MOUSE_ABS));
    /* All or nothing: what the queue has no room for is refused whole
     * (CAP_FALSE_RESULT, nothing lost or split), and taken once the guest
     * has read enough; 4 of its 16 bytes stay free for the keyboard's
     * replies. */
    uint8_t many[40];
    for (unsigned i = 0; i < sizeof(many); i++)
        many[i] = (uint8_t)(0x10 + i);
    ck_assert_int_eq(pdm_keyboard_put(h.pdm, many, sizeof(many)), CAP_FALSE_RESULT);
    ck_assert_uint_eq(status() & 0x01, 0);
    ck_assert_int_eq(pdm_keyboard_put(h.pdm, many, 10), CAP_OK); /* 1 in the buffer, 9 queued */
    ck_assert_int_eq(pdm_keyboard_put(h.pdm, many + 10, 4), CAP_FALSE_RESULT); /* room for 3 */
    ck_assert_int_eq(pdm_keyboard_put(h.pdm, many + 10, 3), CAP_OK);
    ck_assert_int_eq(pdm_keyboard_put(h.pdm, many + 13, 1), CAP_FALSE_RESULT);
    /* the guest's command is answered though the host filled its share */
    data(0xf2);
    ck_assert_uint_eq(rd(), 0x10);
    ck_assert_int_eq(pdm_keyboard_put(h.pdm, many + 13, 1), CAP_FALSE_RESULT); /* replies wait */
    int n = 1;
    while (n < 13) {
        ck_assert_uint_eq(h_in(&h, 0x60, 1), 0x10u + (unsigned)n);
        n++;
    }
    ck_assert_uint_eq(rd(), 0xfa); /* identify: ACK, then the ID */
    ck_assert_uint_eq(rd(), 0xab);
    ck_assert_uint_eq(rd(), 0x41);
    ck_assert_uint_eq(status() & 0x01, 0);
    ck_assert_int_eq(pdm_keyboard_put(h.pdm, many + 13, 1), CAP_OK);
    ck_assert_uint_eq(rd(), 0x1d); /* every byte taken, in order */
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
    cmd(0xd4); /* to the mouse: its reset answer, on IRQ12, no timeout */
    data(0xff);
    ck_assert_uint_eq(status() & 0x61, 0x21);
    ck_assert_int_eq(h.irq_level[12], 1);
    ck_assert_uint_eq(rd(), 0xfa);
    ck_assert_uint_eq(rd(), 0xaa);
    ck_assert_uint_eq(rd(), 0x00);
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
    h_ssm_save(&h);
    ck_assert_uint_eq(rd(), 0x2c);
    ck_assert_int_eq(h_ssm_load(&h), CAP_OK);
    ck_assert_uint_eq(rd(), 0x2c);
}
END_TEST

/* ---- the mouse ---------------------------------------------------------------- */

/* A byte to the mouse. */
static void mcmd(uint8_t v)
{
    cmd(0xd4);
    data(v);
}

/* Reads a byte that must come from the mouse. */
static uint8_t rda(void)
{
    ck_assert_uint_eq(status() & 0x21, 0x21);
    return (uint8_t)h_in(&h, 0x60, 1);
}

static void expect_aux(const uint8_t *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_uint_eq(rda(), want[i]);
    ck_assert_uint_eq(status() & 0x01, 0);
}

#define EXPECT(...)                                                                                \
    do {                                                                                           \
        const uint8_t want_[] = {__VA_ARGS__};                                                     \
        expect_aux(want_, sizeof(want_));                                                          \
    } while (0)

static void drain(void)
{
    while (status() & 0x01)
        (void)h_in(&h, 0x60, 1);
}

static void mouse_on(void)
{
    mcmd(0xff);
    EXPECT(0xfa, 0xaa, 0x00);
    mcmd(0xf4);
    EXPECT(0xfa);
}

static void knock(void)
{
    const uint8_t rates[] = {200, 100, 80};
    for (int i = 0; i < 3; i++) {
        mcmd(0xf3);
        mcmd(rates[i]);
        EXPECT(0xfa, 0xfa);
    }
}

START_TEST(test_mouse_commands)
{
    add();
    mcmd(0xff);
    ck_assert_int_eq(h.irq_level[12], 1);
    ck_assert_int_eq(h.irq_level[1], 0);
    EXPECT(0xfa, 0xaa, 0x00);
    mcmd(0xf2);
    EXPECT(0xfa, 0x00);
    mcmd(0xe9); /* status: stream, off, 1:1, no buttons; 4 counts/mm; 100/s */
    EXPECT(0xfa, 0x00, 0x02, 100);
    mcmd(0xf3);
    mcmd(40);
    mcmd(0xe8);
    mcmd(3);
    /* Each byte to the mouse drops the bytes it had not sent yet; the one
     * already in the controller's output buffer stays. */
    EXPECT(0xfa, 0xfa);
    mcmd(0xe7);
    EXPECT(0xfa);
    mcmd(0xf4);
    EXPECT(0xfa);
    mcmd(0xe9);
    EXPECT(0xfa, 0x30, 0x03, 40);
    mcmd(0xf3);
    EXPECT(0xfa);
    mcmd(7); /* not a sample rate */
    EXPECT(0xfe);
    mcmd(0xe8);
    EXPECT(0xfa);
    mcmd(9); /* not a resolution */
    EXPECT(0xfe);
    mcmd(0xe6);
    EXPECT(0xfa);
    mcmd(0xf0); /* remote */
    EXPECT(0xfa);
    ck_assert_int_eq(pdm_mouse_put(h.pdm, 0, 0, 0, PDM_MOUSE_LEFT | PDM_MOUSE_RIGHT), CAP_OK);
    ck_assert_uint_eq(status() & 0x01, 0); /* remote mode sends nothing by itself */
    mcmd(0xe9);
    EXPECT(0xfa, 0x65, 0x03, 40); /* remote, on, left (bit 2), right (bit 0) */
    mcmd(0xf6);                   /* defaults: reporting off, 100/s, 4/mm; the mode stays */
    EXPECT(0xfa);
    mcmd(0xe9);
    EXPECT(0xfa, 0x45, 0x02, 100);
    mcmd(0xea);
    EXPECT(0xfa);
    mcmd(0x12); /* unknown */
    EXPECT(0xfe);
    /* Wrap mode echoes all but 0xEC and 0xFF. */
    mcmd(0xee);
    EXPECT(0xfa);
    mcmd(0x55);
    EXPECT(0x55);
    mcmd(0xf4);
    EXPECT(0xf4);
    mcmd(0xec);
    EXPECT(0xfa);
    mcmd(0xf2);
    EXPECT(0xfa, 0x00);
    mcmd(0xee);
    EXPECT(0xfa);
    mcmd(0xff); /* reset leaves wrap mode */
    EXPECT(0xfa, 0xaa, 0x00);
    mcmd(0xf2);
    EXPECT(0xfa, 0x00);
    ck_assert_int_eq(h.irq_level[1], 0);
    ck_assert_uint_eq(h.irq_raises[1], 0); /* nothing of it went to IRQ1 */
}
END_TEST

START_TEST(test_mouse_packets)
{
    ck_assert_int_eq(pdm_mouse_put(h.pdm, 1, 1, 0, 0), CAP_E_NOTIMPL);
    add();
    /* Reporting off after reset: motion is dropped. */
    ck_assert_int_eq(pdm_mouse_put(h.pdm, 5, 5, 0, 0), CAP_OK);
    ck_assert_uint_eq(status() & 0x01, 0);
    mouse_on();
    ck_assert_int_eq(pdm_mouse_put(h.pdm, 5, 3, 0, PDM_MOUSE_LEFT), CAP_OK);
    EXPECT(0x29, 0x05, 0xfd); /* screen down 3 is PS/2 Y -3: Y sign */
    ck_assert_int_eq(pdm_mouse_put(h.pdm, -10, -2, 0, PDM_MOUSE_MIDDLE), CAP_OK);
    EXPECT(0x1c, 0xf6, 0x02); /* X sign */
    ck_assert_int_eq(pdm_mouse_put(h.pdm, 0, 0, 0, 0), CAP_OK);
    EXPECT(0x08, 0x00, 0x00); /* a button change alone is a packet */
    ck_assert_int_eq(pdm_mouse_put(h.pdm, 0, 0, 0, 0), CAP_OK);
    ck_assert_uint_eq(status() & 0x01, 0); /* nothing changed: nothing sent */
    /* A large move is split into packets of at most 255 / -256. */
    ck_assert_int_eq(pdm_mouse_put(h.pdm, 1000, 0, 0, 0), CAP_OK);
    EXPECT(0x08, 0xff, 0x00, 0x08, 0xff, 0x00, 0x08, 0xff, 0x00, 0x08, 0xeb, 0x00);
    ck_assert_int_eq(pdm_mouse_put(h.pdm, -300, 0, 0, 0), CAP_OK);
    EXPECT(0x18, 0x00, 0x00, 0x18, 0xd4, 0x00);
    /* Beyond what the mouse holds back: the overflow bit, and the rest. */
    ck_assert_int_eq(pdm_mouse_put(h.pdm, 0, -100000, 0, 0), CAP_OK);
    ck_assert_uint_eq(rda(), 0x88); /* Y overflow, Y positive */
    ck_assert_uint_eq(rda(), 0x00);
    ck_assert_uint_eq(rda(), 0xff);
    int32_t sum = 255;
    while (status() & 0x01) {
        uint8_t b0 = rda();
        ck_assert_uint_eq(b0, 0x08);
        ck_assert_uint_eq(rda(), 0x00);
        sum += rda();
    }
    ck_assert_int_eq(sum, 4096);
    /* Bad buttons are an error; extreme values are fine. */
    ck_assert_int_eq(pdm_mouse_put(h.pdm, 0, 0, 0, 0x08), CAP_E_INVALIDARG);
    ck_assert_int_eq(pdm_mouse_put(h.pdm, INT32_MIN, INT32_MIN, INT32_MIN, 0), CAP_OK);
    ck_assert_uint_eq(rda(), 0xd8); /* X and Y overflow, X sign (screen -inf is PS/2 up) */
    drain();
    /* 2:1 scaling in stream mode. */
    mcmd(0xe7);
    EXPECT(0xfa);
    ck_assert_int_eq(pdm_mouse_put(h.pdm, 4, 0, 0, 0), CAP_OK);
    EXPECT(0x08, 0x06, 0x00);
    ck_assert_int_eq(pdm_mouse_put(h.pdm, 50, 0, 0, 0), CAP_OK);
    EXPECT(0x08, 100, 0x00);
    /* Remote mode: 0xEB reads the motion so far (unscaled); 0xFE resends. */
    mcmd(0xf0);
    EXPECT(0xfa);
    ck_assert_int_eq(pdm_mouse_put(h.pdm, 7, 0, 0, PDM_MOUSE_RIGHT), CAP_OK);
    ck_assert_uint_eq(status() & 0x01, 0);
    mcmd(0xeb);
    EXPECT(0xfa, 0x0a, 0x07, 0x00);
    mcmd(0xfe);
    EXPECT(0x0a, 0x07, 0x00);
}
END_TEST

START_TEST(test_intellimouse_knock)
{
    add();
    mouse_on();
    knock();
    mcmd(0xf2);
    EXPECT(0xfa, 0x03);
    ck_assert_int_eq(pdm_mouse_put(h.pdm, 1, 0, 3, 0), CAP_OK);
    EXPECT(0x08, 0x01, 0x00, 0x03);
    ck_assert_int_eq(pdm_mouse_put(h.pdm, 0, 0, -20, 0), CAP_OK);
    EXPECT(0x08, 0x00, 0x00, 0xf8, 0x08, 0x00, 0x00, 0xf8, 0x08, 0x00, 0x00, 0xfc);
    /* Reset forgets it. */
    mcmd(0xff);
    EXPECT(0xfa, 0xaa, 0x00);
    mcmd(0xf2);
    EXPECT(0xfa, 0x00);
    /* The knock must be the three rates in a row. */
    const uint8_t wrong[][3] = {{200, 100, 40}, {100, 200, 80}};
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < 3; i++) {
            mcmd(0xf3);
            mcmd(wrong[k][i]);
            EXPECT(0xfa, 0xfa);
        }
        mcmd(0xf2);
        EXPECT(0xfa, 0x00);
    }
    mcmd(0xf3);
    mcmd(200);
    mcmd(0xf3);
    mcmd(100);
    mcmd(0xe9); /* another command breaks the sequence */
    mcmd(0xf3);
    mcmd(80);
    while (status() & 0x01)
        (void)rda();
    mcmd(0xf2);
    EXPECT(0xfa, 0x00);
    /* Without the knock the wheel is ignored: 3-byte packets. */
    mcmd(0xf4);
    EXPECT(0xfa);
    ck_assert_int_eq(pdm_mouse_put(h.pdm, 2, 0, 5, 0), CAP_OK);
    EXPECT(0x08, 0x02, 0x00);
}
END_TEST

START_TEST(test_mouse_and_keyboard_share_the_buffer)
{
    add();
    mouse_on();
    const uint8_t key = 0x1e;
    ck_assert_int_eq(pdm_mouse_put(h.pdm, 1, 0, 0, 0), CAP_OK);
    ck_assert_int_eq(pdm_keyboard_put(h.pdm, &key, 1), CAP_OK);
    /* The mouse byte was first in the buffer; then the key, then the rest. */
    ck_assert_int_eq(h.irq_level[12], 1);
    ck_assert_int_eq(h.irq_level[1], 0);
    ck_assert_uint_eq(rda(), 0x08);
    ck_assert_uint_eq(status() & 0x21, 0x01);
    ck_assert_int_eq(h.irq_level[1], 1);
    ck_assert_int_eq(h.irq_level[12], 0);
    ck_assert_uint_eq(rd(), 0x1e);
    ck_assert_uint_eq(rda(), 0x01);
    ck_assert_uint_eq(rda(), 0x00);
    ck_assert_uint_eq(status() & 0x01, 0);
    /* The aux interface disabled: mouse bytes wait, keys pass. */
    cmd(0xa7);
    cmd(0x20);
    ck_assert_uint_eq(rd() & 0x20, 0x20);
    ck_assert_int_eq(pdm_mouse_put(h.pdm, 2, 0, 0, 0), CAP_OK);
    ck_assert_uint_eq(status() & 0x01, 0);
    ck_assert_int_eq(pdm_keyboard_put(h.pdm, &key, 1), CAP_OK);
    ck_assert_uint_eq(rd(), 0x1e);
    ck_assert_uint_eq(status() & 0x01, 0);
    cmd(0xa8);
    EXPECT(0x08, 0x02, 0x00);
    /* Command-byte bit 1 off: the buffer fills, IRQ12 stays low. */
    cmd(0x60);
    data(0x45);
    unsigned raises = h.irq_raises[12];
    ck_assert_int_eq(pdm_mouse_put(h.pdm, 3, 0, 0, 0), CAP_OK);
    ck_assert_uint_eq(status() & 0x21, 0x21);
    ck_assert_int_eq(h.irq_level[12], 0);
    EXPECT(0x08, 0x03, 0x00);
    ck_assert_uint_eq(h.irq_raises[12], raises);
}
END_TEST

START_TEST(test_mouse_queue_bounds)
{
    add();
    mouse_on();
    /* A flood the guest does not read: at most the queue and the buffer
     * hold bytes, the rest is coalesced and arrives intact later. */
    for (int i = 0; i < 4000; i++)
        ck_assert_int_eq(pdm_mouse_put(h.pdm, 1, -1, 0, i & 1), CAP_OK);
    int32_t sx = 0, sy = 0;
    unsigned bytes = 0;
    while (status() & 0x01) {
        uint8_t b0 = rda(), x = rda(), y = rda();
        ck_assert_uint_eq(b0 & 0xc8, 0x08); /* no overflow */
        sx += (b0 & 0x10) ? x - 256 : x;
        sy += (b0 & 0x20) ? y - 256 : y;
        bytes += 3;
    }
    ck_assert_int_eq(sx, 4000);
    ck_assert_int_eq(sy, 4000);
    ck_assert_uint_le(bytes, 3 * (6 + 4000 / 255 + 1));
    /* More than the mouse holds back: the excess is lost, and flagged. */
    for (int i = 0; i < 100000; i++)
        ck_assert_int_eq(pdm_mouse_put(h.pdm, 1, 0, 0, 0), CAP_OK);
    sx = 0;
    bool flagged = false;
    while (status() & 0x01) {
        uint8_t b0 = rda(), x = rda();
        (void)rda();
        flagged |= (b0 & 0x40) != 0;
        sx += x;
    }
    ck_assert(flagged);
    ck_assert_int_le(sx, ACC_MAX_TEST + 16);
    /* Button changes while the aux interface holds the bytes back: the
     * queue takes five packets, the rest coalesces into one with the
     * buttons as they are now. */
    cmd(0xa7);
    for (int i = 0; i < 100001; i++)
        ck_assert_int_eq(pdm_mouse_put(h.pdm, 0, 0, 0, (unsigned)i & 3), CAP_OK);
    cmd(0xa8);
    unsigned packets = 0;
    uint8_t last = 0;
    while (status() & 0x01) {
        last = rda();
        (void)rda();
        (void)rda();
        packets++;
    }
    ck_assert_uint_eq(packets, 6);
    ck_assert_uint_eq(last, 0x08 | (100000 & 3));
}
END_TEST

START_TEST(test_mouse_reset_and_state)
{
    add();
    mouse_on();
    knock();
    mcmd(0xe8);
    mcmd(1);
    EXPECT(0xfa, 0xfa);
    h_ssm_save(&h);
    /* The machine reset resets the mouse: ID 0, reporting off. */
    pdm_reset(h.pdm);
    ck_assert_int_eq(pdm_mouse_put(h.pdm, 5, 0, 0, 0), CAP_OK);
    ck_assert_uint_eq(status() & 0x01, 0);
    mcmd(0xf2);
    EXPECT(0xfa, 0x00);
    ck_assert_int_eq(h_ssm_load(&h), CAP_OK);
    mcmd(0xe9);
    EXPECT(0xfa, 0x20, 0x01, 80);
    mcmd(0xf2);
    EXPECT(0xfa, 0x03);
}
END_TEST

START_TEST(test_fuzz)
{
    add();
    srand(1234);
    for (int i = 0; i < 200000; i++) {
        int r = rand();
        switch (r % 7) {
        case 0:
            cmd((uint8_t)(rand() % 0xf0)); /* the 0xF0-0xFF pulses only reset */
            break;
        case 1:
        case 2:
            data((uint8_t)rand());
            break;
        case 3:
            (void)h_in(&h, 0x60, 1);
            break;
        case 4:
            mcmd((uint8_t)rand());
            break;
        case 5:
            (void)pdm_mouse_put(h.pdm, rand() % 2001 - 1000, rand() % 2001 - 1000, rand() % 21 - 10,
                                (unsigned)rand() & 7);
            break;
        default: {
            uint8_t k = (uint8_t)rand();
            (void)pdm_keyboard_put(h.pdm, &k, 1);
            break;
        }
        }
        uint8_t st = status();
        if (st & 0x20)
            ck_assert_uint_eq(st & 0x01, 0x01); /* aux data is always data */
        ck_assert_int_le(h.irq_level[1] + h.irq_level[12], 1);
    }
    /* Whatever it did, a reset brings both back. */
    pdm_reset(h.pdm);
    ck_assert_uint_eq(status() & 0x01, 0);
    mouse_on();
    mcmd(0xf2);
    EXPECT(0xfa, 0x00);
    data(0xff);
    ck_assert_uint_eq(rd(), 0xfa);
    ck_assert_uint_eq(rd(), 0xaa);
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
    tcase_add_test(tc, test_mouse_commands);
    tcase_add_test(tc, test_mouse_packets);
    tcase_add_test(tc, test_intellimouse_knock);
    tcase_add_test(tc, test_mouse_and_keyboard_share_the_buffer);
    tcase_add_test(tc, test_mouse_queue_bounds);
    tcase_add_test(tc, test_mouse_reset_and_state);
    tcase_add_test(tc, test_fuzz);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
