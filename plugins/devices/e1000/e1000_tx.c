/*
 * plugins/devices/e1000/e1000_tx.c - the 82540EM's transmit path: the
 * guest's descriptors, from TDH up to TDT (the doorbell), into frames for
 * the attachment (hlp->net_send).
 *
 * Three kinds of descriptor (16 bytes each, RDLEN / 16 in the ring at
 * TDBAH:TDBAL):
 *  - legacy (CMD.DEXT 0): a buffer and its length; with CMD.IC the
 *    packet's first descriptor asks for a checksum from CSS to the end,
 *    stored at CSO;
 *  - context (DEXT, DTYP 0): the offsets of the IP and TCP/UDP checksums
 *    (IPCSS/IPCSO/IPCSE, TUCSS/TUCSO/TUCSE) and, with TUCMD.TSE, the TCP
 *    segmentation's header length, MSS and the protocol (TUCMD.IP: IPv4
 *    else IPv6; TUCMD.TCP: TCP else UDP);
 *  - data (DEXT, DTYP 1): a buffer; the packet's first one's POPTS asks for
 *    the IP (IXSM) and TCP/UDP (TXSM) checksums, DCMD.TSE for segmentation.
 * Descriptors gather into a packet until one with EOP. Checksum insertion
 * adds the 16-bit one's complement sum of the bytes from the start offset
 * to the end offset (inclusive; 0: the packet's end) to what the driver
 * left in the field (the pseudo-header's sum, as Linux leaves it) and
 * stores its complement. Segmentation: each segment is the header and at
 * most MSS payload bytes, with the IPv4 total length and identification
 * (+1 per segment) or the IPv6 payload length, the TCP sequence number
 * (FIN and PSH only on the last segment) or the UDP length, and the
 * checksums as asked, the segment's TCP/UDP length added to the
 * pseudo-header sum the driver left. Linux's e1000 uses both (it offers
 * checksum offload and TSO for an 82540 unconditionally).
 *
 * A descriptor with RS (or RPS) gets DD written back, then TXDW; TXQE
 * when the ring is empty. TCTL.PSP pads short frames to 60 bytes.
 *
 * Bounds: at most E1K_TX_BATCH descriptors per doorbell (TDT or TCTL
 * written); more waiting continue from a zero-delay timer, the same
 * amount at a time, so a storm costs bounded work per exit. A packet is
 * assembled in one buffer of the device's state (E1K_TX_MAX bytes) and a
 * segment in another: nothing is allocated. A guest that lies - TDLEN 0,
 * TDH or TDT past the ring, the ring outside RAM (transmit stops until
 * the guest writes TDT again), buffers outside RAM, packets past
 * E1K_TX_MAX, a TSO context that does not fit its packet or asks for more
 * than E1K_TSO_SEGS segments, descriptors of an unknown type - loses the
 * packet (a log line, bounded per reset); its descriptors still complete.
 */
#include "e1000.h"

#define TCP_FIN_PSH 0x09u

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* One's complement sum of n bytes as big-endian 16-bit words, folded. */
static uint32_t ones_sum(const uint8_t *p, size_t n, uint32_t sum)
{
    uint64_t acc = sum;
    for (size_t i = 0; i + 1 < n; i += 2)
        acc += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        acc += (uint32_t)p[n - 1] << 8;
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint32_t)acc;
}

/* The checksum of [css, cse] (cse 0: to the end) plus `extra`, at cso. */
static void insert_csum(uint8_t *b, uint32_t len, uint32_t css, uint32_t cso, uint32_t cse,
                        uint32_t extra)
{
    uint32_t end = cse ? cse + 1 : len;
    if (end > len)
        end = len;
    if (css >= end || cso + 2 > len)
        return;
    put_be16(b + cso, ~ones_sum(b + css, end - css, extra) & 0xffff);
}

static void count_sent(struct e1k *s, const uint8_t *f, uint32_t len)
{
    static const uint32_t upto[6] = {64, 127, 255, 511, 1023, 1522};
    e1k_count(s, E1K_TPT, 1);
    e1k_count(s, E1K_GPTC, 1);
    e1k_count(s, E1K_TOTL, len + 4);
    e1k_count(s, E1K_GOTCL, len + 4);
    for (unsigned i = 0; i < 6; i++)
        if (len + 4 <= upto[i]) {
            e1k_count(s, E1K_PTC64 + 4 * i, 1);
            break;
        }
    if (f[0] & 1)
        e1k_count(s, f[0] == 0xff && f[5] == 0xff ? E1K_BPTC : E1K_MPTC, 1);
}

