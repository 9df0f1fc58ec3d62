/*
 * plugins/devices/vga/vga.c - a standard VGA with the Bochs VBE extensions
 * as a PCI function: QEMU's "stdvga" identity, which Debian's
 * vgabios-stdvga.bin (SeaVGABIOS, seabios package) and Linux's bochs DRM
 * driver expect.
 *
 * PCI: 1234:1111 rev 02, class 03 00 00 (VGA), subsystem 1af4:1100.
 *   BAR0  prefetchable memory: the linear framebuffer, VRAM (vram_mb)
 *   BAR2  memory, 4 KiB: +0x400 the VGA ports 0x3c0-0x3df (bytes),
 *         +0x500 the DISPI registers (16-bit, index * 2), as QEMU's stdvga
 *   ROM   the option ROM image (`rom`), which SeaBIOS copies to 0xc0000
 *         and runs: it looks for a VGA class function with IO and MEMORY
 *         decoding on and maps its expansion ROM (SeaBIOS's optionroms.c;
 *         QEMU gives the VGA ROM this way too, not through fw_cfg)
 * Legacy: ports 0x3b0-0x3df (vga_core.h), the window 0xa0000-0xbffff as
 * MMIO, DISPI index 0x1ce and data 0x1cf (0x1d0 too, as QEMU).
 * BAR0 is RAM-backed (pci_fn_bar_ram): the VMM maps VRAM itself as guest
 * RAM at the BAR's address, so the guest's pixel writes cost nothing here;
 * before drawing, the device asks which pages the guest wrote
 * (hlp->pci_bar_dirty: rem's write tracking, KVM's dirty log) and bumps
 * their page generations, which the renderer compares (vga_render.h). A
 * VMM that cannot map it leaves BAR0 MMIO, served byte by byte below. The
 * legacy window stays MMIO: the planar modes need the graphics
 * controller's data path.
 *
 * Config: vram_mb (1-256, a power of two, default 16), rom (path, default
 * Debian's /usr/share/seabios/vgabios-stdvga.bin; "" for none), devfn
 * (-1: the first free slot), lfb_ram (default on; off keeps BAR0 MMIO,
 * every guest access a device call: for comparisons and tests), textmode
 * (default off: powers on, and comes back from a reset, in the 80x25 text
 * mode a VGA BIOS sets, with the 8x16 font taken from `rom`, for machines
 * that boot without a BIOS: vga_core_text_mode3).
 * Saved state (version 1): the registers (struct vga_core from `misc`
 * on), then VRAM.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "pdmdev_fields.h"
#include "vga.h"
#include "vga_core.h"
#include "vga_render.h"

#define VGA_ROM_DEFAULT "/usr/share/seabios/vgabios-stdvga.bin"
#define VGA_ROM_MAX     (1u << 20)

enum { TAG_LEGACY = 7, TAG_BAR0 = 0, TAG_BAR2 = 2, TAG_ROM = PCI_ROM_SLOT };

struct vga {
    struct pci_function fn;
    struct vga_core core;
    struct vga_display disp; /* snapshot's picture and dirty state */
    struct vga_display upd;  /* update's (the display hub), kept apart */
    uint8_t tag[8]; /* the `user` of each range: tag[i] == i */
    uint8_t *rom;
    uint32_t rom_size;   /* the BAR's size; the image padded with zeroes */
    uint64_t *lfb_dirty; /* pci_bar_dirty's bitmap, one bit per VRAM page */
    const uint8_t *font; /* textmode: the ROM's 8x16 font (in `rom`); else NULL */
};

