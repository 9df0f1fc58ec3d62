/*
 * console.c - the VM process's session and console: one object answering
 * ISession, IInternalSessionControl, IConsole, IDisplay, IMachineDebugger
 * (the debugger's methods are in debugger.c), IKeyboard and IMouse (in
 * console_input.c), Wine style: one member per interface, impl_from_*()
 * back to the object, QueryInterface through one table so that every
 * interface has the same identity.
 *
 * capsule-svc holds it as the holder of the machine's VM-type lock (it asks
 * the session for its state to notice a dead holder, and for its
 * remoteConsole to hand to Remote and Shared sessions of other clients);
 * clients reach the IConsole and IMachineDebugger as proxies through the
 * service. Power operations and state reports are serialised by `op`
 * (never held while waiting for `lock`'s holders to call out); `lock`
 * guards the fields and is never held across a call out of the process.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/object.h>

#include "console_fb.h"
#include "console_input.h"
#include "console_net.h"
#include "debugger.h"
#include "display/display.h"
#include "managed.h"
#include "pdm.h"
#include "session/session_binding.h"
#include "vmproc_screenshot.h"
#include "vmproc_vrde.h"

#define COMPONENT "capsule-vm"
#define MAX_PROGRESS 16

struct console {
    ISession ISession_iface;
    IInternalSessionControl IInternalSessionControl_iface;
    IConsole IConsole_iface;
    IDisplay IDisplay_iface;
    struct debugger dbg;        /* its IMachineDebugger (debugger.h) */
    struct console_input input; /* its IKeyboard and IMouse (console_input.h) */
    struct console_fbs fbs;     /* clients' IFramebuffers (console_fb.h) */
    cap_refcnt ref;
    pthread_mutex_t op;   /* serialises power-up/down, pause/resume/reset, reports */
    pthread_mutex_t lock; /* guards everything below */
    struct session_binding b;         /* the VM lock: its session machine and control */
    MachineState state;               /* as last reported to the service */
    struct vmproc *vp;                /* set at power-up; destroyed by console_release */
    int finished;                     /* the final state is reported and the lock released */
    IProgress *progress[MAX_PROGRESS]; /* returned to clients, for console_linger */
    unsigned n_progress;
    struct console_net net; /* under op: rules changed since power-up */
};

static struct console *impl(ISession *i) { return CAP_CONTAINER_OF(i, struct console, ISession_iface); }
static struct console *impl_ctl(IInternalSessionControl *i)
{
    return CAP_CONTAINER_OF(i, struct console, IInternalSessionControl_iface);
}
static struct console *impl_con(IConsole *i) { return CAP_CONTAINER_OF(i, struct console, IConsole_iface); }
static struct console *impl_disp(IDisplay *i)
{
    return CAP_CONTAINER_OF(i, struct console, IDisplay_iface);
}
static struct console *impl_dbg(struct debugger *d)
{
    return CAP_CONTAINER_OF(d, struct console, dbg);
}
static struct console *impl_input(struct console_input *in)
{
    return CAP_CONTAINER_OF(in, struct console, input);
}

static const struct cap_qi_entry console_qi[] = {
    CAP_QI_ENTRY(IID_ISession, struct console, ISession_iface),
    CAP_QI_ENTRY(IID_IInternalSessionControl, struct console, IInternalSessionControl_iface),
    CAP_QI_ENTRY(IID_IConsole, struct console, IConsole_iface),
    CAP_QI_ENTRY(IID_IDisplay, struct console, IDisplay_iface),
    CAP_QI_ENTRY(IID_IMachineDebugger, struct console, dbg.IMachineDebugger_iface),
    CAP_QI_ENTRY(IID_IKeyboard, struct console, input.IKeyboard_iface),
    CAP_QI_ENTRY(IID_IMouse, struct console, input.IMouse_iface),
    CAP_QI_END,
};

static cap_result qi(struct console *c, const cap_uuid *iid, void **out)
{
    return cap_qi_table(c, console_qi, iid, out);
}

static uint32_t addref(struct console *c)
{
    return cap_refcnt_inc(&c->ref);
}

static uint32_t release(struct console *c)
{
    uint32_t n = cap_refcnt_dec(&c->ref);
    if (n)
        return n;
    session_binding_drop(c->b.machine, c->b.control);
    for (unsigned i = 0; i < c->n_progress; i++)
        IProgress_Release(c->progress[i]);
    console_fbs_fini(&c->fbs); /* before the display hub goes */
    vmproc_destroy(c->vp);
    console_input_fini(&c->input);
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->op);
    cap_free(c);
    return 0;
}

static MachineState get_state(struct console *c)
{
    pthread_mutex_lock(&c->lock);
    MachineState s = c->state;
    pthread_mutex_unlock(&c->lock);
    return s;
}

static struct vm *get_vm(struct console *c)
{
    pthread_mutex_lock(&c->lock);
    struct vm *vm = c->vp ? vmproc_vm(c->vp) : NULL;
    pthread_mutex_unlock(&c->lock);
    return vm;
}

