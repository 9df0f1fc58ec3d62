/*
 * plugins/frontends/vmproc/managed.h - capsule-vm's managed mode
 * (`capsule-vm --startvm UUID --home HOME [--type FRONTEND]`, spawned by
 * capsule-svc for IMachine's launchVMProcess).
 *
 * The process connects to the service of HOME, locks the machine with
 * LockType VM through its own session object (struct console: ISession,
 * IInternalSessionControl, IConsole and IMachineDebugger in one object,
 * console.c; its IMachineDebugger methods in debugger.c), builds the VM
 * from the machine's settings (managed.c, on vmproc.h), powers it up and
 * reports Running and endPowerUp to the service; then other processes
 * reach the IConsole through the service (IInternalSessionControl's
 * remoteConsole). When the VM ends (guest power-off, IConsole's powerDown,
 * SIGTERM, abort) the final state is reported, the lock released and the
 * process exits.
 *
 * State reporting: every change of the machine state is reported to the
 * service (IInternalMachineControl's updateState) by the thread that made
 * it, before the console call that made it returns, so a client that saw
 * `controlvm pause` succeed sees Paused in showvminfo. EM's state_changed
 * callback runs under the VM's lock and is not used for this.
 */
#ifndef PLUGINS_FRONTENDS_VMPROC_MANAGED_H
#define PLUGINS_FRONTENDS_VMPROC_MANAGED_H

#include <stdbool.h>

#include <capsule/capsule.h>

#include "vmproc.h"

struct console;

/* capsule-vm's main() for --startvm: returns the process exit status. */
int vmproc_managed_main(int argc, char **argv);

/* ---- the machine's firmware and drives as capsule-vm options ------------- */

/* One attached drive of the machine, as the service describes it. */
struct managed_drive {
    const char *bus; /* "ide", "sata" or "virtio" */
    int32_t port, device;
    bool cdrom;         /* a DVD drive (read-only) */
    bool readonly;      /* a hard disk opened read-only */
    const char *format; /* "vdi", "raw", "iso"; NULL: detected */
    const char *file;   /* NULL: an empty DVD drive */
};

/* The machine's boot settings: firmware BIOS (boot[] the IMachine boot
 * order, positions 1..4) or direct kernel boot (kernel, initrd, append;
 * NULL for none); and its graphics controller (vga false: none). */
struct managed_boot {
    bool bios;
    bool vga;
    DeviceType boot[4];
    const char *kernel, *initrd, *append;
};

/*
 * Builds the standalone options that say the same as the machine's
 * firmware, boot order and drives, so that the managed mode parses them
 * with capsule-vm's own parser (vmproc_parse_args) and both modes agree:
 *   capsule-vm --firmware bios --boot LIST --graphics G --drive SPEC...
 *   capsule-vm --kernel K [--initrd I] [--append A] --graphics G --drive SPEC...
 * G is vga or none (said either way: the machine's setting, not capsule-vm's
 * default, which depends on the firmware). LIST is the boot order's devices (disk, dvd) in order,
 * each once, at most three; SPEC is `if=BUS,port=N,device=N,media=disk|cdrom
 * [,readonly=on][,format=F][,file=PATH]` (file last: the path verbatim).
 * *argv is NULL-terminated; free it with managed_args_free. CAP_E_INVALIDARG
 * (error info) for a BIOS machine whose boot order is empty, or a direct
 * boot without a kernel.
 */
cap_result managed_build_args(const struct managed_boot *b, const struct managed_drive *d,
                              unsigned n, int *argc, char ***argv);
void managed_args_free(int argc, char **argv);

/* One enabled network adapter of the machine, as the service describes it
 * (INetworkAdapter, INATEngine). */
struct managed_nic {
    unsigned slot;            /* 0-based (messages say slot + 1) */
    bool virtio;              /* else the 82540EM */
    const char *mac;          /* 12 hex digits (080027AB12CD) */
    bool cable;               /* cableConnected */
    bool nat;                 /* attachment NAT (else Null: refused) */
    const char *const *rules; /* "name,tcp|udp,[hostip],hostport,[guestip],guestport" */
    unsigned n_rules;
    const char *trace; /* the pcap file; NULL: no trace */
};

/*
 * Appends to the vector (managed_build_args' argc and argv) one option per
 * adapter, in slot order:
 *   --nic nat,model=e1000|virtio,mac=08:00:27:AB:12:CD,link=on|off
 *         [,hostfwd=tcp|udp:HOSTIP:HOSTPORT-GUESTIP:GUESTPORT]...[,trace=FILE]
 * (vmproc_nic.c's form; a rule's empty addresses stay empty, the
 * defaults being the same). CAP_E_INVALIDARG (error info) for an adapter
 * attached to nothing (Null: not in this build) or a rule not in the form;
 * CAP_E_OUTOFMEMORY. On failure the vector is as it was.
 */
cap_result managed_build_nic_args(const struct managed_nic *n, unsigned count, int *argc,
                                  char ***argv);
/* The enabled adapters of m, read over the API, appended as above; their
 * slots in order into slots[] (vmproc_opts' nic_slot). */
cap_result managed_read_nics(IMachine *m, int *argc, char ***argv, unsigned slots[VMPROC_MAX_NICS]);

/* ---- console.c ---------------------------------------------------------- */

/* A new console/session object (refcount 1), not locked, no VM. */
cap_result console_create(struct console **out);
ISession *console_session(struct console *c);
void console_release(struct console *c);
/* The machine the service assigned (the VM lock's session machine; a new
 * reference) or NULL before the lock. */
IMachine *console_machine(struct console *c);
/*
 * Powers the VM up from `o` (strings borrowed for the call only): builds
 * it, loads the image, starts it, reports Running. Error info on failure
 * (the machine is not running then). Called once, by the main thread.
 */
cap_result console_power_up(struct console *c, const struct vmproc_opts *o);
/* Waits for the VM to end; reports PoweredOff or Aborted and releases the
 * lock (once, whoever comes first: this or powerDown). Returns the exit
 * status of vmproc_finish. */
int console_run_until_off(struct console *c);
/* IInternalMachineControl's endPowerUp: the outcome of the power-up for
 * the service's launch progress (message empty on success). */
void console_end_power_up(struct console *c, cap_result result, const char *message);
/* Reports `final` (PoweredOff/Aborted) and unlocks, if not done yet. */
void console_finish(struct console *c, MachineState final);
/* The service is gone: powers the VM off (console_run_until_off returns).
 * Any thread. */
void console_service_lost(struct console *c);
/* Waits (at most timeout_ms) until no other process holds the progress
 * objects this console returned, so that a client waiting on powerDown's
 * progress can read its result before the process exits. */
void console_linger(struct console *c, int timeout_ms);

/* ---- done_progress.c ---------------------------------------------------- */

/* An IProgress that is already complete with success (the console does its
 * work before it returns). *refs_out, if not NULL, points at its reference
 * count, read atomically by console_linger. */
cap_result done_progress_create(const char *description, IProgress **out);
uint32_t done_progress_refs(IProgress *p);

#endif /* PLUGINS_FRONTENDS_VMPROC_MANAGED_H */
