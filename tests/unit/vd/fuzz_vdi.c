/*
 * tests/unit/vd/fuzz_vdi.c - libFuzzer target for VDI images
 * (`scons fuzz-vdi_fuzz`): the input is a whole image file, put in a memfd
 * and opened through vd_open read-only and read-write; an image that opens
 * is read at its start, middle and end and written (allocating a block),
 * and what was written must read back. A crash, a sanitizer report or a
 * mismatch is a finding; a refused image is the expected answer to most
 * inputs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <capsule/errorinfo.h>
#include <capsule/result.h>
#include <capsule/vd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(struct vd_disk *d)
{
    static uint8_t buf[65536], back[512];
    uint64_t n = vd_size(d), len = n < sizeof buf ? n : sizeof buf;
    uint64_t mid = n / 2 / VD_SECTOR_SIZE * VD_SECTOR_SIZE;
    uint64_t bytes;
    vd_read(d, 0, buf, len);
    if (n >= VD_SECTOR_SIZE) {
        vd_read(d, mid, buf, VD_SECTOR_SIZE);
        vd_read(d, n - VD_SECTOR_SIZE, buf, VD_SECTOR_SIZE);
    }
    vd_allocated(d, &bytes);
    if (vd_is_readonly(d) || n < VD_SECTOR_SIZE)
        return;
    memset(buf, 0xC5, VD_SECTOR_SIZE);
    if (vd_write(d, mid, buf, VD_SECTOR_SIZE) == CAP_OK) {
        if (vd_read(d, mid, back, sizeof back) != CAP_OK || memcmp(back, buf, sizeof back))
            abort(); /* a write that succeeded must read back */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = memfd_create("vdi-fuzz", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) == (ssize_t)size) {
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        for (unsigned flags = 0; flags <= VD_OPEN_READWRITE; flags++) {
            struct vd_disk *d = NULL;
            if (vd_open(path, VD_FORMAT_VDI, flags, &d) == CAP_OK)
                exercise(d);
            vd_close(d);
        }
    }
    cap_error_clear();
    close(fd);
    return 0;
}
