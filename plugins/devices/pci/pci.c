/*
 * plugins/devices/pci/pci.c - the PCI bus of a PC: configuration mechanism
 * #1, the i440FX host bridge, PIIX3's ISA bridge with its PIRQ routing, and
 * PDM's PCI bus role for the functions of other device plugins.
 *
 * Configuration mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2) is two
 * registers: CONFIG_ADDRESS at 0xCF8, read and written as a dword only
 * (bit 31 enable, bits 23-16 bus, 15-11 device, 10-8 function, 7-2
 * register; bits 30-24 and 1-0 read 0), and CONFIG_DATA at 0xCFC-0xCFF,
 * where an access of any size at 0xCFC + n reaches the enabled function's
 * register (CONFIG_ADDRESS & 0xFC) + n. With the enable bit clear, data
 * reads are all-ones and writes dropped, as are byte and word accesses to
 * 0xCF8-0xCFB - except a byte at 0xCF9, the chipset's reset control
 * register (PIIX3's RCR, which every later PC chipset kept there): bit 1
 * selects a hard reset, writing bit 2 resets the machine (Linux's
 * reboot=pci, and its fallback after the keyboard controller).
 *
 * The bus and the functions' configuration spaces are pci_config.c's.
 * This plugin attaches two functions itself:
 *  - 00:00.0, the host bridge: Intel 82441FX (i440FX PMC, 8086:1237 rev
 *    02, class 06 00 00), what Linux's mechanism #1 sanity check and every
 *    PC OS expect. Command 0006h (memory and bus master hardwired on; PERR
 *    and SERR enables writable), status 0280h (error bits write 1 to
 *    clear), a writable latency timer (bits 7-3) and the seven PAM
 *    registers (59h-5Fh), kept as written but WITHOUT effect (a known
 *    deviation): the BIOS area 0xC0000-0xFFFFF is always plain writable
 *    RAM holding a copy of the firmware (vmm/loader/loader_firmware.c).
 *    Measured with Debian's SeaBIOS 1.16.2: it sets every PAM to read-write
 *    (0x30/0x33) before it copies itself into the area and to read-only
 *    (0x10/0x11) at the end of POST, and with PAM inert it reaches "No
 *    bootable device" in ~0.2 s under rem - only the read-only half is
 *    missing: a guest can write its BIOS area after POST, where a PC would
 *    drop the writes. Real shadowing would remap those 16 KiB segments in
 *    PGM (RAM vs ROM) from here; left until a guest needs it.
 *  - 00:01.0, PIIX3's PCI-to-ISA bridge: Intel 82371SB (8086:7000 rev 00,
 *    class 06 01 00, multi-function header so 00:01.1 IDE etc. are probed),
 *    subsystem 1af4:1100 like the host bridge. Registers kept as written:
 *    IORT 4Ch, XBCS 4Eh, TOM 69h, MBIRQ0 70h, MBDMA 76h-77h, APICBASE 80h,
 *    DLC 82h, SMI 0A0h-0ABh (no effect), and the PIRQ route control
 *    registers 60h-63h, which have one.
 *
 * Interrupt routing: the hardware contract (for firmware, the ACPI DSDT's
 * _PRT and link devices, and device plugins):
 *  - a function raises INTx with hlp->pci_set_irq(dev, fn, 1) and holds it
 *    (level) until the cause is gone; INTERRUPT_PIN 1-4 = INTA#-INTD#; the
 *    command register's INTX_DISABLE masks it, status bit 3 shows it;
 *  - slot S pin P (1-4) drives PIRQ[(S + P - 1) mod 4] (PIRQA#=0 ..
 *    PIRQD#=3), the usual swizzle: slot 1's INTA# is PIRQB#, slot 2's INTA#
 *    PIRQC#, slot 3's INTA# PIRQD#, slot 4's INTA# PIRQA#, ...;
 *  - PIRQRC[n] (config 60h + n of 00:01.0): bit 7 set = routing disabled
 *    (the reset value 80h), bits 3-0 = the ISA IRQ; only 3-7, 9-12, 14 and
 *    15 route, other values act as disabled; bits 6-4 read 0;
 *  - a routed PIRQ line is the OR of every function on it (and of other
 *    PIRQs routed to the same IRQ); it drives ISA line IRQ n with
 *    hlp->irq_set(n, level): active-high level at the PIC's input n (the
 *    firmware sets the line level-triggered in the ELCR, 4D0h/4D1h, PIC
 *    plugin) and at the I/O APIC's pin n (GSI n: so a MADT needs a level,
 *    active-high interrupt source override for each such IRQ, as QEMU's);
 *    there are no separate I/O APIC pins 16-23 for PIRQs;
 *  - a change of PIRQRC re-evaluates the lines at once (the old IRQ is
 *    lowered, the new one raised if the PIRQ is asserted) and is logged
 *    ("pci0: PIRQC# routed to IRQ 11"; Debian's SeaBIOS routes PIRQA#/B#
 *    to IRQ 10 and PIRQC#/D# to IRQ 11 and makes both level in the ELCR);
 *  - a PIRQ line only ORs with other PIRQs: an ISA device on the same IRQ
 *    (PDM keeps one level per line and device) should not share it.
 *
 * Functions of other devices (hlp->pci_register) attach at the devfn they
 * ask for or, with PDM_PCI_DEVFN_ANY, at function 0 of the first free
 * device from 00:02.0 on. BARs: the bus maps a BAR through hlp->pci_bar_map
 * when a configuration write to the command register or the BAR leaves its
 * space enabled at a non-zero address (pci_bar_decode), and unmaps it when
 * that stops; a refused address (PDM logs why) is not retried until the
 * guest writes another. A reset unmaps every BAR (the command register
 * returns to 0) and lowers every line.
 *
 * No config keys. Saved state (version 2): CONFIG_ADDRESS (4 bytes, little
 * endian), RCR (1 byte), the number of functions (1 byte: n ≤ 255, the
 * bus's slot count being 256 of which 00:00.0 is always the host bridge),
 * then per function its devfn (1 byte), INTx level (1 byte) and 256 bytes
 * of configuration space. Version 1 (the host bridge's space alone) loads.
 */