static cap_result load_rom(struct pdm_dev *dev, const char *path)
{
    struct vga *s = dev->data;
    FILE *f = fopen(path, "rb");
    if (!f)
        return dev->hlp->error(dev, CAP_E_INVALIDARG, "rom '%s': cannot open: %s", path,
                               strerror(errno));
    s->rom = calloc(1, VGA_ROM_MAX);
    size_t n = s->rom ? fread(s->rom, 1, VGA_ROM_MAX, f) : 0;
    int more = s->rom ? fgetc(f) : EOF;
    fclose(f);
    if (!s->rom)
        return dev->hlp->error(dev, CAP_E_OUTOFMEMORY, "out of memory");
    if (more != EOF || n < 512 || s->rom[0] != 0x55 || s->rom[1] != 0xaa)
        return dev->hlp->error(dev, CAP_E_INVALIDARG,
                               "rom '%s': not an option ROM (55AA, 512 bytes to 1 MiB)", path);
    s->rom_size = 2048;
    while (s->rom_size < n)
        s->rom_size <<= 1;
    return CAP_OK;
}

static cap_result declare_pci(struct pdm_dev *dev, int devfn, bool lfb_ram)
{
    struct vga *s = dev->data;
    pci_fn_init(&s->fn, "VGA", 0x1234, 0x1111, 0x02, 0x030000);
    pci_fn_set16(&s->fn, PCI_SUBSYSTEM_VENDOR_ID, 0x1af4);
    pci_fn_set16(&s->fn, PCI_SUBSYSTEM_ID, 0x1100);
    cap_result rc =
        pci_fn_declare_bar(&s->fn, 0, PCI_BAR_PREFETCH, s->core.vram_size, &s->tag[TAG_BAR0]);
    if (CAP_SUCCEEDED(rc))
        rc = pci_fn_declare_bar(&s->fn, 2, 0, 4096, &s->tag[TAG_BAR2]);
    if (CAP_SUCCEEDED(rc) && s->rom)
        rc = pci_fn_declare_rom(&s->fn, s->rom_size, &s->tag[TAG_ROM]);
    if (CAP_SUCCEEDED(rc) && lfb_ram)
        rc = pci_fn_bar_ram(&s->fn, 0, s->core.vram);
    if (CAP_FAILED(rc))
        return dev->hlp->error(dev, rc, "cannot declare the BARs");
    s->fn.owner = s;
    return dev->hlp->pci_register(dev, devfn, &s->fn);
}

static cap_result vga_construct(struct pdm_dev *dev, const struct pdm_cfg *cfg)
{
    struct vga *s = dev->data;
    const struct pdm_hlp *h = dev->hlp;
    int64_t devfn, mb;
    const char *rom;
    bool lfb_ram, textmode;
    cap_result rc = h->cfg_int(dev, cfg, "devfn", PDM_PCI_DEVFN_ANY, -1, 255, &devfn);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_int(dev, cfg, "vram_mb", 16, VGA_VRAM_MIN >> 20, VGA_VRAM_MAX >> 20, &mb);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_string(dev, cfg, "rom", VGA_ROM_DEFAULT, &rom);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_bool(dev, cfg, "lfb_ram", true, &lfb_ram);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_bool(dev, cfg, "textmode", false, &textmode);
    if (CAP_FAILED(rc))
        return rc;
    if (mb & (mb - 1))
        return h->error(dev, CAP_E_INVALIDARG, "vram_mb %lld: not a power of two", (long long)mb);
    for (unsigned i = 0; i < sizeof(s->tag); i++)
        s->tag[i] = (uint8_t)i;
    s->core.vram_size = (uint32_t)mb << 20;
    uint32_t npages = s->core.vram_size >> VGA_PAGE_SHIFT;
    /* page-aligned: the VMM maps it into the guest as it is (BAR0) */
    void *vram = NULL;
    if (posix_memalign(&vram, 4096, s->core.vram_size) == 0) {
        memset(vram, 0, s->core.vram_size);
        s->core.vram = vram;
    }
    s->core.page_gen = calloc(npages, sizeof(uint32_t));
    s->lfb_dirty = calloc((npages + 63) / 64, sizeof(uint64_t));
    if (!s->core.vram || !s->core.page_gen || !s->lfb_dirty)
        return h->error(dev, CAP_E_OUTOFMEMORY, "out of memory for %lld MiB of VRAM",
                        (long long)mb);
    vga_core_reset(&s->core);
    if (*rom && CAP_FAILED(rc = load_rom(dev, rom)))
        return rc;
    if (textmode) {
        long at = vga_core_find_font(s->rom, s->rom_size);
        if (at < 0)
            return h->error(dev, CAP_E_INVALIDARG,
                            "textmode: the VGA BIOS image (rom '%s') holds no 8x16 font to show "
                            "text with",
                            rom);
        s->font = s->rom + at;
        vga_core_text_mode3(&s->core, s->font);
    }
    rc = h->io_register(dev, 0x3b0, 0x30, PDM_IO_F_SPLIT, NULL, "VGA");
    if (CAP_SUCCEEDED(rc))
        rc = h->io_register(dev, 0x1ce, 3, 0, NULL, "VBE DISPI");
    if (CAP_SUCCEEDED(rc))
        rc = h->mmio_register(dev, 0xa0000, 0x20000, 0, &s->tag[TAG_LEGACY], "VGA window");
    if (CAP_FAILED(rc))
        return rc;
    return declare_pci(dev, (int)devfn, lfb_ram);
}

