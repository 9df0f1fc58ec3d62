/*
 * plugins/frontends/vmproc/vmproc_inputfeed.c - capsule-vm --input-feed
 * (see vmproc_inputfeed.h): a thread reads lines and hands them to PDM's
 * input entry points, which take them from any thread.
 *
 * The thread waits in poll() on the file and on a pipe of its own; stop
 * writes to the pipe, so the thread ends at once even while a FIFO has no
 * writer (a FIFO is opened read-write: never an end of file, never a
 * hang-up to spin on).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <capsule/errorinfo.h>

#include "pdm/pdm.h"
#include "vmproc_inputfeed.h"

#define FEED_LINE_MAX 512
#define FEED_KEYS_MAX 64

struct inputfeed {
    struct vm *vm;
    int fd;
    int stop[2]; /* the pipe stop writes to */
    pthread_t thread;
    char buf[FEED_LINE_MAX];
    size_t len;
    unsigned line_no;
};

/* Up to `max` integers of `s` (decimal or 0x hex); the count, or -1 when
 * something else is there. */
static int parse_ints(const char *s, long long *v, int max)
{
    int n = 0;
    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            return n;
        if (n == max)
            return -1;
        char *end;
        errno = 0;
        v[n++] = strtoll(s, &end, 0);
        if (end == s || errno || (*end && *end != ' ' && *end != '\t'))
            return -1;
        s = end;
    }
}

static cap_result mouse_line(struct vm *vm, bool abs, const char *args, const char **why)
{
    long long v[4] = {0, 0, 0, 0};
    int n = parse_ints(args, v, 4);
    if (n < 2) {
        *why = abs ? "expected: abs X Y [DZ [BUTTONS]]" : "expected: rel DX DY [DZ [BUTTONS]]";
        return CAP_E_INVALIDARG;
    }
    for (int i = 0; i < 4; i++)
        if (v[i] < INT32_MIN || v[i] > INT32_MAX || (abs && i < 2 && v[i] < 0) ||
            (i == 3 && v[i] < 0)) {
            *why = "a number out of range";
            return CAP_E_INVALIDARG;
        }
    cap_result rc = abs ? pdm_mouse_put_abs(vm_pdm(vm), (uint32_t)v[0], (uint32_t)v[1],
                                            (int32_t)v[2], (uint32_t)v[3])
                        : pdm_mouse_put(vm_pdm(vm), (int32_t)v[0], (int32_t)v[1], (int32_t)v[2],
                                        (uint32_t)v[3]);
    if (CAP_FAILED(rc))
        *why = cap_error_peek_message() ? cap_error_peek_message() : "refused";
    return rc;
}

static cap_result keys_line(struct vm *vm, const char *args, const char **why)
{
    uint8_t codes[FEED_KEYS_MAX];
    size_t n = 0;
    const char *s = args;
    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            break;
        char *end;
        unsigned long b = strtoul(s, &end, 16);
        if (end == s || (*end && *end != ' ' && *end != '\t') || b > 0xff || n == FEED_KEYS_MAX) {
            *why = "expected: keys HEX... (up to 64 bytes, 00-ff)";
            return CAP_E_INVALIDARG;
        }
        codes[n++] = (uint8_t)b;
        s = end;
    }
    if (!n) {
        *why = "expected: keys HEX...";
        return CAP_E_INVALIDARG;
    }
    cap_result rc = pdm_keyboard_put(vm_pdm(vm), codes, n);
    if (CAP_FAILED(rc))
        *why = cap_error_peek_message() ? cap_error_peek_message() : "refused";
    return rc;
}

/* save FILE: pause, write the saved state, power off; on failure the VM
 * is resumed and goes on. */
