/*
 * tests/unit/devices/test_pci.c - the PCI bus: configuration space rules
 * (pci_config.c, linked in directly: masks, write-1-to-clear, hooks, odd
 * offsets and sizes, absent functions, reset) and the device plugin through
 * its ports (configuration mechanism #1 as Linux probes it, the i440FX
 * host bridge's registers, reset control at 0xCF9, saved state, reset, a
 * hostile guest's accesses).
 */
#include <check.h>
#include <stdlib.h>

#include "../../../plugins/devices/pci/pci_config.h"
#include "harness.h"

#define ADDR 0xcf8
#define DATA 0xcfc
#define RCR  0xcf9

static struct harness h;

static void setup(void)
{
    h_setup(&h);
    ck_assert_int_eq(h_add(&h, "pci", NULL, 0), CAP_OK);
}

static void teardown(void)
{
    h_teardown(&h);
}

static uint32_t conf1(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
    return 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc);
}

static uint32_t cfg_read(unsigned dev, unsigned reg, unsigned size)
{
    h_out(&h, ADDR, 4, conf1(0, dev, 0, reg));
    return h_in(&h, (uint16_t)(DATA + (reg & 3)), size);
}

static void cfg_write(unsigned dev, unsigned reg, unsigned size, uint32_t v)
{
    h_out(&h, ADDR, 4, conf1(0, dev, 0, reg));
    h_out(&h, (uint16_t)(DATA + (reg & 3)), size, v);
}

/* ---- pci_config.c on its own ----------------------------------------------- */

static int hook_writes, hook_reads;
static unsigned hook_off, hook_size;
static uint32_t hook_val;

static void hook_read(struct pci_function *fn, unsigned off, unsigned size, uint32_t *val)
{
    hook_reads++;
    if (off == 0x40 && size == 4)
        *val = 0x12345678;
}

static void hook_write(struct pci_function *fn, unsigned off, unsigned size, uint32_t val)
{
    hook_writes++;
    hook_off = off;
    hook_size = size;
    hook_val = val;
}

static const struct pci_function_ops hook_ops = {.read = hook_read, .write = hook_write};

START_TEST(test_config_masks)
{
    static struct pci_function f;
    pci_fn_init(&f, "test", 0x1234, 0x5678, 0x9a, 0x020000);
    ck_assert_uint_eq(pci_fn_read(&f, PCI_VENDOR_ID, 4), 0x56781234);
    ck_assert_uint_eq(pci_fn_read(&f, PCI_REVISION_ID, 4), 0x0200009a);
    /* identity is read-only */
    pci_fn_write(&f, PCI_VENDOR_ID, 4, 0);
    ck_assert_uint_eq(pci_fn_read(&f, PCI_VENDOR_ID, 4), 0x56781234);
    /* command: only the writable bits stick */
    pci_fn_write(&f, PCI_COMMAND, 2, 0xffff);
    ck_assert_uint_eq(pci_fn_read(&f, PCI_COMMAND, 2), 0x0547);
    /* status error bits: write 1 to clear, 0 leaves them */
    pci_fn_set16(&f, PCI_STATUS, 0xf910);
    pci_fn_write(&f, PCI_STATUS, 2, 0x0000);
    ck_assert_uint_eq(pci_fn_read(&f, PCI_STATUS, 2), 0xf910);
    pci_fn_write(&f, PCI_STATUS, 2, 0x8100);
    ck_assert_uint_eq(pci_fn_read(&f, PCI_STATUS, 2), 0x7810);
    /* odd sizes and offsets: a word at 0x3b covers 3b (read-only) and 3c */
    pci_fn_write(&f, 0x3b, 2, 0xabcd);
    ck_assert_uint_eq(pci_fn_read(&f, PCI_INTERRUPT_LINE, 1), 0xab);
    ck_assert_uint_eq(pci_fn_read(&f, 0x3b, 1), 0);
    /* past the end: bytes read 0xff, writes stop at 255 */
    ck_assert_uint_eq(pci_fn_read(&f, 0xfe, 4), 0xffff0000);
    ck_assert_uint_eq(pci_fn_read(&f, 0x100, 4), 0xffffffff);
    ck_assert_uint_eq(pci_fn_read(&f, 0xffffffffu, 4), 0xffffffff);
    f.wmask[0xff] = 0xff;
    pci_fn_write(&f, 0xff, 4, 0x11223344);
    ck_assert_uint_eq(pci_fn_read(&f, 0xff, 1), 0x44);
    pci_fn_write(&f, 0x100, 4, 0x55);
    pci_fn_write(&f, 0xfffffff0u, 4, 0x55);
    /* a size no port access has is taken as 4, never trusted */
    ck_assert_uint_eq(pci_fn_read(&f, PCI_VENDOR_ID, 3), 0x56781234);
    ck_assert_uint_eq(pci_fn_read(&f, PCI_VENDOR_ID, 1000), 0x56781234);
}
END_TEST

