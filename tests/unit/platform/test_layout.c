/*
 * test_layout.c - platform.h: the PC's layout for several machines (RAM
 * around the 4 GiB hole, both firmwares' e820 maps sorted and without
 * overlaps, the PCI window, the BIOS ROMs) and the device table with its
 * typed configuration.
 */
#include <stdio.h>
#include <stdlib.h>

#include "platform/platform.h"
#include "platform_test.h"

#define MiB (1ull << 20)

static struct platform *init_ok(uint64_t ram_mb, enum platform_firmware fw, unsigned devices)
{
    struct platform *p = malloc(sizeof(*p));
    ck_assert_ptr_nonnull(p);
    struct platform_config pc = {.ram_bytes = ram_mb * MiB, .firmware = fw, .devices = devices};
    char msg[128] = "";
    ck_assert_msg(platform_init(&pc, p, msg, sizeof(msg)) == CAP_OK, "%s", msg);
    return p;
}

/* Sorted, no overlaps, no empty entries; RAM adds up to `ram` less `hole`
 * (what a direct boot reserves below 1 MiB). */
static void check_map(const struct platform *p, uint64_t hole)
{
    uint64_t ram = 0;
    ck_assert_uint_gt(p->n_e820, 0);
    for (unsigned i = 0; i < p->n_e820; i++) {
        const struct platform_e820 *e = &p->e820[i];
        ck_assert_uint_gt(e->size, 0);
        ck_assert(e->type >= PLATFORM_E820_RAM && e->type <= PLATFORM_E820_ACPI);
        if (i)
            ck_assert_msg(p->e820[i - 1].addr + p->e820[i - 1].size <= e->addr,
                          "entry %u overlaps or is out of order", i);
        if (e->type == PLATFORM_E820_RAM) {
            ram += e->size;
            /* RAM never reaches into the MMIO hole */
            ck_assert(e->addr >= PLATFORM_4G || e->addr + e->size <= PLATFORM_RAM_BELOW_4G_MAX);
        }
    }
    ck_assert_uint_eq(ram + hole, p->cfg.ram_bytes);
}

static const uint64_t sizes_mb[] = {1, 64, 3000, 3584, 3585, 4096, 8192, PLATFORM_MAX_RAM_MB};

START_TEST(test_ram_split)
{
    for (size_t i = 0; i < sizeof(sizes_mb) / sizeof(sizes_mb[0]); i++) {
        struct platform *p = init_ok(sizes_mb[i], PLATFORM_FW_NONE, 0);
        uint64_t ram = sizes_mb[i] * MiB;
        uint64_t below = ram < 3584 * MiB ? ram : 3584 * MiB;
        ck_assert_uint_eq(p->ram_below_4g, below);
        ck_assert_uint_eq(p->ram_above_4g, ram - below);
        ck_assert_uint_eq(platform_ram_below_4g(ram), below);
        /* what EM maps: around the VGA window, the rest from 4 GiB */
        ck_assert_uint_eq(p->n_ram, ram > below ? 3 : 2);
        ck_assert_uint_eq(p->ram[0].addr, 0);
        ck_assert_uint_eq(p->ram[0].size, 0xa0000);
        ck_assert_uint_eq(p->ram[1].addr, 0xc0000);
        ck_assert_uint_eq(p->ram[1].addr + p->ram[1].size, below);
        if (ram > below) {
            ck_assert_uint_eq(p->ram[2].addr, PLATFORM_4G);
            ck_assert_uint_eq(p->ram[2].size, ram - below);
        }
        struct platform_range r[3];
        ck_assert_uint_eq(platform_ram_ranges(ram, r), p->n_ram);
        /* the PCI window: from the top of low RAM (1 MiB granule) to the I/O APIC */
        ck_assert_uint_eq(p->pci_mem_start, (below + MiB - 1) & ~(MiB - 1));
        ck_assert_uint_eq(p->pci_mem_end, 0xfec00000ull);
        free(p);
    }
}
END_TEST

