/*
 * service/vmlaunch.c - starting a machine's VM process (IMachine's
 * launchVMProcess) and handing its console to other sessions.
 *
 * The managed flow, as in VirtualBox's Main:
 *  1. launchVMProcess claims the machine (Starting, sessionState Spawning,
 *     p->launch records the caller's session and the progress), spawns
 *     `capsule-vm --startvm UUID --home HOME --type T` beside capsule-svc
 *     with its stdout/stderr in MACHINEFOLDER/Logs/capsule-vm.log (the
 *     previous logs kept as capsule-vm.log.1 .. .N, N = logHistoryCount),
 *     and returns the progress.
 *  2. capsule-vm connects back, takes the VM-type lock (session_machine_lock lets
 *     exactly that pid take it while the machine is Starting), builds and
 *     starts the VM, reports Running (updateState) and then calls
 *     endPowerUp. Success binds the caller's session as Remote with the VM
 *     process's console (IInternalSessionControl's remoteConsole of the VM
 *     session, a proxy into capsule-vm) and completes the progress; failure
 *     leaves the machine PoweredOff and completes the progress with the VM
 *     process's message.
 *  3. One detached thread per VM process waits for it to exit (waitpid, so
 *     no zombie stays). It also bounds the launch: a VM process that has
 *     not reported its power-up (endPowerUp) within the launch timeout
 *     (CAPSULE_SVC_LAUNCH_TIMEOUT ms, default LAUNCH_TIMEOUT_MS; 0: none)
 *     is killed, and the progress says so - a process hung before it
 *     registered cannot leave the machine Starting for ever. If it ends
 *     while the launch is still pending, the
 *     progress fails with the exit status and the tail of the log; if it
 *     still held the machine's lock, the lock ends as for any dead holder
 *     (session_holder_died: not at rest -> Aborted), whether or not the IPC
 *     disconnect was noticed first.
 * Shared sessions (lockMachine with LockType Shared) get the same console
 * through session_holder_console() (session_machine.c).
 *
 * Calls into sessions (client objects, over IPC) are made without
 * svc->lock held, as everywhere in the service.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <capsule/mem.h>
#include <capsule/object.h>
#include <capsule/registry.h>
#include <capsule/uuid.h>

#include "registry.h"
#include "session_machine.h"
#include "vmlaunch.h"

#define IFACE             "IMachine"
#define LOG_NAME          "capsule-vm.log"
#define LOG_TAIL_LINES    8
#define LAUNCH_TIMEOUT_MS 120000u

extern char **environ;

struct launch {
    struct progress *progress;
    IInternalSessionControl *caller; /* strong: bound Remote on success */
    char *log;                       /* the VM process's log file */
    unsigned log_keep;               /* old logs to keep (logHistoryCount at the launch) */
};

struct reaper {
    struct machine *p; /* strong */
    pid_t pid;
    char *log;
};

static void launch_free(struct launch *l)
{
    if (!l)
        return;
    progress_release(l->progress);
    if (l->caller)
        IInternalSessionControl_Release(l->caller);
    cap_str_free(l->log);
    cap_free(l);
}

/* ---- the VM process's log ------------------------------------------------- */

/* The last LOG_TAIL_LINES lines of `path` (cap_str_free), or NULL. */
static char *log_tail(const char *path)
{
    char buf[2048];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    off_t end = lseek(fd, 0, SEEK_END);
    off_t start = end > (off_t)sizeof(buf) - 1 ? end - (off_t)sizeof(buf) + 1 : 0;
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, start);
    close(fd);
    if (n <= 0)
        return NULL;
    while (n > 0 && buf[n - 1] == '\n')
        n--;
    buf[n] = '\0';
    char *s = buf;
    int lines = 0;
    for (char *q = buf + n; q > buf; q--)
        if (q[-1] == '\n' && ++lines == LOG_TAIL_LINES) {
            s = q;
            break;
        }
    return cap_str_dup(s);
}

/* Opens a fresh log for the VM process; the previous ones are kept as
 * .1 .. .KEEP (ISystemProperties' logHistoryCount). */
