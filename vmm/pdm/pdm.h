/*
 * vmm/pdm/pdm.h - PDM, the VMM's side: instantiating and driving devices.
 *
 * A VM's PDM is created with the VM's IOM and TM, the registry to find
 * device plugins through, and the host callbacks that connect devices to
 * the rest of the VMM (struct pdm_host_ops: the CPU's INTR pin, DMA through
 * PGM, power-off/reset requests, logging). pdm_instantiate() then builds
 * the devices a machine's configuration names, in order; the device side
 * of the API is vmm/pdm/pdmdev.h.
 *
 * Nothing here is global: one struct pdm per VM.
 *
 * Threads: one lock per VM serialises every call into its devices. The
 * dispatch entry points (IOM callbacks, timer callbacks, pdm_get_interrupt,
 * pdm_reset) take it; create/instantiate/destroy must not race with them.
 */
#ifndef CAPSULE_VMM_PDM_H
#define CAPSULE_VMM_PDM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <capsule/types.h>

#include "pdmdev.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Exported from libcapsule-vmm.so (built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

struct cap_registry;
struct iom;
struct tm_clock;
struct pdm;
struct stam;

/*
 * Guest physical memory access for device DMA. PGM implements it (reads and
 * writes through the guest memory map: RAM and ROM, not MMIO); tests pass a
 * flat buffer. Returns CAP_OK or CAP_E_INVALIDARG for a range that is not
 * backed by memory.
 */
struct pdm_phys_ops {
    cap_result (*read)(void *ctx, uint64_t gpa, void *buf, size_t len);
    cap_result (*write)(void *ctx, uint64_t gpa, const void *buf, size_t len);
};

/* How devices reach the rest of the VM. Every member may be NULL (the
 * request is then ignored / DMA fails with CAP_E_NOTIMPL). Called with
 * PDM's device lock held: do not call back into PDM's dispatch. */
struct pdm_host_ops {
    void (*cpu_set_intr)(void *ctx, int level);                   /* vCPU 0's INTR pin */
    void (*irq_sink)(void *ctx, unsigned irq, int level);         /* when no PIC */
    void (*power_off)(void *ctx, const char *who, int exit_code); /* -1: no code */
    void (*reset)(void *ctx, const char *who);
    void (*set_a20)(void *ctx, bool enabled);
    /* One log line (no newline). NULL: stderr. */
    void (*log)(void *ctx, const char *who, enum pdm_log_level level, const char *msg);
    /* vCPU `cpu`'s INTR pin (the local APIC's output). NULL: cpu 0 goes to
     * cpu_set_intr, others are ignored. */
    void (*cpu_set_intr_cpu)(void *ctx, unsigned cpu, int level);
    /* An NMI for vCPU `cpu` (LINT1, NMI IPIs, I/O APIC NMI entries). */
    void (*cpu_nmi)(void *ctx, unsigned cpu);
    /* vCPU `cpu`'s IA32_APIC_BASE MSR as the guest last set it (base,
     * global enable bit 11, BSP bit 8), read by the local APIC when the
     * guest touches it. Called on the vCPU's thread for its MMIO. NULL:
     * 0xfee00000, enabled, BSP for cpu 0 (the reset value). */
    uint64_t (*cpu_apic_base)(void *ctx, unsigned cpu);
    /* RAM-backed BARs (pdmpci.h's pci_fn_bar_ram), under the device lock.
     * map_ram: `hva` (size bytes, page-aligned, the device's) as guest RAM
     * at gpa, dirty-tracked (all pages dirty at first); a failure (overlap)
     * with error info. unmap_ram: removes what map_ram mapped at gpa.
     * dirty_collect: moves the dirty bits of the range at gpa into bitmap
     * (npages bits) and clears them. NULL map_ram: such BARs are MMIO. */
    cap_result (*map_ram)(void *ctx, uint64_t gpa, uint64_t size, void *hva, const char *name);
    void (*unmap_ram)(void *ctx, uint64_t gpa);
    cap_result (*dirty_collect)(void *ctx, uint64_t gpa, uint64_t *bitmap, uint64_t npages);
};

