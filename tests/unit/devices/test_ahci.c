/*
 * tests/unit/devices/test_ahci.c - the AHCI controller (plugins/devices/ahci)
 * on the PCI bus, with raw images on PDM's block layer: the function's
 * identity and ABAR, the HBA and port registers (CAP, GHC, PI, VS, PxCMD's
 * ST/FRE/CR/FR, SSTS, SIG, the reset's signature FIS), commands through the
 * command list (IDENTIFY by PIO, READ/WRITE DMA EXT through split PRDTs,
 * FLUSH, SET FEATURES, NCQ, ATAPI PACKET commands and medium changes),
 * the interrupt (GHC.IE, PxIE, INTA# through PIIX3's PIRQ routing), saved
 * state, and hostile guests: command lists, tables and buffers outside
 * RAM, bad FISes, short PRDTs, PRDTL 0, 65535 one-byte entries, commands
 * for empty ports, HBA reset and ST cleared in the middle of a command,
 * random commands and random register traffic - each ends in an
 * error status (PxIS.TFES, ERR in PxTFD) or a clean state, never a crash
 * or unbounded work, and the port recovers when ST is toggled.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"

#define ABAR      0xfeb00000ull
#define DEVFN     (13u << 3) /* 00:0d.0 */
#define IRQ       11         /* INTA# at slot 13 is PIRQB#, routed here */
#define SECTORS   2048       /* 1 MiB disk */
#define ISO_SECTS 32

/* Port registers. */
#define PX(n, r) (0x100u + (n)*0x80u + (r))
#define CLB      0x00
#define FB       0x08
#define IS       0x10
#define IE       0x14
#define CMD      0x18
#define TFD      0x20
#define SIG      0x24
#define SSTS     0x28
#define SCTL     0x2c
#define SERR     0x30
#define CI       0x38

#define ST   0x0001u
#define FRE  0x0010u
#define FR   0x4000u
#define CR   0x8000u
#define DHRS 0x1u
#define PSS  0x2u
#define TFES 0x40000000u

/* Guest memory per port: command list, FIS area, one command table. */
#define CLB_OF(p)    (0x10000u + (p)*0x1000u)
#define FB_OF(p)     (CLB_OF(p) + 0x400u)
#define CT_OF(p)     (CLB_OF(p) + 0x800u)
#define DATA         0x40000u
#define PRD_DBC_MASK 0x3fffffu

static struct harness h;
static char disk_path[64], iso_path[64];

static uint8_t pattern(uint64_t byte)
{
    return (uint8_t)((byte / 512) * 7 + byte % 512);
}

/* A temporary image of `bytes` bytes holding pattern(). */
static void make_image(char *path, const char *tmpl, size_t bytes)
{
    snprintf(path, 64, "%s", tmpl);
    int fd = mkstemp(path);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "wb");
    ck_assert_ptr_nonnull(f);
    for (size_t i = 0; i < bytes; i++)
        fputc(pattern(i), f);
    ck_assert_int_eq(fclose(f), 0);
}

/* ---- the machine ------------------------------------------------------------- */

static void cfg_w(unsigned devfn, unsigned reg, unsigned size, uint32_t v)
{
    h_out(&h, 0xcf8, 4, 0x80000000u | devfn << 8 | (reg & 0xfc));
    h_out(&h, 0xcfc + (reg & 3), size, v);
}

static uint32_t cfg_r(unsigned devfn, unsigned reg)
{
    h_out(&h, 0xcf8, 4, 0x80000000u | devfn << 8 | (reg & 0xfc));
    return h_in(&h, 0xcfc, 4);
}

static uint32_t rd(unsigned off)
{
    return (uint32_t)h_mmio_in(&h, ABAR + off, 4);
}

static void wr(unsigned off, uint32_t v)
{
    h_mmio_out(&h, ABAR + off, 4, v);
}

/* The images live while a test runs. */
static void setup(void)
{
    make_image(disk_path, "/tmp/ahci-disk-XXXXXX", SECTORS * 512);
    make_image(iso_path, "/tmp/ahci-iso-XXXXXX", ISO_SECTS * 2048);
    h_setup(&h);
}

static void teardown(void)
{
    h_teardown(&h);
    for (char *path = disk_path; path; path = path == disk_path ? iso_path : NULL)
        unlink(path);
}

/* A disk on port 0, a DVD drive with the ISO on port 2 (so 3 ports, port
 * 1 empty); BAR5 at ABAR, memory and bus master on, INTA# routed. */
static void machine_off(bool readonly)
{
    const struct pdm_drive_config drives[] = {
        {.device = "ahci", .lun = 0, .kind = PDM_BLK_DISK, .path = disk_path, .readonly = readonly},
        {.device = "ahci", .lun = 2, .kind = PDM_BLK_CDROM, .path = iso_path},
    };
    ck_assert_int_eq(h_add(&h, "pci", NULL, 0), CAP_OK);
    for (size_t i = 0; i < sizeof(drives) / sizeof(drives[0]); i++)
        ck_assert_int_eq(pdm_add_drive(h.pdm, &drives[i]), CAP_OK);
    ck_assert_int_eq(h_add(&h, "ahci", NULL, 0), CAP_OK);
    ck_assert_int_eq(pdm_check_drives(h.pdm), CAP_OK);
    cfg_w(DEVFN, 0x24, 4, (uint32_t)ABAR);
    cfg_w(DEVFN, 0x04, 2, 0x0006);
    cfg_w(PCI_DEVFN(1, 0), 0x61, 1, IRQ); /* PIRQB# -> IRQ 11 */
}

