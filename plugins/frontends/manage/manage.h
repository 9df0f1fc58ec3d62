/*
 * plugins/frontends/manage/manage.h - the capsule CLI's internal interface.
 *
 * The CLI is VBoxManage's shape in C: main.c holds the table of subcommands
 * and dispatches to one cmd_*.c file per subcommand. Each subcommand
 * declares its arguments in a table (args.h), which main.c parses before
 * anything else (a usage error costs no connection) and `capsule help`
 * prints; it then reaches the service through cli_with_vm (with_vm.c),
 * which finds, opens and locks the machine, and speaks only the API of
 * capsule.xidl over IPC.
 *
 * Exit status, which scripts rely on: CLI_EXIT_OK (0) on success,
 * CLI_EXIT_FAIL (1) when an operation fails (the service's message and the
 * result code on stderr), CLI_EXIT_USAGE (2) on a usage error (the problem
 * and a one-line hint on stderr).
 */
#ifndef CAPSULE_MANAGE_H
#define CAPSULE_MANAGE_H

#include <stdio.h>

#include <capsule/capsule.h>
#include <capsule/errorinfo.h>

#include "args.h"
#include "opts.h"

#define CLI_EXIT_OK    0
#define CLI_EXIT_FAIL  1
#define CLI_EXIT_USAGE 2

#define CLI_VERSION "1.0.0"

struct cli_cmd;

/* One run of the CLI. Fields are NULL until cli_connect() fills them. */
struct cli_ctx {
    const struct cli_cmd *cmd; /* the subcommand running */
    unsigned n_options;        /* how many options its arguments gave */
    struct cap_client *client; /* set by cli_connect */
    ICapsule *root;            /* set by cli_connect */
};

/*
 * A subcommand, defined in its own cmd_NAME.c file as `const struct cli_cmd
 * cli_cmd_NAME` and listed once in main.c's COMMANDS table. main.c parses the arguments after its
 * name by `args` (args.h) into a zeroed struct of `args_size` bytes - a usage error costs no
 * connection - then calls `run` with it, which returns an exit status. `help` is the one-line
 * summary for `capsule --help`; `capsule help CMD` prints the synopsis and option list generated
 * from `args`, then `detail` (may be NULL: free text such as output formats).
 */
struct cli_cmd {
    const char *name;
    const char *help;
    const struct cli_arg *args;
    size_t args_size;
    int (*run)(struct cli_ctx *ctx, void *args);
    const char *detail;
};

/* ---- common.c: errors ---------------------------------------------------- */

/*
 * Prints a usage error for ctx's subcommand - "capsule: error: CMD: MSG" and
 * "Try 'capsule help CMD' for more information." - and returns
 * CLI_EXIT_USAGE. With fmt NULL the message is the thread's error info (as
 * set by the opts.h parsers).
 */
int cli_usage(struct cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Prints a failed operation - "capsule: error: MESSAGE" where MESSAGE is the
 * thread's error info (the service's message) or, if there is none, `what`
 * followed by " failed" - then "capsule: error: details: code NAME (0xRC)"
 * with the component and interface when known, and returns CLI_EXIT_FAIL.
 */
int cli_fail(cap_result rc, const char *what);

/* Sets the thread's error info from an IErrorInfo (a progress's outcome, a
 * machine's access error) and returns its result code (CAP_E_FAIL if it has
 * none). */
cap_result cli_error_from_info(IErrorInfo *ei);

/* The thread's error info, kept across calls that would clear it (any
 * call through a proxy does): cli_error_keep takes it, cli_error_restore
 * puts it back (if there was one) and frees the copy. */
struct cli_kept_error {
    struct cap_error_info info;
    int had;
};
void cli_error_keep(struct cli_kept_error *k);
void cli_error_restore(struct cli_kept_error *k);

/* Releases `obj` (an interface pointer; NULL: nothing) keeping the thread's
 * error info: releasing a proxy is an IPC call, which clears it. */
void cli_release(void *obj);

