/*
 * plugins/devices/e1000/e1000.c - the Intel 82540EM Gigabit Ethernet
 * controller ("PRO/1000 MT Desktop", VirtualBox's default adapter), device
 * "e1000": PCI function 8086:100e (class network controller, Ethernet) per
 * `capsule-vm --nic nat,model=e1000` at 00:03.0 onwards, its frames going
 * to and coming from the backend PDM attaches to it (pdmdev.h "network
 * adapters": hlp->net_attach, net_send).
 *
 * This file is the function and its registers: BAR 0 (128 KiB of memory
 * mapped registers), BAR 1 (I/O: IOADDR at 0 selects a register, IODATA at
 * 4 reads or writes it - Linux resets the 82540 through it), INTA#. Plain
 * registers (the table below) keep what the guest writes under a mask;
 * the others have side effects: CTRL (RST, PHY_RST), STATUS (the link),
 * EECD/EERD and MDIC (e1000_phy.c), ICR (read to clear), ICS/IMS/IMC, TCTL
 * and TDT (transmit, e1000_tx.c), the statistics (read to clear).
 * Registers of the 128 KiB nobody defines read 0 and ignore writes; the
 * manual defines 32-bit accesses only, so other sizes read without side
 * effects and write nothing (64-bit accesses are two 32-bit ones).
 *
 * Interrupts: INTx is high while ICR & IMS is not zero. ITR moderates it:
 * the line rises at most once per ITR x 256 ns; a cause coming earlier is
 * held back by a timer until the interval has passed. Except a received
 * frame's and the cable's: they come on other threads (the attachment's,
 * a frontend's), and a timer armed there may be seen a call late (tm.h) -
 * by a halted vCPU, not before its next own deadline - so they raise the
 * line at once (and count as the interval's rise). Linux's e1000 masks the device in its handler
 * until its poll is done anyway. The delay timers (RDTR, RADV, TIDV, TADV) are kept but delay
 * nothing.
 *
 * The cable (PDM_IFACE_NET, pdm_net_set_link): STATUS.LU and the PHY's link
 * bits follow it, and each change raises LSC, after which Linux reads the
 * PHY's status and sets its carrier.
 */
#include <stdio.h>

#include "e1000.h"

/* ---- plain registers -------------------------------------------------------- */

/* `count` registers from `off` keeping the bits of `wmask` the guest writes. */
struct e1k_plain {
    uint16_t off, count;
    uint32_t wmask;
};