/* Command list and FIS area for port p, FIS receive and ST on. */
static void port_start(unsigned p)
{
    wr(PX(p, CLB), CLB_OF(p));
    wr(PX(p, CLB + 4), 0);
    wr(PX(p, FB), FB_OF(p));
    wr(PX(p, FB + 4), 0);
    wr(PX(p, CMD), FRE);
    wr(PX(p, CMD), FRE | ST);
    wr(PX(p, SERR), 0xffffffffu);
    wr(PX(p, IS), 0xffffffffu);
}

/* The machine with port 0 (the disk) started. */
static void machine(bool readonly)
{
    machine_off(readonly);
    port_start(0);
}

static void put32(uint64_t gpa, uint32_t v)
{
    memcpy(h.ram + gpa, &v, 4);
}

static uint32_t get32(uint64_t gpa)
{
    uint32_t v;
    memcpy(&v, h.ram + gpa, 4);
    return v;
}

struct prd {
    uint32_t addr, len;
};

/* Writes slot `slot`'s header and table: an H2D FIS for `cmd`, the LBA,
 * count and features, an ATAPI command, the PRDT. */
static void build(unsigned p, unsigned slot, uint8_t cmd, uint64_t lba, uint16_t count,
                  uint8_t feature, const uint8_t *acmd, const struct prd *prds, unsigned n)
{
    uint64_t ct = CT_OF(p);
    uint8_t *f = h.ram + ct;
    memset(f, 0, 0x80);
    f[0] = 0x27;
    f[1] = 0x80;
    f[2] = cmd;
    f[3] = feature;
    f[4] = (uint8_t)lba;
    f[5] = (uint8_t)(lba >> 8);
    f[6] = (uint8_t)(lba >> 16);
    f[7] = 0x40;
    f[8] = (uint8_t)(lba >> 24);
    f[9] = (uint8_t)(lba >> 32);
    f[10] = (uint8_t)(lba >> 40);
    f[12] = (uint8_t)count;
    f[13] = (uint8_t)(count >> 8);
    if (acmd)
        memcpy(f + 0x40, acmd, 12);
    for (unsigned i = 0; i < n; i++) {
        put32(ct + 0x80 + 16 * i, prds[i].addr);
        put32(ct + 0x84 + 16 * i, 0);
        put32(ct + 0x88 + 16 * i, 0);
        put32(ct + 0x8c + 16 * i, prds[i].len - 1);
    }
    uint64_t hdr = CLB_OF(p) + 32 * slot;
    put32(hdr, 5u | (acmd ? 1u << 5 : 0) | n << 16);
    put32(hdr + 4, 0xdeadbeef); /* PRDBC: the HBA's to write */
    put32(hdr + 8, (uint32_t)ct);
    put32(hdr + 12, 0);
}

/* Issues slot 0 of port p and waits until the block layer is idle. */
static uint32_t issue(unsigned p)
{
    wr(PX(p, CI), 1);
    pdm_blk_drain(h.pdm);
    return rd(PX(p, IS));
}

static uint32_t run(unsigned p, uint8_t cmd, uint64_t lba, uint16_t count, const struct prd *prds,
                    unsigned n)
{
    build(p, 0, cmd, lba, count, 0, NULL, prds, n);
    return issue(p);
}

/* The command went well: CI clear, no TFES, TFD without ERR/BSY/DRQ. */
static void ck_ok(unsigned p, uint32_t is)
{
    ck_assert_msg(!(is & TFES), "TFES: tfd %#x", rd(PX(p, TFD)));
    ck_assert_uint_eq(rd(PX(p, CI)), 0);
    ck_assert_uint_eq(rd(PX(p, TFD)) & 0x89, 0);
    wr(PX(p, IS), is);
}

/* The command failed: TFES, ERR in TFD, the slot still issued, the port
 * halted until ST is toggled (which clears CI). */
static void ck_failed(unsigned p, uint32_t is)
{
    ck_assert_msg(is & TFES, "no TFES: is %#x tfd %#x", is, rd(PX(p, TFD)));
    ck_assert_uint_eq(rd(PX(p, TFD)) & 0x81, 0x01);
    wr(PX(p, IS), is);
    wr(PX(p, CMD), FRE);
    ck_assert_uint_eq(rd(PX(p, CI)), 0);
    ck_assert_uint_eq(rd(PX(p, CMD)) & CR, 0);
    wr(PX(p, CMD), FRE | ST);
}

static void check_pattern(const uint8_t *buf, uint64_t first_byte, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(buf[i] == pattern(first_byte + i), "byte %zu: %02x, want %02x", i, buf[i],
                      pattern(first_byte + i));
}

