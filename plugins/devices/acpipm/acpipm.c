/*
 * plugins/devices/acpipm/acpipm.c - the fixed ACPI power-management
 * hardware of a PC chipset, reduced to what a guest needs to power off: the
 * PM1a event block (PM1_STS, PM1_EN), the PM1a control block (PM1_CNT) and
 * the PM timer, all in one port range. The loader's FADT (vmm/loader,
 * loader_acpi.c) points the guest at these ports and its DSDT declares
 * \_S5 = {5, 5}; a write of PM1_CNT with SLP_EN set and SLP_TYP equal to
 * that value is the S5 "soft off" and powers the VM off (no exit code).
 *
 * The fixed-feature power button (the FADT declares one): a frontend
 * presses it through PDM_IFACE_ACPI_BUTTONS (pdm_acpi_power_button, the
 * IConsole's powerButton), which sets PWRBTN_STS; while the guest has
 * PWRBTN_EN set, the SCI (ISA IRQ `sci_irq`, level-triggered: the MADT's
 * override) is raised until the guest clears the status. An ACPI guest
 * then shuts down as its policy says (Linux: an input event KEY_POWER for
 * its init or acpid).
 *
 * Layout from `iobase` (default 0x600, what the loader's FADT says):
 *   +0  PM1_STS  16 bit, write-1-to-clear; PWRBTN_STS (bit 8) is the only
 *                event this block raises
 *   +2  PM1_EN   16 bit, read/write; PWRBTN_EN (bit 8) routes it to the SCI
 *   +4  PM1_CNT  16 bit: SCI_EN (bit 0) reads 1 - the machine is always in
 *                ACPI mode, there is no SMI_CMD -, SLP_TYP bits 10-12,
 *                SLP_EN bit 13 (write-only, reads 0)
 *   +8  PM_TMR   32 bit read-only: a 24-bit counter at 3.579545 MHz on the
 *                VM's virtual clock (FADT TMR_VAL_EXT clear)
 * Registers are byte-addressed: any access size at any offset reads or
 * writes the bytes it covers. Sleep types other than S5 (the DSDT offers
 * none) are logged and ignored.
 *
 * Config: enabled (bool, default true), iobase (default 0x600), s5_type
 * (SLP_TYP of S5, 0-7, default 5: must match the DSDT's \_S5), sci_irq
 * (ISA IRQ 0-15, default 9: the FADT's SCI_INT).
 */
#include <string.h>

#include "pdmdev.h"

#define PM_BLOCK_LEN 12u
#define PM_TMR_HZ    3579545ull
#define CNT_SCI_EN   0x0001u
#define CNT_SLP_TYP_SHIFT 10
#define CNT_SLP_EN   0x2000u
#define PM1_PWRBTN        0x0100u /* PWRBTN_STS in PM1_STS, PWRBTN_EN in PM1_EN */

struct acpipm {
    uint16_t sts, en, cnt; /* cnt without SLP_EN; guest state, reset by reset */
    uint16_t iobase;       /* config, set at construct */
    uint8_t s5_type;
    uint8_t sci_irq; /* config, set at construct */
    bool enabled;    /* config: the block (and its button) exists */
};

/* The SCI follows the enabled status bits: level, high while any is set. */
static void update_sci(struct pdm_dev *dev)
{
    struct acpipm *s = dev->data;
    dev->hlp->irq_set(dev, s->sci_irq, (s->sts & s->en & PM1_PWRBTN) != 0);
}

/* The PM timer's 24-bit count at virtual time `ns`. */
static uint32_t pm_timer(uint64_t ns)
{
    uint64_t ticks =
        ns / 1000000000ull * PM_TMR_HZ + ns % 1000000000ull * PM_TMR_HZ / 1000000000ull;
    return (uint32_t)(ticks & 0xffffffu);
}

static uint8_t reg_read_byte(struct pdm_dev *dev, unsigned off)
{
    struct acpipm *s = dev->data;
    uint32_t v;
    switch (off & ~1u) {
    case 0: v = s->sts; break;
    case 2: v = s->en; break;
    case 4: v = s->cnt | CNT_SCI_EN; break;
    case 8: case 10: v = pm_timer(dev->hlp->clock_now(dev)) >> ((off & 2) * 8); break;
    default: return 0;
    }
    return (uint8_t)(v >> ((off & 1) * 8));
}

static void sleep_request(struct pdm_dev *dev)
{
    struct acpipm *s = dev->data;
    unsigned typ = (s->cnt >> CNT_SLP_TYP_SHIFT) & 7;
    if (typ != s->s5_type) {
        dev->hlp->log(dev, PDM_LOG_WARN, "sleep type %u requested: not supported, ignored", typ);
        return;
    }
    dev->hlp->log(dev, PDM_LOG_INFO, "guest entered S5 (soft off): power off");
    dev->hlp->vm_power_off(dev, -1);
}

static void reg_write_byte(struct pdm_dev *dev, unsigned off, uint8_t b)
{
    struct acpipm *s = dev->data;
    unsigned shift = (off & 1) * 8;
    switch (off) {
    case 0: case 1:
        s->sts &= (uint16_t)~((unsigned)b << shift);
        update_sci(dev);
        break;
    case 2: case 3:
        s->en = (uint16_t)((s->en & ~(0xffu << shift)) | (unsigned)b << shift);
        update_sci(dev);
        break;
    case 4: case 5: {
        uint16_t v = (uint16_t)((s->cnt & ~(0xffu << shift)) | (unsigned)b << shift);
        s->cnt = v & (uint16_t)~(CNT_SLP_EN | CNT_SCI_EN);
        if (v & CNT_SLP_EN)
            sleep_request(dev);
        break;
    }
    default: /* PM_TMR and the gap: read-only */
        break;
    }
}

