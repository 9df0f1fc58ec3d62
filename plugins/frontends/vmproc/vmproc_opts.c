/*
 * vmproc_opts.c - capsule-vm's standalone command line, in the manner of
 * `qemu -kernel` and `lkvm run`.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "cpum/cpum_profile.h"
#include "platform/platform_limits.h"
#include "vmproc.h"
#include "vmproc_frontends.h"

void vmproc_opts_init(struct vmproc_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->memory_mb = 64;
    o->cpus = 1;
    o->engine = VM_ENGINE_AUTO;
    o->serial = "stdio";
    o->serial_iobase = 0x3f8;
    o->serial_irq = 4;
    o->frontend = "headless";
    o->firmware = "none";
    o->bios_image = VMPROC_BIOS_DEFAULT;
    o->boot_order = VMPROC_BOOT_DEFAULT;
    const char *force = getenv("CAPSULE_FORCE_MEMORY");
    o->force_memory = force && !strcmp(force, "1");
    o->log_max = VMPROC_LOG_MAX_DEFAULT;
    for (unsigned i = 0; i < VMPROC_MAX_NICS; i++)
        o->nic_slot[i] = i;
    const char *max = getenv("CAPSULE_VM_LOG_MAX");
    if (max && *max >= '0' && *max <= '9') {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(max, &end, 10);
        if (!*end && !errno)
            o->log_max = v;
    }
}

bool vmproc_opts_bios(const struct vmproc_opts *o)
{
    return o->firmware && !strcmp(o->firmware, "bios");
}

void vmproc_usage(FILE *f)
{
    fprintf(f,
            "usage: capsule-vm --kernel FILE [options]\n"
            "       capsule-vm --firmware bios [--bios FILE] [options]\n"
            "Runs one VM in this process until it powers off.\n"
            "\n"
            "  --kernel FILE        boot image: Linux bzImage or ELF64 vmlinux, multiboot v1\n"
            "                       or a flat binary\n"
            "  --firmware F         none (default: boot --kernel directly) or bios: power on\n"
            "                       at the BIOS's reset vector (SeaBIOS; its console on COM1)\n"
            "  --bios FILE          the BIOS image (default " VMPROC_BIOS_DEFAULT ",\n"
            "                       Debian's seabios package)\n"
            "  --boot LIST          the BIOS's boot order: up to three of floppy, disk, dvd,\n"
            "                       net (default " VMPROC_BOOT_DEFAULT ")\n"
            "  --drive SPEC         a disk or DVD drive (repeatable): if=ide|sata|virtio,\n"
            "                       port=N,device=N,media=disk|cdrom[,readonly=on]\n"
            "                       [,format=raw|vdi|iso][,file=PATH] (file= last: the rest\n"
            "                       is the path); ide: port 0-1 (primary, secondary),\n"
            "                       device 0-1 (master, slave); sata: port 0-29 (AHCI),\n"
            "                       device 0; virtio: port 0-15, device 0, disks only; a\n"
            "                       cdrom is read-only and may be empty\n"
            "  --nic SPEC           a network adapter (repeatable, up to 4; PCI 00:03.0\n"
            "                       onwards): nat[,model=e1000|virtio]\n"
            "                       [,mac=52:54:00:12:34:56][,link=on|off]\n"
            "                       [,hostfwd=tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:\n"
            "                       GUESTPORT]...[,trace=FILE]; model e1000 (82540EM, the\n"
            "                       default) or virtio; nat: the guest\n"
            "                       gets 10.0.2.15 by DHCP, the host's loopback is 10.0.2.2,\n"
            "                       DNS 10.0.2.3; hostfwd binds HOSTADDR (127.0.0.1 when\n"
            "                       empty) on the host; trace= (last) writes a pcap\n"
            "  --initrd FILE        initial ramdisk (Linux, multiboot module 0)\n"
            "  --append STRING      kernel command line\n"
            "  --memory MB          guest RAM (default 64, %u to %u: what %u-bit guest\n"
            "                       physical addresses reach); more than the host's\n"
            "                       physical memory is refused unless forced\n"
            "  --force-memory       allow more guest RAM than the host has (also\n"
            "                       CAPSULE_FORCE_MEMORY=1): the guest may exhaust the host\n"
            "  --log-max BYTES      bound of the VM's log lines on stderr (default 16 MiB,\n"
            "                       also CAPSULE_VM_LOG_MAX; 0: none); lines past it dropped\n"
            "  --cpus N             vCPUs (only 1 until SMP)\n"
            "  --engine E           auto|hm|rem|raw (default auto: measured at start-up; raw "
            "not available yet)\n"
            "  --cpu-profile NAME   the CPU the guest sees: host (default: the host's vendor\n"
            "                       and model), intel-core or amd-epyc; under hm only one\n"
            "                       of the host's vendor\n"
            "  --serial SPEC        COM1 backend: stdio (default), file:PATH, unix:PATH, none\n"
            "  --debug-exit         debug-exit device at port 0xf4: a write of V powers off\n"
            "                       with exit status (V<<1)|1\n"
            "  --device NAME[,K=V]  add a device plugin with configuration (repeatable),\n"
            "                       e.g. --device serial,iobase=0x2f8,irq=3; for a default\n"
            "                       device it sets keys of that one, e.g. --device rtc,irq=8;\n"
            "                       V's form gives its type: 8 or 0x3f8 integer, on/off\n"
            "                       boolean, other text a string (string:0 for a number),\n"
            "                       bytes:00ff bytes\n"
            "  --no-device NAME     leave out a default device (repeatable). Defaults: pic,\n"
            "                       pit, serial (COM1), port80, rtc, i8042, fwcfg, apic,\n"
            "                       ioapic, acpipm (ACPI power-off; without it a Linux\n"
            "                       guest gets no ACPI tables), pci (PCI bus: i440FX host\n"
            "                       bridge, reset at 0xcf9), hpet (timer at 0xfed00000\n"
            "                       and its ACPI table), debugexit with --debug-exit,\n"
            "                       debugcon (port 0x402: the BIOS's debug log into the VM\n"
            "                       log, or all of it to a file: --device debugcon,path=F)\n"
            "                       with --firmware bios, piix3ide (PIIX3 IDE, PCI 00:01.1,\n"
            "                       ports 0x1f0/0x170) with --drive if=ide, ahci (ICH9 AHCI,\n"
            "                       PCI 00:0d.0) with --drive if=sata, vga (PCI VGA with\n"
            "                       Bochs VBE and its VGA BIOS) and virtioinput (the\n"
            "                       virtio-input tablet, PCI 00:0e.0: an absolute pointer)\n"
            "                       with --firmware bios or --graphics vga, virtioblk\n"
            "                       (virtio-blk, a PCI function per drive) with --drive\n"
            "                       if=virtio\n"
            "  --graphics G         the graphics controller: vga (the PCI VGA with the\n"
            "                       virtio-input tablet beside it; without a BIOS in 80x25\n"
            "                       text mode, which a Linux kernel is told of: add\n"
            "                       console=tty0 to --append) or none (neither); default:\n"
            "                       vga with --firmware bios, none without\n"
            "  --screenshot FILE    write the screen (the vga device) as PNG when the VM\n"
            "                       stops, and on SIGUSR1 while it runs\n"
            "  --input-feed PATH    input for the guest from a file or FIFO, a line each:\n"
            "                       'abs X Y [DZ [BUTTONS]]' (the tablet, X and Y\n"
            "                       0-32767), 'rel DX DY [DZ [BUTTONS]]' (the PS/2 mouse),\n"
            "                       'keys HEX...' (set-1 scancodes); BUTTONS 1 left,\n"
            "                       2 right, 4 middle; 'save FILE' pauses the VM, writes\n"
            "                       its saved state to FILE (verified after writing) and\n"
            "                       powers it off (on failure the VM goes on running)\n"
            "  --restore FILE       start from a saved state ('save FILE' above) instead of\n"
            "                       power-on: the same options as the saved VM (memory,\n"
            "                       devices, image); FILE is verified before anything is\n"
            "                       applied, a damaged file or another machine is refused\n"
            "                       (exit status 4)\n"
            "  --display NAME       the frontend: headless (default: no window; signals\n"
            "                       power off), sdl (the VM window: needs DISPLAY; closing\n"
            "                       it presses the ACPI power button), gui (= sdl)\n"
            "  --frontend NAME      the same as --display\n"
            "  --name NAME          the VM's name (window title; default capsule-vm)\n"
            "  --vrde SPEC          the remote display server (VNC) beside the frontend:\n"
            "                       port=N[,address=A][,password-file=F]; port 0 picks a\n"
            "                       free port (said on stderr), the address defaults to\n"
            "                       127.0.0.1; F (mode 0600) holds the VNC password\n"
            "  --stats              print the VM's statistics when it stops\n"
            "  --help               this text\n"
            "\n"
            "Exit status (the guest's are odd, capsule-vm's own even):\n"
            "  0      the VM powered off without a debug-exit code (guest power-off,\n"
            "         ACPI, SIGINT/SIGTERM)\n"
            "  odd    the guest wrote V to the debug-exit port: (V<<1)|1, low 8 bits\n"
            "         (as QEMU's isa-debug-exit; what a pass or a fail is, is the guest's)\n"
            "  2      bad arguments\n"
            "  4      setup failure: no VM ran (bad image, unknown device, engine\n"
            "         not available)\n"
            "  6      the VM aborted (triple fault, emulation failure, engine or device\n"
            "         failure); the reason is on stderr\n",
            PLATFORM_MIN_RAM_MB, PLATFORM_MAX_RAM_MB, PLATFORM_GUEST_PHYS_BITS);
}

static int parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out,
                     FILE *err)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || !*s || *end || v < min || v > max) {
        fprintf(err, "capsule-vm: %s: '%s' is not a number in %llu..%llu\n", opt, s,
                (unsigned long long)min, (unsigned long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

/* "NAME[,key=value...]": a name, then keys that are not empty (the device
 * list in vmproc.c reads the same syntax; a bad one is a usage error). */
