/*
 * tests/unit/devices/test_piix3ide.c - the PIIX3 IDE controller through
 * its ports, with raw images on PDM's block layer: signatures, IDENTIFY,
 * the ATA PIO and DMA state machines (LBA28, LBA48, CHS, MULTIPLE, FLUSH),
 * errors, soft reset, the ATAPI PACKET commands and medium changes, and
 * hostile PRD tables (outside RAM, too short, no end, random) that must end
 * with an error status in bounded work.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"

#define P0           0x1f0
#define CTL0         0x3f6
#define BM           0xc000
#define DISK_SECTORS 2048 /* 1 MiB */
#define ISO_SECTORS  32   /* 64 KiB of 2048-byte sectors */
#define MAX_PRDS     8192 /* the device's bound on a table's entries */

static struct harness h;
static char disk_path[64], iso_path[64], iso2_path[64];

/* A file of n bytes whose 512-byte sector i is filled with (i * 7 + k) & 0xff. */
static void make_image(char *path, const char *tmpl, size_t bytes)
{
    snprintf(path, 64, "%s", tmpl);
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    uint8_t *buf = malloc(bytes);
    for (size_t i = 0; i < bytes; i++)
        buf[i] = (uint8_t)((i / 512) * 7 + i % 512);
    ck_assert_int_eq(write(fd, buf, bytes), (ssize_t)bytes);
    close(fd);
    free(buf);
}

static uint8_t pattern(uint64_t byte)
{
    return (uint8_t)((byte / 512) * 7 + byte % 512);
}

static void add_drive(unsigned lun, enum pdm_blk_kind kind, const char *path, bool ro)
{
    struct pdm_drive_config dc = {
        .device = "piix3ide", .lun = lun, .kind = kind, .path = path, .readonly = ro};
    ck_assert_int_eq(pdm_add_drive(h.pdm, &dc), CAP_OK);
}

static void setup(void)
{
    h_setup(&h);
    make_image(disk_path, "/tmp/ide-disk-XXXXXX", DISK_SECTORS * 512);
    make_image(iso_path, "/tmp/ide-iso-XXXXXX", ISO_SECTORS * 2048);
    make_image(iso2_path, "/tmp/ide-iso2-XXXXXX", 2 * ISO_SECTORS * 2048);
}

static void teardown(void)
{
    h_teardown(&h);
    unlink(disk_path);
    unlink(iso_path);
    unlink(iso2_path);
}

/* The usual machine: primary master a disk, primary slave a DVD drive with
 * the ISO, bus master at BM, no PCI. */
static void machine(bool readonly)
{
    add_drive(0, PDM_BLK_DISK, disk_path, readonly);
    add_drive(1, PDM_BLK_CDROM, iso_path, false);
    struct pdm_cfg_kv kv[] = {{"pci", "false"}, {"bm_iobase", "0xc000"}};
    ck_assert_int_eq(h_add(&h, "piix3ide", kv, 2), CAP_OK);
    ck_assert_int_eq(pdm_check_drives(h.pdm), CAP_OK);
}

static uint8_t status(void)
{
    pdm_blk_drain(h.pdm);
    return (uint8_t)h_in(&h, P0 + 7, 1);
}

static void select_unit(unsigned u)
{
    h_out(&h, P0 + 6, 1, 0xa0 | 0x40 | (u << 4));
}

/* An LBA28 command on the selected unit. */
static void ata28(uint8_t cmd, uint32_t lba, uint8_t count, unsigned unit)
{
    h_out(&h, P0 + 6, 1, 0xe0 | (unit << 4) | ((lba >> 24) & 0xf));
    h_out(&h, P0 + 2, 1, count);
    h_out(&h, P0 + 3, 1, lba & 0xff);
    h_out(&h, P0 + 4, 1, (lba >> 8) & 0xff);
    h_out(&h, P0 + 5, 1, (lba >> 16) & 0xff);
    h_out(&h, P0 + 7, 1, cmd);
}