/* Reports state s to the service (op held). */
static void report(struct console *c, MachineState s)
{
    pthread_mutex_lock(&c->lock);
    IInternalMachineControl *ctl = c->b.control;
    if (ctl)
        IInternalMachineControl_AddRef(ctl);
    c->state = s;
    pthread_mutex_unlock(&c->lock);
    if (!ctl)
        return;
    cap_result rc = IInternalMachineControl_UpdateState(ctl, s);
    if (CAP_FAILED(rc))
        fprintf(stderr, "capsule-vm: cannot report state %d to the service: %s\n", (int)s,
                cap_error_peek_message() ? cap_error_peek_message() : "?");
    IInternalMachineControl_Release(ctl);
}

/* Tells the service why the VM aborted (the VMM's stop message), before
 * the state says it did: the service keeps it with the machine (IMachine's
 * abortReason, showvminfo). */
static void record_abort_reason(struct console *c)
{
    struct vm *vm = get_vm(c);
    pthread_mutex_lock(&c->lock);
    IInternalMachineControl *ctl = c->b.control;
    if (ctl)
        IInternalMachineControl_AddRef(ctl);
    pthread_mutex_unlock(&c->lock);
    if (vm && ctl) {
        struct vm_stop_info si;
        vm_get_stop_info(vm, &si);
        const char *why = strncmp(si.message, "aborted: ", 9) ? si.message : si.message + 9;
        if (CAP_FAILED(IInternalMachineControl_SetAbortReason(ctl, *why ? why : "the VM aborted")))
            fprintf(stderr, "capsule-vm: cannot record the abort reason with the service: %s\n",
                    cap_error_peek_message() ? cap_error_peek_message() : "?");
    }
    if (ctl)
        IInternalMachineControl_Release(ctl);
}

/* Reports the final state and releases the lock, once (op held). */
static void finish_op(struct console *c, MachineState final)
{
    pthread_mutex_lock(&c->lock);
    int done = c->finished;
    c->finished = 1;
    pthread_mutex_unlock(&c->lock);
    if (done)
        return;
    if (final == MachineState_Aborted)
        record_abort_reason(c);
    report(c, final);
    IMachine *m;
    IInternalMachineControl *ctl;
    pthread_mutex_lock(&c->lock);
    session_binding_take(&c->b, &m, &ctl);
    pthread_mutex_unlock(&c->lock);
    if (ctl)
        IInternalMachineControl_OnSessionEnd(ctl, &c->ISession_iface);
    session_binding_drop(m, ctl);
}