static void vga_destruct(struct pdm_dev *dev)
{
    struct vga *s = dev->data;
    vga_display_free(&s->disp);
    vga_display_free(&s->upd);
    free(s->core.vram);
    free(s->core.page_gen);
    free(s->lfb_dirty);
    free(s->rom);
}

/* The pages of VRAM the guest wrote through the RAM-backed BAR0 since the
 * last look: their generations bumped for the renderer. */
static void lfb_sync(struct pdm_dev *dev)
{
    struct vga *s = dev->data;
    uint32_t npages = s->core.vram_size >> VGA_PAGE_SHIFT;
    cap_result rc = dev->hlp->pci_bar_dirty(dev, &s->fn, 0, s->lfb_dirty);
    if (rc != CAP_OK)
        return; /* not RAM now: writes come through vga_mmio */
    bool any = false;
    for (uint32_t w = 0; w < (npages + 63) / 64; w++)
        for (uint64_t bits = s->lfb_dirty[w]; bits; bits &= bits - 1) {
            uint32_t p = w * 64 + (uint32_t)__builtin_ctzll(bits);
            if (p < npages) {
                s->core.page_gen[p]++;
                any = true;
            }
        }
    if (any)
        s->core.mem_gen++;
}

static void vga_reset(struct pdm_dev *dev)
{
    struct vga *s = dev->data;
    memset(s->core.vram, 0, s->core.vram_size);
    vga_core_reset(&s->core);
    if (s->font)
        vga_core_text_mode3(&s->core, s->font);
}

/* The DISPI data register, 16 bits; a byte access reads / writes its low byte. */
static uint32_t vbe_access(struct vga *s, bool index, bool write, uint32_t val)
{
    if (index) {
        if (write)
            s->core.vbe_index = (uint16_t)val;
        return s->core.vbe_index;
    }
    if (write)
        vga_core_vbe_write(&s->core, (uint16_t)val);
    return vga_core_vbe_read(&s->core);
}

static cap_result vga_io(struct pdm_dev *dev, void *user, uint16_t port, unsigned size, bool write,
                         uint32_t *val)
{
    struct vga *s = dev->data;
    if (port >= 0x1ce && port <= 0x1d0) {
        uint32_t r = vbe_access(s, port == 0x1ce, write, *val);
        if (!write)
            *val = size == 1 ? r & 0xff : r;
        return CAP_OK;
    }
    if (write)
        vga_core_io_write(&s->core, port, (uint8_t)*val);
    else
        *val = vga_core_io_read(&s->core, port);
    return CAP_OK;
}

