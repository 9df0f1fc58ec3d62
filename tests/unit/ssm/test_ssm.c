/*
 * tests/unit/ssm/test_ssm.c - the saved-state stream (vmm/ssm) on its own:
 * every field type round-trips, missing fields give their defaults and
 * extra ones are skipped, integers convert between widths only when they
 * fit, unknown units are reported, version mismatches are refused with a
 * message, a 1 GiB sparse RAM round-trips without touching 1 GiB of
 * memory, a flipped byte anywhere and every truncation are refused before
 * anything is applied, and a failed or aborted write leaves the old file.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capsule/errorinfo.h>

#include "ssm/ssm.h"

static char dir[64], path[128];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/ssm-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/vm.sav", dir);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* The error message must mention `what`. */
static void expect_msg(const char *what)
{
    const char *m = cap_error_peek_message();
    ck_assert_msg(m && strstr(m, what), "message '%s' lacks '%s'", m ? m : "(none)", what);
}

static struct ssm_writer *new_writer(void)
{
    struct ssm_writer *w = NULL;
    ck_assert_int_eq(ssm_writer_create(path, "capsule-test 1.0", &w), CAP_OK);
    return w;
}

static void write_all_types(struct ssm_writer *w)
{
    static const uint8_t blob[5] = {1, 2, 0, 4, 5};
    ck_assert_int_eq(ssm_begin_unit(w, "dev", 0, 3), CAP_OK);
    ssm_put_u8(w, "u8", 0xfe);
    ssm_put_u16(w, "u16", 0xbeef);
    ssm_put_u32(w, "u32", 0xdeadbeef);
    ssm_put_u64(w, "u64", 0xfedcba9876543210ull);
    ssm_put_i64(w, "i64", -42);
    ssm_put_bool(w, "on", true);
    ssm_put_bool(w, "off", false);
    ssm_put_bytes(w, "blob", blob, sizeof blob);
    ssm_put_bytes(w, "empty", NULL, 0);
    ssm_put_string(w, "str", "COM1 at 0x3f8");
    ssm_put_string(w, "nostr", "");
    ck_assert_int_eq(ssm_end_unit(w), CAP_OK);
}

static struct ssm_reader *open_ok(void)
{
    struct ssm_reader *r = NULL;
    cap_result rc = ssm_open(path, &r);
    ck_assert_msg(rc == CAP_OK, "open: %s", cap_error_peek_message());
    return r;
}

/* A stream of write_all_types's unit, opened; *u is that unit. */
static struct ssm_reader *types_stream(struct ssm_unit **u)
{
    struct ssm_writer *w = new_writer();
    write_all_types(w);
    ck_assert_int_eq(ssm_writer_commit(w, NULL), CAP_OK);
    struct ssm_reader *r = open_ok();
    ck_assert_int_eq(ssm_find_unit(r, "dev", 0, u), CAP_OK);
    return r;
}