static void ata48(uint8_t cmd, uint64_t lba, uint16_t count)
{
    h_out(&h, P0 + 6, 1, 0xe0);
    h_out(&h, P0 + 2, 1, count >> 8);
    h_out(&h, P0 + 3, 1, (lba >> 24) & 0xff);
    h_out(&h, P0 + 4, 1, (lba >> 32) & 0xff);
    h_out(&h, P0 + 5, 1, (lba >> 40) & 0xff);
    h_out(&h, P0 + 2, 1, count & 0xff);
    h_out(&h, P0 + 3, 1, lba & 0xff);
    h_out(&h, P0 + 4, 1, (lba >> 8) & 0xff);
    h_out(&h, P0 + 5, 1, (lba >> 16) & 0xff);
    h_out(&h, P0 + 7, 1, cmd);
}

/* Reads n bytes of PIO data (16-bit accesses) into buf. */
static void pio_in(uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i += 2) {
        if (i % 512 == 0)
            ck_assert_uint_eq(status() & 0x89, 0x08); /* DRQ, not BSY/ERR */
        uint32_t v = h_in(&h, P0, 2);
        buf[i] = (uint8_t)v;
        buf[i + 1] = (uint8_t)(v >> 8);
    }
}

static void check_pattern(const uint8_t *buf, uint64_t first_byte, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(buf[i] == pattern(first_byte + i), "byte %zu: %02x, want %02x", i, buf[i],
                      pattern(first_byte + i));
}

static void file_bytes(const char *path, uint64_t off, uint8_t *buf, size_t n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, (long)off, SEEK_SET);
    ck_assert_uint_eq(fread(buf, 1, n, f), n);
    fclose(f);
}

START_TEST(test_signature_identify)
{
    machine(false);
    select_unit(0);
    ck_assert_uint_eq(status(), 0x50);
    ck_assert_uint_eq(h_in(&h, P0 + 4, 1), 0);
    select_unit(1);
    ck_assert_uint_eq(h_in(&h, P0 + 4, 1), 0x14);
    ck_assert_uint_eq(h_in(&h, P0 + 5, 1), 0xeb);
    /* the registers are the channel's: both devices read back a write */
    h_out(&h, P0 + 2, 1, 0x55);
    h_out(&h, P0 + 3, 1, 0xaa);
    ck_assert_uint_eq(h_in(&h, P0 + 2, 1), 0x55);
    ck_assert_uint_eq(h_in(&h, P0 + 3, 1), 0xaa);
    ck_assert_uint_eq(h_in(&h, P0 + 6, 1), 0xf0);

    unsigned irqs = h.irq_raises[14];
    ata28(0xec, 0, 0, 0);
    uint8_t id[512];
    pio_in(id, 512);
    ck_assert_uint_gt(h.irq_raises[14], irqs);
    ck_assert_uint_eq(status(), 0x50);
    uint16_t *w = (uint16_t *)id;
    ck_assert_uint_eq(w[60] | (uint32_t)w[61] << 16, DISK_SECTORS);
    ck_assert_uint_eq(w[100], DISK_SECTORS);
    ck_assert_uint_eq(w[83] & (1 << 10), 1 << 10);
    ck_assert_int_eq(memcmp(id + 54, "ACSPLU", 6), 0); /* "CAPSULE" byte-swapped */

    /* the DVD drive: IDENTIFY DEVICE aborts with the signature */
    ata28(0xec, 0, 0, 1);
    ck_assert_uint_eq(status(), 0x41);
    ck_assert_uint_eq(h_in(&h, P0 + 1, 1), 0x04);
    ck_assert_uint_eq(h_in(&h, P0 + 5, 1), 0xeb);
    ck_assert_uint_eq(h_in(&h, P0 + 6, 1) & 0x10, 0x10); /* still selected */
    ata28(0xa1, 0, 0, 1);
    pio_in(id, 512);
    ck_assert_uint_eq(w[0], 0x85c0);
    /* the disk refuses IDENTIFY PACKET DEVICE */
    ata28(0xa1, 0, 0, 0);
    ck_assert_uint_eq(status(), 0x41);
}
END_TEST

