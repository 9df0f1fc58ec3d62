/*
 * vmm/platform/platform_devices.c - the chipset's default device table
 * (platform.h): which devices a PC has, in construction order, and each
 * one's typed configuration from the layout - the numbers the firmware
 * tables (platform_tables.h) and the e820 map describe, so a device and
 * what the guest is told about it cannot disagree.
 */
#include <string.h>

#include "platform/platform.h"
#include "platform/platform_tables.h"
#include "platform_internal.h"

/* Rows with `when` set are added only with that PLATFORM_DEV_* bit (a BIOS
 * adds debugcon and vga by itself). */
struct row {
    const char *name;
    unsigned when;
    bool single;
};

static const struct row rows[] = {
    {"pic", 0, true},
    {"pit", 0, true},
    {"serial", PLATFORM_DEV_SERIAL, false},
    {"port80", 0, true},
    {"rtc", 0, true},
    {"i8042", 0, true},
    {"fwcfg", 0, true},
    {"apic", 0, true},
    {"ioapic", 0, true},
    {"debugexit", PLATFORM_DEV_DEBUGEXIT, true},
    /* The power-management block the FADT describes: how `poweroff` ends
     * the VM */
    {"acpipm", 0, true},
    /* The i440FX host bridge (mechanism #1 at 0xCF8/0xCFC), the PIIX3, the
     * reset control register at 0xCF9 */
    {"pci", 0, true},
    /* The HPET the ACPI HPET table describes */
    {"hpet", 0, true},
    /* The firmware's debug log (port 0x402) into the VM's log */
    {"debugcon", PLATFORM_DEV_DEBUGCON, true},
    /* The display: the BIOS runs its VGA BIOS (a PC has one; --no-device
     * vga leaves it out, --device vga adds it without a BIOS); without a
     * BIOS (PLATFORM_DEV_VGA) it starts in the text mode a BIOS would have
     * set, which the loader tells a Linux kernel about */
    {"vga", PLATFORM_DEV_VGA, true},
    /* The absolute pointer beside the display (the VM's window or a remote
     * viewer moves the guest's pointer without grabbing it), at a slot of
     * its own (PLATFORM_TABLET_DEVFN): --no-device virtioinput leaves it out */
    {"virtioinput", PLATFORM_DEV_VGA, true},
};
#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

bool platform_device_known(const char *name)
{
    for (size_t i = 0; i < N_ROWS; i++)
        if (!strcmp(rows[i].name, name))
            return true;
    return false;
}

const char *platform_device_names(void)
{
    return "pic, pit, serial, port80, rtc, i8042, fwcfg, apic, ioapic, debugexit, acpipm, pci, "
           "hpet, debugcon, vga, virtioinput";
}

static cap_result set(struct platform *p, const char *dev, struct pdm_cfg_value v, char *msg,
                      size_t msglen)
{
    struct platform_device *d = platform_device_find(p, dev);
    return d ? platform_device_set(d, v, msg, msglen) : CAP_OK;
}

