/*
 * vmm/pdm/pdm.c - PDM: loading device plugins and running their instances.
 *
 * pdm_instantiate() turns a machine's device list into instances: it finds
 * each device's registration table (pdm_add_devreg first, then the registry
 * by contract ID), checks it, allocates the instance and its zeroed state,
 * and calls construct with the configuration. Afterwards every entry into a
 * device - port/MMIO dispatch from IOM, timer expiry from TM, INTA from the
 * EM, reset - goes through this file and holds the VM's device lock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/registry.h>

#include "../iom/iom.h"
#include "../tm/tm.h"
#include "pdm_internal.h"

void pdm_lock(struct pdm *pdm)
{
    pthread_mutex_lock(&pdm->lock);
}

void pdm_unlock(struct pdm *pdm)
{
    pthread_mutex_unlock(&pdm->lock);
}

cap_result pdm_create(const struct pdm_create_info *info, struct pdm **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    if (!info || !info->iom || !info->tm)
        return cap_error_set(CAP_E_POINTER, PDM_COMPONENT, NULL, "PDM needs an IOM and a TM");
    struct pdm *pdm = calloc(1, sizeof(*pdm));
    if (!pdm)
        return cap_error_set(CAP_E_OUTOFMEMORY, PDM_COMPONENT, NULL, "out of memory");
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    int err = pthread_mutex_init(&pdm->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    if (err) {
        free(pdm);
        return cap_error_set(CAP_E_FAIL, PDM_COMPONENT, NULL, "cannot create the device lock");
    }
    pdm->info = *info;
    if (info->host)
        pdm->host = *info->host;
    *out = pdm;
    return CAP_OK;
}

/* Destructs one instance and frees it; it must be unlinked already. */
static void inst_destroy(struct pdm_devinst *inst)
{
    struct pdm *pdm = inst->pdm;
    pdm_blk_detach_inst(inst); /* waits for its I/O threads: not under the lock */
    pdm_lock(pdm);
    if (inst->construct_called && inst->dev.reg->ops->destruct)
        inst->dev.reg->ops->destruct(&inst->dev);
    pdm_release_resources(inst);
    pdm_pci_release(inst);
    if (pdm->pic == inst) {
        pdm->pic = NULL;
        pdm->pic_ops = NULL;
    }
    if (pdm->apic == inst) {
        pdm->apic = NULL;
        pdm->apic_ops = NULL;
    }
    if (pdm->ioapic == inst) {
        pdm->ioapic = NULL;
        pdm->ioapic_ops = NULL;
    }
    pdm_unlock(pdm);
    pdm_cfg_free(&inst->cfg);
    free(inst->dev.data);
    free(inst);
}

/* Destroys every instance after `keep` (NULL: all), newest first. */
static void destroy_after(struct pdm *pdm, struct pdm_devinst *keep)
{
    for (;;) {
        struct pdm_devinst *last = keep ? keep->next : pdm->devs;
        if (!last)
            break;
        struct pdm_devinst *prev = keep;
        while (last->next) {
            prev = last;
            last = last->next;
        }
        if (prev)
            prev->next = NULL;
        else
            pdm->devs = NULL;
        pdm->last = prev;
        inst_destroy(last);
    }
}

void pdm_destroy(struct pdm *pdm)
{
    if (!pdm)
        return;
    pdm_blk_stop_all(pdm); /* no completion may race with the destructors */
    destroy_after(pdm, NULL);
    pdm_pci_free(pdm);
    pdm_blk_free_all(pdm);
    for (struct pdm_builtin *b = pdm->builtins, *n; b; b = n) {
        n = b->next;
        free(b);
    }
    pthread_mutex_destroy(&pdm->lock);
    free(pdm);
}

static cap_result check_devreg(const struct pdm_devreg *reg, const char *what)
{
    if (!reg || reg->abi != PDM_DEVREG_ABI)
        return cap_error_set(CAP_E_BAD_COMPONENT, PDM_COMPONENT, NULL,
                             "device %s: registration ABI %u, this VMM expects %u", what,
                             reg ? reg->abi : 0, PDM_DEVREG_ABI);
    if (!reg->name || !reg->ops || !reg->ops->construct)
        return cap_error_set(CAP_E_BAD_COMPONENT, PDM_COMPONENT, NULL,
                             "device %s: registration table lacks a name, ops or construct", what);
    return CAP_OK;
}