/* BAR2: the VGA ports at +0x400, DISPI at +0x500. */
static uint64_t bar2_access(struct vga *s, uint64_t off, unsigned size, bool write, uint64_t val)
{
    if (off >= 0x500 && off + size <= 0x500 + 2 * VBE_NUM_REGS && !(off & 1)) {
        s->core.vbe_index = (uint16_t)((off - 0x500) / 2);
        return vbe_access(s, false, write, val) & (size == 1 ? 0xff : 0xffff);
    }
    uint64_t out = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t o = off + i;
        if (o < 0x400 || o >= 0x420)
            continue;
        uint16_t port = (uint16_t)(0x3c0 + (o - 0x400));
        if (write)
            vga_core_io_write(&s->core, port, (uint8_t)(val >> (8 * i)));
        else
            out |= (uint64_t)vga_core_io_read(&s->core, port) << (8 * i);
    }
    return out;
}

static cap_result vga_mmio(struct pdm_dev *dev, void *user, uint64_t addr, unsigned size,
                           bool write, uint64_t *val)
{
    struct vga *s = dev->data;
    unsigned tag = *(const uint8_t *)user;
    uint64_t base = tag == TAG_LEGACY ? 0xa0000 : s->fn.bar[tag].addr, off = addr - base;
    uint64_t out = 0;
    if (tag == TAG_BAR2) {
        out = bar2_access(s, off, size, write, *val);
    } else {
        for (unsigned i = 0; i < size; i++) {
            uint8_t b = (uint8_t)(*val >> (8 * i)), r = 0xff;
            if (tag == TAG_LEGACY && write)
                vga_core_mem_write(&s->core, (uint32_t)(off + i), b);
            else if (tag == TAG_LEGACY)
                r = vga_core_mem_read(&s->core, (uint32_t)(off + i));
            else if (tag == TAG_BAR0 && write)
                vga_core_lfb_write(&s->core, off + i, b);
            else if (tag == TAG_BAR0)
                r = vga_core_lfb_read(&s->core, off + i);
            else if (tag == TAG_ROM && !write)
                r = off + i < s->rom_size ? s->rom[off + i] : 0xff;
            out |= (uint64_t)r << (8 * i);
        }
    }
    if (!write)
        *val = out;
    return CAP_OK;
}

#define REGS_OFF  offsetof(struct vga_core, misc)
#define REGS_SIZE (sizeof(struct vga_core) - REGS_OFF)

static cap_result vga_save(struct pdm_dev *dev, struct pdm_ssm *ssm)
{
    struct vga *s = dev->data;
    cap_result rc = dev->hlp->ssm_put(ssm, (const uint8_t *)&s->core + REGS_OFF, REGS_SIZE);
    if (CAP_SUCCEEDED(rc))
        rc = dev->hlp->ssm_put(ssm, s->core.vram, s->core.vram_size);
    return rc;
}

static cap_result vga_load(struct pdm_dev *dev, struct pdm_ssm *ssm, uint32_t version)
{
    struct vga *s = dev->data;
    cap_result rc = dev->hlp->ssm_get(ssm, (uint8_t *)&s->core + REGS_OFF, REGS_SIZE);
    if (CAP_SUCCEEDED(rc))
        rc = dev->hlp->ssm_get(ssm, s->core.vram, s->core.vram_size);
    if (CAP_FAILED(rc))
        return rc;
    vga_core_loaded(&s->core); /* a stream may hold anything: clamped again */
    s->disp.valid = 0;
    s->upd.valid = 0;
    return CAP_OK;
}

/* Saved state as named fields (the unit of version 2; the raw save/load
 * above stay for pdm_save's buffer): the registers by name (vbe[] as
 * bytes, host order) and VRAM as the bytes fields vram.N, one per
 * VGA_SSM_CHUNK-byte chunk that is not all zero (a missing chunk is
 * zero), so a text-mode screen costs a few chunks. A fields unit holds at
 * most SSM_FIELDS_MAX bytes: a VRAM with more non-zero bytes than that
 * fails the save. */
