/*
 * service/settings_data.c - the plain data of the settings files: defaults,
 * copies and frees of machine_cfg, key/value lists, text checks and the
 * names enums take in the files.
 *
 * Machine objects keep their settings as a struct machine_cfg (one for the
 * working copy, one for the last saved state), so copying and comparing it
 * must be cheap and total; everything here works on half-filled structs.
 */
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>

#include "settings.h"

static const uint16_t default_io[SETTINGS_SERIAL_SLOTS] = {0x3f8, 0x2f8, 0x3e8, 0x2e8};
static const uint32_t default_irq[SETTINGS_SERIAL_SLOTS] = {4, 3, 4, 3};

static cap_result oom(void)
{
    return cap_error_set(CAP_E_OUTOFMEMORY, SETTINGS_COMPONENT, NULL, "out of memory");
}

cap_result machine_cfg_init(struct machine_cfg *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->name = cap_str_dup("");
    cfg->description = cap_str_dup("");
    cfg->os_type = cap_str_dup("Other");
    cfg->kernel = cap_str_dup("");
    cfg->initrd = cap_str_dup("");
    cfg->cmdline = cap_str_dup("");
    cfg->cpu_profile = cap_str_dup(SETTINGS_CPU_PROFILE_DEFAULT);
    cfg->memory = 128;
    cfg->cpus = 1;
    cfg->engine = ExecutionEngine_Auto;
    cfg->firmware = FirmwareType_None;
    cfg->graphics = GraphicsControllerType_VGA;
    cfg->boot[0] = DeviceType_DVD; /* VirtualBox's order, without the floppy */
    cfg->boot[1] = DeviceType_HardDisk;
    int ok = cfg->name && cfg->description && cfg->os_type && cfg->kernel && cfg->initrd &&
             cfg->cmdline && cfg->cpu_profile;
    for (unsigned i = 0; i < SETTINGS_SERIAL_SLOTS; i++) {
        cfg->serial[i].io_base = default_io[i];
        cfg->serial[i].irq = default_irq[i];
        cfg->serial[i].mode = PortMode_Disconnected;
        cfg->serial[i].path = cap_str_dup("");
        ok = ok && cfg->serial[i].path;
    }
    ok = ok && CAP_SUCCEEDED(settings_vrde_init(&cfg->vrde));
    for (unsigned i = 0; i < SETTINGS_NIC_SLOTS; i++)
        ok = ok && CAP_SUCCEEDED(settings_nic_init(&cfg->nic[i]));
    if (!ok) {
        machine_cfg_clear(cfg);
        return oom();
    }
    return CAP_OK;
}

void machine_cfg_clear(struct machine_cfg *cfg)
{
    cap_str_free(cfg->name);
    cap_str_free(cfg->description);
    cap_str_free(cfg->os_type);
    cap_str_free(cfg->kernel);
    cap_str_free(cfg->initrd);
    cap_str_free(cfg->cmdline);
    cap_str_free(cfg->cpu_profile);
    for (unsigned i = 0; i < SETTINGS_SERIAL_SLOTS; i++)
        cap_str_free(cfg->serial[i].path);
    settings_storage_clear(cfg);
    settings_vrde_clear(&cfg->vrde);
    for (unsigned i = 0; i < SETTINGS_NIC_SLOTS; i++)
        settings_nic_clear(&cfg->nic[i]);
    memset(cfg, 0, sizeof(*cfg));
}

cap_result machine_cfg_copy(struct machine_cfg *dst, const struct machine_cfg *src)
{
    struct machine_cfg c = *src;
    c.ctls = NULL;
    c.atts = NULL;
    c.n_ctls = c.n_atts = 0;
    c.name = cap_str_dup(src->name);
    c.description = cap_str_dup(src->description);
    c.os_type = cap_str_dup(src->os_type);
    c.kernel = cap_str_dup(src->kernel);
    c.initrd = cap_str_dup(src->initrd);
    c.cmdline = cap_str_dup(src->cmdline);
    c.cpu_profile = cap_str_dup(src->cpu_profile);
    int ok =
        c.name && c.description && c.os_type && c.kernel && c.initrd && c.cmdline && c.cpu_profile;
    for (unsigned i = 0; i < SETTINGS_SERIAL_SLOTS; i++) {
        c.serial[i].path = cap_str_dup(src->serial[i].path);
        ok = ok && c.serial[i].path;
    }
    if (CAP_FAILED(settings_vrde_copy(&c.vrde, &src->vrde))) /* every field owned or NULL */
        ok = 0;
    for (unsigned i = 0; i < SETTINGS_NIC_SLOTS; i++)
        if (CAP_FAILED(settings_nic_copy(&c.nic[i], &src->nic[i])))
            ok = 0;
    if (!ok || CAP_FAILED(settings_storage_copy(&c, src))) {
        machine_cfg_clear(&c);
        return oom();
    }
    machine_cfg_clear(dst);
    *dst = c;
    return CAP_OK;
}

void machine_file_clear(struct machine_file *mf)
{
    machine_cfg_clear(&mf->cfg);
    kv_clear(&mf->extra);
    cap_str_free(mf->abort_reason);
    memset(mf, 0, sizeof(*mf));
}

void global_file_clear(struct global_file *gf)
{
    for (uint32_t i = 0; i < gf->n_machines; i++)
        cap_str_free(gf->machines[i].path);
    cap_free(gf->machines);
    for (uint32_t i = 0; i < gf->n_media; i++) {
        cap_str_free(gf->media[i].location);
        cap_str_free(gf->media[i].format);
    }
    cap_free(gf->media);
    kv_clear(&gf->extra);
    cap_str_free(gf->default_machine_folder);
    cap_str_free(gf->default_frontend);
    memset(gf, 0, sizeof(*gf));
}

