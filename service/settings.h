/*
 * service/settings.h - the settings files of capsule-svc, as plain C data.
 *
 * Two kinds of XML file hold everything the service must remember:
 *  - the global file HOME/capsule.xml: the registered machines (UUID and
 *    settings path, in registration order), the media registry (hard disk
 *    and DVD images by UUID, path and format), the global defaults of
 *    ISystemProperties and the global extra data;
 *  - one file per machine, BASE/NAME/NAME.capsule: the machine's settings,
 *    its extra data, and its state at rest (Saved/Aborted) with the time it
 *    was reached (and, for Aborted, why it aborted).
 * Both carry a format version; a file newer than SETTINGS_VERSION is refused.
 *
 * This module only converts between files and the structs below; it knows
 * nothing of objects or locks, so that the libFuzzer target (fuzz_settings.c)
 * and the unit tests drive it directly. Reading goes through expat into a
 * small element tree (settings_xml.c); every error is CAP_E_XML_ERROR or
 * CAP_E_FILE_ERROR with error info "FILE:LINE: message". Writing builds the
 * text in memory with proper escaping and replaces the file atomically
 * (settings_write_atomic), keeping the previous version as FILE-prev.
 *
 * Strings in these structs are allocated with cap_alloc/cap_str_dup and
 * owned by the struct; the *_clear functions free them and accept
 * half-filled structs (zero-initialise before filling).
 */
#ifndef CAPSULE_SVC_SETTINGS_H
#define CAPSULE_SVC_SETTINGS_H

#include <capsule/capsule.h>
#include <capsule/natrule.h>

#define SETTINGS_VERSION      1u
#define SETTINGS_SERIAL_SLOTS 4u
#define SETTINGS_MAX_FILE     (4u * 1024u * 1024u) /* larger files are refused */
#define SETTINGS_CMDLINE_MAX  4095u
/* The longest CPU profile name a file may hold (the names themselves are
 * the VMM's, vmm/cpum/cpum_profile.h; this only bounds unknown ones). */
#define SETTINGS_CPU_PROFILE_MAX     63u
#define SETTINGS_CPU_PROFILE_DEFAULT "host"
#define SETTINGS_COMPONENT           "capsule-svc"
/* Storage: at most this many controllers and attached drives per machine
 * (bounds for hostile files; VirtualBox's own limits are per bus). */
#define SETTINGS_MAX_CONTROLLERS 8u
#define SETTINGS_MAX_ATTACHMENTS 64u
#define SETTINGS_CTL_NAME_MAX    63u
#define SETTINGS_BOOT_SLOTS      4u

struct kv_list {
    char **keys;
    char **values;
    uint32_t n;
};

struct serial_cfg {
    cap_bool enabled;
    uint16_t io_base;
    uint32_t irq;
    PortMode mode;
    char *path; /* never NULL once initialised */
};

/* One storage controller (<StorageController>). */
struct storage_ctl_cfg {
    char *name;                 /* unique in the machine, 1..SETTINGS_CTL_NAME_MAX bytes */
    StorageBus bus;             /* IDE, SATA or VirtIO */
    StorageControllerType type; /* the bus's own (settings_bus_default_type) */
    uint32_t port_count;        /* 1..settings_bus_max_ports (IDE: 2) */
    cap_bool bootable;
};

/* One drive attached to a controller (<AttachedDevice>); the medium is
 * named by its UUID in the media registry (null: an empty DVD drive). */
struct attachment_cfg {
    char *controller; /* a storage_ctl_cfg's name */
    int32_t port;
    int32_t device;
    DeviceType type; /* HardDisk or DVD */
    cap_uuid medium;
};

/* The remote display server (IVRDEServer, settings_vrde.c): its
 * properties as text, never NULL once initialised; each one checked by
 * settings_vrde_set. */
#define SETTINGS_VRDE_PORT_DEFAULT "5900"
#define SETTINGS_VRDE_PASSWORD_MAX 255u
struct vrde_cfg {
    cap_bool enabled;
    char *ports;    /* "TCP/Ports": one port, 0..65535 (0: a free one) */
    char *address;  /* "TCP/Address": a numeric IPv4 address, "": 127.0.0.1 */
    char *password; /* "VNCPassword": "" for none */
};