START_TEST(test_pio_read_write_flush)
{
    machine(false);
    uint8_t buf[2048];
    ata28(0x20, 3, 2, 0); /* READ SECTORS */
    pio_in(buf, 1024);
    ck_assert_uint_eq(status(), 0x50);
    check_pattern(buf, 3 * 512, 1024);

    ata28(0x30, 5, 2, 0); /* WRITE SECTORS */
    ck_assert_uint_eq(status() & 0x88, 0x08);
    for (int i = 0; i < 1024; i += 2)
        h_out(&h, P0, 2, 0xa5a5 ^ i);
    ck_assert_uint_eq(status(), 0x50);
    file_bytes(disk_path, 5 * 512, buf, 1024);
    for (int i = 0; i < 1024; i += 2)
        ck_assert_uint_eq(buf[i] | buf[i + 1] << 8, 0xa5a5 ^ i);

    ata28(0xe7, 0, 0, 0); /* FLUSH CACHE */
    ck_assert_uint_eq(status(), 0x50);

    /* 32-bit PIO, LBA48, MULTIPLE with 4 sectors per DRQ block */
    ata28(0xc6, 0, 4, 0);
    ck_assert_uint_eq(status(), 0x50);
    unsigned irqs = h.irq_raises[14];
    ata48(0x29, 1000, 8); /* READ MULTIPLE EXT */
    for (int blk = 0; blk < 2; blk++) {
        ck_assert_uint_eq(status() & 0x89, 0x08);
        for (int i = 0; i < 2048; i += 4) {
            uint32_t v = h_in(&h, P0, 4);
            memcpy(buf + i, &v, 4);
        }
        check_pattern(buf, (1000 + 4 * blk) * 512ull, 2048);
        h_in(&h, P0 + 7, 1); /* acknowledge */
    }
    ck_assert_uint_eq(status(), 0x50);
    ck_assert_uint_ge(h.irq_raises[14], irqs + 2);

    /* CHS: cylinder 1, head 2, sector 3 of 16 heads x 63 sectors */
    h_out(&h, P0 + 6, 1, 0xa2);
    h_out(&h, P0 + 2, 1, 1);
    h_out(&h, P0 + 3, 1, 3);
    h_out(&h, P0 + 4, 1, 1);
    h_out(&h, P0 + 5, 1, 0);
    h_out(&h, P0 + 7, 1, 0x20);
    pio_in(buf, 512);
    check_pattern(buf, ((1 * 16 + 2) * 63 + 2) * 512ull, 512);
}
END_TEST

START_TEST(test_ata_errors)
{
    machine(true);                       /* the disk read-only */
    ata28(0x20, DISK_SECTORS - 1, 2, 0); /* past the end */
    ck_assert_uint_eq(status(), 0x41);
    ck_assert_uint_eq(h_in(&h, P0 + 1, 1), 0x14); /* IDNF | ABRT */
    ata28(0xc4, 0, 1, 0);                         /* READ MULTIPLE before SET MULTIPLE MODE */
    ck_assert_uint_eq(status(), 0x41);
    ata28(0xc6, 0, 3, 0); /* not a power of two */
    ck_assert_uint_eq(status(), 0x41);
    ata28(0x77, 0, 0, 0); /* not a command */
    ck_assert_uint_eq(status(), 0x41);
    ck_assert_uint_eq(h_in(&h, P0 + 1, 1), 0x04);
    /* a write to a read-only medium: the device's error, the file intact */
    ata28(0x30, 0, 1, 0);
    for (int i = 0; i < 512; i += 2)
        h_out(&h, P0, 2, 0);
    ck_assert_uint_eq(status(), 0x41);
    uint8_t buf[512];
    file_bytes(disk_path, 0, buf, 512);
    check_pattern(buf, 0, 512);
    /* READ LOG EXT: a directory without the NCQ command error log (IDE
     * queues nothing), so log 10h is refused */
    ata48(0x2f, 0x00, 1);
    pio_in(buf, 512);
    ck_assert_uint_eq(buf[0], 1);
    ck_assert_uint_eq(buf[0x20], 0);
    ata48(0x2f, 0x10, 1);
    ck_assert_uint_eq(status(), 0x41);
    ck_assert_uint_eq(h_in(&h, P0 + 1, 1), 0x04);
    /* still usable */
    ata28(0x20, 7, 1, 0);
    pio_in(buf, 512);
    check_pattern(buf, 7 * 512, 512);
}
END_TEST

