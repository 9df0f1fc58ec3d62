/*
 * plugins/frontends/manage/media.c - what the media subcommands share
 * (manage.h, "media.c"): the optional disk|dvd argument, paths made
 * absolute against the CLI's folder, finding (or, as VBoxManage does,
 * opening) a medium, VBoxManage's percent progress, and a medium's
 * description block (showmediuminfo, list hdds|dvds).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <capsule/mem.h>
#include <capsule/uuid.h>

#include "manage.h"

cap_result cli_medium_type(const char *word, DeviceType *out)
{
    if (!strcmp(word, "disk"))
        *out = DeviceType_HardDisk;
    else if (!strcmp(word, "dvd"))
        *out = DeviceType_DVD;
    else if (!strcmp(word, "floppy"))
        return cap_error_set(CAP_E_INVALIDARG, "capsule", NULL, "floppy images are not supported");
    else
        return cap_error_set(CAP_E_INVALIDARG, "capsule", NULL,
                             "unknown medium type '%s' (disk or dvd)", word);
    return CAP_OK;
}

int cli_medium_args(struct cli_ctx *ctx, const char *first, const char *second, DeviceType *type,
                    const char **what)
{
    *type = DeviceType_HardDisk;
    *what = first;
    if (second) {
        if (CAP_FAILED(cli_medium_type(first, type)))
            return cli_usage(ctx, NULL);
        *what = second;
    }
    return CLI_EXIT_OK;
}

char *cli_abs_path(const char *path)
{
    char *cwd = path[0] == '/' ? NULL : getcwd(NULL, 0);
    char *abs = path[0] == '/' ? cap_str_dup(path)
                : cwd          ? cap_str_printf("%s/%s", cwd, path)
                               : NULL;
    free(cwd);
    /* The folder's real path ("..", symlinks resolved), as the registry
     * compares locations as strings; the file itself may not exist yet. */
    char *slash = abs ? strrchr(abs, '/') : NULL;
    if (!slash || !slash[1])
        return abs;
    *slash = 0;
    char *dir = realpath(*abs ? abs : "/", NULL);
    *slash = '/';
    if (dir) {
        char *canon = cap_str_printf("%s/%s", strcmp(dir, "/") ? dir : "", slash + 1);
        if (canon) {
            cap_str_free(abs);
            abs = canon;
        }
    }
    free(dir);
    return abs;
}

cap_result cli_medium_get(ICapsule *root, const char *what, DeviceType type, int open,
                          IMedium **out)
{
    *out = NULL;
    cap_uuid id;
    int is_id = CAP_SUCCEEDED(cap_uuid_parse(what, &id));
    cap_error_clear();
    char *path = is_id ? cap_str_dup(what) : cli_abs_path(what);
    if (!path)
        return cap_error_set(CAP_E_OUTOFMEMORY, "capsule", NULL, "out of memory");
    cap_result rc = ICapsule_FindMedium(root, path, type, out);
    if (rc == CAP_E_OBJECT_NOT_FOUND && open && !is_id && access(path, F_OK) == 0) {
        cap_error_clear();
        rc = ICapsule_OpenMedium(
            root, path, type, type == DeviceType_DVD ? AccessMode_ReadOnly : AccessMode_ReadWrite,
            out);
    } else if (rc == CAP_E_OBJECT_NOT_FOUND) {
        rc = cap_error_set(CAP_E_OBJECT_NOT_FOUND, "capsule", NULL, "no registered %s is '%s'%s",
                           type == DeviceType_DVD ? "DVD image" : "hard disk", what,
                           is_id || access(path, F_OK) == 0 ? "" : " (no such file)");
    }
    cap_str_free(path);
    return rc;
}