cap_result plat_devices(struct platform *p, char *msg, size_t msglen)
{
    unsigned want = p->cfg.devices;
    if (p->cfg.firmware == PLATFORM_FW_BIOS)
        want |= PLATFORM_DEV_DEBUGCON | PLATFORM_DEV_VGA;
    for (size_t i = 0; i < N_ROWS; i++) {
        if (rows[i].when && !(want & rows[i].when))
            continue;
        struct platform_device *d = platform_device_add(p, rows[i].name);
        d->single = rows[i].single;
    }
    int64_t ram = (int64_t)p->cfg.ram_bytes, below = (int64_t)p->ram_below_4g;
    struct {
        const char *dev;
        struct pdm_cfg_value v;
    } vals[] = {
        {"serial", PDM_CFG_I("iobase", 0x3f8)},
        {"serial", PDM_CFG_I("irq", 4)},
        /* CMOS 0x15-0x17, 0x30-0x35, 0x5b-0x5d: what EM maps */
        {"rtc", PDM_CFG_I("ram_size", ram)},
        {"rtc", PDM_CFG_I("ram_below_4g", below)},
        {"fwcfg", PDM_CFG_I("ram_size", ram)},
        {"fwcfg", PDM_CFG_I("cpus", p->cfg.cpus)},
        {"apic", PDM_CFG_I("base", (int64_t)PLATFORM_LAPIC_ADDR)},
        {"ioapic", PDM_CFG_I("base", (int64_t)PLATFORM_IOAPIC_ADDR)},
        {"debugexit", PDM_CFG_I("iobase", 0xf4)},
        /* what the FADT and DSDT say */
        {"acpipm", PDM_CFG_I("iobase", PLATFORM_ACPI_PM_BASE)},
        {"acpipm", PDM_CFG_I("sci_irq", PLATFORM_ACPI_SCI_IRQ)},
        {"acpipm", PDM_CFG_I("s5_type", PLATFORM_ACPI_S5_TYPE)},
        {"hpet", PDM_CFG_I("base", (int64_t)PLATFORM_HPET_ADDR)},
        {"virtioinput", PDM_CFG_I("devfn", PLATFORM_TABLET_DEVFN)},
        {"vga", PDM_CFG_B("textmode", p->cfg.firmware == PLATFORM_FW_NONE)},
    };
    cap_result rc = CAP_OK;
    for (size_t i = 0; CAP_SUCCEEDED(rc) && i < sizeof(vals) / sizeof(vals[0]); i++)
        rc = set(p, vals[i].dev, vals[i].v, msg, msglen);
    if (CAP_SUCCEEDED(rc) && p->fwcfg_e820_len)
        rc = set(p, "fwcfg", PDM_CFG_BYTES("e820", p->fwcfg_e820, p->fwcfg_e820_len), msg, msglen);
    return rc;
}

struct platform_device *platform_device_find(struct platform *p, const char *name)
{
    for (unsigned i = 0; i < p->n_devices; i++)
        if (!strcmp(p->devices[i].name, name))
            return &p->devices[i];
    return NULL;
}

struct platform_device *platform_device_add(struct platform *p, const char *name)
{
    if (p->n_devices == PLATFORM_MAX_DEVICES)
        return NULL;
    struct platform_device *d = &p->devices[p->n_devices++];
    memset(d, 0, sizeof(*d));
    d->name = name;
    return d;
}

bool platform_device_remove(struct platform *p, const char *name)
{
    unsigned j = 0;
    for (unsigned i = 0; i < p->n_devices; i++)
        if (strcmp(p->devices[i].name, name))
            p->devices[j++] = p->devices[i];
    bool found = j != p->n_devices;
    p->n_devices = j;
    return found;
}

cap_result platform_device_set(struct platform_device *d, struct pdm_cfg_value v, char *msg,
                               size_t msglen)
{
    for (unsigned i = 0; i < d->n_values; i++)
        if (!strcmp(d->values[i].key, v.key)) {
            d->values[i] = v;
            return CAP_OK;
        }
    if (d->n_values == PLATFORM_MAX_VALUES)
        return plat_fail(msg, msglen, CAP_E_INVALIDARG, "%s: more than %u config keys", d->name,
                         PLATFORM_MAX_VALUES);
    d->values[d->n_values++] = v;
    return CAP_OK;
}

const struct pdm_cfg_value *platform_device_get(const struct platform_device *d, const char *key)
{
    for (unsigned i = 0; i < d->n_values; i++)
        if (!strcmp(d->values[i].key, key))
            return &d->values[i];
    return NULL;
}

void platform_pdm_config(const struct platform *p, struct pdm_dev_config *out)
{
    for (unsigned i = 0; i < p->n_devices; i++)
        out[i] = (struct pdm_dev_config){.device = p->devices[i].name,
                                         .values = p->devices[i].values,
                                         .n_values = p->devices[i].n_values};
}