START_TEST(test_soft_reset)
{
    machine(false);
    ata28(0x20, 0, 0, 0);     /* 256 sectors */
    h_out(&h, CTL0, 1, 0x06); /* SRST, nIEN */
    ck_assert_uint_eq(h_in(&h, CTL0, 1) & 0x80, 0x80);
    h_out(&h, CTL0, 1, 0x02);
    pdm_blk_drain(h.pdm);
    ck_assert_uint_eq(h_in(&h, CTL0, 1), 0x50);   /* alternate status */
    ck_assert_uint_eq(h_in(&h, P0 + 2, 1), 1);    /* signature */
    ck_assert_uint_eq(h_in(&h, P0 + 1, 1), 1);    /* diagnostic code */
    ck_assert_uint_eq(h_in(&h, P0 + 6, 1), 0xa0); /* device 0 */
    ck_assert_int_eq(h.irq_level[14], 0);         /* nIEN */
    uint8_t buf[512];
    ata28(0x20, 9, 1, 0);
    pio_in(buf, 512);
    check_pattern(buf, 9 * 512, 512);
}
END_TEST

/* ---- bus-master DMA -------------------------------------------------------- */

static void prd(uint32_t at, uint32_t addr, uint32_t count, bool eot)
{
    uint32_t e[2] = {addr, (count & 0xffff) | (eot ? 0x80000000u : 0)};
    memcpy(h.ram + at, e, 8);
}

/* Starts the bus master (table at `table`, direction `to_memory`) and waits. */
static void bm_run(uint32_t table, bool to_memory)
{
    h_out(&h, BM + 4, 4, table);
    h_out(&h, BM + 2, 1, 0x06); /* clear ERROR and INTR */
    h_out(&h, BM, 1, (to_memory ? 0x08 : 0) | 0x01);
    pdm_blk_drain(h.pdm);
}

START_TEST(test_dma)
{
    machine(false);
    prd(0x1000, 0x2000, 512, false);
    prd(0x1008, 0x3000, 1024, true);
    ata28(0xc8, 20, 3, 0); /* READ DMA */
    bm_run(0x1000, true);
    ck_assert_uint_eq(h_in(&h, BM + 2, 1) & 0x07, 0x04); /* INTR, not ACTIVE/ERROR */
    ck_assert_uint_eq(status(), 0x50);
    check_pattern(h.ram + 0x2000, 20 * 512, 512);
    check_pattern(h.ram + 0x3000, 21 * 512, 1024);
    h_out(&h, BM, 1, 0);

    for (int i = 0; i < 1536; i++)
        h.ram[0x4000 + i] = (uint8_t)(i * 3);
    prd(0x1000, 0x4000, 1536, true);
    ata48(0x35, 40, 3); /* WRITE DMA EXT */
    bm_run(0x1000, false);
    ck_assert_uint_eq(status(), 0x50);
    uint8_t buf[1536];
    file_bytes(disk_path, 40 * 512, buf, sizeof(buf));
    ck_assert_int_eq(memcmp(buf, h.ram + 0x4000, sizeof(buf)), 0);
    h_out(&h, BM, 1, 0);

    /* a table longer than the data leaves ACTIVE set */
    prd(0x1000, 0x5000, 0, true); /* 64 KiB */
    ata28(0xc8, 0, 1, 0);
    bm_run(0x1000, true);
    ck_assert_uint_eq(h_in(&h, BM + 2, 1) & 0x07, 0x05);
    ck_assert_uint_eq(status(), 0x50);
}
END_TEST

/* The command fails with ERR and bus-master ERROR, and the drive works on. */
static void expect_dma_error(void)
{
    ck_assert_uint_eq(h_in(&h, BM + 2, 1) & 0x07, 0x06);
    ck_assert_uint_eq(status(), 0x41);
    h_out(&h, BM, 1, 0);
    uint8_t buf[512];
    ata28(0x20, 11, 1, 0);
    pio_in(buf, 512);
    check_pattern(buf, 11 * 512, 512);
}

