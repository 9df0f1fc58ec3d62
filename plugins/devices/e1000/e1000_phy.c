/*
 * plugins/devices/e1000/e1000_phy.c - what sits beside the 82540EM's MAC:
 * its EEPROM and its PHY.
 *
 * The EEPROM is a 64-word Microwire part (93C46; EECD.EE_SIZE reads 0)
 * holding the MAC (words 0-2), the PCI IDs (0x0b-0x0e) and in word 0x3f
 * the value that makes words 0x00-0x3f add up to 0xbaba, which drivers
 * check before they trust the MAC. Drivers read it two ways:
 *  - EECD, bit by bit (Linux's e1000 for the 82540): EE_REQ is granted at
 *    once (EE_GNT); with CS high, each rising edge of SK clocks DI in: a
 *    start bit 1, the opcode (READ is 10) and 6 address bits; then DO
 *    gives a dummy 0 and, at each further rising edge, the word's bits
 *    from bit 15 down, then the next word's (a sequential read). CS low
 *    ends the command. Other opcodes (EWEN, WRITE, ERASE) change nothing:
 *    this EEPROM is read-only.
 *  - EERD: writing START with an address gives DONE and the word at once.
 *
 * The PHY answers MDIC at PHY address 1 (other addresses: MDIC.E, as no
 * PHY answering): a Marvell 88E1011-like gigabit copper PHY (the IDs
 * 0x0141:0x0c2x Linux's e1000 expects with an 82540), its BMSR reporting
 * link and finished auto-negotiation while the cable is in, with a partner
 * at 1000 Mb/s full duplex; the control and advertisement registers keep
 * what the driver writes; reset and restart-negotiation bits clear
 * themselves. MDIC completes at once (READY).
 */
#include "e1000.h"

/* PHY registers (IEEE 802.3 clause 22, and the Marvell ones Linux reads) */
#define PHY_BMCR        0
#define PHY_BMSR        1
#define PHY_ID1         2
#define PHY_ID2         3
#define PHY_ANAR        4
#define PHY_ANLPAR      5
#define PHY_ANER        6
#define PHY_NPTX        7
#define PHY_1000T_CTRL  9
#define PHY_1000T_STAT  10
#define PHY_EXT_STATUS  15
#define PHY_SPEC_CTRL   16
#define PHY_SPEC_STATUS 17
#define PHY_EXT_CTRL    20
#define PHY_ADDR        1

#define BMCR_RESET   0x8000u
#define BMCR_RESTART 0x0200u
#define BMSR_BASE                                                                                  \
    0x7949u /* 100/10 full/half, ext. status, preamble suppression, AN able, ext. caps */
#define BMSR_LINK    0x0004u
#define BMSR_AN_DONE 0x0020u

/* EEPROM words */
#define EE_SUBSYS_ID     0x0b
#define EE_SUBSYS_VENDOR 0x0c
#define EE_DEVICE_ID     0x0d
#define EE_VENDOR_ID     0x0e
#define EE_CHECKSUM      0x3f

#define MW_OPCODE_READ 2u
#define MW_CMD_BITS    9u /* start, 2 opcode, 6 address */

void e1k_eeprom_init(struct e1k *s, const uint8_t mac[6])
{
    memset(s->eeprom, 0, sizeof(s->eeprom));
    for (unsigned i = 0; i < 3; i++)
        s->eeprom[i] = (uint16_t)(mac[2 * i] | mac[2 * i + 1] << 8);
    s->eeprom[EE_SUBSYS_ID] = 0x001e;
    s->eeprom[EE_SUBSYS_VENDOR] = 0x8086;
    s->eeprom[EE_DEVICE_ID] = 0x100e;
    s->eeprom[EE_VENDOR_ID] = 0x8086;
    uint16_t sum = 0;
    for (unsigned i = 0; i < EE_CHECKSUM; i++)
        sum = (uint16_t)(sum + s->eeprom[i]);
    s->eeprom[EE_CHECKSUM] = (uint16_t)(E1K_EEPROM_SUM - sum);
}

/* ---- Microwire through EECD -------------------------------------------------- */

static void mw_idle(struct e1k *s)
{
    s->ee_in = 0;
    s->ee_bits = 0;
    s->ee_reading = false;
    s->ee_left = 0;
}

/* A rising edge of SK with CS high: the next bit in, or out. Returns DO. */
static bool mw_clock(struct e1k *s, bool di)
{
    if (s->ee_reading) {
        if (!s->ee_left) { /* sequential read: the next word */
            s->ee_addr = (s->ee_addr + 1) % E1K_EEPROM_WORDS;
            s->ee_out = s->eeprom[s->ee_addr];
            s->ee_left = 16;
        }
        s->ee_left--;
        return (s->ee_out >> s->ee_left) & 1;
    }
    if (s->ee_bits >= MW_CMD_BITS || (!s->ee_bits && !di))
        return true; /* a finished command, or no start bit yet: DO idles high */
    s->ee_in = s->ee_in << 1 | di;
    if (++s->ee_bits < MW_CMD_BITS)
        return true;
    if (((s->ee_in >> 6) & 3) != MW_OPCODE_READ)
        return true; /* EWEN, EWDS, WRITE, ERASE: read-only here */
    s->ee_reading = true;
    s->ee_addr = s->ee_in & (E1K_EEPROM_WORDS - 1);
    s->ee_out = s->eeprom[s->ee_addr];
    s->ee_left = 16;
    return false; /* the dummy 0 before the data */
}

