/*
 * plugins/frontends/manage/cmd_list.c - `capsule list vms|runningvms|ostypes|
 * cpuprofiles|hostinfo|systemproperties|hdds|dvds [--long]`.
 *
 * `list hdds` and `list dvds` print one block per registered medium
 * (showmediuminfo's, without the variant and the size on disk), each ended
 * by an empty line, as VBoxManage does.
 * `list vms` and `list runningvms` print one `"name" {uuid}` line per
 * machine (VBoxManage's format, which scripts parse); an inaccessible
 * machine prints as `"<inaccessible>" {uuid}` followed by an indented line
 * with the reason; with --long (-l), each machine's showvminfo block
 * (VBoxManage's `list -l vms`). The other lists are `Label: value` lines for people;
 * ostypes and cpuprofiles print one block per item, each ended by an empty
 * line (VBoxManage's `list ostypes` / `list cpu-profiles`).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <capsule/mem.h>
#include <capsule/uuid.h>

#include "manage.h"

enum list_what {
    LIST_VMS,
    LIST_RUNNINGVMS,
    LIST_OSTYPES,
    LIST_HOSTINFO,
    LIST_SYSTEMPROPERTIES,
    LIST_CPUPROFILES,
    LIST_HDDS,
    LIST_DVDS,
};

static const struct cli_choice lists[] = {
    [LIST_VMS] = {"vms", "the registered machines"},
    [LIST_RUNNINGVMS] = {"runningvms", "the machines with a VM process"},
    [LIST_OSTYPES] = {"ostypes", "the guest OS types (createvm --ostype)"},
    [LIST_HOSTINFO] = {"hostinfo", "the host: processors, memory, OS, host driver, time"},
    [LIST_SYSTEMPROPERTIES] = {"systemproperties", "the limits and global defaults"},
    [LIST_CPUPROFILES] = {"cpuprofiles", "the CPU profiles (modifyvm --cpu-profile)"},
    [LIST_HDDS] = {"hdds", "the registered hard disk images"},
    [LIST_DVDS] = {"dvds", "the registered DVD images"},
    {NULL, NULL},
};

struct list_args {
    int what; /* enum list_what */
    int longer;
};

static const struct cli_arg list_args[] = {
    CLI_CHOICE("LIST", lists, struct list_args, what,
               "what to list is missing (vms, runningvms, ostypes, cpuprofiles, hostinfo, "
               "systemproperties, hdds, dvds)"),
    CLI_FLAG("--long", struct list_args, longer,
             "vms, runningvms: every detail of each machine (as showvminfo)"),
    CLI_ALIAS("-l", NULL, cli_arg_flag, struct list_args, longer),
    CLI_ARGS_END,
};

/* Prints one machine's `"name" {uuid}` line (and the reason if inaccessible). */
static cap_result print_vm_line(IMachine *m)
{
    cap_uuid id;
    cap_bool ok = 0;
    char ubuf[CAP_UUID_BUFSIZE];
    cap_result rc = IMachine_GetId(m, &id);
    if (CAP_SUCCEEDED(rc))
        rc = IMachine_GetAccessible(m, &ok);
    if (CAP_FAILED(rc))
        return rc;
    cap_uuid_format(&id, ubuf);
    if (!ok) {
        IErrorInfo *ei = NULL;
        char *msg = NULL;
        if (CAP_SUCCEEDED(IMachine_GetAccessError(m, &ei)) && ei)
            IErrorInfo_GetMessage(ei, &msg);
        printf("\"<inaccessible>\" {%s}\n    %s\n", ubuf, msg && *msg ? msg : "(no reason given)");
        cap_str_free(msg);
        cli_release(ei);
        return CAP_OK;
    }
    char *name = NULL;
    rc = IMachine_GetName(m, &name);
    if (CAP_FAILED(rc))
        return rc;
    printf("\"%s\" {%s}\n", name, ubuf);
    cap_str_free(name);
    return CAP_OK;
}

static int is_online(MachineState s)
{
    return s == MachineState_Running || s == MachineState_Paused || s == MachineState_Stuck ||
           s == MachineState_Starting || s == MachineState_Stopping || s == MachineState_Saving ||
           s == MachineState_Restoring;
}

/* Sets what failed (for cli_with_vm's report) and passes rc on. */
static cap_result at(struct cli_vm *vm, cap_result rc, const char *what)
{
    if (CAP_FAILED(rc))
        vm->what = what;
    return rc;
}