START_TEST(test_config_hooks)
{
    static struct pci_function f;
    pci_fn_init(&f, "hooked", 0x1234, 0x0001, 0, 0x010100);
    f.ops = &hook_ops;
    f.wmask[0x44] = 0x0f;
    hook_writes = hook_reads = 0;
    ck_assert_uint_eq(pci_fn_read(&f, 0x40, 4), 0x12345678);
    ck_assert_uint_eq(pci_fn_read(&f, 0x44, 1), 0);
    ck_assert_int_eq(hook_reads, 2);
    pci_fn_write(&f, 0x44, 1, 0xff);
    ck_assert_int_eq(hook_writes, 1);
    ck_assert_uint_eq(hook_off, 0x44);
    ck_assert_uint_eq(hook_size, 1);
    ck_assert_uint_eq(hook_val, 0xff);                 /* as the guest wrote it */
    ck_assert_uint_eq(pci_fn_read(&f, 0x44, 1), 0x0f); /* stored masked, before the hook */
    pci_fn_write(&f, 0x200, 4, 1);                     /* out of range: no hook */
    ck_assert_int_eq(hook_writes, 1);
}
END_TEST

/* What a device may declare (pdmpci.h): the owner's mistakes are refused. */
START_TEST(test_declare_bars)
{
    static struct pci_function f;
    int u;
    pci_fn_init(&f, "bars", 0x1234, 0x0001, 0, 0xff0000);
    ck_assert_int_eq(pci_fn_declare_bar(&f, 6, PCI_BAR_IO, 16, &u), CAP_E_INVALIDARG);
    ck_assert_int_eq(pci_fn_declare_bar(&f, 0, PCI_BAR_IO, 2, &u), CAP_E_INVALIDARG);
    ck_assert_int_eq(pci_fn_declare_bar(&f, 0, PCI_BAR_IO, 512, &u), CAP_E_INVALIDARG);
    ck_assert_int_eq(pci_fn_declare_bar(&f, 0, PCI_BAR_IO, 24, &u), CAP_E_INVALIDARG);
    ck_assert_int_eq(pci_fn_declare_bar(&f, 0, PCI_BAR_IO | PCI_BAR_PREFETCH, 16, &u),
                     CAP_E_INVALIDARG);
    ck_assert_int_eq(pci_fn_declare_bar(&f, 0, 0x10, 4096, &u), CAP_E_INVALIDARG);
    ck_assert_int_eq(pci_fn_declare_bar(&f, 0, 0, 8, &u), CAP_E_INVALIDARG);
    ck_assert_int_eq(pci_fn_declare_bar(&f, 0, 0, 1ull << 32, &u), CAP_E_INVALIDARG);
    ck_assert_int_eq(pci_fn_declare_bar(&f, 5, PCI_BAR_MEM64, 4096, &u), CAP_E_INVALIDARG);
    ck_assert_int_eq(pci_fn_declare_bar(&f, 1, PCI_BAR_MEM64, 1ull << 33, &u), CAP_OK);
    ck_assert_int_eq(pci_fn_declare_bar(&f, 2, PCI_BAR_IO, 16, &u), CAP_E_INVALIDARG); /* 1's */
    ck_assert_int_eq(pci_fn_declare_bar(&f, 0, PCI_BAR_MEM64, 4096, &u), CAP_E_INVALIDARG);
    ck_assert_int_eq(pci_fn_declare_bar(&f, 1, PCI_BAR_IO, 16, &u), CAP_E_INVALIDARG); /* twice */
    ck_assert_int_eq(pci_fn_declare_rom(&f, 1024, &u), CAP_E_INVALIDARG);
    ck_assert_int_eq(pci_fn_declare_rom(&f, 4096, &u), CAP_OK);
    ck_assert_int_eq(pci_fn_declare_rom(&f, 4096, &u), CAP_E_INVALIDARG);
    /* an 8 GiB BAR: the low dword has no address bits */
    pci_fn_write(&f, 0x14, 4, 0xffffffffu);
    pci_fn_write(&f, 0x18, 4, 0xffffffffu);
    ck_assert_uint_eq(pci_fn_read(&f, 0x14, 4), 0x00000004);
    ck_assert_uint_eq(pci_fn_read(&f, 0x18, 4), 0xfffffffe);
}
END_TEST