static cap_result state_error(struct console *c, const char *what)
{
    static const char *const names[] = {"null",     "poweroff", "saved",    "aborted",
                                        "running",  "paused",   "stuck",    "starting",
                                        "stopping", "saving",   "restoring"};
    MachineState s = get_state(c);
    return cap_error_set(CAP_E_INVALID_VM_STATE, COMPONENT, "IConsole", "cannot %s a VM that is %s",
                         what, (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?");
}

/* A VMM failure as an API error (the message stays). */
static cap_result vm_error(cap_result rc)
{
    const char *msg = cap_error_peek_message();
    cap_result api = rc == VMM_E_BAD_STATE ? CAP_E_INVALID_VM_STATE : CAP_E_VM_ERROR;
    return cap_error_set(api, COMPONENT, "IConsole", "%s", msg ? msg : vmm_result_name(rc));
}

static cap_result keep_progress(struct console *c, const char *desc, IProgress **out)
{
    cap_result rc = done_progress_create(desc, out);
    if (CAP_FAILED(rc))
        return rc;
    pthread_mutex_lock(&c->lock);
    if (c->n_progress < MAX_PROGRESS) {
        c->progress[c->n_progress++] = *out;
        IProgress_AddRef(*out);
    }
    pthread_mutex_unlock(&c->lock);
    return CAP_OK;
}

/* ---- ISession ----------------------------------------------------------------- */

static cap_result s_QueryInterface(ISession *self, const cap_uuid *iid, void **out)
{
    return qi(impl(self), iid, out);
}
static uint32_t s_AddRef(ISession *self) { return addref(impl(self)); }
static uint32_t s_Release(ISession *self) { return release(impl(self)); }

static cap_result s_GetState(ISession *self, SessionState *out)
{
    return session_binding_get_state(&impl(self)->b, &impl(self)->lock, out);
}

static cap_result s_GetType(ISession *self, SessionType *out)
{
    return session_binding_get_type(&impl(self)->b, &impl(self)->lock, out);
}

static cap_result s_GetMachine(ISession *self, IMachine **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = console_machine(impl(self));
    return *out ? CAP_OK
                : cap_error_set(CAP_E_INVALID_SESSION_STATE, COMPONENT, "ISession",
                                "the session is not locked to a machine");
}

static cap_result s_GetConsole(ISession *self, IConsole **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = &impl(self)->IConsole_iface;
    IConsole_AddRef(*out);
    return CAP_OK;
}

static cap_result s_UnlockMachine(ISession *self)
{
    return cap_error_set(CAP_E_INVALID_SESSION_STATE, COMPONENT, "ISession",
                         "the VM process's session ends when its VM powers off "
                         "(IConsole's powerDown)");
}

static const struct ISessionVtbl session_vtbl = {
    .QueryInterface = s_QueryInterface,
    .AddRef = s_AddRef,
    .Release = s_Release,
    .GetState = s_GetState,
    .GetType = s_GetType,
    .GetMachine = s_GetMachine,
    .GetConsole = s_GetConsole,
    .UnlockMachine = s_UnlockMachine,
};

/* ---- IInternalSessionControl ---------------------------------------------------- */

static cap_result c_QueryInterface(IInternalSessionControl *self, const cap_uuid *iid, void **out)
{
    return qi(impl_ctl(self), iid, out);
}
static uint32_t c_AddRef(IInternalSessionControl *self) { return addref(impl_ctl(self)); }
static uint32_t c_Release(IInternalSessionControl *self) { return release(impl_ctl(self)); }

static cap_result c_GetPid(IInternalSessionControl *self, uint32_t *out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = (uint32_t)getpid();
    return CAP_OK;
}

static cap_result c_AssignMachine(IInternalSessionControl *self, IMachine *machine,
                                  SessionType type, IInternalMachineControl *control)
{
    struct console *c = impl_ctl(self);
    pthread_mutex_lock(&c->lock);
    /* once its VM has ended, the VM process's session is done for good */
    cap_result rc = c->finished ? cap_error_set(CAP_E_INVALID_SESSION_STATE, COMPONENT,
                                                "IInternalSessionControl",
                                                "the VM process's session has ended")
                                : session_binding_assign(&c->b, COMPONENT, machine, type, control);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

/* The service let go of us (it is shutting down): a VM must not run
 * unlocked, so it is powered off and the process exits. */
static cap_result c_Uninitialize(IInternalSessionControl *self)
{
    struct console *c = impl_ctl(self);
    IMachine *m;
    IInternalMachineControl *ctl;
    pthread_mutex_lock(&c->lock);
    session_binding_take(&c->b, &m, &ctl);
    struct vm *vm = c->vp ? vmproc_vm(c->vp) : NULL;
    pthread_mutex_unlock(&c->lock);
    session_binding_drop(m, ctl);
    if (vm) {
        fprintf(stderr, "capsule-vm: the service released the machine: powering the VM off\n");
        vm_power_off(vm);
    }
    return CAP_OK;
}

static cap_result c_GetRemoteConsole(IInternalSessionControl *self, IConsole **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = &impl_ctl(self)->IConsole_iface;
    IConsole_AddRef(*out);
    return CAP_OK;
}

static cap_result c_AssignRemoteMachine(IInternalSessionControl *self, IMachine *machine,
                                        SessionType type, IInternalMachineControl *control,
                                        IConsole *console)
{
    return cap_error_set(CAP_E_INVALID_SESSION_STATE, COMPONENT, "IInternalSessionControl",
                         "the VM process's session runs the VM; it cannot share another one");
}

/* The service's mountMedium on the running machine: the drive's medium
 * changes in the VM (the block layer tells the device, which tells the
 * guest); the service records it once this succeeded. */
static cap_result c_OnMediumChange(IInternalSessionControl *self, StorageBus bus, int32_t port,
                                   int32_t device, const char *location, cap_bool force)
{
    struct console *c = impl_ctl(self);
    const char *name = bus == StorageBus_IDE      ? "ide"
                       : bus == StorageBus_SATA   ? "sata"
                       : bus == StorageBus_VirtIO ? "virtio"
                                                  : NULL;
    if (!name || port < 0 || device < 0)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, "IInternalSessionControl",
                             "no drive slot: bus %d port %d device %d", (int)bus, (int)port,
                             (int)device);
    const char *path = location && *location ? location : NULL;
    pthread_mutex_lock(&c->op);
    MachineState s = get_state(c);
    pthread_mutex_lock(&c->lock);
    struct vmproc *vp = c->vp;
    pthread_mutex_unlock(&c->lock);
    cap_result rc;
    if (!vp || (s != MachineState_Running && s != MachineState_Paused)) {
        rc = state_error(c, "change a medium of");
    } else if (CAP_SUCCEEDED(rc = vmproc_set_medium(vp, name, (unsigned)port, (unsigned)device,
                                                    path, force != CAP_FALSE))) {
        fprintf(stderr, "capsule-vm: %s port %d device %d: %s%s\n", name, (int)port, (int)device,
                path ? "inserted " : "ejected", path ? path : "");
    } else if (rc == CAP_E_ACCESSDENIED) {
        rc = cap_error_set(rc, COMPONENT, "IInternalSessionControl",
                           "the guest has locked the medium in the DVD drive at %s port %d device "
                           "%d (PREVENT MEDIUM REMOVAL): --forceunmount (mountMedium's force) "
                           "changes it anyway",
                           name, (int)port, (int)device);
    } else if (rc != CAP_E_INVALIDARG) {
        rc = vm_error(rc);
    }
    pthread_mutex_unlock(&c->op);
    return rc;
}

static const struct IInternalSessionControlVtbl control_vtbl = {
    .QueryInterface = c_QueryInterface,
    .AddRef = c_AddRef,
    .Release = c_Release,
    .GetPid = c_GetPid,
    .AssignMachine = c_AssignMachine,
    .Uninitialize = c_Uninitialize,
    .GetRemoteConsole = c_GetRemoteConsole,
    .AssignRemoteMachine = c_AssignRemoteMachine,
    .OnMediumChange = c_OnMediumChange,
};

/* ---- IConsole -------------------------------------------------------------------- */

static cap_result k_QueryInterface(IConsole *self, const cap_uuid *iid, void **out)
{
    return qi(impl_con(self), iid, out);
}
static uint32_t k_AddRef(IConsole *self) { return addref(impl_con(self)); }
static uint32_t k_Release(IConsole *self) { return release(impl_con(self)); }

static cap_result k_GetMachine(IConsole *self, IMachine **out)
{
    return s_GetMachine(&impl_con(self)->ISession_iface, out);
}

static cap_result k_GetState(IConsole *self, MachineState *out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = get_state(impl_con(self));
    return CAP_OK;
}

static cap_result k_GetDebugger(IConsole *self, IMachineDebugger **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = &impl_con(self)->dbg.IMachineDebugger_iface;
    IMachineDebugger_AddRef(*out);
    return CAP_OK;
}

static cap_result k_GetDisplay(IConsole *self, IDisplay **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = &impl_con(self)->IDisplay_iface;
    IDisplay_AddRef(*out);
    return CAP_OK;
}

static cap_result k_GetKeyboard(IConsole *self, IKeyboard **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = &impl_con(self)->input.IKeyboard_iface;
    IKeyboard_AddRef(*out);
    return CAP_OK;
}

static cap_result k_GetMouse(IConsole *self, IMouse **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = &impl_con(self)->input.IMouse_iface;
    IMouse_AddRef(*out);
    return CAP_OK;
}

static cap_result k_PowerUp(IConsole *self, IProgress **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    /* The VM process powers its VM up itself, once, from the settings. */
    return state_error(impl_con(self), "power up");
}

static cap_result k_PowerDown(IConsole *self, IProgress **out)
{
    struct console *c = impl_con(self);
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    pthread_mutex_lock(&c->op);
    MachineState s = get_state(c);
    struct vm *vm = get_vm(c);
    if (!vm || (s != MachineState_Running && s != MachineState_Paused &&
                s != MachineState_Stuck)) {
        cap_result rc = state_error(c, "power off");
        pthread_mutex_unlock(&c->op);
        return rc;
    }
    /* The progress exists before the VM is off, so that the main thread,
     * woken by the end of the VM, lingers until the caller has it. */
    cap_result rc = keep_progress(c, "Powering off the VM", out);
    if (CAP_FAILED(rc)) {
        pthread_mutex_unlock(&c->op);
        return rc;
    }
    report(c, MachineState_Stopping);
    vm_power_off(vm); /* VMM_E_BAD_STATE if it is ending by itself: the wait covers it */
    enum vm_state st = vm_wait(vm, -1);
    finish_op(c, st == VM_STATE_ABORTED ? MachineState_Aborted : MachineState_PoweredOff);
    pthread_mutex_unlock(&c->op);
    fprintf(stderr, "capsule-vm: powered off through the console\n");
    return CAP_OK;
}

static cap_result pause_resume(struct console *c, int pause)
{
    pthread_mutex_lock(&c->op);
    MachineState want = pause ? MachineState_Running : MachineState_Paused;
    struct vm *vm = get_vm(c);
    cap_result rc;
    if (!vm || get_state(c) != want) {
        rc = state_error(c, pause ? "pause" : "resume");
    } else {
        rc = pause ? vm_pause(vm) : vm_resume(vm);
        if (CAP_SUCCEEDED(rc))
            report(c, pause ? MachineState_Paused : MachineState_Running);
        else
            rc = vm_error(rc);
    }
    pthread_mutex_unlock(&c->op);
    return rc;
}

static cap_result k_Pause(IConsole *self)
{
    return pause_resume(impl_con(self), 1);
}

static cap_result k_Resume(IConsole *self)
{
    return pause_resume(impl_con(self), 0);
}

static cap_result k_Reset(IConsole *self)
{
    struct console *c = impl_con(self);
    pthread_mutex_lock(&c->op);
    MachineState s = get_state(c);
    struct vm *vm = get_vm(c);
    cap_result rc;
    if (!vm || (s != MachineState_Running && s != MachineState_Paused))
        rc = state_error(c, "reset");
    else if (CAP_FAILED(rc = vm_reset(vm)))
        rc = vm_error(rc);
    pthread_mutex_unlock(&c->op);
    return rc;
}

static cap_result k_PowerButton(IConsole *self)
{
    struct console *c = impl_con(self);
    pthread_mutex_lock(&c->op);
    struct vm *vm = get_vm(c);
    cap_result rc;
    if (!vm || get_state(c) != MachineState_Running)
        rc = state_error(c, "press the power button of");
    else if (CAP_FAILED(rc = pdm_acpi_power_button(vm_pdm(vm))))
        rc = vm_error(rc);
    pthread_mutex_unlock(&c->op);
    return rc;
}

static cap_result k_SaveState(IConsole *self, IProgress **out)
{
    struct console *c = impl_con(self);
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    MachineState s = get_state(c);
    if (s != MachineState_Running && s != MachineState_Paused)
        return state_error(c, "save");
    return cap_error_set(CAP_E_NOT_SUPPORTED, COMPONENT, "IConsole",
                         "saving the VM state needs the saved-state module (not there yet)");
}

static cap_result k_DiscardSavedState(IConsole *self, cap_bool remove_file)
{
    return state_error(impl_con(self), "discard the saved state of");
}

/* ---- the remote display server (vmproc_vrde.h) --------------------------------------- */

/* The running VM's server, or NULL with error info. */
static struct vmproc_vrde *running_vrde(struct console *c)
{
    MachineState s = get_state(c);
    pthread_mutex_lock(&c->lock);
    struct vmproc *vp = c->vp;
    pthread_mutex_unlock(&c->lock);
    if (!vp || (s != MachineState_Running && s != MachineState_Paused && s != MachineState_Stuck)) {
        state_error(c, "use the remote display server of");
        return NULL;
    }
    return vmproc_vrde(vp); /* the vmproc lives as long as the object */
}

static cap_result k_GetVRDEServerEnabled(IConsole *self, cap_bool *out)
{
    if (!out)
        return CAP_E_POINTER;
    struct vmproc_vrde *v = running_vrde(impl_con(self));
    *out = v && vmproc_vrde_port(v) ? CAP_TRUE : CAP_FALSE;
    cap_error_clear();
    return CAP_OK;
}

static cap_result k_SetVRDEServerEnabled(IConsole *self, cap_bool on)
{
    struct console *c = impl_con(self);
    pthread_mutex_lock(&c->op);
    struct vmproc_vrde *v = running_vrde(c);
    cap_result rc = v ? vmproc_vrde_enable(v, on != CAP_FALSE) : CAP_E_INVALID_VM_STATE;
    pthread_mutex_unlock(&c->op);
    return rc;
}

static cap_result k_GetVRDEServerPort(IConsole *self, int32_t *out)
{
    if (!out)
        return CAP_E_POINTER;
    struct vmproc_vrde *v = running_vrde(impl_con(self));
    *out = v ? (int32_t)vmproc_vrde_port(v) : 0;
    cap_error_clear();
    return CAP_OK;
}

/* ---- networking (console_net.h) ------------------------------------------------------- */

/* The running VM's vmproc, or NULL with error info. */
static struct vmproc *running_vp(struct console *c, const char *what)
{
    MachineState s = get_state(c);
    pthread_mutex_lock(&c->lock);
    struct vmproc *vp = c->vp;
    pthread_mutex_unlock(&c->lock);
    if (!vp || (s != MachineState_Running && s != MachineState_Paused && s != MachineState_Stuck)) {
        state_error(c, what);
        return NULL;
    }
    return vp;
}

static cap_result k_SetNetworkLinkState(IConsole *self, uint32_t slot, cap_bool connected)
{
    struct console *c = impl_con(self);
    pthread_mutex_lock(&c->op);
    struct vmproc *vp = running_vp(c, "change a network link of");
    cap_result rc =
        vp ? console_net_link(vp, slot, connected != CAP_FALSE) : CAP_E_INVALID_VM_STATE;
    pthread_mutex_unlock(&c->op);
    return rc;
}

/* addNATRedirect (rule) or removeNATRedirect (name). */
static cap_result nat_redirect(IConsole *self, uint32_t slot, const char *rule, const char *name)
{
    struct console *c = impl_con(self);
    pthread_mutex_lock(&c->op);
    struct vmproc *vp = running_vp(c, "change the port forwarding of");
    IMachine *m = vp ? console_machine(c) : NULL;
    cap_result rc = !vp    ? CAP_E_INVALID_VM_STATE
                    : rule ? console_net_add(&c->net, m, vp, slot, rule)
                           : console_net_remove(&c->net, m, vp, slot, name);
    if (m)
        IMachine_Release(m);
    pthread_mutex_unlock(&c->op);
    return rc;
}

static cap_result k_AddNATRedirect(IConsole *self, uint32_t slot, const char *rule)
{
    return nat_redirect(self, slot, rule ? rule : "", NULL);
}

static cap_result k_RemoveNATRedirect(IConsole *self, uint32_t slot, const char *name)
{
    return nat_redirect(self, slot, NULL, name ? name : "");
}

static const struct IConsoleVtbl console_vtbl = {
    .QueryInterface = k_QueryInterface,
    .AddRef = k_AddRef,
    .Release = k_Release,
    .GetMachine = k_GetMachine,
    .GetState = k_GetState,
    .GetDebugger = k_GetDebugger,
    .GetDisplay = k_GetDisplay,
    .PowerUp = k_PowerUp,
    .PowerDown = k_PowerDown,
    .Pause = k_Pause,
    .Resume = k_Resume,
    .Reset = k_Reset,
    .PowerButton = k_PowerButton,
    .SaveState = k_SaveState,
    .DiscardSavedState = k_DiscardSavedState,
    .GetKeyboard = k_GetKeyboard,
    .GetMouse = k_GetMouse,
    .GetVRDEServerEnabled = k_GetVRDEServerEnabled,
    .SetVRDEServerEnabled = k_SetVRDEServerEnabled,
    .GetVRDEServerPort = k_GetVRDEServerPort,
    .SetNetworkLinkState = k_SetNetworkLinkState,
    .AddNATRedirect = k_AddNATRedirect,
    .RemoveNATRedirect = k_RemoveNATRedirect,
};

/* ---- IDisplay ------------------------------------------------------------------------ */

static cap_result p_QueryInterface(IDisplay *self, const cap_uuid *iid, void **out)
{
    return qi(impl_disp(self), iid, out);
}
static uint32_t p_AddRef(IDisplay *self)
{
    return addref(impl_disp(self));
}
static uint32_t p_Release(IDisplay *self)
{
    return release(impl_disp(self));
}

/* The screen `screen` of the running VM now: *pixels (cap_free) gets
 * *width x *height XRGB pixels. */
static cap_result screen_now(struct console *c, uint32_t screen, uint32_t **pixels, unsigned *width,
                             unsigned *height)
{
    *pixels = NULL;
    MachineState s = get_state(c);
    struct vm *vm = get_vm(c);
    if (!vm || (s != MachineState_Running && s != MachineState_Paused && s != MachineState_Stuck))
        return state_error(c, "read the screen of");
    if (screen != 0)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, "IDisplay",
                             "no screen %u: the VM has one screen, 0", (unsigned)screen);
    /* the vmproc, and so the vm, lives as long as the object */
    cap_result rc = pdm_display_snapshot(vm_pdm(vm), pixels, width, height);
    if (rc == CAP_E_NOTIMPL)
        return cap_error_set(CAP_E_NOT_SUPPORTED, COMPONENT, "IDisplay",
                             "the machine has no display");
    if (CAP_FAILED(rc))
        return vm_error(rc);
    return CAP_OK;
}

static cap_result p_GetScreenResolution(IDisplay *self, uint32_t screen, uint32_t *width,
                                        uint32_t *height, uint32_t *bpp, int32_t *x, int32_t *y)
{
    if (!width || !height || !bpp || !x || !y)
        return CAP_E_POINTER;
    *width = *height = *bpp = 0;
    *x = *y = 0;
    uint32_t *pixels;
    unsigned w, h;
    cap_result rc = screen_now(impl_disp(self), screen, &pixels, &w, &h);
    if (CAP_FAILED(rc))
        return rc;
    cap_free(pixels);
    *width = w;
    *height = h;
    *bpp = 32;
    return CAP_OK;
}

/* XRGB pixels as BGRA bytes (alpha 255) into a new array. */
static cap_result to_bgra(const uint32_t *pixels, unsigned w, unsigned h, uint32_t *n,
                          uint8_t **out)
{
    size_t len = (size_t)w * h * 4;
    if (len > UINT32_MAX)
        return cap_error_set(CAP_E_OUTOFMEMORY, COMPONENT, "IDisplay", "the screen is too big");
    uint8_t *b = cap_alloc(len ? len : 1);
    if (!b)
        return cap_error_set(CAP_E_OUTOFMEMORY, COMPONENT, "IDisplay", "out of memory");
    for (size_t i = 0; i < (size_t)w * h; i++) {
        b[4 * i] = (uint8_t)pixels[i];
        b[4 * i + 1] = (uint8_t)(pixels[i] >> 8);
        b[4 * i + 2] = (uint8_t)(pixels[i] >> 16);
        b[4 * i + 3] = 0xff;
    }
    *n = (uint32_t)len;
    *out = b;
    return CAP_OK;
}

/* XRGB pixels as a PNG file into a new array. */
static cap_result to_png(const uint32_t *pixels, unsigned w, unsigned h, uint32_t *n, uint8_t **out)
{
    uint8_t *png;
    size_t len;
    cap_result rc = vmproc_png_encode(pixels, w, h, &png, &len);
    if (CAP_FAILED(rc))
        return rc;
    uint8_t *b = len <= UINT32_MAX ? cap_alloc(len ? len : 1) : NULL;
    if (b)
        memcpy(b, png, len);
    free(png);
    if (!b)
        return cap_error_set(CAP_E_OUTOFMEMORY, COMPONENT, "IDisplay", "out of memory");
    *n = (uint32_t)len;
    *out = b;
    return CAP_OK;
}

static cap_result p_TakeScreenShotToArray(IDisplay *self, uint32_t screen, uint32_t width,
                                          uint32_t height, BitmapFormat format, uint32_t *n,
                                          uint8_t **data)
{
    if (!n || !data)
        return CAP_E_POINTER;
    *n = 0;
    *data = NULL;
    if (format != BitmapFormat_BGRA && format != BitmapFormat_PNG)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, "IDisplay",
                             "bitmap format %#x is neither BGRA nor PNG", (unsigned)format);
    uint32_t *pixels;
    unsigned w, h;
    cap_result rc = screen_now(impl_disp(self), screen, &pixels, &w, &h);
    if (CAP_FAILED(rc))
        return rc;
    if (width != w || height != h)
        rc = cap_error_set(CAP_E_INVALIDARG, COMPONENT, "IDisplay",
                           "the screen is %ux%u, not %ux%u (pictures are not scaled)", w, h,
                           (unsigned)width, (unsigned)height);
    else if (format == BitmapFormat_BGRA)
        rc = to_bgra(pixels, w, h, n, data);
    else
        rc = to_png(pixels, w, h, n, data);
    cap_free(pixels);
    return rc;
}