static cap_result list_vms(struct cli_vm *vm, const struct list_args *a)
{
    uint32_t n = 0, ns = 0, shown = 0;
    IMachine **machines = NULL;
    MachineState *states = NULL;
    cap_result rc =
        at(vm, ICapsule_GetMachines(vm->ctx->root, &n, &machines), "ICapsule::machines");
    if (CAP_SUCCEEDED(rc) && a->what == LIST_RUNNINGVMS && n > 0) {
        rc = ICapsule_GetMachineStates(vm->ctx->root, n, machines, &ns, &states);
        if (CAP_SUCCEEDED(rc) && ns != n)
            rc = cap_error_set(CAP_E_UNEXPECTED, "capsule", "ICapsule",
                               "%" PRIu32 " states for %" PRIu32 " machines", ns, n);
        at(vm, rc, "ICapsule::getMachineStates");
    }
    for (uint32_t i = 0; i < n && CAP_SUCCEEDED(rc); i++) {
        if (states && !is_online(states[i]))
            continue;
        vm->what = "IMachine";
        if (!a->longer) {
            rc = print_vm_line(machines[i]);
            continue;
        }
        if (shown++)
            putchar('\n');
        rc = cli_show_vm(vm->ctx->root, machines[i], 0, &vm->what);
    }
    cap_array_free(CAP_TLT_ENUM, ns, states);
    cli_release_array(n, machines);
    return rc;
}

static cap_result list_ostypes(struct cli_vm *vm)
{
    uint32_t n = 0;
    IGuestOSType **types = NULL;
    cap_result rc = ICapsule_GetGuestOSTypes(vm->ctx->root, &n, &types);
    if (CAP_FAILED(rc))
        return at(vm, rc, "ICapsule::guestOSTypes");
    for (uint32_t i = 0; i < n && CAP_SUCCEEDED(rc); i++) {
        char *id = NULL, *fam = NULL, *fam_desc = NULL, *desc = NULL;
        cap_bool b64 = 0;
        uint32_t ram = 0, cpus = 0;
        rc = IGuestOSType_GetId(types[i], &id);
        if (CAP_SUCCEEDED(rc))
            rc = IGuestOSType_GetDescription(types[i], &desc);
        if (CAP_SUCCEEDED(rc))
            rc = IGuestOSType_GetFamilyId(types[i], &fam);
        if (CAP_SUCCEEDED(rc))
            rc = IGuestOSType_GetFamilyDescription(types[i], &fam_desc);
        if (CAP_SUCCEEDED(rc))
            rc = IGuestOSType_GetIs64Bit(types[i], &b64);
        if (CAP_SUCCEEDED(rc))
            rc = IGuestOSType_GetRecommendedRAM(types[i], &ram);
        if (CAP_SUCCEEDED(rc))
            rc = IGuestOSType_GetRecommendedCPUCount(types[i], &cpus);
        if (CAP_SUCCEEDED(rc))
            printf("ID:          %s\nDescription: %s\nFamily ID:   %s\nFamily Desc: %s\n"
                   "64 bit:      %s\nMemory:      %" PRIu32 " MB\nCPUs:        %" PRIu32 "\n\n",
                   id, desc, fam, fam_desc, b64 ? "true" : "false", ram, cpus);
        cap_str_free(id);
        cap_str_free(fam);
        cap_str_free(fam_desc);
        cap_str_free(desc);
    }
    cli_release_array(n, types);
    return at(vm, rc, "IGuestOSType");
}

/* CPUID's brand string is padded with spaces on some CPUs (the host's). */
static const char *trimmed(char *s)
{
    size_t n = s ? strlen(s) : 0;
    while (n && s[n - 1] == ' ')
        s[--n] = '\0';
    while (s && *s == ' ')
        s++;
    return s ? s : "";
}

/* The service's profiles (ISystemProperties' cpuProfiles), the default
 * first: the CLI knows none of them itself. */
static cap_result list_cpuprofiles(struct cli_vm *vm)
{
    ISystemProperties *sp = NULL;
    ICPUProfile **profs = NULL;
    uint32_t n = 0;
    cap_result rc = ICapsule_GetSystemProperties(vm->ctx->root, &sp);
    if (CAP_FAILED(rc))
        return at(vm, rc, "ICapsule::systemProperties");
    rc = ISystemProperties_GetCpuProfiles(sp, &n, &profs);
    cli_release(sp);
    if (CAP_FAILED(rc))
        return at(vm, rc, "ISystemProperties::cpuProfiles");
    for (uint32_t i = 0; i < n && CAP_SUCCEEDED(rc); i++) {
        char *name = NULL, *vendor = NULL, *desc = NULL, *brand = NULL;
        rc = ICPUProfile_GetName(profs[i], &name);
        if (CAP_SUCCEEDED(rc))
            rc = ICPUProfile_GetVendor(profs[i], &vendor);
        if (CAP_SUCCEEDED(rc))
            rc = ICPUProfile_GetDescription(profs[i], &desc);
        if (CAP_SUCCEEDED(rc))
            rc = ICPUProfile_GetBrand(profs[i], &brand);
        if (CAP_SUCCEEDED(rc))
            printf("Name:        %s\nVendor:      %s\nDescription: %s\nBrand:       %s\n\n", name,
                   vendor, desc, trimmed(brand));
        cap_str_free(name);
        cap_str_free(vendor);
        cap_str_free(desc);
        cap_str_free(brand);
    }
    cli_release_array(n, profs);
    return at(vm, rc, "ICPUProfile");
}

