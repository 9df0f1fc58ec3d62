/*
 * tests/unit/vmproc/test_opts.c - capsule-vm's standalone command line
 * (plugins/frontends/vmproc/vmproc_opts.c): every option of --help, the
 * defaults, and each bad input refused (VMPROC_EXIT_USAGE in main) with
 * its message on the err stream and nothing on the out stream.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/platform_limits.h"
#include "vmproc_frontends.h"
#include "vmproc_test.h"

struct parsed {
    int r;
    struct vmproc_opts o;
    char *out, *err;
};

/* Parses the NULL-terminated words after "capsule-vm" into p. */
static void parse_words(struct parsed *p, char **words)
{
    char *argv[64] = {"capsule-vm"};
    int argc = 1;
    while (words[argc - 1]) {
        ck_assert_int_lt(argc, 63);
        argv[argc] = words[argc - 1];
        argc++;
    }
    size_t ol = 0, el = 0;
    FILE *out = open_memstream(&p->out, &ol), *err = open_memstream(&p->err, &el);
    ck_assert_ptr_nonnull(out);
    ck_assert_ptr_nonnull(err);
    vmproc_opts_init(&p->o);
    p->r = vmproc_parse_args(argc, argv, &p->o, out, err);
    fclose(out);
    fclose(err);
}

#define PARSE(p, ...) parse_words((p), (char *[]){__VA_ARGS__, NULL})

static void parsed_free(struct parsed *p)
{
    free(p->out);
    free(p->err);
}

/* Asserts that the words are refused with a message containing `part`. */
#define ck_refused(part, ...)                                                                      \
    do {                                                                                           \
        struct parsed p_;                                                                          \
        PARSE(&p_, __VA_ARGS__);                                                                   \
        ck_assert_msg(p_.r == -1, "accepted (%d), err '%s'", p_.r, p_.err);                        \
        ck_assert_msg(strstr(p_.err, (part)) != NULL, "message '%s' lacks '%s'", p_.err, (part));  \
        ck_assert_msg(!strncmp(p_.err, "capsule-vm: ", 12), "message '%s' unprefixed", p_.err);    \
        ck_assert_str_eq(p_.out, "");                                                              \
        parsed_free(&p_);                                                                          \
    } while (0)

/* ---- defaults and every option ---------------------------------------------------- */

START_TEST(test_defaults)
{
    struct vmproc_opts o;
    memset(&o, 0xa5, sizeof(o));
    vmproc_opts_init(&o);
    ck_assert_ptr_null(o.kernel);
    ck_assert_ptr_null(o.initrd);
    ck_assert_ptr_null(o.append);
    ck_assert_uint_eq(o.memory_mb, 64);
    ck_assert_uint_eq(o.cpus, 1);
    ck_assert_int_eq(o.engine, VM_ENGINE_AUTO);
    ck_assert_ptr_null(o.cpu_profile); /* vm_create's default, "host" */
    ck_assert_str_eq(o.serial, "stdio");
    ck_assert_uint_eq(o.serial_iobase, 0x3f8);
    ck_assert_uint_eq(o.serial_irq, 4);
    ck_assert(!o.debug_exit);
    ck_assert(!o.stats);
    ck_assert_str_eq(o.frontend, "headless");
    ck_assert_uint_eq(o.n_extra_devices, 0);
    ck_assert_uint_eq(o.n_disabled_devices, 0);
    ck_assert_uint_eq(o.start_ns, 0);

    struct parsed p;
    PARSE(&p, "--kernel", "k.bin");
    ck_assert_int_eq(p.r, 0);
    ck_assert_str_eq(p.o.kernel, "k.bin");
    ck_assert_uint_eq(p.o.memory_mb, 64);
    ck_assert_str_eq(p.o.serial, "stdio");
    ck_assert_str_eq(p.err, "");
    ck_assert_str_eq(p.out, "");
    parsed_free(&p);
}
END_TEST

