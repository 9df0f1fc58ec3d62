/*
 * service/settings_storage.c - the storage part of a machine's settings as
 * plain data: controllers and attached drives (settings.h), the limits of
 * each bus, and the consistency rules both the parser and saveSettings
 * apply (a file the service accepts is one it could have written).
 *
 * Buses (VirtualBox's): IDE has 2 ports (primary, secondary channel) of 2
 * devices (master, slave); SATA up to 30 ports, VirtIO up to 16, of one
 * device each.
 */
#include <stdio.h>
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/uuid.h>

#include "settings.h"

struct bus_info {
    StorageBus bus;
    const char *name;
    uint32_t max_ports, max_devices;
    StorageControllerType type;
};

static const struct bus_info buses[] = {
    {StorageBus_IDE, "IDE", 2, 2, StorageControllerType_PIIX3},
    {StorageBus_SATA, "SATA", 30, 1, StorageControllerType_IntelAhci},
    {StorageBus_VirtIO, "VirtIO", 16, 1, StorageControllerType_VirtIO},
};

static const struct bus_info *bus_info(StorageBus bus)
{
    for (size_t i = 0; i < sizeof(buses) / sizeof(buses[0]); i++)
        if (buses[i].bus == bus)
            return &buses[i];
    return NULL;
}

uint32_t settings_bus_max_ports(StorageBus bus)
{
    const struct bus_info *b = bus_info(bus);
    return b ? b->max_ports : 0;
}

uint32_t settings_bus_max_devices(StorageBus bus)
{
    const struct bus_info *b = bus_info(bus);
    return b ? b->max_devices : 0;
}

StorageControllerType settings_bus_default_type(StorageBus bus)
{
    const struct bus_info *b = bus_info(bus);
    return b ? b->type : StorageControllerType_Null;
}

const char *settings_bus_name(StorageBus bus)
{
    const struct bus_info *b = bus_info(bus);
    return b ? b->name : "?";
}

const char *settings_ctl_type_name(StorageControllerType t)
{
    switch (t) {
    case StorageControllerType_PIIX3:
        return "PIIX3";
    case StorageControllerType_IntelAhci:
        return "AHCI";
    case StorageControllerType_VirtIO:
        return "VirtIO";
    default:
        return "?";
    }
}

const char *settings_device_name(DeviceType t)
{
    switch (t) {
    case DeviceType_HardDisk:
        return "HardDisk";
    case DeviceType_DVD:
        return "DVD";
    case DeviceType_Null:
        return "None";
    default:
        return "?";
    }
}

struct storage_ctl_cfg *settings_find_ctl(const struct machine_cfg *c, const char *name)
{
    for (uint32_t i = 0; i < c->n_ctls; i++)
        if (!strcmp(c->ctls[i].name, name))
            return &c->ctls[i];
    return NULL;
}

struct attachment_cfg *settings_find_att(const struct machine_cfg *c, const char *ctl, int32_t port,
                                         int32_t device)
{
    for (uint32_t i = 0; i < c->n_atts; i++) {
        struct attachment_cfg *a = &c->atts[i];
        if (!strcmp(a->controller, ctl) && a->port == port && a->device == device)
            return a;
    }
    return NULL;
}

const char *settings_slot_problem(const struct storage_ctl_cfg *ctl, int32_t port, int32_t device,
                                  char *buf, size_t size)
{
    uint32_t devices = settings_bus_max_devices(ctl->bus);
    if (port < 0 || (uint32_t)port >= ctl->port_count)
        snprintf(buf, size, "port %d is out of range 0..%u of the %s controller '%s'", (int)port,
                 (unsigned)ctl->port_count - 1, settings_bus_name(ctl->bus), ctl->name);
    else if (device < 0 || (uint32_t)device >= devices)
        snprintf(buf, size, "device %d is out of range 0..%u of the %s controller '%s'",
                 (int)device, (unsigned)devices - 1, settings_bus_name(ctl->bus), ctl->name);
    else
        return NULL;
    return buf;
}