struct pdm_create_info {
    struct cap_registry *registry; /* where device plugins are found; may be
                                      NULL if every device is added with
                                      pdm_add_devreg */
    struct iom *iom;               /* required */
    struct tm_clock *tm;           /* required */
    const struct pdm_host_ops *host;
    void *host_ctx;
    const struct pdm_phys_ops *phys; /* DMA; NULL: no DMA */
    void *phys_ctx;
    /* The VM's statistics (the block layer's per-drive counters under
     * /PDM/Blk/); NULL: none. Must outlive the PDM. */
    struct stam *stam;
};

/*
 * A device's configuration is a list of typed values (VirtualBox's CFGM
 * leaves): the machine's description (vmm/platform's device table) builds
 * them with their real types; text is parsed only at the edges (capsule-vm's
 * --device NAME,key=value, pdm_cfg_parse). A device reads them with
 * hlp->cfg_int/cfg_bool/cfg_string/cfg_bytes, which check the type.
 */
enum pdm_cfg_type { PDM_CFG_INT = 1, PDM_CFG_BOOL, PDM_CFG_STRING, PDM_CFG_BYTES };

struct pdm_cfg_value {
    const char *key;
    enum pdm_cfg_type type;
    union {
        int64_t i;
        bool b;
        const char *s;
        struct {
            const void *data;
            size_t len;
        } bytes;
    } u;
};

#define PDM_CFG_I(k, v) ((struct pdm_cfg_value){.key = (k), .type = PDM_CFG_INT, .u.i = (v)})
#define PDM_CFG_B(k, v) ((struct pdm_cfg_value){.key = (k), .type = PDM_CFG_BOOL, .u.b = (v)})
#define PDM_CFG_S(k, v) ((struct pdm_cfg_value){.key = (k), .type = PDM_CFG_STRING, .u.s = (v)})
#define PDM_CFG_BYTES(k, p, n)                                                                     \
    ((struct pdm_cfg_value){.key = (k), .type = PDM_CFG_BYTES, .u.bytes = {(p), (n)}})

/* "integer", "boolean", "string", "bytes" (for messages). */
const char *pdm_cfg_type_name(enum pdm_cfg_type type);

/*
 * The one parser of configuration text (the command line's key=value).
 * `text` takes the type its form has: an integer (decimal, 0x hex, 0
 * octal, a leading '-') is PDM_CFG_INT; true/false, yes/no, on/off
 * (any case) PDM_CFG_BOOL; anything else PDM_CFG_STRING. A prefix names
 * the type instead: "integer:", "bool:", "string:" (the rest verbatim:
 * "string:0"), "bytes:" (pairs of hex digits). `text` must stay valid as
 * long as `out` is used; "bytes:" is decoded in place (text is modified).
 * A malformed "integer:"/"bool:"/"bytes:" value is CAP_E_INVALIDARG with
 * error info naming `who` (the device), the key and the text.
 */
cap_result pdm_cfg_parse(const char *who, const char *key, char *text, struct pdm_cfg_value *out);

/* One device of a machine: the device's name and its configuration. */
struct pdm_dev_config {
    const char *device; /* devreg name: "serial", "pic", ... */
    const struct pdm_cfg_value *values;
    size_t n_values;
};

/* Creates an empty PDM. The info's pointers must outlive it. */
cap_result pdm_create(const struct pdm_create_info *info, struct pdm **out);
/* Destructs every device (in reverse order of construction), then frees.
 * NULL is fine. */
void pdm_destroy(struct pdm *pdm);

/*
 * Makes a device table known without the registry (built-in devices, test
 * devices). It takes precedence over a plugin of the same name. Checks the
 * ABI (CAP_E_BAD_COMPONENT). The table must outlive the PDM.
 */
cap_result pdm_add_devreg(struct pdm *pdm, const struct pdm_devreg *reg);

/*
 * Constructs the devices `cfg` names, in order, each through its plugin
 * (loaded via the registry by contract "@capsule.org/pdm/device/NAME;1")
 * unless pdm_add_devreg gave its table. On failure the devices of this call
 * that were built are destructed again, and error info names the device
 * and the problem (unknown device, wrong ABI, bad or unknown config key,
 * port conflict, ...).
 */
cap_result pdm_instantiate(struct pdm *pdm, const struct pdm_dev_config *cfg, size_t n);

