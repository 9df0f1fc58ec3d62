/*
 * plugins/frontends/manage/cmd_modifyvm.c - `capsule modifyvm VM [--memory MB]
 * [--cpus N] [--engine auto|hm|rem|raw] [--cpu-profile NAME] [--kernel F]
 * [--initrd F] [--cmdline S] [--debugexit on|off] [--uart1..4 IOBASE IRQ|off]
 * [--uartmode1..4 file F|server SOCKET|disconnected] [--description S]
 * [--name N] [--ostype T] [--firmware bios|none|efi] [--boot1..4 disk|dvd|none]
 * [--graphicscontroller vga|none]
 * [--vrde on|off] [--vrdeport N] [--vrdeaddress A] [--vrdeproperty K=V]...
 * [--nic1..4 nat|none] [--nictype1..4 82540EM|virtio] [--macaddress1..4 auto|HEX12]
 * [--cableconnected1..4 on|off] [--natpf1..4 RULE|delete NAME]...
 * [--nictrace1..4 on|off] [--nictracefile1..4 FILE]`.
 *
 * The VirtualBox way: every option is parsed and checked first (a usage
 * error changes nothing); then the machine is locked with a write-lock
 * session, the settings are set on the session's mutable machine, saved
 * with saveSettings, and the lock released. If any setter fails, nothing is
 * saved (unlocking discards the pending changes).
 *
 * What only the service knows is checked against it before the machine is
 * locked, and a bad value is a usage error (exit 2) like any other: --memory
 * and --cpus against ISystemProperties' limits (the CLI has none of its
 * own), --cpu-profile against its cpuProfiles (the message names the known
 * ones). --memory beyond the host's physical memory (IHost's memorySize) is
 * allowed with a warning on stderr, as VBoxManage warns.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>

#include "manage.h"
#include "netargs.h"

/* The --uartN and --uartmodeN options: one per serial port slot of the
 * settings (ISystemProperties' serialPortCount; the service refuses others). */
#define N_UARTS 4

struct uart_change {
    int has_uart, has_mode;
    struct cli_uart uart;
    PortMode mode;
    const char *path; /* as given: file and server modes */
};

struct engine_change {
    int set;
    ExecutionEngine engine;
};

/* --firmware, --graphicscontroller and --bootN: a value of an API enum, absent unless set. */
struct enum_change {
    int set;
    int value;
};

#define N_BOOT 4 /* IMachine's boot positions */

/* --vrde*: the remote display server (IVRDEServer); --vrdeport and
 * --vrdeaddress are its TCP/Ports and TCP/Address properties. */
#define N_VRDE_PROPS 8
struct vrde_change {
    struct cli_bool enabled;
    const char *keys[N_VRDE_PROPS], *values[N_VRDE_PROPS];
    char text[N_VRDE_PROPS][256]; /* --vrdeproperty's key, split from its value */
    unsigned n;
};

/* --nicN and its companions: one network adapter slot (INetworkAdapter);
 * --natpfN adds a rule or deletes one by name, in the order given. */
#define N_NATPF 16
struct nic_change {
    int set_nic, nat; /* nat or none */
    int set_type;
    NetworkAdapterType type;
    int set_mac;
    char mac[13]; /* "" : auto */
    struct cli_bool cable, trace;
    const char *trace_file;
    struct {
        int del;
        struct cap_nat_rule rule; /* delete: only the name */
    } pf[N_NATPF];
    unsigned n_pf;
};

/* The arguments; NULL strings and unset values mean "leave alone". */
struct modifyvm_args {
    const char *vm;
    const char *name, *ostype, *cmdline, *description, *kernel, *initrd, *cpu_profile;
    struct cli_u32 memory, cpus;
    struct engine_change engine;
    struct cli_bool debugexit;
    struct uart_change uart[N_UARTS];
    struct enum_change firmware;
    struct enum_change graphics;
    struct enum_change boot[N_BOOT];
    struct vrde_change vrde;
    struct nic_change nic[CLI_NIC_SLOTS];
};

/* VBoxManage's --firmware words; efi is passed on for the service to say
 * it is not in this build. */
static cap_result parse_firmware(const struct cli_arg *a, struct cli_parser *p, const char *val,
                                 void *dst)
{
    static const struct {
        const char *name;
        FirmwareType type;
    } names[] = {
        {"bios", FirmwareType_BIOS}, {"none", FirmwareType_None}, {"efi", FirmwareType_EFI}};
    struct enum_change *e = dst;
    (void)p;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcasecmp(val, names[i].name)) {
            e->set = 1;
            e->value = (int)names[i].type;
            return CAP_OK;
        }
    return cap_error_set(CAP_E_INVALIDARG, "capsule", NULL,
                         "%s: unknown firmware '%s' (bios, none or efi)", a->name, val);
}

