/*
 * vmm/ssm/ssm_read.c - opening a saved-state stream: one pass over the
 * whole file checks the header, every record's structure and bounds,
 * every unit's and the file's CRC32C, and decompresses every RAM chunk,
 * before ssm_open returns a reader. Fields units are kept in memory with
 * their fields sorted by name for the getters (ssm_fields.c); RAM units
 * keep their file offsets for ssm_load_ram (ssm_ram.c).
 *
 * Hostile input: every length is checked against the file's size and the
 * format's limits before anything is allocated or read, so memory use is
 * bounded by SSM_FIELDS_TOTAL for all fields units (and an index of at
 * most SSM_FIELD_COUNT_MAX fields per unit) and one chunk for RAM.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capsule/errorinfo.h>

#include "ssm_internal.h"

cap_result ssm_corrupt(const struct ssm_unit *u, uint64_t off, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (u)
        return cap_error_set(VMM_E_SSM_CORRUPT, VMM_COMPONENT, NULL,
                             "saved state: unit '%s' %u, offset %llu: %s", u->name,
                             u->info.instance, (unsigned long long)off, msg);
    return cap_error_set(VMM_E_SSM_CORRUPT, VMM_COMPONENT, NULL, "saved state: offset %llu: %s",
                         (unsigned long long)off, msg);
}

cap_result ssm_pread(const struct ssm_reader *r, const struct ssm_unit *u, void *buf, size_t len,
                     uint64_t off)
{
    uint8_t *b = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(r->fd, b + got, len - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return cap_error_set(CAP_E_IO, VMM_COMPONENT, NULL,
                                 "saved state: read at offset %llu: %s",
                                 (unsigned long long)(off + got), strerror(errno));
        if (n == 0)
            return ssm_corrupt(u, off + got, "truncated (the file ends here)");
        got += (size_t)n;
    }
    return CAP_OK;
}

/* A tag as text for messages ("PAGE", or hex when not printable). */
static const char *tag_text(uint32_t tag, char buf[12])
{
    for (int i = 0; i < 4; i++) {
        char c = (char)(tag >> (8 * i));
        if (c < 'A' || c > 'Z') {
            snprintf(buf, 12, "0x%08x", tag);
            return buf;
        }
        buf[i] = c;
    }
    buf[4] = 0;
    return buf;
}

static cap_result read_header(struct ssm_reader *r, uint32_t *crc)
{
    uint8_t h[SSM_HEADER_LEN];
    if (r->size < SSM_HEADER_LEN)
        return ssm_corrupt(NULL, 0, "%llu bytes, shorter than a stream header",
                           (unsigned long long)r->size);
    cap_result rc = ssm_pread(r, NULL, h, sizeof h, 0);
    if (CAP_FAILED(rc))
        return rc;
    if (memcmp(h, SSM_MAGIC, 8) != 0)
        return ssm_corrupt(NULL, 0, "not a saved-state stream (bad magic)");
    uint32_t version = ssm_rd32(h + 8), flags = ssm_rd32(h + 12);
    if (version != SSM_STREAM_VERSION)
        return cap_error_set(VMM_E_SSM_VERSION, VMM_COMPONENT, NULL,
                             "saved state: stream version %u, this build reads version %u", version,
                             SSM_STREAM_VERSION);
    if (CRC_DIFFERS(ssm_rd32(h + 60), ssm_crc32c(0, h, 60)))
        return ssm_corrupt(NULL, 60, "header checksum mismatch");
    if (flags)
        return cap_error_set(VMM_E_SSM_VERSION, VMM_COMPONENT, NULL,
                             "saved state: header flags 0x%x this build does not know", flags);
    for (unsigned i = 0; i < SSM_CREATOR_MAX - 1; i++) {
        char c = (char)h[16 + i];
        r->creator[i] = c == 0 || (c >= ' ' && c <= '~') ? c : '?';
    }
    *crc = ssm_crc32c(0, h, sizeof h);
    return CAP_OK;
}