/* The checks every IDisplay method makes (state, screen, a display). */
static cap_result display_check(struct console *c, uint32_t screen)
{
    uint32_t *pixels;
    unsigned w, h;
    cap_result rc = screen_now(c, screen, &pixels, &w, &h);
    cap_free(pixels);
    return rc;
}

static cap_result p_SetVideoModeHint(IDisplay *self, uint32_t screen, cap_bool enabled,
                                     cap_bool change_origin, int32_t x, int32_t y, uint32_t width,
                                     uint32_t height, uint32_t bpp)
{
    cap_result rc = display_check(impl_disp(self), screen);
    if (CAP_FAILED(rc))
        return rc;
    if (bpp != 0 && bpp != 8 && bpp != 15 && bpp != 16 && bpp != 24 && bpp != 32)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, "IDisplay",
                             "%u bits per pixel: a mode has 8, 15, 16, 24 or 32 (0 keeps the "
                             "current depth)",
                             (unsigned)bpp);
    return cap_error_set(CAP_E_NOT_SUPPORTED, COMPONENT, "IDisplay",
                         "video mode hints are not supported: the VM's display (the VGA) cannot "
                         "pass a hint to the guest - that needs guest additions or an EDID the "
                         "guest reads, and Capsule has neither yet; set the mode inside the guest "
                         "(e.g. Linux's video=%ux%u kernel option)",
                         width ? (unsigned)width : 1024u, height ? (unsigned)height : 768u);
}

