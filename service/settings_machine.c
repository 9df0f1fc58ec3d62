/*
 * service/settings_machine.c - the machine settings file (NAME.capsule).
 *
 *   <?xml version="1.0" encoding="UTF-8"?>
 *   <CapsuleMachine version="1">
 *     <Machine uuid="..." name="demo" osType="Linux_64" state="aborted"
 *              abortReason="triple fault at ..." lastStateChange="1700000000000">
 *       <Description>free text</Description>
 *       <Hardware memory="512" cpus="1" engine="auto" debugExit="false"
 *                 cpuProfile="amd-epyc">
 *         <Firmware type="BIOS"/>                   (absent: None)
 *         <Display controller="None"/>              (absent: VGA)
 *         <Boot kernel="/path/bzImage" initrd="" cmdline="console=ttyS0">
 *           <Order position="1" device="DVD"/>      (1..4: DVD, HardDisk, None)
 *         </Boot>
 *         <SerialPort slot="0" enabled="true" ioBase="0x3f8" irq="4"
 *                     mode="file" path="/tmp/serial.log"/>
 *         <RemoteDisplay enabled="true">...</RemoteDisplay>  (settings_vrde.c)
 *         <Network><Adapter slot="0" ...>...</Adapter></Network>  (settings_net.c)
 *       </Hardware>
 *       <StorageControllers>                        (VirtualBox's form)
 *         <StorageController name="SATA" type="AHCI" PortCount="30" Bootable="true">
 *           <AttachedDevice type="HardDisk" port="0" device="0">
 *             <Image uuid="{...}"/>                 (a medium of capsule.xml)
 *           </AttachedDevice>
 *           <AttachedDevice type="DVD" port="1" device="0"/>   (an empty drive)
 *         </StorageController>
 *       </StorageControllers>
 *       <ExtraData>
 *         <Item key="k" value="v"/>
 *       </ExtraData>
 *     </Machine>
 *   </CapsuleMachine>
 *
 * Every element but <CapsuleMachine> and <Machine> is optional and takes
 * its default when missing (so older files keep loading); unknown elements
 * and attributes, values out of range and versions newer than
 * SETTINGS_VERSION are errors. Values are checked against the same limits
 * as the IMachine setters, so a file the service accepts is one it could
 * have written, with the exceptions below.
 *
 * Memory and CPU count are bounded here only below (PLATFORM_MIN_RAM_MB,
 * PLATFORM_MIN_CPUS) and by their type: what this build runs
 * (platform/platform_limits.h: PLATFORM_MAX_RAM_MB, PLATFORM_MAX_CPUS) is
 * smaller than what earlier builds let a machine have (1048576 MB, 256
 * CPUs) and what a later build may run. Such a machine stays accessible
 * (showvminfo, modifyvm to fix it); powering it up is refused by the VM
 * process with the limit and why. The same holds for engine="raw".
 *
 * One exception, as in VirtualBox: cpuProfile is only checked for its form
 * (a name of at most SETTINGS_CPU_PROFILE_MAX bytes without spaces or
 * control characters), not against this build's profile table. A machine
 * whose file names a profile this build lacks stays accessible, keeps the
 * name when saved, and fails to power up with a message naming the known
 * ones. The attribute is written only when it is not the default "host",
 * so files of machines that never chose a profile read in older builds.
 *
 * Storage: the controllers and drives are checked as saveSettings checks
 * them (settings_storage_problem); an attachment's medium is named by UUID
 * only, and whether the media registry knows it is not this module's
 * business (a medium that is gone leaves the drive without one).
 */
#include <inttypes.h>
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/uuid.h>

#include "platform/platform_limits.h"
#include "settings.h"
#include "settings_xml.h"

static const char *const engine_names[] = {"auto", "hm", "rem", "raw"};
static const char *const mode_names[] = {"disconnected", "file", "server"};