static int open_log(const char *log, unsigned keep)
{
    if (CAP_FAILED(svc_make_parent_dirs(log)))
        return -1;
    svc_rotate_log(log, keep);
    /* 0600 like every other file under CAPSULE_HOME: the log holds the
     * guest's console and the VM's configuration. A file left behind
     * (rotation failed) keeps its mode through O_CREAT: fchmod it. */
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0)
        (void)fchmod(fd, 0600);
    return fd;
}

/* ---- spawning --------------------------------------------------------------- */

/* environ with `changes` ("NAME=VALUE" sets, "NAME" removes) applied; the
 * strings are borrowed. cap_free the array. */
static char **make_env(uint32_t n, char *const *changes)
{
    size_t n_env = 0;
    while (environ && environ[n_env])
        n_env++;
    char **env = cap_alloc_zero((n_env + n + 1) * sizeof(*env));
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n_env; i++)
        env[k++] = environ[i];
    for (uint32_t c = 0; c < n; c++) {
        const char *ch = changes[c];
        if (!ch || !*ch)
            continue;
        size_t len = strcspn(ch, "=");
        for (size_t i = 0; i < k; i++)
            if (!strncmp(env[i], ch, len) && env[i][len] == '=') {
                env[i] = env[--k];
                env[k] = NULL;
                break;
            }
        if (ch[len] == '=')
            env[k++] = (char *)ch;
    }
    env[k] = NULL;
    return env;
}

/* Runs in the child between fork and exec: async-signal-safe calls only. */
static void child_exec(const char *vm, char *const argv[], char *const envp[], int logfd)
{
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0)
        dup2(null, STDIN_FILENO);
    dup2(logfd, STDOUT_FILENO);
    dup2(logfd, STDERR_FILENO);
    setsid();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
#ifdef SYS_close_range
    syscall(SYS_close_range, 3u, ~0u, 0u);
#else
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
#endif
    execve(vm, argv, envp);
    static const char msg[] = "capsule-svc: cannot execute the VM process\n";
    ssize_t r = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)r;
    _exit(127);
}

static cap_result spawn(const char *vm, const char *id, const char *home, const char *type,
                        const char *log, unsigned log_keep, uint32_t n_env,
                        char *const *env_changes, pid_t *pid)
{
    char *argv[] = {(char *)vm,   "--startvm", (char *)id,   "--home",
                    (char *)home, "--type",    (char *)type, NULL};
    char **envp = make_env(n_env, env_changes);
    if (!envp)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, IFACE, "out of memory");
    int logfd = open_log(log, log_keep);
    if (logfd < 0) {
        cap_result rc =
            cap_error_set(CAP_E_FILE_ERROR, SVC_COMPONENT, IFACE,
                          "cannot create the VM process log '%s': %s", log, strerror(errno));
        cap_free(envp);
        return rc;
    }
    pid_t child = fork();
    if (child == 0)
        child_exec(vm, argv, envp, logfd);
    int err = errno;
    close(logfd);
    cap_free(envp);
    if (child < 0)
        return cap_error_set(CAP_E_HOST_ERROR, SVC_COMPONENT, IFACE,
                             "cannot spawn the VM process %s: %s", vm, strerror(err));
    *pid = child;
    return CAP_OK;
}

/* ---- the reaper: one thread per VM process ------------------------------------ */

