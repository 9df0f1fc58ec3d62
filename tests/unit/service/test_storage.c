/*
 * tests/unit/service/test_storage.c - storage controllers, attached drives,
 * the firmware and the boot order of a machine (issue 12 items 4 and 7):
 * the settings round trip through a service restart, the parser's checks
 * of <StorageControllers>, <Firmware> and <Order>, the slot ranges of each
 * bus, an attached medium that cannot be closed or deleted, a medium
 * registered by attaching it, the write lock a running VM holds on its
 * disks (released when its holder dies), and a running VM's DVD change
 * (mountMedium through a Shared session: the VM process first, through a
 * fake VM session, the settings after, nothing changed on a refusal).
 */
#include <string.h>

#include <capsule/uuid.h>

#include "svc_test.h"

#define MB (1024 * 1024)

static int32_t wait_done(IProgress *p)
{
    int32_t rc = -1;
    ck_assert_int_eq(IProgress_WaitForCompletion(p, 10000), CAP_OK);
    ck_assert_int_eq(IProgress_GetResultCode(p, &rc), CAP_OK);
    IProgress_Release(p);
    return rc;
}

static IMedium *new_disk(const char *name)
{
    char *path = cap_str_printf("%s/%s", test_home, name);
    IMedium *m = NULL;
    IProgress *p = NULL;
    ck_assert_int_eq(
        ICapsule_CreateMedium(capsule, "VDI", path, AccessMode_ReadWrite, DeviceType_HardDisk, &m),
        CAP_OK);
    ck_assert_int_eq(IMedium_CreateBaseStorage(m, 2 * MB, MediumVariant_Standard, &p), CAP_OK);
    ck_assert_int_eq(wait_done(p), CAP_OK);
    cap_str_free(path);
    return m;
}

/* An "ISO" (any file opens as a DVD image), registered. */
static IMedium *new_iso(const char *name)
{
    char *path = cap_str_printf("%s/%s", test_home, name);
    char zeros[4096] = {0};
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(zeros, 1, sizeof(zeros), f), sizeof(zeros));
    fclose(f);
    IMedium *m = NULL;
    ck_assert_int_eq(ICapsule_OpenMedium(capsule, path, DeviceType_DVD, AccessMode_ReadOnly, &m),
                     CAP_OK);
    cap_str_free(path);
    return m;
}

/* A write lock on m: the session (*s) and its mutable machine. */
static IMachine *lock_write(IMachine *m, ISession **s)
{
    IMachine *sm = NULL;
    *s = new_session();
    ck_assert_int_eq(IMachine_LockMachine(m, *s, LockType_Write), CAP_OK);
    ck_assert_int_eq(ISession_GetMachine(*s, &sm), CAP_OK);
    return sm;
}

static void unlock(ISession *s, IMachine *sm)
{
    IMachine_Release(sm);
    ck_assert_int_eq(ISession_UnlockMachine(s), CAP_OK);
    ISession_Release(s);
}

/* The error info's message contains `part`. */
static void said(const char *part)
{
    const char *msg = cap_error_peek_message();
    ck_assert_msg(msg && strstr(msg, part), "message '%s' lacks '%s'", msg ? msg : "(none)", part);
}