START_TEST(types_round_trip)
{
    struct ssm_writer *w = new_writer();
    write_all_types(w);
    ck_assert_int_eq(ssm_begin_unit(w, "dev", 1, 1), CAP_OK);
    ssm_put_u32(w, "u32", 7);
    ck_assert_int_eq(ssm_end_unit(w), CAP_OK);
    uint64_t bytes = 0;
    ck_assert_int_eq(ssm_writer_commit(w, &bytes), CAP_OK);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq((uint64_t)st.st_size, bytes);

    struct ssm_reader *r = open_ok();
    ck_assert_str_eq(ssm_creator(r), "capsule-test 1.0");
    ck_assert_uint_eq(ssm_unit_count(r), 2);
    ck_assert_str_eq(ssm_unit_info(r, 1)->name, "dev");
    ck_assert_uint_eq(ssm_unit_info(r, 1)->instance, 1);
    struct ssm_unit *u;
    ck_assert_int_eq(ssm_find_unit(r, "dev", 0, &u), CAP_OK);
    ck_assert_uint_eq(ssm_unit_version(u), 3);
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    int64_t i64;
    bool on, off;
    uint8_t blob[5];
    char str[32];
    ck_assert_int_eq(ssm_get_u8(u, "u8", 0, &u8), CAP_OK);
    ck_assert_int_eq(ssm_get_u16(u, "u16", 0, &u16), CAP_OK);
    ck_assert_int_eq(ssm_get_u32(u, "u32", 0, &u32), CAP_OK);
    ck_assert_int_eq(ssm_get_u64(u, "u64", 0, &u64), CAP_OK);
    ck_assert_int_eq(ssm_get_i64(u, "i64", 0, &i64), CAP_OK);
    ck_assert_int_eq(ssm_get_bool(u, "on", false, &on), CAP_OK);
    ck_assert_int_eq(ssm_get_bool(u, "off", true, &off), CAP_OK);
    ck_assert_int_eq(ssm_get_bytes(u, "blob", blob, sizeof blob), CAP_OK);
    ck_assert_int_eq(ssm_get_string(u, "str", NULL, str, sizeof str), CAP_OK);
    ck_assert_uint_eq(u8, 0xfe);
    ck_assert_uint_eq(u16, 0xbeef);
    ck_assert_uint_eq(u32, 0xdeadbeef);
    ck_assert_uint_eq(u64, 0xfedcba9876543210ull);
    ck_assert_int_eq(i64, -42);
    ck_assert(on && !off);
    ck_assert_mem_eq(blob, ((uint8_t[]){1, 2, 0, 4, 5}), 5);
    ck_assert_str_eq(str, "COM1 at 0x3f8");
    const void *d = (void *)1;
    size_t n = 9;
    ck_assert_int_eq(ssm_get_bytes_ref(u, "empty", &d, &n), CAP_OK);
    ck_assert(d != NULL && n == 0); /* present, empty */
    ck_assert(ssm_has_field(u, "empty") && !ssm_has_field(u, "absent"));
    ck_assert_int_eq(ssm_get_string(u, "nostr", "x", str, sizeof str), CAP_OK);
    ck_assert_str_eq(str, "");
    ck_assert_int_eq(ssm_find_unit(r, "dev", 1, &u), CAP_OK);
    ck_assert_int_eq(ssm_get_u32(u, "u32", 0, &u32), CAP_OK);
    ck_assert_uint_eq(u32, 7);
    ck_assert_int_eq(ssm_check_all_used(r), CAP_OK);
    ssm_close(r);
}
END_TEST

START_TEST(defaults_and_conversions)
{
    struct ssm_unit *u;
    struct ssm_reader *r = types_stream(&u);

    /* A newer reader: fields the stream lacks get the caller's default. */
    uint32_t u32 = 0;
    int64_t i64 = 0;
    bool b = false;
    char s[8];
    uint8_t buf[3] = {7, 7, 7};
    const void *d = (void *)1;
    size_t n = 1;
    ck_assert_int_eq(ssm_get_u32(u, "added_later", 115200, &u32), CAP_OK);
    ck_assert_uint_eq(u32, 115200);
    ck_assert_int_eq(ssm_get_i64(u, "added_i64", -5, &i64), CAP_OK);
    ck_assert_int_eq(i64, -5);
    ck_assert_int_eq(ssm_get_bool(u, "added_bool", true, &b), CAP_OK);
    ck_assert(b);
    ck_assert_int_eq(ssm_get_string(u, "added_str", "def", s, sizeof s), CAP_OK);
    ck_assert_str_eq(s, "def");
    ck_assert_int_eq(ssm_get_bytes(u, "added_bytes", buf, sizeof buf), CAP_OK);
    ck_assert_mem_eq(buf, ((uint8_t[]){7, 7, 7}), 3);
    ck_assert_int_eq(ssm_get_bytes_ref(u, "added_bytes", &d, &n), CAP_OK);
    ck_assert(d == NULL && n == 0);

    /* Widths convert when the value fits... */
    uint64_t u64;
    ck_assert_int_eq(ssm_get_u64(u, "u8", 0, &u64), CAP_OK);
    ck_assert_uint_eq(u64, 0xfe);
    ck_assert_int_eq(ssm_get_u32(u, "on", 0, &u32), CAP_OK);
    ck_assert_uint_eq(u32, 1);
    ck_assert_int_eq(ssm_get_i64(u, "u32", 0, &i64), CAP_OK);
    ck_assert_int_eq(i64, 0xdeadbeef);
    /* ... and are refused, naming unit, field and types, when not. */
    uint16_t u16 = 9;
    ck_assert_int_eq(ssm_get_u16(u, "u32", 0, &u16), VMM_E_SSM_FIELD);
    expect_msg("unit 'dev' 0: field 'u32' is u32 3735928559, which does not fit u16");
    ck_assert_uint_eq(u16, 9); /* untouched */
    ck_assert_int_eq(ssm_get_u64(u, "i64", 0, &u64), VMM_E_SSM_FIELD);
    expect_msg("is i64 -42");
    ck_assert_int_eq(ssm_get_i64(u, "u64", 0, &i64), VMM_E_SSM_FIELD);
    ck_assert_int_eq(ssm_get_bool(u, "u8", 0, &b), VMM_E_SSM_FIELD);
    ck_assert_int_eq(ssm_get_u32(u, "blob", 0, &u32), VMM_E_SSM_FIELD);
    expect_msg("field 'blob' is bytes, asked for as u32");
    ck_assert_int_eq(ssm_get_bytes(u, "blob", buf, sizeof buf), VMM_E_SSM_FIELD);
    expect_msg("holds 5 bytes, this build reads 3");
    ck_assert_int_eq(ssm_get_string(u, "str", NULL, s, sizeof s), VMM_E_SSM_FIELD);
    expect_msg("field 'str' holds 13 bytes");
    ck_assert_int_eq(ssm_get_string(u, "u8", NULL, s, sizeof s), VMM_E_SSM_FIELD);
    ck_assert_int_eq(ssm_get_bytes_ref(u, "str", &d, &n), VMM_E_SSM_FIELD);
    /* An older reader asks for a few fields only: the rest are skipped. */
    ck_assert_int_eq(ssm_check_all_used(r), CAP_OK);
    ssm_close(r);
}
END_TEST