static cap_result parse_serial(const char *f, const struct xml_node *n, struct machine_cfg *cfg,
                               unsigned *seen)
{
    static const char *const allowed[] = {"slot", "enabled", "ioBase", "irq", "mode", "path", NULL};
    cap_result rc = xml_check_attrs(f, n, allowed);
    uint32_t slot = 0, io;
    if (CAP_SUCCEEDED(rc))
        rc = xml_get_u32(f, n, "slot", 1, 0, SETTINGS_SERIAL_SLOTS - 1, &slot);
    if (CAP_FAILED(rc))
        return rc;
    if (*seen & (1u << slot))
        return xml_error(f, n, "serial port slot %" PRIu32 " appears twice", slot);
    *seen |= 1u << slot;
    struct serial_cfg *s = &cfg->serial[slot];
    io = s->io_base;
    int mode = (int)s->mode;
    if (CAP_SUCCEEDED(rc = xml_get_bool(f, n, "enabled", &s->enabled)) &&
        CAP_SUCCEEDED(rc = xml_get_u32(f, n, "ioBase", 0, 0, 0xfff8, &io)) &&
        CAP_SUCCEEDED(rc = xml_get_u32(f, n, "irq", 0, 0, 15, &s->irq)) &&
        CAP_SUCCEEDED(rc = xml_get_enum(f, n, "mode", mode_names, 3, &mode)))
        rc = xml_get_str(f, n, "path", 0, &s->path);
    s->io_base = (uint16_t)io;
    s->mode = (PortMode)mode;
    return rc;
}

/* cpuProfile: its form only (see the top of the file); absent = "host". */
static cap_result parse_cpu_profile(const char *f, const struct xml_node *hw,
                                    struct machine_cfg *cfg)
{
    cap_result rc = xml_get_str(f, hw, "cpuProfile", 0, &cfg->cpu_profile);
    if (CAP_FAILED(rc))
        return rc;
    const char *v = cfg->cpu_profile;
    if (!*v || strlen(v) > SETTINGS_CPU_PROFILE_MAX || strpbrk(v, " \t\r\n"))
        return xml_error(f, hw,
                         "cpuProfile '%.80s' is not a profile name (1 to %u bytes, no spaces)", v,
                         SETTINGS_CPU_PROFILE_MAX);
    return CAP_OK;
}

static const char *const device_names[] = {"None", NULL, "DVD", "HardDisk"};

/* <Boot>'s <Order position= device=/> children. */
static cap_result parse_boot_order(const char *f, const struct xml_node *boot,
                                   struct machine_cfg *cfg)
{
    static const char *const allowed[] = {"position", "device", NULL};
    unsigned seen = 0;
    for (const struct xml_node *n = boot->first_child; n; n = n->next) {
        uint32_t pos = 0;
        int dev = DeviceType_Null;
        cap_result rc;
        if (strcmp(n->name, "Order"))
            return xml_error(f, n, "unknown element <%s> in <Boot>", n->name);
        if (CAP_FAILED(rc = xml_check_attrs(f, n, allowed)) ||
            CAP_FAILED(rc = xml_get_u32(f, n, "position", 1, 1, SETTINGS_BOOT_SLOTS, &pos)) ||
            CAP_FAILED(rc = xml_get_enum(f, n, "device", device_names, 4, &dev)))
            return rc;
        if (!xml_attr(n, "device"))
            return xml_error(f, n, "<Order> lacks attribute 'device'");
        if (seen & (1u << pos))
            return xml_error(f, n, "boot position %" PRIu32 " appears twice", pos);
        seen |= 1u << pos;
        cfg->boot[pos - 1] = (DeviceType)dev;
    }
    return CAP_OK;
}

static cap_result parse_firmware(const char *f, const struct xml_node *n, struct machine_cfg *cfg)
{
    static const char *const allowed[] = {"type", NULL};
    static const char *const names[] = {"None", "BIOS"};
    int t = FirmwareType_None;
    cap_result rc = xml_check_attrs(f, n, allowed);
    if (CAP_SUCCEEDED(rc) && xml_attr(n, "type") && !strcmp(xml_attr(n, "type"), "EFI"))
        return xml_error(f, n, "firmware type EFI is not in this build yet");
    if (CAP_SUCCEEDED(rc))
        rc = xml_get_enum(f, n, "type", names, 2, &t);
    cfg->firmware = (FirmwareType)t;
    return rc;
}