/* The VM's display hub (display/display.h) sends every framebuffer the
 * whole picture at its next refresh. */
static cap_result p_InvalidateAndUpdate(IDisplay *self)
{
    struct console *c = impl_disp(self);
    cap_result rc = display_check(c, 0);
    if (CAP_FAILED(rc))
        return rc;
    pthread_mutex_lock(&c->lock);
    struct vmproc *vp = c->vp; /* lives as long as the object */
    pthread_mutex_unlock(&c->lock);
    fe_display_invalidate(vmproc_display(vp));
    return CAP_OK;
}

/* A client's IFramebuffer bridged to the VM's display hub (console_fb.h). */
static cap_result p_AttachFramebuffer(IDisplay *self, uint32_t screen, IFramebuffer *fb,
                                      uint32_t *id)
{
    if (!id)
        return CAP_E_POINTER;
    *id = 0;
    if (!fb)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, "IDisplay", "no framebuffer given");
    struct console *c = impl_disp(self);
    cap_result rc = display_check(c, screen);
    if (CAP_FAILED(rc))
        return rc;
    pthread_mutex_lock(&c->lock);
    struct vmproc *vp = c->vp; /* lives as long as the object */
    pthread_mutex_unlock(&c->lock);
    unsigned n;
    rc = console_fbs_attach(&c->fbs, vmproc_display(vp), fb, &n);
    if (CAP_SUCCEEDED(rc))
        *id = n;
    return rc;
}

