/*
 * main.c - capsule-vm: one VM in this process. Standalone mode here
 * (`capsule-vm --kernel F ...`); the VM-process logic is in vmproc.c, which
 * the managed mode (`--startvm UUID --home HOME`, spawned by capsule-svc:
 * managed.c) shares.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <capsule/errorinfo.h>

#include "managed.h"
#include "vmproc.h"

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--startvm") || !strncmp(argv[i], "--startvm=", 10))
            return vmproc_managed_main(argc, argv);

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