/* VirtualBox's <Display controller="..."/>, with this build's names. */
static cap_result parse_display(const char *f, const struct xml_node *n, struct machine_cfg *cfg)
{
    static const char *const allowed[] = {"controller", NULL};
    static const char *const names[] = {"None", "VGA"};
    int t = GraphicsControllerType_VGA;
    cap_result rc = xml_check_attrs(f, n, allowed);
    if (CAP_SUCCEEDED(rc))
        rc = xml_get_enum(f, n, "controller", names, 2, &t);
    cfg->graphics = (GraphicsControllerType)t;
    return rc;
}

static cap_result parse_hardware(const char *f, const struct xml_node *hw, struct machine_cfg *cfg)
{
    static const char *const allowed[] = {"memory",    "cpus",       "engine",
                                          "debugExit", "cpuProfile", NULL};
    static const char *const boot_allowed[] = {"kernel", "initrd", "cmdline", NULL};
    int engine = (int)cfg->engine;
    unsigned seen = 0;
    cap_result rc;
    if (CAP_FAILED(rc = xml_check_attrs(f, hw, allowed)) ||
        CAP_FAILED(
            rc = xml_get_u32(f, hw, "memory", 0, PLATFORM_MIN_RAM_MB, UINT32_MAX, &cfg->memory)) ||
        CAP_FAILED(rc = xml_get_u32(f, hw, "cpus", 0, PLATFORM_MIN_CPUS, UINT32_MAX, &cfg->cpus)) ||
        CAP_FAILED(rc = xml_get_enum(f, hw, "engine", engine_names, 4, &engine)) ||
        CAP_FAILED(rc = xml_get_bool(f, hw, "debugExit", &cfg->debug_exit)) ||
        CAP_FAILED(rc = parse_cpu_profile(f, hw, cfg)))
        return rc;
    cfg->engine = (ExecutionEngine)engine;
    for (const struct xml_node *n = hw->first_child; n; n = n->next) {
        if (!strcmp(n->name, "Boot")) {
            if (CAP_FAILED(rc = xml_check_attrs(f, n, boot_allowed)) ||
                CAP_FAILED(rc = xml_get_str(f, n, "kernel", 0, &cfg->kernel)) ||
                CAP_FAILED(rc = xml_get_str(f, n, "initrd", 0, &cfg->initrd)) ||
                CAP_FAILED(rc = xml_get_str(f, n, "cmdline", 0, &cfg->cmdline)) ||
                CAP_FAILED(rc = parse_boot_order(f, n, cfg)))
                return rc;
            if (strlen(cfg->cmdline) > SETTINGS_CMDLINE_MAX)
                return xml_error(f, n, "cmdline longer than %u bytes", SETTINGS_CMDLINE_MAX);
        } else if (!strcmp(n->name, "SerialPort")) {
            if (CAP_FAILED(rc = parse_serial(f, n, cfg, &seen)))
                return rc;
        } else if (!strcmp(n->name, "Firmware")) {
            if (CAP_FAILED(rc = parse_firmware(f, n, cfg)))
                return rc;
        } else if (!strcmp(n->name, "Display")) {
            if (CAP_FAILED(rc = parse_display(f, n, cfg)))
                return rc;
        } else if (!strcmp(n->name, "RemoteDisplay")) {
            if (CAP_FAILED(rc = settings_vrde_parse(f, n, &cfg->vrde)))
                return rc;
        } else if (!strcmp(n->name, "Network")) {
            if (CAP_FAILED(rc = settings_net_parse(f, n, cfg)))
                return rc;
        } else {
            return xml_error(f, n, "unknown element <%s> in <Hardware>", n->name);
        }
    }
    return CAP_OK;
}