START_TEST(test_all_options)
{
    struct parsed p;
    PARSE(&p, "--kernel", "vmlinux", "--initrd", "initrd.img", "--append", "console=ttyS0 quiet",
          "--memory", "0x100", "--cpus", "1", "--engine", "rem", "--serial", "file:/tmp/com1",
          "--debug-exit", "--device", "serial,iobase=0x2f8,irq=3", "--device", "rtc,irq=8",
          "--no-device", "apic", "--no-device", "ioapic", "--frontend", "headless", "--stats");
    ck_assert_msg(p.r == 0, "refused: %s", p.err);
    ck_assert_str_eq(p.o.kernel, "vmlinux");
    ck_assert_str_eq(p.o.initrd, "initrd.img");
    ck_assert_str_eq(p.o.append, "console=ttyS0 quiet");
    ck_assert_uint_eq(p.o.memory_mb, 256);
    ck_assert_uint_eq(p.o.cpus, 1);
    ck_assert_int_eq(p.o.engine, VM_ENGINE_REM);
    ck_assert_str_eq(p.o.serial, "file:/tmp/com1");
    ck_assert(p.o.debug_exit);
    ck_assert(p.o.stats);
    ck_assert_uint_eq(p.o.n_extra_devices, 2);
    ck_assert_str_eq(p.o.extra_devices[0], "serial,iobase=0x2f8,irq=3");
    ck_assert_str_eq(p.o.extra_devices[1], "rtc,irq=8");
    ck_assert_uint_eq(p.o.n_disabled_devices, 2);
    ck_assert_str_eq(p.o.disabled_devices[0], "apic");
    ck_assert_str_eq(p.o.disabled_devices[1], "ioapic");
    ck_assert_str_eq(p.o.frontend, "headless");
    ck_assert_str_eq(p.err, "");
    parsed_free(&p);

    /* --opt=value and the options in any order */
    PARSE(&p, "--memory=1024", "--engine=hm", "--kernel=bz", "--serial=unix:/run/s.sock");
    ck_assert_msg(p.r == 0, "refused: %s", p.err);
    ck_assert_uint_eq(p.o.memory_mb, 1024);
    ck_assert_int_eq(p.o.engine, VM_ENGINE_HM);
    ck_assert_str_eq(p.o.kernel, "bz");
    ck_assert_str_eq(p.o.serial, "unix:/run/s.sock");
    parsed_free(&p);
}
END_TEST

START_TEST(test_values)
{
    static const struct {
        const char *word;
        enum vm_engine engine;
    } engines[] = {{"auto", VM_ENGINE_AUTO}, {"hm", VM_ENGINE_HM}, {"rem", VM_ENGINE_REM}};
    struct parsed p;
    for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++) {
        PARSE(&p, "--kernel", "k", "--engine", (char *)engines[i].word);
        ck_assert_msg(p.r == 0, "--engine %s refused: %s", engines[i].word, p.err);
        ck_assert_int_eq(p.o.engine, engines[i].engine);
        parsed_free(&p);
    }
    static const char *const serials[] = {"stdio", "none", "file:com1.log", "unix:/tmp/x.sock"};
    for (size_t i = 0; i < sizeof(serials) / sizeof(serials[0]); i++) {
        PARSE(&p, "--kernel", "k", "--serial", (char *)serials[i]);
        ck_assert_msg(p.r == 0, "--serial %s refused: %s", serials[i], p.err);
        ck_assert_str_eq(p.o.serial, serials[i]);
        parsed_free(&p);
    }
    /* the limits of --memory */
    PARSE(&p, "--kernel", "k", "--memory", "1");
    ck_assert_int_eq(p.r, 0);
    ck_assert_uint_eq(p.o.memory_mb, 1);
    parsed_free(&p);
    char max[16];
    snprintf(max, sizeof(max), "%u", PLATFORM_MAX_RAM_MB);
    PARSE(&p, "--kernel", "k", "--memory", max);
    ck_assert_int_eq(p.r, 0);
    ck_assert_uint_eq(p.o.memory_mb, PLATFORM_MAX_RAM_MB);
    parsed_free(&p);
    /* the last of a repeated option wins */
    PARSE(&p, "--kernel", "a", "--kernel", "b", "--memory", "32", "--memory", "48");
    ck_assert_int_eq(p.r, 0);
    ck_assert_str_eq(p.o.kernel, "b");
    ck_assert_uint_eq(p.o.memory_mb, 48);
    parsed_free(&p);
}
END_TEST

