/*
 * tests/unit/devices/test_e1000.c - the Intel 82540EM adapter
 * (plugins/devices/e1000) as a driver sees it on the PCI bus, over PDM's
 * NAT backend: identity and BARs, the EEPROM (EERD and Microwire bit by
 * bit, the checksum), reset through CTRL.RST and the I/O BAR, the PHY and
 * the cable, interrupts and ITR moderation, frames both ways through the
 * rings (an ARP reply, a ping with checksum offload whose reply spans
 * receive buffers, a TSO packet cut into segments read back from the
 * pcap trace), bounded transmit batches, and drivers that lie: a table of
 * lies, then randomized rounds of them, each followed by a clean exchange.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "net_util.h"
#include "virtio_driver.h"

#include "../../../plugins/devices/e1000/e1000_regs.h"

#define BAR    0xfeb80000u /* BAR 0 (128 KiB) */
#define IOBAR  0xc000u     /* BAR 1 */
#define RXRING 0x10000u    /* receive descriptors (up to 256) */
#define TXRING 0x14000u    /* transmit descriptors (up to 1024) */
#define RXBUF  0x30000u    /* receive buffer i at RXBUF + 2048 i */
#define TXBUF  0x80000u    /* transmit data */
#define RX_N   32u
#define TX_N   64u

/* registers (e1000_regs.h) */
#define RAL0 E1K_RA
#define RAH0 (E1K_RA + 4)

#define RCTL_B256 (3u << 16)

static struct harness h;
static struct vdrv drv;
static char trace[64];
static uint32_t tx_tail, rx_tail;

static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

static uint32_t rd(unsigned off)
{
    return (uint32_t)h_mmio_in(&h, BAR + off, 4);
}

static void wr(unsigned off, uint32_t v)
{
    h_mmio_out(&h, BAR + off, 4, v);
}

static void setup(void)
{
    h_setup(&h);
    trace[0] = '\0';
    tx_tail = rx_tail = 0;
}

static void teardown(void)
{
    h_teardown(&h);
    if (trace[0])
        unlink(trace);
}

/* The PCI bus and the adapter at 00:03.0; with `nat`, on PDM's NAT (and
 * with `traced` its pcap in `trace`). BARs mapped, bus mastering on. */