START_TEST(test_e820_direct)
{
    /* what a direct boot reserves of the RAM below 1 MiB */
    const uint64_t hole = PLATFORM_1M - PLATFORM_DIRECT_ACPI_ADDR;
    for (size_t i = 1; i < sizeof(sizes_mb) / sizeof(sizes_mb[0]); i++) {
        struct platform *p = init_ok(sizes_mb[i], PLATFORM_FW_NONE, 0);
        check_map(p, hole);
        const struct platform_e820 *e = p->e820;
        ck_assert_uint_eq(e[0].addr, 0);
        ck_assert_uint_eq(e[0].size, 0x9c000);
        ck_assert_uint_eq(e[1].addr, PLATFORM_DIRECT_ACPI_ADDR);
        ck_assert_uint_eq(e[1].type, PLATFORM_E820_ACPI);
        ck_assert_uint_eq(e[2].addr, 0x9fc00); /* EBDA */
        ck_assert_uint_eq(e[3].addr, 0xa0000); /* the VGA window */
        ck_assert_uint_eq(e[3].size, 0x20000);
        ck_assert_uint_eq(e[3].type, PLATFORM_E820_RESERVED);
        ck_assert_uint_eq(e[4].addr, 0xf0000); /* BIOS area: SMBIOS */
        ck_assert_uint_eq(e[5].addr, PLATFORM_1M);
        ck_assert_uint_eq(e[5].size, p->ram_below_4g - PLATFORM_1M);
        /* the fixed MMIO, reserved; the PCI window is not */
        ck_assert_uint_eq(e[6].addr, 0xfec00000ull);
        ck_assert_uint_eq(e[7].addr, 0xfed00000ull);
        ck_assert_uint_eq(e[8].addr, 0xfee00000ull);
        ck_assert_uint_eq(p->n_e820, p->ram_above_4g ? 10 : 9);
        if (p->ram_above_4g) {
            ck_assert_uint_eq(e[9].addr, PLATFORM_4G);
            ck_assert_uint_eq(e[9].size, p->ram_above_4g);
        }
        ck_assert_uint_eq(p->fwcfg_e820_len, 0);
        free(p);
    }
    /* 1 MiB: nothing from 1 MiB up */
    struct platform *p = init_ok(1, PLATFORM_FW_NONE, 0);
    check_map(p, PLATFORM_1M - PLATFORM_DIRECT_ACPI_ADDR);
    ck_assert_uint_eq(p->n_e820, 8);
    free(p);
}
END_TEST

START_TEST(test_e820_bios)
{
    for (size_t i = 0; i < sizeof(sizes_mb) / sizeof(sizes_mb[0]); i++) {
        struct platform *p = init_ok(sizes_mb[i], PLATFORM_FW_BIOS, 0);
        check_map(p, 0);
        ck_assert_uint_eq(p->n_e820, p->ram_above_4g ? 2 : 1);
        ck_assert_uint_eq(p->e820[0].addr, 0);
        ck_assert_uint_eq(p->e820[0].size, p->ram_below_4g);
        /* "etc/e820": the same entries, 20 bytes each, little-endian */
        ck_assert_uint_eq(p->fwcfg_e820_len, p->n_e820 * 20);
        for (unsigned j = 0; j < p->n_e820; j++) {
            const uint8_t *b = p->fwcfg_e820 + j * 20;
            ck_assert_uint_eq(rd64(b), p->e820[j].addr);
            ck_assert_uint_eq(rd64(b + 8), p->e820[j].size);
            ck_assert_uint_eq(rd(b + 16, 4), PLATFORM_E820_RAM);
        }
        /* fw_cfg's row carries it as bytes */
        const struct pdm_cfg_value *v =
            platform_device_get(platform_device_find(p, "fwcfg"), "e820");
        ck_assert_ptr_nonnull(v);
        ck_assert_int_eq(v->type, PDM_CFG_BYTES);
        ck_assert_ptr_eq(v->u.bytes.data, p->fwcfg_e820);
        ck_assert_uint_eq(v->u.bytes.len, p->fwcfg_e820_len);
        free(p);
    }
}
END_TEST

START_TEST(test_bad_config)
{
    struct platform *p = malloc(sizeof(*p));
    char msg[128];
    struct platform_config bad[] = {
        {.ram_bytes = 0},
        {.ram_bytes = MiB + 1},
        {.ram_bytes = ((uint64_t)PLATFORM_MAX_RAM_MB + 1) * MiB},
        {.ram_bytes = MiB, .cpus = PLATFORM_MAX_CPUS_ARCH + 1},
        {.ram_bytes = MiB, .firmware = 7},
    };
    const char *why[] = {"RAM size 0 is not", "RAM size 1048577 is not", "more than the 65024 MiB",
                         "256 vCPUs", "unknown firmware 7"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        msg[0] = 0;
        ck_assert_int_eq(platform_init(&bad[i], p, msg, sizeof(msg)), CAP_E_INVALIDARG);
        ck_assert_msg(strstr(msg, why[i]), "'%s' lacks '%s'", msg, why[i]);
    }
    free(p);
}
END_TEST