static cap_result p_DetachFramebuffer(IDisplay *self, uint32_t screen, uint32_t id)
{
    if (screen != 0)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, "IDisplay",
                             "no screen %u: the VM has one screen, 0", (unsigned)screen);
    return console_fbs_detach(&impl_disp(self)->fbs, id);
}

static const struct IDisplayVtbl display_vtbl = {
    .QueryInterface = p_QueryInterface,
    .AddRef = p_AddRef,
    .Release = p_Release,
    .GetScreenResolution = p_GetScreenResolution,
    .TakeScreenShotToArray = p_TakeScreenShotToArray,
    .SetVideoModeHint = p_SetVideoModeHint,
    .InvalidateAndUpdate = p_InvalidateAndUpdate,
    .AttachFramebuffer = p_AttachFramebuffer,
    .DetachFramebuffer = p_DetachFramebuffer,
};

/* ---- the debugger's hooks (debugger.h) --------------------------------------------- */

static struct vmproc *dbg_running_vm(struct debugger *d)
{
    struct console *c = impl_dbg(d);
    pthread_mutex_lock(&c->lock);
    MachineState s = c->state;
    struct vmproc *vp = c->vp;
    pthread_mutex_unlock(&c->lock);
    /* The vmproc lives until the object dies (after the IPC connection is
     * closed), so it stays valid for the caller. */
    return s == MachineState_Running || s == MachineState_Paused || s == MachineState_Stuck ? vp
                                                                                          : NULL;
}