void e1k_eecd_write(struct e1k *s, uint32_t v)
{
    uint32_t old = e1k_reg(s, E1K_EECD);
    uint32_t keep = E1K_EECD_SK | E1K_EECD_CS | E1K_EECD_DI | E1K_EECD_FWE | E1K_EECD_REQ;
    uint32_t now = (v & keep) | E1K_EECD_PRES | (v & E1K_EECD_REQ ? E1K_EECD_GNT : 0);
    bool dout = old & E1K_EECD_DO;
    if (!(now & E1K_EECD_CS)) {
        mw_idle(s);
        dout = false;
    } else if ((now & E1K_EECD_SK) && !(old & E1K_EECD_SK)) {
        dout = mw_clock(s, now & E1K_EECD_DI);
    }
    e1k_set_reg(s, E1K_EECD, now | (dout ? E1K_EECD_DO : 0));
}

uint32_t e1k_eecd_read(const struct e1k *s)
{
    return e1k_reg(s, E1K_EECD);
}

void e1k_eerd_write(struct e1k *s, uint32_t v)
{
    unsigned addr = (v >> 8) & 0xff;
    if (!(v & E1K_EERD_START)) {
        e1k_set_reg(s, E1K_EERD, v & 0xff00u);
        return;
    }
    uint16_t word = addr < E1K_EEPROM_WORDS ? s->eeprom[addr] : 0xffff;
    e1k_set_reg(s, E1K_EERD, E1K_EERD_DONE | addr << 8 | (uint32_t)word << 16);
}

/* ---- the PHY ------------------------------------------------------------------------ */

void e1k_phy_link(struct e1k *s)
{
    bool up = s->link;
    s->phy[PHY_BMSR] = (uint16_t)(BMSR_BASE | (up ? BMSR_LINK | BMSR_AN_DONE : 0));
    s->phy[PHY_ANLPAR] = up ? 0x45e1 : 0;     /* ack, pause, 100/10 full/half */
    s->phy[PHY_ANER] = up ? 0x0001 : 0;       /* the partner negotiates */
    s->phy[PHY_1000T_STAT] = up ? 0x3c00 : 0; /* receivers fine, partner 1000 full/half */
    /* 1000 Mb/s, full duplex, resolved, link */
    s->phy[PHY_SPEC_STATUS] = up ? 0xac00 : 0;
}

void e1k_phy_reset(struct e1k *s)
{
    memset(s->phy, 0, sizeof(s->phy));
    s->phy[PHY_BMCR] = 0x1140; /* auto-negotiation, full duplex, 1000 */
    s->phy[PHY_ID1] = 0x0141;
    s->phy[PHY_ID2] = 0x0c20;
    s->phy[PHY_ANAR] = 0x0de1;
    s->phy[PHY_NPTX] = 0x2001;
    s->phy[PHY_1000T_CTRL] = 0x0300;
    s->phy[PHY_EXT_STATUS] = 0x3000;
    s->phy[PHY_SPEC_CTRL] = 0x0068;
    s->phy[PHY_EXT_CTRL] = 0x0c60;
    e1k_phy_link(s);
}

static void phy_write(struct e1k *s, unsigned reg, uint16_t v)
{
    switch (reg) {
    case PHY_BMCR:
        s->phy[reg] = (uint16_t)(v & ~(BMCR_RESET | BMCR_RESTART));
        return;
    case PHY_BMSR:
    case PHY_ID1:
    case PHY_ID2:
    case PHY_ANLPAR:
    case PHY_ANER:
    case PHY_1000T_STAT:
    case PHY_EXT_STATUS:
    case PHY_SPEC_STATUS:
        return; /* read-only */
    default:
        s->phy[reg] = v;
    }
}

void e1k_mdic_write(struct e1k *s, uint32_t v)
{
    unsigned reg = (v >> 16) & 0x1f, addr = (v >> 21) & 0x1f;
    uint32_t op = v & (3u << 26);
    uint32_t out = v & ~(E1K_MDIC_READY | E1K_MDIC_ERROR);
    if (addr != PHY_ADDR || (op != E1K_MDIC_OP_READ && op != E1K_MDIC_OP_WRITE))
        out |= E1K_MDIC_ERROR;
    else if (op == E1K_MDIC_OP_READ)
        out = (out & ~0xffffu) | s->phy[reg];
    else
        phy_write(s, reg, (uint16_t)v);
    e1k_set_reg(s, E1K_MDIC, out | E1K_MDIC_READY);
    if (v & E1K_MDIC_INT)
        e1k_raise(s, E1K_ICR_MDAC);
}