static char *exit_text(int status)
{
    if (WIFSIGNALED(status))
        return cap_str_printf("was killed by signal %d (%s)", WTERMSIG(status),
                              strsignal(WTERMSIG(status)));
    return cap_str_printf("exited with status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* The launch timeout in ms (0: none). */
static uint32_t launch_timeout(void)
{
    uint32_t ms = LAUNCH_TIMEOUT_MS;
    svc_env_u32("CAPSULE_SVC_LAUNCH_TIMEOUT", &ms);
    return ms;
}

static int launch_pending(struct machine *p, pid_t pid)
{
    svc_core_lock(p->obj.core);
    int pending = p->launch && p->launch_pid == pid;
    svc_core_unlock(p->obj.core);
    return pending;
}

/* Waits until the launch of r->pid is over (power-up reported, or the
 * process gone) or `ms` have passed; returns 1 on the timeout with the
 * launch still pending. Polls the process's pidfd where there is one (the
 * wait ends the moment it exits), else every 100 ms. */
static int launch_timed_out(struct reaper *r, uint32_t ms)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int pidfd = -1;
#ifdef SYS_pidfd_open
    pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
#endif
    int over = 0;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        int64_t left = (int64_t)ms - ((int64_t)(t.tv_sec - t0.tv_sec) * 1000 +
                                      (t.tv_nsec - t0.tv_nsec) / 1000000);
        if (!launch_pending(r->p, r->pid))
            break;
        if (left <= 0) {
            over = 1;
            break;
        }
        int step = left < 100 ? (int)left : 100; /* the launch ends without an event here */
        if (pidfd >= 0) {
            struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
            if (poll(&pfd, 1, step) > 0)
                break; /* exited: waitpid reaps it */
        } else {
            siginfo_t si = {0};
            if (!waitid(P_PID, (id_t)r->pid, &si, WEXITED | WNOHANG | WNOWAIT) && si.si_pid)
                break;
            struct timespec d = {0, (long)step * 1000000L};
            nanosleep(&d, NULL);
        }
    }
    if (pidfd >= 0)
        close(pidfd);
    return over;
}

/* An Aborted machine whose reason only says its VM process ended (pid
 * `pid`, session_machine.c) learns how it ended (`how`: "was killed by
 * signal 9 (Killed)"). */
static void explain_abort(struct machine *p, pid_t pid, const char *how)
{
    char tag[32];
    snprintf(tag, sizeof(tag), "(pid %d) ended", (int)pid);
    svc_core_lock(p->obj.core);
    const char *why = machine_abort_reason_locked(p);
    if (how && p->state == MachineState_Aborted && why && strstr(why, tag)) {
        char *text = cap_str_printf("the VM process (pid %d) %s", (int)pid, how);
        if (text)
            machine_set_abort_reason_locked(p, text);
        cap_str_free(text);
    }
    svc_core_unlock(p->obj.core);
}

static void *reaper_thread(void *arg)
{
    struct reaper *r = arg;
    struct machine *p = r->p;
    int status = 0;
    uint32_t limit = launch_timeout();
    int timed_out = limit && launch_timed_out(r, limit);
    if (timed_out) {
        svc_log("the VM process of %s (pid %d) did not report its power-up within %u ms: "
                "killing it",
                p->path, (int)r->pid, limit);
        kill(r->pid, SIGKILL);
    }
    while (waitpid(r->pid, &status, 0) < 0 && errno == EINTR)
        ;
    char *how = timed_out ? cap_str_printf("did not report its power-up within %u ms and was "
                                           "killed",
                                           limit)
                          : exit_text(status);
    svc_log("the VM process of %s (pid %d) %s", p->path, (int)r->pid, how ? how : "ended");
    svc_core_lock(p->obj.core);
    struct launch *l = p->launch && p->launch_pid == r->pid ? p->launch : NULL;
    int holder = p->holder && p->lock_type == LockType_VM && p->holder_pid == (uint32_t)r->pid;
    int changed = 0;
    if (l) {
        p->launch = NULL;
        p->launch_pid = 0;
        if (!holder && !machine_state_at_rest(p->state))
            changed = machine_set_state_locked(p, WIFSIGNALED(status) && !timed_out
                                                      ? MachineState_Aborted
                                                      : MachineState_PoweredOff);
        if (changed && p->state == MachineState_Aborted) {
            char *why = cap_str_printf("the VM process (pid %d) %s before the VM ran", (int)r->pid,
                                       how ? how : "ended");
            machine_set_abort_reason_locked(p, why ? why : "the VM process ended");
            cap_str_free(why);
        }
        if (!holder) {
            p->session_state = SessionState_Unlocked;
            p->frontend[0] = '\0';
        }
    }
    MachineState s = p->state;
    svc_core_unlock(p->obj.core);
    if (changed)
        events_machine_state(p->obj.core->events, &p->id, s);
    if (holder)
        session_holder_died(p);
    explain_abort(p, r->pid, how);
    if (l) {
        char *tail = log_tail(r->log);
        struct cap_error_info ei = {
            .result = CAP_E_VM_ERROR,
            .component = "capsule-vm",
            .message = cap_str_printf("the VM process %s before the VM ran; the end of its "
                                      "log %s:\n%s",
                                      how ? how : "ended", r->log, tail ? tail : "(empty)"),
        };
        progress_complete(l->progress, CAP_E_VM_ERROR, &ei);
        cap_str_free(ei.message);
        cap_str_free(tail);
        launch_free(l);
    }
    cap_str_free(how);
    cap_str_free(r->log);
    machine_release(p);
    cap_free(r);
    return NULL;
}

