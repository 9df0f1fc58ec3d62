/*
 * service/settings_global.c - the global settings file (HOME/capsule.xml).
 *
 *   <?xml version="1.0" encoding="UTF-8"?>
 *   <CapsuleGlobal version="1">
 *     <SystemProperties defaultMachineFolder="" defaultFrontend=""
 *                       logHistoryCount="3" serviceIdleTimeout="5000"/>
 *     <MachineRegistry>
 *       <MachineEntry uuid="..." src="/abs/path/NAME/NAME.capsule"/>
 *     </MachineRegistry>
 *     <MediaRegistry>
 *       <HardDisks>
 *         <HardDisk uuid="{...}" location="/abs/disk.vdi" format="VDI" type="Normal"/>
 *       </HardDisks>
 *       <DVDImages>
 *         <Image uuid="{...}" location="/abs/cd.iso" format="ISO"/>
 *       </DVDImages>
 *     </MediaRegistry>
 *     <ExtraData>
 *       <Item key="k" value="v"/>
 *     </ExtraData>
 *   </CapsuleGlobal>
 *
 * The registry lists machines by UUID and settings path only: a machine
 * whose own file cannot be read is still listed (inaccessible), so nothing
 * about it may live only in its file's contents. Entries keep registration
 * order. Empty strings in SystemProperties mean "the built-in default".
 * The media registry is VirtualBox's shape: media by UUID, absolute location
 * and format (hard disks VDI or RAW, type Normal, the only type so far; DVD
 * images ISO, or RAW as VirtualBox writes them); a UUID or a location is
 * listed once. What an image says of itself (size, variant) is not kept.
 */
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/uuid.h>

#include "settings.h"
#include "settings_xml.h"

static cap_result parse_registry(const char *f, const struct xml_node *reg, struct global_file *gf)
{
    static const char *const allowed[] = {"uuid", "src", NULL};
    cap_result rc = xml_check_attrs(f, reg, allowed + 2);
    for (const struct xml_node *n = reg->first_child; n && CAP_SUCCEEDED(rc); n = n->next) {
        if (strcmp(n->name, "MachineEntry"))
            return xml_error(f, n, "unknown element <%s> in <MachineRegistry>", n->name);
        struct global_entry e = {0};
        if (CAP_FAILED(rc = xml_check_attrs(f, n, allowed)) ||
            CAP_FAILED(rc = xml_get_uuid(f, n, "uuid", &e.id)) ||
            CAP_FAILED(rc = xml_get_str(f, n, "src", 1, &e.path)))
            break;
        if (e.path[0] != '/') {
            rc = xml_error(f, n, "machine settings path '%.200s' is not absolute", e.path);
        } else {
            for (uint32_t i = 0; i < gf->n_machines && CAP_SUCCEEDED(rc); i++) {
                char id[CAP_UUID_BUFSIZE];
                if (cap_uuid_equal(&gf->machines[i].id, &e.id))
                    rc =
                        xml_error(f, n, "machine {%s} is listed twice", cap_uuid_format(&e.id, id));
            }
        }
        struct global_entry *m = NULL;
        if (CAP_SUCCEEDED(rc)) {
            m = cap_realloc(gf->machines, (gf->n_machines + 1) * sizeof(*m));
            if (!m)
                rc = cap_error_set(CAP_E_OUTOFMEMORY, SETTINGS_COMPONENT, NULL, "out of memory");
        }
        if (CAP_FAILED(rc)) {
            cap_str_free(e.path);
            break;
        }
        gf->machines = m;
        gf->machines[gf->n_machines++] = e;
    }
    return rc;
}

/* One <HardDisk> or <Image>: checked, canonical format, appended. */
static cap_result parse_medium(const char *f, const struct xml_node *n, DeviceType type,
                               struct global_file *gf)
{
    static const char *const allowed[] = {"uuid", "location", "format", "type", NULL};
    struct medium_entry e = {.type = type};
    const char *t = xml_attr(n, "type");
    cap_result rc;
    if (CAP_FAILED(rc = xml_check_attrs(f, n, allowed)) ||
        CAP_FAILED(rc = xml_get_uuid(f, n, "uuid", &e.id)) ||
        CAP_FAILED(rc = xml_get_str(f, n, "location", 1, &e.location)) ||
        CAP_FAILED(rc = xml_get_str(f, n, "format", 1, &e.format)))
        goto fail;
    const char *fmt = e.format;
    if (type == DeviceType_HardDisk && strcasecmp(fmt, "VDI") && strcasecmp(fmt, "RAW"))
        rc = xml_error(f, n, "hard disk format '%.40s' is not VDI or RAW", fmt);
    else if (type == DeviceType_DVD && strcasecmp(fmt, "ISO") && strcasecmp(fmt, "RAW"))
        rc = xml_error(f, n, "DVD image format '%.40s' is not ISO or RAW", fmt);
    else if (t && strcmp(t, "Normal"))
        rc = xml_error(f, n, "medium type '%.40s' is not supported (only Normal)", t);
    else if (e.location[0] != '/')
        rc = xml_error(f, n, "medium location '%.200s' is not absolute", e.location);
    else if (cap_uuid_is_null(&e.id))
        rc = xml_error(f, n, "a medium has the null UUID");
    for (uint32_t i = 0; i < gf->n_media && CAP_SUCCEEDED(rc); i++) {
        char id[CAP_UUID_BUFSIZE];
        if (cap_uuid_equal(&gf->media[i].id, &e.id))
            rc = xml_error(f, n, "medium {%s} is listed twice", cap_uuid_format(&e.id, id));
        else if (!strcmp(gf->media[i].location, e.location))
            rc = xml_error(f, n, "medium '%.200s' is listed twice", e.location);
    }
    if (CAP_FAILED(rc))
        goto fail;
    char *canon = cap_str_dup(type == DeviceType_DVD   ? "ISO"
                              : strcasecmp(fmt, "VDI") ? "RAW"
                                                       : "VDI");
    struct medium_entry *m = canon ? cap_realloc(gf->media, (gf->n_media + 1) * sizeof(*m)) : NULL;
    if (!m) {
        cap_str_free(canon);
        rc = cap_error_set(CAP_E_OUTOFMEMORY, SETTINGS_COMPONENT, NULL, "out of memory");
        goto fail;
    }
    cap_str_free(e.format);
    e.format = canon;
    gf->media = m;
    gf->media[gf->n_media++] = e;
    return CAP_OK;
fail:
    cap_str_free(e.location);
    cap_str_free(e.format);
    return rc;
}

