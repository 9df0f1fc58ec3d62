/*
 * test_acpi.c - the ACPI tables and their BIOS linker/loader script: the
 * script's shape (what SeaBIOS reads), the tables after it runs at two
 * different addresses (every checksum right, every pointer where it
 * should be, nothing else moved), the DSDT's _PRT against the PIIX3's
 * routing rule, and ACPICA's own verdict on the DSDT (iasl -d, then iasl
 * recompiling the disassembly with no error or warning).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "platform_test.h"

#define RSDP_AT   0xf5a00ull
#define TABLES_AT 0x3fff000ull

struct built {
    struct platform_acpi acpi;
    uint8_t *rsdp, *tables;
    size_t tables_len;
};

/* Builds the tables for `cfg` and runs the script with the tables file at
 * `tables_at`. */
static void build_at(struct built *b, const struct platform_acpi_config *cfg, uint64_t tables_at)
{
    char msg[256];
    ck_assert_int_eq(platform_acpi_build(cfg, &b->acpi, msg, sizeof(msg)), CAP_OK);
    struct platform_file *f = b->acpi.files;
    ck_assert_str_eq(f[0].name, "etc/acpi/rsdp");
    ck_assert_str_eq(f[1].name, "etc/acpi/tables");
    ck_assert_str_eq(f[2].name, "etc/table-loader");
    b->rsdp = f[0].data;
    b->tables = f[1].data;
    b->tables_len = f[1].len;
    struct platform_placed placed[2] = {{f[0].name, RSDP_AT, f[0].data, f[0].len},
                                        {f[1].name, tables_at, f[1].data, f[1].len}};
    ck_assert_int_eq(platform_loader_run(f[2].data, f[2].len, placed, 2, msg, sizeof(msg)), CAP_OK);
}

/* The table at guest address gpa, its signature and checksum checked. */
static const uint8_t *table_at(const struct built *b, uint64_t base, uint64_t gpa, const char *sig)
{
    ck_assert_uint_ge(gpa, base);
    ck_assert_uint_lt(gpa - base, b->tables_len);
    const uint8_t *t = b->tables + (gpa - base);
    ck_assert_mem_eq(t, sig, 4);
    uint32_t len = rd(t + 4, 4);
    ck_assert_uint_le(gpa - base + len, b->tables_len);
    ck_assert_msg(sum8(t, len) == 0, "%s checksum", sig);
    return t;
}

START_TEST(script_shape)
{
    struct platform_acpi acpi;
    struct platform_acpi_config cfg = {.cpus = 1, .hpet = true};
    char msg[128];
    ck_assert_int_eq(platform_acpi_build(&cfg, &acpi, msg, sizeof(msg)), CAP_OK);
    const uint8_t *s = acpi.files[2].data;
    size_t n = acpi.files[2].len / PLATFORM_LOADER_ENTRY;
    ck_assert_uint_eq(acpi.files[2].len % PLATFORM_LOADER_ENTRY, 0);
    /* ALLOCATE the RSDP in the F segment (16-aligned), the tables high
     * (64-aligned: the FACS is first), before anything uses them */
    ck_assert_uint_eq(rd(s, 4), PLATFORM_LOADER_ALLOCATE);
    ck_assert_str_eq((const char *)s + 4, "etc/acpi/rsdp");
    ck_assert_uint_eq(rd(s + 60, 4), 16);
    ck_assert_uint_eq(s[64], PLATFORM_ZONE_FSEG);
    ck_assert_uint_eq(rd(s + 128, 4), PLATFORM_LOADER_ALLOCATE);
    ck_assert_str_eq((const char *)s + 128 + 4, "etc/acpi/tables");
    ck_assert_uint_eq(rd(s + 128 + 60, 4), 64);
    ck_assert_uint_eq(s[128 + 64], PLATFORM_ZONE_HIGH);
    ck_assert_mem_eq(acpi.files[1].data, "FACS", 4);
    unsigned pointers = 0, checksums = 0;
    for (size_t i = 2; i < n; i++) {
        const uint8_t *e = s + i * PLATFORM_LOADER_ENTRY;
        uint32_t cmd = rd(e, 4);
        ck_assert(cmd == PLATFORM_LOADER_ADD_POINTER || cmd == PLATFORM_LOADER_ADD_CHECKSUM);
        ck_assert(memchr(e + 4, 0, 56) != NULL);
        if (cmd == PLATFORM_LOADER_ADD_POINTER) {
            ck_assert(memchr(e + 60, 0, 56) != NULL);
            ck_assert(e[120] == 4 || e[120] == 8);
            pointers++;
        } else {
            checksums++;
        }
    }
    /* FADT 3 + RSDT 3 + XSDT 3 + RSDP 2; checksums: DSDT FADT MADT HPET
     * RSDT XSDT, the RSDP's two */
    ck_assert_uint_eq(pointers, 11);
    ck_assert_uint_eq(checksums, 8);
    platform_acpi_free(&acpi);
}
END_TEST

