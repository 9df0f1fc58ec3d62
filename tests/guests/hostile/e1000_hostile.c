/*
 * e1000_hostile.c - a hostile guest against the Intel 82540EM (capsule-vm
 * --nic nat,model=e1000; plugins/devices/e1000), run by
 * tests/integration/net/net_hostile.sh without a BIOS. It finds 8086:100e
 * on bus 0, maps its BARs, checks the EEPROM (EERD: the MAC, the 0xBABA
 * sum), then lies to it, resetting it (CTRL.RST) after each lie:
 *   1. the transmit ring outside RAM;
 *   2. TDLEN at its largest (65528 descriptors, 1 MiB of RAM full of
 *      descriptors whose buffers are outside RAM, each asking for status):
 *      the device works through it in bounded batches, TDH catches TDT;
 *   3. TDT beyond the ring (nothing goes); RDH beyond the ring (an ARP
 *      request's reply finds no usable ring: missed, MPC);
 *   4. zero-length buffers, a packet of 80 KB, a TSO context with MSS 1,
 *      a descriptor of an unknown type: all complete, nothing sent;
 *   5. the receive ring outside RAM, RDLEN 0 (the replies missed, MPC),
 *      receive buffers outside RAM (the reply comes back with RXE);
 *   6. a storm: 40 times 255 ARP requests behind one doorbell each;
 *   7. ITR 1 and an ICS storm with INTx unmasked at the device;
 * and last, a clean set-up whose ARP request gets the NAT's reply into a
 * receive buffer ("arp reply"). The runtime's PASS (status 33) when all
 * held; net_hostile.sh checks the log and the counters.
 */
#include "guest.h"

#include "../../../plugins/devices/e1000/e1000_regs.h"

const char guest_name[] = "e1000-hostile";

#define BAR     0xfeb80000u
#define IOBAR   0xc000u
#define TXRING  0x800000u /* 256 descriptors */
#define RXRING  0x810000u /* 32 descriptors */
#define RXBUF   0x820000u /* 2048 bytes each */
#define TXBUF   0x900000u
#define BIGRING 0x1000000u /* 1 MiB: TDLEN's largest ring */
#define RX_N    32u
#define TX_N    256u
#define SPIN    200000000u /* a bound for waits on the NAT's thread */

#define EOP_RS ((E1K_TXD_CMD_EOP | E1K_TXD_CMD_RS) << 24)
#define DEXT   (E1K_TXD_CMD_DEXT << 24)

static volatile uint32_t *const regs = (volatile uint32_t *)BAR;
static uint32_t tx_tail;

static uint32_t rd(unsigned off)
{
    return regs[off / 4];
}

static void wr(unsigned off, uint32_t v)
{
    regs[off / 4] = v;
}

static uint32_t cfg(unsigned slot, unsigned reg)
{
    outl(0xcf8, 0x80000000u | slot << 11 | reg);
    return inl(0xcfc);
}

static void cfg_wr(unsigned slot, unsigned reg, uint32_t v)
{
    outl(0xcf8, 0x80000000u | slot << 11 | reg);
    outl(0xcfc, v);
}

static void find(void)
{
    unsigned slot = 0;
    while (slot < 32 && cfg(slot, 0) != 0x100e8086u)
        slot++;
    if (slot == 32)
        guest_fail("no 8086:100e on bus 0");
    cfg_wr(slot, 0x10, BAR);
    cfg_wr(slot, 0x14, IOBAR);
    cfg_wr(slot, 0x04, 7); /* I/O, memory, bus master */
}

static void desc(uint32_t ring, unsigned i, uint32_t addr, uint32_t lo, uint32_t hi)
{
    volatile uint32_t *d = (volatile uint32_t *)(ring + 16 * i);
    d[0] = addr;
    d[1] = 0;
    d[2] = lo;
    d[3] = hi;
}

static const uint8_t arp[42] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34,
                                0x56, 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6,    4,    0x00, 0x01,
                                0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 10,   0,    2,    15,   0,
                                0,    0,    0,    0,    0,    10,   0,    2,    2};