START_TEST(test_hostile_prds)
{
    machine(false);
    /* an entry outside RAM */
    prd(0x1000, 0xfff00000u, 512, true);
    ata28(0xc8, 0, 1, 0);
    bm_run(0x1000, true);
    expect_dma_error();
    /* the table outside RAM */
    ata28(0xc8, 0, 1, 0);
    bm_run(0xfffff000u, true);
    expect_dma_error();
    /* the table ends before the data */
    prd(0x1000, 0x2000, 512, true);
    ata28(0xca, 0, 4, 0);
    bm_run(0x1000, false);
    expect_dma_error();
    /* no end: 8192 entries of 2 bytes, then the walk stops */
    for (uint32_t i = 0; i < MAX_PRDS; i++)
        prd(0x10000 + 8 * i, 0x40000, 2, false);
    ata48(0x25, 0, 64); /* 32 KiB, more than the table holds */
    bm_run(0x10000, true);
    expect_dma_error();
    /* 64 KiB entries running off the end of RAM */
    prd(0x1000, HARNESS_RAM - 0x1000, 0, false);
    ata28(0xc8, 0, 128, 0);
    bm_run(0x1000, true);
    expect_dma_error();
    /* the table at the very end of RAM, without EOT: the next entry is outside */
    prd(HARNESS_RAM - 8, 0x2000, 512, false);
    ata28(0xc8, 0, 2, 0);
    bm_run(HARNESS_RAM - 8, true);
    expect_dma_error();
}
END_TEST

/* Random tables and commands: every command ends (no BSY once the block
 * layer is idle), nothing writes outside the harness's RAM (it would
 * fail: phys ops check), and the controller keeps working. */
START_TEST(test_random_prds)
{
    machine(false);
    srand(12345);
    for (int iter = 0; iter < 300; iter++) {
        uint32_t table = (uint32_t)(rand() % (HARNESS_RAM + 0x10000)) & ~3u;
        for (int i = 0; i < 64; i++) {
            uint32_t at = (uint32_t)(rand() % (HARNESS_RAM - 8)) & ~7u;
            prd(at, (uint32_t)rand() * 2, (uint32_t)rand(), rand() % 4 == 0);
        }
        static const uint8_t cmds[] = {0xc8, 0xca, 0x25, 0x35};
        uint8_t cmd = cmds[rand() % 4];
        if (cmd == 0x25 || cmd == 0x35)
            ata48(cmd, (uint64_t)(rand() % DISK_SECTORS), (uint16_t)(rand() % 300));
        else
            ata28(cmd, (uint32_t)(rand() % DISK_SECTORS), (uint8_t)rand(), 0);
        bm_run(table, cmd == 0xc8 || cmd == 0x25);
        ck_assert_uint_eq(status() & 0x80, 0);
        h_out(&h, BM, 1, 0);
    }
    uint8_t buf[512];
    ata28(0x20, 13, 1, 0);
    pio_in(buf, 512);
}
END_TEST

/* Random register traffic on both channels and the bus master (commands
 * of every kind, data port reads and writes, resets, DMA starts with
 * random tables): nothing crashes or hangs, no block request outlives
 * the test, and both devices still answer IDENTIFY afterwards. */
START_TEST(test_random_ports)
{
    char disk2[64];
    make_image(disk2, "/tmp/ide-disk2-XXXXXX", 64 * 1024);
    add_drive(2, PDM_BLK_DISK, disk2, false);
    unlink(disk2); /* open: the file lives until the VM goes */
    machine(false);
    static const uint8_t cmds[] = {0x20, 0x24, 0x30, 0x34, 0xc4, 0xc5, 0x29, 0x39, 0xc8, 0xca,
                                   0x25, 0x35, 0xe7, 0xea, 0xef, 0x91, 0xc6, 0xec, 0xa1, 0xa0,
                                   0x90, 0x08, 0x40, 0xf8, 0x27, 0xe5, 0x00, 0xff, 0x2f};
    srand(777);
    for (int i = 0; i < 20000; i++) {
        unsigned ch = rand() % 2, what = rand() % 16;
        uint16_t base = ch ? 0x170 : P0;
        if (what < 4) {
            h_out(&h, base + 1 + rand() % 6, 1, (uint32_t)rand() & 0xff);
        } else if (what < 6) {
            h_out(&h, base + 7, 1, cmds[rand() % sizeof(cmds)]);
        } else if (what < 9) {
            h_in(&h, base, rand() % 2 ? 2 : 4);
        } else if (what < 11) {
            h_out(&h, base, 2, (uint32_t)rand());
        } else if (what < 12) {
            h_in(&h, base + rand() % 8, 1);
        } else if (what < 13) {
            h_out(&h, ch ? 0x376 : CTL0, 1, (uint32_t)rand() & 0x86);
        } else if (what < 15) {
            unsigned off = rand() % 16;
            if (rand() % 2)
                h_out(&h, BM + off, 1 << (rand() % 3), (uint32_t)rand());
            else
                h_in(&h, BM + off, 1);
        } else {
            pdm_blk_drain(h.pdm);
        }
    }
    pdm_blk_drain(h.pdm);
    for (unsigned ch = 0; ch < 2; ch++) {
        uint16_t base = ch ? 0x170 : P0;
        h_out(&h, ch ? 0x376 : CTL0, 1, 0x04); /* soft reset ends whatever ran */
        h_out(&h, ch ? 0x376 : CTL0, 1, 0x00);
        h_out(&h, BM + 8 * ch, 1, 0);
        h_out(&h, base + 6, 1, 0xe0);
        h_out(&h, base + 7, 1, 0xec);
        pdm_blk_drain(h.pdm);
        ck_assert_uint_eq(h_in(&h, base + 7, 1) & 0x89, 0x08);
    }
}
END_TEST

