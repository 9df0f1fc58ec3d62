/*
 * test_smbios.c - the SMBIOS 2.8 structure table and its entry point:
 * the structures in order with their formatted lengths, strings and
 * terminators, the counts and sizes the entry point states, the UUID's
 * byte order, large memory in the extended fields, and refused strings.
 */
#include <stdlib.h>

#include "platform_test.h"

struct walked {
    unsigned n;
    const uint8_t *s[64];
    unsigned max; /* largest structure with its strings */
};

/* Walks the table: every structure whole, each ending in a double NUL. */
static void walk(const uint8_t *t, size_t len, struct walked *w)
{
    const uint8_t *p = t, *end = t + len;
    w->n = 0;
    w->max = 0;
    while (p < end) {
        ck_assert_uint_lt(w->n, 64);
        ck_assert_uint_ge(p[1], 4);
        w->s[w->n++] = p;
        const uint8_t *q = p + p[1];
        ck_assert(q + 2 <= end);
        while (q[0] || q[1]) {
            q++;
            ck_assert(q + 2 <= end);
        }
        q += 2;
        if ((unsigned)(q - p) > w->max)
            w->max = (unsigned)(q - p);
        if (p[0] == 127)
            ck_assert(q == end);
        p = q;
    }
}

/* String number k (1-based) of structure s. */
static const char *str(const uint8_t *s, unsigned k)
{
    const char *p = (const char *)s + s[1];
    for (unsigned i = 1; i < k; i++)
        p += strlen(p) + 1;
    return p;
}

START_TEST(structures)
{
    struct platform_smbios smb;
    char msg[128];
    struct platform_smbios_config c = {
        .bios_vendor = "Capsule",
        .bios_version = "test",
        .bios_date = "12/01/2026",
        .product = "Box",
        .serial = "S-1",
        .uuid = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
                 0xee, 0xff},
        .cpu_manufacturer = "GenuineIntel",
        .cpu_version = "Test CPU",
        .cpuid_signature = 0x506e3,
        .cpus = 2,
        .ram_below_4g = 0xc0000000ull,
        .ram_above_4g = 0x40000000ull,
    };
    ck_assert_int_eq(platform_smbios_build(&c, &smb, msg, sizeof(msg)), CAP_OK);
    const uint8_t *ep = smb.files[0].data, *t = smb.files[1].data;
    ck_assert_str_eq(smb.files[0].name, "etc/smbios/smbios-anchor");
    ck_assert_str_eq(smb.files[1].name, "etc/smbios/smbios-tables");
    ck_assert_uint_eq(smb.files[0].len, 31); /* what SeaBIOS insists on */
    ck_assert_mem_eq(ep, "_SM_", 4);
    ck_assert_uint_eq(ep[5], 0x1f);
    ck_assert_uint_eq(ep[6], 2);
    ck_assert_uint_eq(ep[7], 8);
    ck_assert_mem_eq(ep + 0x10, "_DMI_", 5);
    ck_assert_uint_eq(sum8(ep, 0x10), 0);
    ck_assert_uint_eq(sum8(ep + 0x10, 0x0f), 0);
    ck_assert_uint_eq(rd(ep + 0x16, 2), smb.files[1].len);
    ck_assert_uint_eq(rd(ep + 0x18, 4), 0); /* the firmware sets the address */
    ck_assert_uint_eq(ep[0x1e], 0x28);

    struct walked w;
    walk(t, smb.files[1].len, &w);
    static const uint8_t types[] = {0, 1, 3, 4, 4, 16, 17, 19, 19, 32, 127};
    static const uint8_t lens[] = {0x18, 0x1b, 0x16, 0x2a, 0x2a, 0x17, 0x28, 0x1f, 0x1f, 0x0b, 4};
    ck_assert_uint_eq(w.n, sizeof(types));
    for (unsigned i = 0; i < w.n; i++) {
        ck_assert_uint_eq(w.s[i][0], types[i]);
        ck_assert_uint_eq(w.s[i][1], lens[i]);
    }
    ck_assert_uint_eq(rd(ep + 0x1c, 2), w.n);
    ck_assert_uint_eq(rd(ep + 8, 2), w.max);
    /* type 0 */
    ck_assert_str_eq(str(w.s[0], w.s[0][4]), "Capsule");
    ck_assert_str_eq(str(w.s[0], w.s[0][5]), "test");
    ck_assert_str_eq(str(w.s[0], w.s[0][8]), "12/01/2026");
    /* type 1: defaults, given strings, UUID with its first three fields
     * little-endian, version absent (string 0) */
    const uint8_t *s1 = w.s[1];
    ck_assert_str_eq(str(s1, s1[4]), "Capsule");
    ck_assert_str_eq(str(s1, s1[5]), "Box");
    ck_assert_uint_eq(s1[6], 0);
    ck_assert_str_eq(str(s1, s1[7]), "S-1");
    static const uint8_t le[16] = {0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66,
                                   0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
    ck_assert_mem_eq(s1 + 8, le, 16);
    /* type 4: one per CPU */
    ck_assert_str_eq(str(w.s[3], w.s[3][4]), "CPU 0");
    ck_assert_str_eq(str(w.s[4], w.s[4][4]), "CPU 1");
    ck_assert_str_eq(str(w.s[3], w.s[3][7]), "GenuineIntel");
    ck_assert_str_eq(str(w.s[3], w.s[3][0x10]), "Test CPU");
    ck_assert_uint_eq(rd(w.s[3] + 8, 4), 0x506e3);
    ck_assert_uint_eq(rd(w.s[4] + 2, 2), 0x401);
    /* memory: 4 GiB in one array and one device, two mapped ranges */
    ck_assert_uint_eq(rd(w.s[5] + 7, 4), 4u << 20); /* KiB */
    ck_assert_uint_eq(rd(w.s[6] + 12, 2), 4096);    /* MiB */
    ck_assert_uint_eq(rd(w.s[7] + 4, 4), 0);
    ck_assert_uint_eq(rd(w.s[7] + 8, 4), (0xc0000000u >> 10) - 1);
    ck_assert_uint_eq(rd(w.s[8] + 4, 4), 4u << 20);
    ck_assert_uint_eq(rd(w.s[8] + 8, 4), (5u << 20) - 1);
    platform_smbios_free(&smb);
}
END_TEST

