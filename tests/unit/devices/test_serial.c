/*
 * tests/unit/devices/test_serial.c - the 16550A UART: registers, DLAB,
 * FIFO, interrupts (THRE, RX, timeout, line status), loopback, backends
 * (file output, Unix socket input and output).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"

#define COM1 0x3f8

static struct harness h;
static char dir[64];

static void setup(void)
{
    h_setup(&h);
    strcpy(dir, "/tmp/capsule-serial-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    h_teardown(&h);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void add_file(const char *path)
{
    char spec[160];
    snprintf(spec, sizeof(spec), "file:%s", path);
    struct pdm_cfg_kv kv[] = {{"backend", spec}};
    ck_assert_int_eq(h_add(&h, "serial", kv, 1), CAP_OK);
}

START_TEST(test_reset_state_and_scratch)
{
    ck_assert_int_eq(h_add(&h, "serial", NULL, 0), CAP_OK);
    ck_assert_uint_eq(h_in(&h, COM1 + 2, 1), 0x01); /* IIR: nothing pending */
    ck_assert_uint_eq(h_in(&h, COM1 + 5, 1), 0x60); /* THRE | TEMT */
    h_out(&h, COM1 + 7, 1, 0xa5);
    ck_assert_uint_eq(h_in(&h, COM1 + 7, 1), 0xa5);
    /* DLAB: the divisor latch shadows RBR/THR and IER. */
    h_out(&h, COM1 + 3, 1, 0x83);
    h_out(&h, COM1 + 0, 1, 0x01);
    h_out(&h, COM1 + 1, 1, 0x00);
    ck_assert_uint_eq(h_in(&h, COM1 + 0, 1), 0x01);
    h_out(&h, COM1 + 3, 1, 0x03);
    ck_assert_uint_eq(h_in(&h, COM1 + 3, 1), 0x03);
    ck_assert_uint_eq(h_in(&h, COM1 + 1, 1), 0x00);
    /* A 16-bit access is split into bytes (IOM_F_SPLIT). */
    ck_assert_uint_eq(h_in(&h, COM1 + 6, 2), 0xa5b0);
}
END_TEST

START_TEST(test_file_output_and_thre_irq)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/out.txt", dir);
    add_file(path);
    h_out(&h, COM1 + 1, 1, 0x02); /* ETBEI: THR is empty, so THRE fires at once */
    ck_assert_int_eq(h.irq_level[4], 1);
    ck_assert_uint_eq(h_in(&h, COM1 + 2, 1), 0x02);
    ck_assert_int_eq(h.irq_level[4], 0); /* reading IIR acked THRE */
    const char *msg = "hello, capsule\n";
    for (const char *p = msg; *p; p++)
        h_out(&h, COM1, 1, (uint8_t)*p);
    ck_assert_int_eq(h.irq_level[4], 1);
    char buf[64] = {0};
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fread(buf, 1, sizeof(buf) - 1, f), strlen(msg));
    fclose(f);
    ck_assert_str_eq(buf, msg);
}
END_TEST

START_TEST(test_loopback_fifo_trigger_and_timeout)
{
    ck_assert_int_eq(h_add(&h, "serial", NULL, 0), CAP_OK);
    h_out(&h, COM1 + 4, 1, 0x10 | 0x0b); /* loop, OUT2, RTS, DTR */
    uint8_t msr = (uint8_t)h_in(&h, COM1 + 6, 1);
    ck_assert_uint_eq(msr & 0xf0, 0x80 | 0x10 | 0x20); /* DCD, CTS, DSR follow MCR */
    h_out(&h, COM1 + 2, 1, 0x87);                      /* FIFO on, clear, trigger 8 */
    ck_assert_uint_eq(h_in(&h, COM1 + 2, 1) & 0xc0, 0xc0);
    h_out(&h, COM1 + 1, 1, 0x01); /* ERBFI */
    for (int i = 0; i < 7; i++)
        h_out(&h, COM1, 1, 'a' + i);
    ck_assert_int_eq(h.irq_level[4], 0); /* below the trigger */
    ck_assert_uint_eq(h_in(&h, COM1 + 5, 1) & 1, 1);
    h_out(&h, COM1, 1, 'h');
    ck_assert_int_eq(h.irq_level[4], 1);
    ck_assert_uint_eq(h_in(&h, COM1 + 2, 1) & 0x0f, 0x04);
    for (int i = 0; i < 5; i++)
        ck_assert_uint_eq(h_in(&h, COM1, 1), 'a' + i);
    ck_assert_int_eq(h.irq_level[4], 0);
    /* Three bytes left, below the trigger: the character timeout fires after
     * four character times (at 9600 baud about 4.2 ms). */
    h_advance(&h, 1000000);
    ck_assert_int_eq(h.irq_level[4], 0);
    h_advance(&h, 4000000);
    ck_assert_int_eq(h.irq_level[4], 1);
    ck_assert_uint_eq(h_in(&h, COM1 + 2, 1) & 0x0f, 0x0c);
    ck_assert_uint_eq(h_in(&h, COM1, 1), 'f');
    ck_assert_uint_eq(h_in(&h, COM1, 1), 'g');
    ck_assert_uint_eq(h_in(&h, COM1, 1), 'h');
    ck_assert_int_eq(h.irq_level[4], 0);
    ck_assert_uint_eq(h_in(&h, COM1 + 5, 1) & 1, 0);
}
END_TEST