cap_result pdm_add_devreg(struct pdm *pdm, const struct pdm_devreg *reg)
{
    if (!pdm)
        return CAP_E_POINTER;
    cap_result rc = check_devreg(
        reg, reg && reg->abi == PDM_DEVREG_ABI && reg->name ? reg->name : "(built-in)");
    if (CAP_FAILED(rc))
        return rc;
    struct pdm_builtin *b = calloc(1, sizeof(*b));
    if (!b)
        return cap_error_set(CAP_E_OUTOFMEMORY, PDM_COMPONENT, NULL, "out of memory");
    b->reg = reg;
    b->next = pdm->builtins;
    pdm->builtins = b;
    return CAP_OK;
}

static bool valid_device_name(const char *s)
{
    if (!s || !*s || strlen(s) > 32)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
            return false;
    return true;
}

/* Finds the table of device `name`: built-ins first, then the registry. */
static cap_result find_devreg(struct pdm *pdm, const char *name, const struct pdm_devreg **out)
{
    *out = NULL;
    if (!valid_device_name(name))
        return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                             "invalid device name '%s' (expected [a-z0-9-]+)", name ? name : "");
    for (struct pdm_builtin *b = pdm->builtins; b; b = b->next)
        if (strcmp(b->reg->name, name) == 0) {
            *out = b->reg;
            return CAP_OK;
        }
    if (!pdm->info.registry)
        return cap_error_set(CAP_E_CLASS_NOT_REGISTERED, PDM_COMPONENT, NULL,
                             "unknown device '%s' (no registry to look plugins up in)", name);
    char contract[96];
    snprintf(contract, sizeof(contract), PDM_DEVICE_CONTRACT_PREFIX "%s;1", name);
    static const cap_uuid iid = PDM_IID_DEVREG_INIT;
    struct pdm_devreg_obj *obj = NULL;
    cap_result rc =
        cap_registry_create_instance_by_contract(pdm->info.registry, contract, &iid, (void **)&obj);
    if (CAP_FAILED(rc)) {
        const char *why = cap_error_peek_message();
        return cap_error_set(rc, PDM_COMPONENT, NULL, "device '%s': %s", name,
                             why ? why : "no plugin provides it");
    }
    const struct pdm_devreg *reg = obj->devreg;
    ISupports_Release((ISupports *)obj);
    rc = check_devreg(reg, name);
    if (CAP_FAILED(rc))
        return rc;
    if (strcmp(reg->name, name) != 0)
        return cap_error_set(CAP_E_BAD_COMPONENT, PDM_COMPONENT, NULL,
                             "plugin for device '%s' registers itself as '%s'", name, reg->name);
    *out = reg;
    return CAP_OK;
}

static cap_result instantiate_one(struct pdm *pdm, const struct pdm_dev_config *dc)
{
    const struct pdm_devreg *reg;
    cap_result rc = find_devreg(pdm, dc->device, &reg);
    if (CAP_FAILED(rc))
        return rc;
    unsigned n = 0;
    for (struct pdm_devinst *i = pdm->devs; i; i = i->next)
        n += i->dev.reg == reg;
    if (reg->max_instances && n >= reg->max_instances)
        return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                             "device '%s' allows at most %u instance(s)", reg->name,
                             reg->max_instances);
    struct pdm_devinst *inst = calloc(1, sizeof(*inst));
    if (!inst)
        return cap_error_set(CAP_E_OUTOFMEMORY, PDM_COMPONENT, NULL, "out of memory");
    snprintf(inst->name, sizeof(inst->name), "%s%u", reg->name, n);
    inst->pdm = pdm;
    inst->dev = (struct pdm_dev){.abi = PDM_DEVREG_ABI,
                                 .hlp = &pdm_hlp_table,
                                 .reg = reg,
                                 .instance = n,
                                 .name = inst->name,
                                 .vmm = inst};
    inst->dev.data = calloc(1, reg->instance_size ? reg->instance_size : 1);
    if (!inst->dev.data) {
        free(inst);
        return cap_error_set(CAP_E_OUTOFMEMORY, PDM_COMPONENT, NULL, "out of memory");
    }
    /* Link first, so that a failure below is undone by destroy_after. */
    if (pdm->last)
        pdm->last->next = inst;
    else
        pdm->devs = inst;
    pdm->last = inst;
    rc = pdm_cfg_init(&inst->cfg, dc, inst->name);
    if (CAP_FAILED(rc))
        return rc;
    pdm_lock(pdm);
    inst->construct_called = true;
    rc = reg->ops->construct(&inst->dev, &inst->cfg);
    pdm_unlock(pdm);
    if (CAP_FAILED(rc)) {
        const char *why = cap_error_peek_message();
        return cap_error_set(rc, PDM_COMPONENT, NULL, "%s: construction failed: %s", inst->name,
                             why ? why : cap_result_name(rc));
    }
    return pdm_cfg_check_unused(&inst->cfg, inst->name);
}