static void send(struct e1k *s, uint8_t *f, uint32_t len)
{
    if (len < PDM_NET_FRAME_MIN)
        return;
    if (len < 60 && (e1k_reg(s, E1K_TCTL) & E1K_TCTL_PSP)) {
        memset(f + len, 0, 60 - len);
        len = 60;
    }
    if (!s->link)
        return;
    count_sent(s, f, len);
    if (s->net)
        s->dev->hlp->net_send(s->net, f, len);
}

/* ---- TCP segmentation ----------------------------------------------------------- */

static bool tso_fits(struct e1k *s, uint32_t paylen)
{
    const struct e1k_tx_ctx *c = &s->ctx;
    bool v4 = c->tucmd & E1K_TUCMD_IP, tcp = c->tucmd & E1K_TUCMD_TCP;
    uint32_t hdr = c->hdrlen;
    return hdr >= PDM_NET_FRAME_MIN && paylen && c->mss && c->ipcss + (v4 ? 20u : 40u) <= hdr &&
           c->tucss + (tcp ? 20u : 8u) <= hdr && c->tucso + 2u <= hdr && c->ipcso + 2u <= hdr &&
           (paylen + c->mss - 1) / c->mss <= E1K_TSO_SEGS;
}

static void tso(struct e1k *s)
{
    const struct e1k_tx_ctx *c = &s->ctx;
    const uint8_t *b = s->txbuf;
    uint32_t hdr = c->hdrlen, paylen = s->pkt.len > hdr ? s->pkt.len - hdr : 0;
    if (!tso_fits(s, paylen)) {
        e1k_guest_error(s, "a TSO context that does not fit its packet");
        return;
    }
    bool v4 = c->tucmd & E1K_TUCMD_IP, tcp = c->tucmd & E1K_TUCMD_TCP;
    uint16_t id = be16(b + c->ipcss + 4);
    uint32_t seq = (uint32_t)be16(b + c->tucss + 4) << 16 | be16(b + c->tucss + 6);
    uint8_t *g = s->segbuf;
    for (uint32_t off = 0, i = 0; off < paylen; off += c->mss, i++) {
        uint32_t chunk = paylen - off < c->mss ? paylen - off : c->mss, len = hdr + chunk;
        memcpy(g, b, hdr);
        memcpy(g + hdr, b + hdr + off, chunk);
        if (v4) {
            put_be16(g + c->ipcss + 2, len - c->ipcss);
            put_be16(g + c->ipcss + 4, (uint32_t)(id + i));
        } else {
            put_be16(g + c->ipcss + 4, len - c->ipcss - 40);
        }
        if (tcp) {
            put_be16(g + c->tucss + 4, (seq + off) >> 16);
            put_be16(g + c->tucss + 6, seq + off);
            if (off + chunk < paylen)
                g[c->tucss + 13] &= (uint8_t)~TCP_FIN_PSH;
        } else {
            put_be16(g + c->tucss + 4, len - c->tucss);
        }
        if (v4 && (s->pkt.popts & E1K_POPTS_IXSM)) {
            put_be16(g + c->ipcso, 0);
            insert_csum(g, len, c->ipcss, c->ipcso, c->ipcse, 0);
        }
        if (s->pkt.popts & E1K_POPTS_TXSM)
            insert_csum(g, len, c->tucss, c->tucso, 0, len - c->tucss);
        send(s, g, len);
    }
    e1k_count(s, E1K_TSCTC, 1);
}

/* ---- packets ------------------------------------------------------------------------- */

static void finish(struct e1k *s)
{
    struct e1k_tx_pkt *p = &s->pkt;
    const struct e1k_tx_ctx *c = &s->ctx;
    if (p->oversize)
        e1k_guest_error(s, "a transmit packet larger than 64 KiB");
    if (p->oversize || p->dma_error) {
        if (p->tse)
            e1k_count(s, E1K_TSCTFC, 1);
    } else if (p->tse && (c->tucmd & E1K_TUCMD_TSE)) {
        tso(s);
    } else {
        if (p->legacy_ic)
            insert_csum(s->txbuf, p->len, p->css, p->cso, 0, 0);
        if (p->popts & E1K_POPTS_IXSM)
            insert_csum(s->txbuf, p->len, c->ipcss, c->ipcso, c->ipcse, 0);
        if (p->popts & E1K_POPTS_TXSM)
            insert_csum(s->txbuf, p->len, c->tucss, c->tucso, c->tucse, 0);
        send(s, s->txbuf, p->len);
    }
    memset(p, 0, sizeof(*p));
}

