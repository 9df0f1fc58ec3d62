/*
 * plugins/devices/ahci/ahci_ssm.c - the controller's saved state, version
 * 2, field by field: GHC and the port count, then per port its registers
 * (CLB, FB, IS, IE, CMD, SCTL, SERR, SACT, CI, SIG), whether the reset's
 * signature FIS still waits for FRE, whether a failed command halted it,
 * its device (the ATA core's ide_drive_io: taskfile, settings, sense), and
 * (new in version 2) whether the NCQ command error log holds a failed
 * queued command, and its 14 bytes. Version 1 states load with the log
 * empty.
 *
 * PDM saves with its block layer idle (pdm_blk_drain first), and every
 * step of a command but the block I/O runs at once, so at save no command
 * is in the middle: each issued slot has either ended (its PxCI bit
 * cleared, or kept with the port halted) or not started (waiting for the
 * bus-master bit), and starts again from the guest's command list after
 * the load. What the drives hold is the configuration's.
 */
#include "ahci.h"

static cap_result port_io(const struct pdm_hlp *h, struct pdm_ssm *ssm, struct ahci_port *p,
                          bool save, uint32_t version)
{
    uint32_t *w[] = {&p->is, &p->ie, &p->cmd, &p->sctl, &p->serr, &p->sact, &p->ci, &p->sig};
    uint64_t *q[] = {&p->clb, &p->fb};
    uint8_t flags = (uint8_t)(p->d2h_pending | p->halted << 1);
    cap_result rc = save ? h->ssm_put(ssm, &flags, 1) : h->ssm_get(ssm, &flags, 1);
    for (size_t i = 0; i < sizeof(q) / sizeof(q[0]) && CAP_SUCCEEDED(rc); i++)
        rc = save ? h->ssm_put(ssm, q[i], 8) : h->ssm_get(ssm, q[i], 8);
    for (size_t i = 0; i < sizeof(w) / sizeof(w[0]) && CAP_SUCCEEDED(rc); i++)
        rc = save ? h->ssm_put(ssm, w[i], 4) : h->ssm_get(ssm, w[i], 4);
    if (CAP_SUCCEEDED(rc))
        rc = ide_drive_io(h, ssm, &p->ch.drv[0], save);
    struct ide_drive *d = &p->ch.drv[0];
    uint8_t failed = d->ncq_failed;
    if (CAP_SUCCEEDED(rc) && version >= 2)
        rc = save ? h->ssm_put(ssm, &failed, 1) : h->ssm_get(ssm, &failed, 1);
    if (CAP_SUCCEEDED(rc) && version >= 2)
        rc = save ? h->ssm_put(ssm, d->ncq_log, sizeof(d->ncq_log))
                  : h->ssm_get(ssm, d->ncq_log, sizeof(d->ncq_log));
    d->ncq_failed = failed && version >= 2;
    p->d2h_pending = flags & 1;
    p->halted = flags & 2;
    return rc;
}

cap_result ahci_save(struct pdm_dev *dev, struct pdm_ssm *ssm)
{
    struct ahci *s = dev->data;
    const struct pdm_hlp *h = dev->hlp;
    uint32_t n = s->nports;
    cap_result rc = h->ssm_put(ssm, &s->ghc, 4);
    if (CAP_SUCCEEDED(rc))
        rc = h->ssm_put(ssm, &n, 4);
    for (unsigned i = 0; i < s->nports && CAP_SUCCEEDED(rc); i++) {
        if (s->port[i].slot >= 0)
            return h->error(dev, CAP_E_FAIL, "port %u is in the middle of a command", i);
        rc = port_io(h, ssm, &s->port[i], true, AHCI_SSM_VERSION);
    }
    return rc;
}

cap_result ahci_load(struct pdm_dev *dev, struct pdm_ssm *ssm, uint32_t version)
{
    struct ahci *s = dev->data;
    const struct pdm_hlp *h = dev->hlp;
    uint32_t ghc, n;
    if (version < 1 || version > AHCI_SSM_VERSION)
        return h->error(dev, CAP_E_INVALIDARG, "saved state version %u (want 1 to %u)", version,
                        AHCI_SSM_VERSION);
    ahci_reset_all(s);
    cap_result rc = h->ssm_get(ssm, &ghc, 4);
    if (CAP_SUCCEEDED(rc))
        rc = h->ssm_get(ssm, &n, 4);
    if (CAP_SUCCEEDED(rc) && n != s->nports)
        return h->error(dev, CAP_E_INVALIDARG, "saved state of %u ports, this controller has %u", n,
                        s->nports);
    for (unsigned i = 0; i < s->nports && CAP_SUCCEEDED(rc); i++)
        rc = port_io(h, ssm, &s->port[i], false, version);
    if (CAP_FAILED(rc)) {
        ahci_reset_all(s);
        return h->error(dev, CAP_E_INVALIDARG, "bad saved state");
    }
    s->ghc = GHC_AE | (ghc & GHC_IE);
    for (unsigned i = 0; i < s->nports; i++) {
        struct ahci_port *p = &s->port[i];
        p->is &= PXIS_MASK;
        p->ie &= PXIS_MASK;
        p->sctl &= 0xfff;
        ahci_port_kick(p); /* issued slots waiting for the bus master, a changed IRQ */
    }
    ahci_update_irq(s);
    return CAP_OK;
}
