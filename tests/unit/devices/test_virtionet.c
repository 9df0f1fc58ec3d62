/*
 * tests/unit/devices/test_virtionet.c - the virtio-net adapter
 * (plugins/devices/virtio/virtio_net.c) as a driver sees it on the PCI
 * bus: identity, features and configuration (MAC, link status), frames
 * through PDM's NAT backend (an ARP request for 10.0.2.2 answered by
 * libslirp on the attachment's I/O thread, into a receive buffer), the
 * bounded transmit batches, and drivers that lie (buffers outside RAM,
 * writable transmit or readable receive buffers, loops, zero-length and
 * huge buffers, the available index jumping).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "net_util.h"
#include "virtio_driver.h"

#define RXQ_DESC  0x10000u
#define RXQ_AVAIL 0x11000u
#define RXQ_USED  0x12000u
#define TXQ_DESC  0x13000u
#define TXQ_AVAIL 0x14000u
#define TXQ_USED  0x15000u
#define RX_BUF    0x20000u /* receive buffer i at RX_BUF + 2048 i */
#define TX_BUF    0x40000u /* transmit buffer i at TX_BUF + 128 i */
#define QSIZE     256u     /* the device's queue size (the driver keeps it) */
#define HDR       12u
#define TX_BATCH  64u /* chains the device sends per notify */

static struct harness h;
static struct vdrv drv;
static uint16_t rx_avail, tx_avail;

static const struct vdrv_queue queues[2] = {{RXQ_DESC, RXQ_AVAIL, RXQ_USED},
                                            {TXQ_DESC, TXQ_AVAIL, TXQ_USED}};

static void setup(void)
{
    h_setup(&h);
    rx_avail = tx_avail = 0;
}

static void teardown(void)
{
    h_teardown(&h);
}

static uint8_t status(void)
{
    return (uint8_t)h_mmio_in(&h, VDRV_COMMON + VIRTIO_PCI_COMMON_STATUS, 1);
}

/* The PCI bus and the adapter at 00:03.0; with `nat`, on PDM's NAT. */
static void machine(bool nat, const struct pdm_cfg_kv *kv, size_t n)
{
    ck_assert_int_eq(h_add(&h, "pci", NULL, 0), CAP_OK);
    if (nat) {
        struct pdm_nic_config nc = {.device = "virtionet", .instance = 0, .backend = "nat"};
        ck_assert_int_eq(pdm_add_nic(h.pdm, &nc), CAP_OK);
    }
    struct pdm_cfg_kv all[4] = {{"devfn", "0x18"}};
    for (size_t i = 0; i < n; i++)
        all[1 + i] = kv[i];
    ck_assert_int_eq(h_add(&h, "virtionet", all, 1 + n), CAP_OK);
    ck_assert_int_eq(pdm_check_nics(h.pdm), CAP_OK);
    vdrv_find(&drv, &h, 0x10411af4);
}

static void driver_init(void)
{
    rx_avail = tx_avail = 0;
    ck_assert_uint_eq(
        vdrv_init(&drv, VIRTIO_BIT(VIRTIO_F_VERSION_1) | (1u << 5) | (1u << 16), 2, queues), 0x0f);
}

static void desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                 uint16_t next)
{
    uint8_t *d = h.ram + table + 16 * i;
    virtio_put_le(d, 8, addr);
    virtio_put_le(d + 8, 4, len);
    virtio_put_le(d + 12, 2, flags);
    virtio_put_le(d + 14, 2, next);
}

static void offer(uint64_t avail, uint16_t *idx, uint16_t head)
{
    virtio_put_le(h.ram + avail + 4 + 2 * (*idx % QSIZE), 2, head);
    (*idx)++;
    __atomic_store_n((uint16_t *)(h.ram + avail + 2), *idx, __ATOMIC_RELEASE);
}

static uint16_t used_idx(uint64_t used)
{
    return __atomic_load_n((uint16_t *)(h.ram + used + 2), __ATOMIC_ACQUIRE);
}

static uint32_t used_len(uint64_t used, unsigned i)
{
    return (uint32_t)virtio_get_le(h.ram + used + 4 + 8 * (i % QSIZE) + 4, 4);
}

