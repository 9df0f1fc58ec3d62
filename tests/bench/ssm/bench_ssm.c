/*
 * tests/bench/ssm/bench_ssm.c - the saved-state stream's RAM path
 * (vmm/ssm): a guest RAM image with a realistic mix of pages (by default
 * 45% zero, 35% text - words, like page cache and code - and 20% random,
 * like compressed or encrypted data) is saved (ssm_put_ram + commit with
 * fsync), verified (ssm_verify: every CRC, every chunk decompressed) and
 * restored (ssm_open + ssm_load_ram into fresh memory). Prints MB/s of RAM
 * per step, the stream's size, and the same bytes through the zstd -1 and
 * gzip -1 command-line tools as the peers (raw image in, compressed file
 * out and fsynced like the stream; their time includes reading the raw
 * file from the page cache).
 * Figures are the best of three runs.
 *
 * Usage: bench_ssm [MIB [DIR]]   (defaults 256, $TMPDIR or /tmp)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <capsule/errorinfo.h>

#include "ssm/ssm.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_ssm: %s: %s\n", what, cap_error_peek_message());
    exit(1);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void text_page(uint8_t *p)
{
    static const char *const words[] = {
        "the ",    "kernel ", "page ",  "struct ", "return ", "int ",   "if ",   "(",
        ");\n",    "{\n",     "}\n",    "0x",      "memory ", "cache ", "file ", "data ",
        "static ", "void ",   "error ", "= ",      "-> ",     "for ",   "size ", "buffer ",
        "while ",  "NULL",    "\t",     "mutex ",  "lock ",   "user ",  "root ", "/usr/lib/"};
    size_t i = 0;
    while (i < 4096) {
        const char *w = words[next() % 32];
        size_t n = strlen(w);
        if (n > 4096 - i)
            n = 4096 - i;
        memcpy(p + i, w, n);
        i += n;
    }
}

static uint8_t *make_ram(uint64_t size)
{
    uint8_t *ram = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ram == MAP_FAILED)
        return NULL;
    for (uint64_t off = 0; off < size; off += 4096) {
        unsigned kind = (unsigned)(next() % 100);
        if (kind < 45)
            memset(ram + off, 0, 4096);
        else if (kind < 80)
            text_page(ram + off);
        else
            for (unsigned i = 0; i < 4096; i += 8) {
                uint64_t v = next();
                memcpy(ram + off + i, &v, 8);
            }
    }
    return ram;
}

static double best(double a, double b)
{
    return a < b ? a : b;
}

/* Time of a shell command, the best of three; exits when it fails. */
static double run_cmd(const char *cmd)
{
    double t = 1e9;
    for (int k = 0; k < 3; k++) {
        double t0 = now();
        if (system(cmd) != 0) {
            fprintf(stderr, "bench_ssm: '%s' failed\n", cmd);
            exit(1);
        }
        t = best(t, now() - t0);
    }
    return t;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

int main(int argc, char **argv)
{
    uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 0) : 256;
    const char *dir = argc > 2 ? argv[2] : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    uint64_t size = mib << 20;
    char path[512], raw[512], cmd[2048];
    snprintf(path, sizeof path, "%s/bench_ssm.%d.sav", dir, (int)getpid());
    snprintf(raw, sizeof raw, "%s/bench_ssm.%d.raw", dir, (int)getpid());
    uint8_t *ram = make_ram(size);
    if (!ram)
        die("mmap");

    double tw = 1e9, tv = 1e9, tr = 1e9;
    uint64_t bytes = 0;
    for (int k = 0; k < 3; k++) {
        double t0 = now();
        struct ssm_writer *w;
        if (ssm_writer_create(path, "bench_ssm", &w) || ssm_put_ram(w, "ram", 0, 1, ram, size) ||
            ssm_writer_commit(w, &bytes))
            die("save");
        double t1 = now();
        if (ssm_verify(path))
            die("verify");
        double t2 = now();
        uint8_t *back =
            mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        struct ssm_reader *r;
        if (back == MAP_FAILED || ssm_open(path, &r) || ssm_load_ram(r, "ram", 0, back, size))
            die("restore");
        ssm_close(r);
        double t3 = now();
        if (memcmp(ram, back, size) != 0) {
            fprintf(stderr, "bench_ssm: restored RAM differs\n");
            return 1;
        }
        munmap(back, size);
        tw = best(tw, t1 - t0);
        tv = best(tv, t2 - t1);
        tr = best(tr, t3 - t2);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double mb = (double)size / 1e6;
    printf("RAM %llu MiB (45%% zero, 35%% text, 20%% random pages), best of 3\n",
           (unsigned long long)mib);
    printf("  %-28s %8.0f MB/s  %7.3f s  stream %6.1f MiB (%.1f%% of RAM)\n",
           "ssm save (zstd -1, fsync)", mb / tw, tw, (double)bytes / 1048576.0,
           100.0 * (double)bytes / (double)size);
    printf("  %-28s %8.0f MB/s  %7.3f s\n", "ssm verify", mb / tv, tv);
    printf("  %-28s %8.0f MB/s  %7.3f s  (open verifies again, then loads)\n", "ssm restore",
           mb / tr, tr);

    FILE *f = fopen(raw, "wb");
    if (!f || fwrite(ram, 1, size, f) != size || fclose(f) != 0) {
        fprintf(stderr, "bench_ssm: cannot write %s\n", raw);
        return 1;
    }
    /* %1$s is the raw file's name. The compressed file is fsynced (sync
     * FILE) as ssm_writer_commit fsyncs the stream, for a fair time. */
    static const struct {
        const char *name, *ext, *compress, *decompress;
    } peers[] = {
        {"zstd -1 (CLI) + fsync", "zst", "zstd -q -1 -f -o %1$s.zst %1$s && sync %1$s.zst",
         "zstd -q -d -f -o %1$s.out %1$s.zst"},
        {"gzip -1 (CLI) + fsync", "gz", "gzip -1 -c %1$s > %1$s.gz && sync %1$s.gz",
         "gzip -d -c %1$s.gz > %1$s.out"},
    };
    for (size_t i = 0; i < sizeof peers / sizeof peers[0]; i++) {
        const char *ext = peers[i].ext;
        snprintf(cmd, sizeof cmd, "command -v %.4s >/dev/null", peers[i].name);
        if (system(cmd) != 0) {
            printf("  %-28s not installed\n", peers[i].name);
            continue;
        }
        snprintf(cmd, sizeof cmd, peers[i].compress, raw);
        double tc = run_cmd(cmd);
        snprintf(cmd, sizeof cmd, "%s.%s", raw, ext);
        long zs = file_size(cmd);
        snprintf(cmd, sizeof cmd, peers[i].decompress, raw);
        double td = run_cmd(cmd);
        printf("  %-28s %8.0f MB/s  %7.3f s  file %8.1f MiB (%.1f%% of RAM); decompress %.0f "
               "MB/s\n",
               peers[i].name, mb / tc, tc, (double)zs / 1048576.0,
               100.0 * (double)zs / (double)size, mb / td);
        snprintf(cmd, sizeof cmd, "rm -f %s.%s %s.out", raw, ext, raw);
        if (system(cmd) != 0)
            return 1;
    }
    printf("  peak RSS %ld MiB (the RAM image and one restore target: %llu MiB)\n",
           ru.ru_maxrss / 1024, (unsigned long long)(2 * mib));
    unlink(raw);
    unlink(path);
    munmap(ram, size);
    return 0;
}