const char *settings_storage_problem(const struct machine_cfg *c, char *buf, size_t size)
{
    char id[CAP_UUID_BUFSIZE];
    for (uint32_t i = 0; i < c->n_ctls; i++) {
        const struct storage_ctl_cfg *k = &c->ctls[i];
        uint32_t max = settings_bus_max_ports(k->bus);
        if (!max || k->type != settings_bus_default_type(k->bus)) {
            snprintf(buf, size, "storage controller '%s' has an unknown bus or type", k->name);
            return buf;
        }
        if (k->port_count < 1 || k->port_count > max ||
            (k->bus == StorageBus_IDE && k->port_count != max)) {
            snprintf(buf, size, "storage controller '%s': %u ports (the %s bus has %s%u)", k->name,
                     (unsigned)k->port_count, settings_bus_name(k->bus),
                     k->bus == StorageBus_IDE ? "" : "1 to ", (unsigned)max);
            return buf;
        }
        for (uint32_t j = 0; j < i; j++)
            if (!strcmp(c->ctls[j].name, k->name)) {
                snprintf(buf, size, "two storage controllers are called '%s'", k->name);
                return buf;
            }
    }
    for (uint32_t i = 0; i < c->n_atts; i++) {
        const struct attachment_cfg *a = &c->atts[i];
        const struct storage_ctl_cfg *k = settings_find_ctl(c, a->controller);
        if (!k) {
            snprintf(buf, size, "a drive is attached to '%s', which is no storage controller",
                     a->controller);
            return buf;
        }
        if (settings_slot_problem(k, a->port, a->device, buf, size))
            return buf;
        if (a->type != DeviceType_HardDisk && a->type != DeviceType_DVD) {
            snprintf(buf, size,
                     "the drive at %s port %d device %d is neither a hard disk nor a DVD",
                     a->controller, (int)a->port, (int)a->device);
            return buf;
        }
        if (a->type == DeviceType_DVD && k->bus == StorageBus_VirtIO) {
            snprintf(buf, size,
                     "a DVD drive cannot sit on the VirtIO controller '%s' (virtio-blk has no "
                     "removable media): put it on an IDE or SATA controller",
                     a->controller);
            return buf;
        }
        if (a->type == DeviceType_HardDisk && cap_uuid_is_null(&a->medium)) {
            snprintf(buf, size, "the hard disk at %s port %d device %d has no medium",
                     a->controller, (int)a->port, (int)a->device);
            return buf;
        }
        for (uint32_t j = 0; j < i; j++) {
            const struct attachment_cfg *b = &c->atts[j];
            if (!strcmp(b->controller, a->controller) && b->port == a->port &&
                b->device == a->device) {
                snprintf(buf, size, "two drives are attached at %s port %d device %d",
                         a->controller, (int)a->port, (int)a->device);
                return buf;
            }
            if (!cap_uuid_is_null(&a->medium) && cap_uuid_equal(&a->medium, &b->medium)) {
                snprintf(buf, size, "the medium {%s} is attached twice",
                         cap_uuid_format(&a->medium, id));
                return buf;
            }
        }
    }
    return NULL;
}

static cap_result oom(void)
{
    return cap_error_set(CAP_E_OUTOFMEMORY, SETTINGS_COMPONENT, NULL, "out of memory");
}

cap_result settings_add_ctl(struct machine_cfg *c, const char *name, StorageBus bus)
{
    struct storage_ctl_cfg *n = cap_realloc(c->ctls, (c->n_ctls + 1) * sizeof(*n));
    if (!n)
        return oom();
    c->ctls = n;
    struct storage_ctl_cfg *k = &n[c->n_ctls];
    memset(k, 0, sizeof(*k));
    if (!(k->name = cap_str_dup(name)))
        return oom();
    k->bus = bus;
    k->type = settings_bus_default_type(bus);
    k->port_count = settings_bus_max_ports(bus);
    k->bootable = CAP_TRUE;
    c->n_ctls++;
    return CAP_OK;
}

cap_result settings_add_att(struct machine_cfg *c, const struct attachment_cfg *a)
{
    struct attachment_cfg *n = cap_realloc(c->atts, (c->n_atts + 1) * sizeof(*n));
    if (!n)
        return oom();
    c->atts = n;
    n[c->n_atts] = *a;
    if (!(n[c->n_atts].controller = cap_str_dup(a->controller)))
        return oom();
    c->n_atts++;
    return CAP_OK;
}

void settings_remove_ctl(struct machine_cfg *c, uint32_t i)
{
    cap_str_free(c->ctls[i].name);
    memmove(&c->ctls[i], &c->ctls[i + 1], (c->n_ctls - i - 1) * sizeof(c->ctls[0]));
    c->n_ctls--;
}

void settings_remove_att(struct machine_cfg *c, uint32_t i)
{
    cap_str_free(c->atts[i].controller);
    memmove(&c->atts[i], &c->atts[i + 1], (c->n_atts - i - 1) * sizeof(c->atts[0]));
    c->n_atts--;
}

void settings_storage_clear(struct machine_cfg *c)
{
    for (uint32_t i = 0; i < c->n_ctls; i++)
        cap_str_free(c->ctls[i].name);
    for (uint32_t i = 0; i < c->n_atts; i++)
        cap_str_free(c->atts[i].controller);
    cap_free(c->ctls);
    cap_free(c->atts);
    c->ctls = NULL;
    c->atts = NULL;
    c->n_ctls = c->n_atts = 0;
}

cap_result settings_storage_copy(struct machine_cfg *dst, const struct machine_cfg *src)
{
    struct machine_cfg t = {0};
    cap_result rc = CAP_OK;
    for (uint32_t i = 0; i < src->n_ctls && CAP_SUCCEEDED(rc); i++) {
        rc = settings_add_ctl(&t, src->ctls[i].name, src->ctls[i].bus);
        if (CAP_SUCCEEDED(rc)) {
            char *name = t.ctls[i].name;
            t.ctls[i] = src->ctls[i];
            t.ctls[i].name = name;
        }
    }
    for (uint32_t i = 0; i < src->n_atts && CAP_SUCCEEDED(rc); i++)
        rc = settings_add_att(&t, &src->atts[i]);
    if (CAP_FAILED(rc)) {
        settings_storage_clear(&t);
        return rc;
    }
    dst->ctls = t.ctls;
    dst->n_ctls = t.n_ctls;
    dst->atts = t.atts;
    dst->n_atts = t.n_atts;
    return CAP_OK;
}