/* Posts receive buffers of `len` bytes (device-writable unless `readable`). */
static void post_rx(unsigned n, uint32_t len, bool readable)
{
    for (unsigned i = 0; i < n; i++) {
        unsigned d = rx_avail % QSIZE;
        desc(RXQ_DESC, d, RX_BUF + 2048 * (d % 16), len, readable ? 0 : VIRTQ_DESC_F_WRITE, 0);
        offer(RXQ_AVAIL, &rx_avail, (uint16_t)d);
    }
}

/* Queues a frame (with its header) in transmit descriptor d, no notify. */
static void queue_tx(const uint8_t *frame, uint32_t len)
{
    unsigned d = tx_avail % QSIZE;
    uint8_t *b = h.ram + TX_BUF + 128 * (d % 64);
    memset(b, 0, HDR);
    memcpy(b + HDR, frame, len);
    desc(TXQ_DESC, d, TX_BUF + 128 * (d % 64), HDR + len, 0, 0);
    offer(TXQ_AVAIL, &tx_avail, (uint16_t)d);
}

static void notify(unsigned q)
{
    h_mmio_out(&h, VDRV_NOTIFY + VIRTIO_PCI_NOTIFY_MULT * q, 2, q);
}

/* ---- identity and configuration -------------------------------------------- */

START_TEST(test_identity)
{
    machine(false, NULL, 0);
    ck_assert_uint_eq(drv.slot, 3);
    ck_assert_uint_eq(vdrv_cfg_rd(&drv, 0x08, 4) >> 8, 0x020000); /* Ethernet controller */
    uint64_t f = vdrv_features(&drv);
    ck_assert(f & (1u << 5));  /* VIRTIO_NET_F_MAC */
    ck_assert(f & (1u << 16)); /* VIRTIO_NET_F_STATUS */
    ck_assert(f & VIRTIO_BIT(VIRTIO_F_VERSION_1));
    ck_assert(!(f & 1u)); /* no checksum offload */
    static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    for (unsigned i = 0; i < 6; i++)
        ck_assert_uint_eq(h_mmio_in(&h, VDRV_DEVCFG + i, 1), mac[i]);
    ck_assert_uint_eq(h_mmio_in(&h, VDRV_DEVCFG + 6, 2), 1); /* link up */
    driver_init();
    ck_assert_uint_eq(h_mmio_in(&h, VDRV_COMMON + VIRTIO_PCI_COMMON_NUMQ, 2), 2);
}
END_TEST

START_TEST(test_config)
{
    struct pdm_cfg_kv kv[] = {{"mac", "string:02:00:00:aa:bb:cc"}, {"link", "false"}};
    machine(false, kv, 2);
    static const uint8_t mac[6] = {0x02, 0x00, 0x00, 0xaa, 0xbb, 0xcc};
    for (unsigned i = 0; i < 6; i++)
        ck_assert_uint_eq(h_mmio_in(&h, VDRV_DEVCFG + i, 1), mac[i]);
    ck_assert_uint_eq(h_mmio_in(&h, VDRV_DEVCFG + 6, 2), 0); /* link down */
    /* writes to the configuration change nothing */
    h_mmio_out(&h, VDRV_DEVCFG, 1, 0xff);
    ck_assert_uint_eq(h_mmio_in(&h, VDRV_DEVCFG, 1), 0x02);
}
END_TEST

/* The cable pulled and plugged while the driver runs: the status field
 * follows, each change a configuration interrupt (ISR bit 1, generation). */