START_TEST(test_bios_rom)
{
    struct platform_range rom[2];
    char msg[128];
    ck_assert_int_eq(platform_bios_rom(256 << 10, rom, msg, sizeof(msg)), CAP_OK);
    ck_assert_uint_eq(rom[0].addr, 0xfffc0000ull);
    ck_assert_uint_eq(rom[0].size, 256 << 10);
    ck_assert_uint_eq(rom[1].addr, 0xe0000);
    ck_assert_uint_eq(rom[1].size, 128 << 10);
    ck_assert_int_eq(platform_bios_rom(64 << 10, rom, msg, sizeof(msg)), CAP_OK);
    ck_assert_uint_eq(rom[1].addr, 0xf0000);
    ck_assert_int_eq(platform_bios_rom(100000, rom, msg, sizeof(msg)), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(msg, "multiple of 64 KiB"));
    ck_assert_int_eq(platform_bios_rom(32 << 20, rom, msg, sizeof(msg)), CAP_E_INVALIDARG);
}
END_TEST

static int64_t int_of(struct platform *p, const char *dev, const char *key)
{
    struct platform_device *d = platform_device_find(p, dev);
    ck_assert_ptr_nonnull(d);
    const struct pdm_cfg_value *v = platform_device_get(d, key);
    ck_assert_msg(v && v->type == PDM_CFG_INT, "%s.%s is not an integer", dev, key);
    return v->u.i;
}

START_TEST(test_device_table)
{
    struct platform *p = init_ok(5120, PLATFORM_FW_NONE, 0);
    static const char *const want[] = {"pic",  "pit",    "port80", "rtc", "i8042", "fwcfg",
                                       "apic", "ioapic", "acpipm", "pci", "hpet"};
    ck_assert_uint_eq(p->n_devices, sizeof(want) / sizeof(want[0]));
    for (unsigned i = 0; i < p->n_devices; i++)
        ck_assert_str_eq(p->devices[i].name, want[i]);
    /* the layout's facts, as integers */
    ck_assert_int_eq(int_of(p, "rtc", "ram_size"), 5120ll << 20);
    ck_assert_int_eq(int_of(p, "rtc", "ram_below_4g"), 0xe0000000ll);
    ck_assert_int_eq(int_of(p, "fwcfg", "ram_size"), 5120ll << 20);
    ck_assert_int_eq(int_of(p, "fwcfg", "cpus"), 1);
    ck_assert_int_eq(int_of(p, "apic", "base"), 0xfee00000ll);
    ck_assert_int_eq(int_of(p, "ioapic", "base"), 0xfec00000ll);
    ck_assert_int_eq(int_of(p, "hpet", "base"), 0xfed00000ll);
    ck_assert_int_eq(int_of(p, "acpipm", "iobase"), PLATFORM_ACPI_PM_BASE);
    ck_assert_int_eq(int_of(p, "acpipm", "sci_irq"), PLATFORM_ACPI_SCI_IRQ);
    /* a direct boot has no etc/e820 */
    ck_assert_ptr_null(platform_device_get(platform_device_find(p, "fwcfg"), "e820"));
    free(p);

    /* the optional rows, in their place; a BIOS brings debugcon, vga and
     * the tablet beside it, at its own slot */
    p = init_ok(64, PLATFORM_FW_BIOS, PLATFORM_DEV_SERIAL | PLATFORM_DEV_DEBUGEXIT);
    ck_assert_str_eq(p->devices[2].name, "serial");
    ck_assert_int_eq(int_of(p, "serial", "iobase"), 0x3f8);
    ck_assert_int_eq(int_of(p, "debugexit", "iobase"), 0xf4);
    ck_assert_str_eq(p->devices[p->n_devices - 3].name, "debugcon");
    ck_assert_str_eq(p->devices[p->n_devices - 2].name, "vga");
    ck_assert_str_eq(p->devices[p->n_devices - 1].name, "virtioinput");
    ck_assert_int_eq(int_of(p, "virtioinput", "devfn"), PLATFORM_TABLET_DEVFN);
    ck_assert(platform_device_known("virtioinput"));
    ck_assert(!platform_device_find(p, "serial")->single);
    ck_assert(platform_device_find(p, "rtc")->single);
    const struct pdm_cfg_value *text =
        platform_device_get(platform_device_find(p, "vga"), "textmode");
    ck_assert(text && text->type == PDM_CFG_BOOL && !text->u.b); /* its VGA BIOS sets it up */
    free(p);

    /* a direct boot asked for them: the vga starts in text mode */
    p = init_ok(64, PLATFORM_FW_NONE, PLATFORM_DEV_VGA);
    ck_assert_str_eq(p->devices[p->n_devices - 2].name, "vga");
    ck_assert_str_eq(p->devices[p->n_devices - 1].name, "virtioinput");
    text = platform_device_get(platform_device_find(p, "vga"), "textmode");
    ck_assert(text && text->type == PDM_CFG_BOOL && text->u.b);
    ck_assert_ptr_null(platform_device_find(p, "debugcon"));
    free(p);
}
END_TEST