/* --graphicscontroller: this build's one device, and none. VBoxManage's
 * other words name devices this build lacks: refused here, saying so. */
static cap_result parse_graphics(const struct cli_arg *a, struct cli_parser *p, const char *val,
                                 void *dst)
{
    static const char *const vbox[] = {"vboxvga", "vmsvga", "vboxsvga"};
    struct enum_change *e = dst;
    (void)p;
    e->set = 1;
    if (!strcasecmp(val, "vga"))
        e->value = GraphicsControllerType_VGA;
    else if (!strcasecmp(val, "none"))
        e->value = GraphicsControllerType_Null;
    else {
        for (size_t i = 0; i < sizeof(vbox) / sizeof(vbox[0]); i++)
            if (!strcasecmp(val, vbox[i]))
                return cap_error_set(CAP_E_INVALIDARG, "capsule", NULL,
                                     "%s: '%s' is not in this build; it has vga (a standard VGA "
                                     "with Bochs VBE) or none",
                                     a->name, val);
        return cap_error_set(CAP_E_INVALIDARG, "capsule", NULL,
                             "%s: unknown graphics controller '%s' (vga or none)", a->name, val);
    }
    return CAP_OK;
}

/* --bootN: VBoxManage's device words this build boots from. */
static cap_result parse_boot(const struct cli_arg *a, struct cli_parser *p, const char *val,
                             void *dst)
{
    struct enum_change *e = dst;
    (void)p;
    e->set = 1;
    if (!strcasecmp(val, "disk"))
        e->value = DeviceType_HardDisk;
    else if (!strcasecmp(val, "dvd"))
        e->value = DeviceType_DVD;
    else if (!strcasecmp(val, "none"))
        e->value = DeviceType_Null;
    else
        return cap_error_set(CAP_E_INVALIDARG, "capsule", NULL,
                             "%s: unknown boot device '%s' (disk, dvd or none%s)", a->name, val,
                             !strcasecmp(val, "floppy") || !strcasecmp(val, "net")
                                 ? "; floppy and net boot are not in this build"
                                 : "");
    return CAP_OK;
}

static cap_result parse_engine(const struct cli_arg *a, struct cli_parser *p, const char *val,
                               void *dst)
{
    struct engine_change *e = dst;
    (void)p;
    e->set = 1;
    return cli_engine_from_name(a->name, val, &e->engine);
}

static cap_result parse_cpu_profile(const struct cli_arg *a, struct cli_parser *p, const char *val,
                                    void *dst)
{
    if (!*val)
        return cap_error_set(CAP_E_INVALIDARG, "capsule", NULL,
                             "%s: no profile name (see 'capsule list cpuprofiles')", a->name);
    return cli_arg_str(a, p, val, dst);
}

/* --uartN: "off", or an I/O base and an IRQ. */
static cap_result parse_uart(const struct cli_arg *a, struct cli_parser *p, const char *val,
                             void *dst)
{
    struct uart_change *u = dst;
    const char *irq = NULL;
    if (strcasecmp(val, "off") != 0) {
        cap_result rc = cli_take(p, a->name, &irq);
        if (CAP_FAILED(rc))
            return rc;
    }
    u->has_uart = 1;
    return cli_parse_uart(a->name, val, irq, &u->uart);
}

/* --uartmodeN: a mode and, for file and server, a path. */
static cap_result parse_uartmode(const struct cli_arg *a, struct cli_parser *p, const char *val,
                                 void *dst)
{
    struct uart_change *u = dst;
    int needs_path = 0;
    cap_result rc = cli_portmode_from_name(a->name, val, &u->mode, &needs_path);
    if (CAP_FAILED(rc))
        return rc;
    u->path = NULL;
    if (needs_path) {
        rc = cli_take(p, a->name, &u->path);
        if (CAP_FAILED(rc))
            return rc;
        if (!*u->path)
            return cap_error_set(CAP_E_INVALIDARG, "capsule", NULL,
                                 "%s: the %s path must not be empty", a->name, val);
    }
    u->has_mode = 1;
    return CAP_OK;
}

static cap_result vrde_prop(const struct cli_arg *a, struct vrde_change *v, const char *key,
                            const char *value)
{
    if (v->n == N_VRDE_PROPS)
        return cap_error_set(CAP_E_INVALIDARG, "capsule", NULL,
                             "%s: at most %d VRDE properties at once", a->name, N_VRDE_PROPS);
    v->keys[v->n] = key;
    v->values[v->n++] = value;
    return CAP_OK;
}