cap_result pdm_instantiate(struct pdm *pdm, const struct pdm_dev_config *cfg, size_t n)
{
    if (!pdm || (n && !cfg))
        return CAP_E_POINTER;
    struct pdm_devinst *keep = pdm->last;
    for (size_t i = 0; i < n; i++) {
        cap_result rc = instantiate_one(pdm, &cfg[i]);
        if (CAP_FAILED(rc)) {
            struct cap_error_info ei;
            cap_error_take(&ei); /* destructors may set error info of their own */
            destroy_after(pdm, keep);
            cap_error_set_info(&ei);
            cap_error_info_clear(&ei);
            return rc;
        }
    }
    return CAP_OK;
}

void pdm_reset(struct pdm *pdm)
{
    pdm_lock(pdm);
    for (struct pdm_devinst *i = pdm->devs; i; i = i->next)
        if (i->dev.reg->ops->reset)
            i->dev.reg->ops->reset(&i->dev);
    pdm_unlock(pdm);
}

int pdm_get_interrupt(struct pdm *pdm)
{
    return pdm_get_interrupt_cpu(pdm, 0);
}

int pdm_get_interrupt_cpu(struct pdm *pdm, unsigned cpu)
{
    int v = -1;
    pdm_lock(pdm);
    if (pdm->apic_ops)
        v = pdm->apic_ops->get_interrupt(&pdm->apic->dev, cpu);
    else if (cpu == 0)
        v = PDM_APIC_EXTINT; /* no local APIC: the PIC is wired to INTR */
    if (v == PDM_APIC_EXTINT)
        v = pdm->pic_ops ? pdm->pic_ops->get_interrupt(&pdm->pic->dev) : -1;
    pdm_unlock(pdm);
    return v;
}

/* The first device offering `iface` and that interface, or NULL; the
 * caller holds the PDM lock. */
static const void *first_iface(struct pdm *pdm, const char *iface, struct pdm_dev **dev)
{
    for (struct pdm_devinst *i = pdm->devs; i; i = i->next) {
        const void *p = i->dev.reg->ops->query_interface
                            ? i->dev.reg->ops->query_interface(&i->dev, iface)
                            : NULL;
        if (p) {
            *dev = &i->dev;
            return p;
        }
    }
    return NULL;
}

const void *pdm_query_interface(struct pdm *pdm, const char *device, unsigned instance,
                                const char *iface)
{
    if (!pdm || !iface)
        return NULL;
    const void *p = NULL;
    if (!device) {
        struct pdm_dev *first = NULL;
        pdm_lock(pdm);
        p = first_iface(pdm, iface, &first);
        pdm_unlock(pdm);
        return p;
    }
    struct pdm_dev *dev = pdm_find_device(pdm, device, instance);
    if (!dev || !dev->reg->ops->query_interface)
        return NULL;
    pdm_lock(pdm);
    p = dev->reg->ops->query_interface(dev, iface);
    pdm_unlock(pdm);
    return p;
}

cap_result pdm_keyboard_put(struct pdm *pdm, const uint8_t *codes, size_t n)
{
    if (!pdm || (n && !codes))
        return CAP_E_POINTER;
    cap_result rc =
        cap_error_set(CAP_E_NOTIMPL, PDM_COMPONENT, NULL, "this VM has no keyboard device");
    struct pdm_dev *dev = NULL;
    pdm_lock(pdm);
    const struct pdm_keyboard_iface *kbd = first_iface(pdm, PDM_IFACE_KEYBOARD, &dev);
    if (kbd && kbd->put_scancodes) {
        cap_error_clear();
        rc = kbd->put_scancodes(dev, codes, n);
    }
    pdm_unlock(pdm);
    return rc;
}

