/*
 * service/registry.h - the registry: what HOME/capsule.xml lists and holds.
 * The registered machines (in registration order, one strong reference
 * each), the global properties of ISystemProperties, and the global extra
 * data; loading it at start, saving it after every change, finding
 * machines by id, path and name, registering and unregistering, and the
 * default machine folder (with the sweep of what an interrupted create
 * left there).
 *
 * The media registry is a second list beside `machines` (`media`: hard
 * disks and DVD images), saved by the same registry_save_locked into the
 * same file. A medium whose image cannot be read at start is kept,
 * Inaccessible with the reason, never dropped.
 *
 * Layer: above machine.h (it creates and owns machines), below the session
 * machine, VM launching and the objects. Every *_locked function expects
 * the service lock held.
 */
#ifndef CAPSULE_SVC_REGISTRY_H
#define CAPSULE_SVC_REGISTRY_H

#include "core.h"
#include "machine.h"
#include "medium.h"
#include "settings.h"

struct registry {
    struct svc_core *core;     /* [create] */
    char *path;                /* [create] HOME/capsule.xml */
    struct global_file global; /* [lock] properties and extra data; its machine list is
                                  rebuilt from `machines` on each save */
    struct machine **machines; /* [lock] registered, in order; strong refs */
    uint32_t n_machines;       /* [lock] */
    struct medium **media;     /* [lock] registered media, in order; strong refs */
    uint32_t n_media;          /* [lock] */
};

/* Sets up an empty registry for core->home (no file read). */
cap_result registry_init(struct registry *r, struct svc_core *core);
/* Reads capsule.xml and every machine it lists (unreadable machine files
 * give inaccessible machines), then sweeps orphans. CAP_E_XML_ERROR /
 * CAP_E_FILE_ERROR when capsule.xml exists but cannot be read. */
cap_result registry_load_locked(struct registry *r);
/* Takes the machine list out (the caller releases each); the registry is
 * then empty. Machines are marked unregistered. */
void registry_take_all_locked(struct registry *r, struct machine ***list, uint32_t *n);
/* Takes the media list out (the caller releases each); marks them
 * unregistered. */
void registry_take_media_locked(struct registry *r, struct medium ***list, uint32_t *n);
/* Frees everything (the root's last Release). */
void registry_fini(struct registry *r);

/* Writes capsule.xml from the current state; CAP_E_FILE_ERROR. */
cap_result registry_save_locked(struct registry *r);
/* The registered machine with this id / settings file, or NULL (borrowed). */
struct machine *registry_find_id_locked(struct registry *r, const cap_uuid *id);
struct machine *registry_find_path_locked(struct registry *r, const char *path);
/* The registered accessible machine called `name` (re-read first if its
 * file changed), or NULL (borrowed). */
struct machine *registry_find_name_locked(struct registry *r, const char *name);
/* Nonzero if a registered accessible machine other than `except` has name. */
int registry_name_taken_locked(struct registry *r, const char *name, const struct machine *except);
/* A new MAC address (settings_mac_generate) that no adapter of a registered
 * machine, nor of `also` (a machine being made, may be NULL), has. */
void registry_new_mac_locked(struct registry *r, const struct machine_cfg *also,
                             char out[SETTINGS_MAC_LEN + 1]);
/* Registers m (saved already): appends it, takes a reference, saves
 * capsule.xml (undone if that fails). Fires nothing. */
cap_result registry_add_locked(struct registry *r, struct machine *m);
/* Unregisters m: refuses (with a message for the user) a machine that is
 * locked or not at rest; saves capsule.xml (undone if that fails). On
 * success the registry's reference goes to *dropped (release it after
 * unlocking). */
cap_result registry_remove_locked(struct registry *r, struct machine *m, struct machine **dropped);
/* The default machine folder, absolute (cap_str_free). */
char *registry_machine_folder_locked(struct registry *r);
/* Removes folders of the default machine folder that only a create or a
 * delete of this service cut short can have left: not a registered
 * machine's, holding nothing but NAME.capsule.tmp files of ours and an
 * empty Logs. Logged; anything else is left alone. */
void registry_sweep_orphans_locked(struct registry *r);

/* The registered medium with this id / image path (exact), or NULL
 * (borrowed). type DeviceType_Null matches any type. */
struct medium *registry_find_medium_id_locked(struct registry *r, const cap_uuid *id,
                                              DeviceType type);
struct medium *registry_find_medium_path_locked(struct registry *r, const char *path,
                                                DeviceType type);
/* Registers m (its image exists): appends it, takes a reference, saves
 * capsule.xml (undone if that fails). */
cap_result registry_add_medium_locked(struct registry *r, struct medium *m);
/* Unregisters m (CAP_E_OBJECT_IN_USE if a job uses it or a machine has it
 * attached: registry_check_unattached_locked) and saves
 * capsule.xml (undone if that fails); the registry's reference goes to
 * *dropped (release it after unlocking). */
cap_result registry_remove_medium_locked(struct registry *r, struct medium *m,
                                         struct medium **dropped);

/* Attachments (the machines' settings name media by UUID): the first
 * registered, accessible machine other than `except` whose settings (as
 * saved: obj.cfg) attach medium `id`, or NULL (borrowed). With `running`,
 * only a machine whose VM runs or starts (not at rest, or being launched):
 * the one that holds the medium's write lock. */
struct machine *registry_medium_user_locked(struct registry *r, const cap_uuid *id, int running,
                                            const struct machine *except);
/* IMedium's machineIds: every such machine's id, in registration order
 * (*out: cap_free). CAP_E_OUTOFMEMORY. */
cap_result registry_medium_machine_ids_locked(struct registry *r, const cap_uuid *id, uint32_t *n,
                                              cap_uuid **out);
/* What close and deleteStorage check: CAP_E_OBJECT_IN_USE naming the
 * first machine whose settings attach m; CAP_OK if none does. */
cap_result registry_check_unattached_locked(struct registry *r, const struct medium *m);
/* The write lock of a running VM's disks: CAP_E_OBJECT_IN_USE naming the
 * machine when md is a writable hard disk that a machine other than
 * `except` runs with (registry_medium_user_locked); CAP_OK otherwise. */
cap_result registry_check_disk_free_locked(struct registry *r, const struct medium *md,
                                           const struct machine *except);
/* What saveSettings and launching check besides settings.h's rules: every
 * medium cfg attaches is registered (CAP_E_OBJECT_NOT_FOUND naming the
 * slot otherwise). */
cap_result registry_check_attached_locked(struct registry *r, const struct machine_cfg *cfg);

#endif /* CAPSULE_SVC_REGISTRY_H */