START_TEST(test_config_bus)
{
    static struct pci_bus bus;
    static struct pci_function f0, f1, f9;
    memset(&bus, 0, sizeof(bus));
    pci_fn_init(&f0, "f0", 0x8086, 0x1111, 0, 0x060100);
    pci_fn_init(&f1, "f1", 0x8086, 0x2222, 0, 0x010180);
    pci_fn_init(&f9, "f9", 0x8086, 0x3333, 0, 0x020000);
    ck_assert_int_eq(pci_bus_attach(&bus, PCI_DEVFN(1, 0), &f0), CAP_OK);
    ck_assert_int_eq(pci_bus_attach(&bus, PCI_DEVFN(1, 1), &f1), CAP_OK);
    ck_assert_int_eq(pci_bus_attach(&bus, PCI_DEVFN(1, 1), &f9), CAP_E_ALREADY_REGISTERED);
    ck_assert_int_eq(pci_bus_attach(&bus, 256, &f9), CAP_E_INVALIDARG);
    ck_assert_int_eq(pci_bus_attach(&bus, 0, NULL), CAP_E_INVALIDARG);
    /* function 1 of device 2 without its function 0: not there */
    ck_assert_int_eq(pci_bus_attach(&bus, PCI_DEVFN(2, 1), &f9), CAP_OK);
    ck_assert_ptr_null(pci_bus_find(&bus, 0, PCI_DEVFN(2, 1)));
    ck_assert_uint_eq(pci_bus_read(&bus, 0, PCI_DEVFN(2, 1), 0, 4), 0xffffffff);
    ck_assert_uint_eq(pci_bus_read(&bus, 0, PCI_DEVFN(1, 1), 2, 2), 0x2222);
    /* absent: all-ones of the access's size; other buses do not exist */
    ck_assert_uint_eq(pci_bus_read(&bus, 0, PCI_DEVFN(5, 0), 0, 1), 0xff);
    ck_assert_uint_eq(pci_bus_read(&bus, 0, PCI_DEVFN(5, 0), 0, 2), 0xffff);
    ck_assert_uint_eq(pci_bus_read(&bus, 1, PCI_DEVFN(1, 0), 0, 4), 0xffffffff);
    ck_assert_ptr_null(pci_bus_find(&bus, 0, 256));
    pci_bus_write(&bus, 0, PCI_DEVFN(5, 0), PCI_COMMAND, 2, 7); /* dropped */
    /* reset: back to the space at attach */
    pci_bus_write(&bus, 0, PCI_DEVFN(1, 0), PCI_COMMAND, 2, 7);
    ck_assert_uint_eq(pci_bus_read(&bus, 0, PCI_DEVFN(1, 0), PCI_COMMAND, 2), 7);
    pci_bus_reset(&bus);
    ck_assert_uint_eq(pci_bus_read(&bus, 0, PCI_DEVFN(1, 0), PCI_COMMAND, 2), 0);
}
END_TEST

/* ---- the device through its ports ------------------------------------------- */

/* arch/x86/pci/direct.c's probes, in order: type 1 must be found (the
 * address register holds 0x80000000 and a host bridge answers at 00:00.0),
 * and type 2's check (bytes at 0xCF8 and 0xCFA reading back 0) must fail. */
START_TEST(test_linux_probe)
{
    h_out(&h, 0xcfb, 1, 0x01);
    uint32_t old = h_in(&h, ADDR, 4);
    h_out(&h, ADDR, 4, 0x80000000u);
    ck_assert_uint_eq(h_in(&h, ADDR, 4), 0x80000000u);
    h_out(&h, ADDR, 4, old);
    ck_assert_uint_eq(cfg_read(0, PCI_CLASS_DEVICE, 2), 0x0600);
    ck_assert_uint_eq(cfg_read(0, PCI_VENDOR_ID, 2), 0x8086);
    /* type 2's check */
    h_out(&h, 0xcfb, 1, 0x00);
    h_out(&h, 0xcf8, 1, 0x00);
    h_out(&h, 0xcfa, 1, 0x00);
    ck_assert(h_in(&h, 0xcf8, 1) != 0 || h_in(&h, 0xcfa, 1) != 0);
    /* reserved bits of CONFIG_ADDRESS read 0 */
    h_out(&h, ADDR, 4, 0xffffffffu);
    ck_assert_uint_eq(h_in(&h, ADDR, 4), 0x80fffffcu);
    ck_assert_int_eq(h.resets, 0);
}
END_TEST