cap_result pdm_mouse_put(struct pdm *pdm, int32_t dx, int32_t dy, int32_t dz, uint32_t buttons)
{
    if (!pdm)
        return CAP_E_POINTER;
    cap_result rc =
        cap_error_set(CAP_E_NOTIMPL, PDM_COMPONENT, NULL, "this VM has no mouse device");
    struct pdm_dev *dev = NULL;
    pdm_lock(pdm);
    const struct pdm_mouse_iface *m = first_iface(pdm, PDM_IFACE_MOUSE, &dev);
    if (m && m->put_event) {
        cap_error_clear();
        rc = m->put_event(dev, dx, dy, dz, buttons);
    }
    pdm_unlock(pdm);
    return rc;
}

cap_result pdm_mouse_put_abs(struct pdm *pdm, uint32_t x, uint32_t y, int32_t dz, uint32_t buttons)
{
    if (!pdm)
        return CAP_E_POINTER;
    if (x > PDM_MOUSE_ABS_MAX || y > PDM_MOUSE_ABS_MAX || (buttons & ~PDM_MOUSE_BUTTONS))
        return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                             "absolute pointer event out of range (x %u, y %u, buttons %#x)", x, y,
                             buttons);
    cap_result rc = cap_error_set(CAP_E_NOTIMPL, PDM_COMPONENT, NULL,
                                  "this VM has no absolute pointing device (no tablet)");
    struct pdm_dev *dev = NULL;
    pdm_lock(pdm);
    const struct pdm_mouse_abs_iface *m = first_iface(pdm, PDM_IFACE_MOUSE_ABS, &dev);
    if (m && m->put_event) {
        cap_error_clear();
        rc = m->put_event(dev, x, y, dz, buttons);
    }
    pdm_unlock(pdm);
    return rc;
}

bool pdm_mouse_abs_active(struct pdm *pdm)
{
    if (!pdm)
        return false;
    struct pdm_dev *dev = NULL;
    pdm_lock(pdm);
    const struct pdm_mouse_abs_iface *m = first_iface(pdm, PDM_IFACE_MOUSE_ABS, &dev);
    bool active = m && m->put_event && (!m->active || m->active(dev));
    pdm_unlock(pdm);
    return active;
}

cap_result pdm_acpi_power_button(struct pdm *pdm)
{
    if (!pdm)
        return CAP_E_POINTER;
    cap_result rc = cap_error_set(CAP_E_NOTIMPL, PDM_COMPONENT, NULL,
                                  "this VM has no ACPI power button (no acpipm device)");
    struct pdm_dev *dev = NULL;
    pdm_lock(pdm);
    const struct pdm_acpi_buttons_iface *b = first_iface(pdm, PDM_IFACE_ACPI_BUTTONS, &dev);
    if (b && b->power_button) {
        cap_error_clear();
        rc = b->power_button(dev);
    }
    pdm_unlock(pdm);
    return rc;
}

cap_result pdm_display_snapshot(struct pdm *pdm, uint32_t **pixels, unsigned *width,
                                unsigned *height)
{
    if (!pdm || !pixels || !width || !height)
        return CAP_E_POINTER;
    *pixels = NULL;
    *width = *height = 0;
    struct pdm_dev *dev = NULL;
    const uint32_t *src = NULL;
    unsigned w = 0, h = 0;
    pdm_lock(pdm);
    const struct pdm_display_iface *d = first_iface(pdm, PDM_IFACE_DISPLAY, &dev);
    cap_result rc = d && d->snapshot ? d->snapshot(dev, &src, &w, &h) : CAP_E_NOTIMPL;
    size_t bytes = (size_t)w * h * sizeof(uint32_t);
    uint32_t *copy = CAP_SUCCEEDED(rc) ? cap_alloc(bytes ? bytes : 1) : NULL;
    if (copy)
        memcpy(copy, src, bytes);
    pdm_unlock(pdm);
    if (rc == CAP_E_NOTIMPL)
        return cap_error_set(rc, PDM_COMPONENT, NULL, "the machine has no display");
    if (CAP_FAILED(rc))
        return rc; /* the device said why */
    if (!copy)
        return cap_error_set(CAP_E_OUTOFMEMORY, PDM_COMPONENT, NULL,
                             "out of memory for the screen");
    *pixels = copy;
    *width = w;
    *height = h;
    return CAP_OK;
}

