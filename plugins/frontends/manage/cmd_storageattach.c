/*
 * plugins/frontends/manage/cmd_storageattach.c - `capsule storageattach VM
 * --storagectl NAME --port N [--device N] [--type hdd|dvddrive]
 * --medium FILE|UUID|none|emptydrive [--forceunmount]`.
 *
 * VBoxManage's storageattach: attaches a hard disk or a DVD drive at a
 * controller's port and device (IMachine's attachDevice), changes the
 * medium in a DVD drive already there (mountMedium), or with --medium none
 * detaches what is there (detachDevice); then saves. A FILE not yet in the
 * media registry is opened (registered) first, as VBoxManage does; a drive
 * already at the slot is replaced.
 *
 * On a running machine only a DVD drive's medium changes, as on
 * VirtualBox: a Shared session's machine mounts it (mountMedium), the
 * service has the VM process change it in the guest's drive and saves the
 * settings itself; --forceunmount overrides the guest's lock. Hard disks
 * and detaching are refused while the machine runs.
 */
#include <string.h>
#include <strings.h>

#include <capsule/mem.h>

#include "manage.h"

struct storageattach_args {
    const char *vm;
    const char *ctl;
    struct cli_u32 port, device;
    const char *type;
    const char *medium;
    int force;
};

#define T struct storageattach_args
static const struct cli_arg storageattach_args[] = {
    CLI_POS("VM", T, vm, CLI_VM_MISSING, NULL),
    CLI_OPT_REQ("--storagectl", "NAME", cli_arg_nonempty, T, ctl, "the controller (storagectl)"),
    CLI_OPT_REQ("--port", "N", cli_arg_index, T, port, "the port, from 0"),
    CLI_OPT("--device", "N", cli_arg_index, T, device,
            "the device on the port (default 0;\n"
            "ide: 0 master, 1 slave)"),
    CLI_OPT("--type", "hdd|dvddrive", cli_arg_nonempty, T, type,
            "the drive (unless --medium none)"),
    CLI_OPT_REQ("--medium", "FILE|UUID|none|emptydrive", cli_arg_nonempty, T, medium,
                "the image (a file not registered yet\n"
                "is registered); none detaches the\n"
                "drive; emptydrive leaves a DVD drive\n"
                "empty"),
    CLI_FLAG("--forceunmount", T, force,
             "change a running VM's DVD even if the\n"
             "guest locked the drive"),
    CLI_ARGS_END,
};
#undef T

struct attach {
    const struct storageattach_args *a;
    DeviceType type;
    int detach, empty;
};

/* The drive at the slot now: its type, or Null when there is none. */
static DeviceType slot_type(IMachine *mm, const char *ctl, int32_t port, int32_t device)
{
    uint32_t n = 0;
    IMediumAttachment **list = NULL;
    DeviceType found = DeviceType_Null;
    if (CAP_FAILED(IMachine_GetMediumAttachments(mm, &n, &list)))
        n = 0;
    for (uint32_t i = 0; i < n; i++) {
        char *name = NULL;
        int32_t p = -1, d = -1;
        DeviceType t = DeviceType_Null;
        if (CAP_SUCCEEDED(IMediumAttachment_GetController(list[i], &name)) &&
            CAP_SUCCEEDED(IMediumAttachment_GetPort(list[i], &p)) &&
            CAP_SUCCEEDED(IMediumAttachment_GetDevice(list[i], &d)) &&
            CAP_SUCCEEDED(IMediumAttachment_GetType(list[i], &t)) && !strcmp(name, ctl) &&
            p == port && d == device)
            found = t;
        cap_str_free(name);
    }
    cli_release_array(n, list);
    cap_error_clear();
    return found;
}

static cap_result attach(struct cli_vm *vm, void *arg)
{
    const struct attach *x = arg;
    const struct storageattach_args *a = x->a;
    IMachine *mm = vm->mutable_machine;
    IMedium *m = NULL;
    int32_t port = (int32_t)a->port.value, dev = (int32_t)a->device.value;
    cap_result rc = CAP_OK;
    if (x->detach) {
        vm->what = "IMachine::detachDevice";
        rc = IMachine_DetachDevice(mm, a->ctl, port, dev);
    } else {
        if (!x->empty) {
            vm->what = "ICapsule::openMedium";
            rc = cli_medium_get(vm->ctx->root, a->medium, x->type, 1, &m);
        }
        DeviceType there = CAP_SUCCEEDED(rc) ? slot_type(mm, a->ctl, port, dev) : DeviceType_Null;
        if (there == DeviceType_DVD && x->type == DeviceType_DVD) {
            vm->what = "IMachine::mountMedium";
            rc = IMachine_MountMedium(mm, a->ctl, port, dev, m, CAP_FALSE);
        } else if (CAP_SUCCEEDED(rc)) {
            if (there != DeviceType_Null) {
                vm->what = "IMachine::detachDevice";
                rc = IMachine_DetachDevice(mm, a->ctl, port, dev);
            }
            if (CAP_SUCCEEDED(rc)) {
                vm->what = "IMachine::attachDevice";
                rc = IMachine_AttachDevice(mm, a->ctl, port, dev, x->type, m);
            }
        }
    }
    if (CAP_SUCCEEDED(rc)) {
        vm->what = "IMachine::saveSettings";
        rc = IMachine_SaveSettings(mm);
    }
    cli_release(m);
    return rc;
}

