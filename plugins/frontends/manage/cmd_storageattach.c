/*
 * plugins/frontends/manage/cmd_storageattach.c - `capsule storageattach VM
 * --storagectl NAME --port N [--device N] [--type hdd|dvddrive]
 * --medium FILE|UUID|none|emptydrive`.
 *
 * VBoxManage's storageattach: attaches a hard disk or a DVD drive at a
 * controller's port and device (IMachine's attachDevice), changes the
 * medium in a DVD drive already there (mountMedium), or with --medium none
 * detaches what is there (detachDevice); then saves. A FILE not yet in the
 * media registry is opened (registered) first, as VBoxManage does; a drive
 * already at the slot is replaced.
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
    return cli_with_vm(ctx, a->vm, CLI_LOCK_WRITE, attach, &x);
}

const struct cli_cmd cli_cmd_storageattach = {
    .name = "storageattach",
    .help = "attach a disk or DVD drive to a machine's controller, or detach it",
    .args = storageattach_args,
    .args_size = sizeof(struct storageattach_args),
    .run = run_storageattach,
    .detail = "The machine must not be running. A hard disk another machine's running VM\n"
              "uses cannot be attached (its VM holds it locked for writing); a DVD image\n"
              "can be attached to any number of machines.\n",
};
