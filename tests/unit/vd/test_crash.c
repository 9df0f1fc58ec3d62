/*
 * tests/unit/vd/test_crash.c - crash safety of dynamic VDI allocation: a
 * child writes 256 KiB pieces of a fresh image in a shuffled order,
 * flushing after each and reporting it on a pipe; the parent kills it with
 * SIGKILL at a random moment. `qemu-img check` must then find no errors,
 * and every piece the child reported reads back.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <capsule/result.h>

#include "vd_test.h"

#define PIECE  (256u * 1024)
#define BLOCKS 64u
#define PIECES (BLOCKS * MIB / PIECE)

struct report {
    uint32_t piece, seed;
};

static void shuffle(uint32_t *order, unsigned n, unsigned seed)
{
    for (unsigned i = 0; i < n; i++)
        order[i] = i;
    for (unsigned i = n - 1; i > 0; i--) {
        seed = seed * 1103515245u + 12345u;
        unsigned j = (seed >> 8) % (i + 1);
        uint32_t t = order[i];
        order[i] = order[j], order[j] = t;
    }
}

_Noreturn static void writer(const char *path, int fd, unsigned seed)
{
    static uint8_t buf[PIECE];
    uint32_t order[PIECES];
    struct vd_disk *d;
    if (vd_open(path, VD_FORMAT_VDI, VD_OPEN_READWRITE, &d) != CAP_OK)
        _exit(2);
    shuffle(order, PIECES, seed);
    for (unsigned i = 0; i < PIECES; i++) {
        struct report r = {order[i], seed + i};
        uint64_t off = (uint64_t)r.piece * PIECE;
        pattern(buf, PIECE, r.seed, off);
        if (vd_write(d, off, buf, PIECE) != CAP_OK || vd_flush(d) != CAP_OK)
            _exit(3);
        if (write(fd, &r, sizeof r) != sizeof r)
            _exit(4);
    }
    for (;;)
        pause();
}

static void crash_once(unsigned seed)
{
    char path[512], out[4096];
    int fds[2];
    snprintf(path, sizeof path, "%s", scratch("crash.vdi"));
    unlink(path);
    ck_assert_int_eq(vd_create(path, VD_FORMAT_VDI, BLOCKS * MIB, VD_VARIANT_DYNAMIC, NULL),
                     CAP_OK);
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        writer(path, fds[1], seed);
    }
    close(fds[1]);
    struct timespec ts = {0, (long)(seed % 250) * 1000000L + (long)(seed % 997) * 1000L};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFSIGNALED(st), "writer failed: status 0x%x (seed %u)", st, seed);

    static struct report done[PIECES];
    size_t n = 0;
    ssize_t k;
    while ((k = read(fds[0], (char *)done + n, sizeof done - n)) > 0)
        n += (size_t)k;
    close(fds[0]);
    n /= sizeof done[0];
    if (getenv("VD_TEST_VERBOSE"))
        fprintf(stderr, "crash: seed %u: killed after %zu of %u pieces\n", seed, n, PIECES);

    int rc = run(out, sizeof out, "qemu-img check -f vdi '%s'", path);
    ck_assert_msg(rc == 0 || rc == 3, "seed %u, %zu pieces done: qemu-img check %d: %s", seed, n,
                  rc, out);
    ck_assert_msg(!strstr(out, "ERROR"), "seed %u: %s", seed, out);

    struct vd_disk *d;
    static uint8_t buf[PIECE];
    ck_assert_int_eq(vd_open(path, VD_FORMAT_VDI, VD_OPEN_READONLY, &d), CAP_OK);
    for (size_t i = 0; i < n; i++) {
        uint64_t off = (uint64_t)done[i].piece * PIECE;
        ck_assert_int_eq(vd_read(d, off, buf, PIECE), CAP_OK);
        ck_assert_msg(has_pattern(buf, PIECE, done[i].seed, off),
                      "seed %u: piece %u (flushed) lost", seed, done[i].piece);
    }
    vd_close(d);
    /* and it stays usable: a read-write open and more writes */
    ck_assert_int_eq(vd_open(path, VD_FORMAT_VDI, VD_OPEN_READWRITE, &d), CAP_OK);
    for (uint32_t b = 0; b < BLOCKS; b += 5) {
        pattern(buf, 4096, b, (uint64_t)b * MIB);
        ck_assert_int_eq(vd_write(d, (uint64_t)b * MIB, buf, 4096), CAP_OK);
    }
    vd_close(d);
    rc = run(out, sizeof out, "qemu-img check -f vdi '%s'", path);
    ck_assert_msg(rc == 0, "seed %u: after more writes: qemu-img check %d: %s", seed, rc, out);
}

START_TEST(killed_writer_leaves_clean_image)
{
    unsigned base = (unsigned)time(NULL) ^ (unsigned)getpid();
    for (unsigned i = 0; i < 4; i++)
        crash_once(base * 2654435761u + i * 7919u);
}
END_TEST

TCase *tcase_crash(void)
{
    TCase *tc = tcase_create("crash");
    tcase_add_test(tc, killed_writer_leaves_clean_image);
    return tc;
}