cap_result cli_progress_show(IProgress *p)
{
    uint32_t shown = 0; /* the next step to print, in tens */
    cap_bool done = 0;
    cap_result rc = CAP_OK;
    fputs("0%", stderr);
    while (CAP_SUCCEEDED(rc)) {
        uint32_t pct = 0;
        rc = IProgress_GetCompleted(p, &done);
        if (CAP_SUCCEEDED(rc))
            rc = IProgress_GetPercent(p, &pct);
        if (CAP_FAILED(rc))
            break;
        int32_t code = 0;
        if (done && CAP_SUCCEEDED(IProgress_GetResultCode(p, &code)) && code >= 0)
            pct = 100;
        for (; shown < pct / 10; shown++)
            fprintf(stderr, "...%u%%", (unsigned)(shown + 1) * 10);
        fflush(stderr);
        if (done)
            break;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fputc('\n', stderr);
    return CAP_SUCCEEDED(rc) ? cli_progress_wait(p, -1) : rc;
}

static const char *state_name(MediumState s)
{
    switch (s) {
    case MediumState_NotCreated:
        return "not created";
    case MediumState_Created:
        return "created";
    case MediumState_LockedRead:
        return "locked read";
    case MediumState_LockedWrite:
        return "locked write";
    case MediumState_Inaccessible:
        return "inaccessible";
    case MediumState_Creating:
        return "creating";
    default:
        return "deleting";
    }
}

/* Bytes in whole MBytes, as VBoxManage shows sizes. */
static uint64_t mbytes(int64_t b)
{
    return b > 0 ? (uint64_t)b / (1024 * 1024) : 0;
}

static const char *variant_name(MediumVariant v)
{
    return v == MediumVariant_Fixed ? "fixed default" : "dynamic default";
}

/* --machinereadable: key="value" lines, sizes in bytes. */
static void print_mr(const cap_uuid *id, MediumState st, DeviceType type, MediumVariant var,
                     int64_t cap, int64_t size, const char *loc, const char *fmt, const char *err,
                     uint32_t n_vms, const cap_uuid *vms)
{
    char ubuf[CAP_UUID_BUFSIZE];
    cli_mr_print_str(stdout, "UUID", cap_uuid_format(id, ubuf));
    if (type != DeviceType_DVD)
        cli_mr_print_str(stdout, "ParentUUID", "base");
    cli_mr_print_str(stdout, "State", state_name(st));
    if (st == MediumState_Inaccessible)
        cli_mr_print_str(stdout, "AccessError", err ? err : "");
    cli_mr_print_str(stdout, "Type", type == DeviceType_DVD ? "readonly" : "normal (base)");
    cli_mr_print_str(stdout, "Location", loc);
    cli_mr_print_str(stdout, "StorageFormat", fmt);
    cli_mr_print_str(stdout, "FormatVariant", variant_name(var));
    cli_mr_print_num(stdout, "Capacity", cap);
    cli_mr_print_num(stdout, "SizeOnDisk", size);
    cli_mr_print_str(stdout, "Encryption", "disabled");
    for (uint32_t i = 0; i < n_vms; i++) {
        char key[32];
        snprintf(key, sizeof(key), "InUseByVMs-%u", (unsigned)i);
        cli_mr_print_str(stdout, key, cap_uuid_format(&vms[i], ubuf));
    }
}

/* "NAME (UUID: UUID)" of machine `id`, as VBoxManage's "In use by VMs"
 * shows it (the UUID alone if the machine cannot be read). */
static void print_user(ICapsule *root, const cap_uuid *id)
{
    char ubuf[CAP_UUID_BUFSIZE];
    IMachine *vm = NULL;
    char *name = NULL;
    cap_uuid_format(id, ubuf);
    if (CAP_SUCCEEDED(ICapsule_FindMachine(root, ubuf, &vm)))
        IMachine_GetName(vm, &name);
    cap_error_clear();
    if (name)
        printf("%s (UUID: %s)", name, ubuf);
    else
        printf("%s", ubuf);
    cap_str_free(name);
    cli_release(vm);
}

cap_result cli_medium_print(ICapsule *root, IMedium *m, enum cli_medium_view how)
{
    cap_uuid id;
    MediumState st = MediumState_NotCreated;
    DeviceType type = DeviceType_HardDisk;
    MediumVariant var = MediumVariant_Standard;
    int64_t cap = 0, size = 0;
    char *loc = NULL, *fmt = NULL, *err = NULL;
    uint32_t n_vms = 0;
    cap_uuid *vms = NULL;
    char ubuf[CAP_UUID_BUFSIZE];
    cap_result rc = IMedium_GetId(m, &id);
    if (CAP_SUCCEEDED(rc))
        rc = IMedium_GetState(m, &st);
    if (CAP_SUCCEEDED(rc))
        rc = IMedium_GetDeviceType(m, &type);
    if (CAP_SUCCEEDED(rc))
        rc = IMedium_GetVariant(m, &var);
    if (CAP_SUCCEEDED(rc))
        rc = IMedium_GetLogicalSize(m, &cap);
    if (CAP_SUCCEEDED(rc))
        rc = IMedium_GetSize(m, &size);
    if (CAP_SUCCEEDED(rc))
        rc = IMedium_GetLocation(m, &loc);
    if (CAP_SUCCEEDED(rc))
        rc = IMedium_GetFormat(m, &fmt);
    if (CAP_SUCCEEDED(rc))
        rc = IMedium_GetLastAccessError(m, &err);
    if (CAP_SUCCEEDED(rc))
        rc = IMedium_GetMachineIds(m, &n_vms, &vms);
    if (CAP_SUCCEEDED(rc) && how == CLI_MEDIUM_MACHINE)
        print_mr(&id, st, type, var, cap, size, loc, fmt, err, n_vms, vms);
    else if (CAP_SUCCEEDED(rc)) {
        int dvd = type == DeviceType_DVD, details = how == CLI_MEDIUM_DETAILS;
        printf("UUID:           %s\n", cap_uuid_format(&id, ubuf));
        if (!dvd)
            printf("Parent UUID:    base\n");
        printf("State:          %s\n", state_name(st));
        if (st == MediumState_Inaccessible)
            printf("Access Error:   %s\n", err && *err ? err : "(no reason given)");
        printf("Type:           %s\n", dvd ? "readonly" : "normal (base)");
        printf("Location:       %s\n", loc);
        printf("Storage format: %s\n", fmt);
        if (details)
            printf("Format variant: %s\n", variant_name(var));
        printf("Capacity:       %" PRIu64 " MBytes\n", mbytes(cap));
        if (details)
            printf("Size on disk:   %" PRIu64 " MBytes\n", mbytes(size));
        printf("Encryption:     disabled\n");
        for (uint32_t i = 0; i < n_vms; i++) {
            printf("%s", i ? "                " : "In use by VMs:  ");
            print_user(root, &vms[i]);
            putchar('\n');
        }
    }
    cap_free(vms);
    cap_str_free(loc);
    cap_str_free(fmt);
    cap_str_free(err);
    return rc;
}
