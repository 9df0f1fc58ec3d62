/*
 * plugins/devices/e1000/e1000.h - the Intel 82540EM (e1000) adapter's
 * state and the contract between its files (internal to the plugin):
 *
 *   e1000.c       the device: PCI function, registers (BAR 0 MMIO, BAR 1
 *                 IOADDR/IODATA), interrupts and moderation, the cable,
 *                 saved state
 *   e1000_phy.c   the EEPROM (Microwire through EECD, and EERD) and the
 *                 PHY behind MDIC
 *   e1000_rx.c    receive: address filtering, legacy receive descriptors
 *   e1000_tx.c    transmit: legacy, context and data descriptors,
 *                 checksum offload, TCP segmentation
 *
 * Register names, offsets and bits are those of Intel's PCI/PCI-X Family of
 * Gigabit Ethernet Controllers Software Developer's Manual (8254x), ch. 13.
 * Every function here runs under PDM's device lock (ops, timers, the
 * attachment's receive callback).
 */
#ifndef CAPSULE_DEV_E1000_H
#define CAPSULE_DEV_E1000_H

#include "pdmdev.h"

#include "e1000_regs.h"

/* ---- sizes and bounds ----------------------------------------------------- */
#define E1K_BAR0_SIZE    0x20000u /* 128 KiB of registers */
#define E1K_BAR1_SIZE    8u       /* IOADDR, IODATA */
#define E1K_EEPROM_WORDS 64       /* a 93C46 (EECD.EE_SIZE 0) */
#define E1K_EEPROM_SUM   0xbabau  /* the words 0x00-0x3f add up to this */
#define E1K_PHY_REGS     32
#define E1K_DESC_SIZE    16u
#define E1K_RX_MAX       16384u          /* the largest frame taken (LPE, 16 KiB buffers) */
#define E1K_TX_MAX       (65536u + 512u) /* a packet being assembled (TSO's too) */
#define E1K_TX_BATCH     256u            /* transmit descriptors per doorbell or timer */
#define E1K_TSO_SEGS     512u            /* segments of one TSO packet, at most */
#define E1K_LOG_MAX      8u              /* lines about the guest's mistakes per reset */

/* The one transmit context (a context descriptor sets it). */
struct e1k_tx_ctx {
    uint8_t ipcss, ipcso, tucss, tucso;
    uint16_t ipcse, tucse;
    uint32_t paylen; /* TSO: the payload's bytes */
    uint8_t tucmd;   /* E1K_TUCMD_* */
    uint8_t hdrlen;  /* TSO: the header's bytes */
    uint16_t mss;    /* TSO: the payload per segment */
};
#define E1K_TUCMD_TCP (1u << 0) /* TCP, else UDP */
#define E1K_TUCMD_IP  (1u << 1) /* IPv4, else IPv6 */
#define E1K_TUCMD_TSE (1u << 2)

/* The packet the transmit descriptors are assembling. */
struct e1k_tx_pkt {
    uint32_t len;
    bool started;   /* a first data or legacy descriptor came */
    bool oversize;  /* more than E1K_TX_MAX: dropped at its end */
    bool dma_error; /* a buffer outside RAM: dropped at its end */
    bool tse;       /* a TSO packet (data descriptors with TSE) */
    uint8_t popts;  /* data descriptors: E1K_POPTS_* of the first */
    bool legacy_ic; /* legacy descriptor: insert a checksum */
    uint8_t css, cso;
};
#define E1K_POPTS_IXSM (1u << 0)
#define E1K_POPTS_TXSM (1u << 1)

/*
 * Lifecycle: dev, net, fn, timers, eeprom (MAC, checksum), crc_table and
 * link (the configuration's) at construct; link then by pdm_net_set_link;
 * everything else at reset (e1k_reset) and then by the guest's register
 * writes.
 */
struct e1k {
    struct pci_function fn; /* BAR 0 user: &fn; BAR 1 user: &ioaddr */
    struct pdm_dev *dev;
    struct pdm_net *net;         /* NULL: no attachment (frames go nowhere) */
    struct pdm_timer *itr_timer; /* a held-back interrupt, ITR */
    struct pdm_timer *tx_timer;  /* transmit past E1K_TX_BATCH */
    uint16_t eeprom[E1K_EEPROM_WORDS];
    bool link; /* the cable */

