/*
 * plugins/frontends/headless/headless.c - the headless frontend: nothing
 * runs beside the VM but logging and signal handling. SIGINT, SIGTERM and
 * SIGHUP power the VM off cleanly (the process then exits as for any
 * power-off). A second signal while the power-off is under way is ignored.
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "em/em.h"
#include "frontend.h"
#include "headless.h"

struct headless {
    struct vm *vm;
    pthread_t thread;
    bool thread_started;
    bool stopping; /* atomic: detach asked the thread to end */
};

static void *signal_thread(void *arg)
{
    struct headless *h = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig))
            continue;
        if (__atomic_load_n(&h->stopping, __ATOMIC_SEQ_CST))
            return NULL;
        fprintf(stderr, "capsule-vm: %s received: powering the VM off\n", strsignal(sig));
        vm_power_off(h->vm); /* VMM_E_BAD_STATE when already stopping: fine */
    }
}

static cap_result headless_attach(const struct vm_frontend_env *env, void **state)
{
    struct headless *h = calloc(1, sizeof(*h));
    if (!h)
        return cap_error_set(CAP_E_OUTOFMEMORY, "headless", NULL, "out of memory");
    h->vm = env->vm;
    int err = pthread_create(&h->thread, NULL, signal_thread, h);
    if (err) {
        free(h);
        return cap_error_set(CAP_E_FAIL, "headless", NULL, "cannot start the signal thread: %s",
                             strerror(err));
    }
    h->thread_started = true;
    *state = h;
    return CAP_OK;
}

static void headless_detach(void *state)
{
    struct headless *h = state;
    if (!h)
        return;
    if (h->thread_started) {
        __atomic_store_n(&h->stopping, true, __ATOMIC_SEQ_CST);
        pthread_kill(h->thread, SIGTERM);
        pthread_join(h->thread, NULL);
    }
    free(h);
}

const struct vm_frontend headless_frontend = {
    .name = "headless",
    .description = "no display: logs to stderr; SIGINT/SIGTERM power the VM off",
    .attach = headless_attach,
    .detach = headless_detach,
};