#define VGA_SSM_CHUNK (64u << 10)
static const struct pdm_field vga_fields[] = {
    PDM_FIELD(struct vga_core, misc),
    PDM_FIELD(struct vga_core, feature),
    PDM_FIELD(struct vga_core, vga_enable),
    PDM_FIELD(struct vga_core, seq_index),
    PDM_FIELD(struct vga_core, seq),
    PDM_FIELD(struct vga_core, gc_index),
    PDM_FIELD(struct vga_core, gc),
    PDM_FIELD(struct vga_core, crtc_index),
    PDM_FIELD(struct vga_core, crtc),
    PDM_FIELD(struct vga_core, ar_index),
    PDM_FIELD(struct vga_core, ar),
    PDM_FIELD(struct vga_core, dac_mask),
    PDM_FIELD(struct vga_core, dac_read_index),
    PDM_FIELD(struct vga_core, dac_write_index),
    PDM_FIELD(struct vga_core, dac_sub),
    PDM_FIELD(struct vga_core, dac_state),
    PDM_FIELD(struct vga_core, dac_rgb),
    PDM_FIELD(struct vga_core, palette),
    PDM_FIELD(struct vga_core, latch),
    PDM_FIELD(struct vga_core, retrace),
    PDM_FIELD(struct vga_core, vbe_index),
    PDM_FIELD(struct vga_core, vbe),
    PDM_FIELD_BOOL(struct vga_core, ar_flip),
};

static bool chunk_zero(const uint8_t *p)
{
    for (unsigned i = 0; i < VGA_SSM_CHUNK; i += 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        if (v)
            return false;
    }
    return true;
}

static cap_result vga_save_state(struct pdm_dev *dev, struct ssm_writer *w)
{
    struct vga *s = dev->data;
    cap_result rc = pdm_fields_put(dev, w, NULL, &s->core, vga_fields, PDM_FIELD_COUNT(vga_fields));
    char name[32];
    for (uint32_t off = 0; off < s->core.vram_size; off += VGA_SSM_CHUNK) {
        if (chunk_zero(s->core.vram + off))
            continue;
        snprintf(name, sizeof name, "vram.%u", off / VGA_SSM_CHUNK);
        rc = dev->hlp->ssm->put_bytes(w, name, s->core.vram + off, VGA_SSM_CHUNK);
    }
    return rc;
}

static cap_result vga_load_state(struct pdm_dev *dev, struct ssm_unit *u)
{
    struct vga *s = dev->data;
    cap_result rc = dev->hlp->ssm->check_version(u, 2, 2);
    if (CAP_SUCCEEDED(rc))
        rc = pdm_fields_get(dev, u, NULL, &s->core, vga_fields, PDM_FIELD_COUNT(vga_fields));
    char name[32];
    for (uint32_t off = 0; off < s->core.vram_size && CAP_SUCCEEDED(rc); off += VGA_SSM_CHUNK) {
        snprintf(name, sizeof name, "vram.%u", off / VGA_SSM_CHUNK);
        if (dev->hlp->ssm->has_field(u, name))
            rc = dev->hlp->ssm->get_bytes(u, name, s->core.vram + off, VGA_SSM_CHUNK);
        else
            memset(s->core.vram + off, 0, VGA_SSM_CHUNK);
    }
    if (CAP_FAILED(rc))
        return rc;
    vga_core_loaded(&s->core); /* a stream may hold anything: clamped again */
    s->disp.valid = 0;
    s->upd.valid = 0;
    return CAP_OK;
}

