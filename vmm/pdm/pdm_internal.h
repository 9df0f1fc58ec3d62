/*
 * vmm/pdm/pdm_internal.h - PDM's private structures, shared by pdm.c (the
 * instance list, loading, dispatch), pdm_hlp.c (the helper table devices
 * call) and pdm_ssm.c (saved state).
 */
#ifndef CAPSULE_VMM_PDM_INTERNAL_H
#define CAPSULE_VMM_PDM_INTERNAL_H

#include <pthread.h>

#include "../stam/stam.h"
#include "pdm.h"

#define PDM_COMPONENT "pdm"

/* A device's configuration: copies of its typed values (strings and bytes
 * in one allocation each), and which keys the device asked for (the others
 * are typos, reported after construct). pdm_cfg.c. */
struct pdm_cfg {
    size_t n;
    struct pdm_cfg_value *v;
    bool *used;
};

/* A port or MMIO range a device registered; IOM's `user` for it. */
struct pdm_range {
    struct pdm_devinst *inst;
    void *user; /* the device's */
    uint64_t base;
    bool mmio;
    bool ram; /* a RAM-backed BAR mapped through the host's map_ram (not IOM) */
    struct pdm_range *next;
};

struct pdm_timer {
    struct pdm_devinst *inst;
    struct tm_timer *t;
    pdm_timer_fn fn;
    void *user;
    struct pdm_timer *next;
};

/* One device instance. `dev` is what the device sees; dev.vmm points back
 * here. Lifecycle: allocated and linked by instantiate, `constructed` once
 * construct ran (destruct runs for every instance whose construct was
 * called, even a failed one). */
struct pdm_devinst {
    struct pdm_dev dev;
    struct pdm *pdm;
    char name[48];
    struct pdm_cfg cfg;
    struct pdm_range *ranges;
    struct pdm_timer *timers;
    bool construct_called;
    struct pdm_devinst *next; /* construction order */
};

/* A device table given by pdm_add_devreg. */
struct pdm_builtin {
    const struct pdm_devreg *reg;
    struct pdm_builtin *next;
};

#define PDM_IRQ_LINES 24

struct pdm {
    struct pdm_create_info info;
    struct pdm_host_ops host; /* copy; zeroed if none */
    pthread_mutex_t lock;     /* recursive: the device lock */
    struct pdm_builtin *builtins;
    struct pdm_devinst *devs, *last;
    struct pdm_devinst *pic; /* the interrupt controller, if any */
    const struct pdm_pic_ops *pic_ops;
    struct pdm_devinst *apic; /* the local APIC, if any */
    const struct pdm_apic_ops *apic_ops;
    struct pdm_devinst *ioapic; /* the I/O APIC, if any */
    const struct pdm_ioapic_ops *ioapic_ops;
    bool apic_drop_logged; /* "message without a local APIC" said once */
    /* per ISA line: the device hlp->irq_latched last told "latched", to
     * wake through ops->irq_ready when the controllers reopen the line */
    struct pdm_devinst *irq_waiter[PDM_IRQ_LINES];
    /* per ISA line: the device that took it over (hlp->irq_take_over), and
     * the level the other devices last asked for */
    struct pdm_devinst *irq_owner[16];
    uint8_t irq_others[16];
    /* PCI (pdm_pci.c): the bus device and the functions on it */
    struct pdm_devinst *pci_bus;
    const struct pdm_pci_bus_ops *pci_bus_ops;
    struct pdm_pci_fn *pci_fns;
    struct pdm_blk *drives; /* pdm_add_drive's, in order (pdm_blk.c) */
    struct pdm_net *nics;   /* pdm_add_nic's, in order (pdm_net.c) */
};

extern const struct pdm_hlp pdm_hlp_table;

static inline struct pdm_devinst *pdm_inst(struct pdm_dev *dev)
{
    return (struct pdm_devinst *)dev->vmm;
}

void pdm_lock(struct pdm *pdm);
void pdm_unlock(struct pdm *pdm);

/* A counter of a drive or network attachment: a uint64_t at `off` in its
 * structure. */
struct pdm_stat_def {
    const char *name;
    size_t off;
    enum stam_unit unit;
    const char *desc;
};

/* Registers n counters of the structure at `base` in the VM's STAM registry
 * under `prefix` ("/PDM/Blk/.../", kept in prefix_buf of `len` bytes); all
 * or none (prefix_buf "" then, the error cleared: counters are not needed
 * to run). pdm_stat_deregister undoes it (nothing for ""). */
void pdm_stat_register(struct pdm *pdm, void *base, const struct pdm_stat_def *defs, size_t n,
                       const char *prefix, char *prefix_buf, size_t len);
void pdm_stat_deregister(struct pdm *pdm, const char *prefix_buf);

/* Frees a range list / timer list entry after removing it from IOM / TM. */
void pdm_release_resources(struct pdm_devinst *inst);

cap_result pdm_cfg_init(struct pdm_cfg *cfg, const struct pdm_dev_config *dc, const char *who);
void pdm_cfg_free(struct pdm_cfg *cfg);
/* CAP_OK, or CAP_E_INVALIDARG naming the first key the device never read. */
cap_result pdm_cfg_check_unused(const struct pdm_cfg *cfg, const char *who);
/* The helper table's configuration readers (pdmdev.h's cfg_*). */
cap_result pdm_hlp_cfg_string(struct pdm_dev *dev, const struct pdm_cfg *cfg, const char *key,
                              const char *def, const char **out);