START_TEST(test_help)
{
    struct parsed p;
    PARSE(&p, "--help");
    ck_assert_int_eq(p.r, 1);
    ck_assert_str_eq(p.err, "");
    static const char *const opts[] = {
        "--kernel",      "--initrd",   "--append",   "--memory", "--cpus",       "--engine",
        "--cpu-profile", "--serial",   "intel-core", "amd-epyc", "--debug-exit", "--device",
        "--no-device",   "--frontend", "--stats",    "--help",   "Exit status",  "--force-memory",
        "--log-max",     "--firmware", "--bios",     "--boot",   "--screenshot"};
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
        ck_assert_msg(strstr(p.out, opts[i]), "--help does not mention %s", opts[i]);
    parsed_free(&p);
    /* --help wins over a missing --kernel and is printed where asked */
    PARSE(&p, "--memory", "32", "--help", "--bogus");
    ck_assert_int_eq(p.r, 1);
    ck_assert(strstr(p.out, "usage: capsule-vm"));
    parsed_free(&p);
}
END_TEST

/* --help documents every exit status capsule-vm has, by value. */
START_TEST(test_help_statuses)
{
    struct parsed p;
    PARSE(&p, "--help");
    const int own[] = {VMPROC_EXIT_OK, VMPROC_EXIT_USAGE, VMPROC_EXIT_FAILURE, VMPROC_EXIT_ABORTED};
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
        char line[16];
        snprintf(line, sizeof(line), "\n  %d ", own[i]);
        ck_assert_msg(strstr(p.out, line), "--help does not document status %d", own[i]);
    }
    ck_assert(strstr(p.out, "(V<<1)|1"));
    ck_assert(strstr(p.out, "aborted"));
    parsed_free(&p);
}
END_TEST

/* ---- bad input ------------------------------------------------------------------- */

START_TEST(test_bad_numbers)
{
    /* the ranges are the platform's (platform/platform_limits.h) */
    char over[64], arg[16];
    ck_refused("--memory: 'abc' is not a number in 1..65024", "--kernel", "k", "--memory", "abc");
    ck_refused("--memory: '' is not a number", "--kernel", "k", "--memory", "");
    ck_refused("--memory: '64M' is not a number", "--kernel", "k", "--memory", "64M");
    ck_refused("--memory: '0' is not a number in 1..", "--kernel", "k", "--memory", "0");
    snprintf(arg, sizeof(arg), "%u", PLATFORM_MAX_RAM_MB + 1);
    snprintf(over, sizeof(over), "--memory: '%s'", arg);
    ck_refused(over, "--kernel", "k", "--memory", arg);
    ck_refused("--memory: '1048576'", "--kernel", "k", "--memory", "1048576"); /* the old bound */
    ck_refused("--memory: '99999999999999999999999'", "--kernel", "k", "--memory",
               "99999999999999999999999");
    ck_refused("--memory: '-1'", "--kernel", "k", "--memory", "-1");
    ck_refused("--cpus: 'two' is not a number in 1..255", "--kernel", "k", "--cpus", "two");
    ck_refused("--cpus: '0' is not a number", "--kernel", "k", "--cpus", "0");
    ck_refused("--cpus: '256'", "--kernel", "k", "--cpus", "256");
}
END_TEST

START_TEST(test_smp_refused)
{
    ck_refused("--cpus 2: this build runs 1 vCPU per machine until SMP", "--kernel", "k", "--cpus",
               "2");
    ck_refused("--cpus 255: " PLATFORM_CPUS_WHY, "--kernel", "k", "--cpus", "255");
}
END_TEST

START_TEST(test_bad_engine)
{
    ck_refused("--engine: em: unknown engine 'turbo' (expected auto, hm, rem or raw)\n", "--kernel",
               "k", "--engine", "turbo");
    ck_refused("--engine: em: unknown engine ''", "--kernel", "k", "--engine", "");
    /* raw is a known word; that it has no engine yet is vmproc_create's
     * answer (test_vmproc.c), VMPROC_EXIT_FAILURE as tests/integration/vm expects */
    struct parsed p;
    PARSE(&p, "--kernel", "k", "--engine", "RAW");
    ck_assert_int_eq(p.r, 0);
    ck_assert_int_eq(p.o.engine, VM_ENGINE_RAW);
    parsed_free(&p);
}
END_TEST

/* --cpu-profile takes the names of the VMM's table, exactly as it spells
 * them; anything else is a usage error listing them. */