static const char *driver_name(HostDriverKind k)
{
    switch (k) {
    case HostDriverKind_Kvm:
        return "kvm";
    case HostDriverKind_Whp:
        return "whp";
    default:
        return "none";
    }
}

static cap_result list_hostinfo(struct cli_vm *vm)
{
    IHost *h = NULL;
    cap_result rc = ICapsule_GetHost(vm->ctx->root, &h);
    if (CAP_FAILED(rc))
        return at(vm, rc, "ICapsule::host");
    uint32_t ncpu = 0, mhz = 0, mem = 0, avail = 0;
    cap_bool hwv = 0, drv_ok = 0;
    char *desc = NULL, *os = NULL, *osver = NULL, *drv_status = NULL;
    HostDriverKind drv = HostDriverKind_Null;
    int64_t now = 0;
    if (CAP_SUCCEEDED(rc))
        rc = IHost_GetProcessorCount(h, &ncpu);
    if (CAP_SUCCEEDED(rc))
        rc = IHost_GetProcessorSpeed(h, &mhz);
    if (CAP_SUCCEEDED(rc))
        rc = IHost_GetProcessorDescription(h, &desc);
    if (CAP_SUCCEEDED(rc))
        rc = IHost_GetHwVirtSupported(h, &hwv);
    if (CAP_SUCCEEDED(rc))
        rc = IHost_GetMemorySize(h, &mem);
    if (CAP_SUCCEEDED(rc))
        rc = IHost_GetMemoryAvailable(h, &avail);
    if (CAP_SUCCEEDED(rc))
        rc = IHost_GetOperatingSystem(h, &os);
    if (CAP_SUCCEEDED(rc))
        rc = IHost_GetOsVersion(h, &osver);
    if (CAP_SUCCEEDED(rc))
        rc = IHost_GetHostDriver(h, &drv);
    if (CAP_SUCCEEDED(rc))
        rc = IHost_GetHostDriverAvailable(h, &drv_ok);
    if (CAP_SUCCEEDED(rc))
        rc = IHost_GetHostDriverStatus(h, &drv_status);
    if (CAP_SUCCEEDED(rc))
        rc = IHost_GetUtcTime(h, &now);
    char when[48];
    cli_format_time(now, 1, when, sizeof(when));
    if (CAP_SUCCEEDED(rc))
        printf("Host Information:\n\n"
               "Host time: %s\n"
               "Processor count: %" PRIu32 "\n"
               "Processor speed: %" PRIu32 " MHz\n"
               "Processor description: %s\n"
               "Processor supports HW virtualization: %s\n"
               "Memory size: %" PRIu32 " MByte\n"
               "Memory available: %" PRIu32 " MByte\n"
               "Operating system: %s\n"
               "Operating system version: %s\n"
               "Host driver: %s (%s)\n"
               "Host driver status: %s\n",
               when, ncpu, mhz, desc, hwv ? "yes" : "no", mem, avail, os, osver, driver_name(drv),
               drv_ok ? "available" : "not available", drv_status);
    cap_str_free(desc);
    cap_str_free(os);
    cap_str_free(osver);
    cap_str_free(drv_status);
    cli_release(h);
    return at(vm, rc, "IHost");
}