static cap_result start_reaper(struct machine *p, pid_t pid, const char *log)
{
    struct reaper *r = cap_alloc_zero(sizeof(*r));
    if (!r || !(r->log = cap_str_dup(log))) {
        cap_free(r);
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, IFACE, "out of memory");
    }
    r->p = p;
    machine_addref(p);
    r->pid = pid;
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int err = pthread_create(&t, &attr, reaper_thread, r);
    pthread_attr_destroy(&attr);
    if (err) {
        machine_release(p);
        cap_str_free(r->log);
        cap_free(r);
        return cap_error_set(CAP_E_HOST_ERROR, SVC_COMPONENT, IFACE,
                             "cannot start the VM process's reaper thread: %s", strerror(err));
    }
    return CAP_OK;
}

/* ---- launchVMProcess -------------------------------------------------------------- */

/* The machine's media: registered, and its writable disks not locked by
 * another machine's running VM (storage.h). While p's VM runs, its own
 * writable disks are locked in turn: registry_medium_user_locked counts
 * every machine that is not at rest or is being launched, and lets go at
 * power-off or when the VM process dies (the state leaves Running). */
static cap_result media_checks_locked(struct machine *p)
{
    struct registry *r = p->obj.core->registry;
    const struct machine_cfg *c = &p->obj.cfg;
    cap_result rc = registry_check_attached_locked(r, c);
    for (uint32_t i = 0; CAP_SUCCEEDED(rc) && i < c->n_atts; i++) {
        struct medium *md = registry_find_medium_id_locked(r, &c->atts[i].medium, DeviceType_Null);
        if (md)
            rc = registry_check_disk_free_locked(r, md, p);
    }
    return rc;
}

/* Whether p may be launched now (lock held). */
static cap_result launch_checks_locked(struct machine *p)
{
    if (!p->registered || !p->accessible)
        return cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, IFACE,
                             p->registered ? "the machine is inaccessible"
                                           : "the machine is not registered");
    int in_use = p->holder || p->launch;
    if (!in_use && machine_state_at_rest(p->state))
        return media_checks_locked(p);
    char *busy = machine_busy_text_locked(p, NULL);
    cap_result rc =
        cap_error_set(in_use ? CAP_E_OBJECT_IN_USE : CAP_E_INVALID_VM_STATE, SVC_COMPONENT, IFACE,
                      "the machine '%s' is already %s", p->obj.cfg.name, busy ? busy : "running");
    cap_str_free(busy);
    return rc;
}

/* Claims p for a launch (svc->lock held): Starting, Spawning, p->launch. */
static cap_result claim_locked(struct machine *p, struct launch *l, const char *type, char **log,
                               char **id, char **home)
{
    cap_result rc = launch_checks_locked(p);
    if (CAP_FAILED(rc))
        return rc;
    char buf[CAP_UUID_BUFSIZE];
    const char *slash = strrchr(p->path, '/');
    *log = cap_str_printf("%.*s/Logs/%s", (int)(slash ? slash - p->path : 0), p->path, LOG_NAME);
    *id = cap_str_dup(cap_uuid_format(&p->id, buf));
    *home = cap_str_dup(p->obj.core->home);
    l->log = cap_str_dup(*log);
    if (!*log || !*id || !*home || !l->log)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, IFACE, "out of memory");
    l->log_keep = p->obj.core->registry->global.log_history_count;
    p->launch = l;
    snprintf(p->frontend, sizeof(p->frontend), "%s", type);
    p->session_state = SessionState_Spawning;
    machine_set_state_locked(p, MachineState_Starting);
    return CAP_OK;
}