START_TEST(test_cpu_profile)
{
    static const char *const good[] = {"host", "intel-core", "amd-epyc"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct parsed p;
        PARSE(&p, "--kernel", "k", "--cpu-profile", (char *)good[i]);
        ck_assert_int_eq(p.r, 0);
        ck_assert_str_eq(p.o.cpu_profile, good[i]);
        ck_assert_str_eq(p.err, "");
        parsed_free(&p);
    }
    struct parsed p;
    PARSE(&p, "--cpu-profile=amd-epyc", "--kernel", "k");
    ck_assert_int_eq(p.r, 0);
    ck_assert_str_eq(p.o.cpu_profile, "amd-epyc");
    parsed_free(&p);
    ck_refused("--cpu-profile 'pentium': unknown CPU profile (known: host, intel-core, amd-epyc)\n",
               "--kernel", "k", "--cpu-profile", "pentium");
    ck_refused("--cpu-profile '': unknown CPU profile (known: host", "--kernel", "k",
               "--cpu-profile", "");
    ck_refused("--cpu-profile 'AMD-EPYC': unknown", "--kernel", "k", "--cpu-profile", "AMD-EPYC");
    ck_refused("unknown or incomplete option '--cpu-profile'", "--kernel", "k", "--cpu-profile");
}
END_TEST

START_TEST(test_bad_serial)
{
    ck_refused("--serial 'tty': expected stdio, file:PATH, unix:PATH or none", "--kernel", "k",
               "--serial", "tty");
    ck_refused("--serial 'file:': expected", "--kernel", "k", "--serial", "file:");
    ck_refused("--serial 'unix:': expected", "--kernel", "k", "--serial", "unix:");
    ck_refused("--serial 'STDIO'", "--kernel", "k", "--serial", "STDIO");
}
END_TEST

START_TEST(test_bad_device)
{
    ck_refused("--device ',irq=3': no device name", "--kernel", "k", "--device", ",irq=3");
    ck_refused("--device '': no device name", "--kernel", "k", "--device", "");
    ck_refused("--device 'serial,irq': 'irq' is not key=value", "--kernel", "k", "--device",
               "serial,irq");
    ck_refused("--device 'serial,=3': '=3' is not key=value", "--kernel", "k", "--device",
               "serial,=3");
    ck_refused("--device 'rtc,irq=8,,x=1': '' is not key=value", "--kernel", "k", "--device",
               "rtc,irq=8,,x=1");
    ck_refused("--no-device: no device name", "--kernel", "k", "--no-device", "");

    /* a value may be empty or hold '=' */
    struct parsed p;
    PARSE(&p, "--kernel", "k", "--device", "fwcfg,cmdline=a=b,x=");
    ck_assert_msg(p.r == 0, "refused: %s", p.err);
    parsed_free(&p);

    /* at most VMPROC_MAX_EXTRA_DEVICES of each */
    char *words[2 * VMPROC_MAX_EXTRA_DEVICES + 8];
    size_t n = 0;
    words[n++] = "--kernel";
    words[n++] = "k";
    for (int i = 0; i <= VMPROC_MAX_EXTRA_DEVICES; i++) {
        words[n++] = "--device";
        words[n++] = "port80";
    }
    words[n] = NULL;
    parse_words(&p, words);
    ck_assert_int_eq(p.r, -1);
    ck_assert_msg(strstr(p.err, "at most 16 --device options"), "message '%s'", p.err);
    parsed_free(&p);
    for (size_t i = 2; i < n; i += 2)
        words[i] = "--no-device";
    parse_words(&p, words);
    ck_assert_int_eq(p.r, -1);
    ck_assert_msg(strstr(p.err, "at most 16 --no-device options"), "message '%s'", p.err);
    parsed_free(&p);
}
END_TEST

START_TEST(test_bad_frontend)
{
    ck_refused("--frontend 'qt': unknown frontend (known: headless, sdl, gui)", "--kernel", "k",
               "--frontend", "qt");
    ck_refused("--display 'qt': unknown frontend (known: headless, sdl, gui)", "--kernel", "k",
               "--display", "qt");
    ck_refused("--name: no name", "--kernel", "k", "--name", "");
}
END_TEST

/* --display is --frontend's other name; gui is sdl's; --name names the VM. */
START_TEST(test_display)
{
    static const char *const names[] = {"sdl", "gui", "headless"};
    for (unsigned i = 0; i < 3; i++) {
        struct parsed p;
        PARSE(&p, "--kernel", "k", "--display", (char *)names[i], "--name", "demo");
        ck_assert_int_eq(p.r, 0);
        ck_assert_str_eq(p.o.frontend, names[i]);
        ck_assert_str_eq(p.o.name, "demo");
        parsed_free(&p);
    }
    ck_assert_str_eq(vmproc_find_frontend("gui")->name, "sdl");
    ck_assert_str_eq(vmproc_find_frontend("sdl")->name, "sdl");
    ck_assert_ptr_null(vmproc_find_frontend("GUI"));
    ck_assert_ptr_null(vmproc_find_frontend(NULL));
    char buf[8];
    ck_assert_str_eq(vmproc_frontend_names(buf, sizeof(buf)), "headles"); /* truncated */
}
END_TEST

