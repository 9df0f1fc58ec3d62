/*
 * plugins/devices/ahci/ahci.h - the AHCI SATA controller's state, shared by
 * its parts: ahci.c (registration, the PCI function, the HBA registers,
 * the interrupt) and ahci_port.c (the ports: their registers, the command
 * list and received-FIS area in guest memory, command tables and PRDTs).
 *
 * Serial ATA AHCI 1.3: the HBA's registers sit in one memory BAR (ABAR,
 * BAR5): 0x100 bytes of generic host control, then 0x80 bytes per port.
 * Each port has at most one device, a drive of PDM's block layer on LUN
 * port. The device side - the ATA and ATAPI command sets, the data
 * pipeline through the drive's I/O thread - is the IDE controller's
 * (plugins/devices/piix3ide: ide_ata.c, ide_atapi.c, built into this
 * plugin too): each port drives one struct ide_channel with the drive as
 * its master, loads a command FIS into the channel's taskfile and runs
 * the command as a guest writing the command register would. What a PIIX3
 * moves through its data port and bus-master engine, an AHCI port moves
 * through the command's PRDT; ahci_port.c supplies the controller side the
 * ATA core calls (ide_raise_irq, ide_set_signature, ide_dma_kick,
 * ide_dma_copy, ide_dma_finish).
 */
#ifndef PLUGINS_DEVICES_AHCI_AHCI_H
#define PLUGINS_DEVICES_AHCI_AHCI_H

#include "../piix3ide/ide.h"

#define AHCI_MAX_PORTS 30 /* 0x100 + 30 * 0x80 = 4 KiB of ABAR */
#define AHCI_SLOTS     32
#define AHCI_ABAR_SIZE 0x1000u
#define AHCI_ABAR_BAR  5

/* Generic host control registers (offsets in ABAR). */
#define HBA_CAP     0x00
#define HBA_GHC     0x04
#define HBA_IS      0x08
#define HBA_PI      0x0c
#define HBA_VS      0x10
#define HBA_CAP2    0x24
#define HBA_PORTS   0x100
#define HBA_PORT_SZ 0x80

#define CAP_S64A        (1u << 31)
#define CAP_SNCQ        (1u << 30)
#define CAP_SCLO        (1u << 24)
#define CAP_ISS_GEN2    (2u << 20)
#define CAP_SAM         (1u << 18)
#define CAP_NCS_SHIFT   8
#define GHC_AE          (1u << 31)
#define GHC_IE          (1u << 1)
#define GHC_HR          (1u << 0)
#define AHCI_VERSION_13 0x00010300u

/* Port registers (offsets in the port's 0x80 bytes). */
#define PX_CLB  0x00
#define PX_CLBU 0x04
#define PX_FB   0x08
#define PX_FBU  0x0c
#define PX_IS   0x10
#define PX_IE   0x14
#define PX_CMD  0x18
#define PX_TFD  0x20
#define PX_SIG  0x24
#define PX_SSTS 0x28
#define PX_SCTL 0x2c
#define PX_SERR 0x30
#define PX_SACT 0x34
#define PX_CI   0x38
#define PX_SNTF 0x3c

/* PxIS / PxIE. */
#define PXIS_DHRS (1u << 0)  /* a D2H register FIS arrived */
#define PXIS_PSS  (1u << 1)  /* a PIO setup FIS arrived */
#define PXIS_SDBS (1u << 3)  /* a set device bits FIS arrived (NCQ completions) */
#define PXIS_DPS  (1u << 5)  /* a PRD with its I bit was done */
#define PXIS_TFES (1u << 30) /* task file error: the command failed */
#define PXIS_MASK 0xfdc000ffu

/* PxCMD. */
#define PXCMD_ST        (1u << 0)
#define PXCMD_SUD       (1u << 1)
#define PXCMD_POD       (1u << 2)
#define PXCMD_CLO       (1u << 3)
#define PXCMD_FRE       (1u << 4)
#define PXCMD_FR        (1u << 14)
#define PXCMD_CR        (1u << 15)
#define PXCMD_ATAPI     (1u << 24)
#define PXCMD_CCS_SHIFT 8