START_TEST(test_host_bridge)
{
    ck_assert_uint_eq(cfg_read(0, PCI_VENDOR_ID, 4), 0x12378086);
    ck_assert_uint_eq(cfg_read(0, PCI_REVISION_ID, 4), 0x06000002);
    ck_assert_uint_eq(cfg_read(0, PCI_HEADER_TYPE, 1), 0);
    ck_assert_uint_eq(cfg_read(0, PCI_COMMAND, 4), 0x02800006);
    /* every size at every offset of the data port */
    ck_assert_uint_eq(cfg_read(0, 1, 1), 0x80);
    ck_assert_uint_eq(cfg_read(0, 2, 2), 0x1237);
    ck_assert_uint_eq(cfg_read(0, 3, 1), 0x12);
    ck_assert_uint_eq(cfg_read(0, 1, 2), 0x3780);
    /* a word at 0xCFF straddles the range: IOM splits it, the byte past
     * the data port is nobody's */
    ck_assert_uint_eq(cfg_read(0, 3, 2), 0xff12);
    /* command: memory and bus master hardwired, PERR/SERR writable */
    cfg_write(0, PCI_COMMAND, 2, 0xffff);
    ck_assert_uint_eq(cfg_read(0, PCI_COMMAND, 2), 0x0146);
    cfg_write(0, PCI_COMMAND, 2, 0);
    ck_assert_uint_eq(cfg_read(0, PCI_COMMAND, 2), 0x0006);
    /* latency timer bits 7-3; PAM registers keep what is written */
    cfg_write(0, PCI_LATENCY_TIMER, 1, 0xff);
    ck_assert_uint_eq(cfg_read(0, PCI_LATENCY_TIMER, 1), 0xf8);
    cfg_write(0, 0x58, 4, 0xffffffff);
    ck_assert_uint_eq(cfg_read(0, 0x58, 4), 0x33333000);
    cfg_write(0, 0x5c, 4, 0x11111111);
    ck_assert_uint_eq(cfg_read(0, 0x5c, 4), 0x11111111);
    /* nothing else: identity, BARs, interrupt line */
    cfg_write(0, PCI_VENDOR_ID, 4, 0);
    cfg_write(0, 0x10, 4, 0xffffffff);
    cfg_write(0, PCI_INTERRUPT_LINE, 1, 5);
    ck_assert_uint_eq(cfg_read(0, PCI_VENDOR_ID, 4), 0x12378086);
    ck_assert_uint_eq(cfg_read(0, 0x10, 4), 0);
    ck_assert_uint_eq(cfg_read(0, PCI_INTERRUPT_LINE, 1), 0);
}
END_TEST

START_TEST(test_absent_and_disabled)
{
    /* every other function, device and bus: no device */
    ck_assert_uint_eq(cfg_read(2, PCI_VENDOR_ID, 4), 0xffffffff);
    ck_assert_uint_eq(cfg_read(31, PCI_VENDOR_ID, 2), 0xffff);
    h_out(&h, ADDR, 4, conf1(0, 0, 1, 0));
    ck_assert_uint_eq(h_in(&h, DATA, 4), 0xffffffff);
    h_out(&h, ADDR, 4, conf1(1, 0, 0, 0));
    ck_assert_uint_eq(h_in(&h, DATA, 4), 0xffffffff);
    h_out(&h, DATA, 4, 0); /* dropped */
    /* the enable bit clear: reads all-ones, writes dropped */
    h_out(&h, ADDR, 4, 0x00000004);
    ck_assert_uint_eq(h_in(&h, DATA, 4), 0xffffffff);
    h_out(&h, DATA, 2, 0);
    ck_assert_uint_eq(cfg_read(0, PCI_COMMAND, 2), 0x0006);
    /* byte and word accesses to the address register do not touch it */
    h_out(&h, ADDR, 4, 0x80000000u);
    h_out(&h, ADDR, 2, 0x1234);
    h_out(&h, 0xcfa, 1, 0x55);
    ck_assert_uint_eq(h_in(&h, ADDR, 4), 0x80000000u);
    ck_assert_uint_eq(h_in(&h, ADDR, 2), 0xffff);
}
END_TEST