START_TEST(test_unknown_option)
{
    ck_refused("unknown or incomplete option '--bogus' (see --help)", "--kernel", "k", "--bogus");
    ck_refused("unknown or incomplete option '-x'", "--kernel", "k", "-x");
    ck_refused("unknown or incomplete option '-q'", "-qv", "--kernel", "k");
    ck_refused("unknown or incomplete option '--memory'", "--kernel", "k", "--memory");
    ck_refused("unknown or incomplete option '--stats=1'", "--kernel", "k", "--stats=1");
    ck_refused("unexpected argument 'extra' (see --help)", "--kernel", "k", "extra");
    ck_refused("unexpected argument 'extra'", "extra", "--kernel", "k");
}
END_TEST

/* A parse that stopped inside "-qv" must not leak into the next one. */
START_TEST(test_reparse)
{
    struct parsed p;
    PARSE(&p, "-qv");
    ck_assert_int_eq(p.r, -1);
    parsed_free(&p);
    PARSE(&p, "--kernel", "k", "--memory", "128");
    ck_assert_msg(p.r == 0, "refused after a failed parse: %s", p.err);
    ck_assert_uint_eq(p.o.memory_mb, 128);
    parsed_free(&p);
}
END_TEST

/* The host's limits: --force-memory, --log-max, and their variables. */
START_TEST(test_limits)
{
    unsetenv("CAPSULE_FORCE_MEMORY");
    unsetenv("CAPSULE_VM_LOG_MAX");
    struct parsed p;
    PARSE(&p, "--kernel", "k");
    ck_assert_int_eq(p.r, 0);
    ck_assert(!p.o.force_memory);
    ck_assert_uint_eq(p.o.log_max, VMPROC_LOG_MAX_DEFAULT);
    parsed_free(&p);
    PARSE(&p, "--kernel", "k", "--force-memory", "--log-max", "4096");
    ck_assert_msg(p.r == 0, "refused: %s", p.err);
    ck_assert(p.o.force_memory);
    ck_assert_uint_eq(p.o.log_max, 4096);
    parsed_free(&p);
    setenv("CAPSULE_FORCE_MEMORY", "1", 1);
    setenv("CAPSULE_VM_LOG_MAX", "0", 1);
    PARSE(&p, "--kernel", "k");
    ck_assert(p.o.force_memory);
    ck_assert_uint_eq(p.o.log_max, 0);
    parsed_free(&p);
    setenv("CAPSULE_FORCE_MEMORY", "yes", 1); /* only "1" forces */
    setenv("CAPSULE_VM_LOG_MAX", "lots", 1);  /* not a number: the default */
    PARSE(&p, "--kernel", "k");
    ck_assert(!p.o.force_memory);
    ck_assert_uint_eq(p.o.log_max, VMPROC_LOG_MAX_DEFAULT);
    parsed_free(&p);
    unsetenv("CAPSULE_FORCE_MEMORY");
    unsetenv("CAPSULE_VM_LOG_MAX");
    ck_refused("--log-max: 'x' is not a number", "--kernel", "k", "--log-max", "x");
}
END_TEST

START_TEST(test_missing_kernel)
{
    ck_refused("--kernel FILE is required (see --help)", "--memory", "32");
    ck_refused("--kernel FILE is required", "--kernel", "");
    ck_refused("--kernel FILE is required", "--kernel=");
}
END_TEST