/* Reset (through the I/O BAR, as Linux does), rings, receive buffers. */
static void setup(void)
{
    outl(IOBAR, E1K_CTRL);
    outl(IOBAR + 4, E1K_CTRL_RST);
    wr(E1K_IMC, ~0u);
    (void)rd(E1K_ICR);
    memset((void *)TXRING, 0, 16 * TX_N);
    for (unsigned i = 0; i < RX_N; i++)
        desc(RXRING, i, RXBUF + 2048 * i, 0, 0);
    wr(E1K_RDBAL, RXRING);
    wr(E1K_RDBAH, 0);
    wr(E1K_RDLEN, 16 * RX_N);
    wr(E1K_RDH, 0);
    wr(E1K_RDT, RX_N - 1);
    wr(E1K_TDBAL, TXRING);
    wr(E1K_TDBAH, 0);
    wr(E1K_TDLEN, 16 * TX_N);
    wr(E1K_TDH, 0);
    wr(E1K_TDT, 0);
    tx_tail = 0;
    wr(E1K_RCTL, 0x8002); /* EN, BAM */
    wr(E1K_TCTL, 0x000a); /* EN, PSP */
    memcpy((void *)TXBUF, arp, sizeof(arp));
}

static void queue(uint32_t addr, uint32_t lo, uint32_t hi)
{
    desc(TXRING, tx_tail, addr, lo, hi);
    tx_tail = (tx_tail + 1) % TX_N;
}

/* Rings the doorbell and waits until the device took everything. */
static void send_all(void)
{
    wr(E1K_TDT, tx_tail);
    for (uint32_t n = 0; rd(E1K_TDH) != tx_tail; n++)
        if (n == SPIN)
            guest_fail("TDH stuck at %u, TDT %u", rd(E1K_TDH), tx_tail);
}

static volatile uint8_t *rx_status(unsigned i)
{
    return (volatile uint8_t *)(RXRING + 16 * i + 12);
}

/* Sends the ARP request and waits until the device lost its reply (MPC). */
static void reply_lost(const char *what)
{
    queue(TXBUF, 42 | EOP_RS, 0);
    send_all();
    for (uint32_t n = 0; !rd(E1K_MPC); n++) /* read to clear */
        if (n == SPIN)
            guest_fail("%s: the reply was not missed", what);
}

static void check_alive(const char *what)
{
    uint32_t status = rd(E1K_STATUS);
    if ((status & 3) != 3)
        guest_fail("%s: STATUS %#x (want full duplex, link up)", what, status);
    gprintf("ok %s\n", what);
}

static void lie_rings(void)
{
    setup();
    wr(E1K_TDBAL, 0xf0000000u);
    queue(TXBUF, 42 | EOP_RS, 0);
    wr(E1K_TDT, tx_tail); /* the device cannot read it: TDH stays */
    check_alive("transmit ring outside RAM");

    setup();
    for (unsigned i = 0; i < 65536; i++) /* buffers outside RAM, each RS */
        desc(BIGRING, i, 0xfff00000u, 1500 | EOP_RS, 0);
    wr(E1K_TDBAL, BIGRING);
    wr(E1K_TDLEN, 0xfff80); /* 65528 descriptors */
    tx_tail = 65527;
    wr(E1K_TDT, tx_tail);
    for (uint32_t n = 0; rd(E1K_TDH) != tx_tail; n++)
        if (n == SPIN)
            guest_fail("the largest ring: TDH stuck at %u", rd(E1K_TDH));
    if (!(*(volatile uint8_t *)(BIGRING + 16 * 65526 + 12) & 1))
        guest_fail("the largest ring: no DD in its last descriptor");
    check_alive("the largest ring, buffers outside RAM");

    setup();
    wr(E1K_TDT, 4000);
    queue(TXBUF, 42 | EOP_RS, 0);
    wr(E1K_TDT, 4000); /* beyond: nothing goes */
    if (rd(E1K_TDH) != 0)
        guest_fail("TDT beyond the ring: TDH %u", rd(E1K_TDH));
    setup();
    wr(E1K_RDH, 5000);
    reply_lost("RDH beyond the ring");
    check_alive("TDT and RDH beyond their rings");
}