#include <stdio.h>

#include "pci_config.h"
#include "pdmdev.h"

#define PCI_ADDR_PORT 0xcf8
#define PCI_DATA_PORT 0xcfc
#define PCI_RCR_PORT  0xcf9

#define CONF1_ENABLE    0x80000000u
#define CONF1_ADDR_MASK 0x80fffffcu /* bits 30-24 and 1-0 read 0 */

#define RCR_SYS_RST 0x02 /* hard reset (kept; both kinds reset the VM) */
#define RCR_RST_CPU 0x04 /* write 1: reset now */

#define PCI_SUBSYS_VENDOR_QEMU 0x1af4 /* Red Hat, Inc. */
#define PCI_SUBSYS_ID_QEMU     0x1100 /* QEMU virtual machine */

#define I440FX_PAM0     0x59
#define I440FX_PAM_LAST 0x5f

#define PIIX3_PIRQRC         0x60 /* 60h-63h: PIRQA#-PIRQD# route control */
#define PIIX3_PIRQ_DISABLE   0x80
#define PIIX3_PIRQ_IRQ_MASK  0x0f
#define PIIX3_PIRQ_VALID_IRQ 0xdef8u /* 3-7, 9-12, 14, 15 */

#define FIRST_FREE_SLOT 2 /* 0: host bridge, 1: PIIX3 */

struct pci {
    struct pci_bus bus;       /* every function on bus 0 */
    struct pci_function host; /* 00:00.0 */
    struct pci_function isa;  /* 00:01.0 */
    uint32_t addr;            /* CONFIG_ADDRESS: guest state */
    uint8_t rcr;              /* reset control: guest state */
    uint16_t isa_levels;      /* the ISA lines the PIRQs hold high now */
    struct pdm_dev *dev;
};

static void subsystem_qemu(struct pci_function *f)
{
    /* 1af4:1100, QEMU's for every device: SeaBIOS takes the machine for
     * QEMU (fw_cfg, its e820 and CPU count) only when the host bridge
     * carries it */
    pci_fn_set16(f, PCI_SUBSYSTEM_VENDOR_ID, PCI_SUBSYS_VENDOR_QEMU);
    pci_fn_set16(f, PCI_SUBSYSTEM_ID, PCI_SUBSYS_ID_QEMU);
}

