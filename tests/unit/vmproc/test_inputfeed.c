/*
 * tests/unit/vmproc/test_inputfeed.c - capsule-vm --input-feed
 * (plugins/frontends/vmproc/vmproc_inputfeed.c): its lines against a VM
 * built with and without the virtio tablet (created, not run: the devices
 * take input while the guest is stopped too), the answers to bad lines,
 * the option, and the feed thread reading a file and a FIFO and stopping.
 */
#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmproc_inputfeed.h"
#include "vmproc_test.h"

static char *dir, *kernel;

static void setup(void)
{
    dir = vt_tmpdir();
    kernel = vt_write_file(dir, "guest.bin", vt_guest_spin, vt_guest_spin_len);
}

static void teardown(void)
{
    free(kernel);
    vt_rmdir(dir);
}

/* A VM of the spinning guest, with the tablet when `tablet`. */
static struct vmproc *vm_of(bool tablet)
{
    struct vmproc_opts o;
    vt_opts(&o, kernel, "none");
    if (tablet) {
        o.extra_devices[0] = "virtioinput";
        o.n_extra_devices = 1;
    }
    struct vmproc *p = NULL;
    ck_assert_int_eq(vmproc_create(&o, &p), CAP_OK);
    return p;
}

/* The answer to `line`: "" when taken, else why not. */
static const char *answer(struct vmproc *p, const char *line)
{
    const char *why;
    cap_result rc = vmproc_inputfeed_line(vmproc_vm(p), line, &why);
    ck_assert_msg(CAP_SUCCEEDED(rc) == (why == NULL), "line '%s'", line);
    return why ? why : "";
}

#define ck_answer(p, line, part)                                                                   \
    ck_assert_msg(strstr(answer((p), (line)), (part)), "'%s': '%s' lacks '%s'", (line),            \
                  answer((p), (line)), (part))

START_TEST(test_lines)
{
    struct vmproc *p = vm_of(true);
    ck_assert_str_eq(answer(p, "abs 0 32767"), "");
    ck_assert_str_eq(answer(p, "  abs 0x10 20 -3 5"), "");
    ck_assert_str_eq(answer(p, "rel -5 7 1 1"), ""); /* the i8042's mouse */
    ck_assert_str_eq(answer(p, "keys 1e 9e"), "");   /* and keyboard */
    ck_assert_str_eq(answer(p, ""), "");
    ck_assert_str_eq(answer(p, "# a comment"), "");
    ck_answer(p, "abs 32768 0", "out of range");
    ck_answer(p, "abs -1 0", "out of range");
    ck_answer(p, "abs 0 0 0 8", "out of range");
    ck_answer(p, "abs 1 2 3 4 5", "expected: abs X Y");
    ck_answer(p, "abs 1", "expected: abs X Y");
    ck_answer(p, "abs 1 x", "expected: abs X Y");
    ck_answer(p, "abs 99999999999 1", "out of range");
    ck_answer(p, "rel 1", "expected: rel DX DY");
    ck_answer(p, "keys", "not abs, rel, keys or save");
    ck_answer(p, "keys 100", "expected: keys HEX");
    ck_answer(p, "keys zz", "expected: keys HEX");
    ck_answer(p, "click 1 2", "not abs, rel, keys or save");
    vmproc_destroy(p);
    /* without the tablet: PDM says so */
    p = vm_of(false);
    ck_answer(p, "abs 1 1", "no absolute pointing device");
    ck_assert_str_eq(answer(p, "rel 1 1"), "");
    vmproc_destroy(p);
}
END_TEST

START_TEST(test_thread)
{
    struct vmproc *p = vm_of(true);
    struct inputfeed *f = NULL;
    char *missing = vt_path(dir, "missing");
    ck_assert_int_ne(vmproc_inputfeed_start(vmproc_vm(p), missing, &f), CAP_OK);
    ck_assert_ptr_null(f);
    free(missing);
    /* a file: read to its end; a FIFO without a writer: stop ends it */
    static const char lines[] = "abs 1 2\nbad\nabs 3 4";
    char *file = vt_write_file(dir, "feed.txt", lines, sizeof(lines) - 1);
    ck_assert_int_eq(vmproc_inputfeed_start(vmproc_vm(p), file, &f), CAP_OK);
    vmproc_inputfeed_stop(f);
    free(file);
    char *fifo = vt_path(dir, "feed.fifo");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    ck_assert_int_eq(vmproc_inputfeed_start(vmproc_vm(p), fifo, &f), CAP_OK);
    int w = open(fifo, O_WRONLY | O_NONBLOCK); /* the feed holds it open */
    ck_assert_int_ge(w, 0);
    ck_assert_int_eq(write(w, "abs 5 6\n", 8), 8);
    close(w);
    vmproc_inputfeed_stop(f);
    vmproc_inputfeed_stop(NULL);
    free(fifo);
    vmproc_destroy(p);
}
END_TEST

START_TEST(test_option)
{
    struct vmproc_opts o;
    vmproc_opts_init(&o);
    char *argv[] = {"capsule-vm", "--kernel", "k", "--input-feed", "/tmp/f", NULL};
    FILE *null = fopen("/dev/null", "w");
    ck_assert_int_eq(vmproc_parse_args(5, argv, &o, null, null), 0);
    ck_assert_str_eq(o.input_feed, "/tmp/f");
    char *bad[] = {"capsule-vm", "--kernel", "k", "--input-feed", "", NULL};
    vmproc_opts_init(&o);
    ck_assert_int_eq(vmproc_parse_args(5, bad, &o, null, null), -1);
    fclose(null);
}
END_TEST

Suite *inputfeed_suite(void)
{
    Suite *s = suite_create("inputfeed");
    TCase *tc = tcase_create("inputfeed");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, VT_TIMEOUT);
    tcase_add_test(tc, test_lines);
    tcase_add_test(tc, test_thread);
    tcase_add_test(tc, test_option);
    suite_add_tcase(s, tc);
    return s;
}
