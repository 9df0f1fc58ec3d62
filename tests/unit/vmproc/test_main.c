/*
 * tests/unit/vmproc/test_main.c - runs the VM process's unit suites, and
 * the helpers they share (vmproc_test.h).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vmproc_test.h"

/* mov dx,0x3f8; mov al,'h'; out dx,al; mov al,'i'; out dx,al; mov al,10;
 * out dx,al; mov al,0x2a; out 0xf4,al; hlt; jmp back to the hlt */
const uint8_t vt_guest_hello[] = {0x66, 0xba, 0xf8, 0x03, 0xb0, 'h',  0xee, 0xb0, 'i',
                                  0xee, 0xb0, 0x0a, 0xee, 0xb0, 0x2a, 0xe6, 0xf4, 0xf4,
                                  0xeb, 0xfd};
const size_t vt_guest_hello_len = sizeof(vt_guest_hello);

/* jmp $ */
const uint8_t vt_guest_spin[] = {0xeb, 0xfe};
const size_t vt_guest_spin_len = sizeof(vt_guest_spin);

/* 0: mov dx,0x3fd  4: in al,dx  5: test al,1  7: jz 4  9: mov dx,0x3f8
 * 13: in al,dx  14: cmp al,'.'  16: je 23  18: inc al  20: out dx,al
 * 21: jmp 0  23: mov al,7  25: out 0xf4,al  27: hlt  28: jmp 27 */
const uint8_t vt_guest_echo[] = {0x66, 0xba, 0xfd, 0x03, 0xec, 0xa8, 0x01, 0x74, 0xfb, 0x66,
                                 0xba, 0xf8, 0x03, 0xec, 0x3c, '.',  0x74, 0x05, 0xfe, 0xc0,
                                 0xee, 0xeb, 0xe9, 0xb0, 0x07, 0xe6, 0xf4, 0xf4, 0xeb, 0xfd};
const size_t vt_guest_echo_len = sizeof(vt_guest_echo);

char *vt_tmpdir(void)
{
    char *d = strdup("/tmp/vmproc-ut.XXXXXX");
    ck_assert_ptr_nonnull(d);
    ck_assert_ptr_nonnull(mkdtemp(d));
    return d;
}

void vt_rmdir(char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                char *p = vt_path(dir, e->d_name);
                unlink(p);
                free(p);
            }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

char *vt_path(const char *dir, const char *name)
{
    char *p = NULL;
    ck_assert_int_ge(asprintf(&p, "%s/%s", dir, name), 0);
    return p;
}

char *vt_write_file(const char *dir, const char *name, const void *bytes, size_t n)
{
    char *p = vt_path(dir, name);
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(bytes, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
    return p;
}

char *vt_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(m);
    int c;
    while ((c = fgetc(f)) != EOF)
        fputc(c, m);
    fclose(f);
    fclose(m);
    return buf;
}

void vt_opts(struct vmproc_opts *o, const char *kernel, const char *serial)
{
    vmproc_opts_init(o);
    o->kernel = kernel;
    o->engine = VM_ENGINE_REM;
    o->debug_exit = true;
    o->serial = serial;
}

int vt_connect(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect %s: %s", path,
                  strerror(errno));
    return fd;
}

ssize_t vt_read_for(int fd, char *buf, size_t cap, size_t want, int ms)
{
    size_t got = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (got < want && got + 1 < cap) {
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        int left = ms - (int)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
        struct pollfd p = {fd, POLLIN, 0};
        if (left <= 0 || poll(&p, 1, left) <= 0)
            break;
        ssize_t n = read(fd, buf + got, cap - 1 - got);
        if (n <= 0) {
            if (!got)
                return -1;
            break;
        }
        got += (size_t)n;
    }
    buf[got] = '\0';
    return (ssize_t)got;
}

void vt_add_case(Suite *s, const char *name, int timeout, const TTest *const *tests)
{
    TCase *tc = tcase_create(name);
    if (timeout)
        tcase_set_timeout(tc, timeout);
    for (; *tests; tests++)
        tcase_add_test(tc, *tests);
    suite_add_tcase(s, tc);
}

int main(void)
{
    SRunner *sr = srunner_create(opts_suite());
    srunner_add_suite(sr, serial_server_suite());
    srunner_add_suite(sr, console_suite());
    srunner_add_suite(sr, vmproc_suite());
    srunner_add_suite(sr, managed_args_suite());
    srunner_add_suite(sr, inputfeed_suite());
    srunner_add_suite(sr, fbpending_suite());
    srunner_add_suite(sr, consolefb_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