/* ---- ATAPI ------------------------------------------------------------------ */

/* Sends a 12-byte packet to the primary slave (byte limit `limit`). */
static void packet(const uint8_t *cdb, uint16_t limit)
{
    select_unit(1);
    h_out(&h, P0 + 1, 1, 0);
    h_out(&h, P0 + 4, 1, limit & 0xff);
    h_out(&h, P0 + 5, 1, limit >> 8);
    h_out(&h, P0 + 7, 1, 0xa0);
    ck_assert_uint_eq(status() & 0x88, 0x08);
    ck_assert_uint_eq(h_in(&h, P0 + 2, 1), 0x01); /* CoD */
    for (int i = 0; i < 12; i += 2)
        h_out(&h, P0, 2, cdb[i] | cdb[i + 1] << 8);
    pdm_blk_drain(h.pdm);
}

/* Reads a data-in reply; returns its length. */
static size_t reply(uint8_t *buf, size_t max)
{
    size_t n = 0;
    while ((status() & 0x88) == 0x08) {
        ck_assert_uint_eq(h_in(&h, P0 + 2, 1), 0x02); /* IO, data */
        unsigned len = h_in(&h, P0 + 4, 1) | h_in(&h, P0 + 5, 1) << 8;
        for (unsigned i = 0; i < len; i += 2) {
            uint32_t v = h_in(&h, P0, 2);
            if (n + 1 < max) {
                buf[n] = (uint8_t)v;
                buf[n + 1] = (uint8_t)(v >> 8);
            }
            n += 2;
        }
    }
    ck_assert_uint_eq(h_in(&h, P0 + 2, 1), 0x03); /* completion */
    return n;
}

static uint8_t sense_key(void)
{
    uint8_t cdb[12] = {0x03, 0, 0, 0, 18}, buf[18];
    packet(cdb, 18);
    ck_assert_uint_eq(reply(buf, sizeof(buf)), 18);
    return buf[2] << 4 | (buf[12] == 0x3a) | (buf[12] == 0x28) << 1 | (buf[12] == 0x53) << 2;
}

static void tur_expect(uint8_t st, uint8_t err)
{
    uint8_t cdb[12] = {0};
    packet(cdb, 0);
    ck_assert_uint_eq(status(), st);
    if (st & 1)
        ck_assert_uint_eq(h_in(&h, P0 + 1, 1), err);
}