static const struct e1k_plain plain_regs[] = {
    {0x0018, 1, 0xffffffffu},   /* CTRL_EXT */
    {0x001c, 1, 0xffffffffu},   /* FLA */
    {0x0028, 1, 0xffffffffu},   /* FCAL */
    {0x002c, 1, 0x0000ffffu},   /* FCAH */
    {0x0030, 1, 0x0000ffffu},   /* FCT */
    {0x0038, 1, 0x0000ffffu},   /* VET */
    {E1K_ITR, 1, 0x0000ffffu},  /* ITR */
    {E1K_RCTL, 1, 0x07fffffeu}, /* RCTL */
    {0x0170, 1, 0x0000ffffu},   /* FCTTV */
    {0x0178, 1, 0xffffffffu},   /* TXCW */
    {0x0180, 1, 0},             /* RXCW */
    {E1K_TCTL, 1, 0xfffffffeu}, /* TCTL */
    {0x0410, 1, 0x3fffffffu},   /* TIPG */
    {0x0458, 1, 0x0000ffffu},   /* AIFS */
    {0x0e00, 1, 0xffffffffu},   /* LEDCTL */
    {0x1000, 1, 0x0000ffffu},   /* PBA */
    {0x2160, 1, 0x0000fff8u},   /* FCRTL */
    {0x2168, 1, 0x0000fff8u},   /* FCRTH */
    {0x2410, 5, 0x00001fffu},   /* RDFH, RDFT, RDFHS, RDFTS, RDFPC (every other) */
    {E1K_RDBAL, 1, 0xfffffff0u},
    {E1K_RDBAH, 1, 0xffffffffu},
    {E1K_RDLEN, 1, 0x000fff80u},
    {E1K_RDH, 1, 0x0000ffffu},
    {E1K_RDT, 1, 0x0000ffffu},
    {0x2820, 1, 0x8000ffffu}, /* RDTR */
    {0x2828, 1, 0x003f3f3fu}, /* RXDCTL */
    {0x282c, 1, 0x0000ffffu}, /* RADV */
    {0x2c00, 1, 0x00000fffu}, /* RSRPD */
    {0x3000, 1, 0x00000001u}, /* TXDMAC */
    {0x3410, 5, 0x00001fffu}, /* TDFH, TDFT, TDFHS, TDFTS, TDFPC (every other) */
    {E1K_TDBAL, 1, 0xfffffff0u},
    {E1K_TDBAH, 1, 0xffffffffu},
    {E1K_TDLEN, 1, 0x000fff80u},
    {E1K_TDH, 1, 0x0000ffffu},
    {E1K_TDT, 1, 0x0000ffffu},
    {0x3820, 1, 0x0000ffffu}, /* TIDV */
    {0x3828, 1, 0x003f3f3fu}, /* TXDCTL */
    {0x382c, 1, 0x0000ffffu}, /* TADV */
    {0x3830, 1, 0x3fffffffu}, /* TSPMT */
    {0x5000, 1, 0x000007ffu}, /* RXCSUM */
    {E1K_MTA, 128, 0xffffffffu},
    {E1K_RA, 32, 0xffffffffu},  /* RAL: all; RAH: masked in reg_write */
    {0x5600, 128, 0xffffffffu}, /* VFTA */
    {0x5800, 1, 0x0000001fu},   /* WUC */
    {0x5808, 1, 0x000f00ffu},   /* WUFC */
    {0x5810, 1, 0},             /* WUS */
    {0x5820, 1, 0xffffffffu},   /* MANC */
    {0x5838, 1, 0x0000000fu},   /* IPAV */
    {0x5840, 8, 0xffffffffu},   /* IP4AT (every other) */
    {0x5880, 4, 0xffffffffu},   /* IP6AT */
    {0x5900, 1, 0x00000fffu},   /* WUPL */
    {0x5a00, 32, 0xffffffffu},  /* WUPM */
    {0x5f00, 8, 0x000007ffu},   /* FFLT (every other) */
};

/* The write mask of a plain register, or -1 when `off` is none. */
static int64_t plain_mask(unsigned off)
{
    for (size_t i = 0; i < sizeof(plain_regs) / sizeof(plain_regs[0]); i++) {
        const struct e1k_plain *p = &plain_regs[i];
        if (off >= p->off && off < p->off + 4u * p->count)
            return p->wmask;
    }
    return -1;
}

/* ---- interrupts ----------------------------------------------------------------- */

static void set_line(struct e1k *s, bool level)
{
    if (s->irq_level == level)
        return;
    s->irq_level = level;
    s->dev->hlp->pci_set_irq(s->dev, &s->fn, level);
}

/* INTx follows ICR & IMS; a rise waits for ITR's interval. */
static void irq_update(struct e1k *s)
{
    const struct pdm_hlp *h = s->dev->hlp;
    if (!(e1k_reg(s, E1K_ICR) & e1k_reg(s, E1K_IMS))) {
        set_line(s, false);
        return;
    }
    if (s->irq_level)
        return;
    uint64_t now = h->clock_now(s->dev);
    uint32_t itr = e1k_reg(s, E1K_ITR) & 0xffff;
    if (itr && now < s->irq_next_ns && !s->off_vcpu) {
        if (!h->timer_armed(s->itr_timer))
            h->timer_arm(s->itr_timer, s->irq_next_ns);
        return;
    }
    set_line(s, true);
    s->irq_next_ns = now + 256ull * itr;
}