START_TEST(test_link)
{
    machine(false, NULL, 0);
    driver_init();
    (void)h_mmio_in(&h, VDRV_ISR, 1); /* clears */
    uint8_t gen = (uint8_t)h_mmio_in(&h, VDRV_COMMON + VIRTIO_PCI_COMMON_CFGGENERATION, 1);
    ck_assert_int_eq(pdm_net_set_link(h.pdm, "virtionet", 0, false), CAP_OK);
    ck_assert_uint_eq(h_mmio_in(&h, VDRV_DEVCFG + 6, 2), 0);
    ck_assert_uint_eq(h_mmio_in(&h, VDRV_ISR, 1), VIRTIO_ISR_CONFIG);
    ck_assert_uint_ne(h_mmio_in(&h, VDRV_COMMON + VIRTIO_PCI_COMMON_CFGGENERATION, 1), gen);
    /* the same state again: no interrupt */
    ck_assert_int_eq(pdm_net_set_link(h.pdm, "virtionet", 0, false), CAP_OK);
    ck_assert_uint_eq(h_mmio_in(&h, VDRV_ISR, 1), 0);
    ck_assert_int_eq(pdm_net_set_link(h.pdm, "virtionet", 0, true), CAP_OK);
    ck_assert_uint_eq(h_mmio_in(&h, VDRV_DEVCFG + 6, 2), 1);
    ck_assert_uint_eq(h_mmio_in(&h, VDRV_ISR, 1), VIRTIO_ISR_CONFIG);
    ck_assert_int_eq(pdm_net_set_link(h.pdm, "virtionet", 1, true), CAP_E_INVALIDARG);
    ck_assert_int_eq(pdm_net_set_link(h.pdm, "pci", 0, true), CAP_E_INVALIDARG);
    cap_error_clear();
}
END_TEST

START_TEST(test_bad_config)
{
    ck_assert_int_eq(h_add(&h, "pci", NULL, 0), CAP_OK);
    net_check_bad_config(&h, "virtionet");
    /* attachments PDM refuses, or nobody takes */
    struct pdm_nic_config bad = {.device = "virtionet", .backend = "bridged"};
    ck_assert_int_eq(pdm_add_nic(h.pdm, &bad), CAP_E_INVALIDARG);
    cap_error_clear();
    struct pdm_nic_config lost = {.device = "virtionet", .instance = 3, .backend = "nat"};
    ck_assert_int_eq(pdm_add_nic(h.pdm, &lost), CAP_OK);
    ck_assert_int_eq(pdm_add_nic(h.pdm, &lost), CAP_E_ALREADY_REGISTERED);
    ck_assert_int_eq(pdm_check_nics(h.pdm), CAP_E_INVALIDARG);
    cap_error_clear();
}
END_TEST

/* ---- frames through the NAT -------------------------------------------------- */

