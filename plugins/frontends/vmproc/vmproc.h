/*
 * plugins/frontends/vmproc/vmproc.h - the VM process's logic, apart from
 * its main(): options, the machine's device list, building the VM, loading
 * the boot image, running a frontend beside it and turning the way the VM
 * ended into an exit status. capsule-vm's standalone mode (main.c) uses it
 * with options from the command line; the managed mode (--startvm, spawned
 * by capsule-svc) fills struct vmproc_opts from the machine's settings.
 *
 * Exit statuses. The guest's own status is the debug-exit code (V<<1)|1
 * (QEMU's isa-debug-exit convention, low 8 bits): always odd. capsule-vm's
 * own statuses are therefore even, so a script can always tell the guest's
 * verdict from the VMM's:
 *   0                    powered off without a debug-exit code (guest
 *                        power-off, ACPI S5, SIGINT/SIGTERM, the API)
 *   odd: (V<<1)|1 & 0xff the guest wrote V to the debug-exit port
 *   VMPROC_EXIT_USAGE    bad arguments
 *   VMPROC_EXIT_FAILURE  no VM ran: setup failed (bad image, unknown
 *                        device, engine not available, no /dev/kvm)
 *   VMPROC_EXIT_ABORTED  the VM aborted (triple fault, emulation failure,
 *                        device/engine failure), "aborted: REASON" on stderr
 *
 * Threads: everything on the main thread; vmproc_create blocks SIGINT,
 * SIGTERM and SIGHUP in the calling thread first, so every thread started
 * afterwards (vCPU, frontend) inherits the mask.
 */
#ifndef PLUGINS_FRONTENDS_VMPROC_H
#define PLUGINS_FRONTENDS_VMPROC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <capsule/result.h>

#include "em/em.h"
#include "vnc/vnc.h"

#define VMPROC_EXIT_OK      0
#define VMPROC_EXIT_USAGE   2
#define VMPROC_EXIT_FAILURE 4
#define VMPROC_EXIT_ABORTED 6
/* The status of a debug-exit write of `v` (odd: never one of the above). */
#define VMPROC_EXIT_DEBUG(v) ((int)((((unsigned)(v) << 1) | 1u) & 0xffu))

#define VMPROC_MAX_EXTRA_DEVICES 16
#define VMPROC_MAX_DRIVES        16
#define VMPROC_BIOS_DEFAULT      "/usr/share/seabios/bios-256k.bin"
#define VMPROC_BOOT_DEFAULT      "floppy,dvd,disk"
#define VMPROC_LOG_MAX_DEFAULT   ((uint64_t)16 << 20)

/* One --drive: a drive on a storage controller's port and device, and
 * its medium. */
struct vmproc_drive {
    const char *bus;    /* "ide" (the only controller of this build) */
    unsigned port;      /* ide: the channel, 0-1 */
    unsigned device;    /* ide: master 0, slave 1 */
    bool cdrom;         /* media=cdrom: a DVD drive, read-only */
    bool readonly;      /* readonly=on */
    const char *format; /* "raw", "vdi", "iso"; NULL: probed */
    const char *file;   /* NULL: an empty DVD drive */
};

#define VMPROC_MAX_NICS    4
#define VMPROC_MAX_HOSTFWD 16

/* One hostfwd= of --nic: the host's address and port (host byte order) to
 * the guest's (guest_addr 0: the guest's DHCP address, 10.0.2.15). */
struct vmproc_hostfwd {
    bool udp;
    uint32_t host_addr;
    uint16_t host_port;
    uint32_t guest_addr;
    uint16_t guest_port;
};

/* One --nic (vmproc_nic.c): an adapter and its attachment. */
struct vmproc_nic {
    const char *attachment; /* "nat" */
    const char *model;      /* "e1000" (the default) or "virtio" */
    char mac[18];           /* "" : 52:54:00:12:34:56 + the adapter's index */
    bool link;              /* link=on (default) */
    struct vmproc_hostfwd fwd[VMPROC_MAX_HOSTFWD];
    unsigned n_fwd;
    const char *trace; /* trace=FILE: a pcap of every frame; NULL: none */
};