static void e1k_itr_timer(struct pdm_dev *dev, void *user, uint64_t now_ns)
{
    (void)dev, (void)now_ns;
    irq_update(user);
}

void e1k_raise(struct e1k *s, uint32_t causes)
{
    e1k_set_reg(s, E1K_ICR, e1k_reg(s, E1K_ICR) | (causes & E1K_ICR_ALL));
    irq_update(s);
}

void e1k_count(struct e1k *s, unsigned off, uint64_t n)
{
    bool wide = off == E1K_GORCL || off == E1K_GOTCL || off == E1K_TORL || off == E1K_TOTL;
    uint32_t lo = e1k_reg(s, off);
    uint64_t v = (uint64_t)lo + n;
    if (wide) {
        e1k_set_reg(s, off, (uint32_t)v);
        e1k_set_reg(s, off + 4, e1k_reg(s, off + 4) + (uint32_t)(v >> 32));
    } else {
        e1k_set_reg(s, off, v > UINT32_MAX ? UINT32_MAX : (uint32_t)v); /* they saturate */
    }
}

void e1k_guest_error(struct e1k *s, const char *what)
{
    if (s->logged >= E1K_LOG_MAX)
        return;
    s->logged++;
    s->dev->hlp->log(s->dev, PDM_LOG_WARN, "the driver's mistake: %s%s", what,
                     s->logged == E1K_LOG_MAX ? " (no more of these lines until a reset)" : "");
}

/* ---- reset -------------------------------------------------------------------------- */

/* The MAC's registers at power-on or CTRL.RST: the receive address 0 and
 * the PHY from the EEPROM and the cable; the PCI function stays. */
static void e1k_reset(struct e1k *s)
{
    const struct pdm_hlp *h = s->dev->hlp;
    h->timer_disarm(s->itr_timer);
    h->timer_disarm(s->tx_timer);
    memset(s->regs, 0, sizeof(s->regs));
    e1k_set_reg(s, E1K_CTRL, 0x00000261u); /* FD, ASDE, SLU, speed 1000 */
    e1k_set_reg(s, E1K_EECD, E1K_EECD_PRES | 0x10u);
    e1k_set_reg(s, 0x0038, 0x8100);      /* VET */
    e1k_set_reg(s, 0x0e00, 0x07068302u); /* LEDCTL */
    e1k_set_reg(s, 0x1000, 0x00000030u); /* PBA: 48 KiB receive */
    e1k_set_reg(s, 0x5000, 0x00000300u); /* RXCSUM */
    e1k_set_reg(s, E1K_RA, (uint32_t)s->eeprom[0] | (uint32_t)s->eeprom[1] << 16);
    e1k_set_reg(s, E1K_RA + 4, s->eeprom[2] | E1K_RAH_AV);
    s->ioaddr = 0;
    s->irq_next_ns = 0;
    s->logged = 0;
    s->ee_in = s->ee_bits = 0;
    s->ee_reading = false;
    s->ee_left = 0;
    e1k_phy_reset(s);
    e1k_tx_reset(s);
    set_line(s, false);
}

static void e1k_dev_reset(struct pdm_dev *dev)
{
    e1k_reset(dev->data);
}

/* ---- register access ------------------------------------------------------------- */

static uint32_t reg_read(struct e1k *s, unsigned off)
{
    switch (off) {
    case E1K_STATUS:
        return E1K_STATUS_FD | E1K_STATUS_SPEED1000 | (s->link ? E1K_STATUS_LU : 0);
    case E1K_EECD:
        return e1k_eecd_read(s);
    case E1K_ICR: {
        uint32_t v = e1k_reg(s, E1K_ICR);
        e1k_set_reg(s, E1K_ICR, 0);
        irq_update(s);
        return v;
    }
    case E1K_ICS:
    case E1K_IMC:
        return 0; /* write-only */
    case E1K_CTRL:
    case E1K_EERD:
    case E1K_MDIC:
    case E1K_IMS:
        return e1k_reg(s, off);
    }
    if (off >= E1K_STATS && off < E1K_STATS_END) {
        uint32_t v = e1k_reg(s, off);
        e1k_set_reg(s, off, 0);
        return v;
    }
    return off < E1K_REGS_END && plain_mask(off) >= 0 ? e1k_reg(s, off) : 0;
}