/* PxSSTS: a device present, phy up at Gen2 speed, interface active. */
#define SSTS_UP  0x123u
#define SCTL_DET 0xfu

/* The received-FIS area (PxFB) and the FISes. */
#define RFIS_PSFIS   0x20
#define RFIS_RFIS    0x40
#define RFIS_SDBFIS  0x58
#define FIS_H2D      0x27
#define FIS_D2H      0x34
#define FIS_PIOSETUP 0x5f
#define FIS_SDB      0xa1
#define FIS_C        0x80 /* H2D: a command, not a control update */

/* A command header (32 bytes at PxCLB + 32 * slot), DW0. */
#define CH_CFL(dw0)   ((dw0)&0x1f) /* the command FIS's length in dwords */
#define CH_ATAPI      (1u << 5)
#define CH_PRDTL(dw0) ((dw0) >> 16)
/* The command table: the FIS, the ATAPI command, then the PRDT. */
#define CT_ACMD 0x40
#define CT_PRDT 0x80
#define PRD_DBC 0x3fffffu
#define PRD_I   (1u << 31)

/* The running command's walk through its PRDT (bounded by PRDTL). */
struct ahci_prdt {
    uint64_t table;   /* the first entry */
    uint32_t entries; /* PRDTL */
    uint32_t next;    /* the entry to load next */
    uint64_t addr;    /* in the current entry */
    uint32_t left;    /* bytes left in it */
    bool irq;         /* its I bit */
    uint32_t moved;   /* PRDBC */
};

struct ahci;

struct ahci_port {
    struct ahci *hba;
    unsigned idx;
    struct ide_channel ch; /* the ATA core's view: the drive is drv[0] */
    /* registers the guest writes (reset by HR; CLB/FB only by power-on) */
    uint64_t clb, fb;
    uint32_t is, ie, cmd, sctl, serr, sact, ci;
    /* the device's side */
    uint32_t sig;     /* PxSIG after the last reset */
    bool d2h_pending; /* the reset's signature FIS waits for FRE */
    int slot;         /* the command running, -1: none */
    bool halted;      /* a command failed: nothing more until ST is cleared */
    bool running;     /* ahci_port_kick is on the stack */
    bool pio_in;      /* the command moved PIO data to the guest */
    bool ncq;         /* it is a READ/WRITE FPDMA QUEUED (tag = slot) */
    uint8_t command;  /* its ATA command */
    uint8_t acmd[16]; /* its ATAPI command */
    struct ahci_prdt prdt;
};

struct ahci {
    struct pdm_dev *dev;
    struct pci_function fn;
    uint32_t ghc;
    unsigned nports;
    bool irq_level;
    uint8_t abar_user; /* its address is BAR5's `user` */
    struct ahci_port port[AHCI_MAX_PORTS];
};

/* ahci.c: the INTx line follows GHC.IE and every port's PxIS & PxIE. */
void ahci_update_irq(struct ahci *s);
uint32_t ahci_hba_is(const struct ahci *s);
/* Whether the function may touch guest memory (the bus-master bit). */
bool ahci_may_dma(const struct ahci *s);

/* Power-on state of the HBA and every port (the machine's reset, a failed load). */
void ahci_reset_all(struct ahci *s);

/* ahci_ssm.c: ops->save / ops->load (versions 1 and 2; saves 2) */
#define AHCI_SSM_VERSION 2
cap_result ahci_save(struct pdm_dev *dev, struct pdm_ssm *ssm);
cap_result ahci_load(struct pdm_dev *dev, struct pdm_ssm *ssm, uint32_t version);

/* ahci_port.c */
cap_result ahci_port_init(struct ahci *s, unsigned idx);
void ahci_port_free(struct ahci_port *p);
/* Power-on or HBA reset (GHC.HR): registers and device back to their reset values. */
void ahci_port_reset(struct ahci_port *p, bool power_on);
uint32_t ahci_port_read(struct ahci_port *p, unsigned reg);
void ahci_port_write(struct ahci_port *p, unsigned reg, uint32_t val);
/* Runs issued commands (after something the port waited for changed). */
void ahci_port_kick(struct ahci_port *p);

#endif