/*
 * A drive on a device's LUN and its medium (see "block devices" in
 * pdmdev.h). `lun` is the device's numbering (IDE: channel * 2 + unit).
 * `path` NULL: an empty drive (CDROM only). `format`: "raw", "vdi" or
 * "iso" (vd_format_from_name), NULL to let runtime/vd probe (a CDROM then
 * opens read-only). A CDROM is always read-only.
 */
struct pdm_drive_config {
    const char *device; /* devreg name: "piix3ide" */
    unsigned instance;
    unsigned lun;
    enum pdm_blk_kind kind;
    const char *path;
    const char *format;
    bool readonly;
};

/*
 * Adds a drive before pdm_instantiate builds its device: opens the image
 * (runtime/vd: CAP_E_INVALIDARG for a bad image, CAP_E_ACCESSDENIED for
 * one in use, ... with error info naming the file) and starts the drive's
 * I/O thread. A second drive on the same device, instance and LUN:
 * CAP_E_ALREADY_REGISTERED.
 */
cap_result pdm_add_drive(struct pdm *pdm, const struct pdm_drive_config *dc);

/* CAP_OK when every drive added so far was attached by its device, else
 * CAP_E_INVALIDARG naming the first one nobody took (no such device, or the
 * device has no such LUN). Call after pdm_instantiate. */
cap_result pdm_check_drives(struct pdm *pdm);

/*
 * A network attachment (see "network adapters" in pdmdev.h): the backend
 * on a device's network port. backend "nat": libslirp's user-mode NAT on
 * the guest network 10.0.2.0/24 - the guest gets 10.0.2.15 by DHCP, the
 * host's loopback is 10.0.2.2, DNS 10.0.2.3 - with port forwards from the
 * host (TCP or UDP on host_addr:host_port, to guest_addr:guest_port;
 * addresses in host byte order, guest_addr 0: 10.0.2.15). `trace`: a pcap
 * file (LINKTYPE_ETHERNET) getting every frame both ways, or NULL.
 */
#define PDM_NET_MAX_HOSTFWD 16
struct pdm_net_hostfwd {
    bool udp;
    uint32_t host_addr;
    uint16_t host_port;
    uint32_t guest_addr;
    uint16_t guest_port;
};

struct pdm_nic_config {
    const char *device; /* devreg name: "e1000", "virtionet" */
    unsigned instance;
    const char *backend; /* "nat" */
    const struct pdm_net_hostfwd *hostfwd;
    size_t n_hostfwd; /* <= PDM_NET_MAX_HOSTFWD */
    const char *trace;
};

/*
 * Adds a network attachment before pdm_instantiate builds its device:
 * starts the backend (NAT: binds the forwarded ports - CAP_E_INVALIDARG
 * naming the one that is taken) and its I/O thread. A second attachment
 * on the same device and instance: CAP_E_ALREADY_REGISTERED; an unknown
 * backend CAP_E_INVALIDARG.
 */
cap_result pdm_add_nic(struct pdm *pdm, const struct pdm_nic_config *nc);

/* The cable of network adapter `device` `instance` (PDM_IFACE_NET) in or
 * out: the guest sees its link go up or down. CAP_E_INVALIDARG (error
 * info) when the VM has no such adapter. Any thread but a device op's. */
cap_result pdm_net_set_link(struct pdm *pdm, const char *device, unsigned instance, bool up);

/* Adds (add true) or removes a port forward of the NAT attachment on
 * `device` `instance` while the VM runs (controlvm natpf): done by the
 * attachment's I/O thread, which owns libslirp; returns once it is.
 * CAP_E_INVALIDARG (error info) when there is no such attachment or, to
 * remove, no such forward; CAP_E_FAIL when the host port cannot be bound
 * or once the attachment's thread stopped. Any thread
 * but the attachment's own and a device op's. */
cap_result pdm_net_hostfwd(struct pdm *pdm, const char *device, unsigned instance,
                           const struct pdm_net_hostfwd *f, bool add);

/* CAP_OK when every attachment added so far was taken by its device, else
 * CAP_E_INVALIDARG naming the first one nobody took. After pdm_instantiate. */
cap_result pdm_check_nics(struct pdm *pdm);

/*
 * The host changes the medium of a drive (a DVD: controlvm's eject and
 * insert): `path` NULL ejects, else the image is opened (as pdm_add_drive)
 * and inserted in place of what was in. The device is told
 * (port->medium_changed; ATAPI reports a unit attention). While the guest
 * locked the medium: CAP_E_ACCESSDENIED unless `force`. A DISK's medium
 * cannot change (CAP_E_INVALIDARG). Any thread but a device op's.
 */