/* What a read would give, without its side effects (partial accesses). */
static uint32_t reg_peek(struct e1k *s, unsigned off)
{
    if (off == E1K_ICR || (off >= E1K_STATS && off < E1K_STATS_END))
        return e1k_reg(s, off);
    return reg_read(s, off);
}

static void ctrl_write(struct e1k *s, uint32_t v)
{
    if (v & E1K_CTRL_RST) {
        e1k_reset(s); /* self-clearing */
        return;
    }
    if (v & E1K_CTRL_PHY_RST)
        e1k_phy_reset(s);
    e1k_set_reg(s, E1K_CTRL, v & ~(E1K_CTRL_RST | E1K_CTRL_PHY_RST));
}

static void reg_write(struct e1k *s, unsigned off, uint32_t v)
{
    switch (off) {
    case E1K_CTRL:
        ctrl_write(s, v);
        return;
    case E1K_EECD:
        e1k_eecd_write(s, v);
        return;
    case E1K_EERD:
        e1k_eerd_write(s, v);
        return;
    case E1K_MDIC:
        e1k_mdic_write(s, v);
        return;
    case E1K_ICR: /* write 1 to clear */
        e1k_set_reg(s, E1K_ICR, e1k_reg(s, E1K_ICR) & ~v);
        irq_update(s);
        return;
    case E1K_ICS:
        e1k_raise(s, v);
        return;
    case E1K_IMS:
        e1k_set_reg(s, E1K_IMS, e1k_reg(s, E1K_IMS) | (v & E1K_ICR_ALL));
        irq_update(s);
        return;
    case E1K_IMC:
        e1k_set_reg(s, E1K_IMS, e1k_reg(s, E1K_IMS) & ~v);
        irq_update(s);
        return;
    }
    int64_t mask = off < E1K_REGS_END ? plain_mask(off) : -1;
    if (mask < 0)
        return;
    if (off >= E1K_RA && off < E1K_RA + 0x80 && (off & 4))
        mask = 0x8003ffff; /* RAH: AV, AS, the address's high bytes */
    e1k_set_reg(s, off, (e1k_reg(s, off) & ~(uint32_t)mask) | (v & (uint32_t)mask));
    if (off == E1K_ITR)
        irq_update(s); /* a shorter interval may release a held interrupt */
    else if ((off == E1K_TDT || off == E1K_TCTL) && (e1k_reg(s, E1K_TCTL) & E1K_TCTL_EN))
        e1k_tx_run(s);
}

/* A dword access at `off` (4-aligned) of BAR 0's space. */
static void reg_access(struct e1k *s, unsigned off, bool write, uint32_t *val)
{
    if (off >= E1K_BAR0_SIZE)
        *val = write ? *val : 0;
    else if (write)
        reg_write(s, off, *val);
    else
        *val = reg_read(s, off);
}

static cap_result e1k_mmio(struct pdm_dev *dev, void *user, uint64_t addr, unsigned size,
                           bool write, uint64_t *val)
{
    struct e1k *s = dev->data;
    (void)user;
    if (s->fn.bar[0].addr == PCI_BAR_UNMAPPED)
        return CAP_OK;
    uint64_t off = addr - s->fn.bar[0].addr;
    if ((size == 4 || size == 8) && !(off & 3)) {
        for (unsigned i = 0; i < size / 4; i++) {
            uint32_t v = write ? (uint32_t)(*val >> (32 * i)) : 0;
            reg_access(s, (unsigned)off + 4 * i, write, &v);
            if (!write)
                *val = i ? *val | (uint64_t)v << 32 : v;
        }
    } else if (!write) { /* partial: the bytes without side effects */
        unsigned base = (unsigned)off & ~3u, sh = 8 * ((unsigned)off & 3);
        uint64_t v = base < E1K_BAR0_SIZE ? reg_peek(s, base) : 0;
        *val = (v >> sh) & (size >= 8 ? ~0ull : (1ull << (8 * size)) - 1);
    }
    return CAP_OK;
}