/* Where open is: the running CRCs and the unit being read. */
struct scan {
    uint32_t file_crc, unit_crc;
    struct ssm_unit *cur;
    uint64_t next_page;
    bool got_fields;
    void *dctx;
    uint8_t *pl, *buf;
};

static cap_result add_unit(struct ssm_reader *r, struct scan *s, uint64_t off, const uint8_t *p,
                           uint32_t len)
{
    if (len < SSM_UNIT_FIXED || len - SSM_UNIT_FIXED != p[1] ||
        !ssm_name_ok((const char *)p + SSM_UNIT_FIXED, p[1]))
        return ssm_corrupt(NULL, off, "unit record with a bad name");
    if (r->nunits == SSM_UNITS_MAX)
        return ssm_corrupt(NULL, off, "more than %u units", SSM_UNITS_MAX);
    if (r->nunits % 16 == 0) {
        void *n = realloc(r->units, (r->nunits + 16) * sizeof *r->units);
        if (!n)
            return cap_error_set(CAP_E_OUTOFMEMORY, VMM_COMPONENT, NULL, "out of memory");
        r->units = n;
    }
    struct ssm_unit *u = &r->units[r->nunits];
    memset(u, 0, sizeof *u);
    memcpy(u->name, p + SSM_UNIT_FIXED, p[1]);
    u->info.name = u->name;
    u->info.kind = p[0];
    u->info.instance = ssm_rd32(p + 4);
    u->info.version = ssm_rd32(p + 8);
    u->info.ram_size = ssm_rd64(p + 12);
    u->r = r;
    u->offset = off;
    r->nunits++;
    if (ssm_rd16(p + 2) || (p[0] != SSM_UNIT_FIELDS && p[0] != SSM_UNIT_RAM))
        return ssm_corrupt(u, off, "unit kind %u", p[0]);
    if (p[0] == SSM_UNIT_FIELDS ? u->info.ram_size != 0 : u->info.ram_size % SSM_PAGE_SIZE != 0)
        return ssm_corrupt(u, off, "RAM size 0x%llx", (unsigned long long)u->info.ram_size);
    for (size_t i = 0; i + 1 < r->nunits; i++)
        if (r->units[i].info.instance == u->info.instance && !strcmp(r->units[i].name, u->name))
            return ssm_corrupt(u, off, "a second unit of this name and instance");
    s->cur = u;
    s->next_page = 0;
    s->got_fields = false;
    return CAP_OK;
}

static cap_result page_rec(struct scan *s, uint64_t off, uint32_t len)
{
    uint64_t first;
    uint32_t n;
    const uint8_t *bm;
    cap_result rc = ssm_page_decode(s->dctx, s->cur, off, s->pl, len, s->buf, &first, &n, &bm);
    if (CAP_SUCCEEDED(rc) && first < s->next_page)
        rc = ssm_corrupt(s->cur, off, "RAM chunk at page %llu after page %llu",
                         (unsigned long long)first, (unsigned long long)s->next_page);
    s->next_page = first + n;
    return rc;
}

