/*
 * tests/integration/loadclient.c - one client of the load test in cli.sh.
 *
 * `loadclient VM N`: connects to the service of $CAPSULE_HOME once and makes
 * N rounds of calls on that one connection, each round four calls
 * (findMachine, memorySize, name, machines), releasing everything it gets.
 * Running 20 of these at once (cli.sh) puts 20 x N x 4 calls through one
 * capsule-svc without spawning a CLI per call.
 *
 * Exit 0 if every call succeeded; 1 at the first failure, with the error
 * info; 2 on a usage error.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/capsule.h>
#include <capsule/client.h>
#include <capsule/errorinfo.h>
#include <capsule/mem.h>

static int fail(const char *what, long round, cap_result rc)
{
    const char *msg = cap_error_peek_message();
    fprintf(stderr, "loadclient: round %ld: %s failed: %s (0x%08" PRIx32 ")%s%s\n", round, what,
            cap_result_name(rc), (uint32_t)rc, msg ? ": " : "", msg ? msg : "");
    return 1;
}

/* One round of four calls. */
static int one_round(ICapsule *root, const char *vm, long round)
{
    IMachine *m = NULL;
    IMachine **all = NULL;
    uint32_t mem = 0, n = 0;
    char *name = NULL;
    cap_result rc = ICapsule_FindMachine(root, vm, &m);
    if (rc < 0)
        return fail("findMachine", round, rc);
    rc = IMachine_GetMemorySize(m, &mem);
    if (rc >= 0)
        rc = IMachine_GetName(m, &name);
    IMachine_Release(m);
    if (rc < 0)
        return fail("IMachine getters", round, rc);
    int bad = strcmp(name, vm) != 0 || mem == 0;
    cap_str_free(name);
    if (bad) {
        fprintf(stderr, "loadclient: round %ld: wrong answer from the service\n", round);
        return 1;
    }
    rc = ICapsule_GetMachines(root, &n, &all);
    if (rc < 0)
        return fail("machines", round, rc);
    cap_array_free(CAP_TLT_IFACE, n, all);
    return n == 0;
}

int main(int argc, char **argv)
{
    if (argc != 3 || atol(argv[2]) <= 0) {
        fprintf(stderr, "usage: loadclient VM ROUNDS\n");
        return 2;
    }
    long rounds = atol(argv[2]);
    cap_typelib_register(&capsule_typelib);
    struct cap_client_options opts;
    memset(&opts, 0, sizeof(opts));
    struct cap_client *c = NULL;
    ICapsule *root = NULL;
    cap_result rc = cap_client_connect(&opts, &c);
    if (rc < 0)
        return fail("cap_client_connect", 0, rc);
    rc = cap_client_get_root(c, &root);
    if (rc < 0) {
        cap_client_close(c);
        return fail("cap_client_get_root", 0, rc);
    }
    int status = 0;
    for (long i = 1; i <= rounds && !status; i++)
        status = one_round(root, argv[1], i);
    ICapsule_Release(root);
    cap_client_close(c);
    return status;
}
