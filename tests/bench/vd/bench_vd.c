/*
 * tests/bench/vd/bench_vd.c - sequential throughput of the disk image
 * formats (runtime/vd): a fresh image is written front to back in CHUNK
 * pieces and flushed (vd_flush), then read front to back from the page
 * cache (what the layer itself costs; a cold read measures the host
 * disk). Each figure is the median of three runs. Prints MiB/s per format
 * and the VDI/RAW ratios.
 *
 * Usage: bench_vd [MIB [CHUNK_KIB [DIR]]]   (defaults 256, 1024, $TMPDIR or /tmp)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <capsule/errorinfo.h>
#include <capsule/vd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_vd: %s: %s\n", what, cap_error_peek_message());
    exit(1);
}

/* Writes then reads `total` bytes; returns MiB/s in w and r. */
static void run_once(const char *path, enum vd_format f, enum vd_variant v, uint64_t total,
                     size_t chunk, double *w, double *r)
{
    struct vd_disk *d;
    uint8_t *buf = malloc(chunk);
    memset(buf, 0x5a, chunk);
    unlink(path);
    if (vd_create(path, f, total, v, &d) != 0)
        die("create");
    double t0 = now();
    for (uint64_t off = 0; off < total; off += chunk)
        if (vd_write(d, off, buf, chunk) != 0)
            die("write");
    if (vd_flush(d) != 0)
        die("flush");
    *w = (double)total / (1 << 20) / (now() - t0);
    vd_close(d);
    if (vd_open(path, f, VD_OPEN_READONLY, &d) != 0)
        die("open");
    t0 = now();
    for (uint64_t off = 0; off < total; off += chunk)
        if (vd_read(d, off, buf, chunk) != 0)
            die("read");
    *r = (double)total / (1 << 20) / (now() - t0);
    vd_close(d);
    unlink(path);
    free(buf);
}

static double median3(double a, double b, double c)
{
    return a > b ? (b > c ? b : a > c ? c : a) : (a > c ? a : b > c ? c : b);
}

static void run(const char *path, enum vd_format f, enum vd_variant v, uint64_t total, size_t chunk,
                double *w, double *r)
{
    double ws[3], rs[3];
    for (int i = 0; i < 3; i++)
        run_once(path, f, v, total, chunk, &ws[i], &rs[i]);
    *w = median3(ws[0], ws[1], ws[2]);
    *r = median3(rs[0], rs[1], rs[2]);
}

int main(int argc, char **argv)
{
    uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 10) : 256;
    size_t chunk = (argc > 2 ? strtoul(argv[2], NULL, 10) : 1024) * 1024;
    const char *dir = argc > 3 ? argv[3] : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[4096];
    double rw, rr, dw, dr, fw, fr;
    if (!mib || !chunk || (mib << 20) % chunk)
        return fprintf(stderr, "usage: bench_vd [MIB [CHUNK_KIB [DIR]]]\n"), 2;
    snprintf(path, sizeof path, "%s/bench_vd.%d.img", dir, (int)getpid());
    run(path, VD_FORMAT_RAW, VD_VARIANT_DYNAMIC, mib << 20, chunk, &rw, &rr);
    run(path, VD_FORMAT_VDI, VD_VARIANT_DYNAMIC, mib << 20, chunk, &dw, &dr);
    run(path, VD_FORMAT_VDI, VD_VARIANT_FIXED, mib << 20, chunk, &fw, &fr);
    printf("sequential %llu MiB in %zu KiB pieces (MiB/s):\n", (unsigned long long)mib,
           chunk / 1024);
    printf("  RAW          write %8.1f  read %8.1f\n", rw, rr);
    printf("  VDI dynamic  write %8.1f  read %8.1f  (x%.2f, x%.2f of RAW)\n", dw, dr, dw / rw,
           dr / rr);
    printf("  VDI fixed    write %8.1f  read %8.1f  (x%.2f, x%.2f of RAW)\n", fw, fr, fw / rw,
           fr / rr);
    return 0;
}
