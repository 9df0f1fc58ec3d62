/*
 * tests/bench/bindings/bench_bindings.c - the C side of the bindings
 * benchmark: ns per ICapsule revision getter (one IPC round trip to
 * capsule-svc) through the generated C helper, best of 5 rounds of N calls.
 * Usage: bench_bindings [N [CAPSULE_SVC]]. Prints "c_ns_per_call X". run.sh compares it with bench_bindings.py.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <capsule/capsule.h>
#include <capsule/client.h>
#include <capsule/errorinfo.h>
#include <capsule/registry.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 20000;
    struct cap_client_options opts = {0};
    opts.svc_path = argc > 2 ? argv[2] : NULL; /* BUILD/bin/capsule-svc */
    struct cap_client *client = NULL;
    ICapsule *root = NULL;
    cap_result rc = cap_client_connect(&opts, &client);
    if (rc >= 0)
        rc = cap_client_get_root(client, &root);
    if (rc < 0) {
        fprintf(stderr, "bench_bindings: connect: %s\n", cap_error_peek_message());
        return 1;
    }
    double best = 1e18;
    uint32_t rev = 0;
    for (int round = 0; round < 5 && rc >= 0; round++) {
        double t0 = now_ns();
        for (int i = 0; i < n && rc >= 0; i++)
            rc = ICapsule_GetRevision(root, &rev);
        double per = (now_ns() - t0) / n;
        if (per < best)
            best = per;
    }
    ISession *s = NULL;
    SessionState st;
    double best_local = 1e18;
    if (rc >= 0 && cap_registry_init_default(NULL) >= 0 &&
        cap_registry_create_instance_by_contract(cap_registry_default(), CAP_CONTRACT_Session,
                                                 &IID_ISession, (void **)&s) >= 0) {
        for (int round = 0; round < 5; round++) {
            double t0 = now_ns();
            for (int i = 0; i < n * 10; i++)
                ISession_GetState(s, &st);
            double per = (now_ns() - t0) / (n * 10);
            if (per < best_local)
                best_local = per;
        }
        ISession_Release(s);
    }
    cap_registry_shutdown_default();
    if (rc < 0)
        fprintf(stderr, "bench_bindings: call: %s\n", cap_error_peek_message());
    else
        printf("c_ns_per_call %.0f\nc_local_ns_per_call %.1f\n", best, best_local);
    ICapsule_Release(root);
    cap_client_close(client);
    return rc < 0;
}