/* <HardDisks> or <DVDImages>: elements named `child`. */
static cap_result parse_media_list(const char *f, const struct xml_node *list, const char *child,
                                   DeviceType type, struct global_file *gf)
{
    static const char *const none[] = {NULL};
    cap_result rc = xml_check_attrs(f, list, none);
    for (const struct xml_node *n = list->first_child; n && CAP_SUCCEEDED(rc); n = n->next)
        rc = strcmp(n->name, child)
                 ? xml_error(f, n, "unknown element <%s> in <%s>", n->name, list->name)
                 : parse_medium(f, n, type, gf);
    return rc;
}

static cap_result parse_media(const char *f, const struct xml_node *reg, struct global_file *gf)
{
    static const char *const none[] = {NULL};
    cap_result rc = xml_check_attrs(f, reg, none);
    unsigned seen = 0;
    for (const struct xml_node *n = reg->first_child; n && CAP_SUCCEEDED(rc); n = n->next) {
        unsigned bit = 0;
        if (!strcmp(n->name, "HardDisks")) {
            bit = 1;
            rc = parse_media_list(f, n, "HardDisk", DeviceType_HardDisk, gf);
        } else if (!strcmp(n->name, "DVDImages")) {
            bit = 2;
            rc = parse_media_list(f, n, "Image", DeviceType_DVD, gf);
        } else {
            rc = xml_error(f, n, "unknown element <%s> in <MediaRegistry>", n->name);
        }
        if (CAP_SUCCEEDED(rc) && (seen & bit))
            rc = xml_error(f, n, "<%s> appears twice", n->name);
        seen |= bit;
    }
    return rc;
}

static cap_result parse_sysprops(const char *f, const struct xml_node *n, struct global_file *gf)
{
    static const char *const allowed[] = {"defaultMachineFolder", "defaultFrontend",
                                          "logHistoryCount", "serviceIdleTimeout", NULL};
    cap_result rc;
    if (CAP_FAILED(rc = xml_check_attrs(f, n, allowed)) ||
        CAP_FAILED(rc =
                       xml_get_str(f, n, "defaultMachineFolder", 0, &gf->default_machine_folder)) ||
        CAP_FAILED(rc = xml_get_str(f, n, "defaultFrontend", 0, &gf->default_frontend)) ||
        CAP_FAILED(rc = xml_get_u32(f, n, "logHistoryCount", 0, 0, 100, &gf->log_history_count)))
        return rc;
    if (n->first_child)
        return xml_error(f, n->first_child, "unknown element <%s> in <SystemProperties>",
                         n->first_child->name);
    return xml_get_u32(f, n, "serviceIdleTimeout", 0, 0, UINT32_MAX, &gf->idle_timeout);
}

