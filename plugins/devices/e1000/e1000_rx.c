/*
 * plugins/devices/e1000/e1000_rx.c - the 82540EM's receive path: a frame
 * from the attachment's I/O thread (pdm_net_port.receive, device lock
 * held) into the guest's legacy receive descriptors.
 *
 * Filtering (RCTL, RAL/RAH, MTA): broadcast with BAM, multicast with MPE or
 * its bit in the 4096-bit hash table (12 bits of the address chosen by
 * RCTL.MO), unicast with UPE or an address register marked valid (AV).
 *
 * The ring is RDLEN / 16 descriptors at RDBAH:RDBAL; the device owns those
 * from RDH up to RDT - 1. A frame - padded to 60 bytes as on a wire, with
 * its FCS unless RCTL.SECRC strips it - fills as many buffers of RCTL's
 * size (BSIZE, BSEX) as it needs, EOP on the last; each descriptor gets
 * length, status DD (and IXSM: no checksum was checked) and RDH moves on;
 * then RXT0, and RXDMT0 when what is left is at or below RCTL.RDMTS's
 * fraction of the ring. A frame that does not fit in what the guest
 * posted is dropped whole (RNBC, MPC, RXO) - the wire does not wait.
 *
 * A guest that lies - RDLEN 0, RDH or RDT past the ring, the ring outside
 * RAM - loses the frame (MPC, RXO, and one log line, bounded per reset,
 * for the last two); a buffer
 * outside RAM gets its descriptor back with the RX data error bit (RXE),
 * which drivers discard. A frame costs at most its own size in copies and
 * ceil(size / buffer) descriptors: never a loop.
 */
#include "e1000.h"

#define ETH_ZLEN 60u /* the shortest frame without FCS */

/* The 12 hash bits of a multicast address RCTL.MO (0-3) selects. */
static unsigned mta_hash(const uint8_t *da, unsigned mo)
{
    unsigned word = (unsigned)da[4] | (unsigned)da[5] << 8;
    static const unsigned shift[4] = {4, 3, 2, 0};
    return (word >> shift[mo & 3]) & 0xfff;
}

static bool accept(struct e1k *s, const uint8_t *da, uint32_t rctl)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    if (!memcmp(da, bcast, 6))
        return rctl & E1K_RCTL_BAM;
    if (da[0] & 1) {
        if (rctl & E1K_RCTL_MPE)
            return true;
        unsigned h = mta_hash(da, (rctl >> 12) & 3);
        return (e1k_reg(s, E1K_MTA + 4 * (h >> 5)) >> (h & 31)) & 1;
    }
    if (rctl & E1K_RCTL_UPE)
        return true;
    for (unsigned i = 0; i < 16; i++) {
        uint32_t lo = e1k_reg(s, E1K_RA + 8 * i), hi = e1k_reg(s, E1K_RA + 8 * i + 4);
        uint8_t ra[6] = {(uint8_t)lo,         (uint8_t)(lo >> 8), (uint8_t)(lo >> 16),
                         (uint8_t)(lo >> 24), (uint8_t)hi,        (uint8_t)(hi >> 8)};
        if ((hi & E1K_RAH_AV) && !memcmp(da, ra, 6))
            return true;
    }
    return false;
}

static uint32_t buffer_size(uint32_t rctl)
{
    unsigned bsize = (rctl >> 16) & 3;
    if (rctl & E1K_RCTL_BSEX)
        return bsize ? 32768u >> bsize : 2048; /* 16384, 8192, 4096; 0 reserved */
    return 2048u >> bsize;                     /* 2048, 1024, 512, 256 */
}

void e1k_crc_init(struct e1k *s)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (unsigned b = 0; b < 8; b++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
        s->crc_table[i] = c;
    }
}

/* The Ethernet FCS (CRC-32, reflected, as sent on the wire). */
static uint32_t fcs(const struct e1k *s, const uint8_t *p, size_t n)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++)
        crc = (crc >> 8) ^ s->crc_table[(crc ^ p[i]) & 0xff];
    return ~crc;
}

static void count_size(struct e1k *s, unsigned base, uint32_t len)
{
    static const uint32_t upto[6] = {64, 127, 255, 511, 1023, 1522};
    for (unsigned i = 0; i < 6; i++)
        if (len <= upto[i]) {
            e1k_count(s, base + 4 * i, 1);
            return;
        }
}

/* The frame did not fit: dropped, counted, RXO. */
static bool missed(struct e1k *s)
{
    e1k_count(s, E1K_RNBC, 1);
    e1k_count(s, E1K_MPC, 1);
    e1k_raise(s, E1K_ICR_RXO);
    return false;
}

/* Writes s->rxbuf[0..len) into the ring from RDH on; false if the ring is
 * outside RAM (the frame lost). */