/* Networking (INetworkAdapter, INATEngine; settings_net.c). Fixed-size
 * text, so that copying a machine_cfg copies them with it. */
#define SETTINGS_NIC_SLOTS 4u
#define SETTINGS_NAT_RULES 16u /* per adapter, as capsule-vm's hostfwd= */
#define SETTINGS_MAC_LEN   12u /* hex digits, VirtualBox's form */
struct nic_cfg {
    cap_bool enabled;
    NetworkAdapterType type;        /* I82540EM or Virtio */
    char mac[SETTINGS_MAC_LEN + 1]; /* upper-case hex, unicast; "" only while disabled */
    cap_bool cable;
    NetworkAttachmentType attachment; /* Null or NAT */
    cap_bool trace;
    char *trace_file;                              /* absolute or ""; never NULL once initialised */
    struct cap_nat_rule rules[SETTINGS_NAT_RULES]; /* capsule/natrule.h */
    uint32_t n_rules;
};

/* Every setting a machine's setters change (what discardSettings resets). */
struct machine_cfg {
    char *name;
    char *description;
    char *os_type;
    /* MB and vCPUs: the setters hold them to this build's limits
     * (platform/platform_limits.h); a file may hold more (settings_machine.c) */
    uint32_t memory;
    uint32_t cpus;
    ExecutionEngine engine;
    /* The CPU profile's name, as set or as the file had it: this module
     * does not check it against the profile table (a name this build lacks
     * keeps the machine accessible; powering up refuses it). */
    char *cpu_profile;
    char *kernel;
    char *initrd;
    char *cmdline;
    cap_bool debug_exit;
    struct serial_cfg serial[SETTINGS_SERIAL_SLOTS];
    FirmwareType firmware;                /* None (direct kernel boot) or BIOS */
    GraphicsControllerType graphics;      /* VGA (default) or Null */
    DeviceType boot[SETTINGS_BOOT_SLOTS]; /* positions 1..4: HardDisk, DVD or Null */
    struct storage_ctl_cfg *ctls;         /* in the order they were added */
    uint32_t n_ctls;
    struct attachment_cfg *atts; /* in the order they were attached */
    uint32_t n_atts;
    struct vrde_cfg vrde;
    struct nic_cfg nic[SETTINGS_NIC_SLOTS];
};

/* The whole content of a machine settings file. */
struct machine_file {
    cap_uuid id;
    struct machine_cfg cfg;
    struct kv_list extra;
    MachineState state; /* PoweredOff, Saved or Aborted */
    int64_t last_state_change;
    char *abort_reason; /* while Aborted: why (NULL or "": not known) */
};

struct global_entry {
    cap_uuid id;
    char *path;
};

/* One medium of the media registry (<MediaRegistry>): a hard disk (VDI,
 * RAW) or a DVD image (ISO), by UUID and absolute image path. What the
 * image itself says (size, variant) is read from it, never kept here. */
struct medium_entry {
    cap_uuid id;
    char *location;
    char *format;    /* "VDI", "RAW", "ISO" */
    DeviceType type; /* HardDisk or DVD */
};

struct global_file {
    struct global_entry *machines;
    uint32_t n_machines;
    struct medium_entry *media; /* hard disks and DVD images, in registration order */
    uint32_t n_media;
    struct kv_list extra;
    char *default_machine_folder; /* "" for the default */
    char *default_frontend;       /* "" for the default */
    uint32_t log_history_count;
    uint32_t idle_timeout;
};

/* --- machine_cfg / kv_list helpers (settings_data.c) ------------------- */

/* Fills cfg with the defaults (strings "", serial ports at their ISA
 * defaults, disabled). CAP_E_OUTOFMEMORY. */