struct vmproc_opts {
    const char *kernel; /* required unless firmware is "bios" (then refused) */
    /* "none" (default: the loader boots `kernel` directly, again at every
     * reset) or "bios": power on at the reset vector in `bios_image`
     * (default VMPROC_BIOS_DEFAULT, Debian's seabios package), with fw_cfg
     * files for SeaBIOS (etc/e820, its serial console on COM1) */
    const char *firmware;
    /* "vga": the PCI VGA and the virtio tablet (without a BIOS the VGA
     * starts in text mode 3 and the loader says so in Linux's
     * screen_info); "none": neither; NULL: the firmware's default (a BIOS
     * machine has them, a direct boot not) */
    const char *graphics;
    const char *bios_image;
    /* firmware "bios": the BIOS's boot order, up to three of floppy, disk,
     * dvd, net comma-separated (checked by the rtc device, which keeps it
     * in CMOS); default VMPROC_BOOT_DEFAULT, VirtualBox's */
    const char *boot_order;
    const char *initrd;
    const char *append;
    uint64_t memory_mb; /* default 64 */
    /* More guest RAM than the host has is refused (vm_create) unless
     * forced: --force-memory, or CAPSULE_FORCE_MEMORY=1 in the environment
     * (the managed mode's way; vmproc_opts_init reads it). */
    bool force_memory;
    /* The VM log's bound in bytes (VMM lines on stderr): past it lines are
     * dropped, said once and counted at the end. --log-max or
     * CAPSULE_VM_LOG_MAX; default VMPROC_LOG_MAX_DEFAULT; 0: no bound. */
    uint64_t log_max;
    unsigned cpus; /* 1 */
    enum vm_engine engine;
    const char *cpu_profile; /* a name of cpum_profile.h's table; NULL: "host" */
    const char *serial;      /* "stdio" (default), "file:PATH", "unix:PATH", "none";
                              * NULL: no COM1 device at all */
    uint16_t serial_iobase;  /* 0x3f8 */
    unsigned serial_irq;     /* 4 */
    bool debug_exit;
    bool stats;
    const char *frontend; /* "headless", "sdl" (--frontend, --display) */
    const char *name;     /* the VM's name (--name; managed: the machine's); NULL: "capsule-vm" */
    /* --screenshot FILE: the screen (the vga device) as PNG when the VM
     * stops and on SIGUSR1; NULL: none */
    const char *screenshot;
    /* --input-feed PATH: keyboard and pointer input from a file or FIFO
     * while the VM runs (vmproc_inputfeed.h); NULL: none */
    const char *input_feed;
    /* --restore FILE: a saved state (the input feed's `save FILE`) applied
     * before the VM starts, which then goes on where it was saved; the
     * stream is verified first and another machine is refused; NULL: none */
    const char *restore;
    /* the managed machine's id, its SMBIOS system UUID (without one: a
     * UUID derived from the options) */
    bool has_machine_uuid;
    cap_uuid machine_uuid;
    /* --device NAME[,key=value...]: devices beyond the defaults, or new keys
     * for a default one (pic, pit, port80, rtc, i8042, fwcfg, apic, ioapic,
     * acpipm, pci, hpet) */
    const char *extra_devices[VMPROC_MAX_EXTRA_DEVICES];
    unsigned n_extra_devices;
    /* --no-device NAME: default devices left out */
    const char *disabled_devices[VMPROC_MAX_EXTRA_DEVICES];
    unsigned n_disabled_devices;
    uint64_t start_ns; /* CLOCK_MONOTONIC at main() entry, for the start-up time */
    /* --drive if=ide,port=N,device=N,media=disk|cdrom[,readonly=on]
     * [,format=F][,file=PATH] (repeatable): the drives; strings point into
     * the argument (file= is its rest) */
    struct vmproc_drive drives[VMPROC_MAX_DRIVES];
    unsigned n_drives;
    /* --vrde port=N[,address=A][,password-file=F]: the remote display
     * server (VNC, vmproc_vrde.h) runs from the start; the managed mode
     * fills these from the machine's VRDE settings (vrde false: off until
     * IConsole switches it on). The strings point into the argument (the
     * password, in the managed mode, into its settings). */
    bool vrde;
    struct vnc_config vrde_cfg;
    const char *vrde_password_file;
    /* --nic nat[,model=e1000|virtio][,mac=M][,link=on|off][,hostfwd=R]...
     * [,trace=FILE] (repeatable): the network adapters, in order */
    struct vmproc_nic nics[VMPROC_MAX_NICS];
    unsigned n_nics;
    /* the machine's adapter slot (0-based) of each of nics[]: i by
     * default; the managed mode's enabled slots (controlvm setlinkstateN) */
    unsigned nic_slot[VMPROC_MAX_NICS];
};