/* One <AttachedDevice> of controller k. */
static cap_result parse_attached(const char *f, const struct xml_node *n,
                                 const struct storage_ctl_cfg *k, struct machine_cfg *cfg)
{
    static const char *const allowed[] = {"type",        "port",         "device",
                                          "passthrough", "hotpluggable", NULL};
    static const char *const img_allowed[] = {"uuid", NULL};
    struct attachment_cfg a = {.controller = k->name};
    uint32_t port = 0, device = 0;
    int type = DeviceType_Null;
    cap_bool pass = CAP_FALSE, hot = CAP_FALSE;
    cap_result rc;
    if (CAP_FAILED(rc = xml_check_attrs(f, n, allowed)) ||
        CAP_FAILED(rc = xml_get_enum(f, n, "type", device_names, 4, &type)) ||
        CAP_FAILED(rc = xml_get_u32(f, n, "port", 1, 0, INT32_MAX, &port)) ||
        CAP_FAILED(rc = xml_get_u32(f, n, "device", 1, 0, INT32_MAX, &device)) ||
        CAP_FAILED(rc = xml_get_bool(f, n, "passthrough", &pass)) ||
        CAP_FAILED(rc = xml_get_bool(f, n, "hotpluggable", &hot)))
        return rc;
    if (pass || hot)
        return xml_error(f, n, "host drive pass-through and hot-plugging are not supported");
    a.type = (DeviceType)type;
    a.port = (int32_t)port;
    a.device = (int32_t)device;
    for (const struct xml_node *c = n->first_child; c; c = c->next) {
        if (strcmp(c->name, "Image"))
            return xml_error(f, c, "unknown element <%s> in <AttachedDevice>", c->name);
        if (!cap_uuid_is_null(&a.medium))
            return xml_error(f, c, "<AttachedDevice> holds two images");
        if (CAP_FAILED(rc = xml_check_attrs(f, c, img_allowed)) ||
            CAP_FAILED(rc = xml_get_uuid(f, c, "uuid", &a.medium)))
            return rc;
    }
    if (cfg->n_atts >= SETTINGS_MAX_ATTACHMENTS)
        return xml_error(f, n, "more than %u attached drives", SETTINGS_MAX_ATTACHMENTS);
    return settings_add_att(cfg, &a);
}

/* <StorageControllers>: controllers and their drives, checked as a whole. */
static cap_result parse_storage(const char *f, const struct xml_node *sc, struct machine_cfg *cfg)
{
    static const char *const allowed[] = {"name",     "type",           "PortCount",
                                          "Bootable", "useHostIOCache", NULL};
    static const char *const types[] = {"PIIX3", "AHCI", "VirtIO"};
    static const StorageBus type_bus[] = {StorageBus_IDE, StorageBus_SATA, StorageBus_VirtIO};
    cap_result rc = xml_check_attrs(f, sc, allowed + 5);
    for (const struct xml_node *n = sc->first_child; n && CAP_SUCCEEDED(rc); n = n->next) {
        char *name = NULL;
        int type = 0;
        if (strcmp(n->name, "StorageController"))
            return xml_error(f, n, "unknown element <%s> in <StorageControllers>", n->name);
        if (cfg->n_ctls >= SETTINGS_MAX_CONTROLLERS)
            return xml_error(f, n, "more than %u storage controllers", SETTINGS_MAX_CONTROLLERS);
        if (CAP_FAILED(rc = xml_check_attrs(f, n, allowed)) ||
            CAP_FAILED(rc = xml_get_str(f, n, "name", 1, &name)) ||
            CAP_FAILED(rc = xml_get_enum(f, n, "type", types, 3, &type))) {
            cap_str_free(name);
            return rc;
        }
        if (!xml_attr(n, "type"))
            rc = xml_error(f, n, "<StorageController> lacks attribute 'type'");
        else if (!*name || strlen(name) > SETTINGS_CTL_NAME_MAX || strpbrk(name, "\t\r\n"))
            rc = xml_error(f, n,
                           "storage controller name '%.80s' is empty, too long or not one "
                           "line",
                           name);
        else
            rc = settings_add_ctl(cfg, name, type_bus[type]);
        cap_str_free(name);
        if (CAP_FAILED(rc))
            return rc;
        struct storage_ctl_cfg *k = &cfg->ctls[cfg->n_ctls - 1];
        if (CAP_FAILED(rc = xml_get_u32(f, n, "PortCount", 0, 1, 1024, &k->port_count)) ||
            CAP_FAILED(rc = xml_get_bool(f, n, "Bootable", &k->bootable)))
            return rc;
        cap_bool cache = CAP_FALSE;
        if (CAP_FAILED(rc = xml_get_bool(f, n, "useHostIOCache", &cache)))
            return rc;
        for (const struct xml_node *d = n->first_child; d && CAP_SUCCEEDED(rc); d = d->next) {
            if (strcmp(d->name, "AttachedDevice"))
                return xml_error(f, d, "unknown element <%s> in <StorageController>", d->name);
            rc = parse_attached(f, d, k, cfg);
            k = &cfg->ctls[cfg->n_ctls - 1];
        }
    }
    char why[200];
    if (CAP_SUCCEEDED(rc) && settings_storage_problem(cfg, why, sizeof(why)))
        rc = xml_error(f, sc, "%s", why);
    return rc;
}

