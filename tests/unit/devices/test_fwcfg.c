/*
 * tests/unit/devices/test_fwcfg.c - fw_cfg: signature, ID, RAM size, CPU
 * count, kernel (bzImage split into setup and kernel) / initrd / cmdline
 * items, the big-endian file directory and named files, reads past the
 * end, config errors.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "platform/platform.h"

static struct harness h;
static char dir[64];

static void setup(void)
{
    h_setup(&h);
    strcpy(dir, "/tmp/capsule-fwcfg-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    h_teardown(&h);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Writes n bytes of p to dir/name; returns the path (static buffer per slot). */
static const char *mkfile(int slot, const char *name, const void *p, size_t n)
{
    static char paths[4][128];
    snprintf(paths[slot], sizeof(paths[slot]), "%s/%s", dir, name);
    FILE *f = fopen(paths[slot], "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    fclose(f);
    return paths[slot];
}

static void sel(uint16_t key)
{
    h_out(&h, 0x510, 2, key);
}

static void rd(void *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ((uint8_t *)buf)[i] = (uint8_t)h_in(&h, 0x511, 1);
}

static uint64_t rd_le(unsigned bytes)
{
    uint8_t b[8];
    rd(b, bytes);
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

START_TEST(test_basic_items)
{
    struct pdm_cfg_kv kv[] = {{"ram_size", "0x40000000"}, {"cpus", "4"}};
    ck_assert_int_eq(h_add(&h, "fwcfg", kv, 2), CAP_OK);
    char sig[5] = {0};
    sel(0x0000);
    rd(sig, 4);
    ck_assert_str_eq(sig, "QEMU");
    ck_assert_uint_eq(rd_le(1), 0); /* past the end */
    sel(0x0000);                    /* selecting rewinds */
    ck_assert_uint_eq(rd_le(1), 'Q');
    sel(0x0001);
    ck_assert_uint_eq(rd_le(4), 1); /* traditional interface, no DMA */
    sel(0x0003);
    ck_assert_uint_eq(rd_le(8), 0x40000000);
    sel(0x0005);
    ck_assert_uint_eq(rd_le(2), 4);
    sel(0x000f);
    ck_assert_uint_eq(rd_le(2), 4);
    sel(0x0008); /* no kernel */
    ck_assert_uint_eq(rd_le(4), 0);
    sel(0x1234); /* unknown item */
    ck_assert_uint_eq(rd_le(4), 0);
    sel(0x4003); /* the write bit is ignored */
    ck_assert_uint_eq(rd_le(8), 0x40000000);
    sel(0x0019); /* empty directory */
    uint8_t cnt[4];
    rd(cnt, 4);
    ck_assert_uint_eq(cnt[0] | cnt[1] | cnt[2] | cnt[3], 0);
    ck_assert_uint_eq(h_in(&h, 0x510, 2), 0); /* the selector reads 0 */
}
END_TEST

START_TEST(test_kernel_initrd_cmdline)
{
    /* A fake bzImage: setup_sects 3 -> 2048 bytes of setup, 1000 of kernel. */
    static uint8_t bz[3048];
    for (size_t i = 0; i < sizeof(bz); i++)
        bz[i] = (uint8_t)(i * 7);
    bz[0x1f1] = 3;
    memcpy(bz + 0x202, "HdrS", 4);
    const char *kp = mkfile(0, "bzImage", bz, sizeof(bz));
    const char *ip = mkfile(1, "initrd", "INITRD-CONTENTS", 15);
    struct pdm_cfg_kv kv[] = {{"kernel", kp}, {"initrd", ip}, {"cmdline", "console=ttyS0 quiet"}};
    ck_assert_int_eq(h_add(&h, "fwcfg", kv, 3), CAP_OK);
    sel(0x0017);
    ck_assert_uint_eq(rd_le(4), 2048);
    sel(0x0008);
    ck_assert_uint_eq(rd_le(4), 1000);
    static uint8_t got[2048];
    sel(0x0018);
    rd(got, 2048);
    ck_assert_int_eq(memcmp(got, bz, 2048), 0);
    sel(0x0011);
    rd(got, 1000);
    ck_assert_int_eq(memcmp(got, bz + 2048, 1000), 0);
    ck_assert_uint_eq(rd_le(1), 0);
    sel(0x000b);
    ck_assert_uint_eq(rd_le(4), 15);
    char s[32] = {0};
    sel(0x0012);
    rd(s, 15);
    ck_assert_str_eq(s, "INITRD-CONTENTS");
    sel(0x0014);
    ck_assert_uint_eq(rd_le(4), 20);
    sel(0x0015);
    memset(s, 'x', sizeof(s));
    rd(s, 20);
    ck_assert_str_eq(s, "console=ttyS0 quiet");
}
END_TEST

START_TEST(test_plain_kernel)
{
    const char *kp = mkfile(0, "flat.bin", "\x90\x90\xf4", 3);
    struct pdm_cfg_kv kv[] = {{"kernel", kp}};
    ck_assert_int_eq(h_add(&h, "fwcfg", kv, 1), CAP_OK);
    sel(0x0017);
    ck_assert_uint_eq(rd_le(4), 0);
    sel(0x0008);
    ck_assert_uint_eq(rd_le(4), 3);
    sel(0x0011);
    ck_assert_uint_eq(rd_le(3), 0xf49090);
}
END_TEST

START_TEST(test_file_dir)
{
    const char *fp = mkfile(0, "blob", "0123456789", 10);
    char spec[200];
    snprintf(spec, sizeof(spec), "name=opt/zzz/blob,path=%s", fp);
    struct pdm_cfg_kv kv[] = {{"file0", spec}, {"file3", "name=etc/boot-fail-wait,string=hi"}};
    ck_assert_int_eq(h_add(&h, "fwcfg", kv, 2), CAP_OK);
    sel(0x0019);
    uint8_t hdr[4], e[64];
    rd(hdr, 4);
    ck_assert_uint_eq(hdr[0] << 24 | hdr[1] << 16 | hdr[2] << 8 | hdr[3], 2);
    /* Sorted by name: etc/... first, at 0x20. */
    rd(e, 64);
    ck_assert_uint_eq(e[0] << 24 | e[1] << 16 | e[2] << 8 | e[3], 2);
    ck_assert_uint_eq(e[4] << 8 | e[5], 0x20);
    ck_assert_str_eq((char *)e + 8, "etc/boot-fail-wait");
    rd(e, 64);
    ck_assert_uint_eq(e[0] << 24 | e[1] << 16 | e[2] << 8 | e[3], 10);
    ck_assert_uint_eq(e[4] << 8 | e[5], 0x21);
    ck_assert_str_eq((char *)e + 8, "opt/zzz/blob");
    ck_assert_uint_eq(rd_le(1), 0);
    char s[16] = {0};
    sel(0x0021);
    rd(s, 10);
    ck_assert_str_eq(s, "0123456789");
    sel(0x0020);
    memset(s, 0, sizeof(s));
    rd(s, 2);
    ck_assert_str_eq(s, "hi");
    sel(0x0022); /* no such file */
    ck_assert_uint_eq(rd_le(4), 0);
}
END_TEST

/* hex=: binary files (the VM process's ACPI and SMBIOS tables) */
START_TEST(test_hex_file)
{
    struct pdm_cfg_kv kv[] = {{"file0", "name=etc/acpi/rsdp,hex=00ff7Fa5"},
                              {"file1", "name=opt/empty,hex="}};
    ck_assert_int_eq(h_add(&h, "fwcfg", kv, 2), CAP_OK);
    sel(0x0019);
    uint8_t hdr[4], e[64];
    rd(hdr, 4);
    ck_assert_uint_eq(hdr[3], 2);
    rd(e, 64);
    ck_assert_str_eq((char *)e + 8, "etc/acpi/rsdp");
    ck_assert_uint_eq(e[0] << 24 | e[1] << 16 | e[2] << 8 | e[3], 4);
    rd(e, 64);
    ck_assert_str_eq((char *)e + 8, "opt/empty");
    ck_assert_uint_eq(e[0] << 24 | e[1] << 16 | e[2] << 8 | e[3], 0);
    sel(0x0020);
    ck_assert_uint_eq(rd_le(4), 0xa57fff00u);
    ck_assert_uint_eq(rd_le(1), 0); /* past the end */
}
END_TEST

static void expect_error(const struct pdm_cfg_kv *kv, size_t n, const char *needle)
{
    ck_assert_int_ne(h_add(&h, "fwcfg", kv, n), CAP_OK);
    const char *msg = cap_error_peek_message();
    ck_assert_ptr_nonnull(msg);
    if (!strstr(msg, needle))
        ck_abort_msg("error '%s' does not mention '%s'", msg, needle);
}

START_TEST(test_config_errors)
{
    struct pdm_cfg_kv k1[] = {{"kernel", "/nonexistent/vmlinuz"}};
    expect_error(k1, 1, "/nonexistent/vmlinuz");
    struct pdm_cfg_kv k2[] = {{"initrd", dir}};
    expect_error(k2, 1, "not a regular file");
    static uint8_t bz[0x300];
    bz[0x1f1] = 10; /* 5632 bytes of setup in a 768-byte file */
    memcpy(bz + 0x202, "HdrS", 4);
    struct pdm_cfg_kv k3[] = {{"kernel", mkfile(0, "short", bz, sizeof(bz))}};
    expect_error(k3, 1, "truncated");
    struct pdm_cfg_kv k4[] = {{"file0", "opt/x=/etc/passwd"}};
    expect_error(k4, 1, "file0");
    struct pdm_cfg_kv k5[] = {{"file0", "name=a,string=1"}, {"file1", "name=a,string=2"}};
    expect_error(k5, 2, "given twice");
    struct pdm_cfg_kv k6[] = {{"file0", "name=a,url=x"}};
    expect_error(k6, 1, "path=, string=, hex=, u8=");
    struct pdm_cfg_kv k12[] = {{"file0", "name=a,hex=123"}};
    expect_error(k12, 1, "even number of digits");
    struct pdm_cfg_kv k13[] = {{"file0", "name=a,hex=12zz"}};
    expect_error(k13, 1, "'z' at digit 2");
    struct pdm_cfg_kv k9[] = {{"file0", "name=a,u16=0x10000"}};
    expect_error(k9, 1, "16-bit");
    struct pdm_cfg_kv k10[] = {{"file0", "name=a,u8=-1"}};
    expect_error(k10, 1, "8-bit");
    struct pdm_cfg_kv k11[] = {{"e820", "bytes:0000000000000000000000000000000000000000"},
                               {"file0", "name=etc/e820,string=x"}};
    expect_error(k11, 2, "etc/e820");
    struct pdm_cfg_kv k14[] = {{"e820", "bytes:00"}};
    expect_error(k14, 1, "20-byte entries");
    struct pdm_cfg_kv k15[] = {{"e820", "true"}};
    expect_error(k15, 1, "config key 'e820': expected bytes, got the boolean true");
    struct pdm_cfg_kv k7[] = {{"file40", "name=a,string=x"}};
    expect_error(k7, 1, "file40");
    struct pdm_cfg_kv k8[] = {{"cpus", "0"}};
    expect_error(k8, 1, "cpus");
    /* Nothing half-built stays registered. */
    ck_assert_uint_eq(h_in(&h, 0x511, 1), 0xff);
}
END_TEST

/* Reads file `name`'s directory entry: its select key and size. */
static int find_file(const char *name, uint16_t *key, uint32_t *size)
{
    sel(0x0019);
    uint8_t b[4];
    rd(b, 4);
    uint32_t n = (uint32_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
    for (uint32_t i = 0; i < n; i++) {
        uint8_t e[64];
        rd(e, 64);
        if (!strcmp((char *)e + 8, name)) {
            *size = (uint32_t)e[0] << 24 | e[1] << 16 | e[2] << 8 | e[3];
            *key = (uint16_t)(e[4] << 8 | e[5]);
            return 1;
        }
    }
    return 0;
}

/* The next 20 bytes of the selected item: one etc/e820 entry. */
static void expect_e820(uint64_t addr, uint64_t len, uint32_t type)
{
    ck_assert_uint_eq(rd_le(8), addr);
    ck_assert_uint_eq(rd_le(8), len);
    ck_assert_uint_eq(rd_le(4), type);
}

/* SeaBIOS reads QEMU's x86 items (0x8000 ACPI tables, 0x8001 SMBIOS,
 * 0x8003 e820) at start-up: they must read as absent (0), never as the
 * signature item that 0x8000 & 0x3fff would name. */
START_TEST(test_arch_items_absent)
{
    ck_assert_int_eq(h_add(&h, "fwcfg", NULL, 0), CAP_OK);
    for (uint16_t k = 0x8000; k <= 0x8003; k++) {
        sel(k);
        ck_assert_uint_eq(rd_le(4), 0);
    }
    sel(0x4000); /* the write bit alone still selects item 0 */
    ck_assert_uint_eq(rd_le(1), 'Q');
}
END_TEST

/* The file `name` holds `size` bytes (at most 8): their little-endian value. */
static uint64_t file_le(const char *name, uint32_t want_size)
{
    uint16_t key;
    uint32_t size;
    ck_assert_msg(find_file(name, &key, &size), "no file %s", name);
    ck_assert_uint_eq(size, want_size);
    sel(key);
    return rd_le(want_size);
}

/* fileN.name + fileN.data: a file as typed values (how capsule-vm hands
 * over vmm/platform's ACPI and SMBIOS tables) */
START_TEST(test_typed_file)
{
    static const uint8_t rsdp[] = {0x00, 0xff, 0x7f, 0xa5};
    struct pdm_cfg_value v[] = {PDM_CFG_S("file3.name", "etc/acpi/rsdp"),
                                PDM_CFG_BYTES("file3.data", rsdp, sizeof(rsdp)),
                                PDM_CFG_S("file0", "name=opt/s,string=x")};
    ck_assert_int_eq(h_add_values(&h, "fwcfg", v, 3), CAP_OK);
    ck_assert_uint_eq(file_le("etc/acpi/rsdp", 4), 0xa57fff00u);
    ck_assert_uint_eq(file_le("opt/s", 1), 'x');
}
END_TEST

START_TEST(test_typed_file_errors)
{
    static const uint8_t b[] = {1};
    struct pdm_cfg_value alone[] = {PDM_CFG_S("file1.name", "opt/a")};
    ck_assert_int_eq(h_add_values(&h, "fwcfg", alone, 1), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(
        strstr(cap_error_peek_message(), "'file1.name' and 'file1.data' go together"));
    struct pdm_cfg_value both[] = {PDM_CFG_S("file1", "name=opt/a,string=x"),
                                   PDM_CFG_S("file1.name", "opt/b"),
                                   PDM_CFG_BYTES("file1.data", b, 1)};
    ck_assert_int_eq(h_add_values(&h, "fwcfg", both, 3), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "not both"));
    struct pdm_cfg_value twice[] = {PDM_CFG_S("file1", "name=opt/a,string=x"),
                                    PDM_CFG_S("file2.name", "opt/a"),
                                    PDM_CFG_BYTES("file2.data", b, 1)};
    ck_assert_int_eq(h_add_values(&h, "fwcfg", twice, 3), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "file 'opt/a' given twice"));
    struct pdm_cfg_value typed[] = {PDM_CFG_S("file1.name", "opt/a"), PDM_CFG_S("file1.data", "x")};
    ck_assert_int_eq(h_add_values(&h, "fwcfg", typed, 2), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(
        strstr(cap_error_peek_message(), "'file1.data': expected bytes, got the string 'x'"));
    ck_assert_uint_eq(h_in(&h, 0x511, 1), 0xff);
}
END_TEST

START_TEST(test_int_files)
{
    struct pdm_cfg_kv kv[] = {{"ram_size", "0x140000000"},
                              {"file0", "name=etc/sercon-port,u16=0x3f8"},
                              {"file1", "name=opt/b,u8=255"},
                              {"file2", "name=opt/q,u64=0x1122334455667788"}};
    ck_assert_int_eq(h_add(&h, "fwcfg", kv, 4), CAP_OK);
    ck_assert_uint_eq(file_le("etc/sercon-port", 2), 0x3f8);
    ck_assert_uint_eq(file_le("opt/b", 1), 255);
    ck_assert_uint_eq(file_le("opt/q", 8), 0x1122334455667788ull);
    uint16_t key;
    uint32_t size;
    ck_assert(!find_file("etc/e820", &key, &size));
}
END_TEST

/* The machine's e820 comes from vmm/platform's table: 5 GiB with a BIOS is
 * 3.5 GiB from 0 and 1.5 GiB from 4 GiB. */
START_TEST(test_e820_from_platform)
{
    ck_assert_int_eq(h_add_platform(&h, "fwcfg", 5120, PLATFORM_FW_BIOS), CAP_OK);
    uint16_t key;
    uint32_t size;
    ck_assert(find_file("etc/e820", &key, &size));
    ck_assert_uint_eq(size, 40);
    sel(key);
    expect_e820(0, 0xe0000000ull, 1);
    expect_e820(0x100000000ull, 0x60000000ull, 1);
    sel(0x0003);
    ck_assert_uint_eq(rd_le(8), 5120ull << 20);
}
END_TEST

START_TEST(test_e820_below_4g_only)
{
    ck_assert_int_eq(h_add_platform(&h, "fwcfg", 64, PLATFORM_FW_BIOS), CAP_OK);
    uint16_t key;
    uint32_t size;
    ck_assert(find_file("etc/e820", &key, &size));
    ck_assert_uint_eq(size, 20);
    sel(key);
    expect_e820(0, 0x4000000, 1);
}
END_TEST

START_TEST(test_save_load_cursor)
{
    ck_assert_int_eq(h_add(&h, "fwcfg", NULL, 0), CAP_OK);
    sel(0x0000);
    (void)rd_le(2);
    void *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(pdm_save(h.pdm, &buf, &len), CAP_OK);
    pdm_reset(h.pdm);
    ck_assert_uint_eq(rd_le(1), 'Q');
    ck_assert_int_eq(pdm_load(h.pdm, buf, len), CAP_OK);
    free(buf);
    ck_assert_uint_eq(rd_le(1), 'M');
}
END_TEST

/* A device with raw save/load ops in the SSM stream: its bytes travel as
 * the unit's field "raw"; a unit without it is refused naming the device. */
START_TEST(test_ssm_raw_cursor)
{
    char path[64];
    struct ssm_writer *w;
    struct ssm_reader *r;
    struct ssm_unit *u;
    snprintf(path, sizeof path, "/tmp/fwcfg-%d.sav", (int)getpid());
    ck_assert_int_eq(h_add(&h, "fwcfg", NULL, 0), CAP_OK);
    sel(0x0000);
    (void)rd_le(2);
    ck_assert_int_eq(ssm_writer_create(path, "test_fwcfg", &w), CAP_OK);
    ck_assert_int_eq(pdm_save_units(h.pdm, w), CAP_OK);
    ck_assert_int_eq(ssm_writer_commit(w, NULL), CAP_OK);
    pdm_reset(h.pdm);
    ck_assert_uint_eq(rd_le(1), 'Q');
    ck_assert_int_eq(ssm_open(path, &r), CAP_OK);
    ck_assert_int_eq(pdm_load_units(h.pdm, r), CAP_OK);
    ck_assert_int_eq(ssm_find_unit(r, "fwcfg", 0, &u), CAP_OK);
    ck_assert(ssm_has_field(u, "raw"));
    ssm_close(r);
    ck_assert_uint_eq(rd_le(1), 'M');

    ck_assert_int_eq(ssm_writer_create(path, "test_fwcfg", &w), CAP_OK);
    ck_assert_int_eq(ssm_begin_unit(w, "fwcfg", 0, 1), CAP_OK);
    ck_assert_int_eq(ssm_end_unit(w), CAP_OK);
    ck_assert_int_eq(ssm_writer_commit(w, NULL), CAP_OK);
    ck_assert_int_eq(ssm_open(path, &r), CAP_OK);
    unlink(path);
    ck_assert_int_eq(pdm_load_units(h.pdm, r), VMM_E_SSM_FIELD);
    const char *m = cap_error_peek_message();
    ck_assert_msg(m && strstr(m, "fwcfg0: loading saved state failed: its unit has no field 'raw'"),
                  "%s", m ? m : "(none)");
    ssm_close(r);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("fwcfg");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_basic_items);
    tcase_add_test(tc, test_kernel_initrd_cmdline);
    tcase_add_test(tc, test_plain_kernel);
    tcase_add_test(tc, test_file_dir);
    tcase_add_test(tc, test_config_errors);
    tcase_add_test(tc, test_hex_file);
    tcase_add_test(tc, test_typed_file);
    tcase_add_test(tc, test_typed_file_errors);
    tcase_add_test(tc, test_save_load_cursor);
    tcase_add_test(tc, test_ssm_raw_cursor);
    tcase_add_test(tc, test_arch_items_absent);
    tcase_add_test(tc, test_int_files);
    tcase_add_test(tc, test_e820_from_platform);
    tcase_add_test(tc, test_e820_below_4g_only);
    return h_run_case("dev-fwcfg", tc);
}