static void machine(bool nat, bool traced, const struct pdm_cfg_kv *kv, size_t n)
{
    ck_assert_int_eq(h_add(&h, "pci", NULL, 0), CAP_OK);
    if (nat) {
        struct pdm_nic_config nc = {.device = "e1000", .instance = 0, .backend = "nat"};
        if (traced) {
            snprintf(trace, sizeof(trace), "/tmp/e1000-ut-XXXXXX");
            int fd = mkstemp(trace);
            ck_assert_int_ge(fd, 0);
            close(fd);
            nc.trace = trace;
        }
        ck_assert_int_eq(pdm_add_nic(h.pdm, &nc), CAP_OK);
    }
    struct pdm_cfg_kv all[4] = {{"devfn", "0x18"}};
    for (size_t i = 0; i < n; i++)
        all[1 + i] = kv[i];
    ck_assert_int_eq(h_add(&h, "e1000", all, 1 + n), CAP_OK);
    ck_assert_int_eq(pdm_check_nics(h.pdm), CAP_OK);
    vdrv_find(&drv, &h, 0x100e8086);
    vdrv_cfg_wr(&drv, PCI_BASE_ADDRESS_0, 4, BAR);
    vdrv_cfg_wr(&drv, PCI_BASE_ADDRESS_0 + 4, 4, IOBAR);
    vdrv_cfg_wr(&drv, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

static bool intx(void)
{
    return vdrv_cfg_rd(&drv, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT;
}

static void desc(uint32_t ring, unsigned i, uint64_t addr, uint32_t lenword, uint32_t upper)
{
    uint8_t *d = h.ram + ring + 16 * i;
    for (unsigned b = 0; b < 8; b++)
        d[b] = (uint8_t)(addr >> (8 * b));
    for (unsigned b = 0; b < 4; b++) {
        d[8 + b] = (uint8_t)(lenword >> (8 * b));
        d[12 + b] = (uint8_t)(upper >> (8 * b));
    }
}

/* A driver's bring-up: reset, rings of RX_N / TX_N, RX_N - 1 receive
 * buffers of 2048 bytes (or 256 with `small`), all causes enabled. */
static void driver_init(bool small)
{
    wr(E1K_CTRL, E1K_CTRL_RST);
    wr(E1K_IMC, ~0u);
    (void)rd(E1K_ICR);
    memset(h.ram + RXRING, 0, 16 * 256);
    memset(h.ram + TXRING, 0, 16 * 1024);
    for (unsigned i = 0; i < RX_N; i++)
        desc(RXRING, i, RXBUF + 2048 * i, 0, 0);
    wr(E1K_RDBAL, RXRING);
    wr(E1K_RDBAH, 0);
    wr(E1K_RDLEN, 16 * RX_N);
    wr(E1K_RDH, 0);
    rx_tail = RX_N - 1;
    wr(E1K_RDT, rx_tail);
    wr(E1K_TDBAL, TXRING);
    wr(E1K_TDBAH, 0);
    wr(E1K_TDLEN, 16 * TX_N);
    wr(E1K_TDH, 0);
    tx_tail = 0;
    wr(E1K_TDT, 0);
    wr(E1K_RCTL, E1K_RCTL_EN | E1K_RCTL_BAM | (small ? RCTL_B256 : 0));
    wr(E1K_TCTL, E1K_TCTL_EN | E1K_TCTL_PSP);
    wr(E1K_IMS, 0x1f6df);
}

/* Queues a legacy descriptor of `len` bytes at TXBUF + off (no doorbell). */
static void queue_legacy(uint32_t off, uint32_t len, uint8_t cmd)
{
    desc(TXRING, tx_tail % TX_N, TXBUF + off, len | (uint32_t)cmd << 24, 0);
    tx_tail = (tx_tail + 1) % TX_N;
}

static void doorbell(void)
{
    wr(E1K_TDT, tx_tail);
}

static uint8_t tx_status(unsigned i)
{
    return h.ram[TXRING + 16 * i + 12];
}

static uint8_t rx_status(unsigned i)
{
    return __atomic_load_n(h.ram + RXRING + 16 * i + 12, __ATOMIC_ACQUIRE);
}

static uint16_t rx_len(unsigned i)
{
    const uint8_t *d = h.ram + RXRING + 16 * i + 8;
    return (uint16_t)(d[0] | d[1] << 8);
}

static uint32_t crc32_eth(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int b = 0; b < 8; b++)
            c = (c & 1) ? (c >> 1) ^ 0xedb88320u : c >> 1;
    }
    return ~c;
}

/* Sends the ARP request from TXBUF and waits for the reply in descriptor
 * `slot`; true when it came (within the WAIT_FOR bound). */
static bool arp_exchange(unsigned slot)
{
    memcpy(h.ram + TXBUF, net_arp_request, sizeof(net_arp_request));
    queue_legacy(0, sizeof(net_arp_request), E1K_TXD_CMD_EOP | E1K_TXD_CMD_IFCS | E1K_TXD_CMD_RS);
    doorbell();
    NET_WAIT_FOR(rx_status(slot) & 1);
    return rx_status(slot) & 1;
}

/* ---- identity, EEPROM, reset ------------------------------------------------ */

START_TEST(test_identity)
{
    machine(false, false, NULL, 0);
    ck_assert_uint_eq(drv.slot, 3);
    ck_assert_uint_eq(vdrv_cfg_rd(&drv, 0x08, 4) >> 8, 0x020000); /* Ethernet controller */
    ck_assert_uint_eq(vdrv_cfg_rd(&drv, PCI_SUBSYSTEM_VENDOR_ID, 4), 0x001e8086);
    ck_assert_uint_eq(vdrv_cfg_rd(&drv, PCI_INTERRUPT_PIN, 1), 1);
    vdrv_cfg_wr(&drv, PCI_BASE_ADDRESS_0, 4, ~0u);
    ck_assert_uint_eq(vdrv_cfg_rd(&drv, PCI_BASE_ADDRESS_0, 4), 0xfffe0000u); /* 128 KiB */
    vdrv_cfg_wr(&drv, PCI_BASE_ADDRESS_0 + 4, 4, ~0u);
    ck_assert_uint_eq(vdrv_cfg_rd(&drv, PCI_BASE_ADDRESS_0 + 4, 4), 0xfffffff9u); /* 8 ports */
    vdrv_cfg_wr(&drv, PCI_BASE_ADDRESS_0, 4, BAR);
    vdrv_cfg_wr(&drv, PCI_BASE_ADDRESS_0 + 4, 4, IOBAR);
    /* full duplex, link up, 1000 Mb/s */
    ck_assert_uint_eq(rd(E1K_STATUS) & 0xc3, 0x83);
    ck_assert_uint_eq(rd(0x1ff00), 0); /* undefined: 0 */
}
END_TEST

/* Linux's Microwire read of word `addr` through EECD. */
static uint16_t microwire_read(unsigned addr, bool *dummy_zero)
{
    uint32_t e = rd(E1K_EECD) | E1K_EECD_REQ;
    wr(E1K_EECD, e);
    ck_assert(rd(E1K_EECD) & E1K_EECD_GNT);
    e &= ~(E1K_EECD_DI | E1K_EECD_SK);
    wr(E1K_EECD, e);
    e |= E1K_EECD_CS;
    wr(E1K_EECD, e);
    uint32_t cmd = 6u << 6 | addr; /* start, READ (10), 6 address bits */
    for (int b = 8; b >= 0; b--) {
        e = (e & ~E1K_EECD_DI) | ((cmd >> b) & 1 ? E1K_EECD_DI : 0);
        wr(E1K_EECD, e);
        wr(E1K_EECD, e | E1K_EECD_SK);
        wr(E1K_EECD, e);
    }
    e &= ~E1K_EECD_DI;
    wr(E1K_EECD, e);
    *dummy_zero = !(rd(E1K_EECD) & E1K_EECD_DO);
    uint16_t v = 0;
    for (int i = 0; i < 16; i++) {
        wr(E1K_EECD, e | E1K_EECD_SK);
        v = (uint16_t)(v << 1 | !!(rd(E1K_EECD) & E1K_EECD_DO));
        wr(E1K_EECD, e);
    }
    wr(E1K_EECD, e & ~(E1K_EECD_CS | E1K_EECD_SK)); /* standby */
    wr(E1K_EECD, e & ~(E1K_EECD_CS | E1K_EECD_SK | E1K_EECD_REQ));
    return v;
}

static uint16_t eerd_read(unsigned addr)
{
    wr(E1K_EERD, addr << 8 | 1);
    uint32_t v = rd(E1K_EERD);
    ck_assert(v & 0x10); /* DONE */
    return (uint16_t)(v >> 16);
}

START_TEST(test_eeprom)
{
    struct pdm_cfg_kv kv[] = {{"mac", "string:08:00:27:ab:cd:ef"}};
    machine(false, false, kv, 1);
    ck_assert(rd(E1K_EECD) & (1u << 8));    /* EE_PRES */
    ck_assert(!(rd(E1K_EECD) & (1u << 9))); /* 64 words */
    uint16_t sum = 0;
    for (unsigned i = 0; i < 64; i++) {
        bool dummy;
        uint16_t w = microwire_read(i, &dummy);
        ck_assert_msg(dummy, "word %u: no dummy 0 before the data", i);
        ck_assert_uint_eq(w, eerd_read(i));
        sum = (uint16_t)(sum + w);
    }
    ck_assert_uint_eq(sum, 0xbaba);
    ck_assert_uint_eq(eerd_read(0), 0x0008);
    ck_assert_uint_eq(eerd_read(1), 0xab27);
    ck_assert_uint_eq(eerd_read(2), 0xefcd);
    ck_assert_uint_eq(eerd_read(0x0d), 0x100e);
    /* the receive address 0 from the EEPROM, valid */
    ck_assert_uint_eq(rd(RAL0), 0xab270008u);
    ck_assert_uint_eq(rd(RAH0), 0x8000efcdu);
}
END_TEST

START_TEST(test_bad_config)
{
    ck_assert_int_eq(h_add(&h, "pci", NULL, 0), CAP_OK);
    net_check_bad_config(&h, "e1000");
    struct pdm_cfg_kv bad_hex[] = {{"mac", "string:52:54:00:12:34:zz"}};
    ck_assert_int_eq(h_add(&h, "e1000", bad_hex, 1), CAP_E_INVALIDARG);
    cap_error_clear();
}
END_TEST

/* CTRL.RST through the I/O BAR (as Linux does on an 82540), and the
 * machine's reset: registers back to power-on, the MAC back in RA 0. */
START_TEST(test_reset)
{
    machine(false, false, NULL, 0);
    wr(E1K_IMS, E1K_ICR_LSC);
    wr(E1K_RCTL, E1K_RCTL_EN);
    wr(E1K_RDLEN, 4096);
    wr(RAL0, 0x11223344);
    ck_assert_uint_eq(rd(E1K_IMS), E1K_ICR_LSC);
    h_out(&h, IOBAR, 4, E1K_IMS);
    ck_assert_uint_eq(h_in(&h, IOBAR, 4), E1K_IMS);
    ck_assert_uint_eq(h_in(&h, IOBAR + 4, 4), E1K_ICR_LSC);
    h_out(&h, IOBAR, 4, E1K_CTRL);
    h_out(&h, IOBAR + 4, 4, 1u << 26);
    ck_assert_uint_eq(rd(E1K_CTRL) & (1u << 26), 0); /* self-clearing */
    ck_assert_uint_eq(rd(E1K_IMS), 0);
    ck_assert_uint_eq(rd(E1K_RCTL), 0);
    ck_assert_uint_eq(rd(E1K_RDLEN), 0);
    ck_assert_uint_eq(rd(RAL0), 0x12005452u);
    ck_assert_uint_eq(h_in(&h, IOBAR + 2, 2) & 0xffff, 0xffff); /* not a register */
    wr(E1K_RDLEN, 0x12345678);                                  /* bits 19-7 only */
    ck_assert_uint_eq(rd(E1K_RDLEN), 0x45600u);
    pdm_reset(h.pdm); /* the bus unmaps the BARs */
    vdrv_cfg_wr(&drv, PCI_BASE_ADDRESS_0, 4, BAR);
    vdrv_cfg_wr(&drv, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    ck_assert_uint_eq(rd(E1K_RDLEN), 0);
    ck_assert_uint_eq(rd(RAL0), 0x12005452u);
}
END_TEST

/* ---- PHY, cable, interrupts ----------------------------------------------------- */

static uint32_t mdic(uint32_t v)
{
    wr(E1K_MDIC, v);
    uint32_t r = rd(E1K_MDIC);
    ck_assert(r & (1u << 28)); /* READY */
    return r;
}

static uint16_t phy_read(unsigned reg)
{
    uint32_t r = mdic(2u << 26 | 1u << 21 | reg << 16);
    ck_assert(!(r & (1u << 30)));
    return (uint16_t)r;
}

START_TEST(test_phy_link)
{
    machine(false, false, NULL, 0);
    ck_assert_uint_eq(phy_read(2), 0x0141);
    ck_assert_uint_eq(phy_read(3) & 0xfff0, 0x0c20); /* an 88E1011: Linux's e1000 checks */
    ck_assert_uint_eq(phy_read(1) & 0x24, 0x24);     /* link, auto-negotiation done */
    mdic(1u << 26 | 1u << 21 | 4u << 16 | 0x01e1);   /* write ANAR */
    ck_assert_uint_eq(phy_read(4), 0x01e1);
    mdic(1u << 26 | 1u << 21 | 0u << 16 | 0x9340); /* BMCR: reset, restart */
    ck_assert_uint_eq(phy_read(0), 0x1140);
    ck_assert(mdic(2u << 26 | 2u << 21 | 1u << 16) & (1u << 30)); /* no PHY at 2 */
    (void)rd(E1K_ICR);
    wr(E1K_IMS, E1K_ICR_LSC);
    wr(E1K_ITR, 0xffff); /* an interval just begun: the cable's LSC is not held */
    wr(E1K_ICS, E1K_ICR_LSC);
    ck_assert(intx());
    (void)rd(E1K_ICR);
    ck_assert(!intx());
    ck_assert_int_eq(pdm_net_set_link(h.pdm, "e1000", 0, false), CAP_OK);
    ck_assert(intx());
    ck_assert_uint_eq(rd(E1K_STATUS) & 2, 0);
    ck_assert_uint_eq(phy_read(1) & 4, 0);
    ck_assert_uint_eq(rd(E1K_ICR), E1K_ICR_LSC); /* read to clear: the line drops */
    ck_assert(!intx());
    ck_assert_uint_eq(rd(E1K_ICR), 0);
    ck_assert_int_eq(pdm_net_set_link(h.pdm, "e1000", 0, false), CAP_OK); /* no change */
    ck_assert(!intx());
    ck_assert_int_eq(pdm_net_set_link(h.pdm, "e1000", 0, true), CAP_OK);
    ck_assert(intx());
    ck_assert_uint_eq(rd(E1K_STATUS) & 2, 2);
    wr(E1K_IMC, E1K_ICR_LSC); /* masked: the line drops, the cause stays */
    ck_assert(!intx());
    ck_assert_uint_eq(rd(E1K_ICR), E1K_ICR_LSC);
}
END_TEST

/* ITR: at most one rise per ITR x 256 ns; a cause in between waits. */
START_TEST(test_moderation)
{
    machine(false, false, NULL, 0);
    wr(E1K_IMS, E1K_ICR_TXQE);
    wr(E1K_ICS, E1K_ICR_TXQE);
    ck_assert(intx()); /* no ITR: at once */
    (void)rd(E1K_ICR);
    wr(E1K_ITR, 1000); /* 256 us */
    wr(E1K_ICS, E1K_ICR_TXQE);
    ck_assert(intx()); /* the last rise was long ago */
    (void)rd(E1K_ICR);
    ck_assert(!intx());
    wr(E1K_ICS, E1K_ICR_TXQE);
    ck_assert(!intx()); /* held back */
    h_advance(&h, 200000);
    ck_assert(!intx());
    h_advance(&h, 60000);
    ck_assert(intx());
    ck_assert_uint_eq(rd(E1K_ICR), E1K_ICR_TXQE);
    /* a storm of causes: one rise per interval */
    unsigned rises = 0;
    for (unsigned i = 0; i < 1000; i++) {
        wr(E1K_ICS, E1K_ICR_TXQE);
        if (intx()) {
            rises++;
            (void)rd(E1K_ICR);
        }
        h_advance(&h, 1000); /* 1 us */
    }
    ck_assert_uint_ge(rises, 3);
    ck_assert_uint_le(rises, 5); /* 1 ms / 256 us */
    (void)rd(E1K_ICR);
    h_advance(&h, 300000);
    wr(E1K_ICS, E1K_ICR_TXQE);
    ck_assert(intx());
    (void)rd(E1K_ICR);
    wr(E1K_ICS, E1K_ICR_TXQE);
    ck_assert(!intx());
    wr(E1K_ITR, 0);
    ck_assert(intx()); /* the held cause goes at once */
}
END_TEST

/* ---- frames -------------------------------------------------------------------------- */

START_TEST(test_arp)
{
    machine(true, false, NULL, 0);
    driver_init(false);
    ck_assert(arp_exchange(0));
    ck_assert(tx_status(0) & 1); /* DD written back (RS) */
    ck_assert_uint_eq(rd(E1K_TDH), 1);
    uint8_t st = rx_status(0);
    ck_assert_uint_eq(st & 3, 3); /* DD, EOP */
    unsigned len = rx_len(0);
    ck_assert_uint_ge(len, 64); /* at least 60 (padded), and the FCS */
    const uint8_t *f = h.ram + RXBUF;
    ck_assert_mem_eq(f, guest_mac, 6);
    ck_assert_uint_eq(f[12] << 8 | f[13], 0x0806);
    ck_assert_uint_eq(f[20] << 8 | f[21], 2); /* a reply */
    const uint8_t *fcs = f + len - 4;
    ck_assert_uint_eq(fcs[0] | fcs[1] << 8 | fcs[2] << 16 | (uint32_t)fcs[3] << 24,
                      crc32_eth(f, len - 4));
    ck_assert_uint_eq(rd(E1K_RDH), 1);
    NET_WAIT_FOR(intx());
    uint32_t icr = rd(E1K_ICR);
    ck_assert(icr & E1K_ICR_RXT0);
    ck_assert(icr & E1K_ICR_TXDW);
    ck_assert_uint_eq(rd(E1K_GPRC), 1); /* statistics: read to clear */
    ck_assert_uint_eq(rd(E1K_GPRC), 0);
    ck_assert_uint_eq(rd(E1K_GPTC), 1);
    /* the reply is for a MAC no receive address holds now: filtered */
    wr(RAH0, 0);
    queue_legacy(0, sizeof(net_arp_request), E1K_TXD_CMD_EOP | E1K_TXD_CMD_RS);
    doorbell();
    usleep(50000);
    ck_assert_uint_eq(rx_status(1), 0);
    wr(E1K_RCTL, rd(E1K_RCTL) | 0x08); /* unicast promiscuous */
    ck_assert(arp_exchange(1));
    ck_assert(!h_logged(&h, "mistake"));
}
END_TEST

/* A frame's RXT0 raises INTx at once, ITR or not: it comes on the NAT's
 * thread, whose timers a halted vCPU would not see in time. */
START_TEST(test_rx_interrupt)
{
    machine(true, false, NULL, 0);
    driver_init(false);
    wr(E1K_IMC, ~0u);
    wr(E1K_IMS, E1K_ICR_RXT0);
    wr(E1K_ITR, 0xffff); /* 16.8 ms, and the fake clock stands still */
    wr(E1K_ICS, E1K_ICR_RXT0);
    ck_assert(intx());
    (void)rd(E1K_ICR);
    wr(E1K_ICS, E1K_ICR_RXT0);
    ck_assert(!intx()); /* from the vCPU: held */
    (void)rd(E1K_ICR);
    ck_assert(arp_exchange(0));
    NET_WAIT_FOR(intx());
    ck_assert(intx());
    ck_assert_uint_eq(rd(E1K_ICR) & E1K_ICR_RXT0, E1K_ICR_RXT0);
}
END_TEST

static uint16_t ones(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/* An IPv4 header (20 bytes) from 10.0.2.15 to 10.0.2.2, checksum 0. */
static void ip_header(uint8_t *ip, unsigned total, uint8_t proto, uint16_t id)
{
    static const uint8_t addrs[8] = {10, 0, 2, 15, 10, 0, 2, 2};
    memset(ip, 0, 20);
    ip[0] = 0x45;
    ip[2] = (uint8_t)(total >> 8);
    ip[3] = (uint8_t)total;
    ip[4] = (uint8_t)(id >> 8);
    ip[5] = (uint8_t)id;
    ip[8] = 64;
    ip[9] = proto;
    memcpy(ip + 12, addrs, 8);
}

static void eth_header(uint8_t *f)
{
    static const uint8_t host_mac[6] = {0x52, 0x55, 0x0a, 0x00, 0x02, 0x02};
    memcpy(f, host_mac, 6);
    memcpy(f + 6, guest_mac, 6);
    f[12] = 0x08;
    f[13] = 0x00;
}

/* A context descriptor and data descriptors in `n` pieces. */
static void queue_offload(uint32_t len, unsigned pieces, uint32_t tucmd, uint8_t hdrlen,
                          uint16_t mss, uint8_t tucso, bool tse)
{
    uint32_t ctx_lo = 14u | 24u << 8 | 33u << 16, ctx_hi = 34u | (uint32_t)tucso << 8;
    uint8_t *d = h.ram + TXRING + 16 * (tx_tail % TX_N);
    desc(TXRING, tx_tail % TX_N, 0, (len - hdrlen) | tucmd << 24 | E1K_TXD_CMD_DEXT << 24,
         (uint32_t)hdrlen << 8 | (uint32_t)mss << 16);
    for (unsigned b = 0; b < 4; b++) {
        d[b] = (uint8_t)(ctx_lo >> (8 * b));
        d[4 + b] = (uint8_t)(ctx_hi >> (8 * b));
    }
    tx_tail = (tx_tail + 1) % TX_N;
    uint32_t per = len / pieces;
    for (unsigned i = 0; i < pieces; i++) {
        uint32_t off = i * per, l = i + 1 == pieces ? len - off : per;
        uint8_t cmd = E1K_TXD_CMD_DEXT | (tse ? E1K_TXD_CMD_TSE : 0) |
                      (i + 1 == pieces ? E1K_TXD_CMD_EOP | E1K_TXD_CMD_RS : 0);
        desc(TXRING, tx_tail % TX_N, TXBUF + off, l | 1u << 20 | (uint32_t)cmd << 24,
             3u << 8); /* POPTS: IXSM, TXSM */
        tx_tail = (tx_tail + 1) % TX_N;
    }
}

/* A ping of 1000 bytes to 10.0.2.2 with the IP and ICMP checksums left to
 * the device (slirp drops a packet whose checksums are wrong); the reply,
 * 1046 bytes with the FCS, spans five 256-byte receive buffers. */
START_TEST(test_ping_offload)
{
    machine(true, false, NULL, 0);
    driver_init(true);
    ck_assert(arp_exchange(0)); /* slirp learns the guest's MAC */
    uint8_t *f = h.ram + TXBUF;
    unsigned len = 14 + 20 + 8 + 1000;
    eth_header(f);
    ip_header(f + 14, len - 14, 1, 0x1234);
    uint8_t *icmp = f + 34;
    memset(icmp, 0, 8);
    icmp[0] = 8; /* echo request */
    icmp[4] = 0x42;
    icmp[7] = 1;
    for (unsigned i = 0; i < 1000; i++)
        icmp[8 + i] = (uint8_t)(i * 7);
    queue_offload(len, 3, 0x02 /* IP */, 0, 0, 36, false);
    doorbell();
    NET_WAIT_FOR(rx_status(5) & 1);
    ck_assert_msg(rx_status(5) & 1, "no echo reply: the offloaded checksums are wrong?");
    uint8_t reply[2048];
    unsigned got = 0;
    for (unsigned i = 1; i <= 5; i++) {
        ck_assert_uint_eq(rx_status(i) & 2, i == 5 ? 2 : 0); /* EOP on the last */
        memcpy(reply + got, h.ram + RXBUF + 2048 * i, rx_len(i));
        got += rx_len(i);
    }
    ck_assert_uint_eq(got, len + 4);
    ck_assert_uint_eq(reply[34], 0); /* echo reply */
    ck_assert_mem_eq(reply + 42, icmp + 8, 1000);
    ck_assert_uint_eq(ones(reply + 14, 20, 0), 0xffff);
}
END_TEST

/* Reads the TCP frames from the guest's MAC in the pcap trace into
 * frames[] (each 2048 bytes), returns their number. */
static unsigned pcap_tcp(uint8_t (*frames)[2048], unsigned *lens, unsigned max)
{
    FILE *fp = fopen(trace, "rb");
    if (!fp)
        return 0;
    uint8_t gh[24], rh[16];
    unsigned n = 0;
    if (fread(gh, 1, 24, fp) == 24) {
        while (n < max && fread(rh, 1, 16, fp) == 16) {
            uint32_t incl = rh[8] | rh[9] << 8 | rh[10] << 16 | (uint32_t)rh[11] << 24;
            if (incl > 2048 || fread(frames[n], 1, incl, fp) != incl)
                break;
            if (!memcmp(frames[n] + 6, guest_mac, 6) && frames[n][12] == 8 && frames[n][23] == 6)
                lens[n++] = incl;
        }
    }
    fclose(fp);
    return n;
}

/* TSO: 54 bytes of headers and 3500 of payload, MSS 1000: four segments. */
START_TEST(test_tso)
{
    machine(true, true, NULL, 0);
    driver_init(false);
    uint8_t *f = h.ram + TXBUF;
    unsigned hdr = 54, pay = 3500, len = hdr + pay;
    eth_header(f);
    ip_header(f + 14, 0, 6, 0x0100);
    uint8_t *tcp = f + 34;
    memset(tcp, 0, 20);
    tcp[0] = 0x04, tcp[1] = 0xd2; /* port 1234 */
    tcp[3] = 80;
    tcp[4] = 0x10; /* seq 0x10000000 */
    tcp[12] = 0x50;
    tcp[13] = 0x19; /* FIN, PSH, ACK */
    tcp[14] = 0xff;
    /* the pseudo-header's sum without the length, as Linux leaves it */
    uint16_t ph = ones(f + 26, 8, 6);
    tcp[16] = (uint8_t)(ph >> 8), tcp[17] = (uint8_t)ph;
    for (unsigned i = 0; i < pay; i++)
        f[hdr + i] = (uint8_t)(i ^ (i >> 8));
    queue_offload(len, 2, 0x07 /* TSE, IP, TCP */, (uint8_t)hdr, 1000, 50, true);
    doorbell();
    static uint8_t seg[8][2048];
    unsigned lens[8], n = 0;
    NET_WAIT_FOR((n = pcap_tcp(seg, lens, 8)) >= 4);
    ck_assert_uint_eq(n, 4);
    for (unsigned i = 0; i < 4; i++) {
        unsigned chunk = i < 3 ? 1000 : 500;
        const uint8_t *ip = seg[i] + 14, *t = seg[i] + 34;
        ck_assert_uint_eq(lens[i], hdr + chunk);
        ck_assert_uint_eq(ip[2] << 8 | ip[3], 40 + chunk);
        ck_assert_uint_eq(ip[4] << 8 | ip[5], 0x0100 + i);
        ck_assert_uint_eq(ones(ip, 20, 0), 0xffff);
        uint32_t seq = (uint32_t)t[4] << 24 | t[5] << 16 | t[6] << 8 | t[7];
        ck_assert_uint_eq(seq, 0x10000000u + 1000 * i);
        ck_assert_uint_eq(t[13], i < 3 ? 0x10 : 0x19);
        /* TCP checksum over the pseudo-header with this segment's length */
        uint16_t sum = ones(ip + 12, 8, 6 + 20 + chunk);
        ck_assert_uint_eq(ones(t, 20 + chunk, sum), 0xffff);
        ck_assert_mem_eq(t + 20, f + hdr + 1000 * i, chunk);
    }
    ck_assert_uint_eq(rd(E1K_TSCTC), 1);
}
END_TEST

/* Saved state: a packet half assembled, the interrupt mask, ITR and the
 * rings survive a reset and a load; the packet then completes. */
/* A packet half assembled (its first descriptor without EOP) for the
 * saved-state tests. */
static void half_packet(void)
{
    machine(false, false, NULL, 0);
    driver_init(false);
    wr(E1K_ITR, 500);
    memcpy(h.ram + TXBUF, net_arp_request, sizeof(net_arp_request));
    queue_legacy(0, 50, 0); /* no EOP yet */
    doorbell();
    ck_assert_uint_eq(rd(E1K_TDH), 1);
}

START_TEST(test_save_load)
{
    half_packet();
    void *st;
    size_t len;
    ck_assert_int_eq(pdm_save(h.pdm, &st, &len), CAP_OK);
    wr(E1K_CTRL, E1K_CTRL_RST);
    ck_assert_uint_eq(rd(E1K_IMS), 0);
    ck_assert_int_eq(pdm_load(h.pdm, st, len), CAP_OK);
    ck_assert_uint_eq(rd(E1K_IMS), 0x1f6df);
    ck_assert_uint_eq(rd(E1K_ITR), 500);
    ck_assert_uint_eq(rd(E1K_TDH), 1);
    ck_assert_uint_eq(rd(E1K_RDLEN), 16 * RX_N);
    queue_legacy(50, 22, E1K_TXD_CMD_EOP | E1K_TXD_CMD_RS);
    doorbell();
    ck_assert_uint_eq(rd(E1K_GPTC), 1);
    ck_assert_uint_eq(rd(E1K_GOTCL), 72 + 4);               /* both parts, and the FCS */
    ck_assert_int_ne(pdm_load(h.pdm, st, len - 3), CAP_OK); /* truncated */
    cap_error_clear();
    free(st);
}
END_TEST

/* The same through the SSM stream's named fields: a packet half assembled
 * (its first descriptor without EOP) survives and completes. */
START_TEST(test_ssm_save_load)
{
    half_packet();
    h_ssm_save(&h);
    wr(E1K_CTRL, E1K_CTRL_RST);
    ck_assert_uint_eq(rd(E1K_IMS), 0);
    ck_assert_int_eq(h_ssm_load(&h), CAP_OK);
    ck_assert_uint_eq(rd(E1K_IMS), 0x1f6df);
    ck_assert_uint_eq(rd(E1K_ITR), 500);
    ck_assert_uint_eq(rd(E1K_TDH), 1);
    queue_legacy(50, 22, E1K_TXD_CMD_EOP | E1K_TXD_CMD_RS);
    doorbell();
    ck_assert_uint_eq(rd(E1K_GPTC), 1);
    ck_assert_uint_eq(rd(E1K_GOTCL), 72 + 4);
}
END_TEST

/* Without bus mastering the function touches no memory: the doorbell
 * moves nothing until the driver turns it on and rings again. */
START_TEST(test_bus_master)
{
    machine(true, false, NULL, 0);
    driver_init(false);
    vdrv_cfg_wr(&drv, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
    memcpy(h.ram + TXBUF, net_arp_request, sizeof(net_arp_request));
    queue_legacy(0, sizeof(net_arp_request), E1K_TXD_CMD_EOP | E1K_TXD_CMD_RS);
    doorbell();
    ck_assert_uint_eq(rd(E1K_TDH), 0);
    ck_assert_uint_eq(tx_status(0), 0);
    vdrv_cfg_wr(&drv, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    doorbell();
    ck_assert_uint_eq(rd(E1K_TDH), 1);
    NET_WAIT_FOR(rx_status(0) & 1);
    ck_assert(rx_status(0) & 1);
}
END_TEST

/* ---- bounds ---------------------------------------------------------------------------- */

/* A storm: 1000 descriptors behind one doorbell go 256 at a time, the
 * rest from the device's timer. */
START_TEST(test_tx_batches)
{
    machine(false, false, NULL, 0);
    driver_init(false);
    wr(E1K_TDLEN, 16 * 1024);
    memcpy(h.ram + TXBUF, net_arp_request, sizeof(net_arp_request));
    for (unsigned i = 0; i < 1000; i++)
        desc(TXRING, i, TXBUF,
             sizeof(net_arp_request) | (uint32_t)(E1K_TXD_CMD_EOP | E1K_TXD_CMD_RS) << 24, 0);
    wr(E1K_TDT, 1000);
    ck_assert_uint_eq(rd(E1K_TDH), 256);
    h_advance(&h, 1000);
    ck_assert_uint_eq(rd(E1K_TDH), 512);
    for (unsigned i = 0; i < 4; i++)
        h_advance(&h, 1000);
    ck_assert_uint_eq(rd(E1K_TDH), 1000);
    ck_assert_uint_eq(rd(E1K_GPTC), 1000);
}
END_TEST

/* One lie per round, what the device says about it (a log line, or NULL),
 * and whether it is seen on the receive side (the NAT's reply to the ARP
 * request sent meets it); the device survives, and a clean bring-up
 * exchanges frames again. */
struct lie {
    const char *name, *log;
    bool rx;
};
static const struct lie lies[] = {
    {"tx ring outside RAM", "the transmit descriptor ring is outside RAM", false},
    {"rx ring outside RAM", "the receive descriptor ring is outside RAM", true},
    {"TDLEN 0", NULL, false},
    {"RDLEN 0", NULL, true},
    {"huge TDLEN", "the transmit descriptor ring is outside RAM", false},
    {"TDT past the ring", "TDH or TDT beyond the transmit ring", false},
    {"RDH past the ring", "RDH or RDT beyond the receive ring", true},
    {"tx buffer outside RAM", "a transmit buffer is outside RAM", false},
    {"rx buffer outside RAM", "a receive buffer is outside RAM", true},
    {"zero-length buffers", NULL, false},
    {"packet past 64 KiB", "a transmit packet larger than 64 KiB", false},
    {"TSO of 3500 segments", "a TSO context that does not fit its packet", false},
    {"unknown descriptor type", "a transmit descriptor of an unknown type", false},
    {"no receive buffers", NULL, true},
};

static void lie_setup(unsigned i)
{
    uint32_t eop = (uint32_t)(E1K_TXD_CMD_EOP | E1K_TXD_CMD_RS) << 24;
    switch (i) {
    case 0:
        wr(E1K_TDBAL, 0x40000000u);
        break;
    case 1:
        wr(E1K_RDBAL, 0x7fff0000u);
        break;
    case 2:
        wr(E1K_TDLEN, 0);
        break;
    case 3:
        wr(E1K_RDLEN, 0);
        break;
    case 4: /* 65528 descriptors, most outside 1 MiB of RAM */
        wr(E1K_TDLEN, 0xfff80);
        wr(E1K_TDH, 60000);
        tx_tail = 65000;
        return;
    case 5:
        tx_tail = 5000;
        return;
    case 6:
        wr(E1K_RDH, 4000);
        break;
    case 7:
        desc(TXRING, 0, 0xffff0000u, 42 | eop, 0);
        tx_tail = 1;
        return;
    case 8:
        desc(RXRING, 0, 0xfff00000u, 0, 0);
        break;
    case 9:
        desc(TXRING, 0, TXBUF, 0, 0);
        desc(TXRING, 1, 0, 0 | eop, 0);
        tx_tail = 2;
        return;
    case 10: /* 40 descriptors of 2000 bytes: 80 KB */
        for (unsigned d = 0; d < 40; d++)
            desc(TXRING, d, TXBUF, 2000u | (d == 39 ? eop : 0), 0);
        tx_tail = 40;
        return;
    case 11: /* MSS 1 */
        queue_offload(54 + 3500, 1, 0x07, 54, 1, 50, true);
        return;
    case 12: /* DTYP 7 */
        desc(TXRING, 0, TXBUF, 42 | 0x70u << 16 | eop | (uint32_t)E1K_TXD_CMD_DEXT << 24, 0);
        tx_tail = 1;
        return;
    default:
        wr(E1K_RDT, 0); /* the ring empty */
        break;
    }
    queue_legacy(0, 42, E1K_TXD_CMD_EOP | E1K_TXD_CMD_RS); /* the ARP request */
}

START_TEST(test_lies)
{
    const struct lie *l = &lies[_i];
    machine(true, false, NULL, 0);
    driver_init(false);
    memcpy(h.ram + TXBUF, net_arp_request, sizeof(net_arp_request));
    lie_setup((unsigned)_i);
    doorbell();
    for (unsigned i = 0; i < 10; i++)
        h_advance(&h, 1000);
    if (l->log) {
        NET_WAIT_FOR(h_logged(&h, l->log));
        ck_assert_msg(h_logged(&h, l->log), "%s: the log lacks '%s':\n%s", l->name, l->log, h.log);
    }
    uint32_t rnbc = 0;
    if (!strcmp(l->name, "RDLEN 0") || !strcmp(l->name, "no receive buffers")) {
        NET_WAIT_FOR((rnbc += rd(E1K_RNBC)) > 0); /* the reply found no buffer */
        ck_assert_msg(rnbc > 0, "%s: RNBC 0", l->name);
        ck_assert(rd(E1K_ICR) & E1K_ICR_RXO);
    }
    if (!strcmp(l->name, "rx buffer outside RAM")) {
        ck_assert_uint_eq(rx_status(0) & 3, 3);
        ck_assert_uint_eq(h.ram[RXRING + 13], 0x80); /* RXE */
    }
    if (!strcmp(l->name, "zero-length buffers")) {
        ck_assert_uint_eq(rd(E1K_TDH), 2);
        ck_assert(tx_status(1) & 1);
        ck_assert_uint_eq(rd(E1K_GPTC), 0);
    }
    if (!l->rx)
        ck_assert_uint_eq(rd(E1K_GPRC), 0);
    (void)rd(E1K_STATUS);
    /* a clean bring-up exchanges frames again */
    driver_init(false);
    ck_assert_msg(arp_exchange(0), "%s: no exchange after a reset", l->name);
}
END_TEST

static uint32_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 11);
}

/* Randomized rounds: registers of the rings and their doorbells written
 * with values near and far from sane, descriptors of random bytes with
 * addresses in and out of RAM, the NAT's replies arriving meanwhile. The
 * device must answer every access, and work after a reset. */
START_TEST(test_fuzz)
{
    uint64_t seed = (uint64_t)time(NULL) * 2654435761u | 1;
    const char *env = getenv("E1000_FUZZ_SEED");
    if (env)
        seed = strtoull(env, NULL, 0);
    fprintf(stderr, "test_e1000 fuzz seed %#llx (E1000_FUZZ_SEED)\n", (unsigned long long)seed);
    uint64_t s = seed;
    machine(true, false, NULL, 0);
    static const unsigned regs[] = {E1K_RDBAL, E1K_RDLEN, E1K_RDH, E1K_RDT,  E1K_TDBAL,
                                    E1K_TDLEN, E1K_TDH,   E1K_TDT, E1K_RCTL, E1K_TCTL,
                                    E1K_ITR,   E1K_IMS,   E1K_ICS, E1K_CTRL};
    for (unsigned round = 0; round < 400; round++) {
        driver_init(rnd(&s) & 1);
        memcpy(h.ram + TXBUF, net_arp_request, sizeof(net_arp_request));
        for (unsigned i = 0; i < 64; i++) { /* descriptors: random, many plausible */
            uint8_t *d = h.ram + (i & 1 ? TXRING : RXRING) + 16 * (rnd(&s) % 64);
            for (unsigned b = 0; b < 16; b++)
                d[b] = (uint8_t)rnd(&s);
            if (rnd(&s) & 1) { /* a buffer address in RAM */
                uint32_t a = rnd(&s) % (HARNESS_RAM - 0x10000);
                memcpy(d, &a, 4);
                memset(d + 4, 0, 4);
            }
        }
        for (unsigned i = 0; i < 6; i++) {
            unsigned r = regs[rnd(&s) % (sizeof(regs) / sizeof(regs[0]))];
            uint32_t v = rnd(&s);
            if (r == E1K_CTRL)
                v &= ~(1u << 26 | 1u << 31);
            else if (rnd(&s) & 1)
                v &= 0xfff; /* small: near the sane values */
            wr(r, v);
        }
        wr(E1K_TDT, rnd(&s) % 80);
        if (round % 8 == 0)
            usleep(2000); /* let replies from the NAT meet the mess */
        h_advance(&h, 1000);
        (void)rd(E1K_ICR);
        (void)rd(E1K_GPRC);
    }
    usleep(20000); /* replies still on their way land in the mess */
    driver_init(false);
    ck_assert_msg(arp_exchange(0), "seed %#llx: no exchange after the rounds",
                  (unsigned long long)seed);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("e1000");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_identity);
    tcase_add_test(tc, test_eeprom);
    tcase_add_test(tc, test_bad_config);
    tcase_add_test(tc, test_reset);
    tcase_add_test(tc, test_phy_link);
    tcase_add_test(tc, test_moderation);
    tcase_add_test(tc, test_arp);
    tcase_add_test(tc, test_rx_interrupt);
    tcase_add_test(tc, test_ping_offload);
    tcase_add_test(tc, test_tso);
    tcase_add_test(tc, test_save_load);
    tcase_add_test(tc, test_ssm_save_load);
    tcase_add_test(tc, test_bus_master);
    tcase_add_test(tc, test_tx_batches);
    tcase_add_loop_test(tc, test_lies, 0, sizeof(lies) / sizeof(lies[0]));
    tcase_add_test(tc, test_fuzz);
    return h_run_case("dev-e1000", tc);
}