START_TEST(unknown_units_and_versions)
{
    struct ssm_writer *w = new_writer();
    write_all_types(w);
    for (uint32_t i = 0; i < 6; i++) {
        ck_assert_int_eq(ssm_begin_unit(w, "e1000", i, 1), CAP_OK);
        ck_assert_int_eq(ssm_end_unit(w), CAP_OK); /* an empty unit is fine */
    }
    ck_assert_int_eq(ssm_writer_commit(w, NULL), CAP_OK);
    struct ssm_reader *r = open_ok();
    struct ssm_unit *u;
    ck_assert_int_eq(ssm_find_unit(r, "serial", 0, &u), VMM_E_SSM_NOT_FOUND);
    expect_msg("no unit 'serial' 0");
    ck_assert_ptr_null(u);
    ck_assert_int_eq(ssm_find_unit(r, "dev", 0, &u), CAP_OK);
    ck_assert_int_eq(ssm_unit_check_version(u, 1, 3), CAP_OK);
    ck_assert_int_eq(ssm_unit_check_version(u, 1, 2), VMM_E_SSM_VERSION);
    expect_msg("unit 'dev' 0 has version 3, this build reads 1..2");
    ck_assert_int_eq(ssm_check_all_used(r), VMM_E_SSM_UNKNOWN_UNIT);
    expect_msg("6 unit(s) this VM does not load: 'e1000' 0, 'e1000' 1, 'e1000' 2, 'e1000' 3 "
               "and 2 more");
    ck_assert(!ssm_unit_info(r, 1)->used && ssm_unit_info(r, 0)->used);
    ssm_close(r);
}
END_TEST

/* CRC32C, bitwise: the test's own, to forge a header. */
static uint32_t crc32c(const uint8_t *p, size_t n)
{
    uint32_t c = ~0u;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    }
    return ~c;
}

static uint8_t *slurp(size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    uint8_t *b = malloc(*len);
    ck_assert_uint_eq(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

static cap_result verify_bytes(const uint8_t *b, size_t len)
{
    int fd = memfd_create("ssm", MFD_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, b, len), (ssize_t)len);
    struct ssm_reader *r = NULL;
    cap_result rc = ssm_open_fd(fd, &r);
    ck_assert(CAP_FAILED(rc) == (r == NULL));
    ssm_close(r);
    close(fd);
    return rc;
}

START_TEST(stream_version_and_flags)
{
    struct ssm_unit *u;
    ssm_close(types_stream(&u));
    size_t len;
    uint8_t *b = slurp(&len);
    b[8] = 2; /* stream version 2, a newer format */
    ck_assert_int_eq(verify_bytes(b, len), VMM_E_SSM_VERSION);
    expect_msg("stream version 2, this build reads version 1");
    b[8] = 1;
    b[12] = 4; /* a flag this build does not know, header CRC right */
    uint32_t c = crc32c(b, 60);
    memcpy(b + 60, &c, 4);
    ck_assert_int_eq(verify_bytes(b, len), VMM_E_SSM_VERSION);
    expect_msg("header flags 0x4");
    memcpy(b, "CAPSSN", 6);
    ck_assert_int_eq(verify_bytes(b, len), VMM_E_SSM_CORRUPT);
    expect_msg("bad magic");
    free(b);
    ck_assert_int_eq(ssm_verify("/nonexistent/x.sav"), CAP_E_IO);
    expect_msg("/nonexistent/x.sav");
}
END_TEST

/* Pages that compress (text), that do not (random) and zero ones. */
static void fill_page(uint8_t *p, unsigned kind, unsigned seed)
{
    if (kind == 0) {
        for (unsigned i = 0; i < 4096; i += 64)
            snprintf((char *)p + i, 64, "line %6u of page %u: the quick brown fox       \n", i,
                     seed);
    } else {
        uint64_t x = 0x9e3779b97f4a7c15ull * (seed + 1);
        for (unsigned i = 0; i < 4096; i += 8) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            memcpy(p + i, &x, 8);
        }
    }
}