static cap_result save_line(struct vm *vm, const char *path, const char **why)
{
    while (*path == ' ')
        path++;
    if (!*path) {
        *why = "expected: save FILE";
        return CAP_E_INVALIDARG;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t bytes = 0;
    cap_result rc = vm_pause(vm);
    bool paused = CAP_SUCCEEDED(rc);
    if (paused)
        rc = vm_save_state(vm, path, "capsule-vm", &bytes);
    if (CAP_FAILED(rc)) {
        *why = cap_error_peek_message() ? cap_error_peek_message() : "saving failed";
        if (paused)
            vm_resume(vm);
        return rc;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr, "capsule-vm: saved the state to %s: %llu bytes in %.1f ms; powering off\n",
            path, (unsigned long long)bytes,
            (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    return vm_power_off(vm);
}

cap_result vmproc_inputfeed_line(struct vm *vm, const char *line, const char **why)
{
    *why = NULL;
    while (*line == ' ' || *line == '\t')
        line++;
    if (!*line || *line == '#')
        return CAP_OK;
    if (!strncmp(line, "abs ", 4) || !strncmp(line, "rel ", 4))
        return mouse_line(vm, line[0] == 'a', line + 4, why);
    if (!strncmp(line, "keys ", 5))
        return keys_line(vm, line + 5, why);
    if (!strncmp(line, "save ", 5))
        return save_line(vm, line + 5, why);
    *why = "not abs, rel, keys or save";
    return CAP_E_INVALIDARG;
}

/* Hands every whole line in f->buf over; keeps the rest. */
static void take_lines(struct inputfeed *f, bool at_end)
{
    size_t start = 0;
    for (size_t i = 0; i < f->len; i++) {
        if (f->buf[i] != '\n' && !(at_end && i + 1 == f->len))
            continue;
        size_t end = f->buf[i] == '\n' ? i : i + 1;
        char line[FEED_LINE_MAX + 1];
        memcpy(line, f->buf + start, end - start);
        line[end - start] = '\0';
        f->line_no++;
        const char *why;
        if (CAP_FAILED(vmproc_inputfeed_line(f->vm, line, &why)))
            fprintf(stderr, "capsule-vm: input feed: line %u: %s\n", f->line_no, why);
        start = i + 1;
    }
    memmove(f->buf, f->buf + start, f->len - start);
    f->len -= start;
    if (f->len == sizeof(f->buf)) { /* a line longer than the buffer */
        f->line_no++;
        fprintf(stderr, "capsule-vm: input feed: line %u: longer than %d bytes\n", f->line_no,
                FEED_LINE_MAX);
        f->len = 0;
    }
}

static void *feed_thread(void *arg)
{
    struct inputfeed *f = arg;
    struct pollfd p[2] = {{.fd = f->fd, .events = POLLIN}, {.fd = f->stop[0], .events = POLLIN}};
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        ssize_t n = read(f->fd, f->buf + f->len, sizeof(f->buf) - f->len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0) { /* the end of a regular file */
            take_lines(f, true);
            break;
        }
        f->len += (size_t)n;
        take_lines(f, false);
    }
    return NULL;
}

cap_result vmproc_inputfeed_start(struct vm *vm, const char *path, struct inputfeed **out)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st))
        return cap_error_set(CAP_E_INVALIDARG, "capsule-vm", NULL, "--input-feed '%s': %s", path,
                             strerror(errno));
    struct inputfeed *f = calloc(1, sizeof(*f));
    if (!f)
        return cap_error_set(CAP_E_OUTOFMEMORY, "capsule-vm", NULL, "out of memory");
    f->vm = vm;
    f->stop[0] = f->stop[1] = -1;
    f->fd = open(path, (S_ISFIFO(st.st_mode) ? O_RDWR | O_NONBLOCK : O_RDONLY) | O_CLOEXEC);
    if (f->fd < 0 || pipe2(f->stop, O_CLOEXEC) ||
        pthread_create(&f->thread, NULL, feed_thread, f)) {
        int e = errno;
        if (f->fd >= 0)
            close(f->fd);
        if (f->stop[0] >= 0) {
            close(f->stop[0]);
            close(f->stop[1]);
        }
        free(f);
        return cap_error_set(CAP_E_FAIL, "capsule-vm", NULL, "--input-feed '%s': %s", path,
                             strerror(e));
    }
    *out = f;
    return CAP_OK;
}

void vmproc_inputfeed_stop(struct inputfeed *f)
{
    if (!f)
        return;
    ssize_t w = write(f->stop[1], "x", 1);
    (void)w;
    pthread_join(f->thread, NULL);
    close(f->fd);
    close(f->stop[0]);
    close(f->stop[1]);
    free(f);
}