START_TEST(test_firmware)
{
    struct parsed p;
    PARSE(&p, "--kernel", "k");
    ck_assert_int_eq(p.r, 0);
    ck_assert_str_eq(p.o.firmware, "none");
    ck_assert(!vmproc_opts_bios(&p.o));
    parsed_free(&p);
    PARSE(&p, "--firmware", "bios");
    ck_assert_int_eq(p.r, 0); /* no --kernel needed */
    ck_assert(vmproc_opts_bios(&p.o));
    ck_assert_str_eq(p.o.bios_image, VMPROC_BIOS_DEFAULT);
    parsed_free(&p);
    PARSE(&p, "--firmware", "bios", "--bios", "/x/bios.bin");
    ck_assert_int_eq(p.r, 0);
    ck_assert_str_eq(p.o.bios_image, "/x/bios.bin");
    ck_assert_str_eq(p.o.boot_order, VMPROC_BOOT_DEFAULT);
    parsed_free(&p);
    PARSE(&p, "--firmware", "bios", "--boot", "disk,net");
    ck_assert_int_eq(p.r, 0);
    ck_assert_str_eq(p.o.boot_order, "disk,net");
    parsed_free(&p);
    ck_refused("it needs --firmware bios", "--kernel", "k", "--boot", "disk");
    ck_refused("expected none or bios", "--firmware", "efi");
    ck_refused("--bios: no file name", "--firmware", "bios", "--bios", "");
    ck_refused("not supported with it yet", "--firmware", "bios", "--kernel", "k");
    ck_refused("not supported with it yet", "--firmware", "bios", "--append", "x");
    ck_refused("--kernel FILE is required", "--firmware", "none");
}
END_TEST

/* --drive (vmproc_drive.c): the storage contract with the service. */
START_TEST(test_drive)
{
    struct parsed p;
    PARSE(&p, "--firmware", "bios", "--drive", "media=disk,device=1,if=ide,port=1,file=/a,b=c.img",
          "--drive", "if=ide,port=0,device=0,media=cdrom", "--drive",
          "if=IDE,port=1,device=0,media=disk,readonly=on,format=VDI,file=d.vdi");
    ck_assert_msg(p.r == 0, "%s", p.err);
    ck_assert_uint_eq(p.o.n_drives, 3);
    const struct vmproc_drive *d = p.o.drives;
    ck_assert_str_eq(d[0].bus, "ide");
    ck_assert_uint_eq(d[0].port, 1);
    ck_assert_uint_eq(d[0].device, 1);
    ck_assert(!d[0].cdrom && !d[0].readonly && !d[0].format);
    ck_assert_str_eq(d[0].file, "/a,b=c.img"); /* file= takes the rest */
    ck_assert(d[1].cdrom && d[1].readonly && !d[1].file);
    ck_assert(d[2].readonly && !d[2].cdrom);
    ck_assert_str_eq(d[2].format, "vdi");
    parsed_free(&p);
    PARSE(&p, "--kernel", "k", "--drive", "if=sata,port=29,device=0,media=disk,file=x");
    ck_assert_msg(p.r == 0, "%s", p.err);
    ck_assert_str_eq(p.o.drives[0].bus, "sata");
    ck_assert_uint_eq(p.o.drives[0].port, 29);
    parsed_free(&p);
    PARSE(&p, "--kernel", "k", "--drive", "if=virtio,port=15,media=disk,file=x");
    ck_assert_msg(p.r == 0 && p.o.n_drives == 1, "%s", p.err);
    ck_assert_str_eq(p.o.drives[0].bus, "virtio");
    ck_assert_uint_eq(p.o.drives[0].port, 15);
    parsed_free(&p);
    ck_refused("virtio has ports 0-15 and devices 0-0", "--kernel", "k", "--drive",
               "if=virtio,port=16,media=disk,file=x");
    ck_refused("virtio-blk has no removable media", "--kernel", "k", "--drive",
               "if=virtio,media=cdrom,file=x.iso");
    ck_refused("sata has ports 0-29 and devices 0-0", "--kernel", "k", "--drive",
               "if=sata,port=30,media=disk,file=x");
    ck_refused("ide has ports 0-1 and devices 0-1", "--kernel", "k", "--drive",
               "if=ide,device=2,media=disk,file=x");
    ck_refused("if= is missing", "--kernel", "k", "--drive", "media=disk,file=x");
    ck_refused("unknown controller 'scsi'", "--kernel", "k", "--drive", "if=scsi,file=x");
    ck_refused("port= given twice", "--kernel", "k", "--drive", "if=ide,port=0,port=1,file=x");
    ck_refused("'port' is not key=value", "--kernel", "k", "--drive", "if=ide,port,file=x");
    ck_refused("a trailing comma", "--kernel", "k", "--drive", "if=ide,media=cdrom,");
    ck_refused("file= names no file", "--kernel", "k", "--drive", "if=ide,file=");
    ck_refused("media= is disk or cdrom, not 'tape'", "--kernel", "k", "--drive",
               "if=ide,media=tape,file=x");
    ck_refused("readonly= is on or off, not 'yes'", "--kernel", "k", "--drive",
               "if=ide,readonly=yes,file=x");
    ck_refused("a disk needs file=PATH", "--kernel", "k", "--drive", "if=ide");
    ck_refused("ide port 1 device 0 has a drive already", "--kernel", "k", "--drive",
               "if=ide,port=1,media=cdrom", "--drive", "if=ide,port=1,device=0,media=cdrom");
}
END_TEST