/* --vrdeproperty KEY=VALUE (repeatable; the service checks both). */
static cap_result parse_vrdeproperty(const struct cli_arg *a, struct cli_parser *p, const char *val,
                                     void *dst)
{
    struct vrde_change *v = dst;
    const char *eq = strchr(val, '=');
    (void)p;
    if (!eq || eq == val || (size_t)(eq - val) >= sizeof(v->text[0]))
        return cap_error_set(CAP_E_INVALIDARG, "capsule", NULL,
                             "%s: '%s' is not KEY=VALUE (e.g. VNCPassword=secret)", a->name, val);
    if (v->n == N_VRDE_PROPS)
        return vrde_prop(a, v, NULL, NULL); /* the error */
    snprintf(v->text[v->n], sizeof(v->text[0]), "%.*s", (int)(eq - val), val);
    return vrde_prop(a, v, v->text[v->n], eq + 1);
}

static cap_result parse_vrdeport(const struct cli_arg *a, struct cli_parser *p, const char *val,
                                 void *dst)
{
    (void)p;
    return vrde_prop(a, dst, "TCP/Ports", val);
}

static cap_result parse_vrdeaddress(const struct cli_arg *a, struct cli_parser *p, const char *val,
                                    void *dst)
{
    (void)p;
    return vrde_prop(a, dst, "TCP/Address", val);
}

static cap_result parse_vrde(const struct cli_arg *a, struct cli_parser *p, const char *val,
                             void *dst)
{
    return cli_arg_onoff(a, p, val, &((struct vrde_change *)dst)->enabled);
}

/* --nicN nat|none (VBoxManage's null and the other attachments are not in this build). */
static cap_result parse_nic(const struct cli_arg *a, struct cli_parser *p, const char *val,
                            void *dst)
{
    struct nic_change *n = dst;
    (void)p;
    n->set_nic = 1;
    if (!strcasecmp(val, "nat") || !strcasecmp(val, "none")) {
        n->nat = !strcasecmp(val, "nat");
        return CAP_OK;
    }
    return cap_error_set(CAP_E_INVALIDARG, "capsule", NULL, "%s: '%s' is not nat or none%s",
                         a->name, val,
                         !strcasecmp(val, "null") || !strcasecmp(val, "bridged") ||
                                 !strcasecmp(val, "intnet") || !strcasecmp(val, "hostonly") ||
                                 !strcasecmp(val, "natnetwork") || !strcasecmp(val, "generic")
                             ? " (this build has NAT only)"
                             : "");
}

static cap_result parse_nictype(const struct cli_arg *a, struct cli_parser *p, const char *val,
                                void *dst)
{
    struct nic_change *n = dst;
    (void)p;
    n->set_type = 1;
    return cli_parse_nictype(a->name, val, &n->type);
}

static cap_result parse_macaddress(const struct cli_arg *a, struct cli_parser *p, const char *val,
                                   void *dst)
{
    struct nic_change *n = dst;
    (void)p;
    n->set_mac = 1;
    return cli_parse_mac(a->name, val, n->mac);
}

static cap_result parse_cable(const struct cli_arg *a, struct cli_parser *p, const char *val,
                              void *dst)
{
    return cli_arg_onoff(a, p, val, &((struct nic_change *)dst)->cable);
}

static cap_result parse_nictrace(const struct cli_arg *a, struct cli_parser *p, const char *val,
                                 void *dst)
{
    return cli_arg_onoff(a, p, val, &((struct nic_change *)dst)->trace);
}

static cap_result parse_nictracefile(const struct cli_arg *a, struct cli_parser *p, const char *val,
                                     void *dst)
{
    if (!*val)
        return cap_error_set(CAP_E_INVALIDARG, "capsule", NULL, "%s: no file name", a->name);
    ((struct nic_change *)dst)->trace_file = val;
    return CAP_OK;
}

/* --natpfN RULE, or --natpfN delete NAME. */
static cap_result parse_natpf(const struct cli_arg *a, struct cli_parser *p, const char *val,
                              void *dst)
{
    struct nic_change *n = dst;
    if (n->n_pf == N_NATPF)
        return cap_error_set(CAP_E_INVALIDARG, "capsule", NULL, "%s: at most %d at once", a->name,
                             N_NATPF);
    if (strcmp(val, "delete") != 0) {
        n->pf[n->n_pf].del = 0;
        cap_result rc = cli_parse_natpf(a->name, val, &n->pf[n->n_pf].rule);
        n->n_pf += CAP_SUCCEEDED(rc);
        return rc;
    }
    const char *name = NULL;
    cap_result rc = cli_take(p, a->name, &name);
    if (CAP_FAILED(rc))
        return rc;
    if (!*name || strlen(name) > CAP_NAT_RULE_NAME_MAX)
        return cap_error_set(CAP_E_INVALIDARG, "capsule", NULL,
                             "%s delete: '%s' is not a rule's name", a->name, name);
    n->pf[n->n_pf].del = 1;
    snprintf(n->pf[n->n_pf].rule.name, sizeof(n->pf[0].rule.name), "%s", name);
    n->n_pf++;
    return CAP_OK;
}