START_TEST(test_overrun_line_status)
{
    ck_assert_int_eq(h_add(&h, "serial", NULL, 0), CAP_OK);
    h_out(&h, COM1 + 4, 1, 0x10); /* loopback, FIFO off: one holding register */
    h_out(&h, COM1 + 1, 1, 0x04); /* ELSI */
    h_out(&h, COM1, 1, 'x');
    h_out(&h, COM1, 1, 'y');
    ck_assert_int_eq(h.irq_level[4], 1);
    ck_assert_uint_eq(h_in(&h, COM1 + 2, 1), 0x06);
    ck_assert_uint_eq(h_in(&h, COM1 + 5, 1) & 0x03, 0x03); /* DR | OE */
    ck_assert_uint_eq(h_in(&h, COM1 + 5, 1) & 0x02, 0);    /* OE cleared by the read */
    ck_assert_int_eq(h.irq_level[4], 0);
    ck_assert_uint_eq(h_in(&h, COM1, 1), 'x');
}
END_TEST

START_TEST(test_unix_socket)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/sock", dir);
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, path);
    ck_assert_int_eq(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(ls, 1), 0);
    char spec[160];
    snprintf(spec, sizeof(spec), "unix:%s", path);
    struct pdm_cfg_kv kv[] = {{"backend", spec}, {"irq", "3"}};
    ck_assert_int_eq(h_add(&h, "serial", kv, 2), CAP_OK);
    int peer = accept(ls, NULL, NULL);
    ck_assert_int_ge(peer, 0);
    h_out(&h, COM1, 1, 'Q');
    char c = 0;
    ck_assert_int_eq(read(peer, &c, 1), 1);
    ck_assert_int_eq(c, 'Q');
    h_out(&h, COM1 + 1, 1, 0x01);
    ck_assert_int_eq(write(peer, "ok", 2), 2);
    h_advance(&h, 1000000); /* the input poll */
    ck_assert_int_eq(h.irq_level[3], 1);
    ck_assert_uint_eq(h_in(&h, COM1, 1), 'o');
    /* Without FIFO only one byte is taken at a time: no host overrun. */
    ck_assert_uint_eq(h_in(&h, COM1 + 5, 1) & 0x03, 0x00);
    h_advance(&h, 1000000);
    ck_assert_uint_eq(h_in(&h, COM1, 1), 'k');
    close(peer);
    close(ls);
    h_advance(&h, 1000000); /* EOF: the poll stops, nothing breaks */
    h_out(&h, COM1, 1, 'z'); /* the peer is gone: output dropped, logged once */
    h_out(&h, COM1, 1, 'z');
}
END_TEST

START_TEST(test_bad_backend)
{
    struct pdm_cfg_kv kv[] = {{"backend", "tcp:1234"}};
    ck_assert_int_eq(h_add(&h, "serial", kv, 1), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "unknown backend 'tcp:1234'"));
    struct pdm_cfg_kv kv2[] = {{"backend", "unix:/nonexistent/sock"}};
    ck_assert_int_eq(h_add(&h, "serial", kv2, 1), CAP_E_IO);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "serial0"));
    ck_assert(!iom_io_claimed(h.iom, COM1));
}
END_TEST

START_TEST(test_two_ports_and_conflict)
{
    ck_assert_int_eq(h_add(&h, "serial", NULL, 0), CAP_OK);
    ck_assert_int_eq(h_add(&h, "serial", NULL, 0), CAP_OK); /* COM2 */
    ck_assert(iom_io_claimed(h.iom, 0x2f8));
    struct pdm_cfg_kv kv[] = {{"iobase", "0x3fc"}};
    ck_assert_int_eq(h_add(&h, "serial", kv, 1), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "overlaps"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dev-serial");
    TCase *tc = tcase_create("serial");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_reset_state_and_scratch);
    tcase_add_test(tc, test_file_output_and_thre_irq);
    tcase_add_test(tc, test_loopback_fifo_trigger_and_timeout);
    tcase_add_test(tc, test_overrun_line_status);
    tcase_add_test(tc, test_unix_socket);
    tcase_add_test(tc, test_bad_backend);
    tcase_add_test(tc, test_two_ports_and_conflict);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