static int check_device_spec(const char *spec, FILE *err)
{
    const char *comma = strchr(spec, ',');
    if (!*spec || comma == spec) {
        fprintf(err, "capsule-vm: --device '%s': no device name\n", spec);
        return -1;
    }
    while (comma) {
        const char *tok = comma + 1;
        comma = strchr(tok, ',');
        size_t len = comma ? (size_t)(comma - tok) : strlen(tok);
        const char *eq = memchr(tok, '=', len);
        if (!eq || eq == tok) {
            fprintf(err, "capsule-vm: --device '%s': '%.*s' is not key=value\n", spec, (int)len,
                    tok);
            return -1;
        }
    }
    return 0;
}

/* A name of the profile table (exactly as it spells it; "" is not one).
 * Checked here so that a typo is a usage error (status 2), not a setup
 * failure at vm_create. */
static int check_cpu_profile(const char *name, FILE *err)
{
    char names[256];
    if (*name && cpum_profile_find(name))
        return 0;
    fprintf(err, "capsule-vm: --cpu-profile '%s': unknown CPU profile (known: %s)\n", name,
            cpum_profile_names(names, sizeof(names)));
    return -1;
}

/* The serial spec's form (whether the file or socket opens is the
 * device's business, at vmproc_create). */
static bool serial_spec_ok(const char *s)
{
    return !strcmp(s, "stdio") || !strcmp(s, "none") || (!strncmp(s, "file:", 5) && s[5]) ||
           (!strncmp(s, "unix:", 5) && s[5]);
}

