/*
 * plugins/frontends/manage/cmd_getextradata.c - `capsule getextradata
 * VM|global KEY|enumerate`.
 *
 * Output, as VBoxManage's: "Value: VALUE" or "No value set!" for one key;
 * "Key: KEY, Value: VALUE" per item (sorted by key) for enumerate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/mem.h>

#include "manage.h"

/* The extra data owner: the root (global) or a machine. */
struct owner {
    ICapsule *root;
    IMachine *m;
};

static cap_result get_value(struct owner *o, const char *key, char **value)
{
    return o->m ? IMachine_GetExtraData(o->m, key, value)
                : ICapsule_GetExtraData(o->root, key, value);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static cap_result enumerate(struct owner *o)
{
    uint32_t n = 0;
    char **keys = NULL;
    cap_result rc = o->m ? IMachine_GetExtraDataKeys(o->m, &n, &keys)
                         : ICapsule_GetExtraDataKeys(o->root, &n, &keys);
    if (CAP_FAILED(rc))
        return rc;
    if (n > 1)
        qsort(keys, n, sizeof(keys[0]), cmp_str);
    for (uint32_t i = 0; i < n && CAP_SUCCEEDED(rc); i++) {
        char *v = NULL;
        rc = get_value(o, keys[i], &v);
        if (CAP_SUCCEEDED(rc))
            printf("Key: %s, Value: %s\n", keys[i], v ? v : "");
        cap_str_free(v);
    }
    cap_array_free(CAP_TLT_STRING, n, keys);
    return rc;
}

struct getextradata_args {
    const char *target, *key;
};

#define GET_MISSING "expected VM|global and KEY|enumerate"

static const struct cli_arg getextradata_args[] = {
    CLI_POS("VM|global", struct getextradata_args, target, GET_MISSING, NULL),
    CLI_POS("KEY|enumerate", struct getextradata_args, key, GET_MISSING, NULL),
    CLI_ARGS_END,
};

static cap_result get(struct cli_vm *vm, void *arg)
{
    const struct getextradata_args *a = arg;
    struct owner o = {vm->ctx->root, vm->machine};
    if (strcmp(a->key, "enumerate") == 0) {
        vm->what = "enumerating extra data";
        return enumerate(&o);
    }
    char *v = NULL;
    vm->what = "getExtraData";
    cap_result rc = get_value(&o, a->key, &v);
    if (CAP_SUCCEEDED(rc)) {
        if (v && *v)
            printf("Value: %s\n", v);
        else
            printf("No value set!\n");
    }
    cap_str_free(v);
    return rc;
}

static int run_getextradata(struct cli_ctx *ctx, void *args)
{
    const struct getextradata_args *a = args;
    if (!*a->key)
        return cli_usage(ctx, "the KEY must not be empty");
    const char *vm = strcmp(a->target, "global") == 0 ? NULL : a->target;
    return cli_with_vm(ctx, vm, CLI_SERVICE, get, args);
}

const struct cli_cmd cli_cmd_getextradata = {
    .name = "getextradata",
    .help = "read extra data of a machine or of the service",
    .args = getextradata_args,
    .args_size = sizeof(struct getextradata_args),
    .run = run_getextradata,
    .detail = "Prints \"Value: VALUE\" (or \"No value set!\"); with enumerate, one\n"
              "\"Key: KEY, Value: VALUE\" line per item.\n",
};