/* --nic (vmproc_nic.c): attachment, model, MAC, link, port forwards, trace. */
START_TEST(test_nic)
{
    struct parsed p;
    PARSE(&p, "--kernel", "k", "--nic", "nat", "--nic",
          "nat,model=virtio,mac=52:54:00:AB:cd:ef,link=off,hostfwd=tcp::2222-:22,"
          "hostfwd=udp:127.0.0.2:5353-10.0.2.16:53,trace=/tmp/a,b.pcap",
          "--nic", "nat,model=82540EM", "--nic", "nat,model=e1000");
    ck_assert_msg(p.r == 0, "%s", p.err);
    ck_assert_uint_eq(p.o.n_nics, 4);
    const struct vmproc_nic *n = &p.o.nics[0];
    ck_assert_str_eq(n->attachment, "nat");
    ck_assert_str_eq(n->model, "e1000"); /* VirtualBox's default adapter */
    ck_assert_str_eq(p.o.nics[1].model, "virtio");
    ck_assert_str_eq(p.o.nics[2].model, "e1000"); /* VirtualBox's nictype name */
    ck_assert_str_eq(p.o.nics[3].model, "e1000");
    ck_assert_str_eq(n->mac, "");
    ck_assert(n->link);
    ck_assert_uint_eq(n->n_fwd, 0);
    ck_assert_ptr_null(n->trace);
    n = &p.o.nics[1];
    ck_assert_str_eq(n->mac, "52:54:00:AB:cd:ef");
    ck_assert(!n->link);
    ck_assert_uint_eq(n->n_fwd, 2);
    ck_assert(!n->fwd[0].udp);
    ck_assert_uint_eq(n->fwd[0].host_addr, 0x7f000001u); /* loopback unless given */
    ck_assert_uint_eq(n->fwd[0].host_port, 2222);
    ck_assert_uint_eq(n->fwd[0].guest_addr, 0); /* the DHCP address */
    ck_assert_uint_eq(n->fwd[0].guest_port, 22);
    ck_assert(n->fwd[1].udp);
    ck_assert_uint_eq(n->fwd[1].host_addr, 0x7f000002u);
    ck_assert_uint_eq(n->fwd[1].guest_addr, 0x0a000210u);
    ck_assert_uint_eq(n->fwd[1].guest_port, 53);
    ck_assert_str_eq(n->trace, "/tmp/a,b.pcap"); /* the rest of the argument */
    parsed_free(&p);
    ck_refused("the attachment comes first: nat (not 'model=virtio')", "--kernel", "k", "--nic",
               "model=virtio");
    ck_refused("attachment 'bridged' is not in this build yet", "--kernel", "k", "--nic",
               "bridged");
    ck_refused("unknown model 'rtl8139' (e1000, 82540EM, virtio)", "--kernel", "k", "--nic",
               "nat,model=rtl8139");
    ck_refused("mac '01:00:00:00:00:01' is not a unicast address", "--kernel", "k", "--nic",
               "nat,mac=01:00:00:00:00:01");
    ck_refused("mac '52:54:00:12:34' is not", "--kernel", "k", "--nic", "nat,mac=52:54:00:12:34");
    ck_refused("link= is on or off, not 'up'", "--kernel", "k", "--nic", "nat,link=up");
    ck_refused("hostfwd 'tcp:2222:22' is not", "--kernel", "k", "--nic", "nat,hostfwd=tcp:2222:22");
    ck_refused("hostfwd 'tcp::0-:22' is not", "--kernel", "k", "--nic", "nat,hostfwd=tcp::0-:22");
    ck_refused("hostfwd 'tcp::2222-:70000' is not", "--kernel", "k", "--nic",
               "nat,hostfwd=tcp::2222-:70000");
    ck_refused("hostfwd 'sctp::1-:2' is not", "--kernel", "k", "--nic", "nat,hostfwd=sctp::1-:2");
    ck_refused("hostfwd 'tcp:1.2.3:1-:2' is not", "--kernel", "k", "--nic",
               "nat,hostfwd=tcp:1.2.3:1-:2");
    ck_refused("host port 2222 forwarded twice", "--kernel", "k", "--nic",
               "nat,hostfwd=tcp::2222-:22,hostfwd=tcp::2222-:23");
    ck_refused("unknown key 'speed'", "--kernel", "k", "--nic", "nat,speed=1000");
    ck_refused("model= given twice", "--kernel", "k", "--nic", "nat,model=virtio,model=virtio");
    ck_refused("a trailing comma", "--kernel", "k", "--nic", "nat,");
    ck_refused("trace= names no file", "--kernel", "k", "--nic", "nat,trace=");
    ck_refused("at most 4 --nic options", "--kernel", "k", "--nic", "nat", "--nic", "nat", "--nic",
               "nat", "--nic", "nat", "--nic", "nat");
}
END_TEST