START_TEST(tables_after_the_script)
{
    struct built b;
    struct platform_acpi_config cfg = {.cpus = 2, .hpet = true, .ram_below_4g = 256u << 20};
    build_at(&b, &cfg, TABLES_AT);
    const uint8_t *r = b.rsdp;
    ck_assert_mem_eq(r, "RSD PTR ", 8);
    ck_assert_uint_eq(r[15], 2);
    ck_assert_uint_eq(sum8(r, 20), 0);
    ck_assert_uint_eq(sum8(r, 36), 0);
    const uint8_t *xsdt = table_at(&b, TABLES_AT, rd64(r + 24), "XSDT");
    const uint8_t *rsdt = table_at(&b, TABLES_AT, rd(r + 16, 4), "RSDT");
    ck_assert_uint_eq(rd(xsdt + 4, 4), 36 + 3 * 8);
    ck_assert_uint_eq(rd(rsdt + 4, 4), 36 + 3 * 4);
    static const char *const sigs[3] = {"FACP", "APIC", "HPET"};
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(rd64(xsdt + 36 + 8 * i), rd(rsdt + 36 + 4 * i, 4));
        table_at(&b, TABLES_AT, rd64(xsdt + 36 + 8 * i), sigs[i]);
    }
    const uint8_t *f = table_at(&b, TABLES_AT, rd64(xsdt + 36), "FACP");
    ck_assert_uint_eq(rd(f + 36, 4), TABLES_AT); /* FIRMWARE_CTRL: the FACS, first */
    ck_assert_mem_eq(b.tables, "FACS", 4);
    ck_assert_uint_eq(rd64(f + 140), rd(f + 40, 4)); /* X_DSDT = DSDT */
    const uint8_t *d = table_at(&b, TABLES_AT, rd(f + 40, 4), "DSDT");
    /* RESET_REG: SystemIO byte at 0xCF9, value 6, RESET_REG_SUP */
    ck_assert_uint_eq(f[116], 1);
    ck_assert_uint_eq(f[117], 8);
    ck_assert_uint_eq(rd64(f + 120), 0xcf9);
    ck_assert_uint_eq(f[128], 6);
    ck_assert_uint_eq(rd(f + 112, 4) & (1u << 10), 1u << 10);
    /* the PCI memory window starts at the top of RAM below 4 GiB */
    static const uint8_t window[] = {0x87, 0x17, 0x00, 0x00, 0x0c, 0x03, 0,    0,    0,
                                     0,    0x00, 0x00, 0x00, 0x10, 0xff, 0xff, 0xbf, 0xfe};
    ck_assert(memmem(d, rd(d + 4, 4), window, sizeof(window)) != NULL);
    platform_acpi_free(&b.acpi);
}
END_TEST

/* Run at two addresses, the files differ only in the fields the script
 * names: the pointers and the checksums. */