/* A small stream with fields and RAM (compressible), for flips and cuts. */
static void write_small(bool random_pages)
{
    static uint8_t ram[64 * 4096];
    memset(ram, 0, sizeof ram);
    for (unsigned i = 0; i < 64; i += 7)
        fill_page(ram + i * 4096, random_pages, i);
    struct ssm_writer *w = new_writer();
    write_all_types(w);
    ck_assert_int_eq(ssm_put_ram(w, "ram", 0, 1, ram, sizeof ram), CAP_OK);
    ck_assert_int_eq(ssm_begin_unit(w, "pit", 0, 1), CAP_OK);
    ssm_put_u16(w, "count", 0x1234);
    ck_assert_int_eq(ssm_end_unit(w), CAP_OK);
    ck_assert_int_eq(ssm_writer_commit(w, NULL), CAP_OK);
}

START_TEST(flipped_byte_refused)
{
    write_small(false);
    size_t len;
    uint8_t *b = slurp(&len);
    ck_assert_int_eq(verify_bytes(b, len), CAP_OK);
    ck_assert_uint_lt(len, 64 * 1024);
    /* Every byte, two different flips each. */
    for (size_t i = 0; i < len; i++) {
        for (unsigned m = 0; m < 2; m++) {
            uint8_t mask = m ? 0xff : (uint8_t)(1u << (i % 8));
            b[i] ^= mask;
            cap_result rc = verify_bytes(b, len);
            ck_assert_msg(CAP_FAILED(rc), "flip 0x%02x at %zu accepted", mask, i);
            ck_assert_msg(rc == VMM_E_SSM_CORRUPT || rc == VMM_E_SSM_VERSION, "flip at %zu: %s", i,
                          vmm_result_name(rc));
            b[i] ^= mask;
        }
    }
    /* The message of a flip inside a unit names it and the offset. */
    b[len / 2] ^= 1;
    ck_assert_int_eq(verify_bytes(b, len), VMM_E_SSM_CORRUPT);
    expect_msg("unit 'ram' 0, offset ");
    b[len / 2] ^= 1;
    /* A flip in a field's name is a checksum mismatch, not a parse error. */
    uint8_t *at = memmem(b, len, "u16", 3);
    ck_assert_ptr_nonnull(at);
    at[0] = ' '; /* a name the parser would refuse */
    ck_assert_int_eq(verify_bytes(b, len), VMM_E_SSM_CORRUPT);
    expect_msg("unit 'dev' 0, offset ");
    expect_msg("unit checksum mismatch");
    free(b);
}
END_TEST

START_TEST(flipped_byte_random_pages)
{
    write_small(true);
    size_t len;
    uint8_t *b = slurp(&len);
    srand(17);
    for (int k = 0; k < 400; k++) {
        size_t i = (size_t)rand() % len;
        b[i] ^= 0x10;
        ck_assert_msg(CAP_FAILED(verify_bytes(b, len)), "flip at %zu accepted", i);
        b[i] ^= 0x10;
    }
    free(b);
}
END_TEST