static cap_result vga_snapshot(struct pdm_dev *dev, const uint32_t **pixels, unsigned *width,
                               unsigned *height, unsigned *dirty)
{
    struct vga *s = dev->data;
    lfb_sync(dev);
    int n = vga_display_update(&s->disp, &s->core);
    if (n < 0)
        return dev->hlp->error(dev, CAP_E_OUTOFMEMORY, "out of memory for the picture");
    *pixels = s->disp.pixels;
    *width = s->disp.width;
    *height = s->disp.height;
    if (dirty)
        *dirty = (unsigned)n;
    return CAP_OK;
}

static const struct vga_display_iface vga_display_ops = {.snapshot = vga_snapshot};

static cap_result vga_pdm_snapshot(struct pdm_dev *dev, const uint32_t **pixels, unsigned *width,
                                   unsigned *height)
{
    return vga_snapshot(dev, pixels, width, height, NULL);
}

/* Rectangles are gathered this many at a time at most (a list that long
 * is as good as "everything" for the hub anyway). */
#define VGA_UPDATE_RECTS 256

static cap_result vga_pdm_update(struct pdm_dev *dev, const uint32_t **pixels, unsigned *width,
                                 unsigned *height, struct pdm_rect *rects, unsigned max,
                                 unsigned *nrects, int *resized)
{
    struct vga *s = dev->data;
    struct vga_display *d = &s->upd;
    int was_valid = d->valid;
    unsigned ow = d->width, oh = d->height;
    enum vga_render_kind okind = d->kind;
    lfb_sync(dev);
    if (vga_display_update(d, &s->core) < 0)
        return dev->hlp->error(dev, CAP_E_OUTOFMEMORY, "out of memory for the picture");
    struct vga_rect tmp[VGA_UPDATE_RECTS];
    unsigned lim = max < VGA_UPDATE_RECTS ? max : VGA_UPDATE_RECTS;
    unsigned n = vga_display_dirty_rects(d, tmp, lim);
    for (unsigned i = 0; i < n && i < lim; i++)
        rects[i] = (struct pdm_rect){tmp[i].x, tmp[i].y, tmp[i].w, tmp[i].h};
    *pixels = d->pixels;
    *width = d->width;
    *height = d->height;
    *nrects = n > lim ? max + 1 : n; /* more than max: everything */
    *resized = !was_valid || d->width != ow || d->height != oh || d->kind != okind;
    return CAP_OK;
}

static const struct pdm_display_iface vga_pdm_display_ops = {.snapshot = vga_pdm_snapshot,
                                                             .update = vga_pdm_update};

static const void *vga_query_interface(struct pdm_dev *dev, const char *iface)
{
    if (!strcmp(iface, PDM_IFACE_DISPLAY))
        return &vga_pdm_display_ops;
    return !strcmp(iface, VGA_IFACE_DISPLAY) ? &vga_display_ops : NULL;
}

static const struct pdm_dev_ops vga_ops = {
    .construct = vga_construct,
    .destruct = vga_destruct,
    .reset = vga_reset,
    .io = vga_io,
    .mmio = vga_mmio,
    .save = vga_save,
    .load = vga_load,
    .save_state = vga_save_state,
    .load_state = vga_load_state,
    .query_interface = vga_query_interface,
};

static const struct pdm_devreg vga_reg = {
    .abi = PDM_DEVREG_ABI,
    .name = "vga",
    .description = "standard VGA with Bochs VBE (PCI 1234:1111, QEMU's stdvga)",
    .instance_size = sizeof(struct vga),
    .max_instances = 1,
    .saved_state_version = 2, /* 2: the unit has named fields (raw: unchanged) */
    .ops = &vga_ops,
};

/* {5f0c2a4e-9b7d-4c1e-8a63-2d4b9e7f1c05} */
static const cap_uuid vga_cid = {{0x5f, 0x0c, 0x2a, 0x4e, 0x9b, 0x7d, 0x4c, 0x1e, 0x8a, 0x63, 0x2d,
                                  0x4b, 0x9e, 0x7f, 0x1c, 0x05}};
PDM_DEVICE_COMPONENT(vga_reg, vga_cid, "vga")