static bool to_ring(struct e1k *s, uint32_t len, uint32_t n, uint32_t bufsz)
{
    const struct pdm_hlp *h = s->dev->hlp;
    uint64_t base = (uint64_t)e1k_reg(s, E1K_RDBAH) << 32 | e1k_reg(s, E1K_RDBAL);
    uint32_t head = e1k_reg(s, E1K_RDH);
    for (uint32_t off = 0; off < len; off += bufsz) {
        uint8_t d[E1K_DESC_SIZE];
        uint64_t at = base + (uint64_t)head * E1K_DESC_SIZE;
        if (CAP_FAILED(h->phys_read(s->dev, at, d, sizeof(d)))) {
            e1k_guest_error(s, "the receive descriptor ring is outside RAM");
            return false;
        }
        uint32_t chunk = len - off < bufsz ? len - off : bufsz;
        uint64_t addr = (uint64_t)e1k_le32(d + 4) << 32 | e1k_le32(d);
        uint8_t wb[8] = {(uint8_t)chunk, (uint8_t)(chunk >> 8), 0, 0,
                         E1K_RXD_STAT_DD | E1K_RXD_STAT_IXSM};
        if (off + chunk == len)
            wb[4] |= E1K_RXD_STAT_EOP;
        if (CAP_FAILED(h->phys_write(s->dev, addr, s->rxbuf + off, chunk))) {
            e1k_guest_error(s, "a receive buffer is outside RAM");
            wb[5] = E1K_RXD_ERR_RXE;
        }
        /* length first, then the status: DD is seen with its length */
        if (CAP_FAILED(h->phys_write(s->dev, at + 8, wb, 4)) ||
            CAP_FAILED(h->phys_write(s->dev, at + 12, wb + 4, 4))) {
            e1k_guest_error(s, "the receive descriptor ring is outside RAM");
            return false;
        }
        head = (head + 1) % n;
        e1k_set_reg(s, E1K_RDH, head);
    }
    return true;
}

static bool receive(struct e1k *s, const uint8_t *f, size_t len)
{
    uint32_t rctl = e1k_reg(s, E1K_RCTL);
    if (!s->link || !(rctl & E1K_RCTL_EN) || !e1k_master(s) || len < PDM_NET_FRAME_MIN ||
        len > E1K_RX_MAX)
        return false;
    if (!accept(s, f, rctl))
        return false;
    uint32_t n = e1k_reg(s, E1K_RDLEN) / E1K_DESC_SIZE, head = e1k_reg(s, E1K_RDH),
             tail = e1k_reg(s, E1K_RDT);
    if (n == 0 || head >= n || tail >= n) {
        if (n && (head >= n || tail >= n))
            e1k_guest_error(s, "RDH or RDT beyond the receive ring");
        return missed(s);
    }
    uint32_t size = (uint32_t)len < ETH_ZLEN ? ETH_ZLEN : (uint32_t)len;
    uint32_t total = size + ((rctl & E1K_RCTL_SECRC) ? 0 : 4);
    if (!(rctl & E1K_RCTL_LPE) && size + 4 > 1522) {
        e1k_count(s, E1K_ROC, 1); /* too long without long packets enabled */
        return false;
    }
    uint32_t bufsz = buffer_size(rctl), need = (total + bufsz - 1) / bufsz;
    uint32_t avail = (tail + n - head) % n;
    if (need > avail)
        return missed(s);
    memcpy(s->rxbuf, f, len);
    memset(s->rxbuf + len, 0, size - len);
    if (total > size) {
        uint32_t c = fcs(s, s->rxbuf, size);
        for (unsigned i = 0; i < 4; i++)
            s->rxbuf[size + i] = (uint8_t)(c >> (8 * i));
    }
    if (!to_ring(s, total, n, bufsz)) {
        e1k_count(s, E1K_MPC, 1);
        e1k_raise(s, E1K_ICR_RXO);
        return false;
    }
    e1k_count(s, E1K_TPR, 1);
    e1k_count(s, E1K_GPRC, 1);
    e1k_count(s, E1K_TORL, size + 4);
    e1k_count(s, E1K_GORCL, size + 4);
    count_size(s, E1K_PRC64, size + 4);
    if (f[0] & 1)
        e1k_count(s, f[0] == 0xff && f[5] == 0xff ? E1K_BPRC : E1K_MPRC, 1);
    uint32_t left = avail - need, rdmts = (rctl >> 8) & 3;
    e1k_raise(s, E1K_ICR_RXT0 | (left <= n >> (rdmts + 1) ? E1K_ICR_RXDMT0 : 0));
    return true;
}

bool e1k_receive(struct pdm_dev *dev, void *user, const void *frame, size_t len)
{
    struct e1k *s = user;
    (void)dev;
    s->off_vcpu = true;
    bool taken = receive(s, frame, len);
    s->off_vcpu = false;
    return taken;
}