START_TEST(test_arp_through_nat)
{
    machine(true, NULL, 0);
    driver_init();
    post_rx(4, 2048, false);
    notify(0);
    queue_tx(net_arp_request, sizeof(net_arp_request));
    notify(1);
    ck_assert_uint_eq(used_idx(TXQ_USED), 1); /* sent at the notify */
    ck_assert_uint_eq(used_len(TXQ_USED, 0), 0);
    NET_WAIT_FOR(used_idx(RXQ_USED) >= 1);
    ck_assert_uint_eq(used_idx(RXQ_USED), 1);
    uint32_t len = used_len(RXQ_USED, 0);
    ck_assert_uint_ge(len, HDR + 42);
    const uint8_t *b = h.ram + RX_BUF;
    ck_assert_uint_eq(virtio_get_le(b + 10, 2), 1); /* num_buffers */
    ck_assert_uint_eq(b[0], 0);                     /* flags: no checksum offload */
    const uint8_t *f = b + HDR;
    ck_assert_mem_eq(f, net_arp_request + 6, 6); /* to the guest's MAC */
    ck_assert_uint_eq(f[12] << 8 | f[13], 0x0806);
    ck_assert_uint_eq(f[20] << 8 | f[21], 2); /* an ARP reply */
    static const uint8_t host_ip[4] = {10, 0, 2, 2}, guest_ip[4] = {10, 0, 2, 15};
    ck_assert_mem_eq(f + 28, host_ip, 4);
    ck_assert_mem_eq(f + 38, guest_ip, 4);
    ck_assert(!(status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
}
END_TEST

/* A receive buffer too short for the frame: returned empty, the frame
 * dropped; a readable one: the driver broke the protocol. */
START_TEST(test_rx_lies)
{
    machine(true, NULL, 0);
    driver_init();
    post_rx(1, 30, false);
    queue_tx(net_arp_request, sizeof(net_arp_request));
    notify(1);
    NET_WAIT_FOR(used_idx(RXQ_USED) >= 1);
    ck_assert_uint_eq(used_idx(RXQ_USED), 1);
    ck_assert_uint_eq(used_len(RXQ_USED, 0), 0);
    ck_assert(!(status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
    post_rx(1, 2048, true);
    queue_tx(net_arp_request, sizeof(net_arp_request));
    notify(1);
    NET_WAIT_FOR(status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    ck_assert(status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    ck_assert_uint_eq(used_idx(RXQ_USED), 1);
    /* a reset brings it back */
    driver_init();
    ck_assert(!(status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
}
END_TEST

/* ---- transmit ------------------------------------------------------------------ */

/* A storm of frames: at most TX_BATCH per notify, the rest from the
 * device's timer, in batches too. */
START_TEST(test_tx_batches)
{
    machine(false, NULL, 0);
    driver_init();
    for (unsigned i = 0; i < 200; i++)
        queue_tx(net_arp_request, sizeof(net_arp_request));
    notify(1);
    ck_assert_uint_eq(used_idx(TXQ_USED), TX_BATCH);
    h_advance(&h, 1000);
    ck_assert_uint_eq(used_idx(TXQ_USED), 2 * TX_BATCH);
    for (unsigned i = 0; i < 4; i++)
        h_advance(&h, 1000);
    ck_assert_uint_eq(used_idx(TXQ_USED), 200);
    ck_assert(!(status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
}
END_TEST

/* One lie per round on the transmit queue. */
static const char *const tx_lies[] = {"outside RAM", "writable",    "loop",
                                      "index jump",  "zero length", "huge"};

START_TEST(test_tx_lies)
{
    machine(false, NULL, 0);
    driver_init();
    unsigned round = (unsigned)_i;
    bool breaks = true;
    switch (round) {
    case 0:
        desc(TXQ_DESC, 0, 0x40000000u, 100, 0, 0);
        offer(TXQ_AVAIL, &tx_avail, 0);
        break;
    case 1:
        memset(h.ram + TX_BUF, 0, 100);
        desc(TXQ_DESC, 0, TX_BUF, 60, VIRTQ_DESC_F_NEXT, 1);
        desc(TXQ_DESC, 1, TX_BUF + 64, 16, VIRTQ_DESC_F_WRITE, 0);
        offer(TXQ_AVAIL, &tx_avail, 0);
        break;
    case 2:
        desc(TXQ_DESC, 0, TX_BUF, 60, VIRTQ_DESC_F_NEXT, 1);
        desc(TXQ_DESC, 1, TX_BUF, 60, VIRTQ_DESC_F_NEXT, 0);
        offer(TXQ_AVAIL, &tx_avail, 0);
        break;
    case 3:
        virtio_put_le(h.ram + TXQ_AVAIL + 2, 2, 1000);
        break;
    case 4: /* a chain of nothing: dropped, returned */
        desc(TXQ_DESC, 0, TX_BUF, 0, 0, 0);
        offer(TXQ_AVAIL, &tx_avail, 0);
        breaks = false;
        break;
    default: /* 512 KiB in RAM: more than any frame, dropped, returned */
        desc(TXQ_DESC, 0, 0x80000u, 0x80000u, 0, 0);
        offer(TXQ_AVAIL, &tx_avail, 0);
        breaks = false;
        break;
    }
    notify(1);
    ck_assert_msg(!!(status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET) == breaks, "%s: status %#x",
                  tx_lies[round], status());
    if (!breaks) {
        ck_assert_uint_eq(used_idx(TXQ_USED), 1);
        ck_assert_uint_eq(used_len(TXQ_USED, 0), 0);
    }
    /* nothing is served until the driver resets the device, which then works */
    driver_init();
    queue_tx(net_arp_request, sizeof(net_arp_request));
    notify(1);
    ck_assert_uint_eq(used_idx(TXQ_USED), 1);
    ck_assert(!(status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("virtionet");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_identity);
    tcase_add_test(tc, test_config);
    tcase_add_test(tc, test_link);
    tcase_add_test(tc, test_bad_config);
    tcase_add_test(tc, test_arp_through_nat);
    tcase_add_test(tc, test_rx_lies);
    tcase_add_test(tc, test_tx_batches);
    tcase_add_loop_test(tc, test_tx_lies, 0, sizeof(tx_lies) / sizeof(tx_lies[0]));
    return h_run_case("dev-virtionet", tc);
}
