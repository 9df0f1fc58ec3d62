/*
 * main.c - capsule-vm: one VM in this process. Standalone mode here
 * (`capsule-vm --kernel F ...`); the VM-process logic is in vmproc.c so the
 * managed mode (--startvm, spawned by capsule-svc) can share it.
 */
#include <stdio.h>
#include <time.h>

#include <capsule/errorinfo.h>

#include "vmproc.h"

int main(int argc, char **argv)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    struct vmproc_opts o;
    vmproc_opts_init(&o);
    o.start_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    int r = vmproc_parse_args(argc, argv, &o, stdout, stderr);
    if (r)
        return r > 0 ? 0 : VMPROC_EXIT_USAGE;
    struct vmproc *p;
    cap_result rc = vmproc_create(&o, &p);
    if (CAP_FAILED(rc)) {
        const char *msg = cap_error_peek_message();
        fprintf(stderr, "capsule-vm: %s (%s)\n", msg ? msg : "cannot create the VM",
                vmm_result_name(rc));
        return VMPROC_EXIT_FAILURE;
    }
    int status = vmproc_run(p);
    vmproc_destroy(p);
    return status;
}