cap_result settings_parse_global(const char *file, const char *buf, size_t len,
                                 struct global_file *out)
{
    struct xml_node *root = NULL;
    cap_result rc = global_file_init(out);
    if (CAP_SUCCEEDED(rc))
        rc = xml_parse(file, buf, len, &root);
    if (CAP_FAILED(rc))
        goto fail;
    static const char *const allowed[] = {"version", NULL};
    uint32_t version = 0;
    if (strcmp(root->name, "CapsuleGlobal")) {
        rc = xml_error(file, root, "root element is <%s>, not <CapsuleGlobal>", root->name);
        goto fail;
    }
    if (CAP_FAILED(rc = xml_check_attrs(file, root, allowed)) ||
        CAP_FAILED(rc = xml_get_u32(file, root, "version", 1, 1, UINT32_MAX, &version)))
        goto fail;
    if (version > SETTINGS_VERSION) {
        rc = xml_error(file, root, "format version %u is newer than this build's (%u)",
                       (unsigned)version, SETTINGS_VERSION);
        goto fail;
    }
    unsigned seen = 0;
    for (const struct xml_node *n = root->first_child; n; n = n->next) {
        unsigned bit = 0;
        if (!strcmp(n->name, "SystemProperties")) {
            bit = 1;
            rc = parse_sysprops(file, n, out);
        } else if (!strcmp(n->name, "MachineRegistry")) {
            bit = 2;
            rc = parse_registry(file, n, out);
        } else if (!strcmp(n->name, "MediaRegistry")) {
            bit = 8;
            rc = parse_media(file, n, out);
        } else if (!strcmp(n->name, "ExtraData")) {
            bit = 4;
            rc = settings_parse_extra(file, n, &out->extra);
        } else {
            rc = xml_error(file, n, "unknown element <%s> in <CapsuleGlobal>", n->name);
        }
        if (CAP_SUCCEEDED(rc) && (seen & bit))
            rc = xml_error(file, n, "<%s> appears twice", n->name);
        if (CAP_FAILED(rc))
            goto fail;
        seen |= bit;
    }
    xml_free(root);
    return CAP_OK;
fail:
    xml_free(root);
    global_file_clear(out);
    return rc;
}

cap_result settings_read_global(const char *path, struct global_file *out)
{
    char *buf = NULL;
    size_t len = 0;
    memset(out, 0, sizeof(*out));
    cap_result rc = settings_slurp(path, &buf, &len);
    if (CAP_FAILED(rc)) {
        struct cap_error_info ei;
        if (access(path, F_OK) == 0)
            return rc;
        cap_error_take(&ei);
        cap_error_info_clear(&ei);
        rc = global_file_init(out);
        return CAP_FAILED(rc) ? rc : CAP_FALSE_RESULT;
    }
    rc = settings_parse_global(path, buf, len, out);
    cap_free(buf);
    return rc;
}

static void format_media_list(struct xml_writer *w, const struct global_file *gf, DeviceType type)
{
    char id[CAP_UUID_BUFSIZE];
    xw_indent(w);
    xw_raw(w, type == DeviceType_DVD ? "<DVDImages>\n" : "<HardDisks>\n");
    w->depth++;
    for (uint32_t i = 0; i < gf->n_media; i++) {
        const struct medium_entry *m = &gf->media[i];
        if (m->type != type)
            continue;
        xw_indent(w);
        xw_printf(w, "<%s uuid=\"{%s}\"", type == DeviceType_DVD ? "Image" : "HardDisk",
                  cap_uuid_format(&m->id, id));
        xw_attr(w, "location", m->location);
        xw_attr(w, "format", m->format);
        xw_raw(w, type == DeviceType_DVD ? "/>\n" : " type=\"Normal\"/>\n");
    }
    w->depth--;
    xw_indent(w);
    xw_raw(w, type == DeviceType_DVD ? "</DVDImages>\n" : "</HardDisks>\n");
}

/* <MediaRegistry>, written only when it lists something (files without
 * media stay as they were). */
static void format_media(struct xml_writer *w, const struct global_file *gf)
{
    if (!gf->n_media)
        return;
    xw_indent(w);
    xw_raw(w, "<MediaRegistry>\n");
    w->depth++;
    format_media_list(w, gf, DeviceType_HardDisk);
    format_media_list(w, gf, DeviceType_DVD);
    w->depth--;
    xw_indent(w);
    xw_raw(w, "</MediaRegistry>\n");
}

char *settings_format_global(const struct global_file *gf, size_t *len)
{
    struct xml_writer w = {0};
    char id[CAP_UUID_BUFSIZE];
    xw_raw(&w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xw_raw(&w, "<!-- Capsule global settings, written by capsule-svc. -->\n");
    xw_printf(&w, "<CapsuleGlobal version=\"%u\">\n", SETTINGS_VERSION);
    w.depth = 1;
    xw_indent(&w);
    xw_raw(&w, "<SystemProperties");
    xw_attr(&w, "defaultMachineFolder", gf->default_machine_folder);
    xw_attr(&w, "defaultFrontend", gf->default_frontend);
    xw_printf(&w, " logHistoryCount=\"%u\" serviceIdleTimeout=\"%u\"/>\n",
              (unsigned)gf->log_history_count, (unsigned)gf->idle_timeout);
    xw_indent(&w);
    xw_raw(&w, "<MachineRegistry>\n");
    w.depth++;
    for (uint32_t i = 0; i < gf->n_machines; i++) {
        xw_indent(&w);
        xw_printf(&w, "<MachineEntry uuid=\"%s\"", cap_uuid_format(&gf->machines[i].id, id));
        xw_attr(&w, "src", gf->machines[i].path);
        xw_raw(&w, "/>\n");
    }
    w.depth--;
    xw_indent(&w);
    xw_raw(&w, "</MachineRegistry>\n");
    format_media(&w, gf);
    settings_format_extra(&w, &gf->extra);
    xw_raw(&w, "</CapsuleGlobal>\n");
    return xw_finish(&w, len);
}