/* One record at `off` (header h): checked, its CRCs counted. */
static cap_result record(struct ssm_reader *r, struct scan *s, uint64_t off, const uint8_t *h,
                         bool *done)
{
    uint32_t tag = ssm_rd32(h), len = ssm_rd32(h + 4);
    struct ssm_unit *u = s->cur;
    char tb[12];
    uint32_t max = tag == SSM_TAG_UNIT   ? SSM_UNIT_FIXED + SSM_NAME_MAX
                   : tag == SSM_TAG_FLDS ? SSM_FIELDS_MAX
                   : tag == SSM_TAG_PAGE ? (uint32_t)ssm_page_payload_max()
                   : tag == SSM_TAG_UEND ? 4
                   : tag == SSM_TAG_TRLR ? SSM_TRLR_LEN
                                         : 0;
    if (!max)
        return ssm_corrupt(u, off, "unknown record %s", tag_text(tag, tb));
    if (len > max || (tag == SSM_TAG_UEND && len != 4) ||
        (tag == SSM_TAG_TRLR && len != SSM_TRLR_LEN))
        return ssm_corrupt(u, off, "%s record of %u bytes", tag_text(tag, tb), len);
    if (len > r->size - off - SSM_REC_HDR)
        return ssm_corrupt(u, off, "truncated: %s record of %u bytes runs past the end of the file",
                           tag_text(tag, tb), len);
    bool want =
        tag == SSM_TAG_UNIT || tag == SSM_TAG_TRLR
            ? !u
            : u && (tag == SSM_TAG_UEND   ? u->info.kind == SSM_UNIT_RAM || s->got_fields
                    : tag == SSM_TAG_FLDS ? u->info.kind == SSM_UNIT_FIELDS && !s->got_fields
                                          : u->info.kind == SSM_UNIT_RAM);
    if (!want)
        return ssm_corrupt(u, off, "%s record out of place", tag_text(tag, tb));
    uint8_t *p = s->pl;
    if (tag == SSM_TAG_FLDS && (r->fields_total += len) > SSM_FIELDS_TOTAL)
        return ssm_corrupt(u, off, "fields units of more than %u bytes in all", SSM_FIELDS_TOTAL);
    if (tag == SSM_TAG_FLDS && !(p = malloc(len ? len : 1)))
        return cap_error_set(CAP_E_OUTOFMEMORY, VMM_COMPONENT, NULL, "out of memory");
    cap_result rc = ssm_pread(r, u, p, len, off + SSM_REC_HDR);
    if (CAP_FAILED(rc)) {
        if (p != s->pl)
            free(p);
        return rc;
    }
    uint32_t crc_len = tag == SSM_TAG_TRLR ? SSM_TRLR_LEN - 4 : tag == SSM_TAG_UEND ? 0 : len;
    s->file_crc = ssm_crc32c(ssm_crc32c(s->file_crc, h, SSM_REC_HDR), p, crc_len);
    if (tag == SSM_TAG_UEND) {
        if (CRC_DIFFERS(ssm_rd32(p), s->unit_crc))
            return ssm_corrupt(u, off, "unit checksum mismatch");
        s->file_crc = ssm_crc32c(s->file_crc, p, 4);
        u->end = off;
        s->cur = NULL;
        /* Parsed once its checksum holds: a damaged unit is reported as
         * that, not as whatever its damage looks like. */
        return u->info.kind == SSM_UNIT_FIELDS ? ssm_parse_fields(u, u->data_off, u->data_len)
                                               : CAP_OK;
    }
    if (tag == SSM_TAG_TRLR) {
        *done = true;
        if (ssm_rd32(p) != r->nunits || ssm_rd32(p + 4) || ssm_rd64(p + 8) != off)
            return ssm_corrupt(NULL, off, "trailer does not match the stream (%u units)",
                               ssm_rd32(p));
        if (CRC_DIFFERS(ssm_rd32(p + 16), s->file_crc))
            return ssm_corrupt(NULL, off, "stream checksum mismatch");
        if (off + SSM_REC_HDR + len != r->size)
            return ssm_corrupt(NULL, off + SSM_REC_HDR + len, "%llu bytes after the trailer",
                               (unsigned long long)(r->size - off - SSM_REC_HDR - len));
        return CAP_OK;
    }
    s->unit_crc =
        ssm_crc32c(ssm_crc32c(tag == SSM_TAG_UNIT ? 0 : s->unit_crc, h, SSM_REC_HDR), p, len);
    if (tag == SSM_TAG_UNIT)
        return add_unit(r, s, off, p, len);
    if (tag == SSM_TAG_PAGE)
        return page_rec(s, off, len);
    u->data = p;
    u->data_off = off + SSM_REC_HDR;
    u->data_len = len;
    s->got_fields = true;
    return CAP_OK;
}