/* Linux's reboot=pci: read 0xCF9, write bit 1, then bits 1-3. */
START_TEST(test_reset_control)
{
    ck_assert_uint_eq(h_in(&h, RCR, 1), 0);
    h_out(&h, RCR, 1, 0x02);
    ck_assert_uint_eq(h_in(&h, RCR, 1), 0x02);
    ck_assert_int_eq(h.resets, 0);
    h_out(&h, RCR, 1, 0x0e);
    ck_assert_int_eq(h.resets, 1);
    ck_assert(h_logged(&h, "pci0: hard reset through port 0xcf9"));
    /* a word over 0xCF8-0xCF9 is not the reset register */
    h_out(&h, ADDR, 2, 0x0400);
    ck_assert_int_eq(h.resets, 1);
}
END_TEST

START_TEST(test_reset_save_load)
{
    void *buf = NULL;
    size_t len = 0;
    cfg_write(0, PCI_COMMAND, 2, 0x0100);
    cfg_write(0, 0x5a, 1, 0x33);
    h_out(&h, RCR, 1, 0x02);
    h_out(&h, ADDR, 4, conf1(0, 0, 0, 0x58));
    ck_assert_int_eq(pdm_save(h.pdm, &buf, &len), CAP_OK);
    pdm_reset(h.pdm);
    ck_assert_uint_eq(h_in(&h, ADDR, 4), 0);
    ck_assert_uint_eq(h_in(&h, RCR, 1), 0);
    ck_assert_uint_eq(cfg_read(0, PCI_COMMAND, 2), 0x0006);
    ck_assert_uint_eq(cfg_read(0, 0x5a, 1), 0);
    ck_assert_int_eq(pdm_load(h.pdm, buf, len), CAP_OK);
    ck_assert_uint_eq(h_in(&h, ADDR, 4), conf1(0, 0, 0, 0x58));
    ck_assert_uint_eq(h_in(&h, RCR, 1), 0x02);
    ck_assert_uint_eq(cfg_read(0, PCI_COMMAND, 2), 0x0106);
    ck_assert_uint_eq(cfg_read(0, 0x5a, 1), 0x33);
    ck_assert_int_eq(pdm_load(h.pdm, buf, len - 1), CAP_E_INVALIDARG); /* truncated */
    free(buf);
    /* the same through the SSM stream's named fields */
    h_ssm_save(&h);
    pdm_reset(h.pdm);
    ck_assert_uint_eq(cfg_read(0, 0x5a, 1), 0);
    ck_assert_int_eq(h_ssm_load(&h), CAP_OK);
    ck_assert_uint_eq(h_in(&h, ADDR, 4), conf1(0, 0, 0, 0x58));
    ck_assert_uint_eq(h_in(&h, RCR, 1), 0x02);
    ck_assert_uint_eq(cfg_read(0, PCI_COMMAND, 2), 0x0106);
    ck_assert_uint_eq(cfg_read(0, 0x5a, 1), 0x33);
}
END_TEST

/* A state saved before PIIX3 (version 1: the host bridge's space alone)
 * still loads: PDM's record is u32 name length, name, u32 version, u64
 * length, data. */
START_TEST(test_load_version1)
{
    uint8_t rec[4 + 4 + 4 + 8 + 261];
    uint32_t nl = 4, ver = 1;
    uint64_t len = 261;
    memcpy(rec, &nl, 4);
    memcpy(rec + 4, "pci0", 4);
    memcpy(rec + 8, &ver, 4);
    memcpy(rec + 12, &len, 8);
    uint8_t *d = rec + 20;
    uint32_t addr = conf1(0, 0, 0, 0x58);
    memcpy(d, &addr, 4);
    d[4] = 0x02;
    for (unsigned r = 0; r < 256; r += 4) {
        uint32_t v = cfg_read(0, r, 4);
        memcpy(d + 5 + r, &v, 4);
    }
    d[5 + PCI_COMMAND + 1] = 0x01; /* SERR on */
    d[5 + 0x5a] = 0x33;
    ck_assert_int_eq(pdm_load(h.pdm, rec, sizeof(rec)), CAP_OK);
    ck_assert_uint_eq(h_in(&h, ADDR, 4), conf1(0, 0, 0, 0x58));
    ck_assert_uint_eq(h_in(&h, RCR, 1), 0x02);
    ck_assert_uint_eq(cfg_read(0, PCI_COMMAND, 2), 0x0106);
    ck_assert_uint_eq(cfg_read(0, 0x5a, 1), 0x33);
    ck_assert_uint_eq(cfg_read(1, PCI_VENDOR_ID, 4), 0x70008086); /* PIIX3 at power-on */
    ck_assert_uint_eq(cfg_read(1, 0x60, 4), 0x80808080);
    ver = 3; /* a version this build does not know */
    memcpy(rec + 8, &ver, 4);
    ck_assert_int_ne(pdm_load(h.pdm, rec, sizeof(rec)), CAP_OK);
}
END_TEST