START_TEST(test_atapi)
{
    machine(false);
    uint8_t buf[8192];
    tur_expect(0x40, 0);
    uint8_t inq[12] = {0x12, 0, 0, 0, 36};
    packet(inq, 0x100);
    ck_assert_uint_eq(reply(buf, sizeof(buf)), 36);
    ck_assert_uint_eq(buf[0], 0x05);
    ck_assert_uint_eq(buf[1], 0x80);
    uint8_t cap[12] = {0x25};
    packet(cap, 8);
    ck_assert_uint_eq(reply(buf, sizeof(buf)), 8);
    ck_assert_uint_eq(buf[3], ISO_SECTORS - 1);
    ck_assert_uint_eq(buf[6], 0x08); /* 2048 */
    uint8_t rd[12] = {0x28, 0, 0, 0, 0, 3, 0, 0, 2};
    packet(rd, 2048); /* two DRQ blocks of one sector */
    ck_assert_uint_eq(reply(buf, sizeof(buf)), 4096);
    for (int i = 0; i < 4096; i++)
        ck_assert_uint_eq(buf[i], pattern(3 * 2048 + i));
    uint8_t rd12[12] = {0xa8, 0, 0, 0, 0, ISO_SECTORS - 1, 0, 0, 0, 1};
    packet(rd12, 0xfffe);
    ck_assert_uint_eq(reply(buf, sizeof(buf)), 2048);
    uint8_t past[12] = {0x28, 0, 0, 0, 0, ISO_SECTORS - 1, 0, 0, 2};
    packet(past, 2048);
    ck_assert_uint_eq(status(), 0x41);
    ck_assert_uint_eq(h_in(&h, P0 + 1, 1), 0x50); /* ILLEGAL REQUEST */
    uint8_t bogus[12] = {0xee};
    packet(bogus, 0);
    ck_assert_uint_eq(status(), 0x41);
    ck_assert_uint_eq(sense_key(), 0x50);
    uint8_t toc[12] = {0x43, 0, 0, 0, 0, 0, 0, 0, 100};
    packet(toc, 100);
    ck_assert_uint_eq(reply(buf, sizeof(buf)), 20);
    ck_assert_uint_eq(buf[6], 1);
    ck_assert_uint_eq(buf[14], 0xaa);
    ck_assert_uint_eq(buf[19], ISO_SECTORS);
    uint8_t cfg[12] = {0x46, 0, 0, 0, 0, 0, 0, 0, 32};
    packet(cfg, 32);
    ck_assert_uint_eq(reply(buf, sizeof(buf)), 32);
    ck_assert_uint_eq(buf[7], 0x10); /* DVD-ROM */
    uint8_t di[12] = {0x51, 0, 0, 0, 0, 0, 0, 0, 34};
    packet(di, 34);
    ck_assert_uint_eq(reply(buf, sizeof(buf)), 34);
    ck_assert_uint_eq(buf[2], 0x0e);
    uint8_t ms[12] = {0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 64};
    packet(ms, 64);
    ck_assert_uint_eq(reply(buf, sizeof(buf)), 28);
    ck_assert_uint_eq(buf[8], 0x2a);
}
END_TEST

START_TEST(test_atapi_medium)
{
    machine(false);
    uint8_t buf[64];
    uint8_t gesn[12] = {0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8};
    /* lock it: the host's eject is refused, the guest's too */
    uint8_t prevent[12] = {0x1e, 0, 0, 0, 1};
    packet(prevent, 0);
    ck_assert_uint_eq(status(), 0x40);
    ck_assert_int_eq(pdm_drive_set_medium(h.pdm, "piix3ide", 0, 1, NULL, NULL, false),
                     CAP_E_ACCESSDENIED);
    uint8_t eject[12] = {0x1b, 0, 0, 0, 0x02};
    packet(eject, 0);
    ck_assert_uint_eq(status(), 0x41);
    ck_assert_uint_eq(sense_key(), 0x54); /* ILLEGAL REQUEST, removal prevented */
    prevent[4] = 0;
    packet(prevent, 0);
    packet(eject, 0);
    ck_assert_uint_eq(status(), 0x40);
    tur_expect(0x41, 0x20);               /* NOT READY */
    ck_assert_uint_eq(sense_key(), 0x21); /* medium not present */
    /* the host inserts another image: unit attention once, a media event */
    ck_assert_int_eq(pdm_drive_set_medium(h.pdm, "piix3ide", 0, 1, iso2_path, "iso", false),
                     CAP_OK);
    packet(gesn, 8);
    ck_assert_uint_eq(reply(buf, sizeof(buf)), 8);
    ck_assert_uint_eq(buf[4], 2); /* new media */
    ck_assert_uint_eq(buf[5], 2); /* present */
    packet(gesn, 8);
    reply(buf, sizeof(buf));
    ck_assert_uint_eq(buf[4], 0);
    tur_expect(0x41, 0x60); /* UNIT ATTENTION */
    tur_expect(0x40, 0);
    uint8_t cap[12] = {0x25};
    packet(cap, 8);
    reply(buf, sizeof(buf));
    ck_assert_uint_eq(buf[3], 2 * ISO_SECTORS - 1);
    /* a disk's medium stays */
    ck_assert_int_eq(pdm_drive_set_medium(h.pdm, "piix3ide", 0, 0, NULL, NULL, true),
                     CAP_E_INVALIDARG);
}
END_TEST

