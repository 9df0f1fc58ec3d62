/*
 * vmm/pdm/pdmdev.h - the device plugin API: the ONE header a device includes.
 *
 * A device plugin is a component (BUILD/lib/components/libcapsule-dev-NAME.so
 * plus a manifest) that exports one registration table, struct pdm_devreg:
 * its name, the ABI version it was built for, the size of its per-instance
 * state and its ops. PDM finds it through the registry by the contract ID
 * "@capsule.org/pdm/device/NAME;1", checks the ABI, allocates and zeroes
 * `instance_size` bytes per instance and calls `construct`.
 *
 * Everything a device needs from the VMM comes through dev->hlp, a constant
 * table of function pointers (struct pdm_hlp): port and MMIO ranges, IRQ
 * lines, timers on the virtual clock, DMA to guest memory, configuration
 * values, logging, errors, VM control, and PCI functions on the machine's
 * bus (pdmpci.h, included below). A device therefore links nothing
 * of the VMM, never includes KVM or another device's headers, and keeps no
 * global state: many VMs with many instances can share one loaded plugin.
 *
 * Exporting the table (the whole registration, explicit; see also
 * capsule/component.h):
 *
 *     static const struct pdm_dev_ops serial_ops = {
 *         .construct = serial_construct, .io = serial_io, ...
 *     };
 *     static const struct pdm_devreg serial_reg = {
 *         .abi = PDM_DEVREG_ABI, .name = "serial", .instance_size = sizeof(struct serial),
 *         .ops = &serial_ops,
 *     };
 *     static const cap_uuid serial_cid = {{0x26, 0x56, ...}};
 *     PDM_DEVICE_COMPONENT(serial_reg, serial_cid, "serial")
 *
 * and the manifest beside the library:
 *
 *     <component name="dev-serial" library="libcapsule-dev-serial.so" abi="1">
 *       <class name="serial" cid="265692c6-..." contract="@capsule.org/pdm/device/serial;1"/>
 *     </component>
 *
 * Threads and locking: PDM serialises every call into a VM's devices (ops,
 * timer callbacks, the interrupt controller's callbacks) with one lock per
 * VM, so device code needs no locks of its own; helpers may be called from
 * inside any op. A device must not block in an op (no blocking reads: poll
 * its backends from a timer instead).
 *
 * Guest behaviour never fails an op: a device models what the hardware does
 * with odd accesses (ignore, read all-ones). Ops return failures only for
 * host problems (construct: bad config, a file that will not open).
 */
#ifndef CAPSULE_VMM_PDMDEV_H
#define CAPSULE_VMM_PDMDEV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <capsule/component.h>
#include <capsule/result.h>
#include <capsule/supports.h>
#include <capsule/types.h>