/* BAR 1: IOADDR (0) names a register of BAR 0, IODATA (4) accesses it. */
static cap_result e1k_io(struct pdm_dev *dev, void *user, uint16_t port, unsigned size, bool write,
                         uint32_t *val)
{
    struct e1k *s = dev->data;
    (void)user;
    if (s->fn.bar[1].addr == PCI_BAR_UNMAPPED)
        return CAP_OK;
    unsigned off = (unsigned)(port - s->fn.bar[1].addr);
    if (size != 4 || (off != 0 && off != 4)) {
        if (!write)
            *val = 0xffffffffu;
        return CAP_OK;
    }
    if (off == 0) {
        if (write)
            s->ioaddr = *val & (E1K_BAR0_SIZE - 1) & ~3u;
        else
            *val = s->ioaddr;
        return CAP_OK;
    }
    reg_access(s, s->ioaddr, write, val);
    return CAP_OK;
}

/* ---- the cable ------------------------------------------------------------------ */

static void e1k_set_link(struct pdm_dev *dev, bool up)
{
    struct e1k *s = dev->data;
    if (s->link == up)
        return;
    s->link = up;
    e1k_phy_link(s);
    s->off_vcpu = true; /* pdm_net_set_link: a frontend's thread */
    e1k_raise(s, E1K_ICR_LSC);
    s->off_vcpu = false;
}

static const struct pdm_net_iface e1k_net_iface = {.set_link = e1k_set_link};

static const void *e1k_query_interface(struct pdm_dev *dev, const char *iface)
{
    (void)dev;
    return strcmp(iface, PDM_IFACE_NET) == 0 ? &e1k_net_iface : NULL;
}

static const struct pdm_net_port e1k_port = {.receive = e1k_receive};

/* ---- construction ---------------------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "08:00:27:12:34:56": six hex pairs with colons; false if not, or multicast. */
static bool mac_from_text(const char *t, uint8_t mac[6])
{
    if (strlen(t) != 17)
        return false;
    for (unsigned i = 0; i < 6; i++) {
        int hi = hexval(t[3 * i]), lo = hexval(t[3 * i + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && t[3 * i + 2] != ':'))
            return false;
        mac[i] = (uint8_t)(hi << 4 | lo);
    }
    return (mac[0] & 1) == 0;
}

