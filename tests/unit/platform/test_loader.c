/*
 * test_loader.c - platform_loader_run: the script runner a direct boot
 * uses in place of a firmware. Pointer arithmetic and checksums on a small
 * pair of files, then every kind of bad entry refused with a message that
 * names the entry.
 */
#include "platform_test.h"

static uint8_t script[16][PLATFORM_LOADER_ENTRY];
static unsigned nentries;

static uint8_t *entry(uint32_t cmd, const char *file)
{
    uint8_t *e = script[nentries++];
    memset(e, 0, PLATFORM_LOADER_ENTRY);
    e[0] = (uint8_t)cmd;
    strncpy((char *)e + 4, file, 56);
    return e;
}
static void put(uint8_t *p, uint32_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void allocate(const char *file, uint32_t align, uint8_t zone)
{
    uint8_t *e = entry(PLATFORM_LOADER_ALLOCATE, file);
    put(e + 60, align, 4);
    e[64] = zone;
}
static void pointer(const char *dst, const char *src, uint32_t off, uint8_t size)
{
    uint8_t *e = entry(PLATFORM_LOADER_ADD_POINTER, dst);
    strncpy((char *)e + 60, src, 56);
    put(e + 116, off, 4);
    e[120] = size;
}
static void checksum(const char *file, uint32_t off, uint32_t start, uint32_t len)
{
    uint8_t *e = entry(PLATFORM_LOADER_ADD_CHECKSUM, file);
    put(e + 60, off, 4);
    put(e + 64, start, 4);
    put(e + 68, len, 4);
}

static uint8_t fa[32], fb[16];
static struct platform_placed files[2];
static char msg[256];

static void setup(void)
{
    nentries = 0;
    memset(fa, 0, sizeof(fa));
    memset(fb, 0, sizeof(fb));
    files[0] = (struct platform_placed){"a", 0x1000, fa, sizeof(fa)};
    files[1] = (struct platform_placed){"b", 0x12345640, fb, sizeof(fb)};
    msg[0] = '\0';
    allocate("a", 16, PLATFORM_ZONE_HIGH);
    allocate("b", 64, PLATFORM_ZONE_FSEG);
}

static cap_result run_script(void)
{
    return platform_loader_run(&script[0][0], nentries * PLATFORM_LOADER_ENTRY, files, 2, msg,
                               sizeof(msg));
}

START_TEST(pointers_and_checksums)
{
    setup();
    fa[4] = 0x10; /* offset 0x10 into b */
    files[1].gpa = 0x12345640;
    pointer("a", "b", 4, 4);
    pointer("b", "a", 0, 8);
    checksum("a", 31, 0, 32);
    ck_assert_int_eq(run_script(), CAP_OK);
    ck_assert_uint_eq(rd(fa + 4, 4), 0x12345650);
    ck_assert_uint_eq(rd64(fb), 0x1000);
    ck_assert_uint_eq(sum8(fa, 32), 0);
    /* a checksum is relative to what the byte held: again, still 0 */
    nentries = 0;
    allocate("a", 16, PLATFORM_ZONE_HIGH);
    checksum("a", 31, 0, 32);
    ck_assert_int_eq(run_script(), CAP_OK);
    ck_assert_uint_eq(sum8(fa, 32), 0);
    /* a byte pointer that fits */
    setup();
    fa[9] = 0xf0;
    files[1].gpa = 0x0f;
    files[1].name = "b";
    nentries = 1;
    uint8_t *e = entry(PLATFORM_LOADER_ALLOCATE, "b");
    e[64] = PLATFORM_ZONE_FSEG; /* alignment 0: any */
    pointer("a", "b", 9, 1);
    ck_assert_int_eq(run_script(), CAP_OK);
    ck_assert_uint_eq(fa[9], 0xff);
}
END_TEST

static void expect_bad(const char *needle)
{
    ck_assert_int_eq(run_script(), CAP_E_INVALIDARG);
    ck_assert_msg(strstr(msg, needle) != NULL, "'%s' lacks '%s'", msg, needle);
}

START_TEST(bad_scripts)
{
    setup();
    entry(9, "a");
    expect_bad("entry 2: command 9");
    setup();
    pointer("a", "c", 0, 4);
    expect_bad("entry 2: ADD_POINTER names a file not allocated");
    setup();
    pointer("a", "b", 30, 4);
    expect_bad("a 4-byte pointer at 30 is outside 'a'");
    setup();
    pointer("a", "b", 0, 3);
    expect_bad("bad size");
    setup();
    pointer("a", "b", 0, 2); /* b at 0x12345640 does not fit 16 bits */
    expect_bad("does not fit the 2-byte pointer");
    setup();
    checksum("b", 16, 0, 1);
    expect_bad("checksum at 16");
    setup();
    checksum("b", 0, 8, 9);
    expect_bad("over [8, +9)");
    setup();
    checksum("b", 0, 0xfffffff0u, 0x20);
    expect_bad("outside 'b'");
    setup();
    files[1].gpa = 0x20; /* not 64-aligned */
    expect_bad("is not 64-byte aligned");
    setup();
    allocate("c", 16, PLATFORM_ZONE_HIGH);
    expect_bad("no file 'c' was placed");
    setup();
    allocate("a", 24, PLATFORM_ZONE_HIGH);
    expect_bad("alignment 24");
    setup();
    allocate("a", 16, 7);
    expect_bad("zone 7");
    setup();
    memset(entry(PLATFORM_LOADER_ADD_CHECKSUM, "a") + 4, 'x', 56); /* no NUL */
    expect_bad("not allocated");
    /* ADD_POINTER before the ALLOCATE of its source */
    nentries = 0;
    allocate("a", 16, PLATFORM_ZONE_HIGH);
    pointer("a", "b", 0, 4);
    expect_bad("not allocated");
    /* not whole entries */
    ck_assert_int_eq(platform_loader_run(&script[0][0], 100, files, 2, msg, sizeof(msg)),
                     CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(msg, "100 bytes"));
}
END_TEST

TCase *tcase_loader(void)
{
    TCase *tc = tcase_create("loader");
    tcase_add_test(tc, pointers_and_checksums);
    tcase_add_test(tc, bad_scripts);
    return tc;
}