#include "../ssm/ssm.h" /* relative: devices have only vmm/pdm in their path */
#include "pdmpci.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Version of struct pdm_devreg, struct pdm_dev_ops and struct pdm_hlp. A
 * device built for another version is refused with CAP_E_BAD_COMPONENT.
 * 2: ops->query_interface, the APIC roles and helpers.
 * 3: ops->irq_ready, the controllers' line_latched, hlp->timer_min_period_ns,
 *    hlp->irq_latched and hlp->irq_line_ready (timer coalescing).
 * 4: hlp->irq_take_over (the HPET's legacy replacement).
 * 5: PCI (pdmpci.h): hlp->pci_bus_register, pci_register, pci_set_irq,
 *    pci_bar_map (issue 12).
 * 6: the block layer: hlp->blk_* (drives on a device's LUNs).
 * 7: typed configuration (pdm.h's struct pdm_cfg_value), hlp->cfg_bytes.
 * 8: struct pdm_display_iface's update (the display hub's dirty rectangles).
 * 9: RAM-backed BARs: struct pci_bar's ram (pci_fn_bar_ram), hlp->pci_bar_dirty.
 * 10: network attachments: hlp->net_attach, net_send (issue 15).
 * 11: saved state as named fields: ops->save_state, load_state, hlp->ssm
 *     (issue 17). */
#define PDM_DEVREG_ABI 11u

#define PDM_DEVICE_CONTRACT_PREFIX "@capsule.org/pdm/device/"

struct pdm_dev;
struct pdm_cfg;   /* a device's configuration: read it with hlp->cfg_* */
struct pdm_timer; /* a timer on the VM's virtual clock */
struct pdm_ssm;   /* a raw saved-state record: hlp->ssm_put / ssm_get */

/* Port / MMIO range flags (same meaning as IOM's). */
#define PDM_IO_F_SPLIT 0x1u /* only 1-byte accesses reach the device */

/* Log levels for hlp->log. */
enum pdm_log_level { PDM_LOG_ERROR = 0, PDM_LOG_WARN = 1, PDM_LOG_INFO = 2, PDM_LOG_DEBUG = 3 };

/*
 * What a device does. Every op but construct is optional (NULL).
 *  construct: read config through hlp->cfg_*, register ranges, create
 *     timers. dev->data is zeroed. On failure return the error from
 *     hlp->error(); destruct is still called (it must cope with a half-built
 *     instance).
 *  destruct: free host resources (files, sockets). Ranges and timers the
 *     device registered are removed by PDM afterwards.
 *  reset: the machine's reset button / a guest reset: back to power-on state.
 *  io / mmio: an access to a registered range; `user` is what the range was
 *     registered with. Reads store into *val (the low `size` bytes count).
 *  save_state / load_state: the device's state as named, typed fields
 *     (vmm/ssm/ssm.h) of the unit PDM has begun for it - named after the
 *     device, dev->instance, version devreg.saved_state_version. save_state
 *     puts them with hlp->ssm->put_*; load_state checks the unit's version
 *     (hlp->ssm->check_version) and reads them by name, each with the
 *     default a stream saved before the field existed gets
 *     (hlp->ssm->get_*). A new device implements these.
 *  save / load: the older form, still taken: raw bytes with
 *     hlp->ssm_put/ssm_get (kept in the unit as one bytes field "raw"; load
 *     gets the unit's version). Never both forms.
 *  irq_ready: ISA line `irq`, which hlp->irq_latched last reported latched
 *     for this device, may take an edge again (the controller acknowledged
 *     or dropped the request). A timer that stopped raising edges nobody
 *     could see re-arms here. Once per positive irq_latched answer.
 */
struct pdm_dev_ops {
    cap_result (*construct)(struct pdm_dev *dev, const struct pdm_cfg *cfg);
    void (*destruct)(struct pdm_dev *dev);
    void (*reset)(struct pdm_dev *dev);
    cap_result (*io)(struct pdm_dev *dev, void *user, uint16_t port, unsigned size, bool write,
                     uint32_t *val);
    cap_result (*mmio)(struct pdm_dev *dev, void *user, uint64_t addr, unsigned size, bool write,
                       uint64_t *val);
    cap_result (*save)(struct pdm_dev *dev, struct pdm_ssm *ssm);
    cap_result (*load)(struct pdm_dev *dev, struct pdm_ssm *ssm, uint32_t version);
    /* An interface the device offers the VMM and frontends, by name
     * (PDM_IFACE_*), or NULL. The table must live as long as the plugin;
     * its functions are called with the device lock held (pdm.h). */
    const void *(*query_interface)(struct pdm_dev *dev, const char *iface);
    void (*irq_ready)(struct pdm_dev *dev, unsigned irq);
    cap_result (*save_state)(struct pdm_dev *dev, struct ssm_writer *w); /* ABI 11 */
    cap_result (*load_state)(struct pdm_dev *dev, struct ssm_unit *u);
};

/* ---- interfaces devices offer (ops->query_interface) ------------------------ */

/* A keyboard: frontends queue scancodes as the guest should read them
 * (set 1), all n or none: CAP_FALSE_RESULT (a success code) when the
 * device's buffer has no room for all of them now. Reached through
 * pdm_keyboard_put (pdm.h). */
#define PDM_IFACE_KEYBOARD "keyboard"
struct pdm_keyboard_iface {
    cap_result (*put_scancodes)(struct pdm_dev *dev, const uint8_t *codes, size_t n);
};

/* A mouse: frontends report relative motion - dx right, dy down (screen
 * sense), dz the wheel (positive: towards the user) - and the buttons now
 * (PDM_MOUSE_*). The device coalesces what the guest has not read yet in
 * bounded state. Reached through pdm_mouse_put (pdm.h). */
#define PDM_IFACE_MOUSE   "mouse"
#define PDM_MOUSE_LEFT    0x01u
#define PDM_MOUSE_RIGHT   0x02u
#define PDM_MOUSE_MIDDLE  0x04u
#define PDM_MOUSE_BUTTONS 0x07u
struct pdm_mouse_iface {
    cap_result (*put_event)(struct pdm_dev *dev, int32_t dx, int32_t dy, int32_t dz,
                            uint32_t buttons);
};

/* An absolute pointing device (a tablet): x, y in 0..PDM_MOUSE_ABS_MAX
 * across the screen, dz the wheel, the buttons now. Reached through
 * pdm_mouse_put_abs (pdm.h), which checks the ranges. */
#define PDM_IFACE_MOUSE_ABS "mouse-abs"
#define PDM_MOUSE_ABS_MAX   0x7fffu
struct pdm_mouse_abs_iface {
    cap_result (*put_event)(struct pdm_dev *dev, uint32_t x, uint32_t y, int32_t dz,
                            uint32_t buttons);
    /* Optional: whether the guest's driver takes events now (it set the
     * device up and enabled its event queue). NULL: always. */
    bool (*active)(struct pdm_dev *dev);
};

/* The ACPI fixed-feature buttons: a frontend presses them as a user would.
 * Reached through pdm_acpi_power_button (pdm.h). */
#define PDM_IFACE_ACPI_BUTTONS "acpi-buttons"
struct pdm_acpi_buttons_iface {
    cap_result (*power_button)(struct pdm_dev *dev);
};

/* A display: its current picture for a frontend. Reached through
 * pdm_display_snapshot (pdm.h). */
#define PDM_IFACE_DISPLAY "display"
struct pdm_rect {
    unsigned x, y, w, h;
};
struct pdm_display_iface {
    /* Renders the current screen: *pixels gets width * height XRGB pixels
     * (0x00RRGGBB, rows top to bottom), valid until the next call or the
     * device's destruction. CAP_E_OUTOFMEMORY. */
    cap_result (*snapshot)(struct pdm_dev *dev, const uint32_t **pixels, unsigned *width,
                           unsigned *height);
    /* For the VM process's display hub (its one caller): brings a picture
     * kept apart from snapshot's up to date and lists what changed since
     * the previous update call in rects[0..max) (*nrects gets the count in
     * all; more than max, or 0 rects with *resized, means "everything").
     * *resized is set when the size or mode changed. Same pixel format and
     * lifetime as snapshot. CAP_E_OUTOFMEMORY. */
    cap_result (*update)(struct pdm_dev *dev, const uint32_t **pixels, unsigned *width,
                         unsigned *height, struct pdm_rect *rects, unsigned max, unsigned *nrects,
                         int *resized);
};

/* A network adapter: its cable plugged in or not (VirtualBox's
 * "cable connected"), which the guest sees as link up / down. Reached
 * through pdm_net_set_link (pdm.h). */
#define PDM_IFACE_NET "net"
struct pdm_net_iface {
    void (*set_link)(struct pdm_dev *dev, bool up);
};

/* The registration table: the one thing a device plugin exports. */
struct pdm_devreg {
    uint32_t abi;                 /* PDM_DEVREG_ABI; always the first field */
    const char *name;             /* "serial": [a-z0-9-], matches the contract */
    const char *description;      /* one line, for listings */
    uint32_t instance_size;       /* bytes of dev->data */
    uint32_t max_instances;       /* 0: no limit */
    uint32_t saved_state_version; /* passed back to load */
    const struct pdm_dev_ops *ops;
};

/* The PIC registers these with hlp->pic_register; PDM then routes every
 * hlp->irq_set below 16 to it, and the EM's interrupt acknowledge to
 * get_interrupt (directly, or through the local APIC's ExtINT). */
struct pdm_pic_ops {
    /* An ISA IRQ line changed (level 0 or 1). */
    void (*set_irq)(struct pdm_dev *dev, unsigned irq, int level);
    /* INTA: the vector to deliver, or -1 when nothing is pending (the
     * controller then lowers INTR itself). */
    int (*get_interrupt)(struct pdm_dev *dev);
    /* Optional: whether a rising edge on `irq` would change nothing now,
     * because the request is already latched (an edge-triggered line whose
     * IRR bit is set; masking does not stop the 8259 latching it). The
     * controller then calls hlp->irq_line_ready when the latch clears. */
    bool (*line_latched)(struct pdm_dev *dev, unsigned irq);
};

/*
 * Interrupt routing with APICs (all optional: a VM with only the PIC works
 * as before). PDM keeps three roles, each taken by at most one device:
 *  - the PIC (pic_register): ISA IRQs 0-15; its INTR output goes to the
 *    CPU, or, when a local APIC is registered, to the APIC's LINT0 pin;
 *  - the I/O APIC (ioapic_register): GSIs; hlp->irq_set(irq) reaches it as
 *    GSI `irq`, except ISA IRQ0 which is GSI 2 (the usual override);
 *  - the local APIC (apic_register): the EM's INTA goes to it first; it
 *    answers with a vector, -1, or PDM_APIC_EXTINT ("ask the PIC": virtual
 *    wire mode), and it drives the CPU's INTR pin itself.
 * An I/O APIC delivers messages with hlp->apic_deliver; the local APIC
 * broadcasts the EOI of level-triggered vectors with hlp->apic_eoi.
 */
#define PDM_APIC_EXTINT (-2)

/* Delivery modes of struct pdm_apic_msg (the x86 encoding). */
#define PDM_APIC_DM_FIXED   0
#define PDM_APIC_DM_LOWEST  1
#define PDM_APIC_DM_SMI     2
#define PDM_APIC_DM_NMI     4
#define PDM_APIC_DM_INIT    5
#define PDM_APIC_DM_STARTUP 6
#define PDM_APIC_DM_EXTINT  7

/* An interrupt message: an I/O APIC redirection entry (later: an MSI). */
struct pdm_apic_msg {
    uint8_t vector;
    uint8_t delivery; /* PDM_APIC_DM_* */
    uint8_t dest;     /* APIC ID (physical) or MDA bits (logical) */
    bool logical;     /* destination mode */
    bool level;       /* trigger mode: level (remote IRR, EOI) or edge */
};

struct pdm_apic_ops {
    /* INTA for vCPU `cpu`: a vector (now in service), -1, or PDM_APIC_EXTINT. */
    int (*get_interrupt)(struct pdm_dev *dev, unsigned cpu);
    /* A LINT pin (0 or 1) of vCPU `cpu` changed; LINT0 carries the PIC's INTR. */
    void (*set_lint)(struct pdm_dev *dev, unsigned cpu, unsigned pin, int level);
    /* A message from the I/O APIC. */
    void (*deliver)(struct pdm_dev *dev, const struct pdm_apic_msg *msg);
};

struct pdm_ioapic_ops {
    /* GSI `gsi` changed level. */
    void (*set_irq)(struct pdm_dev *dev, unsigned gsi, int level);
    /* The local APIC's EOI of a level-triggered vector: clears remote IRR. */
    void (*eoi)(struct pdm_dev *dev, uint8_t vector);
    /* Optional: as the PIC's line_latched, for GSI `gsi` (a masked pin
     * drops edges); hlp->irq_line_ready(gsi) when that stops holding. */
    bool (*line_latched)(struct pdm_dev *dev, unsigned gsi);
};

/*
 * PCI (see pdmpci.h for the functions' side). One device per VM - the
 * chipset's bus (plugins/devices/pci) - takes the bus role with
 * hlp->pci_bus_register; every other device's hlp->pci_register and
 * hlp->pci_set_irq then reach it through these ops.
 *  attach: put `fn` at `devfn` (0-255), or with PDM_PCI_DEVFN_ANY at
 *     function 0 of the first free device number; set fn->devfn. Fails
 *     (error info) when the place is taken or out of range.
 *  detach: `fn`'s device is being destructed: unmap its BARs (through
 *     hlp->pci_bar_map), drop its INTx, forget it.
 *  set_intx: `fn`'s INTx line is now `level` (0/1).
 */
struct pdm_pci_bus_ops {
    cap_result (*attach)(struct pdm_dev *bus, struct pci_function *fn, int devfn);
    void (*detach)(struct pdm_dev *bus, struct pci_function *fn);
    void (*set_intx)(struct pdm_dev *bus, struct pci_function *fn, int level);
};

/* ---- block devices: drives on a device's LUNs ------------------------------
 *
 * A storage controller (IDE, AHCI, virtio-blk) gets its drives from PDM,
 * the way VirtualBox attaches a driver to a device's LUN: the machine's
 * configuration (pdm.h: struct pdm_drive_config, capsule-vm --drive) names
 * device, instance and LUN; the device asks for each LUN it has at
 * construct with hlp->blk_attach and gets a struct pdm_blk, or nothing when
 * the LUN is empty. The drive stays for the VM's life; its medium (an image
 * opened through runtime/vd) may come and go (a DVD: the guest's eject, the
 * host's eject/insert), each change counted in pdm_blk_info.medium_gen.
 *
 * I/O is asynchronous and runs off the vCPU thread, on the drive's own I/O
 * thread: hlp->blk_submit queues a request (executed in order, one at a
 * time per drive) and returns at once; port->complete is called later,
 * exactly once per request, with the device lock held (as every device
 * op), from the I/O thread. The device then updates its registers and
 * raises its IRQ; PDM's interrupt path wakes or kicks a halted or running
 * vCPU. The device owns req and req->buf and must leave both alone (and
 * alive) until complete, or until hlp->blk_cancel returned.
 *
 * Requests: offset and len in bytes, multiples of PDM_BLK_SECTOR, inside
 * the medium. FLUSH makes every completed write durable (fdatasync through
 * vd_flush); a WRITE with PDM_BLK_F_FUA is durable when it completes.
 * blk_submit fails at once (the device reports an error status to the
 * guest, no completion follows) with CAP_E_INVALIDARG (misaligned, past the
 * end), CAP_E_ACCESSDENIED (a write to a read-only medium: ISO, a DVD
 * drive, readonly=on) or CAP_E_ABORT (no medium). req->status at
 * completion: CAP_OK, CAP_E_IO (the host's I/O failed) or CAP_E_ABORT (the
 * medium changed before the request ran).
 *
 * Saved state and media change: pdm_blk_drain (pdm.h) waits until no
 * request is queued or running, so a device is saved between requests;
 * the device saves its own registers, PDM nothing of the drive but which
 * medium is in (the frontend's configuration).
 */
struct pdm_blk;

#define PDM_BLK_SECTOR 512u /* unit of offsets and lengths */

enum pdm_blk_kind {
    PDM_BLK_DISK = 0,  /* a hard disk: fixed medium, 512-byte sectors */
    PDM_BLK_CDROM = 1, /* a DVD/CD drive: removable, read-only, 2048-byte sectors */
};

enum pdm_blk_op { PDM_BLK_READ = 0, PDM_BLK_WRITE = 1, PDM_BLK_FLUSH = 2 };

#define PDM_BLK_F_FUA 0x1u /* WRITE: durable at completion (forced unit access) */

struct pdm_blk_req {
    /* set by the device before blk_submit */
    enum pdm_blk_op op;
    uint32_t flags;  /* PDM_BLK_F_* */
    uint64_t offset; /* bytes */
    void *buf;
    size_t len;
    void *user; /* the device's */
    /* set by PDM before port->complete */
    cap_result status;
    /* PDM's: do not touch */
    struct pdm_blk_req *pdm_next;
    uint64_t pdm_epoch;
    uint32_t pdm_flags;
};

struct pdm_blk_info {
    enum pdm_blk_kind kind;
    bool present;        /* a medium is in */
    bool readonly;       /* writes fail (CDROM, ISO, readonly=on) */
    bool locked;         /* the guest prevents removal (blk_set_locked) */
    uint64_t size;       /* bytes of the medium (whole sectors); 0 when empty */
    uint32_t medium_gen; /* +1 at every medium change */
};

/* What a device gives when it attaches a LUN; the table must outlive the
 * device. Both are called with the device lock held, from any thread. */
struct pdm_blk_port {
    /* A request finished (req->status says how). Required. */
    void (*complete)(struct pdm_dev *dev, void *user, struct pdm_blk_req *req);
    /* The host changed the medium (inserted one: present, or ejected it);
     * not called for the guest's own blk_eject. Optional. */
    void (*medium_changed)(struct pdm_dev *dev, void *user, bool present);
};

/* ---- network adapters: a backend on the device's network port -------------
 *
 * A network adapter (virtio-net, an e1000) gets its backend from PDM, as a
 * storage controller its drives: the machine's configuration (pdm.h:
 * struct pdm_nic_config, capsule-vm --nic) names device and instance and
 * the backend ("nat": libslirp's user-mode NAT); the device asks for it at
 * construct with hlp->net_attach and gets a struct pdm_net, or nothing
 * (the cable is not plugged anywhere).
 *
 * The backend runs on its own I/O thread, never the vCPU's. Frames are
 * Ethernet frames without the FCS, 14 to PDM_NET_FRAME_MAX bytes.
 *  guest -> host: hlp->net_send copies the frame into the backend's queue
 *     and returns at once; the queue is bounded (PDM_NET_QUEUE_MAX frames,
 *     PDM_NET_QUEUE_BYTES bytes):
 *     past it the frame is dropped and counted (CAP_FALSE_RESULT), as a
 *     wire drops what a switch cannot take.
 *  host -> guest: port->receive is called from the I/O thread with the
 *     device lock held (as every device op); the device copies the frame
 *     into a buffer the guest posted, or drops it (no buffer, link down,
 *     driver not ready) and answers false: PDM counts the drop. Nothing is
 *     queued for the device: the guest's TCP retransmits what was dropped.
 * Counters under /PDM/Net/<device><instance>/ in the VM's STAM registry.
 */
struct pdm_net;

#define PDM_NET_FRAME_MIN   14u        /* an Ethernet header */
#define PDM_NET_FRAME_MAX   65550u     /* the largest frame net_send takes */
#define PDM_NET_QUEUE_MAX   512u       /* guest -> host frames queued, at most */
#define PDM_NET_QUEUE_BYTES (1u << 20) /* and bytes */

struct pdm_net_port {
    /* A frame for the guest (see above): true when the device took it. */
    bool (*receive)(struct pdm_dev *dev, void *user, const void *frame, size_t len);
};

typedef void (*pdm_timer_fn)(struct pdm_dev *dev, void *user, uint64_t now_ns);

/* The VMM's services to a device. Every function takes the calling device
 * (or one of its timers / a stream); none may be called after destruct. */
struct pdm_hlp {
    uint32_t abi; /* PDM_DEVREG_ABI */

    /* Ports and MMIO: claim [base, base+count) for ops->io / ops->mmio.
     * Overlaps fail with CAP_E_INVALIDARG naming the owner. */
    cap_result (*io_register)(struct pdm_dev *dev, uint16_t base, uint32_t count, uint32_t flags,
                              void *user, const char *desc);
    cap_result (*io_deregister)(struct pdm_dev *dev, uint16_t base);
    cap_result (*mmio_register)(struct pdm_dev *dev, uint64_t base, uint64_t size, uint32_t flags,
                                void *user, const char *desc);
    cap_result (*mmio_deregister)(struct pdm_dev *dev, uint64_t base);

    /* IRQ lines: sets ISA line `irq` (0-15; GSIs up to 23 with an I/O
     * APIC) to `level` (0/1). Edge devices raise then lower. Routed to the
     * PIC and the I/O APIC, or to the VMM's IRQ sink when the VM has
     * neither (tests). */
    void (*irq_set)(struct pdm_dev *dev, unsigned irq, int level);
    /* For interrupt controllers only. */
    cap_result (*pic_register)(struct pdm_dev *dev, const struct pdm_pic_ops *ops);
    /* The PIC's INTR output: vCPU 0's INTR pin, or LINT0 of the local APIC. */
    void (*cpu_set_intr)(struct pdm_dev *dev, int level);

    /* Timers on the virtual clock (ns). Destroyed by PDM after destruct. */
    cap_result (*timer_create)(struct pdm_dev *dev, pdm_timer_fn fn, void *user, const char *desc,
                               struct pdm_timer **out);
    void (*timer_arm)(struct pdm_timer *t, uint64_t deadline_ns);
    uint64_t (*timer_arm_rel)(struct pdm_timer *t, uint64_t delta_ns); /* returns deadline */
    void (*timer_disarm)(struct pdm_timer *t);
    bool (*timer_armed)(struct pdm_timer *t);
    uint64_t (*clock_now)(struct pdm_dev *dev);

    /* DMA: guest physical memory, through PGM (honours the memory map).
     * CAP_E_INVALIDARG if the range is not RAM/ROM. */
    cap_result (*phys_read)(struct pdm_dev *dev, uint64_t gpa, void *buf, size_t len);
    cap_result (*phys_write)(struct pdm_dev *dev, uint64_t gpa, const void *buf, size_t len);

    /* Configuration (typed values, pdm.h's struct pdm_cfg_value): `*out`
     * gets the value of `key`, or `def` when the key is absent. A value of
     * another type, or an integer outside [min, max], is CAP_E_INVALIDARG
     * with error info naming device, key, the expected type and the value.
     * Strings and bytes stay valid until destruct. Keys a device never asks
     * for make construction fail (typos). */
    cap_result (*cfg_string)(struct pdm_dev *dev, const struct pdm_cfg *cfg, const char *key,
                             const char *def, const char **out);
    cap_result (*cfg_int)(struct pdm_dev *dev, const struct pdm_cfg *cfg, const char *key,
                          int64_t def, int64_t min, int64_t max, int64_t *out);
    cap_result (*cfg_bool)(struct pdm_dev *dev, const struct pdm_cfg *cfg, const char *key,
                           bool def, bool *out);
    /* Bytes: *data NULL and *len 0 when absent. */
    cap_result (*cfg_bytes)(struct pdm_dev *dev, const struct pdm_cfg *cfg, const char *key,
                            const void **data, size_t *len);

    /* Logging (prefixed with the instance name) and errors: error() sets
     * error info naming the instance and returns rc. */
    void (*log)(struct pdm_dev *dev, enum pdm_log_level level, const char *fmt, ...)
        CAP_PRINTF(3, 4);
    cap_result (*error)(struct pdm_dev *dev, cap_result rc, const char *fmt, ...) CAP_PRINTF(3, 4);

    /* VM control: requests, acted upon by the EM after the current op. */
    void (*vm_power_off)(struct pdm_dev *dev, int exit_code); /* exit code -1: none */
    void (*vm_reset)(struct pdm_dev *dev);
    void (*set_a20)(struct pdm_dev *dev, bool enabled);

    /* Saved state. get fails with CAP_E_INVALIDARG past the end. */
    cap_result (*ssm_put)(struct pdm_ssm *ssm, const void *buf, size_t len);
    cap_result (*ssm_get)(struct pdm_ssm *ssm, void *buf, size_t len);

    /* APICs (see struct pdm_apic_ops above). Each role once per VM:
     * CAP_E_ALREADY_REGISTERED otherwise. */
    cap_result (*apic_register)(struct pdm_dev *dev, const struct pdm_apic_ops *ops);
    cap_result (*ioapic_register)(struct pdm_dev *dev, const struct pdm_ioapic_ops *ops);
    /* I/O APIC -> local APIC; dropped (logged once) without a local APIC. */
    void (*apic_deliver)(struct pdm_dev *dev, const struct pdm_apic_msg *msg);
    /* Local APIC -> I/O APIC: EOI of a level-triggered vector. */
    void (*apic_eoi)(struct pdm_dev *dev, uint8_t vector);
    /* The INTR pin / an NMI of vCPU `cpu` (the local APIC's outputs). */
    void (*cpu_set_intr_cpu)(struct pdm_dev *dev, unsigned cpu, int level);
    void (*cpu_nmi)(struct pdm_dev *dev, unsigned cpu);
    /* vCPU `cpu`'s IA32_APIC_BASE MSR (base address, global enable bit 11,
     * BSP bit 8): the local APIC reads it to know whether the CPU has it
     * globally disabled or moved (the MSR lives in the CPU, not here). */
    uint64_t (*cpu_apic_base)(struct pdm_dev *dev, unsigned cpu);

    /* Timer coalescing (issue 19: a guest may program a periodic timer at
     * 1 GHz, or leave one running with nothing able to take its interrupt).
     * timer_min_period_ns: the shortest period at which a periodic timer
     * may raise its interrupt (TM_MIN_PERIOD_NS, 200 us, as KVM); counters
     * the guest reads keep the programmed rate. irq_latched: whether an
     * edge on ISA line `irq` would change nothing now (every controller
     * the line reaches has it latched or masked, see line_latched); when it
     * answers true the device may stop raising edges, and its
     * ops->irq_ready is called once the line can take one again.
     * irq_line_ready: for interrupt controllers, that line `irq` (a GSI
     * for the I/O APIC) is no longer latched. */
    uint64_t (*timer_min_period_ns)(struct pdm_dev *dev);
    bool (*irq_latched)(struct pdm_dev *dev, unsigned irq);
    void (*irq_line_ready)(struct pdm_dev *dev, unsigned irq);

    /* ISA line `irq` (0-15) taken over by this device while `on`: the
     * other devices' hlp->irq_set on it reach no controller (the line is
     * lowered if they held it high), and their last level comes back when
     * the owner releases it (having lowered its own). The HPET's legacy
     * replacement takes IRQ0 and IRQ8 from the PIT and the RTC this way. */
    void (*irq_take_over)(struct pdm_dev *dev, unsigned irq, bool on);

    /* ---- PCI (ABI 5; pdmpci.h, struct pdm_pci_bus_ops) ---- */
    /* The bus role, once per VM (CAP_E_ALREADY_REGISTERED otherwise). */
    cap_result (*pci_bus_register)(struct pdm_dev *dev, const struct pdm_pci_bus_ops *ops);
    /* Puts `fn` (filled, fn->owner set) on the bus at `devfn` (PCI_DEVFN(d, f))
     * or PDM_PCI_DEVFN_ANY; in construct. The device must have ops->io for
     * an I/O BAR and ops->mmio for a memory BAR. Errors (error info): no
     * bus in the VM (the bus device must come first in the device list),
     * the place is taken, a BAR without its op. fn stays the device's; it
     * leaves the bus when the device is destructed. */
    cap_result (*pci_register)(struct pdm_dev *dev, int devfn, struct pci_function *fn);
    /* `fn`'s (one of this device's functions; NULL: the first it
     * registered) INTx line to `level`: held at 1 while the function wants
     * service. Ignored for a function not on the bus. */
    void (*pci_set_irq)(struct pdm_dev *dev, struct pci_function *fn, int level);
    /* For the bus only: maps BAR `bar` of `fn` at `addr` (PCI_BAR_UNMAPPED:
     * unmaps it) as a port or MMIO range of fn's device, whose ops->io /
     * ops->mmio then get fn->bar[bar].user; sets fn->bar[bar].addr. A
     * failure (overlap with RAM, ROM or another range) leaves it unmapped
     * and returns the error (error info names the conflict). */
    cap_result (*pci_bar_map)(struct pdm_dev *bus, struct pci_function *fn, unsigned bar,
                              uint64_t addr);

    /* ---- the block layer (ABI 6; "block devices" above) ---- */
    /* blk_attach: the drive the configuration puts on `lun` of this
     * device (construct only): CAP_OK and *out, or CAP_FALSE_RESULT and
     * NULL when the LUN is empty; CAP_E_ALREADY_REGISTERED when attached
     * twice. blk_info: the drive and its medium now. blk_submit: queue a
     * request (errors above). blk_cancel: drops the queued requests and
     * waits for the running one (at most one host I/O); none of them
     * completes (reset, SRST, a command the guest aborted).
     * blk_set_locked: the guest's PREVENT MEDIUM REMOVAL (the host's eject
     * then needs force). blk_eject: the guest's eject: CAP_E_ACCESSDENIED
     * while locked (and for a DISK), CAP_FALSE_RESULT when already empty;
     * queued requests end with CAP_E_ABORT. */
    cap_result (*blk_attach)(struct pdm_dev *dev, unsigned lun, const struct pdm_blk_port *port,
                             void *user, struct pdm_blk **out);
    void (*blk_info)(struct pdm_blk *blk, struct pdm_blk_info *out);
    cap_result (*blk_submit)(struct pdm_blk *blk, struct pdm_blk_req *req);
    void (*blk_cancel)(struct pdm_blk *blk);
    void (*blk_set_locked)(struct pdm_blk *blk, bool locked);
    cap_result (*blk_eject)(struct pdm_blk *blk);

    /* ---- RAM-backed BARs (ABI 9; pdmpci.h's pci_fn_bar_ram) ---- */
    /* The pages of RAM-backed BAR `bar` of `fn` (one of this device's
     * functions) the guest wrote since the last call: bit p % 64 of
     * bitmap[p / 64] is set for page p (4 KiB) of the BAR, for
     * size / 4096 bits; the others are cleared. The first call, and the
     * first after the BAR was mapped, moved or unmapped, sets every bit
     * (the device redraws all). Writes that race with the call show in this
     * or the next one. CAP_OK; CAP_FALSE_RESULT (bits clear) when the BAR
     * is not mapped as RAM now (unmapped, or MMIO: ops->mmio sees the
     * writes); CAP_E_INVALIDARG for a BAR that is not RAM-backed. */
    cap_result (*pci_bar_dirty)(struct pdm_dev *dev, struct pci_function *fn, unsigned bar,
                                uint64_t *bitmap);

    /* ---- network attachments (ABI 10; "network adapters" above) ---- */
    /* net_attach: the backend the configuration puts on this device
     * (construct only): CAP_OK and *out, or CAP_FALSE_RESULT and NULL when
     * there is none; CAP_E_ALREADY_REGISTERED when attached twice; the
     * port table must outlive the device. net_send: a frame to the host
     * side (copied): CAP_OK queued, CAP_FALSE_RESULT dropped (queue full,
     * or a length outside PDM_NET_FRAME_MIN..PDM_NET_FRAME_MAX). */
    cap_result (*net_attach)(struct pdm_dev *dev, const struct pdm_net_port *port, void *user,
                             struct pdm_net **out);
    cap_result (*net_send)(struct pdm_net *net, const void *frame, size_t len);

    /* ---- saved state as fields (ABI 11; ops->save_state/load_state) ---- */
    const struct ssm_field_ops *ssm;
};

/* A device instance, as the device sees it. Filled by PDM; read-only. */
struct pdm_dev {
    uint32_t abi;                 /* PDM_DEVREG_ABI */
    const struct pdm_hlp *hlp;    /* the VMM's services */
    void *data;                   /* instance_size zeroed bytes, owned by PDM */
    const struct pdm_devreg *reg; /* the device's own table */
    unsigned instance;            /* 0 for the first instance of this device */
    const char *name;             /* "serial0" */
    void *vmm;                    /* PDM's private instance data: do not touch */
};

/* ---- exporting the table as a component ---------------------------------- */

/* The registry hands a device component out as this object for PDM_IID_DEVREG:
 * an ISupports whose only job is to carry the table. Static, never freed. */
struct pdm_devreg_obj {
    const struct ISupportsVtbl *vtbl;
    const struct pdm_devreg *devreg;
};

/* {fc83ac18-2b4a-446f-aae8-924529870e41} */
#define PDM_IID_DEVREG_INIT                                                                        \
    {                                                                                              \
        {                                                                                          \
            0xfc, 0x83, 0xac, 0x18, 0x2b, 0x4a, 0x44, 0x6f, 0xaa, 0xe8, 0x92, 0x45, 0x29, 0x87,    \
                0x0e, 0x41                                                                         \
        }                                                                                          \
    }
#define PDM_IID_ISUPPORTS_INIT                                                                     \
    {                                                                                              \
        {                                                                                          \
            0, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0x46                                   \
        }                                                                                          \
    }

/*
 * Defines the component for device table `devreg` with class ID `cid`
 * (a cap_uuid) and the name `nm` (a string literal equal to devreg.name):
 * component "dev-NAME", one class "NAME" with contract
 * "@capsule.org/pdm/device/NAME;1", and the component entry symbol.
 * Nothing runs at load time.
 */
#define PDM_DEVICE_COMPONENT(devreg, cid, nm)                                                      \
    static cap_result pdmc_qi(ISupports *self, const cap_uuid *iid, void **out)                    \
    {                                                                                              \
        static const cap_uuid iid_reg = PDM_IID_DEVREG_INIT, iid_sup = PDM_IID_ISUPPORTS_INIT;     \
        if (!out || !iid)                                                                          \
            return CAP_E_POINTER;                                                                  \
        *out = NULL;                                                                               \
        if (memcmp(iid, &iid_reg, sizeof(*iid)) && memcmp(iid, &iid_sup, sizeof(*iid)))            \
            return CAP_E_NOINTERFACE;                                                              \
        *out = self;                                                                               \
        return CAP_OK;                                                                             \
    }                                                                                              \
    static uint32_t pdmc_ref(ISupports *self)                                                      \
    {                                                                                              \
        return 1;                                                                                  \
    }                                                                                              \
    static const struct ISupportsVtbl pdmc_vtbl = {pdmc_qi, pdmc_ref, pdmc_ref};                   \
    static const struct pdm_devreg_obj pdmc_obj = {&pdmc_vtbl, &(devreg)};                         \
    static cap_result pdmc_create(struct cap_registry *reg, void *ctx, const cap_uuid *iid,        \
                                  void **out)                                                      \
    {                                                                                              \
        return pdmc_qi((ISupports *)&pdmc_obj, iid, out);                                          \
    }                                                                                              \
    static const struct cap_component_class pdmc_classes[] = {                                     \
        {&(cid), PDM_DEVICE_CONTRACT_PREFIX nm ";1", nm, pdmc_create},                             \
    };                                                                                             \
    static const struct cap_component pdmc_component = {                                           \
        .abi = CAP_COMPONENT_ABI,                                                                  \
        .name = "dev-" nm,                                                                         \
        .n_classes = 1,                                                                            \
        .classes = pdmc_classes,                                                                   \
    };                                                                                             \
    CAP_COMPONENT_DEFINE(pdmc_component)

#ifdef __cplusplus
}
#endif

#endif /* CAPSULE_VMM_PDMDEV_H */