static cap_result scan_all(struct ssm_reader *r)
{
    struct scan s = {0};
    cap_result rc = read_header(r, &s.file_crc);
    if (CAP_FAILED(rc))
        return rc;
    s.dctx = ssm_dctx_new();
    s.pl = malloc(ssm_page_payload_max());
    s.buf = malloc(SSM_CHUNK_BYTES);
    if (!s.dctx || !s.pl || !s.buf)
        rc = cap_error_set(CAP_E_OUTOFMEMORY, VMM_COMPONENT, NULL, "out of memory");
    bool done = false;
    for (uint64_t off = SSM_HEADER_LEN; CAP_SUCCEEDED(rc) && !done;) {
        uint8_t h[SSM_REC_HDR] = {0};
        if (r->size - off < SSM_REC_HDR) {
            rc = ssm_corrupt(s.cur, off, "truncated (no trailer)");
            break;
        }
        rc = ssm_pread(r, s.cur, h, sizeof h, off);
        if (CAP_SUCCEEDED(rc))
            rc = record(r, &s, off, h, &done);
        off += SSM_REC_HDR + ssm_rd32(h + 4);
    }
    free(s.buf);
    free(s.pl);
    ssm_dctx_free(s.dctx);
    return rc;
}

cap_result ssm_open_fd(int fd, struct ssm_reader **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0)
        return cap_error_set(CAP_E_IO, VMM_COMPONENT, NULL, "saved state: fstat: %s",
                             strerror(errno));
    struct ssm_reader *r = calloc(1, sizeof *r);
    if (!r)
        return cap_error_set(CAP_E_OUTOFMEMORY, VMM_COMPONENT, NULL, "out of memory");
    r->fd = fd;
    r->size = (uint64_t)st.st_size;
    cap_result rc = scan_all(r);
    if (CAP_FAILED(rc)) {
        ssm_close(r);
        return rc;
    }
    *out = r;
    return CAP_OK;
}

cap_result ssm_open(const char *path, struct ssm_reader **out)
{
    if (!out || !path)
        return CAP_E_POINTER;
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cap_error_set(CAP_E_IO, VMM_COMPONENT, NULL, "saved state %s: %s", path,
                             strerror(errno));
    cap_result rc = ssm_open_fd(fd, out);
    if (CAP_FAILED(rc)) {
        close(fd);
        const char *m = cap_error_peek_message();
        char msg[600];
        snprintf(msg, sizeof msg, "%s", m ? m : vmm_result_name(rc));
        return cap_error_set(rc, VMM_COMPONENT, NULL, "%s: %s", path, msg);
    }
    (*out)->own_fd = true;
    return CAP_OK;
}

cap_result ssm_verify(const char *path)
{
    struct ssm_reader *r = NULL;
    cap_result rc = ssm_open(path, &r);
    ssm_close(r);
    return rc;
}

void ssm_close(struct ssm_reader *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nunits; i++) {
        free(r->units[i].data);
        free(r->units[i].fields);
    }
    free(r->units);
    if (r->own_fd)
        close(r->fd);
    free(r);
}

const char *ssm_creator(const struct ssm_reader *r)
{
    return r ? r->creator : "";
}

size_t ssm_unit_count(const struct ssm_reader *r)
{
    return r ? r->nunits : 0;
}

const struct ssm_unit_info *ssm_unit_info(const struct ssm_reader *r, size_t i)
{
    return r && i < r->nunits ? &r->units[i].info : NULL;
}

cap_result ssm_check_all_used(const struct ssm_reader *r)
{
    char msg[512] = "";
    size_t n = 0, len = 0;
    for (size_t i = 0; r && i < r->nunits; i++) {
        if (r->units[i].info.used)
            continue;
        if (n++ < 4 && len < sizeof msg)
            len += (size_t)snprintf(msg + len, sizeof msg - len, "%s'%s' %u", n > 1 ? ", " : "",
                                    r->units[i].name, r->units[i].info.instance);
    }
    if (!n)
        return CAP_OK;
    if (n > 4 && len < sizeof msg)
        snprintf(msg + len, sizeof msg - len, " and %zu more", n - 4);
    return cap_error_set(VMM_E_SSM_UNKNOWN_UNIT, VMM_COMPONENT, NULL,
                         "saved state: %zu unit(s) this VM does not load: %s", n, msg);
}