cap_result machine_cfg_init(struct machine_cfg *cfg);
cap_result machine_cfg_copy(struct machine_cfg *dst, const struct machine_cfg *src);
void machine_cfg_clear(struct machine_cfg *cfg);
/* What saveSettings checks across settings that each setter cannot (an
 * enabled serial port in a connected mode without a path, two enabled
 * ports whose I/O ranges overlap, settings_storage_problem):
 * CAP_E_INVALIDARG naming the problem. */
cap_result machine_cfg_check(const struct machine_cfg *cfg);
void machine_file_clear(struct machine_file *mf);
void global_file_clear(struct global_file *gf);

/* --- the remote display server (settings_vrde.c) ----------------------- */

/* The property names, NULL-terminated: TCP/Ports, TCP/Address, VNCPassword. */
extern const char *const settings_vrde_keys[];
/* Defaults (off, port SETTINGS_VRDE_PORT_DEFAULT); CAP_E_OUTOFMEMORY. */
cap_result settings_vrde_init(struct vrde_cfg *c);
/* dst is overwritten (not cleared first); CAP_E_OUTOFMEMORY leaves it for
 * settings_vrde_clear. */
cap_result settings_vrde_copy(struct vrde_cfg *dst, const struct vrde_cfg *src);
void settings_vrde_clear(struct vrde_cfg *c);
/* The property's value, NULL for an unknown key. */
const char *settings_vrde_get(const struct vrde_cfg *c, const char *key);
/* Checks and sets a property (value NULL or "": its default);
 * CAP_E_INVALIDARG naming the key and the problem. */
cap_result settings_vrde_set(struct vrde_cfg *c, const char *key, const char *value);
/* TCP/Ports as a number, -1 if it is not one. */
int settings_vrde_port(const struct vrde_cfg *c);

/* --- networking (settings_net.c) ------------------------------------- */

/* Slot defaults: disabled, I82540EM, no MAC, cable in, Null, no trace.
 * CAP_E_OUTOFMEMORY. */
cap_result settings_nic_init(struct nic_cfg *n);
/* dst overwritten; CAP_E_OUTOFMEMORY leaves it for settings_nic_clear. */
cap_result settings_nic_copy(struct nic_cfg *dst, const struct nic_cfg *src);
void settings_nic_clear(struct nic_cfg *n);
/* A new MAC address, 080027 and three random bytes (VirtualBox's OUI). */
void settings_mac_generate(char out[SETTINGS_MAC_LEN + 1]);
/* "080027ab12cd" or "08:00:27:AB:12:CD" -> "080027AB12CD": NULL, or why
 * not (a multicast address, not 12 hex digits). */
const char *settings_mac_normalise(const char *in, char out[SETTINGS_MAC_LEN + 1]);
/* "82540EM" / "virtio"; NULL for others. */
const char *settings_nic_type_name(NetworkAdapterType t);
/* Checks rule r against the adapter's other rules and appends it:
 * CAP_E_INVALIDARG naming the problem (error info, interface `iface`). */
cap_result settings_nat_add(struct nic_cfg *n, const struct cap_nat_rule *r, const char *iface);
/* Removes the rule called name; CAP_E_INVALIDARG if there is none. */
cap_result settings_nat_remove(struct nic_cfg *n, const char *name, const char *iface);
/* What saveSettings checks of the adapters (a trace without a file, an
 * enabled adapter without a MAC): NULL, or the problem in buf. */
const char *settings_net_problem(const struct machine_cfg *c, char *buf, size_t size);

/* --- storage (settings_storage.c) ------------------------------------- */

/* The bus's limits and defaults; 0 / Null for an unknown bus. */
uint32_t settings_bus_max_ports(StorageBus bus);
uint32_t settings_bus_max_devices(StorageBus bus);
StorageControllerType settings_bus_default_type(StorageBus bus);
/* Names: "IDE"/"SATA"/"VirtIO"; "PIIX3"/"AHCI"/"VirtIO" (the file's
 * spelling of a type, VirtualBox's); "HardDisk"/"DVD"/"None". NULL or
 * "?" for unknown values. */
