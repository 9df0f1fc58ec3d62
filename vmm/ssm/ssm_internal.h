/*
 * vmm/ssm/ssm_internal.h - what the SSM files share: the format's
 * constants (ssm.h describes the layout), little-endian encoding, CRC32C
 * and the reader's structures (ssm_read.c builds them, ssm_ram.c reads
 * RAM through them).
 */
#ifndef VMM_SSM_INTERNAL_H
#define VMM_SSM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ssm/ssm.h"

#define SSM_MAGIC      "CAPSSM\x1a\n"
#define SSM_HEADER_LEN 64u
#define SSM_REC_HDR    8u /* u32 tag, u32 length */
#define SSM_TAG(a, b, c, d)                                                                        \
    ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define SSM_TAG_UNIT    SSM_TAG('U', 'N', 'I', 'T')
#define SSM_TAG_FLDS    SSM_TAG('F', 'L', 'D', 'S')
#define SSM_TAG_PAGE    SSM_TAG('P', 'A', 'G', 'E')
#define SSM_TAG_UEND    SSM_TAG('U', 'E', 'N', 'D')
#define SSM_TAG_TRLR    SSM_TAG('T', 'R', 'L', 'R')
#define SSM_UNIT_FIXED  20u /* UNIT payload before the name */
#define SSM_PAGE_FIXED  16u /* PAGE payload before the bitmap */
#define SSM_TRLR_LEN    20u
#define SSM_CHUNK_BYTES ((size_t)SSM_RAM_CHUNK_PAGES * SSM_PAGE_SIZE)
#define SSM_ZSTD_LEVEL  1

/* The fuzzer (tests/unit/ssm/fuzz_ssm.c) cannot forge checksums: its build
 * skips comparing them, to reach the parsers behind. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define CRC_DIFFERS(a, b) ((void)(a), (void)(b), false)
#else
#define CRC_DIFFERS(a, b) ((a) != (b))
#endif

static inline void ssm_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void ssm_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void ssm_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t ssm_rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t ssm_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t ssm_rd64(const uint8_t *p)
{
    return (uint64_t)ssm_rd32(p) | (uint64_t)ssm_rd32(p + 4) << 32;
}

/* CRC32C (Castagnoli) continued from `crc` (0 to start), SSE4.2 where the
 * CPU has it. */
uint32_t ssm_crc32c(uint32_t crc, const void *data, size_t len);

/* A name of the format: 1..SSM_NAME_MAX-1 printable ASCII, no space. */
bool ssm_name_ok(const char *name, size_t len);

/* Bytes of a field's value at p (bytes/string: their u32 length first,
 * which must be readable). 0 for an unknown type. */
static inline size_t ssm_value_len(uint8_t type, const uint8_t *p)
{
    switch (type) {
    case SSM_U8:
    case SSM_BOOL:
        return 1;
    case SSM_U16:
        return 2;
    case SSM_U32:
        return 4;
    case SSM_U64:
    case SSM_I64:
        return 8;
    case SSM_BYTES:
    case SSM_STRING:
        return 4 + (size_t)ssm_rd32(p);
    }
    return 0;
}

/* Whether len bytes at p are all zero. */
bool ssm_is_zero(const void *p, size_t len);

/* One field of a fields unit, pointing into the unit's data. */
struct ssm_field {
    const char *name; /* not NUL-terminated */
    uint8_t name_len;
    uint8_t type;
    uint64_t value;      /* integers, bool */
    const uint8_t *data; /* bytes, string */
    uint32_t len;
};

struct ssm_unit {
    struct ssm_unit_info info;
    char name[SSM_NAME_MAX];
    struct ssm_reader *r;
    uint64_t offset;   /* file offset of the UNIT record */
    uint64_t end;      /* file offset of the UEND record */
    uint8_t *data;     /* fields: the FLDS payload */
    uint64_t data_off; /* its file offset */
    uint32_t data_len;
    struct ssm_field *fields; /* sorted by name */
    size_t nfields;
};

struct ssm_reader {
    int fd;
    bool own_fd;
    uint64_t size;
    char creator[SSM_CREATOR_MAX];
    struct ssm_unit *units;
    size_t nunits;
    uint64_t fields_total; /* bytes of fields units kept */
};

/* Reads and checks one PAGE record's payload `p[len]` of the unit `u`
 * (at file offset `off`), decompressing its pages into `buf` (at least
 * SSM_CHUNK_BYTES). *first_page and *npages say where they belong, `bitmap`
 * which of them the data holds (packed into buf in order). */
cap_result ssm_page_decode(void *dctx, const struct ssm_unit *u, uint64_t off, const uint8_t *p,
                           uint32_t len, void *buf, uint64_t *first_page, uint32_t *npages,
                           const uint8_t **bitmap);

/* The largest PAGE payload; a zstd decompression context (NULL: out of
 * memory) limited to a chunk's window, and its release. */
size_t ssm_page_payload_max(void);
void *ssm_dctx_new(void);
void ssm_dctx_free(void *dctx);

/* The error of a damaged stream, naming unit (may be NULL) and offset. */
cap_result ssm_corrupt(const struct ssm_unit *u, uint64_t off, const char *fmt, ...)
    CAP_PRINTF(3, 4);

/* Checks and indexes the FLDS payload u->data[len] (at file offset off). */
cap_result ssm_parse_fields(struct ssm_unit *u, uint64_t off, uint32_t len);

/* pread of exactly len bytes; CAP_E_IO or VMM_E_SSM_CORRUPT (truncated). */
cap_result ssm_pread(const struct ssm_reader *r, const struct ssm_unit *u, void *buf, size_t len,
                     uint64_t off);

#endif /* VMM_SSM_INTERNAL_H */