static cap_result acpipm_io(struct pdm_dev *dev, void *user, uint16_t port, unsigned size,
                            bool write, uint32_t *val)
{
    struct acpipm *s = dev->data;
    unsigned off = (unsigned)(port - s->iobase);
    if (write) {
        /* Low byte first: SLP_TYP and SLP_EN share the high byte of PM1_CNT. */
        for (unsigned i = 0; i < size && off + i < PM_BLOCK_LEN; i++)
            reg_write_byte(dev, off + i, (uint8_t)(*val >> (i * 8)));
        return CAP_OK;
    }
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)(off + i < PM_BLOCK_LEN ? reg_read_byte(dev, off + i) : 0xff) << (i * 8);
    *val = v;
    return CAP_OK;
}

static void acpipm_reset(struct pdm_dev *dev)
{
    struct acpipm *s = dev->data;
    s->sts = s->en = s->cnt = 0;
    update_sci(dev);
}

/* PDM_IFACE_ACPI_BUTTONS: a press of the power button. */
static cap_result acpipm_power_button(struct pdm_dev *dev)
{
    struct acpipm *s = dev->data;
    s->sts |= PM1_PWRBTN;
    dev->hlp->log(dev, PDM_LOG_INFO, "power button pressed%s",
                  s->en & PM1_PWRBTN ? "" : " (the guest has not enabled its event)");
    update_sci(dev);
    return CAP_OK;
}

static const struct pdm_acpi_buttons_iface acpipm_buttons = {
    .power_button = acpipm_power_button,
};

static const void *acpipm_query_interface(struct pdm_dev *dev, const char *iface)
{
    struct acpipm *s = dev->data;
    /* A disabled block (no ports) has no button either. */
    if (strcmp(iface, PDM_IFACE_ACPI_BUTTONS) != 0 || !s->enabled)
        return NULL;
    return &acpipm_buttons;
}

static cap_result acpipm_construct(struct pdm_dev *dev, const struct pdm_cfg *cfg)
{
    struct acpipm *s = dev->data;
    const struct pdm_hlp *h = dev->hlp;
    bool enabled;
    int64_t base, typ, sci;
    cap_result rc = h->cfg_bool(dev, cfg, "enabled", true, &enabled);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_int(dev, cfg, "iobase", 0x600, 0, 0x10000 - PM_BLOCK_LEN, &base);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_int(dev, cfg, "s5_type", 5, 0, 7, &typ);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_int(dev, cfg, "sci_irq", 9, 0, 15, &sci);
    if (CAP_FAILED(rc))
        return rc;
    s->iobase = (uint16_t)base;
    s->s5_type = (uint8_t)typ;
    s->sci_irq = (uint8_t)sci;
    s->enabled = enabled;
    if (!enabled)
        return CAP_OK;
    return h->io_register(dev, s->iobase, PM_BLOCK_LEN, 0, NULL, "ACPI PM1a + PM timer");
}

static cap_result acpipm_save(struct pdm_dev *dev, struct pdm_ssm *ssm)
{
    struct acpipm *s = dev->data;
    uint16_t regs[3] = {s->sts, s->en, s->cnt};
    return dev->hlp->ssm_put(ssm, regs, sizeof(regs));
}

static cap_result acpipm_load(struct pdm_dev *dev, struct pdm_ssm *ssm, uint32_t version)
{
    struct acpipm *s = dev->data;
    uint16_t regs[3];
    cap_result rc = dev->hlp->ssm_get(ssm, regs, sizeof(regs));
    if (CAP_FAILED(rc))
        return rc;
    s->sts = regs[0];
    s->en = regs[1];
    s->cnt = regs[2] & (uint16_t)~(CNT_SLP_EN | CNT_SCI_EN);
    update_sci(dev);
    return CAP_OK;
}

static const struct pdm_dev_ops acpipm_ops = {
    .construct = acpipm_construct,
    .reset = acpipm_reset,
    .io = acpipm_io,
    .save = acpipm_save,
    .load = acpipm_load,
    .query_interface = acpipm_query_interface,
};

static const struct pdm_devreg acpipm_reg = {
    .abi = PDM_DEVREG_ABI,
    .name = "acpipm",
    .description = "ACPI PM1a event/control blocks, PM timer, power button (S5 powers off)",
    .instance_size = sizeof(struct acpipm),
    .max_instances = 1,
    .saved_state_version = 1,
    .ops = &acpipm_ops,
};

/* {7fd62577-66d9-4c3f-9ab7-5a015eee2ce3} */
static const cap_uuid acpipm_cid = {{0x7f, 0xd6, 0x25, 0x77, 0x66, 0xd9, 0x4c, 0x3f, 0x9a, 0xb7,
                                     0x5a, 0x01, 0x5e, 0xee, 0x2c, 0xe3}};
PDM_DEVICE_COMPONENT(acpipm_reg, acpipm_cid, "acpipm")