/* The disk image holds guest memory [gpa, gpa + n) from sector `lba` on. */
static void ck_image_holds(uint64_t lba, uint64_t gpa, size_t n)
{
    uint8_t got[4096];
    FILE *fp = fopen(disk_path, "rb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_le(n, sizeof(got));
    fseek(fp, (long)(lba * 512), SEEK_SET);
    ck_assert_uint_eq(fread(got, 1, n, fp), n);
    fclose(fp);
    ck_assert_int_eq(memcmp(got, h.ram + gpa, n), 0);
}

/* A read that must work: 8 sectors from LBA 100 into DATA. */
static void ck_read_works(unsigned p)
{
    memset(h.ram + DATA, 0, 4096);
    struct prd one = {DATA, 4096};
    ck_ok(p, run(p, 0x25, 100, 8, &one, 1));
    check_pattern(h.ram + DATA, 100 * 512, 4096);
}

/* n PRD entries of `bytes` each at `table`, one after the other from DATA. */
static void long_prdt(uint64_t table, unsigned n, uint32_t bytes)
{
    for (unsigned i = 0; i < n; i++) {
        put32(table + 16 * i, DATA + bytes * i);
        put32(table + 16 * i + 4, 0);
        put32(table + 16 * i + 12, bytes - 1);
    }
}

/* ---- tests ------------------------------------------------------------------- */

START_TEST(test_identity_registers)
{
    machine_off(false);
    ck_assert_uint_eq(cfg_r(DEVFN, 0), 0x29228086);
    ck_assert_uint_eq(cfg_r(DEVFN, 8) >> 8, 0x010601);
    ck_assert_uint_eq(cfg_r(DEVFN, 0x3c) >> 8 & 0xff, 1); /* INTA# */
    /* BAR5 sizes as 4 KiB of 32-bit memory */
    cfg_w(DEVFN, 0x24, 4, 0xffffffffu);
    ck_assert_uint_eq(cfg_r(DEVFN, 0x24), 0xfffff000u);
    cfg_w(DEVFN, 0x24, 4, (uint32_t)ABAR);

    uint32_t cap = rd(0x00);
    ck_assert_uint_eq(cap & 0x1f, 2);              /* 3 ports */
    ck_assert_uint_eq(cap >> 8 & 0x1f, 31);        /* 32 slots */
    ck_assert_uint_eq(cap & (1u << 31), 1u << 31); /* 64-bit */
    ck_assert_uint_eq(cap & (1u << 18), 1u << 18); /* AHCI only */
    ck_assert_uint_eq(rd(0x04), 0x80000000u);      /* GHC.AE */
    ck_assert_uint_eq(rd(0x0c), 0x7);              /* PI */
    ck_assert_uint_eq(rd(0x10), 0x00010300u);      /* 1.3 */
    ck_assert_uint_eq(rd(PX(0, SSTS)), 0x123);
    ck_assert_uint_eq(rd(PX(1, SSTS)), 0);
    ck_assert_uint_eq(rd(PX(2, SSTS)), 0x123);
    ck_assert_uint_eq(rd(PX(0, SIG)), 0x00000101u);
    ck_assert_uint_eq(rd(PX(2, SIG)), 0xeb140101u);
    ck_assert_uint_eq(rd(PX(0, TFD)) & 0xff, 0x50);
    ck_assert_uint_eq(rd(PX(3, SSTS)), 0); /* past PI: reads 0 */
    /* FIS receive on: FR follows, the signature FIS lands in the area */
    wr(PX(0, FB), FB_OF(0));
    wr(PX(0, CMD), FRE);
    ck_assert_uint_eq(rd(PX(0, CMD)) & (FRE | FR), FRE | FR);
    ck_assert_uint_eq(h.ram[FB_OF(0) + 0x40], 0x34);
    ck_assert_uint_eq(h.ram[FB_OF(0) + 0x40 + 12], 1); /* count: the signature */
    ck_assert_uint_eq(rd(PX(0, IS)) & DHRS, DHRS);
    wr(PX(0, CMD), FRE | ST);
    ck_assert_uint_eq(rd(PX(0, CMD)) & CR, CR);
    wr(PX(0, CMD), 0);
    ck_assert_uint_eq(rd(PX(0, CMD)) & (CR | FR), 0);
    /* narrow writes are dropped, narrow reads see their bytes */
    h_mmio_out(&h, ABAR + PX(0, IE), 1, 0xff);
    ck_assert_uint_eq(rd(PX(0, IE)), 0);
    ck_assert_uint_eq(h_mmio_in(&h, ABAR + 0x12, 2), 0x0001);
}
END_TEST

START_TEST(test_identify_read_write_flush)
{
    machine(false);
    /* IDENTIFY DEVICE: PIO data-in through the PRDT, a PIO setup FIS */
    struct prd id = {DATA, 512};
    uint32_t is = run(0, 0xec, 0, 0, &id, 1);
    ck_assert_uint_eq(is & PSS, PSS);
    ck_ok(0, is);
    uint16_t *w = (uint16_t *)(h.ram + DATA);
    ck_assert_uint_eq(w[100], SECTORS);
    ck_assert_uint_eq(w[83] & (1 << 10), 1 << 10);
    ck_assert_int_eq(memcmp(h.ram + DATA + 54, "ACSPLU", 6), 0);
    ck_assert_uint_eq(get32(CLB_OF(0) + 4), 512); /* PRDBC */
    ck_assert_uint_eq(h.ram[FB_OF(0) + 0x20], 0x5f);

    /* READ DMA EXT, 16 sectors at LBA 5 through three uneven PRDs */
    memset(h.ram + DATA, 0, 8192);
    struct prd split[] = {{DATA, 1000}, {DATA + 1000, 24}, {DATA + 1024, 7168}};
    is = run(0, 0x25, 5, 16, split, 3);
    ck_assert_uint_eq(is & DHRS, DHRS);
    ck_ok(0, is);
    check_pattern(h.ram + DATA, 5 * 512, 8192);
    ck_assert_uint_eq(get32(CLB_OF(0) + 4), 8192);
    ck_assert_uint_eq(h.ram[FB_OF(0) + 0x40], 0x34);
    ck_assert_uint_eq(h.ram[FB_OF(0) + 0x42], 0x50);

    /* a read larger than the core's chunk (128 KiB): 300 sectors */
    struct prd big = {0x80000, 300 * 512};
    ck_ok(0, run(0, 0x25, 1000, 300, &big, 1));
    check_pattern(h.ram + 0x80000, 1000 * 512, 300 * 512);

    /* WRITE DMA EXT, then the file has it; READ DMA (LBA28) reads it back */
    for (int i = 0; i < 1024; i++)
        h.ram[DATA + i] = (uint8_t)(i * 13 + 1);
    struct prd wp = {DATA, 1024};
    build(0, 0, 0x35, 7, 2, 0, NULL, &wp, 1);
    put32(CLB_OF(0), 5u | 1u << 6 | 1u << 16); /* W */
    ck_ok(0, issue(0));
    ck_image_holds(7, DATA, 1024);
    struct prd back = {DATA + 4096, 1024};
    ck_ok(0, run(0, 0xc8, 7, 2, &back, 1));
    ck_assert_int_eq(memcmp(h.ram + DATA + 4096, h.ram + DATA, 1024), 0);

    /* FLUSH CACHE EXT, SET FEATURES (write cache off), an unknown command */
    ck_ok(0, run(0, 0xea, 0, 0, NULL, 0));
    build(0, 0, 0xef, 0, 0, 0x82, NULL, NULL, 0);
    ck_ok(0, issue(0));
    ck_failed(0, run(0, 0x5c, 0, 0, NULL, 0));
    /* out of range: IDNF|ABRT in the error byte */
    ck_failed(0, run(0, 0x25, SECTORS - 1, 2, &wp, 1));
    ck_read_works(0);
}
END_TEST

/* NCQ: READ/WRITE FPDMA QUEUED in several slots at once, each completing
 * with a set device bits FIS that clears its PxSACT bit. */
START_TEST(test_ncq)
{
    machine(false);
    ck_assert_uint_eq(rd(0x00) & (1u << 30), 1u << 30); /* CAP.SNCQ */
    struct prd id = {DATA, 512};
    ck_ok(0, run(0, 0xec, 0, 0, &id, 1));
    ck_assert_uint_eq(*(uint16_t *)(h.ram + DATA + 150), 31);            /* queue depth - 1 */
    ck_assert_uint_eq(*(uint16_t *)(h.ram + DATA + 152) & 0x100, 0x100); /* NCQ */
    /* four queued reads of 2 sectors each, tags = slots 0-3, then SACT and CI */
    for (unsigned slot = 0; slot < 4; slot++) {
        uint64_t ct = CT_OF(0) + 0x100 * (slot + 1);
        struct prd d = {DATA + 1024 * slot, 1024};
        build(0, slot, 0x60, 40 + 2 * slot, (uint16_t)(slot << 3), 2, NULL, &d, 1);
        memcpy(h.ram + ct, h.ram + CT_OF(0), 0x90);
        put32(CLB_OF(0) + 32 * slot + 8, (uint32_t)ct);
    }
    memset(h.ram + DATA, 0, 4096);
    wr(PX(0, 0x34), 0xf);
    wr(PX(0, CI), 0xf);
    pdm_blk_drain(h.pdm);
    ck_assert_uint_eq(rd(PX(0, 0x34)), 0);
    ck_assert_uint_eq(rd(PX(0, CI)), 0);
    ck_assert_uint_eq(rd(PX(0, IS)) & (0x8 | TFES), 0x8); /* SDBS */
    ck_assert_uint_eq(h.ram[FB_OF(0) + 0x58], 0xa1);
    check_pattern(h.ram + DATA, 40 * 512, 4096);
    wr(PX(0, IS), 0xffffffffu);
    /* a queued write with FUA reaches the image; a queued read past the end fails */
    for (int i = 0; i < 512; i++)
        h.ram[DATA + i] = (uint8_t)(i ^ 0x5a);
    struct prd w = {DATA, 512};
    build(0, 0, 0x61, 77, 0, 1, NULL, &w, 1);
    h.ram[CT_OF(0) + 7] |= 0x80; /* FUA */
    wr(PX(0, 0x34), 1);
    ck_ok(0, issue(0));
    ck_image_holds(77, DATA, 512);
    build(0, 0, 0x60, SECTORS - 1, 0, 2, NULL, &w, 1);
    wr(PX(0, 0x34), 1);
    ck_failed(0, issue(0));
    ck_assert_uint_eq(rd(PX(0, 0x34)), 0); /* ST cleared it */
    ck_read_works(0);
}
END_TEST

/* Reads log `log` (page 0, one page) with READ LOG EXT into DATA; returns PxIS. */
static uint32_t read_log(unsigned p, uint8_t log)
{
    memset(h.ram + DATA, 0xee, 512);
    struct prd one = {DATA, 512};
    return run(p, 0x2f, log, 1, &one, 1);
}

static unsigned page_sum(void)
{
    unsigned sum = 0;
    for (unsigned i = 0; i < 512; i++)
        sum += h.ram[DATA + i];
    return sum & 0xff;
}

/* READ LOG EXT: the log directory lists the NCQ command error log (10h),
 * which holds the failed queued command's tag and taskfile until read
 * (then NQ: none); other logs, pages and counts are refused; the IDENTIFY
 * data says General Purpose Logging. A failed command in the log survives
 * save and load (saved state version 2). */
START_TEST(test_read_log)
{
    machine(false);
    struct prd id = {DATA, 512};
    ck_ok(0, run(0, 0xec, 0, 0, &id, 1));
    ck_assert_uint_eq(*(uint16_t *)(h.ram + DATA + 2 * 84) & 0x20, 0x20);
    ck_assert_uint_eq(*(uint16_t *)(h.ram + DATA + 2 * 87) & 0x20, 0x20);
    ck_ok(0, read_log(0, 0x00));
    ck_assert_uint_eq(h.ram[DATA], 1);        /* version */
    ck_assert_uint_eq(h.ram[DATA + 0x20], 1); /* one page of log 10h */
    ck_assert_uint_eq(h.ram[DATA + 0x22], 0); /* nothing else */
    ck_ok(0, read_log(0, 0x10));
    ck_assert_uint_eq(h.ram[DATA], 0x80); /* NQ: no queued command failed */
    ck_assert_uint_eq(page_sum(), 0);
    /* a queued read past the end, tag 5 */
    struct prd two = {DATA, 1024};
    build(0, 5, 0x60, SECTORS - 1, 5 << 3, 2, NULL, &two, 1);
    wr(PX(0, 0x34), 1u << 5);
    wr(PX(0, CI), 1u << 5);
    pdm_blk_drain(h.pdm);
    ck_failed(0, rd(PX(0, IS)));
    void *st;
    size_t len;
    ck_assert_int_eq(pdm_save(h.pdm, &st, &len), CAP_OK);
    for (int round = 0; round < 2; round++) { /* as failed, then as loaded */
        ck_ok(0, read_log(0, 0x10));
        ck_assert_uint_eq(h.ram[DATA], 5);            /* the tag, NQ clear */
        ck_assert_uint_eq(h.ram[DATA + 2] & 0x01, 1); /* status: ERR */
        ck_assert_uint_eq(h.ram[DATA + 3], 0x14);     /* error: IDNF, ABRT */
        ck_assert_uint_eq(h.ram[DATA + 4], (SECTORS - 1) & 0xff);
        ck_assert_uint_eq(h.ram[DATA + 5], (SECTORS - 1) >> 8);
        ck_assert_uint_eq(h.ram[DATA + 12], 2); /* the sector count */
        ck_assert_uint_eq(page_sum(), 0);
        ck_ok(0, read_log(0, 0x10)); /* read once: gone */
        ck_assert_uint_eq(h.ram[DATA], 0x80);
        ck_assert_uint_eq(page_sum(), 0);
        ck_assert_int_eq(pdm_load(h.pdm, st, len), CAP_OK);
    }
    free(st);
    /* a COMRESET clears it */
    build(0, 3, 0x60, SECTORS - 1, 3 << 3, 2, NULL, &two, 1);
    wr(PX(0, 0x34), 1u << 3);
    wr(PX(0, CI), 1u << 3);
    pdm_blk_drain(h.pdm);
    ck_failed(0, rd(PX(0, IS)));
    wr(PX(0, CMD), 0);
    wr(PX(0, SCTL), 1);
    wr(PX(0, SCTL), 0);
    port_start(0);
    ck_ok(0, read_log(0, 0x10));
    ck_assert_uint_eq(h.ram[DATA], 0x80);
    /* refused: another log, another page, two pages */
    ck_failed(0, read_log(0, 0x11));
    ck_failed(0, read_log(0, 0x03));
    struct prd one = {DATA, 1024};
    ck_failed(0, run(0, 0x2f, 0x10 | 1u << 8, 1, &one, 1)); /* page 1 */
    ck_failed(0, run(0, 0x2f, 0x10, 2, &one, 1));
    ck_read_works(0);
}
END_TEST

START_TEST(test_readonly_and_slots)
{
    machine(true);
    struct prd wp = {DATA, 512};
    build(0, 0, 0x35, 0, 1, 0, NULL, &wp, 1);
    ck_failed(0, issue(0));
    /* several slots at once: all run, in order, CI ends clear */
    struct prd r = {DATA, 512};
    for (unsigned slot = 0; slot < 4; slot++) {
        build(0, slot, 0x25, slot, 1, 0, NULL, &r, 1);
        uint64_t ct = CT_OF(0) + 0x100 * (slot + 1);
        memcpy(h.ram + ct, h.ram + CT_OF(0), 0x90);
        put32(ct + 0x80, DATA + 512 * slot);
        put32(CLB_OF(0) + 32 * slot + 8, (uint32_t)ct);
    }
    wr(PX(0, CI), 0xf);
    pdm_blk_drain(h.pdm);
    ck_assert_uint_eq(rd(PX(0, CI)), 0);
    check_pattern(h.ram + DATA, 0, 2048);
}
END_TEST

START_TEST(test_atapi)
{
    machine(false);
    port_start(2);
    /* IDENTIFY DEVICE on the DVD drive fails with the ATAPI signature */
    ck_failed(2, run(2, 0xec, 0, 0, NULL, 0));
    struct prd id = {DATA, 512};
    ck_ok(2, run(2, 0xa1, 0, 0, &id, 1));
    ck_assert_uint_eq(*(uint16_t *)(h.ram + DATA), 0x85c0);
    /* INQUIRY by PIO (byte count limit in LBA mid/high) */
    uint8_t inq[12] = {0x12, 0, 0, 0, 36};
    build(2, 0, 0xa0, 36 << 8, 0, 0, inq, &id, 1);
    ck_ok(2, issue(2));
    ck_assert_int_eq(memcmp(h.ram + DATA + 8, "CAPSULE", 7), 0);
    ck_assert_uint_eq(get32(CLB_OF(2) + 4), 36);
    /* READ(10) of 3 sectors from LBA 4 by DMA */
    uint8_t rd10[12] = {0x28, 0, 0, 0, 0, 4, 0, 0, 3};
    struct prd d = {DATA, 3 * 2048};
    build(2, 0, 0xa0, 0, 0, 1, rd10, &d, 1);
    ck_ok(2, issue(2));
    check_pattern(h.ram + DATA, 4 * 2048, 3 * 2048);
    /* past the end: CHECK CONDITION, ILLEGAL REQUEST in the error's sense key */
    uint8_t past[12] = {0x28, 0, 0, 0, 0, 40, 0, 0, 1};
    build(2, 0, 0xa0, 0, 0, 1, past, &d, 1);
    ck_failed(2, issue(2));
    ck_assert_uint_eq(rd(PX(2, TFD)) >> 12 & 0xf, 5);

    /* the host ejects the DVD: TEST UNIT READY reports the unit attention,
     * then NOT READY; PREVENT MEDIUM REMOVAL makes the host's eject fail */
    uint8_t tur[12] = {0};
    ck_assert_int_eq(pdm_drive_set_medium(h.pdm, "ahci", 0, 2, NULL, NULL, false), CAP_OK);
    build(2, 0, 0xa0, 0, 0, 0, tur, NULL, 0);
    ck_failed(2, issue(2));
    ck_assert_uint_eq(rd(PX(2, TFD)) >> 12 & 0xf, 6); /* UNIT ATTENTION */
    build(2, 0, 0xa0, 0, 0, 0, tur, NULL, 0);
    ck_failed(2, issue(2));
    ck_assert_uint_eq(rd(PX(2, TFD)) >> 12 & 0xf, 2); /* NOT READY */
    ck_assert_int_eq(pdm_drive_set_medium(h.pdm, "ahci", 0, 2, iso_path, "iso", false), CAP_OK);
    build(2, 0, 0xa0, 0, 0, 0, tur, NULL, 0);
    ck_failed(2, issue(2)); /* the new medium's unit attention */
    build(2, 0, 0xa0, 0, 0, 0, tur, NULL, 0);
    ck_ok(2, issue(2));
    uint8_t lock[12] = {0x1e, 0, 0, 0, 1};
    build(2, 0, 0xa0, 0, 0, 0, lock, NULL, 0);
    ck_ok(2, issue(2));
    ck_assert_int_eq(pdm_drive_set_medium(h.pdm, "ahci", 0, 2, NULL, NULL, false),
                     CAP_E_ACCESSDENIED);
}
END_TEST

START_TEST(test_interrupt)
{
    machine(false);
    struct prd one = {DATA, 512};
    run(0, 0x25, 0, 1, &one, 1);
    ck_assert_int_eq(h.irq_level[IRQ], 0); /* GHC.IE off */
    wr(PX(0, IS), 0xffffffffu);
    wr(0x04, 0x2);       /* GHC.IE */
    wr(PX(0, IE), DHRS); /* PxIE */
    run(0, 0x25, 0, 1, &one, 1);
    ck_assert_int_eq(h.irq_level[IRQ], 1);
    ck_assert_uint_eq(rd(0x08), 1); /* HBA IS: port 0 */
    wr(PX(0, IS), DHRS);
    ck_assert_int_eq(h.irq_level[IRQ], 0);
    ck_assert_uint_eq(rd(0x08), 0);
    /* INTX_DISABLE masks it */
    cfg_w(DEVFN, 0x04, 2, 0x0406);
    run(0, 0x25, 0, 1, &one, 1);
    ck_assert_int_eq(h.irq_level[IRQ], 0);
    cfg_w(DEVFN, 0x04, 2, 0x0006);
    ck_assert_int_eq(h.irq_level[IRQ], 1);
    /* without bus mastering, an issued command waits until it is on */
    wr(PX(0, IS), 0xffffffffu);
    cfg_w(DEVFN, 0x04, 2, 0x0002);
    build(0, 0, 0x25, 0, 1, 0, NULL, &one, 1);
    wr(PX(0, CI), 1);
    pdm_blk_drain(h.pdm);
    ck_assert_uint_eq(rd(PX(0, CI)), 1);
    cfg_w(DEVFN, 0x04, 2, 0x0006);
    pdm_blk_drain(h.pdm);
    ck_assert_uint_eq(rd(PX(0, CI)), 0);
}
END_TEST

START_TEST(test_hostile_pointers)
{
    machine(false);
    struct prd one = {DATA, 4096};
    /* command table outside RAM */
    build(0, 0, 0x25, 0, 8, 0, NULL, &one, 1);
    put32(CLB_OF(0) + 8, 0xf0000000u);
    ck_failed(0, issue(0));
    /* data buffer outside RAM; a PRDT pointer (PRDTL huge) running out of RAM */
    struct prd out = {HARNESS_RAM - 512, 4096};
    ck_failed(0, run(0, 0x25, 0, 8, &out, 1));
    build(0, 0, 0x25, 0, 8, 0, NULL, &one, 1);
    put32(CLB_OF(0) + 12, 0x1); /* CTBA upper half: beyond 4 GiB */
    ck_failed(0, issue(0));
    /* PRDTL 0 with data; a PRDT shorter than the data */
    ck_failed(0, run(0, 0x25, 0, 8, NULL, 0));
    struct prd short_prd = {DATA, 1024};
    ck_failed(0, run(0, 0x25, 0, 8, &short_prd, 1));
    /* a FIS of the wrong type, a bad length */
    build(0, 0, 0x25, 0, 8, 0, NULL, &one, 1);
    h.ram[CT_OF(0)] = 0x34;
    ck_failed(0, issue(0));
    build(0, 0, 0x25, 0, 8, 0, NULL, &one, 1);
    put32(CLB_OF(0), 1u | 1u << 16);
    ck_failed(0, issue(0));
    /* 4096 two-byte PRDs for 8 KiB: a long table works */
    build(0, 0, 0x25, 0, 16, 0, NULL, NULL, 0);
    uint64_t table = 0x20000;
    memcpy(h.ram + table - 0x80, h.ram + CT_OF(0), 0x80);
    put32(CLB_OF(0) + 8, (uint32_t)(table - 0x80));
    put32(CLB_OF(0), 5u | 4096u << 16);
    long_prdt(table, 4096, 2);
    memset(h.ram + DATA, 0, 8192);
    ck_ok(0, issue(0));
    check_pattern(h.ram + DATA, 0, 8192);
    /* PRDTL 65535 of one-byte entries, the table running out of RAM after
     * 4096 of them, for 64 KiB of data: bounded, an error */
    table = HARNESS_RAM - 4096 * 16;
    memcpy(h.ram + table - 0x80, h.ram + CT_OF(0), 0x80);
    h.ram[table - 0x80 + 12] = 128; /* 128 sectors */
    put32(CLB_OF(0) + 8, (uint32_t)(table - 0x80));
    put32(CLB_OF(0), 5u | 0xffffu << 16);
    long_prdt(table, 4096, 1);
    ck_failed(0, issue(0));
    /* command list outside RAM */
    wr(PX(0, CMD), FRE);
    wr(PX(0, CLB), 0xfff00000u);
    wr(PX(0, CMD), FRE | ST);
    ck_failed(0, issue(0));
    wr(PX(0, CLB), CLB_OF(0));
    /* FIS area outside RAM: the FIS is lost, not the status */
    wr(PX(0, FB), 0xfff00000u);
    ck_failed(0, run(0, 0x5c, 0, 0, NULL, 0));
    wr(PX(0, FB), FB_OF(0));
    ck_read_works(0);
}
END_TEST

START_TEST(test_empty_port_and_resets)
{
    machine(false);
    port_start(1); /* no drive */
    ck_assert_uint_eq(rd(PX(1, TFD)) & 0xff, 0x7f);
    struct prd one = {DATA, 512};
    ck_failed(1, run(1, 0x25, 0, 1, &one, 1));

    port_start(0);
    /* HBA reset with a command in flight (no drain before it) */
    struct prd big = {0x80000, 256 * 512};
    build(0, 0, 0x25, 0, 256, 0, NULL, &big, 1);
    wr(PX(0, CI), 1);
    wr(0x04, 0x1); /* GHC.HR */
    ck_assert_uint_eq(rd(0x04), 0x80000000u);
    pdm_blk_drain(h.pdm);
    ck_assert_uint_eq(rd(PX(0, CI)), 0);
    ck_assert_uint_eq(rd(PX(0, CMD)) & (ST | CR | FRE), 0);
    ck_assert_uint_eq(rd(PX(0, SIG)), 0x101);
    port_start(0);
    ck_read_works(0);
    /* ST cleared with a command in flight */
    build(0, 0, 0x25, 0, 256, 0, NULL, &big, 1);
    wr(PX(0, CI), 1);
    wr(PX(0, CMD), FRE);
    pdm_blk_drain(h.pdm);
    ck_assert_uint_eq(rd(PX(0, CI)), 0);
    ck_assert_uint_eq(rd(PX(0, TFD)) & 0x88, 0);
    wr(PX(0, CMD), FRE | ST);
    ck_read_works(0);
    /* COMRESET: DET 1 takes the link down, 0 brings the signature back */
    wr(PX(0, SCTL), 1);
    ck_assert_uint_eq(rd(PX(0, SSTS)), 0);
    wr(PX(0, IS), 0xffffffffu);
    wr(PX(0, SCTL), 0);
    ck_assert_uint_eq(rd(PX(0, SSTS)), 0x123);
    ck_assert_uint_eq(rd(PX(0, IS)) & DHRS, DHRS);
    ck_assert_uint_eq(rd(PX(0, TFD)) & 0xff, 0x50);
    ck_read_works(0);
    /* the machine's reset: everything back to power-on */
    pdm_reset(h.pdm); /* the bus too: BAR5 and the command register start over */
    cfg_w(DEVFN, 0x24, 4, (uint32_t)ABAR);
    cfg_w(DEVFN, 0x04, 2, 0x0006);
    ck_assert_uint_eq(rd(PX(0, CMD)) & (ST | FRE), 0);
    ck_assert_uint_eq(rd(PX(0, CLB)), 0);
    port_start(0);
    ck_read_works(0);
}
END_TEST

START_TEST(test_save_load)
{
    machine(false);
    port_start(2);
    wr(0x04, 0x2);
    wr(PX(0, IE), 0x7f);
    struct prd one = {DATA, 512};
    ck_failed(2, run(2, 0xec, 0, 0, NULL, 0)); /* the DVD drive's sense and TFD */
    run(0, 0x25, 3, 1, &one, 1);               /* DHRS pending: the line is up */
    ck_assert_int_eq(h.irq_level[IRQ], 1);
    void *st;
    size_t len;
    ck_assert_int_eq(pdm_save(h.pdm, &st, &len), CAP_OK);
    /* change what was saved: registers, a halted port, the line */
    ck_failed(0, run(0, 0x5c, 0, 0, NULL, 0));
    wr(PX(0, IS), 0xffffffffu);
    wr(PX(0, IE), 0);
    wr(PX(0, CMD), 0);
    wr(PX(0, CLB), 0x70000);
    ck_assert_int_eq(h.irq_level[IRQ], 0);
    ck_assert_int_eq(pdm_load(h.pdm, st, len), CAP_OK);
    ck_assert_uint_eq(rd(PX(0, CLB)), CLB_OF(0));
    ck_assert_uint_eq(rd(PX(0, IE)), 0x7f);
    ck_assert_uint_eq(rd(PX(0, IS)) & DHRS, DHRS);
    ck_assert_uint_eq(rd(PX(0, CMD)) & (ST | FRE | CR | FR), ST | FRE | CR | FR);
    ck_assert_uint_eq(rd(PX(2, TFD)) & 0xff, 0x41);
    ck_assert_int_eq(h.irq_level[IRQ], 1);
    ck_read_works(0);
    /* a truncated stream fails, and the controller still works from reset */
    ck_assert_int_ne(pdm_load(h.pdm, st, len - 5), CAP_OK);
    free(st);
    port_start(0);
    ck_read_works(0);
}
END_TEST

/* A plausible command with random fields in a random slot of port p:
 * mostly well-formed FISes of the commands the port knows, random
 * lengths, PRDs in and out of RAM, sometimes ST toggled right after. */
static void random_command(unsigned p)
{
    static const uint8_t cmds[] = {0x25, 0x35, 0xec, 0xa1, 0xa0, 0x60, 0x61, 0xea,
                                   0xef, 0x20, 0x30, 0xc8, 0x08, 0x90, 0x2f};
    unsigned slot = (unsigned)rand() % 32;
    uint64_t hdr = CLB_OF(p) + 32 * slot, ct = CT_OF(p);
    put32(hdr,
          (uint32_t)(rand() % 20) | (uint32_t)(rand() % 4) << 5 | (uint32_t)(rand() % 6) << 16);
    put32(hdr + 8, (uint32_t)ct);
    put32(hdr + 12, 0);
    uint8_t *f = h.ram + ct;
    f[0] = rand() % 8 ? 0x27 : (uint8_t)rand();
    f[1] = rand() % 8 ? 0x80 : (uint8_t)rand();
    f[2] = cmds[(unsigned)rand() % sizeof(cmds)];
    for (int k = 3; k < 16; k++)
        f[k] = rand() % 2 ? (uint8_t)rand() : 0;
    f[0x40] = (uint8_t)(rand() % 4 ? 0x28 : rand()); /* mostly READ(10) */
    for (unsigned e = 0; e < 6; e++) {
        put32(ct + 0x80 + 16 * e,
              rand() % 4 ? DATA + (uint32_t)(rand() % 0x40000) : (uint32_t)rand());
        put32(ct + 0x84 + 16 * e, rand() % 16 ? 0 : 1);
        put32(ct + 0x8c + 16 * e, (uint32_t)rand() & (rand() % 2 ? PRD_DBC_MASK : 0x1fff));
    }
    if (rand() % 2)
        wr(PX(p, 0x34), 1u << slot); /* SACT */
    wr(PX(p, CI), 1u << slot);
    if (rand() % 4 == 0) {
        wr(PX(p, CMD), FRE);
        wr(PX(p, CMD), FRE | ST);
    }
}

START_TEST(test_random_commands)
{
    machine(false);
    port_start(2);
    wr(0x04, 0x2);
    srand(4242);
    for (unsigned i = 0; i < 2000; i++) {
        random_command(rand() % 3 == 0 ? 2 : 0);
        if (i % 16 == 0)
            pdm_blk_drain(h.pdm);
    }
    pdm_blk_drain(h.pdm);
    wr(0x04, 0x1);
    port_start(0);
    ck_read_works(0);
}
END_TEST

START_TEST(test_random_traffic)
{
    machine(false);
    srand(12345);
    for (unsigned i = 0; i < 20000; i++) {
        unsigned off = (unsigned)rand() % 0x300 & ~3u;
        uint32_t v = (uint32_t)rand() << 1 ^ (uint32_t)rand();
        if (off == 0x04 && (v & 1))
            v &= ~1u; /* resets are tested above; keep state building up */
        if ((off & 0x7f) == CLB || (off & 0x7f) == FB)
            v = (v & 0xfffff) | (rand() % 8 ? 0 : 0xf0000000u);
        if (rand() % 4 == 0) /* garbage in guest memory where commands point */
            h.ram[(unsigned)rand() % 0x40000] = (uint8_t)rand();
        wr(off, v);
        if (i % 64 == 0)
            pdm_blk_drain(h.pdm);
    }
    pdm_blk_drain(h.pdm);
    wr(0x04, 0x1);
    for (unsigned p = 0; p < 3; p++)
        memset(h.ram + CLB_OF(p), 0, 0x1000);
    port_start(0);
    ck_read_works(0);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("ahci");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_identity_registers);
    tcase_add_test(tc, test_identify_read_write_flush);
    tcase_add_test(tc, test_readonly_and_slots);
    tcase_add_test(tc, test_ncq);
    tcase_add_test(tc, test_read_log);
    tcase_add_test(tc, test_atapi);
    tcase_add_test(tc, test_interrupt);
    tcase_add_test(tc, test_hostile_pointers);
    tcase_add_test(tc, test_empty_port_and_resets);
    tcase_add_test(tc, test_save_load);
    tcase_add_test(tc, test_random_commands);
    tcase_add_test(tc, test_random_traffic);
    return h_run_case("dev-ahci", tc);
}