/* <ExtraData><Item key= value=/>...</ExtraData>, shared with the global file. */
cap_result settings_parse_extra(const char *f, const struct xml_node *ed, struct kv_list *out)
{
    static const char *const allowed[] = {"key", "value", NULL};
    cap_result rc = xml_check_attrs(f, ed, allowed + 2);
    for (const struct xml_node *n = ed->first_child; n && CAP_SUCCEEDED(rc); n = n->next) {
        char *key = NULL, *value = NULL;
        if (strcmp(n->name, "Item"))
            return xml_error(f, n, "unknown element <%s> in <ExtraData>", n->name);
        if (CAP_SUCCEEDED(rc = xml_check_attrs(f, n, allowed)) &&
            CAP_SUCCEEDED(rc = xml_get_str(f, n, "key", 1, &key)) &&
            CAP_SUCCEEDED(rc = xml_get_str(f, n, "value", 1, &value))) {
            if (!*key)
                rc = xml_error(f, n, "extra data item with an empty key");
            else if (kv_get(out, key))
                rc = xml_error(f, n, "extra data key '%.60s' appears twice", key);
            else
                rc = kv_set(out, key, value);
        }
        cap_str_free(key);
        cap_str_free(value);
    }
    return rc;
}

static cap_result parse_machine_elem(const char *f, const struct xml_node *m,
                                     struct machine_file *out)
{
    static const char *const allowed[] = {
        "uuid", "name", "osType", "state", "abortReason", "lastStateChange", NULL};
    static const char *const states[] = {NULL, "poweroff", "saved", "aborted"};
    int state = MachineState_PoweredOff;
    cap_result rc;
    if (CAP_FAILED(rc = xml_check_attrs(f, m, allowed)) ||
        CAP_FAILED(rc = xml_get_uuid(f, m, "uuid", &out->id)) ||
        CAP_FAILED(rc = xml_get_str(f, m, "name", 1, &out->cfg.name)) ||
        CAP_FAILED(rc = xml_get_str(f, m, "osType", 0, &out->cfg.os_type)) ||
        CAP_FAILED(rc = xml_get_enum(f, m, "state", states, 4, &state)) ||
        CAP_FAILED(rc = xml_get_str(f, m, "abortReason", 0, &out->abort_reason)) ||
        CAP_FAILED(rc = xml_get_i64(f, m, "lastStateChange", &out->last_state_change)))
        return rc;
    if (!*out->cfg.name)
        return xml_error(f, m, "the machine name is empty");
    out->state = (MachineState)state;
    unsigned seen = 0;
    for (const struct xml_node *n = m->first_child; n; n = n->next) {
        unsigned bit = 0;
        if (!strcmp(n->name, "Description")) {
            bit = 1;
            if (n->first_child)
                return xml_error(f, n, "<Description> holds elements");
            if (!settings_text_ok(n->text) || strlen(n->text) != n->text_len)
                return xml_error(f, n, "<Description> holds control characters");
            char *d = cap_str_dup(n->text);
            if (!d)
                return cap_error_set(CAP_E_OUTOFMEMORY, SETTINGS_COMPONENT, NULL, "out of memory");
            cap_str_free(out->cfg.description);
            out->cfg.description = d;
        } else if (!strcmp(n->name, "Hardware")) {
            bit = 2;
            rc = parse_hardware(f, n, &out->cfg);
        } else if (!strcmp(n->name, "ExtraData")) {
            bit = 4;
            rc = settings_parse_extra(f, n, &out->extra);
        } else if (!strcmp(n->name, "StorageControllers")) {
            bit = 8;
            rc = parse_storage(f, n, &out->cfg);
        } else {
            return xml_error(f, n, "unknown element <%s> in <Machine>", n->name);
        }
        if (CAP_FAILED(rc))
            return rc;
        if (seen & bit)
            return xml_error(f, n, "<%s> appears twice", n->name);
        seen |= bit;
    }
    return CAP_OK;
}