/* Defaults for every field. */
void vmproc_opts_init(struct vmproc_opts *o);
/* Whether the machine boots through the BIOS (firmware "bios"). */
bool vmproc_opts_bios(const struct vmproc_opts *o);

/*
 * Parses capsule-vm's standalone command line. Returns 0 (run), 1 (--help
 * printed to `out`, exit 0) or -1 (error printed to `err`: exit
 * VMPROC_EXIT_USAGE).
 */
int vmproc_parse_args(int argc, char **argv, struct vmproc_opts *o, FILE *out, FILE *err);
void vmproc_usage(FILE *f);
/* One --drive argument (vmproc_drive.c): 0, or -1 with the reason on
 * `err` (a usage error). vmproc_add_drive also refuses a second drive on
 * the same port and device. `spec` must outlive the options. */
int vmproc_parse_drive(const char *spec, struct vmproc_drive *d, FILE *err);
int vmproc_add_drive(struct vmproc_opts *o, const char *spec, FILE *err);

/* One --nic argument (vmproc_nic.c): 0, or -1 with the reason on `err`
 * (a usage error); vmproc_add_nic also bounds their number. `spec` must
 * outlive the options. */
int vmproc_parse_nic(const char *spec, struct vmproc_nic *n, FILE *err);
int vmproc_add_nic(struct vmproc_opts *o, const char *spec, FILE *err);

struct vmproc;

/* Builds the VM and loads the image. Error info says what failed. */
cap_result vmproc_create(const struct vmproc_opts *o, struct vmproc **out);
/* Starts the VM and the frontend, waits for the VM to end, prints --stats,
 * returns the exit status. */
int vmproc_run(struct vmproc *p);
/* vmproc_run in two steps, for the managed mode: vmproc_start attaches the
 * frontend and starts the VM (error info on failure); vmproc_finish waits
 * for the VM to end, detaches the frontend, prints --stats and returns the
 * exit status (the VM's end state through *state if not NULL). */
cap_result vmproc_start(struct vmproc *p);
int vmproc_finish(struct vmproc *p, enum vm_state *state);
/* How the engine was chosen, as EM logged it at vm_create ("engine hm
 * (asked: auto): ..."); "" if it did not say. */
const char *vmproc_engine_reason(struct vmproc *p);
struct vm *vmproc_vm(struct vmproc *p);
/* The VM's display hub (display/display.h), created with the VM. */
struct fe_display *vmproc_display(struct vmproc *p);
/* The VM's remote display server (vmproc_vrde.h), made with the VM. */
struct vmproc_vrde *vmproc_vrde(struct vmproc *p);
/* The host changes the medium of the VM's drive on `bus` ("ide", ...),
 * `port`, `device` (controlvm dvdattach): pdm_drive_set_medium on the
 * drive --drive made there; `path` NULL ejects. CAP_E_INVALIDARG
 * when there is no such drive. Any thread but a device op's. */
cap_result vmproc_set_medium(struct vmproc *p, const char *bus, unsigned port, unsigned device,
                             const char *path, bool force);
/* The running VM's network adapter of machine slot `slot` (opts.nic_slot):
 * its cable in or out (pdm_net_set_link), or a port forward of its NAT
 * added or removed (pdm_net_hostfwd). CAP_E_INVALIDARG when the VM has no
 * adapter there. Any thread but a device op's. */
cap_result vmproc_nic_set_link(struct vmproc *p, unsigned slot, bool up);
cap_result vmproc_nic_hostfwd(struct vmproc *p, unsigned slot, const struct vmproc_hostfwd *f,
                              bool add);
/* The rule "name,tcp|udp,[hostip],hostport,[guestip],guestport" (the
 * API's, controlvm natpf) as a forward, name copied to name[64]: 0, or -1
 * with the reason in why (vmproc_nic.c). */
int vmproc_parse_natpf(const char *rule, struct vmproc_hostfwd *f, char name[64], char *why,
                       size_t size);
void vmproc_destroy(struct vmproc *p);

#endif /* PLUGINS_FRONTENDS_VMPROC_H */