/* Whether `val` of option `opt` is `a` or `b` (else said on `err`). */
static bool one_of(FILE *err, const char *opt, const char *val, const char *a, const char *b)
{
    if (!strcmp(val, a) || !strcmp(val, b))
        return true;
    fprintf(err, "capsule-vm: %s '%s': expected %s or %s\n", opt, val, a, b);
    return false;
}

int vmproc_parse_args(int argc, char **argv, struct vmproc_opts *o, FILE *out, FILE *err)
{
    enum {
        O_KERNEL = 256,
        O_INITRD,
        O_APPEND,
        O_MEMORY,
        O_CPUS,
        O_ENGINE,
        O_SERIAL,
        O_DEBUGEXIT,
        O_STATS,
        O_DEVICE,
        O_FRONTEND,
        O_HELP,
        O_NODEVICE,
        O_CPUPROFILE,
        O_FORCEMEM,
        O_LOGMAX,
        O_FIRMWARE,
        O_BIOS,
        O_BOOT,
        O_DRIVE,
        O_SCREENSHOT,
        O_NAME,
        O_DISPLAY,
        O_VRDE,
        O_INPUTFEED,
        O_RESTORE,
        O_NIC,
        O_GRAPHICS
    };
    static const struct option longopts[] = {
        {"kernel", required_argument, NULL, O_KERNEL},
        {"initrd", required_argument, NULL, O_INITRD},
        {"append", required_argument, NULL, O_APPEND},
        {"memory", required_argument, NULL, O_MEMORY},
        {"cpus", required_argument, NULL, O_CPUS},
        {"engine", required_argument, NULL, O_ENGINE},
        {"serial", required_argument, NULL, O_SERIAL},
        {"debug-exit", no_argument, NULL, O_DEBUGEXIT},
        {"stats", no_argument, NULL, O_STATS},
        {"device", required_argument, NULL, O_DEVICE},
        {"frontend", required_argument, NULL, O_FRONTEND},
        {"display", required_argument, NULL, O_DISPLAY},
        {"name", required_argument, NULL, O_NAME},
        {"help", no_argument, NULL, O_HELP},
        {"no-device", required_argument, NULL, O_NODEVICE},
        {"cpu-profile", required_argument, NULL, O_CPUPROFILE},
        {"force-memory", no_argument, NULL, O_FORCEMEM},
        {"log-max", required_argument, NULL, O_LOGMAX},
        {"firmware", required_argument, NULL, O_FIRMWARE},
        {"bios", required_argument, NULL, O_BIOS},
        {"boot", required_argument, NULL, O_BOOT},
        {"drive", required_argument, NULL, O_DRIVE},
        {"screenshot", required_argument, NULL, O_SCREENSHOT},
        {"vrde", required_argument, NULL, O_VRDE},
        {"input-feed", required_argument, NULL, O_INPUTFEED},
        {"restore", required_argument, NULL, O_RESTORE},
        {"nic", required_argument, NULL, O_NIC},
        {"graphics", required_argument, NULL, O_GRAPHICS},
        {NULL, 0, NULL, 0},
    };
    uint64_t v;
    bool boot_given = false;
    optind = 0; /* glibc: a full restart, not the rest of an earlier argv's "-xy" */
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, "", longopts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case O_KERNEL:
            o->kernel = optarg;
            break;
        case O_FIRMWARE:
            if (!one_of(err, "--firmware", optarg, "none", "bios"))
                return -1;
            o->firmware = optarg;
            break;
        case O_GRAPHICS:
            if (!one_of(err, "--graphics", optarg, "vga", "none"))
                return -1;
            o->graphics = optarg;
            break;
        case O_BIOS:
            if (!*optarg) {
                fprintf(err, "capsule-vm: --bios: no file name\n");
                return -1;
            }
            o->bios_image = optarg;
            break;
        case O_BOOT:
            o->boot_order = optarg;
            boot_given = true;
            break;
        case O_DRIVE:
            if (vmproc_add_drive(o, optarg, err))
                return -1;
            break;
        case O_NIC:
            if (vmproc_add_nic(o, optarg, err))
                return -1;
            break;
        case O_SCREENSHOT:
            if (!*optarg) {
                fprintf(err, "capsule-vm: --screenshot: no file name\n");
                return -1;
            }
            o->screenshot = optarg;
            break;
        case O_VRDE: {
            char why[160];
            if (vnc_parse_spec(optarg, &o->vrde_cfg, &o->vrde_password_file, why, sizeof(why))) {
                fprintf(err, "capsule-vm: --vrde: %s\n", why);
                return -1;
            }
            o->vrde = true;
            break;
        }
        case O_INPUTFEED:
            if (!*optarg) {
                fprintf(err, "capsule-vm: --input-feed: no file name\n");
                return -1;
            }
            o->input_feed = optarg;
            break;
        case O_RESTORE:
            if (!*optarg) {
                fprintf(err, "capsule-vm: --restore: no file name\n");
                return -1;
            }
            o->restore = optarg;
            break;
        case O_INITRD:
            o->initrd = optarg;
            break;
        case O_APPEND:
            o->append = optarg;
            break;
        case O_MEMORY:
            if (parse_u64("--memory", optarg, PLATFORM_MIN_RAM_MB, PLATFORM_MAX_RAM_MB,
                          &o->memory_mb, err))
                return -1;
            break;
        case O_FORCEMEM:
            o->force_memory = true;
            break;
        case O_LOGMAX:
            if (parse_u64("--log-max", optarg, 0, UINT64_MAX, &o->log_max, err))
                return -1;
            break;
        case O_CPUS:
            if (parse_u64("--cpus", optarg, PLATFORM_MIN_CPUS, PLATFORM_MAX_CPUS_ARCH, &v, err))
                return -1;
            if (v > PLATFORM_MAX_CPUS) {
                fprintf(err, "capsule-vm: --cpus %s: %s\n", optarg, PLATFORM_CPUS_WHY);
                return -1;
            }
            o->cpus = (unsigned)v;
            break;
        case O_ENGINE:
            /* raw is a known word: whether the engine is there is EM's
             * answer at vmproc_create (a setup failure, status 1) */
            if (CAP_FAILED(vm_engine_parse(optarg, &o->engine))) {
                fprintf(err, "capsule-vm: --engine: %s\n", cap_error_peek_message());
                cap_error_clear();
                return -1;
            }
            break;
        case O_CPUPROFILE:
            if (check_cpu_profile(optarg, err))
                return -1;
            o->cpu_profile = optarg;
            break;
        case O_SERIAL:
            o->serial = optarg;
            break;
        case O_DEBUGEXIT:
            o->debug_exit = true;
            break;
        case O_STATS:
            o->stats = true;
            break;
        case O_DEVICE:
            if (o->n_extra_devices == VMPROC_MAX_EXTRA_DEVICES) {
                fprintf(err, "capsule-vm: at most %d --device options\n", VMPROC_MAX_EXTRA_DEVICES);
                return -1;
            }
            if (check_device_spec(optarg, err))
                return -1;
            o->extra_devices[o->n_extra_devices++] = optarg;
            break;
        case O_NODEVICE:
            if (o->n_disabled_devices == VMPROC_MAX_EXTRA_DEVICES) {
                fprintf(err, "capsule-vm: at most %d --no-device options\n",
                        VMPROC_MAX_EXTRA_DEVICES);
                return -1;
            }
            if (!*optarg) {
                fprintf(err, "capsule-vm: --no-device: no device name\n");
                return -1;
            }
            o->disabled_devices[o->n_disabled_devices++] = optarg;
            break;
        case O_FRONTEND:
        case O_DISPLAY:
            if (!vmproc_find_frontend(optarg)) {
                char names[64];
                fprintf(err, "capsule-vm: %s '%s': unknown frontend (known: %s)\n",
                        c == O_DISPLAY ? "--display" : "--frontend", optarg,
                        vmproc_frontend_names(names, sizeof(names)));
                return -1;
            }
            o->frontend = optarg;
            break;
        case O_NAME:
            if (!*optarg) {
                fprintf(err, "capsule-vm: --name: no name\n");
                return -1;
            }
            o->name = optarg;
            break;
        case O_HELP:
            vmproc_usage(out);
            return 1;
        default:
            /* a short option ("-x", also inside "-xy") has optopt set and
             * optind not yet past its word; a long one is argv[optind - 1] */
            if (optopt > 0 && optopt < 256)
                fprintf(err, "capsule-vm: unknown or incomplete option '-%c' (see --help)\n",
                        optopt);
            else
                fprintf(err, "capsule-vm: unknown or incomplete option '%s' (see --help)\n",
                        argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(err, "capsule-vm: unexpected argument '%s' (see --help)\n", argv[optind]);
        return -1;
    }
    if (vmproc_opts_bios(o)) {
        /* QEMU boots -kernel under SeaBIOS through its linuxboot option
         * ROM, which Capsule does not have yet */
        if (o->kernel || o->initrd || o->append) {
            fprintf(err, "capsule-vm: --firmware bios boots from the BIOS: --kernel, --initrd "
                         "and --append are not supported with it yet\n");
            return -1;
        }
    } else if (boot_given) {
        fprintf(err, "capsule-vm: --boot is the BIOS's boot order: it needs --firmware bios\n");
        return -1;
    } else if (!o->kernel || !*o->kernel) {
        fprintf(err, "capsule-vm: --kernel FILE is required (see --help), or --firmware bios\n");
        return -1;
    }
    if (!serial_spec_ok(o->serial)) {
        fprintf(err, "capsule-vm: --serial '%s': expected stdio, file:PATH, unix:PATH or none\n",
                o->serial);
        return -1;
    }
    return 0;
}
