/*
 * tests/integration/vm/lfbfill.c - a Linux user program for the guest kit
 * (built static by vga_linux.sh, put in the initramfs): maps a framebuffer
 * - the vga's BAR0 through /sys/bus/pci/devices/.../resource0 - and fills
 * `bytes` of it `frames` times with 32-bit stores, as a program drawing
 * full screens would, then prints the time the guest's monotonic clock saw:
 *
 *     lfbfill PATH BYTES FRAMES
 *     -> "lfbfill FRAMES x BYTES bytes: S.SSS s"
 *
 * Exit status 0, or 1 with a message (open, mmap, bad arguments).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: lfbfill PATH BYTES FRAMES\n");
        return 1;
    }
    size_t bytes = strtoul(argv[2], NULL, 0) & ~(size_t)3;
    int frames = atoi(argv[3]);
    int fd = open(argv[1], O_RDWR | O_SYNC);
    if (fd < 0 || !bytes || frames < 1) {
        perror(argv[1]);
        return 1;
    }
    volatile uint32_t *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    double t0 = now();
    for (int f = 0; f < frames; f++)
        for (size_t i = 0; i < bytes / 4; i++)
            p[i] = (uint32_t)(f * 0x010101u) ^ (uint32_t)i;
    double t = now() - t0;
    printf("lfbfill %d x %zu bytes: %.3f s\n", frames, bytes, t);
    munmap((void *)p, bytes);
    close(fd);
    return 0;
}