static void lie_packets(void)
{
    setup();
    queue(TXBUF, 0, 0);               /* zero length */
    queue(TXBUF, 0 | EOP_RS, 0);      /* and ending so */
    for (unsigned i = 0; i < 40; i++) /* 80 KB */
        queue(TXBUF, 2000 | (i == 39 ? EOP_RS : 0), 0);
    /* a TSO context with MSS 1 for 3500 bytes, its data descriptor */
    queue(0x0021180e, 3500 | 0x27000000u, 54u << 8 | 1u << 16);
    ((volatile uint32_t *)(TXRING + 16 * (tx_tail - 1)))[1] = 0x3222; /* TUCSS 34, TUCSO 50 */
    queue(TXBUF, (54 + 3500) | 1u << 20 | 0x2d000000u, 3u << 8);
    queue(TXBUF, 42 | 0x700000u | EOP_RS | DEXT, 0); /* DTYP 7 */
    send_all();
    check_alive("zero-length, 80 KB, TSO with MSS 1, an unknown type");
}

/* An ARP request; the reply meets what the receive side was set to. */
static void lie_receive(void)
{
    setup();
    wr(E1K_RDBAL, 0xf0000000u);
    reply_lost("the receive ring outside RAM");
    setup();
    wr(E1K_RDLEN, 0);
    reply_lost("RDLEN 0");
    setup();
    desc(RXRING, 0, 0xfff00000u, 0, 0);
    queue(TXBUF, 42 | EOP_RS, 0);
    send_all();
    for (uint32_t n = 0; !(*rx_status(0) & 1); n++)
        if (n == SPIN)
            guest_fail("no reply into a buffer outside RAM");
    if (*(volatile uint8_t *)(RXRING + 13) != 0x80)
        guest_fail("a buffer outside RAM: errors %#x, want RXE",
                   *(volatile uint8_t *)(RXRING + 13));
    check_alive("receive rings outside RAM, RDLEN 0, buffers outside RAM");
}

static void storm(void)
{
    setup();
    for (unsigned round = 0; round < 40; round++) {
        for (unsigned i = 0; i < TX_N - 1; i++)
            queue(TXBUF, 42 | EOP_RS, 0);
        send_all();
    }
    wr(E1K_ITR, 1);
    wr(E1K_IMS, 0x4);
    for (unsigned i = 0; i < 10000; i++) {
        wr(E1K_ICS, 0x4);
        (void)rd(E1K_ICR);
    }
    wr(E1K_IMC, ~0u);
    (void)rd(E1K_ICR);
    check_alive("10200 requests in a storm, an ICS storm");
}

void guest_main(void)
{
    find();
    uint16_t sum = 0, w[3];
    for (unsigned i = 0; i < 64; i++) {
        wr(E1K_EERD, i << 8 | 1);
        uint32_t v = rd(E1K_EERD);
        if (!(v & 0x10))
            guest_fail("EERD not done");
        sum = (uint16_t)(sum + (v >> 16));
        if (i < 3)
            w[i] = (uint16_t)(v >> 16);
    }
    CHECK_EQ(sum, 0xbaba);
    CHECK_EQ(w[0], 0x5452);
    gprintf("ok eeprom\n");
    lie_rings();
    lie_packets();
    lie_receive();
    storm();
    setup();
    queue(TXBUF, 42 | EOP_RS, 0);
    send_all();
    for (uint32_t n = 0; !(*rx_status(0) & 1); n++)
        if (n == SPIN)
            guest_fail("no ARP reply after the lies");
    const volatile uint8_t *f = (const volatile uint8_t *)RXBUF;
    if (f[12] != 8 || f[13] != 6 || f[21] != 2 || f[28] != 10 || f[31] != 2)
        guest_fail("not the NAT's ARP reply");
    gprintf("arp reply\n");
}