#define T struct modifyvm_args
#define NIC_LINES(N, H1, H2, H3, H4, H5, H6, H7)                                                   \
    CLI_OPT("--nic" #N, "nat|none", parse_nic, T, nic[N - 1], H1),                                 \
        CLI_OPT("--nictype" #N, "82540EM|virtio", parse_nictype, T, nic[N - 1], H2),               \
        CLI_OPT("--macaddress" #N, "auto|HEX12", parse_macaddress, T, nic[N - 1], H3),             \
        CLI_OPT("--cableconnected" #N, "on|off", parse_cable, T, nic[N - 1], H4),                  \
        CLI_OPT("--natpf" #N, "RULE|delete NAME", parse_natpf, T, nic[N - 1], H5),                 \
        CLI_OPT("--nictrace" #N, "on|off", parse_nictrace, T, nic[N - 1], H6),                     \
        CLI_OPT("--nictracefile" #N, "FILE", parse_nictracefile, T, nic[N - 1], H7)
#define NIC_SAME(N)                                                                                \
    NIC_LINES(N, "the same for network adapter " #N, "the same for adapter " #N,                   \
              "the same for adapter " #N, "the same for adapter " #N, "the same for adapter " #N,  \
              "the same for adapter " #N, "the same for adapter " #N)
#define UART_LINES(N, HELP, MODE_HELP)                                                             \
    CLI_OPT("--uart" #N, "IOBASE IRQ|off", parse_uart, T, uart[N - 1], HELP),                      \
        CLI_OPT("--uartmode" #N, "MODE", parse_uartmode, T, uart[N - 1], MODE_HELP)

static const struct cli_arg modifyvm_args[] = {
    CLI_POS("VM", T, vm, CLI_VM_MISSING, NULL),
    CLI_OPT("--memory", "MB", cli_arg_mb, T, memory,
            "guest RAM; a number of MB, or with a unit: 512M, 2G\n"
            "(limits: 'capsule list systemproperties')"),
    CLI_OPT("--cpus", "N", cli_arg_count, T, cpus, "number of virtual CPUs"),
    CLI_OPT("--engine", "E", parse_engine, T, engine, "execution engine: auto, hm, rem or raw"),
    CLI_OPT("--cpu-profile", "NAME", parse_cpu_profile, T, cpu_profile,
            "the CPU the guest sees: host (the default: the host's\n"
            "vendor and model) or a fixed one such as intel-core or\n"
            "amd-epyc ('capsule list cpuprofiles' lists them; under\n"
            "engine hm only one of the host's vendor works)"),
    CLI_STR("--kernel", "FILE", T, kernel, "the image to boot (\"\" for none)"),
    CLI_STR("--initrd", "FILE", T, initrd, "the initial RAM disk (\"\" for none)"),
    CLI_STR("--cmdline", "STRING", T, cmdline, "the kernel command line"),
    CLI_OPT("--debugexit", "on|off", cli_arg_onoff, T, debugexit,
            "the debug-exit port: a guest write to it powers the\n"
            "VM off (tests)"),
    UART_LINES(1, "enable serial port 1 (e.g. 0x3f8 4); off disables",
               "where its host end goes: file FILE, server SOCKET\n"
               "(a Unix socket the VM listens on) or disconnected"),
    UART_LINES(2, "the same for serial port 2 (e.g. 0x2f8 3)", "the same for serial port 2"),
    UART_LINES(3, "the same for serial port 3 (e.g. 0x3e8 4)", "the same for serial port 3"),
    UART_LINES(4, "the same for serial port 4 (e.g. 0x2e8 3)", "the same for serial port 4"),
    CLI_OPT("--firmware", "bios|none|efi", parse_firmware, T, firmware,
            "what runs at power-on: bios (SeaBIOS boots from the\n"
            "drives in the boot order; no kernel needed) or none\n"
            "(the default: the VM boots --kernel directly); efi is\n"
            "not in this build yet"),
    CLI_OPT("--graphicscontroller", "G", parse_graphics, T, graphics,
            "the graphics device, vga or none: vga (the default)\n"
            "is a standard VGA with Bochs VBE, and the tablet;\n"
            "a kernel booted without a BIOS finds it in 80x25\n"
            "text mode (console=tty0 shows the kernel's console\n"
            "there); none: the machine has no screen"),
    CLI_OPT("--boot1", "disk|dvd|none", parse_boot, T, boot[0],
            "the first device the BIOS boots from (default dvd)"),
    CLI_OPT("--boot2", "disk|dvd|none", parse_boot, T, boot[1], "the second (default disk)"),
    CLI_OPT("--boot3", "disk|dvd|none", parse_boot, T, boot[2], "the third (default none)"),
    CLI_OPT("--boot4", "disk|dvd|none", parse_boot, T, boot[3], "the fourth (default none)"),
    CLI_OPT("--vrde", "on|off", parse_vrde, T, vrde,
            "the remote display server (VNC) in the VM process:\n"
            "remote clients see the screen and type"),
    CLI_OPT("--vrdeport", "N", parse_vrdeport, T, vrde,
            "its TCP port (default 5900; 0: a free one, which\n"
            "showvminfo says while the VM runs)"),
    CLI_OPT("--vrdeaddress", "A", parse_vrdeaddress, T, vrde,
            "the IPv4 address it listens on (default 127.0.0.1:\n"
            "this host only; 0.0.0.0 for every address)"),
    CLI_OPT("--vrdeproperty", "K=V", parse_vrdeproperty, T, vrde,
            "a property: TCP/Ports, TCP/Address or VNCPassword\n"
            "(the password VNC clients must give; empty: none);\n"
            "repeatable"),
    NIC_LINES(1,
              "network adapter 1: nat (the guest gets 10.0.2.15 by\n"
              "DHCP, the host is 10.0.2.2; a new machine's default)\n"
              "or none (no adapter)",
              "its device: 82540EM (Intel PRO/1000 MT Desktop, the\n"
              "default) or virtio (virtio-net)",
              "its MAC address: 12 hex digits, or auto (a new one)",
              "whether its cable is plugged in (default on)",
              "forward a host port to the guest:\n"
              "\"name,tcp|udp,[hostip],hostport,[guestip],guestport\"\n"
              "(hostip empty: 127.0.0.1, this host only);\n"
              "delete NAME removes a rule; repeatable",
              "write every frame to a pcap file (tcpdump -r)", "the pcap file"),
    NIC_SAME(2),
    NIC_SAME(3),
    NIC_SAME(4),
    CLI_STR("--description", "S", T, description, "free text"),
    CLI_OPT("--name", "NAME", cli_arg_nonempty, T, name, "rename the machine"),
    CLI_STR("--ostype", "TYPE", T, ostype, "the guest OS type ID"),
    CLI_ARGS_END,
};
#undef T

/* What run_modifyvm works out before it changes anything: paths made
 * absolute, the profile in the service's spelling, the host's memory. */
struct modify {
    const struct modifyvm_args *a;
    char *kernel, *initrd, *cpu_profile, *uart_path[N_UARTS], *trace_file[CLI_NIC_SLOTS];
    uint32_t host_mb;
};

/* An absolute form of a host path given on the command line ("" stays "";
 * NULL for NULL). */
static char *abs_path(const char *path)
{
    char cwd[PATH_MAX];
    if (!path)
        return NULL;
    if (path[0] == '\0' || path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
        return cap_str_dup(path);
    return cap_str_printf("%s/%s", cwd, path);
}

static void modify_free(struct modify *m)
{
    cap_str_free(m->kernel);
    cap_str_free(m->initrd);
    cap_str_free(m->cpu_profile);
    for (int i = 0; i < N_UARTS; i++)
        cap_str_free(m->uart_path[i]);
    for (int i = 0; i < CLI_NIC_SLOTS; i++)
        cap_str_free(m->trace_file[i]);
}

/* ---- checks against the service ------------------------------------------ */

/* --memory and --cpus against ISystemProperties' limits (--cpus only its
 * minimum); the host's memory
 * into m->host_mb. */
static cap_result check_limits(struct cli_vm *vm, struct modify *m)
{
    const struct modifyvm_args *a = m->a;
    ISystemProperties *sp = NULL;
    IHost *host = NULL;
    uint32_t lo = 0, hi = 0;
    vm->what = "ICapsule::systemProperties";
    cap_result rc = ICapsule_GetSystemProperties(vm->ctx->root, &sp);
    if (CAP_SUCCEEDED(rc) && a->memory.set) {
        vm->what = "ISystemProperties::maxGuestRAM";
        rc = ISystemProperties_GetMinGuestRAM(sp, &lo);
        if (CAP_SUCCEEDED(rc))
            rc = ISystemProperties_GetMaxGuestRAM(sp, &hi);
        if (CAP_SUCCEEDED(rc) && CAP_FAILED(rc = cli_check_range("--memory", a->memory.text,
                                                                 a->memory.value, lo, hi, " MB")))
            vm->usage_error = 1;
    }
    /* Above maxGuestCPUCount the service refuses with the reason (this
     * build runs one vCPU until SMP), which a range here would hide. */
    if (CAP_SUCCEEDED(rc) && a->cpus.set) {
        vm->what = "ISystemProperties::minGuestCPUCount";
        rc = ISystemProperties_GetMinGuestCPUCount(sp, &lo);
        if (CAP_SUCCEEDED(rc) &&
            CAP_FAILED(
                rc = cli_check_range("--cpus", a->cpus.text, a->cpus.value, lo, UINT32_MAX, "")))
            vm->usage_error = 1;
    }
    if (CAP_SUCCEEDED(rc) && a->memory.set) {
        vm->what = "IHost::memorySize";
        rc = ICapsule_GetHost(vm->ctx->root, &host);
        if (CAP_SUCCEEDED(rc))
            rc = IHost_GetMemorySize(host, &m->host_mb);
    }
    cli_release(host);
    cli_release(sp);
    return rc;
}

/* The names of the service's CPU profiles into *names (n of them; free
 * each with cap_str_free, then the array with cap_free). */
static cap_result profile_names(struct cli_vm *vm, uint32_t *n, char ***names)
{
    ISystemProperties *sp = NULL;
    ICPUProfile **profs = NULL;
    uint32_t np = 0;
    *n = 0;
    *names = NULL;
    vm->what = "ICapsule::systemProperties";
    cap_result rc = ICapsule_GetSystemProperties(vm->ctx->root, &sp);
    if (CAP_SUCCEEDED(rc)) {
        vm->what = "ISystemProperties::cpuProfiles";
        rc = ISystemProperties_GetCpuProfiles(sp, &np, &profs);
    }
    if (CAP_SUCCEEDED(rc) && !(*names = cap_alloc_zero((np ? np : 1) * sizeof(char *))))
        rc = CAP_E_OUTOFMEMORY;
    if (CAP_SUCCEEDED(rc))
        vm->what = "ICPUProfile::name";
    for (uint32_t i = 0; i < np && CAP_SUCCEEDED(rc); i++) {
        rc = ICPUProfile_GetName(profs[i], &(*names)[i]);
        *n = i + 1;
    }
    cli_release_array(np, profs);
    cli_release(sp);
    return rc;
}

/* --cpu-profile against the service's list: m->cpu_profile is its spelling
 * there; an unknown name is a usage error. */
static cap_result resolve_cpu_profile(struct cli_vm *vm, struct modify *m)
{
    uint32_t n = 0;
    char **names = NULL;
    const char *match = NULL;
    cap_result rc = profile_names(vm, &n, &names);
    if (CAP_SUCCEEDED(rc)) {
        rc = cli_cpu_profile_match("--cpu-profile", m->a->cpu_profile, n, names, &match);
        vm->usage_error = CAP_FAILED(rc);
    }
    if (CAP_SUCCEEDED(rc) && !(m->cpu_profile = cap_str_dup(match)))
        rc = CAP_E_OUTOFMEMORY;
    for (uint32_t i = 0; i < n; i++)
        cap_str_free(names[i]);
    cap_free(names);
    return rc;
}

static cap_result check(struct cli_vm *vm, void *arg)
{
    struct modify *m = arg;
    cap_result rc = CAP_OK;
    if (m->a->memory.set || m->a->cpus.set)
        rc = check_limits(vm, m);
    if (CAP_SUCCEEDED(rc) && m->a->cpu_profile)
        rc = resolve_cpu_profile(vm, m);
    return rc;
}

/* ---- changes under the write lock ------------------------------------------ */

static cap_result set_uart(IMachine *mm, uint32_t slot, const struct uart_change *u,
                           const char *path, const char **what)
{
    ISerialPort *port = NULL;
    *what = "IMachine::getSerialPort";
    cap_result rc = IMachine_GetSerialPort(mm, slot, &port);
    if (CAP_FAILED(rc))
        return rc;
    *what = "ISerialPort";
    if (u->has_uart) {
        rc = ISerialPort_SetEnabled(port, u->uart.enabled ? CAP_TRUE : CAP_FALSE);
        if (CAP_SUCCEEDED(rc) && u->uart.enabled)
            rc = ISerialPort_SetIoBase(port, u->uart.io_base);
        if (CAP_SUCCEEDED(rc) && u->uart.enabled)
            rc = ISerialPort_SetIrq(port, u->uart.irq);
    }
    if (CAP_SUCCEEDED(rc) && u->has_mode) {
        /* The path first: a mode that needs one may be checked against it. */
        if (path)
            rc = ISerialPort_SetPath(port, path);
        if (CAP_SUCCEEDED(rc))
            rc = ISerialPort_SetHostMode(port, u->mode);
    }
    cli_release(port);
    return rc;
}

static cap_result set_vrde(IMachine *mm, const struct vrde_change *v, const char **what)
{
    IVRDEServer *srv = NULL;
    *what = "IMachine::VRDEServer";
    cap_result rc = IMachine_GetVRDEServer(mm, &srv);
    if (CAP_SUCCEEDED(rc) && v->enabled.set) {
        *what = "IVRDEServer::enabled";
        rc = IVRDEServer_SetEnabled(srv, v->enabled.value ? CAP_TRUE : CAP_FALSE);
    }
    for (unsigned i = 0; i < v->n && CAP_SUCCEEDED(rc); i++) {
        *what = "IVRDEServer::setVRDEProperty";
        rc = IVRDEServer_SetVRDEProperty(srv, v->keys[i], v->values[i]);
    }
    cli_release(srv);
    return rc;
}

static cap_result set_natpf(INetworkAdapter *na, const struct nic_change *n, const char **what)
{
    INATEngine *nat = NULL;
    *what = "INetworkAdapter::NATEngine";
    cap_result rc = INetworkAdapter_GetNATEngine(na, &nat);
    for (unsigned i = 0; i < n->n_pf && CAP_SUCCEEDED(rc); i++) {
        const struct cap_nat_rule *r = &n->pf[i].rule;
        *what = n->pf[i].del ? "INATEngine::removeRedirect" : "INATEngine::addRedirect";
        rc = n->pf[i].del ? INATEngine_RemoveRedirect(nat, r->name)
                          : INATEngine_AddRedirect(nat, r->name, r->udp ? 0 : 1, r->host_ip,
                                                   r->host_port, r->guest_ip, r->guest_port);
    }
    cli_release(nat);
    return rc;
}

static cap_result set_nic(IMachine *mm, uint32_t slot, const struct nic_change *n,
                          const char *trace_file, const char **what)
{
    INetworkAdapter *na = NULL;
    *what = "IMachine::getNetworkAdapter";
    cap_result rc = IMachine_GetNetworkAdapter(mm, slot, &na);
#define NSET(cond, call, name)                                                                     \
    do {                                                                                           \
        if (CAP_SUCCEEDED(rc) && (cond)) {                                                         \
            *what = name;                                                                          \
            rc = call;                                                                             \
        }                                                                                          \
    } while (0)
    NSET(n->set_nic, INetworkAdapter_SetEnabled(na, n->nat ? CAP_TRUE : CAP_FALSE),
         "INetworkAdapter::enabled");
    NSET(n->set_nic && n->nat, INetworkAdapter_SetAttachmentType(na, NetworkAttachmentType_NAT),
         "INetworkAdapter::attachmentType");
    NSET(n->set_type, INetworkAdapter_SetAdapterType(na, n->type), "INetworkAdapter::adapterType");
    NSET(n->set_mac, INetworkAdapter_SetMACAddress(na, n->mac), "INetworkAdapter::MACAddress");
    NSET(n->cable.set, INetworkAdapter_SetCableConnected(na, n->cable.value ? CAP_TRUE : CAP_FALSE),
         "INetworkAdapter::cableConnected");
    NSET(trace_file, INetworkAdapter_SetTraceFile(na, trace_file), "INetworkAdapter::traceFile");
    NSET(n->trace.set, INetworkAdapter_SetTraceEnabled(na, n->trace.value ? CAP_TRUE : CAP_FALSE),
         "INetworkAdapter::traceEnabled");
#undef NSET
    if (CAP_SUCCEEDED(rc) && n->n_pf)
        rc = set_natpf(na, n, what);
    cli_release(na);
    return rc;
}

static int nic_changed(const struct nic_change *n)
{
    return n->set_nic || n->set_type || n->set_mac || n->cable.set || n->trace.set ||
           n->trace_file || n->n_pf;
}

/* Applies every change to the session's mutable machine and saves. */
static cap_result apply(struct cli_vm *vm, void *arg)
{
    const struct modify *m = arg;
    const struct modifyvm_args *a = m->a;
    IMachine *mm = vm->mutable_machine;
    cap_result rc = CAP_OK;
#define SET(cond, call, name)                                                                      \
    do {                                                                                           \
        if (CAP_SUCCEEDED(rc) && (cond)) {                                                         \
            vm->what = name;                                                                       \
            rc = call;                                                                             \
        }                                                                                          \
    } while (0)
    SET(a->name, IMachine_SetName(mm, a->name), "IMachine::name");
    SET(a->ostype, IMachine_SetOsTypeId(mm, a->ostype), "IMachine::osTypeId");
    SET(a->memory.set, IMachine_SetMemorySize(mm, a->memory.value), "IMachine::memorySize");
    SET(a->cpus.set, IMachine_SetCpuCount(mm, a->cpus.value), "IMachine::cpuCount");
    SET(a->engine.set, IMachine_SetEngine(mm, a->engine.engine), "IMachine::engine");
    SET(m->cpu_profile, IMachine_SetCpuProfile(mm, m->cpu_profile), "IMachine::cpuProfile");
    SET(m->kernel, IMachine_SetKernel(mm, m->kernel), "IMachine::kernel");
    SET(m->initrd, IMachine_SetInitrd(mm, m->initrd), "IMachine::initrd");
    SET(a->cmdline, IMachine_SetCmdline(mm, a->cmdline), "IMachine::cmdline");
    SET(a->debugexit.set,
        IMachine_SetDebugExitEnabled(mm, a->debugexit.value ? CAP_TRUE : CAP_FALSE),
        "IMachine::debugExitEnabled");
    SET(a->description, IMachine_SetDescription(mm, a->description), "IMachine::description");
    SET(a->firmware.set, IMachine_SetFirmwareType(mm, (FirmwareType)a->firmware.value),
        "IMachine::firmwareType");
    SET(a->graphics.set,
        IMachine_SetGraphicsControllerType(mm, (GraphicsControllerType)a->graphics.value),
        "IMachine::graphicsControllerType");
    for (uint32_t i = 0; i < N_BOOT; i++)
        SET(a->boot[i].set, IMachine_SetBootOrder(mm, i + 1, (DeviceType)a->boot[i].value),
            "IMachine::setBootOrder");
#undef SET
    for (uint32_t i = 0; i < N_UARTS && CAP_SUCCEEDED(rc); i++)
        if (a->uart[i].has_uart || a->uart[i].has_mode)
            rc = set_uart(mm, i, &a->uart[i], m->uart_path[i], &vm->what);
    if (CAP_SUCCEEDED(rc) && (a->vrde.enabled.set || a->vrde.n))
        rc = set_vrde(mm, &a->vrde, &vm->what);
    for (uint32_t i = 0; i < CLI_NIC_SLOTS && CAP_SUCCEEDED(rc); i++)
        if (nic_changed(&a->nic[i]))
            rc = set_nic(mm, i, &a->nic[i], m->trace_file[i], &vm->what);
    if (CAP_SUCCEEDED(rc)) {
        vm->what = "IMachine::saveSettings";
        rc = IMachine_SaveSettings(mm);
    }
    return rc;
}

static int run_modifyvm(struct cli_ctx *ctx, void *args)
{
    const struct modifyvm_args *a = args;
    struct modify m = {.a = a};
    if (ctx->n_options == 0)
        return cli_usage(ctx, "nothing to change (give at least one option)");
    int status = CLI_EXIT_FAIL, oom = 0;
    m.kernel = abs_path(a->kernel);
    m.initrd = abs_path(a->initrd);
    oom = (a->kernel && !m.kernel) || (a->initrd && !m.initrd);
    for (int i = 0; i < N_UARTS; i++) {
        m.uart_path[i] = abs_path(a->uart[i].path);
        oom |= a->uart[i].path && !m.uart_path[i];
    }
    for (int i = 0; i < CLI_NIC_SLOTS; i++) {
        m.trace_file[i] = abs_path(a->nic[i].trace_file);
        oom |= a->nic[i].trace_file && !m.trace_file[i];
    }
    if (oom)
        status = cli_fail(CAP_E_OUTOFMEMORY, "modifyvm");
    else
        status = cli_with_vm(ctx, NULL, CLI_SERVICE, check, &m);
    if (status == CLI_EXIT_OK)
        status = cli_with_vm(ctx, a->vm, CLI_LOCK_WRITE, apply, &m);
    if (status == CLI_EXIT_OK && a->memory.set && m.host_mb && a->memory.value > m.host_mb)
        fprintf(stderr,
                "capsule: warning: --memory: %" PRIu32 " MB is more than the host's physical "
                "memory (%" PRIu32 " MB); the machine may not start or may make the host swap\n",
                a->memory.value, m.host_mb);
    modify_free(&m);
    return status;
}

const struct cli_cmd cli_cmd_modifyvm = {
    .name = "modifyvm",
    .help = "change a machine's settings (the machine must not be running)",
    .args = modifyvm_args,
    .args_size = sizeof(struct modifyvm_args),
    .run = run_modifyvm,
    .detail = "Relative paths are taken relative to the current folder.\n",
};