static void i440fx_init(struct pci_function *f)
{
    pci_fn_init(f, "i440FX host bridge", 0x8086, 0x1237, 0x02, 0x060000);
    pci_fn_set16(f, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    pci_fn_set_wmask16(f, PCI_COMMAND, PCI_COMMAND_PARITY | PCI_COMMAND_SERR);
    pci_fn_set16(f, PCI_STATUS, 0x0280);
    subsystem_qemu(f);
    f->wmask[PCI_CACHE_LINE] = 0;
    f->wmask[PCI_LATENCY_TIMER] = 0xf8;
    f->wmask[PCI_INTERRUPT_LINE] = 0; /* the host bridge raises no interrupt */
    f->wmask[I440FX_PAM0] = 0x30;     /* PAM0 covers only F0000h-FFFFFh */
    for (unsigned r = I440FX_PAM0 + 1; r <= I440FX_PAM_LAST; r++)
        f->wmask[r] = 0x33;
}

/* PIIX3 function 0's registers: offset, power-on value, writable bits. */
static const struct {
    uint8_t off, reset, wmask;
} piix3_regs[] = {
    {0x4c, 0x4d, 0xff},                                         /* IORT */
    {0x4e, 0x03, 0xff}, {0x4f, 0x00, 0x03},                     /* XBCS */
    {0x60, 0x80, 0x8f}, {0x61, 0x80, 0x8f}, {0x62, 0x80, 0x8f}, /* PIRQRC */
    {0x63, 0x80, 0x8f}, {0x69, 0x02, 0xfe},                     /* TOM */
    {0x70, 0x80, 0xcf},                                         /* MBIRQ0 */
    {0x76, 0x0c, 0x8f}, {0x77, 0x0c, 0x8f},                     /* MBDMA */
    {0x80, 0x00, 0x7f},                                         /* APICBASE */
    {0x82, 0x00, 0x0f},                                         /* DLC */
    {0xa0, 0x08, 0x1f}, {0xa2, 0x00, 0xff}, {0xa3, 0x00, 0x00}, /* SMICNTL, SMIEN */
    {0xa4, 0x00, 0xff}, {0xa5, 0x00, 0xff}, {0xa6, 0x00, 0xff}, /* SEE */
    {0xa7, 0x00, 0x80}, {0xa8, 0x0f, 0xff},                     /* FTMR */
    {0xaa, 0x00, 0xff}, {0xab, 0x00, 0x00},                     /* SMIREQ */
};

static void piix3_init(struct pci_function *f)
{
    pci_fn_init(f, "PIIX3 ISA bridge", 0x8086, 0x7000, 0x00, 0x060100);
    pci_fn_set16(f, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    pci_fn_set_wmask16(f, PCI_COMMAND, PCI_COMMAND_SERR);
    pci_fn_set16(f, PCI_STATUS, 0x0280);
    pci_fn_set8(f, PCI_HEADER_TYPE, PCI_HEADER_MULTI_FUNCTION);
    subsystem_qemu(f);
    f->wmask[PCI_CACHE_LINE] = 0;
    f->wmask[PCI_LATENCY_TIMER] = 0;
    f->wmask[PCI_INTERRUPT_LINE] = 0;
    for (size_t i = 0; i < sizeof(piix3_regs) / sizeof(piix3_regs[0]); i++) {
        f->cfg[piix3_regs[i].off] = piix3_regs[i].reset;
        f->wmask[piix3_regs[i].off] = piix3_regs[i].wmask;
    }
}

/* ---- interrupt routing ----------------------------------------------------- */

/* The ISA IRQ PIRQ line `pirq` is routed to, or -1. */
static int pirq_route(const struct pci *s, unsigned pirq)
{
    uint8_t r = s->isa.cfg[PIIX3_PIRQRC + pirq];
    unsigned irq = r & PIIX3_PIRQ_IRQ_MASK;
    if ((r & PIIX3_PIRQ_DISABLE) || !(PIIX3_PIRQ_VALID_IRQ & (1u << irq)))
        return -1;
    return (int)irq;
}

/* Drives every ISA line the PIRQs reach to what they say now. */
static void route_update(struct pci *s)
{
    uint16_t want = 0;
    for (unsigned p = 0; p < PCI_PIRQ_COUNT; p++) {
        int irq = pirq_route(s, p);
        if (irq >= 0 && s->bus.pirq_count[p])
            want |= (uint16_t)(1u << irq);
    }
    uint16_t diff = want ^ s->isa_levels;
    s->isa_levels = want;
    for (unsigned irq = 0; irq < 16; irq++)
        if (diff & (1u << irq))
            s->dev->hlp->irq_set(s->dev, irq, (want >> irq) & 1);
}

/* ---- BARs ------------------------------------------------------------------ */

/* Maps / unmaps `fn`'s BARs to match its registers (pci_bar_decode). */
static void bars_sync(struct pci *s, struct pci_function *fn)
{
    if (!fn->pdm_priv)
        return; /* the chipset's own functions: no BARs */
    for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
        struct pci_bar *b = &fn->bar[i];
        if (!b->size)
            continue;
        uint64_t want = pci_bar_decode(fn, i);
        if (want == PCI_BAR_UNMAPPED)
            b->refused = PCI_BAR_UNMAPPED; /* off: the next address is tried afresh */
        if (want == b->addr)
            continue;
        if (want != PCI_BAR_UNMAPPED && want == b->refused) {
            if (b->addr != PCI_BAR_UNMAPPED) /* moved back to a refused place */
                s->dev->hlp->pci_bar_map(s->dev, fn, i, PCI_BAR_UNMAPPED);
            continue;
        }
        cap_result rc = s->dev->hlp->pci_bar_map(s->dev, fn, i, want);
        b->refused = CAP_FAILED(rc) ? want : PCI_BAR_UNMAPPED;
    }
}

static void bars_sync_all(struct pci *s)
{
    for (unsigned d = 0; d < 256; d++)
        if (s->bus.slot[d])
            bars_sync(s, s->bus.slot[d]);
}

/* ---- PDM's bus role -------------------------------------------------------- */

static cap_result bus_attach(struct pdm_dev *dev, struct pci_function *fn, int devfn)
{
    struct pci *s = dev->data;
    if (devfn == PDM_PCI_DEVFN_ANY) {
        devfn = pci_bus_free_devfn(&s->bus, FIRST_FREE_SLOT);
        if (devfn < 0)
            return dev->hlp->error(dev, CAP_E_INVALIDARG, "no free PCI slot for '%s'",
                                   fn->name ? fn->name : "?");
    }
    cap_result rc = pci_bus_attach(&s->bus, (unsigned)devfn, fn);
    if (CAP_FAILED(rc))
        return dev->hlp->error(dev, rc, "cannot put '%s' at 00:%02x.%u: %s",
                               fn->name ? fn->name : "?", (unsigned)devfn >> 3, (unsigned)devfn & 7,
                               rc == CAP_E_ALREADY_REGISTERED ? "taken" : "no such place");
    return CAP_OK;
}

static void bus_detach(struct pdm_dev *dev, struct pci_function *fn)
{
    struct pci *s = dev->data;
    for (unsigned i = 0; i < PCI_NUM_BARS; i++)
        if (fn->bar[i].size && fn->bar[i].addr != PCI_BAR_UNMAPPED)
            dev->hlp->pci_bar_map(dev, fn, i, PCI_BAR_UNMAPPED);
    pci_bus_detach(&s->bus, fn);
    route_update(s);
}

static void bus_set_intx(struct pdm_dev *dev, struct pci_function *fn, int level)
{
    struct pci *s = dev->data;
    if (pci_bus_find(&s->bus, 0, fn->devfn) != fn)
        return;
    if (pci_bus_set_intx(&s->bus, fn, level != 0))
        route_update(s);
}

static const struct pdm_pci_bus_ops bus_ops = {
    .attach = bus_attach,
    .detach = bus_detach,
    .set_intx = bus_set_intx,
};

static cap_result pci_construct(struct pdm_dev *dev, const struct pdm_cfg *cfg)
{
    struct pci *s = dev->data;
    const struct pdm_hlp *h = dev->hlp;
    s->dev = dev;
    i440fx_init(&s->host);
    s->host.owner = s;
    piix3_init(&s->isa);
    s->isa.owner = s;
    cap_result rc = pci_bus_attach(&s->bus, PCI_DEVFN(0, 0), &s->host);
    if (CAP_SUCCEEDED(rc))
        rc = pci_bus_attach(&s->bus, PCI_DEVFN(1, 0), &s->isa);
    if (CAP_FAILED(rc))
        return h->error(dev, rc, "cannot attach the chipset's functions");
    rc = h->pci_bus_register(dev, &bus_ops);
    if (CAP_SUCCEEDED(rc))
        rc = h->io_register(dev, PCI_ADDR_PORT, 4, 0, NULL, "PCI CONFIG_ADDRESS + reset control");
    if (CAP_SUCCEEDED(rc))
        rc = h->io_register(dev, PCI_DATA_PORT, 4, 0, NULL, "PCI CONFIG_DATA");
    return rc;
}

/* ---- configuration mechanism #1 -------------------------------------------- */

/* A byte written to 0xCF9. */
static void rcr_write(struct pdm_dev *dev, uint8_t v)
{
    struct pci *s = dev->data;
    s->rcr = v & RCR_SYS_RST;
    if (v & RCR_RST_CPU) {
        dev->hlp->log(dev, PDM_LOG_INFO, "%s reset through port 0xcf9",
                      v & RCR_SYS_RST ? "hard" : "soft");
        dev->hlp->vm_reset(dev);
    }
}

/* 0xCF8-0xCFB: IOM hands over only accesses inside the range (it splits
 * one that straddles into bytes), so a dword here is at 0xCF8. */
static void addr_io(struct pdm_dev *dev, uint16_t port, unsigned size, bool write, uint32_t *val)
{
    struct pci *s = dev->data;
    if (size == 4) {
        if (write)
            s->addr = *val & CONF1_ADDR_MASK;
        else
            *val = s->addr;
    } else if (size == 1 && port == PCI_RCR_PORT) {
        if (write)
            rcr_write(dev, (uint8_t)*val);
        else
            *val = s->rcr;
    } else if (!write) {
        *val = 0xffffffffu;
    }
}

/* One line per PIRQ whose route the guest changed (the firmware's choice,
 * for whoever reads the VM log); `old` the four route registers before. */
static void log_routes(struct pci *s, uint32_t old)
{
    for (unsigned p = 0; p < PCI_PIRQ_COUNT; p++) {
        uint8_t was = (uint8_t)(old >> (8 * p)), now = s->isa.cfg[PIIX3_PIRQRC + p];
        if (was == now)
            continue;
        int irq = pirq_route(s, p);
        if (irq >= 0)
            s->dev->hlp->log(s->dev, PDM_LOG_INFO, "PIRQ%c# routed to IRQ %d", 'A' + p, irq);
        else
            s->dev->hlp->log(s->dev, PDM_LOG_INFO, "PIRQ%c# not routed (0x%02x)", 'A' + p, now);
    }
}

static bool touches(unsigned off, unsigned size, unsigned lo, unsigned hi)
{
    return off < hi && off + size > lo;
}

/* A configuration write reached `fn`: act on what it changed. */
static void config_written(struct pci *s, struct pci_function *fn, unsigned off, unsigned size)
{
    bool cmd = touches(off, size, PCI_COMMAND, PCI_COMMAND + 2);
    if (cmd || touches(off, size, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_0 + 4 * PCI_BAR_COUNT) ||
        touches(off, size, PCI_ROM_ADDRESS, PCI_ROM_ADDRESS + 4))
        bars_sync(s, fn);
    bool lines = cmd && pci_bus_update_intx(&s->bus, fn);
    if (lines || (fn == &s->isa && touches(off, size, PIIX3_PIRQRC, PIIX3_PIRQRC + 4)))
        route_update(s);
}

static cap_result pci_io(struct pdm_dev *dev, void *user, uint16_t port, unsigned size, bool write,
                         uint32_t *val)
{
    struct pci *s = dev->data;
    if (port < PCI_DATA_PORT) {
        addr_io(dev, port, size, write, val);
        return CAP_OK;
    }
    if (!(s->addr & CONF1_ENABLE)) {
        if (!write)
            *val = 0xffffffffu;
        return CAP_OK;
    }
    unsigned busnr = (s->addr >> 16) & 0xff, devfn = (s->addr >> 8) & 0xff;
    unsigned off = (s->addr & 0xfc) + (unsigned)(port - PCI_DATA_PORT);
    if (!write) {
        *val = pci_bus_read(&s->bus, busnr, devfn, off, size);
        return CAP_OK;
    }
    struct pci_function *fn = pci_bus_find(&s->bus, busnr, devfn);
    uint32_t routes = pci_fn_get32(&s->isa, PIIX3_PIRQRC);
    pci_bus_write(&s->bus, busnr, devfn, off, size, *val);
    if (fn == &s->isa)
        log_routes(s, routes);
    if (fn)
        config_written(s, fn, off, size);
    return CAP_OK;
}

static void pci_reset(struct pdm_dev *dev)
{
    struct pci *s = dev->data;
    s->addr = 0;
    s->rcr = 0;
    pci_bus_reset(&s->bus);
    bars_sync_all(s);
    route_update(s);
}

/* ---- saved state ----------------------------------------------------------- */

static cap_result pci_save(struct pdm_dev *dev, struct pdm_ssm *ssm)
{
    struct pci *s = dev->data;
    unsigned n = 0;
    for (unsigned d = 0; d < 256; d++)
        n += s->bus.slot[d] != NULL;
    uint8_t hdr[6] = {(uint8_t)s->addr,
                      (uint8_t)(s->addr >> 8),
                      (uint8_t)(s->addr >> 16),
                      (uint8_t)(s->addr >> 24),
                      s->rcr,
                      (uint8_t)(n > 255 ? 255 : n)};
    cap_result rc = dev->hlp->ssm_put(ssm, hdr, sizeof(hdr));
    for (unsigned d = 0, saved = 0; d < 256 && saved < hdr[5] && CAP_SUCCEEDED(rc); d++) {
        struct pci_function *fn = s->bus.slot[d];
        if (!fn)
            continue;
        uint8_t rec[2] = {(uint8_t)d, fn->intx};
        rc = dev->hlp->ssm_put(ssm, rec, sizeof(rec));
        if (CAP_SUCCEEDED(rc))
            rc = dev->hlp->ssm_put(ssm, fn->cfg, sizeof(fn->cfg));
        saved++;
    }
    return rc;
}

/* A saved state is input too: only what a guest could have made of the
 * registers is taken (masks applied, identity kept). */
static void load_space(struct pci_function *fn, const uint8_t *cfg)
{
    for (unsigned i = 0; i < PCI_CONFIG_SIZE; i++) {
        uint8_t guest = fn->wmask[i] | fn->w1cmask[i];
        fn->cfg[i] = (uint8_t)((fn->reset[i] & ~guest) | (cfg[i] & guest));
    }
}

static cap_result pci_load(struct pdm_dev *dev, struct pdm_ssm *ssm, uint32_t version)
{
    struct pci *s = dev->data;
    uint8_t hdr[6] = {0}, cfg[PCI_CONFIG_SIZE];
    if (version != 1 && version != 2)
        return dev->hlp->error(dev, CAP_E_INVALIDARG, "saved state version %u unknown", version);
    cap_result rc = dev->hlp->ssm_get(ssm, hdr, version == 1 ? 5 : 6);
    if (CAP_FAILED(rc))
        return rc;
    /* Start from power-on: functions the state does not name stay there. */
    pci_bus_reset(&s->bus);
    s->addr = ((uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 |
               (uint32_t)hdr[3] << 24) &
              CONF1_ADDR_MASK;
    s->rcr = hdr[4] & RCR_SYS_RST;
    if (version == 1) {
        rc = dev->hlp->ssm_get(ssm, cfg, sizeof(cfg));
        if (CAP_SUCCEEDED(rc))
            load_space(&s->host, cfg);
    }
    for (unsigned i = 0; version == 2 && i < hdr[5] && CAP_SUCCEEDED(rc); i++) {
        uint8_t rec[2];
        rc = dev->hlp->ssm_get(ssm, rec, sizeof(rec));
        if (CAP_SUCCEEDED(rc))
            rc = dev->hlp->ssm_get(ssm, cfg, sizeof(cfg));
        struct pci_function *fn = s->bus.slot[rec[0]];
        if (CAP_FAILED(rc))
            break;
        if (!fn) {
            dev->hlp->log(dev, PDM_LOG_WARN, "saved state names 00:%02x.%u, not on this bus",
                          rec[0] >> 3u, rec[0] & 7u);
            continue;
        }
        load_space(fn, cfg);
        pci_bus_set_intx(&s->bus, fn, rec[1] != 0);
    }
    bars_sync_all(s);
    route_update(s);
    return rc;
}

/* Saved state as named fields (the unit of version 2): addr, rcr, and
 * each function present as DD.F.cfg (its 256 configuration bytes, PIIX3's
 * PIRQ routing registers among them) and DD.F.intx (its INTx line); a
 * loaded space is masked as load_space does, then BARs and routing are
 * synced. The raw save/load above stay for pdm_save's buffer. */
static void fn_field(char *buf, size_t size, unsigned devfn, const char *what)
{
    snprintf(buf, size, "%02x.%u.%s", devfn >> 3, devfn & 7, what);
}

static cap_result pci_save_state(struct pdm_dev *dev, struct ssm_writer *w)
{
    struct pci *s = dev->data;
    const struct ssm_field_ops *f = dev->hlp->ssm;
    char name[32];
    f->put_u32(w, "addr", s->addr);
    cap_result rc = f->put_u8(w, "rcr", s->rcr);
    for (unsigned d = 0; d < 256; d++) {
        struct pci_function *fn = s->bus.slot[d];
        if (!fn)
            continue;
        fn_field(name, sizeof name, d, "cfg");
        f->put_bytes(w, name, fn->cfg, sizeof(fn->cfg));
        fn_field(name, sizeof name, d, "intx");
        rc = f->put_bool(w, name, fn->intx != 0);
    }
    return rc;
}

static cap_result pci_load_state(struct pdm_dev *dev, struct ssm_unit *u)
{
    struct pci *s = dev->data;
    const struct ssm_field_ops *f = dev->hlp->ssm;
    uint32_t addr = 0;
    uint8_t rcr = 0, cfg[PCI_CONFIG_SIZE];
    cap_result rc = f->check_version(u, 2, 2);
    if (CAP_SUCCEEDED(rc))
        rc = f->get_u32(u, "addr", 0, &addr);
    if (CAP_SUCCEEDED(rc))
        rc = f->get_u8(u, "rcr", 0, &rcr);
    if (CAP_FAILED(rc))
        return rc;
    pci_bus_reset(&s->bus); /* functions the state does not name stay at power-on */
    s->addr = addr & CONF1_ADDR_MASK;
    s->rcr = rcr & RCR_SYS_RST;
    char name[32];
    for (unsigned d = 0; d < 256 && CAP_SUCCEEDED(rc); d++) {
        struct pci_function *fn = s->bus.slot[d];
        bool intx = false;
        fn_field(name, sizeof name, d, "cfg");
        if (!fn || !f->has_field(u, name))
            continue;
        rc = f->get_bytes(u, name, cfg, sizeof(cfg));
        fn_field(name, sizeof name, d, "intx");
        if (CAP_SUCCEEDED(rc))
            rc = f->get_bool(u, name, false, &intx);
        if (CAP_SUCCEEDED(rc)) {
            load_space(fn, cfg);
            pci_bus_set_intx(&s->bus, fn, intx);
        }
    }
    bars_sync_all(s);
    route_update(s);
    return rc;
}

static const struct pdm_dev_ops pci_ops = {
    .construct = pci_construct,
    .reset = pci_reset,
    .io = pci_io,
    .save = pci_save,
    .load = pci_load,
    .save_state = pci_save_state,
    .load_state = pci_load_state,
};

static const struct pdm_devreg pci_reg = {
    .abi = PDM_DEVREG_ABI,
    .name = "pci",
    .description = "PCI bus: configuration mechanism #1, i440FX host bridge, PIIX3 ISA bridge "
                   "with PIRQ routing, reset at 0xCF9",
    .instance_size = sizeof(struct pci),
    .max_instances = 1,
    .saved_state_version = 2,
    .ops = &pci_ops,
};

/* {3b0f5a8e-6c1d-4e27-9f43-a1d2c5e8b704} */
static const cap_uuid pci_cid = {{0x3b, 0x0f, 0x5a, 0x8e, 0x6c, 0x1d, 0x4e, 0x27, 0x9f, 0x43, 0xa1,
                                  0xd2, 0xc5, 0xe8, 0xb7, 0x04}};
PDM_DEVICE_COMPONENT(pci_reg, pci_cid, "pci")