/* As cli_release for an array of n interface pointers (as attributes
 * return them), freed with the array. */
void cli_release_array(uint32_t n, void *array);

/* ---- common.c: the service ---------------------------------------------- */

/*
 * Connects to capsule-svc (starting it if none answers) and fills ctx->root.
 * Idempotent.
 * Errors as cap_client_connect.
 */
cap_result cli_connect(struct cli_ctx *ctx);

/* Releases the root, closes the connection and the registry. */
void cli_disconnect(struct cli_ctx *ctx);

/* A new Session object in this process: the Session class of the default
 * registry (set up on first use from BUILD/lib/components). */
cap_result cli_session_create(ISession **out);

/*
 * Waits for `progress` to complete (timeout_ms -1: forever); CAP_OK if the
 * operation succeeded, else its result code with the thread's error info set
 * from the progress's errorInfo. CAP_E_TIMEOUT if it did not complete in time.
 */
cap_result cli_progress_wait(IProgress *progress, int32_t timeout_ms);

/* ---- with_vm.c: running code on a machine ------------------------------- */

/* What cli_with_vm() prepares before it calls the subcommand's function. */
enum cli_vm_access {
    CLI_SERVICE,     /* only the connection (name may be NULL: no machine) */
    CLI_MACHINE,     /* the machine, found by name or UUID */
    CLI_SESSION,     /* and a session of this process, not locked (launchVMProcess) */
    CLI_LOCK_SHARED, /* and the session locked shared, with the VM's console */
    CLI_LOCK_WRITE,  /* and the session locked for writing, with its mutable machine */
};

/* The objects the subcommand's function works on; owned by cli_with_vm. */
struct cli_vm {
    struct cli_ctx *ctx;
    const char *name;          /* the machine as given (NULL for CLI_SERVICE without one) */
    IMachine *machine;         /* the registered machine (NULL for CLI_SERVICE) */
    ISession *session;         /* CLI_SESSION and the locks */
    IConsole *console;         /* CLI_LOCK_SHARED: the running VM's console */
    IMachine *mutable_machine; /* CLI_LOCK_WRITE: set changes here, then saveSettings */
    const char *what;          /* the step running, named in the error report */
    int usage_error;           /* set with a failure: report it as a usage error (exit 2) */
};

typedef cap_result (*cli_vm_fn)(struct cli_vm *vm, void *arg);

/*
 * Connects, finds machine `name` (unless access is CLI_SERVICE), creates a
 * session and locks it as `access` says, runs fn(vm, arg), then unlocks
 * (discarding unsaved changes of a write lock) and releases everything. A
 * failure of any step, fn's included, is reported once - cli_fail() with
 * vm->what, or cli_usage() if fn set vm->usage_error - and gives the exit
 * status; an unlock that fails after a successful write-locked fn is
 * reported too. A shared lock on a machine without a VM process fails with
 * CAP_E_INVALID_VM_STATE. Under CLI_SESSION, fn may leave the session
 * locked (launchVMProcess does): it is unlocked here, which detaches.
 */
int cli_with_vm(struct cli_ctx *ctx, const char *name, enum cli_vm_access access, cli_vm_fn fn,
                void *arg);
/* Changes the medium of the running VM's DVD drive at (ctl, port, device)
 * through vm's Shared session (its machine's mountMedium): `medium` a
 * FILE or UUID (a file not registered yet is), NULL to eject; `force`
 * overrides the guest's lock (cmd_storageattach.c). */
cap_result cli_dvd_mount(struct cli_vm *vm, const char *ctl, int32_t port, int32_t device,
                         const char *medium, int force);

/* ---- common.c: output ---------------------------------------------------- */

/* Prints one machine-readable line (see opts.h); failures to allocate print
 * nothing and return -1. */
int cli_mr_print_str(FILE *f, const char *key, const char *value);
int cli_mr_print_num(FILE *f, const char *key, int64_t value);

/* Prints the synopsis, the options and the details of a subcommand
 * (`capsule help CMD`), from its argument table. */