cap_result pdm_hlp_cfg_int(struct pdm_dev *dev, const struct pdm_cfg *cfg, const char *key,
                           int64_t def, int64_t min, int64_t max, int64_t *out);
cap_result pdm_hlp_cfg_bool(struct pdm_dev *dev, const struct pdm_cfg *cfg, const char *key,
                            bool def, bool *out);
cap_result pdm_hlp_cfg_bytes(struct pdm_dev *dev, const struct pdm_cfg *cfg, const char *key,
                             const void **data, size_t *len);

/* PCI (pdm_pci.c): the helpers of struct pdm_hlp, and the clean-up when
 * `inst` is destructed (its functions leave the bus, their BARs IOM; the
 * bus role is dropped if it held it). pdm_pci_free at pdm_destroy. */
cap_result pdm_pci_bus_register(struct pdm_dev *dev, const struct pdm_pci_bus_ops *ops);
cap_result pdm_pci_register(struct pdm_dev *dev, int devfn, struct pci_function *fn);
void pdm_pci_set_irq(struct pdm_dev *dev, struct pci_function *fn, int level);
cap_result pdm_pci_bar_map(struct pdm_dev *bus, struct pci_function *fn, unsigned bar,
                           uint64_t addr);
cap_result pdm_pci_bar_dirty(struct pdm_dev *dev, struct pci_function *fn, unsigned bar,
                             uint64_t *bitmap);
void pdm_pci_release(struct pdm_devinst *inst);
void pdm_pci_free(struct pdm *pdm);

/* IOM's callbacks for a device's ranges (pdm_hlp.c); `user` a struct pdm_range. */
cap_result pdm_io_thunk(void *user, uint16_t port, unsigned size, bool write, uint32_t *val);
cap_result pdm_mmio_thunk(void *user, uint64_t addr, unsigned size, bool write, uint64_t *val);
/* The block layer (pdm_blk.c). detach_inst: before `inst` is destructed
 * (without the device lock): its drives stop delivering to it.
 * destroy_all: stops every drive's I/O thread, closes the media, frees
 * them (pdm_destroy, before the devices go). */
void pdm_blk_detach_inst(struct pdm_devinst *inst);
void pdm_blk_stop_all(struct pdm *pdm);
void pdm_blk_free_all(struct pdm *pdm);
cap_result pdm_hlp_blk_attach(struct pdm_dev *dev, unsigned lun, const struct pdm_blk_port *port,
                              void *user, struct pdm_blk **out);
void pdm_hlp_blk_info(struct pdm_blk *blk, struct pdm_blk_info *out);
cap_result pdm_hlp_blk_submit(struct pdm_blk *blk, struct pdm_blk_req *req);
void pdm_hlp_blk_cancel(struct pdm_blk *blk);
void pdm_hlp_blk_set_locked(struct pdm_blk *blk, bool locked);
cap_result pdm_hlp_blk_eject(struct pdm_blk *blk);

/* Network attachments (pdm_net.c): as the block layer's. */
void pdm_net_detach_inst(struct pdm_devinst *inst);
void pdm_net_stop_all(struct pdm *pdm);
void pdm_net_free_all(struct pdm *pdm);
cap_result pdm_hlp_net_attach(struct pdm_dev *dev, const struct pdm_net_port *port, void *user,
                              struct pdm_net **out);
cap_result pdm_hlp_net_send(struct pdm_net *net, const void *frame, size_t len);

/* The NAT backend (pdm_nat.c, libslirp), run by a network attachment's I/O
 * thread: every call from that thread only (slirp is single-threaded), but
 * create / destroy before it starts and after it stopped. Frames to the
 * guest go to pdm_net_deliver. */
struct pdm_nat;
struct pollfd;
cap_result pdm_nat_create(struct pdm_net *net, const struct pdm_nic_config *nc,
                          struct pdm_nat **out);
void pdm_nat_destroy(struct pdm_nat *nat);
/* Adds the backend's sockets to *pfds (grown as needed; *n used of *cap)
 * and lowers *timeout_ms to its next timer. */
cap_result pdm_nat_fill(struct pdm_nat *nat, struct pollfd **pfds, size_t *n, size_t *cap,
                        int *timeout_ms);
/* After poll: the sockets' events (pfds as filled), expired timers. */
void pdm_nat_poll(struct pdm_nat *nat, const struct pollfd *pfds, bool poll_failed);
/* A frame from the guest. */
void pdm_nat_input(struct pdm_nat *nat, const void *frame, size_t len);
/* Adds or removes a port forward on the running backend: CAP_E_FAIL (add:
 * the host port cannot be bound), CAP_E_INVALIDARG (remove: no such
 * forward), with error info. */
cap_result pdm_nat_hostfwd(struct pdm_nat *nat, const struct pdm_net_hostfwd *f, bool add);
void pdm_net_deliver(struct pdm_net *net, const void *frame, size_t len);
/* One warning line in the VM's log, naming the attachment's device. */
void pdm_net_log(struct pdm_net *net, const char *msg);

cap_result pdm_ssm_put(struct pdm_ssm *ssm, const void *buf, size_t len);
cap_result pdm_ssm_get(struct pdm_ssm *ssm, void *buf, size_t len);

#endif /* CAPSULE_VMM_PDM_INTERNAL_H */