cap_result pdm_drive_set_medium(struct pdm *pdm, const char *device, unsigned instance,
                                unsigned lun, const char *path, const char *format, bool force);

/* Waits until no block request of any drive is queued, running or being
 * completed (before saving state; tests). Not from a device op. */
void pdm_blk_drain(struct pdm *pdm);

/* Resets every device, in construction order. */
void pdm_reset(struct pdm *pdm);

/* INTA for the EM: the vector of the highest-priority pending interrupt
 * from the interrupt controller, or -1 (no controller / nothing pending).
 * The same as pdm_get_interrupt_cpu(pdm, 0). */
int pdm_get_interrupt(struct pdm *pdm);

/*
 * INTA for vCPU `cpu`: the one place the EM asks for the vector to inject
 * once that vCPU's INTR pin is up (host->cpu_set_intr / cpu_set_intr_cpu)
 * and the guest can take it. With a local APIC registered, the APIC
 * answers (its highest deliverable IRR vector, which moves to ISR), and
 * passes the PIC through when it is in virtual-wire mode (LINT0 ExtINT,
 * the APIC untouched since reset, or globally disabled); without one,
 * vCPU 0 asks the PIC directly.
 * Returns -1 when nothing is pending (a spurious INTR: inject nothing).
 */
int pdm_get_interrupt_cpu(struct pdm *pdm, unsigned cpu);

/*
 * The interface `iface` (PDM_IFACE_* in pdmdev.h) of instance `instance`
 * of device `device`, or NULL; with `device` NULL, that of the first
 * device offering it (the one the wrappers below use: "does this VM have a
 * tablet?"). Call its functions only through the PDM wrappers below (they
 * take the device lock).
 */
const void *pdm_query_interface(struct pdm *pdm, const char *device, unsigned instance,
                                const char *iface);

/*
 * Keyboard input from a frontend: queues `n` scancodes (set 1, as the
 * guest reads them from a translating i8042) into the first device that
 * offers PDM_IFACE_KEYBOARD. All or none: CAP_FALSE_RESULT (not a
 * failure) when the device's buffer has no room for all n now - nothing is
 * queued, try again once the guest has read some (a sequence longer than
 * the buffer must be split). CAP_E_NOTIMPL (error info) without a keyboard.
 * Any thread.
 */
cap_result pdm_keyboard_put(struct pdm *pdm, const uint8_t *codes, size_t n);

/*
 * Mouse input from a frontend: relative motion (dx right, dy down, dz the
 * wheel, positive towards the user) and the buttons held now (PDM_MOUSE_*
 * in pdmdev.h) to the first device that offers PDM_IFACE_MOUSE.
 * CAP_E_NOTIMPL (error info) without one; CAP_E_INVALIDARG for unknown
 * button bits. Any thread.
 */
cap_result pdm_mouse_put(struct pdm *pdm, int32_t dx, int32_t dy, int32_t dz, uint32_t buttons);

/*
 * Absolute pointer input from a frontend (a window or a remote client that
 * knows where the pointer is): x and y scaled to 0..PDM_MOUSE_ABS_MAX
 * across the screen (0,0 top left), dz the wheel, buttons as for
 * pdm_mouse_put, to the first device that offers PDM_IFACE_MOUSE_ABS (a
 * tablet). CAP_E_NOTIMPL (error info) without one; CAP_E_INVALIDARG for
 * coordinates past the maximum or unknown button bits. Any thread.
 */
cap_result pdm_mouse_put_abs(struct pdm *pdm, uint32_t x, uint32_t y, int32_t dz, uint32_t buttons);

/*
 * Whether absolute pointer events reach the guest now: a device offers
 * PDM_IFACE_MOUSE_ABS and its guest driver takes events (a frontend then
 * need not grab the pointer; else it falls back to pdm_mouse_put). Any
 * thread.
 */
bool pdm_mouse_abs_active(struct pdm *pdm);

/*
 * A press of the ACPI power button from a frontend: the first device that
 * offers PDM_IFACE_ACPI_BUTTONS raises the event (the guest decides what to
 * do). CAP_E_NOTIMPL (error info) without one. Any thread.
 */