static cap_result list_systemproperties(struct cli_vm *vm)
{
    ISystemProperties *sp = NULL;
    cap_result rc = ICapsule_GetSystemProperties(vm->ctx->root, &sp);
    if (CAP_FAILED(rc))
        return at(vm, rc, "ICapsule::systemProperties");
    uint32_t minram = 0, maxram = 0, mincpu = 0, maxcpu = 0, nser = 0, nnic = 0, nlog = 0, idle = 0,
             neng = 0;
    ExecutionEngine *eng = NULL;
    char *folder = NULL, *front = NULL;
    if (CAP_SUCCEEDED(rc))
        rc = ISystemProperties_GetMinGuestRAM(sp, &minram);
    if (CAP_SUCCEEDED(rc))
        rc = ISystemProperties_GetMaxGuestRAM(sp, &maxram);
    if (CAP_SUCCEEDED(rc))
        rc = ISystemProperties_GetMinGuestCPUCount(sp, &mincpu);
    if (CAP_SUCCEEDED(rc))
        rc = ISystemProperties_GetMaxGuestCPUCount(sp, &maxcpu);
    if (CAP_SUCCEEDED(rc))
        rc = ISystemProperties_GetSerialPortCount(sp, &nser);
    if (CAP_SUCCEEDED(rc))
        rc = ISystemProperties_GetNetworkAdapterCount(sp, &nnic);
    if (CAP_SUCCEEDED(rc))
        rc = ISystemProperties_GetSupportedEngines(sp, &neng, &eng);
    if (CAP_SUCCEEDED(rc))
        rc = ISystemProperties_GetDefaultMachineFolder(sp, &folder);
    if (CAP_SUCCEEDED(rc))
        rc = ISystemProperties_GetDefaultFrontend(sp, &front);
    if (CAP_SUCCEEDED(rc))
        rc = ISystemProperties_GetLogHistoryCount(sp, &nlog);
    if (CAP_SUCCEEDED(rc))
        rc = ISystemProperties_GetServiceIdleTimeout(sp, &idle);
    if (CAP_SUCCEEDED(rc)) {
        printf("Minimum guest RAM size:      %" PRIu32 " Megabytes\n"
               "Maximum guest RAM size:      %" PRIu32 " Megabytes\n"
               "Minimum guest CPU count:     %" PRIu32 "\n"
               "Maximum guest CPU count:     %" PRIu32 "\n"
               "Serial ports:                %" PRIu32 "\n"
               "Network adapters:            %" PRIu32 "\n"
               "Execution engines:          ",
               minram, maxram, mincpu, maxcpu, nser, nnic);
        for (uint32_t i = 0; i < neng; i++)
            printf(" %s", cli_engine_name(eng[i]));
        printf("\nDefault machine folder:      %s\n"
               "Default frontend:            %s\n"
               "Log history count:           %" PRIu32 "\n"
               "Service idle timeout:        %" PRIu32 " ms\n",
               folder, front, nlog, idle);
    }
    cap_array_free(CAP_TLT_ENUM, neng, eng);
    cap_str_free(folder);
    cap_str_free(front);
    cli_release(sp);
    return at(vm, rc, "ISystemProperties");
}

/* `list hdds|dvds`: one block per medium, each ended by an empty line. */
static cap_result list_media(struct cli_vm *vm, DeviceType type)
{
    uint32_t n = 0;
    IMedium **media = NULL;
    cap_result rc = type == DeviceType_DVD ? ICapsule_GetDvdImages(vm->ctx->root, &n, &media)
                                           : ICapsule_GetHardDisks(vm->ctx->root, &n, &media);
    at(vm, rc, type == DeviceType_DVD ? "ICapsule::dvdImages" : "ICapsule::hardDisks");
    for (uint32_t i = 0; i < n && CAP_SUCCEEDED(rc); i++) {
        rc = at(vm, cli_medium_print(vm->ctx->root, media[i], CLI_MEDIUM_LIST), "IMedium");
        printf("\n");
    }
    cli_release_array(n, media);
    return rc;
}

static cap_result list(struct cli_vm *vm, void *arg)
{
    const struct list_args *a = arg;
    switch (a->what) {
    case LIST_VMS:
    case LIST_RUNNINGVMS:
        return list_vms(vm, a);
    case LIST_OSTYPES:
        return list_ostypes(vm);
    case LIST_HOSTINFO:
        return list_hostinfo(vm);
    case LIST_SYSTEMPROPERTIES:
        return list_systemproperties(vm);
    case LIST_HDDS:
        return list_media(vm, DeviceType_HardDisk);
    case LIST_DVDS:
        return list_media(vm, DeviceType_DVD);
    default:
        return list_cpuprofiles(vm);
    }
}

static int run_list(struct cli_ctx *ctx, void *args)
{
    return cli_with_vm(ctx, NULL, CLI_SERVICE, list, args);
}

const struct cli_cmd cli_cmd_list = {
    .name = "list",
    .help = "list machines, running machines, guest OS types, CPU profiles, host or global "
            "properties",
    .args = list_args,
    .args_size = sizeof(struct list_args),
    .run = run_list,
    .detail = "vms and runningvms print one line per machine:\n"
              "  \"NAME\" {UUID}\n"
              "and an inaccessible machine as\n"
              "  \"<inaccessible>\" {UUID}\n"
              "followed by an indented line giving the reason; with --long, each machine\n"
              "as 'capsule showvminfo' prints it, separated by empty lines.\n"
              "cpuprofiles prints one block per CPU profile a machine can be given\n"
              "(modifyvm --cpu-profile), the default first:\n"
              "  Name:        NAME\n"
              "  Vendor:      GenuineIntel|AuthenticAMD\n"
              "  Description: TEXT\n"
              "  Brand:       CPUID BRAND STRING\n"
              "hostinfo gives the host's time in ISO 8601 (UTC).\n",
};