START_TEST(test_device_edits)
{
    struct platform *p = init_ok(64, PLATFORM_FW_NONE, 0);
    char msg[128];
    struct platform_device *rtc = platform_device_find(p, "rtc");
    unsigned n = rtc->n_values;
    /* set replaces a key, or appends */
    ck_assert_int_eq(platform_device_set(rtc, PDM_CFG_I("ram_size", 1 << 20), msg, sizeof(msg)),
                     CAP_OK);
    ck_assert_uint_eq(rtc->n_values, n);
    ck_assert_int_eq(int_of(p, "rtc", "ram_size"), 1 << 20);
    ck_assert_int_eq(platform_device_set(rtc, PDM_CFG_S("boot_order", "disk"), msg, sizeof(msg)),
                     CAP_OK);
    ck_assert_uint_eq(rtc->n_values, n + 1);
    char keys[PLATFORM_MAX_VALUES][8];
    cap_result rc = CAP_OK;
    for (unsigned i = 0; CAP_SUCCEEDED(rc) && i < PLATFORM_MAX_VALUES; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%u", i);
        rc = platform_device_set(rtc, PDM_CFG_B(keys[i], true), msg, sizeof(msg));
    }
    ck_assert_int_eq(rc, CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(msg, "rtc: more than 40 config keys"));
    /* add (another instance), remove, the table as PDM takes it */
    unsigned before = p->n_devices;
    ck_assert_ptr_nonnull(platform_device_add(p, "serial"));
    ck_assert_ptr_nonnull(platform_device_add(p, "serial"));
    ck_assert(platform_device_remove(p, "serial"));
    ck_assert(!platform_device_remove(p, "serial"));
    ck_assert(platform_device_remove(p, "hpet"));
    ck_assert_uint_eq(p->n_devices, before - 1);
    struct pdm_dev_config dc[PLATFORM_MAX_DEVICES];
    platform_pdm_config(p, dc);
    ck_assert_str_eq(dc[0].device, "pic");
    for (unsigned i = 0; i < p->n_devices; i++) {
        ck_assert_ptr_eq(dc[i].values, p->devices[i].values);
        ck_assert_uint_eq(dc[i].n_values, p->devices[i].n_values);
    }
    while (p->n_devices < PLATFORM_MAX_DEVICES)
        ck_assert_ptr_nonnull(platform_device_add(p, "x"));
    ck_assert_ptr_null(platform_device_add(p, "x"));
    ck_assert(platform_device_known("hpet") && platform_device_known("debugcon") &&
              platform_device_known("vga"));
    ck_assert(!platform_device_known("rtcx"));
    ck_assert_ptr_nonnull(strstr(platform_device_names(), "pic, pit, serial"));
    free(p);
}
END_TEST

TCase *tcase_layout(void)
{
    TCase *tc = tcase_create("layout");
    tcase_add_test(tc, test_ram_split);
    tcase_add_test(tc, test_e820_direct);
    tcase_add_test(tc, test_e820_bios);
    tcase_add_test(tc, test_bad_config);
    tcase_add_test(tc, test_bios_rom);
    tcase_add_test(tc, test_device_table);
    tcase_add_test(tc, test_device_edits);
    return tc;
}