static cap_result dbg_qi(struct debugger *d, const cap_uuid *iid, void **out)
{
    return qi(impl_dbg(d), iid, out);
}

static uint32_t dbg_addref(struct debugger *d)
{
    return addref(impl_dbg(d));
}

static uint32_t dbg_release(struct debugger *d)
{
    return release(impl_dbg(d));
}

static const struct debugger_owner debugger_owner = {
    .query_interface = dbg_qi,
    .add_ref = dbg_addref,
    .release = dbg_release,
    .running_vm = dbg_running_vm,
};

/* ---- the keyboard's and mouse's hooks (console_input.h) ---------------------------- */

static cap_result input_qi(struct console_input *in, const cap_uuid *iid, void **out)
{
    return qi(impl_input(in), iid, out);
}

static uint32_t input_addref(struct console_input *in)
{
    return addref(impl_input(in));
}

static uint32_t input_release(struct console_input *in)
{
    return release(impl_input(in));
}

static struct vm *input_vm(struct console_input *in, MachineState *state)
{
    struct console *c = impl_input(in);
    *state = get_state(c);
    return get_vm(c);
}

static cap_result input_state_error(struct console_input *in, const char *what)
{
    return state_error(impl_input(in), what);
}

static const struct console_input_owner input_owner = {
    .query_interface = input_qi,
    .add_ref = input_addref,
    .release = input_release,
    .vm = input_vm,
    .state_error = input_state_error,
};

