/*
 * plugins/frontends/manage/cmd_list.c - `capsule list vms|runningvms|ostypes|
 * cpuprofiles|hostinfo|systemproperties`.
 *
 * `list vms` and `list runningvms` print one `"name" {uuid}` line per
 * machine (VBoxManage's format, which scripts parse); an inaccessible
 * machine prints as `"<inaccessible>" {uuid}` followed by an indented line
 * with the reason. The other lists are `Label: value` lines for people;
 * ostypes and cpuprofiles print one block per item, each ended by an empty
 * line (VBoxManage's `list ostypes` / `list cpu-profiles`).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <capsule/mem.h>
#include <capsule/uuid.h>

#include "manage.h"

/* Prints one machine's `"name" {uuid}` line (and the reason if inaccessible). */
static cap_result print_vm_line(IMachine *m)
{
    cap_uuid id;
    cap_bool ok = 0;
    char ubuf[CAP_UUID_BUFSIZE];
    cap_result rc = IMachine_GetId(m, &id);
    if (rc >= 0)
        rc = IMachine_GetAccessible(m, &ok);
    if (rc < 0)
        return rc;
    cap_uuid_format(&id, ubuf);
    if (!ok) {
        IErrorInfo *ei = NULL;
        char *msg = NULL;
        if (IMachine_GetAccessError(m, &ei) >= 0 && ei)
            IErrorInfo_GetMessage(ei, &msg);
        printf("\"<inaccessible>\" {%s}\n    %s\n", ubuf, msg && *msg ? msg : "(no reason given)");
        cap_str_free(msg);
        if (ei)
            IErrorInfo_Release(ei);
        return CAP_OK;
    }
    char *name = NULL;
    rc = IMachine_GetName(m, &name);
    if (rc < 0)
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

static int list_vms(struct cli_ctx *ctx, int running_only)
{
    uint32_t n = 0, ns = 0;
    IMachine **machines = NULL;
    MachineState *states = NULL;
    cap_result rc = ICapsule_GetMachines(ctx->root, &n, &machines);
    if (rc < 0)
        return cli_fail(rc, "ICapsule::machines");
    if (running_only && n > 0) {
        rc = ICapsule_GetMachineStates(ctx->root, n, machines, &ns, &states);
        if (rc < 0 || ns != n) {
            cap_array_free(CAP_TLT_IFACE, n, machines);
            return cli_fail(rc < 0 ? rc : CAP_E_UNEXPECTED, "ICapsule::getMachineStates");
        }
    }
    int status = CLI_EXIT_OK;
    for (uint32_t i = 0; i < n && status == CLI_EXIT_OK; i++) {
        if (running_only && !is_online(states[i]))
            continue;
        rc = print_vm_line(machines[i]);
        if (rc < 0)
            status = cli_fail(rc, "IMachine");
    }
    cap_array_free(CAP_TLT_ENUM, ns, states);
    cap_array_free(CAP_TLT_IFACE, n, machines);
    return status;
}

static int list_ostypes(struct cli_ctx *ctx)
{
    uint32_t n = 0;
    IGuestOSType **types = NULL;
    cap_result rc = ICapsule_GetGuestOSTypes(ctx->root, &n, &types);
    if (rc < 0)
        return cli_fail(rc, "ICapsule::guestOSTypes");
    for (uint32_t i = 0; i < n && rc >= 0; i++) {
        char *id = NULL, *fam = NULL, *desc = NULL;
        cap_bool b64 = 0;
        uint32_t ram = 0, cpus = 0;
        rc = IGuestOSType_GetId(types[i], &id);
        if (rc >= 0)
            rc = IGuestOSType_GetDescription(types[i], &desc);
        if (rc >= 0)
            rc = IGuestOSType_GetFamilyId(types[i], &fam);
        if (rc >= 0)
            rc = IGuestOSType_GetIs64Bit(types[i], &b64);
        if (rc >= 0)
            rc = IGuestOSType_GetRecommendedRAM(types[i], &ram);
        if (rc >= 0)
            rc = IGuestOSType_GetRecommendedCPUCount(types[i], &cpus);
        if (rc >= 0)
            printf("ID:          %s\nDescription: %s\nFamily ID:   %s\n64 bit:      %s\n"
                   "Memory:      %" PRIu32 " MB\nCPUs:        %" PRIu32 "\n\n",
                   id, desc, fam, b64 ? "true" : "false", ram, cpus);
        cap_str_free(id);
        cap_str_free(fam);
        cap_str_free(desc);
    }
    cap_array_free(CAP_TLT_IFACE, n, types);
    return rc < 0 ? cli_fail(rc, "IGuestOSType") : CLI_EXIT_OK;
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
static int list_cpuprofiles(struct cli_ctx *ctx)
{
    ISystemProperties *sp = NULL;
    ICPUProfile **profs = NULL;
    uint32_t n = 0;
    cap_result rc = ICapsule_GetSystemProperties(ctx->root, &sp);
    if (rc < 0)
        return cli_fail(rc, "ICapsule::systemProperties");
    rc = ISystemProperties_GetCpuProfiles(sp, &n, &profs);
    ISystemProperties_Release(sp);
    if (rc < 0)
        return cli_fail(rc, "ISystemProperties::cpuProfiles");
    for (uint32_t i = 0; i < n && rc >= 0; i++) {
        char *name = NULL, *vendor = NULL, *desc = NULL, *brand = NULL;
        rc = ICPUProfile_GetName(profs[i], &name);
        if (rc >= 0)
            rc = ICPUProfile_GetVendor(profs[i], &vendor);
        if (rc >= 0)
            rc = ICPUProfile_GetDescription(profs[i], &desc);
        if (rc >= 0)
            rc = ICPUProfile_GetBrand(profs[i], &brand);
        if (rc >= 0)
            printf("Name:        %s\nVendor:      %s\nDescription: %s\nBrand:       %s\n\n", name,
                   vendor, desc, trimmed(brand));
        cap_str_free(name);
        cap_str_free(vendor);
        cap_str_free(desc);
        cap_str_free(brand);
    }
    cap_array_free(CAP_TLT_IFACE, n, profs);
    return rc < 0 ? cli_fail(rc, "ICPUProfile") : CLI_EXIT_OK;
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

static int list_hostinfo(struct cli_ctx *ctx)
{
    IHost *h = NULL;
    cap_result rc = ICapsule_GetHost(ctx->root, &h);
    if (rc < 0)
        return cli_fail(rc, "ICapsule::host");
    uint32_t ncpu = 0, mhz = 0, mem = 0, avail = 0;
    cap_bool hwv = 0, drv_ok = 0;
    char *desc = NULL, *os = NULL, *osver = NULL, *drv_status = NULL;
    HostDriverKind drv = HostDriverKind_Null;
    int64_t now = 0;
    if (rc >= 0)
        rc = IHost_GetProcessorCount(h, &ncpu);
    if (rc >= 0)
        rc = IHost_GetProcessorSpeed(h, &mhz);
    if (rc >= 0)
        rc = IHost_GetProcessorDescription(h, &desc);
    if (rc >= 0)
        rc = IHost_GetHwVirtSupported(h, &hwv);
    if (rc >= 0)
        rc = IHost_GetMemorySize(h, &mem);
    if (rc >= 0)
        rc = IHost_GetMemoryAvailable(h, &avail);
    if (rc >= 0)
        rc = IHost_GetOperatingSystem(h, &os);
    if (rc >= 0)
        rc = IHost_GetOsVersion(h, &osver);
    if (rc >= 0)
        rc = IHost_GetHostDriver(h, &drv);
    if (rc >= 0)
        rc = IHost_GetHostDriverAvailable(h, &drv_ok);
    if (rc >= 0)
        rc = IHost_GetHostDriverStatus(h, &drv_status);
    if (rc >= 0)
        rc = IHost_GetUtcTime(h, &now);
    if (rc >= 0)
        printf("Host Information:\n\n"
               "Host time: %" PRId64 " ms since the epoch (UTC)\n"
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
               now, ncpu, mhz, desc, hwv ? "yes" : "no", mem, avail, os, osver, driver_name(drv),
               drv_ok ? "available" : "not available", drv_status);
    cap_str_free(desc);
    cap_str_free(os);
    cap_str_free(osver);
    cap_str_free(drv_status);
    IHost_Release(h);
    return rc < 0 ? cli_fail(rc, "IHost") : CLI_EXIT_OK;
}

static int list_systemproperties(struct cli_ctx *ctx)
{
    ISystemProperties *sp = NULL;
    cap_result rc = ICapsule_GetSystemProperties(ctx->root, &sp);
    if (rc < 0)
        return cli_fail(rc, "ICapsule::systemProperties");
    uint32_t minram = 0, maxram = 0, mincpu = 0, maxcpu = 0, nser = 0, nlog = 0, idle = 0, neng = 0;
    ExecutionEngine *eng = NULL;
    char *folder = NULL, *front = NULL;
    if (rc >= 0)
        rc = ISystemProperties_GetMinGuestRAM(sp, &minram);
    if (rc >= 0)
        rc = ISystemProperties_GetMaxGuestRAM(sp, &maxram);
    if (rc >= 0)
        rc = ISystemProperties_GetMinGuestCPUCount(sp, &mincpu);
    if (rc >= 0)
        rc = ISystemProperties_GetMaxGuestCPUCount(sp, &maxcpu);
    if (rc >= 0)
        rc = ISystemProperties_GetSerialPortCount(sp, &nser);
    if (rc >= 0)
        rc = ISystemProperties_GetSupportedEngines(sp, &neng, &eng);
    if (rc >= 0)
        rc = ISystemProperties_GetDefaultMachineFolder(sp, &folder);
    if (rc >= 0)
        rc = ISystemProperties_GetDefaultFrontend(sp, &front);
    if (rc >= 0)
        rc = ISystemProperties_GetLogHistoryCount(sp, &nlog);
    if (rc >= 0)
        rc = ISystemProperties_GetServiceIdleTimeout(sp, &idle);
    if (rc >= 0) {
        printf("Minimum guest RAM size:      %" PRIu32 " Megabytes\n"
               "Maximum guest RAM size:      %" PRIu32 " Megabytes\n"
               "Minimum guest CPU count:     %" PRIu32 "\n"
               "Maximum guest CPU count:     %" PRIu32 "\n"
               "Serial ports:                %" PRIu32 "\n"
               "Execution engines:          ",
               minram, maxram, mincpu, maxcpu, nser);
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
    ISystemProperties_Release(sp);
    return rc < 0 ? cli_fail(rc, "ISystemProperties") : CLI_EXIT_OK;
}

static int cmd_list(struct cli_ctx *ctx, int argc, char **argv)
{
    static const char *const what[] = {"vms",      "runningvms",       "ostypes",
                                       "hostinfo", "systemproperties", "cpuprofiles"};
    struct cli_parser p;
    const char *val = NULL, *which = NULL;
    int r;
    cli_parser_init(&p, argc, argv);
    while ((r = cli_next(&p, NULL, &val)) != CLI_END) {
        if (r == CLI_BAD)
            return cli_usage(ctx, NULL);
        if (which)
            return cli_usage(ctx, "unexpected argument '%s'", val);
        which = val;
    }
    if (!which)
        return cli_usage(ctx, "what to list is missing (vms, runningvms, ostypes, cpuprofiles, "
                              "hostinfo, systemproperties)");
    size_t k = 0;
    while (k < sizeof(what) / sizeof(what[0]) && strcmp(what[k], which) != 0)
        k++;
    if (k == sizeof(what) / sizeof(what[0]))
        return cli_usage(ctx,
                         "cannot list '%s' (vms, runningvms, ostypes, cpuprofiles, hostinfo, "
                         "systemproperties)",
                         which);
    cap_result rc = cli_connect(ctx);
    if (rc < 0)
        return cli_fail(rc, "connecting to capsule-svc");
    switch (k) {
    case 0:
        return list_vms(ctx, 0);
    case 1:
        return list_vms(ctx, 1);
    case 2:
        return list_ostypes(ctx);
    case 3:
        return list_hostinfo(ctx);
    case 4:
        return list_systemproperties(ctx);
    default:
        return list_cpuprofiles(ctx);
    }
}

const struct cli_cmd cli_cmd_list = {
    .name = "list",
    .fn = cmd_list,
    .usage = "capsule list vms|runningvms|ostypes|cpuprofiles|hostinfo|systemproperties",
    .help = "list machines, running machines, guest OS types, CPU profiles, host or global "
            "properties",
    .detail = "vms and runningvms print one line per machine:\n"
              "  \"NAME\" {UUID}\n"
              "and an inaccessible machine as\n"
              "  \"<inaccessible>\" {UUID}\n"
              "followed by an indented line giving the reason.\n"
              "cpuprofiles prints one block per CPU profile a machine can be given\n"
              "(modifyvm --cpu-profile), the default first:\n"
              "  Name:        NAME\n"
              "  Vendor:      GenuineIntel|AuthenticAMD\n"
              "  Description: TEXT\n"
              "  Brand:       CPUID BRAND STRING\n",
};
