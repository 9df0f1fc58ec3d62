/*
 * tests/unit/vd/test_main.c - the vd suite (runtime/vd, capsule/vd.h):
 * formats (round trips, arguments), hostile (bad VDI headers and maps,
 * repair), qemu (interop with qemu-img), crash (a writer killed with
 * SIGKILL leaves a clean image). Shared helpers live here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <capsule/errorinfo.h>

#include "../../lib/testskip.h"
#include "vd_test.h"

static char scratch_dir[256];
static pid_t scratch_owner;

/* The folder is made once by main() and shared by every test (each names
 * its own files); only the process that made it removes it: Check's test
 * processes inherit it and exit in ways that skip atexit. */
static void remove_scratch(void)
{
    char cmd[300];
    if (scratch_dir[0] && getpid() == scratch_owner) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", scratch_dir);
    }
}

static void make_scratch(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(scratch_dir, sizeof scratch_dir, "%s/vdtest.XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(scratch_dir)) {
        perror("vd test: mkdtemp");
        exit(EXIT_FAILURE);
    }
    scratch_owner = getpid();
    atexit(remove_scratch);
}

const char *scratch(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", scratch_dir, name);
    return path;
}

const char *take_message(void)
{
    static char buf[4096];
    struct cap_error_info info;
    buf[0] = '\0';
    if (cap_error_take(&info) == 0 && info.message)
        snprintf(buf, sizeof buf, "%s", info.message);
    cap_error_info_clear(&info);
    return buf;
}

static uint8_t pattern_byte(uint32_t seed, uint64_t off)
{
    uint64_t x = (off / 8) * 0x9E3779B97F4A7C15ull ^ seed;
    x ^= x >> 29;
    return (uint8_t)(x >> (8 * (off % 8)));
}

void pattern(void *buf, size_t len, uint32_t seed, uint64_t offset)
{
    uint8_t *p = buf;
    for (size_t i = 0; i < len; i++)
        p[i] = pattern_byte(seed, offset + i);
}

int has_pattern(const void *buf, size_t len, uint32_t seed, uint64_t offset)
{
    const uint8_t *p = buf;
    for (size_t i = 0; i < len; i++)
        if (p[i] != pattern_byte(seed, offset + i))
            return 0;
    return 1;
}

int all_bytes(const void *buf, size_t len, uint8_t v)
{
    const uint8_t *p = buf;
    for (size_t i = 0; i < len; i++)
        if (p[i] != v)
            return 0;
    return 1;
}

int run(char *out, size_t n, const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    strncat(cmd, " 2>&1", sizeof cmd - strlen(cmd) - 1);
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    size_t got = 0;
    char tmp[1024];
    size_t k;
    while ((k = fread(tmp, 1, sizeof tmp, f)) > 0) {
        if (out && got + 1 < n) {
            size_t c = k < n - 1 - got ? k : n - 1 - got;
            memcpy(out + got, tmp, c);
            got += c;
        }
    }
    if (out)
        out[got] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int have_qemu(void)
{
    return system("command -v qemu-img >/dev/null 2>&1 && command -v qemu-io >/dev/null 2>&1") == 0;
}

int main(void)
{
    make_scratch();
    Suite *s = suite_create("vd");
    suite_add_tcase(s, tcase_formats());
    suite_add_tcase(s, tcase_hostile());
    if (have_qemu()) {
        suite_add_tcase(s, tcase_qemu());
        suite_add_tcase(s, tcase_crash());
    } else {
        test_skip("vd-qemu", "qemu-img/qemu-io not installed (tools/setup.sh installs qemu-utils)");
    }
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