static cap_result start(struct machine *p, ISession *session, const char *type, uint32_t n_env,
                        char *const *env, IProgress **out)
{
    char *vm = NULL, *log = NULL, *id = NULL, *home = NULL;
    MachineState before = MachineState_PoweredOff;
    int claimed = 0;
    struct launch *l = cap_alloc_zero(sizeof(*l));
    if (!l)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, IFACE, "out of memory");
    cap_result rc = CAP_QI(session, &IID_IInternalSessionControl, &l->caller);
    if (CAP_FAILED(rc)) {
        l->caller = NULL;
        rc = cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                           "the session is not a Session object (no IInternalSessionControl)");
        goto fail;
    }
    if (CAP_FAILED(cap_exe_relative_path("capsule-vm", &vm)) || !vm || access(vm, X_OK)) {
        rc = cap_error_set(CAP_E_NOT_SUPPORTED, SVC_COMPONENT, IFACE,
                           "the VM process (capsule-vm) is not available beside capsule-svc "
                           "(%s)",
                           vm ? vm : "unknown path");
        goto fail;
    }
    char *desc = cap_str_printf("Starting VM %s", p->obj.cfg.name ? p->obj.cfg.name : "");
    rc = progress_create(desc, (ISupports *)&p->obj.IMachine_iface, CAP_FALSE, 1,
                         "Spawning the VM process", &l->progress);
    cap_str_free(desc);
    if (CAP_FAILED(rc))
        goto fail;
    svc_core_lock(p->obj.core);
    before = p->state;
    rc = claim_locked(p, l, type, &log, &id, &home);
    claimed = CAP_SUCCEEDED(rc);
    svc_core_unlock(p->obj.core);
    if (CAP_FAILED(rc))
        goto fail;
    events_machine_state(p->obj.core->events, &p->id, MachineState_Starting);
    *out = progress_iface(l->progress);
    IProgress_AddRef(*out);
    /* From here the reaper owns the outcome of a failure. */
    pid_t pid = 0;
    svc_core_lock(p->obj.core);
    rc = spawn(vm, id, home, type, log, l->log_keep, n_env, env, &pid);
    if (CAP_SUCCEEDED(rc))
        p->launch_pid = pid; /* under the lock: the reaper and lockMachine compare it */
    svc_core_unlock(p->obj.core);
    if (CAP_SUCCEEDED(rc)) {
        svc_log("launched the VM process of %s: pid %d, log %s", p->path, (int)pid, log);
        rc = start_reaper(p, pid, log);
        if (CAP_FAILED(rc))
            kill(pid, SIGKILL); /* unreaped: a zombie until capsule-svc exits */
    }
    if (CAP_FAILED(rc)) {
        IProgress_Release(*out);
        *out = NULL;
        goto fail;
    }
    cap_str_free(vm);
    cap_str_free(log);
    cap_str_free(id);
    cap_str_free(home);
    return CAP_OK;
fail:;
    struct cap_error_info ei;
    cap_error_take(&ei);
    if (claimed) {
        int changed = 0;
        svc_core_lock(p->obj.core);
        if (p->launch == l) {
            p->launch = NULL;
            p->launch_pid = 0;
            p->session_state = SessionState_Unlocked;
            p->frontend[0] = '\0';
            changed = machine_set_state_locked(p, before);
        }
        svc_core_unlock(p->obj.core);
        if (changed)
            events_machine_state(p->obj.core->events, &p->id, before);
    }
    launch_free(l);
    cap_str_free(vm);
    cap_str_free(log);
    cap_str_free(id);
    cap_str_free(home);
    cap_error_set_info(&ei);
    cap_error_info_clear(&ei);
    return rc;
}

/* The frontends capsule-vm has (plugins/frontends/vmproc/vmproc_frontends.c:
 * "gui" is the SDL window until a main-window GUI exists). */