cap_result settings_parse_machine(const char *file, const char *buf, size_t len,
                                  struct machine_file *out)
{
    struct xml_node *root = NULL;
    memset(out, 0, sizeof(*out));
    cap_result rc = machine_cfg_init(&out->cfg);
    if (CAP_SUCCEEDED(rc))
        rc = xml_parse(file, buf, len, &root);
    if (CAP_FAILED(rc))
        goto fail;
    static const char *const allowed[] = {"version", NULL};
    uint32_t version = 0;
    if (strcmp(root->name, "CapsuleMachine")) {
        rc = xml_error(file, root, "root element is <%s>, not <CapsuleMachine>", root->name);
        goto fail;
    }
    if (CAP_FAILED(rc = xml_check_attrs(file, root, allowed)) ||
        CAP_FAILED(rc = xml_get_u32(file, root, "version", 1, 1, UINT32_MAX, &version)))
        goto fail;
    if (version > SETTINGS_VERSION) {
        rc = xml_error(file, root, "format version %" PRIu32 " is newer than this build's (%u)",
                       version, SETTINGS_VERSION);
        goto fail;
    }
    const struct xml_node *m = root->first_child;
    if (!m || strcmp(m->name, "Machine") || m->next) {
        rc = xml_error(file, m ? m : root, "<CapsuleMachine> must hold exactly one <Machine>");
        goto fail;
    }
    rc = parse_machine_elem(file, m, out);
    if (CAP_FAILED(rc))
        goto fail;
    xml_free(root);
    return CAP_OK;
fail:
    xml_free(root);
    machine_file_clear(out);
    return rc;
}

cap_result settings_read_machine(const char *path, struct machine_file *out)
{
    char *buf = NULL;
    size_t len = 0;
    memset(out, 0, sizeof(*out));
    cap_result rc = settings_slurp(path, &buf, &len);
    if (CAP_SUCCEEDED(rc))
        rc = settings_parse_machine(path, buf, len, out);
    cap_free(buf);
    return rc;
}

void settings_format_extra(struct xml_writer *w, const struct kv_list *extra)
{
    if (!extra->n)
        return;
    xw_indent(w);
    xw_raw(w, "<ExtraData>\n");
    w->depth++;
    for (uint32_t i = 0; i < extra->n; i++) {
        xw_indent(w);
        xw_raw(w, "<Item");
        xw_attr(w, "key", extra->keys[i]);
        xw_attr(w, "value", extra->values[i]);
        xw_raw(w, "/>\n");
    }
    w->depth--;
    xw_indent(w);
    xw_raw(w, "</ExtraData>\n");
}

static void format_hardware(struct xml_writer *w, const struct machine_cfg *c)
{
    xw_indent(w);
    xw_printf(w, "<Hardware memory=\"%" PRIu32 "\" cpus=\"%" PRIu32 "\"", c->memory, c->cpus);
    xw_attr(w, "engine", settings_engine_name(c->engine));
    xw_attr(w, "debugExit", c->debug_exit ? "true" : "false");
    if (strcmp(c->cpu_profile, SETTINGS_CPU_PROFILE_DEFAULT) != 0)
        xw_attr(w, "cpuProfile", c->cpu_profile);
    xw_raw(w, ">\n");
    w->depth++;
    if (c->firmware != FirmwareType_None) {
        xw_indent(w);
        xw_raw(w, "<Firmware type=\"BIOS\"/>\n");
    }
    if (c->graphics != GraphicsControllerType_VGA) {
        xw_indent(w);
        xw_raw(w, "<Display controller=\"None\"/>\n");
    }
    xw_indent(w);
    xw_raw(w, "<Boot");
    xw_attr(w, "kernel", c->kernel);
    xw_attr(w, "initrd", c->initrd);
    xw_attr(w, "cmdline", c->cmdline);
    xw_raw(w, ">\n");
    w->depth++;
    for (unsigned i = 0; i < SETTINGS_BOOT_SLOTS; i++) {
        xw_indent(w);
        xw_printf(w, "<Order position=\"%u\"", i + 1);
        xw_attr(w, "device", settings_device_name(c->boot[i]));
        xw_raw(w, "/>\n");
    }
    w->depth--;
    xw_indent(w);
    xw_raw(w, "</Boot>\n");
    for (unsigned i = 0; i < SETTINGS_SERIAL_SLOTS; i++) {
        const struct serial_cfg *s = &c->serial[i];
        xw_indent(w);
        xw_printf(w, "<SerialPort slot=\"%u\"", i);
        xw_attr(w, "enabled", s->enabled ? "true" : "false");
        xw_printf(w, " ioBase=\"0x%x\" irq=\"%" PRIu32 "\"", s->io_base, s->irq);
        xw_attr(w, "mode", settings_port_mode_name(s->mode));
        xw_attr(w, "path", s->path);
        xw_raw(w, "/>\n");
    }
    settings_vrde_format(w, &c->vrde);
    settings_net_format(w, c);
    w->depth--;
    xw_indent(w);
    xw_raw(w, "</Hardware>\n");
}