/* --screenshot FILE: kept as given; an empty name is refused */
START_TEST(test_screenshot)
{
    struct parsed p;
    PARSE(&p, "--firmware", "bios");
    ck_assert_ptr_null(p.o.screenshot);
    parsed_free(&p);
    PARSE(&p, "--firmware", "bios", "--screenshot", "/x/screen.png");
    ck_assert_int_eq(p.r, 0);
    ck_assert_str_eq(p.o.screenshot, "/x/screen.png");
    parsed_free(&p);
    ck_refused("--screenshot: no file name", "--firmware", "bios", "--screenshot", "");
}
END_TEST

/* --graphics: unset means the firmware's default (vmproc.c), a bad value
 * is refused naming the good ones; --help says what each gives. */
START_TEST(test_graphics)
{
    struct parsed p;
    PARSE(&p, "--kernel", "k");
    ck_assert_ptr_null(p.o.graphics);
    parsed_free(&p);
    PARSE(&p, "--kernel", "k", "--graphics", "vga");
    ck_assert_int_eq(p.r, 0);
    ck_assert_str_eq(p.o.graphics, "vga");
    parsed_free(&p);
    PARSE(&p, "--firmware", "bios", "--graphics", "none");
    ck_assert_int_eq(p.r, 0);
    ck_assert_str_eq(p.o.graphics, "none");
    parsed_free(&p);
    ck_refused("--graphics 'vmsvga': expected vga or none", "--kernel", "k", "--graphics",
               "vmsvga");
    ck_refused("--graphics '': expected vga or none", "--kernel", "k", "--graphics", "");
    PARSE(&p, "--help");
    ck_assert(strstr(p.out, "--graphics G"));
    ck_assert(strstr(p.out, "console=tty0"));
    parsed_free(&p);
}
END_TEST

START_TEST(test_vrde)
{
    struct parsed p;
    PARSE(&p, "--firmware", "bios");
    ck_assert(!p.o.vrde);
    parsed_free(&p);
    char spec[] = "port=0,address=0.0.0.0,password-file=/x/pw";
    PARSE(&p, "--firmware", "bios", "--vrde", spec);
    ck_assert_int_eq(p.r, 0);
    ck_assert(p.o.vrde);
    ck_assert_uint_eq(p.o.vrde_cfg.port, 0);
    ck_assert_str_eq(p.o.vrde_cfg.address, "0.0.0.0");
    ck_assert_ptr_null(p.o.vrde_cfg.password); /* never on the command line */
    ck_assert_str_eq(p.o.vrde_password_file, "/x/pw");
    parsed_free(&p);
    char bad1[] = "address=1.2.3.4", bad2[] = "port=5900,password=x";
    ck_refused("--vrde: no port=", "--firmware", "bios", "--vrde", bad1);
    ck_refused("--vrde: unknown key 'password'", "--firmware", "bios", "--vrde", bad2);
}
END_TEST

Suite *opts_suite(void)
{
    Suite *s = suite_create("vmproc_opts");
    VT_CASE(s, "valid", 0, test_defaults, test_all_options, test_values, test_help,
            test_cpu_profile, test_limits, test_display);
    VT_CASE(s, "invalid", 0, test_bad_numbers, test_smp_refused, test_bad_engine, test_bad_serial,
            test_bad_device, test_bad_frontend, test_unknown_option, test_reparse,
            test_missing_kernel, test_firmware, test_drive, test_nic, test_screenshot, test_vrde,
            test_graphics);
    VT_CASE(s, "statuses", 0, test_help_statuses);
    return s;
}