START_TEST(test_atapi_dma)
{
    machine(false);
    prd(0x1000, 0x6000, 4096, true);
    select_unit(1);
    h_out(&h, P0 + 1, 1, 1); /* DMA */
    h_out(&h, P0 + 7, 1, 0xa0);
    uint8_t rd[12] = {0x28, 0, 0, 0, 0, 5, 0, 0, 2};
    for (int i = 0; i < 12; i += 2)
        h_out(&h, P0, 2, rd[i] | rd[i + 1] << 8);
    bm_run(0x1000, true);
    ck_assert_uint_eq(status(), 0x40);
    ck_assert_uint_eq(h_in(&h, BM + 2, 1) & 0x07, 0x04);
    for (int i = 0; i < 4096; i++)
        ck_assert_uint_eq(h.ram[0x6000 + i], pattern(5 * 2048 + i));
}
END_TEST

/* Saved in the middle of a PIO read: the load goes back to that point. */
START_TEST(test_save_load)
{
    machine(false);
    uint8_t a[1024], b[1024];
    ata28(0x20, 3, 2, 0);
    pio_in(a, 200);
    void *st;
    size_t len;
    ck_assert_int_eq(pdm_save(h.pdm, &st, &len), CAP_OK);
    pio_in(a + 200, 824);
    ck_assert_uint_eq(status(), 0x50);
    check_pattern(a, 3 * 512, 1024);
    ck_assert_int_eq(pdm_load(h.pdm, st, len), CAP_OK);
    pio_in(b + 200, 824);
    ck_assert_int_eq(memcmp(a + 200, b + 200, 824), 0);
    ck_assert_uint_eq(status(), 0x50);
    ck_assert_int_ne(pdm_load(h.pdm, st, len - 5), CAP_OK); /* truncated */
    free(st);
    /* still usable after the failed load */
    ata28(0x08, 0, 0, 0); /* (a disk ignores DEVICE RESET: aborted) */
    ata28(0x20, 7, 1, 0);
    pio_in(a, 512);
    check_pattern(a, 7 * 512, 512);
}
END_TEST

START_TEST(test_no_drive)
{
    /* no drives: the controller answers, status 0, commands go nowhere */
    struct pdm_cfg_kv kv[] = {{"pci", "false"}};
    ck_assert_int_eq(h_add(&h, "piix3ide", kv, 1), CAP_OK);
    ck_assert_uint_eq(h_in(&h, P0 + 7, 1), 0);
    h_out(&h, P0 + 7, 1, 0xec);
    ck_assert_uint_eq(h_in(&h, P0 + 7, 1), 0);
    ck_assert_uint_eq(h_in(&h, 0x177, 1), 0);
    /* a drive nobody takes is an error for the machine */
    h_teardown(&h);
    h_setup(&h);
    add_drive(2, PDM_BLK_DISK, disk_path, false);
    add_drive(7, PDM_BLK_CDROM, iso_path, false);
    ck_assert_int_eq(h_add(&h, "piix3ide", kv, 1), CAP_OK);
    ck_assert_int_eq(pdm_check_drives(h.pdm), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "LUN 7"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dev-piix3ide");
    TCase *tc = tcase_create("piix3ide");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_signature_identify);
    tcase_add_test(tc, test_pio_read_write_flush);
    tcase_add_test(tc, test_ata_errors);
    tcase_add_test(tc, test_soft_reset);
    tcase_add_test(tc, test_dma);
    tcase_add_test(tc, test_hostile_prds);
    tcase_add_test(tc, test_random_prds);
    tcase_add_test(tc, test_random_ports);
    tcase_add_test(tc, test_atapi);
    tcase_add_test(tc, test_atapi_medium);
    tcase_add_test(tc, test_atapi_dma);
    tcase_add_test(tc, test_save_load);
    tcase_add_test(tc, test_no_drive);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