START_TEST(truncated_refused)
{
    write_small(false);
    size_t len;
    uint8_t *b = slurp(&len);
    for (size_t n = 0; n < len; n++)
        ck_assert_msg(verify_bytes(b, n) == VMM_E_SSM_CORRUPT, "cut at %zu accepted", n);
    verify_bytes(b, len - 3);
    expect_msg("truncated");
    /* Garbage after the trailer too. */
    uint8_t *longer = calloc(1, len + 1);
    memcpy(longer, b, len);
    ck_assert_int_eq(verify_bytes(longer, len + 1), VMM_E_SSM_CORRUPT);
    expect_msg("1 bytes after the trailer");
    free(longer);
    /* A record claiming 4 GiB. */
    memset(b + 64 + 4, 0xff, 4);
    ck_assert_int_eq(verify_bytes(b, len), VMM_E_SSM_CORRUPT);
    expect_msg("offset 64: UNIT record of 4294967295 bytes");
    free(b);
}
END_TEST

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fscanf(f, "%ld %ld", &pages, &rss), 2);
    fclose(f);
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

#define GIB (1ull << 30)

START_TEST(ram_1gib_sparse)
{
    /* Scattered pages of each kind, the last page too; the rest untouched. */
    static const uint64_t at[] = {0, 1, 2, 255, 256, 4097, 100000, 131072, 262143};
    uint8_t *ram =
        mmap(NULL, GIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ck_assert(ram != MAP_FAILED);
    for (unsigned i = 0; i < sizeof at / sizeof at[0]; i++)
        fill_page(ram + at[i] * 4096, i % 2, i);
    long rss0 = rss_kib();
    struct ssm_writer *w = new_writer();
    ck_assert_int_eq(ssm_put_ram(w, "ram", 0, 1, ram, GIB), CAP_OK);
    uint64_t bytes;
    ck_assert_int_eq(ssm_writer_commit(w, &bytes), CAP_OK);
    ck_assert_uint_lt(bytes, 64 * 1024); /* zero pages cost nothing */

    uint8_t *back =
        mmap(NULL, GIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ck_assert(back != MAP_FAILED);
    struct ssm_reader *r = open_ok();
    ck_assert_uint_eq(ssm_unit_info(r, 0)->kind, SSM_UNIT_RAM);
    ck_assert_uint_eq(ssm_unit_info(r, 0)->ram_size, GIB);
    ck_assert_int_eq(ssm_load_ram(r, "ram", 0, back, GIB / 2), VMM_E_SSM_FIELD);
    expect_msg("holds 1073741824 bytes, the VM has 536870912");
    struct ssm_unit *u;
    ck_assert_int_eq(ssm_find_unit(r, "ram", 0, &u), VMM_E_SSM_NOT_FOUND); /* not a fields unit */
    ck_assert_int_eq(ssm_load_ram(r, "ram", 0, back, GIB), CAP_OK);
    ck_assert_int_eq(ssm_check_all_used(r), CAP_OK);
    ssm_close(r);
    long rss1 = rss_kib();
    /* Both passes stayed within a few MiB: no 1 GiB buffer anywhere. */
    ck_assert_msg(rss1 - rss0 < 32 * 1024, "RSS grew by %ld KiB", rss1 - rss0);
    ck_assert(memcmp(ram, back, GIB) == 0);
    munmap(ram, GIB);
    munmap(back, GIB);
}
END_TEST

START_TEST(ram_load_overwrites)
{
    /* Loading into used memory: pages absent from the stream become zero. */
    enum { N = 600 };
    uint8_t *ram = calloc(N, 4096), *back = malloc((size_t)N * 4096);
    fill_page(ram + 3 * 4096, 0, 1);
    fill_page(ram + 599 * 4096, 1, 2);
    memset(back, 0xa5, (size_t)N * 4096);
    struct ssm_writer *w = new_writer();
    ck_assert_int_eq(ssm_put_ram(w, "ram", 1, 1, ram, (size_t)N * 4096), CAP_OK);
    ck_assert_int_eq(ssm_put_ram(w, "vram", 0, 1, ram, 0), CAP_OK);
    ck_assert_int_eq(ssm_writer_commit(w, NULL), CAP_OK);
    struct ssm_reader *r = open_ok();
    ck_assert_int_eq(ssm_load_ram(r, "ram", 0, back, (size_t)N * 4096), VMM_E_SSM_NOT_FOUND);
    ck_assert_int_eq(ssm_load_ram(r, "ram", 1, back, (size_t)N * 4096), CAP_OK);
    ck_assert_int_eq(ssm_load_ram(r, "vram", 0, NULL, 0), CAP_OK);
    ck_assert(memcmp(ram, back, (size_t)N * 4096) == 0);
    ssm_close(r);
    free(ram);
    free(back);
}
END_TEST

START_TEST(writer_errors_keep_old_file)
{
    struct ssm_writer *w = new_writer();
    write_all_types(w);
    ck_assert_int_eq(ssm_writer_commit(w, NULL), CAP_OK);
    size_t old_len;
    uint8_t *old = slurp(&old_len);
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);

    /* Aborted: PATH.tmp removed, PATH as it was. */
    w = new_writer();
    ck_assert_int_eq(access(tmp, F_OK), 0);
    ssm_writer_abort(w);
    ck_assert_int_ne(access(tmp, F_OK), 0);

    /* Errors are sticky and fail the commit. */
    w = new_writer();
    ck_assert_int_eq(ssm_begin_unit(w, "dev", 0, 1), CAP_OK);
    ck_assert_int_eq(ssm_put_u32(w, "x", 1), CAP_OK);
    ck_assert_int_eq(ssm_put_u32(w, "x", 2), CAP_E_INVALIDARG);
    expect_msg("unit 'dev': field 'x' written twice");
    ck_assert_int_eq(ssm_put_u32(w, "y", 2), CAP_E_INVALIDARG);
    ck_assert_int_eq(ssm_end_unit(w), CAP_E_INVALIDARG);
    ck_assert_int_eq(ssm_writer_commit(w, NULL), CAP_E_INVALIDARG);
    ck_assert_int_ne(access(tmp, F_OK), 0);
    size_t len;
    uint8_t *now = slurp(&len);
    ck_assert(len == old_len && memcmp(now, old, len) == 0);
    free(now);

    w = new_writer();
    ck_assert_int_eq(ssm_begin_unit(w, "dev", 0, 1), CAP_OK);
    ck_assert_int_eq(ssm_end_unit(w), CAP_OK);
    ck_assert_int_eq(ssm_begin_unit(w, "dev", 0, 1), CAP_E_INVALIDARG);
    expect_msg("unit 'dev' 0 written twice");
    ssm_writer_abort(w);
    w = new_writer();
    ck_assert_int_eq(ssm_begin_unit(w, "bad name", 0, 1), CAP_E_INVALIDARG);
    ssm_writer_abort(w);
    w = new_writer();
    ck_assert_int_eq(ssm_put_u8(w, "x", 1), CAP_E_UNEXPECTED); /* no unit open */
    ssm_writer_abort(w);
    w = new_writer();
    ck_assert_int_eq(ssm_begin_unit(w, "dev", 0, 1), CAP_OK);
    ck_assert_int_eq(ssm_writer_commit(w, NULL), CAP_E_UNEXPECTED); /* not ended */
    expect_msg("unit 'dev' not ended");
    w = new_writer();
    ck_assert_int_eq(ssm_put_ram(w, "ram", 0, 1, old, 100), CAP_E_INVALIDARG);
    expect_msg("not whole pages");
    ssm_writer_abort(w);
    /* Device state, not bulk data: fields units stop at SSM_FIELDS_TOTAL. */
    size_t big = SSM_FIELDS_MAX - 64;
    uint8_t *blob = calloc(1, big);
    w = new_writer();
    cap_result rc = CAP_OK;
    for (uint32_t i = 0; CAP_SUCCEEDED(rc) && i < 5; i++) {
        ck_assert_int_eq(ssm_begin_unit(w, "blob", i, 1), CAP_OK);
        ck_assert_int_eq(ssm_put_bytes(w, "b", blob, big), CAP_OK);
        rc = ssm_end_unit(w);
        ck_assert_int_eq(rc, i < 4 ? CAP_OK : CAP_E_INVALIDARG);
    }
    expect_msg("fields units of more than 67108864 bytes in all");
    ssm_writer_abort(w);
    free(blob);
    snprintf(path, sizeof path, "%s/no/such/dir.sav", dir);
    ck_assert_int_eq(ssm_writer_create(path, "x", &w), CAP_E_IO);
    ck_assert_ptr_null(w);
    free(old);
}
END_TEST

static Suite *ssm_suite(void)
{
    Suite *s = suite_create("ssm");
    struct {
        const char *name;
        const TTest *test;
    } cases[] = {
        {"types", types_round_trip},
        {"defaults", defaults_and_conversions},
        {"units", unknown_units_and_versions},
        {"stream_version", stream_version_and_flags},
        {"flip", flipped_byte_refused},
        {"flip_random", flipped_byte_random_pages},
        {"truncated", truncated_refused},
        {"ram_1gib", ram_1gib_sparse},
        {"ram_overwrite", ram_load_overwrites},
        {"writer_errors", writer_errors_keep_old_file},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, cases[i].test);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ssm_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
