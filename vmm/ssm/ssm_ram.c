/*
 * vmm/ssm/ssm_ram.c - guest RAM in the stream: the writer's chunks (zero
 * pages skipped, the rest compressed with zstd), their check at open
 * (ssm_page_decode, called by ssm_read.c) and their load into the
 * caller's memory. Memory use is a few chunk-sized buffers whatever the
 * RAM size: nothing holds more than one chunk (SSM_CHUNK_BYTES) of pages.
 */
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include <capsule/errorinfo.h>

#include "ssm_write.h"

static size_t page_rec_max(void)
{
    return SSM_PAGE_FIXED + SSM_RAM_CHUNK_PAGES / 8 + ZSTD_compressBound(SSM_CHUNK_BYTES);
}

size_t ssm_page_payload_max(void)
{
    return page_rec_max();
}

void ssm_ram_writer_free(struct ssm_writer *w)
{
    ZSTD_freeCCtx(w->cctx);
    free(w->stage);
    free(w->zbuf);
    w->cctx = NULL;
    w->stage = w->zbuf = NULL;
}

static cap_result ram_writer_init(struct ssm_writer *w)
{
    if (w->cctx)
        return CAP_OK;
    w->zcap = SSM_REC_HDR + page_rec_max();
    w->cctx = ZSTD_createCCtx();
    w->stage = malloc(SSM_CHUNK_BYTES);
    w->zbuf = malloc(w->zcap);
    if (!w->cctx || !w->stage || !w->zbuf ||
        ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, SSM_ZSTD_LEVEL))) {
        ssm_ram_writer_free(w);
        w->rc = cap_error_set(CAP_E_OUTOFMEMORY, VMM_COMPONENT, NULL,
                              "saved state %s: out of memory for the RAM compressor", w->path);
        return w->rc;
    }
    return CAP_OK;
}

/* One chunk of n pages at region offset `off`: nothing if all are zero,
 * else a PAGE record. */
static cap_result put_chunk(struct ssm_writer *w, const uint8_t *pages, uint64_t off, uint32_t n)
{
    uint8_t *rec = w->zbuf, *bm = rec + SSM_REC_HDR + SSM_PAGE_FIXED;
    uint32_t bml = (n + 7) / 8, count = 0;
    memset(bm, 0, bml);
    for (uint32_t i = 0; i < n; i++)
        if (!ssm_is_zero(pages + (size_t)i * SSM_PAGE_SIZE, SSM_PAGE_SIZE)) {
            bm[i / 8] |= (uint8_t)(1u << (i % 8));
            count++;
        }
    if (!count)
        return CAP_OK;
    const uint8_t *src = pages;
    if (count < n) {
        uint32_t k = 0;
        for (uint32_t i = 0; i < n; i++)
            if (bm[i / 8] & (1u << (i % 8)))
                memcpy(w->stage + (size_t)k++ * SSM_PAGE_SIZE, pages + (size_t)i * SSM_PAGE_SIZE,
                       SSM_PAGE_SIZE);
        src = w->stage;
    }
    size_t hdr = SSM_REC_HDR + SSM_PAGE_FIXED + bml;
    size_t z =
        ZSTD_compress2(w->cctx, rec + hdr, w->zcap - hdr, src, (size_t)count * SSM_PAGE_SIZE);
    if (ZSTD_isError(z)) {
        w->rc =
            cap_error_set(CAP_E_FAIL, VMM_COMPONENT, NULL, "saved state %s: unit '%s': zstd: %s",
                          w->path, w->unit_name, ZSTD_getErrorName(z));
        return w->rc;
    }
    ssm_le32(rec, SSM_TAG_PAGE);
    ssm_le32(rec + 4, (uint32_t)(hdr - SSM_REC_HDR + z));
    ssm_le64(rec + 8, off);
    ssm_le32(rec + 16, n);
    ssm_le32(rec + 20, 0);
    return ssm_emit(w, rec, hdr + z);
}

