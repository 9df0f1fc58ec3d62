/*
 * vmm/ssm/ssm_crc.c - CRC32C for the stream's checksums, and the small
 * checks the writer and reader share. CRC32C (not zlib's CRC32) because
 * x86 computes it in one instruction (SSE4.2 crc32, ~8 bytes a cycle):
 * the checksum then costs nothing next to zstd. Other CPUs use a
 * slice-by-8 table (~1.5 GB/s).
 */
#include <pthread.h>
#include <string.h>

#include "ssm_internal.h"

static uint32_t table[8][256];

static void table_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
}

static uint32_t crc_soft(uint32_t c, const uint8_t *p, size_t len)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, table_init);
    while (len >= 8) {
        uint64_t v = ssm_rd64(p);
        uint32_t lo = c ^ (uint32_t)v, hi = (uint32_t)(v >> 32);
        c = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^
            table[4][lo >> 24] ^ table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
            table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len--)
        c = (c >> 8) ^ table[0][(c ^ *p++) & 0xff];
    return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t c, const uint8_t *p, size_t len)
{
    uint64_t c64 = c;
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c64 = __builtin_ia32_crc32di(c64, v);
        p += 8;
        len -= 8;
    }
    c = (uint32_t)c64;
    while (len--)
        c = __builtin_ia32_crc32qi(c, *p++);
    return c;
}
#endif

uint32_t ssm_crc32c(uint32_t crc, const void *data, size_t len)
{
    uint32_t c = ~crc;
#if defined(__x86_64__)
    if (__builtin_cpu_supports("sse4.2"))
        return ~crc_hw(c, data, len);
#endif
    return ~crc_soft(c, data, len);
}

bool ssm_name_ok(const char *name, size_t len)
{
    if (len == 0 || len >= SSM_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (name[i] <= ' ' || name[i] > '~')
            return false;
    return true;
}

bool ssm_is_zero(const void *p, size_t len)
{
    const uint8_t *b = p;
    uint64_t acc = 0;
    size_t i = 0;
    for (; i + 64 <= len; i += 64) {
        uint64_t w[8];
        memcpy(w, b + i, 64);
        acc = w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7];
        if (acc)
            return false;
    }
    for (; i < len; i++)
        if (b[i])
            return false;
    return true;
}