static void append(struct e1k *s, uint64_t addr, uint32_t len)
{
    struct e1k_tx_pkt *p = &s->pkt;
    if (p->oversize || p->dma_error || !len)
        return;
    if (len > E1K_TX_MAX - p->len) {
        p->oversize = true;
        return;
    }
    if (CAP_FAILED(s->dev->hlp->phys_read(s->dev, addr, s->txbuf + p->len, len))) {
        e1k_guest_error(s, "a transmit buffer is outside RAM");
        p->dma_error = true;
        return;
    }
    p->len += len;
}

static void context(struct e1k *s, const uint8_t *d)
{
    struct e1k_tx_ctx *c = &s->ctx;
    c->ipcss = d[0];
    c->ipcso = d[1];
    c->ipcse = e1k_le16(d + 2);
    c->tucss = d[4];
    c->tucso = d[5];
    c->tucse = e1k_le16(d + 6);
    c->paylen = e1k_le32(d + 8) & 0xfffff;
    c->tucmd = d[11];
    c->hdrlen = d[13];
    c->mss = e1k_le16(d + 14);
}

/* One descriptor (not a context's write-back). */
static void descriptor(struct e1k *s, const uint8_t *d)
{
    struct e1k_tx_pkt *p = &s->pkt;
    uint8_t cmd = d[11];
    unsigned dtyp = (d[10] >> 4) & 0xf;
    uint64_t addr = (uint64_t)e1k_le32(d + 4) << 32 | e1k_le32(d);
    if ((cmd & E1K_TXD_CMD_DEXT) && dtyp == E1K_TXD_DTYP_CTX) {
        context(s, d);
        return;
    }
    if ((cmd & E1K_TXD_CMD_DEXT) && dtyp != E1K_TXD_DTYP_DATA) {
        e1k_guest_error(s, "a transmit descriptor of an unknown type");
        return;
    }
    bool data = cmd & E1K_TXD_CMD_DEXT;
    if (!p->started) {
        p->started = true;
        p->tse = data && (cmd & E1K_TXD_CMD_TSE);
        p->popts = data ? d[13] : 0;
        p->legacy_ic = !data && (cmd & E1K_TXD_CMD_IC);
        p->cso = d[10];
        p->css = d[13];
    }
    append(s, addr, data ? e1k_le32(d + 8) & 0xfffff : e1k_le16(d + 8));
    if (cmd & E1K_TXD_CMD_EOP)
        finish(s);
}

void e1k_tx_run(struct e1k *s)
{
    const struct pdm_hlp *h = s->dev->hlp;
    uint32_t n = e1k_reg(s, E1K_TDLEN) / E1K_DESC_SIZE, head = e1k_reg(s, E1K_TDH),
             tail = e1k_reg(s, E1K_TDT);
    if (!(e1k_reg(s, E1K_TCTL) & E1K_TCTL_EN) || n == 0 || !e1k_master(s))
        return;
    if (head >= n || tail >= n) {
        e1k_guest_error(s, "TDH or TDT beyond the transmit ring");
        return;
    }
    uint64_t base = (uint64_t)e1k_reg(s, E1K_TDBAH) << 32 | e1k_reg(s, E1K_TDBAL);
    uint32_t causes = 0;
    unsigned done = 0;
    for (; head != tail && done < E1K_TX_BATCH; done++) {
        uint8_t d[E1K_DESC_SIZE];
        uint64_t at = base + (uint64_t)head * E1K_DESC_SIZE;
        if (CAP_FAILED(h->phys_read(s->dev, at, d, sizeof(d)))) {
            e1k_guest_error(s, "the transmit descriptor ring is outside RAM");
            break;
        }
        descriptor(s, d);
        if (d[11] & (E1K_TXD_CMD_RS | E1K_TXD_CMD_RPS)) {
            uint8_t st = d[12] | E1K_TXD_STAT_DD;
            if (CAP_FAILED(h->phys_write(s->dev, at + 12, &st, 1))) {
                e1k_guest_error(s, "the transmit descriptor ring is outside RAM");
                break;
            }
            causes |= E1K_ICR_TXDW;
        }
        head = (head + 1) % n;
        e1k_set_reg(s, E1K_TDH, head);
    }
    if (head == tail)
        causes |= E1K_ICR_TXQE;
    if (causes)
        e1k_raise(s, causes);
    if (head != tail && done == E1K_TX_BATCH && !h->timer_armed(s->tx_timer))
        h->timer_arm_rel(s->tx_timer, 0);
}

void e1k_tx_timer(struct pdm_dev *dev, void *user, uint64_t now_ns)
{
    (void)dev, (void)now_ns;
    e1k_tx_run(user);
}

void e1k_tx_reset(struct e1k *s)
{
    memset(&s->ctx, 0, sizeof(s->ctx));
    memset(&s->pkt, 0, sizeof(s->pkt));
}