static cap_result e1k_read_config(struct pdm_dev *dev, const struct pdm_cfg *cfg, int *devfn,
                                  uint8_t mac[6])
{
    struct e1k *s = dev->data;
    const struct pdm_hlp *h = dev->hlp;
    int64_t v;
    const char *text;
    cap_result rc = h->cfg_int(dev, cfg, "devfn", PDM_PCI_DEVFN_ANY, -1, 255, &v);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_string(dev, cfg, "mac", NULL, &text);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_bool(dev, cfg, "link", true, &s->link);
    if (CAP_FAILED(rc))
        return rc;
    if (v >= 0 && v < 8)
        return h->error(dev, CAP_E_INVALIDARG,
                        "devfn %lld is the host bridge's slot (0): use 8-255 or -1 (any)",
                        (long long)v);
    *devfn = (int)v;
    if (text && !mac_from_text(text, mac))
        return h->error(dev, CAP_E_INVALIDARG,
                        "mac '%s' is not a unicast address like 52:54:00:12:34:56", text);
    if (!text) { /* QEMU's prefix, the instance in the last byte (as virtionet) */
        static const uint8_t def[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
        memcpy(mac, def, 6);
        mac[5] = (uint8_t)(def[5] + dev->instance);
    }
    return CAP_OK;
}

static cap_result e1k_construct(struct pdm_dev *dev, const struct pdm_cfg *cfg)
{
    struct e1k *s = dev->data;
    const struct pdm_hlp *h = dev->hlp;
    int devfn = PDM_PCI_DEVFN_ANY;
    uint8_t mac[6];
    s->dev = dev;
    cap_result rc = e1k_read_config(dev, cfg, &devfn, mac);
    if (CAP_SUCCEEDED(rc))
        rc = h->timer_create(dev, e1k_itr_timer, s, "e1000 interrupt moderation", &s->itr_timer);
    if (CAP_SUCCEEDED(rc))
        rc = h->timer_create(dev, e1k_tx_timer, s, "e1000 transmit", &s->tx_timer);
    if (CAP_SUCCEEDED(rc)) {
        rc = h->net_attach(dev, &e1k_port, s, &s->net);
        if (rc == CAP_FALSE_RESULT)
            rc = CAP_OK;
    }
    if (CAP_FAILED(rc))
        return rc;
    e1k_eeprom_init(s, mac);
    e1k_crc_init(s);
    struct pci_function *f = &s->fn;
    pci_fn_init(f, "e1000", 0x8086, 0x100e, 0x02, 0x020000);
    pci_fn_set16(f, PCI_SUBSYSTEM_VENDOR_ID, 0x8086);
    pci_fn_set16(f, PCI_SUBSYSTEM_ID, 0x001e); /* PRO/1000 MT Desktop */
    pci_fn_set8(f, PCI_INTERRUPT_PIN, 1);      /* INTA# */
    rc = pci_fn_declare_bar(f, 0, 0, E1K_BAR0_SIZE, f);
    if (CAP_SUCCEEDED(rc))
        rc = pci_fn_declare_bar(f, 1, PCI_BAR_IO, E1K_BAR1_SIZE, &s->ioaddr);
    if (CAP_FAILED(rc))
        return h->error(dev, rc, "cannot declare the BARs");
    f->owner = s;
    e1k_reset(s);
    return h->pci_register(dev, devfn, f);
}

/* ---- saved state ------------------------------------------------------------------ */

/*
 * Version 1, little-endian fixed-width values in this order: the registers
 * (E1K_NREGS dwords), IOADDR, the ITR deadline, the EEPROM's shift state
 * (in, bits, reading, addr, left, out), the PHY (32 words), the transmit
 * context and the packet being assembled (with its bytes). The EEPROM
 * image, the MAC and the cable are the configuration's.
 */
struct ssm_io {
    struct e1k *s;
    struct pdm_ssm *ssm;
    bool load;
    cap_result rc;
    struct ssm_writer *w; /* named fields (save_state / load_state): ssm NULL */
    struct ssm_unit *u;
};

/* Named: the field's C name with "->" as "." ("c.ipcss", "p.len"). */
static void ssm_named(struct ssm_io *io, const char *cname, void *field, unsigned width)
{
    const struct ssm_field_ops *f = io->s->dev->hlp->ssm;
    char name[SSM_NAME_MAX];
    size_t n = 0;
    for (const char *c = cname; *c && n + 1 < sizeof name; c++)
        if (*c == '-' && c[1] == '>')
            name[n++] = '.', c++;
        else
            name[n++] = *c;
    name[n] = 0;
    uint64_t v = 0;
    memcpy(&v, field, width); /* the host is little-endian (x86-64) */
    if (!io->load) {
        io->rc = f->put_u64(io->w, name, v);
        return;
    }
    io->rc = f->get_u64(io->u, name, v, &v);
    if (CAP_SUCCEEDED(io->rc) && width < 8 && v >> (8 * width))
        io->rc = io->s->dev->hlp->error(io->s->dev, VMM_E_SSM_FIELD,
                                        "saved field '%s' does not fit %u bytes", name, width);
    if (CAP_SUCCEEDED(io->rc))
        memcpy(field, &v, width);
}

static void ssm_val(struct ssm_io *io, const char *cname, void *field, unsigned width)
{
    uint8_t b[8];
    if (CAP_FAILED(io->rc))
        return;
    if (!io->ssm) {
        ssm_named(io, cname, field, width);
        return;
    }
    const struct pdm_hlp *h = io->s->dev->hlp;
    uint64_t v = 0;
    if (!io->load) {
        memcpy(&v, field, width); /* the host is little-endian (x86-64) */
        for (unsigned i = 0; i < width; i++)
            b[i] = (uint8_t)(v >> (8 * i));
        io->rc = h->ssm_put(io->ssm, b, width);
        return;
    }
    io->rc = h->ssm_get(io->ssm, b, width);
    for (unsigned i = 0; i < width && CAP_SUCCEEDED(io->rc); i++)
        v |= (uint64_t)b[i] << (8 * i);
    if (CAP_SUCCEEDED(io->rc))
        memcpy(field, &v, width);
}

#define SSM_FIELD(io, f) ssm_val(io, #f, &(f), sizeof(f))

/* An array: element by element in the raw record, one bytes field (host
 * order) named NAME in the unit. */
static void ssm_array(struct ssm_io *io, const char *name, void *a, unsigned n, unsigned width)
{
    if (CAP_FAILED(io->rc))
        return;
    if (io->ssm) {
        for (unsigned i = 0; i < n; i++)
            ssm_val(io, name, (uint8_t *)a + (size_t)i * width, width);
        return;
    }
    const struct ssm_field_ops *f = io->s->dev->hlp->ssm;
    io->rc = io->load ? f->get_bytes(io->u, name, a, (size_t)n * width)
                      : f->put_bytes(io->w, name, a, (size_t)n * width);
}

static cap_result e1k_ssm_io(struct e1k *s, struct ssm_io io)
{
    ssm_array(&io, "regs", s->regs, E1K_NREGS, sizeof(s->regs[0]));
    SSM_FIELD(&io, s->ioaddr);
    SSM_FIELD(&io, s->irq_next_ns);
    SSM_FIELD(&io, s->ee_in);
    SSM_FIELD(&io, s->ee_bits);
    SSM_FIELD(&io, s->ee_reading);
    SSM_FIELD(&io, s->ee_addr);
    SSM_FIELD(&io, s->ee_left);
    SSM_FIELD(&io, s->ee_out);
    ssm_array(&io, "phy", s->phy, E1K_PHY_REGS, sizeof(s->phy[0]));
    struct e1k_tx_ctx *c = &s->ctx;
    SSM_FIELD(&io, c->ipcss), SSM_FIELD(&io, c->ipcso), SSM_FIELD(&io, c->ipcse);
    SSM_FIELD(&io, c->tucss), SSM_FIELD(&io, c->tucso), SSM_FIELD(&io, c->tucse);
    SSM_FIELD(&io, c->paylen), SSM_FIELD(&io, c->tucmd), SSM_FIELD(&io, c->hdrlen);
    SSM_FIELD(&io, c->mss);
    struct e1k_tx_pkt *p = &s->pkt;
    SSM_FIELD(&io, p->len), SSM_FIELD(&io, p->started), SSM_FIELD(&io, p->oversize);
    SSM_FIELD(&io, p->dma_error), SSM_FIELD(&io, p->tse), SSM_FIELD(&io, p->popts);
    SSM_FIELD(&io, p->legacy_ic), SSM_FIELD(&io, p->css), SSM_FIELD(&io, p->cso);
    if (CAP_SUCCEEDED(io.rc) && (p->len > E1K_TX_MAX || s->ee_addr >= E1K_EEPROM_WORDS ||
                                 s->ee_left > 16 || s->ee_bits > 16))
        return s->dev->hlp->error(s->dev, CAP_E_INVALIDARG, "saved state out of range");
    if (CAP_SUCCEEDED(io.rc) && io.ssm)
        io.rc = io.load ? s->dev->hlp->ssm_get(io.ssm, s->txbuf, p->len)
                        : s->dev->hlp->ssm_put(io.ssm, s->txbuf, p->len);
    else if (CAP_SUCCEEDED(io.rc))
        io.rc = io.load ? s->dev->hlp->ssm->get_bytes(io.u, "txbuf", s->txbuf, p->len)
                        : s->dev->hlp->ssm->put_bytes(io.w, "txbuf", s->txbuf, p->len);
    return io.rc;
}

static cap_result e1k_ssm(struct e1k *s, struct pdm_ssm *ssm, bool load)
{
    return e1k_ssm_io(s, (struct ssm_io){.s = s, .ssm = ssm, .load = load});
}

/* After a load, raw or named: the interrupt line and transmit go on. */
static void e1k_loaded(struct e1k *s)
{
    s->irq_level = false;
    s->dev->hlp->pci_set_irq(s->dev, &s->fn, 0);
    irq_update(s);
    if (e1k_reg(s, E1K_TCTL) & E1K_TCTL_EN)
        e1k_tx_run(s);
}

static cap_result e1k_save(struct pdm_dev *dev, struct pdm_ssm *ssm)
{
    return e1k_ssm(dev->data, ssm, false);
}

static cap_result e1k_load(struct pdm_dev *dev, struct pdm_ssm *ssm, uint32_t version)
{
    struct e1k *s = dev->data;
    if (version != 1)
        return dev->hlp->error(dev, CAP_E_INVALIDARG, "saved state version %u (this is 1)",
                               version);
    cap_result rc = e1k_ssm(s, ssm, true);
    if (CAP_SUCCEEDED(rc))
        e1k_loaded(s);
    return rc;
}

/* The same as named fields (the SSM unit of version 1): regs and phy as
 * bytes, the rest by their names (s.ioaddr, c.ipcss, p.len, ...), the
 * packet being assembled as txbuf. */
static cap_result e1k_save_state(struct pdm_dev *dev, struct ssm_writer *w)
{
    return e1k_ssm_io(dev->data, (struct ssm_io){.s = dev->data, .w = w});
}

static cap_result e1k_load_state(struct pdm_dev *dev, struct ssm_unit *u)
{
    struct e1k *s = dev->data;
    cap_result rc = dev->hlp->ssm->check_version(u, 1, 1);
    if (CAP_SUCCEEDED(rc))
        rc = e1k_ssm_io(s, (struct ssm_io){.s = s, .u = u, .load = true});
    if (CAP_SUCCEEDED(rc))
        e1k_loaded(s);
    return rc;
}

static const struct pdm_dev_ops e1k_ops = {
    .construct = e1k_construct,
    .reset = e1k_dev_reset,
    .io = e1k_io,
    .mmio = e1k_mmio,
    .save = e1k_save,
    .load = e1k_load,
    .save_state = e1k_save_state,
    .load_state = e1k_load_state,
    .query_interface = e1k_query_interface,
};

static const struct pdm_devreg e1k_reg_table = {
    .abi = PDM_DEVREG_ABI,
    .name = "e1000",
    .description = "Intel 82540EM Gigabit Ethernet (PRO/1000 MT Desktop, PCI 8086:100e)",
    .instance_size = sizeof(struct e1k),
    .max_instances = 4,
    .saved_state_version = 1,
    .ops = &e1k_ops,
};

static const cap_uuid e1k_cid = {{0xe4, 0x62, 0x1a, 0x91, 0xc6, 0xd3, 0x4c, 0xbd, 0x8b, 0x2f, 0xc1,
                                  0xd6, 0xb5, 0x84, 0x80, 0x04}};
PDM_DEVICE_COMPONENT(e1k_reg_table, e1k_cid, "e1000")