const char *settings_bus_name(StorageBus bus);
const char *settings_ctl_type_name(StorageControllerType t);
const char *settings_device_name(DeviceType t);
/* The controller called name / the attachment at a slot, or NULL. */
struct storage_ctl_cfg *settings_find_ctl(const struct machine_cfg *c, const char *name);
struct attachment_cfg *settings_find_att(const struct machine_cfg *c, const char *ctl, int32_t port,
                                         int32_t device);
/* Whether (port, device) exists on ctl: NULL, or why not ("port 2 is out
 * of range 0..1 of the IDE controller 'IDE'") in buf. */
const char *settings_slot_problem(const struct storage_ctl_cfg *ctl, int32_t port, int32_t device,
                                  char *buf, size_t size);
/* The storage settings' consistency (unique controller names, each
 * attachment on an existing controller, in range, one per slot, a medium
 * attached once): NULL, or the problem in buf. */
const char *settings_storage_problem(const struct machine_cfg *c, char *buf, size_t size);
/* Appends a controller / attachment (copies the strings). CAP_E_OUTOFMEMORY. */
cap_result settings_add_ctl(struct machine_cfg *c, const char *name, StorageBus bus);
cap_result settings_add_att(struct machine_cfg *c, const struct attachment_cfg *a);
/* Removes entry i (keeping the order). */
void settings_remove_ctl(struct machine_cfg *c, uint32_t i);
void settings_remove_att(struct machine_cfg *c, uint32_t i);
/* Copies / frees the storage part of a machine_cfg (machine_cfg_copy and
 * machine_cfg_clear call them). */
cap_result settings_storage_copy(struct machine_cfg *dst, const struct machine_cfg *src);
void settings_storage_clear(struct machine_cfg *c);

/* Returns the value of key or NULL. */
const char *kv_get(const struct kv_list *l, const char *key);
/* Sets (value non-empty) or removes (value NULL or "") key. */
cap_result kv_set(struct kv_list *l, const char *key, const char *value);
cap_result kv_copy(struct kv_list *dst, const struct kv_list *src);
void kv_clear(struct kv_list *l);

/* 1 if s is valid UTF-8 without control characters other than tab,
 * newline and carriage return (what an XML 1.0 file can hold). */
int settings_text_ok(const char *s);

/* Text forms used in the files (and by nothing else). */
const char *settings_engine_name(ExecutionEngine e);
const char *settings_port_mode_name(PortMode m);
const char *settings_state_name(MachineState s);

/* --- files ---------------------------------------------------------- */

/*
 * Parses a machine settings file held in memory; `file` names it in
 * messages. CAP_OK, or CAP_E_XML_ERROR with "FILE:LINE: message".
 * *out is cleared first and is empty on failure.
 */
cap_result settings_parse_machine(const char *file, const char *buf, size_t len,
                                  struct machine_file *out);
/* Reads and parses `path`; CAP_E_FILE_ERROR when it cannot be read. */
cap_result settings_read_machine(const char *path, struct machine_file *out);
/* The file's text (caller frees with cap_free), NULL on out of memory. */
char *settings_format_machine(const struct machine_file *mf, size_t *len);

cap_result settings_parse_global(const char *file, const char *buf, size_t len,
                                 struct global_file *out);
/* A missing file gives CAP_FALSE_RESULT and an empty, defaulted *out. */
cap_result settings_read_global(const char *path, struct global_file *out);
char *settings_format_global(const struct global_file *gf, size_t *len);
/* Fills gf with the defaults (no machines). */
cap_result global_file_init(struct global_file *gf);

/*
 * Replaces `path` with `buf` atomically: writes PATH.tmp, fsyncs it, keeps
 * the current file (if any) as PATH-prev, renames PATH.tmp over PATH and
 * fsyncs the folder. On failure the file at PATH is unchanged.
 * CAP_E_FILE_ERROR with the path and errno text.
 */
cap_result settings_write_atomic(const char *path, const char *buf, size_t len);

/* Reads a whole file (at most SETTINGS_MAX_FILE bytes) into a NUL-terminated
 * buffer (cap_free). CAP_E_FILE_ERROR. */
cap_result settings_slurp(const char *path, char **buf, size_t *len);

#endif /* CAPSULE_SVC_SETTINGS_H */