/* Copies what changed of the device's picture src (w x h) into pic; the
 * whole of it when `all`. CAP_E_OUTOFMEMORY when pic cannot grow. */
static cap_result picture_copy(struct pdm_picture *pic, const uint32_t *src, unsigned w, unsigned h,
                               const struct pdm_rect *rects, unsigned n, bool all)
{
    size_t count = (size_t)w * h;
    if (count > pic->cap) {
        uint32_t *p = cap_realloc(pic->pixels, count * sizeof(*p));
        if (!p)
            return CAP_E_OUTOFMEMORY;
        pic->pixels = p;
        pic->cap = count;
    }
    if (all) {
        memcpy(pic->pixels, src, count * sizeof(*src));
        return CAP_OK;
    }
    for (unsigned i = 0; i < n; i++) {
        const struct pdm_rect *r = &rects[i];
        if (r->x >= w || r->y >= h || r->w > w - r->x || r->h > h - r->y)
            continue; /* outside the picture: nothing a device should say */
        for (unsigned y = r->y; y < r->y + r->h; y++)
            memcpy(pic->pixels + (size_t)y * w + r->x, src + (size_t)y * w + r->x,
                   r->w * sizeof(*src));
    }
    return CAP_OK;
}

cap_result pdm_display_update(struct pdm *pdm, struct pdm_picture *pic, struct pdm_rect *rects,
                              unsigned max, unsigned *nrects, int *resized)
{
    if (!pdm || !pic || !nrects || !resized || !rects)
        return CAP_E_POINTER;
    if (!max)
        return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL, "room for no rectangle");
    *nrects = 0;
    *resized = 0;
    struct pdm_dev *dev = NULL;
    const uint32_t *src = NULL;
    unsigned w = 0, h = 0, n = 0;
    int changed = 0;
    pdm_lock(pdm);
    const struct pdm_display_iface *d = first_iface(pdm, PDM_IFACE_DISPLAY, &dev);
    cap_result rc =
        d && d->update ? d->update(dev, &src, &w, &h, rects, max, &n, &changed) : CAP_E_NOTIMPL;
    bool device_failed = CAP_FAILED(rc);
    if (CAP_SUCCEEDED(rc)) {
        changed = changed || w != pic->width || h != pic->height;
        rc = picture_copy(pic, src, w, h, rects, n, changed || n > max);
    }
    pdm_unlock(pdm);
    if (CAP_FAILED(rc)) {
        pic->width = pic->height = 0;
        if (rc == CAP_E_NOTIMPL)
            return cap_error_set(rc, PDM_COMPONENT, NULL, "the machine has no display");
        if (!device_failed)
            return cap_error_set(rc, PDM_COMPONENT, NULL, "out of memory for the screen");
        return rc; /* the device said why */
    }
    pic->width = w;
    pic->height = h;
    if (changed || n > max) {
        rects[0] = (struct pdm_rect){0, 0, w, h};
        n = w && h ? 1 : 0;
    }
    *nrects = n;
    *resized = changed;
    return CAP_OK;
}

bool pdm_display_present(struct pdm *pdm)
{
    struct pdm_dev *dev = NULL;
    pdm_lock(pdm);
    const struct pdm_display_iface *d = first_iface(pdm, PDM_IFACE_DISPLAY, &dev);
    bool yes = d && d->update;
    pdm_unlock(pdm);
    return yes;
}

unsigned pdm_poll_timers(struct pdm *pdm)
{
    pdm_lock(pdm);
    unsigned n = tm_poll(pdm->info.tm);
    pdm_unlock(pdm);
    return n;
}

struct pdm_dev *pdm_find_device(struct pdm *pdm, const char *name, unsigned instance)
{
    for (struct pdm_devinst *i = pdm->devs; i; i = i->next)
        if (strcmp(i->dev.reg->name, name) == 0 && i->dev.instance == instance)
            return &i->dev;
    return NULL;
}