void cli_print_cmd_help(FILE *f, const struct cli_cmd *cmd);

/* ---- media.c: what the media subcommands share -------------------------- */

/* "disk" or "dvd" (VBoxManage's optional first word); CAP_E_INVALIDARG with
 * a message otherwise. */
cap_result cli_medium_type(const char *word, DeviceType *out);
/* path made absolute against the current folder (cap_str_free); NULL: OOM. */
char *cli_abs_path(const char *path);
/* The registered medium `what` (a UUID or a file, relative to the current
 * folder) of this type; with `open`, an existing file not registered yet
 * is opened (which registers it), as VBoxManage does. Errors name `what`. */
cap_result cli_medium_get(ICapsule *root, const char *what, DeviceType type, int open,
                          IMedium **out);
/* Waits for p printing VBoxManage's "0%...10%...100%" on stderr; as
 * cli_progress_wait otherwise. */
cap_result cli_progress_show(IProgress *p);
/* The table lines of "[disk|dvd] FILE|UUID" (fields `first`, `second` of
 * T, both const char *), read back by cli_medium_args. */
#define CLI_MEDIUM_POS(T)                                                                          \
    CLI_POS("[disk|dvd] FILE|UUID", T, first, "the medium (file or UUID) is missing",              \
            "the medium: its image file or UUID, after the kind\n"                                 \
            "of medium (disk, the default, or dvd)"),                                              \
        CLI_ARG_LINE("FILE|UUID", NULL, cli_arg_str, T, second,                                    \
                     CLI_ARG_POSITIONAL | CLI_ARG_HIDDEN, NULL, NULL, NULL)
/* The optional disk|dvd word then the medium: sets
 * *type (default HardDisk) and *what; a usage error's exit status, else
 * CLI_EXIT_OK. */
int cli_medium_args(struct cli_ctx *ctx, const char *first, const char *second, DeviceType *type,
                    const char **what);
/* How cli_medium_print shows a medium. */
enum cli_medium_view {
    CLI_MEDIUM_LIST,    /* list hdds|dvds: UUID, Parent UUID, State, Type, Location,
                           Storage format, Capacity, Encryption */
    CLI_MEDIUM_DETAILS, /* showmediuminfo: also Format variant, Size on disk */
    CLI_MEDIUM_MACHINE, /* --machinereadable: KEY="value" lines, sizes in bytes */
};
/* Prints a medium as VBoxManage does (an inaccessible one with its Access
 * Error; "In use by VMs:  NAME (UUID: UUID)" lines when machines attach it,
 * their names found through root). */
cap_result cli_medium_print(ICapsule *root, IMedium *m, enum cli_medium_view how);

/* ---- vminfo.c: a machine for people and scripts ------------------------- */

/*
 * Reads all of machine m's settings and state, then prints them as
 * `showvminfo` does: "Label:           value" lines for people (the OS
 * type by its description, as VBoxManage shows it; root gives it), or one
 * key="value" line each (machinereadable; ostype is the ID). A failing read prints nothing
 * and returns its result code, with *what naming the interface.
 */
cap_result cli_show_vm(ICapsule *root, IMachine *m, int machinereadable, const char **what);

/* The network adapters as showvminfo prints them (vminfo_net.c). */
struct cli_nic_info {
    cap_bool enabled, cable, trace;
    NetworkAdapterType type;
    NetworkAttachmentType attachment;
    char *mac, *trace_file;
    char **rules; /* INATEngine's redirects */
    uint32_t n_rules;
};
/* Reads every slot (ISystemProperties' networkAdapterCount, at most 4)
 * into nics[0..*n); free with cli_nics_free, also after a failure. */
cap_result cli_nics_read(IMachine *m, struct cli_nic_info *nics, uint32_t *n);
void cli_nics_free(struct cli_nic_info *nics, uint32_t n);
void cli_nics_print_mr(const struct cli_nic_info *nics, uint32_t n);
void cli_nics_print_human(const struct cli_nic_info *nics, uint32_t n);

#endif /* CAPSULE_MANAGE_H */