cap_result global_file_init(struct global_file *gf)
{
    memset(gf, 0, sizeof(*gf));
    gf->default_machine_folder = cap_str_dup("");
    gf->default_frontend = cap_str_dup("");
    gf->log_history_count = 3;
    gf->idle_timeout = 5000;
    if (!gf->default_machine_folder || !gf->default_frontend) {
        global_file_clear(gf);
        return oom();
    }
    return CAP_OK;
}

/* ---- key/value lists ----------------------------------------------------- */

static int kv_find(const struct kv_list *l, const char *key)
{
    for (uint32_t i = 0; i < l->n; i++)
        if (!strcmp(l->keys[i], key))
            return (int)i;
    return -1;
}

const char *kv_get(const struct kv_list *l, const char *key)
{
    int i = kv_find(l, key);
    return i < 0 ? NULL : l->values[i];
}

cap_result kv_set(struct kv_list *l, const char *key, const char *value)
{
    int i = kv_find(l, key);
    if (!value || !*value) {
        if (i >= 0) {
            cap_str_free(l->keys[i]);
            cap_str_free(l->values[i]);
            l->n--;
            l->keys[i] = l->keys[l->n];
            l->values[i] = l->values[l->n];
        }
        return CAP_OK;
    }
    char *v = cap_str_dup(value);
    if (!v)
        return oom();
    if (i >= 0) {
        cap_str_free(l->values[i]);
        l->values[i] = v;
        return CAP_OK;
    }
    char *k = cap_str_dup(key);
    char **nk = cap_realloc(l->keys, (l->n + 1) * sizeof(char *));
    if (nk)
        l->keys = nk;
    char **nv = cap_realloc(l->values, (l->n + 1) * sizeof(char *));
    if (nv)
        l->values = nv;
    if (!k || !nk || !nv) {
        cap_str_free(k);
        cap_str_free(v);
        return oom();
    }
    l->keys[l->n] = k;
    l->values[l->n] = v;
    l->n++;
    return CAP_OK;
}

cap_result kv_copy(struct kv_list *dst, const struct kv_list *src)
{
    struct kv_list c = {0};
    for (uint32_t i = 0; i < src->n; i++)
        if (CAP_FAILED(kv_set(&c, src->keys[i], src->values[i]))) {
            kv_clear(&c);
            return oom();
        }
    kv_clear(dst);
    *dst = c;
    return CAP_OK;
}

void kv_clear(struct kv_list *l)
{
    for (uint32_t i = 0; i < l->n; i++) {
        cap_str_free(l->keys[i]);
        cap_str_free(l->values[i]);
    }
    cap_free(l->keys);
    cap_free(l->values);
    memset(l, 0, sizeof(*l));
}

/* ---- text --------------------------------------------------------------- */

int settings_text_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        if (c < 0x20) {
            if (c != '\t' && c != '\n' && c != '\r')
                return 0;
            p++;
            continue;
        }
        if (c < 0x80) {
            p++;
            continue;
        }
        int n;
        uint32_t cp;
        if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        static const uint32_t min_cp[4] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe ||
            cp == 0xffff)
            return 0;
        p += n + 1;
    }
    return 1;
}

/* ---- enum names ---------------------------------------------------------- */

const char *settings_engine_name(ExecutionEngine e)
{
    static const char *const n[] = {"auto", "hm", "rem", "raw"};
    return (unsigned)e < 4 ? n[e] : "auto";
}

const char *settings_port_mode_name(PortMode m)
{
    static const char *const n[] = {"disconnected", "file", "server"};
    return (unsigned)m < 3 ? n[m] : "disconnected";
}

const char *settings_state_name(MachineState s)
{
    switch (s) {
    case MachineState_Saved:
        return "saved";
    case MachineState_Aborted:
        return "aborted";
    default:
        return "poweroff";
    }
}

/* ---- consistency across settings -------------------------------------------- */

cap_result machine_cfg_check(const struct machine_cfg *c)
{
    char why[200];
    if (settings_storage_problem(c, why, sizeof(why)))
        return cap_error_set(CAP_E_INVALIDARG, SETTINGS_COMPONENT, "IMachine", "%s", why);
    if (settings_net_problem(c, why, sizeof(why)))
        return cap_error_set(CAP_E_INVALIDARG, SETTINGS_COMPONENT, "IMachine", "%s", why);
    for (unsigned i = 0; i < SETTINGS_SERIAL_SLOTS; i++) {
        const struct serial_cfg *a = &c->serial[i];
        if (!a->enabled)
            continue;
        if (a->mode != PortMode_Disconnected && !*a->path)
            return cap_error_set(CAP_E_INVALIDARG, SETTINGS_COMPONENT, "IMachine",
                                 "serial port %u is in %s mode but has no path", i,
                                 settings_port_mode_name(a->mode));
        for (unsigned j = i + 1; j < SETTINGS_SERIAL_SLOTS; j++) {
            const struct serial_cfg *b = &c->serial[j];
            if (b->enabled && a->io_base < b->io_base + 8 && b->io_base < a->io_base + 8)
                return cap_error_set(CAP_E_INVALIDARG, SETTINGS_COMPONENT, "IMachine",
                                     "serial ports %u (0x%x) and %u (0x%x) overlap", i, a->io_base,
                                     j, b->io_base);
        }
    }
    return CAP_OK;
}
