/*
 * service/storage.h - a machine's storage (storage.c): IStorageController
 * (a view on one controller, by name, of a machine object's working
 * settings, mutable exactly when the machine object is), IMediumAttachment
 * (a copy of one attached drive), and the storage operations of IMachine
 * (add/remove a controller, attach/detach/mount a drive) with their rules:
 *  - a slot exists on its bus (settings_slot_problem) and holds one drive;
 *  - a hard disk needs a medium, a DVD drive may be empty; the medium's
 *    device type is the drive's; one medium is attached once per machine;
 *  - a medium that is not registered but exists is registered on attach
 *    (as VirtualBox does);
 *  - a writable hard disk that another machine's VM uses (running or
 *    starting: registry_medium_user_locked) cannot be attached: the running
 *    VM holds its write lock until it powers off or dies (read-only media,
 *    ISO images, may be attached to any number of machines);
 *  - a running VM's DVD drive changes its medium (storage_hot_mount): the
 *    VM first, the settings after; its other drives do not change.
 * The attachments name media by UUID (settings.h); the media registry
 * resolves them.
 *
 * Layer: the object layer, above the registry, the session machine and
 * imedium.h; below imachine.c, which calls the *_locked operations after
 * its own mutability checks.
 */
#ifndef CAPSULE_SVC_STORAGE_H
#define CAPSULE_SVC_STORAGE_H

#include "machine.h"
#include "medium.h"

/* A view on m's controller `name` (m held). */
cap_result storagectl_create(struct machine_obj *m, const char *name, IStorageController **out);

/* m's controllers / attachments as objects (lock NOT held; takes it). */
cap_result storage_controllers(struct machine_obj *m, uint32_t *n, IStorageController ***out);
cap_result storage_attachments(struct machine_obj *m, uint32_t *n, IMediumAttachment ***out);

/* Checks a new controller's name and bus (no lock needed). */
cap_result storage_check_new_ctl(const char *name, StorageBus bus);

/* The operations; lock held, m mutable (the caller checked). Each sets
 * error info naming the machine, controller and slot on failure. */
cap_result storage_add_ctl_locked(struct machine_obj *m, const char *name, StorageBus bus);
cap_result storage_remove_ctl_locked(struct machine_obj *m, const char *name);
cap_result storage_set_bootable_locked(struct machine_obj *m, const char *name, cap_bool on);
/* medium: NULL for an empty DVD drive; `iface` non-NULL but not ours is
 * refused. */
cap_result storage_attach_locked(struct machine_obj *m, const char *ctl, int32_t port,
                                 int32_t device, DeviceType type, IMedium *medium);
cap_result storage_detach_locked(struct machine_obj *m, const char *ctl, int32_t port,
                                 int32_t device);
cap_result storage_mount_locked(struct machine_obj *m, const char *ctl, int32_t port,
                                int32_t device, IMedium *medium);
/* mountMedium on a running machine (lock NOT held; takes it, and calls the
 * VM process without it): the slot must be a DVD drive ("hot-plugging a
 * hard disk is not supported") and the medium pass storage_mount_locked's
 * rules; then the VM process changes the medium (IInternalSessionControl's
 * onMediumChange: refused while the guest locked the drive unless
 * `force`), and only then do the machine's settings (the primary's and the
 * VM session's copies, and the file) record it. On failure nothing
 * changed (a medium registered by the attempt stays registered). */
cap_result storage_hot_mount(struct machine_obj *m, const char *ctl, int32_t port, int32_t device,
                             IMedium *medium, cap_bool force);
/* getMedium: the medium at a slot (new reference) or NULL for an empty
 * drive. Lock held; m readable. */
cap_result storage_get_medium_locked(struct machine_obj *m, const char *ctl, int32_t port,
                                     int32_t device, IMedium **out);

#endif /* CAPSULE_SVC_STORAGE_H */
