/*
 * plugins/frontends/manage/with_vm.c - the one place the capsule CLI finds a
 * machine, opens a session on it and locks it (see manage.h's cli_with_vm).
 *
 * Every subcommand that works on a machine used to repeat the chain
 * findMachine -> new Session -> lockMachine -> ... -> unlockMachine, with
 * its own release order and error report. Here it is once: each step names
 * itself in vm->what, the first failure stops the chain, and the objects are
 * released in reverse order however far it got.
 */
#include <capsule/errorinfo.h>

#include "manage.h"

/* Opens what `access` asks for, in order; vm->what names the failing step. */
static cap_result open_vm(struct cli_vm *vm, enum cli_vm_access access, int *locked)
{
    vm->what = "connecting to capsule-svc";
    cap_result rc = cli_connect(vm->ctx);
    if (CAP_FAILED(rc) || access == CLI_SERVICE)
        return rc;
    vm->what = "ICapsule::findMachine";
    rc = ICapsule_FindMachine(vm->ctx->root, vm->name, &vm->machine);
    if (CAP_FAILED(rc) || access == CLI_MACHINE)
        return rc;
    vm->what = "creating a session";
    rc = cli_session_create(&vm->session);
    if (CAP_FAILED(rc) || access == CLI_SESSION)
        return rc;
    vm->what = "IMachine::lockMachine";
    rc = IMachine_LockMachine(vm->machine, vm->session,
                              access == CLI_LOCK_WRITE ? LockType_Write : LockType_Shared);
    if (CAP_FAILED(rc))
        return rc;
    *locked = 1;
    if (access == CLI_LOCK_WRITE) {
        vm->what = "ISession::machine";
        return ISession_GetMachine(vm->session, &vm->mutable_machine);
    }
    vm->what = "ISession::console";
    rc = ISession_GetConsole(vm->session, &vm->console);
    if (CAP_SUCCEEDED(rc) && !vm->console)
        rc = cap_error_set(CAP_E_INVALID_VM_STATE, "capsule", "ISession",
                           "machine '%s' has no running VM process", vm->name);
    return rc;
}

/* 1 if the session holds a lock (a launch leaves one until detached). */
static int session_locked(ISession *s)
{
    SessionState st = SessionState_Null;
    return CAP_SUCCEEDED(ISession_GetState(s, &st)) && st == SessionState_Locked;
}

int cli_with_vm(struct cli_ctx *ctx, const char *name, enum cli_vm_access access, cli_vm_fn fn,
                void *arg)
{
    struct cli_vm vm = {.ctx = ctx, .name = name};
    int locked = 0;
    if (access == CLI_SERVICE && name)
        access = CLI_MACHINE;
    cap_result rc = open_vm(&vm, access, &locked);
    if (CAP_SUCCEEDED(rc))
        rc = fn(&vm, arg);
    int status = CLI_EXIT_OK;
    if (CAP_FAILED(rc))
        status = vm.usage_error ? cli_usage(ctx, NULL) : cli_fail(rc, vm.what);
    if (vm.console)
        IConsole_Release(vm.console);
    if (vm.mutable_machine)
        IMachine_Release(vm.mutable_machine);
    if (vm.session && (locked || (access == CLI_SESSION && session_locked(vm.session)))) {
        /* Unlocking discards unsaved changes, which is what a failure wants;
         * after a launch it detaches and the VM keeps running. */
        cap_result urc = ISession_UnlockMachine(vm.session);
        if (CAP_FAILED(urc) && access == CLI_LOCK_WRITE && status == CLI_EXIT_OK)
            status = cli_fail(urc, "ISession::unlockMachine");
    }
    if (vm.session)
        ISession_Release(vm.session);
    if (vm.machine)
        IMachine_Release(vm.machine);
    return status;
}