/* ---- the process's side ------------------------------------------------------------ */

cap_result console_create(struct console **out)
{
    *out = NULL;
    struct console *c = cap_alloc_zero(sizeof(*c));
    if (!c)
        return cap_error_set(CAP_E_OUTOFMEMORY, COMPONENT, NULL, "out of memory");
    c->ISession_iface.vtbl = &session_vtbl;
    c->IInternalSessionControl_iface.vtbl = &control_vtbl;
    c->IConsole_iface.vtbl = &console_vtbl;
    c->IDisplay_iface.vtbl = &display_vtbl;
    debugger_init(&c->dbg, &debugger_owner);
    console_input_init(&c->input, &input_owner);
    console_fbs_init(&c->fbs);
    cap_refcnt_init(&c->ref, 1);
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->op, NULL);
    session_binding_init(&c->b);
    c->state = MachineState_Starting;
    *out = c;
    return CAP_OK;
}

ISession *console_session(struct console *c)
{
    return &c->ISession_iface;
}

void console_release(struct console *c)
{
    if (c)
        release(c);
}

IMachine *console_machine(struct console *c)
{
    pthread_mutex_lock(&c->lock);
    IMachine *m = c->b.machine;
    if (m)
        IMachine_AddRef(m);
    pthread_mutex_unlock(&c->lock);
    return m;
}

cap_result console_power_up(struct console *c, const struct vmproc_opts *o)
{
    struct vmproc *vp = NULL;
    pthread_mutex_lock(&c->op);
    cap_result rc = vmproc_create(o, &vp);
    if (CAP_SUCCEEDED(rc) && CAP_FAILED(rc = vmproc_start(vp))) {
        struct cap_error_info ei;
        cap_error_take(&ei);
        vmproc_destroy(vp);
        vp = NULL;
        cap_error_set_info(&ei);
        cap_error_info_clear(&ei);
    }
    if (CAP_SUCCEEDED(rc)) {
        pthread_mutex_lock(&c->lock);
        c->vp = vp;
        pthread_mutex_unlock(&c->lock);
        report(c, MachineState_Running);
    }
    pthread_mutex_unlock(&c->op);
    return rc;
}

int console_run_until_off(struct console *c)
{
    pthread_mutex_lock(&c->lock);
    struct vmproc *vp = c->vp;
    pthread_mutex_unlock(&c->lock);
    enum vm_state st = VM_STATE_POWERED_OFF;
    int status = vmproc_finish(vp, &st);
    console_finish(c, st == VM_STATE_ABORTED ? MachineState_Aborted : MachineState_PoweredOff);
    return status;
}

void console_end_power_up(struct console *c, cap_result result, const char *message)
{
    pthread_mutex_lock(&c->lock);
    IInternalMachineControl *ctl = c->b.control;
    if (ctl)
        IInternalMachineControl_AddRef(ctl);
    pthread_mutex_unlock(&c->lock);
    if (!ctl)
        return;
    if (CAP_FAILED(IInternalMachineControl_EndPowerUp(ctl, result, message)))
        fprintf(stderr, "capsule-vm: cannot report the power-up to the service: %s\n",
                cap_error_peek_message() ? cap_error_peek_message() : "?");
    IInternalMachineControl_Release(ctl);
    if (CAP_FAILED(result)) {
        /* The service ended our lock with the failure: nothing more to say. */
        IMachine *m;
        pthread_mutex_lock(&c->lock);
        session_binding_take(&c->b, &m, &ctl);
        c->finished = 1;
        pthread_mutex_unlock(&c->lock);
        session_binding_drop(m, ctl);
    }
}

void console_service_lost(struct console *c)
{
    pthread_mutex_lock(&c->lock);
    struct vmproc *vp = c->vp;
    pthread_mutex_unlock(&c->lock);
    if (!vp)
        return;
    fprintf(stderr, "capsule-vm: the connection to capsule-svc is gone (the service ended): "
                    "powering the VM off, as no one could control it any more\n");
    vm_power_off(vmproc_vm(vp)); /* VMM_E_BAD_STATE if it is ending anyway */
}

void console_finish(struct console *c, MachineState final)
{
    pthread_mutex_lock(&c->op);
    finish_op(c, final);
    pthread_mutex_unlock(&c->op);
}

void console_linger(struct console *c, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        int busy = 0;
        pthread_mutex_lock(&c->lock);
        for (unsigned i = 0; i < c->n_progress; i++)
            busy |= done_progress_refs(c->progress[i]) > 1;
        pthread_mutex_unlock(&c->lock);
        if (!busy)
            return;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}