START_TEST(relocatable)
{
    struct built a, b;
    struct platform_acpi_config cfg = {.cpus = 1, .hpet = false};
    build_at(&a, &cfg, 0x100000);
    build_at(&b, &cfg, 0x7ff00000);
    ck_assert_uint_eq(a.tables_len, b.tables_len);
    uint8_t *named = calloc(1, a.tables_len);
    const uint8_t *s = a.acpi.files[2].data;
    for (size_t i = 0; i < a.acpi.files[2].len; i += PLATFORM_LOADER_ENTRY) {
        const uint8_t *e = s + i;
        if (rd(e, 4) == PLATFORM_LOADER_ADD_POINTER &&
            !strcmp((const char *)e + 4, "etc/acpi/tables"))
            memset(named + rd(e + 116, 4), 1, e[120]);
        if (rd(e, 4) == PLATFORM_LOADER_ADD_CHECKSUM &&
            !strcmp((const char *)e + 4, "etc/acpi/tables"))
            named[rd(e + 60, 4)] = 1;
    }
    unsigned moved = 0;
    for (size_t i = 0; i < a.tables_len; i++)
        if (a.tables[i] != b.tables[i]) {
            ck_assert_msg(named[i], "byte %zu changed without a script entry", i);
            moved++;
        }
    ck_assert_uint_gt(moved, 0);
    free(named);
    platform_acpi_free(&a.acpi);
    platform_acpi_free(&b.acpi);
}
END_TEST

/* _PRT: slot s, pin p (0 = INTA) -> LNK[(s + p) & 3], for slots 1-31. */
START_TEST(prt_follows_the_piix3)
{
    struct built b;
    struct platform_acpi_config cfg = {.cpus = 1};
    build_at(&b, &cfg, TABLES_AT);
    const uint8_t *f = table_at(&b, TABLES_AT, rd64(b.rsdp + 24), "XSDT");
    f = table_at(&b, TABLES_AT, rd64(f + 36), "FACP");
    const uint8_t *d = table_at(&b, TABLES_AT, rd(f + 40, 4), "DSDT");
    const uint8_t *p = memmem(d, rd(d + 4, 4), "_PRT", 4);
    ck_assert_ptr_nonnull(p);
    p += 4;
    ck_assert_uint_eq(p[0], 0x12); /* PackageOp */
    p += 1 + ((p[1] >> 6) + 1);    /* PkgLength */
    ck_assert_uint_eq(p[0], 31 * 4);
    p++;
    for (unsigned s = 1; s < 32; s++)
        for (unsigned pin = 0; pin < 4; pin++) {
            ck_assert_uint_eq(p[0], 0x12);
            ck_assert_uint_eq(p[2], 4);
            ck_assert_uint_eq(p[3], 0x0c); /* DWordConst address */
            ck_assert_uint_eq(rd(p + 4, 4), s << 16 | 0xffff);
            const uint8_t *q = p + 8;
            unsigned got_pin = q[0] == 0x0a ? q[1] : q[0];
            q += q[0] == 0x0a ? 2 : 1;
            ck_assert_uint_eq(got_pin, pin);
            char want[5] = "LNKA";
            want[3] = (char)('A' + (s + pin) % 4);
            ck_assert_mem_eq(q, want, 4);
            ck_assert_uint_eq(q[4], 0x00); /* source index 0 */
            p += 1 + p[1];
        }
    platform_acpi_free(&b.acpi);
}
END_TEST