cap_result ssm_put_ram(struct ssm_writer *w, const char *name, uint32_t instance, uint32_t version,
                       const void *base, uint64_t size)
{
    if (!w || !name || (size && !base))
        return CAP_E_POINTER;
    if (CAP_FAILED(w->rc))
        return w->rc;
    if (size % SSM_PAGE_SIZE) {
        w->rc = cap_error_set(CAP_E_INVALIDARG, VMM_COMPONENT, NULL,
                              "saved state %s: RAM unit '%s' of %llu bytes, not whole pages",
                              w->path, name, (unsigned long long)size);
        return w->rc;
    }
    cap_result rc = ram_writer_init(w);
    if (CAP_SUCCEEDED(rc))
        rc = ssm_begin_unit_rec(w, name, instance, version, SSM_UNIT_RAM, size);
    for (uint64_t off = 0; CAP_SUCCEEDED(rc) && off < size; off += SSM_CHUNK_BYTES) {
        uint64_t left = size - off;
        uint32_t n = (uint32_t)((left < SSM_CHUNK_BYTES ? left : SSM_CHUNK_BYTES) / SSM_PAGE_SIZE);
        rc = put_chunk(w, (const uint8_t *)base + off, off, n);
    }
    return CAP_SUCCEEDED(rc) ? ssm_end_unit_rec(w) : rc;
}

cap_result ssm_page_decode(void *dctx, const struct ssm_unit *u, uint64_t off, const uint8_t *p,
                           uint32_t len, void *buf, uint64_t *first_page, uint32_t *npages,
                           const uint8_t **bitmap)
{
    if (len < SSM_PAGE_FIXED)
        return ssm_corrupt(u, off, "RAM chunk of %u bytes", len);
    uint64_t o = ssm_rd64(p), size = u->info.ram_size;
    uint32_t n = ssm_rd32(p + 8), bml = (n + 7) / 8, count = 0;
    if (n == 0 || n > SSM_RAM_CHUNK_PAGES || ssm_rd32(p + 12) != 0)
        return ssm_corrupt(u, off, "RAM chunk of %u pages", n);
    if (o % SSM_PAGE_SIZE || o > size || (uint64_t)n * SSM_PAGE_SIZE > size - o)
        return ssm_corrupt(u, off, "RAM chunk at 0x%llx (%u pages) outside the unit's 0x%llx bytes",
                           (unsigned long long)o, n, (unsigned long long)size);
    if (len - SSM_PAGE_FIXED < bml)
        return ssm_corrupt(u, off, "RAM chunk shorter than its page bitmap");
    const uint8_t *bm = p + SSM_PAGE_FIXED;
    for (uint32_t i = 0; i < bml * 8; i++)
        if (bm[i / 8] & (1u << (i % 8))) {
            if (i >= n)
                return ssm_corrupt(u, off, "RAM chunk bitmap names page %u of %u", i, n);
            count++;
        }
    if (!count)
        return ssm_corrupt(u, off, "RAM chunk without pages");
    size_t want = (size_t)count * SSM_PAGE_SIZE;
    size_t got = ZSTD_decompressDCtx(dctx, buf, want, bm + bml, len - SSM_PAGE_FIXED - bml);
    if (ZSTD_isError(got))
        return ssm_corrupt(u, off, "RAM chunk at 0x%llx: zstd: %s", (unsigned long long)o,
                           ZSTD_getErrorName(got));
    if (got != want)
        return ssm_corrupt(u, off, "RAM chunk at 0x%llx holds %zu bytes, its bitmap says %zu",
                           (unsigned long long)o, got, want);
    *first_page = o / SSM_PAGE_SIZE;
    *npages = n;
    *bitmap = bm;
    return CAP_OK;
}

void *ssm_dctx_new(void)
{
    ZSTD_DCtx *d = ZSTD_createDCtx();
    /* A chunk is 1 MiB: a frame asking for a larger window is not ours. */
    if (d && ZSTD_isError(ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, 21))) {
        ZSTD_freeDCtx(d);
        d = NULL;
    }
    return d;
}

void ssm_dctx_free(void *dctx)
{
    ZSTD_freeDCtx(dctx);
}

/* Makes `n` pages at dst zero, writing only those that are not. */
static void zero_pages(uint8_t *dst, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++, dst += SSM_PAGE_SIZE)
        if (!ssm_is_zero(dst, SSM_PAGE_SIZE))
            memset(dst, 0, SSM_PAGE_SIZE);
}

