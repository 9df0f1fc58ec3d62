/*
 * plugins/devices/e1000/e1000_regs.h - the 82540EM's registers as the
 * 8254x Software Developer's Manual (ch. 13) names them: byte offsets in
 * BAR 0 and the bits this model uses. Only #defines, so that the device
 * (e1000.h), its unit test and the freestanding hostile guest
 * (tests/guests/hostile/e1000_hostile.c) share one copy.
 */
#ifndef CAPSULE_DEV_E1000_REGS_H
#define CAPSULE_DEV_E1000_REGS_H

/* ---- registers (byte offsets in BAR 0) ---------------------------------- */
#define E1K_CTRL      0x0000
#define E1K_STATUS    0x0008
#define E1K_EECD      0x0010
#define E1K_EERD      0x0014
#define E1K_CTRL_EXT  0x0018
#define E1K_MDIC      0x0020
#define E1K_ICR       0x00c0
#define E1K_ITR       0x00c4
#define E1K_ICS       0x00c8
#define E1K_IMS       0x00d0
#define E1K_IMC       0x00d8
#define E1K_RCTL      0x0100
#define E1K_TCTL      0x0400
#define E1K_RDBAL     0x2800
#define E1K_RDBAH     0x2804
#define E1K_RDLEN     0x2808
#define E1K_RDH       0x2810
#define E1K_RDT       0x2818
#define E1K_TDBAL     0x3800
#define E1K_TDBAH     0x3804
#define E1K_TDLEN     0x3808
#define E1K_TDH       0x3810
#define E1K_TDT       0x3818
#define E1K_STATS     0x4000 /* statistics: 0x4000-0x40ff, read to clear */
#define E1K_STATS_END 0x4100
#define E1K_MTA       0x5200 /* 128 registers: the multicast hash table */
#define E1K_RA        0x5400 /* 16 pairs RAL/RAH */
#define E1K_REGS_END  0x6000 /* registers above read 0 (BAR 0 is 128 KiB) */
#define E1K_NREGS     (E1K_REGS_END / 4)

/* statistics (byte offsets) this model counts */
#define E1K_MPC    0x4010
#define E1K_PRC64  0x405c /* PRC64, 127, 255, 511, 1023, 1522: +4 each */
#define E1K_GPRC   0x4074
#define E1K_BPRC   0x4078
#define E1K_MPRC   0x407c
#define E1K_GPTC   0x4080
#define E1K_GORCL  0x4088
#define E1K_GOTCL  0x4090
#define E1K_RNBC   0x40a0
#define E1K_ROC    0x40ac
#define E1K_TORL   0x40c0
#define E1K_TOTL   0x40c8
#define E1K_TPR    0x40d0
#define E1K_TPT    0x40d4
#define E1K_PTC64  0x40d8 /* PTC64 ... PTC1522 */
#define E1K_MPTC   0x40f0
#define E1K_BPTC   0x40f4
#define E1K_TSCTC  0x40f8
#define E1K_TSCTFC 0x40fc

#define E1K_CTRL_SLU     (1u << 6)
#define E1K_CTRL_RST     (1u << 26)
#define E1K_CTRL_PHY_RST (1u << 31)

#define E1K_STATUS_FD        (1u << 0)
#define E1K_STATUS_LU        (1u << 1)
#define E1K_STATUS_SPEED1000 (2u << 6)

#define E1K_EECD_SK    (1u << 0)
#define E1K_EECD_CS    (1u << 1)
#define E1K_EECD_DI    (1u << 2)
#define E1K_EECD_DO    (1u << 3)
#define E1K_EECD_FWE   (3u << 4)
#define E1K_EECD_REQ   (1u << 6)
#define E1K_EECD_GNT   (1u << 7)
#define E1K_EECD_PRES  (1u << 8)
#define E1K_EERD_START (1u << 0)
#define E1K_EERD_DONE  (1u << 4)

#define E1K_MDIC_OP_WRITE (1u << 26)
#define E1K_MDIC_OP_READ  (2u << 26)
#define E1K_MDIC_READY    (1u << 28)
#define E1K_MDIC_INT      (1u << 29)
#define E1K_MDIC_ERROR    (1u << 30)

/* interrupt causes (ICR, ICS, IMS, IMC) */
#define E1K_ICR_TXDW   (1u << 0)
#define E1K_ICR_TXQE   (1u << 1)
#define E1K_ICR_LSC    (1u << 2)
#define E1K_ICR_RXDMT0 (1u << 4)
#define E1K_ICR_RXO    (1u << 6)
#define E1K_ICR_RXT0   (1u << 7)
#define E1K_ICR_MDAC   (1u << 9)
#define E1K_ICR_ALL    0x0001f6dfu /* the causes the 82540EM has */

#define E1K_RCTL_EN    (1u << 1)
#define E1K_RCTL_UPE   (1u << 3)
#define E1K_RCTL_MPE   (1u << 4)
#define E1K_RCTL_LPE   (1u << 5)
#define E1K_RCTL_BAM   (1u << 15)
#define E1K_RCTL_BSEX  (1u << 25)
#define E1K_RCTL_SECRC (1u << 26)

#define E1K_TCTL_EN  (1u << 1)
#define E1K_TCTL_PSP (1u << 3) /* pad short packets */

#define E1K_RAH_AV (1u << 31)

/* transmit descriptor command bits (CMD of legacy, DCMD of data and TUCMD
 * of context descriptors share them), and the types */
#define E1K_TXD_CMD_EOP   0x01u
#define E1K_TXD_CMD_IFCS  0x02u
#define E1K_TXD_CMD_IC    0x04u /* legacy: insert checksum */
#define E1K_TXD_CMD_TSE   0x04u /* data: TCP segmentation */
#define E1K_TXD_CMD_RS    0x08u
#define E1K_TXD_CMD_RPS   0x10u
#define E1K_TXD_CMD_DEXT  0x20u
#define E1K_TXD_STAT_DD   0x01u
#define E1K_TXD_DTYP_CTX  0u
#define E1K_TXD_DTYP_DATA 1u

/* receive descriptor status and errors */
#define E1K_RXD_STAT_DD   0x01u
#define E1K_RXD_STAT_EOP  0x02u
#define E1K_RXD_STAT_IXSM 0x04u
#define E1K_RXD_ERR_RXE   0x80u

#endif