/* A saved state is input: what no guest could write stays the hardware's. */
START_TEST(test_load_hostile_state)
{
    void *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(pdm_save(h.pdm, &buf, &len), CAP_OK);
    /* the device's record: header (addr, rcr, count 2), then per function
     * devfn, INTx level, 256 bytes: spoil all but the count and devfns */
    ck_assert_uint_ge(len, 6 + 2 * 258);
    uint8_t *p = (uint8_t *)buf + len - (6 + 2 * 258);
    ck_assert_uint_eq(p[5], 2);
    memset(p, 0xff, 5);
    memset(p + 7, 0xff, 257);
    memset(p + 6 + 258 + 1, 0xff, 257);
    ck_assert_int_eq(pdm_load(h.pdm, buf, len), CAP_OK);
    ck_assert_uint_eq(h_in(&h, ADDR, 4), 0x80fffffcu);
    ck_assert_uint_eq(h_in(&h, RCR, 1), 0x02);
    ck_assert_uint_eq(cfg_read(0, PCI_VENDOR_ID, 4), 0x12378086);
    ck_assert_uint_eq(cfg_read(0, PCI_COMMAND, 2), 0x0146);
    free(buf);
}
END_TEST

/* Every port of the device, every size, a spread of values, with the
 * address register pointing anywhere: no failure, and the identity holds. */
START_TEST(test_hostile_sweep)
{
    static const uint32_t vals[] = {0,           0xffffffffu, 0x80000000u,
                                    0x8000fffcu, 0x7fffffffu, 0x0a0a0a0a};
    static const unsigned sizes[] = {1, 2, 4};
    for (unsigned a = 0; a < 6; a++)
        for (unsigned p = 0xcf8; p < 0xd00; p++)
            for (unsigned s = 0; s < 3; s++) {
                if (p == RCR && (vals[a] & 4))
                    continue; /* a reset request, tested above */
                h_out(&h, ADDR, 4, vals[a] | 0x80000000u);
                h_out(&h, (uint16_t)p, sizes[s], vals[(a + s) % 6] & ~4u);
                (void)h_in(&h, (uint16_t)p, sizes[s]);
            }
    ck_assert_uint_eq(cfg_read(0, PCI_VENDOR_ID, 4), 0x12378086);
    ck_assert_uint_eq(cfg_read(0, PCI_CLASS_DEVICE, 2), 0x0600);
    ck_assert_int_eq(h.resets, 0);
}
END_TEST

START_TEST(test_config_keys)
{
    struct harness h2;
    h_setup(&h2);
    struct pdm_cfg_kv kv[] = {{"iobase", "0xcf8"}};
    ck_assert_int_ne(h_add(&h2, "pci", kv, 1), CAP_OK); /* the device takes no keys */
    h_teardown(&h2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dev-pci");
    TCase *cfg = tcase_create("config-space");
    tcase_add_test(cfg, test_config_masks);
    tcase_add_test(cfg, test_config_hooks);
    tcase_add_test(cfg, test_config_bus);
    tcase_add_test(cfg, test_declare_bars);
    suite_add_tcase(s, cfg);
    TCase *tc = tcase_create("pci");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_linux_probe);
    tcase_add_test(tc, test_host_bridge);
    tcase_add_test(tc, test_absent_and_disabled);
    tcase_add_test(tc, test_reset_control);
    tcase_add_test(tc, test_reset_save_load);
    tcase_add_test(tc, test_load_hostile_state);
    tcase_add_test(tc, test_load_version1);
    tcase_add_test(tc, test_hostile_sweep);
    suite_add_tcase(s, tc);
    TCase *keys = tcase_create("config");
    tcase_add_test(keys, test_config_keys);
    suite_add_tcase(s, keys);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