static void place(uint8_t *base, const uint8_t *buf, uint64_t first, uint32_t n, const uint8_t *bm)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *dst = base + (first + i) * SSM_PAGE_SIZE;
        if (bm[i / 8] & (1u << (i % 8))) {
            /* Stored pages are not zero: copied without comparing first,
             * which would fault an untouched page in twice. */
            memcpy(dst, buf + (size_t)k++ * SSM_PAGE_SIZE, SSM_PAGE_SIZE);
        } else {
            zero_pages(dst, 1);
        }
    }
}

static struct ssm_unit *find_ram(struct ssm_reader *r, const char *name, uint32_t instance)
{
    for (size_t i = 0; i < r->nunits; i++) {
        struct ssm_unit *u = &r->units[i];
        if (u->info.kind == SSM_UNIT_RAM && u->info.instance == instance &&
            strcmp(u->name, name) == 0)
            return u;
    }
    return NULL;
}

/* Reads the unit's records again (its CRC too: the file must not have
 * changed since ssm_open) and places its pages. */
static cap_result load_chunks(struct ssm_reader *r, struct ssm_unit *u, uint8_t *base, void *dctx,
                              uint8_t *pl, uint8_t *buf)
{
    uint64_t off = u->offset, next = 0, npages = u->info.ram_size / SSM_PAGE_SIZE;
    uint32_t crc = 0;
    for (;;) {
        uint8_t h[SSM_REC_HDR];
        cap_result rc = ssm_pread(r, u, h, sizeof h, off);
        if (CAP_FAILED(rc))
            return rc;
        uint32_t tag = ssm_rd32(h), len = ssm_rd32(h + 4);
        if (tag == SSM_TAG_UEND && off == u->end) {
            uint8_t c[4];
            rc = ssm_pread(r, u, c, 4, off + SSM_REC_HDR);
            if (CAP_SUCCEEDED(rc) && CRC_DIFFERS(ssm_rd32(c), crc))
                rc = ssm_corrupt(u, off, "the file changed since it was verified");
            if (CAP_SUCCEEDED(rc))
                zero_pages(base + next * SSM_PAGE_SIZE, npages - next);
            return rc;
        }
        if (off >= u->end || (off > u->offset && tag != SSM_TAG_PAGE) ||
            len > ssm_page_payload_max())
            return ssm_corrupt(u, off, "the file changed since it was verified");
        rc = ssm_pread(r, u, pl, len, off + SSM_REC_HDR);
        if (CAP_FAILED(rc))
            return rc;
        crc = ssm_crc32c(crc, h, sizeof h);
        crc = ssm_crc32c(crc, pl, len);
        if (off > u->offset) {
            uint64_t first;
            uint32_t n;
            const uint8_t *bm;
            rc = ssm_page_decode(dctx, u, off, pl, len, buf, &first, &n, &bm);
            if (CAP_SUCCEEDED(rc) && first < next)
                rc = ssm_corrupt(u, off, "the file changed since it was verified");
            if (CAP_FAILED(rc))
                return rc;
            zero_pages(base + next * SSM_PAGE_SIZE, first - next);
            place(base, buf, first, n, bm);
            next = first + n;
        }
        off += SSM_REC_HDR + len;
    }
}

cap_result ssm_load_ram(struct ssm_reader *r, const char *name, uint32_t instance, void *base,
                        uint64_t size)
{
    if (!r || !name || (size && !base))
        return CAP_E_POINTER;
    struct ssm_unit *u = find_ram(r, name, instance);
    if (!u)
        return cap_error_set(VMM_E_SSM_NOT_FOUND, VMM_COMPONENT, NULL,
                             "saved state: no RAM unit '%s' %u", name, instance);
    if (u->info.ram_size != size)
        return cap_error_set(VMM_E_SSM_FIELD, VMM_COMPONENT, NULL,
                             "saved state: RAM unit '%s' %u holds %llu bytes, the VM has %llu",
                             name, instance, (unsigned long long)u->info.ram_size,
                             (unsigned long long)size);
    u->info.used = true;
    void *dctx = ssm_dctx_new();
    uint8_t *pl = malloc(ssm_page_payload_max()), *buf = malloc(SSM_CHUNK_BYTES);
    cap_result rc = dctx && pl && buf
                        ? load_chunks(r, u, base, dctx, pl, buf)
                        : cap_error_set(CAP_E_OUTOFMEMORY, VMM_COMPONENT, NULL,
                                        "saved state: out of memory for the RAM decompressor");
    free(buf);
    free(pl);
    ssm_dctx_free(dctx);
    return rc;
}