START_TEST(options_and_limits)
{
    struct platform_smbios smb;
    char msg[128];
    /* no BIOS vendor: no type 0 (SeaBIOS adds its own); a structure without
     * strings ends in two NULs */
    struct platform_smbios_config c = {.ram_below_4g = 64u << 20};
    ck_assert_int_eq(platform_smbios_build(&c, &smb, msg, sizeof(msg)), CAP_OK);
    struct walked w;
    walk(smb.files[1].data, smb.files[1].len, &w);
    ck_assert_uint_eq(w.s[0][0], 1);
    ck_assert_uint_eq(w.n, 8); /* 1 3 4 16 17 19 32 127 */
    ck_assert_uint_eq(w.s[7][4], 0);
    ck_assert_uint_eq(w.s[7][5], 0);
    platform_smbios_free(&smb);

    /* 40 GiB: the device's size in the extended field */
    c.ram_above_4g = 40ull << 30;
    ck_assert_int_eq(platform_smbios_build(&c, &smb, msg, sizeof(msg)), CAP_OK);
    walk(smb.files[1].data, smb.files[1].len, &w);
    ck_assert_uint_eq(rd(w.s[4] + 12, 2), 0x7fff);
    ck_assert_uint_eq(rd(w.s[4] + 0x1c, 4), 40 * 1024 + 64);
    platform_smbios_free(&smb);

    /* the entry point's address and checksums, as a firmware sets them */
    c.ram_above_4g = 0;
    ck_assert_int_eq(platform_smbios_build(&c, &smb, msg, sizeof(msg)), CAP_OK);
    platform_smbios_set_address(smb.files[0].data, 0xf0020);
    ck_assert_uint_eq(rd(smb.files[0].data + 0x18, 4), 0xf0020);
    ck_assert_uint_eq(sum8(smb.files[0].data, 31), 0);
    ck_assert_uint_eq(sum8(smb.files[0].data + 0x10, 15), 0);
    platform_smbios_free(&smb);

    c.product = "tab\there";
    ck_assert_int_eq(platform_smbios_build(&c, &smb, msg, sizeof(msg)), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(msg, "printable ASCII"));
    c.product = NULL;
    c.cpus = 256;
    ck_assert_int_eq(platform_smbios_build(&c, &smb, msg, sizeof(msg)), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(msg, "256 vCPUs"));
}
END_TEST

START_TEST(derived_uuid)
{
    uint8_t a[16], b[16], c[16];
    platform_uuid_derive("vm-1", 4, a);
    platform_uuid_derive("vm-1", 4, b);
    platform_uuid_derive("vm-2", 4, c);
    ck_assert_mem_eq(a, b, 16);
    ck_assert(memcmp(a, c, 16) != 0);
    ck_assert_uint_eq(a[6] >> 4, 8); /* version 8 */
    ck_assert_uint_eq(a[8] >> 6, 2); /* variant 10 */
}
END_TEST

TCase *tcase_smbios(void)
{
    TCase *tc = tcase_create("smbios");
    tcase_add_test(tc, structures);
    tcase_add_test(tc, options_and_limits);
    tcase_add_test(tc, derived_uuid);
    return tc;
}