    uint32_t regs[E1K_NREGS]; /* plain registers and the state of the others */
    uint32_t ioaddr;          /* BAR 1's IOADDR */
    uint64_t irq_next_ns;     /* ITR: no interrupt before this */
    bool irq_level;           /* INTx as last set */
    bool off_vcpu;            /* in a call from another thread than the vCPU's (a frame,
                                 the cable): ITR holds nothing */
    unsigned logged;          /* lines logged since reset (E1K_LOG_MAX) */

    /* Microwire: the EEPROM's shift register */
    uint32_t ee_in;   /* bits clocked in since CS */
    unsigned ee_bits; /* how many */
    bool ee_reading;  /* READ decoded: DO shifts out ee_out */
    unsigned ee_addr; /* the word being read */
    unsigned ee_left; /* bits of ee_out still to shift */
    uint16_t ee_out;

    uint16_t phy[E1K_PHY_REGS];
    uint32_t crc_table[256]; /* the FCS's, at construct */

    struct e1k_tx_ctx ctx;
    struct e1k_tx_pkt pkt;
    uint8_t txbuf[E1K_TX_MAX];
    uint8_t segbuf[256 + 65536]; /* a TSO segment: header and payload */
    uint8_t rxbuf[E1K_RX_MAX + 64];
};

static inline uint32_t e1k_reg(const struct e1k *s, unsigned off)
{
    return s->regs[off / 4];
}

static inline void e1k_set_reg(struct e1k *s, unsigned off, uint32_t v)
{
    s->regs[off / 4] = v;
}

/* Bus mastering: without it the function reads and writes no memory. */
static inline bool e1k_master(const struct e1k *s)
{
    return pci_fn_get16(&s->fn, PCI_COMMAND) & PCI_COMMAND_MASTER;
}

static inline uint32_t e1k_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint16_t e1k_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* e1000.c */
/* Sets interrupt causes (ICR |= causes) and updates INTx, ITR allowing. */
void e1k_raise(struct e1k *s, uint32_t causes);
/* Adds n to statistics register `off` (the 64-bit pairs: off is the low half). */
void e1k_count(struct e1k *s, unsigned off, uint64_t n);
/* One line about what the guest did wrong, at most E1K_LOG_MAX per reset. */
void e1k_guest_error(struct e1k *s, const char *what);

/* e1000_phy.c */
/* The EEPROM's image: the MAC, the IDs, the checksum word. */
void e1k_eeprom_init(struct e1k *s, const uint8_t mac[6]);
/* The guest wrote EECD (`v`): clocks the Microwire interface. */
void e1k_eecd_write(struct e1k *s, uint32_t v);
/* EECD as the guest reads it. */
uint32_t e1k_eecd_read(const struct e1k *s);
/* The guest wrote EERD. */
void e1k_eerd_write(struct e1k *s, uint32_t v);
/* The PHY's registers at reset (the link as s->link says). */
void e1k_phy_reset(struct e1k *s);
/* The PHY's view of the cable changed. */
void e1k_phy_link(struct e1k *s);
/* The guest wrote MDIC: reads or writes a PHY register at once. */
void e1k_mdic_write(struct e1k *s, uint32_t v);

/* e1000_rx.c */
/* Fills s->crc_table (construct). */
void e1k_crc_init(struct e1k *s);
bool e1k_receive(struct pdm_dev *dev, void *user, const void *frame, size_t len);

/* e1000_tx.c */
/* Processes up to E1K_TX_BATCH descriptors; arms tx_timer when more wait. */
void e1k_tx_run(struct e1k *s);
/* tx_timer's callback: e1k_tx_run. */
void e1k_tx_timer(struct pdm_dev *dev, void *user, uint64_t now_ns);
/* Forgets the context and any packet being assembled. */
void e1k_tx_reset(struct e1k *s);

#endif