START_TEST(test_storage_roundtrip)
{
    IMachine *m = make_machine("disks");
    IMedium *disk = new_disk("d.vdi"), *iso = new_iso("cd.iso");
    cap_uuid disk_id, iso_id, mid;
    IMedium_GetId(disk, &disk_id);
    IMedium_GetId(iso, &iso_id);
    IMachine_GetId(m, &mid);
    ISession *s = NULL;
    IMachine *sm = lock_write(m, &s);
    IStorageController *ide = NULL, *sata = NULL, *vio = NULL;
    ck_assert_int_eq(IMachine_AddStorageController(sm, "IDE", StorageBus_IDE, &ide), CAP_OK);
    ck_assert_int_eq(IMachine_AddStorageController(sm, "SATA", StorageBus_SATA, &sata), CAP_OK);
    ck_assert_int_eq(IMachine_AddStorageController(sm, "VirtIO", StorageBus_VirtIO, &vio), CAP_OK);
    ck_assert_int_eq(IStorageController_SetPortCount(sata, 4), CAP_OK);
    ck_assert_int_eq(IMachine_SetStorageControllerBootable(sm, "VirtIO", CAP_FALSE), CAP_OK);
    ck_assert_int_eq(IMachine_AttachDevice(sm, "SATA", 3, 0, DeviceType_HardDisk, disk), CAP_OK);
    ck_assert_int_eq(IMachine_AttachDevice(sm, "IDE", 1, 0, DeviceType_DVD, iso), CAP_OK);
    ck_assert_int_eq(IMachine_AttachDevice(sm, "IDE", 1, 1, DeviceType_DVD, NULL), CAP_OK);
    ck_assert_int_eq(IMachine_SetFirmwareType(sm, FirmwareType_BIOS), CAP_OK);
    ck_assert_int_eq(IMachine_SetBootOrder(sm, 1, DeviceType_HardDisk), CAP_OK);
    ck_assert_int_eq(IMachine_SetBootOrder(sm, 2, DeviceType_Null), CAP_OK);
    ck_assert_int_eq(IMachine_SetBootOrder(sm, 3, DeviceType_DVD), CAP_OK);
    ck_assert_int_eq(IMachine_SaveSettings(sm), CAP_OK);
    IStorageController_Release(ide);
    IStorageController_Release(sata);
    IStorageController_Release(vio);
    unlock(s, sm);
    /* Saved as VirtualBox's elements. */
    char *path = get_str(IMachine_GetSettingsFilePath, m);
    char *text = read_file(path, NULL);
    ck_assert_ptr_nonnull(strstr(text, "<StorageController name=\"SATA\" type=\"AHCI\" "
                                       "PortCount=\"4\" Bootable=\"true\">"));
    ck_assert_ptr_nonnull(strstr(text, "<Firmware type=\"BIOS\"/>"));
    ck_assert_ptr_nonnull(strstr(text, "<Order position=\"1\" device=\"HardDisk\"/>"));
    ck_assert_ptr_nonnull(strstr(text, "<AttachedDevice type=\"DVD\" port=\"1\" device=\"1\"/>"));
    cap_str_free(text);
    cap_str_free(path);
    /* machineIds: the machine that attaches it. */
    uint32_t n = 0;
    cap_uuid *ids = NULL;
    ck_assert_int_eq(IMedium_GetMachineIds(disk, &n, &ids), CAP_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert(cap_uuid_equal(&ids[0], &mid));
    cap_free(ids);
    IMedium_Release(disk);
    IMedium_Release(iso);
    IMachine_Release(m);

    svc_restart();
    ck_assert_int_eq(ICapsule_FindMachine(capsule, "disks", &m), CAP_OK);
    FirmwareType fw = FirmwareType_None;
    DeviceType dev = DeviceType_Floppy;
    ck_assert_int_eq(IMachine_GetFirmwareType(m, &fw), CAP_OK);
    ck_assert_int_eq(fw, FirmwareType_BIOS);
    static const DeviceType order[4] = {DeviceType_HardDisk, DeviceType_Null, DeviceType_DVD,
                                        DeviceType_Null};
    for (uint32_t i = 0; i < 4; i++) {
        ck_assert_int_eq(IMachine_GetBootOrder(m, i + 1, &dev), CAP_OK);
        ck_assert_int_eq(dev, order[i]);
    }
    ck_assert_int_eq(IMachine_GetBootOrder(m, 5, &dev), CAP_E_INVALIDARG);
    IStorageController **ctls = NULL;
    ck_assert_int_eq(IMachine_GetStorageControllers(m, &n, &ctls), CAP_OK);
    ck_assert_uint_eq(n, 3);
    char *name = NULL;
    uint32_t v = 0;
    StorageControllerType t;
    cap_bool boot = CAP_TRUE;
    ck_assert_int_eq(IStorageController_GetName(ctls[1], &name), CAP_OK);
    ck_assert_str_eq(name, "SATA");
    cap_str_free(name);
    IStorageController_GetPortCount(ctls[1], &v);
    ck_assert_uint_eq(v, 4);
    IStorageController_GetMaxPortCount(ctls[1], &v);
    ck_assert_uint_eq(v, 30);
    IStorageController_GetControllerType(ctls[0], &t);
    ck_assert_int_eq(t, StorageControllerType_PIIX3);
    IStorageController_GetMaxDevicesPerPortCount(ctls[0], &v);
    ck_assert_uint_eq(v, 2);
    IStorageController_GetBootable(ctls[2], &boot);
    ck_assert_int_eq(boot, CAP_FALSE);
    cap_array_free(CAP_TLT_IFACE, n, ctls);
    IMediumAttachment **atts = NULL;
    ck_assert_int_eq(IMachine_GetMediumAttachments(m, &n, &atts), CAP_OK);
    ck_assert_uint_eq(n, 3);
    cap_array_free(CAP_TLT_IFACE, n, atts);
    IMedium *got = NULL;
    cap_uuid gid;
    ck_assert_int_eq(IMachine_GetMedium(m, "SATA", 3, 0, &got), CAP_OK);
    ck_assert_ptr_nonnull(got);
    IMedium_GetId(got, &gid);
    ck_assert(cap_uuid_equal(&gid, &disk_id));
    IMedium_Release(got);
    ck_assert_int_eq(IMachine_GetMedium(m, "IDE", 1, 0, &got), CAP_OK);
    IMedium_GetId(got, &gid);
    ck_assert(cap_uuid_equal(&gid, &iso_id));
    IMedium_Release(got);
    ck_assert_int_eq(IMachine_GetMedium(m, "IDE", 1, 1, &got), CAP_OK);
    ck_assert_ptr_null(got); /* the empty drive */
    ck_assert_int_eq(IMachine_GetMedium(m, "IDE", 0, 0, &got), CAP_E_OBJECT_NOT_FOUND);
    /* The registered machine itself is not mutable. */
    ck_assert_int_eq(IMachine_DetachDevice(m, "SATA", 3, 0), CAP_E_INVALID_OBJECT_STATE);
    IMachine_Release(m);
}
END_TEST

START_TEST(test_storage_rules)
{
    IMachine *m = make_machine("rules");
    IMedium *disk = new_disk("r.vdi"), *disk2 = new_disk("r2.vdi"), *iso = new_iso("r.iso");
    ISession *s = NULL;
    IMachine *sm = lock_write(m, &s);
    IStorageController *k = NULL;
    ck_assert_int_eq(IMachine_AddStorageController(sm, "IDE", StorageBus_IDE, &k), CAP_OK);
    IStorageController_Release(k);
    ck_assert_int_eq(IMachine_AddStorageController(sm, "IDE", StorageBus_SATA, &k),
                     CAP_E_OBJECT_EXISTS);
    ck_assert_int_eq(IMachine_AddStorageController(sm, "", StorageBus_SATA, &k), CAP_E_INVALIDARG);
    ck_assert_int_eq(IMachine_AddStorageController(sm, "X", StorageBus_Null, &k), CAP_E_INVALIDARG);
    ck_assert_int_eq(IMachine_AddStorageController(sm, "SATA", StorageBus_SATA, &k), CAP_OK);
    /* SATA: one device per port; the port count is the range. */
    ck_assert_int_eq(IStorageController_SetPortCount(k, 31), CAP_E_INVALIDARG);
    ck_assert_int_eq(IStorageController_SetControllerType(k, StorageControllerType_PIIX3),
                     CAP_E_INVALIDARG);
    ck_assert_int_eq(IMachine_AttachDevice(sm, "SATA", 0, 1, DeviceType_HardDisk, disk),
                     CAP_E_INVALIDARG);
    said("device 1 is out of range 0..0");
    ck_assert_int_eq(IMachine_AttachDevice(sm, "SATA", 30, 0, DeviceType_HardDisk, disk),
                     CAP_E_INVALIDARG);
    ck_assert_int_eq(IMachine_AttachDevice(sm, "SATA", 29, 0, DeviceType_HardDisk, disk), CAP_OK);
    ck_assert_int_eq(IStorageController_SetPortCount(k, 2), CAP_E_OBJECT_IN_USE);
    IStorageController_Release(k);
    /* IDE: 2 x 2. */
    ck_assert_int_eq(IMachine_AttachDevice(sm, "IDE", 2, 0, DeviceType_DVD, iso), CAP_E_INVALIDARG);
    ck_assert_int_eq(IMachine_AttachDevice(sm, "IDE", 0, 2, DeviceType_DVD, iso), CAP_E_INVALIDARG);
    ck_assert_int_eq(IMachine_AttachDevice(sm, "IDE", 1, 1, DeviceType_DVD, iso), CAP_OK);
    /* VirtIO: 16 x 1. */
    ck_assert_int_eq(IMachine_AddStorageController(sm, "V", StorageBus_VirtIO, &k), CAP_OK);
    IStorageController_Release(k);
    ck_assert_int_eq(IMachine_AttachDevice(sm, "V", 16, 0, DeviceType_HardDisk, disk2),
                     CAP_E_INVALIDARG);
    ck_assert_int_eq(IMachine_AttachDevice(sm, "V", 15, 0, DeviceType_HardDisk, disk2), CAP_OK);
    /* A taken slot, a medium twice, a missing disk, a type mismatch,
     * an unknown controller, a floppy. */
    ck_assert_int_eq(IMachine_AttachDevice(sm, "V", 15, 0, DeviceType_HardDisk, disk2),
                     CAP_E_OBJECT_EXISTS);
    ck_assert_int_eq(IMachine_AttachDevice(sm, "V", 0, 0, DeviceType_HardDisk, disk2),
                     CAP_E_OBJECT_EXISTS);
    said("already attached");
    ck_assert_int_eq(IMachine_AttachDevice(sm, "V", 1, 0, DeviceType_HardDisk, NULL),
                     CAP_E_INVALIDARG);
    ck_assert_int_eq(IMachine_AttachDevice(sm, "V", 1, 0, DeviceType_DVD, disk), CAP_E_INVALIDARG);
    said("is a hard disk, not a DVD image");
    ck_assert_int_eq(IMachine_AttachDevice(sm, "nope", 0, 0, DeviceType_DVD, NULL),
                     CAP_E_OBJECT_NOT_FOUND);
    ck_assert_int_eq(IMachine_AttachDevice(sm, "IDE", 0, 0, DeviceType_Floppy, NULL),
                     CAP_E_NOT_SUPPORTED);
    /* An empty DVD drive, then a medium mounted in it; not in a disk drive. */
    ck_assert_int_eq(IMachine_AttachDevice(sm, "IDE", 0, 0, DeviceType_DVD, NULL), CAP_OK);
    ck_assert_int_eq(IMachine_MountMedium(sm, "IDE", 1, 1, NULL, CAP_FALSE), CAP_OK);
    ck_assert_int_eq(IMachine_MountMedium(sm, "IDE", 0, 0, iso, CAP_FALSE), CAP_OK);
    ck_assert_int_eq(IMachine_MountMedium(sm, "V", 15, 0, NULL, CAP_FALSE), CAP_E_INVALIDARG);
    ck_assert_int_eq(IMachine_SetFirmwareType(sm, FirmwareType_EFI), CAP_E_NOT_SUPPORTED);
    said("not in this build yet");
    ck_assert_int_eq(IMachine_SetBootOrder(sm, 0, DeviceType_DVD), CAP_E_INVALIDARG);
    ck_assert_int_eq(IMachine_SetBootOrder(sm, 1, DeviceType_Floppy), CAP_E_INVALIDARG);
    ck_assert_int_eq(IMachine_SaveSettings(sm), CAP_OK);
    unlock(s, sm);
    /* An attached medium is neither closed nor deleted; the message names
     * the machine. */
    IProgress *p = NULL;
    ck_assert_int_eq(IMedium_Close(disk), CAP_E_OBJECT_IN_USE);
    said("attached to the machine 'rules'");
    ck_assert_int_eq(IMedium_DeleteStorage(disk2, &p), CAP_E_OBJECT_IN_USE);
    ck_assert_int_eq(IMedium_Close(iso), CAP_E_OBJECT_IN_USE);
    /* Removing the controller detaches its drives: then it can go. */
    sm = lock_write(m, &s);
    ck_assert_int_eq(IMachine_RemoveStorageController(sm, "SATA"), CAP_OK);
    ck_assert_int_eq(IMachine_RemoveStorageController(sm, "SATA"), CAP_E_OBJECT_NOT_FOUND);
    ck_assert_int_eq(IMachine_DetachDevice(sm, "V", 15, 0), CAP_OK);
    ck_assert_int_eq(IMachine_DetachDevice(sm, "V", 15, 0), CAP_E_OBJECT_NOT_FOUND);
    ck_assert_int_eq(IMachine_SaveSettings(sm), CAP_OK);
    unlock(s, sm);
    ck_assert_int_eq(IMedium_Close(disk), CAP_OK);
    ck_assert_int_eq(IMedium_DeleteStorage(disk2, &p), CAP_OK);
    ck_assert_int_eq(wait_done(p), CAP_OK);
    /* A medium not registered (closed above) is registered again by
     * attaching it, as VirtualBox does. */
    sm = lock_write(m, &s);
    ck_assert_int_eq(IMachine_AddStorageController(sm, "S2", StorageBus_SATA, &k), CAP_OK);
    IStorageController_Release(k);
    ck_assert_int_eq(IMachine_AttachDevice(sm, "S2", 0, 0, DeviceType_HardDisk, disk), CAP_OK);
    ck_assert_int_eq(IMachine_SaveSettings(sm), CAP_OK);
    unlock(s, sm);
    IMedium *found = NULL;
    char *loc = NULL;
    IMedium_GetLocation(disk, &loc);
    ck_assert_int_eq(ICapsule_FindMedium(capsule, loc, DeviceType_HardDisk, &found), CAP_OK);
    IMedium_Release(found);
    cap_str_free(loc);
    IMedium_Release(disk);
    IMedium_Release(disk2);
    IMedium_Release(iso);
    IMachine_Release(m);
}
END_TEST

/* Machine m with disk and iso attached on SATA port 0 / 1, saved. */
static void attach_two(IMachine *m, IMedium *disk, IMedium *iso)
{
    ISession *s = NULL;
    IMachine *sm = lock_write(m, &s);
    IStorageController *k = NULL;
    ck_assert_int_eq(IMachine_AddStorageController(sm, "SATA", StorageBus_SATA, &k), CAP_OK);
    IStorageController_Release(k);
    ck_assert_int_eq(IMachine_AttachDevice(sm, "SATA", 0, 0, DeviceType_HardDisk, disk), CAP_OK);
    ck_assert_int_eq(IMachine_AttachDevice(sm, "SATA", 1, 0, DeviceType_DVD, iso), CAP_OK);
    ck_assert_int_eq(IMachine_SaveSettings(sm), CAP_OK);
    unlock(s, sm);
}

START_TEST(test_running_lock)
{
    IMachine *a = make_machine("runner"), *b = make_machine("other");
    IMedium *disk = new_disk("shared.vdi"), *iso = new_iso("shared.iso");
    attach_two(a, disk, iso);
    MediumState st;
    ck_assert_int_eq(IMedium_GetState(disk, &st), CAP_OK);
    ck_assert_int_eq(st, MediumState_Created);
    /* a's VM runs (the VM lock reports Running, as capsule-vm does). */
    ISession *vs = new_session();
    IMachine *vm = NULL;
    IInternalMachineControl *ctl = NULL;
    ck_assert_int_eq(IMachine_LockMachine(a, vs, LockType_VM), CAP_OK);
    ck_assert_int_eq(ISession_GetMachine(vs, &vm), CAP_OK);
    ck_assert_int_eq(CAP_QI(vm, &IID_IInternalMachineControl, &ctl), CAP_OK);
    ck_assert_int_eq(IInternalMachineControl_UpdateState(ctl, MachineState_Starting), CAP_OK);
    ck_assert_int_eq(IInternalMachineControl_UpdateState(ctl, MachineState_Running), CAP_OK);
    ck_assert_int_eq(IMedium_GetState(disk, &st), CAP_OK);
    ck_assert_int_eq(st, MediumState_LockedWrite);
    ck_assert_int_eq(IMedium_GetState(iso, &st), CAP_OK);
    ck_assert_int_eq(st, MediumState_LockedRead);
    /* A running machine's drives do not change. */
    ck_assert_int_eq(IMachine_DetachDevice(vm, "SATA", 0, 0), CAP_E_INVALID_VM_STATE);
    /* Another machine cannot take the disk; the ISO it can. */
    ISession *s = NULL;
    IMachine *sm = lock_write(b, &s);
    IStorageController *k = NULL;
    ck_assert_int_eq(IMachine_AddStorageController(sm, "IDE", StorageBus_IDE, &k), CAP_OK);
    IStorageController_Release(k);
    ck_assert_int_eq(IMachine_AttachDevice(sm, "IDE", 0, 0, DeviceType_HardDisk, disk),
                     CAP_E_OBJECT_IN_USE);
    said("locked for writing by the running machine 'runner'");
    ck_assert_int_eq(IMachine_AttachDevice(sm, "IDE", 1, 0, DeviceType_DVD, iso), CAP_OK);
    /* a's VM process dies: the lock goes with it. */
    session_holder_died(machine_from_foreign(a));
    ck_assert_int_eq(IMedium_GetState(disk, &st), CAP_OK);
    ck_assert_int_eq(st, MediumState_Created);
    ck_assert_int_eq(IMachine_AttachDevice(sm, "IDE", 0, 0, DeviceType_HardDisk, disk), CAP_OK);
    ck_assert_int_eq(IMachine_SaveSettings(sm), CAP_OK);
    unlock(s, sm);
    uint32_t n = 0;
    cap_uuid *ids = NULL;
    ck_assert_int_eq(IMedium_GetMachineIds(iso, &n, &ids), CAP_OK);
    ck_assert_uint_eq(n, 2);
    cap_free(ids);
    IInternalMachineControl_Release(ctl);
    IMachine_Release(vm);
    ISession_Release(vs);
    IMedium_Release(disk);
    IMedium_Release(iso);
    IMachine_Release(a);
    IMachine_Release(b);
}
END_TEST

/* ---- a fake VM process's session: a real Session, whose onMediumChange
 * records the call and answers `result` ---- */

struct fake_vm {
    ISession ISession_iface;
    IInternalSessionControl IInternalSessionControl_iface;
    ISession *inner;
    IInternalSessionControl *inner_ctl;
    uint32_t ref;
    cap_result result;
    int calls;
    StorageBus bus;
    int32_t port, device;
    char location[1024];
    cap_bool force;
};

static struct fake_vm *fv(ISession *i)
{
    return CAP_CONTAINER_OF(i, struct fake_vm, ISession_iface);
}
static struct fake_vm *fvc(IInternalSessionControl *i)
{
    return CAP_CONTAINER_OF(i, struct fake_vm, IInternalSessionControl_iface);
}

static cap_result fv_qi(struct fake_vm *f, const cap_uuid *iid, void **out)
{
    if (cap_uuid_equal(iid, &IID_ISupports) || cap_uuid_equal(iid, &IID_ISession))
        *out = &f->ISession_iface;
    else if (cap_uuid_equal(iid, &IID_IInternalSessionControl))
        *out = &f->IInternalSessionControl_iface;
    else
        return CAP_E_NOINTERFACE;
    __atomic_add_fetch(&f->ref, 1, __ATOMIC_SEQ_CST);
    return CAP_OK;
}

static uint32_t fv_release(struct fake_vm *f)
{
    uint32_t n = __atomic_sub_fetch(&f->ref, 1, __ATOMIC_SEQ_CST);
    if (!n) {
        IInternalSessionControl_Release(f->inner_ctl);
        ISession_Release(f->inner);
        cap_free(f);
    }
    return n;
}

static cap_result fs_qi(ISession *self, const cap_uuid *iid, void **out)
{
    return fv_qi(fv(self), iid, out);
}
static uint32_t fs_addref(ISession *self)
{
    return __atomic_add_fetch(&fv(self)->ref, 1, 0);
}
static uint32_t fs_release(ISession *self)
{
    return fv_release(fv(self));
}
static cap_result fs_state(ISession *self, SessionState *o)
{
    return ISession_GetState(fv(self)->inner, o);
}
static cap_result fs_type(ISession *self, SessionType *o)
{
    return ISession_GetType(fv(self)->inner, o);
}
static cap_result fs_machine(ISession *self, IMachine **o)
{
    return ISession_GetMachine(fv(self)->inner, o);
}
static cap_result fs_console(ISession *self, IConsole **o)
{
    return ISession_GetConsole(fv(self)->inner, o);
}
static cap_result fs_unlock(ISession *self)
{
    return ISession_UnlockMachine(fv(self)->inner);
}

static const struct ISessionVtbl fake_session_vtbl = {
    fs_qi, fs_addref, fs_release, fs_state, fs_type, fs_machine, fs_console, fs_unlock,
};

static cap_result fc_qi(IInternalSessionControl *self, const cap_uuid *iid, void **out)
{
    return fv_qi(fvc(self), iid, out);
}
static uint32_t fc_addref(IInternalSessionControl *self)
{
    return __atomic_add_fetch(&fvc(self)->ref, 1, 0);
}
static uint32_t fc_release(IInternalSessionControl *self)
{
    return fv_release(fvc(self));
}
static cap_result fc_pid(IInternalSessionControl *self, uint32_t *o)
{
    return IInternalSessionControl_GetPid(fvc(self)->inner_ctl, o);
}
static cap_result fc_assign(IInternalSessionControl *self, IMachine *m, SessionType t,
                            IInternalMachineControl *c)
{
    return IInternalSessionControl_AssignMachine(fvc(self)->inner_ctl, m, t, c);
}
static cap_result fc_uninit(IInternalSessionControl *self)
{
    return IInternalSessionControl_Uninitialize(fvc(self)->inner_ctl);
}
static cap_result fc_console(IInternalSessionControl *self, IConsole **o)
{
    *o = NULL;
    return CAP_OK;
}
static cap_result fc_assign_remote(IInternalSessionControl *self, IMachine *m, SessionType t,
                                   IInternalMachineControl *c, IConsole *k)
{
    return IInternalSessionControl_AssignRemoteMachine(fvc(self)->inner_ctl, m, t, c, k);
}
static cap_result fc_medium(IInternalSessionControl *self, StorageBus bus, int32_t port,
                            int32_t device, const char *location, cap_bool force)
{
    struct fake_vm *f = fvc(self);
    f->calls++;
    f->bus = bus;
    f->port = port;
    f->device = device;
    snprintf(f->location, sizeof(f->location), "%s", location);
    f->force = force;
    return CAP_FAILED(f->result)
               ? cap_error_set(f->result, "fake-vm", NULL, "the guest has locked the medium")
               : f->result;
}

static const struct IInternalSessionControlVtbl fake_control_vtbl = {
    fc_qi,     fc_addref,  fc_release,       fc_pid,    fc_assign,
    fc_uninit, fc_console, fc_assign_remote, fc_medium,
};

static struct fake_vm *fake_vm_new(void)
{
    struct fake_vm *f = cap_alloc_zero(sizeof(*f));
    f->ISession_iface.vtbl = &fake_session_vtbl;
    f->IInternalSessionControl_iface.vtbl = &fake_control_vtbl;
    f->inner = new_session();
    ck_assert_int_eq(CAP_QI(f->inner, &IID_IInternalSessionControl, &f->inner_ctl), CAP_OK);
    f->ref = 1;
    return f;
}

/* The medium's id at SATA port 1 of m (null when empty). */
static cap_uuid dvd_id(IMachine *m)
{
    IMedium *md = NULL;
    cap_uuid id = {{0}};
    ck_assert_int_eq(IMachine_GetMedium(m, "SATA", 1, 0, &md), CAP_OK);
    if (md) {
        IMedium_GetId(md, &id);
        IMedium_Release(md);
    }
    return id;
}

/* The settings file of m contains the text of id. */
static int file_names(IMachine *m, const cap_uuid *id)
{
    char *path = NULL, buf[CAP_UUID_BUFSIZE], text[65536];
    ck_assert_int_eq(IMachine_GetSettingsFilePath(m, &path), CAP_OK);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = 0;
    cap_str_free(path);
    return strstr(text, cap_uuid_format(id, buf)) != NULL;
}

START_TEST(test_hot_mount)
{
    IMachine *a = make_machine("hot");
    IMedium *disk = new_disk("hot.vdi"), *iso = new_iso("one.iso"), *iso2 = new_iso("two.iso");
    attach_two(a, disk, iso);
    cap_uuid one, two;
    IMedium_GetId(iso, &one);
    IMedium_GetId(iso2, &two);
    char *two_path = NULL;
    ck_assert_int_eq(IMedium_GetLocation(iso2, &two_path), CAP_OK);
    /* Not running: the registered machine does not change (as before). */
    ck_assert_int_eq(IMachine_MountMedium(a, "SATA", 1, 0, iso2, CAP_FALSE),
                     CAP_E_INVALID_OBJECT_STATE);
    /* a's VM runs in the fake VM process. */
    struct fake_vm *f = fake_vm_new();
    IMachine *vm = NULL;
    IInternalMachineControl *ctl = NULL;
    ck_assert_int_eq(IMachine_LockMachine(a, &f->ISession_iface, LockType_VM), CAP_OK);
    ck_assert_int_eq(ISession_GetMachine(&f->ISession_iface, &vm), CAP_OK);
    ck_assert_int_eq(CAP_QI(vm, &IID_IInternalMachineControl, &ctl), CAP_OK);
    ck_assert_int_eq(IInternalMachineControl_UpdateState(ctl, MachineState_Starting), CAP_OK);
    ck_assert_int_eq(IInternalMachineControl_UpdateState(ctl, MachineState_Running), CAP_OK);
    /* A client's Shared session: its machine mounts. */
    ISession *ss = new_session();
    IMachine *shm = NULL;
    ck_assert_int_eq(IMachine_LockMachine(a, ss, LockType_Shared), CAP_OK);
    ck_assert_int_eq(ISession_GetMachine(ss, &shm), CAP_OK);
    /* A hard disk is not hot-plugged; a slot without a drive is refused. */
    ck_assert_int_eq(IMachine_MountMedium(shm, "SATA", 0, 0, iso2, CAP_FALSE), CAP_E_INVALIDARG);
    said("hot-plugging a hard disk is not supported");
    ck_assert_int_eq(IMachine_MountMedium(shm, "SATA", 2, 0, iso2, CAP_FALSE),
                     CAP_E_OBJECT_NOT_FOUND);
    ck_assert_int_eq(IMachine_MountMedium(shm, "SATA", 1, 0, disk, CAP_FALSE), CAP_E_INVALIDARG);
    ck_assert_int_eq(f->calls, 0);
    /* The VM refuses (the guest's lock): nothing changes. */
    f->result = CAP_E_ACCESSDENIED;
    ck_assert_int_eq(IMachine_MountMedium(shm, "SATA", 1, 0, iso2, CAP_FALSE), CAP_E_ACCESSDENIED);
    said("locked");
    ck_assert_int_eq(f->calls, 1);
    ck_assert_int_eq(f->bus, StorageBus_SATA);
    ck_assert_int_eq(f->port, 1);
    ck_assert_int_eq(f->device, 0);
    ck_assert_str_eq(f->location, two_path);
    ck_assert_int_eq(f->force, CAP_FALSE);
    cap_uuid got = dvd_id(shm);
    ck_assert(cap_uuid_equal(&got, &one));
    got = dvd_id(vm);
    ck_assert(cap_uuid_equal(&got, &one));
    ck_assert(file_names(a, &one));
    /* Forced, the VM takes it: the settings and the file follow, and an
     * OnMediumChanged event says so. */
    IEventSource *es = NULL;
    IEventListener *l = NULL;
    EventType types[] = {EventType_OnMediumChanged};
    ck_assert_int_eq(ICapsule_GetEventSource(capsule, &es), CAP_OK);
    ck_assert_int_eq(IEventSource_CreateListener(es, &l), CAP_OK);
    ck_assert_int_eq(IEventSource_RegisterListener(es, l, 1, types, CAP_FALSE), CAP_OK);
    f->result = CAP_OK;
    ck_assert_int_eq(IMachine_MountMedium(shm, "SATA", 1, 0, iso2, CAP_TRUE), CAP_OK);
    IEvent *e = NULL;
    IMediumChangedEvent *mce = NULL;
    ck_assert_int_eq(IEventSource_GetEvent(es, l, 1000, &e), CAP_OK);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(CAP_QI(e, &IID_IMediumChangedEvent, &mce), CAP_OK);
    char *ctl_name = NULL;
    int32_t ev_port = -1, ev_dev = -1;
    cap_uuid ev_id, mid;
    ck_assert_int_eq(IMediumChangedEvent_GetController(mce, &ctl_name), CAP_OK);
    ck_assert_str_eq(ctl_name, "SATA");
    ck_assert_int_eq(IMediumChangedEvent_GetPort(mce, &ev_port), CAP_OK);
    ck_assert_int_eq(IMediumChangedEvent_GetDevice(mce, &ev_dev), CAP_OK);
    ck_assert_int_eq(ev_port * 10 + ev_dev, 10);
    ck_assert_int_eq(IMediumChangedEvent_GetMediumId(mce, &ev_id), CAP_OK);
    ck_assert(cap_uuid_equal(&ev_id, &two));
    ck_assert_int_eq(IMediumChangedEvent_GetMachineId(mce, &ev_id), CAP_OK);
    IMachine_GetId(a, &mid);
    ck_assert(cap_uuid_equal(&ev_id, &mid));
    cap_str_free(ctl_name);
    IMediumChangedEvent_Release(mce);
    IEventSource_EventProcessed(es, l, e);
    IEvent_Release(e);
    IEventSource_UnregisterListener(es, l);
    IEventListener_Release(l);
    IEventSource_Release(es);
    ck_assert_int_eq(f->force, CAP_TRUE);
    got = dvd_id(shm);
    ck_assert(cap_uuid_equal(&got, &two));
    got = dvd_id(vm);
    ck_assert(cap_uuid_equal(&got, &two));
    ck_assert(file_names(a, &two));
    ck_assert(!file_names(a, &one));
    /* Ejected: an empty location. */
    ck_assert_int_eq(IMachine_MountMedium(shm, "SATA", 1, 0, NULL, CAP_FALSE), CAP_OK);
    ck_assert_str_eq(f->location, "");
    got = dvd_id(shm);
    ck_assert(cap_uuid_is_null(&got));
    ck_assert(!file_names(a, &two));
    ck_assert_int_eq(f->calls, 3);
    IMachine_Release(shm);
    ck_assert_int_eq(ISession_UnlockMachine(ss), CAP_OK);
    ISession_Release(ss);
    IInternalMachineControl_Release(ctl);
    IMachine_Release(vm);
    session_holder_died(machine_from_foreign(a));
    ISession_Release(&f->ISession_iface);
    cap_str_free(two_path);
    IMedium_Release(disk);
    IMedium_Release(iso);
    IMedium_Release(iso2);
    IMachine_Release(a);
}
END_TEST

/* The parser refuses what saveSettings would: each text must fail. */
START_TEST(test_parse_storage)
{
    static const char head[] = "<CapsuleMachine version=\"1\"><Machine "
                               "uuid=\"6b0a5c3e-3a1c-4c6f-9d55-0b0b0b0b0b0b\" name=\"x\">";
    static const char img[] = "<Image uuid=\"{00000000-0000-0000-0000-000000000001}\"/>";
    char *bad[] = {
        cap_str_printf("<Hardware><Firmware type=\"EFI\"/></Hardware>"),
        cap_str_printf("<Hardware><Firmware type=\"UEFI\"/></Hardware>"),
        cap_str_printf("<Hardware><Boot><Order position=\"5\" device=\"DVD\"/></Boot></Hardware>"),
        cap_str_printf("<Hardware><Boot><Order position=\"1\" device=\"Floppy\"/></Boot>"
                       "</Hardware>"),
        cap_str_printf("<Hardware><Boot><Order position=\"1\" device=\"DVD\"/><Order "
                       "position=\"1\" device=\"DVD\"/></Boot></Hardware>"),
        cap_str_printf("<StorageControllers><StorageController name=\"A\" type=\"LsiLogic\"/>"
                       "</StorageControllers>"),
        cap_str_printf("<StorageControllers><StorageController name=\"A\" type=\"AHCI\"/>"
                       "<StorageController name=\"A\" type=\"PIIX3\"/></StorageControllers>"),
        cap_str_printf("<StorageControllers><StorageController name=\"A\" type=\"PIIX3\" "
                       "PortCount=\"1\"/></StorageControllers>"),
        cap_str_printf("<StorageControllers><StorageController name=\"A\" type=\"AHCI\" "
                       "PortCount=\"31\"/></StorageControllers>"),
        cap_str_printf("<StorageControllers><StorageController name=\"A\" type=\"PIIX3\">"
                       "<AttachedDevice type=\"DVD\" port=\"2\" device=\"0\"/>"
                       "</StorageController></StorageControllers>"),
        cap_str_printf("<StorageControllers><StorageController name=\"A\" type=\"VirtIO\">"
                       "<AttachedDevice type=\"HardDisk\" port=\"0\" device=\"1\">%s"
                       "</AttachedDevice></StorageController></StorageControllers>",
                       img),
        cap_str_printf("<StorageControllers><StorageController name=\"A\" type=\"AHCI\">"
                       "<AttachedDevice type=\"HardDisk\" port=\"0\" device=\"0\"/>"
                       "</StorageController></StorageControllers>"),
        cap_str_printf("<StorageControllers><StorageController name=\"A\" type=\"AHCI\">"
                       "<AttachedDevice type=\"DVD\" port=\"0\" device=\"0\"/>"
                       "<AttachedDevice type=\"DVD\" port=\"0\" device=\"0\"/>"
                       "</StorageController></StorageControllers>"),
        cap_str_printf("<StorageControllers><StorageController name=\"A\" type=\"AHCI\">"
                       "<AttachedDevice type=\"HardDisk\" port=\"0\" device=\"0\">%s"
                       "</AttachedDevice><AttachedDevice type=\"HardDisk\" port=\"1\" "
                       "device=\"0\">%s</AttachedDevice></StorageController>"
                       "</StorageControllers>",
                       img, img),
        cap_str_printf("<StorageControllers><StorageController name=\"A\" type=\"AHCI\">"
                       "<AttachedDevice type=\"DVD\" port=\"0\" device=\"0\" "
                       "passthrough=\"true\"/></StorageController></StorageControllers>"),
        cap_str_printf("<StorageControllers><StorageController name=\"A\" type=\"AHCI\">"
                       "<Bogus/></StorageController></StorageControllers>"),
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *text = cap_str_printf("%s%s</Machine></CapsuleMachine>", head, bad[i]);
        struct machine_file mf;
        ck_assert_msg(settings_parse_machine("t", text, strlen(text), &mf) == CAP_E_XML_ERROR,
                      "accepted: %s", bad[i]);
        cap_error_clear();
        cap_str_free(text);
        cap_str_free(bad[i]);
    }
    /* VirtualBox's own spelling of a controller with a drive reads. */
    char *text = cap_str_printf(
        "%s<StorageControllers><StorageController name=\"SATA\" type=\"AHCI\" PortCount=\"1\" "
        "useHostIOCache=\"false\" Bootable=\"true\"><AttachedDevice type=\"HardDisk\" "
        "hotpluggable=\"false\" port=\"0\" device=\"0\">%s</AttachedDevice>"
        "</StorageController></StorageControllers></Machine></CapsuleMachine>",
        head, img);
    struct machine_file mf;
    ck_assert_int_eq(settings_parse_machine("t", text, strlen(text), &mf), CAP_OK);
    ck_assert_uint_eq(mf.cfg.n_ctls, 1);
    ck_assert_int_eq(mf.cfg.ctls[0].bus, StorageBus_SATA);
    ck_assert_uint_eq(mf.cfg.n_atts, 1);
    ck_assert_int_eq(mf.cfg.boot[0], DeviceType_DVD); /* the default order */
    ck_assert_int_eq(mf.cfg.boot[1], DeviceType_HardDisk);
    machine_file_clear(&mf);
    cap_str_free(text);
}
END_TEST

TCase *tcase_storage(void)
{
    TCase *tc = tcase_create("storage");
    tcase_add_checked_fixture(tc, svc_setup, svc_teardown);
    tcase_add_test(tc, test_storage_roundtrip);
    tcase_add_test(tc, test_storage_rules);
    tcase_add_test(tc, test_running_lock);
    tcase_add_test(tc, test_hot_mount);
    tcase_add_test(tc, test_parse_storage);
    return tc;
}