cap_result cli_dvd_mount(struct cli_vm *vm, const char *ctl, int32_t port, int32_t device,
                         const char *medium, int force)
{
    IMachine *mm = NULL;
    IMedium *m = NULL;
    vm->what = "ISession::machine";
    cap_result rc = ISession_GetMachine(vm->session, &mm);
    if (CAP_SUCCEEDED(rc) && medium) {
        vm->what = "ICapsule::openMedium";
        rc = cli_medium_get(vm->ctx->root, medium, DeviceType_DVD, 1, &m);
    }
    if (CAP_SUCCEEDED(rc)) {
        vm->what = "IMachine::mountMedium";
        rc = IMachine_MountMedium(mm, ctl, port, device, m, force ? CAP_TRUE : CAP_FALSE);
    }
    cli_release(m);
    cli_release(mm);
    return rc;
}

static cap_result hot_attach(struct cli_vm *vm, void *arg)
{
    const struct attach *x = arg;
    const struct storageattach_args *a = x->a;
    return cli_dvd_mount(vm, a->ctl, (int32_t)a->port.value, (int32_t)a->device.value,
                         x->empty ? NULL : a->medium, a->force);
}

static cap_result read_state(struct cli_vm *vm, void *arg)
{
    vm->what = "IMachine::state";
    return IMachine_GetState(vm->machine, arg);
}

static int run_storageattach(struct cli_ctx *ctx, void *args)
{
    const struct storageattach_args *a = args;
    struct attach x = {.a = a, .type = DeviceType_Null};
    x.detach = !strcmp(a->medium, "none");
    x.empty = !strcmp(a->medium, "emptydrive");
    if (a->type && !strcasecmp(a->type, "hdd"))
        x.type = DeviceType_HardDisk;
    else if (a->type && !strcasecmp(a->type, "dvddrive"))
        x.type = DeviceType_DVD;
    else if (a->type)
        return cli_usage(ctx, "--type: unknown drive type '%s' (hdd or dvddrive%s)", a->type,
                         !strcasecmp(a->type, "fdd") ? "; floppy drives are not in this build"
                                                     : "");
    else if (!x.detach)
        return cli_usage(ctx, "--type hdd|dvddrive is required to attach a drive");
    if (x.empty && x.type != DeviceType_DVD)
        return cli_usage(ctx, "--medium emptydrive: only a DVD drive can be empty (--type "
                              "dvddrive)");
    MachineState st = MachineState_Null;
    int status = cli_with_vm(ctx, a->vm, CLI_MACHINE, read_state, &st);
    if (status != CLI_EXIT_OK)
        return status;
    if (st == MachineState_PoweredOff || st == MachineState_Aborted || st == MachineState_Saved)
        return a->force ? cli_usage(ctx, "--forceunmount: only for a running machine's DVD drive")
                        : cli_with_vm(ctx, a->vm, CLI_LOCK_WRITE, attach, &x);
    if (x.type == DeviceType_HardDisk)
        return cli_fail(cap_error_set(CAP_E_INVALID_VM_STATE, "capsule", "IMachine",
                                      "hot-plugging a hard disk is not supported: machine '%s' "
                                      "is running (power it off to attach a disk)",
                                      a->vm),
                        "storageattach");
    if (x.detach)
        return cli_fail(cap_error_set(CAP_E_INVALID_VM_STATE, "capsule", "IMachine",
                                      "a drive of a running machine cannot be detached: machine "
                                      "'%s' is running (--medium emptydrive ejects a DVD)",
                                      a->vm),
                        "storageattach");
    return cli_with_vm(ctx, a->vm, CLI_LOCK_SHARED, hot_attach, &x);
}

const struct cli_cmd cli_cmd_storageattach = {
    .name = "storageattach",
    .help = "attach a disk or DVD drive to a machine's controller, or detach it",
    .args = storageattach_args,
    .args_size = sizeof(struct storageattach_args),
    .run = run_storageattach,
    .detail = "While the machine runs, only the medium of a DVD drive changes (the guest\n"
              "sees it at once; --forceunmount if the guest locked the drive); otherwise\n"
              "the machine must not be running. A hard disk another machine's running VM\n"
              "uses cannot be attached (its VM holds it locked for writing); a DVD image\n"
              "can be attached to any number of machines.\n",
};
