/*
 * plugins/frontends/manage/cmd_storagectl.c - `capsule storagectl VM --name
 * NAME [--add ide|sata|virtio] [--controller PIIX3|IntelAhci|VirtIO]
 * [--portcount N] [--bootable on|off] [--remove]`.
 *
 * VBoxManage's storagectl: adds a storage controller (IMachine's
 * addStorageController), changes one (its IStorageController attributes,
 * setStorageControllerBootable) or removes it with its drives, under a
 * write lock, then saves. Every option is checked before anything changes.
 */
#include <string.h>
#include <strings.h>

#include "manage.h"

struct storagectl_args {
    const char *vm;
    const char *name;
    const char *add;
    const char *controller;
    struct cli_u32 portcount;
    struct cli_bool bootable;
    int remove;
};

#define T struct storagectl_args
static const struct cli_arg storagectl_args[] = {
    CLI_POS("VM", T, vm, CLI_VM_MISSING, NULL),
    CLI_OPT_REQ("--name", "NAME", cli_arg_nonempty, T, name, "the controller's name"),
    CLI_OPT("--add", "ide|sata|virtio", cli_arg_nonempty, T, add,
            "add a controller on this bus (ide: 2\n"
            "ports of 2 devices; sata: up to 30\n"
            "ports; virtio: up to 16)"),
    CLI_OPT("--controller", "PIIX3|IntelAhci|VirtIO", cli_arg_nonempty, T, controller,
            "the chip it emulates (the bus's own:\n"
            "PIIX3 for ide, IntelAhci for sata,\n"
            "VirtIO for virtio)"),
    CLI_OPT("--portcount", "N", cli_arg_count, T, portcount,
            "the ports the guest sees (sata, virtio)"),
    CLI_OPT("--bootable", "on|off", cli_arg_onoff, T, bootable,
            "whether the BIOS may boot from its\n"
            "drives (default on)"),
    CLI_FLAG("--remove", T, remove, "remove the controller and detach its\ndrives"),
    CLI_ARGS_END,
};
#undef T

static const struct {
    const char *word;
    StorageBus bus;
} buses[] = {{"ide", StorageBus_IDE}, {"sata", StorageBus_SATA}, {"virtio", StorageBus_VirtIO}};

static const struct {
    const char *word;
    StorageControllerType type;
} types[] = {{"PIIX3", StorageControllerType_PIIX3},
             {"IntelAhci", StorageControllerType_IntelAhci},
             {"VirtIO", StorageControllerType_VirtIO}};

struct ctl_change {
    const struct storagectl_args *a;
    StorageBus bus;             /* --add: Null when not given */
    StorageControllerType type; /* --controller: Null when not given */
};

static cap_result change(struct cli_vm *vm, void *arg)
{
    const struct ctl_change *c = arg;
    const struct storagectl_args *a = c->a;
    IMachine *mm = vm->mutable_machine;
    IStorageController *k = NULL;
    cap_result rc;
    if (a->remove) {
        vm->what = "IMachine::removeStorageController";
        rc = IMachine_RemoveStorageController(mm, a->name);
    } else if (c->bus != StorageBus_Null) {
        vm->what = "IMachine::addStorageController";
        rc = IMachine_AddStorageController(mm, a->name, c->bus, &k);
    } else {
        vm->what = "IMachine::getStorageControllerByName";
        rc = IMachine_GetStorageControllerByName(mm, a->name, &k);
    }
    if (CAP_SUCCEEDED(rc) && c->type != StorageControllerType_Null) {
        vm->what = "IStorageController::controllerType";
        rc = IStorageController_SetControllerType(k, c->type);
    }
    if (CAP_SUCCEEDED(rc) && a->portcount.set) {
        vm->what = "IStorageController::portCount";
        rc = IStorageController_SetPortCount(k, a->portcount.value);
    }
    if (CAP_SUCCEEDED(rc) && a->bootable.set) {
        vm->what = "IMachine::setStorageControllerBootable";
        rc = IMachine_SetStorageControllerBootable(mm, a->name,
                                                   a->bootable.value ? CAP_TRUE : CAP_FALSE);
    }
    if (CAP_SUCCEEDED(rc)) {
        vm->what = "IMachine::saveSettings";
        rc = IMachine_SaveSettings(mm);
    }
    cli_release(k);
    return rc;
}

static int run_storagectl(struct cli_ctx *ctx, void *args)
{
    const struct storagectl_args *a = args;
    struct ctl_change c = {.a = a};
    if (a->add) {
        for (size_t i = 0; i < sizeof(buses) / sizeof(buses[0]); i++)
            if (!strcasecmp(a->add, buses[i].word))
                c.bus = buses[i].bus;
        if (c.bus == StorageBus_Null)
            return cli_usage(ctx, "--add: unknown bus '%s' (ide, sata or virtio%s)", a->add,
                             !strcasecmp(a->add, "scsi") || !strcasecmp(a->add, "floppy") ||
                                     !strcasecmp(a->add, "sas") || !strcasecmp(a->add, "usb") ||
                                     !strcasecmp(a->add, "pcie")
                                 ? "; this build has no other"
                                 : "");
    }
    if (a->controller) {
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            if (!strcasecmp(a->controller, types[i].word))
                c.type = types[i].type;
        if (c.type == StorageControllerType_Null)
            return cli_usage(ctx,
                             "--controller: '%s' is not in this build (PIIX3, IntelAhci or "
                             "VirtIO)",
                             a->controller);
    }
    if (a->remove && (a->add || a->controller || a->portcount.set || a->bootable.set))
        return cli_usage(ctx, "--remove takes no other change");
    if (!a->remove && !a->add && !a->controller && !a->portcount.set && !a->bootable.set)
        return cli_usage(ctx, "nothing to do (--add, --remove or a change of the controller)");
    return cli_with_vm(ctx, a->vm, CLI_LOCK_WRITE, change, &c);
}

const struct cli_cmd cli_cmd_storagectl = {
    .name = "storagectl",
    .help = "add, change or remove a machine's storage controller",
    .args = storagectl_args,
    .args_size = sizeof(struct storagectl_args),
    .run = run_storagectl,
    .detail = "The machine must not be running. Drives are attached with storageattach.\n",
};
