/*
 * fuzz_dis.c - libFuzzer target for the decoder and printer. Invariants:
 * a decoded length is 1..15 and never more than the bytes given; the input
 * is copied to an exact-size heap block so ASan catches any read beyond it;
 * the printer never writes past its buffer (checked with a guard area and
 * with every small buffer size) and returns the same text length whatever
 * the buffer size; failures leave mnem = DIS_invalid.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dis/dis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum dis_mode modes[3] = {DIS_MODE_16, DIS_MODE_32, DIS_MODE_64};
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    for (int m = 0; m < 3; m++) {
        for (size_t off = 0; off < size && off < 64;) {
            struct dis_insn in;
            int rc = dis_decode(copy + off, size - off, modes[m], &in);
            if (rc > 0) {
                if (rc > DIS_MAX_LEN || (size_t)rc > size - off || in.length != rc)
                    abort();
                char big[512], small[40];
                int full = dis_format(&in, 0x1000 + off, big, sizeof(big));
                if (full < 0 || (size_t)full >= sizeof(big) || strlen(big) != (size_t)full)
                    abort();
                for (size_t n = 0; n < 24; n++) {
                    memset(small, 0x5a, sizeof(small));
                    int r = dis_format(&in, 0x1000 + off, small, n);
                    if (r != full)
                        abort();
                    for (size_t k = n; k < sizeof(small); k++)
                        if ((unsigned char)small[k] != 0x5a)
                            abort();
                    if (n && strncmp(small, big, n - 1) != 0)
                        abort();
                }
                off += rc;
            } else {
                if (rc != DIS_ERR_MORE && rc != DIS_ERR_INVALID && rc != DIS_ERR_TOOLONG)
                    abort();
                if (in.mnem != DIS_invalid || in.length > DIS_MAX_LEN)
                    abort();
                off++;
            }
        }
    }
    free(copy);
    return 0;
}