START_TEST(config_limits)
{
    struct platform_acpi acpi;
    char msg[128] = "";
    struct platform_acpi_config cfg = {.cpus = PLATFORM_MAX_CPUS_ARCH + 1};
    ck_assert_int_eq(platform_acpi_build(&cfg, &acpi, msg, sizeof(msg)), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(msg, "256 vCPUs"));
    cfg = (struct platform_acpi_config){.cpus = 1, .ram_below_4g = 0xfec00000ull};
    ck_assert_int_eq(platform_acpi_build(&cfg, &acpi, msg, sizeof(msg)), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(msg, "no PCI memory window"));
    /* the most CPUs: the MADT grows, everything still checks */
    struct built b;
    cfg = (struct platform_acpi_config){.cpus = PLATFORM_MAX_CPUS_ARCH, .hpet = false};
    build_at(&b, &cfg, TABLES_AT);
    const uint8_t *x = table_at(&b, TABLES_AT, rd64(b.rsdp + 24), "XSDT");
    ck_assert_uint_eq(rd(x + 4, 4), 36 + 2 * 8); /* no HPET */
    const uint8_t *m = table_at(&b, TABLES_AT, rd64(x + 44), "APIC");
    ck_assert_uint_eq(rd(m + 4, 4), 44 + 8 * PLATFORM_MAX_CPUS_ARCH + 32);
    platform_acpi_free(&b.acpi);
}
END_TEST

/* Runs a shell command; its exit status. */
static int run(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(iasl_accepts_the_dsdt)
{
    if (run("command -v iasl >/dev/null 2>&1") != 0)
        ck_abort_msg("iasl is missing: install Debian's acpica-tools (tools/setup.sh does)");
    struct built b;
    struct platform_acpi_config cfg = {.cpus = 2, .hpet = true, .ram_below_4g = 64u << 20};
    build_at(&b, &cfg, TABLES_AT);
    const uint8_t *f = table_at(&b, TABLES_AT, rd64(b.rsdp + 24), "XSDT");
    f = table_at(&b, TABLES_AT, rd64(f + 36), "FACP");
    const uint8_t *d = table_at(&b, TABLES_AT, rd(f + 40, 4), "DSDT");
    char dir[] = "/tmp/platform-iasl.XXXXXX", cmd[1024];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(cmd, sizeof(cmd), "%s/dsdt.dat", dir);
    FILE *o = fopen(cmd, "wb");
    ck_assert_ptr_nonnull(o);
    ck_assert_uint_eq(fwrite(d, 1, rd(d + 4, 4), o), rd(d + 4, 4));
    fclose(o);
    /* disassemble; then compile the disassembly: ACPICA reports any
     * opcode, name or resource it does not take as an error or warning */
    snprintf(cmd, sizeof(cmd),
             "cd %s && iasl -d dsdt.dat >dis.log 2>&1 && iasl -p re dsdt.dsl >asm.log 2>&1 && "
             "grep -q 'Compilation successful. 0 Errors, 0 Warnings, 0 Remarks' asm.log",
             dir);
    int rc = run(cmd);
    if (rc != 0) {
        snprintf(cmd, sizeof(cmd), "cat %s/dis.log %s/asm.log >&2", dir, dir);
        run(cmd);
    }
    snprintf(cmd, sizeof(cmd), "grep -c 'Device (LNK[ABCD])' %s/dsdt.dsl | grep -qx 4", dir);
    int links = run(cmd);
    snprintf(cmd, sizeof(cmd),
             "grep -q 'EisaId (\"PNP0303\")' %s/dsdt.dsl && "
             "grep -q 'EisaId (\"PNP0F13\")' %s/dsdt.dsl && grep -q 'IRQNoFlags ()' %s/dsdt.dsl",
             dir, dir, dir);
    int ps2 = run(cmd);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    run(cmd);
    ck_assert_msg(rc == 0, "iasl did not take the DSDT cleanly (log above)");
    ck_assert_msg(links == 0, "the disassembly lacks the four link devices");
    ck_assert_msg(ps2 == 0, "the disassembly lacks the PS/2 keyboard or mouse (PNP0303, PNP0F13)");
    platform_acpi_free(&b.acpi);
}
END_TEST

TCase *tcase_acpi(void)
{
    TCase *tc = tcase_create("acpi");
    tcase_add_test(tc, script_shape);
    tcase_add_test(tc, tables_after_the_script);
    tcase_add_test(tc, relocatable);
    tcase_add_test(tc, prt_follows_the_piix3);
    tcase_add_test(tc, config_limits);
    tcase_add_test(tc, iasl_accepts_the_dsdt);
    return tc;
}