cap_result pdm_acpi_power_button(struct pdm *pdm);

/*
 * The screen of the first device that offers PDM_IFACE_DISPLAY, rendered
 * now under the device lock: *pixels gets a copy of width * height XRGB
 * pixels (0x00RRGGBB, rows top to bottom) to free with cap_free.
 * CAP_E_NOTIMPL (error info "the machine has no display") without
 * such a device; CAP_E_OUTOFMEMORY. Any thread.
 */
cap_result pdm_display_snapshot(struct pdm *pdm, uint32_t **pixels, unsigned *width,
                                unsigned *height);

/*
 * The picture the display hub (plugins/frontends/display) keeps of the
 * screen: width * height XRGB pixels, rows top to bottom. The caller owns
 * it: zero it first, cap_free(pixels) when done; pdm_display_update grows
 * `pixels` (cap_realloc) and sets the size.
 */
struct pdm_picture {
    uint32_t *pixels;
    size_t cap; /* pixels allocated */
    unsigned width, height;
};

/*
 * One refresh of `pic` from the first device that offers PDM_IFACE_DISPLAY:
 * under the device lock, its update (pdmdev.h) and a copy of what changed
 * into pic, so the caller draws from pic with no VMM lock held. Afterwards
 * rects[0..*nrects) (max >= 1 of them) are what changed since the previous
 * call, inside pic; when everything did (the device said so, or its size
 * was not pic's: a zeroed pic, the first call) that is one rectangle, the
 * whole picture. *resized is set when the size or mode changed (or pic's
 * size was not the device's). On failure pic's size becomes 0 x 0, so the
 * next call copies everything. CAP_E_NOTIMPL (error info "the machine has
 * no display") without such a device; CAP_E_INVALIDARG for max 0;
 * CAP_E_OUTOFMEMORY. Any thread; the device keeps this dirty state apart
 * from pdm_display_snapshot's.
 */
cap_result pdm_display_update(struct pdm *pdm, struct pdm_picture *pic, struct pdm_rect *rects,
                              unsigned max, unsigned *nrects, int *resized);
/* Whether the machine has a device offering PDM_IFACE_DISPLAY with update. */
bool pdm_display_present(struct pdm *pdm);

/* Runs the expired device timers (tm_poll under the device lock). */
unsigned pdm_poll_timers(struct pdm *pdm);

/* The instance `instance` of device `name`, or NULL. For tests and the
 * debugger. */
struct pdm_dev *pdm_find_device(struct pdm *pdm, const char *name, unsigned instance);

/*
 * Saved state: pdm_save waits until the block layer is idle
 * (pdm_blk_drain: not from a device op), then writes every device's state
 * (name, instance, version, length, bytes) to a malloc'ed buffer (*buf,
 * free() it);
 * pdm_load reads it back into the same configuration. Devices without save
 * ops are skipped. Errors name the device.
 */
cap_result pdm_save(struct pdm *pdm, void **buf, size_t *len);
cap_result pdm_load(struct pdm *pdm, const void *buf, size_t len);

/*
 * Saved state in the SSM stream (vmm/ssm/ssm.h): pdm_save_units waits for
 * the block layer like pdm_save, then writes one fields unit per device
 * with saved state (the device's name, its instance, its
 * saved_state_version): the device's save_state fields, or its raw save
 * bytes as the field "raw". No unit may be open in `w`. pdm_load_units
 * loads each such device from its unit of `r` (an ssm_open'ed, so
 * verified, stream); a device the stream has no unit for is
 * VMM_E_SSM_NOT_FOUND naming it. Units of devices this VM lacks are left
 * unused (the caller's ssm_check_all_used). Errors name the device; a
 * failed load leaves the devices loaded so far loaded (the caller
 * discards the VM).
 */
cap_result pdm_save_units(struct pdm *pdm, struct ssm_writer *w);
cap_result pdm_load_units(struct pdm *pdm, struct ssm_reader *r);

/*
 * The machine's devices as one line for the platform unit of a saved
 * state: their instance names in construction order ("pic0 pit0
 * serial0"), so a restore into another layout is refused by comparing two
 * strings. Truncated to size - 1 bytes (returns false then).
 */
bool pdm_layout(struct pdm *pdm, char *buf, size_t size);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* CAPSULE_VMM_PDM_H */