static void format_storage(struct xml_writer *w, const struct machine_cfg *c)
{
    char id[CAP_UUID_BUFSIZE];
    if (!c->n_ctls)
        return;
    xw_indent(w);
    xw_raw(w, "<StorageControllers>\n");
    w->depth++;
    for (uint32_t i = 0; i < c->n_ctls; i++) {
        const struct storage_ctl_cfg *k = &c->ctls[i];
        xw_indent(w);
        xw_raw(w, "<StorageController");
        xw_attr(w, "name", k->name);
        xw_attr(w, "type", settings_ctl_type_name(k->type));
        xw_printf(w, " PortCount=\"%" PRIu32 "\"", k->port_count);
        xw_attr(w, "Bootable", k->bootable ? "true" : "false");
        xw_raw(w, ">\n");
        w->depth++;
        for (uint32_t j = 0; j < c->n_atts; j++) {
            const struct attachment_cfg *a = &c->atts[j];
            if (strcmp(a->controller, k->name))
                continue;
            xw_indent(w);
            xw_raw(w, "<AttachedDevice");
            xw_attr(w, "type", settings_device_name(a->type));
            xw_printf(w, " port=\"%d\" device=\"%d\"", (int)a->port, (int)a->device);
            if (cap_uuid_is_null(&a->medium)) {
                xw_raw(w, "/>\n");
                continue;
            }
            xw_raw(w, ">\n");
            w->depth++;
            xw_indent(w);
            xw_printf(w, "<Image uuid=\"{%s}\"/>\n", cap_uuid_format(&a->medium, id));
            w->depth--;
            xw_indent(w);
            xw_raw(w, "</AttachedDevice>\n");
        }
        w->depth--;
        xw_indent(w);
        xw_raw(w, "</StorageController>\n");
    }
    w->depth--;
    xw_indent(w);
    xw_raw(w, "</StorageControllers>\n");
}

char *settings_format_machine(const struct machine_file *mf, size_t *len)
{
    struct xml_writer w = {0};
    char id[CAP_UUID_BUFSIZE];
    xw_raw(&w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xw_raw(&w, "<!-- Capsule machine settings, written by capsule-svc. Edit only while the "
               "machine is not locked. -->\n");
    xw_printf(&w, "<CapsuleMachine version=\"%u\">\n", SETTINGS_VERSION);
    w.depth = 1;
    xw_indent(&w);
    xw_printf(&w, "<Machine uuid=\"%s\"", cap_uuid_format(&mf->id, id));
    xw_attr(&w, "name", mf->cfg.name);
    xw_attr(&w, "osType", mf->cfg.os_type);
    xw_attr(&w, "state", settings_state_name(mf->state));
    if (mf->state == MachineState_Aborted && mf->abort_reason && *mf->abort_reason)
        xw_attr(&w, "abortReason", mf->abort_reason);
    xw_printf(&w, " lastStateChange=\"%" PRId64 "\">\n", mf->last_state_change);
    w.depth++;
    if (mf->cfg.description && *mf->cfg.description) {
        xw_indent(&w);
        xw_raw(&w, "<Description>");
        xw_escaped(&w, mf->cfg.description, 0);
        xw_raw(&w, "</Description>\n");
    }
    format_hardware(&w, &mf->cfg);
    format_storage(&w, &mf->cfg);
    settings_format_extra(&w, &mf->extra);
    w.depth--;
    xw_indent(&w);
    xw_raw(&w, "</Machine>\n</CapsuleMachine>\n");
    return xw_finish(&w, len);
}