static const char *const frontends[] = {"sdl", "gui", "headless"};

static cap_result check_frontend(const char *type)
{
    char known[64] = "";
    for (size_t i = 0; i < sizeof(frontends) / sizeof(frontends[0]); i++) {
        if (!strcmp(type, frontends[i]))
            return CAP_OK;
        size_t n = strlen(known);
        snprintf(known + n, sizeof(known) - n, "%s%s", i ? ", " : "", frontends[i]);
    }
    return cap_error_set(CAP_E_NOT_SUPPORTED, SVC_COMPONENT, IFACE,
                         "no frontend '%s' in this build (known: %s)", type, known);
}

cap_result vmlaunch_start(struct machine *p, ISession *session, const char *type, uint32_t n_env,
                          char *const *env, IProgress **out)
{
    *out = NULL;
    cap_result rc = session_check_unlocked(session);
    if (CAP_FAILED(rc))
        return rc;
    svc_core_lock(p->obj.core);
    rc = launch_checks_locked(p);
    svc_core_unlock(p->obj.core);
    if (CAP_FAILED(rc))
        return rc;
    if (!type || !*type)
        type = SVC_DEFAULT_FRONTEND;
    rc = check_frontend(type);
    if (CAP_FAILED(rc))
        return rc;
    return start(p, session, type, n_env, env, out);
}

cap_result vmlaunch_end_power_up(struct machine_obj *m, cap_result result, const char *message)
{
    const char *ci = "IInternalMachineControl";
    if (m->kind != MACHINE_SESSION)
        return cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, ci,
                             "only the VM process's session reports its power-up");
    if (CAP_FAILED(result) && (!message || !*message))
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, ci,
                             "a failed power-up needs a message");
    struct machine *p = m->machine;
    svc_core_lock(p->obj.core);
    if (!p->session || &p->session->obj != m || p->lock_type != LockType_VM) {
        svc_core_unlock(p->obj.core);
        return cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, ci,
                             "the session no longer holds the machine's VM lock");
    }
    struct launch *l = p->launch;
    p->launch = NULL;
    p->launch_pid = 0;
    int changed = CAP_FAILED(result) && !machine_state_at_rest(p->state) &&
                  machine_set_state_locked(p, MachineState_PoweredOff);
    MachineState s = p->state;
    /* A failed power-up ends the VM process's lock here, so that the
     * machine is unlocked by the time the launch progress reports the
     * failure; the process's own unlock then finds nothing to do. */
    IInternalSessionControl *ctl = NULL;
    ISession *holder = NULL;
    if (CAP_FAILED(result))
        session_end_lock_locked(p, &ctl, &holder);
    svc_core_unlock(p->obj.core);
    if (ctl)
        IInternalSessionControl_Release(ctl);
    if (holder)
        ISession_Release(holder);
    if (changed)
        events_machine_state(p->obj.core->events, &p->id, s);
    if (CAP_FAILED(result))
        events_session_state(p->obj.core->events, &p->id, SessionState_Unlocked);
    if (!l)
        return CAP_OK;
    if (CAP_SUCCEEDED(result)) {
        IConsole *console = NULL;
        cap_result rc = session_holder_console(p, &console);
        if (CAP_SUCCEEDED(rc))
            rc = IInternalSessionControl_AssignRemoteMachine(
                l->caller, &p->obj.IMachine_iface, SessionType_Remote,
                &p->obj.IInternalMachineControl_iface, console);
        if (CAP_FAILED(rc)) /* the caller left: the VM runs anyway */
            svc_log("cannot bind the launching session of %s: %s", p->path,
                    cap_error_peek_message() ? cap_error_peek_message() : "?");
        if (console)
            IConsole_Release(console);
        progress_complete(l->progress, CAP_OK, NULL);
    } else {
        struct cap_error_info ei = {
            .result = result,
            .component = "capsule-vm",
            .iface = "IConsole",
            .message = (char *)message,
        };
        progress_complete(l->progress, result, &ei);
    }
    launch_free(l);
    return CAP_OK;
}
